"""A ``[policy]`` section <-> the rows of one revision, without loss.

:func:`to_rows` takes a validated :class:`~leonet.policy.PolicyConfig` (or None: no ``[policy]``) and the
terminals' positions and gives the rows of revision ``rev``; :func:`from_rows` gives back the ``[policy]``
dict (JSON types: times as ISO 8601 text), which validates to a ``PolicyConfig`` equal to the original.
Order is kept (every list's rows carry a ``position``), and so is the difference between ``licences`` left
out and ``licences = []``.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from leonet.control import schema
from leonet.control.audit import canonical_json
from leonet.policy.models import PolicyConfig

Position = tuple[float, float, float]  # lat_deg, lon_deg, alt_m


@dataclass
class Rows:
    defaults: schema.Defaults | None
    accounts: list[schema.Account] = field(default_factory=list)
    terminals: list[schema.Terminal] = field(default_factory=list)
    whitelists: list[schema.Whitelist] = field(default_factory=list)
    members: list[schema.WhitelistMember] = field(default_factory=list)
    rules: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def to_rows(config: PolicyConfig | None, rev: int, positions: Mapping[str, Position]) -> Rows:
    if config is None:
        return Rows(None)
    d = config.model_dump(mode="json")
    df = d["default"]
    out = Rows(
        schema.Defaults(
            revision_id=rev,
            unregistered=df["unregistered"],
            unregistered_service_class=df["unregistered_service_class"],
            outside_countries=df["outside_countries"],
            moving_above_kmh=df["moving_above_kmh"],
        )
    )
    accounts: dict[str, str] = {}
    names: dict[str, bool] = {}
    for w in d["whitelists"]:
        names[w] = True
    for i, t in enumerate(d["terminals"]):
        accounts.setdefault(t["account"], t["account_type"])
        pos = positions.get(t["id"])
        out.terminals.append(
            schema.Terminal(
                revision_id=rev,
                kit_id=t["id"],
                position=i,
                account=t["account"],
                service_class=t["service_class"],
                registered_country=t["registered_country"],
                status=t["status"],
                exempt_speed_cap=t["exempt_speed_cap"],
                abroad_since=t["abroad_since"],
                lat_deg=None if pos is None else pos[0],
                lon_deg=None if pos is None else pos[1],
                alt_m=None if pos is None else pos[2],
            )
        )
        for j, w in enumerate(t["whitelists"]):
            names.setdefault(w, False)
            out.members.append(schema.WhitelistMember(revision_id=rev, whitelist=w, kit_id=t["id"], position=j))
    out.accounts = [schema.Account(revision_id=rev, name=a, account_type=k) for a, k in accounts.items()]
    declared = list(d["whitelists"])
    out.whitelists = [
        schema.Whitelist(revision_id=rev, name=n, declared=decl, position=declared.index(n) if decl else -1)
        for n, decl in names.items()
    ]
    for table, (attr, fields) in schema.RULE_FIELDS.items():
        out.rules[table] = [
            {"revision_id": rev, "rule_id": r["id"], "position": i, **{f: r[f] for f, _ in fields}}
            for i, r in enumerate(d[attr] or [])
        ]
    return out


def write(session: Session, rows: Rows) -> None:
    """Insert a revision's rows (parents first, for the foreign keys)."""
    if rows.defaults is None:
        return
    session.add(rows.defaults)
    session.add_all(rows.accounts)
    session.add_all(rows.whitelists)
    session.flush()
    session.add_all(rows.terminals)
    session.flush()
    session.add_all(rows.members)
    session.flush()
    for name, items in rows.rules.items():
        if items:
            session.execute(insert(schema.RULE_TABLES[name]), items)


def read(session: Session, rev: int) -> dict[str, Any] | None:
    """The ``[policy]`` dict of revision ``rev`` (None: the revision has no policy); KeyError if none such."""
    return read_many(session, [rev])[rev][0]


def digest(session: Session, rev: int) -> str:
    """sha256 of revision ``rev``'s content (its ``[policy]``, positions and ``[[faults]]``, canonical JSON):
    what the audit entry of the revision records, so that ``leonet audit verify`` detects changed policy rows
    (or faults) too.  A revision without recorded faults (made before migration 0002) is digested without the
    key, as it was audited then."""
    return digests(session, [rev])[rev]


def digests(session: Session, revs: Sequence[int] | None = None) -> dict[int, str]:
    """:func:`digest` of each of ``revs`` (None: every revision), reading each table once."""
    out = {}
    recorded = faults_many(session, revs)
    for rev, (policy, pos) in read_many(session, revs).items():
        doc: dict[str, Any] = {"policy": policy, "positions": {k: list(v) for k, v in sorted(pos.items())}}
        if recorded.get(rev) is not None:
            doc["faults"] = recorded[rev]
        out[rev] = hashlib.sha256(canonical_json(doc).encode("utf-8")).hexdigest()
    return out


