"""The access model against published Starlink latency (issue 9 §5; the figures of ``docs/validation.md``).

    python benchmarks/validate_latency.py [--minutes 10] [--terminals 40] [--mode lasers|bent-pipe]
        [--serving scheduler|highest]

Terminals: the most populous shipped cities in the US and in Europe (``--terminals`` per region), as user
terminals on ``starlink-gen1`` with lasers, homed by the ``country`` rule, every 1 s for ``--minutes``.  Prints
the modelled terminal -> PoP RTT per region (the region of the serving PoP), the published figures beside it
(``leonet/data/published_latency.csv``), raw and with one fixed delay calibrated on the US operator median only,
the share of serving-satellite changes on a 15-s slot edge and the |RTT change| between consecutive snapshots
across a slot edge against inside a slot.  ``--mode bent-pipe``: no lasers (the serving satellite must see a
gateway), the access path of Starlink's first years; ``--serving highest``: the highest satellite at every
snapshot instead of the beam scheduler's assignment held for the slot.
"""

from __future__ import annotations

import argparse
import json
import time

from leonet import catalog
from leonet.results import run
from leonet.scenario import parse_scenario
from leonet.validation import EUROPE, compare, handovers_per_edge, region_rtt, rtt_steps, slot_edge_share


def scenario_text(minutes: float, per_region: int, mode: str = "lasers", serving: str = "scheduler") -> str:
    places = catalog.cities()
    us = [p.name for p in places if p.country_iso_a2 == "US"][:per_region]
    eu = [p.name for p in places if p.country_iso_a2 in EUROPE][:per_region]
    return f"""
name = "validate-latency"
epoch = 2026-02-23T00:00:00Z
pairs = "none"
[time]
end_s = {minutes * 60.0}
step_s = 1
[[networks]]
name = "starlink-gen1"
constellation = {{ preset = "starlink-gen1" }}
min_elevation_deg = 25.0
[ground]
cities = {json.dumps(us + eu)}
cities_kind = "terminal"
[access]
mode = "{mode}"
homing = "country"
serving = "{serving}"
"""


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--terminals", type=int, default=40, help="terminals per region")
    ap.add_argument("--mode", choices=["lasers", "bent-pipe"], default="lasers", help="the access path")
    ap.add_argument("--serving", choices=["scheduler", "highest"], default="scheduler", help="the serving rule")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    res = run(
        parse_scenario(scenario_text(args.minutes, args.terminals, args.mode, args.serving), "validate-latency.toml")
    )
    access = res.access_table()
    pop_country = {p.name: p.country_iso_a2 for p in catalog.pops()}
    regions = region_rtt(access, pop_country)
    print(f"{args.terminals} terminals per region, {args.minutes:g} min at 1 s, starlink-gen1, {args.mode}, "
          f"serving {args.serving}")  # fmt: skip
    print(f"{'region':8} {'samples':>8} {'p5 ms':>7} {'median':>7} {'p95 ms':>7}  (terminal -> PoP RTT, modelled)")
    for r in regions:
        print(f"{r.region:8} {r.samples:8d} {r.p5_ms:7.2f} {r.median_ms:7.2f} {r.p95_ms:7.2f}")
    delay, rows = compare(regions, catalog.published_latency(), calibrate_on="US")
    print(f"fixed delay calibrated on the US operator median only: {delay:.2f} ms of RTT")
    print(f"{'region':7} {'published':>9} {'modelled':>8} {'+fixed':>7}  statistic, period, measured by")
    for c in rows:
        p = c.published
        mark = " (the fit)" if c.fitted else ""
        print(f"{p.region:7} {p.rtt_ms:9.1f} {c.modelled_ms:8.2f} {c.calibrated_ms:7.2f}  "
              f"{p.statistic}, {p.period}, {p.measured_by}{mark}")  # fmt: skip
    n, share = slot_edge_share(access)
    print(f"serving-satellite changes: {n}, on a 15-s slot edge: {share:.1%} (1/15 = 6.7% if unrelated to slots)")
    edges, changed = handovers_per_edge(access)
    print(f"slot edges crossed served: {edges}, with a change of serving satellite: {changed:.1%}")
    st = rtt_steps(access)
    print(f"|RTT change| between snapshots: across a slot edge mean {st.edge_mean_ms:.2f} ms, p99 "
          f"{st.edge_p99_ms:.2f} ({st.n_edge}); inside a slot mean {st.inside_mean_ms:.2f} ms, p99 "
          f"{st.inside_p99_ms:.2f} ({st.n_inside})")  # fmt: skip
    print(f"took {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
