"""Validation of the ``[policy]`` section: every bad input is one InputError that names the place."""

from __future__ import annotations

import json
import tomllib
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest

from leonet.errors import InputError
from leonet.policy import parse_policy, parse_policy_config

SQUARE = [[[30.0, 45.0], [31.0, 45.0], [31.0, 46.0], [30.0, 46.0], [30.0, 45.0]]]


def fence(fid: str, coords: Any = SQUARE, **kw: Any) -> dict[str, Any]:
    return {"id": fid, "action": "deny", "geometry": {"type": "Polygon", "coordinates": coords}, **kw}


def error_of(data: dict[str, Any], base_dir: Path | str = ".") -> InputError:
    with pytest.raises(InputError) as info:
        parse_policy(data, source="scen.toml", base_dir=base_dir)
    msg = str(info.value)
    assert "\n" not in msg and info.value.where and info.value.problem
    return info.value


def test_a_valid_policy_from_toml_parses() -> None:
    text = """
    [policy.default]
    unregistered = "serve"

    [[policy.licences]]
    id = "lic-eu"
    countries = ["UA", "pl"]
    valid_from = 2020-01-01T00:00:00Z

    [[policy.geofences]]
    id = "crimea-2022"
    action = "deny"
    priority = 10
    file = "builtin:geofence_regions.geojson"
    feature = { region_id = "crimea" }
    active_from = 2022-09-01T00:00:00

    [[policy.geofences]]
    id = "box"
    action = "allow"
    priority = 20
    geometry = { type = "Polygon", coordinates = [[[30, 45], [31, 45], [31, 46], [30, 46], [30, 45]]] }

    [[policy.terminals]]
    id = "KIT-1"
    account = "acc-1"
    account_type = "person-presented"

    [[policy.terminals]]
    id = "KIT-2"
    account = "acc-1"
    account_type = "person-presented"

    [[policy.quotas]]
    id = "quota-presented"
    account_type = "person-presented"
    max_terminals = 3
    """
    data = tomllib.loads(text)["policy"]
    pol = parse_policy(data, source="scen.toml")
    cfg = pol.config
    assert cfg.licences is not None and cfg.licences[0].countries == ["UA", "PL"]
    start = cfg.geofences[0].active_from
    assert start is not None and start.tzinfo == UTC  # a naive TOML datetime is UTC
    # the peninsula (3.109 deg2, Natural Earth admin-1) and its territorial sea
    assert pol.geometries["crimea-2022"].area == pytest.approx(5.113, abs=0.01)
    assert "crimea-2022" in pol.rule_ids


def test_unclosed_ring() -> None:
    coords = [[[30.0, 45.0], [31.0, 45.0], [31.0, 46.0], [30.0, 46.0]]]
    err = error_of({"geofences": [fence("open", coords)]})
    assert "geofences[0] (id 'open')" in err.where and "ring 0" in err.where
    assert "not closed" in err.problem


def test_self_intersecting_ring() -> None:
    bowtie = [[[30.0, 45.0], [31.0, 46.0], [31.0, 45.0], [30.0, 46.0], [30.0, 45.0]]]
    err = error_of({"geofences": [fence("bowtie", bowtie)]})
    assert "(id 'bowtie')" in err.where and "ring 0" in err.where
    assert "intersects itself" in err.problem and "Self-intersection" in err.problem


def test_hole_outside_shell_is_invalid() -> None:
    hole = [[40.0, 40.0], [41.0, 40.0], [41.0, 41.0], [40.0, 40.0]]
    err = error_of({"geofences": [fence("hole", [SQUARE[0], hole])]})
    assert "(id 'hole')" in err.where and "invalid" in err.problem


@pytest.mark.parametrize(
    ("coords", "words"),
    [
        ([[[200.0, 45.0], [201.0, 45.0], [201.0, 46.0], [200.0, 45.0]]], "longitude 200"),
        ([[[100.0, 95.0], [101.0, 95.0], [101.0, 96.0], [100.0, 95.0]]], "latitude 95"),
    ],
)
def test_coordinates_out_of_range(coords: Any, words: str) -> None:
    err = error_of({"geofences": [fence("far", coords)]})
    assert words in err.problem and "(id 'far')" in err.where


def test_swapped_axes_are_detected() -> None:
    # Taiwan written as [lat, lon]
    swapped = [[[22.0, 120.0], [25.3, 120.0], [25.3, 122.0], [22.0, 122.0], [22.0, 120.0]]]
    err = error_of({"geofences": [fence("tw", swapped)]})
    assert "[lat, lon]" in err.problem and "expected [lon, lat]" in err.problem


def test_ring_across_the_antimeridian() -> None:
    coords = [[[179.0, -17.0], [-179.0, -17.0], [-179.0, -16.0], [179.0, -16.0], [179.0, -17.0]]]
    err = error_of({"geofences": [fence("fiji", coords)]})
    assert "antimeridian" in err.problem


