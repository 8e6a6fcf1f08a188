"""The pieces of ISL inference (``orbits.planes``) against independent references, one piece at a time.

References:
- ``sgp4.ext.rv2coe`` (Vallado's RV2COE as shipped with the sgp4 package) for the osculating elements of
  eccentric, inclined, retrograde and near-equatorial states;
- Kozai's (1959) first-order short-period terms written out from ``orbital_elements``' docstring for the mean
  elements;
- brute force NumPy for the circular-orbit geometry: both satellites' positions
  ``r(Omega, i, u) = R (cos Omega cos u - sin Omega sin u cos i, sin Omega cos u + cos Omega sin u cos i,
  sin u sin i)`` sampled along the orbit (the largest distance, the offset of least mean squared distance), and
  points sampled along a straight segment (its length and closest approach to the Earth's centre);
- plain Python loops for the circular clustering of RAANs, the pair keys and the summary text.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sgp4.ext import rv2coe

from leonet.constants import WGS72_A_KM, WGS72_MU_KM3_S2
from leonet.orbits.constellation import from_shells
from leonet.orbits.planes import (
    WGS72_J2,
    InferredGrid,
    InferredShell,
    _best_phase_deg,
    _max_chord_km,
    _pair_keys,
    _plane_labels,
    _repair,
    _segment_ok,
    _shell_labels,
    _ShellGeometry,
    _wrap_deg,
    infer_isls,
    infer_isls_at,
    orbital_elements,
)
from leonet.orbits.shells import Shell

MU = WGS72_MU_KM3_S2


def _states(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random two-body states: a 6,700-30,000 km, e 0-0.6, any inclination (a few near 0 and 180 deg)."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(6700.0, 30000.0, n)
    e = rng.uniform(0.0, 0.6, n)
    inc = np.radians(np.r_[rng.uniform(1.0, 179.0, n - 2), 0.3, 179.6])
    raan, argp, nu = (np.radians(rng.uniform(0, 360, n)) for _ in range(3))
    p = a * (1 - e * e)
    r_pf = np.stack([p * np.cos(nu) / (1 + e * np.cos(nu)), p * np.sin(nu) / (1 + e * np.cos(nu)), 0 * nu], 1)
    v_pf = np.stack([-np.sqrt(MU / p) * np.sin(nu), np.sqrt(MU / p) * (e + np.cos(nu)), 0 * nu], 1)
    r, v = np.empty((n, 3)), np.empty((n, 3))
    for k in range(n):
        co, so, ci, si, cw, sw = (
            math.cos(raan[k]),
            math.sin(raan[k]),
            math.cos(inc[k]),
            math.sin(inc[k]),
            math.cos(argp[k]),
            math.sin(argp[k]),
        )
        rot = np.array(
            [
                [co * cw - so * sw * ci, -co * sw - so * cw * ci, so * si],
                [so * cw + co * sw * ci, -so * sw + co * cw * ci, -co * si],
                [sw * si, cw * si, ci],
            ]
        )
        r[k], v[k] = rot @ r_pf[k], rot @ v_pf[k]
    return r, v


def test_osculating_elements_are_rv2coe() -> None:
    """Inclination, RAAN, argument of latitude, eccentricity and semi-major axis of eccentric states equal
    ``sgp4.ext.rv2coe``'s (incl, omega, arglat, ecc, a)."""
    r, v = _states(300, seed=9)
    el = orbital_elements(r, v)
    for k in range(len(r)):
        _p, a, ecc, incl, omega, _argp, nu, _m, _arglat, _tl, _lp = rv2coe(list(r[k]), list(v[k]), MU)
        assert el.semi_major_axis_km[k] == pytest.approx(a, rel=1e-9)
        assert el.eccentricity[k] == pytest.approx(ecc, abs=1e-9)
        assert el.inclination_deg[k] == pytest.approx(math.degrees(incl), abs=1e-8)
        assert abs(_wrap_deg(np.array(el.raan_deg[k] - math.degrees(omega)))) < 1e-7
        # rv2coe gives the argument of latitude only for circular inclined orbits: u = argp + nu
        u_ref = math.degrees(_argp + nu)
        assert abs(_wrap_deg(np.array(el.arg_latitude_deg[k] - u_ref))) < 1e-6
    assert ((el.raan_deg >= 0) & (el.raan_deg < 360)).all()
    assert ((el.arg_latitude_deg >= 0) & (el.arg_latitude_deg < 360)).all()


