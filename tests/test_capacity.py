"""leonet.capacity: the scheduler, the access paths and the flows together, per 15-s slot.

References beside each test: the scheduler re-run on its own inputs, elevations recomputed with
``geodesy.elevation_deg``, link loads re-summed with NumPy from the flows' incidence and rates, the straight-line
(chord at c) bound of the RTT through the gateway, the laser links of the snapshot, and a hand-computable case
(one beam shared by three greedy terminals: a third each, Bertsekas & Gallager §6.5.2 on a single link).
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

from leonet import assembly, capacity, flows
from leonet.cells import aggregate_demand, cells_of
from leonet.constants import C_KM_S
from leonet.errors import InputError
from leonet.geodesy import elevation_deg
from leonet.scenario import CapacitySpec, parse_scenario
from leonet.scheduler import active_terminals, cell_geometry, cell_visibility, schedule_slot
from leonet.step import min_elevations, positions_at, state_at

#: three terminals within a few hundred metres in Paris (one H3 cell), London, Madrid, and Berlin, which the
#: policy denies (no licence in Germany)
SCENARIO = """
name = "capacity-test"
epoch = 2026-02-23T00:00:00Z

[time]
end_s = 30
step_s = 15

[[networks]]
name = "starlink-gen1"
constellation = { preset = "starlink-gen1" }
min_elevation_deg = 25.0

[ground]
cities = 0
stations = [
  { name = "Paris-a", lat_deg = 48.8566, lon_deg = 2.3522, kind = "terminal" },
  { name = "Paris-b", lat_deg = 48.8580, lon_deg = 2.3540, kind = "terminal" },
  { name = "Paris-c", lat_deg = 48.8550, lon_deg = 2.3500, kind = "terminal" },
  { name = "London", lat_deg = 51.5074, lon_deg = -0.1278, kind = "terminal" },
  { name = "Madrid", lat_deg = 40.4168, lon_deg = -3.7038, kind = "terminal" },
  { name = "Berlin", lat_deg = 52.5200, lon_deg = 13.4050, kind = "terminal" },
]

[policy.default]
unregistered = "serve"

[[policy.licences]]
id = "lic-west"
countries = ["FR", "GB", "ES"]

