"""Chunks of a run on a Dask cluster (``leonet run --cluster``) give the serial run's tables, row for row.

The reference is the serial runner: ``leonet.run`` (``runner.run_serial``: chunks carried one to the next,
routes kept in memory), independent of the parts, their carries rebuilt by ``chunk.carry_at``, and the cluster.
Clusters are ``LocalCluster``s on 127.0.0.1 (no other network), closed by the code under test; each test starts
at most one.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import leonet
from leonet import parts, routes_table
from leonet.assembly import assemble
from leonet.cluster import ClusterSpec, cluster_compute, connect, parse_cluster
from leonet.errors import InputError
from leonet.runlength import merge
from leonet.runner import service_table
from leonet.scenario import parse_scenario

# 144 satellites, four cities and two terminals (so the service tables have rows); 7 s slots, so chunk
# boundaries (slot starts) are not multiples of the chunk size; 3 chunks of ~256 snapshots
SCENARIO = """
name = "cluster-small"
description = "cluster test"
epoch = 2026-02-23T00:00:00Z
[time]
end_s = {end_s}
step_s = {step_s}
[[networks]]
name = "tiny"
constellation = {{ shells = [{{ altitude_km = 550, inclination_deg = 53, planes = 12, sats_per_plane = 12 }}] }}
min_elevation_deg = 25
[ground]
cities = ["Tokyo", "London", "New York Newark", "Sydney"]
[[ground.stations]]
name = "T1"
lat_deg = 50.45
lon_deg = 30.52
kind = "terminal"
[[ground.stations]]
name = "T2"
lat_deg = -33.9
lon_deg = 18.4
kind = "terminal"
[routing]
mode = "{mode}"
reconfiguration_interval_s = 7
"""

TABLES = ("summary", "networks", "service", "terminals")

# a roaming rule that looks back in time (as in tests/test_chunk_shape.py): a car driving from Poland into
# Germany is denied ~300 s after it crosses; parts computed apart need the roaming history at their start
ROAMING = """
epoch = 2026-02-23T00:00:00Z
[time]
end_s = 1500
step_s = 2
[[networks]]
name = "tiny"
constellation = { shells = [{ altitude_km = 550, inclination_deg = 53, planes = 12, sats_per_plane = 12 }] }
min_elevation_deg = 25
[ground]
cities = ["Berlin", "Warsaw"]
tracks = ["CAR.csv"]
[routing]
reconfiguration_interval_s = 30
[[policy.terminals]]
id = "CAR"
account = "a"
service_class = "mobile"
registered_country = "PL"
[[policy.mobility]]
id = "plan-mobile"
service_class = "mobile"
roaming_days = 0.0035
"""
TRACK = "t_s,lat_deg,lon_deg,alt_m\n0,52.40,15.20,0\n1500,52.45,14.00,0\n"


def _roaming(folder: Path) -> leonet.Scenario:
    (folder / "CAR.csv").write_text(TRACK, encoding="utf-8")
    return parse_scenario(ROAMING, source=str(folder / "roaming.toml"), base_dir=str(folder))


def _scenario(end_s: float = 700, step_s: float = 1, mode: str = "reconfig") -> leonet.Scenario:
    return parse_scenario(SCENARIO.format(end_s=end_s, step_s=step_s, mode=mode), source="<cluster test>")


def _plain(t: pa.Table) -> pa.Table:
    """Dictionary columns decoded (two writers may number a dictionary differently; the values must agree)."""
    t = t.combine_chunks()
    cols = [c.cast(c.type.value_type) if pa.types.is_dictionary(c.type) else c for c in t.columns]
    return pa.table(cols, names=t.column_names)


def _assert_output_same(out: Path, want: leonet.Results) -> None:
    """A `leonet run` output directory holds ``want``'s tables: the stored route columns plus the derived ones,
    and every summary table; no part state or run file left behind."""
    routes = routes_table.with_derived(pq.read_table(out / "routes"))  # the stored columns + the derived ones
    g, w = _plain(routes), _plain(want.routes_table())
    for name in w.column_names:
        assert g[name].equals(w[name]), name
    for name in TABLES:
        assert _plain(pq.read_table(out / f"{name}.parquet")).equals(_plain(getattr(want, name))), name
    assert not (out / parts.STATE_DIR).exists() and not (out / parts.RUN_FILE).exists()


def _assert_same(got: leonet.Results, want: leonet.Results) -> None:
    g, w = _plain(got.routes_table()), _plain(want.routes_table())
    assert g.num_rows == w.num_rows > 0
    for name in w.column_names:
        assert g[name].equals(w[name]), name  # row for row, in the serial run's order
    for name in TABLES:
        assert _plain(getattr(got, name)).equals(_plain(getattr(want, name))), name


@pytest.mark.parametrize(
    "text", ["", "local:0", "local:-1", "local:x", "locl:2", "tcp://", "tcp://host", "tcp://h:99999", "http://h:1"]
)
def test_bad_cluster_values_are_one_line(text: str) -> None:
    with pytest.raises(InputError) as e:
        parse_cluster(text)
    assert str(e.value).startswith("--cluster: ") and "expected" in str(e.value) and "\n" not in str(e.value)


def test_good_cluster_values() -> None:
    assert parse_cluster("local:3") == ClusterSpec(workers=3)
    assert parse_cluster("tcp://10.1.2.3:8786") == ClusterSpec(address="tcp://10.1.2.3:8786")
    assert parse_cluster("local").workers is not None


@pytest.mark.parametrize(
    ("mode", "step_s", "size"),
    [("reconfig", 1.0, 10), ("reconfig", 1.0, 100), ("reconfig", 3.0, 10), ("ideal", 1.0, 10)],
)
def test_parts_computed_apart_are_the_serial_run(mode: str, step_s: float, size: int) -> None:
    """Parts computed apart, as cluster tasks are (each rebuilds its carry), give exactly the serial run's rows
    and service; parts of 10 snapshots start inside 7 s slots, parts of 100 are two chunks (64 + 36) carried."""
    sc = _scenario(end_s=300, step_s=step_s, mode=mode)
    prep = assemble(sc)
    want = leonet.run(sc, workers=1)
    tasks = parts.plan(prep, size)
    assert len(tasks) > 2 and tasks[0].k0 == 0 and tasks[-1].k1 == len(prep.times_s)
    assert all(a.k1 == b.k0 for a, b in itertools.pairwise(tasks))
    outs = [parts.compute_part(prep, t.net_index, t.k0, t.k1) for t in tasks]
    got = pa.concat_tables([o.routes for o in outs])
    g, w = _plain(got), _plain(want.routes_table())
    for name in w.column_names:
        assert g[name].equals(w[name]), name
    svc = service_table(prep, 0, merge([o.service for o in outs]))
    assert svc.num_rows > 2 and svc.equals(want.service)


def test_local_cluster_of_two_workers_equals_the_serial_run(tmp_path: Path) -> None:
    """``cluster_compute`` on a LocalCluster of two worker processes: both workers build the world (reading the
    track file) and compute parts, each from a rebuilt carry with the roaming history shipped to it, and the
    tables assembled from the parts equal the serial run's row for row (the roaming denial included)."""
    sc = _roaming(tmp_path)
    prep = assemble(sc)
    want = leonet.run(sc, workers=1)
    digest = parts.world_digest(prep)
    folder = tmp_path / "run"
    folder.mkdir()
    with connect(ClusterSpec(workers=2)) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        seen: list[int] = []
        got, resumed = parts.run_to_parts(prep, folder, cluster_compute(client, sc, digest), progress=seen.append)
        worlds = client.run(lambda: len(__import__("leonet.cluster").cluster._WORLDS))
    assert resumed == 0 and sum(seen) == len(prep.times_s)
    assert sorted(worlds.values()) == [1, 1], worlds  # each worker assembled the world and computed chunks
    assert len(list((folder / "routes").glob("part-*.parquet"))) == len(parts.plan(prep)) >= 3
    denied = [r for r in want.service.to_pylist() if r["rule_id"] == "plan-mobile"]
    # the car crossed (~302 s before its denial) before the last part starts, and is denied in that part
    last_start = prep.times_s[parts.plan(prep)[-1].k0]
    assert denied and denied[0]["start_s"] - 302 < last_start < denied[0]["start_s"], (denied, last_start)
    _assert_same(got, want)


