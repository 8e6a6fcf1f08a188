"""A small on-disk cache of derived NumPy arrays (indexes built from the shipped data), like numba's cache.

An entry is named by the SHA-256 of its key (which includes the data it was derived from and the version of the
code that derived it), so a changed input or rule never meets a stale entry.  The folder is ``$LEONET_CACHE_DIR``,
else ``$XDG_CACHE_HOME/leonet``, else ``~/.cache/leonet``; ``LEONET_CACHE_DIR=off`` disables it.  Entries are
written to a temporary file and renamed into place, so a reader never sees half an entry; a folder that cannot be
written, or an entry that cannot be read, only costs the time to derive the arrays again.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray


def folder() -> Path | None:
    """The cache folder, or None when caching is off."""
    env = os.environ.get("LEONET_CACHE_DIR")
    if env == "off":
        return None
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "leonet"


def _path(key: str) -> Path | None:
    f = folder()
    return None if f is None else f / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.npz"


def load_arrays(key: str) -> dict[str, NDArray[Any]] | None:
    """The arrays saved under ``key``, or None (no entry, caching off, or an unreadable entry)."""
    p = _path(key)
    if p is None or not p.is_file():
        return None
    try:
        with np.load(p, allow_pickle=False) as z:
            return {name: z[name] for name in z.files}
    except (OSError, ValueError, KeyError, EOFError):
        return None


def save_arrays(key: str, arrays: dict[str, NDArray[Any]]) -> None:
    """Save ``arrays`` under ``key``, atomically; failures to write are ignored (the cache is an optimisation)."""
    p = _path(key)
    if p is None:
        return
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".", suffix=".npz.tmp", dir=p.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, **arrays)  # type: ignore[arg-type]
            os.replace(tmp, p)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        return
