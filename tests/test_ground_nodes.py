"""Ground nodes (``leonet.ground``): range checks, kinds, and the positions of nodes at rest and moving.

References: PROJ through pyproj for the Earth-fixed positions (EPSG:4979 -> EPSG:4978 on WGS-84; on WGS-72 the
geocentric transform with a = 6,378,135 m, 1 / f = 298.26, ``test_geodesy_refs._WGS72``); the ellipsoid normal
``(cos lat cos lon, cos lat sin lon, sin lat)`` checked against the finite-difference normal of pyproj's surface;
``leonet.tracks.interpolate`` (its own module, tested against pyproj's geodesics) for where a moving node is.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pyproj
import pytest

from leonet.errors import InputError
from leonet.ground import GroundNodes, make_ground
from leonet.tracks import TrackSet, interpolate, make_track
from test_geodesy_refs import _WGS72

_TO_ECEF = {
    "wgs84": pyproj.Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True),
    "wgs72": _WGS72,
}


def _pyproj_ecef_km(lat: np.ndarray, lon: np.ndarray, alt: np.ndarray, ellipsoid: str = "wgs84") -> np.ndarray:
    x, y, z = _TO_ECEF[ellipsoid].transform(np.asarray(lon, float), np.asarray(lat, float), np.asarray(alt, float))
    return np.stack([np.asarray(x), np.asarray(y), np.asarray(z)], axis=-1) / 1000.0


def _normal_by_finite_differences(lat: float, lon: float) -> np.ndarray:
    """The ellipsoid normal as the cross product of pyproj's surface tangents (central differences)."""
    h = 1e-5
    p = lambda la, lo: _pyproj_ecef_km(np.array(la), np.array(lo), np.array(0.0))  # noqa: E731
    d_lat = p(lat + h, lon) - p(lat - h, lon)
    d_lon = p(lat, lon + h) - p(lat, lon - h)
    n = np.cross(d_lon, d_lat)
    return n / np.linalg.norm(n)


def _nodes(ellipsoid: str = "wgs84") -> GroundNodes:
    return make_ground(
        ["a", "b", "c", "d"],
        [90.0, -90.0, 45.5, -33.9],
        [180.0, -180.0, 7.25, 151.2],
        alt_m=[0.0, 120.0, 2500.0, -30.0],
        kind=["station", "terminal", "gateway", "terminal"],
        min_elevation_deg=[None, 25.0, None, 40.0],
        ellipsoid=ellipsoid,
    )


def test_make_ground_accepts_the_ends_of_the_ranges_and_fills_defaults() -> None:
    """Latitude -90 and 90 and longitude -180 and 180 are valid (the checks are inclusive); ``alt_m`` defaults to
    zero, ``kind`` to "station", ``min_elevation_deg`` to NaN (the network's default) where None."""
    g = _nodes()
    assert g.size == 4 and g.names == ("a", "b", "c", "d")
    assert g.kind == ("station", "terminal", "gateway", "terminal")
    np.testing.assert_array_equal(g.alt_m, [0.0, 120.0, 2500.0, -30.0])
    assert np.isnan(g.min_elevation_deg[[0, 2]]).all() and list(g.min_elevation_deg[[1, 3]]) == [25.0, 40.0]
    assert g.ellipsoid == "wgs84"
    d = make_ground(["x", "y"], [1.0, 2.0], [3.0, 4.0])
    np.testing.assert_array_equal(d.alt_m, [0.0, 0.0])
    assert d.kind == ("station", "station")
    assert np.isnan(d.min_elevation_deg).all() and d.min_elevation_deg.shape == (2,)
    assert not d.is_terminal.any() and not d.is_gateway.any()
    np.testing.assert_array_equal(g.is_terminal, [False, True, False, True])
    np.testing.assert_array_equal(g.is_gateway, [False, False, True, False])


