"""The HTML report: sections, embedded figures, escaping, numbers taken from the summary, degenerate cases."""

from __future__ import annotations

import base64
import re
from html import escape

import pytest

from leonet.constants import C_KM_S
from leonet.report import choose_pairs, render_html
from leonet.report.data import slot_boundaries, split_antimeridian
from leonet.results import Results, run
from leonet.scenario import parse_scenario

STATIONS = """
[[ground.stations]]
name = "Zürich & <Co>"
lat_deg = 47.37
lon_deg = 8.54
[[ground.stations]]
name = "São-Paulo"
lat_deg = -23.55
lon_deg = -46.63
[[ground.stations]]
name = "Tokyo"
lat_deg = 35.68
lon_deg = 139.69
[[ground.stations]]
name = "North Pole"
lat_deg = 89.0
lon_deg = 0.0
"""

NETWORK = """
[[networks]]
name = "{name}"
constellation = {{ shells = [{{altitude_km = 550, inclination_deg = 53, planes = 12, sats_per_plane = 12}}] }}
isl = "{isl}"
max_ground_link_km = 2500
"""


def tiny(report_pairs: str = '[["Zürich & <Co>", "sao paulo"], ["Tokyo", "North Pole"]]', networks: str = "") -> str:
    nets = networks or NETWORK.format(name="walker-144", isl="plus-grid")
    return f"""
name = "tiny <test> & co"
description = "a 12 x 12 Walker shell & four \\"stations\\""
epoch = 2026-02-23T00:00:00Z
[time]
end_s = 20
step_s = 1
{nets}
[ground]
{STATIONS}
[report]
pairs = {report_pairs}
"""


@pytest.fixture(scope="module")
def results() -> Results:
    return run(parse_scenario(tiny()))


@pytest.fixture(scope="module")
def page(results: Results) -> str:
    return render_html(results)


def images(html: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)]


def pair_row(html: str, network: str, src: str, dst: str) -> list[str]:
    """The cells of the first table row for a pair (attributes are escaped the same way the report does)."""
    attrs = f'data-network="{escape(network)}" data-src="{escape(src)}" data-dst="{escape(dst)}"'
    m = re.search(re.escape(attrs) + r">(.*?)</tr>", html)
    assert m, f"no row for {src} -> {dst}"
    return re.findall(r"<td[^>]*>(.*?)</td>", m.group(1))


