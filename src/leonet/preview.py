"""What a policy change would do: the decisions of two policies over the next minutes, compared (pure).

For every terminal of the world (its ground nodes of kind ``terminal``) at snapshots ``t0_s, t0_s + step_s,
...`` up to ``t0_s + minutes`` (inclusive), the outcome under each policy is, in this order of precedence,
``denied`` (a rule denies it), ``jammed`` (allowed, but inside an active jamming zone of the scenario's
``[[faults]]`` that leaves its links no capacity), ``no-coverage`` (allowed, but no unfailed satellite of the
network is above its elevation mask, or the terminal's ground node is down: the same ground links as
:func:`leonet.step.snapshot` computes under the faults, before the policy removes any) or ``served``, as the
service's decisions (``leonet.server.snapshots``) give them.  The faults are the world's, the same under both
policies.  A *change* is the first snapshot of each run where the two outcomes differ; ``summary`` counts, per
country and rule, the terminals that went dark (served before, denied after) and came back (denied before,
served after): a rule's effect, so a jammed or uncovered terminal counts in neither.  ``at_start``: each
terminal's outcome under both policies at ``t0_s``, with the reason.  The roaming history before ``t0_s`` is
not carried (each policy starts its history at ``t0_s``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from leonet.assembly import World
from leonet.faults import fault_names
from leonet.policy import Policy, evaluate
from leonet.step import fault_masks, min_elevations, positions_at
from leonet.topology import ground_links

#: outcome codes (indices): a rule's denial, a jamming fault and no coverage are told apart
OUTCOMES = ("served", "denied", "no-coverage", "jammed")
SERVED, DENIED, NO_COVERAGE, JAMMED = range(4)


@dataclass(frozen=True)
class Change:
    kit_id: str
    t_s: float
    before: str
    after: str
    rule: str | None  # the rule that denies (after, or before when it came back)
    country: str
    fault: str | None = None  # the jamming fault (after, or before), when an outcome is "jammed"


@dataclass(frozen=True)
class TerminalOutcome:
    """One terminal at ``t0_s`` under both policies: outcome, denying rule or jamming fault, and the reason."""

    kit_id: str
    before: str
    after: str
    before_reason: str
    after_reason: str


@dataclass(frozen=True)
class SummaryRow:
    country: str
    rule: str
    went_dark: int
    came_back: int


@dataclass(frozen=True)
class Preview:
    t_s: NDArray[np.float64]
    terminal_ids: tuple[str, ...]
    changes: list[Change]
    summary: list[SummaryRow]
    at_start: list[TerminalOutcome] = field(default_factory=list)


def preview_times(t0_s: float, minutes: float, step_s: float) -> NDArray[np.float64]:
    n = int(np.floor(minutes * 60.0 / step_s + 1e-9))
    return t0_s + step_s * np.arange(n + 1, dtype=np.float64)


def coverage(world: World, net_index: int, times_s: NDArray[np.float64]) -> NDArray[np.bool_]:
    """(T, N): whether each of the world's terminals has a ground link to some unfailed satellite at each time
    (its ground node not down), jamming aside (:func:`fault_state`)."""
    return fault_state(world, net_index, times_s)[0]


def fault_state(
    world: World, net_index: int, times_s: NDArray[np.float64]
) -> tuple[NDArray[np.bool_], NDArray[np.int32]]:
    """(T, N) coverage as :func:`coverage`, and (T, N) the jamming fault that blocks each terminal (index into
    the scenario's faults; -1: none), under the world's faults at ``times_s``."""
    net = world.networks[net_index]
    g = world.ground
    sat = positions_at(net, world, times_s)
    st = g.at(times_s)
    min_el = min_elevations(net, g)
    n_t = len(world.terminals)
    masks = fault_masks(world, net_index, times_s, st)
    jam = np.full((len(times_s), n_t), -1, dtype=np.int32) if masks is None else masks.jam_fault
    # the terminals' nodes down (a ground fault naming them): ground_off less the jamming, reported apart
    down = None if masks is None else masks.ground_off[:, world.terminals] & (jam < 0)
    if masks is not None and masks.sats.any():  # a failed satellite takes part in no link (as step.snapshot)
        sat = np.where(masks.sats[:, :, None], np.nan, sat)
    out = np.zeros((len(times_s), n_t), dtype=bool)
    is_term = np.full(g.size, -1, dtype=np.int64)
    is_term[world.terminals] = np.arange(n_t)
    for k in range(len(times_s)):  # one k-d tree query per snapshot (vectorised over satellites and nodes)
        gsl = ground_links(sat[k], st.ecef_km[k], st.up[k], min_el, net.spec.max_ground_link_km)
        col = is_term[gsl.ground]
        out[k, col[col >= 0]] = True
    if down is not None:
        out &= ~down
    return out, jam


def outcomes(
    world: World,
    policy: Policy | None,
    times_s: NDArray[np.float64],
    covered: NDArray[np.bool_],
    jam: NDArray[np.int32] | None = None,
) -> tuple[NDArray[np.int8], NDArray[np.int32], list[str], NDArray[np.int16], tuple[str, ...], list[str]]:
    """(T, N) outcome codes (indices into :data:`OUTCOMES`; ``jam`` as :func:`fault_state` gives it, None: no
    jamming), denying rule index (-1: none), the rule ids, the country index (T, N) with its codes, and each
    rule's reason."""
    cols = world.terminals
    ids = [world.ground.names[i] for i in cols]
    shape = (len(times_s), len(cols))
    allowed_code = np.where(covered, SERVED, NO_COVERAGE)
    if jam is not None:
        allowed_code = np.where(jam >= 0, JAMMED, allowed_code)
    if policy is None:
        code = allowed_code.astype(np.int8)
        return code, np.full(shape, -1, np.int32), [], np.zeros(shape, np.int16), ("",), []
    lat, lon, alt, speed = world.ground.geodetic_at(times_s)
    d = evaluate(policy, ids, times_s, world.scenario.epoch, lat[:, cols], lon[:, cols], alt[:, cols], speed[:, cols])
    code = np.where(~d.served, DENIED, allowed_code).astype(np.int8)
    return code, d.rule, d.rule_ids, d.country, d.country_codes, list(d.reasons)


def preview(
    world: World,
    before: Policy | None,
    after: Policy | None,
    t0_s: float,
    minutes: float,
    *,
    step_s: float = 15.0,
    net_index: int | None = None,
) -> Preview:
    """Compare ``before`` and ``after`` (None: no policy) over ``minutes`` from ``t0_s`` (module doc)."""
    if net_index is None:
        net_index = next((i for i, n in enumerate(world.networks) if n.spec.policy), 0)
    times = preview_times(t0_s, minutes, step_s)
    ids = tuple(world.ground.names[i] for i in world.terminals)
    if not ids:
        return Preview(times, ids, [], [])
    covered, jam = fault_state(world, net_index, times)
    cb, rb, idb, country_b, codes_b, why_b = outcomes(world, before, times, covered, jam)
    ca, ra, ida, country_a, codes_a, why_a = outcomes(world, after, times, covered, jam)
    names = fault_names(world.scenario.faults)
    # the country as the policy in force after sees it (its country overrides), or before's without one after
    country_src, codes = (country_a, codes_a) if after is not None else (country_b, codes_b)
    differ = cb != ca
    start = differ.copy()
    start[1:] &= ~((cb[1:] == cb[:-1]) & (ca[1:] == ca[:-1]) & differ[:-1])
    ks, ns = np.nonzero(start)
    order = np.lexsort((ks, ns))
    changes: list[Change] = []
    dark: dict[tuple[str, str], set[str]] = defaultdict(set)
    back: dict[tuple[str, str], set[str]] = defaultdict(set)
    for k, n in zip(ks[order].tolist(), ns[order].tolist(), strict=True):  # only the changes, not every cell
        b, a = OUTCOMES[cb[k, n]], OUTCOMES[ca[k, n]]
        if a == "denied":
            rule: str | None = ida[ra[k, n]]
        elif b == "denied":
            rule = idb[rb[k, n]]
        else:
            rule = None
        fault = names[int(jam[k, n])] if "jammed" in (a, b) else None
        c = codes[country_src[k, n]]
        changes.append(Change(ids[n], float(times[k]), b, a, rule, c, fault))
        if b == "served" and a == "denied" and rule is not None:
            dark[(c, rule)].add(ids[n])
        if b == "denied" and a == "served" and rule is not None:
            back[(c, rule)].add(ids[n])
    keys = sorted(set(dark) | set(back))
    summary = [SummaryRow(c, r, len(dark.get((c, r), ())), len(back.get((c, r), ()))) for c, r in keys]
    net_name = world.networks[net_index].spec.name

    def reason(code: int, rule: int, why: list[str], jam_k: int) -> str:
        if code == DENIED:
            return why[rule]
        if code == JAMMED:
            return f"jammed (fault {names[jam_k]})"
        if code == NO_COVERAGE:
            return f"allowed, but no unfailed satellite of {net_name} is above the elevation mask here"
        return "no rule denies it"

    at_start = [  # one row per terminal for the JSON answer; the outcomes themselves are vectorised above
        TerminalOutcome(
            ids[n],
            OUTCOMES[cb[0, n]],
            OUTCOMES[ca[0, n]],
            reason(int(cb[0, n]), int(rb[0, n]), why_b, int(jam[0, n])),
            reason(int(ca[0, n]), int(ra[0, n]), why_a, int(jam[0, n])),
        )
        for n in range(len(ids))
    ]
    return Preview(times, ids, changes, summary, at_start)
