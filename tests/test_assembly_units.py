"""``leonet.assembly`` piece by piece, each against a rule written out from its docstring or the README:

- ground nodes: "cities, then gateways, then stations, then the tracks files' terminals" (``ground_from_spec``),
  with Hypatia's stations after the gateways (``GroundSpec.hypatia``); a node with a track is placed at its
  first track point; the expected names / positions are the ones the test writes into its files, and
  ``catalog.cities()`` / ``catalog.gateways()`` for the shipped lists;
- constellations: sources one after another, grid and ISL indices shifted by the satellites before them;
  a TLE without a name line is named by its catalog number (columns 3-7 of line 1, the TLE format); element
  sets made by ``sgp4``'s own ``sgp4init`` + ``exporter.export_tle`` at chosen epochs;
- the element-age warning: ``max(|spread + t0|, |spread + t1|) > 14`` days, spread = scenario epoch - element
  set epoch (days), t0 / t1 the window's ends, recomputed here from the epochs the test chose;
- the storm faults' altitude: mean semi-major axis less SGP4's Earth radius (``sgp4`` ``Satrec.a`` x
  ``radiusearthkm``; leonet.faults' storm rule).
"""

from __future__ import annotations

import pickle
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import pytest
from sgp4.api import WGS72, Satrec
from sgp4.exporter import export_tle

from leonet import assembly, catalog
from leonet.errors import InputError
from leonet.scenario import Scenario, load_scenario, parse_scenario

EPOCH = datetime(2026, 2, 23, tzinfo=UTC)
_GEOD = pyproj.Geod(ellps="WGS84")


def _tle(num: int, epoch: datetime, raan_deg: float = 0.0, mean_anomaly_deg: float = 0.0) -> tuple[str, str]:
    """A 550 km, 53 deg circular orbit at ``epoch`` as TLE lines (sgp4's own initialiser and exporter)."""
    s = Satrec()
    days = (epoch - datetime(1949, 12, 31, tzinfo=UTC)).total_seconds() / 86400.0
    n_rad_min = 2 * np.pi / 95.6  # ~550 km
    s.sgp4init(WGS72, "i", num, days, 0.0, 0.0, 0.0, 1e-7, np.radians(0.0), np.radians(53.0),
               np.radians(mean_anomaly_deg % 360), n_rad_min, np.radians(raan_deg % 360))  # fmt: skip
    l1, l2 = export_tle(s)
    return str(l1), str(l2)


def _write_tle(path: Path, epochs: list[datetime], names: bool = True) -> Path:
    lines = []
    for k, ep in enumerate(epochs):
        l1, l2 = _tle(40000 + k, ep, raan_deg=30.0 * k, mean_anomaly_deg=45.0 * k)
        lines += ([f"SAT {k}"] if names else []) + [l1, l2]
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    return path


def _scenario(tmp_path: Path, body: str, name: str = "s.toml") -> Scenario:
    (tmp_path / name).write_text(body, encoding="utf-8")
    return load_scenario(tmp_path / name)


HEAD = 'epoch = 2026-02-23T00:00:00Z\npairs = "none"\n[time]\nend_s = 60\nstep_s = 60\n'


def _one_net(name: str, constellation: str) -> str:
    return HEAD + f'[[networks]]\nname = "{name}"\nconstellation = {constellation}\n[ground]\ncities = 2\n'


WALKER = (
    '[[networks]]\nname = "w"\nconstellation = { shells = [{ altitude_km = 550, inclination_deg = 53, '
    "planes = 6, sats_per_plane = 6 }] }\n"
)


# --- ground nodes --------------------------------------------------------------------------------------------


