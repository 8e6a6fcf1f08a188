"""What the simulation side of the HTTP edge needs from the control store, as a :class:`typing.Protocol`:
:class:`leonet.control.ControlStore` is one; the tests' in-memory store (``tests/serve_support.py``) is another,
so that the clock, the snapshot cache and the API are tested on their own as well as over the database."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from leonet.control.store import ClockState, DecisionRecord
from leonet.scenario import Scenario

__all__ = ["ClockState", "DecisionRecord", "SimStore"]


class SimStore(Protocol):
    """The part of the control store the simulation side uses."""

    def scenario(self) -> Scenario: ...

    def revision(self) -> int: ...

    def clock(self) -> ClockState: ...

    def set_clock(self, state: ClockState, *, actor: str) -> None: ...

    def log_decisions(self, records: Sequence[DecisionRecord]) -> None: ...
