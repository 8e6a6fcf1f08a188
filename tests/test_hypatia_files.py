"""The static files of ``leonet export hypatia hypatia-starlink-550`` against Hypatia's own.

References: satgenpy 0.4.0's generators (``generate_plus_grid_isls`` with ``isl_shift = 0``,
``extend_ground_stations``, ``generate_description``, ``generate_simple_gsl_interfaces_info`` with Hypatia's
``main_starlink_550.py`` values: one GSL interface per node, bandwidth 1) and the model's own input files in
``shared/data`` (``tle/hypatia_starlink_550.tle``, the TLEs satgenpy generated; ``ground_stations/
hypatia_cities_top100.basic.txt``, its top-100 city list).  Plus the interface numbering against satgenpy's rule
written out (``generate_dynamic_state_at``: walking the ISL list, ``(a, b)`` is the next interface of each end).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import leonet
from conftest import missing, shared_file
from leonet.hypatia.export import export_hypatia
from leonet.hypatia.fstate import interfaces

HYPATIA_MAX_GSL_M = 1089686.4181956202
HYPATIA_MAX_ISL_M = 5016591.233098428


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("hyp") / "net"
    d.mkdir()
    sc = leonet.load_scenario("hypatia-starlink-550")
    export_hypatia(sc, d, step_ms=1000, duration_s=1, max_gsl_m=HYPATIA_MAX_GSL_M, max_isl_m=HYPATIA_MAX_ISL_M)
    return d


def _satgen():  # type: ignore[no-untyped-def]
    try:
        import satgen
    except ImportError:
        missing("satgenpy is not installed (the test-only oracle: requirements/test.txt)")
    return satgen


def test_static_files_are_hypatias(net: Path, tmp_path: Path) -> None:
    satgen = _satgen()
    satgen.generate_plus_grid_isls(str(tmp_path / "isls.txt"), 72, 22, isl_shift=0, idx_offset=0)
    assert (net / "isls.txt").read_bytes() == (tmp_path / "isls.txt").read_bytes()
    satgen.extend_ground_stations(
        str(shared_file("ground_stations/hypatia_cities_top100.basic.txt")), str(tmp_path / "gs.txt")
    )
    assert (net / "ground_stations.txt").read_bytes() == (tmp_path / "gs.txt").read_bytes()
    satgen.generate_description(str(tmp_path / "description.txt"), HYPATIA_MAX_GSL_M, HYPATIA_MAX_ISL_M)
    assert (net / "description.txt").read_bytes() == (tmp_path / "description.txt").read_bytes()
    satgen.generate_simple_gsl_interfaces_info(str(tmp_path / "gsl.txt"), 1584, 100, 1, 1, 1, 1)
    assert (net / "gsl_interfaces_info.txt").read_bytes() == (tmp_path / "gsl.txt").read_bytes()
    tles = (net / "tles.txt").read_text()
    assert tles == "72 22\n" + shared_file("tle/hypatia_starlink_550.tle").read_text()
    parsed = satgen.read_tles(str(net / "tles.txt"))
    assert (parsed["n_orbits"], parsed["n_sats_per_orbit"], len(parsed["satellites"])) == (72, 22, 1584)


def test_interface_numbers_follow_the_isl_list() -> None:
    rng = np.random.default_rng(7)
    S = 40
    pairs = {tuple(sorted(map(int, rng.choice(S, 2, replace=False)))) for _ in range(90)}
    isl = np.array(sorted(pairs, key=lambda _: rng.random()), dtype=np.int64)
    ifs = interfaces(S, isl)
    count = [0] * S
    expect: dict[tuple[int, int], int] = {}
    for a, b in isl:  # satgenpy's loop, written out
        expect[(a, b)], expect[(b, a)] = count[a], count[b]
        count[a] += 1
        count[b] += 1
    assert ifs.num_isls.tolist() == count
    for c in range(S):
        for k in range(count[c]):
            n = int(ifs.nbr[c, k])
            assert expect[(c, n)] == k and expect[(n, c)] == ifs.remote[c, k]
            assert sorted(isl[ifs.isl[c, k]]) == sorted((c, n))
        assert (ifs.nbr[c, count[c] :] == -1).all()
