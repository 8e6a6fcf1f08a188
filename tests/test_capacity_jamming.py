"""Partial jamming in leonet.capacity: a terminal in an active zone of ``capacity_fraction`` f carries at most f
times what it carries without the zone, keeps its beam and path, and holds its airtime (its beam neighbours keep
their share); f = 0 blocks it; f = 1, and any slot outside the zone's window, is the run without the fault.

References: the same scenario without the fault (its slot computed on its own), and a hand-computed beam: three
greedy terminals on one beam of capacity C get C / 3 each (Bertsekas & Gallager §6.5.2 on one link); with one of
them jammed to f, it carries f C / 3 on the same airtime and the two others still C / 3.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pytest

from leonet import assembly, capacity, flows
from leonet.scenario import parse_scenario
from test_capacity import SCENARIO as _CAPACITY_SCENARIO

#: three terminals within a few hundred metres in Paris (one H3 cell), London, Madrid, and Berlin, which the
#: policy denies (no licence in Germany): test_capacity's scenario
SCENARIO = _CAPACITY_SCENARIO.replace('name = "capacity-test"', 'name = "jamming-capacity-test"')
#: one beam per satellite and per cell, greedy terminals: the Paris beam is the Paris terminals' bottleneck
ONE_BEAM = (
    "\n[capacity]\nbeams_per_sat = 1\nmax_beams_per_cell = 1\ndemand_down_mbps = 100000\ndemand_up_mbps = 100000\n"
)
#: a zone around Paris-a alone (Paris-b is about 200 m north-east of it, Paris-c about 230 m south-west)
AROUND_A = "[[2.3510, 48.8560], [2.3530, 48.8560], [2.3530, 48.8572], [2.3510, 48.8572]]"
#: a zone around the three Paris terminals
AROUND_PARIS = "[[2.30, 48.80], [2.40, 48.80], [2.40, 48.90], [2.30, 48.90]]"


def _jam(fraction: float, polygon: str = AROUND_A, window: str = "") -> str:
    return (
        f'\n[[faults]]\nname = "ew"\nkind = "jamming"\npolygon = {polygon}\ncapacity_fraction = {fraction}\n{window}\n'
    )


@functools.lru_cache(maxsize=16)
def _world(extra: str = "", capacity_section: str = "") -> assembly.World:
    # [[faults]] before [capacity]: a TOML table header after [capacity] would end the section
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", assembly.LeonetWarning)
        return assembly.assemble(parse_scenario(SCENARIO + extra + capacity_section, "t.toml"))


def _slot(extra: str = "", cap: str = "", t_s: float = 0.0) -> capacity.SlotCapacity:
    w = _world(extra, cap)
    return capacity.slot_capacity(w, 0, t_s, capacity.capacity_setup(w))


def _index(*names: str) -> list[int]:
    w = _world()
    assert w.access is not None
    all_names = [w.ground.names[i] for i in w.access.terminals]
    return [all_names.index(n) for n in names]


@pytest.fixture(scope="module")
def free_one_beam() -> capacity.SlotCapacity:
    return _slot(cap=ONE_BEAM)


@pytest.fixture(scope="module")
def free_default() -> capacity.SlotCapacity:
    return _slot()


def _same(a: capacity.SlotCapacity, b: capacity.SlotCapacity) -> None:
    for f in ("serving_sat", "beam", "down_mbps", "up_mbps", "down_bottleneck", "up_bottleneck", "capacity_gbps",
              "load_gbps", "allowed"):  # fmt: skip
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)


def test_a_jammed_terminal_on_a_shared_beam_carries_f_of_its_share_and_its_neighbours_keep_theirs(
    free_one_beam: capacity.SlotCapacity,
) -> None:
    a, b, c = _index("Paris-a", "Paris-b", "Paris-c")
    free = free_one_beam
    beam = int(free.beam[a])
    assert beam >= 0 and free.beam[b] == beam and free.beam[c] == beam
    cap_down = free.capacity_gbps[beam] * 1e3
    cap_up = free.capacity_gbps[free.layout.n_beams + beam] * 1e3
    np.testing.assert_allclose(free.down_mbps[[a, b, c]], cap_down / 3, rtol=1e-9)  # the hand value, unjammed
    for f in (0.25, 0.5, 0.9):
        sc = _slot(_jam(f), ONE_BEAM)
        assert sc.capacity_fraction[a] == f and sc.capacity_fraction[b] == 1.0 and sc.capacity_fraction[c] == 1.0
        assert sc.allowed[a] and sc.permitted[a] and sc.beam[a] == beam  # it keeps its beam and path
        np.testing.assert_allclose(sc.down_mbps[a], f * cap_down / 3, rtol=1e-9)
        np.testing.assert_allclose(sc.up_mbps[a], f * cap_up / 3, rtol=1e-9)
        assert sc.down_mbps[a] <= f * free.down_mbps[a] * (1 + 1e-12) and sc.down_mbps[a] < free.down_mbps[a]
        assert sc.up_mbps[a] <= f * free.up_mbps[a] * (1 + 1e-12) and sc.up_mbps[a] < free.up_mbps[a]
        # the airtime it holds is not given away: Paris-b and -c keep a third of the beam each
        np.testing.assert_allclose(sc.down_mbps[[b, c]], cap_down / 3, rtol=1e-9)
        assert sc.down_bottleneck[a] == capacity.JAMMED and sc.up_bottleneck[a] == capacity.JAMMED
        assert (sc.down_bottleneck[[b, c]] == flows.LinkKind.USER_DOWN).all()
        # the beam's capacity left to carry bits: less the jammed terminal's lost airtime
        np.testing.assert_allclose(sc.capacity_gbps[beam] * 1e3, cap_down * (1 - (1 - f) / 3), rtol=1e-9)


def test_a_jammed_terminal_gets_at_most_f_of_its_unjammed_throughput_and_the_others_are_untouched(
    free_default: capacity.SlotCapacity, free_one_beam: capacity.SlotCapacity
) -> None:
    a, b, c, london, madrid = _index("Paris-a", "Paris-b", "Paris-c", "London", "Madrid")
    for free, cap in ((free_default, ""), (free_one_beam, ONE_BEAM)):  # demand-limited, then beam-limited
        for f in (0.1, 0.6):
            sc = _slot(_jam(f, AROUND_PARIS), cap)
            paris = [a, b, c]
            assert (sc.capacity_fraction[paris] == f).all()
            for got, was in ((sc.down_mbps, free.down_mbps), (sc.up_mbps, free.up_mbps)):
                assert (was[paris] > 0).all()
                assert (got[paris] <= f * was[paris] * (1 + 1e-12)).all(), (f, got[paris], was[paris])
                assert (got[paris] > 0).all()  # degraded, not cut off
                np.testing.assert_allclose(got[[london, madrid]], was[[london, madrid]], rtol=1e-12)
            # the flows still fit: loads re-summed from the rates, no link over its (jammed) capacity
            load = sc.incidence.T @ sc.rate_gbps
            np.testing.assert_allclose(load, sc.load_gbps, rtol=1e-12, atol=1e-12)
            assert (load <= sc.capacity_gbps * (1 + 1e-9) + 1e-12).all()
            assert (sc.capacity_gbps <= free.capacity_gbps).all()
    # with the demand fitting everywhere, each jammed Paris terminal carries exactly f of its demand
    sc = _slot(_jam(0.3, AROUND_PARIS))
    np.testing.assert_allclose(sc.down_mbps[[a, b, c]], 0.3 * capacity.DEMAND_DOWN_MBPS, rtol=1e-9)


def test_fraction_zero_blocks_the_terminal_no_beam_no_throughput() -> None:
    (a,) = _index("Paris-a")
    sc = _slot(_jam(0.0))
    assert sc.capacity_fraction[a] == 0.0 and sc.permitted[a] and not sc.allowed[a]
    assert sc.serving_sat[a] == -1 and sc.beam[a] == -1 and not sc.paths.served[a]
    assert sc.down_mbps[a] == 0 and sc.up_mbps[a] == 0
    assert sc.down_bottleneck[a] == capacity.NOT_SERVED and sc.up_bottleneck[a] == capacity.NOT_SERVED
    N = len(sc.allowed)
    rows = sc.incidence.toarray()
    assert not rows[a].any() and not rows[N + a].any()


def test_fraction_one_is_the_run_without_the_fault(free_one_beam: capacity.SlotCapacity) -> None:
    sc = _slot(_jam(1.0, AROUND_PARIS), ONE_BEAM)
    assert (sc.capacity_fraction == 1.0).all()
    _same(sc, free_one_beam)


def test_outside_the_zones_window_nothing_changes() -> None:
    a, b = _index("Paris-a", "Paris-b")
    jam = _jam(0.5, AROUND_A, "start_s = 15\nend_s = 30")
    w, w0 = _world(jam, ONE_BEAM), _world("", ONE_BEAM)
    spec, spec0 = capacity.capacity_setup(w), capacity.capacity_setup(w0)
    for t in (0.0, 30.0):  # before the window, and at its (exclusive) end
        sc = capacity.slot_capacity(w, 0, t, spec)
        assert (sc.capacity_fraction == 1.0).all()
        _same(sc, capacity.slot_capacity(w0, 0, t, spec0))
    inside, free = capacity.slot_capacity(w, 0, 15.0, spec), capacity.slot_capacity(w0, 0, 15.0, spec0)
    assert inside.capacity_fraction[a] == 0.5 and inside.capacity_fraction[b] == 1.0
    assert inside.down_mbps[a] <= 0.5 * free.down_mbps[a] * (1 + 1e-12)


def test_the_throughput_table_names_the_jamming_as_the_bottleneck() -> None:
    w = _world(_jam(0.5), ONE_BEAM)
    sc = capacity.slot_capacity(w, 0, 0.0, capacity.capacity_setup(w))
    rows = capacity.throughput_rows(w, 0, sc).to_pydict()
    i = rows["terminal"].index("Paris-a")
    assert rows["down_bottleneck"][i] == "jammed" and rows["up_bottleneck"][i] == "jammed"
    assert rows["down_bottleneck_link"][i] is None
    j = rows["terminal"].index("Paris-b")
    assert rows["down_bottleneck"][j] == "user-beam down"
