"""Hop look-ups of kept paths, compiled (numba): whether each hop of each kept path still exists, and its delay.

In reconfig mode every snapshot of a slot but the first re-evaluates the kept paths (P pairs x L - 1 hops) with
the current link delays (:func:`leonet.router.kept_path_delays`).  The NumPy version (boolean masks, a
``searchsorted`` of every hop's key into the snapshot's sorted edge keys, scatters back) was the largest part
of a starlink-550 snapshot with 4,950 pairs and held the GIL throughout; this is one pass over the hops (each
looked up among its tail's few edges) in a kernel that releases the GIL (`python benchmarks/bench_keptpath.py`,
2026-12-02, load 6.7: 7.8 ms CPU per snapshot the NumPy way, 1.0 ms this way).  It writes exactly what
the NumPy version computed: the hop delays (0 where a path has no hop) are summed by the caller with NumPy's own
row sums, so the delays are the same bits.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray


@njit(cache=True, nogil=True)
def _hops(path, n_nodes, key, delay_ms, d, broken, any_hop):  # type: ignore[no-untyped-def]
    """For every row of ``path`` (P, L): ``d[i, j]`` = delay of hop ``path[i, j] -> path[i, j + 1]`` (0 where
    either end is padding, NaN where the hop is missing), ``broken[i]``: a hop is missing, ``any_hop[i]``: the
    row has a hop.  ``key`` sorted; the first equal key counts (as ``searchsorted(side="left")``).  The keys of
    a tail ``u`` are a contiguous run (sorted by ``u * n_nodes + v``): one pass finds each run's start, then a hop
    scans its tail's few edges (~5 on a +Grid snapshot) instead of a binary search over all of them."""
    P, L = path.shape
    m = key.shape[0]
    start = np.empty(n_nodes + 1, np.int64)  # keys of tail u: key[start[u]:start[u + 1]]
    e = 0
    for u in range(n_nodes + 1):
        lim = np.int64(u) * n_nodes
        while e < m and key[e] < lim:
            e += 1
        start[u] = e
    for i in range(P):
        br = False
        anyh = False
        for j in range(L - 1):
            u = path[i, j]
            v = path[i, j + 1]
            if u < 0 or v < 0:
                d[i, j] = 0.0
                continue
            anyh = True
            k = np.int64(u) * n_nodes + np.int64(v)
            found = False
            if u < n_nodes:
                for pos in range(start[u], start[u + 1]):
                    if key[pos] == k:
                        d[i, j] = delay_ms[pos]
                        found = True
                        break
            if not found:
                d[i, j] = np.nan
                br = True
        broken[i] = br
        any_hop[i] = anyh


def hop_delays(
    path: NDArray[np.int32], n_nodes: int, key: NDArray[np.int64], delay_ms: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.bool_], NDArray[np.bool_]]:
    """``(d, broken, any_hop)`` of :func:`_hops` for the kept paths ``path`` (node ids, padded with -1) against
    the snapshot's edges (``key = u * n_nodes + v``, sorted, and their delays)."""
    p = np.ascontiguousarray(path, dtype=np.int32)
    P, L = p.shape
    d = np.empty((P, max(L - 1, 0)), dtype=np.float64)
    broken = np.empty(P, dtype=np.bool_)
    any_hop = np.empty(P, dtype=np.bool_)
    _hops(p, np.int64(n_nodes), np.ascontiguousarray(key, np.int64), np.ascontiguousarray(delay_ms, np.float64),
          d, broken, any_hop)  # fmt: skip
    return d, broken, any_hop
