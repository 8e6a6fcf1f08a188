"""Routing: shortest-delay paths against networkx, the great-circle bound, bent-pipe, reconfiguration slots,
handover counters, and the compiled Dijkstra kernel against scipy.

References: networkx 3.5 ``single_source_dijkstra`` (Dijkstra 1959) over a graph built from ``Results.links(t)``,
with ground transit forbidden by a weight function that hides every edge leaving a ground node other than the
source; ``scipy.sparse.csgraph.dijkstra``; the great-circle bound ``RTT >= 2 * geodesic / c`` (no signal is faster
than light along the Earth's surface: every path stays above the surface, so it is at least as long as the
geodesic between its ends).
"""

from __future__ import annotations

from functools import cache
from itertools import pairwise

import networkx as nx
import numpy as np
import pyarrow as pa
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra as scipy_dijkstra

from leonet._dijkstra import dijkstra_many
from leonet.constants import C_KM_S
from leonet.results import Results, run
from leonet.routing import build_graph, shortest_routes
from leonet.scenario import parse_scenario

EPOCH = "2026-02-23T00:00:00Z"


def _scenario(
    network: str,
    *,
    cities: int | str = 30,
    time: str = "end_s = 40\nstep_s = 20",
    routing: str = 'mode = "ideal"',
    pairs: str = "",
    ground_extra: str = "",
) -> object:
    return parse_scenario(
        f"""
epoch = {EPOCH}
{pairs}
[time]
{time}
[[networks]]
{network}
[ground]
cities = {cities}
{ground_extra}
[routing]
{routing}
"""
    )


@cache
def _run(key: str) -> Results:
    """Small runs shared by several tests (cached per session)."""
    specs = {
        "550-ideal": _scenario('name = "s550"\nconstellation = { preset = "starlink-550" }'),
        "gen1-ideal": _scenario(
            'name = "gen1"\nconstellation = { preset = "starlink-gen1" }\nmin_elevation_deg = 40', cities=20
        ),
        "550-reconfig": _scenario(
            'name = "s550"\nconstellation = { preset = "starlink-550" }',
            cities=25,
            time="end_s = 47\nstep_s = 1",
            routing='mode = "reconfig"\nreconfiguration_interval_s = 15',
        ),
        "550-ideal-1s": _scenario(
            'name = "s550"\nconstellation = { preset = "starlink-550" }',
            cities=25,
            time="end_s = 47\nstep_s = 1",
            routing='mode = "ideal"',
        ),
        "bent-pipe": _scenario(
            'name = "bp"\nconstellation = { preset = "starlink-550" }\nisl = "none"',
            cities='["London", "Paris", "Madrid", "New-York-Newark", "Chicago", "Toronto", "Dallas-Fort-Worth", '
            '"Sydney", "Melbourne", "Miami"]',
            pairs='pairs = [["London", "Paris"], ["London", "Madrid"], ["New-York-Newark", "Chicago"], '
            '["Toronto", "Miami"], ["Dallas-Fort-Worth", "New-York-Newark"], ["Sydney", "Melbourne"], '
            '["London", "New-York-Newark"]]',
            ground_extra='gateways = "starlink"',
            time="end_s = 60\nstep_s = 30",
        ),
    }
    return run(specs[key])  # type: ignore[arg-type]


def _nx_graph(res: Results, t: float) -> nx.Graph:
    links = res.links(t).to_pydict()
    g = nx.Graph()
    for u, v, d in zip(links["u"], links["v"], links["delay_ms"], strict=True):
        assert not g.has_edge(u, v), "duplicate link"
        g.add_edge(u, v, delay_ms=d)
    return g


def _nx_routes(g: nx.Graph, n_sats: int, source: int, transit: set[int] = frozenset()) -> tuple[dict, dict]:  # type: ignore[assignment]
    """Shortest delays / paths from ``source`` where a ground node (id >= n_sats) may only be the source, the end
    of a path, or a transit node when it is in ``transit``."""

    def weight(u: int, v: int, d: dict) -> float | None:
        if u >= n_sats and u != source and u not in transit:
            return None  # a ground node never forwards
        return d["delay_ms"]  # type: ignore[no-any-return]

    if source not in g:
        return {source: 0.0}, {source: [source]}
    return nx.single_source_dijkstra(g, source, weight=weight)  # type: ignore[no-any-return]


