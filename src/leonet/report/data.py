"""What the report plots, read out of a :class:`~leonet.results.Results`: which pairs, their RTT series, the path
of one pair at one snapshot.  Pure: reads the tables, computes nothing new about the network."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from leonet import routes_table
from leonet.errors import InputError
from leonet.results import Results

#: Pairs plotted at most (panels of the RTT figure); more requested pairs are listed as left out.
MAX_PLOTTED_PAIRS = 10
#: When the scenario names no pairs: this many of the longest pairs, plus one short pair of at least ...
DEFAULT_LONG_PAIRS = 3
#: ... this great-circle distance (the shortest pair overall when none is as long).
SHORT_PAIR_MIN_KM = 1000.0

Pair = tuple[str, str]


@dataclass(frozen=True)
class PairChoice:
    """The pairs the report plots, in the routed orientation ``(src_name, dst_name)``, and why any were left out."""

    pairs: list[Pair]
    chosen_by: str
    notes: list[str] = field(default_factory=list)


def _routed_pairs(summary: pa.Table) -> dict[Pair, float]:
    """Every routed pair (in routed orientation) and its great-circle distance, in summary order."""
    out: dict[Pair, float] = {}
    for s, d, km in zip(
        summary.column("src_name").to_pylist(),
        summary.column("dst_name").to_pylist(),
        summary.column("gc_km").to_pylist(),
        strict=True,
    ):
        out.setdefault((str(s), str(d)), float(km))
    return out


def choose_pairs(results: Results, requested: Sequence[Sequence[str]] | None = None) -> PairChoice:
    """The pairs to plot: ``requested`` (else the scenario's ``report.pairs``) matched to routed pairs, in either
    direction, each name read as the scenario loader reads it (:meth:`GroundNodes.index`); if none are named, the
    :data:`DEFAULT_LONG_PAIRS` longest pairs (preferring pairs that share no node) and one short pair."""
    routed = _routed_pairs(results.summary)
    if requested is None:
        requested = [list(p) for p in results.scenario.report.pairs]
    if requested:
        return _match_requested(results, routed, requested)
    return PairChoice(_default_pairs(routed), "picked by the report: the longest great-circle pairs and a short one")


def _match_requested(results: Results, routed: dict[Pair, float], requested: Sequence[Sequence[str]]) -> PairChoice:
    ground = results.prepared.ground

    def resolve(name: str) -> str | None:  # the loader's own reading of a name (aliases, folding)
        try:
            return ground.names[ground.index(name)]
        except InputError:
            return None

    pairs: list[Pair] = []
    notes: list[str] = []
    for req in requested:
        a_req, b_req = str(req[0]), str(req[1])
        a, b = resolve(a_req), resolve(b_req)
        pair = None
        if a is not None and b is not None:
            pair = (a, b) if (a, b) in routed else (b, a) if (b, a) in routed else None
        if pair is None:
            why = "names no ground node of the scenario" if a is None or b is None else "is not among the routed pairs"
            notes.append(f"requested pair {a_req} – {b_req} {why}; left out")
        elif pair in pairs:
            continue
        elif len(pairs) >= MAX_PLOTTED_PAIRS:
            notes.append(f"requested pair {a_req} – {b_req} left out: at most {MAX_PLOTTED_PAIRS} pairs are plotted")
        else:
            if (a, b) != (a_req, b_req) and (b, a) != (a_req, b_req):
                notes.append(f"requested pair {a_req} – {b_req} read as {pair[0]} – {pair[1]}")
            pairs.append(pair)
    return PairChoice(pairs, "named in the scenario's [report] pairs", notes)


def _default_pairs(routed: dict[Pair, float]) -> list[Pair]:
    by_len = sorted(routed, key=lambda p: (-routed[p], p))
    chosen: list[Pair] = []
    used: set[str] = set()
    for p in by_len:  # longest first, a node at most once while that is possible
        if len(chosen) == DEFAULT_LONG_PAIRS:
            break
        if not (set(p) & used):
            chosen.append(p)
            used |= set(p)
    for p in by_len:
        if len(chosen) == min(DEFAULT_LONG_PAIRS, len(by_len)):
            break
        if p not in chosen:
            chosen.append(p)
    rest = [p for p in reversed(by_len) if p not in chosen]
    short = [p for p in rest if routed[p] >= SHORT_PAIR_MIN_KM] or rest
    if short:
        chosen.append(short[0])
    return chosen


@dataclass(frozen=True)
class Series:
    """RTT of one pair over time in one network (NaN where unreachable)."""

    t_s: NDArray[np.float64]
    rtt_ms: NDArray[np.float64]
    path_changed: NDArray[np.bool_]


def pair_series(results: Results, pairs: Sequence[Pair]) -> dict[tuple[str, Pair], Series]:
    """RTT series keyed by ``(network, (src_name, dst_name))`` for the given pairs, every network."""
    if not pairs:
        return {}
    want = pa.table({"a": [p[0] for p in pairs], "b": [p[1] for p in pairs]})
    con = duckdb.connect()
    try:
        routes_table.register(con, results.routes)
        con.register("want", want)
        tab = con.execute(
            """SELECT r.network::VARCHAR AS network, r.src_name::VARCHAR AS a, r.dst_name::VARCHAR AS b,
                      r.t_s, r.rtt_ms, r.path_changed
               FROM routes r JOIN want w ON r.src_name::VARCHAR = w.a AND r.dst_name::VARCHAR = w.b
               ORDER BY network, a, b, r.t_s"""
        ).fetch_arrow_table()
    finally:
        con.close()
    net = np.asarray(tab.column("network").to_pylist(), dtype=object)
    a = np.asarray(tab.column("a").to_pylist(), dtype=object)
    b = np.asarray(tab.column("b").to_pylist(), dtype=object)
    t = tab.column("t_s").to_numpy()
    rtt = tab.column("rtt_ms").to_numpy(zero_copy_only=False).astype(np.float64)
    changed = tab.column("path_changed").to_numpy(zero_copy_only=False).astype(bool)
    out: dict[tuple[str, Pair], Series] = {}
    if len(t) == 0:
        return out
    key_change = np.flatnonzero((net[1:] != net[:-1]) | (a[1:] != a[:-1]) | (b[1:] != b[:-1])) + 1
    starts = np.r_[0, key_change]
    ends = np.r_[key_change, len(t)]
    for s, e in zip(starts, ends, strict=True):
        out[(str(net[s]), (str(a[s]), str(b[s])))] = Series(t[s:e], rtt[s:e], changed[s:e])
    return out


@dataclass(frozen=True)
class PathAt:
    """The route of one pair at one snapshot of one network: node ids, lat / lon of each, and its RTT."""

    network: str
    pair: Pair
    t_s: float
    node_ids: list[int]
    lat_deg: NDArray[np.float64]
    lon_deg: NDArray[np.float64]
    rtt_ms: float | None
    hops: int


def path_at(results: Results, network: str, pair: Pair, t_s: float, lat: NDArray[np.float64],
            lon: NDArray[np.float64]) -> PathAt:  # fmt: skip
    """The route of ``pair`` in ``network`` at snapshot ``t_s``; ``lat`` / ``lon`` are every node's position then."""
    con = duckdb.connect()
    try:
        routes_table.register(con, results.routes)
        row = con.execute(
            """SELECT path, rtt_ms, hops FROM routes
               WHERE network::VARCHAR = ? AND src_name::VARCHAR = ? AND dst_name::VARCHAR = ? AND t_s = ? LIMIT 1""",
            [network, pair[0], pair[1], t_s],
        ).fetchone()
    finally:
        con.close()
    ids: list[int] = [] if row is None or row[0] is None else [int(x) for x in row[0]]
    rtt = None if row is None or row[1] is None or not math.isfinite(row[1]) else float(row[1])
    hops = 0 if row is None else int(row[2])
    idx = np.asarray(ids, dtype=np.int64)
    return PathAt(network, pair, t_s, ids, lat[idx], lon[idx], rtt, hops)


def slot_boundaries(results: Results) -> NDArray[np.float64]:
    """Times of the reconfiguration-slot boundaries inside the window (multiples of the interval after the epoch,
    as the engine counts slots); empty in ``ideal`` mode."""
    sc = results.scenario
    if sc.routing.mode != "reconfig":
        return np.empty(0)
    step = sc.routing.reconfiguration_interval_s
    t0, t1 = sc.time.start_s, sc.time.end_s
    k0, k1 = math.floor(t0 / step) + 1, math.floor(t1 / step + 1e-9)
    if k1 < k0:
        return np.empty(0)
    return step * np.arange(k0, k1 + 1, dtype=np.float64)


def split_antimeridian(lon: Sequence[float] | NDArray[np.float64], lat: Sequence[float] | NDArray[np.float64]
                       ) -> list[tuple[list[float], list[float]]]:  # fmt: skip
    """A lon / lat polyline cut where a segment crosses the antimeridian (a step of more than 180 deg in longitude
    is read as the short way round): pieces ``(lons, lats)``, each ending / starting at +-180 deg."""
    lon_l = [float(x) for x in lon]
    lat_l = [float(y) for y in lat]
    if not lon_l:
        return []
    pieces: list[tuple[list[float], list[float]]] = [([lon_l[0]], [lat_l[0]])]
    for i in range(1, len(lon_l)):
        x0, y0, x1, y1 = lon_l[i - 1], lat_l[i - 1], lon_l[i], lat_l[i]
        if abs(x1 - x0) > 180.0:
            edge = 180.0 if x0 > 0 else -180.0  # the side the segment leaves from
            x1u = x1 + 360.0 if x0 > 0 else x1 - 360.0
            f = (edge - x0) / (x1u - x0) if x1u != x0 else 0.0
            yc = y0 + f * (y1 - y0)
            pieces[-1][0].append(edge)
            pieces[-1][1].append(yc)
            pieces.append(([-edge], [yc]))
        pieces[-1][0].append(x1)
        pieces[-1][1].append(y1)
    return pieces


def great_circle(lat1: float, lon1: float, lat2: float, lon2: float, n: int = 128
                 ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:  # fmt: skip
    """``n`` points (lat, lon deg) along the great circle between two points of a sphere (for drawing only)."""

    def unit(lat: float, lon: float) -> NDArray[np.float64]:
        la, lo = math.radians(lat), math.radians(lon)
        return np.array([math.cos(la) * math.cos(lo), math.cos(la) * math.sin(lo), math.sin(la)])

    p, q = unit(lat1, lon1), unit(lat2, lon2)
    omega = math.acos(max(-1.0, min(1.0, float(p @ q))))
    f = np.linspace(0.0, 1.0, n)
    if omega < 1e-9:
        pts = np.outer(np.ones(n), p)
    else:
        pts = (np.outer(np.sin((1 - f) * omega), p) + np.outer(np.sin(f * omega), q)) / math.sin(omega)
    lat = np.degrees(np.arctan2(pts[:, 2], np.hypot(pts[:, 0], pts[:, 1])))
    lon = np.degrees(np.arctan2(pts[:, 1], pts[:, 0]))
    return lat, lon
