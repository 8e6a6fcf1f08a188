"""Max-min fair allocation (leonet.flows) against an independent reference and its invariants.

References:

* the textbook definition, solved as a sequence of linear programs (scipy.optimize.linprog, HiGHS): maximise the
  smallest (weighted) rate of the free flows, fix those that cannot grow beyond it without another free flow
  falling below it, repeat (Bertsekas & Gallager, *Data Networks*, 2nd ed., 1992, §6.5.2; the same definition in
  Le Boudec, *Rate adaptation, congestion control and fairness: a tutorial*, EPFL);
* invariants recomputed with plain NumPy (no scipy product): capacity, demand, conservation, and the max-min
  certificate (every flow is demand-limited or crosses a saturated link where its weighted rate is the largest:
  B&G's bottleneck lemma, which characterises max-min fairness);
* small examples solved by hand (the working is next to each).

The LP and invariant tests run each route of the allocation: the vectorised rounds only, the compiled
event-driven kernel only (``vector_rounds=0``), and one round then the kernel; the routes must also agree.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from scipy.optimize import linprog

from leonet import flows
from leonet.flows import (
    ISL_LASER_GBPS,
    LinkIndex,
    LinkKind,
    LinkLayout,
    city_pair_flows,
    gravity_matrix,
    max_min_fair,
    padded_to_ragged,
    path_incidence,
    terminal_pop_demands,
    throughput_summary,
)
from leonet.geodesy import geodesic_km

# ----------------------------------------------------------------------------------------------------------------
# the LP reference


def lp_max_min(
    a: NDArray[np.float64], cap: NDArray[np.float64], dem: NDArray[np.float64], w: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Weighted max-min fair rates by the LP sequence (textbook definition), dense ``a`` (F x L)."""
    n_f = a.shape[0]
    fixed = np.full(n_f, np.nan)
    fixed[dem == 0] = 0.0
    nolink = a.sum(axis=1) == 0
    fixed[nolink] = dem[nolink]
    # variables x = (r_0 .. r_{F-1}, t); rows: a^T r <= cap; w_f t - r_f <= 0 for free f
    a_cap = np.hstack([a.T, np.zeros((a.shape[1], 1))])
    while np.isnan(fixed).any():
        free = np.flatnonzero(np.isnan(fixed))
        a_lvl = np.zeros((len(free), n_f + 1))
        a_lvl[np.arange(len(free)), free] = -1.0
        a_lvl[:, -1] = w[free]
        a_ub = np.vstack([a_cap, a_lvl])
        b_ub = np.r_[cap, np.zeros(len(free))]
        bounds = [
            ((x, x) if np.isfinite(x) else (0.0, None if np.isinf(d) else d)) for x, d in zip(fixed, dem, strict=True)
        ]
        res = linprog(np.r_[np.zeros(n_f), -1.0], A_ub=a_ub, b_ub=b_ub, bounds=[*bounds, (0.0, None)], method="highs")
        assert res.status == 0, res.message
        t = float(res.x[-1])
        # which free flows cannot grow beyond w_f t while every free flow keeps at least w_g t
        bounds_t = [*bounds, (t, t)]
        grew = np.zeros(len(free), dtype=bool)
        for k, f in enumerate(free):
            c = np.zeros(n_f + 1)
            c[f] = -1.0
            rf = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=bounds_t, method="highs")
            assert rf.status == 0, rf.message
            grew[k] = -rf.fun > w[f] * t + 1e-8 * max(1.0, w[f] * t)
        stuck = free[~grew] if (~grew).any() else free[:1]
        fixed[stuck] = w[stuck] * t
    return fixed


@st.composite
def instances(draw: st.DrawFn, max_flows: int = 6, max_links: int = 5, weighted: bool = False):  # type: ignore[no-untyped-def]
    n_f = draw(st.integers(1, max_flows))
    n_l = draw(st.integers(1, max_links))
    a = np.array(draw(st.lists(st.lists(st.booleans(), min_size=n_l, max_size=n_l), min_size=n_f, max_size=n_f)),
                 dtype=np.float64)  # fmt: skip
    cap = np.array(draw(st.lists(st.one_of(st.just(0.0), st.integers(1, 40).map(lambda x: x / 4)),
                                 min_size=n_l, max_size=n_l)))  # fmt: skip
    dem = np.array(draw(st.lists(st.one_of(st.just(np.inf), st.just(0.0), st.integers(1, 40).map(lambda x: x / 5)),
                                 min_size=n_f, max_size=n_f)))  # fmt: skip
    nolink = a.sum(axis=1) == 0
    dem[nolink & np.isinf(dem)] = 1.5  # an unbounded flow is refused (tested below)
    w = np.ones(n_f)
    if weighted:
        w = np.array(draw(st.lists(st.integers(1, 8).map(lambda x: x / 2), min_size=n_f, max_size=n_f)))
    return a, cap, dem, w


