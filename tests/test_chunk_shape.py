"""The shape of P4: assembly -> step -> chunk -> runner, and what it promises.

1. Chunks of 1, 7 and 64 snapshots chained by the serial runner, and chunks computed *independently* (each from
   ``chunk.carry_at``, as a Dask worker or a resumed run computes them), equal the one-chunk run row for row:
   every routes column (handover flags and ``rerouted`` included), coverage run-lengths, service intervals and
   unusable satellites; in ``reconfig`` mode (slots of 6 snapshots, so 7-snapshot chunks start mid-slot) and in
   ``ideal`` mode; with a policy whose roaming rule looks back in time (a car that drives from Poland into
   Germany and is cut off 300 s after the border; a terminal in Berlin whose stay abroad began before the
   window, from the registry's ``abroad_since``), and a moving terminal.
2. ``Results.links(t)`` agrees with the routes table under that roaming rule (P3's version decided the policy
   at the one instant t, without the history, and served the car where the run had denied it: the test shows
   that one-instant decision serves it).
3. The model modules do not import the scenario model (ast); ``[policy]`` errors come when the scenario is
   loaded, before it is assembled; everything a chunk needs or gives is picklable, and a World pickles as its
   scenario (rebuilt on the other side).

Reference in each case: the same computation done in one piece (one chunk over the window; the policy decided
over the whole window at once by ``policy.evaluate``).
"""

from __future__ import annotations

import ast
import pickle
from functools import cache
from itertools import pairwise
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

import leonet
from leonet import assembly, chunk, runner, step
from leonet.policy import evaluate, evaluate_chunk
from leonet.routes_table import ROUTES_SCHEMA, pad_paths
from leonet.runlength import Runs, merge
from leonet.scenario import Scenario, parse_scenario

SRC = Path(leonet.__file__).parent

SCENARIO = """
epoch = 2026-02-23T00:00:00Z
[time]
end_s = 1200
step_s = 10
[[networks]]
name = "s550"
constellation = {{ preset = "starlink-550" }}
[ground]
cities = ["Berlin", "Warsaw", "Prague"]
tracks = ["CAR.csv"]
[[ground.stations]]
name = "KIT-DE"
lat_deg = 52.52
lon_deg = 13.40
kind = "terminal"
[routing]
mode = "{mode}"
reconfiguration_interval_s = 60
[[policy.terminals]]
id = "CAR"
account = "a"
service_class = "mobile"
registered_country = "PL"
[[policy.terminals]]
id = "KIT-DE"
account = "b"
service_class = "mobile"
registered_country = "PL"
abroad_since = 2026-02-22T23:55:40Z
[[policy.mobility]]
id = "plan-mobile"
service_class = "mobile"
roaming_days = 0.0035
"""
#: west from Poland (15.2 E) into Germany (14.0 E) at ~250 km/h; the border (the Oder, ~14.6 E) at ~600 s
TRACK = "t_s,lat_deg,lon_deg,alt_m\n0,52.40,15.20,0\n1200,52.45,14.00,0\n"


@cache
def _scenario(mode: str, folder: Path) -> Scenario:
    (folder / "CAR.csv").write_text(TRACK)
    return parse_scenario(SCENARIO.format(mode=mode), source=str(folder / "s.toml"), base_dir=str(folder))


@cache
def _world(mode: str, folder: Path) -> assembly.World:
    return assembly.assemble(_scenario(mode, folder))


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("shape")


def _assert_same(a: pa.Table, b: pa.Table) -> None:
    assert a.num_rows == b.num_rows
    for name in a.column_names:
        x, y = a.column(name).to_pylist(), b.column(name).to_pylist()
        if x != y:
            i = next(i for i, (p, q) in enumerate(zip(x, y, strict=True)) if p != q)
            pytest.fail(f"column {name} differs first at row {i} (t = {a.column('t_s')[i].as_py()} s)")


