"""The Python API's :class:`~leonet.results.Results` against references that do not go through leonet's code.

- ``positions(t)``: satellites against ``sgp4`` itself (``Satrec.sgp4`` at the Julian date of ``epoch + t``): the
  Earth-fixed frame is TEME turned about the z axis (``orbits/propagate.py``'s docstring, AIAA 2006-6753), so
  ``z`` and ``x**2 + y**2`` are SGP4's own and the turn is the same angle for every satellite; ground stations
  against PROJ's WGS-84 geodetic -> ECEF of the latitude / longitude / height the scenario gives; every node's
  lat / lon / alt against PROJ's ECEF -> geodetic of its own x / y / z.
- ``links(t)``: each link's length is the distance between its two nodes' positions (NumPy), its delay length /
  (fraction x c) with c the SI value (``C_KM_S``, pinned to it by test_no_silent_skips) and the scenario's
  fraction of that link's kind;
  a link is an ISL exactly when both ends are satellites (ids below S, ``nodes``' rule).
- ``nodes`` / the network argument: the rule of the docstrings (satellites ``0..S-1``, then the ground nodes;
  a network by name, by position, negative positions as for a list, None the first).
- ``run`` / ``run_prepared``: the rules of their docstrings (``workers`` 1: this process; more than one worker and
  more than one run of parts: forked workers; a run too large for the memory refused unless ``force``), and the
  pool's tables equal to the serial run's.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyproj
import pytest
from sgp4.api import jday

from leonet import budget, pool, results
from leonet.assembly import assemble
from leonet.constants import C_KM_S
from leonet.errors import InputError
from leonet.results import Results, run, run_prepared
from leonet.scenario import Scenario, parse_scenario

#: the speed of light in vacuum, km/s: leonet's one constant, which tests/test_no_silent_skips.py pins to the SI
#: definition of the metre
C_SI_KM_S = C_KM_S
ISL_F, GSL_F = 0.7, 0.9

STATIONS = [("Quito", -0.18, -78.47, 2850.0), ("Oslo", 59.91, 10.75, 20.0), ("Perth", -31.95, 115.86, 0.0)]


def _text(access: bool = False, end_s: int = 60) -> str:
    st = "".join(
        f'[[ground.stations]]\nname = "{n}"\nlat_deg = {la}\nlon_deg = {lo}\nalt_m = {h}\nkind = "terminal"\n'
        for n, la, lo, h in STATIONS
    )
    return f"""
