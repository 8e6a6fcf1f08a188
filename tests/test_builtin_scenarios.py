"""The built-in policy scenarios (src/leonet/scenarios/*.toml): each outcome, and that it depends on its rule.

Public facts behind them: docs/scenarios.md. Independent references in the tests: geofence entry times
from shapely on positions computed with pyproj.Geod directly (not leonet.tracks), elevations from
leonet.geodesy checked against skyfield / pyproj in test_geometry.py.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import pytest
import shapely

import leonet
from leonet import step
from leonet.geodesy import elevation_deg, geodetic_to_ecef_km, up_unit
from leonet.results import Results


@cache
def run(name: str) -> Results:
    return leonet.run(leonet.load_scenario(name))


def variant(name: str, edit: Any, **time: float) -> Results:
    """The built-in scenario with its policy dict edited by ``edit(policy)`` (and optionally a shorter window)."""
    sc = leonet.load_scenario(name)
    pol = copy.deepcopy(sc.policy)
    edit(pol)
    update: dict[str, Any] = {"policy": pol}
    if time:
        update["time"] = sc.time.model_copy(update=time)
    return leonet.run(sc.model_copy(update=update))


def status(res: Results, network: str | None = None) -> dict[str, dict[str, float]]:
    """terminal -> {served_s, denied_s, no_coverage_s, rule}"""
    rows = res.terminals.to_pylist()
    net = network or res.prepared.networks[0].spec.name
    return {r["terminal"]: r for r in rows if r["network"] == net}


def drop(kind: str, rule_id: str | None = None) -> Any:
    def edit(pol: dict[str, Any]) -> None:
        if rule_id is None:
            pol.pop(kind, None)
        else:
            pol[kind] = [r for r in pol[kind] if r["id"] != rule_id]

    return edit


# --- taiwan-unlicensed ------------------------------------------------------------------------------------------


def test_taiwan_terminals_denied_neighbours_served() -> None:
    st = status(run("taiwan-unlicensed"))
    for tw in ("Taipei", "Kaohsiung"):
        assert st[tw]["served_s"] == 0 and st[tw]["main_denial_rule"] == "no-licence"
    for ok in ("Manila", "Naha", "Tokyo"):
        assert st[ok]["denied_s"] == 0 and st[ok]["served_s"] > 0


def test_taiwan_satellites_overhead_still_carry_manila_tokyo() -> None:
    res = run("taiwan-unlicensed")
    prep = res.prepared
    net = prep.networks[0]
    sat = step.positions_at(net, prep, prep.times_s)  # (T, S, 3)
    taipei = prep.ground.index("Taipei")
    obs = geodetic_to_ecef_km(prep.ground.lat_deg[taipei], prep.ground.lon_deg[taipei], 0.0)
    up = up_unit(prep.ground.lat_deg[taipei], prep.ground.lon_deg[taipei])
    over_taiwan = elevation_deg(obs, up, sat) >= 25.0  # (T, S): satellites that would serve Taipei
    df = res.routes.to_pandas()
    mt = df[(df.src_name == "Manila") & (df.dst_name == "Tokyo")]
    assert mt.reachable.all()
    k = np.searchsorted(prep.times_s, mt.t_s.to_numpy())
    crossing = [any(n < net.n_sats and over_taiwan[i, n] for n in path) for i, path in zip(k, mt.path, strict=True)]
    assert np.mean(crossing) > 0.5, np.mean(crossing)
    # ... while Taipei itself has no ground link and no route at any snapshot
    assert not df[(df.src_name == "Taipei") | (df.dst_name == "Taipei")].reachable.any()


def test_taiwan_served_without_the_licence_rule() -> None:
    st = status(variant("taiwan-unlicensed", drop("licences"), end_s=60))
    assert st["Taipei"]["denied_s"] == 0 and st["Taipei"]["served_s"] > 0


# --- crimea-2022 -----------------------------------------------------------------------------------------------


def _fences() -> shapely.Geometry:
    folder = resources.files("leonet")
    regions = json.loads(folder.joinpath("data", "geofence_regions.geojson").read_text())
    crimea = next(f for f in regions["features"] if f["properties"]["region_id"] == "crimea")
    sea = json.loads(folder.joinpath("scenarios", "policy", "sevastopol-sea-100km.geojson").read_text())
    return shapely.union(
        shapely.geometry.shape(crimea["geometry"]), shapely.geometry.shape(sea["features"][0]["geometry"])
    )


def test_crimea_boat_goes_dark_when_it_enters_the_fence() -> None:
    res = run("crimea-2022")
    t = res.prepared.times_s
    # independent positions: the track is a straight geodesic Odesa -> Sevastopol at constant speed over 21,600 s
    geod = pyproj.Geod(ellps="WGS84")
    az, _, dist = geod.inv(30.7233, 46.4825, 33.5220, 44.6054)
    lon, lat, _ = geod.fwd(np.full(t.size, 30.7233), np.full(t.size, 46.4825), np.full(t.size, az), dist * t / 21600.0)
    inside = shapely.contains_xy(_fences(), lon, lat)
    first_inside = t[np.argmax(inside)]
    assert inside.any() and not inside[0]
    boat = [r for r in res.service.to_pylist() if r["terminal"] == "BOAT-1"]
    assert boat[0]["status"] == "served" and boat[0]["start_s"] == 0.0
    denied = [r for r in boat if r["status"] == "denied"]
    assert denied and denied[0]["start_s"] == first_inside
    assert {r["rule_id"] for r in denied} <= {"crimea-2022", "sevastopol-sea-2022"}
    st = status(res)
    for kyiv in ("KYIV-1", "KYIV-2"):
        assert st[kyiv]["denied_s"] == 0 and st[kyiv]["no_coverage_s"] == 0


def test_crimea_boat_keeps_service_without_the_fences() -> None:
    st = status(variant("crimea-2022", drop("geofences"), start_s=13800, end_s=21600, step_s=300))
    assert st["BOAT-1"]["denied_s"] == 0


# --- front-whitelist-2026 ----------------------------------------------------------------------------------------


def test_whitelist_serves_registered_and_denies_unregistered_in_ukraine() -> None:
    st = status(run("front-whitelist-2026"))
    for ok in ("KIT-UA-0001", "KIT-UA-0003", "UNREG-RZESZOW"):
        assert st[ok]["denied_s"] == 0, ok
    for dark in ("UNREG-DONETSK", "UNREG-MELITOPOL", "UNREG-SIMFEROPOL"):
        assert st[dark]["served_s"] == 0 and st[dark]["main_denial_rule"] == "ua-whitelist-2026", dark
    assert st["KIT-RU-0666"]["main_denial_rule"] == "suspended"


def test_without_the_whitelist_unregistered_terminals_are_served() -> None:
    st = status(variant("front-whitelist-2026", drop("geofences", "ua-whitelist-2026"), end_s=60))
    assert st["UNREG-DONETSK"]["denied_s"] == 0 and st["UNREG-MELITOPOL"]["denied_s"] == 0


def test_quota_violation_is_a_clear_error(tmp_path: Path) -> None:
    text = resources.files("leonet").joinpath("scenarios", "front-whitelist-2026.toml").read_text()
    text += (
        '\n[[policy.terminals]]\nid = "KIT-UA-0099"\naccount = "olena"\naccount_type = "person"\n'
        'service_class = "mobile"\nregistered_country = "UA"\nwhitelists = ["ua-2026"]\n'
    )
    p = tmp_path / "too-many.toml"
    p.write_text(text)
    r = subprocess.run([sys.executable, "-m", "leonet.cli", "policy", "check", str(p)], capture_output=True, text=True)
    assert r.returncode == 2
    line = r.stderr.strip()
    assert "\n" not in line and str(p) in line and "olena" in line and "quota-person" in line and "2" in line


# --- speed-cap-2026 -----------------------------------------------------------------------------------------------


def test_speed_cap_denies_120_kmh_unless_exempt() -> None:
    res = run("speed-cap-2026")
    st = status(res)
    moving = [r for r in res.service.to_pylist() if r["terminal"] == "KIT-UA-0002"]
    assert moving[0]["status"] == "denied" and moving[0]["rule_id"] == "ua-speed-cap-2026"
    assert moving[0]["end_s"] >= 3600.0  # denied for the whole drive
    assert st["KIT-UA-0001"]["denied_s"] == 0  # exempt military unit on the same road
    assert st["KIT-UA-0003"]["denied_s"] == 0  # parked


def test_speed_cap_removed_or_exemption_removed() -> None:
    st = status(variant("speed-cap-2026", drop("speed_caps"), end_s=600))
    assert st["KIT-UA-0002"]["denied_s"] == 0  # 120 km/h is within the mobile plan's 160 km/h

    def no_exemption(pol: dict[str, Any]) -> None:
        pol["speed_caps"][0]["exempt_account_types"] = []
        for t in pol["terminals"]:
            t["exempt_speed_cap"] = False

    st = status(variant("speed-cap-2026", no_exemption, end_s=600))
    assert st["KIT-UA-0001"]["served_s"] == 0


# --- national-constellation -----------------------------------------------------------------------------------------


def test_national_constellation_side_by_side() -> None:
    res = run("national-constellation")
    cmp = {r["network"]: r for r in res.comparison.to_pylist()}
    assert set(cmp) == {"starlink-550", "starlink-550-no-policy", "national-leo"}
    # the licence rule denies Russian terminals on starlink-550 only
    st = status(res, "starlink-550")
    assert st["Moskva-(Moscow)"]["main_denial_rule"] == "no-licence" and st["Almaty"]["denied_s"] == 0
    assert cmp["starlink-550"]["served_share"] < cmp["starlink-550-no-policy"]["served_share"]
    assert cmp["national-leo"]["denied_s"] == 0
    assert cmp["national-leo"]["served_share"] > cmp["starlink-550"]["served_share"]
    # physics alone: Murmansk (69 N) is out of reach of the 53 deg shell at a 25 deg mask
    assert status(res, "starlink-550-no-policy")["Murmansk"]["served_s"] == 0
    assert cmp["national-leo"]["rtt_median_ms"] is not None and cmp["starlink-550"]["rtt_median_ms"] is None


def test_national_without_licences_equals_physics() -> None:
    res = variant("national-constellation", drop("licences"), end_s=120)
    cmp = {r["network"]: r for r in res.comparison.to_pylist()}
    assert cmp["starlink-550"]["served_share"] == pytest.approx(cmp["starlink-550-no-policy"]["served_share"])
