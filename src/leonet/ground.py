"""Ground nodes: cities, gateways and user terminals as arrays (geodetic and ECEF), in node-id order."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from leonet import catalog
from leonet.errors import InputError
from leonet.geodesy import geodetic_to_ecef_km, up_unit
from leonet.scenario import GroundSpec

KINDS = ("station", "terminal", "gateway")


@dataclass(frozen=True)
class GroundNodes:
    """G ground nodes; ``min_elevation_deg`` is NaN where the network's default applies."""

    names: tuple[str, ...]
    kind: tuple[str, ...]
    lat_deg: NDArray[np.float64]
    lon_deg: NDArray[np.float64]
    alt_m: NDArray[np.float64]
    min_elevation_deg: NDArray[np.float64]

    @property
    def size(self) -> int:
        return len(self.names)

    @property
    def ecef_km(self) -> NDArray[np.float64]:
        return geodetic_to_ecef_km(self.lat_deg, self.lon_deg, self.alt_m)

    @property
    def up(self) -> NDArray[np.float64]:
        return up_unit(self.lat_deg, self.lon_deg)

    @property
    def is_gateway(self) -> NDArray[np.bool_]:
        return np.array([k == "gateway" for k in self.kind], dtype=bool)

    def index(self, name: str, where: str = "ground node") -> int:
        """Index of a node by name (exact, else matched by :func:`leonet.catalog.fold_name`)."""
        if name in self.names:
            return self.names.index(name)
        folded = [catalog.fold_name(n) for n in self.names]
        key = catalog.fold_name(name)
        if key in folded:
            return folded.index(key)
        close = difflib.get_close_matches(name, self.names, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise InputError(where, f"unknown ground node {name!r}{hint}; expected one of the scenario's ground nodes")


def make_ground(
    names: Sequence[str],
    lat_deg: Sequence[float],
    lon_deg: Sequence[float],
    alt_m: Sequence[float] | None = None,
    kind: Sequence[str] | None = None,
    min_elevation_deg: Sequence[float | None] | None = None,
) -> GroundNodes:
    """Ground nodes from plain sequences, with range checks that name the node."""
    n = len(names)
    lat = np.asarray(lat_deg, dtype=np.float64)
    lon = np.asarray(lon_deg, dtype=np.float64)
    alt = np.zeros(n) if alt_m is None else np.asarray(alt_m, dtype=np.float64)
    kinds = tuple(kind) if kind is not None else ("station",) * n
    el = np.array([np.nan if e is None else e for e in (min_elevation_deg or [None] * n)], dtype=np.float64)
    for i, nm in enumerate(names):
        if not -90.0 <= lat[i] <= 90.0:
            raise InputError(f"ground node {nm!r}.lat_deg", f"got {lat[i]}; expected -90..90")
        if not -180.0 <= lon[i] <= 180.0:
            raise InputError(f"ground node {nm!r}.lon_deg", f"got {lon[i]}; expected -180..180")
        if kinds[i] not in KINDS:
            raise InputError(f"ground node {nm!r}.kind", f"got {kinds[i]!r}; expected one of {', '.join(KINDS)}")
    if len(set(names)) != n:
        dup = sorted({x for x in names if list(names).count(x) > 1})
        raise InputError("ground", f"node names must be unique (repeated: {', '.join(dup)}); expected unique names")
    return GroundNodes(tuple(names), kinds, lat, lon, alt, el)


def ground_from_spec(spec: GroundSpec) -> GroundNodes:
    """The scenario's ground nodes: cities, then gateways, then stations."""
    places: list[catalog.Place] = []
    kinds: list[str] = []
    els: list[float | None] = []
    if isinstance(spec.cities, int):
        places += list(catalog.cities()[: spec.cities])
    else:
        places += [catalog.city(c, where=f"ground.cities[{i}]") for i, c in enumerate(spec.cities)]
    kinds += ["station"] * len(places)
    els += [None] * len(places)
    if spec.gateways == "starlink":
        gws = catalog.gateways()
        places += list(gws)
        kinds += ["gateway"] * len(gws)
        els += [None] * len(gws)
    for st in spec.stations:
        places.append(catalog.Place(st.name, st.lat_deg, st.lon_deg, st.alt_m))
        kinds.append(st.kind)
        els.append(st.min_elevation_deg)
    return make_ground(
        [p.name for p in places], [p.lat_deg for p in places], [p.lon_deg for p in places],
        [p.alt_m for p in places], kinds, els,
    )  # fmt: skip
