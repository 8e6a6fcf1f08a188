"""Milliseconds per snapshot, split into propagation, links and routing; peak memory; and the same snapshot done
the way existing research tools do it (networkx), with the speed-up.

Run:  python benchmarks/bench_snapshot.py [--snapshots 30] [--baseline-snapshots 3]

One core: the process pins itself to CPU 0 and sets NUMBA_NUM_THREADS / OMP_NUM_THREADS / ... = 1 before any
numerical import.  Each case is warmed up once (numba JIT compile / cache load), then timed over ``--snapshots``
consecutive 1 s snapshots.  Targets (see benchmarks/README.md): starlink-550 + 100 cities <= 10 ms per snapshot,
starlink-gen1 + 100 cities <= 40 ms, networkx baseline >= 50x slower.
"""

from __future__ import annotations

import os

for _var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

import argparse  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from leonet import assembly, runner, step  # noqa: E402
from leonet.chunk import CHUNK  # noqa: E402
from leonet.constants import C_KM_S  # noqa: E402
from leonet.routing import shortest_routes  # noqa: E402
from leonet.scenario import Scenario, parse_scenario  # noqa: E402

SCENARIO = """
name = "bench-{preset}"
epoch = 2026-02-23T00:00:00Z
[time]
start_s = 0
end_s = {end}
step_s = 1
[[networks]]
name = "{preset}"
constellation = {{ preset = "{preset}" }}
isl = "plus-grid"
min_elevation_deg = 25.0
[ground]
cities = 100
[routing]
mode = "ideal"
"""


def scenario(preset: str, n: int) -> Scenario:
    return parse_scenario(SCENARIO.format(preset=preset, end=n))


def _ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1e3:8.2f}"


class Case:
    """Timings of one constellation + 100 cities."""

    def __init__(self, preset: str, n: int) -> None:
        self.preset = preset
        self.n = n
        self.prep = assembly.assemble(scenario(preset, n + 1))
        self.net = self.prep.networks[0]
        g = self.prep.ground
        self.g_r, self.g_up = g.ecef_km, g.up
        self.min_el = step.min_elevations(self.net, g)
        self.times = self.prep.times_s[:n]

    def propagate(self, times: np.ndarray) -> np.ndarray:
        return step.positions_at(self.net, self.prep, times)

    def links(self, t: float, sat_r: np.ndarray) -> step.Snapshot:
        return step.snapshot(self.net, self.prep.ground, t, sat_r, self.g_r, self.g_up, self.min_el)

    def route(self, snap: step.Snapshot) -> Any:
        return shortest_routes(snap.graph, self.prep.src, self.prep.dst)

    def run(self) -> dict[str, Any]:
        # warm-up: JIT compile or load the numba cache, touch every code path once
        r0 = self.propagate(self.times[:1])
        self.route(self.links(float(self.times[0]), r0[0]))
        list(runner.chunks(self.prep, 0, CHUNK))

        # propagation: as the chunk does it (one SGP4 call per chunk of snapshots) and one snapshot alone
        t0 = time.perf_counter()
        sat_all = self.propagate(self.times)
        prop_chunk = (time.perf_counter() - t0) / len(self.times)
        prop_one = []
        for t in self.times[:10]:
            t0 = time.perf_counter()
            self.propagate(np.array([t]))
            prop_one.append(time.perf_counter() - t0)

        links, routing = [], []
        routes = None
        for k, t in enumerate(self.times):
            t0 = time.perf_counter()
            snap = self.links(float(t), sat_all[k])
            t1 = time.perf_counter()
            routes = self.route(snap)
            t2 = time.perf_counter()
            links.append(t1 - t0)
            routing.append(t2 - t1)
        assert routes is not None

        # the whole chunk loop (propagation + links + routing + metrics + Arrow batches), per snapshot
        t0 = time.perf_counter()
        rows = sum(c.routes.num_rows for c in runner.chunks(self.prep, 0))
        end_to_end = (time.perf_counter() - t0) / len(self.prep.times_s)
        assert rows == len(self.prep.times_s) * len(self.prep.src)

        snap = self.links(float(self.times[0]), sat_all[0])
        return {
            "sats": self.net.n_sats,
            "pairs": len(self.prep.src),
            "vertices": snap.graph.csr.shape[0],
            "edges": snap.graph.csr.nnz,
            "isl": len(snap.isl),
            "gsl": len(snap.gsl.ground),
            "reachable": float(np.isfinite(routes.delay_ms).mean()),
            "prop_chunk": prop_chunk,
            "prop_one": statistics.median(prop_one),
            "links": links,
            "routing": routing,
            "end_to_end": end_to_end,
        }

    def memory(self) -> tuple[float, float]:
        """tracemalloc peak (MiB) of one runner pass over the snapshots, and ru_maxrss (MiB) so far."""
        tracemalloc.start()
        tracemalloc.reset_peak()
        for _ in runner.chunks(self.prep, 0):
            pass
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux
        return peak / 2**20, rss


