"""The beam scheduler: invariants on random cases, optimality against brute force, fairness, slot edges.

References, independent of ``leonet.scheduler``:
- elevation recomputed from ECEF with NumPy (``asin(d . up / |d|)``, up from the textbook ellipsoid normal);
- the beam allocation: every integral allocation enumerated with ``itertools`` (each satellite's beams spread
  over its arcs in every way, the per-cell limit k), scored by the documented objective (each cell's first
  beams' tier values less the arcs' tie-break costs) in plain Python;
- h3 for the cells, ``topology.ground_links`` for terminal x satellite visibility.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sgp4.api import SatrecArray

from leonet.beams import BeamModel
from leonet.cells import aggregate_demand, cell_centres_deg, cells_of
from leonet.constants import WGS84_A_KM, WGS84_F
from leonet.orbits.constellation import from_shells
from leonet.orbits.propagate import positions_itrf_km
from leonet.orbits.shells import preset
from leonet.scheduler import (
    COST_PER_MBPS,
    BeamProblem,
    CellGeometry,
    CellVisibility,
    ServiceClasses,
    active_terminals,
    beam_problem,
    cell_geometry,
    cell_visibility,
    intersect_visibility,
    schedule_slot,
    slot_schedule,
    solve_beams,
    visibility_from_candidates,
)
from leonet.timebase import julian_dates
from leonet.topology import ground_links

E2 = WGS84_F * (2.0 - WGS84_F)
CLASSES = ServiceClasses(np.array([1.0, 3.0]), np.array([np.inf, 400.0]))


def _ecef(lat_deg: np.ndarray, lon_deg: np.ndarray, alt_km: float | np.ndarray = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Geodetic -> ECEF (km) and the ellipsoid normal by the textbook formula (NIMA TR8350.2 eq. 4-14)."""
    la, lo = np.radians(lat_deg), np.radians(lon_deg)
    n = WGS84_A_KM / np.sqrt(1.0 - E2 * np.sin(la) ** 2)
    h = np.broadcast_to(np.asarray(alt_km, dtype=float), la.shape)
    r = np.stack(
        [(n + h) * np.cos(la) * np.cos(lo), (n + h) * np.cos(la) * np.sin(lo), (n * (1.0 - E2) + h) * np.sin(la)],
        axis=1,
    )
    up = np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=1)
    return r, up


def _elevation_deg(r: np.ndarray, up: np.ndarray, sat: np.ndarray) -> np.ndarray:
    d = sat - r
    return np.degrees(np.arcsin(np.einsum("ij,ij->i", d, up) / np.linalg.norm(d, axis=1)))


class Case:
    """Terminals in a few H3 cells near a place, satellites around them, masks per terminal."""

    def __init__(self, seed: int, n_cells: int, n_sats: int, per_cell: int = 4, alt_km: float = 550.0) -> None:
        rng = np.random.default_rng(seed)
        lat0, lon0 = rng.uniform(-50, 50), rng.uniform(-180, 180)
        # cells: a ring of centres ~0.3 deg apart, terminals scattered inside each cell
        c_lat = lat0 + 0.3 * np.arange(n_cells)
        cells = cells_of(c_lat, np.full(n_cells, lon0))
        lat_c, lon_c = cell_centres_deg(cells)
        lat = np.repeat(lat_c, per_cell) + rng.uniform(-0.03, 0.03, n_cells * per_cell)
        lon = np.repeat(lon_c, per_cell) + rng.uniform(-0.03, 0.03, n_cells * per_cell)
        self.cd = aggregate_demand(cells_of(lat, lon), 0.0)
        self.r, self.up = _ecef(lat, lon, rng.uniform(0.0, 1.0, len(lat)))
        self.mask = rng.uniform(20.0, 40.0, len(lat))
        s_lat = lat0 + rng.uniform(-12, 12, n_sats)
        s_lon = lon0 + rng.uniform(-12, 12, n_sats) / np.cos(np.radians(lat0))
        self.sat, _ = _ecef(s_lat, s_lon, alt_km + rng.uniform(-15, 15, n_sats))
        n = len(lat)
        self.demand = rng.uniform(0.0, 600.0, n)
        self.demand[rng.random(n) < 0.1] = 0.0
        self.allowed = rng.random(n) > 0.2
        self.cls = rng.integers(0, 2, n)
        self.active = active_terminals(self.cd.terminal_cell, self.demand, self.allowed, self.cls, CLASSES)

    def vis(self) -> CellVisibility:
        return cell_visibility(self.sat, self.geometry())

    def geometry(self) -> CellGeometry:
        return cell_geometry(self.r, self.up, self.mask, self.cd.terminal_cell, self.active, self.cd.n_cells)

    def schedule(self, model: BeamModel, fairness: float = 2.0):  # type: ignore[no-untyped-def]
        return schedule_slot(
            self.vis(), self.cd.terminal_cell, self.demand, self.allowed, self.cls, CLASSES, model, fairness
        )


