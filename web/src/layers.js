// The constellation as three three.js objects added to globe.gl's scene: two Points sharing one position buffer
// (the working satellites in white, and the failed ones in red, larger so that they stand out; each an index into
// the buffer) and one LineSegments (every laser link), their buffers rewritten in place at each frame -- no
// object per satellite.
import * as THREE from "three";

/** globe.gl's globe radius (three-globe GLOBE_RADIUS) stands for the Earth's mean radius. */
export const GLOBE_RADIUS = 100;
export const EARTH_RADIUS_KM = 6371.0;
/** How a failed satellite is drawn (the legend's swatch uses the same colour). */
export const FAILED_SAT_COLOUR = "#ff4040";
export const SAT_COLOUR = "#f5f7fa";

/** Write the globe.gl scene coordinates of (lat, lon, alt_km) into `out` at `k` (three-globe polar2Cartesian). */
function toScene(out, k, latDeg, lonDeg, altKm) {
  if (!Number.isFinite(latDeg) || !Number.isFinite(lonDeg) || !Number.isFinite(altKm)) {
    out[k] = out[k + 1] = out[k + 2] = 0; // no position (SGP4 failed): hidden at the centre
    return;
  }
  const phi = ((90 - latDeg) * Math.PI) / 180;
  const theta = ((90 - lonDeg) * Math.PI) / 180;
  const r = GLOBE_RADIUS * (1 + altKm / EARTH_RADIUS_KM);
  const s = Math.sin(phi);
  out[k] = r * s * Math.cos(theta);
  out[k + 1] = r * Math.cos(phi);
  out[k + 2] = r * s * Math.sin(theta);
}

export class ConstellationLayer {
  constructor(scene) {
    this.satGeom = new THREE.BufferGeometry();
    this.sats = new THREE.Points(
      this.satGeom,
      new THREE.PointsMaterial({ color: SAT_COLOUR, size: 2.5, sizeAttenuation: false }) // pixels, at any zoom,
    );
    this.sats.frustumCulled = false;
    // the failed satellites: the same positions, another index, drawn after (on top of) the working ones
    this.failedGeom = new THREE.BufferGeometry();
    this.failed = new THREE.Points(
      this.failedGeom,
      new THREE.PointsMaterial({ color: FAILED_SAT_COLOUR, size: 3.5, sizeAttenuation: false }),
    );
    this.failed.frustumCulled = false;
    this.failed.renderOrder = 1;
    this.islGeom = new THREE.BufferGeometry();
    this.isls = new THREE.LineSegments(
      this.islGeom,
      new THREE.LineBasicMaterial({ color: 0x4cc9f0, transparent: true, opacity: 0.28 }),
    );
    this.isls.frustumCulled = false;
    // not pickable: clicks go through the constellation to the terminals and geofences under it
    this.sats.raycast = () => {};
    this.isls.raycast = () => {};
    this.failed.raycast = () => {};
    scene.add(this.sats);
    scene.add(this.failed);
    scene.add(this.isls);
    this.satPos = new Float32Array(0);
    this.islPos = new Float32Array(0);
    this.satGeom.setAttribute("position", new THREE.BufferAttribute(this.satPos, 3));
    this.islGeom.setAttribute("position", new THREE.BufferAttribute(this.islPos, 3));
    this.failedGeom.setAttribute("position", this.satGeom.attributes.position);
    this.nFailed = 0;
    this.failedKey = null;
  }

  /** Draw `frame`; `failed`: the indices of the satellites failed at the frame's time (default: none). */
  update(frame, failed = []) {
    const { nSat, nIsl, latDeg, lonDeg, altKm, islA, islB } = frame;
    if (this.satPos.length !== 3 * nSat) {
      this.satPos = new Float32Array(3 * nSat);
      const attr = new THREE.BufferAttribute(this.satPos, 3);
      this.satGeom.setAttribute("position", attr);
      this.failedGeom.setAttribute("position", attr);
    }
    for (let i = 0; i < nSat; i++) toScene(this.satPos, 3 * i, latDeg[i], lonDeg[i], altKm[i]);
    this.satGeom.attributes.position.needsUpdate = true;
    this.setFailed(nSat, failed);

    if (this.islPos.length !== 6 * nIsl) {
      this.islPos = new Float32Array(6 * nIsl);
      this.islGeom.setAttribute("position", new THREE.BufferAttribute(this.islPos, 3));
    }
    const p = this.satPos;
    const q = this.islPos;
    for (let j = 0; j < nIsl; j++) {
      const a = 3 * islA[j];
      const b = 3 * islB[j];
      const k = 6 * j;
      q[k] = p[a];
      q[k + 1] = p[a + 1];
      q[k + 2] = p[a + 2];
      q[k + 3] = p[b];
      q[k + 4] = p[b + 1];
      q[k + 5] = p[b + 2];
    }
    if (nIsl > 0) this.islGeom.attributes.position.needsUpdate = true;
    this.satGeom.computeBoundingSphere();
  }

  /** Split the satellites into the working ones and the `failed` ones (indices; out-of-range ones ignored). */
  setFailed(nSat, failed) {
    // rebuilt only when the set changes (a new index buffer a second would leave the old ones on the GPU)
    const key = `${nSat}:${[...failed].join(",")}`;
    if (key === this.failedKey) return;
    this.failedKey = key;
    const isFailed = new Uint8Array(nSat);
    for (const i of failed) if (i >= 0 && i < nSat) isFailed[i] = 1;
    let nf = 0;
    for (let i = 0; i < nSat; i++) nf += isFailed[i];
    const ok = new Uint32Array(nSat - nf);
    const bad = new Uint32Array(nf);
    for (let i = 0, a = 0, b = 0; i < nSat; i++) {
      if (isFailed[i]) bad[b++] = i;
      else ok[a++] = i;
    }
    // (a geometry's old index buffer is freed on the GPU by dispose(), which also re-uploads the positions)
    this.satGeom.dispose();
    this.failedGeom.dispose();
    this.satGeom.setIndex(new THREE.BufferAttribute(ok, 1));
    this.failedGeom.setIndex(new THREE.BufferAttribute(bad, 1));
    this.failed.visible = nf > 0;
    this.nFailed = nf;
  }

  /** The indices of the satellites drawn as failed (what the failed Points' index holds). */
  failedIndices() {
    const idx = this.failedGeom.index;
    return idx ? Array.from(idx.array) : [];
  }

  setLinksVisible(on) {
    this.isls.visible = on;
  }
}
