"""THROWAWAY DEVELOPMENT STUB -- not leonet's server, not used by any test or by `leonet serve`.

It serves the page's HTTP contract (docs/service.md) well enough to develop the page before the real server
existed: the frame is real (leonet.step.state_at), decisions are the scenario's own at that time, but the
route is a straight three-hop fake and "apply" of a draft only drops the denials of the geofences the draft
removed.  Run:  .venv/bin/python web/dev/stub_server.py front-whitelist-2026 8000   then  cd web && npm run dev
"""

from __future__ import annotations

import copy
import json
import math
import struct
import sys
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np

from leonet.assembly import assemble
from leonet.scenario import load_scenario
from leonet.step import state_at

TOKEN = "dev"
STATIC = Path(__file__).resolve().parents[2] / "src" / "leonet" / "server" / "static"


class Sim:
    def __init__(self, name: str) -> None:
        self.scenario = load_scenario(name)
        self.world = assemble(self.scenario)
        self.t0 = 0.0
        self.anchor = time.time()
        self.running = True
        self.speed = 10.0
        self.revision = 1
        self.policy = json.loads(json.dumps(self.scenario.model_dump(mode="json")["policy"] or {}))
        self.drafts: dict[str, dict] = {}
        self.removed: set[str] = set()

    def now(self) -> float:
        return self.t0 + ((time.time() - self.anchor) * self.speed if self.running else 0.0)

    def clock(self) -> dict:
        t = self.now()
        utc = self.scenario.epoch.timestamp() + t
        return {"t_s": t, "utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(utc)), "running": self.running,
                "speed": self.speed}

    def latlon(self, r):
        x, y, z = r[..., 0], r[..., 1], r[..., 2]
        rr = np.sqrt(x * x + y * y + z * z)
        return np.degrees(np.arcsin(z / rr)), np.degrees(np.arctan2(y, x)), rr - 6371.0

    def frame(self, t: float) -> bytes:
        st = state_at(self.world, 0, t)
        lat, lon, alt = self.latlon(st.sat_r_km)
        isl = st.snapshot.isl
        head = b"LNF1" + struct.pack("<Id II", 1, t, len(lat), len(isl))
        return head + b"".join(
            a.astype("<f4").tobytes() for a in (lat, lon, alt)
        ) + isl[:, 0].astype("<u4").tobytes() + isl[:, 1].astype("<u4").tobytes()

    def terminals(self, t: float) -> list[dict]:
        st = state_at(self.world, 0, t)
        g = self.world.ground
        d = st.decisions
        out = []
        for i, name in enumerate(g.names):
            if g.kind[i] != "terminal":
                continue
            outcome, rule, reason = "served", None, "served"
            if d is not None and name in list(d.terminal_ids):
                n = list(d.terminal_ids).index(name)
                if not d.served[0, n]:
                    rule = d.rule_ids[d.rule[0, n]]
                    if rule not in self.removed:
                        outcome, reason = "denied", d.reason(0, n)
                    else:
                        rule = None
            out.append({"kit_id": name, "account": "?", "service_class": "?", "registered_country": "?",
                        "status": "active", "lat_deg": float(g.lat_deg[i]), "lon_deg": float(g.lon_deg[i]),
                        "decision": {"decision_id": str(uuid.uuid4()), "revision": self.revision,
                                     "outcome": outcome, "rule": rule, "reason": reason},
                        "satellite": None, "rtt_ms": None})
        return out


