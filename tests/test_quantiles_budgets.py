"""``leonet.quantiles.ExactQuantiles`` with its memory budgets made tiny, against ``np.quantile``.

With the real budgets (16,384 values copied per statistic, 16 M histogram counters) only tables of millions of
rows reach the histogram passes, and none reaches the budgets' limits: statistics that wait for a later pass
(more of them than ``HIST_TOTAL // bins``), collections cut by ``COLLECT_TOTAL``.  Here the budgets are a few
values and a few thousand counters, so small tables take every path, and the result must still be exactly
NumPy's (reference: ``np.quantile``, linear interpolation, over the full arrays).
"""

from __future__ import annotations

import numpy as np
import pytest

from leonet import quantiles
from leonet.quantiles import ExactQuantiles
from test_summaries_long import _select


def _reference(v: np.ndarray, qs: list[float]) -> np.ndarray:
    """``np.quantile`` (linear), except where both order statistics are the same infinity: NumPy's
    interpolation gives NaN there (inf - inf), the documented answer is that infinity (``ExactQuantiles.result``;
    infinities are ordered values, ``test_exact_quantiles_edge_cases``)."""
    s = np.sort(v)
    out = np.quantile(v, qs)
    for i, q in enumerate(qs):
        k = int(np.floor(q * (len(s) - 1)))
        lo, hi = s[k], s[min(k + 1, len(s) - 1)]
        if np.isinf(lo) and lo == hi:
            out[i] = lo
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("hist_total", [512, 2048, 1 << 20])
def test_tiny_budgets_give_numpys_quantiles(seed: int, hist_total: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(quantiles, "COLLECT", 40)
    monkeypatch.setattr(quantiles, "COLLECT_TOTAL", 100)
    monkeypatch.setattr(quantiles, "HIST_TOTAL", hist_total)
    rng = np.random.default_rng(seed)
    G, N = 7, 6_000
    g = rng.integers(0, G, N)
    x = rng.lognormal(3.0, 0.6, N)
    x[g == 1] = np.round(x[g == 1], 0)  # many ties
    x[(g == 2) & (rng.uniform(size=N) < 0.9)] = 20.0  # one value holds 90%
    x[(g == 3) & (rng.uniform(size=N) < 0.3)] = np.nan
    x[(g == 4) & (rng.uniform(size=N) < 0.1)] = np.inf
    x[(g == 4) & (rng.uniform(size=N) < 0.1)] = -np.inf
    x[g == 5] = 1e-6 * rng.standard_normal(int((g == 5).sum())) - 7.0  # a narrow band of negative values
    qs = [0.0, 0.01, 0.25, 0.5, 0.95, 0.999, 1.0]
    sel = _select(g, x, G + 1, qs, batch=997)  # group G has no value
    assert sel.passes >= 3
    got = sel.result()
    for k in range(G):
        v = x[g == k]
        v = v[~np.isnan(v)]
        with np.errstate(invalid="ignore"):
            want = _reference(v, qs)  # (not np.percentile: q * 100 / 100 turns 0.999 into 0.9990000000000001)
        np.testing.assert_array_equal(got[k], want, err_msg=f"group {k}")
    assert np.isnan(got[G]).all()


def test_set_counts_from_elsewhere_equals_counting_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pass 0 given by aggregates (``set_counts``: finite count, -inf and +inf counts, finite min and max; a
    group without finite values with any min / max) gives the same quantiles as counting in pass 0."""
    monkeypatch.setattr(quantiles, "COLLECT", 30)
    rng = np.random.default_rng(5)
    G, N = 4, 2_000
    g = rng.integers(0, G - 1, N)
    x = rng.normal(100.0, 15.0, N)
    x[:5] = np.inf
    g[:5] = G - 1  # the last group: +inf only
    qs = [0.1, 0.5, 0.9]
    counted = _select(g, x, G, qs, batch=300).result()
    sel = ExactQuantiles(G, qs)
    fin = np.isfinite(x)
    n = np.bincount(g[fin], minlength=G)
    npos = np.bincount(g[x == np.inf], minlength=G)
    nneg = np.zeros(G, np.int64)
    vmin = np.array([x[fin & (g == k)].min() if n[k] else 123.0 for k in range(G)])
    vmax = np.array([x[fin & (g == k)].max() if n[k] else -5.0 for k in range(G)])
    sel.set_counts(n, nneg, npos, vmin, vmax)
    while sel.begin_pass():
        for i in range(0, N, 300):
            sel.feed(g[i : i + 300], x[i : i + 300])
        sel.end_pass()
    given = sel.result()
    np.testing.assert_array_equal(given, counted)
    for k in range(G - 1):
        np.testing.assert_array_equal(given[k], np.quantile(x[g == k], qs))
    assert (given[G - 1] == np.inf).all()


def test_counters_widen_exactly_where_int32_would_overflow(monkeypatch: pytest.MonkeyPatch) -> None:
    """One bin may hold a whole group: int32 counters hold up to 2**31 - 1 (``np.iinfo``), so a group of 2**31
    values needs int64.  A group that large needs 16 GiB of float64, so the boundary is pinned on the rule, and
    with the limit lowered to 9 on the counters a selection allocates: its largest group decides."""
    assert quantiles.INT32_COUNTS == 2**31 - 1
    assert quantiles.counter_dtype(0) is np.int32
    assert quantiles.counter_dtype(2**31 - 1) is np.int32
    assert quantiles.counter_dtype(2**31) is np.int64
    monkeypatch.setattr(quantiles, "INT32_COUNTS", 9)
    monkeypatch.setattr(quantiles, "COLLECT", 2)  # groups of more than 2 values need histograms
    for sizes, want in (((3, 9, 5), np.int32), ((3, 10, 5), np.int64), ((10, 3), np.int64)):
        g = np.repeat(np.arange(len(sizes)), sizes)
        x = np.arange(len(g), dtype=np.float64)
        sel = ExactQuantiles(len(sizes), [0.5])
        assert sel.begin_pass()  # pass 0: counting
        sel.feed(g, x)
        sel.end_pass()
        assert sel.begin_pass()  # pass 1: histograms
        assert sel._counts.dtype == want, sizes