def test_mean_elements_remove_kozais_short_period_terms() -> None:
    """``a_mean = a - (3/2) J2 R^2 / a sin^2 i cos 2u`` and ``i_mean = i - (3/8) J2 (R/a)^2 sin 2i cos 2u``,
    written out, with the WGS-72 J2 = 0.001082616 and R = 6,378.135 km by default and with other constants."""
    r, v = _states(200, seed=10)
    for kw in ({}, {"mu_km3_s2": 398600.4418, "j2": 0.00108263, "radius_km": 6378.137}):
        mu = float(kw.get("mu_km3_s2", MU))
        j2 = float(kw.get("j2", 0.001082616))
        rad = float(kw.get("radius_km", 6378.135))
        el = orbital_elements(r, v, **kw)
        rn = np.linalg.norm(r, axis=1)
        a = 1.0 / (2.0 / rn - np.einsum("ij,ij->i", v, v) / mu)
        np.testing.assert_allclose(el.semi_major_axis_km, a, rtol=1e-12)
        i = np.radians(el.inclination_deg)
        c2u = np.cos(2.0 * np.radians(el.arg_latitude_deg))
        a_mean = a - 1.5 * j2 * rad**2 / a * np.sin(i) ** 2 * c2u
        i_mean = i - 0.375 * j2 * (rad / a) ** 2 * np.sin(2 * i) * c2u
        np.testing.assert_allclose(el.mean_altitude_km, a_mean - rad, rtol=0, atol=1e-8)
        np.testing.assert_allclose(el.mean_inclination_deg, np.degrees(i_mean), rtol=0, atol=1e-10)
    assert WGS72_J2 == 0.001082616


def test_equatorial_orbits_have_raan_zero_and_true_longitude() -> None:
    """An equatorial orbit has no node: RAAN 0 and u the true longitude atan2(y, x) (prograde) - also for an
    orbit 1e-10 rad off the equator (below the 1e-9 threshold) - while 1e-6 rad off has a proper node."""
    out = []
    for tilt in (0.0, 1e-10, 1e-6):
        r = np.array([[7000.0 * math.cos(0.7), 7000.0 * math.sin(0.7), 0.0]])
        sp = math.sqrt(MU / 7000.0)
        v = sp * np.array([[-math.sin(0.7), math.cos(0.7) * math.cos(tilt), math.cos(0.7) * 0 + math.sin(tilt)]])
        out.append(orbital_elements(r, v))
    for el in out[:2]:
        assert el.raan_deg[0] == 0.0
        assert el.arg_latitude_deg[0] == pytest.approx(math.degrees(0.7), abs=1e-6)
    assert out[2].raan_deg[0] == pytest.approx(math.degrees(0.7), abs=1e-4)
    assert out[2].arg_latitude_deg[0] == pytest.approx(0.0, abs=1e-4) or out[2].arg_latitude_deg[0] == pytest.approx(
        360.0, abs=1e-4
    )


def _orbit(raan: float, inc: float, u: np.ndarray, radius: float) -> np.ndarray:
    co, so, ci, si = math.cos(raan), math.sin(raan), math.cos(inc), math.sin(inc)
    return radius * np.stack(
        [co * np.cos(u) - so * np.sin(u) * ci, so * np.cos(u) + co * np.sin(u) * ci, np.sin(u) * si], -1
    )


