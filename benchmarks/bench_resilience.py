"""The fault sweep of ``leonet resilience`` on ``starlink-550`` + the 100 largest cities (the built-in ``default``
scenario: 72 x 22 at 550 km, +Grid, 4,950 pairs, 15 s slots), the window cut to ``--minutes`` at 1 s: the
baseline and 5 failure rates (1, 2, 5, 10, 20 % of the satellites and of the laser links) x 3 seeds, each run
by ``leonet.run`` on every core (``LEONET_WORKERS``).  Prints reachability and median RTT stretch per rate
(mean, min..max over seeds), the wall time of each run and of the sweep, and the peak memory.

Run: ``python benchmarks/bench_resilience.py [--minutes 10] [--seeds 3] [--rates 1%,2%,5%,10%,20%]``.  Prints
figures; not a test.
"""

from __future__ import annotations

import argparse
import resource
import time

import leonet
from leonet import resilience
from leonet.assembly import assemble
from leonet.scenario import load_scenario


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--rates", default="1%,2%,5%,10%,20%")
    args = ap.parse_args()
    sc = load_scenario("default").with_time(start_s=0, end_s=args.minutes * 60.0, step_s=1.0)
    rates = resilience.parse_rates(args.rates)
    n_runs = len(resilience.trials(rates, args.seeds))
    print(f"starlink-550 + 100 cities, {args.minutes:g} min at 1 s ({len(assemble(sc).times_s)} snapshots), "
          f"{len(rates)} rates x {args.seeds} seeds + baseline = {n_runs} runs")  # fmt: skip
    leonet.run(sc.with_time(end_s=2.0))  # warm-up: numba's cache, imports
    t0 = time.perf_counter()
    last = [t0]

    def on_trial(tr: resilience.Trial, rows: list[dict[str, object]]) -> None:
        now = time.perf_counter()
        r = rows[0]
        print(f"  rate {100 * tr.rate:4g}%  seed {tr.seed:2d}: reachability {100 * float(r['reachability']):6.2f}%  "  # type: ignore[arg-type]
              f"median stretch {float(r['stretch_median']):.4f}  ({now - last[0]:.1f} s)", flush=True)  # type: ignore[arg-type]  # fmt: skip
        last[0] = now

    table = resilience.sweep(sc, rates, args.seeds, leonet.run, on_trial)
    wall = time.perf_counter() - t0
    print("\nrate     reachability (mean, min..max)        median stretch (mean, min..max)")
    for r in resilience.summarise(table).to_pylist():
        print(f"{100 * r['rate']:4g}%   {100 * r['reachability_mean']:6.2f}% ({100 * r['reachability_min']:6.2f}.."
              f"{100 * r['reachability_max']:6.2f}%)   {r['stretch_median_mean']:.4f} ({r['stretch_median_min']:.4f}.."
              f"{r['stretch_median_max']:.4f})")  # fmt: skip
    peak = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    )
    print(f"\nsweep: {n_runs} runs in {wall:.1f} s ({wall / n_runs:.1f} s per run); peak RSS {peak / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
