"""The book's plotting style and the per-layer metric plot."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
import torch

import oversmoothing as ovs
from oversmoothing.plotting import REGIME_COLORS, plot_layer_metrics, use_book_style


@pytest.fixture
def tables():
    ovs.seed_everything(0)
    states = torch.randn(4, 6, 5, dtype=torch.float64)
    return {"smoothing": ovs.layer_metrics(states), "custom": ovs.layer_metrics(2 * states)}


def test_style_has_white_background():
    use_book_style()
    assert matplotlib.rcParams["figure.facecolor"] == "white"
    assert matplotlib.rcParams["savefig.facecolor"] == "white"


def test_regime_colours_are_distinct():
    assert len(set(REGIME_COLORS.values())) == len(REGIME_COLORS)


def test_plot_layer_metrics_draws_one_line_per_table_and_regime_colour(tables):
    fig = plot_layer_metrics(tables, metrics=["mean_cosine", "effective_rank"])
    axes = fig.axes
    assert len(axes) == 2
    lines = axes[0].get_lines()
    assert [line.get_label() for line in lines] == ["smoothing", "custom"]
    assert matplotlib.colors.to_hex(lines[0].get_color()) == REGIME_COLORS["smoothing"]
    assert list(lines[0].get_xdata()) == [0, 1, 2, 3]
    plt.close(fig)


def test_plot_layer_metrics_rejects_bad_arguments(tables):
    with pytest.raises(ValueError, match="metrics"):
        plot_layer_metrics(tables, metrics=["cosine"])
    with pytest.raises(ValueError, match="tables"):
        plot_layer_metrics({})
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="axes"):
        plot_layer_metrics(tables, metrics=["mean_cosine", "hc_dc_ratio"], axes=[ax])
    plt.close("all")
