"""``readback.read_results``: an output directory read back as Results, against the rules of its docstring.

References: the tables are those written (``store.write_results``; pyarrow ``Table.equals`` on the files
``pq.read_table`` reads), the prepared world is the scenario assembled again (node positions equal to the run's,
recomputed by the run's own ``Results.positions``), and each refusal is the documented one-line message: what
is missing in the order of the check (``scenario.json``, ``routes/``, then the tables), what cannot be read.
"""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from leonet import assembly, budget, store
from leonet.errors import InputError
from leonet.readback import TABLES, read_results
from leonet.results import Results, run
from leonet.scenario import parse_scenario

TEXT = """
epoch = 2026-02-23T00:00:00Z
pairs = [["London", "Paris"], ["Paris", "Madrid"]]
[time]
end_s = 30
step_s = 30
[[networks]]
name = "a"
constellation = { shells = [{ altitude_km = 550, inclination_deg = 53, planes = 10, sats_per_plane = 10 }] }
min_elevation_deg = 10
[[networks]]
name = "b"
isl = "none"
constellation = { shells = [{ altitude_km = 550, inclination_deg = 53, planes = 10, sats_per_plane = 10 }] }
min_elevation_deg = 10
[ground]
cities = ["London", "Paris", "Madrid"]
cities_kind = "terminal"
"""


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Results, Path]:
    res = run(parse_scenario(TEXT + "[access]\n"), workers=1)
    return res, store.write_results(res, tmp_path_factory.mktemp("rb") / "out")


def _copy(src: Path, tmp: Path) -> Path:
    dst = tmp / "copy"
    shutil.copytree(src, dst)
    return dst


def _refusal(folder: Path | str) -> str:
    with pytest.raises(InputError) as ei:
        read_results(folder)
    msg = str(ei.value)
    assert "\n" not in msg and "expected" in msg, msg
    return msg


def test_the_tables_written_are_the_tables_read(written: tuple[Results, Path]) -> None:
    res, out = written
    back = read_results(str(out))  # a str is a folder too
    assert TABLES == ("routes", "summary", "networks", "service", "terminals")
    for name, got in (
        ("summary", back.summary),
        ("networks", back.networks),
        ("service", back.service),
        ("terminals", back.terminals),
    ):
        assert got.equals(pq.read_table(out / f"{name}.parquet")), name
    assert back.networks.column("unusable_sats").to_pylist() == [0, 0]
    assert back.unusable_sats == {"a": 0, "b": 0}
    assert back.scenario == res.scenario.model_validate(json.loads((out / "scenario.json").read_text()))
    assert not isinstance(back.routes, pa.Table)
    assert back.routes.to_table().equals(pq.read_table(out / "routes"))
    assert back.access is not None and not isinstance(back.access, pa.Table)
    assert back.access.to_table().equals(pq.read_table(out / "access"))
    assert [n.spec.name for n in back.prepared.networks] == ["a", "b"]
    for net in ("a", "b"):
        assert back.positions(15.0, net).equals(res.positions(15.0, net))
        assert back.links(15.0, net).equals(res.links(15.0, net))


def test_missing_files_are_named_in_order(written: tuple[Results, Path], tmp_path: Path) -> None:
    _res, out = written
    assert "no such directory" in _refusal(tmp_path / "nowhere")
    (tmp_path / "file").write_text("x")
    assert "no such directory" in _refusal(tmp_path / "file")
    every = "scenario.json, routes/, summary.parquet, networks.parquet, service.parquet, terminals.parquet missing"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert every in _refusal(empty)
    for name in ("summary", "networks", "service", "terminals"):
        d = _copy(out, tmp_path)
        (d / f"{name}.parquet").unlink()
        assert f"{d}: {name}.parquet missing;" in _refusal(d)
        shutil.rmtree(d)
    d = _copy(out, tmp_path)
    shutil.rmtree(d / "routes")
    (d / "summary.parquet").unlink()
    assert f"{d}: routes/, summary.parquet missing;" in _refusal(d)
    (d / "scenario.json").unlink()
    assert f"{d}: scenario.json, routes/, summary.parquet missing;" in _refusal(d)
    shutil.rmtree(d)
    d = _copy(out, tmp_path)
    (d / "scenario.json").unlink()
    (d / "terminals.parquet").unlink()
    assert f"{d}: scenario.json, terminals.parquet missing;" in _refusal(d)


