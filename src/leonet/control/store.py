"""ControlStore: the control plane's state in a database (SQLite file by default, PostgreSQL by URL).

One source of truth for the service: the scenario, the applied policy revision (and every earlier one), drafts,
the clock, API tokens, the append-only hash-chained audit log and the decision log.  Every change writes its
audit entry in the same transaction as the change; write transactions are serialised (SQLite ``BEGIN
IMMEDIATE``; PostgreSQL a transaction-scoped advisory lock), so the audit chain has one order.

SQLite runs in WAL mode with ``synchronous=FULL`` (a committed write survives a power cut or SIGKILL) and
foreign keys on.  PostgreSQL is reached through psycopg 3 (``postgresql://`` URLs are read as
``postgresql+psycopg://``).  The schema is created and upgraded by Alembic (``leonet/control/migrations``)
when the store opens.
"""

from __future__ import annotations

import copy
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session

from leonet.control import audit, revisions, schema, tokens
from leonet.control.revisions import Position
from leonet.control.tokens import Principal, Role
from leonet.errors import InputError
from leonet.policy.models import PolicyConfig
from leonet.scenario import Scenario

DEFAULT_URL = "sqlite:///leonet-serve.db"
#: the advisory lock key every PostgreSQL write transaction takes (serialises writers, hence the audit chain)
PG_LOCK_KEY = 0x1E0E7
#: the ``[policy]`` fields that are UTC times (written as TOML times on export)
TIME_FIELDS = frozenset({"active_from", "active_until", "valid_from", "valid_until", "abroad_since"})
#: execution option marking a write transaction (SQLite: BEGIN IMMEDIATE)
WRITE_OPTION = "leonet_write"


class RevisionMismatch(Exception):
    """A write made on the condition that ``expected`` is the applied revision (the API's ``If-Match``), when
    it is not: nothing was written.  ``str(err)`` is one line."""

    def __init__(self, expected: int, applied: int) -> None:
        self.expected, self.applied = expected, applied
        super().__init__(
            f"If-Match: the applied revision is {applied}, not {expected}; nothing was changed "
            f'(expected If-Match: "{applied}" after reading the policy again)'
        )


def _check_expected(expected: int | None, applied: int) -> None:
    if expected is not None and expected != applied:
        raise RevisionMismatch(expected, applied)


@dataclass(frozen=True)
class ClockState:
    """The simulated clock: simulated ``t_s`` (s after the scenario epoch) at wall time ``anchor_unix_s``,
    advancing ``speed`` simulated seconds per wall second while ``running``."""

    t_s: float
    anchor_unix_s: float
    speed: float = 1.0
    running: bool = False

    def now_s(self, wall_unix_s: float | None = None) -> float:
        """Simulated time at wall time ``wall_unix_s`` (default: now)."""
        if not self.running:
            return self.t_s
        w = time.time() if wall_unix_s is None else wall_unix_s
        return self.t_s + (w - self.anchor_unix_s) * self.speed


@dataclass(frozen=True)
class TerminalRow:
    """A registered terminal as the applied revision has it (position None: not placed by the scenario)."""

    kit_id: str
    account: str
    account_type: str
    service_class: str
    registered_country: str | None
    status: str
    lat_deg: float | None
    lon_deg: float | None
    alt_m: float | None
    whitelists: tuple[str, ...] = ()
    exempt_speed_cap: bool = False
    abroad_since: str | None = None


@dataclass(frozen=True)
class DecisionRecord:
    """One decision the service gave (the decision log's row). ``subject``: a kit id or ``"src->dst"``;
    ``outcome``: served, denied or no-coverage; ``rule``: the denying rule's id (None when served)."""

    decision_id: str
    at_utc: str
    t_s: float
    revision: int
    subject: str
    outcome: str
    rule: str | None
    reason: str

    @staticmethod
    def new(t_s: float, revision: int, subject: str, outcome: str, rule: str | None, reason: str) -> DecisionRecord:
        return DecisionRecord(str(uuid.uuid4()), utc_now(), t_s, revision, subject, outcome, rule, reason)


@dataclass(frozen=True)
class RevisionInfo:
    id: int
    parent_id: int | None
    kind: str
    author: str
    created_utc: str
    draft_id: int | None
    rolled_back_to: int | None
    applied: bool


