"""The output directory: one atomic replacement, a lock, recovery and clean-up after dead runs, and a DuckDB
database of views that still works after the directory is moved.

The independent checks: every file the manifest lists is there with its size, every Parquet file opens with
pyarrow, the database opens with DuckDB and answers the same counts as the Parquet files, and scenario.json names
the run that wrote the directory.  The kill test runs real ``leonet run`` subprocesses and SIGKILLs them after
random delays.
"""

from __future__ import annotations

import errno
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from leonet import store
from leonet.errors import InputError

SMALL = """
name = "small"
description = "{tag}"
epoch = 2026-02-23T00:00:00Z
[time]
end_s = 30
step_s = 5
[[networks]]
name = "tiny"
constellation = {{ shells = [{{ altitude_km = 550, inclination_deg = 53, planes = 6, sats_per_plane = 6 }}] }}
min_elevation_deg = 10
[ground]
cities = ["Tokyo", "London", "New York Newark"]
"""
TABLES = ("routes", "summary", "networks", "nodes", "service", "terminals")


def _cmd(scenario: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "leonet.cli", "run", str(scenario), "-o", str(out), "-q", "--no-report", *extra]


def _scenario(tmp_path: Path, tag: str) -> Path:
    p = tmp_path / f"{tag}.toml"
    p.write_text(SMALL.format(tag=tag), encoding="utf-8")
    return p


def check_complete(out: Path) -> str:
    """Everything of a result is there and opens; returns the tag (scenario description) of the run."""
    meta = store.verify(out)
    names = set(meta["files"])
    small = {f"{t}.parquet" for t in TABLES if t != "routes"}
    assert small | {"results.duckdb", "scenario.json"} <= names, names
    assert any(n.startswith("routes/part-") for n in names), names  # the routes: one Parquet part per chunk
    counts = {t: pq.read_table(out / (t if t == "routes" else f"{t}.parquet")).num_rows for t in TABLES}
    con = store.connect(out)
    try:
        for t in TABLES:
            row = con.execute(f"select count(*) from {t}").fetchone()
            assert row is not None and row[0] == counts[t], t
    finally:
        con.close()
    assert counts["routes"] == 3 * 7
    return str(json.loads((out / "scenario.json").read_text(encoding="utf-8"))["description"])


