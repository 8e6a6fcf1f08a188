"""``leonet.policy.models``: each documented limit of the ``[policy]`` fields on both sides, and the wording of
the cross-field checks.

References: the rules as the models' docstrings and ``docs/scenarios.md`` state them, written out here: time
windows ``[from, until)`` must be non-empty; ids match ``^[A-Za-z0-9][A-Za-z0-9_.:/+-]*$`` with at most 80
characters; ``max_speed_kmh > 0``, ``roaming_days >= 0``, ``max_terminals >= 0``, ``moving_above_kmh >= 0``;
country lists have at least one code; a quota counts active terminals (of its whitelist) and allows exactly
``max_terminals``; one mobility rule per service class and whitelist, one quota per account type and whitelist.
"""

from __future__ import annotations

from typing import Any

import pytest

from leonet.errors import InputError
from leonet.policy import parse_policy_config

SQUARE = [[[30.0, 45.0], [31.0, 45.0], [31.0, 46.0], [30.0, 46.0], [30.0, 45.0]]]
GEOM = {"type": "Polygon", "coordinates": SQUARE}


def problem(data: dict[str, Any]) -> InputError:
    with pytest.raises(InputError) as info:
        parse_policy_config(data, "s.toml")
    return info.value


def test_time_windows_must_be_non_empty() -> None:
    t0, t1 = "2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z"
    for key, (a, b) in (("speed_caps", ("active_from", "active_until")), ("licences", ("valid_from", "valid_until"))):
        rule = {"id": "r", "max_speed_kmh": 90} if key == "speed_caps" else {"id": "r", "countries": ["UA"]}
        parse_policy_config({key: [{**rule, a: t0, b: t1}]})  # one second is a window
        parse_policy_config({key: [{**rule, a: t0}]})
        parse_policy_config({key: [{**rule, b: t0}]})
        e = problem({key: [{**rule, a: t0, b: t0}]})
        assert "not after" in e.problem and e.where == f"s.toml [policy.{key}[0] (id 'r')]"
    e = problem({"speed_caps": [{"id": "r", "max_speed_kmh": 90, "active_from": t1, "active_until": t0}]})
    assert e.problem.startswith("active_until 2026-01-01T00:00:00+00:00 is not after active_from 2026-01-01T00:00:01")


def test_a_region_is_given_exactly_one_way() -> None:
    e = problem({"geofences": [{"id": "g", "action": "deny", "geometry": GEOM, "file": "x.geojson"}]})
    assert "give exactly one of geometry, file, countries (got geometry, file)" in e.problem
    e = problem({"geofences": [{"id": "g", "action": "deny", "file": "x.geojson", "countries": ["UA"]}]})
    assert "(got file, countries)" in e.problem
    e = problem({"country_overrides": [{"id": "o", "country": "UA"}]})
    assert "give exactly one of geometry, file (got none)" in e.problem
    e = problem({"country_overrides": [{"id": "o", "country": "UA", "geometry": GEOM, "feature": {"k": 1}}]})
    assert "feature selects a feature of a file" in e.problem
    cfg = parse_policy_config({"country_overrides": [{"id": "o", "country": " ua ", "file": "x", "feature": {"k": 1}}]})
    assert cfg.country_overrides[0].country == "UA" and cfg.country_overrides[0].feature == {"k": 1}
    # an inline geometry is checked here already (the geometry module's rules)
    open_ring = {"type": "Polygon", "coordinates": [SQUARE[0][:4]]}
    e = problem({"geofences": [{"id": "g", "action": "deny", "geometry": open_ring}]})
    assert "not closed" in e.problem and e.where == "s.toml [policy.geofences[0] (id 'g')] geometry ring 0"


def test_whitelist_goes_with_whitelist_only() -> None:
    e = problem(
        {"whitelists": ["w"], "geofences": [{"id": "g", "action": "deny", "countries": ["UA"], "whitelist": "w"}]}
    )
    assert "whitelist applies to whitelist-only geofences only (action is deny)" in e.problem
    cfg = parse_policy_config(
        {
            "whitelists": ["w"],
            "geofences": [{"id": "g", "action": "whitelist-only", "countries": ["UA"], "whitelist": "w"}],
        }
    )
    assert cfg.geofences[0].whitelist == "w"


