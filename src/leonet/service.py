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
JAMMED = -3  # status code ``JAMMED - f``: allowed, but inside the active jamming zone of fault ``f``
#: the ``status`` column's dictionary, in code order
STATUSES = ["served", "denied", "no-coverage", "jammed"]


def status_codes(
    coverage: NDArray[np.bool_],
    decisions: Decisions | None,
    under_policy: bool,
    jam_fault: NDArray[np.int32] | None = None,
) -> NDArray[np.int32]:
    """(T, N) status: ``-1`` served, ``-2`` no coverage, ``k >= 0`` denied by rule ``k`` of the decisions,
    ``-3 - f`` jammed by fault ``f`` (``jam_fault`` (T, N): the blocking fault, -1 none).  A rule's denial comes
    first (a denied terminal stays "denied by rule X" inside a jamming zone), then jamming, then coverage."""
    status = np.where(coverage, SERVED, NO_COVERAGE).astype(np.int32)
    if jam_fault is not None:
        status = np.where(jam_fault >= 0, JAMMED - jam_fault, status).astype(np.int32)
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
    fault_names: list[str] | None = None,
) -> pa.Table:
    """Maximal runs of equal status per terminal: ``start_s <= t < end_s`` (``end_s`` is the next change, or
    the last snapshot + ``step_s``)."""
    return intervals_of_runs(network, names, node_ids, times_s, step_s, Runs.of(status), rule_ids, reasons, fault_names)


def intervals_of_runs(
    network: str,
    names: list[str],
    node_ids: NDArray[np.int64],
    times_s: NDArray[np.float64],
    step_s: float,
    runs: Runs,
    rule_ids: list[str],
    reasons: list[str],
    fault_names: list[str] | None = None,
) -> pa.Table:
    """The service table of status runs (:class:`~leonet.runlength.Runs` of :func:`status_codes`, items are
    terminals, snapshots index ``times_s``); see :func:`intervals`.  A jammed run names its fault: rule id
    the fault's name (``fault_names``), reason ``jammed (fault NAME)``."""
    T = len(times_s)
    faults = list(fault_names or [])
    term, first, stop, code = runs.item, runs.first, runs.stop, runs.value
    end_t = np.append(times_s, times_s[-1] + step_s if T else 0.0)
    kind = np.where(code == SERVED, 0, np.where(code == NO_COVERAGE, 2, np.where(code <= JAMMED, 3, 1)))
    # codes -2 (no coverage) and -1 (served) index the two entries after the rules, -3 - f the faults after them
    R = len(rule_ids)
    code = np.where(
        code >= 0, code, np.where(code == NO_COVERAGE, R, np.where(code == SERVED, R + 1, R + 2 + JAMMED - code))
    )
    rid = np.array([*rule_ids, "no-coverage", "", *faults], dtype=object)
    why = np.array(
        [
            *reasons,
            "no satellite in view (none above the elevation mask or within range)",
            "",
            *[f"jammed (fault {f})" for f in faults],
        ],
        dtype=object,
    )
    return pa.table(
        {
            "network": pa.array([network] * len(term), pa.string()),
            "terminal": pa.array(np.array(names, dtype=object)[term] if len(term) else [], pa.string()),
            "node": pa.array(node_ids[term].astype(np.int32)),
            "start_s": pa.array(times_s[first] if len(first) else np.empty(0)),
            "end_s": pa.array(end_t[stop] if len(stop) else np.empty(0)),
            "status": pa.DictionaryArray.from_arrays(pa.array(kind.astype(np.int8)), STATUSES),
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
               arg_max(rule_id, s) FILTER (WHERE status = 'denied') AS main_denial_rule,
               coalesce(sum(s) FILTER (WHERE status = 'jammed'), 0) AS jammed_s
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
        SELECT t.network, count(*) AS terminals,
               sum(served_s) / sum(served_s + denied_s + no_coverage_s + jammed_s) AS served_share,
               sum(denied_s) AS denied_s, sum(no_coverage_s) AS no_coverage_s,
               (SELECT any_value(n.rtt_median_ms) FROM networks n WHERE n.network::VARCHAR = t.network)
                   AS rtt_median_ms,
               sum(jammed_s) AS jammed_s
        FROM terminals t GROUP BY t.network ORDER BY t.network
        """
    ).fetch_arrow_table()
    con.close()
    return out
