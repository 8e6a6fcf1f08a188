"""The run's parts on forked worker processes (``leonet.pool``, what ``leonet run`` does on a machine with more
than one CPU) give the serial run's tables, row for row.

The reference is ``leonet.run`` in this process (``runner.run_serial``: chunks carried one to the next, routes
in memory), independent of the parts, the pool, and its runs' rebuilt carries (``chunk.carry_at``).  The
scenarios are tests/test_cluster.py's (a roaming rule that looks back in time; 7 s slots that parts start
inside).  Worker processes are forked by the code under test and joined by it.
"""

from __future__ import annotations

import multiprocessing.process
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

import leonet
from conftest import missing
from leonet import parts, pool
from leonet.assembly import assemble
from test_cluster import SCENARIO, _assert_output_same, _assert_same, _roaming, _scenario


@pytest.fixture
def fork() -> None:
    """The pool forks worker processes (Linux): elsewhere skipped, or failed under CI."""
    if not pool.available():
        missing("leonet.pool forks worker processes (Linux only)")


def _recording_writes(monkeypatch: pytest.MonkeyPatch, log: Path) -> None:
    """Make every part write append the writing process's pid to ``log`` (inherited by the forked workers)."""
    real = pool.write_part

    def write(folder: Path, out: parts.PartResult) -> None:
        with open(log, "a", encoding="ascii") as f:
            f.write(f"{os.getpid()}\n")
        real(folder, out)

    monkeypatch.setattr(pool, "write_part", write)


def test_runs_of_cuts_consecutive_runs() -> None:
    tasks = [parts.Task(0, 10 * i, 10 * i + 10) for i in range(20)]
    assert [len(r) for r in pool.runs_of(tasks, 2)] == [8, 8, 4]  # at most RUN_PARTS
    assert [len(r) for r in pool.runs_of(tasks[:5], 2)] == [3, 2]  # one run per worker when short
    assert [len(r) for r in pool.runs_of(tasks[:1], 4)] == [1]
    assert pool.runs_of([], 2) == []
    assert [t for r in pool.runs_of(tasks, 3) for t in r] == tasks  # in order, each once


@pytest.mark.usefixtures("fork")
def test_pool_of_two_workers_equals_the_serial_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two workers, runs of two parts of 100 snapshots (4 runs: each worker takes more than one, from a queue);
    every run but the first starts from a carry rebuilt with the roaming history computed once in the parent;
    the parts are written by the workers, not by this process, and the tables equal the serial run's."""
    monkeypatch.setattr(pool, "RUN_PARTS", 2)
    log = tmp_path / "writers.txt"
    _recording_writes(monkeypatch, log)
    sc = _roaming(tmp_path)
    prep = assemble(sc)
    want = leonet.run(sc, workers=1)
    folder = tmp_path / "run"
    folder.mkdir()
    seen: list[int] = []
    got, resumed = parts.run_to_parts(prep, folder, pool.pool_compute(folder, 2), seen.append, chunk_snapshots=100)
    tasks = parts.plan(prep, 100)
    assert resumed == 0 and sum(seen) == len(prep.times_s) and len(tasks) == 8
    writers = log.read_text(encoding="ascii").split()
    assert len(writers) == len(tasks) and len(set(writers)) == 2 and str(os.getpid()) not in writers
    denied = [r for r in want.service.to_pylist() if r["rule_id"] == "plan-mobile"]
    assert denied, "the roaming denial should be in the window"
    _assert_same(got, want)


@pytest.mark.usefixtures("fork")
def test_python_api_on_two_workers_equals_the_serial_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``leonet.run`` on forked workers (runs of one part: 3 runs, 2 workers; the later runs start from carries
    rebuilt with the roaming history): the parts are computed by two other processes, not this one, and the
    in-memory tables equal the serial run's (``workers=1``: ``runner.run_serial`` in this process)."""
    monkeypatch.setattr(pool, "RUN_PARTS", 1)
    log = tmp_path / "computers.txt"
    real = pool.serial_compute

    def compute(*args: object, **kwargs: object) -> Iterator[parts.PartResult]:
        with open(log, "a", encoding="ascii") as f:
            f.write(f"{os.getpid()}\n")
        yield from real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pool, "serial_compute", compute)
    sc = _roaming(tmp_path)
    want = leonet.run(sc, workers=1)
    assert not log.exists()  # the serial reference used no pool
    seen: list[int] = []
    got = leonet.run(sc, progress=seen.append, workers=2)
    computers = log.read_text(encoding="ascii").split()
    assert len(parts.plan(assemble(sc))) == 3 and len(computers) == 3
    assert len(set(computers)) == 2 and str(os.getpid()) not in computers
    assert sum(seen) == len(assemble(sc).times_s)
    assert isinstance(got.routes, pa.Table) and got.routes.num_rows == want.routes.num_rows > 0
    assert got.routes.equals(want.routes)  # the same rows in the same order
    _assert_same(got, want)


