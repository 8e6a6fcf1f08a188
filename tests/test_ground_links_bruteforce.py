"""Ground links on mixed altitudes (350 km to 1,200 km) and mixed elevation masks, against brute force.

The k-d tree search in ``topology.ground_links`` needs a search radius that covers the longest possible link: the
slant range at the *smallest* mask to the *highest* satellite.  A radius taken from a typical satellite (the
mean radius, say) still finds every link of a one-altitude shell, so this test mixes a 350 km and a 1,200 km
population (and satellites in between) with masks from 5 deg to 60 deg.

Reference: every ground point against every satellite in NumPy, with our own WGS-84 geodetic -> ECEF formula
(NIMA TR8350.2 eq. 4-14, not PROJ) and the ellipsoid normal as "up"; elevation = asin(d . up / |d|).
"""

from __future__ import annotations

import numpy as np
import pytest

from leonet.constants import WGS84_A_KM, WGS84_F
from leonet.topology import ground_links

E2 = WGS84_F * (2.0 - WGS84_F)


def _ecef_km(lat_deg: np.ndarray, lon_deg: np.ndarray, alt_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Geodetic -> ECEF (km) and the unit ellipsoid normal, by the textbook formula."""
    la, lo = np.radians(lat_deg), np.radians(lon_deg)
    n = WGS84_A_KM / np.sqrt(1.0 - E2 * np.sin(la) ** 2)
    h = alt_m / 1000.0
    r = np.stack(
        [(n + h) * np.cos(la) * np.cos(lo), (n + h) * np.cos(la) * np.sin(lo), (n * (1.0 - E2) + h) * np.sin(la)],
        axis=1,
    )
    up = np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=1)
    return r, up


def _mixed_sats(rng: np.random.Generator) -> np.ndarray:
    """Satellites uniformly over the sphere: 40% at 350 km, 40% at 1,200 km, 20% in between."""
    n = 5000
    v = rng.normal(size=(n, 3))
    v /= np.linalg.norm(v, axis=1)[:, None]
    alt = np.where(rng.uniform(size=n) < 0.5, 350.0, 1200.0)
    mid = rng.uniform(size=n) < 0.2
    alt[mid] = rng.uniform(350.0, 1200.0, mid.sum())
    return v * (6371.0 + alt)[:, None]


def _brute(sat, g_r, g_up, min_el, max_range, allowed):  # type: ignore[no-untyped-def]
    d = sat[None, :, :] - g_r[:, None, :]
    dist = np.linalg.norm(d, axis=2)
    if max_range is None:
        with np.errstate(invalid="ignore"):
            el = np.degrees(np.arcsin(np.einsum("gsk,gk->gs", d, g_up) / dist))
        ok = el >= min_el[:, None]
    else:
        ok = dist <= max_range
    ok &= np.isfinite(dist)
    if allowed is not None:
        ok &= allowed[:, None]
    gi, si = np.nonzero(ok)
    return {(int(a), int(b)): float(dist[a, b]) for a, b in zip(gi, si, strict=True)}


@pytest.mark.parametrize("seed", [0, 1])
def test_mixed_altitudes_and_masks_equal_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    sat = _mixed_sats(rng)
    sat[rng.uniform(size=len(sat)) < 0.02] = np.nan  # undecodable satellites: no link
    G = 400
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, G)))
    lon = rng.uniform(-180, 180, G)
    alt = rng.uniform(-400, 5000, G)
    g_r, g_up = _ecef_km(lat, lon, alt)
    # mixed masks: the low ones reach the 1,200 km satellites farthest away
    min_el = rng.choice([5.0, 10.0, 25.0, 40.0, 60.0], G) + rng.uniform(-1, 1, G)
    allowed = rng.uniform(size=G) > 0.1
    for max_range, allow in ((None, None), (None, allowed), (2900.0, None), (1089.7, allowed)):
        got = ground_links(sat, g_r, g_up, min_el, max_range, allow)
        ours = {(int(a), int(b)): float(c) for a, b, c in zip(got.ground, got.sat, got.length_km, strict=True)}
        ref = _brute(sat, g_r, g_up, min_el, max_range, allow)
        assert len(ours) == len(got.ground), "duplicate ground link"
        missing, extra = ref.keys() - ours.keys(), ours.keys() - ref.keys()
        assert not missing and not extra, f"{len(missing)} links missing, {len(extra)} extra of {len(ref)}"
        assert max(abs(ours[k] - ref[k]) for k in ref) < 1e-9
        assert np.array_equal(np.lexsort((got.sat, got.ground)), np.arange(len(got.ground)))
        if max_range is None:
            # the test is only worth something if far, high, low-elevation links are among them
            far = [k for k in ref if ref[k] > 2500.0]
            assert len(far) > 50


def test_links_at_the_mask_itself_are_kept() -> None:
    """A satellite exactly at the mask elevation is linked (``>=``), one just below is not, for masks of 5 to
    60 deg and satellites at 350 and 1,200 km: the boundary on both sides."""
    lat, lon = np.array([0.0]), np.array([0.0])
    g_r, g_up = _ecef_km(lat, lon, np.array([0.0]))
    east = np.array([0.0, 1.0, 0.0])
    for mask in (5.0, 25.0, 60.0):
        for alt_km in (350.0, 1200.0):
            sats = []
            for de in (+1e-7, -1e-7):
                e = np.radians(mask + de)
                direction = np.cos(e) * east + np.sin(e) * g_up[0]
                # the slant range to a sphere of radius |g| + alt along ``direction``
                b = float(direction @ g_r[0])
                c = float(g_r[0] @ g_r[0]) - (np.linalg.norm(g_r[0]) + alt_km) ** 2
                rho = -b + np.sqrt(b * b - c)
                sats.append(g_r[0] + rho * direction)
            got = ground_links(np.array(sats), g_r, g_up, np.array([mask]))
            assert got.sat.tolist() == [0], (mask, alt_km)


def test_one_satellite_one_ground_node_and_empty_sets() -> None:
    """The smallest inputs: one satellite overhead of one ground node is a link (both modes); no valid satellite,
    no allowed node, or no satellite in view give no links, with the right empty types."""
    g_r, g_up = _ecef_km(np.array([10.0, -35.0]), np.array([20.0, 140.0]), np.array([0.0, 0.0]))
    over = g_r[:1] + 550.0 * g_up[:1]
    one = ground_links(over, g_r[:1], g_up[:1], np.array([25.0]))
    assert one.ground.tolist() == [0] and one.sat.tolist() == [0] and one.length_km[0] == pytest.approx(550.0)
    one = ground_links(over, g_r[:1], g_up[:1], np.array([25.0]), max_range_km=600.0)
    assert one.ground.tolist() == [0] and one.sat.tolist() == [0]
    both = ground_links(over, g_r, g_up, np.array([25.0, 25.0]))  # the second node is on the other side
    assert both.ground.tolist() == [0] and both.sat.tolist() == [0]
    two_sats = np.concatenate([over, g_r[1:] + 700.0 * g_up[1:]])
    got = ground_links(two_sats, g_r, g_up, np.array([25.0, 25.0]))
    assert got.ground.tolist() == [0, 1] and got.sat.tolist() == [0, 1]
    for sats, allowed in ((np.full((1, 3), np.nan), None), (over, np.array([False, False]))):
        empty = ground_links(sats, g_r, g_up, np.array([25.0, 25.0]), None, allowed)
        assert len(empty.ground) == len(empty.sat) == len(empty.length_km) == 0
        assert empty.ground.dtype == np.int32 and empty.sat.dtype == np.int32 and empty.length_km.dtype == np.float64
    only_second = ground_links(two_sats, g_r, g_up, np.array([25.0, 25.0]), None, np.array([False, True]))
    assert only_second.ground.tolist() == [1] and only_second.sat.tolist() == [1]
