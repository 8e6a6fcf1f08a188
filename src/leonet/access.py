"""The access path: terminal -> satellite -> (lasers) -> satellite -> gateway -> terrestrial fibre -> PoP.

A terminal reaches the Internet at a point of presence (PoP).  Its traffic goes up to its *serving satellite*,
across laser links (ISLs) to a satellite that sees a gateway above the gateway's minimum elevation, down to that
gateway, and along terrestrial fibre to the terminal's *home PoP*.  In ``bent-pipe`` mode there are no lasers:
the serving satellite itself must see the gateway.  Pure: positions in, arrays out, no I/O.

Rules (all documented in the README, "Access: terminals to PoPs"):

* **Serving satellite**: given (the scheduler's assignment, one per terminal, held per slot:
  :mod:`leonet.slot_access`), else the satellite of highest
  elevation above the terminal's minimum elevation (:func:`highest_elevation_sats`).
* **Home PoP** (:func:`home_pops`), rule ``country``: the PoP a user table assigns to the terminal's country, else
  the nearest PoP (great circle, WGS-84 geodesic) in the terminal's country, else the nearest PoP anywhere;
  rule ``nearest``: the nearest PoP anywhere.
* **Gateway**: the one minimising the terminal -> PoP delay among the gateways that see a satellite at or above
  the gateway minimum elevation (:data:`GATEWAY_MIN_ELEVATION_DEG`); found by one search per home PoP over the
  graph PoP -> gateways (fibre) -> satellites (downlinks) -> satellites (ISLs), so the delay is minimised over
  every gateway and satellite path at once (:func:`access_paths`).
* **Fibre**: route length = geodesic x :data:`FIBRE_ROUTE_FACTOR`, at c / :data:`FIBRE_GROUP_INDEX`.
* **Fixed terms**: :data:`SAT_PROCESSING_MS` per satellite on the path and :data:`MAC_SCHEDULING_MS` on the
  user link, per direction.  Both are assumptions, to be calibrated against measurements (docs/validation.md).
* **RTT** = 2 x one-way (the path is used both ways).  A pair of terminals via their PoPs
  (:func:`pair_via_pops`): a -> PoP_a, PoP_a -> PoP_b over fibre (0 when they share a PoP), PoP_b -> b.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from leonet.constants import C_KM_S

# geodesy (pyproj) and topology (scipy) are imported where they are used: the scenario model imports this
# module for its defaults, and `leonet check` / the help stay light

#: Group index of standard single-mode fibre at 1550 nm: Corning SMF-28 Ultra, product information sheet PI1424
#: ("effective group index of refraction" 1.4682 at 1550 nm; 1.4676 at 1310 nm).  ITU-T G.652 fibres are all
#: close to it.  Light in fibre travels at c / 1.4682 = 204,190 km/s.
FIBRE_GROUP_INDEX = 1.4682
#: Fibre route length over the great-circle (geodesic) distance: 1.3, the median ratio of the shortest paths
#: through the long-haul fibre conduits of the US InterTubes map to the line-of-sight distance, over all pairs of
#: the 120 largest US population centres (Bozkurt et al. 2018, "Dissecting Latency in the Internet's Fiber
#: Infrastructure", arXiv:1811.10737).  The same paper quotes 2.1 as the rule of thumb for measured Internet
#: latency (routing detours included): set ``fibre_route_factor = 2.1`` for that.
FIBRE_ROUTE_FACTOR = 1.3
#: Minimum elevation of a gateway's link to a satellite (deg): 25 deg, as in SpaceX's Gen1 modification
#: application (FCC IBFS SAT-MOD-20200417-00037, granted in FCC 21-48, April 2021), which lowered the minimum
#: elevation of user terminals and gateway earth stations to 25 deg.
GATEWAY_MIN_ELEVATION_DEG = 25.0
#: Starlink's Ku-band downlink frame period, 1/750 s (Humphreys et al. 2023, "Signal Structure of the Starlink
#: Ku-Band Downlink", IEEE Trans. Aerospace and Electronic Systems).
STARLINK_FRAME_MS = 1e3 / 750.0
#: Medium-access scheduling delay on the user link, per direction: one frame (:data:`STARLINK_FRAME_MS`).  An
#: ASSUMPTION (a packet waits about one frame for its slot), to be calibrated against measurements
#: (docs/validation.md).
MAC_SCHEDULING_MS = STARLINK_FRAME_MS
#: Processing delay per satellite on the path (ms): 0, propagation only.  No public figure; an ASSUMPTION to be
#: calibrated against measurements (docs/validation.md).
SAT_PROCESSING_MS = 0.0

Mode = Literal["lasers", "bent-pipe"]
Homing = Literal["country", "nearest"]
Serving = Literal["scheduler", "highest"]
MODES: tuple[Mode, ...] = ("lasers", "bent-pipe")
HOMINGS: tuple[Homing, ...] = ("country", "nearest")


@dataclass(frozen=True)
class Sites:
    """Fixed ground sites (gateways or PoPs): names, geodetic position (WGS-84), ISO 3166-1 alpha-2 country
    ('' when unknown), Earth-fixed position (km) and local vertical."""

    names: tuple[str, ...]
    lat_deg: NDArray[np.float64]
    lon_deg: NDArray[np.float64]
    country: tuple[str, ...]
    ecef_km: NDArray[np.float64]
    up: NDArray[np.float64]

    @property
    def size(self) -> int:
        return len(self.names)


def make_sites(
    names: Sequence[str],
    lat_deg: ArrayLike,
    lon_deg: ArrayLike,
    country: Sequence[str] | None = None,
    alt_m: ArrayLike = 0.0,
) -> Sites:
    """:class:`Sites` from plain sequences (on WGS-84)."""
    lat = np.atleast_1d(np.asarray(lat_deg, dtype=np.float64))
    lon = np.atleast_1d(np.asarray(lon_deg, dtype=np.float64))
    alt = np.broadcast_to(np.asarray(alt_m, dtype=np.float64), lat.shape)
    from leonet.geodesy import to_ecef_km, up_unit

    ctry = tuple(country) if country is not None else ("",) * len(names)
    if not (len(names) == len(lat) == len(lon) == len(ctry)):
        raise ValueError("names, lat_deg, lon_deg and country must have the same length")
    return Sites(tuple(names), lat, lon, ctry, to_ecef_km(lat, lon, alt, "wgs84"), up_unit(lat, lon))


def fibre_km(a: Sites, b: Sites, route_factor: float = FIBRE_ROUTE_FACTOR) -> NDArray[np.float64]:
    """Fibre route length (km) between every site of ``a`` and every site of ``b``, ``(a.size, b.size)``: the
    WGS-84 geodesic times ``route_factor``."""
    from leonet.geodesy import geodesic_km

    if a.size == 0 or b.size == 0:
        return np.zeros((a.size, b.size))
    la1, la2 = np.meshgrid(a.lat_deg, b.lat_deg, indexing="ij")
    lo1, lo2 = np.meshgrid(a.lon_deg, b.lon_deg, indexing="ij")
    return geodesic_km(la1, lo1, la2, lo2) * float(route_factor)


@dataclass(frozen=True)
class AccessParams:
    """The access path's rules and fixed terms (defaults: the named constants above, with their sources)."""

    mode: Mode = "lasers"
    gateway_min_elevation_deg: float = GATEWAY_MIN_ELEVATION_DEG
    fibre_route_factor: float = FIBRE_ROUTE_FACTOR
    fibre_refractive_index: float = FIBRE_GROUP_INDEX
    sat_processing_ms: float = SAT_PROCESSING_MS
    mac_scheduling_ms: float = MAC_SCHEDULING_MS
    #: propagation speed as a fraction of c on ISLs and on ground links (the network's, see NetworkSpec)
    isl_speed_fraction: float = 1.0
    ground_link_speed_fraction: float = 1.0

    def fibre_ms(self, km: ArrayLike) -> NDArray[np.float64]:
        """Delay (ms) of ``km`` of fibre route."""
        return np.asarray(km, dtype=np.float64) * self.fibre_refractive_index / C_KM_S * 1e3


