"""Fuzzing ``leonet serve`` from its own OpenAPI document (schemathesis), used by ``tests/test_api_fuzz.py`` (a
bounded run in the suite) and ``benchmarks/fuzz_api.py`` (a longer one).

For every operation of ``/openapi.json``, schemathesis' hypothesis strategies generate requests (valid ones by
the schema, and invalid ones: wrong types, missing fields, odd strings) that are sent over loopback to the real
server with one role's token (or none).  Every answer is checked:

- not a 5xx (``not_a_server_error``), and conforming to the document: a documented status code, content type,
  headers and body schema (schemathesis' ``status_code_conformance``, ``content_type_conformance``,
  ``response_headers_conformance``, ``response_schema_conformance``);
- no role bypass: a viewer never gets a 2xx on a write (any method but GET / HEAD), a caller without a token
  never gets a 2xx under ``/api`` (nor anything but 401 / 429 there), a viewer or operator never a 2xx on
  ``/api/tokens``.

Failures are counted, not raised, so that a run reports every kind it met (one example of each).
"""

from __future__ import annotations

import collections
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
#: not fuzzed: the status stream never ends (its auth and parameters are tested in tests/test_serve_api.py)
SKIP = {("GET", "/api/stream")}
WRITE = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass
class Report:
    role: str | None
    requests: int = 0
    statuses: collections.Counter[int] = field(default_factory=collections.Counter)
    failures: dict[str, str] = field(default_factory=dict)  # kind -> one example
    failure_count: int = 0
    operations: int = 0
    seconds: float = 0.0
    tried: set[tuple[str, str]] = field(default_factory=set)
    generator_errors: collections.Counter[str] = field(default_factory=collections.Counter)

    def fail(self, kind: str, example: str) -> None:
        self.failure_count += 1
        self.failures.setdefault(kind, example)

    def line(self) -> str:
        codes = ", ".join(f"{k}: {v}" for k, v in sorted(self.statuses.items()))
        return (
            f"role {self.role or 'none'}: {self.requests} requests over {len(self.tried)} of {self.operations} "
            f"operations in {self.seconds:.1f} s; statuses {{{codes}}}; {self.failure_count} failed"
        )


def has_inputs(op: Any) -> bool:
    """Whether an operation takes anything (parameters or a body) that an invalid request could get wrong."""
    return bool(list(op.iter_parameters()) or list(op.body))


def bypass(role: str | None, method: str, path: str, status: int) -> str | None:
    """Why an answer is a role bypass, or None."""
    ok = 200 <= status < 300
    if role is None and path.startswith("/api/") and status not in (401, 429):
        return f"no token got {status} (expected 401)"
    if role == "viewer" and method in WRITE and ok:
        return f"a viewer token got {status} on a write"
    if role in ("viewer", "operator") and path.startswith("/api/tokens") and ok:
        return f"a {role} token got {status} on the admin-only /api/tokens"
    return None


def fuzz(
    base: str,
    role: str | None,
    token: str | None,
    *,
    examples: int,
    seconds: float,
    rounds: bool = False,
    protect_tokens: Iterable[int] = (),
    seed: int | None = None,
    timeout_s: float = 60.0,
) -> Report:
    """Fuzz every operation of ``base``'s OpenAPI document with ``token`` (None: without one): one valid request
    each, then up to ``examples`` more per operation and generation mode (valid, invalid) while ``seconds`` have
    not passed (``rounds``: again and again until they have).  Token ids in ``protect_tokens`` are never
    revoked (the run's own tokens)."""
    schema = schemathesis.openapi.from_url(base + "openapi.json")
    schema.config.update(base_url=base.rstrip("/"))
    report = Report(role)
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    protected = set(protect_tokens)
    session = requests.Session()
    t0 = time.monotonic()
    ops = [r.ok() for r in schema.get_all_operations()]
    ops = [op for op in ops if (op.method.upper(), op.path) not in SKIP]
    report.operations = len(ops)

    def run(op: Any, mode: GenerationMode, n: int, timed: bool) -> None:
        method, path = op.method.upper(), op.path

        @given(case=op.as_strategy(generation_mode=mode))
        @settings(
            max_examples=n,
            deadline=None,
            database=None,
            derandomize=seed is not None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=False,
            print_blob=False,
        )
        def one(case: Any) -> None:
            if timed and time.monotonic() - t0 > seconds:
                return
            pp = case.path_parameters or {}
            if path == "/api/tokens/{token_id}" and pp.get("token_id") in protected:
                pp["token_id"] = 10**6 + int(pp["token_id"])  # never revoke the run's own tokens
            try:
                response = case.call(session=session, headers=headers, timeout=timeout_s)
            except requests.RequestException as exc:
                report.requests += 1
                report.fail(f"{method} {path}: no answer ({type(exc).__name__})", str(exc)[:300])
                return
            report.requests += 1
            report.statuses[response.status_code] += 1
            report.tried.add((method, path))
            why = bypass(role, method, path, response.status_code)
            if why is not None:
                report.fail(f"{method} {path}: role bypass", f"{why}: {case.as_curl_command(headers=headers)}")
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except FailureGroup as group:
                for exc in group.exceptions:
                    title = getattr(exc, "title", type(exc).__name__)
                    report.fail(f"{method} {path}: {title} ({response.status_code})", f"{exc}\n{group}"[:1500])

        try:
            one()
        except Unsatisfiable:
            pass  # e.g. no invalid request for an operation without parameters
        except Exception as exc:  # the generator's own trouble (not the server's): counted apart
            report.generator_errors[f"{method} {path}: {type(exc).__name__}"] += 1

    # every operation once with a valid request, whatever the time; then more, valid and not, while time is left
    for op in ops:
        run(op, GenerationMode.POSITIVE, 1, timed=False)
    while time.monotonic() - t0 < seconds:
        before = report.requests
        for op in ops:
            if time.monotonic() - t0 > seconds:
                break
            run(op, GenerationMode.POSITIVE, examples, timed=True)
            if has_inputs(op):
                run(op, GenerationMode.NEGATIVE, examples, timed=True)
        if not rounds or report.requests == before:
            break
    report.seconds = time.monotonic() - t0
    return report
