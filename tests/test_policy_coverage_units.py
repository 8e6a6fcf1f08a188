"""``leonet.policy.coverage``: the geodesic area, the country shares, the coverage text, the open-sea test and
the two swapped-axes rules, each at its limit.

References: the closed-form area of a WGS-84 ellipsoid lune between the equator and the pole (edges along the
equator and meridians, all geodesics): ``A/2 * dlon/360`` with the ellipsoid's area
``A = 2 pi a^2 (1 + (1 - e^2)/e atanh e)``; shapely intersections with the countries' polygons for the shares;
the territorial sea's breadth (12 nmi = 22.224 km, UNCLOS art. 3) measured with ``pyproj.Geod`` for the
open-sea test, against synthetic land put in place of the shipped borders; the rules of the module docstring.
"""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import numpy as np
import pyproj
import pytest
import shapely

from leonet.errors import InputError
from leonet.policy import borders as borders_mod
from leonet.policy import coverage, parse_policy
from leonet.policy.borders import TERRITORIAL_SEA_KM, Coasts, borders
from leonet.policy.coverage import (
    Coverage,
    _at_open_sea,
    check_geofence_axes,
    country_shares,
    geodesic_area_km2,
)
from leonet.tracks import TrackSet, make_track

GEOD = pyproj.Geod(ellps="WGS84")


def fence(coords: list[list[float]], fid: str = "g", **kw: Any) -> dict[str, Any]:
    return {"id": fid, "action": "deny", "geometry": {"type": "Polygon", "coordinates": [coords]}, **kw}


def box(x0: float, y0: float, x1: float, y1: float) -> list[list[float]]:
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]


def _lune_km2(dlon_deg: float) -> float:
    a = 6378.137
    f = 1 / 298.257223563
    e2 = f * (2 - f)
    e = math.sqrt(e2)
    whole = 2 * math.pi * a * a * (1 + (1 - e2) / e * math.atanh(e))
    return whole / 2 * dlon_deg / 360


def test_geodesic_area_of_lunes_in_either_orientation_and_of_parts() -> None:
    lune = shapely.Polygon([(0, 0), (10, 0), (10, 90), (0, 90)])
    assert geodesic_area_km2(lune) == pytest.approx(_lune_km2(10), rel=1e-9)
    clockwise = shapely.Polygon([(0, 0), (0, 90), (10, 90), (10, 0)])
    assert geodesic_area_km2(clockwise) == pytest.approx(_lune_km2(10), rel=1e-9)
    south = shapely.Polygon([(20, 0), (20, -90), (50, -90), (50, 0)])
    both = shapely.MultiPolygon([lune, south])
    assert geodesic_area_km2(both) == pytest.approx(_lune_km2(40), rel=1e-9)
    # a thin lune of 7.08 km2, to 0.01 m2 (a 1 m2 error would show)
    thin = shapely.Polygon([(0, 0), (1e-5, 0), (1e-5, 90), (0, 90)])
    assert abs(geodesic_area_km2(thin) - _lune_km2(1e-5)) < 1e-8


def test_country_shares_against_shapely_intersections() -> None:
    """A box over the Poland / Germany / Czechia border area: each share is the land of that country inside the
    box over the box's area (planar lon/lat, as documented), largest first; the sea share is the rest."""
    geom = shapely.box(12.0, 49.0, 20.0, 55.5)  # reaches the Baltic
    shares, sea = country_shares(geom)
    b = borders()
    want = {}
    for code in ("PL", "DE", "CZ", "SK", "LT", "RU", "DK", "SE", "AT"):
        a = shapely.area(shapely.intersection(b.geometry([code]), geom)) / geom.area
        if a > 0:
            want[code] = a
    got = dict(shares)
    assert set(want) <= set(got)
    for code, a in want.items():
        assert got[code] == pytest.approx(a, rel=1e-9), code
    values = [s for _, s in shares]
    assert values == sorted(values, reverse=True) and shares[0][0] == "PL"
    assert sea == pytest.approx(1 - sum(values), abs=1e-12) and 0.05 < sea < 0.3
    # a fence that only touches a country (a vertex of Malta's easternmost point) covers none of its land
    mt = b.geometry(["MT"])
    xy = shapely.get_coordinates(mt)
    x, y = xy[np.argmax(xy[:, 0])]
    touch = shapely.Polygon([(x, y), (x + 0.1, y + 0.05), (x + 0.1, y - 0.05)])
    assert shapely.intersects(touch, mt) and shapely.area(shapely.intersection(touch, mt)) == 0
    assert country_shares(touch) == ((), 1.0)
    # no area: no countries, all sea; a box inside one country: that country only, no sea
    assert country_shares(shapely.LineString([(12, 50), (13, 51)])) == ((), 1.0)
    inland = shapely.box(18.0, 51.5, 19.0, 52.5)  # central Poland
    shares, sea = country_shares(inland)
    assert shares == (("PL", pytest.approx(1.0)),) and sea == pytest.approx(0.0, abs=1e-12) and sea >= 0.0


