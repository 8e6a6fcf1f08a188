"""`Scenario.with_time`: the README's way to shorten a scenario keeps the fields it is not given and validates the
new window (``model_copy(update={"time": TimeSpec(end_s=60)})`` silently reset ``step_s`` to 1 s)."""

from __future__ import annotations

import pytest

import leonet
from leonet.errors import InputError


def test_with_time_keeps_the_other_fields() -> None:
    sc = leonet.load_scenario("national-constellation")  # step_s = 10
    short = sc.with_time(end_s=60)
    assert (short.time.start_s, short.time.end_s, short.time.step_s) == (0.0, 60.0, 10.0)
    assert short.networks == sc.networks and short.policy == sc.policy and sc.time.end_s == 1800
    # the idiom it replaces does not keep them (why the README no longer shows it)
    assert sc.model_copy(update={"time": leonet.TimeSpec(end_s=60)}).time.step_s == 1.0


def test_with_time_validates() -> None:
    sc = leonet.load_scenario("default")
    with pytest.raises(InputError, match=r"time\.end_s: expected greater than or equal to 0 \(got -1\)"):
        sc.with_time(end_s=-1)
    with pytest.raises(InputError, match="before start_s"):
        sc.with_time(start_s=100, end_s=50)
    with pytest.raises(InputError, match="step_s"):
        sc.with_time(step_s=0)
