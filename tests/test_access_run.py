"""The access path in a run: the ``[access]`` section (validation, a hypothesis test of its parser), the access
table (any split of the window into chunks gives the same rows; the policy's denials), the output directory
(Parquet parts, the DuckDB view, read back) and ``leonet run access-us-europe`` as typed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leonet import assembly, catalog
from leonet.access_table import ACCESS_SCHEMA, access_chunk, access_of_world
from leonet.errors import InputError
from leonet.results import run
from leonet.scenario import AccessSpec, Scenario, parse_scenario

BASE: dict[str, Any] = {
    "epoch": "2026-02-23T00:00:00Z",
    "time": {"end_s": 90, "step_s": 15},
    "networks": [{"name": "n", "constellation": {"preset": "starlink-550"}}],
    "ground": {"cities": ["New York", "London", "Paris", "Chicago"], "cities_kind": "terminal"},
    "pairs": "none",
}
TEXT = """
epoch = 2026-02-23T00:00:00Z
pairs = "none"
[time]
end_s = 90
step_s = 15
[[networks]]
name = "n"
constellation = { preset = "starlink-550" }
[ground]
cities = ["New York", "London", "Paris", "Chicago"]
cities_kind = "terminal"
[access]
"""


def scenario(extra: str = "", body: str = TEXT) -> Scenario:
    return parse_scenario(body + extra, "s.toml")


def refused(extra: str, *words: str, body: str = TEXT) -> str:
    with pytest.raises(InputError) as ei:
        scenario(extra, body)
    msg = str(ei.value)
    assert "\n" not in msg and msg.startswith("s.toml") and "expected" in msg, msg
    for w in words:
        assert w in msg, msg
    return msg


def test_defaults_are_the_documented_constants() -> None:
    from leonet import access

    a = scenario().access
    assert a is not None
    assert (a.mode, a.pops, a.gateways, a.homing) == ("lasers", "starlink", "starlink", "country")
    assert a.fibre_refractive_index == access.FIBRE_GROUP_INDEX == 1.4682
    assert a.fibre_route_factor == access.FIBRE_ROUTE_FACTOR
    assert a.gateway_min_elevation_deg == access.GATEWAY_MIN_ELEVATION_DEG == 25.0
    assert a.mac_scheduling_ms == pytest.approx(1000 / 750)
    assert scenario(body=TEXT.replace("[access]\n", "")).access is None


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ('mode = "laser"', ["access.mode", "lasers", "bent-pipe"]),
        ('homing = "closest"', ["access.homing", "country", "nearest"]),
        ("fibre_route_factor = 0.5", ["access.fibre_route_factor", "greater than or equal to 1"]),
        ("fibre_refractive_index = nan", ["access.fibre_refractive_index", "finite"]),
        ("gateway_min_elevation_deg = 90", ["access.gateway_min_elevation_deg", "less than 90"]),
        ("sat_processing_ms = -1", ["access.sat_processing_ms"]),
        ('pops = "oneweb"', ["access.pops"]),
        ("pops = []", ["access.pops"]),
        ('pops = [{ name = "A", lat_deg = 95, lon_deg = 0 }]', ["access.pops: [0].lat_deg", "got 95"]),
        ('pops = [{ name = "A", lat_deg = 0, lon_deg = 0, country = "fr" }]', ["access.pops: [0].country"]),
        ('pops = [{ name = "A", lat_deg = 0, lon_deg = 0 }, { name = "A", lat_deg = 1, lon_deg = 1 }]',
         ["pops names must be unique", "A"]),
        ('country_pops = { FR = "Frankfort" }', ["country_pops.FR", "unknown PoP", "FRA"]),
        ('country_pops = { fr = "FRA" }', ["access.country_pops"]),
        ('gateways = "ground"', ["gateways", "no ground node of kind gateway"]),
        ("speed = 3", ["access.speed", "unknown field"]),
    ],
)  # fmt: skip
def test_bad_access_fields_are_one_line_errors(extra: str, words: list[str]) -> None:
    refused(extra, *words)


def test_user_pops_gateways_and_table_resolve() -> None:
    sc = scenario(
        'pops = [{ name = "PAR", lat_deg = 48.86, lon_deg = 2.35, country = "FR" }, '
        '{ name = "NYC", lat_deg = 40.71, lon_deg = -74.0, country = "US" }]\n'
        'gateways = [{ name = "G1", lat_deg = 49.0, lon_deg = 2.0 }, { name = "G2", lat_deg = 41.0, lon_deg = -74.5 },'
        ' { name = "G3", lat_deg = 51.0, lon_deg = 0.0 }]\n'
        'country_pops = { GB = "par" }\n'
    )
    w = assembly.assemble(sc)
    assert w.access is not None
    home = [w.access.ground.pops.names[i] for i in w.access.home_pop]
    # New York (US) -> NYC; London (GB) -> the table's PAR (matched loosely, as names are); Paris -> PAR
    assert home == ["NYC", "PAR", "PAR", "NYC"]
    assert w.access.ground.gateways.names == ("G1", "G2", "G3")
    with_gw = TEXT.replace('cities_kind = "terminal"\n', 'cities_kind = "terminal"\ngateways = "starlink"\n')
    ground_gw = scenario('gateways = "ground"', with_gw)
    wg = assembly.assemble(ground_gw)
    assert wg.access is not None and wg.access.ground.gateways.size == len(catalog.gateways())


# --- hypothesis: any [access] section gives a scenario or a one-line InputError -----------------------------

_site = st.fixed_dictionaries(
    {"name": st.text(min_size=0, max_size=5), "lat_deg": st.floats(-100, 100), "lon_deg": st.floats(-200, 200)},
    optional={"country": st.sampled_from(["US", "FR", "", "x", "USA"]), "alt": st.just(1)},
)
_value = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**60), 2**60),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["lasers", "bent-pipe", "starlink", "ground", "country", "nearest", "FRA"]),
    st.lists(_site, max_size=3),
    st.dictionaries(st.sampled_from(["FR", "US", "fr", "X"]), st.sampled_from(["FRA", "LAX", "nope", ""]), max_size=2),
)
_fields = ["mode", "pops", "gateways", "homing", "country_pops", "fibre_route_factor", "fibre_refractive_index",
           "sat_processing_ms", "mac_scheduling_ms", "gateway_min_elevation_deg", "bogus"]  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(_fields), _value, max_size=5))
def test_any_access_section_gives_a_spec_or_a_one_line_error(section: dict[str, Any]) -> None:
    doc = {**BASE, "access": {k: v for k, v in section.items() if v is not None}}
    try:
        text = tomli_w.dumps(doc)
    except (TypeError, ValueError):
        return  # not representable as TOML
    try:
        sc = parse_scenario(text, "s.toml")
    except InputError as exc:
        msg = str(exc)
        assert "\n" not in msg and msg.startswith("s.toml") and "expected" in msg, msg
        assert "access" in msg, msg
        return
    assert isinstance(sc.access, AccessSpec)


# --- the access table in a run ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world() -> assembly.World:
    return assembly.assemble(scenario('mode = "lasers"\n').with_time(end_s=150.0))


def test_any_split_into_chunks_gives_the_same_rows(world: assembly.World) -> None:
    whole = access_of_world(world)
    T, N = len(world.times_s), len(world.terminals)
    assert whole.num_rows == T * N and whole.schema.equals(ACCESS_SCHEMA)
    for size in (1, 4):
        assert access_of_world(world, size).equals(whole)
    parts = [access_chunk(world, 0, a, min(T, a + 3)) for a in range(0, T, 3)]
    assert pa.Table.from_batches(parts).unify_dictionaries().equals(whole)
    served = whole.column("one_way_ms").is_valid().to_numpy(zero_copy_only=False)
    assert served.mean() > 0.8


def test_the_reference_refuses_faults_rather_than_ignore_them(world: assembly.World) -> None:
    """access_of_world is the fault-free reference (the run applies faults: tests/test_faults_access.py); with a
    fault it says so instead of returning rows that differ from the run's."""
    assert world.faults_of(0) is None
    faulty = assembly.assemble(
        scenario('mode = "lasers"\n[[faults]]\nkind = "satellite"\nids = [0]\n').with_time(end_s=30.0)
    )
    with pytest.raises(ValueError, match=r"does not apply \[\[faults\]\]"):
        access_of_world(faulty)
    with pytest.raises(ValueError, match="faults"):
        access_chunk(faulty, 0, 0, 1)


