"""Early exit of the Δ-stepping kernel (``targets=``) when the bucket width Δ exceeds the smallest edge.

With Δ larger than some edge, a bucket is emptied in several phases and a vertex in it may improve after it was
first reached; a target is final only once every bucket up to its own has been emptied.  The kernel's contract
(``dijkstra_many`` docstring): with ``targets``, every vertex it reports as reached has its exact distance and a
predecessor chain back to the source.

Reference: ``scipy.sparse.csgraph.dijkstra`` (full, no early exit) on the same graph; the predecessor chains are
re-walked and re-summed in NumPy.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra as scipy_dijkstra

from leonet._dijkstra import NO_PRED, dijkstra_many


def _csr(n: int, u: list[int], v: list[int], w: list[float]) -> sp.csr_matrix:
    return sp.csr_matrix((np.array(w, float), (np.array(u), np.array(v))), shape=(n, n))


def test_three_vertices_target_improved_inside_a_wide_bucket() -> None:
    """s -> t costs 1.03 directly and 1.01 + 0.010001 = 1.020001 through a.  With Δ = 1 both t and a land in
    bucket 1 after s is settled; t must not be declared final before a is relaxed."""
    csr = _csr(3, [0, 0, 1], [2, 1, 2], [1.03, 1.01, 0.010001])
    for delta in (None, 0.5, 1.0, 2.0, 5.0):
        dist, pred = dijkstra_many(csr.indptr, csr.indices, csr.data, [0], targets=[2], delta=delta)
        assert dist[0, 2] == pytest.approx(1.020001, abs=1e-12), delta
        assert pred[0, 2] == 1 and pred[0, 1] == 0 and pred[0, 0] == NO_PRED


def _check(csr: sp.csr_matrix, sources: np.ndarray, targets: np.ndarray, delta: float | None) -> None:
    dist, pred = dijkstra_many(csr.indptr, csr.indices, csr.data, sources, targets=targets, delta=delta)
    ref = scipy_dijkstra(csr, directed=True, indices=sources)
    dense = csr.toarray()
    for r, s in enumerate(sources):
        # every target: exact
        assert np.array_equal(np.isinf(dist[r, targets]), np.isinf(ref[r, targets]))
        fin_t = np.isfinite(ref[r, targets])
        assert np.abs(dist[r, targets][fin_t] - ref[r, targets][fin_t]).max(initial=0.0) < 1e-9
        # every vertex reported as reached: exact, with a predecessor chain that sums to its distance
        reached = np.flatnonzero(np.isfinite(dist[r]))
        assert np.abs(dist[r, reached] - ref[r, reached]).max(initial=0.0) < 1e-9
        assert (pred[r, ~np.isfinite(dist[r])] == NO_PRED).all()
        for v in reached:
            total, x, steps = 0.0, int(v), 0
            while x != s:
                p = int(pred[r, x])
                assert p >= 0 and np.isfinite(dist[r, p])
                total += dense[p, x]
                x, steps = p, steps + 1
                assert steps <= len(dense)
            assert total == pytest.approx(dist[r, v], abs=1e-9)


@pytest.mark.parametrize("seed", range(6))
def test_random_graphs_wide_buckets_with_targets(seed: int) -> None:
    """Random digraphs with weights spread over two orders of magnitude, Δ from below the smallest edge to far
    above it (the phases then do label-correcting work), and target sets of 1 to 5 vertices."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 60))
    m = int(rng.integers(n, 6 * n))
    u, v = rng.integers(0, n, m), rng.integers(0, n, m)
    keep = u != v
    w = rng.uniform(0.05, 5.0, m) * rng.choice([1.0, 0.02], m)
    csr = sp.csr_matrix((w[keep], (u[keep], v[keep])), shape=(n, n))
    csr.sum_duplicates()
    wmin = csr.data.min()
    sources = rng.choice(n, size=min(n, 4), replace=False).astype(np.int64)
    for delta in (None, wmin * 0.7, wmin * 3.0, 0.5, 1.7, 4.0):
        for k in (1, 2, 5):
            targets = rng.choice(n, size=min(k, n), replace=False).astype(np.int64)
            _check(csr, sources, targets, delta)


