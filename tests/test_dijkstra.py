"""The many-source shortest-path kernel (``leonet._dijkstra``) against ``scipy.sparse.csgraph.dijkstra``.

Reference: scipy 1.16 ``dijkstra(csr, directed=True, indices=sources)`` (Dijkstra 1959, Fibonacci heap).  Distances
must agree to 1e-9 relative; predecessors may differ from scipy's where paths tie, so they are checked on their own
terms: following ``pred`` from every reached vertex must reach the source within N hops along existing edges whose
weights add up to the distance, with ``-9999`` exactly at the source and at unreached vertices.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse.csgraph import dijkstra as scipy_dijkstra

from leonet._dijkstra import NO_PRED, dijkstra_many

RTOL = 1e-9


def _random_csr(rng: np.random.Generator, n: int, m: int, weights: str = "uniform", isolated: int = 0) -> sp.csr_matrix:
    """``m`` random directed edges among the first ``n - isolated`` vertices (no self loops, duplicates summed)."""
    live = max(n - isolated, 1)
    u = rng.integers(0, live, m)
    v = rng.integers(0, live, m)
    if weights == "uniform":
        w = rng.uniform(0.1, 10.0, m)
    elif weights == "tiny":  # a third of the edges 1e-9 .. 1e-3 (Δ > min weight: label-correcting phases)
        w = np.where(rng.random(m) < 1 / 3, 10.0 ** rng.uniform(-9, -3, m), rng.uniform(1.0, 7.0, m))
    elif weights == "integer":  # many equal-length paths: ties everywhere
        w = rng.integers(1, 4, m).astype(np.float64)
    else:
        raise AssertionError(weights)
    keep = u != v
    csr = sp.csr_matrix((w[keep], (u[keep], v[keep])), shape=(n, n))
    csr.sum_duplicates()
    return csr


def _check(
    csr: sp.csr_matrix,
    sources: NDArray[np.int64],
    dist: NDArray[np.float64],
    pred: NDArray[np.int32],
    ref: NDArray[np.float64] | None = None,
) -> None:
    """Distances equal scipy's (``ref``; all of them unless given), predecessor chains are shortest paths."""
    n = csr.shape[0]
    if ref is None:
        ref = np.atleast_2d(scipy_dijkstra(csr, directed=True, indices=sources))
    assert dist.shape == pred.shape == ref.shape == (len(sources), n)
    assert dist.dtype == np.float64 and pred.dtype == np.int32
    assert np.array_equal(np.isinf(dist), np.isinf(ref))
    fin = np.isfinite(ref)
    np.testing.assert_allclose(dist[fin], ref[fin], rtol=RTOL, atol=0.0)
    # edge look-up: key u * n + v -> weight (the matrix has no duplicate entries)
    coo = csr.tocoo()
    key = coo.row.astype(np.int64) * n + coo.col
    order = np.argsort(key)
    key, wt = key[order], coo.data[order]
    for r, s in enumerate(sources):
        assert dist[r, s] == 0.0 and pred[r, s] == NO_PRED
        assert (pred[r, ~fin[r]] == NO_PRED).all()
        v = np.flatnonzero(fin[r])
        v = v[v != s]
        cur = v.copy()
        total = np.zeros(len(v))
        for _ in range(n):
            active = cur != s
            if not active.any():
                break
            p = pred[r, cur[active]].astype(np.int64)
            assert (p >= 0).all(), "a reached vertex without a predecessor"
            k = p * n + cur[active]
            pos = np.minimum(np.searchsorted(key, k), len(key) - 1)
            assert (key[pos] == k).all(), "a predecessor with no edge to its vertex"
            total[active] += wt[pos]
            cur[active] = p
        assert (cur == s).all(), "a predecessor chain that does not reach the source"
        np.testing.assert_allclose(total, dist[r, v], rtol=RTOL, atol=0.0)


def _run_and_check(csr: sp.csr_matrix, sources: NDArray[np.int64], **kw: object) -> None:
    dist, pred = dijkstra_many(csr.indptr, csr.indices, csr.data, sources, **kw)  # type: ignore[arg-type]
    _check(csr, sources, dist, pred)


