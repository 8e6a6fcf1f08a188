"""Runs longer than one chunk equal the same run done in one chunk, row for row (handover flags included).

The serial runner (``runner.chunks``) runs ``chunk`` snapshots at a time (``chunk.CHUNK`` = 64 by default) and
carries the routing state (kept paths, reconfiguration slot, previous path and end satellites for the handover
flags) from one chunk to the next.  Any state that is reset, or indexed by position within a chunk instead of within the
window, shows up as a difference from the one-chunk run at a chunk boundary; chunks of 1 and 7 snapshots (7
divides neither the 15 s slots nor the window) put boundaries everywhere.  The policy's ``allowed`` mask and the
coverage run-lengths are indexed by window position too: a moving terminal that crosses a geofence covers them.

Reference: the same runner with ``chunk`` >= the window (one chunk, no carried state).
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pyarrow as pa
import pytest

import leonet
from leonet import assembly, routes_table
from leonet.scenario import parse_scenario
from runs import simulate, window_decisions

EPOCH = "2026-02-23T00:00:00Z"


def _table(prep: assembly.World, size: int) -> tuple[pa.Table, np.ndarray]:
    batches, coverage = simulate(prep, 0, chunk=size)
    assert len(batches) == -(-len(prep.times_s) // size)
    return pa.Table.from_batches(batches, schema=routes_table.ROUTES_SCHEMA), coverage


@cache
def _reconfig() -> assembly.World:
    return assembly.assemble(
        parse_scenario(
            f"""
epoch = {EPOCH}
[time]
end_s = 46
step_s = 1
[[networks]]
name = "s550"
constellation = {{ preset = "starlink-550" }}
[ground]
cities = 18
[routing]
mode = "reconfig"
reconfiguration_interval_s = 15
"""
        )
    )


def _assert_same(a: pa.Table, b: pa.Table) -> None:
    assert a.num_rows == b.num_rows
    for name in a.column_names:
        x, y = a.column(name).to_pylist(), b.column(name).to_pylist()
        if x != y:
            i = next(i for i, (p, q) in enumerate(zip(x, y, strict=True)) if p != q)
            t = a.column("t_s")[i].as_py()
            pytest.fail(f"column {name} differs first at row {i} (t = {t} s): {x[i]!r} vs {y[i]!r}")


@pytest.mark.parametrize("size", [1, 7])
def test_small_chunks_equal_one_chunk_reconfig(size: int) -> None:
    prep = _reconfig()
    one, cov1 = _table(prep, 10_000)
    many, cov = _table(prep, size)
    _assert_same(many, one)
    assert np.array_equal(cov, cov1)
    # the comparison is only worth something if the flags it compares are not all false
    d = one.to_pydict()
    P = len(prep.src)
    t = np.array(d["t_s"])
    mid_slot = (t % 15 != 0) & np.array(d["rerouted"])
    assert sum(d["path_changed"]) > 0 and sum(d["first_sat_changed"]) > 0 and sum(d["last_sat_changed"]) > 0
    assert mid_slot.any(), "no pair re-routed inside a slot: the kept-path state is not exercised"
    # handovers at chunk boundaries (t = 7, 14, ...) are among them
    boundary = (t % 7 == 0) & (t > 0)
    assert np.array(d["path_changed"])[boundary].any()
    assert len(t) == P * 47


def test_default_chunk_boundary_ideal_mode() -> None:
    """The default chunk (64) on a window of 70 snapshots, one boundary at t = 64 s: the rows after it equal the
    one-chunk run, including the first snapshot of the second chunk (whose change flags look back across it)."""
    sc = parse_scenario(
        f"""
epoch = {EPOCH}
[time]
end_s = 69
step_s = 1
[[networks]]
name = "s550"
constellation = {{ preset = "starlink-550" }}
[ground]
cities = 8
[routing]
mode = "ideal"
"""
    )
    prep = assembly.assemble(sc)
    default = pa.Table.from_batches(simulate(prep, 0)[0], schema=routes_table.ROUTES_SCHEMA)
    one, _ = _table(prep, 10_000)
    _assert_same(default, one)
    # and the Python API (which uses the default chunk) gives the same rows
    _assert_same(leonet.run(sc).routes.combine_chunks(), one.combine_chunks())


def test_chunks_with_a_moving_terminal_and_a_geofence() -> None:
    """crimea-2022, 10 minutes around the time the boat enters the Sevastopol geofence, with 5-minute slots:
    the policy mask, coverage, moving great-circle distances and kept paths all cross chunk boundaries."""
    sc = leonet.load_scenario("crimea-2022")
    sc = sc.model_copy(
        update={
            "time": sc.time.model_copy(update={"start_s": 14100.0, "end_s": 14820.0, "step_s": 20.0}),
            "routing": sc.routing.model_copy(update={"mode": "reconfig", "reconfiguration_interval_s": 300.0}),
        }
    )
    prep = assembly.assemble(sc)
    decisions = window_decisions(prep)
    assert decisions is not None
    served = decisions.served
    assert served.any() and not served.all(), "the window must contain the boat's denial"
    one, cov1 = _table(prep, 10_000)
    for size in (1, 4):
        many, cov = _table(prep, size)
        _assert_same(many, one)
        assert np.array_equal(cov, cov1)
    gc = np.array(one.column("gc_km").to_pylist())
    assert len(np.unique(gc.round(6))) > len(prep.src)  # the boat moves: its distances change along the window
