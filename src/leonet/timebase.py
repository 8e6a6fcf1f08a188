"""The scenario clock: UTC datetimes and seconds since the scenario epoch, as split Julian dates.

Julian dates are carried as (whole, fraction) pairs, as ``sgp4``'s ``jday`` does, so that sub-millisecond
times keep their precision (a single float64 Julian date resolves only ~40 microseconds).
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from numpy.typing import ArrayLike, NDArray

from leonet.constants import SECONDS_PER_DAY

_UNIX_EPOCH_JD = 2440587.5


def as_utc(when: datetime) -> datetime:
    """``when`` as an aware UTC datetime (a naive datetime is taken as UTC)."""
    if when.tzinfo is None:
        return when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def julian_date(when: datetime) -> tuple[float, float]:
    """Split Julian date (whole + .5 at midnight, fraction of day) of a UTC datetime."""
    when = as_utc(when)
    midnight = when.replace(hour=0, minute=0, second=0, microsecond=0)
    days = (midnight - datetime(1970, 1, 1, tzinfo=UTC)).days
    frac = (when - midnight).total_seconds() / SECONDS_PER_DAY
    return _UNIX_EPOCH_JD + days, frac


def julian_dates(epoch: datetime, t_s: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Split Julian dates for times ``t_s`` seconds after ``epoch`` (UTC; leap seconds inside the window are
    not counted, as in the TLE / SGP4 convention)."""
    whole, frac = julian_date(epoch)
    f = frac + np.asarray(t_s, dtype=np.float64) / SECONDS_PER_DAY
    carry = np.floor(f)
    return whole + carry, f - carry