def same(a: pa.Table, b: pa.Table) -> bool:
    """Row-for-row equality of two access tables whatever their dictionaries and chunking."""
    return bool(a.cast(ACCESS_SCHEMA).combine_chunks().unify_dictionaries().equals(
        b.cast(ACCESS_SCHEMA).combine_chunks().unify_dictionaries()
    ) or a.to_pylist() == b.to_pylist())  # fmt: skip


def test_run_serial_parts_pool_and_resume_give_the_independent_rows(world: assembly.World, tmp_path: Path) -> None:
    """The rows the run computes inside the chunks (on the snapshot's own links) equal access_of_world's (its
    own propagation and links), in memory, as parts on one or two worker processes, and after a resume."""
    from leonet import parts, pool
    from leonet.results import run_prepared

    ref = access_of_world(world)
    mem = run_prepared(world, workers=1).access
    assert isinstance(mem, pa.Table) and same(mem, ref)
    serial = tmp_path / "serial"
    serial.mkdir()
    got, _ = parts.run_to_parts(world, serial, chunk_snapshots=4)
    assert got.access is not None and same(got.access.to_table(), ref)
    files = sorted((serial / "access").glob("part-*.parquet"))
    assert len(files) == 3
    if pool.available():
        two = tmp_path / "two"
        two.mkdir()
        got2, _ = parts.run_to_parts(world, two, pool.pool_compute(two, 2), chunk_snapshots=4)
        assert got2.access is not None and same(got2.access.to_table(), ref)
    files[1].unlink()  # a part whose access rows are missing is computed again
    got3, resumed = parts.run_to_parts(world, serial, chunk_snapshots=4)
    assert resumed == 2 and got3.access is not None and same(got3.access.to_table(), ref)