@pytest.mark.usefixtures("fork")
def test_python_api_default_uses_the_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without ``workers``, ``LEONET_WORKERS`` decides: 1 keeps ``leonet.run`` in this process."""
    calls: list[int] = []
    real = pool.pool_compute

    def spy(folder: Path | None, workers: int | None = None) -> parts.Compute:
        calls.append(workers or 0)
        return real(folder, workers)

    monkeypatch.setattr(pool, "pool_compute", spy)
    sc = _scenario(end_s=600)
    monkeypatch.setenv("LEONET_WORKERS", "1")
    one = leonet.run(sc)
    assert calls == []
    monkeypatch.setenv("LEONET_WORKERS", "2")
    two = leonet.run(sc)
    assert calls == [2]
    _assert_same(two, one)


@pytest.mark.usefixtures("fork")
def test_python_api_in_a_daemonic_process_stays_serial(tmp_path: Path) -> None:
    """A daemonic process (a process pool's worker, a Dask worker) may not start children: ``leonet.run`` there
    computes in that process, and gives the serial run's tables."""
    import multiprocessing as mp

    sc = _scenario(end_s=600)
    ctx = mp.get_context("fork")
    out = ctx.Queue()

    def child() -> None:
        try:
            out.put(leonet.run(sc, workers=2).routes.num_rows)
        except BaseException as exc:  # e.g. "daemonic processes are not allowed to have children"
            out.put(repr(exc))

    p = ctx.Process(target=child, daemon=True)
    p.start()
    rows = out.get(timeout=120)
    p.join(timeout=60)
    assert p.exitcode == 0
    assert rows == leonet.run(sc, workers=1).routes.num_rows > 0


@pytest.mark.usefixtures("fork")
def test_one_run_is_computed_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A window of one part forks nothing: this process computes it (and its writer thread writes it)."""
    log = tmp_path / "writers.txt"
    _recording_writes(monkeypatch, log)
    sc = _scenario(end_s=60)
    prep = assemble(sc)
    folder = tmp_path / "run"
    folder.mkdir()
    got, _ = parts.run_to_parts(prep, folder, pool.pool_compute(folder, 2))
    assert not log.exists()
    _assert_same(got, leonet.run(sc, workers=1))


@pytest.mark.usefixtures("fork")
def test_a_worker_error_is_raised_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(folder: Path, out: parts.PartResult) -> None:
        raise OSError(28, "No space left on device (test)")

    monkeypatch.setattr(pool, "write_part", fail)
    prep = assemble(_scenario(end_s=600))
    folder = tmp_path / "run"
    folder.mkdir()
    with pytest.raises(OSError, match="No space left"):
        parts.run_to_parts(prep, folder, pool.pool_compute(folder, 2))


@pytest.mark.usefixtures("fork")
def test_an_exception_that_does_not_pickle_arrives_as_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The queue pickles on a thread of its own, where a failure would be lost (and the run would wait for ever):
    a worker's exception of a class that does not pickle (a local one) comes back as a RuntimeError naming it."""

    class LocalError(Exception):
        pass

    def fail(folder: Path, out: parts.PartResult) -> None:
        raise LocalError("boom")

    monkeypatch.setattr(pool, "write_part", fail)
    prep = assemble(_scenario(end_s=600))
    folder = tmp_path / "run"
    folder.mkdir()
    with pytest.raises(RuntimeError, match="LocalError: boom"):
        parts.run_to_parts(prep, folder, pool.pool_compute(folder, 2))


@pytest.mark.usefixtures("fork")
def test_a_dead_worker_stops_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pool, "write_part", lambda folder, out: os._exit(3))
    prep = assemble(_scenario(end_s=600))
    folder = tmp_path / "run"
    folder.mkdir()
    started = _recording_starts(monkeypatch)
    with pytest.raises(RuntimeError, match="exit code 3"):
        parts.run_to_parts(prep, folder, pool.pool_compute(folder, 2))
    assert len(started) == 2
    for p in started:  # each worker stopped and reaped: not running, not a zombie
        with pytest.raises(ChildProcessError):
            os.waitpid(p.pid or 0, os.WNOHANG)


@pytest.mark.usefixtures("fork")
def test_workers_of_a_finished_run_exit_by_themselves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After every worker's "done" the run waits for the workers to exit (code 0) and reaps them; it does not
    terminate them (SIGTERM: code -15) nor leave zombies.  Each worker lingers 0.5 s after its "done" (as one
    flushing a large last message would), so a run that terminated instead of waiting would be seen doing so."""
    started = _recording_starts(monkeypatch)
    real = pool._worker

    def lingering(*args: object) -> None:
        real(*args)
        time.sleep(0.5)

    monkeypatch.setattr(pool, "_worker", lingering)
    prep = assemble(_scenario(end_s=600))
    folder = tmp_path / "run"
    folder.mkdir()
    parts.run_to_parts(prep, folder, pool.pool_compute(folder, 2), chunk_snapshots=10)
    assert [p.exitcode for p in started] == [0, 0]
    for p in started:
        with pytest.raises(ChildProcessError):
            os.waitpid(p.pid or 0, os.WNOHANG)


def _recording_starts(monkeypatch: pytest.MonkeyPatch) -> list[multiprocessing.process.BaseProcess]:
    """Record every process the pool starts (the worker Process objects, whose pids only this run owns)."""
    started: list[multiprocessing.process.BaseProcess] = []
    real = multiprocessing.process.BaseProcess.start

    def start(self: multiprocessing.process.BaseProcess) -> None:
        real(self)
        started.append(self)

    monkeypatch.setattr(multiprocessing.process.BaseProcess, "start", start)
    return started


@pytest.mark.usefixtures("fork")
def test_a_worker_gone_without_its_done_stops_the_run_after_the_grace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker that exits cleanly (code 0) without its "done" (lost messages): the run waits _GRACE_S for
    them, then stops with the exit code, not for ever."""
    monkeypatch.setattr(pool, "write_part", lambda folder, out: os._exit(0))
    monkeypatch.setattr(pool, "_GRACE_S", 1.0)
    prep = assemble(_scenario(end_s=600))
    folder = tmp_path / "run"
    folder.mkdir()
    with pytest.raises(RuntimeError, match="exit code 0"):
        parts.run_to_parts(prep, folder, pool.pool_compute(folder, 2), chunk_snapshots=100)


