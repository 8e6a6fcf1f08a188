"""Flow-level throughput of one snapshot: demands allocated max-min fair over directional links with capacities.

Pure (no I/O).  The pieces:

* :func:`max_min_fair` -- (weighted) max-min fair rates of F flows over L links given a flows x links 0/1
  incidence, per-link capacities and per-flow demands (``inf``: greedy).  Progressive filling (water-filling,
  Bertsekas & Gallager, *Data Networks*, 2nd ed., 1992, §6.5.2), each round vectorised over all flows and links
  with sparse products, flows still growing after :data:`VECTOR_ROUNDS` rounds finished by a compiled
  event-driven filling (:mod:`leonet._maxmin_kernel`, numba, imported on first use); see the function for the
  rounds and the tolerance.
* :class:`LinkLayout` -- the directional link ids of a snapshot (user beams, ISLs, gateway feeders; below) and
  the capacity vector; :class:`LinkIndex` / :func:`path_incidence` -- node-sequence paths (as leonet's routes
  store them) to the incidence, vectorised.
* :func:`terminal_pop_demands` (terminal <-> PoP, down and up as separate flows), :func:`city_pair_flows` with
  :func:`gravity_matrix` (city pairs, the gravity-model option), :func:`throughput_summary` (per terminal, per
  link kind, per gateway, the top bottlenecks).

**Link-id convention** (:class:`LinkLayout`; links are directional, each direction has its own capacity):

=========================================  ===================================================================
ids                                        link
=========================================  ===================================================================
``[0, B)``                                 user-beam downlink of beam ``b`` (satellite -> its terminals)
``[B, 2B)``                                user-beam uplink of beam ``b`` (terminals -> satellite)
``2B + 2k``, ``2B + 2k + 1``               ISL ``k`` (``isl[k] = (u, v)``): ``u -> v``, then ``v -> u``
``2B + 2I + 2k``, ``2B + 2I + 2k + 1``     feeder ``k`` (``feeder[k] = (gateway, satellite)``): feeder uplink
                                           gateway -> satellite, then feeder downlink satellite -> gateway
=========================================  ===================================================================

A user beam is shared by every terminal assigned to it, so it is not a node pair: the first hop of a terminal's
path is mapped to its beam (``terminal_beam``), every other hop to an ISL or feeder by its node pair.

Capacities (named constants, sources below; the user-beam capacities are inputs, from the beam model):

* :data:`ISL_LASER_GBPS` = 100 Gbit/s per laser link and direction.
* :data:`FEEDER_LINK_GBPS` = 20 Gbit/s per gateway-satellite feeder link and direction (an assumption).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

#: Capacity of one laser inter-satellite link, per direction (Gbit/s).  Source: SpaceX engineer Travis Brashears
#: at SPIE Photonics West, San Francisco, 30 January 2024 (reported by M. Kan, "Starlink's Laser System Is Beaming
#: 42 Million GB of Data Per Day", PCMag, 31 January 2024): the ~9,000 lasers "can sustain a 100Gbps connection
#: per link", some links reaching up to 200 Gbit/s.  Uncertain: whether 100 Gbit/s is per direction (we assume
#: it is: the terminals are full-duplex), and how far it falls on long or newly acquired links.
ISL_LASER_GBPS = 100.0

#: Capacity of one gateway feeder link (one gateway antenna to one satellite), per direction (Gbit/s).  An
#: assumption: SpaceX publishes no per-antenna Ka-band feeder rate.  Its order of magnitude follows del Portillo,
#: Cameron & Crawley, "A technical comparison of three low earth orbit satellite constellation systems to provide
#: global broadband", Acta Astronautica 159 (2019), whose link budgets put a Starlink (Ku/Ka, Gen1) satellite's
#: maximum throughput at roughly 20 Gbit/s, i.e. what its feeder links must carry (the paper's exact figure was
#: not re-checked for this constant).  Gen2 satellites carry several times more.  Pass ``feeder_gbps`` to
#: :meth:`LinkLayout.capacities` when a better figure is known.
FEEDER_LINK_GBPS = 20.0

#: Relative tolerance of the allocation.  A link whose fair share is within ``REL_EPS`` (relative) of the smallest
#: level among its flows counts as a bottleneck in that round (ties and floating-point near-ties saturate
#: together); its flows are then fixed at their own level, never above the link's share, so no link is ever
#: over its capacity and a link declared saturated is filled to within ``REL_EPS`` relative of it.
REL_EPS = 1e-9

#: Vectorised rounds of :func:`max_min_fair` before the flows still growing are finished by the compiled
#: event-driven filling (:mod:`leonet._maxmin_kernel`): realistic slots settle in fewer (4-22 rounds for 100,000
#: flows, ``benchmarks/bench_flows.py``), a chain of bottlenecks waiting on each other would take one round per
#: link.
VECTOR_ROUNDS = 16

#: Gravity model: exponent of the distance deterrence (demand ~ P_i P_j / d^alpha).  1: Zipf, "The P1 P2 / D
#: hypothesis: on the intercity movement of persons", American Sociological Review 11(6), 1946; also the
#: 1 / geodesic weighting of LEOCraft's population traffic matrices (Basak et al., LEOCraft, 2024:
#: https://suvambasak.github.io/LEOCraft/dataset/src).  0 gives Roughan's simple gravity model without distance
#: ("Simplifying the synthesis of Internet traffic matrices", ACM SIGCOMM CCR 35(5), 2005).
GRAVITY_ALPHA = 1.0
#: Gravity model: distances are floored at this (km) so that near neighbours (suburbs of one conurbation) do not
#: dominate; a modelling choice of ours, not from the record.
GRAVITY_MIN_DISTANCE_KM = 100.0


class LinkKind(IntEnum):
    """The kind of a directional link (:attr:`LinkLayout.kind`)."""

    USER_DOWN = 0
    USER_UP = 1
    ISL = 2
    FEEDER_UP = 3
    FEEDER_DOWN = 4


#: Names of :class:`LinkKind`, by value.
LINK_KIND_NAMES = ("user-beam down", "user-beam up", "ISL", "feeder up", "feeder down")


# --------------------------------------------------------------------------------------------------------------
# max-min fair allocation


@dataclass(frozen=True)
class Allocation:
    """The result of :func:`max_min_fair`.

    ``rate_gbps`` (F,) per flow; ``load_gbps`` (L,) per link (sum of the rates of its flows); ``utilisation``
    (L,) load / capacity (NaN for a zero-capacity link); ``bottleneck`` (F,) a saturated link on the flow's path
    where its (weighted) rate is the largest, -1 if the flow is limited by its demand (or has none);
    ``saturated`` (L,) links filled by the allocation; ``rounds`` the vectorised filling rounds it took;
    ``kernel_flows`` the flows the compiled event-driven filling finished after them (0: none)."""

    rate_gbps: NDArray[np.float64]
    load_gbps: NDArray[np.float64]
    utilisation: NDArray[np.float64]
    bottleneck: NDArray[np.int64]
    saturated: NDArray[np.bool_]
    rounds: int
    kernel_flows: int = 0


def _row_reduce(ufunc: np.ufunc, values: NDArray[Any], indptr: NDArray[np.int64], empty: float) -> NDArray[Any]:
    """``ufunc`` reduced over each CSR row's ``values[indptr[i]:indptr[i + 1]]``; ``empty`` for empty rows."""
    out = np.full(len(indptr) - 1, empty, dtype=values.dtype)
    starts = indptr[:-1]
    nonempty = starts < indptr[1:]
    if values.size:
        # consecutive non-empty rows: each segment runs to the next non-empty row's start, i.e. its own end
        out[nonempty] = ufunc.reduceat(values, starts[nonempty])
    return out


