"""The run's serving satellites with ``[access] serving = "scheduler"``: the beam scheduler's assignment, held per
reconfiguration slot (issue 9 §3: the assignment is what the routes use, so handovers happen at slot edges).

At the first snapshot of each reconfiguration slot (``floor(t / interval)``, the slots of
:func:`leonet.router.slot_of` in reconfig mode and of ``leonet capacity``) the run calls
:func:`leonet.capacity.slot_assignment` at the slot's edge ``t_e = floor(t / interval) x interval`` -- the very
call ``leonet capacity`` makes, with the policy's decisions (a denied or jammed terminal gets no satellite) and
the faults (a failed satellite is never assigned) at ``t_e`` -- and holds the assignment for the slot.  When
``t_e`` is a snapshot, its decisions, faults and ground positions are the run's own at that snapshot; otherwise
(a slot edge between snapshots, or before a chunk's first snapshot) they come from :func:`leonet.step.state_at`
at ``t_e``, as ``leonet capacity`` computes them.

**Drop-out rule** (the scheduler's, :mod:`leonet.scheduler`, "Slots"): inside the slot a terminal uses its held
satellite only while the snapshot has that ground link (the satellite above the terminal's mask, not failed, the
terminal allowed and not jammed).  From the first snapshot where the link is missing the terminal is unserved
until the next slot edge: it is not re-assigned (the beams are fixed for the slot), even if the link comes
back.  So ``serving_sat`` changes only at slot edges, or to none inside a slot.

The held state (:class:`HeldServing`: the slot, its assignment, the terminals lost so far) is part of the chunk
carry (:class:`leonet.chunk.Carry`), and :func:`leonet.chunk.carry_at` warms up from the slot's first snapshot,
so any split into chunks gives the serial run's rows.  Pure: no I/O; vectorised over terminals and links.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from leonet.router import slot_of

if TYPE_CHECKING:
    from leonet.assembly import World
    from leonet.ground import GroundState
    from leonet.topology import GroundLinks

#: how close (s) a snapshot must be to its slot's edge to be taken as the edge itself
EDGE_TOLERANCE_S = 1e-6


@dataclass(frozen=True)
class HeldServing:
    """The scheduler's assignment held for one slot: the slot (``floor(t / interval)``), each access terminal's
    assigned satellite (``world.access.terminals`` order; -1: none) and the terminals that lost it earlier in
    the slot (unserved until the next edge)."""

    slot: float
    assigned: NDArray[np.int32]
    lost: NDArray[np.bool_]


def uses_scheduler(world: World) -> bool:
    """Whether the run's access rows take the scheduler's held assignment (``[access] serving = "scheduler"``)."""
    return world.access is not None and world.access.serving == "scheduler"


def interval_s(world: World) -> float:
    return float(world.scenario.routing.reconfiguration_interval_s)


def slot_start(world: World, k: int) -> int:
    """The first snapshot of the reconfiguration slot of snapshot ``k`` (what a chunk starting at ``k + 1``
    must warm up from to rebuild :class:`HeldServing`)."""
    slots = slot_of(world.times_s[: k + 1], "reconfig", interval_s(world))
    return int(np.searchsorted(slots, slots[k], side="left"))


def assign_at_edge(
    world: World,
    net_index: int,
    t_s: float,
    here: tuple[NDArray[np.bool_] | None, NDArray[np.bool_] | None, GroundState] | None,
) -> tuple[float, NDArray[np.int32]]:
    """The slot of snapshot time ``t_s`` and the scheduler's assignment at its edge.  ``here``: the snapshot's
    (allowed ground nodes, failed satellites, ground state with T = 1), used when ``t_s`` is the edge."""
    from leonet.capacity import capacity_setup, slot_assignment  # capacity imports the access table
    from leonet.step import state_at

    iv = interval_s(world)
    slot = float(slot_of(t_s, "reconfig", iv))
    edge = slot * iv
    if here is None or abs(t_s - edge) > EDGE_TOLERANCE_S:
        st = state_at(world, net_index, edge)
        here = (st.allowed, None if st.faults is None else st.faults.sats[0], st.ground)
    allowed, failed, ground = here
    sa = slot_assignment(world, net_index, edge, capacity_setup(world), allowed, failed, ground)
    return slot, sa.serving_sat


def serving_at(
    world: World,
    net_index: int,
    t_s: float,
    gsl: GroundLinks,
    n_sats: int,
    held: HeldServing | None,
    here: tuple[NDArray[np.bool_] | None, NDArray[np.bool_] | None, GroundState] | None = None,
) -> tuple[NDArray[np.int32], HeldServing]:
    """Each access terminal's serving satellite at the snapshot ``t_s`` whose ground links are ``gsl``, and the
    held state after it: a new assignment at a new slot (:func:`assign_at_edge`), then the drop-out rule (module
    docstring).  ``here``: as :func:`assign_at_edge`."""
    setup = world.access
    assert setup is not None
    term = setup.terminals
    N = len(term)
    slot = float(slot_of(t_s, "reconfig", interval_s(world)))
    if held is None or held.slot != slot:
        slot, assigned = assign_at_edge(world, net_index, t_s, here)
        held = HeldServing(slot, assigned, np.zeros(N, dtype=bool))
    pos = np.full(world.ground.size, -1, dtype=np.int64)
    pos[term] = np.arange(N)
    mine = pos[gsl.ground] >= 0
    have = np.unique(pos[gsl.ground[mine]] * n_sats + gsl.sat[mine].astype(np.int64))
    want = np.arange(N, dtype=np.int64) * n_sats + held.assigned
    linked = np.isin(want, have, assume_unique=False) & (held.assigned >= 0)
    lost = held.lost | ((held.assigned >= 0) & ~linked)
    serving = np.where(lost, -1, held.assigned).astype(np.int32)
    return serving, HeldServing(held.slot, held.assigned, lost)
