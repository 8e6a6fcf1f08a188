"""``leonet.access_table``'s parts on one snapshot, each against an independent reference.

* the laser links a snapshot keeps (``laser_links``' docstring): both ends with a position, at most
  ``max_isl_km``, not failed, with the lengths as NumPy norms of the position differences;
* the serving satellites ``snapshot_paths`` takes from the snapshot's ground links: the highest satellite above
  each terminal's minimum elevation by brute force in plain trigonometry (sin el = (r_sat - r) . up / |r_sat - r|
  with the geodetic vertical written out), on a scenario whose first ground nodes are not terminals (stations), so
  that the terminals' ground indices are not 0..N-1;
* the table's shape (the module docstring): no snapshot, no row; ``rtt_ms`` = 2 x ``one_way_ms`` right after it,
  in ``with_rtt`` and in the DuckDB view alike.
"""

from __future__ import annotations

from dataclasses import replace

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from numpy.typing import NDArray

from leonet import assembly
from leonet.access_table import ACCESS_SCHEMA, batch_of, laser_links, snapshot_paths, view_sql, with_rtt
from leonet.scenario import parse_scenario
from leonet.step import min_elevations, positions_at
from leonet.topology import ground_links

TEXT = """
epoch = 2026-02-23T00:00:00Z
pairs = "none"
[time]
end_s = 30
step_s = 15
[[networks]]
name = "n"
constellation = { preset = "starlink-550" }
[ground]
cities = ["New York", "London", "Paris", "Chicago"]
cities_kind = "station"
stations = [
  { name = "T-sydney", lat_deg = -33.87, lon_deg = 151.21, kind = "terminal" },
  { name = "T-boston", lat_deg = 42.36, lon_deg = -71.06, kind = "terminal" },
  { name = "T-madrid", lat_deg = 40.42, lon_deg = -3.70, kind = "terminal" },
  { name = "T-denver", lat_deg = 39.74, lon_deg = -104.99, kind = "terminal" },
]
[access]
mode = "lasers"
"""


@pytest.fixture(scope="module")
def world() -> assembly.World:
    return assembly.assemble(parse_scenario(TEXT, "s.toml"))


def up_of(lat_deg: NDArray[np.float64], lon_deg: NDArray[np.float64]) -> NDArray[np.float64]:
    la, lo = np.radians(lat_deg), np.radians(lon_deg)
    return np.c_[np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)]


def test_laser_links_keep_the_documented_ones(world: assembly.World) -> None:
    """Kept: both ends with a position, length (NumPy norm) at most max_isl_km, not failed; in net.isl's order."""
    net = world.networks[0]
    sat = positions_at(net, world, world.times_s[:1])[0].copy()
    sat[[3, 40]] = np.nan  # two satellites without a position
    km = np.linalg.norm(sat[net.isl[:, 0]] - sat[net.isl[:, 1]], axis=1)
    rng = np.random.default_rng(0)
    failed = rng.random(len(net.isl)) < 0.2
    limit = float(np.nanmedian(km))
    capped = replace(net, spec=net.spec.model_copy(update={"max_isl_km": limit}))
    for n, fail in ((net, None), (net, failed), (capped, None), (capped, failed)):
        keep = np.isfinite(km)
        if fail is not None:
            keep &= ~fail
        if n.spec.max_isl_km is not None:
            keep &= km <= n.spec.max_isl_km
        isl, isl_km = laser_links(n, sat, fail)
        np.testing.assert_array_equal(isl, net.isl[keep])
        np.testing.assert_allclose(isl_km, km[keep], rtol=1e-12)
        assert 0 < len(isl) < len(net.isl)


