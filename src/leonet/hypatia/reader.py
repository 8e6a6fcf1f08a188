"""A Hypatia satellite-network directory as a constellation source (``constellation = { hypatia = "DIR" }``)
and, optionally, as ground nodes (``[ground] hypatia = "DIR"``).

Reads ``DIR/tles.txt`` (``"<orbits> <sats per orbit>"``, then name / line 1 / line 2; the satellite ids in the
names count up from 0, as satgenpy's ``read_tles`` requires), ``DIR/isls.txt`` (the explicit ISL list, ``a b``
with ``a < b``, no duplicates: satgenpy's ``read_isls`` rules) and ``DIR/ground_stations.txt`` (extended, 8
columns, or basic, 5 columns; ``gid`` counting up from 0).  The ISLs are exactly the file's (no +Grid is
derived), so node ids and routes are the directory's.  Bad input: the file, the line and what was expected.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from leonet.catalog import Place
from leonet.errors import InputError
from leonet.orbits.constellation import Constellation
from leonet.orbits.tle import parse_tle_text, satrecs_from_tle
from leonet.safeio import read_text_capped


def _file(folder: Path, name: str) -> Path:
    if not folder.is_dir():
        raise InputError(str(folder), "not a directory; expected a Hypatia satellite-network directory")
    p = folder / name
    if not p.is_file():
        raise InputError(str(p), f"no such file; expected {name} in a Hypatia satellite-network directory")
    return p


def read_header(folder: Path) -> tuple[int, int]:
    """(orbits, satellites per orbit) of ``folder/tles.txt``'s first line."""
    tles = _file(folder, "tles.txt")
    first = read_text_capped(tles, "Hypatia's tles.txt").split("\n", 1)[0]
    head = first.split()
    if len(head) != 2 or not all(h.isdigit() for h in head):
        raise InputError(f"{tles}:1", f"got {first!r}; expected '<orbits> <satellites per orbit>'")
    return int(head[0]), int(head[1])


def read_constellation(folder: Path) -> Constellation:
    """The satellites of ``folder/tles.txt`` with the ISLs of ``folder/isls.txt``."""
    tles = _file(folder, "tles.txt")
    text = read_text_capped(tles, "Hypatia's tles.txt")
    lines = text.splitlines()
    head = lines[0].split() if lines else []
    if len(head) != 2 or not all(h.isdigit() for h in head):
        raise InputError(f"{tles}:1", f"got {lines[0] if lines else ''!r}; expected '<orbits> <satellites per orbit>'")
    recs = parse_tle_text("\n".join(["", *lines[1:]]), source=str(tles))  # line numbers stay the file's
    for i, r in enumerate(recs):
        parts = r.name.split()
        if len(parts) < 2 or parts[1] != str(i):
            raise InputError(
                f"{tles}:{r.lineno - 1}", f"name {r.name!r}; expected '<name> {i}' (satellite ids count up from 0)"
            )
    S = len(recs)
    if int(head[0]) * int(head[1]) != S:
        raise InputError(f"{tles}:1", f"{head[0]} x {head[1]} satellites, the file has {S}; expected them to agree")
    isl_path = _file(folder, "isls.txt")
    pairs: list[tuple[int, int]] = []
    seen: set[tuple[int, int]] = set()
    for n, line in enumerate(read_text_capped(isl_path, "Hypatia's isls.txt").splitlines(), start=1):
        if not line.strip():
            continue
        f = line.split()
        if len(f) != 2 or not all(x.isdigit() for x in f):
            raise InputError(f"{isl_path}:{n}", f"got {line!r}; expected two satellite ids 'a b'")
        a, b = int(f[0]), int(f[1])
        if b >= S:
            raise InputError(f"{isl_path}:{n}", f"satellite {b} does not exist; expected ids below {S}")
        if b <= a:
            raise InputError(f"{isl_path}:{n}", f"{a} {b}; expected the second id strictly larger than the first")
        if (a, b) in seen:
            raise InputError(f"{isl_path}:{n}", f"duplicate ISL {a} {b}; expected each ISL once")
        seen.add((a, b))
        pairs.append((a, b))
    isl = np.array(pairs, dtype=np.int32).reshape(-1, 2)
    return Constellation(
        folder.name, satrecs_from_tle(recs), [r.name for r in recs], (), isl, observed=np.ones(S, dtype=bool)
    )


def read_ground_stations(path: Path) -> list[Place]:
    """Ground stations of a Hypatia directory (its ``ground_stations.txt``) or of such a file, extended or
    basic, in gid order; a name the file repeats gets its gid (``Hyderabad-(gid-36)``)."""
    p = _file(path, "ground_stations.txt") if path.is_dir() else path
    if not p.is_file():
        raise InputError(str(p), "no such file; expected a Hypatia ground_stations.txt or its directory")
    out: list[Place] = []
    for n, line in enumerate(read_text_capped(p, "Hypatia's ground_stations.txt").splitlines(), start=1):
        if not line.strip():
            continue
        f = line.split(",")
        if len(f) not in (5, 8):
            raise InputError(
                f"{p}:{n}", f"{len(f)} columns; expected 8 (extended) or 5 (basic): gid,name,lat,lon,elevation"
            )
        if f[0].strip() != str(len(out)):
            raise InputError(f"{p}:{n}", f"gid {f[0]!r}; expected {len(out)} (ids count up from 0)")
        try:
            lat, lon, alt = float(f[2]), float(f[3]), float(f[4])
        except ValueError:
            raise InputError(f"{p}:{n}", "latitude, longitude, elevation; expected numbers (degrees, m)") from None
        out.append(Place(f[1].strip(), lat, lon, alt))
    # Hypatia allows a repeated name (its top-1000 list has two Hyderabads); leonet's node names are unique
    count: dict[str, int] = {}
    for pl in out:
        count[pl.name] = count.get(pl.name, 0) + 1
    return [replace(pl, name=f"{pl.name}-(gid-{i})") if count[pl.name] > 1 else pl for i, pl in enumerate(out)]