def check_invariants(case: Case, a, model: BeamModel) -> None:  # type: ignore[no-untyped-def]
    S, C = len(case.sat), case.cd.n_cells
    eff = np.minimum(case.demand, CLASSES.cap_mbps[case.cls])
    # no beam group over capacity; no satellite over its beams; no cell over k
    assert (a.beam_load_mbps <= a.beam_count * a.beam_capacity_mbps * (1 + 1e-9) + 1e-9).all()
    assert (a.beams_of_sat(S) <= model.beams_per_sat).all()
    assert (a.beams_of_cell(C) <= model.max_beams_per_cell).all()
    assert (a.beam_count > 0).all()
    on = np.flatnonzero(a.serving_sat >= 0)
    # no terminal on a satellite below its mask (recomputed here), nor on a beam its cell does not have
    el = _elevation_deg(case.r[on], case.up[on], case.sat[a.serving_sat[on]])
    assert (el >= case.mask[on] - 1e-9).all()
    groups = set(zip(a.beam_cell.tolist(), a.beam_sat.tolist(), strict=True))
    assert all((int(c), int(s)) in groups for c, s in zip(case.cd.terminal_cell[on], a.serving_sat[on], strict=True))
    # a beam's capacity is no more than the link of each terminal on it supports
    slant = np.linalg.norm(case.sat[a.serving_sat[on]] - case.r[on], axis=1)
    cap_of = {(int(c), int(s)): float(x) for c, s, x in zip(a.beam_cell, a.beam_sat, a.beam_capacity_mbps, strict=True)}
    own = np.array(
        [cap_of[(int(c), int(s))] for c, s in zip(case.cd.terminal_cell[on], a.serving_sat[on], strict=True)]
    )
    assert (own <= model.beam_capacity_mbps(slant) + 1e-9).all()
    # denied terminals carry nothing and get no beam; served <= demand after the cap; no service without a beam
    assert (a.serving_sat[~case.allowed] == -1).all() and (a.served_mbps[~case.allowed] == 0).all()
    assert (a.served_mbps <= eff + 1e-9).all()
    assert (a.served_mbps[a.serving_sat < 0] == 0).all() and (a.served_mbps[on] > 0).all()
    # loads are the terminals' rates
    load: dict[tuple[int, int], float] = {}
    for c, s, x in zip(case.cd.terminal_cell[on], a.serving_sat[on], a.served_mbps[on], strict=True):
        load[(int(c), int(s))] = load.get((int(c), int(s)), 0.0) + float(x)
    for c, s, x in zip(a.beam_cell, a.beam_sat, a.beam_load_mbps, strict=True):
        assert load.get((int(c), int(s)), 0.0) == pytest.approx(float(x), abs=1e-6)
    assert a.cell_served_mbps.sum() == pytest.approx(a.served_mbps.sum())


@pytest.mark.parametrize("seed", range(12))
def test_invariants_random(seed: int) -> None:
    case = Case(seed, n_cells=6 + seed % 5, n_sats=20 + 5 * (seed % 4), per_cell=3 + seed % 4)
    model = BeamModel(beams_per_sat=1 + seed % 3, max_beams_per_cell=1 + seed % 4)
    a = case.schedule(model, fairness=float(seed % 3))
    check_invariants(case, a, model)
    if case.active.any():
        assert (a.serving_sat >= 0).any()


