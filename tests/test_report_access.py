"""The report's "Access to PoPs" section: present with ``[access]`` only, its numbers those of the access rows
(recomputed here with NumPy), its CDF the quantiles of the served RTTs."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from leonet.report import render_html
from leonet.report.access import access_sections, rtt_cdf_figure
from leonet.results import run
from leonet.scenario import parse_scenario

TEXT = """
epoch = 2026-02-23T00:00:00Z
pairs = "none"
[time]
end_s = 60
step_s = 15
[[networks]]
name = "n"
constellation = { preset = "starlink-550" }
[ground]
cities = ["New York", "Chicago", "London", "Paris"]
cities_kind = "terminal"
"""


def test_no_section_without_access() -> None:
    assert access_sections(run(parse_scenario(TEXT, "s.toml"), workers=1)) == []


def test_section_numbers_are_the_access_rows() -> None:
    res = run(parse_scenario(TEXT + "[access]\n", "s.toml"), workers=1)
    [(title, html)] = access_sections(res)
    assert title == "Access to PoPs"
    rows = res.access_table().to_pylist()
    rtt = np.array([r["rtt_ms"] for r in rows if r["rtt_ms"] is not None])
    assert f"{np.percentile(rtt, 50):.2f}" in html and f"{np.percentile(rtt, 95):.2f}" in html
    per_pop = Counter(r["pop"] for r in rows if r["rtt_ms"] is not None)
    for pop, n in per_pop.items():
        assert f"<td class=name>{pop}</td>" in html and f"<td class=num>{n:,}</td>" in html
    page = render_html(res, extra_sections=access_sections(res))
    assert "Access to PoPs" in page and page.count("data:image/png;base64,") >= 2


@pytest.mark.parametrize("curves", [{}, {"a": list(np.linspace(10, 30, 101))}])
def test_cdf_figure_draws(curves: dict[str, list[float]]) -> None:
    fig = rtt_cdf_figure(curves)
    ax = fig.axes[0]
    assert ax.get_xlabel().startswith("terminal -> PoP RTT")
    assert len(ax.lines) == len(curves)