#: vectorised rounds only; the compiled event-driven kernel only; one round, then the kernel
ROUTES = [flows.VECTOR_ROUNDS, 0, 1]


@pytest.mark.parametrize("vector_rounds", ROUTES)
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inst=instances())
def test_equals_lp_reference(inst, vector_rounds: int) -> None:  # type: ignore[no-untyped-def]
    a, cap, dem, w = inst
    got = max_min_fair(sp.csr_array(a), cap, dem, vector_rounds=vector_rounds)
    want = lp_max_min(a, cap, dem, w)
    np.testing.assert_allclose(got.rate_gbps, want, rtol=0, atol=1e-6)


@pytest.mark.parametrize("vector_rounds", ROUTES)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inst=instances(weighted=True))
def test_weighted_equals_lp_reference(inst, vector_rounds: int) -> None:  # type: ignore[no-untyped-def]
    a, cap, dem, w = inst
    got = max_min_fair(sp.csr_array(a), cap, dem, weights=w, vector_rounds=vector_rounds)
    want = lp_max_min(a, cap, dem, w)
    np.testing.assert_allclose(got.rate_gbps, want, rtol=0, atol=1e-6)


def test_lp_reference_can_fail() -> None:
    """The comparison is not vacuous: equal sharing ignoring the other link is not what the LP gives."""
    a = np.array([[1, 0], [1, 0], [1, 1], [0, 1]], dtype=np.float64)
    want = lp_max_min(a, np.array([1.0, 1.0]), np.full(4, np.inf), np.ones(4))
    np.testing.assert_allclose(want, [1 / 3, 1 / 3, 1 / 3, 2 / 3], atol=1e-9)
    assert not np.allclose(want, [1 / 3, 1 / 3, 1 / 3, 1 / 3])


# ----------------------------------------------------------------------------------------------------------------
# invariants on larger random instances (checked with plain NumPy)


def random_instance(seed: int, n_f: int = 3000, n_l: int = 400, weighted: bool = False):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    hops = rng.integers(1, 7, n_f)
    rows = np.repeat(np.arange(n_f), hops)
    cols = np.concatenate([rng.choice(n_l, h, replace=False) for h in hops])
    a = sp.csr_array((np.ones(len(rows)), (rows, cols)), shape=(n_f, n_l))
    cap = rng.choice([0.0, 1.0, 10.0, 100.0], n_l, p=[0.02, 0.3, 0.4, 0.28]) * rng.uniform(0.5, 1.5, n_l)
    cap[rng.random(n_l) < 0.1] = 5.0  # exact ties
    dem = np.where(rng.random(n_f) < 0.5, np.inf, rng.uniform(0.0, 2.0, n_f))
    dem[rng.random(n_f) < 0.05] = 0.0
    w = rng.choice([1.0, 2.0, 5.0], n_f) if weighted else np.ones(n_f)
    return rows, cols, a, cap, dem, w


