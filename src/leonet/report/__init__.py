"""The HTML report of a run: :func:`render_html` returns one self-contained page (figures embedded as PNG).

Pure: it returns a string; writing the file is the caller's (the CLI's) business.  Figures are drawn on
matplotlib's Agg canvas without pyplot (see :mod:`leonet.report.figures` for what each one shows).
"""

from __future__ import annotations

from leonet.report.data import PairChoice, choose_pairs
from leonet.report.page import Section, render_html

__all__ = ["PairChoice", "Section", "choose_pairs", "render_html"]