def test_kill_at_random_points_leaves_old_or_new_result(tmp_path: Path) -> None:
    """SIGKILL ``leonet run`` subprocesses at random points, many times: the output directory is at every check
    complete, and it belongs to a run at least as new as the last one seen; at the end one run cleans up every
    temporary the killed runs left.  Half the kills aim at the end of a run (where the commit is), half
    anywhere; the delays scale with the measured duration of the runs that finished."""
    out = tmp_path / "out"
    rng = random.Random(20261201)
    t0 = time.perf_counter()
    first = subprocess.run(_cmd(_scenario(tmp_path, "run-0"), out), capture_output=True, text=True, timeout=120)
    durations = [time.perf_counter() - t0]
    assert first.returncode == 0, first.stderr
    seen = 0
    assert check_complete(out) == "run-0"
    kills = completed = i = kept_old = 0
    deadline = time.perf_counter() + 30.0
    while time.perf_counter() < deadline or i < 8:
        i += 1
        d = sorted(durations)[len(durations) // 2]
        delay = d * (rng.uniform(0.85, 1.1) if i % 2 else rng.uniform(0.2, 1.0))
        start = time.perf_counter()
        proc = subprocess.Popen(
            _cmd(_scenario(tmp_path, f"run-{i}"), out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        while proc.poll() is None and time.perf_counter() - start < delay:
            time.sleep(0.005)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        else:
            completed += 1
            durations.append(time.perf_counter() - start)
        proc.wait(timeout=60)
        tag = check_complete(out)
        n = int(tag.removeprefix("run-"))
        assert seen <= n <= i, (seen, n, i)
        assert proc.returncode != 0 or n == i  # a run that finished is the result
        kept_old += n < i
        seen = n
    print(f"{i} runs, {kills} killed by SIGKILL ({kept_old} before their commit), {completed} finished")
    assert kills >= 3, f"only {kills} of {i} runs were killed"
    assert 0 < kept_old < i, "the kills should land both before and after commits"
    last = subprocess.run(_cmd(_scenario(tmp_path, "final"), out), capture_output=True, text=True, timeout=120)
    assert last.returncode == 0, last.stderr
    assert check_complete(out) == "final"
    left = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out."))
    assert left == [".out.lock"], left


def test_sigterm_keeps_the_finished_chunks_for_resume_and_the_next_run_removes_them(tmp_path: Path) -> None:
    """SIGTERM (like Ctrl-C) unwinds: exit 130, one message, ``out`` untouched, and the temporary with its
    finished parts kept for ``--resume`` (tests/test_resume.py); a run without ``--resume`` removes it."""
    out = tmp_path / "out"
    text = SMALL.format(tag="long").replace("end_s = 30", "end_s = 100000")  # ~20,000 snapshots
    (tmp_path / "long.toml").write_text(text, encoding="utf-8")
    proc = subprocess.Popen(_cmd(tmp_path / "long.toml", out), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.perf_counter() + 60
    while not list(tmp_path.glob(".out.tmp-*/routes/part-*")) and time.perf_counter() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert b"interrupted" in err and b"--resume" in err and b"Traceback" not in err
    assert not out.exists()
    (kept,) = tmp_path.glob(".out.tmp-*")
    assert list(kept.glob("routes/part-*.parquet"))
    r = subprocess.run(_cmd(_scenario(tmp_path, "next"), out), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.")] == [".out.lock"]


def test_second_run_into_a_locked_directory_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with store.output_lock(out):
        r = subprocess.run(_cmd(_scenario(tmp_path, "x"), out), capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "another leonet run" in lines[0] and f"pid {os.getpid()}" in lines[0], r.stderr
    assert "Traceback" not in r.stderr and not out.exists()


def _fake_result(d: Path, tag: str) -> None:
    d.mkdir()
    (d / "scenario.json").write_text(json.dumps({"description": tag}), encoding="utf-8")
    (d / "data.bin").write_bytes(b"x" * 100)


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_sweep_removes_dead_runs_temporaries_and_keeps_live_ones(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _fake_result(out, "current")
    dead = tmp_path / f".out.tmp-{_dead_pid()}-abcd1234"
    _fake_result(dead, "dead")
    live = tmp_path / f".out.tmp-{os.getppid()}-abcd1234"  # the parent process is alive (and not us)
    _fake_result(live, "live")
    reused = tmp_path / f".out.tmp-{os.getppid()}-00000000"  # a live pid, but untouched for two hours
    _fake_result(reused, "reused pid")
    os.utime(reused, (time.time() - 7200, time.time() - 7200))
    old = tmp_path / ".out.old-12345"
    _fake_result(old, "old")
    with store.output_lock(out):
        removed = store.recover_and_sweep(out)
    assert sorted(p.name for p in removed) == sorted([dead.name, old.name, reused.name])
    assert not dead.exists() and not old.exists() and not reused.exists() and live.is_dir() and out.is_dir()


def test_recovery_puts_back_the_newest_complete_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without RENAME_EXCHANGE the swap is two renames; a crash between them leaves no ``out``: the next run
    puts the complete new result (the dead run's temporary with a valid manifest) in place."""
    out = tmp_path / "out"
    _fake_result(out, "old")
    monkeypatch.setattr(store, "_renameat2_exchange", lambda a, b: False)
    real_rename = os.rename
    calls = []

    def crash_on_second(src: str | Path, dst: str | Path) -> None:
        calls.append((src, dst))
        if len(calls) == 2:
            raise KeyboardInterrupt("killed between the two renames")
        real_rename(src, dst)

    monkeypatch.setattr(store.os, "rename", crash_on_second)
    tmp = tmp_path / f".out.tmp-{_dead_pid()}-0000abcd"
    _fake_result(tmp, "new")
    with pytest.raises(KeyboardInterrupt):
        store.commit(tmp, out)
    monkeypatch.setattr(store.os, "rename", real_rename)
    assert not out.exists() and tmp.is_dir()  # the state a SIGKILL there would leave
    with store.output_lock(out):
        store.recover_and_sweep(out)
    assert json.loads((out / "scenario.json").read_text())["description"] == "new"
    assert store.verify(out)["files"]["data.bin"] == 100
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.")] == [".out.lock"]


def test_recovery_falls_back_to_the_old_result(tmp_path: Path) -> None:
    out = tmp_path / "out"
    old = tmp_path / ".out.old-999"
    _fake_result(old, "old")
    incomplete = tmp_path / f".out.tmp-{_dead_pid()}-0000abcd"
    _fake_result(incomplete, "half-written")  # no manifest: never committed
    with store.output_lock(out):
        store.recover_and_sweep(out)
    assert json.loads((out / "scenario.json").read_text())["description"] == "old"
    assert not incomplete.exists()


def test_failed_run_keeps_the_old_result_and_no_temporary(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _fake_result(out, "old")
    with pytest.raises(RuntimeError), store.atomic_dir(out) as tmp:
        (tmp / "partial.parquet").write_bytes(b"half")
        raise RuntimeError("crash while writing")
    assert json.loads((out / "scenario.json").read_text())["description"] == "old"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.")] == [".out.lock"]


def test_full_disk_is_one_line_and_keeps_the_old_result(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _fake_result(out, "old")
    with pytest.raises(InputError, match="No space left on device"), store.atomic_dir(out) as tmp:
        (tmp / "routes.parquet").write_bytes(b"half")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert json.loads((out / "scenario.json").read_text())["description"] == "old"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.")] == [".out.lock"]


def test_exchange_replaces_in_one_step(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _fake_result(out, "old")
    with store.atomic_dir(out) as tmp:
        (tmp / "scenario.json").write_text(json.dumps({"description": "new"}), encoding="utf-8")
    assert json.loads((out / "scenario.json").read_text())["description"] == "new"
    assert store.verify(out)["files"] == {"scenario.json": (out / "scenario.json").stat().st_size}


def test_refuses_a_directory_leonet_did_not_write(tmp_path: Path) -> None:
    mine = tmp_path / "thesis"
    mine.mkdir()
    (mine / "chapter1.tex").write_text("precious")
    with pytest.raises(InputError, match="leonet did not write"), store.atomic_dir(mine):
        pass
    assert (mine / "chapter1.tex").read_text() == "precious"


def test_duckdb_routes_is_a_view_that_survives_a_move(tmp_path: Path) -> None:
    """results.duckdb holds no second copy of the routes: a view by relative path.  After the directory is
    moved it still answers, opened with ``store.connect`` from another working directory, or plainly from the
    directory itself; the small tables answer from anywhere."""
    out = tmp_path / "out"
    r = subprocess.run(_cmd(_scenario(tmp_path, "v"), out), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    moved = tmp_path / "elsewhere" / "moved"
    moved.parent.mkdir()
    shutil.move(str(out), str(moved))
    check_complete(moved)
    con = duckdb.connect(str(moved / "results.duckdb"), read_only=True)
    kinds = dict(con.execute("select table_name, table_type from information_schema.tables").fetchall())
    assert kinds["routes"] == "VIEW" and kinds["summary"] == "BASE TABLE"
    (sql,) = con.execute("select sql from duckdb_views() where view_name = 'routes'").fetchone() or ("",)
    assert "'routes/part-*.parquet'" in sql and str(tmp_path) not in sql  # relative, so the folder can move
    con.close()
    code = (
        "import duckdb; c = duckdb.connect('results.duckdb', read_only=True); "
        "print(c.sql('select count(*) from routes').fetchone()[0], c.sql('select count(*) from summary').fetchone()[0])"
    )
    here = subprocess.run([sys.executable, "-c", code], cwd=moved, capture_output=True, text=True, timeout=60)
    assert here.stdout.split() == ["21", "3"], here.stderr
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    code2 = (
        f"from leonet.store import connect; c = connect({str(moved)!r}); "
        "print(c.sql('select count(*) from routes').fetchone()[0])"
    )
    there = subprocess.run([sys.executable, "-c", code2], cwd=elsewhere, capture_output=True, text=True, timeout=60)
    assert there.stdout.split() == ["21"], there.stderr
    code3 = (  # the README's worked example's way: a plain connection, from anywhere, to the small tables
        f"import duckdb; c = duckdb.connect({str(moved / 'results.duckdb')!r}); "
        "print(c.sql('select count(*) from summary').fetchone()[0], "
        "c.sql('select count(*) from service').fetchone()[0])"
    )
    plain = subprocess.run([sys.executable, "-c", code3], cwd=elsewhere, capture_output=True, text=True, timeout=60)
    assert plain.stdout.split() == ["3", "0"], plain.stderr