@pytest.mark.parametrize(
    ("n", "m", "weights", "isolated"),
    [
        (1, 0, "uniform", 0),
        (2, 1, "uniform", 0),
        (7, 12, "uniform", 2),
        (60, 240, "uniform", 5),
        (400, 3000, "uniform", 20),
        (1500, 4000, "uniform", 100),  # sparse: many vertices unreachable
        (300, 1500, "tiny", 10),
        (800, 4000, "tiny", 0),
        (300, 2000, "integer", 3),
    ],
)
def test_random_graphs_against_scipy(n: int, m: int, weights: str, isolated: int) -> None:
    rng = np.random.default_rng(n * 7 + m)
    csr = _random_csr(rng, n, m, weights, isolated)
    sources = rng.integers(0, n, min(n, 6)).astype(np.int64)
    _run_and_check(csr, sources)


def test_single_and_duplicate_sources() -> None:
    rng = np.random.default_rng(5)
    csr = _random_csr(rng, 200, 900, isolated=10)
    _run_and_check(csr, np.array([17], dtype=np.int64))
    _run_and_check(csr, np.array([3, 3, 199, 3, 42], dtype=np.int64))  # 199: an isolated vertex
    dist, pred = dijkstra_many(csr.indptr, csr.indices, csr.data, [3, 3])
    assert np.array_equal(dist[0], dist[1]) and np.array_equal(pred[0], pred[1])
    dist, pred = dijkstra_many(csr.indptr, csr.indices, csr.data, np.zeros(0, dtype=np.int64))
    assert dist.shape == pred.shape == (0, 200)


@pytest.mark.parametrize("delta", [1e-3, 0.37, 5.0, 1e6])
def test_any_bucket_width_is_exact(delta: float) -> None:
    """Δ below the minimum weight (many buckets), above it (label-correcting phases), or one bucket for all."""
    rng = np.random.default_rng(11)
    csr = _random_csr(rng, 300, 1800, "uniform", 5)
    _run_and_check(csr, np.array([0, 150, 299], dtype=np.int64), delta=delta)


def test_zero_weights_and_a_chain() -> None:
    # explicit zeros are edges of length 0, as in scipy for sparse input
    indptr = np.array([0, 2, 3, 4, 4, 4, 4])  # 0 -> 1 (0), 0 -> 2 (2), 1 -> 3 (0), 2 -> 4 (1.5); 5 alone
    indices = np.array([1, 2, 3, 4])
    data = np.array([0.0, 2.0, 0.0, 1.5])
    csr = sp.csr_matrix((data, indices, indptr), shape=(6, 6))
    dist, pred = dijkstra_many(indptr, indices, data, [0])
    assert dist[0].tolist() == [0.0, 0.0, 2.0, 0.0, 3.5, np.inf]
    assert pred[0].tolist() == [NO_PRED, 0, 0, 1, 2, NO_PRED]
    _check(csr, np.array([0, 2]), *dijkstra_many(indptr, indices, data, [0, 2]))
    # a long chain with weights 1e-12 .. 1: hundreds of buckets per unit of distance
    n = 400
    w = 10.0 ** np.linspace(-12, 0, n - 1)
    chain = sp.csr_matrix((w, (np.arange(n - 1), np.arange(1, n))), shape=(n, n))
    _run_and_check(chain, np.array([0, 5], dtype=np.int64))


def _fan_graph(a: int = 30, b: int = 50) -> sp.csr_matrix:
    """A chain 0 -> 1 -> .. -> a (weights 1) and an edge from each chain vertex to each of b fan vertices, each
    later one slightly shorter overall, so that every fan vertex improves a times, always into the same bucket
    (a * b entries for N = a + b + 2 vertices), and an edge from each fan vertex to the last vertex."""
    n = a + b + 2
    u, v, w = list(range(a)), list(range(1, a + 1)), [1.0] * a
    for i in range(1, a + 1):
        for j in range(b):
            u.append(i)
            v.append(a + 1 + j)
            w.append(40.0 - i - i * 1e-3 - j * 1e-6)
    for j in range(b):
        u.append(a + 1 + j)
        v.append(n - 1)
        w.append(1.0 + j * 1e-3)
    return sp.csr_matrix((w, (u, v)), shape=(n, n))


def test_a_bucket_full_of_stale_entries() -> None:
    _run_and_check(_fan_graph(), np.array([0, 3], dtype=np.int64))