def test_serving_from_the_snapshots_ground_links_is_the_highest(world: assembly.World) -> None:
    """With the snapshot's ground links (``gsl``) or without, every terminal's serving satellite is the highest
    above its minimum elevation (brute force); the cities before the terminals are stations and serve nobody."""
    net = world.networks[0]
    setup = world.access
    assert setup is not None
    term = setup.terminals
    assert term.tolist() == [4, 5, 6, 7]
    times = world.times_s[:2]
    sat_all = positions_at(net, world, times)
    gst = world.ground.at(times)
    min_el = min_elevations(net, world.ground)
    lat, lon = world.ground.lat_deg[term], world.ground.lon_deg[term]
    up = up_of(lat, lon)
    for k in range(len(times)):
        sat = sat_all[k]
        r = gst.ecef_km[k]
        d = sat[None, :, :] - r[term][:, None, :]
        sin_el = np.einsum("tsj,tj->ts", d, up) / np.linalg.norm(d, axis=2)
        sin_el[sin_el < np.sin(np.radians(min_el[term]))[:, None]] = -np.inf
        ref = np.where(np.isfinite(sin_el.max(axis=1)), np.argmax(sin_el, axis=1), -1)
        assert (ref >= 0).all()
        gsl = ground_links(sat, r, gst.up[k], min_el, net.spec.max_ground_link_km, None)
        isl, isl_km = laser_links(net, sat)
        with_gsl = snapshot_paths(world, net, sat, r, gst.up[k], isl, isl_km, None, gsl)
        without = snapshot_paths(world, net, sat, r, gst.up[k], isl, isl_km, None)
        np.testing.assert_array_equal(with_gsl.serving_sat, ref)
        np.testing.assert_array_equal(without.serving_sat, ref)
        np.testing.assert_array_equal(with_gsl.one_way_ms, without.one_way_ms)
        np.testing.assert_allclose(with_gsl.up_km, np.linalg.norm(sat[ref] - r[term], axis=1), rtol=1e-12)
        # a network with a ground-link range: its links are not the elevation mask's, so the serving satellite
        # is still the highest above the mask (the docstring), also for a terminal with no link within range
        capped = replace(net, spec=net.spec.model_copy(update={"max_ground_link_km": 600.0}))
        short = ground_links(sat, r, gst.up[k], min_el, 600.0, None)
        assert not np.isin(term, short.ground).all()
        got = snapshot_paths(world, capped, sat, r, gst.up[k], isl, isl_km, None, short)
        np.testing.assert_array_equal(got.serving_sat, ref)


def test_no_snapshot_no_row_and_rtt_after_one_way(world: assembly.World) -> None:
    """No snapshot: an empty batch of the schema.  One snapshot: a row per terminal in terminal order;
    ``rtt_ms`` = 2 x ``one_way_ms`` right after it in ``with_rtt`` and in the view, the other columns as stored."""
    net = world.networks[0]
    empty = batch_of(world, net, world.times_s[:0], [])
    assert empty.num_rows == 0 and empty.schema.equals(ACCESS_SCHEMA)
    sat = positions_at(net, world, world.times_s[:1])[0]
    gst = world.ground.at(world.times_s[:1])
    isl, isl_km = laser_links(net, sat)
    p = snapshot_paths(world, net, sat, gst.ecef_km[0], gst.up[0], isl, isl_km, None)
    table = pa.Table.from_batches([batch_of(world, net, world.times_s[:1], [p])])
    assert table.column("terminal").to_pylist() == ["T-sydney", "T-boston", "T-madrid", "T-denver"]
    names = [f.name for f in ACCESS_SCHEMA]
    at = names.index("one_way_ms")
    expected = [*names[: at + 1], "rtt_ms", *names[at + 1 :]]
    rtt = with_rtt(table)
    con = duckdb.connect()
    try:
        con.register("acc", table)
        view = con.execute(view_sql("acc")).fetch_arrow_table()
    finally:
        con.close()
    for t in (rtt, view):
        assert t.column_names == expected
        ow = np.asarray(t.column("one_way_ms").to_numpy(zero_copy_only=False), dtype=float)
        np.testing.assert_array_equal(np.asarray(t.column("rtt_ms").to_numpy(zero_copy_only=False), float), 2 * ow)
        for c in names:
            assert t.column(c).cast(pa.string()).to_pylist() == table.column(c).cast(pa.string()).to_pylist(), c


