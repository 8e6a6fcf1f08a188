"""Positions of every satellite at a vector of times: SGP4 in one compiled call, then TEME -> ITRF.

SGP4 gives positions in the True Equator, Mean Equinox (TEME) frame.  We rotate them about the z axis by the
Greenwich Mean Sidereal Time of IAU 1982 to the pseudo-Earth-fixed frame, as recommended for SGP4 output by
Vallado, Crawford, Hujsak & Kelso (2006), "Revisiting Spacetrack Report #3", AIAA 2006-6753, sec. IV.B and
appendix C.  Polar motion (|x_p|, |y_p| < 0.5 arcsec, at most ~15 m at LEO radius) is left out, so "ITRF" here is
that pseudo-Earth-fixed frame; UT1 - UTC is a parameter (default 0 s: up to 0.9 s, ~0.45 km along track at LEO).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sgp4.api import Satrec, SatrecArray

from leonet.constants import JD_J2000, SECONDS_PER_DAY, WGS72_A_KM, WGS84_A_KM, WGS84_B_KM

#: A propagated position is physically impossible, and the satellite takes part in no link at that time, when it
#: is less than this far above the WGS-84 ellipsoid (along the radius; ~ the Karman line: nothing orbits lower) ...
MIN_ALTITUDE_KM = 100.0
#: ... or farther from the Earth's centre than the element set's apogee a (1 + e) (a from its mean motion) by more
#: than max(this, 1% of a): SGP4's short-period terms move a LEO radius by ~5 km (J2), drag only lowers it, so a
#: state far above the apogee is an artefact, e.g. of an element set propagated months from its epoch.
MAX_ABOVE_APOGEE_KM = 100.0


def gmst82_rad(jd_ut1_whole: ArrayLike, jd_ut1_frac: ArrayLike = 0.0) -> NDArray[np.float64]:
    """Greenwich Mean Sidereal Time (IAU 1982 model) in radians, in ``[0, 2 pi)``.

    ``GMST = 67310.54841 s + (876600 h + 8640184.812866 s) T + 0.093104 s T^2 - 6.2e-6 s T^3`` with ``T`` Julian
    centuries of UT1 since J2000 (Aoki et al. 1982; Vallado et al. 2006, AIAA 2006-6753, eq. in appendix C,
    as in the ``gstime`` routine of the reference SGP4 code).
    """
    t = ((np.asarray(jd_ut1_whole, dtype=np.float64) - JD_J2000) + np.asarray(jd_ut1_frac, dtype=np.float64)) / 36525.0
    # the same order of operations as gstime, so both agree to the last bit
    seconds = -6.2e-6 * t * t * t + 0.093104 * t * t + (876600.0 * 3600 + 8640184.812866) * t + 67310.54841
    return np.mod(seconds * (np.pi / 180.0) / 240.0, 2.0 * np.pi)


def teme_to_itrf(r_teme_km: ArrayLike, gmst_rad: ArrayLike) -> NDArray[np.float64]:
    """Rotate TEME vectors to the Earth-fixed frame: ``r_itrf = R3(gmst) r_teme`` (AIAA 2006-6753, appendix C).

    ``r_teme_km`` has xyz on its last axis; ``gmst_rad`` broadcasts against the other axes.
    """
    r = np.asarray(r_teme_km, dtype=np.float64)
    theta = np.asarray(gmst_rad, dtype=np.float64)
    c, s = np.cos(theta), np.sin(theta)
    out = np.empty(np.broadcast_shapes(r.shape, (*theta.shape, 3)), dtype=np.float64)
    out[..., 0] = c * r[..., 0] + s * r[..., 1]
    out[..., 1] = -s * r[..., 0] + c * r[..., 1]
    out[..., 2] = r[..., 2]
    return out


def sgp4_teme_state(
    satrecs: Sequence[Satrec] | SatrecArray, jd_whole: ArrayLike, jd_frac: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.uint8]]:
    """TEME positions (km) and velocities (km/s), each ``(S, T, 3)``, and SGP4 error codes ``(S, T)``, for S
    satellites at T times (UTC split Julian dates), in one call of the compiled ``SatrecArray.sgp4`` kernel.
    Where the error code is not 0 the vectors are SGP4's last values, not positions: check the codes."""
    arr = satrecs if isinstance(satrecs, SatrecArray) else SatrecArray(list(satrecs))
    jd = np.atleast_1d(np.asarray(jd_whole, dtype=np.float64))
    fr = np.atleast_1d(np.asarray(jd_frac, dtype=np.float64))
    err, r, v = arr.sgp4(jd, fr)
    return r, v, err


