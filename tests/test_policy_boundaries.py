"""Boundary semantics of the policy, each pinned on both sides: caps and limits are inclusive, time windows
include their start and exclude their end, a point on a geofence edge is outside, and reasons never round a
value onto the wrong side of its limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from leonet.policy import evaluate, parse_policy, why

KYIV = (50.4501, 30.5234)
EPOCH = datetime(2026, 2, 10, tzinfo=UTC)
TOKYO = (35.6895, 139.6917)


def one(policy: dict[str, Any], tid: str = "T", t_s: float = 0.0, **kw: Any) -> tuple[bool, str, str]:
    """(served, rule id or '', reason) for one terminal at one time, and the same chain from ``why``."""
    pol = parse_policy(policy)
    lat, lon = kw.pop("at", KYIV)
    d = evaluate(pol, [tid], [t_s], EPOCH, [[lat]], [[lon]], **kw)
    rule = "" if d.served[0, 0] else d.rule_ids[d.rule[0, 0]]
    steps = why(pol, tid, t_s, EPOCH, lat, lon, **kw)
    assert (steps[-1].outcome == "served") == bool(d.served[0, 0])
    return bool(d.served[0, 0]), rule, " | ".join(s.reason for s in steps)


CAP: dict[str, Any] = {"speed_caps": [{"id": "cap", "countries": ["UA"], "max_speed_kmh": 90}]}


def test_speed_cap_exactly_at_the_cap_is_allowed() -> None:
    assert one(CAP, speed_kmh=90.0)[:2] == (True, "")
    served, rule, text = one(CAP, speed_kmh=90.0 + 1e-9)
    assert (served, rule) == (False, "cap")
    assert "above the 90 km/h cap" in text and "speed 90 km/h above" not in text


@pytest.mark.parametrize(
    ("v", "shown", "rel"),
    [
        (90.4, "90.4", "above"),
        (89.6, "89.6", "within"),
        (90.0, "90", "within"),
        (120.0, "120", "above"),
        (90.00004, "90.00004", "above"),
    ],
)
def test_reasons_never_round_a_speed_onto_the_limit(v: float, shown: str, rel: str) -> None:
    _, _, text = one(CAP, speed_kmh=v)
    assert f"speed {shown} km/h {rel} the 90 km/h cap" in text


WINDOW: dict[str, Any] = {
    "geofences": [
        {
            "id": "g",
            "action": "deny",
            "countries": ["UA"],
            "active_from": "2026-02-10T00:00:10Z",
            "active_until": "2026-02-10T00:00:20Z",
        }
    ]
}


@pytest.mark.parametrize(("t_s", "served"), [(9.999, True), (10.0, False), (19.999, False), (20.0, True)])
def test_time_windows_include_their_start_and_exclude_their_end(t_s: float, served: bool) -> None:
    assert one(WINDOW, t_s=t_s)[0] is served


@pytest.mark.parametrize(("t_s", "served"), [(-0.001, False), (0.0, True), (99.999, True), (100.0, False)])
def test_licence_validity_is_half_open(t_s: float, served: bool) -> None:
    start = EPOCH.strftime("%Y-%m-%dT%H:%M:%SZ")
    until = (EPOCH + timedelta(seconds=100)).strftime("%Y-%m-%dT%H:%M:%SZ")
    pol = {"licences": [{"id": "lic", "countries": ["UA"], "valid_from": start, "valid_until": until}]}
    assert one(pol, t_s=t_s)[0] is served


MOBILE: dict[str, Any] = {
    "terminals": [{"id": "T", "account": "a", "service_class": "mobile", "registered_country": "UA"}],
    "mobility": [
        {"id": "plan", "service_class": "mobile", "max_speed_kmh": 160, "max_altitude_m": 3000, "roaming_days": 60}
    ],
}


def test_mobility_speed_and_altitude_limits_are_inclusive() -> None:
    assert one(MOBILE, speed_kmh=160.0)[0] is True
    served, rule, text = one(MOBILE, speed_kmh=160.2)
    assert (served, rule) == (False, "plan") and "speed 160.2 km/h above the 160 km/h limit" in text
    assert one(MOBILE, alt_m=3000.0)[0] is True
    served, _, text = one(MOBILE, alt_m=3000.4)
    assert served is False and "altitude 3000.4 m above the 3000 m limit" in text


def test_roaming_days_limit_is_inclusive() -> None:
    pol = parse_policy(MOBILE)
    day = 86_400.0
    t = np.array([0.0, 60 * day, 60 * day + 1.0])  # abroad (Japan) from t = 0
    d = evaluate(pol, ["T"], t, EPOCH, np.full((3, 1), TOKYO[0]), np.full((3, 1), TOKYO[1]))
    assert d.served[:, 0].tolist() == [True, True, False]
    assert "longer than the 60-day roaming limit" in d.reason(2, 0)


def test_in_motion_threshold_is_exclusive() -> None:
    fixed = {
        "terminals": [{"id": "T", "account": "a", "service_class": "fixed"}],
        "mobility": [{"id": "fixed", "service_class": "fixed", "in_motion": False}],
        "default": {"moving_above_kmh": 10},
    }
    assert one(fixed, speed_kmh=10.0)[0] is True
    served, _, text = one(fixed, speed_kmh=10.3)
    assert served is False and "in motion (10.3 km/h; in motion above 10 km/h)" in text
    ban = {"motion_bans": [{"id": "jp", "countries": ["JP"]}], "default": {"moving_above_kmh": 10}}
    assert one(ban, at=TOKYO, speed_kmh=10.0)[0] is True
    assert one(ban, at=TOKYO, speed_kmh=10.0001)[1] == "jp"


BOX = [[30.0, 50.0], [31.0, 50.0], [31.0, 51.0], [30.0, 51.0], [30.0, 50.0]]


@pytest.mark.parametrize(
    ("lat", "lon", "served"),
    [
        (50.5, 30.0, True),  # exactly on the west edge: outside
        (50.5, 30.0 + 1e-9, False),  # just inside
        (50.5, 30.0 - 1e-9, True),  # just outside
        (50.0, 30.5, True),  # on the south edge
        (51.0, 31.0, True),  # on a corner
        (50.5, 30.5, False),
    ],
)
def test_a_point_on_a_geofence_edge_is_outside(lat: float, lon: float, served: bool) -> None:
    pol = {"geofences": [{"id": "box", "action": "deny", "geometry": {"type": "Polygon", "coordinates": [BOX]}}]}
    assert one(pol, at=(lat, lon))[0] is served


def test_equal_priority_reason_does_not_claim_a_higher_priority() -> None:
    pol = {
        "geofences": [
            {"id": "a", "action": "deny", "countries": ["UA"]},
            {"id": "b", "action": "deny", "geometry": {"type": "Polygon", "coordinates": [BOX]}},
        ]
    }
    _, rule, text = one(pol, at=(50.5, 30.5))
    assert rule == "a" and "geofence a decides here (the same priority and is listed first)" in text
    assert "higher priority" not in text


def test_motion_ban_reasons_at_the_threshold_and_outside_its_window() -> None:
    """The explanation agrees with the decision at exactly the in-motion threshold, and a ban outside its window
    says so (mutation survivors of decide.py: the text's own comparison, the window test in the text)."""
    ban = {"motion_bans": [{"id": "jp", "countries": ["JP"]}], "default": {"moving_above_kmh": 10}}
    served, _, text = one(ban, at=TOKYO, speed_kmh=10.0)
    assert served is True and "not in motion (10 km/h; in motion above 10 km/h)" in text
    later = (EPOCH + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ban_later = {"motion_bans": [{"id": "jp", "countries": ["JP"], "active_from": later}]}
    served, _, text = one(ban_later, at=TOKYO, speed_kmh=50.0)
    assert served is True and "motion ban jp is not in force at 2026-02-10T00:00:00Z" in text
    served, rule, text = one(ban_later, at=TOKYO, t_s=86_400.0, speed_kmh=50.0)
    assert (served, rule) == (False, "jp") and "in motion (50 km/h" in text


def test_a_terminal_without_an_altitude_is_on_the_ground() -> None:
    """evaluate() and why() default to 0 m, which a plan's altitude limit of 0 m allows (inclusive)."""
    ground = {
        "terminals": [{"id": "T", "account": "a", "service_class": "mobile"}],
        "mobility": [{"id": "plan", "service_class": "mobile", "max_altitude_m": 0}],
    }
    assert one(ground)[:2] == (True, "")
    assert one(ground, alt_m=0.5)[:2] == (False, "plan")
