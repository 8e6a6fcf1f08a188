"""What the HTTP edge needs from the control-plane store (``leonet.control.store.ControlStore``), as a
:class:`typing.Protocol`, so that the simulation side (clock, snapshots, API) is written and tested against the
contract, whichever store is behind it.  The record types are the store's own when it is installed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from leonet.scenario import Scenario


@dataclass(frozen=True)
class ClockStateLocal:
    """The simulated clock as persisted: simulated time ``t_s`` (seconds after the scenario epoch) at the wall
    time ``anchor_unix_s``, the speed (simulated seconds per wall second) and whether it runs."""

    t_s: float
    anchor_unix_s: float
    speed: float
    running: bool


@dataclass(frozen=True)
class DecisionRecordLocal:
    """One decision the service gave (the decision log's row)."""

    decision_id: str
    at_utc: str
    t_s: float
    revision: int
    subject: str
    outcome: str
    rule: str | None
    reason: str


class SimStore(Protocol):
    """The part of the control store the simulation side uses."""

    def scenario(self) -> Scenario: ...

    def revision(self) -> int: ...

    def clock(self) -> ClockStateLocal: ...

    def set_clock(self, state: ClockStateLocal, *, actor: str) -> None: ...

    def log_decisions(self, records: Sequence[DecisionRecordLocal]) -> None: ...
