"""The router: routes of the scenario's pairs from one snapshot to the next, with an explicit state.

``ideal`` mode routes every pair at every snapshot.  ``reconfig`` mode routes every pair at the first snapshot
of each reconfiguration slot (``floor(t_s / interval)``, aligned to the epoch) and keeps those paths for the
slot, re-evaluated with the current link delays; a pair whose kept path lost a hop is re-routed at once
(``rerouted``) and the repaired path is kept from then on.  The handover flags compare each snapshot's path
and end satellites with the previous snapshot's.

Everything that carries from one snapshot to the next is in :class:`RouterState` (frozen, numpy arrays and
floats: picklable), so a run can stop after any snapshot and go on elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from leonet.routes_table import pad_paths
from leonet.routing import Graph, Routes, shortest_routes


@dataclass(frozen=True)
class RouterState:
    """What carries between snapshots: the previous snapshot's path (P, width) (the kept one in reconfig
    mode; None before the first snapshot), its slot, and its first and last satellites (P,) (-1: none)."""

    path: NDArray[np.int32] | None
    slot: float
    first: NDArray[np.int32]
    last: NDArray[np.int32]

    @staticmethod
    def initial(n_pairs: int) -> RouterState:
        none = np.full(n_pairs, -1, dtype=np.int32)
        return RouterState(None, -1.0, none, none)


class Flags(NamedTuple):
    """Per pair at one snapshot: the end satellites of the path and what changed since the previous snapshot
    (all false at the first snapshot)."""

    first_sat: NDArray[np.int32]
    last_sat: NDArray[np.int32]
    path_changed: NDArray[np.bool_]
    first_sat_changed: NDArray[np.bool_]
    last_sat_changed: NDArray[np.bool_]


def slot_of(t_s: NDArray[np.float64] | float, mode: str, interval_s: float) -> NDArray[np.float64]:
    """The routing slot of times ``t_s``: ``floor(t_s / interval)`` in reconfig mode; each time its own in ideal."""
    t = np.asarray(t_s, dtype=np.float64)
    return np.floor(t / interval_s + 1e-9) if mode == "reconfig" else t


def end_sats(
    path: NDArray[np.int32], n_nodes: NDArray[np.int64] | None = None
) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
    """First and last satellite of each path (-1: no path); ``n_nodes``: each path's entries >= 0, if known."""
    path = pad_paths(path, 3)  # a snapshot where nothing is reachable has paths one column wide
    n = (path >= 0).sum(axis=1) if n_nodes is None else n_nodes
    rows = np.arange(len(path))
    first = np.where(n >= 3, path[:, 1], -1)
    last = np.where(n >= 3, path[rows, np.maximum(n - 2, 0)], -1)
    return first.astype(np.int32), last.astype(np.int32)


def kept_path_delays(graph: Graph, path: NDArray[np.int32]) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    """For paths kept from an earlier snapshot: whether every hop still exists, and the one-way delay now (the
    hops' delays summed in path order by NumPy's row sum; hop look-ups: :func:`leonet._keptpath.hop_delays`)."""
    from leonet._keptpath import hop_delays  # numba, on first use (as the routing kernels)

    d, broken, any_hop = hop_delays(path, graph.links.n_nodes, graph.links.key, graph.links.delay_ms)
    intact = ~broken & any_hop
    return intact, np.where(intact, d.sum(axis=1), np.nan)


class Router:
    """Routes of the pairs ``src`` -> ``dst`` (ground indices) snapshot after snapshot under a routing mode
    (``"ideal"`` / ``"reconfig"`` with ``interval_s``), starting from ``state`` (default: before the first
    snapshot).  :attr:`state` is the state after the last :meth:`step`."""

    def __init__(
        self,
        src: NDArray[np.int64],
        dst: NDArray[np.int64],
        mode: str,
        interval_s: float,
        state: RouterState | None = None,
    ) -> None:
        self.src, self.dst = src, dst
        self.mode, self.interval_s = mode, interval_s
        self.state = state if state is not None else RouterState.initial(len(src))

    def slot(self, t_s: float) -> float:
        return float(slot_of(t_s, self.mode, self.interval_s))

    def step(self, graph: Graph, t_s: float) -> tuple[Routes, NDArray[np.bool_], Flags]:
        """Routes at snapshot ``t_s`` (its graph), which pairs were (re-)computed now, and the handover flags."""
        prev = self.state
        routes, rerouted = self._route(graph, t_s)
        path = routes.path
        first, last = end_sats(path, routes.length)
        P = len(self.src)
        if prev.path is None:
            changed = np.zeros(P, dtype=bool)
            first_changed = last_changed = np.zeros(P, dtype=bool)
        else:
            w = max(path.shape[1], prev.path.shape[1])
            changed = (pad_paths(path, w) != pad_paths(prev.path, w)).any(axis=1)
            first_changed, last_changed = first != prev.first, last != prev.last
        self.state = RouterState(path, self.slot(t_s), first, last)
        return routes, rerouted, Flags(first, last, changed, first_changed, last_changed)

    def _route(self, graph: Graph, t_s: float) -> tuple[Routes, NDArray[np.bool_]]:
        state, src, dst = self.state, self.src, self.dst
        if state.path is None or self.slot(t_s) != state.slot:
            return shortest_routes(graph, src, dst), np.ones(len(src), dtype=bool)
        intact, delay = kept_path_delays(graph, state.path)
        broken = ~intact
        path = state.path
        if broken.any():
            fresh = shortest_routes(graph, src[broken], dst[broken])
            width = max(path.shape[1], fresh.path.shape[1])
            path = pad_paths(path, width).copy()
            path[broken] = pad_paths(fresh.path, width)
            delay = delay.copy()
            delay[broken] = fresh.delay_ms
        return Routes(delay, path), broken
