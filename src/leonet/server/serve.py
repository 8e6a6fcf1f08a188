"""``leonet serve``: open the control store, build the application, bind the socket, print the URL (and the
first admin token, once) and run uvicorn until SIGINT / SIGTERM (or ``stop_after_s``)."""

from __future__ import annotations

import logging
import socket
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from leonet.errors import InputError
from leonet.scenario import Scenario
from leonet.server.ratelimit import DEFAULT_RATE_PER_S

log = logging.getLogger("leonet.server")


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: any free port); one clear error when it cannot be had."""
    if not 0 <= port <= 65535:
        raise InputError("--port", f"got {port}; expected 0..65535 (0: any free port)")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise InputError(
            "--host", f"cannot resolve {host!r} ({exc.strerror}); expected an address such as 127.0.0.1"
        ) from None
    family, _, _, _, addr = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(addr)
    except OSError as exc:
        sock.close()
        raise InputError(
            "--port", f"cannot listen on {host}:{port} ({exc.strerror}); expected a free port (--port 0: any free one)"
        ) from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket, host: str) -> str:
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def serve(
    scenario: Scenario,
    db: str | None,
    host: str,
    port: int,
    *,
    stop_after_s: float | None = None,
    cors_origins: list[str] | None = None,
    rate_limit_per_s: float | None = DEFAULT_RATE_PER_S,
    rate_burst: float | None = None,
    say: Callable[[str], None] = print,
) -> None:
    import uvicorn

    from leonet.control import ControlStore
    from leonet.server.app import create_app

    sock = bind(host, port)  # before anything slow: a port in use is reported at once
    store = ControlStore.open(db, scenario=scenario)
    try:
        token = store.create_admin_token_if_none()
        app = create_app(store, cors_origins=cors_origins, rate_limit_per_s=rate_limit_per_s, rate_burst=rate_burst)
        _warm(app)
        url = url_of(sock, host)
        if token is not None:
            say(f"leonet serve: {url}#token={token}")
            say(f"first admin token (shown once, stored hashed): {token}")
        else:
            say(f"leonet serve: {url} (the database has API tokens already; open the page with #token=<yours>)")
        say(f"database: {store.url}; scenario {store.scenario().name!r}; Ctrl-C or SIGTERM stops it")
        sys.stdout.flush()
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", timeout_graceful_shutdown=5)
        server = _Server(config)
        if stop_after_s is not None:
            timer = threading.Timer(stop_after_s, lambda: setattr(server, "should_exit", True))
            timer.daemon = True
            timer.start()
        server.run(sockets=[sock])
        say("leonet serve: stopped")
    finally:
        sock.close()
        store.close()


def _server_class() -> type:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, but SIGTERM / SIGINT are a clean stop (exit code 0): uvicorn re-raises the signal
        after its graceful shutdown, so that the process would die of it."""

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            super().handle_exit(sig, frame)
            captured = getattr(self, "_captured_signals", None)
            if isinstance(captured, list) and sig in captured:
                captured.remove(sig)

    return Server


def _Server(config: object) -> Any:  # a class made on first use (uvicorn is imported lazily)
    return _server_class()(config)


def _warm(app: object) -> None:
    """Compute the snapshot state at the clock's time and one route before the first request (the routing
    kernels load on first use)."""
    import numpy as np

    from leonet.routing import shortest_routes

    state = getattr(app, "state")  # noqa: B009 - FastAPI's State
    snaps, clock = state.snapshots, state.clock
    e = snaps.entry(0, clock.now_t_s())
    snaps.terminals(e)
    if e.model.world.ground.size >= 2:
        shortest_routes(e.state.snapshot.graph, np.array([0]), np.array([1]))
