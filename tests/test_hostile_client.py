"""A hostile client against a real ``leonet serve`` on loopback (``tests/serve_live.py``; the rate limit is off
here, ``tests/test_hostile_limits.py`` tests it): SQL injection strings in every text field the OpenAPI document
lists (path, query) and in the bodies, path traversal on the static files and on the geofence ``file`` names,
oversized and deeply nested bodies, malformed tokens, replayed writes (``If-Match``), and no token in any log
line.  Each test prints how many attempts it made and that none got through; after each the server still
answers ``/healthz``."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import func, inspect, select, table

from serve_live import Live, live_server

SQLI = [
    "' OR '1'='1",
    "' OR 1=1 --",
    "'; DROP TABLE audit_log; --",
    "'; DELETE FROM api_tokens; --",
    '" OR ""="',
    "1' UNION SELECT token_sha256, name, role FROM api_tokens --",
    "Robert'); DROP TABLE terminals;--",
    "%' OR name LIKE '%",
    "1; UPDATE control_state SET applied_revision = 1",
    "x' AND (SELECT COUNT(*) FROM sqlite_master) > 0 --",
]
#: tables whose row counts no request here may change (api_tokens: only by the tokens made, one per string)
FIXED_TABLES = ("scenario", "clock", "control_state")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with live_server(tmp_path_factory.mktemp("hostile"), "front-whitelist-2026", rate_limit_per_s=None) as server:
        yield server


def _counts(live: Live) -> dict[str, int]:
    eng = live.store.engine
    names = inspect(eng).get_table_names()
    with eng.connect() as c:
        return {n: int(c.execute(select(func.count()).select_from(table(n))).scalar_one()) for n in names}


def _audit_verify(live: Live) -> subprocess.CompletedProcess[str]:
    leonet = Path(sys.executable).parent / "leonet"
    return subprocess.run([str(leonet), "audit", "verify", "--db", live.store.url], capture_output=True, text=True)


def _raw(live: Live, method: str, target: str, headers: dict[str, str] | None = None, body: bytes | None = None,
         chunks: list[bytes] | None = None) -> tuple[int, bytes]:  # fmt: skip
    """One request with the target sent exactly as given (no client-side normalisation of ``..``)."""
    host, port = live.base.removeprefix("http://").rstrip("/").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        conn.putrequest(method, target, skip_accept_encoding=True)
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        if chunks is not None:
            conn.putheader("Transfer-Encoding", "chunked")
            conn.endheaders()
            try:
                for c in chunks:
                    conn.send(f"{len(c):x}\r\n".encode() + c + b"\r\n")
                conn.send(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server answered 413 and closed before the whole body was sent
        else:
            if body is not None:
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def _text_params(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any], list[dict[str, Any]]]]:
    """(method, path, operation, its string-typed path / query parameters) of every operation."""
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            params = [
                p
                for p in op.get("parameters", [])
                if p["in"] in ("path", "query")
                and ("string" in json.dumps(p.get("schema", {})))
                and p["name"] != "token"
            ]
            yield method.upper(), path, op, params


#: text-field bodies: every write endpoint's text fields set to the payload
def _bodies(p: str) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        ("POST", "/api/terminals"): {"kit_id": f"SQLI-{SQLI.index(p)}", "account": p},  # ids are [A-Za-z0-9_.:/+-]
        ("PATCH", "/api/terminals/{kit_id}"): {"account": p},
        ("POST", "/api/licences"): {"id": p, "countries": [p]},
        ("POST", "/api/geofences"): {"id": p, "action": p, "priority": 1, "countries": [p], "whitelist": p},
        ("POST", "/api/quotas"): {"id": p, "account_type": p, "max_terminals": 1},
        ("POST", "/api/whitelists"): {"name": p},
        ("PATCH", "/api/accounts/{name}"): {"account_type": p},
        ("PATCH", "/api/defaults"): {"action": p},
        ("POST", "/api/tokens"): {"name": p, "role": "viewer"},  # a token's name is free text
        ("POST", "/api/policy/rollback"): {"revision": p},
        ("POST", "/api/clock"): {"action": p},
    }


def test_sql_injection_in_every_text_field(live: Live) -> None:
    spec = json.loads(live.request("GET", "/openapi.json")[2])
    before = _counts(live)
    attempts = 0
    stored: list[tuple[str, str]] = []
    fields = 0
    for payload in SQLI:
        # a lookup by the payload finds nothing (an OR 1=1 that reached SQL would find every row)
        for url in (f"/api/registry/{quote(payload, safe='')}", f"/api/accounts/{quote(payload, safe='')}",
                    f"/api/licences/{quote(payload, safe='')}"):  # fmt: skip
            attempts += 1
            assert live.request("GET", url, "viewer")[0] == 404
        for method, path, _, params in _text_params(spec):
            if path == "/api/stream":
                continue
            q = quote(payload, safe="")
            url = path
            query = []
            for prm in params:
                if prm["in"] == "path":
                    url = url.replace("{" + prm["name"] + "}", q)
                else:
                    query.append(f"{prm['name']}={q}")
            url = url.replace("{draft_id}", "1").replace("{revision}", "1").replace("{token_id}", "1")
            if "{" in url:
                continue
            body = _bodies(payload).get((method, path))
            if not params and body is None:
                continue
            fields += len(params) + (len(body) if body else 0)
            status, _, data = live.request(method, url + ("?" + "&".join(query) if query else ""), "admin", body=body)
            attempts += 1
            assert status < 500, (method, url, status, data[:300])
            if method == "GET" and params and path not in ("/api/route", "/api/geofences") and status == 200:
                got = json.loads(data)
                assert got in ([], None), (url, "a lookup by an injection string found something", got)
            if 200 <= status < 300 and method != "GET":
                stored.append((path, payload))
    # what was accepted was stored as text, verbatim
    names = {w["name"] for w in json.loads(live.request("GET", "/api/whitelists", "viewer")[2])}
    for path, payload in stored:
        if path == "/api/whitelists":
            assert payload in names
    token_names = [t["name"] for t in json.loads(live.request("GET", "/api/tokens", "admin")[2])]
    made = [payload for path, payload in stored if path == "/api/tokens"]
    assert sorted(made) == sorted(SQLI), "a token named by an injection string was not made"
    assert all(token_names.count(p) == 1 for p in made)  # stored verbatim, once
    after = _counts(live)
    assert set(after) == set(before), "a table went missing"
    for t in FIXED_TABLES:
        assert after[t] == before[t], t
    assert after["api_tokens"] == before["api_tokens"] + len(made)
    assert all(after[t] >= before[t] for t in before), {t: (before[t], after[t]) for t in before}
    v = _audit_verify(live)
    assert v.returncode == 0 and "chain intact" in v.stdout, v.stdout + v.stderr
    assert live.healthy()
    print(f"SQL injection: {attempts} requests ({len(SQLI)} strings x {fields // len(SQLI)} text fields); "
          f"{len(stored)} writes accepted (tokens named by them) and stored verbatim, 0 got through; "
          f"row counts: nothing lost, the fixed tables unchanged; {v.stdout.strip()}")  # fmt: skip


TRAVERSAL = [
    "/../../../../etc/passwd",
    "/..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/%252e%252e/%252e%252e/etc/passwd",
    "/....//....//....//etc/passwd",
    "/assets/../../app.py",
    "/assets/..%2f..%2fapp.py",
    "/..\\..\\..\\app.py",
    "/%2e%2e%5c%2e%2e%5capp.py",
    "//etc/passwd",
    "/index.html%00.js",
    "/static/../../../../../proc/self/environ",
    "/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
    "/api/../../etc/passwd",
]


def test_path_traversal_on_static_files(live: Live) -> None:
    secret_markers = [b"root:", b"def create_app", b"LEONET", b"PATH="]
    for target in TRAVERSAL:
        status, body = _raw(live, "GET", target)
        assert status in (400, 401, 404, 405), (target, status, body[:200])
        assert not any(m in body for m in secret_markers), (target, body[:200])
    assert _raw(live, "GET", "/")[0] == 200  # the page itself is served
    assert live.healthy()
    print(f"path traversal (static files): {len(TRAVERSAL)} requests, none outside the page's directory")


FILE_NAMES = [
    "/etc/passwd",
    "../../../../../../etc/passwd",
    "/dev/zero",
    "/dev/urandom",
    "/proc/self/environ",
    "builtin:../../../../etc/passwd",
    "builtin:../__init__.py",
    "builtin:",
    "builtin:/etc/passwd",
    "../front-whitelist-2026.toml",
    "policy/../../../../../etc/hostname",
    "/etc/does-not-exist-leonet",
    "x\x00.geojson",
]


def test_path_traversal_on_geofence_files(live: Live) -> None:
    """A geofence or country override given through the API may name ``builtin:NAME`` or a file inside the
    scenario's directory only; anything else is a 422 (the same words whether a file outside exists or not),
    nothing is read, nothing is written."""
    audit0 = len(live.store.audit_entries())
    rev0 = live.store.revision()
    draft = json.loads(live.request("POST", "/api/policy/drafts", "operator")[2])
    attempts = 0
    problems: dict[str, str] = {}
    for name in FILE_NAMES:
        for path, body in (
            ("/api/geofences", {"id": "trav", "action": "deny", "priority": 5, "file": name}),
            ("/api/country-overrides", {"id": "trav", "country": "PL", "file": name}),
        ):
            status, _, data = live.request("POST", path, "operator", body=body, timeout_s=20)
            attempts += 1
            assert status == 422, (path, name, status, data[:300])
            detail = json.loads(data)["detail"]
            assert "expected builtin:NAME or a GeoJSON file inside the scenario's directory" in detail, detail
            assert "root:" not in detail
            problems[name] = detail
        policy = {**draft["policy"], "geofences": [{"id": "trav", "action": "deny", "priority": 5, "file": name}]}
        status, _, data = live.request("PUT", f"/api/policy/drafts/{draft['draft_id']}", "operator",
                                       body={"policy": policy}, timeout_s=20)  # fmt: skip
        attempts += 1
        assert status == 422, (name, status, data[:300])
    # no existence oracle outside the directory
    assert problems["/etc/passwd"].replace("/etc/passwd", "X") == problems["/etc/does-not-exist-leonet"].replace(
        "/etc/does-not-exist-leonet", "X"
    )
    assert live.store.revision() == rev0
    assert len(live.store.audit_entries()) == audit0 + 1  # the draft's creation only
    # a built-in file still works
    ok = {"id": "crimea-2", "country": "UA", "file": "builtin:geofence_regions.geojson",
          "feature": {"region_id": "crimea"}}  # fmt: skip
    status, _, data = live.request("POST", "/api/country-overrides", "operator", body=ok)
    assert status == 201, data
    assert live.request("DELETE", "/api/country-overrides/crimea-2", "operator")[0] == 200
    assert live.healthy()
    print(f"path traversal (geofence files): {attempts} requests, {len(FILE_NAMES)} names, all refused (422)")


def test_oversized_and_deeply_nested_bodies(live: Live) -> None:
    limit = 1 << 20
    hdr = {"Authorization": f"Bearer {live.tokens['operator']}", "Content-Type": "application/json"}
    attempts = 0
    big = b'{"id": "' + b"x" * limit + b'"}'
    for path in ("/api/licences", "/api/terminals", "/api/policy/drafts/1", "/api/tokens", "/healthz"):
        method = "PUT" if "drafts" in path else "POST"
        status, body = _raw(live, method, path, hdr, big)
        attempts += 1
        assert status == 413, (path, status, body[:200])
        assert json.loads(body)["detail"].startswith("request body of")
    status, body = _raw(live, "POST", "/api/licences", hdr, chunks=[b"x" * 65536] * 40)  # 2.5 MiB, no length
    attempts += 1
    assert status == 413, (status, body[:200])
    # without a token a big body is refused before it is read (401), or by size (413): never read into memory
    status, _ = _raw(live, "POST", "/api/licences", {"Content-Type": "application/json"}, big)
    attempts += 1
    assert status in (401, 413)
    depth_cases = {
        "array": b"[" * 200_000 + b"]" * 200_000,
        "object": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        "policy": b'{"policy": ' + b'{"geofences": [' * 20_000 + b"]}" * 20_000 + b"}",
        "huge int": b'{"id": "a", "countries": ["UA"], "priority": ' + b"9" * 100_000 + b"}",
        "big float": b'{"revision": 1e999999}',
        "NaN": b'{"action": "set", "t_s": NaN}',
        "not UTF-8": b'{"id": "\xff\xfe"}',
    }
    for name, raw in depth_cases.items():
        for method, path in (("POST", "/api/licences"), ("PUT", "/api/policy/drafts/1"), ("POST", "/api/clock"),
                             ("POST", "/api/policy/rollback")):  # fmt: skip
            status, body = _raw(live, method, path, hdr, raw)
            attempts += 1
            assert status in (400, 404, 413, 422), (name, path, status, body[:300])
            assert len(body) < 4096, (name, path, "the error echoes the body")
    assert live.healthy()
    print(f"oversized and nested bodies: {attempts} requests, every one 4xx, none crashed the server")


def test_malformed_tokens(live: Live) -> None:
    good = live.tokens["viewer"]
    made = json.loads(live.request("POST", "/api/tokens", "admin", body={"name": "to revoke", "role": "viewer"})[2])
    assert live.request("GET", "/api/clock", made["token"])[0] == 200
    assert live.request("DELETE", f"/api/tokens/{made['id']}", "admin")[0] == 204
    values: list[bytes] = [
        b"",
        b"Bearer",
        b"Bearer ",
        b"Bearer    ",
        b"Basic " + good.encode(),
        b"Token " + good.encode(),
        b"Bearer" + good.encode(),
        b"Bearer " + good[:-1].encode(),
        b"Bearer " + good.encode() + b"x",
        b"Bearer " + good.upper().encode(),
        b"Bearer " + b"A" * 4096,
        b"Bearer " + b"A" * 60_000,
        b"Bearer " + "токен".encode(),
        b"Bearer \xff\xfe\xfd",
        b"Bearer " + good.encode() + b"\t" + good.encode(),
        b"Bearer null",
        b"Bearer undefined",
        b"Bearer ' OR '1'='1",
        b"Bearer " + made["token"].encode(),  # revoked
        b"Bearer " + good.encode()[:10] + b"\x00" + good.encode()[10:],
    ]
    attempts = 0
    for v in values:
        for method, path in (("GET", "/api/clock"), ("GET", "/api/tokens"), ("POST", "/api/policy/drafts")):
            host, port = live.base.removeprefix("http://").rstrip("/").split(":")
            conn = http.client.HTTPConnection(host, int(port), timeout=30)
            try:
                conn.putrequest(method, path)
                conn.putheader("Authorization", v)
                conn.putheader("Content-Length", "0")
                conn.endheaders()
                r = conn.getresponse()
                status, body = r.status, r.read()
            except (ConnectionResetError, http.client.RemoteDisconnected):
                status, body = 0, b""  # a header too large for the server: the connection is refused
            finally:
                conn.close()
            attempts += 1
            assert status in (0, 400, 401, 431), (v[:40], path, status, body[:200])
            assert good.encode() not in body and made["token"].encode() not in body
    # a token in the query string counts on the stream only
    assert live.request("GET", f"/api/clock?token={good}")[0] == 401
    assert live.request("GET", "/api/clock", good)[0] == 200
    assert live.healthy()
    print(f"malformed tokens: {attempts} requests, {len(values)} kinds (a revoked one too), none admitted")


def test_replayed_writes_are_refused(live: Live) -> None:
    """Replay: the same write sent again (a retry after a lost answer, or a captured request).  An apply names
    its draft (applied once: 422 after), and every revision-making write may carry ``If-Match: "R"`` (the
    revision it was made on): sent again after it took effect, the revision has moved on and it is refused
    with 412, nothing written."""
    status, headers, data = live.request("GET", "/api/policy", "viewer")
    rev = json.loads(data)["revision"]
    assert headers["etag"] == f'"{rev}"'
    n_revs = len(json.loads(live.request("GET", "/api/policy/revisions", "viewer")[2]))
    audit0 = len(live.store.audit_entries())
    draft = json.loads(live.request("POST", "/api/policy/drafts", "operator")[2])["draft_id"]
    attempts = 0
    apply = ("POST", f"/api/policy/drafts/{draft}/apply")
    status, _, data = live.request(*apply, "operator", headers={"If-Match": f'"{rev}"'})
    assert status == 200 and json.loads(data)["revision"] == rev + 1, data
    for _ in range(3):
        attempts += 1
        assert live.request(*apply, "operator", headers={"If-Match": f'"{rev}"'})[0] == 412
        attempts += 1
        assert live.request(*apply, "operator")[0] == 422  # a draft is applied once, If-Match or not
    rb = {"revision": rev}
    status, _, data = live.request("POST", "/api/policy/rollback", "operator", body=rb,
                                   headers={"If-Match": f'"{rev + 1}"'})  # fmt: skip
    assert status == 200 and json.loads(data)["revision"] == rev + 2
    for _ in range(3):
        attempts += 1
        status, _, data = live.request("POST", "/api/policy/rollback", "operator", body=rb,
                                       headers={"If-Match": f'"{rev + 1}"'})  # fmt: skip
        assert status == 412 and f"the applied revision is {rev + 2}, not {rev + 1}" in json.loads(data)["detail"]
    cap = {"id": "replay-cap", "max_speed_kmh": 90, "countries": ["UA"]}
    assert live.request("POST", "/api/speed-caps", "operator", body=cap, headers={"If-Match": f'"{rev + 2}"'})[0] == 201
    for _ in range(3):
        attempts += 1
        assert live.request("POST", "/api/speed-caps", "operator", body=cap,
                            headers={"If-Match": f'"{rev + 2}"'})[0] == 412  # fmt: skip
    for bad in ("12abc", '"-1"', "W/", '"' + "9" * 30 + '"', "1, 2"):
        attempts += 1
        assert live.request("DELETE", "/api/speed-caps/replay-cap", "operator", headers={"If-Match": bad})[0] == 412
    revs = json.loads(live.request("GET", "/api/policy/revisions", "viewer")[2])
    assert len(revs) == n_revs + 3  # the apply, the rollback and the speed cap, once each
    assert live.store.revision() == rev + 3
    # the draft, the apply (3 entries), the rollback (2) and the create (3): nothing from the replays
    assert len(live.store.audit_entries()) == audit0 + 1 + 2 + 2 + 3
    assert live.request("DELETE", "/api/speed-caps/replay-cap", "operator", headers={"If-Match": "*"})[0] == 200
    print(f"replays: {attempts} replayed or malformed-precondition writes, none applied twice")


def test_no_token_in_any_log_line(live: Live) -> None:
    """Run last in this module: every request above was logged (the access log at INFO, uvicorn at DEBUG);
    no line holds a token, including the stream's ``?token=`` and the tokens made and revoked above."""
    token = live.tokens["viewer"]
    host, port = live.base.removeprefix("http://").rstrip("/").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.request("GET", f"/api/stream?token={token}")
    r = conn.getresponse()
    assert r.status == 200
    assert r.readline().startswith(b"event: status")
    conn.close()
    live.request("GET", f"/api/frame?token={token}", token)  # a token in a query string where it does not belong
    live.request("GET", "/api/clock", "Bearer-looking " + token)
    made = [t for t in live.store.tokens()]
    lines = live.logs
    access = [x for x in lines if x.startswith("leonet.server.access")]
    assert len(access) > 100 and any("/api/stream" in x for x in access), len(access)
    secrets = list(live.tokens.values())
    leaked = [x for x in lines for s in secrets if s in x]
    assert not leaked, leaked[:3]
    assert not any("token=" in x for x in access), [x for x in access if "token=" in x][:3]
    print(f"logs: {len(lines)} lines captured ({len(access)} access-log lines, {len(made)} tokens made), "
          f"no token in any")  # fmt: skip
