// The page served by `leonet serve` at `/`: a globe.gl globe with no downloaded imagery (a plain ocean sphere
// and the Natural Earth 1:110m countries leonet ships), the constellation on the simulated clock, laser links,
// a route with its RTT, geofences, terminals coloured by decision, and the operator's draft -> preview -> apply.
// All data comes from the API of docs/service.md; nothing is fetched from the internet.
import Globe from "globe.gl";
import * as THREE from "three";
import countriesUrl from "../../src/leonet/data/ne_110m_admin_0_countries.geojson?url";
import { Api, ApiError, takeToken } from "./api.js";
import { ConstellationLayer, EARTH_RADIUS_KM } from "./layers.js";

export const COLOURS = { served: "#2ecc71", denied: "#e74c3c", "no-coverage": "#95a5a6", unknown: "#f1c40f" };
const FENCE_COLOURS = { deny: "rgba(231, 76, 60, 0.45)", "whitelist-only": "rgba(243, 156, 18, 0.40)", allow: "rgba(52, 152, 219, 0.35)" };
const FENCE_OFF = "rgba(149, 165, 166, 0.12)";
const TICK_MS = 1000;
const TERMINAL_ALT = 0.03; // terminals are drawn as short columns, this high (globe radii), above the fences

const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
const fmt = (x, d = 1) => (x === null || x === undefined || Number.isNaN(x) ? "-" : Number(x).toFixed(d));

const state = {
  network: null,
  frame: null,
  frames: 0,
  clock: null,
  terminals: new Map(), // kit_id -> terminal row (GET /api/terminals shape, updated by the stream)
  revision: null,
  route: null, // {src, dst, t_s, result}
  draft: null, // {draft_id, policy}
  fences: [], // [{id, entry (policy object or null), feature (GeoJSON or null), present: bool}]
  preview: null,
  selected: null,
  countries: [],
  lastError: null,
  ready: false, // the first frame is drawn
  loaded: false, // and the terminals, geofences and route pickers are loaded
};

function message(text) {
  $("message").textContent = text || "";
}

function fail(err) {
  const text = err instanceof ApiError ? `${err.status}: ${err.detail}` : String(err?.message ?? err);
  state.lastError = text;
  if (err instanceof ApiError && err.status === 401) {
    message(`${text} -- open the URL that \`leonet serve\` printed (it ends in #token=...)`);
  } else {
    message(text);
  }
}

// ---------------------------------------------------------------------------------------------------- globe
const globe = new Globe($("globe"), { animateIn: false, rendererConfig: { antialias: false } })
  .backgroundColor("#000814")
  .showAtmosphere(true)
  .atmosphereColor("#3a7bd5")
  .atmosphereAltitude(0.12)
  .showGraticules(true);
globe.globeMaterial(new THREE.MeshPhongMaterial({ color: new THREE.Color("#0b3d62"), shininess: 8 }));
globe.pointOfView({ lat: 48, lng: 30, altitude: 2.2 }, 0);
const layer = new ConstellationLayer(globe.scene());

function resize() {
  const el = $("globe");
  globe.width(el.clientWidth).height(el.clientHeight);
}
window.addEventListener("resize", resize);
resize();

// countries and geofences share globe.gl's polygon layer; each polygon carries its kind
function polygonRows() {
  const rows = state.countries.map((f) => ({ kind: "country", feature: f }));
  for (const fence of state.fences) {
    for (const feature of fenceFeatures(fence)) rows.push({ kind: "fence", fence, feature });
  }
  return rows;
}

/** A geofence's polygons: its own geometry, or (a fence given as `countries`) those countries' polygons. */
function fenceFeatures(fence) {
  const f = fence.feature;
  if (f && f.geometry) return [f];
  const codes = new Set(fence.countries ?? []);
  return state.countries.filter((c) => codes.has(countryCode(c)));
}

function countryCode(f) {
  const p = f.properties ?? {};
  const c = p.ISO_A2_EH && p.ISO_A2_EH !== "-99" ? p.ISO_A2_EH : p.ISO_A2;
  return c;
}

