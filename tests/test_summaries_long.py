"""Exact quantiles in bounded memory (``leonet.quantiles``, used by ``leonet.metrics``) against NumPy.

Reference: ``np.percentile`` (linear interpolation, NumPy's default) over the full arrays, held in memory here
and only here.  The tables are long enough that every order statistic needs histogram passes (groups of more
than ``quantiles.COLLECT`` values), with hard shapes: constant groups, groups concentrated on one value, values
rounded to few distinct ones, infinities, NaN, and a table written to Parquet and summarised from the dataset.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from leonet import metrics, quantiles, routes_table
from leonet.constants import C_KM_S
from leonet.quantiles import ExactQuantiles


def _select(groups: np.ndarray, values: np.ndarray, n: int, qs: list[float], batch: int) -> ExactQuantiles:
    sel = ExactQuantiles(n, qs)
    while sel.begin_pass():
        for i in range(0, len(values), batch):
            sel.feed(groups[i : i + batch], values[i : i + batch])
        sel.end_pass()
    return sel


def _hard_data(rng: np.random.Generator, G: int, N: int) -> tuple[np.ndarray, np.ndarray]:
    g = rng.integers(0, G, N)
    x = rng.lognormal(3.5, 0.4, N)
    x[g == 1] = 41.25  # constant
    x[(g == 2) & (rng.uniform(size=N) < 0.97)] = 33.0  # one value holds 97%
    x[g == 3] = np.round(x[g == 3], 1)  # few distinct values, many ties
    x[(g == 4) & (rng.uniform(size=N) < 0.5)] = np.nan  # unreachable rows
    x[g == 5] = 1e-3 * rng.standard_normal(int((g == 5).sum())) + 50.0  # a narrow band
    g[(g == 6) & (rng.uniform(size=N) < 0.5)] = -1  # rows of no group
    return g, x


@pytest.mark.parametrize("seed", [0, 1])
def test_exact_quantiles_equal_numpy_on_long_groups(seed: int) -> None:
    rng = np.random.default_rng(seed)
    G, N = 8, 1_200_000  # ~150k values per group: histogram passes, not one collection
    g, x = _hard_data(rng, G, N)
    qs = [0.0, 0.05, 0.5, 0.95, 1.0]
    sel = _select(g, x, G, qs, batch=65_536)
    assert sel.passes >= 3, "the long groups were not narrowed by histogram passes"
    got = sel.result()
    for k in range(G):
        v = x[g == k]
        v = v[~np.isnan(v)]
        assert len(v) > quantiles.COLLECT
        np.testing.assert_array_equal(got[k], np.percentile(v, np.array(qs) * 100), err_msg=f"group {k}")


def test_exact_quantiles_edge_cases() -> None:
    g = np.array([0, 0, 0, 1, 2, 2, 2, 2, 3, 3], dtype=np.int64)
    x = np.array([1.0, np.inf, -np.inf, 7.0, np.nan, np.nan, 2.0, 3.0, np.nan, np.nan])
    got = _select(g, x, 5, [0.0, 0.5, 1.0], batch=3).result()
    np.testing.assert_array_equal(got[0], [-np.inf, 1.0, np.inf])  # infinities are ordered, not skipped
    np.testing.assert_array_equal(got[1], [7.0, 7.0, 7.0])
    np.testing.assert_array_equal(got[2], [2.0, 2.5, 3.0])
    assert np.isnan(got[3]).all() and np.isnan(got[4]).all()  # only NaN / no rows: no quantile


def test_memory_does_not_grow_with_the_rows() -> None:
    """Peak traced allocation of the selection (bins, copied values), for 4 groups: the same for 0.5 M and
    4 M rows fed in batches of 64 k, and well below what holding the values would take (8 bytes a row)."""
    rng = np.random.default_rng(5)
    peaks = []
    for N in (500_000, 4_000_000):
        g = rng.integers(0, 4, N)
        x = rng.normal(40.0, 3.0, N)
        _select(g[:1000], x[:1000], 4, [0.5], batch=1000)  # compile outside the trace
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        sel = ExactQuantiles(4, [0.5, 0.95])
        while sel.begin_pass():
            for i in range(0, N, 65_536):
                sel.feed(g[i : i + 65_536], x[i : i + 65_536])
            sel.end_pass()
        peak = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
        peaks.append(peak)
        np.testing.assert_array_equal(sel.result()[0], np.percentile(x[g == 0], [50, 95]))
    assert peaks[1] < 1.1 * peaks[0], peaks  # 8x the rows, the same memory (~4 MB: 8 statistics x 65,536 bins)
    assert peaks[1] < 4_000_000 * 8 / 4, peaks  # a quarter of what holding the values would take


def _long_routes(T: int, pairs: list[tuple[int, int]], rng: np.random.Generator) -> pa.Table:
    """Stored routes columns of T snapshots (time-major, as leonet writes them): smooth RTTs with jumps, outages."""
    P = len(pairs)
    t = np.repeat(np.arange(T, dtype=np.float64), P)
    src = np.tile(np.array([p[0] for p in pairs], np.int32), T)
    dst = np.tile(np.array([p[1] for p in pairs], np.int32), T)
    base = rng.uniform(5, 60, P)
    ow = base[None, :] + 3 * np.sin(np.arange(T)[:, None] / 300.0 + np.arange(P)) + rng.normal(0, 0.05, (T, P))
    ow[rng.uniform(size=(T, P)) < 0.03] = np.nan
    ow = ow.reshape(-1)
    gc = np.tile(rng.uniform(500, 9000, P), T)
    n = T * P
    reach = np.isfinite(ow)
    cols = {
        "network": pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)), pa.array(["net"])),
        "t_s": pa.array(t),
        "src": pa.array(src),
        "dst": pa.array(dst),
        "src_name": pa.DictionaryArray.from_arrays(pa.array(src - 100), pa.array([f"c{i}" for i in range(50)])),
        "dst_name": pa.DictionaryArray.from_arrays(pa.array(dst - 100), pa.array([f"c{i}" for i in range(50)])),
        "one_way_ms": pa.array(ow, mask=~reach),
        "hops": pa.array(np.where(reach, 5, 0).astype(np.int32)),
        "path": pa.array([[]] * n, type=pa.list_(pa.int32())),
        "first_sat": pa.array(np.zeros(n, np.int32), mask=~reach),
        "last_sat": pa.array(np.zeros(n, np.int32), mask=~reach),
        "gc_km": pa.array(gc),
        "path_changed": pa.array(rng.uniform(size=n) < 0.01),
        "first_sat_changed": pa.array(rng.uniform(size=n) < 0.01),
        "last_sat_changed": pa.array(rng.uniform(size=n) < 0.01),
        "rerouted": pa.array(rng.uniform(size=n) < 0.07),
    }
    return pa.Table.from_arrays([cols[f.name] for f in routes_table.STORED_SCHEMA], schema=routes_table.STORED_SCHEMA)


def test_long_summary_from_parquet_equals_numpy(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A long window (30,000 snapshots x 6 pairs = 180,000 rows, in Parquet row groups of 30,000 rows), stored
    columns only: per-pair and per-network median / p95 RTT and median stretch equal NumPy's within 1e-9 ms
    (the requirement is 0.01 ms on the median), computed from the Parquet dataset."""
    rng = np.random.default_rng(7)
    pairs = [(100, 101), (100, 102), (101, 102), (103, 104), (104, 140), (110, 149)]
    table = _long_routes(30_000, pairs, rng)
    pq.write_table(table, tmp_path / "r.parquet", row_group_size=30_000, **routes_table.PARQUET_OPTIONS)  # type: ignore[arg-type]
    summary, nets = metrics.summaries(ds.dataset(tmp_path / "r.parquet"))
    ow = table.column("one_way_ms").to_numpy(zero_copy_only=False)
    gc = table.column("gc_km").to_numpy()
    src, dst = table.column("src").to_numpy(), table.column("dst").to_numpy()
    rtt, stretch = 2 * ow, ow / (gc / C_KM_S * 1e3)
    got = summary.to_pydict()
    assert list(zip(got["src"], got["dst"], strict=True)) == pairs
    for i, (s, d) in enumerate(pairs):
        m = (src == s) & (dst == d) & np.isfinite(ow)
        assert got["reachable_snapshots"][i] == m.sum() and got["snapshots"][i] == 30_000
        assert got["rtt_median_ms"][i] == pytest.approx(np.percentile(rtt[m], 50), abs=1e-9)
        assert got["rtt_p95_ms"][i] == pytest.approx(np.percentile(rtt[m], 95), abs=1e-9)
        assert got["stretch_median"][i] == pytest.approx(np.percentile(stretch[m], 50), abs=1e-12)
        assert got["rtt_min_ms"][i] == np.nanmin(rtt[m]) and got["rtt_max_ms"][i] == np.nanmax(rtt[m])
    fin = np.isfinite(ow)
    n = nets.to_pydict()
    assert n["network"] == ["net"] and n["pairs"] == [6] and n["snapshots"] == [30_000]
    assert n["rtt_median_ms"][0] == pytest.approx(np.percentile(rtt[fin], 50), abs=1e-9)
    assert n["rtt_p95_ms"][0] == pytest.approx(np.percentile(rtt[fin], 95), abs=1e-9)
    assert n["stretch_median"][0] == pytest.approx(np.percentile(stretch[fin], 50), abs=1e-12)
    # the same table in memory, with its derived columns, gives the same summaries
    full = routes_table.with_derived(table)
    s2, n2 = metrics.summaries(full)
    assert s2.equals(summary) and n2.equals(nets)


