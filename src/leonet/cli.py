"""The ``leonet`` command line: a thin edge around the core.  Bad input -> one line on stderr, exit code 2."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Column as RichColumn
from rich.table import Table

from leonet.errors import InputError
from leonet.termtable import Column, show_table

app = typer.Typer(
    name="leonet",
    help=(
        "leonet: a digital twin of a LEO satellite internet system: constellations, laser links, ground links, "
        "routing and round-trip times, second by second, and the operator's service policy.\n\n"
        "Start with `leonet run` (the built-in default scenario: Starlink's 550 km shell and the 100 largest "
        "cities). `leonet scenarios` lists the other built-in scenarios, `leonet check FILE` validates your own, "
        "`leonet presets` and `leonet cities` list the constellations and cities a scenario can name, and "
        "`leonet report DIR` renders a finished run's report again. Every command has --help."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err_console = Console(stderr=True)
console = Console()

F = TypeVar("F", bound=Callable[..., Any])


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("leonet")
    except Exception:  # pragma: no cover - not installed: the source tree's number
        import leonet

        return leonet.__version__


def _print_version(value: bool) -> None:
    if value:
        console.print(f"leonet {_version()}", highlight=False)
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print leonet's version and exit."),
    ] = False,
) -> None:
    """leonet: a digital twin of a LEO satellite internet system."""


def _show(title: str | None, columns: Sequence[Column], rows: Sequence[Sequence[str]],
          optional: Sequence[int] = ()) -> None:  # fmt: skip
    show_table(console, title, columns, rows, optional)


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


def _progress(unit: str, quiet: bool) -> Progress:
    """The progress bar of a long command (on stderr): the bar shrinks to fit the terminal; the description,
    counts and times stay whole."""
    whole = RichColumn(no_wrap=True)
    return Progress(
        TextColumn("[bold]{task.description}", table_column=whole),
        BarColumn(bar_width=None),
        MofNCompleteColumn(table_column=RichColumn(no_wrap=True)),
        TextColumn(unit, table_column=RichColumn(no_wrap=True)),
        TimeElapsedColumn(table_column=RichColumn(no_wrap=True)),
        TimeRemainingColumn(table_column=RichColumn(no_wrap=True)),
        console=err_console,
        disable=quiet,
        transient=False,
        expand=True,
    )


@app.command()
@_guard
def run(
    scenario: ScenarioArg = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="Output directory. Default: ./leonet-out/<scenario name>.", show_default=False
        ),
    ] = None,
    report: Annotated[bool, typer.Option(help="Write report.html with plots.")] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no table.")] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Run even when the output or the constellation is estimated beyond the limits (route rows, free "
            "disk, memory) that otherwise refuse the run up front.",
        ),
    ] = False,
    cluster: Annotated[
        str | None,
        typer.Option(
            "--cluster",
            help="Compute the chunks on a Dask cluster: `local` (one worker process per core), `local:N` (N "
            "worker processes on this machine) or `tcp://HOST:PORT` (a running `dask scheduler`; the files the "
            "scenario names must be at the same paths on every worker). The tables are the same as without it.",
            show_default=False,
        ),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Continue an interrupted run (Ctrl-C, kill) into the same -o from its last finished chunk; the "
            "tables equal an uninterrupted run's. Refused if that run was of another scenario.",
        ),
    ] = False,
) -> None:
    """Simulate a scenario: routes and RTT of every pair at every snapshot.

    Prints a summary table and writes, all or nothing, into the output directory: routes/part-*.parquet (one
    row per network, pair and snapshot; one Parquet part per chunk of snapshots),
    summary.parquet (per pair), networks.parquet, nodes.parquet, results.duckdb (the same tables),
    scenario.json and report.html. An interrupted run keeps its finished chunks: run it again with --resume.

    The first run compiles the routing kernel (numba, about 4 s; cached after) and says so on stderr.
    `leonet report DIR` renders the report again from the output directory. `routes` in results.duckdb is a
    view over the parts: `leonet.store.connect(DIR)` opens it from any directory.

    Example: `leonet run taiwan-unlicensed -o out/taiwan`; on two worker processes
    `leonet run taiwan-unlicensed -q -o out/taiwan-2 --cluster local:2`; after a Ctrl-C, to continue
    `leonet run taiwan-unlicensed -o out/taiwan --resume`; then in Python
    `import leonet.store; con = leonet.store.connect("out/taiwan"); con.sql("select * from summary limit 5").show()`
    """
    import signal

    from leonet.scenario import load_scenario

    spec = None
    if cluster is not None:
        from leonet.cluster import parse_cluster

        spec = parse_cluster(cluster)  # a bad value is refused before anything is locked or computed
    sc = load_scenario(scenario)
    out_dir = out if out is not None else Path("leonet-out") / sc.name
    t0 = time.perf_counter()

    def _terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # SIGTERM: unwind like Ctrl-C (the finished chunks are kept for --resume)

    signal.signal(signal.SIGTERM, _terminate)
    try:
        results = _run_into(sc, out_dir, spec, resume, report, quiet, force)
    except KeyboardInterrupt:
        err_console.print(
            f"leonet: interrupted; {out_dir} was not changed; the finished chunks are kept: the same command with "
            "--resume continues from them",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(code=130) from None
    # the temporary directory is now the output directory: point the results at the committed files
    results = results.reading_from(out_dir.resolve())
    for name, count in results.unusable_sats.items():
        if count:
            err_console.print(
                f"leonet: warning: network {name!r}: {count:,} satellite(s) had a physically impossible position "
                "(below 100 km or far above their orbit's apogee) or failed in SGP4 at one snapshot or more, and "
                "took part in no link there",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
    if not quiet:
        _print_summary(results)
        _print_service(results)
        _print_access(results)
        console.print(f"wrote {out_dir}/ in {time.perf_counter() - t0:.1f} s")


def _run_into(sc: Any, out_dir: Path, spec: Any, resume: bool, report: bool, quiet: bool, force: bool) -> Any:
    """`leonet run`'s work inside the locked temporary directory: chunks to parts, tables, report, commit."""
    import warnings
    from contextlib import nullcontext

    from leonet import assembly, budget, parts, pool, store

    # the output directory is locked first: a second run into it is refused before any work
    with store.atomic_dir(out_dir, resume_key=parts.scenario_key(sc), resume=resume) as tmp:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", assembly.LeonetWarning)  # printed below, once, as one line each
            prep = assembly.assemble(sc, force=force)
        digest = parts.world_digest(prep)
        parts.check_run_file(tmp, digest, str(out_dir))
        for note in prep.warnings:
            err_console.print(f"leonet: warning: {note}", markup=False, highlight=False, soft_wrap=True)
        budget.check_output(prep.estimate(), out_dir.parent, force)
        total = len(prep.times_s) * len(prep.networks)
        connection: Any = nullcontext(None)
        if spec is not None:
            from leonet.cluster import connect

            connection = connect(spec)
        with connection as client, _compiling_notice(quiet or sc.pairs == "none"), _progress("snapshots", quiet) as bar:
            where = f"on {len(client.scheduler_info()['workers'])} dask workers" if client is not None else ""
            task = bar.add_task(escape(f"{sc.name}: {len(prep.src):,} pairs {where}".rstrip()), total=total)
            compute: parts.Compute = parts.serial_compute
            if client is None and pool.available() and pool.default_workers() > 1:
                compute = pool.pool_compute(tmp)  # every core of this machine (LEONET_WORKERS to choose)
            if client is not None:
                from leonet.cluster import cluster_compute

                # workers on this machine write the parts themselves (no routes sent back to this process)
                compute = cluster_compute(client, sc, digest, tmp if spec.workers is not None else None)
            results, resumed = parts.run_to_parts(prep, tmp, compute, progress=lambda n: bar.advance(task, n))
        if resume and not quiet:
            n_chunks = len(parts.plan(prep))
            said = (
                f"resumed: {resumed:,} of {n_chunks:,} chunks were finished"
                if resumed
                else f"--resume: no finished chunk of this scenario in {out_dir}'s unfinished run; ran from the start"
            )
            err_console.print(f"leonet: {said}", markup=False, highlight=False, soft_wrap=True)
        parts.finish(tmp)
        files: dict[str, str] = {}
        if report:
            from leonet.report import render_html
            from leonet.report.access import access_sections
            from leonet.report.service import service_sections

            extra = service_sections(results) + access_sections(results)
            files["report.html"] = render_html(results, extra_sections=extra)
        store.write_tables(results, tmp, extra_files=files)
    return results


