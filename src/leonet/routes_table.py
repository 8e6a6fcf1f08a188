"""The routes table: its schema (one row per network, pair and snapshot) and how a chunk's arrays become one
Arrow record batch (paths as ``list<int32>``), so that it goes to Parquet and DuckDB without copies."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray


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
) -> pa.RecordBatch:
    """One record batch of routes: ``cols`` holds one array per snapshot and field of :data:`ROUTE_FIELDS`,
    ``paths`` one padded (P, width) path array per snapshot; ``names`` the ground nodes' names, ``src`` / ``dst``
    the pairs' ground indices."""
    flat = {k: np.concatenate(v) for k, v in cols.items()}
    n = len(flat["t_s"])
    w = max(p.shape[1] for p in paths)
    allp = np.concatenate([pad_paths(p, w) for p in paths])
    lengths = (allp >= 0).sum(axis=1)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    path_arr = pa.ListArray.from_arrays(pa.array(offsets), pa.array(allp[allp >= 0].astype(np.int32)))
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


#: The routes table: one row per network, pair and snapshot.  Documented in the README ("Output schema").
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
