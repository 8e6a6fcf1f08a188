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
the polygon boundaries densified to :data:`DENSIFY_DEG`; the two segments at the nearest vertex are checked
exactly, so the distance is exact unless the true nearest segment does not end at that vertex, where it is at
most ``sqrt(d**2 + 1 km**2) - d`` (23 m at 22 km) too long.  A point exactly 22.224 km out is
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
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from scipy.ndimage import maximum_filter1d, minimum_filter1d
from scipy.spatial import cKDTree

from leonet import cache
from leonet.policy._grid import PolygonGrid

#: bump when PolygonGrid's classification changes, so that cached grids of the old rule are not used
_GRID_VERSION = 1

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
#: The longest degree of either coordinate on the WGS-84 ellipsoid (km): a degree of latitude at the poles,
#: 111.694 km (a degree of longitude is at most 111.320 km, at the equator).  A straight segment in lon/lat of
#: length L deg is at most L times this long on the ground, and its chord shorter still.
KM_PER_DEG_MAX = 111.7
#: Half the longest densified boundary segment (km): every point of a segment is this close to one of its ends.
_HALF_SEGMENT_KM = 0.5 * DENSIFY_DEG * KM_PER_DEG_MAX


@lru_cache(maxsize=4)
def _text(name: str = BORDERS_FILE) -> str:
    return resources.files("leonet").joinpath("data", name).read_text(encoding="utf-8")


_PROPERTIES = re.compile(r'"properties":(\{[^{}]*\})')


@lru_cache(maxsize=4)
def _features(name: str = BORDERS_FILE) -> tuple[dict[str, Any], ...]:
    """The features' properties (flat objects, as ``tools/build_borders.py`` writes them), without parsing the
    coordinates (``shapely.from_geojson`` does that)."""
    return tuple({"properties": json.loads(m.group(1))} for m in _PROPERTIES.finditer(_text(name)))


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