@pytest.mark.parametrize(
    ("lat", "lon", "field"),
    [
        (math.nextafter(90.0, 91.0), 0.0, "lat_deg"),
        (math.nextafter(-90.0, -91.0), 0.0, "lat_deg"),
        (float("nan"), 0.0, "lat_deg"),
        (0.0, math.nextafter(180.0, 181.0), "lon_deg"),
        (0.0, math.nextafter(-180.0, -181.0), "lon_deg"),
        (0.0, float("nan"), "lon_deg"),
    ],
)
def test_make_ground_rejects_a_coordinate_one_float_out_of_range(lat: float, lon: float, field: str) -> None:
    """One float beyond a range end (or NaN) is an error naming the node and the field; the node is not the
    first, so that the loop over the nodes is checked past index 0."""
    with pytest.raises(InputError) as exc:
        make_ground(["ok", "bad"], [10.0, lat], [10.0, lon])
    assert f"ground node 'bad'.{field}" in str(exc.value)


def test_make_ground_rejects_unknown_kinds_repeated_names_and_ellipsoids() -> None:
    with pytest.raises(InputError, match=r"ground node 'q'\.kind"):
        make_ground(["p", "q"], [0.0, 0.0], [0.0, 0.0], kind=["gateway", "satellite"])
    for k in ("station", "terminal", "gateway"):
        assert make_ground(["p"], [0.0], [0.0], kind=[k]).kind == (k,)
    with pytest.raises(InputError, match=r"repeated: a, b\)"):
        make_ground(["a", "b", "a", "c", "b"], [0.0] * 5, [0.0] * 5)
    with pytest.raises(InputError, match=r"ground\.ellipsoid"):
        make_ground(["p"], [0.0], [0.0], ellipsoid="grs80")
    assert make_ground(["p"], [0.0], [0.0], ellipsoid="wgs72").ellipsoid == "wgs72"


