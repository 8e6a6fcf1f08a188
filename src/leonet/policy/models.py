"""The ``[policy]`` section of a scenario, as pydantic v2 models.

Every rule has an ``id``, unique across the whole policy.  The section is usually TOML read into a dict; use
:func:`parse_policy_config` (or :func:`leonet.policy.parse_policy`, which also loads geofence files and builds
the evaluator) to get one-line :class:`~leonet.errors.InputError` messages that name the place.
``PolicyConfig.model_validate(data)`` works too, and raises pydantic's ``ValidationError``.

Each public fact in ``docs/scenarios.md`` is one rule:

=============================================================  ==================================================
fact                                                           rule
=============================================================  ==================================================
no licence in Taiwan                                           ``licences`` (TW in none of them)
not activated over Crimea (Sept. 2022)                         ``geofences`` ``action = "deny"``, time window
military and drone use restricted (Oct. 2022)                  ``service_bans`` (service classes, countries)
Ukraine whitelist (Feb. 2026)                                  ``geofences`` ``action = "whitelist-only"``
1 / 3 / 10 / unlimited terminals per account                   ``quotas`` (one per account type)
Ukraine speed cap, military exempt (Jan. 2026)                 ``speed_caps`` + terminal ``exempt_speed_cap``
no in-motion use on fixed plans; 160 km/h on mobile plans      ``mobility`` (one per service class)
roaming abroad at most two months                              ``mobility`` ``roaming_days = 60``
no in-motion use on land in Japan, Mexico                      ``motion_bans``
terminals used by unauthorised parties deactivated             terminal ``status = "suspended"``
=============================================================  ==================================================
"""

from __future__ import annotations

import difflib
from collections import Counter, defaultdict
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from leonet.errors import InputError
from leonet.policy.borders import known_country_codes
from leonet.policy.geometry import geometry_from_geojson
from leonet.timebase import as_utc

#: Rule ids the evaluator itself uses; a policy cannot give them to its own rules.
RESERVED_IDS = frozenset({"unregistered", "suspended", "no-licence"})

_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.:/+-]*$"


def _country(code: str) -> str:
    c = code.strip().upper()
    if c not in known_country_codes():
        raise ValueError(
            f"unknown country code {code!r}; expected an ISO 3166-1 alpha-2 code known to the shipped Natural Earth "
            "borders (ISO_A2_EH), e.g. UA, TW, JP"
        )
    return c


UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]
RuleId = Annotated[str, StringConstraints(pattern=_NAME, max_length=80)]
Name = Annotated[str, StringConstraints(pattern=_NAME, max_length=80)]
CountryCode = Annotated[str, AfterValidator(_country)]
Countries = Annotated[list[CountryCode], Field(min_length=1)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Windowed(_Model):
    """A rule in force from ``active_from`` (inclusive) until ``active_until`` (exclusive), UTC; open ends
    when left out."""

    active_from: UtcDatetime | None = None
    active_until: UtcDatetime | None = None

    @model_validator(mode="after")
    def _window(self) -> _Windowed:
        if self.active_from and self.active_until and self.active_until <= self.active_from:
            raise ValueError(
                f"active_until {self.active_until.isoformat()} is not after active_from "
                f"{self.active_from.isoformat()}; expected a non-empty time window"
            )
        return self


class _Region(_Model):
    """Where a rule applies: an inline GeoJSON ``geometry``, or a GeoJSON ``file`` (relative to the scenario
    file, or ``builtin:NAME`` for a file shipped in ``leonet/data``) with an optional ``feature`` selector
    (property name -> value, e.g. ``{ region_id = "crimea" }``)."""

    geometry: dict[str, Any] | None = None
    file: str | None = None
    feature: dict[str, str | int | float | bool] | None = None

    def _sources(self) -> list[str]:
        return [k for k in ("geometry", "file") if getattr(self, k) is not None]

    @model_validator(mode="after")
    def _region(self) -> _Region:
        allowed = ["geometry", "file", *(["countries"] if "countries" in type(self).model_fields else [])]
        given = self._sources()
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(allowed)} (got {', '.join(given) or 'none'})")
        if self.feature is not None and self.file is None:
            raise ValueError("feature selects a feature of a file; expected file = ... with it")
        if self.geometry is not None:
            geometry_from_geojson(self.geometry, "geometry")
        return self


class Licence(_Model):
    """Service may be provided in ``countries`` from ``valid_from`` until ``valid_until`` (UTC, open ends)."""

    id: RuleId
    countries: Countries
    valid_from: UtcDatetime | None = None
    valid_until: UtcDatetime | None = None

    @model_validator(mode="after")
    def _window(self) -> Licence:
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise ValueError("valid_until is not after valid_from; expected a non-empty validity interval")
        return self