def test_max_chord_is_the_largest_distance_along_the_orbits() -> None:
    """For random RAAN and u offsets and inclinations: the largest distance between the two satellites over a
    sampled orbit (10,000 points) equals ``_max_chord_km`` (to the sampling error)."""
    rng = np.random.default_rng(5)
    u = np.linspace(0.0, 2 * np.pi, 10001)
    for _ in range(60):
        inc = rng.uniform(0.0, np.pi)
        d_raan, d_u, radius = rng.uniform(-40, 40), rng.uniform(-60, 60), rng.uniform(6700, 8000)
        a = _orbit(0.3, inc, u, radius)
        b = _orbit(0.3 + math.radians(d_raan), inc, u + math.radians(d_u), radius)
        brute = float(np.linalg.norm(a - b, axis=1).max())
        got = float(_max_chord_km(np.array([d_raan]), np.array([d_u]), inc, radius)[0])
        assert got == pytest.approx(brute, rel=1e-6, abs=1e-6)
    # the same orbit, the same slot: zero (the clamp at 0 keeps a rounding below zero from giving NaN)
    assert float(_max_chord_km(np.array([0.0]), np.array([0.0]), 0.9, 6928.0)[0]) == 0.0


def test_best_phase_is_the_offset_of_least_mean_squared_distance() -> None:
    """The offset delta minimising the orbit mean of |r_A(u) - r_B(u + delta)|^2, found by brute force on a
    0.01 deg grid, equals ``_best_phase_deg`` (and is about -dRAAN cos i)."""
    rng = np.random.default_rng(6)
    u = np.linspace(0.0, 2 * np.pi, 721)[:-1]
    deltas = np.radians(np.arange(-90.0, 90.0, 0.01))
    for _ in range(12):
        inc, d_raan = rng.uniform(0.1, np.pi - 0.1), rng.uniform(-30, 30)
        a = _orbit(0.0, inc, u, 1.0)
        means = []
        for dl in deltas[::50]:  # coarse, then fine around the best
            means.append(np.mean(np.sum((a - _orbit(math.radians(d_raan), inc, u + dl, 1.0)) ** 2, axis=1)))
        best = deltas[::50][int(np.argmin(means))]
        fine = deltas[np.abs(deltas - best) < math.radians(0.6)]
        m2 = [np.mean(np.sum((a - _orbit(math.radians(d_raan), inc, u + dl, 1.0)) ** 2, axis=1)) for dl in fine]
        brute = math.degrees(fine[int(np.argmin(m2))])
        got = float(_best_phase_deg(np.array([d_raan]), inc)[0])
        assert got == pytest.approx(brute, abs=0.011)


def test_segment_check_against_sampled_points() -> None:
    """Random segments: ``_segment_ok`` is (length <= limit) and (no sampled point of the segment closer than the
    floor radius), away from the two boundaries (1 m margins); a zero-length segment too."""
    rng = np.random.default_rng(8)
    r = rng.normal(size=(400, 3))
    r *= rng.uniform(6500.0, 7500.0, (400, 1)) / np.linalg.norm(r, axis=1, keepdims=True)
    i, j = np.arange(0, 400, 2), np.arange(1, 400, 2)
    limit, floor = 5000.0, 6458.0
    t = np.linspace(0.0, 1.0, 5001)
    pts = r[i][:, None, :] + t[None, :, None] * (r[j] - r[i])[:, None, :]
    closest = np.linalg.norm(pts, axis=2).min(axis=1)
    length = np.linalg.norm(r[j] - r[i], axis=1)
    far = (np.abs(length - limit) > 1e-3) & (np.abs(closest - floor) > 1e-3)
    want = (length <= limit) & (closest >= floor)
    got = _segment_ok(r, i, j, limit, floor)
    assert far.sum() > 150 and want[far].any() and (~want[far]).any()
    np.testing.assert_array_equal(got[far], want[far])
    # exactly at the limits (a segment along the x axis, 6,500 -> 6,500 + L, floor 6,500): still fine
    line = np.array([[6500.0, 0.0, 0.0], [6500.0 + 4096.0, 0.0, 0.0], [6500.0, 0.0, 0.0]])
    assert _segment_ok(line, np.array([0]), np.array([1]), 4096.0, 6500.0).tolist() == [True]
    assert _segment_ok(line, np.array([0]), np.array([1]), math.nextafter(4096.0, 0.0), 6500.0).tolist() == [False]
    assert _segment_ok(line, np.array([0]), np.array([1]), 4096.0, math.nextafter(6500.0, 7000.0)).tolist() == [False]
    assert _segment_ok(line, np.array([0]), np.array([2]), 1.0, 6500.0).tolist() == [True]