def test_visibility_matches_terminal_links() -> None:
    for seed in range(8):
        case = Case(100 + seed, n_cells=5, n_sats=60, per_cell=6)
        links = ground_links(case.sat, case.r, case.up, case.mask)
        slant = links.length_km
        ref = visibility_from_candidates(
            links.ground, links.sat, slant, case.cd.terminal_cell, case.active, case.cd.n_cells, len(case.sat)
        )
        got = case.vis()
        assert got.cell.tolist() == ref.cell.tolist() and got.sat.tolist() == ref.sat.tolist()
        assert len(got.cell) > 0
        # slant: the worst terminal's range exactly (checked pairs) or an upper bound within the cell's spread
        assert (got.slant_km >= ref.slant_km - 1e-9).all() and (got.slant_km <= ref.slant_km + 20.0).all()


def test_visibility_at_two_instants_is_the_intersection() -> None:
    for seed in range(6):
        case = Case(300 + seed, n_cells=5, n_sats=60, per_cell=5)
        rng = np.random.default_rng(seed)
        later = case.sat + rng.normal(0.0, 60.0, case.sat.shape)  # the satellites some seconds on
        later[0] = np.nan  # a satellite lost at the second instant takes part in nothing
        geom = case.geometry()
        both = cell_visibility(np.stack([case.sat, later]), geom)
        ref = intersect_visibility(cell_visibility(case.sat, geom), cell_visibility(later, geom))
        assert both.cell.tolist() == ref.cell.tolist() and both.sat.tolist() == ref.sat.tolist()
        assert 0 not in both.sat.tolist() and len(both.cell) > 0
        # slant: an upper bound on the worst terminal's range at either instant, tight within the cell's spread
        assert (both.slant_km <= ref.slant_km + 1e-9).all()
        exact: dict[tuple[int, int], float] = {}
        want = None
        for sat in (case.sat, later):
            links = ground_links(sat, case.r, case.up, case.mask)
            v = visibility_from_candidates(
                links.ground, links.sat, links.length_km, case.cd.terminal_cell, case.active, case.cd.n_cells, len(sat)
            )
            for c, s_, x in zip(v.cell.tolist(), v.sat.tolist(), v.slant_km.tolist(), strict=True):
                exact[(c, s_)] = max(exact.get((c, s_), 0.0), x)
            keys = set(zip(v.cell.tolist(), v.sat.tolist(), strict=True))
            want = keys if want is None else want & keys
        worst = np.array([exact[(c, s_)] for c, s_ in zip(both.cell.tolist(), both.sat.tolist(), strict=True)])
        assert (both.slant_km >= worst - 1e-9).all() and (both.slant_km <= worst + 20.0).all()
        assert set(zip(both.cell.tolist(), both.sat.tolist(), strict=True)) == want


def _brute_best(p: BeamProblem, k: int) -> int:
    """The best objective over every integral allocation (itertools), scored in plain Python."""
    arcs_of_sat: dict[int, list[int]] = {}
    for i, s in enumerate(p.arc_sat.tolist()):
        arcs_of_sat.setdefault(s, []).append(i)
    tiers: dict[int, list[int]] = {}
    for c, _r, v in sorted(zip(p.tier_cell.tolist(), p.tier_rank.tolist(), p.tier_value.tolist(), strict=True)):
        tiers.setdefault(c, []).append(v)
    options = []
    for arcs in arcs_of_sat.values():
        opts = [x for x in itertools.product(range(p.beams_per_sat + 1), repeat=len(arcs)) if sum(x) <= p.beams_per_sat]
        options.append([(arcs, x) for x in opts])
    cells, costs = p.arc_cell.tolist(), p.arc_cost.tolist()
    best = 0
    for combo in itertools.product(*options):
        n: dict[int, int] = {}
        value = 0
        for arcs, x in combo:
            for i, b in zip(arcs, x, strict=True):
                if b:
                    n[cells[i]] = n.get(cells[i], 0) + b
                    value -= costs[i] * b
        if any(v > k for v in n.values()):
            continue
        value += sum(sum(tiers.get(c, [])[:m]) for c, m in n.items())
        best = max(best, value)
    return best


def _n_allocations(p: BeamProblem) -> int:
    total = 1
    for s in np.unique(p.arc_sat):
        a = int((p.arc_sat == s).sum())
        total *= sum(1 for x in itertools.product(range(p.beams_per_sat + 1), repeat=a) if sum(x) <= p.beams_per_sat)
    return total


