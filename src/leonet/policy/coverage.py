"""What each geofence covers (countries, geodesic area), and the check for [lat, lon] written as [lon, lat].

:func:`geofence_coverage` gives, per geofence, its area on the WGS-84 ellipsoid (``pyproj.Geod``, Karney 2013)
and the countries whose land it covers with their shares of its area (the rest is sea), so that a fence that
lands in Iraq instead of Crimea is visible at a glance (``leonet policy check`` prints it).

Swapped axes are an **error whenever they are provable**; three rules, each tested on both sides:

1. a position is out of range as written (a latitude beyond +-90) but in range swapped
   (:mod:`leonet.policy.geometry`);
2. the polygon as written covers no country (no land within 12 nautical miles of it, so neither land nor
   territorial sea), while swapped it covers land;
3. the polygon as written reaches (land or territorial sea) none of the countries the scenario's terminals are
   in (stationary positions and track points), while swapped it reaches one of them
   (:func:`check_geofence_axes`, run when a scenario is prepared).  Terminals in the swapped polygon itself
   prove nothing (a fence over Crimea swapped lands on Baghdad, a city a global scenario has); a fence that
   covers only countries where the scenario has no terminal can decide nothing in it.

"Reaches none" and "no land within 12 nautical miles" are judged with a margin that can only spare an error:
land up to 0.5 km beyond the breadth counts as reached (the fence's boundary is sampled every
:data:`BOUNDARY_STEP_KM`, and a sample within the breadth plus half a step of a land boundary counts,
:meth:`~leonet.policy.borders.Coasts.countries_near`); "reaches one of them", swapped, only from the land it
covers or a sample of its boundary that the country lookup puts in that country (land or territorial sea).  So
each error is proven, at the cost of staying silent within 0.5 km of a tie.

A fence meant to be where it is (a patch of open sea, or a region in a country without terminals) says
``check_axes = false`` to skip rules 2 and 3.  Regions given as ``countries`` cannot be swapped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyproj
import shapely
import shapely.ops
from numpy.typing import NDArray

from leonet.errors import InputError
from leonet.policy.borders import KM_PER_DEG_MAX, NO_COUNTRY, TERRITORIAL_SEA_KM, borders, country_codes
from leonet.policy.compiled import Policy
from leonet.tracks import TrackSet

_GEOD = pyproj.Geod(ellps="WGS84")


@dataclass(frozen=True)
class Coverage:
    """One geofence: its geodesic area (km2) and the countries whose land it covers, as (code, share of the
    fence's area), largest first; ``sea_share`` is the rest."""

    rule_id: str
    area_km2: float
    countries: tuple[tuple[str, float], ...]
    sea_share: float

    def text(self, limit: int = 6) -> str:
        """One line for ``leonet policy check``: the first ``limit`` countries (six by default, in the order
        given: largest share first) with their shares, "N more" for the rest, then the sea's share."""
        names = borders().names
        codes = borders().codes
        parts = []
        for code, share in self.countries[:limit]:
            name = names[codes.index(code)] if code in codes else ""
            pct = f"{share:.0%}" if share > 0.005 else "<1%"  # 0.005 itself formats as "0%"
            parts.append(f"{code}{f' ({name})' if name else ''} {pct}")
        if len(self.countries) > limit:
            parts.append(f"{len(self.countries) - limit} more")
        if self.sea_share > 0.005:
            parts.append(f"sea {self.sea_share:.0%}")
        return ", ".join(parts) or "sea"


def geodesic_area_km2(geom: shapely.Geometry) -> float:
    """Area (km2) of a lon/lat (Multi)Polygon on the WGS-84 ellipsoid."""
    total = 0.0
    for part in shapely.get_parts(geom):
        area_m2, _ = _GEOD.geometry_area_perimeter(part)
        total += abs(area_m2)
    return total / 1e6


def _swapped(geom: shapely.Geometry) -> shapely.Geometry:
    return shapely.ops.transform(lambda x, y: (y, x), geom)


def country_shares(geom: shapely.Geometry) -> tuple[tuple[tuple[str, float], ...], float]:
    """Countries whose land ``geom`` covers, with their shares of its area (planar in lon/lat, which over a
    fence's extent ranks the countries correctly), and the share at sea."""
    b = borders()
    area = shapely.area(geom)
    if area <= 0:
        return (), 1.0
    hits = shapely.STRtree(b.parts).query(geom, predicate="intersects")
    shares: dict[str, float] = {}
    for i in hits:
        a = float(shapely.area(shapely.intersection(b.parts[i], geom)))
        if a > 0:
            code = b.codes[int(b.part_code[i])]
            shares[code] = shares.get(code, 0.0) + a / area
    ranked = tuple(sorted(shares.items(), key=lambda kv: -kv[1]))
    return ranked, max(0.0, 1.0 - sum(shares.values()))


def geofence_coverage(policy: Policy) -> list[Coverage]:
    """Area and countries covered of every geofence, in policy order (a fence of ``countries``: each country's
    share of their land, no sea)."""
    out = []
    for g in policy.config.geofences:
        geom = policy.geometries[g.id]
        if g.countries is not None:
            area = {c: geodesic_area_km2(borders().geometry([c])) for c in g.countries}
            total = sum(area.values())
            ranked = tuple(sorted(((c, a / total) for c, a in area.items()), key=lambda kv: -kv[1]))
            out.append(Coverage(g.id, geodesic_area_km2(geom), ranked, 0.0))
            continue
        shares, sea = country_shares(geom)
        out.append(Coverage(g.id, geodesic_area_km2(geom), shares, sea))
    return out


#: A fence's boundary is sampled at least this densely (km on the ground) for the territorial-sea tests.
BOUNDARY_STEP_KM = 1.0
#: How far from a sample land is looked for: every point of the boundary lies within half a step of a sample.
_REACH_KM = TERRITORIAL_SEA_KM + BOUNDARY_STEP_KM / 2


def _boundary_samples(geom: shapely.Geometry) -> NDArray[np.float64]:
    """Points (lon, lat) along every ring of ``geom``, at most :data:`BOUNDARY_STEP_KM` apart on the ground
    (its edges are straight in lon/lat, as everywhere in the policy, and a degree of either coordinate is at most
    :data:`~leonet.policy.borders.KM_PER_DEG_MAX` long), each position once (a ring along a pole is one point)."""
    rings = shapely.get_rings(shapely.get_parts(geom))
    xy = shapely.get_coordinates(shapely.segmentize(rings, BOUNDARY_STEP_KM / KM_PER_DEG_MAX))
    xy[np.abs(xy[:, 1]) == 90.0, 0] = 0.0  # at a pole every longitude is the same point
    out: NDArray[np.float64] = np.unique(xy, axis=0)
    return out


def _at_open_sea(geom: shapely.Geometry) -> bool:
    """Whether no land lies within the territorial sea's breadth of the polygon (a geometry checked by
    :func:`~leonet.policy.geometry.geometry_from_geojson`): no land polygon meets it, and no land boundary comes
    within :data:`_REACH_KM` of a sample of its boundary (the point of a polygon nearest to land outside it is
    on its boundary, within half a step of a sample).  A "yes" is certain; land up to half a step (0.5 km)
    beyond the breadth can make it "no", which never raises an error."""
    b = borders()
    if shapely.STRtree(b.parts).query(geom, predicate="intersects").size:
        return False
    xy = _boundary_samples(geom)
    return bool(b.coasts.countries_near(xy[:, 1], xy[:, 0], _REACH_KM).size == 0)


def _swap_error(rule_id: str, lead: str, swapped: shapely.Geometry) -> InputError:
    shares, _ = country_shares(swapped)
    where = ", ".join(c for c, _ in shares[:4]) or "land"
    return InputError(
        f"[policy.geofences] {rule_id}",
        f"{lead} (swapped it covers {where}): the coordinates look like [lat, lon]; expected [lon, lat] order "
        "(RFC 7946 §3.1.1), or check_axes = false if the fence is meant to be where it is",
    )


def check_open_sea_axes(policy: Policy) -> None:
    """Rule 2: a polygon geofence at open sea whose swapped polygon covers land is an error."""
    for g in policy.config.geofences:
        if g.countries is not None or not g.check_axes:
            continue
        geom = policy.geometries[g.id]
        if not _at_open_sea(geom):
            continue
        swapped = _swapped(geom)
        _, y0, _, y1 = swapped.bounds
        if y0 < -90.0 or y1 > 90.0:  # out of range swapped: not a swap (rule 1 handles the other way round)
            continue
        if country_shares(swapped)[0]:
            lead = (
                "the geofence lies entirely at open sea (in no country), but with each position's two values "
                "swapped it covers land"
            )
            raise _swap_error(g.id, lead, swapped)


def _codes_reached(geom: shapely.Geometry) -> set[str]:
    """Countries whose land or territorial sea ``geom`` reaches for certain: the land it covers (by area) and
    the country of each sample of its boundary, land or territorial sea (:func:`country_codes`, the lookup
    decisions use)."""
    xy = _boundary_samples(geom)
    codes = {c for c, _ in country_shares(geom)[0]} | set(country_codes(xy[:, 1], xy[:, 0]).tolist())
    return codes - {NO_COUNTRY}


def _codes_near(geom: shapely.Geometry) -> set[str]:
    """Every country whose land or territorial sea ``geom`` may reach, and perhaps some whose land is up to
    half a step (0.5 km) beyond the breadth: the land it covers (by area: a valid polygon that meets land
    covers some of it) and every country whose boundary comes within :data:`_REACH_KM` of a sample of its
    boundary (land outside a polygon that comes within the breadth of it comes that near its boundary)."""
    b = borders()
    xy = _boundary_samples(geom)
    near = b.coasts.countries_near(xy[:, 1], xy[:, 0], _REACH_KM)
    codes = {c for c, _ in country_shares(geom)[0]} | {b.codes[int(i)] for i in near}
    return codes - {NO_COUNTRY}


def check_geofence_axes(
    policy: Policy,
    lat_deg: NDArray[np.float64],
    lon_deg: NDArray[np.float64],
    tracks: TrackSet | None = None,
    which: NDArray[np.int64] | None = None,
) -> None:
    """Rule 3: a polygon geofence that reaches none of the countries the scenario's terminals are in (stationary
    ones at ``lat_deg`` / ``lon_deg``; moving ones at the points of the tracks ``which`` of ``tracks``), while
    swapped it reaches one of them, is an error."""
    lat, lon = np.asarray(lat_deg, dtype=np.float64), np.asarray(lon_deg, dtype=np.float64)
    if tracks is not None and which is not None and which.size:
        c, s0 = tracks.count[which], tracks.start[which]
        idx = np.repeat(s0, c) + np.arange(int(c.sum())) - np.repeat(np.cumsum(c) - c, c)
        lat, lon = np.r_[lat, tracks.lat_deg[idx]], np.r_[lon, tracks.lon_deg[idx]]
    if lat.size == 0:
        return
    present = set(country_codes(lat, lon).tolist()) - {NO_COUNTRY}
    if not present:
        return
    for g in policy.config.geofences:
        if g.countries is not None or not g.check_axes:
            continue
        geom = policy.geometries[g.id]
        if _codes_near(geom) & present:
            continue
        swapped = _swapped(geom)
        _, y0, _, y1 = swapped.bounds
        if y0 < -90.0 or y1 > 90.0:
            continue
        hit = sorted(_codes_reached(swapped) & present)
        if hit:
            lead = (
                f"the geofence reaches none of the countries the scenario's terminals are in, but with each "
                f"position's two values swapped it reaches {', '.join(hit[:5])}, where terminals are"
            )
            raise _swap_error(g.id, lead, swapped)
