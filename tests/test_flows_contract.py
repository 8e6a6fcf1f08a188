"""The documented contracts of leonet.flows at their edges (issue 11: written for the survivors of
``tools/mutate.py flows``; docs/testing.md, "flows and maxmin").

Each test pins what a docstring of ``flows.py`` promises, against an independent reference where there is one:
``LinkIndex.lookup`` against a Python dict of the node pairs (property-based, node ids one past either edge
included, where ``u * n + v`` would alias another pair's key), the link-id table of the module docstring, and
the one-line refusals of bad input (field named, what was expected).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from leonet.flows import (
    LINK_KIND_NAMES,
    Allocation,
    LinkIndex,
    LinkKind,
    LinkLayout,
    city_pair_flows,
    gravity_matrix,
    max_min_fair,
    path_incidence,
    terminal_pop_demands,
    throughput_summary,
)

# ----------------------------------------------------------------------------------------------------------------
# LinkIndex: node pairs -> link ids


@st.composite
def links_and_queries(draw: st.DrawFn):  # type: ignore[no-untyped-def]
    n = draw(st.integers(1, 6))
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), unique=True, max_size=n * n))
    ids = draw(st.permutations(range(100, 100 + len(pairs))))
    # queries from one below 0 to one past n: (0, n) is key n = (1, 0)'s, (n, 0) is key n * n (no pair's)
    q = draw(st.lists(st.tuples(st.integers(-1, n), st.integers(-1, n)), max_size=20))
    return n, pairs, list(ids), q


@settings(max_examples=200, deadline=None)
@given(links_and_queries())
def test_lookup_matches_a_dict_of_node_pairs(g) -> None:  # type: ignore[no-untyped-def]
    """Reference: a dict {(u, v): id}; a pair that is no link, or names a node outside [0, n_nodes), is -1."""
    n, pairs, ids, q = g
    index = LinkIndex.from_endpoints([p[0] for p in pairs], [p[1] for p in pairs], ids, n_nodes=n)
    ref = dict(zip(pairs, ids, strict=True))
    got = index.lookup([a for a, _ in q], [b for _, b in q]).tolist()
    assert got == [ref.get((a, b), -1) for a, b in q]


def test_lookup_one_past_the_edge_does_not_alias() -> None:
    """n = 3 nodes, link 1 -> 0 has key 1 * 3 + 0 = 3, which (0, 3) would alias if node 3 were let in."""
    index = LinkIndex.from_endpoints([1, 2], [0, 2], [7, 8])
    assert index.n_nodes == 3
    assert index.lookup([1, 0, 3, 2, 3], [0, 3, 0, 2, -1]).tolist() == [7, -1, -1, 8, -1]


def test_default_node_count_is_the_largest_id_plus_one() -> None:
    """``from_endpoints``: node ids in [0, n_nodes), default the largest + 1 (here 4: node 3 is the largest)."""
    assert LinkIndex.from_endpoints([0, 3], [1, 2]).n_nodes == 4
    assert LinkIndex.from_endpoints([0], [3]).n_nodes == 4
    assert LinkIndex.from_endpoints([], []).n_nodes == 0
    with pytest.raises(ValueError, match=r"link endpoints: expected node ids in \[0, 3\)"):
        LinkIndex.from_endpoints([0], [3], n_nodes=3)


def test_empty_index_finds_nothing() -> None:
    """No links: every lookup is -1, and a path over the empty index is refused hop by hop."""
    index = LinkIndex.from_endpoints([], [])
    assert index.lookup([0, 1], [1, 0]).tolist() == [-1, -1]
    with pytest.raises(ValueError, match=r"path 0: hop 0 -> 1 is not a link"):
        path_incidence([0, 2], [0, 1], index, 4)


def test_path_crossing_a_link_twice_is_named() -> None:
    """The refusal names the path that crosses a link twice, not the first path: here path 2 (path 0 is fine,
    path 1 empty)."""
    index = LinkIndex.from_endpoints([0, 1, 1], [1, 2, 0])
    with pytest.raises(ValueError, match=r"paths: path 2 crosses a link twice"):
        path_incidence([0, 3, 3, 8], [0, 1, 2, 0, 1, 0, 1, 2], index, 3)
    inc = path_incidence([0, 3, 3], [0, 1, 2], index, 3)  # one path over links 0, 1; the empty one over none
    assert inc.toarray().tolist() == [[1.0, 1.0, 0.0], [0.0, 0.0, 0.0]]


# ----------------------------------------------------------------------------------------------------------------
# LinkLayout: the id table of the module docstring


def test_beam_endpoints_have_no_terminal_node() -> None:
    """``endpoints``: beam b's downlink is (satellite, -1), its uplink (-1, satellite): the terminal side is many
    terminals, so it is -1 (never a node id)."""
    lay = LinkLayout.build(beam_satellite=[4, 4, 5], isl=[[4, 5]], feeder=[[9, 5]])
    u, v = lay.endpoints
    assert u.tolist() == [4, 4, 5, -1, -1, -1, 4, 5, 9, 5]
    assert v.tolist() == [-1, -1, -1, 4, 4, 5, 5, 4, 5, 9]


def test_capacities_refuse_infinite_and_bad_values() -> None:
    """Every capacity is a finite value >= 0 (``_vector(..., allow_inf=False)``), by field."""
    lay = LinkLayout.build(beam_satellite=[0], isl=[[0, 1]], feeder=[[5, 1]])
    assert lay.capacities(1.0, 2.0, 30.0, 4.0).tolist() == [1.0, 2.0, 30.0, 30.0, 4.0, 4.0]
    for field, kw in (
        ("beam_down_gbps", {"beam_down_gbps": np.inf}),
        ("beam_up_gbps", {"beam_up_gbps": np.inf}),
        ("isl_gbps", {"isl_gbps": np.inf}),
        ("feeder_gbps", {"feeder_gbps": np.inf}),
    ):
        args = {"beam_down_gbps": 1.0, "beam_up_gbps": 1.0, **kw}
        with pytest.raises(ValueError, match=rf"^{field}: expected finite values$"):
            lay.capacities(**args)
    with pytest.raises(ValueError, match=r"^isl_gbps: expected values >= 0$"):
        lay.capacities(1.0, 1.0, -1.0)


# ----------------------------------------------------------------------------------------------------------------
# the flow builders' input checks


def _two_beam_layout() -> LinkLayout:
    return LinkLayout.build(beam_satellite=[0, 1], isl=[[0, 1]], feeder=[[9, 1]])


@pytest.mark.parametrize("bad", [2, 3, -2])
def test_beam_id_outside_the_layout_is_refused(bad: int) -> None:
    """Beam ids are in [0, n_beams) or -1: n_beams itself (2 here) is one past the last."""
    lay = _two_beam_layout()
    off, nod = [0, 3], [20, 0, 9]
    with pytest.raises(ValueError, match=r"^terminal_beam: expected beam ids in \[0, 2\) or -1$"):
        terminal_pop_demands(lay, off, nod, [bad], 1.0, 1.0)
    with pytest.raises(ValueError, match=r"^src_beam: expected beam ids in \[0, 2\) or -1$"):
        city_pair_flows(lay, [0, 3], [20, 0, 21], [bad], [0], 1.0)
    with pytest.raises(ValueError, match=r"^dst_beam: expected beam ids in \[0, 2\) or -1$"):
        city_pair_flows(lay, [0, 3], [20, 0, 21], [0], [bad], 1.0)


def test_last_beam_and_no_beam_are_accepted() -> None:
    """Beam n_beams - 1 is valid, -1 means none (no links, demand 0)."""
    lay = _two_beam_layout()
    f = terminal_pop_demands(lay, [0, 3, 6], [20, 1, 9, 21, 1, 9], [1, -1], 2.0, 1.0)
    assert f.demand_gbps.tolist() == [2.0, 0.0, 1.0, 0.0]
    assert np.diff(f.incidence.indptr).tolist() == [2, 0, 2, 0]


def test_served_mask_must_match_the_terminals() -> None:
    lay = _two_beam_layout()
    with pytest.raises(ValueError, match=r"^served: expected shape \(1,\), got \(2,\)$"):
        terminal_pop_demands(lay, [0, 3], [20, 1, 9], [1], 1.0, 1.0, served=[True, False])
    f = terminal_pop_demands(lay, [0, 3], [20, 1, 9], [1], 1.0, 1.0, served=[[False]])  # any shape of T values
    assert f.demand_gbps.tolist() == [0.0, 0.0]


@pytest.mark.parametrize("total", [-1.0, -1e-12, np.inf, np.nan])
def test_gravity_total_must_be_finite_and_not_negative(total: float) -> None:
    with pytest.raises(ValueError, match=r"^total_gbps: expected a finite value >= 0"):
        gravity_matrix([1.0, 2.0], [0.0, 10.0], [0.0, 10.0], total)


def test_gravity_zero_total_is_allowed() -> None:
    assert (gravity_matrix([1.0, 2.0], [0.0, 10.0], [0.0, 10.0], 0.0) == 0).all()


# ----------------------------------------------------------------------------------------------------------------
# Allocation


def test_allocation_defaults_to_no_kernel_flows() -> None:
    """``kernel_flows``: 0 means none (the default, e.g. for an allocation built by hand); an allocation that
    needed no kernel says 0 too."""
    a = Allocation(np.zeros(1), np.zeros(1), np.zeros(1), np.full(1, -1), np.zeros(1, bool), 0)
    assert a.kernel_flows == 0
    got = max_min_fair(sp.csr_array(np.ones((2, 1))), [1.0], np.inf)
    assert (got.kernel_flows, got.rounds) == (0, 1)
    got = max_min_fair(sp.csr_array(np.ones((2, 1))), [1.0], np.inf, vector_rounds=0)
    assert (got.kernel_flows, got.rounds) == (2, 0)


# ----------------------------------------------------------------------------------------------------------------
# the second pass of ``tools/mutate.py flows --sample 8`` (docs/testing.md): refusals and the summary's figures


def test_one_bad_beam_among_good_ones_is_refused() -> None:
    """The range check holds for every beam id, not only when all are bad: [0, -2] has one id below -1."""
    lay = _two_beam_layout()
    with pytest.raises(ValueError, match=r"^terminal_beam: expected beam ids in \[0, 2\) or -1$"):
        terminal_pop_demands(lay, [0, 3, 6], [20, 0, 9, 21, 0, 9], [0, -2], 1.0, 1.0)
    with pytest.raises(ValueError, match=r"^src_beam: expected beam ids in \[0, 2\) or -1$"):
        city_pair_flows(lay, [0, 3, 6], [20, 0, 21, 20, 0, 21], [0, -2], [0, 0], 1.0)


def test_city_pair_first_satellite_must_be_its_source_beams() -> None:
    """The path's first satellite (its second node) is the source beam's satellite; here the path starts at
    satellite 1, the source beam 0 is satellite 0's."""
    lay = _two_beam_layout()
    with pytest.raises(ValueError, match="pair 0's first satellite 1 is not its beam 0's satellite 0"):
        city_pair_flows(lay, [0, 4], [20, 1, 0, 21], [0], [0], 1.0)


