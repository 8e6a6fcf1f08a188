"""The control API (mounted under ``/api``): policy revisions and drafts, preview, geofences as GeoJSON,
CRUD of the registry and the rules, the audit log, the decision log and API tokens.

Every change goes through :class:`~leonet.control.ControlStore`, which validates it exactly as a scenario
file's ``[policy]`` is (422 ``{"detail": "<the same one-line message>"}``) and audits it in the same
transaction.  A CRUD call is one new applied revision.  Roles (``leonet.server.auth``): every GET needs
``viewer``, every change ``operator``, ``/tokens`` ``admin``.  See ``docs/service.md``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, HTTPException, Path, Query, Response, status

from leonet.control import ControlStore, Principal, RevisionMismatch
from leonet.control.schema import RULE_FIELDS
from leonet.errors import InputError
from leonet.server.auth import require
from leonet.server.clock import check_t_s

#: URL segment -> ``[policy]`` list of the rules (``/api/speed-caps`` edits ``speed_caps``)
RULE_PATHS = {attr.replace("_", "-"): attr for attr, _ in RULE_FIELDS.values()}
MAX_PREVIEW_MIN = 24 * 60

Viewer = Annotated[Principal, Depends(require("viewer"))]
Operator = Annotated[Principal, Depends(require("operator"))]
Admin = Annotated[Principal, Depends(require("admin"))]
JsonBody = Annotated[dict[str, Any], Body()]
#: the largest id a database row may have (PostgreSQL's INTEGER, 32 bits signed; SQLite's are 64: a larger number
#: cannot even be looked up)
MAX_ID = 2**31 - 1
#: a draft, revision or token id in the path (1 .. MAX_ID; anything else is a 422, never a query)
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _if_match(
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description='the applied revision this change is made on, as GET /api/policy\'s ETag gives it ("12"); '
            "when it is no longer the applied one the change is refused with 412 and nothing is written",
        ),
    ] = None,
) -> int | None:
    """The revision an ``If-Match`` header names (``"12"``, ``12`` or ``W/"12"``; ``*``: any), or None."""
    if if_match is None or if_match.strip() == "*":
        return None
    tag = if_match.strip().removeprefix("W/").strip('"')
    if not tag.isascii() or not tag.isdigit() or len(tag) > 18:
        raise HTTPException(
            status.HTTP_412_PRECONDITION_FAILED,
            'malformed If-Match header; expected the applied revision as an entity tag, e.g. If-Match: "12"',
        )
    return int(tag)


#: the revision a change must be made on (the ``If-Match`` header), None: any
IfMatch = Annotated[int | None, Depends(_if_match)]


@contextmanager
def _errors() -> Iterator[None]:
    """InputError -> 422 with the one-line message; KeyError (no such draft, revision, rule) -> 404."""
    try:
        yield
    except InputError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    except KeyError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no {exc.args[0]}") from None
    except RevisionMismatch as exc:
        raise HTTPException(status.HTTP_412_PRECONDITION_FAILED, str(exc)) from None


def _actor(p: Principal) -> str:
    return f"token:{p.token_id}:{p.name}"


def _find(items: list[dict[str, Any]], rule_id: str, what: str) -> int:
    for i, r in enumerate(items):
        if r.get("id") == rule_id:
            return i
    raise KeyError(f"{what} {rule_id!r}")


def _unknown_keys(body: dict[str, Any], allowed: set[str], where: str) -> None:
    extra = sorted(set(body) - allowed)
    if extra:
        raise InputError(where, f"unknown field {extra[0]!r}; expected only {', '.join(sorted(allowed))}")


POSITION_KEYS = {"lat_deg": (-90.0, 90.0), "lon_deg": (-180.0, 180.0), "alt_m": (-500.0, 100_000.0)}


def _position(
    body: dict[str, Any], old: tuple[float, float, float] | None, where: str
) -> tuple[float, float, float] | None:
    """The terminal's position from the ``lat_deg`` / ``lon_deg`` / ``alt_m`` of ``body`` (removed from it),
    over ``old``; bounds as a scenario's ``[[ground.stations]]``."""
    given = {k: body.pop(k) for k in list(body) if k in POSITION_KEYS}
    if not given:
        return old
    for k, v in given.items():
        lo, hi = POSITION_KEYS[k]
        if isinstance(v, bool) or not isinstance(v, int | float) or not lo <= float(v) <= hi:
            raise InputError(f"{where}.{k}", f"got {v!r}; expected a number in {lo:g}..{hi:g}")
    lat = given.get("lat_deg", None if old is None else old[0])
    lon = given.get("lon_deg", None if old is None else old[1])
    alt = given.get("alt_m", 0.0 if old is None else old[2])
    if lat is None or lon is None:
        raise InputError(where, "a position needs both lat_deg and lon_deg")
    return (float(lat), float(lon), float(alt))


