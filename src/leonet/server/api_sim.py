"""The simulation side of the HTTP API: the clock, the constellation (binary frame and JSON), networks,
terminals with their decisions, why, routes, and the status stream.  Thin: every answer comes from a cached
snapshot state (:mod:`leonet.server.snapshots`) and the pure core (``leonet.routing``, ``leonet.policy.why``).

The binary frame (``GET /api/frame``), little-endian::

    b"LNF1"  uint32 version (1)  float64 t_s  uint32 n_sat  uint32 n_isl
    float32 lat_deg[n_sat]  float32 lon_deg[n_sat]  float32 alt_km[n_sat]  uint32 isl_a[n_isl]  uint32 isl_b[n_isl]
"""

from __future__ import annotations

import asyncio
import json
import math
import struct
from collections.abc import AsyncIterator, Callable, Hashable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

import anyio.to_thread
import numpy as np
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict

from leonet.errors import InputError
from leonet.policy import why
from leonet.policy.decide import looks_back
from leonet.routing import shortest_routes
from leonet.server.clock import Clock, check_t_s
from leonet.server.snapshots import Entry, Snapshots, TerminalStatus, utc_now
from leonet.server.store_protocol import DecisionRecord

T = TypeVar("T")

FRAME_MAGIC = b"LNF1"
FRAME_VERSION = 1
FRAME_HEADER = struct.Struct("<4sIdII")
#: the stream's cadence in simulated seconds (the real system's terminal telemetry interval)
STREAM_INTERVAL_S = 15.0
#: most snapshots of history ``why`` replays for a rule that looks back (roaming)
WHY_HISTORY_MAX = 200_000


def num(x: float) -> float | None:
    """A JSON number, or null for NaN / infinity."""
    x = float(x)
    return x if math.isfinite(x) else None


def frame_bytes(e: Entry) -> bytes:
    """The binary frame of one snapshot state (see the module's docstring)."""
    isl = e.state.snapshot.isl
    head = FRAME_HEADER.pack(FRAME_MAGIC, FRAME_VERSION, e.t_s, len(e.sat_lat_deg), len(isl))
    cols = [
        np.asarray(e.sat_lat_deg, dtype="<f4"),
        np.asarray(e.sat_lon_deg, dtype="<f4"),
        np.asarray(e.sat_alt_km, dtype="<f4"),
        np.ascontiguousarray(isl[:, 0], dtype="<u4"),
        np.ascontiguousarray(isl[:, 1], dtype="<u4"),
    ]
    return head + b"".join(c.tobytes() for c in cols)


def decode_frame(data: bytes) -> dict[str, Any]:
    """The inverse of :func:`frame_bytes` (for tests and clients in Python)."""
    magic, version, t_s, n_sat, n_isl = FRAME_HEADER.unpack_from(data, 0)
    if magic != FRAME_MAGIC or version != FRAME_VERSION:
        raise ValueError(f"not a version-{FRAME_VERSION} leonet frame (magic {magic!r}, version {version})")
    off = FRAME_HEADER.size
    out: dict[str, Any] = {"t_s": t_s, "n_sat": n_sat, "n_isl": n_isl}
    for name, dt, n in (
        ("lat_deg", "<f4", n_sat),
        ("lon_deg", "<f4", n_sat),
        ("alt_km", "<f4", n_sat),
        ("isl_a", "<u4", n_isl),
        ("isl_b", "<u4", n_isl),
    ):
        out[name] = np.frombuffer(data, dtype=dt, count=n, offset=off)
        off += 4 * n
    if off != len(data):
        raise ValueError(f"frame is {len(data)} bytes; expected {off}")
    return out


TQ = Annotated[float | None, Query(description="simulated seconds after the scenario epoch; default: the clock")]
NQ = Annotated[str | None, Query(description="network name; default: the scenario's first")]


class ClockChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Literal["start", "pause", "set"]
    t_s: float | None = None
    speed: float | None = None


@dataclass
class SimContext:
    """What the simulation endpoints share: the snapshots, the clock and the decision log's sink."""

    snapshots: Snapshots
    clock: Clock
    log: Callable[[list[DecisionRecord]], None]


