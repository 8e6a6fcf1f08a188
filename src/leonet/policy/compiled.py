"""A validated policy made ready to evaluate: region geometries with their point-in-polygon indexes, the
terminal registry as arrays, and the table of denial causes (rule id + reason) that decisions index.

``parse_policy(data, source, base_dir)`` does everything from a ``[policy]`` dict: validation
(:func:`~leonet.policy.models.parse_policy_config`), reading geofence files (:func:`resolve_geometries`, the
only step that touches files) and building (:func:`compile_policy`, pure).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from leonet.errors import InputError
from leonet.policy._grid import PolygonGrid
from leonet.policy.borders import NO_CODE, NO_COUNTRY, borders
from leonet.policy.geometry import geometry_from_geojson, load_geojson_geometry
from leonet.policy.models import CountryOverride, Geofence, PolicyConfig, parse_policy_config

#: Prefix of a geofence ``file`` that names a file shipped in ``leonet/data``.
BUILTIN_PREFIX = "builtin:"


@dataclass(frozen=True)
class Region:
    """Where a geofence or country override applies: a polygon with its lookup grid, or a set of countries."""

    rule_id: str
    geometry: shapely.Geometry
    grid: PolygonGrid | None
    countries: NDArray[np.bool_] | None  # over the country table, for regions given as countries

    def contains(
        self, lat_deg: NDArray[np.float64], lon_deg: NDArray[np.float64], country: NDArray[np.int16]
    ) -> NDArray[np.bool_]:
        """Whether each point lies in the region (inside a polygon, or in one of the countries)."""
        if self.countries is not None:
            return self.countries[country]
        assert self.grid is not None
        return self.grid.lookup(lon_deg, lat_deg) >= 0


def _polygon_region(rule_id: str, geom: shapely.Geometry) -> Region:
    parts = shapely.get_parts(geom)
    x0, y0, x1, y1 = shapely.total_bounds(parts)
    span = max(x1 - x0, y1 - y0, 1e-9)
    nx = int(np.clip(np.ceil(64 * (x1 - x0) / span), 1, 64))
    ny = int(np.clip(np.ceil(64 * (y1 - y0) / span), 1, 64))
    grid = PolygonGrid(parts, np.zeros(len(parts), dtype=np.int32), (x0, y0, x1, y1), (nx, ny), sub=8)
    return Region(rule_id, geom, grid, None)


@dataclass(frozen=True)
class Policy:
    """A policy ready for :func:`leonet.policy.evaluate`.

    ``codes``: the country table (``''`` first) that country indices refer to; ``rule_ids`` / ``reasons``:
    the denial causes, in evaluation order, that ``Decisions.rule`` indexes (a rule id can appear more than
    once, e.g. ``no-licence`` once per country); ``cause``: the index of each cause by key.
    """

    config: PolicyConfig
    codes: tuple[str, ...]
    geofences: tuple[Region, ...]
    overrides: tuple[Region, ...]
    rule_ids: tuple[str, ...]
    reasons: tuple[str, ...]
    cause: dict[tuple[str, ...], int]
    licence_base: int
    classes: tuple[str, ...]
    account_types: tuple[str, ...]
    whitelists: tuple[str, ...]
    # registry, sorted by terminal id
    reg_ids: NDArray[np.str_]
    reg_active: NDArray[np.bool_]
    reg_class: NDArray[np.int32]
    reg_account_type: NDArray[np.int32]
    reg_country: NDArray[np.int16]
    reg_exempt: NDArray[np.bool_]
    reg_whitelist: NDArray[np.bool_]  # (whitelists, registry)
    reg_abroad_since_unix_s: NDArray[np.float64]  # NaN: not known to be abroad
    geometries: dict[str, shapely.Geometry] = field(default_factory=dict)

    def country_index(self, lat_deg: ArrayLike, lon_deg: ArrayLike) -> NDArray[np.int16]:
        """Index into :attr:`codes` of the country of each point: Natural Earth, then ``country_overrides``."""
        lat = np.asarray(lat_deg, dtype=np.float64)
        lon = np.asarray(lon_deg, dtype=np.float64)
        idx = borders().lookup(lat, lon)
        for ov, rule in zip(self.overrides, self.config.country_overrides, strict=True):
            inside = ov.contains(lat, lon, idx)
            idx[inside] = self.codes.index(rule.country)
        return idx

    def country_codes(self, lat_deg: ArrayLike, lon_deg: ArrayLike) -> NDArray[np.str_]:
        """``ISO_A2_EH`` code of each point as the policy sees it (``''``: no country)."""
        return np.asarray(self.codes, dtype="<U3")[self.country_index(lat_deg, lon_deg)]

    def index_of_class(self, name: str | None) -> int:
        return -1 if name is None else self.classes.index(name)


def _builtin_path(name: str) -> Path:
    """The file ``builtin:NAME`` names: ``NAME`` is a file name in ``leonet/data`` (no directories)."""
    rest = name[len(BUILTIN_PREFIX) :]
    if not rest or rest != Path(rest).name or "\\" in rest or rest.startswith("."):
        raise InputError(name, "not a built-in file; expected builtin:NAME with NAME a file of leonet/data")
    return Path(str(resources.files("leonet").joinpath("data", rest)))


def _resolve_path(name: str, base_dir: str | Path) -> Path:
    if name.startswith(BUILTIN_PREFIX):
        return _builtin_path(name)
    p = Path(name)
    return p if p.is_absolute() else Path(base_dir) / p


def served_file_problem(name: str, base_dir: str | Path) -> str | None:
    """Why a geofence ``file`` given through the API is refused (None: it is fine).  Through the API a file must
    be ``builtin:NAME`` or a regular file inside the scenario's directory (``base_dir``), named relative to it or
    absolutely: the service must not read whatever path a caller names (``/dev/zero``, ``../../etc/...``).
    The answer is the same whether a file outside exists or not."""
    expected = "expected builtin:NAME or a GeoJSON file inside the scenario's directory, named relative to it"
    if not isinstance(name, str) or "\x00" in name:
        return f"got {name!r:.80}; {expected}"
    try:
        if name.startswith(BUILTIN_PREFIX):
            p = _builtin_path(name)
        else:
            base = Path(base_dir).resolve()
            p = _resolve_path(name, base).resolve()
            if not p.is_relative_to(base):
                return f"got {name!r:.80}: outside the scenario's directory; {expected}"
        if not p.is_file():
            return f"got {name!r:.80}: no such file; {expected}"
    except (InputError, OSError, ValueError):
        return f"got {name!r:.80}; {expected}"
    return None


def resolve_geometries(config: PolicyConfig, base_dir: str | Path = ".") -> dict[str, shapely.Geometry]:
    """The geometry of every geofence and country override given as ``geometry`` or ``file`` (files are read
    here: relative to ``base_dir``, or ``builtin:NAME`` for ``leonet/data/NAME``)."""
    out: dict[str, shapely.Geometry] = {}
    rules: list[tuple[str, Geofence | CountryOverride]] = [("geofences", g) for g in config.geofences]
    rules += [("country_overrides", o) for o in config.country_overrides]
    for kind, rule in rules:
        if rule.geometry is not None:
            out[rule.id] = geometry_from_geojson(rule.geometry, f"[policy.{kind}] {rule.id} geometry")
        elif rule.file is not None:
            try:
                out[rule.id] = load_geojson_geometry(_resolve_path(rule.file, base_dir), rule.feature)
            except InputError as exc:
                raise InputError(f"{exc.where} ([policy.{kind}] {rule.id})", exc.problem) from None
    return out


#: the shipped named regions (``region_id`` of each feature) that a jamming fault's ``region`` may name
REGIONS_FILE = "builtin:geofence_regions.geojson"


@functools.lru_cache(maxsize=32)
def builtin_region(region_id: str) -> shapely.Geometry:
    """The geometry of the shipped region ``region_id`` (a feature of :data:`REGIONS_FILE`, as a geofence's
    ``file = "builtin:geofence_regions.geojson"`` with ``feature = { region_id = ... }`` selects it)."""
    path = _builtin_path(REGIONS_FILE)
    ids = _region_ids()
    if region_id not in ids:
        from leonet.catalog import did_you_mean

        raise InputError(
            "region", f"unknown region {region_id!r}{did_you_mean(region_id, ids)}; expected one of {', '.join(ids)}"
        )
    return load_geojson_geometry(path, {"region_id": region_id})


@functools.lru_cache(maxsize=1)
def _region_ids() -> list[str]:
    import json

    data = json.loads(_builtin_path(REGIONS_FILE).read_text(encoding="utf-8"))
    return [str(f["properties"]["region_id"]) for f in data["features"]]


def polygon_of_ring(ring: Sequence[tuple[float, float]]) -> shapely.Geometry:
    """A checked polygon from one ring of ``(lon, lat)`` points (closed here when the last point is not the
    first), with the geofences' checks (:func:`~leonet.policy.geometry.geometry_from_geojson`)."""
    pts = [[float(x), float(y)] for x, y in ring]
    if pts and pts[0] != pts[-1]:
        pts.append(pts[0])
    return geometry_from_geojson({"type": "Polygon", "coordinates": [pts]}, "polygon")


