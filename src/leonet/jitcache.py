"""Whether numba's on-disk cache already holds the compiled kernels a ``leonet run`` uses (``cache=True`` in
:mod:`leonet._routesearch`, :mod:`leonet._keptpath` and the Arrow layout of :mod:`leonet._pathread`).  When it does
not, the first run compiles them (about 4 s), and the command line says so instead of looking hung.  Kernels a run
never calls (the dense :func:`leonet._dijkstra.dijkstra_many` of the service and the Hypatia export) are not
asked about: they would never be cached by a run, and the notice would be printed on every run.

numba has no public call for "is this function cached"; this reads the cache index the way numba does when it
loads an overload (``FunctionCache._cache_file._load_index``: empty when missing or stale for the current source).
If numba's internals change, :func:`kernels_cached` answers True (say nothing) rather than fail.
"""

from __future__ import annotations

from typing import Any


def _dispatchers() -> list[Any]:
    from leonet import _keptpath, _pathread, _routesearch

    run_kernels = [f for m in (_routesearch, _keptpath) for f in vars(m).values() if hasattr(f, "_cache")]
    return [*run_kernels, _pathread._row_lengths, _pathread._compact_block]


def kernels_cached() -> bool:
    """True when every cached kernel has an entry in numba's cache for the current source."""
    try:
        return all(bool(f._cache._cache_file._load_index()) for f in _dispatchers())
    except Exception:  # pragma: no cover - numba internals changed: stay quiet
        return True
