"""``leonet export hypatia``: a scenario's network as Hypatia's satellite-network directory for ns-3.

The static files and the dynamic state of :mod:`leonet.hypatia.files` for one network of a scenario: its
satellites (TLE lines exported from the same SGP4 element sets leonet propagates), its +Grid / explicit ISLs in
Hypatia's order (``satgen/isls/generate_plus_grid_isls.py``: for each satellite, the link to the next slot of its
plane, then to the next plane), its ground nodes as ground stations, and the forwarding state of
:mod:`leonet.hypatia.fstate` at every step.  Time 0 is the satellites' (common) TLE epoch, as in satgenpy; steps
run ``0, step, ..., duration - step`` (satgenpy's ``range(0, duration, step)``; the end itself is not a step).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from sgp4.api import WGS72, Satrec, SatrecArray
from sgp4.exporter import export_tle

from leonet.constants import SECONDS_PER_DAY
from leonet.errors import InputError
from leonet.hypatia import files
from leonet.hypatia.fstate import (
    check_isl_lengths,
    forwarding_state,
    forwarding_state_gs_relays,
    gsl_in_range,
    interfaces,
    isl_lengths_m,
)
from leonet.orbits.constellation import Constellation
from leonet.orbits.propagate import max_radius_km, positions_itrf_km
from leonet.orbits.tle import tle_checksum
from leonet.scenario import Scenario
from leonet.timebase import julian_date

#: Hypatia's Earth radius (WGS-72, m) and the lowest altitude an ISL may dip to (80 km; Kassing et al. 2020)
WGS72_RADIUS_M = 6378135.0
ISL_FLOOR_M = 80_000.0
#: the satgenpy algorithms the export writes
OVER_ISLS = "algorithm_free_one_only_over_isls"
GS_RELAYS = "algorithm_free_one_only_gs_relays"
ALGORITHMS = (OVER_ISLS, GS_RELAYS)
#: steps propagated together
_CHUNK = 100


@dataclass(frozen=True)
class ExportPlan:
    """What an export writes: step, duration, the ranges, the ground-station model."""

    step_ms: int
    duration_s: int
    max_gsl_m: float
    max_isl_m: float
    ground_ellipsoid: str  # "wgs72" (Hypatia's) or "wgs84" (leonet's)
    n_steps: int
    algorithm: str = "algorithm_free_one_only_over_isls"


def hypatia_isl_order(const: Constellation, isl: NDArray[np.int32]) -> NDArray[np.int64]:
    """The network's ISLs (the set ``isl``, as leonet routes over them) in Hypatia's order: for each +Grid
    satellite by id, its link to the next slot of its plane, then its link to the next plane; then the
    explicit ISL pairs in their given order; then anything else, sorted.  Each pair as ``(min, max)``."""
    gen: list[NDArray[np.int64]] = []
    for g in const.grids:
        p, s = np.divmod(np.arange(g.planes * g.sats_per_plane), g.sats_per_plane)
        sat = g.first + p * g.sats_per_plane + s
        same = g.first + p * g.sats_per_plane + (s + 1) % g.sats_per_plane
        nxt = (p + 1) % g.planes
        shift = np.where(p + 1 == g.planes, g.seam_shift, 0)
        adj = g.first + nxt * g.sats_per_plane + (s + shift) % g.sats_per_plane
        pairs = np.stack([np.stack([sat, same], -1), np.stack([sat, adj], -1)], axis=1).reshape(-1, 2)
        gen.append(pairs)
    gen.append(np.asarray(const.isl_pairs, dtype=np.int64).reshape(-1, 2))
    gen.append(np.asarray(isl, dtype=np.int64).reshape(-1, 2))
    cand = np.sort(np.concatenate(gen), axis=1)
    cand = cand[cand[:, 0] != cand[:, 1]]
    have = np.sort(np.asarray(isl, dtype=np.int64).reshape(-1, 2), axis=1)
    n = const.size + 1
    key = cand[:, 0] * n + cand[:, 1]
    _, first = np.unique(key, return_index=True)
    first = np.sort(first)
    ordered: NDArray[np.int64] = cand[first][np.isin(key[first], have[:, 0] * n + have[:, 1])]
    return ordered


def _altitude_m(const: Constellation) -> float:
    """Mean altitude above Hypatia's Earth radius of the highest satellite (from its mean motion, WGS-72 mu)."""
    mu_km3_s2 = 398600.8
    n_rad_s = np.array([s.no_kozai for s in const.satrecs]) / 60.0
    a_km = (mu_km3_s2 / n_rad_s**2) ** (1.0 / 3.0)
    return float(a_km.max() * 1000.0 - WGS72_RADIUS_M)


