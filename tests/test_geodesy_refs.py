"""Geodesy (``leonet.geodesy``) against independent references, for the corners the broad tests of
``test_geometry.py`` do not reach.

References:
- PROJ through pyproj with the WGS-72 ellipsoid given by its parameters (``+proj=longlat`` / ``+proj=geocent``
  with a = 6,378,135 m, 1/f = 298.26; NIMA TR 8350.2 lists WGS-72 so) for ``wgs72_to_ecef_km``;
- pyproj's EPSG:4978 -> EPSG:4979 for ``ecef_to_geodetic``, ``pyproj.Geod(ellps="WGS84").inv`` for geodesics;
- the definition of elevation (the angle of ``d`` above the plane normal to ``up``): a target straight along
  ``up`` is at +90 deg, straight against it at -90 deg, whatever the rounding of ``d . up / |d|``;
- the spherical slant range ``sqrt(r_s^2 - R^2 cos^2 e) - R sin e`` at e = 0 and 90 deg: the tangent length
  ``sqrt(r_s^2 - R^2)`` and the height ``r_s - R``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pyproj
import pytest

from leonet.geodesy import (
    ecef_to_geodetic,
    elevation_deg,
    geodesic_km,
    geodetic_to_ecef_km,
    max_slant_range_km,
    to_ecef_km,
    up_unit,
    wgs72_to_ecef_km,
)

_WGS72 = pyproj.Transformer.from_crs(
    pyproj.CRS.from_proj4("+proj=longlat +a=6378135 +rf=298.26 +no_defs"),
    pyproj.CRS.from_proj4("+proj=geocent +a=6378135 +rf=298.26 +units=m +no_defs"),
    always_xy=True,
)
_GEOD = pyproj.Geod(ellps="WGS84")


def _points(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    lat = np.r_[np.degrees(np.arcsin(rng.uniform(-1, 1, n))), 90.0, -90.0, 0.0, 0.0]
    lon = np.r_[rng.uniform(-180, 180, n), 0.0, 45.0, 180.0, -90.0]
    alt = np.r_[rng.uniform(-500, 12000, n), 0.0, 1e5, -400.0, 0.0]
    return lat, lon, alt


def test_wgs72_positions_are_projs() -> None:
    """``wgs72_to_ecef_km`` and ``to_ecef_km(..., "wgs72")`` equal PROJ's geocentric coordinates on the WGS-72
    ellipsoid (to 1 micrometre), and differ from the WGS-84 ones (by metres: 2 m in a, and the flattening)."""
    lat, lon, alt = _points(500, seed=72)
    x, y, z = _WGS72.transform(lon, lat, alt)
    ref = np.stack([x, y, z], axis=-1) / 1000.0
    np.testing.assert_allclose(wgs72_to_ecef_km(lat, lon, alt), ref, rtol=0, atol=1e-9)
    np.testing.assert_allclose(to_ecef_km(lat, lon, alt, "wgs72"), ref, rtol=0, atol=1e-9)
    np.testing.assert_allclose(wgs72_to_ecef_km(lat, lon), wgs72_to_ecef_km(lat, lon, 0.0), rtol=0, atol=0)
    assert wgs72_to_ecef_km(0.0, 0.0) == pytest.approx([6378.135, 0.0, 0.0], abs=1e-12)
    w84 = to_ecef_km(lat, lon, alt, "wgs84")
    assert np.linalg.norm(w84 - ref, axis=-1).max() > 1e-3
    with pytest.raises(ValueError, match="ellipsoid 'grs80'"):
        to_ecef_km(lat, lon, alt, "grs80")


def test_ecef_to_geodetic_is_projs_inverse() -> None:
    """``ecef_to_geodetic`` of km positions (any leading shape) equals pyproj's EPSG:4978 -> EPSG:4979 of the
    same positions in metres, and inverts ``geodetic_to_ecef_km``."""
    lat, lon, alt = _points(400, seed=4978)
    r = geodetic_to_ecef_km(lat, lon, alt)
    la, lo, h = ecef_to_geodetic(r)
    tr = pyproj.Transformer.from_crs("EPSG:4978", "EPSG:4979", always_xy=True)
    rlo, rla, rh = tr.transform(r[:, 0] * 1000.0, r[:, 1] * 1000.0, r[:, 2] * 1000.0)
    np.testing.assert_allclose(la, rla, atol=1e-12)
    np.testing.assert_allclose(lo, rlo, atol=1e-12)
    np.testing.assert_allclose(h, rh, atol=1e-6)
    np.testing.assert_allclose(la, lat, atol=1e-9)
    np.testing.assert_allclose(h, alt, atol=1e-5)
    not_pole = np.abs(lat) < 89.9
    dlon = (lo - lon + 180.0) % 360.0 - 180.0
    assert np.abs(dlon[not_pole]).max() < 1e-9
    la2, lo2, h2 = ecef_to_geodetic(r.reshape(2, -1, 3) if len(r) % 2 == 0 else r[:-1].reshape(2, -1, 3))
    assert la2.shape == lo2.shape == h2.shape and la2.ndim == 2


def test_straight_up_is_90_deg_and_straight_down_minus_90() -> None:
    """Targets along ``up`` (and against it) at random places and ranges: +-90 deg exactly, never NaN, although
    ``d . up / |d|`` rounds above 1 in about a fifth of these cases (checked here)."""
    rng = np.random.default_rng(90)
    lat, lon = rng.uniform(-90, 90, 3000), rng.uniform(-180, 180, 3000)
    up = up_unit(lat, lon)
    obs = geodetic_to_ecef_km(lat, lon, 0.0)
    k = rng.uniform(1.0, 2000.0, 3000)[:, None]
    d = up * k
    ratio = np.sum(d * up, axis=-1) / np.linalg.norm(d, axis=-1)
    assert (ratio > 1.0).sum() > 100
    hi, lo_ = elevation_deg(np.zeros(3), up, d), elevation_deg(np.zeros(3), up, -d)
    assert np.isfinite(hi).all() and np.isfinite(lo_).all()
    assert (hi[ratio > 1.0] == 90.0).all() and (lo_[ratio > 1.0] == -90.0).all()
    assert np.abs(hi - 90.0).max() < 1e-5 and np.abs(lo_ + 90.0).max() < 1e-5  # asin is flat at 1
    el = elevation_deg(obs, up, obs + d)
    assert np.isfinite(el).all() and np.abs(el - 90.0).max() < 1e-5
    # the horizon and 30 deg, in a local frame written out (east, north, up at lat 40, lon 20)
    lo = math.radians(20.0)
    east = np.array([-math.sin(lo), math.cos(lo), 0.0])
    u = up_unit(40.0, 20.0)
    o = geodetic_to_ecef_km(40.0, 20.0, 0.0)
    assert float(elevation_deg(o, u, o + 500.0 * east)) == pytest.approx(0.0, abs=1e-9)
    t30 = o + 500.0 * (math.cos(math.radians(30.0)) * east + math.sin(math.radians(30.0)) * u)
    assert float(elevation_deg(o, u, t30)) == pytest.approx(30.0, abs=1e-9)


def test_geodesic_shapes_and_the_scalar_path() -> None:
    """Scalars give a 0-d array, arrays of one keep their shape, broadcasting works, and none of it goes through
    pyproj's deprecated array-to-scalar conversion (a DeprecationWarning, made an error here); values equal
    ``Geod.inv`` for each pair."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = geodesic_km(10.0, 20.0, -30.0, 140.0)
        one = geodesic_km([10.0], [20.0], [-30.0], [140.0])
        col = geodesic_km(np.array([[10.0], [50.0]]), 20.0, -30.0, np.array([140.0, 150.0, 160.0]))
    ref = _GEOD.inv(20.0, 10.0, 140.0, -30.0)[2] / 1000.0
    assert s.shape == () and float(s) == pytest.approx(ref, abs=1e-9)
    assert one.shape == (1,) and float(one[0]) == pytest.approx(ref, abs=1e-9)
    assert col.shape == (2, 3)
    for i, la in enumerate((10.0, 50.0)):
        for j, lo in enumerate((140.0, 150.0, 160.0)):
            assert col[i, j] == pytest.approx(_GEOD.inv(20.0, la, lo, -30.0)[2] / 1000.0, abs=1e-9)
    # the argument order: latitude first (a swap would read 80 deg of longitude as latitude)
    assert float(geodesic_km(0.0, 0.0, 0.0, 80.0)) == pytest.approx(_GEOD.inv(0.0, 0.0, 80.0, 0.0)[2] / 1e3)
    assert float(geodesic_km(0.0, 0.0, 80.0, 0.0)) == pytest.approx(_GEOD.inv(0.0, 0.0, 0.0, 80.0)[2] / 1e3)
    two = geodesic_km([0.0, 1.0], [2.0, 3.0], [4.0, 5.0], [6.0, 7.0])
    np.testing.assert_allclose(two, [_GEOD.inv(2.0, 0.0, 6.0, 4.0)[2] / 1e3, _GEOD.inv(3.0, 1.0, 7.0, 5.0)[2] / 1e3])


