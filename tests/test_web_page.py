"""The page of `leonet serve`, in a real browser: Debian's Chromium (/usr/bin/chromium) driven by Playwright.

`leonet serve` runs as a subprocess on a free port with a temporary SQLite database and the built-in
``front-whitelist-2026`` scenario (a Ukraine whitelist-only geofence; unregistered terminals in Ukraine are
denied, registered ones served).  The page is loaded with the admin token in its URL fragment, as the URL
`leonet serve` prints.  What the page draws is read through ``window.leonet`` (read-only state: the frame's
t_s, a satellite's position, each terminal's outcome and drawn colour, the last route) and compared with the
API's own answers at the same simulated time; the terminal's colour is also read from the screenshot's pixels.

A second server runs a copy of ``front-jamming-2026`` with four more faults (5 % of the satellites failed, a
gateway that goes down at t = 60 s, a terminal's node down, a partial jamming zone over the built-in region
``crimea``) for the faults
the page draws: the failed satellites, the ground node down, the hatched jamming zones while their window is
open (and not after), and a preview whose ``jammed`` change names the fault.

The independent references: the API (`/api/frame`, `/api/route`, `/api/terminals`) decoded here in Python
with ``struct`` from the frame layout of docs/service.md, and the pixels of the rendered canvas.

Screenshots go to ``$LEONET_ARTIFACTS`` (default ``test-artifacts/``, gitignored).  Under CI (``CI`` set) a
missing Chromium or Playwright fails the tests instead of skipping them.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO_ROOT, missing
from leonet.constants import C_KM_S

CHROMIUM = Path("/usr/bin/chromium")
#: Headless Chromium with no network of its own, WebGL on SwiftShader (no GPU here)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
]
SCENARIO = "front-whitelist-2026"
FENCE = "ua-whitelist-2026"
#: unregistered, in occupied Donetsk: denied by the whitelist-only geofence, served without it
DARK_TERMINAL = "UNREG-DONETSK"
VIEWPORT = {"width": 1200, "height": 760}


def artifacts() -> Path:
    d = Path(os.environ.get("LEONET_ARTIFACTS", REPO_ROOT / "test-artifacts"))
    d.mkdir(parents=True, exist_ok=True)
    return d


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def leonet_exe() -> str:
    exe = Path(sys.executable).with_name("leonet")
    return str(exe) if exe.exists() else (shutil.which("leonet") or "leonet")


class Server:
    """`leonet serve` in a subprocess; the admin token is read from the URL it prints once."""

    def __init__(self, tmp: Path, scenario: str = SCENARIO) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        db = tmp / "serve.db"
        argv = [leonet_exe(), "serve", scenario, "--db", f"sqlite:///{db}", "--port", str(self.port)]
        self.log = tmp / "serve.log"
        self._log = self.log.open("wb")
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self._log, cwd=tmp)
        self.url = ""
        self.lines: list[str] = []
        found = threading.Event()

        def read() -> None:
            assert self.proc.stdout is not None
            for raw in self.proc.stdout:
                line = raw.decode(errors="replace").rstrip()
                self.lines.append(line)
                if "#token=" in line and not self.url:
                    self.url = line[line.index("http") :].split()[0]
                    found.set()

        threading.Thread(target=read, daemon=True).start()
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and not found.is_set():
            if self.proc.poll() is not None:
                break
            found.wait(0.5)
        if not self.url:
            self.stop()
            raise AssertionError(
                f"`{' '.join(argv)}` printed no #token= URL (exit {self.proc.returncode}); stdout {self.lines!r}; "
                f"stderr {self.log.read_text(errors='replace')[-2000:]!r}"
            )
        self.token = self.url.split("#token=", 1)[1]
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=5) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise AssertionError(f"/healthz did not answer within 180 s; stderr {self.log.read_text()[-2000:]!r}")

    def request(self, method: str, path: str, body: Any = None) -> bytes:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.base}{path}", data=data, method=method)
        req.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return bytes(r.read())
        except urllib.error.HTTPError as e:
            raise AssertionError(f"{method} {path}: {e.code} {e.read().decode(errors='replace')}") from None

    def get(self, path: str) -> Any:
        return json.loads(self.request("GET", path))

    def post(self, path: str, body: Any) -> Any:
        return json.loads(self.request("POST", path, body))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()


def decode_frame(data: bytes) -> dict[str, Any]:
    """The frame layout of docs/service.md, decoded independently of the page's decoder (web/src/api.js)."""
    magic, version, t_s, n_sat, n_isl = struct.unpack_from("<4sIdII", data, 0)
    assert magic == b"LNF1" and version == 1
    assert len(data) == 24 + 12 * n_sat + 8 * n_isl
    lat = struct.unpack_from(f"<{n_sat}f", data, 24)
    lon = struct.unpack_from(f"<{n_sat}f", data, 24 + 4 * n_sat)
    alt = struct.unpack_from(f"<{n_sat}f", data, 24 + 8 * n_sat)
    return {"t_s": t_s, "n_sat": n_sat, "n_isl": n_isl, "lat": lat, "lon": lon, "alt": alt}


