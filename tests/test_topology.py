"""Topology: +Grid inter-satellite links and ground-satellite links.

References: the +Grid rule (Bhattacherjee & Singla 2019, CoNEXT; Hypatia's ``generate_plus_grid_isls``, Kassing et
al. 2020, IMC): each satellite links to the next and previous slot of its plane and to the same slot of the two
adjacent planes; Walker's symmetry (Walker 1984) for the seam of a delta pattern; a brute-force all-pairs numpy
computation (every ground point against every satellite) for the ground links.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import numpy as np
import pytest

from conftest import shared_file
from leonet.assembly import assemble_network, ground_from_spec
from leonet.geodesy import geodetic_to_ecef_km, up_unit
from leonet.orbits.constellation import Grid, from_shells
from leonet.orbits.propagate import positions_itrf_km
from leonet.orbits.shells import PRESETS
from leonet.scenario import parse_scenario
from leonet.step import snapshot
from leonet.timebase import julian_date
from leonet.topology import ground_links, isl_lengths_km, plus_grid_isls

EPOCH = datetime(2026, 2, 23, tzinfo=UTC)
DELTA_PRESETS = sorted(n for n, shells in PRESETS.items() if all(s.pattern == "delta" for s in shells))


def _plane_slot(grids: tuple[Grid, ...], n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shell index, plane and slot of each of ``n`` satellites, from the grids."""
    shell = np.full(n, -1)
    plane = np.full(n, -1)
    slot = np.full(n, -1)
    for k, g in enumerate(grids):
        idx = np.arange(g.planes * g.sats_per_plane)
        shell[g.first + idx] = k
        plane[g.first + idx] = idx // g.sats_per_plane
        slot[g.first + idx] = idx % g.sats_per_plane
    return shell, plane, slot


def _check_plus_grid(isl: np.ndarray, grids: tuple[Grid, ...], n: int) -> dict[int, int]:
    """Structural checks shared by every +Grid shell; returns the degree histogram."""
    assert isl.ndim == 2 and isl.shape[1] == 2
    assert (isl[:, 0] != isl[:, 1]).all(), "self-loop"
    assert (isl[:, 0] < isl[:, 1]).all(), "pairs are stored (low, high)"
    assert len({(int(a), int(b)) for a, b in isl}) == len(isl), "duplicate ISL"
    assert isl.min() >= 0 and isl.max() < n
    shell, plane, slot = _plane_slot(grids, n)
    a, b = isl[:, 0], isl[:, 1]
    assert (shell[a] == shell[b]).all(), "ISL between shells"
    same_plane = plane[a] == plane[b]
    for k, g in enumerate(grids):
        m = shell[a] == k
        P, S = g.planes, g.sats_per_plane
        # in-plane: slots differ by one (mod S)
        ds = (slot[b] - slot[a]) % S
        ip = m & same_plane
        assert ((ds[ip] == 1) | (ds[ip] == S - 1)).all()
        # cross-plane: adjacent planes (mod P), the same slot, or slot + seam_shift across the seam
        cp = m & ~same_plane
        dp = (plane[b] - plane[a]) % P
        assert ((dp[cp] == 1) | (dp[cp] == P - 1)).all()
        lo_plane = np.where(dp == 1, a, b)  # the satellite in the lower plane of the pair (mod P)
        hi_plane = np.where(dp == 1, b, a)
        seam = cp & (plane[lo_plane] == P - 1) & (plane[hi_plane] == 0)
        assert (slot[hi_plane][cp & ~seam] == slot[lo_plane][cp & ~seam]).all()
        assert (slot[hi_plane][seam] == (slot[lo_plane][seam] + g.seam_shift) % S).all()
        if g.wrap:
            assert seam.sum() == S
        else:
            assert seam.sum() == 0
    # every satellite: exactly 2 in-plane neighbours (S >= 3)
    in_plane_deg = np.bincount(isl[same_plane].ravel(), minlength=n)
    for g in grids:
        if g.sats_per_plane >= 3:
            assert (in_plane_deg[g.first : g.first + g.planes * g.sats_per_plane] == 2).all()
    return dict(Counter(np.bincount(isl.ravel(), minlength=n).tolist()))


