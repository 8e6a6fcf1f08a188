"""The report's capacity figures, from a :func:`leonet.flows.max_min_fair` allocation (matplotlib object API on
the Agg canvas, as :mod:`leonet.report.figures`; embed with :func:`leonet.report.figures.png_base64`).

* :func:`throughput_cdf_figure` -- the CDF of the throughput per terminal (Mbit/s), one line per series (e.g.
  down and up), with each series' median in the legend.
* :func:`utilisation_map_figure` -- an equirectangular world map of links coloured by utilisation (0 to 1),
  saturated links drawn on top and thicker, over the country outlines; :func:`layout_lines` gives it the ends
  of a :class:`leonet.flows.LinkLayout`'s links from the nodes' positions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from numpy.typing import ArrayLike, NDArray

from leonet.flows import LinkKind, LinkLayout
from leonet.report.figures import _cdf, _note, color, country_outlines, mpl_text, world_axes

#: Utilisation at or above which a link is drawn as saturated.
SATURATED_UTILISATION = 0.999
UTILISATION_CMAP = "plasma"


def throughput_cdf_figure(rates_gbps: ArrayLike | Mapping[str, ArrayLike], title: str = "") -> Figure:
    """CDF of per-terminal throughput.  ``rates_gbps``: one array (Gbit/s) or ``{label: array}``; drawn in
    Mbit/s, on a log axis when the positive rates span more than two decades (zero rates are counted in the CDF
    at its left edge and noted)."""
    series = dict(rates_gbps) if isinstance(rates_gbps, Mapping) else {"throughput": rates_gbps}
    fig = Figure(figsize=(7.0, 3.8), layout="constrained")
    ax = fig.add_subplot()
    ax.set_xlabel("throughput per terminal (Mbit/s)", fontsize=9)
    ax.set_ylabel("fraction of terminals", fontsize=9)
    ax.set_ylim(0.0, 1.0)
    ax.tick_params(labelsize=8)
    ax.grid(color="#dde3ea", lw=0.5)
    if title:
        ax.set_title(mpl_text(title), fontsize=10, loc="left")
    values = {k: np.asarray(v, dtype=np.float64).reshape(-1) * 1000.0 for k, v in series.items()}
    pos = np.concatenate([v[np.isfinite(v) & (v > 0)] for v in values.values()] or [np.empty(0)])
    if not any(np.isfinite(v).any() for v in values.values()):
        _note(ax, "no flows")
        return fig
    log = len(pos) > 0 and pos.max() > 100.0 * pos.min()
    zeros = 0
    for i, (label, v) in enumerate(values.items()):
        v = v[np.isfinite(v)]
        if not len(v):
            continue
        zeros += int((v <= 0).sum())
        shown = np.where(v > 0, v, pos.min()) if log else v  # on a log axis, zeros at the left edge
        x, y = _cdf(shown)
        ax.step(x, y, where="post", color=color(i), lw=1.5,
                label=f"{mpl_text(label)} (median {float(np.median(v)):.3g} Mbit/s, n = {len(v):,})")  # fmt: skip
    if log:
        ax.set_xscale("log")
    if zeros:
        _note(ax, f"{zeros:,} terminal-direction(s) at 0 Mbit/s", corner=True)
    ax.legend(loc="lower right", fontsize=8, framealpha=0.85)
    return fig


def layout_lines(
    layout: LinkLayout,
    lat_deg: ArrayLike,
    lon_deg: ArrayLike,
    kinds: Iterable[LinkKind] = (LinkKind.ISL, LinkKind.FEEDER_UP, LinkKind.FEEDER_DOWN),
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """The links of ``kinds`` (node-pair links: ISLs and feeders; a beam has no single far end) as ``(link ids,
    lat0, lon0, lat1, lon1)`` from each node's ``lat_deg`` / ``lon_deg`` (indexed by node id; satellites at their
    sub-satellite points), for :func:`utilisation_map_figure` with ``allocation.utilisation[ids]``."""
    lat, lon = np.asarray(lat_deg, dtype=np.float64), np.asarray(lon_deg, dtype=np.float64)
    want = np.array(sorted(int(k) for k in kinds), dtype=np.int8)
    if np.isin(want, [LinkKind.USER_DOWN, LinkKind.USER_UP]).any():
        raise ValueError("layout_lines: user beams have no single far end; draw ISLs and feeders")
    ids = np.flatnonzero(np.isin(layout.kind, want)).astype(np.int64)
    u, v = layout.endpoints
    return ids, lat[u[ids]], lon[u[ids]], lat[v[ids]], lon[v[ids]]


def _segments(
    lat0: NDArray[np.float64], lon0: NDArray[np.float64], lat1: NDArray[np.float64], lon1: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Straight lon/lat segments (S, 2, 2), those crossing the antimeridian (a step of more than 180 deg in
    longitude, read the short way round) cut in two at +-180; and for each segment the link it draws."""
    cross = np.abs(lon1 - lon0) > 180.0
    keep = np.flatnonzero(~cross)
    seg = [np.stack([np.stack([lon0[keep], lat0[keep]], -1), np.stack([lon1[keep], lat1[keep]], -1)], 1)]
    links = [keep]
    c = np.flatnonzero(cross)
    if len(c):
        x0, y0, x1, y1 = lon0[c], lat0[c], lon1[c], lat1[c]
        east = x0 > 0  # leaves through +180
        x1u = np.where(east, x1 + 360.0, x1 - 360.0)
        edge = np.where(east, 180.0, -180.0)
        f = np.where(x1u != x0, (edge - x0) / np.where(x1u != x0, x1u - x0, 1.0), 0.0)
        yc = y0 + f * (y1 - y0)
        seg.append(np.stack([np.stack([x0, y0], -1), np.stack([edge, yc], -1)], 1))
        seg.append(np.stack([np.stack([-edge, yc], -1), np.stack([x1, y1], -1)], 1))
        links += [c, c]
    return np.concatenate(seg), np.concatenate(links)