[access]
mode = "lasers"
"""


def _world(extra: str = "") -> assembly.World:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", assembly.LeonetWarning)
        return assembly.assemble(parse_scenario(SCENARIO + extra, "t.toml"))


@pytest.fixture(scope="module")
def world() -> assembly.World:
    return _world()


@pytest.fixture(scope="module")
def slot(world: assembly.World) -> capacity.SlotCapacity:
    return capacity.slot_capacity(world, 0, 15.0, capacity.capacity_setup(world))


def _names(world: assembly.World) -> list[str]:
    assert world.access is not None
    return [world.ground.names[i] for i in world.access.terminals]


def test_denied_terminals_carry_nothing(world: assembly.World, slot: capacity.SlotCapacity) -> None:
    berlin = _names(world).index("Berlin")
    assert not slot.allowed[berlin] and slot.allowed.sum() == len(slot.allowed) - 1
    assert slot.serving_sat[berlin] == -1 and slot.down_mbps[berlin] == 0 and slot.up_mbps[berlin] == 0
    N = len(slot.allowed)
    rows = slot.incidence.toarray()
    assert not rows[berlin].any() and not rows[N + berlin].any()
    assert slot.down_bottleneck[berlin] == capacity.NOT_SERVED
    # everyone else is served (the scenario's terminals all see satellites and gateways)
    assert (slot.down_mbps[slot.allowed] > 0).all() and (slot.up_mbps[slot.allowed] > 0).all()


def test_no_link_is_over_capacity(slot: capacity.SlotCapacity) -> None:
    load = slot.incidence.T @ slot.rate_gbps  # the flows' rates re-summed per link
    np.testing.assert_allclose(load, slot.load_gbps, rtol=1e-12, atol=1e-12)
    assert (load <= slot.capacity_gbps * (1 + 1e-9) + 1e-12).all()
    # the beams' capacities are the scheduler's groups: beams x capacity, Gbit/s
    kind = slot.layout.kind
    assert (slot.capacity_gbps[kind == flows.LinkKind.ISL] == flows.ISL_LASER_GBPS).all()
    assert (slot.capacity_gbps[kind == flows.LinkKind.FEEDER_UP] == flows.FEEDER_LINK_GBPS).all()


def test_serving_satellites_are_the_schedulers_and_above_the_mask(world: assembly.World) -> None:
    spec = capacity.capacity_setup(world)
    assert world.access is not None
    term = world.access.terminals
    net = world.networks[0]
    for t in (0.0, 15.0):
        sc = capacity.slot_capacity(world, 0, t, spec)
        # the scheduler on its own, from the same state
        st = state_at(world, 0, t)
        assert st.allowed is not None
        allowed = st.allowed[term]
        g = st.ground
        cd = aggregate_demand(cells_of(g.lat_deg[0][term], g.lon_deg[0][term]), 0.0)
        mask = min_elevations(net, world.ground)[term]
        act = active_terminals(cd.terminal_cell, spec.demand_down_mbps, allowed, spec.service_class, spec.classes)
        geom = cell_geometry(g.ecef_km[0][term], g.up[0][term], mask, cd.terminal_cell, act, cd.n_cells)
        edges = positions_at(net, world, np.array([t, t + spec.interval_s]))
        a = schedule_slot(cell_visibility(edges, geom), cd.terminal_cell, spec.demand_down_mbps, allowed,
                          spec.service_class, spec.classes, spec.model)  # fmt: skip
        np.testing.assert_array_equal(sc.serving_sat, a.serving_sat)
        np.testing.assert_array_equal(sc.paths.serving_sat, a.serving_sat)
        on = np.flatnonzero(sc.serving_sat >= 0)
        assert len(on) == 5
        for e in range(2):  # above the mask at the slot's edge and end
            el = elevation_deg(g.ecef_km[0][term][on], g.up[0][term][on], edges[e, sc.serving_sat[on]])
            assert (el >= mask[on] - 1e-9).all(), el


def test_throughput_is_at_most_the_demand(slot: capacity.SlotCapacity) -> None:
    assert (slot.down_mbps <= slot.demand_down_mbps * (1 + 1e-12)).all()
    assert (slot.up_mbps <= slot.demand_up_mbps * (1 + 1e-12)).all()
    assert (slot.down_mbps >= 0).all() and (slot.up_mbps >= 0).all()


def test_rtt_is_never_below_the_straight_line_through_the_gateway(
    world: assembly.World, slot: capacity.SlotCapacity
) -> None:
    assert world.access is not None
    p = slot.paths
    on = np.flatnonzero(p.served)
    g = world.access.ground
    term_r = world.ground.ecef_km[world.access.terminals[on]]
    gw_r, pop_r = g.gateways.ecef_km[p.gateway[on]], g.pops.ecef_km[p.pop[on]]
    chord_km = np.linalg.norm(term_r - gw_r, axis=1) + np.linalg.norm(gw_r - pop_r, axis=1)
    bound_ms = 2.0 * chord_km / C_KM_S * 1e3
    assert (p.rtt_ms[on] >= bound_ms - 1e-9).all()
    assert (p.rtt_ms[on] < bound_ms + 200).all()  # and not absurdly above it


def test_each_flow_path_runs_serving_satellite_lasers_down_satellite_gateway(
    world: assembly.World, slot: capacity.SlotCapacity
) -> None:
    _check_flow_paths(world, slot)


def test_flow_paths_hold_with_the_last_terminal_served() -> None:
    """The same walk with the denied terminal (Berlin) listed first, so that the last terminal has a path too
    (the paths are cut from flat arrays by offsets: the last terminal's is where an off-by-one shows)."""
    berlin = '  { name = "Berlin", lat_deg = 52.5200, lon_deg = 13.4050, kind = "terminal" },\n'
    text = SCENARIO.replace(berlin, "").replace("stations = [\n", "stations = [\n" + berlin)
    assert text != SCENARIO
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", assembly.LeonetWarning)
        w = assembly.assemble(parse_scenario(text, "t.toml"))
    sc = capacity.slot_capacity(w, 0, 15.0, capacity.capacity_setup(w))
    assert sc.paths.served[-1] and not sc.paths.served[0]
    _check_flow_paths(w, sc)


def _check_flow_paths(world: assembly.World, slot: capacity.SlotCapacity) -> None:
    p, off, nod, S = slot.paths, slot.path_offsets, slot.path_nodes, slot.n_sats
    W = world.access.ground.gateways.size if world.access is not None else 0
    st = state_at(world, 0, slot.t_s)
    isl = {tuple(sorted(e)) for e in st.snapshot.isl.tolist()}
    km = dict(zip((tuple(sorted(e)) for e in st.snapshot.isl.tolist()), st.snapshot.isl_km.tolist(), strict=True))
    served = np.flatnonzero(p.served)
    assert len(served) == 5
    for t in served:  # a handful of terminals: the reference walks them one by one
        path = nod[off[t] : off[t + 1]].tolist()
        assert path[0] == S + W + t and path[-1] == S + p.gateway[t]
        sats = path[1:-1]
        assert sats[0] == p.serving_sat[t] and sats[-1] == p.down_sat[t]
        assert len(sats) - 1 == p.isl_hops[t]
        hops = [tuple(sorted(h)) for h in itertools.pairwise(sats)]
        assert all(h in isl for h in hops)
        assert sum(km[h] for h in hops) == pytest.approx(p.isl_km[t], rel=1e-9, abs=1e-9)
    assert (np.diff(off)[~p.served] == 0).all()


def test_one_beam_shared_by_three_terminals_gives_a_third_each() -> None:
    # one beam per satellite and per cell, greedy demand: the three Paris terminals share one beam
    w = _world("\n[capacity]\nbeams_per_sat = 1\nmax_beams_per_cell = 1\ndemand_down_mbps = 100000\n"
               "demand_up_mbps = 100000\n")  # fmt: skip
    sc = capacity.slot_capacity(w, 0, 0.0, capacity.capacity_setup(w))
    names = _names(w)
    paris = [names.index(n) for n in ("Paris-a", "Paris-b", "Paris-c")]
    assert len({int(sc.cell[i]) for i in paris}) == 1
    beam = sc.beam[paris]
    assert (beam == beam[0]).all() and beam[0] >= 0
    cap_down = sc.capacity_gbps[beam[0]] * 1e3
    cap_up = sc.capacity_gbps[sc.layout.n_beams + beam[0]] * 1e3
    assert 100 < cap_down < 1000  # one Gen1 beam: 427-792 Mbit/s (README)
    np.testing.assert_allclose(sc.down_mbps[paris], cap_down / 3, rtol=1e-9)
    np.testing.assert_allclose(sc.up_mbps[paris], cap_up * capacity.UPLINK_BEAM_FRACTION / 3, rtol=1e-9)
    assert (sc.down_bottleneck[paris] == flows.LinkKind.USER_DOWN).all()
    assert (sc.up_bottleneck[paris] == flows.LinkKind.USER_UP).all()


def _one_link_weighted(cap: float, demand: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Weighted max-min fair rates of flows sharing one link (reference): the level x where sum(min(d, w x)) fills
    the link, by scipy's brentq."""
    if demand.sum() <= cap:
        return demand
    x = brentq(lambda x: float(np.minimum(demand, weight * x).sum() - cap), 0.0, float((demand / weight).max()))
    out: np.ndarray = np.minimum(demand, weight * x)
    return out


def test_a_registered_class_weighs_its_share_of_the_beam() -> None:
    # Paris-a registered as "business" (priority 4), Paris-b registered as "fixed" (not listed: the default
    # class), Paris-c unregistered; 400 Mbit/s each on one beam of 427-792 Mbit/s: the scheduler serves the
    # business terminal first and the two others on the rest of the beam, then the flows share it 4 : 1 : 1
    w = _world(
        '\n[[policy.terminals]]\nid = "Paris-a"\naccount = "acme"\nservice_class = "business"\n'
        '\n[[policy.terminals]]\nid = "Paris-b"\naccount = "acme"\n'
        "\n[capacity]\nbeams_per_sat = 1\nmax_beams_per_cell = 1\ndemand_down_mbps = 400\n"
        "[capacity.classes.business]\npriority = 4\n"
    )
    spec = capacity.capacity_setup(w)
    names = _names(w)
    paris = [names.index(n) for n in ("Paris-a", "Paris-b", "Paris-c")]
    assert [spec.class_names[c] for c in spec.service_class[paris]] == ["business", "default", "default"]
    sc = capacity.slot_capacity(w, 0, 0.0, spec)
    beam = sc.beam[paris]
    assert (beam == beam[0]).all() and beam[0] >= 0
    cap_down = sc.capacity_gbps[beam[0]] * 1e3
    want = _one_link_weighted(cap_down, np.full(3, 400.0), np.array([4.0, 1.0, 1.0]))
    np.testing.assert_allclose(sc.down_mbps[paris], want, rtol=1e-9)
    assert sc.down_mbps[paris[0]] > sc.down_mbps[paris[1]]


def test_faults_take_satellites_gateways_and_lasers_out_of_the_flows(
    world: assembly.World, slot: capacity.SlotCapacity
) -> None:
    # the gateway London uses, down; and London's serving satellite failed: neither appears in any flow
    assert world.access is not None
    london = _names(world).index("London")
    gw = world.access.ground.gateways.names[int(slot.paths.gateway[london])]
    sat = int(slot.serving_sat[london])
    w = _world(f'\n[[faults]]\nkind = "ground"\nnames = ["{gw}"]\n'
               f'\n[[faults]]\nkind = "satellite"\nids = [{sat}]\n')  # fmt: skip
    sc = capacity.slot_capacity(w, 0, 15.0, capacity.capacity_setup(w))
    used = sc.incidence.toarray().any(axis=0)
    u, v = sc.layout.endpoints
    S = sc.n_sats
    gw_node = S + world.access.ground.gateways.names.index(gw)
    assert not ((u[used] == gw_node) | (v[used] == gw_node)).any()
    assert not ((u[used] == sat) | (v[used] == sat)).any()
    assert sat not in sc.serving_sat.tolist() and sc.down_mbps[london] > 0


def test_the_window_tables_and_summary(world: assembly.World) -> None:
    spec = capacity.capacity_setup(world)
    tables, slots = capacity.capacity_over_window(world, spec)
    np.testing.assert_array_equal(capacity.slot_edges(world, 15.0), [0.0, 15.0, 30.0])
    N = len(_names(world))
    assert tables.throughput.num_rows == 3 * N and len(slots) == 3
    assert tables.links.num_rows == sum(s.layout.n_links for s in slots)
    s = capacity.summary(tables).to_pylist()[0]
    assert s["slots"] == 3 and s["denied_share"] == pytest.approx(1 / N)
    assert s["down_median_mbps"] == pytest.approx(capacity.DEMAND_DOWN_MBPS)  # 100 Mbit/s fits everywhere
    gw = tables.gateways.to_pydict()
    total_down = sum(float(x.load_gbps[x.layout.kind == flows.LinkKind.FEEDER_UP].sum()) for x in slots)
    assert sum(gw["down_load_gbps"]) == pytest.approx(total_down)


def test_the_spec_defaults_are_the_named_constants() -> None:
    c = CapacitySpec()
    assert (c.demand_down_mbps, c.demand_up_mbps) == (capacity.DEMAND_DOWN_MBPS, capacity.DEMAND_UP_MBPS)


def test_capacity_without_access_is_one_line_naming_it() -> None:
    text = SCENARIO.replace('[access]\nmode = "lasers"\n', "[capacity]\ndemand_down_mbps = 10\n")
    with pytest.raises(InputError) as e:
        parse_scenario(text, "t.toml")
    msg = str(e.value)
    assert "\n" not in msg and "[capacity]" in msg and "[access]" in msg


def test_the_command_as_typed_writes_every_file(tmp_path: Path) -> None:
    (tmp_path / "s.toml").write_text(SCENARIO)
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "leonet.cli", "capacity", "s.toml", "-o", str(out)], cwd=tmp_path,
                       capture_output=True, text=True, env={**os.environ, "COLUMNS": "80"})  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert max(len(line) for line in r.stdout.splitlines()) <= 80, r.stdout
    assert "Capacity of capacity-test" in r.stdout and "bottleneck" in r.stdout
    for f in ("throughput.parquet", "links.parquet", "gateways.parquet", "summary.csv"):
        assert (out / f).is_file(), f
    for f in ("throughput_cdf.png", "utilisation_map.png"):
        assert (out / f).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    t = pq.read_table(out / "throughput.parquet")
    assert t.num_rows == 3 * 6 and set(t.column("terminal").to_pylist()) >= {"Berlin", "Paris-a"}
    noacc = SCENARIO.split("[access]")[0]
    (tmp_path / "n.toml").write_text(noacc)
    bad = subprocess.run([sys.executable, "-m", "leonet.cli", "capacity", "n.toml"], cwd=tmp_path,
                         capture_output=True, text=True)  # fmt: skip
    assert bad.returncode == 2 and "[access]" in bad.stderr and "Traceback" not in bad.stderr