def region_of(rule_id: str, geom: shapely.Geometry) -> Region:
    """A polygon :class:`Region` (with its point-in-polygon lookup grid), as the geofences have."""
    return _polygon_region(rule_id, geom)


def _windows_overlap(a: Geofence, b: Geofence) -> bool:
    lo = max((w for w in (a.active_from, b.active_from) if w is not None), default=None)
    hi = min((w for w in (a.active_until, b.active_until) if w is not None), default=None)
    return lo is None or hi is None or lo < hi


def _interiors_meet(a: shapely.Geometry, b: shapely.Geometry) -> bool:
    return bool(shapely.intersects(a, b)) and bool(shapely.relate_pattern(a, b, "T********"))


def _check_overlaps(config: PolicyConfig, geoms: dict[str, shapely.Geometry]) -> None:
    fences = config.geofences
    for i, a in enumerate(fences):
        for b in fences[i + 1 :]:
            if a.priority != b.priority or (a.action, a.whitelist) == (b.action, b.whitelist):
                continue
            if _windows_overlap(a, b) and _interiors_meet(geoms[a.id], geoms[b.id]):
                what = f"{a.action}" + (f" {a.whitelist}" if a.whitelist else "")
                what_b = f"{b.action}" + (f" {b.whitelist}" if b.whitelist else "")
                raise InputError(
                    "[policy.geofences]",
                    f"geofences {a.id!r} ({what}) and {b.id!r} ({what_b}) overlap with equal priority {a.priority}; "
                    "expected different priorities, or regions or time windows that do not overlap",
                )
    ovs = config.country_overrides
    for i, o in enumerate(ovs):
        for p in ovs[i + 1 :]:
            if o.country != p.country and _interiors_meet(geoms[o.id], geoms[p.id]):
                raise InputError(
                    "[policy.country_overrides]",
                    f"country overrides {o.id!r} ({o.country}) and {p.id!r} ({p.country}) overlap; expected "
                    "regions that do not overlap",
                )


