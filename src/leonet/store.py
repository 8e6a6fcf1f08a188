"""Writing results to disk: Parquet files, a DuckDB database and the HTML report, all or nothing.

An output directory ``DIR`` is a symbolic link to the generation that holds the last complete result; every
other name is a hidden sibling in ``DIR``'s parent folder::

    DIR -> .DIR.gen-<stamp>          replaced by one atomic rename(2) of a new link over it
    .DIR.gen-<stamp>/                one complete result (manifest.json lists its files and sizes)
    .DIR.tmp-<pid>-<random>/         a run in progress (becomes the next generation when complete)
    .DIR.lock                        flock(2)ed by the run writing DIR; holds its pid

A run takes the lock (a second run into the same ``DIR`` is refused at once), removes what dead runs left
(temporaries, links, superseded generations: a temporary whose pid is alive is kept), writes into its
temporary, fsyncs every file and the directory, renames it to a generation, fsyncs the parent, points a new link
at it and renames that link over ``DIR`` (fsync again), then removes the previous generation.  Readers of
``DIR`` see the complete old or the complete new result at every instant; a crash at any point leaves one of
them and, at worst, garbage that the next run removes.  An ``DIR`` that is still a real directory (written by
an older leonet) is swapped for the link with ``renameat2(RENAME_EXCHANGE)`` where the kernel has it; else it
is renamed aside first and, if the run dies in between, the next run puts the newest complete result back.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import json
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from leonet.errors import InputError
from leonet.results import Results

MANIFEST = "manifest.json"
#: tables small enough to keep as DuckDB tables (so the database answers SQL on them from anywhere); the routes
#: are a view over routes.parquet, resolved against the result directory (see :func:`connect`)
_VIEWS = ("routes",)


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_leonet_output(d: Path) -> bool:
    return (d / MANIFEST).is_file() or (d / "scenario.json").is_file() or not any(d.iterdir())


@contextmanager
def output_lock(out_dir: Path) -> Iterator[None]:
    """Hold the lock of ``out_dir`` (``.NAME.lock`` beside it) or refuse with an :class:`InputError` naming the
    run that holds it.  The kernel drops the lock when its holder dies, however it dies."""
    lock_path = out_dir.parent / f".{out_dir.name}.lock"
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            raise InputError(
                str(out_dir),
                f"another leonet run (pid {holder}) is writing this output directory; expected one run at a time "
                "per directory: wait for it to finish, or choose another -o",
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def _siblings(out_dir: Path, kind: str) -> list[Path]:
    prefix = f".{out_dir.name}.{kind}-"
    try:
        return sorted(p for p in out_dir.parent.iterdir() if p.name.startswith(prefix))
    except FileNotFoundError:
        return []


def _current_generation(out_dir: Path) -> Path | None:
    """The generation ``out_dir`` points to, if it is a link to one of its own generations."""
    if not out_dir.is_symlink():
        return None
    target = os.readlink(out_dir)
    if "/" in target or not target.startswith(f".{out_dir.name}.gen-"):
        return None
    return out_dir.parent / target


def _link(out_dir: Path, gen: Path) -> None:
    """Point ``out_dir`` (absent or a link) at ``gen`` in one rename, durably."""
    tmp_link = out_dir.parent / f".{out_dir.name}.link-{os.getpid()}-{secrets.token_hex(4)}"
    os.symlink(gen.name, tmp_link)
    os.replace(tmp_link, out_dir)
    _fsync_path(out_dir.parent)


def recover_and_sweep(out_dir: Path) -> list[Path]:
    """With the lock held: put back a result a dead run left without ``out_dir``, and remove what dead runs
    left.  Returns what was removed."""
    removed: list[Path] = []
    gens = _siblings(out_dir, "gen")
    olds = [p for p in _siblings(out_dir, "old") if p.is_dir()]
    if not os.path.lexists(out_dir) or (out_dir.is_symlink() and not out_dir.exists()):
        if gens:  # generations are complete by construction (renamed only once complete and fsynced)
            _link(out_dir, gens[-1])
        elif olds:  # a result moved aside by an older leonet or by a legacy swap that died half-way
            newest = max(olds, key=lambda p: p.stat().st_mtime)
            os.rename(newest, out_dir)
            _fsync_path(out_dir.parent)
            olds.remove(newest)
    current = _current_generation(out_dir)
    for p in gens:
        if p != current:
            removed.append(p)
    removed += olds
    removed += _siblings(out_dir, "link")
    for p in _siblings(out_dir, "tmp"):
        m = re.match(rf"^\.{re.escape(out_dir.name)}\.tmp-(\d+)-", p.name)
        if m is None or int(m.group(1)) == os.getpid() or not _pid_alive(int(m.group(1))):
            removed.append(p)
    # temporaries of leonet before the lock (".NAME.<random>.tmp"), left for an hour by a run that died
    legacy = re.compile(rf"^\.{re.escape(out_dir.name)}\.[A-Za-z0-9_]{{8}}\.tmp$")
    with contextlib.suppress(FileNotFoundError):
        for p in out_dir.parent.iterdir():
            if legacy.match(p.name) and time.time() - p.stat().st_mtime > 3600:
                removed.append(p)
    for p in removed:
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
    return removed


@contextmanager
def atomic_dir(out_dir: Path) -> Iterator[Path]:
    """Lock ``out_dir``, clean up after dead runs, and give a temporary sibling directory to write into; on
    success it becomes ``out_dir``'s new generation (see the module docstring), on any error it is removed and
    ``out_dir`` is left as it was.  A real directory at ``out_dir`` that is not a leonet output is refused."""
    out_dir = Path(out_dir)
    if out_dir.name in ("", ".", ".."):
        raise InputError(str(out_dir), "expected an output directory with a name of its own")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(str(out_dir), "it is a file; expected an output directory (or a new name)")
    if out_dir.is_dir() and not out_dir.is_symlink() and not _is_leonet_output(out_dir):
        raise InputError(
            str(out_dir), "it is a directory that leonet did not write; expected a new or a leonet output directory"
        )
    with output_lock(out_dir):
        recover_and_sweep(out_dir)
        tmp = out_dir.parent / f".{out_dir.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
        tmp.mkdir()
        try:
            yield tmp
            commit(tmp, out_dir)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise


def _write_manifest(folder: Path, run_id: str) -> None:
    files = {p.name: p.stat().st_size for p in sorted(folder.iterdir()) if p.is_file() and p.name != MANIFEST}
    meta = {"run_id": run_id, "written_utc": datetime.now(UTC).isoformat(), "pid": os.getpid(), "files": files}
    (folder / MANIFEST).write_text(json.dumps(meta, indent=2), encoding="utf-8")


def commit(tmp: Path, out_dir: Path) -> Path:
    """Make the complete directory ``tmp`` the result at ``out_dir`` (lock held): manifest, fsync, rename to a
    generation, swap the link.  Returns the generation."""
    stamp = f"{time.time_ns():020d}-{os.getpid()}"
    if not (tmp / MANIFEST).exists():
        _write_manifest(tmp, stamp)
    for f in tmp.iterdir():
        if f.is_file():
            _fsync_path(f)
    _fsync_path(tmp)
    gen = out_dir.parent / f".{out_dir.name}.gen-{stamp}"
    os.rename(tmp, gen)
    _fsync_path(out_dir.parent)
    previous = _current_generation(out_dir)
    if out_dir.is_dir() and not out_dir.is_symlink():
        _swap_real_dir(out_dir, gen)
    else:
        _link(out_dir, gen)
    if previous is not None and previous != gen:
        shutil.rmtree(previous, ignore_errors=True)
    return gen


_RENAME_EXCHANGE = 2


def _renameat2_exchange(a: Path, b: Path) -> bool:
    """Swap two names atomically (Linux ``renameat2(RENAME_EXCHANGE)``); False where unsupported."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    rc = fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(a))


