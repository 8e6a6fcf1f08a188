"""The command line and the output directory: exit codes, one-line errors, nothing half-written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

SMALL = """
name = "small"
description = "a 12 x 12 shell and four cities"
epoch = 2026-02-23T00:00:00Z
[time]
end_s = 30
step_s = 5
[[networks]]
name = "tiny"
constellation = { shells = [{ altitude_km = 550, inclination_deg = 53, planes = 12, sats_per_plane = 12 }] }
min_elevation_deg = 10
[ground]
cities = ["Tokyo", "London", "New York Newark", "Sao Paulo"]
[report]
pairs = [["London", "Tokyo"]]
"""


def leonet(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "leonet.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


@pytest.fixture()
def small(tmp_path: Path) -> Path:
    p = tmp_path / "small.toml"
    p.write_text(SMALL)
    return p


def test_run_writes_every_output(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = leonet("run", str(small), "-o", str(out), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert list((out / "routes").glob("part-*.parquet"))  # the routes: one Parquet part per chunk
    for name in (
        "summary.parquet",
        "networks.parquet",
        "nodes.parquet",
        "results.duckdb",
        "scenario.json",
        "report.html",
    ):
        assert (out / name).is_file(), name
    routes = pq.read_table(out / "routes")
    assert routes.num_rows == 6 * 7  # 6 pairs x 7 snapshots
    from leonet.store import connect  # routes is a view over the parts, found from any directory

    con = connect(out)
    n = con.execute("select count(*) from routes").fetchone()
    assert n is not None and n[0] == routes.num_rows
    assert "London" in r.stdout and "Tokyo" in r.stdout  # the chosen pair's row of the summary table
    left = [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.")]
    assert left == [".out.lock"]  # no temporary left behind (the lock file stays: removing it would race)


@pytest.mark.parametrize(
    ("patch", "expect"),
    [
        (("altitude_km = 550", "altitude_km = -5"), "altitude_km"),
        (("inclination_deg = 53", "inclination_deg = 190"), "inclination_deg"),
        (("planes = 12", "planes = 0"), "planes"),
        (('"Tokyo"', '"Tokio-Nowhere"'), "unknown city"),
        (("min_elevation_deg = 10", "min_elevation_deg = 95"), "min_elevation_deg"),
        (("shells = [", 'preset = "starlink-9000", shells = ['), "preset"),
        (("end_s = 30", "end_s = 30\nstart_s = 60"), "end_s"),
        (('pairs = [["London", "Tokyo"]]', 'pairs = [["London", "Atlantis"]]'), "Atlantis"),
    ],
)
def test_bad_scenario_is_one_line_exit_2_and_writes_nothing(
    small: Path, tmp_path: Path, patch: tuple[str, str], expect: str
) -> None:
    small.write_text(SMALL.replace(*patch))
    out = tmp_path / "out"
    r = leonet("run", str(small), "-o", str(out), cwd=tmp_path)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("leonet: error: ") and str(small) in lines[0] and expect in lines[0]
    assert "Traceback" not in r.stderr
    assert not out.exists()


def test_bad_coordinates_name_the_field(small: Path, tmp_path: Path) -> None:
    small.write_text(SMALL + '[[ground.stations]]\nname = "x"\nlat_deg = 91\nlon_deg = 0\n')
    r = leonet("check", str(small), cwd=tmp_path)
    assert r.returncode == 2 and "lat_deg" in r.stderr and "91" in r.stderr


def test_missing_file_and_unknown_builtin(tmp_path: Path) -> None:
    r = leonet("run", str(tmp_path / "nope.toml"), cwd=tmp_path)
    assert r.returncode == 2 and "nope.toml" in r.stderr and "no such file" in r.stderr
    r = leonet("run", "no-such-builtin", cwd=tmp_path)
    assert r.returncode == 2 and "no-such-builtin" in r.stderr


def test_malformed_tle_names_file_and_line(small: Path, tmp_path: Path) -> None:
    l1 = "1 44713U 19074A   26054.00000000  .00001000  00000-0  70000-4 0  9990"
    l2 = "2 44713  53.0540 100.0000 0001500  90.0000 270.0000 15.06400000 10000"
    from leonet.orbits.tle import tle_checksum

    good1 = l1[:68] + str(tle_checksum(l1))
    good2 = l2[:68] + str(tle_checksum(l2))
    bad2 = l2[:68] + str((tle_checksum(l2) + 1) % 10)
    tle = tmp_path / "sats.tle"
    tle.write_text(f"SAT-A\n{good1}\n{good2}\nSAT-B\n{good1}\n{bad2}\n")
    small.write_text(
        SMALL.replace(
            "shells = [{ altitude_km = 550, inclination_deg = 53, planes = 12, sats_per_plane = 12 }]",
            'tle = "sats.tle"',
        )
    )
    r = leonet("run", str(small), "-o", str(tmp_path / "o"), cwd=tmp_path)
    assert r.returncode == 2
    assert f"{tle}:6: checksum" in r.stderr and "expected" in r.stderr
    assert not (tmp_path / "o").exists()


def test_existing_output_survives_a_failed_run(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert leonet("run", str(small), "-o", str(out), "--no-report", cwd=tmp_path).returncode == 0
    before = {p.name: p.read_bytes() for p in (out / "routes").iterdir()}
    small.write_text(SMALL.replace("planes = 12", "planes = 0"))
    assert leonet("run", str(small), "-o", str(out), cwd=tmp_path).returncode == 2
    assert {p.name: p.read_bytes() for p in (out / "routes").iterdir()} == before


def test_help_teaches() -> None:
    r = subprocess.run([sys.executable, "-m", "leonet.cli", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "leonet run" in r.stdout and "scenarios" in r.stdout
    r = subprocess.run([sys.executable, "-m", "leonet.cli", "run", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "routes/part-*.parquet" in r.stdout and "Example" in r.stdout
    assert "--cluster" in r.stdout and "--resume" in r.stdout


def test_builtin_lists(tmp_path: Path) -> None:
    r = leonet("scenarios", cwd=tmp_path)
    assert r.returncode == 0 and "default" in r.stdout
    r = leonet("presets", cwd=tmp_path)
    assert r.returncode == 0 and "kuiper" in r.stdout and "1,584" in r.stdout


POLICY = """
[[ground.stations]]
name = "T1"
lat_deg = 50.45
lon_deg = 30.52
kind = "terminal"

