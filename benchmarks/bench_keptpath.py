"""Kept paths' hop look-ups: ``router.kept_path_delays`` (the numba kernel, ``leonet/_keptpath.py``) against the
NumPy version it replaced (boolean masks and a ``searchsorted`` per hop, kept here as the reference), on the
snapshots of one reconfiguration slot of starlink-550 + the 100 cities (4,950 pairs, reconfig mode).

Prints CPU ms per call (``time.process_time``, median of 5 repeats over the slot's snapshots) of each, the ratio,
whether the two agree bit for bit, and the load average.  Run: ``python benchmarks/bench_keptpath.py``.
Prints figures; not a test.
"""

from __future__ import annotations

import os
import time

import numpy as np
from numpy.typing import NDArray

SCENARIO = """
name = "keptpath"
epoch = 2026-02-23T00:00:00Z
pairs = "all"
[time]
end_s = 14
[[networks]]
name = "starlink-550"
constellation = { preset = "starlink-550" }
isl = "plus-grid"
min_elevation_deg = 25.0
[ground]
cities = 100
[routing]
mode = "reconfig"
reconfiguration_interval_s = 15
"""


def numpy_way(graph: object, path: NDArray[np.int32]) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    """What ``kept_path_delays`` did before the kernel (leonet 2026-12-01)."""
    u, v = path[:, :-1], path[:, 1:]
    m = (u >= 0) & (v >= 0)
    ok = np.zeros(u.shape, dtype=bool)
    d = np.zeros(u.shape, dtype=np.float64)
    ok[m], d[m] = graph.links.lookup(u[m].astype(np.int64), v[m].astype(np.int64))  # type: ignore[attr-defined]
    intact = ~(m & ~ok).any(axis=1) & m.any(axis=1)
    return intact, np.where(intact, np.where(m, d, 0.0).sum(axis=1), np.nan)


def main() -> None:
    from leonet.assembly import assemble
    from leonet.router import Router, kept_path_delays
    from leonet.scenario import parse_scenario
    from leonet.step import min_elevations, positions_at, snapshot

    w = assemble(parse_scenario(SCENARIO, source="<bench>"))
    net, g = w.networks[0], w.ground
    t = w.times_s
    sat, gst = positions_at(net, w, t), g.at(t)
    el = min_elevations(net, g)
    graphs = [snapshot(net, g, float(x), sat[k], gst.ecef_km[k], gst.up[k], el).graph for k, x in enumerate(t)]
    router = Router(w.src, w.dst, "reconfig", 15.0)
    router.step(graphs[0], 0.0)
    path = router.state.path
    assert path is not None
    same = all(
        np.array_equal(a[0], b[0]) and np.array_equal(a[1].view(np.int64), b[1].view(np.int64))
        for gr in graphs[1:]
        for a, b in [(numpy_way(gr, path), kept_path_delays(gr, path))]
    )
    ms = {}
    for name, f in (("numpy", numpy_way), ("kernel", kept_path_delays)):
        reps = []
        for _ in range(5):
            c0 = time.process_time()
            for gr in graphs[1:]:
                f(gr, path)
            reps.append((time.process_time() - c0) / (len(graphs) - 1) * 1e3)
        ms[name] = float(np.median(reps))
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"kept paths of {len(path):,} pairs (width {path.shape[1]}), {len(graphs) - 1} snapshots of one slot:")
    print(
        f"  NumPy way {ms['numpy']:.2f} ms CPU per snapshot, kernel {ms['kernel']:.2f} ms: "
        f"x{ms['numpy'] / ms['kernel']:.1f}"
    )
    print(f"  bit for bit the same: {same}   (load average {load})")


if __name__ == "__main__":
    main()
