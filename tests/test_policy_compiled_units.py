"""``leonet.policy.compiled``: regions, the country table with overrides, file resolution, overlap checks, the
table of denial causes and the registry arrays.

References: shapely (``contains_xy`` by brute force over random points for the polygon regions; a point on an
edge is outside, the ``contains_xy`` convention the module documents), the documented rules written out (half-open
time windows ``[active_from, active_until)``; "overlap" means interiors meet, so touching regions do not; the
registry sorted by terminal id; ``builtin:NAME`` names a plain file of ``leonet/data``), and Natural Earth's
country codes from :func:`leonet.policy.borders.country_codes` for points far from any override.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely

from leonet.errors import InputError
from leonet.policy import parse_policy, parse_policy_config
from leonet.policy.borders import borders, country_codes
from leonet.policy.compiled import (
    builtin_region,
    compile_policy,
    load_geojson_geometry,
    polygon_of_ring,
    region_of,
    resolve_geometries,
    served_file_problem,
)


def box(x0: float, y0: float, x1: float, y1: float) -> list[list[list[float]]]:
    return [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]


def fence(fid: str, coords: Any, **kw: Any) -> dict[str, Any]:
    return {"id": fid, "action": "deny", "geometry": {"type": "Polygon", "coordinates": coords}, **kw}


def test_polygon_region_contains_exactly_what_shapely_contains() -> None:
    """Random points, and points on the edges and vertices (outside), against shapely.contains_xy."""
    rng = np.random.default_rng(3)
    shapes = [
        shapely.Polygon([(30, 45), (31, 45), (31, 46), (30, 46)]),  # square
        shapely.Polygon([(0, 0), (20, 0), (20, 0.5), (0, 0.5)]),  # long and thin along lon
        shapely.Polygon([(0, 0), (0.2, 0), (0.2, 15), (0, 15)]),  # long and thin along lat
        shapely.MultiPolygon([shapely.box(-5, -5, -4, -4), shapely.box(5, 5, 7, 6)]),
        shapely.Point(10, 10).buffer(3, quad_segs=16).difference(shapely.Point(10, 10).buffer(1)),  # a ring
        shapely.Polygon([(0, 0), (1e-7, 0), (1e-7, 1e-7), (0, 1e-7)]),  # tiny
    ]
    for geom in shapes:
        reg = region_of("r", geom)
        x0, y0, x1, y1 = geom.bounds
        wx, wy = max(x1 - x0, 1e-6), max(y1 - y0, 1e-6)
        lon = rng.uniform(x0 - 0.1 * wx, x1 + 0.1 * wx, 4000)
        lat = rng.uniform(y0 - 0.1 * wy, y1 + 0.1 * wy, 4000)
        edge = shapely.get_coordinates(shapely.segmentize(shapely.boundary(geom), max(wx, wy) / 50))
        lon, lat = np.r_[lon, edge[:, 0]], np.r_[lat, edge[:, 1]]
        got = reg.contains(lat, lon, np.zeros(lat.size, np.int16))
        want = shapely.contains_xy(geom, lon, lat)
        assert np.array_equal(got, want), geom.wkt[:60]
        assert reg.geometry is geom and reg.countries is None and reg.rule_id == "r"


def test_country_region_is_its_mask() -> None:
    pol = parse_policy({"geofences": [{"id": "ua", "action": "deny", "countries": ["UA", "PL"]}]})
    reg = pol.geofences[0]
    codes = pol.codes
    assert reg.grid is None and reg.countries is not None
    assert np.flatnonzero(reg.countries).tolist() == sorted([codes.index("UA"), codes.index("PL")])
    idx = np.array([codes.index("UA"), codes.index("RU"), 0, codes.index("PL")], np.int16)
    assert reg.contains(np.zeros(4), np.zeros(4), idx).tolist() == [True, False, False, True]
    # its geometry is the union of the two countries' land (Natural Earth), as borders() gives it
    assert pol.geometries["ua"].equals(borders().geometry(["UA", "PL"]))


def test_country_overrides_apply_in_order_inside_their_region_only() -> None:
    """Inside an override the point is in the override's country; elsewhere Natural Earth's country."""
    pol = parse_policy(
        {
            "country_overrides": [
                {"id": "o1", "country": "UA", "geometry": {"type": "Polygon", "coordinates": box(30, 52, 32, 54)}},
                {"id": "o2", "country": "FR", "geometry": {"type": "Polygon", "coordinates": box(10, 50, 12, 52)}},
            ]
        }
    )
    lat = np.array([53.0, 51.0, 48.85, 40.0, 53.0])
    lon = np.array([31.0, 11.0, 2.35, -100.0, 30.0])  # the last on o1's edge: outside it
    want = country_codes(lat, lon).copy()
    assert want.tolist() == ["BY", "DE", "FR", "US", "BY"]  # Natural Earth, the premise of the test
    want[0], want[1] = "UA", "FR"
    assert pol.country_codes(lat, lon).tolist() == want.tolist()
    assert pol.country_index(lat, lon).dtype == np.int16
    assert pol.index_of_class(None) == -1


def test_builtin_names_are_plain_files_of_leonet_data(tmp_path: Path) -> None:
    ok = "builtin:geofence_regions.geojson"
    assert served_file_problem(ok, tmp_path) is None
    for bad in ("builtin:", "builtin:../pyproject.toml", "builtin:sub/x.geojson", "builtin:a\\b", "builtin:.hidden"):
        problem = served_file_problem(bad, tmp_path)
        assert problem is not None and problem.startswith(f"got {bad!r}; expected builtin:NAME"), bad
    assert "no such file" in str(served_file_problem("builtin:nope.geojson", tmp_path))
    cfg = parse_policy_config({"geofences": [{"id": "f", "action": "deny", "file": "builtin:../x"}]})
    with pytest.raises(InputError, match="not a built-in file"):
        resolve_geometries(cfg, tmp_path)


def test_served_files_stay_inside_the_scenario_directory(tmp_path: Path) -> None:
    inner = tmp_path / "scen"
    inner.mkdir()
    (inner / "a.geojson").write_text("{}")
    (inner / "sub").mkdir()
    (tmp_path / "outside.geojson").write_text("{}")
    os.symlink(tmp_path / "outside.geojson", inner / "link.geojson")
    assert served_file_problem("a.geojson", inner) is None
    assert served_file_problem(str(inner / "a.geojson"), inner) is None
    assert served_file_problem("sub/../a.geojson", inner) is None
    for name in ("../outside.geojson", str(tmp_path / "outside.geojson"), "link.geojson", "/dev/zero", "/etc/passwd"):
        assert "outside the scenario's directory" in str(served_file_problem(name, inner)), name
    assert "outside" in str(served_file_problem("../missing.geojson", inner))  # same answer, exists or not
    assert "no such file" in str(served_file_problem("missing.geojson", inner))
    assert "no such file" in str(served_file_problem("sub", inner))  # a directory is not a file
    for bad in (None, 3, "a\x00b"):
        problem = served_file_problem(bad, inner)  # type: ignore[arg-type]
        assert problem is not None and problem.startswith("got ") and "expected builtin:NAME" in problem


def test_resolve_geometries_reads_files_relative_to_base_dir(tmp_path: Path) -> None:
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"k": "a"},
                "geometry": {"type": "Polygon", "coordinates": box(0, 0, 1, 1)},
            },
            {
                "type": "Feature",
                "properties": {"k": "b"},
                "geometry": {"type": "Polygon", "coordinates": [box(0, 0, 1, 1)[0][:4]]},
            },
        ],
    }
    (tmp_path / "r.geojson").write_text(json.dumps(doc))
    data = {
        "geofences": [
            {"id": "f", "action": "deny", "file": "r.geojson", "feature": {"k": "a"}},
            fence("g", box(5, 5, 6, 6), priority=1),
        ],
        "country_overrides": [{"id": "o", "country": "UA", "file": str(tmp_path / "r.geojson"), "feature": {"k": "a"}}],
    }
    geoms = resolve_geometries(parse_policy_config(data), tmp_path)
    assert set(geoms) == {"f", "g", "o"}
    assert geoms["f"].equals(shapely.box(0, 0, 1, 1)) and geoms["o"].equals(shapely.box(0, 0, 1, 1))
    assert geoms["g"].equals(shapely.box(5, 5, 6, 6))
    bad = {"country_overrides": [{"id": "o", "country": "UA", "file": "r.geojson", "feature": {"k": "b"}}]}
    with pytest.raises(InputError) as info:
        resolve_geometries(parse_policy_config(bad), tmp_path)
    assert info.value.where.endswith("feature 1 (k=b) ring 0 ([policy.country_overrides] o)")
    with pytest.raises(InputError) as info:
        parse_policy(bad, source="s.toml", base_dir=tmp_path)
    assert info.value.where.endswith("feature 1 (k=b) ring 0 ([policy.country_overrides] o)")
    assert not info.value.where.startswith("s.toml")  # the file is named, not the scenario


def test_builtin_region_and_polygon_of_ring() -> None:
    crimea = builtin_region("crimea")
    from leonet.policy.compiled import _builtin_path

    ref = load_geojson_geometry(_builtin_path("builtin:geofence_regions.geojson"), {"region_id": "crimea"})
    assert crimea.equals(ref) and shapely.contains_xy(crimea, 34.1, 44.95)  # Simferopol
    with pytest.raises(InputError, match=r"unknown region 'crimee' \(did you mean crimea\?\); expected one of crimea"):
        builtin_region("crimee")
    open_ring = [(30.0, 45.0), (31.0, 45.0), (31.0, 46.0)]
    tri = polygon_of_ring(open_ring)
    assert tri.equals(shapely.Polygon(open_ring))
    assert polygon_of_ring([*open_ring, open_ring[0]]).equals(tri)
    assert len(shapely.get_coordinates(polygon_of_ring([*open_ring, open_ring[0]]))) == 4
    with pytest.raises(InputError, match="ring has 0 positions"):
        polygon_of_ring([])


def _overlap_error(data: dict[str, Any]) -> str | None:
    try:
        parse_policy(data)
    except InputError as exc:
        return exc.problem
    return None


def test_equal_priority_overlaps_in_space_and_time_are_errors() -> None:
    """Half-open windows: [a, b) and [b, c) do not overlap; regions that only touch do not overlap."""
    t = [datetime(2025, m, 1, tzinfo=UTC).isoformat() for m in (1, 2, 3, 4)]
    a = fence("a", box(0, 0, 2, 2))
    b = {**fence("b", box(1, 1, 3, 3)), "action": "allow"}
    msg = _overlap_error({"geofences": [a, b]})
    assert msg is not None and "geofences 'a' (deny) and 'b' (allow) overlap with equal priority 0" in msg
    assert _overlap_error({"geofences": [a, {**b, "priority": 1}]}) is None
    assert _overlap_error({"geofences": [a, {**b, "action": "deny"}]}) is None  # same action: no conflict
    touch = {**fence("b", box(2, 0, 4, 2)), "action": "allow"}
    assert _overlap_error({"geofences": [a, touch]}) is None
    # time windows
    aw = {**a, "active_from": t[0], "active_until": t[1]}
    assert _overlap_error({"geofences": [aw, {**b, "active_from": t[1]}]}) is None
    assert _overlap_error({"geofences": [aw, {**b, "active_until": t[0]}]}) is None
    assert _overlap_error({"geofences": [aw, {**b, "active_from": t[0], "active_until": t[2]}]}) is not None
    assert _overlap_error({"geofences": [aw, {**b, "active_until": t[1]}]}) is not None
    assert _overlap_error({"geofences": [aw, b]}) is not None
    assert _overlap_error({"geofences": [{**a, "active_from": t[2]}, {**b, "active_until": t[3]}]}) is not None
    assert _overlap_error({"geofences": [{**a, "active_until": t[2]}, {**b, "active_until": t[3]}]}) is not None
    # whitelist-only fences of different whitelists conflict; the message names the whitelist
    wl = {"whitelists": ["w1", "w2"]}
    wa = {**a, "action": "whitelist-only", "whitelist": "w1"}
    wb = {**b, "action": "whitelist-only", "whitelist": "w2"}
    msg = _overlap_error({**wl, "geofences": [wa, wb]})
    assert msg is not None and "'a' (whitelist-only w1) and 'b' (whitelist-only w2)" in msg
    assert _overlap_error({**wl, "geofences": [wa, {**wb, "whitelist": "w1"}]}) is None
    # the third fence against the first: every pair is checked
    c = fence("c", box(10, 10, 11, 11))
    msg = _overlap_error({"geofences": [a, c, {**b, "id": "d"}]})
    assert msg is not None and "'a' (deny) and 'd' (allow)" in msg
    msg = _overlap_error({"geofences": [c, a, {**b, "id": "d"}]})
    assert msg is not None and "'a' (deny) and 'd' (allow)" in msg
    # a pair is named in policy order, the earlier fence first
    msg = _overlap_error({"geofences": [a, b, c]})
    assert msg is not None and "'a' (deny) and 'b' (allow)" in msg


def test_country_overrides_of_different_countries_must_not_overlap() -> None:
    def ov(oid: str, country: str, coords: Any) -> dict[str, Any]:
        return {"id": oid, "country": country, "geometry": {"type": "Polygon", "coordinates": coords}}

    msg = _overlap_error({"country_overrides": [ov("o", "UA", box(0, 0, 2, 2)), ov("p", "FR", box(1, 1, 3, 3))]})
    assert msg is not None and "country overrides 'o' (UA) and 'p' (FR) overlap" in msg
    assert (
        _overlap_error({"country_overrides": [ov("o", "UA", box(0, 0, 2, 2)), ov("p", "UA", box(1, 1, 3, 3))]}) is None
    )
    assert (
        _overlap_error({"country_overrides": [ov("o", "UA", box(0, 0, 2, 2)), ov("p", "FR", box(2, 0, 3, 3))]}) is None
    )
    three = [ov("o", "UA", box(0, 0, 2, 2)), ov("q", "UA", box(9, 9, 10, 10)), ov("p", "FR", box(1, 1, 3, 3))]
    assert "'o' (UA) and 'p' (FR)" in str(_overlap_error({"country_overrides": three}))
    three = [ov("o", "UA", box(0, 0, 2, 2)), ov("p", "FR", box(1, 1, 3, 3)), ov("q", "UA", box(9, 9, 10, 10))]
    assert "'o' (UA) and 'p' (FR)" in str(_overlap_error({"country_overrides": three}))


def test_causes_table_in_evaluation_order() -> None:
    """The documented order: unregistered, suspended, geofences, one no-licence per country (from
    licence_base, in the country table's order), service bans, speed caps, motion bans, mobility."""
    data = {
        "whitelists": ["wl"],
        "geofences": [
            fence("g-deny", box(0, 0, 1, 1)),
            {**fence("g-wl", box(5, 5, 6, 6)), "action": "whitelist-only", "whitelist": "wl"},
            {**fence("g-allow", box(8, 8, 9, 9)), "action": "allow"},
        ],
        "service_bans": [
            {"id": "sb", "service_classes": ["military", "drone"], "countries": ["UA"]},
            {"id": "sb2", "service_classes": ["drone"]},
        ],
        "speed_caps": [
            {"id": "cap", "max_speed_kmh": 75.5, "countries": ["UA", "PL"]},
            {"id": "cap2", "max_speed_kmh": 100},
        ],
        "motion_bans": [{"id": "mb", "countries": ["JP", "MX"]}],
        "mobility": [
            {
                "id": "m-fixed",
                "service_class": "fixed",
                "in_motion": False,
                "max_speed_kmh": 5,
                "max_altitude_m": 100,
                "roaming_days": 60,
            },
            {"id": "m-mobile", "service_class": "mobile"},
        ],
    }
    pol = parse_policy(data)
    codes = pol.codes
    base = pol.licence_base
    assert base == 5  # unregistered, suspended, g-deny, g-wl x2 (an allow fence denies nothing)
    assert pol.rule_ids[:base] == ("unregistered", "suspended", "g-deny", "g-wl", "g-wl")
    assert pol.cause[("unregistered",)] == 0 and pol.cause[("suspended",)] == 1
    assert pol.cause[("geofence", "g-deny")] == 2
    assert pol.cause[("geofence", "g-wl", "unregistered")] == 3 and pol.cause[("geofence", "g-wl", "not-listed")] == 4
    assert ("geofence", "g-allow") not in pol.cause
    assert pol.reasons[3] == "inside whitelist-only geofence g-wl, and the terminal is not registered"
    assert pol.reasons[4] == "inside whitelist-only geofence g-wl, and the terminal is not on whitelist wl"
    assert pol.reasons[2] == "inside geofence g-deny (deny)"
    for i, c in enumerate(codes):
        assert pol.cause[("no-licence", c)] == base + i and pol.rule_ids[base + i] == "no-licence"
    assert pol.reasons[base] == "no licence outside every country (open sea), and the policy denies service there"
    assert (
        pol.reasons[base + codes.index("-99")]
        == "no licence for an area without an ISO 3166 code (N. Cyprus or Somaliland)"
    )
    assert pol.reasons[base + codes.index("UA")] == "no licence for UA (Ukraine)"
    assert pol.reasons[base + codes.index("TW")] == "no licence for TW (Taiwan)"
    k = base + len(codes)
    rest = [
        ("sb", "service class military / drone not served in UA (sb)"),
        ("sb2", "service class drone not served (sb2)"),
        ("cap", "speed above the 75.5 km/h cap of cap in UA, PL"),
        ("cap2", "speed above the 100 km/h cap of cap2"),
        ("mb", "in motion on land in JP, MX, banned by mb"),
        ("m-fixed", "in motion, and plan fixed (m-fixed) allows no in-motion use"),
        ("m-fixed", "speed above the 5 km/h limit of plan fixed (m-fixed)"),
        ("m-fixed", "altitude above the 100 m limit of plan fixed (m-fixed)"),
        ("m-fixed", "abroad longer than the 60-day roaming limit of plan fixed (m-fixed)"),
    ]
    assert list(zip(pol.rule_ids[k:], pol.reasons[k:], strict=True)) == rest
    assert [
        pol.cause[key]
        for key in [
            ("service-ban", "sb"),
            ("service-ban", "sb2"),
            ("speed-cap", "cap"),
            ("speed-cap", "cap2"),
            ("motion-ban", "mb"),
            ("mobility", "m-fixed", "in-motion"),
            ("mobility", "m-fixed", "speed"),
            ("mobility", "m-fixed", "altitude"),
            ("mobility", "m-fixed", "roaming"),
        ]
    ] == list(range(k, k + 9))
    assert len(pol.rule_ids) == len(pol.reasons) == k + 9 == len(pol.cause)


def test_registry_arrays_sorted_by_terminal_id() -> None:
    data = {
        "default": {"unregistered_service_class": "guest"},
        "whitelists": ["w-b", "w-a", "w-unused"],
        "geofences": [
            {**fence("f1", box(0, 0, 1, 1)), "action": "whitelist-only", "whitelist": "w-b"},
            {**fence("f2", box(5, 5, 6, 6)), "action": "whitelist-only", "whitelist": "w-a"},
        ],
        "terminals": [
            {
                "id": "K3",
                "account": "a3",
                "account_type": "military",
                "service_class": "mobile",
                "whitelists": ["w-a", "w-b"],
                "exempt_speed_cap": True,
                "registered_country": "UA",
                "abroad_since": "2025-01-02T00:00:00Z",
            },
            {"id": "K1", "account": "a1", "status": "suspended", "whitelists": ["w-b", "w-unused"]},
            {"id": "K2", "account": "a2", "account_type": "business", "registered_country": "PL"},
        ],
        "mobility": [{"id": "m", "service_class": "aviation"}],
        "service_bans": [{"id": "sb", "service_classes": ["drone"]}],
        "motion_bans": [{"id": "mb", "countries": ["JP"], "except_service_classes": ["maritime"]}],
        "speed_caps": [{"id": "c", "max_speed_kmh": 10, "exempt_account_types": ["gov"]}],
    }
    pol = parse_policy(data)
    assert pol.classes == ("aviation", "drone", "fixed", "guest", "maritime", "mobile")
    assert pol.account_types == ("business", "gov", "military", "person")
    assert pol.whitelists == ("w-a", "w-b")  # the ones geofences name, sorted
    assert pol.reg_ids.tolist() == ["K1", "K2", "K3"]
    assert pol.reg_active.tolist() == [False, True, True]
    assert pol.reg_class.tolist() == [pol.classes.index(c) for c in ("fixed", "fixed", "mobile")]
    assert pol.reg_account_type.tolist() == [pol.account_types.index(a) for a in ("person", "business", "military")]
    assert pol.reg_country.tolist() == [0, pol.codes.index("PL"), pol.codes.index("UA")]
    assert pol.reg_exempt.tolist() == [False, False, True]
    assert pol.reg_whitelist.tolist() == [[False, False, True], [True, False, True]]
    since = pol.reg_abroad_since_unix_s
    assert np.isnan(since[:2]).all() and since[2] == datetime(2025, 1, 2, tzinfo=UTC).timestamp()
    assert pol.index_of_class("mobile") == 5
    no_guest = parse_policy({"terminals": [{"id": "K", "account": "a"}]})
    assert no_guest.classes == ("fixed",)


def test_compile_policy_needs_every_geometry() -> None:
    cfg = parse_policy_config({"geofences": [fence("f", box(0, 0, 1, 1))]})
    with pytest.raises(InputError, match="no geometry was resolved") as info:
        compile_policy(cfg, {})
    assert info.value.where == "[policy.geofences] f"
    cfg = parse_policy_config(
        {
            "country_overrides": [
                {"id": "o", "country": "UA", "geometry": {"type": "Polygon", "coordinates": box(0, 0, 1, 1)}}
            ]
        }
    )
    with pytest.raises(InputError, match="no geometry was resolved") as info:
        compile_policy(cfg)
    assert info.value.where == "[policy.country_overrides] o"
    pol = compile_policy(cfg, {"o": shapely.box(0, 0, 1, 1)})
    assert pol.overrides[0].rule_id == "o" and pol.geometries["o"].equals(shapely.box(0, 0, 1, 1))
    # errors of the compile step name the source
    bad = {"geofences": [fence("a", box(0, 0, 2, 2)), {**fence("b", box(1, 1, 3, 3)), "action": "allow"}]}
    with pytest.raises(InputError) as info:
        parse_policy(bad, source="s.toml")
    assert info.value.where == "s.toml [policy.geofences]"


def test_parse_policy_applies_the_open_sea_swap_rule() -> None:
    """parse_policy runs rule 2 of leonet.policy.coverage: the Maldives written as [lat, lon] lie in the open
    Greenland Sea, and swapped they cover the Maldives; compile_policy alone does not check it."""
    maldives_swapped = [[[3.0, 72.5], [5.0, 72.5], [5.0, 74.0], [3.0, 74.0], [3.0, 72.5]]]
    with pytest.raises(InputError) as info:
        parse_policy({"geofences": [fence("mv", maldives_swapped)]}, source="s.toml")
    assert info.value.where == "s.toml [policy.geofences] mv" and "MV" in info.value.problem
    cfg = parse_policy_config({"geofences": [fence("mv", maldives_swapped)]})
    assert compile_policy(cfg, resolve_geometries(cfg)).rule_ids[2] == "mv"