@pytest.fixture(scope="module")
def playwright_api() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("playwright is not installed (a test tool: requirements/test.txt)")
    if not CHROMIUM.exists():
        missing(f"{CHROMIUM} not found (Debian's chromium; .ci/run installs it with apt-get)")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright_api: Any) -> Iterator[Any]:
    b = playwright_api.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    yield b
    b.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, playwright_api: Any) -> Iterator[Server]:
    s = Server(tmp_path_factory.mktemp("serve"))
    yield s
    s.stop()


class Page:
    """One loaded page, with every request it made and every error it raised."""

    def __init__(self, browser: Any, server: Server) -> None:
        self.page = browser.new_page(viewport=VIEWPORT)
        self.server = server
        # WebGL on SwiftShader on a shared 2-core machine draws a few frames a second: generous timeouts
        self.page.set_default_timeout(120_000)
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(server.url)
        self.page.wait_for_function("window.leonet && window.leonet.loaded", timeout=120_000)

    def js(self, expr: str, arg: Any = None) -> Any:
        return self.page.evaluate(expr, arg)

    def wait(self, expr: str, arg: Any = None, timeout_ms: int = 60_000) -> None:
        self.page.wait_for_function(expr, arg=arg, timeout=timeout_ms)

    def shot(self, name: str) -> Path:
        p = artifacts() / name
        self.page.screenshot(path=str(p))
        return p


@pytest.fixture(scope="module")
def page(browser: Any, server: Server) -> Iterator[Page]:
    # the clock runs fast enough that two ticks of the page (1 s apart) are different snapshots
    server.post("/api/clock", {"action": "start", "speed": 30.0})
    p = Page(browser, server)
    yield p
    p.page.close()


def test_the_token_leaves_the_address_bar_and_nothing_is_fetched_from_outside(page: Page, server: Server) -> None:
    assert "#token=" not in page.page.url
    assert page.js("sessionStorage.getItem('leonet.token')") == server.token
    outside = [u for u in page.requests if not u.startswith((server.base + "/", "data:", "blob:"))]
    assert outside == []
    # the token travels in a URL only to the stream (EventSource cannot send headers)
    in_url = [u for u in page.requests if server.token in u]
    assert all(u.startswith(f"{server.base}/api/stream?") for u in in_url), in_url
    assert page.errors == []


