"""The head view (oversmoothing.plotting.head_view): its heatmap, its two spectra, the starred dominant pair."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from oversmoothing import generators, spectrum
from oversmoothing.plotting import REGIME_COLORS
from oversmoothing.plotting.head_view import head_view_figure


def view(attention, value_output):
    lambda_a, lambda_h = torch.linalg.eigvals(attention), torch.linalg.eigvals(value_output)
    return lambda_a, lambda_h, spectrum.dominant_mode_from_spectra(lambda_a, lambda_h, spectrum.perron_index(lambda_a))


def star_of(ax):
    star = ax.collections[-1]
    return tuple(np.asarray(star.get_offsets())[0].round(9)), matplotlib.colors.to_hex(star.get_facecolor()[0])


def test_smoothing_head_shows_its_map_its_spectra_and_a_vermillion_star_on_the_perron_eigenvalue():
    A = torch.tensor([[0.75, 0.25], [0.25, 0.75]], dtype=torch.float64)            # eigenvalues 1 and 1/2
    H = torch.diag(torch.tensor([0.2, -1.8], dtype=torch.float64))                 # DC wins: 1.2 against 1.1
    lambda_a, lambda_h, mode = view(A, H)
    fig = head_view_figure(A, lambda_a, lambda_h, mode, tokens=["[CLS]", "cat"], title="block 1, head 2")
    heatmap, plane_a, plane_h = fig.axes[:3]
    np.testing.assert_allclose(heatmap.images[0].get_array(), A.numpy())
    assert heatmap.images[0].get_clim() == (0.0, 1.0)
    assert [label.get_text() for label in heatmap.get_xticklabels()] == ["[CLS]", "cat"]
    assert star_of(plane_a) == ((1.0, 0.0), REGIME_COLORS["smoothing"])             # the Perron eigenvalue
    assert star_of(plane_h) == ((0.2, 0.0), REGIME_COLORS["smoothing"])
    assert {tuple(p) for p in np.asarray(plane_h.collections[0].get_offsets()).round(9)} == {(0.2, 0.0), (-1.8, 0.0)}
    assert plane_h.get_xlim() == pytest.approx((-1.98, 1.98))                       # 1.1 max |lambda^H|
    title = fig.get_suptitle()
    assert title.startswith("block 1, head 2: predicted smoothing") and "DC mode" in title
    assert f"$M_{{HC}}/M_{{DC}}$ = {1.1 / 1.2:.3f}" in title
    plt.close(fig)


def test_sharpening_head_is_starred_blue_in_an_hc_row():
    generator = torch.Generator().manual_seed(0)
    A = generators.softmax_attention(6, generator=generator)
    H = generators.value_output_from_spectrum(-torch.tensor([0.2, 0.5, 0.9], dtype=torch.float64), generator=generator)
    lambda_a, lambda_h, mode = view(A, H)
    assert mode.regime == "sharpening"
    fig = head_view_figure(A, lambda_a, lambda_h, mode, value_limit=3.0)
    heatmap, plane_a, plane_h = fig.axes[:3]
    position, color = star_of(plane_a)
    assert color == REGIME_COLORS["sharpening"] and abs(complex(*position) - 1) > 1e-6   # not the Perron eigenvalue
    assert star_of(plane_h)[0] == pytest.approx((-0.9, 0.0))                            # the HC winner: the largest |lambda^H|
    assert plane_h.get_xlim() == (-3.0, 3.0)
    assert [label.get_text() for label in heatmap.get_yticklabels()] == [str(k) for k in range(1, 7)]
    assert "predicted sharpening" in fig.get_suptitle() and "HC mode" in fig.get_suptitle()
    plt.close(fig)


def test_rejects_inputs_that_do_not_fit_together():
    A = torch.tensor([[0.75, 0.25], [0.25, 0.75]], dtype=torch.float64)
    H = torch.eye(3, dtype=torch.float64)
    lambda_a, lambda_h, mode = view(A, H)
    with pytest.raises(ValueError, match="shape"):
        head_view_figure(A[:1], lambda_a, lambda_h, mode)
    with pytest.raises(ValueError, match="attention_eigenvalues"):
        head_view_figure(A, lambda_h, lambda_h, mode)
    with pytest.raises(ValueError, match="tokens"):
        head_view_figure(A, lambda_a, lambda_h, mode, tokens=["only one"])
    other = spectrum.dominant_mode_from_spectra(lambda_a, torch.tensor([0.1, 0.2, 5.0]), spectrum.perron_index(lambda_a))
    with pytest.raises(ValueError, match="does not index"):                  # its winner j* = 2, one eigenvalue drawn
        head_view_figure(A, lambda_a, lambda_h[:1], other)
    batched = spectrum.dominant_mode_from_spectra(lambda_a.expand(2, -1), lambda_h.expand(2, -1),
                                                  spectrum.perron_index(lambda_a).expand(2))
    with pytest.raises(ValueError, match="one attention map"):
        head_view_figure(A, lambda_a, lambda_h, batched)
    plt.close("all")
