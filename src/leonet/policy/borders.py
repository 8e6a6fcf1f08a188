"""Which country a point is in: Natural Earth 1:50m admin-0 borders shipped inside the package, vectorised.

Countries are named by Natural Earth's ``ISO_A2_EH`` column (ISO 3166-1 alpha-2, with France ``FR``, Norway
``NO``, Kosovo ``XK`` and Taiwan ``TW`` filled in where ``ISO_A2`` has ``-99`` / ``CN-TW``); N. Cyprus and
Somaliland have no code and keep ``-99``. A point in no polygon (the open sea) gets ``''``.

Natural Earth draws the de facto view: Crimea lies inside Russia's polygon (use a geofence, or a policy
``country_overrides`` entry, to treat it otherwise).  A point on a border line is in neither country (the
``shapely.contains_xy`` convention).  Data: Natural Earth v5.1.x, public domain (naturalearthdata.com).
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

from leonet.policy._grid import PolygonGrid

BORDERS_FILE = "ne_50m_admin_0_countries.geojson"
#: The code for "in no country" (open sea, or outside every polygon).
NO_COUNTRY = ""
#: Natural Earth's code for a place without an ISO 3166-1 code (N. Cyprus, Somaliland).
NO_CODE = "-99"


@lru_cache(maxsize=2)
def _text(name: str = BORDERS_FILE) -> str:
    return resources.files("leonet").joinpath("data", name).read_text(encoding="utf-8")


@lru_cache(maxsize=2)
def _features(name: str = BORDERS_FILE) -> tuple[dict[str, Any], ...]:
    return tuple(json.loads(_text(name))["features"])


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

    def index_of(self, code: str) -> int:
        """Index in :attr:`codes` of an ``ISO_A2_EH`` code (``KeyError`` if Natural Earth has no such code)."""
        return _code_index(self.codes)[code]

    def lookup(self, lat_deg: ArrayLike, lon_deg: ArrayLike) -> NDArray[np.int16]:
        """Index in :attr:`codes` of the country of each point (0: none), shaped like the broadcast inputs."""
        label = self.grid.lookup(lon_deg, lat_deg)
        return (label + 1).astype(np.int16)

    def geometry(self, codes: list[str]) -> shapely.Geometry:
        """The union of the polygons of countries ``codes``."""
        want = np.isin(self.feature_code, [self.index_of(c) for c in codes])
        return shapely.union_all(self.geoms[want])


@lru_cache(maxsize=8)
def _code_index(codes: tuple[str, ...]) -> dict[str, int]:
    return {c: i for i, c in enumerate(codes)}


@lru_cache(maxsize=1)
def borders() -> Borders:
    """The shipped Natural Earth 1:50m borders with their lookup index (built once, about 0.4 s)."""
    feats = _features()
    codes_per_feature = [str(f["properties"]["ISO_A2_EH"]) for f in feats]
    names = [str(f["properties"]["NAME"]) for f in feats]
    codes = (NO_COUNTRY, *sorted(set(codes_per_feature)))
    index = {c: i for i, c in enumerate(codes)}
    feature_code = np.array([index[c] for c in codes_per_feature], dtype=np.int16)
    geoms = shapely.get_parts(shapely.from_geojson(_text()))  # the features' geometries, in order
    parts, owner = shapely.get_parts(geoms, return_index=True)
    # label = index in ``codes`` minus 1 (so that "none", -1, maps to 0)
    grid = PolygonGrid(parts, feature_code[owner] - 1, (-180.0, -90.0, 180.0, 90.0), (360, 180), sub=4)
    name_of: dict[str, str] = {}
    for c, n in zip(codes_per_feature, names, strict=True):
        name_of.setdefault(c, n)
    return Borders(codes, tuple(name_of.get(c, "") for c in codes), feature_code, geoms, grid)


@lru_cache(maxsize=1)
def known_country_codes() -> frozenset[str]:
    """The ISO 3166-1 alpha-2 codes the shipped borders know (``ISO_A2_EH``, without ``-99``)."""
    return frozenset(str(f["properties"]["ISO_A2_EH"]) for f in _features()) - {NO_CODE}


def country_index(lat_deg: ArrayLike, lon_deg: ArrayLike) -> NDArray[np.int16]:
    """Index into :func:`country_table` of the country of each point (0: in no country)."""
    return borders().lookup(lat_deg, lon_deg)


def country_table() -> tuple[str, ...]:
    """The codes :func:`country_index` indexes: ``''`` first, then the ``ISO_A2_EH`` codes, sorted."""
    return borders().codes


def country_codes(lat_deg: ArrayLike, lon_deg: ArrayLike) -> NDArray[np.str_]:
    """``ISO_A2_EH`` code of the country containing each point (``''``: open sea / no country; ``-99``:
    N. Cyprus or Somaliland), from the shipped Natural Earth 1:50m polygons, vectorised."""
    b = borders()
    return np.asarray(b.codes, dtype="<U3")[b.lookup(lat_deg, lon_deg)]
