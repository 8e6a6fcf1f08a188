"""Per-token rate limits (``leonet.server.ratelimit``): the token bucket on an injected clock, against the
invariant that defines it (in any window of length T at most ``burst + rate x T`` requests are admitted) and
against a brute-force replay of the same requests; then the server's middleware (429 with ``Retry-After``, one
bucket per live token's digest, a client without a live token per address, ``/healthz`` exempt) through
FastAPI's TestClient on a ControlStore, and ``leonet serve``'s options."""

from __future__ import annotations

import inspect
import math
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from leonet import cli
from leonet.control import ControlStore
from leonet.scenario import load_scenario
from leonet.server.app import create_app
from leonet.server.ratelimit import DEFAULT_BURST, DEFAULT_RATE_PER_S, RateLimiter, TokenBucket, retry_after_s


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_burst_then_refill_at_the_rate() -> None:
    clock = FakeClock()
    rl = RateLimiter(2.0, 5.0, clock=clock)
    assert [rl.check("a") for _ in range(5)] == [0.0] * 5
    wait = rl.check("a")
    assert wait == pytest.approx(0.5)  # one request's worth at 2/s
    assert rl.check("b") == 0.0  # another key: its own bucket
    clock.t += 0.49
    assert rl.check("a") > 0
    clock.t += 0.02
    assert rl.check("a") == 0.0
    assert rl.check("a") == pytest.approx(0.49)  # 0.02 left over: (1 - 0.02) / 2
    clock.t += 100.0  # refills to the burst, not beyond
    assert sum(rl.check("a") == 0.0 for _ in range(20)) == 5
    assert rl.refused == 1 + 1 + 1 + 15


def test_clock_going_back_refills_nothing() -> None:
    b = TokenBucket(10.0, 1.0, 1.0, 50.0)
    assert b.take(50.0) == 0.0
    assert b.take(40.0) > 0  # an earlier time: still empty
    assert b.take(50.05) > 0
    assert b.take(50.1 + 1e-9) == 0.0


def test_retry_after_whole_seconds() -> None:
    assert [retry_after_s(w) for w in (1e-9, 0.5, 1.0, 1.01, 7.2)] == [1, 1, 1, 2, 8]


def test_bad_limits() -> None:
    for rate, burst in ((0.0, None), (-1.0, None), (math.inf, None), (math.nan, None), (1.0, 0.5), (1.0, math.nan)):
        with pytest.raises(ValueError):
            RateLimiter(rate, burst)


@settings(max_examples=200, deadline=None)
@given(
    rate=st.floats(0.5, 50.0),
    burst=st.integers(1, 20),
    gaps=st.lists(st.floats(0.0, 0.5), min_size=1, max_size=300),
)
def test_bucket_invariant_and_brute_force(rate: float, burst: int, gaps: list[float]) -> None:
    """Admitted requests obey ``count(window T) <= burst + rate T``, and each decision equals a brute-force
    replay: level(t) = min(burst, level(t_prev) + rate (t - t_prev)), admitted iff level >= 1."""
    clock = FakeClock()
    rl = RateLimiter(rate, float(burst), clock=clock)
    times, admitted = [], []
    level, prev = float(burst), clock.t
    for g in gaps:
        clock.t += g
        ok = rl.check("k") == 0.0
        level = min(float(burst), level + (clock.t - prev) * rate)
        prev = clock.t
        expect = level >= 1.0
        if expect:
            level -= 1.0
        assert ok == expect
        times.append(clock.t)
        admitted.append(ok)
    at = [t for t, ok in zip(times, admitted, strict=True) if ok]
    for i in range(len(at)):
        for j in range(i, len(at)):
            assert j - i + 1 <= burst + rate * (at[j] - at[i]) + 1e-6


