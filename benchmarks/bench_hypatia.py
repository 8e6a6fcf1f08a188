"""Hypatia's forwarding state for its Starlink-550 model: ``leonet export hypatia`` against satgenpy 0.4.0.

1. leonet: ``leonet export hypatia hypatia-starlink-550 DIR --step-ms 100 --duration-s 200`` (1,584 satellites,
   Hypatia's top-100 cities, 2,000 steps) with Hypatia's exact ranges (``--max-gsl-m 1089686.4181956202
   --max-isl-m 5016591.233098428``, its ``main_starlink_550.py`` constants), as a child process after a short
   warm-up that loads the numba cache: wall time, and the bytes of the dynamic state.
2. satgenpy: its ``generate_dynamic_state`` (the one-thread path of ``help_dynamic_state``, algorithm
   ``algorithm_free_one_only_over_isls``) over the static files leonet wrote, for the first ``--satgenpy-steps``
   steps (default 20 = 2 s; satgenpy's progress print needs at least 10; 0 skips it), in this process: seconds per step,
   extrapolated linearly to 2,000 steps (each satgenpy step costs the same: Floyd-Warshall over all satellites
   plus one pyephem call per ground station and satellite), and the ratio to leonet's wall time.
3. The same steps compared: the fraction of forwarding entries (full states rebuilt from the deltas) equal in
   both, and the files equal byte for byte.  The differences come from the distances: satgenpy's are pyephem's
   (its own SGP4 and Earth model), leonet's its SGP4 -> ITRF chain and WGS-72 ground stations; they differ by
   ~5-45 m (``tests/test_hypatia_oracle.py`` prints it), enough to flip a satellite across the 1,089.7 km range
   boundary a step earlier or later.

Run: ``python benchmarks/bench_hypatia.py [--duration-s 200] [--satgenpy-steps 20] [--satgenpy-from-step 0]``.
Prints figures; not a test.
"""

from __future__ import annotations

import argparse
import importlib
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HYPATIA_MAX_GSL_M = "1089686.4181956202"  # sqrt(940,700^2 + 550,000^2), main_starlink_550.py
HYPATIA_MAX_ISL_M = "5016591.233098428"  # 2 sqrt((R + 550 km)^2 - (R + 80 km)^2), R = 6,378,135 m


def _export(out: Path, step_ms: int, duration_s: int) -> tuple[float, float]:
    """(wall s, CPU s) of the child."""
    cmd = [
        sys.executable, "-m", "leonet.cli", "export", "hypatia", "hypatia-starlink-550", str(out),
        "--step-ms", str(step_ms), "--duration-s", str(duration_s),
        "--max-gsl-m", HYPATIA_MAX_GSL_M, "--max-isl-m", HYPATIA_MAX_ISL_M, "-q",
    ]  # fmt: skip
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)


def _states(folder: Path, times_ns: list[int]) -> list[dict[tuple[int, int], tuple[int, ...]]]:
    cur: dict[tuple[int, int], tuple[int, ...]] = {}
    out = []
    for t in times_ns:
        for line in (folder / f"fstate_{t}.txt").read_text().split():
            v = tuple(int(x) for x in line.split(","))
            cur[v[:2]] = v[2:]
        out.append(dict(cur))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--duration-s", type=int, default=200)
    ap.add_argument("--step-ms", type=int, default=100)
    ap.add_argument("--satgenpy-steps", type=int, default=20)
    ap.add_argument("--satgenpy-from-step", type=int, default=0, help="satgenpy's window starts at this step")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-hypatia-"))
    try:
        _export(tmp / "warm", args.step_ms, 1)  # numba cache, imports
        load = os.getloadavg()[0]
        wall, cpu = _export(tmp / "net", args.step_ms, args.duration_s)
        dyn = tmp / "net" / f"dynamic_state_{args.step_ms}ms_for_{args.duration_s}s"
        n_steps = args.duration_s * 1000 // args.step_ms
        size = sum(p.stat().st_size for p in dyn.iterdir())
        print(f"leonet export hypatia hypatia-starlink-550: {n_steps:,} steps of {args.step_ms} ms, 1,584 satellites, "
              f"100 ground stations: {wall:.1f} s wall, {cpu:.1f} s CPU ({wall / n_steps * 1e3:.1f} ms wall per step, "
              f"including start-up; load average before: {load:.1f}); "
              f"dynamic state {size / 1e6:.1f} MB in {len(list(dyn.iterdir())):,} files")
        print(f"  target < 60 s: {'met' if wall < 60 else 'NOT met'}")

        if args.satgenpy_steps <= 0:
            return
        satgen = importlib.import_module("satgen")
        gds = importlib.import_module("satgen.dynamic_state.generate_dynamic_state")
        net = tmp / "net"
        tles = satgen.read_tles(str(net / "tles.txt"))
        sats = tles["satellites"]
        gss = satgen.read_ground_stations_extended(str(net / "ground_stations.txt"))
        isls = satgen.read_isls(str(net / "isls.txt"), len(sats))
        ifs = satgen.read_gsl_interfaces_info(str(net / "gsl_interfaces_info.txt"), len(sats), len(gss))
        k = max(10, args.satgenpy_steps)
        step_ns = args.step_ms * 1_000_000
        theirs = tmp / "satgenpy"
        theirs.mkdir()
        t0, c0 = time.perf_counter(), time.process_time()
        k0 = args.satgenpy_from_step
        gds.generate_dynamic_state(
            str(theirs), tles["epoch"], (k0 + k) * step_ns, step_ns, k0 * step_ns, sats, gss, isls, ifs,
            float(HYPATIA_MAX_GSL_M), float(HYPATIA_MAX_ISL_M), "algorithm_free_one_only_over_isls", False,
        )  # fmt: skip
        t_sg, c_sg = time.perf_counter() - t0, time.process_time() - c0
        per = t_sg / k
        est = per * n_steps
        print(f"satgenpy 0.4.0 generate_dynamic_state, same input, first {k} steps: {t_sg:.1f} s wall, {c_sg:.1f} s "
              f"CPU ({per:.2f} s per step, one thread) -> {n_steps:,} steps ~ {est / 3600:.2f} h wall "
              f"(linear extrapolation)")
        print(f"  ratio satgenpy / leonet, {n_steps:,} steps: {est / wall:,.0f}x in wall time, "
              f"{c_sg / k * n_steps / cpu:,.0f}x in CPU time")

        a = _states(dyn, [i * step_ns for i in range(k0 + k)])[k0:]  # leonet's, rebuilt from step 0
        b = _states(theirs, [i * step_ns for i in range(k0, k0 + k)])  # satgenpy's window starts in full
        n_eq = sum(a[i][key] == b[i].get(key) for i in range(k) for key in a[i])
        n_all = sum(len(s) for s in a)
        # (a window that starts later begins with a full file on satgenpy's side: not compared as bytes)
        comparable = [p for p in theirs.iterdir() if k0 == 0 or p.name != f"fstate_{k0 * step_ns}.txt"]
        files_eq = sum((dyn / p.name).read_bytes() == p.read_bytes() for p in comparable)
        print(f"  same {k} steps (from step {k0}): {n_eq:,} of {n_all:,} forwarding entries equal "
              f"({n_eq / n_all:.4%}); {files_eq} of {len(comparable)} files byte-identical")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