def _checked_incidence(incidence: sp.csr_array | sp.csr_matrix, n_links: int) -> sp.csr_array:
    a = sp.csr_array(incidence, dtype=np.float64, copy=True)
    if a.ndim != 2 or a.shape[1] != n_links:
        raise ValueError(f"incidence: expected shape (flows, {n_links} links), got {a.shape}")
    a.sum_duplicates()
    a.eliminate_zeros()
    if a.nnz and not np.all(a.data == 1.0):
        raise ValueError("incidence: expected 0/1 entries (a flow crosses a directional link at most once)")
    a.indptr = a.indptr.astype(np.int64)
    a.indices = a.indices.astype(np.int64)
    return a


def _vector(name: str, x: ArrayLike, n: int, allow_inf: bool, positive: bool = False) -> NDArray[np.float64]:
    v = np.asarray(x, dtype=np.float64)
    if v.ndim == 0:
        v = np.full(n, float(v))
    if v.shape != (n,):
        raise ValueError(f"{name}: expected shape ({n},), got {v.shape}")
    if np.isnan(v).any() or (not allow_inf and np.isinf(v).any()):
        raise ValueError(f"{name}: expected finite values{' or inf' if allow_inf else ''}")
    if (v <= 0).any() if positive else (v < 0).any():
        raise ValueError(f"{name}: expected values {'> 0' if positive else '>= 0'}")
    return v


