"""A network made of several constellation sources: two presets and a TLE file (multi-constellation runs).

Reference: the same sources run as separate networks of the same scenario.  With no ISL between sources (nor
between the shells of a preset) and ground nodes that never transit, a shortest path of the union can only stay
in one shell, so the union's delay of every pair at every snapshot is the minimum of the separate networks'
delays, its ISLs are theirs shifted by each source's first node id, and its node ids run contiguously source
after source, then the ground nodes.  The summaries are recomputed from the routes with numpy.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pyarrow.compute as pc
import pytest

import leonet
from conftest import shared_file
from leonet.orbits.shells import PRESETS
from leonet.results import Results
from leonet.scenario import parse_scenario

SOURCES = {
    "kuiper": '{ preset = "kuiper" }',
    "tle550": '{{ tle = "{tle}", grid = [72, 22] }}',
    "oneweb": '{ preset = "oneweb" }',
}
SIZES = {"kuiper": 3236, "tle550": 1584, "oneweb": 720}


@cache
def _run() -> Results:
    tle = shared_file("tle/hypatia_starlink_550.tle")
    srcs = {k: v.format(tle=tle) if k == "tle550" else v for k, v in SOURCES.items()}
    nets = "".join(f'[[networks]]\nname = "{k}"\nconstellation = [{v}]\n' for k, v in srcs.items())
    text = f"""
epoch = 2000-01-01T00:00:00Z  # the Hypatia TLE epoch
[time]
end_s = 20
step_s = 10
[[networks]]
name = "mixed"
constellation = [{", ".join(srcs.values())}]
{nets}
[ground]
cities = 12
[routing]
mode = "ideal"
"""
    return leonet.run(parse_scenario(text))


def _first_ids() -> dict[str, int]:
    out, n = {}, 0
    for k in SOURCES:
        out[k] = n
        n += SIZES[k]
    return out


def test_node_ids_are_contiguous_source_after_source() -> None:
    r = _run()
    nodes = r.nodes("mixed")
    names = nodes.column("name").to_pylist()
    kinds = nodes.column("kind").to_pylist()
    S = sum(SIZES.values())
    assert nodes.column("node_id").to_pylist() == list(range(S + 12))
    assert kinds[:S] == ["satellite"] * S and "satellite" not in kinds[S:]
    for k, first in _first_ids().items():
        own = r.nodes(k).column("name").to_pylist()
        assert names[first : first + SIZES[k]] == own[: SIZES[k]]
    assert sum(s.size for s in PRESETS["kuiper"]) == SIZES["kuiper"]


@pytest.mark.parametrize("t_s", [0.0, 20.0])
def test_isls_stay_within_each_source_and_shell(t_s: float) -> None:
    r = _run()
    links = r.links(t_s, "mixed")
    isl = links.filter(pc.equal(links.column("kind"), "isl"))
    mixed = set(zip(isl.column("u").to_pylist(), isl.column("v").to_pylist(), strict=True))
    union: set[tuple[int, int]] = set()
    for k, first in _first_ids().items():
        own = r.links(t_s, k)
        own = own.filter(pc.equal(own.column("kind"), "isl"))
        uv = zip(own.column("u").to_pylist(), own.column("v").to_pylist(), strict=True)
        union |= {(u + first, v + first) for u, v in uv}
    assert mixed == union
    # and within one shell: Kuiper's three shells are 34x34, 36x36, 28x28 satellites from id 0
    bounds = np.cumsum([0, *(s.size for s in PRESETS["kuiper"]), SIZES["tle550"], SIZES["oneweb"]])
    u, v = np.array(sorted(mixed)).T
    assert np.array_equal(np.searchsorted(bounds, u, side="right"), np.searchsorted(bounds, v, side="right"))


def _delays(r: Results, net: str) -> np.ndarray:
    t = r.routes_table()
    t = t.filter(pc.equal(t.column("network"), net))
    key = np.lexsort((t.column("dst_name").to_numpy().astype(str), t.column("src_name").to_numpy().astype(str),
                      t.column("t_s").to_numpy()))  # fmt: skip
    out: np.ndarray = t.column("one_way_ms").to_numpy(zero_copy_only=False)[key]
    return out


def test_union_delay_is_the_minimum_over_the_sources() -> None:
    r = _run()
    mixed = _delays(r, "mixed")
    parts = np.stack([_delays(r, k) for k in SOURCES])
    best = np.nanmin(np.where(np.isnan(parts), np.inf, parts), axis=0)
    assert len(mixed) == 3 * 66
    np.testing.assert_array_equal(np.isnan(mixed), ~np.isfinite(best))
    np.testing.assert_allclose(mixed[~np.isnan(mixed)], best[np.isfinite(best)], rtol=1e-12)
    # somebody wins somewhere: the test is not one source alone
    winners = {int(np.argmin(parts[:, i])) for i in range(parts.shape[1]) if np.isfinite(best[i])}
    assert len(winners) >= 2


def test_every_path_stays_in_one_shell_and_the_summary_matches_the_routes() -> None:
    r = _run()
    t = r.routes_table()
    t = t.filter(pc.equal(t.column("network"), "mixed"))
    S = sum(SIZES.values())
    bounds = np.cumsum([0, *(s.size for s in PRESETS["kuiper"]), SIZES["tle550"], SIZES["oneweb"]])
    for p in t.column("path").to_pylist():
        sats = np.array([n for n in p if n < S])
        if len(sats):
            assert len(set(np.searchsorted(bounds, sats, side="right"))) == 1, p
    summ = r.summary.filter(pc.equal(r.summary.column("network"), "mixed"))
    assert summ.num_rows == 66
    rtt = t.column("rtt_ms").to_numpy(zero_copy_only=False)
    src = t.column("src").to_numpy()
    dst = t.column("dst").to_numpy()
    for row in summ.to_pylist():
        mine = rtt[(src == row["src"]) & (dst == row["dst"])]
        mine = mine[~np.isnan(mine)]
        assert row["reachable_snapshots"] == len(mine)
        if len(mine):
            assert row["rtt_median_ms"] == pytest.approx(float(np.median(mine)), abs=1e-9)
            assert row["rtt_min_ms"] == pytest.approx(float(mine.min()), abs=1e-12)
