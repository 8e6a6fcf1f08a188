"""``leonet.chunk`` with ``[access]`` (the scheduler's held serving) and faults, with and without pairs: a run
cut into small chunks, chained or each started from ``carry_at``, equals the one-chunk run row for row.

Reference: the module docstring's contract (a chunk continues its carry, so the window cut anywhere gives the
same rows) checked on every output of a chunk: the routes batch, the coverage and service runs (merged), the
unusable satellites and the access rows.  The scenario fails satellites, takes a gateway down and jams a
terminal inside the window (start and end between snapshots of a 15 s slot), so that the faults' branches of
``_simulate`` and the access rows' own links take part; ``pairs = "none"`` takes the coverage-only branch (no
graph, no routes); ``serving = "highest"`` serves from the snapshot's links, without the scheduler's held
assignment, and with ``max_ground_link_km`` (links by range) from the positions themselves.  Since a mutant
that is the same in every chunk passes the chunk comparison, absolute references too: ``leonet.faults``' rules
(a failed satellite serves nobody, a gateway that is down carries no access path) and, at each slot edge, the
held assignment against ``slot_access.assign_at_edge`` computed from ``step.state_at`` there (its own
positions, faults and policy) instead of the chunk's snapshot.  An empty chunk (k0 = k1) hands its carry over
and reports nothing.
"""

from __future__ import annotations

from functools import cache
from itertools import pairwise

import numpy as np
import pyarrow as pa
import pytest

from leonet import assembly, chunk, slot_access
from leonet.runlength import Runs, merge
from leonet.scenario import parse_scenario

TEXT = """
epoch = 2026-02-23T00:00:00Z
{pairs}
[time]
end_s = 50
step_s = 5
[routing]
mode = "reconfig"
reconfiguration_interval_s = 15
[[networks]]
name = "n"
constellation = {{ preset = "starlink-550" }}
{net}
[ground]
cities = ["New York", "London", "Paris", "Berlin", "Warsaw"]
cities_kind = "terminal"
[access]
{serving}
[[faults]]
kind = "satellite"
fraction = 0.1
seed = 5
start_s = 12
end_s = 37
[[faults]]
kind = "ground"
names = ["GW-GS218-Frankfurt"]
start_s = 20
end_s = 40
[[faults]]
name = "jam-paris"
kind = "jamming"
polygon = [[2.0, 48.6], [2.7, 48.6], [2.7, 49.1], [2.0, 49.1], [2.0, 48.6]]
start_s = 18
end_s = 31
"""
PAIRS = {
    "pairs": 'pairs = [["London", "Warsaw"], ["Paris", "Berlin"], ["New York", "London"]]',
    "none": 'pairs = "none"',
}


@cache
def _world(which: str) -> assembly.World:
    pairs = PAIRS["none" if which == "none" else "pairs"]
    serving = 'serving = "highest"' * (which in ("highest", "range"))
    net = "max_ground_link_km = 1200" * (which == "range")
    return assembly.assemble(parse_scenario(TEXT.format(pairs=pairs, serving=serving, net=net), "s.toml"))


def _chained(w: assembly.World, cuts: list[int]) -> list[chunk.ChunkResult]:
    out, carry = [], chunk.initial_carry(w)
    for k0, k1 in pairwise(cuts):
        res = chunk.simulate_chunk(w, 0, k0, k1, carry)
        carry = res.carry
        out.append(res)
    return out


def _alone(w: assembly.World, cuts: list[int]) -> list[chunk.ChunkResult]:
    return [chunk.simulate_chunk(w, 0, k0, k1, chunk.carry_at(w, 0, k0)) for k0, k1 in pairwise(cuts)]


def _runs_equal(a: Runs, b: Runs) -> bool:
    return all(np.array_equal(getattr(a, f), getattr(b, f)) for f in ("item", "first", "stop", "value"))


def _same(parts: list[chunk.ChunkResult], one: chunk.ChunkResult) -> None:
    routes = [p.routes for p in parts if p.routes.num_rows]
    got = pa.Table.from_batches(routes, schema=one.routes.schema) if routes else None
    if one.routes.num_rows:
        assert got is not None and got.equals(pa.Table.from_batches([one.routes]))
    else:
        assert got is None
    assert _runs_equal(merge([p.coverage for p in parts]), one.coverage)
    assert _runs_equal(merge([p.service for p in parts]), one.service)
    np.testing.assert_array_equal(np.logical_or.reduce([p.unusable for p in parts]), one.unusable)
    acc = [p.access for p in parts]
    assert one.access is not None and all(a is not None for a in acc)
    whole = pa.Table.from_batches([one.access])
    assert pa.Table.from_batches([a for a in acc if a is not None], schema=one.access.schema).equals(whole)