def _actor(principal: Any) -> str:
    for attr in ("name", "token_name", "id"):
        v = getattr(principal, attr, None)
        if v is not None:
            return str(v)
    return str(principal)


def decision_json(ts: TerminalStatus, n: int, revision: int) -> dict[str, Any]:
    return {
        "decision_id": ts.decision_id[n],
        "revision": revision,
        "outcome": ts.outcome[n],
        "rule": ts.rule[n],
        "reason": ts.reason[n],
    }


def _in_loop(dependency: Callable[..., Any]) -> Callable[..., Any]:
    """``dependency(request)`` (a plain function, e.g. ``leonet.server.auth.require(role)``) as a coroutine, so
    that FastAPI calls it in the event loop instead of a worker thread (it is a cached look-up)."""

    async def run(request: Request) -> Any:
        return dependency(request)

    return run


def router(ctx: SimContext, require: Callable[[str], Callable[..., Any]]) -> APIRouter:
    """The simulation endpoints, to be mounted under ``/api``; ``require(role)`` is the auth dependency."""
    api = APIRouter()
    snaps, clock = ctx.snapshots, ctx.clock
    viewer = Depends(_in_loop(require("viewer")))
    operator = Depends(_in_loop(require("operator")))

    # The handlers are coroutines: what is cached (a snapshot state, a route, a frame) is answered in the event
    # loop at once; what must be computed runs in a worker thread (the kernels release the GIL), so a query that
    # computes a new state does not hold up the ones answered from the cache.

    def at(t_s: float | None) -> float:
        return clock.now_t_s() if t_s is None else check_t_s(t_s)

    async def entry(network: str | None, t_s: float | None) -> Entry:
        m = snaps.model()
        net = m.network_index(network)
        t = at(t_s)
        if t_s is None and clock.state.running:  # the clock's next step, before anyone asks for it
            step = m.world.scenario.time.step_s
            snaps.prefetch(net, m.grid_t(t) + step * math.copysign(1.0, clock.state.speed), m)
        e = snaps.cached(net, t, m)
        if e is None:
            e = await anyio.to_thread.run_sync(snaps.entry, net, t, m)
        return e

    async def derived(
        e: Entry, key: Hashable, make: Callable[[], T], limit: int | None = None, inline: bool = False
    ) -> T:
        """A value derived from a state: cached, or made now (``inline``: in the loop, for what costs well under
        a millisecond, e.g. one shortest-path search; a thread hop costs more than that on a busy machine)."""
        hit = e.peek(key)
        if hit is not None:
            return hit  # type: ignore[no-any-return]
        if inline:
            return e.derived(key, make, limit)
        return await anyio.to_thread.run_sync(lambda: e.derived(key, make, limit))

    def json_bytes(body: Any) -> bytes:
        return json.dumps(body, separators=(",", ":")).encode()

    def json_response(data: bytes) -> Response:
        return Response(content=data, media_type="application/json")

    @api.get("/clock", dependencies=[viewer])
    async def get_clock() -> dict[str, Any]:
        return clock.as_json()

    @api.post("/clock")
    def post_clock(body: ClockChange, principal: Any = operator) -> dict[str, Any]:
        clock.change(body.action, actor=_actor(principal), t_s=body.t_s, speed=body.speed)
        return clock.as_json()

    @api.get("/networks", dependencies=[viewer])
    async def networks() -> list[dict[str, Any]]:
        w = snaps.model().world
        return [{"name": n.spec.name, "satellites": n.n_sats} for n in w.networks]

    @api.get("/frame", dependencies=[viewer], response_class=Response)
    async def frame(network: NQ = None, t_s: TQ = None) -> Response:
        e = await entry(network, t_s)
        data = await derived(e, "frame", lambda: frame_bytes(e), inline=True)
        return Response(content=data, media_type="application/octet-stream")

    @api.get("/constellation", dependencies=[viewer])
    async def constellation(network: NQ = None, t_s: TQ = None) -> Response:
        e = await entry(network, t_s)
        return json_response(await derived(e, "constellation", lambda: _constellation_json(e)))

    @api.get("/fault-state", dependencies=[viewer])
    async def fault_state(network: NQ = None, t_s: TQ = None) -> Response:
        e = await entry(network, t_s)
        return json_response(await derived(e, "fault-state", lambda: json_bytes(_fault_state(e))))

    @api.get("/terminals", dependencies=[viewer])
    async def terminals(network: NQ = None, t_s: TQ = None) -> Response:
        e = await entry(network, t_s)

        def make() -> bytes:
            ts = snaps.terminals(e)
            return json_bytes([_terminal_json(e, ts, n) for n in range(len(ts.kit_id))])

        return json_response(await derived(e, "terminals.json", make))

    @api.get("/terminals/{kit_id}/why", dependencies=[viewer])
    async def terminal_why(kit_id: str, network: NQ = None, t_s: TQ = None) -> Response:
        e = await entry(network, t_s)

        def make() -> bytes:
            ts = snaps.terminals(e)
            n = ts.index(kit_id)
            return json_bytes({"t_s": e.t_s, "decision": decision_json(ts, n, e.model.revision), "chain": _chain(e, n)})

        return json_response(await derived(e, ("why", kit_id), make, limit=4096))

    @api.get("/route", dependencies=[viewer])
    async def route(src: str, dst: str, network: NQ = None, t_s: TQ = None) -> Response:
        e = await entry(network, t_s)
        g = e.model.world.ground
        a, b = g.index(src, "src"), g.index(dst, "dst")
        if a == b:
            raise InputError("dst", f"{g.names[b]!r} is also the source; expected two different ground points")
        needs_terminals = e.peek("terminals") is None and bool(np.isin([a, b], e.model.world.terminals).any())
        make = lambda: json_bytes(_route(e, a, b))  # noqa: E731
        return json_response(await derived(e, ("route", a, b), make, limit=4096, inline=not needs_terminals))

    @api.get("/stream", dependencies=[viewer])
    async def stream(request: Request, network: NQ = None) -> StreamingResponse:
        m = snaps.model()
        net = m.network_index(network)
        return StreamingResponse(
            _events(request, net), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
        )

    # --- helpers over the closure -----------------------------------------------------------------------

    def _constellation_json(e: Entry) -> bytes:
        w = e.model.world
        net = w.networks[e.net_index]
        snap = e.state.snapshot
        gs = e.state.ground
        names = net.constellation.sat_names
        fm = e.state.faults
        failed = [False] * net.n_sats if fm is None else fm.sats[0].tolist()
        fs = w.faults_of(e.net_index)
        down = [False] * w.ground.size if fs is None else fs.ground_node_down([e.t_s])[0].tolist()
        sats = [
            {"index": i, "name": names[i], "lat_deg": num(la), "lon_deg": num(lo), "alt_km": num(al), "failed": f}
            for i, (la, lo, al, f) in enumerate(
                zip(e.sat_lat_deg.tolist(), e.sat_lon_deg.tolist(), e.sat_alt_km.tolist(), failed, strict=True)
            )
        ]
        ground = [
            {
                "name": w.ground.names[i],
                "kind": w.ground.kind[i],
                "lat_deg": num(gs.lat_deg[0, i]),
                "lon_deg": num(gs.lon_deg[0, i]),
                "down": down[i],
            }
            for i in range(w.ground.size)
        ]
        body = {
            "t_s": e.t_s,
            "satellites": sats,
            "isls": snap.isl.tolist(),
            "ground": ground,
            "gsls": np.stack([snap.gsl.ground, snap.gsl.sat], axis=1).tolist() if len(snap.gsl.ground) else [],
        }
        return json.dumps(body, separators=(",", ":")).encode()

    def _fault_state(e: Entry) -> dict[str, Any]:
        """What the faults do at the entry's (grid) time on its network: the active faults, the failed
        satellites and laser links, the ground sites down and the active jamming zones with the terminals in
        each (``blocked``: no ground link left)."""
        w = e.model.world
        net = w.networks[e.net_index]
        body: dict[str, Any] = {
            "t_s": e.t_s,
            "network": net.spec.name,
            "active": [],
            "satellites": [],
            "isls": [],
            "ground": [],
            "jamming": [],
        }
        fs = w.faults_of(e.net_index)
        if fs is None or fs.empty:
            return body
        t = np.array([e.t_s])
        act = fs.active(t)[0]
        specs = w.scenario.faults
        body["active"] = [{"name": fs.names[j], "kind": fs.kinds[j]} for j in np.flatnonzero(act).tolist()]
        sats = np.flatnonzero(fs.failed_sats(t)[0])
        names = net.constellation.sat_names
        body["satellites"] = [{"index": int(i), "name": names[i]} for i in sats.tolist()]
        isl_down = fs.failed_isls(t, net.isl)[0]
        body["isls"] = net.isl[isl_down].tolist()
        nodes = {w.ground.names[i] for i in np.flatnonzero(fs.ground_node_down(t)[0]).tolist()}
        body["ground"] = sorted(nodes | fs.names_down(e.t_s))
        terms = w.terminals
        gs = e.state.ground
        jam = fs.jammed(t, gs.lat_deg[:, terms], gs.lon_deg[:, terms])
        term_names = np.array([w.ground.names[i] for i in terms], dtype=object)
        for j in fs.jam_faults.tolist():
            if not act[j]:
                continue
            spec = specs[j]
            inside = jam.fault[0] == j
            body["jamming"].append(
                {
                    "name": fs.names[j],
                    "polygon": None if getattr(spec, "polygon", None) is None else [list(p) for p in spec.polygon],
                    "region": getattr(spec, "region", None),
                    "capacity_fraction": float(getattr(spec, "capacity_fraction", 0.0)),
                    "start_s": spec.start_s,
                    "end_s": spec.end_s,
                    "terminals": term_names[inside].tolist(),
                    "blocked": term_names[inside & jam.blocked[0]].tolist(),
                }
            )
        return body

    def _terminal_json(e: Entry, ts: TerminalStatus, n: int) -> dict[str, Any]:
        reg = _registry(e)
        row = reg.get(ts.kit_id[n])
        return {
            "kit_id": ts.kit_id[n],
            "account": None if row is None else row.account,
            "service_class": None if row is None else row.service_class,
            "registered_country": None if row is None else row.registered_country,
            "status": "unregistered" if row is None else row.status,
            "lat_deg": num(ts.lat_deg[n]),
            "lon_deg": num(ts.lon_deg[n]),
            "decision": decision_json(ts, n, e.model.revision),
            "satellite": None if ts.satellite[n] < 0 else int(ts.satellite[n]),
            "rtt_ms": num(ts.rtt_ms[n]),
        }

    def _registry(e: Entry) -> dict[str, Any]:
        p = e.model.world.policy
        return e.derived("registry", lambda: {} if p is None else {t.id: t for t in p.config.terminals})

    def _chain(e: Entry, n: int) -> list[dict[str, Any]]:
        w = e.model.world
        if w.policy is None:
            return []
        g = int(w.terminals[n])
        tm = w.scenario.time
        if looks_back(w.policy) and e.t_s > tm.start_s:
            k = round((e.t_s - tm.start_s) / tm.step_s)
            k0 = max(0, k - WHY_HISTORY_MAX)
            hist = tm.start_s + tm.step_s * np.arange(k0, k + 1, dtype=np.float64)
        else:
            hist = np.array([e.t_s])
        lat, lon, alt, speed = w.ground.geodetic_at(hist)
        steps = why(w.policy, w.ground.names[g], hist, w.scenario.epoch, lat[:, g], lon[:, g], alt[:, g], speed[:, g])
        return [{"rule": s.rule_id, "result": s.outcome, "reason": s.reason} for s in steps]

    def _route(e: Entry, a: int, b: int) -> dict[str, Any]:
        w = e.model.world
        net = w.networks[e.net_index]
        S = net.n_sats
        routes = shortest_routes(e.state.snapshot.graph, np.array([a], dtype=np.int64), np.array([b], dtype=np.int64))
        one_way = float(routes.delay_ms[0])
        reachable = math.isfinite(one_way)
        gs = e.state.ground
        hops: list[dict[str, Any]] = []
        for node in routes.path[0][routes.path[0] >= 0].tolist() if reachable else []:
            if node < S:
                hops.append(
                    {
                        "kind": "satellite",
                        "name": net.constellation.sat_names[node],
                        "index": node,
                        "lat_deg": num(e.sat_lat_deg[node]),
                        "lon_deg": num(e.sat_lon_deg[node]),
                        "alt_km": num(e.sat_alt_km[node]),
                    }
                )
            else:
                i = node - S
                hops.append(
                    {
                        "kind": "ground",
                        "name": w.ground.names[i],
                        "index": i,
                        "lat_deg": num(gs.lat_deg[0, i]),
                        "lon_deg": num(gs.lon_deg[0, i]),
                        "alt_km": num(gs.alt_m[0, i] / 1000.0),
                    }
                )
        decisions: list[dict[str, Any]] = []
        denied: dict[str, Any] | None = None
        pos = {int(g): n for n, g in enumerate(w.terminals.tolist())}
        if a in pos or b in pos:
            ts = snaps.terminals(e)
            for g in (a, b):
                if g in pos:
                    d = {"kit_id": w.ground.names[g], **decision_json(ts, pos[g], e.model.revision)}
                    if d["outcome"] == "denied":
                        d["chain"] = _chain(e, pos[g])
                        denied = denied or d
                    decisions.append(d)
        if reachable:
            outcome, rule, reason = "served", None, f"routed, {2 * one_way:.3f} ms round trip"
        elif denied is not None:
            outcome, rule, reason = "denied", denied["rule"], f"{denied['kit_id']} is denied: {denied['reason']}"
        else:
            outcome, rule, reason = "no-coverage", None, "no path over the network's links at this time"
        rec = DecisionRecord(
            _uuid(),
            utc_now(),
            e.t_s,
            e.model.revision,
            f"{w.ground.names[a]}->{w.ground.names[b]}",
            outcome,
            rule,
            reason,
        )
        ctx.log([rec])
        return {
            "t_s": e.t_s,
            "network": net.spec.name,
            "src": w.ground.names[a],
            "dst": w.ground.names[b],
            "reachable": reachable,
            "rtt_ms": num(2 * one_way),
            "hops": hops,
            "decision": {
                "decision_id": rec.decision_id,
                "revision": rec.revision,
                "outcome": outcome,
                "rule": rule,
                "reason": reason,
            },
            "decisions": decisions,
        }

    async def _events(request: Request, net: int) -> AsyncIterator[bytes]:
        """``status`` events at every multiple of the interval of simulated time the clock passes: the first at
        once (the multiple at or before now), then one per multiple, paced by the clock's speed; when the clock
        falls more than 8 intervals behind (very fast clock, slow client) it skips to the latest multiple."""
        last: float | None = None
        while True:
            if await request.is_disconnected():
                return
            now = clock.now_t_s()
            due = math.floor(now / STREAM_INTERVAL_S) * STREAM_INTERVAL_S
            if last is not None and due <= last:
                # not yet: sleep until the next multiple (re-checked at least every 0.5 s: pause / set / speed)
                st = clock.state
                wait = 0.5 if not st.running else min(0.5, (last + STREAM_INTERVAL_S - now) / st.speed)
                await asyncio.sleep(max(wait, 0.001))
                continue
            if last is not None and due - last <= 8 * STREAM_INTERVAL_S and due > last:
                t = last + STREAM_INTERVAL_S
            else:
                t = due
            payload = await anyio.to_thread.run_sync(_status_event, net, t)
            last = t
            yield payload

    def _status_event(net: int, t: float) -> bytes:
        m = snaps.model()
        e = snaps.entry(net, t, m)
        ts = snaps.terminals(e)
        body = {
            "t_s": t,
            "snapshot_t_s": e.t_s,
            "revision": m.revision,
            "terminals": [
                {
                    "kit_id": ts.kit_id[n],
                    "outcome": ts.outcome[n],
                    "rule": ts.rule[n],
                    "decision_id": ts.decision_id[n],
                    "satellite": None if ts.satellite[n] < 0 else int(ts.satellite[n]),
                    "rtt_ms": num(ts.rtt_ms[n]),
                }
                for n in range(len(ts.kit_id))
            ],
        }
        return f"event: status\nid: {t:.3f}\ndata: {json.dumps(body, separators=(',', ':'))}\n\n".encode()

    return api


def _uuid() -> str:
    import uuid

    return str(uuid.uuid4())