def test_ground_nodes_in_the_documented_order(tmp_path: Path) -> None:
    (tmp_path / "gs.txt").write_text("0,Hyp-A,10.5,20.25,30\n1,Hyp-B,-5,-60,0\n", encoding="ascii")
    (tmp_path / "many.csv").write_text(
        "terminal_id,t_s,lat_deg,lon_deg,alt_m\n"
        "boat,0,40.0,-30.0,5\nboat,600,40.1,-30.1,5\n"
        "plane,0,50.0,0.0,10000\nplane,600,50.5,1.0,11000\n",
        encoding="ascii",
    )
    (tmp_path / "one.csv").write_text("t_s,lat_deg,lon_deg\n0,-20,100\n600,-20.2,100.4\n", encoding="ascii")
    (tmp_path / "extra.csv").write_text(
        "terminal_id,t_s,lat_deg,lon_deg,alt_m\n"
        "truck,0,35,139,100\ntruck,600,35.05,139.1,200\ncar,0,-33,151,0\ncar,600,-33,151.1,5\n",
        encoding="ascii",
    )
    sc = _scenario(
        tmp_path,
        HEAD + WALKER + '[ground]\ncities = 3\ncities_kind = "terminal"\ngateways = "starlink"\nhypatia = "gs.txt"\n'
        'tracks = ["extra.csv"]\n'
        '[[ground.stations]]\nname = "Fixed"\nlat_deg = 1.5\nlon_deg = 2.5\nalt_m = 7\nmin_elevation_deg = 33\n'
        'kind = "gateway"\n'
        '[[ground.stations]]\nname = "plane"\ntrack = "many.csv"\nkind = "terminal"\n'
        '[[ground.stations]]\nname = "Solo"\ntrack = "one.csv"\nkind = "terminal"\n',
    )
    g = assembly.ground_from_spec(sc.ground, sc.epoch, sc.resolve)
    cities = catalog.cities()[:3]
    gws = catalog.gateways()
    names = [c.name for c in cities] + [p.name for p in gws] + ["Hyp-A", "Hyp-B", "Fixed", "plane", "Solo"]
    names += ["truck", "car"]
    assert list(g.names) == names
    kinds = ["terminal"] * 3 + ["gateway"] * len(gws) + ["station"] * 2 + ["gateway", "terminal", "terminal"]
    assert list(g.kind) == [*kinds, "terminal", "terminal"]
    first = [(c.lat_deg, c.lon_deg, c.alt_m) for c in cities] + [(p.lat_deg, p.lon_deg, p.alt_m) for p in gws]
    first += [(10.5, 20.25, 30.0), (-5.0, -60.0, 0.0), (1.5, 2.5, 7.0), (50.0, 0.0, 10000.0), (-20.0, 100.0, 0.0)]
    first += [(35.0, 139.0, 100.0), (-33.0, 151.0, 0.0)]  # each track's first point
    np.testing.assert_array_equal(np.stack([g.lat_deg, g.lon_deg, g.alt_m], axis=1), np.array(first))
    el = np.full(len(names), np.nan)
    el[names.index("Fixed")] = 33.0
    np.testing.assert_array_equal(g.min_elevation_deg, el)
    n0 = names.index("plane")
    assert g.moving.tolist() == [n0, n0 + 1, n0 + 2, n0 + 3]
    assert g.tracks is not None and g.tracks.count.tolist() == [2, 2, 2, 2]
    assert g.tracks.lat_deg[g.tracks.start].tolist() == [50.0, -20.0, 35.0, -33.0]
    # the pairs' great-circle distance at rest is between the first track points (pyproj's geodesic)
    sc2 = sc.model_copy(update={"pairs": [["plane", "Solo"], ["Fixed", "truck"]]})
    w = assembly.assemble(sc2)
    for k, (a, b) in enumerate([(n0, n0 + 1), (names.index("Fixed"), n0 + 2)]):
        ref = _GEOD.inv(first[a][1], first[a][0], first[b][1], first[b][0])[2] / 1000.0
        assert w.gc_km[k] == pytest.approx(ref, rel=1e-9)


def test_a_station_track_is_found_by_name_or_alone(tmp_path: Path) -> None:
    (tmp_path / "two.csv").write_text(
        "terminal_id,t_s,lat_deg,lon_deg\na,0,1,1\na,60,1,1.01\nb,0,2,2\nb,60,2,2.01\n", encoding="ascii"
    )
    (tmp_path / "one.csv").write_text("t_s,lat_deg,lon_deg\n0,3,3\n60,3,3.01\n", encoding="ascii")
    base = HEAD + WALKER + "[ground]\n"

    def st(name: str, track: str) -> str:
        return f'[[ground.stations]]\nname = "{name}"\ntrack = "{track}"\nkind = "terminal"\n'

    sc = _scenario(tmp_path, base + st("b", "two.csv") + st("other", "one.csv") + st("a", "two.csv"))
    g = assembly.ground_from_spec(sc.ground, sc.epoch, sc.resolve)
    assert g.lat_deg.tolist() == [2.0, 3.0, 1.0]
    with pytest.raises(ValueError, match="epoch"):
        assembly.ground_from_spec(sc.ground, None, sc.resolve)
    sc = _scenario(tmp_path, base + st("c", "two.csv") + st("d", "one.csv"))
    with pytest.raises(InputError, match=r"ground.stations\[0\].track.*no track 'c'"):
        assembly.ground_from_spec(sc.ground, sc.epoch, sc.resolve)