def _plane_labels_loop(raan: list[float], gap: float) -> list[list[int]]:
    """Groups of indices: walk the sorted angles round the circle and start a group after each gap > ``gap``."""
    order = sorted(range(len(raan)), key=lambda k: raan[k])
    s = [raan[k] for k in order]
    n = len(s)
    cuts = [k for k in range(n) if ((s[(k + 1) % n] + (360.0 if k == n - 1 else 0.0)) - s[k]) > gap]
    if not cuts:
        return [sorted(order)]
    groups = []
    for c_i, c in enumerate(cuts):
        nxt = cuts[(c_i + 1) % len(cuts)]
        k, g = (c + 1) % n, []
        while True:
            g.append(order[k])
            if k == nxt:
                break
            k = (k + 1) % n
        groups.append(sorted(g))
    return groups


def test_plane_labels_are_the_circular_gap_split() -> None:
    """Random RAAN clusters (some across 0/360 deg): the same groups as a loop round the circle, numbered by the
    circular mean of each group."""
    rng = np.random.default_rng(12)
    for trial in range(30):
        k = int(rng.integers(1, 9))
        centres = np.sort(rng.choice(np.arange(0.0, 360.0, 15.0), k, replace=False)) + rng.uniform(0, 3)
        raan = np.mod(np.repeat(centres, 5) + rng.uniform(-0.4, 0.4, 5 * k), 360.0)
        if trial % 3 == 0:
            raan[:3] = [359.8, 0.1, 0.3]
        labels, cen = _plane_labels(raan, 1.0)
        want = _plane_labels_loop(list(raan), 1.0)
        got = [sorted(np.flatnonzero(labels == q).tolist()) for q in range(int(labels.max()) + 1)]
        assert sorted(got) == sorted(want)
        for q, g in enumerate(got):
            ang = np.radians(raan[g])
            mean = math.degrees(math.atan2(np.sin(ang).sum(), np.cos(ang).sum())) % 360.0
            assert cen[q] == pytest.approx(mean, abs=1e-9)
        assert (np.diff(cen) > 0).all()