#: policies validated in this process: canonical JSON of (policy, scenario directory) -> the validated config
_VALID: dict[str, PolicyConfig] = {}
_VALID_LOCK = threading.Lock()


@dataclass
class _Cache:
    revision: int = -1
    scenario: Scenario | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def engine_for(url: str | None) -> Engine:
    """An engine for ``url`` (None: :data:`DEFAULT_URL`), set up for durability; bad URLs are an InputError."""
    raw = url or DEFAULT_URL
    try:
        u = make_url(raw)
    except ArgumentError:
        raise InputError(
            "--db", f"{raw!r} is not a database URL; expected sqlite:///FILE or postgresql://..."
        ) from None
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    if u.drivername == "sqlite":
        if u.database in (None, "", ":memory:"):
            raise InputError("--db", "an in-memory SQLite database loses everything on exit; expected sqlite:///FILE")
        engine = create_engine(u, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # SQLAlchemy issues BEGIN itself (below)
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            # writers take the write lock at BEGIN (one at a time: the audit chain has one order); readers don't
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE_OPTION) else "BEGIN")

        return engine
    if u.drivername != "postgresql+psycopg":
        raise InputError(
            "--db", f"database {u.drivername!r} is not supported; expected sqlite:///FILE or postgresql://"
        )
    try:
        return create_engine(u, pool_pre_ping=True)
    except NoSuchModuleError as exc:  # pragma: no cover - psycopg is a pinned dependency
        raise InputError("--db", f"{exc}; expected psycopg 3 installed") from None


