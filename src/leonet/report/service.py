"""The report's policy views: who is served, where and when, and by which rule they are denied.

Sections (added to the page through ``render_html(..., extra_sections=...)``):

- *Who is served*: the networks side by side (share of terminal-time served, seconds denied and without
  coverage, median RTT) and one row per terminal with the rule that denied it longest and why.
- *Service map*: every terminal's positions over the window (tracks for moving terminals), coloured by its
  status at each snapshot -- served, denied (one colour per rule) or no coverage -- over the country outlines,
  with the policy's geofence polygons drawn in, zoomed to the terminals.
- *Service timeline*: one row per terminal, the window along the x axis, the same colours.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import numpy as np
import shapely
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from numpy.typing import NDArray

from leonet.report import figures
from leonet.report.page import Section, fmt_ms, fmt_pct
from leonet.results import Results

SERVED_COLOR = "#2ca02c"
NO_COVERAGE_COLOR = "#b0b0b0"
RULE_COLORS = ("#d62728", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf", "#1f77b4")
MAX_TIMELINE_ROWS = 40
MAX_MAP_POINTS = 20_000


def _rule_colors(service_rows: Sequence[dict[str, object]]) -> dict[str, str]:
    rules = sorted({str(r["rule_id"]) for r in service_rows if r["status"] == "denied"})
    return {rule: RULE_COLORS[i % len(RULE_COLORS)] for i, rule in enumerate(rules)}


def _color(status: str, rule: str, colors: dict[str, str]) -> str:
    if status == "served":
        return SERVED_COLOR
    if status == "no-coverage":
        return NO_COVERAGE_COLOR
    return colors.get(rule, RULE_COLORS[0])


def _legend(colors: dict[str, str]) -> list[Patch]:
    items = [Patch(color=SERVED_COLOR, label="served"), Patch(color=NO_COVERAGE_COLOR, label="no coverage")]
    items += [Patch(color=c, label=figures.mpl_text(f"denied: {r}")) for r, c in colors.items()]
    return items


def _tables(results: Results) -> str:
    cmp_rows = results.comparison.to_pylist()
    head = "<tr><th>network</th><th>terminals</th><th>served</th><th>denied s</th><th>no coverage s</th>"
    head += "<th>median RTT ms</th></tr>"
    body = "".join(
        f"<tr><td class=name>{escape(str(r['network']))}</td><td class=num>{r['terminals']}</td>"
        f"<td class=num>{fmt_pct(r['served_share'])}</td><td class=num>{r['denied_s']:,.0f}</td>"
        f"<td class=num>{r['no_coverage_s']:,.0f}</td><td class=num>{fmt_ms(r['rtt_median_ms'])}</td></tr>"
        for r in cmp_rows
    )
    out = f"<h3>Networks side by side</h3><table><thead>{head}</thead><tbody>{body}</tbody></table>"
    reasons: dict[tuple[str, str], str] = {}
    for r in results.service.to_pylist():
        if r["status"] == "denied":
            reasons.setdefault((r["network"], r["terminal"]), r["reason"])
    rows = results.terminals.to_pylist()
    head = "<tr><th>network</th><th>terminal</th><th>served s</th><th>denied s</th><th>no coverage s</th>"
    head += "<th>denied longest by</th><th>reason</th></tr>"
    body = "".join(
        f"<tr data-network='{escape(str(r['network']))}' data-terminal='{escape(str(r['terminal']))}'>"
        f"<td class=name>{escape(str(r['network']))}</td><td class=name>{escape(str(r['terminal']))}</td>"
        f"<td class=num>{r['served_s']:,.0f}</td><td class=num>{r['denied_s']:,.0f}</td>"
        f"<td class=num>{r['no_coverage_s']:,.0f}</td><td class=name>{escape(str(r['main_denial_rule'] or ''))}</td>"
        f"<td>{escape(reasons.get((r['network'], r['terminal']), ''))}</td></tr>"
        for r in rows[:200]
    )
    more = f"<p>{len(rows) - 200} more rows in terminals.parquet.</p>" if len(rows) > 200 else ""
    return out + f"<h3>Terminals</h3><table><thead>{head}</thead><tbody>{body}</tbody></table>{more}"


def _status_matrix(results: Results, network: str) -> tuple[NDArray[np.int32], list[str], list[str]]:
    """(T, N) codes per snapshot for the policy's terminals: 0 served, 1 no coverage, 2 + k denied by rule k."""
    prep = results.prepared
    names = [prep.ground.names[i] for i in prep.terminals]
    col = {n: i for i, n in enumerate(names)}
    times = prep.times_s
    codes = np.zeros((len(times), len(names)), dtype=np.int32)
    rules: list[str] = []
    for r in results.service.to_pylist():
        if r["network"] != network:
            continue
        k0, k1 = np.searchsorted(times, [r["start_s"], r["end_s"]], side="left")
        if r["status"] == "served":
            code = 0
        elif r["status"] == "no-coverage":
            code = 1
        else:
            if r["rule_id"] not in rules:
                rules.append(r["rule_id"])
            code = 2 + rules.index(r["rule_id"])
        codes[k0:k1, col[r["terminal"]]] = code
    return codes, names, rules


