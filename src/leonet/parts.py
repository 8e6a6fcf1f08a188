"""The routes as Parquet *parts*, one per chunk, each committed atomically; a writer thread; the chunk driver.

Layout of an output directory (or of the temporary directory a run writes into)::

    routes/part-<net:03d>-<k0:010d>.parquet   the routes of network ``net``, snapshots ``k0:k1`` (one chunk)
    state/part-<net:03d>-<k0:010d>.npz        what the service tables need from that chunk (run in progress only)
    run.json                                  which scenario and world the parts belong to

A part is finished when its Parquet file exists under its final name: the ``.npz`` is written first, then the
Parquet file to a hidden name, fsynced and renamed into place, so a run killed at any instant (SIGKILL, Ctrl-C)
leaves finished parts and at most a hidden temporary.  ``--resume`` adopts such a directory and computes only the
chunks without a part (:func:`finished`).  Names sort in (network, window) order, so the parts read as one table
in the serial run's row order (:func:`routes_dataset`).  ``state/`` is removed before the commit (:func:`finish`).

The :class:`PartWriter` writes parts on a thread of its own behind a bounded queue, so that the next chunk is
computed while the last one is compressed and written (pyarrow releases the GIL while it encodes).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import queue
import shutil
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from numpy.typing import NDArray

from leonet import access_table, routes_table, service
from leonet.assembly import World
from leonet.chunk import CHUNK, Carry, carry_at, chunk_bounds, initial_carry, simulate_chunk, warmup_start
from leonet.policy import PolicyCarry
from leonet.results import Results, _results
from leonet.routes_table import ROUTES_SCHEMA
from leonet.runlength import Runs, merge
from leonet.runner import service_table
from leonet.scenario import Scenario
from leonet.step import policy_history, positions_at
from leonet.store import ResumeRefused

#: snapshots per part (and per cluster task): ``4 x chunk.CHUNK``, simulated as chunks that carry on from one
#: another; a part that starts anew (a cluster task, the first after a resume) first rebuilds its carry
#: (``chunk.carry_at``: at most one routing slot of warm-up, ~6% of a part at 15 s slots)
PART_SNAPSHOTS = 4 * CHUNK


@dataclass(frozen=True)
class PartResult:
    """One part: the routes of snapshots ``k0:k1`` of a network, the service runs over the policy's terminals
    and the unusable satellites (what the run's tables need besides the routes), and the carry after it
    (None once shipped or read back)."""

    net_index: int
    k0: int
    k1: int
    routes: pa.Table
    service: Runs
    unusable: NDArray[np.bool_]
    carry: Carry | None = None
    #: the part is already on disk (written by the worker that computed it, into the run's folder)
    written: bool = False
    #: the access rows of the part (``[access]`` only; None once written or read back)
    access: pa.Table | None = None


def state_only(out: PartResult) -> PartResult:
    """``out`` without its routes and carry, marked written: what a process that wrote the part sends back.  The
    routes become a new empty table (pickling ``routes.slice(0, 0)`` would send every buffer of the part:
    pyarrow 22 pickles a slice's whole buffers, 80 MB for 0 of 10 M int64 rows)."""
    empty = pa.Table.from_batches([], schema=out.routes.schema)
    return PartResult(out.net_index, out.k0, out.k1, empty, out.service, out.unusable, None, True, None)


def compute_part(
    world: World,
    net_index: int,
    k0: int,
    k1: int,
    carry: Carry | None = None,
    history: Mapping[int, PolicyCarry | None] | None = None,
) -> PartResult:
    """Snapshots ``k0:k1`` of network ``net_index`` as chunks of ``chunk.CHUNK`` carried on from ``carry``
    (rebuilt by ``chunk.carry_at`` when None, with the policy ``history`` of ``step.policy_history`` if given):
    rows equal to the serial run's."""
    if carry is None:
        carry = carry_at(world, net_index, k0, history) if k0 > 0 else initial_carry(world)
    batches: list[pa.RecordBatch] = []
    acc: list[pa.RecordBatch] = []
    runs: list[Runs] = []
    bad = np.zeros(world.networks[net_index].n_sats, dtype=bool)
    for a in range(k0, k1, CHUNK):
        res = simulate_chunk(world, net_index, a, min(k1, a + CHUNK), carry)
        carry = res.carry
        if res.routes.num_rows:
            batches.append(res.routes)
        if res.access is not None:
            acc.append(res.access)
        runs.append(res.service)
        bad |= res.unusable
    routes = pa.Table.from_batches(batches, schema=ROUTES_SCHEMA)
    access = pa.Table.from_batches(acc, schema=access_table.ACCESS_SCHEMA) if world.access is not None else None
    return PartResult(net_index, k0, k1, routes, merge(runs), bad, carry, access=access)


ROUTES_DIR = "routes"
ACCESS_DIR = "access"
STATE_DIR = "state"
RUN_FILE = "run.json"
#: version of this layout and of the chunking; a resume across versions is refused
LAYOUT = 1


@dataclass(frozen=True, order=True)
class Task:
    """One chunk of one network: snapshots ``k0:k1``."""

    net_index: int
    k0: int
    k1: int

    @property
    def name(self) -> str:
        return f"part-{self.net_index:03d}-{self.k0:010d}"


def plan(prep: World, chunk_snapshots: int = PART_SNAPSHOTS) -> list[Task]:
    """Every chunk of every network, in the serial run's order (``chunk_snapshots``: about this many snapshots
    each; a resume must use the same figure, as ``leonet run`` does)."""
    bounds = chunk_bounds(prep, chunk_snapshots)
    return [Task(i, k0, k1) for i in range(len(prep.networks)) for k0, k1 in bounds]


def world_digest(prep: World) -> str:
    """A digest of what a run computes from: the scenario (without where it was read from), the snapshot times,
    the ground nodes and pairs, and every satellite's position at the first snapshot (so a TLE file that changed
    under the same scenario text is noticed).  Equal on every machine that reads the same inputs."""
    h = hashlib.sha256()
    sc = prep.scenario.model_dump(mode="json", exclude={"source", "base_dir"})
    h.update(json.dumps(sc, sort_keys=True).encode())
    h.update(f"layout {LAYOUT}".encode())
    g = prep.ground
    for a in (prep.times_s, g.lat_deg, g.lon_deg, prep.src, prep.dst):
        h.update(np.ascontiguousarray(a).tobytes())
    h.update("\n".join(g.names).encode())
    t0 = prep.times_s[:1]
    for net in prep.networks:
        h.update(f"{net.spec.name}:{net.n_sats}".encode())
        if len(t0):
            r = positions_at(net, prep, t0)
            h.update(np.round(np.nan_to_num(r, nan=-1.0), 6).tobytes())
    return h.hexdigest()


def scenario_key(scenario: Scenario) -> str:
    """A digest of the scenario as simulated (not where it was read from): what ``--resume`` must match."""
    sc = scenario.model_dump(mode="json", exclude={"source", "base_dir"})
    return hashlib.sha256(json.dumps({"scenario": sc, "layout": LAYOUT}, sort_keys=True).encode()).hexdigest()


def check_run_file(folder: Path, digest: str, where: str) -> None:
    """Record the world a run's parts belong to, or refuse to add parts to another world's (one line)."""
    path = folder / RUN_FILE
    if path.is_file():
        try:
            have = json.loads(path.read_text(encoding="utf-8")).get("world")
        except (OSError, ValueError, AttributeError):
            have = None
        if have != digest:
            raise ResumeRefused(
                where,
                "--resume: the unfinished run there simulated another scenario or other input files; expected the "
                "same scenario and files (run without --resume to start again)",
            )
        return
    path.write_text(json.dumps({"world": digest, "layout": LAYOUT}), encoding="utf-8")


def _npz_bytes(arrays: dict[str, Any]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _fsynced_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_part(folder: Path, out: PartResult) -> None:
    """Commit one chunk: its state (``.npz``), then its routes (Parquet, fsynced, renamed into place last)."""
    task = Task(out.net_index, out.k0, out.k1)
    (folder / STATE_DIR).mkdir(exist_ok=True)
    (folder / ROUTES_DIR).mkdir(exist_ok=True)
    state = {
        "k1": np.array([out.k1], dtype=np.int64),
        "service_item": out.service.item,
        "service_first": out.service.first,
        "service_stop": out.service.stop,
        "service_value": out.service.value,
        "unusable": np.packbits(out.unusable),
        "n_sats": np.array([len(out.unusable)], dtype=np.int64),
    }
    _fsynced_write(folder / STATE_DIR / f"{task.name}.npz", _npz_bytes(state))
    if out.access is not None:  # before the routes part, whose name commits the part
        (folder / ACCESS_DIR).mkdir(exist_ok=True)
        dest = folder / ACCESS_DIR / f"{task.name}.parquet"
        tmp_a = dest.with_name(f".{dest.name}.tmp")
        pq.write_table(out.access, tmp_a, **access_table.PARQUET_OPTIONS)
        with open(tmp_a, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp_a, dest)
    final = folder / ROUTES_DIR / f"{task.name}.parquet"
    tmp = final.with_name(f".{final.name}.tmp")
    pq.write_table(routes_table.stored(out.routes), tmp, **routes_table.PARQUET_OPTIONS)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, final)


def _read_state(folder: Path, task: Task, n_pairs: int, n_access: int | None = None) -> PartResult | None:
    """A finished part's state (routes not read), or None if it is missing, torn or of another plan
    (``n_access``: access rows per snapshot, None: no access part)."""
    part = folder / ROUTES_DIR / f"{task.name}.parquet"
    acc = folder / ACCESS_DIR / f"{task.name}.parquet"
    try:
        if not part.is_file() or pq.read_metadata(part).num_rows != (task.k1 - task.k0) * n_pairs:
            return None
        if n_access is not None and (
            not acc.is_file() or pq.read_metadata(acc).num_rows != (task.k1 - task.k0) * n_access
        ):
            return None
        with np.load(folder / STATE_DIR / f"{task.name}.npz", allow_pickle=False) as z:
            if int(z["k1"][0]) != task.k1:
                return None
            runs = Runs(z["service_item"], z["service_first"], z["service_stop"], z["service_value"])
            unusable = np.unpackbits(z["unusable"], count=int(z["n_sats"][0])).astype(bool)
    except (OSError, ValueError, KeyError, pa.ArrowException):
        return None
    empty = pa.Table.from_batches([], schema=ROUTES_SCHEMA)
    return PartResult(task.net_index, task.k0, task.k1, empty, runs, unusable)


def finished(
    folder: Path, tasks: Iterable[Task], n_pairs: int, n_access: int | None = None
) -> dict[Task, PartResult]:
    """The chunks of ``tasks`` whose parts are complete in ``folder`` (their state; routes and access rows stay
    on disk; ``n_access``: access rows per snapshot, None without ``[access]``).  Anything else there (torn
    temporaries, parts of another plan) is removed."""
    tasks = list(tasks)
    done = {t: s for t in tasks if (s := _read_state(folder, t, n_pairs, n_access)) is not None}
    keep = {f"{t.name}.parquet" for t in done} | {f"{t.name}.npz" for t in done}
    for sub in (ROUTES_DIR, STATE_DIR, ACCESS_DIR):
        d = folder / sub
        if d.is_dir():
            for p in d.iterdir():
                if p.name not in keep:
                    p.unlink()
    return done


def routes_dataset(folder: Path) -> ds.Dataset:
    """The routes of an output directory as one dataset: its parts in (network, window) order (or, for outputs
    of leonet before parts, ``routes.parquet``)."""
    d = Path(folder) / ROUTES_DIR
    if not d.is_dir():
        return ds.dataset(Path(folder) / "routes.parquet", format="parquet")
    files = sorted(str(p) for p in d.glob("part-*.parquet"))
    return ds.dataset(files, schema=routes_table.STORED_SCHEMA, format="parquet")


def access_dataset(folder: Path) -> ds.Dataset:
    """The access rows of an output directory as one dataset, its parts in (network, window) order."""
    files = sorted(str(p) for p in (Path(folder) / ACCESS_DIR).glob("part-*.parquet"))
    return ds.dataset(files, schema=access_table.ACCESS_SCHEMA, format="parquet")


def finish(folder: Path) -> None:
    """Remove what only a run in progress needs (the chunks' state, the run file) before the commit."""
    shutil.rmtree(folder / STATE_DIR, ignore_errors=True)
    (folder / RUN_FILE).unlink(missing_ok=True)


class PartWriter:
    """Writes parts on a thread of its own; ``put`` blocks when ``depth`` parts are waiting (bounded memory).
    An error of the writer is raised by the next ``put`` or by ``close``."""

    def __init__(self, folder: Path, depth: int = 2) -> None:
        self.folder = folder
        self._q: queue.Queue[PartResult | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._loop, name="leonet-part-writer", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            out = self._q.get()
            if out is None:
                return
            if self._error is None:
                try:
                    write_part(self.folder, out)
                except BaseException as exc:  # handed to the main thread
                    self._error = exc

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def put(self, out: PartResult) -> None:
        self._raise()
        self._q.put(out)

    def close(self) -> None:
        """Wait for every part to be written; raise the writer's error, if any."""
        self._q.put(None)
        self._thread.join()
        self._raise()


#: computes the given parts and yields them as they finish (any order)
Compute = Callable[[World, list[Task]], Iterator[PartResult]]


def serial_compute(
    prep: World, tasks: list[Task], history: Mapping[int, PolicyCarry | None] | None = None
) -> Iterator[PartResult]:
    """The parts computed one after another in this process, each carrying on from the one before when they
    follow each other (after a resume, the first of a run of missing parts rebuilds its carry, with the policy
    ``history`` at its warm-up start when given, else from one pass here)."""

    def follows(a: Task | None, b: Task) -> bool:
        return a is not None and a.net_index == b.net_index and a.k1 == b.k0

    if history is None:
        anew = [b.k0 for a, b in zip([None, *tasks[:-1]], tasks, strict=True) if not follows(a, b)]
        history = policy_history(prep, [warmup_start(prep, k0) for k0 in anew])  # one pass (roaming), if any
    carry: Carry | None = None
    last: Task | None = None
    for t in tasks:
        out = compute_part(prep, t.net_index, t.k0, t.k1, carry if follows(last, t) else None, history)
        carry, last = out.carry, t
        yield out


def run_to_parts(
    prep: World,
    folder: Path,
    compute: Compute = serial_compute,
    progress: Callable[[int], None] | None = None,
    writer_thread: bool = True,
    chunk_snapshots: int = PART_SNAPSHOTS,
) -> tuple[Results, int]:
    """Simulate every chunk without a finished part in ``folder`` (all of them in a fresh directory), writing
    each as a part, and assemble the results from all parts.  Returns the results and how many chunks were
    already finished (resumed)."""
    tasks = plan(prep, chunk_snapshots)
    n_access = None if prep.access is None else len(prep.access.terminals)
    done = finished(folder, tasks, len(prep.src), n_access)
    if progress is not None and done:
        progress(sum(t.k1 - t.k0 for t in done))
    todo = [t for t in tasks if t not in done]
    writer = PartWriter(folder) if writer_thread else None
    states = dict(done)
    try:
        for out in compute(prep, todo):
            if out.written:
                pass
            elif writer is not None:
                writer.put(out)
            else:
                write_part(folder, out)
            states[Task(out.net_index, out.k0, out.k1)] = PartResult(
                out.net_index, out.k0, out.k1, out.routes.slice(0, 0), out.service, out.unusable
            )
            if progress is not None:
                progress(out.k1 - out.k0)
    finally:
        if writer is not None:
            writer.close()
    return _assemble(prep, folder, tasks, states), len(done)


def merged_state(
    prep: World, tasks: list[Task], states: Mapping[Task, PartResult]
) -> tuple[pa.Table, dict[str, int]]:
    """The service intervals and, per network, the unusable satellites' count, from every part's state."""
    missing = [t for t in tasks if t not in states]
    if missing:
        raise RuntimeError(f"parts without a result: {missing[:3]}")
    services = []
    unusable: dict[str, int] = {}
    for i, net in enumerate(prep.networks):
        mine = [states[t] for t in tasks if t.net_index == i]
        bad = np.zeros(net.n_sats, dtype=bool)
        for s in mine:
            bad |= s.unusable
        unusable[net.spec.name] = int(bad.sum())
        if len(prep.terminals):
            services.append(service_table(prep, i, merge([s.service for s in mine])))
    svc = pa.concat_tables(services) if services else service.empty(prep.times_s)
    return svc, unusable


def _assemble(prep: World, folder: Path, tasks: list[Task], states: dict[Task, PartResult]) -> Results:
    svc, unusable = merged_state(prep, tasks, states)
    access = access_dataset(folder) if prep.access is not None else None
    return _results(prep, routes_dataset(folder), svc, unusable, access)
