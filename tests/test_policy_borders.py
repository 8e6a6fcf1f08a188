"""Country lookup against independent references.

Land: every shipped feature tested with ``shapely.contains_xy``, brute force, the first containing feature
winning.  Territorial sea: the geodesic distance from the point to each country's raw polygons, computed with
pyproj (an azimuthal equidistant projection centred on the point, in which distances from the centre are
geodesic distances on WGS-84) and shapely (``distance`` from the centre to the projected, densified
polygons); the nearest country within 12 nautical miles (22.224 km) is the answer.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

import numpy as np
import pyproj
import pytest
import shapely

from leonet.policy import country_codes, country_index, country_table, known_country_codes
from leonet.policy.borders import BORDERS_FILE, ISLANDS_FILE, TERRITORIAL_SEA_KM, borders

GEOD = pyproj.Geod(ellps="WGS84")


@lru_cache(maxsize=1)
def _reference_features() -> tuple[list[str], list[shapely.Geometry]]:
    codes: list[str] = []
    geoms: list[shapely.Geometry] = []
    for name in (BORDERS_FILE, ISLANDS_FILE):
        text = resources.files("leonet").joinpath("data", name).read_text("utf-8")
        for f in json.loads(text)["features"]:
            codes.append(f["properties"]["ISO_A2_EH"])
            geoms.append(shapely.geometry.shape(f["geometry"]))
    return codes, geoms


def reference_land(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    codes, geoms = _reference_features()
    out = np.full(lat.shape, "", dtype="<U3")
    done = np.zeros(lat.shape, dtype=bool)
    for code, geom in zip(codes, geoms, strict=True):
        hit = shapely.contains_xy(geom, lon, lat) & ~done
        out[hit] = code
        done |= hit
    return out


@lru_cache(maxsize=1)
def _parts() -> tuple[np.ndarray, np.ndarray, shapely.STRtree]:
    codes, geoms = _reference_features()
    parts, owner = shapely.get_parts(np.array(geoms, dtype=object), return_index=True)
    return parts, np.array(codes)[owner], shapely.STRtree(parts)


def _project(tr: pyproj.Transformer, xy: np.ndarray) -> np.ndarray:
    if xy.shape[0] == 1:  # pyproj's scalar path, without its deprecated 1-element array conversion
        return np.array([tr.transform(float(xy[0, 0]), float(xy[0, 1]))])
    return np.column_stack(tr.transform(xy[:, 0], xy[:, 1]))


def reference_distances_km(lat: float, lon: float, reach_km: float = 60.0) -> dict[str, float]:
    """Geodesic distance (km) from a point to every country with land within ``reach_km``: pyproj AEQD + shapely."""
    parts, code, tree = _parts()
    dlat = reach_km / 110.0
    dlon = min(180.0, reach_km / (111.0 * max(np.cos(np.radians(lat)), 1e-3)))
    box = (lon - dlon, max(lat - dlat, -90.0), lon + dlon, min(lat + dlat, 90.0))
    idx = tree.query(shapely.box(*box))
    aeqd = pyproj.Transformer.from_crs(
        "EPSG:4326",
        pyproj.CRS.from_proj4(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +ellps=WGS84 +units=m"),
        always_xy=True,
    )
    out: dict[str, float] = {}
    for i in idx:
        piece = shapely.clip_by_rect(parts[i], *box)
        if piece.is_empty:
            continue
        piece = shapely.segmentize(piece, 0.002)
        projected = shapely.transform(piece, lambda xy: _project(aeqd, xy))
        d_km = float(shapely.distance(projected, shapely.Point(0.0, 0.0))) / 1e3
        out[str(code[i])] = min(out.get(str(code[i]), np.inf), d_km)
    return out


def reference_code(lat: float, lon: float) -> tuple[str, float, float]:
    """The reference answer, the distance to the nearest country and the margin to the second nearest."""
    land = str(reference_land(np.array([lat]), np.array([lon]))[0])
    if land:
        return land, 0.0, np.inf
    d = sorted(reference_distances_km(lat, lon).items(), key=lambda kv: kv[1])
    if not d:
        return "", np.inf, np.inf
    margin = d[1][1] - d[0][1] if len(d) > 1 else np.inf
    return (d[0][0] if d[0][1] <= TERRITORIAL_SEA_KM else ""), d[0][1], margin


def _assert_land_agrees(lat: np.ndarray, lon: np.ndarray) -> None:
    got = np.asarray(borders().codes, dtype="<U3")[borders().lookup_land(lat, lon)]
    want = reference_land(lat, lon)
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, [(float(lat[i]), float(lon[i]), str(got[i]), str(want[i])) for i in bad[:10]]


def test_random_points_on_the_sphere_agree_with_brute_force() -> None:
    rng = np.random.default_rng(7)
    n = 3000
    lon = rng.uniform(-180, 180, n)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    _assert_land_agrees(lat, lon)
    got = country_codes(lat, lon)
    assert 0.15 < np.mean(got != "") < 0.5
    # every point that is land in the reference keeps its country; sea points far from land stay at sea
    land = reference_land(lat, lon)
    assert np.array_equal(got[land != ""], land[land != ""])


def test_points_near_borders_and_coasts_agree_with_brute_force() -> None:
    """Points sampled along every country's boundary, pushed off it by 10 m to 2 km in a random direction:
    they land on both sides of borders and coastlines, in the cells that need the exact test."""
    rng = np.random.default_rng(11)
    _, geoms = _reference_features()
    boundaries = shapely.boundary(np.array(geoms, dtype=object))
    picks = rng.integers(0, len(geoms), 3000)
    frac = rng.uniform(0, 1, picks.size)
    pts = shapely.line_interpolate_point(boundaries[picks], frac, normalized=True)
    x, y = shapely.get_x(pts), shapely.get_y(pts)
    r = rng.uniform(1e-4, 2e-2, picks.size)
    a = rng.uniform(0, 2 * np.pi, picks.size)
    lon = np.clip(x + r * np.cos(a), -180, 180)
    lat = np.clip(y + r * np.sin(a), -90, 90)
    _assert_land_agrees(lat, lon)
    got = country_codes(lat, lon)
    assert len(set(got.tolist())) > 100  # many countries, on both sides
    # within 2 km of a coast, a point is never at open sea
    assert np.all(got != "")


def test_sea_points_near_coasts_agree_with_the_geodesic_reference() -> None:
    """Random points 0-40 km off coasts: land -> country, else nearest country within 22.224 km, else ''.
    Points within 50 m of the limit or of the equidistance line are not compared (the reference densifies to
    0.002 deg)."""
    rng = np.random.default_rng(5)
    _, geoms = _reference_features()
    boundaries = shapely.boundary(np.array(geoms, dtype=object))
    picks = rng.integers(0, len(geoms), 160)
    pts = shapely.line_interpolate_point(boundaries[picks], rng.uniform(0, 1, picks.size), normalized=True)
    az = rng.uniform(-180, 180, picks.size)
    dist_m = rng.uniform(0, 40_000, picks.size)
    lon, lat, _ = GEOD.fwd(shapely.get_x(pts), np.clip(shapely.get_y(pts), -89.0, 89.0), az, dist_m)
    got = country_codes(lat, lon)
    compared = 0
    kinds = set()
    for i in range(lat.size):
        code, d_km, margin = reference_code(float(lat[i]), float(lon[i]))
        if abs(d_km - TERRITORIAL_SEA_KM) < 0.05 or margin < 0.05:
            continue
        compared += 1
        kinds.add("land" if d_km == 0 else ("sea" if code else "open"))
        assert got[i] == code, (float(lat[i]), float(lon[i]), str(got[i]), code, d_km)
    assert compared > 140 and kinds == {"land", "sea", "open"}


# (place, lat, lon, code, what the reference must say about its distance to the nearest land in km)
PLACES = [
    ("Midtown Manhattan", 40.7549, -73.9840, "US", (0, 0)),
    ("Istanbul, Sultanahmet", 41.0082, 28.9784, "TR", (0, 0.5)),
    ("Copenhagen, Indre By", 55.6761, 12.5683, "DK", (0, 0.5)),
    ("Rio de Janeiro, Centro", -22.9068, -43.1729, "BR", (0, 0.5)),
    ("Penghu, Magong", 23.5655, 119.5793, "TW", (0, 0.5)),
    ("Matsu, Nangan", 26.1597, 119.9497, "TW", (0, 1.0)),
    ("Kinmen", 24.44, 118.32, "TW", (0, 0)),
    ("Sevastopol (Natural Earth: de facto Russia)", 44.6166, 33.5254, "RU", (0, 0.5)),
    ("Valletta, Malta", 35.8989, 14.5146, "MT", (0, 0.5)),
    ("Singapore, Marina Bay", 1.2834, 103.8607, "SG", (0, 0.5)),
    ("Hong Kong, Victoria Harbour", 22.2870, 114.1700, "HK", (0, 1.5)),
    ("Venice, San Marco", 45.4340, 12.3388, "IT", (0, 0.5)),
    ("Heligoland", 54.1825, 7.8856, "DE", (0, 1.0)),
    ("Adamstown, Pitcairn", -25.066, -130.100, "PN", (0, 1.0)),
    ("Edinburgh of the Seven Seas, Tristan da Cunha", -37.067, -12.311, "SH", (0, 1.5)),
    ("5 km off Tel Aviv", 32.085, 34.715, "IL", (3, 7)),
    ("30 km off Tel Aviv", 32.10, 34.44, "", (25, 35)),
    ("5 km off Lisbon's coast (Cascais)", 38.655, -9.45, "PT", (3, 7)),
    ("30 km off Lisbon's coast", 38.65, -9.78, "", (25, 35)),
    ("5 km off Dakar", 14.69, -17.52, "SN", (3, 7)),
    ("Strait of Gibraltar, Spanish side", 36.00, -5.60, "ES", (0.5, 10)),
    ("Strait of Gibraltar, Moroccan side", 35.90, -5.60, "MA", (1, 10)),
    ("Oresund, nearer Malmo", 55.60, 12.90, "SE", (1, 10)),
    ("Oresund, nearer Copenhagen", 55.64, 12.70, "DK", (1, 10)),
    ("Strait of Dover, nearer Dover", 51.05, 1.40, "GB", (5, 22)),
    ("Strait of Dover, nearer Calais", 50.98, 1.62, "FR", (5, 22)),
    ("between Kinmen and Xiamen, nearer Xiamen", 24.50, 118.22, "CN", (1, 10)),
    ("between Kinmen and Xiamen, nearer Lieyu", 24.40, 118.20, "TW", (1, 10)),
    ("mid-Pacific", 0.0, -150.0, "", (1000, np.inf)),
    ("Hargeisa, Somaliland", 9.56, 44.065, "-99", (0, 0)),
    ("Paris (ISO_A2 is -99, ISO_A2_EH is FR)", 48.8566, 2.3522, "FR", (0, 0)),
    ("Oslo", 59.9139, 10.7522, "NO", (0, 0.5)),
    ("Pristina", 42.66, 21.16, "XK", (0, 0)),
]


@pytest.mark.parametrize(("place", "lat", "lon", "code", "dist"), PLACES, ids=[p[0] for p in PLACES])
def test_coastal_and_island_places(place: str, lat: float, lon: float, code: str, dist: tuple[float, float]) -> None:
    ref, d_km, margin = reference_code(lat, lon)
    assert dist[0] <= d_km <= dist[1], (place, d_km)  # the place is where the test says (a check of the test)
    assert margin > 0.5 or d_km == 0
    assert ref == code, (place, ref, d_km)
    assert str(country_codes(np.array([lat]), np.array([lon]))[0]) == code, place


def test_territorial_sea_limit_both_sides() -> None:
    """Points 22.224 km +- 100 m straight out from a straight stretch of coast (due west of the Namibian
    coast, where no other land is near): in the country just inside, at sea just outside."""
    coast_lat = -23.5
    d = reference_distances_km(coast_lat, 14.0, reach_km=200)  # a point at sea, to find the coast
    assert set(d) == {"NA"}
    # walk west from a point on land until the reference says the coast is 0 km
    lon_land = 14.6
    assert reference_code(coast_lat, lon_land)[0] == "NA"
    for off_km, want in ((TERRITORIAL_SEA_KM - 0.1, "NA"), (TERRITORIAL_SEA_KM + 0.1, "")):
        # bisect along the parallel for the point at reference distance off_km
        lo, hi = 13.0, lon_land
        for _ in range(40):
            mid = 0.5 * (lo + hi)
            _, dist, _ = reference_code(coast_lat, mid)
            if dist > off_km:
                lo = mid
            else:
                hi = mid
        got = str(country_codes(np.array([coast_lat]), np.array([0.5 * (lo + hi)]))[0])
        assert got == want, (off_km, got)


def test_shapes_edges_and_table() -> None:
    lat = np.array([[90.0, -90.0, 0.0], [np.nan, 45.0, -89.99]])
    lon = np.array([[180.0, -180.0, 180.0], [0.0, np.nan, 0.0]])
    got = country_codes(lat, lon)
    assert got.shape == (2, 3)
    assert got[1, 0] == "" and got[1, 1] == ""  # NaN is in no country
    assert got[1, 2] == "AQ"
    idx = country_index(lat, lon)
    assert np.array_equal(np.asarray(country_table(), dtype="<U3")[idx], got)
    assert country_table()[0] == ""
    codes = known_country_codes()
    assert {"TW", "UA", "RU", "FR", "NO", "XK", "VA", "GI"} <= codes and "-99" not in codes


def test_grid_index_first_match_on_overlapping_polygons() -> None:
    """The grid index behind the lookup answers "the first polygon containing the point", also where polygons
    overlap (a brute-force loop over the polygons is the reference)."""
    from leonet.policy._grid import PolygonGrid

    rng = np.random.default_rng(9)
    centres = rng.uniform([-20, -10], [20, 10], (30, 2))
    polys = shapely.buffer(shapely.points(centres), rng.uniform(0.5, 6.0, 30), quad_segs=4)
    labels = rng.integers(0, 5, 30)
    grid = PolygonGrid(polys, labels, (-30.0, -20.0, 30.0, 20.0), (12, 8), sub=4)
    lon = rng.uniform(-32, 32, 5000)
    lat = rng.uniform(-22, 22, 5000)
    want = np.full(lon.size, -1)
    for i in range(len(polys) - 1, -1, -1):
        want[shapely.contains_xy(polys[i], lon, lat)] = labels[i]
    assert np.array_equal(grid.lookup(lon, lat), want)
    assert grid.n_boundary_cells > 0


def test_cell_shortcut_equals_the_exact_search() -> None:
    """The territorial-sea raster (cells whose answer is certain) answers exactly as the k-d tree search, for
    sea points spread over the globe and crowded along coasts."""
    b = borders()
    rng = np.random.default_rng(12)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, 100_000)))
    lon = rng.uniform(-180, 180, lat.size)
    _, geoms = _reference_features()
    boundaries = shapely.boundary(np.array(geoms, dtype=object))
    picks = rng.integers(0, len(geoms), 50_000)
    pts = shapely.line_interpolate_point(boundaries[picks], rng.uniform(0, 1, picks.size), normalized=True)
    lon2, lat2, _ = GEOD.fwd(
        shapely.get_x(pts),
        np.clip(shapely.get_y(pts), -89, 89),
        rng.uniform(-180, 180, picks.size),
        rng.uniform(0, 30_000, picks.size),
    )
    lat, lon = np.r_[lat, lat2], np.r_[lon, lon2]
    sea = b.lookup_land(lat, lon) == 0
    fast = b.coasts.nearest(lat[sea], lon[sea])
    exact, _ = b.coasts.search(lat[sea], lon[sea], TERRITORIAL_SEA_KM)
    assert np.array_equal(fast, exact)
    assert (b.coasts.cell_answer > 0).any() and (b.coasts.cell_answer == 0).any()
