"""Summaries of the routes table: per pair RTT min / median / p95 / max, stretch, hops, handovers, outage.

Computed by DuckDB over the Arrow table (zero-copy), so the same query also runs over Parquet files of any size.
Medians and p95 are ``quantile_cont`` (linear interpolation, NumPy's default ``percentile`` method).
"""

from __future__ import annotations

from typing import TypeAlias

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds

from leonet.constants import C_KM_S

#: The routes as an in-memory Arrow table, or a dataset over Parquet files (both scanned by DuckDB).
Routes: TypeAlias = pa.Table | ds.Dataset

SUMMARY_SQL = """
SELECT
    network, src, dst, src_name::VARCHAR AS src_name, dst_name::VARCHAR AS dst_name,
    min(gc_km) AS gc_km,  -- a moving terminal's distance varies: the closest, a bound for every snapshot
    2 * min(gc_km) / $c_km_s * 1000 AS gc_rtt_ms,
    count(*) AS snapshots,
    count(rtt_ms) AS reachable_snapshots,
    min(rtt_ms) AS rtt_min_ms,
    quantile_cont(rtt_ms, 0.5) AS rtt_median_ms,
    quantile_cont(rtt_ms, 0.95) AS rtt_p95_ms,
    max(rtt_ms) AS rtt_max_ms,
    avg(hops) FILTER (WHERE reachable) AS hops_mean,
    quantile_cont(stretch, 0.5) AS stretch_median,
    count(*) FILTER (WHERE path_changed) AS path_changes,
    count(*) FILTER (WHERE first_sat_changed) AS first_sat_changes,
    count(*) FILTER (WHERE last_sat_changed) AS last_sat_changes,
    count(*) FILTER (WHERE NOT reachable) AS unreachable_snapshots
FROM routes
GROUP BY network, src, dst, src_name, dst_name
ORDER BY network, src, dst
"""


def summarise(routes: Routes) -> pa.Table:
    """One row per network and pair (see ``SUMMARY_SQL`` for the columns)."""
    con = duckdb.connect()
    con.register("routes", routes)
    out = con.execute(SUMMARY_SQL, {"c_km_s": C_KM_S}).fetch_arrow_table()
    con.close()
    return out


def network_summary(routes: Routes) -> pa.Table:
    """One row per network: pairs, median RTT over all pair-snapshots, share of reachable pair-snapshots."""
    con = duckdb.connect()
    con.register("routes", routes)
    out = con.execute(
        """SELECT network::VARCHAR AS network, count(DISTINCT (src, dst)) AS pairs, count(DISTINCT t_s) AS snapshots,
                  quantile_cont(rtt_ms, 0.5) AS rtt_median_ms, quantile_cont(rtt_ms, 0.95) AS rtt_p95_ms,
                  avg(reachable::INT) AS reachable_share, quantile_cont(stretch, 0.5) AS stretch_median,
                  count(*) FILTER (WHERE path_changed) AS path_changes
           FROM routes GROUP BY network ORDER BY network"""
    ).fetch_arrow_table()
    con.close()
    return out
