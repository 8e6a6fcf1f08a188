"""The chunk, the unit of work: snapshots ``k0 <= k < k1`` of one network, from a carry to a carry.

:func:`simulate_chunk` propagates the chunk's snapshots in one SGP4 call, decides the policy for them
(continuing the carry's roaming history), builds each snapshot's links and graph, routes with the
:class:`~leonet.router.Router` from the carry's state, and returns a :class:`ChunkResult`: the routes as one
Arrow record batch, coverage and service as run-lengths (no array over the window), the satellites unusable in
the chunk, and the carry for the next chunk.  No out-arguments, no I/O; everything picklable.

:func:`carry_at` rebuilds the carry a chunk starting at any ``k0`` needs, so chunks can be computed
independently (on other processes or machines, or after a restart) and still equal the serial run row for row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from leonet import access_table
from leonet.access import AccessPaths
from leonet.assembly import World
from leonet.constants import C_KM_S
from leonet.ground import GroundState
from leonet.policy import PolicyCarry
from leonet.router import Router, RouterState, slot_of
from leonet.routes_table import ROUTE_FIELDS, ROUTES_SCHEMA, build_batch
from leonet.runlength import Runs
from leonet.service import status_codes
from leonet.slot_access import HeldServing, serving_at, slot_start, uses_scheduler
from leonet.step import (
    allowed_mask,
    decide,
    fault_masks,
    min_elevations,
    pair_gc_km,
    policy_carry_at,
    positions_at,
    snapshot,
    with_faults,
)
from leonet.topology import ground_links

#: Snapshots per chunk by default (memory: chunk x satellites x 3 x 8 bytes for the positions).
CHUNK = 64


@dataclass(frozen=True)
class Carry:
    """What a chunk needs from the snapshots before it: the router's state (kept paths, slot, previous path
    and end satellites for the handover flags) and the policy's history (roaming; None at the window's start
    or when no rule looks back)."""

    router: RouterState
    policy: PolicyCarry | None
    #: the scheduler's assignment held for the current slot (``[access] serving = "scheduler"``; None: none yet
    #: or not used), :mod:`leonet.slot_access`
    access: HeldServing | None = None


@dataclass(frozen=True)
class ChunkResult:
    """The output of snapshots ``k0 <= k < k1`` of one network.  ``coverage``: runs over ground nodes
    (value 1: at least one ground link); ``service``: runs over the policy's terminals (``World.terminals``
    order) of :func:`leonet.service.status_codes`; ``unusable``: (S,) satellites physically impossible or not
    propagated at a snapshot of the chunk; ``routes``: empty without pairs."""

    network: int
    k0: int
    k1: int
    routes: pa.RecordBatch
    coverage: Runs
    service: Runs
    unusable: NDArray[np.bool_]
    carry: Carry
    #: the access rows of the chunk (:mod:`leonet.access_table`), with ``[access]`` only
    access: pa.RecordBatch | None = None


def initial_carry(world: World) -> Carry:
    """The carry before the window's first snapshot."""
    return Carry(RouterState.initial(len(world.src)), None)


def _router(world: World, state: RouterState) -> Router:
    r = world.scenario.routing
    return Router(world.src, world.dst, r.mode, r.reconfiguration_interval_s, state)


def simulate_chunk(world: World, net_index: int, k0: int, k1: int, carry: Carry) -> ChunkResult:
    """Snapshots ``k0 <= k < k1`` of network ``net_index``, continuing ``carry`` (see the module docstring)."""
    return _simulate(world, net_index, k0, k1, carry, True)