def test_chain_of_near_ties_inside_one_bucket() -> None:
    """A target reached first by a long direct edge and improved through a chain of short edges, all inside one
    bucket of width Δ (several phases), and a second target beyond it."""
    n = 8
    u = [0, 0, 1, 2, 3, 4, 5, 4]
    v = [5, 1, 2, 3, 4, 5, 6, 7]
    w = [0.95, 0.1, 0.1, 0.1, 0.1, 0.1, 0.3, 2.5]
    csr = _csr(n, u, v, w)
    for delta in (None, 1.0, 3.0):
        for targets in ([5], [6], [5, 7]):
            _check(csr, np.array([0]), np.array(targets), delta)


@pytest.mark.parametrize("scale", [0.37, 3.1, 1e-3, 2.5e4])
def test_full_buckets_at_other_scales(scale: float) -> None:
    """The kernel's rare path (a bucket about to overflow with stale entries is compacted, ``_distribute_checked``)
    at weights scaled so that Δ is not 1: the bucket index ``distance / Δ`` is then not the distance itself."""
    from test_dijkstra import _fan_graph

    csr = _fan_graph()
    csr = sp.csr_matrix((csr.data * scale, csr.indices, csr.indptr), shape=csr.shape)
    for targets in (None, np.array([csr.shape[0] - 1])):
        dist, _pred = dijkstra_many(csr.indptr, csr.indices, csr.data, [0, 3], targets=targets)
        ref = scipy_dijkstra(csr, directed=True, indices=[0, 3])
        if targets is None:
            assert np.allclose(dist, ref, rtol=1e-12, atol=0.0, equal_nan=False)
        else:
            assert np.allclose(dist[:, targets], ref[:, targets], rtol=1e-12)
    _check(csr, np.array([0, 3]), np.array([csr.shape[0] - 1]), None)


def test_large_and_spread_weights_with_the_default_delta() -> None:
    """Weights from 1e3 to 1e7 (the default Δ is then far from 1) and from 1e-6 to 1: exact either way."""
    rng = np.random.default_rng(7)
    n, m = 80, 400
    u, v = rng.integers(0, n, m), rng.integers(0, n, m)
    keep = u != v
    for lo, hi in ((1e3, 1e7), (1e-6, 1.0)):
        w = 10.0 ** rng.uniform(np.log10(lo), np.log10(hi), m)
        csr = sp.csr_matrix((w[keep], (u[keep], v[keep])), shape=(n, n))
        csr.sum_duplicates()
        dist, _ = dijkstra_many(csr.indptr, csr.indices, csr.data, [0, 1, 2])
        ref = scipy_dijkstra(csr, directed=True, indices=[0, 1, 2])
        assert np.array_equal(np.isinf(dist), np.isinf(ref))
        fin = np.isfinite(ref)
        assert np.allclose(dist[fin], ref[fin], rtol=1e-12)


def test_one_target_stops_the_search() -> None:
    """Early exit is part of the contract (``targets``: stop once they are final): on a chain 0 -> 1 -> ... -> 9
    of unit weights with the single target 3, vertices 0..3 are exact and 5..9 are never reached."""
    n = 10
    csr = _csr(n, list(range(n - 1)), list(range(1, n)), [1.0] * (n - 1))
    dist, pred = dijkstra_many(csr.indptr, csr.indices, csr.data, [0], targets=[3])
    assert dist[0, :4].tolist() == [0.0, 1.0, 2.0, 3.0] and pred[0, 1:4].tolist() == [0, 1, 2]
    assert np.isinf(dist[0, 5:]).all() and (pred[0, 5:] == NO_PRED).all()


def test_bucket_ring_limit_boundary() -> None:
    """An explicit Δ may need up to 65,536 buckets (largest weight / Δ + 3), not one more: weight 65,533 with
    Δ = 1 is accepted (and exact), a slightly smaller Δ is refused with the reason."""
    csr = _csr(3, [0, 1], [1, 2], [65533.0, 0.5])
    dist, _ = dijkstra_many(csr.indptr, csr.indices, csr.data, [0], delta=1.0)
    assert dist[0].tolist() == [0.0, 65533.0, 65533.5]
    with pytest.raises(ValueError, match="too small for the largest weight"):
        dijkstra_many(csr.indptr, csr.indices, csr.data, [0], delta=0.9999)
