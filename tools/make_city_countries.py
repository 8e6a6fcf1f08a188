"""Regenerate ``src/leonet/data/hypatia_cities_top1000.countries.csv``: the country of each shipped city.

Hypatia's city list gives names and coordinates only. Each city is put in the Natural Earth 1:50m admin-0
polygon that contains it (``ISO_A2_EH``, ``ADMIN``; the reference copy in ``../shared/data/borders/``, or
``$LEONET_SHARED_DATA/borders/``); a coastal city just outside every polygon gets the nearest one, and
``match_km`` records how far that was (0 for a city inside its polygon). Run from the repository root:

    .venv/bin/python tools/make_city_countries.py

``tests/test_catalog.py`` recomputes the file the same way and checks it is current.
"""

from __future__ import annotations

import csv
import io
import os
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src" / "leonet" / "data" / "hypatia_cities_top1000.countries.csv"
HEADER = ("gid", "country_iso_a2", "country", "match_km")


def borders_50m() -> Path:
    shared = Path(os.environ.get("LEONET_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
    return shared / "borders" / "ne_50m_admin_0_countries.geojson"


def city_countries(borders_file: Path | None = None) -> list[tuple[int, str, str, float]]:
    """(gid, ISO 3166-1 alpha-2, country name, distance km to the polygon) of every shipped city."""
    import json

    import numpy as np
    import shapely

    from leonet import catalog

    feats = json.loads((borders_file or borders_50m()).read_text(encoding="utf-8"))["features"]
    geoms = shapely.from_geojson([json.dumps(f["geometry"]) for f in feats])
    codes = [str(f["properties"]["ISO_A2_EH"]) for f in feats]
    names = [str(f["properties"]["ADMIN"]) for f in feats]
    rows = []
    for gid, c in enumerate(catalog.raw_cities()):
        pt = shapely.Point(c.lon_deg, c.lat_deg)
        inside = np.flatnonzero(shapely.contains(geoms, pt))
        if len(inside):
            i, km = int(inside[0]), 0.0
        else:  # nearest polygon; degrees -> km at this latitude (good enough for a few km)
            d = shapely.distance(geoms, pt)
            i = int(np.argmin(d))
            near = shapely.ops.nearest_points(geoms[i], pt)[0]
            dlat = (near.y - c.lat_deg) * 111.2
            dlon = (near.x - c.lon_deg) * 111.2 * np.cos(np.radians(c.lat_deg))
            km = round(float(np.hypot(dlat, dlon)), 1)
        rows.append((gid, codes[i], names[i], km))
    return rows


def render(rows: list[tuple[int, str, str, float]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(HEADER)
    w.writerows(rows)
    return buf.getvalue()


if __name__ == "__main__":
    import shapely.ops  # noqa: F401  (nearest_points)

    OUT.write_text(render(city_countries()), encoding="utf-8")
    print(f"wrote {OUT}", file=sys.stderr)
