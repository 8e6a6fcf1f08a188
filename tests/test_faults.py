"""Faults in the network (``[[faults]]``, leonet.faults): a failed satellite, laser link or gateway carries
nothing while failed, a jammed terminal is not served inside its zone and window, and everything else is as
without the fault.

Each test first checks, on the run without the fault, that the element it fails *is* used there (a satellite
on the routes, an ISL hop, a gateway in bent-pipe paths, a served terminal), so that skipping the fault mask
makes the test fail (checked once by hand: with ``step.with_faults`` returning ``allowed`` unchanged and
``snapshot`` ignoring ``faults``, every test below but the parser's fails).  The references are the run's own
routes and links read back (``Results.routes`` paths, ``Results.links``), and, for the random draws,
``numpy.random.default_rng`` itself.
"""

from __future__ import annotations

import itertools

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import leonet
from leonet import assembly, chunk, faults, step
from leonet.errors import InputError
from leonet.runner import chunks
from leonet.scenario import parse_scenario

EPOCH = "epoch = 2026-02-05T08:00:00Z\n"
CITIES = '["London", "Paris", "Madrid", "Berlin", "Rome", "Warsaw"]'


def _sc(extra: str = "", *, ground: str = f"cities = {CITIES}", net: str = "", time: str = "end_s = 60\nstep_s = 5",
        pairs: str = "") -> leonet.Scenario:  # fmt: skip
    return parse_scenario(
        f'{EPOCH}{pairs}\n[time]\n{time}\n[[networks]]\nname = "n"\nconstellation = {{ preset = "starlink-550" }}\n'
        f"{net}\n[ground]\n{ground}\n{extra}"
    )


def _run(sc: leonet.Scenario) -> leonet.Results:
    return leonet.run(sc, workers=1)


def _paths(res: leonet.Results) -> dict[float, list[list[int]]]:
    t = res.routes_table(["t_s", "path"]).to_pydict()
    out: dict[float, list[list[int]]] = {}
    for ts, p in zip(t["t_s"], t["path"], strict=True):
        out.setdefault(float(ts), []).append(list(p or []))
    return out


def _sats_on(paths: list[list[int]], S: int) -> set[int]:
    return {n for p in paths for n in p if n < S}


def _ground_link_sats(res: leonet.Results, t: float) -> set[int]:
    links = res.links(t).to_pydict()
    return {min(u, v) for u, v, k in zip(links["u"], links["v"], links["kind"], strict=True) if k == "ground"}


@pytest.fixture(scope="module")
def baseline() -> leonet.Results:
    return _run(_sc())


def test_a_failed_satellite_is_on_no_route_and_no_link_while_failed_and_is_again_after(
    baseline: leonet.Results,
) -> None:
    S = baseline.prepared.networks[0].n_sats
    base = _paths(baseline)
    # satellites the routes use at t = 20 (mid-slot: kept paths through them must be repaired) and after t = 40
    used = _sats_on(base[20.0], S) & _sats_on(base[45.0], S)
    assert len(used) >= 3
    ids = sorted(used)[:6]
    res = _run(_sc(f"[[faults]]\nkind = 'satellite'\nids = {ids}\nstart_s = 20\nend_s = 40\n"))
    got = _paths(res)
    for t, paths in got.items():
        on = _sats_on(paths, S) & set(ids)
        links = _ground_link_sats(res, t) & set(ids)
        if 20 <= t < 40:
            assert not on and not links, (t, on, links)
        elif t < 20:
            assert paths == base[t]  # before the fault: the run without it
    after = set().union(*(_sats_on(got[t], S) for t in got if t >= 40))
    assert after & set(ids)  # back in service after end_s
    # the kept paths (reconfig, 15 s slots: t = 20 is inside the slot of t = 15) through a failed satellite
    # were re-routed at once
    tab = res.routes_table(["t_s", "rerouted"]).to_pydict()
    was = [i for i, p in enumerate(got[15.0]) if set(p) & set(ids)]
    assert was  # some kept path went through them
    rerouted_20 = [rr for ts, rr in zip(tab["t_s"], tab["rerouted"], strict=True) if ts == 20.0]
    assert all(rerouted_20[i] for i in was)


