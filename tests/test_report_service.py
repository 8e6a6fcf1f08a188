"""The report's policy views (leonet.report.service): sections, figures, and numbers from the results."""

from __future__ import annotations

import re

import leonet
from leonet.report import render_html
from leonet.report.service import service_sections


def test_policy_sections_show_rules_and_terminals() -> None:
    sc = leonet.load_scenario("front-whitelist-2026")
    res = leonet.run(sc.model_copy(update={"time": sc.time.model_copy(update={"end_s": 30})}))
    sections = service_sections(res)
    assert [t for t, _ in sections] == ["Who is served", "Service map", "Service timeline"]
    html = render_html(res, extra_sections=sections)
    assert html.count("data:image/png;base64,") >= 4 + 2  # the report's own figures + map + timeline
    for term in res.terminals.to_pylist():
        row = re.search(rf"<tr data-network='starlink-550' data-terminal='{term['terminal']}'>(.*?)</tr>", html)
        assert row, term["terminal"]
        assert f"{term['denied_s']:,.0f}" in row.group(1)
        if term["denied_s"]:
            assert term["main_denial_rule"] in row.group(1)
    assert "ua-whitelist-2026" in html and "suspended" in html


def test_no_terminals_no_policy_sections() -> None:
    sc = leonet.load_scenario("default")
    res = leonet.run(sc.model_copy(update={"time": sc.time.model_copy(update={"end_s": 2})}))
    assert service_sections(res) == []


def test_the_service_map_draws_the_jamming_zones_active_in_the_window() -> None:
    """front-jamming-2026: its band drawn once (two faults share the polygon: hatched, the scenario's vertices),
    the key naming both faults with their capacity and window; cut to 100 s, the total jamming (from 120 s) is
    outside the window and left out; the whitelist scenario (no faults) draws no zone."""
    import numpy as np
    from matplotlib.patches import Polygon

    from leonet.report.service import map_figure

    def zones(name: str, end_s: float) -> tuple[list[Polygon], list[str]]:
        sc = leonet.load_scenario(name)
        res = leonet.run(sc.model_copy(update={"time": sc.time.model_copy(update={"end_s": end_s})}))
        ax = map_figure(res, "starlink-550", {}).axes[0]
        hatched = [p for p in ax.patches if isinstance(p, Polygon) and p.get_hatch()]
        legend = ax.get_legend()
        return hatched, [t.get_text() for t in legend.get_texts()] if legend is not None else []

    sc = leonet.load_scenario("front-jamming-2026")
    band = np.array(next(f for f in sc.faults if f.name == "front-ew").polygon)  # type: ignore[union-attr]
    hatched, labels = zones("front-jamming-2026", 600)
    assert len(hatched) == 1
    xy = hatched[0].get_xy()
    assert {tuple(p) for p in np.round(xy, 6)} == {tuple(p) for p in np.round(band, 6)}
    key = next(t for t in labels if t.startswith("jamming"))
    assert "front-ew-degraded 0.3 (0-120 s)" in key and "front-ew 0 (120-480 s)" in key
    _, short = zones("front-jamming-2026", 100)
    key = next(t for t in short if t.startswith("jamming"))
    assert "front-ew-degraded 0.3 (0-100 s)" in key and "front-ew 0" not in key
    none, plain = zones("front-whitelist-2026", 20)
    assert none == [] and plain and not any(t.startswith("jamming") for t in plain)
