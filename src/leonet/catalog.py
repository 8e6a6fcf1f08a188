"""Reference data shipped inside the package: cities and gateways (see ``leonet/data/README.md`` for sources),
and the one function that resolves a place name typed by a user against a list of names (:func:`resolve_name`:
the scenario loader, the command line and the report all use it)."""

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

CITIES_FILE = "hypatia_cities_top1000.basic.txt"
#: the country of each city of :data:`CITIES_FILE` (``tools/make_city_countries.py``)
CITY_COUNTRIES_FILE = "hypatia_cities_top1000.countries.csv"


@dataclass(frozen=True)
class Place:
    name: str
    lat_deg: float
    lon_deg: float
    alt_m: float = 0.0
    #: ISO 3166-1 alpha-2 and name of the country (Natural Earth 1:50m), '' when not known
    country_iso_a2: str = ""
    country: str = ""
    #: position in the population-ordered list (1: most populous), 0 for places that are not cities
    rank: int = 0


def read_text(name: str) -> str:
    """Text of a file in ``leonet/data``."""
    return resources.files("leonet").joinpath("data", name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def raw_cities() -> tuple[Place, ...]:
    """The shipped list as it is: Hypatia's 1,000 most populous cities (estimated 2025 population order; MIT,
    ETH Zurich 2020), with its repeated names (two Hyderabads, Santiagos, Valencias, Anyangs)."""
    out = []
    for row in csv.reader(io.StringIO(read_text(CITIES_FILE))):
        if row:
            out.append(Place(row[1], float(row[2]), float(row[3]), float(row[4]), rank=int(row[0]) + 1))
    return tuple(out)


def qualified(name: str, country: str) -> str:
    """A city name made unique by its country: ``Hyderabad`` in India -> ``Hyderabad-(India)``."""
    return f"{name}-({country.replace(' ', '-')})"


@lru_cache(maxsize=1)
def cities() -> tuple[Place, ...]:
    """The 1,000 cities with unique names and their countries: a name the list repeats is qualified by the
    country (:func:`qualified`), every other name is the list's own."""
    countries = {
        int(r["gid"]): (r["country_iso_a2"], r["country"])
        for r in csv.DictReader(io.StringIO(read_text(CITY_COUNTRIES_FILE)))
    }
    raw = raw_cities()
    seen: dict[str, int] = {}
    for c in raw:
        seen[c.name] = seen.get(c.name, 0) + 1
    out = []
    for c in raw:
        iso, country = countries.get(c.rank - 1, ("", ""))
        name = qualified(c.name, country) if seen[c.name] > 1 else c.name
        out.append(Place(name, c.lat_deg, c.lon_deg, c.alt_m, iso, country, c.rank))
    names = [c.name for c in out]
    if len(set(names)) != len(names):  # pragma: no cover - a data error, caught by tests/test_catalog.py
        raise RuntimeError("shipped city names are not unique after qualification")
    return tuple(out)


@lru_cache(maxsize=1)
def _country_qualified() -> dict[str, str]:
    """Qualified city name -> its bare name (the country part is not an alias of the city)."""
    return {c.name: r.name for c, r in zip(cities(), raw_cities(), strict=True) if c.name != r.name}


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
        name = f"GW-{row['id']}-{row['description'].split(',')[0].split('|')[0].strip()}"
        out.append(Place(name, *key, country_iso_a2=row["country_iso_a2"], country=row["country_name"]))
    return tuple(out)


@lru_cache(maxsize=1)
def pops() -> tuple[Place, ...]:
    """Starlink points of presence (StarPerf's list of 23; BSD-2-Clause, SpaceNetLab 2020), each named by its
    code, the part of StarPerf's name before " - " ("FRA", "LON/LHR", "ORD/CHI")."""
    out = []
    for row in csv.DictReader(io.StringIO(read_text("starlink_pops_starperf.csv"))):
        name = row["name"].split(" - ")[0].strip()
        out.append(
            Place(
                name,
                float(row["latitude"]),
                float(row["longitude"]),
                country_iso_a2=row["country_iso_a2"],
                country=row["country_name"],
            )
        )
    return tuple(out)


@dataclass(frozen=True)
class PublishedLatency:
    """A published Starlink latency figure (``published_latency.csv``, sources in each row)."""

    region: str
    statistic: str
    rtt_ms: float
    period: str
    measured_by: str
    path: str
    source: str


def published_latency() -> tuple[PublishedLatency, ...]:
    """The published latency figures that ``docs/validation.md`` compares the access model with."""
    rows = csv.DictReader(io.StringIO(read_text("published_latency.csv")))
    return tuple(PublishedLatency(**{**r, "rtt_ms": float(r["rtt_ms"])}) for r in rows)  # type: ignore[arg-type]


def fold_name(name: str) -> str:
    """A name for loose matching: case, accents, spaces, '_' and '-' do not count ("Sao Paulo" = "São-Paulo")."""
    decomposed = unicodedata.normalize("NFKD", name.strip())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return re.sub(r"[\s_]+", "-", bare)


def _keys(name: str) -> tuple[str, ...]:
    """A name's folded forms it can be found by: "Moskva-(Moscow)" -> ("moskva-(moscow)", "moskva", "moscow");
    a country-qualified city "Hyderabad-(India)" -> ("hyderabad-(india)", "hyderabad")."""
    full = fold_name(name)
    bare = _country_qualified().get(name)
    if bare is not None:
        return (full, fold_name(bare))
    m = re.fullmatch(r"(.*?)-*\((.*)\)", full)
    return (full, m.group(1), m.group(2)) if m else (full,)


@lru_cache(maxsize=8)
def _key_table(names: tuple[str, ...]) -> list[tuple[str, ...]]:
    """:func:`_keys` of every name (built once per list of names: the cities, a scenario's ground nodes)."""
    return [_keys(n) for n in names]


def match_names(name: str, names: Sequence[str]) -> list[int]:
    """Indices in ``names`` that ``name`` may mean: the exact name; else the names whose folded form, or a part
    of it ("Moscow" finds "Moskva-(Moscow)", "Hyderabad" both Hyderabads), equals ``name`` folded; else those
    it is a prefix of at a word boundary ("New York" finds "New-York-Newark").  One index: resolved; none:
    unknown; several: ambiguous."""
    if name in names:
        return [list(names).index(name)]
    key = fold_name(name)
    keys = _key_table(tuple(names))
    hits = [i for i, k in enumerate(keys) if key in k]
    if not hits:
        hits = [i for i, k in enumerate(keys) if any(x.startswith(key + "-") for x in k)]
    return hits


def find_name(name: str, names: Sequence[str]) -> int | None:
    """Index of ``name`` in ``names`` (see :func:`match_names`), None if unknown or ambiguous."""
    hits = match_names(name, names)
    return hits[0] if len(hits) == 1 else None


def suggest(name: str, names: Sequence[str], n: int = 3) -> list[str]:
    """Up to ``n`` names close to ``name`` (difflib, on folded names), for "did you mean"."""
    by_key: dict[str, str] = {}
    for nm in names:
        by_key.setdefault(fold_name(nm), nm)
    close = difflib.get_close_matches(fold_name(name), list(by_key), n=n, cutoff=0.6)
    return [by_key[k] for k in close]


def did_you_mean(name: str, names: Sequence[str]) -> str:
    """`` (did you mean A, B?)`` or ``''``."""
    close = suggest(name, names)
    return f" (did you mean {', '.join(close)}?)" if close else ""


def resolve_name(name: str, names: Sequence[str], where: str, what: str, expected: str) -> int:
    """Index of ``name`` in ``names`` (:func:`match_names`), or an :class:`InputError` at ``where``: unknown
    (with "did you mean") or ambiguous (listing the choices).  ``what`` names the kind of thing ("city"),
    ``expected`` says what was expected when it is unknown."""
    hits = match_names(name, names)
    if len(hits) == 1:
        return hits[0]
    if hits:
        choices = ", ".join(names[i] for i in hits[:10])
        raise InputError(where, f"{what} {name!r} is ambiguous; expected one of: {choices}")
    raise InputError(where, f"unknown {what} {name!r}{did_you_mean(name, names)}; expected {expected}")


def city(name: str, where: str = "city") -> Place:
    """A city of the shipped list by name (see :func:`resolve_name`)."""
    names = [c.name for c in cities()]
    i = resolve_name(name, names, where, "city", "a name from the top-1000 cities list (`leonet cities`)")
    return cities()[i]


def search_cities(text: str | None) -> list[Place]:
    """Cities whose name or country contains ``text`` (folded), or every city; population order."""
    if not text:
        return list(cities())
    key = fold_name(text)
    return [
        c
        for c in cities()
        if key in fold_name(c.name) or key == fold_name(c.country_iso_a2) or key in fold_name(c.country)
    ]
