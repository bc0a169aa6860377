"""The figures of an audit (:mod:`oversmoothing.audit`): the spectra of its blocks and its predictions beside
the measurements."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure

from ..runtime import torch_threads
from .complex_plane import plot_eigenvalues
from .curves import plot_layer_metrics
from .style import MIN_FONT_SIZE, REGIME_COLORS, use_book_style

if TYPE_CHECKING:  # for annotations only; neither module imports this one
    from ..adapters import LayerWeights
    from ..audit import AuditReport


def audit_spectrum_figure(weights: Sequence[LayerWeights]) -> Figure:
    """Eigenvalues of :math:`H = W_V W_O` of every block of an audited model, one panel per block."""
    return plot_eigenvalues([torch.linalg.eigvals(w.value_output.double()) for w in weights],
                            titles=[f"block {w.layer + 1}" for w in weights],
                            xlabel=r"Re $\lambda^H$", ylabel=r"Im $\lambda^H$")


def audit_prediction_figure(report: AuditReport) -> Figure:
    """Predicted regimes per block (per head as stacked bars, head-averaged as black marks) beside the measured
    change of log HC/DC across each attention sub-layer (one dot per input, coloured by its head-averaged
    prediction)."""
    fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.2), layout="constrained")
    dominance = report.dominance
    layers = dominance.layer.to_numpy()
    bottom = np.zeros(len(layers))
    for regime in ("smoothing", "sharpening", "neither"):
        share = dominance[f"{regime}_fraction_per_head"].to_numpy()
        axes[0].bar(layers, share, bottom=bottom, color=REGIME_COLORS[regime], label=f"{regime} (per head)")
        bottom += share
    axes[0].plot(layers, dominance.smoothing_fraction_mean_head, "k_", markersize=22, markeredgewidth=2,
                 label="smoothing (head-averaged A)")
    axes[0].set(xlabel="block", ylabel="fraction predicted", ylim=(0, 1.45), yticks=[0, 0.25, 0.5, 0.75, 1],
                xticks=layers)
    axes[0].legend(loc="upper center", ncol=2, fontsize=MIN_FONT_SIZE)
    for regime in ("smoothing", "sharpening"):
        rows = report.per_input[report.per_input.predicted_regime == regime]
        if rows.empty:
            continue
        axes[1].scatter(rows.layer + (-0.12 if regime == "smoothing" else 0.12), rows.attention_log_hc_dc,
                        s=6, alpha=0.5, color=REGIME_COLORS[regime], label=f"predicted {regime}")
    axes[1].axhline(0, color=REGIME_COLORS["baseline"], linewidth=0.8)
    axes[1].set(xlabel="block", ylabel="measured change of log HC/DC\nacross the attention sub-layer", xticks=layers)
    axes[1].legend(loc="best", fontsize=8)
    return fig


def audit_figures(report: AuditReport, weights: Sequence[LayerWeights] | None = None) -> dict[str, Figure]:
    """The audit's figures: ``layer_metrics`` (per-layer metrics), ``spectrum`` (:func:`audit_spectrum_figure`,
    when ``weights`` are given) and ``prediction`` (:func:`audit_prediction_figure`)."""
    figures = {"layer_metrics": plot_layer_metrics({report.model: report.metrics},
                                                   metrics=("mean_cosine", "hc_dc_ratio", "effective_rank"))}
    if weights is not None:
        figures["spectrum"] = audit_spectrum_figure(weights)
    figures["prediction"] = audit_prediction_figure(report)
    return figures


def save_audit_figures(report: AuditReport, out_dir: str | os.PathLike,
                       weights: Sequence[LayerWeights] | None = None) -> list[Path]:
    """Write :func:`audit_figures` as PNG files into ``out_dir`` (in the book's style); returns the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with mpl.rc_context(), torch_threads(1):
        use_book_style()
        paths = []
        for name, fig in audit_figures(report, weights).items():
            path = out / f"{name}.png"
            fig.savefig(path, dpi=120)
            plt.close(fig)
            paths.append(path)
    return paths
