"""The global beam scheduler: every reconfiguration slot, user beams to cells and each terminal to one satellite.

**Visibility** (:func:`cell_visibility`, on a :class:`CellGeometry` computed once per terminal set). A
satellite may serve a cell only if *every* active terminal of the cell (allowed by the policy, with demand) sees
it above its own elevation mask, so that any terminal of the cell can be put on any beam of the cell. Computed
per cell, not per terminal: a k-d tree between one reference point per cell (the mean of its terminals) and the
satellites, then a bound on how far a terminal's elevation can be from the reference's (the angle the sight
line turns over the cell's spread, ``asin(spread / range)``, plus the angle between the local verticals) sorts
the (cell, satellite) pairs into sure (every terminal sees it), surely not (the terminal with the highest mask
does not) and a thin band in between, checked terminal by terminal. :func:`visibility_from_candidates` builds
the same arcs from terminal x satellite links (e.g. :func:`leonet.topology.ground_links`). A beam's capacity
is taken at the longest slant range of the cell's terminals (the exact one for checked pairs; reference range +
spread, an upper bound, for sure pairs).

**Beams to cells: a min-cost flow** (OR-Tools ``SimpleMinCostFlow``), in beams (so integral)::

    source --B--> satellite s --min(B, m_c)--> cell c --1 each, tier j = 1..m_c--> sink
    source ------------------ bypass (cost 0) -----------------------------------> sink

``B`` is the beams per satellite, ``m_c = min(k, ceil(D_c / best_c))`` the beams cell ``c`` can use (``D_c``
its demand, ``best_c`` the capacity of its best visible beam, ``k`` the beams a cell may get). The ``j``-th
beam of a cell is worth the priority-weighted demand of the ``j``-th chunk of ``best_c`` Mbit/s of the cell's
demand in priority order, times ``j ** -fairness``: convex costs (each tier worth no more than the one before),
so the solver fills the tiers in order and spreads beams across cells (``fairness`` = 0: as much weighted
demand as possible; 1: proportional fairness in beams; 2, the default: minimum-potential-delay fairness, Mo &
Walrand, IEEE/ACM ToN 2000). A satellite-to-cell arc costs a small tie-break, the capacity it gives up against
the cell's best beam (1% of a tier's weight per Mbit/s), so the solver prefers high satellites when it can.
Serving the most demand with integral beams of different capacities is a generalised assignment problem
(NP-hard); this flow solves the tiered objective above exactly (:meth:`BeamProblem.objective`; the tests check
it against brute force), and the demand actually served follows from the beams.

**Terminals to beams** (vectorised). Within a cell, service classes in strict priority order, each class
served in proportion to its demand (capped per terminal by its class); the cell's served demand is laid along
its beams (highest capacity first) and each terminal put on the beam under the middle of its share, its rate
trimmed to what lies on that beam (so no beam is ever over capacity; a terminal straddling two beams loses the
part on the other). The beams one satellite puts on one cell are pooled (reported as one group: beams x
capacity). A terminal with no capacity gets no satellite (-1). Denied terminals get nothing.

**Slots** (:func:`slot_schedule`). The assignment is computed once per reconfiguration slot (``floor(t /
interval)``, as the router's slots) from the positions at the slot's edge and at its end (a satellite must be
visible at both, so a pass's hump keeps it above the mask in between), and held for the slot: handovers
happen at slot edges. A terminal whose satellite still sets below its mask inside the slot is unserved until
the next slot edge (not re-assigned: the beams are fixed for the slot).

Pure: no I/O; NumPy throughout, no Python loop per terminal, cell or satellite (the solver's own loop aside).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from ortools.graph.python import min_cost_flow
from scipy.spatial import cKDTree

from leonet.beams import BeamModel
from leonet.geodesy import max_slant_range_km
from leonet.router import slot_of

#: Cost units per Mbit/s of priority-weighted demand in a tier (OR-Tools needs integer costs).
COST_PER_MBPS = 100
#: Cost units per Mbit/s of beam capacity given up against the cell's best beam (the tie-break).
TIEBREAK_PER_MBPS = 1
#: The default fairness exponent (tier j of a cell worth j ** -fairness).
FAIRNESS = 2.0
#: Largest priority weight accepted (keeps the integer costs far from int64 overflow).
MAX_PRIORITY = 1e6
#: Shortest terminal-satellite range (km) the visibility bound assumes (no satellite is within 100 km of the
#: ground: ``propagate.impossible`` drops positions below 100 km altitude).
_MIN_RANGE_KM = 100.0


@dataclass(frozen=True)
class ServiceClasses:
    """Service classes (plans, restricted use): a priority weight (> 0; served first within a cell and worth
    more to the beam allocation) and a cap (Mbit/s per terminal, ``inf``: none) per class."""

    priority: NDArray[np.float64]
    cap_mbps: NDArray[np.float64]

    def __post_init__(self) -> None:
        p, c = np.asarray(self.priority), np.asarray(self.cap_mbps)
        if p.ndim != 1 or p.shape != c.shape or len(p) == 0:
            raise ValueError("priority and cap_mbps must be 1-d arrays of one entry per class")
        if not (np.all(p > 0) and np.all(p <= MAX_PRIORITY)):
            raise ValueError(f"priority must be in (0, {MAX_PRIORITY:g}]")
        if not np.all(c >= 0) or np.isnan(c).any():
            raise ValueError("cap_mbps must be >= 0 (inf: no cap)")

    @staticmethod
    def single() -> ServiceClasses:
        """One class: priority 1, no cap."""
        return ServiceClasses(np.ones(1), np.full(1, np.inf))


@dataclass(frozen=True)
class CellVisibility:
    """Which satellites may serve which cells in a slot: arcs (cell, satellite) sorted by cell then satellite,
    the longest slant range (km) from the cell's active terminals to the satellite, and the ``active`` terminal
    mask the arcs were computed for (every active terminal of ``cell`` sees ``sat`` above its mask)."""

    cell: NDArray[np.int32]
    sat: NDArray[np.int32]
    slant_km: NDArray[np.float64]
    active: NDArray[np.bool_]
    n_cells: int
    n_sats: int


def active_terminals(
    terminal_cell: NDArray[np.integer],
    demand_mbps: NDArray[np.float64],
    allowed: NDArray[np.bool_],
    service_class: NDArray[np.integer],
    classes: ServiceClasses,
) -> NDArray[np.bool_]:
    """Terminals that take part in a slot: allowed by the policy, in a cell, with demand after their class's cap."""
    eff = np.minimum(demand_mbps, classes.cap_mbps[service_class])
    out: NDArray[np.bool_] = allowed & (terminal_cell >= 0) & (eff > 0)
    return out