def test_cli_cluster_run_equals_the_serial_run(tmp_path: Path) -> None:
    text = SCENARIO.format(end_s=600, step_s=1, mode="reconfig")
    path = tmp_path / "small.toml"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "leonet.cli", "run", str(path), "-o", str(out), "--no-report"]
    r = subprocess.run([*cmd, "--cluster", "local:2"], capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    want = leonet.run(leonet.load_scenario(str(path)), workers=1)
    _assert_output_same(out, want)


def test_cli_bad_cluster_is_one_line_exit_2(tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "leonet.cli", "run", "-o", str(tmp_path / "o"), "--cluster", "local:zero"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "--cluster" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path / "o").exists()


def test_cli_unreachable_scheduler_is_one_line_exit_2(tmp_path: Path) -> None:
    """Nothing listens on 127.0.0.1:9 (discard); the client gives up after the connect timeout."""
    import os

    path = tmp_path / "small.toml"
    path.write_text(SCENARIO.format(end_s=10, step_s=1, mode="reconfig"), encoding="utf-8")
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "leonet.cli",
            "run",
            str(path),
            "-o",
            str(tmp_path / "o"),
            "--cluster",
            "tcp://127.0.0.1:9",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "LEONET_CONNECT_TIMEOUT_S": "2"},
    )
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot reach the dask scheduler at tcp://127.0.0.1:9" in lines[0], r.stderr
    assert not (tmp_path / "o").exists()


def test_a_run_without_cluster_imports_no_dask(tmp_path: Path) -> None:
    """``distributed`` and ``dask`` are imported only with ``--cluster`` (``python -X importtime``'s report)."""
    path = tmp_path / "small.toml"
    path.write_text(SCENARIO.format(end_s=5, step_s=1, mode="reconfig"), encoding="utf-8")
    cmd = [sys.executable, "-X", "importtime", "-m", "leonet.cli", "run", str(path), "-o", str(tmp_path / "o"), "-q"]
    r = subprocess.run([*cmd, "--no-report"], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    mods = {ln.rsplit("|", 1)[1].strip().split(".")[0] for ln in r.stderr.splitlines() if ln.startswith("import time:")}
    assert "leonet" in mods and "pyarrow" in mods and not mods & {"distributed", "dask"}, sorted(mods & {"dask"})
