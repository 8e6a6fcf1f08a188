"""Event-driven progressive filling, compiled (numba): the exact max-min fair rates of a residual problem.

:func:`leonet.flows.max_min_fair` fixes many bottleneck levels per vectorised round; a network whose
bottlenecks wait on each other in a long chain needs one round per link of the chain (5,000 links: 5,000
rounds, 1.9-4.3 s; this kernel: 3 ms, ``python benchmarks/bench_flows.py --chain 5000``).  After
:data:`leonet.flows.VECTOR_ROUNDS` rounds the flows still growing are handed here: the classic sequential
algorithm (Bertsekas & Gallager §6.5.2) driven by a binary heap of events -- the level at which each link fills,
``(residual_l - fixed load_l) / (active weight_l)``, and at which each flow meets its demand, ``d_f / w_f`` --
popped in increasing order, stale entries skipped by a version number per link.  A link event fixes its active
flows at ``w_f t`` and re-pushes every link they cross; a demand event fixes one flow at its demand.
O(entries log entries) in all; the result is the same allocation (the residual problem's max-min fair rates are
the original's: fixed flows keep their rates, and the bottleneck condition holds in the residual network).
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray

from leonet.flows import REL_EPS  # flows imports this module only inside max_min_fair: no cycle


@njit(cache=True, nogil=True)
def _push(hk, hid, hver, n, key, ident, ver):  # type: ignore[no-untyped-def]
    i = n
    hk[i], hid[i], hver[i] = key, ident, ver
    while i > 0:
        p = (i - 1) // 2
        if hk[p] <= hk[i]:
            break
        hk[p], hk[i] = hk[i], hk[p]
        hid[p], hid[i] = hid[i], hid[p]
        hver[p], hver[i] = hver[i], hver[p]
        i = p
    return n + 1


@njit(cache=True, nogil=True)
def _pop(hk, hid, hver, n):  # type: ignore[no-untyped-def]
    key, ident, ver = hk[0], hid[0], hver[0]
    n -= 1
    hk[0], hid[0], hver[0] = hk[n], hid[n], hver[n]
    i = 0
    while True:
        left = 2 * i + 1
        if left >= n:
            break
        c = left
        if left + 1 < n and hk[left + 1] < hk[left]:
            c = left + 1
        if hk[i] <= hk[c]:
            break
        hk[c], hk[i] = hk[i], hk[c]
        hid[c], hid[i] = hid[i], hid[c]
        hver[c], hver[i] = hver[i], hver[c]
        i = c
    return key, ident, ver, n


@njit(cache=True, nogil=True)
def _fill(indptr, indices, t_indptr, t_indices, w, dem, residual, rate, bottleneck, saturated):  # type: ignore[no-untyped-def]
    n_f = indptr.shape[0] - 1
    n_l = t_indptr.shape[0] - 1
    nnz = indices.shape[0]
    wsum = np.zeros(n_l)
    count = np.zeros(n_l, np.int64)  # active flows per link (an exact test of "none left", unlike wsum)
    fixed_load = np.zeros(n_l)
    version = np.zeros(n_l, np.int64)
    active = np.ones(n_f, np.bool_)
    cap = n_l + n_f + nnz + 1
    hk = np.empty(cap)
    hid = np.empty(cap, np.int64)
    hver = np.empty(cap, np.int64)
    n = 0
    for f in range(n_f):
        for k in range(indptr[f], indptr[f + 1]):
            wsum[indices[k]] += w[f]
            count[indices[k]] += 1
        if np.isfinite(dem[f]):
            n = _push(hk, hid, hver, n, dem[f] / w[f], -(f + 1), 0)
    for m in range(n_l):
        if count[m] > 0:
            n = _push(hk, hid, hver, n, max(residual[m], 0.0) / wsum[m], m, 0)
    level = 0.0
    while n > 0:
        key, ident, ver, n = _pop(hk, hid, hver, n)
        if ident >= 0:
            if ver != version[ident] or count[ident] == 0:
                continue
            level = max(level, key)
            saturated[ident] = True
            first = t_indptr[ident]
            last = t_indptr[ident + 1]
        else:
            f0 = -ident - 1
            if not active[f0]:
                continue
            level = max(level, key)
            first = 0
            last = 1
        for j in range(first, last):
            f = t_indices[j] if ident >= 0 else -ident - 1
            if not active[f]:
                continue
            active[f] = False
            if ident >= 0:
                r = w[f] * level
                bottleneck[f] = ident
            else:
                r = dem[f]
                bottleneck[f] = -1
            rate[f] = r
            for k in range(indptr[f], indptr[f + 1]):
                m = indices[k]
                fixed_load[m] += r
                wsum[m] -= w[f]
                count[m] -= 1
                version[m] += 1
                if count[m] > 0:
                    # the level at which m fills now; never below the current one (rounding)
                    t_m = max((residual[m] - fixed_load[m]) / wsum[m], level)
                    n = _push(hk, hid, hver, n, t_m, m, version[m])
                else:
                    wsum[m] = 0.0
                    # its last flows fixed elsewhere (a demand or another link) exactly as it fills: a tie
                    # whose event order would otherwise leave a full link unmarked (the vectorised rounds mark it)
                    if fixed_load[m] >= max(residual[m], 0.0) * (1.0 - REL_EPS):
                        saturated[m] = True


def fill(
    indptr: NDArray[np.int64],
    indices: NDArray[np.int64],
    w: NDArray[np.float64],
    dem: NDArray[np.float64],
    residual: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.bool_]]:
    """Max-min fair rates (weighted: in ``rate / w``) of the flows of the CSR rows ``indptr`` / ``indices``
    (every flow with at least one link, demand > 0) over links of capacity ``residual``: rates, bottleneck link
    (-1: the demand), links saturated."""
    n_f, n_l = len(indptr) - 1, len(residual)
    rows = np.repeat(np.arange(n_f, dtype=np.int64), np.diff(indptr))
    order = np.argsort(indices, kind="stable")
    t_indices = rows[order]
    t_indptr = np.zeros(n_l + 1, dtype=np.int64)
    np.cumsum(np.bincount(indices, minlength=n_l), out=t_indptr[1:])
    rate = np.zeros(n_f)
    bottleneck = np.full(n_f, -1, dtype=np.int64)
    saturated = np.zeros(n_l, dtype=np.bool_)
    _fill(indptr, indices, t_indptr, t_indices, w, dem, residual, rate, bottleneck, saturated)
    return rate, bottleneck, saturated