def _runs_equal(a: Runs, b: Runs) -> bool:
    return all(np.array_equal(getattr(a, f), getattr(b, f)) for f in ("item", "first", "stop", "value"))


def _table(results: list[chunk.ChunkResult]) -> pa.Table:
    return pa.Table.from_batches([r.routes for r in results if r.routes.num_rows], schema=ROUTES_SCHEMA)


@pytest.mark.parametrize("mode", ["reconfig", "ideal"])
def test_chained_and_independent_chunks_equal_one_chunk(mode: str, folder: Path) -> None:
    world = _world(mode, folder)
    T = len(world.times_s)
    one = list(runner.chunks(world, 0, size=10_000))
    assert len(one) == 1
    ref = _table(one)
    ref_cov, ref_svc = one[0].coverage, one[0].service
    ref_service, ref_unusable = runner.finish(world, one)

    # the reference exercises what it compares: the roaming denial (of both terminals), re-routing inside
    # slots, handovers, the moving car's changing distances
    svc = ref_service.to_pylist()
    denied = {r["terminal"]: r["start_s"] for r in svc if r["rule_id"] == "plan-mobile"}
    assert set(denied) == {"CAR", "KIT-DE"}
    assert 800 < denied["CAR"] < 1100 and 0 < denied["KIT-DE"] < 100, denied
    d = ref.to_pydict()
    assert sum(d["path_changed"]) and sum(d["first_sat_changed"]) and sum(d["last_sat_changed"])
    if mode == "reconfig":
        t = np.array(d["t_s"])
        assert np.array(d["rerouted"])[t % 60 != 0].any(), "no re-route inside a slot"

    for size in (1, 7, 64):
        chained = list(runner.chunks(world, 0, size=size))
        _assert_same(_table(chained), ref)
        assert _runs_equal(merge([r.coverage for r in chained]), ref_cov)
        assert _runs_equal(merge([r.service for r in chained]), ref_svc)
        assert runner.finish(world, chained)[0].equals(ref_service)

    for size in (7, 64):
        bounds = chunk.chunk_bounds(world, size)
        # with 7: the policy history of every chunk from one pass, as a parallel runner does it
        hist = step.policy_history(world, [chunk.warmup_start(world, k0) for k0, _ in bounds]) if size == 7 else None
        alone = [chunk.simulate_chunk(world, 0, k0, k1, chunk.carry_at(world, 0, k0, hist)) for k0, k1 in bounds]
        _assert_same(_table(alone), ref)
        assert _runs_equal(merge([r.coverage for r in alone]), ref_cov)
        service, unusable = runner.finish(world, reversed(alone))  # any order
        assert service.equals(ref_service) and unusable == ref_unusable
    assert ref.num_rows == T * len(world.src)


def test_a_chunk_on_a_rebuilt_world_from_a_pickled_carry(folder: Path) -> None:
    """What a worker does: receive the world (pickled as its scenario) and a carry, compute a chunk."""
    world = _world("reconfig", folder)
    k0, k1 = 37, 52  # mid-slot
    here = chunk.simulate_chunk(world, 0, k0, k1, chunk.carry_at(world, 0, k0))
    blob = pickle.dumps((world, chunk.carry_at(world, 0, k0)))
    assert len(blob) < 100_000  # the scenario and a carry, no satellite objects
    other_world, carry = pickle.loads(blob)
    assert other_world is not world and other_world.networks[0].n_sats == world.networks[0].n_sats
    there = pickle.loads(pickle.dumps(chunk.simulate_chunk(other_world, 0, k0, k1, carry)))
    assert there.routes.equals(here.routes)
    assert _runs_equal(there.coverage, here.coverage) and _runs_equal(there.service, here.service)
    assert np.array_equal(there.carry.router.path, here.carry.router.path)  # type: ignore[arg-type]