globe
  .polygonGeoJsonGeometry((r) => r.feature.geometry)
  .polygonCapColor((r) => (r.kind === "country" ? "#27473a" : fenceColour(r.fence)))
  .polygonSideColor((r) => (r.kind === "country" ? "rgba(0,0,0,0)" : fenceColour(r.fence)))
  .polygonStrokeColor((r) => (r.kind === "country" ? "#5c7f6d" : "#ffffff"))
  .polygonAltitude((r) => (r.kind === "country" ? 0.004 : r.fence.present && r.fence.inForce ? 0.012 : 0.007))
  .polygonLabel((r) => (r.kind === "country" ? esc(r.feature.properties?.NAME ?? "") : fenceLabel(r.fence)))
  .polygonsTransitionDuration(0);

function fenceColour(fence) {
  return fence.present && fence.inForce ? (FENCE_COLOURS[fence.action] ?? FENCE_COLOURS.deny) : FENCE_OFF;
}

function fenceLabel(fence) {
  const state_ = fence.present ? (fence.inForce ? "in force" : "not in force now") : "removed in the draft";
  return `<b>${esc(fence.id)}</b>: ${esc(fence.action)} (${state_})`;
}

function redrawPolygons() {
  globe.polygonsData(polygonRows());
}

// terminals: globe.gl points (tens to thousands; clickable)
globe
  .pointLat((t) => t.lat_deg)
  .pointLng((t) => t.lon_deg)
  .pointColor((t) => colourOf(t))
  .pointAltitude(TERMINAL_ALT)
  .pointRadius(0.3)
  .pointsMerge(false)
  .pointsTransitionDuration(0)
  .pointLabel((t) => `${esc(t.kit_id)}: ${esc(outcomeOf(t))}`)
  // (a hover handler also makes globe.gl pick the points under the pointer for the click)
  .onPointHover((t) => ($("globe").style.cursor = t ? "pointer" : ""))
  .onPointClick((t) => showWhy(t.kit_id).catch(fail));

function outcomeOf(t) {
  return t.decision?.outcome ?? "unknown";
}

function colourOf(t) {
  return COLOURS[outcomeOf(t)] ?? COLOURS.unknown;
}

function redrawTerminals() {
  globe.pointsData([...state.terminals.values()].filter((t) => Number.isFinite(t.lat_deg) && Number.isFinite(t.lon_deg)));
}

// the selected route: one path through the ground points and satellites
globe
  .pathPoints((r) => r.hops)
  .pathPointLat((h) => h.lat_deg)
  .pathPointLng((h) => h.lon_deg)
  .pathPointAlt((h) => (h.alt_km ?? 0) / EARTH_RADIUS_KM)
  .pathColor(() => "#ffd166")
  .pathStroke(2.5)
  .pathTransitionDuration(0);

// ---------------------------------------------------------------------------------------------------- data
const token = takeToken();

/** `network=...&t_s=...`: the selected network at the drawn frame's time (the clock's when no frame yet). */
function atParams() {
  const q = new URLSearchParams();
  if (state.network) q.set("network", state.network);
  if (state.frame) q.set("t_s", String(state.frame.tS));
  return q;
}
const api = new Api(token);

async function loadCountries() {
  const res = await fetch(countriesUrl);
  const fc = await res.json();
  state.countries = fc.features;
  redrawPolygons();
}

async function loadNetworks() {
  const nets = await api.get("/api/networks");
  const sel = $("network");
  sel.innerHTML = nets.map((n) => `<option value="${esc(n.name)}">${esc(n.name)} (${n.satellites})</option>`).join("");
  state.network = nets.length ? nets[0].name : null;
  sel.onchange = () => {
    state.network = sel.value;
    startStream(); // the status stream follows the selected network
    tick()
      .then(() => Promise.all([loadGround(), loadTerminals()]))
      .catch(fail);
  };
}

