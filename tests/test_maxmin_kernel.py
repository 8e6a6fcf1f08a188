"""The compiled event-driven filling (leonet._maxmin_kernel) on its own, against independent references.

References:

* the binary heap (``_push`` / ``_pop``) against Python's sorted() and heapq: popped keys come out in
  increasing order, every pushed (key, id, version) triple comes out once;
* ``fill`` against a brute-force progressive filling written here (Bertsekas & Gallager, *Data Networks*,
  2nd ed., 1992, §6.5.2: raise one common level t = rate / weight for every flow still growing, stop the flows of
  each link that fills and each flow that meets its demand, one level at a time, in plain NumPy, no heap);
* the documented outputs of ``fill`` (its docstring and :class:`leonet.flows.Allocation`): a flow's bottleneck is
  a saturated link on its path where its weighted rate is the largest (-1: its demand), ``saturated`` the links
  filled by the allocation (load = capacity, recomputed here from the rates).
"""

from __future__ import annotations

import heapq

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.typing import NDArray

from leonet._maxmin_kernel import _pop, _push, fill
from leonet.flows import max_min_fair

# ----------------------------------------------------------------------------------------------------------------
# the heap


def _heap(cap: int) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
    return np.empty(cap), np.empty(cap, np.int64), np.empty(cap, np.int64)


@pytest.mark.parametrize("seed", range(6))
def test_heap_pops_in_key_order(seed: int) -> None:
    """Random keys (many equal: drawn from 8 values) pushed then popped: the keys come out as sorted() gives
    them, and the (key, id, version) triples are those pushed (reference: sorted)."""
    rng = np.random.default_rng(seed)
    n_items = int(rng.integers(1, 60))
    keys = rng.integers(0, 8, n_items).astype(np.float64) / 2
    hk, hid, hver = _heap(n_items + 1)
    n = 0
    for i, k in enumerate(keys):
        n = _push(hk, hid, hver, n, k, i - 5, 2 * i)
        assert n == i + 1
    out = []
    while n > 0:
        key, ident, ver, n = _pop(hk, hid, hver, n)
        out.append((float(key), int(ident), int(ver)))
    assert [k for k, _, _ in out] == sorted(keys.tolist())
    assert sorted(out) == sorted((float(k), i - 5, 2 * i) for i, k in enumerate(keys))


@pytest.mark.parametrize("seed", range(6))
def test_heap_interleaved_against_heapq(seed: int) -> None:
    """Pushes and pops interleaved at random, the same operations on heapq: every pop returns heapq's smallest
    key (reference: heapq), with an id and version pushed with that key."""
    rng = np.random.default_rng(100 + seed)
    hk, hid, hver = _heap(200)
    n = 0
    ref: list[tuple[float, int, int]] = []
    for step in range(200):
        if ref and rng.random() < 0.45:
            key, ident, ver, n = _pop(hk, hid, hver, n)
            want = heapq.heappop(ref)
            assert key == want[0]
            assert ver == 3 * ident  # the triple stays together
            assert n == len(ref)
        else:
            k = float(rng.integers(0, 12)) / 3
            n = _push(hk, hid, hver, n, k, step, 3 * step)
            heapq.heappush(ref, (k, step, 3 * step))


# ----------------------------------------------------------------------------------------------------------------
# the filling


