"""The time loop: for each chunk of snapshots, propagate, then per snapshot links -> routes -> metrics.

Pure core: no files are written here.  ``prepare`` turns a :class:`~leonet.scenario.Scenario` into arrays (it
reads the TLE / OMM files the scenario names); ``simulate`` yields one Arrow record batch of routes per chunk.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray
from sgp4.api import SatrecArray

from leonet import budget
from leonet.constants import C_KM_S, SECONDS_PER_DAY
from leonet.errors import InputError
from leonet.geodesy import geodesic_km
from leonet.ground import GroundNodes, GroundState, ground_from_spec
from leonet.orbits.constellation import Constellation, epoch_spread_days
from leonet.orbits.propagate import max_radius_km, positions_itrf_km
from leonet.orbits.shells import preset
from leonet.orbits.sources import constellation_from_spec
from leonet.policy import Decisions, Policy, bind, evaluate, parse_policy
from leonet.policy.coverage import check_geofence_axes
from leonet.routes_table import ROUTE_FIELDS, build_batch, pad_paths
from leonet.routing import Graph, Routes, build_graph, shortest_routes
from leonet.scenario import NetworkSpec, Scenario
from leonet.timebase import julian_dates
from leonet.topology import GroundLinks, ground_links, isl_lengths_km, plus_grid_isls

#: Snapshots propagated together (memory: chunk x satellites x 3 x 8 bytes).
CHUNK = 64
#: Most pairs ``pairs = "all"`` may expand to (each pair is a row per snapshot).
MAX_PAIRS = 5_000_000
#: Policy decisions are evaluated in blocks of terminals of about this many (snapshot, terminal) cells.
DECIDE_CELLS = 4_000_000
#: Element sets farther than this from the window (days) get a warning: SGP4's prediction error is ~1 km at
#: epoch and grows by ~1-3 km per day (Vallado & Cefola 2012, "Two-line element sets - practice and use",
#: IAC-12.C1.6.12), so after two weeks positions are off by tens of km.
MAX_ELEMENT_AGE_DAYS = 14.0


class LeonetWarning(UserWarning):
    """Something about the input that makes results less trustworthy, but not wrong enough to refuse."""


@dataclass(frozen=True)
class Network:
    """A network ready to simulate: its satellites, ISL pairs and ground-link rule."""

    spec: NetworkSpec
    constellation: Constellation
    satrecs: SatrecArray
    isl: NDArray[np.int32]
    #: largest physically possible radius of each satellite (km; see ``propagate.max_radius_km``)
    max_r_km: NDArray[np.float64] = field(default_factory=lambda: np.empty(0))

    @property
    def n_sats(self) -> int:
        return self.constellation.size


@dataclass(frozen=True)
class Prepared:
    """Everything the time loop needs, as arrays."""

    scenario: Scenario
    ground: GroundNodes
    networks: tuple[Network, ...]
    times_s: NDArray[np.float64]
    src: NDArray[np.int64]  # ground index of each pair's source
    dst: NDArray[np.int64]
    gc_km: NDArray[np.float64]  # geodesic distance of each pair (WGS-84) at rest
    policy: Policy | None = None
    #: ground indices of the terminals (the nodes the policy decides on), and its decisions, (T, terminals)
    terminals: NDArray[np.int64] = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    decisions: Decisions | None = None
    #: warnings about the input (also issued as :class:`LeonetWarning`), e.g. element sets far from the window
    warnings: tuple[str, ...] = ()

    def estimate(self) -> budget.Estimate:
        """How many route rows this run writes."""
        return budget.Estimate(len(self.times_s), len(self.src), len(self.networks))

    def allowed(self, net: Network, k0: int, k1: int) -> NDArray[np.bool_] | None:
        """Which ground nodes may have ground links at snapshots ``k0:k1`` of network ``net`` (None: all)."""
        if self.decisions is None or not net.spec.policy:
            return None
        out = np.ones((k1 - k0, self.ground.size), dtype=bool)
        out[:, self.terminals] = self.decisions.served[k0:k1]
        return out


def snapshot_times(scenario: Scenario) -> NDArray[np.float64]:
    t = scenario.time
    n = int(np.floor((t.end_s - t.start_s) / t.step_s + 1e-9)) + 1
    return t.start_s + t.step_s * np.arange(n, dtype=np.float64)


def pair_indices(scenario: Scenario, ground: GroundNodes) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Source and destination ground indices of the scenario's pairs."""
    if isinstance(scenario.pairs, list):
        src = [ground.index(a, f"pairs[{i}][0]") for i, (a, _) in enumerate(scenario.pairs)]
        dst = [ground.index(b, f"pairs[{i}][1]") for i, (_, b) in enumerate(scenario.pairs)]
        for i, (s, d) in enumerate(zip(src, dst, strict=True)):
            if s == d:
                raise InputError(
                    f"pairs[{i}]", f"source and destination are both {ground.names[s]!r}; expected two nodes"
                )
        return np.array(src, dtype=np.int64), np.array(dst, dtype=np.int64)
    if scenario.pairs == "none":
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    nodes = np.arange(ground.size)
    if scenario.pairs == "all":
        nodes = nodes[~ground.is_gateway]
    n_pairs = len(nodes) * (len(nodes) - 1) // 2
    if n_pairs > MAX_PAIRS:
        raise InputError(
            "pairs",
            f'"{scenario.pairs}" makes {n_pairs:,} pairs of {len(nodes):,} ground nodes; expected at most '
            f'{MAX_PAIRS:,}: list the pairs to route, or pairs = "none" for coverage and service only',
        )
    iu, ju = np.triu_indices(len(nodes), k=1)
    return nodes[iu].astype(np.int64), nodes[ju].astype(np.int64)


