"""Milliseconds per snapshot of the access path (leonet.access) for starlink-gen1 + 1,000 terminals, and peak memory.

Run:  python benchmarks/bench_access.py [--snapshots 20] [--terminals 1000]

One core: the process pins itself to CPU 0 and sets NUMBA_NUM_THREADS / OMP_NUM_THREADS / ... = 1 before any
numerical import.  Terminals: the 1,000 most populous cities of the shipped list, homed by the ``country`` rule
to the shipped StarPerf PoPs, with the shipped gateways.  Warmed up once (numba JIT compile / cache load), then
timed over ``--snapshots`` consecutive 1 s snapshots, each mode (lasers, bent-pipe).  Printed per mode: the
median and p90 of ``access_paths`` per snapshot, split into the serving satellites (k-d tree + elevation) and
the rest (gateway links, graph, searches from the home PoPs, path read-back), the share served and median RTT;
then the tracemalloc peak of one snapshot and the process's ru_maxrss.  Positions are propagated beforehand
(``step.positions_at``; not part of the access path).
"""

from __future__ import annotations

import _onecore  # noqa: F401  (one thread per library, one CPU: before numpy)

# isort: split
import argparse
import os
import platform
import resource
import statistics
import sys
import time
import tracemalloc

import numpy as np

from leonet import access, assembly, step
from leonet.scenario import parse_scenario
from leonet.topology import isl_lengths_km

SCENARIO = """
name = "bench-access"
epoch = 2026-02-23T00:00:00Z
pairs = "none"
[time]
end_s = {end}
step_s = 1
[[networks]]
name = "starlink-gen1"
constellation = {{ preset = "starlink-gen1" }}
[ground]
cities = {n}
cities_kind = "terminal"
[access]
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--snapshots", type=int, default=20)
    ap.add_argument("--terminals", type=int, default=1000)
    args = ap.parse_args()
    sc = parse_scenario(SCENARIO.format(end=args.snapshots, n=args.terminals))
    t0 = time.perf_counter()
    world = assembly.assemble(sc)
    print(f"assemble (incl. homing of {args.terminals:,} terminals): {time.perf_counter() - t0:.2f} s")
    setup = world.access
    assert setup is not None
    net = world.networks[0]
    sat_r = step.positions_at(net, world, world.times_s)
    g = world.ground
    term = setup.terminals
    r, up = g.ecef_km[term], g.up[term]
    min_el = step.min_elevations(net, g)[term]
    print(f"python {platform.python_version()}, {platform.machine()}, load average {os.getloadavg()[0]:.1f}")
    print(f"starlink-gen1: {net.n_sats:,} satellites, {len(term):,} terminals, {setup.ground.gateways.size} gateways, "
          f"{setup.ground.pops.size} PoPs")  # fmt: skip
    for mode in access.MODES:
        params = access.AccessParams(mode=mode)
        isl_km0 = isl_lengths_km(sat_r[0], net.isl)
        access.access_paths(r, up, min_el, setup.home_pop, sat_r[0], net.isl, isl_km0, setup.ground, params)  # warm
        tot, sel, cpu = [], [], []
        last = None
        for k in range(len(world.times_s)):
            isl_km = isl_lengths_km(sat_r[k], net.isl)
            a0 = time.thread_time()
            a = time.perf_counter()
            serving, _ = access.highest_elevation_sats(sat_r[k], r, up, min_el)
            b = time.perf_counter()
            last = access.access_paths(
                r, up, min_el, setup.home_pop, sat_r[k], net.isl, isl_km, setup.ground, params, serving_sat=serving
            )
            c = time.perf_counter()
            cpu.append((time.thread_time() - a0) * 1e3)
            sel.append((b - a) * 1e3)
            tot.append((c - a) * 1e3)
        assert last is not None
        q = statistics.quantiles(tot, n=10)
        print(
            f"{mode:9s}: {statistics.median(tot):6.2f} ms per snapshot (p90 {q[-1]:.2f}; CPU "
            f"{statistics.median(cpu):.2f} ms), of which serving satellites {statistics.median(sel):.2f} ms; "
            f"served {100 * last.served.mean():.1f}%, median RTT "
            f"{np.nanmedian(last.rtt_ms):.2f} ms, median ISL hops {np.median(last.isl_hops[last.served]):.0f}"
        )
    tracemalloc.start()
    isl_km = isl_lengths_km(sat_r[0], net.isl)
    access.access_paths(r, up, min_el, setup.home_pop, sat_r[0], net.isl, isl_km, setup.ground)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1024 if sys.platform != "darwin" else 1024**2)
    print(f"memory: tracemalloc peak of one snapshot {peak / 2**20:.1f} MiB; process ru_maxrss {rss:.0f} MiB")


if __name__ == "__main__":
    main()
