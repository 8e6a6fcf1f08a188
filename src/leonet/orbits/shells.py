"""Walker constellations: shells from (altitude, inclination, planes, satellites per plane, phasing).

A Walker-delta pattern ``i: T/P/F`` (Walker 1984, "Satellite constellations", J. Brit. Interplanet. Soc. 37,
559-572) spreads ``P`` orbital planes evenly over 360 deg of right ascension, puts ``T/P`` satellites evenly in
each plane, and shifts plane ``p``'s satellites by ``F * 360 / T`` deg of mean anomaly per plane.  A Walker-star
pattern (polar constellations such as OneWeb) spreads the planes over 180 deg instead.

The presets are taken from public filings (sources next to each).  The phasing factor is not stated in those
filings; we use ``F = 1`` throughout and say so in the README.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from leonet.constants import SECONDS_PER_DAY, WGS72_A_KM, WGS72_MU_KM3_S2
from leonet.errors import InputError

Pattern = Literal["delta", "star"]


@dataclass(frozen=True)
class Shell:
    """One Walker shell. Angles in degrees, altitude above the WGS-72 equatorial radius in km."""

    altitude_km: float
    inclination_deg: float
    planes: int
    sats_per_plane: int
    phasing: int = 1
    pattern: Pattern = "delta"
    name: str = ""

    def __post_init__(self) -> None:
        where = f"shell {self.name!r}" if self.name else "shell"
        if not (self.altitude_km > 0.0 and math.isfinite(self.altitude_km)):
            raise InputError(f"{where}.altitude_km", f"got {self.altitude_km}; expected a number > 0")
        if not (0.0 <= self.inclination_deg <= 180.0):
            raise InputError(f"{where}.inclination_deg", f"got {self.inclination_deg}; expected a value in 0..180")
        if self.planes < 1:
            raise InputError(f"{where}.planes", f"got {self.planes}; expected an integer >= 1")
        if self.sats_per_plane < 1:
            raise InputError(f"{where}.sats_per_plane", f"got {self.sats_per_plane}; expected an integer >= 1")
        if not (0 <= self.phasing < max(self.planes, 1)):
            raise InputError(
                f"{where}.phasing", f"got {self.phasing}; expected an integer in 0..planes-1 ({self.planes - 1})"
            )
        if self.pattern not in ("delta", "star"):
            raise InputError(f"{where}.pattern", f"got {self.pattern!r}; expected 'delta' or 'star'")

    @property
    def size(self) -> int:
        return self.planes * self.sats_per_plane

    @property
    def semi_major_axis_km(self) -> float:
        return WGS72_A_KM + self.altitude_km

    @property
    def period_s(self) -> float:
        """Keplerian period ``2 pi sqrt(a^3 / mu)`` (Kepler's third law), with SGP4's WGS-72 ``mu``."""
        return float(kepler_period_s(self.semi_major_axis_km))


def kepler_period_s(semi_major_axis_km: ArrayLike) -> NDArray[np.float64]:
    """Orbital period from Kepler's third law, ``T = 2 pi sqrt(a^3 / mu)``."""
    a = np.asarray(semi_major_axis_km, dtype=np.float64)
    out: NDArray[np.float64] = 2.0 * np.pi * np.sqrt(a**3 / WGS72_MU_KM3_S2)
    return out


def mean_motion_rev_per_day(altitude_km: float) -> float:
    """Keplerian mean motion for a circular orbit at ``altitude_km`` above the WGS-72 equator."""
    return SECONDS_PER_DAY / float(kepler_period_s(WGS72_A_KM + altitude_km))


@dataclass(frozen=True)
class WalkerElements:
    """Mean elements of every satellite of a shell, in degrees; index ``plane * sats_per_plane + slot``."""

    raan_deg: NDArray[np.float64]
    mean_anomaly_deg: NDArray[np.float64]
    plane: NDArray[np.int32]
    slot: NDArray[np.int32]


def walker_elements(shell: Shell) -> WalkerElements:
    """RAAN and mean anomaly of each satellite of a Walker shell (Walker 1984, eqs. for the ``T/P/F`` pattern).

    ``RAAN_p = spread * p / P`` with ``spread`` 360 deg (delta) or 180 deg (star), and
    ``M_{p,s} = 360 * s / S + 360 * F * p / T`` with ``T = P * S``.
    """
    p = np.repeat(np.arange(shell.planes, dtype=np.int32), shell.sats_per_plane)
    s = np.tile(np.arange(shell.sats_per_plane, dtype=np.int32), shell.planes)
    spread = 360.0 if shell.pattern == "delta" else 180.0
    raan = spread * p / shell.planes
    total = shell.planes * shell.sats_per_plane
    mean_anomaly = np.mod(360.0 * s / shell.sats_per_plane + 360.0 * shell.phasing * p / total, 360.0)
    return WalkerElements(raan_deg=raan.astype(np.float64), mean_anomaly_deg=mean_anomaly, plane=p, slot=s)


#: Built-in presets, named after public filings.
PRESETS: dict[str, tuple[Shell, ...]] = {
    # FCC order DA/FCC 21-48 (April 2021), first Gen1 shell: 72 planes x 22, 550 km, 53.0 deg.
    "starlink-550": (Shell(550.0, 53.0, 72, 22, name="starlink-550"),),
    # FCC order FCC 21-48 (April 2021), all five Gen1 shells, 4,408 satellites.
    "starlink-gen1": (
        Shell(550.0, 53.0, 72, 22, name="gen1-550"),
        Shell(540.0, 53.2, 72, 22, name="gen1-540"),
        Shell(570.0, 70.0, 36, 20, name="gen1-570"),
        Shell(560.0, 97.6, 6, 58, name="gen1-560a"),
        Shell(560.0, 97.6, 4, 43, name="gen1-560b"),
    ),
    # FCC order FCC 20-102 (July 2020), Kuiper's three shells, 3,236 satellites.
    "kuiper": (
        Shell(630.0, 51.9, 34, 34, name="kuiper-630"),
        Shell(610.0, 42.0, 36, 36, name="kuiper-610"),
        Shell(590.0, 33.0, 28, 28, name="kuiper-590"),
    ),
    # Starlink Gen2, Configuration 1 of SpaceX's amended application (IBFS SAT-AMD-20210818-00105, Aug 2021),
    # 29,988 satellites in nine shells: 3 x 48 x 110 (15,840) + 30 x 120 (3,600) + 3 x 28 x 120 (10,080)
    # + 12 x 12 (144) + 18 x 18 (324).  The FCC's partial grant (FCC 22-91, Dec 2022) authorised 7,500 of them,
    # in the 525 / 530 / 535 km shells: "starlink-gen2-granted" below.  Phasing F = 1 like every preset: the
    # filing states none, and F = 1 keeps the +Grid seam link (last plane -> plane 0, slot s -> s + F) as short
    # as a Walker delta allows while staying a Walker pattern distinct from F = 0 (planes in lock-step, whose
    # satellites meet at the plane crossings).
    "starlink-gen2": (
        Shell(340.0, 53.0, 48, 110, name="gen2-340"),
        Shell(345.0, 46.0, 48, 110, name="gen2-345"),
        Shell(350.0, 38.0, 48, 110, name="gen2-350"),
        Shell(360.0, 96.9, 30, 120, name="gen2-360"),
        Shell(525.0, 53.0, 28, 120, name="gen2-525"),
        Shell(530.0, 43.0, 28, 120, name="gen2-530"),
        Shell(535.0, 33.0, 28, 120, name="gen2-535"),
        Shell(604.0, 148.0, 12, 12, name="gen2-604"),
        Shell(614.0, 115.7, 18, 18, name="gen2-614"),
    ),
    # The part of Gen2 the FCC granted: FCC 22-91, Order and Authorization (adopted 29 Nov 2022, released 1 Dec
    # 2022; https://docs.fcc.gov/public/attachments/FCC-22-91A1.pdf) grants SpaceX "up to 7,500 satellites
    # operating at altitudes of 525, 530, and 535 km and inclinations of 53, 43, and 33 degrees, respectively"
    # and defers the rest of the 29,988 (the FCC's announcement of the order:
    # https://www.fcc.gov/document/fcc-partially-grants-spacex-gen2-broadband-satellite-application; the PDF's
    # address follows the FCC's attachment pattern and was not fetched from this offline machine, the quoted
    # grant was checked on 2026-12-02 against press reports of the order, e.g. convergedigest.blogspot.com
    # 2022-12, which also gives 10,080 filed satellites in these three shells = 3 x 28 x 120 as above).
    # The order does not say how the 7,500 are split over the three shells,
    # nor their planes.  OUR ASSUMPTION: an equal split, 2,500 per shell, as 25 planes x 100 (the filed shells
    # are 28 x 120 = 3,360 each; 25 x 100 is the 2,500 whose planes / satellites-per-plane ratio is nearest the
    # filed 28 / 120), Walker delta F = 1 as above.
    "starlink-gen2-granted": (
        Shell(525.0, 53.0, 25, 100, name="gen2g-525"),
        Shell(530.0, 43.0, 25, 100, name="gen2g-530"),
        Shell(535.0, 33.0, 25, 100, name="gen2g-535"),
    ),
    # OneWeb phase 1 (FCC grant FCC 17-77, June 2017; 720 satellites): 18 polar planes x 40 at 1,200 km, 87.9 deg,
    # a Walker-star pattern.
    "oneweb": (Shell(1200.0, 87.9, 18, 40, phasing=1, pattern="star", name="oneweb-p1"),),
}


def preset(name: str) -> tuple[Shell, ...]:
    """The shells of a named preset, or an :class:`InputError` naming the known ones."""
    try:
        return PRESETS[name]
    except KeyError:
        known = ", ".join(sorted(PRESETS))
        raise InputError("preset", f"unknown preset {name!r}; expected one of: {known}") from None
