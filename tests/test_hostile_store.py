"""Hostile text on both databases (SQLite and PostgreSQL, the ``db_url`` fixture), through the application
(FastAPI's TestClient over ``create_app``): SQL injection strings and NUL / control characters in the free-text
fields that reach SQL as parameters (the decision log's ``subject``, a token's ``name``, lookups by id).  Found
by fuzzing on PostgreSQL: a NUL in ``/api/decisions?subject=`` and in a token's name were 500s (psycopg refuses
NUL in text); now an empty answer and a 422."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from leonet.control import ControlStore
from leonet.scenario import load_scenario
from leonet.server.app import create_app

ODD = ["\x00", "a\x00b", "' OR 1=1 --\x00", "\x01\x02", "\u202e", "\ud7ff", "' OR '1'='1", "%", "_", "\\", "'"]


@pytest.fixture
def client(db_url: str) -> Iterator[tuple[TestClient, ControlStore, str]]:
    store = ControlStore.open(db_url, scenario=load_scenario("default"))
    token = store.create_admin_token_if_none() or ""
    with TestClient(create_app(store, rate_limit_per_s=None), raise_server_exceptions=False) as c:
        yield c, store, token
    store.close()


def test_odd_text_reaching_sql(client: tuple[TestClient, ControlStore, str]) -> None:
    c, store, token = client
    h = {"Authorization": f"Bearer {token}"}
    assert c.get("/api/route?src=London&dst=Tokyo", headers=h).status_code == 200  # a decision with a subject
    store_decisions = len(c.get("/api/decisions?limit=1000", headers=h).json())
    assert store_decisions > 0
    attempts = 0
    for text in ODD:
        q = quote(text, safe="")
        r = c.get(f"/api/decisions?subject={q}", headers=h)
        attempts += 1
        assert r.status_code == 200 and r.json() == [], (text, r.status_code, r.text[:200])
        for url in (f"/api/registry/{q}", f"/api/accounts/{q}", f"/api/speed-caps/{q}"):
            attempts += 1
            assert c.get(url, headers=h).status_code == 404, url
        r = c.post("/api/tokens", headers=h, json={"name": text, "role": "viewer"})
        attempts += 1
        printable = text.isprintable()
        assert r.status_code == (201 if printable else 422), (text, r.status_code, r.text[:200])
        if printable:
            assert r.json()["name"] == text
    names = [t["name"] for t in store.tokens()]
    assert sorted(n for n in names if n != "first admin") == sorted(t for t in ODD if t.isprintable())
    with pytest.raises(Exception, match="printable"):
        store.create_token("cli\x00name", "viewer", actor="test")
    assert store.verify_audit().intact
    assert len(c.get("/api/decisions?limit=1000", headers=h).json()) >= store_decisions
    print(f"odd text on {store.url.split(':')[0]}: {attempts} requests, no 5xx, nothing matched by an injection")


def test_ids_beyond_the_database_integer(client: tuple[TestClient, ControlStore, str]) -> None:
    """Ids are PostgreSQL INTEGERs (32 bits): a larger one in a path, a query or a body is a 422 before any query
    (it was a 500 on PostgreSQL at 2**31 and on SQLite at 2**63); the largest one is a plain 404."""
    c, _, token = client
    h = {"Authorization": f"Bearer {token}"}
    top = 2**31 - 1
    for n, want in ((top, 404), (top + 1, 422), (2**63, 422), (10**40, 422), (0, 422), (-1, 422)):
        for method, url in (("GET", f"/api/policy/drafts/{n}"), ("GET", f"/api/policy/revisions/{n}"),
                            ("DELETE", f"/api/tokens/{n}"), ("POST", f"/api/policy/drafts/{n}/apply")):  # fmt: skip
            r = c.request(method, url, headers=h)
            assert r.status_code == want, (method, url, r.status_code, r.text[:200])
        r = c.post("/api/policy/rollback", headers=h, json={"revision": n})
        assert r.status_code == want, (n, r.status_code, r.text[:200])
        r = c.get(f"/api/geofences?draft={n}", headers=h)
        assert r.status_code == want, (n, r.status_code, r.text[:200])