#: the defaults, for function arguments
DEFAULT_PARAMS = AccessParams()


@dataclass(frozen=True)
class AccessGround:
    """The fixed part of the access network: gateways, PoPs and the fibre route lengths between them."""

    gateways: Sites
    pops: Sites
    #: (W, P) km, gateway -> PoP
    gw_pop_km: NDArray[np.float64]
    #: (P, P) km, PoP -> PoP
    pop_pop_km: NDArray[np.float64]


def access_ground(gateways: Sites, pops: Sites, route_factor: float = FIBRE_ROUTE_FACTOR) -> AccessGround:
    """Gateways and PoPs with their fibre route lengths (:func:`fibre_km`)."""
    return AccessGround(gateways, pops, fibre_km(gateways, pops, route_factor), fibre_km(pops, pops, route_factor))


@dataclass(frozen=True)
class AccessSetup:
    """What a run needs to compute the access table: the fixed access network, its rules, the ground indices
    of the terminals and each one's home PoP."""

    ground: AccessGround
    params: AccessParams
    terminals: NDArray[np.int64]
    home_pop: NDArray[np.int32]
    #: ``scheduler``: the beam scheduler's assignment held per reconfiguration slot (:mod:`leonet.slot_access`);
    #: ``highest``: the highest satellite at each snapshot
    serving: Serving = "highest"