def test_the_router_repairs_a_kept_path_whose_satellite_failed(baseline: leonet.Results) -> None:
    """router.Router in reconfig mode keeps paths for a slot; a kept path that loses a hop (a failed satellite's
    edges leave the graph) is re-routed, and the repaired path avoids it (the graph's edges, read back)."""
    w = baseline.prepared
    net = w.networks[0]
    S = net.n_sats
    r = chunk._router(w, chunk.initial_carry(w).router)
    t0, t1 = 15.0, 20.0
    s0 = step.state_at(w, 0, t0)
    routes0, _, _ = r.step(s0.snapshot.graph, t0)
    victim = int(routes0.path[0][1])  # the first satellite of the first pair's path
    assert victim < S
    sc = _sc(f"[[faults]]\nkind = 'satellite'\nids = [{victim}]\n")
    wf = assembly.assemble(sc)
    s1 = step.state_at(wf, 0, t1)
    routes1, rerouted, _ = r.step(s1.snapshot.graph, t1)
    assert rerouted[0] and victim not in routes1.path[0].tolist()
    assert not (routes1.path == victim).any()


def test_a_failed_laser_link_is_never_a_hop(baseline: leonet.Results) -> None:
    S = baseline.prepared.networks[0].n_sats
    hops: set[tuple[int, int]] = set()
    for paths in _paths(baseline).values():
        for p in paths:
            hops |= {(min(a, b), max(a, b)) for a, b in itertools.pairwise(p) if a < S and b < S}
    assert len(hops) >= 5
    fail = sorted(hops)[:8]
    res = _run(_sc(f"[[faults]]\nkind = 'isl'\npairs = {[list(h) for h in fail]}\n"))
    for t, paths in _paths(res).items():
        used = {(min(a, b), max(a, b)) for p in paths for a, b in itertools.pairwise(p)}
        assert not used & set(fail), t
        links = res.links(t).to_pydict()
        isl = {
            (min(u, v), max(u, v)) for u, v, k in zip(links["u"], links["v"], links["kind"], strict=True) if k == "isl"
        }
        assert not isl & set(fail)


def test_all_lasers_of_a_satellite_fail_but_it_keeps_its_ground_links(baseline: leonet.Results) -> None:
    S = baseline.prepared.networks[0].n_sats
    sat = sorted(_sats_on(_paths(baseline)[0.0], S))[0]
    res = _run(_sc(f"[[faults]]\nkind = 'isl'\nsats = [{sat}]\n", time="end_s = 0"))
    links = res.links(0.0).to_pydict()
    kinds = {k for u, v, k in zip(links["u"], links["v"], links["kind"], strict=True) if sat in (u, v)}
    assert kinds <= {"ground"}
    base_kinds = {k for u, v, k in zip(*(baseline.links(0.0).to_pydict()[c] for c in ("u", "v", "kind")), strict=True)
                  if sat in (u, v)}  # fmt: skip
    assert "isl" in base_kinds


def _bent_pipe(extra: str = "") -> leonet.Scenario:
    return _sc(
        extra,
        net='isl = "none"',
        ground='cities = ["London", "Madrid", "Warsaw"]\ngateways = "starlink"',
        pairs='pairs = [["London", "Madrid"], ["London", "Warsaw"], ["Madrid", "Warsaw"]]',
        time="end_s = 30\nstep_s = 10",
    )


def test_a_gateway_that_is_down_carries_nothing() -> None:
    base = _run(_bent_pipe())
    w = base.prepared
    S = w.networks[0].n_sats
    names = w.ground.names
    used = {names[n - S] for paths in _paths(base).values() for p in paths for n in p[1:-1] if n >= S}
    assert used and all(w.ground.kind[names.index(n)] == "gateway" for n in used)
    down = sorted(used)
    res = _run(_bent_pipe(f"[[faults]]\nkind = 'ground'\nnames = {down}\n"))
    ids = {S + names.index(n) for n in down}
    for t, paths in _paths(res).items():
        assert not {n for p in paths for n in p} & ids, t
        links = res.links(t).to_pydict()
        assert not (set(links["u"]) | set(links["v"])) & ids