def test_coverage_text() -> None:
    """Shares as whole percent ("<1%" below half a percent), at most ``limit`` countries then "N more", the sea
    share when it is at least half a percent, "sea" when nothing else."""
    c = Coverage("g", 1.0, (("UA", 0.6), ("PL", 0.3), ("ZZ", 0.004)), 0.096)
    assert c.text() == "UA (Ukraine) 60%, PL (Poland) 30%, ZZ <1%, sea 10%"
    assert c.text(limit=2) == "UA (Ukraine) 60%, PL (Poland) 30%, 1 more, sea 10%"
    assert c.text(limit=3) == "UA (Ukraine) 60%, PL (Poland) 30%, ZZ <1%, sea 10%"
    # half a percent formats as "0%" (f"{0.005:.0%}"): it is shown as "<1%", and a sea share of it left out
    assert Coverage("g", 1.0, (("UA", 0.005),), 0.004).text() == "UA (Ukraine) <1%"
    assert Coverage("g", 1.0, (("UA", 0.0051),), 0.004).text() == "UA (Ukraine) 1%"
    assert Coverage("g", 1.0, (("UA", 0.995),), 0.005).text() == "UA (Ukraine) 100%"
    assert Coverage("g", 1.0, (("UA", 0.99),), 0.0051).text() == "UA (Ukraine) 99%, sea 1%"
    assert Coverage("g", 1.0, (), 1.0).text() == "sea 100%"
    assert Coverage("g", 1.0, (), 0.0).text() == "sea"
    # six countries by default, then "N more"
    seven = tuple((code, 0.1) for code in ("UA", "PL", "RO", "MD", "HU", "SK", "BY"))
    assert Coverage("g", 1.0, seven, 0.3).text().endswith("SK (Slovakia) 10%, 1 more, sea 30%")
    assert Coverage("g", 1.0, seven[:6], 0.4).text().endswith("SK (Slovakia) 10%, sea 40%")


def _fake_land(monkeypatch: pytest.MonkeyPatch, land: shapely.Geometry) -> None:
    """Synthetic land (country "XX") in place of the shipped borders, for the open-sea and reach tests."""
    parts = np.array(shapely.get_parts(land), dtype=object)
    monkeypatch.setattr(borders_mod, "_sea_cells", lambda *a: np.zeros((1, 1), np.int16))  # only nearest() reads it
    fake = SimpleNamespace(
        parts=parts,
        part_code=np.ones(len(parts), np.int16),
        codes=("", "XX"),
        coasts=Coasts.of(parts, np.ones(len(parts), np.int16)),
    )
    monkeypatch.setattr(coverage, "borders", lambda: fake)


def _gap_km(a: shapely.Geometry, b: shapely.Geometry) -> float:
    """Geodesic distance between the nearest points of two lon/lat shapes (found in the plane, measured by
    pyproj.Geod: for the shapes here they are the facing corners / edges)."""
    p, q = shapely.ops.nearest_points(a, b)
    return float(GEOD.inv(p.x, p.y, q.x, q.y)[2]) / 1000


#: The documented margin (coverage's docstrings): "yes" only when no land is within the breadth plus half a
#: boundary step, 0.5 km, of a sample (written out here, not read from the module).
STEP_KM = 1.0
REACH_KM = TERRITORIAL_SEA_KM + STEP_KM / 2