@pytest.mark.parametrize("ellipsoid", ["wgs84", "wgs72"])
def test_nodes_at_rest_are_where_the_ellipsoid_puts_them(ellipsoid: str) -> None:
    """Positions of nodes at rest: PROJ's ECEF on that ellipsoid, repeated over T snapshots;
    up vectors the ellipsoid normal (against finite differences of pyproj's surface); geodetic columns and zero
    speed repeated over the snapshots."""
    g = _nodes(ellipsoid)
    ref = _pyproj_ecef_km(g.lat_deg, g.lon_deg, g.alt_m, ellipsoid)
    np.testing.assert_allclose(g.ecef_km, ref, rtol=0, atol=1e-9)
    for i in (2, 3):  # not at a pole, where the finite differences degenerate
        np.testing.assert_allclose(g.up[i], _normal_by_finite_differences(g.lat_deg[i], g.lon_deg[i]), atol=1e-8)
    np.testing.assert_allclose(g.up[0], [0.0, 0.0, 1.0], atol=1e-15)
    np.testing.assert_allclose(g.up[1], [0.0, 0.0, -1.0], atol=1e-15)
    t = np.array([0.0, 60.0, 7200.0])
    st = g.at(t)
    assert st.ecef_km.shape == (3, 4, 3) and st.up.shape == (3, 4, 3) and st.lat_deg.shape == (3, 4)
    for k in range(3):
        np.testing.assert_allclose(st.ecef_km[k], ref, rtol=0, atol=1e-9)
        np.testing.assert_array_equal(st.lat_deg[k], g.lat_deg)
        np.testing.assert_array_equal(st.lon_deg[k], g.lon_deg)
        np.testing.assert_array_equal(st.alt_m[k], g.alt_m)
        np.testing.assert_array_equal(st.up[k], g.up)
    np.testing.assert_array_equal(st.speed_kmh, np.zeros((3, 4)))
    geo = g.geodetic_at(t)
    for a, b in zip(geo, st[:4], strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("ellipsoid", ["wgs84", "wgs72"])
def test_moving_nodes_follow_their_tracks_and_the_others_stay(ellipsoid: str) -> None:
    """Nodes 1 and 3 move (a ship and an aircraft); at every snapshot their geodetic columns and speed are those of
    ``tracks.interpolate``, their ECEF positions those of pyproj / the WGS-72 closed form at that point, their up
    vectors the normal there; nodes 0 and 2 keep their rest positions.  ``geodetic_at`` equals ``at``'s first
    four columns.  The rest position of a moving node (``ecef_km``) is its listed coordinate."""
    base = _nodes(ellipsoid)
    ship = make_track([0.0, 3600.0, 7200.0], [-40.0, -40.3, -40.1], [150.0, 150.4, 150.9], [0.0, 0.0, 5.0])
    plane = make_track([-100.0, 5000.0], [10.0, 12.0], [-20.0, -18.0], [10000.0, 11000.0])
    tracks = TrackSet.of([ship, plane])
    g = replace(base, moving=np.array([1, 3], dtype=np.int64), tracks=tracks, ellipsoid=ellipsoid)
    t = np.array([0.0, 1000.0, 4000.0, 6000.0])
    ref = interpolate([ship, plane], t)
    assert (ref.speed_kmh[:3] > 1.0).all() and ref.speed_kmh[3, 1] == 0.0  # moving; the aircraft's track ended
    st = g.at(t)
    geo = g.geodetic_at(t)
    rest = base.ecef_km
    for col, r in zip(st[:4], ref, strict=True):
        np.testing.assert_array_equal(col[:, [1, 3]], r)
    for k in range(len(t)):
        np.testing.assert_array_equal(st.lat_deg[k, [0, 2]], base.lat_deg[[0, 2]])
        np.testing.assert_array_equal(st.lon_deg[k, [0, 2]], base.lon_deg[[0, 2]])
        np.testing.assert_array_equal(st.alt_m[k, [0, 2]], base.alt_m[[0, 2]])
        np.testing.assert_array_equal(st.speed_kmh[k, [0, 2]], [0.0, 0.0])
        np.testing.assert_allclose(st.ecef_km[k, [0, 2]], rest[[0, 2]], rtol=0, atol=1e-12)
        moved = _pyproj_ecef_km(ref.lat_deg[k], ref.lon_deg[k], ref.alt_m[k], ellipsoid)
        np.testing.assert_allclose(st.ecef_km[k, [1, 3]], moved, rtol=0, atol=1e-9)
        for j, m in enumerate((1, 3)):
            la, lo = ref.lat_deg[k, j], ref.lon_deg[k, j]
            np.testing.assert_allclose(st.up[k, m], _normal_by_finite_differences(la, lo), atol=1e-8)
            np.testing.assert_array_equal(st.up[k, [0, 2]], base.up[[0, 2]])
    for a, b in zip(geo, st[:4], strict=True):
        np.testing.assert_array_equal(a, b)
    # the listed coordinates of a moving node are its rest position, not its track's
    np.testing.assert_allclose(
        g.ecef_km, _pyproj_ecef_km(base.lat_deg, base.lon_deg, base.alt_m, ellipsoid), rtol=0, atol=1e-9
    )


def test_a_track_set_with_no_moving_node_is_at_rest() -> None:
    """``tracks`` given but ``moving`` empty: the nodes stay at rest (the early return of ``at``)."""
    base = _nodes()
    g = replace(base, tracks=TrackSet.of([make_track([0.0, 10.0], [0.0, 0.01], [0.0, 0.0])]))
    st = g.at(np.array([5.0]))
    np.testing.assert_allclose(st.ecef_km[0], base.ecef_km, atol=1e-12)
    np.testing.assert_array_equal(st.speed_kmh, np.zeros((1, 4)))
    np.testing.assert_array_equal(g.geodetic_at(np.array([5.0]))[0], st.lat_deg)


def test_index_finds_a_node_by_name() -> None:
    g = _nodes()
    assert [g.index(n) for n in ("a", "b", "c", "d")] == [0, 1, 2, 3]
    with pytest.raises(InputError):
        g.index("zz")


def test_moving_indices_without_tracks_stay_at_rest() -> None:
    """``moving`` set but no ``tracks``: nothing to interpolate, so both ``at`` and ``geodetic_at`` keep every
    node at its listed place (the two methods test the same condition)."""
    base = _nodes()
    g = replace(base, moving=np.array([1], dtype=np.int64))
    t = np.array([0.0, 30.0])
    st = g.at(t)
    np.testing.assert_allclose(st.ecef_km[1], base.ecef_km, atol=1e-12)
    for a, b in zip(g.geodetic_at(t), st[:4], strict=True):
        np.testing.assert_array_equal(a, b)
