"""``leonet.step``'s fault masks and a faulted snapshot against their docstrings' rules, written out here.

``fault_masks``: failed satellites and ISLs as the schedule says (``FaultSchedule.failed_sats`` /
``failed_isls``, tested in tests/test_faults_schedule.py), a ground node without links when it is down or when it
is a terminal blocked by jamming, the capacity fraction 1 except on jammed terminals, and the blocking fault per
terminal (-1: none), composed here one node and one snapshot at a time; ``FaultMasks.at(k)`` is snapshot ``k``
alone; ``with_faults`` the policy's mask less the nodes taken off.  ``snapshot``: a failed satellite takes part
in no link, a failed ISL is no link, and each ground link records its node's capacity fraction; reference: the
ISLs and ground links recomputed by brute force from the state's own positions (ISL length with NumPy, every
ground node x satellite elevation ``asin(d . up / |d|)`` against the node's mask).  The faults: one jamming
zone that blocks a terminal, one that degrades another to 25%, a ground station down, 20% of the satellites and
20% of the ISLs failed, in windows that start and end inside the run.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from leonet import assembly, step
from leonet.scenario import parse_scenario

SCENARIO = """epoch = 2026-02-05T08:00:00Z
pairs = [["IN-ZONE", "PoP"], ["DEGRADED", "PoP"], ["FREE", "PoP"]]
[time]
end_s = 40
step_s = 10
[[networks]]
name = "n"
constellation = { preset = "starlink-550" }
[ground]
cities = 0
[[ground.stations]]
name = 'IN-ZONE'
lat_deg = 48.0159
lon_deg = 37.8028
kind = 'terminal'
[[ground.stations]]
name = 'DEGRADED'
lat_deg = 50.45
lon_deg = 30.52
kind = 'terminal'
[[ground.stations]]
name = 'FREE'
lat_deg = 52.52
lon_deg = 13.40
kind = 'terminal'
[[ground.stations]]
name = 'PoP'
lat_deg = 52.23
lon_deg = 21.01
kind = 'station'
[[faults]]
name = 'jam-east'
kind = 'jamming'
polygon = [[36.5, 47.0], [39.5, 47.0], [39.5, 49.0], [36.5, 49.0]]
start_s = 10
end_s = 30
[[faults]]
name = 'jam-kyiv'
kind = 'jamming'
polygon = [[29.5, 50.0], [31.5, 50.0], [31.5, 51.0], [29.5, 51.0]]
capacity_fraction = 0.25
start_s = 10
[[faults]]
kind = 'ground'
names = ['PoP']
start_s = 20
end_s = 40
[[faults]]
kind = 'satellite'
fraction = 0.2
seed = 3
start_s = 10
[[faults]]
kind = 'isl'
fraction = 0.2
seed = 4
start_s = 10
"""


@cache
def _world() -> assembly.World:
    return assembly.assemble(parse_scenario(SCENARIO))


def test_fault_masks_follow_the_rule_node_by_node() -> None:
    w = _world()
    net, fs = w.networks[0], w.faults_of(0)
    assert fs is not None
    times = w.times_s
    gst = w.ground.at(times)
    m = step.fault_masks(w, 0, times, gst)
    assert m is not None
    T, G = len(times), w.ground.size
    terms = [int(x) for x in w.terminals]
    jam = fs.jammed(times, gst.lat_deg[:, terms], gst.lon_deg[:, terms])
    down = fs.ground_node_down(times)
    off = np.zeros((T, G), dtype=bool)
    cap = np.ones((T, G))
    fault = np.full((T, len(terms)), -1)
    for k in range(T):
        for g in range(G):
            off[k, g] = bool(down[k, g])
            if g in terms:
                j = terms.index(g)
                off[k, g] = off[k, g] or bool(jam.blocked[k, j])
                cap[k, g] = float(jam.capacity_fraction[k, j])
                fault[k, j] = int(jam.fault[k, j]) if jam.blocked[k, j] else -1
    np.testing.assert_array_equal(m.sats, fs.failed_sats(times))
    np.testing.assert_array_equal(m.isls, fs.failed_isls(times, net.isl))
    np.testing.assert_array_equal(m.ground_off, off)
    np.testing.assert_array_equal(m.capacity, cap)
    np.testing.assert_array_equal(m.jam_fault, fault)
    # the cases the rule distinguishes all occur: blocked but not down, down, degraded, neither
    names = w.ground.names
    i_zone, i_deg, i_pop = (names.index(n) for n in ("IN-ZONE", "DEGRADED", "PoP"))
    assert off[:, i_zone].any() and not down[:, i_zone].any() and off[:, i_pop].any()
    assert (cap[:, i_deg] == 0.25).any() and (fault == -1).any() and (fault >= 0).any()
    assert m.sats.any() and m.isls.any() and not m.sats[0].any()
    for k in range(T):
        one = m.at(k)
        for a, b in zip(
            (one.sats, one.isls, one.ground_off, one.capacity, one.jam_fault),
            (m.sats, m.isls, m.ground_off, m.capacity, m.jam_fault),
            strict=True,
        ):
            np.testing.assert_array_equal(a, b[k : k + 1])
    # with_faults: the policy's mask less the nodes taken off; None and None: every node may link
    allowed = np.ones((T, G), dtype=bool)
    allowed[:, names.index("FREE")] = False
    np.testing.assert_array_equal(step.with_faults(None, m), ~off)
    np.testing.assert_array_equal(step.with_faults(allowed, m), allowed & ~off)
    assert step.with_faults(allowed, None) is allowed and step.with_faults(None, None) is None


def test_a_faulted_snapshot_has_the_brute_force_links() -> None:
    w = _world()
    net, fs = w.networks[0], w.faults_of(0)
    assert fs is not None
    names = w.ground.names
    for t in (0.0, 20.0, 25.0):
        s = step.state_at(w, 0, t)
        snap, fm = s.snapshot, s.faults
        assert fm is not None
        failed = fs.failed_sats([t])[0]
        bad_isl = fs.failed_isls([t], net.isl)[0]
        pos = s.sat_r_km
        # ISLs: both ends alive and placed, the link itself not failed (no length cap in this scenario)
        assert net.spec.max_isl_km is None
        ok = ~failed[net.isl[:, 0]] & ~failed[net.isl[:, 1]] & ~bad_isl
        ok &= np.isfinite(pos[net.isl]).all(axis=(1, 2))
        assert {tuple(p) for p in snap.isl.tolist()} == {tuple(p) for p in net.isl[ok].tolist()}
        np.testing.assert_allclose(
            snap.isl_km, np.linalg.norm(pos[snap.isl[:, 0]] - pos[snap.isl[:, 1]], axis=1), rtol=1e-12
        )
        # ground links: every node not taken off x every live satellite, by elevation
        r, up = s.ground.ecef_km[0], s.ground.up[0]
        mask = step.min_elevations(net, w.ground)
        off = fm.ground_off[0]
        want = set()
        for g in range(w.ground.size):
            if off[g]:
                continue
            d = pos - r[g]
            el = np.degrees(np.arcsin(d @ up[g] / np.linalg.norm(d, axis=1)))
            for j in np.flatnonzero(np.isfinite(el) & (el >= mask[g]) & ~failed):
                want.add((g, int(j)))
        got = set(zip(snap.gsl.ground.tolist(), snap.gsl.sat.tolist(), strict=True))
        assert got == want and want, t
        assert {g for g, _ in got} >= {names.index("DEGRADED")}
        frac = fm.capacity[0]
        if (frac < 1.0).any():
            assert snap.gsl_capacity is not None
            np.testing.assert_array_equal(snap.gsl_capacity, frac[snap.gsl.ground])
            assert (snap.gsl_capacity == 0.25).any()
        else:
            assert snap.gsl_capacity is None
        if t > 0:  # inside the windows: the faults take something away
            assert failed.any() and bad_isl.any()
            assert names.index("IN-ZONE") not in {g for g, _ in got}  # jammed from 10 to 30 s