def _rows(res: Results, t: float) -> dict[str, list]:  # type: ignore[type-arg]
    import pyarrow.compute as pc

    return res.routes.filter(pc.equal(res.routes["t_s"], t)).to_pydict()


def _check_path(path: list[int], src: int, dst: int, delay: float, g: nx.Graph, n_sats: int, transit: set[int]) -> None:
    assert path[0] == src and path[-1] == dst
    if transit:  # bent-pipe: one satellite may carry both legs (up to the gateway, and down from it)
        ground = [x for x in path if x >= n_sats]
        assert len(set(ground)) == len(ground), "a ground node twice in one path"
    else:
        assert len(set(path)) == len(path), "a node twice in one path"
    for a, b in pairwise(path):
        assert g.has_edge(a, b), f"hop {a}-{b} is no link now"
    for x in path[1:-1]:
        assert x < n_sats or x in transit, f"ground node {x} transits"
    total = sum(g[a][b]["delay_ms"] for a, b in pairwise(path))
    assert total == pytest.approx(delay, abs=1e-9)


@pytest.mark.parametrize("key", ["550-ideal", "gen1-ideal"])
def test_shortest_routes_against_networkx(key: str) -> None:
    """Every route of a real snapshot (starlink-550 with 30 cities, starlink-gen1 with 20 cities and a 40 deg mask)
    has the delay networkx finds (to 1e-9 ms), and its path is a valid path of the same links with that delay,
    ground nodes only at its ends; unreachable pairs are unreachable in networkx too."""
    res = _run(key)
    S = res.prepared.networks[0].n_sats
    compared = 0
    for t in (0.0, 20.0):
        g = _nx_graph(res, t)
        rows = _rows(res, t)
        by_src: dict[int, tuple[dict, dict]] = {}  # type: ignore[type-arg]
        for src, dst, ow, path, hops in zip(
            rows["src"], rows["dst"], rows["one_way_ms"], rows["path"], rows["hops"], strict=True
        ):
            if src not in by_src:
                by_src[src] = _nx_routes(g, S, src)
            dist, _paths = by_src[src]
            if ow is None:
                assert dst not in dist, f"leonet finds no route {src}->{dst}, networkx does"
                assert path == [] and hops == 0
                continue
            assert dst in dist
            assert ow == pytest.approx(dist[dst], abs=1e-9)
            _check_path(path, src, dst, ow, g, S, set())
            assert hops == len(path) - 1
            compared += 1
    assert compared >= 0.9 * 2 * len(res.prepared.src)


def _via_transit(g: nx.Graph, S: int, src: int, dst: int, tr: set[int]) -> float | None:
    """Reference for graphs with transit (gateway) nodes: the shortest route that passes through at least one
    transit node unless an endpoint is one (networkx; other ground nodes never transit)."""
    dist, _ = _nx_routes(g, S, src, tr)
    if src in tr or dst in tr:
        return dist.get(dst)
    best = None
    for w in tr & set(dist):
        back, _ = _nx_routes(g, S, w, tr)
        if dst in back and (best is None or dist[w] + back[dst] < best):
            best = dist[w] + back[dst]
    return best


