"""The run's serving satellites with ``[access] serving = "scheduler"`` (issue 9 §3, :mod:`leonet.slot_access`):
the beam scheduler's assignment at each reconfiguration slot edge, held for the slot.  Checked: ``serving_sat``
changes only at slot edges (or to none: the drop-out rule), it equals ``leonet capacity``'s assignment at every
edge, denied terminals and failed satellites get none, the drop-out rule itself (a held link that goes is not
re-assigned before the next edge), any split into chunks / parts / a resume gives the serial rows (slots of 3
snapshots, chunks of 4: not aligned), and ``serving = "highest"`` is still the highest satellite per snapshot."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from leonet import assembly
from leonet.access_table import ACCESS_SCHEMA, access_chunk, access_of_world
from leonet.results import run, run_prepared
from leonet.scenario import Scenario, parse_scenario

TEXT = """
epoch = 2026-02-23T00:00:00Z
pairs = "none"
[time]
end_s = 85
step_s = 5
[[networks]]
name = "n"
constellation = { preset = "starlink-550" }
[ground]
cities = ["New York", "Chicago", "London", "Paris", "Madrid", "Berlin"]
cities_kind = "terminal"
"""
INTERVAL_S = 15.0  # the default reconfiguration interval


def scenario(access: str = "", extra: str = "") -> Scenario:
    return parse_scenario(TEXT + extra + "[access]\n" + access, "s.toml")


def grid(table: pa.Table, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(T,) times and (T, N) serving satellites (-1: none) of a one-network access table."""
    t = table.column("t_s").to_numpy().reshape(-1, n)[:, 0]
    s = table.column("serving_sat").fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    return t, s.reshape(-1, n)


@pytest.fixture(scope="module")
def world() -> assembly.World:
    return assembly.assemble(scenario())


@pytest.fixture(scope="module")
def table(world: assembly.World) -> pa.Table:
    return access_of_world(world)


def test_the_scheduler_is_the_default_and_highest_the_option() -> None:
    assert scenario().access is not None and scenario().access.serving == "scheduler"  # type: ignore[union-attr]
    assert scenario('serving = "highest"\n').access.serving == "highest"  # type: ignore[union-attr]
    from leonet.errors import InputError

    with pytest.raises(InputError) as ei:
        scenario('serving = "best"\n')
    msg = str(ei.value)
    assert "\n" not in msg and "access.serving" in msg and "scheduler" in msg and "highest" in msg, msg


def test_serving_changes_only_at_slot_edges(world: assembly.World, table: pa.Table) -> None:
    t, s = grid(table, len(world.terminals))
    slot = np.floor(t / INTERVAL_S + 1e-9)
    same_slot = slot[1:] == slot[:-1]
    assert same_slot.sum() >= 10 and (~same_slot).sum() >= 4  # slots of 3 snapshots
    inside = same_slot[:, None] & (s[1:] != s[:-1])
    # inside a slot a terminal keeps its satellite or loses it (to none), never another one, never back
    assert (s[1:][inside] == -1).all()
    was_lost = same_slot[:, None] & (s[:-1] == -1)
    assert (s[1:][was_lost] == -1).all()
    # the test has teeth: handovers happen, and at edges
    edge_change = (~same_slot)[:, None] & (s[1:] != s[:-1]) & (s[1:] >= 0) & (s[:-1] >= 0)
    assert edge_change.sum() >= 3
    assert (s >= 0).mean() > 0.8


def test_serving_at_each_edge_is_the_capacity_assignment(world: assembly.World, table: pa.Table) -> None:
    from leonet.capacity import capacity_setup, slot_capacity, slot_edges

    t, s = grid(table, len(world.terminals))
    spec = capacity_setup(world)
    edges = slot_edges(world, spec.interval_s)
    assert len(edges) >= 5
    for e in edges:
        k = int(np.flatnonzero(np.isclose(t, e))[0])
        cap = slot_capacity(world, 0, float(e), spec)
        assert np.array_equal(s[k], cap.serving_sat), (e, s[k], cap.serving_sat)
        # and the rows of the slot hold it (or none)
        rows = np.flatnonzero(np.floor(t / INTERVAL_S + 1e-9) == np.floor(e / INTERVAL_S + 1e-9))
        assert ((s[rows] == cap.serving_sat) | (s[rows] == -1)).all()


