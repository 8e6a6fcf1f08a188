"""Shared fixtures: the reference data folder, an offline skyfield timescale, small scenario builders.

The reference data live next to the repository (``../shared/data`` from the repo root, as in CI where the repo is
cloned beside ``shared/``).  Tests that need them are skipped, with the reason, when the folder is absent on a
developer's machine; under CI (the ``CI`` environment variable is set and not empty or ``0``/``false``) a
missing reference file or test tool is a failure, never a silent skip.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
#: ``shared/data`` beside the repository checkout (see ``shared/data/README.md`` for what each file is)
SHARED_DATA = Path(os.environ.get("LEONET_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


def under_ci() -> bool:
    """True when running under CI (``CI`` set, as GitHub Actions, GitLab CI and most others do)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing(reason: str) -> NoReturn:
    """Skip the calling test with ``reason``, or fail it under CI (where nothing may be silently skipped)."""
    if under_ci():
        pytest.fail(f"{reason} (CI is set: missing reference data or tools fail the run instead of skipping)")
    pytest.skip(reason)


def shared_file(rel: str) -> Path:
    """Path of a reference file, or skip the calling test with the reason when it is not there (fail under CI)."""
    p = SHARED_DATA / rel
    if not p.exists():
        missing(f"reference data {p} not found (expected the 'shared/data' folder next to the repository)")
    return p


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        missing(f"reference data folder {SHARED_DATA} not found (expected 'shared/data' next to the repository)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def ts():  # type: ignore[no-untyped-def]
    """skyfield timescale from its built-in tables (no network): UT1 - UTC and Delta T from IERS data shipped
    with skyfield, no polar motion."""
    try:
        from skyfield import api as skyfield_api
    except ImportError:
        missing("skyfield is not installed (a test tool: requirements/test.txt)")
    return skyfield_api.load.timescale(builtin=True)


@pytest.fixture(scope="session")
def pg_admin_url():  # type: ignore[no-untyped-def]
    """A PostgreSQL server: ``LEONET_TEST_PG_URL`` (set by ``.ci/run``), or a throwaway cluster started from
    Debian's PostgreSQL binaries; skipped without either (a failure under CI)."""
    url = os.environ.get("LEONET_TEST_PG_URL")
    if url:
        yield url
        return
    from pgserver import throwaway_cluster

    with throwaway_cluster() as admin:
        if admin is None:
            missing("no PostgreSQL: LEONET_TEST_PG_URL is not set and no initdb in /usr/lib/postgresql/*/bin")
        yield admin


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):  # type: ignore[no-untyped-def]
    """A fresh, empty control database: a SQLite file, and a PostgreSQL database (the same tests on both)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'control.db'}"
        return
    from pgserver import fresh_database

    with fresh_database(request.getfixturevalue("pg_admin_url")) as url:
        yield url
