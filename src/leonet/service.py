"""Who is served: the policy's decisions combined with the network's coverage, per terminal over time.

A terminal is *served* at a snapshot when the policy allows it (or the network is not under the policy) and it
has at least one ground link; otherwise it is *denied* (by the first rule that denies it) or has *no coverage*.
Results are run-length encoded into service intervals, so that 100k terminals over a long window stay small.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.dataset
from numpy.typing import NDArray

from leonet.policy import Decisions
from leonet.runlength import Runs

NO_COVERAGE = -2  # status code of a terminal allowed but without any ground link
SERVED = -1


def status_codes(coverage: NDArray[np.bool_], decisions: Decisions | None, under_policy: bool) -> NDArray[np.int32]:
    """(T, N) status: ``-1`` served, ``-2`` no coverage, ``k >= 0`` denied by rule ``k`` of the decisions."""
    status = np.where(coverage, SERVED, NO_COVERAGE).astype(np.int32)
    if decisions is not None and under_policy:
        status = np.where(decisions.rule >= 0, decisions.rule, status)
    return status


def intervals(
    network: str,
    names: list[str],
    node_ids: NDArray[np.int64],
    times_s: NDArray[np.float64],
    step_s: float,
    status: NDArray[np.int32],
    rule_ids: list[str],
    reasons: list[str],
) -> pa.Table:
    """Maximal runs of equal status per terminal: ``start_s <= t < end_s`` (``end_s`` is the next change, or
    the last snapshot + ``step_s``)."""
    return intervals_of_runs(network, names, node_ids, times_s, step_s, Runs.of(status), rule_ids, reasons)


def intervals_of_runs(
    network: str,
    names: list[str],
    node_ids: NDArray[np.int64],
    times_s: NDArray[np.float64],
    step_s: float,
    runs: Runs,
    rule_ids: list[str],
    reasons: list[str],
) -> pa.Table:
    """The service table of status runs (:class:`~leonet.runlength.Runs` of :func:`status_codes`, items are
    terminals, snapshots index ``times_s``); see :func:`intervals`."""
    T = len(times_s)
    term, first, stop, code = runs.item, runs.first, runs.stop, runs.value
    end_t = np.append(times_s, times_s[-1] + step_s if T else 0.0)
    kind = np.where(code == SERVED, 0, np.where(code == NO_COVERAGE, 2, 1))
    # codes -2 (no coverage) and -1 (served) index the last two entries
    rid = np.array([*rule_ids, "no-coverage", ""], dtype=object)
    why = np.array([*reasons, "no satellite in view (none above the elevation mask or within range)", ""], dtype=object)
    return pa.table(
        {
            "network": pa.array([network] * len(term), pa.string()),
            "terminal": pa.array(np.array(names, dtype=object)[term] if len(term) else [], pa.string()),
            "node": pa.array(node_ids[term].astype(np.int32)),
            "start_s": pa.array(times_s[first] if len(first) else np.empty(0)),
            "end_s": pa.array(end_t[stop] if len(stop) else np.empty(0)),
            "status": pa.DictionaryArray.from_arrays(
                pa.array(kind.astype(np.int8)), ["served", "denied", "no-coverage"]
            ),
            "rule_id": pa.array(rid[code] if len(code) else [], pa.string()),
            "reason": pa.array(why[code] if len(code) else [], pa.string()),
        }
    )


def empty(times_s: NDArray[np.float64]) -> pa.Table:
    """The service table of a scenario without terminals."""
    return intervals("", [], np.empty(0, np.int64), times_s, 1.0, np.empty((len(times_s), 0), np.int32), [], [])


def terminal_summary(service: pa.Table) -> pa.Table:
    """Per network and terminal: seconds served, denied, without coverage, and the rule that denied longest."""
    import duckdb

    con = duckdb.connect()
    con.register("service", service)
    out = con.execute(
        """
        WITH d AS (
            SELECT network, terminal, status::VARCHAR AS status, rule_id, sum(end_s - start_s) AS s
            FROM service GROUP BY ALL)
        SELECT network, terminal,
               coalesce(sum(s) FILTER (WHERE status = 'served'), 0) AS served_s,
               coalesce(sum(s) FILTER (WHERE status = 'denied'), 0) AS denied_s,
               coalesce(sum(s) FILTER (WHERE status = 'no-coverage'), 0) AS no_coverage_s,
               coalesce(sum(s) FILTER (WHERE status = 'served'), 0) / sum(s) AS served_share,
               arg_max(rule_id, s) FILTER (WHERE status = 'denied') AS main_denial_rule
        FROM d GROUP BY network, terminal ORDER BY network, terminal
        """
    ).fetch_arrow_table()
    con.close()
    return out


def network_comparison(terminals: pa.Table, networks: pa.Table) -> pa.Table:
    """Networks side by side: share of terminal-time served, seconds denied and without coverage (summed over
    terminals), and the median RTT over every pair-snapshot (``rtt_median_ms`` of ``networks``, the table of
    :func:`leonet.metrics.network_summary`: exact, in bounded memory, so not computed again here)."""
    import duckdb

    con = duckdb.connect()
    con.register("terminals", terminals)
    con.register("networks", networks)
    out = con.execute(
        """
        SELECT t.network, count(*) AS terminals, sum(served_s) / sum(served_s + denied_s + no_coverage_s)
                   AS served_share,
               sum(denied_s) AS denied_s, sum(no_coverage_s) AS no_coverage_s,
               (SELECT any_value(n.rtt_median_ms) FROM networks n WHERE n.network::VARCHAR = t.network) AS rtt_median_ms
        FROM terminals t GROUP BY t.network ORDER BY t.network
        """
    ).fetch_arrow_table()
    con.close()
    return out
