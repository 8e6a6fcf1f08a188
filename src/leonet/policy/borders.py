"""Which country a point is in: its land (Natural Earth 1:10m admin-0) or its territorial sea, vectorised.

Land: the shipped ``ne_10m_admin_0_countries.geojson`` (Natural Earth v4.1.0 1:10m, public domain, converted by
``tools/build_borders.py``), plus ``osm_islands_not_in_ne10m.geojson`` (islands Natural Earth lacks, such as
Taiwan's Matsu islands; OpenStreetMap, ODbL).  A point inside a polygon is in that country (the first feature
wins; a point exactly on a polygon's edge is not inside it: the ``shapely.contains_xy`` convention, and it then
gets the territorial-sea answer below, i.e. the nearest country, at distance 0).

Territorial sea (UNCLOS art. 3): a point in no polygon but within :data:`TERRITORIAL_SEA_KM` (12 nautical miles,
22.224 km) of a country's boundary is in that country; between two countries' coasts the nearest one wins (the
equidistance line of art. 15).  Beyond that it is at sea (``''``).  Distances are measured on the WGS-84
ellipsoid (straight-line ECEF distance, which at 22 km differs from the geodesic by under a centimetre) to
the polygon boundaries densified to :data:`DENSIFY_DEG`; the nearest two vertices and their segments are
checked exactly, so the distance is exact unless the true nearest segment has neither endpoint among them,
where it is at most ``sqrt(d**2 + 1 km**2) - d`` (23 m at 22 km) too long.  A point exactly 22.224 km out is
in the country (the limit is inclusive).  Inland waters in no polygon (the Caspian, the Great Lakes) get the
same rule.

Countries are named by Natural Earth's ``ISO_A2_EH`` column (ISO 3166-1 alpha-2, with France ``FR``, Norway
``NO``, Kosovo ``XK`` and Taiwan ``TW`` filled in where ``ISO_A2`` has ``-99`` / ``CN-TW``); N. Cyprus,
Somaliland and a few disputed reefs have no code and keep ``-99``.  Natural Earth draws the de facto view:
Crimea lies inside Russia's polygon (use a geofence, or a policy ``country_overrides`` entry, to treat it
otherwise).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

from leonet.policy._grid import PolygonGrid

BORDERS_FILE = "ne_10m_admin_0_countries.geojson"
ISLANDS_FILE = "osm_islands_not_in_ne10m.geojson"
#: The code for "in no country" (open sea, or outside every polygon and territorial sea).
NO_COUNTRY = ""
#: Natural Earth's code for a place without an ISO 3166-1 code (N. Cyprus, Somaliland).
NO_CODE = "-99"
#: The breadth of the territorial sea, 12 nautical miles (UNCLOS art. 3; 1 nmi = 1,852 m exactly).
TERRITORIAL_SEA_KM = 12 * 1.852
#: Polygon boundaries are densified to vertices at most this far apart (deg; about 2 km of latitude).
DENSIFY_DEG = 0.018


@lru_cache(maxsize=4)
def _text(name: str = BORDERS_FILE) -> str:
    return resources.files("leonet").joinpath("data", name).read_text(encoding="utf-8")


@lru_cache(maxsize=4)
def _features(name: str = BORDERS_FILE) -> tuple[dict[str, Any], ...]:
    return tuple(json.loads(_text(name))["features"])


def _all_features() -> tuple[dict[str, Any], ...]:
    return _features(BORDERS_FILE) + _features(ISLANDS_FILE)


_A_KM = 6378.137  # WGS-84 semi-major axis
_E2 = 6.69437999014e-3  # WGS-84 first eccentricity squared


def _ecef_km(lat_deg: NDArray[np.float64], lon_deg: NDArray[np.float64]) -> NDArray[np.float64]:
    """ECEF position (km, (n, 3)) of points on the WGS-84 ellipsoid (height 0), in closed form."""
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    s, c = np.sin(lat), np.cos(lat)
    n = _A_KM / np.sqrt(1.0 - _E2 * s * s)
    return np.stack([n * c * np.cos(lon), n * c * np.sin(lon), n * (1.0 - _E2) * s], axis=-1)


def _segment_distance_km(
    p: NDArray[np.float64], a: NDArray[np.float64], b: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Euclidean distance from points ``p`` to segments ``a``-``b`` (all (n, 3), km)."""
    ab = b - a
    den = np.einsum("ij,ij->i", ab, ab)
    u = np.clip(np.einsum("ij,ij->i", p - a, ab) / np.where(den > 0, den, 1.0), 0.0, 1.0)
    return np.linalg.norm(p - (a + u[:, None] * ab), axis=1)


