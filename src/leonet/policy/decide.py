"""Decisions: for every terminal at every snapshot, served, or the first rule that denies it, with a reason.

Evaluation order (fixed; every rule is evaluated, and the *first* denying rule is the one reported):

1. **registry** -- ``unregistered`` (only when ``default.unregistered = "deny"``), ``suspended``;
2. **geofences** -- among the active geofences containing the terminal, the one with the highest priority
   decides: ``deny``; ``whitelist-only`` (denied unless registered and on the whitelist); ``allow`` (no
   geofence denies here);
3. **licences** -- ``no-licence``: the country the terminal is in (Natural Earth, then ``country_overrides``)
   is in no licence valid at that time (``default.outside_countries`` decides at sea);
4. **service bans** -- the terminal's service class is banned in that country at that time;
5. **speed caps** -- faster than a country's cap in force (unless exempt);
6. **motion bans** -- in motion in a country that bans in-motion use on land;
7. **mobility** -- the limits of the terminal's service class: in-motion use, speed, altitude, roaming days.

Who, then where, then what, then how.  Everything is vectorised over (snapshots T, terminals N); the only
Python loops are over rules.

Boundaries (each pinned on both sides in ``tests/test_policy_boundaries.py``):

* time windows (``active_from`` / ``active_until``, ``valid_from`` / ``valid_until``) are half-open,
  ``[from, until)``, in UTC: in force at their start, no longer at their end;
* limits are inclusive: a speed exactly at a cap or plan limit, an altitude exactly at ``max_altitude_m``, a
  stay abroad of exactly ``roaming_days`` are allowed; a terminal moving at exactly ``moving_above_kmh`` is not
  in motion;
* a point exactly on a geofence's edge is outside it (``shapely.contains_xy``); a point exactly on a land
  border between two countries is in one of the two (both at distance 0; see :mod:`leonet.policy.borders`);
* reasons show a value with as many decimals as keep it on its true side of the limit ("90.4 km/h above the
  90 km/h cap", never "90 km/h above").
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from leonet.policy.compiled import Policy
from leonet.policy.models import Licence, Mobility, MotionBan, ServiceBan, SpeedCap
from leonet.timebase import as_utc

_DAY_S = 86_400.0


@dataclass(frozen=True)
class Fleet:
    """Terminals bound to a policy's registry (bind once, evaluate many snapshots): per terminal, whether it
    is registered and active, its service class and account type (indices into the policy's tables, -1:
    none), registered country (index into ``policy.codes``, 0: none), speed-cap exemption, whitelist
    memberships (whitelists x terminals) and when it went abroad (POSIX seconds, NaN: not known)."""

    ids: NDArray[np.str_]
    registered: NDArray[np.bool_]
    active: NDArray[np.bool_]
    service_class: NDArray[np.int32]
    account_type: NDArray[np.int32]
    registered_country: NDArray[np.int16]
    exempt_speed_cap: NDArray[np.bool_]
    whitelist: NDArray[np.bool_]
    abroad_since_unix_s: NDArray[np.float64]

    def take(self, sl: slice) -> Fleet:
        """The terminals ``sl`` (a block of them), as :func:`bind` would give for their ids."""
        return Fleet(
            self.ids[sl],
            self.registered[sl],
            self.active[sl],
            self.service_class[sl],
            self.account_type[sl],
            self.registered_country[sl],
            self.exempt_speed_cap[sl],
            self.whitelist[:, sl],
            self.abroad_since_unix_s[sl],
        )


def bind(policy: Policy, terminal_ids: Sequence[str] | NDArray[np.str_]) -> Fleet:
    """Look terminals up in the policy's registry (vectorised: a sorted search over the registry ids)."""
    ids = np.asarray(terminal_ids, dtype=str).reshape(-1)
    n_reg = policy.reg_ids.size
    if n_reg:
        pos = np.minimum(np.searchsorted(policy.reg_ids, ids), n_reg - 1)
        registered = policy.reg_ids[pos] == ids
    else:
        pos = np.zeros(ids.size, dtype=np.int64)
        registered = np.zeros(ids.size, dtype=bool)

    def take(arr: NDArray[np.generic], default: float | bool) -> NDArray[np.generic]:
        if not n_reg:
            return np.full(ids.size, default, dtype=arr.dtype)
        return np.where(registered, arr[pos], default)

    unreg_class = policy.index_of_class(policy.config.default.unregistered_service_class)
    wl = (
        (policy.reg_whitelist[:, pos] & registered[None, :])
        if n_reg
        else np.zeros((len(policy.whitelists), ids.size), dtype=bool)
    )
    return Fleet(
        ids=ids,
        registered=registered,
        active=take(policy.reg_active, True).astype(bool),
        service_class=take(policy.reg_class, unreg_class).astype(np.int32),
        account_type=take(policy.reg_account_type, -1).astype(np.int32),
        registered_country=take(policy.reg_country, 0).astype(np.int16),
        exempt_speed_cap=take(policy.reg_exempt, False).astype(bool),
        whitelist=wl,
        abroad_since_unix_s=take(policy.reg_abroad_since_unix_s, np.nan).astype(np.float64),
    )