def synthetic(rows: list[tuple[str, float | None, int | None]]) -> pa.Table:
    """An access table of (network, one_way_ms, isl_hops) rows, the other columns filled in."""
    cols: dict[str, list[object]] = {f.name: [] for f in ACCESS_SCHEMA}
    for i, (net, ow, hops) in enumerate(rows):
        served = ow is not None
        values: dict[str, object] = {"network": net, "t_s": float(i), "terminal": f"t{i % 3}",
                                     "serving_sat": i, "gateway": "g" if served else None,
                                     "pop": "p" if served else None, "one_way_ms": ow, "isl_hops": hops}  # fmt: skip
        for f in ACCESS_SCHEMA:
            cols[f.name].append(values.get(f.name, 1.0 if served else None))
    return pa.table({f.name: pa.array(cols[f.name], type=f.type) for f in ACCESS_SCHEMA}, schema=ACCESS_SCHEMA)


def test_summary_against_numpy_and_its_order() -> None:
    """Per network: rows, share served, median / p95 RTT (np.percentile, linear) and median hops of the served;
    networks in the order given, the others after them by name (DuckDB's GROUP BY order is arbitrary)."""
    from leonet.access_table import summary

    rng = np.random.default_rng(5)
    rows: list[tuple[str, float | None, int | None]] = []
    for net, n in (("c", 7), ("a", 13), ("b", 10)):  # the names' order is neither the rows' nor the counts'
        for _ in range(n):
            served = rng.random() < 0.7
            rows.append(
                (net, float(rng.uniform(5, 40)) if served else None, int(rng.integers(0, 6)) if served else None)
            )
    rng.shuffle(rows)  # type: ignore[arg-type]
    table = synthetic(rows)
    for networks, order in ((None, ["a", "b", "c"]), (["b"], ["b", "a", "c"]), (["c", "a", "b"], ["c", "a", "b"])):
        got = summary(table, networks).to_pylist()
        assert [r["network"] for r in got] == order
        for r in got:
            mine = [x for x in rows if x[0] == r["network"]]
            rtt = np.array([2 * x[1] for x in mine if x[1] is not None])
            hops = np.array([x[2] for x in mine if x[1] is not None], dtype=float)
            assert r["rows"] == len(mine)
            assert r["served_share"] == pytest.approx(len(rtt) / len(mine), rel=1e-12)
            assert r["rtt_median_ms"] == pytest.approx(np.percentile(rtt, 50), rel=1e-12)
            assert r["rtt_p95_ms"] == pytest.approx(np.percentile(rtt, 95), rel=1e-12)
            assert r["isl_hops_median"] == pytest.approx(np.percentile(hops, 50), rel=1e-12)
    empty = summary(table.slice(0, 0))
    assert empty.num_rows == 0 and empty.column_names[0] == "network"


ONE = TEXT.replace(
    """  { name = "T-boston", lat_deg = 42.36, lon_deg = -71.06, kind = "terminal" },
  { name = "T-madrid", lat_deg = 40.42, lon_deg = -3.70, kind = "terminal" },
  { name = "T-denver", lat_deg = 39.74, lon_deg = -104.99, kind = "terminal" },
""",
    "",
)


