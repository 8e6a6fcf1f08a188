"""routes.parquet stores what is needed and derives the rest; its bytes per row.

``rtt_ms`` (2 x one_way_ms), ``stretch`` (one_way_ms / (gc_km / c)) and ``reachable`` (one_way_ms not null)
are not written; the ``routes`` view of results.duckdb and ``Results.routes_table`` compute them, equal bit for
bit to the Python API's in-memory table (which computed them in ``routes_table.build_batch``).  The figure:
``python -m pytest tests/test_output_size.py -s`` prints the bytes per row of routes.parquet (34.1 B/row before
this change, on the same window).
"""

from __future__ import annotations

import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import leonet
from leonet import assembly, routes_table, store
from leonet.results import run_to_parquet

#: bytes per row of routes.parquet on the default scenario's first minute (measured 10.4; 34.1 before)
MAX_BYTES_PER_ROW = 14.0


def test_routes_parquet_is_small_and_derives_the_rest(tmp_path) -> None:  # type: ignore[no-untyped-def]
    sc = leonet.load_scenario("default").with_time(end_s=60)
    prep = assembly.assemble(sc)
    streamed = run_to_parquet(prep, tmp_path / "routes.parquet")
    on_disk = pq.read_table(tmp_path / "routes.parquet")
    assert on_disk.schema.names == routes_table.STORED_SCHEMA.names
    assert not set(routes_table.DERIVED) & set(on_disk.schema.names)
    per_row = os.path.getsize(tmp_path / "routes.parquet") / on_disk.num_rows
    print(f"\nroutes.parquet: {on_disk.num_rows:,} rows, {per_row:.2f} bytes per row (default scenario, 61 s)")
    assert per_row < MAX_BYTES_PER_ROW

    mem = leonet.run(sc)
    assert mem.routes.schema.equals(routes_table.ROUTES_SCHEMA)  # the Python API still shows every column
    full = streamed.routes_table()  # Parquet-backed: derived columns computed
    assert full.schema.names == routes_table.ROUTES_SCHEMA.names
    for col in routes_table.DERIVED:
        assert full.column(col).equals(mem.routes.column(col)), col
    sub = streamed.routes_table(["stretch", "src"])
    assert sub.column_names == ["stretch", "src"] and sub.column("stretch").equals(mem.routes.column("stretch"))

    out = tmp_path / "out"
    store.write_results(mem, out)  # the Python API's results written: stored columns only, a view adds the rest
    parts = sorted((out / "routes").glob("part-*.parquet"))
    assert parts and all(pq.read_schema(p).names == routes_table.STORED_SCHEMA.names for p in parts)
    con = store.connect(out)
    view = con.execute("SELECT * FROM routes ORDER BY t_s, src, dst").fetch_arrow_table()
    con.close()
    assert view.column_names == routes_table.ROUTES_SCHEMA.names
    ref = mem.routes.sort_by([("t_s", "ascending"), ("src", "ascending"), ("dst", "ascending")])
    for col in routes_table.DERIVED:
        a = view.column(col).to_numpy(zero_copy_only=False).astype(np.float64)
        b = ref.column(col).to_numpy(zero_copy_only=False).astype(np.float64)
        np.testing.assert_array_equal(a, b, err_msg=col)  # bit for bit, NaN where unreachable
    assert mem.summary.equals(streamed.summary) and mem.networks.equals(streamed.networks)


def test_with_derived_keeps_the_chunks() -> None:
    """Derived columns are chunked as the stored ones (consumers zip the chunks of two columns)."""
    t = leonet.run(leonet.load_scenario("default").with_time(end_s=2))
    stored = pa.concat_tables([routes_table.stored(t.routes).slice(0, 100), routes_table.stored(t.routes).slice(100)])
    full = routes_table.with_derived(stored)
    assert [len(c) for c in full.column("stretch").chunks] == [len(c) for c in full.column("network").chunks]
    assert full.column("rtt_ms").equals(t.routes.column("rtt_ms"))
