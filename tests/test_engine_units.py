"""Engine pieces with exact expected values: snapshot times, pair expansion, policy blocks, end satellites,
kept-path look-ups.  Each expectation is written out from the documented rule (README "Scenarios" and
"Conventions"), not taken from a run."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

import leonet
from leonet import assembly, router, routes_table, step
from leonet.routing import build_graph
from leonet.scenario import parse_scenario
from runs import simulate, window_decisions


def _sc(time: str = "end_s = 10", ground: str = "cities = 4", pairs: str = "") -> leonet.Scenario:
    return parse_scenario(
        f'epoch = 2026-02-23T00:00:00Z\n{pairs}\n[time]\n{time}\n[[networks]]\nname = "n"\n'
        f'constellation = {{ preset = "starlink-550" }}\n[ground]\n{ground}\n'
    )


@pytest.mark.parametrize(
    ("time", "expected"),
    [
        ("end_s = 3", [0.0, 1.0, 2.0, 3.0]),  # end included
        ("start_s = 3\nend_s = 10\nstep_s = 3", [3.0, 6.0, 9.0]),  # end not on the grid: excluded
        ("start_s = 5\nend_s = 5", [5.0]),
        ("end_s = 0.3\nstep_s = 0.1", [0.0, 0.1, 0.2, 0.3]),  # 0.3 / 0.1 = 2.9999999999999996: still 4
        ("end_s = 1\nstep_s = 0.4", [0.0, 0.4, 0.8]),
    ],
)
def test_snapshot_times(time: str, expected: list[float]) -> None:
    assert assembly.snapshot_times(_sc(time)).tolist() == pytest.approx(expected, abs=1e-12)
    assert len(assembly.snapshot_times(_sc(time))) == len(expected)


def test_pairs_all_excludes_gateways_all_nodes_includes_them() -> None:
    ground = 'cities = ["London", "Paris", "Madrid"]\ngateways = "starlink"'
    sc = _sc(ground=ground)
    g = assembly.ground_from_spec(sc.ground, sc.epoch, sc.resolve)
    src, dst = assembly.pair_indices(sc, g)
    assert list(zip(src.tolist(), dst.tolist(), strict=True)) == [(0, 1), (0, 2), (1, 2)]
    n = g.size
    assert n > 3 and g.is_gateway[3:].all() and not g.is_gateway[:3].any()
    src, dst = assembly.pair_indices(_sc(ground=ground, pairs='pairs = "all-nodes"'), g)
    assert len(src) == n * (n - 1) // 2 and (src < dst).all()
    assert len(set(zip(src.tolist(), dst.tolist(), strict=True))) == len(src)
    src, dst = assembly.pair_indices(_sc(ground=ground, pairs='pairs = "none"'), g)
    assert len(src) == 0 and len(dst) == 0
    listed = _sc(ground=ground, pairs='pairs = [["Madrid", "London"], ["Paris", "Madrid"]]')
    src, dst = assembly.pair_indices(listed, g)
    assert src.tolist() == [2, 1] and dst.tolist() == [0, 2]


def test_a_pair_of_one_node_with_itself_is_refused() -> None:
    sc = _sc(ground='cities = ["London", "Paris"]', pairs='pairs = [["London", "Paris"], ["Paris", "Paris"]]')
    with pytest.raises(leonet.InputError, match=r"pairs\[1\].*both 'Paris'; expected two nodes"):
        assembly.assemble(sc)


def test_pairs_at_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(assembly, "MAX_PAIRS", 6)  # 4 cities: exactly 6 pairs, allowed
    assert len(assembly.assemble(_sc()).src) == 6
    monkeypatch.setattr(assembly, "MAX_PAIRS", 5)
    with pytest.raises(leonet.InputError, match="6 pairs of 4 ground nodes"):
        assembly.assemble(_sc())


def test_ground_needs_two_nodes() -> None:
    with pytest.raises(leonet.InputError, match=r"1 ground node\(s\); expected at least two"):
        assembly.assemble(_sc(ground='cities = ["London"]'))
    assert assembly.assemble(_sc(ground='cities = ["London", "Paris"]')).src.tolist() == [0]


def test_policy_in_blocks_of_terminals_equals_one_block(monkeypatch: pytest.MonkeyPatch) -> None:
    """front-whitelist-2026 decided with blocks of 1 and 2 terminals equals one block for all."""
    sc = leonet.load_scenario("front-whitelist-2026")
    sc = sc.model_copy(update={"time": sc.time.model_copy(update={"end_s": 120})})
    one = window_decisions(assembly.assemble(sc))
    assert one is not None and len(one.terminal_ids) >= 3
    T = len(assembly.snapshot_times(sc))
    for cells in (T, 2 * T, 3 * T + 1, 4 * T):  # 7 terminals: blocks of 1, 2, 3 and 4 (7, 4, 3 and 2 blocks)
        monkeypatch.setattr(step, "DECIDE_CELLS", cells)
        d = window_decisions(assembly.assemble(sc), chunk=T)
        assert d is not None
        assert d.terminal_ids.tolist() == one.terminal_ids.tolist()
        assert np.array_equal(d.served, one.served) and np.array_equal(d.rule, one.rule)
        assert np.array_equal(d.country, one.country) and np.array_equal(d.t_s, one.t_s)
        assert d.rule_ids == one.rule_ids and d.reasons == one.reasons and d.country_codes == one.country_codes


def test_end_satellites() -> None:
    path = np.array(
        [
            [10, 1, 2, 3, 11],  # first 1, last 3
            [10, 4, 11, -1, -1],  # one satellite: first = last = 4
            [-1, -1, -1, -1, -1],  # unreachable
            [10, 5, 12, 6, 11],  # through a gateway (bent pipe): first 5, last 6
        ],
        dtype=np.int32,
    )
    first, last = router.end_sats(path)
    assert first.tolist() == [1, 4, -1, 5] and last.tolist() == [3, 4, -1, 6]
    first, last = router.end_sats(np.full((2, 1), -1, dtype=np.int32))  # nothing reachable: one column
    assert first.tolist() == [-1, -1] and last.tolist() == [-1, -1]


def test_kept_path_delays() -> None:
    S, G = 3, 2
    graph = build_graph(
        S,
        G,
        np.array([[0, 1], [1, 2]], np.int32),
        np.array([1.5, 2.0]),
        np.array([0, 1], np.int32),
        np.array([0, 2], np.int32),
        np.array([0.25, 0.5]),
    )
    paths = np.array(
        [
            [3, 0, 1, 2, 4],  # intact: 0.25 + 1.5 + 2.0 + 0.5
            [3, 0, 2, 4, -1],  # no ISL 0 - 2
            [3, 0, 1, 4, -1],  # satellite 1 has no link to ground 1
            [-1, -1, -1, -1, -1],  # nothing kept
            [4, 2, 1, 0, 3],  # the reverse direction: ISLs both ways, ground links both ways
        ],
        dtype=np.int32,
    )
    intact, delay = router.kept_path_delays(graph, paths)
    assert intact.tolist() == [True, False, False, False, True]
    assert delay[0] == pytest.approx(4.25) and delay[4] == pytest.approx(4.25)
    assert np.isnan(delay[1:4]).all()


def test_a_denied_terminal_gets_no_link_unless_its_network_ignores_the_policy() -> None:
    """crimea-2022 around the boat's entry into the Sevastopol geofence, with a second network that is exempt
    (``policy = false``): at the snapshots the policy denies the boat, it has no ground link (coverage) and no
    route in the first network, and both in the second."""
    sc = leonet.load_scenario("crimea-2022")
    whole = assembly.assemble(sc)  # the boat's first denial in the scenario's window
    whole_d = window_decisions(whole)
    assert whole_d is not None
    boat_col = int(np.flatnonzero(whole.terminals == whole.ground.index("BOAT-1"))[0])
    k = int(np.argmin(whole_d.served[:, boat_col]))
    assert k > 2 and not whole_d.served[k, boat_col]
    t_deny = float(whole.times_s[k])
    exempt = sc.networks[0].model_copy(update={"name": "exempt", "policy": False})
    sc = sc.model_copy(
        update={
            "time": sc.time.model_copy(update={"start_s": t_deny - 120.0, "end_s": t_deny + 120.0, "step_s": 60.0}),
            "networks": [sc.networks[0], exempt],
            "pairs": [("BOAT-1", "Warsaw-PoP")],
        }
    )
    prep = assembly.assemble(sc)
    decisions = window_decisions(prep)
    assert decisions is not None
    boat = prep.ground.index("BOAT-1")
    col = int(np.flatnonzero(prep.terminals == boat)[0])
    served = decisions.served[:, col]
    assert served.any() and not served.all()
    for i, expect_denial in ((0, True), (1, False)):
        batches, cov = simulate(prep, i)
        rows = pa.Table.from_batches(batches).to_pydict()
        reach = np.array(rows["reachable"])
        if expect_denial:
            assert not cov[~served, boat].any() and not reach[~served].any()
            assert cov[served, boat].all() and reach[served].all()
        else:
            assert cov[:, boat].all() and reach.all()


@pytest.mark.parametrize("pairs", ['pairs = "none"', ""])
def test_progress_is_called_once_per_snapshot(pairs: str) -> None:
    """``progress(n)`` counts snapshots: the total is the number of snapshots, with or without pairs to route
    (a coverage-only run routes nothing and yields no rows)."""
    prep = assembly.assemble(_sc(time="end_s = 9\nstep_s = 1", pairs=pairs))
    calls: list[int] = []
    batches, cov = simulate(prep, 0, calls.append, chunk=4)
    assert sum(calls) == len(prep.times_s) == 10
    assert sum(b.num_rows for b in batches) == 10 * len(prep.src)
    assert cov.any()
    if not len(prep.src):
        assert batches == []


def test_a_path_through_satellite_zero() -> None:
    """Node id 0 is a satellite like any other: two stations right under satellite 0 are routed through it, and
    the routes table keeps it in ``path``, ``first_sat`` and ``last_sat`` (a ``>= 0`` test, not ``> 0``)."""
    probe = leonet.run(_sc(time="end_s = 0", ground='cities = ["London", "Paris"]'))
    p = probe.positions(0.0).to_pydict()
    lat, lon = p["lat_deg"][0], p["lon_deg"][0]
    stations = "\n".join(
        f'[[ground.stations]]\nname = "s{i}"\nlat_deg = {lat + d}\nlon_deg = {lon}' for i, d in enumerate((-0.3, 0.3))
    )
    res = leonet.run(_sc(time="end_s = 0", ground=f"cities = 0\n{stations}"))
    S = res.prepared.networks[0].n_sats
    row = res.routes.to_pylist()[0]
    assert row["path"] == [S, 0, S + 1]
    assert row["first_sat"] == 0 and row["last_sat"] == 0 and row["hops"] == 2


def test_routes_schema_is_the_documented_one() -> None:
    """``ROUTES_SCHEMA`` against the README's "routes columns" table: the same columns in the same order, the
    documented types, and nullable exactly where the README says "null if"."""
    import re

    from conftest import REPO_ROOT

    text = (REPO_ROOT / "README.md").read_text()
    table = text.split("`routes` columns", 1)[1].split("\n\n", 2)[1]
    rows = [ln for ln in table.splitlines() if ln.startswith("| `")]
    documented: list[tuple[str, str, bool]] = []
    for ln in rows:
        cells = [c.strip() for c in ln.strip("|").split("|")]
        names = re.findall(r"`(\w+)`", cells[0])
        documented += [(n, cells[1].split(",")[0].strip(), "null if" in cells[1] + cells[2]) for n in names]
    types = {
        "string": pa.dictionary(pa.int32(), pa.string()),
        "float64": pa.float64(),
        "int32": pa.int32(),
        "bool": pa.bool_(),
        "list<int32>": pa.list_(pa.int32()),
    }
    schema = routes_table.ROUTES_SCHEMA
    assert [f.name for f in schema] == [d[0] for d in documented]
    for f, (name, typ, nullable) in zip(schema, documented, strict=True):
        assert f.type == types[typ], name
        assert f.nullable is nullable, name


def test_errors_name_the_scenario_once_and_files_as_they_are(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``assembly.assemble`` prefixes a field error with the scenario's file; an error that already names a file (an
    absolute or relative path, or ``<...>``) or the scenario itself is passed on unchanged."""
    from test_tle import A1, A2

    bad = tmp_path / "bad.tle"
    bad.write_text(f"SAT\n{A1}\n{A2[:68]}\n")
    text = (
        'epoch = 2026-02-23T00:00:00Z\n[time]\nend_s = 1\n[[networks]]\nname = "n"\n'
        'constellation = {{ tle = "{tle}" }}\n[ground]\ncities = ["London", "Paris"]\n'
    )
    sc = parse_scenario(text.format(tle=bad), source="my.toml", base_dir=str(tmp_path))
    with pytest.raises(leonet.InputError) as err:
        assembly.assemble(sc)
    assert err.value.where == f"{bad}:3" and str(err.value).startswith(f"{bad}:3: line 2 has 68 characters")
    sc = parse_scenario(
        'epoch = 2026-02-23T00:00:00Z\npairs = [["London", "Nowhere"]]\n[[networks]]\nname = "n"\n'
        'constellation = { preset = "starlink-550" }\n[ground]\ncities = ["London", "Paris"]\n',
        source="my.toml",
    )
    with pytest.raises(leonet.InputError) as err:
        assembly.assemble(sc)
    assert err.value.where == "my.toml: pairs[0][1]" and str(err.value).count("my.toml") == 1
