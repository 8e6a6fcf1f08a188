"""A real ``leonet serve`` application on loopback for the hostile-client tests: uvicorn in a thread on port 0
(``leonet.server.serve.bind``), over a ControlStore on an SQLite file, with an admin, an operator and a viewer
token, every log record of the process captured (``Live.logs``: the formatted lines, at DEBUG, the access log
included) so that a test can look for tokens in them."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leonet.control import ControlStore
from leonet.scenario import load_scenario

ROLES = ("viewer", "operator", "admin")


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:  # a record that cannot be formatted is kept as its raw parts
            text = f"{record.name} {record.msg!r} {record.args!r}"
        self.lines.append(text)


@dataclass
class Live:
    base: str
    store: ControlStore
    tokens: dict[str, str]
    app: Any
    log: _Capture = field(repr=False)

    @property
    def logs(self) -> list[str]:
        return list(self.log.lines)

    def request(
        self,
        method: str,
        path: str,
        token: str | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
        timeout_s: float = 60.0,
    ) -> tuple[int, dict[str, str], bytes]:
        """One HTTP request (urllib, a fresh connection); ``token``: a role name or a token's text."""
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = f"Bearer {self.tokens.get(token, token)}"
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        req = urllib.request.Request(self.base.rstrip("/") + path, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=timeout_s) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def healthy(self) -> bool:
        status, _, body = self.request("GET", "/healthz")
        return status == 200 and json.loads(body)["status"] == "ok"


@contextmanager
def live_server(tmp: Path, scenario: str = "default", db_url: str | None = None, **app_kwargs: Any) -> Iterator[Live]:
    """The service on ``127.0.0.1:<free port>`` until the block ends (over an SQLite file in ``tmp``, or the
    empty database ``db_url``)."""
    import uvicorn

    from leonet.server.app import create_app
    from leonet.server.serve import bind, url_of

    capture = _Capture()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    store = ControlStore.open(db_url or f"sqlite:///{tmp / 'live.db'}", scenario=load_scenario(scenario))
    tokens = {"admin": store.create_admin_token_if_none() or ""}
    for role in ("viewer", "operator"):
        tokens[role] = store.create_token(f"live {role}", role, actor="test")[1]  # type: ignore[arg-type]
    sock = bind("127.0.0.1", 0)
    app = create_app(store, **app_kwargs)
    config = uvicorn.Config(app, log_level="debug", access_log=False, lifespan="on", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise AssertionError("the server did not start")
        time.sleep(0.02)
    live = Live(url_of(sock, "127.0.0.1"), store, tokens, app, capture)
    try:
        yield live
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
        store.close()
        root.removeHandler(capture)
        root.setLevel(old_level)