def _swap_real_dir(out_dir: Path, gen: Path) -> None:
    """Replace a real directory ``out_dir`` (an older leonet's output) by a link to ``gen``."""
    tmp_link = out_dir.parent / f".{out_dir.name}.link-{os.getpid()}-{secrets.token_hex(4)}"
    os.symlink(gen.name, tmp_link)
    if _renameat2_exchange(tmp_link, out_dir):
        _fsync_path(out_dir.parent)
        shutil.rmtree(tmp_link, ignore_errors=True)  # now the old directory
        return
    old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}"
    os.rename(out_dir, old)  # a crash here: the next run links out_dir to the newest generation
    os.replace(tmp_link, out_dir)
    _fsync_path(out_dir.parent)
    shutil.rmtree(old, ignore_errors=True)


def verify(out_dir: Path) -> dict[str, Any]:
    """The manifest of the result at ``out_dir``, after checking that every file it lists is there with its
    size; an :class:`InputError` otherwise."""
    out_dir = Path(out_dir)
    try:
        meta: dict[str, Any] = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        why = exc.__class__.__name__
        raise InputError(str(out_dir), f"no readable {MANIFEST} ({why}); expected a leonet result") from None
    for name, size in meta["files"].items():
        p = out_dir / name
        if not p.is_file() or p.stat().st_size != size:
            raise InputError(str(p), f"missing or of the wrong size; expected {size} bytes")
    return meta


def connect(out_dir: Path, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection to ``out_dir/results.duckdb`` whose views (``routes``) find their Parquet files from
    any working directory, wherever the output directory has been moved."""
    folder = Path(out_dir).resolve()
    con = duckdb.connect(str(folder / "results.duckdb"), read_only=read_only)
    con.execute("SET file_search_path = ?", [str(folder)])
    return con


def write_tables(results: Results, folder: Path, extra_files: dict[str, str] | None = None) -> None:
    """Write the result tables as Parquet (routes too, unless already written there), the DuckDB database,
    ``scenario.json`` and ``extra_files`` (name -> text) into ``folder``.

    ``results.duckdb`` holds the small tables and a view ``routes`` over ``routes.parquet`` by a relative path
    (no second copy of the largest table; the folder can be moved): DuckDB resolves it against the working
    directory or ``file_search_path``, which :func:`connect` sets."""
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
    try:
        con.execute("SET file_search_path = ?", [str(folder.resolve())])
        for name in tables:
            if name in _VIEWS:
                con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{name}.parquet')")
            else:
                con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_parquet(?)", [str(folder / f"{name}.parquet")])
        con.execute("CHECKPOINT")
    finally:
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
