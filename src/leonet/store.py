"""Writing results to disk: Parquet files, a DuckDB database and the HTML report, all or nothing.

Everything is written into a temporary sibling directory which then replaces the output directory with a
rename, so a crash or a bad input never leaves a half-written result behind.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from leonet.results import Results


@contextmanager
def atomic_dir(out_dir: Path) -> Iterator[Path]:
    """A temporary sibling directory to write into; on success it replaces ``out_dir`` (an existing one is moved
    aside first and removed after), on any error it is removed and ``out_dir`` is left as it was."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; the result is an ordinary directory
    try:
        yield tmp
        for f in tmp.iterdir():
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
        _replace_dir(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_tables(results: Results, folder: Path, extra_files: dict[str, str] | None = None) -> None:
    """Write the result tables as Parquet (routes too, unless already written there), the DuckDB database,
    ``scenario.json`` and ``extra_files`` (name -> text) into ``folder``."""
    tables: dict[str, pa.Table | None] = {
        "routes": results.routes if isinstance(results.routes, pa.Table) else None,
        "summary": results.summary,
        "networks": results.networks,
        "nodes": pa.concat_tables(
            [
                nodes.add_column(0, "network", pa.array([n.spec.name] * nodes.num_rows))
                for n, nodes in ((n, results.nodes(i)) for i, n in enumerate(results.prepared.networks))
            ]
        ),
        "service": results.service,
        "terminals": results.terminals,
    }
    for name, table in tables.items():
        if table is not None:
            pq.write_table(table, folder / f"{name}.parquet", compression="zstd")
    con = duckdb.connect(str(folder / "results.duckdb"))
    for name in tables:
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_parquet(?)", [str(folder / f"{name}.parquet")])
    con.close()
    meta = results.scenario.model_dump(mode="json")
    (folder / "scenario.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    for name, text in (extra_files or {}).items():
        (folder / name).write_text(text, encoding="utf-8")


def write_results(results: Results, out_dir: Path, extra_files: dict[str, str] | None = None) -> Path:
    """Write ``results`` into ``out_dir``, all or nothing (see :func:`atomic_dir`).  Returns ``out_dir``."""
    with atomic_dir(out_dir) as tmp:
        write_tables(results, tmp, extra_files)
    return Path(out_dir)


def _replace_dir(new: Path, target: Path) -> None:
    """Put directory ``new`` at ``target``; an existing ``target`` is moved aside first and removed after."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.rename(target, old)
    os.rename(new, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