[[policy.geofences]]
id = "fence-1"
action = "deny"
priority = 1
geometry = { type = "Polygon", coordinates = [[[30.0, 50.0], [31.0, 50.0], [31.0, 51.0], [30.0, 51.0], [30.0, 50.0]]] }
"""


@pytest.mark.parametrize(
    ("patch", "expect"),
    [
        (("[30.0, 51.0], [30.0, 50.0]]]", "[30.0, 51.0]]]"), "fence-1"),  # ring not closed
        (("[31.0, 50.0], [31.0, 51.0]", "[31.0, 51.0], [31.0, 50.0]"), "fence-1"),  # bow-tie: self-intersection
        (("[31.0, 51.0], [30.0, 51.0]", "[31.0, 191.0], [30.0, 51.0]"), "fence-1"),  # coordinate out of range
        (('action = "deny"', 'action = "block"'), "action"),
        (("priority = 1\n", 'priority = 1\n[[policy.licences]]\nid = "l"\ncountries = ["XX"]\n'), "XX"),
    ],
)
def test_bad_policy_is_one_line_exit_2(small: Path, tmp_path: Path, patch: tuple[str, str], expect: str) -> None:
    small.write_text(SMALL + POLICY.replace(*patch))
    out = tmp_path / "out"
    r = leonet("run", str(small), "-o", str(out), cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and str(small) in lines[0] and expect in lines[0], r.stderr
    assert not out.exists()


def test_policy_why_and_check(small: Path, tmp_path: Path) -> None:
    small.write_text(SMALL + POLICY)
    r = leonet("policy", "why", "T1", "--at", "10", str(small), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "fence-1" in r.stdout and "deny" in r.stdout and "denied" in r.stdout
    r = leonet("policy", "check", str(small), cwd=tmp_path)
    assert r.returncode == 0 and "fence-1" in r.stdout
    r = leonet("policy", "why", "London", "--at", "10", str(small), cwd=tmp_path)
    assert r.returncode == 2 and "not a terminal" in r.stderr
    r = leonet("policy", "why", "T1", "--at", "yesterday", str(small), cwd=tmp_path)
    assert r.returncode == 2 and "--at" in r.stderr


def test_streamed_routes_equal_the_python_api(small: Path, tmp_path: Path) -> None:
    """`leonet run` streams routes to Parquet chunk by chunk; the file holds exactly what `leonet.run` returns."""
    import pyarrow as pa

    import leonet as api

    out = tmp_path / "out"
    assert leonet("run", str(small), "-o", str(out), "--no-report", cwd=tmp_path).returncode == 0
    on_disk = pq.read_table(out / "routes")
    res = api.run(api.load_scenario(str(small)))
    in_memory = res.routes

    def plain(t: pa.Table) -> pa.Table:
        return t.cast(
            pa.schema(
                [pa.field(f.name, f.type.value_type if pa.types.is_dictionary(f.type) else f.type) for f in t.schema]
            )
        )

    # routes.parquet holds the stored columns; the derived ones (rtt_ms, stretch, reachable) put back equal the
    # Python API's, bit for bit
    from leonet import routes_table

    assert on_disk.schema.names == routes_table.STORED_SCHEMA.names
    assert plain(routes_table.with_derived(on_disk)).equals(plain(in_memory))
    summary = pq.read_table(out / "summary.parquet")
    assert summary.equals(res.summary)


# ------------------------------------------------------------------------------------------------ as a user types it

#: the venv's `leonet` entry point (what `make run` installs); `python -m leonet.cli` if there is none
ENTRY = Path(sys.executable).with_name("leonet")


def typed(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`leonet ARGS` as typed in an 80-column terminal (COLUMNS=80), in ``cwd``."""
    cmd = [str(ENTRY)] if ENTRY.exists() else [sys.executable, "-m", "leonet.cli"]
    return subprocess.run(
        [*cmd, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "COLUMNS": "80", **env},
    )


