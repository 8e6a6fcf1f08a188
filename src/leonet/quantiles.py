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
from typing import Any

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


#: The most values an int32 histogram counter holds (one bin may receive a whole group).
INT32_COUNTS = int(np.iinfo(np.int32).max)


def counter_dtype(most_values: int) -> type[np.signedinteger[Any]]:
    """The histogram counters' dtype for groups of at most ``most_values`` values: int32 while one bin holding
    them all still fits (:data:`INT32_COUNTS`), int64 beyond (int32 halves the counters' memory)."""
    return np.int64 if most_values > INT32_COUNTS else np.int32


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
        self._counts = np.zeros((len(hist), bins), counter_dtype(int(self._n.max(initial=0))))
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


#: :class:`LogHistogram`'s range and bin width: values in [:data:`LOG_LO`, :data:`LOG_HI`] fall in bins whose
#: upper edge is (1 + :data:`LOG_REL`) times their lower edge (20,733 bins per group, 166 kB).
LOG_LO = 1e-3
LOG_HI = 1e6
LOG_REL = 1e-3


@njit(cache=True, nogil=True)
def _log_feed(group, x, n_groups, lo, inv_log_step, counts, vmin, vmax):  # type: ignore[no-untyped-def]
    nb = counts.shape[1]  # bin 0: below lo; bin nb - 1: above hi (or +inf)
    for i in range(x.shape[0]):
        g = group[i]
        v = x[i]
        if g < 0 or g >= n_groups or v != v or v < 0.0 or v == np.inf:
            continue
        b = 0 if v < lo else min(1 + int(np.log(v / lo) * inv_log_step), nb - 1)
        counts[g, b] += 1
        vmin[g] = min(vmin[g], v)
        vmax[g] = max(vmax[g], v)


class LogHistogram:
    """Approximate quantiles of non-negative values per group in one bounded pass: a fixed histogram with bins of
    equal *relative* width (edges ``LOG_LO * (1 + LOG_REL) ** j`` up to ``LOG_HI``) and each group's exact min and
    max.  NaN, negative and infinite values are skipped (as a CDF of finite stretches needs).

    Error bound: a quantile is NumPy's linear interpolation between two order statistics, each replaced by the
    geometric middle of its bin (clamped to the group's exact min and max), so for values inside
    [``LOG_LO``, ``LOG_HI``] each quantile is within a relative ``sqrt(1 + LOG_REL) - 1`` (0.05% by default) of
    the exact one; quantile 0 and 1 are exact (the min and max); an order statistic below ``LOG_LO`` or above
    ``LOG_HI`` is only known to lie between the range's end and the exact min (max).  Memory: ``n_groups`` x
    20,736 counters (8 bytes), whatever the number of values::

        h = LogHistogram(n_groups)
        for group, values in batches():  # once
            h.feed(group, values)
        out = h.quantiles([0.0, 0.5, 1.0])  # (n_groups, 3); NaN where a group has no value
    """

    def __init__(self, n_groups: int, lo: float = LOG_LO, hi: float = LOG_HI, rel: float = LOG_REL) -> None:
        if not (0.0 < lo < hi < np.inf and 0.0 < rel < 1.0):
            raise ValueError("expected 0 < lo < hi < inf and 0 < rel < 1")
        self.n_groups, self.lo, self.rel = n_groups, float(lo), float(rel)
        self._log_step = float(np.log1p(rel))
        inner = int(np.ceil(np.log(hi / lo) / self._log_step))
        self.counts = np.zeros((n_groups, inner + 2), np.int64)
        self._vmin = np.full(n_groups, np.inf)
        self._vmax = np.full(n_groups, -np.inf)

    def grow(self, n_groups: int) -> None:
        """Make room for ``n_groups`` groups (groups met while streaming; the new ones empty)."""
        extra = n_groups - self.n_groups
        if extra > 0:
            self.counts = np.vstack([self.counts, np.zeros((extra, self.counts.shape[1]), np.int64)])
            self._vmin = np.r_[self._vmin, np.full(extra, np.inf)]
            self._vmax = np.r_[self._vmax, np.full(extra, -np.inf)]
            self.n_groups = n_groups

    def feed(self, group: NDArray[np.int64], values: NDArray[np.float64]) -> None:
        """One batch: each value's group (0 .. n_groups-1; -1 skips it)."""
        g = np.ascontiguousarray(group, dtype=np.int64)
        x = np.ascontiguousarray(values, dtype=np.float64)
        _log_feed(g, x, self.n_groups, self.lo, 1.0 / self._log_step, self.counts, self._vmin, self._vmax)

    def _middle(self, b: NDArray[np.int64]) -> NDArray[np.float64]:
        """The geometric middle of bins ``b`` (1 .. nb-2); the range's ends for bins 0 and nb-1."""
        nb = self.counts.shape[1]
        j = np.clip(b, 1, nb - 2) - 1
        mid = self.lo * np.exp((j + 0.5) * self._log_step)
        top = self.lo * np.exp((nb - 2) * self._log_step)
        return np.asarray(np.where(b <= 0, self.lo, np.where(b >= nb - 1, top, mid)), dtype=np.float64)

    def quantiles(self, qs: Sequence[float] | NDArray[np.float64]) -> NDArray[np.float64]:
        """(n_groups, len(qs)): the quantiles (see the class docstring for the error); NaN for no value."""
        q = np.asarray(qs, dtype=np.float64)
        out = np.full((self.n_groups, len(q)), np.nan)
        cum = np.cumsum(self.counts, axis=1)
        for g in range(self.n_groups):  # a few groups (networks); the bins are searched vectorised
            n = int(cum[g, -1])
            if n == 0:
                continue
            h = q * (n - 1)
            k = np.floor(h).astype(np.int64)
            f = h - k
            k1 = np.minimum(k + 1, n - 1)
            a = np.clip(self._middle(np.searchsorted(cum[g], k, side="right")), self._vmin[g], self._vmax[g])
            b = np.clip(self._middle(np.searchsorted(cum[g], k1, side="right")), self._vmin[g], self._vmax[g])
            a[k == 0], b[k1 == n - 1] = self._vmin[g], self._vmax[g]  # the ends: exact
            a[k == n - 1] = self._vmax[g]
            out[g] = a + (b - a) * f
        return out
