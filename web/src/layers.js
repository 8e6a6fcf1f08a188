// The constellation as two three.js objects added to globe.gl's scene: one Points (every satellite) and one
// LineSegments (every laser link), their buffers rewritten in place at each frame -- no object per satellite.
import * as THREE from "three";

/** globe.gl's globe radius (three-globe GLOBE_RADIUS) stands for the Earth's mean radius. */
export const GLOBE_RADIUS = 100;
export const EARTH_RADIUS_KM = 6371.0;

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
      new THREE.PointsMaterial({ color: 0xf5f7fa, size: 2.5, sizeAttenuation: false }) // pixels, at any zoom,
    );
    this.sats.frustumCulled = false;
    this.islGeom = new THREE.BufferGeometry();
    this.isls = new THREE.LineSegments(
      this.islGeom,
      new THREE.LineBasicMaterial({ color: 0x4cc9f0, transparent: true, opacity: 0.28 }),
    );
    this.isls.frustumCulled = false;
    // not pickable: clicks go through the constellation to the terminals and geofences under it
    this.sats.raycast = () => {};
    this.isls.raycast = () => {};
    scene.add(this.sats);
    scene.add(this.isls);
    this.satPos = new Float32Array(0);
    this.islPos = new Float32Array(0);
    this.satGeom.setAttribute("position", new THREE.BufferAttribute(this.satPos, 3));
    this.islGeom.setAttribute("position", new THREE.BufferAttribute(this.islPos, 3));
  }

  update(frame) {
    const { nSat, nIsl, latDeg, lonDeg, altKm, islA, islB } = frame;
    if (this.satPos.length !== 3 * nSat) {
      this.satPos = new Float32Array(3 * nSat);
      this.satGeom.setAttribute("position", new THREE.BufferAttribute(this.satPos, 3));
    }
    for (let i = 0; i < nSat; i++) toScene(this.satPos, 3 * i, latDeg[i], lonDeg[i], altKm[i]);
    this.satGeom.attributes.position.needsUpdate = true;

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

  setLinksVisible(on) {
    this.isls.visible = on;
  }
}
