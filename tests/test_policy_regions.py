"""The built-in geofence regions (``builtin:geofence_regions.geojson``) against the cities they must and must not
contain, checked on the raw polygons (shapely) and through leonet's policy lookup; and against their source land
polygons (``../shared/data/regions/geofence_regions.geojson``, Natural Earth 1:10m admin-1): each region is that
land plus at most 12 nautical miles of sea (geodesic distance: pyproj)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import numpy as np
import pyproj
import pytest
import shapely

from leonet.policy import evaluate, parse_policy

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "regions" / "geofence_regions.geojson"
GEOD = pyproj.Geod(ellps="WGS84")

# region -> (places inside, places outside); (name, lat, lon)
CITIES: dict[str, tuple[list[tuple[str, float, float]], list[tuple[str, float, float]]]] = {
    "crimea": (
        [
            ("Sevastopol, centre", 44.6166, 33.5254),
            ("Sevastopol, Nakhimov Square", 44.6167, 33.5250),
            ("Balaklava", 44.5000, 33.6000),
            ("Simferopol", 44.9521, 34.1024),
            ("Kerch", 45.3566, 36.4680),
            ("Yalta", 44.4952, 34.1663),
            ("Yevpatoria", 45.1906, 33.3669),
            ("Feodosia", 45.0319, 35.3824),
            ("Dzhankoi", 45.7086, 34.3933),
            ("5 km off Sevastopol", 44.60, 33.40),
        ],
        [
            ("Kherson", 46.6354, 32.6169),
            ("Odesa", 46.4825, 30.7233),
            ("Henichesk", 46.1717, 34.8130),
            ("Skadovsk", 46.1167, 32.9167),
            ("Taman", 45.2117, 36.7164),
            ("Novorossiysk", 44.7239, 37.7686),
            ("40 km off Sevastopol", 44.55, 33.00),
        ],
    ),
    "ua-40": (
        [("Sevastopol, centre", 44.6166, 33.5254)],
        [("Simferopol", 44.9521, 34.1024), ("Yalta", 44.4952, 34.1663)],
    ),
    "ua-43": (
        [("Simferopol", 44.9521, 34.1024), ("Yalta", 44.4952, 34.1663)],
        [("Sevastopol, centre", 44.6166, 33.5254)],
    ),
    "ua-14": (
        [("Donetsk", 48.0159, 37.8029), ("Mariupol", 47.0971, 37.5434), ("Kramatorsk", 48.7389, 37.5848)],
        [("Zaporizhzhia", 47.8388, 35.1396), ("Luhansk", 48.5740, 39.3078), ("Berdiansk", 46.7558, 36.7990)],
    ),
    "ua-09": ([("Luhansk", 48.5740, 39.3078), ("Sievierodonetsk", 48.9482, 38.4916)], [("Donetsk", 48.0159, 37.8029)]),
    "ua-23": (
        [("Zaporizhzhia", 47.8388, 35.1396), ("Melitopol", 46.8489, 35.3653), ("Berdiansk", 46.7558, 36.7990)],
        [("Mariupol", 47.0971, 37.5434), ("Kherson", 46.6354, 32.6169)],
    ),
    "ua-65": (
        [("Kherson", 46.6354, 32.6169), ("Nova Kakhovka", 46.7546, 33.3486), ("Henichesk", 46.1717, 34.8130)],
        [("Mykolaiv", 46.9750, 31.9946), ("Simferopol", 44.9521, 34.1024), ("Melitopol", 46.8489, 35.3653)],
    ),
    "taiwan": (
        [
            ("Taipei", 25.0330, 121.5654),
            ("Kaohsiung", 22.6273, 120.3014),
            ("Keelung", 25.1276, 121.7392),
            ("Hualien", 23.9872, 121.6015),
            ("Magong, Penghu", 23.5655, 119.5793),
            ("Kinmen", 24.4400, 118.3200),
            ("Nangan, Matsu", 26.1597, 119.9497),
            ("Beigan, Matsu", 26.2260, 119.9950),
        ],
        [
            ("Xiamen", 24.4798, 118.0894),
            ("Fuzhou", 26.0745, 119.2965),
            ("Naha", 26.2124, 127.6809),
            ("Manila", 14.5995, 120.9842),
        ],
    ),
}


def _regions(text: str) -> dict[str, shapely.Geometry]:
    return {f["properties"]["region_id"]: shapely.geometry.shape(f["geometry"]) for f in json.loads(text)["features"]}


SHIPPED = _regions(resources.files("leonet").joinpath("data", "geofence_regions.geojson").read_text("utf-8"))


@pytest.mark.parametrize("region", sorted(CITIES))
def test_region_contains_its_cities_and_not_others(region: str) -> None:
    inside, outside = CITIES[region]
    geom = SHIPPED[region]
    for name, lat, lon in inside:
        assert shapely.contains_xy(geom, lon, lat), f"{region} must contain {name}"
    for name, lat, lon in outside:
        assert not shapely.contains_xy(geom, lon, lat), f"{region} must not contain {name}"
    # the same through the policy: a deny geofence over the region
    pol = parse_policy(
        {
            "geofences": [
                {
                    "id": "g",
                    "action": "deny",
                    "file": "builtin:geofence_regions.geojson",
                    "feature": {"region_id": region},
                }
            ]
        }
    )
    places = inside + outside
    lat = np.array([[p[1] for p in places]])
    lon = np.array([[p[2] for p in places]])
    d = evaluate(pol, [p[0] for p in places], [0.0], datetime(2026, 1, 1, tzinfo=UTC), lat, lon)
    assert d.served[0].tolist() == [False] * len(inside) + [True] * len(outside)


@pytest.mark.skipif(not SHARED.exists(), reason="needs ../shared/data next to the clone")
@pytest.mark.parametrize("region", sorted(CITIES))
def test_region_is_its_land_plus_at_most_the_territorial_sea(region: str) -> None:
    land = _regions(SHARED.read_text("utf-8"))[region]
    if region == "taiwan":  # + the Matsu islands, which Natural Earth lacks (leonet's OpenStreetMap islands)
        text = resources.files("leonet").joinpath("data", "osm_islands_not_in_ne10m.geojson").read_text("utf-8")
        tw = [shapely.geometry.shape(f["geometry"]) for f in json.loads(text)["features"]]
        tw = [g for g, f in zip(tw, json.loads(text)["features"], strict=True) if f["properties"]["ISO_A2_EH"] == "TW"]
        land = shapely.union_all([land, *tw])
    geom = SHIPPED[region]
    assert geom.is_valid
    assert shapely.area(shapely.difference(land, geom)) < 1e-4 * shapely.area(land)
    # the farthest point of the region from its land: at most 12 nmi (+ 1% for the projected buffer)
    outer = shapely.get_coordinates(shapely.segmentize(shapely.boundary(geom), 0.05))
    c = land.centroid
    aeqd = pyproj.Transformer.from_crs(
        "EPSG:4326", pyproj.CRS.from_proj4(f"+proj=aeqd +lat_0={c.y} +lon_0={c.x} +ellps=WGS84"), always_xy=True
    )
    land_p = shapely.transform(land, lambda xy: np.column_stack(aeqd.transform(xy[:, 0], xy[:, 1])))
    x, y = aeqd.transform(outer[:, 0], outer[:, 1])
    far_km = float(np.max(shapely.distance(land_p, shapely.points(np.column_stack([x, y]))))) / 1e3
    assert far_km <= 22.224 * 1.01, far_km
