"""The kept-path hop look-up kernel (:func:`leonet._keptpath.hop_delays`) against a plain reference.

Reference: the NumPy formulation the kernel replaced (its module docstring): every hop ``u -> v`` of a path is
looked up by ``searchsorted(side="left")`` of its key ``u * n_nodes + v`` in the snapshot's sorted edge keys;
a hop with a padding end (-1) is no hop and has delay 0, a hop not among the keys is missing (NaN, the row is
broken).  Written here with a Python dict of first occurrences, on random graphs with repeated keys, padding
anywhere in a row, rows without hops, tails without edges and node ids outside the graph.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from leonet._keptpath import hop_delays


def _reference(
    path: np.ndarray, n_nodes: int, key: np.ndarray, delay_ms: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    first: dict[int, float] = {}
    for k, dl in zip(key.tolist(), delay_ms.tolist(), strict=True):
        first.setdefault(k, dl)  # the first of equal keys, as searchsorted(side="left")
    P, L = path.shape
    d = np.zeros((P, max(L - 1, 0)))
    broken = np.zeros(P, dtype=bool)
    any_hop = np.zeros(P, dtype=bool)
    for i in range(P):
        for j in range(L - 1):
            u, v = int(path[i, j]), int(path[i, j + 1])
            if u < 0 or v < 0:
                continue
            any_hop[i] = True
            dl = first.get(u * n_nodes + v) if u < n_nodes and v < n_nodes else None
            if dl is None:
                d[i, j] = np.nan
                broken[i] = True
            else:
                d[i, j] = dl
    return d, broken, any_hop


def _check(path: np.ndarray, n_nodes: int, key: np.ndarray, delay_ms: np.ndarray) -> None:
    d, broken, any_hop = hop_delays(path, n_nodes, key, delay_ms)
    rd, rb, ra = _reference(path, n_nodes, key, delay_ms)
    assert d.shape == rd.shape
    np.testing.assert_array_equal(d, rd)  # NaN where the reference has NaN, the same bits elsewhere
    assert broken.tolist() == rb.tolist()
    assert any_hop.tolist() == ra.tolist()


def _graph(rng: np.random.Generator, n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    u = rng.integers(0, n, m)
    v = rng.integers(0, n, m)
    key = np.sort(u.astype(np.int64) * n + v)
    if m > 2:  # repeat some keys: the first one counts
        key[1::3] = key[0:-1:3][: len(key[1::3])]
        key = np.sort(key)
    delay = rng.uniform(0.5, 20.0, len(key))
    return key, delay


def test_random_graphs_and_paths_match_the_reference() -> None:
    rng = np.random.default_rng(11)
    for _ in range(150):
        n = int(rng.integers(1, 12))
        key, delay = _graph(rng, n, int(rng.integers(0, 3 * n + 1)))
        P, L = int(rng.integers(0, 8)), int(rng.integers(0, 7))
        path = rng.integers(-1, n, (P, L)).astype(np.int32)
        if len(key) and P and L >= 2:  # make some rows real paths along existing edges
            for i in range(0, P, 2):
                k = key[rng.integers(0, len(key))]
                path[i, :2] = (k // n, k % n)
        _check(path, n, key, delay)


def test_paths_along_existing_edges_are_intact_with_the_first_delay() -> None:
    n = 5  # a ring 0 -> 1 -> 2 -> 3 -> 4 -> 0, each key twice with two delays
    u = np.repeat(np.arange(n), 2)
    key = u.astype(np.int64) * n + (u + 1) % n
    delay = np.arange(1.0, 2 * n + 1, dtype=np.float64)  # the first of each pair: 1, 3, 5, 7, 9
    path = np.array([[0, 1, 2, 3, 4, 0], [3, 4, 0, 1, -1, -1], [4, 0, -1, -1, -1, -1]], np.int32)
    d, broken, any_hop = hop_delays(path, n, key, delay)
    assert not broken.any() and any_hop.all()
    np.testing.assert_array_equal(d[0], [1.0, 3.0, 5.0, 7.0, 9.0])
    np.testing.assert_array_equal(d[1], [7.0, 9.0, 1.0, 0.0, 0.0])
    np.testing.assert_array_equal(d[2], [9.0, 0.0, 0.0, 0.0, 0.0])
    _check(path, n, key, delay)


@pytest.mark.parametrize(
    ("row", "broken", "any_hop"),
    [
        ([4, 3], True, True),  # the last node's tail has no edge (its run is empty, at the end of the keys)
        ([0, 4], True, True),  # the first tail's run does not hold this head
        ([5, 0], True, True),  # a node id outside the graph is no tail
        ([0, 5], True, True),  # ... and no head (its key would be tail 1's 0 -> 1 edge)
        ([-1, 2, -1], False, False),  # padding only around one node: no hop
        ([2, -1, 3], False, False),  # padding between two nodes: no hop either
        ([3, 4, -1, 0, 1], False, True),  # hops on both sides of a gap, all present
    ],
)
def test_edge_cases(row: list[int], broken: bool, any_hop: bool) -> None:
    n = 5
    key = np.array([0 * n + 1, 0 * n + 2, 1 * n + 0, 2 * n + 3, 3 * n + 4], np.int64)
    delay = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    path = np.array([row], np.int32)
    _d, b, a = hop_delays(path, n, key, delay)
    assert (bool(b[0]), bool(a[0])) == (broken, any_hop)
    _check(path, n, key, delay)


def test_no_edges_and_no_hops() -> None:
    empty_key, empty_delay = np.zeros(0, np.int64), np.zeros(0)
    _check(np.array([[0, 1], [1, 0]], np.int32), 2, empty_key, empty_delay)  # every hop missing
    d, b, a = hop_delays(np.zeros((3, 1), np.int32), 2, empty_key, empty_delay)  # one column: no hop at all
    assert d.shape == (3, 0) and not b.any() and not a.any()
    d, b, a = hop_delays(np.zeros((0, 4), np.int32), 2, np.array([1], np.int64), np.array([1.0]))
    assert d.shape == (0, 3) and b.shape == (0,) and a.shape == (0,)


def test_kernel_stays_in_bounds(tmp_path: Path) -> None:
    """numba does not check indices: run the cases above again with NUMBA_BOUNDSCHECK=1 (a fresh compile)."""
    code = textwrap.dedent(
        """
        import test_keptpath as t
        t.test_random_graphs_and_paths_match_the_reference()
        t.test_paths_along_existing_edges_are_intact_with_the_first_delay()
        for row, b, a in [([4, 3], True, True), ([0, 5], True, True), ([5, 0], True, True), ([2, -1, 3], False, False)]:
            t.test_edge_cases(row, b, a)
        t.test_no_edges_and_no_hops()
        print("in bounds")
        """
    )
    env = dict(os.environ, NUMBA_BOUNDSCHECK="1", NUMBA_CACHE_DIR=str(tmp_path))
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parent), env.get("PYTHONPATH", "")])
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "in bounds" in out.stdout, out.stderr[-2000:]