def networkx_snapshot(case: Case, t: float, sat_r: np.ndarray) -> tuple[float, float, dict[tuple[int, int], float]]:
    """The research-tool way: a networkx graph of the snapshot's links, then ``nx.single_source_dijkstra`` from
    each source city, ground nodes forbidden to transit.  Returns (graph build s, routing s, delays by pair)."""
    import networkx as nx

    snap = case.links(t, sat_r)
    S = case.net.n_sats
    t0 = time.perf_counter()
    g = nx.Graph()
    for (a, b), d in zip(snap.isl.tolist(), (snap.isl_km / C_KM_S * 1e3).tolist(), strict=True):
        g.add_edge(a, b, weight=d)
    for gi, si, d in zip(
        snap.gsl.ground.tolist(), snap.gsl.sat.tolist(), (snap.gsl.length_km / C_KM_S * 1e3).tolist(), strict=True
    ):
        g.add_edge(S + gi, si, weight=d)
    t1 = time.perf_counter()
    out: dict[tuple[int, int], float] = {}
    by_src: dict[int, list[int]] = {}
    for s, d in zip(case.prep.src.tolist(), case.prep.dst.tolist(), strict=True):
        by_src.setdefault(S + s, []).append(S + d)
    for src, dsts in by_src.items():
        if src not in g:
            continue

        def weight(u: int, v: int, e: dict[str, float], src: int = src) -> float | None:
            return None if (u >= S and u != src) else e["weight"]

        dist, _paths = nx.single_source_dijkstra(g, src, weight=weight)
        for d in dsts:
            if d in dist:
                out[(src, d)] = dist[d]
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, out


