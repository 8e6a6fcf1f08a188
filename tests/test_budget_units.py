"""``leonet.budget``'s refusals at their edges, against the rule the README writes out.

Reference: README.md, "Runs are refused up front" and the access section: a run is refused when it writes more
than 1,000 million route rows (route rows + access rows), when its output needs more than 80% of the free disk
at 16 B per route row and 34 B per access row, or more than 80% of the available memory: for the summaries 700
MB + 4 kB per pair (x network) + 16 B per access row (``budget.ACCESS_SUMMARY_BYTES_PER_ROW``'s comment: the
RTTs DuckDB's exact quantiles hold, 8 B each, with room), for the Python API's routes in memory 200 B per route
row and 100 B per access row, and for a constellation 8 kB per satellite.  The figures are written out here from
the README, not read from the module; each case sits exactly at the edge ("more than" 80%: the edge itself
passes) and one byte past it.  The free disk and memory are chosen as multiples of 5 so that 0.8 x them is exact
in binary floating point (checked), and the rule is evaluated in integers: refused iff 5 x need > 4 x available.

``available_memory_bytes`` / ``free_disk_bytes`` against their docstrings: ``MemAvailable`` of /proc/meminfo
(kB x 1024), else the physical memory (``os.sysconf``); the file system of the nearest existing ancestor.
"""

from __future__ import annotations

import builtins
import io
import os
import shutil
from collections import namedtuple
from pathlib import Path

import pytest

from leonet import budget
from leonet.errors import InputError

# the README's figures
ROW_LIMIT = 1_000_000_000
DISK_PER_ROW, DISK_PER_ACCESS_ROW = 16, 34
MEMORY_PER_ROW, MEMORY_PER_ACCESS_ROW = 200, 100
SUMMARY, SUMMARY_PER_PAIR, SUMMARY_PER_ACCESS_ROW = 700_000_000, 4_000, 16
PER_SATELLITE = 8_000
HUGE = 10**18


def refused(need: int, available: int) -> bool:
    """The README's rule in integers: more than 80% of what is available."""
    if available % 5 == 0:
        assert 0.8 * available == available // 5 * 4  # the float edge is the integer edge
    return 5 * need > 4 * available


def edge(need: int) -> int:
    """The least available amount (a multiple of 5 when need is a multiple of 4) at which ``need`` passes."""
    assert need % 4 == 0
    return need * 5 // 4


def outcome(call: object, *args: object, **kw: object) -> bool:
    """True when the call refuses with an InputError."""
    try:
        call(*args, **kw)  # type: ignore[operator]
    except InputError:
        return True
    return False


def test_estimate_counts_and_text() -> None:
    """rows = snapshots x pairs x networks, access rows = snapshots x terminals x networks; the text names both."""
    est = budget.Estimate(7, 11, 3, 5)
    assert (est.rows, est.access_rows) == (7 * 11 * 3, 7 * 5 * 3)
    assert est.text() == "231 route rows (7 snapshots x 11 pairs x 3 network(s)) and 105 access rows"
    plain = budget.Estimate(1_000, 4_950, 2)  # without [access]: no access rows, none in the text
    assert plain.access_rows == 0
    assert plain.text() == "9,900,000 route rows (1,000 snapshots x 4,950 pairs x 2 network(s))"


def test_nothing_to_write_or_forced_is_never_refused() -> None:
    """No rows at all (route + access) or ``force``: no check, whatever the disk and memory."""
    for est in (budget.Estimate(10, 0, 1, 0), budget.Estimate(0, 10, 1, 10)):
        budget.check_output(est, Path("."), False, memory_bytes=0, disk_bytes=0)
    budget.check_output(budget.Estimate(10**6, 10**6, 9, 10**6), Path("."), True, memory_bytes=0, disk_bytes=0)
    # as many route rows as access rows, and one of each: there are rows, so they are checked
    for est in (budget.Estimate(1, 5, 1, 5), budget.Estimate(1, 1, 1, 0), budget.Estimate(1, 0, 1, 1)):
        assert outcome(budget.check_output, est, None, False, memory_bytes=0)


def test_the_row_limit_counts_route_and_access_rows() -> None:
    """At most 1,000 million rows: the limit itself passes, one row more (a route or an access row) is refused."""
    kw = {"memory_bytes": HUGE, "disk_bytes": HUGE}
    budget.check_output(budget.Estimate(1_000, 1_000_000, 1), None, False, **kw)
    budget.check_output(budget.Estimate(1, ROW_LIMIT - 2, 1, 2), None, False, **kw)
    with pytest.raises(InputError, match="expected at most 1,000,000,000"):
        budget.check_output(budget.Estimate(1, ROW_LIMIT + 1, 1), None, False, **kw)
    with pytest.raises(InputError, match=r"999,999,998 route rows .* and 3 access rows; expected at most"):
        budget.check_output(budget.Estimate(1, ROW_LIMIT - 2, 1, 3), None, False, **kw)


@pytest.mark.parametrize(("pairs", "terminals"), [(1_000, 0), (1_000, 1_000), (0, 500), (3, 7)])
def test_disk_edge(tmp_path: Path, pairs: int, terminals: int) -> None:
    """16 B per route row, 34 B per access row, refused past 80% of the free disk; not checked without a folder."""
    est = budget.Estimate(4, pairs, 2, terminals)
    need = 4 * 2 * (pairs * DISK_PER_ROW + terminals * DISK_PER_ACCESS_ROW)
    free = edge(need)
    for disk in (free, free - 1, free + 1):
        got = outcome(budget.check_output, est, tmp_path, False, memory_bytes=HUGE, disk_bytes=disk)
        assert got == refused(need, disk), disk
    with pytest.raises(InputError, match="34 B per access row" if terminals else "16 B per row, and"):
        budget.check_output(est, tmp_path, False, memory_bytes=HUGE, disk_bytes=free - 1)
    budget.check_output(est, None, False, memory_bytes=HUGE, disk_bytes=0)  # no output folder: no disk check