def test_numeric_limits_on_both_sides() -> None:
    ok = parse_policy_config(
        {
            "default": {"moving_above_kmh": 0},
            "mobility": [{"id": "m", "service_class": "x", "max_speed_kmh": 1e-9, "roaming_days": 0}],
            "quotas": [{"id": "q", "account_type": "a", "max_terminals": 0}],
            "speed_caps": [{"id": "c", "max_speed_kmh": 1e-9}],
        }
    )
    assert ok.default.moving_above_kmh == 0 and ok.quotas[0].max_terminals == 0
    assert ok.mobility[0].roaming_days == 0
    for data in (
        {"default": {"moving_above_kmh": -1e-9}},
        {"mobility": [{"id": "m", "service_class": "x", "max_speed_kmh": 0}]},
        {"mobility": [{"id": "m", "service_class": "x", "roaming_days": -1e-9}]},
        {"quotas": [{"id": "q", "account_type": "a", "max_terminals": -1}]},
        {"speed_caps": [{"id": "c", "max_speed_kmh": 0}]},
        {"licences": [{"id": "l", "countries": []}]},
        {"service_bans": [{"id": "s", "service_classes": []}]},
    ):
        problem(data)
    one = parse_policy_config(
        {"licences": [{"id": "l", "countries": ["UA"]}], "service_bans": [{"id": "s", "service_classes": ["drone"]}]}
    )
    assert one.licences is not None and one.licences[0].countries == ["UA"]


def test_ids_up_to_80_characters() -> None:
    parse_policy_config({"licences": [{"id": "a" * 80, "countries": ["UA"]}]})
    problem({"licences": [{"id": "a" * 81, "countries": ["UA"]}]})
    parse_policy_config({"terminals": [{"id": "K" * 80, "account": "b" * 80}]})
    problem({"terminals": [{"id": "K" * 81, "account": "b"}]})


def test_reserved_and_duplicate_ids() -> None:
    for rid in ("unregistered", "suspended", "no-licence"):
        e = problem({"speed_caps": [{"id": rid, "max_speed_kmh": 9}]})
        assert e.problem == (
            f"rule id {rid!r} is reserved; expected an id other than no-licence, suspended, unregistered"
        )
        assert e.where == "s.toml [policy] speed_caps[0]"
    e = problem(
        {
            "licences": [{"id": "a", "countries": ["UA"]}, {"id": "x", "countries": ["UA"]}],
            "motion_bans": [{"id": "b", "countries": ["JP"]}, {"id": "x", "countries": ["JP"]}],
        }
    )
    assert "rule id 'x' is used twice (licences[1] and motion_bans[1])" in e.problem
    e = problem(
        {
            "terminals": [
                {"id": "A", "account": "a"},
                {"id": "B", "account": "a"},
                {"id": "B", "account": "a"},
                {"id": "A", "account": "a"},
            ]
        }
    )
    assert e.problem == "terminal id 'A' is registered twice; expected unique terminal ids"


def test_one_mobility_rule_per_class_and_one_quota_per_type_and_whitelist() -> None:
    parse_policy_config({"mobility": [{"id": "a", "service_class": "x"}, {"id": "b", "service_class": "y"}]})
    e = problem({"mobility": [{"id": "a", "service_class": "x"}, {"id": "b", "service_class": "x"}]})
    assert "rules 'a' and 'b' both apply to service_class 'x'" in e.problem
    t = [{"id": "K", "account": "a", "whitelists": ["w"]}]
    parse_policy_config(
        {
            "terminals": t,
            "quotas": [
                {"id": "q1", "account_type": "p", "max_terminals": 1},
                {"id": "q2", "account_type": "p", "max_terminals": 1, "whitelist": "w"},
            ],
        }
    )
    e = problem(
        {
            "terminals": t,
            "quotas": [
                {"id": "q1", "account_type": "p", "max_terminals": 1, "whitelist": "w"},
                {"id": "q2", "account_type": "p", "max_terminals": 1, "whitelist": "w"},
            ],
        }
    )
    assert "rules 'q1' and 'q2' both apply to account_type 'p'" in e.problem


def kits(n: int, account: str = "acc", **kw: Any) -> list[dict[str, Any]]:
    return [{"id": f"{account}-{i}", "account": account, "account_type": "person", **kw} for i in range(n)]


