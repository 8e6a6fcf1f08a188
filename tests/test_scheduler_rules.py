"""The beam scheduler's terminal assignment against its documented rule, written out as a plain Python loop.

Reference: the "Terminals to beams" paragraph of ``leonet.scheduler``'s docstring, one cell and one terminal at a
time (no NumPy vector tricks): within a cell, service classes in strict priority order, each class served in
proportion to its demand (capped per terminal by its class); the cell's served demand laid along its beams
(highest capacity first) and each terminal put on the beam under the middle of its share, its rate trimmed to what
lies on that beam; a terminal with no capacity gets no satellite (-1); denied terminals get nothing.  The beams
per (satellite, cell) come from the solver (checked against brute force in ``tests/test_scheduler.py``); this
file checks what is done with them.
"""

from __future__ import annotations

import numpy as np
import pytest

from leonet.beams import BeamModel
from test_scheduler import CLASSES, Case


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
