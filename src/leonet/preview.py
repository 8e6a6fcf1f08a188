"""What a policy change would do: the decisions of two policies over the next minutes, compared (pure).

For every terminal of the world (its ground nodes of kind ``terminal``) at snapshots ``t0_s, t0_s + step_s,
...`` up to ``t0_s + minutes`` (inclusive), the outcome under each policy is ``served``, ``denied`` (a rule
denies it) or ``no-coverage`` (the policy allows it but no satellite of the network is above its elevation
mask: the same ground links as :func:`leonet.step.snapshot` computes, before the policy removes any).  A
*change* is the first snapshot of each run where the two outcomes differ; ``summary`` counts, per country
and rule, the terminals that went dark (served before, denied after) and came back (denied before, served
after).  The roaming history before ``t0_s`` is not carried (each policy starts its history at ``t0_s``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from leonet.assembly import World
from leonet.policy import Policy, evaluate
from leonet.step import min_elevations, positions_at
from leonet.topology import ground_links

OUTCOMES = ("served", "denied", "no-coverage")


@dataclass(frozen=True)
class Change:
    kit_id: str
    t_s: float
    before: str
    after: str
    rule: str | None  # the rule that denies (after, or before when it came back)
    country: str


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


def preview_times(t0_s: float, minutes: float, step_s: float) -> NDArray[np.float64]:
    n = int(np.floor(minutes * 60.0 / step_s + 1e-9))
    return t0_s + step_s * np.arange(n + 1, dtype=np.float64)


def coverage(world: World, net_index: int, times_s: NDArray[np.float64]) -> NDArray[np.bool_]:
    """(T, N): whether each of the world's terminals has a ground link to some satellite at each time."""
    net = world.networks[net_index]
    g = world.ground
    sat = positions_at(net, world, times_s)
    st = g.at(times_s)
    min_el = min_elevations(net, g)
    out = np.zeros((len(times_s), len(world.terminals)), dtype=bool)
    is_term = np.full(g.size, -1, dtype=np.int64)
    is_term[world.terminals] = np.arange(len(world.terminals))
    for k in range(len(times_s)):  # one k-d tree query per snapshot (vectorised over satellites and nodes)
        gsl = ground_links(sat[k], st.ecef_km[k], st.up[k], min_el, net.spec.max_ground_link_km)
        col = is_term[gsl.ground]
        out[k, col[col >= 0]] = True
    return out


def outcomes(
    world: World, policy: Policy | None, times_s: NDArray[np.float64], covered: NDArray[np.bool_]
) -> tuple[NDArray[np.int8], NDArray[np.int32], list[str], NDArray[np.int16], tuple[str, ...]]:
    """(T, N) outcome codes (indices into :data:`OUTCOMES`), denying rule index (-1: none), the rule ids, and
    the country index (T, N) with its codes."""
    cols = world.terminals
    ids = [world.ground.names[i] for i in cols]
    shape = (len(times_s), len(cols))
    if policy is None:
        code = np.where(covered, 0, 2).astype(np.int8)
        return code, np.full(shape, -1, np.int32), [], np.zeros(shape, np.int16), ("",)
    lat, lon, alt, speed = world.ground.geodetic_at(times_s)
    d = evaluate(policy, ids, times_s, world.scenario.epoch, lat[:, cols], lon[:, cols], alt[:, cols], speed[:, cols])
    code = np.where(~d.served, 1, np.where(covered, 0, 2)).astype(np.int8)
    return code, d.rule, d.rule_ids, d.country, d.country_codes


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
    covered = coverage(world, net_index, times)
    cb, rb, idb, country_b, codes_b = outcomes(world, before, times, covered)
    ca, ra, ida, country_a, codes_a = outcomes(world, after, times, covered)
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
        c = codes[country_src[k, n]]
        changes.append(Change(ids[n], float(times[k]), b, a, rule, c))
        if b == "served" and a == "denied" and rule is not None:
            dark[(c, rule)].add(ids[n])
        if b == "denied" and a == "served" and rule is not None:
            back[(c, rule)].add(ids[n])
    keys = sorted(set(dark) | set(back))
    summary = [SummaryRow(c, r, len(dark.get((c, r), ())), len(back.get((c, r), ()))) for c, r in keys]
    return Preview(times, ids, changes, summary)
