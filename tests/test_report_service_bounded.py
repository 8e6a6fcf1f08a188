"""The service map's data in bounded memory (``report.service._map_data``) draws the same figure as the dense
(snapshots x terminals) version it replaced.

Reference: the previous ``map_figure`` body, kept here verbatim in its dense form (``_status_matrix``: a (T, N)
code matrix filled from the service intervals; ``ground.at(times)``: (T, G) positions), run on the same results.
Every artist's data is compared: the scatter's points and colours, every line (countries, geofences, tracks),
the labels and their positions, the axis limits and the figure's size.  Scenarios with moving terminals
(crimea-2022, speed-cap-2026's tracks) and static ones (front-whitelist-2026); the sample and the snapshot
blocks are made small so that both code paths (sampled points, several blocks) run.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
import shapely
from matplotlib.figure import Figure
from numpy.typing import NDArray

import leonet
from leonet.report import figures
from leonet.report import service as rs
from leonet.results import Results


def _status_matrix(results: Results, network: str) -> tuple[NDArray[np.int32], list[str], list[str]]:
    prep = results.prepared
    names = [prep.ground.names[i] for i in prep.terminals]
    col = {n: i for i, n in enumerate(names)}
    times = prep.times_s
    codes = np.zeros((len(times), len(names)), dtype=np.int32)
    rules: list[str] = []
    for r in results.service.to_pylist():
        if r["network"] != network:
            continue
        k0, k1 = np.searchsorted(times, [r["start_s"], r["end_s"]], side="left")
        if r["status"] == "served":
            code = 0
        elif r["status"] == "no-coverage":
            code = 1
        else:
            if r["rule_id"] not in rules:
                rules.append(r["rule_id"])
            code = 2 + rules.index(r["rule_id"])
        codes[k0:k1, col[r["terminal"]]] = code
    return codes, names, rules


def _dense_map_figure(results: Results, network: str, colors: dict[str, str]) -> Figure:
    prep = results.prepared
    codes, _names, rules = _status_matrix(results, network)
    st = prep.ground.at(prep.times_s)
    lat = st.lat_deg[:, prep.terminals]
    lon = st.lon_deg[:, prep.terminals]
    palette = np.array([rs.SERVED_COLOR, rs.NO_COVERAGE_COLOR] + [colors.get(r, rs.RULE_COLORS[0]) for r in rules])
    flat = np.arange(lat.size)
    if lat.size > rs.MAX_MAP_POINTS:
        flat = np.random.default_rng(0).choice(lat.size, rs.MAX_MAP_POINTS, replace=False)
    pad = 3.0
    x0, x1 = max(-180.0, float(np.nanmin(lon)) - pad), min(180.0, float(np.nanmax(lon)) + pad)
    y0, y1 = max(-90.0, float(np.nanmin(lat)) - pad), min(90.0, float(np.nanmax(lat)) + pad)
    height = float(np.clip(8.0 * (y1 - y0) / max(x1 - x0, 1e-6) + 1.3, 3.2, 9.0))
    fig = Figure(figsize=(9.5, height))
    ax = fig.add_subplot()
    for ring in figures.country_outlines():
        ax.plot(ring[:, 0], ring[:, 1], color="#999999", lw=0.5, zorder=1)
    if prep.policy is not None:
        for gid, geom in prep.policy.geometries.items():
            for poly in getattr(geom, "geoms", [geom]):
                if isinstance(poly, shapely.Polygon):
                    x, y = poly.exterior.xy
                    ax.fill(x, y, color="#d62728", alpha=0.12, zorder=2)
                    ax.plot(x, y, color="#d62728", lw=0.8, zorder=2)
            c = shapely.centroid(geom)
            ax.annotate(figures.mpl_text(gid), (c.x, c.y), fontsize=7, color="#a01010", zorder=5)
    for n in range(lat.shape[1]):
        if np.ptp(lat[:, n]) > 0 or np.ptp(lon[:, n]) > 0:
            ax.plot(lon[:, n], lat[:, n], color="#555555", lw=0.6, zorder=3)
    ax.scatter(lon.ravel()[flat], lat.ravel()[flat], c=palette[codes.ravel()[flat]], s=14, zorder=4, lw=0)
    for n, name in enumerate(_names[:30]):
        ax.annotate(figures.mpl_text(name), (lon[-1, n], lat[-1, n]), fontsize=7, xytext=(3, 3),
                    textcoords="offset points", zorder=5)  # fmt: skip
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    return fig


def _artists(fig: Figure) -> dict[str, object]:
    ax = fig.axes[0]
    scatter = [c for c in ax.collections if hasattr(c, "get_offsets") and len(c.get_offsets())]
    return {
        "size": tuple(fig.get_size_inches()),
        "xlim": ax.get_xlim(),
        "ylim": ax.get_ylim(),
        "lines": [(ln.get_color(), np.asarray(ln.get_xydata()).tolist()) for ln in ax.lines],
        "points": [np.asarray(c.get_offsets()).tolist() for c in scatter],
        "colours": [np.asarray(c.get_facecolors()).tolist() for c in scatter],
        "texts": [(t.get_text(), tuple(np.asarray(t.xy, dtype=float))) for t in ax.texts],
    }


@pytest.mark.parametrize(
    ("name", "end_s", "max_points", "block"),
    [
        ("crimea-2022", 120, 150, 37),  # moving terminals (tracks), sampled, several blocks
        ("crimea-2022", 40, 10**6, 10**6),  # every point, one block
        ("speed-cap-2026", 90, 200, 11),
        ("front-whitelist-2026", 60, 100, 5),  # static terminals only
    ],
)
def test_bounded_map_draws_the_dense_maps_figure(
    name: str, end_s: float, max_points: int, block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rs, "MAX_MAP_POINTS", max_points)
    monkeypatch.setattr(rs, "BLOCK_CELLS", block)
    sc = leonet.load_scenario(name).with_time(end_s=end_s)
    res = leonet.run(sc, workers=1)
    assert len(res.prepared.terminals) > 0
    colors = rs._rule_colors(res.service.to_pylist())
    for net in res.prepared.networks:
        got = _artists(rs.map_figure(res, net.spec.name, colors))
        want = _artists(_dense_map_figure(res, net.spec.name, colors))
        assert got == want, (name, net.spec.name)
    moving = len(res.prepared.ground.moving) > 0
    assert moving == (name != "front-whitelist-2026")  # both kinds of scenario are covered


def test_codes_at_reads_the_runs_as_the_dense_matrix() -> None:
    """``_codes_at`` against filling a dense matrix, on random disjoint runs with gaps (served there)."""
    rng = np.random.default_rng(5)
    T, N = 50, 7
    dense = np.zeros((T, N), dtype=np.int64)
    cols, k0s, k1s, codes = [], [], [], []
    for n in range(N):
        cuts = np.sort(rng.choice(np.arange(1, T), size=6, replace=False))
        edges = np.r_[0, cuts, T]
        for a, b in pairwise(edges):
            if rng.random() < 0.3:
                continue  # a gap
            c = int(rng.integers(0, 5))
            cols.append(n), k0s.append(a), k1s.append(b), codes.append(c)
            dense[a:b, n] = c
    order = np.lexsort((k0s, cols))
    runs = tuple(np.asarray(x, dtype=np.int64)[order] for x in (cols, k0s, k1s, codes))
    k, n = np.divmod(np.arange(T * N), N)
    assert np.array_equal(rs._codes_at(runs, T, k, n), dense[k, n])  # type: ignore[arg-type]
    empty = tuple(np.zeros(0, dtype=np.int64) for _ in range(4))
    assert (rs._codes_at(empty, T, k, n) == 0).all()  # type: ignore[arg-type]