def test_max_slant_range_at_the_horizon_and_the_zenith() -> None:
    """e = 0: the tangent length sqrt(r_s^2 - R^2); e = 90 deg: the height r_s - R; arrays of elevations."""
    assert float(max_slant_range_km(0.0, 7000.0, 6371.0)) == pytest.approx(math.sqrt(7000.0**2 - 6371.0**2))
    assert float(max_slant_range_km(90.0, 7000.0, 6371.0)) == pytest.approx(629.0, abs=1e-9)
    got = max_slant_range_km(np.array([0.0, 25.0, 90.0]), 6928.0, 6346.0)
    e = math.radians(25.0)
    mid = math.sqrt(6928.0**2 - (6346.0 * math.cos(e)) ** 2) - 6346.0 * math.sin(e)
    np.testing.assert_allclose(got, [math.sqrt(6928.0**2 - 6346.0**2), mid, 582.0], rtol=1e-12)


def test_ecef_shapes_and_the_scalar_path() -> None:
    """``geodetic_to_ecef_km`` of a scalar is (3,), of arrays of one (1, 3) / (1, 1, 3), of n points (n, 3), with
    the lat / lon / height order kept on the one-point path; no pyproj array-to-scalar DeprecationWarning (made
    an error here); values equal PROJ's EPSG:4979 -> EPSG:4978 for each point."""
    to_ecef = pyproj.Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = geodetic_to_ecef_km(10.0, 20.0, 300.0)
        one = geodetic_to_ecef_km(np.array([10.0]), np.array([20.0]), np.array([300.0]))
        nested = geodetic_to_ecef_km(np.array([[10.0]]), 20.0, 300.0)
        two = geodetic_to_ecef_km(np.array([10.0, -45.0]), np.array([20.0, 170.0]), 300.0)
    ref = np.array(to_ecef.transform(20.0, 10.0, 300.0)) / 1000.0
    assert s.shape == (3,) and one.shape == (1, 3) and nested.shape == (1, 1, 3) and two.shape == (2, 3)
    for r in (s, one[0], nested[0, 0], two[0]):
        np.testing.assert_allclose(r, ref, rtol=0, atol=1e-9)
    np.testing.assert_allclose(two[1], np.array(to_ecef.transform(170.0, -45.0, 300.0)) / 1000.0, rtol=0, atol=1e-9)
    # a (2, 2) grid of points: xyz on the last axis
    lat, lon = np.meshgrid([10.0, -45.0], [20.0, 170.0], indexing="ij")
    grid = geodetic_to_ecef_km(lat, lon, 300.0)
    assert grid.shape == (2, 2, 3)
    for i in range(2):
        for j in range(2):
            want = np.array(to_ecef.transform(lon[i, j], lat[i, j], 300.0)) / 1000.0
            np.testing.assert_allclose(grid[i, j], want, rtol=0, atol=1e-9)
