"""Exact quantiles per group over data streamed in batches, in bounded memory (a few passes over the data).

A quantile by linear interpolation (NumPy's default ``percentile`` method, DuckDB's ``quantile_cont``) of ``n``
values is ``x[k] + f (x[k+1] - x[k])`` with ``h = q (n - 1)``, ``k = floor(h)``, ``f = h - k``: it needs two order
statistics.  Each is found by narrowing a value interval known to hold it:

* pass 0 counts each group's values (NaN skipped; -inf and +inf counted apart) and their finite min and max
  (or is given by SQL aggregates: :meth:`ExactQuantiles.set_counts`);
* each later pass either histograms, per wanted order statistic, the values inside its interval into
  :data:`BINS` or more bins and keeps the bin holding it (the interval shrinks as many times), or, once the
  interval holds few enough values (:data:`COLLECT`), copies them out, and the statistic is selected from them.

The result is exact (the same order statistics a full sort gives, and the same interpolation).  Memory: per
wanted statistic ``BINS`` or more counters (4 bytes each) while it histograms (at most :data:`HIST_TOTAL` at once; the
others wait for a later pass), and at most :data:`COLLECT_TOTAL` values (8 bytes each) copied at once, whatever
the number of rows (~64 + 32 MB per series at most); the data is read once per pass (3 passes on
smooth data such as RTT series, more on heavily concentrated ones: see :data:`MAX_PASSES`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numba import njit
from numpy.typing import NDArray

#: Histogram bins per order statistic and pass: at least this many, more when few statistics are wanted (up to
#: :data:`MAX_BINS`, within :data:`HIST_TOTAL` counters), so that a few huge groups also need few passes.
BINS = 512
MAX_BINS = 1 << 16
#: An order statistic whose interval holds at most this many values has them copied out in the next pass.
COLLECT = 16_384
#: Most values copied out in one pass, over all order statistics (8 bytes each: 32 MB).
COLLECT_TOTAL = 4_000_000
#: Most passes: each shrinks an interval by its number of bins, so values spread over a range R with spacing d need
#: about log(R / d) / log(bins) histogram passes (3 for RTTs: R ~ 100 ms, d ~ 1e-9 ms); only values spanning
#: hundreds of orders of magnitude in one group come near this (a bug otherwise).
MAX_PASSES = 400

#: Most histogram counters at once (4 bytes each: 64 MB); order statistics beyond them wait for a later pass.
HIST_TOTAL = 1 << 24

_DONE, _HIST, _COLLECT, _WAIT = 0, 1, 2, 3


@njit(cache=True, nogil=True)
def _count(group, x, n, nneg, npos, vmin, vmax):  # type: ignore[no-untyped-def]
    for i in range(x.shape[0]):
        v = x[i]
        g = group[i]
        if v != v or g < 0:
            continue
        if v == np.inf:
            npos[g] += 1
        elif v == -np.inf:
            nneg[g] += 1
        else:
            n[g] += 1
            if v < vmin[g]:
                vmin[g] = v
            if v > vmax[g]:
                vmax[g] = v


@njit(cache=True, nogil=True)
def _edge(lo, width, j):  # type: ignore[no-untyped-def]
    """Lower edge of bin ``j`` of an interval starting at ``lo`` with bins ``width`` wide (monotone in j; the
    same expression wherever a bin is computed, so that a value's bin is decided by exact comparisons)."""
    return lo + width * j


@njit(cache=True, nogil=True)
def _feed(group, x, tstart, mode, lo, hi, hrow, counts, inmin, inmax, off, fill, cap, buf):  # type: ignore[no-untyped-def]
    bins = counts.shape[1]
    for i in range(x.shape[0]):
        v = x[i]
        g = group[i]
        if v != v or g < 0:
            continue
        for t in range(tstart[g], tstart[g + 1]):
            m = mode[t]
            if m == 0 or m == 3 or v < lo[t] or v > hi[t]:
                continue
            if m == 1:
                a = lo[t]
                w = (hi[t] - a) / bins
                j = int((v - a) / w)
                j = min(max(j, 0), bins - 1)
                while j > 0 and v < _edge(a, w, j):
                    j -= 1
                while j < bins - 1 and v >= _edge(a, w, j + 1):
                    j += 1
                r = hrow[t]
                counts[r, j] += 1
                if v < inmin[t]:
                    inmin[t] = v
                if v > inmax[t]:
                    inmax[t] = v
            elif fill[t] < cap[t]:
                buf[off[t] + fill[t]] = v
                fill[t] += 1
            else:  # more values than the last pass counted: the data changed between passes
                fill[t] = cap[t] + 1


@njit(cache=True, nogil=True)
def _narrow(targets, rank, below, lo, hi, hrow, counts, inmin, inmax, n_in, value, mode):  # type: ignore[no-untyped-def]
    """After a histogram pass: keep the bin holding each target's order statistic."""
    bins = counts.shape[1]
    for t in targets:
        if inmin[t] == inmax[t]:  # every value in the interval is the same: it is the statistic
            value[t] = inmin[t]
            mode[t] = 0
            continue
        r = rank[t] - below[t]
        row = hrow[t]
        acc = 0
        j = 0
        while acc + counts[row, j] <= r:
            acc += counts[row, j]
            j += 1
        a = lo[t]
        w = (hi[t] - a) / bins
        below[t] += acc
        n_in[t] = counts[row, j]
        lo[t] = _edge(a, w, j)
        if j < bins - 1:
            hi[t] = np.nextafter(_edge(a, w, j + 1), -np.inf)
        if lo[t] >= hi[t]:
            value[t] = lo[t]
            mode[t] = 0


@njit(cache=True, nogil=True)
def _pick(targets, buf, off, fill, rank, below, value):  # type: ignore[no-untyped-def]
    """After a collection pass: each target's order statistic from its copied values."""
    for t in targets:
        r = rank[t] - below[t]
        value[t] = np.partition(buf[off[t] : off[t] + fill[t]], r)[r]


class ExactQuantiles:
    """Quantiles ``qs`` of the values of each of ``n_groups`` groups, fed in batches over several passes::

    sel = ExactQuantiles(n_groups, [0.5, 0.95])
    while sel.begin_pass():
        for group, values in batches():      # every row, each pass; group -1: skip the row
            sel.feed(group, values)
        sel.end_pass()
    out = sel.result()                      # (n_groups, len(qs)); NaN where a group has no value
    """

    def __init__(self, n_groups: int, qs: Sequence[float] | NDArray[np.float64]) -> None:
        self.n_groups = n_groups
        self.qs = np.asarray(qs, dtype=np.float64)
        self.passes = 0
        self._n = np.zeros(n_groups, np.int64)
        self._nneg = np.zeros(n_groups, np.int64)
        self._npos = np.zeros(n_groups, np.int64)
        self._vmin = np.full(n_groups, np.inf)
        self._vmax = np.full(n_groups, -np.inf)
        self._counted = False

    def set_counts(
        self,
        n: NDArray[np.int64],
        nneg: NDArray[np.int64],
        npos: NDArray[np.int64],
        vmin: NDArray[np.float64],
        vmax: NDArray[np.float64],
    ) -> None:
        """Pass 0 done elsewhere (e.g. by SQL aggregates): per group the finite values' count, the counts of
        -inf and +inf, and the finite values' min and max (anything for a group without finite values)."""
        self._n[:], self._nneg[:], self._npos[:] = n, nneg, npos
        self._vmin[:] = np.where(n > 0, vmin, np.inf)
        self._vmax[:] = np.where(n > 0, vmax, -np.inf)
        self._counted = True
        self._targets()

    def begin_pass(self) -> bool:
        """True if another pass over every batch is needed (then :meth:`feed` them all and :meth:`end_pass`)."""
        if not self._counted:
            return True
        if not (self._mode != _DONE).any():
            return False
        if self.passes >= MAX_PASSES:  # pragma: no cover - each pass shrinks the intervals; a bug otherwise
            raise RuntimeError(f"exact quantiles did not converge in {MAX_PASSES} passes")
        active = np.flatnonzero(self._mode != _DONE)
        collect = active[self._n_in[active] <= COLLECT]
        collect = collect[np.cumsum(self._n_in[collect]) <= COLLECT_TOTAL]
        self._mode[active] = _HIST
        self._mode[collect] = _COLLECT
        hist = np.flatnonzero(self._mode == _HIST)
        bins = int(min(MAX_BINS, max(BINS, 2 ** int(np.log2(max(HIST_TOTAL // max(len(hist), 1), 1))))))
        self._mode[hist[HIST_TOTAL // bins :]] = _WAIT
        hist = hist[: HIST_TOTAL // bins]
        self._hrow = np.full(len(self._mode), -1, np.int64)
        self._hrow[hist] = np.arange(len(hist))
        self._counts = np.zeros((len(hist), bins), np.int64 if self._n.max(initial=0) >= 2**31 else np.int32)
        self._inmin = np.full(len(self._mode), np.inf)
        self._inmax = np.full(len(self._mode), -np.inf)
        self._off = np.zeros(len(self._mode), np.int64)
        sizes = np.where(self._mode == _COLLECT, self._n_in, 0)
        self._off[1:] = np.cumsum(sizes)[:-1]
        self._fill = np.zeros(len(self._mode), np.int64)
        self._buf = np.empty(int(sizes.sum()), np.float64)
        return True

    def feed(self, group: NDArray[np.int64], values: NDArray[np.float64]) -> None:
        """One batch: each value's group (0 .. n_groups-1; -1 skips it); NaN values are skipped."""
        g = np.ascontiguousarray(group, dtype=np.int64)
        x = np.ascontiguousarray(values, dtype=np.float64)
        if not self._counted:
            _count(g, x, self._n, self._nneg, self._npos, self._vmin, self._vmax)
            return
        _feed(g, x, self._tstart, self._mode, self._lo, self._hi, self._hrow, self._counts, self._inmin,
              self._inmax, self._off, self._fill, self._n_in, self._buf)  # fmt: skip

    def end_pass(self) -> None:
        self.passes += 1
        if not self._counted:
            self._counted = True
            self._targets()
            return
        coll = np.flatnonzero(self._mode == _COLLECT)
        if (self._fill[coll] != self._n_in[coll]).any():
            raise ValueError("the values fed differ from one pass to the next; expected the same batches each pass")
        _pick(coll, self._buf, self._off, self._fill, self._rank, self._below, self._value)
        self._mode[coll] = _DONE
        hist = np.flatnonzero(self._mode == _HIST)
        _narrow(hist, self._rank, self._below, self._lo, self._hi, self._hrow, self._counts, self._inmin,
                self._inmax, self._n_in, self._value, self._mode)  # fmt: skip
        self._buf = np.empty(0)
        self._counts = np.empty((0, 1), np.int32)

    def _targets(self) -> None:
        """After pass 0: the order statistics wanted (two per group and quantile), those known already."""
        n_all = self._n + self._nneg + self._npos
        h = self.qs[None, :] * (n_all[:, None] - 1).astype(np.float64)  # NumPy's virtual index
        k = np.floor(h).astype(np.int64)
        self._frac = h - k
        k_hi = np.minimum(k + 1, n_all[:, None] - 1)
        ranks = np.stack([k, k_hi], axis=2).reshape(self.n_groups, 2 * len(self.qs))  # also for no groups
        per = ranks.shape[1]
        self._tstart = np.arange(self.n_groups + 1, dtype=np.int64) * per
        T = self.n_groups * per
        grp = np.repeat(np.arange(self.n_groups), per)
        rank = ranks.reshape(-1)
        self._value = np.full(T, np.nan)
        self._mode = np.full(T, _HIST, np.int8)
        nneg, nfin = self._nneg[grp], self._n[grp]
        empty = n_all[grp] == 0
        neg = ~empty & (rank < nneg)
        pos = ~empty & (rank >= nneg + nfin)
        self._value[neg], self._value[pos] = -np.inf, np.inf
        self._rank = rank - nneg  # rank among the finite values
        self._below = np.zeros(T, np.int64)
        self._lo = self._vmin[grp].copy()
        self._hi = self._vmax[grp].copy()
        self._n_in = nfin.copy()
        single = ~(empty | neg | pos) & (self._lo == self._hi)
        self._value[single] = self._lo[single]
        self._mode[empty | neg | pos | single] = _DONE

    def result(self) -> NDArray[np.float64]:
        """(n_groups, len(qs)): the quantiles, interpolated as NumPy's ``percentile`` does; NaN for no value."""
        v = self._value.reshape(self.n_groups, len(self.qs), 2)
        a, b, t = v[..., 0], v[..., 1], self._frac
        with np.errstate(invalid="ignore"):
            diff = b - a
            out = np.where(t >= 0.5, b - diff * (1 - t), a + diff * t)  # NumPy's _lerp
            out = np.where((a == b) | (t == 0), a, out)  # no interpolation needed (also with infinities)
        out[np.isnan(self._frac)] = np.nan
        return np.asarray(out, dtype=np.float64)