def test_default_workers_follow_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEONET_WORKERS", "3")
    assert pool.default_workers() == 3
    monkeypatch.setenv("LEONET_WORKERS", "zero")  # not a positive integer: the CPUs
    assert pool.default_workers() >= 1


def test_runs_of_one_or_no_worker_is_one_run_up_to_run_parts() -> None:
    tasks = [parts.Task(0, 10 * i, 10 * i + 10) for i in range(5)]
    assert [len(r) for r in pool.runs_of(tasks, 1)] == [5]
    assert [len(r) for r in pool.runs_of(tasks, 0)] == [5]  # "no worker" counts as one


def _pdeathsig() -> int:
    """This process's parent-death signal (``prctl(PR_GET_PDEATHSIG)``, 0: none)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    sig = ctypes.c_int(-1)
    assert libc.prctl(2, ctypes.byref(sig), 0, 0, 0) == 0  # PR_GET_PDEATHSIG = 2
    return sig.value


@pytest.mark.usefixtures("fork")
def test_workers_are_killed_by_the_kernel_when_the_run_dies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every worker that writes a part has SIGKILL as its parent-death signal (read back from the kernel),
    set in the worker itself: this process keeps none."""
    log = tmp_path / "signals.txt"
    real = pool.write_part

    def write(folder: Path, out: parts.PartResult) -> None:
        with open(log, "a", encoding="ascii") as f:
            f.write(f"{os.getpid()} {_pdeathsig()}\n")
        real(folder, out)

    monkeypatch.setattr(pool, "write_part", write)
    prep = assemble(_scenario(end_s=600))
    folder = tmp_path / "run"
    folder.mkdir()
    parts.run_to_parts(prep, folder, pool.pool_compute(folder, 2), chunk_snapshots=100)
    rows = [line.split() for line in log.read_text(encoding="ascii").splitlines()]
    assert rows and {sig for _, sig in rows} == {str(int(signal.SIGKILL))}
    assert str(os.getpid()) not in {pid for pid, _ in rows} and _pdeathsig() == 0


@pytest.mark.usefixtures("fork")
def test_a_worker_whose_parent_is_gone_stops_before_writing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The workers' check before every part: a worker that sees another parent (as after this process died,
    before the kernel's signal) exits at once (code 1) and writes nothing."""
    log = tmp_path / "writers.txt"
    _recording_writes(monkeypatch, log)
    monkeypatch.setattr(os, "getppid", lambda: -1)  # inherited by the forked workers: not the run's pid
    prep = assemble(_scenario(end_s=600))
    folder = tmp_path / "run"
    folder.mkdir()
    with pytest.raises(RuntimeError, match="exit code 1"):
        parts.run_to_parts(prep, folder, pool.pool_compute(folder, 2), chunk_snapshots=100)
    assert not log.exists() and not any(folder.iterdir())


def test_default_workers_are_the_cpus_this_process_may_run_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without LEONET_WORKERS: the CPUs of this process's affinity (pid 0: this process, not another's), at
    least one; where the platform has no affinity call, os.cpu_count() (None: one)."""
    monkeypatch.delenv("LEONET_WORKERS", raising=False)
    mine = {0: {0, 1, 2}}
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: mine.get(pid, {0}), raising=False)
    assert pool.default_workers() == 3
    mine[0] = set()
    assert pool.default_workers() == 1
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 5)
    assert pool.default_workers() == 5
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert pool.default_workers() == 1


@pytest.mark.usefixtures("fork")
def test_cli_run_on_two_workers_equals_the_serial_run(tmp_path: Path) -> None:
    path = tmp_path / "small.toml"
    path.write_text(SCENARIO.format(end_s=600, step_s=1, mode="reconfig"), encoding="utf-8")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "leonet.cli", "run", str(path), "-o", str(out), "--no-report", "-q"]
    env = {**os.environ, "LEONET_WORKERS": "2"}
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=180, cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    want = leonet.run(leonet.load_scenario(str(path)), workers=1)
    assert len(parts.plan(assemble(want.scenario))) == 3  # two runs: both workers used
    _assert_output_same(out, want)
