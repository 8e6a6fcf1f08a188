"""The command line and the output directory: exit codes, one-line errors, nothing half-written."""

from __future__ import annotations

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
    for name in (
        "routes.parquet",
        "summary.parquet",
        "networks.parquet",
        "nodes.parquet",
        "results.duckdb",
        "scenario.json",
        "report.html",
    ):
        assert (out / name).is_file(), name
    routes = pq.read_table(out / "routes.parquet")
    assert routes.num_rows == 6 * 7  # 6 pairs x 7 snapshots
    from leonet.store import connect  # routes is a view over routes.parquet, found from any directory

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
    before = (out / "routes.parquet").read_bytes()
    small.write_text(SMALL.replace("planes = 12", "planes = 0"))
    assert leonet("run", str(small), "-o", str(out), cwd=tmp_path).returncode == 2
    assert (out / "routes.parquet").read_bytes() == before


def test_help_teaches() -> None:
    r = subprocess.run([sys.executable, "-m", "leonet.cli", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "leonet run" in r.stdout and "scenarios" in r.stdout
    r = subprocess.run([sys.executable, "-m", "leonet.cli", "run", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "routes.parquet" in r.stdout and "Example" in r.stdout


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
    on_disk = pq.read_table(out / "routes.parquet")
    res = api.run(api.load_scenario(str(small)))
    in_memory = res.routes

    def plain(t: pa.Table) -> pa.Table:
        return t.cast(
            pa.schema(
                [pa.field(f.name, f.type.value_type if pa.types.is_dictionary(f.type) else f.type) for f in t.schema]
            )
        )

    assert plain(on_disk).equals(plain(in_memory))
    summary = pq.read_table(out / "summary.parquet")
    assert summary.equals(res.summary)
