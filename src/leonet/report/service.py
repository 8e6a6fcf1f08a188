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

import dataclasses
from collections.abc import Sequence
from html import escape
from typing import NamedTuple

import numpy as np
import pyarrow.compute as pc
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
JAMMING_COLOR = "#b35806"
RULE_COLORS = ("#d62728", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf", "#1f77b4")
MAX_TIMELINE_ROWS = 40
MAX_MAP_POINTS = 20_000


def _rule_colors(service_rows: Sequence[dict[str, object]]) -> dict[str, str]:
    """A colour per denying rule and per jamming fault (the ``rule_id`` of a jammed run: the fault's name)."""
    rules = sorted({str(r["rule_id"]) for r in service_rows if r["status"] in ("denied", "jammed")})
    return {rule: RULE_COLORS[i % len(RULE_COLORS)] for i, rule in enumerate(rules)}


def _color(status: str, rule: str, colors: dict[str, str]) -> str:
    if status == "served":
        return SERVED_COLOR
    if status == "no-coverage":
        return NO_COVERAGE_COLOR
    return colors.get(rule, RULE_COLORS[0])


def _legend(colors: dict[str, str], results: Results) -> list[Patch]:
    """The legend; a rule id that is a fault's name is labelled "jammed: NAME"."""
    from leonet.faults import fault_names

    jammed = set(fault_names(results.scenario.faults))
    items = [Patch(color=SERVED_COLOR, label="served"), Patch(color=NO_COVERAGE_COLOR, label="no coverage")]
    items += [
        Patch(color=c, label=figures.mpl_text(f"{'jammed' if r in jammed else 'denied'}: {r}"))
        for r, c in colors.items()
    ]
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


#: (time, moving terminal) cells interpolated at a time when the map's positions are computed
BLOCK_CELLS = 1 << 20


class _MapData(NamedTuple):
    """What the service map draws, from the service run-lengths and the ground tracks in bounded memory."""

    lon: NDArray[np.float64]  # sampled points (at most MAX_MAP_POINTS)
    lat: NDArray[np.float64]
    code: NDArray[np.int64]  # 0 served, 1 no coverage, 2 + k denied by rules[k]
    rules: list[str]
    bounds: tuple[float, float, float, float]  # min / max of lon and lat over every terminal and snapshot
    tracks: list[tuple[NDArray[np.float64], NDArray[np.float64]]]  # (lon, lat) over the window, moving ones
    labels: list[tuple[str, float, float]]  # the first 30 terminals: name, lon, lat at the last snapshot


def _status_runs(
    results: Results, network: str, names: list[str]
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], list[str]]:
    """The network's service intervals as snapshot runs: terminal column, first and end snapshot, code (0
    served, 1 no coverage, 2 + k denied by ``rules[k]``, rules in order of first appearance), sorted by
    (terminal, first snapshot)."""
    times = results.prepared.times_s
    svc = results.service
    rows = svc.filter(pc.equal(svc.column("network"), network))
    col_of = {n: i for i, n in enumerate(names)}
    col = np.array([col_of[t] for t in rows.column("terminal").to_pylist()], dtype=np.int64)
    k0 = np.searchsorted(times, rows.column("start_s").to_numpy(), side="left").astype(np.int64)
    k1 = np.searchsorted(times, rows.column("end_s").to_numpy(), side="left").astype(np.int64)
    status = rows.column("status").to_pylist()
    rule_ids = rows.column("rule_id").to_pylist()
    rules: list[str] = []
    code = np.zeros(len(status), dtype=np.int64)
    for i, (st, rule) in enumerate(zip(status, rule_ids, strict=True)):  # one entry per run, not per snapshot
        if st == "no-coverage":
            code[i] = 1
        elif st != "served":
            if rule not in rules:
                rules.append(rule)
            code[i] = 2 + rules.index(rule)
    order = np.lexsort((k0, col))
    return col[order], k0[order], k1[order], code[order], rules


def _codes_at(
    runs: tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]],
    n_times: int,
    k: NDArray[np.int64],
    n: NDArray[np.int64],
) -> NDArray[np.int64]:
    """The code of terminal ``n[i]`` at snapshot ``k[i]`` from the runs (0, served, where no run covers it):
    one binary search per point over the runs' (terminal, first snapshot) keys."""
    col, k0, k1, code = runs
    key = col * n_times + k0
    j = np.searchsorted(key, n * n_times + k, side="right") - 1
    jj = np.maximum(j, 0)
    inside = (j >= 0) & (col[jj] == n) & (k < k1[jj]) if len(key) else np.zeros(len(k), dtype=bool)
    return np.where(inside, code[jj] if len(key) else 0, 0)


