"""`leonet resilience` (leonet.resilience): the structure of a fault sweep, not the direction of its numbers
(reachability need not fall with the failure rate for every seed).

References: the baseline row is the plain run's own routes and service table measured independently here
(reachable rows counted, ``numpy.median`` of the stretch), and its throughput the flow model's own tables
(``capacity.capacity_over_window``) read with NumPy; at a 100% failure rate no satellite has a link, so nothing
is reachable, every routed node is out for the whole window and nothing is carried.  Throughput falls or stays
with failures where the baseline serves every demand in full (nothing can carry more).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

import leonet
from leonet import capacity, resilience
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


#: access terminals (Berlin denied by the policy) to their PoPs over starlink-gen1; 100 Mbit/s down each (the
#: default demand) fits everywhere, so the baseline carries every demand in full
ACCESS = """epoch = 2026-02-23T00:00:00Z
[time]
end_s = 30
step_s = 15
[[networks]]
name = "starlink-gen1"
constellation = { preset = "starlink-gen1" }
min_elevation_deg = 25.0
[ground]
cities = ["Paris", "London", "Madrid", "Berlin", "New York", "Chicago"]
cities_kind = "terminal"
[policy.default]
unregistered = "serve"
[[policy.licences]]
id = "lic"
countries = ["FR", "GB", "ES", "US"]
[access]
mode = "lasers"
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


def test_the_summary_leaves_a_seed_without_a_value_out_of_that_measure_only() -> None:
    # rate 0.5: seed 0 has no route (stretch NaN), seed 1 a stretch of 2; rate 1: no seed has one
    nan = float("nan")
    rows = [{"network": "n", "rate": r, "seed": k, **dict.fromkeys(resilience.MEASURES, nan)}
            for r, k in ((0.5, 0), (0.5, 1), (1.0, 0))]  # fmt: skip
    rows[0]["reachability"], rows[1]["reachability"], rows[2]["reachability"] = 0.0, 0.5, 0.0
    rows[1]["stretch_median"] = 2.0
    s = resilience.summarise(pa.Table.from_pylist(rows)).to_pylist()
    half, full = s
    assert (half["seeds"], half["reachability_mean"], half["reachability_max"]) == (2, 0.25, 0.5)
    assert half["stretch_median_mean"] == half["stretch_median_min"] == half["stretch_median_max"] == 2.0
    assert all(np.isnan(full[f"stretch_median_{a}"]) for a in ("mean", "min", "max"))
    assert full["reachability_mean"] == 0.0


def test_without_access_the_throughput_columns_are_nan(sweep: tuple[leonet.Scenario, object]) -> None:
    _, table = sweep
    assert tuple(table.column_names) == resilience.COLUMNS  # type: ignore[attr-defined]
    for r in table.to_pylist():  # type: ignore[attr-defined]
        assert all(np.isnan(r[c]) for c in resilience.THROUGHPUT), r
    s = resilience.summarise(table).to_pylist()  # type: ignore[arg-type]
    assert all(np.isnan(r[f"{c}_{a}"]) for r in s for c in resilience.THROUGHPUT for a in ("mean", "min", "max"))


@pytest.fixture(scope="module")
def access_sweep() -> tuple[leonet.Scenario, object]:
    sc = parse_scenario(ACCESS)
    return sc, resilience.sweep(sc, [0.3, 1.0], 2, _run)


def test_the_baseline_throughput_is_the_flow_models_own_tables(access_sweep: tuple[leonet.Scenario, object]) -> None:
    sc, table = access_sweep
    base = next(r for r in table.to_pylist() if r["rate"] == 0)  # type: ignore[attr-defined]
    world = _run(sc).prepared
    tables, slots = capacity.capacity_over_window(world, capacity.capacity_setup(world))
    thr = tables.throughput.to_pydict()
    down = np.array([d for d, ok in zip(thr["down_mbps"], thr["allowed"], strict=True) if ok])
    assert len(slots) == 3 and len(down) == 3 * 5  # 3 slot edges x the 5 terminals the policy permits
    assert base["throughput_down_median_mbps"] == pytest.approx(float(np.median(down)))
    assert base["throughput_down_p10_mbps"] == pytest.approx(float(np.percentile(down, 10)))
    per_slot = np.array(thr["down_mbps"]) + np.array(thr["up_mbps"])
    t = np.array(thr["t_s"])
    carried = [per_slot[t == e].sum() / 1e3 for e in np.unique(t)]
    assert base["carried_gbps"] == pytest.approx(float(np.mean(carried)))
    # the baseline serves every permitted terminal its whole demand (what makes the next test's bound hold)
    assert down == pytest.approx(np.full(len(down), capacity.DEMAND_DOWN_MBPS))


