"""``leonet.hypatia.fstate`` piece by piece, against references written here from its docstring (found by
mutation testing, docs/testing.md): interface numbers by a plain loop over the ISL list; ground links in range
by NumPy over every (station, satellite), also past the kernel's first 1,024-entry buffer; distances by
scipy's Floyd-Warshall; every next hop by a plain loop over the neighbours with the documented tie rules.
Integer link lengths make ties exact, so the tie rules are exercised on purpose.  ~2 s.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import floyd_warshall

from leonet.errors import InputError
from leonet.hypatia.fstate import (
    FState,
    GroundLinksM,
    check_isl_lengths,
    forwarding_state,
    forwarding_state_gs_relays,
    gsl_in_range,
    interfaces,
    isl_lengths_m,
)


def _ref_interfaces(S: int, isl: np.ndarray) -> tuple[list[list[int]], list[list[int]], list[list[int]]]:
    """Per satellite, in the order the ISL list hands interfaces out: neighbour, ISL index, remote interface."""
    nbr: list[list[int]] = [[] for _ in range(S)]
    idx: list[list[int]] = [[] for _ in range(S)]
    for e, (a, b) in enumerate(isl.tolist()):
        nbr[a].append(b)
        idx[a].append(e)
        nbr[b].append(a)
        idx[b].append(e)
    remote = [[idx[n].index(e) if n != c else -1 for n, e in zip(nbr[c], idx[c], strict=True)] for c in range(S)]
    return nbr, idx, remote


def _random_isls(rng: np.random.Generator, S: int, m: int) -> np.ndarray:
    pairs = set()
    while len(pairs) < m:
        a, b = (int(x) for x in rng.integers(0, S, 2))
        if a != b and (a, b) not in pairs and (b, a) not in pairs:
            pairs.add((a, b))
    out = np.array(sorted(pairs), dtype=np.int64)
    return out[rng.permutation(len(out))]


@pytest.mark.parametrize("seed", range(4))
def test_interfaces_follow_the_isl_list_in_order(seed: int) -> None:
    rng = np.random.default_rng(seed)
    S = int(rng.integers(4, 15))
    isl = _random_isls(rng, S, int(rng.integers(1, 2 * S)))
    ifs = interfaces(S, isl)
    nbr, idx, remote = _ref_interfaces(S, isl)
    K = max(len(x) for x in nbr)
    assert ifs.nbr.shape == (S, K)
    for c in range(S):
        k = len(nbr[c])
        assert ifs.num_isls[c] == k
        assert ifs.nbr[c].tolist() == nbr[c] + [-1] * (K - k)
        assert ifs.isl[c].tolist() == idx[c] + [-1] * (K - k)
        assert ifs.remote[c].tolist() == remote[c] + [-1] * (K - k)
    as_list = interfaces(S, isl.astype(np.int32).tolist())  # any (E, 2) sequence of ids
    assert all(np.array_equal(x, y) for x, y in zip(as_list.__dict__.values(), ifs.__dict__.values(), strict=True))
    for empty in (np.empty((0, 2), np.int64), []):
        none = interfaces(3, empty)  # type: ignore[arg-type]
        assert none.nbr.shape == (3, 0) and none.num_isls.tolist() == [0, 0, 0]


def test_ground_links_in_range_against_numpy_past_the_first_buffer() -> None:
    """40 stations x 60 satellites, most pairs in range (> 1,024 links: the kernel's buffer grows twice), a
    link exactly at the maximum (inclusive) and one a metre past it, and a satellite without a position."""
    rng = np.random.default_rng(5)
    sat = rng.uniform(-1000.0, 1000.0, (60, 3))
    gnd = rng.uniform(-1000.0, 1000.0, (40, 3))
    sat[7] = np.nan
    gnd[0] = (0.0, 0.0, 0.0)
    sat[3] = (3000.0, 4000.0, 0.0)  # 5,000 m from station 0, exactly
    sat[4] = (0.0, 3000.0, 4000.000001)
    max_m = 5000.0
    got = gsl_in_range(sat, gnd, max_m)
    d = np.sqrt(((gnd[:, None, :] - sat[None, :, :]) ** 2).sum(axis=2))
    g, s = np.nonzero(d <= max_m)  # row-major: by station, then satellite
    assert len(g) > 2048
    assert got.ground.tolist() == g.tolist() and got.sat.tolist() == s.tolist()
    assert np.array_equal(got.length_m, d[g, s])
    links0 = set(got.sat[got.ground == 0].tolist())
    assert 3 in links0 and 4 not in links0 and 7 not in set(got.sat.tolist())
    empty = gsl_in_range(sat, gnd, 0.0)
    assert len(empty.ground) == len(empty.sat) == len(empty.length_m) == 0


def test_isl_length_check_allows_the_maximum_and_refuses_past_it_or_nan() -> None:
    sat = np.array([[0.0, 0.0, 0.0], [3.0, 4.0, 0.0], [3.0, 4.0, 1.0], [np.nan, 0.0, 0.0]])
    isl = np.array([[0, 1], [1, 2], [0, 2]], dtype=np.int64)
    lengths = isl_lengths_m(sat, isl)
    assert lengths.tolist() == [5.0, 1.0, float(np.sqrt(26.0))]
    check_isl_lengths(lengths, isl, float(np.sqrt(26.0)), 0)  # at the maximum: kept
    with pytest.raises(InputError) as e:
        check_isl_lengths(lengths, isl, 5.0, 7)
    assert str(e.value).startswith("isl: the ISL between satellites 0 and 2 is 5.10 m long at t = 7 ns")
    with pytest.raises(InputError, match="between satellites 0 and 3"):
        check_isl_lengths(isl_lengths_m(sat, np.array([[0, 3]])), np.array([[0, 3]]), 1e9, 0)


def _case(seed: int) -> tuple[int, int, np.ndarray, np.ndarray, GroundLinksM]:
    rng = np.random.default_rng(seed)
    S = int(rng.integers(5, 14))
    G = int(rng.integers(2, 5))
    isl = _random_isls(rng, S, int(rng.integers(S - 1, 2 * S)))
    isl_m = rng.integers(1, 4, len(isl)).astype(np.float64)
    links = sorted(
        {(int(g), int(s)) for g, s in zip(rng.integers(0, G, 3 * G), rng.integers(0, S, 3 * G), strict=True)}
    )
    gsl = GroundLinksM(
        np.array([g for g, _ in links], np.int64),
        np.array([s for _, s in links], np.int64),
        rng.integers(1, 4, len(links)).astype(np.float64),
    )
    return S, G, isl, isl_m, gsl


def _ref_over_isls(
    S: int, G: int, isl: np.ndarray, isl_m: np.ndarray, gsl: GroundLinksM
) -> tuple[np.ndarray, np.ndarray]:
    nbr, idx, remote = _ref_interfaces(S, isl)
    adj = sp.coo_matrix((np.r_[isl_m, isl_m], (np.r_[isl[:, 0], isl[:, 1]], np.r_[isl[:, 1], isl[:, 0]])), shape=(S, S))
    fw = floyd_warshall(adj.tocsr(), directed=True)
    gl = {(int(g), int(s)): float(x) for g, s, x in zip(gsl.ground, gsl.sat, gsl.length_m, strict=True)}
    D = np.full((G, S), np.inf)
    for (g, a), x in gl.items():
        D[g] = np.minimum(D[g], fw[:, a] + x)
    sat = np.full((S, G, 3), -1)
    for d in range(G):
        for c in range(S):
            if not D[d, c] < np.inf:
                continue
            best, kb = np.inf, -1
            for k, n in enumerate(nbr[c]):
                x = isl_m[idx[c][k]] + D[d, n]
                if x < best:  # the first strict minimum in interface order
                    best, kb = x, k
            if gl.get((d, c), np.inf) <= best:  # hand over where the own ground link is no longer
                sat[c, d] = (S + d, len(nbr[c]), 0)
            else:
                sat[c, d] = (nbr[c][kb], kb, remote[c][kb])
    gs = np.full((G, G, 3), -1)
    for g in range(G):
        for h in range(G):
            if g == h:
                continue
            cands = [(gl[(g, a)] + D[h, a], a) for (gg, a) in gl if gg == g and D[h, a] < np.inf]
            if cands:
                a = min(cands)[1]  # (distance, id): the lowest id on a tie
                gs[g, h] = (a, 0, len(nbr[a]))
    return sat, gs


@pytest.mark.parametrize("seed", range(12))
def test_forwarding_state_over_isls_against_floyd_warshall_and_the_tie_rules(seed: int) -> None:
    S, G, isl, isl_m, gsl = _case(seed)
    got = forwarding_state(S, interfaces(S, isl), isl, isl_m, gsl, G)
    sat, gs = _ref_over_isls(S, G, isl, isl_m, gsl)
    assert got.sat.tolist() == sat.tolist()
    assert got.gs.tolist() == gs.tolist()


def test_a_last_station_without_a_satellite_in_range_is_unreachable() -> None:
    """Stations after the last one with a ground link (none in range) leave the CSR rows of the last sources
    empty: every entry towards them, and theirs, is (-1, -1, -1); the others are still the reference's."""
    S, G, isl, isl_m, gsl = _case(3)
    keep = gsl.ground < G - 1
    gsl = GroundLinksM(gsl.ground[keep], gsl.sat[keep], gsl.length_m[keep])
    for G_ in (G, G + 2):
        got = forwarding_state(S, interfaces(S, isl), isl, isl_m, gsl, G_)
        sat, gs = _ref_over_isls(S, G_, isl, isl_m, gsl)
        assert got.sat.tolist() == sat.tolist() and got.gs.tolist() == gs.tolist()
        assert (got.sat[:, G - 1 :] == -1).all() and (got.gs[G - 1 :] == -1).all()
        relays = forwarding_state_gs_relays(S, gsl, G_)
        rs, rg = _ref_relays(S, G_, gsl)
        assert relays.sat.tolist() == rs.tolist() and relays.gs.tolist() == rg.tolist()


def _ref_relays(S: int, G: int, gsl: GroundLinksM) -> tuple[np.ndarray, np.ndarray]:
    N = S + G
    gl = {}
    for g, s, x in zip(gsl.ground, gsl.sat, gsl.length_m, strict=True):
        gl[(int(s), S + int(g))] = gl[(S + int(g), int(s))] = float(x)
    adj = sp.coo_matrix(([x for x in gl.values()], ([u for u, _ in gl], [v for _, v in gl])), shape=(N, N))
    fw = floyd_warshall(adj.tocsr(), directed=True) if gl else np.where(np.eye(N) > 0, 0.0, np.inf)
    sat = np.full((S, G, 3), -1)
    gs = np.full((G, G, 3), -1)
    for d in range(G):
        for x in range(N):
            if x == S + d:
                continue
            best, nb = np.inf, -1
            for n in sorted(v for (u, v) in gl if u == x):  # neighbours by id, the first strict minimum
                if fw[n, S + d] < np.inf and gl[(x, n)] + fw[n, S + d] < best:
                    best, nb = gl[(x, n)] + fw[n, S + d], n
            if nb >= 0:
                (sat[x, d] if x < S else gs[x - S, d])[:] = (nb, 0, 0)
    return sat, gs


@pytest.mark.parametrize("seed", range(12))
def test_forwarding_state_with_ground_relays_against_floyd_warshall(seed: int) -> None:
    S, G, _isl, _isl_m, gsl = _case(100 + seed)
    got = forwarding_state_gs_relays(S, gsl, G)
    sat, gs = _ref_relays(S, G, gsl)
    assert got.sat.tolist() == sat.tolist()
    assert got.gs.tolist() == gs.tolist()


def test_rows_are_in_satgenpys_file_order() -> None:
    S, G = 3, 4  # G != 3: the entries' own last axis
    sat = np.arange(S * G * 3).reshape(S, G, 3)
    gs = 100 + np.arange(G * G * 3).reshape(G, G, 3)
    rows = FState(sat, gs).rows()
    want = [[c, S + d, *sat[c, d]] for c in range(S) for d in range(G)]
    want += [[S + g, S + h, *gs[g, h]] for g in range(G) for h in range(G) if g != h]
    assert rows.tolist() == want and rows.dtype == np.int64