def _jam_sc(extra: str = "", policy: str = "") -> leonet.Scenario:
    ground = (
        "cities = 0\n"
        "[[ground.stations]]\nname = 'IN-ZONE'\nlat_deg = 48.0159\nlon_deg = 37.8028\nkind = 'terminal'\n"
        "[[ground.stations]]\nname = 'OUTSIDE'\nlat_deg = 50.45\nlon_deg = 30.52\nkind = 'terminal'\n"
        "[[ground.stations]]\nname = 'PoP'\nlat_deg = 52.23\nlon_deg = 21.01\nkind = 'station'\n"
    )
    zone = "polygon = [[36.5, 47.0], [39.5, 47.0], [39.5, 49.0], [36.5, 49.0]]"
    return _sc(
        f"[[faults]]\nname = 'jam-east'\nkind = 'jamming'\n{zone}\nstart_s = 20\nend_s = 40\n{extra}\n{policy}",
        ground=ground,
        pairs='pairs = [["IN-ZONE", "PoP"], ["OUTSIDE", "PoP"]]',
    )


def _status(res: leonet.Results) -> dict[str, list[tuple[float, float, str, str]]]:
    d = res.service.to_pydict()
    out: dict[str, list[tuple[float, float, str, str]]] = {}
    for term, a, b, s, why in zip(d["terminal"], d["start_s"], d["end_s"], d["status"], d["reason"], strict=True):
        out.setdefault(term, []).append((a, b, s, why))
    return out


def test_a_jammed_terminal_is_not_served_inside_its_zone_and_window_and_is_outside() -> None:
    res = _run(_jam_sc())
    st = _status(res)
    assert st["IN-ZONE"] == [
        (0.0, 20.0, "served", ""),
        (20.0, 40.0, "jammed", "jammed (fault jam-east)"),
        (40.0, 65.0, "served", ""),
    ]
    assert [s for _, _, s, _ in st["OUTSIDE"]] == ["served"]
    rows = res.routes_table(["t_s", "src_name", "rtt_ms"]).to_pydict()
    for t, src, rtt in zip(rows["t_s"], rows["src_name"], rows["rtt_ms"], strict=True):
        jammed = src == "IN-ZONE" and 20 <= t < 40
        assert (rtt is None) == jammed, (t, src)
    g = res.prepared.ground.names.index("IN-ZONE") + res.prepared.networks[0].n_sats
    for t in (20.0, 35.0):
        links = res.links(t).to_pydict()
        assert g not in set(links["u"]) | set(links["v"])
    assert res.terminals.to_pydict()["jammed_s"] == [20.0, 0.0]  # IN-ZONE, OUTSIDE (sorted by name)


def test_a_rule_denial_stays_the_reason_inside_a_jamming_zone() -> None:
    policy = "[[policy.geofences]]\nid = 'deny-east'\naction = 'deny'\ncountries = ['UA']\n"
    policy += "active_from = 2026-02-05T08:00:30Z"
    st = _status(_run(_jam_sc(policy=policy)))
    got = [(a, b, s) for a, b, s, _ in st["IN-ZONE"]]
    assert got == [(0.0, 20.0, "served"), (20.0, 30.0, "jammed"), (30.0, 65.0, "denied")]
    assert [s for _, _, s, _ in st["OUTSIDE"]] == ["served", "denied"]


def test_a_degrading_zone_keeps_the_links_and_records_the_fraction() -> None:
    sc = _jam_sc("capacity_fraction = 0.25")
    w = assembly.assemble(sc)
    g = w.ground.names.index("IN-ZONE")
    s_in = step.state_at(w, 0, 25.0)
    mine = s_in.snapshot.gsl.ground == g
    assert mine.any() and s_in.snapshot.gsl_capacity is not None
    assert np.all(s_in.snapshot.gsl_capacity[mine] == 0.25) and np.all(s_in.snapshot.gsl_capacity[~mine] == 1.0)
    assert step.state_at(w, 0, 45.0).snapshot.gsl_capacity is None
    st = _status(_run(sc))
    assert [s for _, _, s, _ in st["IN-ZONE"]] == ["served"]


