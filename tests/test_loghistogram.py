"""``quantiles.LogHistogram`` (the report's approximate CDF) against a reference written from its docstring.

Reference: the bins' edges ``lo * (1 + rel) ** j`` computed as powers (the class takes logarithms), each value
binned by ``np.searchsorted`` over those edges, and each quantile as NumPy's linear interpolation (``np.quantile``'s
default) between two order statistics of the *sorted* values (the class walks cumulative counts), each replaced
by the geometric middle of its bin clamped to the group's exact min and max (the range's start / end for a value
below / above it), the ends (ranks 0 and n - 1) exact.  Also: the stated relative bound against ``np.quantile``
for values inside the range, skipped values (NaN, negative, infinite, groups outside ``0 .. n_groups - 1``),
batches fed in pieces, groups added by ``grow``.
"""

from __future__ import annotations

import numpy as np
import pytest

from leonet.quantiles import LogHistogram


def _edges(lo: float, hi: float, rel: float) -> np.ndarray:
    """Edges of the inner bins: lo, lo (1 + rel), ... up to the first edge at or above hi."""
    n = 1
    while lo * (1.0 + rel) ** (n - 1) < hi * (1 - 1e-12):
        n += 1
    return lo * (1.0 + rel) ** np.arange(n)


def _reference(values: np.ndarray, q: np.ndarray, lo: float, hi: float, rel: float) -> np.ndarray:
    v = np.sort(values[np.isfinite(values) & (values >= 0)])
    out = np.full(len(q), np.nan)
    if not len(v):
        return out
    e = _edges(lo, hi, rel)
    mids = np.sqrt(e[:-1] * e[1:])  # geometric middle of each inner bin
    j = np.searchsorted(e, v, side="right") - 1  # inner bin of each value (-1: below lo, len(mids): above)
    rep = np.where(j < 0, lo, np.where(j >= len(mids), e[-1], mids[np.clip(j, 0, len(mids) - 1)]))
    rep = np.clip(rep, v[0], v[-1])
    rep[0], rep[-1] = v[0], v[-1]
    n = len(v)
    for i, qi in enumerate(q):
        h = qi * (n - 1)
        k = int(np.floor(h))
        k1 = min(k + 1, n - 1)
        out[i] = rep[k] + (rep[k1] - rep[k]) * (h - k)
    return out


def _off_edges(v: np.ndarray, lo: float, hi: float, rel: float) -> np.ndarray:
    """Drop values within 1e-9 (relative) of an edge: the class's logarithm and the reference's powers may put
    such a value on either side."""
    e = _edges(lo, hi, rel)
    i = np.clip(np.searchsorted(e, v), 1, len(e) - 1)
    near = np.minimum(np.abs(v - e[i - 1]), np.abs(v - e[i])) <= 1e-9 * np.abs(v)
    return v[~near]  # type: ignore[no-any-return]


@pytest.mark.parametrize(("lo", "hi", "rel"), [(1.0, 100.0, 0.1), (1e-3, 1e6, 1e-3), (0.5, 3.0, 0.37)])
def test_quantiles_equal_the_reference(lo: float, hi: float, rel: float) -> None:
    rng = np.random.default_rng(int(1 / rel))
    groups = [
        rng.lognormal(np.log(np.sqrt(lo * hi)), 1.5, 3000),  # across the range, some values outside it
        rng.uniform(lo, hi, 7),  # a few values
        np.array([2.0 * hi, 3.0 * hi, 0.0, 0.5 * lo]),  # only outside the range (0 included)
        np.array([np.sqrt(lo * hi)]),  # one value
        np.full(5, lo * (1 + rel) ** 1.5),  # ties in one bin
        np.array([]),  # no value
    ]
    groups = [_off_edges(g, lo, hi, rel) for g in groups]
    groups.insert(-1, np.array([0.5 * lo, lo, lo, lo, 2.0 * hi]))  # exactly at the range's start: its first bin
    q = np.r_[0.0, np.sort(rng.uniform(0, 1, 40)), 0.25, 0.5, 0.95, 1.0]
    h = LogHistogram(len(groups), lo=lo, hi=hi, rel=rel)
    gid = np.concatenate([np.full(len(g), i) for i, g in enumerate(groups)])
    x = np.concatenate(groups)
    order = rng.permutation(len(x))
    for part in np.array_split(order, 3):  # fed in three batches, interleaved groups
        h.feed(gid[part], x[part])
    got = h.quantiles(q)
    assert got.shape == (len(groups), len(q))
    for i, g in enumerate(groups):
        np.testing.assert_allclose(got[i], _reference(g, q, lo, hi, rel), rtol=1e-10, atol=0, err_msg=str(i))
    assert np.isnan(got[-1]).all()