def max_min_fair(
    incidence: sp.csr_array | sp.csr_matrix,
    capacity_gbps: ArrayLike,
    demand_gbps: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    vector_rounds: int = VECTOR_ROUNDS,
) -> Allocation:
    """Max-min fair rates (weighted if ``weights``: max-min fair in ``rate / weight``) of the flows of
    ``incidence`` (flows x links, 0/1) over links of ``capacity_gbps``, each flow at most its ``demand_gbps``
    (``inf``: as much as it can get; a scalar applies to every flow).

    Progressive filling, as in Bertsekas & Gallager §6.5.2 but with many levels fixed per round.  A round, on the
    flows not yet fixed (*active*) and each link's *residual* capacity (its capacity less the fixed flows'
    rates), computes with sparse products:

    * per link, its fair share ``s_l = residual_l / (sum of the active flows' weights on l)``: the level at which
      it would fill if its active flows grew together;
    * per active flow, ``m_f = min(d_f / w_f, min of s_l over its links)``;
    * a link is a bottleneck if ``s_l <= min of m_f over its active flows`` (within :data:`REL_EPS`): nothing can
      fill before it on any of its flows (a link's filling level only rises when flows elsewhere stop early), so
      all its active flows end at their level ``m_f``, and are fixed at ``w_f m_f``; a flow whose demand level is
      at most every link share on its path is fixed at its demand.

    The smallest share (or demand) is always such a local minimum, so every round fixes flows and the number of
    rounds is at most the number of distinct levels; in practice far fewer (many regions of the network settle in
    the same round).  Flows with no links get their demand (an infinite one is refused: unbounded); flows through
    a zero-capacity link get 0; flows of zero demand get 0 (bottleneck -1).  Fixed flows stay in the working
    matrices, inert, until the active ones hold less than half of their entries; then the matrices are rebuilt
    from the active rows, so a round costs O(entries of the flows still growing), give or take a factor 2.

    After ``vector_rounds`` rounds (:data:`VECTOR_ROUNDS`) the flows still growing, if any, are finished by the
    compiled event-driven filling of :mod:`leonet._maxmin_kernel` on the residual capacities (exact, O(entries
    log entries)): a bound on the cost when bottlenecks wait on each other in long chains.  ``vector_rounds=0``
    uses only the kernel."""
    n_flows, n_links = (int(x) for x in incidence.shape)
    a = _checked_incidence(incidence, n_links)
    cap = _vector("capacity_gbps", capacity_gbps, n_links, allow_inf=False)
    dem = _vector("demand_gbps", demand_gbps, n_flows, allow_inf=True)
    w = np.ones(n_flows) if weights is None else _vector("weights", weights, n_flows, allow_inf=False, positive=True)
    lengths = np.diff(a.indptr)
    unbounded = (lengths == 0) & np.isinf(dem)
    if unbounded.any():
        raise ValueError(
            f"demand_gbps: {int(unbounded.sum())} flow(s) with no links have infinite demand (unbounded rate); "
            f"first: flow {int(np.flatnonzero(unbounded)[0])}"
        )

    rate = np.zeros(n_flows)
    bottleneck = np.full(n_flows, -1, dtype=np.int64)
    saturated = np.zeros(n_links, dtype=np.bool_)
    residual = cap.copy()
    nolink = lengths == 0
    rate[nolink] = dem[nolink]
    # the working problem: rows ``idx`` of the incidence (flows not fixed when it was last compacted), of which
    # ``act`` are still active; fixed rows are inert (weight 0, level inf) until the next compaction
    idx = np.flatnonzero((dem > 0) & ~nolink)
    sub = a[idx]
    sub_t = sub.T.tocsr()
    act = np.ones(len(idx), dtype=np.bool_)
    rounds = kernel_flows = 0
    while act.any():
        if rounds >= vector_rounds:
            kernel_flows = int(act.sum())
            _finish(sub, idx, act, w, dem, residual, rate, bottleneck, saturated)
            break
        rounds += 1
        wi = np.where(act, w[idx], 0.0)
        di = dem[idx]
        wsum = sub_t @ wi
        live = wsum > 0
        share = np.full(n_links, np.inf)
        share[live] = np.maximum(residual[live], 0.0) / wsum[live]
        path_min = _row_reduce(np.minimum, share[sub.indices], sub.indptr, np.inf)
        dlevel = np.where(act, di / np.where(act, wi, 1.0), np.inf)
        level = np.where(act, np.minimum(path_min, dlevel), np.inf)
        link_min = _row_reduce(np.minimum, level[sub_t.indices], sub_t.indptr, np.inf)
        bott = live & (share <= link_min * (1.0 + REL_EPS))
        on_bott = act & ((sub @ bott.astype(np.float64)) > 0)
        demand_lim = act & (dlevel <= path_min)
        fix = on_bott | demand_lim
        if not fix.any():  # cannot happen: the smallest level is a local minimum (guards against NaN)
            raise AssertionError("max_min_fair: a round fixed no flow")
        new_rate = np.where(demand_lim, di, wi * np.where(act, level, 0.0))
        rate[idx[fix]] = new_rate[fix]
        by_link = fix & ~demand_lim
        marked = np.where(bott[sub.indices], sub.indices, -1)
        bottleneck[idx[by_link]] = _row_reduce(np.maximum, marked, sub.indptr, -1)[by_link]
        residual -= sub_t @ np.where(fix, new_rate, 0.0)
        saturated |= bott
        act &= ~fix
        if int(np.diff(sub.indptr)[act].sum()) < sub.nnz // 2:  # compact: keep only the active rows
            idx = idx[act]
            sub = a[idx]
            sub_t = sub.T.tocsr()
            act = np.ones(len(idx), dtype=np.bool_)
    load = a.T @ rate
    with np.errstate(divide="ignore", invalid="ignore"):
        util = np.where(cap > 0, load / np.where(cap > 0, cap, 1.0), np.nan)
    return Allocation(rate, load, util, bottleneck, saturated, rounds, kernel_flows)


def _finish(
    sub: sp.csr_array,
    idx: NDArray[np.int64],
    act: NDArray[np.bool_],
    w: NDArray[np.float64],
    dem: NDArray[np.float64],
    residual: NDArray[np.float64],
    rate: NDArray[np.float64],
    bottleneck: NDArray[np.int64],
    saturated: NDArray[np.bool_],
) -> None:
    """The active rows of the working problem finished by the compiled event-driven filling (in place)."""
    from leonet._maxmin_kernel import fill  # numba, on first use

    rest = sub[np.flatnonzero(act)]
    ids = idx[act]
    r, b, s = fill(
        rest.indptr.astype(np.int64), rest.indices.astype(np.int64), w[ids], dem[ids], np.maximum(residual, 0.0)
    )
    rate[ids] = r
    bottleneck[ids] = b
    saturated |= s


