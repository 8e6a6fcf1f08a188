"""Seconds per 15-s slot of leonet.capacity (scheduler + access paths + flows) for starlink-gen1, and peak memory.

Run:  python benchmarks/bench_capacity.py [--slots 4] [--terminals 1000]

One core: the process pins itself to CPU 0 and sets NUMBA_NUM_THREADS / OMP_NUM_THREADS / ... = 1 before any
numerical import.  Terminals: the ``--terminals`` most populous cities of the shipped list (one terminal each, at
the default demand), homed by the ``country`` rule to the shipped StarPerf PoPs, with the shipped gateways.
Warmed up once (numba JIT compile / cache load), then :func:`leonet.capacity.slot_capacity` timed at ``--slots``
consecutive slot edges (each includes ``step.state_at``: propagation, links, policy).  Printed: the median and
max per slot, the flows and links of the last slot, the share of the demand served, then the tracemalloc peak
of one slot and the process's ru_maxrss.
"""

from __future__ import annotations

import _onecore  # noqa: F401  (one thread per library, one CPU: before numpy)

# isort: split
import argparse
import os
import platform
import resource
import statistics
import time
import tracemalloc

from leonet import assembly, capacity
from leonet.scenario import parse_scenario

SCENARIO = """
name = "bench-capacity"
epoch = 2026-02-23T00:00:00Z
pairs = "none"
[time]
end_s = {end}
step_s = 15
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
    ap.add_argument("--slots", type=int, default=4)
    ap.add_argument("--terminals", type=int, default=1000)
    args = ap.parse_args()
    sc = parse_scenario(SCENARIO.format(end=15 * args.slots, n=args.terminals))
    t0 = time.perf_counter()
    world = assembly.assemble(sc)
    print(f"assemble (incl. homing of {args.terminals:,} terminals): {time.perf_counter() - t0:.2f} s")
    spec = capacity.capacity_setup(world)
    print(f"python {platform.python_version()}, {platform.machine()}, load average {os.getloadavg()[0]:.1f}")
    capacity.slot_capacity(world, 0, 0.0, spec)  # warm-up
    times = []
    sl = None
    for k in range(1, args.slots + 1):
        a = time.perf_counter()
        sl = capacity.slot_capacity(world, 0, 15.0 * k, spec)
        times.append(time.perf_counter() - a)
    assert sl is not None
    served = sl.down_mbps.sum() / max(sl.demand_down_mbps.sum(), 1e-9)
    med, worst = statistics.median(times), max(times)
    print(f"slot_capacity: median {med:.3f} s, max {worst:.3f} s over {len(times)} slots; {sl.incidence.shape[0]:,} "
          f"flows, {sl.layout.n_links:,} links, {100 * served:.1f}% of the demand down")  # fmt: skip
    tracemalloc.start()
    capacity.slot_capacity(world, 0, 0.0, spec)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"tracemalloc peak of one slot: {peak / 2**20:.0f} MiB; ru_maxrss {rss:.0f} MiB")


if __name__ == "__main__":
    main()