def default_ranges(scenario: Scenario, net_index: int, const: Constellation) -> tuple[float, float]:
    """(max GSL length, max ISL length) in m, from the network's own settings where it has them, else
    Hypatia's rules (``paper/satellite_networks_state/main_*.py``) at the shell's altitude: the slant range at
    the network's minimum elevation, and the ISL whose line of sight stays 80 km above the WGS-72 sphere."""
    spec = scenario.networks[net_index]
    alt = _altitude_m(const)
    if spec.max_ground_link_km is not None:
        gsl = spec.max_ground_link_km * 1000.0
    else:
        cone = alt / math.tan(math.radians(spec.min_elevation_deg))
        gsl = math.sqrt(cone * cone + alt * alt)
    if spec.max_isl_km is not None:
        isl = spec.max_isl_km * 1000.0
    else:
        isl = 2.0 * math.sqrt((WGS72_RADIUS_M + alt) ** 2 - (WGS72_RADIUS_M + ISL_FLOOR_M) ** 2)
    return gsl, isl


def _tle_epoch_offset_s(scenario: Scenario, satrecs: list[Satrec]) -> float:
    """Seconds from the satellites' common TLE epoch to the scenario's first snapshot; refuses mixed epochs."""
    jd = np.array([s.jdsatepoch for s in satrecs]) - 2451545.0
    jf = np.array([s.jdsatepochF for s in satrecs])
    ep_s = (jd + jf) * SECONDS_PER_DAY
    if len(ep_s) and float(np.ptp(ep_s)) > 1e-3:
        raise InputError(
            f"{scenario.source}: networks",
            f"the satellites' element sets have {len(np.unique(np.round(ep_s, 3)))} different epochs; expected "
            "one epoch for all (Hypatia's tles.txt requires it; its time 0 is that epoch)",
        )
    w, f = julian_date(scenario.epoch)
    return float((w - 2451545.0 + f) * SECONDS_PER_DAY - ep_s[0]) + scenario.time.start_s if len(ep_s) else 0.0


def ground_positions_m(
    lat_deg: NDArray[np.float64], lon_deg: NDArray[np.float64], alt_m: NDArray[np.float64], ellipsoid: str
) -> NDArray[np.float64]:
    """Earth-fixed positions (m) of the ground stations as ``ground_stations.txt`` states them (latitude,
    longitude and elevation rounded to its ``%f``, so that the state matches the file satgenpy / ns-3 read):
    on WGS-72 (Hypatia's ``geodetic2cartesian``) or WGS-84 (leonet's own, PROJ)."""
    from leonet.geodesy import geodetic_to_ecef_km

    r = [np.array([float(f"{x:f}") for x in np.asarray(v, dtype=np.float64)]) for v in (lat_deg, lon_deg, alt_m)]
    if ellipsoid == "wgs72":
        return files.wgs72_cartesian_m(r[0], r[1], r[2])
    return np.asarray(geodetic_to_ecef_km(r[0], r[1], r[2]), dtype=np.float64).reshape(-1, 3) * 1000.0


def station_names(
    names: tuple[str, ...], lat_deg: NDArray[np.float64], lon_deg: NDArray[np.float64]
) -> list[str]:
    """Ground-station names for ``ground_stations.txt``: a shipped city under the name of Hypatia's list (leonet
    qualifies its four repeated names by country, "Hyderabad-(India)"; Hypatia's file says "Hyderabad"), commas
    (the file's separator) as spaces."""
    from leonet import catalog

    bare = {c.name: (r.name, c.lat_deg, c.lon_deg) for c, r in zip(catalog.cities(), catalog.raw_cities(), strict=True)}
    out = []
    for n, lat, lon in zip(names, lat_deg, lon_deg, strict=True):
        b = bare.get(n)
        out.append((b[0] if b is not None and (b[1], b[2]) == (float(lat), float(lon)) else n).replace(",", " "))
    return out


