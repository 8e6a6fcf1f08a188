"""The routing graph's structure and the hop look-up table, against the rules written out as edge sets.

``routing.build_graph`` docstring: vertices are satellites ``0..S-1``, ground sources ``S..S+G-1`` and ground
sinks ``S+G..S+2G-1``; an ISL is used both ways; a ground link ``g - s`` becomes ``g -> s`` from g's source vertex
and ``s -> g`` into g's sink vertex; NaN delays are dropped.  With transit (bent-pipe) gateways each satellite also
has a downlink vertex ``S+2G+s``: ground -> s (uplink side), s -> gateway, gateway -> s' (downlink side),
s' -> ground sink, a gateway's own uplink gateway -> s, and ISLs on both sides.  ``LinkSet.lookup`` answers
"does hop u -> v exist now, with which delay" in node ids (sinks mapped back to their ground id).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import csr_matrix

from leonet._pathread import read_paths
from leonet.routing import LinkSet, Routes, build_graph, shortest_routes

S, G = 3, 3  # satellites 0, 1, 2; ground nodes 0, 1, 2 (node ids 3, 4, 5)
ISL = np.array([[0, 1], [1, 2]], np.int32)
ISL_MS = np.array([1.0, 2.0])
GSL_G = np.array([0, 1, 2, 2], np.int32)
GSL_S = np.array([0, 2, 1, 2], np.int32)
GSL_MS = np.array([0.5, 0.25, 0.75, 0.125])


def _edges(graph) -> dict[tuple[int, int], float]:  # type: ignore[no-untyped-def]
    coo = graph.csr.tocoo()
    out = {(int(u), int(v)): float(w) for u, v, w in zip(coo.row, coo.col, coo.data, strict=True)}
    assert len(out) == coo.nnz, "no duplicate edges"
    return out


def test_graph_without_transit() -> None:
    g = build_graph(S, G, ISL, ISL_MS, GSL_G, GSL_S, GSL_MS)
    assert g.csr.shape == (S + 2 * G, S + 2 * G)
    want = {(0, 1): 1.0, (1, 0): 1.0, (1, 2): 2.0, (2, 1): 2.0}
    for gi, si, w in zip(GSL_G.tolist(), GSL_S.tolist(), GSL_MS.tolist(), strict=True):
        want[(S + gi, si)] = w  # up from the source vertex
        want[(si, S + G + gi)] = w  # down into the sink vertex
    assert _edges(g) == want
    assert g.vertex_node.tolist() == [0, 1, 2, 3, 4, 5, 3, 4, 5]
    assert g.sink_vertex(np.array([0, 1, 2])).tolist() == [6, 7, 8]
    assert not g.transit.any()


def test_nan_delays_are_dropped() -> None:
    g = build_graph(S, G, ISL, np.array([np.nan, 2.0]), GSL_G, GSL_S, GSL_MS)
    e = _edges(g)
    assert (0, 1) not in e and (1, 0) not in e and e[(1, 2)] == 2.0


def test_graph_with_a_transit_gateway() -> None:
    transit = np.array([False, True, False])  # ground node 1 (node 4) is a gateway
    g = build_graph(S, G, ISL, ISL_MS, GSL_G, GSL_S, GSL_MS, transit)
    D = S + 2 * G  # downlink vertex of satellite s: D + s
    assert g.csr.shape == (2 * S + 2 * G, 2 * S + 2 * G)
    want: dict[tuple[int, int], float] = {}
    for (a, b), w in zip(ISL.tolist(), ISL_MS.tolist(), strict=True):
        for x, y in ((a, b), (b, a)):
            want[(x, y)] = w
            want[(D + x, D + y)] = w
    for gi, si, w in zip(GSL_G.tolist(), GSL_S.tolist(), GSL_MS.tolist(), strict=True):
        if transit[gi]:
            want[(si, S + gi)] = w  # uplink side -> gateway
            want[(S + gi, D + si)] = w  # gateway -> downlink side
            want[(S + gi, si)] = w  # the gateway's own uplink
        else:
            want[(S + gi, si)] = w  # terminal -> uplink side
            want[(D + si, S + G + gi)] = w  # downlink side -> terminal's sink
    assert _edges(g) == want
    assert g.vertex_node.tolist() == [0, 1, 2, 3, 4, 5, 3, 4, 5, 0, 1, 2]
    assert g.sink_vertex(np.array([0, 1, 2])).tolist() == [S + G + 0, S + 1, S + G + 2]
    # a route between the two terminals must pass the gateway: 3 -> 0 -> 1 -> 2 ... -> 4 -> 2' -> 5
    r = shortest_routes(g, np.array([0]), np.array([2]))
    assert r.path[0][r.path[0] >= 0].tolist() == [3, 0, 1, 2, 4, 2, 5]
    assert r.delay_ms[0] == pytest.approx(0.5 + 1.0 + 2.0 + 0.25 + 0.25 + 0.125)


def test_linkset_lookup_every_edge_and_non_edges() -> None:
    for transit in (None, np.array([False, True, False])):
        g = build_graph(S, G, ISL, ISL_MS, GSL_G, GSL_S, GSL_MS, transit)
        node = g.vertex_node
        edges = {(int(node[u]), int(node[v])): w for (u, v), w in _edges(g).items()}
        n = S + G
        uu, vv = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        ok, d = g.links.lookup(uu.ravel(), vv.ravel())
        for u, v, o, w in zip(uu.ravel().tolist(), vv.ravel().tolist(), ok.tolist(), d.tolist(), strict=True):
            assert o == ((u, v) in edges), (u, v)
            if o:
                assert w == edges[(u, v)]
            else:
                assert np.isnan(w)


@pytest.mark.parametrize("keys", [[], [7], [2, 9, 40]])
def test_linkset_small_tables(keys: list[int]) -> None:
    ls = LinkSet(10, np.array(keys, dtype=np.int64), np.arange(len(keys), dtype=np.float64) + 1.0)
    probe = np.arange(0, 100)
    ok, d = ls.lookup(probe // 10, probe % 10)
    assert np.flatnonzero(ok).tolist() == keys
    assert d[ok].tolist() == [float(i + 1) for i in range(len(keys))]
    assert np.isnan(d[~ok]).all()


def test_routes_hops_and_empty_requests() -> None:
    r = Routes(np.array([3.0, np.nan, 1.0]), np.array([[3, 0, 1, 4], [-1, -1, -1, -1], [3, 0, 4, -1]], np.int32))
    assert r.n_nodes.tolist() == [4, 0, 3] and r.hops.tolist() == [3, 0, 2]
    g = build_graph(S, G, ISL, ISL_MS, GSL_G, GSL_S, GSL_MS)
    e = shortest_routes(g, np.array([], np.int64), np.array([], np.int64))
    assert e.delay_ms.shape == (0,) and e.path.shape[0] == 0


def test_shortest_routes_small_graph() -> None:
    """Ground 0 (on satellite 0) to ground 1 (on satellite 2): 0.5 + 1 + 2 + 0.25; ground 2 is on satellites 1 and
    2; the way 0 -> 2 never transits ground 1; an isolated pair is unreachable (NaN, all -1)."""
    g = build_graph(S, G, ISL, ISL_MS, GSL_G, GSL_S, GSL_MS)
    r = shortest_routes(g, np.array([0, 0, 1]), np.array([1, 2, 2]))
    # left-aligned, source first, padded with -1 (the Routes docstring)
    assert r.path.tolist() == [[3, 0, 1, 2, 4], [3, 0, 1, 5, -1], [4, 2, 5, -1, -1]]
    assert r.delay_ms.tolist() == pytest.approx([3.75, 2.25, 0.375])
    lonely = build_graph(S, G, ISL[:1], ISL_MS[:1], GSL_G[:1], GSL_S[:1], GSL_MS[:1])
    r = shortest_routes(lonely, np.array([0]), np.array([1]))
    assert np.isnan(r.delay_ms[0]) and (r.path[0] == -1).all()


def test_read_paths_from_a_predecessor_matrix() -> None:
    """Two search rows over 5 vertices: row 0 from vertex 0 (0 -> 1 -> 2 -> 3, 4 unreachable), row 1 from 4
    (4 -> 3); paths source first, left-aligned, padded with -1; an unreachable pair is all -1; a pair whose target
    is its source is one vertex."""
    NO = -9999
    pred = np.array([[NO, 0, 1, 2, NO], [NO, NO, NO, 4, NO]], dtype=np.int32)
    row = np.array([0, 0, 1, 0, 0])
    target = np.array([3, 1, 3, 4, 0])
    start = np.array([0, 0, 4, 0, 0])
    reachable = np.array([True, True, True, False, True])
    out = read_paths(pred, row, target, start, reachable)
    assert out.tolist() == [[0, 1, 2, 3], [0, 1, -1, -1], [4, 3, -1, -1], [-1, -1, -1, -1], [0, -1, -1, -1]]
    none = read_paths(pred, row[:1], target[:1], start[:1], np.array([False]))
    assert none.tolist() == [[-1]]
    # mapped through vertex -> node ids on the way (the sink vertex 4 is node 2 here)
    mapped = read_paths(pred, row, target, start, reachable, np.array([0, 1, 2, 3, 2]))
    assert mapped.dtype == np.int32
    assert mapped.tolist() == [[0, 1, 2, 3], [0, 1, -1, -1], [2, 3, -1, -1], [-1, -1, -1, -1], [0, -1, -1, -1]]
    rev = read_paths(pred, row, target, start, reachable, reverse=np.array([True, False, True, True, True]))
    assert rev.tolist() == [[3, 2, 1, 0], [0, 1, -1, -1], [3, 4, -1, -1], [-1, -1, -1, -1], [0, -1, -1, -1]]


def test_read_paths_parallel_equals_serial() -> None:
    """The read-back split over blocks of pairs on several threads gives the same array as one thread (random
    shortest-path trees from the kernel, pairs in random order, some unreachable)."""
    from leonet._dijkstra import dijkstra_many

    rng = np.random.default_rng(9)
    n, m = 400, 1600
    u, v = rng.integers(0, n - 20, m), rng.integers(0, n - 20, m)
    csr = csr_matrix((rng.uniform(0.1, 1.0, m), (u, v)), shape=(n, n))
    sources = np.arange(0, 60, dtype=np.int64)
    _d, pred = dijkstra_many(csr.indptr, csr.indices, csr.data, sources)
    row = rng.integers(0, 60, 5000)
    target = rng.integers(0, n, 5000)
    reachable = np.isfinite(_d[row, target])
    one = read_paths(pred, row, target, sources[row], reachable, threads=1)
    assert (one[~reachable] == -1).all() and (one[reachable, 0] == sources[row][reachable]).all()
    for nt in (2, 3, 16):
        assert np.array_equal(read_paths(pred, row, target, sources[row], reachable, threads=nt), one)
        # walked in another order (grouped by row): the same array
        by_row = np.argsort(row, kind="stable")
        assert np.array_equal(read_paths(pred, row, target, sources[row], reachable, threads=nt, order=by_row), one)


def test_searching_from_the_remote_end_gives_the_same_routes() -> None:
    """All pairs of 40 cities over a starlink-550 snapshot: with ground positions :func:`search_ends` flips some
    pairs (searched from their more remote end, paths read back reversed); the delays equal those of searching
    every pair from its source (to 1e-12 relative: the same hops summed in the other order) and of scipy, and
    every path runs from the pair's source to its destination over existing links with that delay."""
    from datetime import UTC, datetime

    from scipy.sparse.csgraph import dijkstra as scipy_dijkstra

    from leonet.catalog import cities
    from leonet.constants import C_KM_S
    from leonet.geodesy import geodetic_to_ecef_km, up_unit
    from leonet.orbits.constellation import from_shells
    from leonet.orbits.propagate import positions_itrf_km
    from leonet.orbits.shells import preset
    from leonet.routing import search_ends
    from leonet.timebase import julian_dates
    from leonet.topology import ground_links, isl_lengths_km, plus_grid_isls

    epoch = datetime(2026, 2, 23, tzinfo=UTC)
    con = from_shells("s", preset("starlink-550"), epoch)
    city = cities()[:40]
    lat, lon = np.array([c.lat_deg for c in city]), np.array([c.lon_deg for c in city])
    g_r = geodetic_to_ecef_km(lat, lon)
    r = positions_itrf_km(con.satrecs, *julian_dates(epoch, np.array([300.0])))[0]
    isl = plus_grid_isls(con.grids)
    gsl = ground_links(r, g_r, up_unit(lat, lon), np.full(40, 25.0))
    ms = 1e3 / C_KM_S
    args = (con.size, 40, isl, isl_lengths_km(r, isl) * ms, gsl.ground, gsl.sat, gsl.length_km * ms)
    plain, located = build_graph(*args), build_graph(*args, ground_r_km=g_r)
    iu, ju = np.triu_indices(40, k=1)
    src, dst = iu.astype(np.int64), ju.astype(np.int64)
    flip = search_ends(located, src, dst)
    assert 0.1 < flip.mean() < 0.9 and not search_ends(plain, src, dst).any()
    a, b = shortest_routes(plain, src, dst), shortest_routes(located, src, dst)
    ok = np.isfinite(a.delay_ms)
    assert ok.mean() > 0.9 and np.array_equal(ok, np.isfinite(b.delay_ms))
    np.testing.assert_allclose(b.delay_ms[ok], a.delay_ms[ok], rtol=1e-12)
    S = con.size
    ref = scipy_dijkstra(plain.csr, directed=True, indices=S + np.arange(40))[src, plain.sink_vertex(dst)]
    np.testing.assert_allclose(b.delay_ms[ok], ref[ok], rtol=1e-9)
    for i in np.flatnonzero(ok):
        p = b.path[i][b.path[i] >= 0].astype(np.int64)
        assert p[0] == S + src[i] and p[-1] == S + dst[i]
        there, d = located.links.lookup(p[:-1], p[1:])
        assert there.all() and d.sum() == pytest.approx(b.delay_ms[i], rel=1e-12)
