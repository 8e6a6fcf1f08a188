"""Writing results to disk: Parquet files, a DuckDB database and the HTML report, all or nothing.

An output directory ``DIR`` is an ordinary directory; while a run works, these siblings exist in its parent::

    .DIR.lock                        flock(2)ed by the run writing DIR; holds its pid (kept, a few bytes)
    .DIR.tmp-<pid>-<random>/         the run's result in progress

A run takes the lock (a second run into the same ``DIR`` is refused at once; the kernel drops the lock when its
holder dies, however it dies), recovers and sweeps what dead runs left (below), writes into its temporary,
writes ``manifest.json`` (every file and its size, and a run id) last, fsyncs every file and the directory, and
then swaps the temporary and ``DIR`` in one step with Linux's ``renameat2(RENAME_EXCHANGE)`` (or renames it
into place when there is no ``DIR`` yet), fsyncs the parent, and removes the old result, now under the
temporary's name.  Readers of ``DIR`` see the complete old or the complete new result at every instant, and a
crash at any point leaves one of them in place.

Where the file system cannot exchange names, ``DIR`` is renamed to ``.DIR.old-<pid>`` and the temporary to
``DIR``: a crash between the two leaves no ``DIR``, and the next run puts back the newest complete result (a
temporary with a valid manifest, else the old one) before anything else.  Temporaries whose pid is dead (or
that are older than :data:`STALE_S`: pids are reused) and old results are removed by the next run into the same
``DIR``.

Resume (``leonet run --resume``): a run writes its routes as parts (:mod:`leonet.parts`) and keeps its temporary
when it is interrupted (Ctrl-C, SIGTERM); a SIGKILL leaves it too.  With ``resume=True`` the next run adopts the
newest unfinished temporary of a dead run (renamed to its own name, so the sweep keeps it) instead of removing
it, after checking that it was made for the same scenario (``run.json``); otherwise that temporary is removed
like any other.  A temporary with a complete manifest is a finished result, never adopted.
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

from leonet import routes_table
from leonet.errors import InputError
from leonet.results import Results

MANIFEST = "manifest.json"
#: age (s) after which a temporary is removed even if a process with its pid is alive (pids are reused)
STALE_S = 3600.0
#: tables results.duckdb holds as views over their Parquet files by a relative path (see :func:`connect`); the
#: others are small and kept as DuckDB tables, so that they answer from any working directory
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


def _tmp_pid(out_dir: Path, p: Path) -> int:
    m = re.match(rf"^\.{re.escape(out_dir.name)}\.tmp-(\d+)-", p.name)
    return int(m.group(1)) if m else -1


def _complete(d: Path) -> str | None:
    """The run id of a complete result directory (its manifest lists files that are all there), else None."""
    try:
        return str(verify(d)["run_id"])
    except (InputError, KeyError, TypeError, AttributeError):
        return None


def recover_and_sweep(out_dir: Path) -> list[Path]:
    """With the lock held: put back the newest complete result if a dead run left no ``out_dir``, then remove
    what dead runs left (their temporaries, old results, legacy temporaries older than an hour).  Returns what
    was removed."""
    # the lock we hold says no run of this leonet is writing them; a live pid keeps a temporary for an hour
    # (an unlocked writer), after which its pid is taken to be a reused one
    dead_tmps = [
        p
        for p in _siblings(out_dir, "tmp")
        if p.is_dir() and (not _pid_alive(_tmp_pid(out_dir, p)) or time.time() - p.stat().st_mtime > STALE_S)
    ]
    olds = [p for p in _siblings(out_dir, "old") if p.is_dir()]
    if not os.path.lexists(out_dir):
        done = [(rid, p) for p in dead_tmps if (rid := _complete(p)) is not None]
        back = max(done)[1] if done else (max(olds, key=lambda p: p.stat().st_mtime) if olds else None)
        if back is not None:
            os.rename(back, out_dir)
            _fsync_path(out_dir.parent)
    removed = [p for p in dead_tmps + olds if p.exists()]
    # temporaries of leonet before the lock (".NAME.<random>.tmp"), left for an hour by a run that died
    legacy = re.compile(rf"^\.{re.escape(out_dir.name)}\.[A-Za-z0-9_]{{8}}\.tmp$")
    with contextlib.suppress(FileNotFoundError):
        for p in out_dir.parent.iterdir():
            if legacy.match(p.name) and p.is_dir() and time.time() - p.stat().st_mtime > STALE_S:
                removed.append(p)
    for p in removed:
        shutil.rmtree(p, ignore_errors=True)
    return removed


@contextmanager
def atomic_dir(out_dir: Path | str, resume_key: str | None = None, resume: bool = False) -> Iterator[Path]:
    """Lock ``out_dir``, recover and clean up after dead runs, and give a temporary sibling directory to write
    into; on success it replaces ``out_dir`` in one step (see the module docstring), on any error it is removed
    and ``out_dir`` is left as it was.  An existing ``out_dir`` that is not a leonet output is refused.

    With ``resume_key`` (a digest of the scenario) the temporary is kept when the run is interrupted
    (``KeyboardInterrupt``), and with ``resume`` too, the newest unfinished temporary of a dead run with the same
    key is adopted (handed out again, with what it holds); one of another key is refused (:class:`InputError`)."""
    out_dir = Path(out_dir)
    with _writing(out_dir), _locked_tmp(out_dir, resume_key, resume) as tmp:
        yield tmp


class ResumeRefused(InputError):
    """``--resume`` found an unfinished run of another scenario: refused, and that run's temporary is kept."""