def report(name: str, r: dict[str, Any], target_ms: float) -> float:
    per_snapshot = r["prop_chunk"] + statistics.median(r["links"]) + statistics.median(r["routing"])
    print(
        f"\n== {name}: {r['sats']} satellites + 100 cities, {r['pairs']} pairs, graph {r['vertices']} vertices / "
        f"{r['edges']} directed edges ({r['isl']} ISLs, {r['gsl']} ground links), {r['reachable']:.1%} reachable"
    )
    print(
        f"   propagation   {r['prop_chunk'] * 1e3:8.2f} ms/snapshot (SGP4 for {len(r['links'])} snapshots in one call; "
        f"one snapshot alone: {r['prop_one'] * 1e3:.2f} ms)"
    )
    print(f"   links         {_ms(r['links'])} ms/snapshot (median; ISL lengths, ground links, graph build)")
    print(
        f"   routing       {_ms(r['routing'])} ms/snapshot (median; {r['pairs']} pairs: many-source Dijkstra + paths)"
    )
    print(
        f"   total         {per_snapshot * 1e3:8.2f} ms/snapshot   target <= {target_ms:.0f} ms   "
        f"{'OK' if per_snapshot * 1e3 <= target_ms else 'MISSED'}"
    )
    print(
        f"   engine loop   {r['end_to_end'] * 1e3:8.2f} ms/snapshot "
        "(runner.chunks: all of the above + metrics + Arrow rows)"
    )
    print(
        f"   spread        links p90 {np.percentile(r['links'], 90) * 1e3:.2f} ms, routing p90 "
        f"{np.percentile(r['routing'], 90) * 1e3:.2f} ms over {len(r['links'])} snapshots"
    )
    return per_snapshot


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--snapshots", type=int, default=30, help="timed snapshots per case (default 30)")
    ap.add_argument("--baseline-snapshots", type=int, default=3, help="snapshots for the networkx baseline (default 3)")
    ap.add_argument("--skip-gen1", action="store_true", help="only the starlink-550 case")
    args = ap.parse_args(argv)

    import numba
    import scipy
    import sgp4

    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else "?"
    print(
        f"leonet snapshot benchmark: python {platform.python_version()}, numpy {np.__version__}, scipy "
        f"{scipy.__version__}, numba {numba.__version__}, sgp4 {sgp4.__version__}; "
        f"{platform.processor() or platform.machine()}; "
        f"pinned to CPU {cpus}, NUMBA_NUM_THREADS={os.environ['NUMBA_NUM_THREADS']}"
    )

    c550 = Case("starlink-550", args.snapshots)
    r550 = c550.run()
    t550 = report("starlink-550", r550, 10.0)
    mem550 = c550.memory()
    print(
        f"   memory        tracemalloc peak {mem550[0]:.1f} MiB (one runner pass, {args.snapshots + 1} snapshots); "
        f"ru_maxrss {mem550[1]:.0f} MiB"
    )

    if not args.skip_gen1:
        cg = Case("starlink-gen1", args.snapshots)
        rg = cg.run()
        report("starlink-gen1", rg, 40.0)
        memg = cg.memory()
        print(f"   memory        tracemalloc peak {memg[0]:.1f} MiB; ru_maxrss {memg[1]:.0f} MiB (whole process)")

    # the networkx way, starlink-550, same snapshots
    sat = c550.propagate(c550.times[: args.baseline_snapshots])
    builds, routes_nx = [], []
    worst = 0.0
    for k in range(args.baseline_snapshots):
        t = float(c550.times[k])
        b, rt, dist = networkx_snapshot(c550, t, sat[k])
        builds.append(b)
        routes_nx.append(rt)
        mine = c550.route(c550.links(t, sat[k]))  # the same snapshot, leonet's way, to compare the delays
        S = c550.net.n_sats
        for i, (s, d) in enumerate(zip(c550.prep.src.tolist(), c550.prep.dst.tolist(), strict=True)):
            key = (S + s, S + d)
            if key in dist:
                worst = max(worst, abs(float(mine.delay_ms[i]) - dist[key]))
            else:
                assert not np.isfinite(mine.delay_ms[i])
    nx_total = statistics.median(builds) + statistics.median(routes_nx)
    print(f"\n== networkx baseline, starlink-550 + 100 cities ({args.baseline_snapshots} snapshots, same links):")
    print(f"   graph build   {_ms(builds)} ms/snapshot (nx.Graph from the link arrays)")
    print(
        f"   routing       {_ms(routes_nx)} ms/snapshot "
        "(nx.single_source_dijkstra from each of 100 cities, no ground transit)"
    )
    print(f"   agreement     max |delay difference| {worst:.1e} ms over all {len(c550.prep.src)} pairs")
    whole_nx = r550["prop_chunk"] + statistics.median(r550["links"]) + nx_total
    ratio = whole_nx / t550
    print(
        f"   speed-up      whole snapshot: {ratio:.0f}x (networkx way {whole_nx * 1e3:.0f} ms = the same propagation "
        f"and links + nx graph + nx routing, vs leonet {t550 * 1e3:.2f} ms); target >= 50x: "
        f"{'OK' if ratio >= 50 else 'MISSED'}"
    )
    print(f"                 routing alone: {statistics.median(routes_nx) / statistics.median(r550['routing']):.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
