r"""One attention head of a real model as the fixed-attention theory sees it: its attention map, the eigenvalues
:math:`\lambda^A_i` of that map and :math:`\lambda^H_j` of its value-output matrix, and the regime that their
dominant pair predicts.

The caller computes the spectra and the dominant mode (so the page shows how the prediction is made) and this
module draws them::

    lambda_a, lambda_h = torch.linalg.eigvals(A), torch.linalg.eigvals(H)
    mode = spectrum.dominant_mode_from_spectra(lambda_a, lambda_h, spectrum.perron_index(lambda_a))
    fig = head_view_figure(A, lambda_a, lambda_h, mode, tokens=["[CLS]", "a", "cat", "[SEP]"])
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..spectrum import DominantMode
from .complex_plane import ComplexValues, as_complex, complex_plane, scatter_complex
from .style import MAX_FIGURE_WIDTH, MIN_FONT_SIZE, REGIME_COLORS

__all__ = ["head_view_figure"]


def _check_scalar_mode(mode: DominantMode, n: int, d: int) -> tuple[int, int]:
    """The dominant pair's indices ``(i*, j*)``, checked against the sizes of the two spectra."""
    if not isinstance(mode, DominantMode) or mode.attention_index.ndim != 0:
        raise ValueError("mode must be the DominantMode of one attention map (scalar fields, no batch dimension)")
    i, j = int(mode.attention_index), int(mode.value_index)
    if not (0 <= i < n and 0 <= j < d):
        raise ValueError(f"mode's dominant pair ({i}, {j}) does not index spectra of sizes {n} and {d}: "
                         "compute mode from the same eigenvalues that are drawn")
    return i, j


def _spectrum_panel(ax: Axes, values: np.ndarray, star: int, name: str, limit: float, color: str, regime: str) -> None:
    """Eigenvalues ``values`` in the complex plane with the unit circle; the one of the dominant pair starred."""
    complex_plane(ax, title=rf"eigenvalues $\lambda^{name}$", circle=1.0, xlim=(-limit, limit), ylim=(-limit, limit),
                  xlabel=rf"Re $\lambda^{name}$", ylabel=rf"Im $\lambda^{name}$")
    scatter_complex(ax, values, s=12, color="0.35", alpha=0.7)
    scatter_complex(ax, values[star], marker="*", s=170, color=color, edgecolors="k", linewidths=0.5, zorder=3,
                    label=rf"$\lambda^{name}$ of the dominant pair ({regime})")
    ax.legend(loc="lower left", fontsize=MIN_FONT_SIZE)


def head_view_figure(
    attention: torch.Tensor | np.ndarray,
    attention_eigenvalues: ComplexValues,
    value_eigenvalues: ComplexValues,
    mode: DominantMode,
    *,
    tokens: Sequence[str] | None = None,
    title: str | None = None,
    value_limit: float | None = None,
) -> Figure:
    r"""Three panels for one head (or one head-averaged map) on one input.

    Left: the attention map as a heatmap (queries down, keys across, colour scale fixed to [0, 1]). Middle: the
    eigenvalues :math:`\lambda^A_i` of the map with the unit circle. Right: the eigenvalues :math:`\lambda^H_j` of
    the value-output matrix with the unit circle. A star in the colour of the predicted regime (vermillion for
    smoothing, blue for sharpening, green for a tie) marks the pair :math:`(\lambda^A_{i^*}, \lambda^H_{j^*})`
    whose :math:`\lvert 1 + \lambda^A_i\lambda^H_j\rvert` is largest; the title names the regime and
    :math:`M_{HC}/M_{DC}`.

    Args:
        attention: the map ``A``, shape ``(n, n)``, rows summing to one.
        attention_eigenvalues: :math:`\lambda^A`, shape ``(n,)``.
        value_eigenvalues: :math:`\lambda^H`, shape ``(d,)``.
        mode: the dominant mode computed from these two spectra
            (:func:`~oversmoothing.spectrum.dominant_mode_from_spectra`), scalar fields.
        tokens: a label per token for the heatmap's ticks (``n`` of them); numbers when ``None``.
        title: the start of the figure's title (e.g. which block and head).
        value_limit: the half-width of the :math:`\lambda^H` panel; ``1.1 max(1, max_j |\lambda^H_j|)`` when
            ``None``. Fix it to compare settings.

    Returns:
        The figure.

    Raises:
        ValueError: ``attention`` is not square, a spectrum does not fit it or ``mode``, ``tokens`` has the wrong
            length, or ``mode`` has a batch dimension.
    """
    matrix = np.asarray(attention.detach().cpu() if isinstance(attention, torch.Tensor) else attention, dtype=float)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"attention must have shape (n, n), got {matrix.shape}")
    lambda_a = as_complex(attention_eigenvalues, "attention_eigenvalues")
    lambda_h = as_complex(value_eigenvalues, "value_eigenvalues")
    n = matrix.shape[0]
    if len(lambda_a) != n:
        raise ValueError(f"attention_eigenvalues must hold the n = {n} eigenvalues of attention, got {len(lambda_a)}")
    if tokens is not None and len(tokens) != n:
        raise ValueError(f"tokens must name each of the {n} tokens, got {len(tokens)}")
    i, j = _check_scalar_mode(mode, n, len(lambda_h))
    regime = str(mode.regime)
    color = REGIME_COLORS.get(regime, REGIME_COLORS["neither"])
    limit = value_limit if value_limit is not None else 1.1 * max(1.0, float(np.abs(lambda_h).max()))

    fig, axes = plt.subplots(1, 3, figsize=(MAX_FIGURE_WIDTH, 3.7), layout="constrained")
    image = axes[0].imshow(matrix, cmap="Greys", vmin=0.0, vmax=1.0)
    fig.colorbar(image, ax=axes[0], shrink=0.8, label="attention weight")
    labels = list(tokens) if tokens is not None else [str(k + 1) for k in range(n)]
    axes[0].set_xticks(range(n), labels, rotation=90, fontsize=MIN_FONT_SIZE)
    axes[0].set_yticks(range(n), labels, fontsize=MIN_FONT_SIZE)
    axes[0].set(xlabel="key", ylabel="query", title="attention map")
    axes[0].grid(False)
    _spectrum_panel(axes[1], lambda_a, i, "A", 1.15, color, regime)
    _spectrum_panel(axes[2], lambda_h, j, "H", limit, color, regime)
    pair = "DC" if bool(mode.is_dc) else "HC"
    fig.suptitle(f"{title + ': ' if title else ''}predicted {regime} "
                 rf"(dominant pair: {pair} mode, $M_{{HC}}/M_{{DC}}$ = {float(mode.hc_dc_rate):.3f})", fontsize=10)
    return fig