def test_shortest_routes_direct_against_networkx_with_transit_nodes() -> None:
    """``build_graph`` + ``shortest_routes`` on a random geometric graph where some ground nodes may transit and
    others may not: the same delays as networkx with the same rule (a route between two non-transit nodes
    passes through a transit node: bent-pipe traffic goes through a gateway)."""
    rng = np.random.default_rng(8)
    S, G = 300, 40
    pts = rng.uniform(0, 100, (S, 2))
    d = np.linalg.norm(pts[:, None] - pts[None], axis=2)
    a, b = np.nonzero(np.triu(d < 12, 1))
    isl = np.stack([a, b], 1).astype(np.int32)
    isl_delay = d[a, b] * 0.01
    gp = rng.uniform(0, 100, (G, 2))
    dg = np.linalg.norm(gp[:, None] - pts[None], axis=2)
    gg, gs = np.nonzero(dg < 9)
    gsl_delay = dg[gg, gs] * 0.01
    transit = rng.uniform(size=G) < 0.3
    graph = build_graph(S, G, isl, isl_delay, gg.astype(np.int32), gs.astype(np.int32), gsl_delay, transit)
    iu, ju = np.triu_indices(G, 1)
    routes = shortest_routes(graph, iu.astype(np.int64), ju.astype(np.int64))
    g = nx.Graph()
    g.add_weighted_edges_from(zip(a.tolist(), b.tolist(), isl_delay.tolist(), strict=True), weight="delay_ms")
    g.add_weighted_edges_from(zip((S + gg).tolist(), gs.tolist(), gsl_delay.tolist(), strict=True), weight="delay_ms")
    tr = {S + int(k) for k in np.flatnonzero(transit)}
    reach = 0
    for i, (s_, d_) in enumerate(zip(iu, ju, strict=True)):
        ref = _via_transit(g, S, S + int(s_), S + int(d_), tr)
        if ref is not None:
            assert routes.delay_ms[i] == pytest.approx(ref, abs=1e-9)
            p = routes.path[i][routes.path[i] >= 0].tolist()
            _check_path(p, S + int(s_), S + int(d_), float(routes.delay_ms[i]), g, S, tr)
            if S + int(s_) not in tr and S + int(d_) not in tr:
                assert any(x in tr for x in p[1:-1]), p
            reach += 1
        else:
            assert np.isnan(routes.delay_ms[i]) and (routes.path[i] == -1).all()
    assert reach > 100


def _great_circle_ok(res: Results) -> int:
    tab = res.routes.to_pydict()
    n = 0
    for rtt, gc, stretch in zip(tab["rtt_ms"], tab["gc_km"], tab["stretch"], strict=True):
        if rtt is None:
            continue
        bound = 2.0 * gc / C_KM_S * 1e3
        assert rtt >= bound, f"RTT {rtt} ms below the great-circle bound {bound} ms"
        assert stretch >= 1.0
        n += 1
    return n


@pytest.mark.parametrize("key", ["550-ideal", "gen1-ideal", "550-reconfig", "bent-pipe"])
def test_no_rtt_below_great_circle_bound(key: str) -> None:
    """No row of the routes table has an RTT below 2 * geodesic / c (c in vacuum), in any mode."""
    res = _run(key)
    assert _great_circle_ok(res) >= 0.8 * res.routes.num_rows


def test_rtt_is_twice_one_way_and_columns_agree() -> None:
    tab = _run("550-ideal").routes.to_pydict()
    for rtt, ow, path, hops, first, last, reach in zip(
        tab["rtt_ms"],
        tab["one_way_ms"],
        tab["path"],
        tab["hops"],
        tab["first_sat"],
        tab["last_sat"],
        tab["reachable"],
        strict=True,
    ):
        assert reach == (rtt is not None)
        if rtt is None:
            continue
        assert rtt == pytest.approx(2 * ow, rel=1e-15)
        assert hops == len(path) - 1
        assert first == path[1] and last == path[-2]


def test_bent_pipe_paths_alternate_and_only_gateways_transit() -> None:
    """Bent-pipe (``isl = "none"``, Starlink gateways): every path goes ground, satellite, ground, satellite, ...,
    ground; the ground nodes inside a path are gateways; and the delays equal networkx's with gateways allowed
    to transit."""
    res = _run("bent-pipe")
    S = res.prepared.networks[0].n_sats
    ground = res.prepared.ground
    gw = {S + int(i) for i in np.flatnonzero(ground.is_gateway)}
    assert len(gw) > 100
    links = res.links(0.0).to_pydict()
    assert set(links["kind"]) == {"ground"}  # no ISL at all
    reach = with_gateway = 0
    for t in (0.0, 30.0, 60.0):
        g = _nx_graph(res, t)
        rows = _rows(res, t)
        assert len(rows["src"]) == 7
        for src, dst, ow, path in zip(rows["src"], rows["dst"], rows["one_way_ms"], rows["path"], strict=True):
            if ow is None:
                continue
            reach += 1
            kinds = [x < S for x in path]
            assert kinds == [i % 2 == 1 for i in range(len(path))], path  # ground, sat, ground, ..., ground
            for x in path[1:-1]:
                assert x < S or x in gw
            assert any(x in gw for x in path[1:-1]) or src in gw or dst in gw, path  # never sat -> terminal direct
            with_gateway += 1
            assert ow == pytest.approx(_via_transit(g, S, src, dst, gw), abs=1e-9)
            _check_path(path, src, dst, ow, g, S, gw)
    assert reach >= 15
    assert with_gateway >= 3  # London - New York cannot be done with one satellite