def check_invariants(rows, cols, cap, dem, w, alloc: flows.Allocation, tol: float = 1e-7) -> None:  # type: ignore[no-untyped-def]
    r = alloc.rate_gbps
    n_l = len(cap)
    load = np.bincount(cols, r[rows], minlength=n_l)
    # conservation: every link's load is the sum of its flows' rates (recomputed without scipy)
    np.testing.assert_allclose(alloc.load_gbps, load, rtol=1e-12, atol=1e-12)
    # no link over capacity
    assert (load <= cap * (1 + 1e-9) + 1e-12).all(), float((load - cap).max())
    # no flow above its demand, none negative
    assert (r <= dem).all() and (r >= 0).all()
    # the certificate, computed independently of alloc.bottleneck: each flow below its demand crosses a
    # saturated link on which its weighted rate is the largest
    lvl = r / w
    sat = load >= cap * (1 - tol) - 1e-12
    top = np.zeros(n_l)
    np.maximum.at(top, cols, lvl[rows])
    ok_entry = sat[cols] & (lvl[rows] >= top[cols] * (1 - tol) - 1e-12)
    has_bottleneck = np.zeros(len(r), dtype=bool)
    np.logical_or.at(has_bottleneck, rows, ok_entry)
    limited = r >= dem * (1 - tol)
    assert (limited | has_bottleneck).all(), np.flatnonzero(~(limited | has_bottleneck))[:5]
    # and the reported bottleneck link is one such link
    b = alloc.bottleneck
    by = b >= 0
    assert sat[b[by]].all()
    assert (lvl[by] >= top[b[by]] * (1 - tol) - 1e-12).all()
    assert np.allclose(r[~by], dem[~by]) or ((r[~by] == dem[~by]) | (dem[~by] == 0)).all()
    on_path = set(zip(rows.tolist(), cols.tolist(), strict=True))
    assert all((int(f), int(b[f])) in on_path for f in np.flatnonzero(by))
    assert alloc.saturated[b[by]].all()


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("vector_rounds", ROUTES)
def test_invariants_random(seed: int, weighted: bool, vector_rounds: int) -> None:
    rows, cols, a, cap, dem, w = random_instance(seed, weighted=weighted)
    alloc = max_min_fair(a, cap, dem, weights=w if weighted else None, vector_rounds=vector_rounds)
    check_invariants(rows, cols, cap, dem, w, alloc)
    assert alloc.rounds <= vector_rounds
    if vector_rounds == 0:
        assert alloc.kernel_flows == int((dem > 0).sum())
    # the same allocation by either route
    ref = max_min_fair(a, cap, dem, weights=w if weighted else None, vector_rounds=10_000)
    assert ref.kernel_flows == 0
    np.testing.assert_allclose(alloc.rate_gbps, ref.rate_gbps, rtol=1e-8, atol=1e-12)
    # saturated links are full
    s = alloc.saturated & (cap > 0)
    np.testing.assert_allclose(alloc.load_gbps[s], cap[s], rtol=1e-8)


def test_chain_of_waiting_bottlenecks() -> None:
    """Link k (capacity k + 1) carries flow k - 1 and flow k (which also crosses link k + 1) and a short flow:
    each link fills only once its neighbour has, one level per link.  The vectorised rounds alone take one round
    per link; the kernel finishes the chain after VECTOR_ROUNDS, with the same rates."""
    n = 300
    rows = np.r_[np.repeat(np.arange(n - 1), 2), np.arange(n - 1, 2 * n - 1)]
    cols = np.r_[np.c_[np.arange(n - 1), np.arange(1, n)].ravel(), np.arange(n)]
    a = sp.csr_array((np.ones(len(rows)), (rows, cols)), shape=(2 * n - 1, n))
    cap = np.arange(1.0, n + 1.0)
    slow = max_min_fair(a, cap, np.inf, vector_rounds=10_000)
    assert slow.rounds == n and slow.kernel_flows == 0
    fast = max_min_fair(a, cap, np.inf)
    assert fast.rounds == flows.VECTOR_ROUNDS and fast.kernel_flows > 0
    np.testing.assert_allclose(fast.rate_gbps, slow.rate_gbps, rtol=1e-12)
    assert fast.bottleneck.tolist() == slow.bottleneck.tolist()
    check_invariants(rows, cols, cap, np.full(2 * n - 1, np.inf), np.ones(2 * n - 1), fast)


def test_invariant_check_can_fail() -> None:
    """The certificate check rejects an allocation that is feasible but not max-min fair (equal shares of the
    tightest link everywhere leave capacity unused)."""
    rows, cols, a, cap, dem, w = random_instance(5, n_f=400, n_l=60)
    alloc = max_min_fair(a, cap, dem)
    worse = flows.Allocation(alloc.rate_gbps * 0.9, alloc.load_gbps * 0.9, alloc.utilisation, alloc.bottleneck,
                             alloc.saturated, alloc.rounds)  # fmt: skip
    with pytest.raises(AssertionError):
        check_invariants(rows, cols, cap, dem, w, worse)


def test_large_instance_against_lp_sample() -> None:
    """A medium instance (60 flows) against the LP sequence: many levels at once."""
    _, _, a, cap, dem, w = random_instance(11, n_f=60, n_l=25)
    got = max_min_fair(a, cap, dem)
    want = lp_max_min(a.toarray(), cap, dem, w)
    np.testing.assert_allclose(got.rate_gbps, want, atol=1e-6)


# ----------------------------------------------------------------------------------------------------------------
# examples solved by hand


def alloc_of(dense: list[list[int]], cap: list[float], dem: float | list[float] = np.inf, **kw):  # type: ignore[no-untyped-def]
    return max_min_fair(sp.csr_array(np.array(dense, dtype=np.float64)), cap, dem, **kw)


