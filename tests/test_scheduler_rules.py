"""The beam scheduler's terminal assignment against its documented rule, written out as a plain Python loop.

Reference: the "Terminals to beams" paragraph of ``leonet.scheduler``'s docstring, one cell and one terminal at a
time (no NumPy vector tricks): within a cell, service classes in strict priority order, each class served in
proportion to its demand (capped per terminal by its class); the cell's served demand laid along its beams
(highest capacity first) and each terminal put on the beam under the middle of its share, its rate trimmed to what
lies on that beam; a terminal with no capacity gets no satellite (-1); denied terminals get nothing.  The beams
per (satellite, cell) come from the solver (checked against brute force in ``tests/test_scheduler.py``); this
file checks what is done with them.

The visibility tests below compare :func:`leonet.scheduler.cell_visibility` with a brute force: every active
terminal's elevation of every satellite at every instant recomputed from ECEF with NumPy (``asin(d . up / |d|)``,
``_elevation_deg`` of tests/test_scheduler.py), an arc wherever all of a cell's active terminals see the
satellite above their masks at all instants (the function's docstring), in geometries chosen to need each margin
of the bound: high masks (the vertical-tilt term), a polar cell with an equatorial one (the smallest ground
radius), a satellite without a position at the first instant.
"""

from __future__ import annotations

import numpy as np
import pytest

from leonet.beams import BeamModel
from leonet.scheduler import (
    ServiceClasses,
    SlotAssignment,
    SlotSchedule,
    active_terminals,
    beam_problem,
    cell_geometry,
    cell_visibility,
    schedule_slot,
    slot_schedule,
    visibility_from_candidates,
)
from test_scheduler import CLASSES, EPOCH, Case, _ecef, _elevation_deg, _slot_case


@pytest.fixture(scope="module")
def shell():  # type: ignore[no-untyped-def]
    """The starlink-550 shell's positions (ITRF km) at seconds after EPOCH, as tests/test_scheduler.py's."""
    from sgp4.api import SatrecArray

    from leonet.orbits.constellation import from_shells
    from leonet.orbits.propagate import positions_itrf_km
    from leonet.orbits.shells import preset
    from leonet.timebase import julian_dates

    arr = SatrecArray(list(from_shells("s", preset("starlink-550"), EPOCH).satrecs))

    def positions(t: np.ndarray) -> np.ndarray:
        jw, jf = julian_dates(EPOCH, t)
        out: np.ndarray = positions_itrf_km(arr, jw, jf)
        return out

    return positions


def reference_assignment(case: Case, a) -> tuple[np.ndarray, np.ndarray, dict[tuple[int, int], float]]:  # type: ignore[no-untyped-def]
    """Serving satellite and rate per terminal, and load per beam group, from the groups of ``a``."""
    n = len(case.demand)
    serving = np.full(n, -1)
    served = np.zeros(n)
    load: dict[tuple[int, int], float] = {}
    eff = np.minimum(case.demand, CLASSES.cap_mbps[case.cls])
    prio = CLASSES.priority[case.cls]
    for c in range(case.cd.n_cells):
        groups = [
            (int(s), int(k) * float(cap))
            for cc, s, k, cap in zip(a.beam_cell, a.beam_sat, a.beam_count, a.beam_capacity_mbps, strict=True)
            if cc == c
        ]
        caps = [float(cap) for cc, cap in zip(a.beam_cell, a.beam_capacity_mbps, strict=True) if cc == c]
        assert caps == sorted(caps, reverse=True)  # highest capacity first
        total = sum(g for _, g in groups)
        members = [t for t in range(n) if case.active[t] and case.cd.terminal_cell[t] == c]
        members.sort(key=lambda t: (-prio[t], t))
        # strict priority between classes, proportional within one
        share = {}
        higher = 0.0
        for p in sorted({prio[t] for t in members}, reverse=True):
            cls = [t for t in members if prio[t] == p]
            d = sum(eff[t] for t in cls)
            phi = min(max((total - higher) / d, 0.0), 1.0)
            for t in cls:
                share[t] = eff[t] * phi
            higher += d
        # along the beams
        pos = 0.0
        for t in members:
            lo, hi = pos, pos + share[t]
            pos = hi
            if share[t] <= 0:
                continue
            mid = lo + 0.5 * share[t]
            edge = 0.0
            for s, g in groups:
                if edge <= mid < edge + g:
                    got = min(hi, edge + g) - max(lo, edge)
                    if got > 0:
                        serving[t], served[t] = s, got
                        load[(c, s)] = load.get((c, s), 0.0) + got
                    break
                edge += g
    return serving, served, load


