"""The HTML report: one self-contained page (inline CSS, figures as base64 PNG; no scripts, nothing fetched at
view time) built from a :class:`~leonet.results.Results`.  Pure: returns a string, writes no file.

Sections: overview (scenario, networks, routing, conventions), summary tables (networks; plotted pairs; the
pairs of highest and lowest median RTT), RTT over time (every network), a world map per network, RTT stretch /
median-RTT distributions, handovers, then any ``extra_sections`` the caller passes (the extension point for
later views, e.g. policy).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from matplotlib.figure import Figure
from numpy.typing import NDArray

import leonet
from leonet import metrics
from leonet.constants import C_KM_S
from leonet.report import figures
from leonet.report.data import Pair, PairChoice, choose_pairs, pair_series, path_at, slot_boundaries
from leonet.results import Results
from leonet.scenario import ConstellationSpec, NetworkSpec

#: Pairs listed in each of the "highest" and "lowest median RTT" tables, per network.
TOP_N = 5
#: Quantiles of the every-pair-snapshot stretch CDF (0.25% steps), read from one histogram pass over the routes
#: (``metrics.network_quantiles_approx``: within 0.05% of the exact ones); the exact streamed selection cost two
#: order statistics per point and network, and made the default run 3x slower at this many points.
CDF_POINTS = 401

Section = tuple[str, str]
"""An extra section: ``(title, html)``; the title is escaped, the html is inserted as given (the caller escapes)."""

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1d1d1f;
 max-width:1200px;margin:2rem auto;padding:0 1.2rem;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:1px solid #ddd;
 padding-bottom:.2rem}h3{font-size:1.02rem;margin-top:1.4rem}
.sub{color:#555;margin-top:0}nav{font-size:.9rem;margin:.8rem 0 1.2rem}nav a{margin-right:.9rem}
table{border-collapse:collapse;font-size:.8rem;margin:.5rem 0 1rem}th,td{padding:.2rem .42rem;
 border-bottom:1px solid #e5e5e5;text-align:left;vertical-align:top}th{background:#f4f5f7;font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}td.name,.nw{white-space:nowrap}
table{display:block;max-width:100%;overflow-x:auto}
tbody tr:nth-child(even){background:#fafbfc}table.kv th{background:none;width:14rem}
figure{margin:1rem 0 1.6rem}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.86rem;color:#444;margin-top:.35rem}.note{font-size:.86rem;color:#7a4b00}
ul.conv{font-size:.88rem}code{font-size:.85em;background:#f4f5f7;padding:0 .2em;border-radius:3px}
"""


# ----------------------------------------------------------------------------------------------- formatting


def _num(x: Any, digits: int = 2) -> str:
    """A number for a table cell: ``digits`` decimals, thousands separated; ``-`` for a missing value."""
    if x is None:
        return "–"
    if isinstance(x, bool | np.bool_):
        return "yes" if x else "no"
    if isinstance(x, int | np.integer):
        return f"{int(x):,}"
    v = float(x)
    if not math.isfinite(v):
        return "–" if math.isnan(v) else ("∞" if v > 0 else "−∞")
    return f"{v:,.{digits}f}"


def fmt_ms(x: Any) -> str:
    """Milliseconds: 2 decimals."""
    return _num(x, 2)


def fmt_km(x: Any) -> str:
    """Kilometres: whole, thousands separated."""
    return _num(x, 0)


def fmt_ratio(x: Any) -> str:
    """A ratio (stretch): 3 decimals."""
    return _num(x, 3)


def fmt_pct(x: Any) -> str:
    """A share as a percentage, 2 decimals."""
    return "–" if x is None or not math.isfinite(float(x)) else f"{100.0 * float(x):.2f} %"


def _cell(text: str, num: bool = False, name: bool = False) -> str:
    """A table cell of html ``text``: a number (right-aligned), a name (never broken), or prose."""
    if num:
        return f'<td class="num">{text}</td>'
    return f'<td class="name">{text}</td>' if name else f"<td>{text}</td>"


def _pair_html(src: str, dst: str) -> str:
    """``src → dst`` that may break at the arrow but never inside a name."""
    return f'<span class="nw">{escape(src)}</span> → <span class="nw">{escape(dst)}</span>'