def test_two_links_textbook() -> None:
    """The two-link instance used to introduce max-min fairness (B&G §6.5.2 works one of this kind; the numbers
    here are ours, solved by hand): flows 0, 1, 2 share link A (1), flows 2, 3 share link B (1).  A fills first
    at 1/3 each (3 flows); B's residual 2/3 goes to flow 3.  Bottlenecks: A for 0-2, B for 3."""
    r = alloc_of([[1, 0], [1, 0], [1, 1], [0, 1]], [1.0, 1.0])
    np.testing.assert_allclose(r.rate_gbps, [1 / 3, 1 / 3, 1 / 3, 2 / 3])
    assert r.bottleneck.tolist() == [0, 0, 0, 1]
    assert r.saturated.tolist() == [True, True]


def test_parking_lot() -> None:
    """The parking lot (Le Boudec's tutorial contrasts max-min and proportional fairness on it): one flow over 4
    links of capacity 1, one short flow per link.  Max-min: every flow 1/2 (proportional fairness would give the
    long flow 1/5)."""
    dense = [[1, 1, 1, 1]] + [[int(i == j) for j in range(4)] for i in range(4)]
    r = alloc_of(dense, [1.0] * 4)
    np.testing.assert_allclose(r.rate_gbps, 0.5)
    np.testing.assert_allclose(r.utilisation, 1.0)


def test_staircase_with_demand() -> None:
    """Three levels.  Link a (1): flows 0, 1 -> 1/2 each.  Link b (2): flows 1, 2, 3; flow 1 fixed at 1/2, the
    residual 3/2 shared by 2, 3 -> 3/4 each.  Link c (3): flows 3, 4; flow 4 would get 3 - 3/4 = 9/4 but wants
    only 1 -> demand-limited, c not saturated."""
    dense = [[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 1, 1], [0, 0, 1]]
    r = alloc_of(dense, [1.0, 2.0, 3.0], [np.inf, np.inf, np.inf, np.inf, 1.0])
    np.testing.assert_allclose(r.rate_gbps, [0.5, 0.5, 0.75, 0.75, 1.0])
    assert r.bottleneck.tolist() == [0, 0, 1, 1, -1]
    assert r.saturated.tolist() == [True, True, False]
    np.testing.assert_allclose(r.utilisation, [1.0, 1.0, 1.75 / 3])


def test_weighted_shares() -> None:
    """Weights 1 and 3 on one link of 4: rates 1 and 3 (equal rate per weight); a third flow of weight 2 alone
    on a second link of 1 that it shares with flow 0: link 1's share is 1/(1+2) per weight, lower than link 0's
    4/4 -> flows 0 and 2 get 1/3 and 2/3, then flow 1 takes link 0's rest, 4 - 1/3."""
    r = alloc_of([[1, 0], [1, 0]], [4.0, 1.0], weights=[1.0, 3.0])
    np.testing.assert_allclose(r.rate_gbps, [1.0, 3.0])
    r = alloc_of([[1, 1], [1, 0], [0, 1]], [4.0, 1.0], weights=[1.0, 3.0, 2.0])
    np.testing.assert_allclose(r.rate_gbps, [1 / 3, 4 - 1 / 3, 2 / 3])


def test_zero_capacity_link() -> None:
    """A flow through a dead link gets 0; the other flow on its live link gets all of it."""
    r = alloc_of([[1, 1], [1, 0]], [10.0, 0.0])
    np.testing.assert_allclose(r.rate_gbps, [0.0, 10.0])
    assert r.bottleneck.tolist() == [1, 0]
    assert np.isnan(r.utilisation[1]) and r.utilisation[0] == 1.0


def test_flows_without_links_and_inf_demand() -> None:
    r = alloc_of([[0, 0], [1, 0], [0, 0]], [2.0, 1.0], [0.7, np.inf, 0.0])
    np.testing.assert_allclose(r.rate_gbps, [0.7, 2.0, 0.0])
    assert r.bottleneck.tolist() == [-1, 0, -1]
    with pytest.raises(ValueError, match="no links have infinite demand"):
        alloc_of([[0, 0]], [1.0, 1.0], np.inf)


def test_zero_demand_carries_nothing() -> None:
    r = alloc_of([[1], [1], [1]], [3.0], [0.0, np.inf, np.inf])
    np.testing.assert_allclose(r.rate_gbps, [0.0, 1.5, 1.5])


