"""The book's plotting style and the per-layer metric plot."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import torch

import oversmoothing as ovs
from oversmoothing.plotting import REGIME_COLORS, plot_layer_metric_runs, plot_layer_metrics, use_book_style


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


def _runs_table():
    ovs.seed_everything(1)
    frames = []
    for regime in ("smoothing", "sharpening"):
        for seed in (0, 1, 2):
            table = ovs.layer_metrics(torch.randn(4, 6, 5, dtype=torch.float64) + (seed if regime == "smoothing" else 0))
            frames.append(table.assign(regime=regime, seed=seed))
    return pd.concat(frames, ignore_index=True)


def test_plot_layer_metric_runs_draws_runs_and_group_means():
    table = _runs_table()
    fig = plot_layer_metric_runs(table, metrics=["mean_cosine", "hc_dc_ratio"])
    lines = fig.axes[0].get_lines()
    assert len(lines) == 2 * (3 + 1)                                    # three runs and a mean per regime
    means = [line for line in lines if not line.get_label().startswith("_")]
    assert [line.get_label() for line in means] == ["smoothing (3 runs)", "sharpening (3 runs)"]
    assert matplotlib.colors.to_hex(means[1].get_color()) == REGIME_COLORS["sharpening"]
    expected = table[table.regime == "smoothing"].groupby("layer")["mean_cosine"].mean().to_numpy()
    np.testing.assert_allclose(means[0].get_ydata(), expected)
    assert fig.axes[1].get_yscale() == "log"
    plt.close(fig)


def test_plot_layer_metric_runs_rejects_bad_arguments():
    table = _runs_table()
    with pytest.raises(ValueError, match="missing"):
        plot_layer_metric_runs(table.drop(columns="seed"))
    with pytest.raises(ValueError, match="metrics"):
        plot_layer_metric_runs(table, metrics=["cosine"])
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="axes"):
        plot_layer_metric_runs(table, axes=[ax])
    plt.close("all")


def test_plot_runs_draws_runs_and_group_means_against_any_column():
    from oversmoothing.plotting import plot_runs

    table = pd.DataFrame([{"label": label, "seed": seed, "depth": depth, "accuracy": 0.1 * depth + seed + offset}
                          for label, offset in (("sharpening", 0.0), ("AttnScale", 5.0))
                          for seed in (0, 1) for depth in (6, 2, 4)])
    single = table[(table.label == "AttnScale") & (table.seed == 0)]
    ax = plot_runs(pd.concat([table[table.label == "sharpening"], single]), x="depth", y="accuracy")
    lines = ax.get_lines()
    assert len(lines) == 2 + 1 + 1                      # two runs and a mean; one run is only its mean
    means = [line for line in lines if not line.get_label().startswith("_")]
    assert [line.get_label() for line in means] == ["sharpening (2 runs)", "AttnScale (1 run)"]
    assert matplotlib.colors.to_hex(means[0].get_color()) == REGIME_COLORS["sharpening"]
    assert list(means[0].get_xdata()) == [2, 4, 6]
    np.testing.assert_allclose(means[0].get_ydata(), [0.7, 0.9, 1.1])
    np.testing.assert_allclose(lines[0].get_ydata(), [0.2, 0.4, 0.6])   # a run, sorted by x
    assert ax.get_xlabel() == "depth" and ax.get_ylabel() == "accuracy"
    with pytest.raises(ValueError, match="missing"):
        plot_runs(table, x="fraction", y="accuracy")
    plt.close("all")


def test_plot_eigenvalues_draws_one_panel_per_set():
    from oversmoothing.plotting import plot_eigenvalues

    sets = [torch.tensor([1 + 2j, 1 - 2j, -0.5 + 0j]), np.array([0.3, -0.7]), torch.tensor([2.0])]
    fig = plot_eigenvalues(sets, titles=["a", "b", "c"], columns=2)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 3 and [ax.get_title() for ax in visible] == ["a", "b", "c"]
    offsets = visible[0].collections[0].get_offsets()
    assert sorted(map(tuple, np.asarray(offsets).round(6))) == [(-0.5, 0.0), (1.0, -2.0), (1.0, 2.0)]
    plt.close(fig)
    with pytest.raises(ValueError, match="non-empty"):
        plot_eigenvalues([])
    with pytest.raises(ValueError, match="titles"):
        plot_eigenvalues(sets, titles=["a"])
    with pytest.raises(ValueError, match="one-dimensional"):
        plot_eigenvalues([np.zeros((2, 2))])
    with pytest.raises(ValueError, match="one colour or one per set"):
        plot_eigenvalues(sets, color=["red", "blue"])
    fig = plot_eigenvalues(sets, color=["red", "green", "blue"])
    assert [matplotlib.colors.to_hex(ax.collections[0].get_facecolor()[0]) for ax in fig.axes[:3]] == \
        ["#ff0000", "#008000", "#0000ff"]
    plt.close(fig)


def test_complex_plane_helpers_place_points_and_circles():
    from oversmoothing.plotting import as_complex, complex_plane, plot_circle, scatter_complex

    fig, ax = plt.subplots()
    assert complex_plane(ax, title="spectrum", circle=2.0, xlim=(-3, 3)) is ax
    assert ax.get_title() == "spectrum" and ax.get_xlim() == (-3, 3) and ax.get_aspect() == 1.0
    radius = np.hypot(*ax.get_lines()[-1].get_data())                # the dashed circle about 0
    np.testing.assert_allclose(radius, 2.0)
    points = scatter_complex(ax, torch.tensor([[1 + 2j, -1j]]))     # any shape, flattened
    np.testing.assert_allclose(points.get_offsets(), [[1, 2], [0, -1]])
    plot_circle(ax, center=-1.5, radius=0.5, upper_half=True, color="k")
    x, y = ax.get_lines()[-1].get_data()
    np.testing.assert_allclose(np.hypot(x + 1.5, y), 0.5)
    assert y.min() >= 0 and np.isclose(x.min(), -2.0) and np.isclose(x.max(), -1.0)
    plt.close(fig)
    with pytest.raises(ValueError, match="radius"):
        plot_circle(ax, radius=-1.0)
    with pytest.raises(ValueError, match="finite"):
        as_complex(torch.tensor([1.0, float("nan")]))
    with pytest.raises(TypeError, match="numbers"):
        as_complex(np.array(["a"]))


def test_plot_layer_metrics_fixes_the_given_limits():
    table = pd.DataFrame({"layer": [0, 1, 2], "mean_cosine": [0.1, 0.5, 0.9], "hc_dc_ratio": [1.0, 0.1, 0.01]})
    fig = plot_layer_metrics({"smoothing": table}, metrics=["mean_cosine", "hc_dc_ratio"],
                             limits={"mean_cosine": (-0.1, 1.05)})
    assert fig.axes[0].get_ylim() == (-0.1, 1.05)
    with pytest.raises(ValueError, match="limits"):
        plot_layer_metrics({"smoothing": table}, metrics=["mean_cosine"], limits={"hc_dc_ratio": (0, 1)})
    plt.close("all")


def test_ordinary_lines_never_take_a_regime_colour():
    from oversmoothing.plotting import BOOK_STYLE, EXTRA_COLORS

    cycle = [matplotlib.colors.to_hex(entry["color"]) for entry in BOOK_STYLE["axes.prop_cycle"]]
    assert cycle == [matplotlib.colors.to_hex(c) for c in EXTRA_COLORS]
    def hsv(color):
        return matplotlib.colors.rgb_to_hsv(matplotlib.colors.to_rgb(color))

    for color in cycle:                      # another hue than every regime colour (or, if grey, another shade)
        hue, saturation, value = hsv(color)
        assert saturation > 0.3, f"{color} is nearly grey, like the baseline"
        for regime in REGIME_COLORS.values():
            other = hsv(regime)
            if other[1] > 0.3:
                assert min(abs(hue - other[0]), 1 - abs(hue - other[0])) > 0.04, (color, regime)
    assert min(abs(hsv("#56b4e9")[0] - hsv(REGIME_COLORS["sharpening"])[0]), 1) < 0.04   # sky blue would fail
    use_book_style()
    fig, ax = plt.subplots()
    lines = [ax.plot([0, 1], [k, k])[0] for k in range(len(cycle))]
    assert [matplotlib.colors.to_hex(line.get_color()) for line in lines] == cycle
    plt.close(fig)


def test_figures_drawn_by_the_package_fit_the_books_column():
    from oversmoothing.plotting import MAX_FIGURE_WIDTH, fitted_width, plot_eigenvalues, plot_layer_metrics

    assert fitted_width(4.0) == 4.0 and fitted_width(30.0) == MAX_FIGURE_WIDTH
    many = plot_eigenvalues([np.array([0.5, -0.5j])] * 8, columns=8)
    table = pd.DataFrame({"layer": [0, 1], "mean_cosine": [0.1, 0.2], "hc_dc_ratio": [1.0, 0.5],
                          "consensus_distance": [1.0, 0.5], "rank_one_residual": [1.0, 0.5]})
    panels = plot_layer_metrics({"model": table}, ["mean_cosine", "hc_dc_ratio", "consensus_distance", "rank_one_residual"])
    for fig in (many, panels):
        assert fig.get_figwidth() <= MAX_FIGURE_WIDTH
        plt.close(fig)


def test_no_figure_text_below_the_minimum_size():
    """Every explicit font size in the chapters and the plotting code is at least MIN_FONT_SIZE points."""
    import re
    from pathlib import Path

    from oversmoothing.plotting import MIN_FONT_SIZE

    root = Path(__file__).resolve().parents[1]
    sources = [*root.glob("chapters/*.md"), *root.glob("book/*.md"), *root.glob("utils/oversmoothing/plotting/*.py")]
    too_small = [f"{path.relative_to(root)}: {m.group(0)}" for path in sources
                 for m in re.finditer(r"""(?:font|label|title)?size\s*=\s*(?:(?P<number>\d+(?:\.\d+)?)\b|["'](?P<word>x+-small)["'])""",
                                      path.read_text(encoding="utf-8"))
                 if m["word"] or (m.group(0).startswith(("fontsize", "labelsize", "titlesize")) and float(m["number"]) < MIN_FONT_SIZE)]
    assert not too_small, f"text smaller than {MIN_FONT_SIZE} pt: {too_small}"