def router(
    store: ControlStore,
    *,
    world: Callable[[], Any] | None = None,
    flush_decisions: Callable[[], object] | None = None,
) -> APIRouter:
    """The control API over ``store``.  ``world()``: the assembled :class:`~leonet.assembly.World` of the
    applied scenario for previews (default: assembled here from ``store.scenario()``, kept per revision).
    ``flush_decisions()``: waits until the decisions queued so far are written, so that ``GET /decisions``
    shows the decisions of the requests answered before it (read your own writes)."""
    r = APIRouter()
    cache: dict[str, Any] = {}
    lock = threading.Lock()

    def current_world() -> Any:
        if world is not None:
            return world()
        from leonet.assembly import assemble

        rev = store.revision()
        with lock:
            if cache.get("rev") != rev:
                cache["world"], cache["rev"] = assemble(store.scenario()), rev
            return cache["world"]

    # ---- policy and revisions -------------------------------------------------------------------------
    @r.get("/policy")
    def get_policy(_: Viewer, response: Response) -> dict[str, Any]:
        rev = store.revision()
        response.headers["ETag"] = f'"{rev}"'
        return {"revision": rev, "policy": store.policy(rev)}

    @r.get("/policy/revisions")
    def list_revisions(_: Viewer) -> list[dict[str, Any]]:
        return [asdict(x) for x in store.revisions()]

    @r.get("/policy/revisions/{revision}")
    def get_revision(revision: RowId, _: Viewer) -> dict[str, Any]:
        with _errors():
            return {"revision": revision, "policy": store.policy(revision), "faults": store.revision_faults(revision)}

    @r.post("/policy/drafts", status_code=201)
    def create_draft(who: Operator) -> dict[str, Any]:
        draft_id, policy = store.create_draft(actor=_actor(who))
        return {"draft_id": draft_id, "policy": policy}

    @r.get("/policy/drafts/{draft_id}")
    def get_draft(draft_id: RowId, _: Viewer) -> dict[str, Any]:
        with _errors():
            return {"draft_id": draft_id, "policy": store.draft(draft_id)}

    @r.put("/policy/drafts/{draft_id}")
    def put_draft(draft_id: RowId, body: JsonBody, who: Operator) -> dict[str, Any]:
        with _errors():
            _unknown_keys(body, {"policy"}, "body")
            policy = body.get("policy")
            if not isinstance(policy, dict):
                raise InputError("body.policy", "expected the [policy] section as a JSON object")
            return {"draft_id": draft_id, "policy": store.update_draft(draft_id, policy, actor=_actor(who))}

    @r.post("/policy/drafts/{draft_id}/preview")
    def preview_draft(
        draft_id: RowId,
        who: Operator,
        minutes: Annotated[float, Query(gt=0, le=MAX_PREVIEW_MIN)] = 10.0,
        t_s: float | None = None,
    ) -> dict[str, Any]:
        from leonet.preview import preview

        with _errors():
            after_policy = store.draft(draft_id)
            w = current_world()
            after = store.scenario().model_copy(update={"policy": after_policy}).compiled_policy()
            t0 = store.clock().now_s() if t_s is None else check_t_s(t_s)
            p = preview(w, w.policy, after, t0, minutes)
        return {
            "t0_s": t0,
            "minutes": minutes,
            "terminals": len(p.terminal_ids),
            "changes": [asdict(c) for c in p.changes],
            "summary": [asdict(s) for s in p.summary],
            "at_start": [asdict(x) for x in p.at_start],
        }

    @r.post("/policy/drafts/{draft_id}/apply")
    def apply_draft(draft_id: RowId, who: Operator, expect: IfMatch) -> dict[str, Any]:
        with _errors():
            return {"revision": store.apply_draft(draft_id, actor=_actor(who), expect_revision=expect)}

    @r.post("/policy/rollback")
    def rollback(body: JsonBody, who: Operator, expect: IfMatch) -> dict[str, Any]:
        with _errors():
            _unknown_keys(body, {"revision"}, "body")
            rev = body.get("revision")
            if isinstance(rev, bool) or not isinstance(rev, int) or not 1 <= rev <= MAX_ID:
                raise InputError("body.revision", f"got {rev!r:.40}; expected a revision id (an integer >= 1)")
            return {"revision": store.rollback(rev, actor=_actor(who), expect_revision=expect)}

    # ---- geofences as GeoJSON -------------------------------------------------------------------------
    @r.get("/geofences")
    def geofences(
        _: Viewer, draft: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None, t_s: float | None = None
    ) -> dict[str, Any]:
        from leonet.server.geofences import feature_collection

        with _errors():
            policy = store.policy() if draft is None else store.draft(draft)
            sc = store.scenario()
            t = store.clock().now_s() if t_s is None else check_t_s(t_s)
            return feature_collection(policy, sc, t)

    # ---- rules: one list of [policy] each --------------------------------------------------------------
    def _rule_routes(path: str, attr: str) -> None:
        singular = path.rstrip("s") if path.endswith("s") else path

        if path != "geofences":

            @r.get(f"/{path}", name=f"list_{attr}")
            def list_rules(_: Viewer) -> list[dict[str, Any]]:
                return list((store.policy() or {}).get(attr) or [])

        @r.get(f"/{path}/{{rule_id}}", name=f"get_{attr}")
        def get_rule(rule_id: str, _: Viewer) -> dict[str, Any]:
            with _errors():
                items: list[dict[str, Any]] = list((store.policy() or {}).get(attr) or [])
                return items[_find(items, rule_id, singular)]

        @r.post(f"/{path}", status_code=201, name=f"create_{attr}")
        def create_rule(body: JsonBody, who: Operator, expect: IfMatch) -> dict[str, Any]:
            def change(policy: dict[str, Any], _pos: dict[str, Any]) -> tuple[Any, Any]:
                policy[attr] = [*(policy.get(attr) or []), body]
                return None, body

            with _errors():
                rev = store.change_policy(
                    _actor(who), f"{attr}.create", f"{attr}/{body.get('id')}", change, expect_revision=expect
                )
            return {"revision": rev, "rule": body}

        @r.put(f"/{path}/{{rule_id}}", name=f"replace_{attr}")
        def replace_rule(rule_id: str, body: JsonBody, who: Operator, expect: IfMatch) -> dict[str, Any]:
            body = {**body, "id": rule_id}  # the path names the rule

            def change(policy: dict[str, Any], _pos: dict[str, Any]) -> tuple[Any, Any]:
                items = list(policy.get(attr) or [])
                i = _find(items, rule_id, singular)
                before, items[i] = items[i], body
                policy[attr] = items
                return before, body

            with _errors():
                rev = store.change_policy(
                    _actor(who), f"{attr}.replace", f"{attr}/{rule_id}", change, expect_revision=expect
                )
            return {"revision": rev, "rule": body}

        @r.delete(f"/{path}/{{rule_id}}", name=f"delete_{attr}")
        def delete_rule(rule_id: str, who: Operator, expect: IfMatch) -> dict[str, Any]:
            def change(policy: dict[str, Any], _pos: dict[str, Any]) -> tuple[Any, Any]:
                items = list(policy.get(attr) or [])
                i = _find(items, rule_id, singular)
                before = items.pop(i)
                policy[attr] = items
                return before, None

            with _errors():
                rev = store.change_policy(
                    _actor(who), f"{attr}.delete", f"{attr}/{rule_id}", change, expect_revision=expect
                )
            return {"revision": rev}

    for path, attr in RULE_PATHS.items():
        _rule_routes(path, attr)

    # ---- defaults -------------------------------------------------------------------------------------------
    @r.get("/defaults")
    def get_defaults(_: Viewer) -> dict[str, Any]:
        from leonet.policy.models import Defaults

        return {**Defaults().model_dump(mode="json"), **(store.policy() or {}).get("default", {})}

    @r.patch("/defaults")
    def patch_defaults(body: JsonBody, who: Operator, expect: IfMatch) -> dict[str, Any]:
        def change(policy: dict[str, Any], _pos: dict[str, Any]) -> tuple[Any, Any]:
            before = dict(policy.get("default") or {})
            policy["default"] = {**before, **body}
            return before, policy["default"]

        with _errors():
            rev = store.change_policy(_actor(who), "default.update", "default", change, expect_revision=expect)
        return {"revision": rev}

    # ---- accounts and terminals (the registry) --------------------------------------------------------
    @r.get("/accounts")
    def accounts(_: Viewer) -> list[dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for t in store.terminals():
            a = out.setdefault(t.account, {"name": t.account, "account_type": t.account_type, "terminals": []})
            a["terminals"].append(t.kit_id)
        return list(out.values())

    @r.get("/accounts/{name}")
    def account(name: str, _: Viewer) -> dict[str, Any]:
        ts = [t for t in store.terminals() if t.account == name]
        if not ts:
            raise HTTPException(404, f"no account {name!r}")
        return {"name": name, "account_type": ts[0].account_type, "terminals": [asdict(t) for t in ts]}

    @r.patch("/accounts/{name}")
    def patch_account(name: str, body: JsonBody, who: Operator, expect: IfMatch) -> dict[str, Any]:
        def change(policy: dict[str, Any], _pos: dict[str, Any]) -> tuple[Any, Any]:
            _unknown_keys(body, {"account_type"}, "body")
            ts = [t for t in policy.get("terminals") or [] if t["account"] == name]
            if not ts:
                raise KeyError(f"account {name!r}")
            before = {"name": name, "account_type": ts[0].get("account_type", "person")}
            for t in ts:
                t["account_type"] = body["account_type"]
            return before, {"name": name, "account_type": body["account_type"]}

        with _errors():
            rev = store.change_policy(_actor(who), "account.update", f"account/{name}", change, expect_revision=expect)
        return {"revision": rev}

    @r.get("/registry/{kit_id}")
    def registered(kit_id: str, _: Viewer) -> dict[str, Any]:
        for t in store.terminals():
            if t.kit_id == kit_id:
                return asdict(t)
        raise HTTPException(404, f"no registered terminal {kit_id!r}")

    @r.post("/terminals", status_code=201)
    def create_terminal(body: JsonBody, who: Operator, expect: IfMatch) -> dict[str, Any]:
        body = dict(body)
        kit = body.pop("kit_id", None) or body.get("id")

        def change(policy: dict[str, Any], pos: dict[str, Any]) -> tuple[Any, Any]:
            p = _position(body, None, "body")
            entry = {**body, "id": kit}
            policy["terminals"] = [*(policy.get("terminals") or []), entry]
            if p is not None:
                pos[str(kit)] = p
            return None, {**entry, **({} if p is None else dict(zip(POSITION_KEYS, p, strict=True)))}

        with _errors():
            if not isinstance(kit, str):
                raise InputError("body.kit_id", "expected the terminal's kit id (a string)")
            rev = store.change_policy(_actor(who), "terminal.create", f"terminal/{kit}", change, expect_revision=expect)
        return {"revision": rev, "kit_id": kit}

    @r.patch("/terminals/{kit_id}")
    def patch_terminal(kit_id: str, body: JsonBody, who: Operator, expect: IfMatch) -> dict[str, Any]:
        body = dict(body)

        def change(policy: dict[str, Any], pos: dict[str, Any]) -> tuple[Any, Any]:
            items = list(policy.get("terminals") or [])
            i = _find(items, kit_id, "registered terminal")
            if "id" in body or "kit_id" in body:
                raise InputError("body.kit_id", "a terminal's kit id cannot change; expected the other fields only")
            old = pos.get(kit_id)
            p = _position(body, old, "body")
            before = {**items[i], **({} if old is None else dict(zip(POSITION_KEYS, old, strict=True)))}
            items[i] = {**items[i], **body}
            policy["terminals"] = items
            if p is not None:
                pos[kit_id] = p
            return before, {**items[i], **({} if p is None else dict(zip(POSITION_KEYS, p, strict=True)))}

        with _errors():
            rev = store.change_policy(
                _actor(who), "terminal.update", f"terminal/{kit_id}", change, expect_revision=expect
            )
        return {"revision": rev, "kit_id": kit_id}

    @r.delete("/terminals/{kit_id}")
    def delete_terminal(kit_id: str, who: Operator, expect: IfMatch) -> dict[str, Any]:
        def change(policy: dict[str, Any], pos: dict[str, Any]) -> tuple[Any, Any]:
            items = list(policy.get("terminals") or [])
            before = items.pop(_find(items, kit_id, "registered terminal"))
            policy["terminals"] = items
            pos.pop(kit_id, None)
            return before, None

        with _errors():
            rev = store.change_policy(
                _actor(who), "terminal.delete", f"terminal/{kit_id}", change, expect_revision=expect
            )
        return {"revision": rev}

    # ---- whitelists ------------------------------------------------------------------------------------
    @r.get("/whitelists")
    def whitelists(_: Viewer) -> list[dict[str, Any]]:
        policy = store.policy() or {}
        declared = list(policy.get("whitelists") or [])
        members: dict[str, list[str]] = {w: [] for w in declared}
        for t in policy.get("terminals") or []:
            for w in t.get("whitelists") or []:
                members.setdefault(w, []).append(t["id"])
        return [{"name": w, "declared": w in declared, "members": m} for w, m in members.items()]

    @r.post("/whitelists", status_code=201)
    def declare_whitelist(body: JsonBody, who: Operator, expect: IfMatch) -> dict[str, Any]:
        def change(policy: dict[str, Any], _pos: dict[str, Any]) -> tuple[Any, Any]:
            _unknown_keys(body, {"name"}, "body")
            policy["whitelists"] = [*(policy.get("whitelists") or []), body.get("name")]
            return None, {"name": body.get("name"), "declared": True}

        with _errors():
            rev = store.change_policy(
                _actor(who), "whitelist.declare", f"whitelist/{body.get('name')}", change, expect_revision=expect
            )
        return {"revision": rev}

    @r.delete("/whitelists/{name}")
    def undeclare_whitelist(name: str, who: Operator, expect: IfMatch) -> dict[str, Any]:
        def change(policy: dict[str, Any], _pos: dict[str, Any]) -> tuple[Any, Any]:
            declared = list(policy.get("whitelists") or [])
            if name not in declared:
                raise KeyError(f"declared whitelist {name!r}")
            declared.remove(name)
            policy["whitelists"] = declared
            return {"name": name, "declared": True}, {"name": name, "declared": False}

        with _errors():
            rev = store.change_policy(
                _actor(who), "whitelist.undeclare", f"whitelist/{name}", change, expect_revision=expect
            )
        return {"revision": rev}

    def _membership(name: str, kit_id: str, who: Principal, add: bool, expect: int | None) -> dict[str, Any]:
        def change(policy: dict[str, Any], _pos: dict[str, Any]) -> tuple[Any, Any]:
            items = list(policy.get("terminals") or [])
            i = _find(items, kit_id, "registered terminal")
            wl = list(items[i].get("whitelists") or [])
            before = {"kit_id": kit_id, "whitelist": name, "member": name in wl}
            if add and name not in wl:
                wl.append(name)
            if not add:
                if name not in wl:
                    raise KeyError(f"membership of {kit_id!r} in whitelist {name!r}")
                wl.remove(name)
            items[i] = {**items[i], "whitelists": wl}
            policy["terminals"] = items
            return before, {"kit_id": kit_id, "whitelist": name, "member": add}

        with _errors():
            action = "whitelist.add" if add else "whitelist.remove"
            rev = store.change_policy(_actor(who), action, f"whitelist/{name}/{kit_id}", change, expect_revision=expect)
        return {"revision": rev}

    @r.put("/whitelists/{name}/members/{kit_id}")
    def add_member(name: str, kit_id: str, who: Operator, expect: IfMatch) -> dict[str, Any]:
        return _membership(name, kit_id, who, True, expect)

    @r.delete("/whitelists/{name}/members/{kit_id}")
    def remove_member(name: str, kit_id: str, who: Operator, expect: IfMatch) -> dict[str, Any]:
        return _membership(name, kit_id, who, False, expect)

    # ---- faults (the scenario's [[faults]]) ----------------------------------------------------------------
    @r.get("/faults")
    def list_faults(_: Viewer, response: Response) -> dict[str, Any]:
        rev = store.revision()
        response.headers["ETag"] = f'"{rev}"'
        return {"revision": rev, "faults": store.faults()}

    @r.post("/faults", status_code=201)
    def create_fault(body: JsonBody, who: Operator, expect: IfMatch) -> dict[str, Any]:
        """One ``[[faults]]`` table as JSON (``name`` required here: the fault is deleted by it)."""
        from leonet.scenario import FAULT_KINDS

        with _errors():
            name = body.get("name")
            if not isinstance(name, str) or not name:
                raise InputError("body.name", "missing; expected a name for the fault (it is deleted by its name)")
            if body.get("kind") not in FAULT_KINDS:
                raise InputError("body.kind", f"got {body.get('kind')!r:.40}; expected one of {', '.join(FAULT_KINDS)}")

            def change(faults: list[dict[str, Any]]) -> tuple[Any, Any]:
                if any(f.get("name") == name for f in faults):
                    raise InputError("body.name", f"a fault named {name!r:.80} exists; expected a new name")
                faults.append(dict(body))
                return None, body

            def check(sc: Any) -> None:
                from leonet.assembly import network_faults

                w = current_world()
                network_faults(sc, w.ground, w.networks)  # ids, names and networks against the world

            rev = store.change_faults(
                _actor(who), "fault.create", f"fault/{name}", change, check=check, expect_revision=expect
            )
        return {"revision": rev, "fault": body}

    @r.delete("/faults/{name}")
    def delete_fault(name: str, who: Operator, expect: IfMatch) -> dict[str, Any]:
        with _errors():

            def change(faults: list[dict[str, Any]]) -> tuple[Any, Any]:
                i = next((k for k, f in enumerate(faults) if f.get("name") == name), None)
                if i is None:
                    raise KeyError(f"fault {name!r:.80}")
                return faults.pop(i), None

            rev = store.change_faults(_actor(who), "fault.delete", f"fault/{name}", change, expect_revision=expect)
        return {"revision": rev}

    # ---- logs ------------------------------------------------------------------------------------------
    @r.get("/audit")
    def audit_log(
        _: Viewer,
        after_seq: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[dict[str, Any]]:
        return [asdict(e) for e in store.audit_entries(after_seq=after_seq, limit=limit)]

    @r.get("/audit/verify")
    def audit_verify(_: Viewer) -> dict[str, Any]:
        v = store.verify_audit()
        return {"entries": v.entries, "intact": v.intact, "broken_seq": v.broken_seq, "problem": v.problem}

    @r.get("/decisions")
    def decisions(
        _: Viewer, subject: str | None = None, limit: Annotated[int, Query(ge=1, le=1000)] = 100
    ) -> list[dict[str, Any]]:
        if flush_decisions is not None:
            flush_decisions()
        return [asdict(d) for d in store.decisions(subject=subject, limit=limit)]

    # ---- tokens (admin) -----------------------------------------------------------------------------------
    @r.get("/tokens")
    def list_tokens(_: Admin) -> list[dict[str, Any]]:
        return store.tokens()

    @r.post("/tokens", status_code=201)
    def create_token(body: JsonBody, who: Admin) -> dict[str, Any]:
        with _errors():
            _unknown_keys(body, {"name", "role"}, "body")
            name, role = body.get("name"), body.get("role")
            if not isinstance(name, str) or not 1 <= len(name) <= 200 or not name.isprintable():
                raise InputError("body.name", "expected a name for the token (1 to 200 printable characters)")
            token_id, token = store.create_token(name, role, actor=_actor(who))  # type: ignore[arg-type]
        return {"id": token_id, "name": name, "role": role, "token": token}

    @r.delete("/tokens/{token_id}", status_code=204)
    def revoke_token(token_id: RowId, who: Admin) -> Response:
        with _errors():
            store.revoke_token(token_id, actor=_actor(who))
        return Response(status_code=204)

    return r
