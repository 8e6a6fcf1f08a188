"""The HTTP edge of ``leonet serve`` (FastAPI): ``create_app(store)`` mounts the simulation API
(:mod:`leonet.server.api_sim`), the control API (``leonet.server.api_control``), ``/healthz``, ``/metrics`` and
the page's static files, with a request size limit, no CORS unless asked for, and a decision log written in
batches off the request path.  Tokens are never logged: the access log prints paths without query strings, and
``/api/stream?token=`` (the one endpoint that accepts a token in the URL, because EventSource sends no headers)
has its token moved into the ``Authorization`` header before anything else sees the request."""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from importlib import resources
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qsl, urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from leonet.errors import InputError
from leonet.server.api_sim import SimContext
from leonet.server.api_sim import router as sim_router
from leonet.server.clock import Clock
from leonet.server.ratelimit import DEFAULT_RATE_PER_S, RateLimiter, retry_after_s
from leonet.server.snapshots import DEFAULT_CAPACITY, Snapshots
from leonet.server.store_protocol import DecisionRecord, SimStore

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: the largest request body accepted (bytes); larger ones get 413
MAX_BODY_BYTES = 1 << 20
#: the decision log is written at least this often (s), or when this many records are waiting
LOG_FLUSH_S = 0.25
LOG_FLUSH_RECORDS = 2000

access_log = logging.getLogger("leonet.server.access")


