"""Edges of the fused route search (``_routesearch.route_pairs``) that random graphs do not reach, found by
mutation testing (docs/testing.md): a bucket wider than the smallest edge (early exit), paths longer than the
read-back buffer's doubling, all-zero weights, a one-vertex graph, an empty graph, and pairs given no slot.

References: ``scipy.sparse.csgraph.dijkstra`` for distances; hand-built graphs whose paths are known; every
returned path re-summed edge by edge.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra as scipy_dijkstra

from leonet._routesearch import route_pairs
from test_routesearch import group_by_source


def _route(csr: sp.csr_matrix, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs a[i] -> b[i], grouped by source as the routing module groups them; vertex ids are node ids."""
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    n = csr.shape[0]
    sources, _, by_row, ptr = group_by_source(n, a)
    flip = np.zeros(len(a), dtype=bool)
    return route_pairs(
        csr.indptr, csr.indices, csr.data, sources, ptr, b[by_row], by_row, a, flip, np.arange(n, dtype=np.int64)
    )


def _csr(n: int, u: list[int], v: list[int], w: list[float]) -> sp.csr_matrix:
    return sp.csr_matrix((np.array(w, float), (np.array(u), np.array(v))), shape=(n, n))


def test_target_improved_inside_a_bucket_wider_than_the_smallest_edge() -> None:
    """s -> t costs 1.03 directly and 1.01 + 0.010001 through a; the heavy edge s -> z (62) makes the bucket
    width max(smallest edge, largest / 62) = 1, so t (1.03) and a (1.01) share bucket 1 and t is final only
    after a is relaxed: 1.020001 through a, never 1.03."""
    csr = _csr(4, [0, 0, 1, 0], [2, 1, 2, 3], [1.03, 1.01, 0.010001, 62.0])
    delay, path, n_nodes = _route(csr, np.array([0]), np.array([2]))
    assert delay[0] == pytest.approx(1.020001, abs=1e-12)
    assert path[0, : n_nodes[0]].tolist() == [0, 1, 2]


