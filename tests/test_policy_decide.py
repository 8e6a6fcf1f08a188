"""Decisions for the public facts of docs/scenarios.md; each test also checks that removing its rule changes the
outcome (so the test fails if the rule is removed)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import numpy as np
import pyproj
import pytest
import shapely

from leonet.policy import Policy, bind, evaluate, known_country_codes, parse_policy, why
from leonet.tracks import interpolate, make_track

UTC = UTC
# (lat, lon)
TAIPEI = (25.033, 121.565)
KINMEN = (24.44, 118.32)
MANILA = (14.5995, 120.9842)
NAHA = (26.2124, 127.6809)
KYIV = (50.4501, 30.5234)
ODESA = (46.4825, 30.7233)
SEVASTOPOL = (44.6054, 33.5220)
SIMFEROPOL = (44.9521, 34.1024)
DONETSK = (48.0159, 37.8028)
LVIV = (49.8397, 24.0297)
WARSAW = (52.2297, 21.0122)
TOKYO = (35.6762, 139.6503)


def without(data: dict[str, Any], key: str, rule_id: str) -> dict[str, Any]:
    """``data`` with the rule ``rule_id`` removed from list ``key``."""
    out = dict(data)
    out[key] = [r for r in data[key] if r["id"] != rule_id]
    return out


def decide(
    pol: Policy,
    ids: list[str],
    at: datetime,
    places: list[tuple[float, float]],
    speed_kmh: Any = 0.0,
    alt_m: Any = 0.0,
    epoch: datetime | None = None,
) -> tuple[list[bool], list[str]]:
    epoch = epoch or at
    lat = np.array([[p[0] for p in places]])
    lon = np.array([[p[1] for p in places]])
    d = evaluate(pol, ids, [(at - epoch).total_seconds()], epoch, lat, lon, alt_m, speed_kmh)
    rules = [d.rule_ids[r] if r >= 0 else "" for r in d.rule[0]]
    return d.served[0].tolist(), rules


def licences_except(*codes: str) -> list[dict[str, Any]]:
    return [{"id": "lic-world", "countries": sorted(known_country_codes() - set(codes))}]


# --- Taiwan: no licence -----------------------------------------------------------------------------------

TAIWAN: dict[str, Any] = {"licences": licences_except("TW", "RU", "CN", "KP")}


def test_taiwan_unlicensed() -> None:
    pol = parse_policy(TAIWAN)
    at = datetime(2024, 10, 1, tzinfo=UTC)
    served, rules = decide(pol, ["taipei", "kinmen", "manila", "okinawa"], at, [TAIPEI, KINMEN, MANILA, NAHA])
    assert served == [False, False, True, True]
    assert rules[:2] == ["no-licence", "no-licence"]
    d = evaluate(pol, ["taipei"], [0.0], at, TAIPEI[0], TAIPEI[1])
    assert d.reason(0, 0).startswith("no licence for TW")
    # with a licence for TW, Taipei is served
    served, _ = decide(parse_policy({"licences": licences_except("RU")}), ["taipei"], at, [TAIPEI])
    assert served == [True]


def test_licence_validity_interval_and_open_sea() -> None:
    data = {
        "licences": [
            {
                "id": "lic-ph",
                "countries": ["PH"],
                "valid_from": "2023-01-01T00:00:00Z",
                "valid_until": "2024-01-01T00:00:00Z",
            }
        ]
    }
    pol = parse_policy(data)
    sea = (20.0, 125.0)
    served, rules = decide(pol, ["m", "sea"], datetime(2023, 6, 1, tzinfo=UTC), [MANILA, sea])
    assert served == [True, True]
    served, rules = decide(pol, ["m"], datetime(2024, 6, 1, tzinfo=UTC), [MANILA])
    assert served == [False] and rules == ["no-licence"]
    pol = parse_policy({**data, "default": {"outside_countries": "deny"}})
    served, _ = decide(pol, ["sea"], datetime(2023, 6, 1, tzinfo=UTC), [sea])
    assert served == [False]


# --- Crimea 2022: a geofence over the crimea polygon ----------------------------------------------------

# No licence check here: Crimea's territorial sea is Russia's in Natural Earth's de facto borders, so with RU
# unlicensed the boat would be denied by ``no-licence`` wherever it is inside the geofence.
CRIMEA: dict[str, Any] = {
    "geofences": [
        {
            "id": "crimea-2022",
            "action": "deny",
            "priority": 10,
            "file": "builtin:geofence_regions.geojson",
            "feature": {"region_id": "crimea"},
            "active_from": "2022-09-01T00:00:00Z",
        }
    ],
}


def _crimea_polygon() -> shapely.Geometry:
    text = resources.files("leonet").joinpath("data", "geofence_regions.geojson").read_text("utf-8")
    feats = json.loads(text)["features"]
    return next(shapely.geometry.shape(f["geometry"]) for f in feats if f["properties"]["region_id"] == "crimea")


def test_crimea_track_denied_from_entry() -> None:
    pol = parse_policy(CRIMEA)
    epoch = datetime(2022, 9, 20, tzinfo=UTC)
    duration_s = 6 * 3600.0
    track = make_track([0.0, duration_s], [ODESA[0], SEVASTOPOL[0]], [ODESA[1], SEVASTOPOL[1]])
    kyiv = make_track([0.0], [KYIV[0]], [KYIV[1]])
    t = np.arange(0.0, duration_s + 1.0, 1.0)
    s = interpolate([track, kyiv], t)
    d = evaluate(pol, ["boat", "kyiv"], t, epoch, s.lat_deg, s.lon_deg, s.alt_m, s.speed_kmh)

    # independent reference: the position at each second along the geodesic by pyproj directly, inside the
    # polygon by shapely (the polygon includes its territorial sea, so the boat enters it more than once)
    geod = pyproj.Geod(ellps="WGS84")
    az, _, total_m = geod.inv(ODESA[1], ODESA[0], SEVASTOPOL[1], SEVASTOPOL[0])
    lon_r, lat_r, _ = geod.fwd(
        np.full(t.size, ODESA[1]), np.full(t.size, ODESA[0]), np.full(t.size, az), t / duration_s * total_m
    )
    poly = _crimea_polygon()
    inside = shapely.contains_xy(poly, lon_r, lat_r)
    edge_m = shapely.distance(shapely.boundary(poly), shapely.points(lon_r, lat_r)) * 111e3
    clear = edge_m > 50.0
    assert np.array_equal(~d.served[clear, 0], inside[clear])
    assert inside[-1] and not inside[0]
    denied = np.flatnonzero(~d.served[:, 0])
    assert {d.rule_ids[r] for r in d.rule[denied, 0]} == {"crimea-2022"}
    assert d.reason(int(denied[0]), 0) == "inside geofence crimea-2022 (deny)"
    assert d.served[:, 1].all()  # Kyiv keeps service

    # without the geofence the boat is served all the way
    d2 = evaluate(
        parse_policy(without(CRIMEA, "geofences", "crimea-2022")),
        ["boat"],
        t,
        epoch,
        s.lat_deg[:, :1],
        s.lon_deg[:, :1],
    )
    assert d2.served.all()


def test_crimea_geofence_time_window_and_country_override() -> None:
    override = {
        "id": "crimea-is-ua",
        "country": "UA",
        "file": "builtin:geofence_regions.geojson",
        "feature": {"region_id": "crimea"},
    }
    data = {**CRIMEA, "licences": licences_except("RU", "TW"), "country_overrides": [override]}
    pol = parse_policy(data)
    assert pol.country_codes(np.array([SIMFEROPOL[0]]), np.array([SIMFEROPOL[1]]))[0] == "UA"
    served, _ = decide(pol, ["s"], datetime(2022, 8, 1, tzinfo=UTC), [SIMFEROPOL])
    assert served == [True]  # Ukraine is licensed, the geofence is not yet active
    served, rules = decide(pol, ["s"], datetime(2022, 10, 1, tzinfo=UTC), [SIMFEROPOL])
    assert served == [False] and rules == ["crimea-2022"]


# --- Ukraine 2026: whitelist-only ------------------------------------------------------------------------

WHITELIST: dict[str, Any] = {
    "licences": licences_except("RU", "TW"),
    "geofences": [
        {
            "id": "ua-whitelist-2026",
            "action": "whitelist-only",
            "whitelist": "ua-2026",
            "countries": ["UA"],
            "priority": 10,
            "active_from": "2026-02-03T00:00:00Z",
        }
    ],
    "terminals": [
        {
            "id": "KIT-REG",
            "account": "unit-1",
            "account_type": "military",
            "service_class": "military",
            "registered_country": "UA",
            "whitelists": ["ua-2026"],
        },
        {"id": "KIT-OFF", "account": "p-1", "account_type": "person", "registered_country": "UA"},
        {
            "id": "KIT-SUS",
            "account": "p-2",
            "account_type": "person",
            "registered_country": "UA",
            "whitelists": ["ua-2026"],
            "status": "suspended",
        },
    ],
    "quotas": [{"id": "quota-person", "account_type": "person", "max_terminals": 1}],
}


def test_whitelist_only_ukraine() -> None:
    pol = parse_policy(WHITELIST)
    at = datetime(2026, 2, 10, tzinfo=UTC)
    ids = ["KIT-REG", "KIT-REG", "UNKNOWN", "UNKNOWN", "KIT-OFF", "KIT-SUS", "UNKNOWN"]
    places = [KYIV, DONETSK, DONETSK, LVIV, KYIV, KYIV, WARSAW]
    served, rules = decide(pol, ids, at, places)
    assert served == [True, True, False, False, False, False, True]
    assert rules[2:6] == ["ua-whitelist-2026", "ua-whitelist-2026", "ua-whitelist-2026", "suspended"]
    d = evaluate(pol, ids, [0.0], at, np.array([[p[0] for p in places]]), np.array([[p[1] for p in places]]))
    assert d.reason(0, 2).endswith("not registered") and d.reason(0, 4).endswith("not on whitelist ua-2026")
    # before 3 February 2026 everyone (active) is served in Ukraine
    served, _ = decide(pol, ids, datetime(2026, 2, 1, tzinfo=UTC), places)
    assert served == [True, True, True, True, True, False, True]
    # without the geofence, unregistered terminals in Ukraine are served
    served, _ = decide(parse_policy(without(WHITELIST, "geofences", "ua-whitelist-2026")), ids, at, places)
    assert served[2:5] == [True, True, True]


def test_unregistered_denied_by_default_rule() -> None:
    pol = parse_policy({**WHITELIST, "default": {"unregistered": "deny"}})
    served, rules = decide(pol, ["UNKNOWN", "KIT-OFF"], datetime(2026, 2, 10, tzinfo=UTC), [WARSAW, WARSAW])
    assert served == [False, True] and rules[0] == "unregistered"


# --- Ukraine 2026: speed cap --------------------------------------------------------------------------

SPEED: dict[str, Any] = {
    "speed_caps": [
        {"id": "ua-speed-cap-2026", "countries": ["UA"], "max_speed_kmh": 90, "active_from": "2026-01-31T00:00:00Z"}
    ],
    "terminals": [
        {
            "id": "KIT-UNIT",
            "account": "unit-7",
            "account_type": "military",
            "service_class": "military",
            "exempt_speed_cap": True,
        },
        {"id": "KIT-CAR", "account": "p-1", "service_class": "mobile"},
        {"id": "KIT-GOV", "account": "gov-1", "account_type": "government", "service_class": "government"},
    ],
}


def test_speed_cap_120_kmh() -> None:
    pol = parse_policy(SPEED)
    epoch = datetime(2026, 2, 5, tzinfo=UTC)
    # a drive east from Kyiv: 120 km of geodesic in one hour
    geod = pyproj.Geod(ellps="WGS84")
    lon1, lat1, _ = geod.fwd(KYIV[1], KYIV[0], 90.0, 120_000.0)
    car = make_track([0.0, 3600.0], [KYIV[0], lat1], [KYIV[1], lon1])
    t = np.array([600.0, 1800.0])
    s = interpolate([car, car, car], t)
    assert np.allclose(s.speed_kmh, 120.0, atol=1e-6)
    d = evaluate(pol, ["KIT-UNIT", "KIT-CAR", "UNKNOWN"], t, epoch, s.lat_deg, s.lon_deg, s.alt_m, s.speed_kmh)
    assert d.served.tolist() == [[True, False, False]] * 2
    assert d.reason(0, 1) == "speed above the 90 km/h cap of ua-speed-cap-2026 in UA"
    # exemption by account type; below the cap; before the cap; outside Ukraine
    pol2 = parse_policy({**SPEED, "speed_caps": [{**SPEED["speed_caps"][0], "exempt_account_types": ["government"]}]})
    assert decide(pol2, ["KIT-GOV", "KIT-CAR"], epoch, [KYIV, KYIV], 120.0)[0] == [True, False]
    assert decide(pol, ["KIT-CAR"], epoch, [KYIV], 80.0)[0] == [True]
    assert decide(pol, ["KIT-CAR"], datetime(2026, 1, 30, tzinfo=UTC), [KYIV], 120.0)[0] == [True]
    assert decide(pol, ["KIT-CAR"], epoch, [WARSAW], 120.0)[0] == [True]
    # without the cap the car is served
    pol0 = parse_policy(without(SPEED, "speed_caps", "ua-speed-cap-2026"))
    assert decide(pol0, ["KIT-CAR"], epoch, [KYIV], 120.0)[0] == [True]


# --- mobility, bans, registry ---------------------------------------------------------------------------

MOBILITY: dict[str, Any] = {
    "default": {"unregistered_service_class": "mobile", "moving_above_kmh": 10},
    "terminals": [
        {"id": "FIX", "account": "a1", "service_class": "fixed", "registered_country": "US"},
        {
            "id": "MOB",
            "account": "a2",
            "service_class": "mobile",
            "registered_country": "US",
            "abroad_since": "2025-11-01T00:00:00Z",
        },
        {"id": "AIR", "account": "a3", "service_class": "aviation"},
        {"id": "SEA", "account": "a4", "service_class": "maritime"},
        {"id": "DRN", "account": "a5", "service_class": "drone"},
    ],
    "mobility": [
        {"id": "plan-fixed", "service_class": "fixed", "in_motion": False},
        {"id": "plan-mobile", "service_class": "mobile", "max_speed_kmh": 160, "roaming_days": 60},
        {"id": "plan-aviation", "service_class": "aviation", "max_altitude_m": 13000},
    ],
    "motion_bans": [{"id": "land-motion-jp-mx", "countries": ["JP", "MX"]}],
    "service_bans": [
        {
            "id": "military-use-2022",
            "service_classes": ["military", "drone"],
            "countries": ["UA"],
            "active_from": "2022-10-01T00:00:00Z",
        }
    ],
}


@pytest.mark.parametrize(
    ("tid", "place", "speed", "alt", "rule"),
    [
        ("FIX", WARSAW, 30.0, 0.0, "plan-fixed"),
        ("FIX", WARSAW, 5.0, 0.0, ""),
        ("MOB", WARSAW, 170.0, 0.0, "plan-mobile"),  # over 160 km/h (and abroad 101 days)
        ("MOB", (40.7, -74.0), 150.0, 0.0, ""),  # at home in the US
        ("MOB", WARSAW, 50.0, 0.0, "plan-mobile"),  # abroad since 2025-11-01: more than 60 days
        ("AIR", (50.0, 10.0), 850.0, 14000.0, "plan-aviation"),
        ("AIR", (50.0, 10.0), 850.0, 11000.0, ""),
        ("UNREG", TOKYO, 40.0, 0.0, "land-motion-jp-mx"),
        ("SEA", TOKYO, 40.0, 0.0, ""),  # ships are not covered by the land ban
        ("DRN", KYIV, 0.0, 0.0, "military-use-2022"),
        ("DRN", WARSAW, 0.0, 0.0, ""),
    ],
)
def test_mobility_and_bans(tid: str, place: tuple[float, float], speed: float, alt: float, rule: str) -> None:
    pol = parse_policy(MOBILITY)
    at = datetime(2026, 2, 10, tzinfo=UTC)
    served, rules = decide(pol, [tid], at, [place], speed, alt)
    assert rules == [rule] and served == [rule == ""]
    if rule:
        key = next(k for k in ("mobility", "motion_bans", "service_bans") if any(r["id"] == rule for r in MOBILITY[k]))
        assert decide(parse_policy(without(MOBILITY, key, rule)), [tid], at, [place], speed, alt)[0] == [True]


def test_roaming_counts_the_stay_abroad_on_the_clock() -> None:
    data = {
        **MOBILITY,
        "terminals": [{"id": "MOB", "account": "a", "service_class": "mobile", "registered_country": "US"}],
    }
    pol = parse_policy(data)
    epoch = datetime(2026, 1, 1, tzinfo=UTC)
    days = np.array([0.0, 30.0, 59.0, 61.0, 62.0, 63.0])
    lat = np.array([WARSAW[0]] * 4 + [40.7, WARSAW[0]])[:, None]
    lon = np.array([WARSAW[1]] * 4 + [-74.0, WARSAW[1]])[:, None]
    d = evaluate(pol, ["MOB"], days * 86400.0, epoch, lat, lon)
    # abroad from day 0: over 60 days at day 61; home at day 62 resets the stay
    assert d.served[:, 0].tolist() == [True, True, True, False, True, True]
    steps = why(pol, "MOB", days * 86400.0, epoch, lat[:, 0], lon[:, 0], at=3)
    assert steps[-1].outcome == "denied" and "abroad for 61 days" in steps[-1].reason


def test_allow_geofence_of_higher_priority_wins_and_first_denial_is_reported() -> None:
    box = {"type": "Polygon", "coordinates": [[[30.0, 50.0], [31.0, 50.0], [31.0, 51.0], [30.0, 51.0], [30.0, 50.0]]]}
    data = {
        "geofences": [
            {"id": "deny-ua", "action": "deny", "priority": 1, "countries": ["UA"]},
            {"id": "allow-kyiv", "action": "allow", "priority": 2, "geometry": box},
        ],
        "speed_caps": [{"id": "cap", "max_speed_kmh": 50}],
    }
    pol = parse_policy(data)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    served, rules = decide(pol, ["a", "b", "c"], at, [KYIV, LVIV, LVIV], np.array([0.0, 0.0, 100.0]))
    assert served == [True, False, False]
    assert rules == ["", "deny-ua", "deny-ua"]  # the geofence comes before the speed cap
    steps = why(pol, "c", 0.0, at, LVIV[0], LVIV[1], speed_kmh=100.0)
    outcomes = {s.rule_id: s.outcome for s in steps}
    assert outcomes["deny-ua"] == "deny" and outcomes["cap"] == "also-deny" and outcomes["allow-kyiv"] == "n/a"
    steps = why(pol, "a", 0.0, at, KYIV[0], KYIV[1])
    assert [s.outcome for s in steps if s.rule_id in ("allow-kyiv", "deny-ua")] == ["pass", "n/a"]
    assert "higher priority" in next(s.reason for s in steps if s.rule_id == "deny-ua")


def test_why_agrees_with_evaluate_everywhere() -> None:
    pol = parse_policy(
        {
            **MOBILITY,
            **{k: v for k, v in WHITELIST.items() if k != "terminals"},
            "speed_caps": SPEED["speed_caps"],
            "whitelists": ["ua-2026"],  # no terminal of this policy carries it
        }
    )
    rng = np.random.default_rng(5)
    n = 60
    ids = rng.choice(["FIX", "MOB", "AIR", "SEA", "DRN", "NEW"], n).tolist()
    lat = rng.uniform(35, 55, n)
    lon = rng.uniform(-10, 45, n)
    speed = rng.uniform(0, 200, n)
    at = datetime(2026, 2, 10, tzinfo=UTC)
    d = evaluate(pol, ids, [0.0], at, lat[None], lon[None], 0.0, speed[None])
    for k in range(n):
        steps = why(pol, ids[k], 0.0, at, lat[k], lon[k], speed_kmh=speed[k])
        first = next((s for s in steps if s.outcome == "deny"), None)
        if d.served[0, k]:
            assert first is None and steps[-1].outcome == "served"
        else:
            assert first is not None and first.rule_id == d.rule_ids[d.rule[0, k]]
    assert 0 < d.served.mean() < 1


def test_bind_once_and_runs() -> None:
    pol = parse_policy(WHITELIST)
    fleet = bind(pol, ["KIT-REG", "UNKNOWN"])
    assert fleet.registered.tolist() == [True, False]
    epoch = datetime(2026, 2, 1, tzinfo=UTC)
    t = np.arange(5) * 86400.0  # 1..5 February: the whitelist starts on the 3rd
    d = evaluate(pol, fleet, t, epoch, np.full((5, 2), KYIV[0]), np.full((5, 2), KYIV[1]))
    term, first, stop, rule = d.runs()
    assert term.tolist() == [0, 1, 1] and first.tolist() == [0, 0, 2] and stop.tolist() == [5, 2, 5]
    assert rule[0] == -1 and rule[1] == -1 and d.rule_ids[rule[2]] == "ua-whitelist-2026"
    assert (epoch + timedelta(seconds=float(t[first[2]]))).day == 3


def test_example_files_in_scenarios_policy() -> None:
    import tomllib
    from pathlib import Path

    from leonet.tracks import load_track, load_tracks

    folder = Path(__file__).resolve().parents[1] / "scenarios" / "policy"
    data = tomllib.loads((folder / "example-policy.toml").read_text("utf-8"))["policy"]
    pol = parse_policy(data, source="example-policy.toml", base_dir=folder)
    epoch = datetime(2026, 2, 5, 8, tzinfo=UTC)
    car = load_tracks(folder / "kyiv-east-120kmh.geojson", epoch)
    s = interpolate(list(car.values()), [600.0])
    d = evaluate(pol, list(car), [600.0], epoch, s.lat_deg, s.lon_deg, s.alt_m, s.speed_kmh)
    assert d.rule_ids[d.rule[0, 0]] == "ua-speed-cap-2026"
    boat = load_track(folder / "odesa-sevastopol.csv", datetime(2022, 9, 20, tzinfo=UTC))
    s = interpolate([boat], [0.0, 21600.0])
    d = evaluate(
        pol,
        ["boat", "boat"],
        [0.0, 21600.0],
        datetime(2022, 9, 20, tzinfo=UTC),
        s.lat_deg[:, [0, 0]],
        s.lon_deg[:, [0, 0]],
    )
    assert d.served[:, 0].tolist() == [True, False] and d.rule_ids[d.rule[1, 0]] == "crimea-2022"
