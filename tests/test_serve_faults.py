"""GET /api/fault-state and the failed flags of /api/constellation (leonet serve, the simulation side) over an
in-memory store: crimea-2022 with two failed satellites, one failed laser link, the PoP down and a jamming zone
over Kyiv for the first 100 s.  The expectations come from the faults as written (the ids, the pair, the
names, the zone drawn around KYIV-1 and not KYIV-2) and from the step's own state (``state_at``)."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from leonet import assembly
from leonet.scenario import load_scenario, scenario_from_data
from leonet.server.app import create_app
from leonet.step import state_at
from serve_support import MemoryStore, hdr, require

KYIV_BOX = [[30.45, 50.43], [30.56, 50.43], [30.56, 50.47], [30.45, 50.47]]  # KYIV-1, not KYIV-2 (30.60 E)


def _scenario():  # type: ignore[no-untyped-def]
    sc = load_scenario("crimea-2022")
    world = assembly.assemble(sc.model_copy(update={"pairs": "none"}))
    a, b = world.networks[0].isl[0].tolist()
    faults = [
        {"name": "two-sats", "kind": "satellite", "ids": [3, 7]},
        {"name": "one-laser", "kind": "isl", "pairs": [[a, b]], "end_s": 1000},
        {"name": "pop-down", "kind": "ground", "names": ["Warsaw-PoP"], "start_s": 50, "end_s": 150},
        {"name": "jam-kyiv", "kind": "jamming", "polygon": KYIV_BOX, "end_s": 100},
    ]
    body = {**sc.model_dump(mode="json", exclude={"base_dir", "source"}), "faults": faults}
    return scenario_from_data({**body, "base_dir": sc.base_dir, "source": "<test>"}, "<test>"), (a, b)


@pytest.fixture(scope="module")
def served() -> tuple[TestClient, tuple[int, int], object]:
    sc, pair = _scenario()
    app = create_app(MemoryStore(sc), require=require, control=False)
    with TestClient(app) as client:
        yield client, pair, sc


def _get(client: TestClient, url: str) -> dict:  # type: ignore[type-arg]
    r = client.get(url, headers=hdr("tv"))
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_fault_state_at_a_time(served) -> None:  # type: ignore[no-untyped-def]
    client, pair, _ = served
    f = _get(client, "/api/fault-state?t_s=60")
    assert f["t_s"] == 60.0 and f["network"] == "starlink-550"
    assert [(x["name"], x["kind"]) for x in f["active"]] == [
        ("two-sats", "satellite"), ("one-laser", "isl"), ("pop-down", "ground"), ("jam-kyiv", "jamming")
    ]  # fmt: skip
    assert [s["index"] for s in f["satellites"]] == [3, 7]
    assert [sorted(p) for p in f["isls"]] == [sorted(pair)]
    assert f["ground"] == ["Warsaw-PoP"]
    (z,) = f["jamming"]
    assert z["name"] == "jam-kyiv" and z["polygon"] == KYIV_BOX and z["capacity_fraction"] == 0.0
    assert z["terminals"] == ["KYIV-1"] == z["blocked"] and z["end_s"] == 100

    later = _get(client, "/api/fault-state?t_s=1200")  # only the satellites are still failed
    assert [x["name"] for x in later["active"]] == ["two-sats"]
    assert [s["index"] for s in later["satellites"]] == [3, 7]
    assert later["isls"] == [] and later["ground"] == [] and later["jamming"] == []


def test_constellation_flags_failed_satellites_and_nodes_down(served) -> None:  # type: ignore[no-untyped-def]
    client, _, sc = served
    c = _get(client, "/api/constellation?t_s=60")
    assert [s["index"] for s in c["satellites"] if s["failed"]] == [3, 7]
    assert [g["name"] for g in c["ground"] if g["down"]] == ["Warsaw-PoP"]
    linked = {s for _, s in c["gsls"]} | {x for e in c["isls"] for x in e}
    assert not linked & {3, 7}  # a failed satellite takes part in no link
    st = state_at(assembly.assemble(sc.model_copy(update={"pairs": "none"})), 0, 60.0)  # the step's own state
    assert st.faults is not None and np.flatnonzero(st.faults.sats[0]).tolist() == [3, 7]
    t = _get(client, "/api/terminals?t_s=60")
    assert {x["kit_id"]: x["decision"]["outcome"] for x in t}["KYIV-1"] == "jammed"
    c2 = _get(client, "/api/constellation?t_s=1200")
    assert not any(g["down"] for g in c2["ground"]) and sum(s["failed"] for s in c2["satellites"]) == 2


def test_fault_state_without_faults_is_empty() -> None:
    app = create_app(MemoryStore(load_scenario("crimea-2022")), require=require, control=False)
    with TestClient(app) as client:
        f = _get(client, "/api/fault-state?t_s=0")
        assert (f["active"], f["satellites"], f["isls"], f["ground"], f["jamming"]) == ([], [], [], [], [])
        assert client.get("/api/fault-state?t_s=0").status_code == 401
        assert not any(s["failed"] for s in _get(client, "/api/constellation?t_s=0")["satellites"])
