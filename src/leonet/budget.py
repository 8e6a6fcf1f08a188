"""What a run will cost, estimated before it starts, and the limits past which it is refused unless forced.

Figures per unit are measured on this project's machine (see each constant); the estimate is the count times
the figure.  The limits exist to turn a typo (``step_s = 0.001`` over a day, ``planes = 100000``) into one clear
refusal with the numbers, instead of hours of work, a full disk or an out-of-memory kill.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from leonet.errors import InputError

#: Most route rows (snapshots x pairs x networks) a run writes unless forced: ~2.3 days at 1 s for 4,950 pairs
#: (~11 GB of routes.parquet, ~35 min at ~10 ms per snapshot).  Memory no longer grows with the rows (the
#: summaries are exact in bounded memory, ``leonet.quantiles``), so this limit is about time and disk: a day at
#: 1 s for 4,950 pairs (428 M rows; ``python benchmarks/bench_day.py``) runs without --force, a typo such as
#: ``step_s = 0.001`` over a day does not.
MAX_ROUTE_ROWS = 1_000_000_000
#: Bytes per route row in routes.parquet: 10.6 B measured (``python benchmarks/bench_day.py --hours 0.25``:
#: 4.46 M rows, 47 MB; 34 B before the derived columns were dropped and the encodings chosen,
#: ``leonet.routes_table``); rounded up, since longer paths and more satellites compress less.
DISK_BYTES_PER_ROW = 16
#: Memory of the summaries of a streamed run, whatever its length (``leonet.quantiles``: at most 64 MB of
#: histogram counters and 32 MB of copied values per series; DuckDB's aggregates; 256 k-row batches): 170 MiB
#: measured above the imports (0.51 GiB peak) for 4.46 M rows (``python benchmarks/bench_day.py --hours 0.25
#: --summaries``), 140 MiB for those routes repeated to 17.8 M; the whole run peaked at 0.59 GiB for both 15 min
#: and 1 h.  Rounded up generously.  Plus, per pair, its aggregate state, look-up and result row.
SUMMARY_BYTES = 700_000_000
SUMMARY_BYTES_PER_PAIR = 4_000
#: Memory per route row when the Python API keeps the routes in memory (``leonet.run``): ~200 B.
MEMORY_BYTES_PER_ROW = 200
#: Memory per satellite: 2.1 KB measured for its ``Satrec`` and its slot in the ``SatrecArray``, plus the
#: 64-snapshot position chunk and its copies (~4.6 KB); rounded up.
BYTES_PER_SATELLITE = 8_000
#: Share of the available memory / free disk a run may plan to use.
SHARE = 0.8


def available_memory_bytes() -> int:
    """``MemAvailable`` of /proc/meminfo (Linux), else physical memory."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def free_disk_bytes(folder: Path) -> int:
    """Free bytes on the file system of ``folder`` (its nearest existing ancestor)."""
    p = Path(folder).absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    return shutil.disk_usage(p).free


#: Bytes per row of the access table (``[access]``, one row per network, snapshot and terminal): on disk (zstd
#: Parquet) and in memory (Arrow), measured for starlink-gen1 + 1,000 terminals x 256 snapshots: 33.0 and 96.4 B.
ACCESS_DISK_BYTES_PER_ROW = 34
ACCESS_MEMORY_BYTES_PER_ROW = 100
#: Memory per access row for its summary (DuckDB's exact quantiles hold the RTTs: 8 B each, with room)
ACCESS_SUMMARY_BYTES_PER_ROW = 16