def _table(head: Sequence[tuple[str, bool]], rows: Sequence[str], cls: str = "") -> str:
    th = "".join(f'<th class="num">{escape(h)}</th>' if n else f"<th>{escape(h)}</th>" for h, n in head)
    c = f' class="{cls}"' if cls else ""
    return f"<table{c}><thead><tr>{th}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _kv(rows: Sequence[tuple[str, str]]) -> str:
    """A key / value table; values are html (escape before)."""
    body = "".join(f"<tr><th>{escape(k)}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<table class="kv"><tbody>{body}</tbody></table>'


def _figure(fig: Figure, alt: str, caption: str, fig_id: str) -> str:
    data = figures.png_base64(fig)
    return (
        f'<figure id="{fig_id}"><img alt="{escape(alt)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{caption}</figcaption></figure>"
    )


# ----------------------------------------------------------------------------------------------- overview


def _source(c: ConstellationSpec) -> str:
    if c.preset is not None:
        return f"preset <code>{escape(c.preset)}</code>"
    if c.shells is not None:
        parts = [
            f"{s.altitude_km:g} km, {s.inclination_deg:g}°, {s.planes} × {s.sats_per_plane} "
            f"(Walker {escape(s.pattern)}, F = {s.phasing})"
            for s in c.shells
        ]
        return "Walker shells: " + "; ".join(parts)
    kind, name = ("TLE", c.tle) if c.tle is not None else ("OMM", c.omm)
    grid = f", grid {c.grid[0]} × {c.grid[1]}" if c.grid is not None else ""
    return f"{kind} file <code>{escape(str(name))}</code>{grid}"


def _ground_rule(n: NetworkSpec) -> str:
    if n.max_ground_link_km is not None:
        return f"any satellite within {n.max_ground_link_km:,g} km"
    return f"elevation ≥ {n.min_elevation_deg:g}° (unless a node sets its own)"


def _isl_rule(n: NetworkSpec) -> str:
    if n.isl == "none":
        return "none (bent pipe: ground → satellite → ground)"
    cap = f", at most {n.max_isl_km:,g} km" if n.max_isl_km is not None else ""
    return f"+Grid lasers{cap}"


def _overview(results: Results, choice: PairChoice) -> str:
    sc = results.scenario
    prep = results.prepared
    g = prep.ground
    times = prep.times_s
    kinds = {k: g.kind.count(k) for k in ("station", "terminal", "gateway") if g.kind.count(k)}
    ground = ", ".join(f"{v:,} {k}{'s' if v != 1 else ''}" for k, v in kinds.items())
    pairs_mode = sc.pairs if isinstance(sc.pairs, str) else "listed in the scenario"
    if sc.routing.mode == "reconfig":
        routing = (
            f"reconfig: a pair keeps its path for the {sc.routing.reconfiguration_interval_s:g} s slot "
            "(slots counted from the epoch), re-routed early only if a link of it disappears"
        )
    else:
        routing = "ideal: shortest path recomputed at every snapshot"
    rows = [
        ("Scenario", escape(sc.name)),
        ("Description", escape(sc.description) or "–"),
        ("Epoch (UTC)", escape(sc.epoch.isoformat().replace("+00:00", "Z"))),
        (
            "Window",
            f"{sc.time.start_s:g} s to {sc.time.end_s:g} s after the epoch, every {sc.time.step_s:g} s "
            f"({len(times):,} snapshots)",
        ),
        ("Ground nodes", f"{g.size:,} ({escape(ground)})"),
        ("Pairs routed", f"{len(prep.src):,} ({escape(pairs_mode)})"),
        ("Routing", escape(routing)),
        ("Plotted pairs", escape(choice.chosen_by)),
    ]
    net_rows = []
    for net in prep.networks:
        s = net.spec
        src = "<br>".join(_source(c) for c in s.constellation)
        speeds = f"ISL {s.isl_speed_fraction:g} c, ground {s.ground_link_speed_fraction:g} c"
        net_rows.append(
            "<tr>" + _cell(escape(s.name), name=True) + _cell(f"{net.n_sats:,}", True) + _cell(src)
            + _cell(escape(_isl_rule(s))) + _cell(escape(_ground_rule(s))) + _cell(escape(speeds)) + "</tr>"
        )  # fmt: skip
    nets = _table(
        [("Network", False), ("Satellites", True), ("Constellation", False), ("ISLs", False),
         ("Ground links", False), ("Link speed", False)],
        net_rows,
    )  # fmt: skip
    conv = [
        f"Speed of light in vacuum c = {C_KM_S:,.3f} km/s; each link carries signals at its network's fraction of c.",
        "RTT = 2 × the one-way propagation delay along the route (no queueing, processing or serialisation).",
        "Great-circle bound = 2 × (WGS-84 geodesic distance between the pair) / c; stretch = RTT / that bound.",
        "Satellites: SGP4 (WGS-72 constants) in TEME, rotated to Earth-fixed by GMST (IAU 1982); "
        f"UT1 − UTC = {sc.dut1_s:g} s; no polar motion.",
        "Ground nodes and map coordinates: WGS-84 geodetic latitude / longitude; the map is equirectangular.",
        "Times are seconds after the epoch; medians and p95 interpolate linearly between snapshots' values.",
    ]
    return (
        '<section id="overview"><h2>Overview</h2>' + _kv(rows) + "<h3>Networks</h3>" + nets
        + "<h3>Conventions</h3><ul class=\"conv\">" + "".join(f"<li>{escape(c)}</li>" for c in conv) + "</ul>"
        + "".join(f'<p class="note">{escape(n)}</p>' for n in choice.notes) + "</section>"
    )  # fmt: skip


# ----------------------------------------------------------------------------------------------- tables

_PAIR_HEAD = [
    ("Network", False), ("Pair", False), ("Great circle km", True), ("Bound ms", True), ("RTT min ms", True),
    ("RTT median ms", True), ("RTT p95 ms", True), ("RTT max ms", True), ("Stretch median", True),
    ("Hops mean", True), ("Path changes", True), ("First-sat changes", True), ("Last-sat changes", True),
    ("Unreachable snapshots", True),
]  # fmt: skip


def _pair_row(r: dict[str, Any]) -> str:
    pair = _pair_html(str(r["src_name"]), str(r["dst_name"]))
    attrs = (
        f' data-network="{escape(str(r["network"]))}" data-src="{escape(str(r["src_name"]))}"'
        f' data-dst="{escape(str(r["dst_name"]))}"'
    )
    cells = [
        _cell(escape(str(r["network"])), name=True), _cell(pair), _cell(fmt_km(r["gc_km"]), True),
        _cell(fmt_ms(r["gc_rtt_ms"]), True), _cell(fmt_ms(r["rtt_min_ms"]), True),
        _cell(fmt_ms(r["rtt_median_ms"]), True), _cell(fmt_ms(r["rtt_p95_ms"]), True),
        _cell(fmt_ms(r["rtt_max_ms"]), True), _cell(fmt_ratio(r["stretch_median"]), True),
        _cell(_num(r["hops_mean"], 1), True), _cell(_num(r["path_changes"]), True),
        _cell(_num(r["first_sat_changes"]), True), _cell(_num(r["last_sat_changes"]), True),
        _cell(f"{_num(r['unreachable_snapshots'])} / {_num(r['snapshots'])}", True),
    ]  # fmt: skip
    return f"<tr{attrs}>{''.join(cells)}</tr>"


def _summary(results: Results, pairs: Sequence[Pair], networks: Sequence[str]) -> str:
    sats = {n.spec.name: n.n_sats for n in results.prepared.networks}
    net_rows = []
    for r in results.networks.to_pylist():
        cells = [
            _cell(escape(str(r["network"])), name=True), _cell(_num(sats.get(str(r["network"]))), True),
            _cell(_num(r["pairs"]), True), _cell(_num(r["snapshots"]), True), _cell(fmt_ms(r["rtt_median_ms"]), True),
            _cell(fmt_ms(r["rtt_p95_ms"]), True), _cell(fmt_pct(r["reachable_share"]), True),
            _cell(fmt_ratio(r["stretch_median"]), True), _cell(_num(r["path_changes"]), True),
        ]  # fmt: skip
        net_rows.append(f'<tr data-network="{escape(str(r["network"]))}">{"".join(cells)}</tr>')
    nets = _table(
        [("Network", False), ("Satellites", True), ("Pairs", True), ("Snapshots", True), ("RTT median ms", True),
         ("RTT p95 ms", True), ("Reachable pair-snapshots", True), ("Stretch median", True),
         ("Path changes", True)],
        net_rows,
    )  # fmt: skip
    rows = results.summary.to_pylist()
    by_key = {(str(r["network"]), (str(r["src_name"]), str(r["dst_name"]))): r for r in rows}
    plotted = [_pair_row(by_key[(n, p)]) for p in pairs for n in networks if (n, p) in by_key]
    out = ['<section id="summary"><h2>Summary</h2><h3>Networks</h3>', nets]
    out.append("<p>Medians and p95 over every pair and snapshot with a route; path changes summed over pairs.</p>")
    out.append('<h3 id="plotted-pairs">Plotted pairs</h3>')
    out.append(_table(_PAIR_HEAD, plotted, "pairs plotted") if plotted else "<p>No pairs to plot.</p>")
    for net in networks:
        mine = [r for r in rows if str(r["network"]) == net]
        ok = sorted((r for r in mine if r["rtt_median_ms"] is not None), key=lambda r: -float(r["rtt_median_ms"]))
        never = [r for r in mine if r["rtt_median_ms"] is None]
        label = f" ({escape(net)})" if len(networks) > 1 else ""
        if len(ok) > 2 * TOP_N:
            out.append(f"<h3>Highest median RTT{label}</h3>" + _table(_PAIR_HEAD, [_pair_row(r) for r in ok[:TOP_N]]))
            low = [_pair_row(r) for r in reversed(ok[-TOP_N:])]
            out.append(f"<h3>Lowest median RTT{label}</h3>" + _table(_PAIR_HEAD, low))
        elif ok:
            out.append(f"<h3>All pairs by median RTT{label}</h3>" + _table(_PAIR_HEAD, [_pair_row(r) for r in ok]))
        if never:
            names = ", ".join(f"{escape(str(r['src_name']))} → {escape(str(r['dst_name']))}" for r in never[:20])
            more = f" and {len(never) - 20:,} more" if len(never) > 20 else ""
            head = f"{len(never):,} pair(s){label} had no route in any snapshot"
            out.append(f'<p class="note">{head}: {names}{more}.</p>')
    out.append("</section>")
    return "".join(out)


# ----------------------------------------------------------------------------------------------- figures


def _stretch_cdfs(results: Results) -> dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]]:
    """Per network, ``CDF_POINTS`` quantiles of the stretch of every reachable pair-snapshot, from one bounded
    histogram pass over the routes (``metrics.network_quantiles_approx``: within 0.05% of the exact quantiles for
    stretches in [1e-3, 1e6]; the ends exact)."""
    q = np.linspace(0.0, 1.0, CDF_POINTS)
    return {net: (v, q) for net, v in metrics.network_quantiles_approx(results.routes, "stretch", q).items()}