def faults(session: Session, rev: int) -> list[dict[str, Any]] | None:
    """The ``[[faults]]`` in force with revision ``rev`` (None: not recorded, a revision older than migration
    0002); KeyError if there is no such revision."""
    return faults_many(session, [rev])[rev]


def faults_many(session: Session, revs: Sequence[int] | None = None) -> dict[int, list[dict[str, Any]] | None]:
    """:func:`faults` of each of ``revs`` (None: every revision), one query."""
    t = schema.Revision.__table__
    q = select(t.c.id, t.c.faults)
    if revs is not None:
        q = q.where(t.c.id.in_(list(revs)))
    out = {r.id: (None if r.faults is None else list(r.faults)) for r in session.execute(q)}
    if revs is not None and len(out) != len(set(revs)):
        raise KeyError(next(r for r in revs if r not in out))
    return out


def _grouped(session: Session, table: Table, revs: Sequence[int] | None) -> dict[int, list[Any]]:
    q = select(table)
    if revs is not None:
        q = q.where(table.c.revision_id.in_(list(revs)))
    out: dict[int, list[Any]] = defaultdict(list)
    for row in session.execute(q).mappings():
        out[row["revision_id"]].append(row)
    return out


def read_many(
    session: Session, revs: Sequence[int] | None = None
) -> dict[int, tuple[dict[str, Any] | None, dict[str, Position]]]:
    """``[policy]`` dict and positions of each of ``revs`` (None: every revision), one query per table."""
    q = select(schema.Revision.__table__)
    if revs is not None:
        q = q.where(schema.Revision.__table__.c.id.in_(list(revs)))
    heads = {r["id"]: r for r in session.execute(q).mappings()}
    if revs is not None and len(heads) != len(set(revs)):
        raise KeyError(next(r for r in revs if r not in heads))
    t = {
        name: _grouped(session, getattr(schema, cls).__table__, revs)
        for name, cls in (("defaults", "Defaults"), ("whitelists", "Whitelist"), ("accounts", "Account"),
                          ("members", "WhitelistMember"), ("terminals", "Terminal"))
    }  # fmt: skip
    rules = {table: _grouped(session, schema.RULE_TABLES[table], revs) for table in schema.RULE_FIELDS}
    out: dict[int, tuple[dict[str, Any] | None, dict[str, Position]]] = {}
    for rev, head in heads.items():
        terms = sorted(t["terminals"].get(rev, []), key=lambda r: r["position"])
        pos = {
            r["kit_id"]: (r["lat_deg"], r["lon_deg"], r["alt_m"] or 0.0)
            for r in terms
            if r["lat_deg"] is not None and r["lon_deg"] is not None
        }
        if not head["has_policy"]:
            out[rev] = (None, pos)
            continue
        (df,) = t["defaults"][rev]
        keys = ("unregistered", "unregistered_service_class", "outside_countries", "moving_above_kmh")
        policy: dict[str, Any] = {"default": _clean({k: df[k] for k in keys})}
        declared = sorted((w for w in t["whitelists"].get(rev, []) if w["declared"]), key=lambda w: w["position"])
        policy["whitelists"] = [w["name"] for w in declared]
        types = {a["name"]: a["account_type"] for a in t["accounts"].get(rev, [])}
        members: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for m in t["members"].get(rev, []):
            members[m["kit_id"]].append((m["position"], m["whitelist"]))
        policy["terminals"] = [
            _clean(
                {
                    "id": r["kit_id"],
                    "account": r["account"],
                    "account_type": types[r["account"]],
                    "service_class": r["service_class"],
                    "registered_country": r["registered_country"],
                    "status": r["status"],
                    "whitelists": [w for _, w in sorted(members.get(r["kit_id"], []))],
                    "exempt_speed_cap": r["exempt_speed_cap"],
                    "abroad_since": r["abroad_since"],
                }
            )
            for r in terms
        ]
        for table, (attr, fields) in schema.RULE_FIELDS.items():
            if attr == "licences" and not head["licences_listed"]:
                continue
            rows = sorted(rules[table].get(rev, []), key=lambda r: r["position"])
            policy[attr] = [_clean({"id": r["rule_id"], **{f: r[f] for f, _ in fields}}) for r in rows]
        out[rev] = (policy, pos)
    return out


def positions(session: Session, rev: int) -> dict[str, Position]:
    """Where each terminal of revision ``rev`` is (those with a position)."""
    return read_many(session, [rev])[rev][1]


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    """Leave out NULLs: every field that may be None has None as its default."""
    return {k: v for k, v in d.items() if v is not None}
