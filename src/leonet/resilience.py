"""Resilience: the same window run with growing random satellite and laser-link failures, measured against the
run without faults (``leonet resilience``).

For each failure rate ``r`` and seed ``k`` the scenario gets two faults for the whole window
(:func:`with_random_failures`): a share ``r`` of each network's satellites (seed ``2k``) and a share ``r`` of its
laser links (seed ``2k + 1``), drawn once (:mod:`leonet.faults`).  Rate 0 is the baseline, run once (no seed
changes a run without faults).  Each run is measured per network (:func:`measure`):

* ``reachability``: the share of pair-snapshots with a route;
* ``stretch_median`` / ``stretch_p95``: the RTT stretch (route delay over the great-circle bound, the routes
  table's ``stretch``) over the reachable pair-snapshots, so read it with the reachability (a pair cut off
  leaves the distribution);
* ``outage_mean_s`` / ``outage_max_s``: the time without service per terminal (seconds without coverage or
  jammed, from the service table; a policy's denial is not an outage), or, in a scenario without terminals,
  per routed ground node (seconds at which none of its pairs has a route);
* ``throughput_down_median_mbps`` / ``throughput_down_p10_mbps``: the median and 10th percentile (linear
  interpolation, as ``numpy.percentile``) of the downlink throughput per terminal, over the terminal-slots the
  policy permits (a policy's denial is not a loss of throughput; a terminal without coverage, jammed or cut off
  by the failures counts with what it gets, often 0), from the flow model (:mod:`leonet.capacity`: the beam
  scheduler, the access paths and the max-min fair flows) at every slot edge of the window;
* ``carried_gbps``: the rate the network carries, all terminals' down and up flows together (Gbit/s), the mean
  over the slot edges.

The throughput columns need the scenario's ``[access]`` section (terminals, gateways, PoPs): without one, or
without access terminals, they are NaN (there is no throughput to measure, rather than a made-up one).  The flow
model runs at slot edges only (one :func:`leonet.capacity.slot_capacity` per edge and network, as
``leonet capacity``), not at every snapshot.  No I/O: the CLI writes the table and the figure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from leonet.assembly import World
from leonet.errors import InputError
from leonet.results import Results
from leonet.scenario import IslFault, SatelliteFault, Scenario

#: the throughput measures (module docstring; NaN without ``[access]``)
THROUGHPUT = ("throughput_down_median_mbps", "throughput_down_p10_mbps", "carried_gbps")
#: the measures summarised over seeds (:func:`summarise`)
MEASURES = ("reachability", "stretch_median", "stretch_p95", "outage_mean_s", "outage_max_s", *THROUGHPUT)
#: the columns of a sweep's table (:func:`sweep`), one row per (network, rate, seed)
COLUMNS = ("network", "rate", "seed", *MEASURES)


@dataclass(frozen=True)
class Trial:
    """One run of a sweep: failure ``rate`` (0: the baseline) and ``seed`` (-1 for the baseline)."""

    rate: float
    seed: int


def parse_rates(text: str) -> list[float]:
    """``"1%,5%,10%"`` or ``"0.01,0.05"`` -> ``[0.01, 0.05, 0.1]``: each in 0..100 % (0..1), sorted, distinct."""
    out: list[float] = []
    for part in text.split(","):
        p = part.strip()
        try:
            v = float(p[:-1]) / 100.0 if p.endswith("%") else float(p)
        except ValueError:
            raise InputError("--fail", f"{p!r} is not a rate; expected rates like 1%,5%,10% or 0.01,0.05") from None
        if not 0.0 <= v <= 1.0 or not np.isfinite(v):
            raise InputError("--fail", f"{p!r} is outside 0..100%; expected rates like 1%,5%,10%")
        out.append(v)
    if not out:
        raise InputError("--fail", "no rates; expected rates like 1%,5%,10%")
    return sorted(set(out))


def trials(rates: Sequence[float], seeds: int) -> list[Trial]:
    """The baseline first, then every positive rate with seeds ``0..seeds-1``."""
    if seeds < 1:
        raise InputError("--seeds", f"{seeds}; expected at least 1")
    return [Trial(0.0, -1)] + [Trial(r, k) for r in rates if r > 0 for k in range(seeds)]


def with_random_failures(scenario: Scenario, rate: float, seed: int) -> Scenario:
    """``scenario`` plus a share ``rate`` of failed satellites (seed ``2 seed``) and of failed laser links (seed
    ``2 seed + 1``) for the whole window, in every network; rate 0: the scenario as it is."""
    if rate <= 0:
        return scenario
    sats = SatelliteFault(kind="satellite", name="resilience-satellites", fraction=rate, seed=2 * seed)
    isls = IslFault(kind="isl", name="resilience-lasers", fraction=rate, seed=2 * seed + 1)
    return scenario.model_copy(update={"faults": [*scenario.faults, sats, isls]})


def throughput(world: World) -> dict[str, tuple[float, float, float]]:
    """Per network name: the median and 10th percentile downlink throughput per terminal (Mbit/s) over the
    permitted terminal-slots, and the mean carried rate (Gbit/s, down and up), from
    :func:`leonet.capacity.slot_capacity` at every slot edge of the window (module docstring).  Empty without
    ``[access]`` or access terminals; NaN for a network whose terminals the policy never permits."""
    from leonet import capacity

    if world.access is None or len(world.access.terminals) == 0:
        return {}
    spec = capacity.capacity_setup(world)
    edges = capacity.slot_edges(world, spec.interval_s)
    out: dict[str, tuple[float, float, float]] = {}
    for i, net in enumerate(world.networks):
        down: list[NDArray[np.float64]] = []
        carried = np.zeros(len(edges))
        for k, t in enumerate(edges):  # one per slot edge (a window holds a few)
            sc = capacity.slot_capacity(world, i, float(t), spec)
            down.append(sc.down_mbps[sc.permitted])
            carried[k] = float(sc.rate_gbps.sum())
        d = np.concatenate(down) if down else np.empty(0)
        nan = float("nan")
        med, p10 = (float(np.percentile(d, 50)), float(np.percentile(d, 10))) if len(d) else (nan, nan)
        out[net.spec.name] = (med, p10, float(carried.mean()) if len(edges) else nan)
    return out


def measure(results: Results) -> list[dict[str, object]]:
    """Per network of a finished run: reachability, stretch median / p95, outage per terminal and the throughput
    measures (module docstring; NaN without ``[access]``)."""
    import duckdb

    world = results.prepared
    step_s = float(world.scenario.time.step_s)
    con = duckdb.connect()
    con.register("routes", results.routes_table(["network", "t_s", "src", "dst", "rtt_ms", "stretch"]))
    rows = con.execute(
        """
        SELECT network::VARCHAR AS network, avg(CASE WHEN rtt_ms IS NULL THEN 0 ELSE 1 END) AS reachability,
               quantile_cont(stretch, 0.5) FILTER (WHERE rtt_ms IS NOT NULL) AS stretch_median,
               quantile_cont(stretch, 0.95) FILTER (WHERE rtt_ms IS NOT NULL) AS stretch_p95
        FROM routes GROUP BY ALL ORDER BY network
        """
    ).fetchall()
    by_net = {r[0]: r for r in rows}
    outage: dict[str, tuple[float, float]] = {}
    if len(world.terminals):
        con.register("terminals", results.terminals)
        for net, mean_s, max_s in con.execute(
            """SELECT network, avg(no_coverage_s + jammed_s), max(no_coverage_s + jammed_s)
               FROM terminals GROUP BY ALL"""
        ).fetchall():
            outage[str(net)] = (float(mean_s), float(max_s))
    else:
        for net, mean_s, max_s in con.execute(
            f"""
            WITH ends AS (SELECT network, t_s, src AS node, rtt_ms FROM routes
                          UNION ALL SELECT network, t_s, dst AS node, rtt_ms FROM routes),
                 cut AS (SELECT network::VARCHAR AS network, node, t_s, bool_and(rtt_ms IS NULL) AS down
                         FROM ends GROUP BY ALL),
                 per_node AS (SELECT network, node, {step_s!r} * count(*) FILTER (WHERE down) AS s
                              FROM cut GROUP BY ALL)
            SELECT network, avg(s), max(s) FROM per_node GROUP BY ALL
            """
        ).fetchall():
            outage[str(net)] = (float(mean_s), float(max_s))
    con.close()
    thr = throughput(world)
    nan = float("nan")
    out: list[dict[str, object]] = []
    for net in world.networks:
        name = net.spec.name
        r = by_net.get(name)
        o = outage.get(name, (nan, nan))
        tp = thr.get(name, (nan, nan, nan))
        out.append(
            {
                "network": name,
                "reachability": float("nan") if r is None else float(r[1]),
                "stretch_median": float("nan") if r is None or r[2] is None else float(r[2]),
                "stretch_p95": float("nan") if r is None or r[3] is None else float(r[3]),
                "outage_mean_s": o[0],
                "outage_max_s": o[1],
                **dict(zip(THROUGHPUT, tp, strict=True)),
            }
        )
    return out


def sweep(
    scenario: Scenario,
    rates: Sequence[float],
    seeds: int,
    run: Callable[[Scenario], Results],
    on_trial: Callable[[Trial, list[dict[str, object]]], None] | None = None,
) -> pa.Table:
    """Run the baseline and every (rate, seed) of :func:`trials` with ``run`` (e.g. ``leonet.run``) and measure
    each: one row per (network, rate, seed), :data:`COLUMNS`.  ``on_trial`` sees each trial's rows."""
    rows: list[dict[str, object]] = []
    for tr in trials(rates, seeds):
        got = measure(run(with_random_failures(scenario, tr.rate, tr.seed)))
        for g in got:
            g.update(rate=tr.rate, seed=tr.seed)
        if on_trial is not None:
            on_trial(tr, got)
        rows += got
    return pa.Table.from_pylist([{c: r[c] for c in COLUMNS} for r in rows])


def summarise(table: pa.Table) -> pa.Table:
    """Per (network, rate): the mean, min and max over seeds of every measure (``<measure>_mean`` etc.).  A seed
    whose measure is NaN (no route in that trial: no stretch; no ``[access]``: no throughput) is left out of that
    measure's mean, min and max; NaN when every seed's is."""
    import duckdb

    def agg(fn: str, m: str, name: str) -> str:  # NaN -> NULL, which aggregates skip; NULL (all NaN) -> NaN again
        return f"coalesce({fn}(CASE WHEN isnan({m}) THEN NULL ELSE {m} END), 'NaN'::DOUBLE) AS {m}_{name}"

    aggs = ", ".join(f"{agg('avg', m, 'mean')}, {agg('min', m, 'min')}, {agg('max', m, 'max')}" for m in MEASURES)
    con = duckdb.connect()
    con.register("sweep", table)
    out = con.execute(
        f"SELECT network, rate, count(*) AS seeds, {aggs} FROM sweep GROUP BY ALL ORDER BY network, rate"
    ).fetch_arrow_table()
    con.close()
    return out
