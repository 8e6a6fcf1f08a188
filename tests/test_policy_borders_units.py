"""``leonet.policy.borders``: its numeric parts one by one, and the tables.

References: PROJ through pyproj (geodetic WGS-84 -> ECEF, EPSG:4979 -> EPSG:4978) for the ellipsoid points;
brute force NumPy (a segment sampled at 20,001 points, the nearest taken) for the point-segment distance; a
window minimum / maximum written out with explicit index arithmetic for the wrapped raster filter; the cell
indexing rule (``_CELL_DEG`` cells from -90 / -180, the last cell holding the upper edges); Natural Earth's
``ISO_A2_EH`` column read with ``json`` for the code and name tables.
"""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pyproj
import pytest
import shapely
from scipy.ndimage import maximum_filter1d, minimum_filter1d

from leonet.policy import borders as borders_mod
from leonet.policy.borders import (
    _CELL_DEG,
    BORDERS_FILE,
    ISLANDS_FILE,
    NO_CODE,
    Coasts,
    _cell,
    _ecef_km,
    _segment_distance_km,
    _window,
    borders,
    known_country_codes,
)

GEOD = pyproj.Geod(ellps="WGS84")


def geod_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    return float(GEOD.inv(lon1, lat1, lon2, lat2)[2]) / 1000


def test_ecef_against_pyproj() -> None:
    rng = np.random.default_rng(5)
    lat = np.r_[np.degrees(np.arcsin(rng.uniform(-1, 1, 2000))), 90.0, -90.0, 0.0]
    lon = np.r_[rng.uniform(-180, 180, 2000), 0.0, 180.0, -180.0]
    tr = pyproj.Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)
    x, y, z = tr.transform(lon, lat, np.zeros(lat.size))
    want = np.column_stack([x, y, z]) / 1000.0
    assert np.abs(_ecef_km(lat, lon) - want).max() < 1e-9  # km: a micrometre


def test_segment_distance_against_dense_sampling() -> None:
    rng = np.random.default_rng(6)
    n = 300
    a = rng.normal(0, 10, (n, 3))
    b = a + rng.normal(0, 5, (n, 3))
    b[:20] = a[:20]  # zero-length segments
    p = a + rng.normal(0, 8, (n, 3))
    p[20:40] = a[20:40] - 2.0 * (b[20:40] - a[20:40])  # beyond the a end
    p[40:60] = b[40:60] + 0.5 * (b[40:60] - a[40:60])  # beyond the b end
    t = np.linspace(0.0, 1.0, 20_001)
    pts = a[:, None, :] + t[None, :, None] * (b - a)[:, None, :]
    want = np.linalg.norm(pts - p[:, None, :], axis=2).min(axis=1)
    got = _segment_distance_km(p, a, b)
    seg = np.linalg.norm(b - a, axis=1)
    assert np.all(got <= want + 1e-12) and np.all(want - got <= (seg / 20_000) ** 2 + 1e-9)
    assert np.allclose(got[:20], np.linalg.norm(p[:20] - a[:20], axis=1), rtol=0, atol=1e-12)


