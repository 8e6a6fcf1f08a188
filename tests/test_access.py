"""The access path (leonet.access): terminal -> serving satellite -> (lasers) -> gateway -> fibre -> PoP.

Independent references, next to each test:

* the geometric bounds: straight lines between the Earth-fixed positions (triangle inequality), at c in vacuum
  for the radio / laser part and at c / n for the fibre;
* the components re-summed from the positions with NumPy (norms of position differences), not from the
  search's distances;
* a brute force: ``networkx.shortest_path_length`` (Dijkstra) over a graph built here from the positions, with
  the elevations from :func:`leonet.geodesy.elevation_deg` (not the k-d tree of ``topology.ground_links``) and
  the fibre lengths from ``pyproj.Geod.inv`` directly;
* bent-pipe vs lasers on a real starlink-gen1 snapshot: with the same serving satellite the laser search may
  choose the bent-pipe path too (zero ISLs), so lasers <= bent-pipe wherever bent-pipe serves.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import networkx as nx
import numpy as np
import pyproj
import pytest
from numpy.typing import NDArray

from leonet import access, catalog
from leonet.access import AccessParams, access_ground, access_paths, home_pops, make_sites, pair_via_pops
from leonet.constants import C_KM_S
from leonet.geodesy import elevation_deg, to_ecef_km, up_unit
from leonet.orbits.constellation import from_shells
from leonet.orbits.propagate import positions_itrf_km
from leonet.orbits.shells import Shell, preset
from leonet.timebase import julian_dates
from leonet.topology import isl_lengths_km, plus_grid_isls

EPOCH = datetime(2026, 2, 23, tzinfo=UTC)
C_KM_MS = C_KM_S / 1e3
GEOD = pyproj.Geod(ellps="WGS84")


def sats_at(shells: list[Shell], t_s: float, name: str = "x") -> tuple[NDArray[np.float64], NDArray[np.int32]]:
    const = from_shells(name, shells, EPOCH)
    from sgp4.api import SatrecArray

    jw, jf = julian_dates(EPOCH, np.array([t_s]))
    r = positions_itrf_km(SatrecArray(list(const.satrecs)), jw, jf, 0.0, None)[0]
    return r, plus_grid_isls(const.grids)


def shipped_sites() -> tuple[access.Sites, access.Sites]:
    gw = catalog.gateways()
    pops = catalog.pops()
    return (
        make_sites([g.name for g in gw], [g.lat_deg for g in gw], [g.lon_deg for g in gw],
                   [g.country_iso_a2 for g in gw]),
        make_sites([p.name for p in pops], [p.lat_deg for p in pops], [p.lon_deg for p in pops],
                   [p.country_iso_a2 for p in pops]),
    )  # fmt: skip


@pytest.fixture(scope="module")
def gen1() -> dict[str, Any]:
    """A real starlink-gen1 snapshot, the 300 most populous cities as terminals, the shipped gateways and PoPs."""
    sat, isl = sats_at(preset("starlink-gen1"), 600.0, "starlink-gen1")
    isl_km = isl_lengths_km(sat, isl)
    cities = catalog.cities()[:300]
    lat = np.array([c.lat_deg for c in cities])
    lon = np.array([c.lon_deg for c in cities])
    gws, pops = shipped_sites()
    ground = access_ground(gws, pops)
    home = home_pops(lat, lon, [c.country_iso_a2 for c in cities], pops)
    r = to_ecef_km(lat, lon, np.zeros(len(lat)), "wgs84")
    up = up_unit(lat, lon)
    out: dict[str, Any] = {"sat": sat, "isl": isl, "isl_km": isl_km, "ground": ground, "home": home, "r": r,
                           "up": up, "lat": lat, "lon": lon, "cities": cities}  # fmt: skip
    for mode in ("lasers", "bent-pipe"):
        out[mode] = access_paths(r, up, 25.0, home, sat, isl, isl_km, ground, AccessParams(mode=mode))  # type: ignore[arg-type]
    return out


def test_most_terminals_are_served_and_paths_are_whole(gen1: dict[str, Any]) -> None:
    p = gen1["lasers"]
    assert p.served.mean() > 0.9  # gen1 covers 53 deg N / S and the shipped gateways are everywhere but Asia
    s = p.served
    assert (p.serving_sat[s] >= 0).all() and (p.gateway[s] >= 0).all() and (p.pop[s] == p.home_pop[s]).all()
    assert (p.isl_hops[s] >= 0).all() and (p.isl_hops[~s] == -1).all()
    assert np.isnan(p.one_way_ms[~s]).all() and (p.gateway[~s] == -1).all()
    np.testing.assert_array_equal(p.rtt_ms[s], 2 * p.one_way_ms[s])


@pytest.mark.parametrize("mode", ["lasers", "bent-pipe"])
def test_rtt_never_below_the_geometric_bound_through_its_gateway(gen1: dict[str, Any], mode: str) -> None:
    """one way >= (|terminal - serving sat| + |serving sat - gateway|) / c + fibre / (c / n), and >= the straight
    line terminal -> PoP / c (the chord is below the fibre's geodesic)."""
    p = gen1[mode]
    s = np.flatnonzero(p.served)
    sat, g = gen1["sat"], gen1["ground"]
    t_r = gen1["r"][s]
    s_r = sat[p.serving_sat[s]]
    gw_r = g.gateways.ecef_km[p.gateway[s]]
    pop_r = g.pops.ecef_km[p.pop[s]]
    up = np.linalg.norm(s_r - t_r, axis=1)
    to_gw = np.linalg.norm(gw_r - s_r, axis=1)
    lat1, lon1 = g.gateways.lat_deg[p.gateway[s]], g.gateways.lon_deg[p.gateway[s]]
    lat2, lon2 = g.pops.lat_deg[p.pop[s]], g.pops.lon_deg[p.pop[s]]
    _, _, geo_m = GEOD.inv(lon1, lat1, lon2, lat2)
    fibre_bound_ms = np.asarray(geo_m) / 1e3 * access.FIBRE_GROUP_INDEX / C_KM_MS  # route factor >= 1
    bound = (up + to_gw) / C_KM_MS + fibre_bound_ms
    assert (p.one_way_ms[s] >= bound - 1e-9).all()
    assert (p.one_way_ms[s] >= np.linalg.norm(pop_r - t_r, axis=1) / C_KM_MS - 1e-9).all()
    assert (p.rtt_ms[s] >= 2 * bound - 1e-9).all()
    # the bound is not loose where the gateway is in the serving satellite's view (only the route factor and
    # the MAC term above it)
    direct = p.isl_hops[s] == 0
    extra = p.one_way_ms[s][direct] - bound[direct]
    fib = fibre_bound_ms[direct] * (access.FIBRE_ROUTE_FACTOR - 1)
    np.testing.assert_allclose(extra, fib + access.MAC_SCHEDULING_MS, atol=1e-9)


@pytest.mark.parametrize("mode", ["lasers", "bent-pipe"])
def test_components_re_summed_from_positions_equal_the_delay(gen1: dict[str, Any], mode: str) -> None:
    """Walk nothing: the serving / down satellites, gateway and PoP give up, down and fibre lengths from the
    positions; ISL km re-summed in a brute-force way per terminal is checked on those with hops."""
    p = gen1[mode]
    s = np.flatnonzero(p.served)
    sat, g = gen1["sat"], gen1["ground"]
    up = np.linalg.norm(sat[p.serving_sat[s]] - gen1["r"][s], axis=1)
    down = np.linalg.norm(g.gateways.ecef_km[p.gateway[s]] - sat[p.down_sat[s]], axis=1)
    lat1, lon1 = g.gateways.lat_deg[p.gateway[s]], g.gateways.lon_deg[p.gateway[s]]
    lat2, lon2 = g.pops.lat_deg[p.pop[s]], g.pops.lon_deg[p.pop[s]]
    _, _, geo_m = GEOD.inv(lon1, lat1, lon2, lat2)
    fibre = np.asarray(geo_m) / 1e3 * access.FIBRE_ROUTE_FACTOR
    np.testing.assert_allclose(p.up_km[s], up, rtol=1e-12)
    np.testing.assert_allclose(p.down_km[s], down, rtol=1e-12)
    np.testing.assert_allclose(p.fibre_km[s], fibre, rtol=1e-9)
    total = (up + p.isl_km[s] + down) / C_KM_MS + fibre * access.FIBRE_GROUP_INDEX / C_KM_MS
    total += access.MAC_SCHEDULING_MS + (p.isl_hops[s] + 1) * access.SAT_PROCESSING_MS
    np.testing.assert_allclose(p.one_way_ms[s], total, rtol=1e-9)
    np.testing.assert_allclose(p.propagation_ms[s] + p.processing_ms[s] + p.mac_ms[s], p.one_way_ms[s], rtol=1e-9)
    if mode == "bent-pipe":
        assert (p.isl_hops[s] == 0).all() and (p.isl_km[s] == 0).all()
        np.testing.assert_array_equal(p.down_sat[s], p.serving_sat[s])
    else:
        # ISL km >= the straight line from the serving to the down satellite (triangle inequality)
        chord = np.linalg.norm(sat[p.down_sat[s]] - sat[p.serving_sat[s]], axis=1)
        assert (p.isl_km[s] >= chord - 1e-6).all()
        assert (p.isl_hops[s] > 0).any()


def test_bent_pipe_sees_its_gateway_and_is_never_faster_than_lasers(gen1: dict[str, Any]) -> None:
    bp, la = gen1["bent-pipe"], gen1["lasers"]
    g = gen1["ground"]
    s = np.flatnonzero(bp.served)
    assert len(s) > 50
    el = elevation_deg(g.gateways.ecef_km[bp.gateway[s]], g.gateways.up[bp.gateway[s]], gen1["sat"][bp.serving_sat[s]])
    assert (el >= access.GATEWAY_MIN_ELEVATION_DEG - 1e-9).all()
    # the same serving satellite (highest elevation) in both modes; the laser search includes the bent pipe
    np.testing.assert_array_equal(bp.serving_sat, la.serving_sat)
    assert la.served[s].all()
    assert (la.one_way_ms[s] <= bp.one_way_ms[s] + 1e-9).all()
    # and somewhere lasers are strictly better, and serve terminals bent-pipe cannot
    assert (la.one_way_ms[s] < bp.one_way_ms[s] - 1e-6).any()
    assert la.served.sum() > bp.served.sum()


def test_serving_satellite_default_is_the_highest_above_the_mask(gen1: dict[str, Any]) -> None:
    p = gen1["lasers"]
    sat = gen1["sat"]
    el = elevation_deg(gen1["r"][:, None, :], gen1["up"][:, None, :], sat[None, :, :])  # (N, S) brute force
    best = np.argmax(el, axis=1)
    seen = el.max(axis=1) >= 25.0
    np.testing.assert_array_equal(p.serving_sat >= 0, seen)
    np.testing.assert_array_equal(p.serving_sat[seen], best[seen])


def test_given_serving_satellite_is_used(gen1: dict[str, Any]) -> None:
    """The scheduler's assignment (here: the second-highest satellite) is used as given; -1 gives no service."""
    sat = gen1["sat"]
    el = elevation_deg(gen1["r"][:, None, :], gen1["up"][:, None, :], sat[None, :, :])
    second = np.argsort(-el, axis=1)[:, 1].astype(np.int32)
    second[el[np.arange(len(el)), second] < 25.0] = -1
    second[:5] = -1
    p = access_paths(gen1["r"], gen1["up"], 25.0, gen1["home"], sat, gen1["isl"], gen1["isl_km"], gen1["ground"],
                     serving_sat=second)  # fmt: skip
    np.testing.assert_array_equal(p.serving_sat, second)
    assert not p.served[:5].any()
    s = p.served
    np.testing.assert_allclose(p.up_km[s], np.linalg.norm(sat[second[s]] - gen1["r"][s], axis=1), rtol=1e-12)


def brute_force_ms(
    term_r: NDArray[np.float64],
    term_up: NDArray[np.float64],
    serving: int,
    pop: int,
    sat: NDArray[np.float64],
    isl: NDArray[np.int32],
    gws: access.Sites,
    pops: access.Sites,
    mode: str,
    params: AccessParams,
) -> float:
    """networkx Dijkstra over terminal + satellites + gateways + PoPs, built from the positions here."""
    G = nx.DiGraph()
    G.add_edge("t", ("s", serving), w=np.linalg.norm(sat[serving] - term_r) / C_KM_MS + params.sat_processing_ms)
    if mode == "lasers":
        for a, b in isl:
            d = float(np.linalg.norm(sat[a] - sat[b])) / C_KM_MS + params.sat_processing_ms
            G.add_edge(("s", int(a)), ("s", int(b)), w=d)
            G.add_edge(("s", int(b)), ("s", int(a)), w=d)
    for w in range(gws.size):
        el = elevation_deg(gws.ecef_km[w], gws.up[w], sat)
        for s in np.flatnonzero(el >= params.gateway_min_elevation_deg):
            G.add_edge(("s", int(s)), ("g", w), w=float(np.linalg.norm(sat[s] - gws.ecef_km[w])) / C_KM_MS)
        _, _, m = GEOD.inv(gws.lon_deg[w], gws.lat_deg[w], pops.lon_deg[pop], pops.lat_deg[pop])
        G.add_edge(("g", w), "pop", w=m / 1e3 * params.fibre_route_factor * params.fibre_refractive_index / C_KM_MS)
    try:
        d = nx.shortest_path_length(G, "t", "pop", weight="w")
    except (nx.NetworkXNoPath, nx.NodeNotFound):
        return float("nan")
    return float(d) + params.mac_scheduling_ms


@pytest.mark.parametrize("mode", ["lasers", "bent-pipe"])
@pytest.mark.parametrize("seed", [1, 2])
def test_matches_networkx_on_a_small_constellation(mode: str, seed: int) -> None:
    """A 18 x 18 Walker shell at 550 km, 40 random terminals, 40 random gateways and 4 PoPs; with a per-satellite
    processing delay so that the hop count counts."""
    rng = np.random.default_rng(seed)
    sat, isl = sats_at([Shell(550.0, 53.0, 18, 18, 1)], 100.0 * seed)
    isl_km = isl_lengths_km(sat, isl)

    def sites(n: int, prefix: str) -> access.Sites:
        lat = rng.uniform(-50, 50, n)
        lon = rng.uniform(-180, 180, n)
        return make_sites([f"{prefix}{i}" for i in range(n)], lat, lon)

    gws, pops, terms = sites(40, "g"), sites(4, "p"), sites(40, "t")
    ground = access_ground(gws, pops)
    params = AccessParams(mode=mode, sat_processing_ms=0.3, mac_scheduling_ms=0.7)  # type: ignore[arg-type]
    home = home_pops(terms.lat_deg, terms.lon_deg, terms.country, pops, "nearest")
    p = access_paths(terms.ecef_km, terms.up, 10.0, home, sat, isl, isl_km, ground, params)
    assert (p.serving_sat >= 0).sum() >= 5
    checked = 0
    for i in np.flatnonzero(p.serving_sat >= 0):
        ref = brute_force_ms(terms.ecef_km[i], terms.up[i], int(p.serving_sat[i]), int(home[i]), sat, isl, gws, pops,
                             mode, params)  # fmt: skip
        if np.isnan(ref):
            assert not p.served[i]
        else:
            assert p.one_way_ms[i] == pytest.approx(ref, rel=1e-9)
            checked += 1
    assert checked >= 3


def test_nearest_pop_by_geodesic() -> None:
    _, pops = shipped_sites()
    # brute force: pyproj to every PoP
    lat, lon = np.array([48.8566, 45.4215, 35.6762, -1.2921]), np.array([2.3522, -75.6972, 139.6503, 36.8219])
    got = home_pops(lat, lon, ["FR", "CA", "JP", "KE"], pops, "nearest")
    for i in range(len(lat)):
        _, _, m = GEOD.inv(np.full(pops.size, lon[i]), np.full(pops.size, lat[i]), pops.lon_deg, pops.lat_deg)
        assert got[i] == int(np.argmin(m))
    assert [pops.names[j] for j in got] == ["LON/LHR", "LGA/NYC", "TYO/NRT", "LOS"]


def test_country_homing_prefers_the_terminals_country_then_the_table() -> None:
    _, pops = shipped_sites()
    names = list(pops.names)
    # Tijuana (MX) is 200 km from LAX but its country has a PoP (Querétaro); San Diego (US) goes to LAX; Paris
    # (FR, no PoP) falls back to the nearest (London); Toronto (CA) to the nearest, New York
    lat = np.array([32.5149, 32.7157, 48.8566, 43.6532])
    lon = np.array([-117.0382, -117.1611, 2.3522, -79.3832])
    ctry = ["MX", "US", "FR", "CA"]
    assert [names[j] for j in home_pops(lat, lon, ctry, pops, "country")] == ["QRO/MEX", "LAX", "LON/LHR", "LGA/NYC"]
    assert [names[j] for j in home_pops(lat, lon, ctry, pops, "nearest")] == ["LAX", "LAX", "LON/LHR", "LGA/NYC"]
    table = {"FR": names.index("FRA"), "CA": names.index("SEA")}
    got = home_pops(lat, lon, ctry, pops, "country", table)
    assert [names[j] for j in got] == ["QRO/MEX", "LAX", "FRA", "SEA"]
    # a country unknown ('' : at sea) is never matched to a PoP's country
    assert (
        names[home_pops([40.0], [-40.0], [""], pops, "country")[0]]
        == names[home_pops([40.0], [-40.0], [""], pops, "nearest")[0]]
    )


def test_pair_via_pops(gen1: dict[str, Any]) -> None:
    p, g = gen1["lasers"], gen1["ground"]
    s = np.flatnonzero(p.served)
    a, b = s[:20], s[20:40]
    got = pair_via_pops(p, a, b, g)
    _, _, m = GEOD.inv(g.pops.lon_deg[p.pop[a]], g.pops.lat_deg[p.pop[a]], g.pops.lon_deg[p.pop[b]],
                       g.pops.lat_deg[p.pop[b]])  # fmt: skip
    fib = np.asarray(m) / 1e3 * access.FIBRE_ROUTE_FACTOR * access.FIBRE_GROUP_INDEX / C_KM_MS
    np.testing.assert_allclose(got, p.one_way_ms[a] + fib + p.one_way_ms[b], rtol=1e-9)
    same = pair_via_pops(p, a, a, g)
    np.testing.assert_allclose(same, 2 * p.one_way_ms[a], rtol=1e-12)  # one PoP: no fibre between
    unserved = np.flatnonzero(~p.served)
    if len(unserved):
        assert np.isnan(pair_via_pops(p, unserved[:1], s[:1], g)).all()


def test_no_gateway_or_no_pop_serves_nobody(gen1: dict[str, Any]) -> None:
    gws, pops = shipped_sites()
    none = make_sites([], [], [])
    for ground in (access_ground(none, pops), access_ground(gws, none)):
        home = np.zeros(len(gen1["r"]), np.int32) if ground.pops.size else np.full(len(gen1["r"]), -1, np.int32)
        p = access_paths(gen1["r"], gen1["up"], 25.0, home, gen1["sat"], gen1["isl"], gen1["isl_km"], ground)
        assert not p.served.any()


def test_bad_arguments_are_refused(gen1: dict[str, Any]) -> None:
    args = (gen1["r"], gen1["up"], 25.0, gen1["home"], gen1["sat"], gen1["isl"], gen1["isl_km"], gen1["ground"])
    with pytest.raises(ValueError, match="mode"):
        access_paths(*args, AccessParams(mode="laser"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="serving_sat"):
        access_paths(*args, serving_sat=np.full(len(gen1["r"]), len(gen1["sat"]), np.int32))
    with pytest.raises(ValueError, match="shape"):
        access_paths(*args, serving_sat=np.zeros(3, np.int32))
    with pytest.raises(ValueError, match="homing"):
        home_pops([0.0], [0.0], [""], gen1["ground"].pops, "closest")  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_highest_of_links_against_a_loop(seed: int) -> None:
    """Links in any order, with exact ties: per terminal the highest, ties to the link listed first (a loop)."""
    rng = np.random.default_rng(seed)
    n_t, n_s, n_l = 30, 50, 400
    term_r = rng.normal(size=(n_t, 3))
    up = term_r / np.linalg.norm(term_r, axis=1, keepdims=True)
    sat_r = rng.normal(size=(n_s, 3)) * 3
    sat_r[10] = sat_r[11]  # two satellites at one place: ties
    term = rng.integers(0, n_t - 5, n_l).astype(np.int32)  # the last five terminals see nothing
    sat = rng.integers(0, n_s, n_l).astype(np.int32)
    sat[::7] = 10
    sat[1::7] = 11
    length = np.linalg.norm(sat_r[sat] - term_r[term], axis=1)
    got, glen = access.highest_of_links(n_t, term, sat, length, sat_r, term_r, up)
    for i in range(n_t):
        best, blen, be = -1, np.nan, -np.inf
        for k in range(n_l):
            if term[k] == i:
                e = float(np.dot(sat_r[sat[k]] - term_r[i], up[i]) / length[k])
                if e > be:
                    best, blen, be = int(sat[k]), float(length[k]), e
        assert got[i] == best, i
        assert (np.isnan(glen[i]) and np.isnan(blen)) or glen[i] == blen