def test_satellites_move_between_two_clock_ticks(page: Page, server: Server) -> None:
    nets = server.get("/api/networks")
    assert page.js("leonet.satCount") == nets[0]["satellites"] > 1000
    # (the page draws a new frame every second: read its time and a position at once)
    t1, p1 = page.js("[leonet.frameT, leonet.satPosition(0)]")
    page.wait("t => leonet.frameT > t", t1)
    t2, p2 = page.js("[leonet.frameT, leonet.satPosition(0)]")
    assert t2 > t1
    # ~7.6 km/s at 550 km: a degree every ~15 s of simulated time (an equal position would mean no motion)
    assert (p1["lat_deg"], p1["lon_deg"]) != (p2["lat_deg"], p2["lon_deg"])
    # what the page holds is the API's frame at that time, to the float32 bit
    f = decode_frame(server.request("GET", f"/api/frame?network={nets[0]['name']}&t_s={t2}"))
    assert f["t_s"] == t2
    assert (p2["lat_deg"], p2["lon_deg"], p2["alt_km"]) == (f["lat"][0], f["lon"][0], f["alt"][0])
    assert page.js("leonet.islCount") == f["n_isl"] > 0


def test_route_between_two_pickers_shows_the_api_rtt(page: Page, server: Server) -> None:
    page.page.select_option("#route-src", "KIT-UA-0001")
    page.page.select_option("#route-dst", "Warsaw-PoP")
    page.page.click("#route-go")
    page.wait("() => leonet.route && leonet.route.src === 'KIT-UA-0001' && leonet.route.dst === 'Warsaw-PoP'")
    # the page re-asks the route every few seconds (it follows the clock): read the route and its text at once
    r, shown = page.js("[leonet.route, document.querySelector('#route-rtt').textContent]")
    api = server.get(f"/api/route?network=starlink-550&src=KIT-UA-0001&dst=Warsaw-PoP&t_s={r['t_s']}")
    assert r["reachable"] is api["reachable"] is True
    assert r["rtt_ms"] == api["rtt_ms"]
    assert r["hops"] == len(api["hops"]) >= 3
    # the shown text is that RTT
    assert shown == f"{api['rtt_ms']:.2f} ms"
    # a route between two points ~1,000 km apart: more than the straight line there and back at c
    assert 2 * 1000 / C_KM_S * 1000 < api["rtt_ms"] < 100


