"""Service cells: the H3 hexagonal grid (Uber H3, the ``h3`` package, v4 API) at resolution 5 (average hexagon
252.9 km^2, edge 9.85 km: ``h3.average_hexagon_area(5, "km^2")``), close to the ~380 km^2 Starlink cell public
analyses infer (Pekhterev, SatMagazine Nov 2021); the demand of each cell from the terminals in it.

h3 4.x has no vectorised ``latlng_to_cell``: :func:`cells_of` calls it once per distinct point (about 0.6 us a
point: 60 ms for 100,000 terminals, measured), which a run does once per terminal set, not per slot.
(``h3ronpy`` vectorises it in Rust but brings Arrow dependencies and tests against h3 3.x; not worth it here.)
"""

from __future__ import annotations

from dataclasses import dataclass

import h3
import numpy as np
from h3.api import basic_int as h3i
from numpy.typing import ArrayLike, NDArray

#: Resolution of the service grid: average hexagon 252.9 km^2 (H3's published table of cell areas).
CELL_RESOLUTION = 5


def cells_of(lat_deg: ArrayLike, lon_deg: ArrayLike, res: int = CELL_RESOLUTION) -> NDArray[np.uint64]:
    """The H3 cell (64-bit integer id) of each point at resolution ``res``; h3's ``latlng_to_cell`` over the
    distinct (lat, lon) pairs only."""
    lat = np.asarray(lat_deg, dtype=np.float64).reshape(-1)
    lon = np.asarray(lon_deg, dtype=np.float64).reshape(-1)
    if lat.shape != lon.shape:
        raise ValueError("lat_deg and lon_deg differ in length")
    if not (np.isfinite(lat).all() and np.isfinite(lon).all()):
        raise ValueError("lat_deg and lon_deg must be finite")
    if len(lat) == 0:
        return np.empty(0, dtype=np.uint64)
    # distinct points: complex numbers sort and compare as (lat, lon) pairs, far faster than unique(axis=0)
    pts, inverse = np.unique(lat + 1j * lon, return_inverse=True)
    ids = np.fromiter((h3i.latlng_to_cell(z.real, z.imag, res) for z in pts.tolist()), dtype=np.uint64, count=len(pts))
    return ids[inverse.reshape(-1)]


def cell_centres_deg(cells: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Latitude and longitude (deg) of the centre of each H3 cell."""
    ids = np.asarray(cells, dtype=np.uint64).reshape(-1)
    out = np.array([h3i.cell_to_latlng(int(c)) for c in ids.tolist()], dtype=np.float64).reshape(-1, 2)
    return out[:, 0].copy(), out[:, 1].copy()


def average_cell_area_km2(res: int = CELL_RESOLUTION) -> float:
    """H3's average hexagon area (km^2) at ``res``."""
    return float(h3.average_hexagon_area(res, "km^2"))


def cell_area_km2(cells: ArrayLike) -> NDArray[np.float64]:
    """Exact area (km^2) of each H3 cell."""
    ids = np.asarray(cells, dtype=np.uint64).reshape(-1)
    return np.array([h3i.cell_area(int(c), "km^2") for c in ids.tolist()], dtype=np.float64)


@dataclass(frozen=True)
class CellDemand:
    """Terminals grouped by cell: the distinct cells (sorted ids), each terminal's index into them, and the
    demand (Mbit/s) and number of terminals of each cell."""

    cells: NDArray[np.uint64]
    terminal_cell: NDArray[np.int32]
    demand_mbps: NDArray[np.float64]
    terminals: NDArray[np.int64]

    @property
    def n_cells(self) -> int:
        return len(self.cells)


def aggregate_demand(terminal_cells: ArrayLike, demand_mbps: ArrayLike) -> CellDemand:
    """Group terminals by their cell id (``np.unique``) and add up their demand (``np.bincount``)."""
    ids = np.asarray(terminal_cells, dtype=np.uint64).reshape(-1)
    d = np.broadcast_to(np.asarray(demand_mbps, dtype=np.float64), ids.shape)
    if (d < 0).any() or not np.isfinite(d).all():
        raise ValueError("demand_mbps must be finite and >= 0")
    cells, inverse = np.unique(ids, return_inverse=True)
    inv = inverse.reshape(-1).astype(np.int32)
    demand = np.bincount(inv, weights=d, minlength=len(cells)).astype(np.float64)
    count = np.bincount(inv, minlength=len(cells)).astype(np.int64)
    return CellDemand(cells, inv, demand, count)