/** Route pickers: the network's ground points (cities, stations, terminals) and the registry's terminals. */
async function loadGround() {
  if (!state.network) return;
  const c = await api.get(`/api/constellation?${new URLSearchParams({ network: state.network })}`);
  const byKind = new Map();
  for (const g of c.ground ?? []) {
    if (!byKind.has(g.kind)) byKind.set(g.kind, []);
    byKind.get(g.kind).push(g.name);
  }
  const names = new Set((c.ground ?? []).map((g) => g.name));
  const kits = [...state.terminals.keys()].filter((k) => !names.has(k));
  if (kits.length) byKind.set("registered terminal", kits);
  const options = [...byKind.entries()]
    .map(([kind, list]) => `<optgroup label="${esc(kind)}">${list.map((n) => `<option>${esc(n)}</option>`).join("")}</optgroup>`)
    .join("");
  for (const id of ["route-src", "route-dst"]) {
    const sel = $(id);
    const keep = sel.value;
    sel.innerHTML = options;
    if (keep) sel.value = keep;
  }
  const all = [...byKind.values()].flat();
  if (all.length > 1 && !$("route-dst").dataset.touched) $("route-dst").selectedIndex = all.length - 1;
}

async function loadTerminals() {
  const rows = await api.get(`/api/terminals?${atParams()}`);
  state.terminals = new Map(rows.map((t) => [t.kit_id, t]));
  const revs = rows.map((t) => t.decision?.revision).filter((r) => r !== undefined && r !== null);
  if (revs.length) state.revision = Math.max(...revs);
  redrawTerminals();
}

async function loadPolicy() {
  const p = await api.get("/api/policy");
  state.revision = p.revision;
  $("revision").textContent = String(p.revision);
}

/** The geofences: the applied ones, or the draft's (GET /api/geofences?draft=ID), plus those the draft removed. */
async function loadFences() {
  const q = new URLSearchParams();
  if (state.draft) q.set("draft", String(state.draft.draft_id));
  if (state.frame) q.set("t_s", String(state.frame.tS));
  const fc = await api.get(`/api/geofences?${q}`);
  const seen = new Set();
  const old = new Map(state.fences.map((f) => [f.id, f]));
  const fences = [];
  for (const feature of fc.features ?? []) {
    const p = feature.properties ?? {};
    seen.add(p.id);
    const entry = state.draft ? policyFence(state.draft.policy, p.id) : null;
    fences.push({
      id: p.id,
      action: p.action,
      countries: p.countries,
      inForce: p.in_force !== false,
      present: true,
      feature,
      entry: entry ?? old.get(p.id)?.entry ?? null,
    });
  }
  // a fence the draft (or an applied revision) removed stays listed, unchecked, so that it can be put back
  for (const f of old.values()) if (!seen.has(f.id) && f.entry) fences.push({ ...f, present: false });
  fences.sort((a, b) => String(a.id).localeCompare(String(b.id)));
  state.fences = fences;
  renderFences();
  redrawPolygons();
}

function policyFence(policy, id) {
  return (policy?.geofences ?? []).find((g) => g.id === id) ?? null;
}

function renderFences() {
  const ul = $("geofences");
  ul.innerHTML = state.fences.length
    ? state.fences
        .map(
          (f) =>
            `<li><label><input type="checkbox" data-fence="${esc(f.id)}" ${f.present ? "checked" : ""}/> ` +
            `<b>${esc(f.id)}</b> <span class="muted">${esc(f.action)}${f.present ? (f.inForce ? "" : ", not in force now") : state.draft ? ", removed in the draft" : ", not in the applied policy"}</span></label></li>`,
        )
        .join("")
    : `<li class="muted">no geofences</li>`;
  for (const box of ul.querySelectorAll("input[data-fence]")) {
    box.disabled = false;
    box.onchange = () => toggleFence(box.dataset.fence, box.checked).catch((e) => {
      fail(e);
      loadFences().catch(fail);
    });
  }
  const draft = state.draft;
  $("preview").disabled = !draft;
  $("apply").disabled = !draft;
  $("discard").disabled = !draft;
  $("draft-state").textContent = draft ? `draft ${draft.draft_id}: ${draftSummary()}` : "no draft: toggle a geofence to start one";
}