def _simulate(world: World, net_index: int, k0: int, k1: int, carry: Carry, rows: bool) -> ChunkResult:
    """:func:`simulate_chunk`; without ``rows`` (a warm-up), no routes batch is built."""
    net = world.networks[net_index]
    ground = world.ground
    S = net.n_sats
    src, dst = world.src, world.dst
    P = len(src)
    times = world.times_s[k0:k1]
    sat_r = positions_at(net, world, times)
    unusable: NDArray[np.bool_] = np.zeros(S, dtype=bool)
    if len(times):
        unusable = np.asarray(np.isnan(sat_r[..., 0]).any(axis=0), dtype=bool)
    gst = ground.at(times)
    decisions, policy_carry = decide(world, times, carry.policy)
    fm = fault_masks(world, net_index, times, gst)
    fs = world.faults_of(net_index) if world.access is not None else None
    allowed_all = with_faults(allowed_mask(world, net, decisions), fm)
    min_el = min_elevations(net, ground)
    covered = np.zeros((len(times), ground.size), dtype=bool)
    router = _router(world, carry.router)
    batch = pa.RecordBatch.from_pylist([], schema=ROUTES_SCHEMA)
    with_access = world.access is not None and rows
    # the scheduler's held assignment: followed in a warm-up too (the carry needs it)
    sched = uses_scheduler(world)
    held = carry.access
    serving: NDArray[np.int32] | None = None
    acc: list[AccessPaths] = []
    if P == 0:  # coverage and service only: ground links, no graph, no routes
        for k in range(len(times)):
            allowed = allowed_all[k] if allowed_all is not None else None
            link_r = sat_r[k] if fm is None else np.where(fm.sats[k][:, None], np.nan, sat_r[k])  # failed: no link
            gsl = ground_links(link_r, gst.ecef_km[k], gst.up[k], min_el, net.spec.max_ground_link_km, allowed)
            covered[k, gsl.ground] = True
            if sched:
                here = (allowed, None if fm is None else fm.sats[k], GroundState(*(a[k : k + 1] for a in gst)))
                serving, held = serving_at(world, net_index, float(times[k]), gsl, S, held, here)
            if with_access:
                isl, isl_km = access_table.laser_links(net, link_r, None if fm is None else fm.isls[k])
                down = frozenset() if fs is None else fs.names_down(float(times[k]))
                acc.append(
                    access_table.snapshot_paths(
                        world, net, link_r, gst.ecef_km[k], gst.up[k], isl, isl_km, allowed, gsl, serving, down
                    )
                )
    else:
        gc = pair_gc_km(world, gst)
        cols: dict[str, list[NDArray[np.generic]]] = {k: [] for k in ROUTE_FIELDS}
        paths: list[NDArray[np.int32]] = []
        lengths: list[NDArray[np.int64] | None] = []
        for k, t in enumerate(times):
            allowed = allowed_all[k] if allowed_all is not None else None
            fk = None if fm is None else fm.at(k)
            snap = snapshot(net, ground, float(t), sat_r[k], gst.ecef_km[k], gst.up[k], min_el, allowed, fk)
            covered[k, snap.gsl.ground] = True
            if sched:
                here = (allowed, None if fm is None else fm.sats[k], GroundState(*(a[k : k + 1] for a in gst)))
                serving, held = serving_at(world, net_index, float(t), snap.gsl, S, held, here)
            if with_access:  # the snapshot's own links: failed satellites and lasers are out (faults)
                link_r = sat_r[k] if fm is None else np.where(fm.sats[k][:, None], np.nan, sat_r[k])
                down = frozenset() if fs is None else fs.names_down(float(t))
                acc.append(
                    access_table.snapshot_paths(
                        world, net, link_r, gst.ecef_km[k], gst.up[k], snap.isl, snap.isl_km, allowed, snap.gsl,
                        serving, down,
                    )
                )  # fmt: skip
            routes, rerouted, flags = router.step(snap.graph, float(t))
            if not rows:
                continue
            cols["t_s"].append(np.full(P, t))
            cols["src"].append((S + src).astype(np.int32))
            cols["dst"].append((S + dst).astype(np.int32))
            cols["rtt_ms"].append(2.0 * routes.delay_ms)
            cols["one_way_ms"].append(routes.delay_ms)
            cols["hops"].append(routes.hops)
            cols["first_sat"].append(flags.first_sat)
            cols["last_sat"].append(flags.last_sat)
            cols["gc_km"].append(gc[k])
            with np.errstate(divide="ignore", invalid="ignore"):
                cols["stretch"].append(routes.delay_ms / (gc[k] / C_KM_S * 1e3))
            cols["path_changed"].append(flags.path_changed)
            cols["first_sat_changed"].append(flags.first_sat_changed)
            cols["last_sat_changed"].append(flags.last_sat_changed)
            cols["rerouted"].append(rerouted)
            paths.append(routes.path)
            lengths.append(routes.length)
        if len(times) and rows:
            batch = build_batch(net.spec.name, cols, paths, ground.names, src, dst, lengths)
    service = Runs.empty()
    if len(world.terminals):
        jam = None if fm is None else fm.jam_fault
        service = Runs.of(status_codes(covered[:, world.terminals], decisions, net.spec.policy, jam), k0)
    return ChunkResult(
        net_index,
        k0,
        k1,
        batch,
        Runs.of(covered.astype(np.int32), k0),
        service,
        unusable,
        Carry(router.state, policy_carry, held if sched else None),
        access_table.batch_of(world, net, times, acc) if with_access else None,
    )


