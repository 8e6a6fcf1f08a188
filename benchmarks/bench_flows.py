"""Max-min fair allocation of 100,000 flows in one slot: time per allocation, rounds, peak memory.

Run:  python benchmarks/bench_flows.py [--terminals 50000] [--repeats 3] [--seed 0] [--vector-rounds 16]
          [--greedy-share 0.5] [--beam-scale 1] [--hot-share 0] [--chain 5000]

The network of one slot, shaped like a Starlink shell with its access: a +Grid of 72 planes x 56 satellites
(4,032 satellites, 8,064 ISLs = 16,128 directional laser links of :data:`leonet.flows.ISL_LASER_GBPS`), 8 user
beams per satellite (32,256 beams; down 2 Gbit/s, up 0.4 Gbit/s per beam: benchmark inputs, the beam model
supplies real ones), and a feeder link from every satellite to one of 150 gateways
(:data:`leonet.flows.FEEDER_LINK_GBPS` each way).  ``--terminals`` terminals (default 50,000: 100,000 flows, one
down and one up each) on random satellites and beams; each path goes 3 to 8 ISL hops across the grid (a
staircase: each hop one plane or one slot on, in a direction fixed per path, as +Grid shortest paths do) and then
down the exit satellite's feeder.  Demands: half greedy (inf), half 100 Mbit/s down / 20 Mbit/s up; 5% of the
terminals denied (demand 0).  The flows are built by :func:`leonet.flows.terminal_pop_demands` (timed apart).

One core: the process pins itself to one CPU and sets the BLAS / numba thread counts to 1 before NumPy is
imported.  The allocation is timed ``--repeats`` times (median printed); peak memory is tracemalloc's peak during
one allocation (NumPy's buffers are traced) and the process's ru_maxrss.  Target: < 1 s per allocation.
"""

from __future__ import annotations

import _onecore  # noqa: F401  (one thread per library, one CPU: before numpy)

# isort: split

import argparse
import resource
import statistics
import time
import tracemalloc

import numpy as np
from numpy.typing import NDArray

from leonet.flows import (
    VECTOR_ROUNDS,
    Flows,
    LinkLayout,
    max_min_fair,
    padded_to_ragged,
    terminal_pop_demands,
)

PLANES, SLOTS = 72, 56
BEAMS_PER_SAT = 8
GATEWAYS = 150
BEAM_DOWN_GBPS, BEAM_UP_GBPS = 2.0, 0.4
TARGET_S = 1.0


def grid_isls() -> NDArray[np.int64]:
    """+Grid: (p, s) - (p, s + 1) within a plane, (p, s) - (p + 1, s) across; satellite id p * SLOTS + s."""
    p, s = np.meshgrid(np.arange(PLANES), np.arange(SLOTS), indexing="ij")
    sat = (p * SLOTS + s).reshape(-1)
    intra = (p * SLOTS + (s + 1) % SLOTS).reshape(-1)
    inter = (((p + 1) % PLANES) * SLOTS + s).reshape(-1)
    return np.concatenate([np.stack([sat, intra], 1), np.stack([sat, inter], 1)])