function draftSummary() {
  const off = state.fences.filter((f) => !f.present).map((f) => f.id);
  return off.length ? `without ${off.join(", ")}` : "same geofences as applied";
}

// ---------------------------------------------------------------------------------------------------- operator
async function ensureDraft() {
  if (!state.draft) {
    const d = await api.post("/api/policy/drafts");
    state.draft = { draft_id: d.draft_id, policy: d.policy };
    for (const f of state.fences) f.entry = policyFence(d.policy, f.id) ?? f.entry;
  }
  return state.draft;
}

/** A geofence toggle: remove it from the draft's policy, or put back the entry it had. */
async function toggleFence(id, on) {
  const fence = state.fences.find((f) => f.id === id);
  // drawn at once as toggled; the draft's geofences from the server replace this when they come back
  $("draft-state").textContent = `${on ? "adding" : "removing"} ${id} in the draft...`;
  for (const box of document.querySelectorAll("#geofences input")) box.disabled = true;
  const draft = await ensureDraft();
  const policy = structuredClone(draft.policy);
  const list = (policy.geofences ?? []).filter((g) => g.id !== id);
  if (on) {
    if (!fence?.entry) throw new Error(`geofence ${id}: its policy entry is not known; discard the draft and retry`);
    list.push(fence.entry);
  }
  policy.geofences = list;
  const res = await api.put(`/api/policy/drafts/${encodeURIComponent(draft.draft_id)}`, { policy });
  draft.policy = res.policy ?? policy;
  state.preview = null;
  $("preview-result").innerHTML = "";
  await loadFences();
  message("");
}

async function preview() {
  const draft = state.draft;
  if (!draft) return;
  const minutes = Math.max(1, Number($("preview-minutes").value) || 10);
  $("preview-result").innerHTML = `<span class="muted">computing the next ${minutes} min...</span>`;
  const p = await api.post(`/api/policy/drafts/${encodeURIComponent(draft.draft_id)}/preview?minutes=${minutes}`);
  state.preview = p;
  const summary = (p.summary ?? [])
    .map((s) => `<tr><td>${esc(s.country)}</td><td>${esc(s.rule)}</td><td>${s.went_dark}</td><td>${s.came_back}</td></tr>`)
    .join("");
  const changes = (p.changes ?? [])
    .map(
      (c) =>
        `<tr><td>${esc(c.kit_id)}</td><td>${fmt(c.t_s, 0)}</td><td>${esc(c.before)} → ${esc(c.after)}</td><td>${esc(c.rule)}</td><td>${esc(c.country)}</td></tr>`,
    )
    .join("");
  $("preview-result").innerHTML =
    (p.changes ?? []).length === 0
      ? `<p class="muted">no terminal changes over the next ${minutes} min</p>`
      : `<table id="preview-summary"><tr><th>country</th><th>rule</th><th>went dark</th><th>came back</th></tr>${summary}</table>` +
        `<table id="preview-changes"><tr><th>terminal</th><th>t s</th><th>change</th><th>rule</th><th>country</th></tr>${changes}</table>`;
}

async function apply() {
  const draft = state.draft;
  if (!draft) return;
  const r = await api.post(`/api/policy/drafts/${encodeURIComponent(draft.draft_id)}/apply`);
  state.revision = r.revision;
  $("revision").textContent = String(r.revision);
  state.draft = null;
  state.preview = null;
  $("preview-result").innerHTML = "";
  await Promise.all([loadFences(), loadTerminals()]);
  if (state.selected) await showWhy(state.selected);
  message(`applied: revision ${r.revision}`);
}

async function discard() {
  state.draft = null;
  state.preview = null;
  $("preview-result").innerHTML = "";
  await loadFences();
}

async function clock(body) {
  state.clock = await api.post("/api/clock", body);
  renderClock();
}

function renderClock() {
  const c = state.clock;
  if (!c) return;
  $("clock-utc").textContent = c.utc;
  $("clock-t").textContent = fmt(c.t_s, 0);
  $("clock-state").textContent = c.running ? "running" : "paused";
  $("clock-speed").textContent = String(c.speed);
}

