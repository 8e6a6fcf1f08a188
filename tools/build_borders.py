"""Build the shipped country borders (run by hand, not at install): ``src/leonet/data/ne_10m_admin_0_countries.geojson``
from the npm package ``world-atlas``, and ``src/leonet/data/osm_islands_not_in_ne10m.geojson`` from the npm package
``@geo-maps/countries-land-1km`` (islands that Natural Earth 1:10m lacks, such as the Matsu islands of Taiwan).

Source: ``world-atlas@2.0.2`` (ISC; Natural Earth v4.1.0 1:10m admin-0 countries as TopoJSON, public domain),
file ``countries-10m.json``: ids are ISO 3166-1 numeric codes, properties only ``name``.  Get it with::

    npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz     # -> package/countries-10m.json
    npm pack @geo-maps/countries-land-1km@0.6.0 && mkdir gm && tar xzf geo-maps-countries-land-1km-0.6.0.tgz -C gm
    python tools/build_borders.py package/countries-10m.json ../shared/data/borders/ne_50m_admin_0_countries.geojson \
        gm/package/map.geo.json

The script decodes the TopoJSON (quantised, delta-encoded arcs; topojson-specification §2.1.3-2.1.5), repairs
the few polygons the quantisation made invalid (``shapely.make_valid``, polygonal parts kept), and names each
feature by Natural Earth's ``ISO_A2_EH`` convention: taken from the 1:50m file (same Natural Earth columns) by
name, else by ISO numeric code, else from the table ``EXTRA`` below (the 1:10m-only features).  Rings that
TopoJSON lets jump between -180 and +180 are unwrapped and cut at the antimeridian; Antarctica's ring is
closed through the South Pole.  A country whose every polygon the quantisation collapsed (the Vatican) keeps
its 1:50m polygon, listed first so that it wins over the hole-less neighbour.  It writes one Feature per country
with properties ``ISO_A2_EH``, ``NAME``, ``ISO_N3`` (``-99``: none), coordinates rounded to 1e-5 deg (about 1 m;
the source's quantum is 0.0036 x 0.0017 deg).

Islands: every polygon of the OpenStreetMap-derived 1 km map that lies farther than 0.02 deg from every
Natural Earth polygon (so NE has no land there at all) is kept, named by its ISO 3166-1 alpha-3 code mapped to
``ISO_A2_EH`` (``A3_TO_A2`` for the codes the 1:50m file does not have); duplicates (Svalbard is under both
NOR and SJM) are dropped.  That file is ODbL 1.0 (c) OpenStreetMap contributors; it is kept separate from the
public-domain Natural Earth file.  The script prints the checksums to record in ``src/leonet/data/README.md``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import shapely.affinity

DATA = Path(__file__).resolve().parents[1] / "src" / "leonet" / "data"
OUT = DATA / "ne_10m_admin_0_countries.geojson"
OUT_ISLANDS = DATA / "osm_islands_not_in_ne10m.geojson"
#: islands closer than this (deg) to a Natural Earth polygon are taken to be drawn by Natural Earth already
ISLAND_GAP_DEG = 0.02

#: 1:10m features that the 1:50m file does not have, and the ISO_A2_EH code given to them (``-99``: no code).
EXTRA = {
    "Macedonia": "MK",  # the 50m file says "North Macedonia" (ISO numeric 807)
    "Gibraltar": "GI",  # ISO 3166-1 GI (292)
    "U.S. Minor Outlying Is.": "UM",  # ISO 3166-1 UM (581)
    "Dhekelia": "GB",  # UK Sovereign Base Area
    "Akrotiri": "GB",  # UK Sovereign Base Area
    "USNB Guantanamo Bay": "CU",  # leased to the US; ISO 3166 counts it in Cuba
    "Cyprus U.N. Buffer Zone": "CY",  # inside the Republic of Cyprus (ISO 3166)
    "Baikonur": "KZ",  # leased to Russia; Kazakh territory
    "Coral Sea Is.": "AU",  # Australian external territory
    "Clipperton I.": "FR",  # French overseas possession (ISO 3166-2:FR-CP)
    "Spratly Is.": "-99",  # disputed, no ISO code
    "Bajo Nuevo Bank": "-99",  # disputed, no ISO code
    "Serranilla Bank": "-99",  # disputed, no ISO code
    "Scarborough Reef": "-99",  # disputed, no ISO code
}


#: alpha-3 codes of the OSM map that the 1:50m file's A3 columns lack, by Natural Earth's ISO_A2_EH view
A3_TO_A2 = {
    "BES": "NL", "BVT": "NO", "CCK": "AU", "CXR": "AU", "GIB": "GI", "GLP": "FR", "GUF": "FR", "MTQ": "FR",
    "MYT": "FR", "REU": "FR", "SJM": "NO", "TKL": "NZ", "UMI": "UM", "XKX": "XK",
}  # fmt: skip

#: islands that OpenStreetMap puts in two countries (a claim and an administration): who administers them, as
#: Natural Earth's de facto view does (it puts Kinmen in Taiwan)
DE_FACTO = {
    frozenset(("CHN", "TWN")): "TWN",  # Matsu islands (Lienchiang County, ROC)
    frozenset(("CHN", "HKG")): "HKG",  # islands of the Hong Kong SAR (NE draws HK apart from CN)
    # a dependent territory under its sovereign too: the territory, which Natural Earth draws with its own code
    frozenset(("ALA", "FIN")): "ALA",
    frozenset(("ATF", "FRA")): "ATF",
    frozenset(("AUS", "NFK")): "NFK",
    frozenset(("HMD", "AUS")): "HMD",
    frozenset(("NCL", "FRA")): "NCL",
    frozenset(("PYF", "FRA")): "PYF",
    frozenset(("USA", "MNP")): "MNP",
}


def decode_arcs(topo: dict[str, Any]) -> list[np.ndarray]:
    """Absolute lon/lat of every arc (delta-decoded, then scaled and translated)."""
    sx, sy = topo["transform"]["scale"]
    tx, ty = topo["transform"]["translate"]
    out = []
    for arc in topo["arcs"]:
        q = np.cumsum(np.asarray(arc, dtype=np.int64), axis=0)
        out.append(np.column_stack([q[:, 0] * sx + tx, q[:, 1] * sy + ty]))
    return out


def ring(arcs: list[np.ndarray], indices: list[int]) -> np.ndarray:
    pts = []
    for k, i in enumerate(indices):
        a = arcs[i] if i >= 0 else arcs[~i][::-1]
        pts.append(a if k == 0 else a[1:])
    return np.round(np.concatenate(pts), 5)


def _polygonal_parts(g: shapely.Geometry) -> list[shapely.Polygon]:
    """The polygons of a geometry (``make_valid`` may return nested collections with lines and points)."""
    if g.geom_type == "Polygon":
        return [g] if g.area > 0 else []
    if g.geom_type in ("MultiPolygon", "GeometryCollection"):
        return [p for part in shapely.get_parts(g) for p in _polygonal_parts(part)]
    return []


def _unwrapped(pts: np.ndarray) -> np.ndarray:
    """A ring with longitudes made continuous (TopoJSON rings may jump between -180 and +180 on the
    antimeridian); a ring that winds once around a pole (Antarctica) is closed through that pole."""
    lon = np.unwrap(pts[:, 0], period=360.0)
    out = np.column_stack([lon, pts[:, 1]])
    wind = lon[-1] - lon[0]
    if abs(wind) > 180.0:
        pole = -90.0 if pts[:, 1].mean() < 0 else 90.0
        out = np.vstack([out, [[lon[-1], pole], [lon[0], pole]], out[:1]])
    return out


def _split_antimeridian(p: shapely.Polygon) -> list[shapely.Polygon]:
    """A polygon in unwrapped longitudes cut into pieces inside -180..180."""
    x0, _, x1, _ = p.bounds
    if x0 >= -180.0 and x1 <= 180.0:
        return [p]
    out = []
    for k in (-2, -1, 0, 1, 2):
        window = shapely.box(-180.0 + 360.0 * k, -90.0, 180.0 + 360.0 * k, 90.0)
        piece = shapely.affinity.translate(shapely.intersection(p, window), xoff=-360.0 * k)
        out += _polygonal_parts(piece)
    return out


def polygons(arcs: list[np.ndarray], geom: dict[str, Any]) -> list[shapely.Polygon]:
    polys = [geom["arcs"]] if geom["type"] == "Polygon" else geom["arcs"]
    out: list[shapely.Polygon] = []
    for rings in polys:
        shell, *holes = (_unwrapped(ring(arcs, r)) for r in rings)
        if len(shell) < 4:  # an islet the quantisation collapsed
            continue
        p = shapely.Polygon(shell, [h for h in holes if len(h) >= 4])
        parts = _polygonal_parts(p) if p.is_valid else _polygonal_parts(shapely.make_valid(p))
        out += [q for part in parts for q in _split_antimeridian(part)]
    return out


def code_table(ne50: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    by_name: dict[str, str] = {}
    by_n3: dict[str, str] = {}
    for f in ne50["features"]:
        p = f["properties"]
        by_name[p["NAME"]] = p["ISO_A2_EH"]
        if p["ISO_N3_EH"] != "-99":
            by_n3.setdefault(p["ISO_N3_EH"], p["ISO_A2_EH"])
    return by_name, by_n3


def islands(osm_path: str, ne_parts: np.ndarray, ne50: dict[str, Any]) -> list[dict[str, Any]]:
    """Features for the OSM land polygons that no Natural Earth polygon comes near."""
    a3map = dict(A3_TO_A2)
    for f in ne50["features"]:
        p = f["properties"]
        for k in ("ISO_A3_EH", "ADM0_A3", "ISO_A3", "GU_A3", "SU_A3", "BRK_A3"):
            if p.get(k) not in (None, "-99"):
                a3map.setdefault(p[k], p["ISO_A2_EH"])
    doc = json.loads(Path(osm_path).read_text("utf-8"))
    tree = shapely.STRtree(ne_parts)
    found: list[tuple[str, shapely.Geometry]] = []
    for f in doc["features"]:
        a3 = f["properties"]["A3"]
        parts = np.array(_polygonal_parts(shapely.from_geojson(json.dumps(f["geometry"]))), dtype=object)
        if not parts.size:
            continue
        near = tree.query(parts, predicate="dwithin", distance=ISLAND_GAP_DEG)[0]
        far = np.setdiff1d(np.arange(parts.size), near)
        if far.size:
            fixed = [shapely.set_precision(shapely.make_valid(q), 1e-5) for q in parts[far]]
            found.append((a3, shapely.union_all(fixed)))
    geoms = np.array([g for _, g in found], dtype=object)
    pairs = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    for a3, _ in found:
        if a3 not in a3map:
            raise SystemExit(f"no ISO_A2_EH code for OSM country {a3!r}; add it to A3_TO_A2")
    # islands claimed by two countries: the one in DE_FACTO administers it; the same code twice: merged
    drop: dict[int, list[int]] = {}
    unknown: set[str] = set()
    for i, j in zip(*pairs, strict=True):
        if i >= j or not shapely.relate_pattern(geoms[i], geoms[j], "2********"):
            continue
        a, b = found[i][0], found[j][0]
        if a3map[a] == a3map[b]:
            drop.setdefault(int(j), []).append(int(i))  # the later one gives up the shared part
            continue
        winner = DE_FACTO.get(frozenset((a, b)))
        if winner is None:
            unknown.add(f"{a}/{b}")
            continue
        loser = j if winner == a else i
        drop.setdefault(int(loser), []).append(int(i if loser == j else j))
    if unknown:
        raise SystemExit(f"islands claimed by two countries: {sorted(unknown)}; add who administers them to DE_FACTO")
    out = []
    for i, (a3, g) in enumerate(found):
        if drop.get(i):
            g = shapely.set_precision(shapely.difference(g, shapely.union_all(geoms[drop[i]])), 1e-5)
        polys = _polygonal_parts(g)
        if not polys:
            continue
        geom = polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)
        props = {"ISO_A2_EH": a3map[a3], "A3": a3}
        out.append({"type": "Feature", "properties": props, "geometry": json.loads(shapely.to_geojson(geom))})
    return out


def _write(path: Path, doc: dict[str, Any]) -> str:
    text = json.dumps(doc, separators=(",", ":"))
    path.write_text(text, encoding="utf-8")
    back = shapely.from_geojson([json.dumps(f["geometry"]) for f in doc["features"]])
    bad = [doc["features"][i]["properties"] for i in np.flatnonzero(~shapely.is_valid(back))]
    if bad:  # every geometry must come back valid from the rounded text
        raise SystemExit(f"{path}: invalid after writing: {bad[:5]}")
    digest = hashlib.sha256(text.encode()).hexdigest()
    print(f"wrote {path} ({len(doc['features'])} features, {len(text):,} bytes): sha256 {digest}")
    return text


def main(topo_path: str, ne50_path: str, osm_path: str) -> int:
    raw = Path(topo_path).read_bytes()
    topo = json.loads(raw)
    ne50 = json.loads(Path(ne50_path).read_text("utf-8"))
    by_name, by_n3 = code_table(ne50)
    arcs = decode_arcs(topo)
    feats = []
    for g in topo["objects"]["countries"]["geometries"]:
        name = g["properties"]["name"]
        n3 = g.get("id")
        code = by_name.get(name) or (by_n3.get(n3) if n3 else None) or EXTRA.get(name)
        if code is None:
            raise SystemExit(f"no ISO_A2_EH code for {name!r} (id {n3}); add it to EXTRA")
        polys = polygons(arcs, g)
        if not polys:
            continue
        geom = polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)
        if not geom.is_valid:  # parts that touch or overlap after the repair: merge them
            geom = shapely.union_all(polys)
            geom = geom if geom.geom_type == "Polygon" else shapely.MultiPolygon(_polygonal_parts(geom))
        props = {"ISO_A2_EH": code, "NAME": name, "ISO_N3": n3 or "-99"}
        feats.append({"type": "Feature", "properties": props, "geometry": json.loads(shapely.to_geojson(geom))})
    lost = sorted(set(by_name.values()) - {f["properties"]["ISO_A2_EH"] for f in feats})
    rescued = []
    for f in ne50["features"]:
        p = f["properties"]
        if p["ISO_A2_EH"] in lost:  # collapsed by the quantisation: keep the 1:50m polygon, first
            props = {"ISO_A2_EH": p["ISO_A2_EH"], "NAME": p["NAME"], "ISO_N3": p["ISO_N3_EH"]}
            rescued.append({"type": "Feature", "properties": props, "geometry": f["geometry"]})
    print(f"kept from 1:50m (collapsed at 1:10m): {[f['properties']['NAME'] for f in rescued]}")
    feats = rescued + feats
    src = "world-atlas@2.0.2 countries-10m.json (Natural Earth v4.1.0 1:10m admin-0), tools/build_borders.py"
    _write(OUT, {"type": "FeatureCollection", "source": src, "features": feats})
    ne_parts = shapely.get_parts(shapely.from_geojson([json.dumps(f["geometry"]) for f in feats]))
    isl = islands(osm_path, ne_parts, ne50)
    src = "@geo-maps/countries-land-1km@0.6.0 (ODbL 1.0, (c) OpenStreetMap contributors), tools/build_borders.py"
    _write(OUT_ISLANDS, {"type": "FeatureCollection", "source": src, "license": "ODbL-1.0", "features": isl})
    print(f"source {topo_path}: sha256 {hashlib.sha256(raw).hexdigest()}")
    print(f"source {osm_path}: sha256 {hashlib.sha256(Path(osm_path).read_bytes()).hexdigest()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