class Handler(BaseHTTPRequestHandler):
    sim: Sim

    def send(self, code: int, body: object, ctype: str = "application/json") -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self) -> dict:
        n = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(n) or b"{}")

    def authed(self) -> bool:
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self.send(401, {"detail": "missing or invalid token"})
            return False
        return True

    def do_GET(self) -> None:  # noqa: N802
        u = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        s = self.sim
        if not u.path.startswith("/api/"):
            p = STATIC / (u.path.lstrip("/") or "index.html")
            if p.is_file():
                ctype = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}.get(p.suffix, "application/json")
                return self.send(200, p.read_bytes(), ctype)
            return self.send(404, {"detail": "not found"})
        if u.path == "/api/stream":
            return self.send(404, {"detail": "no stream in the stub"})
        if not self.authed():
            return None
        t = float(q["t_s"]) if "t_s" in q else s.now()
        if u.path == "/api/clock":
            return self.send(200, s.clock())
        if u.path == "/api/networks":
            return self.send(200, [{"name": n.spec.name, "satellites": n.n_sats} for n in s.world.networks])
        if u.path == "/api/frame":
            return self.send(200, s.frame(t), "application/octet-stream")
        if u.path == "/api/constellation":
            g = s.world.ground
            return self.send(200, {"t_s": t, "satellites": [], "isls": [], "gsls": [],
                                   "ground": [{"name": n, "kind": g.kind[i], "lat_deg": float(g.lat_deg[i]),
                                               "lon_deg": float(g.lon_deg[i])} for i, n in enumerate(g.names)]})
        if u.path == "/api/terminals":
            return self.send(200, s.terminals(t))
        if u.path.startswith("/api/terminals/") and u.path.endswith("/why"):
            kit = u.path.split("/")[3]
            row = next(r for r in s.terminals(t) if r["kit_id"] == kit)
            return self.send(200, {"decision": row["decision"], "chain": [
                {"rule": row["decision"]["rule"] or "default", "result": row["decision"]["outcome"],
                 "reason": row["decision"]["reason"]}]})
        if u.path == "/api/route":
            g = s.world.ground
            names = list(g.names)
            a, b = names.index(q["src"]), names.index(q["dst"])
            hops = [{"kind": "ground", "name": q["src"], "lat_deg": float(g.lat_deg[a]), "lon_deg": float(g.lon_deg[a]), "alt_km": 0},
                    {"kind": "satellite", "name": "fake", "lat_deg": float((g.lat_deg[a] + g.lat_deg[b]) / 2),
                     "lon_deg": float((g.lon_deg[a] + g.lon_deg[b]) / 2), "alt_km": 550},
                    {"kind": "ground", "name": q["dst"], "lat_deg": float(g.lat_deg[b]), "lon_deg": float(g.lon_deg[b]), "alt_km": 0}]
            return self.send(200, {"reachable": True, "rtt_ms": 2 * 2 * math.hypot(550, 111 * 10) / 299792.458 * 1000 + t * 1e-6,
                                   "hops": hops, "decisions": []})
        if u.path == "/api/policy":
            return self.send(200, {"revision": s.revision, "policy": s.policy})
        if u.path == "/api/geofences":
            pol = s.drafts[q["draft"]] if "draft" in q else s.policy
            feats = [{"type": "Feature", "geometry": g.get("geometry"),
                      "properties": {"id": g["id"], "action": g["action"], "priority": g.get("priority", 0),
                                     "countries": g.get("countries"), "active_from": g.get("active_from"),
                                     "active_until": g.get("active_until"), "in_force": True}}
                     for g in pol.get("geofences", [])]
            return self.send(200, {"type": "FeatureCollection", "features": feats})
        return self.send(404, {"detail": f"stub: no {u.path}"})

    def do_POST(self) -> None:  # noqa: N802
        u = urlparse(self.path)
        s = self.sim
        if not self.authed():
            return None
        b = self.body()
        if u.path == "/api/clock":
            t = s.now()
            if b["action"] == "start":
                s.t0, s.anchor, s.running = t, time.time(), True
            elif b["action"] == "pause":
                s.t0, s.running = t, False
            else:
                s.t0, s.anchor = float(b.get("t_s", t)), time.time()
                s.speed = float(b.get("speed", s.speed))
            return self.send(200, s.clock())
        if u.path == "/api/policy/drafts":
            did = uuid.uuid4().hex[:8]
            s.drafts[did] = copy.deepcopy(s.policy)
            return self.send(200, {"draft_id": did, "policy": s.drafts[did]})
        parts = u.path.split("/")
        if u.path.endswith("/preview"):
            d = s.drafts[parts[4]]
            gone = {g["id"] for g in s.policy.get("geofences", [])} - {g["id"] for g in d.get("geofences", [])}
            ch = [{"kit_id": r["kit_id"], "t_s": s.now(), "before": "denied", "after": "served", "rule": r["decision"]["rule"],
                   "country": "UA"} for r in s.terminals(s.now()) if r["decision"]["rule"] in gone]
            return self.send(200, {"changes": ch, "summary": [{"country": "UA", "rule": g, "went_dark": 0,
                                                              "came_back": len(ch)} for g in gone]})
        if u.path.endswith("/apply"):
            d = s.drafts.pop(parts[4])
            s.removed |= {g["id"] for g in s.policy.get("geofences", [])} - {g["id"] for g in d.get("geofences", [])}
            s.policy = d
            s.revision += 1
            return self.send(200, {"revision": s.revision})
        return self.send(404, {"detail": f"stub: no {u.path}"})

    def do_PUT(self) -> None:  # noqa: N802
        if not self.authed():
            return None
        did = self.path.split("/")[4]
        self.sim.drafts[did] = self.body()["policy"]
        return self.send(200, {"draft_id": did, "policy": self.sim.drafts[did]})


if __name__ == "__main__":
    Handler.sim = Sim(sys.argv[1] if len(sys.argv) > 1 else "front-whitelist-2026")
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 8000
    print(f"stub on http://127.0.0.1:{port}/#token={TOKEN}", flush=True)
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