@dataclass(frozen=True)
class Decisions:
    """Outcome of :func:`evaluate`, arrays shaped (snapshots T, terminals N).

    ``rule[t, n]`` indexes ``rule_ids`` / ``reasons`` (the policy's table of denial causes) or is -1 when the
    terminal is served; ``country[t, n]`` indexes ``country_codes`` (``''`` first: no country).
    """

    terminal_ids: NDArray[np.str_]
    t_s: NDArray[np.float64]
    served: NDArray[np.bool_]
    rule: NDArray[np.int32]
    rule_ids: list[str]
    reasons: list[str]
    country: NDArray[np.int16]
    country_codes: tuple[str, ...]

    def reason(self, t_index: int, n: int) -> str:
        """The reason terminal ``n`` is denied at snapshot ``t_index`` (``''`` when it is served)."""
        r = int(self.rule[t_index, n])
        return "" if r < 0 else self.reasons[r]

    def runs(self) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int32]]:
        """Maximal runs of equal decisions per terminal, as arrays ``(terminal, first, stop, rule)``: terminal
        ``n`` has decision ``rule`` (-1: served) at snapshots ``first <= t < stop``. Sorted by terminal, time."""
        r = self.rule.T  # (N, T)
        n_t = r.shape[1]
        change = np.ones(r.shape, dtype=bool)
        change[:, 1:] = r[:, 1:] != r[:, :-1]
        term, first = np.nonzero(change)
        stop = np.empty_like(first)
        stop[:-1] = first[1:]
        new_term = np.r_[term[1:] != term[:-1], True]
        stop[new_term] = n_t
        return term, first, stop, r[term, first]


class Step(NamedTuple):
    """One line of :func:`why`: a rule, what it did (``deny``: the reported denial; ``also-deny``: a later
    rule that would deny too; ``pass``; ``n/a``: not applicable here and now), and why, in words."""

    rule_id: str
    outcome: str
    reason: str


@dataclass
class _Check:
    rule_id: str
    deny: NDArray[np.bool_]
    cause: int | NDArray[np.int32]
    applies: NDArray[np.bool_]
    explain: Callable[[int, int], str]


