"""A small AST mutation-testing runner for leonet's core (``make mutate``; not part of CI).

Why our own: mutmut 3 rewrites every function into a trampoline, which numba cannot compile, and the routing
kernel is numba.  This runner mutates the source text itself (one mutant at a time, in a copy of ``src/``), so
numba compiles the mutated kernel like any other; it runs each module's fast targeted test subset with ``-x``
in a forked child of a process that has already imported the heavy third-party libraries (numpy, scipy, numba,
pyarrow, duckdb, ...), so a mutant costs its tests, not the interpreter start.

Mutation operators (one change per mutant):
  compare   ``<`` <-> ``<=``, ``>`` <-> ``>=``, ``==`` <-> ``!=``, ``is`` <-> ``is not``, ``in`` <-> ``not in``
  binop     ``+`` <-> ``-``, ``*`` <-> ``/``, ``//`` -> ``/``, ``%`` -> ``//``, ``**`` -> ``*``, ``&`` <-> ``|``,
            ``^`` -> ``&``, ``<<`` <-> ``>>`` (also in augmented assignments)
  boolop    ``and`` <-> ``or``
  unary     drop ``not``, unary ``-`` and ``~``
  number    ``n`` -> ``n + 1`` (``0`` -> ``1``); ``True`` <-> ``False``
  sql       in SQL text (a string holding ``SELECT``): ``min`` <-> ``max``, a quantile's level, ``quantile_cont``
            -> ``quantile_disc``, a ``FILTER`` dropped, ``avg`` -> ``median``, a counter's condition (``_SQL``)
  name      ``min`` <-> ``max``, ``minimum`` <-> ``maximum``, ``any`` <-> ``all``, ``floor`` <-> ``ceil``
  delete    an assignment, augmented assignment, bare call, ``break`` or ``continue`` replaced by ``pass``
Not mutated: docstrings and other strings, ``raise`` statements (their messages), annotations, decorators,
lines marked ``# pragma: no mutate``.

Each mutant has a signature ``function | source line :: mutated node | operator`` that does not depend on line
numbers; ``tools/equivalent_mutants.txt`` lists the surviving mutants judged equivalent (with the reason), and
the report counts them separately.  Results: a table per module on stdout, survivors with line numbers, and
``.mutate/<module>.jsonl`` (one line per mutant).

    python tools/mutate.py                      # every configured module
    python tools/mutate.py router routing       # some of them (names as in MODULES)
    python tools/mutate.py router --list        # the mutants, without running them
    python tools/mutate.py router --only 12,40  # some mutants by number
    python tools/mutate.py router --sample 3    # every third mutant (a deterministic sample)
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: module name -> (file under src/, the fast targeted tests that must catch its mutants).  Tests are run with
#: ``-x -q``; the cheapest and most specific come first so that a killed mutant costs little.
MODULES: dict[str, tuple[str, list[str]]] = {
    "dijkstra": (
        "leonet/_dijkstra.py",
        [
            "tests/test_dijkstra_early_exit.py",
            "tests/test_dijkstra.py",
            "tests/test_routesearch_edges.py",  # _sssp's leaf edges (split) are reached by route_pairs only
            "tests/test_routesearch.py",
        ],
    ),
    "pathread": (
        "leonet/_pathread.py",
        ["tests/test_routing_units.py", "tests/test_routing.py", "-k", "networkx or shortest or transit or read_paths"],
    ),
    "routing": (
        "leonet/routing.py",
        [
            "tests/test_routing_units.py",
            "tests/test_routing.py",
            "tests/test_repaired_paths.py",
            "-k",
            "not direct_against_networkx",
        ],
    ),
    "topology": (
        "leonet/topology.py",
        ["tests/test_plus_grid_small.py", "tests/test_ground_links_bruteforce.py", "tests/test_topology.py"],
    ),
    # the engine's parts (issue 7): each with the tests that exercise it, cheapest and most specific first
    "router": (
        "leonet/router.py",
        [
            "tests/test_engine_units.py::test_end_satellites",
            "tests/test_engine_units.py::test_kept_path_delays",
            "tests/test_engine_units.py::test_a_path_through_satellite_zero",
            "tests/test_repaired_paths.py::test_repaired_path_is_kept_at_the_next_snapshots",
            "tests/test_repaired_paths.py::test_kept_path_follows_current_delays_and_breaks_again",
            "tests/test_repaired_paths.py::test_ideal_mode_reroutes_every_snapshot",
            "tests/test_routing.py::test_reconfiguration_keeps_paths_inside_a_slot",
            "tests/test_routing.py::test_handover_counters_match_paths",
            "tests/test_chunks.py",
            "tests/test_chunk_shape.py::test_chained_and_independent_chunks_equal_one_chunk",
            "tests/test_routing.py::test_ideal_never_worse_than_reconfig",
            "tests/test_repaired_paths.py::test_reroutes_inside_a_slot_happen_exactly_when_a_hop_is_lost",
        ],
    ),
    "keptpath": (
        "leonet/_keptpath.py",
        [
            "tests/test_keptpath.py",
            "tests/test_engine_units.py::test_kept_path_delays",
            "tests/test_repaired_paths.py",
        ],
    ),
    "runlength": (
        "leonet/runlength.py",
        ["tests/test_runlength.py", "tests/test_chunk_shape.py", "tests/test_chunks.py", "tests/test_engine.py"],
    ),
    **{
        name: (
            f"leonet/{name}.py",
            [
                "tests/test_step_faults.py",  # mutp4 (2026-12-04): the fault masks and a faulted snapshot,
                "tests/test_chunk_access.py",  # and chunks with [access] and faults against one chunk
                "tests/test_engine.py",
                "tests/test_chunks.py",
                "tests/test_chunk_shape.py",
                "tests/test_engine_units.py",
                "tests/test_speed_fractions.py",
                "tests/test_topology.py::test_snapshot_drops_isls_longer_than_max",
                "tests/test_topology.py::test_an_isl_exactly_at_max_isl_km_is_kept",
                "tests/test_routing.py::test_rtt_is_twice_one_way_and_columns_agree",
                "tests/test_routing.py::test_snapshot_with_no_reachable_pair",
                "tests/test_routing.py::test_no_rtt_below_great_circle_bound",
                "tests/test_routing.py::test_routes_table_types",
                "tests/test_scenario_validation.py::test_impossible_satellites_take_part_in_no_link_and_are_counted",
                "tests/test_step_units.py",
                "tests/test_repaired_paths.py",
            ],
        )
        for name in ("step", "chunk")
    },
    "runner": (
        "leonet/runner.py",
        [
            "tests/test_runner.py",
            "tests/test_scenario_validation.py::test_impossible_satellites_take_part_in_no_link_and_are_counted",
            "tests/test_chunk_shape.py::test_chained_and_independent_chunks_equal_one_chunk",
        ],
    ),
    "pool": ("leonet/pool.py", ["tests/test_pool.py"]),
    # terminal tracks (moving terminals, mobility limits): 2026-12-03, session 21
    "tracks": (
        "leonet/tracks.py",
        ["tests/test_tracks_boundaries.py", "tests/test_tracks.py", "tests/test_fuzz_geo_parsers.py", "-k", "track"],
    ),
    "track_kernels": ("leonet/_track_kernels.py", ["tests/test_tracks.py", "tests/test_tracks_boundaries.py"]),
    # the fused route search and path read-back that runs use (issue 7), and the faults (issue 10)
    "routesearch": (
        "leonet/_routesearch.py",
        [
            "tests/test_routesearch.py",
            "tests/test_routesearch_edges.py",
            "tests/test_dijkstra_early_exit.py",
            "tests/test_routing.py",
        ],
    ),
    "faults": (
        "leonet/faults.py",
        ["tests/test_faults_schedule.py", "tests/test_faults.py", "tests/test_faults_access.py"],
    ),
    # issue 9: the max-min fair allocation (its vectorised rounds and the compiled fill that finishes them)
    "flows": ("leonet/flows.py", ["tests/test_flows_contract.py", "tests/test_flows.py"]),
    "maxmin": ("leonet/_maxmin_kernel.py", ["tests/test_maxmin_kernel.py", "tests/test_flows.py"]),
    "quantiles": (
        "leonet/quantiles.py",
        ["tests/test_quantiles_budgets.py", "tests/test_summaries_long.py", "-k", "not memory_does_not_grow"],
    ),
    "loghist": (
        "leonet/quantiles.py",
        [
            "tests/test_loghistogram.py",
            "tests/test_summaries_long.py::test_log_histogram_ranges_and_skips",
            "tests/test_summaries_long.py::test_network_quantiles_of_a_column_without_nulls",
            "tests/test_summaries_long.py::test_network_quantiles_approx_within_the_stated_bound",
        ],
    ),
    "routes_table": (
        "leonet/routes_table.py",
        [
            "tests/test_routes_table.py",
            "tests/test_engine_units.py::test_routes_schema_is_the_documented_one",
            "tests/test_routing.py::test_routes_table_types",
            "tests/test_routing.py::test_rtt_is_twice_one_way_and_columns_agree",
            "tests/test_routing.py::test_snapshot_with_no_reachable_pair",
            "tests/test_summaries.py",
            "tests/test_output_size.py",
            "tests/test_chunks.py",
        ],
    ),
    "fstate": (
        "leonet/hypatia/fstate.py",
        [
            "tests/test_fstate_units.py",
            "tests/test_hypatia_files.py",
            "tests/test_hypatia_oracle.py",
            "tests/test_hypatia_roundtrip.py",
        ],
    ),
    "metrics": (
        "leonet/metrics.py",
        [
            "tests/test_summaries.py",
            "tests/test_metrics_inputs.py",
            "tests/test_summaries_long.py",
            "-k",
            "not memory_does_not_grow",
        ],
    ),
    "tle": ("leonet/orbits/tle.py", ["tests/test_tle_fields.py", "tests/test_omm_fields.py", "tests/test_tle.py"]),
    "decide": (
        "leonet/policy/decide.py",
        [
            "tests/test_policy_decide_net.py",
            "tests/test_policy_decide.py",
            "tests/test_policy_boundaries.py",
            "tests/test_policy_roaming_and_reasons.py",
        ],
    ),
    "scheduler": ("leonet/scheduler.py", ["tests/test_scheduler_rules.py", "tests/test_scheduler.py"]),
    "beams": ("leonet/beams.py", ["tests/test_beams.py"]),
    "cells": ("leonet/cells.py", ["tests/test_cells.py"]),
    # mutacc (2026-12-03)
    "capacity": ("leonet/capacity.py", ["tests/test_capacity_jamming.py", "tests/test_capacity.py"]),
    "slot_access": ("leonet/slot_access.py", ["tests/test_access_slots.py"]),
    # mutgeo (2026-12-03): the geometry core
    "geodesy": (
        "leonet/geodesy.py",
        ["tests/test_geodesy_refs.py", "tests/test_geometry.py", "tests/test_ground_ellipsoid.py"],
    ),
    "ground": (
        "leonet/ground.py",
        [
            "tests/test_ground_nodes.py",
            "tests/test_ground_ellipsoid.py",
            "tests/test_engine_units.py",
            "tests/test_chunks.py::test_chunks_with_a_moving_terminal_and_a_geofence",
        ],
    ),
    "propagate": (
        "leonet/orbits/propagate.py",
        [
            "tests/test_propagate_refs.py",
            "tests/test_orbits.py",
            "tests/test_scenario_validation.py::test_impossible_satellites_take_part_in_no_link_and_are_counted",
        ],
    ),
    "shells": (
        "leonet/orbits/shells.py",
        ["tests/test_walker_refs.py", "tests/test_orbits.py", "tests/test_planes.py", "-k", "not real_tle_scenario"],
    ),
    "planes": (
        "leonet/orbits/planes.py",
        [
            "tests/test_planes_refs.py",
            "tests/test_planes.py",
            "tests/test_constellations_mixed.py::test_isls_stay_within_each_source_and_shell",
            "-k",
            "not real_tle_scenario",
        ],
    ),
    "constellation": (
        "leonet/orbits/constellation.py",
        [
            "tests/test_walker_refs.py",
            "tests/test_orbits.py",
            "tests/test_plus_grid_small.py",
            "tests/test_planes.py::test_walker_presets_give_their_plus_grid",
        ],
    ),
    # mutpol (2026-12-03): the service-control plane's geometry and compilation core
    "geometry": (
        "leonet/policy/geometry.py",
        ["tests/test_policy_geometry_units.py", "tests/test_policy_models.py", "tests/test_fuzz_geo_parsers.py"],
    ),
    "compiled": (
        "leonet/policy/compiled.py",
        [
            "tests/test_policy_compiled_units.py",
            "tests/test_policy_models.py",
            "tests/test_policy_decide.py",
            "tests/test_policy_regions.py",
        ],
    ),
    "coverage": (
        "leonet/policy/coverage.py",
        ["tests/test_policy_coverage_units.py", "tests/test_policy_coverage.py"],
    ),
    "grid": (
        "leonet/policy/_grid.py",
        [
            "tests/test_policy_grid_units.py",
            "tests/test_policy_borders.py::test_grid_index_first_match_on_overlapping_polygons",
            "tests/test_policy_decide.py",
        ],
    ),
    "borders": ("leonet/policy/borders.py", ["tests/test_policy_borders_units.py", "tests/test_policy_borders.py"]),
    "models": ("leonet/policy/models.py", ["tests/test_policy_models_units.py", "tests/test_policy_models.py"]),
    # session 22 (2026-12-04): who is served, as intervals, and their summaries
    "service": ("leonet/service.py", ["tests/test_service_units.py"]),
    # mutasm (2026-12-04): the scenario's assembly, the Python API's Results and the output directory read back
    "assembly": (
        "leonet/assembly.py",
        [
            "tests/test_assembly_units.py",
            "tests/test_engine_units.py",
            "tests/test_scenario_validation.py",
            "tests/test_ground_ellipsoid.py",
            "tests/test_access_run.py",
            "tests/test_faults.py",
            "-k",
            "not cli_ and not as_typed and not pool and not two_workers and not front_jamming and not resource "
            "and not server",
        ],
    ),
    "results": (
        "leonet/results.py",
        [
            "tests/test_results_api.py",
            "tests/test_speed_fractions.py",
            "tests/test_output_size.py",
            "tests/test_scenario_validation.py::test_impossible_satellites_take_part_in_no_link_and_are_counted",
            "tests/test_pool.py::test_python_api_in_a_daemonic_process_stays_serial",
        ],
    ),
    "readback": (
        "leonet/readback.py",
        ["tests/test_readback.py", "tests/test_access_run.py::test_results_store_view_and_readback"],
    ),
    # mutaccess (2026-12-04): the access layer (terminals -> satellites -> gateways -> PoPs), its table, the budgets
    "access": (
        "leonet/access.py",
        ["tests/test_access_units.py", "tests/test_access.py", "tests/test_faults_access.py"],
    ),
    "access_table": (
        "leonet/access_table.py",
        [
            "tests/test_access_table_units.py",
            "tests/test_faults_access.py",
            "tests/test_access_run.py",
            "tests/test_access_slots.py",
            "-k",
            "not us_europe_as_typed and not two_workers",
        ],
    ),
    "budget": (
        "leonet/budget.py",
        [
            "tests/test_budget_units.py",
            "tests/test_scenario_validation.py::test_output_budget_refuses_with_the_numbers",
            "tests/test_access_run.py::test_budget_counts_access_rows",
        ],
    ),
}

#: a module entry that covers part of its file only: the signature prefixes of its mutants (``function | ...``;
#: module-level lines as ``<module> | NAME``).  ``loghist`` is ``quantiles.py``'s LogHistogram, with the tests
#: of the report's approximate CDF (the ``quantiles`` entry's tests are those of ExactQuantiles).
SCOPE: dict[str, tuple[str, ...]] = {
    "loghist": ("LogHistogram.", "_log_feed |", "<module> | LOG_"),
}

#: third-party modules the parent imports once, so that forked children start warm
WARM = (
    "numpy",
    "scipy.sparse",
    "scipy.sparse.csgraph",
    "scipy.spatial",
    "numba",
    "pyarrow",
    "pyarrow.dataset",
    "pyarrow.parquet",
    "duckdb",
    "pyproj",
    "shapely",
    "pydantic",
    "sgp4.api",
    "networkx",
    "hypothesis",
    "pytest",
    "typer",
    "rich",
    "h3",
    "ortools.graph.python.min_cost_flow",
)

_CMP = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}
_BIN = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Mod: ast.FloorDiv,
    ast.Pow: ast.Mult,
    ast.BitAnd: ast.BitOr,
    ast.BitOr: ast.BitAnd,
    ast.BitXor: ast.BitAnd,
    ast.LShift: ast.RShift,
    ast.RShift: ast.LShift,
}
#: SQL text (string constants holding "SELECT"): each occurrence of the left side replaced by the right side
_SQL = (
    ("min(", "max("),
    ("max(", "min("),
    ("0.95", "0.9"),
    ("0.5)", "0.45)"),
    ("quantile_cont", "quantile_disc"),
    (" FILTER (WHERE reachable)", ""),
    ("count(rtt_ms)", "count(*)"),
    ("WHERE NOT reachable", "WHERE reachable"),
    ("avg(", "median("),
    ("2 * ", "1 * "),
    ("* 1000", "* 100"),
    ("count(DISTINCT t_s)", "count(t_s)"),
    ("DISTINCT (src, dst)", "DISTINCT src"),
    ("WHERE path_changed", "WHERE rerouted"),
    ("WHERE first_sat_changed", "WHERE last_sat_changed"),
    ("WHERE last_sat_changed", "WHERE first_sat_changed"),
    ("ORDER BY network, src, dst", "ORDER BY network, dst, src"),
)
_NAMES = {
    "min": "max",
    "max": "min",
    "minimum": "maximum",
    "maximum": "minimum",
    "amin": "amax",
    "amax": "amin",
    "any": "all",
    "all": "any",
    "floor": "ceil",
    "ceil": "floor",
}


@dataclass
class Mutant:
    index: int
    lineno: int
    func: str
    op: str
    segment: str
    line: str = ""  # the source line the mutated node starts on, whitespace collapsed
    dup: int = 0  # how many mutants before this one have the same signature otherwise

    @property
    def signature(self) -> str:
        where = self.segment if self.segment == self.line else f"{self.line} :: {self.segment}"
        return f"{self.func} | {where} | {self.op}" + (f" #{self.dup}" if self.dup else "")


def _skip_ids(tree: ast.Module, lines: list[str]) -> set[int]:
    """ids of nodes never mutated: docstrings, raise statements, annotations, decorators, pragma lines."""
    skip: set[int] = set()

    def drop(node: ast.AST | None) -> None:
        if node is not None:
            skip.update(id(n) for n in ast.walk(node))

    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            c = body[0].value
            if isinstance(c, ast.Constant) and isinstance(c.value, str):
                drop(body[0])
        if isinstance(node, ast.Raise | ast.JoinedStr | ast.Assert):
            drop(node)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            drop(node.returns)
            for d in node.decorator_list:
                drop(d)
            for a in [*node.args.args, *node.args.kwonlyargs, *node.args.posonlyargs]:
                drop(a.annotation)
        if isinstance(node, ast.AnnAssign):
            drop(node.annotation)
        if isinstance(node, ast.ClassDef):
            for d in node.decorator_list:
                drop(d)
        ln = getattr(node, "lineno", None)
        if ln is not None and "pragma: no mutate" in lines[ln - 1]:
            drop(node)
    return skip


def _points(tree: ast.Module, source: str) -> Iterator[tuple[ast.AST, str, str, object, ast.AST, str, int]]:
    """(node, function, operator, payload, parent, field, index in the field's list or -1) for every mutation
    point, in a deterministic order (pre-order)."""
    skip = _skip_ids(tree, source.splitlines())

    def visit(node: ast.AST, func: str) -> Iterator[tuple[ast.AST, str, str, object, ast.AST, str, int]]:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            func = f"{func}.{node.name}" if func != "<module>" else node.name
        for field, value in ast.iter_fields(node):
            children = value if isinstance(value, list) else [value]
            for i, child in enumerate(children):
                if not isinstance(child, ast.AST):
                    continue
                if id(child) not in skip:
                    for op, payload in _node_points(child):
                        yield child, func, op, payload, node, field, (i if isinstance(value, list) else -1)
                yield from visit(child, func)

    yield from visit(tree, "<module>")


def _node_points(node: ast.AST) -> Iterator[tuple[str, object]]:
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            new = _CMP.get(type(op))
            if new is not None:
                yield f"{type(op).__name__}->{new.__name__}" + (f"#{i}" if len(node.ops) > 1 else ""), (i, new)
    elif isinstance(node, ast.BinOp | ast.AugAssign):
        new = _BIN.get(type(node.op))
        if new is not None:
            yield f"{type(node.op).__name__}->{new.__name__}", new
    elif isinstance(node, ast.BoolOp):
        new = ast.Or if isinstance(node.op, ast.And) else ast.And
        yield f"{type(node.op).__name__}->{new.__name__}", new
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not | ast.USub | ast.Invert):
        yield f"drop {type(node.op).__name__}", None
    elif isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, str) and "SELECT" in v:
            for a, b in _SQL:
                for k in range(v.count(a)):
                    yield f"sql {a.strip()!r}->{b.strip()!r}#{k}", (a, b, k)
        elif isinstance(v, bool):
            yield f"{v}->{not v}", not v
        elif isinstance(v, int | float):
            yield f"{v!r}->{v + 1!r}", v + 1
    elif isinstance(node, ast.Name) and node.id in _NAMES and isinstance(node.ctx, ast.Load):
        yield f"{node.id}->{_NAMES[node.id]}", _NAMES[node.id]
    elif isinstance(node, ast.Attribute) and node.attr in _NAMES and isinstance(node.ctx, ast.Load):
        yield f".{node.attr}->.{_NAMES[node.attr]}", _NAMES[node.attr]
    if (
        isinstance(node, ast.Assign | ast.AugAssign | ast.Break | ast.Continue)
        or (isinstance(node, ast.AnnAssign) and node.value is not None)
        or (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call))
    ):
        yield "delete", None


def _mutate(node: ast.AST, op: str, payload: object) -> ast.AST:
    if op == "delete":
        return ast.copy_location(ast.Pass(), node)
    node = copy.copy(node)
    if isinstance(node, ast.Compare):
        i, new = payload  # type: ignore[misc]
        ops = list(node.ops)
        ops[i] = new()
        node.ops = ops
    elif isinstance(node, ast.BinOp | ast.AugAssign | ast.BoolOp):
        node.op = payload()  # type: ignore[operator]
    elif isinstance(node, ast.UnaryOp):
        return node.operand
    elif isinstance(node, ast.Constant) and isinstance(node.value, str):
        a, b, k = payload  # type: ignore[misc]
        parts = node.value.split(a)
        node.value = a.join(parts[: k + 1]) + b + a.join(parts[k + 1 :])
    elif isinstance(node, ast.Constant):
        node.value = payload
    elif isinstance(node, ast.Name):
        node.id = payload  # type: ignore[assignment]
    elif isinstance(node, ast.Attribute):
        node.attr = payload  # type: ignore[assignment]
    return node


def mutants(source: str) -> list[Mutant]:
    tree = ast.parse(source)
    lines = source.splitlines()
    seen: dict[str, int] = {}
    out = []
    for i, (node, func, op, payload, *_rest) in enumerate(_points(tree, source)):
        seg = ast.get_source_segment(source, node) or ""
        if op.startswith("sql"):  # the SQL line holding the occurrence, not the whole query
            a, _b, k = payload  # type: ignore[misc]
            at = -1
            for _ in range(k + 1):
                at = seg.index(a, at + 1)
            seg = seg[seg.rfind("\n", 0, at) + 1 : (seg.find("\n", at) + 1 or len(seg) + 1) - 1]
        seg = " ".join(seg.split())
        if len(seg) > 90:
            seg = seg[:87] + "..."
        lineno = getattr(node, "lineno", 0)
        line = " ".join(lines[lineno - 1].split()) if lineno else ""
        if len(line) > 110:
            line = line[:107] + "..."
        m = Mutant(i, lineno, func, op, seg, line)
        base = m.signature  # without the counter: a third identical mutant is #2, not a second #1
        m.dup = seen.get(base, 0)
        seen[base] = m.dup + 1
        out.append(m)
    return out


def module_mutants(name: str, source: str) -> list[Mutant]:
    """The mutants of module entry ``name`` (all of its file's, or those in its :data:`SCOPE`)."""
    scope = SCOPE.get(name)
    return [m for m in mutants(source) if scope is None or m.signature.startswith(scope)]


def mutated_source(source: str, index: int) -> str:
    tree = ast.parse(source)
    for i, (node, _func, op, payload, parent, field, idx) in enumerate(_points(tree, source)):
        if i == index:
            new = _mutate(node, op, payload)
            if idx >= 0:
                getattr(parent, field)[idx] = new
            else:
                setattr(parent, field, new)
            break
    else:
        raise IndexError(index)
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


def load_equivalent() -> dict[str, dict[str, str]]:
    """``tools/equivalent_mutants.txt``: ``module :: signature :: reason`` per line."""
    out: dict[str, dict[str, str]] = {}
    p = ROOT / "tools" / "equivalent_mutants.txt"
    if p.exists():
        for line in p.read_text().splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            mod, rest = line.split(" :: ", 1)
            sig, reason = rest.rsplit(" :: ", 1)  # (a signature may hold " :: " itself; a reason may not)
            mod, sig = mod.strip(), sig.strip()
            out.setdefault(mod, {})[sig] = reason
    return out


def _run_child(tmp_src: Path, tests: list[str], log: Path) -> int:
    """In a forked child: import leonet from the mutated copy and run the tests; never returns."""
    try:
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        sys.path.insert(0, str(tmp_src))
        # the tests' own subprocesses (``python -m leonet.cli run ...``) must import the mutated copy too, not the
        # caller's PYTHONPATH or the editable install's src/
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(tmp_src), os.environ.get("PYTHONPATH", "")) if p)
        os.chdir(ROOT)
        import leonet

        if not Path(leonet.__file__).resolve().is_relative_to(tmp_src.resolve()):
            raise RuntimeError(f"leonet imported from {leonet.__file__}, not from the mutated copy {tmp_src}")
        import pytest

        code = pytest.main(
            ["-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", "--no-header", "-W", "ignore", *tests]
        )
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(int(code))
    except BaseException:
        import traceback

        traceback.print_exc()
        os._exit(99)