epoch = 2026-02-23T00:00:00Z
pairs = [["Quito", "Oslo"], ["Oslo", "Perth"]]
[time]
end_s = {end_s}
step_s = 30
[[networks]]
name = "big"
constellation = {{ shells = [{{ altitude_km = 550, inclination_deg = 53, planes = 12, sats_per_plane = 12 }}] }}
isl_speed_fraction = {ISL_F}
ground_link_speed_fraction = {GSL_F}
min_elevation_deg = 10
[[networks]]
name = "small"
constellation = {{ shells = [{{ altitude_km = 1000, inclination_deg = 70, planes = 8, sats_per_plane = 9 }}] }}
min_elevation_deg = 10
[ground]
{st}""" + ("[access]\n" if access else "")


def _scenario(access: bool = False, end_s: int = 60) -> Scenario:
    return parse_scenario(_text(access, end_s), "r.toml")


@cache
def _res() -> Results:
    return run(_scenario(), workers=1)


_ECEF = pyproj.Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)  # WGS-84 geodetic -> ECEF (m)


@pytest.mark.parametrize("t", [0.0, 45.0])
@pytest.mark.parametrize("network", ["big", 1])
def test_positions_against_sgp4_and_proj(t: float, network: str | int) -> None:
    res = _res()
    net = res.prepared.networks[res._index(network)]
    S = net.n_sats
    p = res.positions(t, network).to_pydict()
    assert p["node_id"] == list(range(S + len(STATIONS)))
    assert p["kind"] == ["satellite"] * S + ["terminal"] * len(STATIONS)
    r = np.stack([p["x_km"], p["y_km"], p["z_km"]], axis=1)
    ep = res.scenario.epoch
    jd, fr = jday(ep.year, ep.month, ep.day, ep.hour, ep.minute, ep.second + t)
    teme = []
    for s in net.constellation.satrecs:
        e, rr, _v = s.sgp4(jd, fr)
        assert e == 0
        teme.append(rr)
    te = np.array(teme)
    np.testing.assert_allclose(r[:S, 2], te[:, 2], atol=1e-6)
    np.testing.assert_allclose(np.hypot(r[:S, 0], r[:S, 1]), np.hypot(te[:, 0], te[:, 1]), atol=1e-6)
    turn = np.angle((r[:S, 0] + 1j * r[:S, 1]) / (te[:, 0] + 1j * te[:, 1]))
    assert np.ptp(turn) < 1e-9 and abs(turn[0]) > 1e-3  # one rotation for all, and not none
    for k, (_n, la, lo, h) in enumerate(STATIONS):
        x, y, z = _ECEF.transform(lo, la, h)
        np.testing.assert_allclose(r[S + k], np.array([x, y, z]) / 1000.0, atol=1e-6)
        assert p["lat_deg"][S + k] == pytest.approx(la, abs=1e-9)
        assert p["lon_deg"][S + k] == pytest.approx(lo, abs=1e-9)
        assert p["alt_km"][S + k] == pytest.approx(h / 1000.0, abs=1e-9)
    lon, lat, h_m = _ECEF.transform(r[:, 0] * 1000, r[:, 1] * 1000, r[:, 2] * 1000, direction="INVERSE")
    np.testing.assert_allclose(p["lat_deg"], lat, atol=1e-9)
    np.testing.assert_allclose(p["lon_deg"], lon, atol=1e-9)
    np.testing.assert_allclose(np.array(p["alt_km"]) * 1000.0, h_m, atol=1e-5)
    assert min(p["alt_km"][:S]) > 500 and max(p["alt_km"][:S]) < 1100


@pytest.mark.parametrize("t", [0.0, 45.0])
@pytest.mark.parametrize(("network", "fractions"), [("big", (ISL_F, GSL_F)), ("small", (1.0, 1.0))])
def test_links_against_the_positions(t: float, network: str, fractions: tuple[float, float]) -> None:
    res = _res()
    S = res.prepared.networks[res._index(network)].n_sats
    p = res.positions(t, network).to_pydict()
    r = np.stack([p["x_km"], p["y_km"], p["z_km"]], axis=1)
    lk = res.links(t, network).to_pydict()
    u, v = np.array(lk["u"]), np.array(lk["v"])
    kind = np.array(lk["kind"])
    isl = (u < S) & (v < S)
    assert isl.sum() > S and (~isl).sum() >= 2  # lasers, and ground links
    assert ((kind == "isl") == isl).all() and set(kind) == {"isl", "ground"}
    assert (u[~isl] >= S).all() and (v[~isl] < S).all() and (u != v).all()
    seen = set(u[~isl].tolist())
    assert seen <= set(range(S, S + len(STATIONS))) and (network != "big" or len(seen) == len(STATIONS))
    km = np.linalg.norm(r[u] - r[v], axis=1)
    np.testing.assert_allclose(lk["length_km"], km, rtol=1e-12)
    f = np.where(isl, fractions[0], fractions[1])
    np.testing.assert_allclose(lk["delay_ms"], km / (f * C_SI_KM_S) * 1000.0, rtol=1e-12)


def test_the_network_argument() -> None:
    """None is the first network; a name, a position or a negative position picks one; anything else fails."""
    res = _res()
    sizes = [n.n_sats for n in res.prepared.networks]
    assert sizes == [144, 72]
    G = len(STATIONS)
    for arg, want in ((None, 0), ("big", 0), (0, 0), ("small", 1), (1, 1), (-1, 1), (-2, 0)):
        nodes = res.nodes(arg).to_pydict()
        net = res.prepared.networks[want]
        assert nodes["node_id"] == list(range(sizes[want] + G)), arg
        assert nodes["name"] == [*net.constellation.sat_names, *(s[0] for s in STATIONS)], arg
        assert res.positions(0.0, arg).num_rows == sizes[want] + G, arg
        assert res.links(0.0, arg).equals(res.links(0.0, want)), arg
    assert res.nodes().equals(res.nodes("big")) and not res.nodes().equals(res.nodes("small"))
    with pytest.raises(KeyError, match="no network 'tiny'"):
        res.nodes("tiny")
    with pytest.raises(IndexError):
        res.nodes(2)


def test_networks_table_counts_no_unusable_satellites() -> None:
    res = _res()
    assert res.networks.column("network").to_pylist() == ["big", "small"]
    assert res.networks.column("unusable_sats").to_pylist() == [0, 0]
    assert res.unusable_sats == {"big": 0, "small": 0}
    assert res.world is res.prepared and res.warnings == ()


class _Pooled(Exception):
    pass


def _spy(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """``results._run_on_pool`` replaced by one that records its ``workers`` and stops the run."""
    calls: list[int] = []

    def spy(prep: object, tasks: object, workers: int, progress: object) -> Results:
        calls.append(workers)
        raise _Pooled

    monkeypatch.setattr(results, "_run_on_pool", spy)
    return calls


@pytest.mark.skipif(not pool.available(), reason="no fork")
def test_which_runs_go_to_the_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two networks are two parts, so two runs on two or more workers: the pool; one worker (0 is 1), a
    daemonic process or a single part: this process.  ``workers=None``: ``LEONET_WORKERS``."""
    calls = _spy(monkeypatch)
    prep = assemble(_scenario())
    for w in (2, 3):
        with pytest.raises(_Pooled):
            run_prepared(prep, workers=w)
    assert calls == [2, 3]
    for w in (0, 1):
        assert run_prepared(prep, workers=w).routes.num_rows == 2 * 2 * 3
    monkeypatch.setenv("LEONET_WORKERS", "1")
    run_prepared(prep)
    run_prepared(prep, workers=None)
    monkeypatch.setenv("LEONET_WORKERS", "2")
    with pytest.raises(_Pooled):
        run_prepared(prep)
    run_prepared(prep, workers=1)  # an explicit figure wins over the environment
    monkeypatch.setenv("LEONET_WORKERS", "1")
    with pytest.raises(_Pooled):
        run_prepared(prep, workers=2)
    one_net = _text().split('[[networks]]\nname = "small"')[0] + _text().split("min_elevation_deg = 10\n")[-1]
    single = assemble(parse_scenario(one_net))
    assert len(single.networks) == 1
    run_prepared(single, workers=2)  # one part: one run
    monkeypatch.setattr(results, "_daemonic", lambda: True)
    run_prepared(prep, workers=2)
    monkeypatch.setattr(results, "_daemonic", lambda: False)
    _small_parts(monkeypatch, 1)  # parts of one snapshot: 2 networks x T snapshots are 2 T parts, which make
    T = pool.RUN_PARTS // 2 + 1  # more than one run of RUN_PARTS even on one worker
    long = assemble(_scenario(end_s=30 * (T - 1)))
    assert len(long.times_s) == T and len(pool.runs_of(parts_plan(long), 1)) == 2
    run_prepared(long, workers=1)  # one worker: this process, however many runs of parts
    with pytest.raises(_Pooled):
        run_prepared(long, workers=2)
    monkeypatch.setattr(pool, "available", lambda: False)
    run_prepared(prep, workers=2)
    assert calls == [2, 3, 2, 2, 2]