@contextmanager
def _compiling_notice(quiet: bool) -> Iterator[None]:
    """Says once, after the cluster (if any) is reached and before the first snapshot, that numba is compiling
    the routing kernels when its cache does not hold them yet (about 4 s that would otherwise look hung)."""
    from leonet.jitcache import kernels_cached

    if not quiet and not kernels_cached():
        err_console.print("leonet: compiling the routing kernel (first run only, about 4 s) ...", highlight=False)
    yield


def _print_summary(results: Any) -> None:
    cols: list[Column] = [("network", "name"), ("pairs", "num"), ("snapshots", "num"), ("median RTT ms", "num"),
                          ("p95 RTT ms", "num"), ("reachable", "num"), ("median stretch", "num"),
                          ("path changes", "num")]  # fmt: skip
    rows = [
        [
            n["network"],
            f"{n['pairs']:,}",
            f"{n['snapshots']:,}",
            _f(n["rtt_median_ms"]),
            _f(n["rtt_p95_ms"]),
            f"{100 * n['reachable_share']:.1f}%",
            _f(n["stretch_median"], 3),
            f"{n['path_changes']:,}",
        ]
        for n in results.networks.to_pylist()
    ]
    _show("Networks", cols, rows)
    g = results.prepared.ground
    wanted = [(g.names[g.index(a)], g.names[g.index(b)]) for a, b in results.scenario.report.pairs]
    want = set(wanted) | {(b, a) for a, b in wanted}
    chosen = [r for r in results.summary.to_pylist() if (r["src_name"], r["dst_name"]) in want]
    by_pair: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in chosen:
        by_pair.setdefault((r["src_name"], r["dst_name"]), []).append(r)
    cols = [("network", "name"), ("min", "num"), ("median", "num"), ("p95", "num"), ("max", "num"),
            ("hops", "num"), ("path changes", "num")]  # fmt: skip
    for (a, b), mine in by_pair.items():
        rows = [
            [
                r["network"],
                _f(r["rtt_min_ms"]),
                _f(r["rtt_median_ms"]),
                _f(r["rtt_p95_ms"]),
                _f(r["rtt_max_ms"]),
                _f(r["hops_mean"], 1),
                str(r["path_changes"]),
            ]
            for r in mine
        ]
        _show(f"{a} - {b}: RTT ms (great-circle bound {_f(mine[0]['gc_rtt_ms'])})", cols, rows)