def run_tests(tmp_src: Path, tests: list[str], timeout_s: float, log: Path) -> tuple[str, float]:
    """'passed', 'failed', 'timeout' (or 'error' when pytest could not run), and the wall time."""
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        _run_child(tmp_src, tests, log)
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.perf_counter() - t0 > timeout_s:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return "timeout", time.perf_counter() - t0
        time.sleep(0.02)
    code = os.waitstatus_to_exitcode(status)
    dt = time.perf_counter() - t0
    if code == 0:
        return "passed", dt
    if code in (1, 3) or code < 0:  # tests failed, internal error (a crash in collection), or killed by a signal
        return "failed", dt
    return ("failed" if code == 2 else "error"), dt  # 2: interrupted (e.g. collection error: killed too)


def _recorded(path: Path) -> set[str]:
    """Signatures with a recorded result in ``path`` (empty if there is none)."""
    if not path.exists():
        return set()
    return {str(json.loads(line)["signature"]) for line in path.read_text().splitlines()}


def _merge_records(path: Path, records: list[dict[str, object]], signatures: list[str]) -> None:
    """Update ``.mutate/MODULE.jsonl`` with the mutants just run.  Earlier results are kept for every mutant
    whose signature is still in the source, matched by signature (an edit elsewhere in the module shifts the
    mutant numbers, not the signatures), and renumbered."""
    index = {sig: i for i, sig in enumerate(signatures)}
    old: dict[int, dict[str, object]] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            r = json.loads(line)
            i = index.get(str(r["signature"]))
            if i is not None:
                old[i] = {**r, "index": i}
    for r in records:
        old[int(r["index"])] = r  # type: ignore[call-overload]
    path.write_text("".join(json.dumps(old[i]) + "\n" for i in sorted(old)))


