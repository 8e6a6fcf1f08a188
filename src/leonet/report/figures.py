"""The report's figures, drawn with matplotlib's object API (:class:`matplotlib.figure.Figure` on the Agg canvas:
no pyplot, no global state) and returned as figures; :func:`png_base64` turns one into an embeddable PNG.

* :func:`rtt_figure` -- RTT over time of the plotted pairs, one panel per pair, every network in the same panel,
  against the pair's great-circle bound ``2 d / c`` (dashed); reconfiguration-slot boundaries as faint vertical
  lines, path changes as dots on the curve, unreachable snapshots shaded.
* :func:`map_figure` -- an equirectangular world map (Natural Earth 110m country outlines), one per network: its
  satellites at the first snapshot, the ground nodes, and the route of the first plotted pair at that snapshot
  through its nodes, with the pair's great circle for comparison.
* :func:`distribution_figure` -- left: CDF of the RTT stretch (RTT / great-circle bound) over all pairs, per-pair
  medians and every pair-snapshot; right: histogram of the per-pair median RTT, with the great-circle bounds.
* :func:`handover_figure` -- left: path / first-satellite / last-satellite changes of each plotted pair over the
  window; right: histogram of path changes per pair over all pairs.
"""

from __future__ import annotations

import base64
import io
import json
import math
from collections.abc import Sequence
from functools import lru_cache
from html import escape

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator, NullFormatter
from numpy.typing import NDArray

from leonet import catalog
from leonet.report.data import Pair, PathAt, Series, great_circle, split_antimeridian

#: Resolution of the embedded PNGs (pixels per inch); figures are about 10 in wide.
DPI = 100
#: Network colours, in network order (matplotlib's tab10).
COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
BOUND_COLOR = "#333333"
SLOT_COLOR = "#9a9a9a"
OUTAGE_COLOR = "#f4c7c3"
PATH_COLOR = "#d62728"


def color(i: int) -> str:
    return COLORS[i % len(COLORS)]


def mpl_text(s: str) -> str:
    """User text made safe for matplotlib labels (a ``$`` would start mathtext)."""
    return s.replace("$", r"\$")


def pair_label(pair: Pair) -> str:
    return mpl_text(f"{pair[0]} → {pair[1]}")


def png_bytes(fig: Figure) -> bytes:
    """The figure as PNG bytes (no software tag: the same figure gives the same bytes)."""
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def world_axes(ax: Axes) -> None:
    """The equirectangular whole-world frame of the report's maps: longitude / latitude in degrees, ticks
    every 30 deg, a light grid under the data."""
    ax.set_xlim(-180, 180)
    ax.set_ylim(-90, 90)
    ax.set_aspect("equal")
    ax.set_xticks(np.arange(-180, 181, 30))
    ax.set_yticks(np.arange(-90, 91, 30))
    ax.tick_params(labelsize=8)
    ax.set_xlabel("longitude (deg)", fontsize=9)
    ax.set_ylabel("latitude (deg)", fontsize=9)
    ax.grid(color="#dde3ea", lw=0.5)
    ax.set_axisbelow(True)


def png_base64(fig: Figure) -> str:
    """The figure as a base64 PNG (ASCII), for ``<img src="data:image/png;base64,...">``."""
    return base64.b64encode(png_bytes(fig)).decode("ascii")


def _runs(mask: NDArray[np.bool_]) -> list[tuple[int, int]]:
    """Index ranges ``[i, j)`` where ``mask`` is true."""
    d = np.diff(np.r_[0, mask.astype(np.int8), 0])
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist(), strict=True))