def _synthetic(data: st.DataObject) -> tuple[CellVisibility, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    S = data.draw(st.integers(2, 4), "sats")
    C = data.draw(st.integers(2, 5), "cells")
    pairs = [(c, s) for c in range(C) for s in range(S)]
    keep = data.draw(st.lists(st.booleans(), min_size=len(pairs), max_size=len(pairs)), "arcs")
    per = data.draw(st.lists(st.integers(1, 3), min_size=C, max_size=C), "terminals")
    cell = np.repeat(np.arange(C), per)
    n = len(cell)
    demand = np.array(
        data.draw(st.lists(st.sampled_from([0.0, 50.0, 120.0, 300.0, 700.0, 1500.0]), min_size=n, max_size=n), "demand")
    )
    allowed = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n), "allowed")) | (demand > 1000)
    cls = np.array(data.draw(st.lists(st.integers(0, 1), min_size=n, max_size=n), "class"))
    arcs = [pc for pc, k in zip(pairs, keep, strict=True) if k]
    slant = np.array(data.draw(st.lists(st.floats(550.0, 1300.0), min_size=len(arcs), max_size=len(arcs)), "slant"))
    active = active_terminals(cell, demand, allowed, cls, CLASSES)
    vis = CellVisibility(
        np.array([a[0] for a in arcs], np.int32), np.array([a[1] for a in arcs], np.int32), slant, active, C, S
    )
    return vis, cell, demand, allowed, cls, S


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(st.data())
def test_solver_matches_brute_force(data: st.DataObject) -> None:
    vis, cell, demand, allowed, cls, S = _synthetic(data)
    model = BeamModel(
        beams_per_sat=data.draw(st.integers(1, 2), "B"), max_beams_per_cell=data.draw(st.integers(1, 3), "k")
    )
    fairness = data.draw(st.sampled_from([0.0, 1.0, 2.0]), "fairness")
    p, _ = beam_problem(vis, cell, demand, cls, CLASSES, model, fairness)
    assume(_n_allocations(p) <= 20_000)
    beams, objective = solve_beams(p)
    assert objective == p.objective(beams)
    assert objective == _brute_best(p, model.max_beams_per_cell)
    # and the whole slot keeps its invariants on the same problem
    a = schedule_slot(vis, cell, demand, allowed, cls, CLASSES, model, fairness)
    assert a.objective == objective
    assert (a.beams_of_sat(S) <= model.beams_per_sat).all()
    assert (a.beams_of_cell(vis.n_cells) <= model.max_beams_per_cell).all()
    assert (a.beam_load_mbps <= a.beam_count * a.beam_capacity_mbps + 1e-9).all()
    assert (a.serving_sat[~allowed] == -1).all()
    eff = np.minimum(demand, CLASSES.cap_mbps[cls])
    assert (a.served_mbps <= eff + 1e-9).all()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(st.data())
def test_equal_beams_fairness_0_maximise_served_demand(data: st.DataObject) -> None:
    # every beam of the same capacity, one class, fairness 0: the objective is the demand served, so the flow's
    # optimum is the best sum over cells of min(D_c, beams_c x capacity) over every allocation (plain Python)
    vis, cell, demand, _, _, S = _synthetic(data)
    one = ServiceClasses.single()
    cls = np.zeros(len(cell), int)
    vis = CellVisibility(
        vis.cell,
        vis.sat,
        np.full(len(vis.cell), 550.0),
        active_terminals(cell, demand, np.ones(len(cell), bool), cls, one),
        vis.n_cells,
        S,
    )
    B = data.draw(st.integers(1, 2), "B")
    k = data.draw(st.integers(1, 3), "k")
    model = BeamModel(beams_per_sat=B, max_beams_per_cell=k)
    p, _ = beam_problem(vis, cell, demand, cls, one, model, fairness=0.0)
    assume(_n_allocations(p) <= 20_000)
    cap = float(model.beam_capacity_mbps(550.0))
    d_c = np.bincount(cell, weights=demand, minlength=vis.n_cells)
    arcs = list(zip(vis.cell.tolist(), vis.sat.tolist(), strict=True))
    best = 0.0
    per_sat = [[i for i, (_, s) in enumerate(arcs) if s == sat] for sat in range(S)]
    choices = [[x for x in itertools.product(range(B + 1), repeat=len(ix)) if sum(x) <= B] for ix in per_sat]
    for combo in itertools.product(*choices):
        n = np.zeros(vis.n_cells)
        for ix, x in zip(per_sat, combo, strict=True):
            for i, b in zip(ix, x, strict=True):
                n[arcs[i][0]] += b
        if (n <= k).all():
            best = max(best, float(np.minimum(d_c, n * cap).sum()))
    _, objective = solve_beams(p)
    assert objective / COST_PER_MBPS == pytest.approx(best, abs=len(p.tier_value) / COST_PER_MBPS + 1e-6)


