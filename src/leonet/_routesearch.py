"""Routes of many pairs in one compiled pass per source: search, then read the source's paths back at once.

:func:`leonet._dijkstra.dijkstra_many` returns dense ``(sources, vertices)`` distance and predecessor matrices,
and :func:`leonet._pathread.read_paths` walks them afterwards.  For ``starlink-gen2`` + 1,000 cities that is
1,000 x 32k x 12 bytes = 384 MB written per snapshot (fresh pages, zeroed by the kernel), and read back in a
second pass long after the rows left the cache.  Here each thread keeps one distance / predecessor row (a few
hundred kB, in cache): after a source's search (the same :func:`leonet._dijkstra._sssp`, so the same distances
and predecessors bit for bit) it reads that source's pairs' delays and walks their paths while the row is hot,
appending the nodes to the thread's own flat buffer; :func:`route_pairs` then scatters the buffers into the
padded ``(pairs, width)`` array.  Memory per snapshot: the paths themselves, not the search space.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray

from leonet._dijkstra import NO_PRED, _prepare, _sssp, default_threads, run_blocks

#: Work (sources x (vertices + edges)) below which everything stays in the calling thread.
PARALLEL_MIN_WORK = 1_000_000


@njit(cache=True, nogil=True)
def _grow(buf, need):  # type: ignore[no-untyped-def]
    """``buf`` with room for at least ``need`` entries (doubled; the contents kept)."""
    if need <= buf.shape[0]:
        return buf
    nb = np.empty(max(need, 2 * buf.shape[0]), np.int32)
    nb[: buf.shape[0]] = buf
    return nb


@njit(cache=True, nogil=True)
def _leaves_last(ip, ix, w, eu, hasout):  # type: ignore[no-untyped-def]
    """The edges of every row reordered stably, edges into vertices with out-edges first, then edges into
    *leaves* (no out-edges: the sink vertices); ``split[u]``: where row ``u``'s leaf edges start."""
    n = ip.shape[0] - 1
    m = ix.shape[0]
    ix2 = np.empty(m, ix.dtype)
    w2 = np.empty(m, w.dtype)
    eu2 = np.empty(m, eu.dtype)
    split = np.empty(n, np.uint32)
    for u in range(n):
        e = ip[u]
        for k in range(ip[u], ip[u + 1]):
            if hasout[ix[k]]:
                ix2[e], w2[e], eu2[e] = ix[k], w[k], eu[k]
                e += 1
        split[u] = e
        for k in range(ip[u], ip[u + 1]):
            if not hasout[ix[k]]:
                ix2[e], w2[e], eu2[e] = ix[k], w[k], eu[k]
                e += 1
    return ix2, w2, eu2, split


@njit(cache=True, nogil=True)
def _run(  # type: ignore[no-untyped-def]
    ip,
    split,
    ix,
    w,
    eu,
    hasout,
    inv,
    ring,
    sources,
    slot_lo,
    slot_hi,
    targets,
    pair,
    start,
    reverse,
    vertex_node,
    delay,
    length,
    buf,
):
    """Sources ``sources[r]`` with their pairs' slots ``slot_lo[r]:slot_hi[r]`` (``targets[slot]``: the sink
    vertex, ``pair[slot]``: the pair's index).  Writes ``delay[pair]`` (inf: unreachable), ``length[slot]``
    (nodes on the path, 0: none) and the nodes of the slots' paths, in slot order, into ``buf`` (grown as
    needed; returned with the number of entries used)."""
    n = ip.shape[0] - 1
    q = np.empty((ring, 2 * n + 2), np.uint32)
    cnt = np.zeros(ring, np.uint64)
    seen = np.zeros(n, np.int64)
    work = np.empty(2 * n + 2, np.uint32)
    stk = np.empty(ix.shape[0] + 1, np.uint32)
    dist = np.empty(n, np.float64)
    pred = np.empty(n, np.int32)
    tmp = np.empty(n + 1, np.int32)
    mask = np.uint64(ring - 1)
    stamp = np.int64(0)
    e = 0
    for r in range(sources.shape[0]):
        a, b = slot_lo[r], slot_hi[r]
        s = sources[r]
        stamp = _sssp(
            ip, split, ix, w, eu, hasout, s, inv, mask, dist, pred, q, cnt, seen, stamp, work, stk, targets[a:b]
        )
        for o in range(a, b):
            i = pair[o]
            cur = targets[o]
            d = dist[cur]
            delay[i] = d
            if not d < np.inf:
                length[o] = 0
                continue
            k = 0  # walk back to the source: tmp[:k] holds the path target first
            tmp[k] = vertex_node[cur]
            k += 1
            while cur != start[i] and k <= n:
                cur = pred[cur]
                if cur < 0:
                    break
                tmp[k] = vertex_node[cur]
                k += 1
            length[o] = k
            buf = _grow(buf, e + k)
            if reverse[i]:
                for j in range(k):
                    buf[e + j] = tmp[j]
            else:
                for j in range(k):
                    buf[e + j] = tmp[k - 1 - j]
            e += k
    return buf, e