def test_policy_denied_terminals_get_no_access() -> None:
    """A licence list without GB: London is denied, so it has no serving satellite and no PoP."""
    sc = scenario('[policy]\nlicences = [{ id = "l", countries = ["US", "FR"] }]\n', TEXT.replace("[access]\n", "")
                  + "[access]\n")  # fmt: skip
    res = run(sc, workers=1)
    acc = res.access_table()
    rows = acc.to_pylist()
    london = [r for r in rows if r["terminal"] == "London"]
    assert london and all(r["serving_sat"] is None and r["pop"] is None and r["rtt_ms"] is None for r in london)
    others = [r for r in rows if r["terminal"] != "London"]
    assert sum(r["rtt_ms"] is not None for r in others) > 0.8 * len(others)


def test_results_store_view_and_readback(tmp_path: Path) -> None:
    from leonet import store
    from leonet.readback import read_results

    sc = scenario('mode = "bent-pipe"\n')
    res = run(sc, workers=1)
    assert res.access is not None
    summ = res.access_summary().to_pylist()[0]
    acc = res.access_table()
    rtt = acc.column("rtt_ms").to_numpy(zero_copy_only=False).astype(float)
    assert summ["served_share"] == pytest.approx(np.isfinite(rtt).mean())
    assert summ["rtt_median_ms"] == pytest.approx(np.nanmedian(rtt))
    assert (acc.column("isl_hops").drop_null().to_numpy() == 0).all()  # bent-pipe: no lasers
    out = store.write_results(res, tmp_path / "out")
    assert list((out / "access").glob("part-*.parquet"))
    con = store.connect(out)
    try:
        n, bad = con.sql("select count(*), count(*) filter (where rtt_ms <> 2 * one_way_ms) from access").fetchone()  # type: ignore[misc]
        assert n == acc.num_rows and bad == 0
    finally:
        con.close()
    back = read_results(out)
    assert back.access is not None
    assert back.access_table().equals(acc)
    pairs = res.access_pairs([("New York", "London"), ("Paris", "Paris")])
    assert pairs.num_rows == 2 * len(res.prepared.times_s)


