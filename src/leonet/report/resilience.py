"""The resilience figure (``leonet resilience``): reachability, RTT stretch and time without service against
the failure rate, one line per network, the spread over seeds as a band (min..max) around the mean, the
baseline (rate 0, no faults) as the first point.  matplotlib's object API on the Agg canvas, as figures.py."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from leonet.report.figures import DPI, color, mpl_text

_PANELS = (
    ("reachability", "reachable pair-snapshots", True),
    ("stretch_median", "median RTT stretch (p95 dashed)", False),
    ("outage_mean_s", "time without service per terminal (s, mean)", False),
)


def _band(ax: Axes, x: np.ndarray, s: pa.Table, m: str, c: str, label: str | None, ls: str = "-") -> None:
    mean = np.asarray(s.column(f"{m}_mean").to_numpy(zero_copy_only=False), dtype=float)
    lo = np.asarray(s.column(f"{m}_min").to_numpy(zero_copy_only=False), dtype=float)
    hi = np.asarray(s.column(f"{m}_max").to_numpy(zero_copy_only=False), dtype=float)
    ax.plot(x, mean, ls, marker="o", ms=3, color=c, label=label)
    ax.fill_between(x, lo, hi, color=c, alpha=0.2, lw=0)


def resilience_figure(summary: pa.Table, title: str) -> Figure:
    """Three panels over the failure rate from :func:`leonet.resilience.summarise`'s table."""
    fig = Figure(figsize=(12, 3.8), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 3)
    nets = sorted(set(summary.column("network").to_pylist()))
    for i, net in enumerate(nets):
        s = summary.filter(pa.compute.equal(summary.column("network"), net))
        x = np.asarray(s.column("rate").to_numpy(), dtype=float)
        for ax, (m, _, _) in zip(axes, _PANELS, strict=True):
            _band(ax, x, s, m, color(i), mpl_text(net))
            if m == "stretch_median":
                _band(ax, x, s, "stretch_p95", color(i), None, "--")
    for ax, (_, label, pct) in zip(axes, _PANELS, strict=True):
        ax.set_xlabel("satellites and laser links failed")
        ax.set_title(label, fontsize=10)
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        if pct:
            ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        if label.startswith("median RTT stretch"):
            ax.set_yscale("log")  # stretch >= 1; pairs a few km apart have stretches in the thousands
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(mpl_text(f"{title}: resilience (band: min..max over seeds; rate 0: no faults)"), fontsize=11)
    return fig