def test_empty_and_bad_input() -> None:
    r = max_min_fair(sp.csr_array((0, 3)), [1.0, 1.0, 1.0], np.zeros(0))
    assert r.rate_gbps.shape == (0,) and r.load_gbps.tolist() == [0.0, 0.0, 0.0] and r.rounds == 0
    a = sp.csr_array(np.array([[1.0, 1.0]]))
    with pytest.raises(ValueError, match="capacity_gbps: expected shape"):
        max_min_fair(a, [1.0], 1.0)
    with pytest.raises(ValueError, match="capacity_gbps: expected values >= 0"):
        max_min_fair(a, [1.0, -1.0], 1.0)
    with pytest.raises(ValueError, match="demand_gbps: expected finite values or inf"):
        max_min_fair(a, [1.0, 1.0], np.nan)
    with pytest.raises(ValueError, match="weights: expected values > 0"):
        max_min_fair(a, [1.0, 1.0], 1.0, weights=[0.0])
    with pytest.raises(ValueError, match="0/1 entries"):
        max_min_fair(sp.csr_array(np.array([[2.0, 0.0]])), [1.0, 1.0], 1.0)


# ----------------------------------------------------------------------------------------------------------------
# paths -> incidence


def reference_incidence(paths: list[list[int]], links: list[tuple[int, int]]) -> NDArray[np.float64]:
    lid = {uv: k for k, uv in enumerate(links)}
    out = np.zeros((len(paths), len(links)))
    for i, p in enumerate(paths):
        for u, v in itertools.pairwise(p):
            out[i, lid[(u, v)]] = 1.0
    return out


@st.composite
def graphs_and_paths(draw: st.DrawFn):  # type: ignore[no-untyped-def]
    n = draw(st.integers(2, 9))
    pairs = [(u, v) for u in range(n) for v in range(n) if u != v]
    links = draw(st.lists(st.sampled_from(pairs), min_size=1, max_size=len(pairs), unique=True))
    out = {u: [v for (a, v) in links if a == u] for u in range(n)}
    paths = []
    for _ in range(draw(st.integers(0, 6))):
        p = [draw(st.integers(0, n - 1))]
        used: set[tuple[int, int]] = set()
        for _ in range(draw(st.integers(0, 6))):
            nxt = [v for v in out[p[-1]] if (p[-1], v) not in used]
            if not nxt:
                break
            v = draw(st.sampled_from(nxt))
            used.add((p[-1], v))
            p.append(v)
        paths.append(p if draw(st.booleans()) else [])
    return n, links, paths


@settings(max_examples=150, deadline=None)
@given(graphs_and_paths())
def test_path_incidence_matches_reference(g) -> None:  # type: ignore[no-untyped-def]
    n, links, paths = g
    offsets = np.r_[0, np.cumsum([len(p) for p in paths])].astype(np.int64)
    nodes = np.array([v for p in paths for v in p], dtype=np.int64)
    idx = LinkIndex.from_endpoints([u for u, _ in links], [v for _, v in links], n_nodes=n)
    got = path_incidence(offsets, nodes, idx, len(links))
    np.testing.assert_array_equal(got.toarray(), reference_incidence(paths, links))
    # the padded layout gives the same
    width = max([len(p) for p in paths] + [1])
    padded = np.array([p + [-1] * (width - len(p)) for p in paths], dtype=np.int64).reshape(len(paths), width)
    o2, n2 = padded_to_ragged(padded)
    np.testing.assert_array_equal(o2, offsets)
    np.testing.assert_array_equal(n2, nodes)


def test_path_incidence_errors() -> None:
    idx = LinkIndex.from_endpoints([0, 1, 1], [1, 2, 0])
    with pytest.raises(ValueError, match=r"path 1: hop 2 -> 0 is not a link"):
        path_incidence([0, 2, 4], [0, 1, 2, 0], idx, 3)
    with pytest.raises(ValueError, match="path 0 crosses a link twice"):
        path_incidence([0, 5], [0, 1, 0, 1, 2], idx, 3)
    with pytest.raises(ValueError, match="given twice"):
        LinkIndex.from_endpoints([0, 0], [1, 1])
    assert idx.lookup([0, 2, 5, -1], [1, 0, 1, 0]).tolist() == [0, -1, -1, -1]


# ----------------------------------------------------------------------------------------------------------------
# the terminal <-> PoP flows of a small snapshot


def small_layout() -> LinkLayout:
    """Satellites 0, 1, 2 in a line (ISLs 0-1, 1-2); gateway node 10 sees satellite 2 (feeder 0) and node 11 sees
    satellites 2 and 0 (feeders 1, 2).  Beams: 0 and 1 on satellite 0, 2 on satellite 1."""
    return LinkLayout.build(beam_satellite=[0, 0, 1], isl=[[0, 1], [1, 2]], feeder=[[10, 2], [11, 2], [11, 0]])


