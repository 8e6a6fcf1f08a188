"""Per-token rate limits of ``leonet serve``: a token bucket per caller, pure (the clock is injected).

A bucket holds at most ``burst`` requests and refills at ``rate_per_s``; a request takes one.  When the bucket
is empty the request is refused and the caller is told how long until one request's worth has refilled (the
429's ``Retry-After``).  :class:`RateLimiter` keeps one bucket per key (the server's key is the sha256 digest of
a live token, or the client's address for a request without one) and forgets buckets that have refilled, so
that its memory is bounded by the callers active within the last ``burst / rate_per_s`` seconds.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

#: the default sustained limit (requests per second per token) and burst; sized for an operator's page (a frame
#: a second, a route every 5 s, a stream) with room for scripts: ``benchmarks/bench_serve.py`` sends 200/s
#: from one token and must see no 429
DEFAULT_RATE_PER_S = 300.0
DEFAULT_BURST = 600.0


@dataclass
class TokenBucket:
    """``tokens`` requests available at time ``at_s``; refills at ``rate_per_s`` up to ``burst``."""

    rate_per_s: float
    burst: float
    tokens: float
    at_s: float

    def level(self, now_s: float) -> float:
        """Requests available at ``now_s`` (a clock that went back refills nothing)."""
        return min(self.burst, self.tokens + max(0.0, now_s - self.at_s) * self.rate_per_s)

    def take(self, now_s: float) -> float:
        """Take one request at ``now_s``: 0.0 when admitted, else the seconds until one is available (> 0;
        nothing taken)."""
        level = self.level(now_s)
        self.at_s = max(self.at_s, now_s)
        if level >= 1.0:
            self.tokens = level - 1.0
            return 0.0
        self.tokens = level
        return (1.0 - level) / self.rate_per_s


class RateLimiter:
    """One :class:`TokenBucket` per key.  ``check(key)`` -> 0.0 (admitted) or the seconds to wait.  Thread-safe."""

    def __init__(
        self,
        rate_per_s: float = DEFAULT_RATE_PER_S,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sweep_every: int = 10_000,
    ) -> None:
        if not (math.isfinite(rate_per_s) and rate_per_s > 0):
            raise ValueError(f"rate_per_s: got {rate_per_s!r}; expected a positive number")
        burst = 2.0 * rate_per_s if burst is None else burst
        if not (math.isfinite(burst) and burst >= 1):
            raise ValueError(f"burst: got {burst!r}; expected a number >= 1")
        self.rate_per_s, self.burst = float(rate_per_s), float(burst)
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()
        self._sweep_every = sweep_every
        self._since_sweep = 0
        self.refused = 0

    def check(self, key: str) -> float:
        now = self._clock()
        with self._lock:
            b = self._buckets.get(key)
            if b is None:
                b = self._buckets[key] = TokenBucket(self.rate_per_s, self.burst, self.burst, now)
            wait = b.take(now)
            if wait > 0:
                self.refused += 1
            self._since_sweep += 1
            if self._since_sweep >= self._sweep_every:
                self._sweep(now)
        return wait

    def _sweep(self, now_s: float) -> None:
        """Forget the buckets that are full again (a new one starts full: the same)."""
        self._since_sweep = 0
        for k in [k for k, b in self._buckets.items() if b.level(now_s) >= self.burst]:
            del self._buckets[k]

    def __len__(self) -> int:
        return len(self._buckets)


def retry_after_s(wait_s: float) -> int:
    """``Retry-After`` is whole seconds (RFC 9110): the wait rounded up, at least 1."""
    return max(1, math.ceil(wait_s))