def test_routes_parquet_of_before_the_parts(written: tuple[Results, Path], tmp_path: Path) -> None:
    """An output of leonet before parts has ``routes.parquet`` instead of ``routes/``: read as the routes."""
    _res, out = written
    d = _copy(out, tmp_path)
    routes = pq.read_table(d / "routes")
    shutil.rmtree(d / "routes")
    pq.write_table(routes, d / "routes.parquet")
    assert read_results(d).routes.to_table().equals(routes)
    (d / "routes.parquet").write_bytes(b"not parquet")
    assert f"{d / 'routes'}: unreadable" in _refusal(d)


def test_a_bad_scenario_json_is_one_line(written: tuple[Results, Path], tmp_path: Path) -> None:
    _res, out = written
    d = _copy(out, tmp_path)
    meta = d / "scenario.json"
    meta.write_text("{not json")
    assert f"{meta}: not JSON (JSONDecodeError)" in _refusal(d)
    meta.write_bytes(b'{"name": "\xff"}')
    assert f"{meta}: not JSON (UnicodeDecodeError)" in _refusal(d)
    good = json.loads((out / "scenario.json").read_text())
    meta.write_text(json.dumps({k: v for k, v in good.items() if k != "epoch"}))
    assert f"{meta}: field epoch: " in _refusal(d)
    meta.write_text(json.dumps({**good, "time": {**good["time"], "step_s": -1}}))
    assert f"{meta}: field time.step_s: " in _refusal(d)
    meta.write_text("[]")  # no field at all: the whole scenario
    assert f"{meta}: field scenario: " in _refusal(d)


def test_unreadable_tables_and_access_parts(written: tuple[Results, Path], tmp_path: Path) -> None:
    _res, out = written
    for name in ("summary", "networks", "service", "terminals"):
        d = _copy(out, tmp_path)
        (d / f"{name}.parquet").write_bytes(b"")
        assert f"{d / name}.parquet: unreadable" in _refusal(d)
        shutil.rmtree(d)
    d = _copy(out, tmp_path)
    shutil.rmtree(d / "access")
    assert read_results(d).access is None


def test_unusable_counts_come_from_the_networks_table(written: tuple[Results, Path], tmp_path: Path) -> None:
    """Per network its ``unusable_sats`` (a null counts 0); an older networks table without the column: none."""
    _res, out = written
    d = _copy(out, tmp_path)
    nets = pq.read_table(d / "networks.parquet")
    i = nets.column_names.index("unusable_sats")
    pq.write_table(nets.set_column(i, "unusable_sats", pa.array([3, None], pa.int64())), d / "networks.parquet")
    assert read_results(d).unusable_sats == {"a": 3, "b": 0}
    pq.write_table(nets.remove_column(i), d / "networks.parquet")
    assert read_results(d).unusable_sats == {}


def test_read_back_neither_warns_nor_refuses_for_size(
    written: tuple[Results, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run that wrote the directory already warned and passed (or was forced past) the size limits: the
    read-back assembles the scenario again with neither a LeonetWarning nor a size refusal."""
    _res, out = written
    monkeypatch.setattr(assembly, "element_age_warning", lambda net, sc: f"{net.spec.name}: old element sets")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert assembly.assemble(read_results(out).scenario).warnings == ("a: old element sets", "b: old element sets")
        n_assembly = len(caught)
        caught.clear()
        back = read_results(out)
    assert n_assembly == 2 and not [w for w in caught if issubclass(w.category, assembly.LeonetWarning)]
    assert back.warnings == ("a: old element sets", "b: old element sets")
    monkeypatch.setattr(budget, "available_memory_bytes", lambda: 1000)  # 200 satellites need 1.6 MB
    with pytest.raises(InputError, match="memory"):
        assembly.assemble(back.scenario)
    assert read_results(out).prepared.networks[0].n_sats == 100