@dataclass
class _Ctx:
    policy: Policy
    fleet: Fleet
    epoch: datetime
    t_s: NDArray[np.float64]
    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    alt: NDArray[np.float64]
    speed: NDArray[np.float64]
    country: NDArray[np.int16]
    #: the history before ``t_s[0]`` (None: ``t_s[0]`` is the first snapshot, the registry's ``abroad_since``
    #: applies to a stay abroad there)
    carry: PolicyCarry | None = None
    stays_cache: tuple[NDArray[np.bool_], NDArray[np.float64]] | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return (self.t_s.size, self.fleet.ids.size)

    def window(self, start: datetime | None, stop: datetime | None) -> NDArray[np.bool_]:
        """(T, 1): whether each snapshot is in ``[start, stop)``."""
        t = self.epoch.timestamp() + self.t_s
        ok = np.ones(t.shape, dtype=bool)
        if start is not None:
            ok &= t >= start.timestamp()
        if stop is not None:
            ok &= t < stop.timestamp()
        return ok[:, None]

    def in_countries(self, codes: list[str] | None) -> NDArray[np.bool_]:
        """(T, N), or (1, 1) True for ``None`` (everywhere)."""
        if codes is None:
            return np.ones((1, 1), dtype=bool)
        mask = np.zeros(len(self.policy.codes), dtype=bool)
        mask[[self.policy.codes.index(c) for c in codes]] = True
        return mask[self.country]

    def classes(self, names: list[str]) -> NDArray[np.bool_]:
        """(1, N): whether each terminal's service class is one of ``names``."""
        idx = [self.policy.classes.index(c) for c in names if c in self.policy.classes]
        return np.isin(self.fleet.service_class, idx)[None, :]

    def when(self, t: int) -> str:
        return (self.epoch + timedelta(seconds=float(self.t_s[t]))).strftime("%Y-%m-%dT%H:%M:%SZ")

    def code(self, t: int, n: int) -> str:
        return self.policy.codes[int(self.country[t, n])] or "no country (open sea)"


def _num(v: float, limit: float) -> str:
    """``v`` with as few decimals as keep it on its true side of ``limit``: never "90" for 90.4 against a cap of
    90 (it would read "90 km/h above the 90 km/h cap"), nor "90" for 89.6 ("within" would hide that it is lower)."""
    for digits in range(17):  # from 1 upwards, 16 decimals give a double back exactly; below, repr() does
        shown = float(f"{v:.{digits}f}")
        if (shown > limit) == (v > limit) and (shown == limit) == (v == limit):
            return f"{v:.{digits}f}"
    return repr(float(v))


def _span(start: datetime | None, stop: datetime | None) -> str:
    a = start.strftime("%Y-%m-%dT%H:%M:%SZ") if start else "the beginning"
    b = stop.strftime("%Y-%m-%dT%H:%M:%SZ") if stop else "open end"
    return f"in force from {a} until {b}"


@dataclass(frozen=True)
class PolicyCarry:
    """What the rules that look back in time (roaming) need from the snapshots before a chunk: per terminal, the
    start of its current stay abroad (seconds after the epoch; NaN: not abroad at the previous snapshot).
    Picklable; :func:`evaluate_chunk` takes one and returns the next, so a window decided chunk by chunk equals
    the window decided at once."""

    abroad_since_s: NDArray[np.float64]

    def take(self, sl: slice) -> PolicyCarry:
        """The carry of the terminals ``sl`` (a block of them)."""
        return PolicyCarry(self.abroad_since_s[sl])


def looks_back(policy: Policy) -> bool:
    """Whether any rule's decision depends on earlier snapshots (a plan's ``roaming_days``)."""
    return any(m.roaming_days is not None for m in policy.config.mobility)


