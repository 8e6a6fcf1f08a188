"""leonet.control: the ControlStore on SQLite and PostgreSQL (the same tests on both: the ``db_url`` fixture).

Round trips are checked against the scenario parser itself (``PolicyConfig`` of the original ``[policy]``);
the audit chain against an independent recomputation with hashlib in the test; tampering is done through raw
SQL after dropping the append-only triggers, as an attacker with database access would.
"""

from __future__ import annotations

import hashlib
import json
import time

import pytest
from sqlalchemy import text

from leonet.control import ClockState, ControlStore, DecisionRecord
from leonet.control.store import engine_for, migrate
from leonet.errors import InputError
from leonet.policy.models import PolicyConfig, parse_policy_config
from leonet.scenario import builtin_names, load_scenario, parse_scenario


def _config(sc):  # type: ignore[no-untyped-def]
    return None if sc.policy is None else parse_policy_config(sc.policy)


def _raw(url: str):  # type: ignore[no-untyped-def]
    return engine_for(url)


@pytest.mark.parametrize("name", builtin_names())
def test_every_builtin_scenario_round_trips(name: str, db_url: str) -> None:
    sc = load_scenario(name)
    store = ControlStore.open(db_url, scenario=sc)
    try:
        back = store.scenario()
        assert _config(back) == _config(sc)
        assert back.ground == sc.ground  # terminal positions came back where the scenario put them
        assert back.model_dump(exclude={"policy"}) == sc.model_dump(exclude={"policy"})
        # and through the exported document, parsed again as a scenario file would be
        exported = store.export_scenario()
        again = parse_scenario(_toml(exported), source="<export>", base_dir=sc.base_dir)
        assert _config(again) == _config(sc)
        assert store.revision() == 1
    finally:
        store.close()


def _toml(doc: dict) -> str:  # type: ignore[type-arg]
    from leonet.tomlout import dumps

    return dumps(doc)


def test_reopen_keeps_state_and_checks_the_scenario(db_url: str) -> None:
    sc = load_scenario("front-whitelist-2026")
    s1 = ControlStore.open(db_url, scenario=sc)
    d, _ = s1.create_draft(actor="t")
    pol = s1.draft(d)
    pol["terminals"] = [t for t in pol["terminals"] if t["id"] != "KIT-UA-0003"]
    s1.update_draft(d, pol, actor="t")
    rev = s1.apply_draft(d, actor="t")
    s1.close()
    s2 = ControlStore.open(db_url, scenario=sc)  # not imported again: the database's state wins
    try:
        assert s2.revision() == rev == 2
        want = [t["id"] for t in sc.policy["terminals"] if t["id"] != "KIT-UA-0003"]  # type: ignore[index]
        assert [t.kit_id for t in s2.terminals()] == want and len(want) == len(sc.policy["terminals"]) - 1  # type: ignore[index]
        with pytest.raises(InputError, match="holds scenario 'front-whitelist-2026', not 'default'"):
            ControlStore.open(db_url, scenario=load_scenario("default"))
    finally:
        s2.close()


def test_draft_validation_gives_the_scenario_files_message(db_url: str) -> None:
    sc = load_scenario("front-whitelist-2026")
    store = ControlStore.open(db_url, scenario=sc)
    try:
        d, pol = store.create_draft(actor="t")
        pol["geofences"][0]["whitelist"] = "ua-whitelistt"
        with pytest.raises(InputError) as got:
            store.update_draft(d, pol, actor="t")
        # the same policy in a scenario file: the same message after the source name
        with pytest.raises(InputError) as want:
            sc.model_copy(update={"policy": pol, "source": "<draft 1>"}).compiled_policy()
        assert str(got.value) == str(want.value)
        assert str(got.value).startswith("<draft 1> [policy] geofences[0] (id 'ua-whitelist-2026').whitelist: ")
        assert "no registered terminal is on whitelist 'ua-whitelistt'" in str(got.value)
        assert store.draft(d)["geofences"][0]["whitelist"] == "ua-2026"  # nothing half-written
    finally:
        store.close()