def _moved_to(geom: shapely.Geometry, land: shapely.Geometry, gap_km: float, dx: float, dy: float) -> shapely.Geometry:
    """``land`` translated along (dx, dy) deg until its geodesic gap to ``geom`` is ``gap_km`` (bisection)."""
    lo, hi = -1.0, 1.0
    for _ in range(80):
        t = (lo + hi) / 2
        if _gap_km(geom, shapely.affinity.translate(land, t * dx, t * dy)) < gap_km:
            lo = t
        else:
            hi = t
    assert -1.0 < hi < 1.0, "the gap is not reached within one (dx, dy) either way"
    return shapely.affinity.translate(land, hi * dx, hi * dy)


@pytest.mark.parametrize(
    ("fence_box", "land_box", "away"),
    [
        # at the equator, land due north: a degree of latitude is shortest there (110.57 km)
        ((10.0, -0.5, 10.5, 0.0), (9.5, 0.1999, 11.0, 0.5), (0.0, 0.1)),
        # at 60 N, land due east along the parallel; the fence reaches down to 50 N
        ((10.0, 50.0, 10.5, 60.0), (10.897, 59.95, 11.5, 60.0), (0.2, 0.0)),
        # in the south, land due south
        ((10.0, -60.0, 10.5, -50.0), (9.0, -61.0, 11.5, -60.1999), (0.0, -0.1)),
    ],
)
def test_open_sea_means_no_land_within_the_territorial_sea(
    monkeypatch: pytest.MonkeyPatch,
    fence_box: tuple[float, ...],
    land_box: tuple[float, ...],
    away: tuple[float, float],
) -> None:
    """Land 10 m inside 22.224 km (pyproj.Geod): not open sea; the same land moved to 10 m beyond the breadth
    plus half a step: open sea; 10 m short of that: not (the documented margin, on both sides)."""
    geom = shapely.box(*fence_box)
    land = shapely.box(*land_box)
    for gap, want in ((TERRITORIAL_SEA_KM - 0.01, False), (REACH_KM - 0.01, False), (REACH_KM + 0.01, True)):
        moved = _moved_to(geom, land, gap, *away)
        assert abs(_gap_km(geom, moved) - gap) < 1e-4
        _fake_land(monkeypatch, moved)
        assert _at_open_sea(geom) is want, gap


def test_a_fence_over_land_or_around_an_island_is_not_at_open_sea(monkeypatch: pytest.MonkeyPatch) -> None:
    """Land the fence covers, in part or whole (an island 200 km from its boundary, inside it), is land within
    the breadth: not open sea."""
    geom = shapely.box(0.0, 0.0, 4.0, 4.0)
    for land in (shapely.box(3.0, 3.0, 5.0, 5.0), shapely.box(1.9, 1.9, 2.1, 2.1)):
        _fake_land(monkeypatch, land)
        assert _at_open_sea(geom) is False
    _fake_land(monkeypatch, shapely.box(1.9, 1.9, 2.1, 2.1))
    assert _at_open_sea(shapely.Polygon(box(0.0, 0.0, 4.0, 4.0), [box(1.0, 1.0, 3.0, 3.0)[::-1]])) is True


@pytest.mark.parametrize("lat", [0.0, 30.0, -60.0, 75.0])
def test_land_near_a_corner_in_any_direction(monkeypatch: pytest.MonkeyPatch, lat: float) -> None:
    """A speck of land 22.214 km (pyproj.Geod.fwd) from a corner of a small fence, at every bearing (steps of
    5.625 deg): never open sea; the speck 10 m beyond the breadth plus half a step: open sea, wherever that
    corner is the fence's point nearest to it."""
    fence_geom = shapely.box(10.0, lat, 10.01, lat + 0.01)
    wrong = []
    for cx, cy in ((10.0, lat), (10.01, lat + 0.01)):
        for brg in np.arange(0.0, 360.0, 5.625):
            for dist_km, want in ((TERRITORIAL_SEA_KM - 0.01, False), (REACH_KM + 0.01, True)):
                lon2, lat2, _ = GEOD.fwd(cx, cy, brg, dist_km * 1000)
                speck = shapely.Point(lon2, lat2).buffer(1e-7)
                if want is False and _gap_km(fence_geom, speck) > TERRITORIAL_SEA_KM:
                    continue  # the far side of the fence is farther
                if want is True and _gap_km(fence_geom, speck) < REACH_KM + 0.009:
                    continue  # another point of the fence is nearer
                _fake_land(monkeypatch, speck)
                if _at_open_sea(fence_geom) is not want:
                    wrong.append((cx, cy, float(brg), dist_km))
    assert wrong == []


