"""``leonet.access`` piece by piece, each against an independent reference named in the test.

* the defaults: the figures README.md's "Access: terminals to PoPs" gives with their sources (fibre route factor
  1.3, group index 1.4682, gateways at 25 deg, one Starlink frame of 1/750 s per direction, 0 ms per satellite);
* sites and fibre: ``pyproj`` (EPSG:4979 -> EPSG:4978 for the Earth-fixed positions, ``Geod.inv`` for the
  geodesic) and the geodetic vertical written out in trigonometry;
* home PoPs: the rule of ``home_pops``' docstring written out as a loop over terminals, on ``Geod.inv``
  distances;
* access paths: a networkx Dijkstra over terminal -> satellites -> gateways -> PoP built here from the
  positions, with the elevations in plain trigonometry (sin el = (r_sat - r_site) . up / |r_sat - r_site|),
  propagation at the given fractions of c, processing per satellite entered, the fibre from ``Geod.inv``; and the
  docstring's rules for what an unserved terminal holds (indices -1, lengths and delays NaN).
"""

from __future__ import annotations

from typing import NamedTuple

import networkx as nx
import numpy as np
import pyproj
import pytest
from numpy.typing import NDArray

from leonet import access
from leonet.access import AccessParams, access_ground, access_paths, fibre_km, home_pops, make_sites
from leonet.constants import C_KM_S
from leonet.orbits.shells import Shell
from leonet.topology import isl_lengths_km
from test_access import sats_at

GEOD = pyproj.Geod(ellps="WGS84")
TO_ECEF = pyproj.Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)


def test_defaults_are_the_readme_figures() -> None:
    """README: route factor 1.3 (Bozkurt et al. 2018), c / 1.4682 in fibre (SMF-28 Ultra), 25 deg gateways (FCC
    21-48), MAC one Starlink frame = 1/750 s = 1.333 ms (Humphreys et al. 2023), 0 ms per satellite."""
    p = AccessParams()
    assert p == access.DEFAULT_PARAMS
    assert (p.mode, p.fibre_route_factor, p.fibre_refractive_index) == ("lasers", 1.3, 1.4682)
    assert (p.gateway_min_elevation_deg, p.sat_processing_ms) == (25.0, 0.0)
    assert p.mac_scheduling_ms == pytest.approx(4.0 / 3.0, rel=1e-15)
    assert abs(access.STARLINK_FRAME_MS - 4.0 / 3.0) < 1e-15
    assert (p.isl_speed_fraction, p.ground_link_speed_fraction) == (1.0, 1.0)
    # light in fibre: c / 1.4682 = 204,190 km/s (the constant's comment)
    assert p.fibre_ms(204_190.0) == pytest.approx(1000.0, rel=1e-5)
    np.testing.assert_allclose(p.fibre_ms([0.0, 1.0, 2.5]), np.array([0.0, 1.0, 2.5]) * 1.4682 / C_KM_S * 1e3)


