"""The ``leonet`` command line: a thin edge around the core.  Bad input -> one line on stderr, exit code 2."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from leonet.errors import InputError

app = typer.Typer(
    name="leonet",
    help=(
        "leonet: a digital twin of a LEO satellite internet system: constellations, laser links, ground links, "
        "routing and round-trip times, second by second, and the operator's service policy.\n\n"
        "Start with `leonet run` (the built-in default scenario: Starlink's 550 km shell and the 100 largest "
        "cities). `leonet scenarios` lists the other built-in scenarios, `leonet check FILE` validates your own, "
        "and `leonet presets` lists the constellations a scenario can name. Every command has --help."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err_console = Console(stderr=True)
console = Console()

F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str) -> None:
    err_console.print(f"leonet: error: {message}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code=2)


def _guard(fn: F) -> F:
    """Turn an InputError anywhere below into a one-line message and exit code 2."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except InputError as exc:
            _fail(str(exc))
        except KeyboardInterrupt:
            err_console.print("leonet: interrupted; nothing was written")
            raise typer.Exit(code=130) from None

    return wrapper  # type: ignore[return-value]


ScenarioArg = Annotated[
    str | None,
    typer.Argument(
        help="A scenario TOML file, or the name of a built-in scenario (see `leonet scenarios`). "
        "Default: the built-in `default`.",
        show_default=False,
    ),
]


@app.command()
@_guard
def run(
    scenario: ScenarioArg = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Output directory. Default: ./leonet-out/<scenario name>.", show_default=False),
    ] = None,
    report: Annotated[bool, typer.Option(help="Write report.html with plots.")] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no table.")] = False,
) -> None:
    """Simulate a scenario: routes and RTT of every pair at every snapshot.

    Prints a summary table and writes, all or nothing, into the output directory: routes.parquet (one row per
    network, pair and snapshot), summary.parquet (per pair), networks.parquet, nodes.parquet, results.duckdb
    (the same tables), scenario.json and report.html.

    Example: `leonet run` (built-in default), `leonet run my.toml -o results/`, then
    `duckdb leonet-out/default/results.duckdb "select * from summary limit 5"`.
    """
    from leonet import engine
    from leonet.results import Results, run_prepared
    from leonet.scenario import load_scenario
    from leonet.store import write_results

    sc = load_scenario(scenario)
    out_dir = out if out is not None else Path("leonet-out") / sc.name
    t0 = time.perf_counter()
    prep = engine.prepare(sc)
    total = len(prep.times_s) * len(prep.networks)
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("snapshots"),
        TimeElapsedColumn(), TimeRemainingColumn(), console=err_console, disable=quiet, transient=False,
    ) as bar:  # fmt: skip
        task = bar.add_task(f"{sc.name}: routing {len(prep.src):,} pairs", total=total)
        results: Results = run_prepared(prep, progress=lambda n: bar.advance(task, n))
    files: dict[str, str] = {}
    if report:
        from leonet.report import render_html

        files["report.html"] = render_html(results)
    write_results(results, out_dir, extra_files=files)
    if not quiet:
        _print_summary(results)
        console.print(f"wrote {out_dir}/ in {time.perf_counter() - t0:.1f} s")


def _print_summary(results: Any) -> None:
    nets = results.networks.to_pylist()
    t = Table(title="Networks", title_justify="left")
    for col in ("network", "pairs", "snapshots", "median RTT ms", "p95 RTT ms", "reachable", "median stretch", "path changes"):
        t.add_column(col, justify="right" if col != "network" else "left")
    for n in nets:
        t.add_row(
            n["network"], f"{n['pairs']:,}", f"{n['snapshots']:,}", _f(n["rtt_median_ms"]), _f(n["rtt_p95_ms"]),
            f"{100 * n['reachable_share']:.1f}%", _f(n["stretch_median"], 3), f"{n['path_changes']:,}",
        )  # fmt: skip
    console.print(t)
    g = results.prepared.ground
    wanted = {(g.names[g.index(a)], g.names[g.index(b)]) for a, b in results.scenario.report.pairs}
    wanted |= {(b, a) for a, b in wanted}
    rows = [r for r in results.summary.to_pylist() if (r["src_name"], r["dst_name"]) in wanted]
    if rows:
        p = Table(title="Chosen pairs", title_justify="left")
        for col in ("network", "pair", "great-circle RTT ms", "min", "median", "p95", "max", "hops", "path changes"):
            p.add_column(col, justify="left" if col in ("network", "pair") else "right")
        for r in rows:
            p.add_row(
                r["network"], f"{r['src_name']} - {r['dst_name']}", _f(r["gc_rtt_ms"]), _f(r["rtt_min_ms"]),
                _f(r["rtt_median_ms"]), _f(r["rtt_p95_ms"]), _f(r["rtt_max_ms"]), _f(r["hops_mean"], 1),
                str(r["path_changes"]),
            )  # fmt: skip
        console.print(p)


def _f(x: float | None, nd: int = 2) -> str:
    return "-" if x is None else f"{x:.{nd}f}"


@app.command()
@_guard
def check(scenario: ScenarioArg = None) -> None:
    """Validate a scenario without running it, and say what it would simulate."""
    from leonet import engine
    from leonet.scenario import load_scenario

    sc = load_scenario(scenario)
    prep = engine.prepare(sc)
    console.print(f"[bold]{sc.name}[/bold]: {sc.description}")
    console.print(f"epoch {sc.epoch.isoformat()}, {len(prep.times_s):,} snapshots ({sc.time.start_s:g}..{sc.time.end_s:g} s, step {sc.time.step_s:g} s)")
    for net in prep.networks:
        gl = (
            f"ground links within {net.spec.max_ground_link_km:g} km"
            if net.spec.max_ground_link_km
            else f"ground links above {net.spec.min_elevation_deg:g} deg"
        )
        console.print(f"network {net.spec.name}: {net.n_sats:,} satellites, {len(net.isl):,} ISLs ({net.spec.isl}), {gl}")
    console.print(f"{prep.ground.size:,} ground nodes, {len(prep.src):,} pairs, routing {sc.routing.mode}")
    console.print("ok")


@app.command()
def scenarios() -> None:
    """List the built-in scenarios (run one with `leonet run NAME`)."""
    from leonet.scenario import builtin_names, load_scenario

    t = Table("name", "description")
    for name in builtin_names():
        t.add_row(name, load_scenario(name).description)
    console.print(t)


@app.command()
def presets() -> None:
    """List the constellation presets (use them as `constellation = { preset = "NAME" }`)."""
    from leonet.orbits.shells import PRESETS

    t = Table("preset", "shell", "altitude km", "inclination deg", "planes x sats", "pattern", "satellites")
    for name, shells in PRESETS.items():
        for i, s in enumerate(shells):
            t.add_row(name if i == 0 else "", s.name, f"{s.altitude_km:g}", f"{s.inclination_deg:g}",
                      f"{s.planes} x {s.sats_per_plane}", f"{s.pattern} F={s.phasing}", f"{s.size:,}")  # fmt: skip
    console.print(t)


def main() -> None:
    """Entry point of the ``leonet`` command."""
    try:
        app()
    except InputError as exc:  # pragma: no cover - _guard handles the commands
        err_console.print(f"leonet: error: {exc}", markup=False)
        sys.exit(2)


if __name__ == "__main__":
    main()