def test_land_opposite_the_middle_of_a_fence_edge_or_a_coast_segment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The nearest points need not be vertices.  (a) Along a fence edge 1 deg long, specks 22.214 km off it
    (pyproj.Geod.fwd, square to the edge) at nine places: each makes it "not open sea" (the edge is sampled, not
    only its ends).  (b) A fence's tip opposite the middle of a ~2 km coast segment (a meridian edge of 0.0179 deg
    at 70 N): within the breadth plus half a step (10 m short) not open sea, though the segment's ends are 23 m
    farther; 10 m beyond, open sea."""
    edge = shapely.box(-30.0, 10.0, -29.0, 10.5)
    for f in np.linspace(0.05, 0.95, 9):
        lon2, lat2, _ = GEOD.fwd(-30.0 + f, 10.0, 180.0, (TERRITORIAL_SEA_KM - 0.01) * 1000)
        _fake_land(monkeypatch, shapely.Point(lon2, lat2).buffer(1e-7))
        assert _at_open_sea(edge) is False, f
    land = shapely.box(20.0, 70.0, 21.0, 70.0179)
    _fake_land(monkeypatch, land)
    for dist_km, want in ((REACH_KM - 0.01, False), (REACH_KM + 0.01, True)):
        x, y, _ = GEOD.fwd(20.0, 70.00895, 270.0, dist_km * 1000)
        tip = shapely.Polygon([(x, y), (x - 0.05, y - 0.002), (x - 0.05, y + 0.002)])
        assert abs(_gap_km(tip, land) - dist_km) < 0.002
        assert _at_open_sea(tip) is want, dist_km


def test_rule_3_reach_has_the_same_margin(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a fence as written may reach (which spares it rule 3's error) is every country whose land is within
    the breadth plus half a step of it; what its swap reaches for certain, only land it covers or touches with
    a boundary sample, or territorial sea the lookup says (here none: the fake has no sea raster)."""
    geom = shapely.box(10.0, 40.0, 10.2, 40.2)
    land = shapely.box(9.0, 40.3, 11.0, 41.0)  # to the north: its edge is as far from every point of the fence's
    for gap, want in ((REACH_KM - 0.01, {"XX"}), (REACH_KM + 0.01, set())):
        _fake_land(monkeypatch, _moved_to(geom, land, gap, 0.0, 0.3))
        assert coverage._codes_near(geom) == want, gap
    _fake_land(monkeypatch, shapely.box(10.2, 39.0, 11.0, 41.0))  # touching: no area, but a sample on it
    assert coverage._codes_near(geom) == {"XX"}
    monkeypatch.setattr(coverage, "country_codes", lambda lat, lon: np.where(lon >= 10.2, "XX", ""))
    assert coverage._codes_reached(geom) == {"XX"}
    _fake_land(monkeypatch, shapely.box(10.1, 39.0, 11.0, 41.0))  # covering half of it
    assert coverage._codes_near(geom) == {"XX"}
    monkeypatch.setattr(coverage, "country_codes", lambda lat, lon: np.full(len(lat), ""))
    assert coverage._codes_reached(geom) == {"XX"}  # by area


def test_boundary_samples_are_a_step_apart_and_meet_at_the_poles() -> None:
    """Every point of every ring within half a step (km, pyproj.Geod) of a sample; a ring along a pole is one
    sample there; holes are sampled too."""
    geom = shapely.Polygon(box(-170.0, 80.0, 170.0, 90.0), [box(0.0, 84.0, 10.0, 85.0)[::-1]])
    xy = coverage._boundary_samples(geom)
    assert (xy[:, 1] == 90.0).sum() == 1
    rng = np.random.default_rng(3)
    for ring in shapely.get_rings(geom):
        pts = shapely.line_interpolate_point(ring, rng.uniform(0, 1, 400), normalized=True)
        px, py = shapely.get_x(pts), shapely.get_y(pts)
        near = np.array(
            [
                np.min(GEOD.inv(np.full(len(xy), x), np.full(len(xy), y), xy[:, 0], xy[:, 1])[2])
                for x, y in zip(px, py, strict=True)
            ]
        )
        assert near.max() / 1000 <= STEP_KM / 2 + 1e-6