def migrate(engine: Engine) -> None:
    """Create or upgrade the schema to the newest Alembic revision shipped in the package."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("leonet.control").joinpath("migrations")))
    with engine.execution_options(**{WRITE_OPTION: True}).begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_LOCK_KEY})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def _positions_from_scenario(sc: Scenario) -> dict[str, Position]:
    return {
        s.name: (s.lat_deg, s.lon_deg, s.alt_m)
        for s in sc.ground.stations
        if s.lat_deg is not None and s.lon_deg is not None and s.track is None
    }


def _scenario_body(sc: Scenario) -> dict[str, Any]:
    return sc.model_dump(mode="json", exclude={"policy", "base_dir", "source"})


class ControlStore:
    """The control-plane state.  Thread-safe: every method opens its own session."""

    def __init__(self, engine: Engine, url: str) -> None:
        self.engine = engine
        self._writer = engine.execution_options(**{WRITE_OPTION: True})
        self.url = url
        #: whether :meth:`open` imported the scenario (the database was empty)
        self.imported = False
        self._cache = _Cache()

    # ---- opening ---------------------------------------------------------------------------------------
    @classmethod
    def open(cls, url: str | None, *, scenario: Scenario | None) -> ControlStore:
        """Open (creating and migrating) the database at ``url`` (None: ``./leonet-serve.db``, SQLite WAL).
        An empty database imports ``scenario`` as revision 1 (policy, terminals with their positions, clock at
        the scenario's start); a database holding another scenario is an error; ``scenario`` None: the
        database must already hold one."""
        engine = engine_for(url)
        shown = make_url(url or DEFAULT_URL).render_as_string(hide_password=True)
        db_file = engine.url.database if engine.dialect.name == "sqlite" else None
        if scenario is None and db_file is not None and not Path(db_file).exists():
            engine.dispose()  # nothing to read, and nothing created
            raise InputError(
                shown, "no such database file; expected one made by `leonet serve` or `leonet control import`"
            )
        try:
            migrate(engine)
        except OperationalError as exc:
            engine.dispose()
            first = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise InputError(shown, f"cannot open the database ({first}); expected a reachable database") from None
        store = cls(engine, shown)
        with store._tx() as s:
            row = s.get(schema.ScenarioRow, 1)
            if row is None:
                if scenario is None:
                    engine.dispose()
                    raise InputError(
                        shown,
                        "the database holds no scenario; expected one made by `leonet serve` "
                        "or `leonet control import`",
                    )
                store._import(s, scenario, actor="system")
                store.imported = True
            elif scenario is not None and row.name != scenario.name:
                engine.dispose()
                raise InputError(
                    shown,
                    f"the database holds scenario {row.name!r}, not {scenario.name!r}; expected the same scenario "
                    "(or another --db)",
                )
        return store

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _tx(self) -> Iterator[Session]:
        """A write transaction (serialised with every other writer)."""
        with Session(self._writer, expire_on_commit=False) as s, s.begin():
            if self.engine.dialect.name == "postgresql":
                s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_LOCK_KEY})
            yield s

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as s, s.begin():
            yield s

    def _audit(self, s: Session, actor: str, action: str, entity: str, before: Any, after: Any) -> int:
        last = s.scalars(select(schema.AuditEntry).order_by(schema.AuditEntry.seq.desc()).limit(1)).first()
        prev = None if last is None else _entry(last)
        e = audit.chained(prev, utc_now(), actor, action, entity, before, after)
        s.add(schema.AuditEntry(**e.__dict__))
        s.flush()
        return e.seq

    def _import(self, s: Session, sc: Scenario, actor: str) -> int:
        s.add(
            schema.ScenarioRow(
                id=1,
                name=sc.name,
                body=_scenario_body(sc),
                base_dir=sc.base_dir,
                source=sc.source,
                imported_utc=utc_now(),
            )
        )
        s.add(schema.ClockRow(id=1, t_s=sc.time.start_s, anchor_unix_s=time.time(), speed=1.0, running=False))
        self._audit(s, actor, "scenario.import", f"scenario/{sc.name}", None, {"name": sc.name, "source": sc.source})
        rev = self._new_revision(s, sc.policy, _positions_from_scenario(sc), actor, "import", None, sc)
        s.add(schema.ControlState(id=1, applied_revision=rev))
        return rev

    def import_policy(self, sc: Scenario, *, actor: str) -> int:
        """A scenario file's ``[policy]`` (and terminal positions) as a new applied revision of this database
        (whose scenario has the same name)."""
        with self._tx() as s:
            row = s.get(schema.ScenarioRow, 1)
            assert row is not None
            if row.name != sc.name:
                raise InputError(sc.source, f"scenario {sc.name!r}; expected {row.name!r}, the one in {self.url}")
            before = self._applied_id(s)
            rev = self._new_revision(s, sc.policy, _positions_from_scenario(sc), actor, "import", before, sc)
            self._set_applied(s, rev, actor, "policy.import", before)
            return rev

    # ---- revisions -------------------------------------------------------------------------------------
    def _applied_id(self, s: Session) -> int:
        st = s.get(schema.ControlState, 1)
        assert st is not None
        return st.applied_revision

    def _validated(self, s: Session, policy: dict[str, Any] | None, source: str) -> PolicyConfig | None:
        """Validate ``policy`` exactly as a scenario file's ``[policy]`` is (same checks, same messages: the
        scenario model's value bounds, then ``compiled_policy``).  A policy that validated before (same JSON,
        same scenario directory) is not compiled again: the files it names are taken as unchanged."""
        from pydantic import ValidationError

        if policy is None:
            return None
        base = self._base_scenario(s)
        try:
            key = audit.canonical_json([policy, base.base_dir])
        except (TypeError, ValueError):
            key = None  # not JSON (NaN, ...): the scenario model below says why
        hit = _VALID.get(key) if key is not None else None
        if hit is not None:
            return hit
        try:
            sc = Scenario.model_validate({**base.model_dump(exclude={"policy"}), "policy": policy, "source": source})
        except ValidationError as exc:  # the scenario-wide value bounds (check_value) on the policy dict
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            raise InputError(f"{source} [{where}]", str(err["msg"]).removeprefix("Value error, ")) from None
        compiled = sc.compiled_policy()
        assert compiled is not None
        if key is not None:
            with _VALID_LOCK:
                while len(_VALID) >= 32:
                    _VALID.pop(next(iter(_VALID)), None)
                _VALID[key] = compiled.config
        return compiled.config

    def _check_files(self, s: Session, policy: dict[str, Any], source: str) -> None:
        """The geofence / country-override ``file`` names of a policy given through the API: each must be one the
        applied revision names already, ``builtin:NAME``, or a file inside the scenario's directory
        (:func:`~leonet.policy.compiled.served_file_problem`); else InputError naming the field."""
        from leonet.policy.compiled import served_file_problem

        def refs(p: dict[str, Any]) -> Iterator[tuple[str, int, Any, Any]]:
            for kind in ("geofences", "country_overrides"):
                items = p.get(kind)
                for i, rule in enumerate(items if isinstance(items, list) else []):
                    if isinstance(rule, dict) and rule.get("file") is not None:
                        yield kind, i, rule.get("id"), rule["file"]

        known = {f for *_, f in refs(revisions.read(s, self._applied_id(s)) or {}) if isinstance(f, str)}
        base_dir = self._base_scenario(s).base_dir
        for kind, i, rule_id, name in refs(policy):
            if isinstance(name, str) and name in known:
                continue
            problem = served_file_problem(name, base_dir)
            if problem is not None:
                raise InputError(f"{source} [policy.{kind}[{i}] (id {rule_id!r:.40}).file]", problem)

    def _base_scenario(self, s: Session) -> Scenario:
        row = s.get(schema.ScenarioRow, 1)
        assert row is not None
        return Scenario.model_validate({**row.body, "base_dir": row.base_dir, "source": row.source})

    def _new_revision(
        self,
        s: Session,
        policy: dict[str, Any] | None,
        positions: dict[str, Position],
        actor: str,
        kind: str,
        parent: int | None,
        sc: Scenario | None = None,
        draft_id: int | None = None,
        rolled_back_to: int | None = None,
        source: str = "<policy>",
    ) -> int:
        config = self._validated(s, policy, sc.source if sc else source) if policy is not None else None
        row = s.get(schema.ScenarioRow, 1)
        assert row is not None
        r = schema.Revision(
            parent_id=parent,
            kind=kind,
            author=actor,
            created_utc=utc_now(),
            draft_id=draft_id,
            rolled_back_to=rolled_back_to,
            has_policy=config is not None,
            licences_listed=config is not None and config.licences is not None,
            faults=copy.deepcopy(list(row.body.get("faults") or [])),  # the faults in force with it
        )
        s.add(r)
        s.flush()
        revisions.write(s, revisions.to_rows(config, r.id, positions))
        s.flush()
        self._audit(
            s,
            actor,
            f"revision.{kind}",
            f"revision/{r.id}",
            None,
            {
                "revision": r.id,
                "parent": parent,
                "draft": draft_id,
                "rolled_back_to": rolled_back_to,
                "terminals": len(config.terminals) if config is not None else 0,
                "sha256": revisions.digest(s, r.id),
            },
        )
        return r.id

    def _set_applied(self, s: Session, rev: int, actor: str, action: str, before: int | None) -> None:
        st = s.get(schema.ControlState, 1)
        assert st is not None
        st.applied_revision = rev
        self._audit(s, actor, action, "control_state/applied_revision", before, rev)

    def revision(self) -> int:
        with self._read() as s:
            return self._applied_id(s)

    def revisions(self) -> list[RevisionInfo]:
        with self._read() as s:
            applied = self._applied_id(s)
            return [
                RevisionInfo(
                    r.id, r.parent_id, r.kind, r.author, r.created_utc, r.draft_id, r.rolled_back_to, r.id == applied
                )
                for r in s.scalars(select(schema.Revision).order_by(schema.Revision.id))
            ]

    def revision_faults(self, revision: int | None = None) -> list[dict[str, Any]] | None:
        """The ``[[faults]]`` recorded with ``revision`` (None: the applied one); None: not recorded (a revision
        made before migration 0002); KeyError if there is no such revision."""
        with self._read() as s:
            return revisions.faults(s, self._applied_id(s) if revision is None else revision)

    def policy(self, revision: int | None = None) -> dict[str, Any] | None:
        """The ``[policy]`` dict of ``revision`` (None: the applied one); KeyError if there is no such one."""
        with self._read() as s:
            return revisions.read(s, self._applied_id(s) if revision is None else revision)

    def scenario(self) -> Scenario:
        """The scenario with the applied revision's policy and terminal positions in it (cached per revision)."""
        with self._read() as s:
            rev = self._applied_id(s)
            with self._cache.lock:
                if self._cache.revision == rev and self._cache.scenario is not None:
                    return self._cache.scenario
            base = self._base_scenario(s)
            policy = revisions.read(s, rev)
            pos = revisions.positions(s, rev)
        sc = _with_positions(base, pos).model_copy(update={"policy": policy})
        with self._cache.lock:
            self._cache.revision, self._cache.scenario = rev, sc
        return sc

    def terminals(self) -> list[TerminalRow]:
        with self._read() as s:
            return _terminals(s, self._applied_id(s))

    def change_policy(
        self,
        actor: str,
        action: str,
        entity: str,
        change: Callable[[dict[str, Any], dict[str, Position]], tuple[Any, Any]],
        *,
        expect_revision: int | None = None,
    ) -> int:
        """One control-plane edit (a CRUD call): ``change(policy, positions)`` edits a copy of the applied
        ``[policy]`` dict and positions in place and returns (before, after) of the entity for the audit.  The
        result is validated as a scenario file is and becomes a new applied revision, audited, atomically.
        ``expect_revision``: only if that is the applied revision (else :class:`RevisionMismatch`, nothing
        written), checked in the same transaction."""
        with self._tx() as s:
            cur = self._applied_id(s)
            _check_expected(expect_revision, cur)
            policy = copy.deepcopy(revisions.read(s, cur)) or {}
            pos = revisions.positions(s, cur)
            before, after = change(policy, pos)
            self._check_files(s, policy, "<api>")
            rev = self._new_revision(s, policy, pos, actor, "edit", cur, source="<api>")
            self._audit(s, actor, action, entity, before, after)
            self._set_applied(s, rev, actor, "revision.apply", cur)
            return rev

    # ---- faults ----------------------------------------------------------------------------------------
    def faults(self) -> list[dict[str, Any]]:
        """The scenario's ``[[faults]]`` tables as stored (JSON objects, scenario order)."""
        with self._read() as s:
            row = s.get(schema.ScenarioRow, 1)
            assert row is not None
            return list(copy.deepcopy(row.body.get("faults") or []))

    def change_faults(
        self,
        actor: str,
        action: str,
        entity: str,
        change: Callable[[list[dict[str, Any]]], tuple[Any, Any]],
        *,
        check: Callable[[Scenario], None] | None = None,
        expect_revision: int | None = None,
    ) -> int:
        """One change of the scenario's ``[[faults]]`` (``POST`` / ``DELETE /api/faults``): ``change(faults)``
        edits a copy of the stored list in place and returns (before, after) for the audit.  The scenario with
        the new list is validated as a scenario file is (then ``check(scenario)``, e.g. the names the faults
        give against the world); the faults are stored with the scenario, and a new applied revision (the same
        policy and positions, kind ``faults``, recording the new list) marks the change, so that everything keyed
        by the revision (the server's world) follows it; a rollback to a revision restores its faults too.
        Atomic and audited in the same transaction; ``expect_revision`` as :meth:`change_policy`."""
        from leonet.scenario import scenario_from_data

        with self._tx() as s:
            cur = self._applied_id(s)
            _check_expected(expect_revision, cur)
            row = s.get(schema.ScenarioRow, 1)
            assert row is not None
            faults = copy.deepcopy(list(row.body.get("faults") or []))
            before, after = change(faults)
            body = {**row.body, "faults": faults}
            sc = scenario_from_data({**body, "base_dir": row.base_dir, "source": "<api>"}, "<api>")
            if check is not None:
                check(sc)
            row.body = body  # a new dict: the JSON column is written
            policy = revisions.read(s, cur)
            pos = revisions.positions(s, cur)
            rev = self._new_revision(s, policy, pos, actor, "faults", cur, source="<api>")
            self._audit(s, actor, action, entity, before, after)
            self._set_applied(s, rev, actor, "revision.apply", cur)
            return rev

    # ---- drafts, apply, rollback ---------------------------------------------------------------------
    def create_draft(self, *, actor: str) -> tuple[int, dict[str, Any]]:
        with self._tx() as s:
            cur = self._applied_id(s)
            policy = revisions.read(s, cur) or {}
            d = schema.Draft(parent_id=cur, author=actor, created_utc=utc_now(), policy=policy)
            s.add(d)
            s.flush()
            self._audit(s, actor, "draft.create", f"draft/{d.id}", None, {"parent": cur, "policy": policy})
            return d.id, policy

    def draft(self, draft_id: int) -> dict[str, Any]:
        with self._read() as s:
            return self._draft_row(s, draft_id).policy or {}

    def _draft_row(self, s: Session, draft_id: int) -> schema.Draft:
        d = s.get(schema.Draft, draft_id)
        if d is None:
            raise KeyError(f"draft {draft_id}")
        return d

    def update_draft(self, draft_id: int, policy: dict[str, Any], *, actor: str) -> dict[str, Any]:
        """Replace a draft's policy, validated as a scenario file's ``[policy]`` (InputError otherwise)."""
        with self._tx() as s:
            d = self._draft_row(s, draft_id)
            if d.applied_as is not None:
                raise InputError(
                    f"draft {draft_id}",
                    f"already applied as revision {d.applied_as}; expected an "
                    "open draft (POST /api/policy/drafts makes one)",
                )
            if isinstance(policy, dict):
                self._check_files(s, policy, f"<draft {draft_id}>")
            self._validated(s, policy, f"<draft {draft_id}>")
            before = d.policy
            d.policy = policy
            self._audit(s, actor, "draft.update", f"draft/{draft_id}", before, policy)
            return policy

    def apply_draft(self, draft_id: int, *, actor: str, expect_revision: int | None = None) -> int:
        """The draft as a new applied revision (once; ``expect_revision`` as for :meth:`change_policy`)."""
        with self._tx() as s:
            d = self._draft_row(s, draft_id)
            cur = self._applied_id(s)
            _check_expected(expect_revision, cur)
            if d.applied_as is not None:
                raise InputError(
                    f"draft {draft_id}", f"already applied as revision {d.applied_as}; expected an open draft"
                )
            pos = revisions.positions(s, cur)
            rev = self._new_revision(
                s, d.policy, pos, actor, "apply", cur, draft_id=draft_id, source=f"<draft {draft_id}>"
            )
            d.applied_as = rev
            self._set_applied(s, rev, actor, "revision.apply", cur)
            return rev

    def rollback(self, to_revision: int, *, actor: str, expect_revision: int | None = None) -> int:
        """A new applied revision equal to ``to_revision``: its policy, positions and ``[[faults]]`` (the faults
        are put back in the scenario, audited as ``faults.rollback`` when they differ from those in force; a
        revision made before migration 0002 recorded no faults, and the faults in force are kept).
        ``expect_revision`` as for :meth:`change_policy`."""
        with self._tx() as s:
            if s.get(schema.Revision, to_revision) is None:
                raise KeyError(f"revision {to_revision}")
            cur = self._applied_id(s)
            _check_expected(expect_revision, cur)
            policy = revisions.read(s, to_revision)
            pos = revisions.positions(s, to_revision)
            then = revisions.faults(s, to_revision)
            row = s.get(schema.ScenarioRow, 1)
            assert row is not None
            now = list(row.body.get("faults") or [])
            if then is not None and then != now:
                row.body = {**row.body, "faults": copy.deepcopy(then)}  # a new dict: the JSON column is written
                self._audit(s, actor, "faults.rollback", "faults", now, then)
            rev = self._new_revision(s, policy, pos, actor, "rollback", cur, rolled_back_to=to_revision)
            self._set_applied(s, rev, actor, "revision.rollback", cur)
            return rev

    # ---- clock --------------------------------------------------------------------------------------------
    def clock(self) -> ClockState:
        with self._read() as s:
            c = s.get(schema.ClockRow, 1)
            assert c is not None
            return ClockState(c.t_s, c.anchor_unix_s, c.speed, c.running)

    def set_clock(self, state: ClockState, *, actor: str) -> None:
        with self._tx() as s:
            c = s.get(schema.ClockRow, 1)
            assert c is not None
            before = {"t_s": c.t_s, "anchor_unix_s": c.anchor_unix_s, "speed": c.speed, "running": c.running}
            c.t_s, c.anchor_unix_s, c.speed, c.running = state.t_s, state.anchor_unix_s, state.speed, state.running
            after = {"t_s": c.t_s, "anchor_unix_s": c.anchor_unix_s, "speed": c.speed, "running": c.running}
            self._audit(s, actor, "clock.set", "clock", before, after)

    # ---- decision log ---------------------------------------------------------------------------------
    def log_decisions(self, records: Sequence[DecisionRecord]) -> None:
        """Append decisions to the decision log, in one transaction."""
        if not records:
            return
        with Session(self._writer) as s, s.begin():
            s.add_all(schema.DecisionRow(**r.__dict__) for r in records)

    def decisions(self, *, subject: str | None = None, limit: int = 100) -> list[DecisionRecord]:
        """The newest ``limit`` decisions (of ``subject``), newest first.  A subject with a NUL character has
        none (no subject has one; PostgreSQL cannot even compare such text)."""
        if subject is not None and "\x00" in subject:
            return []
        with self._read() as s:
            q = select(schema.DecisionRow)
            if subject is not None:
                q = q.where(schema.DecisionRow.subject == subject)
            q = q.order_by(schema.DecisionRow.at_utc.desc()).limit(limit)
            return [
                DecisionRecord(r.decision_id, r.at_utc, r.t_s, r.revision, r.subject, r.outcome, r.rule, r.reason)
                for r in s.scalars(q)
            ]

    # ---- tokens ----------------------------------------------------------------------------------------
    def create_admin_token_if_none(self) -> str | None:
        """The first admin token's plaintext, once: only when the database has no token at all."""
        with self._tx() as s:
            if s.scalar(select(func.count()).select_from(schema.TokenRow)):
                return None
            return self._create_token(s, "first admin", "admin", "system")

    def create_token(self, name: str, role: Role, *, actor: str) -> tuple[int, str]:
        with self._tx() as s:
            tok = self._create_token(s, name, role, actor)
            row = s.scalars(select(schema.TokenRow).where(schema.TokenRow.token_sha256 == tokens.digest(tok))).one()
            return row.id, tok

    def _create_token(self, s: Session, name: str, role: Role, actor: str) -> str:
        if role not in tokens.ROLES:
            raise InputError("role", f"{role!r}; expected one of {', '.join(tokens.ROLES)}")
        if not isinstance(name, str) or not 1 <= len(name) <= 200 or not name.isprintable():
            raise InputError(
                "name", f"got {name!r:.60}; expected 1 to 200 printable characters (no control characters)"
            )
        tok = tokens.new_token()
        row = schema.TokenRow(name=name, role=role, token_sha256=tokens.digest(tok), created_utc=utc_now())
        s.add(row)
        s.flush()
        self._audit(s, actor, "token.create", f"token/{row.id}", None, {"id": row.id, "name": name, "role": role})
        return tok

    def revoke_token(self, token_id: int, *, actor: str) -> None:
        with self._tx() as s:
            row = s.get(schema.TokenRow, token_id)
            if row is None:
                raise KeyError(f"token {token_id}")
            if row.revoked_utc is None:
                row.revoked_utc = utc_now()
                self._audit(s, actor, "token.revoke", f"token/{token_id}", {"revoked": False}, {"revoked": True})

    def tokens(self) -> list[dict[str, Any]]:
        with self._read() as s:
            return [
                {"id": r.id, "name": r.name, "role": r.role, "created_utc": r.created_utc, "revoked_utc": r.revoked_utc}
                for r in s.scalars(select(schema.TokenRow).order_by(schema.TokenRow.id))
            ]

    def authenticate(self, token: str) -> Principal | None:
        """The principal of a live token (None: unknown or revoked).  Looked up by digest; the digest is then
        compared in constant time."""
        d = tokens.digest(token)
        with self._read() as s:
            row = s.scalars(select(schema.TokenRow).where(schema.TokenRow.token_sha256 == d)).first()
        if row is None or row.revoked_utc is not None or not tokens.matches(token, row.token_sha256):
            return None
        return Principal(row.id, row.name, row.role)  # type: ignore[arg-type]

    # ---- audit ---------------------------------------------------------------------------------------------
    def audit_entries(self, *, after_seq: int = 0, limit: int | None = None) -> list[audit.Entry]:
        with self._read() as s:
            q = select(schema.AuditEntry).where(schema.AuditEntry.seq > after_seq).order_by(schema.AuditEntry.seq)
            if limit is not None:
                q = q.limit(limit)
            return [_entry(e) for e in s.scalars(q)]

    def verify_audit(self) -> audit.Verdict:
        """The audit chain verified (:func:`leonet.control.audit.verify`), and then every revision's rows
        against the digest its audit entry recorded (so a change to the policy tables is detected too)."""
        entries = self.audit_entries()
        v = audit.verify(entries)
        if not v.intact:
            return v
        with self._read() as s:
            now = revisions.digests(s)  # every revision, one query per table
        for e in entries:
            if not e.action.startswith("revision.") or not e.entity.startswith("revision/"):
                continue
            rev = int(e.entity.split("/", 1)[1])
            if now.get(rev) != json.loads(e.after).get("sha256"):
                return audit.Verdict(
                    v.entries,
                    e.seq,
                    f"revision {rev}'s rows no longer match the digest audited here (the policy tables were changed)",
                )
        return v

    # ---- export ----------------------------------------------------------------------------------------
    def export_scenario(self, *, absolute_files: bool = False) -> dict[str, Any]:
        """The applied state as a scenario dict (TOML-ready): the imported scenario, its ``[policy]`` the
        applied revision's, terminals where the registry puts them.  ``absolute_files``: relative file names
        (geofence files, TLE files, ...) are made absolute against the scenario's directory, so the exported file
        loads from anywhere (the compiled policy is the same; the ``file`` strings then differ)."""
        sc = self.scenario()
        out = sc.model_dump(mode="json", exclude={"base_dir", "source"}, exclude_none=True)
        out["epoch"] = sc.epoch  # TOML times, as a scenario file writes them
        for items in (out.get("policy") or {}).values():
            for rule in items if isinstance(items, list) else []:
                for k in TIME_FIELDS & (rule.keys() if isinstance(rule, dict) else set()):
                    rule[k] = datetime.fromisoformat(rule[k].replace("Z", "+00:00"))
        if absolute_files:
            from leonet.policy.compiled import BUILTIN_PREFIX

            def absolute(f: str) -> str:
                if f.startswith(BUILTIN_PREFIX) or Path(f).is_absolute():
                    return f
                return str((Path(sc.base_dir) / f).resolve())

            for rule in [
                *(out.get("policy") or {}).get("geofences", []),
                *(out.get("policy") or {}).get("country_overrides", []),
            ]:
                if rule.get("file"):
                    rule["file"] = absolute(rule["file"])
            for net in out["networks"]:
                for c in net["constellation"]:
                    for k in ("tle", "omm", "hypatia"):
                        if c.get(k):
                            c[k] = absolute(c[k])
            g = out["ground"]
            g["tracks"] = [absolute(t) for t in g.get("tracks", [])]
            if g.get("hypatia"):
                g["hypatia"] = absolute(g["hypatia"])
            for st in g.get("stations", []):
                if st.get("track"):
                    st["track"] = absolute(st["track"])
        return out


