"""Per-pair and per-network summaries recomputed with NumPy from the routes table.

``metrics.summarise`` is DuckDB SQL; here every column is recomputed from the rows, pair by pair, with NumPy:
min / max, median and p95 by ``np.percentile`` (linear interpolation, NumPy's default method, which the README
and ``metrics`` name), mean hops over *reachable* rows only, median stretch, the great-circle RTT bound
``2 * gc_km / c``, and the counters.  The routes tables are synthetic (random values, unreachable rows, pairs
with a single or no reachable row, values chosen so that median != mean and p95 != p90), and one real run.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from leonet.constants import C_KM_S
from leonet.metrics import network_summary, summarise
from leonet.results import run
from leonet.routes_table import ROUTES_SCHEMA
from leonet.scenario import parse_scenario


def _synthetic(seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    pairs = [(10, 11), (10, 12), (11, 12), (12, 13), (13, 14)]
    T = 41
    rows: dict[str, list] = {k: [] for k in ROUTES_SCHEMA.names}  # type: ignore[type-arg]
    for net in ("a", "b"):
        for p, (s, d) in enumerate(pairs):
            gc = float(rng.uniform(100, 9000))
            for k in range(T):
                reach = bool(rng.uniform() > 0.25)
                if p == 3:
                    reach = k == 5  # one reachable row
                if p == 4:
                    reach = False  # never reachable
                ow = float(rng.lognormal(3.0, 0.6)) if reach else None  # skewed: median != mean
                hops = int(rng.integers(2, 9)) if reach else 0
                rows["network"].append(net)
                rows["t_s"].append(float(k))
                rows["src"].append(s)
                rows["dst"].append(d)
                rows["src_name"].append(f"n{s}")
                rows["dst_name"].append(f"n{d}")
                rows["rtt_ms"].append(2 * ow if ow is not None else None)
                rows["one_way_ms"].append(ow)
                rows["hops"].append(hops)
                rows["path"].append(list(range(hops + 1)) if reach else [])
                rows["first_sat"].append(1 if reach else None)
                rows["last_sat"].append(hops - 1 if reach else None)
                rows["gc_km"].append(gc)
                rows["stretch"].append(ow / (gc / C_KM_S * 1e3) if ow is not None else None)
                rows["reachable"].append(reach)
                rows["path_changed"].append(bool(rng.uniform() < 0.3))
                rows["first_sat_changed"].append(bool(rng.uniform() < 0.2))
                rows["last_sat_changed"].append(bool(rng.uniform() < 0.1))
                rows["rerouted"].append(bool(rng.uniform() < 0.5))
    plain = pa.table(rows)
    cols = [plain.column(f.name).cast(f.type) for f in ROUTES_SCHEMA]
    return pa.Table.from_arrays(cols, schema=ROUTES_SCHEMA)


def _reference(routes: pa.Table) -> dict[tuple[str, int, int], dict[str, float]]:
    d = routes.to_pydict()
    keys = sorted(set(zip(d["network"], d["src"], d["dst"], strict=True)))
    out = {}
    net, src, dst = np.array(d["network"]), np.array(d["src"]), np.array(d["dst"])
    rtt = np.array([np.nan if x is None else x for x in d["rtt_ms"]])
    stretch = np.array([np.nan if x is None else x for x in d["stretch"]])
    hops = np.array(d["hops"], float)
    reach = np.array(d["reachable"])
    for key in keys:
        m = (net == key[0]) & (src == key[1]) & (dst == key[2])
        r = rtt[m][reach[m]]
        gc = np.array(d["gc_km"])[m][0]

        def q(x: np.ndarray, p: float) -> float:
            # NumPy's default (linear, Hyndman & Fan type 7); written out so that two equal infinite order
            # statistics give that value (np.percentile's inf - inf gives NaN)
            if not len(x):
                return np.nan
            a = np.sort(x)
            h = (len(a) - 1) * p / 100
            lo, hi = int(np.floor(h)), int(np.ceil(h))
            if a[lo] == a[hi]:
                return float(a[lo])
            return float(np.percentile(x, p)) if np.isfinite(a[hi]) else float(a[lo] + (h - lo) * (a[hi] - a[lo]))

        out[key] = {
            "gc_km": gc,
            "gc_rtt_ms": 2 * gc / C_KM_S * 1e3,
            "snapshots": float(m.sum()),
            "reachable_snapshots": float(reach[m].sum()),
            "rtt_min_ms": float(r.min()) if len(r) else np.nan,
            "rtt_median_ms": q(r, 50),
            "rtt_p95_ms": q(r, 95),
            "rtt_max_ms": float(r.max()) if len(r) else np.nan,
            "hops_mean": float(hops[m][reach[m]].mean()) if len(r) else np.nan,
            "stretch_median": q(stretch[m][reach[m]], 50),
            "path_changes": float(np.array(d["path_changed"])[m].sum()),
            "first_sat_changes": float(np.array(d["first_sat_changed"])[m].sum()),
            "last_sat_changes": float(np.array(d["last_sat_changed"])[m].sum()),
            "unreachable_snapshots": float((~reach[m]).sum()),
        }
    return out


def _compare(routes: pa.Table) -> dict[tuple[str, int, int], dict[str, float]]:
    ref = _reference(routes)
    got = summarise(routes).to_pydict()
    assert len(got["src"]) == len(ref)
    keys = list(zip(got["network"], got["src"], got["dst"], strict=True))
    assert keys == sorted(ref), "one row per network and pair, ordered by network, src, dst"
    d = routes.to_pydict()
    names = dict(zip(d["src"], d["src_name"], strict=True)) | dict(zip(d["dst"], d["dst_name"], strict=True))
    for i, key in enumerate(keys):
        assert (got["src_name"][i], got["dst_name"][i]) == (names[key[1]], names[key[2]])
        for col, want in ref[key].items():
            v = got[col][i]
            if np.isnan(want):
                assert v is None, (key, col, v)
            else:
                assert v is not None and v == pytest.approx(want, rel=1e-12, abs=1e-12), (key, col, v, want)
    return ref


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_summary_recomputed_with_numpy(seed: int) -> None:
    routes = _synthetic(seed)
    ref = _compare(routes)
    # the data can tell the statistics apart: median != mean, p95 != p90, hops over all rows != over reachable
    d = routes.to_pydict()
    r = np.array([x for x, n, s in zip(d["rtt_ms"], d["network"], d["src"], strict=True) if x is not None])
    assert abs(np.median(r) - r.mean()) > 1.0 and abs(np.percentile(r, 95) - np.percentile(r, 90)) > 1.0
    k = ("a", 10, 11)
    hops = np.array(
        [h for h, n, s, t in zip(d["hops"], d["network"], d["src"], d["dst"], strict=True) if (n, s, t) == k]
    )
    assert abs(hops.mean() - ref[k]["hops_mean"]) > 0.1
    # the dataset path (Parquet files) gives the same answer as the in-memory table
    assert summarise(routes.slice(0, routes.num_rows)).equals(summarise(routes))


def test_network_summary_recomputed_with_numpy() -> None:
    routes = _synthetic(3)
    got = network_summary(routes).to_pydict()
    d = routes.to_pydict()
    assert got["network"] == ["a", "b"]
    for i, name in enumerate(got["network"]):
        m = np.array(d["network"]) == name
        rtt = np.array([x for x, k in zip(d["rtt_ms"], m, strict=True) if k and x is not None])
        st = np.array([x for x, k in zip(d["stretch"], m, strict=True) if k and x is not None])
        pairs = {(s, t) for s, t, k in zip(d["src"], d["dst"], m, strict=True) if k}
        assert got["pairs"][i] == len(pairs)
        assert got["snapshots"][i] == len({t for t, k in zip(d["t_s"], m, strict=True) if k})
        assert got["rtt_median_ms"][i] == pytest.approx(np.percentile(rtt, 50), rel=1e-12)
        assert got["rtt_p95_ms"][i] == pytest.approx(np.percentile(rtt, 95), rel=1e-12)
        assert got["reachable_share"][i] == pytest.approx(np.array(d["reachable"])[m].mean(), rel=1e-12)
        assert got["stretch_median"][i] == pytest.approx(np.percentile(st, 50), rel=1e-12)
        assert got["path_changes"][i] == int(np.array(d["path_changed"])[m].sum())


def test_summary_of_a_real_run_with_outages() -> None:
    """A real run where some pairs lose coverage at some snapshots (a 55 deg mask over a 53 deg shell)."""
    sc = parse_scenario(
        """