@njit(cache=True, nogil=True)
def _scatter(buf, length, pair, lo, hi, out):  # type: ignore[no-untyped-def]
    """Rows ``pair[lo:hi]`` of ``out`` from a block's buffer (slot order), padded with -1."""
    width = out.shape[1]
    e = 0
    for o in range(lo, hi):
        i = pair[o]
        k = length[o]
        for j in range(k):
            out[i, j] = buf[e + j]
        for j in range(k, width):
            out[i, j] = -1
        e += k


def route_pairs(
    indptr: NDArray[np.int32],
    indices: NDArray[np.int32],
    data: NDArray[np.float64],
    sources: NDArray[np.int64],
    target_ptr: NDArray[np.int64],
    targets: NDArray[np.int64],
    pair: NDArray[np.int64],
    start: NDArray[np.int64],
    reverse: NDArray[np.bool_],
    vertex_node: NDArray[np.int64],
    threads: int | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.int32], NDArray[np.int64]]:
    """Shortest paths of pairs grouped by source: source ``sources[r]`` (a vertex) serves the slots
    ``target_ptr[r]:target_ptr[r + 1]``; slot ``o`` is pair ``pair[o]`` towards vertex ``targets[o]``, whose path
    starts at vertex ``start[pair[o]]``.  Each search stops once its targets are final.

    Returns, per pair (``len(start)`` of them): the distance (inf where unreachable), the path as node ids
    (``vertex_node[vertex]``) from source to target, or target first where ``reverse[pair]``, padded with -1
    (all -1 where unreachable; at least one column), and the number of nodes on it.  The same distances as
    :func:`leonet._dijkstra.dijkstra_many` with ``target_ptr`` and the same paths as
    :func:`leonet._pathread.read_paths` on its predecessors (the same search kernel), without the dense
    matrices.  ``threads``: blocks of sources on this many threads (default: all, above
    :data:`PARALLEL_MIN_WORK`); any count gives the same arrays."""
    ip = np.ascontiguousarray(indptr, dtype=np.int64)
    ix = np.ascontiguousarray(indices, dtype=np.int64)
    w = np.ascontiguousarray(data, dtype=np.float64)
    n = len(ip) - 1
    uip, uix, eu, hasout, wmin, wmax, status = _prepare(ip, ix, w)
    if status:
        raise ValueError(
            {1: "malformed indptr", 2: "indices out of range", 3: "weights must be >= 0 (and not NaN)"}[status]
        )
    lix, lw, leu, split = _leaves_last(uip, uix, w, eu, hasout)  # sink vertices' edges last in every row
    step = max(wmin, wmax / 62)  # as dijkstra_many's default (_MAX_SPAN)
    if not 0.0 < step < np.inf:
        step = 1.0
    inv = 1.0 / step
    ring = 1 << max(int(np.ceil(np.log2(wmax * inv + 3.0))), 1)
    src = np.ascontiguousarray(sources, dtype=np.int64)
    tptr = np.ascontiguousarray(target_ptr, dtype=np.int64)
    tgt = np.ascontiguousarray(targets, dtype=np.int64)
    pr = np.ascontiguousarray(pair, dtype=np.int64)
    st = np.ascontiguousarray(start, dtype=np.int64)
    rev = np.ascontiguousarray(reverse, dtype=np.bool_)
    vn = np.ascontiguousarray(vertex_node, dtype=np.int32)
    P = len(st)
    delay = np.full(P, np.inf)
    length = np.zeros(len(tgt), dtype=np.int64)
    if threads is None:
        threads = default_threads() if len(src) * (n + len(ix)) >= PARALLEL_MIN_WORK else 1
    blocks: list[tuple[int, int, NDArray[np.int32]]] = []

    def job(a: int, b: int) -> None:
        lo, hi = int(tptr[a]), int(tptr[b])
        buf0 = np.empty(max(64, 16 * (hi - lo)), dtype=np.int32)
        buf, _ = _run(
            uip,
            split,
            lix,
            lw,
            leu,
            hasout,
            inv,
            ring,
            src[a:b],
            tptr[a:b],
            tptr[a + 1 : b + 1],
            tgt,
            pr,
            st,
            rev,
            vn,
            delay,
            length,
            buf0,
        )
        blocks.append((lo, hi, buf))  # list.append is atomic under the GIL

    run_blocks(len(src), threads, job)
    out = np.empty((P, max(int(length.max(initial=0)), 1)), dtype=np.int32)
    if len(tgt) < P:  # pairs without a slot (none in the routing module's use): no path
        out[:] = -1
    # the blocks write disjoint rows: on the kernel threads as well

    def scatter(a: int, b: int) -> None:
        for lo, hi, bf in blocks[a:b]:
            _scatter(bf, length, pr, lo, hi, out)

    run_blocks(len(blocks), threads, scatter)
    n_nodes = np.zeros(P, dtype=np.int64)
    n_nodes[pr] = length
    return delay, out, n_nodes


__all__ = ["NO_PRED", "route_pairs"]