def test_a_full_bucket_does_not_spill_into_the_next() -> None:
    """The fan graph's bucket 39 receives a * b = 1,500 entries, far more than its room (2N + 1); the bucket after
    it (40) already holds a vertex x (queued from chain vertex 1 at 1 + 39.5 = 40.5) before the fan fills 39, and
    only x leads to y cheaply (40.5 + 0.1 = 40.6; the other way, 0 -> y, costs 100).  A bucket that grew past its
    row (no compaction, or a room counted too large) would overwrite x's entry in the next row: x never expanded,
    y at 100.  numba does not check indices, so this is caught by the answer, not by an IndexError.  Reference:
    scipy's Dijkstra (in ``_check``) and the hand-computed 40.6."""
    fan = _fan_graph().tocoo()
    n = fan.shape[0]
    x, y = n, n + 1
    u = np.r_[fan.row, 1, x, 0]
    v = np.r_[fan.col, x, y, y]
    w = np.r_[fan.data, 39.5, 0.1, 100.0]
    csr = sp.csr_matrix((w, (u, v)), shape=(n + 2, n + 2))
    sources = np.array([0], dtype=np.int64)
    dist, pred = dijkstra_many(csr.indptr, csr.indices, csr.data, sources, delta=1.0)
    assert dist[0, y] == pytest.approx(40.6) and pred[0, y] == x
    _check(csr, sources, dist, pred)


def test_an_empty_graph_and_no_sources() -> None:
    """A graph without vertices (``indptr = [0]``) is a graph: no sources give (0, 0) results, as scipy's
    ``dijkstra(csr_matrix((0, 0)), indices=[])`` does; any source is out of range."""
    dist, pred = dijkstra_many([0], [], [], [])
    assert dist.shape == (0, 0) and pred.shape == (0, 0)
    ref = scipy_dijkstra(sp.csr_matrix((0, 0)), directed=True, indices=np.array([], dtype=np.int64))
    assert ref.shape == dist.shape
    with pytest.raises(ValueError, match="sources"):
        dijkstra_many([0], [], [], [0])
    with pytest.raises(ValueError, match="1-d CSR"):
        dijkstra_many([], [], [], [])


def test_size_limits_are_the_index_types_and_hold_at_both_sides(monkeypatch: pytest.MonkeyPatch) -> None:
    """Vertices are indexed as int32 and edges as uint32 (the kernels' arrays): the limits are those types'
    maxima (``np.iinfo``), and a graph exactly at a (lowered) limit runs while one above it is refused."""
    from leonet import _dijkstra

    assert _dijkstra.MAX_VERTICES == 2**31 - 1 and _dijkstra.MAX_EDGES == 2**32 - 1
    monkeypatch.setattr(_dijkstra, "MAX_VERTICES", 3)
    monkeypatch.setattr(_dijkstra, "MAX_EDGES", 4)
    three = sp.csr_matrix(([1.0, 2.0, 1.0, 5.0], ([0, 1, 2, 0], [1, 2, 0, 2])), shape=(3, 3))
    dist, _ = dijkstra_many(three.indptr, three.indices, three.data, [0])
    np.testing.assert_allclose(dist, scipy_dijkstra(three, directed=True, indices=[0]))
    four = sp.csr_matrix(([1.0], ([0], [3])), shape=(4, 4))
    with pytest.raises(ValueError, match="too large"):
        dijkstra_many(four.indptr, four.indices, four.data, [0])
    five = sp.csr_matrix(([1.0, 2.0, 1.0, 5.0, 1.0], ([0, 1, 2, 0, 1], [1, 2, 0, 2, 0])), shape=(3, 3))
    with pytest.raises(ValueError, match="too large"):
        dijkstra_many(five.indptr, five.indices, five.data, [0])


def test_kernel_stays_in_bounds(tmp_path: Path) -> None:
    """numba does not check indices: run the hardest cases again with NUMBA_BOUNDSCHECK=1 (fresh compile)."""
    code = textwrap.dedent(
        """
        import numpy as np
        import test_dijkstra as t
        rng = np.random.default_rng(1)
        t._run_and_check(t._fan_graph(), np.array([0, 3]))
        t._run_and_check(t._fan_graph(3, 13), np.array([0]), delta=1.0)  # one bucket exactly 2N + 3 full
        t._run_and_check(t._random_csr(rng, 300, 1500, "tiny", 10), np.array([0, 7, 7]))
        t._run_and_check(t._random_csr(rng, 300, 1500, "integer", 10), np.array([1, 2]), delta=0.4)
        csr = t._random_csr(rng, 300, 1500, "uniform", 10)
        d, p = t.dijkstra_many(csr.indptr, csr.indices, csr.data, [0, 1], [5, 6])
        t._run_and_check(csr, np.array([0, 1]), threads=2)
        print("in bounds")
        """
    )
    env = dict(os.environ, NUMBA_BOUNDSCHECK="1", NUMBA_CACHE_DIR=str(tmp_path))
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parent), env.get("PYTHONPATH", "")])
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "in bounds" in out.stdout, out.stderr[-2000:]


