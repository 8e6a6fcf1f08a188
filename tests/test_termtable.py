"""Terminal tables (leonet.termtable): names never cut, whatever the width; each fallback layout in its turn."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console

from leonet.termtable import Column, layouts, show_table, table_width

LONG = "starlink-550-no-policy"
COLS: list[Column] = [("network", "name"), ("median RTT ms", "num"), ("p95 RTT ms", "num"), ("path changes", "num")]
ROWS = [[LONG, "25.35", "57.88", "902"], ["national-leo", "29.32", "59.77", "481"]]


def shown(width: int, cols: Sequence[Column] = COLS, rows: Sequence[Sequence[str]] = ROWS, **kw: object) -> str:
    c = Console(width=width, record=True, color_system=None)
    show_table(c, "T", cols, rows, **kw)  # type: ignore[arg-type]
    return c.export_text()


def test_width_is_what_rich_prints() -> None:
    out = shown(200)
    assert max(len(line.rstrip()) for line in out.splitlines()) == table_width(COLS, ROWS)


def test_layouts_in_turn_and_names_whole() -> None:
    wide = table_width(COLS, ROWS)
    assert "median RTT ms" in shown(wide)  # as is
    stacked = shown(wide - 1)
    assert "median RTT ms" not in stacked and "median" in stacked and LONG in stacked
    # many metrics, two rows: transposed is narrower than the stacked table
    many: list[Column] = [("network", "name")] + [(f"metric {k} ms", "num") for k in range(8)]
    two = [[LONG] + ["12.34"] * 8, ["national-leo"] + ["5.67"] * 8]
    (_, _), (c2, b2), (c3, b3) = layouts(many, two)
    assert table_width(c3, b3) < table_width(c2, b2)
    turned = shown(table_width(c3, b3), many, two)
    assert turned.splitlines()[1].split() == ["network", LONG, "national-leo"]
    assert "metric 7 ms" in turned and "5.67" in turned
    for out in (shown(wide), stacked, shown(20), shown(10)):
        assert LONG in out and "national-leo" in out and "…" not in out
        assert "902" in out and "57.88" in out
    blocks = shown(20)
    assert f"{LONG}\n" in blocks and "  p95 RTT ms: 57.88" in blocks


def test_optional_columns_go_before_blocks() -> None:
    rows = [[str(i), f"{LONG}-{i}", "37.1234", "139.6917"] for i in range(10)]
    cols: list[Column] = [("rank", "num"), ("name", "name"), ("lat deg", "num"), ("lon deg", "num")]
    out = shown(40, cols, rows, optional=(2, 3))
    assert "lat deg, lon deg left out to fit 40 columns" in out
    assert all(f"{LONG}-{i}" in out for i in range(10)) and "139.6917" not in out
    assert "139.6917" in shown(80, cols, rows, optional=(2, 3))


def test_prose_wraps_but_names_do_not() -> None:
    cols: list[Column] = [("name", "name"), ("description", "text")]
    rows = [[LONG, "a long description that has to wrap over several lines at forty columns"]]
    out = shown(40, cols, rows)
    assert LONG in out and "description" in out and len(out.splitlines()) > 3
