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
  per routed ground node (seconds at which none of its pairs has a route).

Throughput against failure rate comes with the flow model (issue 9, ``flows.py``), not yet in leonet: there is
no throughput column rather than a made-up one.  No I/O: the CLI writes the table and the figure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from leonet.errors import InputError
from leonet.results import Results
from leonet.scenario import IslFault, SatelliteFault, Scenario

#: the columns of a sweep's table (:func:`sweep`), one row per (network, rate, seed)
COLUMNS = ("network", "rate", "seed", "reachability", "stretch_median", "stretch_p95", "outage_mean_s", "outage_max_s")
#: the measures summarised over seeds (:func:`summarise`)
MEASURES = ("reachability", "stretch_median", "stretch_p95", "outage_mean_s", "outage_max_s")


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


def measure(results: Results) -> list[dict[str, object]]:
    """Per network of a finished run: reachability, stretch median / p95, outage per terminal (module doc)."""
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
    out: list[dict[str, object]] = []
    for net in world.networks:
        name = net.spec.name
        r = by_net.get(name)
        o = outage.get(name, (float("nan"), float("nan")))
        out.append(
            {
                "network": name,
                "reachability": float("nan") if r is None else float(r[1]),
                "stretch_median": float("nan") if r is None or r[2] is None else float(r[2]),
                "stretch_p95": float("nan") if r is None or r[3] is None else float(r[3]),
                "outage_mean_s": o[0],
                "outage_max_s": o[1],
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
    """Per (network, rate): the mean, min and max over seeds of every measure (``<measure>_mean`` etc.)."""
    import duckdb

    aggs = ", ".join(f"avg({m}) AS {m}_mean, min({m}) AS {m}_min, max({m}) AS {m}_max" for m in MEASURES)
    con = duckdb.connect()
    con.register("sweep", table)
    out = con.execute(
        f"SELECT network, rate, count(*) AS seeds, {aggs} FROM sweep GROUP BY ALL ORDER BY network, rate"
    ).fetch_arrow_table()
    con.close()
    return out
