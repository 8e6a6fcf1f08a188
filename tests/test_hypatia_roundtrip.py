"""Export -> import: a Hypatia satellite-network directory as a constellation source
(``constellation = { hypatia = "DIR" }``, its explicit ISL list) and as ground nodes (``[ground] hypatia``).

Round trip: ``leonet export hypatia`` of a scenario, then a scenario that reads the directory back, gives the
same routes (paths and delays) as the original scenario run by ``leonet.run``, and exporting it again writes the
same bytes.  Bad directories give one line naming the file and line.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import leonet
from leonet.errors import InputError
from leonet.hypatia.export import export_hypatia

ORIGINAL = """
name = "walker-src"
epoch = 2000-01-01T00:00:00Z
[time]
start_s = 0
end_s = 3
step_s = 1
[[networks]]
name = "walker"
constellation = [{ shells = [
    { altitude_km = 550, inclination_deg = 53, planes = 18, sats_per_plane = 18, phasing = 0 },
] }]
isl = "plus-grid"
max_ground_link_km = 1500
max_isl_km = 5016.6
[ground]
cities = ["London", "New York", "Tokyo", "Sydney", "Nairobi"]
[routing]
mode = "ideal"
"""

IMPORTED = """
name = "walker-back"
epoch = 2000-01-01T00:00:00Z
[time]
start_s = 0
end_s = 3
step_s = 1
[[networks]]
name = "walker"
constellation = {{ hypatia = "{d}" }}
isl = "plus-grid"
max_ground_link_km = 1500
max_isl_km = 5016.6
[ground]
hypatia = "{d}"
[routing]
mode = "ideal"
"""


def _load(path: Path, text: str):  # type: ignore[no-untyped-def]
    path.write_text(text)
    return leonet.load_scenario(str(path))


def _routes(sc):  # type: ignore[no-untyped-def]
    r = leonet.run(sc).routes
    t = r.to_table() if hasattr(r, "to_table") else r
    cols = ["t_s", "src", "dst", "path", "one_way_ms"]
    cols = [c for c in cols if c in t.column_names]
    return t.select(cols).to_pylist(), cols


def test_export_import_same_routes_and_same_files(tmp_path: Path) -> None:
    src = _load(tmp_path / "src.toml", ORIGINAL)
    d = tmp_path / "net"
    d.mkdir()
    export_hypatia(src, d, ground_ellipsoid="wgs84")  # leonet's own ground positions, as the run uses
    back = _load(tmp_path / "back.toml", IMPORTED.format(d=d))

    from leonet import assembly

    a, b = assembly.assemble(src), assembly.assemble(back)
    assert b.networks[0].n_sats == 324 and b.ground.names == a.ground.names
    assert {tuple(p) for p in a.networks[0].isl} == {tuple(p) for p in b.networks[0].isl}

    ra, cols = _routes(src)
    rb, _ = _routes(back)
    assert "path" in cols and len(ra) == len(rb) > 0
    n_routed = 0
    for x, y in zip(ra, rb, strict=True):
        assert (x["t_s"], x["src"], x["dst"]) == (y["t_s"], y["src"], y["dst"])
        assert x["path"] == y["path"]
        if x["one_way_ms"] is not None:
            n_routed += 1
            # the same satellites, up to the TLE's rounding of their elements (the export's TLE lines) and the
            # ground stations' 6-decimal coordinates: well under a microsecond here
            assert abs(x["one_way_ms"] - y["one_way_ms"]) < 2e-3
    assert n_routed > len(ra) // 2

    again = tmp_path / "again"
    again.mkdir()
    export_hypatia(back, again, ground_ellipsoid="wgs84")
    for p in sorted(d.rglob("*")):
        if p.is_file():
            q = again / p.relative_to(d)
            assert q.read_bytes() == p.read_bytes(), p.name


def _bad(tmp_path: Path, name: str, text: str, isls: str = "0 1\n") -> str:
    src = _load(tmp_path / "src.toml", ORIGINAL)
    d = tmp_path / name
    d.mkdir()
    export_hypatia(src, d, duration_s=1)
    if text:
        (d / "tles.txt").write_text(text)
    (d / "isls.txt").write_text(isls)
    with pytest.raises(InputError) as e:
        assemble(_load(tmp_path / "b.toml", IMPORTED.format(d=d)))
    return str(e.value)


def assemble(sc):  # type: ignore[no-untyped-def]
    from leonet import assembly

    return assembly.assemble(sc)


def test_bad_directories_name_file_and_line(tmp_path: Path) -> None:
    msg = _bad(tmp_path, "dup", "", "0 1\n1 2\n0 1\n")
    assert "isls.txt:3" in msg and "duplicate" in msg
    msg = _bad(tmp_path, "order", "", "0 1\n2 1\n")
    assert "isls.txt:2" in msg and "strictly larger" in msg
    msg = _bad(tmp_path, "range", "", "0 324\n")
    assert "isls.txt:1" in msg and "below 324" in msg
    msg = _bad(tmp_path, "head", "18\n", "0 1\n")
    assert "tles.txt:1" in msg
    with pytest.raises(InputError, match="no such file"):
        assemble(_load(tmp_path / "c.toml", IMPORTED.format(d=tmp_path / "nowhere")))


def test_hypatia_source_is_one_source() -> None:
    with pytest.raises(Exception, match="exactly one of"):
        leonet.Scenario.model_validate(
            {"networks": [{"constellation": [{"hypatia": "d", "preset": "starlink-550"}]}]}
        )
    assert np.int64(1)  # (keeps numpy imported for the helpers above)


def test_ground_stations_basic_or_extended_repeated_names(tmp_path: Path) -> None:
    from leonet.hypatia.reader import read_ground_stations

    f = tmp_path / "gs.txt"
    f.write_text("0,Hyderabad,17.37528,78.47444,0\n1,Paris,48.8534,2.3488,35\n2,Hyderabad,25.39242,68.37366,0\n")
    got = read_ground_stations(f)
    assert [p.name for p in got] == ["Hyderabad-(gid-0)", "Paris", "Hyderabad-(gid-2)"]
    assert (got[1].lat_deg, got[1].lon_deg, got[1].alt_m) == (48.8534, 2.3488, 35.0)
    f.write_text("0,A,1,2,3,4,5,6\n2,B,1,2,3,4,5,6\n")
    with pytest.raises(InputError, match=r"gs.txt:2: gid '2'; expected 1"):
        read_ground_stations(f)
    f.write_text("0,A,1,2\n")
    with pytest.raises(InputError, match=r"gs.txt:1: 4 columns"):
        read_ground_stations(f)