def colour_at(png: bytes, x: float, y: float, radius: int = 3) -> tuple[int, int, int]:
    """The mean colour of the pixels around (x, y) in a PNG screenshot (Pillow: a runtime dependency)."""
    import io

    from PIL import Image

    im = Image.open(io.BytesIO(png)).convert("RGB")
    px = [
        im.getpixel((int(x) + dx, int(y) + dy))
        for dx in range(-radius, radius + 1)
        for dy in range(-radius, radius + 1)
    ]
    return tuple(sum(p[i] for p in px) // len(px) for i in range(3))  # type: ignore[return-value]


def looks(rgb: tuple[int, int, int]) -> str:
    r, g, b = rgb
    if r > 150 and g < 110 and b < 110:
        return "red"
    if g > 150 and r < 120 and b < 150:
        return "green"
    return f"other {rgb}"


def terminal(page: Page, kit: str) -> dict[str, Any]:
    rows = [t for t in page.js("leonet.terminals()") if t["kit_id"] == kit]
    assert len(rows) == 1, page.js("leonet.terminals()")
    return rows[0]


def test_click_a_terminal_shows_why(page: Page, server: Server) -> None:
    page.js("leonet.view(48.0, 37.8, 0.6)")
    page.page.wait_for_timeout(500)
    at = page.js(f"leonet.screenOf('{DARK_TERMINAL}')")
    # hover first: globe.gl picks the object under the pointer in its render loop, the click then uses it
    page.page.mouse.move(at["x"] - 6, at["y"] - 6)
    page.page.mouse.move(at["x"], at["y"])
    page.page.wait_for_timeout(400)
    page.page.mouse.click(at["x"], at["y"])
    page.wait("() => document.querySelector('#why-outcome') !== null")
    text = page.page.inner_text("#why")
    t = page.js("leonet.frameT")
    api = server.get(f"/api/terminals/{DARK_TERMINAL}/why?network=starlink-550&t_s={t}")
    assert DARK_TERMINAL in text
    assert page.page.inner_text("#why-outcome") == api["decision"]["outcome"] == "denied"
    assert api["decision"]["rule"] and api["decision"]["rule"] in text
    # every step of the chain is a row of the panel's table
    rows = page.page.locator("#why-chain tr").count() - 1
    assert rows == len(api["chain"]) > 0


def test_overview_screenshot(page: Page) -> None:
    """The whole globe with the fence, a route and a terminal's why, for the README (docs/img/serve.png is a copy
    of this artefact)."""
    page.js("leonet.view(40, 25, 2.3)")
    page.page.wait_for_timeout(1200)
    p = page.shot("serve.png")
    assert p.stat().st_size > 50_000
    assert page.errors == []


def test_toggle_a_geofence_preview_apply_and_the_terminal_changes_colour(page: Page, server: Server) -> None:
    page.js("leonet.view(48.0, 37.8, 0.6)")
    page.page.wait_for_timeout(800)
    before = terminal(page, DARK_TERMINAL)
    assert before["outcome"] == "denied" and before["colour"] == page.js("leonet.colours.denied")
    at = page.js(f"leonet.screenOf('{DARK_TERMINAL}')")
    shot = page.page.screenshot()
    assert looks(colour_at(shot, at["x"], at["y"])) == "red"
    (artifacts() / "serve-before-apply.png").write_bytes(shot)
    rev0 = page.js("leonet.revision")

    # toggle: the fence leaves the draft (a draft is made on the first toggle)
    page.page.click(f"input[data-fence='{FENCE}']")
    page.wait("id => leonet.draftId !== null && leonet.fences().some(f => f.id === id && !f.present)", FENCE)
    assert not page.page.is_checked(f"input[data-fence='{FENCE}']")
    draft = server.get(f"/api/policy/drafts/{page.js('leonet.draftId')}")
    assert FENCE not in [g["id"] for g in draft["policy"].get("geofences", [])]
    assert FENCE in [g["id"] for g in server.get("/api/policy")["policy"]["geofences"]]  # not applied yet
    assert terminal(page, DARK_TERMINAL)["outcome"] == "denied"

    # preview: the list of changes names the terminal coming back
    page.page.click("#preview")
    page.wait("() => leonet.preview !== null", timeout_ms=120_000)
    prev = page.js("leonet.preview")
    back = [c for c in prev["changes"] if c["kit_id"] == DARK_TERMINAL]
    assert back and back[0]["before"] == "denied" and back[0]["after"] == "served", prev["changes"]
    assert page.page.locator("#preview-changes tr").count() - 1 == len(prev["changes"])

    # apply: a new revision; the terminal is now served, and drawn green
    page.page.click("#apply")
    page.wait("r => leonet.revision > r && leonet.draftId === null", rev0)
    rev1 = page.js("leonet.revision")
    assert page.js("leonet.fences()") == [{"id": FENCE, "present": False, "in_force": True}]
    assert server.get("/api/policy")["revision"] == rev1
    page.wait("k => leonet.terminals().some(t => t.kit_id === k && t.outcome === 'served')", DARK_TERMINAL)
    after = terminal(page, DARK_TERMINAL)
    assert after["colour"] == page.js("leonet.colours.served")
    api = {t["kit_id"]: t for t in server.get(f"/api/terminals?network=starlink-550&t_s={page.js('leonet.frameT')}")}
    assert api[DARK_TERMINAL]["decision"]["outcome"] == "served"
    assert api[DARK_TERMINAL]["decision"]["revision"] == rev1
    page.page.wait_for_timeout(800)
    at = page.js(f"leonet.screenOf('{DARK_TERMINAL}')")
    shot = page.page.screenshot()
    (artifacts() / "serve-after-apply.png").write_bytes(shot)
    assert looks(colour_at(shot, at["x"], at["y"])) == "green"


def test_put_the_geofence_back_and_the_terminal_goes_dark_again(page: Page, server: Server) -> None:
    """Ticking the removed fence makes a draft with it again; applied, the terminal is denied and drawn red."""
    rev1 = page.js("leonet.revision")
    assert not page.page.is_checked(f"input[data-fence='{FENCE}']")
    page.page.click(f"input[data-fence='{FENCE}']")
    page.wait("id => leonet.draftId !== null && leonet.fences().some(f => f.id === id && f.present)", FENCE)
    draft = server.get(f"/api/policy/drafts/{page.js('leonet.draftId')}")
    assert FENCE in [g["id"] for g in draft["policy"]["geofences"]]
    page.page.click("#apply")
    page.wait("r => leonet.revision > r && leonet.draftId === null", rev1)
    page.wait("k => leonet.terminals().some(t => t.kit_id === k && t.outcome === 'denied')", DARK_TERMINAL)
    assert terminal(page, DARK_TERMINAL)["colour"] == page.js("leonet.colours.denied")
    assert [g["id"] for g in server.get("/api/policy")["policy"]["geofences"]] == [FENCE]


def test_a_viewer_sees_the_page_and_is_told_it_cannot_change_the_policy(browser: Any, server: Server) -> None:
    viewer = server.post("/api/tokens", {"name": "web-viewer", "role": "viewer"})["token"]
    p = browser.new_page(viewport=VIEWPORT)
    p.set_default_timeout(120_000)
    p.goto(f"{server.base}/#token={viewer}")
    p.wait_for_function("window.leonet && window.leonet.loaded")
    assert p.evaluate("leonet.satCount") > 1000 and len(p.evaluate("leonet.terminals()")) > 0
    p.click(f"input[data-fence='{FENCE}']")
    p.wait_for_function("() => leonet.lastError !== null")
    err = p.evaluate("leonet.lastError")
    assert err.startswith("403") and "operator" in err, err
    assert "operator" in p.inner_text("#message")
    assert p.evaluate("leonet.draftId") is None
    # the box is back as the applied policy has it
    p.wait_for_function("id => document.querySelector(`input[data-fence='${id}']`).checked", arg=FENCE)
    p.close()


TINY = """
name = "report-in-a-browser"
description = "a 12 x 12 Walker shell, three stations"
epoch = 2026-02-23T00:00:00Z
[time]
end_s = 60
step_s = 10
[[networks]]
name = "walker-144"
constellation = { shells = [{altitude_km = 550, inclination_deg = 53, planes = 12, sats_per_plane = 12}] }
isl = "plus-grid"
max_ground_link_km = 2500
[ground]
cities = 0
[[ground.stations]]
name = "Zurich"
lat_deg = 47.37
lon_deg = 8.54
[[ground.stations]]
name = "Tokyo"
lat_deg = 35.68
lon_deg = 139.69
[[ground.stations]]
name = "Madrid"
lat_deg = 40.42
lon_deg = -3.70
"""


def test_run_report_renders_in_the_browser(browser: Any, tmp_path: Path) -> None:
    """`leonet run`'s report.html in the same Chromium: every figure decodes and has a size, no script errors."""
    sc = tmp_path / "tiny.toml"
    sc.write_text(TINY)
    out = tmp_path / "out"
    r = subprocess.run(
        [leonet_exe(), "run", str(sc), "-q", "-o", str(out)], capture_output=True, text=True, timeout=600
    )
    assert r.returncode == 0, r.stderr
    report = out / "report.html"
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(report.as_uri())
    page.wait_for_load_state("load")
    sizes = page.evaluate("[...document.images].map(i => [i.complete, i.naturalWidth, i.naturalHeight])")
    assert sizes and all(ok and w > 100 and h > 100 for ok, w, h in sizes), sizes
    assert "report-in-a-browser" in page.inner_text("body")
    p = artifacts() / "report.png"
    page.screenshot(path=str(p), full_page=True)
    assert p.stat().st_size > 20_000
    assert errors == []
    page.close()


# ---------------------------------------------------------------------------------------------------- faults
FAULT_SCENARIO_BASE = "front-jamming-2026"
JAM = "front-ew"  # its jamming zone: capacity 0 over the front line, t = 120 .. 480 s
REGION_JAM = "crimea-ew"  # added: half the capacity over the built-in region crimea (jams no terminal)
GATEWAY = "Lviv-GW"
#: denied by the whitelist, and its own node down (a ground fault): no coverage once the whitelist is gone
UNCOVERED = "UNREG-MELITOPOL"
#: the faults added to the built-in scenario (and a gateway for the ground fault to take down)
EXTRA_FAULTS = f"""
[[faults]]
name = "sat-loss"
kind = "satellite"
fraction = 0.05
seed = 7

[[faults]]
name = "gw-outage"
kind = "ground"
names = ["{GATEWAY}"]
start_s = 60

[[faults]]
name = "melitopol-power"
kind = "ground"
names = ["{UNCOVERED}"]

[[faults]]
name = "{REGION_JAM}"
kind = "jamming"
region = "crimea"
capacity_fraction = 0.5
start_s = 100
end_s = 480
"""
EXTRA_GATEWAY = f"""
[[ground.stations]]
name = "{GATEWAY}"
lat_deg = 49.84
lon_deg = 24.03
kind = "gateway"

"""
#: inside the band of front-ew (between its edges at that latitude, away from the terminals), and outside it
#: (west of the band, still inside Ukraine's geofence): (lat, lon)
IN_BAND = (49.3, 37.72)
OUT_OF_BAND = (49.3, 36.7)
IN_CRIMEA = (45.55, 34.6)  # near Dzhankoi, away from the terminal in Simferopol


def fault_scenario_text() -> str:
    import leonet

    src = (Path(leonet.__file__).parent / "scenarios" / f"{FAULT_SCENARIO_BASE}.toml").read_text()
    assert "\n[report]" in src and f'name = "{FAULT_SCENARIO_BASE}"' in src
    src = src.replace(f'name = "{FAULT_SCENARIO_BASE}"', 'name = "front-faults-web"', 1)
    return src.replace("\n[report]", "\n" + EXTRA_GATEWAY + "[report]", 1) + EXTRA_FAULTS


@pytest.fixture(scope="module")
def fault_server(tmp_path_factory: pytest.TempPathFactory, playwright_api: Any) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("serve-faults")
    sc = tmp / "front-faults-web.toml"
    sc.write_text(fault_scenario_text())
    s = Server(tmp, str(sc))
    yield s
    s.stop()


def set_clock(server: Server, t_s: float) -> None:
    server.post("/api/clock", {"action": "set", "t_s": t_s})
    server.post("/api/clock", {"action": "pause"})


@pytest.fixture(scope="module")
def fault_page(browser: Any, fault_server: Server) -> Iterator[Page]:
    set_clock(fault_server, 200.0)  # inside front-ew's window, after the gateway went down
    p = Page(browser, fault_server)
    p.wait("() => leonet.faults().t_s === 200")
    yield p
    p.page.close()


def violet(rgb: tuple[int, int, int]) -> bool:
    """The hatched jamming zone (violet stripes on violet), as against the fence's orange or the country's green."""
    r, g, b = rgb
    return b > g + 40 and r > g


def test_the_page_draws_the_failed_satellites_and_the_ground_node_down(fault_page: Page, fault_server: Server) -> None:
    page, server = fault_page, fault_server
    f = page.js("leonet.faults()")
    assert f["t_s"] == page.js("leonet.frameT") == 200
    api = server.get("/api/fault-state?network=starlink-550&t_s=200")
    # the satellites the page draws as failed are the API's, and (another code path) the constellation's flags
    failed = sorted(s["index"] for s in api["satellites"])
    flags = server.get("/api/constellation?network=starlink-550&t_s=200")
    assert sorted(f["failed"]) == failed == [s["index"] for s in flags["satellites"] if s["failed"]]
    n = page.js("leonet.satCount")
    assert 0.02 * n < len(failed) < 0.08 * n  # 5 % drawn at random
    assert page.page.inner_text("#failed-count") == str(len(failed))
    # the gateway is drawn down; the PoP, up
    ground = {g["name"]: g["down"] for g in f["ground"]}
    assert ground == {GATEWAY: True, "Warsaw-PoP": False}
    assert {g["name"]: g["down"] for g in flags["ground"] if g["kind"] != "terminal"} == ground
    assert sorted(api["ground"]) == sorted([GATEWAY, UNCOVERED])  # (a terminal down is not drawn as a site)
    assert page.page.inner_text("#ground-down") == ", ".join(api["ground"])
    assert page.errors == []


def test_faults_screenshot(fault_page: Page) -> None:
    """The jamming zone, the gateway down and the failed satellites, for docs/web.md (docs/img/serve-faults.png is
    a copy of this artefact)."""
    page = fault_page
    # (the terminal inside the band is drawn jammed: the status stream has caught up with the clock)
    page.wait("() => leonet.terminals().some(t => t.kit_id === 'KIT-UA-0001' && t.outcome === 'jammed')")
    assert terminal(page, "KIT-UA-0001")["colour"] == page.js("leonet.colours.jammed")
    page.js("leonet.view(48.6, 33.0, 0.55)")
    page.page.wait_for_timeout(1500)
    p = page.shot("serve-faults.png")
    assert p.stat().st_size > 50_000


def test_the_jamming_zone_is_drawn_while_active_and_goes_when_its_window_closes(
    fault_page: Page, fault_server: Server
) -> None:
    import tomllib

    page, server = fault_page, fault_server
    spec = next(x for x in tomllib.loads(fault_scenario_text())["faults"] if x["name"] == JAM)
    page.wait("() => leonet.faults().jamming.length === 2")  # (the region's polygon once the regions are loaded)
    zones = page.js("leonet.faults()").get("jamming")
    assert [z["name"] for z in zones] == [JAM, REGION_JAM]
    # the drawn ring is the scenario's polygon (closed; in the winding globe.gl needs, whichever the file has)
    ring = zones[0]["ring"]
    assert ring[0] == ring[-1] and len(ring) == len(spec["polygon"]) + 1
    assert sorted(map(tuple, ring[:-1])) == sorted(map(tuple, spec["polygon"]))
    assert zones[0]["capacity_fraction"] == spec["capacity_fraction"] == 0.0
    legend = page.page.inner_text(f"#jam-zones li[data-jam='{JAM}']")
    assert JAM in legend and "capacity 0 %" in legend and "3 terminals" in legend, legend
    # the region's zone: drawn from the bundled regions file, with its partial capacity
    assert zones[1]["capacity_fraction"] == 0.5
    legend = page.page.inner_text(f"#jam-zones li[data-jam='{REGION_JAM}']")
    assert "capacity 50 %" in legend and "1 terminal inside" in legend, legend

    # the pixels: violet inside the band, not outside it (a ring wound the wrong way covers the rest of the Earth)
    page.js("leonet.view(49.2, 37.2, 0.25)")
    page.page.wait_for_timeout(1500)
    shot = page.page.screenshot()
    (artifacts() / "serve-jamming.png").write_bytes(shot)
    inside = page.js("([a, b]) => leonet.screenAt(a, b, 0.018)", list(IN_BAND))
    outside = page.js("([a, b]) => leonet.screenAt(a, b, 0.012)", list(OUT_OF_BAND))
    crimea = page.js("([a, b]) => leonet.screenAt(a, b, 0.018)", list(IN_CRIMEA))
    assert violet(colour_at(shot, inside["x"], inside["y"], radius=4)), colour_at(shot, inside["x"], inside["y"], 4)
    assert not violet(colour_at(shot, outside["x"], outside["y"], radius=4))
    assert violet(colour_at(shot, crimea["x"], crimea["y"], radius=4)), colour_at(shot, crimea["x"], crimea["y"], 4)
    # hovering the zone shows its name and capacity (globe.gl's tooltip)
    page.page.mouse.move(inside["x"] - 6, inside["y"] - 6)
    page.page.mouse.move(inside["x"], inside["y"])
    page.wait("() => (document.querySelector('.float-tooltip-kap')?.innerText ?? '').includes('jamming')")
    tip = page.js("document.querySelector('.float-tooltip-kap').innerText")
    assert f"jamming {JAM}" in tip and "capacity 0 %" in tip and "3 terminals inside" in tip, tip
    page.page.mouse.move(5, 5)

    # its window closes at 480 s: the page, following the clock, no longer draws it
    set_clock(server, 500.0)
    page.wait("() => leonet.faults().t_s === 500")
    assert server.get("/api/fault-state?network=starlink-550&t_s=500")["jamming"] == []
    assert page.js("leonet.faults()")["jamming"] == []
    assert "no active jamming zone" in page.page.inner_text("#jam-zones")
    page.page.wait_for_timeout(1500)
    shot = page.page.screenshot()
    assert not violet(colour_at(shot, inside["x"], inside["y"], radius=4))
    assert not violet(colour_at(shot, crimea["x"], crimea["y"], radius=4))
    # the satellites failed with no end stay failed
    assert len(page.js("leonet.faults()")["failed"]) > 0
    set_clock(server, 200.0)
    page.wait("() => leonet.faults().jamming.length === 2")
    assert page.errors == []


def test_preview_names_the_jamming_fault_and_counts_the_outcomes(fault_page: Page, fault_server: Server) -> None:
    """Without the whitelist, UNREG-DONETSK (inside the band) would not be served but jammed: the preview's row
    says so with the fault's name, and the summary line counts each outcome."""
    page, server = fault_page, fault_server
    page.page.click(f"input[data-fence='{FENCE}']")
    page.wait("id => leonet.draftId !== null && leonet.fences().some(f => f.id === id && !f.present)", FENCE)
    page.page.click("#preview")
    page.wait("() => leonet.preview !== null", timeout_ms=120_000)
    prev = page.js("leonet.preview")
    assert prev["t0_s"] == 200
    jammed = [c for c in prev["changes"] if c["after"] == "jammed"]
    assert [(c["kit_id"], c["fault"]) for c in jammed] == [(DARK_TERMINAL, JAM)], prev["changes"]
    row = page.page.locator(f"#preview-changes tr[data-kit='{DARK_TERMINAL}'][data-after='jammed']")
    assert row.count() == 1
    text = row.inner_text()
    assert "jammed by" in text and JAM in text, text
    # the summary line: per outcome, the terminals at t0 under the applied policy -> the draft
    line = page.page.inner_text("#preview-counts")
    for outcome in ("served", "denied", "jammed", "no-coverage"):
        b = sum(1 for r in prev["at_start"] if r["before"] == outcome)
        a = sum(1 for r in prev["at_start"] if r["after"] == outcome)
        label = "no coverage" if outcome == "no-coverage" else outcome
        assert f"{label} {b} → {a}" in line, (outcome, line)
    assert f"{len(prev['changes'])} changes" in line and "1 to jammed" in line and "1 to no coverage" in line, line
    # the terminal whose node is down would have no coverage: the row says so
    row = page.page.locator(f"#preview-changes tr[data-kit='{UNCOVERED}'][data-after='no-coverage']")
    assert row.count() == 1 and "no coverage" in row.inner_text()
    assert [c["kit_id"] for c in prev["changes"] if c["after"] == "no-coverage"] == [UNCOVERED]
    # at t0 the API's own terminals agree: the jammed terminal is in the zone, denied by the whitelist for now
    at = {r["kit_id"]: r for r in prev["at_start"]}
    assert at[DARK_TERMINAL]["before"] == "denied" and at[DARK_TERMINAL]["after"] == "jammed"
    assert f"fault {JAM}" in at[DARK_TERMINAL]["after_reason"]
    zone = next(z for z in server.get("/api/fault-state?network=starlink-550&t_s=200")["jamming"] if z["name"] == JAM)
    assert DARK_TERMINAL in zone["blocked"]
    page.page.click("#discard")
    page.wait("() => leonet.draftId === null")
    assert page.errors == []