#: in a run's temporary directory: the key of the scenario it is for (see :func:`atomic_dir`)
RESUME_FILE = "resume.json"


def resume_candidate(out_dir: Path) -> Path | None:
    """With the lock held: the newest temporary of a dead run that is unfinished (no valid manifest) and
    resumable (it has a resume file), else None."""
    dead = [
        p
        for p in _siblings(out_dir, "tmp")
        if p.is_dir() and not _pid_alive(_tmp_pid(out_dir, p)) and (p / RESUME_FILE).is_file()
    ]
    dead = [p for p in dead if _complete(p) is None]
    return max(dead, key=lambda p: p.stat().st_mtime) if dead else None


def _adopt(out_dir: Path, key: str, tmp: Path) -> bool:
    """Move a dead run's unfinished temporary of the same scenario to ``tmp``; refuse one of another scenario."""
    cand = resume_candidate(out_dir)
    if cand is None:
        return False
    try:
        have = json.loads((cand / RESUME_FILE).read_text(encoding="utf-8")).get("key")
    except (OSError, ValueError, AttributeError):
        have = None
    if have != key:
        raise ResumeRefused(
            str(out_dir),
            "--resume: the unfinished run there was for another scenario; expected the same scenario "
            "(run without --resume to start again)",
        )
    os.rename(cand, tmp)
    os.utime(tmp)  # its age counts from now (the sweep removes temporaries untouched for an hour)
    return True


#: errors of the file system that are the user's to fix (a full disk, no permission), reported as one line
_USER_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS, errno.ENAMETOOLONG)


@contextmanager
def _writing(out_dir: Path) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        code = exc.errno
        if code is None and "No space left on device" in str(exc):  # pyarrow's IO errors carry no errno
            code = errno.ENOSPC
        if code not in _USER_ERRNOS:
            raise
        raise InputError(
            str(out_dir),
            f"cannot write the output ({os.strerror(code or 0)}); expected a writable folder "
            "with enough free space (nothing was changed)",
        ) from None


@contextmanager
def _locked_tmp(out_dir: Path, resume_key: str | None = None, resume: bool = False) -> Iterator[Path]:
    if out_dir.name in ("", ".", ".."):
        raise InputError(str(out_dir), "expected an output directory with a name of its own")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    if os.path.lexists(out_dir) and (out_dir.is_symlink() or not out_dir.is_dir()):
        raise InputError(str(out_dir), "it is a file or a link; expected an output directory (or a new name)")
    if out_dir.is_dir() and not _is_leonet_output(out_dir):
        raise InputError(
            str(out_dir), "it is a directory that leonet did not write; expected a new or a leonet output directory"
        )
    with output_lock(out_dir):
        tmp = out_dir.parent / f".{out_dir.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
        adopted = resume and resume_key is not None and _adopt(out_dir, resume_key, tmp)
        recover_and_sweep(out_dir)
        if not adopted:
            tmp.mkdir()
        if resume_key is not None:
            (tmp / RESUME_FILE).write_text(json.dumps({"key": resume_key}), encoding="utf-8")
        committed = keep = False
        try:
            yield tmp
            (tmp / RESUME_FILE).unlink(missing_ok=True)
            commit(tmp, out_dir)
            committed = True
        except (KeyboardInterrupt, ResumeRefused):
            keep = resume_key is not None  # kept for --resume (removed by the next run without it)
            raise
        finally:
            if not committed and not keep:
                shutil.rmtree(tmp, ignore_errors=True)


def _files(folder: Path) -> list[Path]:
    """Every file under ``folder`` (parts are in sub-directories), sorted."""
    return sorted(p for p in folder.rglob("*") if p.is_file())


def _write_manifest(folder: Path, run_id: str) -> None:
    files = {p.relative_to(folder).as_posix(): p.stat().st_size for p in _files(folder) if p.name != MANIFEST}
    meta = {"run_id": run_id, "written_utc": datetime.now(UTC).isoformat(), "pid": os.getpid(), "files": files}
    (folder / MANIFEST).write_text(json.dumps(meta, indent=2), encoding="utf-8")


