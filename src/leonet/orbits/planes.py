"""Inferring +Grid inter-satellite links from satellite states: shells, planes and slots of any TLE file.

Walker presets know each satellite's shell, plane and slot; a real TLE file does not (planes are partly filled,
satellites are being raised, lowered or are decaying).  :func:`infer_isls` recovers the structure from positions and
velocities at one instant and lays a +Grid over it (Bhattacherjee & Singla 2019, "Network topology design at 27,000
km/hour", ACM CoNEXT; Hypatia's ``generate_plus_grid_isls``, Kassing et al. 2020, ACM IMC):

1. osculating elements from ``r, v`` (Vallado, *Fundamentals of Astrodynamics and Applications*, 4th ed. 2013,
   algorithm 9 "RV2COE"), with the first-order J2 short-period terms of semi-major axis and inclination removed
   (Kozai 1959, "The motion of a close earth satellite", Astron. J. 64, 367-377) so that a shell is ~1 km thick
   instead of ~20 km;
2. shells: density clusters of (mean inclination, mean altitude), DBSCAN-like (Ester, Kriegel, Sander & Xu 1996,
   KDD) on a grid of cells, so that trains of satellites moving between shells stay out; clusters of one
   inclination a few km apart are joined (OneWeb puts each plane at its own altitude);
3. planes: clusters of the right ascension of the ascending node (RAAN) on the circle, split at gaps;
4. in-plane ISLs: a ring in order of the argument of latitude ``u``, not across holes;
5. cross-plane ISLs: a minimum-cost matching (``scipy.optimize.linear_sum_assignment``, the Hungarian method,
   Kuhn 1955) of the satellites of each plane with those of the next plane east on ``|Δu|`` (the +Grid "same slot"
   rule), then of the ones left over with the plane after it (across a short plane), then a repair round that
   links satellites still short of four ISLs to each other.

No ISL is longer than ``max_isl_km`` or passes lower than ``min_grazing_altitude_km`` above the Earth, neither at
the given instant nor, for the idealised circular orbits of the shell, anywhere along the orbit; nobody has more
than four.  Everything is vectorised with NumPy / SciPy, with Python loops over shells and planes only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from sgp4.api import Satrec, SatrecArray

from leonet.constants import WGS72_A_KM, WGS72_MU_KM3_S2
from leonet.orbits.propagate import sgp4_teme_state
from leonet.timebase import julian_date

#: WGS-72 second zonal harmonic, the value SGP4 is defined with (Hoots & Roehrich 1980, Spacetrack Report #3;
#: ``sgp4.earth_gravity.wgs72.j2``).
WGS72_J2 = 0.001082616

_INFEASIBLE = 1.0e6  # matching cost of a pair that may not be linked (larger than any sum of feasible costs)


def sgp4_state_km(
    satrecs: Sequence[Satrec] | SatrecArray, when: datetime
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """TEME position (km) and velocity (km/s) of every satellite at ``when``, each of shape ``(S, 3)``, in one call
    of the compiled ``SatrecArray.sgp4`` kernel; a satellite SGP4 cannot propagate (decayed, eccentricity out of
    range: a non-zero error code) is NaN in both."""
    jd, fr = julian_date(when)
    r, v, err = sgp4_teme_state(satrecs, jd, fr)
    r_km = np.array(r[:, 0, :], dtype=np.float64)
    v_km_s = np.array(v[:, 0, :], dtype=np.float64)
    bad = err[:, 0] != 0
    r_km[bad] = np.nan
    v_km_s[bad] = np.nan
    return r_km, v_km_s


@dataclass(frozen=True)
class OrbitalElements:
    """Per-satellite elements at one instant (angles in degrees); NaN where the state is not finite."""

    #: osculating inclination, RAAN and argument of latitude (angle from the ascending node to ``r``)
    inclination_deg: NDArray[np.float64]
    raan_deg: NDArray[np.float64]
    arg_latitude_deg: NDArray[np.float64]
    #: osculating eccentricity and semi-major axis (vis-viva)
    eccentricity: NDArray[np.float64]
    semi_major_axis_km: NDArray[np.float64]
    #: inclination and altitude (semi-major axis less the WGS-72 equatorial radius) without the first-order J2
    #: short-period terms: what clusters satellites into shells
    mean_inclination_deg: NDArray[np.float64]
    mean_altitude_km: NDArray[np.float64]


def orbital_elements(
    r_km: ArrayLike,
    v_km_s: ArrayLike,
    mu_km3_s2: float = WGS72_MU_KM3_S2,
    j2: float = WGS72_J2,
    radius_km: float = WGS72_A_KM,
) -> OrbitalElements:
    """Elements of each state ``(r, v)`` (shape ``(S, 3)`` each, any inertial frame with z along the pole: TEME).

    Vallado (2013), algorithm 9 RV2COE: ``h = r x v``; ``i = acos(h_z / |h|)``; node vector ``n = z x h``,
    ``RAAN = atan2(n_y, n_x)``; ``e = ((v^2 - mu/r) r - (r.v) v) / mu``; semi-major axis from the vis-viva
    equation ``a = 1 / (2/r - v^2/mu)``; argument of latitude ``u`` = angle from ``n`` to ``r`` in the orbit plane
    (for an equatorial orbit, whose node is undefined, ``RAAN = 0`` and ``u`` is the true longitude).

    Mean values for shell clustering remove Kozai's (1959) first-order J2 short-period terms of a near-circular
    orbit, ``a_osc - a_mean = (3/2) J2 R^2 / a sin^2 i cos 2u`` and ``i_osc - i_mean = (3/8) J2 (R/a)^2 sin 2i
    cos 2u``: for SGP4 Walker shells what is left varies by tens of metres and ~1e-5 deg (checked in the tests).
    This mean altitude is Brouwer's; the Keplerian altitude of a TLE's (Kozai) mean motion differs from it by about
    ``(1/2) J2 R^2 / a (3 cos^2 i - 1)``, e.g. +0.3 km at 53 deg, +3.5 km at 33 deg, -2.9 km at 88 deg.
    """
    r = np.asarray(r_km, dtype=np.float64).reshape(-1, 3)
    v = np.asarray(v_km_s, dtype=np.float64).reshape(-1, 3)
    with np.errstate(invalid="ignore", divide="ignore"):
        h = np.cross(r, v)
        h_norm = np.linalg.norm(h, axis=1)
        r_norm = np.linalg.norm(r, axis=1)
        v2 = np.einsum("ij,ij->i", v, v)
        inc = np.arccos(np.clip(h[:, 2] / h_norm, -1.0, 1.0))
        n_norm = np.hypot(h[:, 0], h[:, 1])
        equatorial = ~(n_norm > 1e-9 * h_norm)
        raan = np.where(equatorial, 0.0, np.arctan2(h[:, 0], -h[:, 1]))  # n = z x h = (-h_y, h_x, 0)
        node = np.stack([np.cos(raan), np.sin(raan), np.zeros_like(raan)], axis=1)
        h_hat = h / h_norm[:, None]
        sin_u = np.einsum("ij,ij->i", np.cross(node, r), h_hat)
        cos_u = np.einsum("ij,ij->i", node, r)
        u = np.arctan2(sin_u, cos_u)
        rv = np.einsum("ij,ij->i", r, v)
        e_vec = ((v2 - mu_km3_s2 / r_norm)[:, None] * r - rv[:, None] * v) / mu_km3_s2
        ecc = np.linalg.norm(e_vec, axis=1)
        a = 1.0 / (2.0 / r_norm - v2 / mu_km3_s2)
        cos2u = np.cos(2.0 * u)
        a_mean = a - 1.5 * j2 * radius_km**2 / a * np.sin(inc) ** 2 * cos2u
        i_mean = inc - 0.375 * j2 * (radius_km / a) ** 2 * np.sin(2.0 * inc) * cos2u
    return OrbitalElements(
        inclination_deg=np.degrees(inc),
        raan_deg=np.mod(np.degrees(raan), 360.0),
        arg_latitude_deg=np.mod(np.degrees(u), 360.0),
        eccentricity=ecc,
        semi_major_axis_km=a,
        mean_inclination_deg=np.degrees(i_mean),
        mean_altitude_km=a_mean - radius_km,
    )


@dataclass(frozen=True)
class InferredShell:
    """One shell found: medians of its satellites' mean inclination and altitude, its planes and satellites."""

    inclination_deg: float
    altitude_km: float
    planes: int
    satellites: int
    #: typical RAAN step between consecutive planes (median), deg
    plane_spacing_deg: float
    #: satellites of the shell with four ISLs
    four_isls: int
    #: longest ISL allowed in this shell (``max_isl_km`` or the grazing-altitude limit, the smaller), km
    max_isl_km: float