def build(
    n_term: int, seed: int, greedy_share: float = 0.5, beam_scale: float = 1.0, hot_share: float = 0.0
) -> tuple[LinkLayout, Flows, NDArray[np.float64], float]:
    rng = np.random.default_rng(seed)
    n_sat = PLANES * SLOTS
    gw0 = n_sat  # gateway node ids follow the satellites, then the terminals
    layout = LinkLayout.build(
        beam_satellite=np.repeat(np.arange(n_sat), BEAMS_PER_SAT),
        isl=grid_isls(),
        feeder=np.stack([gw0 + np.arange(n_sat) % GATEWAYS, np.arange(n_sat)], 1),
    )
    beam = rng.integers(0, n_sat * BEAMS_PER_SAT, n_term)
    hot = rng.random(n_term) < hot_share  # crowded: these terminals under the beams of 200 satellites
    n_hot = int(hot.sum())
    beam[hot] = rng.integers(0, 200, n_hot) * 20 * BEAMS_PER_SAT + rng.integers(0, BEAMS_PER_SAT, n_hot)
    p0, s0 = divmod(beam // BEAMS_PER_SAT, SLOTS)
    hops = rng.integers(3, 9, n_term)
    dp, ds = rng.choice([-1, 1], n_term), rng.choice([-1, 1], n_term)
    plane_step = rng.random((n_term, 8)) < 0.5  # each hop: one plane on, else one slot on
    p = (p0[:, None] + np.cumsum(plane_step * dp[:, None], axis=1)) % PLANES
    s = (s0[:, None] + np.cumsum(~plane_step * ds[:, None], axis=1)) % SLOTS
    walk = np.concatenate([(p0 * SLOTS + s0)[:, None], p * SLOTS + s], axis=1)  # (T, 9) satellites
    exit_sat = walk[np.arange(n_term), hops]
    width = 11
    padded = np.full((n_term, width), -1, dtype=np.int64)
    padded[:, 0] = gw0 + GATEWAYS + np.arange(n_term)  # the terminal
    cols = np.arange(9)[None, :]
    padded[:, 1:10] = np.where(cols <= hops[:, None], walk, -1)
    padded[np.arange(n_term), hops + 2] = gw0 + exit_sat % GATEWAYS
    off, nodes = padded_to_ragged(padded)
    greedy = rng.random(n_term) < greedy_share
    down = np.where(greedy, np.inf, 0.1)
    up = np.where(greedy, np.inf, 0.02)
    served = rng.random(n_term) >= 0.05
    t0 = time.perf_counter()
    fl = terminal_pop_demands(layout, off, nodes, beam, down, up, served, n_nodes=gw0 + GATEWAYS + n_term)
    t_build = time.perf_counter() - t0
    cap = layout.capacities(BEAM_DOWN_GBPS * beam_scale, BEAM_UP_GBPS * beam_scale)
    return layout, fl, cap, t_build


def chain(n: int) -> None:
    """The worst case of the vectorised rounds: link k (capacity k + 1) carries flows k - 1 and k and a short
    flow, so each link fills only after its neighbour (n levels)."""
    import scipy.sparse as sp

    rows = np.r_[np.repeat(np.arange(n - 1), 2), np.arange(n - 1, 2 * n - 1)]
    cols = np.r_[np.c_[np.arange(n - 1), np.arange(1, n)].ravel(), np.arange(n)]
    a = sp.csr_array((np.ones(len(rows)), (rows, cols)), shape=(2 * n - 1, n))
    cap = np.arange(1.0, n + 1.0)
    for label, vr in (("rounds only", 10**9), ("default (rounds, then the kernel)", VECTOR_ROUNDS), ("kernel only", 0)):
        t0 = time.perf_counter()
        al = max_min_fair(a, cap, np.inf, vector_rounds=vr)
        print(f"chain of {n:,} dependent bottlenecks, {label}: {(time.perf_counter() - t0) * 1e3:.0f} ms, "
              f"{al.rounds:,} rounds, {al.kernel_flows:,} kernel flows")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--terminals", type=int, default=50_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--greedy-share", type=float, default=0.5, help="share of terminals with infinite demand")
    ap.add_argument("--beam-scale", type=float, default=1.0, help="multiply the beam capacities (10: ISLs bind)")
    ap.add_argument("--hot-share", type=float, default=0.0, help="share of terminals crowded under 200 satellites")
    ap.add_argument("--vector-rounds", type=int, default=VECTOR_ROUNDS, help="rounds before the compiled kernel")
    ap.add_argument("--chain", type=int, default=0, help="also time a chain of this many dependent bottlenecks")
    args = ap.parse_args()
    layout, fl, cap, t_build = build(args.terminals, args.seed, args.greedy_share, args.beam_scale, args.hot_share)
    inc = fl.incidence
    print(f"flows {inc.shape[0]:,}  links {inc.shape[1]:,} (beams {layout.n_beams:,} x 2, ISLs {len(layout.isl):,}"
          f" x 2, feeders {len(layout.feeder):,} x 2)  incidence entries {inc.nnz:,}")  # fmt: skip
    print(f"terminal_pop_demands: {t_build * 1e3:.0f} ms")
    max_min_fair(inc, cap, fl.demand_gbps)  # warm-up (imports, page faults, the kernel's numba cache)
    max_min_fair(inc[:1000], cap, fl.demand_gbps[:1000], vector_rounds=0)
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        alloc = max_min_fair(inc, cap, fl.demand_gbps, vector_rounds=args.vector_rounds)
        times.append(time.perf_counter() - t0)
    tracemalloc.start()
    max_min_fair(inc, cap, fl.demand_gbps, vector_rounds=args.vector_rounds)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    med = statistics.median(times)
    r = alloc.rate_gbps
    print(f"max_min_fair: {med * 1e3:.0f} ms per allocation (median of {args.repeats}; "
          f"{', '.join(f'{t * 1e3:.0f}' for t in times)} ms), {alloc.rounds} vectorised rounds"
          f" + {alloc.kernel_flows:,} flows finished by the kernel, one core")  # fmt: skip
    print(f"peak memory: {peak / 2**20:.0f} MiB traced during one allocation, ru_maxrss {rss:.0f} MiB")
    print(f"allocated: {r.sum():,.0f} Gbit/s; median rate {np.median(r[fl.demand_gbps > 0]) * 1e3:.0f} Mbit/s;"
          f" saturated links {int(alloc.saturated.sum()):,}; demand-limited flows"
          f" {int(((alloc.bottleneck < 0) & (fl.demand_gbps > 0)).sum()):,}")  # fmt: skip
    print(f"target: < {TARGET_S:.0f} s per allocation of 100,000 flows: {'met' if med < TARGET_S else 'NOT met'}")
    if args.chain:
        chain(args.chain)


if __name__ == "__main__":
    main()
