"""Reference data shipped inside the package: cities and gateways (see ``leonet/data/README.md`` for sources)."""

from __future__ import annotations

import csv
import difflib
import io
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from leonet.errors import InputError


@dataclass(frozen=True)
class Place:
    name: str
    lat_deg: float
    lon_deg: float
    alt_m: float = 0.0


def read_text(name: str) -> str:
    """Text of a file in ``leonet/data``."""
    return resources.files("leonet").joinpath("data", name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def cities() -> tuple[Place, ...]:
    """The 1,000 most populous cities (Hypatia's list, estimated 2025 population order; MIT, ETH Zurich 2020)."""
    out = []
    for row in csv.reader(io.StringIO(read_text("hypatia_cities_top1000.basic.txt"))):
        if row:
            out.append(Place(row[1], float(row[2]), float(row[3]), float(row[4])))
    return tuple(out)


@lru_cache(maxsize=1)
def gateways() -> tuple[Place, ...]:
    """Starlink gateway sites (StarPerf's list, approximate as of early 2024; BSD-2-Clause, SpaceNetLab 2020).
    A site listed for two bands appears once."""
    seen: set[tuple[float, float]] = set()
    out = []
    for row in csv.DictReader(io.StringIO(read_text("starlink_gateways_starperf.csv"))):
        key = (float(row["latitude"]), float(row["longitude"]))
        if key in seen:
            continue
        seen.add(key)
        out.append(Place(f"GW-{row['id']}-{row['description'].split(',')[0].split('|')[0].strip()}", *key))
    return tuple(out)


def fold_name(name: str) -> str:
    """A name for loose matching: case, accents, spaces and '-' do not count ("Sao Paulo" = "São-Paulo")."""
    decomposed = unicodedata.normalize("NFKD", name.strip())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold().replace(" ", "-")


def _keys(name: str) -> tuple[str, ...]:
    """A city's folded name and its parts: "Moskva-(Moscow)" -> ("moskva-(moscow)", "moskva", "moscow")."""
    full = fold_name(name)
    m = re.fullmatch(r"(.*?)-?\((.*)\)", full)
    return (full, m.group(1), m.group(2)) if m else (full,)


def find_name(name: str, names: Sequence[str]) -> int | None:
    """Index of ``name`` in ``names``: exact, else by :func:`fold_name` against a name or its parts
    ("Moscow" finds "Moskva-(Moscow)"), else a unique prefix at a word boundary ("New York" finds
    "New-York-Newark"); None if there is no match or several."""
    if name in names:
        return list(names).index(name)
    key = fold_name(name)
    hits = [i for i, n in enumerate(names) if key in _keys(n)]
    if len(hits) == 1:
        return hits[0]
    if not hits:
        hits = [i for i, n in enumerate(names) if any(k.startswith(key + "-") for k in _keys(n))]
    return hits[0] if len(hits) == 1 else None


def city(name: str, where: str = "city") -> Place:
    """A city of the shipped list by name (see :func:`find_name`)."""
    i = find_name(name, [c.name for c in cities()])
    if i is not None:
        return cities()[i]
    close = difflib.get_close_matches(name.replace(" ", "-"), [c.name for c in cities()], n=3)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise InputError(where, f"unknown city {name!r}{hint}; expected a name from the top-1000 cities list")
