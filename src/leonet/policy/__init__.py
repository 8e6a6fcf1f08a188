"""The service-control plane: who is served, where and when (licences, geofences, a terminal registry with
whitelists and quotas, mobility limits), decided for every terminal at every snapshot with a reason.

Typical use::

    policy = parse_policy(scenario_dict["policy"], source="scenario.toml", base_dir="scenarios/")
    fleet = bind(policy, terminal_ids)
    d = evaluate(policy, fleet, t_s, epoch, lat_deg, lon_deg, alt_m, speed_kmh)   # (T, N) arrays
    steps = why(policy, "KIT-0001", t_s, epoch, lat_deg, lon_deg)                   # one terminal's chain
"""

from leonet.policy.borders import country_codes, country_index, country_table, known_country_codes
from leonet.policy.compiled import Policy, compile_policy, parse_policy, resolve_geometries
from leonet.policy.decide import Decisions, Fleet, PolicyCarry, Step, bind, evaluate, evaluate_chunk, looks_back, why
from leonet.policy.geometry import geometry_from_geojson, load_geojson_geometry
from leonet.policy.models import PolicyConfig, parse_policy_config

__all__ = [
    "Decisions",
    "Fleet",
    "Policy",
    "PolicyCarry",
    "PolicyConfig",
    "Step",
    "bind",
    "compile_policy",
    "country_codes",
    "country_index",
    "country_table",
    "evaluate",
    "evaluate_chunk",
    "geometry_from_geojson",
    "known_country_codes",
    "load_geojson_geometry",
    "looks_back",
    "parse_policy",
    "parse_policy_config",
    "resolve_geometries",
    "why",
]