def test_sites_against_pyproj() -> None:
    """Earth-fixed positions (at 0 m by default, else the given heights) and the geodetic vertical."""
    lat, lon = np.array([0.0, 48.85, -33.9, 89.0]), np.array([0.0, 2.35, 151.2, -120.0])
    s = make_sites(["a", "b", "c", "d"], lat, lon)
    assert s.size == 4 and s.country == ("", "", "", "")
    x, y, z = TO_ECEF.transform(lon, lat, np.zeros(4))
    np.testing.assert_allclose(s.ecef_km, np.c_[x, y, z] / 1e3, atol=1e-6)
    la, lo = np.radians(lat), np.radians(lon)
    np.testing.assert_allclose(s.up, np.c_[np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], atol=1e-12)
    high = make_sites(["a", "b", "c", "d"], lat, lon, ["FR", "FR", "AU", ""], [0.0, 100.0, 2000.0, -50.0])
    x, y, z = TO_ECEF.transform(lon, lat, np.array([0.0, 100.0, 2000.0, -50.0]))
    np.testing.assert_allclose(high.ecef_km, np.c_[x, y, z] / 1e3, atol=1e-6)
    assert high.country == ("FR", "FR", "AU", "")
    with pytest.raises(ValueError, match="same length"):
        make_sites(["a"], [0.0, 1.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="same length"):
        make_sites(["a", "b"], [0.0, 1.0], [0.0, 1.0], ["FR"])


@pytest.mark.parametrize(("n_a", "n_b"), [(1, 3), (3, 1), (1, 1), (4, 5), (0, 3), (2, 0)])
def test_fibre_km_is_the_geodesic_times_the_route_factor(n_a: int, n_b: int) -> None:
    """``Geod.inv`` between every two sites, x 1.3 by default or x the given factor; (a, b)-shaped, empty too."""
    rng = np.random.default_rng(n_a * 10 + n_b)
    a = make_sites([f"a{i}" for i in range(n_a)], rng.uniform(-80, 80, n_a), rng.uniform(-180, 180, n_a))
    b = make_sites([f"b{i}" for i in range(n_b)], rng.uniform(-80, 80, n_b), rng.uniform(-180, 180, n_b))
    ref = np.zeros((n_a, n_b))
    for i in range(n_a):
        for j in range(n_b):
            ref[i, j] = GEOD.inv(a.lon_deg[i], a.lat_deg[i], b.lon_deg[j], b.lat_deg[j])[2] / 1e3
    got = fibre_km(a, b)
    assert got.shape == (n_a, n_b)
    np.testing.assert_allclose(got, ref * 1.3, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(fibre_km(a, b, 2.1), ref * 2.1, rtol=1e-9, atol=1e-9)
    g = access_ground(a, b, 1.7)
    np.testing.assert_allclose(g.gw_pop_km, ref * 1.7, rtol=1e-9, atol=1e-9)
    assert g.pop_pop_km.shape == (n_b, n_b) and (np.diag(g.pop_pop_km) == 0).all()


def home_ref(lat: float, lon: float, country: str, pops: access.Sites, rule: str, table: dict[str, int]) -> int:
    """``home_pops``' docstring as a loop: nearest by ``Geod.inv``; ``country``: the table, else the nearest PoP of
    the terminal's (known) country, else the nearest."""
    d = [GEOD.inv(lon, lat, pops.lon_deg[j], pops.lat_deg[j])[2] for j in range(pops.size)]
    nearest = int(np.argmin(d))
    if rule == "nearest":
        return nearest
    if country in table:
        return table[country]
    mine = [j for j in range(pops.size) if country != "" and pops.country[j] == country]
    return min(mine, key=lambda j: d[j]) if mine else nearest


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("rule", ["country", "nearest"])
def test_home_pops_against_the_rule_as_a_loop(seed: int, rule: str) -> None:
    """Random terminals and PoPs over a few countries ('' unknown), tables with keys before, among and after the
    terminals' countries in sorted order; one PoP, and none (-1)."""
    rng = np.random.default_rng(seed)
    codes = ["", "BB", "CC", "DD", "EE", "ZZ"]
    n_p = 1 + seed * 3
    pops = make_sites([f"p{j}" for j in range(n_p)], rng.uniform(-60, 60, n_p), rng.uniform(-180, 180, n_p),
                      list(rng.choice(codes[:5], n_p)))  # fmt: skip
    n = 40
    lat, lon = rng.uniform(-70, 70, n), rng.uniform(-180, 180, n)
    ctry = list(rng.choice(codes, n))
    tables: list[dict[str, int]] = [
        {},
        {"CC": n_p - 1},
        {"AA": 0, "DD": n_p - 1},
        {"BB": n_p - 1, "EE": 0, "ZZ": n_p // 2},
        {"CC": 0, "DD": n_p // 2, "BB": n_p - 1},
    ]
    for table in tables:
        got = home_pops(lat, lon, ctry, pops, rule, table)  # type: ignore[arg-type]
        assert got.dtype == np.int32
        ref = [home_ref(lat[i], lon[i], ctry[i], pops, rule, table) for i in range(n)]
        assert got.tolist() == ref, table
    one = make_sites(["only"], [10.0], [20.0], ["BB"])
    assert (home_pops(lat, lon, ctry, one, rule) == 0).all()  # type: ignore[arg-type]
    none = make_sites([], [], [])
    assert home_pops(lat, lon, ctry, none, rule).tolist() == [-1] * n  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------------------
# access paths against a networkx search built here
# ---------------------------------------------------------------------------------------------------------------


def up_of(lat_deg: NDArray[np.float64], lon_deg: NDArray[np.float64]) -> NDArray[np.float64]:
    la, lo = np.radians(lat_deg), np.radians(lon_deg)
    return np.c_[np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)]


def sin_el(site_r: NDArray[np.float64], site_up: NDArray[np.float64], sat: NDArray[np.float64]) -> NDArray[np.float64]:
    """sin(elevation) of every satellite from one site: the component of the line of sight along the vertical."""
    d = sat - site_r
    return np.asarray((d @ site_up) / np.linalg.norm(d, axis=1))


def reference(
    term_r: NDArray[np.float64],
    serving: int,
    pop: int,
    sat: NDArray[np.float64],
    isl: NDArray[np.int32],
    gws: access.Sites,
    pops: access.Sites,
    params: AccessParams,
    gw_down: frozenset[int] = frozenset(),
) -> float:
    """Least one-way delay (ms) terminal -> serving satellite -> ... -> gateway -> home PoP, by networkx."""
    c_gsl = C_KM_S * params.ground_link_speed_fraction / 1e3
    c_isl = C_KM_S * params.isl_speed_fraction / 1e3
    proc = params.sat_processing_ms
    G = nx.DiGraph()
    G.add_edge("t", ("s", serving), w=float(np.linalg.norm(sat[serving] - term_r)) / c_gsl + proc)
    if params.mode == "lasers":
        for a, b in isl:
            d = float(np.linalg.norm(sat[a] - sat[b])) / c_isl + proc
            G.add_edge(("s", int(a)), ("s", int(b)), w=d)
            G.add_edge(("s", int(b)), ("s", int(a)), w=d)
    up = up_of(gws.lat_deg, gws.lon_deg)
    floor = np.sin(np.radians(params.gateway_min_elevation_deg))
    for w in range(gws.size):
        if w in gw_down:
            continue
        for s in np.flatnonzero(sin_el(gws.ecef_km[w], up[w], sat) >= floor):
            G.add_edge(("s", int(s)), ("g", w), w=float(np.linalg.norm(sat[s] - gws.ecef_km[w])) / c_gsl)
        m = GEOD.inv(gws.lon_deg[w], gws.lat_deg[w], pops.lon_deg[pop], pops.lat_deg[pop])[2]
        fibre_ms = m / 1e3 * params.fibre_route_factor * params.fibre_refractive_index / C_KM_S * 1e3
        G.add_edge(("g", w), "pop", w=fibre_ms)
    try:
        d = nx.shortest_path_length(G, "t", "pop", weight="w")
    except (nx.NetworkXNoPath, nx.NodeNotFound):
        return float("nan")
    return float(d) + params.mac_scheduling_ms


class Case(NamedTuple):
    sat: NDArray[np.float64]
    isl: NDArray[np.int32]
    gws: access.Sites
    pops: access.Sites
    terms: access.Sites
    best: NDArray[np.int64]  # the highest satellite of each terminal (brute force)
    seen: NDArray[np.bool_]  # whether it is above 10 deg


def case(seed: int) -> Case:
    """An 18 x 18 shell at 550 km, random terminals, gateways and PoPs; satellite ids permuted so that the first
    served terminal's satellite is id 0 (the id at the edge of 'has a satellite')."""
    rng = np.random.default_rng(seed)
    sat, isl = sats_at([Shell(550.0, 53.0, 18, 18, 1)], 300.0 * seed)

    def sites(n: int, prefix: str) -> access.Sites:
        return make_sites([f"{prefix}{i}" for i in range(n)], rng.uniform(-50, 50, n), rng.uniform(-180, 180, n))

    gws, pops, terms = sites(30, "g"), sites(3, "p"), sites(30, "t")
    t_up = up_of(terms.lat_deg, terms.lon_deg)
    el = np.array([sin_el(terms.ecef_km[i], t_up[i], sat) for i in range(terms.size)])  # (N, S) brute force
    best = np.argmax(el, axis=1)
    seen = el.max(axis=1) >= np.sin(np.radians(10.0))
    first = int(best[np.flatnonzero(seen)[0]])
    perm = np.arange(len(sat))
    perm[[0, first]] = [first, 0]  # new id k is old satellite perm[k]
    inv = np.argsort(perm)
    sat, isl, best = sat[perm], inv[isl].astype(np.int32), inv[best]
    return Case(sat, isl, gws, pops, terms, best, seen)


PARAMS = [
    AccessParams(sat_processing_ms=0.3, mac_scheduling_ms=0.7, isl_speed_fraction=0.5, ground_link_speed_fraction=0.8),
    AccessParams(mode="bent-pipe", sat_processing_ms=0.2, ground_link_speed_fraction=0.6),
    AccessParams(gateway_min_elevation_deg=40.0, fibre_route_factor=2.0, fibre_refractive_index=1.5),
]


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("k", range(len(PARAMS)))
def test_access_paths_against_networkx(seed: int, k: int) -> None:
    """Serving satellite = the highest above 10 deg; the delay = networkx's; the components re-summed at the
    network's speeds; what an unserved terminal holds: indices -1, lengths and delays NaN (serving kept)."""
    params = PARAMS[k]
    sat, isl, gws, pops, terms, best, seen = case(seed)
    ground = access_ground(gws, pops, params.fibre_route_factor)
    home = home_pops(terms.lat_deg, terms.lon_deg, terms.country, pops, "nearest")
    home[-3:] = -1  # no home PoP: not served
    p = access_paths(terms.ecef_km, terms.up, 10.0, home, sat, isl, isl_lengths_km(sat, isl), ground, params)
    np.testing.assert_array_equal(p.serving_sat, np.where(seen, best, -1))
    assert (p.serving_sat == 0).any()
    np.testing.assert_array_equal(p.home_pop, home)
    ref = np.array([
        reference(terms.ecef_km[i], int(p.serving_sat[i]), int(home[i]), sat, isl, gws, pops, params)
        if p.serving_sat[i] >= 0 and home[i] >= 0 else np.nan
        for i in range(terms.size)
    ])  # fmt: skip
    np.testing.assert_array_equal(p.served, np.isfinite(ref))
    assert p.served.sum() >= 3 and (~p.served).sum() >= 3
    if params.mode == "lasers":  # the laser mesh reaches a gateway from any satellite
        assert p.served[p.serving_sat == 0].all()
    s, u = p.served, ~p.served
    np.testing.assert_allclose(p.one_way_ms[s], ref[s], rtol=1e-9)
    # components: at the network's speeds, processing per satellite on the path, MAC once
    c_gsl = C_KM_S * params.ground_link_speed_fraction / 1e3
    c_isl = C_KM_S * params.isl_speed_fraction / 1e3
    up_km = np.linalg.norm(sat[p.serving_sat[s]] - terms.ecef_km[s], axis=1)
    np.testing.assert_allclose(p.up_km[s], up_km, rtol=1e-12)
    np.testing.assert_allclose(
        p.down_km[s], np.linalg.norm(sat[p.down_sat[s]] - gws.ecef_km[p.gateway[s]], axis=1), rtol=1e-12
    )
    np.testing.assert_array_equal(p.pop[s], home[s])
    fib = np.array([GEOD.inv(gws.lon_deg[w], gws.lat_deg[w], pops.lon_deg[q], pops.lat_deg[q])[2] / 1e3
                    for w, q in zip(p.gateway[s], p.pop[s], strict=True)]) * params.fibre_route_factor  # fmt: skip
    np.testing.assert_allclose(p.fibre_km[s], fib, rtol=1e-9)
    prop = (up_km + p.down_km[s]) / c_gsl + p.isl_km[s] / c_isl + fib * params.fibre_refractive_index / C_KM_S * 1e3
    np.testing.assert_allclose(p.propagation_ms[s], prop, rtol=1e-9)
    np.testing.assert_allclose(p.processing_ms[s], (p.isl_hops[s] + 1) * params.sat_processing_ms, rtol=1e-12)
    np.testing.assert_allclose(p.mac_ms[s], params.mac_scheduling_ms, rtol=1e-12)
    np.testing.assert_allclose(p.one_way_ms[s], prop + p.processing_ms[s] + p.mac_ms[s], rtol=1e-9)
    np.testing.assert_array_equal(p.rtt_ms[s], 2.0 * p.one_way_ms[s])
    if params.mode == "bent-pipe":
        assert (p.isl_hops[s] == 0).all() and (p.isl_km[s] == 0).all()
        np.testing.assert_array_equal(p.down_sat[s], p.serving_sat[s])
    elif k == 0:
        assert (p.isl_hops[s] > 0).any()
    # each hop is a laser of this snapshot and the ISL km are at least the chord (triangle inequality)
    chord = np.linalg.norm(sat[p.down_sat[s]] - sat[p.serving_sat[s]], axis=1)
    assert (p.isl_km[s] >= chord - 1e-6).all()
    # the unserved: every index -1 (the serving satellite kept), every length and delay NaN
    for f in ("gateway", "pop", "down_sat", "isl_hops"):
        assert (getattr(p, f)[u] == -1).all(), f
    for f in ("up_km", "isl_km", "down_km", "fibre_km", "propagation_ms", "processing_ms", "mac_ms", "one_way_ms"):
        assert np.isnan(getattr(p, f)[u]).all(), f
    np.testing.assert_array_equal(p.serving_sat[-3:], np.where(seen, best, -1)[-3:])


def test_given_serving_allowed_nan_positions_and_sites_down() -> None:
    """The given assignment is used as is (satellite 0 included); a terminal not ``allowed`` gets none; a given
    satellite without a position (NaN) serves nobody; a gateway whose fibre is infinite (down) carries nothing,
    as networkx without that gateway; ids outside -1..S-1 are refused."""
    params = AccessParams(sat_processing_ms=0.1)
    sat, isl, gws, pops, terms, best, seen = case(3)
    sat = sat.copy()
    ground = access_ground(gws, pops)
    home = home_pops(terms.lat_deg, terms.lon_deg, terms.country, pops, "nearest")
    N = terms.size
    given = np.where(seen, best, -1).astype(np.int32)
    allowed = np.ones(N, dtype=bool)
    allowed[1::4] = False
    p = access_paths(terms.ecef_km, terms.up, 10.0, home, sat, isl, isl_lengths_km(sat, isl), ground, params,
                     serving_sat=given, allowed=allowed)  # fmt: skip
    free = access_paths(terms.ecef_km, terms.up, 10.0, home, sat, isl, isl_lengths_km(sat, isl), ground, params,
                        allowed=allowed)  # fmt: skip
    for q in (p, free):
        np.testing.assert_array_equal(q.serving_sat, np.where(allowed, given, -1))
        assert not q.served[~allowed].any()
    np.testing.assert_array_equal(p.one_way_ms, free.one_way_ms)
    assert (given[allowed] == 0).any() and p.served[allowed & (given == 0)].all()
    # the first served terminal's satellite loses its position: it serves nobody, the rest as before
    lost = int(given[np.flatnonzero(p.served)[0]])
    sat_nan = sat.copy()
    sat_nan[lost] = np.nan
    q = access_paths(terms.ecef_km, terms.up, 10.0, home, sat_nan, isl, isl_lengths_km(sat_nan, isl), ground, params,
                     serving_sat=given)  # fmt: skip
    assert not q.served[given == lost].any() and np.isnan(q.up_km[given == lost]).all()
    np.testing.assert_array_equal(q.serving_sat, given)
    # a gateway down: the gateways the served terminals used, one at a time, against networkx without it
    used = np.unique(p.gateway[p.served])
    for w in used[:2]:
        down = replace_gw(ground, int(w))
        r = access_paths(terms.ecef_km, terms.up, 10.0, home, sat, isl, isl_lengths_km(sat, isl), down, params,
                         serving_sat=given)  # fmt: skip
        assert not (r.gateway == w).any()
        for i in np.flatnonzero(given >= 0):
            gone = frozenset({int(w)})
            ref = reference(terms.ecef_km[i], int(given[i]), int(home[i]), sat, isl, gws, pops, params, gone)
            if np.isnan(ref):
                assert not r.served[i]
            else:
                assert r.one_way_ms[i] == pytest.approx(ref, rel=1e-9)
    with pytest.raises(ValueError, match="outside"):
        access_paths(terms.ecef_km, terms.up, 10.0, home, sat, isl, isl_lengths_km(sat, isl), ground,
                     serving_sat=np.full(N, -2, np.int32))  # fmt: skip


def replace_gw(ground: access.AccessGround, w: int) -> access.AccessGround:
    from dataclasses import replace

    km = ground.gw_pop_km.copy()
    km[w] = np.inf
    return replace(ground, gw_pop_km=km)


def test_nobody_allowed_or_one_bad_id() -> None:
    """No terminal allowed to link: nobody served, every index -1; one id outside -1..S-1 among good ones is
    refused (ValueError), on either side."""
    sat, isl, gws, pops, terms, best, seen = case(1)
    ground = access_ground(gws, pops)
    home = home_pops(terms.lat_deg, terms.lon_deg, terms.country, pops, "nearest")
    args = (terms.ecef_km, terms.up, 10.0, home, sat, isl, isl_lengths_km(sat, isl), ground)
    p = access_paths(*args, allowed=np.zeros(terms.size, dtype=bool))
    assert not p.served.any() and (p.serving_sat == -1).all() and (p.gateway == -1).all()
    assert (p.isl_hops == -1).all() and np.isnan(p.one_way_ms).all()
    good = np.where(seen, best, -1).astype(np.int32)
    for bad in (len(sat), -2):
        ids = good.copy()
        ids[3] = bad
        with pytest.raises(ValueError, match="outside"):
            access_paths(*args, serving_sat=ids)


def test_pair_via_pops_rule() -> None:
    """The docstring's rule on paths written by hand (PoP 0 on either side, unserved terminals): a -> PoP_a, the
    fibre PoP_a -> PoP_b (``Geod.inv`` x 1.3 at c / 1.4682; none for one PoP), PoP_b -> b; NaN unless both are
    served.  Any integer sequences for ``a`` and ``b``."""
    pops = make_sites(["p0", "p1", "p2"], [40.7, 51.5, 35.7], [-74.0, -0.1, 139.7])
    gws = make_sites(["g0"], [45.0], [-70.0])
    ground = access_ground(gws, pops)
    n = 5
    pop = np.array([0, 1, -1, 0, 2], dtype=np.int32)
    one_way = np.array([10.0, 20.0, np.nan, 30.0, 40.0])
    f = np.where(pop >= 0, 1.0, np.nan)
    idx = np.where(pop >= 0, 0, -1).astype(np.int32)
    paths = access.AccessPaths(
        serving_sat=np.arange(n, dtype=np.int32), gateway=idx, pop=pop, home_pop=np.where(pop >= 0, pop, 1),
        down_sat=idx, isl_hops=idx, up_km=f, isl_km=f, down_km=f, fibre_km=f, propagation_ms=f, processing_ms=f,
        mac_ms=f, one_way_ms=one_way,
    )  # fmt: skip
    a, b = (0, 1, 2, 3, 4, 0, 4, 3, 1), (1, 0, 0, 4, 3, 3, 2, 0, 4)

    def fibre_ms(i: int, j: int) -> float:
        m = GEOD.inv(pops.lon_deg[i], pops.lat_deg[i], pops.lon_deg[j], pops.lat_deg[j])[2]
        return m / 1e3 * 1.3 * 1.4682 / C_KM_S * 1e3

    ref = [
        one_way[i] + fibre_ms(pop[i], pop[j]) + one_way[j] if pop[i] >= 0 and pop[j] >= 0 else np.nan
        for i, j in zip(a, b, strict=True)
    ]
    got = access.pair_via_pops(paths, a, b, ground)  # type: ignore[arg-type]
    np.testing.assert_allclose(got, ref, rtol=1e-9)
    assert got[5] == 10.0 + 30.0  # one PoP (0): no fibre
    np.testing.assert_allclose(access.pair_via_pops(paths, np.array(a), np.array(b), ground), ref, rtol=1e-9)


def test_a_home_pop_without_fibre_serves_nobody_homed_there() -> None:
    """A PoP whose fibre is all infinite (down: ``access_table.without_sites``), here the last one (the graph's
    highest vertex id), serves none of the terminals homed to it; the others' paths are unchanged."""
    sat, isl, gws, pops, terms, _, _ = case(2)
    ground = access_ground(gws, pops)
    home = home_pops(terms.lat_deg, terms.lon_deg, terms.country, pops, "nearest")
    last = pops.size - 1
    home[:4] = last
    args = (terms.ecef_km, terms.up, 10.0, home, sat, isl, isl_lengths_km(sat, isl))
    up = access_paths(*args, ground)
    km = ground.gw_pop_km.copy()
    km[:, last] = np.inf
    from dataclasses import replace

    down = access_paths(*args, replace(ground, gw_pop_km=km))
    mine = home == last
    assert up.served[mine].any() and not down.served[mine].any()
    np.testing.assert_array_equal(down.one_way_ms[~mine], up.one_way_ms[~mine])