def test_bad_geometry_in_a_file_names_file_and_feature(tmp_path: Path) -> None:
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"region_id": "ok"},
                "geometry": {"type": "Polygon", "coordinates": SQUARE},
            },
            {
                "type": "Feature",
                "properties": {"region_id": "bad"},
                "geometry": {"type": "MultiPolygon", "coordinates": [SQUARE, [[[0, 0], [1, 0], [1, 1], [0, 1]]]]},
            },
        ],
    }
    (tmp_path / "regions.geojson").write_text(json.dumps(doc))
    ok = {"id": "f", "action": "deny", "file": "regions.geojson", "feature": {"region_id": "ok"}}
    assert parse_policy({"geofences": [ok]}, base_dir=tmp_path).geometries["f"].area == pytest.approx(1.0)
    bad = {**ok, "feature": {"region_id": "bad"}}
    err = error_of({"geofences": [bad]}, base_dir=tmp_path)
    assert "regions.geojson feature 1 (region_id=bad) polygon 1 ring 0" in err.where
    assert "not closed" in err.problem and "[policy.geofences] f" in err.where
    missing = {**ok, "feature": {"region_id": "nope"}}
    err = error_of({"geofences": [missing]}, base_dir=tmp_path)
    assert "no feature has region_id = 'nope'" in err.problem and "bad, ok" in err.problem


def test_unknown_country_code() -> None:
    err = error_of({"licences": [{"id": "lic", "countries": ["UA", "ZZ"]}]})
    assert "licences[0] (id 'lic').countries[1]" in err.where and "'ZZ'" in err.problem
    err = error_of({"terminals": [{"id": "K", "account": "a", "registered_country": "XX"}]})
    assert "registered_country" in err.where and "'XX'" in err.problem


def test_overlapping_geofences_with_equal_priority() -> None:
    shifted = [[[30.5, 45.5], [31.5, 45.5], [31.5, 46.5], [30.5, 46.5], [30.5, 45.5]]]
    a = fence("deny-a", priority=5)
    b = {**fence("allow-b", shifted, priority=5), "action": "allow"}
    err = error_of({"geofences": [a, b]})
    assert "'deny-a'" in err.problem and "'allow-b'" in err.problem and "priority 5" in err.problem
    # not an error: different priorities, the same action, regions that only touch, disjoint time windows
    parse_policy({"geofences": [a, {**b, "priority": 6}]})
    parse_policy({"geofences": [a, {**b, "action": "deny"}]})
    touching = [[[31.0, 45.0], [32.0, 45.0], [32.0, 46.0], [31.0, 46.0], [31.0, 45.0]]]
    parse_policy({"geofences": [a, {**b, "geometry": {"type": "Polygon", "coordinates": touching}}]})
    parse_policy(
        {"geofences": [{**a, "active_until": "2022-01-01T00:00:00Z"}, {**b, "active_from": "2022-01-01T00:00:00Z"}]}
    )


def test_overlap_with_a_country_region() -> None:
    inside_ua = [[[30.0, 49.0], [31.0, 49.0], [31.0, 50.0], [30.0, 50.0], [30.0, 49.0]]]
    wl = {"id": "ua-wl", "action": "whitelist-only", "whitelist": "w", "countries": ["UA"]}
    err = error_of({"geofences": [wl, {**fence("kyiv-box", inside_ua), "action": "allow"}], "whitelists": ["w"]})
    assert "'ua-wl'" in err.problem and "'kyiv-box'" in err.problem


def test_duplicate_ids() -> None:
    err = error_of({"licences": [{"id": "x", "countries": ["UA"]}], "speed_caps": [{"id": "x", "max_speed_kmh": 90}]})
    assert "'x'" in err.problem and "licences[0]" in err.problem and "speed_caps[0]" in err.problem
    err = error_of({"terminals": [{"id": "K1", "account": "a"}, {"id": "K1", "account": "b"}]})
    assert "'K1'" in err.problem
    err = error_of({"licences": [{"id": "no-licence", "countries": ["UA"]}]})
    assert "reserved" in err.problem


def person(i: int, account: str, kind: str = "person", **kw: Any) -> dict[str, Any]:
    return {"id": f"KIT-{i}", "account": account, "account_type": kind, **kw}


QUOTAS = [
    {"id": "quota-person", "account_type": "person", "max_terminals": 1},
    {"id": "quota-presented", "account_type": "person-presented", "max_terminals": 3},
    {"id": "quota-legal", "account_type": "legal-entity", "max_terminals": 10},
    {"id": "quota-critical", "account_type": "critical", "max_terminals": "unlimited"},
]