def test_targets_stop_early_with_exact_paths() -> None:
    rng = np.random.default_rng(3)
    csr = _random_csr(rng, 600, 3000, "uniform", 0)
    sources = np.array([0, 10, 20], dtype=np.int64)
    targets = np.array([5, 6, 7], dtype=np.int64)
    ref = scipy_dijkstra(csr, directed=True, indices=sources)
    dist, pred = dijkstra_many(csr.indptr, csr.indices, csr.data, sources, targets)
    np.testing.assert_allclose(dist[:, targets], ref[:, targets], rtol=RTOL)
    reached = np.isfinite(dist)
    assert reached.mean() < 0.9 * np.isfinite(ref).mean()  # it did stop early
    # what is reached is exact, everything up to the farthest target is reached, and the chains are valid
    np.testing.assert_allclose(dist[reached], ref[reached], rtol=RTOL)
    assert (reached | (ref > ref[:, targets].max(axis=1, keepdims=True))).all()
    _check(csr, sources, dist, pred, ref=np.where(reached, ref, np.inf))
    # an unreachable target: no early exit, the full answer
    lonely = sp.csr_matrix((csr.data, csr.indices, np.r_[csr.indptr, csr.indptr[-1]]), shape=(601, 601))
    dist, pred = dijkstra_many(lonely.indptr, lonely.indices, lonely.data, sources, [5, 600])
    _check(lonely, sources, dist, pred)


def test_threads_give_the_same_answer() -> None:
    rng = np.random.default_rng(8)
    csr = _random_csr(rng, 500, 2500, "uniform", 5)
    sources = rng.integers(0, 500, 9).astype(np.int64)
    d1, p1 = dijkstra_many(csr.indptr, csr.indices, csr.data, sources)
    d2, p2 = dijkstra_many(csr.indptr, csr.indices, csr.data, sources, threads=3)
    assert np.array_equal(d1, d2) and np.array_equal(p1, p2)


@pytest.mark.parametrize("weights", ["uniform", "integer", "tiny"])
def test_parallel_equals_serial_bit_for_bit(weights: str) -> None:
    """Serial vs parallel kernel: every source's search is independent of the block it runs in, so distances and
    predecessors (ties included: integer weights) are identical for 1, 2, 3 and 7 threads, with and without
    targets, with more threads than sources, and with the automatic choice (``threads=None``)."""
    rng = np.random.default_rng(21)
    csr = _random_csr(rng, 700, 4200, weights, 7)
    sources = rng.integers(0, 700, 23).astype(np.int64)
    for targets in (None, rng.integers(0, 700, 5)):
        d1, p1 = dijkstra_many(csr.indptr, csr.indices, csr.data, sources, targets, threads=1)
        _check(csr, sources, d1, p1, ref=None if targets is None else d1)
        for nt in (2, 3, 7, 40, None):
            d, p = dijkstra_many(csr.indptr, csr.indices, csr.data, sources, targets, threads=nt)
            assert np.array_equal(d, d1) and np.array_equal(p, p1), (weights, nt)


def test_thread_count_follows_numba_num_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """``threads=None``: NUMBA_NUM_THREADS if set, else the CPUs of the process's affinity mask; small work stays
    in the calling thread (below PARALLEL_MIN_WORK), big work is split into blocks over that many threads."""
    import leonet._dijkstra as dj

    monkeypatch.setenv("NUMBA_NUM_THREADS", "3")
    assert dj.default_threads() == 3
    monkeypatch.delenv("NUMBA_NUM_THREADS")
    assert dj.default_threads() == (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)
    monkeypatch.setenv("NUMBA_NUM_THREADS", "2")
    seen: list[int] = []
    real = dj.run_blocks
    monkeypatch.setattr(dj, "run_blocks", lambda n, t, job: (seen.append(t), real(n, t, job))[1])
    rng = np.random.default_rng(2)
    small = _random_csr(rng, 50, 200)
    dijkstra_many(small.indptr, small.indices, small.data, [0, 1])
    big = _random_csr(rng, 3000, 15000)
    sources = np.arange(0, 3000, 30, dtype=np.int64)  # 100 x 18,000 = 1.8 M >= PARALLEL_MIN_WORK
    d, p = dijkstra_many(big.indptr, big.indices, big.data, sources)
    assert seen == [1, 2]
    d1, p1 = dijkstra_many(big.indptr, big.indices, big.data, sources, threads=1)
    assert np.array_equal(d, d1) and np.array_equal(p, p1)