def commit(tmp: Path, out_dir: Path) -> None:
    """Make the complete directory ``tmp`` the result at ``out_dir`` (lock held): manifest, fsync, then one
    exchange of names (or, without ``out_dir``, one rename), fsync, and removal of the old result."""
    if not (tmp / MANIFEST).exists():
        _write_manifest(tmp, f"{time.time_ns():020d}-{os.getpid()}-{secrets.token_hex(4)}")
    for f in _files(tmp):
        _fsync_path(f)
    for d in sorted(p for p in tmp.rglob("*") if p.is_dir()):
        _fsync_path(d)
    _fsync_path(tmp)
    if not out_dir.exists():
        os.rename(tmp, out_dir)
        _fsync_path(out_dir.parent)
        return
    if _renameat2_exchange(tmp, out_dir):
        _fsync_path(out_dir.parent)
        shutil.rmtree(tmp, ignore_errors=True)  # the old result, now under the temporary's name
        return
    old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}"
    os.rename(out_dir, old)  # a crash here leaves no out_dir: the next run puts tmp (complete) in place
    os.rename(tmp, out_dir)
    _fsync_path(out_dir.parent)
    shutil.rmtree(old, ignore_errors=True)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _renameat2_exchange(a: Path, b: Path) -> bool:
    """Swap two names atomically (Linux ``renameat2(RENAME_EXCHANGE)``); False where unsupported."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    rc = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EPERM):
        return False
    raise OSError(err, os.strerror(err), str(a))


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


def connect(out_dir: Path | str, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection to ``out_dir/results.duckdb`` whose views (``routes``) find their Parquet files from
    any working directory, wherever the output directory has been moved."""
    folder = Path(out_dir).resolve()
    con = duckdb.connect(str(folder / "results.duckdb"), read_only=read_only)
    con.execute("SET file_search_path = ?", [str(folder)])
    return con


def write_tables(results: Results, folder: Path, extra_files: dict[str, str] | None = None) -> None:
    """Write the result tables as Parquet (routes too, as one part, unless its parts are already written
    there: :mod:`leonet.parts`), the DuckDB database, ``scenario.json`` and ``extra_files`` (name -> text) into
    ``folder``.

    ``results.duckdb`` holds the small tables and a view ``routes`` over ``routes/part-*.parquet`` by a relative
    path (no second copy of the largest table; the folder can be moved): DuckDB resolves it against the working
    directory or ``file_search_path``, which :func:`connect` sets."""
    if isinstance(results.routes, pa.Table):
        (folder / "routes").mkdir(exist_ok=True)
        pq.write_table(
            routes_table.stored(results.routes), folder / "routes" / "part-all.parquet", **routes_table.PARQUET_OPTIONS
        )
    if isinstance(results.access, pa.Table):  # else its parts are written there already (leonet.parts)
        from leonet.access_table import ACCESS_SCHEMA, PARQUET_OPTIONS

        (folder / "access").mkdir(exist_ok=True)
        dest = folder / "access" / "part-all.parquet"
        pq.write_table(results.access.cast(ACCESS_SCHEMA), dest, **PARQUET_OPTIONS)
    tables: dict[str, pa.Table | None] = {
        "routes": None,
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
    if results.access is not None and results.prepared.access is not None:
        from leonet.access_table import pop_fibre_table

        tables["pop_fibre"] = pop_fibre_table(results.prepared.access)
        tables["access"] = None
        tables["access_pairs"] = None
    for name, table in tables.items():
        if table is not None:
            pq.write_table(table, folder / f"{name}.parquet", compression="zstd")
    con = duckdb.connect(str(folder / "results.duckdb"))
    try:
        con.execute("SET file_search_path = ?", [str(folder.resolve())])
        for name in tables:
            if name in _VIEWS:
                source = f"read_parquet('{name}/part-*.parquet')"
                con.execute(f"CREATE VIEW {name} AS {routes_table.view_sql(source)}")
            elif name == "access":
                from leonet.access_table import view_sql

                con.execute("CREATE VIEW access AS " + view_sql("read_parquet('access/part-*.parquet')"))
            elif name == "access_pairs":
                from leonet.access_table import PAIRS_VIEW_SQL

                con.execute("CREATE VIEW access_pairs AS " + PAIRS_VIEW_SQL)
            else:
                con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_parquet(?)", [str(folder / f"{name}.parquet")])
        con.execute("CHECKPOINT")
    finally:
        con.close()
    meta = results.scenario.model_dump(mode="json")
    (folder / "scenario.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    for name, text in (extra_files or {}).items():
        (folder / name).write_text(text, encoding="utf-8")


def write_results(results: Results, out_dir: Path | str, extra_files: dict[str, str] | None = None) -> Path:
    """Write ``results`` into ``out_dir``, all or nothing (see :func:`atomic_dir`).  Returns ``out_dir``."""
    with atomic_dir(out_dir) as tmp:
        write_tables(results, tmp, extra_files)
    return Path(out_dir)
