"""Run-length encoding of (snapshot, item) values (``leonet.runlength``) against a plain Python encoder.

Reference: the definition in the module docstring, written out as a loop over each item's column (a run is a
maximal stretch of equal values; ``first`` / ``stop`` are window indices, the first row being ``k0``; runs
sorted by item then time), independent of the NumPy shifts and ``nonzero`` the module uses.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from leonet.runlength import Runs, merge


def _reference(a: np.ndarray, k0: int = 0) -> list[tuple[int, int, int, int]]:
    out = []
    T, N = a.shape
    for i in range(N):
        t = 0
        while t < T:
            u = t
            while u < T and a[u, i] == a[t, i]:
                u += 1
            out.append((i, t + k0, u + k0, int(a[t, i])))
            t = u
    return out


def _as_list(r: Runs) -> list[tuple[int, int, int, int]]:
    return [(int(i), int(a), int(b), int(v)) for i, a, b, v in zip(r.item, r.first, r.stop, r.value, strict=True)]


@pytest.mark.parametrize(
    "shape, k0, seed",
    [((1, 1), 0, 0), ((1, 6), 5, 1), ((9, 1), 0, 2), ((9, 4), 3, 3), ((40, 7), 128, 4), ((2, 3), 0, 5)],
)
def test_runs_of_equal_the_reference_encoding(shape: tuple[int, int], k0: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.integers(-2, 3, size=shape).astype(np.int32)
    r = Runs.of(a, k0)
    assert _as_list(r) == _reference(a, k0)
    assert len(r) == len(_reference(a, k0))
    for f in ("item", "first", "stop"):
        assert getattr(r, f).dtype == np.int64
    assert r.value.dtype == np.int32


def test_runs_of_constant_and_alternating_columns() -> None:
    """Written out from the definition: a constant column is one run; an alternating one, a run per row."""
    a = np.array([[4, 0], [4, 1], [4, 0], [4, 1]], dtype=np.int32)
    assert _as_list(Runs.of(a, 10)) == [(0, 10, 14, 4), (1, 10, 11, 0), (1, 11, 12, 1), (1, 12, 13, 0), (1, 13, 14, 1)]
    assert _as_list(Runs.of(np.array([[True], [True], [False]]))) == [(0, 0, 2, 1), (0, 2, 3, 0)]


def test_empty_arrays_give_no_runs() -> None:
    for a in (np.zeros((0, 3), dtype=np.int32), np.zeros((4, 0), dtype=np.int32)):
        r = Runs.of(a, 7)
        assert len(r) == 0 and r.item.dtype == np.int64 and r.value.dtype == np.int32
    assert len(Runs.empty()) == 0
    assert len(merge([])) == 0 and len(merge([Runs.empty(), Runs.empty()])) == 0


def test_to_array_with_a_fill_and_an_offset_window() -> None:
    a = np.array([[1, 2], [1, 3]], dtype=np.int32)
    assert np.array_equal(Runs.of(a).to_array(3, 2, fill=-5), [[1, 2, -5], [1, 3, -5]])
    assert np.array_equal(Runs.of(a).to_array(3, 2), [[1, 2, 0], [1, 3, 0]])  # the default fill is 0
    assert np.array_equal(Runs.of(a, 1).to_array(2, 3), [[0, 0], [1, 2], [1, 3]])  # a window starting at 1


@pytest.mark.parametrize("seed", range(4))
def test_merge_of_any_cut_equals_the_reference(seed: int) -> None:
    """Pieces cut anywhere (empty pieces and pieces of one row included), given in any order, merge into the
    reference encoding of the whole; runs of different items or values that touch are never joined."""
    rng = np.random.default_rng(100 + seed)
    T, N = 30, 4
    a = rng.integers(0, 2, size=(T, N)).astype(np.int32)
    a[:, 3] = 1  # one run over every cut
    cuts = sorted({0, T, *rng.integers(0, T + 1, size=6).tolist()})
    parts = [Runs.of(a[x:y], x) for x, y in pairwise(cuts)] + [Runs.empty()]
    order = rng.permutation(len(parts))
    assert _as_list(merge([parts[i] for i in order])) == _reference(a)


def test_merge_keeps_apart_runs_that_do_not_touch_or_differ() -> None:
    """Written out: item 0 has value 1 at 0..2 and 3..5 (a gap at 2..3: not joined), item 1 has 1 at 0..2 and
    2 at 2..4 (touching, other value: not joined), item 2 has 1 at 0..2 and 1 at 2..4 (joined)."""
    x = Runs(np.array([0, 1, 2]), np.array([0, 0, 0]), np.array([2, 2, 2]), np.array([1, 1, 1], dtype=np.int32))
    y = Runs(np.array([0, 1, 2]), np.array([3, 2, 2]), np.array([5, 4, 4]), np.array([1, 2, 1], dtype=np.int32))
    assert _as_list(merge([y, x])) == [(0, 0, 2, 1), (0, 3, 5, 1), (1, 0, 2, 1), (1, 2, 4, 2), (2, 0, 4, 1)]
