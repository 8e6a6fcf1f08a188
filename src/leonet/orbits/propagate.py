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

from leonet.constants import JD_J2000, SECONDS_PER_DAY


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


def positions_itrf_km(
    satrecs: Sequence[Satrec] | SatrecArray,
    jd_whole: ArrayLike,
    jd_frac: ArrayLike,
    dut1_s: float = 0.0,
) -> NDArray[np.float64]:
    """Earth-fixed positions, shape ``(T, S, 3)`` in km; a satellite SGP4 cannot propagate at a time (decayed,
    eccentricity out of range) is NaN there, so that it takes part in no link."""
    jd = np.atleast_1d(np.asarray(jd_whole, dtype=np.float64))
    fr = np.atleast_1d(np.asarray(jd_frac, dtype=np.float64))
    r, err = sgp4_teme_km(satrecs, jd, fr)
    theta = gmst82_rad(jd, fr + dut1_s / SECONDS_PER_DAY)  # (T,)
    out = teme_to_itrf(np.swapaxes(r, 0, 1), theta[:, None])  # (T, S, 3)
    bad = np.swapaxes(err, 0, 1) != 0
    if bad.any():
        out[bad] = np.nan
    return out
