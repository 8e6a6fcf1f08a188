"""Start-up cost of the command line, counted in modules, not seconds: `leonet --help` must not load the engine,
and `leonet check` must not load the routing kernels, DuckDB or matplotlib (the package's names are imported
lazily, PEP 562; the routing kernels on first routing).  `python benchmarks/bench_startup.py` prints the times."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def imported(*args: str, cwd: Path, full: bool = False) -> set[str]:
    """Top-level packages (``full``: modules) a `leonet ...` process imports (``python -X importtime``'s report
    on stderr)."""
    r = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "leonet.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    names = set()
    for line in r.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            names.add(name if full else name.split(".")[0])
    return names


HEAVY = {"numba", "llvmlite", "duckdb", "matplotlib", "pyarrow", "scipy", "shapely", "pyproj", "sgp4", "numpy"}


def test_help_and_version_load_no_engine(tmp_path: Path) -> None:
    for args in (["--help"], ["run", "--help"], ["--version"]):
        mods = imported(*args, cwd=tmp_path)
        assert "leonet" in mods and "typer" in mods
        assert not (mods & HEAVY), f"leonet {' '.join(args)} imports {sorted(mods & HEAVY)}"


def test_check_loads_no_routing_kernel_database_or_plotting(tmp_path: Path) -> None:
    """(numba comes with the first kernel call: routing, track interpolation, ISL inference.)"""
    mods = imported("check", cwd=tmp_path, full=True)
    assert {"sgp4", "numpy", "leonet.assembly", "leonet.tracks"} <= mods  # it does prepare the scenario
    heavy = {"numba", "leonet._dijkstra", "leonet._pathread", "leonet._track_kernels", "duckdb", "matplotlib"}
    heavy |= {"leonet.report"}
    assert not (mods & heavy), sorted(mods & heavy)


def test_import_leonet_is_lazy_but_complete() -> None:
    code = (
        "import sys, leonet; assert 'leonet.assembly' not in sys.modules; "
        "sc = leonet.load_scenario('default'); assert isinstance(sc, leonet.Scenario); "
        "assert callable(leonet.run) and 'leonet.results' in sys.modules; "
        "assert sorted(leonet.__all__) == sorted(n for n in dir(leonet) if n in leonet.__all__)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