# --------------------------------------------------------------------------------------------------------------
# paths -> incidence


@dataclass(frozen=True)
class LinkIndex:
    """Directional links looked up by their node pair: ``keys`` (sorted ``u * n_nodes + v``) and the link id of
    each key (``ids``).  Built by :meth:`from_endpoints`; :meth:`lookup` maps node pairs to link ids (-1: none)."""

    n_nodes: int
    keys: NDArray[np.int64]
    ids: NDArray[np.int64]

    @classmethod
    def from_endpoints(
        cls, u: ArrayLike, v: ArrayLike, ids: ArrayLike | None = None, n_nodes: int | None = None
    ) -> LinkIndex:
        """Links ``u[k] -> v[k]`` with ids ``ids[k]`` (default ``k``); node ids in ``[0, n_nodes)`` (default: the
        largest + 1).  A node pair given twice is refused."""
        uu, vv = np.asarray(u, dtype=np.int64).reshape(-1), np.asarray(v, dtype=np.int64).reshape(-1)
        if uu.shape != vv.shape:
            raise ValueError(f"link endpoints: u and v differ in length ({len(uu)} and {len(vv)})")
        lid = np.arange(len(uu), dtype=np.int64) if ids is None else np.asarray(ids, dtype=np.int64).reshape(-1)
        if lid.shape != uu.shape:
            raise ValueError(f"link ids: expected {len(uu)}, got {len(lid)}")
        n = int(max(uu.max(initial=-1), vv.max(initial=-1)) + 1) if n_nodes is None else int(n_nodes)
        if len(uu) and (min(uu.min(), vv.min()) < 0 or max(uu.max(), vv.max()) >= n):
            raise ValueError(f"link endpoints: expected node ids in [0, {n})")
        keys = uu * n + vv
        order = np.argsort(keys, kind="stable")
        keys, lid = keys[order], lid[order]
        dup = np.flatnonzero(keys[1:] == keys[:-1])
        if len(dup):
            k = int(keys[dup[0]])
            raise ValueError(f"link endpoints: node pair {k // n} -> {k % n} given twice")
        return cls(n, keys, lid)

    def lookup(self, u: ArrayLike, v: ArrayLike) -> NDArray[np.int64]:
        """Link id of each pair ``u[i] -> v[i]``, -1 where there is no such link (or a node is out of range)."""
        uu, vv = np.asarray(u, dtype=np.int64), np.asarray(v, dtype=np.int64)
        inside = (uu >= 0) & (uu < self.n_nodes) & (vv >= 0) & (vv < self.n_nodes)
        key = np.where(inside, uu * self.n_nodes + vv, -1)
        pos = np.minimum(np.searchsorted(self.keys, key), max(len(self.keys) - 1, 0))
        if not len(self.keys):
            return np.full(key.shape, -1, dtype=np.int64)
        found = inside & (self.keys[pos] == key)
        return np.where(found, self.ids[pos], -1)


