"""Property-based tests (hypothesis) of the parsers of geofence GeoJSON (files and inline geometry), track GeoJSON
and track CSV: whatever the input, the only outcomes are a result or an :class:`InputError` (one line, naming
a place).  The strategies mix near-valid documents with the known crash kinds: ``properties`` that is not an
object, times out of range, NUL bytes, huge integers, non-ASCII digits, NaN / infinity, deep nesting."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leonet.errors import InputError
from leonet.policy import parse_policy
from leonet.policy.geometry import features_geometry, geometry_from_geojson, load_geojson_geometry
from leonet.tracks import load_tracks, parse_tracks_csv, parse_tracks_geojson

EPOCH = datetime(2026, 2, 1, tzinfo=UTC)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

TRICKY_TEXT = st.sampled_from(
    ["", "\x00", "1\x00", "١٢٣", "٣٠.٥", "nan", "NaN", "inf", "-inf", "1e400", "-1e400", "1e300", "9" * 400,
     "2026-02-01T00:00:00Z", "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "yesterday", " 12 ", "1_0"]
)  # fmt: skip
NUMBER = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-200, max_value=200),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.integers(min_value=-200, max_value=200),
    st.booleans(),
    TRICKY_TEXT,
    st.none(),
)
JSON = st.recursive(
    st.none() | st.booleans() | NUMBER | st.text(max_size=6) | TRICKY_TEXT,
    lambda ch: st.lists(ch, max_size=4) | st.dictionaries(st.text(max_size=6), ch, max_size=4),
    max_leaves=20,
)
POSITION = st.one_of(st.lists(NUMBER, min_size=2, max_size=3), st.lists(NUMBER, max_size=4), JSON)


@st.composite
def ring(draw: st.DrawFn) -> Any:
    pts = draw(st.lists(POSITION, min_size=0, max_size=7))
    if pts and draw(st.booleans()):
        pts.append(pts[0])  # closed, often
    return pts


GEOMETRY = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["Polygon", "MultiPolygon", "Point", "LineString", "polygon"]) | JSON,
        "coordinates": st.one_of(
            st.lists(ring(), max_size=3), st.lists(st.lists(ring(), max_size=2), max_size=2), JSON
        ),
    }
)
PROPERTIES = st.one_of(st.none(), JSON, st.dictionaries(st.sampled_from(["name", "region_id", "times", "id"]), JSON))
FEATURE = st.fixed_dictionaries(
    {"type": st.just("Feature") | JSON, "properties": PROPERTIES, "geometry": GEOMETRY | JSON}
)
DOC = st.one_of(
    st.fixed_dictionaries({"type": st.just("FeatureCollection"), "features": st.lists(FEATURE, max_size=3) | JSON}),
    FEATURE,
    GEOMETRY,
    JSON,
)

TIMES = st.lists(st.one_of(NUMBER, st.integers(min_value=-(10**13), max_value=10**13), TRICKY_TEXT), max_size=5)
TRACK_FEATURE = st.fixed_dictionaries(
    {
        "type": st.just("Feature"),
        "properties": st.one_of(st.fixed_dictionaries({"times": TIMES | JSON, "terminal_id": JSON}), PROPERTIES),
        "geometry": st.one_of(
            st.fixed_dictionaries(
                {
                    "type": st.sampled_from(["LineString", "Point"]),
                    "coordinates": st.lists(POSITION, max_size=5) | POSITION,
                }
            ),
            JSON,
        ),
    }
)
TRACK_DOC = st.one_of(
    st.fixed_dictionaries({"type": st.just("FeatureCollection"), "features": st.lists(TRACK_FEATURE, max_size=3)}),
    TRACK_FEATURE,
    JSON,
)

CELL = st.one_of(TRICKY_TEXT, st.floats(min_value=-100, max_value=100).map(str), st.text(max_size=5))
HEADER = st.sampled_from(
    ["t_s,lat_deg,lon_deg", "time,lat_deg,lon_deg,alt_m", "terminal_id,t_s,lat_deg,lon_deg", "t_s,time,lat_deg",
     "lat_deg,lon_deg", "t_s,lat_deg,lon_deg,alt_m,terminal_id", "", "\x00t_s,lat_deg,lon_deg"]
)  # fmt: skip
CSV = st.one_of(
    st.builds(
        lambda h, rows, sep: h + sep + sep.join(",".join(r) for r in rows),
        HEADER,
        st.lists(st.lists(CELL, max_size=6), max_size=6),
        st.sampled_from(["\n", "\r\n", "\r"]),
    ),
    st.text(max_size=80),
)


def only_result_or_input_error(fn: Callable[[], object]) -> None:
    try:
        fn()
    except InputError as exc:
        assert "\n" not in str(exc) and exc.where and exc.problem


@FUZZ
@given(GEOMETRY | JSON)
def test_inline_geometry(obj: Any) -> None:
    only_result_or_input_error(lambda: geometry_from_geojson(obj, "g"))
    only_result_or_input_error(lambda: parse_policy({"geofences": [{"id": "g", "action": "deny", "geometry": obj}]}))


@FUZZ
@given(DOC, st.none() | st.dictionaries(st.sampled_from(["name", "region_id"]), JSON, max_size=2))
def test_geofence_documents(doc: Any, selector: Any) -> None:
    only_result_or_input_error(lambda: features_geometry(doc, "f.geojson", selector))


@FUZZ
@given(
    st.one_of(
        DOC.map(lambda d: json.dumps(d, allow_nan=True)),
        st.text(max_size=60),
        st.integers(min_value=1, max_value=5000).map(lambda n: "[" * n + "]" * n),
        st.integers(min_value=1, max_value=3).map(
            lambda n: '{"type": "Polygon", "coordinates": ' + "9" * 5000 * n + "}"
        ),
    )
)
def test_geofence_and_track_files(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("fence.geojson", "track.geojson", "track.json"):
            p = Path(tmp) / name
            p.write_text(text, encoding="utf-8")
            if name == "fence.geojson":
                only_result_or_input_error(lambda p=p: load_geojson_geometry(p))
            else:
                only_result_or_input_error(lambda p=p: load_tracks(p, EPOCH))


@FUZZ
@given(TRACK_DOC)
def test_track_geojson(doc: Any) -> None:
    only_result_or_input_error(lambda: parse_tracks_geojson(doc, EPOCH, "t.geojson"))


@FUZZ
@given(CSV)
def test_track_csv(text: str) -> None:
    only_result_or_input_error(lambda: parse_tracks_csv(text, EPOCH, "t.csv"))
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "t.csv"
        p.write_text(text, encoding="utf-8", errors="surrogatepass")
        only_result_or_input_error(lambda: load_tracks(p, EPOCH))


def test_known_crash_kinds_are_input_errors() -> None:
    """The examples the issue names, one by one (each crashed before)."""
    cases: list[Callable[[], object]] = [
        lambda: features_geometry({"type": "Feature", "properties": [1], "geometry": None}, "f"),
        lambda: parse_tracks_geojson(
            {"type": "Feature", "properties": "x", "geometry": {"type": "Point", "coordinates": [1, 2]}}, EPOCH
        ),
        lambda: parse_tracks_geojson(
            {
                "type": "Feature",
                "properties": {"times": ["9999-12-31T23:59:59-23:59"]},
                "geometry": {"type": "Point", "coordinates": [1, 2]},
            },
            EPOCH,
        ),
        lambda: parse_tracks_geojson(
            {
                "type": "Feature",
                "properties": {"times": [10**400]},
                "geometry": {"type": "Point", "coordinates": [1, 2]},
            },
            EPOCH,
        ),
        lambda: parse_tracks_geojson(
            {
                "type": "Feature",
                "properties": {"times": [0]},
                "geometry": {"type": "Point", "coordinates": [10**400, 2]},
            },
            EPOCH,
        ),
        lambda: parse_tracks_csv("t_s,lat_deg,lon_deg\n0,1\x00,2\n", EPOCH),
        lambda: parse_tracks_csv("t_s,lat_deg,lon_deg\n\x00\n", EPOCH),
        lambda: parse_tracks_csv("t_s,lat_deg,lon_deg\n1e300,1,2\n", EPOCH),
        lambda: geometry_from_geojson({"type": "Polygon", "coordinates": [[[10**400, 0]]]}, "g"),
        lambda: geometry_from_geojson({"type": "Polygon", "coordinates": [[[float("nan"), 0]]]}, "g"),
    ]
    for case in cases:
        try:
            case()
        except InputError:
            continue
        raise AssertionError("expected an InputError")
