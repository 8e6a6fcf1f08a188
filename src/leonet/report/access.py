"""The report's access section (``[access]`` only): terminal -> PoP RTT per network (a table and its CDF) and
per PoP (who is served through it, how fast).  The statistics are DuckDB aggregates over the stored access
rows (a table or the run's Parquet parts): quantiles interpolate linearly, as ``numpy.percentile``."""

from __future__ import annotations

from html import escape

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from leonet.report import figures
from leonet.report.page import Section, fmt_ms, fmt_pct
from leonet.results import Results

#: quantile levels of the CDF (0, 1%, ..., 100%)
_LEVELS = [i / 100 for i in range(101)]


def _query(results: Results, sql: str) -> list[tuple[object, ...]]:
    import duckdb

    con = duckdb.connect()
    try:
        con.register("acc", results.access)
        return con.execute(sql).fetchall()
    finally:
        con.close()


def rtt_cdf_figure(curves: dict[str, list[float]]) -> Figure:
    """The CDF of terminal -> PoP RTT, one line per network (``curves``: network -> RTT at :data:`_LEVELS`)."""
    fig = Figure(figsize=(7.5, 3.6), dpi=figures.DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for i, (net, q) in enumerate(curves.items()):
        ax.plot(q, _LEVELS, color=figures.color(i), label=figures.mpl_text(net))
    ax.set_xlabel("terminal -> PoP RTT (ms)")
    ax.set_ylabel("share of served terminal-snapshots")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    if curves:
        ax.legend(loc="lower right", fontsize=8)
    else:
        ax.text(0.5, 0.5, "no terminal served", ha="center", va="center", transform=ax.transAxes)
    return fig


def access_sections(results: Results) -> list[Section]:
    """The "Access to PoPs" section, or nothing without ``[access]``."""
    if results.access is None or results.world.access is None:
        return []
    nets = [n.spec.name for n in results.world.networks]
    summ = results.access_summary().to_pylist()
    head = "<tr><th>network</th><th>terminal-snapshots</th><th>served</th><th>median RTT ms</th>"
    head += "<th>p95 RTT ms</th><th>median ISL hops</th></tr>"
    body = "".join(
        f"<tr><td class=name>{escape(str(r['network']))}</td><td class=num>{r['rows']:,}</td>"
        f"<td class=num>{fmt_pct(r['served_share'])}</td><td class=num>{fmt_ms(r['rtt_median_ms'])}</td>"
        f"<td class=num>{fmt_ms(r['rtt_p95_ms'])}</td><td class=num>{fmt_ms(r['isl_hops_median'])}</td></tr>"
        for r in summ
    )
    out = f"<table><thead>{head}</thead><tbody>{body}</tbody></table>"
    levels = ", ".join(f"{x:.2f}" for x in _LEVELS)
    rows = _query(
        results,
        f"SELECT network::VARCHAR, quantile_cont(2.0 * one_way_ms, [{levels}]) FROM acc "
        "WHERE one_way_ms IS NOT NULL GROUP BY 1",
    )
    got = {str(n): [float(v) for v in q] for n, q in rows}  # type: ignore[attr-defined]
    curves = {n: got[n] for n in nets if n in got}
    out += figures.img_html(
        rtt_cdf_figure(curves),
        "terminal to PoP RTT CDF",
        "Terminal -> PoP round trip over every served terminal-snapshot, per network: propagation over the user "
        "link, the lasers, the gateway link and the fibre, plus the named fixed delays (README, 'Access').",
    )
    pops = _query(
        results,
        "SELECT network::VARCHAR, pop::VARCHAR, count(DISTINCT terminal), count(*), "
        "quantile_cont(2.0 * one_way_ms, 0.5) FROM acc WHERE one_way_ms IS NOT NULL "
        "GROUP BY 1, 2 ORDER BY 1, 4 DESC",
    )
    head = "<tr><th>network</th><th>PoP</th><th>terminals</th><th>terminal-snapshots</th>"
    head += "<th>median RTT ms</th></tr>"
    body = "".join(
        f"<tr><td class=name>{escape(str(n))}</td><td class=name>{escape(str(p))}</td><td class=num>{t}</td>"
        f"<td class=num>{c:,}</td><td class=num>{fmt_ms(m)}</td></tr>"
        for n, p, t, c, m in pops
    )
    out += f"<h3>Served through each PoP</h3><table><thead>{head}</thead><tbody>{body}</tbody></table>"
    return [("Access to PoPs", out)]