def padded_to_ragged(paths: ArrayLike) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Padded paths (P, W), each row's nodes first and then -1 (``routing`` / ``_pathread.read_paths``), as the
    ragged layout ``(offsets (P + 1,), nodes)`` of :func:`path_incidence` (Arrow's list layout, as the routes
    table stores its ``path`` column: ``offsets = column.offsets``, ``nodes = column.values``)."""
    p = np.asarray(paths, dtype=np.int64)
    if p.ndim != 2:
        raise ValueError(f"paths: expected a (P, W) array, got shape {p.shape}")
    valid = p >= 0
    offsets = np.zeros(len(p) + 1, dtype=np.int64)
    np.cumsum(valid.sum(axis=1), out=offsets[1:])
    return offsets, p[valid]


def _ragged_check(offsets: ArrayLike, nodes: ArrayLike) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    off, nod = np.asarray(offsets, dtype=np.int64), np.asarray(nodes, dtype=np.int64)
    if off.ndim != 1 or len(off) < 1 or off[0] != 0 or off[-1] != len(nod) or (np.diff(off) < 0).any():
        raise ValueError("paths: expected offsets from 0, non-decreasing, ending at the number of nodes")
    return off, nod


def path_incidence(offsets: ArrayLike, nodes: ArrayLike, links: LinkIndex, n_links: int) -> sp.csr_array:
    """The (P, n_links) 0/1 incidence of paths given as node sequences (path ``i`` is
    ``nodes[offsets[i]:offsets[i + 1]]``): entry ``(i, l)`` is 1 where consecutive nodes of path ``i`` are link
    ``l`` of ``links``.  Vectorised: consecutive pairs of all paths at once, looked up by ``searchsorted``.  A hop
    that is no link, or a path that crosses one link twice, is refused (ValueError naming the path)."""
    off, nod = _ragged_check(offsets, nodes)
    n_paths = len(off) - 1
    lengths = np.diff(off)
    hops = np.maximum(lengths - 1, 0)
    row = np.repeat(np.arange(n_paths, dtype=np.int64), hops)
    # position of each hop's first node: every node but the last of its path
    pos = np.arange(len(nod), dtype=np.int64)
    last = np.zeros(len(nod), dtype=np.bool_)
    last[off[1:][lengths > 0] - 1] = True
    pos = pos[~last]
    lid = links.lookup(nod[pos], nod[pos + 1])
    bad = np.flatnonzero(lid < 0)
    if len(bad):
        b = int(bad[0])
        raise ValueError(
            f"paths: path {int(row[b])}: hop {int(nod[pos[b]])} -> {int(nod[pos[b] + 1])} is not a link "
            f"({len(bad)} such hop(s))"
        )
    if len(lid) and (lid.min() < 0 or lid.max() >= n_links):
        raise ValueError(f"links: expected link ids in [0, {n_links})")
    # built from COO triplets: the conversion to CSR sums duplicate entries (scipy.sparse.coo_array docs), so a
    # link crossed twice by one path shows as a 2
    inc = sp.csr_array((np.ones(len(lid)), (row, lid)), shape=(n_paths, n_links))
    if inc.nnz and inc.data.max() > 1:
        twice = int(np.flatnonzero(np.add.reduceat(inc.data > 1, inc.indptr[:-1][np.diff(inc.indptr) > 0]))[0])
        raise ValueError(f"paths: path {int(np.flatnonzero(np.diff(inc.indptr) > 0)[twice])} crosses a link twice")
    return inc


# --------------------------------------------------------------------------------------------------------------
# the links of a snapshot, and the demands


@dataclass(frozen=True)
class LinkLayout:
    """The directional links of one snapshot, in the id blocks of the module docstring: ``n_beams`` user beams
    (their satellite ``beam_satellite``, node ids), ``isl`` (I, 2) undirected ISLs (satellite node ids, as
    ``topology.plus_grid_isls`` / ``Snapshot.isl``), ``feeder`` (K, 2) gateway-satellite pairs (gateway node id,
    satellite node id)."""

    beam_satellite: NDArray[np.int64]
    isl: NDArray[np.int64]
    feeder: NDArray[np.int64]

    @classmethod
    def build(cls, beam_satellite: ArrayLike, isl: ArrayLike, feeder: ArrayLike) -> LinkLayout:
        b = np.asarray(beam_satellite, dtype=np.int64).reshape(-1)
        i = np.asarray(isl, dtype=np.int64).reshape(-1, 2)
        f = np.asarray(feeder, dtype=np.int64).reshape(-1, 2)
        return cls(b, i, f)

    @property
    def n_beams(self) -> int:
        return len(self.beam_satellite)

    @property
    def isl_start(self) -> int:
        return 2 * self.n_beams

    @property
    def feeder_start(self) -> int:
        return 2 * self.n_beams + 2 * len(self.isl)

    @property
    def n_links(self) -> int:
        return self.feeder_start + 2 * len(self.feeder)

    @property
    def kind(self) -> NDArray[np.int8]:
        """:class:`LinkKind` of every link id."""
        b, i, f = self.n_beams, len(self.isl), len(self.feeder)
        kinds = [np.full(b, LinkKind.USER_DOWN), np.full(b, LinkKind.USER_UP), np.full(2 * i, LinkKind.ISL),
                 np.tile([LinkKind.FEEDER_UP, LinkKind.FEEDER_DOWN], f)]  # fmt: skip
        out: NDArray[np.int8] = np.concatenate(kinds).astype(np.int8)
        return out

    @property
    def endpoints(self) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """``(u, v)`` node ids of every link id (a beam's terminal side is -1: it is many terminals)."""
        sat, none = self.beam_satellite, np.full(self.n_beams, -1, dtype=np.int64)
        isl_u, isl_v = self.isl.reshape(-1), self.isl[:, ::-1].reshape(-1)  # k: u -> v, then v -> u
        fd_u, fd_v = self.feeder.reshape(-1), self.feeder[:, ::-1].reshape(-1)  # k: gateway -> sat, then back
        return np.concatenate([sat, none, isl_u, fd_u]), np.concatenate([none, sat, isl_v, fd_v])

    def node_pair_index(self, n_nodes: int | None = None) -> LinkIndex:
        """The ISLs and feeders (both directions) by node pair, for :func:`path_incidence`."""
        u, v = self.endpoints
        ids = np.arange(self.isl_start, self.n_links, dtype=np.int64)
        return LinkIndex.from_endpoints(u[self.isl_start :], v[self.isl_start :], ids, n_nodes)

    def capacities(
        self,
        beam_down_gbps: ArrayLike,
        beam_up_gbps: ArrayLike,
        isl_gbps: ArrayLike = ISL_LASER_GBPS,
        feeder_gbps: ArrayLike = FEEDER_LINK_GBPS,
    ) -> NDArray[np.float64]:
        """The capacity of every link id (Gbit/s): the beams' from the beam model (per beam, or one value), the
        ISLs' and feeders' per link (both directions alike) or one value (default: the named constants)."""
        b, i, f = self.n_beams, len(self.isl), len(self.feeder)
        down = _vector("beam_down_gbps", beam_down_gbps, b, allow_inf=False)
        up = _vector("beam_up_gbps", beam_up_gbps, b, allow_inf=False)
        isl = np.repeat(_vector("isl_gbps", isl_gbps, i, allow_inf=False), 2)
        fd = np.repeat(_vector("feeder_gbps", feeder_gbps, f, allow_inf=False), 2)
        return np.concatenate([down, up, isl, fd])


@dataclass(frozen=True)
class Flows:
    """Flows for :func:`max_min_fair`: ``incidence`` (F, L), ``demand_gbps`` (F,), and per flow its ``terminal``
    (index, or -1 for a flow between cities) and ``direction`` (0: down, to the terminal; 1: up; 2: city pair)."""

    incidence: sp.csr_array
    demand_gbps: NDArray[np.float64]
    terminal: NDArray[np.int64]
    direction: NDArray[np.int8]

    @staticmethod
    def concat(*parts: Flows) -> Flows:
        """Flows of several builders over the same links (e.g. terminals and city pairs), competing in one
        allocation: rows in the order given."""
        if not parts:
            raise ValueError("Flows.concat: expected at least one Flows")
        if len({p.incidence.shape[1] for p in parts}) != 1:
            raise ValueError("Flows.concat: the parts have different numbers of links")
        return Flows(
            sp.csr_array(sp.vstack([p.incidence for p in parts], format="csr")),
            np.concatenate([p.demand_gbps for p in parts]),
            np.concatenate([p.terminal for p in parts]),
            np.concatenate([p.direction for p in parts]),
        )


def _reverse_ragged(off: NDArray[np.int64], nod: NDArray[np.int64]) -> NDArray[np.int64]:
    """Each path's nodes in reverse order (same offsets)."""
    row = np.repeat(np.arange(len(off) - 1), np.diff(off))
    i = np.arange(len(nod))
    out: NDArray[np.int64] = nod[off[row] + off[row + 1] - 1 - i]
    return out


def terminal_pop_demands(
    layout: LinkLayout,
    path_offsets: ArrayLike,
    path_nodes: ArrayLike,
    terminal_beam: ArrayLike,
    down_gbps: ArrayLike,
    up_gbps: ArrayLike,
    served: ArrayLike | None = None,
    n_nodes: int | None = None,
) -> Flows:
    """Two flows per terminal ``t`` -- flow ``t`` down (PoP -> terminal), flow ``T + t`` up (terminal -> PoP) --
    over the links of ``layout``.

    ``path_offsets`` / ``path_nodes``: each terminal's path to its PoP as node ids in the ragged layout of
    :func:`path_incidence`, terminal first, then satellites, then the PoP's gateway (the uplink order; the
    downlink flow uses the reverse path, i.e. the other direction of every link).  The first hop (terminal ->
    satellite) is the terminal's beam ``terminal_beam[t]`` (-1: none); its satellite must be the beam's.  Every
    other hop must be an ISL or a feeder of ``layout``.  ``down_gbps`` / ``up_gbps``: demand per terminal (or one
    value; ``inf``: greedy).  A terminal not ``served`` (the policy denied it), without a beam or without a path
    (fewer than 2 nodes) gets demand 0 and no links: it carries nothing."""
    off, nod = _ragged_check(path_offsets, path_nodes)
    n_term = len(off) - 1
    beam = _beam_ids("terminal_beam", terminal_beam, n_term, layout)
    down = _vector("down_gbps", down_gbps, n_term, allow_inf=True)
    up = _vector("up_gbps", up_gbps, n_term, allow_inf=True)
    ok = _mask("served", served, n_term) & (beam >= 0) & (np.diff(off) >= 2)
    _check_beam_end(layout, off, nod, ok, beam, 1, "terminal {i}'s first satellite")
    # the paths of the terminals that take part, without their terminal node: satellites ... gateway
    t_off, t_nod = _trim(off, nod, ok, 1, 0)
    index = layout.node_pair_index(n_nodes)
    up_inc = path_incidence(t_off, t_nod, index, layout.n_links) + _beam_entries(ok, layout.n_beams + beam, layout)
    down_inc = path_incidence(t_off, _reverse_ragged(t_off, t_nod), index, layout.n_links)
    down_inc = down_inc + _beam_entries(ok, beam, layout)
    inc = sp.csr_array(sp.vstack([down_inc, up_inc], format="csr"))
    demand = np.concatenate([np.where(ok, down, 0.0), np.where(ok, up, 0.0)])
    term = np.tile(np.arange(n_term, dtype=np.int64), 2)
    direction = np.repeat(np.array([0, 1], dtype=np.int8), n_term)
    return Flows(inc, demand, term, direction)


def city_pair_flows(
    layout: LinkLayout,
    path_offsets: ArrayLike,
    path_nodes: ArrayLike,
    src_beam: ArrayLike,
    dst_beam: ArrayLike,
    demand_gbps: ArrayLike,
    n_nodes: int | None = None,
) -> Flows:
    """One flow per routed city pair ``i`` (the gravity-model option: ``demand_gbps = gravity_matrix(...)[src,
    dst]``), over the pair's path ``nodes[offsets[i]:offsets[i + 1]]``: source city, satellites (and, bent-pipe,
    gateways between them: feeder down, feeder up), destination city (leonet's routes, source first).  The first
    hop is the uplink of ``src_beam[i]`` (the beam serving the source city; its satellite must be the path's
    first), the last the downlink of ``dst_beam[i]``; -1, or a path of fewer than 3 nodes, gives demand 0 and no
    links.  The flows' ``terminal`` is -1 and ``direction`` 2."""
    off, nod = _ragged_check(path_offsets, path_nodes)
    n = len(off) - 1
    sb, db = _beam_ids("src_beam", src_beam, n, layout), _beam_ids("dst_beam", dst_beam, n, layout)
    dem = _vector("demand_gbps", demand_gbps, n, allow_inf=True)
    ok = (sb >= 0) & (db >= 0) & (np.diff(off) >= 3)
    _check_beam_end(layout, off, nod, ok, sb, 1, "pair {i}'s first satellite")
    _check_beam_end(layout, off, nod, ok, db, -2, "pair {i}'s last satellite")
    i_off, i_nod = _trim(off, nod, ok, 1, 1)
    inc = path_incidence(i_off, i_nod, layout.node_pair_index(n_nodes), layout.n_links)
    inc = inc + _beam_entries(ok, layout.n_beams + sb, layout) + _beam_entries(ok, db, layout)
    return Flows(sp.csr_array(inc), np.where(ok, dem, 0.0), np.full(n, -1, dtype=np.int64), np.full(n, 2, np.int8))


def _beam_ids(name: str, x: ArrayLike, n: int, layout: LinkLayout) -> NDArray[np.int64]:
    beam = np.asarray(x, dtype=np.int64).reshape(-1)
    if beam.shape != (n,):
        raise ValueError(f"{name}: expected shape ({n},), got {beam.shape}")
    if (beam >= layout.n_beams).any() or (beam < -1).any():
        raise ValueError(f"{name}: expected beam ids in [0, {layout.n_beams}) or -1")
    return beam


def _mask(name: str, x: ArrayLike | None, n: int) -> NDArray[np.bool_]:
    m = np.ones(n, dtype=np.bool_) if x is None else np.asarray(x, dtype=np.bool_).reshape(-1)
    if m.shape != (n,):
        raise ValueError(f"{name}: expected shape ({n},), got {m.shape}")
    return m


def _check_beam_end(
    layout: LinkLayout,
    off: NDArray[np.int64],
    nod: NDArray[np.int64],
    ok: NDArray[np.bool_],
    beam: NDArray[np.int64],
    at: int,
    what: str,
) -> None:
    """The satellite at position ``at`` of each taking-part path (1: second node, -2: last but one) is its
    beam's."""
    if not ok.any():
        return
    pos = off[:-1][ok] + at if at >= 0 else off[1:][ok] + at
    sat, want = nod[pos], layout.beam_satellite[beam[ok]]
    bad = np.flatnonzero(sat != want)
    if len(bad):
        i, b = int(np.flatnonzero(ok)[bad[0]]), int(beam[ok][bad[0]])
        raise ValueError(
            f"paths: {what.format(i=i)} {int(sat[bad[0]])} is not its beam {b}'s satellite {int(want[bad[0]])}"
        )


def _trim(
    off: NDArray[np.int64], nod: NDArray[np.int64], ok: NDArray[np.bool_], head: int, tail: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The paths of ``ok`` without their first ``head`` and last ``tail`` nodes; the others empty (ragged)."""
    lengths = np.diff(off)
    new_len = np.where(ok, np.maximum(lengths - head - tail, 0), 0)
    row = np.repeat(np.arange(len(lengths)), lengths)
    rank = np.arange(len(nod)) - off[row]  # position of each node in its path
    keep = ok[row] & (rank >= head) & (rank < lengths[row] - tail)
    new_off = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(new_len, out=new_off[1:])
    return new_off, nod[keep]


def _beam_entries(ok: NDArray[np.bool_], column: NDArray[np.int64], layout: LinkLayout) -> sp.csr_array:
    """A (len(ok), n_links) incidence with a 1 at ``(i, column[i])`` for the rows of ``ok``."""
    rows = np.flatnonzero(ok)
    return sp.csr_array((np.ones(len(rows)), (rows, column[rows])), shape=(len(ok), layout.n_links))


def gravity_matrix(
    population: ArrayLike,
    lat_deg: ArrayLike,
    lon_deg: ArrayLike,
    total_gbps: float,
    alpha: float = GRAVITY_ALPHA,
    min_distance_km: float = GRAVITY_MIN_DISTANCE_KM,
) -> NDArray[np.float64]:
    """Demand between cities (N, N), Gbit/s, by a gravity model: ``D[i, j] = K P_i P_j / max(d_ij, d_min)^alpha``
    for ``i != j`` (``d_ij`` the WGS-84 geodesic distance, km), 0 on the diagonal, symmetric (the same demand each
    way), ``K`` such that the sum over all ordered pairs is ``total_gbps``.  Parameters: ``alpha``
    (:data:`GRAVITY_ALPHA`, the distance deterrence; 0 is Roughan's simple gravity model), ``min_distance_km``
    (:data:`GRAVITY_MIN_DISTANCE_KM`).  Use ``D[src, dst]`` as the demand of a routed pair."""
    from leonet.geodesy import geodesic_km

    pop = np.asarray(population, dtype=np.float64).reshape(-1)
    n = len(pop)
    lat = np.asarray(lat_deg, dtype=np.float64).reshape(-1)
    lon = np.asarray(lon_deg, dtype=np.float64).reshape(-1)
    for name, x in (("lat_deg", lat), ("lon_deg", lon)):
        if x.shape != (n,) or not np.isfinite(x).all():
            raise ValueError(f"{name}: expected {n} finite values (one per population)")
    if not np.isfinite(pop).all() or (pop < 0).any():
        raise ValueError("population: expected finite values >= 0")
    if (np.abs(lat) > 90).any():
        raise ValueError("lat_deg: expected values in [-90, 90]")
    if not (np.isfinite(total_gbps) and total_gbps >= 0):
        raise ValueError(f"total_gbps: expected a finite value >= 0 (got {total_gbps})")
    if not (np.isfinite(alpha) and alpha >= 0) or not (np.isfinite(min_distance_km) and min_distance_km > 0):
        raise ValueError("alpha: expected >= 0; min_distance_km: expected > 0")
    out = np.zeros((n, n))
    if n < 2:
        return out
    i, j = np.triu_indices(n, 1)
    d = np.maximum(geodesic_km(lat[i], lon[i], lat[j], lon[j]), min_distance_km)
    g = pop[i] * pop[j] / d**alpha
    s = 2.0 * g.sum()
    if s > 0:
        g = g * (total_gbps / s)
    out[i, j] = g
    out[j, i] = g
    return out


# --------------------------------------------------------------------------------------------------------------
# summary


@dataclass(frozen=True)
class KindStats:
    """Utilisation of the links of one :class:`LinkKind` (links of zero capacity left out of the ratios)."""

    links: int
    load_gbps: float
    capacity_gbps: float
    mean_utilisation: float
    max_utilisation: float
    saturated: int


@dataclass(frozen=True)
class ThroughputSummary:
    """``terminal_down_gbps`` / ``terminal_up_gbps`` (T,) per terminal; ``by_kind`` per link-kind name;
    ``gateway`` node ids with their feeder ``gateway_down_utilisation`` (feeder uplinks: traffic to the users) and
    ``gateway_up_utilisation``; ``top_bottlenecks`` link ids, most flows bottlenecked first, with
    ``top_bottleneck_flows`` (their counts) and ``top_bottleneck_kind``."""

    terminal_down_gbps: NDArray[np.float64]
    terminal_up_gbps: NDArray[np.float64]
    by_kind: dict[str, KindStats]
    gateway: NDArray[np.int64]
    gateway_down_utilisation: NDArray[np.float64]
    gateway_up_utilisation: NDArray[np.float64]
    top_bottlenecks: NDArray[np.int64]
    top_bottleneck_flows: NDArray[np.int64]
    top_bottleneck_kind: NDArray[np.int8]


def throughput_summary(
    allocation: Allocation,
    flows: Flows,
    layout: LinkLayout,
    capacity_gbps: ArrayLike,
    n_terminals: int,
    top: int = 10,
) -> ThroughputSummary:
    """Per terminal, per link kind, per gateway and the ``top`` bottleneck links of an allocation (vectorised)."""
    cap = np.asarray(capacity_gbps, dtype=np.float64)
    rate, load = allocation.rate_gbps, allocation.load_gbps
    is_t = flows.terminal >= 0
    per_t = [
        np.bincount(flows.terminal[m], rate[m], minlength=n_terminals).astype(np.float64)
        for m in (is_t & (flows.direction == 0), is_t & (flows.direction == 1))
    ]
    kind = layout.kind
    by_kind: dict[str, KindStats] = {}
    for k in LinkKind:  # five kinds, not per link
        m = kind == k
        pos = m & (cap > 0)
        util = allocation.utilisation[pos]
        by_kind[LINK_KIND_NAMES[k]] = KindStats(
            int(m.sum()), float(load[m].sum()), float(cap[m].sum()),
            float(util.mean()) if len(util) else 0.0, float(util.max()) if len(util) else 0.0,
            int(allocation.saturated[m].sum()),
        )  # fmt: skip
    gw, inv = np.unique(layout.feeder[:, 0], return_inverse=True)
    f0 = layout.feeder_start
    up_ids, down_ids = f0 + 2 * np.arange(len(layout.feeder)), f0 + 2 * np.arange(len(layout.feeder)) + 1

    def ratio(ids: NDArray[np.int64]) -> NDArray[np.float64]:
        num = np.bincount(inv, load[ids], minlength=len(gw))
        den = np.bincount(inv, cap[ids], minlength=len(gw))
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)

    b = allocation.bottleneck
    counts = np.bincount(b[b >= 0], minlength=len(load))
    nz = np.flatnonzero(counts)
    order = nz[np.lexsort((nz, -counts[nz]))][:top]
    return ThroughputSummary(
        per_t[0], per_t[1], by_kind, gw.astype(np.int64), ratio(up_ids), ratio(down_ids),
        order.astype(np.int64), counts[order].astype(np.int64), kind[order],
    )  # fmt: skip
