"""The roaming clock and the wording of the decision chain, pinned where mutation testing found them loose
(``tools/mutate.py decide``; docs/testing.md lists the mutants these kill).

References are the rules as the README and ``policy/decide.py`` state them: a stay abroad is counted from its
own first snapshot, only for a terminal with a registered country and only in a country (not at sea); the first
rule that denies is the reported one; ``why`` names the snapshot's UTC time and, for a licensed country, only
the licences that cover it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leonet.policy import evaluate, parse_policy, why
from leonet.policy.decide import evaluate_chunk, looks_back

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


# --- what an unregistered terminal inherits (bind's fill values) ------------------------------------------


def test_an_unregistered_terminal_has_no_home_country() -> None:
    # unregistered terminals fall under the mobile plan (default.unregistered_service_class) but have no home:
    # the roaming limit never applies to them
    data = roaming()
    data["default"] = {"unregistered_service_class": "mobile"}
    t, lat, lon = track([0, 61, 100], [TOKYO, TOKYO, TOKYO])
    d = evaluate(parse_policy(data), ["stranger"], t, EPOCH, lat, lon)
    assert d.served[:, 0].tolist() == [True, True, True]
    assert evaluate(parse_policy(data), ["T"], t, EPOCH, lat, lon).served[:, 0].tolist() == [True, False, False]


def test_an_unregistered_terminal_has_no_exempt_account_type() -> None:
    # account types are indexed in sorted order (consumer 0, government 1): an unregistered terminal has none,
    # so it is never exempt, whatever the index of the exempt type
    data = {
        "terminals": [
            {"id": "C", "account": "c", "account_type": "consumer"},
            {"id": "G", "account": "g", "account_type": "government"},
        ],
        "speed_caps": [{"id": "cap", "max_speed_kmh": 90, "exempt_account_types": ["government"]}],
    }
    pol = parse_policy(data)
    assert pol.account_types.index("government") == 1
    d = evaluate(pol, ["C", "G", "stranger"], [0.0], EPOCH, [[KYIV[0]] * 3], [[KYIV[1]] * 3], speed_kmh=120.0)
    assert d.served[0].tolist() == [False, True, False]


def test_a_suspended_terminal_and_the_others_are_told_apart() -> None:
    data = {
        "terminals": [
            {"id": "ON", "account": "a"},
            {"id": "OFF", "account": "b", "status": "suspended"},
        ]
    }
    pol = parse_policy(data)

    def suspended_step(tid: str) -> tuple[str, str]:
        s = next(s for s in why(pol, tid, 0.0, EPOCH, KYIV[0], KYIV[1]) if s.rule_id == "suspended")
        return s.outcome, s.reason

    assert suspended_step("ON") == ("pass", "terminal is active")
    assert suspended_step("OFF") == ("deny", "terminal is suspended")
    assert suspended_step("stranger") == ("n/a", "terminal is not registered (nothing to suspend)")


# --- the roaming clock: a stay known from the registry, a zero-day limit -----------------------------------


def test_abroad_since_counts_only_for_the_stay_that_was_under_way() -> None:
    # the registry says the terminal has been abroad since 50 days before the window: that stay ends when it
    # comes home on day 1; the next stay (from day 2) is counted from day 2
    data = roaming()
    data["terminals"][0]["abroad_since"] = (EPOCH - timedelta(days=50)).strftime("%Y-%m-%dT%H:%M:%SZ")
    t, lat, lon = track([0, 1, 2, 30, 62, 63], [TOKYO, KYIV, TOKYO, TOKYO, TOKYO, TOKYO])
    d = evaluate(parse_policy(data), ["T"], t, EPOCH, lat, lon)
    assert d.served[:, 0].tolist() == [True, True, True, True, True, False]
    # and the stay under way at the window start is counted from abroad_since: 61 days at day 11
    t, lat, lon = track([0, 10, 11], [TOKYO, TOKYO, TOKYO])
    assert evaluate(parse_policy(data), ["T"], t, EPOCH, lat, lon).served[:, 0].tolist() == [True, True, False]


def test_a_zero_day_roaming_limit_serves_at_home() -> None:
    t, lat, lon = track([0, 1], [KYIV, TOKYO])
    d = evaluate(parse_policy(roaming(days=0)), ["T"], t, EPOCH, lat, lon)
    assert d.served[:, 0].tolist() == [True, True]  # day 1 is the stay's first snapshot: 0 s abroad
    t, lat, lon = track([0, 1, 1 + 1 / 86400], [KYIV, TOKYO, TOKYO])
    assert evaluate(parse_policy(roaming(days=0)), ["T"], t, EPOCH, lat, lon).served[:, 0].tolist() == [
        True,
        True,
        False,
    ]


# --- geofences: the one that decides, and the wording ------------------------------------------------------


def test_the_first_deciding_geofence_settles_the_point() -> None:
    # listed first (index 0) and of higher priority: the allow fence decides in Kyiv, the deny fence elsewhere
    box = {"type": "Polygon", "coordinates": [[[30.0, 50.0], [31.0, 50.0], [31.0, 51.0], [30.0, 51.0], [30.0, 50.0]]]}
    data = {
        "geofences": [
            {"id": "allow-kyiv", "action": "allow", "priority": 2, "geometry": box},
            {"id": "deny-ua", "action": "deny", "priority": 1, "countries": ["UA"]},
        ]
    }
    lviv = (49.8397, 24.0297)
    d = evaluate(parse_policy(data), ["a", "b"], [0.0], EPOCH, [[KYIV[0], lviv[0]]], [[KYIV[1], lviv[1]]])
    assert d.served[0].tolist() == [True, False]


def test_why_words_the_whitelist_only_geofence_per_terminal() -> None:
    data = {
        "geofences": [{"id": "wl", "action": "whitelist-only", "whitelist": "ua", "countries": ["UA"]}],
        "terminals": [
            {"id": "IN", "account": "a", "whitelists": ["ua"]},
            {"id": "OUT", "account": "b"},
        ],
    }
    pol = parse_policy(data)

    def fence(tid: str) -> str:
        return next(s.reason for s in why(pol, tid, 0.0, EPOCH, KYIV[0], KYIV[1]) if s.rule_id == "wl")

    name = "geofence wl (whitelist-only, priority 0)"
    assert fence("IN") == f"inside {name}; the terminal is on whitelist ua"
    assert fence("OUT") == f"inside {name}; the terminal is not on whitelist ua"
    assert fence("stranger") == f"inside {name}, and the terminal is not registered"


@pytest.mark.parametrize(("outside", "verb"), [("serve", "serves"), ("deny", "denies")])
def test_why_words_the_licence_check_at_sea(outside: str, verb: str) -> None:
    data = {"licences": [{"id": "lic-ua", "countries": ["UA"]}], "default": {"outside_countries": outside}}
    steps = why(parse_policy(data), "T", 0.0, EPOCH, AT_SEA[0], AT_SEA[1])
    lic = next(s for s in steps if s.rule_id == "no-licence")
    assert lic.reason == f"at sea (in no country): the policy {verb} terminals there"


def test_why_words_a_service_ban_in_and_out_of_force() -> None:
    start = EPOCH + timedelta(days=1)
    data = {
        "terminals": [{"id": "D", "account": "a", "service_class": "drone"}],
        "service_bans": [
            {
                "id": "no-drones",
                "service_classes": ["drone"],
                "countries": ["UA"],
                "active_from": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        ],
    }
    pol = parse_policy(data)

    def ban(t_s: float) -> tuple[str, str]:
        s = next(s for s in why(pol, "D", t_s, EPOCH, KYIV[0], KYIV[1]) if s.rule_id == "no-drones")
        return s.outcome, s.reason

    outcome, text = ban(0.0)
    assert outcome == "n/a" and text.startswith("service ban no-drones is not in force at 2026-03-01T00:00:00Z")
    assert ban(2 * DAY_S) == ("deny", "service class drone not served in UA (no-drones)")


def test_numbers_keep_their_side_of_the_limit_with_few_decimals() -> None:
    from leonet.policy.decide import _num

    assert _num(90.4, 90) == "90.4" and _num(89.6, 90) == "89.6" and _num(90.0, 90) == "90"
    assert _num(120.0, 90) == "120"
    # seven decimals are enough to stay above the cap: not the 17 digits of repr()
    assert _num(90.00000012, 90) == "90.0000001"


# --- the roaming clock across chunks (evaluate_chunk's carry) ------------------------------------------------

PLACES = [KYIV, TOKYO, AT_SEA, (52.2297, 21.0122)]  # home (UA), Japan, open sea, Poland
CHAINED: dict[str, Any] = {
    "default": {"unregistered_service_class": "mobile"},
    "terminals": [
        {"id": "A", "account": "a", "service_class": "mobile", "registered_country": "UA"},
        {
            "id": "B",
            "account": "b",
            "service_class": "mobile",
            "registered_country": "UA",
            "abroad_since": (EPOCH - timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        {"id": "C", "account": "c", "service_class": "fixed", "registered_country": "PL"},
    ],
    # a plan without roaming limit listed first: looking back must not depend on the first plan only
    "mobility": [
        {"id": "plan-fixed", "service_class": "fixed", "max_speed_kmh": 500},
        {"id": "plan-mobile", "service_class": "mobile", "roaming_days": 60 / DAY_S},  # 60 s abroad at most
    ],
}
_CHAINED_POLICY = parse_policy(CHAINED)


def test_a_policy_looks_back_when_any_plan_limits_roaming() -> None:
    assert looks_back(_CHAINED_POLICY)
    assert not looks_back(parse_policy({**CHAINED, "mobility": CHAINED["mobility"][:1]}))
    assert not looks_back(parse_policy({"speed_caps": [{"id": "cap", "max_speed_kmh": 90}]}))


@settings(max_examples=60, deadline=None)
@given(
    where=st.lists(st.lists(st.integers(0, len(PLACES) - 1), min_size=4, max_size=4), min_size=1, max_size=30),
    cuts=st.lists(st.integers(0, 30), max_size=8),
)
def test_chunks_chained_by_their_carry_decide_as_the_whole_window(where: list[list[int]], cuts: list[int]) -> None:
    # four terminals (A, B, C and an unregistered one) hop between home, abroad and the sea every 20 s; the
    # window cut anywhere, empty and one-snapshot chunks included, decides exactly as the window at once
    ids = ["A", "B", "C", "stranger"]
    t = 20.0 * np.arange(len(where))
    lat = np.array([[PLACES[i][0] for i in row] for row in where])
    lon = np.array([[PLACES[i][1] for i in row] for row in where])
    whole = evaluate(_CHAINED_POLICY, ids, t, EPOCH, lat, lon)
    edges = [0, *sorted(c for c in cuts if c <= len(t)), len(t)]  # repeated cuts make empty chunks
    carry = None
    rules = []
    for a, b in pairwise(edges):
        d, carry = evaluate_chunk(_CHAINED_POLICY, ids, t[a:b], EPOCH, lat[a:b], lon[a:b], 0.0, 0.0, carry)
        rules.append(d.rule)
    assert np.array_equal(np.concatenate(rules), whole.rule)


def test_the_carry_of_an_empty_chunk_is_the_carry_it_got() -> None:
    ids = ["A"]
    t = np.array([0.0, 20.0])
    lat, lon = np.full((2, 1), TOKYO[0]), np.full((2, 1), TOKYO[1])
    _, carry = evaluate_chunk(_CHAINED_POLICY, ids, t, EPOCH, lat, lon, 0.0, 0.0, None)
    assert carry.abroad_since_s.tolist() == [0.0]  # abroad since the first snapshot
    _, same = evaluate_chunk(_CHAINED_POLICY, ids, t[:0], EPOCH, lat[:0], lon[:0], 0.0, 0.0, carry)
    assert same.abroad_since_s.tolist() == [0.0]
    _, first = evaluate_chunk(_CHAINED_POLICY, ids, t[:0], EPOCH, lat[:0], lon[:0], 0.0, 0.0, None)
    assert first is None  # still the window's start: the registry's abroad_since counts next
    # one snapshot at home ends the stay
    _, home = evaluate_chunk(_CHAINED_POLICY, ids, [40.0], EPOCH, [[KYIV[0]]], [[KYIV[1]]], 0.0, 0.0, carry)
    assert np.isnan(home.abroad_since_s).all()
    # still abroad after 100 s: the stay that began at 0 goes on (denied, 100 s > 60 s)
    d, on = evaluate_chunk(_CHAINED_POLICY, ids, [100.0], EPOCH, [[TOKYO[0]]], [[TOKYO[1]]], 0.0, 0.0, carry)
    assert on.abroad_since_s.tolist() == [0.0] and not d.served[0, 0]
