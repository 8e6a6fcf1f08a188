"""The service's simulated clock: ``t = t_anchor + speed x (wall - wall_anchor)`` while it runs, ``t_anchor``
while paused.  Start, pause, set the time, change the speed; every change is re-anchored at the wall time of the
change and persisted through the store (audited there), so a restarted server goes on where it was.  Unbounded:
the simulated time may run past the scenario's window (positions and links are defined at any time)."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Literal

from leonet.errors import InputError
from leonet.server.store_protocol import ClockState, SimStore

#: the fastest the clock may run (simulated seconds per wall second): a day in under a second
MAX_SPEED = 100_000.0
#: simulated times are kept within +- this many seconds of the epoch (about 100 years)
MAX_ABS_T_S = 100 * 365.25 * 86_400.0


def now_t_s(state: ClockState, wall_unix_s: float) -> float:
    """The simulated time of ``state`` at the wall time ``wall_unix_s``."""
    if not state.running:
        return state.t_s
    return state.t_s + state.speed * (wall_unix_s - state.anchor_unix_s)


def check_t_s(t_s: float, where: str = "t_s") -> float:
    if not math.isfinite(t_s) or abs(t_s) > MAX_ABS_T_S:
        raise InputError(
            where, f"got {t_s!r}; expected a finite number of seconds within {MAX_ABS_T_S:.0f} s of the epoch"
        )
    return float(t_s)


def check_speed(speed: float) -> float:
    if not math.isfinite(speed) or not 0.0 < speed <= MAX_SPEED:
        raise InputError(
            "speed", f"got {speed!r}; expected simulated seconds per wall second, > 0 and <= {MAX_SPEED:g}"
        )
    return float(speed)


def apply(
    state: ClockState,
    action: Literal["start", "pause", "set"],
    wall_unix_s: float,
    t_s: float | None = None,
    speed: float | None = None,
) -> ClockState:
    """The clock after ``action`` at the wall time ``wall_unix_s``: ``start`` runs it from the current simulated
    time, ``pause`` freezes it there, ``set`` moves it to ``t_s`` (running or not as before); ``speed`` (any
    action) changes the rate from now on.  Always re-anchored at ``wall_unix_s``."""
    now = now_t_s(state, wall_unix_s)
    if action == "set":
        if t_s is None:
            raise InputError("t_s", "missing; expected the simulated time to set (seconds after the epoch)")
        now = check_t_s(t_s)
    elif t_s is not None:
        raise InputError("t_s", f"given with action {action!r}; expected t_s only with action 'set'")
    running = {"start": True, "pause": False, "set": state.running}[action]
    new_speed = state.speed if speed is None else check_speed(speed)
    return replace(state, t_s=now, anchor_unix_s=wall_unix_s, speed=new_speed, running=running)


class Clock:
    """The simulated clock of a server: read from the store once, changed through :meth:`change` (written back
    to the store).  ``wall`` is the wall-clock function (tests drive it)."""

    def __init__(self, store: SimStore, epoch: datetime, wall: Callable[[], float] = time.time) -> None:
        self._store = store
        self._epoch = epoch
        self._wall = wall
        self._lock = threading.Lock()
        self._state = store.clock()

    @property
    def state(self) -> ClockState:
        return self._state

    def wall(self) -> float:
        return self._wall()

    def now_t_s(self) -> float:
        return now_t_s(self._state, self._wall())

    def utc(self, t_s: float) -> str:
        """The UTC time of simulated ``t_s`` (ISO 8601, ``Z``)."""
        when = self._epoch + timedelta(seconds=t_s)
        return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def change(
        self,
        action: Literal["start", "pause", "set"],
        *,
        actor: str,
        t_s: float | None = None,
        speed: float | None = None,
    ) -> ClockState:
        with self._lock:
            new = apply(self._state, action, self._wall(), t_s, speed)
            self._store.set_clock(new, actor=actor)
            self._state = new
            return new

    def as_json(self) -> dict[str, object]:
        st = self._state
        t = now_t_s(st, self._wall())
        return {"t_s": t, "utc": self.utc(t), "running": st.running, "speed": st.speed}