def test_checker_catches_wrong_answers() -> None:
    """The checks above can fail: a wrong distance or a predecessor off a shortest path is caught."""
    rng = np.random.default_rng(4)
    csr = _random_csr(rng, 100, 600)
    sources = np.array([0, 1], dtype=np.int64)
    dist, pred = dijkstra_many(csr.indptr, csr.indices, csr.data, sources)
    _check(csr, sources, dist, pred)
    csc = csr.tocsc()
    # a reached vertex v with an in-edge from a reached vertex u that is not its predecessor
    v, u = next(
        (v, int(u))
        for v in range(1, 100)
        if np.isfinite(dist[0, v])
        for u in csc[:, v].indices
        if u != pred[0, v] and np.isfinite(dist[0, u])
    )
    bad = dist.copy()
    bad[0, v] *= 1 + 1e-6
    with pytest.raises(AssertionError):
        _check(csr, sources, bad, pred)
    wrong = pred.copy()
    wrong[0, v] = u  # an edge into v, but not on a shortest path (weights are random reals: no ties)
    with pytest.raises(AssertionError):
        _check(csr, sources, dist, wrong)
    wrong = pred.copy()
    wrong[1, 1] = 0  # the source must have none
    with pytest.raises(AssertionError):
        _check(csr, sources, dist, wrong)


def test_bad_input_is_refused() -> None:
    indptr, indices = np.array([0, 1, 1]), np.array([1])
    with pytest.raises(ValueError, match=">= 0"):
        dijkstra_many(indptr, indices, np.array([-1.0]), [0])
    with pytest.raises(ValueError, match=">= 0"):
        dijkstra_many(indptr, indices, np.array([np.nan]), [0])
    with pytest.raises(ValueError, match="sources"):
        dijkstra_many(indptr, indices, np.array([1.0]), [2])
    with pytest.raises(ValueError, match="targets"):
        dijkstra_many(indptr, indices, np.array([1.0]), [0], [-1])
    with pytest.raises(ValueError, match="out of range"):
        dijkstra_many(indptr, np.array([5]), np.array([1.0]), [0])
    with pytest.raises(ValueError, match="indptr"):
        dijkstra_many(np.array([0, 2, 1]), np.array([1, 0]), np.array([1.0, 1.0]), [0])


def _snapshot_graph(preset_name: str) -> tuple[sp.csr_matrix, int]:
    """The routing graph of one snapshot: satellites in +Grid, 100 city source vertices and 100 sink vertices."""
    from sgp4.api import SatrecArray

    from leonet.catalog import read_text
    from leonet.constants import C_KM_S
    from leonet.geodesy import geodetic_to_ecef_km, up_unit
    from leonet.orbits.constellation import from_shells
    from leonet.orbits.propagate import positions_itrf_km
    from leonet.orbits.shells import preset
    from leonet.routing import build_graph
    from leonet.timebase import julian_dates
    from leonet.topology import ground_links, isl_lengths_km, plus_grid_isls

    epoch = datetime(2026, 2, 23, tzinfo=UTC)
    con = from_shells("g", preset(preset_name), epoch)
    rows = [r.split(",") for r in read_text("hypatia_cities_top100.basic.txt").splitlines() if r.strip()]
    lat = np.array([float(r[2]) for r in rows])
    lon = np.array([float(r[3]) for r in rows])
    ground, up = geodetic_to_ecef_km(lat, lon, 0.0), up_unit(lat, lon)
    jw, jf = julian_dates(epoch, np.array([600.0]))
    r_km = positions_itrf_km(SatrecArray(list(con.satrecs)), jw, jf)[0]
    isl = plus_grid_isls(con.grids)
    gl = ground_links(r_km, ground, up, np.full(len(lat), 25.0))
    g = build_graph(
        con.size,
        len(lat),
        isl,
        isl_lengths_km(r_km, isl) / C_KM_S * 1e3,
        gl.ground,
        gl.sat,
        gl.length_km / C_KM_S * 1e3,
    )
    return g.csr, con.size


