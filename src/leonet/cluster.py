"""Chunks of a run on a Dask cluster: ``leonet run --cluster local[:N]`` or ``--cluster tcp://HOST:PORT``.

The client ships the :class:`~leonet.scenario.Scenario` (a small pydantic object), never satellite objects:
each worker assembles the world from it once (cached per worker process, keyed by the world's digest) and
computes parts (:func:`leonet.parts.compute_part`: ``chunk.simulate_chunk`` from ``chunk.carry_at``); results
(an Arrow table, service run-lengths and the unusable satellites per part) come back as they finish and are
written as Parquet parts by the caller (:mod:`leonet.parts`).  At most ``2 x workers + 1`` parts are in flight,
so the client's memory stays bounded over any window.

Files a scenario names (TLE / OMM files, tracks, policy files) must be readable on every worker at the same
paths (a shared file system, or the same checkout at the same place): they are read by the worker, and the world
each worker builds is checked against the client's (:func:`leonet.parts.world_digest`; the satellites' positions
at the first snapshot are part of it), so a worker with other files fails the run with one line instead of
computing something else.  Built-in scenarios find their files in the worker's own leonet.

``distributed`` is imported only here, and this module only with ``--cluster`` (``tests/test_startup.py``).
"""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leonet.errors import InputError

if TYPE_CHECKING:
    from leonet.assembly import World
    from leonet.parts import Compute, PartResult, Task
    from leonet.policy import PolicyCarry
    from leonet.scenario import Scenario

#: most workers ``local:N`` starts
MAX_LOCAL_WORKERS = 256
#: seconds to wait for a scheduler to answer, and for its first worker (environment: LEONET_CONNECT_TIMEOUT_S)
CONNECT_TIMEOUT_S = 20.0


def _timeout_s() -> float:
    import os

    try:
        return max(0.5, float(os.environ.get("LEONET_CONNECT_TIMEOUT_S", CONNECT_TIMEOUT_S)))
    except ValueError:
        return CONNECT_TIMEOUT_S


_EXPECTED = "expected local, local:N (N worker processes) or tcp://HOST:PORT (a running `dask scheduler`)"


@dataclass(frozen=True)
class ClusterSpec:
    """Where chunks run: a local cluster of ``workers`` processes, or the scheduler at ``address``."""

    workers: int | None = None
    address: str | None = None


def parse_cluster(text: str) -> ClusterSpec:
    """``local`` (one worker per core), ``local:N`` or ``tcp://HOST:PORT``; anything else an :class:`InputError`."""
    t = text.strip()
    if t == "local":
        import os

        return ClusterSpec(workers=max(1, os.cpu_count() or 1))
    m = re.fullmatch(r"local:(\d{1,4})", t)
    if m:
        n = int(m.group(1))
        if not 1 <= n <= MAX_LOCAL_WORKERS:
            raise InputError("--cluster", f"{text!r}: {n} workers; expected local:N with 1 <= N <= {MAX_LOCAL_WORKERS}")
        return ClusterSpec(workers=n)
    m = re.fullmatch(r"tcp://([A-Za-z0-9.\-]+|\[[0-9A-Fa-f:]+\]):(\d{1,5})", t)
    if m and 1 <= int(m.group(2)) <= 65535:
        return ClusterSpec(address=t)
    raise InputError("--cluster", f"{text!r}; {_EXPECTED}")


@contextmanager
def connect(spec: ClusterSpec) -> Iterator[Any]:
    """A ``distributed.Client`` for ``spec`` (a ``LocalCluster`` of single-threaded worker processes, closed
    afterwards, or an existing scheduler); an unreachable scheduler is an :class:`InputError`."""
    dist = _distributed()
    cluster: Any = None
    try:
        if spec.workers is not None:
            dask = importlib.import_module("dask")
            with dask.config.set({"distributed.nanny.pre-spawn-environ": worker_environ()}):
                cluster = dist.LocalCluster(
                    n_workers=spec.workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    scheduler_port=0,
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                )
            client = dist.Client(cluster)
        else:
            try:
                client = dist.Client(spec.address, timeout=_timeout_s())
            except (OSError, TimeoutError) as exc:
                raise InputError(
                    "--cluster",
                    f"cannot reach the dask scheduler at {spec.address} ({exc.__class__.__name__}); expected a "
                    "running `dask scheduler` there (and `dask worker` processes connected to it)",
                ) from None
        try:
            try:
                client.wait_for_workers(1, timeout=_timeout_s())
            except (OSError, TimeoutError):
                raise InputError(
                    "--cluster",
                    f"no dask worker joined the scheduler within {_timeout_s():g} s; expected `dask worker "
                    "ADDRESS` processes connected to it",
                ) from None
            yield client
        finally:
            if cluster is not None:
                _quiet_workers(client)
            client.close()
    finally:
        if cluster is not None:
            levels = {n: logging.getLogger(n).level for n in _DASK_LOGGERS}
            try:
                _silence_dask_loggers()
                cluster.close()
            finally:
                for name, level in levels.items():
                    logging.getLogger(name).setLevel(level)