def report(names: list[str]) -> int:
    """Markdown: a table of the recorded results per module (equivalent mutants counted apart), then every
    survivor with its reason (or "NOT EXPLAINED")."""
    equivalent = load_equivalent()
    rows, lines = [], []
    for n in names:
        path = ROOT / ".mutate" / f"{n}.jsonl"
        if not path.exists():
            continue
        src = (ROOT / "src" / MODULES[n][0]).read_text()
        total = len(module_mutants(n, src))
        recs = [json.loads(x) for x in path.read_text().splitlines()]
        c = {"killed": 0, "timeout": 0, "equivalent": 0, "survived": 0}
        for r in recs:
            kind = r["result"]
            if kind in ("survived", "equivalent"):
                kind = "equivalent" if r["signature"] in equivalent.get(n, {}) else "survived"
                reason = equivalent.get(n, {}).get(r["signature"], "NOT EXPLAINED")
                lines.append(f"- `{n}` line {r['line']}: `{r['signature']}`: {reason}")
            c[kind] += 1
        run = len(recs)
        score = (c["killed"] + c["timeout"]) / max(run - c["equivalent"], 1)
        label = f"`{MODULES[n][0]}`" + (f" (`{n}`: part)" if n in SCOPE else "")
        rows.append(
            f"| {label} | {total} | {run} | {c['killed']} | {c['timeout']} | {c['equivalent']} "
            f"| {c['survived']} | {score:.1%} |"
        )
    print("| module | mutants | run | killed | timeout | equivalent | survived | score |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    print("\n".join(rows))
    print()
    print("\n".join(lines))
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("modules", nargs="*", help=f"modules to mutate (default: all of {', '.join(MODULES)})")
    ap.add_argument("--list", action="store_true", help="list the mutants and exit")
    ap.add_argument("--report", action="store_true", help="print the recorded results as Markdown and exit")
    ap.add_argument("--only", default="", help="comma-separated mutant numbers")
    ap.add_argument("--sample", type=int, default=1, help="run every N-th mutant only (a deterministic sample)")
    ap.add_argument(
        "--new",
        action="store_true",
        help="run only the mutants with no recorded result (new or changed source lines); a recorded result of an "
        "unchanged line is kept although the code around it may have changed: run without --new for final figures",
    )
    ap.add_argument("--timeout-factor", type=float, default=3.0)
    args = ap.parse_args(argv)
    names = args.modules or list(MODULES)
    for n in names:
        if n not in MODULES:
            ap.error(f"unknown module {n!r}; expected one of {', '.join(MODULES)}")
    if args.report:
        return report(names)
    equivalent = load_equivalent()
    if args.list:
        for n in names:
            src = (ROOT / "src" / MODULES[n][0]).read_text()
            for m in module_mutants(n, src):
                print(f"{n} #{m.index} line {m.lineno}: {m.signature}")
        return 0
    for mod in WARM:
        __import__(mod)
    only = {int(x) for x in args.only.split(",") if x.strip()}
    outdir = ROOT / ".mutate"
    outdir.mkdir(exist_ok=True)
    summary = []
    with tempfile.TemporaryDirectory(prefix="leonet-mutate-") as tmp:
        tmp_src = Path(tmp) / "src"
        shutil.copytree(ROOT / "src", tmp_src, ignore=shutil.ignore_patterns("__pycache__"))
        for n in names:
            rel, tests = MODULES[n]
            path = tmp_src / rel
            original = (ROOT / "src" / rel).read_text()
            every = mutants(original)
            signatures = [m.signature for m in every]
            done = _recorded(outdir / f"{n}.jsonl") if args.new else set()
            muts = [
                m
                for m in module_mutants(n, original)
                if (not only or m.index in only) and m.index % args.sample == 0 and m.signature not in done
            ]
            log = outdir / f"{n}.log"
            status, base = run_tests(tmp_src, tests, 1800.0, log)
            if status != "passed":
                print(f"{n}: the unmutated tests do not pass ({status}); see {log}", flush=True)
                return 1
            timeout = max(20.0, args.timeout_factor * base + 10.0)
            sampled = f" (every {args.sample}th of {len(module_mutants(n, original))})" if args.sample > 1 else ""
            print(
                f"{n}: {len(muts)} mutants{sampled}, tests {base:.1f} s unmutated (timeout {timeout:.0f} s)", flush=True
            )
            counts = {"killed": 0, "timeout": 0, "survived": 0, "equivalent": 0}
            survivors = []
            records = []
            t_mod = time.perf_counter()
            stamp = time.time_ns()
            for m in muts:
                path.write_text(mutated_source(original, m.index))
                stamp += 10_000_000
                os.utime(path, ns=(stamp, stamp))  # a fresh mtime: numba's cache must not serve the old kernel
                st, dt = run_tests(tmp_src, tests, timeout, outdir / f"{n}.mutant.log")
                if st == "passed":
                    if m.signature in equivalent.get(n, {}):
                        kind = "equivalent"
                    else:
                        kind = "survived"
                        survivors.append(m)
                elif st == "timeout":
                    kind = "timeout"
                else:
                    kind = "killed"
                counts[kind] += 1
                records.append({"index": m.index, "line": m.lineno, "signature": m.signature, "result": kind})
                _merge_records(outdir / f"{n}.jsonl", records[-1:], signatures)  # saved as it goes
                print(f"  #{m.index:<4d} line {m.lineno:<4d} {kind:<10s} {dt:5.1f} s  {m.signature}", flush=True)
            path.write_text(original)
            stamp += 10_000_000
            os.utime(path, ns=(stamp, stamp))
            _merge_records(outdir / f"{n}.jsonl", records, signatures)
            total = len(muts)
            caught = counts["killed"] + counts["timeout"]
            score = caught / max(total - counts["equivalent"], 1)
            summary.append((n, total, counts, score, time.perf_counter() - t_mod))
            for m in survivors:
                print(f"  SURVIVED {n} line {m.lineno}: {m.signature}", flush=True)
    print()
    print(
        f"{'module':<10s} {'mutants':>8s} {'killed':>7s} {'timeout':>8s} {'equiv':>6s} {'survived':>9s} "
        f"{'score':>7s} {'time':>7s}"
    )
    for n, total, c, score, dt in summary:
        print(
            f"{n:<10s} {total:8d} {c['killed']:7d} {c['timeout']:8d} {c['equivalent']:6d} {c['survived']:9d} "
            f"{score:7.1%} {dt:6.0f}s"
        )
    print("score = (killed + timeout) / (mutants - equivalent); equivalent mutants: tools/equivalent_mutants.txt")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
