"""The fused route search (``_routesearch.route_pairs``: per source, search then read its paths back at once).

References: the two-step path it replaces (``dijkstra_many`` with per-source targets, then ``read_paths`` on its
dense predecessor matrix), which must give the same delays and paths bit for bit; and, independently,
``scipy.sparse.csgraph.dijkstra`` for the distances, with every returned path re-summed edge by edge from the
CSR matrix.  Random digraphs with unreachable parts, repeated targets, pairs read reversed, 1 and 3 threads.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra as scipy_dijkstra

from leonet._dijkstra import dijkstra_many
from leonet._pathread import read_paths
from leonet._routesearch import route_pairs


def _graph(rng: np.random.Generator, n: int, m: int) -> sp.csr_matrix:
    u = rng.integers(0, n, m)
    v = rng.integers(0, n, m)
    keep = u != v
    w = rng.uniform(0.05, 3.0, m)
    g = sp.csr_matrix((w[keep], (u[keep], v[keep])), shape=(n, n))
    g.sum_duplicates()
    return g


def group_by_source(n: int, a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pairs searched from vertices ``a`` (of ``n``) grouped by source, as the routing module groups them: the
    sources (sorted), each pair's row among them, the pairs in row order and the rows' slot pointers."""
    present = np.zeros(n, dtype=bool)
    present[a] = True
    sources = np.flatnonzero(present)
    row = (np.cumsum(present) - 1)[a]
    by_row = np.argsort(row, kind="stable")
    ptr = np.r_[0, np.cumsum(np.bincount(row, minlength=len(sources)))]
    return sources, row, by_row, ptr


@pytest.mark.parametrize("seed", range(8))
def test_route_pairs_equals_the_two_step_search_and_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 300))
    csr = _graph(rng, n, int(rng.integers(n, 5 * n)))  # sparse: some vertices unreachable from some sources
    P = int(rng.integers(1, 400))
    a = rng.integers(0, n, P)  # the searched-from end of each pair
    b = rng.integers(0, n, P)
    flip = rng.random(P) < 0.4
    vertex_node = rng.permutation(n).astype(np.int64)
    sources, row, by_row, ptr = group_by_source(n, a)
    for threads in (1, 3):
        delay, path, n_nodes = route_pairs(
            csr.indptr, csr.indices, csr.data, sources, ptr, b[by_row], by_row, a, flip, vertex_node, threads
        )
        # the two-step reference: dense matrices, then the read-back
        dist, pred = dijkstra_many(csr.indptr, csr.indices, csr.data, sources, b[by_row], target_ptr=ptr)
        d2 = dist[row, b]
        path2 = read_paths(pred, row, b, a, np.isfinite(d2), vertex_node, reverse=flip, order=by_row)
        assert np.array_equal(delay, d2)
        assert np.array_equal(path, path2)
        assert np.array_equal(n_nodes, (path >= 0).sum(axis=1))
        # independent: scipy's distances, and each path's edges summed in the CSR matrix
        ref = scipy_dijkstra(csr, directed=True, indices=sources)[row, b]
        assert np.array_equal(np.isinf(delay), np.isinf(ref))
        fin = np.isfinite(ref)
        assert np.abs(delay[fin] - ref[fin]).max(initial=0.0) < 1e-9
        node_vertex = np.argsort(vertex_node)
        dense = csr.toarray()
        for i in np.flatnonzero(fin)[:60]:
            nodes = path[i, : n_nodes[i]]
            verts = node_vertex[nodes[::-1] if flip[i] else nodes]
            assert verts[0] == a[i] and verts[-1] == b[i]
            hops = dense[verts[:-1], verts[1:]]
            assert (hops > 0).all()
            assert hops.sum() == pytest.approx(delay[i], abs=1e-9)
        assert (path[~fin] == -1).all() and (n_nodes[~fin] == 0).all()


def test_route_pairs_rejects_a_malformed_graph() -> None:
    one = np.zeros(1, np.int64)
    with pytest.raises(ValueError, match="weights"):
        route_pairs(
            np.array([0, 1, 1]),
            np.array([1]),
            np.array([-1.0]),
            one,
            np.array([0, 1]),
            one + 1,
            one,
            one,
            np.zeros(1, bool),
            np.arange(2),
        )