@pytest.mark.parametrize("seed", range(10))
def test_terminals_follow_the_documented_rule(seed: int) -> None:
    """Random cases of tests/test_scheduler.py (two classes, one capped; denied terminals; zero demands), few
    beams so that cells run short: each terminal's satellite and rate, and each group's load, are the loop's."""
    case = Case(100 + seed, n_cells=5 + seed % 4, n_sats=15 + 4 * (seed % 3), per_cell=3 + seed % 5)
    model = BeamModel(beams_per_sat=1 + seed % 2, max_beams_per_cell=1 + seed % 3)
    a = case.schedule(model, fairness=float(seed % 3))
    serving, served, load = reference_assignment(case, a)
    assert a.serving_sat.tolist() == serving.tolist()
    np.testing.assert_allclose(a.served_mbps, served, rtol=1e-9, atol=1e-9)
    for c, s, x in zip(a.beam_cell, a.beam_sat, a.beam_load_mbps, strict=True):
        assert float(x) == pytest.approx(load.get((int(c), int(s)), 0.0), rel=1e-9, abs=1e-9)
    cell_demand = np.bincount(
        case.cd.terminal_cell[case.active],
        weights=np.minimum(case.demand, CLASSES.cap_mbps[case.cls])[case.active],
        minlength=case.cd.n_cells,
    )
    np.testing.assert_allclose(a.cell_demand_mbps, cell_demand, rtol=1e-12)
    np.testing.assert_allclose(
        a.cell_served_mbps, np.bincount(case.cd.terminal_cell, weights=served, minlength=case.cd.n_cells), atol=1e-9
    )


def brute_arcs(
    sat: np.ndarray, r: np.ndarray, up: np.ndarray, mask: np.ndarray, cell: np.ndarray, active: np.ndarray
) -> list[tuple[int, int]]:
    """(cell, satellite) pairs, sorted, where every active terminal of the cell sees the satellite at or above
    its mask at every instant of ``sat`` (E, S, 3); a satellite with a NaN coordinate at any instant: none."""
    out = []
    for c in sorted(set(cell[active].tolist())):
        ts = np.flatnonzero(active & (cell == c))
        for s in range(sat.shape[1]):
            if not np.isfinite(sat[:, s]).all():
                continue
            if all(
                (_elevation_deg(r[ts], up[ts], np.repeat(sat[e, s][None], len(ts), 0)) >= mask[ts]).all()
                for e in range(len(sat))
            ):
                out.append((int(c), s))
    return out


def _arcs_of(vis) -> list[tuple[int, int]]:  # type: ignore[no-untyped-def]
    return list(zip(vis.cell.tolist(), vis.sat.tolist(), strict=True))


def test_visibility_with_satellites_without_a_position() -> None:
    """Random cases, two instants; one satellite with a NaN x at the first instant, another with a NaN z at the
    second: they take part in nothing, and every other arc is the brute force's."""
    for seed in range(4):
        case = Case(500 + seed, n_cells=5, n_sats=50, per_cell=5)
        rng = np.random.default_rng(seed)
        sat = np.stack([case.sat, case.sat + rng.normal(0.0, 40.0, case.sat.shape)])
        sat[0, 3, 0] = np.nan
        sat[1, 7, 2] = np.nan
        got = cell_visibility(sat, case.geometry())
        want = brute_arcs(sat, case.r, case.up, case.mask, case.cd.terminal_cell, case.active)
        assert len(want) > 0
        assert _arcs_of(got) == want


def test_visibility_with_high_masks_needs_the_tilt() -> None:
    """Three terminals 0.45 deg (50 km) apart on a meridian, one cell, masks 84.2-85.2 deg; satellites 550 km up
    on a grid around the middle terminal's zenith.  The sight line turns by at most asin(50 / 550) = 5.22 deg over
    the cell, the outer terminals' verticals by 0.45 deg more: a bound without that tilt calls pairs sure that the
    outer terminals do not see.  Arcs: the brute force's."""
    lat = np.array([44.55, 45.0, 45.45])
    lon = np.full(3, 7.0)
    r, up = _ecef(lat, lon)
    g_lat, g_lon = np.meshgrid(np.linspace(44.7, 45.3, 13), np.linspace(6.6, 7.4, 13))
    sat, _ = _ecef(g_lat.ravel(), g_lon.ravel(), 550.0)
    cell = np.zeros(3, dtype=np.int64)
    active = np.ones(3, dtype=bool)
    for mask_deg in (84.2, 84.5, 84.7, 85.0, 85.2):
        mask = np.full(3, mask_deg)
        got = cell_visibility(sat, cell_geometry(r, up, mask, cell, active, 1))
        want = brute_arcs(sat[None], r, up, mask, cell, active)
        assert _arcs_of(got) == want