def _causes(
    config: PolicyConfig, codes: tuple[str, ...]
) -> tuple[list[str], list[str], dict[tuple[str, ...], int], int]:
    ids: list[str] = []
    reasons: list[str] = []
    cause: dict[tuple[str, ...], int] = {}

    def add(key: tuple[str, ...], rule_id: str, reason: str) -> None:
        cause[key] = len(ids)
        ids.append(rule_id)
        reasons.append(reason)

    add(("unregistered",), "unregistered", "terminal is not registered, and the policy denies unregistered terminals")
    add(("suspended",), "suspended", "terminal is suspended")
    for g in config.geofences:
        if g.action == "deny":
            add(("geofence", g.id), g.id, f"inside geofence {g.id} (deny)")
        elif g.action == "whitelist-only":
            add(
                ("geofence", g.id, "unregistered"),
                g.id,
                f"inside whitelist-only geofence {g.id}, and the terminal is not registered",
            )
            add(
                ("geofence", g.id, "not-listed"),
                g.id,
                f"inside whitelist-only geofence {g.id}, and the terminal is not on whitelist {g.whitelist}",
            )
    base = len(ids)
    names = borders().names
    for i, c in enumerate(codes):
        if c == NO_COUNTRY:
            text = "no licence outside every country (open sea), and the policy denies service there"
        elif c == NO_CODE:
            text = "no licence for an area without an ISO 3166 code (N. Cyprus or Somaliland)"
        else:
            text = f"no licence for {c}" + (f" ({names[i]})" if i < len(names) and names[i] else "")
        add(("no-licence", c), "no-licence", text)
    for s in config.service_bans:
        where = f" in {', '.join(s.countries)}" if s.countries else ""
        add(("service-ban", s.id), s.id, f"service class {' / '.join(s.service_classes)} not served{where} ({s.id})")
    for sc in config.speed_caps:
        where = f" in {', '.join(sc.countries)}" if sc.countries else ""
        add(("speed-cap", sc.id), sc.id, f"speed above the {sc.max_speed_kmh:g} km/h cap of {sc.id}{where}")
    for mb in config.motion_bans:
        add(("motion-ban", mb.id), mb.id, f"in motion on land in {', '.join(mb.countries)}, banned by {mb.id}")
    for m in config.mobility:
        plan = f"plan {m.service_class} ({m.id})"
        if not m.in_motion:
            add(("mobility", m.id, "in-motion"), m.id, f"in motion, and {plan} allows no in-motion use")
        if m.max_speed_kmh is not None:
            add(("mobility", m.id, "speed"), m.id, f"speed above the {m.max_speed_kmh:g} km/h limit of {plan}")
        if m.max_altitude_m is not None:
            add(("mobility", m.id, "altitude"), m.id, f"altitude above the {m.max_altitude_m:g} m limit of {plan}")
        if m.roaming_days is not None:
            add(
                ("mobility", m.id, "roaming"),
                m.id,
                f"abroad longer than the {m.roaming_days:g}-day roaming limit of {plan}",
            )
    return ids, reasons, cause, base


