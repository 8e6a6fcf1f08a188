"""The summaries of the same routes given in the other forms ``metrics`` accepts.

Reference: the summaries of the in-memory Arrow table (``tests/test_summaries.py`` checks those against NumPy).
The same rows as a table whose ``network`` column is plain strings (not dictionary-encoded), as a Parquet
dataset (read by DuckDB's own reader: ``_parquet_files`` lists its files), and as an Arrow IPC (Feather)
dataset (not Parquet: scanned by pyarrow, never handed to ``read_parquet``) give the same tables.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from leonet import metrics, routes_table
from test_summaries import _synthetic


def _plain_network(t: pa.Table) -> pa.Table:
    i = t.schema.get_field_index("network")
    return t.set_column(i, "network", t.column("network").cast(pa.string()))


def test_plain_string_networks_summarise_alike() -> None:
    routes = _synthetic(4)
    pairs, nets = metrics.summaries(routes)
    plain = _plain_network(routes)
    p2, n2 = metrics.summaries(plain)
    assert p2.to_pydict() == pairs.to_pydict() and n2.to_pydict() == nets.to_pydict()
    q = np.linspace(0, 1, 11)
    for f in (metrics.network_quantiles, metrics.network_quantiles_approx):
        want, got = f(routes, "stretch", q), f(plain, "stretch", q)
        assert want.keys() == got.keys() == {"a", "b"}
        for k in want:
            np.testing.assert_array_equal(got[k], want[k])


def test_parquet_and_ipc_datasets_summarise_alike(tmp_path: Path) -> None:
    routes = _synthetic(5)
    want_pairs, want_nets = metrics.summaries(routes)
    stored = routes_table.stored(routes)
    pq.write_table(stored, tmp_path / "r.parquet")
    parquet = ds.dataset(tmp_path / "r.parquet")
    assert metrics._parquet_files(parquet) == [str(tmp_path / "r.parquet")]
    ds.write_dataset(stored, tmp_path / "ipc", format="ipc")
    ipc = ds.dataset(tmp_path / "ipc", format="ipc")
    assert metrics._parquet_files(ipc) is None
    assert metrics._parquet_files(routes) is None
    for data in (parquet, ipc):
        pairs, nets = metrics.summaries(data)
        assert pairs.to_pydict() == want_pairs.to_pydict(), data.format
        assert nets.to_pydict() == want_nets.to_pydict(), data.format