def _stays(ctx: _Ctx) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    """(T, N) whether each terminal is abroad (in a country other than its registered one), and when its current
    stay abroad began (seconds after the epoch): at the first snapshot of the stay, from ``ctx.carry`` for a stay
    that began before ``t_s[0]``, or from ``abroad_since`` for a stay already under way at the window's first
    snapshot (no carry)."""
    if ctx.stays_cache is not None:
        return ctx.stays_cache
    home = ctx.fleet.registered_country[None, :]
    abroad = (home > 0) & (ctx.country > 0) & (ctx.country != home)
    n_t = ctx.t_s.size
    prev = np.zeros_like(abroad)
    prev[1:] = abroad[:-1]
    if ctx.carry is not None and n_t:
        prev[0] = np.isfinite(ctx.carry.abroad_since_s)
    start = abroad & ~prev
    idx = np.where(start, np.arange(n_t)[:, None], -1)
    start_idx = np.maximum.accumulate(idx, axis=0)
    since = ctx.t_s[np.maximum(start_idx, 0)] if n_t else np.empty(abroad.shape)
    if ctx.carry is None:
        known = ctx.fleet.abroad_since_unix_s - ctx.epoch.timestamp()
        from_first = (start_idx == 0) & np.isfinite(known)[None, :]
        since = np.where(from_first, np.minimum(since, np.nan_to_num(known)[None, :]), since)
    else:
        since = np.where(start_idx < 0, ctx.carry.abroad_since_s[None, :], since)
    ctx.stays_cache = (abroad, since)
    return abroad, since


def _abroad_s(ctx: _Ctx) -> NDArray[np.float64]:
    """(T, N) seconds each terminal has been continuously abroad (in a country other than its registered one),
    counted from the start of the current stay abroad, or from ``abroad_since`` for a stay that began before
    the first snapshot; 0 at home, at sea, or without a registered country."""
    abroad, since = _stays(ctx)
    return np.where(abroad, ctx.t_s[:, None] - since, 0.0)


def _carry_out(ctx: _Ctx) -> PolicyCarry | None:
    """The carry for the snapshot after ``ctx.t_s[-1]``; after no snapshots, the carry given (None: still the
    window's start, where a stay under way is counted from the registry's ``abroad_since``)."""
    if ctx.t_s.size == 0:
        return ctx.carry
    abroad, since = _stays(ctx)
    return PolicyCarry(np.where(abroad[-1], since[-1], np.nan))


def _registry_checks(ctx: _Ctx) -> Iterator[_Check]:
    p, f, cfg = ctx.policy, ctx.fleet, ctx.policy.config
    everywhere = np.ones((1, 1), dtype=bool)
    registered = f.registered[None, :]
    deny_unreg = cfg.default.unregistered == "deny"

    def explain_unreg(t: int, n: int) -> str:
        if f.registered[n]:
            return "terminal is registered"
        return "terminal is not registered, and the policy " + (
            "denies unregistered terminals" if deny_unreg else "serves unregistered terminals (default)"
        )

    yield _Check(
        "unregistered",
        ~registered if deny_unreg else np.zeros((1, 1), dtype=bool),
        p.cause[("unregistered",)],
        everywhere,
        explain_unreg,
    )
    yield _Check(
        "suspended",
        registered & ~f.active[None, :],
        p.cause[("suspended",)],
        registered,
        lambda t, n: (
            "terminal is not registered (nothing to suspend)"
            if not f.registered[n]
            else "terminal is suspended"
            if not f.active[n]
            else "terminal is active"
        ),
    )


