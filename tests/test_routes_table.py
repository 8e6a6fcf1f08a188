"""``routes_table``: the routes batch, its padding, the derived columns and their DuckDB view, against
references written here from the README's column definitions ("Output": ``rtt_ms = 2 * one_way_ms``,
``stretch = one_way_ms / (gc_km / c)``, ``reachable = one_way_ms IS NOT NULL``; ``first_sat`` / ``last_sat`` null
when unreachable; satellite ids start at 0)."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from leonet.constants import C_KM_S
from leonet.routes_table import (
    DERIVED,
    ROUTE_FIELDS,
    ROUTES_SCHEMA,
    STORED_SCHEMA,
    build_batch,
    needed,
    pad_paths,
    register,
    stored,
    with_derived,
)


def test_pad_paths_pads_with_minus_one_and_keeps_wide_enough_arrays() -> None:
    p = np.array([[4, 7], [5, -1]], np.int32)
    assert pad_paths(p, 4).tolist() == [[4, 7, -1, -1], [5, -1, -1, -1]]
    assert pad_paths(p, 2) is p and pad_paths(p, 1) is p


def _batch() -> pa.RecordBatch:
    """Two snapshots of three pairs; satellite 0 is a first and a last satellite (id 0 is a real satellite)."""
    P = 3
    rng = np.random.default_rng(1)
    ow = np.array([10.0, np.nan, 12.5, 11.0, 9.0, np.nan])
    cols: dict[str, list[np.ndarray]] = {
        "t_s": [np.full(P, 0.0), np.full(P, 1.0)],
        "one_way_ms": [ow[:3], ow[3:]],
        "rtt_ms": [2 * ow[:3], 2 * ow[3:]],
        "hops": [np.array([3, 0, 2]), np.array([2, 2, 0])],
        "first_sat": [np.array([0, -1, 5]), np.array([7, 0, -1])],
        "last_sat": [np.array([2, -1, 0]), np.array([0, 3, -1])],
        "gc_km": [np.array([1000.0, 2000.0, 0.0]), np.array([1000.0, 2000.0, 0.0])],
    }
    cols["src"] = [np.array([100, 100, 101])] * 2  # node ids (satellites 0..99 first)
    cols["dst"] = [np.array([101, 102, 102])] * 2
    gc = np.concatenate(cols["gc_km"])
    with np.errstate(divide="ignore"):
        st = ow / (gc / C_KM_S * 1e3)
    cols["stretch"] = [st[:3], st[3:]]
    for f in ("path_changed", "first_sat_changed", "last_sat_changed", "rerouted"):
        cols[f] = [rng.uniform(size=P) < 0.5 for _ in range(2)]
    assert set(cols) == set(ROUTE_FIELDS)
    paths = [
        np.array([[100, 0, 1, 2, 101], [-1, -1, -1, -1, -1], [100, 5, 0, 102, -1]], np.int32),
        np.array([[100, 7, 0, 101], [100, 0, 3, 102], [-1, -1, -1, -1]], np.int32),
    ]
    return build_batch("net", cols, paths, ["a", "b", "c"], np.array([0, 0, 1]), np.array([1, 2, 2]))


def test_build_batch_columns() -> None:
    b = _batch()
    assert b.schema == ROUTES_SCHEMA
    d = b.to_pydict()
    assert d["first_sat"] == [0, None, 5, 7, 0, None]
    assert d["last_sat"] == [2, None, 0, 0, 3, None]
    assert d["reachable"] == [True, False, True, True, True, False]
    assert d["rtt_ms"] == [20.0, None, 25.0, 22.0, 18.0, None]
    assert d["path"][0] == [100, 0, 1, 2, 101] and d["path"][1] == [] and d["path"][4] == [100, 0, 3, 102]
    assert (d["src_name"], d["dst_name"]) == (["a", "a", "b"] * 2, ["b", "c", "c"] * 2)


def _reference(table: pa.Table) -> dict[str, list[object]]:
    """The derived columns written from their definitions, row by row."""
    ow = table.column("one_way_ms").to_pylist()
    gc = table.column("gc_km").to_pylist()
    with np.errstate(divide="ignore"):
        stretch = [None if o is None else float(np.float64(o) / (np.float64(g) / C_KM_S * 1e3))
                   for o, g in zip(ow, gc, strict=True)]  # fmt: skip
    return {"rtt_ms": [None if o is None else 2.0 * o for o in ow], "stretch": stretch,
            "reachable": [o is not None for o in ow]}  # fmt: skip


@pytest.mark.parametrize("rechunk", [False, True])
@pytest.mark.parametrize("columns", [None, ["rtt_ms"], ["stretch", "src"], ["reachable", "one_way_ms"], ["t_s"]])
def test_with_derived_from_the_stored_columns(rechunk: bool, columns: list[str] | None) -> None:
    """The stored table (no derived columns), chunked as written (one chunk per batch) or with one_way_ms and
    gc_km cut at different rows (``rechunk``: they must be aligned before deriving), with nulls."""
    full = pa.Table.from_batches([_batch(), _batch()])
    st = stored(full)
    assert st.schema.names == STORED_SCHEMA.names
    if rechunk:
        gc = pa.chunked_array([st.column("gc_km").combine_chunks()])
        st = st.set_column(st.schema.get_field_index("gc_km"), "gc_km", gc)
    got = with_derived(st, columns)
    want = columns if columns is not None else ROUTES_SCHEMA.names
    assert got.schema.names == want
    if columns is None:
        assert got.schema == ROUTES_SCHEMA
    ref = _reference(full)
    for c in want:
        if c in DERIVED:
            assert got.column(c).to_pylist() == ref[c], c
        else:
            assert got.column(c).equals(full.column(c)), c
    # a full table is given back as it is, or selected
    assert with_derived(full) is full
    assert with_derived(full, ["stretch", "t_s"]).schema.names == ["stretch", "t_s"]


def test_needed_names_what_the_derived_columns_read() -> None:
    assert needed(None) is None
    assert needed(["t_s", "src"]) == ["t_s", "src"]
    assert needed(["rtt_ms"]) == ["one_way_ms", "gc_km"]
    assert needed(["stretch", "gc_km"]) == ["gc_km", "one_way_ms"]
    assert needed(["one_way_ms", "reachable"]) == ["one_way_ms", "gc_km"]


@pytest.mark.parametrize("kind", ["full", "stored", "dataset"])
def test_register_answers_every_column(kind: str, tmp_path: pytest.TempPathFactory) -> None:
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    full = pa.Table.from_batches([_batch()])
    src: pa.Table | ds.Dataset = full if kind == "full" else stored(full)
    if kind == "dataset":
        pq.write_table(stored(full), f"{tmp_path}/r.parquet")
        src = ds.dataset(f"{tmp_path}/r.parquet")
    con = duckdb.connect()
    register(con, src, "r")
    got = con.execute("SELECT * FROM r ORDER BY t_s, src, dst").arrow()
    if isinstance(got, pa.RecordBatchReader):
        got = got.read_all()
    assert got.column_names == ROUTES_SCHEMA.names
    ref = _reference(full)
    for c in ("rtt_ms", "stretch", "reachable"):
        assert got.column(c).to_pylist() == ref[c], c
    assert got.column("first_sat").to_pylist() == full.column("first_sat").to_pylist()
    # a table that holds the derived columns is registered as it is (no view over a *_stored name)
    names = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views()").fetchall()}
    assert "r" in names and ("r_stored" in names) == (kind != "full"), names
