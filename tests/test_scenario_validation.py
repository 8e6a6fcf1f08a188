"""Scenario validation that must refuse (not merely survive) absurd input; physically impossible satellites;
element sets far from the window; runs refused up front for their size.

References: the impossible-state rule is recomputed here from raw ``Satrec.sgp4`` TEME output, the WGS-84
ellipsoid (a = 6378.137 km, f = 1/298.257223563) and Kepler's third law from the element set's mean motion
(WGS-72 mu = 398600.8 km^3/s^2), independently of ``leonet.orbits.propagate``.
"""

from __future__ import annotations

import math
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from sgp4.api import WGS72, Satrec

from leonet import assembly, budget
from leonet.errors import InputError
from leonet.orbits.tle import tle_checksum
from leonet.results import run
from leonet.scenario import load_scenario, parse_scenario

BASE = """
epoch = 2026-02-23T00:00:00Z
[time]
end_s = 60
step_s = 30
[[networks]]
name = "n"
constellation = {{ shells = [{{ altitude_km = 550, inclination_deg = 53, planes = 4, sats_per_plane = 4 }}] }}
[ground]
cities = 2
{extra}
"""
SHELLS = "shells = [{ altitude_km = 550, inclination_deg = 53, planes = 4, sats_per_plane = 4 }]"


def refused(text: str, *words: str) -> str:
    with pytest.raises(InputError) as ei:
        parse_scenario(text, "s.toml")
    msg = str(ei.value)
    assert "\n" not in msg and msg.startswith("s.toml") and "expected" in msg, msg
    for w in words:
        assert w in msg, msg
    return msg


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ("step_s = 30", "step_s = inf", ["time.step_s", "finite"]),
        ("step_s = 30", "step_s = nan", ["time.step_s", "finite"]),
        ("end_s = 60", "end_s = 1e300", ["time.end_s"]),
        ("end_s = 60", "end_s = " + "9" * 5000, ["invalid TOML", "digits"]),
        ("planes = 4", "planes = " + "9" * 400, ["planes", "400 digits"]),
        ("planes = 4, sats_per_plane = 4", "planes = 2000, sats_per_plane = 1000", ["1,000,000 satellites"]),
        ("sats_per_plane = 4", "sats_per_plane = 4, phasing = 9", ["phasing"]),
        (SHELLS, "shells = []", ["shells", "at least 1"]),
        ("constellation = { shells", "constellation = [] #", ["constellation", "at least 1"]),
        ('name = "n"', 'name = "n\\u0000"', ["control character"]),
        ("epoch = 2026-02-23T00:00:00Z", 'epoch = 0001-02-23T00:00:00Z\nname = "x"', ["epoch", "1957..2100"]),
        ("epoch = 2026-02-23T00:00:00Z", 'epoch = 2026-02-23T00:00:00Z\nname = "../../etc"', ["directory name"]),
        ("cities = 2", "cities = 2\nx = " + "[" * 5000 + "]" * 5000, ["invalid TOML"]),
        ("epoch = 2026-02-23T00:00:00Z", "dut1_s = -inf\nepoch = 2026-02-23T00:00:00Z", ["dut1_s", "finite"]),
        ("[ground]", "speed = 1\n[ground]", ["networks[0].speed", "unknown field"]),
    ],
)  # fmt: skip
def test_absurd_values_are_refused(old: str, new: str, words: list[str]) -> None:
    text = BASE.format(extra="")
    assert old in text
    refused(text.replace(old, new), *words)


def test_networks_empty_is_refused() -> None:
    refused("epoch = 2026-02-23T00:00:00Z\nnetworks = []\n", "networks", "at least 1")


