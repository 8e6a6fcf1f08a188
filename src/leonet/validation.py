"""The access model against published latency (issue 9 §5; ``docs/validation.md``), as pure functions.

:func:`region_rtt` reduces an access table (``leonet.access_table``) to terminal -> PoP RTT statistics per region
(a terminal counts in the region of the PoP it is served by); :func:`compare` sets them beside the published
figures (``leonet.catalog.published_latency``) with one named fixed delay calibrated on one region only and the
fit reported on the others, never tuned per comparison; :func:`slot_edge_share` and :func:`rtt_steps` measure the
15-s structure (the share of serving-satellite changes that fall on a reconfiguration slot edge, and the RTT change
between consecutive snapshots across a slot edge against inside a slot).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from leonet.catalog import PublishedLatency

#: ISO 3166-1 alpha-2 codes counted as Europe (the EU, EFTA, the UK and the European microstates)
EUROPE = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
        "IS",
        "LI",
        "NO",
        "CH",
        "GB",
        "AD",
        "MC",
        "SM",
        "VA",
    ]
)


def region_of_country(iso_a2: str) -> str:
    """``US``, ``Europe`` or the ISO code itself."""
    return "Europe" if iso_a2 in EUROPE else iso_a2


@dataclass(frozen=True)
class RegionRtt:
    region: str
    #: terminal-snapshots served through a PoP of the region
    samples: int
    median_ms: float
    p5_ms: float
    p95_ms: float


def region_rtt(access: pa.Table, pop_country: Mapping[str, str]) -> list[RegionRtt]:
    """Terminal -> PoP RTT (2 x ``one_way_ms``) per region of the serving PoP, over every served
    terminal-snapshot of ``access`` (columns ``pop``, ``one_way_ms``); ``pop_country``: PoP name -> ISO code."""
    pop = access.column("pop").cast(pa.string()).to_pylist()
    ow = np.asarray(pc.fill_null(access.column("one_way_ms"), np.nan).to_numpy(zero_copy_only=False), dtype=float)
    served = np.isfinite(ow)
    region = np.array([region_of_country(pop_country.get(p, "")) if p else "" for p in pop], dtype=object)
    out = []
    for r in sorted({x for x in region[served]}):
        x = 2.0 * ow[served & (region == r)]
        p5, med, p95 = np.percentile(x, [5, 50, 95])
        out.append(RegionRtt(str(r), len(x), float(med), float(p5), float(p95)))
    return out


@dataclass(frozen=True)
class Comparison:
    published: PublishedLatency
    #: the model's median for the figure's region (the median over every region for ``global``); NaN: none
    modelled_ms: float
    #: modelled + the fixed delay calibrated on ``calibrated_on``
    calibrated_ms: float
    #: the figure is the one the fixed delay was fitted to (its calibrated value equals it by construction)
    fitted: bool


def compare(
    modelled: Sequence[RegionRtt], published: Sequence[PublishedLatency], calibrate_on: str = "US"
) -> tuple[float, list[Comparison]]:
    """The fixed delay (ms of RTT) that makes the model's median in ``calibrate_on`` equal the first published
    operator median there (the dish -> PoP figure, the same path as the model's), and every published median
    beside the model's, raw and with that one delay added.  Figures of other statistics or paths are listed too
    (``statistic`` / ``path`` say what they are); they are not fitted."""
    by_region = {m.region: m for m in modelled}
    fit = next(
        (p for p in published if p.region == calibrate_on and p.statistic == "median" and "PoP round" in p.path),
        None,
    )
    if fit is None or calibrate_on not in by_region:
        raise ValueError(f"no operator median and no modelled terminals for {calibrate_on!r}; expected both")
    delay = fit.rtt_ms - by_region[calibrate_on].median_ms
    total = sum(m.samples for m in modelled)
    weights = [m.samples for m in modelled]
    overall = float(np.average([m.median_ms for m in modelled], weights=weights)) if total else np.nan
    rows = []
    for p in published:
        m = overall if p.region == "global" else by_region[p.region].median_ms if p.region in by_region else np.nan
        rows.append(Comparison(p, m, m + delay, p is fit))
    return delay, rows


def slot_edge_share(access: pa.Table, slot_s: float = 15.0) -> tuple[int, float]:
    """Serving-satellite changes between consecutive snapshots of each terminal (served at both), and the
    share of them at a snapshot on a slot edge (``t_s`` a multiple of ``slot_s``)."""
    t = access.column("t_s").to_numpy()
    term = access.column("terminal").cast(pa.string()).to_pylist()
    sat = np.asarray(pc.fill_null(access.column("serving_sat"), -1).to_numpy(zero_copy_only=False), dtype=np.int64)
    _, tid = np.unique(np.array(term, dtype=object), return_inverse=True)
    order = np.lexsort((t, tid))
    t, tid, sat = t[order], tid[order], sat[order]
    same = tid[1:] == tid[:-1]
    change = same & (sat[1:] != sat[:-1]) & (sat[1:] >= 0) & (sat[:-1] >= 0)
    n = int(change.sum())
    if n == 0:
        return 0, float("nan")
    edge = np.isclose(np.mod(t[1:][change], slot_s), 0.0)
    return n, float(edge.mean())


def handovers_per_edge(access: pa.Table, slot_s: float = 15.0) -> tuple[int, float]:
    """The slot edges a terminal crosses served on both sides (consecutive snapshots of one terminal, served at
    both, the later on an edge), and the share of them at which its serving satellite changes (measured: nearly
    every edge, the "15-second regular handover interval")."""
    t = access.column("t_s").to_numpy()
    term = np.array(access.column("terminal").cast(pa.string()).to_pylist(), dtype=object)
    sat = np.asarray(pc.fill_null(access.column("serving_sat"), -1).to_numpy(zero_copy_only=False), dtype=np.int64)
    _, tid = np.unique(term, return_inverse=True)
    order = np.lexsort((t, tid))
    t, tid, sat = t[order], tid[order], sat[order]
    crossing = (tid[1:] == tid[:-1]) & (sat[1:] >= 0) & (sat[:-1] >= 0) & np.isclose(np.mod(t[1:], slot_s), 0.0)
    n = int(crossing.sum())
    return n, float((sat[1:] != sat[:-1])[crossing].mean()) if n else float("nan")


@dataclass(frozen=True)
class RttSteps:
    """|RTT change| (ms) between consecutive snapshots of a terminal served at both, split by whether the later
    snapshot is on a slot edge: the count, mean and 99th percentile of each (NaN: none)."""

    n_edge: int
    edge_mean_ms: float
    edge_p99_ms: float
    n_inside: int
    inside_mean_ms: float
    inside_p99_ms: float


def rtt_steps(access: pa.Table, slot_s: float = 15.0) -> RttSteps:
    """The RTT steps of :class:`RttSteps` from an access table (columns ``t_s``, ``terminal``, ``one_way_ms``)."""
    t = access.column("t_s").to_numpy()
    term = np.array(access.column("terminal").cast(pa.string()).to_pylist(), dtype=object)
    ow = np.asarray(pc.fill_null(access.column("one_way_ms"), np.nan).to_numpy(zero_copy_only=False), dtype=float)
    _, tid = np.unique(term, return_inverse=True)
    order = np.lexsort((t, tid))
    t, tid, rtt = t[order], tid[order], 2.0 * ow[order]
    both = (tid[1:] == tid[:-1]) & np.isfinite(rtt[1:]) & np.isfinite(rtt[:-1])
    step = np.abs(np.diff(rtt))[both]
    edge = np.isclose(np.mod(t[1:][both], slot_s), 0.0)

    def stats(x: NDArray[np.float64]) -> tuple[int, float, float]:
        return (len(x), float(x.mean()), float(np.percentile(x, 99))) if len(x) else (0, np.nan, np.nan)

    return RttSteps(*stats(step[edge]), *stats(step[~edge]))
