"""Writing results to disk: Parquet files, a DuckDB database and the HTML report, all or nothing.

Everything is written into a temporary sibling directory which then replaces the output directory with a
rename, so a crash or a bad input never leaves a half-written result behind.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from leonet.results import Results

#: Files of an output directory (documented in the README, "Output").
FILES = (
    "routes.parquet",
    "summary.parquet",
    "networks.parquet",
    "nodes.parquet",
    "service.parquet",
    "terminals.parquet",
    "results.duckdb",
    "scenario.json",
)


def write_results(
    results: Results,
    out_dir: Path,
    extra_files: dict[str, str] | None = None,
    extra_tables: dict[str, pa.Table] | None = None,
    on_step: Callable[[str], None] | None = None,
) -> Path:
    """Write ``results`` (and ``extra_files`` name -> text, e.g. the report; ``extra_tables`` name -> table)
    into ``out_dir``, atomically.  Returns ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; the result is an ordinary directory
    try:
        tables = {
            "routes": results.routes,
            "summary": results.summary,
            "networks": results.networks,
            "nodes": pa.concat_tables(
                [
                    results.nodes(i).add_column(0, "network", pa.array([n.spec.name] * results.nodes(i).num_rows))
                    for i, n in enumerate(results.prepared.networks)
                ]
            ),
            "service": results.service,
            "terminals": results.terminals,
            **(extra_tables or {}),
        }
        for name, table in tables.items():
            if on_step:
                on_step(f"{name}.parquet")
            pq.write_table(table, tmp / f"{name}.parquet", compression="zstd")
        if on_step:
            on_step("results.duckdb")
        con = duckdb.connect(str(tmp / "results.duckdb"))
        for name in tables:
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_parquet(?)", [str(tmp / f"{name}.parquet")])
        con.close()
        meta = results.scenario.model_dump(mode="json")
        (tmp / "scenario.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        for name, text in (extra_files or {}).items():
            (tmp / name).write_text(text, encoding="utf-8")
        for f in tmp.iterdir():
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
        _replace_dir(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def _replace_dir(new: Path, target: Path) -> None:
    """Put directory ``new`` at ``target``; an existing ``target`` is moved aside first and removed after."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.rename(target, old)
    os.rename(new, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
