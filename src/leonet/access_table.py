"""The access table: one row per network, snapshot and terminal (:mod:`leonet.access` at every snapshot).

Columns (:data:`ACCESS_SCHEMA`): ``network``, ``t_s``, ``terminal``, ``serving_sat`` (node id, null: none),
``gateway``, ``pop`` (names, null: not served), ``one_way_ms`` (terminal -> PoP, null: not served), ``isl_hops``
and the components ``up_km``, ``isl_km``, ``down_km``, ``fibre_km``, ``propagation_ms``, ``processing_ms``,
``mac_ms``.  ``rtt_ms`` (= 2 x ``one_way_ms``) is derived: added by :func:`with_rtt` and the DuckDB view
(:func:`view_sql`), not stored.  Rows are in (network, snapshot, terminal) order.

:func:`access_rows` computes snapshots ``k0:k1`` of one network from a policy carry (the same decisions, links
and positions as the routes of :mod:`leonet.chunk`), so any split of the window into chunks gives the same rows
(``tests/test_access_run.py``); :func:`access_of_world` is the whole window, chunk by chunk.  A run computes
the same rows inside :func:`leonet.chunk.simulate_chunk` (:func:`snapshot_paths` on the snapshot's own links),
so they are written as parts beside the routes, by whichever process computes the part.  No I/O.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
from numpy.typing import NDArray

from leonet.access import AccessGround, AccessParams, AccessPaths, AccessSetup, access_paths, highest_of_links
from leonet.assembly import Network, World
from leonet.ground import GroundState
from leonet.policy import PolicyCarry
from leonet.slot_access import HeldServing, serving_at, slot_start, uses_scheduler
from leonet.step import allowed_mask, decide, min_elevations, policy_carry_at, positions_at
from leonet.topology import GroundLinks, ground_links, isl_lengths_km

#: snapshots computed together (one SGP4 call), as :data:`leonet.chunk.CHUNK`
CHUNK = 64

_NAME = pa.dictionary(pa.int32(), pa.string())
ACCESS_SCHEMA = pa.schema(
    [
        ("network", _NAME),
        ("t_s", pa.float64()),
        ("terminal", _NAME),
        ("serving_sat", pa.int32()),
        ("gateway", _NAME),
        ("pop", _NAME),
        ("one_way_ms", pa.float64()),
        ("isl_hops", pa.int32()),
        ("up_km", pa.float64()),
        ("isl_km", pa.float64()),
        ("down_km", pa.float64()),
        ("fibre_km", pa.float64()),
        ("propagation_ms", pa.float64()),
        ("processing_ms", pa.float64()),
        ("mac_ms", pa.float64()),
    ]
)
#: how the parts are written (as the routes: zstd)
PARQUET_OPTIONS: dict[str, object] = {"compression": "zstd"}
_FLOATS = ("one_way_ms", "up_km", "isl_km", "down_km", "fibre_km", "propagation_ms", "processing_ms", "mac_ms")


def network_params(setup: AccessSetup, net: Network) -> AccessParams:
    """The access rules with the network's propagation speeds."""
    p = setup.params
    return AccessParams(
        p.mode,
        p.gateway_min_elevation_deg,
        p.fibre_route_factor,
        p.fibre_refractive_index,
        p.sat_processing_ms,
        p.mac_scheduling_ms,
        net.spec.isl_speed_fraction,
        net.spec.ground_link_speed_fraction,
    )


def _dict(idx: NDArray[np.int32], names: tuple[str, ...] | list[str]) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(idx, type=pa.int32(), mask=idx < 0), pa.array(list(names)))


