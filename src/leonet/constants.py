"""Physical constants, with their sources. Units are in the names."""

from __future__ import annotations

#: Speed of light in vacuum (exact, SI definition of the metre, BIPM 2019).
C_KM_S = 299_792.458

#: WGS-84 ellipsoid (NIMA TR8350.2, 3rd ed., table 3.1).
WGS84_A_KM = 6378.137
WGS84_F = 1.0 / 298.257223563
WGS84_B_KM = WGS84_A_KM * (1.0 - WGS84_F)

#: WGS-72 gravitational parameter and radius, the constants SGP4 is defined with
#: (Hoots & Roehrich 1980, Spacetrack Report #3; Vallado et al. 2006, AIAA 2006-6753).
WGS72_MU_KM3_S2 = 398_600.8
WGS72_A_KM = 6378.135

#: Mean Earth radius (IUGG), used only for spherical bounds.
EARTH_MEAN_RADIUS_KM = 6371.0088

#: Julian date of 1949-12-31 00:00 UT, the epoch origin of ``Satrec.sgp4init``.
JD_1949_12_31 = 2433281.5
#: Julian date of J2000.0 (2000-01-01 12:00 TT; used as UT1 in GMST 1982).
JD_J2000 = 2451545.0

SECONDS_PER_DAY = 86_400.0
