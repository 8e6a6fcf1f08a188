"""Geometry: geodetic -> ECEF, elevation and slant range, geodesic distance, the slant-range bound.

References: skyfield 1.53 (``wgs84.latlon(...).itrs_xyz``, ``(satellite - topos).at(t).altaz()``); PROJ through
pyproj (``+proj=topocentric`` east-north-up conversion, ``pyproj.Geod(ellps='WGS84').inv``, Karney 2013); the
spherical haversine formula with the IUGG mean radius as a bound; plane geometry of a sphere for the slant range
at a given elevation (law of cosines: ``rho = sqrt(r_s^2 - R^2 cos^2 e) - R sin e``).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pyproj
import pytest

from conftest import shared_file
from leonet.catalog import city
from leonet.constants import EARTH_MEAN_RADIUS_KM, WGS84_A_KM, WGS84_B_KM
from leonet.geodesy import (
    ecef_to_geodetic,
    elevation_deg,
    geodesic_km,
    geodetic_to_ecef_km,
    max_slant_range_km,
    up_unit,
)
from leonet.orbits.propagate import positions_itrf_km
from leonet.orbits.tle import parse_tle_text, satrecs_from_tle
from leonet.timebase import julian_date
from leonet.topology import _MIN_GROUND_RADIUS_KM


def _random_points(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Uniform on the sphere, plus the poles, the date line and the equator; heights -500 m .. 100 km."""
    rng = np.random.default_rng(seed)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    lon = rng.uniform(-180, 180, n)
    alt = rng.choice([0.0, 1.0], n) * rng.uniform(-500, 9000, n) + rng.choice([0, 0, 0, 1], n) * rng.uniform(0, 1e5, n)
    lat = np.r_[lat, 90.0, -90.0, 0.0, 0.0, 89.9999, -45.0]
    lon = np.r_[lon, 0.0, 123.0, 180.0, -180.0, -179.9999, 0.0]
    alt = np.r_[alt, 0.0, 100.0, -500.0, 8848.0, 0.0, 1e5]
    return lat, lon, alt


def test_geodetic_to_ecef_against_skyfield() -> None:
    """WGS-84 geodetic -> ECEF equals skyfield's ``wgs84.latlon(lat, lon, elevation_m).itrs_xyz.km`` to < 1 mm."""
    from skyfield.api import wgs84

    lat, lon, alt = _random_points(2000, seed=84)
    ours = geodetic_to_ecef_km(lat, lon, alt)
    ref = wgs84.latlon(lat, lon, elevation_m=alt).itrs_xyz.km.T
    assert ours.shape == (len(lat), 3)
    assert np.abs(ours - ref).max() < 1e-6
    # scalars and the ellipsoid's own radii
    assert geodetic_to_ecef_km(0.0, 0.0) == pytest.approx([WGS84_A_KM, 0.0, 0.0], abs=1e-9)
    assert geodetic_to_ecef_km(90.0, 0.0)[2] == pytest.approx(WGS84_B_KM, abs=1e-9)
    # round trip
    lat2, lon2, alt2 = ecef_to_geodetic(ours)
    assert np.abs(lat2 - lat).max() < 1e-9
    far_from_pole = np.abs(lat) < 89.99
    assert np.abs(((lon2 - lon + 180) % 360 - 180)[far_from_pole]).max() < 1e-9
    assert np.abs(alt2 - alt).max() < 1e-3  # metres; PROJ's inverse is ~0.1 mm at 100 km height


def test_up_unit_is_ellipsoid_normal() -> None:
    """``up_unit`` is the unit normal of the WGS-84 ellipsoid: the direction in which height grows."""
    lat, lon, _ = _random_points(500, seed=7)
    up = up_unit(lat, lon)
    assert np.allclose(np.linalg.norm(up, axis=1), 1.0, atol=1e-12)
    d = geodetic_to_ecef_km(lat, lon, 1000.0) - geodetic_to_ecef_km(lat, lon, 0.0)
    assert np.abs(d - up).max() < 1e-9  # 1 km up along the normal


def _enu_pyproj(lat: float, lon: float, alt: float, target_km: np.ndarray) -> np.ndarray:
    """East, north, up (km) of ECEF targets seen from (lat, lon, alt), by PROJ's topocentric conversion."""
    t = pyproj.Transformer.from_pipeline(
        f"+proj=pipeline +step +proj=topocentric +ellps=WGS84 +lat_0={lat!r} +lon_0={lon!r} +h_0={alt!r}"
    )
    e, n, u = t.transform(target_km[:, 0] * 1e3, target_km[:, 1] * 1e3, target_km[:, 2] * 1e3)
    return np.stack([e, n, u], axis=1) / 1e3