@pytest.mark.parametrize("bad", [0.0, -1.0, np.inf, np.nan])
def test_gravity_minimum_distance_must_be_finite_and_positive(bad: float) -> None:
    with pytest.raises(ValueError, match=r"min_distance_km: expected > 0"):
        gravity_matrix([1.0, 2.0], [0.0, 10.0], [0.0, 10.0], 1.0, min_distance_km=bad)


def test_summary_default_top_and_utilisation_figures() -> None:
    """12 terminals, each alone on its own satellite's beam and gateway: every downlink beam saturated (12
    bottleneck links, one flow each), the uplinks carrying 0.01 x (i + 1) of 1 Gbit/s.  The default ``top`` is
    10; the kinds' mean and max utilisation are NumPy's over the links of positive capacity."""
    n = 12
    lay = LinkLayout.build(
        beam_satellite=np.arange(n), isl=np.zeros((0, 2)), feeder=np.c_[100 + np.arange(n), np.arange(n)]
    )
    paths = np.c_[200 + np.arange(n), np.arange(n), 100 + np.arange(n)]
    up = 0.01 * (np.arange(n) + 1)
    fl = terminal_pop_demands(lay, np.arange(0, 3 * n + 1, 3), paths.reshape(-1), np.arange(n), np.inf, up)
    cap = lay.capacities(1.0, 1.0)
    alloc = max_min_fair(fl.incidence, cap, fl.demand_gbps)
    summ = throughput_summary(alloc, fl, lay, cap, n_terminals=n)
    assert len(summ.top_bottlenecks) == 10 and (summ.top_bottleneck_flows == 1).all()
    up_util = alloc.utilisation[(lay.kind == LinkKind.USER_UP) & (cap > 0)]
    np.testing.assert_allclose(up_util, up)
    got = summ.by_kind[LINK_KIND_NAMES[LinkKind.USER_UP]]
    assert got.max_utilisation == pytest.approx(up.max()) and got.mean_utilisation == pytest.approx(up.mean())
    assert summ.by_kind[LINK_KIND_NAMES[LinkKind.USER_DOWN]].max_utilisation == pytest.approx(1.0)


