"""Control revisions keep the scenario's ``[[faults]]`` (migration 0002): each revision records the faults in
force, a rollback restores them (audited as ``faults.rollback``), the revision digest covers them, and
``GET /api/policy/revisions/{R}`` returns them.  SQLite and PostgreSQL (the ``db_url`` fixture)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import inspect, text

from leonet.control import ControlStore
from leonet.control.store import engine_for, migrate
from leonet.policy.models import parse_policy_config
from leonet.scenario import load_scenario

JAM = {"name": "jam-kyiv", "kind": "jamming", "polygon": [[30.0, 50.0], [31.0, 50.0], [31.0, 51.0]], "end_s": 600}
DOWN = {"name": "sats-down", "kind": "satellite", "ids": [0, 1, 2]}


def _add(store: ControlStore, fault: dict[str, Any]) -> int:
    def change(f: list[dict[str, Any]]) -> tuple[Any, Any]:
        f.append(dict(fault))
        return None, fault

    return store.change_faults("op", "fault.create", f"fault/{fault['name']}", change)


def _delete(store: ControlStore, name: str) -> int:
    def change(f: list[dict[str, Any]]) -> tuple[Any, Any]:
        i = next(k for k, x in enumerate(f) if x["name"] == name)
        return f.pop(i), None

    return store.change_faults("op", "fault.delete", f"fault/{name}", change)


def _names(faults: list[dict[str, Any]] | None) -> list[str] | None:
    return None if faults is None else [f["name"] for f in faults]


def test_each_revision_records_the_faults_in_force(db_url: str) -> None:
    store = ControlStore.open(db_url, scenario=load_scenario("speed-cap-2026"))
    try:
        assert store.revision_faults(1) == []
        r2 = _add(store, JAM)
        r3 = _add(store, DOWN)
        d, pol = store.create_draft(actor="op")
        pol["speed_caps"][0]["max_speed_kmh"] = 42.0
        store.update_draft(d, pol, actor="op")
        r4 = store.apply_draft(d, actor="op")  # a policy change: the faults in force carried along
        assert [_names(store.revision_faults(r)) for r in (1, r2, r3, r4)] == [
            [],
            ["jam-kyiv"],
            ["jam-kyiv", "sats-down"],
            ["jam-kyiv", "sats-down"],
        ]
        assert store.revision_faults() == store.faults() == store.revision_faults(r4)
        assert store.revision_faults(r2) == [JAM]  # as given, not the validated model's dump
    finally:
        store.close()


def test_rollback_restores_the_revisions_faults_and_audits_it(db_url: str) -> None:
    store = ControlStore.open(db_url, scenario=load_scenario("speed-cap-2026"))
    try:
        original = store.policy()
        r2 = _add(store, JAM)
        d, pol = store.create_draft(actor="op")
        pol["speed_caps"][0]["max_speed_kmh"] = 42.0
        store.update_draft(d, pol, actor="op")
        store.apply_draft(d, actor="op")
        _add(store, DOWN)
        n_before = len(store.audit_entries())

        r5 = store.rollback(1, actor="alice")  # back before every fault and the policy edit
        assert store.faults() == [] and store.revision_faults(r5) == []
        assert [f.name for f in store.scenario().faults] == []  # the served scenario follows
        assert parse_policy_config(store.policy()) == parse_policy_config(original)
        new = store.audit_entries()[n_before:]
        fr = [e for e in new if e.action == "faults.rollback"]
        assert len(fr) == 1 and fr[0].actor == "alice" and fr[0].entity == "faults"
        assert _names(json.loads(fr[0].before)) == ["jam-kyiv", "sats-down"] and json.loads(fr[0].after) == []
        assert [e.action for e in new] == ["faults.rollback", "revision.rollback", "revision.rollback"]

        r6 = store.rollback(r2, actor="alice")  # forward to the jamming only, old policy
        assert _names(store.faults()) == ["jam-kyiv"] == _names(store.revision_faults(r6))
        assert [f.name for f in store.scenario().faults] == ["jam-kyiv"]
        assert parse_policy_config(store.policy()) == parse_policy_config(original)

        n = len(store.audit_entries())
        store.rollback(r2, actor="alice")  # the same faults: no faults.rollback row
        assert "faults.rollback" not in [e.action for e in store.audit_entries()[n:]]
        assert store.verify_audit().intact
    finally:
        store.close()


def test_the_revision_digest_covers_the_faults(db_url: str) -> None:
    store = ControlStore.open(db_url, scenario=load_scenario("default"))
    try:
        r2 = _add(store, JAM)
        assert store.verify_audit().intact
        eng = engine_for(db_url)
        with eng.begin() as c:  # a fault's window widened behind the store's back
            c.execute(
                text("UPDATE policy_revisions SET faults = :f WHERE id = :r"),
                {"f": json.dumps([{**JAM, "end_s": 86400}]), "r": r2},
            )
        eng.dispose()
        v = store.verify_audit()
        assert not v.intact and f"revision {r2}'s rows no longer match" in v.problem
    finally:
        store.close()


def test_a_revision_without_recorded_faults_keeps_the_faults_in_force(db_url: str) -> None:
    """Revisions made before migration 0002 have NULL faults: a rollback to one keeps the faults in force (it
    cannot know what they were) and writes no faults.rollback row."""
    store = ControlStore.open(db_url, scenario=load_scenario("default"))
    try:
        _add(store, JAM)
        eng = engine_for(db_url)
        with eng.begin() as c:
            c.execute(text("UPDATE policy_revisions SET faults = NULL WHERE id = 1"))
        eng.dispose()
        assert store.revision_faults(1) is None
        n = len(store.audit_entries())
        r = store.rollback(1, actor="op")
        assert _names(store.faults()) == ["jam-kyiv"] == _names(store.revision_faults(r))
        assert "faults.rollback" not in [e.action for e in store.audit_entries()[n:]]
    finally:
        store.close()


def test_migration_0002_upgrades_a_0001_database_and_downgrades(db_url: str) -> None:
    from importlib import resources

    from alembic import command
    from alembic.config import Config

    eng = engine_for(db_url)
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("leonet.control").joinpath("migrations")))
    with eng.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    assert "faults" not in {c["name"] for c in inspect(eng).get_columns("policy_revisions")}
    migrate(eng)  # what ControlStore.open does: to head
    assert "faults" in {c["name"] for c in inspect(eng).get_columns("policy_revisions")}
    with eng.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
    assert "faults" not in {c["name"] for c in inspect(eng).get_columns("policy_revisions")}
    eng.dispose()
    store = ControlStore.open(db_url, scenario=load_scenario("default"))  # upgrades again, then imports
    try:
        assert store.revision_faults(1) == [] and store.verify_audit().intact
    finally:
        store.close()