def _arcs(
    cell: NDArray[np.int64], sat: NDArray[np.int64], slant: NDArray[np.float64], n_sats: int
) -> tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.float64]]:
    order = np.argsort(cell * n_sats + sat)  # by cell, then satellite (each pair once)
    return cell[order].astype(np.int32), sat[order].astype(np.int32), slant[order]


def visibility_from_candidates(
    terminal: NDArray[np.integer],
    sat: NDArray[np.integer],
    slant_km: NDArray[np.float64],
    terminal_cell: NDArray[np.integer],
    active: NDArray[np.bool_],
    n_cells: int,
    n_sats: int,
) -> CellVisibility:
    """Arcs from terminal x satellite candidates (each pair once, e.g. a :class:`leonet.topology.GroundLinks`
    above the masks): a (cell, satellite) arc where every active terminal of the cell is a candidate of it."""
    keep = active[terminal]
    t, s, rho = np.asarray(terminal)[keep], np.asarray(sat)[keep].astype(np.int64), slant_km[keep]
    key = terminal_cell[t].astype(np.int64) * n_sats + s
    uk, inv, cnt = np.unique(key, return_inverse=True, return_counts=True)
    n_active = np.bincount(terminal_cell[active], minlength=n_cells)
    worst = np.full(len(uk), -np.inf)
    np.maximum.at(worst, inv.reshape(-1), rho)
    full = cnt == n_active[uk // n_sats]
    c, s_, w = _arcs(uk[full] // n_sats, uk[full] % n_sats, worst[full], n_sats)
    return CellVisibility(c, s_, w, active, n_cells, n_sats)


def _segments(n: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """For runs of lengths ``n``: each element's run and its position within the run."""
    run = np.repeat(np.arange(len(n)), n)
    first = np.cumsum(n) - n
    return run, np.arange(int(n.sum())) - first[run]


@dataclass(frozen=True)
class CellGeometry:
    """The active terminals of each cell, the part of :func:`cell_visibility` that does not move (computed once
    per terminal set): terminals sorted by cell (``order``; the cells that have any, their first and count), a
    reference point per cell (mean position) with its vertical, the cell's highest mask, its spread (km, farthest
    terminal from the reference) and tilt (deg, largest angle between the reference's and a terminal's vertical),
    and a k-d tree of the reference points."""

    order: NDArray[np.int64]
    cells: NDArray[np.int64]
    start: NDArray[np.int64]
    count: NDArray[np.int64]
    r_km: NDArray[np.float64]
    up: NDArray[np.float64]
    mask_deg: NDArray[np.float64]
    ref_km: NDArray[np.float64]
    ref_up: NDArray[np.float64]
    cell_mask_deg: NDArray[np.float64]
    spread_km: NDArray[np.float64]
    tilt_deg: NDArray[np.float64]
    tree: cKDTree | None
    active: NDArray[np.bool_]
    n_cells: int


def cell_geometry(
    terminal_r_km: NDArray[np.float64],
    terminal_up: NDArray[np.float64],
    min_elevation_deg: NDArray[np.float64],
    terminal_cell: NDArray[np.integer],
    active: NDArray[np.bool_],
    n_cells: int,
) -> CellGeometry:
    """:class:`CellGeometry` of the ``active`` terminals (ECEF km, unit verticals, masks, cell index each)."""
    act = np.flatnonzero(active)
    order = act[np.argsort(terminal_cell[act], kind="stable")].astype(np.int64)
    cells, start, count = np.unique(terminal_cell[order].astype(np.int64), return_index=True, return_counts=True)
    r_t, up_t, mask_t = terminal_r_km[order], terminal_up[order], min_elevation_deg[order]
    if len(order) == 0:
        z = np.zeros((0, 3))
        e = np.zeros(0)
        return CellGeometry(order, cells, start, count, r_t, up_t, mask_t, z, z, e, e, e, None, active, n_cells)
    ref = np.add.reduceat(r_t, start, axis=0) / count[:, None]
    up = np.add.reduceat(up_t, start, axis=0)
    up /= np.linalg.norm(up, axis=1)[:, None]
    rep = np.repeat(np.arange(len(cells)), count)
    spread = np.maximum.reduceat(np.linalg.norm(r_t - ref[rep], axis=1), start)
    cos_tilt = np.minimum.reduceat(np.einsum("ij,ij->i", up_t, up[rep]), start)
    tilt = np.rad2deg(np.arccos(np.clip(cos_tilt, -1.0, 1.0)))
    mask_c = np.maximum.reduceat(mask_t, start)
    return CellGeometry(
        order, cells, start, count, r_t, up_t, mask_t, ref, up, mask_c, spread, tilt, cKDTree(ref), active, n_cells
    )


def cell_visibility(sat_r_km: NDArray[np.float64], geom: CellGeometry) -> CellVisibility:
    """The (cell, satellite) arcs where every active terminal of the cell sees the satellite at an elevation of
    at least its mask (the test of :func:`leonet.topology.ground_links`) at every instant of ``sat_r_km``
    (``(S, 3)``, or ``(E, S, 3)`` for E instants, e.g. a slot's two edges), with the longest slant range over
    terminals and instants. Per cell: a k-d tree query at the first instant, an elevation bound per pair, the
    pairs in the bound's band checked terminal by terminal (module docstring). A NaN position takes part in none."""
    pos = sat_r_km[None] if sat_r_km.ndim == 2 else sat_r_km
    n_sats = pos.shape[1]
    g = geom
    none = CellVisibility(np.empty(0, np.int32), np.empty(0, np.int32), np.empty(0), g.active, g.n_cells, n_sats)
    ok_sat = np.isfinite(pos).all(axis=(0, 2))
    sat_idx = np.flatnonzero(ok_sat)
    if g.tree is None or len(sat_idx) == 0:
        return none
    sats = pos[0, sat_idx]
    # every range is at least |r_sat| - |r_ground| (triangle inequality), which bounds the elevation spread
    sat_radius = np.linalg.norm(pos[:, sat_idx], axis=2)
    ref_radius = np.linalg.norm(g.ref_km, axis=1)
    min_range = max(_MIN_RANGE_KM, float(sat_radius.min() - ref_radius.max() - g.spread_km.max()))
    lo_deg = float(
        np.min(g.cell_mask_deg - np.rad2deg(np.arcsin(np.minimum(1.0, g.spread_km / min_range))) - g.tilt_deg)
    )
    # every arc's reference elevation (from ref_up) is >= lo_deg; the sphere's slant range takes it from the
    # geocentric radial instead, which a cell's vertical (the mean ellipsoid normal) is up to ~0.19 deg off, so
    # the elevation is lowered by the largest such angle; below the horizon the range also grows with the
    # ground radius (-R sin e), so the largest one bounds that term
    cos_off = np.einsum("ij,ij->i", g.ref_km / ref_radius[:, None], g.ref_up)
    off_deg = float(np.rad2deg(np.arccos(np.clip(cos_off.min(), -1.0, 1.0))))
    e_deg = max(lo_deg - off_deg - 0.01, -90.0)
    r_lo, r_hi = float(ref_radius.min()), float(ref_radius.max())
    below = max(0.0, -float(np.sin(np.deg2rad(e_deg)))) * (r_hi - r_lo)
    radius = float(max_slant_range_km(e_deg, float(sat_radius[0].max()), r_lo)) + below
    m = g.tree.sparse_distance_matrix(cKDTree(sats), radius, output_type="ndarray")
    ci, sj = m["i"].astype(np.int64), sat_idx[m["j"]].astype(np.int64)
    mask_c, spread, tilt, up = g.cell_mask_deg[ci], g.spread_km[ci], g.tilt_deg[ci], g.ref_up[ci]
    ref = g.ref_km[ci]
    sure = np.ones(len(ci), dtype=bool)
    out = np.zeros(len(ci), dtype=bool)
    rho_max = np.zeros(len(ci))
    for e in range(len(pos)):  # instants (two per slot)
        d = pos[e, sj] - ref
        rho = m["v"] if e == 0 else np.linalg.norm(d, axis=1)
        el = np.rad2deg(np.arcsin(np.clip(np.einsum("ij,ij->i", d, up) / rho, -1.0, 1.0)))
        ratio = spread / rho
        bound = np.where(ratio < 1.0, np.rad2deg(np.arcsin(np.minimum(ratio, 1.0))), 180.0) + tilt + 1e-9
        sure &= el - bound >= mask_c
        out |= ~(el + bound >= mask_c)  # the terminal with the cell's highest mask does not see it
        rho_max = np.maximum(rho_max, rho + spread)
    # the band: every terminal of the cell, at every instant, exactly
    a = np.flatnonzero(~sure & ~out)
    n = g.count[ci[a]]
    run, at = _segments(n)
    tt = g.start[ci[a]][run] + at  # index into the sorted terminals
    fails = np.zeros(len(a))
    worst = np.zeros(len(a))
    for e in range(len(pos)):
        dd = pos[e, sj[a]][run] - g.r_km[tt]
        rr = np.linalg.norm(dd, axis=1)
        seen = np.einsum("ij,ij->i", dd, g.up[tt]) / rr >= np.sin(np.deg2rad(g.mask_deg[tt]))
        fails += np.bincount(run, weights=(~seen).astype(np.float64), minlength=len(a))
        if len(a):
            worst = np.maximum(worst, np.maximum.reduceat(rr, np.cumsum(n) - n))
    good = fails == 0
    keep_c = np.concatenate([g.cells[ci[sure]], g.cells[ci[a[good]]]])
    keep_s = np.concatenate([sj[sure], sj[a[good]]])
    keep_rho = np.concatenate([rho_max[sure], worst[good]])
    c, s, w = _arcs(keep_c, keep_s, keep_rho, n_sats)
    return CellVisibility(c, s, w, g.active, g.n_cells, n_sats)


def intersect_visibility(a: CellVisibility, b: CellVisibility) -> CellVisibility:
    """Arcs in both (e.g. a slot's start and end), with the longer slant range of the two."""
    if a.n_sats != b.n_sats or a.n_cells != b.n_cells or not np.array_equal(a.active, b.active):
        raise ValueError("visibilities of different terminals or constellations")
    ka = a.cell.astype(np.int64) * a.n_sats + a.sat
    kb = b.cell.astype(np.int64) * b.n_sats + b.sat
    _, ia, ib = np.intersect1d(ka, kb, assume_unique=True, return_indices=True)
    return CellVisibility(
        a.cell[ia], a.sat[ia], np.maximum(a.slant_km[ia], b.slant_km[ib]), a.active, a.n_cells, a.n_sats
    )


@dataclass(frozen=True)
class BeamProblem:
    """The beam allocation of one slot as a min-cost flow: arcs (cell, satellite) with their beam capacity
    (Mbit/s) and cost, and per cell its tiers (the value of its 1st, 2nd, ... beam, non-increasing, in cost
    units: :data:`COST_PER_MBPS` per Mbit/s of priority-weighted demand)."""

    arc_cell: NDArray[np.int32]
    arc_sat: NDArray[np.int32]
    arc_capacity_mbps: NDArray[np.float64]
    arc_cost: NDArray[np.int64]
    tier_cell: NDArray[np.int32]
    tier_rank: NDArray[np.int32]
    tier_value: NDArray[np.int64]
    cell_beams: NDArray[np.int64]
    beams_per_sat: int
    max_beams_per_cell: int
    n_cells: int
    n_sats: int

    def objective(self, beams: NDArray[np.integer]) -> int:
        """The flow's objective for ``beams`` per arc (higher is better): each cell's first ``n_c`` tier values
        (``n_c``: its beams) less the arcs' costs. Raises on an allocation that breaks a constraint."""
        b = np.asarray(beams, dtype=np.int64)
        per_cell = np.bincount(self.arc_cell, weights=b, minlength=self.n_cells).astype(np.int64)
        per_sat = np.bincount(self.arc_sat, weights=b, minlength=self.n_sats).astype(np.int64)
        if (b < 0).any() or (per_sat > self.beams_per_sat).any() or (per_cell > self.cell_beams).any():
            raise ValueError("allocation breaks a beam constraint")
        used = self.tier_rank < per_cell[self.tier_cell]
        return int(self.tier_value[used].sum() - (self.arc_cost * b).sum())


def beam_problem(
    vis: CellVisibility,
    terminal_cell: NDArray[np.integer],
    demand_mbps: NDArray[np.float64],
    service_class: NDArray[np.integer],
    classes: ServiceClasses,
    model: BeamModel,
    fairness: float = FAIRNESS,
) -> tuple[BeamProblem, _Terminals]:
    """The flow problem of a slot, and the sorted active terminals the terminal assignment needs."""
    C = vis.n_cells
    active = vis.active
    w_all = classes.priority[service_class]
    act = np.flatnonzero(active)
    order = act[np.lexsort((-w_all[act], terminal_cell[act]))]  # by cell, then priority (high first)
    t_cell = terminal_cell[order].astype(np.int64)
    eff = np.minimum(demand_mbps[order], classes.cap_mbps[service_class[order]])
    w = w_all[order]
    demand_c = np.bincount(t_cell, weights=eff, minlength=C).astype(np.float64)
    cap = model.beam_capacity_mbps(vis.slant_km)
    live = cap > 0
    arc_cell, arc_sat, cap = vis.cell[live], vis.sat[live], cap[live]
    best = np.zeros(C)
    if len(arc_cell):  # arcs are sorted by cell
        first = np.flatnonzero(np.r_[True, arc_cell[1:] != arc_cell[:-1]])
        best[arc_cell[first]] = np.maximum.reduceat(cap, first)
    k = model.max_beams_per_cell
    with np.errstate(divide="ignore", invalid="ignore"):
        need = np.where(best > 0, np.ceil(demand_c / np.where(best > 0, best, 1.0) - 1e-9), 0.0)
    m_c = np.minimum(need, k).astype(np.int64)
    # tier j of cell c: the priority-weighted demand in [(j-1) best_c, min(j best_c, D_c)) of the cell's demand
    x = np.concatenate([[0.0], np.cumsum(eff)])
    wx = np.concatenate([[0.0], np.cumsum(eff * w)])
    offset = np.concatenate([[0.0], np.cumsum(demand_c)])[:-1]
    tier_cell, rank = _segments(m_c)
    lo = offset[tier_cell] + rank * best[tier_cell]
    hi = offset[tier_cell] + np.minimum((rank + 1) * best[tier_cell], demand_c[tier_cell])
    value_mbps = np.interp(hi, x, wx) - np.interp(lo, x, wx)
    tier_value = np.rint(value_mbps * (rank + 1.0) ** -fairness * COST_PER_MBPS).astype(np.int64)  # >= 0
    has = m_c[arc_cell] > 0
    arc_cell, arc_sat, cap = arc_cell[has], arc_sat[has], cap[has]
    arc_cost = np.rint((best[arc_cell] - cap) * TIEBREAK_PER_MBPS).astype(np.int64)
    problem = BeamProblem(
        arc_cell,
        arc_sat,
        cap,
        arc_cost,
        tier_cell.astype(np.int32),
        rank.astype(np.int32),
        tier_value,
        m_c,
        model.beams_per_sat,
        k,
        C,
        vis.n_sats,
    )
    return problem, _Terminals(order, t_cell, eff, w, demand_c)


@dataclass(frozen=True)
class _Terminals:
    order: NDArray[np.int64]  # active terminals by cell, then priority (high first)
    cell: NDArray[np.int64]
    demand_mbps: NDArray[np.float64]
    priority: NDArray[np.float64]
    cell_demand_mbps: NDArray[np.float64]


def solve_beams(problem: BeamProblem) -> tuple[NDArray[np.int64], int]:
    """Beams per arc that maximise :meth:`BeamProblem.objective`, by OR-Tools' min-cost flow, and the objective."""
    A, S, C = len(problem.arc_cell), problem.n_sats, problem.n_cells
    B = problem.beams_per_sat
    if A == 0 or B == 0:
        return np.zeros(A, dtype=np.int64), 0
    src, sink = 0, 1 + S + C
    sats = np.unique(problem.arc_sat).astype(np.int64)
    supply = int(min(B * len(sats), int(problem.cell_beams[np.unique(problem.arc_cell)].sum())))
    tails = np.concatenate(
        [
            np.zeros(len(sats), np.int64),
            1 + problem.arc_sat.astype(np.int64),
            1 + S + problem.tier_cell.astype(np.int64),
            [src],
        ]
    )
    heads = np.concatenate(
        [
            1 + sats,
            1 + S + problem.arc_cell.astype(np.int64),
            np.full(len(problem.tier_cell), sink, np.int64),
            [sink],
        ]
    )
    caps = np.concatenate(
        [
            np.full(len(sats), B, np.int64),
            np.minimum(B, problem.cell_beams[problem.arc_cell]),
            np.ones(len(problem.tier_cell), np.int64),
            [supply],
        ]
    )
    costs = np.concatenate(
        [
            np.zeros(len(sats), np.int64),
            problem.arc_cost,
            -problem.tier_value,
            [0],
        ]
    )
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    flow.set_nodes_supplies(np.array([src, sink], np.int64), np.array([supply, -supply], np.int64))
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed: status {status}")
    beams = np.asarray(flow.flows(arcs[len(sats) : len(sats) + A]), dtype=np.int64)
    return beams, -int(flow.optimal_cost())


@dataclass(frozen=True)
class SlotAssignment:
    """One slot's schedule. Per terminal: its satellite (-1: none) and the rate it is served (Mbit/s). Per
    (satellite, cell) beam group: beams, capacity of each beam, and the rate carried (at most beams x
    capacity). Per cell: demand (after caps, allowed terminals) and served rate. ``objective``: the flow's."""

    serving_sat: NDArray[np.int32]
    served_mbps: NDArray[np.float64]
    beam_cell: NDArray[np.int32]
    beam_sat: NDArray[np.int32]
    beam_count: NDArray[np.int32]
    beam_capacity_mbps: NDArray[np.float64]
    beam_load_mbps: NDArray[np.float64]
    cell_demand_mbps: NDArray[np.float64]
    cell_served_mbps: NDArray[np.float64]
    objective: int

    def beams_of_sat(self, n_sats: int) -> NDArray[np.int64]:
        return np.bincount(self.beam_sat, weights=self.beam_count, minlength=n_sats).astype(np.int64)

    def beams_of_cell(self, n_cells: int) -> NDArray[np.int64]:
        return np.bincount(self.beam_cell, weights=self.beam_count, minlength=n_cells).astype(np.int64)


def _assign_terminals(
    problem: BeamProblem, beams: NDArray[np.int64], t: _Terminals, n_terminals: int
) -> tuple[NDArray[np.int32], NDArray[np.float64], NDArray[np.float64]]:
    """Serving satellite and rate per terminal, and the load of each used arc (see the module docstring)."""
    C = problem.n_cells
    used = np.flatnonzero(beams > 0)
    used = used[np.lexsort((-problem.arc_capacity_mbps[used], problem.arc_cell[used]))]  # by cell, best first
    g_cap = beams[used] * problem.arc_capacity_mbps[used]
    g_cell = problem.arc_cell[used].astype(np.int64)
    cap_c = np.bincount(g_cell, weights=g_cap, minlength=C)
    # strict priority between classes of a cell, proportional within one
    n = len(t.order)
    new = np.ones(n, dtype=bool)
    new[1:] = (t.cell[1:] != t.cell[:-1]) | (t.priority[1:] != t.priority[:-1])
    gstart = np.flatnonzero(new)
    group = np.cumsum(new) - 1
    d_g = np.add.reduceat(t.demand_mbps, gstart) if n else np.zeros(0)
    gcell = t.cell[gstart]
    cum_g = np.cumsum(d_g) - d_g  # demand before each group, all cells
    cell_off = np.concatenate([[0.0], np.cumsum(t.cell_demand_mbps)])[:-1]
    higher = cum_g - cell_off[gcell]
    phi = np.clip((cap_c[gcell] - higher) / d_g, 0.0, 1.0) if n else np.zeros(0)
    share = t.demand_mbps * phi[group]
    # lay the shares along the cell's beams
    served_c = np.bincount(t.cell, weights=share, minlength=C)
    start = np.cumsum(share) - share - np.concatenate([[0.0], np.cumsum(served_c)])[:-1][t.cell]
    cap_off = np.concatenate([[0.0], np.cumsum(cap_c)])[:-1]
    lo_line = cap_off[t.cell] + start
    hi_edges = np.cumsum(g_cap)
    lo_edges = hi_edges - g_cap
    mid = lo_line + 0.5 * share
    # the beam under the middle, among the cell's own beams: the two cumulative sums (shares, beams) round
    # apart, which can put the middle of a share at either end of its cell's line just past the cell's beams
    first = np.searchsorted(g_cell, t.cell, side="left")
    last = np.searchsorted(g_cell, t.cell, side="right") - 1
    k = np.searchsorted(hi_edges, mid, side="right")
    kk = np.minimum(np.maximum(k, first), last)  # a cell without beams: last = first - 1, another's (or -1)
    ok = share > 0
    if len(used):
        ok &= g_cell[kk] == t.cell  # a cell without beams (its share can be a rounding residue)
        got = np.minimum(lo_line + share, hi_edges[kk]) - np.maximum(lo_line, lo_edges[kk])
        got = np.where(ok, np.clip(got, 0.0, share), 0.0)
    else:
        got = np.zeros(n)
    ok &= got > 0
    serving = np.full(n_terminals, -1, dtype=np.int32)
    served = np.zeros(n_terminals)
    serving[t.order[ok]] = problem.arc_sat[used][kk[ok]]
    served[t.order[ok]] = got[ok]
    load = np.bincount(kk[ok], weights=got[ok], minlength=len(used)).astype(np.float64) if len(used) else np.zeros(0)
    return serving, served, load


def schedule_slot(
    vis: CellVisibility,
    terminal_cell: NDArray[np.integer],
    demand_mbps: NDArray[np.float64],
    allowed: NDArray[np.bool_],
    service_class: NDArray[np.integer],
    classes: ServiceClasses,
    model: BeamModel,
    fairness: float = FAIRNESS,
) -> SlotAssignment:
    """Beams to cells and terminals to satellites for one slot (module docstring). ``vis`` must have been
    computed for :func:`active_terminals` of the same inputs; ``terminal_cell`` indexes ``0 .. vis.n_cells - 1``
    (-1: outside every cell: never served)."""
    demand = np.asarray(demand_mbps, dtype=np.float64)
    if (demand < 0).any() or np.isnan(demand).any():
        raise ValueError("demand_mbps must be >= 0")
    if not fairness >= 0:
        raise ValueError("fairness must be >= 0")
    active = active_terminals(terminal_cell, demand, allowed, service_class, classes)
    if not np.array_equal(active, vis.active):
        raise ValueError("vis was computed for other active terminals (see active_terminals)")
    problem, terms = beam_problem(vis, terminal_cell, demand, service_class, classes, model, fairness)
    beams, objective = solve_beams(problem)
    serving, served, load = _assign_terminals(problem, beams, terms, len(demand))
    used = np.flatnonzero(beams > 0)
    used = used[np.lexsort((-problem.arc_capacity_mbps[used], problem.arc_cell[used]))]
    return SlotAssignment(
        serving_sat=serving,
        served_mbps=served,
        beam_cell=problem.arc_cell[used],
        beam_sat=problem.arc_sat[used],
        beam_count=beams[used].astype(np.int32),
        beam_capacity_mbps=problem.arc_capacity_mbps[used],
        beam_load_mbps=load,
        cell_demand_mbps=terms.cell_demand_mbps,
        cell_served_mbps=np.bincount(
            terminal_cell[served > 0], weights=served[served > 0], minlength=vis.n_cells
        ).astype(np.float64),
        objective=objective,
    )


@dataclass(frozen=True)
class SlotSchedule:
    """Schedules over a window of snapshots: each snapshot's slot (index into ``assignments``) and each
    terminal's satellite at each snapshot ``(T, N)`` (-1: none; the slot's assignment, less terminals whose
    satellite set below their mask earlier in the slot)."""

    times_s: NDArray[np.float64]
    slot_index: NDArray[np.int64]
    slots: NDArray[np.float64]
    assignments: tuple[SlotAssignment, ...]
    serving_sat: NDArray[np.int32]

    def served_mbps_at(self, k: int) -> NDArray[np.float64]:
        """Each terminal's rate (Mbit/s) at snapshot ``k``: its slot's, 0 where it has no satellite then."""
        a = self.assignments[int(self.slot_index[k])]
        out: NDArray[np.float64] = np.where(self.serving_sat[k] >= 0, a.served_mbps, 0.0)
        return out


def slot_schedule(
    times_s: Sequence[float] | NDArray[np.float64],
    positions_km: Callable[[NDArray[np.float64]], NDArray[np.float64]],
    interval_s: float,
    terminal_r_km: NDArray[np.float64],
    terminal_up: NDArray[np.float64],
    min_elevation_deg: NDArray[np.float64],
    terminal_cell: NDArray[np.integer],
    n_cells: int,
    demand_mbps: NDArray[np.float64],
    allowed: NDArray[np.bool_],
    service_class: NDArray[np.integer],
    classes: ServiceClasses,
    model: BeamModel,
    fairness: float = FAIRNESS,
) -> SlotSchedule:
    """:func:`schedule_slot` at each reconfiguration slot of ``times_s`` (``floor(t / interval_s)``, as
    :func:`leonet.router.slot_of` in reconfig mode), from the satellite positions ``positions_km(times)`` ->
    ``(T, S, 3)`` at the slot's edge and end; held for the slot. Depends only on the slot, not on which
    snapshots of it the window holds (so chunks of a run agree)."""
    t = np.asarray(times_s, dtype=np.float64)
    if not (interval_s > 0 and np.isfinite(interval_s)):
        raise ValueError("interval_s must be a finite number of seconds > 0")
    if t.ndim != 1 or not np.isfinite(t).all():
        raise ValueError("times_s must be a 1-d array of finite seconds")
    slot = slot_of(t, "reconfig", interval_s)
    slots, slot_index = np.unique(slot, return_inverse=True)
    active = active_terminals(terminal_cell, demand_mbps, allowed, service_class, classes)
    geom = cell_geometry(terminal_r_km, terminal_up, min_elevation_deg, terminal_cell, active, n_cells)
    edges = np.concatenate([slots * interval_s, (slots + 1.0) * interval_s])
    r_edges = positions_km(edges)
    assignments = []
    for i in range(len(slots)):  # one per slot (a window holds a few)
        vis = cell_visibility(r_edges[[i, len(slots) + i]], geom)
        assignments.append(
            schedule_slot(vis, terminal_cell, demand_mbps, allowed, service_class, classes, model, fairness)
        )
    r = positions_km(t)
    serving = np.full((len(t), len(terminal_r_km)), -1, dtype=np.int32)
    sin_mask = np.sin(np.deg2rad(min_elevation_deg))
    lost = np.zeros(len(terminal_r_km), dtype=bool)
    for k in range(len(t)):  # one per snapshot
        if k == 0 or slot_index[k] != slot_index[k - 1]:
            lost[:] = False
        s = assignments[slot_index[k]].serving_sat
        on = np.flatnonzero((s >= 0) & ~lost)
        d = r[k, s[on]] - terminal_r_km[on]
        with np.errstate(invalid="ignore"):
            above = np.einsum("ij,ij->i", d, terminal_up[on]) / np.linalg.norm(d, axis=1) >= sin_mask[on]
        lost[on[~above]] = True
        serving[k, on[above]] = s[on[above]]
    return SlotSchedule(t, slot_index.astype(np.int64), slots, tuple(assignments), serving)
