"""Benchmark of the policy plane: decisions for 100,000 moving terminals per snapshot (target: < 50 ms on one
core), with the country lookup, binding and track interpolation measured on their own.

Run: ``python benchmarks/bench_policy.py [--terminals 100000] [--repeat 7]``.  Prints figures; exits 1 if the
median per-snapshot evaluation misses the target.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from leonet.catalog import cities  # noqa: E402
from leonet.policy import bind, country_codes, evaluate, parse_policy  # noqa: E402
from leonet.policy.borders import borders  # noqa: E402
from leonet.tracks import TrackSet, interpolate, make_track  # noqa: E402

TARGET_MS = 50.0
EPOCH = datetime(2026, 2, 10, tzinfo=UTC)


def policy_dict(n_registered: int, rng: np.random.Generator) -> dict[str, Any]:
    """A policy with every kind of rule: the facts of SCENARIOS.md at once."""
    classes = np.array(["fixed", "mobile", "maritime", "aviation", "military"])
    cls = rng.choice(classes, n_registered, p=[0.5, 0.3, 0.08, 0.07, 0.05])
    terminals = [
        {
            "id": f"KIT-{i:06d}",
            "account": f"acc-{i:06d}",
            "account_type": "military" if c == "military" else "legal-entity",
            "service_class": str(c),
            "registered_country": "UA" if i % 3 == 0 else "US",
            "whitelists": ["ua-2026"] if i % 3 == 0 else [],
            "exempt_speed_cap": bool(c == "military"),
        }
        for i, c in enumerate(cls)
    ]
    licensed = sorted(set(borders().codes[1:]) - {"-99", "TW", "RU", "CN", "IR", "KP", "BY", "CU", "SY"})
    return {
        "default": {"unregistered": "serve", "unregistered_service_class": "mobile"},
        "licences": [{"id": "lic-world", "countries": licensed, "valid_from": "2020-01-01T00:00:00Z"}],
        "geofences": [
            {
                "id": "crimea-2022",
                "action": "deny",
                "priority": 20,
                "file": "builtin:geofence_regions.geojson",
                "feature": {"region_id": "crimea"},
                "active_from": "2022-09-01T00:00:00Z",
            },
            {
                "id": "taiwan",
                "action": "deny",
                "priority": 20,
                "file": "builtin:geofence_regions.geojson",
                "feature": {"region_id": "taiwan"},
            },
            {
                "id": "donetsk-allow",
                "action": "allow",
                "priority": 30,
                "file": "builtin:geofence_regions.geojson",
                "feature": {"region_id": "ua-14"},
                "active_until": "2022-01-01T00:00:00Z",
            },
            {
                "id": "ua-whitelist-2026",
                "action": "whitelist-only",
                "priority": 10,
                "whitelist": "ua-2026",
                "countries": ["UA"],
                "active_from": "2026-02-03T00:00:00Z",
            },
        ],
        "terminals": terminals,
        "quotas": [
            {"id": "quota-person", "account_type": "person", "max_terminals": 1},
            {"id": "quota-legal", "account_type": "legal-entity", "max_terminals": 10},
            {"id": "quota-critical", "account_type": "critical", "max_terminals": "unlimited"},
        ],
        "service_bans": [
            {
                "id": "military-use-2022",
                "service_classes": ["drone"],
                "countries": ["UA"],
                "active_from": "2022-10-01T00:00:00Z",
            }
        ],
        "speed_caps": [
            {
                "id": "ua-speed-cap-2026",
                "countries": ["UA"],
                "max_speed_kmh": 90,
                "active_from": "2026-01-31T00:00:00Z",
                "exempt_account_types": ["military"],
            }
        ],
        "motion_bans": [{"id": "land-motion-jp-mx", "countries": ["JP", "MX"]}],
        "mobility": [
            {"id": "plan-fixed", "service_class": "fixed", "in_motion": False},
            {"id": "plan-mobile", "service_class": "mobile", "max_speed_kmh": 160, "roaming_days": 60},
            {"id": "plan-maritime", "service_class": "maritime", "max_speed_kmh": 100},
            {"id": "plan-aviation", "service_class": "aviation", "max_speed_kmh": 1100, "max_altitude_m": 13_000},
        ],
    }


def positions(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Terminals around the 1,000 largest cities (most near coasts and borders) plus a tenth in Ukraine."""
    c = np.array([(p.lat_deg, p.lon_deg) for p in cities()])
    k = rng.integers(0, len(c), n)
    lat = np.clip(c[k, 0] + rng.normal(0, 0.5, n), -89.9, 89.9)
    lon = (c[k, 1] + rng.normal(0, 0.5, n) + 180.0) % 360.0 - 180.0
    ua = rng.random(n) < 0.1
    lat[ua] = rng.uniform(44.4, 50.5, ua.sum())
    lon[ua] = rng.uniform(30.0, 38.0, ua.sum())
    return lat, lon


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    fn()  # warm-up
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(runs), min(runs)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--terminals", type=int, default=100_000)
    ap.add_argument("--registered", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    rng = np.random.default_rng(2026)
    n = args.terminals

    t0 = time.perf_counter()
    borders()
    t_borders = time.perf_counter() - t0
    t0 = time.perf_counter()
    pol = parse_policy(policy_dict(args.registered, rng), source="bench")
    t_parse = time.perf_counter() - t0
    ids = np.array([f"KIT-{i:06d}" for i in range(n)])
    rng.shuffle(ids)
    lat, lon = positions(n, rng)
    speed = rng.uniform(0, 200, n)
    alt = rng.uniform(0, 12_000, n)
    t_bind, _ = timed(lambda: bind(pol, ids), args.repeat)
    fleet = bind(pol, ids)

    print(f"leonet policy benchmark: {n:,} terminals ({args.registered:,} registered), one core")
    print(f"  build borders index (once per process)     {t_borders * 1e3:8.1f} ms")
    print(f"  validate + compile policy (incl. files)     {t_parse * 1e3:8.1f} ms")
    print(f"  bind {n:,} terminal ids to the registry    {t_bind:8.1f} ms  (once per run)")
    med, best = timed(lambda: country_codes(lat[None, :], lon[None, :]), args.repeat)
    print(f"  country lookup, {n:,} points               {med:8.1f} ms  (best {best:.1f})")
    one = [0.0]
    med_eval, best = timed(
        lambda: evaluate(pol, fleet, one, EPOCH, lat[None, :], lon[None, :], alt[None, :], speed[None, :]), args.repeat
    )
    print(
        f"  evaluate 1 snapshot x {n:,} terminals      {med_eval:8.1f} ms  (best {best:.1f})"
        f"   target < {TARGET_MS:g} ms"
    )
    d = evaluate(pol, fleet, one, EPOCH, lat[None, :], lon[None, :], alt[None, :], speed[None, :])
    served = float(d.served.mean())
    top = np.bincount(d.rule[d.rule >= 0], minlength=len(d.rule_ids))
    print(
        f"    served {served:.1%}; most frequent denials: "
        + ", ".join(f"{d.rule_ids[i]} {top[i]:,}" for i in np.argsort(top)[::-1][:4] if top[i])
    )

    n_t = 10
    m = n // n_t
    t_s = np.arange(n_t) * 15.0
    lat_t = np.broadcast_to(lat[:m], (n_t, m))
    lon_t = np.broadcast_to(lon[:m], (n_t, m))
    fleet_m = bind(pol, ids[:m])
    med, best = timed(lambda: evaluate(pol, fleet_m, t_s, EPOCH, lat_t, lon_t, 0.0, speed[None, :m]), args.repeat)
    print(f"  evaluate {n_t} snapshots x {m:,} terminals       {med:8.1f} ms  (best {best:.1f})")

    tracks = [make_track([0.0, 3600.0], [la, la + 0.5], [lo, lo + 0.5]) for la, lo in zip(lat, lon, strict=True)]
    tset = TrackSet.of(tracks)
    med, best = timed(lambda: interpolate(tset, one), args.repeat)
    print(f"  interpolate {n:,} tracks at 1 snapshot     {med:8.1f} ms  (best {best:.1f})")
    ok = med_eval < TARGET_MS
    print(f"  {'PASS' if ok else 'FAIL'}: per-snapshot evaluation {med_eval:.1f} ms vs target {TARGET_MS:g} ms")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