# --- hypothesis: any [capacity] section gives a spec or a one-line error ----------------------------------

_value = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**60), 2**60),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.dictionaries(
        st.sampled_from(["gold", "fixed", "", "a b", "x/y"]),
        st.dictionaries(
            st.sampled_from(["priority", "cap_mbps", "bogus"]),
            st.one_of(st.floats(-10, 1e7, allow_nan=False), st.text(max_size=3)),
            max_size=2,
        ),
        max_size=2,
    ),
)
_fields = ["demand_down_mbps", "demand_up_mbps", "beams_per_sat", "max_beams_per_cell", "isl_gbps", "feeder_gbps",
           "classes", "bogus"]  # fmt: skip
_BASE: dict[str, Any] = {
    "name": "h",
    "epoch": "2026-02-23T00:00:00Z",
    "networks": [{"name": "n", "constellation": {"preset": "starlink-550"}}],
    "access": {"mode": "lasers"},
}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(_fields), _value, max_size=4), st.booleans())
def test_any_capacity_section_gives_a_spec_or_a_one_line_error(section: dict[str, Any], access: bool) -> None:
    doc = {**_BASE, "capacity": {k: v for k, v in section.items() if v is not None}}
    if not access:
        del doc["access"]
    try:
        text = tomli_w.dumps(doc)
    except (TypeError, ValueError):
        return
    try:
        sc = parse_scenario(text, "s.toml")
    except InputError as exc:
        msg = str(exc)
        assert "\n" not in msg and msg.startswith("s.toml") and "expected" in msg, msg
        assert "capacity" in msg, msg
        return
    assert access and isinstance(sc.capacity, CapacitySpec)
    assert sc.capacity.demand_down_mbps >= 0 and sc.capacity.beams_per_sat >= 0
    assert all(c.priority > 0 for c in sc.capacity.classes.values())


