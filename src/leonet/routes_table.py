"""The routes table: its schema (one row per network, pair and snapshot), how a chunk's arrays become one
Arrow record batch (paths as ``list<int32>``), and what of it is stored.

:data:`ROUTES_SCHEMA` is the table users see (``Results.routes`` of :func:`leonet.run`, the ``routes`` view of
``results.duckdb``).  Three of its columns are functions of others and are not written to Parquet
(:data:`DERIVED`): ``rtt_ms`` = 2 x ``one_way_ms``, ``stretch`` = ``one_way_ms`` / (``gc_km`` / c), ``reachable``
= ``one_way_ms`` is not null.  :func:`stored` drops them before writing (:data:`STORED_SCHEMA`,
:data:`PARQUET_OPTIONS`); :func:`view_sql` and :func:`register` put them back in DuckDB, :func:`with_derived` in
Arrow, computed exactly as :func:`build_batch` computes them (the same IEEE operations, bit for bit)."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
from numpy.typing import NDArray

from leonet.constants import C_KM_S


def pad_paths(path: NDArray[np.int32], width: int) -> NDArray[np.int32]:
    """Paths padded with -1 to at least ``width`` columns."""
    if path.shape[1] >= width:
        return path
    return np.pad(path, ((0, 0), (0, width - path.shape[1])), constant_values=-1)


ROUTE_FIELDS = (
    "t_s",
    "src",
    "dst",
    "rtt_ms",
    "one_way_ms",
    "hops",
    "first_sat",
    "last_sat",
    "gc_km",
    "stretch",
    "path_changed",
    "first_sat_changed",
    "last_sat_changed",
    "rerouted",
)


def build_batch(
    network: str,
    cols: dict[str, list[NDArray[np.generic]]],
    paths: list[NDArray[np.int32]],
    names: Sequence[str],
    src: NDArray[np.int64],
    dst: NDArray[np.int64],
    n_nodes: list[NDArray[np.int64] | None] | None = None,
) -> pa.RecordBatch:
    """One record batch of routes: ``cols`` holds one array per snapshot and field of :data:`ROUTE_FIELDS`,
    ``paths`` one padded (P, width) path array per snapshot; ``names`` the ground nodes' names, ``src`` / ``dst``
    the pairs' ground indices; ``n_nodes``: each path array's row lengths where known (else counted)."""
    from leonet._pathread import list_layout  # numba, on first use (`leonet check` does not load it)

    flat = {k: np.concatenate(v) for k, v in cols.items()}
    n = len(flat["t_s"])
    # offsets + values straight from the padded path arrays (compiled, no mask or copy per snapshot), without
    # padding every path to the widest
    offsets, nodes = list_layout(paths, n_nodes)
    path_arr = pa.ListArray.from_arrays(pa.array(offsets), pa.array(nodes))
    reach = np.isfinite(flat["rtt_ms"])
    names_arr = pa.array(names)
    P = len(src)
    reps = n // P if P else 0
    src_idx = np.tile(src, reps)
    dst_idx = np.tile(dst, reps)
    arrays = [
        pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int32)), pa.array([network])),
        pa.array(flat["t_s"]),
        pa.array(flat["src"]),
        pa.array(flat["dst"]),
        pa.DictionaryArray.from_arrays(pa.array(src_idx.astype(np.int32)), names_arr),
        pa.DictionaryArray.from_arrays(pa.array(dst_idx.astype(np.int32)), names_arr),
        pa.array(flat["rtt_ms"], mask=~reach),
        pa.array(flat["one_way_ms"], mask=~reach),
        pa.array(flat["hops"].astype(np.int32)),
        path_arr,
        pa.array(flat["first_sat"], mask=flat["first_sat"] < 0),
        pa.array(flat["last_sat"], mask=flat["last_sat"] < 0),
        pa.array(flat["gc_km"]),
        pa.array(flat["stretch"], mask=~reach),
        pa.array(reach),
        pa.array(flat["path_changed"]),
        pa.array(flat["first_sat_changed"]),
        pa.array(flat["last_sat_changed"]),
        pa.array(flat["rerouted"]),
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=ROUTES_SCHEMA)


#: The routes table: one row per network, pair and snapshot.  Documented in the README ("Output").
ROUTES_SCHEMA = pa.schema(
    [
        pa.field("network", pa.dictionary(pa.int32(), pa.string()), nullable=False),
        pa.field("t_s", pa.float64(), nullable=False),
        pa.field("src", pa.int32(), nullable=False),
        pa.field("dst", pa.int32(), nullable=False),
        pa.field("src_name", pa.dictionary(pa.int32(), pa.string()), nullable=False),
        pa.field("dst_name", pa.dictionary(pa.int32(), pa.string()), nullable=False),
        pa.field("rtt_ms", pa.float64()),
        pa.field("one_way_ms", pa.float64()),
        pa.field("hops", pa.int32(), nullable=False),
        pa.field("path", pa.list_(pa.int32()), nullable=False),
        pa.field("first_sat", pa.int32()),
        pa.field("last_sat", pa.int32()),
        pa.field("gc_km", pa.float64(), nullable=False),
        pa.field("stretch", pa.float64()),
        pa.field("reachable", pa.bool_(), nullable=False),
        pa.field("path_changed", pa.bool_(), nullable=False),
        pa.field("first_sat_changed", pa.bool_(), nullable=False),
        pa.field("last_sat_changed", pa.bool_(), nullable=False),
        pa.field("rerouted", pa.bool_(), nullable=False),
    ]
)


#: Columns of :data:`ROUTES_SCHEMA` that are functions of stored ones, with their DuckDB SQL (see the module doc).
DERIVED: dict[str, str] = {
    "rtt_ms": "2.0 * one_way_ms",
    "stretch": f"one_way_ms / (gc_km / {C_KM_S!r}::DOUBLE * 1000.0::DOUBLE)",
    "reachable": "one_way_ms IS NOT NULL",
}
#: What ``routes.parquet`` holds: :data:`ROUTES_SCHEMA` without :data:`DERIVED`.
STORED_SCHEMA = pa.schema([f for f in ROUTES_SCHEMA if f.name not in DERIVED])
#: Float columns written with Parquet's BYTE_STREAM_SPLIT encoding (zstd then finds the repeated exponent and
#: high mantissa bytes: one_way_ms 8.4 -> 6.1 B/row); dictionary encoding is off for them and for ``path``,
#: whose dictionary pages compressed worse than plain ones (8.1 -> 3.5 B/row; `python benchmarks/bench_day.py
#: --columns` prints the bytes per column).
_SPLIT = ("one_way_ms", "gc_km")
#: ``pyarrow.parquet.ParquetWriter`` / ``write_table`` options for the routes.
PARQUET_OPTIONS: dict[str, object] = {
    "compression": "zstd",
    "use_dictionary": [f.name for f in STORED_SCHEMA if f.name not in (*_SPLIT, "path")],
    "column_encoding": {name: "BYTE_STREAM_SPLIT" for name in _SPLIT},
}


def stored(routes: pa.RecordBatch | pa.Table) -> pa.RecordBatch | pa.Table:
    """The columns of a routes batch or table that are written (:data:`STORED_SCHEMA`)."""
    if routes.schema.names == STORED_SCHEMA.names:
        return routes
    return routes.select(STORED_SCHEMA.names)


def _chunks(col: pa.Array | pa.ChunkedArray) -> list[pa.Array]:
    return list(col.chunks) if isinstance(col, pa.ChunkedArray) else [col]


def _derive(one_way: pa.Array, gc: pa.Array | None, name: str) -> pa.Array:
    ow = np.asarray(one_way.to_numpy(zero_copy_only=False), dtype=np.float64)  # nulls -> NaN
    reach = np.isfinite(ow)
    if name == "reachable":
        return pa.array(reach)
    if name == "rtt_ms":
        return pa.array(2.0 * ow, mask=~reach)
    assert gc is not None
    km = np.asarray(gc.to_numpy(zero_copy_only=False), dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return pa.array(ow / (km / C_KM_S * 1e3), mask=~reach)


def needed(columns: list[str] | None) -> list[str] | None:
    """The stored columns :func:`with_derived` needs to give ``columns`` (None: all)."""
    if columns is None:
        return None
    base = [c for c in columns if c not in DERIVED]
    return base + [c for c in ("one_way_ms", "gc_km") if c not in base and any(d in DERIVED for d in columns)]


def with_derived(routes: pa.Table, columns: list[str] | None = None) -> pa.Table:
    """``columns`` (None: all of :data:`ROUTES_SCHEMA`, in order) of a stored or full routes table, computing
    those of :data:`DERIVED` that it lacks (from ``one_way_ms`` and ``gc_km``)."""
    want = ROUTES_SCHEMA.names if columns is None else columns
    missing = [c for c in want if c not in routes.schema.names]
    if not missing:
        return routes if want == routes.schema.names else routes.select(want)
    ow = _chunks(routes.column("one_way_ms"))
    gc: list[pa.Array | None] = [None] * len(ow)
    if "stretch" in missing:
        gcs = _chunks(routes.column("gc_km"))
        if [len(a) for a in ow] != [len(g) for g in gcs]:  # chunked apart (e.g. one column combined): align
            ow, gcs = [pa.concat_arrays(ow)], [pa.concat_arrays(gcs)]
        gc = list(gcs)
    values = {  # chunk by chunk, so that the derived columns are chunked as the others
        c: pa.chunked_array([_derive(a, g, c) for a, g in zip(ow, gc, strict=True)], type=ROUTES_SCHEMA.field(c).type)
        for c in missing
    }
    cols = [values[c] if c in missing else routes.column(c) for c in want]
    if columns is None:
        return pa.Table.from_arrays(cols, schema=ROUTES_SCHEMA)
    return pa.Table.from_arrays(cols, names=want)


def view_sql(source: str) -> str:
    """A ``SELECT`` giving :data:`ROUTES_SCHEMA`'s columns, in order, from ``source`` (stored routes: a table
    name or ``read_parquet(...)``); the body of the ``routes`` view."""
    cols = [f"{DERIVED[f.name]} AS {f.name}" if f.name in DERIVED else f.name for f in ROUTES_SCHEMA]
    return f"SELECT {', '.join(cols)} FROM {source}"


def register(con: duckdb.DuckDBPyConnection, routes: pa.Table | ds.Dataset, name: str = "routes") -> None:
    """Make ``routes`` (full or stored, in memory or a Parquet dataset) queryable as ``name`` with every column
    of :data:`ROUTES_SCHEMA` (a view computing :data:`DERIVED` when they are not stored)."""
    if set(DERIVED) <= set(routes.schema.names):
        con.register(name, routes)
        return
    con.register(f"{name}_stored", routes)
    con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {view_sql(name + '_stored')}")
