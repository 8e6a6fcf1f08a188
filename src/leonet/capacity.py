"""Capacity per reconfiguration slot: the beam scheduler, the access paths and the flows together (issue 9).

At each slot edge ``t`` (``floor(t / interval) * interval``, the router's and the scheduler's slots):

1. **State** at ``t`` (:func:`leonet.step.state_at`): satellite positions, the snapshot's laser links (faults
   applied: failed satellites and lasers are in no link, gateways and PoPs a fault took down in no path), the
   policy's decisions; a denied (or jammed) terminal gets no beam.
2. **Beams** (:func:`leonet.scheduler.schedule_slot`): the terminals of ``world.access`` grouped in their H3
   cells (:func:`leonet.cells.cells_of`), each cell's visibility at the slot's edge and end, beams to cells and
   each terminal to one satellite.  The beams one satellite puts on one cell are one *user beam group* here (the
   scheduler's pooled group): its capacity is beams x the beam capacity at the cell's longest slant range.
   :func:`slot_assignment` is this call, shared with the run's access rows (:mod:`leonet.slot_access`).
3. **Access paths** (:func:`leonet.access_table.snapshot_paths` with ``serving_sat`` = the scheduler's): the
   gateway, the satellite that sends the path down to it, the PoP and the RTT of each terminal;
   :func:`satellite_paths` gives the satellites in between (a shortest ISL path from the serving satellite to
   the down satellite, the same delay the access search found: a sub-path of a shortest path is shortest).
4. **Flows** (:func:`leonet.flows.terminal_pop_demands`, :func:`leonet.flows.max_min_fair`): per terminal a down
   flow (PoP -> terminal) and an up flow of its demand (capped by its class), over its user beam group, the ISLs
   of its path (:data:`leonet.flows.ISL_LASER_GBPS` each direction) and its gateway feeder
   (:data:`leonet.flows.FEEDER_LINK_GBPS` each direction), allocated max-min fair, weighted by the class
   priority.  Node ids: satellites ``0..S-1``, gateways ``S..S+W-1`` (``world.access``'s), terminals after.

Uplink beams: the beam model is the downlink's; a beam group's uplink capacity is taken as
:data:`UPLINK_BEAM_FRACTION` of its downlink capacity (an assumption).

**Jamming.** A terminal in an active jamming zone with ``capacity_fraction`` 0 is blocked: no beam, no path, no
flow (as a denied one, :func:`leonet.step.fault_masks`).  A partially jammed one (``0 < f < 1``, the zone's
fraction at the slot's edge, :attr:`SlotCapacity.capacity_fraction`) keeps its beam and path, and its user link
carries ``f`` times what it would carry: the jammer lowers the terminal's signal to noise, so the beam's time
(or bandwidth) the terminal holds carries fewer bits.  In two allocations: the flows as if nothing were jammed
give each jammed terminal's rates ``r0`` down and up; then each of its flows is capped at ``f r0`` and its beam
group's capacity lowered by ``(1 - f) r0`` (the airtime it still holds, at the lower rate), and the flows are
allocated again.  So a jammed terminal gets at most ``f r0`` (strictly less than ``r0`` when it had any), its
beam neighbours keep their share of the beam, and the lasers and feeder it leaves free may go to others; the
bottleneck of a flow held at its cap is :data:`JAMMED`.  The scheduler does not see the jamming (the beams are
planned as without it), nor does it give the jammed terminal more airtime to make up for it (an assumption: the
operator's scheduler might).  ``capacity_gbps`` is the capacity left to carry bits (a jammed terminal's beam
group: less its lost airtime).  Jamming is evaluated at the slot's edge, like the rest.

Pure: no I/O; vectorised over terminals, beams and links (a loop over path hops and over slots only).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from scipy.sparse.csgraph import dijkstra

from leonet import access_table
from leonet.access import AccessPaths
from leonet.assembly import World
from leonet.beams import STARLINK_BEAMS_PER_SAT, STARLINK_MAX_BEAMS_PER_CELL, BeamModel
from leonet.cells import CellDemand, aggregate_demand, cells_of
from leonet.constants import C_KM_S
from leonet.flows import (
    FEEDER_LINK_GBPS,
    ISL_LASER_GBPS,
    LINK_KIND_NAMES,
    Allocation,
    LinkKind,
    LinkLayout,
    max_min_fair,
    terminal_pop_demands,
)
from leonet.ground import GroundState
from leonet.router import slot_of
from leonet.scheduler import (
    FAIRNESS,
    ServiceClasses,
    SlotAssignment,
    active_terminals,
    cell_geometry,
    cell_visibility,
    schedule_slot,
)
from leonet.step import allowed_mask, min_elevations, positions_at, state_at

#: Default demand per terminal, downlink (Mbit/s): about Starlink's median download speed in the US measured by
#: Ookla Speedtest, 104.97 Mbit/s in 2021-Q4 (Telecompetitor on Ookla's report,
#: https://www.telecompetitor.com/ookla-spacex-starlink-speeds-rebound/) and 104.71 Mbit/s in 2025-Q1 (Ookla's
#: Starlink report as cited in the r/spacex thread of ``leonet/data/published_latency.csv``), with a dip to
#: 53.95 Mbit/s in 2022-Q3 between.  A speed test's median is what users got, not what they would take: the
#: demand a terminal would use if the network let it is at least this (an assumption).
DEMAND_DOWN_MBPS = 100.0
#: Default demand per terminal, uplink (Mbit/s): above Starlink's measured US median upload, 12.04 Mbit/s in
#: 2021-Q4 (the same Telecompetitor article), and below RDOF's 20 Mbit/s commitment; the later quarterly upload
#: medians were not found offline.
DEMAND_UP_MBPS = 15.0
#: A user beam group's uplink capacity as a fraction of its downlink capacity.  An ASSUMPTION (the beam model of
#: :mod:`leonet.beams` is the downlink's; SpaceX publishes no per-beam uplink figure): 1, the same capacity.
UPLINK_BEAM_FRACTION = 1.0
#: The class of a terminal whose registered class the ``[capacity]`` section does not list (and of every
#: terminal when there is no policy registry): priority 1, no cap, unless the section defines it.
DEFAULT_CLASS = "default"

#: Bottleneck of a terminal's flow (:attr:`SlotCapacity.down_bottleneck`): -2 not served, -1 its demand, else a
#: :class:`leonet.flows.LinkKind`.
NOT_SERVED = -2
DEMAND_LIMITED = -1
#: Bottleneck of a partially jammed terminal's flow held at ``f`` times its unjammed rate (module docstring).
JAMMED = -3


@dataclass(frozen=True)
class CapacitySetup:
    """What :func:`slot_capacity` needs besides the world: per access terminal its demand down / up (Mbit/s)
    and class (index into ``class_names``), the classes, the beam model and the link capacities."""

    demand_down_mbps: NDArray[np.float64]
    demand_up_mbps: NDArray[np.float64]
    service_class: NDArray[np.int64]
    class_names: tuple[str, ...]
    classes: ServiceClasses
    model: BeamModel
    fairness: float = FAIRNESS
    isl_gbps: float = ISL_LASER_GBPS
    feeder_gbps: float = FEEDER_LINK_GBPS
    interval_s: float = 15.0


def setup_of(
    world: World,
    demand_down_mbps: float = DEMAND_DOWN_MBPS,
    demand_up_mbps: float = DEMAND_UP_MBPS,
    beams_per_sat: int = STARLINK_BEAMS_PER_SAT,
    max_beams_per_cell: int = STARLINK_MAX_BEAMS_PER_CELL,
    classes: dict[str, tuple[float, float]] | None = None,
    fairness: float = FAIRNESS,
    isl_gbps: float = ISL_LASER_GBPS,
    feeder_gbps: float = FEEDER_LINK_GBPS,
) -> CapacitySetup:
    """A :class:`CapacitySetup` for ``world``'s access terminals.  ``classes``: name -> (priority, cap Mbit/s,
    ``inf``: none); each terminal's class is its registered one (the policy's registry, ``world.fleet``) when
    listed, else :data:`DEFAULT_CLASS`."""
    if world.access is None:
        raise ValueError("capacity needs the scenario's [access] section")
    n = len(world.access.terminals)
    table = dict(classes or {})
    table.setdefault(DEFAULT_CLASS, (1.0, float("inf")))
    names = tuple(table)
    index = {c: i for i, c in enumerate(names)}
    cls = np.full(n, index[DEFAULT_CLASS], dtype=np.int64)
    if world.fleet is not None and world.policy is not None:
        # the fleet is bound to world.terminals; the access terminals are a subset of them
        pos = np.full(world.ground.size, -1, dtype=np.int64)
        pos[world.terminals] = np.arange(len(world.terminals))
        at = pos[world.access.terminals]
        reg = np.where(at >= 0, world.fleet.service_class[np.maximum(at, 0)], -1)
        lut = np.array([index.get(c, index[DEFAULT_CLASS]) for c in world.policy.classes] + [index[DEFAULT_CLASS]])
        cls = lut[np.where(reg >= 0, reg, len(lut) - 1)].astype(np.int64)
    prio = np.array([table[c][0] for c in names], dtype=np.float64)
    cap = np.array([table[c][1] for c in names], dtype=np.float64)
    return CapacitySetup(
        np.full(n, float(demand_down_mbps)),
        np.full(n, float(demand_up_mbps)),
        cls,
        names,
        ServiceClasses(prio, cap),
        BeamModel(beams_per_sat=beams_per_sat, max_beams_per_cell=max_beams_per_cell),
        fairness,
        isl_gbps,
        feeder_gbps,
        float(world.scenario.routing.reconfiguration_interval_s),
    )


def capacity_setup(world: World) -> CapacitySetup:
    """:func:`setup_of` with the scenario's ``[capacity]`` section (none: every default)."""
    from leonet.scenario import CapacitySpec

    c = world.scenario.capacity or CapacitySpec()
    classes = {n: (k.priority, float("inf") if k.cap_mbps is None else k.cap_mbps) for n, k in c.classes.items()}
    return setup_of(
        world,
        c.demand_down_mbps,
        c.demand_up_mbps,
        c.beams_per_sat,
        c.max_beams_per_cell,
        classes,
        isl_gbps=ISL_LASER_GBPS if c.isl_gbps is None else c.isl_gbps,
        feeder_gbps=FEEDER_LINK_GBPS if c.feeder_gbps is None else c.feeder_gbps,
    )