def _entry(e: schema.AuditEntry) -> audit.Entry:
    return audit.Entry(e.seq, e.at_utc, e.actor, e.action, e.entity, e.before, e.after, e.prev_hash, e.hash)


def _terminals(s: Session, rev: int) -> list[TerminalRow]:
    types = {a.name: a.account_type for a in s.scalars(select(schema.Account).where(schema.Account.revision_id == rev))}
    members: dict[str, list[tuple[int, str]]] = {}
    for m in s.scalars(select(schema.WhitelistMember).where(schema.WhitelistMember.revision_id == rev)):
        members.setdefault(m.kit_id, []).append((m.position, m.whitelist))
    q = select(schema.Terminal).where(schema.Terminal.revision_id == rev).order_by(schema.Terminal.position)
    return [
        TerminalRow(
            t.kit_id,
            t.account,
            types[t.account],
            t.service_class,
            t.registered_country,
            t.status,
            t.lat_deg,
            t.lon_deg,
            t.alt_m,
            tuple(w for _, w in sorted(members.get(t.kit_id, []))),
            t.exempt_speed_cap,
            t.abroad_since,
        )
        for t in s.scalars(q)
    ]


def _with_positions(sc: Scenario, pos: dict[str, Position]) -> Scenario:
    """``sc`` with its registered terminals where the registry puts them: their ``[[ground.stations]]`` moved,
    and terminals the registry places but the scenario does not appended as terminal stations."""
    from leonet.scenario import StationSpec

    stations = []
    for st in sc.ground.stations:
        p = pos.get(st.name)
        if p is not None and st.track is None and (st.lat_deg, st.lon_deg, st.alt_m) != p:
            st = st.model_copy(update={"lat_deg": p[0], "lon_deg": p[1], "alt_m": p[2]})
        stations.append(st)
    names = {st.name for st in stations}
    stations += [
        StationSpec(name=k, lat_deg=p[0], lon_deg=p[1], alt_m=p[2], kind="terminal")
        for k, p in pos.items()
        if k not in names
    ]
    if stations == list(sc.ground.stations):
        return sc
    return sc.model_copy(update={"ground": sc.ground.model_copy(update={"stations": stations})})
