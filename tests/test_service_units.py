"""``leonet.service``: status codes, service intervals and the per-terminal / per-network summaries, each
against a reference written out here.

References: the precedence rule of :func:`leonet.service.status_codes`' docstring applied cell by cell in plain
Python (a denial first, then jamming, then coverage); maximal runs found by walking each terminal's column
snapshot by snapshot; the summaries recomputed from those walked intervals with Python sums (seconds per status,
the served share, the rule that denied longest, the networks' shares over every terminal-second).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leonet import service
from leonet.runlength import Runs

RULES = ["r-licence", "r-fence", "r-cap"]
REASONS = ["no licence in XX", "inside fence F", "speed above 100 km/h"]
FAULTS = ["jam-a", "jam-b"]


def _status_by_hand(coverage: np.ndarray, rule: np.ndarray | None, jam: np.ndarray | None) -> np.ndarray:
    out = np.zeros(coverage.shape, dtype=np.int32)
    for t in range(coverage.shape[0]):
        for n in range(coverage.shape[1]):
            if rule is not None and rule[t, n] >= 0:
                out[t, n] = rule[t, n]
            elif jam is not None and jam[t, n] >= 0:
                out[t, n] = -3 - jam[t, n]
            elif coverage[t, n]:
                out[t, n] = -1
            else:
                out[t, n] = -2
    return out


def _walk(status: np.ndarray) -> list[tuple[int, int, int, int]]:
    """(terminal, first, stop, code) of every maximal run, terminal by terminal, snapshot by snapshot."""
    runs = []
    for n in range(status.shape[1]):
        first = 0
        for t in range(1, status.shape[0] + 1):
            if t == status.shape[0] or status[t, n] != status[first, n]:
                runs.append((n, first, t, int(status[first, n])))
                first = t
    return runs


def _expected_rows(
    status: np.ndarray, times: np.ndarray, step: float, names: list[str], nodes: np.ndarray
) -> list[dict[str, Any]]:
    rows = []
    for n, a, b, code in _walk(status):
        end = times[b] if b < len(times) else times[-1] + step
        if code >= 0:
            kind, rid, why = "denied", RULES[code], REASONS[code]
        elif code == -1:
            kind, rid, why = "served", "", ""
        elif code == -2:
            kind, rid = "no-coverage", "no-coverage"
            why = "no satellite in view (none above the elevation mask or within range)"
        else:
            f = -3 - code
            kind, rid, why = "jammed", FAULTS[f], f"jammed (fault {FAULTS[f]})"
        rows.append(
            {
                "network": "net",
                "terminal": names[n],
                "node": int(nodes[n]),
                "start_s": float(times[a]),
                "end_s": float(end),
                "status": kind,
                "rule_id": rid,
                "reason": why,
            }
        )
    return rows


@st.composite
def _cases(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None, bool]:
    t = draw(st.integers(1, 7))
    n = draw(st.integers(1, 5))
    flat = st.lists(st.booleans(), min_size=t * n, max_size=t * n)
    coverage = np.array(draw(flat), dtype=bool).reshape(t, n)
    rules = st.lists(st.integers(-1, len(RULES) - 1), min_size=t * n, max_size=t * n)
    rule = np.array(draw(rules), dtype=np.int32).reshape(t, n) if draw(st.booleans()) else None
    jams = st.lists(st.integers(-1, len(FAULTS) - 1), min_size=t * n, max_size=t * n)
    jam = np.array(draw(jams), dtype=np.int32).reshape(t, n) if draw(st.booleans()) else None
    return coverage, rule, jam, draw(st.booleans())


@settings(max_examples=150, deadline=None)
@given(_cases())
def test_status_codes_and_intervals_against_the_rule_by_hand(case: tuple[Any, ...]) -> None:
    """Denied by rule k (k >= 0) before jammed by fault f (-3 - f) before served (-1) / no coverage (-2), and
    the rules only when the network is under the policy; the intervals are the walked maximal runs, with the
    status, rule id and reason each code stands for."""
    coverage, rule, jam, under = case
    decisions = SimpleNamespace(rule=rule) if rule is not None else None
    status = service.status_codes(coverage, decisions, under, jam)  # type: ignore[arg-type]
    want = _status_by_hand(coverage, rule if under else None, jam)
    assert np.array_equal(status, want)
    assert status.dtype == np.int32
    t, n = coverage.shape
    times = 60.0 * np.arange(t) + 1000.0
    names = [f"T{i}" for i in range(n)]
    nodes = np.arange(n, dtype=np.int64) + 1584
    table = service.intervals("net", names, nodes, times, 60.0, status, RULES, REASONS, FAULTS)
    got = table.to_pylist()
    for row in got:
        row["status"] = str(row["status"])
    assert got == _expected_rows(status, times, 60.0, names, nodes)
    assert table.schema.field("status").type == pa.dictionary(pa.int8(), pa.string())
    assert table.schema.field("node").type == pa.int32()


def test_intervals_of_runs_in_window_indices_and_the_last_end() -> None:
    """Runs given in window indices (a chunk's runs start at k0): start / end read from ``times_s`` at those
    indices, the last run ending one step after the last snapshot."""
    status = np.array([[-1, 0], [-1, 0], [-2, -3]], dtype=np.int32)
    times = np.array([0.0, 15.0, 30.0])
    table = service.intervals_of_runs(
        "n", ["a", "b"], np.array([7, 9]), times, 15.0, Runs.of(status), RULES, REASONS, FAULTS
    )
    assert table.column("start_s").to_pylist() == [0.0, 30.0, 0.0, 30.0]
    assert table.column("end_s").to_pylist() == [30.0, 45.0, 30.0, 45.0]
    assert table.column("node").to_pylist() == [7, 7, 9, 9]
    assert [str(s) for s in table.column("status").to_pylist()] == ["served", "no-coverage", "denied", "jammed"]
    assert table.column("rule_id").to_pylist() == ["", "no-coverage", "r-licence", "jam-a"]


def test_empty_service_table() -> None:
    """No terminal: no rows, the same columns and types as a real table."""
    table = service.empty(np.array([0.0, 60.0]))
    assert table.num_rows == 0
    real = service.intervals("n", ["a"], np.array([1]), np.array([0.0]), 1.0, np.array([[-1]], np.int32), [], [])
    assert table.schema.names == real.schema.names
    assert [f.type for f in table.schema] == [f.type for f in real.schema]
    assert (
        service.intervals("n", [], np.empty(0, np.int64), np.empty(0), 1.0, np.empty((0, 0), np.int32), [], []).num_rows
        == 0
    )


def _summary_by_hand(rows: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        k = (r["network"], r["terminal"])
        d = out.setdefault(k, {"served": 0.0, "denied": 0.0, "no-coverage": 0.0, "jammed": 0.0, "rules": {}})
        s = r["end_s"] - r["start_s"]
        d[r["status"]] += s
        if r["status"] == "denied":
            d["rules"][r["rule_id"]] = d["rules"].get(r["rule_id"], 0.0) + s
    return out


def test_terminal_summary_and_network_comparison_recomputed_by_hand() -> None:
    """Per terminal: seconds in each status, the served share of its total, the rule with the most denied
    seconds (summed over its intervals; none if never denied); per network: terminals, the served share of every
    terminal-second, denied / no-coverage / jammed seconds summed, and the RTT median passed through."""
    rng = np.random.default_rng(5)
    tables, rows = [], []
    for net in ("a-net", "b-net"):
        t, n = 40, 6
        times = np.cumsum(rng.uniform(1.0, 30.0, t))
        coverage = rng.random((t, n)) < 0.7
        rule = np.where(rng.random((t, n)) < 0.3, rng.integers(0, 3, (t, n)), -1).astype(np.int32)
        rule[:, 0] = -1  # one terminal never denied
        jam = np.where(rng.random((t, n)) < 0.1, rng.integers(0, 2, (t, n)), -1).astype(np.int32)
        status = service.status_codes(coverage, SimpleNamespace(rule=rule), True, jam)  # type: ignore[arg-type]
        names = [f"{net}-T{i}" for i in range(n)]
        tab = service.intervals(net, names, np.arange(n), times, 10.0, status, RULES, REASONS, FAULTS)
        tables.append(tab)
        exp = _expected_rows(status, times, 10.0, names, np.arange(n))
        rows += [{**r, "network": net} for r in exp]
    svc = pa.concat_tables(tables)
    summary = service.terminal_summary(svc).to_pylist()
    want = _summary_by_hand(rows)
    assert [(r["network"], r["terminal"]) for r in summary] == sorted(want)
    for r in summary:
        w = want[(r["network"], r["terminal"])]
        total = w["served"] + w["denied"] + w["no-coverage"] + w["jammed"]
        assert r["served_s"] == pytest.approx(w["served"])
        assert r["denied_s"] == pytest.approx(w["denied"])
        assert r["no_coverage_s"] == pytest.approx(w["no-coverage"])
        assert r["jammed_s"] == pytest.approx(w["jammed"])
        assert r["served_share"] == pytest.approx(w["served"] / total)
        if w["rules"]:
            assert r["main_denial_rule"] == max(w["rules"], key=w["rules"].get)
        else:
            assert r["main_denial_rule"] is None
    networks = pa.table({"network": ["a-net", "b-net"], "rtt_median_ms": [31.5, 47.25]})
    comp = service.network_comparison(service.terminal_summary(svc), networks).to_pylist()
    assert [c["network"] for c in comp] == ["a-net", "b-net"]
    for c, rtt in zip(comp, (31.5, 47.25), strict=True):
        mine = [w for (net, _), w in want.items() if net == c["network"]]
        total = sum(w["served"] + w["denied"] + w["no-coverage"] + w["jammed"] for w in mine)
        assert c["terminals"] == len(mine)
        assert c["served_share"] == pytest.approx(sum(w["served"] for w in mine) / total)
        assert c["denied_s"] == pytest.approx(sum(w["denied"] for w in mine))
        assert c["no_coverage_s"] == pytest.approx(sum(w["no-coverage"] for w in mine))
        assert c["jammed_s"] == pytest.approx(sum(w["jammed"] for w in mine))
        assert c["rtt_median_ms"] == rtt