def home_pops(
    lat_deg: ArrayLike,
    lon_deg: ArrayLike,
    country: Sequence[str],
    pops: Sites,
    rule: Homing = "country",
    table: Mapping[str, int] | None = None,
) -> NDArray[np.int32]:
    """The home PoP (index into ``pops``) of each terminal at ``lat_deg`` / ``lon_deg`` in ``country`` (ISO
    alpha-2, '' unknown).  ``nearest``: the nearest PoP by WGS-84 geodesic.  ``country``: ``table[country]``
    where the table has the country, else the nearest PoP in the same country (the PoPs' ``country``), else the
    nearest PoP.  -1 for every terminal when there is no PoP."""
    from leonet.geodesy import geodesic_km

    lat = np.atleast_1d(np.asarray(lat_deg, dtype=np.float64))
    lon = np.atleast_1d(np.asarray(lon_deg, dtype=np.float64))
    N = len(lat)
    if pops.size == 0:
        return np.full(N, -1, dtype=np.int32)
    if rule not in HOMINGS:
        raise ValueError(f"homing rule {rule!r}; expected one of {', '.join(HOMINGS)}")
    la1, la2 = np.meshgrid(lat, pops.lat_deg, indexing="ij")
    lo1, lo2 = np.meshgrid(lon, pops.lon_deg, indexing="ij")
    d = geodesic_km(la1, lo1, la2, lo2)  # (N, P)
    nearest: NDArray[np.int64] = np.argmin(d, axis=1)
    if rule == "nearest":
        return nearest.astype(np.int32)
    ctry = np.asarray(list(country), dtype=object)
    same = ctry[:, None] == np.asarray(pops.country, dtype=object)[None, :]
    same &= ctry[:, None] != ""
    in_country = np.argmin(np.where(same, d, np.inf), axis=1)
    out = np.where(same.any(axis=1), in_country, nearest)
    if table:
        keys = np.asarray(list(table), dtype=object)
        vals = np.asarray([table[k] for k in table], dtype=np.int64)
        order = np.argsort(keys)
        keys, vals = keys[order], vals[order]
        pos = np.minimum(np.searchsorted(keys, ctry), len(keys) - 1)
        hit = keys[pos] == ctry
        out = np.where(hit, vals[pos], out)
    return out.astype(np.int32)


def highest_elevation_sats(
    sat_r_km: NDArray[np.float64],
    term_r_km: NDArray[np.float64],
    term_up: NDArray[np.float64],
    min_elevation_deg: NDArray[np.float64],
    allowed: NDArray[np.bool_] | None = None,
) -> tuple[NDArray[np.int32], NDArray[np.float64]]:
    """Each terminal's satellite of highest elevation at or above its minimum elevation (-1: none, or not
    ``allowed``) and that link's length (km; NaN where none)."""
    from leonet.topology import ground_links

    gsl = ground_links(sat_r_km, term_r_km, term_up, min_elevation_deg, None, allowed)
    return highest_of_links(len(term_r_km), gsl.ground, gsl.sat, gsl.length_km, sat_r_km, term_r_km, term_up)