def test_cities_as_a_number_are_the_first_of_the_shipped_list(tmp_path: Path) -> None:
    sc = _scenario(tmp_path, HEAD + WALKER + "[ground]\ncities = 5\n")
    g = assembly.ground_from_spec(sc.ground, sc.epoch, sc.resolve)
    assert list(g.names) == [c.name for c in catalog.cities()[:5]] and list(g.kind) == ["station"] * 5
    assert assembly.ground_from_spec(sc.ground.model_copy(update={"cities": 0})).size == 0


# --- constellations --------------------------------------------------------------------------------------------


def test_sources_follow_one_another_with_shifted_indices(tmp_path: Path) -> None:
    """A 4 x 5 shell, then a TLE file of 6 satellites on a 2 x 3 grid, then a preset-free 3 x 3 shell: each
    source's grid starts after the satellites before it, ISL pairs are shifted the same way, and only the TLE
    satellites are observed (real element sets)."""
    _write_tle(tmp_path / "six.tle", [EPOCH] * 6)
    sc = _scenario(
        tmp_path,
        HEAD + '[[networks]]\nname = "mix"\nconstellation = [\n'
        "  { shells = [{ altitude_km = 550, inclination_deg = 53, planes = 4, sats_per_plane = 5 }] },\n"
        '  { tle = "six.tle", grid = [2, 3] },\n'
        "  { shells = [{ altitude_km = 700, inclination_deg = 80, planes = 3, sats_per_plane = 3 }] },\n"
        "]\n[ground]\ncities = 2\n",
    )
    w = assembly.assemble(sc)
    net = w.networks[0]
    c = net.constellation
    assert net.n_sats == 20 + 6 + 9 and len(c.sat_names) == 35
    assert list(c.sat_names[20:26]) == [f"SAT {k}" for k in range(6)]
    assert [(gr.first, gr.planes, gr.sats_per_plane) for gr in c.grids] == [(0, 4, 5), (20, 2, 3), (26, 3, 3)]
    assert c.observed_mask().tolist() == [False] * 20 + [True] * 6 + [False] * 9
    # +Grid ISLs of each grid stay inside it: 4 x 5 wrapped (2 per satellite), 2 x 3 and 3 x 3
    isl = net.isl
    assert isl.dtype == np.int32 and isl.shape[1] == 2 and len(isl) == len(np.unique(isl, axis=0))
    for lo, hi in ((0, 20), (20, 26), (26, 35)):
        inside = (isl[:, 0] >= lo) & (isl[:, 0] < hi)
        assert ((isl[inside, 1] >= lo) & (isl[inside, 1] < hi)).all()
        assert inside.sum() > 0
    assert ((isl[:, 0] < 20).sum(), (isl[:, 0] >= 26).sum()) == (40, 18)
    assert len(net.max_r_km) == 35 and (net.max_r_km > 6378.0 + 500).all()
    assert assembly.declared_satellites(sc.networks[0]) == 20 + 9


