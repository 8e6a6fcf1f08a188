"""Import first in a one-core benchmark: one thread per numerical library and the process pinned to one CPU.

The thread counts must be set before numpy, numba or OR-Tools is imported, so the benchmark imports this module
before any of them (``import _onecore  # noqa: F401``; the scripts run from ``benchmarks/``, which Python puts on
``sys.path``).  ``CPU`` is the CPU the process is pinned to (the lowest of its affinity mask), or None where the
platform has no affinity call.
"""

from __future__ import annotations

import os

THREAD_VARIABLES = (
    "NUMBA_NUM_THREADS",
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)

for _var in THREAD_VARIABLES:
    os.environ[_var] = "1"

CPU: int | None = None
if hasattr(os, "sched_setaffinity"):
    CPU = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {CPU})