def _geofence_check(ctx: _Ctx, i: int, settler: NDArray[np.int32]) -> _Check:
    """Geofence ``i``; ``settler`` (updated in place) holds, per point, the geofence that decided there."""
    p, f, cfg = ctx.policy, ctx.fleet, ctx.policy.config
    g, region = cfg.geofences[i], p.geofences[i]
    act = ctx.window(g.active_from, g.active_until)
    # the point-in-polygon work is skipped while the geofence is not active
    inside = region.contains(ctx.lat, ctx.lon, ctx.country) & act if act.any() else np.zeros(ctx.shape, dtype=bool)
    before = settler.copy()
    hit = inside & (settler < 0)
    settler[hit] = i
    registered = f.registered[None, :]
    deny: NDArray[np.bool_]
    cause: int | NDArray[np.int32]
    if g.action == "deny":
        deny, cause = hit, p.cause[("geofence", g.id)]
    elif g.action == "whitelist-only":
        member = f.whitelist[p.whitelists.index(str(g.whitelist))][None, :]
        unreg = hit & ~registered
        deny = unreg | (hit & registered & ~member)
        cause = np.where(
            unreg, p.cause[("geofence", g.id, "unregistered")], p.cause[("geofence", g.id, "not-listed")]
        ).astype(np.int32)
    else:
        deny, cause = np.zeros((1, 1), dtype=bool), -1
    name = f"geofence {g.id} ({g.action}, priority {g.priority})"

    def explain(t: int, n: int) -> str:
        if not act[t, 0]:
            return f"{name} is not active at {ctx.when(t)} ({_span(g.active_from, g.active_until)})"
        if not inside[t, n]:
            return f"outside {name}"
        if before[t, n] >= 0:
            other = cfg.geofences[before[t, n]]
            why_first = "a higher priority" if other.priority > g.priority else "the same priority and is listed first"
            return f"inside {name}, but geofence {other.id} decides here ({why_first})"
        if g.action == "deny":
            return f"inside {name}"
        if g.action == "allow":
            return f"inside {name}: lower-priority geofences do not apply here"
        if not f.registered[n]:
            return f"inside {name}, and the terminal is not registered"
        on = bool(f.whitelist[p.whitelists.index(str(g.whitelist)), n])
        return f"inside {name}; the terminal is {'on' if on else 'not on'} whitelist {g.whitelist}"

    return _Check(g.id, deny, cause, hit, explain)


def _licence_check(ctx: _Ctx, licences: list[Licence]) -> _Check:
    p, cfg = ctx.policy, ctx.policy.config
    n_t = ctx.shape[0]
    licensed = np.zeros((n_t, len(p.codes)), dtype=bool)
    for lic in licences:
        licensed[:, [p.codes.index(c) for c in lic.countries]] |= ctx.window(lic.valid_from, lic.valid_until)
    licensed[:, 0] = cfg.default.outside_countries == "serve"
    ok = licensed[np.arange(n_t)[:, None], ctx.country]

    def explain(t: int, n: int) -> str:
        c = p.codes[int(ctx.country[t, n])]
        if not c:
            verb = "serves" if cfg.default.outside_countries == "serve" else "denies"
            return f"at sea (in no country): the policy {verb} terminals there"
        valid = [lic.id for lic in licences if c in lic.countries and ctx.window(lic.valid_from, lic.valid_until)[t, 0]]
        if valid:
            return f"in {c}, licensed by {', '.join(valid)}"
        return f"{p.reasons[p.licence_base + int(ctx.country[t, n])]} valid at {ctx.when(t)}"

    return _Check(
        "no-licence", ~ok, (p.licence_base + ctx.country).astype(np.int32), np.ones((1, 1), dtype=bool), explain
    )


def _service_ban_check(ctx: _Ctx, s: ServiceBan) -> _Check:
    p = ctx.policy
    act = ctx.window(s.active_from, s.active_until)
    applies = ctx.in_countries(s.countries) & act & ctx.classes(s.service_classes)
    scope = f"service class {' / '.join(s.service_classes)}" + (f" in {', '.join(s.countries)}" if s.countries else "")

    def explain(t: int, n: int) -> str:
        if not act[t, 0]:
            return f"service ban {s.id} is not in force at {ctx.when(t)} ({_span(s.active_from, s.active_until)})"
        if np.broadcast_to(applies, ctx.shape)[t, n]:
            return p.reasons[p.cause[("service-ban", s.id)]]
        return f"service ban {s.id} ({scope}) does not apply to this terminal here"

    return _Check(s.id, applies, p.cause[("service-ban", s.id)], applies, explain)