epoch = 2026-02-23T00:00:00Z
[time]
end_s = 120
step_s = 10
[[networks]]
name = "s550"
constellation = { preset = "starlink-550" }
min_elevation_deg = 55
[ground]
cities = 12
"""
    )
    res = run(sc)
    ref = _compare(res.routes)
    unreach = [v["unreachable_snapshots"] for v in ref.values()]
    assert any(0 < u < 13 for u in unreach), "no pair with a partial outage"


def test_summary_with_node_ids_far_apart() -> None:
    """Pairs whose node ids span more than 2**24 (network, src, dst) combinations: the quantile passes find each
    row's pair by a sorted-key search instead of the dense table; the same NumPy reference holds."""
    routes = _synthetic(3)
    far = {10: 10, 11: 4_100, 12: 9_000, 13: 3, 14: 7_777}
    for name in ("src", "dst"):
        col = pa.array([far[v] for v in routes.column(name).to_pylist()], pa.int32())
        routes = routes.set_column(routes.schema.get_field_index(name), name, col)
    _compare(routes)


@pytest.mark.parametrize("far", [False, True])
def test_summary_with_node_id_zero(far: bool) -> None:
    """Node id 0 as a source and as a destination (satellites come first, but a network of ground nodes only,
    or an export, starts at 0): its row lies at offset 0 of the dense table (or of the sorted keys when the
    ids span more than 2**24 combinations), which a `< 0` that should be `<= 0` would drop; both look-ups
    against the same NumPy reference."""
    routes = _synthetic(4)
    # pairs (10, 11) and (11, 12) are the ones with many reachable rows: 11 -> 0 puts 0 at both ends
    ids = {10: 5, 11: 0, 12: 2, 13: 3, 14: 4} if not far else {10: 5, 11: 0, 12: 9_000, 13: 3, 14: 4_100}
    for name in ("src", "dst"):
        col = pa.array([ids[v] for v in routes.column(name).to_pylist()], pa.int32())
        routes = routes.set_column(routes.schema.get_field_index(name), name, col)
    names = [f"n{v}" for v in routes.column("src").to_pylist()], [f"n{v}" for v in routes.column("dst").to_pylist()]
    for name, col in zip(("src_name", "dst_name"), names, strict=True):
        routes = routes.set_column(routes.schema.get_field_index(name), name, pa.array(col, pa.string()))
    ref = _compare(routes)
    assert any(k[1] == 0 for k in ref) and any(k[2] == 0 for k in ref)