def test_apply_and_rollback_to_any_earlier_revision(db_url: str) -> None:
    sc = load_scenario("speed-cap-2026")
    store = ControlStore.open(db_url, scenario=sc)
    try:
        original = store.policy()
        d, pol = store.create_draft(actor="op")
        pol["speed_caps"][0]["max_speed_kmh"] = 42.0
        store.update_draft(d, pol, actor="op")
        r2 = store.apply_draft(d, actor="op")
        assert store.revision() == r2 == 2
        assert parse_policy_config(store.scenario().policy).speed_caps[0].max_speed_kmh == 42.0
        r3 = store.rollback(1, actor="op")
        assert r3 == 3 and store.revision() == 3
        assert parse_policy_config(store.policy()) == parse_policy_config(original)
        assert parse_policy_config(store.scenario().policy) == parse_policy_config(original)
        kinds = [(r.id, r.kind, r.rolled_back_to, r.applied) for r in store.revisions()]
        assert kinds == [(1, "import", None, False), (2, "apply", None, False), (3, "rollback", 1, True)]
        with pytest.raises(InputError, match="already applied as revision 2"):
            store.apply_draft(d, actor="op")
        with pytest.raises(KeyError):
            store.rollback(99, actor="op")
    finally:
        store.close()


def _recompute(entries) -> None:  # type: ignore[no-untyped-def]
    """The chain recomputed here with hashlib and json, independently of leonet.control.audit."""
    prev = "0" * 64
    for e in entries:
        body = {"seq": e.seq, "at_utc": e.at_utc, "actor": e.actor, "action": e.action, "entity": e.entity,
                "before": e.before, "after": e.after, "prev_hash": prev}  # fmt: skip
        h = hashlib.sha256(
            json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        ).hexdigest()
        assert e.prev_hash == prev and e.hash == h, e.seq
        prev = h


def test_every_change_is_audited_in_a_verifiable_chain(db_url: str) -> None:
    store = ControlStore.open(db_url, scenario=load_scenario("front-whitelist-2026"))
    try:
        store.set_clock(ClockState(120.0, time.time(), 10.0, True), actor="op")
        tok = store.create_admin_token_if_none()
        assert tok is not None and store.create_admin_token_if_none() is None
        d, _ = store.create_draft(actor="op")
        store.apply_draft(d, actor="op")
        entries = store.audit_entries()
        actions = [e.action for e in entries]
        assert actions == ["scenario.import", "revision.import", "clock.set", "token.create", "draft.create",
                           "revision.apply", "revision.apply"]  # fmt: skip
        assert actions[-2:] == ["revision.apply", "revision.apply"]  # the new revision, then the pointer moving
        clock = json.loads(entries[2].after)
        assert clock["t_s"] == 120.0 and clock["speed"] == 10.0 and clock["running"] is True
        _recompute(entries)
        v = store.verify_audit()
        assert v.intact and v.entries == len(entries)
        assert tok not in "".join(e.before + e.after for e in entries)  # the token is never in the log
    finally:
        store.close()


def test_audit_log_is_append_only_in_the_database(db_url: str) -> None:
    store = ControlStore.open(db_url, scenario=load_scenario("default"))
    store.close()
    eng = _raw(db_url)
    for stmt in ("UPDATE audit_log SET actor = 'mallory' WHERE seq = 1", "DELETE FROM audit_log WHERE seq = 1"):
        with pytest.raises(Exception, match="append-only"), eng.begin() as c:
            c.execute(text(stmt))
    eng.dispose()


@pytest.mark.parametrize("tamper", ["update", "delete"])
def test_tampering_is_detected(db_url: str, tamper: str) -> None:
    store = ControlStore.open(db_url, scenario=load_scenario("front-whitelist-2026"))
    for i in range(4):
        store.set_clock(ClockState(float(i), 0.0, 1.0, False), actor="op")
    assert store.verify_audit().intact
    eng = _raw(db_url)
    with eng.begin() as c:
        if eng.dialect.name == "sqlite":
            c.execute(text("DROP TRIGGER audit_log_no_update"))
            c.execute(text("DROP TRIGGER audit_log_no_delete"))
        else:
            c.execute(text("DROP TRIGGER audit_log_no_update ON audit_log"))
            c.execute(text("DROP TRIGGER audit_log_no_delete ON audit_log"))
        if tamper == "update":
            c.execute(text("UPDATE audit_log SET after = replace(after, '2.0', '9.0') WHERE seq = 5"))
        else:
            c.execute(text("DELETE FROM audit_log WHERE seq = 4"))
    eng.dispose()
    v = store.verify_audit()
    store.close()
    assert not v.intact
    if tamper == "update":
        assert v.broken_seq == 5 and "hash does not match" in v.problem
    else:
        assert v.broken_seq == 5 and "missing" in v.problem


