"""Faults in the network: failed satellites and laser links, ground nodes down, jamming zones, over time.

A scenario's ``[[faults]]`` (:class:`~leonet.scenario.SatelliteFault`, ``IslFault``, ``StormFault``,
``GroundFault``, ``JammingFault``) are compiled once per network into a :class:`FaultSchedule` of plain arrays,
which answers, vectorised over snapshot times ``t`` (T,):

* :meth:`FaultSchedule.failed_sats` -> (T, S): a failed satellite takes part in no link (the step turns its
  position into NaN for the link builders, the mechanism that already removes physically impossible
  satellites; its true position is still reported);
* :meth:`FaultSchedule.failed_isls` -> (T, L) for any ISL pair list: failed laser links leave the graph;
* :meth:`FaultSchedule.ground_node_down` -> (T, G): a node down (gateway, PoP, station) has no ground link;
* :meth:`FaultSchedule.jammed` -> :class:`Jamming` for points (T, N): inside an active zone a user terminal
  has no ground link (``capacity_fraction`` 0), or keeps its links at that fraction of their capacity
  (``Snapshot.gsl_capacity``; the throughput model applies it).  Only user terminals (ground nodes of kind
  ``terminal``) are jammed: jamming targets the user downlink, not gateways' feeder links.

Rules (documented in docs/scenarios.md):

* a fault is active at ``start_s <= t < end_s`` (half-open, as the policy's windows; no ``end_s``: for ever);
* a random ``fraction`` of n items fails ``round(fraction * n)`` of them (half up), drawn once per fault with
  ``numpy.random.default_rng(seed)`` (``Generator.choice`` without replacement): the same items stay failed for
  the whole window of the fault, whatever the chunking, process or machine; a fault without a ``network``
  draws separately for each network, from the same seed;
* a storm's "below an altitude" is each satellite's *mean* altitude, the semi-major axis of its element set
  (SGP4's ``a``, Earth radii) less the equatorial radius SGP4 uses (WGS-72, 6378.135 km), not its propagated
  altitude at ``t``: for the near-circular LEO shells the two differ by a few km, and the drawn set stays
  fixed and known without propagating;
* where several faults overlap, a satellite / link / node is failed while any of them is active; a point in
  several jamming zones gets the smallest capacity fraction, and the first such zone (scenario order) is the
  one its decision names.

No I/O: named regions come in as geometries (``leonet.assembly`` resolves them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from leonet.errors import InputError
from leonet.policy.compiled import Region, region_of
from leonet.scenario import FaultSpec, GroundFault, IslFault, JammingFault, SatelliteFault, StormFault

#: SGP4's Earth radius (WGS-72, km): ``Satrec.radiusearthkm``; a storm's altitudes are measured above it
SGP4_EARTH_RADIUS_KM = 6378.135


class Jamming(NamedTuple):
    """Jamming at points (T, N): ``blocked`` (no ground link), ``capacity_fraction`` (1 outside every zone,
    the zone's fraction inside; 0 where blocked) and ``fault`` (index into ``FaultSchedule.names`` of the
    zone that decides, -1: none)."""

    blocked: NDArray[np.bool_]
    capacity_fraction: NDArray[np.float64]
    fault: NDArray[np.int32]


def _empty_mask(n_faults: int, n: int) -> NDArray[np.bool_]:
    return np.zeros((n_faults, n), dtype=bool)


@dataclass(frozen=True)
class FaultSchedule:
    """The faults of one network, compiled.  Faults are indexed in scenario order (``names``, ``start_s``,
    ``end_s``: (F,), ``end_s`` inf for an open end); each kind keeps the indices of its faults and its masks.

    ``sat_mask`` (F_s, S): satellites failed by each satellite / storm fault ``sat_faults``;
    ``isl_keys``: per ISL fault ``isl_faults``, the sorted keys ``a * S + b`` (a < b) of its failed pairs, and
    ``isl_sat_mask`` (F_i, S) the satellites all of whose lasers fail;
    ``ground_mask`` (F_g, G): nodes down per ground fault ``ground_faults``;
    ``jam_regions`` / ``jam_capacity`` per jamming fault ``jam_faults``."""

    names: tuple[str, ...]
    kinds: tuple[str, ...]
    start_s: NDArray[np.float64]
    end_s: NDArray[np.float64]
    n_sats: int
    n_ground: int
    sat_faults: NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    sat_mask: NDArray[np.bool_] = field(default_factory=lambda: np.zeros((0, 0), bool))
    isl_faults: NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    isl_keys: tuple[NDArray[np.int64], ...] = ()
    isl_sat_mask: NDArray[np.bool_] = field(default_factory=lambda: np.zeros((0, 0), bool))
    ground_faults: NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    ground_mask: NDArray[np.bool_] = field(default_factory=lambda: np.zeros((0, 0), bool))
    jam_faults: NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    jam_regions: tuple[Region, ...] = ()
    jam_capacity: NDArray[np.float64] = field(default_factory=lambda: np.empty(0, np.float64))
    #: per ground fault, the names it takes down (for sites that are not ground nodes: :meth:`names_down`)
    ground_names: tuple[tuple[str, ...], ...] = ()

    @property
    def empty(self) -> bool:
        return len(self.names) == 0

    def active(self, t_s: ArrayLike) -> NDArray[np.bool_]:
        """(T, F): whether each fault is active at each time (``start_s <= t < end_s``)."""
        t = np.atleast_1d(np.asarray(t_s, dtype=np.float64))[:, None]
        return (t >= self.start_s[None, :]) & (t < self.end_s[None, :])

    def failed_sats(self, t_s: ArrayLike) -> NDArray[np.bool_]:
        """(T, S): which satellites are failed at each time."""
        act = self.active(t_s)[:, self.sat_faults]
        if act.shape[1] == 0:
            return np.zeros((act.shape[0], self.n_sats), dtype=bool)
        return (act.astype(np.int32) @ self.sat_mask.astype(np.int32)) > 0

    def failed_isls(self, t_s: ArrayLike, isl_pairs: NDArray[np.integer]) -> NDArray[np.bool_]:
        """(T, L): which of the laser links ``isl_pairs`` (L, 2) are failed at each time (a link of a failed
        satellite is not counted here: :meth:`failed_sats` removes it anyway)."""
        act = self.active(t_s)[:, self.isl_faults]
        out = np.zeros((act.shape[0], len(isl_pairs)), dtype=bool)
        if act.shape[1] == 0 or len(isl_pairs) == 0:
            return out
        a = np.minimum(isl_pairs[:, 0], isl_pairs[:, 1]).astype(np.int64)
        b = np.maximum(isl_pairs[:, 0], isl_pairs[:, 1]).astype(np.int64)
        keys = a * self.n_sats + b
        for j in range(act.shape[1]):  # per fault (a handful), vectorised over links
            hit = np.isin(keys, self.isl_keys[j]) | self.isl_sat_mask[j][a] | self.isl_sat_mask[j][b]
            out |= act[:, j : j + 1] & hit[None, :]
        return out

    def ground_node_down(self, t_s: ArrayLike) -> NDArray[np.bool_]:
        """(T, G): which ground nodes are down at each time."""
        act = self.active(t_s)[:, self.ground_faults]
        if act.shape[1] == 0:
            return np.zeros((act.shape[0], self.n_ground), dtype=bool)
        return (act.astype(np.int32) @ self.ground_mask.astype(np.int32)) > 0

    def names_down(self, t_s: float) -> frozenset[str]:
        """The names of the ground sites down at ``t_s`` (gateways, PoPs, stations), for a model whose sites
        are not the scenario's ground nodes (the access network's PoPs)."""
        act = self.active([t_s])[0, self.ground_faults]
        return frozenset(n for j in np.flatnonzero(act) for n in self.ground_names[j])

    def jammed(self, t_s: ArrayLike, lat_deg: ArrayLike, lon_deg: ArrayLike) -> Jamming:
        """Jamming at points ``lat_deg`` / ``lon_deg`` (broadcast to (T, N)) at times ``t_s`` (T,)."""
        t = np.atleast_1d(np.asarray(t_s, dtype=np.float64))
        lat = np.asarray(lat_deg, dtype=np.float64)
        lon = np.asarray(lon_deg, dtype=np.float64)
        shape = np.broadcast_shapes((len(t), 1), lat.shape, lon.shape)
        lat, lon = np.broadcast_to(lat, shape), np.broadcast_to(lon, shape)
        cap = np.ones(shape, dtype=np.float64)
        which = np.full(shape, -1, dtype=np.int32)
        act = self.active(t)[:, self.jam_faults]
        for j in range(act.shape[1]):  # per zone (a handful), vectorised over points
            rows = np.flatnonzero(act[:, j])
            if len(rows) == 0:
                continue
            inside = self.jam_regions[j].grid.lookup(lon[rows], lat[rows]) >= 0  # type: ignore[union-attr]
            c = float(self.jam_capacity[j])
            sub_cap, sub_which = cap[rows], which[rows]
            worse = inside & (c < sub_cap)
            first = inside & (sub_which < 0)
            sub_which[first | worse] = int(self.jam_faults[j])
            sub_cap[worse] = c
            cap[rows], which[rows] = sub_cap, sub_which
        return Jamming((which >= 0) & (cap <= 0.0), cap, which)


def _sat_index(ref: int | str, n_sats: int, names: Mapping[str, int], where: str) -> int:
    if isinstance(ref, int):
        if not 0 <= ref < n_sats:
            raise InputError(where, f"satellite id {ref}; expected 0..{n_sats - 1} (the network's satellites)")
        return ref
    if ref not in names:
        from leonet.catalog import did_you_mean

        raise InputError(
            where, f"unknown satellite {ref!r}{did_you_mean(ref, list(names))}; expected a node id or name"
        )
    return names[ref]


def _draw(n: int, fraction: float, seed: int) -> NDArray[np.int64]:
    """``round(fraction * n)`` distinct indices of ``0..n-1``, drawn with ``default_rng(seed)``."""
    k = min(n, int(np.floor(fraction * n + 0.5)))
    return np.sort(np.random.default_rng(seed).choice(n, size=k, replace=False)).astype(np.int64)


def fault_names(specs: Sequence[FaultSpec]) -> tuple[str, ...]:
    """Each fault's name: its ``name``, or ``faults[i]``."""
    return tuple(f.name or f"faults[{i}]" for i, f in enumerate(specs))