def _col(t: pa.Table, name: str) -> NDArray[np.float64]:
    return np.asarray([math.nan if v is None else float(v) for v in t.column(name).to_pylist()], dtype=np.float64)


def _figures(results: Results, pairs: Sequence[Pair], networks: Sequence[str]) -> str:
    sc = results.scenario
    prep = results.prepared
    summ = results.summary
    rows = summ.to_pylist()
    gc_rtt = {(str(r["src_name"]), str(r["dst_name"])): float(r["gc_rtt_ms"]) for r in rows}
    gc_km = {(str(r["src_name"]), str(r["dst_name"])): float(r["gc_km"]) for r in rows}
    slots = slot_boundaries(results)
    out = []

    # RTT over time
    series = pair_series(results, pairs)
    fig = figures.rtt_figure(pairs, networks, series, gc_rtt, gc_km, slots, (sc.time.start_s, sc.time.end_s))
    slot_txt = (
        f" Faint vertical lines: boundaries of the {sc.routing.reconfiguration_interval_s:g} s reconfiguration slots."
        if 0 < len(slots) <= 120 else ""
    )  # fmt: skip
    out.append('<section id="rtt"><h2>RTT over time</h2>')
    out.append(_figure(fig, "RTT over time of the plotted pairs", escape(
        "Round-trip time of each plotted pair at every snapshot (solid, one colour per network) against the pair's "
        "great-circle bound 2d/c (dashed). Open dots: snapshots where the route changed; shaded: no route."
        + slot_txt), "fig-rtt"))  # fmt: skip
    out.append("</section>")

    # world map: one per network
    t0 = float(prep.times_s[0])
    out.append('<section id="map"><h2>World map</h2>')
    for k, net in enumerate(prep.networks):
        name = net.spec.name
        pos = results.positions(t0, name)
        lat = pos.column("lat_deg").to_numpy()
        lon = pos.column("lon_deg").to_numpy()
        S = net.n_sats
        path = path_at(results, name, pairs[0], t0, lat, lon) if pairs else None
        fig = figures.map_figure(name, t0, lat[:S], lon[:S], lat[S:], lon[S:], prep.ground.kind, path,
                                 prep.ground.names)  # fmt: skip
        if not pairs:
            what = "(no pair plotted)"
        elif path is not None and path.node_ids:
            what = (f"and the route of {pairs[0][0]} → {pairs[0][1]} then (red, through its satellites), with the "
                    "pair's great circle (dotted)")  # fmt: skip
        else:
            what = f"({pairs[0][0]} → {pairs[0][1]} has no route in {name} then; its great circle dotted)"
        out.append(_figure(fig, f"World map of {name}: satellites, ground nodes and one route", escape(
            f"Every satellite of {name} at t = {t0:g} s (dots), the ground nodes (triangles; gateways diamonds, "
            f"terminals squares) {what}. Equirectangular longitude / latitude, Natural Earth 110m country "
            "outlines."), "fig-map" if k == 0 else f"fig-map-{k + 1}"))  # fmt: skip
    out.append("</section>")

    # distributions
    by_net = {n: summ.filter(pc.equal(summ.column("network"), n)) for n in networks}
    fig = figures.distribution_figure(
        networks,
        {n: _col(t, "stretch_median") for n, t in by_net.items()},
        _stretch_cdfs(results),
        {n: _col(t, "rtt_median_ms") for n, t in by_net.items()},
        _col(by_net[networks[0]], "gc_rtt_ms"),
    )
    out.append('<section id="distributions"><h2>RTT stretch and median RTT over all pairs</h2>')
    out.append(_figure(fig, "CDF of RTT stretch and histogram of median RTT", escape(
        "Left: share of pairs whose RTT stretch (RTT / great-circle bound) is at most x; solid: each pair's median "
        "stretch, dotted: every pair at every snapshot with a route (quantiles read from a histogram of 0.1%-wide "
        "bins, within 0.05% of the exact ones; the summaries' medians are exact). Right: histogram of each pair's "
        "median RTT "
        "per network; grey: the pairs' great-circle bounds."), "fig-distributions"))  # fmt: skip
    out.append("</section>")

    # handovers
    changes = {
        (str(r["network"]), (str(r["src_name"]), str(r["dst_name"]))): (
            int(r["path_changes"]), int(r["first_sat_changes"]), int(r["last_sat_changes"]))
        for r in rows
    }  # fmt: skip
    window = sc.time.end_s - sc.time.start_s
    fig = figures.handover_figure(
        networks, pairs, changes, {n: _col(t, "path_changes") for n, t in by_net.items()}, window
    )
    out.append('<section id="handovers"><h2>Path changes (handovers)</h2>')
    out.append(_figure(fig, "Path changes per pair", escape(
        "Left: how often the route of each plotted pair changed between consecutive snapshots, and how often its "
        "first (uplink) and last (downlink) satellite changed. Right: histogram of path changes per pair over all "
        "pairs."), "fig-handovers"))  # fmt: skip
    out.append("</section>")
    return "".join(out)