def batch_of(world: World, net: Network, times: NDArray[np.float64], paths: list[AccessPaths]) -> pa.RecordBatch:
    """The rows of ``paths`` (one :class:`~leonet.access.AccessPaths` per snapshot of ``times``)."""
    setup = world.access
    assert setup is not None
    N = len(setup.terminals)
    T = len(paths)
    g = setup.ground
    cat = {f: np.concatenate([getattr(p, f) for p in paths]) if paths else np.empty(0) for f in _FLOATS}
    sat = np.concatenate([p.serving_sat for p in paths]) if paths else np.empty(0, np.int32)
    gw = np.concatenate([p.gateway for p in paths]) if paths else np.empty(0, np.int32)
    pop = np.concatenate([p.pop for p in paths]) if paths else np.empty(0, np.int32)
    hops = np.concatenate([p.isl_hops for p in paths]) if paths else np.empty(0, np.int32)
    names = [world.ground.names[i] for i in setup.terminals]
    arrays: dict[str, pa.Array] = {
        "network": _dict(np.zeros(T * N, np.int32), [net.spec.name]),
        "t_s": pa.array(np.repeat(times[:T], N)),
        "terminal": _dict(np.tile(np.arange(N, dtype=np.int32), T), names),
        "serving_sat": pa.array(sat, type=pa.int32(), mask=sat < 0),
        "gateway": _dict(gw.astype(np.int32), g.gateways.names),
        "pop": _dict(pop.astype(np.int32), g.pops.names),
        "isl_hops": pa.array(hops, type=pa.int32(), mask=hops < 0),
    }
    for f in _FLOATS:
        arrays[f] = pa.array(cat[f], mask=~np.isfinite(cat[f]))
    return pa.RecordBatch.from_arrays([arrays[f.name] for f in ACCESS_SCHEMA], schema=ACCESS_SCHEMA)


def laser_links(
    net: Network, sat_r_km: NDArray[np.float64], failed: NDArray[np.bool_] | None = None
) -> tuple[NDArray[np.int32], NDArray[np.float64]]:
    """The laser links of one snapshot and their lengths, as :func:`leonet.step.snapshot` keeps them (both ends
    with a position, at most ``max_isl_km``, not ``failed``: per link of ``net.isl``, a fault)."""
    isl_km = isl_lengths_km(sat_r_km, net.isl)
    keep = np.isfinite(isl_km)
    if failed is not None:
        keep &= ~failed
    if net.spec.max_isl_km is not None:
        keep &= isl_km <= net.spec.max_isl_km
    return net.isl[keep], isl_km[keep]


def without_sites(ground: AccessGround, down: frozenset[str]) -> AccessGround:
    """``ground`` with the gateways and PoPs named in ``down`` out of service: no fibre (infinite length, which
    :func:`leonet.access.access_paths` leaves out of its graph) from a gateway that is down or to a PoP that is
    down, so no path goes through them (a served terminal's PoP is up, so the PoP-to-PoP fibre stays)."""
    gw_off = np.array([n in down for n in ground.gateways.names], dtype=bool)
    pop_off = np.array([n in down for n in ground.pops.names], dtype=bool)
    if not (gw_off.any() or pop_off.any()):
        return ground
    return replace(ground, gw_pop_km=np.where(gw_off[:, None] | pop_off[None, :], np.inf, ground.gw_pop_km))


def snapshot_paths(
    world: World,
    net: Network,
    sat_r_km: NDArray[np.float64],
    ground_r_km: NDArray[np.float64],
    ground_up: NDArray[np.float64],
    isl: NDArray[np.int32],
    isl_km: NDArray[np.float64],
    allowed: NDArray[np.bool_] | None,
    gsl: GroundLinks | None = None,
    serving_sat: NDArray[np.int32] | None = None,
    down: frozenset[str] = frozenset(),
) -> AccessPaths:
    """The access paths of every terminal at one snapshot (``ground_*``: every ground node; ``allowed``: per
    ground node, None: all may link).  ``gsl``: the snapshot's ground links (:func:`leonet.topology.ground_links`
    with the same positions, masks and ``allowed``), whose terminal links give the serving satellites without a
    second search; used only when the network's ground links follow the elevation mask (no
    ``max_ground_link_km``), where they are the very links :func:`leonet.access.highest_elevation_sats` finds.
    ``serving_sat`` (per terminal, ``world.access.terminals`` order; -1: none): an assignment to use instead of
    the highest satellite (the hook for a beam scheduler's choice).  ``down``: names of gateways and PoPs that a
    fault has taken down (:meth:`leonet.faults.FaultSchedule.names_down`): no path uses them; a terminal whose
    home PoP is down is not served (it is not re-homed)."""
    setup = world.access
    assert setup is not None
    term = setup.terminals
    r, up = ground_r_km[term], ground_up[term]
    serving = serving_sat
    if serving is None and gsl is not None and net.spec.max_ground_link_km is None:
        pos = np.full(world.ground.size, -1, dtype=np.int32)
        pos[term] = np.arange(len(term), dtype=np.int32)
        mine = pos[gsl.ground] >= 0
        serving, _ = highest_of_links(
            len(term), pos[gsl.ground[mine]], gsl.sat[mine], gsl.length_km[mine], sat_r_km, r, up
        )
    return access_paths(
        r,
        up,
        min_elevations(net, world.ground)[term],
        setup.home_pop,
        sat_r_km,
        isl,
        isl_km,
        setup.ground if not down else without_sites(setup.ground, down),
        network_params(setup, net),
        serving_sat=serving,
        allowed=None if allowed is None else allowed[term],
    )