def highest_of_links(
    n: int,
    term: NDArray[np.int32],
    sat: NDArray[np.int32],
    length_km: NDArray[np.float64],
    sat_r_km: NDArray[np.float64],
    term_r_km: NDArray[np.float64],
    term_up: NDArray[np.float64],
) -> tuple[NDArray[np.int32], NDArray[np.float64]]:
    """:func:`highest_elevation_sats` from links already found (terminal ``term[i]`` sees ``sat[i]`` at
    ``length_km[i]``; e.g. a snapshot's ground links): per terminal the link of highest elevation (ties: the one
    listed first; :func:`leonet.topology.ground_links` lists each node's links by satellite id).  O(links): a
    maximum per terminal (``np.maximum.reduceat``), no sort when the links come grouped by terminal."""
    out = np.full(n, -1, dtype=np.int32)
    length = np.full(n, np.nan)
    if len(term) == 0:
        return out, length
    if (np.diff(term) < 0).any():  # group by terminal, keeping the given order within each
        o = np.argsort(term, kind="stable")
        term, sat, length_km = term[o], sat[o], length_km[o]
    d = sat_r_km[sat] - term_r_km[term]
    sin_el = np.einsum("ij,ij->i", d, term_up[term]) / length_km
    starts = np.flatnonzero(np.r_[True, term[1:] != term[:-1]])
    best = np.maximum.reduceat(sin_el, starts)
    hit = np.flatnonzero(sin_el == np.repeat(best, np.diff(np.r_[starts, len(term)])))
    pick = hit[np.r_[True, term[hit][1:] != term[hit][:-1]]]  # the first of each terminal's best
    out[term[pick]] = sat[pick]
    length[term[pick]] = length_km[pick]
    return out, length


@dataclass(frozen=True)
class AccessPaths:
    """Access paths of N terminals at one snapshot.  Indices are -1 and lengths / delays NaN where a terminal is
    not served (no serving satellite, or no gateway reachable from it); ``serving_sat`` is kept when the
    terminal has a satellite but no way to a gateway.  ``home_pop``: the terminal's home PoP, served or not."""

    serving_sat: NDArray[np.int32]
    gateway: NDArray[np.int32]
    pop: NDArray[np.int32]
    home_pop: NDArray[np.int32]
    #: the satellite that sends the path down to the gateway (= serving_sat in bent-pipe)
    down_sat: NDArray[np.int32]
    isl_hops: NDArray[np.int32]
    up_km: NDArray[np.float64]
    isl_km: NDArray[np.float64]
    down_km: NDArray[np.float64]
    fibre_km: NDArray[np.float64]
    #: propagation over the satellite links and the fibre (ms)
    propagation_ms: NDArray[np.float64]
    #: satellite processing (ms): ``sat_processing_ms`` x satellites on the path
    processing_ms: NDArray[np.float64]
    #: medium-access scheduling on the user link (ms)
    mac_ms: NDArray[np.float64]
    #: terminal -> PoP, one way (ms): propagation + processing + MAC
    one_way_ms: NDArray[np.float64]

    @property
    def served(self) -> NDArray[np.bool_]:
        return np.isfinite(self.one_way_ms)

    @property
    def rtt_ms(self) -> NDArray[np.float64]:
        return 2.0 * self.one_way_ms


