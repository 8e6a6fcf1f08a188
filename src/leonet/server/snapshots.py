"""The server's view of the simulation: the world at the applied policy revision, and one snapshot state per
(network, time rounded to the scenario's step), computed once and shared by every query at that time (LRU).

A query at simulated time ``t`` is answered at the grid time ``start_s + step_s * round((t - start_s) / step_s)``
(any integer, so before and after the scenario's window too).  When the store's policy revision changes, the
policy is recompiled and the terminals re-bound; the constellation (networks, SGP4 objects, ISL pairs) is kept
unless the networks themselves changed, and the ground nodes are rebuilt only when the ground section changed.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from leonet import assembly, faults
from leonet.assembly import World
from leonet.chunk import Carry
from leonet.errors import InputError
from leonet.geodesy import ecef_to_geodetic
from leonet.policy import PolicyCarry, bind, looks_back
from leonet.router import RouterState
from leonet.scenario import Scenario
from leonet.server.store_protocol import DecisionRecord, SimStore
from leonet.step import HISTORY_BLOCK, State, allowed_mask, decide, min_elevations, snapshot, state_at, with_faults

T = TypeVar("T")

#: snapshot states kept (each holds positions, links and graph of one network at one time: ~1 MB for 4,408
#: satellites)
DEFAULT_CAPACITY = 64
#: routes kept per snapshot state
ROUTES_PER_STATE = 4096
#: the store's revision is read at most this often (s); a change made through this server is seen at once
#: (:meth:`Snapshots.invalidate`), one made by another process within this time
REVISION_TTL_S = 0.5


def _server_scenario(sc: Scenario) -> Scenario:
    """The scenario as the server assembles it: it routes no precomputed pairs (a route is asked for)."""
    return sc.model_copy(update={"pairs": "none"})


def _same(a: Scenario, b: Scenario, *fields: str) -> bool:
    return all(getattr(a, f) == getattr(b, f) for f in fields)


def rebuild_world(old: World, new: Scenario) -> tuple[World, str]:
    """The world for ``new`` reusing what did not change in ``old``: the networks when the networks, epoch,
    window and UT1 are the same, the ground nodes when the ground section is the same too.  Returns the world
    and what was rebuilt (``"policy"``, ``"ground"`` or ``"all"``)."""
    new = _server_scenario(new)
    sc = old.scenario
    if not _same(sc, new, "networks", "epoch", "time", "dut1_s", "base_dir", "faults"):
        return assembly.assemble(new), "all"
    policy = new.compiled_policy()
    if _same(sc, new, "ground"):
        ground, terminals, what = old.ground, old.terminals, "policy"
    else:
        ground = assembly.ground_from_spec(new.ground, new.epoch, new.resolve)
        terminals = np.flatnonzero(ground.is_terminal).astype(np.int64)
        what = "ground"
    fleet = None
    if policy is not None:
        assembly._check_axes(policy, ground, terminals, new)
        fleet = bind(policy, [ground.names[i] for i in terminals])
    empty = np.empty(0, dtype=np.int64)
    world = replace(
        old,
        scenario=new,
        ground=ground,
        policy=policy,
        fleet=fleet,
        terminals=terminals,
        src=empty,
        dst=empty,
        gc_km=np.empty(0),
        faults=assembly.network_faults(new, ground, old.networks),  # ground masks follow the ground nodes
    )
    return world, what


@dataclass(frozen=True)
class Model:
    """The world at one applied policy revision; ``generation`` counts rebuilds (cache keys carry it)."""

    world: World
    revision: int
    generation: int

    def grid_t(self, t_s: float) -> float:
        """The snapshot time a query at ``t_s`` is answered at (the nearest multiple of the step from the
        window's start; the window's bounds do not limit it)."""
        tm = self.world.scenario.time
        return float(tm.start_s + tm.step_s * np.round((t_s - tm.start_s) / tm.step_s))

    def network_index(self, name: str | None) -> int:
        nets = self.world.networks
        if name is None:
            return 0
        names = [n.spec.name for n in nets]
        if name in names:
            return names.index(name)
        raise InputError("network", f"no network {name!r}; expected one of {', '.join(names)}")


@dataclass(frozen=True)
class TerminalStatus:
    """Every terminal of the world (``World.terminals`` order) at one snapshot of one network."""

    ground_index: NDArray[np.int64]
    kit_id: list[str]
    lat_deg: NDArray[np.float64]
    lon_deg: NDArray[np.float64]
    outcome: list[str]  # served | denied | jammed | no-coverage
    rule: list[str | None]
    reason: list[str]
    decision_id: list[str]
    satellite: NDArray[np.int64]  # -1: none
    rtt_ms: NDArray[np.float64]  # NaN: none

    def index(self, kit_id: str) -> int:
        try:
            return self.kit_id.index(kit_id)
        except ValueError:
            raise InputError(
                "kit_id", f"no terminal {kit_id!r} in the scenario; expected a terminal's kit id"
            ) from None


@dataclass
class Entry:
    """One snapshot state and what is derived from it on demand (each computed once)."""

    model: Model
    net_index: int
    t_s: float
    state: State
    sat_lat_deg: NDArray[np.float64]
    sat_lon_deg: NDArray[np.float64]
    sat_alt_km: NDArray[np.float64]
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _derived: dict[Hashable, Any] = field(default_factory=dict)

    def peek(self, key: Hashable) -> Any:
        """The derived value ``key`` if it was computed already, else None."""
        with self._lock:
            return self._derived.get(key)

    def derived(self, key: Hashable, make: Callable[[], T], limit: int | None = None) -> T:
        with self._lock:
            if key in self._derived:
                return self._derived[key]  # type: ignore[no-any-return]
        value = make()
        with self._lock:
            if key not in self._derived:
                if limit is not None and len(self._derived) >= limit:
                    self._derived.pop(next(iter(self._derived)))
                self._derived[key] = value
            return self._derived[key]  # type: ignore[no-any-return]


class _Slot:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entry: Entry | None = None


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Snapshots:
    """The world at the store's applied revision, and an LRU of snapshot states (``capacity`` of them).
    ``on_decisions`` receives the decision records of every terminal status computed (the decision log)."""

    def __init__(
        self,
        store: SimStore,
        capacity: int = DEFAULT_CAPACITY,
        on_decisions: Callable[[list[DecisionRecord]], None] | None = None,
    ) -> None:
        self._store = store
        self._capacity = capacity
        self._revision_read_at = -1e18
        self._previous: dict[tuple[int, float], Entry] = {}
        self._prefetch_lock = threading.Lock()
        self._prefetching: set[tuple[int, int, float]] = set()
        self._on_decisions = on_decisions
        self._lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        self._slots: OrderedDict[tuple[int, int, float], _Slot] = OrderedDict()
        self._history: dict[int, PolicyCarry | None] = {}
        self.hits = 0
        self.misses = 0
        self.carried = 0
        self.rebuilds: dict[str, int] = {"policy": 0, "ground": 0, "all": 0}
        revision = store.revision()
        self._model = Model(assembly.assemble(_server_scenario(store.scenario())), revision, 0)

    # --- the world -----------------------------------------------------------------------------------------

    def invalidate(self) -> None:
        """Read the store's revision on the next :meth:`model` (after a change made through this server)."""
        self._revision_read_at = -1e18

    def model(self) -> Model:
        """The model at the store's applied revision (rebuilt when it changed; the revision is read at most
        every :data:`REVISION_TTL_S`).  After a policy-only change the cached snapshot states are carried over:
        each is re-decided under the new policy when next asked for, and keeps its links and graph when the
        terminals allowed to link are the same (else only its links are recomputed, not the positions)."""
        m = self._model
        now = time.monotonic()
        if now - self._revision_read_at < REVISION_TTL_S:
            return m
        rev = self._store.revision()
        self._revision_read_at = now
        if rev == m.revision:
            return m
        with self._refresh_lock:
            m = self._model
            if rev == m.revision:
                return m
            world, what = rebuild_world(m.world, self._store.scenario())
            self.rebuilds[what] += 1
            new = Model(world, rev, m.generation + 1)
            with self._lock:
                keep = what == "policy"
                self._previous = (
                    {(k[1], k[2]): sl.entry for k, sl in self._slots.items() if sl.entry is not None} if keep else {}
                )
                self._slots.clear()
                self._history = {}
                self._model = new
            return new

    # --- the policy's history (rules that look back: roaming) ---------------------------------------------

    def _policy_carry(self, m: Model, k: int) -> PolicyCarry | None:
        """The policy carry before grid snapshot ``k`` (counted from the window's start): a decisions-only pass
        from the nearest checkpoint before it (checkpoints every :data:`HISTORY_BLOCK` snapshots are kept), so
        that the roaming history continues past the window's end.  None at or before the window's start, or
        when no rule looks back."""
        w = m.world
        if w.policy is None or not looks_back(w.policy) or k <= 0:
            return None
        tm = w.scenario.time
        base = (k // HISTORY_BLOCK) * HISTORY_BLOCK
        with self._lock:
            have = [c for c in self._history if c <= base]
        at = max(have, default=0)
        carry = self._history.get(at) if at else None
        while at < k:
            stop = min(k, (at // HISTORY_BLOCK + 1) * HISTORY_BLOCK)
            times = tm.start_s + tm.step_s * np.arange(at, stop, dtype=np.float64)
            _, carry = decide(w, times, carry)
            at = stop
            if at % HISTORY_BLOCK == 0:
                with self._lock:
                    if m is self._model:
                        self._history[at] = carry
        return carry

    # --- snapshot states ----------------------------------------------------------------------------------

    def cached(self, net_index: int, t_s: float, m: Model) -> Entry | None:
        """The state at (the grid time of) ``t_s`` if it is computed already, else None (never computes)."""
        key = (m.generation, net_index, m.grid_t(t_s))
        with self._lock:
            slot = self._slots.get(key)
            if slot is None or slot.entry is None:
                return None
            self._slots.move_to_end(key)
            self.hits += 1
            return slot.entry

    def entry(self, net_index: int, t_s: float, m: Model | None = None) -> Entry:
        """The snapshot state of network ``net_index`` at (the grid time of) ``t_s``."""
        m = m or self.model()
        t = m.grid_t(t_s)
        key = (m.generation, net_index, t)
        with self._lock:
            slot = self._slots.get(key)
            if slot is None:
                slot = self._slots[key] = _Slot()
                while len(self._slots) > self._capacity:
                    self._slots.popitem(last=False)
                self.misses += 1
            else:
                self._slots.move_to_end(key)
                self.hits += 1
        with slot.lock:
            if slot.entry is None:
                slot.entry = self._compute(m, net_index, t)
            return slot.entry

    def _compute(self, m: Model, net_index: int, t: float) -> Entry:
        w = m.world
        tm = w.scenario.time
        k = round((t - tm.start_s) / tm.step_s)
        pc = self._policy_carry(m, k)
        with self._lock:
            old = self._previous.get((net_index, t))
        if old is not None and old.model.world.ground is w.ground:
            return self._redecide(old, m, pc)
        st = state_at(w, net_index, t, Carry(RouterState.initial(0), pc))
        lat, lon, alt_m = ecef_to_geodetic(st.sat_r_km)
        return Entry(m, net_index, t, st, lat, lon, alt_m / 1000.0)

    def _redecide(self, old: Entry, m: Model, pc: PolicyCarry | None) -> Entry:
        """``old`` (a state of the previous revision, same networks and ground) under ``m``'s policy: the same
        decisions as :func:`~leonet.step.state_at` makes; the links and graph kept when the allowed mask is
        unchanged, else rebuilt from the kept positions (:func:`~leonet.step.snapshot`, as ``state_at`` does)."""
        w, t = m.world, old.t_s
        net = w.networks[old.net_index]
        decisions, _ = decide(w, np.array([t]), pc)
        o = old.state
        allowed_all = with_faults(allowed_mask(w, net, decisions), o.faults)  # the same faults: same time, ground
        allowed = None if allowed_all is None else allowed_all[0]
        same = (allowed is None and o.allowed is None) or (
            allowed is not None and o.allowed is not None and np.array_equal(allowed, o.allowed)
        )
        if same:
            snap = o.snapshot
        else:
            g = w.ground
            el = min_elevations(net, g)
            snap = snapshot(net, g, t, o.sat_r_km, o.ground.ecef_km[0], o.ground.up[0], el, allowed, o.faults)
        self.carried += 1
        st = State(t, o.sat_r_km, o.ground, snap, decisions, allowed, o.faults)
        return Entry(m, old.net_index, t, st, old.sat_lat_deg, old.sat_lon_deg, old.sat_alt_km)

    def prefetch(self, net_index: int, t_s: float, m: Model | None = None) -> None:
        """Compute the state at ``t_s`` in the background (one thread), unless it is cached or under way: the
        server asks for the next step's state while the clock runs, so that no query waits for it."""
        m = m or self._model
        t = m.grid_t(t_s)
        key = (m.generation, net_index, t)
        with self._lock:
            if key in self._slots:
                return
        with self._prefetch_lock:
            if key in self._prefetching:
                return
            self._prefetching.add(key)

        def run() -> None:
            try:
                self.entry(net_index, t, m)
            except Exception:  # a failed prefetch is recomputed (and reported) by the query that needs it
                pass
            finally:
                with self._prefetch_lock:
                    self._prefetching.discard(key)

        threading.Thread(target=run, name="leonet-prefetch", daemon=True).start()

    # --- terminals ----------------------------------------------------------------------------------------

    def terminals(self, e: Entry) -> TerminalStatus:
        """Every terminal's decision at the entry's snapshot: the policy's (with its rule and reason), then
        coverage (a ground link in this network), the serving satellite (the shortest ground link) and the
        round trip to the nearest ground node that is not a terminal (a PoP / station / gateway, by network
        delay).  One decision id per (revision, network, snapshot, terminal); the records go to the log once."""
        return e.derived("terminals", lambda: self._terminals(e))

    def _terminals(self, e: Entry) -> TerminalStatus:
        w, st = e.model.world, e.state
        net = w.networks[e.net_index]
        term = w.terminals
        N = len(term)
        gsl = st.snapshot.gsl
        order = np.lexsort((gsl.length_km, gsl.ground))
        g_sorted = gsl.ground[order]
        first = np.r_[True, g_sorted[1:] != g_sorted[:-1]] if len(g_sorted) else np.zeros(0, dtype=bool)
        serving = np.full(w.ground.size, -1, dtype=np.int64)
        serving[g_sorted[first]] = gsl.sat[order][first]
        sat = serving[term]
        d = st.decisions
        governed = d is not None and net.spec.policy
        rule_idx = d.rule[0] if (d is not None and governed) else np.full(N, -1, dtype=np.int32)
        rtt = self._rtt_to_pops(e, term, sat >= 0)
        jam = st.faults.jam_fault[0] if st.faults is not None else np.full(N, -1, dtype=np.int32)
        fault_names = faults.fault_names(w.scenario.faults)
        outcome: list[str] = []
        rules: list[str | None] = []
        reasons: list[str] = []
        for n in range(N):  # building the JSON-ready lists; the decisions themselves are vectorised above
            r = int(rule_idx[n])
            if r >= 0 and d is not None:
                outcome.append("denied")
                rules.append(d.rule_ids[r])
                reasons.append(d.reasons[r])
            elif jam[n] >= 0:
                outcome.append("jammed")
                rules.append(fault_names[int(jam[n])])
                reasons.append(f"jammed (fault {fault_names[int(jam[n])]})")
            elif sat[n] < 0:
                outcome.append("no-coverage")
                rules.append(None)
                reasons.append(f"allowed, but no satellite of {net.spec.name} is above the elevation mask here")
            else:
                outcome.append("served")
                rules.append(None)
                reasons.append("no rule denies it" if governed else f"{net.spec.name} is not governed by the policy")
        ids = [str(uuid.uuid4()) for _ in range(N)]
        names = [w.ground.names[i] for i in term]
        served = np.array([o == "served" for o in outcome], dtype=bool)
        status = TerminalStatus(
            term,
            names,
            st.ground.lat_deg[0, term],
            st.ground.lon_deg[0, term],
            outcome,
            rules,
            reasons,
            ids,
            sat,
            np.where(served, rtt, np.nan),
        )
        if self._on_decisions is not None and N:
            at = utc_now()
            self._on_decisions(
                [
                    DecisionRecord(
                        ids[n], at, e.t_s, e.model.revision, names[n], status.outcome[n], rules[n], reasons[n]
                    )
                    for n in range(N)
                ]
            )
        return status

    def _rtt_to_pops(self, e: Entry, term: NDArray[np.int64], linked: NDArray[np.bool_]) -> NDArray[np.float64]:
        """Round trip (ms) from each terminal to the nearest ground node that is not a terminal; NaN without
        one, or when it has no ground link."""
        from leonet._dijkstra import dijkstra_many

        w = e.model.world
        out = np.full(len(term), np.nan)
        pops = np.flatnonzero(~w.ground.is_terminal)
        src = term[linked]
        if len(pops) == 0 or len(src) == 0:
            return out
        graph = e.state.snapshot.graph
        sinks = graph.sink_vertex(pops.astype(np.int64))
        dist, _ = dijkstra_many(graph.csr.indptr, graph.csr.indices, graph.csr.data, graph.n_sats + src, sinks)
        best = dist[:, sinks].min(axis=1)
        out[linked] = np.where(np.isfinite(best), 2.0 * best, np.nan)
        return out
