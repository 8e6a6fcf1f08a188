"""The scaling curve: milliseconds per snapshot and peak memory for 1.6k / 4.4k / 10k / 30k satellites x 10 / 100 /
1,000 endpoints, a log-log plot, and the fitted growth exponents.

Constellations (all +Grid ISLs, 25 deg mask):
  1.6k  starlink-550                      1,584 satellites (FCC 21-48, first Gen1 shell)
  4.4k  starlink-gen1                     4,408 (FCC 21-48, five shells)
  10k   the Gen2 525 / 530 / 535 km shells 10,080 (the three shells FCC 22-91 granted, at their filed size,
                                          28 x 120 each; given as `shells`, a three-shell network)
  30k   starlink-gen2                     29,988 (IBFS SAT-AMD-20210818-00105, Configuration 1, nine shells)
Endpoints: the N most populous shipped cities, all N (N - 1) / 2 pairs routed (45 / 4,950 / 499,500).

Each cell runs in a fresh child process (so that its peak RSS, ``VmHWM``, is its own):
1. assemble the scenario (Walker elements, SGP4 set-up, ground nodes, pairs);
2. one snapshot stage by stage, after a warm-up one (numba cache load / JIT): propagation, links + graph
   (ISL lengths, k-d tree ground links, CSR build), routing (``routing.shortest_routes``: the many-source
   search with each source's paths read back right after it, ``_routesearch.py``; the ``readback`` column is
   0 since they are one pass, and is timed apart only on trees before it);
3. after one untimed pass, ``--snapshots`` consecutive 1 s snapshots (default 3) run as ``leonet run`` runs
   them: the chunk loop that yields the routes record batches, in ``ideal`` routing mode (every snapshot
   fully re-routed: a run's worst case; ``reconfig`` re-routes at slot starts).  ms per snapshot = loop wall
   time / snapshots; CPU ms = process CPU time / snapshots; CPU / wall shows how much of the second core
   is used (below 1 on a machine shared with other work: then the CPU figures are the steadier ones).
The kernels use ``NUMBA_NUM_THREADS`` threads (default: the CPUs of the affinity mask; printed).

Exponents: least squares of log(ms per snapshot) on log(satellites) for each endpoint count, and on
log(pairs) for each constellation; the same for peak RSS above the import baseline.

Run:  python benchmarks/bench_scale.py [--out bench-out/scale] [--snapshots 3] [--sats 1.6k,4.4k,10k,30k]
                                       [--endpoints 10,100,1000]
Default: the full 4 x 3 grid, ~3-6 min on this 2-core machine.  ``--quick``: 1.6k / 4.4k x 10 / 100 only.
Writes DIR/scale.png (the plot), DIR/scale.json (every figure).  Prints figures; not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

GEN2_GRANTED_SHELLS = """[
  { altitude_km = 525.0, inclination_deg = 53.0, planes = 28, sats_per_plane = 120, name = "gen2-525" },
  { altitude_km = 530.0, inclination_deg = 43.0, planes = 28, sats_per_plane = 120, name = "gen2-530" },
  { altitude_km = 535.0, inclination_deg = 33.0, planes = 28, sats_per_plane = 120, name = "gen2-535" },
]"""

CONSTELLATIONS = {
    "1.6k": '[{ preset = "starlink-550" }]',
    "4.4k": '[{ preset = "starlink-gen1" }]',
    "10k": f"[{{ shells = {GEN2_GRANTED_SHELLS} }}]",
    "30k": '[{ preset = "starlink-gen2" }]',
}

SCENARIO = """
name = "scale"
epoch = 2026-02-23T00:00:00Z
[time]
start_s = 0
end_s = {end}
step_s = 1
[[networks]]
name = "net"
constellation = {constellation}
isl = "plus-grid"
min_elevation_deg = 25.0
[ground]
cities = {cities}
[routing]
mode = "ideal"
"""


def _hwm_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        return int(next(ln for ln in f if ln.startswith("VmHWM")).split()[1])


def _loop(world: Any) -> int:
    """The chunk loop of a run over every snapshot of network 0; returns the route rows produced."""
    try:  # the P4 shape: assembly / chunk / runner
        from leonet.runner import chunks

        return sum(c.routes.num_rows for c in chunks(world, 0))
    except ImportError:  # before the core refactor
        from leonet import engine

        return sum(b.num_rows for b in engine.simulate(world, 0))


def cell(sats: str, cities: int, snapshots: int) -> dict[str, Any]:
    """One cell of the grid, in this process (the child)."""
    import numpy as np

    from leonet import _dijkstra
    from leonet.scenario import parse_scenario

    try:
        from leonet.assembly import assemble
        from leonet.step import min_elevations, positions_at, snapshot
    except ImportError:
        from leonet.engine import min_elevations, positions_at, snapshot
        from leonet.engine import prepare as assemble

    base_kib = _hwm_kib()
    text = SCENARIO.format(end=snapshots - 1, constellation=CONSTELLATIONS[sats], cities=cities)
    t0 = time.perf_counter()
    world = assemble(parse_scenario(text, source="<bench>"))
    t_assemble = time.perf_counter() - t0
    net, ground = world.networks[0], world.ground
    min_el = min_elevations(net, ground)
    src, dst = world.src, world.dst
    S = net.n_sats

    def stages(t_s: float) -> dict[str, float]:
        out: dict[str, float] = {}
        t0 = time.perf_counter()
        try:
            r = positions_at(net, world, np.array([t_s]))
        except AttributeError:  # engine.positions_at takes the scenario
            r = positions_at(net, world.scenario, np.array([t_s]))
        t1 = time.perf_counter()
        snap = snapshot(net, ground, t_s, r[0], ground.ecef_km, ground.up, min_el)
        t2 = time.perf_counter()
        g = snap.graph
        try:  # the fused search + read-back (one pass per source, no dense matrices)
            from leonet.routing import shortest_routes

            routes = shortest_routes(g, src, dst)
            t3 = t4 = time.perf_counter()
            delay, path = routes.delay_ms, routes.path
        except ImportError:  # pragma: no cover - older trees: the two steps, timed apart
            from leonet._pathread import read_paths

            sources, row = np.unique(src, return_inverse=True)
            target = g.sink_vertex(dst)
            dist, pred = _dijkstra.dijkstra_many(
                g.csr.indptr, g.csr.indices, g.csr.data, (S + sources).astype(np.int64), targets=np.unique(target)
            )
            t3 = time.perf_counter()
            delay = dist[row, target]
            path = read_paths(pred, row, target, S + src, np.isfinite(delay), g.vertex_node)
            t4 = time.perf_counter()
        out.update(propagate=t1 - t0, links=t2 - t1, dijkstra=t3 - t2, readback=t4 - t3)
        out.update(vertices=g.csr.shape[0], edges=g.csr.nnz, path_width=path.shape[1])
        out["reachable"] = float(np.isfinite(delay).mean())
        return out

    stages(0.0)  # warm-up: numba cache load, first touch of every buffer
    st = stages(1.0)
    _loop(world)  # warm-up of the loop's own first calls (Arrow, the ground state, the metrics)
    c0, t0 = time.process_time(), time.perf_counter()
    rows = _loop(world)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    n_snap = len(world.times_s)
    assert rows == n_snap * len(src), (rows, n_snap, len(src))
    return {
        "sats": S,
        "label": sats,
        "endpoints": cities,
        "pairs": len(src),
        "snapshots": n_snap,
        "assemble_s": t_assemble,
        "ms_per_snapshot": wall / n_snap * 1e3,
        "cpu_per_wall": cpu / wall,
        "cpu_ms_per_snapshot": cpu / n_snap * 1e3,
        "threads": _dijkstra.default_threads(),
        "stages_ms": {k: v * 1e3 for k, v in st.items() if k in ("propagate", "links", "dijkstra", "readback")},
        "vertices": st["vertices"],
        "edges": st["edges"],
        "path_width": st["path_width"],
        "reachable": st["reachable"],
        "peak_rss_mib": _hwm_kib() / 1024.0,
        "base_rss_mib": base_kib / 1024.0,
    }


def fit(x: list[float], y: list[float]) -> float:
    """Slope of the least-squares line through (log x, log y): the growth exponent."""
    import numpy as np

    if len(x) < 2:
        return float("nan")
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def plot(results: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.4))
    for e in sorted({r["endpoints"] for r in results}):
        rs = sorted((r for r in results if r["endpoints"] == e), key=lambda r: r["sats"])
        xs = [r["sats"] for r in rs]
        ms = [r["ms_per_snapshot"] for r in rs]
        rss = [r["peak_rss_mib"] - r["base_rss_mib"] for r in rs]
        lab = f"{e:,} endpoints ({rs[0]['pairs']:,} pairs)"
        a1.plot(xs, ms, "o-", label=f"{lab}: ~S^{fit(xs, ms):.2f}")
        a2.plot(xs, rss, "o-", label=f"{lab}: ~S^{fit(xs, rss):.2f}")
    for ax, what in ((a1, "ms per snapshot (wall, ideal routing)"), (a2, "peak RSS above imports (MiB)")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("satellites")
        ax.set_ylabel(what)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"leonet scaling, {results[0]['threads']} kernel thread(s) (benchmarks/bench_scale.py)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("bench-out/scale"), help="output dir (plot, json)")
    ap.add_argument("--snapshots", type=int, default=3, help="timed snapshots per cell (default 3)")
    ap.add_argument("--sats", default="1.6k,4.4k,10k,30k", help=f"constellations, of {', '.join(CONSTELLATIONS)}")
    ap.add_argument("--endpoints", default="10,100,1000", help="endpoint counts (cities; all pairs)")
    ap.add_argument("--quick", action="store_true", help="1.6k / 4.4k x 10 / 100 only")
    ap.add_argument("--cell", help=argparse.SUPPRESS)  # child mode: SATS,CITIES
    args = ap.parse_args(argv)
    if args.cell:
        sats, cities = args.cell.split(",")
        print(json.dumps(cell(sats, int(cities), args.snapshots)))
        return 0
    sat_list = ["1.6k", "4.4k"] if args.quick else args.sats.split(",")
    ends = [10, 100] if args.quick else [int(e) for e in args.endpoints.split(",")]
    for s in sat_list:
        if s not in CONSTELLATIONS:
            ap.error(f"--sats: unknown {s!r}; expected some of {', '.join(CONSTELLATIONS)}")
    args.out.mkdir(parents=True, exist_ok=True)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    env = os.environ.get("NUMBA_NUM_THREADS", "(unset)")
    print(
        f"leonet scaling benchmark: {cpus} CPU(s) allowed, NUMBA_NUM_THREADS={env}, {args.snapshots} snapshots "
        "per cell, ideal routing, all pairs"
    )
    head = (
        f"{'sats':>7} {'endp':>5} {'pairs':>8} {'ms/snap':>9} {'CPU ms':>9} {'CPU/wall':>8} | {'prop':>6} {'links':>7} "
        f"{'routing':>9} {'readback':>8} ms | {'vertices':>8} {'edges':>8} {'RSS MiB':>8} {'assemble':>8} {'load':>5}"
    )
    print(head)
    results: list[dict[str, Any]] = []
    for s in sat_list:
        for e in ends:
            cmd = [sys.executable, __file__, "--cell", f"{s},{e}", "--snapshots", str(args.snapshots)]
            out = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if out.returncode != 0:
                print(f"{s} x {e}: failed\n{out.stderr[-3000:]}")
                return 1
            r = json.loads(out.stdout.strip().splitlines()[-1])
            results.append(r)
            st = r["stages_ms"]
            print(
                f"{r['sats']:>7,} {e:>5,} {r['pairs']:>8,} {r['ms_per_snapshot']:>9.1f} "
                f"{r['cpu_ms_per_snapshot']:>9.1f} {r['cpu_per_wall']:>8.2f} | "
                f"{st['propagate']:>6.1f} {st['links']:>7.1f} {st['dijkstra']:>9.1f} {st['readback']:>8.1f} ms | "
                f"{r['vertices']:>8,} {r['edges']:>8,} {r['peak_rss_mib']:>8.0f} {r['assemble_s']:>7.1f}s "
                f"{os.getloadavg()[0]:>5.1f}",
                flush=True,
            )
    print("\nfitted growth exponents (least squares on log-log):")
    for e in ends:
        rs = sorted((r for r in results if r["endpoints"] == e), key=lambda r: r["sats"])
        xs = [r["sats"] for r in rs]
        if len(rs) < 2:
            continue
        print(
            f"  {e:>5,} endpoints: ms/snapshot ~ S^{fit(xs, [r['ms_per_snapshot'] for r in rs]):.2f}, "
            f"RSS above imports ~ S^{fit(xs, [r['peak_rss_mib'] - r['base_rss_mib'] for r in rs]):.2f}"
        )
    for s in sat_list:
        rs = sorted((r for r in results if r["label"] == s), key=lambda r: r["pairs"])
        if len(rs) >= 2:
            ms = [r["ms_per_snapshot"] for r in rs]
            print(
                f"  {rs[0]['sats']:>7,} satellites: ms/snapshot ~ pairs^{fit([r['pairs'] for r in rs], ms):.2f}"
                f" ~ endpoints^{fit([r['endpoints'] for r in rs], ms):.2f}"
            )
    big = [r for r in results if r["label"] == "30k" and r["endpoints"] == 1000]
    if big:
        r = big[0]
        print(
            f"\nstarlink-gen2 + 1,000 endpoints ({r['pairs']:,} pairs): {r['ms_per_snapshot'] / 1e3:.2f} s per snapshot"
            f" ({r['cpu_ms_per_snapshot'] / 1e3:.2f} CPU-s)"
            f" (target < 2 s: {'OK' if r['ms_per_snapshot'] < 2000 else 'MISSED'}), peak RSS "
            f"{r['peak_rss_mib'] / 1024:.2f} GiB (target < 8 GiB: {'OK' if r['peak_rss_mib'] < 8192 else 'MISSED'}); "
            f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())} (the 1-minute one after each row)"
        )
    (args.out / "scale.json").write_text(json.dumps(results, indent=1))
    plot(results, args.out / "scale.png")
    print(f"wrote {args.out / 'scale.png'} and {args.out / 'scale.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
