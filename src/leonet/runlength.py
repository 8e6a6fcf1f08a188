"""Run-length encoded (snapshot, item) values: what a chunk reports instead of a (T, N) array over the window.

A :class:`Runs` holds maximal runs ``(item, first, stop, value)``: item ``item`` has ``value`` at snapshots
``first <= k < stop`` (window indices).  A chunk's runs are made from its (chunk, N) array; :func:`merge` joins
the runs of consecutive chunks into the runs of the whole window (the same as encoding the whole window).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class Runs:
    """Maximal runs, sorted by item then time."""

    item: NDArray[np.int64]
    first: NDArray[np.int64]
    stop: NDArray[np.int64]
    value: NDArray[np.int32]

    def __len__(self) -> int:
        return len(self.item)

    @staticmethod
    def empty() -> Runs:
        e = np.empty(0, dtype=np.int64)
        return Runs(e, e, e, np.empty(0, dtype=np.int32))

    @staticmethod
    def of(values: NDArray[np.generic], k0: int = 0) -> Runs:
        """The runs of a (T, N) array whose first row is snapshot ``k0``."""
        r = np.asarray(values).T  # (N, T)
        n_t = r.shape[1]
        if r.size == 0:
            return Runs.empty()
        change = np.ones(r.shape, dtype=bool)
        change[:, 1:] = r[:, 1:] != r[:, :-1]
        item, first = np.nonzero(change)
        stop = np.empty_like(first)
        stop[:-1] = first[1:]
        stop[np.r_[item[1:] != item[:-1], True]] = n_t
        return Runs(item.astype(np.int64), first + k0, stop + k0, r[item, first].astype(np.int32))

    def to_array(self, n_items: int, n_t: int, fill: int = 0) -> NDArray[np.int32]:
        """The (T, N) array again (for tests and small windows)."""
        out = np.full((n_t, n_items), fill, dtype=np.int32)
        for i, a, b, v in zip(self.item, self.first, self.stop, self.value, strict=True):
            out[a:b, i] = v
        return out


def merge(parts: Sequence[Runs]) -> Runs:
    """The runs of consecutive chunks joined: runs of an item that touch (one's ``stop`` is the next's
    ``first``) and have the same value become one."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return Runs.empty()
    item = np.concatenate([p.item for p in parts])
    first = np.concatenate([p.first for p in parts])
    stop = np.concatenate([p.stop for p in parts])
    value = np.concatenate([p.value for p in parts])
    order = np.lexsort((first, item))
    item, first, stop, value = item[order], first[order], stop[order], value[order]
    joins = np.zeros(len(item), dtype=bool)
    joins[1:] = (item[1:] == item[:-1]) & (value[1:] == value[:-1]) & (first[1:] == stop[:-1])
    heads = np.flatnonzero(~joins)
    tails = np.r_[heads[1:] - 1, len(item) - 1]
    return Runs(item[heads], first[heads], stop[tails], value[heads])