class Geofence(_Windowed, _Region):
    """A region with an action. Where several active geofences contain a point, the one with the highest
    ``priority`` decides: ``deny`` (no service), ``whitelist-only`` (only active registered terminals on
    ``whitelist`` are served) or ``allow`` (lower-priority geofences do not apply here).  ``countries`` is a
    third way to give the region: the listed countries (as the policy's country lookup sees them)."""

    id: RuleId
    action: Literal["deny", "whitelist-only", "allow"]
    priority: int = 0
    countries: Countries | None = None
    whitelist: Name | None = None
    #: false: skip the swapped-axes checks that look at where the fence lies (leonet.policy.coverage)
    check_axes: bool = True

    def _sources(self) -> list[str]:
        return [k for k in ("geometry", "file", "countries") if getattr(self, k) is not None]

    @model_validator(mode="after")
    def _whitelist(self) -> Geofence:
        if self.action == "whitelist-only" and self.whitelist is None:
            raise ValueError("a whitelist-only geofence needs whitelist = NAME")
        if self.action != "whitelist-only" and self.whitelist is not None:
            raise ValueError(f"whitelist applies to whitelist-only geofences only (action is {self.action})")
        return self


class CountryOverride(_Region):
    """Points inside the region count as being in ``country`` (e.g. Crimea, which Natural Earth puts in RU)."""

    id: RuleId
    country: CountryCode


class Terminal(_Model):
    """A registered terminal (kit). ``exempt_speed_cap``: exempt from country speed caps (registered military
    units); ``abroad_since``: when it last left ``registered_country``, for the roaming limit."""

    id: Name
    account: Name
    account_type: Name = "person"
    service_class: Name = "fixed"
    registered_country: CountryCode | None = None
    status: Literal["active", "suspended"] = "active"
    whitelists: list[Name] = []
    exempt_speed_cap: bool = False
    abroad_since: UtcDatetime | None = None


class Quota(_Model):
    """At most ``max_terminals`` active terminals per account of ``account_type`` (``"unlimited"``: no limit),
    counting only members of ``whitelist`` when it is given. Checked when the policy is validated."""

    id: RuleId
    account_type: Name
    max_terminals: Annotated[int, Field(ge=0)] | Literal["unlimited"]
    whitelist: Name | None = None


class Mobility(_Model):
    """Limits of a service class (plan): in-motion use (faster than ``default.moving_above_kmh``), maximum
    speed, maximum altitude, and the longest continuous stay abroad."""

    id: RuleId
    service_class: Name
    in_motion: bool = True
    max_speed_kmh: Annotated[float, Field(gt=0)] | None = None
    max_altitude_m: float | None = None
    roaming_days: Annotated[float, Field(ge=0)] | None = None


class SpeedCap(_Windowed):
    """Terminals in ``countries`` (everywhere when left out) faster than ``max_speed_kmh`` are denied, except
    terminals with ``exempt_speed_cap`` and accounts of ``exempt_account_types``."""

    id: RuleId
    max_speed_kmh: Annotated[float, Field(gt=0)]
    countries: Countries | None = None
    exempt_account_types: list[Name] = []


class MotionBan(_Windowed):
    """No in-motion use (faster than ``default.moving_above_kmh``) in ``countries``, except for the service
    classes in ``except_service_classes`` (by default ships and aircraft: the bans are on land use)."""

    id: RuleId
    countries: Countries
    except_service_classes: list[Name] = ["maritime", "aviation"]


class ServiceBan(_Windowed):
    """No service for ``service_classes`` (e.g. ``military``, ``drone``) in ``countries`` (everywhere when
    left out)."""

    id: RuleId
    service_classes: Annotated[list[Name], Field(min_length=1)]
    countries: Countries | None = None


class Defaults(_Model):
    """``unregistered``: serve or deny terminals not in the registry (whitelist-only geofences deny them
    anyway); ``unregistered_service_class``: the mobility rules they fall under (none when left out);
    ``outside_countries``: the licence check at points in no country (open sea); ``moving_above_kmh``: the
    speed above which a terminal counts as in motion."""

    unregistered: Literal["serve", "deny"] = "serve"
    unregistered_service_class: Name | None = None
    outside_countries: Literal["serve", "deny"] = "serve"
    moving_above_kmh: Annotated[float, Field(ge=0)] = 10.0


_RULE_LISTS = (
    "licences",
    "geofences",
    "country_overrides",
    "quotas",
    "mobility",
    "speed_caps",
    "motion_bans",
    "service_bans",
)


