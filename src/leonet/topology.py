"""Links of one snapshot: laser inter-satellite links (+Grid) and ground-satellite links.

+Grid (Bhattacherjee & Singla 2019, "Network topology design at 27,000 km/hour", CoNEXT; the convention of the
Hypatia model, Kassing et al. 2020, IMC): each satellite links to the next and previous slot of its own plane and
to the same slot of the two adjacent planes, so every satellite of a full shell has exactly four ISLs.

Ground links go to every satellite above the terminal's minimum elevation angle, or, in the convention of the
published research models, to every satellite within a maximum ground-link length.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from leonet.geodesy import max_slant_range_km
from leonet.orbits.constellation import Grid

#: Smallest geocentric radius of a ground point we accept (km): WGS-84 polar radius less 10 km.
_MIN_GROUND_RADIUS_KM = 6346.0


def plus_grid_isls(grids: Sequence[Grid]) -> NDArray[np.int32]:
    """Undirected +Grid ISLs, shape ``(E, 2)``, each pair once, for the shells ``grids`` describe.

    In plane ``p``, slot ``s`` links to slot ``s + 1`` (mod S).  Slot ``s`` of plane ``p`` links to slot ``s`` of
    plane ``p + 1``; across the seam (last plane to plane 0) to slot ``s + seam_shift`` when the grid wraps
    (Walker delta: plane P is plane 0 shifted by F slots), and not at all when it does not (Walker star).
    """
    pairs: list[NDArray[np.int32]] = []
    for g in grids:
        P, S = g.planes, g.sats_per_plane
        p = np.repeat(np.arange(P), S)
        s = np.tile(np.arange(S), P)
        me = g.first + p * S + s
        if S >= 2:
            nxt = g.first + p * S + (s + 1) % S
            in_plane = np.stack([me, nxt], axis=1)
            pairs.append(in_plane if S > 2 else in_plane[s == 0])
        if P >= 2:
            last = p == P - 1
            other_p = np.where(last, 0, p + 1)
            other_s = np.where(last, (s + g.seam_shift) % S, s)
            cross = np.stack([me, g.first + other_p * S + other_s], axis=1)
            keep = ~last if (not g.wrap or P == 2) else np.ones_like(last)
            pairs.append(cross[keep])
    if not pairs:
        return np.empty((0, 2), dtype=np.int32)
    out = np.concatenate(pairs).astype(np.int32)
    return np.sort(out, axis=1)


def isl_lengths_km(sat_r_km: NDArray[np.float64], isl: NDArray[np.int32]) -> NDArray[np.float64]:
    """Length of each ISL (km); NaN where either satellite has no position."""
    return np.linalg.norm(sat_r_km[isl[:, 1]] - sat_r_km[isl[:, 0]], axis=-1)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class GroundLinks:
    """Ground-satellite links of one snapshot: ground index, satellite index and length (km) of each."""

    ground: NDArray[np.int32]
    sat: NDArray[np.int32]
    length_km: NDArray[np.float64]


def ground_links(
    sat_r_km: NDArray[np.float64],
    ground_r_km: NDArray[np.float64],
    ground_up: NDArray[np.float64],
    min_elevation_deg: NDArray[np.float64],
    max_range_km: float | None = None,
    allowed: NDArray[np.bool_] | None = None,
) -> GroundLinks:
    """All ground-satellite links of one snapshot.

    With ``max_range_km`` a ground node links to every satellite within that distance (the research-model
    convention); otherwise to every satellite whose elevation is at least the node's ``min_elevation_deg``.
    ``allowed`` (per ground node) removes every link of a denied node.  Candidates come from a k-d tree query
    (``scipy.spatial.cKDTree.sparse_distance_matrix``), so the cost grows with the number of links, not with
    ground nodes x satellites.
    """
    ok_sat = np.isfinite(sat_r_km).all(axis=1)
    sat_idx = np.flatnonzero(ok_sat).astype(np.int32)
    ground_idx = np.arange(len(ground_r_km), dtype=np.int32)
    if allowed is not None:
        ground_idx = ground_idx[allowed]
    empty = GroundLinks(np.empty(0, np.int32), np.empty(0, np.int32), np.empty(0, np.float64))
    if len(sat_idx) == 0 or len(ground_idx) == 0:
        return empty
    sats = sat_r_km[sat_idx]
    if max_range_km is not None:
        radius = float(max_range_km)
    else:
        r_max = float(np.sqrt((sats**2).sum(axis=1)).max())
        radius = float(
            max_slant_range_km(float(np.min(min_elevation_deg[ground_idx])) - 0.5, r_max, _MIN_GROUND_RADIUS_KM)
        )
    gtree = cKDTree(ground_r_km[ground_idx])
    stree = cKDTree(sats)
    m = gtree.sparse_distance_matrix(stree, radius, output_type="ndarray")
    gi = ground_idx[m["i"]]
    si = sat_idx[m["j"]]
    length = m["v"].astype(np.float64)
    if max_range_km is None:
        d = sat_r_km[si] - ground_r_km[gi]
        sin_el = np.einsum("ij,ij->i", d, ground_up[gi]) / length
        keep = sin_el >= np.sin(np.deg2rad(min_elevation_deg[gi]))
        gi, si, length = gi[keep], si[keep], length[keep]
    order = np.lexsort((si, gi))
    return GroundLinks(gi[order], si[order], length[order])
