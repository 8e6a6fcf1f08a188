// The page's side of the HTTP contract (docs/service.md): the token, JSON calls, the binary frame.

const TOKEN_KEY = "leonet.token";

/** The API token: taken from the URL fragment `#token=...` (never sent to the server in a URL), kept in
 * sessionStorage, and removed from the address bar so that it does not end up in a bookmark or a screenshot. */
export function takeToken() {
  const m = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  if (m) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
    history.replaceState(null, "", window.location.pathname + window.location.search);
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
    this.detail = detail;
  }
}

function detailOf(status, text) {
  try {
    const body = JSON.parse(text);
    if (typeof body.detail === "string") return body.detail;
    if (body.detail !== undefined) return JSON.stringify(body.detail);
  } catch {
    // not JSON: the text itself
  }
  return text || `HTTP ${status}`;
}

export class Api {
  constructor(token) {
    this.token = token;
  }

  headers(extra = {}) {
    return this.token ? { Authorization: `Bearer ${this.token}`, ...extra } : extra;
  }

  async request(method, path, body) {
    const init = { method, headers: this.headers(body === undefined ? {} : { "Content-Type": "application/json" }) };
    if (body !== undefined) init.body = JSON.stringify(body);
    const res = await fetch(path, init);
    if (!res.ok) throw new ApiError(res.status, detailOf(res.status, await res.text()));
    return res;
  }

  async get(path) {
    return (await this.request("GET", path)).json();
  }

  async post(path, body) {
    return (await this.request("POST", path, body ?? {})).json();
  }

  async put(path, body) {
    return (await this.request("PUT", path, body)).json();
  }

  async frame(network, tS) {
    const q = new URLSearchParams({ network });
    if (tS !== undefined) q.set("t_s", String(tS));
    const res = await this.request("GET", `/api/frame?${q}`);
    return decodeFrame(await res.arrayBuffer());
  }

  /** The status stream; EventSource cannot send headers, so this one endpoint takes the token as `?token=`. */
  stream(network) {
    const q = new URLSearchParams();
    if (network) q.set("network", network);
    if (this.token) q.set("token", this.token);
    return new EventSource(`/api/stream?${q}`);
  }
}

const MAGIC = "LNF1";

/** Decode a `/api/frame` body: little-endian, magic `LNF1`, uint32 version 1, float64 t_s, uint32 n_sat,
 * uint32 n_isl, float32 lat_deg/lon_deg/alt_km [n_sat], uint32 isl_a/isl_b [n_isl]. */
export function decodeFrame(buf) {
  const dv = new DataView(buf);
  if (buf.byteLength < 24) throw new Error(`frame of ${buf.byteLength} bytes; expected at least 24`);
  const magic = String.fromCharCode(dv.getUint8(0), dv.getUint8(1), dv.getUint8(2), dv.getUint8(3));
  if (magic !== MAGIC) throw new Error(`frame magic ${JSON.stringify(magic)}; expected "${MAGIC}"`);
  const version = dv.getUint32(4, true);
  if (version !== 1) throw new Error(`frame version ${version}; expected 1`);
  const tS = dv.getFloat64(8, true);
  const nSat = dv.getUint32(16, true);
  const nIsl = dv.getUint32(20, true);
  const want = 24 + 12 * nSat + 8 * nIsl;
  if (buf.byteLength !== want) throw new Error(`frame of ${buf.byteLength} bytes; expected ${want}`);
  const f32 = (off, n) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = dv.getFloat32(off + 4 * i, true);
    return a;
  };
  const u32 = (off, n) => {
    const a = new Uint32Array(n);
    for (let i = 0; i < n; i++) a[i] = dv.getUint32(off + 4 * i, true);
    return a;
  };
  let off = 24;
  const latDeg = f32(off, nSat);
  off += 4 * nSat;
  const lonDeg = f32(off, nSat);
  off += 4 * nSat;
  const altKm = f32(off, nSat);
  off += 4 * nSat;
  const islA = u32(off, nIsl);
  off += 4 * nIsl;
  const islB = u32(off, nIsl);
  return { tS, nSat, nIsl, latDeg, lonDeg, altKm, islA, islB };
}