#: the loggers a closing local cluster may print shutdown races on
_DASK_LOGGERS = ("distributed", "tornado")


def _silence_dask_loggers() -> None:
    for name in _DASK_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _quiet_workers(client: Any) -> None:
    """Silence dask's loggers in the workers of a local cluster about to be closed (its processes end with it):
    a worker whose heartbeat is in flight when the scheduler goes logs a ``CommClosedError`` traceback at ERROR
    level (seen under load in CI), which is noise at that moment, not a fault of the run."""
    with suppress(Exception):  # a worker already gone has nothing left to say
        client.run(_silence_dask_loggers)


def _distributed() -> Any:
    """The ``distributed`` package, imported on first use (it is untyped: used through ``Any``)."""
    return importlib.import_module("distributed")


def worker_environ() -> dict[str, Any]:
    """The environment a nanny sets before it starts a worker process: dask's, less ``MALLOC_TRIM_THRESHOLD_``.
    dask sets it to 64 KiB so that workers give memory back to the system; glibc then stops raising its mmap
    threshold, every large NumPy temporary of a snapshot is a fresh mmap, and a chunk took 2-3x longer on a
    worker than in the client process (measured: 8.0 s against 2.2-3.5 s for the same part)."""
    dask = importlib.import_module("dask")
    _distributed()  # registers distributed's defaults in dask.config
    env = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}))
    env.pop("MALLOC_TRIM_THRESHOLD_", None)
    return env


class WorkerInputError(Exception):
    """A worker could not build the world the client has (files missing or different there): one line."""


_WORLDS: dict[str, World] = {}


def _world(scenario: Scenario, digest: str) -> World:
    """The world of ``scenario`` in this worker process, assembled once and checked against the client's."""
    if digest in _WORLDS:
        return _WORLDS[digest]
    import warnings
    from importlib import resources

    from leonet.assembly import LeonetWarning, assemble
    from leonet.parts import world_digest

    try:
        if scenario.source.startswith("<built-in "):  # its files are in this worker's leonet
            scenario = scenario.model_copy(update={"base_dir": str(resources.files("leonet").joinpath("scenarios"))})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LeonetWarning)  # the client warned already
            prep = assemble(scenario, force=True)  # the client checked the limits
    except InputError as exc:
        raise WorkerInputError(f"a worker cannot read the scenario's inputs: {exc}") from None
    if world_digest(prep) != digest:
        raise WorkerInputError(
            "a worker built another world from the scenario (its input files differ from the client's); expected "
            "the same files at the same paths on every worker"
        )
    _WORLDS.clear()
    _WORLDS[digest] = prep
    return prep


def run_part(
    scenario: Scenario,
    digest: str,
    net_index: int,
    k0: int,
    k1: int,
    folder: str | None = None,
    history: dict[int, PolicyCarry | None] | None = None,
) -> PartResult:
    """The task a worker runs: one part of one network, its carry rebuilt (``chunk.carry_at``) and not sent back.
    With ``folder`` (a local cluster: the run's folder is on this machine) the worker writes the part there
    itself and sends back only its state, not the routes."""
    import dataclasses
    from pathlib import Path

    from leonet.parts import compute_part, state_only, write_part

    out = dataclasses.replace(compute_part(_world(scenario, digest), net_index, k0, k1, None, history), carry=None)
    if folder is None:
        return out
    write_part(Path(folder), out)
    return state_only(out)  # not routes.slice(0, 0): that would pickle every buffer of the part


def cluster_compute(client: Any, scenario: Scenario, digest: str, folder: Path | None = None) -> Compute:
    """A :data:`leonet.parts.Compute` that maps the parts over ``client``'s workers, yielding each part as it
    finishes (``as_completed``), with a bounded number in flight.  With ``folder`` (only for workers on this
    machine: ``--cluster local``) the workers write the parts into it themselves (no routes sent back)."""
    as_completed = _distributed().as_completed

    def compute(prep: World, tasks: list[Task]) -> Iterator[PartResult]:
        from leonet.chunk import warmup_start
        from leonet.step import policy_history

        n_workers = max(1, len(client.scheduler_info().get("workers", {})))
        it = iter(tasks)
        # the roaming history at every part's warm-up start, from one decisions-only pass here (not one per task)
        history = policy_history(prep, [warmup_start(prep, t.k0) for t in tasks])

        def submit(t: Task) -> Any:
            where = str(folder) if folder is not None else None
            kw = warmup_start(prep, t.k0)
            mine = {kw: history[kw]}
            return client.submit(run_part, scenario, digest, t.net_index, t.k0, t.k1, where, mine, pure=False)

        futures = [submit(t) for t in islice(it, 2 * n_workers + 1)]
        if not futures:
            return
        pending = as_completed(futures)
        try:
            for fut in pending:
                try:
                    out: PartResult = fut.result()
                except WorkerInputError as exc:
                    raise InputError("--cluster", str(exc)) from None
                nxt = next(it, None)
                if nxt is not None:
                    pending.add(submit(nxt))
                fut.release()
                yield out
        finally:
            client.cancel(list(pending.futures))

    return compute
