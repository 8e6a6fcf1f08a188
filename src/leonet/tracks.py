"""Terminal tracks: where a terminal is, how high and how fast, at every snapshot of the scenario clock.

A track is a list of timed points; a stationary terminal is a one-point track.  Input formats:

* **CSV** with a header: ``t_s`` (seconds after the scenario epoch) *or* ``time`` (ISO 8601, UTC when no
  offset is given), ``lat_deg``, ``lon_deg``, optional ``alt_m`` (default 0) and optional ``terminal_id``
  (several terminals in one file; without it the track is named after the file);
* **GeoJSON**: Features with a ``LineString`` (or ``Point``) geometry of ``[lon, lat]`` or
  ``[lon, lat, alt_m]`` positions (RFC 7946 §3.1.1) and a ``times`` property, one time per position
  (seconds after the epoch, or ISO 8601 strings); the track is named by the ``terminal_id`` (or ``id``)
  property, else by the file.

Between two points the terminal moves along the WGS-84 geodesic at constant speed (Karney 2013, "Algorithms
for geodesics", J. Geodesy 87:43-55, via ``pyproj.Geod``), so tracks may cross the antimeridian; altitude is
linear in time.  ``speed_kmh`` is the ground speed: the geodesic length of the bracketing segment over its
duration.  Before its first point and after its last, a terminal stays where it is, with speed 0.  At a
track point's own time the terminal is at that point and moves at the speed of the segment that starts there.

A segment implying a ground speed above ``max_speed_kmh`` (default :data:`MAX_SPEED_KMH`, 1,500 km/h: airliners
fly at about 900-1,000 km/h, and up to ~1,300 km/h over the ground in a jet stream; a scenario sets
``[ground] max_track_speed_kmh``) is an error naming the point (file:line); a speed exactly at the ceiling is
allowed.

Interpolation is a numba kernel (:func:`_interpolate_kernel`): per (time, track) a binary search for the
bracketing points; on a segment up to 15 km long (GPS and AIS logs: a point every few seconds or minutes) a
cubic Hermite curve through its end points and geodesic tangents, under 0.6 mm from the geodesic
(:func:`_hermite_setup`); on longer ones Vincenty's direct formula on WGS-84 (T. Vincenty, "Direct and
inverse solutions of geodesics on the ellipsoid with application of nested equations", Survey Review 23(176),
1975, pp. 88-93; sub-millimetre on the ellipsoid) from the earlier point along the segment's azimuth (computed once per
segment by ``pyproj.Geod.inv``, Karney's algorithm) for the elapsed fraction of its length.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from leonet.errors import InputError
from leonet.geodesy import _geod
from leonet.geojson_io import feature_properties, finite_number, parse_json
from leonet.timebase import as_utc

_MS_TO_KMH = 3.6
#: The default ceiling on the ground speed a track may imply (km/h); see the module docstring.
MAX_SPEED_KMH = 1500.0
#: Track times must lie within this many seconds of the epoch (about 31,700 years): beyond it they are not
#: representable as a datetime offset and are certainly a mistake.
MAX_ABS_TIME_S = 1e12


@dataclass(frozen=True)
class Track:
    """Timed points of one terminal: ``t_s`` seconds after the scenario epoch (strictly increasing),
    WGS-84 latitude / longitude (deg) and height (m)."""

    t_s: NDArray[np.float64]
    lat_deg: NDArray[np.float64]
    lon_deg: NDArray[np.float64]
    alt_m: NDArray[np.float64]


class TrackState(NamedTuple):
    """Positions on the clock, each shaped (snapshots T, tracks N)."""

    lat_deg: NDArray[np.float64]
    lon_deg: NDArray[np.float64]
    alt_m: NDArray[np.float64]
    speed_kmh: NDArray[np.float64]


def make_track(
    t_s: ArrayLike,
    lat_deg: ArrayLike,
    lon_deg: ArrayLike,
    alt_m: ArrayLike = 0.0,
    where: Sequence[str] | str = "track",
    max_speed_kmh: float = MAX_SPEED_KMH,
) -> Track:
    """A checked :class:`Track`. ``where`` names the places for errors: one string, or one per point (e.g.
    ``"file.csv:7"``); ``max_speed_kmh``: the highest ground speed a segment may imply (inclusive)."""
    t = np.atleast_1d(np.asarray(t_s, dtype=np.float64))
    lat, lon, alt = (
        np.broadcast_to(np.asarray(v, dtype=np.float64), t.shape).copy() for v in (lat_deg, lon_deg, alt_m)
    )
    places = [where] * t.size if isinstance(where, str) else list(where)

    def bad(mask: NDArray[np.bool_]) -> int | None:
        idx = np.flatnonzero(mask)
        return int(idx[0]) if idx.size else None

    if t.size == 0:
        raise InputError(places[0] if places else "track", "the track has no points; expected at least one")
    if (k := bad(~np.isfinite(t))) is not None:
        raise InputError(places[k], f"time {t[k]} is not a finite number; expected seconds after the epoch")
    if (k := bad(np.abs(t) > MAX_ABS_TIME_S)) is not None:
        raise InputError(
            places[k], f"time {t[k]:g} s is out of range; expected within {MAX_ABS_TIME_S:g} s of the epoch"
        )
    if (k := bad(~(np.abs(lat) <= 90.0))) is not None:
        raise InputError(places[k], f"lat_deg {lat[k]:g} is out of range; expected -90..90")
    if (k := bad(~(np.abs(lon) <= 180.0))) is not None:
        raise InputError(places[k], f"lon_deg {lon[k]:g} is out of range; expected -180..180")
    if (k := bad(~np.isfinite(alt))) is not None:
        raise InputError(places[k], f"alt_m {alt[k]} is not a finite number; expected metres")
    if (k := bad(np.diff(t) <= 0.0)) is not None:
        raise InputError(
            places[k + 1],
            f"time {t[k + 1]:g} s is not after the previous point's {t[k]:g} s; expected strictly increasing times",
        )
    if t.size > 1:
        _, _, dist_m = _geod_call("inv", lon[:-1], lat[:-1], lon[1:], lat[1:])
        speed = dist_m / np.diff(t) * _MS_TO_KMH
        if (k := bad(~(speed <= max_speed_kmh))) is not None:
            raise InputError(
                places[k + 1],
                f"the point is {dist_m[k] / 1e3:,.6g} km from the previous one, {t[k + 1] - t[k]:g} s later: "
                f"{_num(speed[k], max_speed_kmh)} km/h; expected at most {max_speed_kmh:g} km/h (the track speed "
                "ceiling, [ground] max_track_speed_kmh)",
            )
    return Track(t, lat, lon, alt)


def _num(v: float, limit: float) -> str:
    """A speed with thousands separators and as many decimals as keep it above ``limit`` (never "1500 km/h;
    expected at most 1500")."""
    for digits in range(7):
        if float(f"{v:.{digits}f}") > limit:
            return f"{v:,.{digits}f}"
    return repr(float(v))


def stationary(lat_deg: float, lon_deg: float, alt_m: float = 0.0) -> Track:
    """A terminal that does not move (a one-point track)."""
    return make_track([0.0], [lat_deg], [lon_deg], [alt_m], "stationary terminal")


def _seconds(value: Any, epoch: datetime, where: str) -> float:
    """Seconds after ``epoch`` of a number (already seconds) or an ISO 8601 string (UTC when naive)."""
    if isinstance(value, bool):
        raise InputError(where, f"time {value!r} is not a time; expected seconds or ISO 8601")
    if isinstance(value, int | float):
        try:
            return float(value)
        except OverflowError:
            raise InputError(where, "time is an integer too large; expected seconds or ISO 8601") from None
    if isinstance(value, str):
        try:
            return (as_utc(datetime.fromisoformat(value.strip())) - as_utc(epoch)).total_seconds()
        except (ValueError, OverflowError):
            pass
    shown = repr(value) if len(repr(value)) < 60 else repr(value)[:57] + "..."
    raise InputError(where, f"time {shown} is not understood; expected ISO 8601 (e.g. 2026-02-01T12:00:00Z)")


def _number(value: str, where: str, column: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(where, f"{column} {value!r} is not a number; expected a decimal number") from None
    if not math.isfinite(v):
        raise InputError(where, f"{column} {value!r} is not finite; expected a decimal number")
    return v


def parse_tracks_csv(
    text: str, epoch: datetime, source: str = "<tracks.csv>", max_speed_kmh: float = MAX_SPEED_KMH
) -> dict[str, Track]:
    """Tracks from CSV text (see the module docstring), keyed by ``terminal_id`` (or the file's stem)."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        cols = [c.strip() for c in reader.fieldnames or []]
    except csv.Error as exc:
        raise InputError(f"{source}:1", f"unreadable CSV header ({exc}); expected comma-separated text") from None
    reader.fieldnames = cols
    if not cols:
        raise InputError(f"{source}:1", "no header; expected columns t_s or time, lat_deg, lon_deg[, alt_m]")
    has_t, has_time = "t_s" in cols, "time" in cols
    if has_t == has_time:
        raise InputError(f"{source}:1", f"header {cols}: expected exactly one of the columns t_s, time")
    missing = [c for c in ("lat_deg", "lon_deg") if c not in cols]
    if missing:
        raise InputError(f"{source}:1", f"header {cols} lacks {', '.join(missing)}; expected lat_deg and lon_deg")
    default_id = Path(source).stem
    rows: dict[str, list[tuple[float, float, float, float, str]]] = {}
    try:
        _read_rows(reader, source, cols, has_t, epoch, default_id, rows)
    except csv.Error as exc:
        where = f"{source}:{reader.line_num}"
        raise InputError(where, f"unreadable CSV ({exc}); expected comma-separated text") from None
    if not rows:
        raise InputError(source, "no track points; expected at least one row")
    out = {}
    for key, pts in rows.items():
        cols_ = list(zip(*pts, strict=True))
        out[key] = make_track(cols_[0], cols_[1], cols_[2], cols_[3], [str(w) for w in cols_[4]], max_speed_kmh)
    return out


def _read_rows(
    reader: csv.DictReader[str],
    source: str,
    cols: list[str],
    has_t: bool,
    epoch: datetime,
    default_id: str,
    rows: dict[str, list[tuple[float, float, float, float, str]]],
) -> None:
    for row in reader:
        where = f"{source}:{reader.line_num}"
        if None in row or any(row.get(c) is None for c in cols):
            raise InputError(
                where,
                f"row has {len([v for v in row.values() if v is not None])} fields; expected "
                f"{len(cols)} ({', '.join(cols)})",
            )
        t = _number(row["t_s"], where, "t_s") if has_t else _seconds(row["time"], epoch, where)
        lat = _number(row["lat_deg"], where, "lat_deg")
        lon = _number(row["lon_deg"], where, "lon_deg")
        alt = _number(row["alt_m"], where, "alt_m") if row.get("alt_m", "").strip() else 0.0
        key = row.get("terminal_id", "").strip() or default_id
        rows.setdefault(key, []).append((t, lat, lon, alt, where))


def parse_tracks_geojson(
    doc: Any, epoch: datetime, source: str = "<tracks.geojson>", max_speed_kmh: float = MAX_SPEED_KMH
) -> dict[str, Track]:
    """Tracks from a parsed GeoJSON Feature / FeatureCollection (see the module docstring)."""
    if not isinstance(doc, Mapping) or doc.get("type") not in ("Feature", "FeatureCollection"):
        raise InputError(source, "not a GeoJSON Feature or FeatureCollection; expected LineString features with times")
    feats = doc.get("features") if doc["type"] == "FeatureCollection" else [doc]
    if not isinstance(feats, list) or not feats:
        raise InputError(source, "no features; expected LineString features with a times property")
    out: dict[str, Track] = {}
    for i, f in enumerate(feats):
        where = f"{source} feature {i}"
        geom = f.get("geometry") if isinstance(f, Mapping) else None
        props = feature_properties(f, where)
        if not isinstance(geom, Mapping) or geom.get("type") not in ("LineString", "Point"):
            raise InputError(where, "geometry is not a LineString or Point; expected a LineString with times")
        coords = geom.get("coordinates")
        coords = [coords] if geom["type"] == "Point" else coords
        if not isinstance(coords, list) or not coords:
            raise InputError(where, "no coordinates; expected [[lon, lat], ...]")
        times = props.get("times", [0.0] if geom["type"] == "Point" else None)
        if not isinstance(times, list) or len(times) != len(coords):
            n_t = len(times) if isinstance(times, list) else "no"
            raise InputError(
                where, f"{n_t} times for {len(coords)} positions; expected a times property with one time per position"
            )
        pts = []
        for k, p in enumerate(coords):
            vals = [finite_number(v) for v in p] if isinstance(p, list) and len(p) in (2, 3) else [None]
            if any(v is None for v in vals):
                shown = repr(p) if len(repr(p)) < 60 else repr(p)[:57] + "..."
                raise InputError(
                    f"{where} coordinates[{k}]",
                    f"position {shown}; expected [lon, lat] or [lon, lat, h] of finite numbers",
                )
            x = [float(v) for v in vals if v is not None]
            pts.append((x[0], x[1], x[2] if len(x) == 3 else 0.0))
        xy = np.array(pts)
        if np.any(np.abs(xy[:, 1]) > 90.0) and np.all(np.abs(xy[:, 0]) <= 90.0):
            k = int(np.argmax(np.abs(xy[:, 1]) > 90.0))
            raise InputError(
                f"{where} coordinates[{k}]",
                f"positions look like [lat, lon] (every first value within "
                f"±90, a second value {xy[k, 1]:g}); expected [lon, lat] order (RFC 7946 §3.1.1)",
            )
        t = [_seconds(v, epoch, f"{where} times[{k}]") for k, v in enumerate(times)]
        key = str(props.get("terminal_id") or props.get("id") or (Path(source).stem if len(feats) == 1 else i))
        if key in out:
            raise InputError(where, f"a second track for terminal {key!r}; expected one feature per terminal")
        places = [f"{where} coordinates[{k}]" for k in range(len(t))]
        out[key] = make_track(t, xy[:, 1], xy[:, 0], xy[:, 2], places, max_speed_kmh)
    return out


def load_tracks(path: str | Path, epoch: datetime, max_speed_kmh: float = MAX_SPEED_KMH) -> dict[str, Track]:
    """Read tracks from a ``.csv`` or ``.geojson`` / ``.json`` file, keyed by terminal id."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problem = f"cannot read it ({exc.__class__.__name__}); expected a UTF-8 CSV or GeoJSON file"
        raise InputError(str(p), problem) from None
    if p.suffix.lower() == ".csv":
        return parse_tracks_csv(text, epoch, str(p), max_speed_kmh)
    if p.suffix.lower() in (".geojson", ".json"):
        return parse_tracks_geojson(parse_json(text, str(p)), epoch, str(p), max_speed_kmh)
    raise InputError(str(p), f"unknown track file type {p.suffix!r}; expected .csv, .geojson or .json")


def load_track(path: str | Path, epoch: datetime) -> Track:
    """Read a file holding exactly one track."""
    tracks = load_tracks(path, epoch)
    if len(tracks) != 1:
        raise InputError(str(path), f"{len(tracks)} tracks ({', '.join(list(tracks)[:5])}); expected one")
    return next(iter(tracks.values()))


def _geod_call(method: str, *args: NDArray[np.float64]) -> tuple[NDArray[np.float64], ...]:
    """``pyproj.Geod.fwd`` / ``inv`` on equally shaped arrays, results in the same shape (one-element arrays
    are passed as floats: pyproj would otherwise take its scalar path through a deprecated array conversion)."""
    shape = args[0].shape
    if args[0].size == 1:
        out = getattr(_geod(), method)(*(float(a.reshape(-1)[0]) for a in args))
    else:
        out = getattr(_geod(), method)(*(np.ascontiguousarray(a, dtype=np.float64).reshape(-1) for a in args))
    return tuple(np.asarray(o, dtype=np.float64).reshape(shape) for o in out)


@dataclass(frozen=True)
class TrackSet:
    """Many tracks in flat arrays (track ``n`` is points ``start[n] : start[n] + count[n]``), with the
    azimuth (deg) and length (m) of every segment precomputed (``seg_*[j]``: from point ``j`` to ``j + 1``)."""

    t_s: NDArray[np.float64]
    lat_deg: NDArray[np.float64]
    lon_deg: NDArray[np.float64]
    alt_m: NDArray[np.float64]
    start: NDArray[np.int64]
    count: NDArray[np.int64]
    seg_az_deg: NDArray[np.float64]
    seg_len_m: NDArray[np.float64]
    #: per segment: the geodesic's tangents at both ends for the Hermite curve (deg: dlat0, dlon0, dlat1, dlon1),
    #: and the row of ``vincenty`` for a segment that takes Vincenty's formula instead (-1: the Hermite curve)
    seg_tangent: NDArray[np.float64]
    seg_long: NDArray[np.int64]
    #: per long segment, the terms of Vincenty's direct formula that depend only on its start and azimuth
    vincenty: NDArray[np.float64]

    @classmethod
    def of(cls, tracks: Sequence[Track]) -> TrackSet:
        count = np.array([tr.t_s.size for tr in tracks], dtype=np.int64)
        start = np.r_[0, np.cumsum(count)[:-1]].astype(np.int64)
        t = np.concatenate([tr.t_s for tr in tracks]) if tracks else np.zeros(0)
        lat = np.concatenate([tr.lat_deg for tr in tracks]) if tracks else np.zeros(0)
        lon = np.concatenate([tr.lon_deg for tr in tracks]) if tracks else np.zeros(0)
        alt = np.concatenate([tr.alt_m for tr in tracks]) if tracks else np.zeros(0)
        az = np.zeros(t.size)
        az_end = np.zeros(t.size)
        dist = np.zeros(t.size)
        if t.size > 1:
            a, back, d = _geod_call("inv", lon[:-1], lat[:-1], lon[1:], lat[1:])
            az[:-1], az_end[:-1], dist[:-1] = a, back + 180.0, d
        last = start + count - 1
        dist[last] = 0.0  # no segment from a track's last point into the next track
        from leonet._track_kernels import _hermite_setup, _vincenty_setup

        short, tangent = _hermite_setup(lat, lon, az, az_end, dist)
        long_ = np.flatnonzero(~short)
        seg_long = np.full(t.size, -1, dtype=np.int64)
        seg_long[long_] = np.arange(long_.size)
        return cls(t, lat, lon, alt, start, count, az, dist, tangent, seg_long, _vincenty_setup(lat[long_], az[long_]))


def interpolate(tracks: Sequence[Track] | TrackSet, t_s: ArrayLike) -> TrackState:
    """Positions, heights and ground speeds of N tracks at T times (seconds after the epoch), each (T, N).

    One compiled pass over all (time, track) pairs: the bracketing points by binary search, the position along
    the geodesic between them (Vincenty's direct formula from the earlier point, along the segment's azimuth,
    for the elapsed fraction of its length)."""
    from leonet._track_kernels import _interpolate_kernel

    ts = tracks if isinstance(tracks, TrackSet) else TrackSet.of(tracks)
    t = np.ascontiguousarray(np.atleast_1d(np.asarray(t_s, dtype=np.float64)).reshape(-1))
    shape = (t.size, ts.start.size)
    out = [np.empty(shape) for _ in range(4)]
    if ts.start.size:
        _interpolate_kernel(
            t,
            ts.t_s,
            ts.lat_deg,
            ts.lon_deg,
            ts.alt_m,
            ts.start,
            ts.count,
            ts.seg_len_m,
            ts.seg_tangent,
            ts.seg_long,
            ts.vincenty,
            *out,
        )
    return TrackState(*out)