def test_elevation_and_range_against_pyproj_topocentric() -> None:
    """``elevation_deg`` equals ``atan2(up, hypot(east, north))`` of PROJ's topocentric ENU for the same ECEF
    vectors (< 1e-7 deg), and the slant range equals the ENU norm, at random places and satellite positions."""
    rng = np.random.default_rng(3)
    lat, lon, alt = _random_points(40, seed=3)
    for la, lo, h in zip(lat, lon, alt, strict=True):
        obs = geodetic_to_ecef_km(la, lo, h)
        sats = rng.normal(size=(200, 3))
        sats *= rng.uniform(6600, 8000, (200, 1)) / np.linalg.norm(sats, axis=1, keepdims=True)
        enu = _enu_pyproj(float(la), float(lo), float(h), sats)
        ref_el = np.degrees(np.arctan2(enu[:, 2], np.hypot(enu[:, 0], enu[:, 1])))
        el = elevation_deg(obs, up_unit(la, lo), sats)
        assert np.abs(el - ref_el).max() < 1e-7
        assert np.abs(np.linalg.norm(sats - obs, axis=1) - np.linalg.norm(enu, axis=1)).max() < 1e-9


def test_elevation_against_skyfield_altaz(ts) -> None:  # type: ignore[no-untyped-def]
    """Elevation of real Starlink satellites over a few cities (incl. high latitude and altitude) agrees with
    skyfield's ``(satellite - wgs84.latlon(...)).at(t).altaz()`` to < 0.01 deg, and the slant range with its
    ``distance()`` to < 2 m.  Both sides use the same Earth rotation: leonet gets skyfield's UT1 - UTC; skyfield
    has no polar motion table loaded (``builtin=True``), like leonet's pseudo-Earth-fixed frame."""
    from skyfield.api import EarthSatellite, wgs84

    path = shared_file("tle/starlink_2026-02-23.tle")
    recs = parse_tle_text(path.read_text(encoding="utf-8"), str(path))
    rng = np.random.default_rng(5)
    sats = satrecs_from_tle([recs[i] for i in rng.choice(len(recs), 150, replace=False)])
    when = datetime(2026, 2, 23, 6, 30, tzinfo=UTC)
    t = ts.from_datetime(when)
    jw, jf = julian_date(when)
    r_sat = positions_itrf_km(sats, np.array([jw]), np.array([jf]), dut1_s=float(t.dut1))[0]
    places = [city("London"), city("Tokyo"), city("Sao-Paulo"), city("Lagos")]
    places_extra = [
        ("Tromso", 69.65, 18.96, 10.0),
        ("La-Paz", -16.5, -68.15, 3640.0),
        ("McMurdo", -77.85, 166.67, 24.0),
    ]
    compared = visible = 0
    for name, la, lo, h in [(p.name, p.lat_deg, p.lon_deg, p.alt_m) for p in places] + places_extra:
        obs = geodetic_to_ecef_km(la, lo, h)
        el = elevation_deg(obs, up_unit(la, lo), r_sat)
        rng_km = np.linalg.norm(r_sat - obs, axis=1)
        topos = wgs84.latlon(la, lo, elevation_m=h)
        for k, sat in enumerate(sats):
            alt_angle, _az, dist = (EarthSatellite.from_satrec(sat, ts) - topos).at(t).altaz()
            assert abs(el[k] - alt_angle.degrees) < 0.01, (name, k, el[k], alt_angle.degrees)
            assert abs(rng_km[k] - dist.km) < 2e-3, (name, k)
            compared += 1
            visible += alt_angle.degrees > 25.0
    assert compared == 7 * 150
    assert visible >= 1  # some satellites are above a 25 deg mask somewhere