@pytest.mark.parametrize("which", ["pairs", "none", "highest", "range"])
def test_access_and_faults_in_small_chunks_equal_one_chunk(which: str) -> None:
    w = _world(which)
    T = len(w.times_s)
    one = chunk.simulate_chunk(w, 0, 0, T, chunk.initial_carry(w))
    # the faults and the scheduler's serving do show up in the one-chunk run
    assert one.access is not None and one.access.num_rows > 0
    rows = one.access.to_pydict()
    assert any(s is not None for s in rows["serving_sat"])
    assert (one.routes.num_rows > 0) == (which != "none")
    service = one.service.to_array(len(w.terminals), T)
    assert len(np.unique(service)) > 1  # the jammed terminal's status changes
    singles = _chained(w, list(range(T + 1)))
    _same(singles, one)
    _same(_chained(w, [0, 3, 3, 8, T]), one)
    fs = w.faults_of(0)
    assert fs is not None
    failed = fs.failed_sats(w.times_s)
    k_of = {float(t): k for k, t in enumerate(w.times_s)}
    hit = [failed[k_of[t], s] for t, s in zip(rows["t_s"], rows["serving_sat"], strict=True) if s is not None]
    assert hit and not any(hit)  # a failed satellite serves no terminal (leonet.faults)
    gw = [20.0 <= t < 40.0 for t, g in zip(rows["t_s"], rows["gateway"], strict=True) if g == "GW-GS218-Frankfurt"]
    assert gw and not any(gw)  # a gateway that is down carries no access path
    if which in (
        "pairs",
        "none",
    ):  # the assignment held from each slot edge is the scheduler's on state_at's inputs there
        edges = [k for k in range(T) if w.times_s[k] % 15.0 == 0.0]
        assert len(edges) == 4
        for k in edges:
            held = singles[k].carry.access
            assert held is not None
            _, want = slot_access.assign_at_edge(w, 0, float(w.times_s[k]), None)
            np.testing.assert_array_equal(held.assigned, want)
    _same(_alone(w, [0, 2, 4, 5, 9, T]), one)


def test_an_empty_chunk_hands_its_carry_over() -> None:
    w = _world("pairs")
    carry = chunk.carry_at(w, 0, 4)
    empty = chunk.simulate_chunk(w, 0, 4, 4, carry)
    S = w.networks[0].n_sats
    assert empty.routes.num_rows == 0 and len(empty.coverage) == 0 and len(empty.service) == 0
    assert empty.unusable.shape == (S,) and not empty.unusable.any()
    assert empty.access is not None and empty.access.num_rows == 0
    nxt = chunk.simulate_chunk(w, 0, 4, 9, empty.carry)
    ref = chunk.simulate_chunk(w, 0, 4, 9, carry)
    assert nxt.routes.equals(ref.routes)
    assert nxt.access is not None and ref.access is not None and nxt.access.equals(ref.access)


def test_a_satellite_without_a_position_at_one_snapshot_is_unusable(monkeypatch: pytest.MonkeyPatch) -> None:
    """The docstring: ``unusable`` holds the satellites without a position (NaN) at *a* snapshot of the chunk.
    The positions are the real ones with satellite 3's made NaN at t = 10 s only (a stand-in for SGP4 failing
    there): unusable in every chunk that holds t = 10 s, in no other."""
    w = _world("pairs")
    real = chunk.positions_at

    def positions(net, world, times):  # type: ignore[no-untyped-def]
        out = real(net, world, times).copy()
        out[np.asarray(times) == 10.0, 3] = np.nan
        return out

    monkeypatch.setattr(chunk, "positions_at", positions)
    T = len(w.times_s)
    k10 = int(np.flatnonzero(w.times_s == 10.0)[0])
    for k0, k1 in ((0, T), (k10, k10 + 1), (k10 - 1, k10 + 2), (0, k10), (k10 + 1, T)):
        res = chunk.simulate_chunk(w, 0, k0, k1, chunk.carry_at(w, 0, k0))
        assert np.flatnonzero(res.unusable).tolist() == ([3] if k0 <= k10 < k1 else []), (k0, k1)


def test_warmup_reaches_back_to_the_access_slot_in_ideal_routing() -> None:
    """``chunk.warmup_start`` with the scheduler's held serving, in ideal routing (every snapshot its own routing
    slot): its docstring's rule written out, the earlier of snapshot ``k0 - 1`` and the first snapshot of the
    15-s reconfiguration slot of ``k0 - 1`` (snapshots every 5 s from t = 0: three per slot), ``0`` at ``k0 = 0``;
    with ``serving = "highest"`` (no held assignment) only ``k0 - 1``."""
    text = TEXT.format(pairs=PAIRS["pairs"], serving="", net="").replace('mode = "reconfig"', 'mode = "ideal"')
    w = assembly.assemble(parse_scenario(text, "s.toml"))
    highest = assembly.assemble(parse_scenario(text.replace("[access]\n", '[access]\nserving = "highest"\n'), "s.toml"))
    T = len(w.times_s)
    assert T == 11
    for k0 in range(T + 1):
        assert chunk.warmup_start(w, k0) == (0 if k0 == 0 else 3 * ((k0 - 1) // 3)), k0
        assert chunk.warmup_start(highest, k0) == max(k0 - 1, 0), k0
