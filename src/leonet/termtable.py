"""Tables for the terminal that stay readable at any width: names and numbers are never wrapped or truncated.

:func:`show_table` tries, in order, and prints the first layout that fits the console: the table as is; with its
headers wrapped to their columns' widths; transposed (a few rows only: one column per row, keyed by the row's
first cell); the same without the ``optional`` columns (a note says which were left out); else one block per row
(``key: value`` lines), which fits any width.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Literal

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

#: "name": never wrapped or truncated; "num": the same, right-aligned; "text": prose, wraps at spaces
Kind = Literal["name", "num", "text"]
#: a column: (header, kind)
Column = tuple[str, Kind]
Layout = tuple[list[Column], list[list[str]]]

#: the gap between two columns (box.SIMPLE_HEAD with collapsed padding)
GAP = 2
#: the narrowest a prose column is assumed to get
MIN_TEXT = 12
#: at most this many rows are transposed into columns
MAX_TURNED = 6


def table_width(cols: Sequence[Column], rows: Sequence[Sequence[str]]) -> int:
    """Width of the table with every name and number whole and prose wrapped at spaces."""
    total = GAP * (len(cols) - 1)
    for i, (head, kind) in enumerate(cols):
        cells = [r[i] for r in rows]
        if kind == "text":
            total += max([MIN_TEXT] + [cell_len(word) for c in [*cells, head] for word in c.split()])
        else:
            total += max(cell_len(x) for x in [*cells, *head.split("\n")])
    return total


def layouts(cols: Sequence[Column], rows: Sequence[Sequence[str]]) -> list[Layout]:
    """The table as is, with wrapped headers, and (for a few rows without prose) transposed."""
    body = [list(r) for r in rows]

    def wrap(i: int, head: str) -> str:  # the header wrapped to its column's width (never narrower than a word)
        width = max([cell_len(r[i]) for r in body] + [cell_len(w) for w in head.split()])
        return "\n".join(textwrap.wrap(head, width=width, break_long_words=False)) or head

    out: list[Layout] = [(list(cols), body), ([(wrap(i, h), k) for i, (h, k) in enumerate(cols)], body)]
    if 0 < len(body) <= MAX_TURNED and all(k != "text" for _, k in cols[1:]):
        turned: list[Column] = [(cols[0][0], "name")]
        turned += [(r[0], "num") for r in body]
        out.append((turned, [[h] + [r[i] for r in body] for i, (h, _) in enumerate(cols) if i > 0]))
    return out


def render(title: str | None, cols: Sequence[Column], rows: Sequence[Sequence[str]]) -> Table:
    t = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
              collapse_padding=True)  # fmt: skip
    for head, kind in cols:
        t.add_column(head, justify="right" if kind == "num" else "left", no_wrap=kind != "text", overflow="fold")
    for r in rows:
        t.add_row(*(Text(c) for c in r))
    return t


def show_table(out: Console, title: str | None, columns: Sequence[Column], rows: Sequence[Sequence[str]],
               optional: Sequence[int] = ()) -> None:  # fmt: skip
    """Print ``rows`` under ``columns`` on ``out`` in the first layout that fits its width (module docstring)."""
    full = layouts(columns, rows)
    keep = [i for i in range(len(columns)) if i not in optional]
    narrow = layouts([columns[i] for i in keep], [[r[i] for i in keep] for r in rows]) if optional else []
    for k, (cols, body) in enumerate(full + narrow):
        if not rows or table_width(cols, body) <= out.width:
            out.print(render(title, cols, body))
            if k >= len(full):
                left_out = ", ".join(columns[i][0] for i in optional)
                out.print(f"({left_out} left out to fit {out.width} columns; a wider terminal shows them)",
                          highlight=False, soft_wrap=True)  # fmt: skip
            return
    if title:
        out.print(Text(title, style="italic"))
    for r in rows:
        out.print(Text(r[0], style="bold"), soft_wrap=True)
        for (head, _), cell in zip(columns[1:], r[1:], strict=True):
            if cell:
                out.print(Text(f"  {head}: {cell}"), soft_wrap=True)