def _haversine_km(lat1, lon1, lat2, lon2, r=EARTH_MEAN_RADIUS_KM):  # type: ignore[no-untyped-def]
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * r * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def test_geodesic_against_pyproj_and_haversine() -> None:
    """``geodesic_km`` equals ``pyproj.Geod(ellps='WGS84').inv`` (lon/lat order as pyproj wants it), lies within
    0.6 % of the spherical haversine distance on the mean-radius sphere (the ellipsoid's meridian radius of
    curvature is 6,335 .. 6,400 km, -0.57 % .. +0.45 % from 6,371 km), and is never shorter than the straight chord."""
    rng = np.random.default_rng(11)
    n = 3000
    lat1, lon1 = np.degrees(np.arcsin(rng.uniform(-1, 1, n))), rng.uniform(-180, 180, n)
    lat2, lon2 = np.degrees(np.arcsin(rng.uniform(-1, 1, n))), rng.uniform(-180, 180, n)
    ours = geodesic_km(lat1, lon1, lat2, lon2)
    _, _, ref_m = pyproj.Geod(ellps="WGS84").inv(lon1, lat1, lon2, lat2)
    assert np.abs(ours - np.asarray(ref_m) / 1e3).max() < 1e-6
    hav = _haversine_km(lat1, lon1, lat2, lon2)
    assert (np.abs(ours - hav) <= 0.006 * hav + 1e-6).all()
    chord = np.linalg.norm(geodetic_to_ecef_km(lat1, lon1) - geodetic_to_ecef_km(lat2, lon2), axis=1)
    assert (ours >= chord - 1e-9).all()
    # known values: one degree of latitude at the equator (110.574 km), a quarter meridian (10,001.966 km)
    assert float(geodesic_km(0.0, 0.0, 1.0, 0.0)) == pytest.approx(110.574, abs=1e-3)
    assert float(geodesic_km(0.0, 10.0, 90.0, 10.0)) == pytest.approx(10001.966, abs=1e-3)
    assert float(geodesic_km(12.0, 34.0, 12.0, 34.0)) == 0.0


def test_max_slant_range_is_exact_on_a_sphere() -> None:
    """On a sphere (radial up), a satellite at radius r_s seen at elevation e is exactly
    ``sqrt(r_s^2 - R^2 cos^2 e) - R sin e`` away (law of cosines in the Earth-centre / observer / satellite plane)."""
    rng = np.random.default_rng(21)
    for _ in range(200):
        R, rs, e = rng.uniform(6350, 6400), rng.uniform(6600, 8000), rng.uniform(0, 89)
        # observer on the x axis; satellite in the x-y plane at elevation e above the local horizontal (y)
        er = math.radians(e)
        rho = float(max_slant_range_km(e, rs, R))
        sat = np.array([R + rho * math.sin(er), rho * math.cos(er), 0.0])
        assert np.linalg.norm(sat) == pytest.approx(rs, rel=1e-12)
        assert float(elevation_deg(np.array([R, 0.0, 0.0]), np.array([1.0, 0.0, 0.0]), sat)) == pytest.approx(
            e, abs=1e-9
        )


def test_max_slant_range_bounds_every_visible_satellite() -> None:
    """For random ground points (WGS-84, heights -500 m .. 100 km) and satellites (radius 6,600 .. 8,000 km), every
    satellite at geodetic elevation >= e is within ``max_slant_range_km(e - 0.2, max r_s, min R)``.  The 0.2 deg is
    the largest angle between the ellipsoid normal (geodetic up) and the radial direction the spherical formula
    assumes (0.1924 deg at 45 deg latitude).  And with the margin the link finder uses (0.5 deg below the mask and
    a ground radius of 6,346 km), the bound holds with room to spare."""
    rng = np.random.default_rng(99)
    lat, lon, alt = _random_points(400, seed=99)
    g = geodetic_to_ecef_km(lat, lon, alt)
    up = up_unit(lat, lon)
    sats = rng.normal(size=(3000, 3))
    sats *= rng.uniform(6600, 8000, (3000, 1)) / np.linalg.norm(sats, axis=1, keepdims=True)
    r_max = float(np.linalg.norm(sats, axis=1).max())
    R_min = float(np.linalg.norm(g, axis=1).min())
    assert R_min > _MIN_GROUND_RADIUS_KM
    # the normal vs radial angle is at most 0.1924 deg on WGS-84
    radial = g / np.linalg.norm(g, axis=1, keepdims=True)
    tilt = np.degrees(np.arccos(np.clip(np.einsum("ij,ij->i", radial, up), -1, 1)))
    assert tilt.max() < 0.1925
    d = sats[None, :, :] - g[:, None, :]
    slant = np.linalg.norm(d, axis=2)
    el = np.degrees(np.arcsin(np.einsum("gsk,gk->gs", d, up) / slant))
    checked = 0
    for mask in (0.0, 10.0, 25.0, 40.0, 60.0, 80.0):
        vis = el >= mask
        checked += int(vis.sum())
        assert (slant[vis] <= max_slant_range_km(mask - 0.2, r_max, R_min)).all()
        assert (slant[vis] <= max_slant_range_km(mask - 0.5, r_max, _MIN_GROUND_RADIUS_KM)).all()
    assert checked > 10_000
    # the bound is tight for a spherical observer: it is not a loose constant
    assert float(max_slant_range_km(25.0, 6928.135, 6378.135)) == pytest.approx(1123.0, abs=1.0)