def test_the_same_seed_draws_the_same_failed_set_for_the_fault_window() -> None:
    def failed(seed: int) -> np.ndarray:
        w = assembly.assemble(_sc(f"[[faults]]\nkind = 'satellite'\nfraction = 0.1\nseed = {seed}\nend_s = 30\n"))
        fs = w.faults_of(0)
        assert fs is not None
        return fs.failed_sats(np.array([0.0, 10.0, 29.0, 30.0]))

    a, b, c = failed(7), failed(7), failed(8)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert (a[0] == a[1]).all() and (a[0] == a[2]).all() and not a[3].any()  # the same satellites, then none
    S = a.shape[1]
    assert a[0].sum() == round(0.1 * S)
    ref = np.sort(np.random.default_rng(7).choice(S, size=round(0.1 * S), replace=False))  # the documented draw
    assert np.flatnonzero(a[0]).tolist() == ref.tolist()


def test_a_storm_fails_a_share_of_the_satellites_below_its_altitude_only() -> None:
    shells = (
        "shells = [{ altitude_km = 350, inclination_deg = 53, planes = 6, sats_per_plane = 10 },"
        " { altitude_km = 550, inclination_deg = 53, planes = 6, sats_per_plane = 10 }]"
    )
    text = (
        f"{EPOCH}[time]\nend_s = 10\n[[networks]]\nname = 'n'\nconstellation = {{ {shells} }}\n[ground]\ncities = 2\n"
        "[[faults]]\nkind = 'storm'\nbelow_km = 400\nfraction = 0.5\nstart_s = 5\nseed = 1\n"
    )
    w = assembly.assemble(parse_scenario(text))
    fs = w.faults_of(0)
    assert fs is not None
    f = fs.failed_sats(np.array([0.0, 5.0, 1e6]))
    assert not f[0].any() and (f[1] == f[2]).all()
    assert f[1].sum() == 30 and f[1][:60].sum() == 30 and not f[1][60:].any()


def test_faults_chunked_equal_the_serial_run() -> None:
    sc = _sc(
        "[[faults]]\nkind = 'satellite'\nfraction = 0.05\nseed = 2\nstart_s = 12\nend_s = 47\n"
        "[[faults]]\nkind = 'isl'\nfraction = 0.1\nseed = 2\nstart_s = 23\n"
    )
    w = assembly.assemble(sc)

    def table(size: int) -> pa.Table:
        return pa.Table.from_batches([r.routes for r in chunks(w, 0, size)])

    one = table(64)
    assert table(5).equals(one) and table(1).equals(one)
    # an independent chunk from carry_at equals the chained one
    k0 = 7
    alone = chunk.simulate_chunk(w, 0, k0, 13, chunk.carry_at(w, 0, k0))
    assert alone.routes.equals(one.slice(k0 * len(w.src), 6 * len(w.src)).combine_chunks().to_batches()[0])


@pytest.mark.parametrize(
    ("fault", "where"),
    [
        ("kind = 'satellite'\nids = [99999]", "faults[0].ids[0]"),
        ("kind = 'satellite'\nids = ['nope']", "faults[0].ids[0]"),
        ("kind = 'isl'\npairs = [[0, 99999]]", "faults[0].pairs[0][1]"),
        ("kind = 'ground'\nnames = ['Atlantis']", "faults[0].names[0]"),
        ("kind = 'satellite'\nfraction = 0.1\nnetwork = 'other'", "faults[0].network"),
        ("kind = 'storm'\nbelow_km = 600\nfraction = 1\nshell = 3", "faults[0].shell"),
    ],
)
def test_a_fault_naming_something_that_is_not_there_is_one_line_naming_the_field(fault: str, where: str) -> None:
    with pytest.raises(InputError) as e:
        assembly.assemble(_sc(f"[[faults]]\n{fault}\n"))
    assert where in str(e.value) and "\n" not in str(e.value) and "expected" in str(e.value)