def test_open_sea_swapped_out_of_range_is_not_a_swap() -> None:
    """Rule 2 only when the swapped polygon is in range: a first value beyond +-90 cannot be a latitude; exactly
    -90 can (swapped, this open-sea fence in the eastern Pacific lies on Antarctica)."""
    pacific = box(-90.0, 5.0, -89.0, 7.0)
    with pytest.raises(InputError) as info:
        parse_policy({"geofences": [fence(pacific)]})
    assert "AQ" in info.value.problem and "open sea" in info.value.problem
    parse_policy({"geofences": [fence(box(-91.0, 5.0, -90.1, 7.0))]})  # swapped lat -91..-90.1: out of range
    parse_policy({"geofences": [fence(box(-150.0, 5.0, -149.0, 7.0))]})
    # swapped partly out of range (latitudes -95..-89, or -90.5..-89): not a swap, though its in-range part is
    # Antarctica
    parse_policy({"geofences": [fence(box(-95.0, 3.0, -89.0, 4.5))]})
    parse_policy({"geofences": [fence(box(-90.5, 3.0, -89.0, 4.5))]})
    # a fence near the north pole is at open sea (no land within 600 km), and its swap (lat 20..30, lon
    # 89.6..89.9) is land in Bhutan and India: an error too
    with pytest.raises(InputError, match="open sea"):
        parse_policy({"geofences": [fence(box(20.0, 89.6, 30.0, 89.9))]})
    # swapped up to exactly 90 is in range: this southern Indian Ocean fence swapped covers east Greenland
    with pytest.raises(InputError) as info:
        parse_policy({"geofences": [fence(box(60.0, -30.0, 90.0, -25.0))]})
    assert "GL" in info.value.problem
    # countries fences are never swaps; check_axes = false skips the rule
    parse_policy({"geofences": [fence(pacific, check_axes=False)]})
    # a second fence is checked too
    with pytest.raises(InputError):
        parse_policy({"geofences": [fence(box(-150.0, 5.0, -149.0, 7.0), "a"), fence(pacific, "b", priority=1)]})


# Crimea roughly, as [lon, lat] and as the [lat, lon] mistake (as in test_policy_coverage)
CRIMEA_BOX = box(32.5, 44.4, 36.6, 46.2)
SWAPPED_CRIMEA = [[lat, lon] for lon, lat in CRIMEA_BOX]


def test_rule_3_reads_the_points_of_the_chosen_tracks_only() -> None:
    pol = parse_policy({"geofences": [fence(SWAPPED_CRIMEA)]})  # as written: Iraq, Iran, Syria, Turkey
    tokyo = make_track([0.0, 3600.0, 7200.0], [35.6, 35.7, 35.8], [139.6, 139.7, 139.8])
    crimea = make_track([0.0, 3600.0], [44.9, 44.95], [34.0, 34.1])  # RU in Natural Earth
    baghdad = make_track([0.0, 60.0, 120.0, 180.0], [33.3, 33.31, 33.32, 33.33], [44.4, 44.4, 44.4, 44.4])
    ts = TrackSet.of([tokyo, crimea, baghdad])
    none = (np.zeros(0), np.zeros(0))
    check_geofence_axes(pol, *none, ts, np.array([0]))  # Tokyo only: nothing proven
    check_geofence_axes(pol, *none, ts, np.zeros(0, np.int64))
    check_geofence_axes(pol, *none, ts, None)
    with pytest.raises(InputError, match="reaches RU"):
        check_geofence_axes(pol, *none, ts, np.array([1]))
    with pytest.raises(InputError, match="reaches RU"):
        check_geofence_axes(pol, *none, ts, np.array([0, 1]))
    check_geofence_axes(pol, *none, ts, np.array([1, 2]))  # Baghdad: the fence covers a terminal country
    check_geofence_axes(pol, *none, ts, np.array([2, 0]))
    # stationary terminals and tracks together
    with pytest.raises(InputError, match="reaches RU"):
        check_geofence_axes(pol, np.array([35.69]), np.array([139.69]), ts, np.array([1]))
    check_geofence_axes(pol, np.array([33.3]), np.array([44.4]), ts, np.array([1]))
    # a terminal at open sea is in no country: nothing present
    check_geofence_axes(pol, np.array([0.0]), np.array([-30.0]))