def satellite_lines(const: Constellation, label: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Hypatia names (``"<label> <id>"``, the id being the satellite's node id) and TLE lines (``sgp4``'s
    exporter).  An eccentricity of exactly 0 is written as 0.0000001, as Hypatia's own generator does: pyephem,
    which satgenpy propagates with, refuses 0."""
    names, lines = [], []
    for i, (name, sat) in enumerate(zip(const.sat_names, const.satrecs, strict=True)):
        parts = str(name).split()
        names.append(str(name) if len(parts) == 2 and parts[1] == str(i) else f"{label} {i}")
        l1, l2 = export_tle(sat)
        if l2[26:33] == "0000000":
            l2 = l2[:26] + "0000001" + l2[33:68]
            l2 += str(tle_checksum(l2))
        lines.append((l1, l2))
    return names, lines


def satrecs_of(lines: list[tuple[str, str]]) -> list[Satrec]:
    """The satellites as the written ``tles.txt`` states them (what satgenpy and ns-3 propagate)."""
    return [Satrec.twoline2rv(l1, l2, WGS72) for l1, l2 in lines]


def positions_m(satrecs: list[Satrec], t_s: NDArray[np.float64], dut1_s: float = 0.0) -> NDArray[np.float64]:
    """Earth-fixed positions (T, S, 3) in m at ``t_s`` after the satellites' common TLE epoch, Hypatia's time 0
    (leonet's SGP4 -> TEME -> ITRF chain)."""
    f = satrecs[0].jdsatepochF + np.asarray(t_s, dtype=np.float64) / SECONDS_PER_DAY
    carry = np.floor(f)
    jw, jf = satrecs[0].jdsatepoch + carry, f - carry
    return positions_itrf_km(SatrecArray(satrecs), jw, jf, dut1_s, max_radius_km(satrecs)) * 1000.0


def _header_of_source(scenario: Scenario, k_net: int, n_sats: int) -> tuple[int, int]:
    """``tles.txt``'s header for a network without a single +Grid: that of the Hypatia directory it was read
    from, else ``1 <satellites>``."""
    srcs = scenario.networks[k_net].constellation
    if len(srcs) == 1 and srcs[0].hypatia is not None:
        from leonet.hypatia.reader import read_header

        return read_header(scenario.resolve(srcs[0].hypatia))
    return 1, n_sats


def plan_export(
    scenario: Scenario,
    const: Constellation,
    net_index: int,
    step_ms: int | None,
    duration_s: int | None,
    max_gsl_m: float | None,
    max_isl_m: float | None,
    ground_ellipsoid: str,
) -> ExportPlan:
    t = scenario.time
    if step_ms is None:
        step_ms = round(t.step_s * 1000)
        if abs(step_ms - t.step_s * 1000) > 1e-6 or step_ms < 1:
            raise InputError(f"{scenario.source}: time.step_s", f"{t.step_s} s; expected whole milliseconds")
    if duration_s is None:
        duration_s = round(t.end_s - t.start_s)
        if abs(duration_s - (t.end_s - t.start_s)) > 1e-9 or duration_s < 1:
            raise InputError(f"{scenario.source}: time", "end_s - start_s; expected a whole number of seconds >= 1")
    if step_ms < 1:
        raise InputError("--step-ms", f"{step_ms}; expected a whole number of milliseconds >= 1")
    if duration_s < 1:
        raise InputError("--duration-s", f"{duration_s}; expected a whole number of seconds >= 1")
    if ground_ellipsoid not in ("wgs72", "wgs84"):
        raise InputError("--ground-ellipsoid", f"{ground_ellipsoid!r}; expected wgs72 or wgs84")
    gsl, isl = default_ranges(scenario, net_index, const)
    n_steps = (duration_s * 1000) // step_ms
    return ExportPlan(
        step_ms, duration_s, gsl if max_gsl_m is None else max_gsl_m, isl if max_isl_m is None else max_isl_m,
        ground_ellipsoid, n_steps,
    )


def export_hypatia(
    scenario: Scenario,
    folder: Path,
    *,
    network: str | None = None,
    step_ms: int | None = None,
    duration_s: int | None = None,
    max_gsl_m: float | None = None,
    max_isl_m: float | None = None,
    ground_ellipsoid: str = "wgs72",
    bandwidth: float = 1.0,
    threads: int | None = None,
    algorithm: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ExportPlan:
    """Write the satellite-network directory of one network of ``scenario`` into ``folder`` (which exists and
    is empty: the caller makes it atomic).  Returns what was written."""
    from leonet import assembly

    if threads is None:
        threads = 1  # the kernel's threads per step; on a shared 2-core machine one is faster (start-up per call)
    if network is None and len(scenario.networks) > 1:
        raise InputError(
            "--network", f"the scenario has {len(scenario.networks)} networks; expected --network NAME (one of: "
            + ", ".join(n.name for n in scenario.networks) + ")"
        )
    names_ = [n.name for n in scenario.networks]
    if network is not None and network not in names_:
        raise InputError("--network", f"{network!r}; expected one of: {', '.join(names_)}")
    k_net = 0 if network is None else names_.index(network)
    isl_kind = scenario.networks[k_net].isl
    if algorithm is None:
        algorithm = OVER_ISLS if isl_kind == "plus-grid" else GS_RELAYS
    if algorithm not in ALGORITHMS:
        raise InputError("--algorithm", f"{algorithm!r}; expected one of: {', '.join(ALGORITHMS)}")
    if (algorithm == OVER_ISLS) != (isl_kind == "plus-grid"):
        need = "plus-grid" if algorithm == OVER_ISLS else "none"
        raise InputError(
            f"{scenario.source}: networks[{k_net}].isl",
            f"{isl_kind!r}; expected {need!r} for {algorithm} (over_isls routes over ISLs, gs_relays has none)",
        )
    prep = assembly.assemble(scenario)
    net = prep.networks[k_net]
    const = net.constellation
    plan = plan_export(scenario, const, k_net, step_ms, duration_s, max_gsl_m, max_isl_m, ground_ellipsoid)
    plan = replace(plan, algorithm=algorithm)
    label = "".join(ch if not ch.isspace() else "-" for ch in scenario.networks[k_net].name)
    sat_names, tle_lines = satellite_lines(const, label)
    satrecs = satrecs_of(tle_lines)
    t0_s = _tle_epoch_offset_s(scenario, satrecs)
    if abs(t0_s) > 1e-3:
        raise InputError(
            f"{scenario.source}: epoch",
            f"the first snapshot is {t0_s:.3f} s after the satellites' TLE epoch; expected it at the epoch "
            "(Hypatia's time 0 is the TLE epoch: set the scenario's epoch to it and start_s = 0)",
        )
    isl = hypatia_isl_order(const, net.isl)
    ifs = interfaces(const.size, isl)
    ground = prep.ground
    G, S = ground.size, const.size
    ground_m = ground_positions_m(ground.lat_deg, ground.lon_deg, ground.alt_m, ground_ellipsoid)

    # static files
    one = len(const.grids) == 1 and const.grids[0].planes * const.grids[0].sats_per_plane == S
    grid = const.grids[0] if one else None
    orbits, per = (grid.planes, grid.sats_per_plane) if grid is not None else _header_of_source(scenario, k_net, S)
    (folder / "tles.txt").write_text(files.tles_text(orbits, per, sat_names, tle_lines))
    (folder / "isls.txt").write_text(files.isls_text(isl))
    gs_names = station_names(ground.names, ground.lat_deg, ground.lon_deg)
    basic, ext = files.ground_stations_texts(gs_names, ground.lat_deg, ground.lon_deg, ground.alt_m)
    (folder / "ground_stations.basic.txt").write_text(basic)
    (folder / "ground_stations.txt").write_text(ext)
    (folder / "description.txt").write_text(files.description_text(plan.max_gsl_m, plan.max_isl_m))
    (folder / "gsl_interfaces_info.txt").write_text(files.gsl_interfaces_text(S, G, bandwidth, bandwidth))

    dyn = folder / files.dynamic_state_dirname(plan.step_ms, plan.duration_s)
    dyn.mkdir()
    writer = files.DeltaWriter(dyn, files.gsl_if_bandwidth_text(ifs.num_isls, G, bandwidth, bandwidth))
    step_ns = plan.step_ms * 1_000_000
    # the files of step k are formatted and written by one background thread (numba and file writes release
    # the GIL) while step k + 1 is computed; at most one step is pending
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending: Future[None] | None = None
        for k0 in range(0, plan.n_steps, _CHUNK):
            ks = np.arange(k0, min(k0 + _CHUNK, plan.n_steps))
            pos_m = positions_m(satrecs, ks.astype(np.float64) * (plan.step_ms / 1000.0), scenario.dut1_s)
            for j, k in enumerate(ks):
                t_ns = int(k) * step_ns
                gsl = gsl_in_range(pos_m[j], ground_m, plan.max_gsl_m)
                if algorithm == GS_RELAYS:
                    fs = forwarding_state_gs_relays(S, gsl, G, threads=threads)
                else:
                    isl_m = isl_lengths_m(pos_m[j], isl)
                    check_isl_lengths(isl_m, isl, plan.max_isl_m, t_ns)
                    fs = forwarding_state(S, ifs, isl, isl_m, gsl, G, threads=threads)
                if pending is not None:
                    pending.result()
                    if progress is not None:
                        progress(int(k), plan.n_steps)
                pending = pool.submit(writer.write, t_ns, fs.sat, fs.gs)
        if pending is not None:
            pending.result()
            if progress is not None:
                progress(plan.n_steps, plan.n_steps)
    return plan
