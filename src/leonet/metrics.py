"""Summaries of the routes table: per pair RTT min / median / p95 / max, stretch, hops, handovers, outage; and
per network.

Counts, minima, maxima and means are DuckDB aggregates over the routes (an Arrow table or a Parquet dataset:
streamed, a few values per group whatever the window).  Medians and p95 are exact and also in bounded memory
(:mod:`leonet.quantiles`: a few streamed passes over the RTT and stretch columns, not every value held at once;
DuckDB's ``quantile_cont`` keeps every value of a group in memory, ~18 bytes per row, and does not spill even
under ``SET memory_limit``: 99 M rows took 1.75 GB with a 500 MB limit, DuckDB 1.4.2).  Both interpolate
linearly (NumPy's default ``percentile`` method, DuckDB's ``quantile_cont``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeAlias

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs
import pyarrow.parquet as pq
from numba import njit
from numpy.typing import NDArray

from leonet import routes_table
from leonet.constants import C_KM_S
from leonet.quantiles import ExactQuantiles, LogHistogram

#: The routes as an in-memory Arrow table, or a dataset over Parquet files (full or stored columns).
Routes: TypeAlias = pa.Table | ds.Dataset

#: Rows per batch when the quantile passes stream the routes.
BATCH_ROWS = 1 << 18

#: The per-pair aggregates DuckDB computes; the quantile columns are added by :func:`summaries`.
SUMMARY_SQL = """
SELECT
    network, src, dst, any_value(src_name)::VARCHAR AS src_name, any_value(dst_name)::VARCHAR AS dst_name,
    min(gc_km) AS gc_km,  -- a moving terminal's distance varies: the closest, a bound for every snapshot
    2 * min(gc_km) / $c_km_s * 1000 AS gc_rtt_ms,
    count(*) AS snapshots,
    count(rtt_ms) AS reachable_snapshots,
    min(rtt_ms) AS rtt_min_ms,
    max(rtt_ms) AS rtt_max_ms,
    avg(hops) FILTER (WHERE reachable) AS hops_mean,
    count(*) FILTER (WHERE path_changed) AS path_changes,
    count(*) FILTER (WHERE first_sat_changed) AS first_sat_changes,
    count(*) FILTER (WHERE last_sat_changed) AS last_sat_changes,
    count(*) FILTER (WHERE NOT reachable) AS unreachable_snapshots,
    -- pass 0 of the exact quantiles (leonet.quantiles) when these are finite: count, min and max of stretch
    count(stretch) AS _st_n, min(stretch) AS _st_lo, max(stretch) AS _st_hi
FROM routes
GROUP BY network, src, dst  -- names are the nodes': one per src, one per dst
ORDER BY network, src, dst
"""

#: The summary's columns in order; ``rtt_median_ms``, ``rtt_p95_ms`` and ``stretch_median`` are exact quantiles.
SUMMARY_COLUMNS = (
    "network", "src", "dst", "src_name", "dst_name", "gc_km", "gc_rtt_ms", "snapshots", "reachable_snapshots",
    "rtt_min_ms", "rtt_median_ms", "rtt_p95_ms", "rtt_max_ms", "hops_mean", "stretch_median", "path_changes",
    "first_sat_changes", "last_sat_changes", "unreachable_snapshots",
)  # fmt: skip

#: per network, from the per-pair aggregates (``pairs``) and the routes (distinct snapshots)
NETWORK_SQL = """
WITH p AS (SELECT network::VARCHAR AS network, count(*) AS pairs, sum(snapshots) AS rows,
                  sum(reachable_snapshots) AS reachable, sum(path_changes) AS path_changes FROM pairs GROUP BY 1),
     t AS (SELECT network::VARCHAR AS network, count(DISTINCT t_s) AS snapshots FROM routes GROUP BY 1)
