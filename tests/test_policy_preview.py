"""leonet.preview against the step itself: for every terminal and snapshot, the preview's outcome under a
policy is what ``step.state_at`` of a world with that policy gives (denied: its decision; served: the terminal has
a ground link in the snapshot; no-coverage: allowed but no link)."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import numpy as np
import pytest

from leonet.assembly import World, assemble
from leonet.policy import bind
from leonet.preview import OUTCOMES, Preview, coverage, preview, preview_times
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


def _assert_changes_are_the_differences(p: Preview, ids: list[str], times: np.ndarray, state: dict[float, Any]) -> None:
    """Every change the preview reports is a real difference at that snapshot (``state``: the outcomes before
    and after per time, from the step), and every difference is covered by a reported change at its run's
    first snapshot."""
    for c in p.changes:
        b, a = state[c.t_s]
        n = ids.index(c.kit_id)
        assert (b[n], a[n]) == (c.before, c.after), c
    for n, kit in enumerate(ids):
        prev = None
        for t in times:
            b, a = state[float(t)]
            pair = (b[n], a[n])
            if pair[0] != pair[1] and pair != prev:
                assert any(c.kit_id == kit and c.t_s == float(t) for c in p.changes), (kit, t, pair)
            prev = pair if pair[0] != pair[1] else None


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
    _assert_changes_are_the_differences(p, ids, times, state)
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


def _box(lat: float, lon: float, d: float = 0.2) -> list[list[float]]:
    return [[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d]]


def _outcome_with_faults(world: World, t_s: float) -> list[str]:
    """The service's order (leonet.server.snapshots): a rule's denial, then jamming, then no ground link."""
    st = state_at(world, 0, t_s)
    linked = set(st.snapshot.gsl.ground.tolist())
    assert st.decisions is not None
    jam = st.faults.jam_fault[0] if st.faults is not None else np.full(len(world.terminals), -1)
    out = []
    for n, g in enumerate(world.terminals):
        if not st.decisions.served[0, n]:
            out.append("denied")
        elif jam[n] >= 0:
            out.append("jammed")
        else:
            out.append("served" if int(g) in linked else "no-coverage")
    return out


@pytest.fixture(scope="module")
def faulted(worlds: tuple[World, World]) -> tuple[World, World]:
    """front-whitelist-2026 with two jamming zones (over Kramatorsk's registered unit, served; and over
    Donetsk's unregistered terminal, denied by the whitelist) for the first minute, and every satellite of the
    network failed from 60 s on."""
    from leonet.scenario import scenario_from_data

    before, after = worlds
    sc = before.scenario
    pos = {before.ground.names[i]: i for i in before.terminals}
    lat, lon, _, _ = before.ground.geodetic_at(np.array([0.0]))
    kram, don = pos["KIT-UA-0001"], pos["UNREG-DONETSK"]
    faults = [
        {"name": "jam-kramatorsk", "kind": "jamming", "polygon": _box(lat[0, kram], lon[0, kram]), "end_s": 60},
        {"name": "jam-donetsk", "kind": "jamming", "polygon": _box(lat[0, don], lon[0, don]), "end_s": 60},
        {"name": "all-down", "kind": "satellite", "fraction": 1.0, "start_s": 60},
    ]
    body = {**sc.model_dump(mode="json", exclude={"base_dir", "source"}), "faults": faults}
    fsc = scenario_from_data({**body, "base_dir": sc.base_dir, "source": "<test>"}, "<test>")
    fb = assemble(fsc)
    return fb, _with_policy(fb, after.scenario.policy)  # type: ignore[arg-type]


def test_preview_applies_faults_as_the_step_does(faulted: tuple[World, World]) -> None:
    before, after = faulted
    p = preview(before, before.policy, after.policy, 30.0, 1.0)  # 30, 45, 60, 75, 90 s
    times = preview_times(30.0, 1.0, 15.0)
    ids = list(p.terminal_ids)
    state = {float(t): (_outcome_with_faults(before, float(t)), _outcome_with_faults(after, float(t))) for t in times}
    _assert_changes_are_the_differences(p, ids, times, state)
    # at t0: the jammed terminals are "jammed", not denied, and say which fault
    start = {o.kit_id: o for o in p.at_start}
    assert [start[k].before for k in ids] == state[30.0][0] and [start[k].after for k in ids] == state[30.0][1]
    k1 = start["KIT-UA-0001"]
    assert (k1.before, k1.after) == ("jammed", "jammed") and k1.after_reason == "jammed (fault jam-kramatorsk)"
    d = start["UNREG-DONETSK"]
    assert (d.before, d.after) == ("denied", "jammed")  # the whitelist denies it; lifted, the jamming still bites
    assert d.after_reason == "jammed (fault jam-donetsk)" and "jam" not in d.before_reason
    (cd,) = [c for c in p.changes if c.kit_id == "UNREG-DONETSK" and c.t_s == 30.0]
    assert (cd.rule, cd.fault) == ("ua-whitelist-2026", "jam-donetsk")
    # the whitelist's effect: the unjammed occupied-area terminals come back (before the satellites fail), the
    # jammed one does not count
    back = {c.kit_id for c in p.changes if c.before == "denied" and c.after == "served"}
    assert back == {"UNREG-MELITOPOL", "UNREG-SIMFEROPOL"}
    assert [(r.rule, r.came_back) for r in p.summary if r.rule == "ua-whitelist-2026"] == [("ua-whitelist-2026", 2)]
    # from 60 s every satellite is failed: allowed terminals have no coverage, denied ones stay denied
    for t in (60.0, 75.0, 90.0):
        b, a = state[t]
        assert set(b) <= {"denied", "no-coverage"} and "no-coverage" in b and "jammed" not in b
        assert set(a) <= {"denied", "no-coverage"}
    assert not any(c.after == "jammed" or c.before == "jammed" for c in p.changes if c.t_s >= 60.0)


def test_preview_without_faults_serves_those_jammed_above(worlds: tuple[World, World]) -> None:
    """The same terminals, no faults: KIT-UA-0001 is served and UNREG-DONETSK comes back (the reference the
    faulted test departs from)."""
    before, after = worlds
    p = preview(before, before.policy, after.policy, 30.0, 0.0)
    start = {o.kit_id: o for o in p.at_start}
    assert start["KIT-UA-0001"].after == "served" and start["KIT-UA-0001"].after_reason == "no rule denies it"
    assert (start["UNREG-DONETSK"].before, start["UNREG-DONETSK"].after) == ("denied", "served")
