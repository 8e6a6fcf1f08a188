"""Exact point-in-polygon lookup for many points, accelerated by a two-level grid of pre-classified cells.

Each grid cell is classified once, with shapely 2 predicates against the polygons its box meets (found with an
``STRtree``): a cell wholly inside one polygon answers every point in it directly; a cell that meets no polygon
answers "none"; only the points that fall in the few remaining *boundary* cells are tested exactly, with
``shapely.contains_xy`` against the short list of polygons that meet their cell.  This is the cell-based
point-in-polygon scheme of Žalik & Kolingerová, "A cell-based point-in-polygon algorithm suitable for large sets
of points", Computers & Geosciences 27 (2001) 1135-1145, with a second, finer level for boundary cells.

The answer equals a brute-force ``shapely.contains_xy`` over the polygons in order (the first polygon that
contains the point wins; points on a boundary are not contained): cells count as "wholly inside" only when a
slightly enlarged box lies in the polygon's interior (``contains_properly``), so a point whose cell index is off
by a rounding error is still answered correctly.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

_EPS_DEG = 1e-9
_NONE = -1


def _reduce_pairs(
    cell: NDArray[np.int64], part: NDArray[np.int64], full: NDArray[np.bool_], n_cells: int
) -> tuple[NDArray[np.int64], NDArray[np.bool_], NDArray[np.int64], NDArray[np.int64]]:
    """Per cell, from (cell, part) pairs sorted by cell then part: keep the parts up to and including the first
    one that wholly contains the cell (later parts can never be the first match).

    Returns ``first_part`` per cell (-1: no part meets the cell), ``is_full`` (the cell's first part wholly
    contains it, so it answers every point in the cell), and the kept pairs ``(cell, part)``, still sorted.
    """
    full_i = full.astype(np.int64)
    csum = np.cumsum(full_i)
    starts = np.flatnonzero(np.r_[True, cell[1:] != cell[:-1]]) if cell.size else np.zeros(0, np.int64)
    group_start = np.repeat(starts, np.diff(np.r_[starts, cell.size]).astype(np.int64))
    full_before = csum - full_i - (csum[group_start] - full_i[group_start])
    keep = full_before == 0
    first_part = np.full(n_cells, _NONE, dtype=np.int64)
    first_part[cell[starts]] = part[starts]
    is_full = np.zeros(n_cells, dtype=bool)
    is_full[cell[starts]] = full[starts]
    return first_part, is_full, cell[keep], part[keep]


def _csr(
    kept_cell: NDArray[np.int64], kept_part: NDArray[np.int64], cells: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Candidate lists of ``cells`` (sorted) from kept pairs sorted by cell: ``(lo, hi, parts)`` such that the
    candidates of ``cells[i]`` are ``parts[lo[i]:hi[i]]``."""
    sel = np.isin(kept_cell, cells)
    kc, kp = kept_cell[sel], kept_part[sel]
    return np.searchsorted(kc, cells, "left"), np.searchsorted(kc, cells, "right"), kp


