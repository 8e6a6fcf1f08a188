"""A day of Starlink on this machine: ``leonet run`` of starlink-550 + the 100 cities, all 4,950 pairs, at 1 s.

Runs ``leonet run DAY.toml -o DIR -q --no-report`` as a child process, as a user runs it (a scenario file
written to a temporary directory: the default scenario's network and cities, ``end_s = 3600 H - 1``), after a
10-snapshot warm-up run that loads numba's cache, and prints:

* wall time, CPU time / wall time (both cores used: up to 2.0), peak RSS of the child (``ru_maxrss`` of
  ``RUSAGE_CHILDREN``), and the machine's load (``uptime``) before and after;
* route rows, bytes of ``routes.parquet`` and of the whole output directory, bytes per route row;
* with ``--hours H`` < 24, the same run over H hours and the figures extrapolated linearly to 24 h (time and
  output grow with the snapshots; peak memory should not: compare two values of H to check);
* with ``--columns``, the bytes per row of each Parquet column;
* with ``--summaries``, the summaries alone again over the output (``metrics.summaries``) in a fresh child: their
  time and their peak RSS above the child's after its imports (flat in the rows: exact quantiles in bounded
  memory);
* with ``--profile``, the run under ``cProfile`` (slower), and where its time goes (propagation, topology,
  routing, path read-back, batch building, Parquet writing, summaries) as cumulative seconds of the functions
  that do each, per snapshot (with ``--workers 1``: the parts are computed in worker processes otherwise,
  which cProfile does not see);
* ``--workers N``: ``LEONET_WORKERS=N`` for the run (``leonet run`` computes its parts on that many forked
  processes; default: the CPUs); with ``--serial-too``, the same window first with one worker (in the run's
  own process), and the ratios of wall and CPU time of the two runs.

On a machine shared with other users, the kernel's autogroup scheduling (``/proc/sys/kernel/sched_autogroup_enabled``)
gives each session an equal share of the cores whatever its number of processes: CPU/wall then shows the share
the run got, and the wall-time ratio of ``--serial-too`` stays near 1; the CPU seconds per snapshot are the
steady figures.

The day has 86,400 snapshots x 4,950 pairs = 427,680,000 route rows, within ``budget.MAX_ROUTE_ROWS``
(1,000 M: the summaries' memory no longer grows with the rows, so no ``--force`` is needed); ``--force``
passes ``--force`` to ``leonet run`` anyway.

Run: ``python benchmarks/bench_day.py [--hours 24] [--columns] [--summaries] [--profile] [--workers N]
[--serial-too] [--keep DIR]``.
Prints figures; not a test.
"""

from __future__ import annotations

import argparse
import os
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCENARIO = """# bench_day.py: starlink-550 (+Grid, 25 deg mask) and the 100 cities, all pairs, {hours} h at 1 s
name = "day"
epoch = 2026-02-23T00:00:00Z
pairs = "all"

[time]
start_s = 0
end_s = {end_s}
step_s = 1

[[networks]]
name = "starlink-550"
constellation = {{ preset = "starlink-550" }}
isl = "plus-grid"
min_elevation_deg = 25.0

[ground]
cities = 100

[routing]
mode = "reconfig"
reconfiguration_interval_s = 15
"""

#: functions whose cumulative time is each phase of the run (the first name found in the profile counts)
PHASES = {
    "propagation": ["positions_at", "positions_itrf_km"],
    "topology (links, graph)": ["snapshot", "state_at"],
    "routing (Dijkstra, kept paths)": ["route_step", "step"],
    "  of which path read-back": ["read_paths"],
    "batch building": ["build_batch"],
    "Parquet writing": ["write_batch", "write_table"],
    "summaries": ["summaries", "summarise"],
    "service / coverage": ["intervals", "status_codes"],
}


def _uptime() -> str:
    with open("/proc/loadavg", encoding="ascii") as f:
        return "load average " + ", ".join(f.read().split()[:3])


def _scenario(folder: Path, hours: float) -> Path:
    path = folder / "day.toml"
    path.write_text(SCENARIO.format(hours=f"{hours:g}", end_s=round(hours * 3600) - 1), encoding="utf-8")
    return path