def progressive_filling(
    a: NDArray[np.bool_], cap: NDArray[np.float64], dem: NDArray[np.float64], w: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Weighted max-min fair rates by the textbook progressive filling, one level per step (dense, no heap).
    Every flow has at least one link and demand > 0 (``fill``'s precondition)."""
    n_f, _ = a.shape
    rate = np.zeros(n_f)
    active = np.ones(n_f, dtype=bool)
    while active.any():
        fixed_load = a.T.astype(float) @ np.where(active, 0.0, rate)
        wsum = a.T.astype(float) @ np.where(active, w, 0.0)
        live = wsum > 0
        share = np.full(len(cap), np.inf)
        share[live] = np.maximum(cap[live] - fixed_load[live], 0.0) / wsum[live]
        dlevel = np.where(active, dem / w, np.inf)
        t = min(share.min(), dlevel.min())
        tol = 1e-12 * max(t, 1.0)
        full = live & (share <= t + tol)
        by_link = active & (a[:, full].any(axis=1))
        by_dem = active & (dlevel <= t + tol)
        rate[by_link | by_dem] = np.minimum(w * t, dem)[by_link | by_dem]
        active &= ~(by_link | by_dem)
    return rate


def random_instance(
    rng: np.random.Generator, ties: bool, zeros: bool = True
) -> tuple[NDArray[np.bool_], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """A small random problem: ``ties`` draws capacities, demands and weights from a few integers (levels often
    equal), otherwise from continuous ranges (no two levels equal, almost surely, unless ``zeros``: some links of
    capacity 0, all filling at level 0)."""
    n_f, n_l = int(rng.integers(1, 9)), int(rng.integers(1, 7))
    a = rng.random((n_f, n_l)) < 0.4
    a[np.arange(n_f), rng.integers(0, n_l, n_f)] = True  # every flow crosses a link
    if ties:
        cap = rng.integers(0, 5, n_l).astype(np.float64)
        dem = np.where(rng.random(n_f) < 0.4, np.inf, rng.integers(1, 4, n_f).astype(np.float64))
        w = rng.integers(1, 3, n_f).astype(np.float64)
    else:
        cap = np.where(rng.random(n_l) < (0.1 if zeros else 0.0), 0.0, rng.uniform(0.5, 10.0, n_l))
        dem = np.where(rng.random(n_f) < 0.4, np.inf, rng.uniform(0.1, 6.0, n_f))
        w = rng.uniform(0.5, 4.0, n_f) if rng.random() < 0.5 else np.ones(n_f)
    return a, cap, dem, w


def _fill_dense(
    a: NDArray[np.bool_], cap: NDArray[np.float64], dem: NDArray[np.float64], w: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.bool_]]:
    m = sp.csr_array(a.astype(np.float64))
    return fill(m.indptr.astype(np.int64), m.indices.astype(np.int64), w, dem, cap)


def _check_outputs(
    a: NDArray[np.bool_],
    cap: NDArray[np.float64],
    dem: NDArray[np.float64],
    w: NDArray[np.float64],
    rate: NDArray[np.float64],
    bottleneck: NDArray[np.int64],
    saturated: NDArray[np.bool_],
) -> None:
    """The documented meaning of ``bottleneck`` and ``saturated``, recomputed from the rates."""
    load = a.T.astype(float) @ rate
    full = a.any(axis=0) & (load >= cap * (1 - 1e-9) - 1e-12)
    assert saturated.tolist() == full.tolist()
    lvl = rate / w
    for f in range(len(rate)):
        b = int(bottleneck[f])
        if b == -1:
            assert rate[f] == pytest.approx(dem[f], rel=1e-12)
        else:
            assert 0 <= b < len(cap) and a[f, b] and saturated[b]
            assert lvl[f] >= lvl[a[:, b]].max() * (1 - 1e-9)


@pytest.mark.parametrize("ties", [False, True])
def test_fill_against_progressive_filling(ties: bool) -> None:
    """300 random problems: ``fill``'s rates equal the brute-force progressive filling's (reference above), and
    its bottlenecks and saturated links mean what they are documented to mean."""
    rng = np.random.default_rng(7 if ties else 8)
    for _ in range(300):
        a, cap, dem, w = random_instance(rng, ties)
        rate, bottleneck, saturated = _fill_dense(a, cap, dem, w)
        np.testing.assert_allclose(rate, progressive_filling(a, cap, dem, w), rtol=1e-9, atol=1e-12)
        _check_outputs(a, cap, dem, w, rate, bottleneck, saturated)


def test_fill_generic_bottleneck_is_the_unique_one() -> None:
    """Without ties a link-limited flow has exactly one saturated link on its path where its weighted rate is
    the largest (reference: that link found by brute force over the path), and a demand-limited flow has -1."""
    rng = np.random.default_rng(9)
    for _ in range(200):
        a, cap, dem, w = random_instance(rng, ties=False, zeros=False)
        rate, bottleneck, _ = _fill_dense(a, cap, dem, w)
        load = a.T.astype(float) @ rate
        lvl = rate / w
        for f in range(len(rate)):
            cands = [
                m
                for m in np.flatnonzero(a[f])
                if load[m] >= cap[m] * (1 - 1e-9) and lvl[f] >= lvl[a[:, m]].max() * (1 - 1e-9)
            ]
            if rate[f] < dem[f] * (1 - 1e-9):
                assert cands == [int(bottleneck[f])]
            else:
                assert bottleneck[f] == -1


def test_links_that_fill_at_the_same_level_are_all_saturated() -> None:
    """Worked by hand.  One flow (demand 1) on one link of capacity 1: it meets its demand exactly as the link
    fills, so the link is full (saturated) and the flow demand-limited (-1).  Flow 0 on links 0 (capacity 2) and
    1 (capacity 1), flow 1 on link 0: both links fill at level 1 (link 0: 2 / 2 flows; link 1: 1 / 1 flow), so
    both are saturated, and the vectorised rounds say the same."""
    for vr in (0, 16):
        r = max_min_fair(sp.csr_array(np.array([[1.0]])), [1.0], [1.0], vector_rounds=vr)
        assert r.rate_gbps.tolist() == [1.0] and r.saturated.tolist() == [True] and r.bottleneck.tolist() == [-1]
        r = max_min_fair(sp.csr_array(np.array([[1.0, 1.0], [1.0, 0.0]])), [2.0, 1.0], np.inf, vector_rounds=vr)
        assert r.rate_gbps.tolist() == [1.0, 1.0] and r.saturated.tolist() == [True, True]


def test_fill_treats_a_negative_residual_as_zero() -> None:
    """A residual capacity below zero (rounding in the vectorised rounds before the kernel) is an empty link: its
    flows get 0 (hand-worked: the other flow then takes all of link 1's 3)."""
    a = np.array([[True, True], [False, True]])
    rate, bottleneck, saturated = _fill_dense(a, np.array([-1e-12, 3.0]), np.array([np.inf, np.inf]), np.ones(2))
    assert rate.tolist() == [0.0, 3.0]
    assert bottleneck.tolist() == [0, 1] and saturated.tolist() == [True, True]
