"""An in-memory stand-in for the control store (the methods of ``leonet.server.store_protocol.SimStore``) and a
token -> role table as the auth dependency, for testing the simulation side of the server on its own."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import HTTPException, Request

from leonet.scenario import Scenario
from leonet.server.store_protocol import ClockState, DecisionRecord

ROLES = ("viewer", "operator", "admin")
TOKENS = {"tv": "viewer", "to": "operator", "ta": "admin"}


@dataclass
class Principal:
    name: str
    role: str


@dataclass
class MemoryStore:
    sc: Scenario
    rev: int = 1
    clock_state: ClockState | None = None
    decisions: list[DecisionRecord] = field(default_factory=list)
    clock_log: list[tuple[str, ClockState]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def scenario(self) -> Scenario:
        return self.sc

    def revision(self) -> int:
        return self.rev

    def clock(self) -> ClockState:
        if self.clock_state is None:
            self.clock_state = ClockState(float(self.sc.time.start_s), 0.0, 1.0, False)
        return self.clock_state

    def set_clock(self, state: ClockState, *, actor: str) -> None:
        self.clock_state = state
        self.clock_log.append((actor, state))

    def log_decisions(self, records: Sequence[DecisionRecord]) -> None:
        with self.lock:
            self.decisions.extend(records)

    def apply(self, sc: Scenario) -> None:
        """A new applied revision (what the policy API does)."""
        self.sc = sc
        self.rev += 1


def require(role: str) -> Callable[..., Any]:
    need = ROLES.index(role)

    def dep(request: Request) -> Principal:
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer "):
            raise HTTPException(401, "missing bearer token")
        tok = auth.removeprefix("Bearer ")
        if tok not in TOKENS:
            raise HTTPException(401, "unknown token")
        have = TOKENS[tok]
        if ROLES.index(have) < need:
            raise HTTPException(403, f"this needs the {role} role; the token has {have}")
        return Principal(f"token-{have}", have)

    return dep


def hdr(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
