"""Shared fixtures: the reference data folder, an offline skyfield timescale, small scenario builders.

The reference data live next to the repository (``../shared/data`` from the repo root, as in CI where the repo is
cloned beside ``shared/``); tests that need them are skipped, with the reason, when the folder is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
#: ``shared/data`` beside the repository checkout (see ``shared/data/README.md`` for what each file is)
SHARED_DATA = Path(os.environ.get("LEONET_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


def shared_file(rel: str) -> Path:
    """Path of a reference file, or skip the calling test with the reason when it is not there."""
    p = SHARED_DATA / rel
    if not p.exists():
        pytest.skip(f"reference data {p} not found (expected the 'shared/data' folder next to the repository)")
    return p


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"reference data folder {SHARED_DATA} not found (expected 'shared/data' next to the repository)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def ts():  # type: ignore[no-untyped-def]
    """skyfield timescale from its built-in tables (no network): UT1 - UTC and Delta T from IERS data shipped
    with skyfield, no polar motion."""
    skyfield_api = pytest.importorskip("skyfield.api")
    return skyfield_api.load.timescale(builtin=True)
