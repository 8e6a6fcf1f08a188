"""Propagation speed as a fraction of c per link type (``isl_speed_fraction``, ``ground_link_speed_fraction``).

With fractions other than 1 (and different from each other) every route's one-way delay must equal, hop by
hop, length / (fraction of that hop's kind x c), with lengths recomputed in NumPy from the node positions; the
route must be the shortest under those weights (networkx ``dijkstra_path_length`` over ISLs plus the two
endpoints' ground links, so no ground node transits); RTT is twice that, and stretch is one-way / (geodesic / c)
with the full c, whatever the fractions.
"""

from __future__ import annotations

from functools import cache
from itertools import pairwise

import networkx as nx
import numpy as np
import pytest

from leonet.constants import C_KM_S
from leonet.results import Results, run
from leonet.scenario import parse_scenario

ISL_F, GSL_F = 0.62, 0.85


@cache
def _res(isl_f: float, gsl_f: float) -> Results:
    return run(
        parse_scenario(
            f"""
epoch = 2026-02-23T00:00:00Z
[time]
end_s = 30
step_s = 30
[[networks]]
name = "s550"
constellation = {{ preset = "starlink-550" }}
isl_speed_fraction = {isl_f}
ground_link_speed_fraction = {gsl_f}
[ground]
cities = 12
[routing]
mode = "ideal"
"""
        )
    )


@pytest.mark.parametrize("t", [0.0, 30.0])
def test_delays_follow_the_fractions_hop_by_hop(t: float) -> None:
    res = _res(ISL_F, GSL_F)
    S = res.prepared.networks[0].n_sats
    pos = res.positions(t).to_pydict()
    r = np.stack([pos["x_km"], pos["y_km"], pos["z_km"]], axis=1)
    rows = res.routes.filter(res.routes.column("t_s").to_numpy() == t).to_pydict()
    links = res.links(t).to_pydict()
    isl = nx.Graph()
    gsl: dict[int, list[tuple[int, float]]] = {}
    for u, v, kind, km, delay in zip(
        links["u"], links["v"], links["kind"], links["length_km"], links["delay_ms"], strict=True
    ):
        f = ISL_F if kind == "isl" else GSL_F
        assert delay == pytest.approx(km / (f * C_KM_S) * 1e3, rel=1e-12)
        if kind == "isl":
            isl.add_edge(u, v, w=km / (ISL_F * C_KM_S) * 1e3)
        else:
            gsl.setdefault(u, []).append((v, km / (GSL_F * C_KM_S) * 1e3))
    checked = 0
    for src, dst, path, ow, rtt, gc, stretch in zip(
        rows["src"],
        rows["dst"],
        rows["path"],
        rows["one_way_ms"],
        rows["rtt_ms"],
        rows["gc_km"],
        rows["stretch"],
        strict=True,
    ):
        if ow is None:
            continue
        total = 0.0
        for a, b in pairwise(path):
            km = float(np.linalg.norm(r[a] - r[b]))
            f = ISL_F if (a < S and b < S) else GSL_F
            total += km / (f * C_KM_S) * 1e3
        assert ow == pytest.approx(total, rel=1e-9)
        assert rtt == pytest.approx(2 * ow, rel=1e-15)
        assert stretch == pytest.approx(ow / (gc / C_KM_S * 1e3), rel=1e-12)
        # shortest under these weights: ISLs, plus the source's uplinks and the destination's downlinks only
        g = isl.copy()
        for s, w in gsl.get(src, []):
            g.add_edge(("src", src), s, w=w)
        for s, w in gsl.get(dst, []):
            g.add_edge(s, ("dst", dst), w=w)
        assert ow == pytest.approx(nx.dijkstra_path_length(g, ("src", src), ("dst", dst), weight="w"), rel=1e-9)
        checked += 1
    assert checked >= 40


def test_slower_links_scale_delays() -> None:
    """With ISLs and ground links at the same fraction f, every path and hop count is the one at f = 1 and every
    delay is 1/f times as long (the argmin does not change under a common scale); the great-circle bound in the
    summary stays at c."""
    a, b = _res(1.0, 1.0), _res(0.5, 0.5)
    ra, rb = a.routes.to_pydict(), b.routes.to_pydict()
    assert ra["path"] == rb["path"] and ra["hops"] == rb["hops"]
    for x, y in zip(ra["one_way_ms"], rb["one_way_ms"], strict=True):
        assert (x is None) == (y is None)
        if x is not None:
            assert y == pytest.approx(2 * x, rel=1e-12)
    assert a.summary.column("gc_rtt_ms").to_pylist() == b.summary.column("gc_rtt_ms").to_pylist()
