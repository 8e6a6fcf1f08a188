"""Geofence geometry: GeoJSON Polygon / MultiPolygon objects checked and turned into shapely geometries.

Checks, each failing with an :class:`~leonet.errors.InputError` that names the feature, polygon, ring and
position (RFC 7946, "The GeoJSON Format", sections cited below):

* positions are ``[lon, lat]`` or ``[lon, lat, alt]`` numbers, lon in -180..180, lat in -90..90 (§3.1.1, §4);
  when every first value is within ±90 and some second value is beyond ±90 the axes are reported as swapped;
* linear rings are closed (last position = first) and have at least four positions (§3.1.6);
* no ring crosses the antimeridian (a jump of more than 180 deg in longitude; §3.1.9 asks for a split);
* no ring intersects itself and the polygon is valid (``shapely.is_valid`` / ``shapely.is_valid_reason``,
  the OGC Simple Features rules as implemented by GEOS).

``load_geojson_geometry`` reads a file (FeatureCollection, Feature or bare geometry), picks features by
property, and checks each one the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from leonet.errors import InputError
from leonet.geojson_io import feature_properties, finite_number, parse_json

_AREAL = ("Polygon", "MultiPolygon")


def _fmt(v: float) -> str:
    return f"{v:.6g}"


def _position(p: Any, where: str) -> tuple[float, float]:
    if not isinstance(p, list | tuple) or len(p) not in (2, 3):
        raise InputError(where, f"position {p!r} is not a list of 2 or 3 numbers; expected [lon, lat] or [lon, lat, h]")
    out = []
    for v in p:  # every value, the altitude too: a position is an array of numbers (RFC 7946 §3.1.1)
        x = finite_number(v)
        if x is None:
            shown = repr(p) if len(repr(p)) < 80 else repr(p)[:77] + "..."
            raise InputError(where, f"position {shown} has a non-numeric or non-finite value; expected numbers")
        out.append(x)
    return out[0], out[1]


def _rings(obj: Mapping[str, Any], where: str) -> list[tuple[str, list[list[tuple[float, float]]]]]:
    """The polygons of a Polygon / MultiPolygon object as (where-prefix, rings of positions)."""
    kind = obj.get("type")
    coords = obj.get("coordinates")
    if kind not in _AREAL:
        raise InputError(where, f"geometry type {kind!r} cannot be a region; expected Polygon or MultiPolygon")
    if not isinstance(coords, list) or not coords:
        raise InputError(where, "'coordinates' is missing or empty; expected a list of linear rings")
    polys = [(where, coords)] if kind == "Polygon" else [(f"{where} polygon {i}", c) for i, c in enumerate(coords)]
    out = []
    for pwhere, rings in polys:
        if not isinstance(rings, list) or not rings:
            raise InputError(pwhere, "polygon has no rings; expected an exterior ring and optional holes")
        parsed = []
        for j, ring in enumerate(rings):
            rwhere = f"{pwhere} ring {j}"
            if not isinstance(ring, list):
                raise InputError(rwhere, f"ring is {type(ring).__name__}; expected a list of positions")
            parsed.append([_position(p, f"{rwhere} position {k}") for k, p in enumerate(ring)])
        out.append((pwhere, parsed))
    return out


def _check_axes(polys: list[tuple[str, list[list[tuple[float, float]]]]], where: str) -> None:
    xy = np.array([p for _, rings in polys for ring in rings for p in ring], dtype=np.float64).reshape(-1, 2)
    if xy.size == 0:
        return
    bad_lat = np.abs(xy[:, 1]) > 90.0
    if bad_lat.any():
        k = int(np.argmax(bad_lat))
        if np.all(np.abs(xy[:, 0]) <= 90.0):
            raise InputError(
                where,
                f"coordinates look like [lat, lon]: every first value is within ±90 but a second value is "
                f"{_fmt(xy[k, 1])} (position [{_fmt(xy[k, 0])}, {_fmt(xy[k, 1])}]); expected [lon, lat] order "
                "(RFC 7946 §3.1.1)",
            )
        raise InputError(where, f"latitude {_fmt(xy[k, 1])} is out of range; expected -90..90")
    bad_lon = np.abs(xy[:, 0]) > 180.0
    if bad_lon.any():
        k = int(np.argmax(bad_lon))
        raise InputError(where, f"longitude {_fmt(xy[k, 0])} is out of range; expected -180..180")


def _check_ring(ring: list[tuple[float, float]], where: str) -> None:
    if len(ring) < 4:
        raise InputError(where, f"ring has {len(ring)} positions; expected at least 4 (a closed ring, RFC 7946 §3.1.6)")
    if ring[0] != ring[-1]:
        raise InputError(
            where,
            f"ring is not closed (first position [{_fmt(ring[0][0])}, {_fmt(ring[0][1])}], last "
            f"[{_fmt(ring[-1][0])}, {_fmt(ring[-1][1])}]); expected the last position to repeat the first "
            "(RFC 7946 §3.1.6)",
        )
    lon = np.array([p[0] for p in ring])
    jump = np.flatnonzero(np.abs(np.diff(lon)) > 180.0)
    if jump.size:
        k = int(jump[0])
        raise InputError(
            where,
            f"ring crosses the antimeridian between positions {k} and {k + 1} (lon {_fmt(lon[k])} to "
            f"{_fmt(lon[k + 1])}); expected it split into parts at ±180 (RFC 7946 §3.1.9)",
        )
    lr = shapely.linearrings(ring)
    if not shapely.is_simple(lr):
        reason = shapely.is_valid_reason(shapely.polygons(lr))
        raise InputError(where, f"ring intersects itself ({reason}); expected a simple ring")


def geometry_from_geojson(obj: Any, where: str) -> shapely.Geometry:
    """A valid shapely Polygon / MultiPolygon from a GeoJSON geometry object (a parsed dict).

    ``where`` names the place for errors (e.g. ``"scenario.toml [policy.geofences] crimea geometry"``).
    """
    if not isinstance(obj, Mapping):
        raise InputError(where, f"geometry is {type(obj).__name__}; expected a GeoJSON geometry object")
    polys = _rings(obj, where)
    _check_axes(polys, where)
    shapes = []
    for pwhere, rings in polys:
        for j, ring in enumerate(rings):
            _check_ring(ring, f"{pwhere} ring {j}")
        poly = shapely.Polygon(rings[0], rings[1:])
        if not shapely.is_valid(poly):
            raise InputError(pwhere, f"polygon is invalid ({shapely.is_valid_reason(poly)}); expected a valid polygon")
        shapes.append(poly)
    geom = shapes[0] if obj["type"] == "Polygon" else shapely.MultiPolygon(shapes)
    if not shapely.is_valid(geom):
        raise InputError(
            where, f"multipolygon is invalid ({shapely.is_valid_reason(geom)}); expected non-overlapping polygons"
        )
    return geom


def _matches(props: Mapping[str, Any], selector: Mapping[str, Any]) -> bool:
    return all(k in props and str(props[k]) == str(v) for k, v in selector.items())


def features_geometry(doc: Any, where: str, feature: Mapping[str, Any] | None = None) -> shapely.Geometry:
    """The checked geometry of the features of a parsed GeoJSON document whose properties match ``feature``
    (all of them when it is ``None``; their union if several), or of a bare geometry object."""
    if not isinstance(doc, Mapping):
        raise InputError(where, "not a GeoJSON object; expected a FeatureCollection, a Feature or a geometry")
    kind = doc.get("type")
    if kind == "FeatureCollection":
        feats = doc.get("features")
        if not isinstance(feats, list):
            raise InputError(where, "'features' is not a list; expected a FeatureCollection")
        indexed = list(enumerate(feats))
    elif kind == "Feature":
        indexed = [(0, doc)]
    elif kind in _AREAL:
        if feature:
            raise InputError(where, "a bare geometry has no properties to select a feature by; expected a Feature")
        return geometry_from_geojson(doc, where)
    else:
        raise InputError(where, f"GeoJSON type {kind!r}; expected FeatureCollection, Feature, Polygon or MultiPolygon")
    chosen = []
    for i, f in indexed:
        props = feature_properties(f, f"{where} feature {i}")
        if feature is None or _matches(props, feature):
            chosen.append((i, f, props))
    if not chosen and not feature:
        raise InputError(where, "the FeatureCollection has no features; expected a Polygon or MultiPolygon feature")
    if not chosen:
        sel = ", ".join(f"{k} = {v!r}" for k, v in (feature or {}).items())
        keys = sorted(set(feature or {}))
        seen = sorted({str(feature_properties(f, where).get(keys[0])) for _, f in indexed})
        raise InputError(where, f"no feature has {sel}; expected one of {keys[0]} = {', '.join(seen[:20])}")
    if feature is not None and len(chosen) > 1:
        sel = ", ".join(f"{k} = {v!r}" for k, v in feature.items())
        which = [i for i, _, _ in chosen]
        raise InputError(where, f"{len(chosen)} features have {sel} (features {which}); expected one")
    geoms = []
    for i, f, props in chosen:
        label = ", ".join(f"{k}={props[k]}" for k in (feature or {}))
        fwhere = f"{where} feature {i}" + (f" ({label})" if label else "")
        if not isinstance(f, Mapping) or not isinstance(f.get("geometry"), Mapping):
            raise InputError(fwhere, "feature has no geometry; expected a Polygon or MultiPolygon")
        geoms.append(geometry_from_geojson(f["geometry"], fwhere))
    return geoms[0] if len(geoms) == 1 else shapely.union_all(geoms)


def load_geojson_geometry(path: str | Path, feature: Mapping[str, Any] | None = None) -> shapely.Geometry:
    """Read a GeoJSON file and return the checked geometry of the feature(s) selected by ``feature``
    (property name -> value; e.g. ``{"region_id": "crimea"}``)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(str(p), f"cannot read it ({exc.__class__.__name__}); expected a UTF-8 GeoJSON file") from None
    return features_geometry(parse_json(text, str(p)), str(p), feature)
