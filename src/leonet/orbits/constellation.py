"""A constellation: SGP4 element sets plus the shell / plane / slot structure that +Grid ISLs need.

Walker shells and real TLE / OMM satellites end up as the same thing, a list of ``sgp4`` ``Satrec`` objects,
so both are propagated by one code path (:mod:`leonet.orbits.propagate`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from numpy.typing import NDArray
from sgp4.api import WGS72, Satrec

from leonet.constants import JD_1949_12_31
from leonet.orbits.shells import Shell, mean_motion_rev_per_day, walker_elements
from leonet.timebase import julian_date


@dataclass(frozen=True)
class Grid:
    """+Grid structure of one shell: satellites ``first .. first + planes * sats_per_plane - 1`` of the
    constellation, laid out plane by plane (index ``first + plane * sats_per_plane + slot``)."""

    first: int
    planes: int
    sats_per_plane: int
    #: whether the last plane links to plane 0 (Walker delta: yes; Walker star: no, the seam counter-rotates)
    wrap: bool = True
    #: slot offset across the seam: plane P of a Walker delta ``T/P/F`` pattern is plane 0 shifted by F slots
    seam_shift: int = 0


@dataclass(frozen=True)
class Constellation:
    """Satellites of one network, in node-id order (satellite ``k`` is node ``k``)."""

    name: str
    satrecs: Sequence[Satrec]
    sat_names: Sequence[str]
    grids: tuple[Grid, ...] = field(default=())
    #: ISLs given as explicit satellite pairs (E, 2), e.g. inferred for real TLE sets; in addition to ``grids``
    isl_pairs: NDArray[np.int32] = field(default_factory=lambda: np.empty((0, 2), dtype=np.int32))
    #: which satellites come from real element sets (TLE / OMM), whose age matters; empty: none (Walker shells)
    observed: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))

    @property
    def size(self) -> int:
        return len(self.satrecs)

    def __post_init__(self) -> None:
        if len(self.satrecs) != len(self.sat_names):
            raise ValueError("satrecs and sat_names differ in length")
        if len(self.observed) not in (0, len(self.satrecs)):
            raise ValueError("observed must be empty or have one flag per satellite")

    def observed_mask(self) -> NDArray[np.bool_]:
        """One flag per satellite: whether it comes from a real element set."""
        return self.observed if len(self.observed) else np.zeros(self.size, dtype=bool)


def walker_satrecs(shell: Shell, epoch: datetime, first_satnum: int = 1) -> list[Satrec]:
    """SGP4 element sets for a Walker shell at ``epoch``: circular (e = 0), no drag, Keplerian mean motion."""
    el = walker_elements(shell)
    n_rad_min = mean_motion_rev_per_day(shell.altitude_km) * 2.0 * math.pi / 1440.0
    jd_whole, jd_frac = julian_date(epoch)
    epoch_days = (jd_whole - JD_1949_12_31) + jd_frac
    incl = math.radians(shell.inclination_deg)
    sats = []
    for k in range(shell.size):  # set-up only: one Satrec per satellite is how sgp4's API builds them
        sat = Satrec()
        sat.sgp4init(
            WGS72,
            "i",
            first_satnum + k,
            epoch_days,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            incl,
            math.radians(float(el.mean_anomaly_deg[k])),
            n_rad_min,
            math.radians(float(el.raan_deg[k])),
        )
        sats.append(sat)
    return sats


def from_shells(name: str, shells: Sequence[Shell], epoch: datetime) -> Constellation:
    """A constellation of Walker shells, each with its +Grid structure."""
    satrecs: list[Satrec] = []
    names: list[str] = []
    grids: list[Grid] = []
    for i, shell in enumerate(shells):
        label = shell.name or f"shell{i}"
        grids.append(
            Grid(
                len(satrecs),
                shell.planes,
                shell.sats_per_plane,
                wrap=shell.pattern == "delta",
                seam_shift=shell.phasing,
            )
        )
        satrecs += walker_satrecs(shell, epoch, first_satnum=len(satrecs) + 1)
        names += [f"{label}-p{p}-s{s}" for p in range(shell.planes) for s in range(shell.sats_per_plane)]
    return Constellation(name=name, satrecs=satrecs, sat_names=names, grids=tuple(grids))


def epoch_spread_days(satrecs: Sequence[Satrec], at: datetime) -> NDArray[np.float64]:
    """Days between ``at`` and each element set's epoch (positive: the epoch is before ``at``)."""
    jd_whole, jd_frac = julian_date(at)
    return np.array([(jd_whole - s.jdsatepoch) + (jd_frac - s.jdsatepochF) for s in satrecs])
