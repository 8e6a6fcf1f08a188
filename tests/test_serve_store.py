"""leonet serve over the real control store (SQLite and PostgreSQL, the ``db_url`` fixture): the simulation
endpoints for every role with real tokens, the clock persisted and audited, decisions in the store's decision
log, and a policy change through the control API (draft -> apply) seen by the simulation side as a new revision
without reassembling the constellation.  Expected decisions: crimea-2022's file (BOAT-1 in the Crimea fence at
t = 15000 s; `leonet policy why BOAT-1 --at 15000 crimea-2022`)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from leonet.control import ControlStore
from leonet.scenario import load_scenario
from leonet.server.app import create_app

T = 15000.0
GETS = [
    "/api/clock",
    "/api/networks",
    f"/api/frame?t_s={T}",
    f"/api/constellation?t_s={T}",
    f"/api/terminals?t_s={T}",
    f"/api/terminals/BOAT-1/why?t_s={T}",
    f"/api/route?src=KYIV-1&dst=Warsaw-PoP&t_s={T}",
]


def h(tok: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tok}"}


@pytest.fixture
def served(db_url: str):  # type: ignore[no-untyped-def]
    store = ControlStore.open(db_url, scenario=load_scenario("crimea-2022"))
    admin = store.create_admin_token_if_none()
    assert admin is not None
    _, viewer = store.create_token("v", "viewer", actor="test")
    _, operator = store.create_token("o", "operator", actor="test")
    app = create_app(store)
    try:
        with TestClient(app) as client:
            yield store, client, {"viewer": viewer, "operator": operator, "admin": admin}
    finally:
        store.close()


def test_roles_clock_and_decision_log(served) -> None:  # type: ignore[no-untyped-def]
    store, client, tok = served
    for url in GETS:
        assert client.get(url).status_code == 401, url
        assert client.get(url, headers=h("not-a-token")).status_code == 401, url
        for role in ("viewer", "operator", "admin"):
            assert client.get(url, headers=h(tok[role])).status_code == 200, (url, role)
    assert client.get("/healthz").status_code == 200 and client.get("/metrics").status_code == 200
    body = {"action": "set", "t_s": 1234.5}
    r = client.post("/api/clock", json=body, headers=h(tok["viewer"]))
    assert r.status_code == 403 and "operator" in r.json()["detail"]
    assert client.post("/api/clock", json=body, headers=h(tok["operator"])).status_code == 200
    assert store.clock().t_s == 1234.5 and not store.clock().running
    audit = store.audit_entries()
    assert audit[-1].action == "clock.set" and audit[-1].actor == "o"
    assert store.verify_audit().intact
    rows = client.get(f"/api/terminals?t_s={T}", headers=h(tok["viewer"])).json()
    assert client.app.state.decision_log.flush()
    logged = {d.decision_id: d for d in store.decisions(limit=1000)}
    for row in rows:
        rec = logged[row["decision"]["decision_id"]]
        assert (rec.subject, rec.outcome, rec.rule, rec.revision) == (
            row["kit_id"], row["decision"]["outcome"], row["decision"]["rule"], 1
        )  # fmt: skip


def test_policy_change_through_the_api_is_seen(served) -> None:  # type: ignore[no-untyped-def]
    store, client, tok = served
    op = h(tok["operator"])

    def boat() -> dict:  # type: ignore[type-arg]
        rows = client.get(f"/api/terminals?t_s={T}", headers=op).json()
        return next(r for r in rows if r["kit_id"] == "BOAT-1")  # type: ignore[no-any-return]

    assert boat()["decision"]["rule"] == "crimea-2022"
    nets_before = client.app.state.snapshots.model().world.networks
    d = client.post("/api/policy/drafts", headers=op).json()
    pol = d["policy"]
    pol["geofences"] = [g for g in pol["geofences"] if g["id"] != "crimea-2022"]
    assert client.put(f"/api/policy/drafts/{d['draft_id']}", json={"policy": pol}, headers=op).status_code == 200
    rev = client.post(f"/api/policy/drafts/{d['draft_id']}/apply", headers=op).json()["revision"]
    assert rev == 2 == store.revision()
    after = boat()
    assert after["decision"]["revision"] == 2 and after["decision"]["rule"] != "crimea-2022"
    snaps = client.app.state.snapshots
    assert snaps.model().world.networks is nets_before and snaps.rebuilds["all"] == 0


def test_stream_takes_the_token_in_the_url(served) -> None:  # type: ignore[no-untyped-def]
    """EventSource sends no headers: /api/stream?token= is checked by the store's tokens like the header."""
    _, client, tok = served
    assert client.get("/api/stream?token=not-a-token").status_code == 401
    assert client.get(f"/api/clock?token={tok['viewer']}").status_code == 401  # only on the stream
    with client.stream("GET", f"/api/stream?token={tok['viewer']}") as r:
        assert r.status_code == 200
        for line in r.iter_lines():
            if line.startswith("data:"):
                assert '"terminals"' in line
                break
