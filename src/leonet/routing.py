"""Shortest-delay routes between ground endpoints over one snapshot's links, in compiled graph code.

Node ids: satellites ``0 .. S-1``, then ground nodes ``S .. S+G-1`` (the order of the scenario's ground list).
A ground node is never a transit node, unless it is marked as one (a gateway in bent-pipe mode).  We enforce this
by giving each non-transit ground node two vertices in the directed graph: a source vertex with only outgoing
ground links and a sink vertex (``S+G+g``, internal) with only incoming ones, so no path can pass through it.
Distances come from ``scipy.sparse.csgraph.dijkstra`` run from all sources in one call (Dijkstra 1959), and the
paths of all pairs are read back from the predecessor matrix together, one hop per step for every pair at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix


@dataclass(frozen=True)
class LinkSet:
    """Directed weighted edges of one snapshot in *node-id* space (sink vertices already mapped back to
    ground ids), sorted by ``key = u * n_nodes + v`` so that a hop can be looked up with ``searchsorted``."""

    n_nodes: int
    key: NDArray[np.int64]
    delay_ms: NDArray[np.float64]

    def lookup(self, u: NDArray[np.int64], v: NDArray[np.int64]) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
        """Whether each hop ``u -> v`` exists now, and its delay (ms; NaN where it does not)."""
        k = u.astype(np.int64) * self.n_nodes + v.astype(np.int64)
        if len(self.key) == 0:
            return np.zeros(k.shape, dtype=bool), np.full(k.shape, np.nan)
        pos = np.minimum(np.searchsorted(self.key, k), len(self.key) - 1)
        ok = self.key[pos] == k
        return ok, np.where(ok, self.delay_ms[pos], np.nan)


@dataclass(frozen=True)
class Graph:
    """The routing graph of one snapshot: a CSR matrix over its vertices (``vertex_node`` maps each to its node
    id), and the same edges as a :class:`LinkSet` in node-id space."""

    n_sats: int
    n_ground: int
    csr: csr_matrix
    links: LinkSet
    transit: NDArray[np.bool_]
    vertex_node: NDArray[np.int64]
    #: Earth-fixed position of each ground node at this snapshot (km), if known: lets :func:`shortest_routes`
    #: choose which end of a pair to search from
    ground_r_km: NDArray[np.float64] | None = None

    def sink_vertex(self, ground: NDArray[np.int64]) -> NDArray[np.int64]:
        S, G = self.n_sats, self.n_ground
        return np.where(self.transit[ground], S + ground, S + G + ground)


def build_graph(
    n_sats: int,
    n_ground: int,
    isl: NDArray[np.int32],
    isl_delay_ms: NDArray[np.float64],
    gsl_ground: NDArray[np.int32],
    gsl_sat: NDArray[np.int32],
    gsl_delay_ms: NDArray[np.float64],
    transit: NDArray[np.bool_] | None = None,
    ground_r_km: NDArray[np.float64] | None = None,
) -> Graph:
    """Directed graph of one snapshot.  Vertices: satellites ``0..S-1``, ground sources ``S..S+G-1``, ground
    sinks ``S+G..S+2G-1``.  ISLs are used both ways; a ground link ``g - s`` becomes ``g -> s`` from g's source
    vertex and ``s -> g`` into g's sink vertex.  Edges with a NaN delay (a satellite with no position) are dropped.

    ``transit`` marks relaying ground nodes (gateways in bent-pipe mode).  Then each satellite also gets a
    downlink vertex ``S+2G+s`` (ISLs, if any, exist on both sides): a route between two other ground nodes
    runs ``g -> s ... -> gateway -> s' ... -> h`` (uplink vertices towards gateways, downlink vertices from
    them), so it passes through at least one gateway, never terminal -> satellite -> terminal.
    """
    S, G = n_sats, n_ground
    tr = np.zeros(G, dtype=bool) if transit is None else np.asarray(transit, dtype=bool)
    ok_isl = np.isfinite(isl_delay_ms)
    a, b, w_isl = isl[ok_isl, 0].astype(np.int64), isl[ok_isl, 1].astype(np.int64), isl_delay_ms[ok_isl]
    g = gsl_ground.astype(np.int64)
    s = gsl_sat.astype(np.int64)
    gw = tr[g]
    if not tr.any():
        u = np.concatenate([a, b, S + g, s])
        v = np.concatenate([b, a, s, S + G + g])
        w = np.concatenate([w_isl, w_isl, gsl_delay_ms, gsl_delay_ms])
        n_vertices = S + 2 * G
        vertex_node = np.r_[np.arange(S + G), S + np.arange(G)]
    else:
        down = S + 2 * G + s
        D = S + 2 * G  # first downlink vertex
        # uplink side: ground -> s, s -> gateway; downlink side: gateway -> s', s' -> ground sink; ISLs on both
        # sides; a gateway also starts up (gateway -> s -> gateway) for gateway-to-gateway relays and endpoints.
        u = np.concatenate([a, b, D + a, D + b, S + g[~gw], s[gw], S + g[gw], down[~gw], S + g[gw]])
        v = np.concatenate([b, a, D + b, D + a, s[~gw], S + g[gw], down[gw], S + G + g[~gw], s[gw]])
        w = np.concatenate(
            [
                w_isl,
                w_isl,
                w_isl,
                w_isl,
                gsl_delay_ms[~gw],
                gsl_delay_ms[gw],
                gsl_delay_ms[gw],
                gsl_delay_ms[~gw],
                gsl_delay_ms[gw],
            ]
        )
        n_vertices = 2 * S + 2 * G
        vertex_node = np.r_[np.arange(S + G), S + np.arange(G), np.arange(S)]
    # csgraph treats explicit zeros as missing edges; a zero-length link cannot occur between distinct bodies.
    csr = csr_matrix((w, (u, v)), shape=(n_vertices, n_vertices))
    # the same edges in node-id space, for hop look-ups of kept paths
    n_nodes = S + G
    key = vertex_node[u] * n_nodes + vertex_node[v]
    order = np.argsort(key, kind="stable")
    return Graph(S, G, csr, LinkSet(n_nodes, key[order], w[order]), tr, vertex_node, ground_r_km)


@dataclass(frozen=True)
class Routes:
    """Routes of a list of ground pairs in one snapshot.  ``path[i]`` holds pair ``i``'s node ids from source to
    destination, left-aligned and padded with -1 (all -1 when unreachable)."""

    delay_ms: NDArray[np.float64]  # one-way, NaN when unreachable
    path: NDArray[np.int32]  # (P, L)
    #: nodes on each path (the entries >= 0 of its row), when the search already counted them
    length: NDArray[np.int64] | None = None

    @property
    def n_nodes(self) -> NDArray[np.int64]:
        if self.length is not None:
            return self.length
        return (self.path >= 0).sum(axis=1)  # type: ignore[no-any-return]

    @property
    def hops(self) -> NDArray[np.int32]:
        return np.maximum(self.n_nodes - 1, 0).astype(np.int32)


def search_ends(graph: Graph, src: NDArray[np.int64], dst: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Which pairs to search from their destination (True) rather than their source.

    In a graph without transit ground nodes every edge exists both ways with the same delay (ISLs, and each
    ground link up and down), so the route of ``(a, b)`` is the reverse of a route of ``(b, a)``; and a search
    from ``a`` that stops once all of a's destinations are final settles about the satellites within the
    farthest of them.  Searching every pair from its more *remote* end (the smaller ``u . mean(u)`` of the
    ground nodes' unit vectors) leaves the searches from central ends only near destinations: for all pairs of
    the 1,000 largest cities the searched area (great-circle caps) falls to 56% of the globe, from 95% with
    the given orientation.  Without ground positions, or with transit nodes: no pair is flipped."""
    if graph.ground_r_km is None or graph.transit.any() or len(src) == 0:
        return np.zeros(len(src), dtype=bool)
    ends = np.unique(np.r_[src, dst])
    u = graph.ground_r_km[ends] / np.linalg.norm(graph.ground_r_km[ends], axis=1, keepdims=True)
    central = np.zeros(graph.n_ground)
    central[ends] = u @ u.mean(axis=0)
    rank = np.empty(graph.n_ground, dtype=np.int64)
    rank[np.lexsort((np.arange(graph.n_ground), central))] = np.arange(graph.n_ground)  # 0: most remote
    out: NDArray[np.bool_] = rank[dst] < rank[src]
    return out


