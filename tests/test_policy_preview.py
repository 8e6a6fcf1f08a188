"""leonet.preview against the step itself: for every terminal and snapshot, the preview's outcome under a
policy is what ``step.state_at`` of a world with that policy gives (denied: its decision; served: the terminal has
a ground link in the snapshot; no-coverage: allowed but no link)."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest

from leonet.assembly import World, assemble
from leonet.policy import bind
from leonet.preview import OUTCOMES, coverage, preview, preview_times
from leonet.scenario import load_scenario
from leonet.step import state_at

KHARKIV = {"type": "Polygon", "coordinates": [[[35.8, 49.8], [36.6, 49.8], [36.6, 50.2], [35.8, 50.2], [35.8, 49.8]]]}


def _with_policy(world: World, policy: dict) -> World:  # type: ignore[type-arg]
    sc = world.scenario.model_copy(update={"policy": policy})
    p = sc.compiled_policy()
    assert p is not None
    return dataclasses.replace(
        world, scenario=sc, policy=p, fleet=bind(p, [world.ground.names[i] for i in world.terminals])
    )


def _outcome_by_state_at(world: World, t_s: float) -> list[str]:
    st = state_at(world, 0, t_s)
    linked = set(st.snapshot.gsl.ground.tolist())
    assert st.decisions is not None
    out = []
    for n, g in enumerate(world.terminals):
        if not st.decisions.served[0, n]:
            out.append("denied")
        else:
            out.append("served" if int(g) in linked else "no-coverage")
    return out


@pytest.fixture(scope="module")
def worlds() -> tuple[World, World]:
    sc = load_scenario("front-whitelist-2026")
    before = assemble(sc)
    policy = copy.deepcopy(sc.policy)
    assert policy is not None
    policy["geofences"] = [  # the whitelist lifted, and a deny fence over Kharkiv
        {"id": "kharkiv-deny", "action": "deny", "priority": 5, "geometry": KHARKIV}
    ]
    return before, _with_policy(before, policy)


def test_preview_matches_state_at(worlds: tuple[World, World]) -> None:
    before, after = worlds
    p = preview(before, before.policy, after.policy, 30.0, 2.0)
    times = preview_times(30.0, 2.0, 15.0)
    assert np.array_equal(p.t_s, times) and len(times) == 9
    ids = list(p.terminal_ids)
    state = {}
    for t in times:
        b, a = _outcome_by_state_at(before, float(t)), _outcome_by_state_at(after, float(t))
        state[float(t)] = (b, a)
    # every change the preview reports is a real difference at that snapshot ...
    for c in p.changes:
        b, a = state[c.t_s]
        n = ids.index(c.kit_id)
        assert (b[n], a[n]) == (c.before, c.after)
    # ... and every difference is covered by a reported change (at its run's first snapshot)
    for n, kit in enumerate(ids):
        prev = None
        for t in times:
            b, a = state[float(t)]
            pair = (b[n], a[n])
            if pair[0] != pair[1] and pair != prev:
                assert any(c.kit_id == kit and c.t_s == float(t) for c in p.changes), (kit, t, pair)
            prev = pair if pair[0] != pair[1] else None
    # the expected effect, checked above against state_at: the hospital in Kharkiv goes dark, the occupied
    # areas' unregistered terminals come back
    dark = {c.kit_id for c in p.changes if c.after == "denied" and c.before == "served"}
    back = {c.kit_id for c in p.changes if c.before == "denied" and c.after == "served"}
    assert dark == {"KIT-UA-0003"}
    assert back == {"UNREG-DONETSK", "UNREG-MELITOPOL", "UNREG-SIMFEROPOL"}
    assert [(r.country, r.rule, r.went_dark, r.came_back) for r in p.summary] == [
        ("UA", "kharkiv-deny", 1, 0),
        ("UA", "ua-whitelist-2026", 0, 3),
    ]
    assert all(c.before in OUTCOMES and c.after in OUTCOMES for c in p.changes)


def test_coverage_is_the_snapshot_ground_links(worlds: tuple[World, World]) -> None:
    before, _ = worlds
    times = np.array([0.0, 100.0, 450.0])
    cov = coverage(before, 0, times)
    free = dataclasses.replace(before, policy=None, fleet=None)  # no policy: every node may link
    for k, t in enumerate(times):
        linked = set(state_at(free, 0, float(t)).snapshot.gsl.ground.tolist())
        assert cov[k].tolist() == [int(g) in linked for g in before.terminals]


def test_same_policy_changes_nothing(worlds: tuple[World, World]) -> None:
    before, _ = worlds
    p = preview(before, before.policy, before.policy, 0.0, 1.0)
    assert p.changes == [] and p.summary == []