def _print_service(results: Any) -> None:
    if results.terminals.num_rows == 0:
        return
    cols: list[Column] = [("network", "name"), ("terminals", "num"), ("served", "num"), ("denied s", "num"),
                          ("no coverage s", "num"), ("median RTT ms", "num")]  # fmt: skip
    rows = [
        [
            r["network"],
            str(r["terminals"]),
            f"{100 * r['served_share']:.1f}%",
            f"{r['denied_s']:,.0f}",
            f"{r['no_coverage_s']:,.0f}",
            _f(r["rtt_median_ms"]),
        ]
        for r in results.comparison.to_pylist()
    ]
    _show("Terminals (policy and coverage)", cols, rows)
    denied: dict[str, list[dict[str, Any]]] = {}
    for r in results.terminals.to_pylist():
        if r["denied_s"] > 0:
            denied.setdefault(r["network"], []).append(r)
    cols = [("terminal", "name"), ("denied s", "num"), ("served s", "num"), ("rule that denied longest", "name")]
    for net, mine in denied.items():
        rows = [[r["terminal"], f"{r['denied_s']:,.0f}", f"{r['served_s']:,.0f}", r["main_denial_rule"]]
                for r in mine[:20]]  # fmt: skip
        _show(f"Denied terminals on {net}", cols, rows)
        if len(mine) > 20:
            console.print(f"... and {len(mine) - 20} more (see terminals.parquet)")
    jammed: dict[str, list[dict[str, Any]]] = {}
    for r in results.terminals.to_pylist():
        if r.get("jammed_s", 0) > 0:
            jammed.setdefault(r["network"], []).append(r)
    fault_of: dict[tuple[str, str], str] = {}
    if jammed:
        for r in results.service.to_pylist():
            if r["status"] == "jammed":
                fault_of.setdefault((r["network"], r["terminal"]), r["rule_id"])
    cols = [("terminal", "name"), ("jammed s", "num"), ("served s", "num"), ("first jammed by fault", "name")]
    for net, mine in jammed.items():
        rows = [[r["terminal"], f"{r['jammed_s']:,.0f}", f"{r['served_s']:,.0f}",
                 fault_of.get((net, r["terminal"]), "")]
                for r in mine[:20]]  # fmt: skip
        _show(f"Jammed terminals on {net}", cols, rows)
        if len(mine) > 20:
            console.print(f"... and {len(mine) - 20} more (see terminals.parquet)")


def _print_access(results: Any) -> None:
    if results.access is None:
        return
    s = results.scenario.access
    cols: list[Column] = [("network", "name"), ("rows", "num"), ("served", "num"), ("median RTT ms", "num"),
                          ("p95 RTT ms", "num"), ("median ISL hops", "num")]  # fmt: skip
    rows = [
        [
            r["network"],
            f"{r['rows']:,}",
            f"{100 * r['served_share']:.1f}%",
            _f(r["rtt_median_ms"]),
            _f(r["rtt_p95_ms"]),
            _f(r["isl_hops_median"], 1),
        ]
        for r in results.access_summary().to_pylist()
    ]
    _show(f"Access: terminal -> PoP ({s.mode}, homing {s.homing})", cols, rows)


def _f(x: float | None, nd: int = 2) -> str:
    return "-" if x is None else f"{x:.{nd}f}"


def _finite(x: float | None) -> float | None:
    """None for a missing or NaN measure (printed as "-")."""
    return None if x is None or x != x else x


@app.command()
@_guard
def resilience(
    scenario: ScenarioArg = None,
    fail: Annotated[
        str,
        typer.Option(
            "--fail", help="Failure rates: the share of satellites and of laser links that fail, e.g. 1%,5%,10%,20%."
        ),
    ] = "1%,5%,10%,20%",
    seeds: Annotated[int, typer.Option("--seeds", help="Random draws per rate (the spread over them is plotted).")] = 3,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Output directory. Default: ./leonet-out/<scenario name>-resilience.",
            show_default=False,
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no table.")] = False,
) -> None:
    """Run a scenario's window with growing random satellite and laser failures, against the run without faults.

    For each rate and seed, that share of every network's satellites and of its laser links fails for the whole
    window (drawn once per seed). Measures per network: reachability (share of pair-snapshots with a route),
    median and p95 RTT stretch over the reachable ones, time without service per terminal (or per routed
    ground node), and, with [access], the median and p10 downlink throughput per terminal and the rate carried
    (the flow model of `leonet capacity` at each slot edge; without [access]: no throughput, shown as "-").
    Writes resilience.csv, resilience.parquet (one row per network, rate and seed), summary.csv (mean / min /
    max over seeds) and resilience.png into the output directory, and prints the summary.

    Example: `leonet resilience front-jamming-2026 --fail 10%,50% --seeds 1 -q`
    """
    import warnings

    from leonet import assembly, store
    from leonet import resilience as res
    from leonet.report.figures import png_bytes
    from leonet.report.resilience import resilience_figure
    from leonet.results import run as run_scenario
    from leonet.scenario import load_scenario

    sc = load_scenario(scenario)
    rates = res.parse_rates(fail)
    todo = res.trials(rates, seeds)
    out_dir = out if out is not None else Path("leonet-out") / f"{sc.name}-resilience"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", assembly.LeonetWarning)
        prep = assembly.assemble(sc)  # errors now, before the first run
    total = len(prep.times_s) * len(prep.networks) * len(todo)
    t0 = time.perf_counter()
    with store.atomic_dir(out_dir) as tmp, _compiling_notice(quiet), _progress("snapshots", quiet) as bar:
        task = bar.add_task(escape(f"{sc.name}: {len(todo)} runs"), total=total)

        def one(s: Any) -> Any:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", assembly.LeonetWarning)
                return run_scenario(s, progress=lambda n: bar.advance(task, n))

        table = res.sweep(sc, rates, seeds, one)
        summary = res.summarise(table)
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        pq.write_table(table, tmp / "resilience.parquet")
        pacsv.write_csv(table, tmp / "resilience.csv")
        pacsv.write_csv(summary, tmp / "summary.csv")
        (tmp / "resilience.png").write_bytes(png_bytes(resilience_figure(summary, sc.name)))
    if quiet:
        return
    cols: list[Column] = [("network", "name"), ("failed", "num"), ("seeds", "num"), ("reachable", "num"),
                          ("median stretch", "num"), ("p95 stretch", "num"), ("no service s", "num"),
                          ("median down Mbit/s", "num"), ("p10 down Mbit/s", "num"),
                          ("carried Gbit/s", "num")]  # fmt: skip
    rows = [
        [
            r["network"],
            f"{100 * r['rate']:g}%",
            "-" if r["rate"] == 0 else str(r["seeds"]),
            f"{100 * r['reachability_mean']:.1f}%",
            _f(r["stretch_median_mean"]),
            _f(r["stretch_p95_mean"]),
            _f(r["outage_mean_s_mean"], 0),
            _mbps(_finite(r["throughput_down_median_mbps_mean"])),
            _mbps(_finite(r["throughput_down_p10_mbps_mean"])),
            _f(_finite(r["carried_gbps_mean"])),
        ]
        for r in summary.to_pylist()
    ]
    _show(f"Resilience of {sc.name} (means over seeds)", cols, rows)
    console.print(f"wrote {out_dir} in {time.perf_counter() - t0:.1f} s", highlight=False)


