"""Chunks on a Dask cluster, and output writing that overlaps computation: ms per snapshot, measured in one run.

Scenario: ``starlink-gen1`` (4,408 satellites, +Grid ISLs) and the 100 largest cities (4,950 pairs), the
default scenario's 15 s reconfiguration slots, a short window (``--minutes``, default 10 at 1 s) cut into chunks
of ``--chunk`` snapshots (rounded up to whole slots; each chunk re-simulates the slot before it as warm-up).
Every case writes the same Parquet parts (``leonet.parts.run_to_parts``) into a fresh directory:

1. serial, the parts written inline (no writer thread);
2. serial, the parts written by the writer thread while the next chunk is computed (``leonet run``'s way);
3. a ``LocalCluster`` of 1 worker process, then of 2 (1 thread each); the cluster's start and the workers'
   world assembly are timed apart (``startup``), so that the ms per snapshot are the chunks' work as it
   streams back and is written.

Prints ms per snapshot for each, the writer's gain (1 / 2) and the speed-up from 1 to 2 workers.  The machine's
two cores are shared with whatever else runs; the figures are of this run.

Run: ``python benchmarks/bench_cluster.py [--minutes 10] [--chunk 150]``.  Prints figures; not a test.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--chunk", type=int, default=150)
    args = ap.parse_args()

    import leonet
    from leonet import parts
    from leonet.assembly import assemble
    from leonet.cluster import ClusterSpec, _world, cluster_compute, connect
    from leonet.scenario import ConstellationSpec

    base = leonet.load_scenario("default")
    net = base.networks[0].model_copy(
        update={"name": "starlink-gen1", "constellation": [ConstellationSpec(preset="starlink-gen1")]}
    )
    sc = base.model_copy(
        update={"networks": [net], "time": base.time.model_copy(update={"end_s": args.minutes * 60.0})}
    )
    prep = assemble(sc, force=True)
    digest = parts.world_digest(prep)
    T = len(prep.times_s)
    n_chunks = len(parts.plan(prep, args.chunk))
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (other work shares them)")
    print(
        f"== starlink-gen1 ({prep.networks[0].n_sats:,} satellites) + {prep.ground.size} cities, "
        f"{len(prep.src):,} pairs, {T:,} snapshots at 1 s, {n_chunks} chunks of ~{args.chunk} snapshots"
    )
    tmp = Path(tempfile.mkdtemp(prefix="leonet-bench-cluster-"))
    figures: dict[str, float] = {}

    def timed(label: str, compute: parts.Compute = parts.serial_compute, writer: bool = True) -> float:
        folder = tmp / label.replace(" ", "-")
        folder.mkdir(exist_ok=True)
        t0 = time.perf_counter()
        parts.run_to_parts(prep, folder, compute, writer_thread=writer, chunk_snapshots=args.chunk)
        dt = time.perf_counter() - t0
        size = sum(f.stat().st_size for f in (folder / "routes").glob("*.parquet"))
        ms = 1e3 * dt / T
        figures[label] = ms
        print(f"   {label:<28} {ms:8.2f} ms per snapshot  ({dt:.1f} s; parts {size / 2**20:.0f} MiB)")
        shutil.rmtree(folder)
        return ms

    try:
        warm = tmp / "warm-up"  # loads the numba kernels
        warm.mkdir()
        parts.run_to_parts(dataclasses.replace(prep, times_s=prep.times_s[:3]), warm, writer_thread=False)
        shutil.rmtree(warm)
        inline = timed("serial, inline writes", writer=False)
        threaded = timed("serial, writer thread")
        for n in (1, 2):
            t0 = time.perf_counter()
            with connect(ClusterSpec(workers=n)) as client:
                client.run(_world, sc, digest)  # every worker assembles the world once (as the first task would)
                startup = time.perf_counter() - t0
                label = f"dask, {n} worker{'s' if n > 1 else ''}"
                folder = tmp / label.replace(" ", "-")
                timed(label, cluster_compute(client, sc, digest, folder))  # local workers write the parts
            print(f"   {'':<28} (cluster start + world assembly on the workers: {startup:.1f} s)")
        one, two = figures["dask, 1 worker"], figures["dask, 2 workers"]
        print(f"   writer thread gain           {inline / threaded:.2f}x  (serial, inline / writer thread)")
        print(f"   load average after           {os.getloadavg()[0]:.1f}")
        print(f"   speed-up 1 -> 2 workers      {one / two:.2f}x  (2 workers vs serial: {threaded / two:.2f}x)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":  # the cluster's worker processes are spawned: they import this file without running it
    main()
