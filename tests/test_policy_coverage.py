"""Where geofences are: countries covered and geodesic area (independent reference: the polygon projected to an
azimuthal equidistant plane by pyproj, area by shapely), and the swapped-axes rules, each on both sides."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyproj
import pytest
import shapely
from typer.testing import CliRunner

from leonet.cli import app
from leonet.errors import InputError
from leonet.policy import parse_policy
from leonet.policy.borders import borders
from leonet.policy.coverage import check_geofence_axes, geofence_coverage
from leonet.tracks import TrackSet, make_track

# Crimea roughly, as [lon, lat] and as the [lat, lon] mistake
CRIMEA_BOX = [[32.5, 44.4], [36.6, 44.4], [36.6, 46.2], [32.5, 46.2], [32.5, 44.4]]
SWAPPED_CRIMEA = [[lat, lon] for lon, lat in CRIMEA_BOX]
# the Maldives as [lat, lon]: read as [lon, lat] it is in the open Greenland Sea
MALDIVES_SWAPPED = [[3.0, 72.5], [5.0, 72.5], [5.0, 74.0], [3.0, 74.0], [3.0, 72.5]]
# an open-sea box in the Atlantic whose swap is open sea too (off Namibia)
ATLANTIC = [[-30.0, 10.0], [-28.0, 10.0], [-28.0, 12.0], [-30.0, 12.0], [-30.0, 10.0]]


def fence(coords: list[list[float]], **kw: Any) -> dict[str, Any]:
    return {"id": "g", "action": "deny", "geometry": {"type": "Polygon", "coordinates": [coords]}, **kw}


def aeqd_area_km2(coords: list[list[float]] | shapely.Geometry) -> float:
    """Area (m2) of a ring or a (Multi)Polygon in a Lambert azimuthal equal-area projection about its centroid."""
    poly = shapely.segmentize(coords if isinstance(coords, shapely.Geometry) else shapely.Polygon(coords), 0.01)
    c = poly.centroid
    tr = pyproj.Transformer.from_crs(
        "EPSG:4326", pyproj.CRS.from_proj4(f"+proj=laea +lat_0={c.y} +lon_0={c.x} +ellps=WGS84"), always_xy=True
    )
    return float(shapely.area(shapely.transform(poly, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))))


def test_coverage_names_the_countries_and_the_geodesic_area() -> None:
    (cov,) = geofence_coverage(parse_policy({"geofences": [fence(CRIMEA_BOX)]}))
    assert cov.area_km2 == pytest.approx(aeqd_area_km2(CRIMEA_BOX) / 1e6, rel=1e-3)
    codes = [c for c, _ in cov.countries]
    assert codes[0] == "RU" and "UA" in codes and 0.2 < cov.sea_share < 0.6
    # the [lat, lon] mistake lands in the Middle East, and says so
    (bad,) = geofence_coverage(parse_policy({"geofences": [fence(SWAPPED_CRIMEA, check_axes=False)]}))
    assert {c for c, _ in bad.countries} & {"IQ", "IR", "SY", "TR"} and "RU" not in bad.text()
    (ua,) = geofence_coverage(parse_policy({"geofences": [{"id": "u", "action": "deny", "countries": ["UA"]}]}))
    assert ua.countries == (("UA", 1.0),) and 560_000 < ua.area_km2 < 600_000  # Ukraine without Crimea (NE)
    assert ua.sea_share == 0.0 and "sea" not in ua.text()
    # several countries: each one's share of their land (areas by the azimuthal equal-area projection)
    (two,) = geofence_coverage(parse_policy({"geofences": [{"id": "p", "action": "deny", "countries": ["PL", "UA"]}]}))
    pl_km2, ua_km2 = (aeqd_area_km2(borders().geometry([c])) / 1e6 for c in ("PL", "UA"))
    assert [c for c, _ in two.countries] == ["UA", "PL"]
    assert two.countries[0][1] == pytest.approx(ua_km2 / (ua_km2 + pl_km2), rel=1e-3)
    assert two.countries[1][1] == pytest.approx(pl_km2 / (ua_km2 + pl_km2), rel=1e-3)
    assert two.area_km2 == pytest.approx(ua_km2 + pl_km2, rel=1e-3) and two.sea_share == 0.0


def test_open_sea_fence_whose_swap_covers_land_is_an_error() -> None:
    with pytest.raises(InputError) as info:
        parse_policy({"geofences": [fence(MALDIVES_SWAPPED)]}, source="s.toml")
    assert "g" in info.value.where and "open sea" in info.value.problem and "MV" in info.value.problem
    assert "[lat, lon]" in info.value.problem
    # the other side: an open-sea fence whose swap is at sea too; and the opt-out
    parse_policy({"geofences": [fence(ATLANTIC)]})
    parse_policy({"geofences": [fence(MALDIVES_SWAPPED, check_axes=False)]})
    # a fence on land is never reported by this rule, even though its swap is land too
    parse_policy({"geofences": [fence(SWAPPED_CRIMEA)]})
    # nor one at sea within a country's territorial sea (10 km off Poti, GE), though its swap is land (Adjara)
    off_poti = [[41.54, 42.14], [41.56, 42.14], [41.56, 42.16], [41.54, 42.16], [41.54, 42.14]]
    assert not shapely.intersects(shapely.Polygon(off_poti), shapely.Point(41.67, 42.15))
    parse_policy({"geofences": [fence(off_poti)]})


def test_fence_in_no_terminal_country_but_swapped_in_one_is_an_error() -> None:
    pol = parse_policy({"geofences": [fence(SWAPPED_CRIMEA)]})  # as written: Iraq, Iran, Syria, Turkey
    simferopol = (np.array([44.95]), np.array([34.10]))  # RU in Natural Earth's de facto view
    with pytest.raises(InputError) as info:
        check_geofence_axes(pol, *simferopol)
    assert "none of the countries" in info.value.problem and "reaches RU" in info.value.problem
    # tracks count by their points (a boat from Odesa, UA, to Sevastopol)
    boat = TrackSet.of([make_track([0.0, 36_000.0], [46.5, 44.6], [30.7, 33.5])])
    with pytest.raises(InputError):
        check_geofence_axes(pol, np.zeros(0), np.zeros(0), boat, np.array([0]))
    # other side: a terminal in a country the fence covers (Baghdad), no terminals, the opt-out, the right fence
    check_geofence_axes(pol, np.array([33.3, 44.95]), np.array([44.4, 34.10]))
    check_geofence_axes(pol, np.zeros(0), np.zeros(0))
    check_geofence_axes(parse_policy({"geofences": [fence(SWAPPED_CRIMEA, check_axes=False)]}), *simferopol)
    check_geofence_axes(parse_policy({"geofences": [fence(CRIMEA_BOX)]}), *simferopol)
    # a terminal far from both (Tokyo): the swap reaches no terminal country either, nothing is proven
    check_geofence_axes(pol, np.array([35.69]), np.array([139.69]))
    # terminals inside the swapped polygon prove nothing when the fence covers a terminal country too:
    # the Crimea box with terminals in Moscow (RU) and Baghdad (in the swapped box)
    check_geofence_axes(
        parse_policy({"geofences": [fence(CRIMEA_BOX)]}), np.array([55.75, 33.3]), np.array([37.6, 44.4])
    )


def test_policy_check_prints_where_each_geofence_is() -> None:
    res = CliRunner().invoke(app, ["policy", "check", "crimea-2022"])
    assert res.exit_code == 0, res.output
    assert "Geofences: where they are" in res.output and "RU (Russia)" in res.output
    assert "sevastopol-sea-2022" in res.output