def test_tle_names_grid_auto_and_omm_formats(tmp_path: Path) -> None:
    """Without a name line a satellite is named by its catalog number (line 1, columns 3-7); ``grid = "auto"``
    infers the ISLs; a grid that does not multiply to the file's count is an error naming the file; ``.CSV``
    (any case) is read as OMM CSV."""
    _write_tle(tmp_path / "bare.tle", [EPOCH] * 4, names=False)
    sc = _scenario(tmp_path, _one_net("t", '{ tle = "bare.tle" }'))
    w = assembly.assemble(sc)
    assert list(w.networks[0].constellation.sat_names) == ["40000", "40001", "40002", "40003"]
    assert w.networks[0].constellation.grids == ()
    bad = HEAD + '[[networks]]\nname = "t"\nconstellation = { tle = "bare.tle", grid = [3, 2] }\n[ground]\ncities = 2\n'
    with pytest.raises(InputError, match=r"grid 3 x 2 = 6 satellites, file has 4"):
        assembly.assemble(_scenario(tmp_path, bad))
    ok = bad.replace("[3, 2]", "[2, 2]")
    net = assembly.assemble(_scenario(tmp_path, ok)).networks[0]
    assert [(g.first, g.planes, g.sats_per_plane) for g in net.constellation.grids] == [(0, 2, 2)]
    l1, l2 = _tle(40000, EPOCH)
    s = Satrec.twoline2rv(l1, l2, WGS72)
    header = "OBJECT_NAME,OBJECT_ID,EPOCH,MEAN_MOTION,ECCENTRICITY,INCLINATION,RA_OF_ASC_NODE,ARG_OF_PERICENTER,"
    header += "MEAN_ANOMALY,EPHEMERIS_TYPE,CLASSIFICATION_TYPE,NORAD_CAT_ID,ELEMENT_SET_NO,REV_AT_EPOCH,BSTAR,"
    header += "MEAN_MOTION_DOT,MEAN_MOTION_DDOT\n"
    mm = s.no_kozai * 1440 / (2 * np.pi)
    row = f"OMM-1,2026-001A,2026-02-23T00:00:00.000000,{mm:.8f},0.0000001,53.0,0.0,0.0,0.0,0,U,40000,999,0,0.0,0,0\n"
    (tmp_path / "o.CSV").write_text(header + row, encoding="ascii")
    sc = _scenario(tmp_path, _one_net("o", '{ omm = "o.CSV" }'))
    assert list(assembly.assemble(sc).networks[0].constellation.sat_names) == ["OMM-1"]


def test_bent_pipe_has_no_isls(tmp_path: Path) -> None:
    sc = _scenario(tmp_path, HEAD + WALKER + 'isl = "none"\n[ground]\ncities = 2\n')
    isl = assembly.assemble(sc).networks[0].isl
    assert isl.shape == (0, 2) and isl.dtype == np.int32


# --- element ages ---------------------------------------------------------------------------------------------


D = 86400


@pytest.mark.parametrize(
    ("ages", "start_s", "end_s", "old"),
    [
        ([0.0, 13.0, 20.0], 0, 60, [False, False, True]),  # element sets 0, 13 and 20 days before the epoch
        ([-15.0, 0.0, 0.0], 0, 60, [True, False, False]),  # 15 days after the epoch: old too (|.|)
        ([13.5, 0.0, 0.0], 0, D, [True, False, False]),  # 13.5 days before + a one-day window: 14.5 at its end
        ([-16.0, 0.0, 0.0], 3 * D, 4 * D, [False, False, False]),  # 16 days after, window 3-4 days: 13 and 12
        ([10.0, 0.0, 0.0], 0, 5 * D, [True, False, False]),  # 10 days before, a five-day window: 15 at its end
        ([1.0, 2.0, 3.0], 0, 60, [False, False, False]),
    ],
)
def test_element_age_warning(tmp_path: Path, ages: list[float], start_s: int, end_s: int, old: list[bool]) -> None:
    _write_tle(tmp_path / "e.tle", [EPOCH - timedelta(days=a) for a in ages])
    body = (
        f'epoch = 2026-02-23T00:00:00Z\npairs = "none"\n[time]\nstart_s = {start_s}\nend_s = {end_s}\n'
        f'step_s = {end_s - start_s}\n[[networks]]\nname = "e"\nconstellation = {{ tle = "e.tle" }}\n'
        "[ground]\ncities = 2\n"
    )
    sc = _scenario(tmp_path, body)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        w = assembly.assemble(sc)
    spread = np.array(ages)
    age = np.maximum(np.abs(spread + start_s / 86400), np.abs(spread + end_s / 86400))
    got = [str(c.message) for c in caught if issubclass(c.category, assembly.LeonetWarning)]
    if not any(old):
        assert w.warnings == () and got == []
        return
    assert got == list(w.warnings) and len(got) == 1
    assert f"{sum(old)} of 3 element sets are more than 14 days" in got[0]
    assert f"(the farthest {age.max():,.1f} days)" in got[0]
    assert got[0].startswith("network 'e': ")


