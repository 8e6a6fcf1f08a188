"""Start-up of the `leonet` command: wall time of `leonet --help`, `--version` and `check` (median of a few runs,
each a fresh process), with the number of modules each imports, against importing the whole engine eagerly (what
`import leonet` did before its names became lazy).  Prints figures; asserts nothing.

    python benchmarks/bench_startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time

CASES = {
    "leonet --help": ["-m", "leonet.cli", "--help"],
    "leonet --version": ["-m", "leonet.cli", "--version"],
    "leonet check (default scenario)": ["-m", "leonet.cli", "check"],
    "eager: import leonet.results, leonet.report": ["-c", "import leonet.results, leonet.report.page"],
}
COUNT = "import sys, runpy; sys.argv = {argv!r}; \ntry:\n    runpy.run_module('leonet.cli', run_name='__main__')\n"
COUNT += "except SystemExit:\n    pass\nprint(len(sys.modules), file=sys.stderr)"


def wall_s(args: list[str], cwd: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, check=True)
    return time.perf_counter() - t0


def modules(args: list[str], cwd: str) -> int:
    if args[0] == "-c":
        code = args[1] + "; import sys; print(len(sys.modules), file=sys.stderr)"
    else:
        code = COUNT.format(argv=["leonet", *args[2:]])
    r = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, check=True)
    return int(r.stderr.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as cwd:
        rows = []
        for label, args in CASES.items():
            wall_s(args, cwd)  # warm the OS file cache
            t = statistics.median(wall_s(args, cwd) for _ in range(a.runs))
            rows.append((label, t, modules(args, cwd)))
    eager = rows[-1][1]
    print(f"{'case':46} {'wall s':>8} {'modules':>8} {'vs eager':>9}")
    for label, t, n in rows:
        print(f"{label:46} {t:8.2f} {n:8d} {t / eager:8.2f}x")


if __name__ == "__main__":
    main()