def test_reconfiguration_keeps_paths_inside_a_slot() -> None:
    """``mode = "reconfig"`` (15 s slots): inside a slot a pair's path stays the same from one snapshot to the
    next unless the row is flagged ``rerouted`` (a hop of the kept path disappeared); every pair is re-routed at
    each slot start; and a kept path's delay is its current length / c."""
    res = _run("550-reconfig")
    tab = res.routes.to_pydict()
    P = len(res.prepared.src)
    times = np.array(tab["t_s"]).reshape(-1, P)[:, 0]
    assert np.array_equal(times, np.arange(48.0))
    paths = np.array(tab["path"], dtype=object).reshape(-1, P)
    rerouted = np.array(tab["rerouted"]).reshape(-1, P)
    changed = np.array(tab["path_changed"]).reshape(-1, P)
    assert rerouted[0].all()
    kept = 0
    for k in range(1, len(times)):
        if times[k] % 15 == 0:
            assert rerouted[k].all(), f"slot start t={times[k]}: every pair is re-routed"
            continue
        for i in range(P):
            if not rerouted[k, i]:
                assert paths[k, i] == paths[k - 1, i], f"t={times[k]} pair {i}: path changed inside a slot"
                assert not changed[k, i]
                kept += 1
    assert kept > 0.9 * P * 44
    # kept paths carry their current delay
    t = 22.0
    g = _nx_graph(res, t)
    rows = _rows(res, t)
    for src, dst, ow, path in zip(rows["src"], rows["dst"], rows["one_way_ms"], rows["path"], strict=True):
        if ow is not None:
            _check_path(path, src, dst, ow, g, res.prepared.networks[0].n_sats, set())


def test_ideal_never_worse_than_reconfig() -> None:
    """At every snapshot, re-routing each second (``ideal``) gives an RTT no larger than keeping paths for 15 s
    (``reconfig``), and the same RTT at slot starts."""
    a = _run("550-ideal-1s").routes.to_pydict()
    b = _run("550-reconfig").routes.to_pydict()
    assert a["t_s"] == b["t_s"] and a["src"] == b["src"] and a["dst"] == b["dst"]
    worse = 0
    for t, ri, rr in zip(a["t_s"], a["rtt_ms"], b["rtt_ms"], strict=True):
        if ri is None:
            assert rr is None
            continue
        assert rr is not None and ri <= rr + 1e-9
        if t % 15 == 0:
            assert ri == pytest.approx(rr, abs=1e-12)
        worse += rr > ri + 1e-6
    assert worse > 0  # keeping paths does cost something in 47 s


def _recount(tab: dict[str, list], n_sats: int) -> dict[tuple[int, int], tuple[int, int, int]]:  # type: ignore[type-arg]
    """Path, first-satellite and last-satellite changes per pair, recounted from the path column."""
    prev: dict[tuple[int, int], list[int]] = {}
    out: dict[tuple[int, int], list[int]] = {}
    for src, dst, path in zip(tab["src"], tab["dst"], tab["path"], strict=True):
        key = (src, dst)
        first = path[1] if len(path) >= 3 else None
        last = path[-2] if len(path) >= 3 else None
        c = out.setdefault(key, [0, 0, 0])
        if key in prev:
            p = prev[key]
            pf = p[1] if len(p) >= 3 else None
            pl = p[-2] if len(p) >= 3 else None
            c[0] += path != p
            c[1] += first != pf
            c[2] += last != pl
        prev[key] = path
    return {k: tuple(v) for k, v in out.items()}  # type: ignore[misc]