_CELL_DEG = 0.25
_KM_PER_DEG_LAT = 110.57  # the shortest degree of latitude (at the equator), so cell reaches err on the long side


def _cell(lat_deg: NDArray[np.float64], lon_deg: NDArray[np.float64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    n_lat, n_lon = int(180 / _CELL_DEG), int(360 / _CELL_DEG)
    i = np.clip(((lat_deg + 90.0) / _CELL_DEG).astype(np.int64), 0, n_lat - 1)
    j = np.clip(((lon_deg + 180.0) / _CELL_DEG).astype(np.int64), 0, n_lon - 1)
    return i, j


def _near_cells(lat_deg: NDArray[np.float64], lon_deg: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Cells within the territorial sea (plus the vertex slack) of a cell holding a boundary vertex: the cells
    with a vertex, grown by enough cells in latitude and (per row, wider towards the poles) in longitude."""
    n_lat, n_lon = int(180 / _CELL_DEG), int(360 / _CELL_DEG)
    i, j = _cell(lat_deg, lon_deg)
    has = np.zeros((n_lat, n_lon), dtype=bool)
    has[i, j] = True
    reach_km = TERRITORIAL_SEA_KM + DENSIFY_DEG * _KM_PER_DEG_LAT
    di = int(np.ceil(reach_km / (_CELL_DEG * _KM_PER_DEG_LAT)))
    grown = has.copy()
    for s in range(1, di + 1):
        grown[s:] |= has[:-s]
        grown[:-s] |= has[s:]
    # in longitude: row r's cells span the latitudes of rows r-di..r+di; the narrowest degree of longitude there
    edge = np.abs(-90.0 + _CELL_DEG * np.arange(n_lat + 1))
    row_max_lat = np.maximum(edge[:-1], edge[1:])
    widest = np.array([row_max_lat[max(r - di, 0) : r + di + 1].max() for r in range(n_lat)])
    km_per_cell = _CELL_DEG * 111.32 * np.cos(np.radians(np.minimum(widest, 90.0)))
    dj = np.where(km_per_cell > 1e-6, np.ceil(reach_km / np.maximum(km_per_cell, 1e-6)), n_lon).astype(np.int64)
    out = np.zeros_like(grown)
    csum = np.concatenate([np.zeros((n_lat, 1), dtype=np.int64), np.cumsum(np.tile(grown, 3), axis=1)], axis=1)
    cols = np.arange(n_lon)[None, :] + n_lon  # the middle copy; the row wraps around the antimeridian
    w = np.minimum(dj, n_lon)[:, None]
    lo = np.clip(cols - w, 0, 3 * n_lon)
    hi = np.clip(cols + w + 1, 0, 3 * n_lon)
    out = (np.take_along_axis(csum, hi, axis=1) - np.take_along_axis(csum, lo, axis=1)) > 0
    return out


@dataclass(frozen=True)
class Coasts:
    """Every polygon boundary densified, as ECEF vertices (km) in a k-d tree: ``label[i]`` is the index in
    the code table of vertex ``i``'s country; ``nxt[i]`` / ``prv[i]`` its neighbours along the ring."""

    xyz_km: NDArray[np.float64]
    label: NDArray[np.int16]
    prv: NDArray[np.int64]
    nxt: NDArray[np.int64]
    tree: cKDTree
    #: (lat cells, lon cells) of :data:`_CELL_DEG`: whether any vertex may lie within the territorial sea of a
    #: point in the cell (points elsewhere skip the tree search)
    near: NDArray[np.bool_]

    @classmethod
    def of(cls, parts: NDArray[np.object_], part_code: NDArray[np.int16]) -> Coasts:
        rings, ring_part = shapely.get_rings(parts, return_index=True)
        dense = shapely.segmentize(rings, DENSIFY_DEG)
        xy, ring_of = shapely.get_coordinates(dense, return_index=True)
        # rings are closed: drop each ring's repeated last vertex, link neighbours cyclically
        last = np.r_[ring_of[1:] != ring_of[:-1], True]
        keep = ~last
        xy, ring_of = xy[keep], ring_of[keep]
        n = xy.shape[0]
        start = np.flatnonzero(np.r_[True, ring_of[1:] != ring_of[:-1]])
        stop = np.r_[start[1:], n]
        idx = np.arange(n, dtype=np.int64)
        first = np.repeat(start, stop - start)
        size = np.repeat(stop - start, stop - start)
        nxt = first + (idx - first + 1) % size
        prv = first + (idx - first - 1) % size
        xyz = _ecef_km(xy[:, 1], xy[:, 0])
        label = part_code[ring_part[ring_of]].astype(np.int16)
        return cls(xyz, label, prv, nxt, cKDTree(xyz), _near_cells(xy[:, 1], xy[:, 0]))

    def nearest(
        self, lat_deg: NDArray[np.float64], lon_deg: NDArray[np.float64], within_km: float
    ) -> tuple[NDArray[np.int16], NDArray[np.float64]]:
        """Country (index, 0: none) of the nearest boundary within ``within_km`` of each point, and the
        distance (km; inf beyond)."""
        best = np.full(lat_deg.shape[0], np.inf)
        who = np.zeros(lat_deg.shape[0], dtype=np.int16)
        rows_lat, rows_lon = _cell(lat_deg, lon_deg)
        cand = np.flatnonzero(self.near[rows_lat, rows_lon])
        if within_km > TERRITORIAL_SEA_KM:
            cand = np.arange(lat_deg.shape[0])  # the raster is built for the territorial sea only
        if cand.size:
            w, d = self._nearest(lat_deg[cand], lon_deg[cand], within_km)
            who[cand], best[cand] = w, d
        return who, best

    def _nearest(
        self, lat_deg: NDArray[np.float64], lon_deg: NDArray[np.float64], within_km: float
    ) -> tuple[NDArray[np.int16], NDArray[np.float64]]:
        p = _ecef_km(lat_deg, lon_deg)
        k = 2
        slack_km = 0.5 * DENSIFY_DEG * 111.4  # half the longest densified segment
        dist, vert = self.tree.query(p, k=k, distance_upper_bound=within_km + slack_km)
        n_v = self.xyz_km.shape[0]
        best = np.full(p.shape[0], np.inf)
        who = np.zeros(p.shape[0], dtype=np.int16)
        found = vert < n_v
        for j in range(k):
            rows = np.flatnonzero(found[:, j])
            if rows.size == 0:
                continue
            v = vert[rows, j]
            for other in (self.prv[v], self.nxt[v]):
                d = _segment_distance_km(p[rows], self.xyz_km[v], self.xyz_km[other])
                better = d < best[rows]
                best[rows[better]] = d[better]
                who[rows[better]] = self.label[v[better]]
        near = best <= within_km
        return np.where(near, who, 0).astype(np.int16), np.where(near, best, np.inf)


@dataclass(frozen=True)
class Borders:
    """Country polygons and their lookup index.

    ``codes[0]`` is ``''`` (no country); ``codes[1:]`` are the distinct ``ISO_A2_EH`` codes, sorted.
    ``feature_code[i]`` is the index in ``codes`` of feature ``i``; ``geoms[i]`` its (Multi)Polygon.
    """

    codes: tuple[str, ...]
    names: tuple[str, ...]
    feature_code: NDArray[np.int16]
    geoms: NDArray[np.object_]
    grid: PolygonGrid
    coasts: Coasts

    def index_of(self, code: str) -> int:
        """Index in :attr:`codes` of an ``ISO_A2_EH`` code (``KeyError`` if Natural Earth has no such code)."""
        return _code_index(self.codes)[code]

    def lookup_land(self, lat_deg: ArrayLike, lon_deg: ArrayLike) -> NDArray[np.int16]:
        """Index in :attr:`codes` of the country whose land polygon contains each point (0: none)."""
        label = self.grid.lookup(lon_deg, lat_deg)
        return (label + 1).astype(np.int16)

    def lookup(self, lat_deg: ArrayLike, lon_deg: ArrayLike) -> NDArray[np.int16]:
        """Index in :attr:`codes` of the country of each point, land or territorial sea (0: none), shaped like
        the broadcast inputs."""
        lat, lon = np.broadcast_arrays(np.asarray(lat_deg, dtype=np.float64), np.asarray(lon_deg, dtype=np.float64))
        out = self.lookup_land(lat, lon)
        flat = out.reshape(-1)
        sea = np.flatnonzero((flat == 0) & np.isfinite(lat.reshape(-1)) & np.isfinite(lon.reshape(-1)))
        if sea.size:
            flat[sea] = self.coasts.nearest(lat.reshape(-1)[sea], lon.reshape(-1)[sea], TERRITORIAL_SEA_KM)[0]
        return flat.reshape(out.shape)

    def geometry(self, codes: list[str]) -> shapely.Geometry:
        """The union of the land polygons of countries ``codes`` (without their territorial sea)."""
        want = np.isin(self.feature_code, [self.index_of(c) for c in codes])
        return shapely.union_all(self.geoms[want])


@lru_cache(maxsize=8)
def _code_index(codes: tuple[str, ...]) -> dict[str, int]:
    return {c: i for i, c in enumerate(codes)}


@lru_cache(maxsize=1)
def borders() -> Borders:
    """The shipped 1:10m borders with their lookup indexes (built once per process, about 2 s)."""
    feats = _all_features()
    codes_per_feature = [str(f["properties"]["ISO_A2_EH"]) for f in feats]
    names = [str(f["properties"].get("NAME", "")) for f in feats]
    codes = (NO_COUNTRY, *sorted(set(codes_per_feature)))
    index = {c: i for i, c in enumerate(codes)}
    feature_code = np.array([index[c] for c in codes_per_feature], dtype=np.int16)
    geoms = np.concatenate(
        [shapely.get_parts(shapely.from_geojson(_text(name))) for name in (BORDERS_FILE, ISLANDS_FILE)]
    )  # the features' geometries, in order
    parts, owner = shapely.get_parts(geoms, return_index=True)
    # label = index in ``codes`` minus 1 (so that "none", -1, maps to 0)
    grid = PolygonGrid(parts, feature_code[owner] - 1, (-180.0, -90.0, 180.0, 90.0), (360, 180), sub=4)
    name_of: dict[str, str] = {}
    for c, n in zip(codes_per_feature, names, strict=True):
        if n:
            name_of.setdefault(c, n)
    coasts = Coasts.of(parts, feature_code[owner])
    return Borders(codes, tuple(name_of.get(c, "") for c in codes), feature_code, geoms, grid, coasts)


@lru_cache(maxsize=1)
def known_country_codes() -> frozenset[str]:
    """The ISO 3166-1 alpha-2 codes the shipped borders know (``ISO_A2_EH``, without ``-99``)."""
    return frozenset(str(f["properties"]["ISO_A2_EH"]) for f in _all_features()) - {NO_CODE}


def country_index(lat_deg: ArrayLike, lon_deg: ArrayLike) -> NDArray[np.int16]:
    """Index into :func:`country_table` of the country of each point (0: in no country)."""
    return borders().lookup(lat_deg, lon_deg)


def country_table() -> tuple[str, ...]:
    """The codes :func:`country_index` indexes: ``''`` first, then the ``ISO_A2_EH`` codes, sorted."""
    return borders().codes


def country_codes(lat_deg: ArrayLike, lon_deg: ArrayLike) -> NDArray[np.str_]:
    """``ISO_A2_EH`` code of the country of each point, land or territorial sea (``''``: open sea / no
    country; ``-99``: N. Cyprus, Somaliland, ...), vectorised."""
    b = borders()
    return np.asarray(b.codes, dtype="<U3")[b.lookup(lat_deg, lon_deg)]