@dataclass(frozen=True)
class InferredGrid:
    """ISLs inferred by :func:`infer_isls`, and the structure they were laid on."""

    #: undirected ISLs, shape ``(E, 2)``, int32: each pair once, ``[:, 0] < [:, 1]``, rows sorted
    isls: NDArray[np.int32]
    #: per satellite: shell index (into ``shells``) or -1 when unassigned
    shell: NDArray[np.int32]
    #: per satellite: plane index within its shell, in order of the planes' RAAN in [0, 360) deg, or -1
    plane: NDArray[np.int32]
    #: per satellite: rank of its argument of latitude within its plane, from 0, or -1
    slot: NDArray[np.int32]
    #: per satellite: number of ISLs (0..4)
    degree: NDArray[np.int32]
    shells: tuple[InferredShell, ...]
    elements: OrbitalElements
    #: unassigned satellites by reason: no position, eccentric, low, not in a populous shell
    unassigned: dict[str, int]

    def summary(self) -> str:
        """A few lines: each shell (inclination, altitude, planes, satellites, share with four ISLs), then the
        unassigned satellites by reason."""
        n = len(self.shell)
        lines = [f"{n} satellites, {len(self.shells)} shells, {len(self.isls)} ISLs"]
        for k, s in enumerate(self.shells):
            share = 100.0 * s.four_isls / max(s.satellites, 1)
            lines.append(
                f"  shell {k}: {s.inclination_deg:6.2f} deg, {s.altitude_km:6.1f} km, {s.planes:3d} planes "
                f"(~{s.plane_spacing_deg:.1f} deg apart), {s.satellites:5d} satellites, {share:5.1f}% with 4 ISLs"
            )
        if any(self.unassigned.values()):
            parts = ", ".join(f"{v} {k}" for k, v in self.unassigned.items() if v)
            lines.append(f"  no ISLs (unassigned): {parts}")
        return "\n".join(lines)


