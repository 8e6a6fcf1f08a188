"""``leonet serve`` fuzzed from its own OpenAPI document (schemathesis) on loopback, with an admin token, a viewer
token and none, for a bounded time (``tests/api_fuzz.py`` says what is checked; ``benchmarks/fuzz_api.py``
runs the same for longer).  Every operation gets at least one request per role; the run prints how many
requests were tried and their status codes.  After each run the server still answers ``/healthz``, the audit
chain verifies, and no token is in any log line of the server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from api_fuzz import fuzz
from serve_live import Live, live_server

#: wall seconds of fuzzing per role after the first pass (one valid request per operation); the first pass
#: takes ~10-20 s on a loaded 2-core machine
BUDGET_S = {None: 3.0, "viewer": 12.0, "admin": 15.0}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with live_server(tmp_path_factory.mktemp("fuzz"), "front-whitelist-2026") as server:
        yield server


@pytest.mark.parametrize("role", [None, "viewer", "admin"])
def test_fuzz_from_openapi(live: Live, role: str | None) -> None:
    token_ids = [t["id"] for t in live.store.tokens()]
    report = fuzz(
        live.base, role, live.tokens.get(role or ""), examples=2, seconds=BUDGET_S[role], protect_tokens=token_ids
    )
    print(report.line())
    for kind, n in report.generator_errors.items():
        print(f"  (generator, not the server) {kind}: {n}")
    problems = "\n".join(f"{k}\n    {v}" for k, v in report.failures.items())
    assert report.failure_count == 0, f"{report.line()}\n{problems}"
    assert len(report.tried) == report.operations > 70, report.line()
    assert 500 not in report.statuses and not any(s >= 500 for s in report.statuses)
    if role is None:
        assert set(report.statuses) <= {200, 401, 429}  # 200: /healthz, /metrics, /openapi.json only
    # the server survived and its state is whole
    assert live.healthy()
    assert live.store.verify_audit().intact
    leaked = [line for line in live.logs for t in live.tokens.values() if t in line]
    assert not leaked, leaked[:3]