@pytest.mark.parametrize("name", DELTA_PRESETS)
def test_plus_grid_delta_presets_have_four_isls(name: str) -> None:
    """Every satellite of a Walker-delta preset's +Grid has exactly four ISLs: 2 in its plane, 1 in each
    adjacent plane; no self-loops, no duplicates; 2 x satellites ISLs in all."""
    const = from_shells(name, PRESETS[name], EPOCH)
    isl = plus_grid_isls(const.grids)
    hist = _check_plus_grid(isl, const.grids, const.size)
    assert hist == {4: const.size}
    assert len(isl) == 2 * const.size


def test_plus_grid_walker_star_seam() -> None:
    """OneWeb (Walker star, 18 x 40): the first and last planes counter-rotate at the seam, so they have no link
    across it: 80 satellites with 3 ISLs (planes 0 and 17), 640 with 4."""
    const = from_shells("oneweb", PRESETS["oneweb"], EPOCH)
    isl = plus_grid_isls(const.grids)
    hist = _check_plus_grid(isl, const.grids, const.size)
    assert hist == {3: 80, 4: 640}
    deg = np.bincount(isl.ravel(), minlength=const.size)
    _, plane, _ = _plane_slot(const.grids, const.size)
    assert set(plane[deg == 3].tolist()) == {0, 17}
    assert len(isl) == 2 * 720 - 40


@pytest.mark.parametrize("name", ["starlink-550", "starlink-gen1", "kuiper"])
def test_seam_links_follow_walker_symmetry(name: str) -> None:
    """Turning a Walker delta shell by 360/P about the pole maps plane p onto plane p+1 (Walker 1984), so the
    length of the cross-plane ISL from satellite (p, s) to the next plane depends only on the argument of latitude
    ``u = 360 s/S + 360 F p/T`` of (p, s).  Plane P is plane 0 advanced by F slots, so the seam ISL from (P-1, s)
    must go to (0, s+F): then its length lies on the curve length(u) that the ordinary ISLs sample every 360/T deg
    (within 0.1 % of the linear interpolation; measured <= 0.02 %).  The unshifted link, (P-1, s) -> (0, s), would
    span one more slot: 46-300 % off.  Shells with fewer than 20 planes sample the curve too coarsely and are left
    out."""
    const = from_shells(name, PRESETS[name], EPOCH)
    isl = plus_grid_isls(const.grids)
    jw, jf = julian_date(EPOCH)
    r = positions_itrf_km(const.satrecs, np.array([jw]), np.array([jf + 0.01]))[0]
    length = isl_lengths_km(r, isl)
    shell, plane, slot = _plane_slot(const.grids, const.size)
    for k, (g, sh) in enumerate(zip(const.grids, PRESETS[name], strict=True)):
        P, S, F = g.planes, g.sats_per_plane, sh.phasing
        if P < 20:
            continue  # (the 6- and 4-plane polar shells sample length(u) too coarsely for the interpolation)
        a, b = isl[:, 0], isl[:, 1]
        cross = (shell[a] == k) & (plane[a] != plane[b])
        seam = cross & (plane[a] == 0) & (plane[b] == P - 1)  # stored (low, high): plane-0 end first
        lower = np.where(seam, b, np.where(plane[a] < plane[b], a, b))  # the satellite whose next plane it is
        u = (360.0 * slot[lower] / S + 360.0 * F * plane[lower] / (P * S)) % 360.0
        ordinary = np.flatnonzero(cross & ~seam)
        assert seam.sum() == S
        # the length as a function of u, sampled by the ordinary ISLs (every 360/T deg), linearly interpolated
        order = np.argsort(u[ordinary])
        u_ord, l_ord = u[ordinary][order], length[ordinary][order]
        dev_seam, dev_unshifted = [], []
        for e in np.flatnonzero(seam):
            expect = float(np.interp(u[e], u_ord, l_ord, period=360.0))
            dev_seam.append(abs(length[e] / expect - 1.0))
            # the unshifted alternative, (P-1, s) -> (0, s)
            s_last = slot[b[e]]
            wrong = np.linalg.norm(r[g.first + (P - 1) * S + s_last] - r[g.first + s_last])
            dev_unshifted.append(abs(wrong / expect - 1.0))
        assert max(dev_seam) < 1e-3, (g, max(dev_seam))
        assert max(dev_unshifted) > 0.3, (g, max(dev_unshifted))  # so this test tells the two apart


def _scenario(constellation: str, extra: str = "") -> object:
    return parse_scenario(
        f"""
epoch = 2000-01-01T00:00:00Z
[[networks]]
name = "n"
constellation = {constellation}
{extra}
[ground]
cities = 100
"""
    )


