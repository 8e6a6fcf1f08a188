"""Propagation (``orbits.propagate``): the TEME -> Earth-fixed rotation, the SGP4 call, and the checks that mark a
propagated position physically impossible, against independent references.

References:
- ``sgp4``'s scalar ``Satrec.sgp4(jd, fr)`` (one satellite, one time) for the vectorised call;
- ``scipy.spatial.transform.Rotation`` for R3(theta) (a rotation of the frame by +theta about z is the rotation
  of the vector by -theta);
- ``sgp4.propagation.gstime`` (GMST 1982 of the reference SGP4 code) for the one-argument call;
- the WGS-84 ellipsoid written out as ``(x^2 + y^2) / a^2 + z^2 / b^2 = 1`` (NIMA TR8350.2: a = 6,378.137 km,
  f = 1 / 298.257223563): the point of the surface in direction u is at ``1 / sqrt((ux^2 + uy^2) / a^2 +
  uz^2 / b^2)`` from the centre; on the equator that is a, at the poles b, exactly;
- the rule of :data:`MAX_ABOVE_APOGEE_KM`'s comment written out: apogee ``a (1 + e)`` with sgp4's own semi-major
  axis (``Satrec.a``, in WGS-72 Earth radii of 6,378.135 km), plus max(100 km, 1 % of a); Kepler's third law
  from the mean motion for the unit of ``Satrec.a``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.spatial.transform import Rotation
from sgp4.api import WGS72, Satrec, SatrecArray
from sgp4.io import fix_checksum

from leonet.orbits.propagate import (
    MAX_ABOVE_APOGEE_KM,
    MIN_ALTITUDE_KM,
    gmst82_rad,
    impossible,
    max_radius_km,
    positions_itrf_km,
    sgp4_teme_km,
    sgp4_teme_state,
    teme_to_itrf,
)

A84, F84 = 6378.137, 1.0 / 298.257223563
B84 = A84 * (1.0 - F84)


def _tle(satnum: int, inc: float, ecc7: str, mm: float, raan: float = 100.0) -> Satrec:
    l1 = fix_checksum(f"1 {satnum:05d}U 20001A   26053.50000000  .00000000  00000-0  00000-0 0  9990")
    l2 = fix_checksum(f"2 {satnum:05d} {inc:8.4f} {raan:8.4f} {ecc7} 270.0000  90.0000 {mm:11.8f}    00")
    return Satrec.twoline2rv(l1, l2, WGS72)


SATS = [
    _tle(1, 53.05, "0001400", 15.064),  # Starlink-like, 550 km
    _tle(2, 63.4, "7000000", 2.00600000),  # Molniya: e = 0.7, a ~ 26,560 km
    _tle(3, 0.05, "0002000", 1.00270000),  # geostationary
    _tle(4, 97.6, "0010000", 14.8),
]
JW = np.array([2461094.5, 2461094.5, 2461095.5])
JF = np.array([0.0, 0.3, 0.1])


def test_max_radius_is_the_apogee_plus_the_margin() -> None:
    """``a (1 + e) + max(100 km, 0.01 a)``: 100 km for the LEO sets (1 % of a is ~69 km), 1 % of a for Molniya
    and GEO; ``Satrec.a`` is in WGS-72 Earth radii (checked against Kepler's third law from the mean motion)."""
    got = max_radius_km(SATS)
    assert got.shape == (4,)
    for s, g in zip(SATS, got, strict=True):
        a = s.a * 6378.135
        n_rad_s = s.no_kozai / 60.0
        assert a == pytest.approx((398600.8 / n_rad_s**2) ** (1.0 / 3.0), rel=2e-3)
        assert g == pytest.approx(a * (1.0 + s.ecco) + max(100.0, 0.01 * a), rel=1e-13)
    assert MAX_ABOVE_APOGEE_KM == 100.0
    a0 = SATS[0].a * 6378.135
    assert 0.01 * a0 < 100.0 and got[0] == pytest.approx(a0 * (1 + SATS[0].ecco) + 100.0, abs=1e-9)
    a1 = SATS[1].a * 6378.135
    assert SATS[1].ecco == pytest.approx(0.7) and got[1] == pytest.approx(a1 * 1.7 + 0.01 * a1, abs=1e-9)


def _surface_km(u: np.ndarray) -> np.ndarray:
    u = u / np.linalg.norm(u, axis=-1, keepdims=True)
    return 1.0 / np.sqrt((u[..., 0] ** 2 + u[..., 1] ** 2) / A84**2 + u[..., 2] ** 2 / B84**2)


def test_impossible_below_100_km_above_the_ellipsoid_and_beyond_the_apogee() -> None:
    """Random directions at 100 km +- 1 m above the ellipsoid (along the radius): below is impossible, above is
    not; 1 m inside and outside ``max_r_km`` likewise; NaN is impossible; shapes (T, S, 3) -> (T, S)."""
    assert MIN_ALTITUDE_KM == 100.0
    rng = np.random.default_rng(72)
    u = rng.normal(size=(50, 3))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    u[:3] = [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]]
    s = _surface_km(u)
    assert s[0] == A84 and s[1] == pytest.approx(B84, abs=1e-9)
    big = np.full(50, 1e5)
    low = u * (s + 100.0 - 1e-3)[:, None]
    high = u * (s + 100.0 + 1e-3)[:, None]
    assert impossible(low, big).all()
    assert not impossible(high, big).any()
    # against the apogee bound
    r = s + 600.0
    pos = u * r[:, None]
    assert impossible(pos, r - 1e-3).all()
    assert not impossible(pos, r + 1e-3).any()
    # (T, S, 3) with a per-satellite bound broadcast over T, NaN anywhere
    stack = np.stack([high, low, pos])
    stack[0, 5, 1] = np.nan
    bad = impossible(stack, big)
    assert bad.shape == (3, 50)
    assert bad[0].sum() == 1 and bad[0, 5] and bad[1].all() and not bad[2].any()