def test_the_highest_option_is_the_highest_satellite_per_snapshot() -> None:
    """``serving = "highest"``: the satellite of highest elevation at every snapshot, recomputed here from the
    positions (step.state_at) and the elevation of every satellite, independently of the access code."""
    from leonet.step import min_elevations, state_at

    w = assembly.assemble(scenario('serving = "highest"\n'))
    acc = access_of_world(w)
    N = len(w.terminals)
    t, s = grid(acc, N)
    assert w.access is not None
    term = w.access.terminals
    mask = np.deg2rad(min_elevations(w.networks[0], w.ground)[term])
    handovers_inside = 0
    for k, tk in enumerate(t):
        st = state_at(w, 0, float(tk))
        d = st.sat_r_km[None, :, :] - st.ground.ecef_km[0][term][:, None, :]
        el = np.arcsin(np.einsum("nsj,nj->ns", d, st.ground.up[0][term]) / np.linalg.norm(d, axis=2))
        el = np.where(el >= mask[:, None], el, -np.inf)
        want = np.where(np.isfinite(el.max(axis=1)), el.argmax(axis=1), -1)
        assert np.array_equal(s[k], want), (tk, s[k], want)
        if k and np.floor(tk / INTERVAL_S + 1e-9) == np.floor(t[k - 1] / INTERVAL_S + 1e-9):
            handovers_inside += int(((s[k] != s[k - 1]) & (s[k] >= 0) & (s[k - 1] >= 0)).sum())
    assert handovers_inside > 0  # highest switches inside slots: the scheduler's hold is a real change


def test_policy_denied_terminals_get_no_satellite() -> None:
    sc = scenario(extra='[policy]\nlicences = [{ id = "l", countries = ["US", "FR", "ES", "DE"] }]\n')
    rows = run(sc, workers=1).access_table().to_pylist()
    london = [r for r in rows if r["terminal"] == "London"]
    assert london and all(r["serving_sat"] is None and r["pop"] is None for r in london)
    others = [r for r in rows if r["terminal"] != "London"]
    assert sum(r["serving_sat"] is not None for r in others) > 0.8 * len(others)


def test_failed_satellites_never_serve_and_a_failure_inside_a_slot_drops_the_terminal(table: pa.Table) -> None:
    """Fail, from t = 20 s (inside the slot 15..30 s) to 25 s, every satellite the run used: none serves while
    failed; the terminals they held at 15 s are unserved from 20 s to the next edge (30 s), even at 25 s when
    the satellites are back (no re-assignment inside a slot); at 30 s the scheduler assigns again."""
    N = 6
    t, base = grid(table, N)
    used = sorted(set(base[(t >= 15) & (t < 30)].ravel().tolist()) - {-1})
    assert used
    ids = ", ".join(map(str, used))
    got = run(scenario(extra=f'[[faults]]\nkind = "satellite"\nids = [{ids}]\nstart_s = 20\nend_s = 25\n'), workers=1)
    t2, s = grid(got.access_table(), N)
    assert np.array_equal(t, t2)
    during = (t2 >= 20) & (t2 < 25)
    assert not np.isin(s[during], used).any()
    at = {float(x): i for i, x in enumerate(t2)}
    held = base[at[15.0]] >= 0
    assert held.any()
    assert np.array_equal(s[at[15.0]], base[at[15.0]])  # before the fault: as without it
    assert (s[at[20.0]][held] == -1).all() and (s[at[25.0]][held] == -1).all()  # lost until the edge
    assert (s[at[30.0]] >= 0).mean() > 0.5  # the next edge assigns again