# ----------------------------------------------------------------------------------------------- page


def _slug(i: int) -> str:
    return f"extra-{i + 1}"


def render_html(
    results: Results,
    title: str | None = None,
    *,
    pairs: Sequence[Sequence[str]] | None = None,
    extra_sections: Sequence[Section] = (),
) -> str:
    """The report of ``results`` as one self-contained HTML page.

    ``pairs``: ``[src, dst]`` names to plot instead of the scenario's ``report.pairs``.  ``extra_sections``:
    ``(title, html)`` pairs appended after the built-in sections (and listed in the contents); the title is
    escaped here, the html is inserted as given, so the caller escapes its text.
    """
    sc = results.scenario
    choice = choose_pairs(results, pairs)
    networks = [n.spec.name for n in results.prepared.networks]
    page_title = title if title is not None else f"leonet report: {sc.name}"
    toc = [("overview", "Overview"), ("summary", "Summary"), ("rtt", "RTT over time"), ("map", "World map"),
           ("distributions", "Distributions"), ("handovers", "Handovers")]  # fmt: skip
    toc += [(_slug(i), t) for i, (t, _) in enumerate(extra_sections)]
    nav = "".join(f'<a href="#{a}">{escape(t)}</a>' for a, t in toc)
    extra = "".join(
        f'<section id="{_slug(i)}"><h2>{escape(t)}</h2>{body}</section>' for i, (t, body) in enumerate(extra_sections)
    )
    head = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="leonet {escape(_version())}">'
        f"<title>{escape(page_title)}</title><style>{_CSS}</style></head><body>"
    )
    sub = escape(sc.description) if sc.description else escape(sc.name)
    return (
        head + f"<header><h1>{escape(page_title)}</h1><p class=\"sub\">{sub}</p><nav>{nav}</nav></header><main>"
        + _overview(results, choice) + _summary(results, choice.pairs, networks)
        + _figures(results, choice.pairs, networks) + extra
        + f'</main><footer><p class="sub">Made by leonet {escape(_version())}.</p></footer></body></html>\n'
    )  # fmt: skip


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("leonet")
    except Exception:
        return getattr(leonet, "__version__", "dev")
