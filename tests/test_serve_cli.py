"""`leonet serve` as a person starts it: a subprocess in an empty directory, the URL and the first admin token
printed once, /healthz and the API answering over loopback, SIGTERM a clean exit (code 0), and a second start
over the same database printing no token while the first one still works; bad input is one line, exit 2."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

BIN = Path(sys.executable).parent


def _start(args: list[str], cwd: Path) -> tuple[subprocess.Popen[str], list[str]]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "COLUMNS": "200"}
    p = subprocess.Popen(["leonet", "serve", *args], cwd=cwd, env=env, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    lines: list[str] = []
    assert p.stdout is not None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = p.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith("database:"):
            return p, lines
    p.kill()
    out, err = p.communicate()
    raise AssertionError(f"no start-up lines: {lines} {out} {err}")


def _get(url: str, token: str | None = None) -> tuple[int, bytes]:
    req = urllib.request.Request(url, headers={} if token is None else {"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def _stop(p: subprocess.Popen[str]) -> tuple[int, str]:
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=30)
    return p.returncode, err


def test_serve_prints_url_and_token_answers_and_stops_on_sigterm(tmp_path: Path) -> None:
    p, lines = _start(["--port", "0"], tmp_path)
    try:
        m = re.fullmatch(r"leonet serve: (http://127\.0\.0\.1:(\d+)/)#token=([A-Za-z0-9_-]{20,})", lines[0])
        assert m, lines
        base, token = m.group(1), m.group(3)
        assert lines[1] == f"first admin token (shown once, stored hashed): {token}"
        status, body = _get(base + "healthz")
        assert status == 200 and json.loads(body)["status"] == "ok" and json.loads(body)["scenario"] == "default"
        assert _get(base + "api/clock")[0] == 401
        status, body = _get(base + "api/networks", token)
        assert status == 200 and json.loads(body) == [{"name": "starlink-550", "satellites": 1584}]
        status, body = _get(base + "api/frame?t_s=0", token)
        assert status == 200 and body[:4] == b"LNF1"
    finally:
        rc, err = _stop(p)
    assert rc == 0, err
    assert "Traceback" not in err and token not in err
    assert (tmp_path / "leonet-serve.db").is_file()
    # again over the same database: no new token; the first still works
    p, lines = _start(["--port", "0"], tmp_path)
    try:
        assert "#token=" not in lines[0].split(" ")[2] and not any("first admin token" in x for x in lines), lines
        base = re.search(r"http://127\.0\.0\.1:\d+/", lines[0]).group(0)  # type: ignore[union-attr]
        assert _get(base + "api/clock", token)[0] == 200
    finally:
        rc, err = _stop(p)
    assert rc == 0, err


def test_serve_bad_input_is_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    r = subprocess.run(["leonet", "serve", "crimea2022"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.startswith(
        "leonet: error: crimea2022: no such file (did you mean crimea-2022?)"
    )
    assert len(r.stderr.strip().splitlines()) == 1 and not (tmp_path / "leonet-serve.db").exists()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        r = subprocess.run(["leonet", "serve", "--port", str(port)], cwd=tmp_path, env=env, capture_output=True,
                           text=True, timeout=120)  # fmt: skip
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip() == (
        f"leonet: error: --port: cannot listen on 127.0.0.1:{port} (Address already in use); expected a free port "
        "(--port 0: any free one)"
    )
    r = subprocess.run(
        ["leonet", "serve", "--db", "mysql://x/y"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr, r.stderr