#: the error answers every operation may give, as documented in /openapi.json (all ``{"detail": "<one line>"}``)
ERRORS = {
    400: "the body could not be read (not JSON, not UTF-8)",
    401: "no token, a malformed Authorization header, or a token that is not live (WWW-Authenticate: Bearer)",
    403: "the token's role is below the one this needs",
    404: "no such draft, revision, rule, terminal, account or token",
    412: "If-Match names a revision that is no longer the applied one (or is malformed): nothing was changed",
    413: f"the request body is larger than the limit ({MAX_BODY_BYTES} bytes by default)",
    422: "a parameter or the body is not valid; the detail says which field and what was expected",
    429: "this token (or, without a live token, this address) is over its rate limit; Retry-After says when to retry",
}
DETAIL_SCHEMA = {
    "title": "Detail",
    "type": "object",
    "properties": {"detail": {"type": "string", "title": "Detail"}},
    "required": ["detail"],
}


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` (FastAPI's OpenAPI document) with the error answers each operation can give (:data:`ERRORS`),
    in place of FastAPI's default 422 body (this service's 422 detail is one line of text, not a list)."""
    comps = schema.setdefault("components", {}).setdefault("schemas", {})
    comps["Detail"] = DETAIL_SCHEMA
    ref = {"$ref": "#/components/schemas/Detail"}
    for path, ops in schema.get("paths", {}).items():
        for method, op in ops.items():
            api = path.startswith("/api/")
            codes = {413} | ({429} if path not in RATE_EXEMPT else set())
            if api:
                codes |= {400, 401, 404, 422}
                if method != "get" or path.startswith("/api/tokens"):
                    codes.add(403)
                if any(p.get("name") == "If-Match" for p in op.get("parameters", [])):
                    codes.add(412)
            responses = op.setdefault("responses", {})
            for code in sorted(codes):
                r: dict[str, Any] = {"description": ERRORS[code], "content": {"application/json": {"schema": ref}}}
                if code == 429:
                    r["headers"] = {"Retry-After": {"required": True, "schema": {"type": "integer", "minimum": 1}}}
                if code == 401:
                    r["headers"] = {"WWW-Authenticate": {"required": True, "schema": {"type": "string"}}}
                responses[str(code)] = r
    for name in ("HTTPValidationError", "ValidationError"):
        comps.pop(name, None)
    return schema


def validation_detail(exc: RequestValidationError) -> str:
    """FastAPI's validation error as this service's one line: ``<where>: <problem>; got <input>``."""
    errs = exc.errors()
    e = errs[0] if errs else {}
    where = ".".join(str(p) for p in e.get("loc", ())) or "request"
    msg = " ".join(str(e.get("msg", "not valid")).split())
    got = " ".join(repr(e.get("input"))[:80].split())
    return f"{where}: {msg}; got {got}"


class DecisionLog:
    """Decision records queued by the request handlers and written to the store in batches by one thread."""

    def __init__(self, store: SimStore, flushed: Callable[[int], None] | None = None) -> None:
        self._store = store
        self._q: queue.Queue[list[DecisionRecord] | None] = queue.Queue()
        self._flushed = flushed
        self._thread = threading.Thread(target=self._run, name="leonet-decision-log", daemon=True)
        self._pending = 0  # batches queued and not yet written, under ``_cv``
        self._cv = threading.Condition()
        self._thread.start()

    def __call__(self, records: list[DecisionRecord]) -> None:
        if records:
            with self._cv:
                self._pending += 1
            self._q.put(records)

    def _run(self) -> None:
        stop = False
        while not stop:
            batch: list[DecisionRecord] = []
            taken = 0
            deadline = time.monotonic() + LOG_FLUSH_S
            try:
                item = self._q.get(timeout=LOG_FLUSH_S)
                if item is None:
                    stop = True
                elif item:
                    batch += item
                    taken += 1
                while not stop and len(batch) < LOG_FLUSH_RECORDS:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    item = self._q.get(timeout=left)
                    if item is None:
                        stop = True
                    elif not item:  # flush(): write what is here now
                        break
                    else:
                        batch += item
                        taken += 1
            except queue.Empty:
                pass
            if batch:
                try:
                    self._store.log_decisions(batch)
                    if self._flushed is not None:
                        self._flushed(len(batch))
                except Exception:  # the log must not take the server down; it says so
                    logging.getLogger("leonet.server").exception("writing %d decision records failed", len(batch))
            if taken:
                with self._cv:
                    self._pending -= taken
                    self._cv.notify_all()

    def flush(self, timeout_s: float = 5.0) -> bool:
        """Wait until every record queued so far is written (True) or ``timeout_s`` passed (False)."""
        with self._cv:
            if self._pending == 0:
                return True
        self._q.put([])  # the writer stops gathering and writes at once
        with self._cv:
            return self._cv.wait_for(lambda: self._pending == 0, timeout_s)

    def close(self) -> None:
        self._q.put(None)
        self._thread.join(timeout=10)


def _redact_stream_token(app: ASGIApp) -> ASGIApp:
    """Outermost middleware: on ``/api/stream`` only, ``?token=`` becomes the ``Authorization`` header and is
    removed from the query string (in place, so that no log downstream can print it)."""

    async def mw(scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope.get("path") == "/api/stream"
            and b"token=" in scope.get("query_string", b"")
        ):
            pairs = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
            token = next((v for k, v in pairs if k == "token"), "")
            scope["query_string"] = urlencode([(k, v) for k, v in pairs if k != "token"]).encode("latin-1")
            headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() != b"authorization"]
            has_header = any(k.lower() == b"authorization" for k, _ in scope.get("headers", []))
            if token and not has_header:
                headers.append((b"authorization", f"Bearer {token}".encode("latin-1")))
                scope["headers"] = headers
        await app(scope, receive, send)

    return mw


def _limit_body(app: ASGIApp, max_bytes: int) -> ASGIApp:
    """413 with a JSON body for a request whose body is larger than ``max_bytes`` (by its Content-Length, or
    counted as it arrives)."""

    async def too_large(send: Send, size: str) -> None:
        body = f'{{"detail": "request body {size} is larger than the limit of {max_bytes} bytes"}}'.encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def mw(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        for k, v in scope.get("headers", []):
            if k.lower() == b"content-length" and v.isdigit() and int(v) > max_bytes:
                await too_large(send, f"of {int(v)} bytes")
                return
        seen = 0
        refused = False

        async def counting() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > max_bytes:
                    # answer 413 now; the application sees the client go away and its answer is dropped
                    refused = True
                    await too_large(send, f"of more than {max_bytes} bytes")
                    return {"type": "http.disconnect"}
            return msg

        async def guarded(msg: Message) -> None:
            if not refused:
                await send(msg)

        try:
            await app(scope, counting, guarded)
        except Exception:
            if not refused:
                raise

    return mw


#: paths no rate limit applies to (a health check must answer however busy a token is)
RATE_EXEMPT = frozenset({"/healthz"})


async def _send_json(send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]]) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _gate(app: ASGIApp, limiter: RateLimiter | None, auth: _AuthCache | None, check_token: bool) -> ASGIApp:
    """Before a request reaches FastAPI: the rate limit (429 with ``Retry-After`` for a caller whose bucket is
    empty), then, with ``check_token``, the token of every ``/api`` request (401 without a live one, before
    the body or the parameters are read: a caller without a token learns nothing but that it needs one).

    The rate limit's caller is the sha256 digest of a live token (``Authorization: Bearer``, or the stream's
    ``?token=`` moved there), else the client's address (no token, or one that is not live: cycling made-up
    tokens does not give a fresh bucket each time).  ``/healthz`` is exempt."""
    from leonet.control.tokens import digest
    from leonet.server.auth import NOT_LIVE, parse_bearer

    www = [(b"www-authenticate", b"Bearer")]

    async def mw(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path in RATE_EXEMPT:
            await app(scope, receive, send)
            return
        header = next((v for k, v in scope.get("headers", []) if k.lower() == b"authorization"), None)
        token, problem = parse_bearer(None if header is None else header.decode("latin-1"))
        live = token is not None and auth is not None and auth.authenticate(token) is not None
        if token is not None and not live:
            problem = NOT_LIVE
        if limiter is not None:
            client = scope.get("client")
            key = "token:" + digest(token) if live and token else "client:" + (str(client[0]) if client else "?")
            wait = limiter.check(key)
            if wait > 0:
                after = retry_after_s(wait)
                detail = (
                    f"rate limit of {limiter.rate_per_s:g} requests/s (burst {limiter.burst:g}) per token exceeded; "
                    f"expected a retry after {after} s"
                )
                await _send_json(send, 429, detail, [(b"retry-after", str(after).encode())])
                return
        preflight = scope.get("method") == "OPTIONS"  # a CORS preflight carries no token (the browser's rule)
        if check_token and not live and not preflight and (path == "/api" or path.startswith("/api/")):
            await _send_json(send, 401, problem, www)
            return
        await app(scope, receive, send)

    return mw


#: a token's look-up is kept this long (s); a token revoked through this server stops working at once, one
#: revoked by another process within this time
AUTH_TTL_S = 1.0


class _AuthCache:
    """The store as ``leonet.server.auth`` sees it (``request.app.state.store``), with ``authenticate`` cached
    for :data:`AUTH_TTL_S` (a database read per request would cost more than the answer); everything else is
    the store's own."""

    def __init__(self, store: object) -> None:
        self._store = store
        self._cache: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def authenticate(self, token: str) -> Any:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(token)
        if hit is not None and now - hit[0] < AUTH_TTL_S:
            return hit[1]
        who = self._store.authenticate(token)  # type: ignore[attr-defined]
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[token] = (now, who)
        return who

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def _default_require() -> Callable[[str], Callable[..., Any]]:
    from leonet.server.auth import require

    return require  # type: ignore[return-value]


def _static_dir() -> Path | None:
    try:
        p = Path(str(resources.files("leonet.server") / "static"))
    except (ModuleNotFoundError, TypeError):
        return None
    return p if (p / "index.html").is_file() else None


def create_app(
    store: SimStore,
    *,
    require: Callable[[str], Callable[..., Any]] | None = None,
    control: bool = True,
    capacity: int = DEFAULT_CAPACITY,
    max_body_bytes: int = MAX_BODY_BYTES,
    cors_origins: list[str] | None = None,
    wall: Callable[[], float] = time.time,
    rate_limit_per_s: float | None = DEFAULT_RATE_PER_S,
    rate_burst: float | None = None,
    rate_clock: Callable[[], float] = time.monotonic,
) -> FastAPI:
    """The service's ASGI application over ``store``.  ``require(role)``: the auth dependency (default:
    ``leonet.server.auth.require``); ``control``: mount the control API (``leonet.server.api_control``);
    ``cors_origins``: allow these origins (default: none, CORS off); ``rate_limit_per_s`` / ``rate_burst``:
    the per-token limit (:mod:`leonet.server.ratelimit`; None or 0: none; burst default: twice the rate)."""
    req = require or _default_require()
    registry = CollectorRegistry()
    m_requests = Counter(
        "leonet_http_requests", "HTTP requests answered", ["route", "method", "status"], registry=registry
    )
    m_latency = Histogram(
        "leonet_http_request_seconds",
        "time to answer an HTTP request",
        ["route"],
        registry=registry,
        buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0),
    )
    m_decisions = Counter("leonet_decisions_logged", "decision records written to the decision log", registry=registry)
    log = DecisionLog(store, flushed=m_decisions.inc)
    snaps = Snapshots(store, capacity=capacity, on_decisions=log)
    clock = Clock(store, snaps.model().world.scenario.epoch, wall=wall)
    Gauge(
        "leonet_sim_time_seconds", "the simulated clock (s after the scenario epoch)", registry=registry
    ).set_function(clock.now_t_s)
    Gauge("leonet_policy_revision", "the applied policy revision", registry=registry).set_function(
        lambda: snaps.model().revision
    )
    Gauge("leonet_snapshot_cache_hits", "snapshot-state cache hits", registry=registry).set_function(lambda: snaps.hits)
    Gauge("leonet_snapshot_cache_misses", "snapshot-state cache misses", registry=registry).set_function(
        lambda: snaps.misses
    )
    ctx = SimContext(snaps, clock, log)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            log.flush()
            log.close()

    app = FastAPI(
        title="leonet serve",
        description="The operator service of leonet: the constellation, routes and decisions on a simulated clock.",
        version="1",
        lifespan=lifespan,
    )
    auth_cache = _AuthCache(store)
    app.state.store = auth_cache  # what leonet.server.auth reads: the store, token look-ups cached briefly
    app.state.snapshots = snaps
    app.state.clock = clock
    app.state.decision_log = log

    @app.exception_handler(InputError)
    async def _input_error(_: Request, exc: InputError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": validation_detail(exc)}, status_code=422)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_errors(FastAPI.openapi(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    async def measure(scope: Scope, receive: Receive, send: Send, inner: ASGIApp) -> None:
        """Per request: the latency histogram and request counter by route template, the access log line (the
        path, never the query string), and after a successful change the revision / token caches dropped."""
        if scope["type"] != "http":
            await inner(scope, receive, send)
            return
        t0 = time.perf_counter()
        status = 500

        async def sending(msg: Message) -> None:
            nonlocal status
            if msg["type"] == "http.response.start":
                status = int(msg["status"])
            await send(msg)

        try:
            await inner(scope, receive, sending)
        finally:
            path = scope.get("path", "")
            route = scope.get("route")
            name = getattr(route, "path", None) or "other"
            if path.startswith("/api/") and not name.startswith("/api"):
                name = "/api" + name  # routes of an included router carry the path without the prefix
            dt = time.perf_counter() - t0
            method = scope.get("method", "")
            if method not in ("GET", "HEAD", "OPTIONS") and status < 400:
                snaps.invalidate()  # a change made here (policy, terminals, tokens): seen by the next request
                auth_cache.clear()
            m_latency.labels(name).observe(dt)
            m_requests.labels(name, method, str(status)).inc()
            access_log.info("%s %s %d %.1f ms", method, path, status, dt * 1e3)

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        m = snaps.model()
        return {"status": "ok", "scenario": m.world.scenario.name, "revision": m.revision, "t_s": clock.now_t_s()}

    @app.get("/metrics", response_class=Response)
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    app.include_router(sim_router(ctx, req), prefix="/api")
    if control:
        from leonet.control import ControlStore
        from leonet.server import api_control

        # the control API's previews use the world the simulation side keeps (one assembly per revision)
        app.include_router(
            api_control.router(
                cast(ControlStore, store), world=lambda: snaps.model().world, flush_decisions=log.flush
            ),
            prefix="/api"
        )
    if cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=cors_origins, allow_methods=["*"], allow_headers=["*"])
    static = _static_dir()
    if static is not None:
        from fastapi.staticfiles import StaticFiles

        app.mount("/", StaticFiles(directory=static, html=True), name="page")
    # outermost first: the stream token is moved before the size limit, the metrics and the routes see it; the
    # rate limit is inside the metrics (a 429 is counted and logged)
    limiter = RateLimiter(rate_limit_per_s, rate_burst, clock=rate_clock) if rate_limit_per_s else None
    app.state.rate_limiter = limiter
    # with the default auth, a token is checked before FastAPI reads a body (a store without ``authenticate``, the
    # tests' in-memory one, keys the rate limit by client address alone)
    keyed = auth_cache if hasattr(store, "authenticate") else None
    if limiter is not None or require is None:
        app.add_middleware(
            _GateMiddleware, limiter=limiter, auth=keyed, check_token=require is None and keyed is not None
        )
    app.add_middleware(_Wrap, fn=measure)
    app.add_middleware(_LimitMiddleware, max_bytes=max_body_bytes)
    app.add_middleware(_RedactMiddleware)
    return app


class _Wrap:
    def __init__(self, app: ASGIApp, fn: Callable[[Scope, Receive, Send, ASGIApp], Awaitable[None]]) -> None:
        self._app, self._fn = app, fn

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._fn(scope, receive, send, self._app)


class _LimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self._inner = _limit_body(app, max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._inner(scope, receive, send)


class _GateMiddleware:
    def __init__(self, app: ASGIApp, limiter: RateLimiter | None, auth: _AuthCache | None, check_token: bool) -> None:
        self._inner = _gate(app, limiter, auth, check_token)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._inner(scope, receive, send)


class _RedactMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self._inner = _redact_stream_token(app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._inner(scope, receive, send)