def declared_satellites(spec: NetworkSpec) -> int:
    """Satellites of a network's presets and Walker shells (TLE / OMM files are counted once read)."""
    n = 0
    for c in spec.constellation:
        if c.preset is not None:
            n += sum(s.size for s in preset(c.preset))
        elif c.shells is not None:
            n += sum(s.planes * s.sats_per_plane for s in c.shells)
    return n


def prepare_network(spec: NetworkSpec, scenario: Scenario, force: bool = False) -> Network:
    budget.check_satellites(declared_satellites(spec), f"network {spec.name!r}", force)
    const = constellation_from_spec(spec, scenario.epoch, scenario.resolve)
    budget.check_satellites(const.size, f"network {spec.name!r}", force)
    isl = np.empty((0, 2), dtype=np.int32)
    if spec.isl == "plus-grid":
        isl = np.unique(np.concatenate([plus_grid_isls(const.grids), const.isl_pairs]), axis=0).astype(np.int32)
    return Network(spec, const, SatrecArray(list(const.satrecs)), isl, max_radius_km(const.satrecs))


def element_age_warning(net: Network, scenario: Scenario) -> str | None:
    """A warning naming how many of a network's real element sets are more than :data:`MAX_ELEMENT_AGE_DAYS`
    from the window (the age counts from each set's epoch to the farther end of the window), or None."""
    observed = net.constellation.observed_mask()
    if not observed.any():
        return None
    sats = [s for s, o in zip(net.constellation.satrecs, observed, strict=True) if o]
    spread = epoch_spread_days(sats, scenario.epoch)  # > 0: the element set's epoch is before the scenario epoch
    t0, t1 = scenario.time.start_s / SECONDS_PER_DAY, scenario.time.end_s / SECONDS_PER_DAY
    age = np.maximum(np.abs(spread + t0), np.abs(spread + t1))
    old = age > MAX_ELEMENT_AGE_DAYS
    if not old.any():
        return None
    return (
        f"network {net.spec.name!r}: {int(old.sum()):,} of {len(sats):,} element sets are more than "
        f"{MAX_ELEMENT_AGE_DAYS:g} days from the simulated window (the farthest {float(age.max()):,.1f} days); "
        "SGP4's error grows by ~1-3 km per day: expected element sets from near the scenario epoch"
    )


def prepare(scenario: Scenario, force: bool = False) -> Prepared:
    """Build the ground nodes, networks, snapshot times and pairs of a scenario.  Errors that concern a field
    of the scenario name the scenario file too.  A constellation too large for the memory is refused unless
    ``force``; element sets far from the window give a :class:`LeonetWarning` (and ``Prepared.warnings``)."""
    try:
        return _prepare(scenario, force)
    except InputError as exc:
        if exc.where.startswith(("/", ".", "<")) or exc.where.startswith(scenario.source):
            raise
        raise InputError(f"{scenario.source}: {exc.where}", exc.problem) from None