def _note(ax: Axes, text: str, corner: bool = False) -> None:
    """A grey note in a panel: centred (the panel has nothing else), or in its top-right corner (beside data)."""
    x, y, ha, va = (0.995, 0.97, "right", "top") if corner else (0.5, 0.72, "center", "center")
    ax.text(x, y, text, transform=ax.transAxes, ha=ha, va=va, color="#555555", fontsize=8.5 if corner else 9,
            bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": "none", "alpha": 0.85}, zorder=10)  # fmt: skip


def rtt_figure(
    pairs: Sequence[Pair],
    networks: Sequence[str],
    series: dict[tuple[str, Pair], Series],
    gc_rtt_ms: dict[Pair, float],
    gc_km: dict[Pair, float],
    slots: NDArray[np.float64],
    window: tuple[float, float],
) -> Figure:
    """RTT over time: one panel per pair (shared time axis), a line per network, the dashed great-circle bound,
    faint reconfiguration-slot boundaries, dots where the path changed, shading where a network had no route."""
    n = max(len(pairs), 1)
    fig = Figure(figsize=(10.0, 0.6 + 1.9 * n), layout="constrained")
    axes = fig.subplots(n, 1, sharex=True, squeeze=False)[:, 0]
    t0, t1 = window
    span = max(t1 - t0, 1.0)
    if not pairs:
        _note(axes[0], "no pairs to plot")
        return fig
    for ax, pair in zip(axes, pairs, strict=True):
        # every slot boundary when they are few enough to read, else none
        if 0 < len(slots) <= 120:
            for x in slots:
                ax.axvline(float(x), color=SLOT_COLOR, lw=0.6, alpha=0.45, zorder=0)
        lo, hi = math.inf, -math.inf
        routed = False
        dark: list[str] = []  # networks with no route for this pair in any snapshot
        for i, net in enumerate(networks):
            s = series.get((net, pair))
            if s is None or len(s.t_s) == 0:
                continue
            marker = "o" if len(s.t_s) <= 40 else None
            ax.plot(s.t_s, s.rtt_ms, color=color(i), lw=1.3, marker=marker, ms=3, zorder=3)
            ch = s.path_changed & np.isfinite(s.rtt_ms)
            ax.plot(s.t_s[ch], s.rtt_ms[ch], ls="none", marker="o", ms=3.2, mfc="white", mec=color(i), mew=1.0,
                    zorder=4)  # fmt: skip
            step = float(np.median(np.diff(s.t_s))) if len(s.t_s) > 1 else 1.0
            for a, b in _runs(~np.isfinite(s.rtt_ms)):
                x0, x1 = float(s.t_s[a]) - step / 2, float(s.t_s[b - 1]) + step / 2
                if len(networks) == 1:  # shade the panel
                    ax.axvspan(x0, x1, color=OUTAGE_COLOR, alpha=0.6, lw=0, zorder=1)
                else:  # a strip at the bottom, one band per network, in its colour
                    ax.axvspan(x0, x1, ymin=0.045 * i, ymax=0.045 * (i + 1), color=color(i), alpha=0.55, lw=0,
                               zorder=1)  # fmt: skip
            fin = s.rtt_ms[np.isfinite(s.rtt_ms)]
            if len(fin):
                routed = True
                lo, hi = min(lo, float(fin.min())), max(hi, float(fin.max()))
            else:
                dark.append(net)
        bound = gc_rtt_ms.get(pair)
        if bound is not None and math.isfinite(bound):
            ax.axhline(bound, color=BOUND_COLOR, ls="--", lw=1.0, zorder=2)
            lo, hi = min(lo, bound), max(hi, bound)
        if routed:
            pad = max(0.08 * (hi - lo), 0.5)
            ax.set_ylim(max(lo - pad, 0.0), hi + pad)
        elif math.isfinite(lo):  # the bound alone
            ax.set_ylim(0.0, 1.5 * hi + 1.0)
        if not routed:
            _note(ax, "no route in any snapshot")
        elif dark:
            _note(ax, "no route in any snapshot: " + ", ".join(mpl_text(n) for n in dark), corner=True)
        km = gc_km.get(pair, math.nan)
        ax.set_title(f"{pair_label(pair)}   ({km:,.0f} km great circle)", loc="left", fontsize=9.5)
        ax.set_ylabel("RTT (ms)", fontsize=9)
        ax.tick_params(labelsize=8.5)
        ax.grid(axis="y", color="#e6e6e6", lw=0.6)
        ax.set_axisbelow(True)
        ax.set_xlim(t0 - 0.01 * span, t1 + 0.01 * span)
    axes[-1].set_xlabel("time after epoch (s)", fontsize=9)
    handles: list[Line2D | Patch] = [
        Line2D([], [], color=color(i), lw=1.3, label=mpl_text(net)) for i, net in enumerate(networks)
    ]
    handles += [
        Line2D([], [], color=BOUND_COLOR, ls="--", lw=1.0, label="great-circle bound 2d/c"),
        Line2D([], [], ls="none", marker="o", ms=4, mfc="white", mec="#555555", label="path changed"),
    ]
    if 0 < len(slots) <= 120:
        handles.append(Line2D([], [], color=SLOT_COLOR, lw=0.8, label="slot boundary"))
    if len(networks) == 1:
        handles.append(Patch(color=OUTAGE_COLOR, label="no route"))
    else:
        handles.append(Patch(color="#b0b0b0", label="no route (bottom strip, network's colour)"))
    # one row when it fits (a single network), else three columns: a wide legend is clipped at the figure's edges
    ncols = min(len(handles), 6 if len(networks) == 1 else 3)
    fig.legend(handles=handles, loc="outside upper center", ncols=ncols, fontsize=8.5, frameon=False)
    return fig


@lru_cache(maxsize=1)
def country_outlines() -> tuple[NDArray[np.float64], ...]:
    """Exterior rings (lon, lat columns) of the Natural Earth 110m countries shipped in ``leonet/data``."""
    doc = json.loads(catalog.read_text("ne_110m_admin_0_countries.geojson"))
    rings: list[NDArray[np.float64]] = []
    for feat in doc.get("features", []):
        geom = feat.get("geometry") or {}
        polys = [geom["coordinates"]] if geom.get("type") == "Polygon" else geom.get("coordinates", [])
        if geom.get("type") not in ("Polygon", "MultiPolygon"):
            continue
        for poly in polys:
            if poly:
                rings.append(np.asarray(poly[0], dtype=np.float64)[:, :2])
    return tuple(rings)


def map_figure(
    network: str,
    t_s: float,
    sat_lat: NDArray[np.float64],
    sat_lon: NDArray[np.float64],
    ground_lat: NDArray[np.float64],
    ground_lon: NDArray[np.float64],
    ground_kind: Sequence[str],
    path: PathAt | None,
    ground_names: Sequence[str],
) -> Figure:
    """Equirectangular map: country outlines, every satellite of ``network`` at ``t_s`` (dots), ground nodes,
    and ``path`` (the route of one pair then) through its nodes, next to the pair's great circle (dotted)."""
    fig = Figure(figsize=(10.0, 5.6), layout="constrained")
    ax = fig.add_subplot()
    ax.set_facecolor("#f3f7fb")
    ax.add_collection(LineCollection(list(country_outlines()), colors="#9aa5b1", linewidths=0.45, zorder=1))
    dot = float(np.clip(3000.0 / max(len(sat_lat), 1), 2.2, 8.0))
    ax.scatter(sat_lon, sat_lat, s=dot, c="#4a7fb5", alpha=0.65, lw=0, zorder=2, label=f"satellites ({len(sat_lat):,})")
    kinds = np.asarray(list(ground_kind), dtype=object)
    styles = {"station": ("^", "#222222", "ground stations"), "terminal": ("s", "#6a3d9a", "user terminals"),
              "gateway": ("D", "#2b8a3e", "gateways")}  # fmt: skip
    for kind, (marker, col, label) in styles.items():
        m = kinds == kind
        if m.any():
            ax.scatter(ground_lon[m], ground_lat[m], s=9, marker=marker, c=col, lw=0, zorder=3,
                       label=f"{label} ({int(m.sum()):,})")  # fmt: skip
    title = f"{mpl_text(network)} at t = {t_s:g} s"
    if path is not None:
        src_i, dst_i = ground_names.index(path.pair[0]), ground_names.index(path.pair[1])
        glat, glon = great_circle(ground_lat[src_i], ground_lon[src_i], ground_lat[dst_i], ground_lon[dst_i])
        for k, (xs, ys) in enumerate(split_antimeridian(glon, glat)):
            ax.plot(xs, ys, color=BOUND_COLOR, ls=":", lw=1.1, zorder=4, label="great circle" if k == 0 else None)
        if path.node_ids:
            for k, (xs, ys) in enumerate(split_antimeridian(path.lon_deg, path.lat_deg)):
                ax.plot(xs, ys, color=PATH_COLOR, lw=1.8, zorder=5, label="route" if k == 0 else None)
            ax.scatter(path.lon_deg[1:-1], path.lat_deg[1:-1], s=14, c=PATH_COLOR, edgecolors="white", lw=0.5,
                       zorder=6)  # fmt: skip
            rtt = f"{path.rtt_ms:.1f} ms RTT" if path.rtt_ms is not None else "no RTT"
            title += f"; route {pair_label(path.pair)}: {max(path.hops, 0)} hops, {rtt}"
        else:
            title += f"; {pair_label(path.pair)}: no route at this snapshot"
        for i, ha in ((src_i, "right"), (dst_i, "left")):
            dx = -2.5 if ha == "right" else 2.5
            ax.annotate(mpl_text(ground_names[i]), (ground_lon[i], ground_lat[i]), xytext=(dx * 2, 4),
                        textcoords="offset points", ha=ha, fontsize=9, fontweight="bold", zorder=7,
                        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.75})  # fmt: skip
            ax.scatter([ground_lon[i]], [ground_lat[i]], s=36, marker="^", c=PATH_COLOR, edgecolors="black", lw=0.6,
                       zorder=7)  # fmt: skip
    ax.set_title(title, fontsize=10, loc="left")
    world_axes(ax)
    ax.legend(loc="lower left", fontsize=8, markerscale=2.0, framealpha=0.85)
    return fig