def _speed_cap_check(ctx: _Ctx, sc: SpeedCap) -> _Check:
    p, f = ctx.policy, ctx.fleet
    act = ctx.window(sc.active_from, sc.active_until)
    exempt_types = [p.account_types.index(a) for a in sc.exempt_account_types if a in p.account_types]
    exempt = (f.exempt_speed_cap | np.isin(f.account_type, exempt_types))[None, :]
    in_c = ctx.in_countries(sc.countries)
    applies = in_c & act & ~exempt
    deny = applies & (ctx.speed > sc.max_speed_kmh)

    def explain(t: int, n: int) -> str:
        v = float(ctx.speed[t, n])
        if not act[t, 0]:
            return f"speed cap {sc.id} is not in force at {ctx.when(t)} ({_span(sc.active_from, sc.active_until)})"
        if sc.countries and not np.broadcast_to(in_c, ctx.shape)[t, n]:
            return f"speed cap {sc.id} applies in {', '.join(sc.countries)}; the terminal is in {ctx.code(t, n)}"
        if exempt[0, n]:
            return f"terminal is exempt from speed cap {sc.id} (speed {_num(v, sc.max_speed_kmh)} km/h)"
        rel = "above" if v > sc.max_speed_kmh else "within"
        return f"speed {_num(v, sc.max_speed_kmh)} km/h {rel} the {sc.max_speed_kmh:g} km/h cap of {sc.id}"

    return _Check(sc.id, deny, p.cause[("speed-cap", sc.id)], applies, explain)


def _motion_ban_check(ctx: _Ctx, mb: MotionBan) -> _Check:
    p = ctx.policy
    moving_kmh = p.config.default.moving_above_kmh
    act = ctx.window(mb.active_from, mb.active_until)
    applies = ctx.in_countries(mb.countries) & act & ~ctx.classes(mb.except_service_classes)
    deny = applies & (ctx.speed > moving_kmh)

    def explain(t: int, n: int) -> str:
        v = float(ctx.speed[t, n])
        if not act[t, 0]:
            return f"motion ban {mb.id} is not in force at {ctx.when(t)} ({_span(mb.active_from, mb.active_until)})"
        if not np.broadcast_to(applies, ctx.shape)[t, n]:
            return (
                f"motion ban {mb.id} (in {', '.join(mb.countries)}, except "
                f"{', '.join(mb.except_service_classes) or 'none'}) does not apply to this terminal here"
            )
        moving = "in motion" if v > moving_kmh else "not in motion"
        return (
            f"{moving} ({_num(v, moving_kmh)} km/h; in motion above {moving_kmh:g} km/h) in {ctx.code(t, n)}, "
            f"where {mb.id} bans in-motion use on land"
        )

    return _Check(mb.id, deny, p.cause[("motion-ban", mb.id)], applies, explain)


def _limit_text(key: str, v: float, limit: float, plan: str, moving_kmh: float) -> str:
    rel = "above" if v > limit else "within"
    if key == "in-motion":
        moving = "in motion" if v > moving_kmh else "not in motion"
        shown = _num(v, moving_kmh)
        return f"{moving} ({shown} km/h; in motion above {moving_kmh:g} km/h); {plan} allows no in-motion use"
    if key == "speed":
        return f"speed {_num(v, limit)} km/h {rel} the {limit:g} km/h limit of {plan}"
    if key == "altitude":
        return f"altitude {_num(v, limit)} m {rel} the {limit:g} m limit of {plan}"
    if v <= 0:
        return f"at home or at sea (the roaming limit of {plan} is {limit:g} days)"
    return f"abroad for {_num(v, limit)} days, {rel} the {limit:g}-day roaming limit of {plan}"


def _limit_check(ctx: _Ctx, m: Mobility, key: str, value: NDArray[np.float64], limit: float) -> _Check:
    """A mobility limit: terminals of ``m.service_class`` whose ``value`` exceeds ``limit`` are denied."""
    mine = (ctx.fleet.service_class == ctx.policy.classes.index(m.service_class))[None, :]
    value = np.broadcast_to(value, ctx.shape)
    plan = f"plan {m.service_class} ({m.id})"
    moving_kmh = ctx.policy.config.default.moving_above_kmh

    def explain(t: int, n: int) -> str:
        if not mine[0, n]:
            return f"{m.id} limits service class {m.service_class}; not this terminal's class"
        return _limit_text(key, float(value[t, n]), limit, plan, moving_kmh)

    return _Check(
        m.id,
        mine & (value > limit),
        ctx.policy.cause[("mobility", m.id, key)],
        np.broadcast_to(mine, ctx.shape),
        explain,
    )