def _map_data(results: Results, network: str) -> _MapData:
    """The service map's data without any (snapshots x terminals) array: the statuses from the service runs at
    the sampled points only, the positions of moving terminals interpolated in blocks of snapshots
    (:data:`BLOCK_CELLS` cells at a time), of the others read once.  Memory: the sample, one block, and the
    drawn tracks themselves (the moving terminals' positions over the window, which the figure holds anyway).
    The runs of one terminal are disjoint (run-lengths), so reading a point's run is filling a dense matrix."""
    from leonet.tracks import interpolate

    prep = results.prepared
    g = prep.ground
    terms = prep.terminals
    names = [g.names[i] for i in terms]
    times = prep.times_s
    T, N = len(times), len(terms)
    col, k0, k1, code, rules = _status_runs(results, network, names)
    flat = np.arange(T * N)
    if T * N > MAX_MAP_POINTS:  # the same sample as a (T, N) array's flat indices
        flat = np.random.default_rng(0).choice(T * N, MAX_MAP_POINTS, replace=False)
    k, n = flat // max(N, 1), flat % max(N, 1)
    lon = g.lon_deg[terms][n].astype(np.float64)
    lat = g.lat_deg[terms][n].astype(np.float64)
    last_lon, last_lat = g.lon_deg[terms].astype(np.float64), g.lat_deg[terms].astype(np.float64)
    tracks: list[tuple[NDArray[np.float64], NDArray[np.float64]]] = []
    # moving terminals: their columns and their rows of the ground's TrackSet
    row_of = {int(m): r for r, m in enumerate(g.moving)}
    mcols = np.array([c for c, t in enumerate(terms) if int(t) in row_of], dtype=np.int64)
    static = np.ones(N, dtype=bool)
    static[mcols] = False
    lon_lo = lat_lo = np.inf
    lon_hi = lat_hi = -np.inf
    if static.any() and T:  # a node at rest is where it is at every snapshot
        lon_lo, lon_hi = float(np.nanmin(last_lon[static])), float(np.nanmax(last_lon[static]))
        lat_lo, lat_hi = float(np.nanmin(last_lat[static])), float(np.nanmax(last_lat[static]))
    if len(mcols) and g.tracks is not None:
        rows = np.array([row_of[int(terms[c])] for c in mcols], dtype=np.int64)
        sub = dataclasses.replace(g.tracks, start=g.tracks.start[rows], count=g.tracks.count[rows])
        is_moving = np.zeros(N, dtype=bool)
        is_moving[mcols] = True
        mpos = np.full(N, -1, dtype=np.int64)
        mpos[mcols] = np.arange(len(mcols))
        lo = np.full((len(mcols), 2), np.inf)  # per moving terminal: min / max of (lon, lat), for the drawn tracks
        hi = np.full((len(mcols), 2), -np.inf)
        blocks: list[tuple[NDArray[np.float64], NDArray[np.float64]]] = []
        step = max(1, BLOCK_CELLS // len(mcols))
        pts = np.flatnonzero(is_moving[n])
        for a in range(0, T, step):
            b = min(T, a + step)
            st = interpolate(sub, times[a:b])  # (b - a, moving)
            blon, blat = st.lon_deg, st.lat_deg
            lon_lo, lon_hi = min(lon_lo, float(np.nanmin(blon))), max(lon_hi, float(np.nanmax(blon)))
            lat_lo, lat_hi = min(lat_lo, float(np.nanmin(blat))), max(lat_hi, float(np.nanmax(blat)))
            lo[:, 0] = np.minimum(lo[:, 0], blon.min(axis=0))
            lo[:, 1] = np.minimum(lo[:, 1], blat.min(axis=0))
            hi[:, 0] = np.maximum(hi[:, 0], blon.max(axis=0))
            hi[:, 1] = np.maximum(hi[:, 1], blat.max(axis=0))
            here = pts[(k[pts] >= a) & (k[pts] < b)]
            lon[here] = blon[k[here] - a, mpos[n[here]]]
            lat[here] = blat[k[here] - a, mpos[n[here]]]
            blocks.append((blon, blat))  # the drawn lines (the moving terminals' positions over the window)
            if b == T:
                last_lon[mcols], last_lat[mcols] = blon[-1], blat[-1]
        moved = np.flatnonzero((hi - lo > 0).any(axis=1))  # a track that never moves is not drawn
        if len(moved):
            tlon = np.concatenate([bl[:, moved] for bl, _ in blocks])
            tlat = np.concatenate([bt[:, moved] for _, bt in blocks])
            tracks = list(zip(tlon.T, tlat.T, strict=True))
    codes = _codes_at((col, k0, k1, code), T, k, n)
    labels = [(nm, float(last_lon[c]), float(last_lat[c])) for c, nm in enumerate(names[:30])]
    return _MapData(lon, lat, codes, rules, (lon_lo, lon_hi, lat_lo, lat_hi), tracks, labels)


def _jamming_zones(results: Results, network: str) -> list[tuple[shapely.Geometry, str]]:
    """The network's jamming zones active at some time of the window, one per distinct polygon, each with a
    label naming its faults, their capacity fractions and the part of the window they cover (s)."""
    prep = results.prepared
    i = next(k for k, net in enumerate(prep.networks) if net.spec.name == network)
    fs = prep.faults_of(i)
    if fs is None or len(prep.times_s) == 0:
        return []
    lo, hi = float(prep.times_s[0]), float(prep.times_s[-1])
    zones: dict[bytes, tuple[shapely.Geometry, list[str]]] = {}
    for j, f in enumerate(fs.jam_faults):
        t0, t1 = float(fs.start_s[f]), float(fs.end_s[f])
        if t0 <= hi and t1 > lo:
            geom = fs.jam_regions[j].geometry
            what = f"{fs.names[f]} {float(fs.jam_capacity[j]):g} ({max(t0, lo):g}-{min(t1, hi):g} s)"
            zones.setdefault(shapely.to_wkb(geom), (geom, []))[1].append(what)
    return [(g, "jamming, capacity: " + "\n".join(w)) for g, w in zones.values()]


def map_figure(results: Results, network: str, colors: dict[str, str]) -> Figure:
    prep = results.prepared
    data = _map_data(results, network)
    palette = np.array([SERVED_COLOR, NO_COVERAGE_COLOR] + [colors.get(r, RULE_COLORS[0]) for r in data.rules])
    pad = 3.0
    lon_lo, lon_hi, lat_lo, lat_hi = data.bounds
    x0, x1 = max(-180.0, lon_lo - pad), min(180.0, lon_hi + pad)
    y0, y1 = max(-90.0, lat_lo - pad), min(90.0, lat_hi + pad)
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
    zones = _jamming_zones(results, network)
    for geom, _ in zones:
        for poly in getattr(geom, "geoms", [geom]):
            if isinstance(poly, shapely.Polygon):
                x, y = poly.exterior.xy
                ax.fill(x, y, facecolor="none", edgecolor=JAMMING_COLOR, hatch="////", lw=0.9, zorder=2)
    for tlon, tlat in data.tracks:
        ax.plot(tlon, tlat, color="#555555", lw=0.6, zorder=3)
    ax.scatter(data.lon, data.lat, c=palette[data.code], s=14, zorder=4, lw=0)
    for name, x, y in data.labels:
        ax.annotate(figures.mpl_text(name), (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points", zorder=5)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("longitude (deg)")
    ax.set_ylabel("latitude (deg)")
    extra = ", jamming zones hatched" if zones else ""
    ax.set_title(figures.mpl_text(f"{network}: terminals over the window, by status (geofences in red{extra})"))
    handles = [*_legend(colors, results), Line2D([], [], color="#555555", lw=0.6, label="track")]
    for _, label in zones:  # the zone's faults and windows in the key, not over the terminals' labels
        handles.append(Patch(facecolor="none", edgecolor=JAMMING_COLOR, hatch="////", label=figures.mpl_text(label)))
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
    below = -0.18 if len(terminals) > 3 else -0.45
    ax.legend(handles=_legend(colors, results), loc="upper center", bbox_to_anchor=(0.5, below), ncol=4, fontsize=7)
    fig.tight_layout()
    return fig


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
        figures.img_html(
            map_figure(results, n, colors),
            f"service map {n}",
            f"Terminals of {n} ({'under the policy' if under[n] else 'not under the policy'}) by status at every "
            "snapshot.",
        )
        for n in nets
    )
    sections.append(("Service map", maps))
    lines = "".join(
        figures.img_html(timeline_figure(results, n, colors), f"service timeline {n}", f"Service intervals of {n}.")
        for n in nets
    )
    sections.append(("Service timeline", lines))
    return sections
