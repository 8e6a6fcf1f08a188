"""``leonet.tracks``: every documented limit pinned on both sides, the readers' defaults and their error lines.

References: the module docstring and ``make_track``'s (the limits: |t| <= MAX_ABS_TIME_S, |lat| <= 90, a
speed exactly at the ceiling allowed and the message never rounding a speed down onto its limit), RFC 7946
§3.1.1 (a position is [lon, lat] or [lon, lat, h]; h defaults to 0 here), ``pyproj.Geod`` (WGS-84 geodesics)
for the segment lengths, and the error convention of the README (one line naming the place; a value longer
than 60 characters is shown as its first 57 and "...").  Written for the survivors of
``python tools/mutate.py tracks --sample 3`` (docs/testing.md).
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from pyproj import Geod

from leonet import tracks
from leonet.errors import InputError
from leonet.tracks import TrackSet, interpolate, make_track, parse_tracks_csv, parse_tracks_geojson

EPOCH = datetime(2026, 2, 1, tzinfo=UTC)
GEOD = Geod(ellps="WGS84")


def test_make_track_defaults_to_sea_level() -> None:
    assert make_track([0.0, 60.0], [10.0, 10.001], [20.0, 20.0]).alt_m.tolist() == [0.0, 0.0]


def test_time_limit_on_both_sides() -> None:
    lim = tracks.MAX_ABS_TIME_S
    assert make_track([-lim, lim], [0.0, 0.0], [0.0, 0.0]).t_s.tolist() == [-lim, lim]
    for t in (np.nextafter(lim, np.inf), np.nextafter(-lim, -np.inf)):
        with pytest.raises(InputError, match="out of range"):
            make_track([t], [0.0], [0.0])


def test_latitude_and_longitude_limits_on_both_sides() -> None:
    tr = make_track([0.0, 1e6, 2e6, 3e6], [90.0, -90.0, 0.0, 0.0], [0.0, 0.0, 180.0, -180.0])
    assert tr.lat_deg.tolist() == [90.0, -90.0, 0.0, 0.0]
    for lat, lon, what in ((np.nextafter(90.0, 91.0), 0.0, "lat_deg"), (0.0, np.nextafter(-180.0, -181.0), "lon_deg")):
        with pytest.raises(InputError, match=what):
            make_track([0.0], [lat], [lon])


def test_a_speed_just_above_the_ceiling_is_not_rounded_down_onto_it() -> None:
    """1,500.4 km/h against the 1,500 km/h ceiling: "1,500 km/h; expected at most 1500" would read as allowed."""
    lon, lat, _ = GEOD.fwd(0.0, 0.0, 90.0, 1_500_400.0)  # 1,500.4 km east in one hour
    with pytest.raises(InputError) as err:
        make_track([0.0, 3600.0], [0.0, lat], [0.0, lon], max_speed_kmh=1500.0)
    assert "1,500.4 km/h; expected at most 1500 km/h" in str(err.value)
    lon, lat, _ = GEOD.fwd(0.0, 0.0, 90.0, 1_500_000.0)  # exactly at the ceiling: allowed (to pyproj's rounding)
    speed_kmh = GEOD.inv(0.0, 0.0, lon, lat)[2] / 1e3
    make_track([0.0, 3600.0], [0.0, lat], [0.0, lon], max_speed_kmh=speed_kmh)


def _csv_time_error(value: str) -> str:
    with pytest.raises(InputError) as err:
        parse_tracks_csv(f"time,lat_deg,lon_deg\n{value},10,20\n", EPOCH, "t.csv")
    return str(err.value)


def test_a_long_value_is_shown_cut_at_57_characters_plus_dots() -> None:
    for n in (58, 59, 60, 61, 90):  # repr adds two quotes: reprs of 60 characters and more are cut
        value = "x" * n
        shown = repr(value) if len(repr(value)) < 60 else repr(value)[:57] + "..."
        msg = _csv_time_error(value)
        assert f"time {shown} is not understood" in msg, (n, msg)
    position = [1.0, 2.0, "h" * 60]
    with pytest.raises(InputError) as err:
        parse_tracks_geojson(_line([position, [1.0, 2.0]]), EPOCH, "t.geojson")
    assert f"position {repr(position)[:57]}...;" in str(err.value)
    position = [1.0, 2.0, "h" * 45]  # repr exactly 59 characters: shown whole
    assert len(repr(position)) == 59
    with pytest.raises(InputError) as err:
        parse_tracks_geojson(_line([position, [1.0, 2.0]]), EPOCH, "t.geojson")
    assert f"position {position!r};" in str(err.value)
    position = [1.0, 2.0, "h" * 46]  # 60 characters: cut
    with pytest.raises(InputError) as err:
        parse_tracks_geojson(_line([position, [1.0, 2.0]]), EPOCH, "t.geojson")
    assert f"position {repr(position)[:57]}...;" in str(err.value)


def test_csv_header_names_may_carry_spaces() -> None:
    got = parse_tracks_csv(" t_s , lat_deg ,lon_deg, alt_m \n0,10,20,5\n60,10.001,20,5\n", EPOCH, "boat.csv")
    assert got["boat"].lat_deg.tolist() == [10.0, 10.001] and got["boat"].alt_m.tolist() == [5.0, 5.0]


def _line(coords: list[object], times: list[float] | None = None) -> dict[str, object]:
    times = [60.0 * k for k in range(len(coords))] if times is None else times
    return {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": coords},
        "properties": {"times": times},
    }


def test_geojson_positions_default_to_height_zero() -> None:
    got = parse_tracks_geojson(_line([[20.0, 10.0], [20.0, 10.001, 7.0]]), EPOCH, "p.geojson")
    assert got["p"].alt_m.tolist() == [0.0, 7.0]


@pytest.mark.parametrize("position", [[20.0, "x"], ["x", 10.0], [20.0, 10.0, None], [20.0, float("nan")]])
def test_a_position_with_one_bad_number_is_one_error_line(position: list[object]) -> None:
    with pytest.raises(InputError, match=r"coordinates\[1\].*expected \[lon, lat\] or \[lon, lat, h\]"):
        parse_tracks_geojson(_line([[20.0, 10.0], position]), EPOCH, "p.geojson")


def test_lat_lon_order_is_detected_just_above_90_and_names_the_first_such_position() -> None:
    """Every first value within ±90 and some second value beyond 90: written [lat, lon].  90 itself is a valid
    latitude and not beyond; the error names the first position whose second value is beyond 90."""
    with pytest.raises(InputError) as err:
        parse_tracks_geojson(_line([[10.0, 90.0], [10.0, 90.5], [10.5, 60.0]]), EPOCH, "p.geojson")
    msg = str(err.value)
    assert "coordinates[1]" in msg and "look like [lat, lon]" in msg and "second value 90.5" in msg
    ok = parse_tracks_geojson(_line([[10.0, 90.0], [10.0, 89.9]]), EPOCH, "p.geojson")  # the pole: a latitude
    assert ok["p"].lat_deg.tolist() == [90.0, 89.9]


def test_trackset_segments_are_pyproj_geodesics_and_none_runs_into_the_next_track() -> None:
    """``seg_len_m[j]``: the WGS-84 geodesic from point j to j + 1 of the same track (pyproj), 0 at every track's
    last point (its end is no segment into the next track's first point); an empty set is empty."""
    a = make_track([0.0, 3600.0, 7200.0], [10.0, 10.2, 10.5], [20.0, 20.1, 20.3])
    b = make_track([0.0], [-30.0], [150.0])
    c = make_track([0.0, 3600.0], [50.0, 50.3], [-1.0, -1.2])
    ts = TrackSet.of([a, b, c])
    want = []
    for tr in (a, b, c):
        ends = (tr.lon_deg[:-1], tr.lat_deg[:-1], tr.lon_deg[1:], tr.lat_deg[1:])
        d = GEOD.inv(*(e.tolist() for e in ends))[2] if tr.t_s.size > 1 else []
        want += [*np.atleast_1d(d), 0.0]
    np.testing.assert_allclose(ts.seg_len_m, want, rtol=1e-12, atol=1e-9)
    empty = TrackSet.of([])
    assert all(x.size == 0 for x in (empty.t_s, empty.lat_deg, empty.lon_deg, empty.alt_m, empty.seg_len_m))


def _worst_error_m(lat0: float, az: float, length_m: float) -> float:
    """The largest distance (m) between ``tracks.interpolate`` along one segment and pyproj's point at the same
    fraction of the geodesic (``Geod.fwd``), over 21 fractions."""
    lon1, lat1, _ = GEOD.fwd(10.0, lat0, az, length_m)
    tr = make_track([0.0, 600.0], [lat0, lat1], [10.0, lon1])
    t = np.linspace(0.0, 600.0, 21)
    st = interpolate([tr], t)
    lon_r, lat_r, _ = GEOD.fwd(np.full(t.size, 10.0), np.full(t.size, lat0), np.full(t.size, az), t / 600 * length_m)
    return float(np.max(GEOD.inv(st.lon_deg[:, 0], st.lat_deg[:, 0], lon_r, lat_r)[2]))


def test_short_segments_beyond_80_degrees_take_vincentys_accuracy() -> None:
    """A short segment (14.9 km) with an end beyond 80 deg takes Vincenty's formula: ~0.01 mm from pyproj's
    geodesic, where the Hermite curve would be 0.5-0.6 mm off there (measured: 0.51 mm from 79.95 deg at azimuth
    30, 0.61 mm at 80.5 deg); below 80 deg the curve's error stays under 0.6 mm (0.01 mm at 50 deg), as
    ``_hermite_setup`` documents."""
    for lat0, az in ((79.95, 30.0), (80.5, 30.0), (80.5, 60.0), (80.2, 120.0)):  # the first one straddles 80
        assert _worst_error_m(lat0, az, 14_900.0) < 5e-5, (lat0, az)
    for lat0, az in ((50.0, 30.0), (75.0, 60.0), (79.8, 30.0), (79.8, 90.0)):
        assert _worst_error_m(lat0, az, 14_900.0) < 6e-4, (lat0, az)
    assert _worst_error_m(50.0, 60.0, 14_900.0) < 5e-5
