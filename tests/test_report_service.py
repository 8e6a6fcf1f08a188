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
