"""The fault sweep of ``leonet resilience`` on ``starlink-550`` + the 100 largest cities (the built-in ``default``
scenario: 72 x 22 at 550 km, +Grid, 4,950 pairs, 15 s slots), the window cut to ``--minutes`` at 1 s: the
baseline and 5 failure rates (1, 2, 5, 10, 20 % of the satellites and of the laser links) x 3 seeds, each run
by ``leonet.run`` on every core (``LEONET_WORKERS``).  Prints reachability, median RTT stretch and the
throughput measures per rate (mean, min..max over seeds), the wall time of each run and of the sweep, the part
of it the throughput measure took (the flow model at every slot edge, :func:`leonet.resilience.throughput`), and
the peak memory.  ``default`` has no ``[access]``, so no throughput (NaN, printed ``-``): ``--scenario
access-us-europe`` (starlink-gen1, 16 city terminals, 8 Gbit/s down each) has.

Run: ``python benchmarks/bench_resilience.py [--scenario default] [--minutes 10] [--seeds 3]
[--rates 1%,2%,5%,10%,20%]``.  Prints figures; not a test.
"""

from __future__ import annotations

import argparse
import resource
import time

import leonet
from leonet import resilience
from leonet.assembly import World, assemble
from leonet.scenario import load_scenario


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--rates", default="1%,2%,5%,10%,20%")
    ap.add_argument("--scenario", default="default", help="built-in name or TOML path (throughput needs [access])")
    args = ap.parse_args()
    sc = load_scenario(args.scenario).with_time(start_s=0, end_s=args.minutes * 60.0, step_s=1.0)
    rates = resilience.parse_rates(args.rates)
    n_runs = len(resilience.trials(rates, args.seeds))
    world = assemble(sc)
    print(f"{sc.name}: {', '.join(n.spec.name for n in world.networks)}, {world.ground.size} ground nodes, "
          f"{args.minutes:g} min at 1 s ({len(world.times_s)} snapshots), "
          f"{len(rates)} rates x {args.seeds} seeds + baseline = {n_runs} runs")  # fmt: skip
    leonet.run(sc.with_time(end_s=2.0))  # warm-up: numba's cache, imports
    resilience.throughput(assemble(sc.with_time(end_s=2.0)))  # and the flow model's (OR-Tools, the kernel)
    spent = [0.0]
    plain = resilience.throughput

    def timed(w: World) -> dict[str, tuple[float, float, float]]:
        t = time.perf_counter()
        try:
            return plain(w)
        finally:
            spent[0] += time.perf_counter() - t

    resilience.throughput = timed  # type: ignore[assignment]  # measure() looks it up in the module
    t0 = time.perf_counter()
    last = [t0]

    def on_trial(tr: resilience.Trial, rows: list[dict[str, object]]) -> None:
        now = time.perf_counter()
        r = rows[0]
        print(f"  rate {100 * tr.rate:4g}%  seed {tr.seed:2d}: reachability {100 * float(r['reachability']):6.2f}%  "  # type: ignore[arg-type]
              f"median stretch {float(r['stretch_median']):.4f}  "  # type: ignore[arg-type]
              f"down median / p10 {_num(r['throughput_down_median_mbps'])} / {_num(r['throughput_down_p10_mbps'])} "
              f"Mbit/s  carried {_num(r['carried_gbps'], '.2f')} Gbit/s  ({now - last[0]:.1f} s)", flush=True)  # type: ignore[arg-type]  # fmt: skip
        last[0] = now

    table = resilience.sweep(sc, rates, args.seeds, leonet.run, on_trial)
    wall = time.perf_counter() - t0
    print("\nrate   reachability (min..max)      median stretch (min..max)   down median / p10 Mbit/s   carried Gbit/s")
    for r in resilience.summarise(table).to_pylist():
        print(f"{100 * r['rate']:4g}%  {100 * r['reachability_mean']:6.2f}% ({100 * r['reachability_min']:6.2f}.."
              f"{100 * r['reachability_max']:6.2f}%)   {r['stretch_median_mean']:.4f} ({r['stretch_median_min']:.4f}.."
              f"{r['stretch_median_max']:.4f})   {_num(r['throughput_down_median_mbps_mean'])} / "
              f"{_num(r['throughput_down_p10_mbps_mean'])}   {_num(r['carried_gbps_mean'], '.2f')} "
              f"({_num(r['carried_gbps_min'], '.2f')}..{_num(r['carried_gbps_max'], '.2f')})")  # fmt: skip
    peak = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    )
    print(f"\nsweep: {n_runs} runs in {wall:.1f} s ({wall / n_runs:.1f} s per run), of which the throughput measure "
          f"{spent[0]:.1f} s ({100 * spent[0] / wall:.0f}%); peak RSS {peak / 1024:.0f} MiB")  # fmt: skip


def _num(x: object, fmt: str = ",.0f") -> str:
    """A measure for printing; "-" for NaN (no throughput without [access])."""
    v = float(x)  # type: ignore[arg-type]
    return "-" if v != v else format(v, fmt)


if __name__ == "__main__":
    main()