def _leonet(args: list[str], profile: Path | None = None, workers: int | None = None) -> tuple[float, float, int]:
    """Wall s, CPU s of the child (and its worker processes), and the peak RSS (KiB) of the largest process of
    all children so far (``ru_maxrss``: a worker's or the run's own, not their sum)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    cmd = [sys.executable, "-m", *(["cProfile", "-o", str(profile), "-m"] if profile else []), "leonet.cli", *args]
    env = {**os.environ, **({"LEONET_WORKERS": str(workers)} if workers is not None else {})}
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env=env)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, after.ru_maxrss


def _du(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _routes_files(out: Path) -> list[Path]:
    """routes.parquet, or the Parquet parts of a routes/ directory."""
    single = out / "routes.parquet"
    if single.is_file():
        return [single]
    return sorted((out / "routes").rglob("*.parquet")) if (out / "routes").is_dir() else []


def _columns(files: list[Path], rows: int) -> None:
    import pyarrow.parquet as pq

    sizes: dict[str, int] = {}
    for f in files:
        md = pq.ParquetFile(f).metadata
        for rg in range(md.num_row_groups):
            g = md.row_group(rg)
            for c in range(g.num_columns):
                col = g.column(c)
                sizes[col.path_in_schema] = sizes.get(col.path_in_schema, 0) + col.total_compressed_size
    print("bytes per row by column (compressed):")
    for name, size in sorted(sizes.items(), key=lambda kv: -kv[1]):
        print(f"  {name:24s} {size / rows:6.2f}")


_SUMMARY_CHILD = """
import sys, time
hwm = lambda: int(next(ln for ln in open('/proc/self/status') if ln.startswith('VmHWM')).split()[1])
import pyarrow.dataset as ds, pyarrow.parquet as pq
from leonet import metrics
metrics.summaries(pq.ParquetFile(sys.argv[1]).read_row_group(0).slice(0, 1000))  # numba's cache loaded
base, t0 = hwm(), time.perf_counter()
metrics.summaries(ds.dataset(sys.argv[1:]))
print(time.perf_counter() - t0, base, hwm())
"""


def _summaries(files: list[Path], rows: int) -> None:
    p = subprocess.run([sys.executable, "-c", _SUMMARY_CHILD, *map(str, files)], capture_output=True, text=True)
    if p.returncode != 0:
        print(f"summaries child failed: {p.stderr[-2000:]}")
        return
    dt, base, peak = (float(x) for x in p.stdout.split()[-3:])
    print(f"summaries alone: {dt:.1f} s ({1e9 * dt / max(rows, 1):.0f} ns per row), peak RSS {peak / 2**20:.2f} GiB, "
          f"{(peak - base) / 2**10:.0f} MiB above the child's imports ({_uptime()})")  # fmt: skip


def _phases(profile: Path, snapshots: int) -> None:
    stats = pstats.Stats(str(profile))
    cum: dict[str, float] = {}
    for (_file, _line, func), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        cum[func] = max(cum.get(func, 0.0), ct)
    total = max(cum.values(), default=0.0)
    print(f"profile (cProfile, cumulative; {total:.1f} s in all, {1e3 * total / snapshots:.2f} ms per snapshot):")
    for phase, names in PHASES.items():
        found = next((n for n in names if n in cum), None)
        if found is None:
            print(f"  {phase:32s} (none of {names} in the profile)")
            continue
        s = cum[found]
        print(f"  {phase:32s} {s:8.1f} s  {1e3 * s / snapshots:7.2f} ms/snapshot  ({found})")
    print("top functions by own time:")
    stats.sort_stats("tottime").print_stats(12)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hours", type=float, default=24.0, help="window length (h); figures are extrapolated to 24")
    ap.add_argument("--columns", action="store_true", help="print the bytes per row of each Parquet column")
    ap.add_argument("--summaries", action="store_true", help="time the summaries alone over the output")
    ap.add_argument("--profile", action="store_true", help="run under cProfile and print the time per phase")
    ap.add_argument("--force", action="store_true", help="pass --force to leonet run")
    ap.add_argument("--workers", type=int, help="LEONET_WORKERS for the run (default: leonet's, the CPUs)")
    ap.add_argument("--serial-too", action="store_true", help="first the same window on one worker; print ratios")
    ap.add_argument("--keep", type=Path, help="write the output here and keep it (default: a temporary directory)")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="leonet-day-"))
    try:
        warm = _scenario(tmp, 10 / 3600)
        _leonet(["run", str(warm), "-o", str(tmp / "warm"), "-q", "--no-report"])
        scenario = _scenario(tmp, a.hours)
        out = a.keep if a.keep is not None else tmp / "out"
        snapshots = round(a.hours * 3600)
        print(f"leonet run: starlink-550 + 100 cities, 4,950 pairs, {a.hours:g} h at 1 s ({snapshots:,} snapshots)")
        print(f"before: {_uptime()}")
        args = ["run", str(scenario), "-o", str(out), "-q", "--no-report", *(["--force"] if a.force else [])]
        prof = tmp / "run.prof" if a.profile else None
        if a.serial_too:
            w1, c1, _ = _leonet(["run", str(scenario), "-o", str(tmp / "serial"), "-q", "--no-report"], None, 1)
            shutil.rmtree(tmp / "serial", ignore_errors=True)
            print(f"one worker: wall {w1:,.1f} s   CPU {c1:,.1f} s   CPU/wall {c1 / w1:.2f}   ({_uptime()})")
        wall, cpu, rss_kib = _leonet(args, prof, a.workers)
        print(f"after:  {_uptime()}")
        workers = a.workers if a.workers is not None else "default (CPUs: " + str(len(os.sched_getaffinity(0))) + ")"
        print(f"workers: {workers}")
        if a.serial_too:
            print(f"against one worker: wall x{w1 / wall:.2f} faster, CPU x{cpu / c1:.2f}")
        import pyarrow.parquet as pq

        files = _routes_files(out)
        rows = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
        routes_b = sum(f.stat().st_size for f in files)
        total_b = _du(out)
        print(f"wall {wall:,.1f} s   CPU {cpu:,.1f} s   CPU/wall {cpu / wall:.2f}   peak RSS {rss_kib / 2**20:.2f} GiB")
        per_row = f"{routes_b / max(rows, 1):.2f} B/row (routes), {total_b / max(rows, 1):.2f} B/row (all files)"
        print(f"route rows {rows:,}   routes {routes_b / 1e9:.3f} GB   output {total_b / 1e9:.3f} GB   {per_row}")
        print(f"per snapshot: {1e3 * wall / snapshots:.2f} ms wall, {1e3 * cpu / snapshots:.2f} ms CPU")
        if a.hours < 24:
            k = 24 / a.hours
            rss = f"peak RSS measured, not scaled: {rss_kib / 2**20:.2f} GiB"
            print(f"extrapolated linearly to 24 h (x{k:g}; measured {a.hours:g} h): wall {wall * k / 60:,.1f} min, "
                  f"output {total_b * k / 1e9:.1f} GB; {rss}")  # fmt: skip
        if a.columns:
            _columns(files, rows)
        if a.summaries:
            _summaries(files, rows)
        if prof is not None:
            _phases(prof, snapshots)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        os.sync()


if __name__ == "__main__":
    main()
