"""Reading shortest paths back from a predecessor matrix, compiled (numba): two passes, no Python per pair.

For pair ``i`` the path runs from ``start[i]`` to ``target[i]`` along ``pred[row[i]]``.  Pass one counts each
path's vertices, pass two writes them source-first into a (P, L) int32 array padded with -1, mapped through
``vertex_node`` (vertex -> node id) on the way, so that no (P, L) int64 temporary is made.  Both passes run over
blocks of pairs on the kernel threads (:func:`leonet._dijkstra.run_blocks`; the kernels release the GIL).  The
NumPy version (one vectorised hop per step for all pairs, then a reversal) took ~5 ms for 4,950 pairs; this
takes ~0.3 ms.  Walking the pairs grouped by source (``order``) keeps consecutive walks in one predecessor row:
499,500 pairs over starlink-gen2 (one thread) 0.20 s instead of 0.43 s.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray

from leonet._dijkstra import default_threads, run_blocks

#: Pairs below which the read-back runs in the calling thread.
PARALLEL_MIN_PAIRS = 50_000


@njit(cache=True, nogil=True)
def _lengths(pred, row, target, start, reachable, width_cap, length, order, lo, hi):  # type: ignore[no-untyped-def]
    for o in range(lo, hi):
        i = order[o]
        if not reachable[i]:
            length[i] = 0
            continue
        cur = target[i]
        k = 1
        r = row[i]
        while cur != start[i] and k <= width_cap:
            cur = pred[r, cur]
            if cur < 0:
                break
            k += 1
        length[i] = k


@njit(cache=True, nogil=True)
def _fill(pred, row, target, length, vertex_node, reverse, out, order, lo, hi):  # type: ignore[no-untyped-def]
    width = out.shape[1]
    for o in range(lo, hi):
        i = order[o]
        k = length[i]
        for j in range(k, width):  # the padding, here rather than a (P, L) fill in one thread
            out[i, j] = -1
        if k == 0:
            continue
        cur = target[i]
        r = row[i]
        j = k - 1
        flip = reverse[i]
        out[i, (k - 1 - j) if flip else j] = vertex_node[cur]
        while j > 0:
            cur = pred[r, cur]
            j -= 1
            out[i, (k - 1 - j) if flip else j] = vertex_node[cur]


def read_paths(
    pred: NDArray[np.int32],
    row: NDArray[np.int64],
    target: NDArray[np.int64],
    start: NDArray[np.int64],
    reachable: NDArray[np.bool_],
    vertex_node: NDArray[np.int64] | None = None,
    threads: int | None = None,
    reverse: NDArray[np.bool_] | None = None,
    order: NDArray[np.int64] | None = None,
) -> NDArray[np.int32]:
    """Paths ``start[i] -> target[i]`` for every pair, source first, padded with -1 (shape (P, L), int32): as
    vertices, or as ``vertex_node[vertex]`` when ``vertex_node`` is given; where ``reverse[i]``, written
    target first (the path of the reversed pair, in a graph whose edges all exist both ways).  ``order``: a
    permutation of the pairs to walk them in, e.g. grouped by ``row`` so that consecutive walks stay in one
    predecessor row (cache); the result does not depend on it.  ``threads``: as for
    :func:`leonet._dijkstra.dijkstra_many` (default: all, from :data:`PARALLEL_MIN_PAIRS` pairs up)."""
    pred = np.ascontiguousarray(pred)
    row, target, start = row.astype(np.int64), target.astype(np.int64), start.astype(np.int64)
    reachable = reachable.astype(np.bool_)
    n = len(target)
    vn = np.arange(pred.shape[1], dtype=np.int32) if vertex_node is None else vertex_node.astype(np.int32)
    if threads is None:
        threads = default_threads() if n >= PARALLEL_MIN_PAIRS else 1
    ordr = np.arange(n, dtype=np.int64) if order is None else np.ascontiguousarray(order, dtype=np.int64)
    length = np.zeros(n, dtype=np.int64)
    run_blocks(
        n, threads, lambda a, b: _lengths(pred, row, target, start, reachable, pred.shape[1], length, ordr, a, b)
    )
    out = np.empty((n, max(int(length.max(initial=0)), 1)), dtype=np.int32)
    rev = np.zeros(n, dtype=np.bool_) if reverse is None else np.ascontiguousarray(reverse, dtype=np.bool_)
    run_blocks(n, threads, lambda a, b: _fill(pred, row, target, length, vn, rev, out, ordr, a, b))
    return out


@njit(cache=True, nogil=True)
def _row_lengths(path, lengths, at):  # type: ignore[no-untyped-def]
    """``lengths[at + i]`` = the number of nodes (entries >= 0) of row ``i`` of ``path``."""
    P, L = path.shape
    for i in range(P):
        k = 0
        for j in range(L):
            k += path[i, j] >= 0
        lengths[at + i] = k


@njit(cache=True, nogil=True)
def _compact_block(path, offsets, at, lo, hi, nodes):  # type: ignore[no-untyped-def]
    """Rows ``lo:hi`` of ``path``: their entries >= 0, row ``i``'s from ``nodes[offsets[at + i]]`` on."""
    L = path.shape[1]
    for i in range(lo, hi):
        e = offsets[at + i]
        for j in range(L):
            v = path[i, j]
            if v >= 0:
                nodes[e] = v
                e += 1


def list_layout(
    paths: list[NDArray[np.int32]], n_nodes: list[NDArray[np.int64] | None] | None = None
) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
    """The padded (P, L_k) path arrays of consecutive snapshots as Arrow's list layout: ``offsets`` (n + 1,
    int32; n = total rows) and ``nodes`` (each row's entries >= 0, in order), as ``pyarrow.ListArray.from_arrays``
    takes them.  Two compiled passes (lengths, then the copy); no (n, L) mask or temporary.  ``n_nodes``: each
    array's row lengths where already known (``routing.Routes.length``; None: counted here)."""
    n = sum(len(p) for p in paths)
    lengths = np.zeros(n, dtype=np.int64)
    at = 0
    for k, p in enumerate(paths):
        known = n_nodes[k] if n_nodes is not None else None
        if known is not None:
            lengths[at : at + len(p)] = known
        else:
            _row_lengths(np.ascontiguousarray(p, dtype=np.int32), lengths, at)
        at += len(p)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    if offsets[-1] >= 2**31:
        raise ValueError("more than 2**31 path nodes in one batch (int32 list offsets)")
    nodes = np.empty(int(offsets[-1]), dtype=np.int32)
    threads = default_threads() if n >= PARALLEL_MIN_PAIRS else 1
    at = 0
    for p in paths:  # rows write disjoint ranges of nodes: blocks of rows on the kernel threads
        pc = np.ascontiguousarray(p, dtype=np.int32)

        def compact(a: int, b: int, pc: NDArray[np.int32] = pc, at: int = at) -> None:
            _compact_block(pc, offsets, at, a, b, nodes)

        run_blocks(len(pc), threads, compact)
        at += len(p)
    return offsets.astype(np.int32), nodes
