"""Geodetic coordinates on the WGS-84 ellipsoid: ECEF positions, local up vectors, elevation, geodesic distance.

The conversions themselves are PROJ's (via ``pyproj``): EPSG:4979 (WGS 84 geographic 3D) to EPSG:4978 (WGS 84
geocentric), and ``pyproj.Geod`` for geodesics (Karney 2013, "Algorithms for geodesics", J. Geodesy 87:43-55).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyproj
from numpy.typing import ArrayLike, NDArray


@lru_cache(maxsize=1)
def _to_ecef() -> pyproj.Transformer:
    return pyproj.Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)


@lru_cache(maxsize=1)
def _to_geodetic() -> pyproj.Transformer:
    return pyproj.Transformer.from_crs("EPSG:4978", "EPSG:4979", always_xy=True)


@lru_cache(maxsize=1)
def _geod() -> pyproj.Geod:
    return pyproj.Geod(ellps="WGS84")


def geodetic_to_ecef_km(lat_deg: ArrayLike, lon_deg: ArrayLike, alt_m: ArrayLike = 0.0) -> NDArray[np.float64]:
    """ECEF position (km), xyz on the last axis, of WGS-84 geodetic latitude, longitude and ellipsoidal height."""
    lat, lon, alt = np.broadcast_arrays(
        np.asarray(lat_deg, dtype=np.float64),
        np.asarray(lon_deg, dtype=np.float64),
        np.asarray(alt_m, dtype=np.float64),
    )
    if lat.size == 1:  # pyproj's scalar path; an array of one would go through a deprecated conversion
        one = _to_ecef().transform(float(lon.reshape(-1)[0]), float(lat.reshape(-1)[0]), float(alt.reshape(-1)[0]))
        return np.reshape(np.array(one) / 1000.0, (*lat.shape, 3))
    x, y, z = _to_ecef().transform(lon, lat, alt)
    return np.stack([np.asarray(x), np.asarray(y), np.asarray(z)], axis=-1) / 1000.0


#: the ellipsoids ground nodes may be placed on (scenario ``[ground] ellipsoid``)
ELLIPSOIDS = ("wgs84", "wgs72")
#: WGS-72 semi-major axis (m) and flattening (NIMA / DMA TR 8350.2 lists WGS-72 as a = 6,378,135 m,
#: f = 1 / 298.26), the ellipsoid of SGP4's constants and of Hypatia's ground stations
WGS72_A_M = 6378135.0
WGS72_F = 1.0 / 298.26


def wgs72_to_ecef_km(lat_deg: ArrayLike, lon_deg: ArrayLike, alt_m: ArrayLike = 0.0) -> NDArray[np.float64]:
    """ECEF position (km), xyz on the last axis, of geodetic coordinates on the WGS-72 ellipsoid: the textbook
    closed form (e.g. Vallado, "Fundamentals of Astrodynamics", 4th ed., alg. 51), as Hypatia's satgenpy places
    its ground stations (its ``geodetic2cartesian``)."""
    lat, lon, h = np.broadcast_arrays(
        np.asarray(lat_deg, dtype=np.float64) * (np.pi / 180.0),
        np.asarray(lon_deg, dtype=np.float64) * (np.pi / 180.0),
        np.asarray(alt_m, dtype=np.float64),
    )
    e2 = 2.0 * WGS72_F - WGS72_F * WGS72_F
    v = WGS72_A_M / np.sqrt(1.0 - e2 * np.sin(lat) * np.sin(lat))
    xyz = np.stack(
        [(v + h) * np.cos(lat) * np.cos(lon), (v + h) * np.cos(lat) * np.sin(lon), (v * (1.0 - e2) + h) * np.sin(lat)],
        axis=-1,
    )
    return xyz / 1000.0


def to_ecef_km(lat_deg: ArrayLike, lon_deg: ArrayLike, alt_m: ArrayLike, ellipsoid: str) -> NDArray[np.float64]:
    """ECEF position (km) of geodetic coordinates on ``ellipsoid`` (one of :data:`ELLIPSOIDS`)."""
    if ellipsoid == "wgs72":
        return wgs72_to_ecef_km(lat_deg, lon_deg, alt_m)
    if ellipsoid != "wgs84":
        raise ValueError(f"ellipsoid {ellipsoid!r}; expected one of {', '.join(ELLIPSOIDS)}")
    return geodetic_to_ecef_km(lat_deg, lon_deg, alt_m)


def ecef_to_geodetic(r_km: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """WGS-84 latitude (deg), longitude (deg) and height (m) of ECEF positions in km (xyz on the last axis)."""
    r = np.asarray(r_km, dtype=np.float64) * 1000.0
    lon, lat, alt = _to_geodetic().transform(r[..., 0], r[..., 1], r[..., 2])
    return np.asarray(lat), np.asarray(lon), np.asarray(alt)


def up_unit(lat_deg: ArrayLike, lon_deg: ArrayLike) -> NDArray[np.float64]:
    """Unit vector of the local vertical (ellipsoid normal) at geodetic latitude / longitude, in ECEF axes."""
    lat = np.deg2rad(np.asarray(lat_deg, dtype=np.float64))
    lon = np.deg2rad(np.asarray(lon_deg, dtype=np.float64))
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=-1)


def elevation_deg(observer_km: ArrayLike, up: ArrayLike, target_km: ArrayLike) -> NDArray[np.float64]:
    """Elevation (deg) of ``target`` above the local horizontal plane of ``observer`` whose normal is ``up``:
    ``asin(d . up / |d|)`` with ``d = target - observer`` (e.g. Vallado, "Fundamentals of Astrodynamics",
    4th ed., algorithm 27, SEZ frame)."""
    d = np.asarray(target_km, dtype=np.float64) - np.asarray(observer_km, dtype=np.float64)
    rng = np.linalg.norm(d, axis=-1)
    out: NDArray[np.float64] = np.rad2deg(np.arcsin(np.clip(np.sum(d * np.asarray(up), axis=-1) / rng, -1.0, 1.0)))
    return out


def geodesic_km(
    lat1_deg: ArrayLike, lon1_deg: ArrayLike, lat2_deg: ArrayLike, lon2_deg: ArrayLike
) -> NDArray[np.float64]:
    """Shortest distance (km) along the WGS-84 ellipsoid between two points (Karney 2013, via ``pyproj.Geod``)."""
    a = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (lat1_deg, lon1_deg, lat2_deg, lon2_deg)))
    shape = a[0].shape
    flat = [np.ascontiguousarray(x).reshape(-1) for x in a]
    if flat[0].size == 1:  # pyproj's scalar path; an array of one would go through a deprecated conversion
        _, _, d = _geod().inv(float(flat[1][0]), float(flat[0][0]), float(flat[3][0]), float(flat[2][0]))
        return np.full(shape, d / 1000.0)
    _, _, dist_m = _geod().inv(flat[1], flat[0], flat[3], flat[2])
    return np.asarray(dist_m, dtype=np.float64).reshape(shape) / 1000.0


def max_slant_range_km(
    min_elevation_deg: ArrayLike, max_sat_radius_km: float, min_ground_radius_km: float
) -> NDArray[np.float64]:
    """An upper bound on the distance to a satellite seen above ``min_elevation_deg``: the slant range on a
    sphere, ``sqrt(r_s^2 - R^2 cos^2 e) - R sin e``, which grows with the satellite radius ``r_s`` and shrinks
    with the ground radius ``R`` (so the largest ``r_s`` and smallest ``R`` bound it)."""
    e = np.deg2rad(np.asarray(min_elevation_deg, dtype=np.float64))
    R = min_ground_radius_km
    return np.sqrt(max_sat_radius_km**2 - (R * np.cos(e)) ** 2) - R * np.sin(e)  # type: ignore[no-any-return]