def test_failures_reduce_or_keep_the_throughput_and_a_total_failure_carries_nothing(
    access_sweep: tuple[leonet.Scenario, object],
) -> None:
    _, table = access_sweep
    rows = table.to_pylist()  # type: ignore[attr-defined]
    base = next(r for r in rows if r["rate"] == 0)
    for r in rows:
        for c in resilience.THROUGHPUT:
            assert 0 <= r[c] <= base[c] * (1 + 1e-9), (r["rate"], r["seed"], c)
        assert r["throughput_down_p10_mbps"] <= r["throughput_down_median_mbps"]
    total = [r for r in rows if r["rate"] == 1.0]
    assert len(total) == 2
    assert all(r[c] == 0 for r in total for c in resilience.THROUGHPUT)
    s = {r["rate"]: r for r in resilience.summarise(table).to_pylist()}  # type: ignore[arg-type]
    part = [r["carried_gbps"] for r in rows if r["rate"] == 0.3]
    assert s[0.3]["carried_gbps_min"] == min(part) and s[0.3]["carried_gbps_max"] == max(part)
    assert s[1.0]["carried_gbps_mean"] == 0 < s[0.0]["carried_gbps_mean"]


def test_a_trial_adds_its_faults_for_the_whole_window_and_a_seed_draws_the_same() -> None:
    sc = parse_scenario(SCENARIO)
    a = resilience.with_random_failures(sc, 0.1, 3)
    assert resilience.with_random_failures(sc, 0.0, 3) is sc
    kinds = [(f.kind, f.fraction, f.seed, f.start_s, f.end_s) for f in a.faults]  # type: ignore[union-attr]
    assert kinds == [("satellite", 0.1, 6, 0.0, None), ("isl", 0.1, 7, 0.0, None)]
    once, again = (resilience.measure(_run(x)) for x in (a, resilience.with_random_failures(sc, 0.1, 3)))
    assert [r.keys() for r in once] == [r.keys() for r in again]
    for x, y in zip(once, again, strict=True):  # NaN (no terminals: no throughput) counts as equal to NaN
        assert all(x[k] == y[k] or (np.isnan(x[k]) and np.isnan(y[k])) for k in x if k != "network"), (x, y)
        assert x["network"] == y["network"]


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
        cwd=tmp_path, capture_output=True, text=True, env={"LEONET_WORKERS": "1", **os.environ},
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert max(len(line) for line in r.stdout.splitlines()) <= 80 and "20%" in r.stdout
    t = pq.read_table(out / "resilience.parquet")
    assert t.column("rate").to_pylist() == [0.0, 0.2, 0.2] and t.column("seed").to_pylist() == [-1, 0, 1]
    assert tuple(t.column_names) == resilience.COLUMNS
    assert all(np.isnan(x) for c in resilience.THROUGHPUT for x in t.column(c).to_pylist())  # no [access]
    assert "carried" in r.stdout and "down" in r.stdout
    assert (out / "resilience.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and (out / "summary.csv").is_file()
    bad = subprocess.run([sys.executable, "-m", "leonet.cli", "resilience", "s.toml", "--fail", "200%"],
                         cwd=tmp_path, capture_output=True, text=True)  # fmt: skip
    assert bad.returncode == 2 and "--fail" in bad.stderr and "Traceback" not in bad.stderr


def test_the_command_prints_the_throughput_columns_with_access(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(ACCESS)
    out = tmp_path / "out"
    r = subprocess.run(
        [sys.executable, "-m", "leonet.cli", "resilience", "a.toml", "--fail", "100%", "--seeds", "1", "-o", str(out)],
        cwd=tmp_path, capture_output=True, text=True, env={**os.environ, "LEONET_WORKERS": "1", "COLUMNS": "80"},
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert max(len(line) for line in r.stdout.splitlines()) <= 80, r.stdout
    s = pacsv.read_csv(out / "summary.csv").to_pylist()
    assert [x["rate"] for x in s] == [0.0, 1.0]
    base, total = s
    assert base["throughput_down_median_mbps_mean"] == pytest.approx(capacity.DEMAND_DOWN_MBPS)
    assert total["carried_gbps_mean"] == 0 < base["carried_gbps_mean"]
    assert "carried" in r.stdout and f"{base['carried_gbps_mean']:.2f}" in r.stdout and "0.00" in r.stdout