def test_summary_with_infinite_stretch() -> None:
    """A pair at zero distance has infinite stretch: the SQL min / max cannot seed pass 0, the selection counts
    the infinities itself, and the other pairs are unaffected (NumPy on the same values)."""
    rng = np.random.default_rng(11)
    table = _long_routes(3_000, [(100, 101), (102, 103)], rng)
    gc = table.column("gc_km").to_numpy().copy()
    gc[::2] = 0.0  # pair (100, 101) at zero distance
    table = table.set_column(table.schema.get_field_index("gc_km"), "gc_km", pa.array(gc))
    summary = metrics.summarise(table).to_pydict()
    ow = table.column("one_way_ms").to_numpy(zero_copy_only=False)
    with np.errstate(divide="ignore"):
        stretch = ow / (gc / C_KM_S * 1e3)
    assert summary["stretch_median"][0] == np.inf
    src, fin = table.column("src").to_numpy(), np.isfinite(ow)
    m = fin & (src == 102)
    assert summary["stretch_median"][1] == pytest.approx(np.percentile(stretch[m], 50), abs=1e-12)
    assert summary["rtt_median_ms"][0] == pytest.approx(np.percentile(2 * ow[fin & (src == 100)], 50), abs=1e-9)


def _two_networks(rng: np.random.Generator) -> tuple[pa.Table, pa.Table]:
    """Routes of two networks, "net" (three pairs, 2,000 snapshots) then "b" (one pair, 1,500): the first
    network's table and both together."""
    a = _long_routes(2_000, [(100, 101), (102, 103), (104, 105)], rng)
    b = _long_routes(1_500, [(100, 101)], rng)
    net_b = pa.DictionaryArray.from_arrays(pa.array(np.zeros(b.num_rows, np.int32)), ["b"])
    b = pa.Table.from_arrays([net_b, *b.columns[1:]], schema=b.schema)
    return a, pa.concat_tables([a, b]).unify_dictionaries()


