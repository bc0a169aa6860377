"""Per-layer metric curves and repeated runs: one panel per metric, one colour per model or group."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .._validation import check_choice
from ..metrics import METRICS
from .style import color_for, fitted_width

LOG_SCALE_METRICS = frozenset({"hc_dc_ratio", "consensus_distance", "rank_one_residual", "sigma_ratio"})
"""Metrics drawn on a log y-axis by default: they decay to zero."""


def _metric_axes(metrics: Sequence[str], axes: Sequence[Axes] | None) -> list[Axes]:
    """One panel per metric: ``axes`` checked, or a new row of panels."""
    if axes is None:
        _, created = plt.subplots(1, len(metrics), figsize=(fitted_width(3.3 * len(metrics)), 3.0), squeeze=False,
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
    limits: Mapping[str, tuple[float, float]] | None = None,
) -> Figure:
    """Per-layer curves of several metrics, one panel per metric, one line per model.

    Args:
        tables: ``{label: table}`` with tables from :func:`oversmoothing.metrics.layer_metrics`.
            A label that names a regime (``"smoothing"``, ``"sharpening"``, ``"baseline"``)
            gets that regime's colour.
        metrics: column names (keys of :data:`oversmoothing.metrics.METRICS`), one panel each.
        axes: existing axes to draw on, one per metric; new ones are made when ``None``.
        log_scale: log y-axis; by default on for metrics that decay to zero.
        limits: ``{metric: (bottom, top)}``, fixed y-ranges for some of the panels (so that settings of an
            explorer can be compared); matplotlib's choice for the others.

    Returns:
        The figure.
    """
    if not tables:
        raise ValueError("tables must hold at least one table")
    for metric in metrics:
        check_choice(metric, "metrics", METRICS)
    limits = dict(limits or {})
    for metric in limits:
        check_choice(metric, "limits", metrics)
    axes = _metric_axes(metrics, axes)
    for ax, metric in zip(axes, metrics):
        for index, (label, table) in enumerate(tables.items()):
            if metric not in table.columns:
                raise ValueError(f"table {label!r} has no column {metric!r}")
            ax.plot(table["layer"], table[metric], label=label, color=color_for(label, index))
        _label_metric_axis(ax, metric, log_scale)
        if metric in limits:
            ax.set_ylim(limits[metric])
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