@pytest.mark.parametrize("spread", [1, 5_000])
def test_pair_index_finds_its_pairs_and_nothing_else(spread: int) -> None:
    """``_PairIndex.rows``' contract, against a dict: a (network, src, dst) of the pairs table gives its row, any
    other key -1, on both look-ups (``spread`` 5,000 makes the span exceed 2**24 cells: the sorted-key search).
    The probes sit one past every edge of the table (src / dst one below the smallest and one above the largest id,
    network -1), where a key could alias another pair's slot if a bound were off by one."""
    from leonet.metrics import _PairIndex

    rng = np.random.default_rng(7)
    src = rng.integers(3, 40, 60) * spread
    dst = rng.integers(5, 30, 60) * spread
    net = rng.integers(0, 2, 60)
    net[:4], src[:4], dst[:4] = (0, 1, 0, 1), 3 * spread, (5 * spread, 5 * spread, 29 * spread, 29 * spread)
    keys = sorted(set(zip(net.tolist(), src.tolist(), dst.tolist(), strict=True)))
    names = {"a": 0, "b": 1}
    pairs = pa.table({"network": [("a", "b")[k[0]] for k in keys], "src": [k[1] for k in keys],
                      "dst": [k[2] for k in keys]})  # fmt: skip
    index = _PairIndex(pairs, names)
    assert index.dense == (spread == 1)
    want = {k: i for i, k in enumerate(keys)}
    s_lo, s_hi = int(src.min()), int(src.max())
    d_lo, d_hi = int(dst.min()), int(dst.max())
    probes = list(keys) + [(n, s, d) for n in (-1, 0, 1) for s in (s_lo - 1, s_lo, s_hi, s_hi + 1)
                           for d in (d_lo - 1, d_lo, d_hi, d_hi + 1)]  # fmt: skip
    # keys one span past an edge, which a flat key (net * S + s) * D + d would map onto a real pair
    ns, nd = s_hi - s_lo + 1, d_hi - d_lo + 1
    probes += [(n - 1, s + ns, d) for n, s, d in keys] + [(n, s - 1, d + nd) for n, s, d in keys]
    probes += [(n + 1, s - ns, d) for n, s, d in keys] + [(n, s + 1, d - nd) for n, s, d in keys]
    p = np.array(probes, dtype=np.int64)
    got = index.rows(p[:, 0], p[:, 1], p[:, 2])
    assert got.tolist() == [want.get(tuple(k), -1) for k in probes]