def test_network_quantiles_equal_numpy() -> None:
    """``metrics.network_quantiles`` (the report's stretch CDF: 401 quantiles per network) against
    ``np.quantile`` of each network's finite values, for a derived column (stretch) and a stored one."""
    rng = np.random.default_rng(3)
    a, routes = _two_networks(rng)
    q = np.linspace(0.0, 1.0, 401)
    got = metrics.network_quantiles(routes, "stretch", q)
    full = routes_table.with_derived(routes)
    for name in ("net", "b"):
        m = np.array(full.column("network").to_pylist()) == name
        st = full.column("stretch").to_numpy(zero_copy_only=False)[m]
        np.testing.assert_array_equal(got[name], np.quantile(st[np.isfinite(st)], q), err_msg=name)
    ow = metrics.network_quantiles(routes, "one_way_ms", q)
    v = routes.column("one_way_ms").to_numpy(zero_copy_only=False)[: a.num_rows]
    np.testing.assert_array_equal(ow["net"], np.quantile(v[np.isfinite(v)], q))


def test_network_quantiles_approx_within_the_stated_bound() -> None:
    """``metrics.network_quantiles_approx`` (the report's stretch CDF, one histogram pass) against
    ``np.quantile`` of each network's finite values: within the stated 0.05% (relative), the ends exact."""
    rng = np.random.default_rng(4)
    _, routes = _two_networks(rng)
    q = np.linspace(0.0, 1.0, 401)
    got = metrics.network_quantiles_approx(routes, "stretch", q)
    full = routes_table.with_derived(routes)
    bound = np.sqrt(1.0 + quantiles.LOG_REL) - 1.0
    for name in ("net", "b"):
        m = np.array(full.column("network").to_pylist()) == name
        st = full.column("stretch").to_numpy(zero_copy_only=False)[m]
        want = np.quantile(st[np.isfinite(st)], q)
        assert got[name][0] == want[0] and got[name][-1] == want[-1], name
        rel = np.abs(got[name] / want - 1.0)
        assert rel.max() <= bound * (1 + 1e-9), (name, rel.max())
        assert rel.max() > 0.0, name  # an approximation (the exact selection is network_quantiles)