@pytest.mark.parametrize("seed", range(6))
def test_solver_matches_brute_force_on_geometry(seed: int) -> None:
    case = Case(200 + seed, n_cells=2 + seed % 4, n_sats=40, per_cell=2)
    vis = case.vis()
    keep_sats = np.unique(vis.sat)[: 2 + seed % 3]  # 2-4 satellites
    sel = np.isin(vis.sat, keep_sats)
    vis = CellVisibility(vis.cell[sel], vis.sat[sel], vis.slant_km[sel], vis.active, vis.n_cells, vis.n_sats)
    model = BeamModel(beams_per_sat=1 + seed % 2, max_beams_per_cell=2)
    p, _ = beam_problem(vis, case.cd.terminal_cell, case.demand, case.cls, CLASSES, model)
    assert _n_allocations(p) <= 200_000
    _, objective = solve_beams(p)
    assert objective == _brute_best(p, 2)


def test_tier_values_by_hand() -> None:
    # one cell, a zenith beam (792.04416 Mbit/s): a priority-3 terminal of 300 and a priority-1 one of 1,000
    vis = CellVisibility(
        np.array([0], np.int32), np.array([0], np.int32), np.array([550.0]), np.array([True, True]), 1, 1
    )
    p, _ = beam_problem(vis, np.array([0, 0]), np.array([1000.0, 300.0]), np.array([0, 1]), CLASSES, BeamModel())
    cap = 240.0 * 3.300184
    assert p.cell_beams.tolist() == [2]
    assert p.tier_value.tolist() == [
        round((300 * 3 + (cap - 300)) * COST_PER_MBPS),
        round((1300 - cap) / 4 * COST_PER_MBPS),
    ]
    a = schedule_slot(
        vis,
        np.array([0, 0]),
        np.array([1000.0, 300.0]),
        np.array([True, True]),
        np.array([0, 1]),
        CLASSES,
        BeamModel(beams_per_sat=1),
    )
    # strict priority inside the cell: the priority-3 terminal is served in full, the other gets the rest
    assert a.served_mbps[1] == pytest.approx(300.0)
    assert a.served_mbps[0] == pytest.approx(cap - 300.0)


def _two_cells(demand_a: float, demand_b: float, prio: tuple[int, int] = (0, 0)):  # type: ignore[no-untyped-def]
    vis = CellVisibility(
        np.array([0, 1], np.int32), np.array([0, 0], np.int32), np.array([550.0, 550.0]), np.array([True, True]), 2, 1
    )
    return vis, np.array([0, 1]), np.array([demand_a, demand_b]), np.array([True, True]), np.array(prio)


def test_fairness_does_not_starve_a_small_cell() -> None:
    # one satellite with 2 beams; cell A wants 5,000 Mbit/s, cell B 300. The most-demand-first greedy (and the
    # fairness-0 objective) gives A both beams and B nothing; the default gives each cell a beam.
    vis, cell, demand, allowed, cls = _two_cells(5000.0, 300.0)
    model = BeamModel(beams_per_sat=2, max_beams_per_cell=2)
    cap = 240.0 * 3.300184
    # greedy: each beam to the cell with the most unserved demand
    unserved = demand.copy()
    greedy = [0, 0]
    for _ in range(2):
        c = int(np.argmax(unserved))
        greedy[c] += 1
        unserved[c] = max(0.0, unserved[c] - cap)
    assert greedy == [2, 0]
    greedy_like = schedule_slot(vis, cell, demand, allowed, cls, CLASSES, model, fairness=0.0)
    assert greedy_like.cell_served_mbps[1] == 0.0
    fair = schedule_slot(vis, cell, demand, allowed, cls, CLASSES, model)
    assert fair.beams_of_cell(2).tolist() == [1, 1]
    assert fair.cell_served_mbps[1] == pytest.approx(300.0)