class PolicyConfig(_Model):
    """The whole ``[policy]`` section. ``licences`` left out: no licence check; an empty list: no country is
    licensed.  ``whitelists``: whitelist names declared to exist even if no registered terminal is on them (a
    geofence or quota may name a whitelist only if some terminal carries it, or it is declared here: a typo
    would otherwise cut off everyone the geofence covers)."""

    default: Defaults = Defaults()
    whitelists: list[Name] = []
    licences: list[Licence] | None = None
    geofences: list[Geofence] = []
    country_overrides: list[CountryOverride] = []
    terminals: list[Terminal] = []
    quotas: list[Quota] = []
    mobility: list[Mobility] = []
    speed_caps: list[SpeedCap] = []
    motion_bans: list[MotionBan] = []
    service_bans: list[ServiceBan] = []

    @model_validator(mode="after")
    def _consistent(self) -> PolicyConfig:
        seen: dict[str, str] = {}
        for name in _RULE_LISTS:
            for i, rule in enumerate(getattr(self, name) or []):
                here = f"{name}[{i}]"
                if rule.id in RESERVED_IDS:
                    raise InputError(
                        here,
                        f"rule id {rule.id!r} is reserved; expected an id other than {', '.join(sorted(RESERVED_IDS))}",
                    )
                if rule.id in seen:
                    raise InputError(
                        here,
                        f"rule id {rule.id!r} is used twice ({seen[rule.id]} and {here}); expected unique rule ids",
                    )
                seen[rule.id] = here
        dup = [t for t, n in Counter(t.id for t in self.terminals).items() if n > 1]
        if dup:
            raise InputError("terminals", f"terminal id {dup[0]!r} is registered twice; expected unique terminal ids")
        for attr, key in (("mobility", "service_class"), ("quotas", "account_type")):
            keys: dict[tuple[str, str | None], str] = {}
            for rule in getattr(self, attr):
                k = (getattr(rule, key), getattr(rule, "whitelist", None))
                if k in keys:
                    raise InputError(
                        attr, f"rules {keys[k]!r} and {rule.id!r} both apply to {key} {k[0]!r}; expected one rule each"
                    )
                keys[k] = rule.id
        self._check_quotas()
        self._check_whitelists()
        return self

    def _check_whitelists(self) -> None:
        carried = {w for t in self.terminals for w in t.whitelists}
        known = carried | set(self.whitelists)
        named: list[tuple[str, str]] = [
            (f"geofences[{i}] (id {g.id!r})", g.whitelist) for i, g in enumerate(self.geofences) if g.whitelist
        ]
        named += [(f"quotas[{i}] (id {q.id!r})", q.whitelist) for i, q in enumerate(self.quotas) if q.whitelist]
        for where, w in named:
            if w in known:
                continue
            close = difflib.get_close_matches(w, sorted(known), n=1, cutoff=0.0)
            hint = f"the closest known whitelist is {close[0]!r}" if close else "no terminal is on any whitelist"
            raise InputError(
                f"{where}.whitelist",
                f"no registered terminal is on whitelist {w!r} ({hint}); expected a whitelist some terminal "
                f"carries, or declare it with [policy] whitelists = [{w!r}]",
            )

    def _check_quotas(self) -> None:
        types: dict[str, set[str]] = defaultdict(set)
        for t in self.terminals:
            types[t.account].add(t.account_type)
        for acc, kinds in types.items():
            if len(kinds) > 1:
                raise InputError(
                    f"terminals (account {acc!r})",
                    f"account has terminals of account types "
                    f"{', '.join(sorted(kinds))}; expected one account type per account",
                )
        for q in self.quotas:
            if q.max_terminals == "unlimited":
                continue
            per_account: dict[str, list[str]] = defaultdict(list)
            for t in self.terminals:
                if (
                    t.account_type == q.account_type
                    and t.status == "active"
                    and (q.whitelist is None or q.whitelist in t.whitelists)
                ):
                    per_account[t.account].append(t.id)
            for acc, ids in per_account.items():
                if len(ids) > q.max_terminals:
                    scope = f" on whitelist {q.whitelist!r}" if q.whitelist else ""
                    shown = ", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")
                    raise InputError(
                        f"terminals (account {acc!r})",
                        f"account {acc!r} ({q.account_type}) has {len(ids)} active terminals{scope} ({shown}); "
                        f"expected at most {q.max_terminals} under quota rule {q.id!r}",
                    )


def _loc(loc: tuple[int | str, ...], data: Any) -> str:
    """``geofences[2] (id 'crimea').geometry`` from a pydantic error location."""
    out = ""
    node = data
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            if isinstance(node, dict) and "id" in node:
                out += f" (id {node['id']!r})"
        elif part.startswith(("function-", "tagged-union", "union[")) or part in ("list[...]",):
            continue
        else:
            out += ("." if out else "") + part
            node = node.get(part) if isinstance(node, dict) else None
    return out


def input_error(exc: ValidationError, data: Any, source: str = "<policy>") -> InputError:
    """The first error of a policy ``ValidationError`` as a one-line :class:`InputError` naming the place."""
    err = exc.errors()[0]
    loc = _loc(tuple(err["loc"]), data)
    where = f"{source} [policy{'.' + loc if loc else ''}]"
    inner = (err.get("ctx") or {}).get("error")
    if isinstance(inner, InputError):
        return InputError(f"{where} {inner.where}", inner.problem)
    got = err.get("input")
    got_s = "" if isinstance(got, dict | list) or got is None else f" (got {got!r})"
    return InputError(where, f"{err['msg'].removeprefix('Value error, ')}{got_s}")


def parse_policy_config(data: Any, source: str = "<policy>") -> PolicyConfig:
    """Validate a ``[policy]`` dict; errors are :class:`InputError` naming ``source``, the field and rule id."""
    try:
        return PolicyConfig.model_validate(data)
    except ValidationError as exc:
        raise input_error(exc, data, source) from None