@pytest.fixture(scope="module")
def as_typed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, subprocess.CompletedProcess[str]]]:
    """Every built-in scenario run once exactly as a user types it: `leonet run NAME`, no -q, the default
    output directory, in a fresh directory (shared by the tests below; ~60 s for them all)."""
    from leonet.scenario import builtin_names

    cwd = tmp_path_factory.mktemp("as-typed")
    return cwd, {name: typed("run", name, cwd=cwd) for name in builtin_names()}


def test_every_builtin_scenario_runs_as_typed(
    as_typed: tuple[Path, dict[str, subprocess.CompletedProcess[str]]],
) -> None:
    """`leonet run crimea-2022` (and every policy scenario) used to write its output and then die with a DuckDB
    traceback when typed without -q."""
    cwd, runs = as_typed
    listed = typed("scenarios", cwd=cwd)
    assert listed.returncode == 0
    import leonet

    shipped = {f.stem for f in (Path(leonet.__file__).parent / "scenarios").glob("*.toml")}
    assert set(runs) == shipped and len(runs) >= 9 and all(name in listed.stdout for name in runs)
    for name, r in runs.items():
        assert r.returncode == 0, f"leonet run {name}: {r.stderr[-3000:]}"
        assert "Traceback" not in r.stdout + r.stderr, name
        assert f"wrote leonet-out/{name}/" in r.stdout
        for f in ("summary.parquet", "results.duckdb", "scenario.json", "report.html"):
            assert (cwd / "leonet-out" / name / f).is_file(), (name, f)
        assert list((cwd / "leonet-out" / name / "routes").glob("part-*.parquet")), name