def utilisation_map_figure(
    lat0_deg: ArrayLike,
    lon0_deg: ArrayLike,
    lat1_deg: ArrayLike,
    lon1_deg: ArrayLike,
    utilisation: ArrayLike,
    title: str = "",
) -> Figure:
    """World map of links from ``(lat0, lon0)`` to ``(lat1, lon1)`` (degrees; e.g. the sub-satellite points of
    an ISL's ends, or a gateway and its satellite) coloured by ``utilisation`` (0..1, clipped; NaN links, e.g. of
    zero capacity, are not drawn).  Both directions of a link may be given: the busier is drawn on top."""
    cols = [np.asarray(x, dtype=np.float64).reshape(-1) for x in (lat0_deg, lon0_deg, lat1_deg, lon1_deg, utilisation)]
    n = len(cols[4])
    if any(len(c) != n for c in cols):
        raise ValueError("utilisation_map_figure: expected arrays of one length")
    lat0, lon0, lat1, lon1, util = cols
    fig = Figure(figsize=(10.0, 5.6), layout="constrained")
    ax = fig.add_subplot()
    ax.set_facecolor("#f3f7fb")
    ax.add_collection(LineCollection(list(country_outlines()), colors="#c5ccd4", linewidths=0.45, zorder=1))
    norm = Normalize(0.0, 1.0)
    cmap = colormaps[UTILISATION_CMAP]
    ok = np.isfinite(util) & np.isfinite(lat0) & np.isfinite(lon0) & np.isfinite(lat1) & np.isfinite(lon1)
    idx = np.flatnonzero(ok)
    idx = idx[np.argsort(util[idx], kind="stable")]  # busiest last (on top)
    seg, link = _segments(lat0[idx], lon0[idx], lat1[idx], lon1[idx])
    u = np.clip(util[idx][link], 0.0, 1.0)
    order = np.argsort(u, kind="stable")
    seg, u = seg[order], u[order]
    sat = u >= SATURATED_UTILISATION
    ax.add_collection(LineCollection(list(seg[~sat]), colors=cmap(norm(u[~sat])), linewidths=0.8, zorder=2))
    ax.add_collection(LineCollection(list(seg[sat]), colors=cmap(norm(u[sat])), linewidths=1.8, zorder=3))
    n_sat = int((np.clip(util[idx], 0.0, 1.0) >= SATURATED_UTILISATION).sum())
    head = f"{mpl_text(title)}: " if title else ""
    ax.set_title(f"{head}link utilisation, {len(idx):,} links, {n_sat:,} saturated (thick)", fontsize=10, loc="left")
    if not len(idx):
        _note(ax, "no links")
    fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.8, label="utilisation (load / capacity)")
    world_axes(ax)
    return fig