def test_no_element_set_no_warning(tmp_path: Path) -> None:
    """Walker shells are no element sets: no age, however far the window (a year)."""
    body = HEAD.replace("end_s = 60\nstep_s = 60", "start_s = 31536000\nend_s = 31536000") + WALKER
    with warnings.catch_warnings():
        warnings.simplefilter("error", assembly.LeonetWarning)
        w = assembly.assemble(_scenario(tmp_path, body + "[ground]\ncities = 2\n"))
    assert w.warnings == ()


def test_a_pickled_world_is_reassembled_without_warning_again(tmp_path: Path) -> None:
    _write_tle(tmp_path / "e.tle", [EPOCH - timedelta(days=30)] * 2)
    body = HEAD + '[[networks]]\nname = "e"\nconstellation = { tle = "e.tle" }\n[ground]\ncities = 2\n'
    sc = _scenario(tmp_path, body)
    with pytest.warns(assembly.LeonetWarning):
        w = assembly.assemble(sc, force=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        back = pickle.loads(pickle.dumps(w))
    assert not caught
    assert back.force is True and back.warnings == w.warnings and back.scenario == w.scenario
    np.testing.assert_array_equal(back.networks[0].isl, w.networks[0].isl)


# --- the world ------------------------------------------------------------------------------------------------


def test_world_fields(tmp_path: Path) -> None:
    sc = _scenario(
        tmp_path,
        HEAD.replace('pairs = "none"', 'pairs = [["London", "Paris"]]')
        + WALKER
        + '[ground]\ncities = ["London", "Paris", "Madrid"]\ncities_kind = "terminal"\n'
        '[[ground.stations]]\nname = "GW"\nlat_deg = 45\nlon_deg = 5\nkind = "gateway"\n',
    )
    w = assembly.assemble(sc)
    assert w.terminals.tolist() == [0, 1, 2] and w.terminals.dtype == np.int64
    assert w.policy is None and w.fleet is None and w.access is None
    assert w.faults == (None,) and w.faults_of(0) is None and w.faults_of(5) is None
    assert w.times_s.tolist() == [0.0, 60.0] and w.src.tolist() == [0] and w.dst.tolist() == [1]
    a, b = catalog.city("London"), catalog.city("Paris")
    ref = _GEOD.inv(a.lon_deg, a.lat_deg, b.lon_deg, b.lat_deg)[2] / 1000.0
    assert w.gc_km.shape == (1,) and w.gc_km[0] == pytest.approx(ref, rel=1e-9)
    est = w.estimate()
    assert (est.snapshots, est.pairs, est.networks, est.access_terminals) == (2, 1, 1, 0)
    assert assembly.Prepared is assembly.World


def test_too_few_ground_nodes_and_unknown_report_pairs(tmp_path: Path) -> None:
    one = HEAD + WALKER + '[[ground.stations]]\nname = "A"\nlat_deg = 1\nlon_deg = 1\n'
    with pytest.raises(InputError, match=r"1 ground node\(s\); expected at least two"):
        assembly.assemble(_scenario(tmp_path, one))
    two = one + '[[ground.stations]]\nname = "B"\nlat_deg = 2\nlon_deg = 2\n'
    assert assembly.assemble(_scenario(tmp_path, two)).ground.size == 2
    rep = two.replace('pairs = "none"\n', 'pairs = "none"\n[report]\npairs = [["A", "B"], ["B", "Nowhere"]]\n')
    with pytest.raises(InputError, match=r"s.toml: report.pairs\[1\]\[1\]"):
        assembly.assemble(_scenario(tmp_path, rep))


def test_errors_are_prefixed_with_the_scenario_once(tmp_path: Path) -> None:
    """A field's error names the scenario file; one that names a file already (absolute, relative, or
    ``<...>``), or the scenario itself, is left as it is."""
    _write_tle(tmp_path / "bare.tle", [EPOCH] * 4, names=False)
    bad = HEAD + '[[networks]]\nname = "t"\nconstellation = { tle = "bare.tle", grid = [3, 2] }\n[ground]\ncities = 2\n'
    sc = _scenario(tmp_path, bad)
    with pytest.raises(InputError) as ei:
        assembly.assemble(sc)
    assert ei.value.where == str(tmp_path / "bare.tle")  # the file, absolute: not prefixed
    text = parse_scenario(bad.replace("bare.tle", str(tmp_path / "bare.tle")), "<text>")
    with pytest.raises(InputError) as ei:
        assembly.assemble(text)
    assert ei.value.where == str(tmp_path / "bare.tle")
    pairs = HEAD.replace('pairs = "none"', 'pairs = [["A", "A"]]') + WALKER + "[ground]\ncities = 2\n"
    pairs = pairs.replace('[["A", "A"]]', f'[["{catalog.cities()[0].name}", "{catalog.cities()[0].name}"]]')
    with pytest.raises(InputError) as ei:
        assembly.assemble(_scenario(tmp_path, pairs))
    assert ei.value.where == f"{tmp_path / 's.toml'}: pairs[0]"


def test_a_network_too_large_is_refused_before_it_is_built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The point of the satellite budget (leonet.budget: a typo such as ``planes = 100000`` becomes one clear
    error): a network's declared satellites are checked before its constellation is built, also when
    ``assemble_network`` is called for that network alone."""
    from leonet import budget

    monkeypatch.setattr(budget, "available_memory_bytes", lambda: 1_000_000)  # 100 satellites at 8 kB each
    huge = HEAD + WALKER.replace("planes = 6, sats_per_plane = 6", "planes = 20, sats_per_plane = 20")
    sc = _scenario(tmp_path, huge + "[ground]\ncities = 2\n")

    def never(*args: object) -> None:
        raise AssertionError("the constellation was built before the budget check")

    monkeypatch.setattr(assembly, "constellation_from_spec", never)
    with pytest.raises(InputError, match="network 'w'"):
        assembly.assemble_network(sc.networks[0], sc)
    with pytest.raises(InputError, match="networks"):
        assembly.assemble(sc)


def test_inferred_isls_are_shifted_past_the_sources_before(tmp_path: Path) -> None:
    """A TLE source with ``grid = "auto"`` after a 4 x 5 shell: its inferred ISL pairs (``infer_isls_at`` of the
    file alone) come out shifted by the 20 satellites before it."""
    from leonet.orbits.planes import infer_isls_at

    eps = [EPOCH] * 8
    lines = []
    for k, ep in enumerate(eps):  # two planes of four, 90 deg apart in the plane
        l1, l2 = _tle(41000 + k, ep, raan_deg=0.0 if k < 4 else 20.0, mean_anomaly_deg=90.0 * (k % 4))
        lines += [f"P{k}", l1, l2]
    (tmp_path / "auto.tle").write_text("\n".join(lines) + "\n", encoding="ascii")
    sc = _scenario(
        tmp_path,
        HEAD + '[[networks]]\nname = "mix"\nconstellation = [\n'
        "  { shells = [{ altitude_km = 550, inclination_deg = 53, planes = 4, sats_per_plane = 5 }] },\n"
        '  { tle = "auto.tle", grid = "auto" },\n]\n[ground]\ncities = 2\n',
    )
    w = assembly.assemble(sc)
    alone = assembly.assemble(_scenario(tmp_path, _one_net("a", '{ tle = "auto.tle", grid = "auto" }'), "a.toml"))
    own = alone.networks[0].constellation.isl_pairs
    ref = infer_isls_at([Satrec.twoline2rv(lines[3 * k + 1], lines[3 * k + 2], WGS72) for k in range(8)], EPOCH)
    np.testing.assert_array_equal(own, ref.isls)
    assert len(own) > 0
    np.testing.assert_array_equal(w.networks[0].constellation.isl_pairs, own + 20)
    isl = {tuple(p) for p in w.networks[0].isl.tolist()}
    assert {tuple(p) for p in (own + 20).tolist()} <= isl


def test_storm_altitudes_are_the_mean_altitudes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A storm below 800 km of a network with a 550 km and a 1,100 km shell takes (fraction 1) exactly the
    550 km shell; the altitudes handed to ``compile_faults`` are ``Satrec.a`` x ``radiusearthkm`` less that
    radius, within a few km of the declared shells, and not read at all (NaN) without a storm."""
    body = (
        HEAD + '[[networks]]\nname = "two"\nconstellation = { shells = [\n'
        "  { altitude_km = 550, inclination_deg = 53, planes = 3, sats_per_plane = 4 },\n"
        "  { altitude_km = 1100, inclination_deg = 70, planes = 2, sats_per_plane = 3 },\n]}\n"
        "[ground]\ncities = 2\n"
    )
    seen: list[np.ndarray] = []
    from leonet.faults import compile_faults as real

    def spy(*args: Any) -> Any:
        seen.append(np.asarray(args[3]))
        return real(*args)

    monkeypatch.setattr(assembly, "compile_faults", spy)
    storm = body + '[[faults]]\nkind = "storm"\nstart_s = 0\nbelow_km = 800\nfraction = 1\n'
    w = assembly.assemble(_scenario(tmp_path, storm))
    fs = w.faults_of(0)
    assert fs is not None and fs.sat_mask.tolist() == [[True] * 12 + [False] * 6]
    recs = w.networks[0].constellation.satrecs
    ref = np.array([s.a * s.radiusearthkm - s.radiusearthkm for s in recs])
    np.testing.assert_allclose(seen[-1], ref, rtol=1e-12)
    assert np.abs(seen[-1] - np.r_[np.full(12, 550.0), np.full(6, 1100.0)]).max() < 15.0
    both = storm.replace("[[faults]]", '[[faults]]\nkind = "satellite"\nstart_s = 0\nids = [17]\n[[faults]]', 1)
    fs = assembly.assemble(_scenario(tmp_path, both)).faults_of(0)  # a storm among other faults: the same set
    assert fs is not None and fs.sat_mask.tolist() == [[False] * 17 + [True], [True] * 12 + [False] * 6]
    np.testing.assert_allclose(seen[-1], ref, rtol=1e-12)
    sat = body + '[[faults]]\nkind = "satellite"\nstart_s = 0\nids = [0]\n'
    w = assembly.assemble(_scenario(tmp_path, sat))
    assert np.isnan(seen[-1]).all() and len(seen[-1]) == 18
    fs = w.faults_of(0)
    assert fs is not None and fs.sat_mask.tolist() == [[True] + [False] * 17]
    other = sat + 'network = "twoo"\n'
    with pytest.raises(InputError, match=r"faults\[0\].network.*unknown network 'twoo'.*expected one of two"):
        assembly.assemble(_scenario(tmp_path, other))


def test_a_network_without_radius_bounds_has_none(tmp_path: Path) -> None:
    """``Network.max_r_km`` not given is empty: no bound, so that ``step.positions_at`` (bounds only when there
    is one per satellite) keeps every SGP4 position, here of a one-satellite network."""
    from leonet.step import positions_at

    _write_tle(tmp_path / "one.tle", [EPOCH])
    w = assembly.assemble(_scenario(tmp_path, _one_net("one", '{ tle = "one.tle" }')))
    net = w.networks[0]
    bare = assembly.Network(net.spec, net.constellation, net.satrecs, net.isl)
    assert bare.max_r_km.shape == (0,) and bare.n_sats == 1
    np.testing.assert_array_equal(positions_at(bare, w, w.times_s), positions_at(net, w, w.times_s))


def test_a_world_built_from_its_required_fields(tmp_path: Path) -> None:
    """The optional fields of a World default to "nothing": no policy, fleet, terminals, warnings, faults or
    access, and ``force`` off (refusing is the default everywhere; ``force`` is opt-in, and a world rebuilt from
    its pickle takes it over)."""
    w = assembly.assemble(_scenario(tmp_path, HEAD + WALKER + "[ground]\ncities = 2\n"))
    bare = assembly.World(w.scenario, w.ground, w.networks, w.times_s, w.src, w.dst, w.gc_km)
    assert bare.force is False and bare.warnings == () and bare.faults == () and bare.faults_of(0) is None
    assert bare.policy is None and bare.fleet is None and bare.access is None and bare.terminals.shape == (0,)
    assert pickle.loads(pickle.dumps(bare)).force is False


def test_a_declared_grid_is_hypatias_plus_grid(tmp_path: Path) -> None:
    """``grid = [planes, per_plane]`` on a file listed plane by plane gives "exactly that +Grid" (README) as
    Hypatia's ``satgenpy`` builds it (``generate_plus_grid_isls``, isl_shift 0): satellite ``p * S + s`` links to
    ``p * S + (s + 1) % S`` and to ``((p + 1) % P) * S + s``, the last plane to the first."""
    P, S = 4, 3
    _write_tle(tmp_path / "g.tle", [EPOCH] * (P * S))
    net = assembly.assemble(_scenario(tmp_path, _one_net("g", f'{{ tle = "g.tle", grid = [{P}, {S}] }}'))).networks[0]
    ref = set()
    for p in range(P):
        for s in range(S):
            a = p * S + s
            for b in (p * S + (s + 1) % S, ((p + 1) % P) * S + s):
                ref.add((min(a, b), max(a, b)))
    assert {(min(a, b), max(a, b)) for a, b in net.isl.tolist()} == ref and len(net.isl) == len(ref) == 24


def test_element_set_files_are_counted_once_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A TLE file declares no satellites (``declared_satellites``: 0), so its count is checked against the memory
    budget once the file is read (8 kB a satellite, leonet.budget): 4 satellites do not fit in 10 kB."""
    from leonet import budget

    _write_tle(tmp_path / "four.tle", [EPOCH] * 4)
    sc = _scenario(tmp_path, _one_net("f", '{ tle = "four.tle" }'))
    assert assembly.declared_satellites(sc.networks[0]) == 0
    monkeypatch.setattr(budget, "available_memory_bytes", lambda: 10_000)
    with pytest.raises(InputError, match="network 'f'"):
        assembly.assemble(sc)
    assert assembly.assemble(sc, force=True).networks[0].n_sats == 4


# Crimea as [lat, lon] instead of [lon, lat] (tests/test_policy_coverage.py): as written it lies in Iraq / Iran
SWAPPED_CRIMEA = "[[44.4, 32.5], [44.4, 36.6], [46.2, 36.6], [46.2, 32.5], [44.4, 32.5]]"


def test_swapped_geofence_axes_are_checked_at_the_terminals(tmp_path: Path) -> None:
    """Rule 3 of leonet.policy.coverage at assembly: a fence in none of the terminals' countries that, swapped,
    reaches one of them is an error naming the scenario; a stationary terminal in Simferopol (RU in Natural
    Earth's de facto view) is enough, with a moving one elsewhere (Tokyo); a terminal in Baghdad (covered as
    written) makes the fence plausible."""
    (tmp_path / "tokyo.csv").write_text("t_s,lat_deg,lon_deg\n0,35.68,139.69\n600,35.69,139.70\n", encoding="ascii")

    def body(lat: float, lon: float) -> str:
        return (
            HEAD + WALKER + '[ground]\ntracks = ["tokyo.csv"]\n'
            f'[[ground.stations]]\nname = "T"\nlat_deg = {lat}\nlon_deg = {lon}\nkind = "terminal"\n'
            '[[policy.geofences]]\nid = "g"\naction = "deny"\n'
            f'geometry = {{ type = "Polygon", coordinates = [{SWAPPED_CRIMEA}] }}\n'
        )

    with pytest.raises(InputError) as ei:
        assembly.assemble(_scenario(tmp_path, body(44.95, 34.10)))
    assert ei.value.where.startswith(str(tmp_path / "s.toml")) and "reaches RU" in ei.value.problem
    w = assembly.assemble(_scenario(tmp_path, body(33.3, 44.4)))
    assert w.policy is not None and w.terminals.tolist() == [0, 1]


def test_access_gateways_from_the_ground_nodes(tmp_path: Path) -> None:
    """``[access] gateways = "ground"``: the scenario's gateway nodes, however few (one is enough), by name and
    position; none is an error naming the field (the scenario refuses it first; ``access_from_spec`` too)."""
    gw = '[[ground.stations]]\nname = "GW-1"\nlat_deg = 48.5\nlon_deg = 2.5\nalt_m = 90\nkind = "gateway"\n'
    body = HEAD + WALKER + '[ground]\ncities = ["London", "Paris"]\ncities_kind = "terminal"\n'
    w = assembly.assemble(_scenario(tmp_path, body + gw + '[access]\ngateways = "ground"\n'))
    assert w.access is not None
    g = w.access.ground.gateways
    assert list(g.names) == ["GW-1"] and g.lat_deg.tolist() == [48.5] and g.lon_deg.tolist() == [2.5]
    from leonet.ground import make_ground

    none = make_ground(["A", "B"], [1.0, 2.0], [1.0, 2.0], kind=["terminal", "terminal"])
    assert w.scenario.access is not None
    with pytest.raises(InputError, match=r"access.gateways.*no ground node is a gateway"):
        assembly.access_from_spec(w.scenario.access, none, np.array([0, 1]))
