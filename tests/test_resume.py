"""``leonet run --resume``: a run killed mid-way (SIGKILL, Ctrl-C) continues from its finished chunks, and its
tables equal an uninterrupted run's; a resume of another scenario is refused with one line.

The reference is ``leonet.run`` in this process (the serial runner, routes in memory: no parts, no resume).
The kill tests run real ``leonet run`` subprocesses and signal them once their second part is on disk.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import leonet
from leonet import parts, routes_table, store
from leonet.assembly import assemble
from leonet.errors import InputError

SCENARIO = """
name = "resume-small"
description = "resume test"
epoch = 2026-02-23T00:00:00Z
[time]
end_s = 1300
step_s = 1
[[networks]]
name = "tiny"
constellation = {{ shells = [{{ altitude_km = 550, inclination_deg = 53, planes = 12, sats_per_plane = 12 }}] }}
min_elevation_deg = 25
[ground]
cities = [{cities}]
[[ground.stations]]
name = "T1"
lat_deg = 50.45
lon_deg = 30.52
kind = "terminal"
"""
CITIES = '"Tokyo", "London", "New York Newark", "Sydney", "Paris"'
TABLES = ("summary", "networks", "service", "terminals")


def _write(tmp_path: Path, name: str, cities: str = CITIES) -> Path:
    p = tmp_path / f"{name}.toml"
    p.write_text(SCENARIO.format(cities=cities), encoding="utf-8")
    return p


def _cmd(scenario: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "leonet.cli", "run", str(scenario), "-o", str(out), "--no-report", *extra]


def _plain(t: pa.Table) -> pa.Table:
    t = t.combine_chunks()
    cols = [c.cast(c.type.value_type) if pa.types.is_dictionary(c.type) else c for c in t.columns]
    return pa.table(cols, names=t.column_names)


def _interrupt(tmp_path: Path, scenario: Path, out: Path, sig: signal.Signals, parts_first: int = 2) -> Path:
    """Start ``leonet run`` and send ``sig`` once ``parts_first`` parts are finished; returns its temporary."""
    proc = subprocess.Popen(_cmd(scenario, out, "-q"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.perf_counter() + 120
    pattern = f".{out.name}.tmp-*/routes/part-*.parquet"
    while len(list(tmp_path.glob(pattern))) < parts_first and time.perf_counter() < deadline:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        time.sleep(0.02)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == (-9 if sig == signal.SIGKILL else 130), err
    if sig != signal.SIGKILL:
        assert b"--resume" in err and b"Traceback" not in err, err
    assert not out.exists()
    (tmp,) = tmp_path.glob(f".{out.name}.tmp-*")
    return tmp


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "Ctrl-C"])
def test_killed_run_resumes_to_the_uninterrupted_tables(tmp_path: Path, sig: signal.Signals) -> None:
    scenario = _write(tmp_path, "a")
    out = tmp_path / "out"
    tmp = _interrupt(tmp_path, scenario, out, sig)
    n_parts = len(list(tmp.glob("routes/part-*.parquet")))
    plan = parts.plan(assemble(leonet.load_scenario(str(scenario))))
    assert 2 <= n_parts < len(plan), "the kill should land mid-run"

    # another scenario is refused, with one line, and the unfinished run is kept
    other = _write(tmp_path, "b", cities='"Tokyo", "London", "Paris"')
    r = subprocess.run(_cmd(other, out, "--resume"), capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "--resume" in lines[0] and "another scenario" in lines[0], r.stderr
    assert tmp.is_dir() and len(list(tmp.glob("routes/part-*.parquet"))) == n_parts and not out.exists()

    r = subprocess.run(_cmd(scenario, out, "--resume"), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert f"resumed: {n_parts} of {len(plan)} chunks were finished" in r.stderr, r.stderr
    want = leonet.run(leonet.load_scenario(str(scenario)), workers=1)
    got = routes_table.with_derived(pq.read_table(out / "routes"))  # the stored columns + the derived ones
    g, w = _plain(got), _plain(want.routes_table())
    assert g.num_rows == w.num_rows
    for name in w.column_names:
        assert g[name].equals(w[name]), name  # row for row
    for name in TABLES:
        assert _plain(pq.read_table(out / f"{name}.parquet")).equals(_plain(getattr(want, name))), name
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out.")) == [".out.lock"]
    assert not (out / parts.STATE_DIR).exists() and not (out / store.RESUME_FILE).exists()


def test_resume_with_nothing_to_resume_runs_from_the_start(tmp_path: Path) -> None:
    scenario = _write(tmp_path, "a", cities='"Tokyo", "London"').read_text().replace("1300", "20")
    (tmp_path / "s.toml").write_text(scenario, encoding="utf-8")
    r = subprocess.run(_cmd(tmp_path / "s.toml", tmp_path / "out", "--resume"), capture_output=True, text=True)
    assert r.returncode == 0 and "ran from the start" in r.stderr, r.stderr
    assert pq.read_table(tmp_path / "out" / "routes").num_rows == 21 * 3  # Tokyo, London, T1: 3 pairs


def test_torn_and_foreign_parts_are_recomputed(tmp_path: Path) -> None:
    """What a kill can leave in the parts folder (a hidden half-written part, a part whose state is missing, a
    truncated part) is not taken as finished, and is removed."""
    sc = leonet.load_scenario(str(_write(tmp_path, "a", cities='"Tokyo", "London", "Paris"')))
    prep = assemble(sc)
    plan = parts.plan(prep)[:4]
    folder = tmp_path / "run"
    folder.mkdir()
    for t in plan:
        parts.write_part(folder, parts.compute_part(prep, t.net_index, t.k0, t.k1))
    routes, state = folder / parts.ROUTES_DIR, folder / parts.STATE_DIR
    (routes / f".{plan[0].name}.parquet.tmp").write_bytes(b"PAR1 half")
    (state / f"{plan[1].name}.npz").unlink()
    whole = (routes / f"{plan[2].name}.parquet").read_bytes()
    (routes / f"{plan[2].name}.parquet").write_bytes(whole[: len(whole) // 2])
    done = parts.finished(folder, plan, len(prep.src))
    assert sorted(done) == [plan[0], plan[3]]
    assert sorted(p.name for p in routes.iterdir()) == [f"{plan[0].name}.parquet", f"{plan[3].name}.parquet"]


def test_resume_fills_gaps_with_the_roaming_history(tmp_path: Path) -> None:
    """Parts missing in the middle (as a cluster run killed mid-way leaves them) are recomputed from rebuilt
    carries, with the roaming history at their start: the tables equal the serial run's."""
    from test_cluster import _assert_same, _roaming

    sc = _roaming(tmp_path)
    prep = assemble(sc)
    want = leonet.run(sc, workers=1)
    folder = tmp_path / "run"
    folder.mkdir()
    parts.run_to_parts(prep, folder, chunk_snapshots=100)
    plan = parts.plan(prep, 100)
    assert len(plan) == 8
    for t in (plan[1], plan[6]):  # before the car crosses into Germany (~750 s), and after (~1000 s)
        (folder / parts.ROUTES_DIR / f"{t.name}.parquet").unlink()
    got, resumed = parts.run_to_parts(prep, folder, chunk_snapshots=100)
    assert resumed == len(plan) - 2
    _assert_same(got, want)


def test_other_input_files_under_the_same_scenario_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    parts.check_run_file(folder, "a" * 64, "out")
    parts.check_run_file(folder, "a" * 64, "out")  # the same world: accepted
    with pytest.raises(InputError, match="--resume: the unfinished run there simulated another scenario"):
        parts.check_run_file(folder, "b" * 64, "out")


def test_world_digest_sees_what_the_run_computes_from(tmp_path: Path) -> None:
    a = assemble(leonet.load_scenario(str(_write(tmp_path, "a"))))
    again = assemble(leonet.load_scenario(str(_write(tmp_path, "b"))))  # same text, another file name
    fewer = assemble(leonet.load_scenario(str(_write(tmp_path, "c", cities='"Tokyo", "London"'))))
    assert parts.world_digest(a) == parts.world_digest(again) != parts.world_digest(fewer)
    assert parts.scenario_key(a.scenario) == parts.scenario_key(again.scenario) != parts.scenario_key(fewer.scenario)