SELECT p.network, p.pairs, t.snapshots, p.reachable / p.rows AS reachable_share, p.path_changes::BIGINT AS path_changes
FROM p JOIN t USING (network) ORDER BY p.network
"""
NETWORK_COLUMNS = (
    "network", "pairs", "snapshots", "rtt_median_ms", "rtt_p95_ms", "reachable_share", "stretch_median",
    "path_changes",
)  # fmt: skip


def summarise(routes: Routes) -> pa.Table:
    """One row per network and pair (see :data:`SUMMARY_COLUMNS`)."""
    return summaries(routes)[0]


def network_summary(routes: Routes) -> pa.Table:
    """One row per network: pairs, median / p95 RTT over all pair-snapshots, share of reachable pair-snapshots,
    median stretch, path changes."""
    return summaries(routes)[1]


def summaries(routes: Routes) -> tuple[pa.Table, pa.Table]:
    """The per-pair and the per-network summaries, in bounded memory (quantiles: one set of passes for both)."""
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")  # a long query's bar would land in the user's output
        files = _parquet_files(routes)
        if files is not None:  # DuckDB's own Parquet reader: faster than scanning the Arrow dataset
            listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
            con.execute(f"CREATE TEMP VIEW routes AS {routes_table.view_sql(f'read_parquet([{listed}])')}")
        else:
            routes_table.register(con, routes)
        pairs = con.execute(SUMMARY_SQL, {"c_km_s": C_KM_S}).fetch_arrow_table()
        con.register("pairs", pairs)
        nets = con.execute(NETWORK_SQL).fetch_arrow_table()
    finally:
        con.close()
    q_pair, q_net = _quantiles(routes, pairs, nets)
    add = {"rtt_median_ms": q_pair[0][:, 0], "rtt_p95_ms": q_pair[0][:, 1], "stretch_median": q_pair[1][:, 0]}
    summary = _assemble(pairs, SUMMARY_COLUMNS, add)  # drops the pass-0 columns (_rtt_*, _st_*)
    add = {"rtt_median_ms": q_net[0][:, 0], "rtt_p95_ms": q_net[0][:, 1], "stretch_median": q_net[1][:, 0]}
    return summary, _assemble(nets, NETWORK_COLUMNS, add)


def _parquet_files(routes: Routes) -> list[str] | None:
    """The files of a Parquet dataset holding the stored (or full) routes columns, else None."""
    if not isinstance(routes, ds.FileSystemDataset) or not isinstance(routes.format, ds.ParquetFileFormat):
        return None
    if not isinstance(routes.filesystem, pyarrow.fs.LocalFileSystem) or not routes.files:
        return None
    return list(routes.files)


def _assemble(base: pa.Table, columns: tuple[str, ...], add: dict[str, NDArray[np.float64]]) -> pa.Table:
    cols = [pa.array(add[c], mask=np.isnan(add[c])) if c in add else base.column(c) for c in columns]
    return pa.Table.from_arrays(cols, names=list(columns))


def _batches(routes: Routes, columns: list[str]) -> Iterator[pa.RecordBatch]:
    files = _parquet_files(routes)
    if isinstance(routes, pa.Table):
        yield from routes.select(columns).to_batches(max_chunksize=BATCH_ROWS)
    elif files is not None:  # file by file, row group by row group: the dataset scanner's read-ahead grew with them
        for f in files:
            with pq.ParquetFile(f) as pf:
                yield from pf.iter_batches(batch_size=BATCH_ROWS, columns=columns)
    else:
        yield from routes.to_batches(columns=columns, batch_size=BATCH_ROWS, batch_readahead=1, fragment_readahead=1)


def _network_index(col: pa.Array, names: dict[str, int]) -> NDArray[np.int64]:
    if not pa.types.is_dictionary(col.type):
        col = pc.dictionary_encode(col)
    lut = np.array([names.get(str(v), -1) for v in col.dictionary.to_pylist()] + [-1], dtype=np.int64)
    idx = col.indices.to_numpy(zero_copy_only=False)
    return lut[np.asarray(idx, dtype=np.int64)]


@njit(cache=True, nogil=True)
def _dense_rows(net, src, dst, lut, s0, d0):  # type: ignore[no-untyped-def]
    out = np.empty(net.shape[0], dtype=np.int64)
    for i in range(net.shape[0]):
        s = src[i] - s0
        d = dst[i] - d0
        if net[i] < 0 or s < 0 or d < 0 or s >= lut.shape[1] or d >= lut.shape[2]:
            out[i] = -1
        else:
            out[i] = lut[net[i], s, d]
    return out


class _PairIndex:
    """Row of the summary of each routes row: a dense look-up over (network, src, dst)."""

    def __init__(self, pairs: pa.Table, net_names: dict[str, int]) -> None:
        net = np.array([net_names[str(n)] for n in pairs.column("network").to_pylist()], dtype=np.int64)
        src = pairs.column("src").to_numpy().astype(np.int64)
        dst = pairs.column("dst").to_numpy().astype(np.int64)
        # the table spans the ids in use (ground nodes come after the satellites, so src and dst start high)
        self.s0 = int(src.min()) if len(src) else 0
        self.d0 = int(dst.min()) if len(dst) else 0
        shape = (len(net_names), int(src.max(initial=0)) - self.s0 + 1, int(dst.max(initial=0)) - self.d0 + 1)
        self.dense = shape[0] * shape[1] * shape[2] <= 1 << 24
        self.shape = shape
        if self.dense:
            self.lut = np.full(shape, -1, dtype=np.int64)
            self.lut[net, src - self.s0, dst - self.d0] = np.arange(len(net))
        else:  # sorted keys, searched
            self.keys = (net * shape[1] + (src - self.s0)) * shape[2] + (dst - self.d0)
            self.order = np.argsort(self.keys)
            self.sorted = self.keys[self.order]

    def rows(self, net: NDArray[np.int64], src: NDArray[np.int64], dst: NDArray[np.int64]) -> NDArray[np.int64]:
        if self.dense:
            return _dense_rows(net, src, dst, self.lut, self.s0, self.d0)  # type: ignore[no-any-return]
        s, d = src - self.s0, dst - self.d0
        ok = (net >= 0) & (s >= 0) & (s < self.shape[1]) & (d >= 0) & (d < self.shape[2])
        out = np.full(len(net), -1, dtype=np.int64)
        key = (net * self.shape[1] + s) * self.shape[2] + d
        pos = np.minimum(np.searchsorted(self.sorted, key[ok]), len(self.sorted) - 1)
        found = self.sorted[pos] == key[ok]
        out[np.flatnonzero(ok)[found]] = self.order[pos[found]]
        return out


def _float(col: pa.Array) -> NDArray[np.float64]:
    return np.asarray(col.to_numpy(zero_copy_only=False), dtype=np.float64)  # nulls -> NaN


def _quantiles(
    routes: Routes, pairs: pa.Table, nets: pa.Table
) -> tuple[tuple[NDArray[np.float64], NDArray[np.float64]], tuple[NDArray[np.float64], NDArray[np.float64]]]:
    """Exact RTT median / p95 and stretch median per pair (rows of ``pairs``) and per network (of ``nets``)."""
    net_names = {str(n): i for i, n in enumerate(nets.column("network").to_pylist())}
    index = _PairIndex(pairs, net_names)
    names = routes.schema.names
    rtt_col = "rtt_ms" if "rtt_ms" in names else "one_way_ms"
    stretch_cols = ["stretch"] if "stretch" in names else ["one_way_ms", "gc_km"]
    columns = list(dict.fromkeys(["network", "src", "dst", rtt_col, *stretch_cols]))
    jobs = {
        "pair_rtt": ExactQuantiles(pairs.num_rows, [0.5, 0.95]),
        "pair_stretch": ExactQuantiles(pairs.num_rows, [0.5]),
        "net_rtt": ExactQuantiles(len(net_names), [0.5, 0.95]),
        "net_stretch": ExactQuantiles(len(net_names), [0.5]),
    }
    pair_net = np.array([net_names[str(n)] for n in pairs.column("network").to_pylist()], dtype=np.int64)
    G = len(net_names)
    seeds = {"rtt": ("reachable_snapshots", "rtt_min_ms", "rtt_max_ms"), "stretch": ("_st_n", "_st_lo", "_st_hi")}
    for name, (cn, clo, chi) in seeds.items():  # pass 0 from the SQL aggregates, per pair and per network
        n = np.nan_to_num(_float(pairs.column(cn))).astype(np.int64)
        lo, hi = _float(pairs.column(clo)), _float(pairs.column(chi))
        if not (np.isfinite(lo[n > 0]).all() and np.isfinite(hi[n > 0]).all()):
            continue  # infinities or NaN (min / max do not tell them apart): counted in a pass of their own
        lo, hi = np.where(n > 0, lo, np.inf), np.where(n > 0, hi, -np.inf)
        zero = np.zeros(len(n), np.int64)
        jobs[f"pair_{name}"].set_counts(n, zero, zero, lo, hi)
        nn = np.bincount(pair_net, weights=n, minlength=G).astype(np.int64)
        nlo, nhi = np.full(G, np.inf), np.full(G, -np.inf)
        np.minimum.at(nlo, pair_net, lo)
        np.maximum.at(nhi, pair_net, hi)
        jobs[f"net_{name}"].set_counts(nn, np.zeros(G, np.int64), np.zeros(G, np.int64), nlo, nhi)
    with ThreadPoolExecutor(max(1, min(len(jobs), os.cpu_count() or 1))) as pool:
        _passes(routes, columns, jobs, pool, net_names, index, rtt_col, "stretch" in names)
    return (jobs["pair_rtt"].result(), jobs["pair_stretch"].result()), (
        jobs["net_rtt"].result(),
        jobs["net_stretch"].result(),
    )


def _passes(
    routes: Routes,
    columns: list[str],
    jobs: dict[str, ExactQuantiles],
    pool: ThreadPoolExecutor,
    net_names: dict[str, int],
    index: _PairIndex,
    rtt_col: str,
    has_stretch: bool,
) -> None:
    """The passes over the routes until every job has its quantiles."""
    while active := [k for k, job in jobs.items() if job.begin_pass()]:
        for b in _batches(routes, columns):
            net = _network_index(b.column("network"), net_names)
            row = index.rows(net, _int(b.column("src")), _int(b.column("dst")))
            rtt = _float(b.column(rtt_col))
            if rtt_col == "one_way_ms":
                rtt = 2.0 * rtt
            if has_stretch:
                stretch = _float(b.column("stretch"))
            else:
                with np.errstate(divide="ignore", invalid="ignore"):
                    stretch = _float(b.column("one_way_ms")) / (_float(b.column("gc_km")) / C_KM_S * 1e3)
            feeds = {"pair_rtt": (row, rtt), "pair_stretch": (row, stretch), "net_rtt": (net, rtt),
                     "net_stretch": (net, stretch)}  # fmt: skip
            # the jobs are independent and their kernels release the GIL: one thread per core
            list(pool.map(lambda k, f=feeds: jobs[k].feed(*f[k]), active))
        for k in active:
            jobs[k].end_pass()


def _int(col: pa.Array) -> NDArray[np.int64]:
    return np.asarray(col.to_numpy(zero_copy_only=False), dtype=np.int64)


def network_quantiles(routes: Routes, column: str, qs: NDArray[np.float64]) -> dict[str, NDArray[np.float64]]:
    """Per network, the quantiles ``qs`` of the finite values of ``column`` (``stretch``, ``rtt_ms``, or a stored
    float column) over every row, exact and in bounded memory; networks without a finite value are left out."""
    names = routes.schema.names
    derived = column in routes_table.DERIVED and column not in names
    cols = list(dict.fromkeys(["network", *(["one_way_ms", "gc_km"] if derived else [column])]))
    nets: dict[str, int] = {}
    for b in _batches(routes, ["network"]):  # the networks (a dictionary column: cheap)
        col = b.column("network")
        values = col.dictionary.to_pylist() if pa.types.is_dictionary(col.type) else pc.unique(col).to_pylist()
        for v in values:
            nets.setdefault(str(v), len(nets))
    sel = ExactQuantiles(len(nets), qs)
    while sel.begin_pass():
        for b in _batches(routes, cols):
            x = _column_values(b, column, derived)
            x = np.where(np.isfinite(x), x, np.nan)  # finite values only (x may be a read-only Arrow view)
            sel.feed(_network_index(b.column("network"), nets), x)
        sel.end_pass()
    out = sel.result()
    return {name: out[i] for name, i in nets.items() if not np.isnan(out[i]).all()}


def _column_values(b: pa.RecordBatch, column: str, derived: bool) -> NDArray[np.float64]:
    """A batch's ``column`` as floats; a derived one (``rtt_ms``, ``stretch``) computed from the stored columns."""
    if not derived:
        return _float(b.column(column))
    ow = _float(b.column("one_way_ms"))
    with np.errstate(divide="ignore", invalid="ignore"):
        x: NDArray[np.float64] = 2.0 * ow if column == "rtt_ms" else ow / (_float(b.column("gc_km")) / C_KM_S * 1e3)
    return x


def network_quantiles_approx(routes: Routes, column: str, qs: NDArray[np.float64]) -> dict[str, NDArray[np.float64]]:
    """As :func:`network_quantiles`, from one pass over the routes into a :class:`~leonet.quantiles.LogHistogram`
    per network: within 0.05% (relative) of the exact quantiles for values in [1e-3, 1e6], the ends (quantiles 0
    and 1) exact; for the report's stretch CDF, where the exact selection cost two order statistics per point."""
    names = routes.schema.names
    derived = column in routes_table.DERIVED and column not in names
    cols = list(dict.fromkeys(["network", *(["one_way_ms", "gc_km"] if derived else [column])]))
    nets: dict[str, int] = {}
    hist = LogHistogram(0)
    for b in _batches(routes, cols):
        net = b.column("network")
        values = net.dictionary.to_pylist() if pa.types.is_dictionary(net.type) else pc.unique(net).to_pylist()
        for v in values:
            nets.setdefault(str(v), len(nets))
        hist.grow(len(nets))
        x = _column_values(b, column, derived)
        hist.feed(_network_index(net, nets), x)
    out = hist.quantiles(qs)
    return {name: out[i] for name, i in nets.items() if not np.isnan(out[i]).all()}