_KINDS = ["satellite", "isl", "storm", "ground", "jamming", "laser", ""]
_VALUES = st.one_of(
    st.integers(-5, 10**6),
    st.floats(-2, 2, allow_nan=False),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=8),
    st.lists(st.integers(-2, 2000), max_size=3),
    st.lists(st.tuples(st.floats(-200, 200, allow_nan=False), st.floats(-100, 100, allow_nan=False)), max_size=5),
)
_FIELDS = ["ids", "fraction", "seed", "pairs", "sats", "names", "below_km", "shell", "polygon", "region",
           "capacity_fraction", "start_s", "end_s", "name", "network", "colour"]  # fmt: skip


def _toml_value(v: object) -> str:
    import json

    if isinstance(v, tuple | list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, float):
        return repr(v)
    return json.dumps(v)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(_KINDS), fields=st.dictionaries(st.sampled_from(_FIELDS), _VALUES, max_size=4))
def test_any_faults_table_parses_or_fails_in_one_line_naming_the_fault(kind: str, fields: dict[str, object]) -> None:
    """The parser's contract (hypothesis): a ``[[faults]]`` table either loads, with the fields it was given, or
    is refused with one line that names ``faults[0]`` and says what was expected; never another exception."""
    body = "".join(f"{k} = {_toml_value(v)}\n" for k, v in fields.items())
    text = f'{EPOCH}[[networks]]\nname = "n"\nconstellation = {{ preset = "starlink-550" }}\n'
    text += f"[[faults]]\nkind = {_toml_value(kind)}\n{body}"
    try:
        sc = parse_scenario(text, source="f.toml")
    except InputError as exc:
        msg = str(exc)
        assert "\n" not in msg and "faults[0]" in msg and "expected" in msg, msg
        return
    f = sc.faults[0]
    assert f.kind == kind
    for k, v in fields.items():
        got = getattr(f, k)
        if isinstance(v, list) and got is not None:
            assert len(got) == len(v)
        elif isinstance(v, int | float) and not isinstance(v, bool) and k != "name":
            assert got == v


def test_fault_names_default_to_their_place() -> None:
    sc = _sc("[[faults]]\nkind = 'satellite'\nids = [1]\n[[faults]]\nname = 'b'\nkind = 'satellite'\nids = [2]\n")
    assert faults.fault_names(sc.faults) == ("faults[0]", "b")
    with pytest.raises(InputError, match="fault name 'b' is used twice"):
        _sc("[[faults]]\nname = 'b'\nkind = 'satellite'\nids = [1]\n" * 2)


def test_front_jamming_2026_jams_the_unit_at_the_front_and_keeps_the_denials() -> None:
    """The built-in scenario (docs/scenarios.md): the registered unit at Kramatorsk, inside the band, is jammed
    from 120 s to 480 s; the terminals the whitelist denies inside the band stay denied by their rules; without
    the fault the unit is served throughout."""
    sc = leonet.load_scenario("front-jamming-2026")
    st = _status(_run(sc))
    assert [(a, b, s) for a, b, s, _ in st["KIT-UA-0001"]] == [
        (0.0, 120.0, "served"),
        (120.0, 480.0, "jammed"),
        (480.0, 610.0, "served"),
    ]
    assert [s for _, _, s, _ in st["UNREG-DONETSK"]] == ["denied"] and "whitelist" in st["UNREG-DONETSK"][0][3]
    assert [s for _, _, s, _ in st["KIT-RU-0666"]] == ["denied"]
    assert [s for _, _, s, _ in st["KIT-UA-0003"]] == ["served"]
    plain = _status(_run(sc.model_copy(update={"faults": []})))
    assert [s for _, _, s, _ in plain["KIT-UA-0001"]] == ["served"]
    # coverage only (no pairs: chunk.py's other branch): the same service; every satellite failed: no coverage
    assert _status(_run(sc.model_copy(update={"pairs": "none"}))) == st
    dark = sc.model_copy(
        update={"pairs": "none", "faults": [*sc.faults, *_sc("[[faults]]\nkind = 'satellite'\nfraction = 1\n").faults]}
    )
    out = _status(_run(dark))
    assert [s for _, _, s, _ in out["KIT-UA-0003"]] == ["no-coverage"]
    assert [s for _, _, s, _ in out["KIT-UA-0001"]] == ["no-coverage", "jammed", "no-coverage"]


