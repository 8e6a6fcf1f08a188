"""The resilience figure (``leonet resilience``): reachability, RTT stretch, time without service, throughput per
terminal and the rate carried against the failure rate, one line per network, the spread over seeds as a band
(min..max) around the mean, the baseline (rate 0, no faults) as the first point; the sixth panel is the key.  A
scenario without ``[access]`` has no throughput (NaN measures): its two throughput panels say so.  matplotlib's
object API on the Agg canvas, as figures.py."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import PercentFormatter, ScalarFormatter

from leonet.report.figures import DPI, color, mpl_text

#: (measure, its dashed companion or None, title, y axis in percent, log scale)
_PANELS = (
    ("reachability", None, "reachable pair-snapshots", True, False),
    ("stretch_median", "stretch_p95", "RTT stretch: median (p95 dashed)", False, True),
    ("outage_mean_s", None, "time without service per terminal (s, mean)", False, False),
    ("throughput_down_median_mbps", "throughput_down_p10_mbps",
     "downlink per terminal (Mbit/s): median (p10 dashed)", False, False),
    ("carried_gbps", None, "carried, down + up (Gbit/s, mean over slots)", False, False),
)  # fmt: skip
_NO_ACCESS = "no throughput:\nthe scenario has no [access]\n(terminals, gateways, PoPs)"


def _col(s: pa.Table, name: str) -> np.ndarray:
    return np.asarray(s.column(name).to_numpy(zero_copy_only=False), dtype=float)


def _band(ax: Axes, x: np.ndarray, s: pa.Table, m: str, c: str, label: str | None, ls: str = "-") -> None:
    mean, lo, hi = _col(s, f"{m}_mean"), _col(s, f"{m}_min"), _col(s, f"{m}_max")
    ax.plot(x, mean, ls, marker="o", ms=3, color=c, label=label)
    ax.fill_between(x, lo, hi, color=c, alpha=0.2, lw=0)


def resilience_figure(summary: pa.Table, title: str) -> Figure:
    """Five panels and a key over the failure rate from :func:`leonet.resilience.summarise`'s table."""
    fig = Figure(figsize=(13, 7.2), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    grid = fig.subplots(2, 3)
    axes, key = list(grid.flat[:5]), grid.flat[5]
    nets = sorted(set(summary.column("network").to_pylist()))
    rates = np.asarray(summary.column("rate").to_numpy(), dtype=float) if nets else np.zeros(1)
    pad = 0.05 * max(float(np.ptp(rates)), 0.01)
    x_range = (float(rates.min()) - pad, float(rates.max()) + pad)
    has = {m: bool(np.isfinite(_col(summary, f"{m}_mean")).any()) for m, *_ in _PANELS} if nets else {}
    for i, net in enumerate(nets):
        s = summary.filter(pa.compute.equal(summary.column("network"), net))
        x = np.asarray(s.column("rate").to_numpy(), dtype=float)
        for ax, (m, dashed, *_) in zip(axes, _PANELS, strict=True):
            if not has[m]:
                continue
            _band(ax, x, s, m, color(i), mpl_text(net))
            if dashed is not None:
                _band(ax, x, s, dashed, color(i), None, "--")
    for ax, (m, _, label, pct, log) in zip(axes, _PANELS, strict=True):
        ax.set_title(label, fontsize=10)
        if nets and not has[m] and m in ("throughput_down_median_mbps", "carried_gbps"):
            ax.text(0.5, 0.5, _NO_ACCESS, transform=ax.transAxes, ha="center", va="center", fontsize=9, color="0.4")
            ax.set_xticks([])
            ax.set_yticks([])
            continue
        ax.set_xlabel("satellites and laser links failed", fontsize=9)
        ax.set_xlim(*x_range)  # every panel on the same axis, also where a rate has no value (no route: no stretch)
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        if pct:
            ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        if log:
            ax.set_yscale("log")  # stretch >= 1; pairs a few km apart have stretches in the thousands
            ax.yaxis.set_major_formatter(ScalarFormatter())  # 1.2, not 1.2 x 10^0
            ax.yaxis.set_minor_formatter(ScalarFormatter())
        elif m != "reachability":
            ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    key.axis("off")
    handles: list[Artist] = [
        Line2D([], [], color=color(i), marker="o", ms=3, label=mpl_text(n)) for i, n in enumerate(nets)
    ]
    handles += [
        Line2D([], [], color="0.3", label="mean over seeds"),
        Line2D([], [], color="0.3", ls="--", label="p95 stretch / p10 throughput"),
        Patch(color="0.3", alpha=0.2, lw=0, label="min..max over seeds"),
    ]
    key.legend(handles=handles, loc="center", fontsize=9, frameon=False, title="key", title_fontsize=9)
    fig.suptitle(mpl_text(f"{title}: resilience (rate 0: no faults)"), fontsize=11)
    return fig