def test_quota_violations_name_account_and_count() -> None:
    err = error_of({"quotas": QUOTAS, "terminals": [person(1, "acc-7"), person(2, "acc-7")]})
    assert "account 'acc-7'" in err.where
    assert "2 active terminals" in err.problem and "at most 1" in err.problem and "quota-person" in err.problem
    err = error_of({"quotas": QUOTAS, "terminals": [person(i, "co", "legal-entity") for i in range(11)]})
    assert "account 'co'" in err.where and "11 active terminals" in err.problem and "at most 10" in err.problem


def test_quota_limits_that_hold() -> None:
    terminals = [person(1, "p1"), person(2, "p2"), person(3, "p2", status="suspended")]  # suspended do not count
    terminals += [person(10 + i, "pp", "person-presented") for i in range(3)]
    terminals += [person(20 + i, "co", "legal-entity") for i in range(10)]
    terminals += [person(40 + i, "grid", "critical") for i in range(50)]
    terminals += [person(100 + i, "army", "military") for i in range(20)]  # no quota rule: a separate process
    parse_policy({"quotas": QUOTAS, "terminals": terminals})
    err = error_of({"quotas": QUOTAS, "terminals": [*terminals, person(13, "pp", "person-presented")]})
    assert "account 'pp'" in err.where and "4 active terminals" in err.problem


def test_quota_scoped_to_a_whitelist() -> None:
    q = [{"id": "ua-person", "account_type": "person", "max_terminals": 1, "whitelist": "ua-2026"}]
    ok = [person(1, "a", whitelists=["ua-2026"]), person(2, "a")]
    parse_policy({"quotas": q, "terminals": ok})
    err = error_of({"quotas": q, "terminals": [*ok, person(3, "a", whitelists=["ua-2026"])]})
    assert "on whitelist 'ua-2026'" in err.problem


def test_mixed_account_types_on_one_account() -> None:
    err = error_of({"terminals": [person(1, "a"), person(2, "a", "legal-entity")]})
    assert "account 'a'" in err.where and "legal-entity, person" in err.problem


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"geofences": [{"id": "w", "action": "whitelist-only", "countries": ["UA"]}]}, "needs whitelist"),
        ({"geofences": [{"id": "g", "action": "deny"}]}, "exactly one of geometry, file, countries"),
        ({"geofences": [{**fence("g"), "action": "block"}]}, "'deny', 'whitelist-only' or 'allow'"),
        (
            {
                "speed_caps": [
                    {
                        "id": "s",
                        "max_speed_kmh": 90,
                        "active_from": "2026-02-01T00:00:00Z",
                        "active_until": "2026-01-01T00:00:00Z",
                    }
                ]
            },
            "not after active_from",
        ),
        ({"mobility": [{"id": "m", "service_class": "mobile", "max_speed_kmh": -5}]}, "greater than 0"),
        (
            {"mobility": [{"id": "a", "service_class": "mobile"}, {"id": "b", "service_class": "mobile"}]},
            "one rule each",
        ),
        ({"licences": [{"id": "l", "countries": ["UA"], "typo": 1}]}, "Extra inputs are not permitted"),
    ],
)
def test_other_field_errors(data: dict[str, Any], words: str) -> None:
    err = error_of(data)
    assert words in err.problem


def test_config_alone_validates_without_files() -> None:
    cfg = parse_policy_config({"geofences": [{"id": "f", "action": "deny", "file": "nowhere.geojson"}]})
    assert cfg.geofences[0].file == "nowhere.geojson"
    err = error_of({"geofences": [{"id": "f", "action": "deny", "file": "nowhere.geojson"}]})
    assert "nowhere.geojson ([policy.geofences] f)" in err.where and "cannot read" in err.problem


def test_a_whitelist_no_terminal_carries_is_an_error_naming_the_closest() -> None:
    fence_wl = {"id": "ua-wl", "action": "whitelist-only", "whitelist": "ua-2062", "countries": ["UA"]}
    terminals = [person(1, "a", whitelists=["ua-2026"]), person(2, "b", whitelists=["frontline"])]
    err = error_of({"geofences": [fence_wl], "terminals": terminals})
    assert "geofences[0] (id 'ua-wl').whitelist" in err.where
    assert "'ua-2062'" in err.problem and "closest known whitelist is 'ua-2026'" in err.problem
    # the same name carried by a terminal, or declared, is fine
    parse_policy({"geofences": [{**fence_wl, "whitelist": "ua-2026"}], "terminals": terminals})
    parse_policy({"geofences": [fence_wl], "terminals": terminals, "whitelists": ["ua-2062"]})
    # quotas are checked the same way
    q = [{"id": "q", "account_type": "person", "max_terminals": 1, "whitelist": "frontlne"}]
    err = error_of({"quotas": q, "terminals": terminals})
    assert "quotas[0] (id 'q').whitelist" in err.where and "'frontline'" in err.problem
    err = error_of({"geofences": [fence_wl]})
    assert "no terminal is on any whitelist" in err.problem
