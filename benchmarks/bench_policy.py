"""Benchmark of the policy plane: 100,000 moving terminals per snapshot, measured as a run does it -- positions
along the tracks (``interpolate``) then the decisions (``evaluate``) -- against the target of 50 ms per snapshot on
one core, printed beside the bare decision call, the country lookup (land + territorial sea), binding and track
interpolation on their own.

Run: ``python benchmarks/bench_policy.py [--terminals 100000] [--repeat 7]``.  Each figure is the median of the
repeats, as wall-clock time and as this process's CPU time (the machine may be shared: CPU time is what one core
spends on it).  Exits 1 if the median CPU time per snapshot, positions + decisions, misses the target.
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
import pyproj  # noqa: E402

from leonet.catalog import cities  # noqa: E402
from leonet.policy import bind, country_codes, evaluate, parse_policy  # noqa: E402
from leonet.policy.borders import borders  # noqa: E402
from leonet.tracks import TrackSet, interpolate, make_track  # noqa: E402

TARGET_MS = 50.0
EPOCH = datetime(2026, 2, 10, tzinfo=UTC)


def policy_dict(n_registered: int, rng: np.random.Generator) -> dict[str, Any]:
    """A policy with every kind of rule: the facts of docs/scenarios.md at once."""
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
    """Median wall-clock and median CPU milliseconds of ``fn`` over ``repeat`` runs (after a warm-up)."""
    fn()  # warm-up
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t0) * 1e3)
        cpu.append((time.process_time() - c0) * 1e3)
    return statistics.median(wall), statistics.median(cpu)


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
    print("                                                  wall ms    cpu ms")
    print(f"  build borders index (once per process)     {t_borders * 1e3:9.1f}")
    print(f"  validate + compile policy (incl. files)     {t_parse * 1e3:9.1f}")
    print(f"  bind {n:,} terminal ids to the registry    {t_bind:9.1f}            (once per run)")
    w, c = timed(lambda: country_codes(lat[None, :], lon[None, :]), args.repeat)
    print(f"  country lookup, {n:,} points               {w:9.1f} {c:9.1f}")
    one = [0.0]
    w_eval, c_eval = timed(
        lambda: evaluate(pol, fleet, one, EPOCH, lat[None, :], lon[None, :], alt[None, :], speed[None, :]), args.repeat
    )
    print(f"  evaluate 1 snapshot x {n:,} terminals      {w_eval:9.1f} {c_eval:9.1f}   (the bare call)")
    d = evaluate(pol, fleet, one, EPOCH, lat[None, :], lon[None, :], alt[None, :], speed[None, :])
    served = float(d.served.mean())
    top = np.bincount(d.rule[d.rule >= 0], minlength=len(d.rule_ids))
    print(
        f"    served {served:.1%}; most frequent denials: "
        + ", ".join(f"{d.rule_ids[i]} {top[i]:,}" for i in np.argsort(top)[::-1][:4] if top[i])
    )

    # moving terminals: each on a one-hour track from its position, 10-200 km/h on a random heading, with a
    # point every 5 minutes (as vehicle and AIS logs have them; segments 0.8-17 km)
    heading = rng.uniform(-180, 180, n)
    length_m = rng.uniform(10, 200, n) * 1000.0
    geod = pyproj.Geod(ellps="WGS84")
    k = np.arange(13) / 12.0
    lon_k, lat_k, _ = geod.fwd(
        np.repeat(lon, k.size), np.repeat(lat, k.size), np.repeat(heading, k.size), (length_m[:, None] * k).ravel()
    )
    lat_k, lon_k = lat_k.reshape(n, k.size), lon_k.reshape(n, k.size)
    t_k = k * 3600.0
    tracks = [make_track(t_k, lat_k[i], lon_k[i], alt[i]) for i in range(n)]
    tset = TrackSet.of(tracks)
    at = [1800.0]
    w_int, c_int = timed(lambda: interpolate(tset, at), args.repeat)
    print(f"  interpolate {n:,} tracks at 1 snapshot     {w_int:9.1f} {c_int:9.1f}")

    def snapshot() -> object:
        st = interpolate(tset, at)
        return evaluate(pol, fleet, at, EPOCH, st.lat_deg, st.lon_deg, st.alt_m, st.speed_kmh)

    w_run, c_run = timed(snapshot, args.repeat)
    print(
        f"  positions + decisions, 1 snapshot x {n:,} moving terminals {w_run:6.1f} {c_run:9.1f}   "
        f"target <= {TARGET_MS:g} ms (bare evaluate x {c_run / c_eval:.2f})"
    )

    n_t = 10
    m = n // n_t
    t_s = np.arange(n_t) * 15.0
    fleet_m = bind(pol, ids[:m])
    sub = TrackSet.of(tracks[:m])

    def window() -> object:
        st = interpolate(sub, t_s)
        return evaluate(pol, fleet_m, t_s, EPOCH, st.lat_deg, st.lon_deg, st.alt_m, st.speed_kmh)

    w, c = timed(window, args.repeat)
    print(f"  positions + decisions, {n_t} snapshots x {m:,} moving terminals {w:6.1f} {c:9.1f}")
    ok = c_run <= TARGET_MS
    verdict = "PASS" if ok else "FAIL"
    print(f"  {verdict}: positions + decisions per snapshot {c_run:.1f} ms CPU vs target {TARGET_MS:g} ms")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
