// The page served by `leonet serve` at `/`: a globe.gl globe with no downloaded imagery (a plain ocean sphere
// and the Natural Earth 1:110m countries leonet ships), the constellation on the simulated clock, laser links,
// a route with its RTT, geofences, terminals coloured by decision, the faults of the scenario at the page's time
// (failed satellites, ground nodes down, active jamming zones), and the operator's draft -> preview -> apply.
// All data comes from the API of docs/service.md; nothing is fetched from the internet.
import Globe from "globe.gl";
import * as THREE from "three";
import countriesUrl from "../../src/leonet/data/ne_110m_admin_0_countries.geojson?url";
// (fetched only when a jamming zone is given as a built-in region)
import regionsUrl from "../../src/leonet/data/geofence_regions.geojson?url";
import { Api, ApiError, takeToken } from "./api.js";
import { ConstellationLayer, EARTH_RADIUS_KM, FAILED_SAT_COLOUR } from "./layers.js";

export const COLOURS = {
  served: "#2ecc71",
  denied: "#e74c3c",
  jammed: "#c77dff",
  "no-coverage": "#95a5a6",
  unknown: "#f1c40f",
};
/** Faults: jamming zones (violet, translucent: geofences are red / orange / blue), ground nodes up and down. */
export const FAULT_COLOURS = {
  jam: "rgba(123, 44, 191, 0.72)",
  jamStroke: "#e0aaff",
  groundUp: "#8ecae6",
  groundDown: "#ff4d4d",
  failedSat: FAILED_SAT_COLOUR,
};
/** Ground nodes that are not terminals are all drawn when there are at most this many (else gateways and the
 * nodes down only: a scenario with a thousand cities would hide the globe under their names). */
const MAX_GROUND_DRAWN = 100;
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
  ground: [], // the network's ground nodes (GET /api/constellation: name, kind, lat_deg, lon_deg)
  faults: null, // GET /api/fault-state at the drawn frame's time (null: not known yet, or not served)
  regions: null, // the built-in regions (geofence_regions.geojson), loaded for a region's jamming zone
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
  for (const zone of state.faults?.jamming ?? []) {
    const feature = jamFeature(zone);
    if (feature) rows.push({ kind: "jam", zone, feature });
  }
  return rows;
}

const jamFeatures = new Map(); // zone key -> its feature (one object per zone: its material is cached by it)

/** A jamming zone's polygon as a GeoJSON feature: its `[lon, lat]` ring (closed here if open), or its built-in
 * region's geometry (null until the regions are loaded, or if the region is not in the bundled file). */
function jamFeature(zone) {
  const key = JSON.stringify([zone.name, zone.polygon, zone.region]);
  let f = jamFeatures.get(key);
  if (f === undefined) {
    f = makeJamFeature(zone);
    if (f) jamFeatures.set(key, f);
  }
  return f ?? null;
}

function makeJamFeature(zone) {
  if (Array.isArray(zone.polygon) && zone.polygon.length >= 3) {
    const ring = zone.polygon.map(([lon, lat]) => [lon, lat]);
    const [a, b] = [ring[0], ring[ring.length - 1]];
    if (a[0] !== b[0] || a[1] !== b[1]) ring.push([a[0], a[1]]);
    return { type: "Feature", properties: { name: zone.name }, geometry: wound({ type: "Polygon", coordinates: [ring] }) };
  }
  if (zone.region) {
    if (!state.regions) {
      loadRegions().catch(fail);
      return null;
    }
    const f = state.regions.find((r) => r.properties?.region_id === zone.region);
    return f ? { ...f, geometry: wound(f.geometry) } : null;
  }
  return null;
}

/** Twice the signed area of a `[lon, lat]` ring in the plane (> 0: anticlockwise). */
function ringArea2(ring) {
  let s = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) s += ring[j][0] * ring[i][1] - ring[i][0] * ring[j][1];
  return s;
}

/** A polygon wound as globe.gl (d3-geo) reads it: the outer ring clockwise, the holes anticlockwise -- the
 * other way round it is the rest of the sphere.  The service's zones are planar rings of either winding. */
function wound(geometry) {
  const fix = (rings) =>
    rings.map((ring, k) => ((ringArea2(ring) > 0) === (k === 0) ? [...ring].reverse() : ring));
  if (geometry?.type === "Polygon") return { ...geometry, coordinates: fix(geometry.coordinates) };
  if (geometry?.type === "MultiPolygon") return { ...geometry, coordinates: geometry.coordinates.map(fix) };
  return geometry;
}

