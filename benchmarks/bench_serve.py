"""``leonet serve`` under load: route queries from this process to a server process on loopback at a fixed rate
(default 200 requests/s for 60 s, open loop: each request is sent at its scheduled time and its latency counted
from then, so a slow server cannot slow the load down), while policy edits run through the API at the same time
(default one a second: a speed cap created, then deleted, each a new policy revision).  Prints p50 / p90 / p99 /
max latency, the achieved rate, errors, the edits sent and acknowledged and how many of them the audit log holds
(every acknowledged edit must be there), and the load average before and after.  Then the size of the page's
binary frame for ``starlink-gen1`` (4,408 satellites), computed in this process.

Run: ``python benchmarks/bench_serve.py [SCENARIO] [--rate 200] [--seconds 60] [--edits-per-s 1]``.  Prints
figures; not a test.  Start it on a quiet machine: the server and this client share the cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def start_server(scenario: str, workdir: Path) -> tuple[subprocess.Popen[str], str, str]:
    cmd = ["leonet", "serve", scenario, "--port", "0", "--db", f"sqlite:///{workdir / 'bench.db'}"]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    p = subprocess.Popen(cmd, cwd=workdir, env=env, text=True, stdout=subprocess.PIPE)
    assert p.stdout is not None
    first = p.stdout.readline()
    m = re.search(r"(http://[^/]+/)#token=(\S+)", first)
    if m is None:
        p.kill()
        raise SystemExit(f"the server did not print its URL and token: {first!r}")
    while not p.stdout.readline().startswith("database:"):
        pass
    return p, m.group(1), m.group(2)


class Conn:
    """One keep-alive HTTP/1.1 connection with a minimal client (request line, headers, a Content-Length body):
    much cheaper per request than a general client, so that this process is not the bottleneck."""

    def __init__(self, host: str, port: int, token: str) -> None:
        self.host, self.port, self.token = host, port, token
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = (f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nAuthorization: Bearer {self.token}\r\n"
                f"Content-Length: {len(body)}\r\nContent-Type: application/json\r\n\r\n")  # fmt: skip
        self.writer.write(head.encode() + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            k, _, v = line.decode("latin-1").partition(":")
            if k.lower() == "content-length":
                length = int(v)
        data = await self.reader.readexactly(length) if length else b""
        return status, data


async def load(base: str, token: str, rate: float, seconds: float, edits_per_s: float, names: list[str],
               connections: int) -> dict:  # type: ignore[type-arg]  # fmt: skip
    from urllib.parse import quote, urlsplit

    u = urlsplit(base)
    host, port = u.hostname or "127.0.0.1", u.port or 80
    lat: list[float] = []
    errors: dict[str, int] = {}
    edits = {"sent": 0, "acked": 0, "failed": 0}
    rng = random.Random(1)
    n = int(rate * seconds)
    pairs = [rng.sample(names, 2) for _ in range(n)]
    queue: asyncio.Queue[tuple[int, float] | None] = asyncio.Queue()
    t0 = time.perf_counter() + 0.5

    async def worker() -> None:
        c = Conn(host, port, token)
        while (job := await queue.get()) is not None:
            k, at = job
            a, b = pairs[k]
            try:
                status, _ = await c.request("GET", f"/api/route?src={quote(a)}&dst={quote(b)}")
                if status != 200:
                    errors[str(status)] = errors.get(str(status), 0) + 1
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                c = Conn(host, port, token)
            lat.append(time.perf_counter() - at)

    async def scheduler() -> None:
        for k in range(n):  # open loop: each request is due at its time, whether or not earlier ones are done
            at = t0 + k / rate
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            queue.put_nowait((k, at))
        for _ in range(connections):
            queue.put_nowait(None)

    async def editor() -> None:
        if edits_per_s <= 0:
            return
        c = Conn(host, port, token)
        k = 0
        while (due := t0 + k / edits_per_s) < t0 + seconds:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            rid = f"bench-cap-{k // 2}"
            edits["sent"] += 1
            if k % 2 == 0:
                body = json.dumps({"id": rid, "max_speed_kmh": 500 + k}).encode()
                status, text = await c.request("POST", "/api/speed-caps", body)
            else:
                status, text = await c.request("DELETE", f"/api/speed-caps/{rid}")
            if status in (200, 201):
                edits["acked"] += 1
            else:
                edits["failed"] += 1
                print(f"edit {k} refused: {status} {text[:200]!r}", file=sys.stderr)
            k += 1

    wall0 = time.perf_counter()
    await asyncio.gather(scheduler(), editor(), *(worker() for _ in range(connections)))
    wall = time.perf_counter() - wall0 - 0.5
    c = Conn(host, port, token)
    audit: list[dict] = []  # type: ignore[type-arg]
    after = 0
    while True:
        _, data = await c.request("GET", f"/api/audit?after_seq={after}&limit=1000")
        page = json.loads(data)
        if not page:
            break
        audit += page
        after = page[-1]["seq"]
    verify = json.loads((await c.request("GET", "/api/audit/verify"))[1])
    in_audit = sum(1 for e in audit if str(e.get("action", "")).startswith("speed_caps."))
    return {"lat": np.array(lat), "n": n, "wall": wall, "errors": errors, "edits": edits, "in_audit": in_audit,
            "verify": verify}  # fmt: skip


def frame_size_gen1() -> tuple[int, int, int]:
    from leonet import assembly
    from leonet.geodesy import ecef_to_geodetic
    from leonet.scenario import parse_scenario
    from leonet.server.api_sim import frame_bytes
    from leonet.server.snapshots import Entry, Model
    from leonet.step import state_at

    sc = parse_scenario(
        'name = "gen1"\nepoch = 2026-02-23T00:00:00Z\n[[networks]]\nname = "starlink-gen1"\n'
        'constellation = { preset = "starlink-gen1" }\n[ground]\ncities = 10\n',
        "<bench>",
    )
    w = assembly.assemble(sc.model_copy(update={"pairs": "none"}))
    st = state_at(w, 0, 0.0)
    lat, lon, alt = ecef_to_geodetic(st.sat_r_km)
    e = Entry(Model(w, 1, 0), 0, 0.0, st, lat, lon, alt / 1000)
    return len(frame_bytes(e)), w.networks[0].n_sats, len(st.snapshot.isl)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", nargs="?", default="default")
    ap.add_argument("--rate", type=float, default=200.0)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--edits-per-s", type=float, default=1.0)
    ap.add_argument("--connections", type=int, default=32)
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        p, base, token = start_server(args.scenario, Path(tmp))
        try:
            import httpx

            auth = {"Authorization": f"Bearer {token}"}
            ground = httpx.get(base + "api/constellation", headers=auth, timeout=60).json()["ground"]
            names = [g["name"] for g in ground]
            httpx.post(base + "api/clock", json={"action": "start", "speed": 1.0}, headers=auth)
            r = asyncio.run(load(base, token, args.rate, args.seconds, args.edits_per_s, names, args.connections))
        finally:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=30)
    lat = r["lat"] * 1e3
    print(f"scenario {args.scenario}: {len(names)} ground nodes; clock running at 1x; route between random pairs")
    print(
        f"route queries: {r['n']} sent at {args.rate:g}/s for {args.seconds:g} s; achieved {len(lat) / r['wall']:.1f}/s"
    )
    print(f"latency ms: p50 {np.percentile(lat, 50):.1f}  p90 {np.percentile(lat, 90):.1f}  "
          f"p99 {np.percentile(lat, 99):.1f}  max {lat.max():.1f}  (target p99 < 50)")  # fmt: skip
    print(f"errors: {r['errors'] or 'none'}")
    print(f"rate limited (429): {r['errors'].get('429', 0)} (the default per-token limit is 300/s, burst 600)")
    e = r["edits"]
    print(f"policy edits: {e['sent']} sent, {e['acked']} acknowledged, {e['failed']} refused; "
          f"{r['in_audit']} of them in the audit log (chain intact: {r['verify'].get('intact')})")  # fmt: skip
    print(f"load average after: {os.getloadavg()}")
    size, n_sat, n_isl = frame_size_gen1()
    print(f"frame for starlink-gen1: {size:,} bytes ({n_sat:,} satellites, {n_isl:,} ISLs)")


if __name__ == "__main__":
    main()
