"""A path repaired inside a reconfiguration slot is kept from then on, like any other kept path.

In ``reconfig`` mode a pair keeps its slot-start path; when a hop of it disappears the pair is re-routed at once
(``rerouted = true``) and the repaired path becomes the kept one.  If the repair were not kept, the next
snapshot would find the old broken path again and re-route again, silently turning ``reconfig`` into ``ideal``
for that pair.

Two checks: (1) a hand-built 4-satellite graph sequence where, after the repair, a shorter path appears (a kept
path must ignore it until the next slot); (2) on a real run, the exact invariant: inside a slot, a row is
re-routed if and only if the previous row's path lost a hop at this snapshot (hops looked up in
``Results.links(t)``, an independent construction of the snapshot's links).
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from leonet.results import run
from leonet.router import Router
from leonet.routing import build_graph
from leonet.scenario import parse_scenario

S, G = 4, 2  # satellites 0..3, ground nodes 4 (g0) and 5 (g1)


def _graph(isl: dict[tuple[int, int], float]):  # type: ignore[no-untyped-def]
    """g0 - s0 (1 ms), g1 - s1 (1 ms), g1 - s3 (1 ms), and the given ISLs (ms)."""
    pairs = np.array(list(isl), dtype=np.int32).reshape(-1, 2)
    w = np.array(list(isl.values()), dtype=float)
    return build_graph(
        S,
        G,
        pairs,
        w,
        np.array([0, 1, 1], np.int32),
        np.array([0, 1, 3], np.int32),
        np.array([1.0, 1.0, 1.0]),
    )


def _router(src: np.ndarray, dst: np.ndarray, mode: str = "reconfig", interval: float = 15.0) -> Router:
    return Router(src, dst, mode, interval)


def test_repaired_path_is_kept_at_the_next_snapshots() -> None:
    src, dst = np.array([0]), np.array([1])
    A = [4, 0, 1, 5]  # g0 s0 s1 g1, 3 ms
    B = [4, 0, 2, 3, 5]  # g0 s0 s2 s3 g1, 4 ms
    C = [4, 0, 3, 5]  # g0 s0 s3 g1
    full = {(0, 1): 1.0, (0, 2): 1.0, (2, 3): 1.0, (0, 3): 5.0}
    no01 = {k: v for k, v in full.items() if k != (0, 1)}
    short03 = {**no01, (0, 3): 0.5}  # C = 2.5 ms is now the shortest, but B is intact
    router = _router(src, dst)
    steps = [
        (0.0, full, A, 3.0, True),  # slot start
        (1.0, no01, B, 4.0, True),  # s0 - s1 gone: repaired
        (2.0, short03, B, 4.0, False),  # B intact: kept, although C is shorter now
        (3.0, full, B, 4.0, False),  # A is back and shorter: still B until the slot ends
        (14.0, short03, B, 4.0, False),
        (15.0, short03, C, 2.5, True),  # next slot: the shortest path again
    ]
    for t, links, path, delay, rerouted in steps:
        routes, recomputed, _ = router.step(_graph(links), t)
        got = [int(x) for x in routes.path[0] if x >= 0]
        assert got == path, t
        assert routes.delay_ms[0] == pytest.approx(delay), t
        assert bool(recomputed[0]) is rerouted, t


def test_kept_path_follows_current_delays_and_breaks_again() -> None:
    """A kept (repaired) path's delay is its current length; when it breaks in turn, it is repaired again."""
    src, dst = np.array([0, 0]), np.array([1, 1])  # the same pair twice: both rows behave alike
    router = _router(src, dst)
    seq = [
        (0.0, {(0, 1): 1.0, (0, 2): 1.0, (2, 3): 1.0, (0, 3): 5.0}, 3.0, True),
        (1.0, {(0, 2): 1.0, (2, 3): 1.0, (0, 3): 5.0}, 4.0, True),
        (2.0, {(0, 2): 1.5, (2, 3): 1.25, (0, 3): 5.0}, 4.75, False),  # kept, its hops got longer
        (3.0, {(0, 2): 1.5, (0, 3): 5.0}, 7.0, True),  # s2 - s3 gone: repaired to s0 - s3
        (4.0, {(0, 1): 0.1, (0, 2): 1.5, (2, 3): 1.0, (0, 3): 6.0}, 8.0, False),
    ]
    for t, links, delay, rerouted in seq:
        routes, recomputed, _ = router.step(_graph(links), t)
        assert routes.delay_ms.tolist() == pytest.approx([delay, delay]), t
        assert recomputed.tolist() == [rerouted, rerouted], t


def test_ideal_mode_reroutes_every_snapshot() -> None:
    router = _router(np.array([0]), np.array([1]), "ideal")
    full = {(0, 1): 1.0, (0, 2): 1.0, (2, 3): 1.0, (0, 3): 5.0}
    for t, links, delay in ((0.0, full, 3.0), (1.0, {**full, (0, 3): 0.5}, 2.5), (1.5, full, 3.0)):
        graph = _graph(links)
        routes, recomputed, _ = router.step(graph, t)
        assert routes.delay_ms[0] == pytest.approx(delay) and recomputed.all()


def test_reroutes_inside_a_slot_happen_exactly_when_a_hop_is_lost() -> None:
    sc = parse_scenario(
        """
epoch = 2026-02-23T00:00:00Z
[time]
start_s = 3
end_s = 44
step_s = 1
[[networks]]
name = "s550"
constellation = { preset = "starlink-550" }
min_elevation_deg = 40
[ground]
cities = 16
[routing]
mode = "reconfig"
reconfiguration_interval_s = 15
"""
    )
    res = run(sc)
    tab = res.routes.sort_by([("src", "ascending"), ("dst", "ascending"), ("t_s", "ascending")]).to_pydict()
    S = res.prepared.networks[0].n_sats
    hop_sets: dict[float, set[tuple[int, int]]] = {}

    def hops_at(t: float) -> set[tuple[int, int]]:
        if t not in hop_sets:
            lk = res.links(t).to_pydict()
            hop_sets[t] = {(u, v) for u, v in zip(lk["u"], lk["v"], strict=True)} | {
                (v, u) for u, v in zip(lk["u"], lk["v"], strict=True)
            }
        return hop_sets[t]

    mid_slot_reroutes = kept_after_repair = 0
    prev: tuple[int, int, list[int], bool] | None = None
    rows = zip(tab["src"], tab["dst"], tab["t_s"], tab["path"], tab["rerouted"], strict=True)
    for src, dst, t, path, rerouted in rows:
        if prev is not None and prev[:2] == (src, dst) and t % 15 != 0 and t != 3.0:
            old = prev[2]
            lost = bool(old) and any(h not in hops_at(t) for h in pairwise(old))
            expected = lost or not old  # an unreachable pair is routed again at every snapshot
            assert rerouted == expected, (src, dst, t, old, path)
            if rerouted and old:
                mid_slot_reroutes += 1
            if prev[3] and old and not rerouted:
                kept_after_repair += 1
                assert path == old
        prev = (src, dst, path, rerouted and t % 15 != 0)
    assert S > 0 and mid_slot_reroutes > 0 and kept_after_repair > 0