def access_rows(
    world: World, net_index: int, k0: int, k1: int, carry: PolicyCarry | None
) -> tuple[pa.RecordBatch, PolicyCarry | None]:
    """The access rows of snapshots ``k0:k1`` of network ``net_index`` (a scenario without faults: the reference
    the run's rows are checked against; ValueError with faults), continuing the policy ``carry`` (the
    history before ``k0``: :func:`leonet.step.policy_carry_at`), and the carry after them.  With ``serving =
    "scheduler"`` the held assignment starts afresh at ``k0`` (:func:`access_chunk` warms up from the slot's
    start)."""
    b, c, _ = _rows(world, net_index, k0, k1, carry, None)
    return b, c


def _rows(
    world: World, net_index: int, k0: int, k1: int, carry: PolicyCarry | None, held: HeldServing | None
) -> tuple[pa.RecordBatch, PolicyCarry | None, HeldServing | None]:
    """:func:`access_rows`, continuing the scheduler's ``held`` assignment too (:mod:`leonet.slot_access`)."""
    setup = world.access
    if setup is None:
        raise ValueError("the scenario has no [access] section")
    if world.faults_of(net_index) is not None:  # rather than rows that silently differ from the run's
        raise ValueError("the reference access table does not apply [[faults]]; leonet.run's access table does")
    net = world.networks[net_index]
    times = world.times_s[k0:k1]
    sat_r = positions_at(net, world, times)
    gst = world.ground.at(times)
    decisions, out_carry = decide(world, times, carry)
    allowed_all = allowed_mask(world, net, decisions)
    sched = uses_scheduler(world)
    min_el = min_elevations(net, world.ground)
    paths = []
    for k in range(len(times)):
        isl, isl_km = laser_links(net, sat_r[k])
        allowed = None if allowed_all is None else allowed_all[k]
        serving = None
        if sched:
            gsl = ground_links(sat_r[k], gst.ecef_km[k], gst.up[k], min_el, net.spec.max_ground_link_km, allowed)
            here = (allowed, None, GroundState(*(a[k : k + 1] for a in gst)))
            serving, held = serving_at(world, net_index, float(times[k]), gsl, net.n_sats, held, here)
        paths.append(
            snapshot_paths(world, net, sat_r[k], gst.ecef_km[k], gst.up[k], isl, isl_km, allowed, None, serving)
        )
    return batch_of(world, net, times, paths), out_carry, held if sched else None


def access_of_world(world: World, size: int = CHUNK) -> pa.Table:
    """The access table of the whole window, every network, chunks of ``size`` snapshots carried on."""
    batches = []
    T = len(world.times_s)
    for i in range(len(world.networks)):
        carry: PolicyCarry | None = None
        held: HeldServing | None = None
        for k0 in range(0, T, size):
            b, carry, held = _rows(world, i, k0, min(T, k0 + size), carry, held)
            batches.append(b)
    return pa.Table.from_batches(batches, schema=ACCESS_SCHEMA).unify_dictionaries()