def test_every_builtin_scenario_with_access_runs_capacity_as_typed(tmp_path: Path) -> None:
    """`leonet capacity NAME` for every built-in with `[access]`, as typed: exit 0, 80 columns, every file; the
    bottleneck table, or the line saying no link was a bottleneck (front-jamming-2026's terminals are each
    limited by their demand or the jamming)."""
    import leonet
    from leonet.scenario import builtin_names

    names = [n for n in builtin_names() if leonet.load_scenario(n).access is not None]
    assert {"access-us-europe", "front-jamming-2026"} <= set(names)
    for name in names:
        r = typed("capacity", name, cwd=tmp_path)
        assert r.returncode == 0 and "Traceback" not in r.stdout + r.stderr, (name, r.stderr[-2000:])
        assert max(len(line) for line in r.stdout.splitlines()) <= 80, name
        assert "Top bottleneck links" in r.stdout or "No link was a bottleneck" in r.stdout, name
        assert (tmp_path / "leonet-out" / f"{name}-capacity" / "throughput.parquet").is_file(), name
    assert "No link was a bottleneck" in typed("capacity", "front-jamming-2026", cwd=tmp_path).stdout


def test_tables_keep_every_name_whole_at_80_columns(
    as_typed: tuple[Path, dict[str, subprocess.CompletedProcess[str]]],
) -> None:
    """Network and terminal names were truncated to "starli…" at 80 columns."""
    cwd, runs = as_typed
    for name, r in runs.items():
        out = cwd / "leonet-out" / name
        assert "…" not in r.stdout and "…" not in r.stderr, name  # tables, and the progress bar on stderr
        assert max(len(line) for line in r.stdout.splitlines()) <= 80, name
        for net in pq.read_table(out / "networks.parquet").column("network").to_pylist():
            assert str(net) in r.stdout, (name, net)
        denied = [t for t in pq.read_table(out / "terminals.parquet").to_pylist() if t["denied_s"] > 0]
        for t in denied[:20]:
            assert t["terminal"] in r.stdout and t["main_denial_rule"] in r.stdout, (name, t)
    from leonet import catalog
    from leonet.orbits.shells import PRESETS
    from leonet.scenario import builtin_names

    for args, names in (
        (["scenarios"], builtin_names()),
        (["presets"], [*PRESETS, *(s.name for shells in PRESETS.values() for s in shells)]),
        (["cities"], [c.name for c in catalog.cities()]),
    ):
        r = typed(*args, cwd=cwd)
        assert r.returncode == 0 and "…" not in r.stdout, args
        words = set(r.stdout.split())
        missing = [n for n in names if n not in words]
        assert not missing, (args, missing[:5])


def test_report_dir_renders_the_same_page_as_the_run(
    as_typed: tuple[Path, dict[str, subprocess.CompletedProcess[str]]],
) -> None:
    cwd, _ = as_typed
    for name in ("crimea-2022", "national-constellation", "default"):
        out = cwd / "leonet-out" / name
        r = typed("report", str(out), "-o", str(cwd / f"{name}.html"), cwd=cwd)
        assert r.returncode == 0, r.stderr
        assert (cwd / f"{name}.html").read_bytes() == (out / "report.html").read_bytes(), name
    r = typed("report", str(cwd / "nowhere"), cwd=cwd)
    assert r.returncode == 2 and "nowhere" in r.stderr and "Traceback" not in r.stderr


def test_multi_network_report_shows_every_network(
    as_typed: tuple[Path, dict[str, subprocess.CompletedProcess[str]]],
) -> None:
    """national-constellation got an empty RTT panel (its pairs name "Moscow", an alias) and maps of its first
    network only."""
    cwd, _ = as_typed
    html = (cwd / "leonet-out" / "national-constellation" / "report.html").read_text()
    assert "not among the routed pairs" not in html and "names no ground node" not in html
    for net in ("starlink-550", "starlink-550-no-policy", "national-leo"):
        assert f'alt="World map of {net}: satellites' in html
        assert f'alt="service map {net}"' in html
        for a, b in (("Moskva-(Moscow)", "Vladivostok"), ("Moskva-(Moscow)", "Novosibirsk")):
            assert f'data-network="{net}" data-src="{a}" data-dst="{b}"' in html, (net, a, b)