def test_snapshot_graph_against_scipy() -> None:
    csr, n_sats = _snapshot_graph("starlink-550")
    assert csr.shape == (n_sats + 200, n_sats + 200)
    sources = n_sats + np.arange(100, dtype=np.int64)
    sinks = n_sats + 100 + np.arange(100, dtype=np.int64)
    ref = scipy_dijkstra(csr, directed=True, indices=sources)
    assert np.isfinite(ref[:, sinks]).mean() > 0.9  # a meaningful graph: most city pairs connected
    dist, pred = dijkstra_many(csr.indptr, csr.indices, csr.data, sources)
    _check(csr, sources, dist, pred, ref=ref)
    # with the sinks as targets: the same distances to them, valid chains for everything reached
    dist, pred = dijkstra_many(csr.indptr, csr.indices, csr.data, sources, sinks)
    np.testing.assert_allclose(dist[:, sinks], ref[:, sinks], rtol=RTOL)
    _check(csr, sources, dist, pred, ref=np.where(np.isfinite(dist), ref, np.inf))


def test_targets_per_source() -> None:
    """``target_ptr``: each source stops once its own targets are final; those are exact (scipy) and whatever is
    reached is exact with valid chains; an empty list is a full search; same answer on any thread count."""
    rng = np.random.default_rng(13)
    csr = _random_csr(rng, 800, 4000, "uniform", 0)
    sources = np.array([0, 10, 20, 30], dtype=np.int64)
    own = [np.array([1, 2]), np.array([], dtype=np.int64), np.array([5]), np.array([7, 8, 9, 700])]
    targets = np.concatenate(own).astype(np.int64)
    ptr = np.r_[0, np.cumsum([len(t) for t in own])]
    ref = scipy_dijkstra(csr, directed=True, indices=sources)
    dist, pred = dijkstra_many(csr.indptr, csr.indices, csr.data, sources, targets, target_ptr=ptr, threads=1)
    for r, t in enumerate(own):
        np.testing.assert_allclose(dist[r, t], ref[r, t], rtol=RTOL)
    reached = np.isfinite(dist)
    np.testing.assert_allclose(dist[reached], ref[reached], rtol=RTOL)
    assert reached[1].sum() == np.isfinite(ref[1]).sum()  # no targets: full search
    assert reached[0].sum() < 0.9 * np.isfinite(ref[0]).sum()  # own targets only: it stopped early
    _check(csr, sources, dist, pred, ref=np.where(reached, ref, np.inf))
    d2, p2 = dijkstra_many(csr.indptr, csr.indices, csr.data, sources, targets, target_ptr=ptr, threads=3)
    assert np.array_equal(d2, dist) and np.array_equal(p2, pred)
    with pytest.raises(ValueError, match="target_ptr"):
        dijkstra_many(csr.indptr, csr.indices, csr.data, sources, targets, target_ptr=ptr[:-1])


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_threads_work_in_a_forked_child() -> None:
    """The kernel's thread pool, once used, does not hang a forked child (e.g. a multiprocessing worker)."""
    rng = np.random.default_rng(3)
    csr = _random_csr(rng, 300, 1500)
    sources = np.arange(12, dtype=np.int64)
    ref, _ = dijkstra_many(csr.indptr, csr.indices, csr.data, sources, threads=2)  # the pool exists now
    code = textwrap.dedent(
        """
        import os, sys, numpy as np, scipy.sparse as sp
        from leonet._dijkstra import dijkstra_many
        a = np.load(sys.argv[1])
        csr = sp.csr_matrix((a["data"], a["indices"], a["indptr"]))
        dijkstra_many(csr.indptr, csr.indices, csr.data, np.arange(12), threads=2)
        pid = os.fork()
        if pid == 0:
            d, _ = dijkstra_many(csr.indptr, csr.indices, csr.data, np.arange(12), threads=2)
            os._exit(0 if np.array_equal(d, a["ref"]) else 3)
        import signal, time
        for _ in range(300):  # up to 30 s; a hung child is killed, never left behind
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                print("child", os.waitstatus_to_exitcode(status))
                break
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            print("child hung")
        """
    )
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "g.npz"
        np.savez(f, data=csr.data, indices=csr.indices, indptr=csr.indptr, ref=ref)
        out = subprocess.run([sys.executable, "-c", code, str(f)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "child 0" in out.stdout, (out.stdout, out.stderr[-2000:])