def test_the_drop_out_rule_on_links_directly(world: assembly.World) -> None:
    """serving_at: a held link missing at one snapshot loses the terminal until the next slot, even when the
    link is back; the other terminals keep theirs."""
    from leonet.slot_access import HeldServing, serving_at
    from leonet.topology import GroundLinks

    assert world.access is not None
    term = world.access.terminals
    S = world.networks[0].n_sats
    assigned = np.arange(len(term), dtype=np.int32) + 10
    assigned[-1] = -1
    held = HeldServing(1.0, assigned, np.zeros(len(term), dtype=bool))  # slot 1: 15..30 s

    def links(drop: int | None) -> GroundLinks:
        keep = [i for i in range(len(term) - 1) if i != drop]
        g = term[keep].astype(np.int32)
        return GroundLinks(np.r_[g, g], np.r_[assigned[keep], assigned[keep] + 1].astype(np.int32), np.ones(2 * len(g)))

    s1, h1 = serving_at(world, 0, 20.0, links(None), S, held)
    assert np.array_equal(s1, assigned)
    s2, h2 = serving_at(world, 0, 25.0, links(0), S, h1)
    assert s2[0] == -1 and np.array_equal(s2[1:], assigned[1:])
    s3, _ = serving_at(world, 0, 29.0, links(None), S, h2)
    assert s3[0] == -1 and np.array_equal(s3[1:], assigned[1:])


def same(a: pa.Table, b: pa.Table) -> bool:
    return bool(a.cast(ACCESS_SCHEMA).combine_chunks().unify_dictionaries().equals(
        b.cast(ACCESS_SCHEMA).combine_chunks().unify_dictionaries()
    ) or a.to_pylist() == b.to_pylist())  # fmt: skip


def test_chunks_parts_and_resume_give_the_one_chunk_rows(
    world: assembly.World, table: pa.Table, tmp_path: Path
) -> None:
    from leonet import parts

    T = len(world.times_s)
    one = access_of_world(world, T)
    assert same(one, table)
    for size in (1, 4):
        assert same(access_of_world(world, size), one)
    pieces = [access_chunk(world, 0, a, min(T, a + 4)) for a in range(0, T, 4)]
    assert same(pa.Table.from_batches(pieces), one)
    mem = run_prepared(world, workers=1).access
    assert isinstance(mem, pa.Table) and same(mem, one)
    out = tmp_path / "p"
    out.mkdir()
    got, _ = parts.run_to_parts(world, out, chunk_snapshots=4)
    assert got.access is not None and same(got.access.to_table(), one)
    files = sorted((out / "access").glob("part-*.parquet"))
    assert len(files) >= 3
    files[1].unlink()  # starts at snapshot 4 (20 s), inside the slot 15..30 s: the carry is rebuilt
    got2, resumed = parts.run_to_parts(world, out, chunk_snapshots=4)
    assert resumed >= 1 and got2.access is not None and same(got2.access.to_table(), one)


@pytest.mark.parametrize("routing", ["reconfig", "ideal"])
def test_a_loss_carried_across_a_chunk_edge_survives_chunks_and_a_resume(tmp_path: Path, routing: str) -> None:
    """Slots of 30 s (6 snapshots); the satellites held from 0 s fail at 10 s for one snapshot; the terminals
    they held stay unserved at 20 s, the first snapshot of the second part: parts of 4 snapshots, and a resume
    that recomputes that part from a rebuilt carry (its warm-up must start at the slot's first snapshot, also
    with routing ``ideal`` whose own warm-up is one snapshot), give the rows of the run in one chunk."""
    from leonet import parts

    N = 6
    slots = f'[routing]\nmode = "{routing}"\nreconfiguration_interval_s = 30\n'
    base_t = run_prepared(assembly.assemble(scenario(extra=slots)), workers=1).access
    assert isinstance(base_t, pa.Table)
    t, base = grid(base_t, N)
    used = sorted(set(base[0].tolist()) - {-1})
    assert used
    ids = ", ".join(map(str, used))
    fault = f'[[faults]]\nkind = "satellite"\nids = [{ids}]\nstart_s = 10\nend_s = 15\n'
    w = assembly.assemble(scenario(extra=slots + fault))
    one = run_prepared(w, workers=1).access
    assert isinstance(one, pa.Table)
    _, s = grid(one, N)
    assert t[4] == 20.0 and (s[4][base[0] >= 0] == -1).all() and (s[1] == base[1]).all()
    out = tmp_path / "f"
    out.mkdir()
    got, _ = parts.run_to_parts(w, out, chunk_snapshots=4)
    assert got.access is not None and same(got.access.to_table(), one)
    files = sorted((out / "access").glob("part-*.parquet"))
    files[1].unlink()
    got2, resumed = parts.run_to_parts(w, out, chunk_snapshots=4)
    assert resumed >= 1 and got2.access is not None and same(got2.access.to_table(), one)