def _prepare(scenario: Scenario, force: bool) -> Prepared:
    ground = ground_from_spec(scenario.ground, scenario.epoch, scenario.resolve)
    if ground.size < 2:
        raise InputError("ground", f"{ground.size} ground node(s); expected at least two to route between")
    src, dst = pair_indices(scenario, ground)
    for i, (a, b) in enumerate(scenario.report.pairs):
        ground.index(a, f"report.pairs[{i}][0]"), ground.index(b, f"report.pairs[{i}][1]")
    gc = geodesic_km(ground.lat_deg[src], ground.lon_deg[src], ground.lat_deg[dst], ground.lon_deg[dst])
    budget.check_satellites(sum(declared_satellites(n) for n in scenario.networks), "networks", force)
    networks = tuple(prepare_network(n, scenario, force) for n in scenario.networks)
    notes = tuple(w for w in (element_age_warning(n, scenario) for n in networks) if w is not None)
    for note in notes:
        warnings.warn(note, LeonetWarning, stacklevel=3)
    times = snapshot_times(scenario)
    terminals = np.flatnonzero(ground.is_terminal).astype(np.int64)
    policy = decisions = None
    if scenario.policy is not None:
        policy = parse_policy(scenario.policy, source=scenario.source, base_dir=scenario.base_dir)
        _check_axes(policy, ground, terminals, scenario)
        decisions = decide(policy, ground, terminals, times, scenario)
    return Prepared(scenario, ground, networks, times, src, dst, np.atleast_1d(gc), policy, terminals, decisions, notes)


def _check_axes(policy: Policy, ground: GroundNodes, terminals: NDArray[np.int64], scenario: Scenario) -> None:
    """A geofence in none of the countries the terminals are in, but in one with lat/lon swapped: an error
    (rule 3 of leonet.policy.coverage; the terminals' stationary positions and track points)."""
    moving = np.isin(terminals, ground.moving)
    still = terminals[~moving]
    rows = np.flatnonzero(np.isin(ground.moving, terminals))
    try:
        check_geofence_axes(policy, ground.lat_deg[still], ground.lon_deg[still], ground.tracks, rows)
    except InputError as exc:
        raise InputError(f"{scenario.source} {exc.where}", exc.problem) from None


