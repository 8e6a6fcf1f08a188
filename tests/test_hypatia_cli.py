"""``leonet export hypatia`` at the command line: the directory it writes, and bad input as one line, exit 2,
nothing written (``leonet.store``'s atomic directory)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def leonet(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "leonet.cli", *args], capture_output=True, text=True, cwd=cwd)


def test_export_writes_the_directory(tmp_path: Path) -> None:
    args = ("export", "hypatia", "hypatia-starlink-550", "net", "--step-ms", "1000", "--duration-s", "2")
    r = leonet(*args, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    d = tmp_path / "net"
    names = {p.name for p in d.iterdir()}
    assert {"tles.txt", "isls.txt", "ground_stations.txt", "description.txt", "gsl_interfaces_info.txt"} <= names
    dyn = d / "dynamic_state_1000ms_for_2s"
    assert sorted(p.name for p in dyn.iterdir()) == [
        "fstate_0.txt", "fstate_1000000000.txt", "gsl_if_bandwidth_0.txt", "gsl_if_bandwidth_1000000000.txt"
    ]  # fmt: skip
    # Hypatia's model: its TLE file is the shipped one, with satgenpy's "72 22" header
    tle = (d / "tles.txt").read_text().splitlines()
    assert tle[0] == "72 22" and tle[1] == "Starlink-550 0" and len(tle) == 1 + 3 * 1584
    assert len((d / "isls.txt").read_text().splitlines()) == 3168
    desc = (d / "description.txt").read_text()
    assert desc == "max_gsl_length_m=1089700.0000000000\nmax_isl_length_m=5016600.0000000000\n"
    assert len((dyn / "fstate_0.txt").read_text().splitlines()) == 1584 * 100 + 100 * 99
    assert (dyn / "gsl_if_bandwidth_0.txt").read_text().splitlines()[0] == "0,4,1.000000"
    assert (dyn / "gsl_if_bandwidth_1000000000.txt").read_text() == ""


def test_bad_input_one_line_nothing_written(tmp_path: Path) -> None:
    for args, needle in [
        (["--step-ms", "0"], "--step-ms"),
        (["--ground-ellipsoid", "grs80"], "--ground-ellipsoid"),
        (["--max-isl-m", "1000"], "maximum ISL length"),
    ]:
        r = leonet("export", "hypatia", "hypatia-starlink-550", "out", "--duration-s", "1", *args, cwd=tmp_path)
        assert r.returncode == 2, (args, r.stderr)
        err = [ln for ln in r.stderr.splitlines() if ln.startswith("leonet: error:")]
        assert len(err) == 1 and needle in err[0] and "Traceback" not in r.stderr
        assert not (tmp_path / "out").exists()
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.tmp")]
    # a scenario whose first snapshot is not the TLE epoch: Hypatia's time 0 is the epoch
    f = tmp_path / "late.toml"
    f.write_text(
        'name = "late"\nepoch = 2000-01-01T00:00:00Z\n[time]\nstart_s = 10\nend_s = 12\n[[networks]]\n'
        'constellation = { preset = "starlink-550" }\n[ground]\ncities = 3\n'
    )
    r = leonet("export", "hypatia", str(f), "out", cwd=tmp_path)
    assert r.returncode == 2 and "TLE epoch" in r.stderr and not (tmp_path / "out").exists()


def test_faults_are_not_exported_and_the_note_says_so(tmp_path: Path) -> None:
    """Hypatia's files have no place for faults: the export is the network without them (the same fstate as
    the scenario without its faults), and a note on stderr names them."""
    base = (
        'name = "f"\nepoch = 2000-01-01T00:00:00Z\n[time]\nend_s = 2\n[[networks]]\n'
        'constellation = { preset = "starlink-550" }\n[ground]\ncities = 3\n'
    )
    (tmp_path / "plain.toml").write_text(base)
    (tmp_path / "faulty.toml").write_text(base + '[[faults]]\nname = "lost"\nkind = "satellite"\nids = [0, 1]\n')
    plain = leonet("export", "hypatia", "plain.toml", "p", "--duration-s", "1", cwd=tmp_path)
    faulty = leonet("export", "hypatia", "faulty.toml", "q", "--duration-s", "1", cwd=tmp_path)
    assert plain.returncode == faulty.returncode == 0, faulty.stderr
    assert "not exported" not in plain.stderr
    assert "1 fault(s) (lost) are not exported" in " ".join(faulty.stderr.split())
    for name in ("isls.txt", "tles.txt", "dynamic_state_1000ms_for_1s/fstate_0.txt"):
        assert (tmp_path / "p" / name).read_text() == (tmp_path / "q" / name).read_text(), name
