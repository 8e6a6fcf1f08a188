"""leonet serve, the simulation side (server/api_sim.py, snapshots.py, clock.py, app.py) over an in-memory store
(tests/serve_support.py) and a token table: every endpoint for every role, the frame decoded and compared with
``step.state_at``, the clock's arithmetic, routes against networkx, decisions in the log, the policy revision
recompiled without reassembling the constellation, the status stream's cadence, limits, CORS and logs.

References: the frame and JSON are compared with the core's own state (``state_at``; the core's positions are
checked against skyfield / sgp4 in test_orbits.py); routes against networkx 3.5 ``dijkstra_path_length`` over
the same snapshot's links (Dijkstra 1959), with only the two end points on the ground (no ground transit);
the expected decisions of crimea-2022 from its file (BOAT-1 inside the Crimea geofence at t = 15000 s, as
``leonet policy why BOAT-1 --at 15000 crimea-2022`` prints; the Kyiv terminals outside every fence).
"""

from __future__ import annotations

import json
import logging
import math
import time

import networkx as nx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from leonet import assembly
from leonet.constants import C_KM_S
from leonet.geodesy import ecef_to_geodetic
from leonet.policy import why
from leonet.scenario import load_scenario, parse_scenario
from leonet.server import clock as clk
from leonet.server.api_sim import FRAME_HEADER, decode_frame
from leonet.server.app import create_app
from leonet.server.store_protocol import ClockState
from leonet.step import decide, state_at
from serve_support import MemoryStore, hdr, require

T_DENIED = 15000.0  # BOAT-1 is in Crimea then (the scenario file's comment; `leonet policy why` example)


@pytest.fixture(scope="module")
def crimea() -> tuple[MemoryStore, TestClient]:
    store = MemoryStore(load_scenario("crimea-2022"))
    app = create_app(store, require=require, control=False)
    with TestClient(app) as client:
        yield store, client


@pytest.fixture(scope="module")
def world() -> assembly.World:
    return assembly.assemble(load_scenario("crimea-2022").model_copy(update={"pairs": "none"}))


def get(client: TestClient, url: str, token: str = "tv") -> object:
    r = client.get(url, headers=hdr(token))
    assert r.status_code == 200, r.text
    return r.json()


# ------------------------------------------------------------------------------------------------- the frame


