"""The validation against published latency (``docs/validation.md``, issue 9 §5): the shipped table of published
figures reads back with its sources; the comparison's arithmetic against hand-made access tables; and the
comparison script still runs and reports its numbers (a short window)."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from leonet.catalog import published_latency
from leonet.validation import compare, handovers_per_edge, region_of_country, region_rtt, rtt_steps, slot_edge_share

ROOT = Path(__file__).resolve().parents[1]


def test_published_figures_carry_their_source() -> None:
    rows = published_latency()
    assert any(r.region == "US" and r.statistic == "median" and r.rtt_ms == 25.7 for r in rows)
    for r in rows:
        assert r.source and r.period and r.measured_by and r.path and 5 < r.rtt_ms < 200, r


def _access(rows: list[tuple[float, str, int | None, str | None, float | None]]) -> pa.Table:
    t, term, sat, pop, ow = zip(*rows, strict=True)
    return pa.table({"t_s": list(t), "terminal": list(term), "serving_sat": pa.array(sat, pa.int32()),
                     "pop": list(pop), "one_way_ms": pa.array(ow, pa.float64())})  # fmt: skip


def test_region_rtt_and_the_calibration_on_one_region_only() -> None:
    # US terminals: RTT 20, 22, 24 (median 22); European: 30, 34 (median 32); an unserved row counts nowhere
    acc = _access([(0, "a", 1, "SEA", 10.0), (0, "b", 2, "SEA", 11.0), (0, "c", 3, "SEA", 12.0),
                   (0, "d", 4, "FRA", 15.0), (0, "e", 5, "FRA", 17.0), (0, "f", None, None, None)])  # fmt: skip
    regions = region_rtt(acc, {"SEA": "US", "FRA": "DE"})
    assert [(r.region, r.samples, r.median_ms) for r in regions] == [("Europe", 2, 32.0), ("US", 3, 22.0)]
    delay, rows = compare(regions, published_latency(), calibrate_on="US")
    assert delay == pytest.approx(25.7 - 22.0)
    fitted = [c for c in rows if c.fitted]
    assert len(fitted) == 1 and fitted[0].calibrated_ms == pytest.approx(25.7)
    glob = next(c for c in rows if c.published.region == "global")
    assert glob.modelled_ms == pytest.approx((3 * 22.0 + 2 * 32.0) / 5)
    assert glob.calibrated_ms == pytest.approx(glob.modelled_ms + delay)
    with pytest.raises(ValueError):
        compare([r for r in regions if r.region != "US"], published_latency(), calibrate_on="US")
    assert region_of_country("GB") == "Europe" and region_of_country("US") == "US"


def test_slot_edge_share_counts_changes_of_one_terminal_only() -> None:
    acc = _access([(14, "a", 1, "P", 1.0), (15, "a", 2, "P", 1.0), (16, "a", 2, "P", 1.0), (17, "a", 3, "P", 1.0),
                   (15, "b", 9, "P", 1.0), (16, "b", None, None, None), (17, "b", 8, "P", 1.0)])  # fmt: skip
    n, share = slot_edge_share(acc)
    assert n == 2 and share == 0.5  # a: 1 -> 2 at 15 (an edge), 2 -> 3 at 17; b's gap is no change
    assert math.isnan(slot_edge_share(_access([(0, "a", 1, "P", 1.0)]))[1])
    # edges crossed served on both sides: a at 15 (changes); b at 15 has no row before it, and b's 30 follows an
    # unserved 29; c at 30 keeps its satellite
    acc = _access([(14, "a", 1, "P", 1.0), (15, "a", 2, "P", 1.0), (16, "a", 3, "P", 1.0), (15, "b", 9, "P", 1.0),
                   (29, "b", None, None, None), (30, "b", 8, "P", 1.0), (29, "c", 4, "P", 1.0),
                   (30, "c", 4, "P", 1.0)])  # fmt: skip
    assert handovers_per_edge(acc) == (2, 0.5)
    assert math.isnan(handovers_per_edge(_access([(0, "a", 1, "P", 1.0)]))[1])


def test_the_comparison_script_runs_and_reports_its_numbers() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "validate_latency.py"), "--minutes", "0.5", "--terminals", "4"],
        capture_output=True, text=True, timeout=300, check=True,
    ).stdout  # fmt: skip
    assert re.search(r"^US\s+\d+\s+[\d.]+\s+[\d.]+\s+[\d.]+$", out, re.M), out
    assert re.search(r"^Europe\s+\d+", out, re.M), out
    assert re.search(r"calibrated on the US operator median only: [\d.]+ ms", out), out
    assert "(the fit)" in out and "slot edge" in out, out
    assert re.search(r"slot edges crossed served: \d+, with a change of serving satellite: [\d.]+%", out), out
    assert re.search(r"across a slot edge mean [\d.]+ ms, p99 [\d.]+ \(\d+\); inside a slot mean [\d.]+ ms", out), out


def test_rtt_steps_split_at_the_slot_edges_per_terminal() -> None:
    # a: RTT 20 -> 22 (t 14 -> 15, an edge: 2) -> 21 (inside: 1) -> 27 (t 30, an edge: 6); b: 30 -> gap -> 34 is
    # no step (unserved between), then 34 -> 33.5 inside (0.5); a and b never mix although their rows interleave
    acc = _access([(14, "a", 1, "P", 10.0), (15, "b", 1, "P", 15.0), (15, "a", 1, "P", 11.0),
                   (16, "b", None, None, None), (16, "a", 1, "P", 10.5), (17, "b", 1, "P", 17.0),
                   (30, "a", 1, "P", 13.5), (18, "b", 1, "P", 16.75)])  # fmt: skip
    s = rtt_steps(acc)
    assert (s.n_edge, s.n_inside) == (2, 2)
    assert s.edge_mean_ms == pytest.approx(4.0) and s.inside_mean_ms == pytest.approx(0.75)
    assert s.edge_p99_ms == pytest.approx(2 + 0.99 * 4) and s.inside_p99_ms == pytest.approx(0.5 + 0.99 * 0.5)
    empty = rtt_steps(_access([(0, "a", 1, "P", 1.0)]))
    assert empty.n_edge == empty.n_inside == 0 and math.isnan(empty.edge_mean_ms) and math.isnan(empty.inside_p99_ms)