@pytest.mark.parametrize("key", ["550-reconfig", "550-ideal-1s", "bent-pipe"])
def test_handover_counters_match_paths(key: str) -> None:
    """The per-row change flags and the summary's handover counters equal counts recomputed from the path column
    (a change of path, of first satellite, of last satellite, between consecutive snapshots of a pair)."""
    res = _run(key)
    tab = res.routes.sort_by([("src", "ascending"), ("dst", "ascending"), ("t_s", "ascending")]).to_pydict()
    ref = _recount(tab, res.prepared.networks[0].n_sats)
    summ = res.summary.to_pydict()
    assert len(summ["src"]) == len(ref)
    total_changes = 0
    for src, dst, pc_, fc, lc in zip(
        summ["src"], summ["dst"], summ["path_changes"], summ["first_sat_changes"], summ["last_sat_changes"], strict=True
    ):
        assert (pc_, fc, lc) == ref[(src, dst)], (src, dst)
        total_changes += pc_
    assert total_changes > 0
    # row flags, against the previous row of the same pair
    prev: dict[tuple[int, int], list[int]] = {}
    for src, dst, path, flag in zip(tab["src"], tab["dst"], tab["path"], tab["path_changed"], strict=True):
        key2 = (src, dst)
        assert flag == (key2 in prev and prev[key2] != path)
        prev[key2] = path


# ---------------------------------------------------------------------------------------------------------------
# the compiled kernel against scipy
# ---------------------------------------------------------------------------------------------------------------


def _check_kernel(csr: sp.csr_matrix, sources: np.ndarray) -> None:
    dist, pred = dijkstra_many(csr.indptr, csr.indices, csr.data, sources.astype(np.int64))
    ref = scipy_dijkstra(csr, directed=True, indices=sources)
    assert dist.shape == ref.shape
    assert np.array_equal(np.isinf(dist), np.isinf(ref))
    fin = np.isfinite(ref)
    assert np.abs(dist[fin] - ref[fin]).max() < 1e-9
    # predecessors are consistent: dist[v] = dist[pred[v]] + w(pred[v], v); -9999 at the source and unreachable
    dense = csr.toarray()
    for r, s in enumerate(sources):
        assert pred[r, s] == -9999 and dist[r, s] == 0.0
        v = np.flatnonzero(np.isfinite(dist[r]) & (np.arange(len(dist[r])) != s))
        u = pred[r, v]
        assert (u >= 0).all()
        assert np.allclose(dist[r, u] + dense[u, v], dist[r, v], atol=1e-9)
        assert (pred[r, ~np.isfinite(dist[r])] == -9999).all()


def test_dijkstra_kernel_against_scipy_random() -> None:
    rng = np.random.default_rng(2)
    for n, m in ((1, 0), (5, 4), (50, 200), (400, 3000), (1000, 2500)):
        u = rng.integers(0, n, m)
        v = rng.integers(0, n, m)
        keep = u != v
        w = rng.uniform(0.1, 10.0, m)
        csr = sp.csr_matrix((w[keep], (u[keep], v[keep])), shape=(n, n))
        csr.sum_duplicates()
        _check_kernel(csr, rng.choice(n, size=min(n, 7), replace=False))


def test_dijkstra_kernel_against_scipy_real_snapshot() -> None:
    res = _run("550-ideal")
    net = res.prepared.networks[0]
    from leonet.step import state_at

    snap = state_at(res.prepared, 0, 20.0).snapshot
    S = net.n_sats
    _check_kernel(snap.graph.csr, S + np.arange(res.prepared.ground.size))


def test_routes_table_types() -> None:
    tab = _run("550-ideal").routes
    assert tab.schema.field("path").type == pa.list_(pa.int32())
    assert tab.num_rows == 3 * len(_run("550-ideal").prepared.src)


def test_snapshot_with_no_reachable_pair() -> None:
    """Ground nodes no satellite of the shell ever sees (the poles, under a 53 deg shell): every row is
    unreachable (NaN RTT, empty path, hops 0), and the run does not fail."""
    sc = parse_scenario(
        f"""
epoch = {EPOCH}
[time]
end_s = 2
[[networks]]
name = "s"
constellation = {{ preset = "starlink-550" }}
[[ground.stations]]
name = "south-pole"
lat_deg = -90
lon_deg = 0
[[ground.stations]]
name = "north-pole"
lat_deg = 90
lon_deg = 0
"""
    )
    tab = run(sc).routes.to_pydict()
    assert tab["rtt_ms"] == [None] * 3
    assert tab["path"] == [[]] * 3 and tab["hops"] == [0] * 3
    assert tab["reachable"] == [False] * 3
