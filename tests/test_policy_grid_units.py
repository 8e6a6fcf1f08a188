"""``leonet.policy._grid.PolygonGrid``: the first polygon containing each point, exactly.

Reference: brute force with ``shapely.contains_xy`` over the polygons in order (the first containing polygon
wins; a point on a boundary is not contained), the rule of the module docstring, for points placed where the
grid is weakest: on and within a rounding error of the cell lines, on the bounds, outside them, and in
polygons whose edges lie within 1e-9 deg of a cell line (the enlarged boxes of the docstring's rule).
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from leonet.policy._grid import PolygonGrid, _reduce_pairs


def brute(polys: list[shapely.Geometry], labels: list[int], lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    want = np.full(np.shape(lon), -1, dtype=np.int64)
    for i in range(len(polys) - 1, -1, -1):
        want[shapely.contains_xy(polys[i], lon, lat)] = labels[i]
    return want


def near_lines(lines: np.ndarray, rng: np.random.Generator, n: int) -> np.ndarray:
    """Values on the given lines and a rounding error either side of them."""
    base = rng.choice(lines, n)
    return base + rng.choice([0.0, 2.5e-10, -2.5e-10, 1e-12, -1e-12, 7e-10, -7e-10], n)


@pytest.mark.parametrize("sub", [1, 2, 4, 8])
def test_edges_within_a_rounding_error_of_cell_lines(sub: int) -> None:
    """Grid (-4, -4)..(12, 12) in 4 x 4 cells of 4 deg, so the level-1 lines are every 4/sub deg; polygons whose
    edges are on those lines or 5e-10 deg either side of them; points on and next to the lines."""
    eps = 5e-10
    polys = [
        shapely.box(0.0 + eps, 0.0 - eps, 10.0 - eps, 10.0 + eps),
        shapely.box(4.0 - eps, 4.0 + eps, 8.0 + eps, 8.0 - eps + 4.0),
        shapely.box(-4.0, -4.0, 0.0 - eps, 12.0),
        shapely.box(10.0 + eps, 2.0 - eps, 12.0, 3.0 + eps),
    ]
    labels = [0, 1, 2, 3]
    grid = PolygonGrid(np.array(polys, dtype=object), labels, (-4.0, -4.0, 12.0, 12.0), (4, 4), sub=sub)
    rng = np.random.default_rng(sub)
    lines = np.arange(-4.0, 12.0 + 1e-9, 4.0 / sub)
    lon = np.r_[near_lines(lines, rng, 20_000), rng.uniform(-4, 12, 5000)]
    lat = np.r_[near_lines(lines, rng, 20_000), near_lines(lines, rng, 5000)]
    lon = np.r_[lon, near_lines(lines, rng, 5000)]
    lat = np.r_[lat, rng.uniform(-4, 12, 5000)]
    assert np.array_equal(grid.lookup(lon, lat), brute(polys, labels, lon, lat))


def test_overlapping_polygons_first_match_and_labels() -> None:
    """A later polygon that wholly contains a cell never hides an earlier one that meets it."""
    polys = [
        shapely.Point(5, 5).buffer(1.0, quad_segs=8),
        shapely.box(0, 0, 10, 10),
        shapely.Point(5, 5).buffer(3.0, quad_segs=8),
        shapely.box(2, 2, 3, 3),
    ]
    labels = [7, 3, 9, 5]
    rng = np.random.default_rng(1)
    lon, lat = rng.uniform(-1, 11, 20_000), rng.uniform(-1, 11, 20_000)
    for cells in ((1, 1), (3, 2), (10, 10), (40, 40)):
        grid = PolygonGrid(np.array(polys, dtype=object), labels, (-1.0, -1.0, 11.0, 11.0), cells, sub=4)
        assert np.array_equal(grid.lookup(lon, lat), brute(polys, labels, lon, lat)), cells


def test_bounds_shapes_and_non_finite_points() -> None:
    """Points outside the bounds (and NaN) are in no polygon; the bounds themselves are inside the grid; the
    answer has the broadcast shape of the inputs."""
    polys = [shapely.box(-180, -90, 180, 90)]  # wider than the grid's bounds
    grid = PolygonGrid(np.array(polys, dtype=object), [4], (-10.0, -5.0, 10.0, 5.0), (4, 2), sub=2)
    lon = np.array([-10.0, 10.0, 10.0, -10.0, 0.0, 10.000001, -10.000001, 0.0, 0.0, np.nan, 0.0])
    lat = np.array([-5.0, 5.0, -5.0, 5.0, 0.0, 0.0, 0.0, 5.000001, -5.000001, 0.0, np.nan])
    got = grid.lookup(lon, lat)
    assert got.tolist() == [4, 4, 4, 4, 4, -1, -1, -1, -1, -1, -1]
    assert grid.lookup(np.zeros((2, 3)), 0.0).shape == (2, 3)
    assert grid.lookup(np.zeros((2, 3)), 0.0).tolist() == [[4] * 3] * 2
    assert grid.lookup(50.0, 0.0).shape == () and int(grid.lookup(50.0, 0.0)) == -1
    assert grid.lookup([], []).shape == (0,)


def test_points_on_the_upper_bounds_of_boundary_cells() -> None:
    """The last cell and the last sub cell hold the points on the upper bounds (indices clipped), answered
    exactly there: a polygon edge along the upper bound excludes them, an edge just beyond includes them."""
    inner = shapely.box(0.0, 0.0, 8.0, 8.0)
    outer = shapely.box(0.5, 0.5, 8.0 + 1e-10, 8.0 + 1e-10)
    for polys in ([inner], [outer]):
        grid = PolygonGrid(np.array(polys, dtype=object), [0], (0.0, 0.0, 8.0, 8.0), (2, 2), sub=2)
        t = np.linspace(0.0, 8.0, 33)
        lon = np.r_[t, np.full(t.size, 8.0), t, np.full(t.size, 0.0)]
        lat = np.r_[np.full(t.size, 8.0), t, np.full(t.size, 0.0), t]
        assert np.array_equal(grid.lookup(lon, lat), brute(polys, [0], lon, lat))


def test_state_restores_the_same_index() -> None:
    rng = np.random.default_rng(4)
    centres = rng.uniform(-20, 20, (25, 2))
    polys = list(shapely.buffer(shapely.points(centres), rng.uniform(0.5, 5.0, 25), quad_segs=4))
    labels = rng.integers(0, 6, 25).tolist()
    args = (np.array(polys, dtype=object), labels, (-25.0, -25.0, 25.0, 25.0), (9, 7))
    grid = PolygonGrid(*args, sub=3)
    again = PolygonGrid(*args, sub=3, state={k: v.astype(np.int64) for k, v in grid.state.items()})
    lon, lat = rng.uniform(-26, 26, 20_000), rng.uniform(-26, 26, 20_000)
    want = brute(polys, labels, lon, lat)
    assert np.array_equal(grid.lookup(lon, lat), want) and np.array_equal(again.lookup(lon, lat), want)
    assert again.n_boundary_cells == grid.n_boundary_cells > 0
    assert again.level0.dtype == np.int32 and again.cand_lo.dtype == np.int64
    assert set(grid.state) == {"level0", "level1", "cand_lo", "cand_hi", "cand_part"}


def test_reduce_pairs_keeps_parts_up_to_the_first_full_one() -> None:
    """Hand-worked: cell 0 has parts 0 (partial), 2 (full), 5 (partial, dropped); cell 2 has part 1 (full) then
    3 (dropped); cell 3 has part 4 (partial); cell 1 has none."""
    cell = np.array([0, 0, 0, 2, 2, 3])
    part = np.array([0, 2, 5, 1, 3, 4])
    full = np.array([False, True, False, True, False, False])
    first, is_full, kc, kp = _reduce_pairs(cell, part, full, 5)
    assert first.tolist() == [0, -1, 1, 4, -1]
    assert is_full.tolist() == [False, False, True, False, False]
    assert kc.tolist() == [0, 0, 2, 3] and kp.tolist() == [0, 2, 1, 4]
    first, is_full, kc, kp = _reduce_pairs(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, bool), 3)
    assert first.tolist() == [-1, -1, -1] and not is_full.any() and kc.size == kp.size == 0


@pytest.mark.parametrize("side", ["left", "bottom", "right", "top"])
def test_a_polygon_edge_just_inside_a_level_0_cell_line(side: str) -> None:
    """One polygon covering a whole level-0 cell but a 5e-10 deg sliver along one of its sides: the cell must not
    count as wholly inside (its box is enlarged by 1e-9 for that), so the points in the sliver are outside.
    Reference: shapely.contains_xy."""
    eps = 5e-10
    x0, y0, x1, y1 = -1.0, -1.0, 9.0, 9.0
    if side == "left":
        x0 = eps
    elif side == "bottom":
        y0 = eps
    elif side == "right":
        x1 = 8.0 - eps
    else:
        y1 = 8.0 - eps
    polys = [shapely.box(x0, y0, x1, y1)]
    grid = PolygonGrid(np.array(polys, dtype=object), [0], (0.0, 0.0, 8.0, 8.0), (2, 2), sub=2)
    t = np.linspace(0.0, 8.0, 161)
    near = np.array([2.5e-10, 8.0 - 2.5e-10, 0.0, 8.0, 1e-10, 8.0 - 1e-10, 1e-9, 8.0 - 1e-9])
    lon = np.r_[np.repeat(near, t.size), np.tile(t, near.size)]
    lat = np.r_[np.tile(t, near.size), np.repeat(near, t.size)]
    assert np.array_equal(grid.lookup(lon, lat), brute(polys, [0], lon, lat))
