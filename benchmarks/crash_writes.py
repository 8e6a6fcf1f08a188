"""Crash safety of the control store: a stream of API writes, the server SIGKILLed at random moments.

Each round starts the server on the same database, sends writes one after another (each a new registered
terminal, ``POST /api/terminals``; a write counts as *acknowledged* when its 201 response has arrived), and
SIGKILLs the server after a random delay.  After each restart every acknowledged write must be in the
registry (``GET /api/accounts``) and in the audit log (``GET /api/audit``), and the audit chain must verify
(``GET /api/audit/verify`` after every restart, the same check as ``leonet audit verify``, which runs after the
last restart, or after every one with ``--cli-verify``).  Writes in flight at the kill may or may not have
been committed; they are counted, not required.

Run: ``python benchmarks/crash_writes.py [--rounds 100] [--db URL] [--seed 0] [--server serve|router]``.
``--server serve`` runs ``leonet serve`` (the whole service); ``router`` a uvicorn app of the control API alone
(``leonet.server.api_control``), for a branch without ``leonet serve``; the default takes ``serve`` when the
command exists.  ``LEONET_CRASH_FAULT=ack-before-commit`` (router only) makes the server answer before it
commits, to see this script fail (tests/test_crash_writes.py).  Prints one line per round with ``-v`` and a
summary line; exits 1 if any acknowledged write is missing or the audit chain breaks.

A SIGKILL loses the process, not the machine: what it shows is that a write is acknowledged only after its
transaction has committed.  Surviving a power cut as well is what SQLite's ``synchronous=FULL`` is for; this
script does not cut power.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LEONET = [sys.executable, "-m", "leonet.cli"]
SCENARIO = "default"


def _has_serve() -> bool:
    r = subprocess.run([*LEONET, "serve", "--help"], capture_output=True, text=True)
    return r.returncode == 0


def _router_child(db: str) -> None:
    """The ``router`` server: the control API alone on 127.0.0.1 (a free port), printing its URL as
    ``leonet serve`` does."""
    import socket

    import uvicorn
    from fastapi import FastAPI

    from leonet.control import ControlStore
    from leonet.scenario import load_scenario
    from leonet.server import api_control

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    store = ControlStore.open(db, scenario=load_scenario(SCENARIO))
    token = store.create_admin_token_if_none()
    # warm what the first write needs (the country table behind every country-code check), as serve warms up
    store.scenario().model_copy(
        update={"policy": {"terminals": [{"id": "K", "account": "a", "registered_country": "UA"}]}}
    ).compiled_policy()
    if os.environ.get("LEONET_CRASH_FAULT") == "ack-before-commit":  # for the test that this script can fail
        real = store.change_policy

        def late(*a: Any, **k: Any) -> int:
            threading.Timer(5.0, real, a, k).start()
            return -1

        store.change_policy = late  # type: ignore[method-assign]
    app = FastAPI()
    app.state.store = store
    app.include_router(api_control.router(store), prefix="/api")
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    print(f"leonet serve: {url}" + (f"#token={token}" if token else ""), flush=True)
    uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False)).run(sockets=[sock])


@dataclass
class Tally:
    acked: list[str] = field(default_factory=list)
    unacked: list[str] = field(default_factory=list)


def _start(mode: str, db: str) -> tuple[subprocess.Popen[str], int, str | None]:
    if mode == "serve":
        cmd = [*LEONET, "serve", SCENARIO, "--db", db, "--port", "0"]
    else:
        cmd = [sys.executable, __file__, "--child", db]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            err = proc.stderr.read() if proc.stderr else ""
            raise SystemExit(f"crash_writes: the server exited before it was ready: {err.strip()[-500:]}")
        m = re.search(r"http://127\.0\.0\.1:(\d+)/(?:#token=(\S+))?", line)
        if m:
            threading.Thread(target=proc.stdout.read, daemon=True).start()  # drain the rest
            return proc, int(m.group(1)), m.group(2)
    raise SystemExit("crash_writes: the server did not print its URL within 120 s")


def _request(port: int, token: str, method: str, path: str, body: Any = None, timeout: float = 30) -> tuple[int, Any]:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = None if body is None else json.dumps(body)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        c.request(method, path, body=data, headers=headers)
        r = c.getresponse()
        raw = r.read()
        return r.status, json.loads(raw) if raw else None
    finally:
        c.close()


def _wait_ready(port: int, token: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if _request(port, token, "GET", "/api/policy", timeout=5)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit("crash_writes: the server did not answer /api/policy within 60 s")


def _writer(port: int, token: str, rnd: int, stop: threading.Event, tally: Tally, rng: random.Random) -> None:
    i = 0
    while not stop.is_set():
        kit = f"KIT-CRASH-{rnd:03d}-{i:04d}"
        body = {"kit_id": kit, "account": f"crash-{rnd:03d}-{i:04d}", "lat_deg": rng.uniform(-60, 60),
                "lon_deg": rng.uniform(-180, 180)}  # fmt: skip
        try:
            status, _ = _request(port, token, "POST", "/api/terminals", body)
        except OSError:  # the server died with this request in flight
            tally.unacked.append(kit)
            return
        if status != 201:
            raise SystemExit(f"crash_writes: POST /api/terminals answered {status} for {kit}")
        tally.acked.append(kit)
        i += 1


def _check(port: int, token: str, db: str, tally: Tally, cli: bool) -> tuple[int, int]:
    """(entries in the audit log, unacknowledged writes that were committed anyway); exits on a loss."""
    status, accounts = _request(port, token, "GET", "/api/accounts")
    assert status == 200, status
    registered = {k for a in accounts for k in a["terminals"]}
    created: set[str] = set()
    after = 0
    while True:
        status, page = _request(port, token, "GET", f"/api/audit?after_seq={after}&limit=1000")
        assert status == 200, status
        if not page:
            break
        created |= {e["entity"].split("/", 1)[1] for e in page if e["action"] == "terminal.create"}
        after = page[-1]["seq"]
    lost = [k for k in tally.acked if k not in registered or k not in created]
    if lost:
        raise SystemExit(f"crash_writes: {len(lost)} acknowledged writes lost after a SIGKILL, e.g. {lost[:3]}")
    status, v = _request(port, token, "GET", "/api/audit/verify", timeout=300)
    if status != 200 or not v["intact"]:
        raise SystemExit(f"crash_writes: the audit chain is broken after a restart: {v}")
    if cli:  # the command itself (a process of its own: slower, so after the last restart only, and on request)
        verify = subprocess.run([*LEONET, "audit", "verify", "--db", db], capture_output=True, text=True)
        if verify.returncode != 0:
            raise SystemExit(f"crash_writes: leonet audit verify failed: {verify.stderr.strip() or verify.stdout}")
    return after, sum(k in registered for k in tally.unacked)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=100)
    ap.add_argument("--db", help="database URL (default: a SQLite file in a temporary directory)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--server", choices=["auto", "serve", "router"], default="auto")
    ap.add_argument("--min-delay-s", type=float, default=0.05, help="shortest time before a kill (s)")
    ap.add_argument("--max-delay-s", type=float, default=3.0, help="longest time before a kill (s)")
    ap.add_argument("--cli-verify", action="store_true", help="run `leonet audit verify` after every restart")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        _router_child(args.child)
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a killed run stops its server too (finally below)
    mode = args.server if args.server != "auto" else ("serve" if _has_serve() else "router")
    tmp = tempfile.TemporaryDirectory(prefix="leonet-crash-")
    db = args.db or f"sqlite:///{Path(tmp.name) / 'crash.db'}"
    rng = random.Random(args.seed)
    tally = Tally()
    token: str | None = None
    entries = committed_unacked = 0
    t0 = time.monotonic()
    for rnd in range(args.rounds + 1):  # the last start only checks
        proc, port, first_token = _start(mode, db)
        token = token or first_token
        if token is None:
            proc.kill()
            raise SystemExit("crash_writes: the server printed no admin token; expected a fresh database (--db)")
        try:
            _wait_ready(port, token)
            entries, committed_unacked = _check(port, token, db, tally, args.cli_verify or rnd == args.rounds)
            if rnd == args.rounds:
                break
            stop = threading.Event()
            before = len(tally.acked)
            w = threading.Thread(target=_writer, args=(port, token, rnd, stop, tally, rng), daemon=True)
            w.start()
            time.sleep(rng.uniform(args.min_delay_s, args.max_delay_s))
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            stop.set()
            w.join(timeout=60)
            if args.verbose:
                print(f"round {rnd + 1}: {len(tally.acked) - before} writes acknowledged before the SIGKILL",
                      flush=True)  # fmt: skip
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
    print(
        f"{args.rounds} SIGKILL rounds ({mode}, {db.split(':', 1)[0]}): {len(tally.acked)} acknowledged writes, all "
        f"present after the restarts; {len(tally.unacked)} in flight at a kill ({committed_unacked} of them "
        f"committed); audit chain intact after every restart ({entries} entries; `leonet audit verify` exit 0); "
        f"{time.monotonic() - t0:.0f} s, "
        f"load {os.getloadavg()[0]:.1f}"
    )
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
