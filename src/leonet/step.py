"""The pure step: everything at one time ``t`` (or a few), the very values the run uses.

``positions_at`` (SGP4 -> ECEF), ``snapshot`` (links and routing graph of one snapshot), ``decide`` (the policy's
decisions over some snapshots, continuing a :class:`~leonet.policy.PolicyCarry`), and :func:`state_at`, which
puts them together for any ``t`` (``Results.positions`` / ``links`` and the server use it).  No I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from leonet.assembly import Network, World
from leonet.constants import C_KM_S
from leonet.geodesy import geodesic_km
from leonet.ground import GroundNodes, GroundState
from leonet.orbits.propagate import positions_itrf_km
from leonet.policy import Decisions, PolicyCarry, evaluate_chunk, looks_back
from leonet.routing import Graph, build_graph
from leonet.timebase import julian_dates
from leonet.topology import GroundLinks, ground_links, isl_lengths_km

if TYPE_CHECKING:
    from leonet.chunk import Carry

#: Policy decisions are evaluated in blocks of terminals of about this many (snapshot, terminal) cells.
DECIDE_CELLS = 4_000_000
#: Snapshots per block of the decisions-only pass that builds a policy carry (:func:`policy_carry_at`).
HISTORY_BLOCK = 256


@dataclass(frozen=True)
class Snapshot:
    """The links of one snapshot of one network."""

    t_s: float
    sat_r_km: NDArray[np.float64]
    isl: NDArray[np.int32]
    isl_km: NDArray[np.float64]
    gsl: GroundLinks
    graph: Graph
    #: per ground link, the fraction of its capacity left by jamming (1: full; None: no jamming zone is
    #: active); for the throughput model, which scales each user link's capacity by it
    gsl_capacity: NDArray[np.float64] | None = None


@dataclass(frozen=True)
class FaultMasks:
    """The faults of one network at T snapshots (:func:`fault_masks`): failed satellites (T, S), failed ISLs
    (T, L) over ``Network.isl``, ground nodes without links (T, G: down, or jammed to capacity 0), the
    capacity fraction left to each ground node's links (T, G), and per terminal (T, N, ``World.terminals``
    order) the jamming fault that blocks it (index into ``FaultSchedule.names``; -1: not blocked)."""

    sats: NDArray[np.bool_]
    isls: NDArray[np.bool_]
    ground_off: NDArray[np.bool_]
    capacity: NDArray[np.float64]
    jam_fault: NDArray[np.int32]

    def at(self, k: int) -> FaultMasks:
        """Snapshot ``k`` alone (T = 1)."""
        sl = slice(k, k + 1)
        return FaultMasks(self.sats[sl], self.isls[sl], self.ground_off[sl], self.capacity[sl], self.jam_fault[sl])


def fault_masks(world: World, net_index: int, times_s: NDArray[np.float64], gst: GroundState) -> FaultMasks | None:
    """The faults of network ``net_index`` at ``times_s`` (``gst``: the ground nodes there), or None when the
    scenario has none.  Jamming hits terminals only (``leonet.faults``)."""
    fs = world.faults_of(net_index)
    if fs is None or fs.empty:
        return None
    net = world.networks[net_index]
    terms = world.terminals
    jam = fs.jammed(times_s, gst.lat_deg[:, terms], gst.lon_deg[:, terms])
    off = fs.ground_node_down(times_s)
    off[:, terms] |= jam.blocked
    cap = np.ones(off.shape, dtype=np.float64)
    cap[:, terms] = jam.capacity_fraction
    return FaultMasks(
        fs.failed_sats(times_s),
        fs.failed_isls(times_s, net.isl),
        off,
        cap,
        np.where(jam.blocked, jam.fault, -1).astype(np.int32),
    )


def with_faults(allowed: NDArray[np.bool_] | None, masks: FaultMasks | None) -> NDArray[np.bool_] | None:
    """The (T, G) mask of nodes that may have ground links: the policy's ``allowed`` less the nodes the faults
    take off (None: all may)."""
    if masks is None:
        return allowed
    return ~masks.ground_off if allowed is None else allowed & ~masks.ground_off


def min_elevations(net: Network, ground: GroundNodes) -> NDArray[np.float64]:
    return np.where(np.isnan(ground.min_elevation_deg), net.spec.min_elevation_deg, ground.min_elevation_deg)


def positions_at(net: Network, world: World, times_s: NDArray[np.float64]) -> NDArray[np.float64]:
    """Earth-fixed satellite positions ``(T, S, 3)`` km at ``times_s`` after the scenario epoch."""
    sc = world.scenario
    jw, jf = julian_dates(sc.epoch, times_s)
    bounds = net.max_r_km if len(net.max_r_km) == net.n_sats else None
    return positions_itrf_km(net.satrecs, jw, jf, sc.dut1_s, bounds)


def snapshot(
    net: Network,
    ground: GroundNodes,
    t_s: float,
    sat_r_km: NDArray[np.float64],
    ground_r_km: NDArray[np.float64],
    ground_up: NDArray[np.float64],
    min_el_deg: NDArray[np.float64],
    allowed: NDArray[np.bool_] | None = None,
    faults: FaultMasks | None = None,
) -> Snapshot:
    """Links and routing graph of one snapshot; ``faults`` (T = 1, :meth:`FaultMasks.at`): its failed
    satellites and ISLs are left out, and the capacity left by jamming is recorded per ground link (the nodes
    the faults take off must already be out of ``allowed``: :func:`with_faults`)."""
    spec = net.spec
    link_r_km = sat_r_km
    if faults is not None and faults.sats[0].any():
        # a failed satellite takes part in no link: as a satellite without a position (below)
        link_r_km = np.where(faults.sats[0][:, None], np.nan, sat_r_km)
    isl_km = isl_lengths_km(link_r_km, net.isl)
    # a satellite without a position (SGP4 failed, or physically impossible: NaN) takes part in no link
    keep = np.isfinite(isl_km)
    if spec.max_isl_km is not None:
        keep &= isl_km <= spec.max_isl_km
    if faults is not None:
        keep &= ~faults.isls[0]
    isl, isl_km = net.isl[keep], isl_km[keep]
    gsl = ground_links(link_r_km, ground_r_km, ground_up, min_el_deg, spec.max_ground_link_km, allowed)
    transit = ground.is_gateway if spec.isl == "none" else None
    graph = build_graph(
        net.n_sats,
        ground.size,
        isl,
        isl_km / (C_KM_S * spec.isl_speed_fraction) * 1e3,
        gsl.ground,
        gsl.sat,
        gsl.length_km / (C_KM_S * spec.ground_link_speed_fraction) * 1e3,
        transit,
        ground_r_km,
    )
    cap = None
    if faults is not None and (faults.capacity[0] < 1.0).any():
        cap = faults.capacity[0][gsl.ground]
    return Snapshot(t_s, sat_r_km, isl, isl_km, gsl, graph, cap)


def pair_gc_km(world: World, st: GroundState) -> NDArray[np.float64]:
    """Geodesic distance of each pair at each snapshot of ``st``, (T, P); pairs at rest keep ``gc_km``."""
    gc = np.broadcast_to(world.gc_km, (len(st.lat_deg), len(world.src))).copy()
    if world.ground.tracks is not None:
        mov = np.isin(world.src, world.ground.moving) | np.isin(world.dst, world.ground.moving)
        if mov.any():
            s, d = world.src[mov], world.dst[mov]
            gc[:, mov] = geodesic_km(st.lat_deg[:, s], st.lon_deg[:, s], st.lat_deg[:, d], st.lon_deg[:, d])
    return gc


def decide(
    world: World, times_s: NDArray[np.float64], carry: PolicyCarry | None
) -> tuple[Decisions | None, PolicyCarry | None]:
    """The policy's decisions for every terminal at ``times_s`` (T, N), continuing ``carry`` (the history before
    ``times_s[0]``; None: ``times_s[0]`` is the window's first snapshot), and the carry after them.  Evaluated in
    blocks of terminals of about :data:`DECIDE_CELLS` cells.  (None, None) without a policy."""
    policy, fleet = world.policy, world.fleet
    if policy is None or fleet is None:
        return None, None
    T, N = len(times_s), len(world.terminals)
    block = max(1, DECIDE_CELLS // max(T, 1))
    lat, lon, alt, speed = world.ground.geodetic_at(times_s)  # no ECEF positions: the policy needs none
    parts: list[Decisions] = []
    carries: list[PolicyCarry | None] = []
    for n0 in range(0, max(N, 1), block):
        cols = world.terminals[n0 : n0 + block]
        sl = slice(n0, n0 + block)
        d, c = evaluate_chunk(
            policy,
            fleet.take(sl),
            times_s,
            world.scenario.epoch,
            lat[:, cols],
            lon[:, cols],
            alt[:, cols],
            speed[:, cols],
            None if carry is None else carry.take(sl),
        )
        parts.append(d)
        carries.append(c)
        if N == 0:
            break
    # None after no snapshots at the window's start: the next chunk still starts the window
    given = [c for c in carries if c is not None]
    out_carry = PolicyCarry(np.concatenate([c.abroad_since_s for c in given])) if len(given) == len(carries) else None
    if len(parts) == 1:
        return parts[0], out_carry
    p0 = parts[0]
    merged = Decisions(
        np.concatenate([p.terminal_ids for p in parts]),
        p0.t_s,
        np.concatenate([p.served for p in parts], axis=1),
        np.concatenate([p.rule for p in parts], axis=1),
        p0.rule_ids,
        p0.reasons,
        np.concatenate([p.country for p in parts], axis=1),
        p0.country_codes,
    )
    return merged, out_carry


def policy_carry_at(world: World, k: int) -> PolicyCarry | None:
    """The policy carry for a chunk starting at snapshot ``k``: a decisions-only pass over snapshots ``0..k-1``
    (in blocks of :data:`HISTORY_BLOCK`), skipped when no rule looks back in time (the carry is then unused).
    None for ``k = 0`` (the window's start)."""
    return policy_history(world, [k])[k]


def policy_history(world: World, ks: Sequence[int]) -> dict[int, PolicyCarry | None]:
    """The policy carries at each of the snapshot indices ``ks``, from one decisions-only pass over the window
    up to the largest (what a parallel runner computes once, instead of :func:`policy_carry_at` per chunk)."""
    out: dict[int, PolicyCarry | None] = {k: None for k in ks}
    if world.policy is None or not looks_back(world.policy):
        return out
    want = sorted({k for k in ks if k > 0})
    carry: PolicyCarry | None = None
    at = 0
    for k in want:
        for b0 in range(at, k, HISTORY_BLOCK):
            _, carry = decide(world, world.times_s[b0 : min(k, b0 + HISTORY_BLOCK)], carry)
        at = k
        out[k] = carry
    return out


def allowed_mask(world: World, net: Network, decisions: Decisions | None) -> NDArray[np.bool_] | None:
    """(T, G): which ground nodes may have ground links at the decisions' snapshots (None: all may)."""
    if decisions is None or not net.spec.policy:
        return None
    out = np.ones((len(decisions.t_s), world.ground.size), dtype=bool)
    out[:, world.terminals] = decisions.served
    return out


@dataclass(frozen=True)
class State:
    """Everything at one time ``t_s`` of one network: satellite positions (S, 3) km, the ground nodes
    (:class:`~leonet.ground.GroundState` with T = 1), the links and graph, and the policy's decisions (None
    without a policy) and the resulting ``allowed`` mask (G,) (None: every node may link)."""

    t_s: float
    sat_r_km: NDArray[np.float64]
    ground: GroundState
    snapshot: Snapshot
    decisions: Decisions | None
    allowed: NDArray[np.bool_] | None
    #: the faults at ``t_s`` (T = 1; None: the scenario has none)
    faults: FaultMasks | None = None


def state_at(world: World, net_index: int, t_s: float, carry: Carry | None = None) -> State:
    """The state of network ``net_index`` at any time ``t_s`` (on the snapshot grid or not), exactly as the run
    computes it at its snapshots.  Decisions that look back in time (roaming) use ``carry.policy``, or, without
    a carry, the history of the window's snapshots before ``t_s`` (a decisions-only pass)."""
    net = world.networks[net_index]
    g = world.ground
    t = np.array([t_s], dtype=np.float64)
    if carry is not None:
        pc = carry.policy
    else:
        pc = policy_carry_at(world, int(np.searchsorted(world.times_s, t_s, side="left")))
    decisions, _ = decide(world, t, pc)
    st = g.at(t)
    fm = fault_masks(world, net_index, t, st)
    allowed_all = with_faults(allowed_mask(world, net, decisions), fm)
    allowed = None if allowed_all is None else allowed_all[0]
    sat = positions_at(net, world, t)[0]
    snap = snapshot(net, g, t_s, sat, st.ecef_km[0], st.up[0], min_elevations(net, g), allowed, fm)
    return State(t_s, sat, st, snap, decisions, allowed, fm)
