"""Assembly: a :class:`~leonet.scenario.Scenario` turned into arrays, a :class:`World`.

The one place that reads the files a scenario names (TLE / OMM element sets, tracks; the policy's geofence files
are read when the scenario is loaded, :meth:`Scenario.compiled_policy`) and the one place that knows the
scenario model: the model modules (``orbits/``, ``ground.py``, ``topology.py``, ``routing.py``, ``policy/``) take
plain values.  ``assemble`` is deterministic, so a worker that receives the scenario rebuilds the same world
(SGP4 objects are never shipped).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sgp4.api import Satrec, SatrecArray

from leonet import access, budget, catalog
from leonet.access import AccessSetup
from leonet.constants import SECONDS_PER_DAY
from leonet.errors import InputError
from leonet.faults import FaultSchedule, compile_faults
from leonet.geodesy import geodesic_km
from leonet.ground import GroundNodes, make_ground
from leonet.orbits.constellation import Constellation, Grid, epoch_spread_days, from_shells
from leonet.orbits.planes import infer_isls_at
from leonet.orbits.propagate import max_radius_km
from leonet.orbits.shells import preset
from leonet.orbits.tle import parse_tle_text, satellites_from_omm, satrecs_from_tle
from leonet.policy import Fleet, Policy, bind
from leonet.policy.coverage import check_geofence_axes
from leonet.safeio import read_text_capped
from leonet.scenario import AccessSpec, ConstellationSpec, GroundSpec, NetworkSpec, Scenario, SiteSpec, StormFault
from leonet.topology import plus_grid_isls
from leonet.tracks import Track, TrackSet, load_tracks

#: Most pairs ``pairs = "all"`` may expand to (each pair is a row per snapshot).
MAX_PAIRS = 5_000_000
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
class World:
    """Everything the step, the chunk and the runners need, as arrays.  Rebuilt from the scenario where it is
    needed (``assemble(world.scenario)``; pickling a World pickles only its scenario)."""

    scenario: Scenario
    ground: GroundNodes
    networks: tuple[Network, ...]
    times_s: NDArray[np.float64]
    src: NDArray[np.int64]  # ground index of each pair's source
    dst: NDArray[np.int64]
    gc_km: NDArray[np.float64]  # geodesic distance of each pair (WGS-84) at rest
    policy: Policy | None = None
    #: ground indices of the terminals (the nodes the policy decides on), and the terminals bound to the registry
    terminals: NDArray[np.int64] = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    fleet: Fleet | None = None
    #: warnings about the input (also issued as :class:`LeonetWarning`), e.g. element sets far from the window
    warnings: tuple[str, ...] = ()
    force: bool = False
    #: per network, its compiled ``[[faults]]`` (None: the scenario has none), see :mod:`leonet.faults`
    faults: tuple[FaultSchedule | None, ...] = ()

    def faults_of(self, net_index: int) -> FaultSchedule | None:
        """The fault schedule of network ``net_index`` (None: no faults)."""
        return self.faults[net_index] if net_index < len(self.faults) else None

    #: the access network and each terminal's home PoP (``[access]``; None without it)
    access: AccessSetup | None = None

    def estimate(self) -> budget.Estimate:
        """How many route rows (and access rows) this run writes."""
        n_access = 0 if self.access is None else len(self.access.terminals)
        return budget.Estimate(len(self.times_s), len(self.src), len(self.networks), n_access)

    def __reduce__(self) -> tuple[Callable[..., World], tuple[Any, ...]]:
        # SatrecArray (C objects) cannot be pickled; the world is rebuilt from its scenario, which is enough
        # because assemble is deterministic
        return (_reassemble, (self.scenario, self.force))


#: the old name (P3 and before), kept while other code moves
Prepared = World


def _reassemble(scenario: Scenario, force: bool) -> World:
    with warnings.catch_warnings():  # the process that assembled it first already warned
        warnings.simplefilter("ignore", LeonetWarning)
        return assemble(scenario, force=force)


def snapshot_times(scenario: Scenario) -> NDArray[np.float64]:
    t = scenario.time
    n = int(np.floor((t.end_s - t.start_s) / t.step_s + 1e-9)) + 1
    return t.start_s + t.step_s * np.arange(n, dtype=np.float64)


# --- ground nodes -------------------------------------------------------------------------------------------


def ground_from_spec(
    spec: GroundSpec, epoch: datetime | None = None, resolve: Callable[[str], Path] = Path
) -> GroundNodes:
    """The scenario's ground nodes: cities, then gateways, then stations, then the tracks files' terminals.
    Track times are seconds after ``epoch`` (needed when any node has a track)."""
    places: list[catalog.Place] = []
    kinds: list[str] = []
    els: list[float | None] = []
    if isinstance(spec.cities, int):
        places += list(catalog.cities()[: spec.cities])
    else:
        places += [catalog.city(c, where=f"ground.cities[{i}]") for i, c in enumerate(spec.cities)]
    kinds += [spec.cities_kind] * len(places)
    els += [None] * len(places)
    if spec.gateways == "starlink":
        gws = catalog.gateways()
        places += list(gws)
        kinds += ["gateway"] * len(gws)
        els += [None] * len(gws)
    if spec.hypatia is not None:
        from leonet.hypatia.reader import read_ground_stations

        hyp = read_ground_stations(resolve(spec.hypatia))
        places += hyp
        kinds += ["station"] * len(hyp)
        els += [None] * len(hyp)
    moving: list[int] = []
    tracks: list[Track] = []
    files: dict[str, dict[str, Track]] = {}

    def tracks_of(path: str) -> dict[str, Track]:
        if path not in files:
            if epoch is None:
                raise ValueError("an epoch is needed to read tracks")
            files[path] = load_tracks(resolve(path), epoch, spec.max_track_speed_kmh)
        return files[path]

    for i, st in enumerate(spec.stations):
        if st.track is not None:
            in_file = tracks_of(st.track)
            if st.name in in_file:
                tr = in_file[st.name]
            elif len(in_file) == 1:
                tr = next(iter(in_file.values()))
            else:
                raise InputError(
                    f"ground.stations[{i}].track",
                    f"{st.track} has no track {st.name!r}; expected a "
                    "file with one track or a track id equal to the station's name",
                )
            moving.append(len(places))
            tracks.append(tr)
            places.append(catalog.Place(st.name, float(tr.lat_deg[0]), float(tr.lon_deg[0]), float(tr.alt_m[0])))
        else:
            assert st.lat_deg is not None and st.lon_deg is not None
            places.append(catalog.Place(st.name, st.lat_deg, st.lon_deg, st.alt_m))
        kinds.append(st.kind)
        els.append(st.min_elevation_deg)
    for path in spec.tracks:
        for tid, tr in tracks_of(path).items():
            moving.append(len(places))
            tracks.append(tr)
            places.append(catalog.Place(tid, float(tr.lat_deg[0]), float(tr.lon_deg[0]), float(tr.alt_m[0])))
            kinds.append("terminal")
            els.append(None)
    nodes = make_ground(
        [p.name for p in places],
        [p.lat_deg for p in places],
        [p.lon_deg for p in places],
        [p.alt_m for p in places],
        kinds,
        els,
        spec.ellipsoid,
    )
    if moving:
        nodes = replace(nodes, moving=np.array(moving, dtype=np.int64), tracks=TrackSet.of(tracks))
    return nodes


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


# --- the access network ---------------------------------------------------------------------------------------


def _sites(given: list[SiteSpec] | tuple[catalog.Place, ...]) -> access.Sites:
    if isinstance(given, tuple):
        return access.make_sites(
            [p.name for p in given], [p.lat_deg for p in given], [p.lon_deg for p in given],
            [p.country_iso_a2 for p in given],
        )  # fmt: skip
    return access.make_sites(
        [s.name for s in given], [s.lat_deg for s in given], [s.lon_deg for s in given], [s.country for s in given]
    )


def access_from_spec(spec: AccessSpec, ground: GroundNodes, terminals: NDArray[np.int64]) -> AccessSetup:
    """The ``[access]`` section as arrays: gateways (shipped, the ground's gateway nodes, or given), PoPs,
    fibre lengths, and each terminal's home PoP (the ``country`` rule looks the terminals' countries up in the
    policy's borders, at their first position)."""
    pops = _sites(catalog.pops() if spec.pops == "starlink" else spec.pops)
    if spec.gateways == "starlink":
        gws = _sites(catalog.gateways())
    elif spec.gateways == "ground":
        gi = np.flatnonzero(ground.is_gateway)
        if len(gi) == 0:
            raise InputError("access.gateways", '"ground" but no ground node is a gateway; expected gateway nodes')
        gws = access.make_sites(
            [ground.names[i] for i in gi], ground.lat_deg[gi], ground.lon_deg[gi], None, ground.alt_m[gi]
        )
    else:
        gws = _sites(spec.gateways)
    lat, lon = ground.lat_deg[terminals], ground.lon_deg[terminals]
    country: list[str] = [""] * len(terminals)
    if spec.homing == "country" and len(terminals):
        from leonet.policy.borders import country_codes

        country = [str(c) for c in country_codes(lat, lon)]
    names = list(pops.names)
    table = {
        c: catalog.resolve_name(p, names, f"access.country_pops.{c}", "PoP", "a PoP name")
        for c, p in spec.country_pops.items()
    }
    params = access.AccessParams(
        mode=spec.mode,
        gateway_min_elevation_deg=spec.gateway_min_elevation_deg,
        fibre_route_factor=spec.fibre_route_factor,
        fibre_refractive_index=spec.fibre_refractive_index,
        sat_processing_ms=spec.sat_processing_ms,
        mac_scheduling_ms=spec.mac_scheduling_ms,
    )
    home = access.home_pops(lat, lon, country, pops, spec.homing, table)
    return access.AccessSetup(
        access.access_ground(gws, pops, spec.fibre_route_factor), params, terminals, home, spec.serving
    )


# --- constellations ------------------------------------------------------------------------------------------


def _read(path: Path) -> str:
    return read_text_capped(path, "a TLE / OMM text file")


def _one_source(spec: ConstellationSpec, epoch: datetime, resolve: Callable[[str], Path]) -> Constellation:
    if spec.preset is not None:
        return from_shells(spec.preset, preset(spec.preset), epoch)
    if spec.shells is not None:
        return from_shells("shells", [s.to_shell() for s in spec.shells], epoch)
    if spec.hypatia is not None:
        from leonet.hypatia.reader import read_constellation

        return read_constellation(resolve(spec.hypatia))
    sats: list[Satrec]
    if spec.tle is not None:
        path = resolve(spec.tle)
        recs = parse_tle_text(_read(path), source=str(path))
        sats, names = satrecs_from_tle(recs), [r.name or r.line1[2:7].strip() for r in recs]
    else:
        assert spec.omm is not None
        path = resolve(spec.omm)
        fmt = "csv" if path.suffix.lower() == ".csv" else "json"
        names, sats = satellites_from_omm(_read(path), str(path), fmt)
    grids: tuple[Grid, ...] = ()
    if spec.grid is None or spec.grid == "auto":
        inferred = infer_isls_at(sats, epoch)
        return Constellation(
            path.name, sats, names, (), inferred.isls.astype(np.int32), observed=np.ones(len(sats), dtype=bool)
        )
    if spec.grid is not None:
        planes, per_plane = spec.grid
        if planes * per_plane != len(sats):
            raise InputError(
                f"{path}",
                f"grid {planes} x {per_plane} = {planes * per_plane} satellites, file has {len(sats)}; "
                "expected the file to list every satellite plane by plane",
            )
        grids = (Grid(0, planes, per_plane, wrap=True, seam_shift=0),)
    return Constellation(path.name, sats, names, grids, observed=np.ones(len(sats), dtype=bool))


def constellation_from_spec(net: NetworkSpec, epoch: datetime, resolve: Callable[[str], Path]) -> Constellation:
    """All satellites of a network, its sources one after another, with their +Grid structure."""
    sats: list[Satrec] = []
    names: list[str] = []
    grids: list[Grid] = []
    pairs: list[NDArray[np.int32]] = []
    observed: list[NDArray[np.bool_]] = []
    for spec in net.constellation:
        c = _one_source(spec, epoch, resolve)
        observed.append(c.observed_mask())
        grids += [Grid(g.first + len(sats), g.planes, g.sats_per_plane, g.wrap, g.seam_shift) for g in c.grids]
        pairs.append(c.isl_pairs + len(sats))
        sats += list(c.satrecs)
        names += list(c.sat_names)
    return Constellation(
        net.name, sats, names, tuple(grids), np.concatenate(pairs).astype(np.int32), np.concatenate(observed)
    )


def declared_satellites(spec: NetworkSpec) -> int:
    """Satellites of a network's presets and Walker shells (TLE / OMM files are counted once read)."""
    n = 0
    for c in spec.constellation:
        if c.preset is not None:
            n += sum(s.size for s in preset(c.preset))
        elif c.shells is not None:
            n += sum(s.planes * s.sats_per_plane for s in c.shells)
    return n


def assemble_network(spec: NetworkSpec, scenario: Scenario, force: bool = False) -> Network:
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


# --- the world -----------------------------------------------------------------------------------------------


def assemble(scenario: Scenario, force: bool = False) -> World:
    """Build the ground nodes, networks, snapshot times, pairs and policy of a scenario.  Errors that concern a
    field of the scenario name the scenario file too.  A constellation too large for the memory is refused
    unless ``force``; element sets far from the window give a :class:`LeonetWarning` (and ``World.warnings``).
    Policy decisions are not made here: they are made chunk by chunk (:mod:`leonet.step`)."""
    try:
        return _assemble(scenario, force)
    except InputError as exc:
        if exc.where.startswith(("/", ".", "<")) or exc.where.startswith(scenario.source):
            raise
        raise InputError(f"{scenario.source}: {exc.where}", exc.problem) from None


def _assemble(scenario: Scenario, force: bool) -> World:
    ground = ground_from_spec(scenario.ground, scenario.epoch, scenario.resolve)
    if ground.size < 2:
        raise InputError("ground", f"{ground.size} ground node(s); expected at least two to route between")
    src, dst = pair_indices(scenario, ground)
    for i, (a, b) in enumerate(scenario.report.pairs):
        ground.index(a, f"report.pairs[{i}][0]"), ground.index(b, f"report.pairs[{i}][1]")
    gc = geodesic_km(ground.lat_deg[src], ground.lon_deg[src], ground.lat_deg[dst], ground.lon_deg[dst])
    budget.check_satellites(sum(declared_satellites(n) for n in scenario.networks), "networks", force)
    networks = tuple(assemble_network(n, scenario, force) for n in scenario.networks)
    notes = tuple(w for w in (element_age_warning(n, scenario) for n in networks) if w is not None)
    for note in notes:
        warnings.warn(note, LeonetWarning, stacklevel=3)
    times = snapshot_times(scenario)
    terminals = np.flatnonzero(ground.is_terminal).astype(np.int64)
    policy = scenario.compiled_policy()
    fleet = None
    if policy is not None:
        _check_axes(policy, ground, terminals, scenario)
        fleet = bind(policy, [ground.names[i] for i in terminals])
    access = None if scenario.access is None else access_from_spec(scenario.access, ground, terminals)
    sites = () if access is None else access.ground.gateways.names + access.ground.pops.names
    faults = network_faults(scenario, ground, networks, sites)
    return World(
        scenario,
        ground,
        networks,
        times,
        src,
        dst,
        np.atleast_1d(gc),
        policy,
        terminals,
        fleet,
        notes,
        force,
        faults,
        access,
    )


def fault_geometries(scenario: Scenario) -> dict[int, Any]:
    """The polygon of each jamming fault (by index in ``scenario.faults``): its ring, or the shipped region it
    names (read from ``leonet/data`` by the policy's region loader)."""
    from leonet.policy.compiled import builtin_region, polygon_of_ring
    from leonet.scenario import JammingFault

    out: dict[int, Any] = {}
    for i, f in enumerate(scenario.faults):
        if isinstance(f, JammingFault):
            out[i] = polygon_of_ring(f.polygon) if f.polygon is not None else builtin_region(str(f.region))
    return out


def network_faults(
    scenario: Scenario, ground: GroundNodes, networks: tuple[Network, ...], sites: Sequence[str] = ()
) -> tuple[FaultSchedule | None, ...]:
    """Each network's :class:`~leonet.faults.FaultSchedule` (None for all without ``[[faults]]``); ``sites``:
    names of the access network's gateways and PoPs, which a ground fault may name too."""
    if not scenario.faults:
        return tuple(None for _ in networks)
    names = [n.spec.name for n in networks]
    for i, f in enumerate(scenario.faults):
        if f.network is not None and f.network not in names:
            from leonet.catalog import did_you_mean

            raise InputError(
                f"faults[{i}].network",
                f"unknown network {f.network!r}{did_you_mean(f.network, names)}; expected one of {', '.join(names)}",
            )
    geoms = fault_geometries(scenario)
    storms = any(isinstance(f, StormFault) for f in scenario.faults)
    out: list[FaultSchedule | None] = []
    for net in networks:
        recs = net.constellation.satrecs
        # mean altitude: semi-major axis (Earth radii) less SGP4's Earth radius (leonet.faults' storm rule);
        # read from the element sets only when a storm needs it
        n = len(recs) if storms else 0
        a = np.fromiter((s.a for s in recs[:n]), dtype=np.float64, count=n)
        r_e = np.fromiter((s.radiusearthkm for s in recs[:n]), dtype=np.float64, count=n)
        alt = a * r_e - r_e if storms else np.full(len(recs), np.nan)
        shells = [(g.first, g.planes * g.sats_per_plane) for g in net.constellation.grids]
        out.append(
            compile_faults(
                scenario.faults,
                net.spec.name,
                list(net.constellation.sat_names),
                alt,
                shells,
                net.isl,
                list(ground.names),
                list(ground.kind),
                geoms,
                sites,
            )
        )
    return tuple(out)


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