def shortest_routes(graph: Graph, src: NDArray[np.int64], dst: NDArray[np.int64]) -> Routes:
    """Shortest-delay route of every pair ``(src[i], dst[i])`` (ground indices), in one many-source Dijkstra
    call and one compiled read-back of all paths from the predecessor matrix.  Each search stops once its own
    destinations are final; each pair is searched from the end :func:`search_ends` picks (its path read back
    reversed when that is the destination)."""
    # the numba kernel is imported on first use, so that `leonet check` and the help do not load numba
    from leonet._routesearch import route_pairs

    S = graph.n_sats
    if len(src) == 0:
        return Routes(np.empty(0), np.empty((0, 2), dtype=np.int32))
    flip = search_ends(graph, src, dst)
    a, b = np.where(flip, dst, src), np.where(flip, src, dst)
    # distinct sources and each pair's row, without sorting the pairs (ground indices are < G)
    present = np.zeros(graph.n_ground, dtype=bool)
    present[a] = True
    sources = np.flatnonzero(present)
    row = (np.cumsum(present) - 1)[a]
    csr = graph.csr
    target = graph.sink_vertex(b)
    # each source's pairs, grouped by source (a repeated target costs the early-exit test nothing); each source's
    # paths are read back right after its search, while its row is in cache (no (sources, vertices) matrices)
    by_row = np.argsort(row, kind="stable")
    ptr = np.r_[0, np.cumsum(np.bincount(row, minlength=len(sources)))]
    delay, path, n_nodes = route_pairs(
        csr.indptr, csr.indices, csr.data, S + sources, ptr, target[by_row], by_row, S + a, flip, graph.vertex_node
    )
    reachable = np.isfinite(delay)
    return Routes(np.where(reachable, delay, np.nan), path, n_nodes)
