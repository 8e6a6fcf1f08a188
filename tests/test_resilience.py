"""`leonet resilience` (leonet.resilience): the structure of a fault sweep, not the direction of its numbers
(reachability need not fall with the failure rate for every seed).

References: the baseline row is the plain run's own routes and service table measured independently here
(reachable rows counted, ``numpy.median`` of the stretch); at a 100% failure rate no satellite has a link, so
nothing is reachable and every routed node is out for the whole window.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

import leonet
from leonet import resilience
from leonet.errors import InputError
from leonet.scenario import parse_scenario

SCENARIO = """epoch = 2026-02-05T08:00:00Z
[time]
end_s = 40
step_s = 10
[[networks]]
name = "n"
constellation = { preset = "starlink-550" }
[ground]
cities = ["London", "Paris", "Madrid", "New-York-Newark", "Chicago"]
"""


def _run(sc: leonet.Scenario) -> leonet.Results:
    return leonet.run(sc, workers=1)


@pytest.fixture(scope="module")
def sweep() -> tuple[leonet.Scenario, object]:
    sc = parse_scenario(SCENARIO)
    return sc, resilience.sweep(sc, [0.05, 1.0], 2, _run)


def test_the_baseline_row_is_the_plain_run(sweep: tuple[leonet.Scenario, object]) -> None:
    sc, table = sweep
    rows = table.to_pylist()  # type: ignore[attr-defined]
    base = [r for r in rows if r["rate"] == 0]
    assert len(base) == 1 and base[0]["seed"] == -1
    plain = _run(sc).routes_table(["rtt_ms", "stretch", "t_s", "src", "dst"]).to_pydict()
    ok = [r is not None for r in plain["rtt_ms"]]
    assert base[0]["reachability"] == pytest.approx(sum(ok) / len(ok))
    stretch = [s for s, k in zip(plain["stretch"], ok, strict=True) if k]
    assert base[0]["stretch_median"] == pytest.approx(float(np.median(stretch)))
    assert base[0]["stretch_p95"] == pytest.approx(float(np.quantile(stretch, 0.95)))


def test_at_a_total_failure_nothing_is_reachable_and_every_node_is_out(sweep: tuple[leonet.Scenario, object]) -> None:
    _, table = sweep
    rows = [r for r in table.to_pylist() if r["rate"] == 1.0]  # type: ignore[attr-defined]
    assert len(rows) == 2 and {r["seed"] for r in rows} == {0, 1}
    window_s = 5 * 10.0  # 5 snapshots of 10 s
    for r in rows:
        assert r["reachability"] == 0.0 and np.isnan(r["stretch_median"])
        assert r["outage_mean_s"] == window_s and r["outage_max_s"] == window_s
    partial = [r for r in table.to_pylist() if r["rate"] == 0.05]  # type: ignore[attr-defined]
    assert len(partial) == 2 and all(0 < r["reachability"] <= 1 for r in partial)


def test_the_summary_has_one_row_per_rate_with_the_spread_over_seeds(sweep: tuple[leonet.Scenario, object]) -> None:
    _, table = sweep
    s = resilience.summarise(table).to_pylist()  # type: ignore[arg-type]
    assert [r["rate"] for r in s] == [0.0, 0.05, 1.0] and [r["seeds"] for r in s] == [1, 2, 2]
    part = [r["reachability"] for r in table.to_pylist() if r["rate"] == 0.05]  # type: ignore[attr-defined]
    assert s[1]["reachability_min"] == min(part) and s[1]["reachability_max"] == max(part)


def test_a_trial_adds_its_faults_for_the_whole_window_and_a_seed_draws_the_same() -> None:
    sc = parse_scenario(SCENARIO)
    a = resilience.with_random_failures(sc, 0.1, 3)
    assert resilience.with_random_failures(sc, 0.0, 3) is sc
    kinds = [(f.kind, f.fraction, f.seed, f.start_s, f.end_s) for f in a.faults]  # type: ignore[union-attr]
    assert kinds == [("satellite", 0.1, 6, 0.0, None), ("isl", 0.1, 7, 0.0, None)]
    assert resilience.measure(_run(a)) == resilience.measure(_run(resilience.with_random_failures(sc, 0.1, 3)))


@given(st.lists(st.integers(0, 100), min_size=1, max_size=6))
def test_rates_parse_as_percent_or_fraction(values: list[int]) -> None:
    pct = resilience.parse_rates(",".join(f"{v}%" for v in values))
    frac = resilience.parse_rates(",".join(str(v / 100) for v in values))
    assert pct == frac == sorted({v / 100 for v in values})


@pytest.mark.parametrize("bad", ["", "5", "101%", "-1%", "x%", "1%,,2%", "nan"])
def test_a_bad_rate_is_one_line_naming_the_option(bad: str) -> None:
    with pytest.raises(InputError, match=r"^--fail: .*expected"):
        resilience.parse_rates(bad)


def test_the_command_writes_its_table_and_figure(tmp_path: Path) -> None:
    (tmp_path / "s.toml").write_text(SCENARIO.replace("end_s = 40", "end_s = 20"))
    out = tmp_path / "out"
    r = subprocess.run(
        [sys.executable, "-m", "leonet.cli", "resilience", "s.toml", "--fail", "20%", "--seeds", "2", "-o", str(out)],
        cwd=tmp_path, capture_output=True, text=True, env={"LEONET_WORKERS": "1", **__import__("os").environ},
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert max(len(line) for line in r.stdout.splitlines()) <= 80 and "20%" in r.stdout
    t = pq.read_table(out / "resilience.parquet")
    assert t.column("rate").to_pylist() == [0.0, 0.2, 0.2] and t.column("seed").to_pylist() == [-1, 0, 1]
    assert (out / "resilience.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and (out / "summary.csv").is_file()
    bad = subprocess.run([sys.executable, "-m", "leonet.cli", "resilience", "s.toml", "--fail", "200%"],
                         cwd=tmp_path, capture_output=True, text=True)  # fmt: skip
    assert bad.returncode == 2 and "--fail" in bad.stderr and "Traceback" not in bad.stderr
