"""Seconds per 15 s reconfiguration slot of the beam scheduler, starlink-gen1 + 100,000 terminals in ~10,000 H3
cells, on one core; peak memory.

Run:  python benchmarks/bench_scheduler.py [--terminals 100000] [--slots 7] [--beams 16]

One core: the process pins itself to CPU 0 and sets the thread counts to 1 before any numerical import.  The
constellation is the ``starlink-gen1`` preset (4,408 satellites) built and propagated by leonet
(``orbits.constellation.from_shells``, ``orbits.propagate.positions_itrf_km``).  Terminals: around each of the
1,000 shipped cities, ten resolution-5 cells (the city's cell and its nearest neighbours, ``h3.grid_disk``),
terminals placed uniformly at random inside those cells (10 per cell on average); 25 deg masks; demand uniform
5-100 Mbit/s; three service classes (residential: priority 1, 100 Mbit/s cap; business: priority 2, 500 cap;
restricted use, 1%: priority 8, no cap); 5% of terminals denied by the policy.  A slot is timed as
``scheduler.slot_schedule`` runs it: SGP4 at the slot's two edges, the cell visibility at both, their
intersection, the min-cost flow and the terminal assignment (plus the mask check of one snapshot).  Target:
< 1 s per slot (median of ``--slots`` consecutive slots after one warm-up).
"""

from __future__ import annotations

import _onecore  # noqa: F401  (one thread per library, one CPU: before numpy)

# isort: split
import argparse
import os
import resource
import statistics
import time
import tracemalloc
from datetime import UTC, datetime

import numpy as np
from h3.api import basic_int as h3i
from sgp4.api import SatrecArray

from leonet import catalog, scheduler
from leonet.beams import BeamModel
from leonet.cells import aggregate_demand, cell_centres_deg, cells_of
from leonet.geodesy import geodetic_to_ecef_km, up_unit
from leonet.orbits.constellation import from_shells
from leonet.orbits.propagate import positions_itrf_km
from leonet.orbits.shells import preset
from leonet.timebase import julian_dates

EPOCH = datetime(2026, 2, 23, tzinfo=UTC)
SLOT_S = 15.0
TARGET_S = 1.0


