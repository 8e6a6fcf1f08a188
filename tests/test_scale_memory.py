"""Nothing dense in the number of satellites: the memory one snapshot needs grows linearly with S.

Reference: the same pipeline at two sizes of one Walker pattern (4x the satellites: 32 x 40 and 64 x 80 at
550 km, 53 deg), with the same 20 cities; the tracemalloc peak (NumPy reports its buffers to tracemalloc) of
each stage.  Linear growth gives a ratio near 4, an (S, S) or (G, S) array a ratio near 16; we accept < 6.
Stages: SGP4 positions, +Grid ISLs and lengths, ground links (k-d tree), graph build, routing of all 190 pairs
(Dijkstra + read-back), and ISL inference from states (``orbits.planes.infer_isls``, as for a TLE file).
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from leonet.catalog import cities
from leonet.constants import C_KM_S
from leonet.geodesy import geodetic_to_ecef_km, up_unit
from leonet.orbits.constellation import from_shells
from leonet.orbits.planes import infer_isls, sgp4_state_km
from leonet.orbits.propagate import positions_itrf_km
from leonet.orbits.shells import Shell
from leonet.routing import build_graph, shortest_routes
from leonet.timebase import julian_dates
from leonet.topology import ground_links, isl_lengths_km, plus_grid_isls

EPOCH = datetime(2026, 2, 23, tzinfo=UTC)


def _peaks(planes: int, per_plane: int, check: bool = True) -> dict[str, int]:
    con = from_shells("w", [Shell(550.0, 53.0, planes, per_plane)], EPOCH)
    city = cities()[:20]
    lat = np.array([c.lat_deg for c in city])
    lon = np.array([c.lon_deg for c in city])
    g_r, g_up = geodetic_to_ecef_km(lat, lon), up_unit(lat, lon)
    iu, ju = np.triu_indices(20, k=1)
    src, dst = iu.astype(np.int64), ju.astype(np.int64)
    jw, jf = julian_dates(EPOCH, np.array([60.0]))
    state: dict[str, Any] = {}

    def positions() -> None:
        state["r"] = positions_itrf_km(con.satrecs, jw, jf)[0]

    def isls() -> None:
        state["isl"] = plus_grid_isls(con.grids)
        state["isl_km"] = isl_lengths_km(state["r"], state["isl"])

    def gsl() -> None:
        state["gsl"] = ground_links(state["r"], g_r, g_up, np.full(20, 25.0))

    def graph() -> None:
        g = state["gsl"]
        ms = 1e3 / C_KM_S
        state["graph"] = build_graph(
            con.size, 20, state["isl"], state["isl_km"] * ms, g.ground, g.sat, g.length_km * ms
        )

    def route() -> None:
        state["routes"] = shortest_routes(state["graph"], src, dst)

    def infer() -> None:
        r, v = sgp4_state_km(con.satrecs, EPOCH)
        state["inferred"] = infer_isls(r, v)

    out: dict[str, int] = {}
    stages: list[tuple[str, Callable[[], None]]] = [
        ("positions", positions), ("isls", isls), ("ground links", gsl), ("graph", graph), ("routing", route),
        ("infer isls", infer),
    ]  # fmt: skip
    for name, f in stages:
        tracemalloc.start()
        f()
        out[name] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    if check:  # the pipeline did its work: most pairs routed, the +Grid found again
        assert np.isfinite(state["routes"].delay_ms).mean() > 0.5
        assert len(state["inferred"].isls) > 1.9 * con.size
    return out


@pytest.fixture(scope="module")
def peaks() -> tuple[dict[str, int], dict[str, int]]:
    _peaks(8, 10, check=False)  # warm-up: numba kernels loaded, caches filled, outside the measurement
    return _peaks(32, 40), _peaks(64, 80)


@pytest.mark.parametrize("stage", ["positions", "isls", "ground links", "graph", "routing", "infer isls"])
def test_memory_grows_linearly_with_satellites(peaks: tuple[dict[str, int], dict[str, int]], stage: str) -> None:
    small, big = peaks
    ratio = big[stage] / small[stage]
    assert 2.0 < ratio < 6.0, f"{stage}: peak {small[stage]:,} B at 1,280 satellites, {big[stage]:,} B at 5,120"