def test_front_jamming_2026_degrades_the_unit_before_it_cuts_it_off() -> None:
    """The built-in's degraded phase (capacity 0.3 until 120 s): the unit at Kramatorsk keeps its satellite and
    gets 0.3 of what it gets after the jamming (its demand, nothing else limiting it), held by the jamming;
    total jamming: nothing; the Kharkiv hospital, outside the band, gets the same at every slot."""
    from leonet import capacity

    world = _run(leonet.load_scenario("front-jamming-2026")).prepared
    spec = capacity.capacity_setup(world)
    assert world.access is not None
    names = [world.ground.names[i] for i in world.access.terminals]
    unit, hospital = names.index("KIT-UA-0001"), names.index("KIT-UA-0003")
    degraded, total, after = (capacity.slot_capacity(world, 0, t, spec) for t in (60.0, 300.0, 540.0))
    assert degraded.capacity_fraction[unit] == 0.3 and after.capacity_fraction[unit] == 1.0
    assert degraded.serving_sat[unit] >= 0 and after.down_mbps[unit] > 0
    assert degraded.down_mbps[unit] == pytest.approx(0.3 * after.down_mbps[unit], rel=1e-9)
    assert degraded.up_mbps[unit] == pytest.approx(0.3 * after.up_mbps[unit], rel=1e-9)
    assert degraded.down_bottleneck[unit] == capacity.JAMMED
    assert total.capacity_fraction[unit] == 0.0 and total.down_mbps[unit] == 0 and total.serving_sat[unit] == -1
    assert degraded.down_mbps[hospital] == total.down_mbps[hospital] == after.down_mbps[hospital] > 0


def test_the_server_says_jammed_with_the_fault() -> None:
    """leonet serve's terminal decisions (server/snapshots.py) at a jammed time: outcome ``jammed`` naming the
    fault, the denials kept; after the window the unit is served."""
    from fastapi.testclient import TestClient

    from leonet.server.app import create_app
    from serve_support import MemoryStore, hdr, require

    app = create_app(MemoryStore(leonet.load_scenario("front-jamming-2026")), require=require, control=False)
    with TestClient(app) as client:

        def at(t: float) -> dict[str, dict[str, object]]:
            r = client.get(f"/api/terminals?t_s={t}", headers=hdr("tv"))
            assert r.status_code == 200, r.text
            return {row["kit_id"]: row["decision"] for row in r.json()}

        mid, late = at(300.0), at(500.0)
    assert mid["KIT-UA-0001"]["outcome"] == "jammed" and mid["KIT-UA-0001"]["rule"] == "front-ew"
    assert mid["KIT-UA-0001"]["reason"] == "jammed (fault front-ew)"
    assert mid["UNREG-DONETSK"]["outcome"] == "denied" and mid["KIT-UA-0003"]["outcome"] == "served"
    assert late["KIT-UA-0001"]["outcome"] == "served"


