"""A compiled many-source Dijkstra over a CSR graph (binary heap with lazy deletion), via numba.

``scipy.sparse.csgraph.dijkstra`` (Fibonacci heap) spends ~170 us per source on a 1.9k-vertex / 7k-edge
snapshot graph; this kernel does the same work in a fraction of that.  Both are cross-checked in the tests.
Dijkstra, E. W. (1959), "A note on two problems in connexion with graphs", Numer. Math. 1:269-271.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray


@njit(cache=True, nogil=True)
def _sssp(indptr, indices, data, source, dist, pred, heap_d, heap_v):  # type: ignore[no-untyped-def]
    n = dist.shape[0]
    for i in range(n):
        dist[i] = np.inf
        pred[i] = -9999
    dist[source] = 0.0
    size = 0
    heap_d[0] = 0.0
    heap_v[0] = source
    size = 1
    while size > 0:
        d = heap_d[0]
        u = heap_v[0]
        # pop: move last to root and sift down
        size -= 1
        if size > 0:
            ld = heap_d[size]
            lv = heap_v[size]
            i = 0
            while True:
                c = 2 * i + 1
                if c >= size:
                    break
                if c + 1 < size and heap_d[c + 1] < heap_d[c]:
                    c += 1
                if heap_d[c] < ld:
                    heap_d[i] = heap_d[c]
                    heap_v[i] = heap_v[c]
                    i = c
                else:
                    break
            heap_d[i] = ld
            heap_v[i] = lv
        if d > dist[u]:
            continue
        for k in range(indptr[u], indptr[u + 1]):
            v = indices[k]
            nd = d + data[k]
            if nd < dist[v]:
                dist[v] = nd
                pred[v] = u
                # push and sift up
                i = size
                size += 1
                while i > 0:
                    p = (i - 1) // 2
                    if heap_d[p] > nd:
                        heap_d[i] = heap_d[p]
                        heap_v[i] = heap_v[p]
                        i = p
                    else:
                        break
                heap_d[i] = nd
                heap_v[i] = v


@njit(cache=True, nogil=True)
def _many(indptr, indices, data, sources, dist, pred):  # type: ignore[no-untyped-def]
    m = indices.shape[0] + 1
    heap_d = np.empty(m, dtype=np.float64)
    heap_v = np.empty(m, dtype=np.int32)
    for r in range(sources.shape[0]):
        _sssp(indptr, indices, data, sources[r], dist[r], pred[r], heap_d, heap_v)


def dijkstra_many(
    indptr: NDArray[np.int32], indices: NDArray[np.int32], data: NDArray[np.float64], sources: NDArray[np.int64]
) -> tuple[NDArray[np.float64], NDArray[np.int32]]:
    """Distances ``(len(sources), N)`` and predecessors (``-9999`` for none, as scipy) from each source."""
    n = len(indptr) - 1
    dist = np.empty((len(sources), n), dtype=np.float64)
    pred = np.empty((len(sources), n), dtype=np.int32)
    _many(indptr.astype(np.int32), indices.astype(np.int32), data.astype(np.float64), sources.astype(np.int64), dist, pred)
    return dist, pred