@app.command()
@_guard
def capacity(
    scenario: ScenarioArg = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Output directory. Default: ./leonet-out/<scenario name>-capacity.",
            show_default=False,
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no table.")] = False,
) -> None:
    """Throughput per terminal at every 15-s slot: the beam scheduler, the access paths and the flows together.

    Needs the scenario's [access] section ([capacity] sets the demand, beams and service classes). At each
    reconfiguration slot edge: the scheduler gives beams to cells and each terminal its satellite (denied
    terminals none), the access path runs from it over lasers to a gateway and the PoP, and each terminal's down
    and up demand is allocated max-min fair over its user beam, the lasers and the gateway feeder. Writes
    throughput.parquet (per slot and terminal), links.parquet (per slot and link), gateways.parquet,
    summary.csv, throughput_cdf.png and utilisation_map.png into the output directory, and prints the summary.

    Example: `leonet capacity access-us-europe -q`
    """
    import warnings

    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from leonet import assembly, store
    from leonet import capacity as cap
    from leonet.report.capacity import throughput_cdf_figure, utilisation_map_figure
    from leonet.report.figures import png_bytes
    from leonet.scenario import load_scenario

    sc = load_scenario(scenario)
    if sc.access is None:
        raise InputError(sc.source, "leonet capacity needs the access paths; expected an [access] section")
    out_dir = out if out is not None else Path("leonet-out") / f"{sc.name}-capacity"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", assembly.LeonetWarning)
        prep = assembly.assemble(sc)
    spec = cap.capacity_setup(prep)
    n_slots = len(cap.slot_edges(prep, spec.interval_s)) * len(prep.networks)
    t0 = time.perf_counter()
    with store.atomic_dir(out_dir) as tmp, _compiling_notice(quiet), _progress("slots", quiet) as bar:
        task = bar.add_task(escape(f"{sc.name}: capacity"), total=n_slots)
        tables, slots = cap.capacity_over_window(prep, spec, progress=lambda n: bar.advance(task, n))
        summary = cap.summary(tables)
        top = cap.top_bottlenecks(tables)
        pq.write_table(tables.throughput, tmp / "throughput.parquet")
        pq.write_table(tables.links, tmp / "links.parquet")
        pq.write_table(tables.gateways, tmp / "gateways.parquet")
        pacsv.write_csv(summary, tmp / "summary.csv")
        thr = tables.throughput
        allowed = thr.column("allowed").to_numpy(zero_copy_only=False)
        rates = {d: thr.column(f"{d}_mbps").to_numpy()[allowed] / 1e3 for d in ("down", "up")}
        fig = throughput_cdf_figure(rates, f"{sc.name}: throughput per terminal and slot")
        (tmp / "throughput_cdf.png").write_bytes(png_bytes(fig))
        busiest = max(range(len(slots)), key=lambda i: float(slots[i].load_gbps.sum()))
        lk = cap.link_rows(prep, busiest // max(n_slots // len(prep.networks), 1), slots[busiest])
        pairs = (lk.column("u").is_valid().to_numpy(zero_copy_only=False)
                 & lk.column("v").is_valid().to_numpy(zero_copy_only=False)
                 & (lk.column("load_gbps").to_numpy() > 0))  # fmt: skip
        col = {c: lk.column(c).to_numpy()[pairs] for c in ("lat0_deg", "lon0_deg", "lat1_deg", "lon1_deg")}
        util = lk.column("utilisation").fill_null(float("nan")).to_numpy()[pairs]
        title = f"{sc.name}: loaded lasers and feeders at t = {slots[busiest].t_s:g} s (busiest slot)"
        fig = utilisation_map_figure(col["lat0_deg"], col["lon0_deg"], col["lat1_deg"], col["lon1_deg"], util, title)
        (tmp / "utilisation_map.png").write_bytes(png_bytes(fig))
    if quiet:
        return
    cols: list[Column] = [("network", "name"), ("slots", "num"), ("terminals", "num"), ("median down", "num"),
                          ("p5 down", "num"), ("median up", "num"), ("p5 up", "num"), ("demand served", "num"),
                          ("denied", "num")]  # fmt: skip
    rows = [
        [
            r["network"],
            str(r["slots"]),
            str(r["terminal_slots"] // max(r["slots"], 1)),
            _mbps(r["down_median_mbps"]),
            _mbps(r["down_p5_mbps"]),
            _mbps(r["up_median_mbps"]),
            _mbps(r["up_p5_mbps"]),
            "-" if r["down_served_share"] is None else f"{100 * r['down_served_share']:.1f}%",
            f"{100 * r['denied_share']:.1f}%",
        ]
        for r in summary.to_pylist()
    ]
    _show(f"Capacity of {sc.name} (Mbit/s per terminal; demand served: down)", cols, rows)
    gw_names = prep.access.ground.gateways.names if prep.access is not None else ()
    n_sats = {n.spec.name: n.n_sats for n in prep.networks}

    def node(net: str, i: int | None) -> str:
        if i is None:
            return "terminals"
        return f"sat {i}" if i < n_sats[net] else gw_names[i - n_sats[net]]

    brows = []
    for r in top.to_pylist():  # the few top links
        if r["kind"].startswith("user-beam"):
            what = f"sat {r['u'] if r['u'] is not None else r['v']}, cell {r['cell']:x}"
        else:
            what = f"{node(r['network'], r['u'])} -> {node(r['network'], r['v'])}"
        brows.append([r["kind"], what, str(r["flows"]), f"{100 * (r['utilisation'] or 0.0):.0f}%"])
    bcols: list[Column] = [("kind", "name"), ("link", "name"), ("flows", "num"), ("utilisation", "num")]
    if brows:
        _show("Top bottleneck links (flows: terminal-direction-slots limited by the link)", bcols, brows)
    else:
        console.print("No link was a bottleneck (each flow got its demand, was jammed or unserved).")
    console.print(f"wrote {out_dir} in {time.perf_counter() - t0:.1f} s", highlight=False)


def _mbps(x: float | None) -> str:
    return "-" if x is None else f"{x:,.0f}" if x >= 100 else f"{x:.3g}"


@app.command()
@_guard
def check(scenario: ScenarioArg = None) -> None:
    """Validate a scenario without running it, and say what it would simulate.

    Example: `leonet check`, `leonet check national-constellation`
    """
    from leonet import assembly
    from leonet.scenario import load_scenario

    sc = load_scenario(scenario)
    prep = assembly.assemble(sc)
    console.print(f"[bold]{sc.name}[/bold]: {sc.description}")
    window = f"{sc.time.start_s:g}..{sc.time.end_s:g} s, step {sc.time.step_s:g} s"
    console.print(f"epoch {sc.epoch.isoformat()}, {len(prep.times_s):,} snapshots ({window})")
    for net in prep.networks:
        gl = (
            f"ground links within {net.spec.max_ground_link_km:g} km"
            if net.spec.max_ground_link_km
            else f"ground links above {net.spec.min_elevation_deg:g} deg"
        )
        console.print(
            f"network {net.spec.name}: {net.n_sats:,} satellites, {len(net.isl):,} ISLs ({net.spec.isl}), {gl}"
        )
    console.print(f"{prep.ground.size:,} ground nodes, {len(prep.src):,} pairs, routing {sc.routing.mode}")
    if sc.faults:
        from leonet.faults import fault_names

        names = fault_names(sc.faults)
        listed = ", ".join(f"{n} ({f.kind})" for n, f in zip(names, sc.faults, strict=True))
        console.print(f"{len(sc.faults)} fault(s): {listed}", highlight=False)
    if prep.access is not None and sc.access is not None:
        a = prep.access
        homes = sorted({a.ground.pops.names[i] for i in a.home_pop if i >= 0})
        console.print(
            f"access ({sc.access.mode}, homing {sc.access.homing}): {len(a.terminals):,} terminals homed to "
            f"{len(homes)} of {a.ground.pops.size} PoPs ({', '.join(homes[:8])}{', ...' if len(homes) > 8 else ''}), "
            f"{a.ground.gateways.size} gateways",
            markup=False,
            highlight=False,
        )
    console.print("ok")


@app.command()
def scenarios() -> None:
    """List the built-in scenarios (run one with `leonet run NAME`).

    docs/scenarios.md gives the facts each one encodes and their sources.

    Example: `leonet scenarios`
    """
    from leonet.scenario import builtin_names, load_scenario

    rows = [[name, load_scenario(name).description] for name in builtin_names()]
    _show(None, [("name", "name"), ("description", "text")], rows)


@app.command()
def presets() -> None:
    """List the constellation presets (use them as `constellation = { preset = "NAME" }`).

    Example: `leonet presets`
    """
    from leonet.orbits.shells import PRESETS

    rows = []
    for name, shells in PRESETS.items():
        for i, sh in enumerate(shells):
            rows.append(
                [
                    name if i == 0 else "",
                    sh.name,
                    f"{sh.altitude_km:g}",
                    f"{sh.inclination_deg:g}",
                    f"{sh.planes} x {sh.sats_per_plane}",
                    f"{sh.pattern} F={sh.phasing}",
                    f"{sh.size:,}",
                ]
            )
    cols: list[Column] = [("preset", "name"), ("shell", "name"), ("altitude km", "num"), ("incl. deg", "num"),
                          ("planes x sats", "num"), ("pattern", "name"), ("satellites", "num")]  # fmt: skip
    _show(None, cols, rows)


@app.command()
@_guard
def cities(
    search: Annotated[
        str | None,
        typer.Argument(
            help="Part of a name or country (case and accents do not count), or a country code.", show_default=False
        ),
    ] = None,
) -> None:
    """List the shipped cities a scenario can name, with their country.

    A scenario names them as `[ground] cities = [...]`, or `cities = N` for the N most populous.  The list ranks
    cities by estimated 2025 population (Hypatia's top-1000 list) and gives no population figures, so the rank is
    shown.  A name the list repeats is qualified by its country: Hyderabad-(India), Hyderabad-(Pakistan).

    Example: `leonet cities hyderabad`, `leonet cities JP`
    """
    from leonet import catalog

    found = catalog.search_cities(search)
    if not found:
        names = [c.name for c in catalog.cities()]
        _fail(f"SEARCH: no city matches {search!r}{catalog.did_you_mean(search or '', names)}; expected part of a "
              "city name or country, or a country code")  # fmt: skip
    rows = [[str(c.rank), c.name, c.country_iso_a2, c.country, f"{c.lat_deg:.4f}", f"{c.lon_deg:.4f}"] for c in found]
    cols: list[Column] = [("rank", "num"), ("name", "name"), ("code", "name"), ("country", "text"),
                          ("lat deg", "num"), ("lon deg", "num")]  # fmt: skip
    _show(None, cols, rows, optional=(4, 5))
    console.print(f"{len(found):,} of {len(catalog.cities()):,} cities (rank: population order, 1 = most populous)")


@app.command("report")
@_guard
def report_cmd(
    directory: Annotated[Path, typer.Argument(help="An output directory written by `leonet run`.", show_default=False)],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="Where to write the report. Default: DIRECTORY/report.html.", show_default=False
        ),
    ] = None,
) -> None:
    """Render the HTML report again from a finished output directory.

    Reads the directory's scenario.json and Parquet tables (e.g. after `leonet run --no-report`, or with a newer
    leonet) and writes the page `leonet run` writes.

    Example: `leonet run speed-cap-2026 -q --no-report -o out/cap`, then `leonet report out/cap`
    """
    from leonet.readback import read_results
    from leonet.report import render_html
    from leonet.report.access import access_sections
    from leonet.report.service import service_sections

    results = read_results(directory)
    html = render_html(results, extra_sections=service_sections(results) + access_sections(results))
    target = out if out is not None else Path(directory) / "report.html"
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        tmp.write_text(html, encoding="utf-8")
        tmp.replace(target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(str(target), f"cannot write it ({exc.strerror}); expected a writable path") from None
    console.print(f"wrote {target}")


export_app = typer.Typer(
    help="Write a scenario's network in another simulator's format (Hypatia's satellite-network directory).",
    no_args_is_help=True,
)
app.add_typer(export_app, name="export")


@export_app.command("hypatia")
@_guard
def export_hypatia_cmd(
    scenario: Annotated[str, typer.Argument(help="A scenario TOML file or a built-in scenario name.")],
    out: Annotated[Path, typer.Argument(help="The satellite-network directory to write (replaced all or nothing).")],
    step_ms: Annotated[
        int | None,
        typer.Option("--step-ms", help="Time step (ms). Default: the scenario's step_s.", show_default=False),
    ] = None,
    duration_s: Annotated[
        int | None,
        typer.Option("--duration-s", help="Duration (s). Default: the scenario's end_s - start_s.", show_default=False),
    ] = None,
    network: Annotated[
        str | None, typer.Option("--network", help="Which network (needed when there are several).", show_default=False)
    ] = None,
    max_gsl_m: Annotated[
        float | None,
        typer.Option(
            "--max-gsl-m",
            help="Ground-link range (m). Default: the network's max_ground_link_km, else Hypatia's slant range at "
            "its min_elevation_deg and the shell's altitude.",
            show_default=False,
        ),
    ] = None,
    max_isl_m: Annotated[
        float | None,
        typer.Option(
            "--max-isl-m",
            help="Longest ISL (m). Default: max_isl_km, else Hypatia's 80 km line-of-sight rule.",
            show_default=False,
        ),
    ] = None,
    ground_ellipsoid: Annotated[
        str, typer.Option("--ground-ellipsoid", help="Ground-station positions: wgs72 (Hypatia's) or wgs84 (leonet's).")
    ] = "wgs72",
    algorithm: Annotated[
        str | None,
        typer.Option(
            "--algorithm",
            help="satgenpy's algorithm_free_one_only_over_isls (default with ISLs) or "
            'algorithm_free_one_only_gs_relays (default for isl = "none": every ground station relays).',
            show_default=False,
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Write Hypatia's satellite-network directory (for its ns-3 simulator) for a scenario's network.

    Writes tles.txt, isls.txt, ground_stations.txt (and ground_stations.basic.txt), description.txt,
    gsl_interfaces_info.txt and dynamic_state_<step>ms_for_<duration>s/ with fstate_<t_ns>.txt (the first step in
    full, then the entries that changed) and gsl_if_bandwidth_<t_ns>.txt, as satgenpy 0.4.0 writes them for its
    algorithm_free_one_only_over_isls (or algorithm_free_one_only_gs_relays). Time 0 is the satellites' TLE
    epoch (the scenario must start there); steps run 0, step, ..., duration - step. The scenario's [[faults]]
    are not exported (a note says so).

    Example: `leonet export hypatia hypatia-starlink-550 hyp-net --step-ms 1000 --duration-s 3`
    """
    from leonet import store
    from leonet.hypatia.export import export_hypatia
    from leonet.scenario import load_scenario

    sc = load_scenario(scenario)
    if sc.faults:  # Hypatia's files have no place for them: say so rather than drop them silently
        names = ", ".join(f.name or f.kind for f in sc.faults)
        err_console.print(
            escape(f"note: the scenario's {len(sc.faults)} fault(s) ({names}) are not exported: "
                   "Hypatia's files describe the network without faults"),
            highlight=False,
        )  # fmt: skip
    t0 = time.perf_counter()
    with store.atomic_dir(out) as tmp, _progress("steps", quiet) as bar:
        task = bar.add_task(escape(f"{sc.name}: forwarding state"), total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        plan = export_hypatia(
            sc,
            tmp,
            network=network,
            step_ms=step_ms,
            duration_s=duration_s,
            max_gsl_m=max_gsl_m,
            max_isl_m=max_isl_m,
            ground_ellipsoid=ground_ellipsoid,
            algorithm=algorithm,
            progress=advance,
        )
    if not quiet:
        console.print(
            f"wrote {out}: {plan.n_steps:,} steps of {plan.step_ms} ms "
            f"(dynamic_state_{plan.step_ms}ms_for_{plan.duration_s}s, {plan.algorithm}) "
            f"in {time.perf_counter() - t0:.1f} s",
            highlight=False,
        )


policy_app = typer.Typer(
    help="The service-control plane: validate a scenario's policy, and explain one terminal's decision.",
    no_args_is_help=True,
)
app.add_typer(policy_app, name="policy")

_RULE_KINDS = {
    "licences": "licence",
    "geofences": "geofence",
    "country_overrides": "country override",
    "quotas": "quota",
    "speed_caps": "speed cap",
    "motion_bans": "motion ban",
    "service_bans": "service ban",
    "mobility": "plan mobility",
}


def _describe(rule: Any) -> str:
    data = rule.model_dump(exclude_none=True, exclude={"id", "geometry"}, mode="json")
    if getattr(rule, "geometry", None) is not None:
        data["geometry"] = f"inline {rule.geometry.get('type', 'geometry')}"
    return ", ".join(f"{k}={v}" for k, v in data.items() if v not in ([], {}, ""))


@policy_app.command("check")
@_guard
def policy_check(scenario: ScenarioArg = None) -> None:
    """Validate a scenario's [policy] (geometries, country codes, overlaps, quotas) and explain its rules.

    Rules are evaluated in this order, and the first that denies a terminal is the one reported: registry
    (unregistered, suspended), geofences (highest priority first), licences, service bans, speed caps, motion
    bans, plan mobility. Example: `leonet policy check front-whitelist-2026`.
    """
    from leonet import assembly
    from leonet.scenario import load_scenario

    sc = load_scenario(scenario)
    prep = assembly.assemble(sc)
    if prep.policy is None:
        _fail(f"{sc.source}: the scenario has no [policy] section; expected one to check")
        return
    cfg = prep.policy.config
    t = Table(title=f"Policy of {sc.name}", title_justify="left")
    t.add_column("rule")
    t.add_column("kind")
    t.add_column("what it says")
    t.add_row("unregistered", "registry", f"terminals not in the registry: {cfg.default.unregistered}")
    t.add_row("suspended", "registry", "a suspended terminal is denied")
    if cfg.licences is not None:
        t.add_row("no-licence", "licence", "a terminal in a country no valid licence names is denied")
    for field, kind in _RULE_KINDS.items():
        for rule in getattr(cfg, field) or []:
            t.add_row(rule.id, kind, _describe(rule))
    console.print(t)
    if cfg.geofences:
        from leonet.policy.coverage import geofence_coverage

        gt = Table(title="Geofences: where they are", title_justify="left")
        gt.add_column("geofence")
        gt.add_column("area km² (geodesic)", justify="right")
        gt.add_column("covers (share of the area)")
        for cov in geofence_coverage(prep.policy):
            gt.add_row(cov.rule_id, f"{cov.area_km2:,.0f}", cov.text())
        console.print(gt)
    accounts = {x.account for x in cfg.terminals}
    console.print(f"registry: {len(cfg.terminals):,} terminals, {len(accounts):,} accounts; quotas hold")
    n_term = len(prep.terminals)
    if n_term:
        from leonet.chunk import chunk_bounds
        from leonet.step import decide

        allowed, carry = 0, None
        for k0, k1 in chunk_bounds(prep):  # chunk by chunk, the roaming history carried
            d, carry = decide(prep, prep.times_s[k0:k1], carry)
            allowed += int(d.served.sum()) if d is not None else 0
        share = allowed / (n_term * len(prep.times_s))
        console.print(
            f"{n_term:,} terminals in the scenario: {share * 100:.1f}% of terminal-snapshots allowed by the policy"
        )
    console.print("ok")


def _parse_time(at: str, sc: Any) -> float:
    from datetime import datetime

    from leonet.timebase import as_utc

    try:
        seconds = float(at)
    except ValueError:
        pass
    else:
        return seconds
    try:
        when = as_utc(datetime.fromisoformat(at.replace("Z", "+00:00")))
    except ValueError:
        raise InputError("--at", f"got {at!r}; expected seconds after the epoch or an ISO 8601 UTC time") from None
    return float((when - sc.epoch).total_seconds())


@policy_app.command("why")
@_guard
def policy_why(
    terminal: Annotated[str, typer.Argument(help="Terminal id (a ground node of kind terminal).")],
    at: Annotated[str, typer.Option("--at", help="Seconds after the scenario epoch, or an ISO 8601 UTC time.")],
    scenario: ScenarioArg = None,
) -> None:
    """Print the decision chain for one terminal at one time: every rule in order, what it did and why, the
    decision, and whether the terminal then has a ground link in each network.

    Example: `leonet policy why BOAT-1 --at 15000 crimea-2022`,
    `leonet policy why BOAT-1 --at 2022-09-22T04:10:00Z crimea-2022`
    """
    import numpy as np

    from leonet import assembly
    from leonet.policy import why
    from leonet.scenario import load_scenario
    from leonet.step import state_at

    sc = load_scenario(scenario)
    prep = assembly.assemble(sc)
    if prep.policy is None:
        _fail(f"{sc.source}: the scenario has no [policy] section; expected one to explain")
        return
    g = prep.ground
    idx = g.index(terminal, "TERMINAL")
    if g.kind[idx] != "terminal":
        _fail(f"TERMINAL: {g.names[idx]!r} is a {g.kind[idx]}, not a terminal; the policy decides on terminals only")
    t_s = _parse_time(at, sc)
    hist = np.append(prep.times_s[prep.times_s < t_s], t_s)  # the history up to t, for rules that look back
    st = g.at(hist)
    steps = why(
        prep.policy,
        g.names[idx],
        hist,
        sc.epoch,
        st.lat_deg[:, idx],
        st.lon_deg[:, idx],
        st.alt_m[:, idx],
        st.speed_kmh[:, idx],
    )
    table = Table(title=f"{g.names[idx]} at t = {t_s:g} s", title_justify="left")
    table.add_column("rule", no_wrap=True)  # ids whole; the reason wraps
    table.add_column("outcome", no_wrap=True)
    table.add_column("reason")
    style = {
        "deny": "bold red",
        "also-deny": "red",
        "pass": "green",
        "n/a": "dim",
        "served": "bold green",
        "denied": "bold red",
    }
    for step in steps:
        table.add_row(step.rule_id, f"[{style.get(step.outcome, '')}]{step.outcome}[/]", step.reason)
    console.print(table)
    from leonet.faults import fault_names

    names = fault_names(sc.faults)
    for i, net in enumerate(prep.networks):
        state = state_at(prep, i, t_s)
        n_links = int((state.snapshot.gsl.ground == idx).sum())
        under = "under the policy" if net.spec.policy else "not under the policy"
        jam = ""
        col = np.flatnonzero(prep.terminals == idx)
        if state.faults is not None and len(col) and state.faults.jam_fault[0, col[0]] >= 0:
            jam = f"; jammed (fault {names[int(state.faults.jam_fault[0, col[0]])]})"
        console.print(f"network {net.spec.name} ({under}): {n_links} ground link(s) at t = {t_s:g} s{jam}")


@app.command()
@_guard
def serve(
    scenario: ScenarioArg = None,
    db: Annotated[
        str | None,
        typer.Option("--db", help="Database URL: sqlite:///FILE or postgresql://... Default: ./leonet-serve.db."),
    ] = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on (only this machine by default).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option("--port", help="TCP port (0: any free port; the URL shows it).")] = 8765,
    cors: Annotated[
        list[str] | None, typer.Option("--cors", help="Allow this browser origin (repeatable; default: no CORS).")
    ] = None,
    stop_after: Annotated[
        float | None, typer.Option("--stop-after", help="Stop after this many seconds (for scripts and checks).")
    ] = None,
    rate_limit: Annotated[
        float,
        typer.Option(
            "--rate-limit",
            help="Requests per second each API token may make (a client without a live token: per address); "
            "more get 429 with Retry-After. 0: no limit. /healthz is exempt.",
        ),
    ] = 300.0,  # leonet.server.ratelimit.DEFAULT_RATE_PER_S (tests/test_hostile_limits.py checks they agree)
    rate_burst: Annotated[
        float | None,
        typer.Option("--rate-burst", help="Requests a token may make at once above the rate (default: 2 x rate)."),
    ] = None,
) -> None:
    """Serve the operator service: the API (OpenAPI at /openapi.json) and the page, on a simulated clock, over
    a control database (an SQLite file by default).  The first start imports the scenario into the database
    and prints the page's URL with a first admin token, once; later starts go on from the database.

    Example: `leonet serve --port 0 --stop-after 1`,
    `leonet serve crimea-2022 --db sqlite:///crimea.db --port 0 --stop-after 1`
    """
    from leonet.scenario import load_scenario
    from leonet.server.serve import serve as run_server

    if not (math.isfinite(rate_limit) and rate_limit >= 0):
        raise InputError("--rate-limit", f"got {rate_limit:g}; expected requests per second >= 0 (0: no limit)")
    if rate_burst is not None and not (math.isfinite(rate_burst) and rate_burst >= 1):
        raise InputError("--rate-burst", f"got {rate_burst:g}; expected a number of requests >= 1")
    sc = load_scenario(scenario)
    run_server(sc, db, host, port, stop_after_s=stop_after, cors_origins=cors or None,
               rate_limit_per_s=rate_limit or None, rate_burst=rate_burst,
               say=lambda line: console.print(line, markup=False, highlight=False, soft_wrap=True))  # fmt: skip


def main() -> None:
    """Entry point of the ``leonet`` command."""
    try:
        app()
    except InputError as exc:  # pragma: no cover - _guard handles the commands
        err_console.print(f"leonet: error: {exc}", markup=False)
        sys.exit(2)


if __name__ == "__main__":
    from leonet import cli as _cli  # the module itself, on whose app leonet.cli_control registered its commands

    _cli.main()

# last: leonet.cli_control imports this module's app and _guard, and registers `leonet control` and `leonet audit`
import leonet.cli_control  # noqa: E402, F401
