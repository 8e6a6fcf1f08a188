"""Hypatia's satellite-network directory: the file formats, byte for byte as satgenpy 0.4.0 writes them.

``tles.txt`` (``"<orbits> <sats per orbit>"``, then ``name id`` / line 1 / line 2 per satellite),
``isls.txt`` (``"a b"``, ``a < b``), ``ground_stations.txt`` (extended: ``gid,name,lat,lon,elevation_m,x,y,z``
with ``%f`` and the WGS-72 Cartesian position, ``satgen/ground_stations/extend_ground_stations.py``) and the
basic list it comes from (``ground_stations.basic.txt``), ``description.txt`` (``max_gsl_length_m=%.10f``,
``max_isl_length_m=%.10f``), ``gsl_interfaces_info.txt`` (``node,interfaces,bandwidth`` with ``%d,%d,%f``), and
in ``dynamic_state_<step_ms>ms_for_<duration_s>s/``: ``fstate_<t_ns>.txt`` (``%d,%d,%d,%d,%d``: the first step
in full, then only entries that changed) and ``gsl_if_bandwidth_<t_ns>.txt`` (filled at t = 0 only, empty after,
as satgenpy's ``algorithm_free_one_only_over_isls`` does).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numba import njit
from numpy.typing import NDArray


@njit(cache=True, nogil=True)
def _put(out, p, v, end):  # type: ignore[no-untyped-def]
    """Write integer ``v`` in decimal at ``out[p:]``, then the byte ``end``; returns the new position."""
    if v < 0:
        out[p] = 45  # '-'
        p += 1
        v = -v
    q = p
    while True:
        out[q] = 48 + v % 10
        v //= 10
        q += 1
        if v == 0:
            break
    i, j = p, q - 1
    while i < j:
        out[i], out[j] = out[j], out[i]
        i += 1
        j -= 1
    out[q] = end
    return q + 1


@njit(cache=True)
def _format_rows(rows):  # type: ignore[no-untyped-def]
    """ASCII ``%d,%d,...\\n`` lines of an (R, C) int64 array, as bytes (uint8)."""
    R, C = rows.shape
    out = np.empty(R * C * 21 + 1, np.uint8)
    p = 0
    for r in range(R):
        for c in range(C):
            p = _put(out, p, rows[r, c], 44 if c < C - 1 else 10)
    return out[:p]


@njit(cache=True, nogil=True)
def _fstate_bytes(sat, gs, psat, pgs, full):  # type: ignore[no-untyped-def]
    """The lines of ``fstate_<t>.txt`` (satgenpy's order: satellite entries, then station pairs) for entries
    ``sat`` (S, G, 3) and ``gs`` (G, G, 3): all of them if ``full``, else those that differ from ``psat`` /
    ``pgs``.  Returns (bytes, number of lines)."""
    S, G = sat.shape[0], sat.shape[1]
    out = np.empty((S * G + G * G) * 5 * 21 + 1, np.uint8)
    p = 0
    n = 0
    for c in range(S):
        for d in range(G):
            if full or sat[c, d, 0] != psat[c, d, 0] or sat[c, d, 1] != psat[c, d, 1] or sat[c, d, 2] != psat[c, d, 2]:
                p = _put(out, p, c, 44)
                p = _put(out, p, S + d, 44)
                p = _put(out, p, sat[c, d, 0], 44)
                p = _put(out, p, sat[c, d, 1], 44)
                p = _put(out, p, sat[c, d, 2], 10)
                n += 1
    for g in range(G):
        for h in range(G):
            if h == g:
                continue
            if full or gs[g, h, 0] != pgs[g, h, 0] or gs[g, h, 1] != pgs[g, h, 1] or gs[g, h, 2] != pgs[g, h, 2]:
                p = _put(out, p, S + g, 44)
                p = _put(out, p, S + h, 44)
                p = _put(out, p, gs[g, h, 0], 44)
                p = _put(out, p, gs[g, h, 1], 44)
                p = _put(out, p, gs[g, h, 2], 10)
                n += 1
    return out[:p], n


def format_rows(rows: NDArray[np.int64]) -> bytes:
    """``"%d,%d,...\\n" % row`` for every row, joined (in numba)."""
    a = np.ascontiguousarray(rows, dtype=np.int64)
    if a.size == 0:
        return b""
    return bytes(_format_rows(a))


def dynamic_state_dirname(step_ms: int, duration_s: int) -> str:
    """satgenpy's name (``helper_dynamic_state.help_dynamic_state``)."""
    return f"dynamic_state_{step_ms}ms_for_{duration_s}s"


def tles_text(n_orbits: int, n_per_orbit: int, names: Sequence[str], lines: Sequence[tuple[str, str]]) -> str:
    out = [f"{n_orbits} {n_per_orbit}\n"]
    for name, (l1, l2) in zip(names, lines, strict=True):
        out.append(f"{name}\n{l1}\n{l2}\n")
    return "".join(out)


def isls_text(isl: NDArray[np.int64]) -> str:
    return "".join(f"{int(a)} {int(b)}\n" for a, b in isl)


def wgs72_cartesian_m(
    lat_deg: NDArray[np.float64], lon_deg: NDArray[np.float64], alt_m: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Geodetic -> Earth-fixed Cartesian (m) on the WGS-72 ellipsoid (a = 6,378,135 m, f = 1/298.26), the
    textbook formula Hypatia uses for its ground stations (its ``geodetic2cartesian``): ``leonet.geodesy``'s,
    shape (G, 3)."""
    from leonet.geodesy import wgs72_to_ecef_km

    return np.asarray(wgs72_to_ecef_km(lat_deg, lon_deg, alt_m), dtype=np.float64).reshape(-1, 3) * 1000.0


def ground_stations_texts(
    names: Sequence[str], lat_deg: NDArray[np.float64], lon_deg: NDArray[np.float64], alt_m: NDArray[np.float64]
) -> tuple[str, str]:
    """(basic, extended) ground-station lists."""
    xyz = wgs72_cartesian_m(lat_deg, lon_deg, alt_m)
    basic, ext = [], []
    for i, name in enumerate(names):
        lat, lon, h = float(lat_deg[i]), float(lon_deg[i]), float(alt_m[i])
        basic.append(f"{i},{name},{lat!r},{lon!r},{h!r}\n")
        x, y, z = (float(c) for c in xyz[i])
        ext.append(f"{i},{name},{lat:f},{lon:f},{h:f},{x:f},{y:f},{z:f}\n")
    return "".join(basic), "".join(ext)


def description_text(max_gsl_m: float, max_isl_m: float) -> str:
    return f"max_gsl_length_m={max_gsl_m:.10f}\nmax_isl_length_m={max_isl_m:.10f}\n"


def gsl_interfaces_text(n_sats: int, n_ground: int, bandwidth_sat: float, bandwidth_gs: float) -> str:
    return "".join(
        f"{i},1,{bandwidth_sat if i < n_sats else bandwidth_gs:f}\n" for i in range(n_sats + n_ground)
    )


def gsl_if_bandwidth_text(num_isls: NDArray[np.int64], n_ground: int, bandwidth_sat: float, bandwidth_gs: float) -> str:
    S = len(num_isls)
    sats = [f"{i},{int(num_isls[i])},{bandwidth_sat:f}\n" for i in range(S)]
    return "".join(sats + [f"{S + g},0,{bandwidth_gs:f}\n" for g in range(n_ground)])


class DeltaWriter:
    """Writes ``fstate_<t_ns>.txt`` and ``gsl_if_bandwidth_<t_ns>.txt`` step after step into ``folder``: the
    first forwarding state in full, then the entries that changed (satgenpy's ``prev_fstate`` test)."""

    def __init__(self, folder: Path, bandwidth_text: str) -> None:
        self.folder = folder
        self.bandwidth_text = bandwidth_text
        self.prev: tuple[NDArray[np.int64], NDArray[np.int64]] | None = None
        self.rows_written = 0

    def write(self, t_ns: int, sat: NDArray[np.int64], gs: NDArray[np.int64]) -> None:
        full = self.prev is None
        psat, pgs = (sat, gs) if self.prev is None else self.prev
        data, n = _fstate_bytes(sat, gs, psat, pgs, full)
        self.prev = (sat, gs)
        self.rows_written += int(n)
        (self.folder / f"fstate_{t_ns}.txt").write_bytes(data.tobytes())
        (self.folder / f"gsl_if_bandwidth_{t_ns}.txt").write_text(self.bandwidth_text if t_ns == 0 else "")
