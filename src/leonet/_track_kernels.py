"""The numba kernels of :mod:`leonet.tracks` (interpolation along WGS-84 geodesics), in a module of their own so
that loading a scenario does not import numba: :mod:`leonet.tracks` imports this module on first use."""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray

_A_M = 6378137.0  # WGS-84
_F = 1.0 / 298.257223563
_B_M = _A_M * (1.0 - _F)


_N_SETUP = 12
#: segments up to this long (m), away from the poles, follow a cubic Hermite curve (see :func:`_hermite_setup`)
HERMITE_MAX_M = 15_000.0
_HERMITE_MAX_LAT_DEG = 80.0
_E2 = _F * (2.0 - _F)


@njit(cache=True, nogil=True)
def _vincenty_setup(lat_deg: NDArray[np.float64], az_deg: NDArray[np.float64]) -> NDArray[np.float64]:
    """Per start point and azimuth, the terms of Vincenty's direct formula (1975, eqs. 1-3 and the constants A,
    B, C) that do not depend on the distance: sin U1, cos U1, sin a1, cos a1, sigma1, sin a, cos^2 a, A, B, C,
    sin 2 sigma1, cos 2 sigma1."""
    out = np.empty((lat_deg.size, _N_SETUP))
    e2p = (_A_M * _A_M - _B_M * _B_M) / (_B_M * _B_M)
    for i in range(lat_deg.size):
        phi1 = np.radians(lat_deg[i])
        alpha1 = np.radians(az_deg[i])
        sin_a1, cos_a1 = np.sin(alpha1), np.cos(alpha1)
        u1 = np.arctan2((1.0 - _F) * np.sin(phi1), np.cos(phi1))
        sin_u1, cos_u1 = np.sin(u1), np.cos(u1)
        sigma1 = np.arctan2(sin_u1, cos_u1 * cos_a1)
        sin_alpha = cos_u1 * sin_a1
        cos2_alpha = 1.0 - sin_alpha * sin_alpha
        u2 = cos2_alpha * e2p
        a_ = 1.0 + u2 / 16384.0 * (4096.0 + u2 * (-768.0 + u2 * (320.0 - 175.0 * u2)))
        b_ = u2 / 1024.0 * (256.0 + u2 * (-128.0 + u2 * (74.0 - 47.0 * u2)))
        c_ = _F / 16.0 * cos2_alpha * (4.0 + _F * (4.0 - 3.0 * cos2_alpha))
        out[i, 0], out[i, 1], out[i, 2], out[i, 3], out[i, 4] = sin_u1, cos_u1, sin_a1, cos_a1, sigma1
        out[i, 5], out[i, 6], out[i, 7], out[i, 8], out[i, 9] = sin_alpha, cos2_alpha, a_, b_, c_
        out[i, 10], out[i, 11] = np.sin(2.0 * sigma1), np.cos(2.0 * sigma1)
    return out


@njit(cache=True, nogil=True)
def _hermite_setup(
    lat_deg: NDArray[np.float64],
    lon_deg: NDArray[np.float64],
    az_deg: NDArray[np.float64],
    az_end_deg: NDArray[np.float64],
    len_m: NDArray[np.float64],
) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    """Which segments take the cubic Hermite curve (up to :data:`HERMITE_MAX_M` long, within
    :data:`_HERMITE_MAX_LAT_DEG` of the equator), and their tangents in degrees per unit fraction: the geodesic's
    dlat/ds = cos az / M and dlon/ds = sin az / (N cos lat) at both ends (M, N: the WGS-84 radii of curvature),
    times the length.  The curve's distance from the geodesic at the same fraction of length grows as the
    fourth power of the length and with latitude: at 14.9 km under 0.05 mm at 50 deg and under 0.6 mm just
    below 80 deg (pinned against pyproj by ``tests/test_tracks_boundaries.py``).  Other segments use
    Vincenty's formula (under 0.05 mm in the same test)."""
    n = lat_deg.size
    short = np.zeros(n, dtype=np.bool_)
    tangent = np.zeros((n, 4))
    for i in range(n - 1):
        la0, la1 = lat_deg[i], lat_deg[i + 1]
        if len_m[i] > HERMITE_MAX_M or max(abs(la0), abs(la1)) > _HERMITE_MAX_LAT_DEG:
            continue
        short[i] = True
        for k in range(2):
            la = la0 if k == 0 else la1
            phi = np.radians(la)
            w = np.sqrt(1.0 - _E2 * np.sin(phi) ** 2)
            m_rad = _A_M * (1.0 - _E2) / w**3
            n_rad = _A_M / w
            a = np.radians(az_deg[i] if k == 0 else az_end_deg[i])
            tangent[i, 2 * k] = np.degrees(np.cos(a) / m_rad) * len_m[i]
            tangent[i, 2 * k + 1] = np.degrees(np.sin(a) / (n_rad * np.cos(phi))) * len_m[i]
    short[n - 1] = n > 0  # a track's last point starts no segment
    return short, tangent


