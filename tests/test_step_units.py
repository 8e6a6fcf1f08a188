"""``leonet.step``'s decisions-only history pass (``policy_history`` / ``policy_carry_at``) in several blocks.

The windows of the other tests are shorter than one :data:`leonet.step.HISTORY_BLOCK` (256 snapshots), so the
history pass never crossed a block there.  Here the block is made 7 snapshots and the carries at many snapshot
indices (unsorted, repeated, 0, block edges, the window's end) are compared with the reference: the same
decisions taken over the whole prefix ``0..k-1`` at once (``step.decide`` in one call, one block), whose carry
is the start of each terminal's current stay abroad.  Scenario: ``tests/test_chunk_shape.py``'s car driving
from Poland into Germany and a terminal abroad since before the window (roaming limit: 302 s).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest

from leonet import assembly, step
from leonet.scenario import parse_scenario
from test_chunk_shape import SCENARIO, TRACK


@cache
def _world(folder: Path) -> assembly.World:
    (folder / "CAR.csv").write_text(TRACK)
    sc = parse_scenario(SCENARIO.format(mode="ideal"), source=str(folder / "s.toml"), base_dir=str(folder))
    return assembly.assemble(sc)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("step")


def _at_once(world: assembly.World, k: int) -> np.ndarray:
    _, carry = step.decide(world, world.times_s[:k], None)
    assert carry is not None
    return carry.abroad_since_s


def test_history_in_blocks_equals_the_prefix_at_once(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    world = _world(folder)
    T = len(world.times_s)
    assert T == 121
    monkeypatch.setattr(step, "HISTORY_BLOCK", 7)
    ks = [50, 0, 7, 1, 8, 14, 50, 61, 62, 100, T, 6]
    got = step.policy_history(world, ks)
    assert sorted(got) == sorted(set(ks))
    assert got[0] is None  # the window's start: no history
    seen_abroad = False
    for k in set(ks) - {0}:
        c = got[k]
        assert c is not None, k
        ref = _at_once(world, k)
        np.testing.assert_array_equal(c.abroad_since_s, ref, err_msg=f"k = {k}")
        single = step.policy_carry_at(world, k)
        assert single is not None
        np.testing.assert_array_equal(single.abroad_since_s, ref, err_msg=f"policy_carry_at, k = {k}")
        seen_abroad |= bool(np.isfinite(ref).any() and np.isnan(ref).any())
    # the car is at home early and abroad late; KIT-DE abroad throughout: the carries are not all alike
    assert seen_abroad
    assert not np.array_equal(got[8].abroad_since_s, got[T].abroad_since_s, equal_nan=True)  # type: ignore[union-attr]


def test_no_history_without_a_rule_that_looks_back(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    world = _world(folder)
    monkeypatch.setattr(step, "looks_back", lambda policy: False)
    assert step.policy_history(world, [0, 5, 121]) == {0: None, 5: None, 121: None}


def test_decisions_over_no_snapshots(folder: Path) -> None:
    """An empty chunk: no decisions (zero rows, one column per terminal); at the window's start no carry (the
    next chunk still starts the window), after it the carry passes through unchanged."""
    world = _world(folder)
    empty = world.times_s[:0]
    d, c = step.decide(world, empty, None)
    assert d is not None and d.served.shape == (0, len(world.terminals)) and c is None
    before = step.policy_carry_at(world, 90)
    assert before is not None
    d, c = step.decide(world, empty, before)
    assert d is not None and d.served.shape == (0, len(world.terminals)) and c is not None
    np.testing.assert_array_equal(c.abroad_since_s, before.abroad_since_s)


def test_state_at_with_a_carry_uses_its_roaming_history(folder: Path) -> None:
    """``state_at(..., carry)`` decides with the carry's history: the carry the window's own history gives
    equals no carry (the history pass); a carry that says "not abroad before" serves KIT-DE, which the real
    history (abroad since before the window, roaming limit 302 s) denies at t = 500 s."""
    from leonet.chunk import Carry
    from leonet.policy import PolicyCarry
    from leonet.router import RouterState

    world = _world(folder)
    k = 50
    t = float(world.times_s[k])
    real = step.policy_carry_at(world, k)
    assert real is not None
    plain = step.state_at(world, 0, t)
    given = step.state_at(world, 0, t, Carry(RouterState.initial(len(world.src)), real))
    assert plain.decisions is not None and given.decisions is not None
    assert np.array_equal(given.decisions.served, plain.decisions.served)
    assert world.fleet is not None
    kit = list(world.fleet.ids).index("KIT-DE")
    assert not plain.decisions.served[0, kit]
    fresh = Carry(RouterState.initial(len(world.src)), PolicyCarry(np.full_like(real.abroad_since_s, np.nan)))
    other = step.state_at(world, 0, t, fresh)
    assert other.decisions is not None and other.decisions.served[0, kit]
    assert other.allowed is not None and plain.allowed is not None
    assert not np.array_equal(other.allowed, plain.allowed)