def test_the_bounds_themselves_are_possible() -> None:
    """Exactly 100 km above the equator (a + 100 km on the x axis; the surface there is a exactly) and above the
    pole (b + 100 km), and exactly at ``max_r_km``, are possible ("less than" / "farther than" in the
    docstrings); one float lower / higher is not."""
    for p in (np.array([A84 + 100.0, 0.0, 0.0]), np.array([0.0, 0.0, -(B84 + 100.0)])):
        assert not impossible(p[None], np.array([1e5]))[0]
        q = p * (1.0 - 1e-15)
        assert impossible(q[None], np.array([1e5]))[0]
    edge = np.array([[8000.0, 0.0, 0.0]])
    assert not impossible(edge, np.array([8000.0]))[0]
    assert impossible(edge, np.array([math.nextafter(8000.0, 0.0)]))[0]


def test_teme_state_is_sgp4s_scalar_call_for_lists_and_arrays() -> None:
    """Positions, velocities and error codes (S, T) for a list and for a SatrecArray equal sgp4's scalar call,
    satellite by satellite and time by time; scalar dates become one time."""
    r, v, err = sgp4_teme_state(SATS, JW, JF)
    r2, v2, err2 = sgp4_teme_state(SatrecArray(SATS), JW, JF)
    assert r.shape == v.shape == (4, 3, 3) and err.shape == (4, 3)
    for i, s in enumerate(SATS):
        for k in range(3):
            e, rr, vv = s.sgp4(JW[k], JF[k])
            assert e == err[i, k] == err2[i, k] == 0
            np.testing.assert_allclose(r[i, k], rr, rtol=0, atol=1e-9)
            np.testing.assert_allclose(v[i, k], vv, rtol=0, atol=1e-12)
            np.testing.assert_array_equal(r2[i, k], r[i, k])
            np.testing.assert_array_equal(v2[i, k], v[i, k])
    r1, e1 = sgp4_teme_km(SATS[:2], 2461094.5, 0.25)
    assert r1.shape == (2, 1, 3) and e1.shape == (2, 1)
    np.testing.assert_allclose(r1[1, 0], SATS[1].sgp4(2461094.5, 0.25)[1], atol=1e-9)


def test_teme_to_itrf_is_the_frame_rotation_r3() -> None:
    """``R3(theta) r`` for random vectors and angles (scipy's rotation of the vector by -theta about z), with
    theta broadcast over a leading axis."""
    rng = np.random.default_rng(3)
    r = rng.normal(size=(4, 5, 3)) * 7000.0
    theta = rng.uniform(0, 2 * np.pi, 4)
    got = teme_to_itrf(r, theta[:, None])
    assert got.shape == (4, 5, 3)
    for k in range(4):
        ref = Rotation.from_euler("z", -theta[k]).apply(r[k])
        np.testing.assert_allclose(got[k], ref, rtol=0, atol=1e-9)
    one = teme_to_itrf(np.array([1.0, 2.0, 3.0]), 0.0)
    np.testing.assert_array_equal(one, [1.0, 2.0, 3.0])


def test_gmst_with_one_argument_is_gstime_of_that_date() -> None:
    """``gmst82_rad(jd)`` (the fraction defaults to 0) equals ``sgp4.propagation.gstime(jd)``."""
    from sgp4.propagation import gstime

    for jd in (2451545.0, 2461094.5, 2433281.5):
        assert float(gmst82_rad(jd)) == pytest.approx(gstime(jd), abs=1e-11)


def test_positions_drop_what_is_beyond_max_r() -> None:
    """With ``max_r_km`` a satellite whose bound is below its radius is NaN at every time and the others are the
    unfiltered positions; the default UT1 - UTC is 0 s (the same as passing 0.0)."""
    plain = positions_itrf_km(SATS, JW, JF)
    assert np.isfinite(plain).all() and plain.shape == (3, 4, 3)
    np.testing.assert_array_equal(plain, positions_itrf_km(SATS, JW, JF, dut1_s=0.0))
    np.testing.assert_array_equal(plain, positions_itrf_km(SATS, JW, JF, max_r_km=max_radius_km(SATS)))
    bound = max_radius_km(SATS)
    bound[2] = 1000.0
    cut = positions_itrf_km(SATS, JW, JF, max_r_km=bound)
    assert np.isnan(cut[:, 2]).all()
    np.testing.assert_array_equal(cut[:, [0, 1, 3]], plain[:, [0, 1, 3]])
    # against sgp4 and the rotation written out, time by time
    for k in range(3):
        th = float(gmst82_rad(JW[k], JF[k]))
        for i, s in enumerate(SATS):
            ref = Rotation.from_euler("z", -th).apply(np.array(s.sgp4(JW[k], JF[k])[1]))
            np.testing.assert_allclose(plain[k, i], ref, rtol=0, atol=1e-8)
