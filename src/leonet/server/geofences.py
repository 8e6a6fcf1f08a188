"""Geofences of a ``[policy]`` as a GeoJSON FeatureCollection for the page (``GET /api/geofences``).

Each feature's geometry is the region the evaluator uses (inline geometry, the file's feature, or the listed
countries' borders as Natural Earth has them), in WGS-84 lon/lat; properties: ``id``, ``action``,
``priority``, ``countries``, ``active_from``, ``active_until`` and ``in_force`` (whether the fence's time
window contains the simulated time ``t_s``).
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import shapely
import shapely.geometry

from leonet.control.audit import canonical_json
from leonet.policy.compiled import Policy
from leonet.scenario import Scenario

#: compiled policies of recent requests: canonical JSON of (policy, scenario directory) -> Policy (a page asks
#: for the same geofences again and again; compiling reads geofence files)
_COMPILED: dict[str, Policy] = {}
_LOCK = threading.Lock()


def _compiled(policy: dict[str, Any], scenario: Scenario) -> Policy:
    key = canonical_json([policy, scenario.base_dir])
    with _LOCK:
        hit = _COMPILED.get(key)
    if hit is not None:
        return hit
    compiled = scenario.model_copy(update={"policy": policy}).compiled_policy()
    assert compiled is not None
    with _LOCK:
        while len(_COMPILED) >= 8:
            _COMPILED.pop(next(iter(_COMPILED)), None)
        _COMPILED[key] = compiled
    return compiled


def feature_collection(policy: dict[str, Any] | None, scenario: Scenario, t_s: float) -> dict[str, Any]:
    if policy is None:
        return {"type": "FeatureCollection", "features": []}
    compiled = _compiled(policy, scenario)
    now = scenario.epoch + timedelta(seconds=t_s)
    features = []
    for g, region in zip(compiled.config.geofences, compiled.geofences, strict=True):
        geom = region.geometry
        in_force = (g.active_from is None or g.active_from <= now) and (g.active_until is None or now < g.active_until)
        features.append(
            {
                "type": "Feature",
                "id": g.id,
                "geometry": None if geom is None or shapely.is_empty(geom) else shapely.geometry.mapping(geom),
                "properties": {
                    "id": g.id,
                    "action": g.action,
                    "priority": g.priority,
                    "countries": g.countries,
                    "whitelist": g.whitelist,
                    "active_from": None if g.active_from is None else g.active_from.isoformat(),
                    "active_until": None if g.active_until is None else g.active_until.isoformat(),
                    "in_force": in_force,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}