// ---------------------------------------------------------------------------------------------------- queries
async function showWhy(kitId) {
  state.selected = kitId;
  const w = await api.get(`/api/terminals/${encodeURIComponent(kitId)}/why?${atParams()}`);
  const t = state.terminals.get(kitId);
  const d = w.decision ?? {};
  const chain = (w.chain ?? [])
    .map((c) => `<tr><td>${esc(c.rule)}</td><td>${esc(c.result)}</td><td>${esc(c.reason)}</td></tr>`)
    .join("");
  $("why").innerHTML =
    `<div><b>${esc(kitId)}</b>: <span class="dot ${esc(d.outcome)}"></span> <b id="why-outcome">${esc(d.outcome)}</b>` +
    `${d.rule ? ` by <b>${esc(d.rule)}</b>` : ""} (revision ${esc(d.revision)})</div>` +
    `<div>${esc(d.reason)}</div>` +
    (t ? `<div class="muted">${registryText(t)}; satellite ${t.satellite ?? "-"}, RTT ${fmt(t.rtt_ms)} ms</div>` : "") +
    `<table id="why-chain"><tr><th>rule</th><th>result</th><th>reason</th></tr>${chain}</table>` +
    `<div class="muted">decision ${esc(d.decision_id)}</div>`;
}

function registryText(t) {
  if (!t.account) return `not in the registry (${esc(t.status ?? "unregistered")})`;
  return `account ${esc(t.account)}, ${esc(t.service_class)}, registered in ${esc(t.registered_country)}, ${esc(t.status)}`;
}

async function route() {
  const src = $("route-src").value;
  const dst = $("route-dst").value;
  if (!src || !dst || !state.network) return;
  const tS = state.frame ? state.frame.tS : undefined;
  const q = new URLSearchParams({ network: state.network, src, dst });
  if (tS !== undefined) q.set("t_s", String(tS));
  const r = await api.get(`/api/route?${q}`);
  state.route = { src, dst, t_s: r.t_s ?? tS, result: r };
  globe.pathsData(r.reachable && r.hops?.length ? [{ hops: r.hops }] : []);
  const denied = (r.decisions ?? []).filter((d) => d && d.outcome && d.outcome !== "served");
  $("route-result").innerHTML = r.reachable
    ? `<b id="route-rtt">${fmt(r.rtt_ms, 2)} ms</b> RTT, ${plural(r.hops.filter((h) => h.kind === "satellite").length, "satellite")}, at t = ${fmt(state.route.t_s, 0)} s`
    : `<b>unreachable</b> at t = ${fmt(state.route.t_s, 0)} s` +
      (denied.length ? `: ${denied.map((d) => `${esc(d.outcome)}${d.rule ? ` by ${esc(d.rule)}` : ""} (${esc(d.reason)})`).join("; ")}` : "");
}

// ---------------------------------------------------------------------------------------------------- the tick
let ticking = false;
async function tick() {
  if (ticking || !state.network) return;
  ticking = true;
  try {
    const [c, frame] = await Promise.all([api.get("/api/clock"), api.frame(state.network)]);
    state.clock = c;
    renderClock();
    state.frame = frame;
    state.frames += 1;
    layer.update(frame);
    $("sat-count").textContent = String(frame.nSat);
    $("isl-count").textContent = String(frame.nIsl);
    state.ready = true;
  } finally {
    ticking = false;
  }
}

let stream = null; // the open EventSource: one at a time, for the selected network

function startStream() {
  stream?.close();
  stream = null;
  let es;
  try {
    es = stream = api.stream(state.network);
  } catch (e) {
    fail(e);
    return;
  }
  es.addEventListener("status", (ev) => {
    const s = JSON.parse(ev.data);
    if (s.revision !== undefined && s.revision !== state.revision) {
      state.revision = s.revision;
      $("revision").textContent = String(s.revision);
      loadTerminals().catch(fail);
      if (!state.draft) loadFences().catch(fail);
      return;
    }
    for (const u of s.terminals ?? []) {
      const t = state.terminals.get(u.kit_id);
      if (!t) continue;
      t.decision = { ...(t.decision ?? {}), outcome: u.outcome, rule: u.rule };
      t.satellite = u.satellite;
      t.rtt_ms = u.rtt_ms;
    }
    redrawTerminals();
  });
}

