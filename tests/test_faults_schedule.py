"""``leonet.faults`` on its own (``compile_faults`` and ``FaultSchedule``), without a scenario run: the rules of
the module docstring checked one by one at their edges (found by mutation testing, docs/testing.md).

References, independent of the module: the window rule ``start_s <= t < end_s`` written out per time; the draw
as ``round half up`` with :mod:`decimal` and ``default_rng(seed).choice`` called here; ISL keys and the
jamming zones by brute force over Python sets and shapely's point-in-polygon (``shapely.contains_xy``); a
point's zone by a plain loop over the zones in scenario order.  ~1 s.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pytest
import shapely

from leonet import faults
from leonet.errors import InputError
from leonet.faults import compile_faults
from leonet.scenario import GroundFault, IslFault, JammingFault, SatelliteFault, StormFault

S = 12
SAT_NAMES = [f"SAT-{i}" for i in range(S)]
GROUND = ["GW-A", "CITY-B", "GW-C", "POP-D", "GW-E", "TERM-F"]
KINDS = ["gateway", "city", "gateway", "pop", "gateway", "terminal"]
ISL = np.array([[i, (i + 1) % S] for i in range(S)] + [[i, (i + 6) % S] for i in range(6)], dtype=np.int32)


def _compile(
    specs: list[object], network: str = "net", alt: np.ndarray | None = None, shells=((0, S),), geoms=None, sites=()
):  # type: ignore[no-untyped-def]
    return compile_faults(
        specs,  # type: ignore[arg-type]
        network,
        SAT_NAMES,
        np.full(S, 550.0) if alt is None else alt,
        list(shells),
        ISL,
        GROUND,
        KINDS,
        geoms or {},
        list(sites),
    )


def _expected_k(fraction: float, n: int) -> int:
    return min(n, int(Decimal(repr(fraction * n)).quantize(Decimal(1), rounding=ROUND_HALF_UP)))


def _drawn(n: int, fraction: float, seed: int) -> list[int]:
    k = _expected_k(fraction, n)
    return sorted(int(x) for x in np.random.default_rng(seed).choice(n, size=k, replace=False))


def test_a_fault_is_active_from_its_start_until_just_before_its_end() -> None:
    f = SatelliteFault(kind="satellite", ids=[3], start_s=10.0, end_s=20.0)
    g = SatelliteFault(kind="satellite", ids=[5], start_s=15.0)  # no end: for ever
    sch = _compile([f, g])
    t = np.array([0.0, np.nextafter(10.0, 0.0), 10.0, 15.0, np.nextafter(20.0, 0.0), 20.0, 1e9])
    want_f = [(10.0 <= x < 20.0) for x in t]
    want_g = [x >= 15.0 for x in t]
    assert sch.active(t).tolist() == [list(p) for p in zip(want_f, want_g, strict=True)]
    failed = sch.failed_sats(t)
    assert failed.shape == (len(t), S)
    assert failed[:, 3].tolist() == want_f and failed[:, 5].tolist() == want_g
    others = np.delete(failed, [3, 5], axis=1)
    assert not others.any()
    assert sch.active(12.0).shape == (1, 2)  # a scalar time is one row


def test_overlapping_satellite_faults_fail_the_union_while_any_is_active() -> None:
    a = SatelliteFault(kind="satellite", ids=[1, "SAT-2"], start_s=0.0, end_s=10.0)
    b = SatelliteFault(kind="satellite", ids=[2, 7], start_s=5.0, end_s=15.0)
    sch = _compile([a, b])
    got = sch.failed_sats([0.0, 5.0, 10.0, 15.0])
    want = [{1, 2}, {1, 2, 7}, {2, 7}, set()]
    assert [set(np.flatnonzero(r).tolist()) for r in got] == want


def test_a_schedule_without_faults_of_a_kind_fails_nothing_of_that_kind() -> None:
    sch = _compile([])
    assert sch.empty and not _compile([SatelliteFault(kind="satellite", ids=[0])]).empty
    t = [0.0, 1.0, 2.0]
    assert sch.failed_sats(t).shape == (3, S) and not sch.failed_sats(t).any()
    assert sch.ground_node_down(t).shape == (3, len(GROUND)) and not sch.ground_node_down(t).any()
    assert sch.failed_isls(t, ISL).shape == (3, len(ISL)) and not sch.failed_isls(t, ISL).any()
    jam = sch.jammed(t, np.zeros(4), np.zeros(4))
    assert jam.capacity_fraction.shape == (3, 4) and (jam.capacity_fraction == 1.0).all()
    assert (jam.fault == -1).all() and not jam.blocked.any()
    isl_only = _compile([IslFault(kind="isl", pairs=[[0, 1]])])
    assert isl_only.failed_isls(t, np.empty((0, 2), np.int32)).shape == (3, 0)


@pytest.mark.parametrize(
    ("n", "fraction"), [(5, 0.5), (10, 0.25), (12, 0.125), (7, 1.0), (7, 0.0), (3, 0.5), (12, 0.999)]
)
def test_a_fraction_fails_round_half_up_of_the_items_drawn_with_the_seed(n: int, fraction: float) -> None:
    """0.5 of 5 is 3 (half up; numpy's round would give 2), 0.25 of 10 is 3, 0.125 of 12 is 2 (1.5 up)."""
    alt = np.full(S, 550.0)
    specs = [
        SatelliteFault(kind="satellite", fraction=fraction, seed=11),
        StormFault(kind="storm", below_km=600.0, fraction=fraction, seed=4, shell=0),
    ]
    sch = _compile(specs, alt=alt, shells=((0, n), (n, S - n)))
    assert np.flatnonzero(sch.sat_mask[0]).tolist() == _drawn(S, fraction, 11)
    assert np.flatnonzero(sch.sat_mask[1]).tolist() == _drawn(n, fraction, 4)  # shell 0 is satellites 0..n-1
    assert len(np.flatnonzero(sch.sat_mask[1])) == _expected_k(fraction, n)


def test_a_storm_fails_satellites_at_or_below_its_altitude_in_its_shell_only() -> None:
    alt = np.array([500.0, 550.0, 550.0000001, 549.9, 540.0, 560.0, 550.0, 400.0, 550.0, 900.0, 300.0, 550.0])
    full = StormFault(kind="storm", below_km=550.0, fraction=1.0)
    sch = _compile([full], alt=alt, shells=((0, 4), (4, 5), (9, 3)))
    assert np.flatnonzero(sch.sat_mask[0]).tolist() == [i for i in range(S) if alt[i] <= 550.0]
    # shell 1 = satellites 4..8: the ones before 4 and from 9 on are left alone, 4 and 8 (its ends) are in
    shell = StormFault(kind="storm", below_km=550.0, fraction=1.0, shell=1)
    sch = _compile([shell], alt=alt, shells=((0, 4), (4, 5), (9, 3)))
    assert np.flatnonzero(sch.sat_mask[0]).tolist() == [4, 6, 7, 8]
    last = StormFault(kind="storm", below_km=1000.0, fraction=1.0, shell=2)
    assert np.flatnonzero(_compile([last], alt=alt, shells=((0, 4), (4, 5), (9, 3))).sat_mask[0]).tolist() == [
        9,
        10,
        11,
    ]
    with pytest.raises(InputError) as e:
        _compile(
            [full, StormFault(kind="storm", below_km=550.0, fraction=1.0, shell=3)],
            alt=alt,
            shells=((0, 4), (4, 5), (9, 3)),
        )
    assert str(e.value).startswith("faults[1].shell: shell 3; expected 0..2")


def test_satellite_ids_at_both_ends_of_the_range_and_past_it() -> None:
    sch = _compile([SatelliteFault(kind="satellite", ids=[0, S - 1, "SAT-4"])])
    assert np.flatnonzero(sch.sat_mask[0]).tolist() == [0, 4, S - 1]
    with pytest.raises(InputError) as e:
        _compile([SatelliteFault(kind="satellite", ids=[0]), SatelliteFault(kind="satellite", ids=[1, S])])
    assert str(e.value).startswith(f"faults[1].ids[1]: satellite id {S}; expected 0..{S - 1}")
    with pytest.raises(InputError) as e:
        _compile([IslFault(kind="isl", pairs=[[0, 1], [2, "SAT-X"]])])
    assert str(e.value).startswith("faults[0].pairs[1][1]: unknown satellite 'SAT-X'")
    with pytest.raises(InputError) as e:
        _compile([IslFault(kind="isl", sats=[S])])
    assert str(e.value).startswith("faults[0].sats[0]: satellite id")


def _isl_reference(pairs: set[frozenset[int]], sats: set[int], links: np.ndarray) -> list[bool]:
    return [frozenset((int(a), int(b))) in pairs or int(a) in sats or int(b) in sats for a, b in links]


def test_failed_laser_links_in_either_orientation_against_sets() -> None:
    pairs = IslFault(kind="isl", pairs=[[3, 2], ["SAT-0", "SAT-11"], [6, 0]], start_s=0.0, end_s=10.0)
    sats = IslFault(kind="isl", sats=[5], start_s=5.0)
    frac = IslFault(kind="isl", fraction=0.25, seed=9)
    sch = _compile([pairs, sats, frac])
    drawn = {frozenset(map(int, ISL[i])) for i in _drawn(len(ISL), 0.25, 9)}
    links = np.concatenate([ISL, ISL[:, ::-1], [[2, 9]]])  # both orientations, and a pair that is no ISL
    got = sch.failed_isls([0.0, 5.0, 10.0], links)
    p = {frozenset((3, 2)), frozenset((0, 11)), frozenset((6, 0))}
    assert got[0].tolist() == _isl_reference(p | drawn, set(), links)
    assert got[1].tolist() == _isl_reference(p | drawn, {5}, links)
    assert got[2].tolist() == _isl_reference(drawn, {5}, links)
    assert len(drawn) == _expected_k(0.25, len(ISL))
    for one in ([[2, 3]], [[5, 9]], [[1, 4]]):  # a single link asked about: failed by a pair, by a satellite, not
        link = np.array(one, dtype=np.int32)
        assert sch.failed_isls([7.0], link).tolist() == [_isl_reference(p | drawn, {5}, link)]


def test_ground_faults_by_name_by_site_and_by_a_fraction_of_the_gateways() -> None:
    named = GroundFault(kind="ground", names=["CITY-B", "POP-Z", "TERM-F"], start_s=0.0, end_s=10.0)
    gw = GroundFault(kind="ground", fraction=0.5, seed=3, start_s=5.0)
    sch = _compile([named, gw], sites=["POP-Z"])
    gateways = [i for i, k in enumerate(KINDS) if k == "gateway"]
    drawn = {gateways[i] for i in _drawn(len(gateways), 0.5, 3)}
    down = sch.ground_node_down([0.0, 5.0, 10.0])
    assert [set(np.flatnonzero(r).tolist()) for r in down] == [{1, 5}, {1, 5} | drawn, drawn]
    assert sch.names_down(0.0) == frozenset({"CITY-B", "POP-Z", "TERM-F"})
    assert sch.names_down(7.0) == frozenset({"CITY-B", "POP-Z", "TERM-F"} | {GROUND[i] for i in drawn})
    assert sch.names_down(10.0) == frozenset(GROUND[i] for i in drawn)
    all_gw = _compile([GroundFault(kind="ground", fraction=1.0)])
    assert np.flatnonzero(all_gw.ground_mask[0]).tolist() == gateways
    with pytest.raises(InputError) as e:
        _compile([named, GroundFault(kind="ground", names=["GW-A", "NOWHERE"])], sites=["POP-Z"])
    assert str(e.value).startswith("faults[1].names[1]: unknown ground node 'NOWHERE'")


def test_a_fault_of_another_network_is_never_active_and_one_without_a_network_everywhere() -> None:
    mine = SatelliteFault(kind="satellite", ids=[1], network="net")
    other = SatelliteFault(kind="satellite", ids=[2], network="other")
    every = SatelliteFault(kind="satellite", ids=[3])
    sch = _compile([mine, other, every])
    t = [0.0, 1.0, 1e8]
    assert sch.active(t).tolist() == [[True, False, True]] * 3
    assert [set(np.flatnonzero(r).tolist()) for r in sch.failed_sats(t)] == [{1, 3}] * 3
    assert sch.names == ("faults[0]", "faults[1]", "faults[2]") and sch.kinds == ("satellite",) * 3


def _zone_reference(
    zones: list[tuple[shapely.Geometry, float, int, float, float]], t: float, lon: np.ndarray, lat: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per point: the smallest fraction of the active zones holding it (1 outside), and the first zone (scenario
    order) with that fraction (-1: none)."""
    cap = np.ones(len(lon))
    which = np.full(len(lon), -1)
    for p in range(len(lon)):
        for geom, frac, idx, start, end in zones:
            inside = start <= t < end and bool(shapely.contains_xy(geom, lon[p], lat[p]))
            if inside and (which[p] < 0 or frac < cap[p]):
                cap[p] = frac
                which[p] = idx
    return cap, which


@pytest.mark.parametrize("seed", range(3))
def test_jamming_zones_against_shapely_point_in_polygon(seed: int) -> None:
    """Three overlapping zones (fractions 0.5, 0.2, 0 and 1.0 in windows of their own) behind a satellite fault
    (fault indices are scenario positions): random points, each checked with shapely; at two times."""
    rng = np.random.default_rng(seed)
    polys = [
        [(10.0, 40.0), (30.0, 40.0), (30.0, 55.0), (10.0, 55.0)],
        [(20.0, 45.0), (40.0, 45.0), (35.0, 60.0), (20.0, 60.0)],
        [(25.0, 35.0), (45.0, 38.0), (28.0, 50.0)],
        [(0.0, 30.0), (50.0, 30.0), (50.0, 65.0), (0.0, 65.0)],
    ]
    fracs = [0.5, 0.2, 0.0, 1.0]
    windows = [(0.0, 100.0), (50.0, 150.0), (60.0, 70.0), (0.0, np.inf)]
    specs: list[object] = [SatelliteFault(kind="satellite", ids=[0])]
    geoms = {}
    for j, (ring, c, (a, b)) in enumerate(zip(polys, fracs, windows, strict=True)):
        specs.append(
            JammingFault(kind="jamming", polygon=ring, capacity_fraction=c, start_s=a, end_s=None if b == np.inf else b)
        )
        geoms[j + 1] = shapely.Polygon(ring)
    sch = _compile(specs, geoms=geoms)
    lon = rng.uniform(-5.0, 55.0, 400)
    lat = rng.uniform(25.0, 70.0, 400)
    far = np.array(
        [
            min(shapely.distance(g.boundary, shapely.Point(x, y)) for g in geoms.values()) > 1e-6
            for x, y in zip(lon, lat, strict=True)
        ]
    )
    lon, lat = lon[far], lat[far]
    times = np.array([0.0, 49.0, 50.0, 65.0, 70.0, 100.0, 150.0])
    jam = sch.jammed(times, lat[None, :], lon[None, :])
    zones = [(geoms[j + 1], fracs[j], j + 1, *windows[j]) for j in range(4)]
    for r, t in enumerate(times):
        cap, which = _zone_reference(zones, float(t), lon, lat)
        assert jam.capacity_fraction[r].tolist() == cap.tolist(), t
        assert jam.fault[r].tolist() == which.tolist(), t
        assert jam.blocked[r].tolist() == ((which >= 0) & (cap <= 0.0)).tolist(), t
    assert jam.blocked[3].any() and not jam.blocked[0].any()  # the blocking zone is met, in its window only


def test_a_zone_of_capacity_one_is_named_without_degrading_and_a_later_zone_takes_over_only_when_worse() -> None:
    sq = [(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)]
    specs = [
        JammingFault(kind="jamming", polygon=sq, capacity_fraction=1.0),
        JammingFault(kind="jamming", polygon=sq, capacity_fraction=1.0),
        JammingFault(kind="jamming", polygon=sq, capacity_fraction=0.3),
        JammingFault(kind="jamming", polygon=sq, capacity_fraction=0.3),
    ]
    geoms = {i: shapely.Polygon(sq) for i in range(4)}
    jam = _compile(specs[:2], geoms=geoms).jammed([0.0], [5.0, 20.0], [5.0, 20.0])
    assert jam.fault.tolist() == [[0, -1]] and jam.capacity_fraction.tolist() == [[1.0, 1.0]]
    jam = _compile(specs, geoms=geoms).jammed([0.0], [5.0], [5.0])
    assert jam.fault.tolist() == [[2]] and jam.capacity_fraction.tolist() == [[0.3]] and not jam.blocked.any()


def test_the_storm_altitude_radius_is_sgp4s() -> None:
    """The documented radius a storm's mean altitudes are measured above is the one SGP4 (WGS-72, as leonet
    propagates) carries on every element set."""
    from sgp4.api import WGS72, Satrec

    rec = Satrec.twoline2rv(
        "1 25544U 98067A   08264.51782528 -.00002182  00000-0 -11606-4 0  2927",
        "2 25544  51.6416 247.4627 0006703 130.5360 325.0288 15.72125391563537",
        WGS72,
    )
    assert rec.radiusearthkm == faults.SGP4_EARTH_RADIUS_KM


def test_a_schedule_built_with_the_defaults_fails_nothing() -> None:
    """``FaultSchedule`` with only its names and windows (every per-kind field left to its default: no fault
    of that kind) answers "nothing" to every question, active fault or not."""
    for names in ((), ("a",)):
        k = len(names)
        sch = faults.FaultSchedule(names, ("satellite",) * k, np.zeros(k), np.full(k, np.inf), 5, 3)
        t = [0.0, 10.0]
        assert sch.empty == (k == 0)
        assert sch.failed_sats(t).shape == (2, 5) and not sch.failed_sats(t).any()
        assert sch.ground_node_down(t).shape == (2, 3) and not sch.ground_node_down(t).any()
        pairs = np.array([[0, 1], [3, 4]])
        assert sch.failed_isls(t, pairs).shape == (2, 2) and not sch.failed_isls(t, pairs).any()
        assert sch.names_down(0.0) == frozenset()
        jam = sch.jammed(t, [1.0, 2.0], [3.0, 4.0])
        assert (jam.capacity_fraction == 1.0).all() and (jam.fault == -1).all() and not jam.blocked.any()


def test_a_fraction_of_zero_fails_nothing_of_any_kind() -> None:
    specs = [
        SatelliteFault(kind="satellite", fraction=0.0, seed=1),
        StormFault(kind="storm", below_km=1e5, fraction=0.0, seed=1),
        IslFault(kind="isl", fraction=0.0, seed=1),
        GroundFault(kind="ground", fraction=0.0, seed=1),
    ]
    sch = _compile(specs)
    assert not sch.failed_sats([0.0]).any()
    assert not sch.failed_isls([0.0], ISL).any()
    assert not sch.ground_node_down([0.0]).any() and sch.names_down(0.0) == frozenset()
