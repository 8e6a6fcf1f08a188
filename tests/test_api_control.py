"""The control API over HTTP (FastAPI's TestClient), on SQLite and PostgreSQL (the ``db_url`` fixture).

Every endpoint is called without a token (401), with every role below the one it needs (403, nothing
written: the audit log does not grow) and with the role it needs (2xx).  Then the behaviour: each change is
validated exactly as a scenario file is (the 422 body is the message the scenario parser gives for the same
``[policy]``), audited with who / what / before / after, and visible in the applied revision.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from leonet.control import ControlStore
from leonet.errors import InputError
from leonet.policy.models import parse_policy_config
from leonet.scenario import load_scenario
from leonet.server import api_control

SCENARIO = "front-whitelist-2026"
ROLES = ("viewer", "operator", "admin")
SQUARE_KYIV = {
    "type": "Polygon",
    "coordinates": [[[30.0, 50.0], [31.0, 50.0], [31.0, 51.0], [30.0, 51.0], [30.0, 50.0]]],
}
SQUARE_LVIV = {
    "type": "Polygon",
    "coordinates": [[[23.5, 49.5], [24.5, 49.5], [24.5, 50.0], [23.5, 50.0], [23.5, 49.5]]],
}
#: one new rule of each list (URL segment -> body)
SAMPLES: dict[str, dict[str, Any]] = {
    "licences": {"id": "lic-x", "countries": ["JP"]},
    "geofences": {"id": "fence-x", "action": "deny", "priority": 30, "geometry": SQUARE_KYIV},
    "country-overrides": {"id": "ov-x", "country": "PL", "geometry": SQUARE_LVIV},
    "quotas": {"id": "quota-x", "account_type": "military", "max_terminals": 5},
    "mobility": {"id": "plan-x", "service_class": "mobile", "max_speed_kmh": 160},
    "speed-caps": {"id": "cap-x", "max_speed_kmh": 90, "countries": ["UA"]},
    "motion-bans": {"id": "mb-x", "countries": ["JP"]},
    "service-bans": {"id": "sb-x", "service_classes": ["drone"]},
}


@dataclass
class Api:
    client: TestClient
    store: ControlStore
    tokens: dict[str, str]
    draft: int

    def call(self, method: str, path: str, role: str | None, body: Any = None) -> Any:
        headers = {} if role is None else {"Authorization": f"Bearer {self.tokens[role]}"}
        return self.client.request(method, path, headers=headers, json=body)

    def audit_len(self) -> int:
        return len(self.store.audit_entries())


@pytest.fixture(scope="module")
def scenario():  # type: ignore[no-untyped-def]
    return load_scenario(SCENARIO)


@pytest.fixture
def api(db_url: str, scenario) -> Iterator[Api]:  # type: ignore[no-untyped-def]
    store = ControlStore.open(db_url, scenario=scenario)
    tokens = {"admin": store.create_admin_token_if_none() or ""}
    for role in ("viewer", "operator"):
        tokens[role] = store.create_token(f"test {role}", role, actor="test")[1]  # type: ignore[arg-type]
    draft, _ = store.create_draft(actor="test")
    app = FastAPI()
    app.state.store = store
    app.include_router(api_control.router(store), prefix="/api")
    with TestClient(app) as client:
        yield Api(client, store, tokens, draft)
    store.close()


def _draft_body(a: Api) -> dict[str, Any]:
    return {"policy": a.store.draft(a.draft)}


#: a fault for POST /api/faults (a jamming zone over Kyiv)
FAULT = {"name": "jam-x", "kind": "jamming", "polygon": [[30.0, 50.0], [31.0, 50.0], [31.0, 51.0]], "end_s": 60}


def _with_fault(a: Api) -> None:
    """Stores the fault ``jam-del`` (for DELETE /api/faults/jam-del); no body."""
    a.store.change_faults(
        "test", "fault.create", "fault/jam-del", lambda f: (f.append({**FAULT, "name": "jam-del"}), (None, None))[1]
    )


#: (method, path, body or a function of the Api giving it, role needed, expected status); {draft} is filled in
ENDPOINTS: list[tuple[str, str, Any, str, int]] = [
    ("GET", "/api/policy", None, "viewer", 200),
    ("GET", "/api/policy/revisions", None, "viewer", 200),
    ("GET", "/api/policy/revisions/1", None, "viewer", 200),
    ("GET", "/api/policy/drafts/{draft}", None, "viewer", 200),
    ("GET", "/api/geofences", None, "viewer", 200),
    ("GET", "/api/geofences?draft={draft}", None, "viewer", 200),
    ("GET", "/api/geofences/ua-whitelist-2026", None, "viewer", 200),
    ("GET", "/api/licences", None, "viewer", 200),
    ("GET", "/api/licences/lic-europe", None, "viewer", 200),
    ("GET", "/api/country-overrides", None, "viewer", 200),
    ("GET", "/api/quotas", None, "viewer", 200),
    ("GET", "/api/quotas/quota-person", None, "viewer", 200),
    ("GET", "/api/mobility", None, "viewer", 200),
    ("GET", "/api/speed-caps", None, "viewer", 200),
    ("GET", "/api/motion-bans", None, "viewer", 200),
    ("GET", "/api/service-bans", None, "viewer", 200),
    ("GET", "/api/defaults", None, "viewer", 200),
    ("GET", "/api/accounts", None, "viewer", 200),
    ("GET", "/api/accounts/olena", None, "viewer", 200),
    ("GET", "/api/registry/KIT-UA-0002", None, "viewer", 200),
    ("GET", "/api/whitelists", None, "viewer", 200),
    ("GET", "/api/audit", None, "viewer", 200),
    ("GET", "/api/audit/verify", None, "viewer", 200),
    ("GET", "/api/decisions", None, "viewer", 200),
    ("POST", "/api/policy/drafts", None, "operator", 201),
    ("PUT", "/api/policy/drafts/{draft}", _draft_body, "operator", 200),
    ("POST", "/api/policy/drafts/{draft}/preview?minutes=1", None, "operator", 200),
    ("POST", "/api/policy/drafts/{draft}/apply", None, "operator", 200),
    ("POST", "/api/policy/rollback", {"revision": 1}, "operator", 200),
    *[("POST", f"/api/{k}", v, "operator", 201) for k, v in SAMPLES.items()],
    (
        "PUT",
        "/api/geofences/ua-whitelist-2026",
        {"action": "whitelist-only", "whitelist": "ua-2026", "countries": ["UA"], "priority": 11},
        "operator",
        200,
    ),
    ("DELETE", "/api/quotas/quota-person", None, "operator", 200),
    ("PATCH", "/api/defaults", {"moving_above_kmh": 20}, "operator", 200),
    ("PATCH", "/api/accounts/olena", {"account_type": "person-presented"}, "operator", 200),
    (
        "POST",
        "/api/terminals",
        {"kit_id": "KIT-NEW", "account": "acc-new", "lat_deg": 50.45, "lon_deg": 30.52},
        "operator",
        201,
    ),
    ("PATCH", "/api/terminals/KIT-UA-0002", {"status": "suspended"}, "operator", 200),
    ("DELETE", "/api/terminals/KIT-UA-0002", None, "operator", 200),
    ("POST", "/api/whitelists", {"name": "spare"}, "operator", 201),
    ("PUT", "/api/whitelists/ua-2026/members/KIT-RU-0666", None, "operator", 200),
    ("DELETE", "/api/whitelists/ua-2026/members/KIT-UA-0002", None, "operator", 200),
    ("GET", "/api/faults", None, "viewer", 200),
    ("POST", "/api/faults", FAULT, "operator", 201),
    ("DELETE", "/api/faults/jam-del", _with_fault, "operator", 200),
    ("GET", "/api/tokens", None, "admin", 200),
    ("POST", "/api/tokens", {"name": "ci", "role": "viewer"}, "admin", 201),
    ("DELETE", "/api/tokens/2", None, "admin", 204),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "role", "ok"), ENDPOINTS, ids=[f"{m} {p}" for m, p, *_ in ENDPOINTS]
)
def test_every_endpoint_and_role(api: Api, method: str, path: str, body: Any, role: str, ok: int) -> None:
    path = path.format(draft=api.draft)
    data = body(api) if callable(body) else body
    before = api.audit_len()
    r = api.call(method, path, None, data)
    assert r.status_code == 401, r.text
    assert "Authorization: Bearer" in r.json()["detail"] and r.headers["www-authenticate"] == "Bearer"
    bad = api.client.request(method, path, headers={"Authorization": "Bearer not-a-token"}, json=data)
    assert bad.status_code == 401 and "unknown or revoked" in bad.json()["detail"]
    for lower in ROLES[: ROLES.index(role)]:
        r = api.call(method, path, lower, data)
        assert r.status_code == 403, r.text
        assert r.json()["detail"].startswith(f"this needs the {role} role"), r.text
    assert api.audit_len() == before  # refused calls change nothing
    r = api.call(method, path, role, data)
    assert r.status_code == ok, r.text
    if method != "GET" and not path.endswith("/preview?minutes=1"):
        assert api.audit_len() > before  # every change is audited
        assert api.store.verify_audit().intact
    else:
        assert api.audit_len() == before
    for higher in ROLES[ROLES.index(role) + 1 :]:  # roles include the ones below them
        if method == "GET":
            assert api.call(method, path, higher, data).status_code == ok


def test_every_route_is_in_the_role_table() -> None:
    """A new endpoint without a row in ENDPOINTS fails here (so none goes untested for roles)."""
    app = FastAPI()
    app.include_router(api_control.router(None), prefix="/api")  # type: ignore[arg-type]
    routes = {(m, r.path) for r in app.routes for m in getattr(r, "methods", ()) if r.path.startswith("/api")}
    covered = set()
    for method, path, *_ in ENDPOINTS:
        p = path.split("?")[0]
        for r in app.routes:
            import re

            pattern = re.sub(r"\{[^}]+\}", "[^/]+", getattr(r, "path", ""))
            if method in getattr(r, "methods", ()) and re.fullmatch(pattern, p.format(draft=1)):
                covered.add((method, r.path))
                break
    assert routes - covered == set()


@pytest.mark.parametrize("kind", list(SAMPLES))
def test_rule_crud_round_trip(api: Api, kind: str) -> None:
    attr = api_control.RULE_PATHS[kind]
    body = SAMPLES[kind]
    r = api.call("POST", f"/api/{kind}", "operator", body)
    assert r.status_code == 201, r.text
    rev = r.json()["revision"]
    assert api.store.revision() == rev
    assert api.call("GET", f"/api/{kind}/{body['id']}", "viewer").json()["id"] == body["id"]
    applied = parse_policy_config(api.store.scenario().policy)
    assert body["id"] in [x.id for x in getattr(applied, attr)]
    entry = api.store.audit_entries()[-2]  # the rule's own entry; the last one moves the applied pointer
    assert (
        entry.action == f"{attr}.create" and json.loads(entry.after) == body and entry.actor.endswith("test operator")
    )
    changed = {**body, "id": "another-id"}  # the path names the rule: a different id in the body is ignored
    if kind == "geofences":
        changed["priority"] = 31
    r = api.call("PUT", f"/api/{kind}/{body['id']}", "operator", changed)
    assert r.status_code == 200, r.text
    assert api.call("GET", f"/api/{kind}/{body['id']}", "viewer").status_code == 200
    assert api.call("GET", f"/api/{kind}/another-id", "viewer").status_code == 404
    e = api.store.audit_entries()[-2]
    assert e.action == f"{attr}.replace" and json.loads(e.before).items() >= body.items()  # (with defaults filled)
    r = api.call("DELETE", f"/api/{kind}/{body['id']}", "operator")
    assert r.status_code == 200, r.text
    assert api.call("GET", f"/api/{kind}/{body['id']}", "viewer").status_code == 404
    assert api.call("DELETE", f"/api/{kind}/{body['id']}", "operator").status_code == 404


BAD_RULES = [
    ("licences", {"id": "lic-bad", "countries": ["XX"]}),
    ("geofences", {"id": "fence-bad", "action": "deny", "countries": ["UA"], "whitelist": "ua-2026"}),
    ("geofences", {"id": "ua-whitelist-2026", "action": "deny", "countries": ["PL"]}),  # duplicate id
    ("speed-caps", {"id": "cap-bad", "max_speed_kmh": -5}),
    ("quotas", {"id": "q", "account_type": "person", "max_terminals": 0, "whitelist": "ua-2026"}),
    ("mobility", {"id": "m", "service_class": "mobile", "bogus": 1}),
]


@pytest.mark.parametrize(("kind", "body"), BAD_RULES)
def test_a_bad_rule_gets_the_scenario_files_message(api: Api, kind: str, body: dict[str, Any]) -> None:
    attr = api_control.RULE_PATHS[kind]
    before_rev, before_audit = api.store.revision(), api.audit_len()
    r = api.call("POST", f"/api/{kind}", "operator", body)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    # the same [policy] given to the scenario parser (source "<api>"): the same one-line message
    sc = api.store.scenario()
    policy = copy.deepcopy(sc.policy) or {}
    policy[attr] = [*(policy.get(attr) or []), body]
    with pytest.raises(InputError) as want:
        sc.model_copy(update={"policy": policy, "source": "<api>"}).compiled_policy()
    assert detail == str(want.value)
    assert "\n" not in detail
    assert api.store.revision() == before_rev and api.audit_len() == before_audit  # nothing half-written


def test_terminal_crud_and_positions(api: Api) -> None:
    r = api.call(
        "POST",
        "/api/terminals",
        "operator",
        {"kit_id": "KIT-NEW", "account": "acc-new", "registered_country": "UA", "lat_deg": 50.45, "lon_deg": 30.52},
    )
    assert r.status_code == 201, r.text
    st = {s.name: s for s in api.store.scenario().ground.stations}
    assert (st["KIT-NEW"].lat_deg, st["KIT-NEW"].lon_deg, st["KIT-NEW"].kind) == (50.45, 30.52, "terminal")
    r = api.call("PATCH", "/api/terminals/KIT-NEW", "operator", {"lat_deg": 49.0, "status": "suspended"})
    assert r.status_code == 200, r.text
    reg = api.call("GET", "/api/registry/KIT-NEW", "viewer").json()
    assert (reg["lat_deg"], reg["lon_deg"], reg["status"]) == (49.0, 30.52, "suspended")
    e = api.store.audit_entries()[-2]
    assert (
        e.action == "terminal.update"
        and json.loads(e.before)["lat_deg"] == 50.45
        and json.loads(e.after)["lat_deg"] == 49.0
    )
    bad = api.call("PATCH", "/api/terminals/KIT-NEW", "operator", {"lat_deg": 91})
    assert bad.status_code == 422 and bad.json()["detail"] == "body.lat_deg: got 91; expected a number in -90..90"
    bad = api.call("POST", "/api/terminals", "operator", {"kit_id": "KIT-UA-0001", "account": "x"})
    assert bad.status_code == 422 and "registered twice" in bad.json()["detail"]
    assert api.call("DELETE", "/api/terminals/KIT-NEW", "operator").status_code == 200
    assert api.call("GET", "/api/registry/KIT-NEW", "viewer").status_code == 404
    assert api.call("PATCH", "/api/terminals/NOPE", "operator", {"status": "active"}).status_code == 404


def test_draft_preview_apply_rollback(api: Api) -> None:
    d = api.call("POST", "/api/policy/drafts", "operator").json()
    policy = d["policy"]
    assert parse_policy_config(policy) == parse_policy_config(api.store.policy())
    policy["geofences"] = []  # toggle the whitelist geofence off
    r = api.call("PUT", f"/api/policy/drafts/{d['draft_id']}", "operator", {"policy": policy})
    assert r.status_code == 200, r.text
    p = api.call("POST", f"/api/policy/drafts/{d['draft_id']}/preview?minutes=2", "operator").json()
    came_back = {c["kit_id"] for c in p["changes"] if c["before"] == "denied" and c["after"] == "served"}
    assert came_back == {"UNREG-DONETSK", "UNREG-MELITOPOL", "UNREG-SIMFEROPOL"}
    assert p["summary"] == [{"country": "UA", "rule": "ua-whitelist-2026", "went_dark": 0, "came_back": 3}]
    assert api.store.revision() == 1  # a preview changes nothing
    rev = api.call("POST", f"/api/policy/drafts/{d['draft_id']}/apply", "operator").json()["revision"]
    assert rev == 2 and api.call("GET", "/api/policy", "viewer").json()["policy"]["geofences"] == []
    fc = api.call("GET", "/api/geofences", "viewer").json()
    assert fc == {"type": "FeatureCollection", "features": []}
    back = api.call("POST", "/api/policy/rollback", "operator", {"revision": 1}).json()["revision"]
    assert back == 3
    feats = api.call("GET", "/api/geofences", "viewer").json()["features"]
    assert [f["properties"]["id"] for f in feats] == ["ua-whitelist-2026"] and feats[0]["properties"]["in_force"]
    assert feats[0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    revs = api.call("GET", "/api/policy/revisions", "viewer").json()
    assert [(x["id"], x["kind"], x["applied"]) for x in revs] == [
        (1, "import", False),
        (2, "apply", False),
        (3, "rollback", True),
    ]
    # errors: one line, 4xx, nothing changed
    bad = dict(policy, geofences=[{"id": "g", "action": "explode", "countries": ["UA"]}])
    r = api.call("PUT", f"/api/policy/drafts/{api.draft}", "operator", {"policy": bad})
    assert r.status_code == 422 and r.json()["detail"].startswith(
        f"<draft {api.draft}> [policy.geofences[0] (id 'g').action]"
    )
    assert api.call("PUT", f"/api/policy/drafts/{api.draft}", "operator", {"policy": 3}).status_code == 422
    assert api.call("POST", "/api/policy/rollback", "operator", {"revision": 99}).status_code == 404
    assert api.call("POST", "/api/policy/rollback", "operator", {"revision": "1"}).status_code == 422
    assert api.call("GET", "/api/policy/drafts/999", "viewer").status_code == 404
    assert api.call("POST", f"/api/policy/drafts/{d['draft_id']}/apply", "operator").status_code == 422


def test_tokens_admin(api: Api) -> None:
    r = api.call("POST", "/api/tokens", "admin", {"name": "ops-2", "role": "operator"})
    assert r.status_code == 201
    tok = r.json()["token"]
    listed = api.call("GET", "/api/tokens", "admin").json()
    assert [t["role"] for t in listed] == ["admin", "viewer", "operator", "operator"]
    assert tok not in json.dumps(listed) and all("token" not in t for t in listed)
    hdr = {"Authorization": f"Bearer {tok}"}
    assert api.client.post("/api/policy/drafts", headers=hdr).status_code == 201
    assert api.call("DELETE", f"/api/tokens/{r.json()['id']}", "admin").status_code == 204
    assert api.client.get("/api/policy", headers=hdr).status_code == 401
    assert api.call("POST", "/api/tokens", "admin", {"name": "x", "role": "root"}).status_code == 422
    assert api.call("DELETE", "/api/tokens/99", "admin").status_code == 404
    assert tok not in "".join(e.before + e.after for e in api.store.audit_entries())


def test_whitelists_and_accounts(api: Api) -> None:
    wl = {w["name"]: w for w in api.call("GET", "/api/whitelists", "viewer").json()}
    assert wl["ua-2026"]["members"] == ["KIT-UA-0001", "KIT-UA-0002", "KIT-UA-0003"]
    assert api.call("PUT", "/api/whitelists/ua-2026/members/NOPE", "operator").status_code == 404
    r = api.call("DELETE", "/api/whitelists/ua-2026/members/KIT-UA-0001", "operator")
    assert r.status_code == 200
    assert "KIT-UA-0001" not in api.call("GET", "/api/whitelists", "viewer").json()[0]["members"]
    assert api.call("POST", "/api/whitelists", "operator", {"name": "spare"}).status_code == 201
    assert api.call("DELETE", "/api/whitelists/spare", "operator").status_code == 200
    assert api.call("DELETE", "/api/whitelists/spare", "operator").status_code == 404
    acc = api.call("GET", "/api/accounts/olena", "viewer").json()
    assert acc["account_type"] == "person" and [t["kit_id"] for t in acc["terminals"]] == ["KIT-UA-0002"]
    assert api.call("GET", "/api/accounts/nobody", "viewer").status_code == 404


def test_revisions_carry_their_faults_and_rollback_restores_them(api: Api) -> None:
    r = api.call("POST", "/api/faults", "operator", FAULT)
    assert r.status_code == 201, r.text
    with_jam = r.json()["revision"]
    got = api.call("GET", f"/api/policy/revisions/{with_jam}", "viewer").json()
    assert got["revision"] == with_jam and [f["name"] for f in got["faults"]] == ["jam-x"]
    assert got["policy"] == api.call("GET", "/api/policy/revisions/1", "viewer").json()["policy"]
    assert api.call("GET", "/api/policy/revisions/1", "viewer").json()["faults"] == []
    back = api.call("POST", "/api/policy/rollback", "operator", {"revision": 1}).json()["revision"]
    assert api.call("GET", "/api/faults", "viewer").json() == {"revision": back, "faults": []}
    assert api.call("GET", f"/api/policy/revisions/{back}", "viewer").json()["faults"] == []
    actions = [e.action for e in api.store.audit_entries()][-3:]
    assert actions == ["faults.rollback", "revision.rollback", "revision.rollback"], actions
    again = api.call("POST", "/api/policy/rollback", "operator", {"revision": with_jam}).json()["revision"]
    assert [f["name"] for f in api.call("GET", "/api/faults", "viewer").json()["faults"]] == ["jam-x"]
    assert api.call("GET", f"/api/policy/revisions/{again}", "viewer").json()["faults"] == [FAULT]


def test_preview_applies_the_faults(api: Api) -> None:
    """A jamming zone over Kramatorsk's registered unit: the preview says "jammed" (with the fault), not a
    rule's denial, under both the applied policy and the draft."""
    zone = [[37.4, 48.5], [37.8, 48.5], [37.8, 48.9], [37.4, 48.9]]
    r = api.call("POST", "/api/faults", "operator", {"name": "jam-kram", "kind": "jamming", "polygon": zone})
    assert r.status_code == 201, r.text
    d = api.call("POST", "/api/policy/drafts", "operator").json()
    p = api.call("POST", f"/api/policy/drafts/{d['draft_id']}/preview?minutes=1&t_s=0", "operator").json()
    start = {o["kit_id"]: o for o in p["at_start"]}
    k = start["KIT-UA-0001"]
    assert (k["before"], k["after"]) == ("jammed", "jammed") and k["after_reason"] == "jammed (fault jam-kram)"
    assert start["UNREG-DONETSK"]["after"] == "denied"  # a rule's denial stays a denial
    assert start["KIT-UA-0003"]["after"] == "served"