def test_leonet_run_access_us_europe_as_typed(tmp_path: Path) -> None:
    entry = Path(sys.executable).with_name("leonet")
    cmd = [str(entry)] if entry.exists() else [sys.executable, "-m", "leonet.cli"]
    env = {**os.environ, "COLUMNS": "80"}
    r = subprocess.run([*cmd, "run", "access-us-europe"], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                       env=env)  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    assert "Access: terminal -> PoP" in r.stdout and "median RTT ms" in r.stdout
    out = tmp_path / "leonet-out" / "access-us-europe"
    assert list((out / "access").glob("part-*.parquet"))
    import duckdb

    con = duckdb.connect(str(out / "results.duckdb"), read_only=True)
    try:
        con.execute("SET file_search_path = ?", [str(out)])
        rows = con.sql("select terminal, pop, rtt_ms from access where t_s = 0 order by terminal").fetchall()
        pairs = con.sql("select a, b, pop_a, pop_b, rtt_ms from access_pairs where t_s = 0 order by a").fetchall()
    finally:
        con.close()
    # the pairs via their PoPs, recomputed: each end's RTT to its PoP + twice the fibre between the PoPs
    # (geodesic by pyproj x the route factor, at c / n)
    import pyproj

    from leonet import access
    from leonet.constants import C_KM_S

    rtt = {t: x for t, _, x in rows}
    where = {p.name: p for p in catalog.pops()}
    assert {(a, b) for a, b, *_ in pairs} == {("New-York-Newark", "London"),
                                             ("Los-Angeles-Long-Beach-Santa-Ana", "Madrid")}  # fmt: skip
    for a, b, pop_a, pop_b, got in pairs:
        pa_, pb = where[pop_a], where[pop_b]
        _, _, m = pyproj.Geod(ellps="WGS84").inv(pa_.lon_deg, pa_.lat_deg, pb.lon_deg, pb.lat_deg)
        fibre_ms = m / 1e3 * access.FIBRE_ROUTE_FACTOR * access.FIBRE_GROUP_INDEX / C_KM_S * 1e3
        assert got == pytest.approx(rtt[a] + rtt[b] + 2 * fibre_ms, rel=1e-9)
    home = {t: p for t, p, _ in rows}
    assert home["London"] == "LON/LHR" and home["Madrid"] == "MAD" and home["Berlin"] == "FRA"
    assert home["Seattle"] == "SEA" and home["Chicago"] == "ORD/CHI"
    assert all(rtt is not None and 5.0 < rtt < 100.0 for _, _, rtt in rows)


def test_terminals_country_comes_from_the_policy_borders() -> None:
    """Tijuana (MX) and San Diego (US) are 25 km apart, both nearest to LAX: the country rule homes Tijuana to
    Mexico's PoP (Querétaro), the nearest rule to LAX; both looked up in the policy's borders at assembly."""
    body = TEXT.replace(
        'cities = ["New York", "London", "Paris", "Chicago"]\ncities_kind = "terminal"\n',
        '[[ground.stations]]\nname = "TJ"\nlat_deg = 32.5149\nlon_deg = -117.0382\nkind = "terminal"\n'
        '[[ground.stations]]\nname = "SD"\nlat_deg = 32.7157\nlon_deg = -117.1611\nkind = "terminal"\n',
    )
    for homing, want in (("country", ["QRO/MEX", "LAX"]), ("nearest", ["LAX", "LAX"])):
        w = assembly.assemble(scenario(f'homing = "{homing}"\n', body))
        assert w.access is not None
        assert [w.access.ground.pops.names[i] for i in w.access.home_pop] == want


