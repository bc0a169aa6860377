"""The book's plotting style: a white background (readable in the book's dark mode too) and one colour per
regime in every chapter (:data:`REGIME_COLORS`)."""

from __future__ import annotations

import matplotlib as mpl

REGIME_COLORS: dict[str, str] = {
    "smoothing": "#d55e00",  # vermillion
    "sharpening": "#0072b2",  # blue
    "baseline": "#4d4d4d",  # grey
    "neither": "#009e73",  # green
}
"""The colour of each regime, the same in every figure of the book (Okabe-Ito palette)."""

EXTRA_COLORS: tuple[str, ...] = ("#cc79a7", "#e69f00", "#999933", "#882255")
"""Colours for curves that are not a regime, in order: reddish purple, orange, olive, wine. None shares a hue with
a regime colour (sky blue would pass for the sharpening blue, black for the baseline grey)."""

MAX_FIGURE_WIDTH: float = 10.5
"""Inches. The book's column is about 760 px wide at 1,400 px; a figure of this width at the style's 110 dpi is
shown at no less than about two thirds of its pixels, so its 10-point text stays above 9 px. The page checks
(``tests/book/test_html.py``) fail on a figure shown below 60 % of its width."""


MIN_FONT_SIZE: float = 8.0
"""Points: the smallest text a figure of the book sets (legends, tick labels, annotations). With
:data:`MAX_FIGURE_WIDTH` it keeps text at about 8 px or more on the page; a test scans the chapters and the
plotting code for smaller sizes."""


def fitted_width(width: float) -> float:
    """``width`` (inches) capped at :data:`MAX_FIGURE_WIDTH`: many panels get narrower rather than the text smaller."""
    return min(width, MAX_FIGURE_WIDTH)


BOOK_STYLE: dict[str, object] = {
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "figure.dpi": 110,
    "figure.figsize": (6.4, 3.6),
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": mpl.cycler(color=list(EXTRA_COLORS)),      # regime colours only where a regime is named
    "font.size": 10,
    "legend.frameon": False,
    "lines.linewidth": 1.8,
}


def use_book_style() -> None:
    """Apply the book's matplotlib style to every later figure."""
    mpl.rcParams.update(BOOK_STYLE)


def color_for(label: str, index: int = 0) -> str:
    """The regime colour when ``label`` names a regime (case-insensitive), else the ``index``-th extra colour."""
    return REGIME_COLORS.get(label.lower(), EXTRA_COLORS[index % len(EXTRA_COLORS)])