def test_link_rows_place_both_ends_including_node_zero(world: assembly.World, slot: capacity.SlotCapacity) -> None:
    """link_rows: each end's position is its node's (the docstring).  Node 0 (a satellite) as the ``v`` end of a
    link is placed where it is as the ``u`` end of another (both directions of a link list the same two nodes):
    the positions of every node id, read as u and as v, agree (a beam: its satellite's at both ends)."""
    t = capacity.link_rows(world, 0, slot).to_pydict()
    at_u: dict[int, tuple[float, float]] = {}
    for u, la, lo in zip(t["u"], t["lat0_deg"], t["lon0_deg"], strict=True):
        if u is not None:
            at_u.setdefault(u, (la, lo))
    checked = set()
    for v, la, lo in zip(t["v"], t["lat1_deg"], t["lon1_deg"], strict=True):
        if v is not None and v in at_u:
            assert (la, lo) == at_u[v], v
            checked.add(v)
    assert 0 in checked and len(checked) > 10


def test_satellite_paths_weigh_kilometres_against_processing_per_hop() -> None:
    """satellite_paths' weights: delay km / c / fraction (in ms) + processing per hop (the docstring).  Hand-made
    triangle, down satellite 0, serving 2, 1 ms of processing a hop: direct 2 -> 0 is 10 ms of light (11 ms in
    all), 2 -> 1 -> 0 is 9.0005 ms of light (11.0005 ms): the direct path, by half a microsecond; light-time
    over-weighted by 0.1% would pick the two hops (11.01 against 11.0095 ms)."""
    from types import SimpleNamespace

    from leonet.constants import C_KM_S

    km = lambda ms: ms * C_KM_S / 1e3  # noqa: E731
    isl = np.array([[0, 2], [0, 1], [1, 2]], np.int32)
    isl_km = np.array([km(10.0), km(4.5), km(4.5005)])
    paths = SimpleNamespace(
        serving_sat=np.array([2], np.int32), down_sat=np.array([0], np.int32), served=np.array([True])
    )
    off, sats = capacity.satellite_paths(paths, 3, isl, isl_km, 1.0, 1.0)  # type: ignore[arg-type]
    assert off.tolist() == [0, 2] and sats.tolist() == [2, 0]
    off, sats = capacity.satellite_paths(paths, 3, isl, isl_km, 1.0, 0.0)  # type: ignore[arg-type]
    assert sats.tolist() == [2, 1, 0]  # without processing the shorter two hops win