def test_log_histogram_ranges_and_skips() -> None:
    """Values outside the histogram's range are clamped to the exact min / max; NaN, negative and infinite
    values and group -1 are skipped; a coarse histogram is within its own (wider) bound and no better."""
    h = quantiles.LogHistogram(2, lo=1.0, hi=100.0, rel=0.1)
    x = np.array([0.5, 0.25, 2.0, 3.0, 5000.0, np.nan, -1.0, np.inf, 7.0])
    h.feed(np.array([0, 0, 0, 0, 0, 0, 0, 0, -1]), x)
    out = h.quantiles([0.0, 0.25, 0.5, 1.0])
    assert out[0, 0] == 0.25 and out[0, 3] == 5000.0  # the ends: exact
    assert 0.25 <= out[0, 1] <= 1.0  # rank 1 (0.5) is below the range: between the min and the range's start
    assert abs(out[0, 2] / 2.0 - 1) <= np.sqrt(1.1) - 1  # rank 2 (2.0) within its bin's bound
    assert np.isnan(out[1]).all()  # no value in group 1
    rng = np.random.default_rng(5)
    v = rng.uniform(1.0, 50.0, 100_000)
    coarse = quantiles.LogHistogram(1, lo=1.0, hi=100.0, rel=0.1)
    coarse.feed(np.zeros(len(v), np.int64), v)
    q = np.linspace(0, 1, 101)
    rel = np.abs(coarse.quantiles(q)[0] / np.quantile(v, q) - 1)
    assert 0.01 < rel.max() <= np.sqrt(1.1) - 1 + 1e-9
    with pytest.raises(ValueError):
        quantiles.LogHistogram(1, lo=0.0)


def test_network_quantiles_of_a_column_without_nulls() -> None:
    """A float column without nulls reaches the selection as a read-only Arrow view (it used to be written to
    in place: ValueError); both the exact and the histogram quantiles read it as it is."""
    v = np.array([3.0, 1.0, 2.0, 5.0, 4.0])
    net = pa.DictionaryArray.from_arrays(pa.array(np.zeros(5, np.int32)), ["n"])
    routes = pa.table({"network": net, "stretch": pa.array(v)})
    q = np.array([0.0, 0.5, 1.0])
    np.testing.assert_array_equal(metrics.network_quantiles(routes, "stretch", q)["n"], [1.0, 3.0, 5.0])
    approx = metrics.network_quantiles_approx(routes, "stretch", q)["n"]
    assert approx[0] == 1.0 and approx[2] == 5.0 and abs(approx[1] / 3.0 - 1) <= 5e-4
