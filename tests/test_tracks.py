"""Terminal tracks: parsing (CSV, GeoJSON) with located errors, and interpolation along geodesics."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyproj
import pytest

from leonet.errors import InputError
from leonet.tracks import (
    TrackSet,
    interpolate,
    load_track,
    load_tracks,
    make_track,
    parse_tracks_csv,
    parse_tracks_geojson,
    stationary,
)

EPOCH = datetime(2026, 2, 1, tzinfo=UTC)
GEOD = pyproj.Geod(ellps="WGS84")


def test_csv_with_seconds_iso_times_and_several_terminals() -> None:
    text = (
        "terminal_id,time,lat_deg,lon_deg,alt_m\n"
        "a,2026-02-01T00:00:00Z,50.45,30.52,100\n"
        "b,2026-02-01T00:00:00,49.84,24.03,\n"
        "a,2026-02-01T01:00:00+01:00,50.45,30.52,100\n"  # the same instant as the first row: not after it
    )
    with pytest.raises(InputError) as info:
        parse_tracks_csv(text, EPOCH, "t.csv")
    assert info.value.where == "t.csv:4" and "strictly increasing" in info.value.problem
    text = text.replace("01:00:00+01:00", "01:00:00+00:00")
    tracks = parse_tracks_csv(text, EPOCH, "t.csv")
    assert sorted(tracks) == ["a", "b"]
    assert tracks["a"].t_s.tolist() == [0.0, 3600.0] and tracks["a"].alt_m.tolist() == [100.0, 100.0]
    assert tracks["b"].t_s.tolist() == [0.0] and tracks["b"].alt_m.tolist() == [0.0]
    plain = parse_tracks_csv("t_s,lat_deg,lon_deg\n-60,1,2\n0,1.005,2\n", EPOCH, "dir/car.csv")
    assert list(plain) == ["car"] and plain["car"].t_s.tolist() == [-60.0, 0.0]


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        ("t_s,lat_deg,lon_deg\n0,1,2\n10,1,2\n10,1,2\n", "x.csv:4", "not after the previous"),
        ("t_s,lat_deg,lon_deg\n0,1,2\n10,1,2\n5,1,2\n", "x.csv:4", "strictly increasing"),
        ("t_s,lat_deg,lon_deg\n0,91,2\n", "x.csv:2", "lat_deg 91"),
        ("t_s,lat_deg,lon_deg\n0,1,2\n1,1,-181\n", "x.csv:3", "lon_deg -181"),
        ("t_s,lat_deg,lon_deg\n0,north,2\n", "x.csv:2", "'north' is not a number"),
        ("t_s,lat_deg,lon_deg\n0,nan,2\n", "x.csv:2", "not finite"),
        ("t_s,lat_deg,lon_deg\n0,1\n", "x.csv:2", "expected 3"),
        ("time,lat_deg,lon_deg\nyesterday,1,2\n", "x.csv:2", "ISO 8601"),
        ("t_s,time,lat_deg,lon_deg\n0,2026-01-01,1,2\n", "x.csv:1", "exactly one of"),
        ("t_s,lat,lon\n0,1,2\n", "x.csv:1", "lacks lat_deg, lon_deg"),
        ("t_s,lat_deg,lon_deg\n", "x.csv", "no track points"),
    ],
)
def test_csv_errors_name_file_and_line(text: str, where: str, words: str) -> None:
    with pytest.raises(InputError) as info:
        parse_tracks_csv(text, EPOCH, "x.csv")
    assert info.value.where == where and words in info.value.problem


def test_geojson_linestring_point_and_errors() -> None:
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"terminal_id": "ship", "times": [0, "2026-02-01T02:00:00Z"]},
                "geometry": {"type": "LineString", "coordinates": [[30.7, 46.5, 5], [31.5, 45.9, 5]]},
            },
            {
                "type": "Feature",
                "properties": {"id": "home"},
                "geometry": {"type": "Point", "coordinates": [30.5, 50.4]},
            },
        ],
    }
    tracks = parse_tracks_geojson(doc, EPOCH, "t.geojson")
    assert tracks["ship"].t_s.tolist() == [0.0, 7200.0] and tracks["ship"].lat_deg.tolist() == [46.5, 45.9]
    assert tracks["home"].lon_deg.tolist() == [30.5]

    def err(feature: dict[str, object]) -> InputError:
        with pytest.raises(InputError) as info:
            parse_tracks_geojson({"type": "Feature", **feature}, EPOCH, "t.geojson")
        return info.value

    def line(*coords: list[float]) -> dict[str, object]:
        return {"type": "LineString", "coordinates": list(coords)}

    e = err({"properties": {"times": [0, 10]}, "geometry": line([120, 46], [120, 95])})
    assert e.where == "t.geojson feature 0 coordinates[1]" and "lat_deg 95" in e.problem
    e = err({"properties": {"times": [0, 10]}, "geometry": line([46, 30], [45, 120])})
    assert "[lat, lon]" in e.problem
    e = err({"properties": {"times": [0]}, "geometry": {"type": "LineString", "coordinates": [[30, 46], [31, 46]]}})
    assert "1 times for 2 positions" in e.problem
    e = err({"properties": {"times": [10, 5]}, "geometry": {"type": "LineString", "coordinates": [[30, 46], [31, 46]]}})
    assert e.where == "t.geojson feature 0 coordinates[1]" and "strictly increasing" in e.problem
    e = err({"properties": {"times": [0, 1]}, "geometry": {"type": "Polygon", "coordinates": []}})
    assert "LineString" in e.problem


def test_load_from_files(tmp_path: Path) -> None:
    (tmp_path / "car.csv").write_text("t_s,lat_deg,lon_deg\n0,50,30\n60,50.01,30\n")
    (tmp_path / "bad.json").write_text("{ nope")
    assert load_track(tmp_path / "car.csv", EPOCH).t_s.tolist() == [0.0, 60.0]
    with pytest.raises(InputError) as info:
        load_tracks(tmp_path / "bad.json", EPOCH)
    assert info.value.where.endswith("bad.json:1")
    with pytest.raises(InputError):
        load_tracks(tmp_path / "missing.csv", EPOCH)
    with pytest.raises(InputError):
        load_tracks(tmp_path / "car.txt", EPOCH)
    (tmp_path / "two.csv").write_text("terminal_id,t_s,lat_deg,lon_deg\na,0,1,1\nb,0,2,2\n")
    with pytest.raises(InputError, match="2 tracks"):
        load_track(tmp_path / "two.csv", EPOCH)


def test_interpolation_follows_the_geodesic_with_the_right_speed() -> None:
    odesa, sevastopol = (46.4825, 30.7233), (44.6054, 33.5220)
    tr = make_track([100.0, 100.0 + 6 * 3600.0], [odesa[0], sevastopol[0]], [odesa[1], sevastopol[1]], [0.0, 600.0])
    t = np.array([100.0, 3700.0, 10_900.0, 21_700.0])
    s = interpolate([tr], t)
    _, _, total_m = GEOD.inv(odesa[1], odesa[0], sevastopol[1], sevastopol[0])
    frac = (t - 100.0) / (6 * 3600.0)
    _, _, d0 = GEOD.inv(np.full(4, odesa[1]), np.full(4, odesa[0]), s.lon_deg[:, 0], s.lat_deg[:, 0])
    _, _, d1 = GEOD.inv(s.lon_deg[:, 0], s.lat_deg[:, 0], np.full(4, sevastopol[1]), np.full(4, sevastopol[0]))
    assert np.allclose(d0, frac * total_m, atol=1e-3)  # the right distance along ...
    assert np.allclose(d0 + d1, total_m, atol=1e-3)  # ... the geodesic
    assert np.allclose(s.alt_m[:, 0], frac * 600.0)
    assert np.allclose(s.speed_kmh[:3, 0], total_m / 1000.0 / 6.0)
    assert s.speed_kmh[3, 0] == 0.0  # at (and after) the last point the terminal stays put


def test_before_after_stationary_and_antimeridian() -> None:
    tr = make_track([0.0, 100.0, 200.0], [0.0, 0.0, 1.0], [179.9, -179.9, -179.9], max_speed_kmh=np.inf)
    home = stationary(50.45, 30.52, 180.0)
    s = interpolate([tr, home], np.array([-50.0, 50.0, 150.0, 500.0]))
    assert s.lon_deg[0, 0] == pytest.approx(179.9) and s.speed_kmh[0, 0] == 0.0
    assert abs(s.lon_deg[1, 0]) == pytest.approx(180.0, abs=1e-6)  # across the antimeridian, not via 0
    assert s.lat_deg[2, 0] == pytest.approx(0.5, abs=1e-3) and s.lon_deg[2, 0] == pytest.approx(-179.9, abs=1e-6)
    assert s.lat_deg[3, 0] == 1.0 and s.speed_kmh[3, 0] == 0.0
    assert np.all(s.lat_deg[:, 1] == 50.45) and np.all(s.speed_kmh[:, 1] == 0.0) and np.all(s.alt_m[:, 1] == 180.0)
    _, _, d = GEOD.inv(179.9, 0.0, -179.9, 0.0)
    assert s.speed_kmh[1, 0] == pytest.approx(d / 100.0 * 3.6)


def test_many_tracks_at_once_equal_one_by_one() -> None:
    rng = np.random.default_rng(1)
    tracks = []
    for _ in range(40):
        k = int(rng.integers(1, 9))
        t = np.cumsum(rng.uniform(1, 100, k))
        lat, lon = rng.uniform(-80, 80, k), rng.uniform(-180, 180, k)
        tracks.append(make_track(t, lat, lon, rng.uniform(0, 1e4, k), max_speed_kmh=np.inf))
    t = rng.uniform(-50, 900, 25)
    together = interpolate(TrackSet.of(tracks), t)
    for n, tr in enumerate(tracks):
        alone = interpolate([tr], t)
        for a, b in zip(together, alone, strict=True):
            assert np.allclose(a[:, n], b[:, 0], equal_nan=False)
    assert together.lat_deg.shape == (25, 40)


def test_make_track_checks() -> None:
    with pytest.raises(InputError, match="no points"):
        make_track([], [], [])
    with pytest.raises(InputError) as info:
        make_track([0, 1, 1], [0, 0, 0], [0, 0, 0], where=["p0", "p1", "p2"])
    assert info.value.where == "p2"


def test_geojson_file_roundtrip(tmp_path: Path) -> None:
    doc = {
        "type": "Feature",
        "properties": {"times": [0, 60]},
        "geometry": {"type": "LineString", "coordinates": [[30.0, 50.0], [30.0, 50.01]]},
    }
    (tmp_path / "walk.geojson").write_text(json.dumps(doc))
    tracks = load_tracks(tmp_path / "walk.geojson", EPOCH)
    assert list(tracks) == ["walk"]
    s = interpolate(list(tracks.values()), [30.0])
    assert s.speed_kmh[0, 0] == pytest.approx(GEOD.inv(30, 50, 30, 50.01)[2] / 60 * 3.6)


def test_speed_ceiling_names_the_point_and_is_inclusive(tmp_path: Path) -> None:
    """A 10,000 km jump in one second is an error at its file:line; a speed exactly at the ceiling is allowed,
    just above it is not (the ceiling is configurable)."""
    text = "t_s,lat_deg,lon_deg\n0,0,0\n1,0,89.8\n"
    with pytest.raises(InputError) as info:
        parse_tracks_csv(text, EPOCH, "jump.csv")
    assert info.value.where == "jump.csv:3" and "km/h" in info.value.problem and "1500 km/h" in info.value.problem
    # a segment of 100 km in exactly 240 s is 1,500 km/h: make the time give exactly the ceiling
    _, _, d_m = GEOD.inv(30.0, 50.0, 31.0, 50.0)
    dt = d_m / (1500.0 / 3.6)
    make_track([0.0, dt], [50.0, 50.0], [30.0, 31.0])  # at the ceiling: allowed
    with pytest.raises(InputError, match="expected at most 1500 km/h"):
        make_track([0.0, dt * (1 - 1e-9)], [50.0, 50.0], [30.0, 31.0])
    make_track([0.0, dt * (1 - 1e-9)], [50.0, 50.0], [30.0, 31.0], max_speed_kmh=1501.0)
    # GeoJSON points are named by position index; files go through the scenario's ceiling
    doc = {
        "type": "Feature",
        "properties": {"times": [0, 1, 2]},
        "geometry": {"type": "LineString", "coordinates": [[30.0, 50.0], [30.0, 50.001], [120.0, 50.0]]},
    }
    with pytest.raises(InputError) as info:
        parse_tracks_geojson(doc, EPOCH, "f.geojson")
    assert info.value.where == "f.geojson feature 0 coordinates[2]"
    (tmp_path / "fast.csv").write_text("t_s,lat_deg,lon_deg\n0,50,30\n60,50,31\n")  # ~4,300 km/h
    with pytest.raises(InputError, match=r"fast\.csv:3"):
        load_tracks(tmp_path / "fast.csv", EPOCH)
    assert list(load_tracks(tmp_path / "fast.csv", EPOCH, max_speed_kmh=5000.0)) == ["fast"]


def test_vincenty_interpolation_matches_pyproj_on_long_random_segments() -> None:
    """The compiled interpolation against ``pyproj.Geod.fwd`` (Karney) along random segments up to 19,000 km,
    near the poles and across the antimeridian."""
    rng = np.random.default_rng(4)
    n = 400
    lat0, lon0 = rng.uniform(-89.9, 89.9, n), rng.uniform(-180, 180, n)
    az, dist = rng.uniform(-180, 180, n), rng.uniform(1.0, 1.9e7, n)
    lon1, lat1, _ = GEOD.fwd(lon0, lat0, az, dist)
    tracks = [make_track([0.0, 1e6], [lat0[i], lat1[i]], [lon0[i], lon1[i]], max_speed_kmh=np.inf) for i in range(n)]
    frac = rng.uniform(0, 1, 7)
    s = interpolate(tracks, frac * 1e6)
    az01, _, d01 = GEOD.inv(lon0, lat0, lon1, lat1)
    want_lon, want_lat, _ = GEOD.fwd(
        np.broadcast_to(lon0, (7, n)).ravel(),
        np.broadcast_to(lat0, (7, n)).ravel(),
        np.broadcast_to(az01, (7, n)).ravel(),
        (frac[:, None] * d01[None, :]).ravel(),
    )
    _, _, err_m = GEOD.inv(s.lon_deg.ravel(), s.lat_deg.ravel(), want_lon, want_lat)
    assert np.max(err_m) < 1e-3
    assert np.all(np.abs(s.lon_deg) <= 180.0)


@pytest.mark.parametrize("max_len_m", [2_000.0, 15_000.0, 15_100.0, 60_000.0])
def test_short_segments_follow_the_geodesic_to_a_millimetre(max_len_m: float) -> None:
    """Segments up to 15 km take the cubic Hermite path, longer ones Vincenty's: both within 1 mm of
    ``pyproj.Geod.fwd`` at random fractions, up to 80 deg of latitude and across the antimeridian."""
    rng = np.random.default_rng(int(max_len_m))
    n = 2000
    lat0, lon0 = rng.uniform(-80, 80, n), rng.uniform(-180, 180, n)
    lon0[:50] = rng.uniform(179.9, 180.0, 50)  # some cross the antimeridian
    az, dist = rng.uniform(-180, 180, n), rng.uniform(1.0, max_len_m, n)
    lon1, lat1, _ = GEOD.fwd(lon0, lat0, az, dist)
    ts = TrackSet.of([make_track([0.0, 1e4], [lat0[i], lat1[i]], [lon0[i], lon1[i]]) for i in range(n)])
    hermite = ts.seg_long[ts.start] < 0
    assert hermite.all() if max_len_m <= 15_000 else (0 < hermite.mean() < 1)
    frac = rng.uniform(0, 1, 5)
    s = interpolate(ts, frac * 1e4)
    az01, _, d01 = GEOD.inv(lon0, lat0, lon1, lat1)
    want_lon, want_lat, _ = GEOD.fwd(
        np.tile(lon0, 5), np.tile(lat0, 5), np.tile(az01, 5), (frac[:, None] * d01[None, :]).ravel()
    )
    _, _, err_m = GEOD.inv(s.lon_deg.ravel(), s.lat_deg.ravel(), want_lon, want_lat)
    assert np.max(err_m) < 1e-3
    assert np.all(np.abs(s.lon_deg) <= 180.0)