def sgp4_teme_km(
    satrecs: Sequence[Satrec] | SatrecArray, jd_whole: ArrayLike, jd_frac: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.uint8]]:
    """TEME positions, shape ``(S, T, 3)`` in km, and SGP4 error codes, shape ``(S, T)`` (see
    :func:`sgp4_teme_state`)."""
    r, _v, err = sgp4_teme_state(satrecs, jd_whole, jd_frac)
    return r, err


def max_radius_km(satrecs: Sequence[Satrec]) -> NDArray[np.float64]:
    """Largest physically possible distance from the Earth's centre of each satellite (km): its element set's
    apogee plus the margin of :data:`MAX_ABOVE_APOGEE_KM`."""
    a_km = np.array([s.a for s in satrecs], dtype=np.float64) * WGS72_A_KM  # sgp4: a in Earth radii (WGS-72)
    e = np.array([s.ecco for s in satrecs], dtype=np.float64)
    out: NDArray[np.float64] = a_km * (1.0 + e) + np.maximum(MAX_ABOVE_APOGEE_KM, 0.01 * a_km)
    return out


def impossible(r_km: NDArray[np.float64], max_r_km: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Which positions ``(..., S, 3)`` are physically impossible: below :data:`MIN_ALTITUDE_KM` above the
    ellipsoid along the radius, or beyond ``max_r_km`` (S,) (see :func:`max_radius_km`).  NaN counts as
    impossible."""
    r = np.sqrt(np.einsum("...i,...i->...", r_km, r_km))
    with np.errstate(invalid="ignore", divide="ignore"):
        sin2 = np.square(r_km[..., 2] / r)
    # geocentric radius of the ellipsoid at the position's geocentric latitude
    surface = WGS84_A_KM * WGS84_B_KM / np.sqrt(WGS84_B_KM**2 * (1.0 - sin2) + WGS84_A_KM**2 * sin2)
    ok: NDArray[np.bool_] = (r >= surface + MIN_ALTITUDE_KM) & (r <= max_r_km)
    return ~ok


def positions_itrf_km(
    satrecs: Sequence[Satrec] | SatrecArray,
    jd_whole: ArrayLike,
    jd_frac: ArrayLike,
    dut1_s: float = 0.0,
    max_r_km: NDArray[np.float64] | None = None,
) -> NDArray[np.float64]:
    """Earth-fixed positions, shape ``(T, S, 3)`` in km; a satellite SGP4 cannot propagate at a time (decayed,
    eccentricity out of range) is NaN there, so that it takes part in no link; with ``max_r_km`` (see
    :func:`max_radius_km`), so is a physically impossible position (:func:`impossible`)."""
    jd = np.atleast_1d(np.asarray(jd_whole, dtype=np.float64))
    fr = np.atleast_1d(np.asarray(jd_frac, dtype=np.float64))
    r, err = sgp4_teme_km(satrecs, jd, fr)
    theta = gmst82_rad(jd, fr + dut1_s / SECONDS_PER_DAY)  # (T,)
    out = teme_to_itrf(np.swapaxes(r, 0, 1), theta[:, None])  # (T, S, 3)
    bad = np.swapaxes(err, 0, 1) != 0
    if max_r_km is not None:
        bad |= impossible(out, max_r_km)
    if bad.any():
        out[bad] = np.nan
    return out
