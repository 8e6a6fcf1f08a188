"""Engine behaviours not covered elsewhere: coverage-only runs and the guard on pair explosion."""

from __future__ import annotations

import pytest

import leonet
from leonet import assembly


def test_pairs_none_gives_service_without_routes() -> None:
    sc = leonet.load_scenario("front-whitelist-2026")
    full = leonet.run(sc.model_copy(update={"time": sc.time.model_copy(update={"end_s": 60})}))
    none = leonet.run(sc.model_copy(update={"pairs": "none", "time": sc.time.model_copy(update={"end_s": 60})}))
    assert none.routes.num_rows == 0 and full.routes.num_rows > 0
    # the same service, whether or not pairs are routed: coverage and policy do not depend on routing
    assert none.service.equals(full.service)


def test_too_many_pairs_is_a_clear_error() -> None:
    sc = leonet.parse_scenario(
        'name = "many"\nepoch = 2026-02-23T00:00:00Z\n[[networks]]\nconstellation = { preset = "starlink-550" }\n'
        "[ground]\ncities = 10\n"
    )
    old = assembly.MAX_PAIRS
    assembly.MAX_PAIRS = 20
    try:
        with pytest.raises(leonet.InputError, match=r"45 pairs of 10 ground nodes.*pairs = \"none\""):
            assembly.assemble(sc)
    finally:
        assembly.MAX_PAIRS = old