def test_priority_class_gets_the_beam() -> None:
    # one beam, two cells of equal demand: the priority-3 (restricted-use) cell gets it whatever its order
    for prio in ((0, 1), (1, 0)):
        vis, cell, demand, allowed, _ = _two_cells(350.0, 350.0)
        a = schedule_slot(vis, cell, demand, allowed, np.array(prio), CLASSES, BeamModel(beams_per_sat=1))
        winner = int(np.argmax(prio))
        assert a.serving_sat[winner] == 0 and a.serving_sat[1 - winner] == -1
        # class 1 is capped at 400; a demand of 350 is below it
        assert a.served_mbps[winner] == pytest.approx(350.0)


def test_caps_and_denied() -> None:
    vis, cell, demand, _, _ = _two_cells(2000.0, 2000.0)
    allowed = np.array([True, False])
    vis = CellVisibility(vis.cell, vis.sat, vis.slant_km, allowed.copy(), 2, 1)
    a = schedule_slot(vis, cell, demand, allowed, np.array([1, 0]), CLASSES, BeamModel(beams_per_sat=4))
    assert a.served_mbps.tolist() == [400.0, 0.0]  # capped by class 1; denied gets nothing
    assert a.serving_sat.tolist() == [0, -1]
    assert a.beams_of_cell(2).tolist() == [1, 0]
    with pytest.raises(ValueError, match="active"):
        schedule_slot(vis, cell, demand, np.array([True, True]), np.array([1, 0]), CLASSES, BeamModel())


# --- slots ---------------------------------------------------------------------------------------------------

EPOCH = datetime(2026, 2, 23, tzinfo=UTC)


@pytest.fixture(scope="module")
def shell():  # type: ignore[no-untyped-def]
    con = from_shells("s", preset("starlink-550"), EPOCH)
    arr = SatrecArray(list(con.satrecs))

    def positions(t: np.ndarray) -> np.ndarray:
        jw, jf = julian_dates(EPOCH, t)
        return positions_itrf_km(arr, jw, jf)

    return positions


def _slot_case(seed: int = 3) -> dict:  # type: ignore[type-arg]
    rng = np.random.default_rng(seed)
    lat = 48.85 + rng.uniform(-0.5, 0.5, 80)
    lon = 2.35 + rng.uniform(-0.7, 0.7, 80)
    cd = aggregate_demand(cells_of(lat, lon), 0.0)
    r, up = _ecef(lat, lon)
    allowed = rng.random(80) > 0.1
    return dict(
        terminal_r_km=r,
        terminal_up=up,
        min_elevation_deg=np.full(80, 25.0),
        terminal_cell=cd.terminal_cell,
        n_cells=cd.n_cells,
        demand_mbps=rng.uniform(10, 300, 80),
        allowed=allowed,
        service_class=rng.integers(0, 2, 80),
        classes=CLASSES,
        model=BeamModel(beams_per_sat=4),
    )


def test_handovers_only_at_slot_edges(shell) -> None:  # type: ignore[no-untyped-def]
    kw = _slot_case()
    times = np.arange(3.0, 64.0, 1.0)  # slots 0..4, the first and last in part
    sched = slot_schedule(times, shell, 15.0, **kw)
    slot = np.floor(times / 15.0)
    s = sched.serving_sat
    assert len(sched.assignments) == 5
    for k in range(1, len(times)):
        if slot[k] == slot[k - 1]:
            same = s[k] == s[k - 1]
            lost = (s[k] == -1) & (s[k - 1] >= 0)
            assert (same | lost).all()
            # visible at both ends of its slot, a satellite stays above the mask in between: no loss here
            assert not lost.any()
    changed = (s[1:] != s[:-1]).any(axis=1)
    assert changed[slot[1:] != slot[:-1]].any()  # handovers do happen, at the edges
    # every snapshot: the serving satellite is above the terminal's mask; denied terminals are never served
    r = shell(times)
    for k in range(len(times)):
        on = np.flatnonzero(s[k] >= 0)
        assert (_elevation_deg(kw["terminal_r_km"][on], kw["terminal_up"][on], r[k, s[k, on]]) >= 25.0 - 1e-9).all()
    assert (s[:, ~kw["allowed"]] == -1).all()
    # a window that starts and ends inside slots gives the same rows (the chunks of a run agree)
    part = slot_schedule(times[20:47], shell, 15.0, **kw)
    assert (part.serving_sat == s[20:47]).all()
    assert (part.served_mbps_at(5) == sched.served_mbps_at(25)).all()
    assert (sched.served_mbps_at(0)[s[0] < 0] == 0).all() and sched.served_mbps_at(0).sum() > 0