def test_python_api_on_two_workers_gives_the_serial_access_rows() -> None:
    """Two parts of 256 snapshots on forked workers, sent back whole: the same access rows as one process."""
    from leonet import pool

    if not pool.available():
        pytest.skip("no fork on this system")
    sc = scenario().with_time(end_s=300.0, step_s=1.0)
    one = run(sc, workers=1).access
    two = run(sc, workers=2).access
    assert isinstance(one, pa.Table) and isinstance(two, pa.Table)
    assert one.num_rows == 301 * 4 and same(two, one)


def test_summary_per_network_against_numpy() -> None:
    """Two networks, the second without lasers (bent-pipe whatever the mode): each summary figure recomputed
    with NumPy (np.percentile, linear) from that network's rows."""
    body = TEXT.replace(
        '[[networks]]\nname = "n"\nconstellation = { preset = "starlink-550" }\n',
        '[[networks]]\nname = "n"\nconstellation = { preset = "starlink-550" }\n'
        '[[networks]]\nname = "bp"\nconstellation = { preset = "starlink-550" }\nisl = "none"\n',
    )
    res = run(scenario("", body), workers=1)
    acc = res.access_table()
    summ = {r["network"]: r for r in res.access_summary().to_pylist()}
    assert list(summ) == ["n", "bp"]
    for name, r in summ.items():
        mine = [x for x in acc.to_pylist() if x["network"] == name]
        rtt = np.array([x["rtt_ms"] for x in mine if x["rtt_ms"] is not None])
        hops = np.array([x["isl_hops"] for x in mine if x["rtt_ms"] is not None], dtype=float)
        assert r["rows"] == len(mine) == 4 * len(res.prepared.times_s)
        assert r["served_share"] == pytest.approx(len(rtt) / len(mine))
        assert r["rtt_median_ms"] == pytest.approx(np.percentile(rtt, 50))
        assert r["rtt_p95_ms"] == pytest.approx(np.percentile(rtt, 95))
        assert r["isl_hops_median"] == pytest.approx(np.percentile(hops, 50))
    # the same satellites and serving choices: bent-pipe serves no more, and (all served here) never faster
    assert summ["bp"]["isl_hops_median"] == 0 and summ["bp"]["served_share"] <= summ["n"]["served_share"]
    if summ["bp"]["served_share"] == summ["n"]["served_share"] == 1.0:
        assert summ["bp"]["rtt_median_ms"] >= summ["n"]["rtt_median_ms"] - 1e-9


def test_budget_counts_access_rows(tmp_path: Path) -> None:
    from leonet import budget

    est = budget.Estimate(86_401, 0, 1, 100_000)  # a day at 1 s, 100,000 terminals, no pairs
    with pytest.raises(InputError, match="access rows"):
        budget.check_output(est, tmp_path, False, disk_bytes=10**12, memory_bytes=10**12)
    small = budget.Estimate(86_401, 0, 1, 1_000)  # 86 M rows: 2.9 GB on disk
    with pytest.raises(InputError, match="34 B per access row"):
        budget.check_output(small, tmp_path, False, disk_bytes=10**9, memory_bytes=10**12)
    budget.check_output(small, tmp_path, False, disk_bytes=10**11, memory_bytes=10**12)
    w = assembly.assemble(scenario())
    assert w.estimate().access_rows == len(w.times_s) * 4