def test_hypatia_tle_grid_gives_3168_isls() -> None:
    """The Hypatia starlink-550 TLE file with ``grid = [72, 22]``: +Grid over the file order (plane = k // 22),
    no seam shift (Hypatia's isl_shift = 0): 3,168 ISLs, four per satellite, none longer than 5,016.6 km at
    t = 0..200 s."""
    path = shared_file("tle/hypatia_starlink_550.tle")
    sc = _scenario(f'{{ tle = "{path}", grid = [72, 22] }}', "max_isl_km = 5016.6\nmax_ground_link_km = 1089.7")
    net = assemble_network(sc.networks[0], sc)  # type: ignore[attr-defined]
    assert net.n_sats == 1584
    assert len(net.isl) == 3168
    assert net.constellation.grids == (Grid(0, 72, 22, wrap=True, seam_shift=0),)
    hist = _check_plus_grid(net.isl, net.constellation.grids, 1584)
    assert hist == {4: 1584}
    # Hypatia's own rule, written out: sat i links to (i + 1) in its plane and to the same slot of the next plane
    ref = set()
    for i in range(1584):
        p, s = divmod(i, 22)
        for j in (p * 22 + (s + 1) % 22, ((p + 1) % 72) * 22 + s):
            ref.add((min(i, j), max(i, j)))
    assert ref == {(int(a), int(b)) for a, b in net.isl}
    jw, jf = julian_date(datetime(2000, 1, 1, tzinfo=UTC))
    r = positions_itrf_km(net.satrecs, np.full(5, jw), jf + np.arange(0, 201, 50) / 86400.0)
    for k in range(5):
        assert isl_lengths_km(r[k], net.isl).max() < 5016.6


# ---------------------------------------------------------------------------------------------------------------
# ground links against brute force
# ---------------------------------------------------------------------------------------------------------------