class PolygonGrid:
    """First polygon (lowest index) containing each of many lon/lat points, exactly, in vectorised NumPy.

    ``geoms``: polygons (Polygon parts; MultiPolygons are best split with ``shapely.get_parts`` first);
    ``labels``: an integer label per polygon, returned by :meth:`lookup` (-1 for points in no polygon).
    ``bounds``: the lon/lat box the grid covers (points outside it are in no polygon); ``cells``: the number of
    level-0 cells along lon and lat; ``sub``: each boundary cell is split ``sub x sub`` at level 1.
    """

    def __init__(
        self,
        geoms: NDArray[np.object_],
        labels: ArrayLike,
        bounds: tuple[float, float, float, float],
        cells: tuple[int, int],
        sub: int = 8,
        state: dict[str, NDArray[Any]] | None = None,
    ) -> None:
        """``state``: the arrays :attr:`state` returned for the same polygons, labels, bounds, cells and ``sub``
        (a cached index), instead of classifying the cells again."""
        self.parts = np.asarray(geoms, dtype=object)
        self.labels = np.asarray(labels, dtype=np.int32)
        shapely.prepare(self.parts)
        x0, y0, x1, y1 = bounds
        nx, ny = cells
        self.x0, self.y0, self.nx, self.ny, self.sub = float(x0), float(y0), int(nx), int(ny), int(sub)
        self.dx = max((x1 - x0) / nx, 1e-12)
        self.dy = max((y1 - y0) / ny, 1e-12)
        self.x1, self.y1 = float(x1), float(y1)
        if state is not None:
            self.level0, self.level1 = state["level0"].astype(np.int32), state["level1"].astype(np.int32)
            lo, hi, part = state["cand_lo"], state["cand_hi"], state["cand_part"]
            self.cand_lo, self.cand_hi, self.cand_part = lo.astype(np.int64), hi.astype(np.int64), part.astype(np.int64)
            self.n_boundary_cells = int(self.cand_lo.size)
            return
        tree = shapely.STRtree(self.parts)

        # level 0
        iy, ix = np.divmod(np.arange(nx * ny, dtype=np.int64), nx)
        bx0 = self.x0 + ix * self.dx
        by0 = self.y0 + iy * self.dy
        boxes = shapely.box(bx0 - _EPS_DEG, by0 - _EPS_DEG, bx0 + self.dx + _EPS_DEG, by0 + self.dy + _EPS_DEG)
        cell, part = self._pairs(tree.query(boxes), boxes)
        full = shapely.contains_properly(self.parts[part], boxes[cell])
        first, is_full, kc, kp = _reduce_pairs(cell, part, full, nx * ny)
        level0 = np.full(nx * ny, _NONE, dtype=np.int64)
        level0[is_full] = self.labels[first[is_full]]
        mixed0 = np.flatnonzero((first >= 0) & ~is_full)
        level0[mixed0] = -2 - np.arange(mixed0.size)
        self.level0 = level0.astype(np.int32)

        # level 1: split each boundary cell sub x sub; candidates are the parent's kept parts
        s2 = sub * sub
        blk = np.repeat(np.arange(mixed0.size), s2)
        k = np.tile(np.arange(s2), mixed0.size)
        sy, sx = np.divmod(k, sub)
        sdx, sdy = self.dx / sub, self.dy / sub
        parent = mixed0[blk]
        cx0 = bx0[parent] + sx * sdx
        cy0 = by0[parent] + sy * sdy
        sboxes = shapely.box(cx0 - _EPS_DEG, cy0 - _EPS_DEG, cx0 + sdx + _EPS_DEG, cy0 + sdy + _EPS_DEG)
        # parent candidate lists (CSR over kept pairs, which are sorted by cell)
        lo0, hi0, kp0 = _csr(kc, kp, mixed0)
        counts = (hi0 - lo0)[blk]
        sub_id = np.repeat(np.arange(sboxes.size), counts)
        starts = np.repeat(lo0[blk], counts)
        within = np.arange(sub_id.size) - np.repeat(np.cumsum(counts) - counts, counts)
        cand = kp0[starts + within]
        hit = shapely.intersects(self.parts[cand], sboxes[sub_id])
        sub_id, cand = sub_id[hit], cand[hit]
        full1 = shapely.contains_properly(self.parts[cand], sboxes[sub_id])
        first1, is_full1, kc1, kp1 = _reduce_pairs(sub_id, cand, full1, sboxes.size)
        level1 = np.full(sboxes.size, _NONE, dtype=np.int64)
        level1[is_full1] = self.labels[first1[is_full1]]
        mixed1 = np.flatnonzero((first1 >= 0) & ~is_full1)
        level1[mixed1] = -2 - np.arange(mixed1.size)
        self.level1 = level1.astype(np.int32)
        # candidate lists of level-1 boundary cells (kept pairs are sorted by sub cell)
        self.cand_lo, self.cand_hi, self.cand_part = _csr(kc1, kp1, mixed1)
        self.n_boundary_cells = int(mixed1.size)

    @property
    def state(self) -> dict[str, NDArray[Any]]:
        """The classified cells and candidate lists: what ``PolygonGrid(..., state=...)`` restores."""
        return {
            "level0": self.level0,
            "level1": self.level1,
            "cand_lo": self.cand_lo,
            "cand_hi": self.cand_hi,
            "cand_part": self.cand_part,
        }

    def _pairs(self, q: NDArray[np.int64], boxes: NDArray[np.object_]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        cell, part = q[0], q[1]
        order = np.lexsort((part, cell))
        cell, part = cell[order], part[order]
        hit = shapely.intersects(self.parts[part], boxes[cell])
        return cell[hit], part[hit]

    def lookup(self, lon_deg: ArrayLike, lat_deg: ArrayLike) -> NDArray[np.int32]:
        """Label of the first polygon containing each point (-1: none), shaped like the broadcast inputs."""
        lon, lat = np.broadcast_arrays(np.asarray(lon_deg, dtype=np.float64), np.asarray(lat_deg, dtype=np.float64))
        shape = lon.shape
        x, y = lon.ravel(), lat.ravel()
        out = np.full(x.size, _NONE, dtype=np.int32)
        inside = (x >= self.x0) & (x <= self.x1) & (y >= self.y0) & (y <= self.y1)
        idx = np.flatnonzero(inside)
        if idx.size == 0:
            return out.reshape(shape)
        xi, yi = x[idx], y[idx]
        fx = (xi - self.x0) / self.dx
        fy = (yi - self.y0) / self.dy
        ix = np.clip(fx.astype(np.int64), 0, self.nx - 1)
        iy = np.clip(fy.astype(np.int64), 0, self.ny - 1)
        v = self.level0[iy * self.nx + ix]
        out[idx] = np.maximum(v, _NONE)
        deeper = np.flatnonzero(v <= -2)
        if deeper.size == 0:
            return out.reshape(shape)
        blk = (-2 - v[deeper]).astype(np.int64)
        sx = np.clip(((fx[deeper] - ix[deeper]) * self.sub).astype(np.int64), 0, self.sub - 1)
        sy = np.clip(((fy[deeper] - iy[deeper]) * self.sub).astype(np.int64), 0, self.sub - 1)
        v1 = self.level1[blk * (self.sub * self.sub) + sy * self.sub + sx]
        pts = idx[deeper]
        out[pts] = np.maximum(v1, _NONE)
        exact = np.flatnonzero(v1 <= -2)
        if exact.size == 0:
            return out.reshape(shape)
        m = (-2 - v1[exact]).astype(np.int64)
        # points of the same boundary cell together: their exact tests hit the same polygons (cache locality)
        order = np.argsort(m, kind="stable")
        exact, m = exact[order], m[order]
        lo, hi = self.cand_lo[m], self.cand_hi[m]
        counts = hi - lo
        rep = np.repeat(exact, counts)
        within = np.arange(rep.size) - np.repeat(np.cumsum(counts) - counts, counts)
        cand = self.cand_part[np.repeat(lo, counts) + within]
        p = pts[rep]
        ok = shapely.contains_xy(self.parts[cand], x[p], y[p])
        # pairs are grouped by point, candidates in polygon order: the first hit per point is the answer
        hit_pt, first = np.unique(rep[ok], return_index=True)
        out[pts[hit_pt]] = self.labels[cand[ok][first]]
        return out.reshape(shape)
