"""The roaming clock and the wording of the decision chain, pinned where mutation testing found them loose
(``tools/mutate.py decide``; docs/testing.md lists the mutants these kill).

References are the rules as the README and ``policy/decide.py`` state them: a stay abroad is counted from its
own first snapshot, only for a terminal with a registered country and only in a country (not at sea); the first
rule that denies is the reported one; ``why`` names the snapshot's UTC time and, for a licensed country, only
the licences that cover it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from leonet.policy import evaluate, parse_policy, why

EPOCH = datetime(2026, 3, 1, tzinfo=UTC)
DAY_S = 86_400.0
KYIV = (50.4501, 30.5234)
TOKYO = (35.6762, 139.6503)
AT_SEA = (40.0, -40.0)  # mid-Atlantic, > 1,000 km from any coast


def roaming(registered_country: str | None = "UA", days: float = 60) -> dict[str, Any]:
    term: dict[str, Any] = {"id": "T", "account": "a", "service_class": "mobile"}
    if registered_country is not None:
        term["registered_country"] = registered_country
    return {
        "terminals": [term],
        "mobility": [{"id": "plan", "service_class": "mobile", "roaming_days": days}],
    }


def track(days: list[float], places: list[tuple[float, float]]) -> tuple[Any, Any, Any]:
    t = np.asarray(days) * DAY_S
    lat = np.array([p[0] for p in places])[:, None]
    lon = np.array([p[1] for p in places])[:, None]
    return t, lat, lon


def test_a_stay_abroad_is_counted_from_its_own_start_not_the_window_start() -> None:
    # at home for the first 10 days, then in Japan: 60 days abroad at day 70 (served, the limit is inclusive),
    # over 60 at day 71; counted from the window start it would be over the limit already at day 61
    t, lat, lon = track([0, 5, 10, 40, 61, 70, 71], [KYIV, KYIV, TOKYO, TOKYO, TOKYO, TOKYO, TOKYO])
    d = evaluate(parse_policy(roaming()), ["T"], t, EPOCH, lat, lon)
    assert d.served[:, 0].tolist() == [True, True, True, True, True, True, False]
    assert "abroad for 61 days" in why(parse_policy(roaming()), "T", t, EPOCH, lat[:, 0], lon[:, 0])[-1].reason


def test_two_terminals_have_their_own_stays() -> None:
    # the clock runs per terminal: B goes abroad 20 days after A
    t = np.array([0.0, 20.0, 80.0, 81.0]) * DAY_S
    lat = np.array([[TOKYO[0], KYIV[0]], [TOKYO[0], TOKYO[0]], [TOKYO[0], TOKYO[0]], [TOKYO[0], TOKYO[0]]])
    lon = np.array([[TOKYO[1], KYIV[1]], [TOKYO[1], TOKYO[1]], [TOKYO[1], TOKYO[1]], [TOKYO[1], TOKYO[1]]])
    data = roaming()
    data["terminals"] = [
        {"id": "A", "account": "a", "service_class": "mobile", "registered_country": "UA"},
        {"id": "B", "account": "a", "service_class": "mobile", "registered_country": "UA"},
    ]
    d = evaluate(parse_policy(data), ["A", "B"], t, EPOCH, lat, lon)
    assert d.served[:, 0].tolist() == [True, True, False, False]  # A abroad 80 and 81 days
    # B: abroad from day 20, so 60 days at day 80 (the limit is inclusive) and 61 at day 81
    assert d.served[:, 1].tolist() == [True, True, True, False]


def test_without_a_registered_country_a_terminal_is_never_abroad() -> None:
    t, lat, lon = track([0, 100], [TOKYO, TOKYO])
    d = evaluate(parse_policy(roaming(registered_country=None)), ["T"], t, EPOCH, lat, lon)
    assert d.served[:, 0].tolist() == [True, True]


def test_at_sea_is_not_abroad() -> None:
    t, lat, lon = track([0, 100], [AT_SEA, AT_SEA])
    d = evaluate(parse_policy(roaming()), ["T"], t, EPOCH, lat, lon)
    assert d.country_codes[int(d.country[0, 0])] == ""  # really at sea
    assert d.served[:, 0].tolist() == [True, True]


def test_an_area_without_a_country_code_is_abroad() -> None:
    # Northern Cyprus has no ISO 3166 code (Natural Earth "-99", the first entry of the country table after
    # "no country"): it is land, not the terminal's home, so the stay counts as abroad
    kyrenia = (35.3364, 33.3199)
    t, lat, lon = track([0, 61], [kyrenia, kyrenia])
    d = evaluate(parse_policy(roaming()), ["T"], t, EPOCH, lat, lon)
    assert d.country_codes[int(d.country[0, 0])] == "-99" and int(d.country[0, 0]) == 1
    assert d.served[:, 0].tolist() == [True, False]
    assert d.rule_ids[int(d.rule[1, 0])] == "plan"


def test_the_first_rule_keeps_its_denial() -> None:
    # "unregistered" is the first rule of the chain; a later rule (a deny geofence) also denies: the reported
    # rule stays the first one
    data = {
        "default": {"unregistered": "deny"},
        "geofences": [{"id": "deny-ua", "action": "deny", "countries": ["UA"]}],
    }
    pol = parse_policy(data)
    assert pol.rule_ids[0] == "unregistered"
    d = evaluate(pol, ["nobody"], [0.0], EPOCH, [[KYIV[0]]], [[KYIV[1]]])
    assert d.rule_ids[int(d.rule[0, 0])] == "unregistered"
    steps = why(pol, "nobody", 0.0, EPOCH, KYIV[0], KYIV[1])
    assert [(s.rule_id, s.outcome) for s in steps if s.outcome in ("deny", "also-deny")] == [
        ("unregistered", "deny"),
        ("deny-ua", "also-deny"),
    ]


@pytest.mark.parametrize("t_s", [90.0, 3 * DAY_S + 7.0])
def test_why_names_the_snapshot_time(t_s: float) -> None:
    start = EPOCH + timedelta(days=10)
    data = {
        "geofences": [
            {"id": "later", "action": "deny", "countries": ["UA"], "active_from": start.strftime("%Y-%m-%dT%H:%M:%SZ")}
        ]
    }
    steps = why(parse_policy(data), "T", t_s, EPOCH, KYIV[0], KYIV[1])
    stamp = (EPOCH + timedelta(seconds=t_s)).strftime("%Y-%m-%dT%H:%M:%SZ")
    fence = next(s for s in steps if s.rule_id == "later")
    assert fence.reason.startswith(f"geofence later (deny, priority 0) is not active at {stamp}")
    assert f"is served at {stamp} in UA" in steps[-1].reason


def test_why_words_deny_and_allow_geofences_apart() -> None:
    box = {"type": "Polygon", "coordinates": [[[30.0, 50.0], [31.0, 50.0], [31.0, 51.0], [30.0, 51.0], [30.0, 50.0]]]}
    data = {
        "geofences": [
            {"id": "deny-ua", "action": "deny", "priority": 1, "countries": ["UA"]},
            {"id": "allow-kyiv", "action": "allow", "priority": 2, "geometry": box},
        ]
    }
    pol = parse_policy(data)
    inside_allow = {s.rule_id: s.reason for s in why(pol, "T", 0.0, EPOCH, KYIV[0], KYIV[1])}
    assert inside_allow["allow-kyiv"] == (
        "inside geofence allow-kyiv (allow, priority 2): lower-priority geofences do not apply here"
    )
    lviv = (49.8397, 24.0297)
    only_deny = {s.rule_id: s.reason for s in why(pol, "T", 0.0, EPOCH, lviv[0], lviv[1])}
    assert only_deny["deny-ua"] == "inside geofence deny-ua (deny, priority 1)"


def test_why_names_only_the_licences_of_the_country() -> None:
    data = {
        "licences": [
            {"id": "lic-pl", "countries": ["PL"]},
            {"id": "lic-ua", "countries": ["UA"]},
            {"id": "lic-ua-pl", "countries": ["PL", "UA"]},
        ]
    }
    steps = why(parse_policy(data), "T", 0.0, EPOCH, KYIV[0], KYIV[1])
    lic = next(s for s in steps if s.rule_id == "no-licence")
    assert lic.reason == "in UA, licensed by lic-ua, lic-ua-pl"