def parts_plan(prep: object) -> list[Any]:
    from leonet import parts

    return parts.plan(prep)  # type: ignore[arg-type]


def _small_parts(monkeypatch: pytest.MonkeyPatch, size: int) -> None:
    """``parts.plan`` with parts of ``size`` snapshots (the runs' default is 256: one part for these windows)."""
    from leonet import parts

    real = parts.plan
    monkeypatch.setattr(parts, "plan", lambda prep, chunk_snapshots=size: real(prep, chunk_snapshots))


def test_a_run_too_large_for_the_memory_is_refused_unless_forced(monkeypatch: pytest.MonkeyPatch) -> None:
    """``run`` keeps the routes in memory: the in-memory budget (rows x MEMORY_BYTES_PER_ROW) applies, not only
    the summaries' (budget.check_output's docstring); ``force=True`` lifts it."""
    monkeypatch.setattr(budget, "available_memory_bytes", lambda: 10**10)  # room for the summaries (0.7 GB)
    monkeypatch.setattr(budget, "MEMORY_BYTES_PER_ROW", 10**9)  # but not for 12 rows of 1 GB
    sc = _scenario()
    with pytest.raises(InputError, match="fits in memory"):
        run(sc, workers=1)
    with pytest.raises(InputError, match="fits in memory"):
        run_prepared(assemble(sc), workers=1)
    assert run(sc, workers=1, force=True).routes.num_rows == 12
    assert run_prepared(assemble(sc), workers=1, force=True).routes.num_rows == 12


def _plain(t: pa.Table) -> pa.Table:
    fields = [f.with_type(f.type.value_type) if pa.types.is_dictionary(f.type) else f for f in t.schema]
    return t.cast(pa.schema(fields))


