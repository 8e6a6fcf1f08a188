"""``leonet.policy.geometry``: every check of its docstring on both sides of its limit, and the feature selection.

References: RFC 7946 (positions of 2 or 3 numbers, lon -180..180 and lat -90..90 inclusive, §3.1.1 / §4; closed
rings of at least four positions, §3.1.6; a jump of more than 180 deg in longitude is a crossing of the
antimeridian, §3.1.9), written out here as the expected outcomes; shapely (``equals``, ``union_all``,
``is_valid``) for the geometries returned.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import shapely

from leonet.errors import InputError
from leonet.policy.geometry import features_geometry, geometry_from_geojson, load_geojson_geometry

SQ = [[30.0, 45.0], [31.0, 45.0], [31.0, 46.0], [30.0, 46.0], [30.0, 45.0]]


def poly(*rings: Any) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": list(rings)}


def err(obj: Any) -> InputError:
    with pytest.raises(InputError) as info:
        geometry_from_geojson(obj, "W")
    return info.value


def box(x0: float, y0: float, x1: float, y1: float) -> list[list[float]]:
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]


def test_a_position_has_two_or_three_numbers() -> None:
    """RFC 7946 §3.1.1: [lon, lat] or [lon, lat, alt]; one or four numbers, or a non-list, are refused."""
    g = geometry_from_geojson(poly([[*p, 100.0] for p in SQ]), "W")
    assert g.equals(shapely.Polygon(SQ))
    for bad in ([30.0], [30.0, 45.0, 1.0, 2.0], "30,45", 30.0):
        ring = [bad, *SQ[1:4], SQ[0]]
        e = err(poly(ring))
        assert "not a list of 2 or 3 numbers" in e.problem and e.where == "W ring 0 position 0"
    e = err(poly([SQ[0], [31.0, "45"], *SQ[2:]]))
    assert "non-numeric or non-finite" in e.problem and e.where == "W ring 0 position 1"
    e = err(poly([SQ[0], [True, 45.0], *SQ[2:]]))
    assert "non-numeric" in e.problem
    # a long position is shown cut to 77 characters and "..."; a short one whole
    long = [31.0, float("nan")]
    e = err(poly([SQ[0], long, *SQ[2:]]))
    assert "[31.0, nan]" in e.problem
    longer = [31.123456789012345, "x" * 100]
    e = err(poly([SQ[0], longer, *SQ[2:]]))
    shown = repr(longer)[:77] + "..."
    assert f"position {shown} has" in e.problem
    exact = [1.5, "y" * 70]  # repr is 79 characters: shown whole
    assert len(repr(exact)) == 79
    e = err(poly([SQ[0], exact, *SQ[2:]]))
    assert f"position {exact!r} has" in e.problem
    at80 = [1.5, "y" * 71]  # 80 characters: cut
    assert len(repr(at80)) == 80
    e = err(poly([SQ[0], at80, *SQ[2:]]))
    assert f"position {repr(at80)[:77]}... has" in e.problem
    # the altitude is a number too ("a position is an array of numbers")
    for alt in ("high", None, float("inf")):
        e = err(poly([SQ[0], [31.0, 45.0, alt], *SQ[2:]]))
        assert "non-numeric or non-finite" in e.problem and e.where == "W ring 0 position 1"


def test_latitude_and_longitude_limits_are_inclusive() -> None:
    """RFC 7946 §4: lon -180..180 and lat -90..90, both ends allowed; just beyond is an error naming the value."""
    g = geometry_from_geojson(poly(box(170.0, 80.0, 180.0, 90.0)), "W")
    assert g.bounds == (170.0, 80.0, 180.0, 90.0)
    g = geometry_from_geojson(poly(box(-180.0, -90.0, -170.0, -80.0)), "W")
    assert g.bounds == (-180.0, -90.0, -170.0, -80.0)
    e = err(poly(box(170.0, 80.0, 180.5, 85.0)))
    assert e.problem == "longitude 180.5 is out of range; expected -180..180" and e.where == "W"
    e = err(poly(box(-180.5, 80.0, -170.0, 85.0)))
    assert "longitude -180.5 is out of range" in e.problem
    # a first value beyond +-90 rules out a swap: plain "latitude out of range", naming the first bad one
    e = err(poly(box(100.0, 80.0, 101.0, 90.5)))
    assert e.problem == "latitude 90.5 is out of range; expected -90..90"
    e = err(poly(box(100.0, -91.0, 101.0, 80.0)))
    assert "latitude -91 is out of range" in e.problem


def test_swapped_axes_need_every_first_value_within_90() -> None:
    """§3.1.1 order: a latitude beyond +-90 with every first value within +-90 (90 itself included) reads as
    [lat, lon]; one first value beyond 90 and it is a plain out-of-range latitude."""
    e = err(poly(box(10.0, 100.0, 90.0, 120.0)))
    assert "look like [lat, lon]" in e.problem and "second value is 100" in e.problem
    assert "(position [10, 100])" in e.problem
    e = err(poly(box(-90.0, 100.0, 20.0, 120.0)))
    assert "look like [lat, lon]" in e.problem and "(position [-90, 100])" in e.problem
    e = err(poly(box(10.0, 100.0, 90.5, 120.0)))
    assert e.problem.startswith("latitude 100 is out of range")
    # the first offending position is the one shown
    ring = [[10.0, 20.0], [11.0, 20.0], [11.0, 95.0], [10.0, 96.0], [10.0, 20.0]]
    e = err(poly(ring))
    assert "(position [11, 95])" in e.problem


def test_a_ring_has_at_least_four_positions_and_is_closed() -> None:
    """§3.1.6: at least four positions, the last repeating the first; a closed triangle (4) is enough."""
    tri = [[30.0, 45.0], [31.0, 45.0], [30.5, 46.0], [30.0, 45.0]]
    assert geometry_from_geojson(poly(tri), "W").equals(shapely.Polygon(tri))
    e = err(poly(tri[:3]))
    assert e.problem.startswith("ring has 3 positions; expected at least 4") and e.where == "W ring 0"
    e = err(poly(SQ[:4]))
    assert "not closed" in e.problem and "first position [30, 45], last [30, 46]" in e.problem


def test_the_antimeridian_rule_is_a_jump_of_more_than_180() -> None:
    """§3.1.9: consecutive longitudes more than 180 deg apart cross the antimeridian; exactly 180 does not."""
    ring = [[-90.0, 0.0], [90.0, 0.0], [90.0, 10.0], [-90.0, 10.0], [-90.0, 0.0]]
    assert geometry_from_geojson(poly(ring), "W").equals(shapely.Polygon(ring))
    ring = [[-90.0, 0.0], [90.5, 0.0], [90.5, 10.0], [-90.0, 10.0], [-90.0, 0.0]]
    e = err(poly(ring))
    assert "crosses the antimeridian between positions 0 and 1 (lon -90 to 90.5)" in e.problem
    ring = [[10.0, 0.0], [20.0, 0.0], [-170.0, 10.0], [10.0, 10.0], [10.0, 0.0]]
    e = err(poly(ring))
    assert "between positions 1 and 2 (lon 20 to -170)" in e.problem


def test_self_intersection_holes_and_multipolygons() -> None:
    """Simple rings (shapely.is_simple), valid polygons and non-overlapping multipolygons (shapely.is_valid)."""
    bow = [[30.0, 45.0], [31.0, 46.0], [31.0, 45.0], [30.0, 46.0], [30.0, 45.0]]
    e = err(poly(bow))
    assert "intersects itself" in e.problem and e.where == "W ring 0"
    e = err(poly(SQ, bow))
    assert "intersects itself" in e.problem and e.where == "W ring 1"
    hole = box(30.25, 45.25, 30.75, 45.75)
    g = geometry_from_geojson(poly(SQ, hole), "W")
    assert g.equals(shapely.Polygon(SQ, [hole])) and g.area == pytest.approx(0.75)
    e = err(poly(SQ, box(40.0, 40.0, 41.0, 41.0)))
    assert e.problem.startswith("polygon is invalid") and e.where == "W"
    multi = {"type": "MultiPolygon", "coordinates": [[SQ], [box(32.0, 45.0, 33.0, 46.0)]]}
    g = geometry_from_geojson(multi, "W")
    assert g.geom_type == "MultiPolygon" and g.equals(
        shapely.union_all([shapely.Polygon(SQ), shapely.box(32, 45, 33, 46)])
    )
    overlap = {"type": "MultiPolygon", "coordinates": [[SQ], [box(30.5, 45.0, 33.0, 46.0)]]}
    e = err(overlap)
    assert e.problem.startswith("multipolygon is invalid") and e.where == "W"
    bad_part = {"type": "MultiPolygon", "coordinates": [[SQ], [SQ[:4]]]}
    assert err(bad_part).where == "W polygon 1 ring 0"
    inv_part = {"type": "MultiPolygon", "coordinates": [[SQ], [box(32, 45, 33, 46), box(40, 40, 41, 41)]]}
    assert err(inv_part).where == "W polygon 1"


def test_objects_that_are_not_polygons() -> None:
    assert "geometry is list" in err([SQ]).problem
    assert "cannot be a region" in err({"type": "LineString", "coordinates": SQ}).problem
    assert "'coordinates' is missing or empty" in err({"type": "Polygon", "coordinates": []}).problem
    assert "'coordinates' is missing" in err({"type": "Polygon"}).problem
    e = err({"type": "MultiPolygon", "coordinates": [[SQ], []]})
    assert "polygon has no rings" in e.problem and e.where == "W polygon 1"
    e = err({"type": "Polygon", "coordinates": [SQ, "ring"]})
    assert e.problem.startswith("ring is str") and e.where == "W ring 1"


def feat(props: Any, ring: list[list[float]] | None = None) -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": poly(ring or SQ) if ring is not False else None}


def test_feature_selection() -> None:
    """Features chosen by every property of the selector (compared as text); several chosen: their union
    (shapely.union_all as the reference); none chosen / several for one selector: errors."""
    a, b = box(0.0, 0.0, 1.0, 1.0), box(2.0, 0.0, 3.0, 1.0)
    doc = {
        "type": "FeatureCollection",
        "features": [feat({"id": 1, "k": "x"}, a), feat({"id": 2, "k": "x"}, b), feat({"id": 3}, box(5, 5, 6, 6))],
    }
    g = features_geometry(doc, "D", {"id": "2"})
    assert g.equals(shapely.Polygon(b))
    g = features_geometry(doc, "D", {"id": 1, "k": "x"})
    assert g.equals(shapely.Polygon(a))
    with pytest.raises(InputError, match=r"no feature has id = 2, k = 'y'; expected one of id = 1, 2, 3"):
        features_geometry(doc, "D", {"id": 2, "k": "y"})
    with pytest.raises(InputError, match=r"2 features have k = 'x' \(features \[0, 1\]\); expected one"):
        features_geometry(doc, "D", {"k": "x"})
    g = features_geometry(doc, "D")
    assert g.equals(shapely.union_all([shapely.Polygon(a), shapely.Polygon(b), shapely.box(5, 5, 6, 6)]))
    two = {"type": "FeatureCollection", "features": [feat({"id": 1}, a), feat({"id": 2}, b)]}
    assert features_geometry(two, "D").equals(shapely.union_all([shapely.Polygon(a), shapely.Polygon(b)]))
    one = {"type": "FeatureCollection", "features": [feat({"id": 1}, a)]}
    assert features_geometry(one, "D").equals(shapely.Polygon(a))
    assert features_geometry(feat({"id": 1}, a), "D").equals(shapely.Polygon(a))
    assert features_geometry(feat({"id": 1}, a), "D", {"id": 1}).equals(shapely.Polygon(a))
    with pytest.raises(InputError, match="no feature has id = 2"):
        features_geometry(feat({"id": 1}, a), "D", {"id": 2})
    # an empty selector selects every feature, as None does
    assert features_geometry(one, "D", {}).equals(shapely.Polygon(a))
    with pytest.raises(InputError, match="has no features"):
        features_geometry({"type": "FeatureCollection", "features": []}, "D")
    with pytest.raises(InputError, match="has no features"):
        features_geometry({"type": "FeatureCollection", "features": []}, "D", {})


def test_feature_errors_name_the_feature() -> None:
    doc = {"type": "FeatureCollection", "features": [feat({"id": 1}), feat({"id": 2}, box(0, 0, 1, 1)[:4])]}
    with pytest.raises(InputError) as info:
        features_geometry(doc, "D", {"id": 2})
    assert info.value.where == "D feature 1 (id=2) ring 0"
    with pytest.raises(InputError) as info:
        features_geometry(doc, "D")
    assert info.value.where == "D feature 1 ring 0"
    with pytest.raises(InputError) as info:
        features_geometry(feat({"id": 2}, box(0, 0, 1, 1)[:4]), "D")
    assert info.value.where == "D feature 0 ring 0"  # a bare Feature is feature 0
    nogeo = {"type": "FeatureCollection", "features": [feat({"id": 1}, False)]}
    with pytest.raises(InputError, match="feature has no geometry"):
        features_geometry(nogeo, "D")
    with pytest.raises(InputError, match="feature has no geometry"):
        features_geometry({"type": "FeatureCollection", "features": ["text"]}, "D")
    with pytest.raises(InputError, match="'features' is not a list"):
        features_geometry({"type": "FeatureCollection", "features": {}}, "D")
    with pytest.raises(InputError, match="not a GeoJSON object"):
        features_geometry([], "D")
    with pytest.raises(InputError, match="GeoJSON type 'Point'"):
        features_geometry({"type": "Point", "coordinates": [0, 0]}, "D")
    bare = poly(SQ)
    assert features_geometry(bare, "D").equals(shapely.Polygon(SQ))
    assert features_geometry(bare, "D", {}).equals(shapely.Polygon(SQ))
    with pytest.raises(InputError, match="a bare geometry has no properties"):
        features_geometry(bare, "D", {"id": 1})
    multi = {"type": "MultiPolygon", "coordinates": [[SQ]]}
    assert features_geometry(multi, "D").equals(shapely.Polygon(SQ))


def test_load_geojson_geometry(tmp_path: Path) -> None:
    p = tmp_path / "f.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": [feat({"r": "a"})]}), encoding="utf-8")
    assert load_geojson_geometry(p, {"r": "a"}).equals(shapely.Polygon(SQ))
    assert load_geojson_geometry(str(p)).equals(shapely.Polygon(SQ))
    q = tmp_path / "bad.geojson"
    q.write_bytes(b"\xff\xfe{")
    with pytest.raises(InputError, match=r"cannot read it \(UnicodeDecodeError\)"):
        load_geojson_geometry(q)
    with pytest.raises(InputError, match=r"cannot read it \(FileNotFoundError\)"):
        load_geojson_geometry(tmp_path / "none.geojson")
