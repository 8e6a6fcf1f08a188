"""The serial runner (``leonet.runner``): what it hands to the sink and the progress callback, and the bound on
what its collector holds.

Reference: the same world computed in one chunk per network (``runner.chunks(world, i, size >= window)``, no
carried state) and folded by ``runner.finish``; the promises of ``run_serial``'s and ``Collector``'s docstrings
(routes handed over in order, ``progress(n)`` after each chunk of ``n`` snapshots, run-lengths merged every
``MERGE_EVERY`` chunks), the service rows' node ids.  A small world: two Walker networks (144 and 100
satellites), four cities and a terminal (served, then out of coverage, now and then), 40 snapshots.
"""

from __future__ import annotations

from functools import cache

import pyarrow as pa

from leonet import assembly, runner
from leonet.chunk import ChunkResult
from leonet.results import nodes_table
from leonet.routes_table import ROUTES_SCHEMA
from leonet.scenario import parse_scenario

SCENARIO = """
epoch = 2026-02-23T00:00:00Z
[time]
end_s = 1170
step_s = 30
[[networks]]
name = "low"
constellation = { shells = [{ altitude_km = 550, inclination_deg = 53, planes = 12, sats_per_plane = 12 }] }
[[networks]]
name = "high"
constellation = { shells = [{ altitude_km = 1100, inclination_deg = 70, planes = 10, sats_per_plane = 10 }] }
[ground]
cities = ["Berlin", "Warsaw", "Madrid", "Cairo"]
[[ground.stations]]
name = "KIT"
lat_deg = 60.0
lon_deg = 10.0
kind = "terminal"
[routing]
mode = "reconfig"
reconfiguration_interval_s = 120
"""


@cache
def _world() -> assembly.World:
    return assembly.assemble(parse_scenario(SCENARIO))


def _one_chunk(world: assembly.World) -> list[ChunkResult]:
    return [r for i in range(len(world.networks)) for r in runner.chunks(world, i, size=10_000)]


def test_run_serial_hands_every_chunk_in_order_and_reports_progress() -> None:
    world = _world()
    T = len(world.times_s)
    assert T == 40 and len(world.networks) == 2
    ref = _one_chunk(world)
    ref_routes = pa.Table.from_batches([r.routes for r in ref], schema=ROUTES_SCHEMA)
    assert set(ref_routes.column("network").to_pylist()) == {"low", "high"}  # both networks have routes
    batches: list[pa.RecordBatch] = []
    progress: list[int] = []
    service, unusable = runner.run_serial(world, batches.append, progress.append, size=7)
    assert progress == [7, 7, 7, 7, 7, 5] * 2  # per network, per chunk: its snapshots
    assert len(batches) == 12 and all(b.num_rows == n * len(world.src) for b, n in zip(batches, progress, strict=True))
    assert pa.Table.from_batches(batches, schema=ROUTES_SCHEMA).equals(ref_routes)
    ref_service, ref_unusable = runner.finish(world, ref)
    assert service.equals(ref_service) and unusable == ref_unusable == {"low": 0, "high": 0}
    # without a progress callback: the same
    again: list[pa.RecordBatch] = []
    assert runner.run_serial(world, again.append, size=7)[0].equals(ref_service) and len(again) == 12


def test_collector_merges_every_merge_every_chunks() -> None:
    """One-snapshot chunks, more than MERGE_EVERY of them: the collector never holds more than MERGE_EVERY
    run-length pieces per network, and folds them into what the one-chunk run gives."""
    world = _world()
    col = runner.Collector(world)
    held = []
    for i in range(len(world.networks)):
        for r in runner.chunks(world, i, size=1):
            col.add(r)
            held.append(len(col.runs[i]))
    assert len(held) == 80 > 2 * runner.Collector.MERGE_EVERY
    assert max(held) <= runner.Collector.MERGE_EVERY
    assert held[runner.Collector.MERGE_EVERY - 1] == 1  # merged when the 32nd piece came
    service, unusable = col.finish()
    ref_service, ref_unusable = runner.finish(world, _one_chunk(world))
    assert service.equals(ref_service) and unusable == ref_unusable
    assert set(service.column("status").to_pylist()) == {"served", "no-coverage"}  # the terminal's runs change


def test_service_rows_name_the_terminal_node_of_their_network() -> None:
    """The service table's ``node`` is the terminal's node id in its network (satellites first: ``Results``'
    nodes table), which differs between networks of different sizes."""
    world = _world()
    service, _ = runner.finish(world, _one_chunk(world))
    rows = service.to_pylist()
    assert {r["network"] for r in rows} == {"low", "high"}
    for i, net in enumerate(world.networks):
        nodes = nodes_table(net, world).to_pydict()
        node_of = dict(zip(nodes["name"], nodes["node_id"], strict=True))
        mine = [r for r in rows if r["network"] == net.spec.name]
        assert mine and all(r["node"] == node_of[r["terminal"]] for r in mine), i