@pytest.mark.skipif(not pool.available(), reason="no fork")
def test_the_pool_run_equals_the_serial_run_with_its_access_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two networks on two forked workers, in parts of two snapshots (so that parts start after the first
    snapshot): the same routes (in the serial order), summaries, service and access rows as one process, and
    ``progress`` counts each network's snapshots."""
    _small_parts(monkeypatch, 2)
    sc = _scenario(access=True)
    seen_one: list[int] = []
    seen_two: list[int] = []
    one = run(sc, progress=seen_one.append, workers=1)
    two = run(sc, progress=seen_two.append, workers=2)
    assert sum(seen_two) == sum(seen_one) == 2 * 3
    assert two.routes.equals(one.routes) and two.routes.num_rows == 12
    assert two.summary.equals(one.summary) and two.networks.equals(one.networks)
    assert two.service.equals(one.service) and two.terminals.equals(one.terminals)
    assert isinstance(one.access, pa.Table) and isinstance(two.access, pa.Table)
    assert one.access.num_rows == 2 * 3 * len(STATIONS)
    assert _plain(two.access).equals(_plain(one.access))
    assert run(sc, workers=2).routes.equals(one.routes)  # without progress


def test_streamed_results_read_from_a_moved_folder(tmp_path: Path) -> None:
    """``run_to_parquet`` streams the routes to a file (a dataset; the access rows stay a table) with the rows
    of the in-memory run; ``reading_from(folder)`` re-points streamed routes (and streamed access rows, as
    ``read_results`` gives them) at ``folder/routes/`` and ``folder/access/``, and leaves in-memory tables."""
    from leonet import store
    from leonet.readback import read_results

    sc = _scenario(access=True)
    mem = run(sc, workers=1)
    assert mem.reading_from(tmp_path) is mem
    streamed = results.run_to_parquet(assemble(sc), tmp_path / "routes.parquet")
    assert not isinstance(streamed.routes, pa.Table) and isinstance(streamed.access, pa.Table)
    assert _plain(streamed.routes_table()).equals(_plain(mem.routes_table()))
    assert _plain(streamed.access).equals(_plain(mem.access))
    out = store.write_results(mem, tmp_path / "out")
    moved = tmp_path / "moved"
    back = read_results(out)
    out.rename(moved)
    for got in (streamed.reading_from(moved), back.reading_from(moved)):
        assert all(Path(f).is_relative_to(moved) for f in got.routes.files)
        assert _plain(got.routes_table()).equals(_plain(mem.routes_table()))
    kept = streamed.reading_from(moved)
    assert kept.access is streamed.access  # a table stays
    acc = back.reading_from(moved).access
    assert not isinstance(acc, pa.Table) and acc is not None
    assert all(Path(f).is_relative_to(moved) for f in acc.files)
    assert _plain(back.reading_from(moved).access_table()).equals(_plain(mem.access_table()))


def test_access_tables_and_their_absence() -> None:
    """With ``[access]``: ``access_table`` adds ``rtt_ms`` = 2 x one-way, ``access_summary`` per network (in the
    scenario's order) is the served share and NumPy's linear median / p95 of those RTTs; without it the access
    rows are None and asking for them is a ValueError."""
    res = _res()
    assert res.access is None
    for ask in (res.access_table, res.access_summary, lambda: res.access_pairs([("Quito", "Oslo")])):
        with pytest.raises(ValueError, match=r"no \[access\] section"):
            ask()
    acc = run(_scenario(access=True), workers=1)
    table = acc.access_table()
    ow = table.column("one_way_ms").to_numpy(zero_copy_only=False).astype(float)
    rtt = table.column("rtt_ms").to_numpy(zero_copy_only=False).astype(float)
    np.testing.assert_array_equal(np.isnan(rtt), np.isnan(ow))
    np.testing.assert_allclose(rtt[~np.isnan(ow)], 2 * ow[~np.isnan(ow)], rtol=1e-15)
    summ = acc.access_summary().to_pylist()
    assert [s["network"] for s in summ] == ["big", "small"]
    nets = np.array(table.column("network").to_pylist())
    for s in summ:
        r = rtt[nets == s["network"]]
        assert s["rows"] == len(r) == 3 * len(STATIONS)
        assert s["served_share"] == pytest.approx(np.isfinite(r).mean())
        if np.isfinite(r).any():
            assert s["rtt_median_ms"] == pytest.approx(np.median(r[np.isfinite(r)]))
            assert s["rtt_p95_ms"] == pytest.approx(np.percentile(r[np.isfinite(r)], 95))
    pairs = acc.access_pairs([("Quito", "Oslo")])
    assert pairs.num_rows == 2 * 3