def _ground_points(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    lat[: n // 5] = rng.uniform(60, 90, n // 5) * rng.choice([-1, 1], n // 5)  # many high latitudes
    lon = rng.uniform(-180, 180, n)
    alt = rng.uniform(-500, 6000, n)
    alt[-5:] = [0.0, 30_000.0, 100_000.0, -500.0, 8848.0]  # a balloon, the top of the allowed range
    lat[-3:] = [90.0, -90.0, 0.0]
    return lat, lon, alt


def _sat_positions(name: str, t_days: float) -> np.ndarray:
    const = from_shells(name, PRESETS[name], EPOCH)
    jw, jf = julian_date(EPOCH)
    return positions_itrf_km(const.satrecs, np.array([jw]), np.array([jf + t_days]))[0]


def _brute_force(sat, g_r, g_up, min_el, max_range, allowed):  # type: ignore[no-untyped-def]
    d = sat[None, :, :] - g_r[:, None, :]  # (G, S, 3)
    dist = np.linalg.norm(d, axis=2)
    if max_range is not None:
        ok = dist <= max_range
    else:
        el = np.degrees(np.arcsin(np.einsum("gsk,gk->gs", d, g_up) / dist))
        ok = el >= min_el[:, None]
    ok &= np.isfinite(dist)
    if allowed is not None:
        ok &= allowed[:, None]
    gi, si = np.nonzero(ok)
    return gi, si, dist[gi, si]


@pytest.mark.parametrize(
    ("name", "t_days"), [("starlink-550", 0.0), ("starlink-gen1", 0.3), ("oneweb", 0.7), ("kuiper", 0.1)]
)
def test_ground_links_equal_brute_force(name: str, t_days: float) -> None:
    """``ground_links`` (k-d tree + elevation filter) finds exactly the links a brute-force all-pairs computation
    finds, with the same lengths: elevation mode with per-node masks 0..60 deg (25 deg for most), max-range mode,
    and with denied nodes (``allowed = False``) that must get no link at all."""
    sat = _sat_positions(name, t_days)
    sat[::97] = np.nan  # satellites SGP4 could not propagate take part in no link
    lat, lon, alt = _ground_points(300, seed=len(name))
    g_r = geodetic_to_ecef_km(lat, lon, alt)
    g_up = up_unit(lat, lon)
    rng = np.random.default_rng(1)
    min_el = np.where(rng.uniform(size=len(lat)) < 0.5, 25.0, rng.uniform(0, 60, len(lat)))
    min_el[:3] = [0.0, 0.0, 0.0]
    allowed = rng.uniform(size=len(lat)) > 0.2
    short_range = 1089.7 if name != "oneweb" else 1800.0  # (OneWeb flies at 1,200 km)
    for max_range, allow in ((None, None), (None, allowed), (short_range, None), (2500.0, allowed)):
        got = ground_links(sat, g_r, g_up, min_el, max_range, allow)
        gi, si, dist = _brute_force(sat, g_r, g_up, min_el, max_range, allow)
        assert len(gi) > 100
        ours = {(int(a), int(b)): float(c) for a, b, c in zip(got.ground, got.sat, got.length_km, strict=True)}
        ref = {(int(a), int(b)): float(c) for a, b, c in zip(gi, si, dist, strict=True)}
        assert len(ours) == len(got.ground), "duplicate ground link"
        assert ours.keys() == ref.keys(), (len(ours.keys() - ref.keys()), len(ref.keys() - ours.keys()))
        assert max(abs(ours[k] - ref[k]) for k in ref) < 1e-9
        # sorted by (ground, satellite)
        order = np.lexsort((got.sat, got.ground))
        assert np.array_equal(order, np.arange(len(order)))
        if allow is not None:
            assert not np.isin(got.ground, np.flatnonzero(~allow)).any()


def test_ground_links_edge_cases() -> None:
    sat = _sat_positions("starlink-550", 0.0)
    lat, lon, alt = _ground_points(20, seed=3)
    g_r, g_up = geodetic_to_ecef_km(lat, lon, alt), up_unit(lat, lon)
    el = np.full(20, 25.0)
    none_allowed = ground_links(sat, g_r, g_up, el, None, np.zeros(20, dtype=bool))
    assert len(none_allowed.ground) == 0
    all_nan = ground_links(np.full_like(sat, np.nan), g_r, g_up, el)
    assert len(all_nan.ground) == 0
    # a mask of 89.9 deg: (almost) nobody; brute force agrees
    got = ground_links(sat, g_r, g_up, np.full(20, 89.9))
    gi, _si, _ = _brute_force(sat, g_r, g_up, np.full(20, 89.9), None, None)
    assert len(got.ground) == len(gi)


def test_snapshot_drops_isls_longer_than_max() -> None:
    """``max_isl_km`` removes exactly the ISLs longer than it (step.snapshot)."""
    r = _sat_positions("oneweb", 0.0)
    full = isl_lengths_km(r, plus_grid_isls(from_shells("oneweb", PRESETS["oneweb"], EPOCH).grids))
    limit = float(np.round(np.median(full), 1))
    sc = parse_scenario(
        f"""
epoch = 2026-02-23T00:00:00Z
[[networks]]
name = "n"
constellation = {{ preset = "oneweb" }}
max_isl_km = {limit}
[ground]
cities = 5
"""
    )
    net = assemble_network(sc.networks[0], sc)  # type: ignore[attr-defined]
    g = ground_from_spec(sc.ground)  # type: ignore[attr-defined]
    snap = snapshot(net, g, 0.0, r, g.ecef_km, g.up, np.full(g.size, 25.0))
    assert 0 < len(snap.isl) < len(net.isl)
    assert len(snap.isl) == int((full <= limit).sum())
    assert (snap.isl_km <= limit).all()
    assert np.allclose(snap.isl_km, isl_lengths_km(r, snap.isl))


def test_an_isl_exactly_at_max_isl_km_is_kept() -> None:
    """Both sides of the cap: "longer than" ``max_isl_km`` is dropped, an ISL exactly as long is kept (the cap
    set to one ISL's length, then to the next float below it)."""
    r = _sat_positions("oneweb", 0.0)
    full = isl_lengths_km(r, plus_grid_isls(from_shells("oneweb", PRESETS["oneweb"], EPOCH).grids))
    exact = float(np.sort(full)[len(full) // 3])
    for limit, kept in ((exact, True), (float(np.nextafter(exact, 0.0)), False)):
        sc = parse_scenario(
            f"""
epoch = 2026-02-23T00:00:00Z
[[networks]]
name = "n"
constellation = {{ preset = "oneweb" }}
max_isl_km = {limit!r}
[ground]
cities = 5
"""
        )
        net = assemble_network(sc.networks[0], sc)  # type: ignore[attr-defined]
        g = ground_from_spec(sc.ground)  # type: ignore[attr-defined]
        snap = snapshot(net, g, 0.0, r, g.ecef_km, g.up, np.full(g.size, 25.0))
        assert (exact in snap.isl_km) is kept, limit
        assert len(snap.isl) == int((full <= limit).sum())