def test_huge_scenario_file_and_dev_zero(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a regular file"):
        load_scenario("/dev/zero")
    big = tmp_path / "big.toml"
    with open(big, "wb") as f:
        f.truncate(100 * 1024 * 1024)
    with pytest.raises(InputError, match="bytes"):
        load_scenario(big)
    tle_zero = BASE.format(extra="").replace(
        "shells = [{ altitude_km = 550, inclination_deg = 53, planes = 4, sats_per_plane = 4 }]", 'tle = "/dev/zero"'
    )
    sc = parse_scenario(tle_zero, "s.toml")
    with pytest.raises(InputError, match="/dev/zero: it is not a regular file"):
        assembly.assemble(sc)


# ---------------------------------------------------------------------------------------------------------------
# physically impossible satellites, element sets far from the window
# ---------------------------------------------------------------------------------------------------------------

A0 = "STARLINK-1008"
A1 = "1 44714U 19074B   26053.95338319  .00001514  00000+0  61711-4 0  9998"
A2 = "2 44714  53.1565 247.2957 0001251  94.4223 265.6921 15.31035506346616"


def _put(line: str, col: int, text: str) -> str:
    s = line[: col - 1] + text + line[col - 1 + len(text) :]
    return s[:68] + str(tle_checksum(s))


def _three_sats(tmp_path: Path) -> Path:
    """One real element set, and the same with B* = -0.99999e-1 and +0.99999e-1: 60 days on, SGP4 puts the
    first where it belongs, the second ~6.4 million km away (beyond the Moon, error code 0), the third fails."""
    lines = []
    for k, bstar in enumerate((" 61711-4", "-99999-1", " 99999-1")):
        num = f"{44714 + k:05d}"
        lines += [f"SAT-{k}", _put(_put(A1, 54, bstar), 3, num), _put(A2, 3, num)]
    p = tmp_path / "three.tle"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


SCEN = """
name = "impossible"
epoch = 2026-04-23T22:52:52Z        # the element sets' epoch + 60 days
[time]
end_s = 120
step_s = 60
[[networks]]
name = "n"
constellation = {{ tle = "{tle}", grid = [1, 3] }}
min_elevation_deg = 0
[ground]
cities = 100
"""


def _reference_impossible(tle: Path, epoch_jd: tuple[float, float], times_s: np.ndarray) -> np.ndarray:
    """(T, S) impossible states by hand: raw SGP4, WGS-84 surface + 100 km, apogee from Kepler + margin."""
    text = tle.read_text().splitlines()
    sats = [Satrec.twoline2rv(text[i + 1], text[i + 2], WGS72) for i in range(0, len(text), 3)]
    a_wgs84, f = 6378.137, 1 / 298.257223563
    b_wgs84 = a_wgs84 * (1 - f)
    out = np.zeros((len(times_s), len(sats)), dtype=bool)
    for j, s in enumerate(sats):
        n_rad_s = s.no_kozai / 60.0
        a_km = (398600.8 / n_rad_s**2) ** (1 / 3)  # Kepler (un-Kozai'd mean motion differs by < 0.1%)
        apogee = a_km * (1 + s.ecco)
        for i, t in enumerate(times_s):
            e, r, _v = s.sgp4(epoch_jd[0], epoch_jd[1] + t / 86400.0)
            if e != 0:
                out[i, j] = True
                continue
            x, y, z = r
            rr = math.sqrt(x * x + y * y + z * z)
            phi = math.asin(z / rr)  # geocentric latitude (TEME z = Earth-fixed z)
            surface = a_wgs84 * b_wgs84 / math.hypot(b_wgs84 * math.cos(phi), a_wgs84 * math.sin(phi))
            out[i, j] = rr < surface + 100.0 or rr > apogee + max(100.0, 0.01 * a_km) + 2.0  # 2 km: Kozai
    return out


def test_impossible_satellites_take_part_in_no_link_and_are_counted(tmp_path: Path) -> None:
    tle = _three_sats(tmp_path)
    (tmp_path / "s.toml").write_text(SCEN.format(tle=tle.name), encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = run(load_scenario(tmp_path / "s.toml"))
    # two stations under satellite 0 (where it is at t = 0 and t = 120 s), so that it has ground links
    stations = ""
    for k, t in enumerate((0.0, 120.0)):
        p = first.positions(t).to_pydict()
        lat, lon = p["lat_deg"][0], p["lon_deg"][0]
        stations += f'[[ground.stations]]\nname = "under-{k}"\nlat_deg = {lat}\nlon_deg = {lon}\n'
    (tmp_path / "s.toml").write_text(SCEN.format(tle=tle.name) + stations, encoding="utf-8")
    sc = load_scenario(tmp_path / "s.toml")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = run(sc)
    from leonet.timebase import julian_date

    ref = _reference_impossible(tle, julian_date(sc.epoch), res.prepared.times_s)
    assert ref[:, 0].sum() == 0 and ref[:, 1].all() and ref[:, 2].all()  # the case is what it claims
    for t in res.prepared.times_s:
        pos = res.positions(float(t)).to_pydict()
        bad = np.isnan(np.array(pos["x_km"][:3]))
        assert list(bad) == [False, True, True]
        links = res.links(float(t)).to_pydict()
        used = set(links["u"]) | set(links["v"])
        assert 1 not in used and 2 not in used and 0 in used
        assert all(km < 20_000 for km in links["length_km"])
    assert res.unusable_sats == {"n": 2}
    assert res.networks.column("unusable_sats").to_pylist() == [2]
    rtt = [x for x in res.routes_table(["rtt_ms"]).column("rtt_ms").to_pylist() if x is not None]
    assert max(rtt, default=0.0) < 1000.0  # without the rule: paths via the satellite 6.4e6 km away, ~43 s
    # the element sets are 60 days from the window: a warning naming how many and how old
    msgs = [str(w.message) for w in caught if issubclass(w.category, assembly.LeonetWarning)]
    assert len(msgs) == 1 and "3 of 3 element sets" in msgs[0] and "14 days" in msgs[0] and "60.0 days" in msgs[0]
    assert res.warnings == tuple(msgs)


def test_cli_prints_the_warnings_on_stderr(tmp_path: Path) -> None:
    tle = _three_sats(tmp_path)
    (tmp_path / "s.toml").write_text(SCEN.format(tle=tle.name), encoding="utf-8")
    r = subprocess.run(
        [sys.executable, "-m", "leonet.cli", "run", "s.toml", "-o", "out", "-q", "--no-report"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    lines = r.stderr.strip().splitlines()
    assert any(ln.startswith("leonet: warning: ") and "3 of 3 element sets" in ln for ln in lines), r.stderr
    assert any("2 satellite(s) had a physically impossible position" in ln for ln in lines), r.stderr


def test_fresh_element_sets_give_no_warning(tmp_path: Path) -> None:
    tle = _three_sats(tmp_path)
    text = SCEN.format(tle=tle.name).replace("2026-04-23T22:52:52Z", "2026-02-22T22:52:52Z")
    (tmp_path / "s.toml").write_text(text, encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error", assembly.LeonetWarning)
        prep = assembly.assemble(load_scenario(tmp_path / "s.toml"))
    assert prep.warnings == ()


# ---------------------------------------------------------------------------------------------------------------
# runs refused up front for their size
# ---------------------------------------------------------------------------------------------------------------


def test_output_budget_refuses_with_the_numbers() -> None:
    est = budget.Estimate(snapshots=864_001, pairs=4_950, networks=1)  # ten days at 1 s
    with pytest.raises(InputError) as ei:
        budget.check_output(est, None, force=False)
    msg = str(ei.value)
    assert "4,276,804,950 route rows" in msg and "864,001 snapshots x 4,950 pairs" in msg and "--force" in msg
    budget.check_output(est, None, force=True)  # forced: no refusal
    # a day at 1 s (428 M rows): the summaries' memory does not grow with the rows, so it is not refused
    budget.check_output(budget.Estimate(86_401, 4_950, 1), None, force=False, memory_bytes=4_000_000_000)
    small = budget.Estimate(1_000, 4_950, 1)  # 4.95 M rows
    with pytest.raises(InputError, match="free there"):
        budget.check_output(small, Path("."), force=False, disk_bytes=10_000_000)
    with pytest.raises(InputError, match="of memory"):
        budget.check_output(small, None, force=False, memory_bytes=100_000_000)
    with pytest.raises(InputError, match="of memory"):
        budget.check_output(small, None, force=False, in_memory=True, memory_bytes=1_000_000_000)
    budget.check_output(small, Path("."), force=False, disk_bytes=10**12, memory_bytes=10**12)
    with pytest.raises(InputError, match="satellites need about"):
        budget.check_satellites(1_000_000, "n", force=False, memory_bytes=1_000_000_000)
    budget.check_satellites(1_000_000, "n", force=True, memory_bytes=1_000_000_000)


def test_huge_constellation_is_refused_before_it_is_built() -> None:
    shells = ", ".join(
        ["{ altitude_km = 550, inclination_deg = 53, planes = 1000, sats_per_plane = 1000 }"] * 4
    )  # 4 million satellites, ~32 GB
    text = BASE.format(extra="").replace(
        "shells = [{ altitude_km = 550, inclination_deg = 53, planes = 4, sats_per_plane = 4 }]",
        f"shells = [{shells}]",
    )
    sc = parse_scenario(text, "s.toml")
    with pytest.raises(InputError, match="4,000,000 satellites need about"):
        assembly.assemble(sc)


def test_cli_refuses_an_absurd_run_and_writes_nothing(tmp_path: Path) -> None:
    text = BASE.format(extra="").replace("end_s = 60", "end_s = 2_000_000").replace("step_s = 30", "step_s = 1")
    text = text.replace("cities = 2", "cities = 100")
    (tmp_path / "s.toml").write_text(text, encoding="utf-8")
    r = subprocess.run(
        [sys.executable, "-m", "leonet.cli", "run", "s.toml", "-o", "out", "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("leonet: error: ") and "--force" in lines[0], r.stderr
    assert "9,900,004,950 route rows (2,000,001 snapshots x 4,950 pairs" in lines[0]
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == [".out.lock"]


def test_a_scenario_loaded_by_a_relative_path_finds_its_files_from_any_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The files a scenario names are relative to the scenario file, wherever the result is used later (the
    validated scenario is stored in scenario.json and `leonet report DIR` re-reads it from another directory)."""
    from leonet.scenario import Scenario, load_scenario

    sub = tmp_path / "work"
    sub.mkdir()
    (sub / "s.toml").write_text(
        'name = "rel"\nepoch = 2026-02-23T00:00:00Z\n[[networks]]\nname = "n"\n'
        'constellation = { tle = "sats.tle" }\n[ground]\ncities = 2\n',
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    sc = load_scenario("work/s.toml")
    monkeypatch.chdir(sub)
    again = Scenario.model_validate_json(sc.model_dump_json())
    assert again.resolve("sats.tle") == sub / "sats.tle"