def _shell_partition_loop(inc: np.ndarray, alt: np.ndarray, ci: float, ca: float, min_sats: int) -> set[frozenset[int]]:
    """``_shell_labels``' docstring as plain loops over a dict of cells: core cells (3 x 3 window holding at least
    ``min_sats`` points), clusters of 8-connected core cells (union-find), a non-core cell next to core cells
    joining the cluster of the smallest such core cell in (inclination, altitude) order, clusters with fewer
    than ``min_sats`` points dropped.  Returns the clusters as sets of point indices."""
    cell = [(math.floor(i / ci), math.floor(a / ca)) for i, a in zip(inc, alt, strict=True)]
    count: dict[tuple[int, int], int] = {}
    for c in cell:
        count[c] = count.get(c, 0) + 1
    near = [(di, da) for di in (-1, 0, 1) for da in (-1, 0, 1)]
    core = {c for c in count if sum(count.get((c[0] + di, c[1] + da), 0) for di, da in near) >= min_sats}
    parent = {c: c for c in core}

    def find(c: tuple[int, int]) -> tuple[int, int]:
        while parent[c] != c:
            c = parent[c]
        return c

    for c in core:
        for di, da in near:
            d = (c[0] + di, c[1] + da)
            if d in core:
                a, b = find(c), find(d)
                parent[max(a, b)] = min(a, b)
    label: dict[tuple[int, int], tuple[int, int]] = {c: find(c) for c in core}
    # each cluster's smallest cell, the order the clusters are numbered in
    first = {root: min(c for c in core if label[c] == root) for root in set(label.values())}
    for c in count:
        if c not in core:
            roots = [label[(c[0] + di, c[1] + da)] for di, da in near if (c[0] + di, c[1] + da) in core]
            if roots:
                label[c] = min(roots, key=lambda r: first[r])
    groups: dict[tuple[int, int], set[int]] = {}
    for k, c in enumerate(cell):
        if c in label:
            groups.setdefault(label[c], set()).add(k)
    return {frozenset(g) for g in groups.values() if len(g) >= min_sats}


def test_shell_labels_are_the_density_clusters_written_out() -> None:
    """Random blobs and scattered points in (inclination, altitude), altitudes negative as well as positive (the
    function takes any numbers): the same clusters as the loops above; points outside them are -1, and the
    cluster numbers are 0..k-1."""
    rng = np.random.default_rng(13)
    for trial in range(25):
        blobs = int(rng.integers(1, 5))
        inc = np.concatenate([rng.normal(rng.uniform(0, 3), 0.02, 40) for _ in range(blobs)] + [rng.uniform(0, 3, 30)])
        alt = np.concatenate(
            [rng.normal(rng.uniform(-30, 30), 1.5, 40) for _ in range(blobs)] + [rng.uniform(-40, 40, 30)]
        )
        min_sats = int(rng.integers(3, 12))
        lab = _shell_labels(inc, alt, 0.02, 1.0, min_sats)
        want = _shell_partition_loop(inc, alt, 0.02, 1.0, min_sats)
        got = {frozenset(np.flatnonzero(lab == q).tolist()) for q in range(int(lab.max()) + 1)}
        assert got == want, trial
        assert set(np.unique(lab)) <= set(range(-1, len(want)))
    assert _shell_labels(np.zeros(0), np.zeros(0), 0.02, 1.0, 3).shape == (0,)
    assert (_shell_labels(np.array([1.0, 2.0]), np.array([500.0, 900.0]), 0.02, 1.0, 2) == -1).all()


def test_wrap_and_pair_keys() -> None:
    np.testing.assert_array_equal(
        _wrap_deg(np.array([-180.0, 179.0, 180.0, 540.0, -190.0])), [-180, 179, -180, -180, 170]
    )
    pairs = np.array([[5, 2], [1, 3], [2, 5], [0, 4]])
    assert _pair_keys(pairs, 10).tolist() == sorted([2 * 10 + 5, 1 * 10 + 3, 2 * 10 + 5, 0 * 10 + 4])


def test_summary_lines() -> None:
    """The summary's text for two shells and some unassigned satellites, written out."""
    el = orbital_elements(np.zeros((0, 3)), np.zeros((0, 3)))
    g = InferredGrid(
        isls=np.zeros((3, 2), dtype=np.int32),
        shell=np.zeros(10, dtype=np.int32),
        plane=np.zeros(10, dtype=np.int32),
        slot=np.zeros(10, dtype=np.int32),
        degree=np.zeros(10, dtype=np.int32),
        shells=(
            InferredShell(53.05, 550.3, 72, 8, 5.0, 6, 5016.6),
            InferredShell(97.6, 560.0, 3, 0, 10.0, 0, 5000.0),
        ),
        elements=el,
        unassigned={"without a position": 2, "below 400 km": 0, "in no populous shell": 1},
    )
    assert g.summary().split("\n") == [
        "10 satellites, 2 shells, 3 ISLs",
        "  shell 0:  53.05 deg,  550.3 km,  72 planes (~5.0 deg apart),     8 satellites,  75.0% with 4 ISLs",
        "  shell 1:  97.60 deg,  560.0 km,   3 planes (~10.0 deg apart),     0 satellites,   0.0% with 4 ISLs",
        "  no ISLs (unassigned): 2 without a position, 1 in no populous shell",
    ]
    quiet = InferredGrid(g.isls, g.shell, g.plane, g.slot, g.degree, (), el, {"without a position": 0})
    assert quiet.summary() == "10 satellites, 0 shells, 3 ISLs"


