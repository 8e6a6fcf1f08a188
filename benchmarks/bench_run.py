"""A whole ``leonet run``: wall time, peak memory, route rows and bytes per row (the README's run-time figures).

1. ``leonet run SCENARIO -o TMP -q`` as a child process (the command a reader runs: prepare, simulate, streamed
   Parquet, DuckDB, the report), after one short warm-up run that loads the numba cache: wall time and the
   child's peak RSS (``ru_maxrss`` of the children).
2. The routes it wrote: rows, Parquet bytes per row, and the Arrow bytes per row of the same table in memory
   (what the Python API ``leonet.run`` holds).
3. The summaries (``metrics.summarise``, DuckDB over the Parquet file) in a child process: its peak RSS above a
   child that only imports the same libraries, per pair-snapshot (the exact medians and p95 hold every RTT value
   of a pair while they aggregate).

Run: ``python benchmarks/bench_run.py [SCENARIO] [--end-s 3600] [--no-report]``.  Prints figures; not a test.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: peak RSS of the calling process (KiB): ``VmHWM`` is reset at ``exec`` (``ru_maxrss`` is inherited from the parent)
_HWM = "int(next(ln for ln in open('/proc/self/status') if ln.startswith('VmHWM')).split()[1])"

_SUMMARY_CHILD = f"""
import sys, time
import pyarrow.dataset as ds
from leonet import metrics
routes = ds.dataset(sys.argv[1], format="parquet")
base = {_HWM}
t0 = time.perf_counter()
out = metrics.summarise(routes) if sys.argv[2] == "1" else None
dt = time.perf_counter() - t0
print(base, {_HWM}, dt, 0 if out is None else out.num_rows)
"""


#: ``leonet run`` in a child process; with ``end_s`` the scenario's window is cut (or extended) there first
_RUN_CHILD = f"""
import atexit, sys
atexit.register(lambda: print("VmHWM", {_HWM}, file=sys.stderr))
import leonet.scenario as s
from leonet.cli import app
end = sys.argv[1]
if end != "-":
    load = s.load_scenario
    s.load_scenario = lambda n: (lambda sc: sc.model_copy(update={{"time": sc.time.model_copy(
        update={{"end_s": float(end)}})}}))(load(n))
app(sys.argv[2:])
"""


def _leonet_run(name: str, end_s: float | None, out: Path, report: bool) -> list[str]:
    end = "-" if end_s is None else repr(end_s)
    return [
        sys.executable,
        "-c",
        _RUN_CHILD,
        end,
        "run",
        name,
        "-o",
        str(out),
        "-q",
        *([] if report else ["--no-report"]),
    ]


def _child_rss_kib(args: list[str]) -> tuple[float, int, str]:
    """Wall time, peak RSS (KiB) and stdout of one child process."""
    t0 = time.perf_counter()
    p = subprocess.run(args, capture_output=True, text=True, check=True)
    dt = time.perf_counter() - t0
    hwm = [int(ln.split()[1]) for ln in p.stderr.splitlines() if ln.startswith("VmHWM ")]
    return dt, hwm[-1] if hwm else 0, p.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("scenario", nargs="?", default="default")
    ap.add_argument("--end-s", type=float, default=None, help="override the window's end (e.g. 3600: one hour)")
    ap.add_argument("--no-report", action="store_true")
    args = ap.parse_args()

    import pyarrow.parquet as pq

    import leonet

    sc = leonet.load_scenario(args.scenario)
    if args.end_s is not None:
        sc = sc.model_copy(update={"time": sc.time.model_copy(update={"end_s": args.end_s})})
    tmp = Path(tempfile.mkdtemp(prefix="leonet-bench-run-"))
    try:
        warm_end = sc.time.start_s + 2 * sc.time.step_s
        _child_rss_kib(_leonet_run(args.scenario, warm_end, tmp / "warm", report=False))  # numba cache, imports
        wall, rss_kib, _ = _child_rss_kib(_leonet_run(args.scenario, args.end_s, tmp / "out", not args.no_report))
        routes_path = tmp / "out" / "routes"  # one Parquet part per chunk (leonet.parts)
        part_files = sorted(routes_path.glob("part-*.parquet"))
        rows = sum(pq.ParquetFile(f).metadata.num_rows for f in part_files)
        pq_bytes = sum(f.stat().st_size for f in part_files)
        from leonet.assembly import snapshot_times

        n_snap = len(snapshot_times(sc))
        print(
            f"== leonet run {args.scenario} ({n_snap:,} snapshots, {rows:,} route rows"
            f"{', no report' if args.no_report else ', with the report'})"
        )
        print(f"   wall time          {wall:.1f} s (after a warm-up run; includes starting Python and imports)")
        print(f"   peak RSS           {rss_kib / 1024:.0f} MiB (the leonet process)")
        print(f"   routes/ (parts)    {pq_bytes / 2**20:.1f} MiB, {pq_bytes / max(rows, 1):.1f} bytes per row")
        table = pq.read_table(routes_path)
        print(
            f"   routes in memory   {table.nbytes / 2**20:.0f} MiB as Arrow, {table.nbytes / max(rows, 1):.0f} bytes"
            " per row (what leonet.run keeps)"
        )
        del table
        code = [sys.executable, "-c", _SUMMARY_CHILD, str(routes_path)]
        _, _, idle = _child_rss_kib([*code, "0"])
        _, _, busy = _child_rss_kib([*code, "1"])
        _, b1, _, _ = (float(x) for x in idle.split()[-4:])  # (DuckDB may print a progress bar first)
        _, s1, dt, pairs = (float(x) for x in busy.split()[-4:])
        extra = max(s1 - b1, 0.0) * 1024
        print(
            f"   summaries (DuckDB) {dt:.1f} s for {pairs:,.0f} pairs; peak RSS {s1 / 1024:.0f} MiB, "
            f"{extra / 2**20:.0f} MiB above an idle child: {extra / max(rows, 1):.0f} bytes per pair-snapshot"
        )
        print(
            json.dumps(
                {
                    "snapshots": n_snap,
                    "rows": rows,
                    "wall_s": round(wall, 2),
                    "peak_rss_mib": round(rss_kib / 1024),
                    "parquet_bytes_per_row": round(pq_bytes / rows, 1),
                    "summary_bytes_per_row": round(extra / max(rows, 1)),
                }
            )
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