def test_quota_allows_exactly_its_maximum() -> None:
    q = [{"id": "q", "account_type": "person", "max_terminals": 6}]
    parse_policy_config({"quotas": q, "terminals": kits(6)})
    e = problem({"quotas": q, "terminals": kits(7)})
    assert e.where == "s.toml [policy] terminals (account 'acc')"
    assert e.problem == (
        "account 'acc' (person) has 7 active terminals (acc-0, acc-1, acc-2, acc-3, acc-4, ...); "
        "expected at most 6 under quota rule 'q'"
    )
    q5 = [{"id": "q", "account_type": "person", "max_terminals": 4}]
    e = problem({"quotas": q5, "terminals": kits(5)})
    assert "(acc-0, acc-1, acc-2, acc-3, acc-4);" in e.problem
    zero = [{"id": "q", "account_type": "person", "max_terminals": 0}]
    e = problem({"quotas": zero, "terminals": kits(1)})
    assert "has 1 active terminals (acc-0)" in e.problem
    parse_policy_config({"quotas": zero, "terminals": kits(3, status="suspended")})
    parse_policy_config({"quotas": zero, "terminals": [{**k, "account_type": "other"} for k in kits(3)]})
    # accounts are counted separately; the second quota is checked too
    q2 = [
        {"id": "q0", "account_type": "x", "max_terminals": 9},
        {"id": "q1", "account_type": "person", "max_terminals": 1},
    ]
    parse_policy_config({"quotas": q2, "terminals": kits(1, "a") + kits(1, "b")})
    e = problem({"quotas": q2, "terminals": kits(1, "a") + kits(2, "b")})
    assert "account 'b'" in e.problem and "quota rule 'q1'" in e.problem
    unl = [{"id": "q", "account_type": "person", "max_terminals": "unlimited"}, *q2[1:]]
    e = problem(
        {
            "quotas": [unl[0], {**q2[1], "account_type": "person", "whitelist": "w"}],
            "terminals": kits(2, "b", whitelists=["w"]),
        }
    )
    assert "on whitelist 'w'" in e.problem


def test_unknown_whitelist_names_the_closest() -> None:
    t = [{"id": "K", "account": "a", "whitelists": ["alpha", "beta"]}]
    g = {"id": "g", "action": "whitelist-only", "countries": ["UA"], "whitelist": "alpah"}
    e = problem({"terminals": t, "geofences": [g]})
    assert e.where == "s.toml [policy] geofences[0] (id 'g').whitelist"
    assert e.problem.startswith(
        "no registered terminal is on whitelist 'alpah' (the closest known whitelist is 'alpha')"
    )
    assert "declare it with [policy] whitelists = ['alpah']" in e.problem
    parse_policy_config({"terminals": t, "geofences": [{**g, "whitelist": "beta"}]})
    e = problem({"whitelists": ["zeta"], "geofences": [g]})
    assert "closest known whitelist is 'zeta'" in e.problem


def test_error_locations_and_inputs() -> None:
    e = problem(
        {
            "geofences": [
                {"id": "a", "action": "deny", "countries": ["UA"]},
                {"id": "b", "action": "block", "countries": ["UA"]},
            ]
        }
    )
    assert e.where == "s.toml [policy.geofences[1] (id 'b').action]" and "(got 'block')" in e.problem
    e = problem({"licences": [{"id": "l", "countries": ["UA", "QQ"]}]})
    assert e.where == "s.toml [policy.licences[0] (id 'l').countries[1]]"
    assert e.problem.startswith("unknown country code 'QQ'") and e.problem.endswith("(got 'QQ')")
    e = problem({"licences": [{"countries": ["UA"]}]})
    assert e.where == "s.toml [policy.licences[0].id]" and "got" not in e.problem
    e = problem({"geofences": {"id": "g"}})
    assert e.where == "s.toml [policy.geofences]" and "got" not in e.problem
    e = problem({"typo": 1})
    assert e.where == "s.toml [policy.typo]" and e.problem.endswith("(got 1)")
    e = problem([])  # type: ignore[arg-type]
    assert e.where == "s.toml [policy]"


def test_documented_defaults() -> None:
    """A terminal given only id and account: account type person, plan fixed, active, on no whitelist, not
    exempt from speed caps, not known to be abroad; the defaults: serve unregistered terminals and at open sea,
    in motion above 10 km/h; a motion ban exempts ships and aircraft."""
    cfg = parse_policy_config(
        {"terminals": [{"id": "K", "account": "a"}], "motion_bans": [{"id": "m", "countries": ["JP"]}]}
    )
    t = cfg.terminals[0]
    assert (t.account_type, t.service_class, t.status, t.whitelists) == ("person", "fixed", "active", [])
    assert t.exempt_speed_cap is False and t.abroad_since is None and t.registered_country is None
    d = cfg.default
    assert (d.unregistered, d.outside_countries, d.moving_above_kmh, d.unregistered_service_class) == (
        "serve",
        "serve",
        10.0,
        None,
    )
    assert cfg.motion_bans[0].except_service_classes == ["maritime", "aviation"]
    assert cfg.licences is None and cfg.geofences == [] and cfg.whitelists == []
    g = parse_policy_config({"geofences": [{"id": "g", "action": "deny", "countries": ["UA"]}]}).geofences[0]
    assert g.priority == 0 and g.check_axes is True and g.active_from is None and g.active_until is None
    m = parse_policy_config({"mobility": [{"id": "m", "service_class": "x"}]}).mobility[0]
    assert m.in_motion is True and m.max_speed_kmh is None and m.max_altitude_m is None and m.roaming_days is None