let regionsLoading = null;
async function loadRegions() {
  regionsLoading ??= (async () => {
    try {
      const fc = await (await fetch(regionsUrl)).json();
      state.regions = fc.features ?? [];
    } catch (e) {
      state.regions = []; // reported once; a region's zone is then listed in the legend but not drawn
      throw e;
    } finally {
      redrawPolygons();
    }
  })();
  return regionsLoading;
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
  .polygonCapColor((r) => (r.kind === "country" ? "#27473a" : r.kind === "jam" ? FAULT_COLOURS.jam : fenceColour(r.fence)))
  .polygonSideColor((r) =>
    r.kind === "country" ? "rgba(0,0,0,0)" : r.kind === "jam" ? FAULT_COLOURS.jam : fenceColour(r.fence),
  )
  // a jamming zone's cap is hatched (a striped texture over its bounding box), its sides translucent violet
  .polygonCapMaterial((r) => (r.kind === "jam" ? jamMaterial(r.feature) : undefined))
  .polygonStrokeColor((r) => (r.kind === "country" ? "#5c7f6d" : r.kind === "jam" ? FAULT_COLOURS.jamStroke : "#ffffff"))
  // a jamming zone above the geofences (it is drawn over a fence it overlaps, translucent)
  .polygonAltitude((r) =>
    r.kind === "country" ? 0.004 : r.kind === "jam" ? 0.018 : r.fence.present && r.fence.inForce ? 0.012 : 0.007,
  )
  .polygonLabel((r) =>
    r.kind === "country" ? esc(r.feature.properties?.NAME ?? "") : r.kind === "jam" ? jamLabel(r.zone) : fenceLabel(r.fence),
  )
  .polygonsTransitionDuration(0);

function fenceColour(fence) {
  return fence.present && fence.inForce ? (FENCE_COLOURS[fence.action] ?? FENCE_COLOURS.deny) : FENCE_OFF;
}

function fenceLabel(fence) {
  const state_ = fence.present ? (fence.inForce ? "in force" : "not in force now") : "removed in the draft";
  return `<b>${esc(fence.id)}</b>: ${esc(fence.action)} (${state_})`;
}

const JAM_HATCH_DEG = 0.4; // one stripe of the hatching every this many degrees of the zone's extent
let hatchTexture = null;
const jamMaterials = new Map(); // feature geometry -> material (made once per zone's polygon)

/** The hatching: violet stripes on a translucent violet ground (a 32 px canvas, repeated). */
function hatch() {
  if (hatchTexture) return hatchTexture;
  const c = document.createElement("canvas");
  c.width = c.height = 32;
  const g = c.getContext("2d");
  g.fillStyle = FAULT_COLOURS.jam;
  g.fillRect(0, 0, 32, 32);
  g.strokeStyle = FAULT_COLOURS.jamStroke;
  g.lineWidth = 6;
  for (const d of [-32, 0, 32]) {
    g.beginPath();
    g.moveTo(d, 32);
    g.lineTo(d + 32, 0);
    g.stroke();
  }
  hatchTexture = new THREE.CanvasTexture(c);
  hatchTexture.wrapS = hatchTexture.wrapT = THREE.RepeatWrapping;
  hatchTexture.colorSpace = THREE.SRGBColorSpace;
  return hatchTexture;
}

function jamMaterial(feature) {
  const key = feature.geometry;
  let m = jamMaterials.get(key);
  if (!m) {
    const pts = (feature.geometry.type === "Polygon" ? [feature.geometry.coordinates] : feature.geometry.coordinates).flat(2);
    const lons = pts.map((p) => p[0]);
    const lats = pts.map((p) => p[1]);
    const span = (a) => Math.max(JAM_HATCH_DEG, Math.max(...a) - Math.min(...a));
    const map = hatch().clone();
    map.repeat.set(span(lons) / JAM_HATCH_DEG, span(lats) / JAM_HATCH_DEG);
    map.needsUpdate = true;
    // (depthWrite: a geofence under the zone, translucent too, drawn after it is then hidden, not blended over it)
    m = new THREE.MeshBasicMaterial({ map, transparent: true, depthWrite: true, side: THREE.DoubleSide });
    jamMaterials.set(key, m);
  }
  return m;
}

/** "capacity 0 % (no link)", "capacity 40 %" */
function capacityText(zone) {
  const f = Number(zone.capacity_fraction);
  const pc = `${Math.round(100 * f)} %`;
  return f === 0 ? `capacity ${pc} (no link)` : `capacity ${pc}`;
}

function windowText(zone) {
  const end = zone.end_s === null || zone.end_s === undefined ? "end" : `${fmt(zone.end_s, 0)} s`;
  return `t = ${fmt(zone.start_s, 0)} s to ${end}`;
}

function jamLabel(zone) {
  const n = (zone.terminals ?? []).length;
  return `<b>jamming ${esc(zone.name)}</b>: ${esc(capacityText(zone))}, ${esc(windowText(zone))}; ${plural(n, "terminal")} inside`;
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

// ground nodes that are not terminals (gateways, PoPs, stations): globe.gl labels, red with "down" when a
// ground fault takes them down at the page's time
globe
  .labelLat((g) => g.lat_deg)
  .labelLng((g) => g.lon_deg)
  .labelText((g) => (g.down ? `${g.name} (down)` : g.name))
  .labelColor((g) => (g.down ? FAULT_COLOURS.groundDown : FAULT_COLOURS.groundUp))
  .labelSize((g) => (g.down ? 0.55 : 0.45))
  .labelDotRadius((g) => (g.down ? 0.45 : 0.3))
  .labelAltitude(0.006)
  .labelResolution(2)
  .labelsTransitionDuration(0)
  .labelLabel((g) => `<b>${esc(g.name)}</b>: ${esc(g.kind)}${g.down ? ", <b>down</b> (a ground fault)" : ""}`);

/** The ground nodes drawn: every non-terminal one (few), else the gateways and those down; each with `down`. */
function groundRows() {
  const down = new Set(state.faults?.ground ?? []);
  const sites = state.ground.filter((g) => g.kind !== "terminal" && Number.isFinite(g.lat_deg) && Number.isFinite(g.lon_deg));
  const shown = sites.length <= MAX_GROUND_DRAWN ? sites : sites.filter((g) => g.kind === "gateway" || down.has(g.name));
  return shown.map((g) => ({ name: g.name, kind: g.kind, lat_deg: g.lat_deg, lon_deg: g.lon_deg, down: down.has(g.name) }));
}

let groundKey = null;
function redrawGround() {
  const rows = groundRows();
  const key = JSON.stringify(rows.map((g) => [g.name, g.down]));
  if (key === groundKey) return; // (labels are text meshes: rebuilt only when something changed)
  groundKey = key;
  globe.labelsData(rows);
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
  state.ground = c.ground ?? [];
  redrawGround();
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
  const counts = outcomeCounts(p);
  const summary = (p.summary ?? [])
    .map((s) => `<tr><td>${esc(s.country)}</td><td>${esc(s.rule)}</td><td>${s.went_dark}</td><td>${s.came_back}</td></tr>`)
    .join("");
  const changes = (p.changes ?? [])
    .map(
      (c) =>
        `<tr data-kit="${esc(c.kit_id)}" data-after="${esc(c.after)}"><td>${esc(c.kit_id)}</td><td>${fmt(c.t_s, 0)}</td>` +
        `<td>${outcomeText(c.before, c)} → ${outcomeText(c.after, c)}</td><td>${esc(c.rule)}</td><td>${esc(c.country)}</td></tr>`,
    )
    .join("");
  const line = `<p id="preview-counts">${counts}</p>`;
  $("preview-result").innerHTML =
    (p.changes ?? []).length === 0
      ? `${line}<p class="muted">no terminal changes over the next ${minutes} min</p>`
      : `${line}<table id="preview-summary"><tr><th>country</th><th>rule</th><th>went dark</th><th>came back</th></tr>${summary}</table>` +
        `<table id="preview-changes"><tr><th>terminal</th><th>t s</th><th>change</th><th>rule</th><th>country</th></tr>${changes}</table>`;
}

/** An outcome in the changes table: `jammed` names its fault (the change's `fault` field), `no-coverage` says
 * what it means. */
function outcomeText(outcome, change) {
  const dot = `<span class="dot ${esc(outcome)}"></span> `;
  if (outcome === "jammed") return `${dot}jammed by <b class="fault">${esc(change.fault ?? "a jamming fault")}</b>`;
  if (outcome === "no-coverage") return `${dot}no coverage (no unfailed satellite in view, or its node down)`;
  return `${dot}${esc(outcome)}`;
}

const OUTCOME_ORDER = ["served", "denied", "jammed", "no-coverage"];

/** The preview's summary line: per outcome, the terminals at its start under the applied policy -> the draft,
 * and the changes into each outcome over the window. */
function outcomeCounts(p) {
  const start = p.at_start ?? [];
  const tally = (key) => {
    const m = new Map(OUTCOME_ORDER.map((o) => [o, 0]));
    for (const r of start) m.set(r[key], (m.get(r[key]) ?? 0) + 1);
    return m;
  };
  const before = tally("before");
  const after = tally("after");
  const into = new Map(OUTCOME_ORDER.map((o) => [o, 0]));
  for (const c of p.changes ?? []) into.set(c.after, (into.get(c.after) ?? 0) + 1);
  const label = (o) => (o === "no-coverage" ? "no coverage" : o);
  const keys = [...new Set([...OUTCOME_ORDER, ...before.keys(), ...after.keys(), ...into.keys()])];
  const atStart = keys.map((o) => `<span data-outcome="${esc(o)}">${esc(label(o))} ${before.get(o) ?? 0} → ${after.get(o) ?? 0}</span>`);
  const changed = keys.filter((o) => (into.get(o) ?? 0) > 0).map((o) => `${into.get(o)} to ${esc(label(o))}`);
  return (
    `at t = ${fmt(p.t0_s, 0)} s, applied → draft: ${atStart.join(", ")}; ` +
    `${plural((p.changes ?? []).length, "change")} over ${fmt(p.minutes, 0)} min${changed.length ? ` (${changed.join(", ")})` : ""}`
  );
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
    // the faults at the frame's own time (the same snapshot, cached by the server): drawn with the frame
    const faults = await loadFaultState(frame.tS);
    state.clock = c;
    renderClock();
    state.frame = frame;
    state.frames += 1;
    layer.update(frame, (faults?.satellites ?? []).map((s) => s.index));
    applyFaults(faults);
    $("sat-count").textContent = String(frame.nSat);
    $("isl-count").textContent = String(frame.nIsl);
    state.ready = true;
  } finally {
    ticking = false;
  }
}

let faultError = null; // the last /api/fault-state failure, reported once (the page draws no faults then)

async function loadFaultState(tS) {
  const q = new URLSearchParams({ network: state.network, t_s: String(tS) });
  try {
    const f = await api.get(`/api/fault-state?${q}`);
    faultError = null;
    return f;
  } catch (e) {
    const text = String(e?.message ?? e);
    if (text !== faultError) fail(e);
    faultError = text;
    return null;
  }
}

let jamKey = null;
/** Draw the faults of one frame: the jamming zones (the polygons are rebuilt only when the set of active zones
 * changes), the ground nodes down, and the legend's counts. */
function applyFaults(faults) {
  state.faults = faults;
  const key = JSON.stringify((faults?.jamming ?? []).map((z) => [z.name, z.capacity_fraction, z.polygon, z.region]));
  if (key !== jamKey) {
    jamKey = key;
    redrawPolygons();
  }
  redrawGround();
  renderFaultLegend();
}

/** Set an element's HTML only when it changed (the legend is re-rendered every tick; hover and selection stay). */
function setHtml(id, html) {
  const el = $(id);
  if (el.dataset.html !== html) {
    el.innerHTML = html;
    el.dataset.html = html;
  }
}

function renderFaultLegend() {
  const f = state.faults;
  const sats = f?.satellites ?? [];
  $("failed-count").textContent = f ? String(sats.length) : "-";
  const names = sats.slice(0, 3).map((s) => s.name);
  $("failed-names").textContent = sats.length ? ` (${names.join(", ")}${sats.length > 3 ? ", ..." : ""})` : "";
  const down = f?.ground ?? [];
  setHtml("ground-down", down.length ? down.map((n) => `<b>${esc(n)}</b>`).join(", ") : `<span class="muted">none</span>`);
  const zones = f?.jamming ?? [];
  setHtml(
    "jam-zones",
    zones.length
    ? zones
        .map(
          (z) =>
            `<li data-jam="${esc(z.name)}"><b>${esc(z.name)}</b> <span class="muted">${esc(capacityText(z))}, ` +
            `${esc(windowText(z))}, ${plural((z.terminals ?? []).length, "terminal")} inside</span></li>`,
        )
        .join("")
    : `<li class="muted">no active jamming zone</li>`,
  );
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
  /** The faults as drawn with the current frame: its t_s, the failed satellites' indices (the layer's own
   * split), the ground nodes drawn with their `down` flag, the jamming zones drawn as polygons. */
  faults() {
    const f = state.faults;
    return {
      t_s: f ? f.t_s : null,
      failed: layer.failedIndices(),
      ground: groundRows(),
      jamming: polygonRows()
        .filter((r) => r.kind === "jam")
        .map((r) => ({
          name: r.zone.name,
          capacity_fraction: r.zone.capacity_fraction,
          ring: r.feature.geometry.type === "Polygon" ? r.feature.geometry.coordinates[0] : null,
          colour: FAULT_COLOURS.jam,
        })),
    };
  },
  faultColours: FAULT_COLOURS,
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
  /** Where (lat, lon) at `alt` globe radii is drawn on the screen (CSS px in the page; view helper). */
  screenAt(lat, lon, alt = 0) {
    const r = $("globe").getBoundingClientRect();
    const p = globe.getScreenCoords(lat, lon, alt);
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