def test_within_the_stated_bound_inside_the_range() -> None:
    """Values inside [lo, hi]: every quantile within a relative sqrt(1 + rel) - 1 of np.quantile, and no better
    than a tenth of it (bins of this width, not exact values); 0 and 1 exact."""
    lo, hi, rel = 1.0, 1000.0, 0.02
    rng = np.random.default_rng(7)
    v = np.exp(rng.uniform(np.log(lo), np.log(hi), 20_000))
    h = LogHistogram(1, lo=lo, hi=hi, rel=rel)
    h.feed(np.zeros(len(v), np.int64), v)
    q = np.linspace(0, 1, 201)
    got, want = h.quantiles(q)[0], np.quantile(v, q)
    assert got[0] == v.min() and got[-1] == v.max()
    err = np.abs(got / want - 1)
    assert err.max() <= np.sqrt(1 + rel) - 1 + 1e-12
    assert err.max() > 0.1 * (np.sqrt(1 + rel) - 1)


def test_default_range_keeps_the_bound_from_1e_3_to_1e6() -> None:
    """The defaults (the report's CDF): values spread over the whole stated range [1e-3, 1e6], both ends
    included, within sqrt(1 + 1e-3) - 1 of np.quantile."""
    rng = np.random.default_rng(9)
    v = np.r_[1e-3, np.exp(rng.uniform(np.log(1e-3), np.log(1e6), 5000)), 1e6]
    h = LogHistogram(1)
    h.feed(np.zeros(len(v), np.int64), v)
    q = np.linspace(0, 1, 501)
    err = np.abs(h.quantiles(q)[0] / np.quantile(v, q) - 1)
    assert err.max() <= np.sqrt(1 + 1e-3) - 1 + 1e-12


def test_skipped_values_and_groups() -> None:
    h = LogHistogram(2, lo=1.0, hi=10.0, rel=0.5)
    h.feed(
        np.array([0, 0, 0, 0, 0, 1, -1, 2, 5, 0]),
        np.array([np.nan, -1e-300, -np.inf, np.inf, 4.0, 6.0, 9.0, 9.0, 9.0, 0.0]),
    )
    assert h.counts.sum() == 3  # 4.0 and 0.0 in group 0, 6.0 in group 1; the rest skipped
    np.testing.assert_array_equal(h.quantiles([0.0, 1.0]), [[0.0, 4.0], [6.0, 6.0]])


def test_grow_adds_empty_groups_and_keeps_the_old_ones() -> None:
    rng = np.random.default_rng(2)
    a, b = rng.uniform(1, 9, 50), rng.uniform(2, 5, 30)
    h = LogHistogram(1, lo=1.0, hi=10.0, rel=0.05)
    h.feed(np.zeros(50, np.int64), a)
    h.grow(1)  # no change
    h.grow(3)
    assert h.n_groups == 3 and h.counts.shape[0] == 3
    h.feed(np.full(30, 2), b)
    q = np.linspace(0, 1, 11)
    got = h.quantiles(q)
    np.testing.assert_allclose(got[0], _reference(a, q, 1.0, 10.0, 0.05), rtol=1e-10)
    assert np.isnan(got[1]).all()
    np.testing.assert_allclose(got[2], _reference(b, q, 1.0, 10.0, 0.05), rtol=1e-10)


def test_counters_cover_the_range() -> None:
    """ceil(log(hi / lo) / log(1 + rel)) inner bins and one on each side (the docstring's 20,736 by default)."""
    assert LogHistogram(1).counts.shape == (1, 20_736)
    assert LogHistogram(2, lo=1.0, hi=100.0, rel=0.1).counts.shape == (2, len(_edges(1.0, 100.0, 0.1)) + 1)
    for lo, hi, rel in [(0.0, 1.0, 0.1), (2.0, 1.0, 0.1), (1.0, np.inf, 0.1), (1.0, 2.0, 0.0), (1.0, 2.0, 1.0)]:
        with pytest.raises(ValueError):
            LogHistogram(1, lo=lo, hi=hi, rel=rel)