def test_layout_ids() -> None:
    lay = small_layout()
    assert (lay.n_beams, lay.isl_start, lay.feeder_start, lay.n_links) == (3, 6, 10, 16)
    assert lay.kind.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 3, 4, 3, 4, 3, 4]
    u, v = lay.endpoints
    assert list(zip(u.tolist(), v.tolist(), strict=True))[6:] == [
        (0, 1), (1, 0), (1, 2), (2, 1), (10, 2), (2, 10), (11, 2), (2, 11), (11, 0), (0, 11)]  # fmt: skip
    cap = lay.capacities([1.0, 2.0, 3.0], 0.5)
    assert cap.tolist()[:6] == [1.0, 2.0, 3.0, 0.5, 0.5, 0.5]
    assert (cap[6:10] == ISL_LASER_GBPS).all() and (cap[10:] == flows.FEEDER_LINK_GBPS).all()


def test_terminal_pop_demands() -> None:
    lay = small_layout()
    # terminals (nodes 20..23): 20 on beam 0 via 0-1-2 to gateway 10; 21 on beam 1 directly to gateway 11 via
    # satellite 0; 22 denied by the policy; 23 with no path
    paths = [[20, 0, 1, 2, 10], [21, 0, 11], [22, 1, 2, 11], []]
    off = np.r_[0, np.cumsum([len(p) for p in paths])]
    nodes = np.array([x for p in paths for x in p])
    fl = terminal_pop_demands(lay, off, nodes, [0, 1, 2, 0], down_gbps=np.inf, up_gbps=[1.0, 1.0, 1.0, 1.0],
                              served=[True, True, False, True])  # fmt: skip
    sets = [sorted(np.flatnonzero(row).tolist()) for row in fl.incidence.toarray()]
    # down: gateway -> satellite (feeder uplink), ISLs reversed, beam downlink
    assert sets[0] == sorted([10, 9, 7, 0])  # 10->2 (feeder up id 10), 2->1 (id 9), 1->0 (id 7), beam 0 down
    assert sets[1] == sorted([14, 1])  # 11->0 (feeder 2 up: 14), beam 1 down
    assert sets[2] == [] and sets[3] == []
    # up: beam uplink, ISLs forward, feeder downlink
    assert sets[4] == sorted([3, 6, 8, 11])
    assert sets[5] == sorted([4, 15])
    assert sets[6] == [] and sets[7] == []
    assert fl.demand_gbps.tolist() == [np.inf, np.inf, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0]
    assert fl.terminal.tolist() == [0, 1, 2, 3] * 2 and fl.direction.tolist() == [0] * 4 + [1] * 4

    cap = lay.capacities([0.3, 0.4, 0.5], [0.05, 0.6, 0.5])
    alloc = max_min_fair(fl.incidence, cap, fl.demand_gbps)
    # down: each terminal alone on its beam -> beam capacity; up: terminal 0 limited by its beam uplink 0.05
    np.testing.assert_allclose(alloc.rate_gbps, [0.3, 0.4, 0.0, 0.0, 0.05, 0.6, 0.0, 0.0])
    assert alloc.bottleneck.tolist() == [0, 1, -1, -1, 3, 4, -1, -1]
    summ = throughput_summary(alloc, fl, lay, cap, n_terminals=4, top=3)
    np.testing.assert_allclose(summ.terminal_down_gbps, [0.3, 0.4, 0.0, 0.0])
    np.testing.assert_allclose(summ.terminal_up_gbps, [0.05, 0.6, 0.0, 0.0])
    assert summ.top_bottlenecks.tolist() == [0, 1, 3] and summ.top_bottleneck_flows.tolist() == [1, 1, 1]
    assert summ.top_bottleneck_kind.tolist() == [LinkKind.USER_DOWN, LinkKind.USER_DOWN, LinkKind.USER_UP]
    assert summ.by_kind["user-beam down"].saturated == 2 and summ.by_kind["ISL"].links == 4
    assert summ.gateway.tolist() == [10, 11]
    np.testing.assert_allclose(summ.gateway_down_utilisation, [0.3 / 20, 0.4 / 40])
    np.testing.assert_allclose(summ.gateway_up_utilisation, [0.05 / 20, 0.6 / 40])