def test_memory_is_bounded_by_active_keys() -> None:
    clock = FakeClock()
    rl = RateLimiter(10.0, 10.0, clock=clock, sweep_every=100)
    for i in range(1000):
        rl.check(f"k{i}")
    clock.t += 2.0  # every bucket has refilled
    for _ in range(100):
        rl.check("live")
    assert len(rl) <= 2


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str], FakeClock]]:
    store = ControlStore.open(f"sqlite:///{tmp_path / 'rl.db'}", scenario=load_scenario("default"))
    tokens = {"admin": store.create_admin_token_if_none() or ""}
    tokens["viewer"] = store.create_token("v", "viewer", actor="test")[1]
    clock = FakeClock()
    app = create_app(store, rate_limit_per_s=2.0, rate_burst=3.0, rate_clock=clock)
    with TestClient(app) as client:
        yield client, tokens, clock
    store.close()


def test_server_answers_429_with_retry_after_per_token(limited: tuple[TestClient, dict[str, str], FakeClock]) -> None:
    client, tokens, clock = limited
    v = {"Authorization": f"Bearer {tokens['viewer']}"}
    a = {"Authorization": f"Bearer {tokens['admin']}"}
    got = [client.get("/api/clock", headers=v).status_code for _ in range(3)]
    r = client.get("/api/clock", headers=v)
    assert got == [200] * 3 and r.status_code == 429, (got, r.text)
    assert r.headers["retry-after"] == "1" and "rate limit of 2 requests/s (burst 3)" in r.json()["detail"]
    attempts = 4
    for _ in range(20):  # still refused while the clock stands; another token is not
        attempts += 1
        assert client.get("/api/networks", headers=v).status_code == 429
    assert client.get("/api/clock", headers=a).status_code == 200
    # /healthz is exempt
    assert all(client.get("/healthz").status_code == 200 for _ in range(50))
    clock.t += 0.5  # one request's worth
    assert client.get("/api/clock", headers=v).status_code == 200
    assert client.get("/api/clock", headers=v).status_code == 429
    # without a live token: one bucket per address (made-up tokens share it), 401 while under the limit
    bad = [client.get("/api/clock", headers={"Authorization": f"Bearer made-up-{i}"}).status_code for i in range(6)]
    assert bad == [401, 401, 401, 429, 429, 429], bad
    r = client.get("/api/clock")
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    metrics = client.get("/metrics")  # the refusals are counted (the metrics endpoint has its own limit too)
    assert metrics.status_code in (200, 429)
    print(f"rate limit: {attempts + 6} requests over the limit of one token, all 429 with Retry-After; "
          "other tokens and /healthz unaffected")  # fmt: skip


def test_default_limit_and_cli_options(tmp_path: Path) -> None:
    assert DEFAULT_BURST == 2 * DEFAULT_RATE_PER_S
    assert inspect.signature(cli.serve).parameters["rate_limit"].default == DEFAULT_RATE_PER_S
    leonet = Path(sys.executable).parent / "leonet"
    for args, where in ((["--rate-limit", "-1"], "--rate-limit"), (["--rate-burst", "0.5"], "--rate-burst")):
        p = subprocess.run([str(leonet), "serve", "--port", "0", "--stop-after", "1", *args], cwd=tmp_path,
                           capture_output=True, text=True, timeout=120)  # fmt: skip
        assert p.returncode == 2, p.stderr
        assert where in p.stderr and "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1


def test_cors_preflight_is_not_refused_for_want_of_a_token(tmp_path: Path) -> None:
    """With ``--cors ORIGIN`` a browser's preflight (OPTIONS, no Authorization by the browser's rules) reaches the
    CORS middleware; the actual request still needs its token."""
    store = ControlStore.open(f"sqlite:///{tmp_path / 'cors.db'}", scenario=load_scenario("default"))
    token = store.create_admin_token_if_none()
    app = create_app(store, cors_origins=["http://ops.example"])
    pre = {"Origin": "http://ops.example", "Access-Control-Request-Method": "GET",
           "Access-Control-Request-Headers": "authorization"}  # fmt: skip
    with TestClient(app) as client:
        r = client.options("/api/clock", headers=pre)
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "http://ops.example"
        assert client.get("/api/clock", headers={"Origin": "http://ops.example"}).status_code == 401
        r = client.get("/api/clock", headers={"Origin": "http://ops.example", "Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "http://ops.example"
    store.close()