def _wrap_deg(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Angles to ``[-180, 180)`` deg."""
    return np.mod(x + 180.0, 360.0) - 180.0


def _shell_labels(
    inc: NDArray[np.float64], alt: NDArray[np.float64], cell_inc: float, cell_alt: float, min_sats: int
) -> NDArray[np.int64]:
    """Density clusters of the points ``(inc, alt)``: -1 or a cluster index per point.

    The plane is cut into cells of ``cell_inc x cell_alt``; a cell is *core* when the 3 x 3 cells around it hold at
    least ``min_sats`` points (DBSCAN's core-point test, Ester et al. 1996, with a box for the neighbourhood);
    clusters are the connected groups of core cells, and a cell next to a core cell joins its cluster (DBSCAN's
    border points).  Other points belong to no cluster: a train of satellites being raised is thin in altitude
    and stays out, a shell is dense.
    """
    out = np.full(len(inc), -1, dtype=np.int64)
    if len(inc) == 0:
        return out
    ii = np.floor(inc / cell_inc).astype(np.int64)
    ia = np.floor(alt / cell_alt).astype(np.int64)
    ia -= ia.min() - 1
    ii -= ii.min() - 1
    width = int(ia.max()) + 2
    keys, inv, counts = np.unique(ii * width + ia, return_inverse=True, return_counts=True)
    inv = inv.reshape(-1)
    window = np.zeros(len(keys), dtype=np.int64)
    src: list[NDArray[np.int64]] = []
    dst: list[NDArray[np.int64]] = []
    cells = np.arange(len(keys))
    for di in (-1, 0, 1):
        for da in (-1, 0, 1):
            probe = keys + di * width + da
            pos = np.minimum(np.searchsorted(keys, probe), len(keys) - 1)
            hit = keys[pos] == probe
            window[hit] += counts[pos[hit]]
            src.append(cells[hit])
            dst.append(pos[hit])
    core = window >= min_sats
    s, d = np.concatenate(src), np.concatenate(dst)
    keep = core[s] & core[d]
    graph = coo_matrix((np.ones(int(keep.sum())), (s[keep], d[keep])), shape=(len(keys), len(keys)))
    _, comp = connected_components(graph, directed=False)
    comp = np.where(core, comp, -1)
    # border cells (DBSCAN's border points): a cell that is not core joins a core cell next to it
    border = ~core[s] & core[d]
    joined = np.full(len(keys), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(joined, s[border], comp[d[border]])
    comp = np.where(~core & (joined < np.iinfo(np.int64).max), joined, comp)
    point_comp = comp[inv]
    good = point_comp >= 0
    if not good.any():
        return out
    ids, dense = np.unique(point_comp[good], return_inverse=True)
    sizes = np.bincount(dense.reshape(-1), minlength=len(ids))
    dense_ok = sizes >= min_sats
    remap = np.where(dense_ok, np.cumsum(dense_ok) - 1, -1)
    out[good] = remap[dense.reshape(-1)]
    return out


def _join_staggered(
    lab: NDArray[np.int64], inc: NDArray[np.float64], alt: NDArray[np.float64], max_d_inc: float, max_d_alt: float
) -> NDArray[np.int64]:
    """Join clusters whose median inclinations differ by at most ``max_d_inc`` and median altitudes by at most
    ``max_d_alt`` (single linkage), then number them by inclination, then altitude.  A constellation may put
    each plane at its own altitude (OneWeb: 12 planes 4 km apart) and still be one shell."""
    k = int(lab.max()) + 1 if len(lab) else 0
    if k == 0:
        return lab

    def medians(labels: NDArray[np.int64], m: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        mi = np.array([np.median(inc[labels == j]) for j in range(m)])
        ma = np.array([np.median(alt[labels == j]) for j in range(m)])
        return mi, ma

    med_i, med_a = medians(lab, k)
    close = (np.abs(med_i[:, None] - med_i[None, :]) <= max_d_inc) & (
        np.abs(med_a[:, None] - med_a[None, :]) <= max_d_alt
    )
    m, comp = connected_components(coo_matrix(close.astype(np.float64)), directed=False)
    joined = np.where(lab >= 0, comp[np.maximum(lab, 0)], -1)
    med_i, med_a = medians(joined, m)
    rank = np.empty(m, dtype=np.int64)
    rank[np.lexsort((med_a, med_i))] = np.arange(m)
    return np.where(joined >= 0, rank[np.maximum(joined, 0)], -1)


def _plane_labels(raan_deg: NDArray[np.float64], gap_deg: float) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Clusters of angles on the circle: sort, split where consecutive angles are more than ``gap_deg`` apart (a
    cluster may straddle 0/360 deg).  Returns each angle's cluster and the clusters' circular-mean centres in
    ``[0, 360)``; clusters are numbered in order of their centres."""
    n = len(raan_deg)
    order = np.argsort(raan_deg, kind="stable")
    s = raan_deg[order]
    gaps = np.diff(np.concatenate([s, s[:1] + 360.0]))  # gaps[k]: from s[k] to the next, the last one wraps
    cut = np.flatnonzero(gaps > gap_deg)
    run = np.zeros(n, dtype=np.int64)
    if len(cut):
        starts = np.zeros(n, dtype=np.int64)
        starts[(cut + 1) % n] = 1  # a cluster starts after each cut
        run = np.cumsum(starts) - 1
        run[run < 0] = len(cut) - 1  # before the first start: the cluster that wraps past 360 deg
    labels = np.empty(n, dtype=np.int64)
    labels[order] = run
    k = int(labels.max()) + 1 if n else 0
    rad = np.radians(raan_deg)
    centres = np.mod(
        np.degrees(np.arctan2(np.bincount(labels, np.sin(rad), k), np.bincount(labels, np.cos(rad), k))), 360.0
    )
    rank = np.empty(k, dtype=np.int64)
    rank[np.argsort(centres, kind="stable")] = np.arange(k)
    return rank[labels], np.sort(centres)


def _best_phase_deg(d_raan_deg: NDArray[np.float64], inc_rad: float) -> NDArray[np.float64]:
    """Phase offset ``δ* = u_B - u_A`` between two circular orbits of the same radius and inclination, RAAN apart
    by ``d_raan``, at which their mean squared distance over an orbit is least.

    Averaging ``r_A(u) . r_B(u + δ) / r^2`` over ``u`` (with ``r = P cos u + Q sin u``, ``P, Q`` the perifocal
    unit vectors of a circular orbit) gives ``(A cos δ + B sin δ) / 2`` with ``A = cos ΔΩ (1 + cos^2 i) + sin^2 i``
    and ``B = -2 cos i sin ΔΩ``; its maximum is at ``δ* = atan2(B, A)`` (about ``-ΔΩ cos i``).
    """
    dr = np.radians(d_raan_deg)
    ci, si = math.cos(inc_rad), math.sin(inc_rad)
    return np.degrees(np.arctan2(-2.0 * ci * np.sin(dr), np.cos(dr) * (1.0 + ci * ci) + si * si))  # type: ignore[no-any-return]


def _max_chord_km(
    d_raan_deg: NDArray[np.float64], d_u_deg: NDArray[np.float64], inc_rad: float, radius_km: float
) -> NDArray[np.float64]:
    """Largest distance along the orbit between two satellites on circular orbits of one radius and inclination,
    RAAN ``d_raan`` and argument of latitude ``d_u`` apart.

    ``r_A(u) . r_B(u + δ) / r^2 = (A cos δ + B sin δ) / 2 - sin^2 i (1 - cos ΔΩ) cos(2u + δ) / 2`` (same
    notation as :func:`_best_phase_deg`), least at ``cos(2u + δ) = 1``; chord ``= r sqrt(2 - 2 cos θ)``.
    """
    dr = np.radians(d_raan_deg)
    d = np.radians(d_u_deg)
    ci, si = math.cos(inc_rad), math.sin(inc_rad)
    a = np.cos(dr) * (1.0 + ci * ci) + si * si
    b = -2.0 * ci * np.sin(dr)
    cos_min = 0.5 * (a * np.cos(d) + b * np.sin(d)) - 0.5 * si * si * (1.0 - np.cos(dr))
    return radius_km * np.sqrt(np.maximum(2.0 - 2.0 * cos_min, 0.0))  # type: ignore[no-any-return]


def _segment_ok(
    r: NDArray[np.float64], i: NDArray[np.int64], j: NDArray[np.int64], max_len_km: float, min_radius_km: float
) -> NDArray[np.bool_]:
    """Whether the straight segments ``r[i] - r[j]`` are at most ``max_len_km`` long and stay at least
    ``min_radius_km`` from the Earth's centre (closest point of a segment to the origin)."""
    a, b = r[i], r[j]
    d = b - a
    length2 = np.einsum("ij,ij->i", d, d)
    t = np.clip(-np.einsum("ij,ij->i", a, d) / np.where(length2 > 0, length2, 1.0), 0.0, 1.0)
    closest = a + t[:, None] * d
    with np.errstate(invalid="ignore"):
        return (length2 <= max_len_km**2) & (np.einsum("ij,ij->i", closest, closest) >= min_radius_km**2)  # type: ignore[no-any-return]


@dataclass
class _ShellGeometry:
    """What the linking steps of one shell share: states, elements, the shell's circular-orbit model, limits."""

    r: NDArray[np.float64]
    u: NDArray[np.float64]
    raan: NDArray[np.float64]
    inc_rad: float
    radius_km: float
    limit_km: float
    floor_km: float
    #: plane of each satellite (all satellites; -1 outside the shell)
    plane: NDArray[np.int32]

    def segments_ok(self, i: NDArray[np.int64], j: NDArray[np.int64]) -> NDArray[np.bool_]:
        return _segment_ok(self.r, i, j, self.limit_km, self.floor_km)

    def orbit_ok(self, i: NDArray[np.int64], j: NDArray[np.int64]) -> NDArray[np.bool_]:
        """Whether pairs stay within the length limit all along their (idealised circular) orbits."""
        d_raan = _wrap_deg(self.raan[j] - self.raan[i])
        d_u = _wrap_deg(self.u[j] - self.u[i])
        return _max_chord_km(d_raan, d_u, self.inc_rad, self.radius_km) <= self.limit_km


def _ring(sats: NDArray[np.int64], geo: _ShellGeometry) -> NDArray[np.int64]:
    """In-plane ISLs of one plane whose satellites ``sats`` are sorted by argument of latitude: each to the next
    (a ring), except across a gap too long to link."""
    if len(sats) < 2:
        return np.empty((0, 2), dtype=np.int64)
    a, b = sats, np.roll(sats, -1)
    if len(sats) == 2:
        a, b = a[:1], b[:1]
    ok = geo.orbit_ok(a, b) & geo.segments_ok(a, b)
    return np.stack([a[ok], b[ok]], axis=1)


def _match(
    sa: NDArray[np.int64], sb: NDArray[np.int64], geo: _ShellGeometry, tiebreak: float
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Cross-plane pairs between satellites ``sa`` of one plane and ``sb`` of the next plane east: a minimum-cost
    assignment (Hungarian method, ``scipy.optimize.linear_sum_assignment``) on ``|Δu| + tiebreak |Δu - δ*|``,
    pairs that would be too long (now or along the orbit) excluded."""
    if len(sa) == 0 or len(sb) == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    du = _wrap_deg(geo.u[sb][None, :] - geo.u[sa][:, None])
    d_raan = _wrap_deg(geo.raan[sb][None, :] - geo.raan[sa][:, None])
    cost = np.abs(du) + tiebreak * np.abs(_wrap_deg(du - _best_phase_deg(d_raan, geo.inc_rad)))
    feasible = _max_chord_km(d_raan, du, geo.inc_rad, geo.radius_km) <= geo.limit_km
    from scipy.optimize import linear_sum_assignment  # here: scipy.optimize costs ~0.3 s to import

    ia, ib = linear_sum_assignment(np.where(feasible, cost, _INFEASIBLE))
    keep = feasible[ia, ib]
    ia, ib = sa[ia[keep]], sb[ib[keep]]
    keep = geo.segments_ok(ia, ib)
    return ia[keep], ib[keep]


def _pair_keys(pairs: NDArray[np.int64], n: int) -> NDArray[np.int64]:
    lo, hi = np.minimum(pairs[:, 0], pairs[:, 1]), np.maximum(pairs[:, 0], pairs[:, 1])
    return np.sort(lo * n + hi)


def _repair(
    members: NDArray[np.int64],
    degree: NDArray[np.int64],
    existing: NDArray[np.int64],
    geo: _ShellGeometry,
    max_raan_deg: float,
    rounds: int,
    neighbours: int = 16,
) -> NDArray[np.int64]:
    """Extra cross-plane ISLs between satellites of one shell that have fewer than four: in each round every such
    satellite picks its nearest such satellite (k-d tree) in another plane at most ``max_raan_deg`` of RAAN away,
    not yet linked to it and within the length limits; mutual picks are linked (a matching, so nobody goes above
    four).  ``degree`` is updated in place."""
    n = len(degree)
    keys = _pair_keys(existing, n) if len(existing) else np.empty(0, dtype=np.int64)
    added: list[NDArray[np.int64]] = []
    for _ in range(rounds):
        cand = members[degree[members] < 4]
        if len(cand) < 2:
            break
        k = min(neighbours + 1, len(cand))
        _, nn = cKDTree(geo.r[cand]).query(geo.r[cand], k=k)
        nn = np.asarray(nn, dtype=np.int64).reshape(len(cand), k)
        i, j = np.repeat(cand, k), cand[nn].reshape(-1)
        ok = i != j
        ok &= geo.plane[i] != geo.plane[j]
        ok &= np.abs(_wrap_deg(geo.raan[j] - geo.raan[i])) <= max_raan_deg
        lo, hi = np.minimum(i, j), np.maximum(i, j)
        pk = lo * n + hi
        pos = np.minimum(np.searchsorted(keys, pk), max(len(keys) - 1, 0))
        ok &= ~((keys[pos] == pk) if len(keys) else np.zeros(len(pk), dtype=bool))
        ok &= geo.orbit_ok(i, j) & geo.segments_ok(i, j)
        ok = ok.reshape(len(cand), k)
        has = ok.any(axis=1)
        first = np.argmax(ok, axis=1)
        pick = np.where(has, cand[nn[np.arange(len(cand)), first]], -1)
        # mutual picks: cand[a] picks b and b picks cand[a]
        choice = np.full(n, -1, dtype=np.int64)
        choice[cand] = pick
        mine = cand[(pick >= 0)]
        mutual = mine[(choice[choice[mine]] == mine) & (mine < choice[mine])]
        if len(mutual) == 0:
            break
        new = np.stack([mutual, choice[mutual]], axis=1)
        added.append(new)
        np.add.at(degree, new.reshape(-1), 1)
        keys = np.sort(np.concatenate([keys, _pair_keys(new, n)]))
    return np.concatenate(added) if added else np.empty((0, 2), dtype=np.int64)


def infer_isls(
    r_teme_km: ArrayLike,
    v_teme_km_s: ArrayLike,
    *,
    max_isl_km: float = 5400.0,
    min_grazing_altitude_km: float = 80.0,
    min_altitude_km: float = 400.0,
    max_eccentricity: float = 0.005,
    min_shell_sats: int = 30,
    inclination_cell_deg: float = 0.02,
    altitude_cell_km: float = 1.0,
    merge_altitude_km: float = 6.0,
    plane_gap_deg: float = 1.0,
    max_plane_gap_factor: float = 2.5,
    phase_tiebreak: float = 0.1,
    skip_holes: bool = True,
    repair_rounds: int = 8,
) -> InferredGrid:
    """+Grid ISLs for satellites whose shell / plane / slot structure is not given, from their TEME states at one
    instant (:func:`sgp4_state_km` gives them; NaN rows, e.g. decayed satellites, get no ISLs).

    * Satellites with a non-finite state, eccentricity above ``max_eccentricity``, mean altitude below
      ``min_altitude_km`` or in no shell get no ISLs.
    * Shells: density clusters of (mean inclination, mean altitude) on cells of ``inclination_cell_deg`` x
      ``altitude_cell_km`` (:func:`_shell_labels`) with at least ``min_shell_sats`` satellites (lowered to half the
      candidates, at least 2, so that a small constellation still forms a shell); clusters of one inclination at
      most ``merge_altitude_km`` apart are one shell (:func:`_join_staggered`: OneWeb staggers its planes by 4 km).
    * Planes: RAAN clusters split at gaps above ``plane_gap_deg`` (Starlink's planes are 0.1-1.3 deg wide and
      2.5-13 deg apart; osculating RAAN differs from the mean one by J2 short-period terms of ~0.03 deg).
    * In-plane: a ring in order of argument of latitude ``u``; a hole in the plane is not bridged by a link over
      the length limit below.
    * Cross-plane: planes in RAAN order; plane ``k`` links to plane ``k + 1`` (wrapping around 360 deg) unless
      their RAAN gap exceeds ``max_plane_gap_factor`` times the shell's median gap (a Walker-star seam, a missing
      run of planes).  The pairs are a minimum-cost matching on ``|Δu| + phase_tiebreak |Δu - δ*|``: the +Grid
      same-slot rule, with ties (a half-slot offset, as in Hypatia's layout) broken towards ``δ*``, the offset of
      least orbit-mean distance (:func:`_best_phase_deg`).  Each satellite has at most one east and one west link.
      With ``skip_holes``, satellites left without an east neighbour (the next plane has fewer satellites) are
      matched in a second round with the free ones of the plane after it.
    * Repair (``repair_rounds`` > 0): satellites still short of four ISLs (next to a plane with fewer satellites,
      two satellites sharing a slot) link to each other, nearest first, in another plane of the shell at most
      ``max_plane_gap_factor`` plane spacings away (:func:`_repair`).  Nobody gets more than four ISLs.
    * Length: every ISL is at most ``min(max_isl_km, 2 sqrt(r^2 - (R + min_grazing_altitude_km)^2))`` long (``r``
      the shell's orbit radius, ``R`` the WGS-72 equatorial radius) at this instant and, for circular orbits of
      radius ``r``, all along the orbit (:func:`_max_chord_km`); the second term keeps the line of sight above
      the atmosphere, Hypatia's rule (80 km gives its 5,016.6 km limit at 550 km; Kassing et al. 2020).
    """
    r = np.asarray(r_teme_km, dtype=np.float64).reshape(-1, 3)
    v = np.asarray(v_teme_km_s, dtype=np.float64).reshape(-1, 3)
    if r.shape != v.shape:
        raise ValueError(f"r has shape {r.shape} and v {v.shape}; expected the same (S, 3)")
    n = len(r)
    el = orbital_elements(r, v)
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(r).all(axis=1) & np.isfinite(v).all(axis=1) & (el.semi_major_axis_km > 0)
        finite &= np.isfinite(el.mean_altitude_km) & np.isfinite(el.mean_inclination_deg)
        round_ = finite & (el.eccentricity <= max_eccentricity)
        high = round_ & (el.mean_altitude_km >= min_altitude_km)
    cand = np.flatnonzero(high)
    min_sats = int(min(min_shell_sats, max(2, len(cand) // 2)))
    lab = _shell_labels(
        el.mean_inclination_deg[cand], el.mean_altitude_km[cand], inclination_cell_deg, altitude_cell_km, min_sats
    )
    lab = _join_staggered(
        lab, el.mean_inclination_deg[cand], el.mean_altitude_km[cand], 3.0 * inclination_cell_deg, merge_altitude_km
    )
    n_shells = int(lab.max()) + 1 if len(lab) else 0
    shell = np.full(n, -1, dtype=np.int32)
    shell[cand] = lab
    plane = np.full(n, -1, dtype=np.int32)
    slot = np.full(n, -1, dtype=np.int32)
    degree = np.zeros(n, dtype=np.int64)
    edges: list[NDArray[np.int64]] = []
    meta: list[tuple[float, float, int, int, float, float]] = []
    for k in range(n_shells):
        members = np.flatnonzero(shell == k)
        inc_deg = float(np.median(el.mean_inclination_deg[members]))
        alt_km = float(np.median(el.mean_altitude_km[members]))
        radius, floor = WGS72_A_KM + alt_km, WGS72_A_KM + min_grazing_altitude_km
        limit = min(max_isl_km, 2.0 * math.sqrt(max(radius**2 - floor**2, 0.0)))
        pl, centres = _plane_labels(el.raan_deg[members], plane_gap_deg)
        plane[members] = pl
        geo = _ShellGeometry(
            r, el.arg_latitude_deg, el.raan_deg, math.radians(inc_deg), radius, limit, floor, plane.copy()
        )
        geo.plane[shell != k] = -1
        n_planes = int(pl.max()) + 1
        by_plane = [members[pl == p] for p in range(n_planes)]
        by_plane = [s[np.argsort(el.arg_latitude_deg[s], kind="stable")] for s in by_plane]
        shell_edges = [_ring(s, geo) for s in by_plane]
        for s in by_plane:
            slot[s] = np.arange(len(s), dtype=np.int32)
        gaps = np.mod(np.roll(centres, -1) - centres, 360.0) if n_planes > 1 else np.zeros(0)
        if n_planes == 2:
            gaps[int(np.argmax(gaps))] = np.inf  # two planes: link them once, across the smaller gap
        spacing = float(np.median(gaps)) if n_planes > 2 else float(gaps.min()) if n_planes == 2 else 0.0
        max_gap = max_plane_gap_factor * spacing
        east_free = np.ones(n, dtype=bool)
        west_free = np.ones(n, dtype=bool)
        steps = [1, 2] if (skip_holes and n_planes > 3) else [1]
        for step in steps:
            for p in range(n_planes if n_planes > 1 else 0):
                q = (p + step) % n_planes
                if float(np.sum(gaps[[(p + t) % n_planes for t in range(step)]])) > max_gap:
                    continue
                sa, sb = by_plane[p], by_plane[q]
                ia, ib = _match(sa[east_free[sa]], sb[west_free[sb]], geo, phase_tiebreak)
                east_free[ia] = False
                west_free[ib] = False
                shell_edges.append(np.stack([ia, ib], axis=1))
        so_far = np.concatenate(shell_edges) if shell_edges else np.empty((0, 2), dtype=np.int64)
        np.add.at(degree, so_far.reshape(-1), 1)
        if repair_rounds > 0 and n_planes > 1:
            so_far = np.concatenate([so_far, _repair(members, degree, so_far, geo, max_gap, repair_rounds)])
        edges.append(so_far)
        meta.append((inc_deg, alt_km, n_planes, len(members), spacing, limit))
    pairs = np.concatenate(edges) if edges else np.empty((0, 2), dtype=np.int64)
    pairs = np.sort(pairs, axis=1)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    if len(pairs):
        pairs = np.unique(pairs, axis=0)
    isls = pairs.astype(np.int32).reshape(-1, 2)
    deg = np.bincount(isls.reshape(-1), minlength=n).astype(np.int32)
    shells_out = tuple(
        InferredShell(
            inclination_deg=m[0],
            altitude_km=m[1],
            planes=m[2],
            satellites=m[3],
            plane_spacing_deg=m[4],
            four_isls=int(np.count_nonzero(deg[shell == k] == 4)),
            max_isl_km=m[5],
        )
        for k, m in enumerate(meta)
    )
    unassigned = {
        "without a position": int(np.count_nonzero(~finite)),
        f"with eccentricity > {max_eccentricity:g}": int(np.count_nonzero(finite & ~round_)),
        f"below {min_altitude_km:g} km": int(np.count_nonzero(round_ & ~high)),
        "in no populous shell": int(np.count_nonzero(high & (shell < 0))),
    }
    return InferredGrid(
        isls=isls,
        shell=shell,
        plane=plane,
        slot=slot,
        degree=deg,
        shells=shells_out,
        elements=el,
        unassigned=unassigned,
    )


def infer_isls_at(satrecs: Sequence[Satrec] | SatrecArray, when: datetime, **options: Any) -> InferredGrid:
    """:func:`infer_isls` for element sets propagated with SGP4 to ``when`` (UTC); ``options`` are its keywords."""
    r, v = sgp4_state_km(satrecs, when)
    return infer_isls(r, v, **options)
