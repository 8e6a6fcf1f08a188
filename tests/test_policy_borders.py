"""Country lookup against a plain shapely reference: every Natural Earth feature tested with
``shapely.contains_xy``, brute force, the first containing feature winning."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

import numpy as np
import pytest
import shapely

from leonet.policy import country_codes, country_index, country_table, known_country_codes


@lru_cache(maxsize=1)
def _reference_features() -> tuple[list[str], list[shapely.Geometry]]:
    text = resources.files("leonet").joinpath("data", "ne_50m_admin_0_countries.geojson").read_text("utf-8")
    feats = json.loads(text)["features"]
    codes = [f["properties"]["ISO_A2_EH"] for f in feats]
    geoms = [shapely.geometry.shape(f["geometry"]) for f in feats]
    return codes, geoms


def reference_codes(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    codes, geoms = _reference_features()
    out = np.full(lat.shape, "", dtype="<U3")
    done = np.zeros(lat.shape, dtype=bool)
    for code, geom in zip(codes, geoms, strict=True):
        hit = shapely.contains_xy(geom, lon, lat) & ~done
        out[hit] = code
        done |= hit
    return out


def _assert_agree(lat: np.ndarray, lon: np.ndarray) -> None:
    got = country_codes(lat, lon)
    want = reference_codes(lat, lon)
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, [(float(lat[i]), float(lon[i]), str(got[i]), str(want[i])) for i in bad[:10]]


def test_random_points_on_the_sphere_agree_with_brute_force() -> None:
    rng = np.random.default_rng(7)
    n = 3000
    lon = rng.uniform(-180, 180, n)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    _assert_agree(lat, lon)
    # the sample really spans land and sea
    got = country_codes(lat, lon)
    assert 0.15 < np.mean(got != "") < 0.5


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
    _assert_agree(lat, lon)
    got = country_codes(lat, lon)
    assert len(set(got.tolist())) > 100  # many countries, on both sides


def test_small_islands_agree_and_are_found() -> None:
    rng = np.random.default_rng(3)
    codes, geoms = _reference_features()
    parts, owner = shapely.get_parts(np.array(geoms, dtype=object), return_index=True)
    area = shapely.area(parts)
    small = np.flatnonzero(area < 0.01)  # islands under ~100 km2
    assert small.size > 100
    inner = shapely.point_on_surface(parts[small])
    lon0, lat0 = shapely.get_x(inner), shapely.get_y(inner)
    # each island's own interior point is in its country (unless an earlier feature claims it)
    _assert_agree(lat0, lon0)
    got = country_codes(lat0, lon0)
    assert np.mean(got == np.array(codes, dtype="<U3")[owner[small]]) > 0.99
    # and a cloud around each island
    k = rng.integers(0, small.size, 2000)
    lat = np.clip(lat0[k] + rng.normal(0, 0.02, k.size), -90, 90)
    lon = np.clip(lon0[k] + rng.normal(0, 0.02, k.size), -180, 180)
    _assert_agree(lat, lon)


@pytest.mark.parametrize(
    ("place", "lat", "lon", "code"),
    [
        ("Taipei", 25.033, 121.565, "TW"),
        ("Kinmen (50m: Taiwan)", 24.44, 118.32, "TW"),
        ("Manila", 14.5995, 120.9842, "PH"),
        ("Naha, Okinawa", 26.2124, 127.6809, "JP"),
        ("Kyiv", 50.4501, 30.5234, "UA"),
        ("Simferopol (Natural Earth: de facto Russia)", 44.9521, 34.1024, "RU"),
        ("Paris (ISO_A2 is -99, ISO_A2_EH is FR)", 48.8566, 2.3522, "FR"),
        ("Oslo", 59.9139, 10.7522, "NO"),
        ("Valletta, Malta", 35.8989, 14.5146, "MT"),
        ("mid-Pacific", 0.0, -150.0, ""),
        ("Hargeisa, Somaliland", 9.56, 44.065, "-99"),
    ],
)
def test_known_places(place: str, lat: float, lon: float, code: str) -> None:
    assert str(country_codes(np.array([lat]), np.array([lon]))[0]) == code, place


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
    assert {"TW", "UA", "RU", "FR", "NO", "XK"} <= codes and "-99" not in codes


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