def test_mask_loss_inside_a_slot(shell) -> None:  # type: ignore[no-untyped-def]
    kw = _slot_case(4)
    times = np.arange(0.0, 30.0, 1.0)
    base = slot_schedule(times, shell, 15.0, **kw)
    t0 = int(np.flatnonzero(base.serving_sat[0] >= 0)[0])
    victim = int(base.serving_sat[0, t0])

    first = int(np.flatnonzero(base.serving_sat[0] == victim)[0])
    term_r, term_up = kw["terminal_r_km"][first], kw["terminal_up"][first]
    east = np.cross([0.0, 0.0, 1.0], term_up)
    east /= np.linalg.norm(east)
    low = term_r + 1500.0 * (np.cos(np.radians(10.0)) * east + np.sin(np.radians(10.0)) * term_up)

    def setting(t: np.ndarray) -> np.ndarray:  # the victim is 10 deg up (above the horizon, below the 25 deg mask)
        r = shell(t)  # for 6 s <= t <= 9 s
        r[(t >= 6.0) & (t <= 9.0), victim] = low
        return r

    sched = slot_schedule(times, setting, 15.0, **kw)
    on_victim = base.serving_sat[0] == victim
    s = sched.serving_sat
    assert (s[:6] == base.serving_sat[:6]).all()
    assert (s[6:15, on_victim] == -1).all()  # unserved until the next slot edge, not re-assigned
    assert (s[6:15, ~on_victim] == base.serving_sat[6:15, ~on_victim]).all()
    assert (s[15:] == base.serving_sat[15:]).all()


def test_a_satellite_setting_before_the_slot_end_is_not_used(shell) -> None:  # type: ignore[no-untyped-def]
    kw = _slot_case(4)
    times = np.arange(0.0, 15.0, 1.0)
    base = slot_schedule(times, shell, 15.0, **kw)
    victim = int(base.serving_sat[0, np.flatnonzero(base.serving_sat[0] >= 0)[0]])

    def setting(t: np.ndarray) -> np.ndarray:  # below the horizon at the slot's end edge (t = 15 s)
        r = shell(t)
        r[t == 15.0, victim] *= -1.0
        return r

    sched = slot_schedule(times, setting, 15.0, **kw)
    assert victim not in sched.assignments[0].beam_sat.tolist()
    assert (sched.serving_sat != victim).all()
    assert (sched.serving_sat[0] >= 0).sum() > 0


def test_objective_refuses_a_broken_allocation() -> None:
    # two cells, two satellites, 2 beams each; cell 0 may take 2 beams (its demand), cell 1 one
    vis = CellVisibility(
        np.array([0, 0, 1, 1], np.int32),
        np.array([0, 1, 0, 1], np.int32),
        np.full(4, 550.0),
        np.array([True, True]),
        2,
        2,
    )
    p, _ = beam_problem(
        vis,
        np.array([0, 1]),
        np.array([1500.0, 100.0]),
        np.array([0, 0]),
        CLASSES,
        BeamModel(beams_per_sat=2, max_beams_per_cell=3),
    )
    assert p.cell_beams.tolist() == [2, 1]
    assert p.objective(np.array([1, 1, 1, 0])) == int(p.tier_value.sum())
    for bad in ([3, 0, 0, 0], [0, 0, 2, 0], [2, 0, 1, 0], [1, 1, 0, -1], [0, 1, 0, 2]):
        with pytest.raises(ValueError, match="constraint"):
            p.objective(np.array(bad))
    # cells 0 and 1 (2 beams' worth each) see satellite 0 only, cell 2 (1 beam) satellite 1 only, 2 beams each:
    # min(4 offered, 5 wanted) = 4 enter the flow, 3 can be used, 1 takes the bypass, which must cost nothing
    vis = CellVisibility(
        np.array([0, 1, 2], np.int32),
        np.array([0, 0, 1], np.int32),
        np.full(3, 550.0),
        np.array([True, True, True]),
        3,
        2,
    )
    p, _ = beam_problem(
        vis,
        np.array([0, 1, 2]),
        np.array([1500.0, 1500.0, 300.0]),
        np.zeros(3, int),
        CLASSES,
        BeamModel(2, 8, 240.0, 3),
    )
    assert p.cell_beams.tolist() == [2, 2, 1]
    beams, objective = solve_beams(p)
    assert beams.tolist() == [1, 1, 1]
    assert objective == p.objective(beams) == int(p.tier_value[p.tier_rank == 0].sum())