def test_tokens_are_stored_hashed(db_url: str) -> None:
    store = ControlStore.open(db_url, scenario=load_scenario("default"))
    try:
        tok = store.create_admin_token_if_none()
        assert tok is not None and len(tok) >= 43
        tid, op = store.create_token("ops", "operator", actor="admin")
        assert store.authenticate(op).role == "operator"  # type: ignore[union-attr]
        assert store.authenticate(tok).role == "admin"  # type: ignore[union-attr]
        assert store.authenticate(op + "x") is None
        eng = _raw(db_url)
        with eng.connect() as c:
            stored = [r[0] for r in c.execute(text("SELECT token_sha256 FROM api_tokens ORDER BY id"))]
        eng.dispose()
        assert stored == [hashlib.sha256(t.encode()).hexdigest() for t in (tok, op)]
        store.revoke_token(tid, actor="admin")
        assert store.authenticate(op) is None
        with pytest.raises(InputError, match="expected one of viewer, operator, admin"):
            store.create_token("x", "root", actor="admin")  # type: ignore[arg-type]
    finally:
        store.close()


def test_clock_and_decision_log(db_url: str) -> None:
    store = ControlStore.open(db_url, scenario=load_scenario("default"))
    try:
        assert store.clock() == ClockState(0.0, store.clock().anchor_unix_s, 1.0, False)
        store.set_clock(ClockState(30.0, 1000.0, 2.0, True), actor="op")
        c = store.clock()
        assert c == ClockState(30.0, 1000.0, 2.0, True) and c.now_s(1010.0) == 50.0
        recs = [DecisionRecord.new(15.0 * i, 1, f"KIT-{i}", "served", None, "") for i in range(50)]
        store.log_decisions(recs)
        got = store.decisions(subject="KIT-7")
        assert [(d.decision_id, d.t_s) for d in got] == [(recs[7].decision_id, 105.0)]
        assert len(store.decisions(limit=1000)) == 50
    finally:
        store.close()


def test_bad_urls_are_one_line_errors(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match="not a database URL"):
        ControlStore.open("nonsense", scenario=None)
    with pytest.raises(InputError, match="not supported"):
        ControlStore.open("mysql://x/y", scenario=None)
    empty = f"sqlite:///{tmp_path / 'e.db'}"
    with pytest.raises(InputError, match="no such database file"):
        ControlStore.open(empty, scenario=None)
    assert not (tmp_path / "e.db").exists()  # nothing created
    migrate(engine_for(empty))
    with pytest.raises(InputError, match="holds no scenario"):
        ControlStore.open(empty, scenario=None)
    with pytest.raises(InputError, match="cannot open the database"):
        ControlStore.open("postgresql://nobody@127.0.0.1:1/none", scenario=None)


def test_policyconfig_equality_sees_a_changed_field() -> None:
    """The round-trip comparisons above can fail: PolicyConfig equality notices one changed value."""
    a = parse_policy_config({"terminals": [{"id": "K1", "account": "a"}]})
    b = parse_policy_config({"terminals": [{"id": "K1", "account": "b"}]})
    assert a != b and isinstance(a, PolicyConfig)


def test_a_changed_policy_row_is_detected(db_url: str) -> None:
    """The revision tables are not append-only in the database, but each revision's digest is in the chain:
    reactivating a suspended terminal behind the service's back is seen by verify."""
    store = ControlStore.open(db_url, scenario=load_scenario("front-whitelist-2026"))
    try:
        assert store.verify_audit().intact
        eng = _raw(db_url)
        with eng.begin() as c:
            n = c.execute(text("UPDATE terminals SET status = 'active' WHERE kit_id = 'KIT-RU-0666'")).rowcount
        eng.dispose()
        assert n == 1
        v = store.verify_audit()
        revision_entry = next(e for e in store.audit_entries() if e.action == "revision.import")
        assert not v.intact and v.broken_seq == revision_entry.seq
        assert "revision 1's rows no longer match" in v.problem
    finally:
        store.close()
