"""The serial runner: every network's chunks one after another, each chunk's routes handed to a sink.

The Dask runner maps the same :func:`~leonet.chunk.simulate_chunk` over a cluster (each chunk from
:func:`~leonet.chunk.carry_at`); both end in :func:`finish`, which merges the chunks' coverage and service
run-lengths and unusable satellites into the run's service table and counts, so both give identical tables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import numpy as np
import pyarrow as pa

from leonet import service
from leonet.assembly import World
from leonet.chunk import CHUNK, ChunkResult, chunk_bounds, initial_carry, simulate_chunk
from leonet.faults import fault_names
from leonet.runlength import Runs, merge

Sink = Callable[[pa.RecordBatch], None]


def chunks(world: World, net_index: int, size: int = CHUNK) -> Iterator[ChunkResult]:
    """The chunks of one network in order, each continuing the previous one's carry."""
    carry = initial_carry(world)
    for k0, k1 in chunk_bounds(world, size):
        res = simulate_chunk(world, net_index, k0, k1, carry)
        carry = res.carry
        yield res


def service_table(world: World, net_index: int, runs: Runs) -> pa.Table:
    """The service intervals of one network from its merged status runs."""
    net = world.networks[net_index]
    p = world.policy
    return service.intervals_of_runs(
        net.spec.name,
        [world.ground.names[i] for i in world.terminals],
        net.n_sats + world.terminals,
        world.times_s,
        world.scenario.time.step_s,
        runs,
        list(p.rule_ids) if p is not None else [],
        list(p.reasons) if p is not None else [],
        list(fault_names(world.scenario.faults)),
    )


class Collector:
    """Folds chunk results (any order) into what a run reports besides its routes: per network the merged
    service runs and the unusable satellites.  Holds no routes and no carries; run-lengths are merged every
    :data:`MERGE_EVERY` chunks, so memory stays that of the runs."""

    MERGE_EVERY = 32

    def __init__(self, world: World) -> None:
        self.world = world
        self.runs: dict[int, list[Runs]] = {i: [] for i in range(len(world.networks))}
        self.bad = {i: np.zeros(n.n_sats, dtype=bool) for i, n in enumerate(world.networks)}

    def add(self, res: ChunkResult) -> None:
        self.bad[res.network] |= res.unusable
        parts = self.runs[res.network]
        parts.append(res.service)
        if len(parts) >= self.MERGE_EVERY:
            self.runs[res.network] = [merge(parts)]

    def finish(self) -> tuple[pa.Table, dict[str, int]]:
        """Service intervals of every network and, per network, how many satellites were unusable at a snapshot
        or more."""
        world = self.world
        services = []
        unusable: dict[str, int] = {}
        for i, net in enumerate(world.networks):
            unusable[net.spec.name] = int(self.bad[i].sum())
            if len(world.terminals):
                services.append(service_table(world, i, merge(self.runs[i])))
        return (pa.concat_tables(services) if services else service.empty(world.times_s)), unusable


def finish(world: World, results: Iterable[ChunkResult]) -> tuple[pa.Table, dict[str, int]]:
    """:meth:`Collector.finish` of the chunks' results (any order; their routes are not looked at)."""
    col = Collector(world)
    for r in results:
        col.add(r)
    return col.finish()


def run_serial(
    world: World,
    sink: Sink,
    progress: Callable[[int], None] | None = None,
    size: int = CHUNK,
    access_sink: Sink | None = None,
) -> tuple[pa.Table, dict[str, int]]:
    """Run every network chunk by chunk, handing each chunk's routes to ``sink`` (in order; its access rows, with
    ``[access]``, to ``access_sink``) and calling ``progress(n)`` after each chunk of ``n`` snapshots; returns
    what :func:`finish` returns.  Memory is one chunk plus the run-lengths."""
    col = Collector(world)
    for i in range(len(world.networks)):
        for res in chunks(world, i, size):
            if res.routes.num_rows:
                sink(res.routes)
            if access_sink is not None and res.access is not None:
                access_sink(res.access)
            if progress is not None:
                progress(res.k1 - res.k0)
            col.add(res)
    return col.finish()