def test_terminal_pop_demands_checks_beam_satellite() -> None:
    with pytest.raises(ValueError, match="first satellite 1 is not its beam 0's satellite 0"):
        terminal_pop_demands(small_layout(), [0, 3], [20, 1, 2], [0], 1.0, 1.0)
    with pytest.raises(ValueError, match="is not a link"):
        terminal_pop_demands(small_layout(), [0, 3], [20, 0, 2], [0], 1.0, 1.0)


def test_denied_terminals_carry_nothing_at_scale() -> None:
    """Random terminals over the small layout, a third denied: they get 0 whatever the demand."""
    rng = np.random.default_rng(3)
    lay = small_layout()
    routes = [[0, 1, 2, 10], [0, 11], [1, 2, 11], [1, 0, 11], [2, 11]]
    beam_of = {0: [0, 1], 1: [2]}
    paths, beams = [], []
    for t in range(300):
        r = routes[rng.integers(len(routes))]
        beams.append(-1 if r[0] == 2 else int(rng.choice(beam_of[r[0]])))
        paths.append([1000 + t, *r])
    off = np.r_[0, np.cumsum([len(p) for p in paths])]
    served = rng.random(300) > 1 / 3
    fl = terminal_pop_demands(lay, off, np.array([x for p in paths for x in p]), beams, np.inf, np.inf, served)
    alloc = max_min_fair(fl.incidence, lay.capacities(1.0, 0.5), fl.demand_gbps)
    denied = np.tile(~served | (np.array(beams) < 0), 2)
    assert (alloc.rate_gbps[denied] == 0).all() and (alloc.rate_gbps[~denied] > 0).all()
    assert fl.incidence[np.flatnonzero(denied)].nnz == 0


def test_city_pair_flows_with_gravity_demand() -> None:
    """Cities 30 (under satellite 0) and 31 (under satellite 2).  Link ids: beams 0 (sat 0), 1 (sat 2): down 0, 1,
    up 2, 3; ISL 0-1: 4, 5; ISL 1-2: 6, 7; feeder (10, 1): 8 up, 9 down; feeder (10, 2): 10 up, 11 down."""
    lay = LinkLayout.build(beam_satellite=[0, 2], isl=[[0, 1], [1, 2]], feeder=[[10, 1], [10, 2]])
    paths = [[30, 0, 1, 2, 31], [31, 2, 10, 1, 0, 30], [30, 0, 30], [30, 0, 1, 2, 31]]  # the 2nd bent-pipe
    off = np.r_[0, np.cumsum([len(p) for p in paths])]
    src, dst = np.array([0, 1, 0, 0]), np.array([1, 0, 0, 1])
    d = gravity_matrix([8.0, 4.0], [0.0, 0.0], [0.0, 20.0], total_gbps=2.0)
    fl = city_pair_flows(lay, off, np.concatenate(paths), [0, 1, 0, 0], [1, 0, 0, -1], d[src, dst])
    sets = [sorted(np.flatnonzero(row).tolist()) for row in fl.incidence.toarray()]
    assert sets == [[1, 2, 4, 6], [0, 3, 5, 8, 11], [0, 2], []]
    np.testing.assert_allclose(fl.demand_gbps, [1.0, 1.0, 0.0, 0.0])  # symmetric gravity, diagonal 0, no beam
    assert (fl.terminal == -1).all() and (fl.direction == 2).all()
    # terminals and city pairs in one allocation: beam 0's downlink (1 Gbit/s) shared max-min by the pair flow 1
    # and a greedy terminal under satellite 0
    term = terminal_pop_demands(lay, [0, 4], [40, 0, 1, 10], [0], np.inf, 0.0)
    both = flows.Flows.concat(fl, term)
    assert both.incidence.shape == (6, lay.n_links) and both.terminal.tolist() == [-1] * 4 + [0, 0]
    alloc = max_min_fair(both.incidence, lay.capacities(1.0, 1.0), both.demand_gbps)
    np.testing.assert_allclose(alloc.rate_gbps, [1.0, 0.5, 0.0, 0.0, 0.5, 0.0])
    with pytest.raises(ValueError, match="pair 0's last satellite 2 is not its beam 0's satellite 0"):
        city_pair_flows(lay, off[:2], paths[0], [0], [0], 1.0)


# ----------------------------------------------------------------------------------------------------------------
# gravity