@pytest.mark.parametrize("t_s", [0.0, 15000.0, 15029.0, 21600.0 + 10 * 86400.0 + 17.0, -3600.0])
def test_frame_equals_state_at(crimea: tuple[MemoryStore, TestClient], world: assembly.World, t_s: float) -> None:
    """Header fields, sizes, positions (float32 of the core's geodetic positions) and ISLs equal the core's state
    at the grid time (nearest multiple of the 60 s step), inside the window, after it (10 days) and before it."""
    _, client = crimea
    r = client.get(f"/api/frame?t_s={t_s}", headers=hdr("tv"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/octet-stream"
    data = r.content
    magic, version, t_head, n_sat, n_isl = FRAME_HEADER.unpack_from(data, 0)
    assert (magic, version) == (b"LNF1", 1)
    grid = 60.0 * round(t_s / 60.0)
    assert t_head == grid
    st = state_at(world, 0, grid)
    assert n_sat == world.networks[0].n_sats == 1584
    assert n_isl == len(st.snapshot.isl) > 0
    assert len(data) == 24 + 12 * n_sat + 8 * n_isl
    f = decode_frame(data)
    lat, lon, alt_m = ecef_to_geodetic(st.sat_r_km)
    np.testing.assert_array_equal(f["lat_deg"], lat.astype(np.float32))
    np.testing.assert_array_equal(f["lon_deg"], lon.astype(np.float32))
    np.testing.assert_array_equal(f["alt_km"], (alt_m / 1000.0).astype(np.float32))
    np.testing.assert_array_equal(f["isl_a"], st.snapshot.isl[:, 0])
    np.testing.assert_array_equal(f["isl_b"], st.snapshot.isl[:, 1])
    assert np.all((f["alt_km"] > 500) & (f["alt_km"] < 600))  # the 550 km shell, even 10 days on


def test_frame_default_time_is_the_clock(crimea: tuple[MemoryStore, TestClient]) -> None:
    _, client = crimea
    client.post("/api/clock", json={"action": "set", "t_s": 1200.0}, headers=hdr("to"))
    client.post("/api/clock", json={"action": "pause"}, headers=hdr("to"))
    assert decode_frame(client.get("/api/frame", headers=hdr("tv")).content)["t_s"] == 1200.0


def test_decode_frame_refuses_garbage() -> None:
    with pytest.raises(ValueError, match="not a version-1"):
        decode_frame(b"XXXX" + bytes(20))


def test_constellation_json_matches_frame(crimea: tuple[MemoryStore, TestClient], world: assembly.World) -> None:
    _, client = crimea
    c = get(client, f"/api/constellation?t_s={T_DENIED}")
    assert isinstance(c, dict)
    f = decode_frame(client.get(f"/api/frame?t_s={T_DENIED}", headers=hdr("tv")).content)
    assert c["t_s"] == f["t_s"] == T_DENIED
    lat = np.array([s["lat_deg"] for s in c["satellites"]])
    np.testing.assert_allclose(lat, f["lat_deg"], atol=1e-5)
    assert [s["index"] for s in c["satellites"]] == list(range(f["n_sat"]))
    assert c["isls"] == np.stack([f["isl_a"], f["isl_b"]], axis=1).tolist()
    st = state_at(world, 0, T_DENIED)
    assert [g["name"] for g in c["ground"]] == list(world.ground.names)
    assert c["gsls"] == np.stack([st.snapshot.gsl.ground, st.snapshot.gsl.sat], axis=1).tolist()
    boat = world.ground.names.index("BOAT-1")
    assert all(g != boat for g, _ in c["gsls"])  # denied: no ground link


def test_networks(crimea: tuple[MemoryStore, TestClient]) -> None:
    assert get(crimea[1], "/api/networks") == [{"name": "starlink-550", "satellites": 1584}]


def test_unknown_network_is_one_line_422(crimea: tuple[MemoryStore, TestClient]) -> None:
    r = crimea[1].get("/api/frame?network=nope", headers=hdr("tv"))
    assert r.status_code == 422
    assert r.json() == {"detail": "network: no network 'nope'; expected one of starlink-550"}
    r = crimea[1].get("/api/frame?t_s=nan", headers=hdr("tv"))
    assert r.status_code == 422 and "expected a finite number" in r.json()["detail"]


# ------------------------------------------------------------------------------------------------- the clock


def test_clock_arithmetic() -> None:
    s0 = ClockState(100.0, 1000.0, 1.0, False)
    assert clk.now_t_s(s0, 5000.0) == 100.0  # paused: frozen
    s1 = clk.apply(s0, "start", 1010.0)
    assert (s1.t_s, s1.anchor_unix_s, s1.running) == (100.0, 1010.0, True)
    assert clk.now_t_s(s1, 1012.5) == 102.5
    s2 = clk.apply(s1, "start", 1020.0, speed=60.0)  # re-anchored at the change: 110 s, then 60x
    assert (s2.t_s, s2.speed) == (110.0, 60.0)
    assert clk.now_t_s(s2, 1021.0) == 170.0
    s3 = clk.apply(s2, "pause", 1022.0)
    assert (s3.t_s, s3.running) == (230.0, False)
    assert clk.now_t_s(s3, 9999.0) == 230.0
    s4 = clk.apply(s3, "set", 1030.0, t_s=-50.0)
    assert (s4.t_s, s4.running, s4.speed) == (-50.0, False, 60.0)
    s5 = clk.apply(clk.apply(s4, "start", 1030.0), "set", 1040.0, t_s=1e6)  # set while running keeps running
    assert s5.running and clk.now_t_s(s5, 1041.0) == 1e6 + 60.0
    for bad in (0.0, -1.0, math.inf, math.nan, clk.MAX_SPEED * 2):
        with pytest.raises(clk.InputError, match="speed"):
            clk.apply(s0, "start", 0.0, speed=bad)
    with pytest.raises(clk.InputError, match="t_s: missing"):
        clk.apply(s0, "set", 0.0)
    with pytest.raises(clk.InputError, match="only with action 'set'"):
        clk.apply(s0, "pause", 0.0, t_s=5.0)


def test_clock_api_persists_through_the_store() -> None:
    wall = [1_000_000.0]
    store = MemoryStore(load_scenario("crimea-2022"))
    app = create_app(store, require=require, control=False, wall=lambda: wall[0])
    with TestClient(app) as client:
        c = get(client, "/api/clock")
        assert c == {"t_s": 0.0, "utc": "2022-09-22T00:00:00.000Z", "running": False, "speed": 1.0}
        r = client.post("/api/clock", json={"action": "start", "speed": 10}, headers=hdr("to"))
        assert r.status_code == 200
        wall[0] += 3.0
        c = get(client, "/api/clock")
        assert c["t_s"] == 30.0 and c["running"] is True and c["utc"] == "2022-09-22T00:00:30.000Z"
        assert client.post("/api/clock", json={"action": "pause"}, headers=hdr("to")).json()["t_s"] == 30.0
        assert store.clock_log[-1] == ("token-operator", ClockState(30.0, wall[0], 10.0, False))
        r = client.post("/api/clock", json={"action": "set"}, headers=hdr("to"))
        assert r.status_code == 422 and r.json()["detail"].startswith("t_s: missing")
        r = client.post("/api/clock", json={"action": "jump"}, headers=hdr("to"))
        assert r.status_code == 422
    # a new server over the same store goes on where the clock was
    app2 = create_app(store, require=require, control=False, wall=lambda: wall[0] + 100)
    with TestClient(app2) as client:
        assert get(client, "/api/clock")["t_s"] == 30.0


# ------------------------------------------------------------------------------------------------- terminals


def test_terminals_decisions(crimea: tuple[MemoryStore, TestClient], world: assembly.World) -> None:
    store, client = crimea
    rows = get(client, f"/api/terminals?t_s={T_DENIED}")
    assert isinstance(rows, list)
    by = {r["kit_id"]: r for r in rows}
    assert set(by) == {"BOAT-1", "KYIV-1", "KYIV-2"}
    boat = by["BOAT-1"]
    assert boat["decision"]["outcome"] == "denied" and boat["decision"]["rule"] == "crimea-2022"
    assert boat["satellite"] is None and boat["rtt_ms"] is None
    assert boat["status"] == "unregistered"  # crimea-2022 has no registry; unregistered terminals are served
    st = state_at(world, 0, T_DENIED)
    for kit in ("KYIV-1", "KYIV-2"):
        k = by[kit]
        assert k["decision"]["outcome"] == "served" and k["decision"]["rule"] is None
        g = world.ground.names.index(kit)
        links = st.snapshot.gsl.length_km[st.snapshot.gsl.ground == g]
        sats = st.snapshot.gsl.sat[st.snapshot.gsl.ground == g]
        assert k["satellite"] == int(sats[np.argmin(links)])  # the shortest ground link serves
        # RTT to the one station (Warsaw-PoP) over the network: at least the straight line there and back
        assert 2 * 690.0 / C_KM_S * 1e3 < k["rtt_ms"] < 60.0
        assert k["lat_deg"] == world.ground.lat_deg[g]
    for r in rows:
        d = r["decision"]
        assert d["revision"] == 1 and len(d["decision_id"]) == 36 and d["reason"]
    # the same question at the same snapshot is the same decision (id); all are in the log once
    again = {r["kit_id"]: r["decision"]["decision_id"] for r in get(client, f"/api/terminals?t_s={T_DENIED + 20}")}
    assert again == {k: v["decision"]["decision_id"] for k, v in by.items()}
    assert client.app.state.decision_log.flush()
    logged = {d.decision_id: d for d in store.decisions}
    for r in rows:
        rec = logged[r["decision"]["decision_id"]]
        assert (rec.subject, rec.outcome, rec.rule, rec.t_s, rec.revision) == (
            r["kit_id"], r["decision"]["outcome"], r["decision"]["rule"], T_DENIED, 1
        )  # fmt: skip


def test_why_is_the_policy_chain(crimea: tuple[MemoryStore, TestClient], world: assembly.World) -> None:
    _, client = crimea
    w = get(client, f"/api/terminals/BOAT-1/why?t_s={T_DENIED}")
    assert isinstance(w, dict)
    g = world.ground.names.index("BOAT-1")
    lat, lon, alt, speed = world.ground.geodetic_at(np.array([T_DENIED]))
    assert world.policy is not None
    steps = why(world.policy, "BOAT-1", [T_DENIED], world.scenario.epoch, lat[:, g], lon[:, g], alt[:, g], speed[:, g])
    assert w["chain"] == [{"rule": s.rule_id, "result": s.outcome, "reason": s.reason} for s in steps]
    assert w["chain"][-1]["result"] == "denied" and "crimea-2022" in w["chain"][-1]["reason"]
    assert w["decision"]["outcome"] == "denied"
    r = client.get("/api/terminals/NOPE/why", headers=hdr("tv"))
    assert r.status_code == 422 and r.json()["detail"].startswith("kit_id: no terminal 'NOPE'")


ROAMING = """
name = "roaming-test"
epoch = 2026-02-05T08:00:00Z
[time]
end_s = 3600
step_s = 30
[[networks]]
name = "n"
constellation = { preset = "starlink-550" }
[ground]
cities = 0
[[ground.stations]]
name = "KIT-PL-1"
lat_deg = 50.4501
lon_deg = 30.5234
kind = "terminal"
[[ground.stations]]
name = "Warsaw-PoP"
lat_deg = 52.23
lon_deg = 21.01
kind = "station"
[[policy.mobility]]
id = "plan-mobile"
service_class = "mobile"
roaming_days = 0.1
[[policy.terminals]]
id = "KIT-PL-1"
account = "a"
service_class = "mobile"
registered_country = "PL"
"""


def test_roaming_history_runs_past_the_window() -> None:
    """A terminal registered in Poland sits in Kyiv from the window's start; its plan allows 0.1 days (8,640 s)
    abroad.  Past the window's end (3,600 s) the server carries the stay on: served at 6,000 s, denied by the
    roaming limit at 9,000 s and 50,000 s, as one decisions pass over every snapshot from the start says."""
    sc = parse_scenario(ROAMING, "roaming.toml")
    store = MemoryStore(sc)
    app = create_app(store, require=require, control=False)
    w = assembly.assemble(sc)
    with TestClient(app) as client:
        for t, want in ((6000.0, "served"), (9000.0, "denied"), (50000.0, "denied"), (8640.0, "served")):
            row = get(client, f"/api/terminals?t_s={t}")[0]  # type: ignore[index]
            times = np.arange(0.0, t + 1.0, 30.0)
            d, _ = decide(w, times, None)
            assert d is not None
            oracle = "served" if d.served[-1, 0] else "denied"
            assert row["decision"]["outcome"] in (want, "no-coverage") and oracle == want, (t, row)
            if want == "denied":
                assert row["decision"]["rule"] == "plan-mobile"


# ------------------------------------------------------------------------------------------------- routes


def _networkx_rtt(world: assembly.World, t_s: float, a: int, b: int) -> float:
    """RTT between ground nodes a and b over the snapshot's ISLs and the ground links of a and b only."""
    st = state_at(world, 0, t_s)
    net, snap = world.networks[0], st.snapshot
    S = net.n_sats
    g = nx.Graph()
    for (u, v), km in zip(snap.isl.tolist(), snap.isl_km.tolist(), strict=True):
        g.add_edge(u, v, weight=km / C_KM_S * 1e3)
    for gi, s, km in zip(snap.gsl.ground.tolist(), snap.gsl.sat.tolist(), snap.gsl.length_km.tolist(), strict=True):
        if gi in (a, b):
            g.add_edge(S + gi, s, weight=km / C_KM_S * 1e3)
    return 2.0 * float(nx.dijkstra_path_length(g, S + a, S + b))


def test_route_against_networkx(crimea: tuple[MemoryStore, TestClient], world: assembly.World) -> None:
    store, client = crimea
    r = get(client, f"/api/route?src=KYIV-1&dst=Warsaw-PoP&t_s={T_DENIED}")
    assert isinstance(r, dict)
    a, b = world.ground.names.index("KYIV-1"), world.ground.names.index("Warsaw-PoP")
    assert r["reachable"] is True
    assert r["rtt_ms"] == pytest.approx(_networkx_rtt(world, T_DENIED, a, b), rel=1e-12)
    hops = r["hops"]
    assert hops[0]["name"] == "KYIV-1" and hops[-1]["name"] == "Warsaw-PoP"
    assert all(h["kind"] == "satellite" for h in hops[1:-1]) and len(hops) >= 3
    assert 500 < hops[1]["alt_km"] < 600
    assert r["decision"]["outcome"] == "served" and len(r["decisions"]) == 1
    assert r["decisions"][0]["kit_id"] == "KYIV-1"
    # names are read like the scenario's: case and a unique prefix
    assert get(client, f"/api/route?src=kyiv-1&dst=warsaw&t_s={T_DENIED}")["rtt_ms"] == r["rtt_ms"]  # type: ignore[index]
    assert client.app.state.decision_log.flush()
    assert any(
        d.decision_id == r["decision"]["decision_id"] and d.subject == "KYIV-1->Warsaw-PoP" for d in store.decisions
    )


def test_route_denied_has_the_chain(crimea: tuple[MemoryStore, TestClient]) -> None:
    r = get(crimea[1], f"/api/route?src=BOAT-1&dst=Warsaw-PoP&t_s={T_DENIED}")
    assert isinstance(r, dict)
    assert r["reachable"] is False and r["rtt_ms"] is None and r["hops"] == []
    assert r["decision"]["outcome"] == "denied" and r["decision"]["rule"] == "crimea-2022"
    d = r["decisions"][0]
    assert d["kit_id"] == "BOAT-1" and d["outcome"] == "denied"
    assert [s["rule"] for s in d["chain"]][-1] == "decision" and d["chain"][-1]["result"] == "denied"


def test_route_bad_names(crimea: tuple[MemoryStore, TestClient]) -> None:
    c = crimea[1]
    r = c.get("/api/route?src=Atlantis&dst=Warsaw-PoP", headers=hdr("tv"))
    assert r.status_code == 422 and r.json()["detail"].startswith("src: unknown ground node 'Atlantis'")
    r = c.get("/api/route?src=Warsaw-PoP&dst=Warsaw-PoP", headers=hdr("tv"))
    assert r.status_code == 422 and "also the source" in r.json()["detail"]
    assert c.get("/api/route?src=KYIV-1", headers=hdr("tv")).status_code == 422


# ------------------------------------------------------------------------------------------------- revisions


def test_new_revision_recompiles_the_policy_only() -> None:
    """A changed policy (both fences removed) is applied without reassembling the constellation; a changed
    ground section (a terminal moved to Sevastopol, the fences back) rebuilds the ground only."""
    sc = load_scenario("crimea-2022")
    store = MemoryStore(sc)
    app = create_app(store, require=require, control=False)
    with TestClient(app) as client:
        snaps = client.app.state.snapshots
        before = snaps.model()
        boat = {r["kit_id"]: r for r in get(client, f"/api/terminals?t_s={T_DENIED}")}["BOAT-1"]  # type: ignore[union-attr]
        assert boat["decision"]["rule"] == "crimea-2022"
        assert sc.policy is not None
        # a rule that changes no decision here (a speed cap far above the boat's speed): the state is carried
        # over with its links and graph as they were
        snap1 = snaps.entry(0, T_DENIED).state.snapshot
        store.apply(
            sc.model_copy(update={"policy": {**sc.policy, "speed_caps": [{"id": "cap", "max_speed_kmh": 900}]}})
        )
        snaps.invalidate()
        assert snaps.entry(0, T_DENIED).state.snapshot is snap1 and snaps.carried == 1
        assert snaps.model().revision == 2
        pol = dict(sc.policy)
        pol["geofences"] = []
        store.apply(sc.model_copy(update={"policy": pol}))
        snaps.invalidate()  # changed behind the server's back: read the revision now, not within REVISION_TTL_S
        boat = {r["kit_id"]: r for r in get(client, f"/api/terminals?t_s={T_DENIED}")}["BOAT-1"]  # type: ignore[union-attr]
        assert boat["decision"]["revision"] == 3
        assert boat["decision"]["outcome"] == "served"
        after = snaps.model()
        assert after.world.networks is before.world.networks and after.world.ground is before.world.ground
        assert snaps.rebuilds == {"policy": 2, "ground": 0, "all": 0}
        # the state cached under revision 2 was carried over (re-decided, links rebuilt: BOAT-1 may link now) and
        # equals the core's state under the new policy
        assert snaps.carried == 2
        fresh = state_at(after.world, 0, T_DENIED)
        got = snaps.entry(0, T_DENIED).state
        np.testing.assert_array_equal(got.allowed, fresh.allowed)
        np.testing.assert_array_equal(got.snapshot.gsl.ground, fresh.snapshot.gsl.ground)
        np.testing.assert_array_equal(got.snapshot.gsl.sat, fresh.snapshot.gsl.sat)
        np.testing.assert_array_equal(got.snapshot.graph.links.key, fresh.snapshot.graph.links.key)
        assert (fresh.snapshot.gsl.ground == after.world.ground.names.index("BOAT-1")).any()
        # move KYIV-2 to Sevastopol, the fences back
        stations = [s.model_copy(update={"lat_deg": 44.6, "lon_deg": 33.52}) if s.name == "KYIV-2" else s
                    for s in sc.ground.stations]  # fmt: skip
        ground = sc.ground.model_copy(update={"stations": stations})
        store.apply(sc.model_copy(update={"ground": ground}))
        snaps.invalidate()
        rows = {r["kit_id"]: r for r in get(client, f"/api/terminals?t_s={T_DENIED}")}  # type: ignore[union-attr]
        assert rows["KYIV-2"]["lat_deg"] == 44.6 and rows["KYIV-2"]["decision"]["outcome"] == "denied"
        assert snaps.model().world.networks is before.world.networks
        assert snaps.rebuilds == {"policy": 2, "ground": 1, "all": 0}


# ------------------------------------------------------------------------------------------------- the stream


def test_stream_every_15_simulated_seconds() -> None:
    store = MemoryStore(load_scenario("crimea-2022"))
    app = create_app(store, require=require, control=False)
    with TestClient(app) as client:
        client.post("/api/clock", json={"action": "set", "t_s": 14940.0}, headers=hdr("to"))
        client.post("/api/clock", json={"action": "start", "speed": 150.0}, headers=hdr("to"))  # 15 s per 0.1 s
        events: list[dict[str, object]] = []
        t0 = time.monotonic()
        with client.stream("GET", "/api/stream?token=tv") as r:
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
            kind = None
            for line in r.iter_lines():
                if line.startswith("event:"):
                    kind = line.split(":", 1)[1].strip()
                if line.startswith("data:"):
                    assert kind == "status"
                    events.append(json.loads(line[5:]))
                    if len(events) == 6:
                        break
        wall = time.monotonic() - t0
    ts = [float(e["t_s"]) for e in events]  # type: ignore[arg-type]
    assert all(t % 15.0 == 0 for t in ts)
    assert np.diff(ts).tolist() == [15.0] * 5
    assert wall > 4 * 15.0 / 150.0  # paced by the clock, not sent as fast as possible
    first = events[0]
    assert first["revision"] == 1
    kits = {t["kit_id"]: t for t in first["terminals"]}  # type: ignore[attr-defined,union-attr]
    assert set(kits) == {"BOAT-1", "KYIV-1", "KYIV-2"}
    assert {"outcome", "rule", "satellite", "rtt_ms"} <= set(kits["KYIV-1"])


def test_stream_needs_a_token(crimea: tuple[MemoryStore, TestClient]) -> None:
    assert crimea[1].get("/api/stream").status_code == 401
    assert crimea[1].get("/api/stream?token=wrong").status_code == 401


# ------------------------------------------------------------------------------------------------- roles


GETS = [
    "/api/clock",
    "/api/networks",
    f"/api/frame?t_s={T_DENIED}",
    f"/api/constellation?t_s={T_DENIED}",
    f"/api/fault-state?t_s={T_DENIED}",
    f"/api/terminals?t_s={T_DENIED}",
    f"/api/terminals/KYIV-1/why?t_s={T_DENIED}",
    f"/api/route?src=KYIV-1&dst=Warsaw-PoP&t_s={T_DENIED}",
]


@pytest.mark.parametrize("url", GETS)
def test_every_get_for_every_role(crimea: tuple[MemoryStore, TestClient], url: str) -> None:
    c = crimea[1]
    r = c.get(url)
    assert r.status_code == 401 and "detail" in r.json()
    assert c.get(url, headers=hdr("nope")).status_code == 401
    for tok in ("tv", "to", "ta"):
        assert c.get(url, headers=hdr(tok)).status_code == 200, (url, tok)


def test_clock_change_needs_operator(crimea: tuple[MemoryStore, TestClient]) -> None:
    c = crimea[1]
    body = {"action": "pause"}
    assert c.post("/api/clock", json=body).status_code == 401
    r = c.post("/api/clock", json=body, headers=hdr("tv"))
    assert r.status_code == 403 and "operator" in r.json()["detail"]
    assert c.post("/api/clock", json=body, headers=hdr("to")).status_code == 200
    assert c.post("/api/clock", json=body, headers=hdr("ta")).status_code == 200


def test_health_and_metrics_need_no_token(crimea: tuple[MemoryStore, TestClient]) -> None:
    c = crimea[1]
    h = c.get("/healthz")
    assert h.status_code == 200 and h.json()["status"] == "ok" and h.json()["scenario"] == "crimea-2022"
    c.get(f"/api/frame?t_s={T_DENIED}", headers=hdr("tv"))
    m = c.get("/metrics")
    assert m.status_code == 200 and m.headers["content-type"].startswith("text/plain")
    text = m.text
    assert 'leonet_http_requests_total{method="GET",route="/api/frame",status="200"}' in text
    assert "leonet_http_request_seconds_bucket" in text and "leonet_policy_revision 1.0" in text
    assert "leonet_snapshot_cache_hits" in text and "leonet_decisions_logged_total" in text


def test_openapi(crimea: tuple[MemoryStore, TestClient]) -> None:
    paths = crimea[1].get("/openapi.json").json()["paths"]
    assert {"/api/frame", "/api/route", "/api/stream", "/api/clock", "/healthz", "/metrics"} <= set(paths)


# ------------------------------------------------------------------------------------------------- limits


def test_request_size_limit(crimea: tuple[MemoryStore, TestClient]) -> None:
    c = crimea[1]
    big = b'{"action": "pause", "pad": "' + b"x" * (2 << 20) + b'"}'
    r = c.post("/api/clock", content=big, headers={**hdr("to"), "content-type": "application/json"})
    assert r.status_code == 413
    assert r.json() == {"detail": f"request body of {len(big)} bytes is larger than the limit of 1048576 bytes"}

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(40):
            yield b"x" * 65536

    r = c.post("/api/clock", content=chunks(), headers={**hdr("to"), "content-type": "application/json"})
    assert r.status_code == 413 and "larger than the limit" in r.json()["detail"]


def test_cors_is_off(crimea: tuple[MemoryStore, TestClient]) -> None:
    r = crimea[1].options(
        "/api/clock", headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "GET"}
    )
    assert "access-control-allow-origin" not in r.headers
    r = crimea[1].get("/api/clock", headers={**hdr("tv"), "Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in r.headers


def test_token_is_never_logged(crimea: tuple[MemoryStore, TestClient], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    c = crimea[1]
    secret = "tv"
    with c.stream("GET", f"/api/stream?token={secret}&network=starlink-550") as r:
        for line in r.iter_lines():
            if line.startswith("data:"):
                break
    c.get("/api/clock", headers=hdr(secret))
    access = [rec.getMessage() for rec in caplog.records if rec.name == "leonet.server.access"]
    assert any("/api/stream" in m for m in access) and any("/api/clock" in m for m in access)
    assert all("token" not in m for m in access)
