"""Hypatia's forwarding state, computed the leonet way: one many-source Dijkstra per time step.

Model (Kassing et al., "Exploring the 'Internet from space' with Hypatia", ACM IMC 2020; the conventions as
satgenpy 0.4.0 writes them, ``satgen/dynamic_state/fstate_calculation.py``, algorithm
``algorithm_free_one_only_over_isls``): nodes are satellites ``0..S-1`` then ground stations ``S..S+G-1``; every
node has one GSL interface; paths run ground station -> satellites over ISLs -> ground station (ground stations
never relay).  For each satellite ``c`` and destination ground station ``d`` the entry is the next hop towards
the satellite in range of ``d`` that promises the shortest total distance; for each ordered pair of distinct
ground stations, the first satellite.  An entry is ``(next hop, my interface, next hop's interface)``: ISL
interfaces are numbered per satellite in the order its ISLs appear in the ISL list, the GSL interface of a
satellite comes after its ISLs (``num_isls``), a ground station's is 0; ``(-1, -1, -1)`` means unreachable.

How: Dijkstra from every destination ground station over the satellites (ISLs both ways, the station's ground
links out of it), ``routing/_dijkstra.py``'s kernel, gives ``D[d, c]``, the shortest distance from satellite
``c`` to ``d``.  A satellite's next hop is then the neighbour minimising ``w(c, n) + D[d, n]``, the first in
interface order where two tie (satgenpy's loop keeps the first strict minimum); the satellite hands over to
``d`` itself where its own ground link is no longer than the best neighbour's offer.  A ground station's first
satellite minimises ``gsl(g, a) + D[d, a]``, the lowest satellite id on a tie (satgenpy sorts ``(distance,
id)``).  Distances are the same shortest distances satgenpy takes from Floyd-Warshall; they differ only in the
last bits (the sums run in another order), so a next hop can differ only between two paths whose lengths agree
to ~1e-9 m.  The per-entry choices run in one numba kernel over (destination, satellite, neighbour).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit
from numpy.typing import NDArray

from leonet._dijkstra import dijkstra_many
from leonet.errors import InputError


@dataclass(frozen=True)
class Interfaces:
    """The ISL interfaces of every satellite, from an ordered ISL list (E, 2).

    ``nbr[c, k]``: the satellite at the other end of interface ``k`` of ``c`` (-1: none), ``isl[c, k]``: the
    index of that ISL in the list, ``remote[c, k]``: the interface number of that ISL at the other end;
    ``num_isls[c]``: how many ISLs ``c`` has (its GSL interface number)."""

    nbr: NDArray[np.int64]
    isl: NDArray[np.int64]
    remote: NDArray[np.int64]
    num_isls: NDArray[np.int64]


def interfaces(n_sats: int, isl: NDArray[np.integer]) -> Interfaces:
    """Interface numbers as satgenpy assigns them (``generate_dynamic_state_at``): walking the ISL list in order,
    ISL ``(a, b)`` is the next interface of ``a`` and the next of ``b``."""
    isl = np.asarray(isl, dtype=np.int64).reshape(-1, 2)
    E = len(isl)
    ends = isl.reshape(-1)  # a0, b0, a1, b1, ...: the order interfaces are handed out
    order = np.argsort(ends, kind="stable")
    counts = np.bincount(ends, minlength=n_sats)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    slot = np.empty(2 * E, dtype=np.int64)
    slot[order] = np.arange(2 * E) - np.repeat(start, counts)
    K = int(counts.max()) if E else 0
    nbr = np.full((n_sats, K), -1, dtype=np.int64)
    idx = np.full((n_sats, K), -1, dtype=np.int64)
    remote = np.full((n_sats, K), -1, dtype=np.int64)
    sa, sb = slot[0::2], slot[1::2]
    a, b = isl[:, 0], isl[:, 1]
    nbr[a, sa], nbr[b, sb] = b, a
    idx[a, sa] = idx[b, sb] = np.arange(E)
    remote[a, sa], remote[b, sb] = sb, sa
    return Interfaces(nbr, idx, remote, counts.astype(np.int64))


@dataclass(frozen=True)
class GroundLinksM:
    """Ground-station-to-satellite links in range at one step, sorted by (station, satellite); lengths in m."""

    ground: NDArray[np.int64]
    sat: NDArray[np.int64]
    length_m: NDArray[np.float64]


def gsl_in_range(sat_m: NDArray[np.float64], ground_m: NDArray[np.float64], max_gsl_m: float) -> GroundLinksM:
    """Every (station, satellite) at a straight-line distance ``<= max_gsl_m`` (satgenpy's test, inclusive),
    by station then satellite id; a satellite without a position (NaN) is in range of none."""
    g, s, d = _in_range(np.ascontiguousarray(sat_m), np.ascontiguousarray(ground_m), float(max_gsl_m))
    return GroundLinksM(g, s, d)


@njit(cache=True, nogil=True)
def _in_range(sat_m, ground_m, max_m):  # type: ignore[no-untyped-def]
    """Brute force over stations x satellites (100 x 1,584 distances take ~0.3 ms; a k-d tree pair costs more)."""
    G, S = ground_m.shape[0], sat_m.shape[0]
    cap = 1024
    gi = np.empty(cap, np.int64)
    si = np.empty(cap, np.int64)
    dd = np.empty(cap, np.float64)
    n = 0
    for g in range(G):
        for s in range(S):
            dx = sat_m[s, 0] - ground_m[g, 0]
            dy = sat_m[s, 1] - ground_m[g, 1]
            dz = sat_m[s, 2] - ground_m[g, 2]
            d = np.sqrt(dx * dx + dy * dy + dz * dz)
            if d <= max_m:
                if n == cap:
                    cap *= 2
                    gi2 = np.empty(cap, np.int64)
                    si2 = np.empty(cap, np.int64)
                    dd2 = np.empty(cap, np.float64)
                    gi2[:n] = gi[:n]
                    si2[:n] = si[:n]
                    dd2[:n] = dd[:n]
                    gi, si, dd = gi2, si2, dd2
                gi[n] = g
                si[n] = s
                dd[n] = d
                n += 1
    return gi[:n].copy(), si[:n].copy(), dd[:n].copy()


@dataclass(frozen=True)
class FState:
    """One step's forwarding state: ``sat[c, d]`` (S, G, 3) next hop, my interface, next hop's interface of
    satellite ``c`` towards ground station ``d``; ``gs[g, d]`` (G, G, 3) the same for ground station ``g``
    (the diagonal is unused, -1)."""

    sat: NDArray[np.int64]
    gs: NDArray[np.int64]

    def rows(self) -> NDArray[np.int64]:
        """The entries in satgenpy's file order, ``(node, destination node, next hop, my if, next hop's if)``:
        satellites by id, each towards every station, then every station towards every other station."""
        S, G = self.sat.shape[0], self.sat.shape[1]
        c, d = np.meshgrid(np.arange(S), np.arange(G), indexing="ij")
        sat_rows = np.column_stack([c.ravel(), S + d.ravel(), self.sat.reshape(-1, 3)])
        g, h = np.meshgrid(np.arange(G), np.arange(G), indexing="ij")
        off = (g != h).ravel()
        gs_rows = np.column_stack([S + g.ravel()[off], S + h.ravel()[off], self.gs.reshape(-1, 3)[off]])
        out: NDArray[np.int64] = np.concatenate([sat_rows, gs_rows]).astype(np.int64)
        return out


def isl_lengths_m(sat_m: NDArray[np.float64], isl: NDArray[np.int64]) -> NDArray[np.float64]:
    d = sat_m[isl[:, 0]] - sat_m[isl[:, 1]]
    out: NDArray[np.float64] = np.sqrt((d * d).sum(axis=1))
    return out


def check_isl_lengths(isl_m: NDArray[np.float64], isl: NDArray[np.int64], max_isl_m: float, t_ns: int) -> None:
    """satgenpy refuses a state in which a (permanent) ISL is longer than the maximum: so does the export."""
    bad = ~(isl_m <= max_isl_m)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise InputError(
            "isl",
            f"the ISL between satellites {int(isl[k, 0])} and {int(isl[k, 1])} is {isl_m[k]:.2f} m long at "
            f"t = {t_ns} ns, more than the maximum ISL length {max_isl_m:.2f} m; expected ISLs that stay in "
            "range (Hypatia's ISLs are permanent: raise max_isl_km / --max-isl-m, or drop the link)",
        )


def forwarding_state(
    n_sats: int,
    ifs: Interfaces,
    isl: NDArray[np.int64],
    isl_m: NDArray[np.float64],
    gsl: GroundLinksM,
    n_ground: int,
    threads: int = 1,
) -> FState:
    """Forwarding state of one step (module docstring) from the ISL lengths (m, in ISL-list order) and the
    ground links in range."""
    S, G = n_sats, n_ground
    a, b = isl[:, 0], isl[:, 1]
    # CSR over satellites 0..S-1 and station sources S..S+G-1: ISLs both ways, station -> satellite in range
    u = np.concatenate([a, b, S + gsl.ground])
    v = np.concatenate([b, a, gsl.sat])
    w = np.concatenate([isl_m, isl_m, gsl.length_m])
    order = np.argsort(u, kind="stable")
    indptr = np.zeros(S + G + 1, dtype=np.int64)
    np.cumsum(np.bincount(u, minlength=S + G), out=indptr[1:])
    dist, _ = dijkstra_many(indptr, v[order], w[order], S + np.arange(G), threads=threads)
    D = np.ascontiguousarray(dist[:, :S])  # (G, S): distance from each satellite to each station
    K = ifs.nbr.shape[1]
    has = ifs.nbr >= 0
    wk = np.where(has, isl_m[np.maximum(ifs.isl, 0)], np.inf) if K else np.empty((S, 0))
    gstart = np.searchsorted(gsl.ground, np.arange(G + 1)).astype(np.int64)
    sat, gs = _entries(D, ifs.nbr, wk, ifs.remote, ifs.num_isls, gsl.sat, gsl.length_m, gstart)
    return FState(sat, gs)


@njit(cache=True, nogil=True)
def _entries(D, nbr, wk, remote, num_isls, gsl_sat, gsl_len, gstart):  # type: ignore[no-untyped-def]
    """The entries of the module docstring from the distances ``D`` (G, S) to every station: satellites
    (S, G, 3) and stations (G, G, 3)."""
    G, S = D.shape
    K = nbr.shape[1]
    sat = np.full((S, G, 3), -1, np.int64)
    gs = np.full((G, G, 3), -1, np.int64)
    direct = np.full(S, np.inf)
    for d in range(G):
        for i in range(gstart[d], gstart[d + 1]):
            direct[gsl_sat[i]] = gsl_len[i]
        for c in range(S):
            if not D[d, c] < np.inf:
                continue
            best = np.inf
            kb = -1
            for k in range(K):
                n = nbr[c, k]
                if n < 0:
                    continue
                x = wk[c, k] + D[d, n]
                if x < best:
                    best = x
                    kb = k
            if direct[c] <= best:
                sat[c, d, 0] = S + d
                sat[c, d, 1] = num_isls[c]
                sat[c, d, 2] = 0
            else:
                sat[c, d, 0] = nbr[c, kb]
                sat[c, d, 1] = kb
                sat[c, d, 2] = remote[c, kb]
        for i in range(gstart[d], gstart[d + 1]):
            direct[gsl_sat[i]] = np.inf
    for g in range(G):
        for h in range(G):
            if h == g:
                continue
            best = np.inf
            a = -1
            for i in range(gstart[g], gstart[g + 1]):  # by satellite id: the lowest wins a tie
                x = gsl_len[i] + D[h, gsl_sat[i]]
                if x < best:
                    best = x
                    a = gsl_sat[i]
            if a >= 0:
                gs[g, h, 0] = a
                gs[g, h, 1] = 0
                gs[g, h, 2] = num_isls[a]
    return sat, gs


def forwarding_state_gs_relays(n_sats: int, gsl: GroundLinksM, n_ground: int, threads: int = 1) -> FState:
    """satgenpy's ``algorithm_free_one_only_gs_relays`` (``calculate_fstate_shortest_path_with_gs_relaying``):
    no ISLs, every ground station relays (station - satellite - station - ...).  Every node's next hop towards
    each destination station is the neighbour (satellites: the stations in range by id; stations: the
    satellites in range by id) minimising ``gsl(u, n) + D[d, n]``, the first on a tie; all interface numbers
    are 0 (one GSL interface per node, no ISLs)."""
    S, G = n_sats, n_ground
    u = np.concatenate([gsl.sat, S + gsl.ground])
    v = np.concatenate([S + gsl.ground, gsl.sat])
    w = np.concatenate([gsl.length_m, gsl.length_m])
    order = np.lexsort((v, u))  # neighbours by id, as satgenpy's graph lists them
    indptr = np.zeros(S + G + 1, dtype=np.int64)
    np.cumsum(np.bincount(u, minlength=S + G), out=indptr[1:])
    dist, _ = dijkstra_many(indptr, v[order], w[order], S + np.arange(G), threads=threads)
    sat, gs = _relay_entries(np.ascontiguousarray(dist), indptr, v[order], w[order], S)
    return FState(sat, gs)


@njit(cache=True, nogil=True)
def _relay_entries(D, indptr, nbr, w, S):  # type: ignore[no-untyped-def]
    G = D.shape[0]
    N = D.shape[1]
    sat = np.full((S, G, 3), -1, np.int64)
    gs = np.full((G, G, 3), -1, np.int64)
    for d in range(G):
        for x in range(N):
            if x == S + d:
                continue
            best = np.inf
            nb = -1
            for k in range(indptr[x], indptr[x + 1]):
                n = nbr[k]
                if D[d, n] < np.inf:
                    y = w[k] + D[d, n]
                    if y < best:
                        best = y
                        nb = n
            if nb >= 0:
                if x < S:
                    sat[x, d, 0] = nb
                    sat[x, d, 1] = 0
                    sat[x, d, 2] = 0
                else:
                    gs[x - S, d, 0] = nb
                    gs[x - S, d, 1] = 0
                    gs[x - S, d, 2] = 0
    return sat, gs
