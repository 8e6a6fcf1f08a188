"""Service cells against h3 directly, the resolution-5 area, and demand conservation (hypothesis).

References: ``h3.latlng_to_cell`` (string API, converted with ``h3.str_to_int``) one point at a time; H3's
published table of average hexagon areas (res 5: 252.903858182 km^2, https://h3geo.org/docs/core-library/restable).
"""

from __future__ import annotations

from collections import defaultdict

import h3
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leonet.cells import aggregate_demand, average_cell_area_km2, cell_area_km2, cell_centres_deg, cells_of


def test_cells_of_matches_h3_point_by_point() -> None:
    rng = np.random.default_rng(5)
    lat = rng.uniform(-89.9, 89.9, 3000)
    lon = rng.uniform(-180.0, 180.0, 3000)
    lat[100:200], lon[100:200] = lat[:100], lon[:100]  # repeated points
    got = cells_of(lat, lon)
    want = [h3.str_to_int(h3.latlng_to_cell(a, b, 5)) for a, b in zip(lat, lon, strict=True)]
    assert got.dtype == np.uint64
    assert got.tolist() == want
    assert cells_of(lat[:50], lon[:50], res=7).tolist() == [
        h3.str_to_int(h3.latlng_to_cell(a, b, 7)) for a, b in zip(lat[:50], lon[:50], strict=True)
    ]
    assert all(h3.get_resolution(h3.int_to_str(int(c))) == 5 for c in got[:20])


def test_cells_of_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="differ"):
        cells_of([1.0, 2.0], [3.0])
    with pytest.raises(ValueError, match="finite"):
        cells_of([np.nan], [3.0])
    assert len(cells_of([], [])) == 0
    one = cells_of(52.52, 13.40)  # a single point, as scalars
    assert one.tolist() == [h3.str_to_int(h3.latlng_to_cell(52.52, 13.40, 5))]


def test_resolution_5_area() -> None:
    assert average_cell_area_km2() == pytest.approx(252.903858182, rel=1e-6)
    rng = np.random.default_rng(6)
    c = np.unique(cells_of(rng.uniform(-60, 60, 2000), rng.uniform(-180, 180, 2000)))
    area = cell_area_km2(c)
    # hexagons vary in area across the icosahedron (about +-50%), their mean stays near the average
    assert area.min() > 100 and area.max() < 400
    assert area.mean() == pytest.approx(252.9, rel=0.15)


def test_centres_lie_in_their_cells() -> None:
    rng = np.random.default_rng(7)
    c = np.unique(cells_of(rng.uniform(-80, 80, 500), rng.uniform(-180, 180, 500)))
    lat, lon = cell_centres_deg(c)
    assert cells_of(lat, lon).tolist() == c.tolist()
    for cell, a, b in zip(c[:20], lat[:20], lon[:20], strict=True):
        assert (a, b) == pytest.approx(h3.cell_to_latlng(h3.int_to_str(int(cell))))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 6), st.floats(0.0, 1e4, allow_nan=False, allow_infinity=False)),
        min_size=0,
        max_size=60,
    )
)
def test_demand_is_conserved(rows: list[tuple[int, float]]) -> None:
    base = [h3.str_to_int(h3.latlng_to_cell(10.0 * i, 20.0 * i, 5)) for i in range(7)]
    ids = np.array([base[i] for i, _ in rows], dtype=np.uint64)
    d = np.array([x for _, x in rows], dtype=np.float64)
    cd = aggregate_demand(ids, d)
    want: dict[int, float] = defaultdict(float)
    count: dict[int, int] = defaultdict(int)
    for i, x in rows:
        want[base[i]] += x
        count[base[i]] += 1
    assert cd.cells.tolist() == sorted(want)
    assert cd.demand_mbps == pytest.approx([want[c] for c in sorted(want)])
    assert cd.terminals.tolist() == [count[c] for c in sorted(want)]
    assert cd.demand_mbps.sum() == pytest.approx(d.sum())
    assert (cd.cells[cd.terminal_cell] == ids).all()


def test_demand_rejects_negative() -> None:
    with pytest.raises(ValueError, match="demand"):
        aggregate_demand(np.array([1, 2], np.uint64), [1.0, -1.0])