def _mobility_checks(ctx: _Ctx) -> Iterator[_Check]:
    abroad_days: NDArray[np.float64] | None = None
    for m in ctx.policy.config.mobility:
        if not m.in_motion:
            yield _limit_check(ctx, m, "in-motion", ctx.speed, ctx.policy.config.default.moving_above_kmh)
        if m.max_speed_kmh is not None:
            yield _limit_check(ctx, m, "speed", ctx.speed, m.max_speed_kmh)
        if m.max_altitude_m is not None:
            yield _limit_check(ctx, m, "altitude", ctx.alt, m.max_altitude_m)
        if m.roaming_days is not None:
            if abroad_days is None:
                abroad_days = _abroad_s(ctx) / _DAY_S
            yield _limit_check(ctx, m, "roaming", abroad_days, m.roaming_days)


def _checks(ctx: _Ctx) -> Iterator[_Check]:
    """Every rule's check, in evaluation order."""
    cfg = ctx.policy.config
    yield from _registry_checks(ctx)
    settler = np.full(ctx.shape, -1, dtype=np.int32)
    for i in sorted(range(len(cfg.geofences)), key=lambda i: -cfg.geofences[i].priority):
        yield _geofence_check(ctx, i, settler)
    if cfg.licences is not None:
        yield _licence_check(ctx, cfg.licences)
    for s in cfg.service_bans:
        yield _service_ban_check(ctx, s)
    for sc in cfg.speed_caps:
        yield _speed_cap_check(ctx, sc)
    for mb in cfg.motion_bans:
        yield _motion_ban_check(ctx, mb)
    yield from _mobility_checks(ctx)


def _context(
    policy: Policy,
    terminals: Sequence[str] | NDArray[np.str_] | Fleet,
    t_s: ArrayLike,
    epoch: datetime,
    lat_deg: ArrayLike,
    lon_deg: ArrayLike,
    alt_m: ArrayLike,
    speed_kmh: ArrayLike,
    carry: PolicyCarry | None = None,
) -> _Ctx:
    fleet = terminals if isinstance(terminals, Fleet) else bind(policy, terminals)
    t = np.atleast_1d(np.asarray(t_s, dtype=np.float64))
    if t.ndim != 1:
        raise ValueError(f"t_s must be 1-D (snapshots), got shape {t.shape}")
    shape = (t.size, fleet.ids.size)
    lat = np.broadcast_to(np.asarray(lat_deg, dtype=np.float64), shape)
    lon = np.broadcast_to(np.asarray(lon_deg, dtype=np.float64), shape)
    alt = np.broadcast_to(np.asarray(alt_m, dtype=np.float64), shape)
    speed = np.broadcast_to(np.asarray(speed_kmh, dtype=np.float64), shape)
    country = policy.country_index(lat, lon)
    return _Ctx(policy, fleet, as_utc(epoch), t, lat, lon, alt, speed, country, carry)


def evaluate(
    policy: Policy,
    terminals: Sequence[str] | NDArray[np.str_] | Fleet,
    t_s: ArrayLike,
    epoch: datetime,
    lat_deg: ArrayLike,
    lon_deg: ArrayLike,
    alt_m: ArrayLike = 0.0,
    speed_kmh: ArrayLike = 0.0,
) -> Decisions:
    """Decide, for every terminal at every snapshot, whether it is served, and if not which rule denies it.

    ``terminals``: N terminal ids (or a :class:`Fleet` from :func:`bind`, to bind once for many calls);
    ``t_s``: T snapshot times in seconds after ``epoch`` (UTC); positions, altitudes (m) and speeds (km/h)
    broadcast to (T, N).  Rules are applied in the module's documented order; the first denial is reported.
    ``t_s[0]`` is the first snapshot (see :func:`evaluate_chunk` to continue from earlier snapshots).
    """
    return evaluate_chunk(policy, terminals, t_s, epoch, lat_deg, lon_deg, alt_m, speed_kmh, None)[0]


