"""What one request costs ``leonet serve``: CPU and wall time per request, requests driven straight into the ASGI
application in this process (no network, no HTTP parsing), 300 of each kind, over the default scenario and a
SQLite control store in a temporary directory: ``/healthz``, ``/api/clock``, a route already answered at this
snapshot, and new routes (random city pairs) on a cached snapshot state; then the time to compute a new snapshot
state.  Prints the load average too (on a shared machine the wall times are noise; CPU times less so).

Run: ``python benchmarks/bench_serve_requests.py``.  Prints figures; not a test.
"""

from __future__ import annotations

import asyncio
import os
import random
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

N = 300


def main() -> None:
    from leonet.control import ControlStore
    from leonet.scenario import load_scenario
    from leonet.server.app import create_app

    with tempfile.TemporaryDirectory() as tmp:
        store = ControlStore.open(f"sqlite:///{Path(tmp) / 'bench.db'}", scenario=load_scenario("default"))
        token = store.create_admin_token_if_none()
        app = create_app(store, rate_limit_per_s=None)  # what a request costs, not how many a token may send
        names = list(app.state.snapshots.model().world.ground.names)
        rng = random.Random(0)

        async def call(path: str, qs: str = "", auth: bool = True) -> int:
            headers = [(b"host", b"bench")]
            if auth:
                headers.append((b"authorization", f"Bearer {token}".encode()))
            scope: dict[str, Any] = {
                "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
                "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": qs.encode(),
                "root_path": "", "headers": headers, "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 2),
            }  # fmt: skip
            out: list[dict[str, Any]] = []

            async def receive() -> dict[str, Any]:
                return {"type": "http.request", "body": b"", "more_body": False}

            async def send(msg: dict[str, Any]) -> None:
                out.append(msg)

            await app(scope, receive, send)
            return int(out[0]["status"])

        async def run() -> None:
            assert await call("/api/route", "src=London&dst=Tokyo&t_s=5") == 200
            cases = [
                ("/healthz", lambda: ("/healthz", "", False)),
                ("/api/clock", lambda: ("/api/clock", "", True)),
                ("route, answered before", lambda: ("/api/route", "src=London&dst=Tokyo&t_s=5", True)),
            ]
            for label, make in cases:
                w0, c0 = time.perf_counter(), time.process_time()
                for _ in range(N):
                    path, qs, auth = make()
                    assert await call(path, qs, auth) == 200
                print(f"{label:28s} {(time.process_time() - c0) / N * 1e3:6.2f} ms CPU  "
                      f"{(time.perf_counter() - w0) / N * 1e3:6.2f} ms wall")  # fmt: skip
            w0, c0 = time.perf_counter(), time.process_time()
            for _ in range(N):
                a, b = rng.sample(names, 2)
                assert await call("/api/route", f"src={quote(a)}&dst={quote(b)}&t_s=5") == 200
            print(f"{'route, new (cached state)':28s} {(time.process_time() - c0) / N * 1e3:6.2f} ms CPU  "
                  f"{(time.perf_counter() - w0) / N * 1e3:6.2f} ms wall")  # fmt: skip

        asyncio.run(run())
        snaps = app.state.snapshots
        w0, c0 = time.perf_counter(), time.process_time()
        for k in range(10):
            snaps.entry(0, 100.0 + k)
        print(f"{'new snapshot state':28s} {(time.process_time() - c0) / 10 * 1e3:6.2f} ms CPU  "
              f"{(time.perf_counter() - w0) / 10 * 1e3:6.2f} ms wall")  # fmt: skip
        print(f"load average: {os.getloadavg()} on {os.cpu_count()} CPUs")
        app.state.decision_log.close()
        store.close()


if __name__ == "__main__":
    main()