def test_mismatched_state_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="expected the same"):
        infer_isls(np.zeros((3, 3)), np.zeros((2, 3)))
    assert WGS72_A_KM == 6378.135


def _walker_geometry(planes: int, per: int, inc_deg: float, alt_km: float, keep: np.ndarray) -> _ShellGeometry:
    """Ideal circular Walker-delta orbits (F = 1), positions from the formula above, for the satellites ``keep``."""
    p = np.repeat(np.arange(planes), per)
    s = np.tile(np.arange(per), planes)
    raan = 360.0 * p / planes
    u = np.mod(360.0 * s / per + 360.0 * p / (planes * per), 360.0)
    radius = WGS72_A_KM + alt_km
    inc = math.radians(inc_deg)
    r = np.stack([_orbit(math.radians(raan[k]), inc, np.array(math.radians(u[k])), radius) for k in range(len(p))])
    plane = np.where(keep, p, -1).astype(np.int32)
    floor = WGS72_A_KM + 80.0
    limit = min(5400.0, 2.0 * math.sqrt(radius**2 - floor**2))
    return _ShellGeometry(r, u, raan, inc, radius, limit, floor, plane)


def _repair_loop(
    members: np.ndarray, degree: np.ndarray, existing: np.ndarray, geo: _ShellGeometry, max_raan: float, rounds: int
) -> set[tuple[int, int]]:
    """``_repair``'s docstring as loops: each round, every member with fewer than four ISLs looks at the 17 nearest
    such members (itself included, by brute-force distance) and picks the first in another plane, at most
    ``max_raan`` deg of RAAN away, not yet linked to it, and within the length limits; mutual picks are linked."""
    deg = degree.copy()
    linked = {tuple(sorted(map(int, e))) for e in existing}
    added: set[tuple[int, int]] = set()
    for _ in range(rounds):
        cand = [int(m) for m in members if deg[m] < 4]
        if len(cand) < 2:
            break
        pick = {}
        for a in cand:
            d = [float(np.sum((geo.r[b] - geo.r[a]) ** 2)) for b in cand]
            order = [cand[q] for q in np.argsort(d, kind="stable")[: min(17, len(cand))]]
            pick[a] = -1
            for b in order:
                ok = b != a and geo.plane[a] != geo.plane[b]
                ok = ok and abs(float(_wrap_deg(np.array(geo.raan[b] - geo.raan[a])))) <= max_raan
                ok = ok and tuple(sorted((a, b))) not in linked
                ia, ib = np.array([a]), np.array([b])
                ok = ok and bool(geo.orbit_ok(ia, ib)[0] and geo.segments_ok(ia, ib)[0])
                if ok:
                    pick[a] = b
                    break
        new = [(a, b) for a, b in pick.items() if b >= 0 and a < b and pick.get(b) == a]
        if not new:
            break
        for a, b in new:
            linked.add((a, b))
            added.add((a, b))
            deg[a] += 1
            deg[b] += 1
    return added


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_repair_is_the_mutual_nearest_pick_written_out(seed: int) -> None:
    """A 12 x 12 Walker shell with a fifth of its satellites gone and half of its same-slot cross-plane links
    present: the links ``_repair`` adds equal the loop version's, round after round (the already-linked pairs
    and the degree cap included), and nobody ends with more than four."""
    rng = np.random.default_rng(seed)
    planes, per = 12, 12
    n = planes * per
    keep = rng.random(n) > 0.2
    geo = _walker_geometry(planes, per, 53.0, 550.0, keep)
    members = np.flatnonzero(keep)
    ring = [(k, (k // per) * per + (k % per + 1) % per) for k in members]
    cross = [(k, (k + per) % n) for k in members if rng.random() < 0.5]
    existing = np.array([e for e in ring + cross if keep[e[0]] and keep[e[1]]], dtype=np.int64)
    degree = np.bincount(existing.reshape(-1), minlength=n).astype(np.int64)
    want = _repair_loop(members, degree, existing, geo, 2.5 * 30.0, 8)
    deg = degree.copy()
    got = _repair(members, deg, existing, geo, 2.5 * 30.0, 8)
    assert {tuple(sorted(map(int, e))) for e in got} == want
    assert len(want) > 5
    assert len(got) == len(want)  # no pair twice
    np.testing.assert_array_equal(deg, degree + np.bincount(np.asarray(got).reshape(-1), minlength=n))
    assert deg.max() <= 4
    # one round only: a subset of the eight rounds' links
    one = _repair_loop(members, degree, existing, geo, 2.5 * 30.0, 1)
    assert {tuple(sorted(map(int, e))) for e in _repair(members, degree.copy(), existing, geo, 75.0, 1)} == one
    assert one <= want


def test_a_run_of_missing_planes_wider_than_the_gap_factor_is_not_bridged() -> None:
    """40 planes 9 deg apart with planes 10 and 11 gone: planes 9 and 12 are 27 deg = 3 spacings apart.  By the
    docstring's rule (no link across a RAAN gap above ``max_plane_gap_factor`` times the median spacing, also
    not in the repair) the default factor 2.5 links nothing across the hole, 3.5 does, and 2.9 / 3.1 fall on
    either side of it."""
    shell = Shell(550.0, 53.0, 40, 10, phasing=1)
    epoch = datetime(2026, 2, 23, tzinfo=UTC)
    c = from_shells("hole", [shell], epoch)
    kept = [k for k in range(c.size) if k // 10 not in (10, 11)]
    sats = [c.satrecs[k] for k in kept]
    orig_plane = np.array([k // 10 for k in kept])

    def across(**kw: float) -> int:
        g = infer_isls_at(sats, epoch + timedelta(minutes=10), **kw)
        pa, pb = orig_plane[g.isls[:, 0]], orig_plane[g.isls[:, 1]]
        return int(np.count_nonzero(((pa == 9) & (pb == 12)) | ((pa == 12) & (pb == 9))))

    assert across() == 0
    assert across(max_plane_gap_factor=2.9) == 0
    assert across(max_plane_gap_factor=3.1) == 10
    assert across(max_plane_gap_factor=3.5) == 10


def test_unassigned_satellites_are_counted_by_reason() -> None:
    """A 12 x 12 shell plus: two NaN states, an exactly parabolic state (2/r = v^2/mu to the bit: a = inf, so its
    mean altitude is not finite: "without a position"), three eccentric ones (e = 0.1), four at 300 km and two
    lone ones at 1,500 km: each counted once under its reason, as the docstring's list of reasons says."""
    epoch = datetime(2026, 2, 23, tzinfo=UTC)
    c = from_shells("s", [Shell(550.0, 53.0, 12, 12, phasing=1)], epoch)
    from leonet.orbits.planes import sgp4_state_km

    r, v = sgp4_state_km(c.satrecs, epoch)
    extra_r, extra_v = [], []
    for _ in range(2):
        extra_r.append([np.nan] * 3)
        extra_v.append([np.nan] * 3)
    x = 6800.0
    sp = math.sqrt(2.0 * MU / x)
    extra_r.append([x, 0.0, 0.0])
    extra_v.append([0.0, sp * math.cos(0.9), sp * math.sin(0.9)])
    for k in range(3):  # e = 0.1 at perigee: v = sqrt(mu (1 + e) / r_p)
        rp = 7000.0 + 10.0 * k
        extra_r.append([rp, 0.0, 0.0])
        extra_v.append([0.0, math.sqrt(MU * 1.1 / rp), 0.0])
    for k in range(4):
        rr = WGS72_A_KM + 300.0
        ang = 0.5 * k
        extra_r.append([rr * math.cos(ang), rr * math.sin(ang), 0.0])
        extra_v.append([-math.sqrt(MU / rr) * math.sin(ang), math.sqrt(MU / rr) * math.cos(ang), 0.0])
    for k in range(2):
        rr = WGS72_A_KM + 1500.0 + 300.0 * k
        extra_r.append([0.0, 0.0, rr])
        extra_v.append([math.sqrt(MU / rr), 0.0, 0.0])
    rr_all = np.vstack([r, np.array(extra_r)])
    vv_all = np.vstack([v, np.array(extra_v)])
    el = orbital_elements(rr_all[146:147], vv_all[146:147])
    assert np.isinf(el.semi_major_axis_km[0]) and np.isfinite(el.mean_inclination_deg[0])
    g = infer_isls(rr_all, vv_all)
    assert g.unassigned == {
        "without a position": 3,
        "with eccentricity > 0.005": 3,
        "below 400 km": 4,
        "in no populous shell": 2,
    }
    assert (g.shell[144:] == -1).all() and (g.degree[144:] == 0).all() and (g.shell[:144] == 0).all()


def test_the_grazing_limit_is_hypatias() -> None:
    """The longest ISL of a shell is min(max_isl_km, 2 sqrt(r^2 - (R + 80 km)^2)) with r the shell's orbit radius
    (R + its mean altitude, R = 6,378.135 km): 5,016.6 km at 550 km (Kassing et al. 2020), so below the default
    5,400 km; with max_isl_km = 4,000 km the cap wins."""
    epoch = datetime(2026, 2, 23, tzinfo=UTC)
    c = from_shells("s", [Shell(550.0, 53.0, 12, 12, phasing=1)], epoch)
    for cap in (5400.0, 4000.0):
        g = infer_isls_at(c.satrecs, epoch, max_isl_km=cap)
        sh = g.shells[0]
        grazing = 2.0 * math.sqrt((6378.135 + sh.altitude_km) ** 2 - (6378.135 + 80.0) ** 2)
        assert sh.max_isl_km == pytest.approx(min(cap, grazing), abs=1e-9)
    assert 5010.0 < grazing < 5025.0


def test_two_planes_are_linked_once_then_repaired() -> None:
    """Two planes 180 deg of RAAN apart at 5 deg inclination (nearly one orbit, both RAAN gaps equal): the
    cross-plane matching runs once ("two planes: link them once"), so without repair every satellite has one
    cross-plane ISL; the repair then gives most of them their fourth (a 2-plane shell is repaired too)."""
    epoch = datetime(2026, 2, 23, tzinfo=UTC)
    c = from_shells("two", [Shell(550.0, 5.0, 2, 20, phasing=1)], epoch)
    plain = infer_isls_at(c.satrecs, epoch, repair_rounds=0)
    assert [s.planes for s in plain.shells] == [2]
    pl = plain.plane
    cross = plain.isls[pl[plain.isls[:, 0]] != pl[plain.isls[:, 1]]]
    per_sat = np.bincount(cross.reshape(-1), minlength=40)
    assert per_sat.max() == 1 and len(cross) >= 15
    full = infer_isls_at(c.satrecs, epoch)
    assert len(full.isls) > len(plain.isls)
    assert full.degree.max() == 4 and (full.degree == 4).sum() > 30