def evaluate_chunk(
    policy: Policy,
    terminals: Sequence[str] | NDArray[np.str_] | Fleet,
    t_s: ArrayLike,
    epoch: datetime,
    lat_deg: ArrayLike,
    lon_deg: ArrayLike,
    alt_m: ArrayLike,
    speed_kmh: ArrayLike,
    carry: PolicyCarry | None,
) -> tuple[Decisions, PolicyCarry | None]:
    """:func:`evaluate` over a chunk of snapshots that continues earlier ones: ``carry`` is the history before
    ``t_s[0]`` (None: there is none, ``t_s[0]`` is the window's first snapshot); returns the decisions and the
    carry for the next chunk (None after an empty chunk at the window's start).  Chunks chained this way decide
    exactly as one call over the whole window."""
    ctx = _context(policy, terminals, t_s, epoch, lat_deg, lon_deg, alt_m, speed_kmh, carry)
    rule = np.full(ctx.shape, -1, dtype=np.int32)
    for c in _checks(ctx):
        m = np.broadcast_to(c.deny, ctx.shape) & (rule < 0)
        if isinstance(c.cause, int):
            rule[m] = c.cause
        else:
            rule[m] = np.broadcast_to(c.cause, ctx.shape)[m]
    out = Decisions(
        ctx.fleet.ids, ctx.t_s, rule < 0, rule, list(policy.rule_ids), list(policy.reasons), ctx.country, policy.codes
    )
    return out, _carry_out(ctx)


def why(
    policy: Policy,
    terminal_id: str,
    t_s: ArrayLike,
    epoch: datetime,
    lat_deg: ArrayLike,
    lon_deg: ArrayLike,
    alt_m: ArrayLike = 0.0,
    speed_kmh: ArrayLike = 0.0,
    *,
    at: int = -1,
) -> list[Step]:
    """The whole decision chain for one terminal at one snapshot, rule by rule in evaluation order, ending with
    a ``decision`` step.

    ``t_s`` and the positions are scalars or 1-D over the terminal's snapshots (the roaming limit looks at
    the history); the chain is explained at snapshot index ``at`` (default: the last).
    """
    t = np.atleast_1d(np.asarray(t_s, dtype=np.float64))

    def col(v: ArrayLike) -> NDArray[np.float64]:
        return np.broadcast_to(np.asarray(v, dtype=np.float64), t.shape)[:, None]

    ctx = _context(policy, [terminal_id], t, epoch, col(lat_deg), col(lon_deg), col(alt_m), col(speed_kmh))
    k = at % t.size
    steps: list[Step] = []
    first: Step | None = None
    for c in _checks(ctx):
        denies = bool(np.broadcast_to(c.deny, ctx.shape)[k, 0])
        applies = bool(np.broadcast_to(c.applies, ctx.shape)[k, 0])
        text = c.explain(k, 0)
        if denies:
            step = Step(c.rule_id, "deny" if first is None else "also-deny", text)
            first = first or step
        else:
            step = Step(c.rule_id, "pass" if applies else "n/a", text)
        if not steps or steps[-1] != step:  # one line for a rule's limits that all do not apply
            steps.append(step)
    where = f"at {ctx.when(k)} in {ctx.code(k, 0)} ({float(ctx.lat[k, 0]):.4f}, {float(ctx.lon[k, 0]):.4f})"
    if first is None:
        steps.append(Step("decision", "served", f"terminal {terminal_id} is served {where}: no rule denies it"))
    else:
        steps.append(
            Step("decision", "denied", f"terminal {terminal_id} is denied {where} by {first.rule_id}: {first.reason}")
        )
    return steps