def decide(
    policy: Policy, ground: GroundNodes, terminals: NDArray[np.int64], times: NDArray[np.float64], scenario: Scenario
) -> Decisions:
    """The policy's decision for every terminal at every snapshot, evaluated in blocks of terminals (each block
    over the whole window, so that rules looking back in time, such as roaming, see the full history)."""
    ids = [ground.names[i] for i in terminals]
    T, N = len(times), len(terminals)
    block = max(1, DECIDE_CELLS // max(T, 1))
    parts = []
    lat, lon, alt, speed = ground.geodetic_at(times)  # no ECEF positions: the policy needs none
    for n0 in range(0, max(N, 1), block):
        sl = terminals[n0 : n0 + block]
        parts.append(
            evaluate(
                policy,
                bind(policy, ids[n0 : n0 + block]),
                times,
                scenario.epoch,
                lat[:, sl],
                lon[:, sl],
                alt[:, sl],
                speed[:, sl],
            )
        )
        if N == 0:
            break
    if len(parts) == 1:
        return parts[0]
    p0 = parts[0]
    return Decisions(
        np.concatenate([p.terminal_ids for p in parts]),
        p0.t_s,
        np.concatenate([p.served for p in parts], axis=1),
        np.concatenate([p.rule for p in parts], axis=1),
        p0.rule_ids,
        p0.reasons,
        np.concatenate([p.country for p in parts], axis=1),
        p0.country_codes,
    )


@dataclass(frozen=True)
class Snapshot:
    """The links of one snapshot of one network."""

    t_s: float
    sat_r_km: NDArray[np.float64]
    isl: NDArray[np.int32]
    isl_km: NDArray[np.float64]
    gsl: GroundLinks
    graph: Graph


def min_elevations(net: Network, ground: GroundNodes) -> NDArray[np.float64]:
    return np.where(np.isnan(ground.min_elevation_deg), net.spec.min_elevation_deg, ground.min_elevation_deg)


def snapshot(
    net: Network,
    ground: GroundNodes,
    t_s: float,
    sat_r_km: NDArray[np.float64],
    ground_r_km: NDArray[np.float64],
    ground_up: NDArray[np.float64],
    min_el_deg: NDArray[np.float64],
    allowed: NDArray[np.bool_] | None = None,
) -> Snapshot:
    """Links and routing graph of one snapshot."""
    spec = net.spec
    isl_km = isl_lengths_km(sat_r_km, net.isl)
    # a satellite without a position (SGP4 failed, or physically impossible: NaN) takes part in no link
    keep = np.isfinite(isl_km)
    if spec.max_isl_km is not None:
        keep &= isl_km <= spec.max_isl_km
    isl, isl_km = net.isl[keep], isl_km[keep]
    gsl = ground_links(sat_r_km, ground_r_km, ground_up, min_el_deg, spec.max_ground_link_km, allowed)
    transit = ground.is_gateway if spec.isl == "none" else None
    graph = build_graph(
        net.n_sats,
        ground.size,
        isl,
        isl_km / (C_KM_S * spec.isl_speed_fraction) * 1e3,
        gsl.ground,
        gsl.sat,
        gsl.length_km / (C_KM_S * spec.ground_link_speed_fraction) * 1e3,
        transit,
    )
    return Snapshot(t_s, sat_r_km, isl, isl_km, gsl, graph)


def positions_at(net: Network, scenario: Scenario, times_s: NDArray[np.float64]) -> NDArray[np.float64]:
    """Earth-fixed satellite positions ``(T, S, 3)`` km at ``times_s`` after the scenario epoch."""
    jw, jf = julian_dates(scenario.epoch, times_s)
    bounds = net.max_r_km if len(net.max_r_km) == net.n_sats else None
    return positions_itrf_km(net.satrecs, jw, jf, scenario.dut1_s, bounds)


_pad = pad_paths


def kept_path_delays(graph: Graph, path: NDArray[np.int32]) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    """For paths kept from an earlier snapshot: whether every hop still exists, and the one-way delay now."""
    u, v = path[:, :-1], path[:, 1:]
    m = (u >= 0) & (v >= 0)
    ok = np.zeros(u.shape, dtype=bool)
    d = np.zeros(u.shape, dtype=np.float64)
    ok[m], d[m] = graph.links.lookup(u[m].astype(np.int64), v[m].astype(np.int64))
    intact = ~(m & ~ok).any(axis=1) & m.any(axis=1)
    return intact, np.where(intact, np.where(m, d, 0.0).sum(axis=1), np.nan)


@dataclass
class _RouteState:
    """What a pair keeps between snapshots."""

    path: NDArray[np.int32] | None = None
    slot: float = -1.0


def _end_sats(path: NDArray[np.int32]) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
    path = _pad(path, 3)  # a snapshot where nothing is reachable has paths one column wide
    n = (path >= 0).sum(axis=1)
    rows = np.arange(len(path))
    first = np.where(n >= 3, path[:, 1], -1)
    last = np.where(n >= 3, path[rows, np.maximum(n - 2, 0)], -1)
    return first.astype(np.int32), last.astype(np.int32)


def route_step(
    state: _RouteState, graph: Graph, src: NDArray[np.int64], dst: NDArray[np.int64], t_s: float, scenario: Scenario
) -> tuple[Routes, NDArray[np.bool_]]:
    """Routes at one snapshot under the scenario's routing mode; also which pairs were (re-)computed now."""
    interval = scenario.routing.reconfiguration_interval_s
    slot = float(np.floor(t_s / interval + 1e-9)) if scenario.routing.mode == "reconfig" else t_s
    if state.path is None or slot != state.slot:
        routes = shortest_routes(graph, src, dst)
        state.path, state.slot = routes.path, slot
        return routes, np.ones(len(src), dtype=bool)
    intact, delay = kept_path_delays(graph, state.path)
    broken = ~intact
    path = state.path
    if broken.any():
        fresh = shortest_routes(graph, src[broken], dst[broken])
        width = max(path.shape[1], fresh.path.shape[1])
        path = _pad(path, width).copy()
        path[broken] = _pad(fresh.path, width)
        delay = delay.copy()
        delay[broken] = fresh.delay_ms
        state.path = path
    return Routes(delay, path), broken


def pair_gc_km(prep: Prepared, st: GroundState) -> NDArray[np.float64]:
    """Geodesic distance of each pair at each snapshot of a chunk, (T, P); pairs at rest keep ``gc_km``."""
    gc = np.broadcast_to(prep.gc_km, (len(st.lat_deg), len(prep.src))).copy()
    if prep.ground.tracks is not None:
        mov = np.isin(prep.src, prep.ground.moving) | np.isin(prep.dst, prep.ground.moving)
        if mov.any():
            s, d = prep.src[mov], prep.dst[mov]
            gc[:, mov] = geodesic_km(st.lat_deg[:, s], st.lon_deg[:, s], st.lat_deg[:, d], st.lon_deg[:, d])
    return gc


def simulate(
    prep: Prepared,
    net_index: int,
    progress: Callable[[int], None] | None = None,
    chunk: int = CHUNK,
    coverage: NDArray[np.bool_] | None = None,
    unusable: NDArray[np.bool_] | None = None,
) -> Iterator[pa.RecordBatch]:
    """Routes of every pair at every snapshot of one network, one record batch per chunk of snapshots.
    ``coverage`` (T, G), if given, is filled with whether each ground node has a ground link at each snapshot;
    ``unusable`` (S,) with whether each satellite was, at a snapshot or more, physically impossible or not
    propagated by SGP4 (it took part in no link there)."""
    net = prep.networks[net_index]
    ground = prep.ground
    S = net.n_sats
    min_el = min_elevations(net, ground)
    src, dst = prep.src, prep.dst
    P = len(src)
    state = _RouteState()
    prev_path: NDArray[np.int32] | None = None
    prev_first = prev_last = np.full(P, -1, dtype=np.int32)
    for c0 in range(0, len(prep.times_s), chunk):
        times = prep.times_s[c0 : c0 + chunk]
        sat_r = positions_at(net, prep.scenario, times)
        if unusable is not None:
            unusable |= np.isnan(sat_r[..., 0]).any(axis=0)
        gst = ground.at(times)
        gc = pair_gc_km(prep, gst)
        allowed_all = prep.allowed(net, c0, c0 + len(times))
        cols: dict[str, list[NDArray[np.generic]]] = {k: [] for k in ROUTE_FIELDS}
        paths: list[NDArray[np.int32]] = []
        if P == 0:  # coverage and service only: ground links, no graph, no routes
            for k in range(len(times)):
                allowed = allowed_all[k] if allowed_all is not None else None
                gsl = ground_links(sat_r[k], gst.ecef_km[k], gst.up[k], min_el, net.spec.max_ground_link_km, allowed)
                if coverage is not None:
                    coverage[c0 + k, gsl.ground] = True
                if progress is not None:
                    progress(1)
            continue
        for k, t in enumerate(times):
            allowed = allowed_all[k] if allowed_all is not None else None
            snap = snapshot(net, ground, float(t), sat_r[k], gst.ecef_km[k], gst.up[k], min_el, allowed)
            if coverage is not None:
                coverage[c0 + k, snap.gsl.ground] = True
            routes, recomputed = route_step(state, snap.graph, src, dst, float(t), prep.scenario)
            path = routes.path
            first, last = _end_sats(path)
            if prev_path is None:
                changed = np.zeros(P, dtype=bool)
            else:
                w = max(path.shape[1], prev_path.shape[1])
                changed = (_pad(path, w) != _pad(prev_path, w)).any(axis=1)
            cols["t_s"].append(np.full(P, t))
            cols["src"].append((S + src).astype(np.int32))
            cols["dst"].append((S + dst).astype(np.int32))
            cols["rtt_ms"].append(2.0 * routes.delay_ms)
            cols["one_way_ms"].append(routes.delay_ms)
            cols["hops"].append(routes.hops)
            cols["first_sat"].append(first)
            cols["last_sat"].append(last)
            cols["gc_km"].append(gc[k])
            with np.errstate(divide="ignore", invalid="ignore"):
                cols["stretch"].append(routes.delay_ms / (gc[k] / C_KM_S * 1e3))
            cols["path_changed"].append(changed)
            cols["first_sat_changed"].append((first != prev_first) & (prev_path is not None))
            cols["last_sat_changed"].append((last != prev_last) & (prev_path is not None))
            cols["rerouted"].append(recomputed)
            paths.append(path)
            prev_path, prev_first, prev_last = path, first, last
            if progress is not None:
                progress(1)
        yield build_batch(net.spec.name, cols, paths, ground.names, src, dst)