def test_did_you_mean_and_version(small: Path, tmp_path: Path) -> None:
    r = typed("run", "crimea2022", cwd=tmp_path)
    assert r.returncode == 2 and "did you mean crimea-2022?" in r.stderr
    shells = "shells = [{ altitude_km = 550, inclination_deg = 53, planes = 12, sats_per_plane = 12 }]"
    small.write_text(SMALL.replace(shells, 'preset = "starlink550"'))
    r = typed("check", str(small), cwd=tmp_path)
    assert r.returncode == 2 and "did you mean starlink-550" in r.stderr
    small.write_text(SMALL.replace('"Tokyo", "London"', '"Tokio", "London"'))
    r = typed("check", str(small), cwd=tmp_path)
    assert r.returncode == 2 and "did you mean Tokyo" in r.stderr
    small.write_text(SMALL.replace('"Tokyo", "London"', '"Hyderabad", "London"'))
    r = typed("check", str(small), cwd=tmp_path)
    assert r.returncode == 2 and "Hyderabad-(India), Hyderabad-(Pakistan)" in r.stderr
    r = typed("--version", cwd=tmp_path)
    from importlib.metadata import version

    assert r.returncode == 0 and r.stdout.strip() == f"leonet {version('leonet')}"


def test_cities_search(tmp_path: Path) -> None:
    r = typed("cities", "hyderabad", cwd=tmp_path)
    assert r.returncode == 0
    assert "Hyderabad-(India)" in r.stdout and "Hyderabad-(Pakistan)" in r.stdout and "PK" in r.stdout
    r = typed("cities", "zzqx", cwd=tmp_path)
    assert r.returncode == 2 and "zzqx" in r.stderr


def test_first_run_says_it_is_compiling(small: Path, tmp_path: Path) -> None:
    """A cold numba cache makes the first run compile the kernels (~4 s): one line on stderr says so; a warm
    cache says nothing.  NUMBA_CACHE_DIR points numba at an empty cache."""
    cache = tmp_path / "numba-cache"
    cache.mkdir()
    first = typed("run", str(small), "-o", str(tmp_path / "a"), "--no-report", cwd=tmp_path, NUMBA_CACHE_DIR=str(cache))
    assert first.returncode == 0, first.stderr
    assert "compiling the routing kernel" in first.stderr
    again = typed("run", str(small), "-o", str(tmp_path / "b"), "--no-report", cwd=tmp_path, NUMBA_CACHE_DIR=str(cache))
    assert again.returncode == 0 and "compiling" not in again.stderr


def test_summary_of_a_moving_pair_is_deterministic(
    as_typed: tuple[Path, dict[str, subprocess.CompletedProcess[str]]],
) -> None:
    """The summary's great-circle distance of a pair with a moving terminal was DuckDB's `any_value` (a different
    row, so a different report, from run to run); it is the smallest over the window, a bound on every row."""
    import duckdb as db

    cwd, _ = as_typed
    out = cwd / "leonet-out" / "crimea-2022"
    got = db.sql(
        f"""SELECT s.src_name, s.gc_km, min(r.gc_km) AS lo, max(r.gc_km) AS hi
            FROM '{out / "summary.parquet"}' s JOIN '{out / "routes" / "part-*.parquet"}' r USING (network, src, dst)
            GROUP BY ALL"""
    ).fetchall()
    assert any(hi > lo + 100 for _, _, lo, hi in got)  # the boat moves
    assert all(gc == lo for _, gc, lo, _ in got)


def test_report_dir_bad_input_is_one_line(tmp_path: Path) -> None:
    d = tmp_path / "out"
    d.mkdir()
    r = typed("report", str(d), cwd=tmp_path)
    assert r.returncode == 2 and "scenario.json, routes/" in r.stderr and "missing" in r.stderr
    for name in ("routes", "summary", "networks", "service", "terminals"):
        (d / f"{name}.parquet").write_bytes(b"")
    (d / "scenario.json").write_text("{not json")
    r = typed("report", str(d), cwd=tmp_path)
    assert r.returncode == 2 and "scenario.json: not JSON" in r.stderr
    (d / "scenario.json").write_text('{"name": "x"}')
    r = typed("report", str(d), cwd=tmp_path)
    assert r.returncode == 2 and "field epoch" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    from leonet.scenario import load_scenario

    (d / "scenario.json").write_text(load_scenario("default").with_time(end_s=0).model_dump_json())
    r = typed("report", str(d), cwd=tmp_path)  # empty Parquet files
    assert r.returncode == 2 and "summary.parquet: unreadable" in r.stderr and "Traceback" not in r.stderr