def test_the_faults_resource_creates_audits_applies_and_deletes(tmp_path: object) -> None:
    """``/api/faults`` on a real control store (SQLite) in the whole app: an operator adds a jamming fault over
    Kharkiv (the hospital terminal there goes from served to jammed at once, the next request seeing the new
    revision), the change is audited with who and what, a bad fault is one line naming the field (422, nothing
    written), a viewer may read but not write, and deleting it serves the hospital again."""
    import json
    from pathlib import Path

    from fastapi.testclient import TestClient

    from leonet.control import ControlStore
    from leonet.server.app import create_app

    store = ControlStore.open(
        f"sqlite:///{Path(str(tmp_path)) / 'c.db'}", scenario=leonet.load_scenario("front-jamming-2026")
    )
    admin = store.create_admin_token_if_none() or ""
    tok = {"admin": admin, **{r: store.create_token(f"t {r}", r, actor="test")[1] for r in ("viewer", "operator")}}  # type: ignore[arg-type]

    def h(role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tok[role]}"}

    kharkiv = {
        "name": "jam-kharkiv",
        "kind": "jamming",
        "polygon": [[36.0, 49.8], [36.5, 49.8], [36.5, 50.2], [36.0, 50.2]],
        "start_s": 0,
    }
    with TestClient(create_app(store)) as c:

        def hospital() -> dict[str, object]:
            rows = c.get("/api/terminals?t_s=60", headers=h("viewer")).json()
            return next(r["decision"] for r in rows if r["kit_id"] == "KIT-UA-0003")

        assert hospital()["outcome"] == "served"
        got = c.get("/api/faults", headers=h("viewer")).json()
        assert [f["name"] for f in got["faults"]] == ["front-ew-degraded", "front-ew"]  # the built-in's
        assert c.post("/api/faults", json=kharkiv, headers=h("viewer")).status_code == 403
        n_audit = len(store.audit_entries())
        bad = c.post("/api/faults", json={**kharkiv, "capacity_fraction": 2}, headers=h("operator"))
        assert bad.status_code == 422 and "capacity_fraction" in bad.json()["detail"]
        sat = {"name": "s", "kind": "satellite", "ids": [10**6]}
        bad = c.post("/api/faults", json=sat, headers=h("operator"))
        assert bad.status_code == 422 and "ids[0]" in bad.json()["detail"]
        assert len(store.audit_entries()) == n_audit
        ok = c.post("/api/faults", json=kharkiv, headers=h("operator"))
        assert ok.status_code == 201, ok.text
        assert hospital() == {**hospital(), "outcome": "jammed", "rule": "jam-kharkiv"}
        entry = next(e for e in reversed(store.audit_entries()) if e.action == "fault.create")
        assert entry.entity == "fault/jam-kharkiv" and json.loads(entry.after)["name"] == "jam-kharkiv"
        assert "operator" in entry.actor
        assert c.post("/api/faults", json=kharkiv, headers=h("operator")).status_code == 422  # the name is taken
        assert c.delete("/api/faults/nope", headers=h("operator")).status_code == 404
        assert c.delete("/api/faults/jam-kharkiv", headers=h("operator")).status_code == 200
        assert hospital()["outcome"] == "served"
        assert store.verify_audit().intact
    store.close()


def test_the_pool_run_with_faults_equals_the_serial_run() -> None:
    """``leonet.run`` on forked workers (parts of 256 snapshots: three parts here) gives the serial run's rows
    with faults too (the workers inherit the compiled schedule; a part's carry comes from ``carry_at``)."""
    sc = _sc(
        "[[faults]]\nkind = 'satellite'\nfraction = 0.1\nseed = 5\nstart_s = 200\nend_s = 400\n"
        "[[faults]]\nkind = 'isl'\nfraction = 0.2\nseed = 5\nstart_s = 250\n",
        ground='cities = ["London", "Madrid", "Warsaw"]',
        time="end_s = 600\nstep_s = 1",
    )
    serial = leonet.run(sc, workers=1).routes_table()
    pooled = leonet.run(sc, workers=2).routes_table()
    assert pooled.equals(serial)


def test_a_fault_of_one_network_leaves_the_others_alone() -> None:
    text = (
        f"{EPOCH}[time]\nend_s = 10\n"
        "[[networks]]\nname = 'a'\nconstellation = { preset = 'starlink-550' }\n"
        "[[networks]]\nname = 'b'\nconstellation = { preset = 'starlink-550' }\n"
        "[ground]\ncities = 2\n"
        "[[faults]]\nkind = 'satellite'\nids = [1, 2, 3]\nnetwork = 'b'\n"
        "[[faults]]\nkind = 'ground'\nnames = ['Tokyo']\n"
    )
    w = assembly.assemble(parse_scenario(text))
    fa, fb = w.faults_of(0), w.faults_of(1)
    assert fa is not None and fb is not None
    t = np.array([0.0, 5.0])
    assert not fa.failed_sats(t).any() and fb.failed_sats(t)[:, [1, 2, 3]].all() and fb.failed_sats(t).sum() == 6
    tokyo = w.ground.names.index("Tokyo")
    for fs in (fa, fb):  # a fault without a network hits every network
        down = fs.ground_node_down(t)
        assert down[:, tokyo].all() and down.sum() == 2
        assert fs.names_down(5.0) == {"Tokyo"}
