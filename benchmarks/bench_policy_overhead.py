"""Overhead of the policy plane on a full run (issue 3 target: under 20%).

The default scenario (starlink-550, +Grid, 4,950 city pairs, 301 snapshots at 1 s) with its 100 cities made user
terminals, run twice: without a policy, and with the example policy of ``scenarios/policy/example-policy.toml``
(every rule kind of docs/scenarios.md: licences, geofences incl. whitelist-only, quotas, speed caps, motion bans, plan
mobility). Both runs do everything ``leonet run`` does except writing files: prepare, simulate, summaries.

Run: ``python benchmarks/bench_policy_overhead.py [--repeat 3] [--end-s 300]``. Prints figures, one core.
"""

from __future__ import annotations

import os

for _var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import contextlib  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import tomllib  # noqa: E402
from importlib import resources  # noqa: E402

import leonet  # noqa: E402
from leonet import assembly, step  # noqa: E402
from leonet.chunk import chunk_bounds  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--end-s", type=float, default=300.0)
    args = ap.parse_args()
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    folder = resources.files("leonet").joinpath("scenarios")
    policy = tomllib.loads(folder.joinpath("policy", "example-policy.toml").read_text())["policy"]
    base = leonet.load_scenario("default")
    base = base.model_copy(
        update={
            "ground": base.ground.model_copy(update={"cities_kind": "terminal"}),
            "time": base.time.model_copy(update={"end_s": args.end_s}),
            "base_dir": str(folder.joinpath("policy")),
        }
    )
    with_policy = base.model_copy(update={"policy": policy})
    leonet.run(base.model_copy(update={"time": base.time.model_copy(update={"end_s": 5})}))  # warm-up (JIT)

    def timed(sc: leonet.Scenario) -> tuple[float, float, leonet.Results]:
        t0 = time.perf_counter()
        prep = assembly.assemble(sc)
        t1 = time.perf_counter()
        from leonet.results import run_prepared

        res = run_prepared(prep)
        return t1 - t0, time.perf_counter() - t0, res

    rows = {}
    for name, sc in (("no policy", base), ("policy", with_policy)):
        runs = [timed(sc) for _ in range(args.repeat)]
        rows[name] = (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs), runs[-1][2])
    n_snap = len(assembly.snapshot_times(base))
    print(f"== default scenario, 100 city terminals, {n_snap} snapshots, 4,950 pairs, median of {args.repeat}")
    for name, (prep_s, total_s, _res) in rows.items():
        per = total_s / n_snap * 1e3
        print(f"   {name:10s} prepare {prep_s:6.2f} s   whole run {total_s:6.2f} s   ({per:.1f} ms/snapshot)")
    res = rows["policy"][2]
    denied = sum(r["denied_s"] > 0 for r in res.terminals.to_pylist())
    print(f"   with the policy {denied} of 100 terminals are denied at some time")
    end_to_end = rows["policy"][1] / rows["no policy"][1] - 1.0
    print(f"   end to end {end_to_end * 100:+.1f}% (denied terminals lose their routes, so there is less to route)")
    # the policy's own cost, with the routing load held equal: evaluating every rule for every terminal at
    # every snapshot (step.decide, chunk by chunk as the run does) plus applying the masks to the ground links
    prep = assembly.assemble(with_policy)
    costs = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        carry = None
        for k0, k1 in chunk_bounds(prep):
            d, carry = step.decide(prep, prep.times_s[k0:k1], carry)
            step.allowed_mask(prep, prep.networks[0], d)
        costs.append(time.perf_counter() - t0)
    cost = statistics.median(costs)
    overhead = cost / rows["no policy"][1]
    verdict = "OK" if overhead < 0.20 else "MISSED"
    print(
        f"   policy evaluation {cost * 1e3:.0f} ms for {n_snap} snapshots x 100 terminals "
        f"({cost / n_snap * 1e3:.2f} ms/snapshot)"
    )
    print(f"   policy overhead {overhead * 100:.1f}% of the run without policy   target < 20%   {verdict}")


if __name__ == "__main__":
    main()