def _cdf(values: NDArray[np.float64], points: int = 512) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """An empirical CDF, at most ``points`` steps (quantiles), of the finite values."""
    v = values[np.isfinite(values)]
    if len(v) == 0:
        return np.empty(0), np.empty(0)
    if len(v) <= points:  # exact steps, starting from 0
        x = np.sort(v)
        return np.r_[x[0], x], np.r_[0.0, np.arange(1, len(x) + 1) / len(x)]
    q = np.linspace(0.0, 1.0, points)
    return np.quantile(v, q), q


def distribution_figure(
    networks: Sequence[str],
    stretch_median: dict[str, NDArray[np.float64]],
    stretch_all: dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]],
    rtt_median: dict[str, NDArray[np.float64]],
    gc_rtt: NDArray[np.float64],
) -> Figure:
    """Left: CDF of RTT stretch over pairs (solid: each pair's median; dotted: every pair-snapshot, given as
    ``(stretch quantiles, probabilities)`` per network).
    Right: histogram of per-pair median RTT per network, with the pairs' great-circle bounds (grey)."""
    fig = Figure(figsize=(10.0, 3.8), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    drawn = False
    for i, net in enumerate(networks):
        x, y = _cdf(stretch_median.get(net, np.empty(0)))
        if len(x):
            ax1.step(x, y, where="post", color=color(i), lw=1.5, label=f"{mpl_text(net)}: per-pair median")
            drawn = True
        x, y = stretch_all.get(net, (np.empty(0), np.empty(0)))
        if len(x):
            ax1.plot(x, y, color=color(i), lw=1.0, ls=":", label=f"{mpl_text(net)}: every pair-snapshot")
    if drawn:
        ax1.axvline(1.0, color=BOUND_COLOR, ls="--", lw=0.8)
        tops = [float(x[-1]) for x, _ in stretch_all.values() if len(x)]
        tops += [float(np.max(v[np.isfinite(v)])) for v in stretch_median.values() if np.isfinite(v).any()]
        top = max(1.25, max(tops) * 1.1)
        ax1.set_xscale("log")  # short pairs reach stretches of tens; long pairs sit just above 1
        ax1.set_xlim(0.97, top)
        if top > 10:
            cands: tuple[float, ...] = (1, 1.5, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000)
        elif top > 2:
            cands = (1, 1.2, 1.5, 2, 3, 5, 10)
        else:
            cands = (1, 1.1, 1.2, 1.3, 1.5, 2)
        ticks = [t for t in cands if t <= top]
        ax1.set_xticks(ticks, [f"{t:g}" for t in ticks])
        ax1.xaxis.set_minor_formatter(NullFormatter())
        ax1.legend(fontsize=7.5, loc="lower right")
    else:
        _note(ax1, "no reachable pairs")
    ax1.set_xlabel("RTT stretch (RTT / great-circle bound), log scale", fontsize=9)
    ax1.set_ylabel("share of pairs with a route", fontsize=9)
    ax1.set_ylim(0, 1.01)
    ax1.set_title("RTT stretch, CDF", fontsize=10, loc="left")

    allv = [v[np.isfinite(v)] for v in rtt_median.values()] + [gc_rtt[np.isfinite(gc_rtt)]]
    pooled = np.concatenate(allv) if allv else np.empty(0)
    if len(pooled) and any(len(v) for v in allv[:-1]):
        hi = float(pooled.max())
        bins = np.linspace(0.0, hi * 1.02 + 1e-9, min(45, max(10, int(math.sqrt(len(pooled))))))
        ax2.hist(gc_rtt[np.isfinite(gc_rtt)], bins=bins, color="#d9d9d9", label="great-circle bound 2d/c")
        for i, net in enumerate(networks):
            v = rtt_median.get(net, np.empty(0))
            v = v[np.isfinite(v)]
            if len(v):
                ax2.hist(v, bins=bins, histtype="step", color=color(i), lw=1.5, label=f"{mpl_text(net)}: median RTT")
        ax2.legend(fontsize=7.5)
    else:
        _note(ax2, "no reachable pairs")
    ax2.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax2.set_xlabel("RTT (ms)", fontsize=9)
    ax2.set_ylabel("pairs", fontsize=9)
    ax2.set_title("median RTT per pair", fontsize=10, loc="left")
    for ax in (ax1, ax2):
        ax.tick_params(labelsize=8.5)
        ax.grid(color="#eeeeee", lw=0.6)
        ax.set_axisbelow(True)
    return fig


def handover_figure(
    networks: Sequence[str],
    pairs: Sequence[Pair],
    changes: dict[tuple[str, Pair], tuple[int, int, int]],
    path_changes_all: dict[str, NDArray[np.float64]],
    window_s: float,
) -> Figure:
    """Left: path, first-satellite and last-satellite changes of each plotted pair (a bar group per pair and
    network). Right: histogram of path changes per pair over all pairs, per network."""
    rows = [(net, p) for p in pairs for net in networks]
    fig = Figure(figsize=(10.0, max(2.6, 0.9 + 0.36 * len(rows))), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2, width_ratios=[1.25, 1.0])
    kinds = (("path", 1.0), ("first satellite", 0.6), ("last satellite", 0.3))
    h = 0.26
    y = np.arange(len(rows), dtype=np.float64)
    for k, (label, alpha) in enumerate(kinds):
        vals = [changes.get(r, (0, 0, 0))[k] for r in rows]
        cols = [color(list(networks).index(r[0])) for r in rows]
        bars = ax1.barh(y + (k - 1) * h, vals, height=h, color=cols, alpha=alpha, label=f"{label} changes")
        ax1.bar_label(bars, fontsize=7, padding=2, color="#444444")
    labels = [pair_label(p) if len(networks) == 1 else f"{pair_label(p)}\n{mpl_text(n)}" for n, p in rows]
    ax1.set_yticks(y, labels, fontsize=8)
    ax1.invert_yaxis()
    ax1.set_xlabel(f"changes in the {window_s:g} s window", fontsize=9)
    ax1.set_title("handovers of the plotted pairs", fontsize=10, loc="left", pad=18)
    leg = [Patch(color="#555555", alpha=a, label=f"{lab} changes") for lab, a in kinds]
    ax1.legend(handles=leg, fontsize=7.5, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=3, frameon=False)
    top = max([changes.get(r, (0, 0, 0))[k] for r in rows for k in range(3)] or [0])
    ax1.set_xlim(0, max(1.0, top * 1.12))
    ax1.xaxis.set_major_locator(MaxNLocator(integer=True))
    if not rows:
        _note(ax1, "no pairs to plot")
    pooled = np.concatenate(list(path_changes_all.values()) or [np.empty(0)])
    if len(pooled):
        hi = int(pooled.max())
        bins = np.arange(-0.5, hi + 1.5, max(1, math.ceil((hi + 1) / 40)))
        for i, net in enumerate(networks):
            v = path_changes_all.get(net, np.empty(0))
            if len(v):
                ax2.hist(v, bins=bins, histtype="stepfilled" if len(networks) == 1 else "step", color=color(i),
                         alpha=0.8 if len(networks) == 1 else 1.0, lw=1.4, label=mpl_text(net))  # fmt: skip
        if len(networks) > 1:
            ax2.legend(fontsize=7.5)
    else:
        _note(ax2, "no pairs")
    if len(pooled):
        ax2.set_xlim(-0.5, max(float(pooled.max()), 2.0) + 0.5)
    ax2.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax2.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax2.set_xlabel("path changes per pair", fontsize=9)
    ax2.set_ylabel("pairs", fontsize=9)
    ax2.set_title("path changes, all pairs", fontsize=10, loc="left", pad=18)
    for ax in (ax1, ax2):
        ax.tick_params(labelsize=8.5)
        ax.grid(axis="x", color="#eeeeee", lw=0.6)
        ax.set_axisbelow(True)
    return fig


def img_html(fig: Figure, alt: str, caption: str) -> str:
    """A figure as an embedded PNG with its caption (the report's sections)."""
    return (
        f'<figure><img alt="{escape(alt)}" src="data:image/png;base64,{png_base64(fig)}">'
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )
