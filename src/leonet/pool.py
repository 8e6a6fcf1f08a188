"""The run's parts on this machine's cores: forked worker processes, each computing *runs* of consecutive parts.

Why processes: a starlink-550 snapshot with 4,950 pairs is ~8 ms of many small NumPy, SciPy and Arrow calls
that hold the GIL between them (its one routing-kernel call per 15 s slot is ~0.5 ms of it: threading the
kernel does not help at these sizes), so threads in one process left the second core idle (CPU / wall 1.04).

How: the tasks (parts, in the serial order) are cut into runs of at most :data:`RUN_PARTS` consecutive parts;
``workers`` processes forked from this one (they inherit the assembled world: nothing is shipped or rebuilt)
take runs from a queue, compute each run as the serial runner does (:func:`leonet.parts.serial_compute`: the
first part of a run rebuilds its carry with ``chunk.carry_at``, at most one routing slot of warm-up; the others
carry on), write every part themselves (:func:`leonet.parts.write_part`, committed atomically as in the serial
run) and send back only its state.  Rows equal the serial run's (``tests/test_pool.py`` compares them row for
row, as ``tests/test_cluster.py`` does for Dask).  The roaming history every run's warm-up needs is computed
once here (:func:`leonet.step.policy_history`), not once per run.

Workers die with this process (``PR_SET_PDEATHSIG`` on Linux, and a parent check before every part), so a
killed run leaves no process writing into its folder while a ``--resume`` adopts it; Ctrl-C and SIGTERM stop
them (the finished parts are kept).  Linux (``fork``) only; elsewhere, or with one CPU, ``leonet run`` computes
serially.  Workers: ``LEONET_WORKERS`` if set, else the CPUs this process may run on.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pickle
import queue
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from leonet.assembly import World
from leonet.parts import Compute, PartResult, Task, serial_compute, state_only, write_part

#: Most parts in one run of consecutive parts (a run pays one warm-up: at most one routing slot; 8 parts =
#: 2,048 snapshots, so <1% at 15 s slots, and the last run leaves a core idle for at most that long).
RUN_PARTS = 8
#: Seconds between checks that every worker is still alive while waiting for a part.
_POLL_S = 0.5
#: Seconds a worker may have exited without its "done" arriving (its last messages may still be in the pipe).
_GRACE_S = 5.0


def default_workers() -> int:
    """``LEONET_WORKERS`` if set (a positive integer), else the CPUs this process may run on."""
    env = os.environ.get("LEONET_WORKERS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def available() -> bool:
    """Whether worker processes can be forked here (Linux)."""
    return sys.platform.startswith("linux") and hasattr(os, "fork")


def runs_of(tasks: list[Task], workers: int) -> list[list[Task]]:
    """``tasks`` cut into runs of consecutive parts: as many runs as workers when that makes them at most
    :data:`RUN_PARTS` long, otherwise runs of :data:`RUN_PARTS` (the last ones shorter)."""
    if not tasks:
        return []
    size = max(1, min(RUN_PARTS, -(-len(tasks) // max(1, workers))))
    return [tasks[i : i + size] for i in range(0, len(tasks), size)]


def _die_with_parent() -> None:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux ``prctl(PR_SET_PDEATHSIG)``)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):  # pragma: no cover - not glibc: the parent check below still holds
        pass


def _worker(world: World, folder: Path | None, runs: list[list[Task]], jobs: Any, results: Any, parent: int) -> None:
    """A worker process: take run indices from ``jobs`` until None, compute and write each run's parts into
    ``folder``, and put ``("part", PartResult without routes)`` for each (without a folder: the part with its
    routes, not written), then ``("done", pid)``; ``("error", exception)`` on failure."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group: the parent decides
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with_parent()
    try:
        while (i := jobs.get()) is not None:
            for out in serial_compute(world, runs[i], history=_HISTORY):
                if os.getppid() != parent:  # the parent died before the kernel's signal arrived
                    os._exit(1)
                if folder is None:
                    results.put(("part", dataclasses.replace(out, carry=None)))
                    continue
                write_part(folder, out)
                results.put(("part", state_only(out)))
        results.put(("done", os.getpid()))
    except BaseException as exc:  # handed to the parent, which raises it
        try:  # the queue pickles on a thread of its own, where a failure would be lost: check here
            pickle.loads(pickle.dumps(exc))
        except Exception:
            exc = RuntimeError(f"{exc.__class__.__name__}: {exc}")
        results.put(("error", exc))


def _load_kernels() -> None:
    """Load the snapshot loop's compiled kernels (numba's cache) here, once, so that the forked workers inherit
    them instead of each loading them (~0.3 s CPU a process): a call of each on a two-vertex graph, with the
    argument types of the run's calls."""
    import numpy as np

    from leonet._keptpath import hop_delays
    from leonet._pathread import list_layout
    from leonet._routesearch import route_pairs

    one = np.ones(1, np.int64)
    zero = np.zeros(1, np.int64)
    no = np.zeros(1, bool)
    route_pairs(np.array([0, 1, 1]), np.array([1]), np.array([1.0]), zero, np.array([0, 1]), one, zero, zero, no, one)
    hop_delays(np.array([[0, 1]], np.int32), 2, one, np.array([1.0]))
    list_layout([np.array([[0, 1]], np.int32)])


#: the policy history of every run's warm-up start, set in the parent before forking (inherited by the workers)
_HISTORY: dict[int, Any] | None = None


def pool_compute(folder: Path | None, workers: int | None = None) -> Compute:
    """A :data:`leonet.parts.Compute` that runs the parts on ``workers`` forked processes (default
    :func:`default_workers`), which write them into ``folder`` themselves; yields each part's state as it
    finishes (any order).  Without a ``folder`` (the Python API's in-memory run) the workers send each part
    back whole, routes included (no carry)."""
    n_workers = default_workers() if workers is None else max(1, int(workers))

    def compute(prep: World, tasks: list[Task]) -> Iterator[PartResult]:
        global _HISTORY
        import multiprocessing as mp

        from leonet.chunk import warmup_start
        from leonet.step import policy_history

        runs = runs_of(tasks, n_workers)
        if len(runs) < 2:  # nothing to share out: this process (the caller's writer thread writes)
            yield from serial_compute(prep, tasks)
            return
        _HISTORY = policy_history(prep, [warmup_start(prep, t.k0) for t in tasks])  # one pass, all starts
        _load_kernels()
        ctx = mp.get_context("fork")
        jobs = ctx.Queue()
        results = ctx.Queue()
        for i in range(len(runs)):
            jobs.put(i)
        n = min(n_workers, len(runs))
        for _ in range(n):
            jobs.put(None)
        args = (prep, folder, runs, jobs, results, os.getpid())
        procs = [ctx.Process(target=_worker, args=args, daemon=True, name=f"leonet-worker-{w}") for w in range(n)]
        try:
            for p in procs:
                p.start()
            _HISTORY = None
            done: set[int] = set()
            exited: dict[int, float] = {}  # pid: when it was first seen exited without its "done"
            while len(done) < n:
                try:
                    kind, value = results.get(timeout=_POLL_S)
                except queue.Empty:
                    now = time.monotonic()
                    for p in procs:
                        if p.exitcode is not None and p.pid not in done:
                            since = exited.setdefault(p.pid or 0, now)
                            if p.exitcode != 0 or now - since > _GRACE_S:
                                raise RuntimeError(
                                    f"a worker process of the run died (exit code {p.exitcode}); the finished "
                                    "parts are kept (--resume continues from them)"
                                ) from None
                    continue
                if kind == "part":
                    yield value
                elif kind == "done":
                    done.add(value)
                else:
                    raise value
            for p in procs:
                p.join()
        finally:
            _HISTORY = None
            for p in procs:
                if p.is_alive():
                    p.terminate()
            for p in procs:
                with contextlib.suppress(AssertionError):  # a process that never started
                    p.join()
            for q in (jobs, results):
                q.close()
                q.cancel_join_thread()

    return compute