@dataclass(frozen=True)
class SlotCapacity:
    """One slot's capacity.  Per access terminal (N): ``allowed`` by the policy, ``cell`` (index into
    ``cells``), ``serving_sat`` (the scheduler's, -1: none), ``paths`` (the access paths with that assignment),
    ``beam`` (its user beam group, -1: none), demand and allocated rate down / up (Mbit/s), the bottleneck of
    each direction (:data:`NOT_SERVED`, :data:`DEMAND_LIMITED`, :data:`JAMMED` or a :class:`LinkKind`), the
    share of its user link's capacity jamming leaves it (``capacity_fraction``: 1 outside every active zone, 0
    blocked), whether the policy alone ``permitted`` it (faults aside; ``allowed`` is that less the terminals a
    fault blocks) and each flow's path
    ``path_offsets`` / ``path_nodes`` (terminal, satellites, gateway; node ids of the module docstring).  Per
    link of ``layout``: capacity (left to carry bits: module docstring, jamming) and load (Gbit/s).
    ``incidence`` and ``rate_gbps``: the flows (2N: down, then up) and their rates."""

    t_s: float
    n_sats: int
    allowed: NDArray[np.bool_]
    cells: NDArray[np.uint64]
    cell: NDArray[np.int32]
    serving_sat: NDArray[np.int32]
    paths: AccessPaths
    beam: NDArray[np.int64]
    demand_down_mbps: NDArray[np.float64]
    demand_up_mbps: NDArray[np.float64]
    down_mbps: NDArray[np.float64]
    up_mbps: NDArray[np.float64]
    down_bottleneck: NDArray[np.int64]
    up_bottleneck: NDArray[np.int64]
    #: the link that bottlenecks each direction (link id of ``layout``; -1: none)
    down_bottleneck_link: NDArray[np.int64]
    up_bottleneck_link: NDArray[np.int64]
    path_offsets: NDArray[np.int64]
    path_nodes: NDArray[np.int64]
    layout: LinkLayout
    capacity_gbps: NDArray[np.float64]
    load_gbps: NDArray[np.float64]
    incidence: sp.csr_array
    rate_gbps: NDArray[np.float64]
    beam_cell: NDArray[np.int32]
    sat_r_km: NDArray[np.float64]
    gateway_r_km: NDArray[np.float64]
    capacity_fraction: NDArray[np.float64]
    permitted: NDArray[np.bool_]

    @property
    def utilisation(self) -> NDArray[np.float64]:
        with np.errstate(divide="ignore", invalid="ignore"):
            out: NDArray[np.float64] = np.where(self.capacity_gbps > 0, self.load_gbps / self.capacity_gbps, np.nan)
        return out


