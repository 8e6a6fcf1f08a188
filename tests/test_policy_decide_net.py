"""``policy.Decisions`` helpers on hand-made decision tables (mutation-testing survivors of ``policy/decide.py``).

``reason(t, n)``: the text of the denying rule, ``''`` when served (rule -1), so rule index 0 has a reason too.
``runs()``: maximal runs of equal decisions per terminal, ``(terminal, first, stop, rule)``, sorted by terminal
and time, the last run of each terminal ending at the number of snapshots.  Expected values written out.
"""

from __future__ import annotations

import numpy as np

from leonet.policy import Decisions


def _decisions(rule: list[list[int]]) -> Decisions:
    r = np.array(rule, dtype=np.int32)  # (T, N)
    T, N = r.shape
    return Decisions(
        np.array([f"t{i}" for i in range(N)]),
        np.arange(T, dtype=np.float64),
        r < 0,
        r,
        ["rule-a", "rule-b"],
        ["reason a", "reason b"],
        np.zeros((T, N), dtype=np.int16),
        ("",),
    )


def test_reason_of_the_first_rule_and_of_a_served_terminal() -> None:
    d = _decisions([[0, -1], [1, 0]])
    assert d.reason(0, 0) == "reason a" and d.reason(1, 1) == "reason a"
    assert d.reason(1, 0) == "reason b"
    assert d.reason(0, 1) == ""


def test_runs_of_equal_decisions() -> None:
    d = _decisions(
        [
            [-1, 0, 1],
            [-1, 0, 1],
            [0, 0, 1],
            [0, -1, 1],
            [-1, -1, 1],
        ]
    )
    term, first, stop, rule = d.runs()
    got = list(zip(term.tolist(), first.tolist(), stop.tolist(), rule.tolist(), strict=True))
    assert got == [(0, 0, 2, -1), (0, 2, 4, 0), (0, 4, 5, -1), (1, 0, 3, 0), (1, 3, 5, -1), (2, 0, 5, 1)]


def test_runs_of_a_single_snapshot_and_a_single_terminal() -> None:
    term, first, stop, rule = _decisions([[1, -1]]).runs()
    assert list(zip(term.tolist(), first.tolist(), stop.tolist(), rule.tolist(), strict=True)) == [
        (0, 0, 1, 1),
        (1, 0, 1, -1),
    ]
    term, first, stop, rule = _decisions([[0], [0], [1]]).runs()
    assert list(zip(term.tolist(), first.tolist(), stop.tolist(), rule.tolist(), strict=True)) == [
        (0, 0, 2, 0),
        (0, 2, 3, 1),
    ]