def warmup_start(world: World, k0: int) -> int:
    """The first snapshot of the routing slot of snapshot ``k0 - 1`` (``k0`` for ``k0 = 0``); with the
    scheduler's held access assignment (:mod:`leonet.slot_access`), the earlier of that and the first snapshot
    of the reconfiguration slot of ``k0 - 1`` (the terminals lost earlier in the slot are part of the carry)."""
    if k0 <= 0:
        return 0
    r = world.scenario.routing
    slots = slot_of(world.times_s[:k0], r.mode, r.reconfiguration_interval_s)
    start = int(np.searchsorted(slots, slots[k0 - 1], side="left"))
    return min(start, slot_start(world, k0 - 1)) if uses_scheduler(world) else start


def carry_at(world: World, net_index: int, k0: int, history: Mapping[int, PolicyCarry | None] | None = None) -> Carry:
    """The carry a chunk of network ``net_index`` starting at snapshot ``k0`` needs, without the chunks before.

    Router: the state after snapshot ``k0 - 1`` is its path, slot and end satellites.  The path at ``k0 - 1``
    is, in reconfig mode, the path kept since the first snapshot of its slot, repaired at every snapshot where
    a hop of it broke: it depends on every snapshot of that slot so far, and is in general not the shortest
    path at ``k0 - 1`` (one snapshot of warm-up is not enough, even for ``k0`` at a slot start, where every pair
    is routed afresh but ``path_changed`` / ``first_sat_changed`` / ``last_sat_changed`` compare with it).  At
    the first snapshot of a slot every pair is routed afresh whatever the state, so the warm-up runs the
    router from the start of the slot of ``k0 - 1`` (:func:`warmup_start`) to ``k0 - 1``: at most one slot of
    snapshots; in ideal mode exactly one snapshot.

    Policy: rules that look back (roaming) need the start of each terminal's current stay abroad, which may be
    anywhere before ``k0``: a decisions-only pass over snapshots ``0..kw-1`` (:func:`leonet.step.policy_carry_at`,
    country look-ups, no orbits), then the warm-up carries it on to ``k0``.  A runner that needs many chunks
    passes ``history`` = :func:`leonet.step.policy_history` at their :func:`warmup_start` (one pass for all)."""
    if k0 <= 0:
        return initial_carry(world)
    kw = warmup_start(world, k0)
    pc = history[kw] if history is not None and kw in history else policy_carry_at(world, kw)
    carry = Carry(RouterState.initial(len(world.src)), pc)
    for a in range(kw, k0, CHUNK):
        carry = _simulate(world, net_index, a, min(k0, a + CHUNK), carry, False).carry
    return carry


def chunk_bounds(world: World, size: int = CHUNK) -> list[tuple[int, int]]:
    """``(k0, k1)`` of consecutive chunks of ``size`` snapshots covering the window."""
    T = len(world.times_s)
    return [(k0, min(T, k0 + size)) for k0 in range(0, T, size)]
