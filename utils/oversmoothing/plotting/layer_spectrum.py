r"""The eigenvalues of the residual attention layer in the complex plane, coloured by the regime they predict.

The layer :math:`X \mapsto X + A X H` has the :math:`n \times d` grid of eigenvalues
:math:`\mu_{ij} = 1 + \lambda^A_i \lambda^H_j`: row :math:`i` fixes :math:`\lambda^A_i` (the Perron row of
:math:`\lambda^A = 1` holds the DC modes, the other rows the HC modes), column :math:`j` fixes
:math:`\lambda^H_j`. :func:`plot_layer_spectrum` draws the grid from the two spectra, with the unit circle
and the dominant eigenvalue, and returns the :class:`~oversmoothing.spectrum.DominantMode` it marks::

    fig, ax = plt.subplots()
    mode = plot_layer_spectrum(ax, torch.linalg.eigvals(A), torch.linalg.eigvals(H))
    ax.set_title(f"predicted: {mode.regime}")
"""

from __future__ import annotations

import torch
from matplotlib.axes import Axes

from ..spectrum import DominantMode, dominant_mode_from_spectra, perron_index
from .complex_plane import ComplexValues, as_complex, complex_plane, plot_circle, scatter_complex
from .style import MIN_FONT_SIZE, REGIME_COLORS

__all__ = ["plot_layer_spectrum"]


def plot_layer_spectrum(
    ax: Axes,
    attention_eigenvalues: ComplexValues,
    value_eigenvalues: ComplexValues,
    *,
    title: str | None = r"eigenvalues $\mu_{ij}$ of the layer",
    xlim: tuple[float, float] | None = None,
    ylim: tuple[float, float] | None = None,
    legend: bool = True,
) -> DominantMode:
    r"""Draw :math:`\mu_{ij} = 1 + \lambda^A_i \lambda^H_j` on ``ax`` as the complex plane, with the unit circle.

    The DC row (the Perron eigenvalue of ``A``, the one closest to 1) is drawn as vermillion open circles, the
    HC rows as blue open circles: a winner in the DC row predicts smoothing, one in an HC row sharpening. A
    star in the predicted regime's colour marks the dominant eigenvalue :math:`\mu^*`, and a dotted circle has
    its modulus, so the points on or outside it are the ones that tie or win.

    Args:
        ax: the axes.
        attention_eigenvalues: :math:`\lambda^A`, shape ``(n,)``, real or complex; one of them is the Perron
            eigenvalue 1 of a row-stochastic ``A``.
        value_eigenvalues: :math:`\lambda^H`, shape ``(d,)``, real or complex.
        title, xlim, ylim: as in :func:`~oversmoothing.plotting.complex_plane` (matplotlib's limits when
            ``None``).
        legend: draw a legend naming the DC and HC rows and the dominant eigenvalue.

    Returns:
        The dominant mode of the grid (:func:`~oversmoothing.spectrum.dominant_mode_from_spectra`), scalar
        fields.

    Raises:
        ValueError: a spectrum is empty or not finite.
    """
    lambda_a = torch.from_numpy(as_complex(attention_eigenvalues, "attention_eigenvalues"))
    lambda_h = torch.from_numpy(as_complex(value_eigenvalues, "value_eigenvalues"))
    if lambda_a.numel() == 0 or lambda_h.numel() == 0:
        raise ValueError("attention_eigenvalues and value_eigenvalues must each hold at least one eigenvalue")
    perron = perron_index(lambda_a)
    mode = dominant_mode_from_spectra(lambda_a, lambda_h, perron)
    mu = 1 + lambda_a[:, None] * lambda_h[None, :]                       # (n, d): row i, column j
    is_dc = torch.arange(len(lambda_a)) == perron
    complex_plane(ax, title=title, circle=1.0, xlim=xlim, ylim=ylim, xlabel=r"Re $\mu$", ylabel=r"Im $\mu$")
    scatter_complex(ax, mu[~is_dc], facecolors="none", edgecolors=REGIME_COLORS["sharpening"], s=30,
                    label="HC rows (i ≥ 2): a winner here sharpens")
    scatter_complex(ax, mu[is_dc], facecolors="none", edgecolors=REGIME_COLORS["smoothing"], s=30, linewidths=1.5,
                    label="DC row (i = 1): a winner here smooths")
    plot_circle(ax, 0.0, float(mode.modulus), color="0.4", linewidth=0.8, linestyle=":")
    color = REGIME_COLORS.get(str(mode.regime), REGIME_COLORS["neither"])
    scatter_complex(ax, mode.eigenvalue, marker="*", s=160, color=color, edgecolors="k", linewidths=0.5, zorder=3,
                    label=rf"dominant $\mu^*$: predicted {mode.regime}")
    if legend:
        ax.legend(loc="lower left", fontsize=MIN_FONT_SIZE)
    return mode
