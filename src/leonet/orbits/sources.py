"""Turning a scenario's constellation entries into a :class:`Constellation` (reads TLE / OMM files)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from sgp4.api import Satrec

from leonet.errors import InputError
from leonet.orbits.constellation import Constellation, Grid, from_shells
from leonet.orbits.planes import infer_isls_at
from leonet.orbits.shells import preset
from leonet.orbits.tle import parse_tle_text, satellites_from_omm, satrecs_from_tle
from leonet.safeio import read_text_capped
from leonet.scenario import ConstellationSpec, NetworkSpec


def _read(path: Path) -> str:
    return read_text_capped(path, "a TLE / OMM text file")


def _one(spec: ConstellationSpec, epoch: datetime, resolve: Callable[[str], Path]) -> Constellation:
    if spec.preset is not None:
        return from_shells(spec.preset, preset(spec.preset), epoch)
    if spec.shells is not None:
        return from_shells("shells", [s.to_shell() for s in spec.shells], epoch)
    sats: list[Satrec]
    if spec.tle is not None:
        path = resolve(spec.tle)
        recs = parse_tle_text(_read(path), source=str(path))
        sats, names = satrecs_from_tle(recs), [r.name or r.line1[2:7].strip() for r in recs]
    else:
        assert spec.omm is not None
        path = resolve(spec.omm)
        fmt = "csv" if path.suffix.lower() == ".csv" else "json"
        names, sats = satellites_from_omm(_read(path), str(path), fmt)
    grids: tuple[Grid, ...] = ()
    if spec.grid is None or spec.grid == "auto":
        inferred = infer_isls_at(sats, epoch)
        return Constellation(
            path.name, sats, names, (), inferred.isls.astype(np.int32), observed=np.ones(len(sats), dtype=bool)
        )
    if spec.grid is not None:
        planes, per_plane = spec.grid
        if planes * per_plane != len(sats):
            raise InputError(
                f"{path}",
                f"grid {planes} x {per_plane} = {planes * per_plane} satellites, file has {len(sats)}; "
                "expected the file to list every satellite plane by plane",
            )
        grids = (Grid(0, planes, per_plane, wrap=True, seam_shift=0),)
    return Constellation(path.name, sats, names, grids, observed=np.ones(len(sats), dtype=bool))


def constellation_from_spec(net: NetworkSpec, epoch: datetime, resolve: Callable[[str], Path]) -> Constellation:
    """All satellites of a network, its sources one after another, with their +Grid structure."""
    sats: list[Satrec] = []
    names: list[str] = []
    grids: list[Grid] = []
    pairs: list[NDArray[np.int32]] = []
    observed: list[NDArray[np.bool_]] = []
    for spec in net.constellation:
        c = _one(spec, epoch, resolve)
        observed.append(c.observed_mask())
        grids += [Grid(g.first + len(sats), g.planes, g.sats_per_plane, g.wrap, g.seam_shift) for g in c.grids]
        pairs.append(c.isl_pairs + len(sats))
        sats += list(c.satrecs)
        names += list(c.sat_names)
    return Constellation(
        net.name, sats, names, tuple(grids), np.concatenate(pairs).astype(np.int32), np.concatenate(observed)
    )
