"""The Python API's result object: routes, summaries, and positions / links of any snapshot."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from leonet import budget, metrics, routes_table, runner, service
from leonet.assembly import Network, World, assemble
from leonet.constants import C_KM_S
from leonet.geodesy import ecef_to_geodetic
from leonet.metrics import Routes
from leonet.scenario import Scenario
from leonet.step import state_at


@dataclass
class Results:
    """What :func:`leonet.run` returns.  ``routes`` has one row per network, pair and snapshot
    (schema: :data:`leonet.routes_table.ROUTES_SCHEMA`); ``summary`` one row per network and pair."""

    scenario: Scenario
    prepared: World
    #: a pyarrow Table from :func:`run`; a Parquet-backed dataset from :func:`run_to_parquet`
    routes: Routes
    summary: pa.Table
    networks: pa.Table
    #: service intervals of every terminal per network (see :mod:`leonet.service`); empty without terminals
    service: pa.Table
    #: per network and terminal: seconds served / denied / without coverage
    terminals: pa.Table
    #: per network: satellites whose propagated state was physically impossible (or SGP4 failed) at one snapshot
    #: or more; they took part in no link there (also the ``unusable_sats`` column of ``networks``)
    unusable_sats: dict[str, int] = dataclasses.field(default_factory=dict)
    #: the access path of every terminal at every snapshot (:mod:`leonet.access_table`; with ``[access]`` only)
    access: pa.Table | ds.Dataset | None = None

    @property
    def world(self) -> World:
        """The assembled scenario (the same object as ``prepared``, its older name)."""
        return self.prepared

    @property
    def warnings(self) -> tuple[str, ...]:
        """Warnings about the input (element sets far from the window), as issued by ``assembly.assemble``."""
        return self.prepared.warnings

    @property
    def comparison(self) -> pa.Table:
        """Networks side by side (terminal-time served, denied, without coverage; median RTT)."""
        return service.network_comparison(self.terminals, self.networks)

    def access_table(self) -> pa.Table:
        """The access table with ``rtt_ms`` (terminal -> PoP); a ValueError without an ``[access]`` section."""
        if self.access is None:
            raise ValueError("the scenario has no [access] section; expected one to compute the access paths")
        from leonet.access_table import with_rtt

        table = self.access if isinstance(self.access, pa.Table) else self.access.to_table()
        return with_rtt(table)

    def access_summary(self) -> pa.Table:
        """Per network: share of terminal-snapshots served, median / p95 terminal -> PoP RTT, median ISL hops."""
        from leonet.access_table import summary

        if self.access is None:
            raise ValueError("the scenario has no [access] section; expected one to compute the access paths")
        return summary(self.access, [n.spec.name for n in self.prepared.networks])

    def access_pairs(self, pairs: list[tuple[str, str]]) -> pa.Table:
        """RTT between two terminals via their PoPs at every snapshot (null unless both are served)."""
        from leonet.access_table import pairs_via_pops

        return pairs_via_pops(self.prepared, self.access_table(), pairs)

    def reading_from(self, folder: Path) -> Results:
        """The same results, their streamed routes read from the parts in ``folder/routes/`` (after the output
        directory they were written into was committed under another name)."""
        if isinstance(self.routes, pa.Table):
            return self
        from leonet.parts import access_dataset, routes_dataset

        access = self.access
        if access is not None and not isinstance(access, pa.Table):
            access = access_dataset(Path(folder))
        return dataclasses.replace(self, routes=routes_dataset(Path(folder)), access=access)

    def routes_table(self, columns: list[str] | None = None) -> pa.Table:
        """The routes (or some of their columns) as an in-memory table, whether they are held or on disk; the
        columns not stored (``routes_table.DERIVED``: rtt_ms, stretch, reachable) are computed."""
        if isinstance(self.routes, pa.Table):
            return routes_table.with_derived(self.routes, columns)
        return routes_table.with_derived(self.routes.to_table(columns=routes_table.needed(columns)), columns)

    def to_pandas(self) -> Any:
        """The routes table as a pandas DataFrame (needs ``pandas``)."""
        return self.routes_table().to_pandas()

    def _index(self, network: str | int | None) -> int:
        nets = self.prepared.networks
        if network is None:
            return 0
        if isinstance(network, int):
            return range(len(nets))[network]
        for i, n in enumerate(nets):
            if n.spec.name == network:
                return i
        raise KeyError(f"no network {network!r}; have {[n.spec.name for n in nets]}")

    def _net(self, network: str | int | None) -> Network:
        return self.prepared.networks[self._index(network)]

    def nodes(self, network: str | int | None = None) -> pa.Table:
        """Node ids of a network: satellites ``0..S-1``, then the ground nodes."""
        return nodes_table(self._net(network), self.prepared)

    def positions(self, t_s: float, network: str | int | None = None) -> pa.Table:
        """Position of every node at ``t_s`` seconds after the epoch: ECEF km and WGS-84 lat / lon / alt."""
        net = self._net(network)
        st = state_at(self.prepared, self._index(network), t_s)
        r = np.concatenate([st.sat_r_km, st.ground.ecef_km[0]])
        lat, lon, alt_m = ecef_to_geodetic(r)
        nodes = nodes_table(net, self.prepared)
        return (
            nodes.append_column("x_km", pa.array(r[:, 0]))
            .append_column("y_km", pa.array(r[:, 1]))
            .append_column("z_km", pa.array(r[:, 2]))
            .append_column("lat_deg", pa.array(lat))
            .append_column("lon_deg", pa.array(lon))
            .append_column("alt_km", pa.array(alt_m / 1000.0))
        )

    def links(self, t_s: float, network: str | int | None = None) -> pa.Table:
        """Every link at ``t_s``: ``u``, ``v`` (node ids), ``kind`` (``isl`` / ``ground``), length and delay;
        the links the run used at its snapshots (policy decisions with their history, e.g. roaming)."""
        net = self._net(network)
        snap = state_at(self.prepared, self._index(network), t_s).snapshot
        S = net.n_sats
        g = snap.gsl
        n_isl = len(snap.isl)
        u = np.concatenate([snap.isl[:, 0], S + g.ground]).astype(np.int32)
        v = np.concatenate([snap.isl[:, 1], g.sat]).astype(np.int32)
        km = np.concatenate([snap.isl_km, g.length_km])
        frac = np.concatenate(
            [np.full(n_isl, net.spec.isl_speed_fraction), np.full(len(g.ground), net.spec.ground_link_speed_fraction)]
        )
        kind = pa.DictionaryArray.from_arrays(
            pa.array(np.r_[np.zeros(n_isl, np.int8), np.ones(len(g.ground), np.int8)]), pa.array(["isl", "ground"])
        )
        return pa.table({"u": u, "v": v, "kind": kind, "length_km": km, "delay_ms": km / (C_KM_S * frac) * 1e3})


def nodes_table(net: Network, prep: World) -> pa.Table:
    S = net.n_sats
    g = prep.ground
    return pa.table(
        {
            "node_id": pa.array(np.arange(S + g.size, dtype=np.int32)),
            "name": pa.array(list(net.constellation.sat_names) + list(g.names)),
            "kind": pa.array(["satellite"] * S + list(g.kind)),
        }
    )


def run(
    scenario: Scenario,
    progress: Callable[[int], None] | None = None,
    force: bool = False,
    workers: int | None = None,
) -> Results:
    """Simulate every network of ``scenario``; ``progress(n)`` is called after each ``n`` snapshots.  A run
    too large for the memory (constellation or routes; see :mod:`leonet.budget`) is refused unless ``force``.
    ``workers``: processes to compute on, as ``leonet run`` does (:mod:`leonet.pool`; default
    ``LEONET_WORKERS`` or the CPUs; 1: this process only); the tables are the same for any number."""
    return run_prepared(assemble(scenario, force=force), progress, force=force, workers=workers)


def run_prepared(
    prep: World, progress: Callable[[int], None] | None = None, force: bool = False, workers: int | None = None
) -> Results:
    """Simulate every network of an already prepared scenario, keeping the routes in memory: on ``workers``
    forked processes (see :func:`run`) when there is more than one part of work and more than one worker,
    else (or in a daemonic process, which may not have children) in this process."""
    budget.check_output(prep.estimate(), None, force, in_memory=True)
    from leonet import pool

    n_workers = pool.default_workers() if workers is None else max(1, int(workers))
    if n_workers > 1 and pool.available() and not _daemonic():
        from leonet import parts

        tasks = parts.plan(prep)
        if len(pool.runs_of(tasks, n_workers)) > 1:
            return _run_on_pool(prep, tasks, n_workers, progress)
    batches: list[pa.RecordBatch] = []
    acc: list[pa.RecordBatch] = []
    svc, unusable = _simulate(prep, progress, batches.append, acc.append)
    routes = pa.Table.from_batches(batches, schema=routes_table.ROUTES_SCHEMA).unify_dictionaries()
    return _results(prep, routes, svc, unusable, _access_of(prep, acc))


def _access_of(prep: World, batches: list[pa.RecordBatch] | list[pa.Table]) -> pa.Table | None:
    """The access rows of a run in memory (None without ``[access]``)."""
    if prep.access is None:
        return None
    from leonet.access_table import ACCESS_SCHEMA

    tables = [b if isinstance(b, pa.Table) else pa.Table.from_batches([b]) for b in batches]
    return pa.concat_tables([ACCESS_SCHEMA.empty_table(), *tables]).unify_dictionaries()


def _daemonic() -> bool:
    """Whether this process is a daemonic multiprocessing child (a process pool's worker, a Dask worker), which
    may not start processes of its own: then the run stays in this process."""
    import multiprocessing

    return bool(multiprocessing.current_process().daemon)


def _run_on_pool(prep: World, tasks: list[Any], workers: int, progress: Callable[[int], None] | None) -> Results:
    """:func:`run_prepared` on forked workers: the parts (``parts.plan``) computed by ``pool.pool_compute``
    without a folder, so each comes back with its routes; the routes put in the serial order (the parts'),
    the service runs and unusable satellites merged as ``leonet run`` merges them."""
    from leonet import parts, pool

    got: dict[Any, Any] = {}
    for out in pool.pool_compute(None, workers)(prep, tasks):
        got[parts.Task(out.net_index, out.k0, out.k1)] = out
        if progress is not None:
            progress(out.k1 - out.k0)
    tables = [got[t].routes for t in tasks]
    routes = pa.concat_tables(tables).unify_dictionaries() if tables else routes_table.ROUTES_SCHEMA.empty_table()
    svc, unusable = parts.merged_state(prep, tasks, got)
    access = _access_of(prep, [got[t].access for t in tasks if got[t].access is not None])
    return _results(prep, routes, svc, unusable, access)


def run_to_parquet(prep: World, path: Path, progress: Callable[[int], None] | None = None) -> Results:
    """Simulate every network, streaming the routes to a Parquet file chunk by chunk, so memory stays bounded
    however long the window; the result's ``routes`` is a dataset over that file (DuckDB scans it)."""
    acc: list[pa.RecordBatch] = []
    with pq.ParquetWriter(path, routes_table.STORED_SCHEMA, **routes_table.PARQUET_OPTIONS) as writer:
        svc, unusable = _simulate(prep, progress, lambda b: writer.write_batch(routes_table.stored(b)), acc.append)
    return _results(prep, ds.dataset(path, format="parquet"), svc, unusable, _access_of(prep, acc))


def _simulate(
    prep: World,
    progress: Callable[[int], None] | None,
    sink: Callable[[pa.RecordBatch], None],
    access_sink: Callable[[pa.RecordBatch], None] | None = None,
) -> tuple[pa.Table, dict[str, int]]:
    """Run every network (the serial runner), handing each chunk's routes to ``sink`` (its access rows to
    ``access_sink``); returns the service intervals and, per network, how many satellites were unusable
    (physically impossible or not propagated) at a snapshot or more."""
    return runner.run_serial(prep, sink, progress, access_sink=access_sink)


def _results(
    prep: World,
    routes: Routes,
    svc: pa.Table,
    unusable: dict[str, int],
    access: pa.Table | ds.Dataset | None = None,
) -> Results:
    summary, nets = metrics.summaries(routes)  # exact quantiles in bounded memory, one set of passes for both
    counts = [unusable.get(str(n), 0) for n in nets.column("network").to_pylist()]
    nets = nets.append_column("unusable_sats", pa.array(counts, type=pa.int64()))
    return Results(
        prep.scenario,
        prep,
        routes,
        summary,
        nets,
        svc,
        service.terminal_summary(svc),
        unusable,
        access,
    )