def _csr(
    n: int, u: NDArray[np.int64], v: NDArray[np.int64], w: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """CSR arrays of the directed edges ``u -> v`` of weight ``w`` (zeros kept as edges)."""
    order = np.argsort(u, kind="stable")
    indptr = np.r_[0, np.cumsum(np.bincount(u, minlength=n))].astype(np.int64)
    return indptr, v[order].astype(np.int64), w[order].astype(np.float64)


def access_paths(
    term_r_km: NDArray[np.float64],
    term_up: NDArray[np.float64],
    term_min_elevation_deg: ArrayLike,
    home_pop: NDArray[np.int32],
    sat_r_km: NDArray[np.float64],
    isl: NDArray[np.int32],
    isl_km: NDArray[np.float64],
    ground: AccessGround,
    params: AccessParams = DEFAULT_PARAMS,
    serving_sat: NDArray[np.int32] | None = None,
    allowed: NDArray[np.bool_] | None = None,
) -> AccessPaths:
    """The access path of every terminal at one snapshot, vectorised over terminals.

    ``term_r_km`` / ``term_up`` (N, 3): terminals' Earth-fixed positions and local verticals;
    ``term_min_elevation_deg``: scalar or (N,); ``home_pop`` (N,): from :func:`home_pops`; ``sat_r_km`` (S, 3)
    (NaN rows: satellites without a position, in no link); ``isl`` (E, 2) / ``isl_km`` (E,): this snapshot's
    laser links (ignored in ``bent-pipe`` mode); ``serving_sat`` (N,): the scheduler's assignment (-1: none),
    used as given; None: :func:`highest_elevation_sats`.  ``allowed`` (N,): terminals that may link (policy).

    One search per PoP that is some served terminal's home, from the PoP over the directed graph PoP -> gateway
    (fibre), gateway -> satellite (downlink, satellites at or above the gateway minimum elevation) and satellite
    <-> satellite (ISLs), each edge into a satellite carrying ``sat_processing_ms``; each search stops once its
    terminals' serving satellites are final (:func:`leonet._dijkstra.dijkstra_many`).  The distance to a serving
    satellite is then the least delay from it to the PoP over every gateway and path; the paths are read back for
    all terminals at once, one hop per step."""
    from leonet._dijkstra import dijkstra_many  # numba, on first use
    from leonet.topology import ground_links

    if params.mode not in MODES:
        raise ValueError(f"mode {params.mode!r}; expected one of {', '.join(MODES)}")
    N = len(term_r_km)
    S = len(sat_r_km)
    gws, pops = ground.gateways, ground.pops
    W, P = gws.size, pops.size
    c_isl = C_KM_S * params.isl_speed_fraction / 1e3  # km per ms
    c_gsl = C_KM_S * params.ground_link_speed_fraction / 1e3
    min_el = np.broadcast_to(np.asarray(term_min_elevation_deg, dtype=np.float64), (N,)).copy()
    if serving_sat is None:
        serving, _ = highest_elevation_sats(sat_r_km, term_r_km, term_up, min_el, allowed)
    else:
        serving = np.asarray(serving_sat, dtype=np.int32).copy()
        if serving.shape != (N,):
            raise ValueError(f"serving_sat has shape {serving.shape}; expected ({N},)")
        if (serving >= S).any() or (serving < -1).any():
            raise ValueError(f"serving_sat holds ids outside -1..{S - 1}; expected satellite ids or -1")
        if allowed is not None:
            serving[~allowed] = -1
    has_sat = serving >= 0
    up_km = np.full(N, np.nan)
    up_km[has_sat] = np.linalg.norm(sat_r_km[serving[has_sat]] - term_r_km[has_sat], axis=1)
    has_sat &= np.isfinite(up_km) & (home_pop >= 0)
    out_i = {k: np.full(N, -1, dtype=np.int32) for k in ("gateway", "pop", "down_sat", "isl_hops")}
    out_f = {k: np.full(N, np.nan) for k in ("isl_km", "down_km", "fibre_km", "to_pop_ms")}
    # the graph: satellites 0..S-1, gateways S..S+W-1, PoPs S+W..S+W+P-1
    gsl = ground_links(sat_r_km, gws.ecef_km, gws.up, np.full(W, params.gateway_min_elevation_deg))
    fibre = params.fibre_ms(ground.gw_pop_km.T.reshape(-1))  # PoP-major; infinite: a site down (a fault)
    lit = np.isfinite(fibre)
    u_parts = [np.repeat(S + W + np.arange(P), W)[lit], S + gsl.ground.astype(np.int64)]
    v_parts = [np.tile(S + np.arange(W), P)[lit], gsl.sat.astype(np.int64)]
    w_parts = [fibre[lit], gsl.length_km / c_gsl + params.sat_processing_ms]
    if params.mode == "lasers" and len(isl):
        ok = np.isfinite(isl_km)
        a, b, km = isl[ok, 0].astype(np.int64), isl[ok, 1].astype(np.int64), isl_km[ok]
        u_parts += [a, b]
        v_parts += [b, a]
        w_parts += [km / c_isl + params.sat_processing_ms] * 2
    n_vertices = S + W + P
    if has_sat.any() and W and P:
        indptr, indices, data = _csr(
            n_vertices, np.concatenate(u_parts), np.concatenate(v_parts), np.concatenate(w_parts)
        )
        t = np.flatnonzero(has_sat)
        needed, row = np.unique(home_pop[t], return_inverse=True)
        by_row = np.argsort(row, kind="stable")
        target_ptr = np.r_[0, np.cumsum(np.bincount(row, minlength=len(needed)))]
        dist, pred = dijkstra_many(
            indptr, indices, data, S + W + needed.astype(np.int64), serving[t][by_row].astype(np.int64),
            target_ptr=target_ptr,
        )  # fmt: skip
        d = dist[row, serving[t]]
        ok = np.isfinite(d)
        t, row, d = t[ok], row[ok], d[ok]
        # walk every path back from its serving satellite to its gateway, all terminals at once
        cur = serving[t].astype(np.int64)
        hops = np.zeros(len(t), dtype=np.int32)
        isl_sum = np.zeros(len(t))
        nxt = pred[row, cur].astype(np.int64)
        for _ in range(S + 1):
            on = nxt < S  # the next vertex towards the PoP is a satellite: one more ISL
            if not on.any():
                break
            isl_sum[on] += np.linalg.norm(sat_r_km[nxt[on]] - sat_r_km[cur[on]], axis=1)
            hops[on] += 1
            cur = np.where(on, nxt, cur)
            nxt = np.where(on, pred[row, np.where(on, nxt, 0)], nxt)
        gw = (nxt - S).astype(np.int32)
        pop = home_pop[t]
        out_i["gateway"][t] = gw
        out_i["pop"][t] = pop
        out_i["down_sat"][t] = cur.astype(np.int32)
        out_i["isl_hops"][t] = hops
        out_f["isl_km"][t] = isl_sum
        out_f["down_km"][t] = np.linalg.norm(sat_r_km[cur] - gws.ecef_km[gw], axis=1)
        out_f["fibre_km"][t] = ground.gw_pop_km[gw, pop]
        out_f["to_pop_ms"][t] = d
    served = out_i["gateway"] >= 0
    up = np.where(served, up_km, np.nan)
    propagation = (up / c_gsl + out_f["isl_km"] / c_isl + out_f["down_km"] / c_gsl) + params.fibre_ms(out_f["fibre_km"])
    processing = np.where(served, (out_i["isl_hops"] + 1) * params.sat_processing_ms, np.nan)
    mac = np.where(served, params.mac_scheduling_ms, np.nan)
    # the delay as the search found it (the components above re-sum to it, tests/test_access.py)
    one_way = up / c_gsl + out_f["to_pop_ms"] + mac
    return AccessPaths(
        serving_sat=serving,
        gateway=out_i["gateway"],
        pop=out_i["pop"],
        home_pop=np.asarray(home_pop, dtype=np.int32),
        down_sat=out_i["down_sat"],
        isl_hops=np.where(served, out_i["isl_hops"], -1).astype(np.int32),
        up_km=up,
        isl_km=out_f["isl_km"],
        down_km=out_f["down_km"],
        fibre_km=out_f["fibre_km"],
        propagation_ms=propagation,
        processing_ms=processing,
        mac_ms=mac,
        one_way_ms=one_way,
    )


def pair_via_pops(
    paths: AccessPaths,
    a: NDArray[np.int64],
    b: NDArray[np.int64],
    ground: AccessGround,
    params: AccessParams = DEFAULT_PARAMS,
) -> NDArray[np.float64]:
    """One-way delay (ms) between terminals ``a[i]`` and ``b[i]`` via their PoPs: a -> PoP_a, PoP_a -> PoP_b
    over fibre (0 when the PoP is the same), PoP_b -> b; NaN unless both are served."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    pa_, pb = paths.pop[a], paths.pop[b]
    both = (pa_ >= 0) & (pb >= 0)
    fib = np.full(len(a), np.nan)
    fib[both] = params.fibre_ms(ground.pop_pop_km[pa_[both], pb[both]])
    return paths.one_way_ms[a] + fib + paths.one_way_ms[b]  # type: ignore[no-any-return]