@pytest.mark.parametrize("seed", range(4))
def test_random_graphs_with_one_heavy_edge_wide_buckets(seed: int) -> None:
    """Random digraphs plus one edge 500x the others: buckets far wider than most edges, several targets per
    source; distances against scipy, every path re-summed."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(10, 80))
    m = int(rng.integers(n, 5 * n))
    u, v = rng.integers(0, n, m), rng.integers(0, n, m)
    keep = u != v
    w = rng.uniform(0.01, 1.0, m)
    u, v, w = np.r_[u[keep], 0], np.r_[v[keep], n - 1], np.r_[w[keep], 500.0]
    csr = sp.csr_matrix((w, (u, v)), shape=(n, n))
    csr.sum_duplicates()
    a = rng.integers(0, n, 60)
    b = rng.integers(0, n, 60)
    delay, path, n_nodes = _route(csr, a, b)
    ref = scipy_dijkstra(csr, directed=True)[a, b]
    assert np.array_equal(np.isinf(delay), np.isinf(ref))
    fin = np.isfinite(ref)
    assert np.abs(delay[fin] - ref[fin]).max(initial=0.0) < 1e-9
    dense = csr.toarray()
    for i in np.flatnonzero(fin):
        nodes = path[i, : n_nodes[i]]
        assert nodes[0] == a[i] and nodes[-1] == b[i]
        assert dense[nodes[:-1], nodes[1:]].sum() == pytest.approx(delay[i], abs=1e-9)


def test_paths_longer_than_twice_the_read_back_buffer() -> None:
    """A chain of 700 vertices: one source's paths need 700 + 500 + 300 nodes, far more than twice the
    starting buffer (64 entries, or 16 a pair), so the buffer must grow to what is needed, not only double."""
    n = 700
    csr = _csr(n, list(range(n - 1)), list(range(1, n)), [1.0] * (n - 1))
    delay, path, n_nodes = _route(csr, np.array([0, 0, 0]), np.array([n - 1, 499, 299]))
    assert delay.tolist() == [n - 1.0, 499.0, 299.0]
    assert n_nodes.tolist() == [n, 500, 300]
    for i, last in enumerate((n - 1, 499, 299)):
        assert path[i, : n_nodes[i]].tolist() == list(range(last + 1))
        assert (path[i, n_nodes[i] :] == -1).all()


def test_all_zero_weights() -> None:
    """Every edge of weight 0 (co-located nodes): the bucket width falls back to 1; distances 0, paths found."""
    csr = sp.csr_matrix((np.zeros(3), (np.array([0, 1, 2]), np.array([1, 2, 3]))), shape=(4, 4))
    csr.eliminate_zeros = lambda: None  # type: ignore[method-assign]  # keep the explicit zeros
    delay, path, n_nodes = _route(csr, np.array([0, 1]), np.array([3, 3]))
    assert delay.tolist() == [0.0, 0.0]
    assert path[0, : n_nodes[0]].tolist() == [0, 1, 2, 3]
    assert path[1, : n_nodes[1]].tolist() == [1, 2, 3]


def test_one_vertex_graph() -> None:
    """A graph of one vertex and no edge: the pair (0, 0) has delay 0 and the one-node path."""
    csr = sp.csr_matrix((1, 1))
    delay, path, n_nodes = _route(csr, np.array([0]), np.array([0]))
    assert delay.tolist() == [0.0] and n_nodes.tolist() == [1] and path[0].tolist() == [0]


def test_pairs_without_a_slot_have_no_path() -> None:
    """``start`` names three pairs, the slots only the first two: the third has no distance, no path
    (all -1) and no nodes."""
    csr = _csr(3, [0, 1], [1, 2], [1.0, 1.0])
    delay, path, n_nodes = route_pairs(
        csr.indptr,
        csr.indices,
        csr.data,
        np.array([0], np.int64),
        np.array([0, 2], np.int64),
        np.array([1, 2], np.int64),
        np.array([0, 1], np.int64),
        np.array([0, 0, 1], np.int64),
        np.zeros(3, dtype=bool),
        np.arange(3, dtype=np.int64),
    )
    assert delay[:2].tolist() == [1.0, 2.0] and np.isinf(delay[2])
    assert path[0, :2].tolist() == [0, 1] and path[1].tolist() == [0, 1, 2]
    assert (path[2] == -1).all() and n_nodes.tolist() == [2, 3, 0]


def test_empty_graph_without_pairs() -> None:
    """No vertex, no edge, no pair (an empty network): empty results, one padding column, no error (the
    thread-count rule divides no work by no graph)."""
    none = np.zeros(0, np.int64)
    delay, path, n_nodes = route_pairs(
        np.zeros(1, np.int32),
        np.zeros(0, np.int32),
        np.zeros(0),
        none,
        np.zeros(1, np.int64),
        none,
        none,
        none,
        np.zeros(0, dtype=bool),
        none,
    )
    assert delay.shape == (0,) and path.shape == (0, 1) and n_nodes.shape == (0,)


def test_small_graphs_stay_in_bounds(tmp_path: Path) -> None:
    """numba does not check indices: the one- and two-vertex graphs, the zero weights, the wide buckets and the
    long chain again with NUMBA_BOUNDSCHECK=1 (a fresh compile), where a bucket row one entry too short, a
    write past the read-back buffer or a path walk past its row raise instead of passing by luck."""
    code = textwrap.dedent(
        """
        import numpy as np
        import test_routesearch_edges as t
        t.test_one_vertex_graph()
        csr = t._csr(2, [0, 1], [1, 0], [1.0, 2.0])
        delay, path, n_nodes = t._route(csr, np.array([0, 1, 0]), np.array([1, 0, 0]))
        assert delay.tolist() == [1.0, 2.0, 0.0] and n_nodes.tolist() == [2, 2, 1], (delay, n_nodes)
        t.test_all_zero_weights()
        t.test_target_improved_inside_a_bucket_wider_than_the_smallest_edge()
        t.test_random_graphs_with_one_heavy_edge_wide_buckets(0)
        t.test_paths_longer_than_twice_the_read_back_buffer()
        t.test_pairs_without_a_slot_have_no_path()
        t.test_empty_graph_without_pairs()
        print("in bounds")
        """
    )
    env = dict(os.environ, NUMBA_BOUNDSCHECK="1", NUMBA_CACHE_DIR=str(tmp_path))
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parent), env.get("PYTHONPATH", "")])
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and "in bounds" in out.stdout, out.stderr[-2000:]
