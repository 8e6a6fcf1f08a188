"""Many-source shortest paths over a CSR digraph: bucket-queue Dijkstra / Δ-stepping with branch-free relaxation.

Algorithm: Δ-stepping (Meyer & Sanders 2003, "Δ-stepping: a parallelizable shortest path algorithm",
J. Algorithms 49(1):114-152), run sequentially.  Tentative distances are kept in buckets of width Δ
(Dial 1969, "Algorithm 360: shortest-path forest with topological ordering", CACM 12(11):632-633) in a cyclic
array; the lowest non-empty bucket is emptied in FIFO phases, and any vertex whose distance improves is queued
again.  By default Δ is the minimum edge weight, so relaxing an edge never lands in the current bucket and every
vertex in it is final when it is taken (Dinic 1978, as in Cherkassky, Goldberg & Radzik 1996, Math. Prog.
73:129-174): this is then plain Dijkstra with a monotone bucket queue.  When the minimum weight is tiny
(``max / min > 62``) Δ is raised to ``max weight / 62`` to bound the number of buckets, and the phases do the
label-correcting work Δ-stepping needs; the results stay exact either way.

What makes it fast on the routing graphs (a few thousand vertices, ~4.6 out-edges each) is avoiding branch
mispredictions rather than the queue's asymptotics: an edge is relaxed with ``dist[v] = min(dist[v], d + w)`` and
its index appended to a staging list whose length grows by ``d + w < dist[v]``; after each phase the staging list
is replayed to set predecessors (the last improvement of a vertex wins) and to queue each improved vertex once.
Stale queue entries are dropped when their bucket comes up; vertices with no out-edges are never queued.

Measured with ``benchmarks/bench_dijkstra.py`` (100 city sources with predecessors, one thread, median of 50;
a 2-core Intel Xeon VM shared with other work, numba 0.68, scipy 1.16): ``starlink-550`` snapshot (1,784 vertices,
8.2k edges) 2.5 ms vs 18 ms for ``scipy.sparse.csgraph.dijkstra`` (7x; 2.1-2.4 ms on other snapshots and quieter
runs), 2.3 ms (8x) with the 100 sink vertices as ``targets``; ``starlink-gen1`` (4,608 vertices, 22.5k edges)
6.4 ms vs 53 ms (8x), 5.7 ms (9x) with targets.  (The heap-based kernel this replaces took ~17 ms on
the first graph, like scipy.)  A vertex order with more locality (reverse Cuthill-McKee) would gain another ~5%.

Both cores: the searches of different sources share nothing but the read-only graph, so :func:`run_blocks` runs
blocks of sources on a shared pool of threads (the kernels release the GIL); each block has its own queue and
scratch buffers and writes its own rows of ``dist`` / ``pred``.  Threads: ``NUMBA_NUM_THREADS`` or the affinity
mask (:func:`default_threads`); below :data:`PARALLEL_MIN_WORK` everything stays in the calling thread.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import numpy as np
from numba import njit
from numpy.typing import ArrayLike, NDArray

NO_PRED = -9999  # scipy's "no predecessor" marker
_FILL = np.array([np.inf, 0.0])  # lower bound of dist at an early exit: (not final, final)
#: The largest graph the kernels index: vertices as int32 (``pred``, the paths), edges as uint32 (the staging
#: stack, the unsigned CSR copies).
MAX_VERTICES = int(np.iinfo(np.int32).max)
MAX_EDGES = int(np.iinfo(np.uint32).max)
_MAX_SPAN = 62  # default Δ >= max weight / _MAX_SPAN, so that at most 64 buckets are live at a time
_MAX_RING = 1 << 16  # refuse an explicit Δ that would need more buckets than this
#: Below this much work (sources x (vertices + edges)) the sources run in the calling thread: ~1-2 ms of
#: kernel time, where handing blocks to threads would cost about as much as it saves.
PARALLEL_MIN_WORK = 1_000_000
#: Blocks of sources per thread: threads that finish early take the next block (the searches differ in size).
_BLOCKS_PER_THREAD = 4

_pools: dict[int, ThreadPoolExecutor] = {}
_pool_lock = threading.Lock()


def _forget_pools() -> None:
    """In a forked child the pools' threads do not exist (an idle pool would queue work that no thread runs):
    start afresh."""
    global _pool_lock
    _pools.clear()
    _pool_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pools)


def default_threads() -> int:
    """Threads for the many-source kernel: ``NUMBA_NUM_THREADS`` if set, else the CPUs this process may run on
    (numba's own default, ``numba.config.NUMBA_NUM_THREADS``, which follows ``os.sched_getaffinity``)."""
    env = os.environ.get("NUMBA_NUM_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def _executor(n: int) -> ThreadPoolExecutor:
    """A process-wide pool of ``n`` worker threads, made once per size, so that a snapshot does not pay for
    starting threads (threads are started lazily by the pool and are idle between calls)."""
    with _pool_lock:
        pool = _pools.get(n)
        if pool is None:
            pool = _pools[n] = ThreadPoolExecutor(max_workers=n, thread_name_prefix="leonet-kernel")
        return pool


def run_blocks(n_items: int, threads: int, job: Callable[[int, int], None]) -> None:
    """Call ``job(a, b)`` (a GIL-free kernel over items ``a:b``) for contiguous blocks covering ``0:n_items``,
    on ``threads`` threads of the shared pool (in the calling thread when ``threads == 1``)."""
    nt = max(1, min(int(threads), n_items))
    if nt == 1:
        if n_items:
            job(0, n_items)
        return
    nb = min(n_items, nt * _BLOCKS_PER_THREAD)
    bounds = np.linspace(0, n_items, nb + 1).astype(int)
    futures = [_executor(nt).submit(job, int(a), int(b)) for a, b in pairwise(bounds)]
    for f in futures:
        f.result()


@njit(cache=True, nogil=True)
def _prepare(indptr, indices, data):  # type: ignore[no-untyped-def]
    """Validate the CSR arrays; unsigned copies (no negative-index wrap-around code in the hot loops), the tail
    vertex of every edge, which vertices have out-edges, and the smallest / largest finite weight.
    ``status``: 0 ok, 1 malformed indptr, 2 vertex index out of range, 3 negative or NaN weight."""
    n = indptr.shape[0] - 1
    m = indices.shape[0]
    ip = np.empty(n + 1, np.uint32)
    ix = np.empty(m, np.uint32)
    eu = np.empty(m, np.uint32)
    hasout = np.empty(max(n, 0), np.bool_)
    wmin = np.inf
    wmax = 0.0
    if indptr[0] != 0 or indptr[n] != m or data.shape[0] != m:
        return ip, ix, eu, hasout, wmin, wmax, 1
    for i in range(n + 1):
        ip[i] = indptr[i]
    for i in range(n):
        lo = indptr[i]
        hi = indptr[i + 1]
        if hi < lo:
            return ip, ix, eu, hasout, wmin, wmax, 1
        hasout[i] = hi > lo
        for k in range(lo, hi):
            v = indices[k]
            if v < 0 or v >= n:
                return ip, ix, eu, hasout, wmin, wmax, 2
            ix[k] = v
            eu[k] = i
            w = data[k]
            if not (w >= 0.0):
                return ip, ix, eu, hasout, wmin, wmax, 3
            wmin = min(wmin, w)
            if w < np.inf:
                wmax = max(wmax, w)
    return ip, ix, eu, hasout, wmin, wmax, 0


@njit(cache=True, nogil=True)
def _compact(row, c, bucket, dist, inv, seen, stamp):  # type: ignore[no-untyped-def]
    """Drop the stale and repeated entries of a bucket (``row[:c]``); returns how many are left (<= N)."""
    m = np.uint64(0)
    for j in range(c):
        v = row[j]
        row[m] = v
        keep = (np.uint64(dist[v] * inv) == bucket) & (seen[v] != stamp)
        seen[v] = stamp
        m += np.uint64(keep)
    return m


@njit(cache=True, nogil=True)
def _distribute_checked(  # type: ignore[no-untyped-def]
    stk, c, ix, w, eu, hasout, inv, mask, dist, pred, q, cnt, seen, stamp, pend, cur, slot
):
    """The queueing loop of :func:`_sssp`, compacting a bucket when it is full.  Returns ``(pend, stamp)``."""
    cap = np.uint64(q.shape[1] - 1)
    for t in range(c):
        k = stk[t]
        v = ix[k]
        u = eu[k]
        nd = dist[u] + w[k]
        pred[v] = u
        ns = np.uint64(nd * inv) & mask
        e = cnt[ns]
        if e == cap:  # full of stale entries: keep one entry per vertex still in that bucket (<= N)
            stamp += 1
            e = _compact(q[ns], e, cur + ((ns - slot) & mask), dist, inv, seen, stamp)
            pend -= np.int64(cnt[ns] - e)
        q[ns, e] = v
        ok = (dist[v] == nd) & hasout[v]
        cnt[ns] = e + np.uint64(ok)
        pend += np.int64(ok)
    return pend, stamp


@njit(cache=True, nogil=True)
def _sssp(  # type: ignore[no-untyped-def]
    ip, split, ix, w, eu, hasout, s, inv, mask, dist, pred, q, cnt, seen, stamp, work, stk, targets
):
    """One source.  ``q[slot]`` holds the vertices queued in bucket ``cur + (slot - cur) mod K``, ``cnt`` their
    counts; ``seen`` / ``stamp`` drop duplicates within a phase.  Returns the updated stamp.

    Each row's edges ``ip[u]:split[u]`` are staged and replayed; its edges ``split[u]:ip[u + 1]`` must lead to
    leaves (vertices without out-edges, see :func:`leonet._routesearch._leaves_last`): a leaf is never queued, so
    its distance and predecessor are set in place (a strict improvement moves the predecessor, as the staged
    replay would: the last, best one wins).  ``split = ip[1:]`` stages every edge; either way the distances and
    predecessors are the same, bit for bit."""
    n = dist.shape[0]
    cap = np.uint64(q.shape[1] - 1)  # room in a bucket, besides a spare slot for the branch-free append
    for i in range(n):
        dist[i] = np.inf
        pred[i] = NO_PRED
    for i in range(cnt.shape[0]):
        cnt[i] = 0
    dist[s] = 0.0
    q[0, 0] = np.uint32(s)
    cnt[0] = 1
    pend = np.int64(1)  # queued entries, stale ones included
    cur = np.uint64(0)  # the bucket being emptied: distances d with floor(d / Δ) == cur
    nt = targets.shape[0]
    tp = 0  # targets[:tp] are final
    while pend > 0:
        slot = cur & mask
        while cnt[slot] > 0:  # one phase: take the bucket's entries, relax, queue the improved vertices
            stamp += 1
            c0 = cnt[slot]
            row = q[slot]
            m = np.uint64(0)
            for j in range(c0):  # keep each vertex still in this bucket, once
                u = row[j]
                work[m] = u
                keep = (np.uint64(dist[u] * inv) == cur) & (seen[u] != stamp)
                seen[u] = stamp
                m += np.uint64(keep)
            pend -= np.int64(c0)
            cnt[slot] = 0
            c = np.uint64(0)
            for j in range(m):  # relax, branch-free; stage the edges that improved their head
                u = work[j]
                d = dist[u]
                for k in range(ip[u], split[u]):
                    v = ix[k]
                    nd = d + w[k]
                    dv = dist[v]
                    dist[v] = min(nd, dv)
                    stk[c] = k
                    c += np.uint64(nd < dv)
                for k in range(split[u], ip[u + np.uint32(1)]):  # leaves: in place
                    v = ix[k]
                    nd = d + w[k]
                    dv = dist[v]
                    dist[v] = min(nd, dv)
                    better = np.int32(nd < dv)
                    pred[v] = better * np.int32(u) + (1 - better) * pred[v]
            if pend + np.int64(c) > np.int64(cap):  # rare: some bucket might overflow; check every append
                pend, stamp = _distribute_checked(
                    stk, c, ix, w, eu, hasout, inv, mask, dist, pred, q, cnt, seen, stamp, pend, cur, slot
                )
                continue
            for t in range(c):  # in staging order, so the last (best) improvement of a vertex sets its pred
                k = stk[t]
                v = ix[k]
                u = eu[k]
                nd = dist[u] + w[k]
                pred[v] = u
                ns = np.uint64(nd * inv) & mask
                e = cnt[ns]  # <= pend + t < cap: no bucket holds more than all queued entries
                q[ns, e] = v
                ok = (dist[v] == nd) & hasout[v]  # only the entry that holds the current distance
                cnt[ns] = e + np.uint64(ok)
                pend += np.int64(ok)
        if nt > 0:  # buckets <= cur are final now: walk past the targets in them (each target once in all)
            lim = np.float64(cur) + 1.0
            while tp < nt and dist[targets[tp]] * inv < lim:
                tp += 1
            if tp == nt:
                for i in range(n):  # forget what is not final yet (as scipy does beyond ``limit``), branch-free
                    x = dist[i]
                    fin = np.int32(x * inv < lim)
                    dist[i] = max(x, _FILL[fin])
                    pred[i] = fin * pred[i] + (1 - fin) * NO_PRED
                break
        cur += np.uint64(1)
    return stamp


@njit(cache=True, nogil=True)
def _run(ip, ix, w, eu, hasout, inv, ring, sources, targets, t0, t1, dist, pred):  # type: ignore[no-untyped-def]
    """Searches from ``sources``; source ``r`` stops once ``targets[t0[r]:t1[r]]`` are final."""
    n = ip.shape[0] - 1
    q = np.empty((ring, 2 * n + 2), np.uint32)  # compacted to <= N entries when full: amortised O(1) per entry
    cnt = np.zeros(ring, np.uint64)
    seen = np.zeros(n, np.int64)
    work = np.empty(2 * n + 2, np.uint32)
    stk = np.empty(ix.shape[0] + 1, np.uint32)
    mask = np.uint64(ring - 1)
    stamp = np.int64(0)
    split = ip[1:]  # no leaf edges apart: every edge staged
    for r in range(sources.shape[0]):
        stamp = _sssp(
            ip,
            split,
            ix,
            w,
            eu,
            hasout,
            sources[r],
            inv,
            mask,
            dist[r],
            pred[r],
            q,
            cnt,
            seen,
            stamp,
            work,
            stk,
            targets[t0[r] : t1[r]],
        )


def _vertices(x: ArrayLike, n: int, what: str) -> NDArray[np.int64]:
    a = np.ascontiguousarray(np.asarray(x).ravel(), dtype=np.int64)
    if len(a) and (a.min() < 0 or a.max() >= n):
        raise ValueError(f"{what} must be vertex indices in [0, {n})")
    return a


def dijkstra_many(
    indptr: ArrayLike,
    indices: ArrayLike,
    data: ArrayLike,
    sources: ArrayLike,
    targets: ArrayLike | None = None,
    *,
    target_ptr: ArrayLike | None = None,
    threads: int | None = None,
    delta: float | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.int32]]:
    """Shortest paths from each of ``sources`` over the directed graph in CSR form (``indptr``, ``indices``,
    ``data``: edge ``u -> indices[k]`` of weight ``data[k] >= 0`` for ``k`` in ``indptr[u]:indptr[u+1]``).

    Returns ``dist`` (``(len(sources), N)`` float64, ``inf`` where unreachable) and ``pred`` (same shape, int32,
    the previous vertex on a shortest path, ``-9999`` at the source and where unreachable), as
    ``scipy.sparse.csgraph.dijkstra(csr, directed=True, indices=sources, return_predecessors=True)`` returns
    them; distances are the same, predecessors may differ where two paths tie.  Explicit zero weights are edges
    of length zero (as in scipy for sparse input); duplicate ``(u, v)`` entries are separate parallel edges.

    ``targets``: stop each search once all these vertices are final; vertices not yet final then read ``inf``
    / ``-9999`` (those reached all have exact distances and predecessor chains back to the source).
    ``target_ptr`` (``len(sources) + 1`` offsets into ``targets``): each source has its own targets, source
    ``r`` stops once ``targets[target_ptr[r]:target_ptr[r + 1]]`` are final (an empty list: a full search).
    ``threads``: run blocks of sources on this many threads (the kernel releases the GIL; every source's
    search is independent and deterministic, so the results are the same for any thread count).  Default:
    :func:`default_threads` when the work is at least :data:`PARALLEL_MIN_WORK`, else one.
    ``delta``: bucket width (default: the minimum weight, at least ``max weight / 62``); any positive value
    gives exact results, it only changes the speed.
    """
    ip = np.ascontiguousarray(indptr, dtype=np.int64)
    ix = np.ascontiguousarray(indices, dtype=np.int64)
    w = np.ascontiguousarray(data, dtype=np.float64)
    if ip.ndim != 1 or len(ip) < 1 or ix.ndim != 1 or w.ndim != 1:
        raise ValueError("indptr, indices and data must be 1-d CSR arrays")
    n = len(ip) - 1
    if n > MAX_VERTICES or len(ix) > MAX_EDGES:
        raise ValueError("graph too large for 32-bit vertex / edge indices")
    src = _vertices(sources, n, "sources")
    tgt = _vertices([] if targets is None else targets, n, "targets")
    if target_ptr is None:  # every source: all the targets
        t0, t1 = np.zeros(len(src), dtype=np.int64), np.full(len(src), len(tgt), dtype=np.int64)
    else:
        tptr = np.ascontiguousarray(target_ptr, dtype=np.int64)
        if tptr.shape != (len(src) + 1,) or tptr[0] != 0 or tptr[-1] != len(tgt) or (np.diff(tptr) < 0).any():
            raise ValueError("target_ptr must be len(sources) + 1 non-decreasing offsets from 0 to len(targets)")
        t0, t1 = tptr[:-1].copy(), tptr[1:].copy()
    uip, uix, eu, hasout, wmin, wmax, status = _prepare(ip, ix, w)
    if status:
        raise ValueError(
            {1: "malformed indptr", 2: "indices out of range", 3: "weights must be >= 0 (and not NaN)"}[status]
        )
    if delta is None:
        step = max(wmin, wmax / _MAX_SPAN)
        if not 0.0 < step < np.inf:
            step = 1.0  # all weights zero (or infinite): one bucket, label-correcting
    elif not 0.0 < delta < np.inf:
        raise ValueError("delta must be positive and finite")
    else:
        step = float(delta)
    inv = 1.0 / step
    span = wmax * inv + 3.0  # buckets that can hold queued vertices at a time, with room for rounding
    if span > _MAX_RING:
        raise ValueError(f"delta {step} too small for the largest weight {wmax} (more than {_MAX_RING} buckets)")
    ring = 1 << max(int(np.ceil(np.log2(span))), 1)
    dist = np.empty((len(src), n), dtype=np.float64)
    pred = np.empty((len(src), n), dtype=np.int32)
    args = (uip, uix, w, eu, hasout, inv, ring)
    if threads is None:
        threads = default_threads() if len(src) * (n + len(ix)) >= PARALLEL_MIN_WORK else 1

    def job(a: int, b: int) -> None:
        _run(*args, src[a:b], tgt, t0[a:b], t1[a:b], dist[a:b], pred[a:b])

    run_blocks(len(src), threads, job)
    return dist, pred
