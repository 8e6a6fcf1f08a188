"""Many-source shortest paths on snapshot routing graphs: ``scipy.sparse.csgraph.dijkstra`` vs ``leonet._dijkstra``.

The graph of one snapshot (epoch 2026-02-23T00:00Z + 10 min): the satellites of a preset in +Grid, the 100 most
populous cities each as a source vertex (links up to satellites >= 25 deg elevation) and a sink vertex (links down),
weights in ms.  Times 100 sources (the city source vertices), with predecessors, in one thread: scipy, the kernel,
and the kernel told to stop once the 100 sink vertices are final (``targets``).  Median of ``REPEATS`` runs.

    python benchmarks/bench_dijkstra.py [REPEATS]
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra as scipy_dijkstra
from sgp4.api import SatrecArray

from leonet._dijkstra import dijkstra_many
from leonet.catalog import read_text
from leonet.constants import C_KM_S
from leonet.geodesy import geodetic_to_ecef_km, up_unit
from leonet.orbits.constellation import from_shells
from leonet.orbits.propagate import positions_itrf_km
from leonet.orbits.shells import preset
from leonet.routing import build_graph
from leonet.timebase import julian_dates
from leonet.topology import ground_links, isl_lengths_km, plus_grid_isls

EPOCH = datetime(2026, 2, 23, tzinfo=UTC)


def snapshot_graph(name: str, t_s: float = 600.0) -> tuple[sp.csr_matrix, int, int]:
    """CSR routing graph of one snapshot, the number of satellites and of cities."""
    con = from_shells("g", preset(name), EPOCH)
    rows = [r.split(",") for r in read_text("hypatia_cities_top100.basic.txt").splitlines() if r.strip()]
    lat = np.array([float(r[2]) for r in rows])
    lon = np.array([float(r[3]) for r in rows])
    jw, jf = julian_dates(EPOCH, np.array([t_s]))
    r_km = positions_itrf_km(SatrecArray(list(con.satrecs)), jw, jf)[0]
    isl = plus_grid_isls(con.grids)
    gl = ground_links(r_km, geodetic_to_ecef_km(lat, lon, 0.0), up_unit(lat, lon), np.full(len(lat), 25.0))
    isl_ms = isl_lengths_km(r_km, isl) / C_KM_S * 1e3
    g = build_graph(con.size, len(lat), isl, isl_ms, gl.ground, gl.sat, gl.length_km / C_KM_S * 1e3)
    return g.csr, con.size, len(lat)


def median_ms(repeats: int, fn: Callable[..., object], *args: object, **kw: object) -> float:
    fn(*args, **kw)  # warm-up (and compile / load the cached kernel)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(*args, **kw)
        times.append(time.perf_counter() - t0)
    return float(np.median(times)) * 1e3


def main(repeats: int = 30) -> None:
    print(f"100 sources, with predecessors, one thread; median of {repeats} runs (ms)")
    print(f"{'graph':<15}{'vertices':>9}{'edges':>8}{'scipy':>9}{'kernel':>9}{'ratio':>7}{'+targets':>10}{'ratio':>7}")
    for name in ("starlink-550", "starlink-gen1"):
        csr, n_sats, n_cities = snapshot_graph(name)
        sources = n_sats + np.arange(n_cities, dtype=np.int64)
        sinks = n_sats + n_cities + np.arange(n_cities, dtype=np.int64)
        ref, _ = scipy_dijkstra(csr, directed=True, indices=sources, return_predecessors=True)
        dist, _ = dijkstra_many(csr.indptr, csr.indices, csr.data, sources)
        fin = np.isfinite(ref)
        assert np.array_equal(fin, np.isfinite(dist)) and np.allclose(dist[fin], ref[fin], rtol=1e-12, atol=0)
        t_scipy = median_ms(repeats, scipy_dijkstra, csr, directed=True, indices=sources, return_predecessors=True)
        t_kernel = median_ms(repeats, dijkstra_many, csr.indptr, csr.indices, csr.data, sources)
        t_target = median_ms(repeats, dijkstra_many, csr.indptr, csr.indices, csr.data, sources, sinks)
        print(
            f"{name:<15}{csr.shape[0]:>9}{csr.nnz:>8}{t_scipy:>9.2f}{t_kernel:>9.2f}{t_scipy / t_kernel:>6.1f}x"
            f"{t_target:>10.2f}{t_scipy / t_target:>6.1f}x"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
