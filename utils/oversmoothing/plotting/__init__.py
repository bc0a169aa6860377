"""One plotting style for the whole book and the figures it draws again and again.

- :mod:`~oversmoothing.plotting.style`: the style and the colour of each regime (:data:`REGIME_COLORS`);
- :mod:`~oversmoothing.plotting.curves`: per-layer metric curves and repeated runs;
- :mod:`~oversmoothing.plotting.complex_plane`: eigenvalues in the complex plane;
- :mod:`~oversmoothing.plotting.audit`: the figures of an audit (:mod:`oversmoothing.audit`);
- :mod:`~oversmoothing.plotting.schematic`: a pre-LN and a post-LN Transformer block, drawn as a diagram;
- :mod:`~oversmoothing.plotting.layer_spectrum`: the eigenvalues of a residual layer against the unit circle;
- :mod:`~oversmoothing.plotting.head_view`: one attention head of a model, its spectrum and its prediction;
- :mod:`~oversmoothing.plotting.static_explorer`: explorers that run live in a notebook and without a kernel in the page.

Every name is importable from ``oversmoothing.plotting``.
"""

from .audit import audit_figures, audit_prediction_figure, audit_spectrum_figure, save_audit_figures
from .complex_plane import as_complex, complex_plane, plot_circle, plot_eigenvalues, scatter_complex
from .curves import LOG_SCALE_METRICS, plot_layer_metric_runs, plot_layer_metrics, plot_runs
from .head_view import head_view_figure
from .layer_spectrum import plot_layer_spectrum
from .schematic import draw_block_schematic, plot_block_schematic
from .static_explorer import Control, static_explorer
from .style import BOOK_STYLE, EXTRA_COLORS, MAX_FIGURE_WIDTH, MIN_FONT_SIZE, REGIME_COLORS, color_for, fitted_width, use_book_style

__all__ = [
    "BOOK_STYLE",
    "Control",
    "EXTRA_COLORS",
    "LOG_SCALE_METRICS",
    "MAX_FIGURE_WIDTH",
    "MIN_FONT_SIZE",
    "REGIME_COLORS",
    "as_complex",
    "audit_figures",
    "audit_prediction_figure",
    "audit_spectrum_figure",
    "color_for",
    "complex_plane",
    "draw_block_schematic",
    "fitted_width",
    "head_view_figure",
    "plot_block_schematic",
    "plot_circle",
    "plot_eigenvalues",
    "plot_layer_metric_runs",
    "plot_layer_metrics",
    "plot_layer_spectrum",
    "plot_runs",
    "save_audit_figures",
    "scatter_complex",
    "static_explorer",
    "use_book_style",
]