def test_page_has_every_section_and_one_png_per_figure(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>")
    for sec in ("overview", "summary", "rtt", "map", "distributions", "handovers"):
        assert f'<section id="{sec}">' in page
        assert f'href="#{sec}"' in page
    for fig in ("fig-rtt", "fig-map", "fig-distributions", "fig-handovers"):
        assert page.count(f'<figure id="{fig}">') == 1
    pngs = images(page)
    assert len(pngs) == 4
    assert all(p.startswith(b"\x89PNG\r\n\x1a\n") and len(p) > 5_000 for p in pngs)
    # self-contained: nothing fetched at view time
    assert "<script" not in page
    assert not re.search(r'(src|href)="(https?:)?//', page)


def test_header_names_scenario_networks_and_conventions(page: str) -> None:
    assert "2026-02-23T00:00:00Z" in page
    assert "walker-144" in page
    assert "144" in page  # satellites
    assert "any satellite within 2,500 km" in page
    assert f"{C_KM_S:,.3f} km/s" in page
    assert "WGS-84" in page
    assert "reconfig" in page and "15 s slot" in page


def test_user_text_is_escaped(page: str) -> None:
    assert "<test>" not in page and "<Co>" not in page
    assert "tiny &lt;test&gt; &amp; co" in page
    assert "Zürich &amp; &lt;Co&gt; → São-Paulo" in page
    assert "&quot;stations&quot;" in page


def test_plotted_pairs_show_the_summary_numbers(results: Results, page: str) -> None:
    choice = choose_pairs(results)
    assert choice.pairs == [("Zürich & <Co>", "São-Paulo"), ("Tokyo", "North Pole")]  # loose match, routed order
    rows = {(r["src_name"], r["dst_name"]): r for r in results.summary.to_pylist()}
    for src, dst in choice.pairs:
        r = rows[(src, dst)]
        cells = pair_row(page, "walker-144", src, dst)

        def ms(key: str, r: dict[str, object] = r) -> str:
            v = r[key]
            return "–" if v is None else f"{v:,.2f}"

        assert cells[2] == f"{r['gc_km']:,.0f}"
        keys = ("gc_rtt_ms", "rtt_min_ms", "rtt_median_ms", "rtt_p95_ms", "rtt_max_ms")
        assert cells[3:8] == [ms(k) for k in keys]
        assert cells[10:13] == [str(r["path_changes"]), str(r["first_sat_changes"]), str(r["last_sat_changes"])]
        assert cells[13] == f"{r['unreachable_snapshots']} / {r['snapshots']}"
    # the reachable pair has real numbers, the pole pair none
    assert pair_row(page, "walker-144", "Zürich & <Co>", "São-Paulo")[5] != "–"
    assert pair_row(page, "walker-144", "Tokyo", "North Pole")[5] == "–"


def test_network_table_matches_network_summary(results: Results, page: str) -> None:
    n = results.networks.to_pylist()[0]
    m = re.search(r'<tr data-network="walker-144">(.*?)</tr>', page)
    assert m
    cells = re.findall(r"<td[^>]*>(.*?)</td>", m.group(1))
    assert cells[4] == f"{n['rtt_median_ms']:,.2f}"
    assert cells[6] == f"{100 * n['reachable_share']:.2f} %"


def test_unreachable_pairs_are_listed_and_render(page: str) -> None:
    assert "had no route in any snapshot" in page
    assert "Tokyo → North Pole" in page


def test_a_pair_never_reachable_can_be_the_mapped_one() -> None:
    r = run(parse_scenario(tiny('[["North Pole", "Tokyo"]]')))
    html = render_html(r, title="pole & <only>")
    assert "<title>pole &amp; &lt;only&gt;</title>" in html
    assert len(images(html)) == 4
    assert pair_row(html, "walker-144", "Tokyo", "North Pole")[13] == "21 / 21"


def test_default_pairs_longest_first_plus_a_short_one() -> None:
    r = run(parse_scenario(tiny("[]")))
    choice = choose_pairs(r)
    gc = {(x["src_name"], x["dst_name"]): x["gc_km"] for x in r.summary.to_pylist()}
    longest = max(gc, key=lambda p: gc[p])
    assert choice.pairs[0] == longest
    assert len(choice.pairs) == 4 and len(set(choice.pairs)) == 4
    assert gc[choice.pairs[-1]] < gc[choice.pairs[0]]
    assert len(images(render_html(r))) == 4


def test_unknown_requested_pair_is_noted_not_fatal(results: Results) -> None:
    html = render_html(results, pairs=[["Tokyo", "Atlantis"], ["São-Paulo", "Tokyo"]])
    assert "Tokyo – Atlantis names no ground node of the scenario" in html
    assert choose_pairs(results, [["Tokyo", "São-Paulo"]]).pairs == [("São-Paulo", "Tokyo")]


def test_requested_pairs_are_read_as_the_loader_reads_them() -> None:
    """A pair named by an alias the loader accepts ("Moscow" for "Moskva-(Moscow)", "New York" for
    "New-York-Newark") is plotted, not dropped as "not among the routed pairs" (issue 6)."""
    text = tiny('[["Moscow", "New York"], ["tokyo", "Moskva (Moscow)"]]').replace(
        "[ground]\n", '[ground]\ncities = ["Moscow", "New York"]\n'
    )
    r = run(parse_scenario(text))
    choice = choose_pairs(r)
    routed = zip(r.summary["src_name"].to_pylist(), r.summary["dst_name"].to_pylist(), strict=True)
    assert set(choice.pairs) <= set(routed)
    assert {frozenset(p) for p in choice.pairs} == {
        frozenset(("Moskva-(Moscow)", "New-York-Newark")),
        frozenset(("Tokyo", "Moskva-(Moscow)")),
    }
    html = render_html(r)
    assert "not among the routed pairs" not in html and "names no ground node" not in html
    assert pair_row(html, "walker-144", *choice.pairs[0])


def test_two_networks_are_compared() -> None:
    nets = NETWORK.format(name="grid", isl="plus-grid") + NETWORK.format(name="bent-pipe", isl="none")
    r = run(parse_scenario(tiny(networks=nets)))
    html = render_html(r)
    for net in ("grid", "bent-pipe"):
        assert pair_row(html, net, "Zürich & <Co>", "São-Paulo")
        assert f'<tr data-network="{net}">' in html
        assert f'alt="World map of {net}: satellites' in html  # a map of every network, not the first only
    assert len(images(html)) == 5


def test_extra_sections_are_appended_with_escaped_titles(results: Results) -> None:
    html = render_html(results, extra_sections=[("Policy <served> & denied", "<p id='x'>body</p>")])
    assert "<section id=\"extra-1\"><h2>Policy &lt;served&gt; &amp; denied</h2><p id='x'>body</p></section>" in html
    assert 'href="#extra-1"' in html
    assert html.index('id="handovers"') < html.index('id="extra-1"')


def test_slot_boundaries_are_multiples_of_the_interval(results: Results) -> None:
    assert slot_boundaries(results).tolist() == [15.0]


def test_split_antimeridian() -> None:
    pieces = split_antimeridian([170.0, -170.0, -160.0], [0.0, 10.0, 10.0])
    assert pieces == [([170.0, 180.0], [0.0, 5.0]), ([-180.0, -170.0, -160.0], [5.0, 10.0, 10.0])]
    back = split_antimeridian([-175.0, 175.0], [0.0, -10.0])
    assert back == [([-175.0, -180.0], [0.0, -5.0]), ([180.0, 175.0], [-5.0, -10.0])]
    assert split_antimeridian([0.0, 10.0], [0.0, 1.0]) == [([0.0, 10.0], [0.0, 1.0])]
    assert split_antimeridian([], []) == []
