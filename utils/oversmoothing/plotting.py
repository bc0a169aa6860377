"""One plotting style for the whole book, helpers for per-layer metric curves and eigenvalues, and the
figures of an audit (:mod:`oversmoothing.audit`).

Figures have a white background (readable in the book's dark mode too) and each regime keeps
one colour in every chapter: :data:`REGIME_COLORS`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ._validation import check_choice
from .metrics import METRICS
from .runtime import torch_threads

if TYPE_CHECKING:  # for annotations only; neither module imports this one
    from .adapters import LayerWeights
    from .audit import AuditReport

REGIME_COLORS: dict[str, str] = {
    "smoothing": "#d55e00",  # vermillion
    "sharpening": "#0072b2",  # blue
    "baseline": "#4d4d4d",  # grey
    "neither": "#009e73",  # green
}
"""The colour of each regime, the same in every figure of the book (Okabe-Ito palette)."""

EXTRA_COLORS: tuple[str, ...] = ("#cc79a7", "#e69f00", "#56b4e9", "#000000")
"""Colours for curves that are not a regime, in order."""

LOG_SCALE_METRICS = frozenset({"hc_dc_ratio", "consensus_distance", "rank_one_residual", "sigma_ratio"})

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
    "axes.prop_cycle": mpl.cycler(color=list(REGIME_COLORS.values()) + list(EXTRA_COLORS)),
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


def _metric_axes(metrics: Sequence[str], axes: Sequence[Axes] | None) -> list[Axes]:
    """One panel per metric: ``axes`` checked, or a new row of panels."""
    if axes is None:
        _, created = plt.subplots(1, len(metrics), figsize=(3.3 * len(metrics), 3.0), squeeze=False,
                                  layout="constrained")
        return list(created[0])
    if len(axes) != len(metrics):
        raise ValueError(f"axes must have one entry per metric ({len(metrics)}), got {len(axes)}")
    return list(axes)


def _label_metric_axis(ax: Axes, metric: str, log_scale: bool | None) -> None:
    """Axis labels of a per-layer panel; a log y-axis when asked, or by default for metrics that decay to zero."""
    ax.set_xlabel("layer")
    ax.set_ylabel(METRICS[metric])
    if log_scale if log_scale is not None else metric in LOG_SCALE_METRICS:
        ax.set_yscale("log")


def plot_layer_metrics(
    tables: Mapping[str, pd.DataFrame],
    metrics: Sequence[str] = ("mean_cosine", "hc_dc_ratio", "rank_one_residual"),
    axes: Sequence[Axes] | None = None,
    log_scale: bool | None = None,
) -> Figure:
    """Per-layer curves of several metrics, one panel per metric, one line per model.

    Args:
        tables: ``{label: table}`` with tables from :func:`oversmoothing.metrics.layer_metrics`.
            A label that names a regime (``"smoothing"``, ``"sharpening"``, ``"baseline"``)
            gets that regime's colour.
        metrics: column names (keys of :data:`oversmoothing.metrics.METRICS`), one panel each.
        axes: existing axes to draw on, one per metric; new ones are made when ``None``.
        log_scale: log y-axis; by default on for metrics that decay to zero.

    Returns:
        The figure.
    """
    if not tables:
        raise ValueError("tables must hold at least one table")
    for metric in metrics:
        check_choice(metric, "metrics", METRICS)
    axes = _metric_axes(metrics, axes)
    for ax, metric in zip(axes, metrics):
        for index, (label, table) in enumerate(tables.items()):
            if metric not in table.columns:
                raise ValueError(f"table {label!r} has no column {metric!r}")
            ax.plot(table["layer"], table[metric], label=label, color=color_for(label, index))
        _label_metric_axis(ax, metric, log_scale)
    axes[0].legend()
    return axes[0].figure


def plot_layer_metric_runs(
    table: pd.DataFrame,
    metrics: Sequence[str] = ("mean_cosine", "hc_dc_ratio"),
    group: str = "regime",
    run: str = "seed",
    axes: Sequence[Axes] | None = None,
    log_scale: bool | None = None,
) -> Figure:
    """Per-layer curves of repeated runs: a thin line per run and a thick line for each group's mean.

    Args:
        table: a long table with columns ``layer``, ``group``, ``run`` and the metrics, one row per
            group, run and layer (for instance :func:`oversmoothing.metrics.layer_metrics` tables of
            several trained models, concatenated). A group that names a regime gets its colour.
        metrics: column names (keys of :data:`oversmoothing.metrics.METRICS`), one panel each.
        group: the column whose values are compared (one colour each).
        run: the column that tells repeated runs of a group apart (e.g. the seed).
        axes: existing axes to draw on, one per metric; new ones are made when ``None``.
        log_scale: log y-axis; by default on for metrics that decay to zero.

    Returns:
        The figure; the legend names each group and its number of runs.
    """
    for metric in metrics:
        check_choice(metric, "metrics", METRICS)
    missing = [column for column in ("layer", group, run, *metrics) if column not in table.columns]
    if missing or table.empty:
        raise ValueError(f"table must be non-empty with columns 'layer', {group!r}, {run!r} and the metrics; "
                         f"missing {missing}")
    axes = _metric_axes(metrics, axes)
    for ax, metric in zip(axes, metrics):
        for index, (name, rows) in enumerate(table.groupby(group, sort=False)):
            color = color_for(str(name), index)
            for _, single in rows.groupby(run, sort=False):
                ax.plot(single["layer"], single[metric], color=color, linewidth=0.8, alpha=0.45)
            mean = rows.groupby("layer")[metric].mean()
            ax.plot(mean.index, mean.to_numpy(), color=color, linewidth=2.2,
                    label=f"{name} ({rows[run].nunique()} runs)")
        _label_metric_axis(ax, metric, log_scale)
    axes[0].legend()
    return axes[0].figure


def plot_runs(
    table: pd.DataFrame,
    x: str,
    y: str,
    group: str = "label",
    run: str = "seed",
    ax: Axes | None = None,
) -> Axes:
    """Repeated runs against any variable: a thin line per run and a thick line with markers for each group's mean.

    Args:
        table: a long table with columns ``x``, ``y``, ``group`` and ``run``, one row per group, run and
            value of ``x`` (for instance test accuracy against depth, one row per trained model).
        x, y: the columns on the axes.
        group: the column whose values are compared (one colour each; a regime name gets its colour).
        run: the column that tells repeated runs of a group apart (e.g. the seed).
        ax: the axes to draw on; a new figure is made when ``None``.

    Returns:
        The axes; the legend names each group and its number of runs.
    """
    missing = [column for column in (x, y, group, run) if column not in table.columns]
    if missing or table.empty:
        raise ValueError(f"table must be non-empty with columns {x!r}, {y!r}, {group!r} and {run!r}; missing {missing}")
    if ax is None:
        _, ax = plt.subplots(figsize=(4.2, 3.0), layout="constrained")
    for index, (name, rows) in enumerate(table.groupby(group, sort=False)):
        color = color_for(str(name), index)
        runs = rows.groupby(run, sort=False)
        if runs.ngroups > 1:
            for _, single in runs:
                ordered = single.sort_values(x)
                ax.plot(ordered[x], ordered[y], color=color, linewidth=0.8, alpha=0.45)
        mean = rows.groupby(x)[y].mean()
        ax.plot(mean.index, mean.to_numpy(), color=color, linewidth=2.2, marker="o", markersize=4,
                label=f"{name} ({runs.ngroups} run{'s' if runs.ngroups > 1 else ''})")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    return ax


# ------------------------------------------------------------------------------------- eigenvalues


def plot_eigenvalues(
    eigenvalues: Sequence[torch.Tensor | np.ndarray],
    titles: Sequence[str] | None = None,
    columns: int = 6,
    color: str = EXTRA_COLORS[2],
    xlabel: str = r"Re $\lambda$",
    ylabel: str = r"Im $\lambda$",
) -> Figure:
    """Eigenvalues in the complex plane, one panel per set (shared axes), with the real and imaginary axes drawn.

    Args:
        eigenvalues: one complex (or real) tensor or array of shape ``(k,)`` per panel.
        titles: a title per panel.
        columns: panels per row at most.
        color: the colour of the dots.
        xlabel, ylabel: the labels of the figure's axes.

    Returns:
        The figure.

    Raises:
        ValueError: no set of eigenvalues, a set that is not one-dimensional, or as many titles as sets.
    """
    sets = [np.asarray(e.detach().cpu() if isinstance(e, torch.Tensor) else e).astype(complex) for e in eigenvalues]
    if not sets or any(values.ndim != 1 for values in sets):
        raise ValueError("eigenvalues must be a non-empty sequence of one-dimensional sets")
    if titles is not None and len(titles) != len(sets):
        raise ValueError(f"titles must name each of the {len(sets)} sets, got {len(titles)}")
    columns = min(len(sets), columns)
    rows = math.ceil(len(sets) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(1.9 * columns, 2.0 * rows + 0.3), squeeze=False,
                             layout="constrained", sharex=True, sharey=True)
    for index, (ax, values) in enumerate(zip(axes.flat, sets)):
        ax.scatter(values.real, values.imag, s=4, color=color)
        ax.axvline(0, color="black", linewidth=0.6)
        ax.axhline(0, color="black", linewidth=0.6)
        if titles is not None:
            ax.set_title(titles[index], fontsize=9)
    for ax in axes.flat[len(sets):]:
        ax.set_visible(False)
    fig.supxlabel(xlabel)
    fig.supylabel(ylabel)
    return fig


# ------------------------------------------------------------------------------ the audit's figures


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
    axes[0].legend(loc="upper center", ncol=2, fontsize=7)
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