def test_policy_decided_in_chunks_equals_the_window_at_once(folder: Path) -> None:
    """``evaluate_chunk`` chained over uneven chunks equals ``evaluate`` over the window: the roaming history
    (and the registry's ``abroad_since`` for a stay already under way) crosses the chunk boundaries."""
    world = _world("ideal", folder)
    assert world.policy is not None and world.fleet is not None
    t = world.times_s
    lat, lon, _, _ = world.ground.geodetic_at(t)
    cols = world.terminals
    whole = evaluate(world.policy, world.fleet, t, world.scenario.epoch, lat[:, cols], lon[:, cols])
    assert not whole.served.all() and whole.served.any()
    for edges in ([0, 1, 2, 50, 51, 90, len(t)], [0, 60, len(t)], [*range(0, len(t) + 1, 13), len(t)]):
        carry = None
        rules = []
        for a, b in pairwise(edges):
            sl = slice(a, b)
            d, carry = evaluate_chunk(
                world.policy, world.fleet, t[sl], world.scenario.epoch, lat[sl][:, cols], lon[sl][:, cols], 0, 0, carry
            )
            rules.append(d.rule)
        assert np.array_equal(np.concatenate(rules), whole.rule), edges


def test_links_agree_with_the_routes_table_under_roaming(folder: Path) -> None:
    """At a snapshot where the run denies the car (roaming: 300 s after it crossed into Germany), ``links(t)``
    gives it no ground link, and its routes are unreachable; where it is served it has links.  Deciding at the
    one instant t (what ``links`` did before) would serve it: the stay abroad would start at t."""
    sc = _scenario("ideal", folder)
    res = leonet.run(sc)
    world = res.prepared
    car = world.ground.index("CAR")
    car_id = world.networks[0].n_sats + car
    rows = res.routes.to_pydict()
    svc = [r for r in res.service.to_pylist() if r["terminal"] == "CAR"]
    t_deny = next(r["start_s"] for r in svc if r["rule_id"] == "plan-mobile")
    for t, denied in ((t_deny, True), (t_deny + 100.0, True), (t_deny - 200.0, False)):
        links = res.links(t).to_pydict()
        has_link = any(u == car_id for u, k in zip(links["u"], links["kind"], strict=True) if k == "ground")
        reach = [
            r
            for r, tt, s, dd in zip(rows["reachable"], rows["t_s"], rows["src"], rows["dst"], strict=True)
            if tt == t and car_id in (s, dd)
        ]
        assert reach and has_link is (not denied) and any(reach) is (not denied), t
    assert world.policy is not None and world.fleet is not None
    col = int(np.flatnonzero(world.terminals == car)[0])
    lat, lon, _, _ = world.ground.geodetic_at(np.array([t_deny]))
    cols = world.terminals
    one_instant = evaluate(world.policy, world.fleet, [t_deny], sc.epoch, lat[:, cols], lon[:, cols])
    assert one_instant.served[0, col], "without the history the car would be served: the test would not tell"


def test_model_modules_do_not_import_the_scenario() -> None:
    """``orbits/``, the ground modules, topology, routing, router and the policy take plain values; only the
    assembly (and the edges) know the scenario model."""
    files = [*sorted((SRC / "orbits").glob("*.py")), *sorted((SRC / "policy").glob("*.py"))]
    files += [SRC / f"{m}.py" for m in ("ground", "tracks", "topology", "routing", "router", "runlength")]
    for f in files:
        tree = ast.parse(f.read_text())
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        assert not [n for n in names if n.startswith(("leonet.scenario", "leonet.assembly"))], f
    assert not (SRC / "orbits" / "sources.py").exists() and not (SRC / "engine.py").exists()