def compile_policy(config: PolicyConfig, geometries: dict[str, shapely.Geometry] | None = None) -> Policy:
    """Build the evaluator of ``config``; ``geometries`` gives the region of every geofence / override that
    is not given as ``countries`` (see :func:`resolve_geometries`).  Checks that geofences of equal priority
    and different actions do not overlap (in space and time)."""
    geoms = dict(geometries or {})
    b = borders()
    codes = b.codes
    fences: list[Region] = []
    for g in config.geofences:
        if g.countries is not None:
            mask = np.zeros(len(codes), dtype=bool)
            mask[[codes.index(c) for c in g.countries]] = True
            geoms[g.id] = b.geometry(list(g.countries))
            fences.append(Region(g.id, geoms[g.id], None, mask))
        else:
            if g.id not in geoms:
                raise InputError(f"[policy.geofences] {g.id}", "no geometry was resolved; expected geometry or file")
            fences.append(_polygon_region(g.id, geoms[g.id]))
    overrides = []
    for o in config.country_overrides:
        if o.id not in geoms:
            raise InputError(f"[policy.country_overrides] {o.id}", "no geometry was resolved; expected geometry, file")
        overrides.append(_polygon_region(o.id, geoms[o.id]))
    _check_overlaps(config, geoms)
    ids, reasons, cause, base = _causes(config, codes)

    classes = {t.service_class for t in config.terminals}
    classes |= {m.service_class for m in config.mobility}
    classes |= {c for s in config.service_bans for c in s.service_classes}
    classes |= {c for mb in config.motion_bans for c in mb.except_service_classes}
    if config.default.unregistered_service_class:
        classes.add(config.default.unregistered_service_class)
    account_types = {t.account_type for t in config.terminals} | {
        a for s in config.speed_caps for a in s.exempt_account_types
    }
    whitelists = sorted({g.whitelist for g in config.geofences if g.whitelist})
    cls = tuple(sorted(classes))
    acc = tuple(sorted(account_types))

    reg = sorted(config.terminals, key=lambda t: t.id)
    cls_i = {c: i for i, c in enumerate(cls)}
    acc_i = {a: i for i, a in enumerate(acc)}
    code_i = {c: i for i, c in enumerate(codes)}
    reg_ids = np.asarray([t.id for t in reg], dtype=str)
    reg_wl = np.zeros((len(whitelists), len(reg)), dtype=bool)
    for j, t in enumerate(reg):
        for w in t.whitelists:
            if w in whitelists:
                reg_wl[whitelists.index(w), j] = True
    return Policy(
        config=config,
        codes=codes,
        geofences=tuple(fences),
        overrides=tuple(overrides),
        rule_ids=tuple(ids),
        reasons=tuple(reasons),
        cause=cause,
        licence_base=base,
        classes=cls,
        account_types=acc,
        whitelists=tuple(whitelists),
        reg_ids=reg_ids,
        reg_active=np.array([t.status == "active" for t in reg], dtype=bool),
        reg_class=np.array([cls_i[t.service_class] for t in reg], dtype=np.int32),
        reg_account_type=np.array([acc_i[t.account_type] for t in reg], dtype=np.int32),
        reg_country=np.array(
            [code_i[t.registered_country] if t.registered_country else 0 for t in reg], dtype=np.int16
        ),
        reg_exempt=np.array([t.exempt_speed_cap for t in reg], dtype=bool),
        reg_whitelist=reg_wl,
        reg_abroad_since_unix_s=np.array(
            [t.abroad_since.timestamp() if t.abroad_since else np.nan for t in reg], dtype=np.float64
        ),
        geometries=geoms,
    )


def parse_policy(data: Any, source: str = "<policy>", base_dir: str | Path = ".") -> Policy:
    """Validate a ``[policy]`` dict, read the geofence files it names and build the evaluator.

    Every problem is an :class:`~leonet.errors.InputError` naming ``source`` (or the GeoJSON file), the rule
    and what was expected."""
    from leonet.policy.coverage import check_open_sea_axes

    config = parse_policy_config(data, source)
    try:
        policy = compile_policy(config, resolve_geometries(config, base_dir))
        check_open_sea_axes(policy)
        return policy
    except InputError as exc:
        if exc.where.startswith("[policy"):
            raise InputError(f"{source} {exc.where}", exc.problem) from None
        raise
