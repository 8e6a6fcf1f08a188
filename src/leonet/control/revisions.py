"""A ``[policy]`` section <-> the rows of one revision, without loss.

:func:`to_rows` takes a validated :class:`~leonet.policy.PolicyConfig` (or None: no ``[policy]``) and the
terminals' positions and gives the rows of revision ``rev``; :func:`from_rows` gives back the ``[policy]``
dict (JSON types: times as ISO 8601 text), which validates to a ``PolicyConfig`` equal to the original.
Order is kept (every list's rows carry a ``position``), and so is the difference between ``licences`` left
out and ``licences = []``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
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
    """The ``[policy]`` dict of revision ``rev`` (None: the revision has no policy)."""
    r = session.get(schema.Revision, rev)
    if r is None:
        raise KeyError(rev)
    if not r.has_policy:
        return None
    df = session.get(schema.Defaults, rev)
    assert df is not None
    out: dict[str, Any] = {
        "default": _clean(
            {
                "unregistered": df.unregistered,
                "unregistered_service_class": df.unregistered_service_class,
                "outside_countries": df.outside_countries,
                "moving_above_kmh": df.moving_above_kmh,
            }
        )
    }
    wls = session.scalars(select(schema.Whitelist).where(schema.Whitelist.revision_id == rev)).all()
    out["whitelists"] = [w.name for w in sorted((w for w in wls if w.declared), key=lambda w: w.position)]
    types = {
        a.name: a.account_type for a in session.scalars(select(schema.Account).where(schema.Account.revision_id == rev))
    }
    members: dict[str, list[tuple[int, str]]] = {}
    for m in session.scalars(select(schema.WhitelistMember).where(schema.WhitelistMember.revision_id == rev)):
        members.setdefault(m.kit_id, []).append((m.position, m.whitelist))
    terms = session.scalars(
        select(schema.Terminal).where(schema.Terminal.revision_id == rev).order_by(schema.Terminal.position)
    ).all()
    out["terminals"] = [
        _clean(
            {
                "id": t.kit_id,
                "account": t.account,
                "account_type": types[t.account],
                "service_class": t.service_class,
                "registered_country": t.registered_country,
                "status": t.status,
                "whitelists": [w for _, w in sorted(members.get(t.kit_id, []))],
                "exempt_speed_cap": t.exempt_speed_cap,
                "abroad_since": t.abroad_since,
            }
        )
        for t in terms
    ]
    for table, (attr, fields) in schema.RULE_FIELDS.items():
        tab: Table = schema.RULE_TABLES[table]
        rows = session.execute(select(tab).where(tab.c.revision_id == rev).order_by(tab.c.position)).mappings()
        items = [_clean({"id": row["rule_id"], **{f: row[f] for f, _ in fields}}) for row in rows]
        if attr == "licences" and not r.licences_listed:
            continue
        out[attr] = items
    return out


def digest(session: Session, rev: int) -> str:
    """sha256 of revision ``rev``'s content (its ``[policy]`` and positions, canonical JSON): what the audit
    entry of the revision records, so that ``leonet audit verify`` detects changed policy rows too."""
    doc = {"policy": read(session, rev), "positions": {k: list(v) for k, v in sorted(positions(session, rev).items())}}
    return hashlib.sha256(canonical_json(doc).encode("utf-8")).hexdigest()


def positions(session: Session, rev: int) -> dict[str, Position]:
    """Where each terminal of revision ``rev`` is (those with a position)."""
    return {
        t.kit_id: (t.lat_deg, t.lon_deg, t.alt_m or 0.0)
        for t in session.scalars(select(schema.Terminal).where(schema.Terminal.revision_id == rev))
        if t.lat_deg is not None and t.lon_deg is not None
    }


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    """Leave out NULLs: every field that may be None has None as its default."""
    return {k: v for k, v in d.items() if v is not None}
