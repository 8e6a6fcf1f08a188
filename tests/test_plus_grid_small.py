"""+Grid ISLs of small and degenerate shells (1, 2 or 3 planes or slots), against the rule written as sets.

The rule (``topology.plus_grid_isls`` docstring; Bhattacherjee & Singla 2019): slot ``s`` of plane ``p`` links to
slot ``s + 1`` (mod S) of its plane and to slot ``s`` of plane ``p + 1``; the last plane links to plane 0 at slot
``s + seam_shift`` when the grid wraps (Walker delta) and there are more than two planes (with two, plane 1 is
already plane 0's neighbour).  Each undirected link appears once, as ``(low, high)``, never a self-loop.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from leonet.orbits.constellation import Grid
from leonet.topology import plus_grid_isls


def _reference(g: Grid) -> set[tuple[int, int]]:
    P, S = g.planes, g.sats_per_plane

    def node(p: int, s: int) -> int:
        return g.first + p * S + s

    out: set[tuple[int, int]] = set()
    for p, s in itertools.product(range(P), range(S)):
        if S >= 2:
            out.add(tuple(sorted((node(p, s), node(p, (s + 1) % S)))))  # type: ignore[arg-type]
        if p + 1 < P:
            out.add(tuple(sorted((node(p, s), node(p + 1, s)))))  # type: ignore[arg-type]
        elif g.wrap and P > 2:
            out.add(tuple(sorted((node(p, s), node(0, (s + g.seam_shift) % S)))))  # type: ignore[arg-type]
    return out


GRIDS = [
    Grid(0, 1, 1),
    Grid(0, 1, 2),
    Grid(0, 1, 3),
    Grid(0, 2, 1),
    Grid(0, 2, 2),
    Grid(5, 2, 3, wrap=True, seam_shift=1),
    Grid(0, 3, 1),
    Grid(0, 3, 2, wrap=True, seam_shift=1),
    Grid(0, 3, 3, wrap=False),
    Grid(7, 4, 5, wrap=True, seam_shift=2),
    Grid(0, 5, 4, wrap=False, seam_shift=3),
]


@pytest.mark.parametrize("g", GRIDS, ids=lambda g: f"{g.planes}x{g.sats_per_plane}-wrap{g.wrap}-F{g.seam_shift}")
def test_small_grids_follow_the_rule(g: Grid) -> None:
    isl = plus_grid_isls([g])
    assert isl.dtype == np.int32 and isl.shape[1] == 2
    pairs = [(int(a), int(b)) for a, b in isl]
    assert all(a < b for a, b in pairs), "stored (low, high), no self-loop"
    assert len(set(pairs)) == len(pairs), "each link once"
    assert set(pairs) == _reference(g)


def test_two_shells_side_by_side_never_link_to_each_other() -> None:
    a, b = Grid(0, 3, 4, wrap=True, seam_shift=1), Grid(12, 2, 2)
    isl = plus_grid_isls([a, b])
    got = {(int(x), int(y)) for x, y in isl}
    assert got == _reference(a) | _reference(b)
    assert len(got) == len(isl)