def test_visibility_of_a_polar_cell_beside_an_equatorial_one() -> None:
    """One terminal at the equator (ground radius 6,378 km) and one at 89.5 deg N (6,357 km), masks 25 deg,
    satellites all at 6,928 km from the centre around the polar terminal, seen between 24 and 27 deg: the
    k-d tree's radius must be the slant range over the smallest ground radius (at the pole the satellites stand
    21 km higher).  Arcs: the brute force's."""
    r, up = _ecef(np.array([0.0, 89.5]), np.array([10.0, 10.0]))
    # satellites on circles around the polar terminal: elevation e at radius r_s from a ground radius R gives a
    # central angle acos(R cos(e) / r_s) - e (the sphere; the brute force uses the true ellipsoid normal)
    R, r_s = float(np.linalg.norm(r[1])), 6928.0
    pts = []
    for e in np.linspace(24.0, 27.0, 31):
        psi = np.arccos(R * np.cos(np.radians(e)) / r_s) - np.radians(e)
        for az in np.linspace(0.0, 2 * np.pi, 12, endpoint=False):
            # from the pole-ish terminal: rotate its direction by psi towards azimuth az
            n = r[1] / np.linalg.norm(r[1])
            east = np.cross([0.0, 0.0, 1.0], n)
            east /= np.linalg.norm(east)
            north = np.cross(n, east)
            d = np.cos(psi) * n + np.sin(psi) * (np.cos(az) * north + np.sin(az) * east)
            pts.append(r_s * d)
    sat = np.array(pts)
    cell = np.array([0, 1])
    active = np.ones(2, dtype=bool)
    mask = np.full(2, 25.0)
    got = cell_visibility(sat, cell_geometry(r, up, mask, cell, active, 2))
    want = brute_arcs(sat[None], r, up, mask, cell, active)
    assert len(want) > 0
    assert _arcs_of(got) == want


def test_geometry_without_active_terminals_is_empty() -> None:
    """No active terminal: no cell has any, so every per-cell array of the geometry is empty ((0, 3) for the
    reference points and verticals), and no arc."""
    r, up = _ecef(np.array([10.0, 11.0]), np.array([20.0, 20.0]))
    g = cell_geometry(r, up, np.full(2, 25.0), np.array([0, 1]), np.zeros(2, dtype=bool), 2)
    assert g.ref_km.shape == (0, 3) and g.ref_up.shape == (0, 3)
    assert len(g.cells) == len(g.cell_mask_deg) == len(g.spread_km) == len(g.tilt_deg) == 0
    assert len(cell_visibility(r + 500.0, g).cell) == 0


@pytest.mark.parametrize("multiple", [1, 2, 3])
def test_a_cell_needing_a_whole_number_of_beams_gets_that_many_tiers(multiple: int) -> None:
    """The docstring's m_c = min(k, ceil(D_c / best_c)): one terminal whose demand is exactly 1, 2 or 3 times its
    best beam's capacity (the zenith beam, 240 MHz x 3.300184 bit/s/Hz; x 2 and x 3 divide back exactly) needs
    exactly that many beams, not one more."""
    model = BeamModel()
    best = float(model.beam_capacity_mbps(550.0))
    demand = np.array([multiple * best])
    classes = ServiceClasses.single()
    cls = np.zeros(1, dtype=np.int64)
    cell = np.zeros(1, dtype=np.int64)
    active = active_terminals(cell, demand, np.ones(1, dtype=bool), cls, classes)
    vis = visibility_from_candidates(np.array([0]), np.array([0]), np.array([550.0]), cell, active, 1, 1)
    problem, _ = beam_problem(vis, cell, demand, cls, classes, model)
    assert problem.cell_beams.tolist() == [multiple]
    assert problem.tier_rank.tolist() == list(range(multiple))