def satellite_paths(
    paths: AccessPaths,
    n_sats: int,
    isl: NDArray[np.int32],
    isl_km: NDArray[np.float64],
    isl_speed_fraction: float = 1.0,
    sat_processing_ms: float = 0.0,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The satellites of each served access path, serving satellite first and down satellite last, as ragged
    ``(offsets (N + 1,), satellite ids)`` (unserved terminals: empty): a shortest path over the laser links
    (delay km / c / fraction + processing per hop, the access search's weights) from the down satellite, one
    scipy Dijkstra per distinct down satellite, read back for all terminals at once, one hop per step."""
    n = len(paths.serving_sat)
    served = np.flatnonzero(paths.served)
    lengths = np.zeros(n, dtype=np.int64)
    if not len(served):
        return np.zeros(n + 1, dtype=np.int64), np.empty(0, dtype=np.int64)
    w = isl_km / (C_KM_S * isl_speed_fraction) * 1e3 + sat_processing_ms
    a, b = isl[:, 0].astype(np.int64), isl[:, 1].astype(np.int64)
    graph = sp.csr_array((np.r_[w, w], (np.r_[a, b], np.r_[b, a])), shape=(n_sats, n_sats))
    down = paths.down_sat[served].astype(np.int64)
    sources, row = np.unique(down, return_inverse=True)
    _, pred = dijkstra(graph, directed=True, indices=sources, return_predecessors=True)
    cur = paths.serving_sat[served].astype(np.int64)
    hops: list[NDArray[np.int64]] = [cur]
    at = cur
    for _ in range(n_sats):  # one step per hop, all paths at once
        more = at != down
        if not more.any():
            break
        nxt = np.where(more, pred[row, at], at)
        if (nxt < 0).any():
            raise ValueError("satellite_paths: a down satellite is not reachable over the laser links")
        hops.append(np.where(more, nxt, -1))
        at = nxt
    steps = np.stack(hops, axis=1)  # (served, max hops + 1), -1 after the end
    lengths[served] = (steps >= 0).sum(axis=1)
    off = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=off[1:])
    return off, steps[steps >= 0]


@dataclass(frozen=True)
class SchedulerSlot:
    """The scheduler's slot for the access terminals (:func:`slot_assignment`): per terminal whether the
    policy allows it and its cell (index into ``cells.cells``), and the assignment."""

    t_s: float
    allowed: NDArray[np.bool_]
    cell: NDArray[np.int32]
    cells: CellDemand
    assignment: SlotAssignment

    @property
    def serving_sat(self) -> NDArray[np.int32]:
        return self.assignment.serving_sat


def slot_assignment(
    world: World,
    net_index: int,
    t_s: float,
    spec: CapacitySetup,
    allowed_ground: NDArray[np.bool_] | None,
    failed: NDArray[np.bool_] | None,
    ground: GroundState,
) -> SchedulerSlot:
    """The beam scheduler's assignment of ``world.access``'s terminals for the slot starting at ``t_s``: the
    one call both :func:`slot_capacity` and the run's access rows (:mod:`leonet.slot_access`) make.
    ``allowed_ground`` (G,): the ground nodes that may link at ``t_s`` (the policy's decisions less the nodes a
    fault takes off; None: all); ``failed`` (S,): satellites failed at ``t_s`` (None: none), never assigned;
    ``ground``: the ground nodes at ``t_s`` (T = 1).  Visibility at the slot's edge and end
    (:func:`leonet.scheduler.cell_visibility`), then :func:`leonet.scheduler.schedule_slot`."""
    setup = world.access
    if setup is None:
        raise ValueError("the scheduler needs the scenario's [access] section")
    net = world.networks[net_index]
    term = setup.terminals
    N = len(term)
    allowed = np.ones(N, dtype=bool) if allowed_ground is None else np.asarray(allowed_ground)[term].copy()
    r, up = ground.ecef_km[0][term], ground.up[0][term]
    cd = aggregate_demand(cells_of(ground.lat_deg[0][term], ground.lon_deg[0][term]), 0.0)
    cell = cd.terminal_cell
    edges = positions_at(net, world, np.array([t_s, t_s + spec.interval_s]))
    if failed is not None:
        edges = np.where(np.asarray(failed)[None, :, None], np.nan, edges)
    mask = min_elevations(net, world.ground)[term]
    act = active_terminals(cell, spec.demand_down_mbps, allowed, spec.service_class, spec.classes)
    geom = cell_geometry(r, up, mask, cell, act, cd.n_cells)
    vis = cell_visibility(edges, geom)
    a = schedule_slot(
        vis, cell, spec.demand_down_mbps, allowed, spec.service_class, spec.classes, spec.model, spec.fairness
    )
    return SchedulerSlot(float(t_s), allowed, cell, cd, a)


def slot_capacity(world: World, net_index: int, t_s: float, spec: CapacitySetup) -> SlotCapacity:
    """The capacity of network ``net_index`` in the slot starting at ``t_s`` (module docstring)."""
    setup = world.access
    if setup is None:
        raise ValueError("capacity needs the scenario's [access] section")
    net = world.networks[net_index]
    term = setup.terminals
    N, S, W = len(term), net.n_sats, setup.ground.gateways.size
    st = state_at(world, net_index, t_s)
    failed = st.faults.sats[0] if st.faults is not None else np.zeros(S, dtype=bool)
    sat_r = np.where(failed[:, None], np.nan, st.sat_r_km)
    by_policy = allowed_mask(world, net, st.decisions)
    permitted = np.ones(N, dtype=bool) if by_policy is None else by_policy[0][term]
    frac = np.ones(N) if st.faults is None else st.faults.capacity[0][term].astype(np.float64)
    g = st.ground
    sa = slot_assignment(world, net_index, t_s, spec, st.allowed, failed, g)
    allowed, cell, cd, a = sa.allowed, sa.cell, sa.cells, sa.assignment
    serving = a.serving_sat
    # the access paths through the scheduler's satellites
    ground_allowed = None if st.allowed is None else st.allowed
    fs = world.faults_of(net_index)
    down = frozenset() if fs is None else fs.names_down(float(t_s))  # gateways and PoPs a fault took down
    paths = access_table.snapshot_paths(
        world, net, sat_r, g.ecef_km[0], g.up[0], st.snapshot.isl, st.snapshot.isl_km, ground_allowed,
        serving_sat=serving, down=down,
    )  # fmt: skip
    params = access_table.network_params(setup, net)
    s_off, s_nod = satellite_paths(
        paths, S, st.snapshot.isl, st.snapshot.isl_km, params.isl_speed_fraction, params.sat_processing_ms
    )
    # flows' paths: terminal node, satellites, gateway node
    served = paths.served
    n_sat_hops = np.diff(s_off)
    lengths = np.where(served, n_sat_hops + 2, 0)
    off = np.zeros(N + 1, dtype=np.int64)
    np.cumsum(lengths, out=off[1:])
    nodes = np.full(int(off[-1]), -1, dtype=np.int64)  # every entry is written below; -1 would show a gap
    first = off[:-1][served]
    nodes[first] = S + W + np.flatnonzero(served)
    row = np.repeat(np.arange(N), n_sat_hops)
    nodes[off[:-1][row] + 1 + (np.arange(len(s_nod)) - s_off[:-1][row])] = s_nod
    nodes[off[1:][served] - 1] = S + paths.gateway[served]
    # user beam groups: the scheduler's (satellite, cell) groups; each terminal on its satellite's group
    n_cells = max(cd.n_cells, 1)
    key = a.beam_sat.astype(np.int64) * n_cells + a.beam_cell
    order = np.argsort(key)
    want = serving.astype(np.int64) * n_cells + cell
    pos = np.minimum(np.searchsorted(key[order], want), max(len(key) - 1, 0))
    hit = (serving >= 0) & (len(key) > 0)
    if len(key):
        hit &= key[order][pos] == want
    beam = np.where(hit, order[pos] if len(key) else -1, -1).astype(np.int64)
    feeder = np.unique(np.stack([S + paths.gateway[served], paths.down_sat[served]], axis=1).astype(np.int64), axis=0)
    layout = LinkLayout.build(a.beam_sat, st.snapshot.isl, feeder.reshape(-1, 2))
    beam_gbps = a.beam_count * a.beam_capacity_mbps / 1e3
    cap = layout.capacities(beam_gbps, beam_gbps * UPLINK_BEAM_FRACTION, spec.isl_gbps, spec.feeder_gbps)
    cls_cap = spec.classes.cap_mbps[spec.service_class]
    dem_down = np.where(allowed, np.minimum(spec.demand_down_mbps, cls_cap), 0.0)
    dem_up = np.where(allowed, np.minimum(spec.demand_up_mbps, cls_cap), 0.0)
    take = allowed & served & (beam >= 0)
    flows = terminal_pop_demands(layout, off, nodes, beam, dem_down / 1e3, dem_up / 1e3, served=take, n_nodes=S + W + N)
    weights = np.tile(spec.classes.priority[spec.service_class], 2)
    alloc = max_min_fair(flows.incidence, cap, flows.demand_gbps, weights)
    held = np.zeros(2 * N, dtype=bool)
    jam = take & (frac < 1.0)
    if jam.any():  # partially jammed terminals (module docstring): a second allocation
        alloc, cap, held = _jammed_allocation(flows.incidence, cap, flows.demand_gbps, weights, alloc, beam, frac,
                                              jam, layout.n_beams)  # fmt: skip
    # a flow's bottleneck link's kind; -1 (no saturated link) picks the appended DEMAND_LIMITED (and works
    # when there is no link at all, every satellite failed)
    kind = np.append(layout.kind.astype(np.int64), DEMAND_LIMITED)
    bott = kind[alloc.bottleneck]
    bott = np.where(held, JAMMED, bott)
    bott = np.where(np.tile(take, 2), bott, NOT_SERVED)
    return SlotCapacity(
        t_s=float(t_s),
        n_sats=S,
        allowed=allowed,
        cells=cd.cells,
        cell=cell,
        serving_sat=serving,
        paths=paths,
        beam=beam,
        demand_down_mbps=dem_down,
        demand_up_mbps=dem_up,
        down_mbps=alloc.rate_gbps[:N] * 1e3,
        up_mbps=alloc.rate_gbps[N:] * 1e3,
        down_bottleneck=bott[:N],
        up_bottleneck=bott[N:],
        down_bottleneck_link=np.where(np.tile(take, 2), alloc.bottleneck, -1)[:N],
        up_bottleneck_link=np.where(np.tile(take, 2), alloc.bottleneck, -1)[N:],
        path_offsets=off,
        path_nodes=nodes,
        layout=layout,
        capacity_gbps=cap,
        load_gbps=alloc.load_gbps,
        incidence=flows.incidence,
        rate_gbps=alloc.rate_gbps,
        beam_cell=a.beam_cell,
        sat_r_km=sat_r,
        gateway_r_km=setup.ground.gateways.ecef_km,
        capacity_fraction=frac,
        permitted=permitted,
    )


def _jammed_allocation(
    incidence: sp.csr_array,
    cap: NDArray[np.float64],
    demand_gbps: NDArray[np.float64],
    weights: NDArray[np.float64],
    free: Allocation,
    beam: NDArray[np.int64],
    frac: NDArray[np.float64],
    jam: NDArray[np.bool_],
    n_beams: int,
) -> tuple[Allocation, NDArray[np.float64], NDArray[np.bool_]]:
    """The allocation with the terminals ``jam`` partially jammed (module docstring), from ``free``, the one
    without jamming: each of their flows (down ``i``, up ``N + i``) capped at ``frac r0`` and its beam link (down
    ``beam``, up ``n_beams + beam``) lowered by ``(1 - frac) r0``.  Returns the allocation, the capacities it
    used and the flows held at their cap (whose bottleneck is the jamming)."""
    r0 = free.rate_gbps
    f2 = np.tile(frac, 2)
    jf = np.tile(jam, 2) & (r0 > 0)  # a flow that got nothing keeps nothing to scale (and its bottleneck)
    link = np.concatenate([beam, n_beams + beam])
    lost = np.bincount(link[jf], weights=(1.0 - f2[jf]) * r0[jf], minlength=len(cap))
    cap2 = np.maximum(cap - lost, 0.0)
    dem2 = np.where(jf, f2 * r0, demand_gbps)
    alloc = max_min_fair(incidence, cap2, dem2, weights)
    held = jf & (alloc.bottleneck < 0)
    return alloc, cap2, held


def slot_edges(world: World, interval_s: float) -> NDArray[np.float64]:
    """The edges (s) of the reconfiguration slots the window's snapshots fall in."""
    return np.unique(slot_of(world.times_s, "reconfig", interval_s)).astype(np.float64) * interval_s


_BOTTLENECK_NAMES = {
    JAMMED: "jammed",
    NOT_SERVED: "not served",
    DEMAND_LIMITED: "demand",
    **dict(enumerate(LINK_KIND_NAMES)),
}


def _names(codes: NDArray[np.int64]) -> pa.DictionaryArray:
    keys = sorted(_BOTTLENECK_NAMES)
    idx = np.searchsorted(keys, codes).astype(np.int32)
    return pa.DictionaryArray.from_arrays(pa.array(idx), pa.array([_BOTTLENECK_NAMES[k] for k in keys]))


def _dict(idx: ArrayLike, names: tuple[str, ...] | list[str]) -> pa.DictionaryArray:
    i = np.asarray(idx, dtype=np.int32)
    return pa.DictionaryArray.from_arrays(pa.array(i, type=pa.int32(), mask=i < 0), pa.array(list(names)))


def throughput_rows(world: World, net_index: int, sc: SlotCapacity) -> pa.Table:
    """One row per access terminal of the slot: network, t_s, terminal, allowed, serving_sat, gateway, pop,
    rtt_ms, demand and throughput down / up (Mbit/s) and each direction's bottleneck."""
    setup = world.access
    assert setup is not None
    N = len(sc.serving_sat)
    p = sc.paths
    rtt = p.rtt_ms
    return pa.table(
        {
            "network": _dict(np.zeros(N), [world.networks[net_index].spec.name]),
            "t_s": pa.array(np.full(N, sc.t_s)),
            "terminal": _dict(np.arange(N), [world.ground.names[i] for i in setup.terminals]),
            "allowed": pa.array(sc.allowed),
            "serving_sat": pa.array(sc.serving_sat, mask=sc.serving_sat < 0),
            "gateway": _dict(np.where(p.served, p.gateway, -1), setup.ground.gateways.names),
            "pop": _dict(np.where(p.served, p.pop, -1), setup.ground.pops.names),
            "rtt_ms": pa.array(rtt, mask=~np.isfinite(rtt)),
            "demand_down_mbps": pa.array(sc.demand_down_mbps),
            "demand_up_mbps": pa.array(sc.demand_up_mbps),
            "down_mbps": pa.array(sc.down_mbps),
            "up_mbps": pa.array(sc.up_mbps),
            "down_bottleneck": _names(sc.down_bottleneck),
            "up_bottleneck": _names(sc.up_bottleneck),
            "down_bottleneck_link": pa.array(sc.down_bottleneck_link, mask=sc.down_bottleneck_link < 0),
            "up_bottleneck_link": pa.array(sc.up_bottleneck_link, mask=sc.up_bottleneck_link < 0),
        }
    )


def link_rows(world: World, net_index: int, sc: SlotCapacity) -> pa.Table:
    """One row per directional link of the slot: network, t_s, link id, kind, endpoints ``u`` / ``v`` (node
    ids; a beam's terminal side null) with the beam's ``cell`` (H3 id, beams only), the sub-satellite / gateway
    positions of the ends (deg; a beam: its satellite's at both), load, capacity (Gbit/s) and utilisation."""
    from leonet.geodesy import ecef_to_geodetic

    lay = sc.layout
    L = lay.n_links
    u, v = lay.endpoints
    kind = lay.kind
    nodes_r = np.concatenate([sc.sat_r_km, sc.gateway_r_km])
    lat, lon, _ = ecef_to_geodetic(nodes_r) if len(nodes_r) else (np.empty(0), np.empty(0), None)
    end_u = np.where(u >= 0, u, v)
    end_v = np.where(v >= 0, v, u)
    beams = np.r_[np.arange(lay.n_beams), np.arange(lay.n_beams)]
    cell = np.zeros(L, dtype=np.uint64)
    cell[: 2 * lay.n_beams] = sc.cells[sc.beam_cell[beams]] if lay.n_beams else cell[:0]
    util = sc.utilisation
    return pa.table(
        {
            "network": _dict(np.zeros(L), [world.networks[net_index].spec.name]),
            "t_s": pa.array(np.full(L, sc.t_s)),
            "link": pa.array(np.arange(L, dtype=np.int64)),
            "kind": _dict(kind, list(LINK_KIND_NAMES)),
            "u": pa.array(u, mask=u < 0),
            "v": pa.array(v, mask=v < 0),
            "cell": pa.array(cell, mask=kind > LinkKind.USER_UP),
            "lat0_deg": pa.array(np.asarray(lat)[end_u] if L else np.empty(0)),
            "lon0_deg": pa.array(np.asarray(lon)[end_u] if L else np.empty(0)),
            "lat1_deg": pa.array(np.asarray(lat)[end_v] if L else np.empty(0)),
            "lon1_deg": pa.array(np.asarray(lon)[end_v] if L else np.empty(0)),
            "load_gbps": pa.array(sc.load_gbps),
            "capacity_gbps": pa.array(sc.capacity_gbps),
            "utilisation": pa.array(util, mask=~np.isfinite(util)),
        }
    )


@dataclass(frozen=True)
class CapacityTables:
    """:func:`capacity_over_window`'s tables: ``throughput`` (per slot and terminal), ``links`` (per slot and
    link) and ``gateways`` (per slot and gateway: load down / up, Gbit/s)."""

    throughput: pa.Table
    links: pa.Table
    gateways: pa.Table


def gateway_rows(world: World, net_index: int, sc: SlotCapacity) -> pa.Table:
    """Per gateway of ``world.access``: the load of its feeders, down (gateway -> satellites: to the users) and
    up (Gbit/s), and the number of feeder links it uses."""
    setup = world.access
    assert setup is not None
    W = setup.ground.gateways.size
    lay = sc.layout
    gw = lay.feeder[:, 0] - sc.n_sats
    f0 = lay.feeder_start
    k = np.arange(len(lay.feeder))
    down = np.bincount(gw, sc.load_gbps[f0 + 2 * k], minlength=W) if len(k) else np.zeros(W)
    up = np.bincount(gw, sc.load_gbps[f0 + 2 * k + 1], minlength=W) if len(k) else np.zeros(W)
    return pa.table(
        {
            "network": _dict(np.zeros(W), [world.networks[net_index].spec.name]),
            "t_s": pa.array(np.full(W, sc.t_s)),
            "gateway": _dict(np.arange(W), setup.ground.gateways.names),
            "feeders": pa.array(np.bincount(gw, minlength=W).astype(np.int64)),
            "down_load_gbps": pa.array(down.astype(np.float64)),
            "up_load_gbps": pa.array(up.astype(np.float64)),
        }
    )


def capacity_over_window(
    world: World, spec: CapacitySetup, progress: Callable[[int], object] | None = None
) -> tuple[CapacityTables, list[SlotCapacity]]:
    """:func:`slot_capacity` at every slot edge of the window, every network: the tables (rows in (network,
    slot) order) and the slots themselves.  ``progress``: called with 1 after each slot."""
    thr, links, gws, slots = [], [], [], []
    edges = slot_edges(world, spec.interval_s)
    for i in range(len(world.networks)):
        for t in edges:  # one per slot (a window holds a few)
            sc = slot_capacity(world, i, float(t), spec)
            slots.append(sc)
            thr.append(throughput_rows(world, i, sc))
            links.append(link_rows(world, i, sc))
            gws.append(gateway_rows(world, i, sc))
            if progress is not None:
                progress(1)
    return (
        CapacityTables(
            pa.concat_tables(thr).unify_dictionaries(),
            pa.concat_tables(links).unify_dictionaries(),
            pa.concat_tables(gws).unify_dictionaries(),
        ),
        slots,
    )


def summary(tables: CapacityTables) -> pa.Table:
    """Per network: slots, terminal-slots, the share denied by the policy, and over the allowed terminal-slots
    the median and 5th percentile throughput down / up (Mbit/s; linear interpolation, as ``numpy.percentile``)
    and the share of their demand served (sum of rates over sum of demands), down and up."""
    import duckdb

    con = duckdb.connect()
    try:
        con.register("thr", tables.throughput)
        got = con.execute(
            "SELECT network::VARCHAR, count(DISTINCT t_s), count(*), avg((NOT allowed)::DOUBLE),"
            " quantile_cont(down_mbps, 0.5) FILTER (WHERE allowed), quantile_cont(down_mbps, 0.05) FILTER"
            " (WHERE allowed), quantile_cont(up_mbps, 0.5) FILTER (WHERE allowed), quantile_cont(up_mbps, 0.05)"
            " FILTER (WHERE allowed), sum(down_mbps) / nullif(sum(demand_down_mbps), 0), sum(up_mbps) /"
            " nullif(sum(demand_up_mbps), 0) FROM thr GROUP BY 1 ORDER BY 1"
        ).fetchall()
    finally:
        con.close()
    names = ["network", "slots", "terminal_slots", "denied_share", "down_median_mbps", "down_p5_mbps",
             "up_median_mbps", "up_p5_mbps", "down_served_share", "up_served_share"]  # fmt: skip
    types = [pa.string(), pa.int64(), pa.int64()] + [pa.float64()] * 7
    cols: list[tuple[object, ...]] = list(zip(*got, strict=True)) if got else [() for _ in names]
    return pa.table([pa.array(list(c), type=t) for c, t in zip(cols, types, strict=True)], names=names)


def top_bottlenecks(tables: CapacityTables, top: int = 5) -> pa.Table:
    """The links that bottleneck the most flows over the window (a link is its kind and node pair, and a
    beam its satellite and cell): network, kind, u, v, cell, flows (terminal-direction-slots bottlenecked on
    it) and its mean utilisation over the slots it bottlenecked."""
    import duckdb

    con = duckdb.connect()
    try:
        con.register("thr", tables.throughput)
        con.register("links", tables.links)
        got = con.execute(
            "WITH b AS (SELECT network::VARCHAR AS network, t_s, down_bottleneck_link AS link FROM thr"
            " WHERE down_bottleneck_link IS NOT NULL UNION ALL SELECT network::VARCHAR, t_s, up_bottleneck_link"
            " FROM thr WHERE up_bottleneck_link IS NOT NULL)"
            " SELECT b.network, l.kind::VARCHAR AS kind, l.u, l.v, l.cell, count(*) AS flows,"
            " avg(l.utilisation) AS utilisation FROM b JOIN links l ON l.network::VARCHAR = b.network"
            " AND l.t_s = b.t_s AND l.link = b.link GROUP BY ALL ORDER BY flows DESC, kind, l.u, l.v LIMIT ?",
            [top],
        ).arrow()
    finally:
        con.close()
    return got.read_all() if hasattr(got, "read_all") else got
