"""The control plane's tables (SQLAlchemy 2 declarative, typed).

Policy state is kept per **revision**: every applied revision owns a full copy of its rows (defaults,
accounts, terminals, whitelists and memberships, and one table per rule list of ``[policy]``), so the applied
policy, any earlier one (rollback) and the difference between two are plain queries.  Drafts are documents
being edited (``policy_drafts.policy``, the ``[policy]`` section as JSON), materialised into rows only when
applied.  The rule tables have one column per field of their pydantic model in :mod:`leonet.policy.models`
(lists and GeoJSON geometries as JSON, times as ISO 8601 text), built from :data:`RULE_FIELDS`, so a rule
round-trips exactly.

``audit_log`` is append-only (database triggers refuse UPDATE and DELETE: :mod:`leonet.control.audit`);
``decisions`` is the decision log; ``api_tokens`` keeps sha256 digests of tokens, never the tokens.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: one naming convention, so Alembic migrations name constraints the same on SQLite and PostgreSQL
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class ScenarioRow(Base):
    """The scenario the service runs: everything but ``[policy]`` (which lives in the revision tables)."""

    __tablename__ = "scenario"
    id: Mapped[int] = mapped_column(primary_key=True)  # always 1
    name: Mapped[str] = mapped_column(String(200))
    body: Mapped[dict[str, Any]] = mapped_column(
        JSON
    )  # Scenario.model_dump(mode="json") without policy, base_dir, source
    base_dir: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    imported_utc: Mapped[str] = mapped_column(String(40))


class ClockRow(Base):
    """The simulated clock: simulated ``t_s`` at the wall-clock instant ``anchor_unix_s``, advancing at
    ``speed`` simulated seconds per wall second while ``running``."""

    __tablename__ = "clock"
    id: Mapped[int] = mapped_column(primary_key=True)  # always 1
    t_s: Mapped[float]
    anchor_unix_s: Mapped[float]
    speed: Mapped[float]
    running: Mapped[bool]


class Revision(Base):
    """An applied policy revision. ``kind``: import, apply (of a draft), edit (one CRUD change), rollback
    (a copy of ``rolled_back_to``), faults (a change of ``[[faults]]``).  ``has_policy`` false: the scenario has
    no ``[policy]`` at all; ``licences_listed`` false: ``licences`` left out (no licence check), as opposed to an
    empty list.  ``faults``: the scenario's ``[[faults]]`` in force with this revision (JSON, scenario order);
    NULL only for revisions made before migration 0002, which did not record them."""

    __tablename__ = "policy_revisions"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("policy_revisions.id"))
    kind: Mapped[str] = mapped_column(String(20))
    author: Mapped[str] = mapped_column(String(200))
    created_utc: Mapped[str] = mapped_column(String(40))
    draft_id: Mapped[int | None]
    rolled_back_to: Mapped[int | None]
    has_policy: Mapped[bool]
    licences_listed: Mapped[bool]
    faults: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)


class ControlState(Base):
    """One row: which revision is applied."""

    __tablename__ = "control_state"
    id: Mapped[int] = mapped_column(primary_key=True)  # always 1
    applied_revision: Mapped[int] = mapped_column(ForeignKey("policy_revisions.id"))


class Draft(Base):
    """A policy being edited: a copy of revision ``parent_id``'s ``[policy]``, changed by PUTs (each one
    validated exactly as a scenario file is) until it is applied (``applied_as``) or left."""

    __tablename__ = "policy_drafts"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey("policy_revisions.id"))
    author: Mapped[str] = mapped_column(String(200))
    created_utc: Mapped[str] = mapped_column(String(40))
    policy: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    applied_as: Mapped[int | None]


class Defaults(Base):
    __tablename__ = "policy_defaults"
    revision_id: Mapped[int] = mapped_column(ForeignKey("policy_revisions.id"), primary_key=True)
    unregistered: Mapped[str] = mapped_column(String(10))
    unregistered_service_class: Mapped[str | None] = mapped_column(String(80))
    outside_countries: Mapped[str] = mapped_column(String(10))
    moving_above_kmh: Mapped[float]


class Account(Base):
    __tablename__ = "accounts"
    revision_id: Mapped[int] = mapped_column(ForeignKey("policy_revisions.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    account_type: Mapped[str] = mapped_column(String(80))


class Terminal(Base):
    """A registered terminal, and where it is (from the scenario's ``[ground]`` station of the same name;
    NULL: the registry knows it but the scenario places it nowhere, or on a track)."""

    __tablename__ = "terminals"
    __table_args__ = (ForeignKeyConstraint(["revision_id", "account"], ["accounts.revision_id", "accounts.name"]),)
    revision_id: Mapped[int] = mapped_column(ForeignKey("policy_revisions.id"), primary_key=True)
    kit_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    position: Mapped[int]
    account: Mapped[str] = mapped_column(String(80))
    service_class: Mapped[str] = mapped_column(String(80))
    registered_country: Mapped[str | None] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(10))
    exempt_speed_cap: Mapped[bool]
    abroad_since: Mapped[str | None] = mapped_column(String(40))
    lat_deg: Mapped[float | None]
    lon_deg: Mapped[float | None]
    alt_m: Mapped[float | None]


class Whitelist(Base):
    """A whitelist name; ``declared``: listed in ``[policy] whitelists`` (at ``position``)."""

    __tablename__ = "whitelists"
    revision_id: Mapped[int] = mapped_column(ForeignKey("policy_revisions.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    declared: Mapped[bool]
    position: Mapped[int]


class WhitelistMember(Base):
    __tablename__ = "whitelist_members"
    __table_args__ = (
        ForeignKeyConstraint(["revision_id", "whitelist"], ["whitelists.revision_id", "whitelists.name"]),
        ForeignKeyConstraint(["revision_id", "kit_id"], ["terminals.revision_id", "terminals.kit_id"]),
    )
    revision_id: Mapped[int] = mapped_column(ForeignKey("policy_revisions.id"), primary_key=True)
    whitelist: Mapped[str] = mapped_column(String(80), primary_key=True)
    kit_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    position: Mapped[int]  # index in the terminal's whitelists list


#: the rule lists of ``[policy]``: table name -> (``PolicyConfig`` attribute, fields as (name, SQL type)).
#: ``json`` columns hold lists, GeoJSON and union values; ``time`` columns ISO 8601 UTC text.
RULE_FIELDS: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "licences": ("licences", (("countries", "json"), ("valid_from", "time"), ("valid_until", "time"))),
    "geofences": (
        "geofences",
        (
            ("action", "str"),
            ("priority", "int"),
            ("countries", "json"),
            ("whitelist", "str"),
            ("geometry", "json"),
            ("file", "text"),
            ("feature", "json"),
            ("check_axes", "bool"),
            ("active_from", "time"),
            ("active_until", "time"),
        ),
    ),
    "country_overrides": (
        "country_overrides",
        (("country", "str"), ("geometry", "json"), ("file", "text"), ("feature", "json")),
    ),
    "quotas": ("quotas", (("account_type", "str"), ("max_terminals", "json"), ("whitelist", "str"))),
    "mobility": (
        "mobility",
        (
            ("service_class", "str"),
            ("in_motion", "bool"),
            ("max_speed_kmh", "float"),
            ("max_altitude_m", "float"),
            ("roaming_days", "float"),
        ),
    ),
    "speed_caps": (
        "speed_caps",
        (
            ("max_speed_kmh", "float"),
            ("countries", "json"),
            ("exempt_account_types", "json"),
            ("active_from", "time"),
            ("active_until", "time"),
        ),
    ),
    "motion_bans": (
        "motion_bans",
        (("countries", "json"), ("except_service_classes", "json"), ("active_from", "time"), ("active_until", "time")),
    ),
    "service_bans": (
        "service_bans",
        (("service_classes", "json"), ("countries", "json"), ("active_from", "time"), ("active_until", "time")),
    ),
}

_SQL_TYPES: dict[str, Any] = {
    "str": lambda: String(80),
    "text": Text,
    "int": BigInteger,
    "float": Float,
    "bool": Boolean,
    "json": JSON,
    "time": lambda: String(40),
}


def _rule_table(name: str, fields: tuple[tuple[str, str], ...]) -> Table:
    return Table(
        name,
        Base.metadata,
        Column("revision_id", Integer, ForeignKey("policy_revisions.id"), primary_key=True),
        Column("rule_id", String(80), primary_key=True),
        Column("position", Integer, nullable=False),
        *(Column(f, _SQL_TYPES[kind](), nullable=True) for f, kind in fields),
    )


RULE_TABLES: dict[str, Table] = {name: _rule_table(name, fields) for name, (_, fields) in RULE_FIELDS.items()}


class AuditEntry(Base):
    """One entry of the append-only audit log; ``before`` / ``after`` are canonical JSON text (hashed as
    stored), ``hash`` = sha256 over the canonical JSON of the entry's other fields and ``prev_hash``."""

    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at_utc: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(80))
    entity: Mapped[str] = mapped_column(Text)
    before: Mapped[str] = mapped_column(Text)
    after: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class DecisionRow(Base):
    """The decision log (as Open Policy Agent's decision logs): every decision the service gave."""

    __tablename__ = "decisions"
    decision_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    at_utc: Mapped[str] = mapped_column(String(40), index=True)
    t_s: Mapped[float]
    revision: Mapped[int]
    subject: Mapped[str] = mapped_column(String(200), index=True)
    outcome: Mapped[str] = mapped_column(String(20))
    rule: Mapped[str | None] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(Text)


class TokenRow(Base):
    """An API token: the sha256 hex digest of its 32 random bytes (base64url), never the token itself."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(10))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_utc: Mapped[str] = mapped_column(String(40))
    revoked_utc: Mapped[str | None] = mapped_column(String(40))