@pytest.mark.parametrize("which", ["one", "four"])
def test_pairs_via_pops_rule(world: assembly.World, which: str) -> None:
    """``leonet.access.pair_via_pops``' rule on rows written by hand (PoP 0 among them, unserved ones): RTT =
    2 x (a -> PoP_a + fibre PoP_a -> PoP_b (``Geod.inv`` x route factor at c / n; none for one PoP) + PoP_b -> b),
    null unless both are served; per snapshot, its time; with one terminal (a pair of it with itself) too."""
    import pyproj

    from leonet.access import AccessPaths
    from leonet.access_table import pairs_via_pops
    from leonet.constants import C_KM_S

    w = world if which == "four" else assembly.assemble(parse_scenario(ONE, "s.toml"))
    setup = w.access
    assert setup is not None
    assert len(setup.terminals) == (1 if which == "one" else 4)
    N = len(setup.terminals)
    net = w.networks[0]
    times = w.times_s[:3]
    rng = np.random.default_rng(N)
    P = setup.ground.pops.size
    pops = [np.array([0, 1, -1, 0][:N]), np.array([P - 1, 0, 2, -1][:N]), np.zeros(N, dtype=np.int64)]
    paths = []
    for k in range(len(times)):
        pop = pops[k].astype(np.int32)
        ow = np.where(pop >= 0, rng.uniform(5, 30, N), np.nan)
        f = np.where(pop >= 0, 1.0, np.nan)
        idx = np.where(pop >= 0, 0, -1).astype(np.int32)
        paths.append(AccessPaths(
            serving_sat=np.arange(N, dtype=np.int32) - k % 2, gateway=idx, pop=pop, home_pop=np.maximum(pop, 0),
            down_sat=idx, isl_hops=idx, up_km=f, isl_km=f, down_km=f, fibre_km=f, propagation_ms=f,
            processing_ms=f, mac_ms=f, one_way_ms=ow,
        ))  # fmt: skip
    table = pa.Table.from_batches([batch_of(w, net, times, paths)])

    # the module docstring's columns: node ids and names, null where none (satellite 0 and PoP 0 are ids)
    def ids(f: str) -> list[int | None]:
        return [None if v < 0 else int(v) for q in paths for v in getattr(q, f)]

    assert table.column("serving_sat").to_pylist() == ids("serving_sat")
    assert table.column("isl_hops").to_pylist() == ids("isl_hops")
    pop_names = table.column("pop").to_pylist()
    assert pop_names == [None if j is None else setup.ground.pops.names[j] for j in ids("pop")]
    assert table.column("one_way_ms").to_pylist() == [None if np.isnan(v) else v for q in paths for v in q.one_way_ms]
    names = [w.ground.names[i] for i in setup.terminals]
    pairs = [(names[i], names[j]) for i in range(N) for j in range(N)]
    got = pairs_via_pops(w, table, pairs).to_pylist()
    geod = pyproj.Geod(ellps="WGS84")
    g, p = setup.ground.pops, setup.params
    ref = []
    for k in range(len(times)):
        for a, b in pairs:
            i, j = names.index(a), names.index(b)
            pa_, pb = int(pops[k][i]), int(pops[k][j])
            if pa_ < 0 or pb < 0:
                ref.append((float(times[k]), a, b, None))
                continue
            m = geod.inv(g.lon_deg[pa_], g.lat_deg[pa_], g.lon_deg[pb], g.lat_deg[pb])[2]
            fib = m / 1e3 * p.fibre_route_factor * p.fibre_refractive_index / C_KM_S * 1e3
            ref.append((float(times[k]), a, b, 2 * (paths[k].one_way_ms[i] + fib + paths[k].one_way_ms[j])))
    assert [(r["t_s"], r["a"], r["b"]) for r in got] == [r[:3] for r in ref]
    assert {r["network"] for r in got} == {"n"}
    for r, (_, _, _, rtt) in zip(got, ref, strict=True):
        assert (r["rtt_ms"] is None) == (rtt is None)
        if rtt is not None:
            assert r["rtt_ms"] == pytest.approx(rtt, rel=1e-6, abs=1e-6)
    none = pairs_via_pops(w, table.slice(0, 0), pairs)  # no rows: no pair rows
    assert none.num_rows == 0 and none.column_names == ["network", "t_s", "a", "b", "rtt_ms"]


def test_an_empty_chunk_at_the_end_is_no_row(world: assembly.World) -> None:
    """``access_chunk``'s ``k0:k1`` at the window's end (k0 = k1 = T), with the scheduler's held assignment
    (the scenario's default serving): no snapshot, so no row and no slot to warm up from."""
    from leonet.access_table import access_chunk
    from leonet.slot_access import uses_scheduler

    assert uses_scheduler(world)
    T = len(world.times_s)
    b = access_chunk(world, 0, T, T)
    assert b.num_rows == 0 and b.schema.equals(ACCESS_SCHEMA)