def map_figure(results: Results, network: str, colors: dict[str, str]) -> Figure:
    prep = results.prepared
    codes, _names, rules = _status_matrix(results, network)
    st = prep.ground.at(prep.times_s)
    lat = st.lat_deg[:, prep.terminals]
    lon = st.lon_deg[:, prep.terminals]
    palette = np.array([SERVED_COLOR, NO_COVERAGE_COLOR] + [colors.get(r, RULE_COLORS[0]) for r in rules])
    flat = np.arange(lat.size)
    if lat.size > MAX_MAP_POINTS:
        flat = np.random.default_rng(0).choice(lat.size, MAX_MAP_POINTS, replace=False)
    pad = 3.0
    x0, x1 = max(-180.0, float(np.nanmin(lon)) - pad), min(180.0, float(np.nanmax(lon)) + pad)
    y0, y1 = max(-90.0, float(np.nanmin(lat)) - pad), min(90.0, float(np.nanmax(lat)) + pad)
    # the figure's height follows the region's shape (equal aspect), so a wide region leaves no blank bands
    height = float(np.clip(8.0 * (y1 - y0) / max(x1 - x0, 1e-6) + 1.3, 3.2, 9.0))
    fig = Figure(figsize=(9.5, height))
    ax = fig.add_subplot()
    for ring in figures.country_outlines():
        ax.plot(ring[:, 0], ring[:, 1], color="#999999", lw=0.5, zorder=1)
    if prep.policy is not None:
        for gid, geom in prep.policy.geometries.items():
            for poly in getattr(geom, "geoms", [geom]):
                if isinstance(poly, shapely.Polygon):
                    x, y = poly.exterior.xy
                    ax.fill(x, y, color="#d62728", alpha=0.12, zorder=2)
                    ax.plot(x, y, color="#d62728", lw=0.8, zorder=2)
            c = shapely.centroid(geom)
            ax.annotate(figures.mpl_text(gid), (c.x, c.y), fontsize=7, color="#a01010", zorder=5)
    for n in range(lat.shape[1]):
        if np.ptp(lat[:, n]) > 0 or np.ptp(lon[:, n]) > 0:
            ax.plot(lon[:, n], lat[:, n], color="#555555", lw=0.6, zorder=3)
    ax.scatter(lon.ravel()[flat], lat.ravel()[flat], c=palette[codes.ravel()[flat]], s=14, zorder=4, lw=0)
    for n, name in enumerate(_names[:30]):
        ax.annotate(figures.mpl_text(name), (lon[-1, n], lat[-1, n]), fontsize=7, xytext=(3, 3),
                    textcoords="offset points", zorder=5)  # fmt: skip
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("longitude (deg)")
    ax.set_ylabel("latitude (deg)")
    ax.set_title(figures.mpl_text(f"{network}: terminals over the window, by status (geofences in red)"))
    handles = [*_legend(colors), Line2D([], [], color="#555555", lw=0.6, label="track")]
    ax.legend(handles=handles, loc="lower left", fontsize=7, framealpha=0.9)
    fig.tight_layout()
    return fig


def timeline_figure(results: Results, network: str, colors: dict[str, str]) -> Figure:
    rows = [r for r in results.service.to_pylist() if r["network"] == network]
    terminals = list(dict.fromkeys(r["terminal"] for r in rows))[:MAX_TIMELINE_ROWS]
    fig = Figure(figsize=(9.5, 0.9 + 0.32 * max(len(terminals), 1)))
    ax = fig.add_subplot()
    for i, term in enumerate(terminals):
        spans = [r for r in rows if r["terminal"] == term]
        ax.broken_barh(
            [(r["start_s"], r["end_s"] - r["start_s"]) for r in spans],
            (i - 0.4, 0.8),
            facecolors=[_color(r["status"], r["rule_id"], colors) for r in spans],
        )
    ax.set_yticks(range(len(terminals)), [figures.mpl_text(t) for t in terminals], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("time after the epoch (s)")
    title = f"{network}: service per terminal"
    if len({r["terminal"] for r in rows}) > len(terminals):
        title += f" (first {len(terminals)} terminals)"
    ax.set_title(figures.mpl_text(title))
    ax.legend(handles=_legend(colors), loc="upper center", bbox_to_anchor=(0.5, -0.18 if len(terminals) > 3 else -0.45),
              ncol=4, fontsize=7)  # fmt: skip
    fig.tight_layout()
    return fig


def _img(fig: Figure, alt: str, caption: str) -> str:
    return (
        f'<figure><img alt="{escape(alt)}" src="data:image/png;base64,{figures.png_base64(fig)}">'
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


def service_sections(results: Results) -> list[Section]:
    """The policy views, or nothing for a scenario without terminals."""
    if results.terminals.num_rows == 0:
        return []
    svc = results.service.to_pylist()
    colors = _rule_colors(svc)
    sections: list[Section] = [("Who is served", _tables(results))]
    nets = [n.spec.name for n in results.prepared.networks]
    under = {n.spec.name: n.spec.policy for n in results.prepared.networks}
    maps = "".join(
        _img(
            map_figure(results, n, colors),
            f"service map {n}",
            f"Terminals of {n} ({'under the policy' if under[n] else 'not under the policy'}) by status at every "
            "snapshot.",
        )
        for n in nets
    )
    sections.append(("Service map", maps))
    lines = "".join(
        _img(timeline_figure(results, n, colors), f"service timeline {n}", f"Service intervals of {n}.") for n in nets
    )
    sections.append(("Service timeline", lines))
    return sections