def test_rule_3_counts_a_territorial_sea_as_reached() -> None:
    """A fence at sea within Georgia's territorial sea (10 km off Poti) covers no land but reaches GE by its
    sample points, so with terminals in Georgia it is not an error, though its swap (lon 42.15, lat 41.55)
    lies on land in Adjara (GE) too."""
    off_poti = box(41.54, 42.14, 41.56, 42.16)
    pol = parse_policy({"geofences": [fence(off_poti)]})
    tbilisi = (np.array([41.7]), np.array([44.8]))
    check_geofence_axes(pol, *tbilisi)
    # in the Gulf of Tunis, at sea but in Tunisia's territorial sea (its samples, read as [lon, lat]); swapped
    # it lies in Ethiopia: with terminals in both countries it reaches one of them as written, so no error
    gulf = parse_policy({"geofences": [fence(box(10.5, 37.0, 10.52, 37.02))]})
    assert country_shares(shapely.box(10.5, 37.0, 10.52, 37.02))[0] == ()
    check_geofence_axes(gulf, np.array([36.8, 9.0]), np.array([10.18, 38.75]))  # Tunis, Addis Ababa
    with pytest.raises(InputError, match="reaches ET"):
        check_geofence_axes(gulf, np.array([9.0]), np.array([38.75]))
    # the other way round: written over Ethiopia, swapped it is that patch of Tunisia's territorial sea, which
    # it reaches by its boundary samples only (no land): with a terminal in Tunis, an error
    over_ethiopia = parse_policy({"geofences": [fence(box(37.0, 10.5, 37.02, 10.52))]})
    with pytest.raises(InputError, match="reaches TN"):
        check_geofence_axes(over_ethiopia, np.array([36.8]), np.array([10.18]))
    # an Atlantic fence whose swap is at sea too (off Namibia) reaches nothing either way
    swapped_open = parse_policy({"geofences": [fence(box(-30.0, 10.0, -28.0, 12.0))]})
    check_geofence_axes(swapped_open, *tbilisi)


def test_rule_3_swapped_out_of_range_is_skipped_and_every_fence_is_checked() -> None:
    # at sea in the Indian Ocean; swapped (lat 83..90.5, lon -40..-30) its in-range part covers north Greenland,
    # but a latitude of 90.5 cannot be: not a swap, even with a terminal in Greenland (Nuuk)
    indian = parse_policy({"geofences": [fence(box(83.0, -40.0, 90.5, -30.0))]})
    check_geofence_axes(indian, np.array([64.18]), np.array([-51.7]))
    # over Central America; swapped (lat -90.5..-85) its in-range part is Antarctica, where a terminal is:
    # -90.5 cannot be a latitude, so not a swap; from -90 on it is
    central = parse_policy({"geofences": [fence(box(-90.5, 10.0, -85.0, 20.0))]})
    check_geofence_axes(central, np.array([-85.0]), np.array([10.0]))
    central = parse_policy({"geofences": [fence(box(-90.0, 10.0, -85.0, 20.0))]})
    with pytest.raises(InputError, match="reaches AQ"):
        check_geofence_axes(central, np.array([-85.0]), np.array([10.0]))
    with pytest.raises(InputError, match="covers GL"):  # up to 90 it is a swap (rule 2 already)
        parse_policy({"geofences": [fence(box(83.0, -40.0, 90.0, -30.0))]})
    # written over Iraq (lon 44), swapped the latitude 44 is fine; a fence at lon 100 swaps to latitude 100
    far = parse_policy({"geofences": [fence(box(100.0, 10.0, 101.0, 11.0), check_axes=False)]})
    check_geofence_axes(far, np.array([44.95]), np.array([34.10]))
    two = parse_policy(
        {"geofences": [fence(box(139.0, 35.0, 140.0, 36.0), "jp"), fence(SWAPPED_CRIMEA, "swapped", priority=1)]}
    )
    with pytest.raises(InputError) as info:
        check_geofence_axes(two, np.array([44.95, 35.69]), np.array([34.10, 139.69]))
    assert info.value.where == "[policy.geofences] swapped"
