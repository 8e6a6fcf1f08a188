"""Build ``src/leonet/data/geofence_regions.geojson``: the built-in geofence regions with their territorial sea
(run by hand, not at install).

Input: the land polygons of ``../shared/data/regions/geofence_regions.geojson`` (Natural Earth 1:10m admin-1:
Crimea, Ukrainian oblasts, Taiwan; see ``../shared/data/README.md``), and leonet's shipped country borders.

Each region becomes its land plus its **territorial sea**, the same rule the country lookup uses
(``leonet.policy.borders``): the sea within 12 nautical miles (22.224 km) of its coast that is nearer to it than
to any other land (the equidistance line).  Computed in an azimuthal equidistant projection centred on the region
(pyproj; distances from the centre are geodesic, and over a few hundred km the buffer distance errs by well
under 1%), with the equidistance line from a Voronoi diagram of the two coasts sampled every 500 m (shapely).
Other land within 2 km of the region is ignored there, so that the mismatch between Natural Earth's admin-0 and
admin-1 coasts does not cut slivers out of the region's sea.  Taiwan also gets the Matsu islands (the ``TW``
polygons of ``osm_islands_not_in_ne10m.geojson``), which Natural Earth admin-1 lacks.

    python tools/build_regions.py ../shared/data/regions/geofence_regions.geojson
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from leonet.policy.borders import TERRITORIAL_SEA_KM, borders  # noqa: E402

OUT = ROOT / "src" / "leonet" / "data" / "geofence_regions.geojson"
SEA_M = TERRITORIAL_SEA_KM * 1000.0
SAMPLE_M = 500.0
IGNORE_OTHER_LAND_M = 2000.0


def _apply(tr: pyproj.Transformer, g: shapely.Geometry, direction: str = "FORWARD") -> shapely.Geometry:
    def f(xy: np.ndarray) -> np.ndarray:
        x, y = tr.transform(xy[:, 0], xy[:, 1], direction=direction)
        return np.column_stack([x, y])

    return shapely.transform(g, f)


def _polys(g: shapely.Geometry) -> shapely.Geometry:
    parts = [p for p in shapely.get_parts(shapely.get_parts(g)) if p.geom_type == "Polygon" and not p.is_empty]
    return shapely.union_all(parts)


def with_territorial_sea(land: shapely.Geometry) -> shapely.Geometry:
    c = land.centroid
    aeqd = pyproj.CRS.from_proj4(f"+proj=aeqd +lat_0={c.y} +lon_0={c.x} +ellps=WGS84 +units=m")
    tr = pyproj.Transformer.from_crs("EPSG:4326", aeqd, always_xy=True)
    rp = _apply(tr, shapely.segmentize(land, 0.005))
    zone = shapely.buffer(rp, SEA_M, quad_segs=16)
    # all land near the region, projected
    x0, y0, x1, y1 = land.bounds
    box = (x0 - 1.0, y0 - 1.0, x1 + 1.0, y1 + 1.0)
    b = borders()
    near = [shapely.clip_by_rect(g, *box) for g in b.geoms if shapely.intersects(g, shapely.box(*box))]
    lp = _apply(tr, shapely.segmentize(_polys(shapely.union_all(near)), 0.005))
    other = shapely.difference(lp, shapely.buffer(rp, IGNORE_OTHER_LAND_M))
    sea = shapely.difference(zone, shapely.union(lp, rp))
    reach = shapely.buffer(zone, SEA_M)
    other_coast = shapely.intersection(shapely.boundary(other), reach)
    if other_coast.is_empty:
        nearer = zone
    else:
        mine = shapely.get_coordinates(shapely.segmentize(shapely.boundary(rp), SAMPLE_M))
        theirs = shapely.get_coordinates(shapely.segmentize(other_coast, SAMPLE_M))
        pts, inv = np.unique(np.vstack([mine, theirs]), axis=0, return_inverse=True)
        is_mine = np.zeros(len(pts), dtype=bool)
        is_mine[inv.reshape(-1)[: len(mine)]] = True
        cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=reach, ordered=True))
        nearer = shapely.union_all(cells[is_mine])
    out = shapely.union(rp, shapely.intersection(sea, nearer))
    out = _polys(shapely.make_valid(shapely.simplify(out, 10.0)))
    back = _polys(shapely.make_valid(_apply(tr, shapely.segmentize(out, 2000.0), "INVERSE")))
    return shapely.set_precision(back, 1e-6)


def main(src: str) -> int:
    doc = json.loads(Path(src).read_text("utf-8"))
    b = borders()
    tw = b.index_of("TW")
    isl = [g for g, code in zip(b.geoms, b.feature_code, strict=True) if code == tw]
    feats: list[dict[str, Any]] = []
    for f in doc["features"]:
        props = dict(f["properties"])
        land = shapely.geometry.shape(f["geometry"])
        if props["region_id"] == "taiwan":
            grown = shapely.buffer(land, 0.02)
            extra = [p for g in isl for p in shapely.get_parts(g) if not shapely.intersects(p, grown)]
            land = shapely.union_all([land, *extra])
            props["note"] = "includes Penghu, Kinmen and (from OpenStreetMap, ODbL) the Matsu islands"
        geom = with_territorial_sea(land)
        lost = shapely.area(shapely.difference(land, geom)) / shapely.area(land)
        assert geom.is_valid and lost < 1e-4, (props["region_id"], lost)
        props["source"] = props["source"] + "; with its territorial sea (12 nmi, equidistance), tools/build_regions.py"
        feats.append({"type": "Feature", "properties": props, "geometry": json.loads(shapely.to_geojson(geom))})
        print(props["region_id"], f"land {shapely.area(land):.4f} deg2 -> with sea {shapely.area(geom):.4f} deg2")
    out = {"type": "FeatureCollection", "name": doc.get("name", "geofence_regions"), "features": feats}
    text = json.dumps(out, separators=(",", ":"))
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT} ({len(text):,} bytes): sha256 {hashlib.sha256(text.encode()).hexdigest()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