def access_chunk(world: World, net_index: int, k0: int, k1: int) -> pa.RecordBatch:
    """Snapshots ``k0:k1`` on their own (the policy history rebuilt; with the scheduler, from the first snapshot
    of ``k0``'s slot): the rows :func:`access_of_world` has."""
    ks = slot_start(world, k0) if uses_scheduler(world) and k0 < len(world.times_s) else k0
    b = _rows(world, net_index, ks, k1, policy_carry_at(world, ks), None)[0]
    assert world.access is not None
    return b.slice((k0 - ks) * len(world.access.terminals))


def with_rtt(table: pa.Table) -> pa.Table:
    """The table with ``rtt_ms`` = 2 x ``one_way_ms`` after ``one_way_ms``."""
    at = table.schema.get_field_index("one_way_ms")
    return table.add_column(at + 1, "rtt_ms", pc.multiply(table.column("one_way_ms"), 2.0))


def view_sql(source: str) -> str:
    """DuckDB SELECT of the stored access table with ``rtt_ms`` put back after ``one_way_ms``."""
    cols = [f.name for f in ACCESS_SCHEMA]
    at = cols.index("one_way_ms")
    sel = [*cols[: at + 1], "2.0 * one_way_ms AS rtt_ms", *cols[at + 1 :]]
    return f"SELECT {', '.join(sel)} FROM {source}"


def pop_fibre_table(setup: AccessSetup) -> pa.Table:
    """Fibre between every two PoPs: ``pop_a``, ``pop_b``, ``fibre_km`` (route length) and ``fibre_ms``."""
    P = setup.ground.pops.size
    names = np.array(setup.ground.pops.names, dtype=object)
    km = setup.ground.pop_pop_km.reshape(-1)
    return pa.table(
        {
            "pop_a": pa.array(np.repeat(names, P).tolist(), type=pa.string()),
            "pop_b": pa.array(np.tile(names, P).tolist(), type=pa.string()),
            "fibre_km": pa.array(km),
            "fibre_ms": pa.array(setup.params.fibre_ms(km)),
        }
    )


#: the ``access_pairs`` view of ``results.duckdb``: every routed pair of two terminals at every snapshot, via
#: their PoPs (a -> PoP_a, PoP_a -> PoP_b over fibre, PoP_b -> b; null unless both are served)
PAIRS_VIEW_SQL = """
SELECT a.network, a.t_s, p.src_name AS a, p.dst_name AS b, a.pop AS pop_a, b.pop AS pop_b,
       2.0 * (a.one_way_ms + f.fibre_ms + b.one_way_ms) AS rtt_ms
FROM (SELECT DISTINCT network, src_name, dst_name FROM summary) p
JOIN access a ON a.network = p.network AND a.terminal = p.src_name
JOIN access b ON b.network = p.network AND b.terminal = p.dst_name AND b.t_s = a.t_s
LEFT JOIN pop_fibre f ON f.pop_a = a.pop AND f.pop_b = b.pop
"""


def summary(source: pa.Table | ds.Dataset, networks: list[str] | None = None) -> pa.Table:
    """Per network (in the order of ``networks`` when given, the others after them by name): terminal-snapshots
    (``rows``), share served, median and p95 terminal -> PoP RTT (ms; linear interpolation, as
    ``numpy.percentile``) and median ISL hops of the served.  One DuckDB pass over the stored table or dataset:
    the RTTs, not the rows, are held in memory."""
    import duckdb

    con = duckdb.connect()
    try:
        con.register("acc", source)
        got = con.execute(
            "SELECT network::VARCHAR AS network, count(*) AS rows, avg((one_way_ms IS NOT NULL)::DOUBLE),"
            " quantile_cont(2.0 * one_way_ms, 0.5), quantile_cont(2.0 * one_way_ms, 0.95),"
            " quantile_cont(isl_hops::DOUBLE, 0.5) FROM acc GROUP BY 1"
        ).fetchall()
    finally:
        con.close()
    order = {n: i for i, n in enumerate(networks or [])}
    got.sort(key=lambda r: (order.get(r[0], len(order)), r[0]))
    cols: list[tuple[object, ...]] = list(zip(*got, strict=True)) if got else [() for _ in range(6)]
    return pa.table(
        [
            pa.array(list(c), type=ty)
            for c, ty in zip(cols, [pa.string(), pa.int64()] + [pa.float64()] * 4, strict=True)
        ],
        names=["network", "rows", "served_share", "rtt_median_ms", "rtt_p95_ms", "isl_hops_median"],
    )


