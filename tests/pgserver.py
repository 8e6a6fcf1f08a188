"""A PostgreSQL server for the control-plane tests: ``LEONET_TEST_PG_URL`` (CI: ``.ci/run`` starts one), or a
throwaway cluster started here from Debian's binaries (``/usr/lib/postgresql/*/bin``) on 127.0.0.1, owned by
the ``postgres`` user when we are root.  :func:`missing` skips the tests without either (fails under CI)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@contextmanager
def throwaway_cluster() -> Iterator[str | None]:
    """An admin URL of a fresh cluster (None: no PostgreSQL binaries here)."""
    bindir = _bin()
    if bindir is None:
        yield None
        return
    root = Path(tempfile.mkdtemp(prefix="leonet-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    port = _free_port()
    env = {**os.environ, "LC_ALL": "C"}
    run = subprocess.run  # fixed argument lists, no shell
    try:
        run(_as_postgres([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync",
                          "-E", "UTF8"]), check=True, capture_output=True, env=env)  # fmt: skip
        opts = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off -c full_page_writes=off"
        run(_as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(root / "log"), "-w",
                          "start"]), check=True, capture_output=True, env=env)  # fmt: skip
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        if (data / "postmaster.pid").exists():
            run(_as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                capture_output=True, env=env)  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    """A new empty database on the server of ``admin_url`` (dropped afterwards); its URL."""
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"leonet_test_{uuid.uuid4().hex[:12]}"
    u = make_url(admin_url)
    conninfo = u.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    try:
        yield u.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