def test_gravity_matrix() -> None:
    pop = np.array([10.0, 5.0, 2.0, 0.0])
    lat = np.array([51.5, 40.7, 35.7, -33.9])
    lon = np.array([-0.1, -74.0, 139.7, 151.2])
    d = gravity_matrix(pop, lat, lon, total_gbps=1000.0)
    assert np.allclose(d, d.T) and (np.diag(d) == 0).all() and d.sum() == pytest.approx(1000.0)
    assert (d[3] == 0).all()  # no population, no demand
    km = geodesic_km(lat[0], lon[0], lat[1:3], lon[1:3])
    # D_01 / D_02 = (P_1 / d_01) / (P_2 / d_02) with alpha = 1
    assert d[0, 1] / d[0, 2] == pytest.approx((5.0 / km[0]) / (2.0 / km[1]))
    d0 = gravity_matrix(pop, lat, lon, total_gbps=1.0, alpha=0.0)  # Roughan's simple gravity model
    assert d0[0, 1] / d0[1, 2] == pytest.approx(10.0 / 2.0)
    # the distance floor: two points 1 km apart count as min_distance_km
    near = gravity_matrix([1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [0.0, 0.009, 90.0], total_gbps=1.0, min_distance_km=100.0)
    far = geodesic_km(0.0, 0.0, 0.0, 90.0)
    assert near[0, 1] / near[0, 2] == pytest.approx(far / 100.0)
    assert gravity_matrix([], [], [], 1.0).shape == (0, 0)
    with pytest.raises(ValueError, match="population"):
        gravity_matrix([-1.0, 1.0], [0.0, 0.0], [0.0, 1.0], 1.0)


def test_invariants_on_a_grid_network() -> None:
    """A +Grid shell (12 x 12) with beams and feeders, 4,000 terminals, a third crowded under 5 satellites, beams
    large enough that ISLs and feeders bind too: the invariants hold and every link kind takes part."""
    rng = np.random.default_rng(7)
    planes = slots = 12
    n_sat = planes * slots
    p, s = np.meshgrid(np.arange(planes), np.arange(slots), indexing="ij")
    sat = (p * slots + s).reshape(-1)
    isl = np.concatenate([np.stack([sat, (p * slots + (s + 1) % slots).reshape(-1)], 1),
                          np.stack([sat, (((p + 1) % planes) * slots + s).reshape(-1)], 1)])  # fmt: skip
    gw = n_sat + np.arange(n_sat) % 6
    lay = LinkLayout.build(np.repeat(np.arange(n_sat), 2), isl, np.stack([gw, np.arange(n_sat)], 1))
    n_t = 4000
    start = np.where(rng.random(n_t) < 1 / 3, rng.integers(0, 5, n_t), rng.integers(0, n_sat, n_t))
    hops = rng.integers(0, 6, n_t)
    dp, ds = rng.choice([-1, 1], n_t), rng.choice([-1, 1], n_t)
    step_p = rng.random((n_t, 5)) < 0.5
    p0, s0 = divmod(start, slots)
    wp = (p0[:, None] + np.cumsum(step_p * dp[:, None], 1)) % planes
    ws = (s0[:, None] + np.cumsum(~step_p * ds[:, None], 1)) % slots
    walk = np.concatenate([start[:, None], wp * slots + ws], 1)
    padded = np.full((n_t, 8), -1)
    padded[:, 0] = 1000 + np.arange(n_t)
    padded[:, 1:7] = np.where(np.arange(6)[None, :] <= hops[:, None], walk, -1)
    padded[np.arange(n_t), hops + 2] = n_sat + walk[np.arange(n_t), hops] % 6
    off, nodes = padded_to_ragged(padded)
    beam = 2 * start + rng.integers(0, 2, n_t)
    dem = np.where(rng.random(n_t) < 0.6, np.inf, rng.uniform(0.01, 2.0, n_t))
    fl = terminal_pop_demands(lay, off, nodes, beam, dem, dem / 5, served=rng.random(n_t) > 0.1)
    cap = lay.capacities(rng.uniform(5.0, 40.0, lay.n_beams), rng.uniform(1.0, 8.0, lay.n_beams),
                         isl_gbps=rng.uniform(1.0, 10.0, len(isl)),
                         feeder_gbps=rng.uniform(1.0, 20.0, n_sat))  # fmt: skip
    w = rng.choice([1.0, 4.0], len(fl.demand_gbps))
    alloc = max_min_fair(fl.incidence, cap, fl.demand_gbps, weights=w)
    coo = fl.incidence.tocoo()
    check_invariants(coo.row.astype(np.int64), coo.col.astype(np.int64), cap, fl.demand_gbps, w, alloc)
    kinds = set(lay.kind[alloc.bottleneck[alloc.bottleneck >= 0]].tolist())
    assert kinds == {LinkKind.USER_DOWN, LinkKind.USER_UP, LinkKind.ISL, LinkKind.FEEDER_UP, LinkKind.FEEDER_DOWN}