@pytest.mark.parametrize("stored", [False, True])
@pytest.mark.parametrize("all_inf", [(12, 13), (99, 99)])
def test_co_located_rows_have_infinite_stretch(stored: bool, all_inf: tuple[int, int]) -> None:
    """Two ground nodes at one place (gc_km = 0: a terminal beside its gateway, or passing its partner): the row's
    stretch is infinite; a pair with such rows (all or some) keeps its NumPy reference (its median stretch inf,
    not NaN, where all are), and the per-network quantiles are over the finite values only (as
    ``network_quantiles`` documents), recomputed with ``np.percentile``.  ``stored``: the table as written to
    disk, without the derived columns, so that stretch is computed from one_way_ms / gc_km."""
    from leonet.metrics import network_quantiles
    from leonet.routes_table import DERIVED

    routes = _synthetic(5)
    d = routes.to_pydict()
    # (10, 11): a moving terminal that passes its partner at every other snapshot (finite and infinite stretches
    # in one pair); ``all_inf`` (12, 13): its one reachable row co-located, or no pair so
    rows_ = zip(d["src"], d["dst"], d["t_s"], strict=True)
    here = [(s, t) == all_inf or ((s, t) == (10, 11) and k % 2 == 0) for s, t, k in rows_]
    gc = [0.0 if h else g for h, g in zip(here, d["gc_km"], strict=True)]
    rows = zip(here, d["stretch"], d["one_way_ms"], strict=True)
    st = [(np.inf if ow is not None else None) if h else x for h, x, ow in rows]
    for name, col in (("gc_km", gc), ("stretch", st)):
        field = routes.schema.field(name)
        routes = routes.set_column(routes.schema.get_field_index(name), name, pa.array(col, field.type))
    ref = _reference(routes)
    table = routes.drop_columns([c for c in DERIVED if c in routes.schema.names]) if stored else routes
    got = summarise(table).to_pydict()
    for i, key in enumerate(zip(got["network"], got["src"], got["dst"], strict=True)):
        want = ref[key]["stretch_median"]
        if key[1:] == all_inf:
            assert got["stretch_median"][i] == np.inf
        elif np.isnan(want):
            assert got["stretch_median"][i] is None
        else:
            assert got["stretch_median"][i] == pytest.approx(want, rel=1e-12)
    qs = np.array([0.0, 0.25, 0.5, 0.95, 1.0])
    out = network_quantiles(table, "stretch", qs)
    stretch = np.array([np.nan if x is None else x for x in st])
    for net in ("a", "b"):
        x = stretch[(np.array(d["network"]) == net) & np.isfinite(stretch)]
        assert out[net] == pytest.approx(np.percentile(x, qs * 100), rel=1e-12)