def test_cells_hold_their_lower_edges_and_the_last_one_the_upper_edges() -> None:
    n_lat, n_lon = int(180 / _CELL_DEG), int(360 / _CELL_DEG)
    lat = np.array([-90.0, -90.0 + _CELL_DEG, 0.0, 90.0 - 1e-9, 90.0, 45.0625])
    lon = np.array([-180.0, -180.0 + _CELL_DEG, 0.0, 180.0 - 1e-9, 180.0, -0.0625])
    i, j = _cell(lat, lon)
    assert i.tolist() == [0, 1, n_lat // 2, n_lat - 1, n_lat - 1, int((45.0625 + 90) / _CELL_DEG)]
    assert j.tolist() == [0, 1, n_lon // 2, n_lon - 1, n_lon - 1, n_lon // 2 - 1]


@pytest.mark.parametrize(("fn", "red"), [(minimum_filter1d, np.min), (maximum_filter1d, np.max)])
def test_window_filter_wraps_in_longitude_and_clamps_in_latitude(fn: object, red: object) -> None:
    rng = np.random.default_rng(8)
    a = rng.integers(-5, 100, (9, 13)).astype(np.int32)
    di = 2
    dj = np.array([1, 0, 3, 6, 2, 1, 1, 0, 4], dtype=np.int64)
    got = _window(a.copy(), fn, di, dj)
    want = np.empty_like(a)
    for r in range(a.shape[0]):
        rows = np.clip(np.arange(r - di, r + di + 1), 0, a.shape[0] - 1)  # "nearest" at the poles
        for c in range(a.shape[1]):
            cols = np.arange(c - dj[r], c + dj[r] + 1) % a.shape[1]  # wrap at the antimeridian
            want[r, c] = red(a[np.ix_(rows, cols)])  # type: ignore[operator]
    assert np.array_equal(got, want)


def test_code_and_name_tables() -> None:
    codes, names = [], {}
    for name in (BORDERS_FILE, ISLANDS_FILE):
        text = resources.files("leonet").joinpath("data", name).read_text("utf-8")
        for f in json.loads(text)["features"]:
            c = f["properties"]["ISO_A2_EH"]
            codes.append(c)
            if f["properties"].get("NAME"):
                names.setdefault(c, f["properties"]["NAME"])
    b = borders()
    assert b.codes == ("", *sorted(set(codes)))
    assert b.names == tuple(names.get(c, "") for c in b.codes)
    assert [b.codes[i] for i in b.feature_code] == codes
    assert known_country_codes() == frozenset(codes) - {NO_CODE}
    assert b.index_of("UA") == b.codes.index("UA")
    with pytest.raises(KeyError):
        b.index_of("ZZ")
    # the land of two countries is their union
    ua_pl = b.geometry(["UA", "PL"])
    assert ua_pl.area == pytest.approx(b.geometry(["UA"]).area + b.geometry(["PL"]).area, rel=1e-9)
    assert shapely.contains_xy(ua_pl, 30.52, 50.45) and shapely.contains_xy(ua_pl, 21.01, 52.23)  # Kyiv, Warsaw


def test_territorial_sea_limit_opposite_the_middle_of_a_densified_segment() -> None:
    """A square "country" (lon 0..1, lat -1..1) and points due east of its coast, halfway between two of the
    densified vertices (about 2 km apart): 10 m inside the 22.224 km limit the point is the country's, 10 m
    outside it is at sea.  The distance is the segment's, not the nearer vertex's (which is ~22 m longer).
    Reference: the geodesic distance (pyproj.Geod) to the coast sampled every ~1 m; the vertices from
    shapely.segmentize."""
    from leonet.policy.borders import DENSIFY_DEG, TERRITORIAL_SEA_KM, Coasts

    land = shapely.box(0.0, -1.0, 1.0, 1.0)
    coasts = Coasts.of(np.array([land], dtype=object), np.array([1], dtype=np.int16))
    verts = shapely.get_coordinates(shapely.segmentize(land.exterior, DENSIFY_DEG))
    east = np.unique(verts[verts[:, 0] == 1.0][:, 1])
    k = int(np.searchsorted(east, 0.0))
    mid = 0.5 * (east[k] + east[k + 1])
    assert 1.9 < geod_km(1.0, east[k], 1.0, east[k + 1]) < 2.0
    coast = np.linspace(mid - 0.01, mid + 0.01, 2001)

    def dist_km(lon: float) -> float:
        n = coast.size
        return float(GEOD.inv(np.full(n, lon), np.full(n, mid), np.ones(n), coast)[2].min()) / 1000

    for target, inside in ((TERRITORIAL_SEA_KM - 0.01, True), (TERRITORIAL_SEA_KM + 0.01, False)):
        lo, hi = 1.0, 1.5
        for _ in range(45):
            m = 0.5 * (lo + hi)
            lo, hi = (m, hi) if dist_km(m) < target else (lo, m)
        lon = np.array([0.5 * (lo + hi)])
        who, d = coasts.search(np.array([mid]), lon, TERRITORIAL_SEA_KM)
        assert int(who[0]) == (1 if inside else 0), (target, float(d[0]))
        assert int(coasts.nearest(np.array([mid]), lon)[0]) == (1 if inside else 0)
        if inside:
            assert abs(float(d[0]) - target) < 0.001


def test_the_raster_near_the_pole_reaches_as_far_in_longitude_as_the_sea_does() -> None:
    """Near 88.6 N a degree of longitude is under 3 km: points 7.8 deg of longitude from an islet, on either
    side, are 21.1-21.2 km from it, in its territorial sea.  The cell raster must not call their cells open sea
    (a cell's window of columns is sized at the highest latitude its window of rows reaches).  Reference:
    pyproj.Geod distance to the islet's boundary sampled every ~10 m, and the exact search."""
    from leonet.policy.borders import TERRITORIAL_SEA_KM, Coasts

    islet = shapely.Polygon([(7.40, 88.600), (7.45, 88.600), (7.45, 88.605), (7.40, 88.605)])
    coasts = Coasts.of(np.array([islet], dtype=object), np.array([1], dtype=np.int16))
    edge = shapely.get_coordinates(shapely.segmentize(islet.exterior, 1e-4))
    for lat, lon in ((88.62, -0.4), (88.615, 15.25), (88.605, -0.4), (88.62, 0.05), (88.55, 3.0)):
        n = edge.shape[0]
        d_km = float(GEOD.inv(np.full(n, lon), np.full(n, lat), edge[:, 0], edge[:, 1])[2].min()) / 1000
        assert d_km <= TERRITORIAL_SEA_KM, (lat, lon, d_km)
        got = int(coasts.nearest(np.array([lat]), np.array([lon]))[0])
        exact = int(coasts.search(np.array([lat]), np.array([lon]), TERRITORIAL_SEA_KM)[0][0])
        assert got == exact == 1, (lat, lon, d_km)


def _coasts_of(monkeypatch: pytest.MonkeyPatch, land: list[shapely.Geometry]) -> Coasts:
    """The territorial-sea index of synthetic land (one country per polygon, labels 1, 2, ...), without the
    global cell raster (which only :meth:`Coasts.nearest` reads)."""
    monkeypatch.setattr(borders_mod, "_sea_cells", lambda *a: np.zeros((1, 1), np.int16))
    return Coasts.of(np.array(land, dtype=object), np.arange(1, len(land) + 1, dtype=np.int16))


def test_countries_near_against_every_segment(monkeypatch: pytest.MonkeyPatch) -> None:
    """``countries_near`` is exact: the countries whose boundary comes within the distance of a point are those
    of brute force over every densified segment (`_segment_distance_km` from every point to every segment, the
    segment distance itself checked above against dense sampling).  Random islets of 3 to 40 km around 60 N,
    points up to 40 km off them, and distances chosen next to each point's true distances, where the nearest
    vertex and the nearest segment point differ most."""
    rng = np.random.default_rng(7)
    centres = np.c_[rng.uniform(10.0, 12.0, 12), rng.uniform(59.5, 60.5, 12)]
    land = list(shapely.buffer(shapely.points(centres), rng.uniform(0.02, 0.2, 12), quad_segs=rng.integers(1, 5)))
    c = _coasts_of(monkeypatch, land)
    ring_start = np.r_[0, np.flatnonzero(np.diff(c.label)) + 1]
    assert len(ring_start) == len(land)
    lat = rng.uniform(59.2, 60.8, 300)
    lon = rng.uniform(9.5, 12.5, 300)
    p = _ecef_km(lat, lon)
    a, b = c.xyz_km, c.xyz_km[c.nxt]
    n_seg = a.shape[0]
    d = _segment_distance_km(np.repeat(p, n_seg, axis=0), np.tile(a, (len(p), 1)), np.tile(b, (len(p), 1)))
    d = d.reshape(len(p), n_seg)
    per_country = np.stack([d[:, c.label == k].min(axis=1) for k in range(1, len(land) + 1)], axis=1)
    for i in range(len(p)):
        for within in (*np.sort(per_country[i])[:3] + 1e-6, *np.sort(per_country[i])[:3] - 1e-6, 22.224):
            want = np.flatnonzero(per_country[i] <= within) + 1
            got = c.countries_near(lat[i : i + 1], lon[i : i + 1], float(within))
            assert np.array_equal(got, want), (i, within)
    # many points at once: the union
    want_all = np.flatnonzero((per_country <= 22.224).any(axis=0)) + 1
    assert np.array_equal(c.countries_near(lat, lon, 22.224), want_all)
    assert c.countries_near(np.zeros(0), np.zeros(0), 22.224).size == 0


def test_countries_near_opposite_the_middle_of_a_long_segment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A point opposite the middle of a ~2 km segment (a meridian edge of 0.0179 deg at 70 N, one densified
    segment) at d = 22 km: its ends are sqrt(d^2 + 1) km away, about 23 m farther; within d + 5 m the country is
    found (the vertex search reaches half a segment beyond the distance), within d - 5 m not."""
    land = shapely.box(20.0, 70.0, 21.0, 70.0179)
    c = _coasts_of(monkeypatch, [land])
    lon, lat, _ = GEOD.fwd(20.0, 70.00895, 270.0, 22_000.0)
    edge = _segment_distance_km(
        _ecef_km(np.array([lat]), np.array([lon])),
        *_ecef_km(np.array([70.0, 70.0179]), np.array([20.0, 20.0]))[:, None],
    )
    assert abs(float(edge[0]) - 22.0) < 0.001
    ends = np.linalg.norm(
        _ecef_km(np.array([70.0, 70.0179]), np.array([20.0, 20.0])) - _ecef_km(np.array([lat]), np.array([lon])), axis=1
    )
    assert ends.min() > 22.02
    assert c.countries_near(np.array([lat]), np.array([lon]), 22.005).tolist() == [1]
    assert c.countries_near(np.array([lat]), np.array([lon]), 21.995).tolist() == []