// ---------------------------------------------------------------------------------------------------- test hooks
// Read-only state for the browser tests (tests/test_web_page.py) and for a curious operator's console.
window.leonet = Object.freeze({
  get ready() {
    return state.ready;
  },
  get loaded() {
    return state.loaded;
  },
  get frameT() {
    return state.frame ? state.frame.tS : null;
  },
  get frames() {
    return state.frames;
  },
  get satCount() {
    return state.frame ? state.frame.nSat : 0;
  },
  get islCount() {
    return state.frame ? state.frame.nIsl : 0;
  },
  satPosition(i) {
    const f = state.frame;
    if (!f || i < 0 || i >= f.nSat) return null;
    return { lat_deg: f.latDeg[i], lon_deg: f.lonDeg[i], alt_km: f.altKm[i] };
  },
  terminals() {
    return [...state.terminals.values()].map((t) => ({ kit_id: t.kit_id, outcome: outcomeOf(t), colour: colourOf(t) }));
  },
  get route() {
    const r = state.route;
    return r ? { src: r.src, dst: r.dst, t_s: r.t_s, reachable: r.result.reachable, rtt_ms: r.result.rtt_ms, hops: r.result.hops?.length ?? 0 } : null;
  },
  get routeRtt() {
    return state.route ? state.route.result.rtt_ms : null;
  },
  get revision() {
    return state.revision;
  },
  get draftId() {
    return state.draft ? state.draft.draft_id : null;
  },
  fences() {
    return state.fences.map((f) => ({ id: f.id, present: f.present, in_force: f.inForce }));
  },
  get preview() {
    return state.preview ? structuredClone(state.preview) : null;
  },
  get lastError() {
    return state.lastError;
  },
  colours: COLOURS,
  /** Where terminal `kitId` is drawn on the screen (CSS px in the page), or null (view helper for the tests). */
  screenOf(kitId) {
    const t = state.terminals.get(kitId);
    if (!t) return null;
    const r = $("globe").getBoundingClientRect();
    const p = globe.getScreenCoords(t.lat_deg, t.lon_deg, TERMINAL_ALT);
    return { x: r.left + p.x, y: r.top + p.y };
  },
  /** Point the camera (view only: changes no state of the page or the server). */
  view(lat, lng, altitude) {
    globe.pointOfView({ lat, lng, altitude }, 0);
  },
});

// ---------------------------------------------------------------------------------------------------- start
$("clock-start").onclick = () => clock({ action: "start" }).catch(fail);
$("clock-pause").onclick = () => clock({ action: "pause" }).catch(fail);
// a speed change keeps the clock running or paused as it is (the API takes speed with any action)
$("clock-speed-set").onclick = () =>
  clock({ action: state.clock?.running ? "start" : "pause", speed: Number($("clock-speed-in").value) }).catch(fail);
$("route-go").onclick = () => route().catch(fail);
$("route-dst").onchange = () => ($("route-dst").dataset.touched = "1");
$("preview").onclick = () => preview().catch(fail);
$("apply").onclick = () => apply().catch(fail);
$("discard").onclick = () => discard().catch(fail);

async function start() {
  loadCountries().catch(fail);
  if (!token) {
    message("no API token -- open the URL that `leonet serve` printed (it ends in #token=...)");
    return;
  }
  await loadNetworks();
  await tick();
  // each part on its own: a failing one (a viewer's 403, a server without the control API) leaves the others
  const parts = await Promise.allSettled([loadPolicy(), loadTerminals(), loadFences()]);
  await loadGround();
  for (const p of parts) if (p.status === "rejected") fail(p.reason);
  state.loaded = true;
  setInterval(() => tick().catch(fail), TICK_MS);
  // the route follows the clock: re-asked every few seconds while one is selected
  setInterval(() => {
    if (state.route) route().catch(fail);
  }, 5000);
  startStream();
}

start().catch(fail);
