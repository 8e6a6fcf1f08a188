"""Whether numba's on-disk cache already holds the compiled routing kernels (``cache=True`` in
:mod:`leonet._dijkstra`, :mod:`leonet._pathread` and :mod:`leonet._keptpath`).  When it does not, the first run
compiles them (about 4 s), and the command line says so instead of looking hung.

numba has no public call for "is this function cached"; this reads the cache index the way numba does when it
loads an overload (``FunctionCache._cache_file._load_index``: empty when missing or stale for the current source).
If numba's internals change, :func:`kernels_cached` answers True (say nothing) rather than fail.
"""

from __future__ import annotations

from typing import Any


def _dispatchers() -> list[Any]:
    from leonet import _dijkstra, _keptpath, _pathread

    mods = (_dijkstra, _pathread, _keptpath)
    return [f for m in mods for f in vars(m).values() if hasattr(f, "py_func") and hasattr(f, "_cache")]


def kernels_cached() -> bool:
    """True when every cached kernel has an entry in numba's cache for the current source."""
    try:
        return all(bool(f._cache._cache_file._load_index()) for f in _dispatchers())
    except Exception:  # pragma: no cover - numba internals changed: stay quiet
        return True
