"""The layer-spectrum plot (oversmoothing.plotting.layer_spectrum): the grid it draws, its colours and its star."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from oversmoothing import generators, spectrum
from oversmoothing.plotting import REGIME_COLORS
from oversmoothing.plotting.layer_spectrum import plot_layer_spectrum


def offsets(collection) -> set[tuple[float, float]]:
    return set(map(tuple, np.asarray(collection.get_offsets()).round(9)))


def test_draws_the_dc_row_and_the_hc_rows_apart_and_stars_the_winner():
    lambda_a = torch.tensor([0.5, 1.0, -0.2], dtype=torch.float64)
    lambda_h = torch.tensor([-0.5, 2.0], dtype=torch.complex128)
    fig, ax = plt.subplots()
    mode = plot_layer_spectrum(ax, lambda_a, lambda_h)
    hc, dc, star = ax.collections
    assert offsets(dc) == {(0.5, 0.0), (3.0, 0.0)}                                  # row of lambda^A = 1
    assert offsets(hc) == {(0.75, 0.0), (2.0, 0.0), (1.1, 0.0), (0.6, 0.0)}        # rows 0.5 and -0.2
    assert offsets(star) == {(3.0, 0.0)} and mode.regime == "smoothing" and bool(mode.is_dc)
    assert matplotlib.colors.to_hex(dc.get_edgecolor()[0]) == REGIME_COLORS["smoothing"]
    assert matplotlib.colors.to_hex(hc.get_edgecolor()[0]) == REGIME_COLORS["sharpening"]
    assert matplotlib.colors.to_hex(star.get_facecolor()[0]) == REGIME_COLORS["smoothing"]
    assert "smoothing" in ax.get_legend().get_texts()[-1].get_text()
    radii = [np.hypot(*line.get_data()).mean() for line in ax.get_lines()[2:]]       # after the two axes lines
    np.testing.assert_allclose(sorted(radii), [1.0, 3.0])                           # unit circle, |mu*|
    plt.close(fig)


def test_a_winner_in_an_hc_row_is_starred_blue_and_agrees_with_dominant_mode():
    generator = torch.Generator().manual_seed(0)
    A = generators.softmax_attention(6, generator=generator)
    H = generators.value_output_from_spectrum(-torch.tensor([0.2, 0.5, 0.9], dtype=torch.float64), generator=generator)
    fig, ax = plt.subplots()
    mode = plot_layer_spectrum(ax, torch.linalg.eigvals(A), torch.linalg.eigvals(H), legend=False, xlim=(-1, 2))
    reference = spectrum.dominant_mode(A, H)
    assert mode.regime == reference.regime == "sharpening" and ax.get_legend() is None
    torch.testing.assert_close(mode.modulus, reference.modulus)
    assert matplotlib.colors.to_hex(ax.collections[-1].get_facecolor()[0]) == REGIME_COLORS["sharpening"]
    assert ax.get_xlim() == (-1, 2) and len(ax.collections[0].get_offsets()) == 5 * 3
    plt.close(fig)


def test_rejects_empty_or_non_finite_spectra():
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="at least one"):
        plot_layer_spectrum(ax, torch.tensor([1.0]), torch.tensor([]))
    with pytest.raises(ValueError, match="finite"):
        plot_layer_spectrum(ax, torch.tensor([1.0, float("inf")]), torch.tensor([0.5]))
    plt.close(fig)