# ----------------------------------------------------------------------------------------------------------------
# the compiled filling (leonet._maxmin_kernel): its heap, and what it says of a demand-limited flow


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 20).map(float), min_size=1, max_size=40))
def test_kernel_heap_pops_in_increasing_order(keys: list[float]) -> None:
    """Reference: ``sorted``.  Pushing the keys (ids = their positions) and popping them all gives the keys in
    increasing order, each id once: a sift-down that skipped the last child would give them out of order."""
    from leonet._maxmin_kernel import _pop, _push

    n_keys = len(keys)
    hk, hid, hver = np.empty(n_keys), np.empty(n_keys, np.int64), np.empty(n_keys, np.int64)
    n = 0
    for i, k in enumerate(keys):
        n = _push(hk, hid, hver, n, k, i, 7)
    got, ids = [], []
    while n > 0:
        key, ident, ver, n = _pop(hk, hid, hver, n)
        got.append(key)
        ids.append(int(ident))
        assert ver == 7
    assert got == sorted(keys)
    assert sorted(ids) == list(range(n_keys)) and all(keys[i] == k for i, k in zip(ids, got, strict=True))


def test_kernel_marks_a_demand_limited_flow_with_no_bottleneck() -> None:
    """Kernel only (``vector_rounds=0``): on one link of 1 Gbit/s a flow of demand 0.2 gets its demand and no
    bottleneck link (-1, the documented mark); the greedy flow gets the rest, bottlenecked on link 0."""
    got = max_min_fair(sp.csr_array(np.ones((2, 1))), [1.0], [0.2, np.inf], vector_rounds=0)
    np.testing.assert_allclose(got.rate_gbps, [0.2, 0.8])
    assert got.bottleneck.tolist() == [-1, 0] and got.kernel_flows == 2