def test_one_negative_demand_is_refused() -> None:
    """schedule_slot refuses demand_mbps with any value below 0 (its check, "must be >= 0"), not only when all
    are: one terminal of two at -1 Mbit/s."""
    classes = ServiceClasses.single()
    cls = np.zeros(2, dtype=np.int64)
    cell = np.zeros(2, dtype=np.int64)
    allowed = np.ones(2, dtype=bool)
    active = active_terminals(cell, np.array([5.0, 5.0]), allowed, cls, classes)
    vis = visibility_from_candidates(np.array([0, 1]), np.array([0, 0]), np.full(2, 550.0), cell, active, 1, 1)
    with pytest.raises(ValueError, match="demand_mbps"):
        schedule_slot(vis, cell, np.array([-1.0, 5.0]), allowed, cls, classes, BeamModel())
    ok = schedule_slot(vis, cell, np.array([5.0, 5.0]), allowed, cls, classes, BeamModel())
    assert ok.serving_sat.tolist() == [0, 0]


@pytest.mark.parametrize("interval", [0.5, 15.0, 40.0])
def test_slot_schedule_asks_for_the_positions_at_the_slot_edges(shell, interval: float) -> None:  # type: ignore[no-untyped-def]
    """The docstring: each slot ``k = floor(t / interval)`` of the window is scheduled from the positions at its
    edge ``k interval`` and its end ``(k + 1) interval``, then the snapshots' own; any finite interval > 0 (half a
    second too).  The times asked of ``positions_km`` are recorded: exactly those (hand-computed from the rule)."""
    asked: list[list[float]] = []

    def positions(t: np.ndarray) -> np.ndarray:
        asked.append(np.asarray(t, dtype=float).tolist())
        out: np.ndarray = shell(t)
        return out

    times = np.array([3.0, 31.0, 44.0, 95.0])
    sched = slot_schedule(times, positions, interval, **_slot_case())
    k = np.unique(np.floor(times / interval))
    assert asked[0] == (np.r_[k, k + 1.0] * interval).tolist()
    assert asked[1] == times.tolist() and len(asked) == 2
    assert sched.slots.tolist() == k.tolist() and len(sched.assignments) == len(k)


def test_served_at_a_snapshot_counts_satellite_zero() -> None:
    """SlotSchedule.served_mbps_at: "its slot's, 0 where it has no satellite then" -- satellite id 0 is a
    satellite (hand-made schedule: terminal 0 on satellite 0, terminal 1 none, terminal 2 on satellite 3, then
    terminal 2 lost)."""
    a = SlotAssignment(
        serving_sat=np.array([0, -1, 3], np.int32),
        served_mbps=np.array([5.0, 0.0, 7.0]),
        beam_cell=np.zeros(0, np.int32),
        beam_sat=np.zeros(0, np.int32),
        beam_count=np.zeros(0, np.int32),
        beam_capacity_mbps=np.zeros(0),
        beam_load_mbps=np.zeros(0),
        cell_demand_mbps=np.zeros(1),
        cell_served_mbps=np.zeros(1),
        objective=0,
    )
    sched = SlotSchedule(
        np.array([0.0, 1.0]), np.zeros(2, np.int64), np.zeros(1), (a,), np.array([[0, -1, 3], [0, -1, -1]], np.int32)
    )
    assert sched.served_mbps_at(0).tolist() == [5.0, 0.0, 7.0]
    assert sched.served_mbps_at(1).tolist() == [5.0, 0.0, 0.0]


def test_a_share_lost_to_rounding_gets_no_satellite() -> None:
    """The docstring: a terminal with no capacity gets no satellite (-1), so a terminal on a satellite is served
    more than 0.  Terminal 1's demand, 1e-14 Mbit/s, is laid after terminal 0's 300 Mbit/s on a 792 Mbit/s beam:
    300 + 1e-14 rounds to 300 (the spacing of doubles there is 5.7e-14), so nothing of the beam lies under it."""
    classes = ServiceClasses.single()
    cls = np.zeros(2, dtype=np.int64)
    cell = np.zeros(2, dtype=np.int64)
    allowed = np.ones(2, dtype=bool)
    demand = np.array([300.0, 1e-14])
    assert 300.0 + 1e-14 == 300.0
    active = active_terminals(cell, demand, allowed, cls, classes)
    vis = visibility_from_candidates(np.array([0, 1]), np.array([0, 0]), np.full(2, 550.0), cell, active, 1, 1)
    a = schedule_slot(vis, cell, demand, allowed, cls, classes, BeamModel())
    assert a.serving_sat[0] == 0 and a.served_mbps[0] == 300.0
    assert ((a.serving_sat >= 0) == (a.served_mbps > 0)).all()