def test_service_classes_validation() -> None:
    for prio, cap in (([0.0], [1.0]), ([-1.0], [1.0]), ([2e6], [1.0]), ([1.0], [-1.0]), ([1.0], [np.nan])):
        with pytest.raises(ValueError):
            ServiceClasses(np.array(prio), np.array(cap))
    with pytest.raises(ValueError, match="one entry per class"):
        ServiceClasses(np.ones(2), np.ones(3))
    ok = ServiceClasses(np.array([1e-3, 1e6]), np.array([0.0, np.inf]))
    # a class capped at 0 takes no part
    act = active_terminals(np.array([0, 0]), np.array([5.0, 5.0]), np.array([True, True]), np.array([0, 1]), ok)
    assert act.tolist() == [False, True]


def test_small_rates_single_terminals_and_empty_inputs() -> None:
    case = Case(7, n_cells=3, n_sats=30, per_cell=1)
    case.demand[:] = [0.5, 0.2, 3.0]
    case.allowed[:] = True
    case.cls[:] = 0
    case.active = active_terminals(case.cd.terminal_cell, case.demand, case.allowed, case.cls, CLASSES)
    model = BeamModel()
    a = case.schedule(model)
    check_invariants(case, a, model)
    assert a.served_mbps == pytest.approx(case.demand)  # sub-Mbit/s rates are served, and counted per cell
    assert a.cell_served_mbps.sum() == pytest.approx(3.7)
    # one active terminal alone
    only = np.zeros(3, bool)
    only[1] = True
    case.allowed = only
    case.active = active_terminals(case.cd.terminal_cell, case.demand, case.allowed, case.cls, CLASSES)
    a = case.schedule(model)
    assert a.served_mbps.tolist() == [0.0, pytest.approx(0.2), 0.0] and a.serving_sat[1] >= 0
    # nobody active; no satellite with a position
    case.allowed = np.zeros(3, bool)
    case.active = np.zeros(3, bool)
    assert len(case.vis().cell) == 0 and (case.schedule(model).serving_sat == -1).all()
    geom = cell_geometry(case.r, case.up, case.mask, case.cd.terminal_cell, np.ones(3, bool), case.cd.n_cells)
    none = cell_visibility(np.full_like(case.sat, np.nan), geom)
    assert len(none.cell) == len(none.sat) == len(none.slant_km) == 0


def test_visibility_mixed_altitudes_and_wide_cells() -> None:
    # satellites at 340 km and 1,200 km; "cells" that are any index, here terminals up to ~600 km apart
    for seed in range(6):
        rng = np.random.default_rng(400 + seed)
        n = 60
        lat = 40 + rng.uniform(-3, 3, n)
        lon = 10 + rng.uniform(-4, 4, n)
        r, up = _ecef(lat, lon)
        cell = rng.integers(0, 4, n) if seed % 2 else (np.arange(n) // 6)
        n_cells = int(cell.max()) + 1
        mask = rng.uniform(10.0, 40.0, n)
        sat_lat = 40 + rng.uniform(-25, 25, 400)
        sat_lon = 10 + rng.uniform(-30, 30, 400)
        alt = np.where(rng.random(400) < 0.5, 340.0, 1200.0)
        sat, _ = _ecef(sat_lat, sat_lon, alt)
        active = rng.random(n) > 0.1
        got = cell_visibility(sat, cell_geometry(r, up, mask, cell, active, n_cells))
        links = ground_links(sat, r, up, mask)
        ref = visibility_from_candidates(links.ground, links.sat, links.length_km, cell, active, n_cells, len(sat))
        assert got.cell.tolist() == ref.cell.tolist() and got.sat.tolist() == ref.sat.tolist()
        assert len(got.cell) > 0
        assert (got.slant_km >= ref.slant_km - 1e-9).all()


def test_slot_schedule_rejects_bad_windows(shell) -> None:  # type: ignore[no-untyped-def]
    kw = _slot_case()
    for interval in (0.0, -15.0, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="interval_s"):
            slot_schedule(np.arange(3.0), shell, interval, **kw)
    with pytest.raises(ValueError, match="times_s"):
        slot_schedule(np.array([0.0, np.nan]), shell, 15.0, **kw)