def pairs_via_pops(world: World, table: pa.Table, pairs: list[tuple[str, str]]) -> pa.Table:
    """RTT between terminals named in ``pairs`` via their PoPs at every snapshot and network of ``table``
    (:func:`leonet.access.pair_via_pops`: a -> PoP_a, PoP_a -> PoP_b over fibre, PoP_b -> b; null unless both
    are served)."""
    setup = world.access
    if setup is None:
        raise ValueError("the scenario has no [access] section")
    names = [world.ground.names[i] for i in setup.terminals]
    a = np.array([world.ground.index(x) for x, _ in pairs], dtype=np.int64)
    b = np.array([world.ground.index(y) for _, y in pairs], dtype=np.int64)
    pos = {int(g): j for j, g in enumerate(setup.terminals)}
    for g in np.r_[a, b]:
        if int(g) not in pos:
            raise KeyError(f"{world.ground.names[g]!r} is not a terminal")
    ia = np.array([pos[int(g)] for g in a], dtype=np.int64)
    ib = np.array([pos[int(g)] for g in b], dtype=np.int64)
    N, Pn = len(names), len(pairs)
    pop_names = list(setup.ground.pops.names)
    pop_index = {n: j for j, n in enumerate(pop_names)}
    cols: dict[str, list[NDArray[np.generic]]] = {"network": [], "t_s": [], "a": [], "b": [], "rtt_ms": []}
    nets = pc.cast(table.column("network"), pa.string()).to_numpy(zero_copy_only=False)
    for name in dict.fromkeys(nets.tolist()):
        mine = table.filter(pc.equal(pc.cast(table.column("network"), pa.string()), name))
        T = mine.num_rows // max(N, 1)
        ow = mine.column("one_way_ms").to_numpy(zero_copy_only=False).astype(np.float64).reshape(T, N)
        col = mine.column("pop").combine_chunks()
        known = np.array([pop_index.get(str(n), -1) for n in col.dictionary.to_pylist()] + [-1], dtype=np.int64)
        idx = col.indices.fill_null(len(known) - 1).to_numpy(zero_copy_only=False).astype(np.int64)
        pops = known[idx].reshape(T, N)
        pa_, pb = pops[:, ia], pops[:, ib]
        both = (pa_ >= 0) & (pb >= 0)
        fib = np.full((T, Pn), np.nan)
        p = setup.params
        fib[both] = p.fibre_ms(setup.ground.pop_pop_km[pa_[both], pb[both]])
        one_way = ow[:, ia] + fib + ow[:, ib]
        t = mine.column("t_s").to_numpy().reshape(T, N)[:, 0]
        cols["network"].append(np.full(T * Pn, name, dtype=object))
        cols["t_s"].append(np.repeat(t, Pn))
        cols["a"].append(np.tile(np.array([x for x, _ in pairs], dtype=object), T))
        cols["b"].append(np.tile(np.array([y for _, y in pairs], dtype=object), T))
        cols["rtt_ms"].append((2.0 * one_way).reshape(-1))
    flat = {k: np.concatenate(v) if v else np.empty(0) for k, v in cols.items()}
    rtt = flat["rtt_ms"].astype(np.float64)
    return pa.table(
        {
            "network": pa.array(flat["network"].tolist(), type=pa.string()),
            "t_s": pa.array(flat["t_s"].astype(np.float64)),
            "a": pa.array(flat["a"].tolist(), type=pa.string()),
            "b": pa.array(flat["b"].tolist(), type=pa.string()),
            "rtt_ms": pa.array(rtt, mask=~np.isfinite(rtt)),
        }
    )