def compile_faults(
    specs: Sequence[FaultSpec],
    network: str,
    sat_names: Sequence[str],
    mean_alt_km: NDArray[np.float64],
    shells: Sequence[tuple[int, int]],
    isl: NDArray[np.int32],
    ground_names: Sequence[str],
    ground_kind: Sequence[str],
    geometries: Mapping[int, shapely.Geometry],
    site_names: Sequence[str] = (),
) -> FaultSchedule:
    """The faults ``specs`` that hit network ``network`` (faults of another network are kept, never active),
    against its satellites (names, mean altitudes (km above :data:`SGP4_EARTH_RADIUS_KM`), Walker shells as
    ``(first, count)``), its ISL pairs (E, 2) and the ground nodes; ``geometries``: the polygon of each jamming
    fault, by index in ``specs``.  Errors name ``faults[i]`` and the field."""
    S, G = len(sat_names), len(ground_names)
    names = fault_names(specs)
    kinds = tuple(f.kind for f in specs)
    start = np.array([f.start_s for f in specs], dtype=np.float64)
    end = np.array([np.inf if f.end_s is None else f.end_s for f in specs], dtype=np.float64)
    # a fault of another network: never active here
    mine = np.array([f.network is None or f.network == network for f in specs], dtype=bool)
    end = np.where(mine, end, -np.inf)
    by_name = {n: i for i, n in enumerate(sat_names)}
    node_of = {n: i for i, n in enumerate(ground_names)}
    gateways = np.flatnonzero(np.array([k == "gateway" for k in ground_kind], dtype=bool))
    sat_f: list[int] = []
    sat_m: list[NDArray[np.bool_]] = []
    isl_f: list[int] = []
    isl_k: list[NDArray[np.int64]] = []
    isl_m: list[NDArray[np.bool_]] = []
    gnd_f: list[int] = []
    gnd_m: list[NDArray[np.bool_]] = []
    gnd_n: list[tuple[str, ...]] = []
    jam_f: list[int] = []
    jam_r: list[Region] = []
    jam_c: list[float] = []
    for i, f in enumerate(specs):
        where = f"faults[{i}]"
        if isinstance(f, SatelliteFault):
            m = np.zeros(S, dtype=bool)
            if f.ids is not None:
                m[[_sat_index(r, S, by_name, f"{where}.ids[{j}]") for j, r in enumerate(f.ids)]] = True
            else:
                m[_draw(S, float(f.fraction or 0.0), f.seed)] = True
            sat_f.append(i)
            sat_m.append(m)
        elif isinstance(f, StormFault):
            cand = np.flatnonzero(mean_alt_km <= f.below_km)
            if f.shell is not None:
                if f.shell >= len(shells):
                    raise InputError(
                        f"{where}.shell",
                        f"shell {f.shell}; expected 0..{len(shells) - 1} (the network's Walker shells)",
                    )
                first, count = shells[f.shell]
                cand = cand[(cand >= first) & (cand < first + count)]
            m = np.zeros(S, dtype=bool)
            m[cand[_draw(len(cand), f.fraction, f.seed)]] = True
            sat_f.append(i)
            sat_m.append(m)
        elif isinstance(f, IslFault):
            keys = np.empty(0, dtype=np.int64)
            m = np.zeros(S, dtype=bool)
            if f.pairs is not None:
                ab = np.array(
                    [
                        [_sat_index(r, S, by_name, f"{where}.pairs[{j}][{e}]") for e, r in enumerate(pair)]
                        for j, pair in enumerate(f.pairs)
                    ],
                    dtype=np.int64,
                )
                keys = np.unique(ab.min(axis=1) * S + ab.max(axis=1))
            elif f.sats is not None:
                m[[_sat_index(r, S, by_name, f"{where}.sats[{j}]") for j, r in enumerate(f.sats)]] = True
            else:
                rows = isl[_draw(len(isl), float(f.fraction or 0.0), f.seed)].astype(np.int64)
                keys = np.unique(rows.min(axis=1) * S + rows.max(axis=1))
            isl_f.append(i)
            isl_k.append(keys)
            isl_m.append(m)
        elif isinstance(f, GroundFault):
            m = np.zeros(G, dtype=bool)
            sites: list[str] = []  # named sites of the access network that are not ground nodes
            if f.names is not None:
                for j, n in enumerate(f.names):
                    if n in node_of:
                        m[node_of[n]] = True
                    elif n in site_names:
                        sites.append(n)
                    else:
                        from leonet.catalog import did_you_mean

                        known = list(node_of) + list(site_names)
                        raise InputError(
                            f"{where}.names[{j}]",
                            f"unknown ground node {n!r}{did_you_mean(n, known)}; expected the name of a ground "
                            "node, or of a gateway or PoP of [access]",
                        )
            else:
                m[gateways[_draw(len(gateways), float(f.fraction or 0.0), f.seed)]] = True
            gnd_f.append(i)
            gnd_m.append(m)
            gnd_n.append(tuple(ground_names[k] for k in np.flatnonzero(m)) + tuple(sites))
        elif isinstance(f, JammingFault):
            jam_f.append(i)
            jam_r.append(region_of(names[i], geometries[i]))
            jam_c.append(f.capacity_fraction)

    def idx(v: list[int]) -> NDArray[np.int64]:
        return np.array(v, dtype=np.int64)

    def stack(v: list[NDArray[np.bool_]], n: int) -> NDArray[np.bool_]:
        return np.stack(v) if v else _empty_mask(0, n)

    return FaultSchedule(
        names,
        kinds,
        start,
        end,
        S,
        G,
        idx(sat_f),
        stack(sat_m, S),
        idx(isl_f),
        tuple(isl_k),
        stack(isl_m, S),
        idx(gnd_f),
        stack(gnd_m, G),
        idx(jam_f),
        tuple(jam_r),
        np.array(jam_c, dtype=np.float64),
        tuple(gnd_n),
    )