@dataclass(frozen=True)
class Estimate:
    """A run's size: route rows (and access rows, one per network, snapshot and terminal, with ``[access]``)
    and the bytes they need."""

    snapshots: int
    pairs: int
    networks: int
    #: terminals with an access row per snapshot (0 without ``[access]``)
    access_terminals: int = 0

    @property
    def rows(self) -> int:
        return self.snapshots * self.pairs * self.networks

    @property
    def access_rows(self) -> int:
        return self.snapshots * self.access_terminals * self.networks

    def text(self) -> str:
        n = f"{self.snapshots:,} snapshots x {self.pairs:,} pairs x {self.networks} network(s)"
        acc = f" and {self.access_rows:,} access rows" if self.access_rows else ""
        return f"{self.rows:,} route rows ({n}){acc}"


def _gb(n: float) -> str:
    return f"{n / 1e9:,.1f} GB"


FORCE_HINT = "shorten the window, step coarser or route fewer pairs, or pass --force (Python: force=True)"


def check_satellites(count: int, where: str, force: bool, memory_bytes: int | None = None) -> None:
    """Refuse a constellation whose satellites alone would not fit in memory."""
    avail = available_memory_bytes() if memory_bytes is None else memory_bytes
    need = count * BYTES_PER_SATELLITE
    if not force and need > SHARE * avail:
        raise InputError(
            where,
            f"{count:,} satellites need about {_gb(need)} of memory ({BYTES_PER_SATELLITE:,} B each) and "
            f"{_gb(avail)} is available; expected a constellation that fits: fewer satellites, or pass --force",
        )


def check_output(
    est: Estimate,
    out_parent: Path | None,
    force: bool,
    in_memory: bool = False,
    memory_bytes: int | None = None,
    disk_bytes: int | None = None,
) -> None:
    """Refuse a run whose output is beyond :data:`MAX_ROUTE_ROWS`, the free disk at ``out_parent`` (if given)
    or the memory its summaries (or, ``in_memory``, its routes) need."""
    if force or est.rows + est.access_rows == 0:
        return
    if est.rows + est.access_rows > MAX_ROUTE_ROWS:
        raise InputError(
            "time / pairs", f"the run would write {est.text()}; expected at most {MAX_ROUTE_ROWS:,}: {FORCE_HINT}"
        )
    if out_parent is not None:
        free = free_disk_bytes(out_parent) if disk_bytes is None else disk_bytes
        need = est.rows * DISK_BYTES_PER_ROW + est.access_rows * ACCESS_DISK_BYTES_PER_ROW
        per = f"{DISK_BYTES_PER_ROW} B per row" + (
            f", {ACCESS_DISK_BYTES_PER_ROW} B per access row" if est.access_rows else ""
        )
        if need > SHARE * free:
            raise InputError(
                str(out_parent),
                f"the run would write {est.text()}, about {_gb(need)} at {per}, and "
                f"{_gb(free)} is free there; expected output that fits the disk: {FORCE_HINT}",
            )
    avail = available_memory_bytes() if memory_bytes is None else memory_bytes
    if in_memory:
        need = est.rows * MEMORY_BYTES_PER_ROW + est.access_rows * ACCESS_MEMORY_BYTES_PER_ROW
        why = f"{est.text()} at {MEMORY_BYTES_PER_ROW} B per row" + (
            f", {ACCESS_MEMORY_BYTES_PER_ROW} B per access row" if est.access_rows else ""
        )
    else:
        need = SUMMARY_BYTES + est.pairs * est.networks * SUMMARY_BYTES_PER_PAIR
        need += est.access_rows * ACCESS_SUMMARY_BYTES_PER_ROW
        n = est.pairs * est.networks
        why = f"the summaries of {n:,} pair(s) ({_gb(SUMMARY_BYTES)} + {SUMMARY_BYTES_PER_PAIR:,} B each)" + (
            f" and of {est.access_rows:,} access rows ({ACCESS_SUMMARY_BYTES_PER_ROW} B each)"
            if est.access_rows
            else ""
        )
    if need > SHARE * avail:
        raise InputError(
            "time / pairs",
            f"the run needs about {_gb(need)} of memory for {why}, and {_gb(avail)} is available; expected a "
            f"run that fits in memory: {FORCE_HINT}",
        )