@njit(cache=True, nogil=True)
def _hermite_at(
    lat0: float, lon0: float, lat1: float, lon1: float, tg: NDArray[np.float64], f: float
) -> tuple[float, float]:
    """The point at fraction ``f`` of a short segment on its cubic Hermite curve."""
    f2 = f * f
    f3 = f2 * f
    h00, h10, h01, h11 = 2.0 * f3 - 3.0 * f2 + 1.0, f3 - 2.0 * f2 + f, -2.0 * f3 + 3.0 * f2, f3 - f2
    d = lon1 - lon0
    if d > 180.0:
        d -= 360.0
    elif d < -180.0:
        d += 360.0
    lat = h00 * lat0 + h10 * tg[0] + h01 * lat1 + h11 * tg[2]
    lon = h00 * lon0 + h10 * tg[1] + h01 * (lon0 + d) + h11 * tg[3]
    if lon > 180.0 or lon < -180.0:
        lon = (lon + 180.0) % 360.0 - 180.0
    return lat, lon


@njit(cache=True, nogil=True)
def _vincenty_from(v: NDArray[np.float64], lat_deg: float, lon_deg: float, s_m: float) -> tuple[float, float]:
    """The point ``s_m`` metres along the geodesic whose setup terms are ``v`` (from :func:`_vincenty_setup`),
    starting at (lat, lon) on WGS-84 (Vincenty 1975, eqs. 5-11)."""
    if s_m == 0.0:
        return lat_deg, lon_deg
    sin_u1, cos_u1, sin_a1, cos_a1 = v[0], v[1], v[2], v[3]
    sin_alpha, a_, b_, c = v[5], v[7], v[8], v[9]
    sin_2s1, cos_2s1 = v[10], v[11]
    sigma0 = s_m / (_B_M * a_)
    sigma = sigma0
    sin_s, cos_s = np.sin(sigma), np.cos(sigma)
    cos_2sm = cos_2s1 * cos_s - sin_2s1 * sin_s  # cos(2 sigma1 + sigma)
    for _ in range(20):
        d_sigma = (
            b_
            * sin_s
            * (
                cos_2sm
                + b_
                / 4.0
                * (
                    cos_s * (-1.0 + 2.0 * cos_2sm * cos_2sm)
                    - b_ / 6.0 * cos_2sm * (-3.0 + 4.0 * sin_s * sin_s) * (-3.0 + 4.0 * cos_2sm * cos_2sm)
                )
            )
        )
        new = sigma0 + d_sigma
        # the error left after a step is about B (< 1.7e-3) times the step: 1e-9 rad leaves ~1e-5 m
        done = abs(new - sigma) < 1e-9
        sigma = new
        sin_s, cos_s = np.sin(sigma), np.cos(sigma)
        cos_2sm = cos_2s1 * cos_s - sin_2s1 * sin_s
        if done:
            break
    tmp = sin_u1 * sin_s - cos_u1 * cos_s * cos_a1
    phi2 = np.arctan2(sin_u1 * cos_s + cos_u1 * sin_s * cos_a1, (1.0 - _F) * np.sqrt(sin_alpha * sin_alpha + tmp * tmp))
    lam = np.arctan2(sin_s * sin_a1, cos_u1 * cos_s - sin_u1 * sin_s * cos_a1)
    big_l = lam - (1.0 - c) * _F * sin_alpha * (
        sigma + c * sin_s * (cos_2sm + c * cos_s * (-1.0 + 2.0 * cos_2sm * cos_2sm))
    )
    lon2 = lon_deg + np.degrees(big_l)
    lon2 = (lon2 + 180.0) % 360.0 - 180.0
    if lon2 == -180.0 and lon_deg > 0.0:
        lon2 = 180.0
    return np.degrees(phi2), lon2


@njit(cache=True, nogil=True)
def _interpolate_kernel(
    t_q: NDArray[np.float64],
    t_s: NDArray[np.float64],
    lat: NDArray[np.float64],
    lon: NDArray[np.float64],
    alt: NDArray[np.float64],
    start: NDArray[np.int64],
    count: NDArray[np.int64],
    seg_len: NDArray[np.float64],
    seg_tangent: NDArray[np.float64],
    seg_long: NDArray[np.int64],
    vincenty: NDArray[np.float64],
    out_lat: NDArray[np.float64],
    out_lon: NDArray[np.float64],
    out_alt: NDArray[np.float64],
    out_speed: NDArray[np.float64],
) -> None:
    n_t, n_tr = out_lat.shape
    for k in range(n_t):
        tq = t_q[k]
        for n in range(n_tr):
            s0 = start[n]
            last = s0 + count[n] - 1
            lo, hi = s0, last
            while lo < hi:  # last point at or before tq (or the first point, if tq is before the track starts)
                mid = (lo + hi + 1) // 2
                if t_s[mid] <= tq:
                    lo = mid
                else:
                    hi = mid - 1
            j = lo
            if j < last and t_s[j] <= tq:
                dt = t_s[j + 1] - t_s[j]
                frac = (tq - t_s[j]) / dt
                r = seg_long[j]
                if r < 0:
                    la, lo_ = _hermite_at(lat[j], lon[j], lat[j + 1], lon[j + 1], seg_tangent[j], frac)
                else:
                    la, lo_ = _vincenty_from(vincenty[r], lat[j], lon[j], frac * seg_len[j])
                out_lat[k, n] = la
                out_lon[k, n] = lo_
                out_alt[k, n] = alt[j] + frac * (alt[j + 1] - alt[j])
                out_speed[k, n] = seg_len[j] / dt * 3.6
            else:  # holding still: exactly at its track point
                out_lat[k, n] = lat[j]
                out_lon[k, n] = lon[j]
                out_alt[k, n] = alt[j]
                out_speed[k, n] = 0.0