@pytest.mark.parametrize(("pairs", "terminals"), [(1_000, 0), (1_000, 1_000), (0, 500), (3, 7)])
def test_in_memory_edge(pairs: int, terminals: int) -> None:
    """The Python API's routes in memory: 200 B per route row and 100 B per access row, past 80% refused."""
    est = budget.Estimate(4, pairs, 2, terminals)
    need = 4 * 2 * (pairs * MEMORY_PER_ROW + terminals * MEMORY_PER_ACCESS_ROW)
    avail = edge(need)
    for mem in (avail, avail - 1, avail + 1):
        assert outcome(budget.check_output, est, None, False, True, memory_bytes=mem) == refused(need, mem), mem


@pytest.mark.parametrize(("snapshots", "pairs", "networks", "terminals"), [(3, 10, 2, 0), (3, 10, 2, 5), (7, 0, 3, 4)])
def test_summary_memory_edge(snapshots: int, pairs: int, networks: int, terminals: int) -> None:
    """A streamed run: 700 MB + 4 kB per pair and network + 16 B per access row, whatever the route rows."""
    est = budget.Estimate(snapshots, pairs, networks, terminals)
    need = SUMMARY + pairs * networks * SUMMARY_PER_PAIR + snapshots * terminals * networks * SUMMARY_PER_ACCESS_ROW
    avail = edge(need)
    for mem in (avail, avail - 1, avail + 1):
        assert outcome(budget.check_output, est, None, False, memory_bytes=mem) == refused(need, mem), mem
    with pytest.raises(InputError, match=f"the summaries of {pairs * networks:,} pair\\(s\\)"):
        budget.check_output(est, None, False, memory_bytes=avail - 1)


def test_the_given_disk_and_memory_are_the_ones_checked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``memory_bytes`` / ``disk_bytes`` when given replace the machine's figures, else the machine's are used."""
    monkeypatch.setattr(budget, "available_memory_bytes", lambda: 10**15)
    monkeypatch.setattr(budget, "free_disk_bytes", lambda folder: 10**15)
    est = budget.Estimate(10, 10, 1, 10)
    assert outcome(budget.check_output, est, tmp_path, False, memory_bytes=0)
    assert outcome(budget.check_output, est, tmp_path, False, disk_bytes=0)
    budget.check_output(est, tmp_path, False)
    assert outcome(budget.check_satellites, 10, "n", False, memory_bytes=0)
    budget.check_satellites(10, "n", False)
    monkeypatch.setattr(budget, "available_memory_bytes", lambda: 0)
    monkeypatch.setattr(budget, "free_disk_bytes", lambda folder: 0)
    budget.check_output(est, tmp_path, False, memory_bytes=HUGE, disk_bytes=HUGE)
    assert outcome(budget.check_output, est, tmp_path, False, disk_bytes=HUGE)
    budget.check_satellites(10, "n", False, memory_bytes=HUGE)
    assert outcome(budget.check_satellites, 10, "n", False)


@pytest.mark.parametrize("count", [1, 1_000, 123_456])
def test_satellites_edge(count: int) -> None:
    """8 kB per satellite, refused past 80% of the available memory, never when forced."""
    need = count * PER_SATELLITE
    avail = edge(need)
    for mem in (avail, avail - 1, avail + 1):
        assert outcome(budget.check_satellites, count, "n", False, mem) == refused(need, mem), mem
    budget.check_satellites(count, "n", True, 0)
    with pytest.raises(InputError, match=f"{count:,} satellites need about"):
        budget.check_satellites(count, "n", False, avail - 1)


def fake_open(text: str | None) -> object:
    real = builtins.open

    def opener(path: object, *args: object, **kw: object) -> object:
        if str(path) != "/proc/meminfo":
            return real(path, *args, **kw)  # type: ignore[call-overload]
        if text is None:
            raise FileNotFoundError(path)
        return io.StringIO(text)

    return opener


def test_available_memory_is_memavailable_else_physical(monkeypatch: pytest.MonkeyPatch) -> None:
    """``MemAvailable`` (kB, x 1024) even when other lines come first; without it or without the file: the
    physical memory, page size x pages."""
    meminfo = "MemTotal:       16000000 kB\nMemFree:          123456 kB\nMemAvailable:    7654321 kB\nCached: 1 kB\n"
    monkeypatch.setattr(builtins, "open", fake_open(meminfo))
    assert budget.available_memory_bytes() == 7_654_321 * 1024
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    monkeypatch.setattr(builtins, "open", fake_open("MemTotal: 16000000 kB\n"))
    assert budget.available_memory_bytes() == physical
    monkeypatch.setattr(builtins, "open", fake_open(None))
    assert budget.available_memory_bytes() == physical


def test_free_disk_of_the_nearest_existing_ancestor(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The folder itself when it exists, else its nearest existing ancestor; a relative folder made absolute."""
    asked: list[Path] = []
    usage = namedtuple("usage", "total used free")

    def disk_usage(p: object) -> object:
        asked.append(Path(p))  # type: ignore[arg-type]
        return usage(10, 3, 7)

    monkeypatch.setattr(shutil, "disk_usage", disk_usage)
    assert budget.free_disk_bytes(tmp_path) == 7
    assert budget.free_disk_bytes(tmp_path / "not" / "yet") == 7
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    assert budget.free_disk_bytes(Path("sub") / "new") == 7
    assert asked == [tmp_path, tmp_path, tmp_path / "sub"]