def _segment_distance_km(p: NDArray[np.float64], a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """Euclidean distance from points ``p`` to segments ``a``-``b`` (all (n, 3), km)."""
    ab = b - a
    den = np.einsum("ij,ij->i", ab, ab)
    u = np.clip(np.einsum("ij,ij->i", p - a, ab) / np.where(den > 0, den, 1.0), 0.0, 1.0)
    out: NDArray[np.float64] = np.linalg.norm(p - (a + u[:, None] * ab), axis=1)
    return out


_CELL_DEG = 0.125
_KM_PER_DEG_LAT = 110.57  # the shortest degree of latitude (at the equator), so cell reaches err on the long side
_ASK = -1  # a sea cell whose points need the exact search


def _cell(lat_deg: NDArray[np.float64], lon_deg: NDArray[np.float64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    n_lat, n_lon = int(180 / _CELL_DEG), int(360 / _CELL_DEG)
    i = np.clip(((lat_deg + 90.0) / _CELL_DEG).astype(np.int64), 0, n_lat - 1)
    j = np.clip(((lon_deg + 180.0) / _CELL_DEG).astype(np.int64), 0, n_lon - 1)
    return i, j


def _window(a: NDArray[np.int32], fn: Any, di: int, dj: NDArray[np.int64]) -> NDArray[np.int32]:
    """``fn`` (``minimum_filter1d`` / ``maximum_filter1d``) of ``a`` over a window of +-di rows and, per row,
    +-dj[row] columns (wrapping around the antimeridian)."""
    out: NDArray[np.int32] = fn(a, size=2 * di + 1, axis=0, mode="nearest")
    for w in np.unique(dj):
        rows = np.flatnonzero(dj == w)
        out[rows] = fn(out[rows], size=int(2 * w + 1), axis=1, mode="wrap")
    return out


def _sea_cells(
    lat_deg: NDArray[np.float64], lon_deg: NDArray[np.float64], label: NDArray[np.int16]
) -> NDArray[np.int16]:
    """Per cell of :data:`_CELL_DEG`, the territorial-sea answer for every sea point in it when it is certain,
    else :data:`_ASK`.  A cell with no boundary vertex within reach (the territorial sea plus the densification
    slack) of any of its points is open sea (0); a cell holding vertices of one country only, with no other
    country's vertex within reach, is that country's (every point of the cell is within the cell's diagonal,
    under 19.7 km, of one of its vertices, and no other country's land can be nearer)."""
    n_lat, n_lon = int(180 / _CELL_DEG), int(360 / _CELL_DEG)
    i, j = _cell(lat_deg, lon_deg)
    flat = i * n_lon + j
    big = np.iinfo(np.int32).max
    lo_flat = np.full(n_lat * n_lon, big, dtype=np.int32)
    hi_flat = np.full(n_lat * n_lon, -1, dtype=np.int32)
    np.minimum.at(lo_flat, flat, label.astype(np.int32))
    np.maximum.at(hi_flat, flat, label.astype(np.int32))
    lo, hi = lo_flat.reshape(n_lat, n_lon), hi_flat.reshape(n_lat, n_lon)
    reach_km = TERRITORIAL_SEA_KM + DENSIFY_DEG * _KM_PER_DEG_LAT
    di = int(np.ceil(reach_km / (_CELL_DEG * _KM_PER_DEG_LAT)))
    # the narrowest degree of longitude over each row's window of rows
    edge = np.abs(-90.0 + _CELL_DEG * np.arange(n_lat + 1))
    row_max_lat = np.maximum(edge[:-1], edge[1:])
    padded = np.r_[np.full(di, 90.0), row_max_lat, np.full(di, 90.0)]
    widest = np.lib.stride_tricks.sliding_window_view(padded, 2 * di + 1).max(axis=1)
    km_per_cell = _CELL_DEG * 111.32 * np.cos(np.radians(widest))
    dj = np.where(km_per_cell > reach_km / n_lon, np.ceil(reach_km / np.maximum(km_per_cell, 1e-9)), n_lon)
    dj = np.minimum(dj, n_lon // 2).astype(np.int64)
    lo_w = _window(lo, minimum_filter1d, di, dj)
    hi_w = _window(hi, maximum_filter1d, di, dj)
    out = np.full((n_lat, n_lon), _ASK, dtype=np.int16)
    out[hi_w < 0] = 0
    sure = (hi >= 0) & (lo == hi) & (lo_w == hi_w)
    out[sure] = lo[sure].astype(np.int16)
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
    #: (lat cells, lon cells) of :data:`_CELL_DEG`: the territorial-sea answer of sea points in the cell when it
    #: is certain (0: open sea; a country index), else -1 (points there are searched in the tree)
    cell_answer: NDArray[np.int16]

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
        return cls(xyz, label, prv, nxt, cKDTree(xyz), _sea_cells(xy[:, 1], xy[:, 0], label))

    def nearest(self, lat_deg: NDArray[np.float64], lon_deg: NDArray[np.float64]) -> NDArray[np.int16]:
        """Country (index, 0: none) of the nearest boundary within the territorial sea of each point: from the
        cell raster where it is certain, else by :meth:`search`."""
        rows_lat, rows_lon = _cell(lat_deg, lon_deg)
        who = self.cell_answer[rows_lat, rows_lon].copy()
        ask = np.flatnonzero(who == _ASK)
        if ask.size:
            # queries in cell order: neighbouring queries visit the same tree nodes (about 1.5x faster)
            ask = ask[np.argsort(rows_lat[ask] * (2 * self.cell_answer.shape[1]) + rows_lon[ask], kind="stable")]
            who[ask] = self.search(lat_deg[ask], lon_deg[ask], TERRITORIAL_SEA_KM)[0]
        return who

    def search(
        self, lat_deg: NDArray[np.float64], lon_deg: NDArray[np.float64], within_km: float
    ) -> tuple[NDArray[np.int16], NDArray[np.float64]]:
        """Country (index, 0: none) of the nearest boundary within ``within_km`` of each point, and the
        distance (km; inf beyond), by the k-d tree and the exact segment distances: the two segments of the
        nearest vertex.  A country it names is within ``within_km`` for certain.  Another segment, with no vertex
        as near, can pass nearer, but by less than d - sqrt(d^2 - h^2) at a distance d (h =
        :data:`_HALF_SEGMENT_KM`; 23 m at the territorial sea's limit, since its nearer end is within sqrt(d^2 +
        h^2)): so a boundary is missed, or a nearer country's taken for a farther one's, only that close to a tie."""
        p = _ecef_km(lat_deg, lon_deg)
        _, vert = self.tree.query(p, distance_upper_bound=within_km + _HALF_SEGMENT_KM)
        best = np.full(p.shape[0], np.inf)
        who = np.zeros(p.shape[0], dtype=np.int16)
        rows = np.flatnonzero(vert < self.xyz_km.shape[0])
        v = vert[rows]
        for other in (self.prv[v], self.nxt[v]):
            d = _segment_distance_km(p[rows], self.xyz_km[v], self.xyz_km[other])
            better = d < best[rows]
            best[rows[better]] = d[better]
            who[rows[better]] = self.label[v[better]]
        near = best <= within_km
        return np.where(near, who, 0).astype(np.int16), np.where(near, best, np.inf)

    def countries_near(
        self, lat_deg: NDArray[np.float64], lon_deg: NDArray[np.float64], within_km: float
    ) -> NDArray[np.int16]:
        """The countries (indices, distinct, sorted) whose boundary comes within ``within_km`` of any of the
        points, exactly: the segments on either side of every vertex within ``within_km`` +
        :data:`_HALF_SEGMENT_KM` (a segment's nearest point lies within half its length of one of its ends).
        A ball of ~75 vertices per point along a coast: for a fence's boundary, not for every terminal."""
        p = _ecef_km(np.asarray(lat_deg, dtype=np.float64), np.asarray(lon_deg, dtype=np.float64))
        _, nearest = self.tree.query(p, distance_upper_bound=within_km + _HALF_SEGMENT_KM)
        p = p[nearest < self.xyz_km.shape[0]]  # points with no vertex that near have no pair (cheap to drop first)
        pairs = cKDTree(p).sparse_distance_matrix(self.tree, within_km + _HALF_SEGMENT_KM, output_type="ndarray")
        sure = np.unique(self.label[pairs["j"][pairs["v"] <= within_km]])  # a vertex that near is on the boundary
        rest = pairs[(pairs["v"] > within_km) & ~np.isin(self.label[pairs["j"]], sure)]
        at, vert = rest["i"].astype(np.int64), rest["j"].astype(np.int64)
        near = np.zeros(vert.size, dtype=bool)
        for other in (self.prv[vert], self.nxt[vert]):
            near |= _segment_distance_km(p[at], self.xyz_km[vert], self.xyz_km[other]) <= within_km
        out: NDArray[np.int16] = np.union1d(sure, self.label[vert[near]]).astype(np.int16)
        return out


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
    #: the polygons (parts of the features) and the index in :attr:`codes` of each one's country
    parts: NDArray[np.object_]
    part_code: NDArray[np.int16]

    @cached_property
    def coasts(self) -> Coasts:
        """The territorial-sea index, built on the first point at sea (about 1.5 s)."""
        return Coasts.of(self.parts, self.part_code)

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
            flat[sea] = self.coasts.nearest(lat.reshape(-1)[sea], lon.reshape(-1)[sea])
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
    """The shipped 1:10m borders with their land index (classifying the grid takes about 2 s, once per machine:
    the result is kept in leonet's cache, see :mod:`leonet.cache`; the territorial-sea index follows on the first
    point at sea)."""
    feats = _all_features()
    codes_per_feature = [str(f["properties"]["ISO_A2_EH"]) for f in feats]
    names = [str(f["properties"].get("NAME", "")) for f in feats]
    codes = (NO_COUNTRY, *sorted(set(codes_per_feature)))
    index = {c: i for i, c in enumerate(codes)}
    feature_code = np.array([index[c] for c in codes_per_feature], dtype=np.int16)
    key = f"borders-v{_GRID_VERSION}-" + "".join(_text(n) for n in (BORDERS_FILE, ISLANDS_FILE))
    state = cache.load_arrays(key)
    if state is not None and {"wkb", "wkb_end"} <= state.keys():
        ends = state["wkb_end"]
        raw = state["wkb"].tobytes()
        geoms = shapely.from_wkb([raw[a:b] for a, b in zip(np.r_[0, ends[:-1]], ends, strict=True)])
    else:
        state = None
        geoms = np.concatenate(
            [shapely.get_parts(shapely.from_geojson(_text(name))) for name in (BORDERS_FILE, ISLANDS_FILE)]
        )  # the features' geometries, in order
    if len(geoms) != len(feats):
        raise RuntimeError(f"{BORDERS_FILE}: {len(geoms)} geometries but {len(feats)} property objects")
    parts, owner = shapely.get_parts(geoms, return_index=True)
    # label = index in ``codes`` minus 1 (so that "none", -1, maps to 0)
    grid = PolygonGrid(parts, feature_code[owner] - 1, (-180.0, -90.0, 180.0, 90.0), (360, 180), sub=8, state=state)
    if state is None:
        wkb = shapely.to_wkb(geoms)
        ends = np.cumsum([len(w) for w in wkb]).astype(np.int64)
        cache.save_arrays(key, {**grid.state, "wkb": np.frombuffer(b"".join(wkb), np.uint8), "wkb_end": ends})
    name_of: dict[str, str] = {}
    for c, n in zip(codes_per_feature, names, strict=True):
        if n:
            name_of.setdefault(c, n)
    names_t = tuple(name_of.get(c, "") for c in codes)
    return Borders(codes, names_t, feature_code, geoms, grid, parts, feature_code[owner].astype(np.int16))


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