def _between_edges(extra: str = "") -> tuple[assembly.World, np.ndarray, np.ndarray]:
    """Snapshots every 10 s, slots of 15 s: the edges 15 s and 45 s fall between snapshots (20 s and 50 s are
    their slots' first snapshots), so the run takes the state at the edge from ``state_at``."""
    sc = parse_scenario(TEXT.replace("step_s = 5", "step_s = 10") + extra + "[access]\n", "s.toml")
    w = assembly.assemble(sc)
    t, s = grid(run(sc, workers=1).access_table(), len(w.terminals))
    return w, t, s


def test_an_edge_between_snapshots_is_assigned_with_the_state_at_the_edge() -> None:
    """The module docstring: at a slot's first snapshot the held assignment is ``leonet capacity``'s at the
    slot's edge ``t_e`` (here 15 s, between the snapshots 10 s and 20 s), with the faults at ``t_e``; then the
    drop-out rule.  (1) No fault: serving at 20 s is the capacity assignment at 15 s (or none).  (2) The
    satellites it uses fail from 16 s: they were up at the edge, so they are assigned and then dropped at 20 s
    (-1), not replaced by others (the state at 20 s is not the edge's).  (3) They fail from 12 s to 17 s: down
    at the edge, so never assigned for the slot, although up again at 20 s."""
    from leonet.capacity import capacity_setup, slot_capacity

    w, t, s = _between_edges()
    at = {float(x): i for i, x in enumerate(t)}
    edge = slot_capacity(w, 0, 15.0, capacity_setup(w)).serving_sat
    row = s[at[20.0]]
    assert ((row == edge) | (row == -1)).all() and (row >= 0).sum() >= 3
    used = sorted(set(edge.tolist()) - {-1})
    ids = ", ".join(map(str, used))
    held = np.isin(edge, used)
    w2, t2, s2 = _between_edges(f'[[faults]]\nkind = "satellite"\nids = [{ids}]\nstart_s = 16\nend_s = 40\n')
    assert np.array_equal(t2, t)
    edge2 = slot_capacity(w2, 0, 15.0, capacity_setup(w2)).serving_sat
    assert np.array_equal(edge2, edge)  # the fault starts after the edge
    assert (s2[at[20.0]][held] == -1).all()
    w3, _, s3 = _between_edges(f'[[faults]]\nkind = "satellite"\nids = [{ids}]\nstart_s = 12\nend_s = 17\n')
    edge3 = slot_capacity(w3, 0, 15.0, capacity_setup(w3)).serving_sat
    assert not np.isin(edge3, used).any()
    row3 = s3[at[20.0]]
    assert not np.isin(row3, used).any() and ((row3 == edge3) | (row3 == -1)).all()


def test_the_drop_out_rule_at_the_ends_of_the_satellite_ids(world: assembly.World) -> None:
    """serving_at with satellite ids 0 and S - 1 (hand-made held assignment and links): terminal 0 on satellite
    0 with its link keeps it; terminal 1 on satellite 0 without a link loses it; terminal 2 on S - 1 without a
    link loses it although terminal 3, next to it, holds none (their keys 2 S + S - 1 and 3 S - 1 coincide);
    terminal 4 on S - 1 with its link keeps it; terminal 5 holds none (but has links)."""
    from leonet.slot_access import HeldServing, serving_at
    from leonet.topology import GroundLinks

    assert world.access is not None
    term = world.access.terminals
    S = world.networks[0].n_sats
    assert len(term) == 6
    assigned = np.array([0, 0, S - 1, -1, S - 1, -1], dtype=np.int32)
    held = HeldServing(1.0, assigned, np.zeros(6, dtype=bool))
    # 1 and 2: links to other satellites; 5: twenty links (a realistic number of links, which makes np.isin sort)
    g = np.r_[term[[0, 4, 1, 2]], np.full(20, term[5])].astype(np.int32)
    links = GroundLinks(g, np.r_[0, S - 1, 5, 7, np.arange(10, 30)].astype(np.int32), np.ones(24))
    s, h = serving_at(world, 0, 20.0, links, S, held)
    assert s.tolist() == [0, -1, -1, -1, S - 1, -1]
    assert h.lost.tolist() == [False, True, True, False, False, False]
