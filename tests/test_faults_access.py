"""Faults and the access path compose (issues 9 and 10): while a satellite has failed it serves no terminal; a
gateway or PoP of ``[access]`` that a ground fault takes down carries no access path (a terminal homed to a PoP
that is down is not served); jammed terminals have no access path.  Each case first checks, on the run without
the fault, that the faulted item is really used, so that the test fails if the fault is ignored."""

from __future__ import annotations

from collections import Counter

import pyarrow as pa
import pytest

from leonet.errors import InputError
from leonet.results import run
from leonet.scenario import parse_scenario

TEXT = """
epoch = 2026-02-23T00:00:00Z
pairs = "none"
[time]
end_s = 120
step_s = 15
[[networks]]
name = "n"
constellation = { preset = "starlink-550" }
[ground]
cities = ["New York", "Chicago", "Houston", "London", "Paris", "Madrid", "Berlin", "Warsaw"]
cities_kind = "terminal"
[access]
"""


def _rows(extra: str = "") -> list[dict[str, object]]:
    res = run(parse_scenario(TEXT + extra, "s.toml"), workers=1)
    table: pa.Table = res.access_table()
    return table.to_pylist()


@pytest.fixture(scope="module")
def base() -> list[dict[str, object]]:
    return _rows()


def test_a_failed_satellite_serves_no_terminal_while_failed(base: list[dict[str, object]]) -> None:
    used = sorted({int(r["serving_sat"]) for r in base if r["serving_sat"] is not None})  # type: ignore[call-overload]
    assert used
    ids = ", ".join(map(str, used))
    got = _rows(f'[[faults]]\nkind = "satellite"\nids = [{ids}]\nstart_s = 30\nend_s = 90\n')
    during = [r for r in got if 30 <= float(r["t_s"]) < 90]  # type: ignore[arg-type]
    assert during and all(r["serving_sat"] not in used for r in during)
    assert any(r["serving_sat"] is not None for r in during), "other satellites take over"
    before = [r for r in got if float(r["t_s"]) < 30]  # type: ignore[arg-type]
    assert before == [r for r in base if float(r["t_s"]) < 30]  # type: ignore[arg-type]


def test_a_gateway_that_is_down_carries_no_access_path(base: list[dict[str, object]]) -> None:
    busiest, n = Counter(r["gateway"] for r in base if r["gateway"] is not None).most_common(1)[0]
    assert n > 0
    got = _rows(f'[[faults]]\nkind = "ground"\nnames = ["{busiest}"]\n')
    assert all(r["gateway"] != busiest for r in got)
    assert sum(r["gateway"] is not None for r in got) > 0.5 * len(got), "other gateways take over"


def test_a_pop_that_is_down_serves_nobody(base: list[dict[str, object]]) -> None:
    busiest, _ = Counter(r["pop"] for r in base if r["pop"] is not None).most_common(1)[0]
    homed = {r["terminal"] for r in base if r["pop"] == busiest}
    got = _rows(f'[[faults]]\nkind = "ground"\nnames = ["{busiest}"]\nstart_s = 45\n')
    late = [r for r in got if float(r["t_s"]) >= 45]  # type: ignore[arg-type]
    assert all(r["pop"] != busiest for r in late)
    assert all(r["one_way_ms"] is None for r in late if r["terminal"] in homed), "not re-homed: unserved"
    assert any(r["pop"] == busiest for r in got if float(r["t_s"]) < 45)  # type: ignore[arg-type]


def test_a_jammed_terminal_has_no_access_path(base: list[dict[str, object]]) -> None:
    assert any(r["terminal"] == "Paris" and r["one_way_ms"] is not None for r in base)
    ring = "[[2.0, 48.6], [2.7, 48.6], [2.7, 49.1], [2.0, 49.1], [2.0, 48.6]]"  # around Paris
    got = _rows(f'[[faults]]\nkind = "jamming"\npolygon = {ring}\ncapacity_fraction = 0.0\n')
    assert all(r["one_way_ms"] is None for r in got if r["terminal"] == "Paris")
    assert any(r["one_way_ms"] is not None for r in got if r["terminal"] == "London")


def test_an_unknown_site_name_is_one_line_naming_the_field() -> None:
    with pytest.raises(InputError) as ei:
        run(parse_scenario(TEXT + '[[faults]]\nkind = "ground"\nnames = ["Atlantis"]\n', "s.toml"), workers=1)
    msg = str(ei.value)
    assert "\n" not in msg and "faults[0].names[0]" in msg and "gateway or PoP of [access]" in msg, msg