def test_policy_errors_come_when_the_scenario_is_loaded(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bad ``[policy]`` is refused by ``parse_scenario`` itself (so ``leonet check`` reports it before any
    orbit is built); a good one is compiled once, then reused by the assembly."""

    def no_assembly(*a: object, **k: object) -> None:
        raise AssertionError("assembled")

    monkeypatch.setattr(assembly, "_assemble", no_assembly)
    text = SCENARIO.format(mode="ideal").replace("roaming_days = 0.0035", "roaming_days = -1")
    with pytest.raises(leonet.InputError) as err:
        parse_scenario(text, source="bad.toml", base_dir=str(folder))
    assert "bad.toml" in str(err.value) and "roaming_days" in str(err.value)
    sc = _scenario("ideal", folder)
    assert sc.compiled_policy() is sc.compiled_policy()
    changed = sc.model_copy(update={"policy": {**(sc.policy or {}), "mobility": []}})
    assert changed.compiled_policy() is not sc.compiled_policy()


def test_runs_merge_is_the_encoding_of_the_whole() -> None:
    """Run-lengths of consecutive pieces of a (T, N) array, merged, equal those of the whole array."""
    rng = np.random.default_rng(7)
    a = rng.integers(-2, 2, size=(50, 5)).astype(np.int32)
    a[10:30, 2] = 1  # a long run across the cut points
    whole = Runs.of(a)
    for cuts in ([0, 50], [0, 1, 2, 49, 50], [0, 7, 14, 21, 28, 35, 42, 49, 50]):
        parts = [Runs.of(a[x:y], x) for x, y in pairwise(cuts)]
        assert _runs_equal(merge(parts[::-1]), whole)
    assert np.array_equal(whole.to_array(5, 50), a)


@pytest.mark.parametrize("mode", ["reconfig", "ideal"])
def test_warmup_starts_at_the_slot_of_the_previous_snapshot(mode: str, folder: Path) -> None:
    """``chunk.warmup_start``'s rule written out: the first snapshot of the routing slot of snapshot ``k0 - 1``,
    ``k0`` for ``k0 = 0``.  Snapshots every 10 s, slots of 60 s from the epoch: six snapshots per slot in
    reconfig mode; in ideal mode every snapshot is its own slot."""
    world = _world(mode, folder)
    T = len(world.times_s)
    for k0 in [0, 1, 2, 5, 6, 7, 12, 13, 37, T - 1, T]:
        want = 0 if k0 == 0 else (6 * ((k0 - 1) // 6) if mode == "reconfig" else k0 - 1)
        assert chunk.warmup_start(world, k0) == want, k0


@pytest.mark.parametrize("mode", ["reconfig", "ideal"])
def test_carry_at_equals_the_carry_of_the_chained_run(mode: str, folder: Path) -> None:
    """The carry ``chunk.carry_at`` rebuilds for a chunk starting at ``k0`` (1 and 2 included, slot starts and
    the snapshots after them) equals the carry the serial run hands over after snapshot ``k0 - 1`` (chunks of
    one snapshot chained): router state (path, slot, end satellites) and roaming history."""
    world = _world(mode, folder)
    T = len(world.times_s)
    chained = list(runner.chunks(world, 0, size=1))
    assert len(chained) == T
    for k0 in [1, 2, 3, 5, 6, 7, 8, 13, 60, 61, T - 1]:
        want, got = chained[k0 - 1].carry, chunk.carry_at(world, 0, k0)
        assert want.router.path is not None and got.router.path is not None
        w = max(want.router.path.shape[1], got.router.path.shape[1])
        assert np.array_equal(pad_paths(got.router.path, w), pad_paths(want.router.path, w)), k0
        assert got.router.slot == want.router.slot, k0
        assert np.array_equal(got.router.first, want.router.first), k0
        assert np.array_equal(got.router.last, want.router.last), k0
        assert want.policy is not None and got.policy is not None
        np.testing.assert_array_equal(got.policy.abroad_since_s, want.policy.abroad_since_s, err_msg=str(k0))
    assert chunk.carry_at(world, 0, 0).router.path is None  # the window's start: nothing carried