def terminals(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points uniformly inside ten res-5 cells around each shipped city (rejection sampling per round)."""
    cells = []
    for p in catalog.cities():
        c = h3i.latlng_to_cell(p.lat_deg, p.lon_deg, 5)
        ring = sorted(h3i.grid_disk(c, 2), key=lambda x: h3i.grid_distance(c, x))
        cells.extend(ring[:10])
    ids = np.unique(np.array(cells, dtype=np.uint64))
    lat_c, lon_c = cell_centres_deg(ids)
    lat, lon = np.empty(0), np.empty(0)
    while len(lat) < n:
        pick = rng.integers(0, len(ids), n)
        a = lat_c[pick] + rng.uniform(-0.1, 0.1, n)
        b = lon_c[pick] + rng.uniform(-0.1, 0.1, n) / np.cos(np.radians(lat_c[pick]))
        inside = cells_of(a, b) == ids[pick]
        lat, lon = np.concatenate([lat, a[inside]]), np.concatenate([lon, b[inside]])
    return lat[:n], lon[:n]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--terminals", type=int, default=100_000)
    ap.add_argument("--slots", type=int, default=7)
    ap.add_argument("--beams", type=int, default=BeamModel().beams_per_sat, help="user beams per satellite")
    args = ap.parse_args()
    rng = np.random.default_rng(2026)
    con = from_shells("starlink-gen1", preset("starlink-gen1"), EPOCH)
    arr = SatrecArray(list(con.satrecs))

    def positions(t: np.ndarray) -> np.ndarray:
        jw, jf = julian_dates(EPOCH, t)
        return positions_itrf_km(arr, jw, jf)

    lat, lon = terminals(args.terminals, rng)
    t0 = time.perf_counter()
    ids = cells_of(lat, lon)
    t_cells = time.perf_counter() - t0
    cd = aggregate_demand(ids, 0.0)
    N = len(lat)
    r, up = geodetic_to_ecef_km(lat, lon, 0.0), up_unit(lat, lon)
    mask = np.full(N, 25.0)
    demand = rng.uniform(5.0, 100.0, N)
    u = rng.random(N)
    cls = np.where(u < 0.01, 2, np.where(u < 0.2, 1, 0))
    classes = scheduler.ServiceClasses(np.array([1.0, 2.0, 8.0]), np.array([100.0, 500.0, np.inf]))
    allowed = rng.random(N) >= 0.05
    model = BeamModel(beams_per_sat=args.beams)
    kw = dict(
        terminal_r_km=r,
        terminal_up=up,
        min_elevation_deg=mask,
        terminal_cell=cd.terminal_cell,
        n_cells=cd.n_cells,
        demand_mbps=demand,
        allowed=allowed,
        service_class=cls,
        classes=classes,
        model=model,
    )

    def slot(i: int) -> scheduler.SlotSchedule:
        return scheduler.slot_schedule(np.array([i * SLOT_S]), positions, SLOT_S, **kw)  # type: ignore[arg-type]

    slot(0)  # warm-up
    times: list[float] = []
    cpu: list[float] = []
    last = None
    for i in range(1, args.slots + 1):
        t0, c0 = time.perf_counter(), time.process_time()
        last = slot(i)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    assert last is not None
    # where the time goes, in one slot
    active = scheduler.active_terminals(cd.terminal_cell, demand, allowed, cls, classes)
    t0 = time.perf_counter()
    geom = scheduler.cell_geometry(r, up, mask, cd.terminal_cell, active, cd.n_cells)
    tg = time.perf_counter() - t0
    t0 = time.perf_counter()
    edges = positions(np.array([SLOT_S, 2 * SLOT_S]))
    t1 = time.perf_counter()
    vis = scheduler.cell_visibility(edges, geom)
    t2 = time.perf_counter()
    problem, _ = scheduler.beam_problem(vis, cd.terminal_cell, demand, cls, classes, model)
    t3 = time.perf_counter()
    scheduler.solve_beams(problem)
    t4 = time.perf_counter()
    a = scheduler.schedule_slot(vis, cd.terminal_cell, demand, allowed, cls, classes, model)
    t5 = time.perf_counter()
    tracemalloc.start()
    slot(args.slots + 1)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0

    med = statistics.median(times)
    served = a.served_mbps.sum()
    print(
        f"starlink-gen1: {con.size:,} satellites; {N:,} terminals in {cd.n_cells:,} H3 res-5 cells "
        f"(cells_of: {t_cells * 1e3:.0f} ms, once); beams {model.beams_per_sat}/satellite, k = "
        f"{model.max_beams_per_cell}/cell"
    )
    print(
        f"  (cell, satellite) arcs: {len(vis.cell):,}; flow tiers: {len(problem.tier_cell):,}; beams used: "
        f"{int(a.beam_count.sum()):,} on {len(np.unique(a.beam_sat)):,} satellites"
    )
    print(
        f"  served: {served / 1e3:,.1f} of {a.cell_demand_mbps.sum() / 1e3:,.1f} Gbit/s demand "
        f"({served / a.cell_demand_mbps.sum():.1%}); terminals with a satellite: "
        f"{(a.serving_sat >= 0).sum():,} of {active.sum():,} active"
    )
    print(
        f"  one slot: cell geometry {tg * 1e3:5.1f} ms | SGP4 at both edges {(t1 - t0) * 1e3:5.1f} ms | "
        f"visibility (both edges) {(t2 - t1) * 1e3:6.1f} ms | "
        f"flow build {(t3 - t2) * 1e3:6.1f} ms | min-cost flow {(t4 - t3) * 1e3:6.1f} ms | "
        f"schedule_slot {(t5 - t4) * 1e3:6.1f} ms"
    )
    med_cpu = statistics.median(cpu)
    print(
        f"  per slot (slot_schedule, median of {len(times)}): wall {med:.3f} s [min {min(times):.3f}, max "
        f"{max(times):.3f}], CPU {med_cpu:.3f} s; target < {TARGET_S:.1f} s on one core: "
        f"{'PASS' if med < TARGET_S else 'FAIL'} (wall), {'PASS' if med_cpu < TARGET_S else 'FAIL'} (CPU)"
    )
    print(f"  load average while measured: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (wall > CPU: shared)")
    print(f"  peak memory: tracemalloc {peak / 2**20:,.0f} MiB over one slot; ru_maxrss {rss_mb:,.0f} MiB")


if __name__ == "__main__":
    main()
