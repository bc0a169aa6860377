"""Eigenvalues in the complex plane: a panel set up as the plane, complex scatters, circles and discs, and a
figure of several spectra side by side.

The chapters draw every spectrum with these, so that the unit circle, the axes and the aspect ratio look
the same everywhere::

    fig, ax = plt.subplots()
    complex_plane(ax, title="eigenvalues of A", circle=1.0)
    scatter_complex(ax, torch.linalg.eigvals(A), color="0.2")
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure

from .style import EXTRA_COLORS, fitted_width

ComplexValues = torch.Tensor | np.ndarray | Sequence[complex]


def as_complex(values: ComplexValues, name: str = "values") -> np.ndarray:
    """``values`` (a tensor or array of any shape, real or complex) as a flat complex NumPy array.

    Raises:
        TypeError: ``values`` is not numeric.
        ValueError: ``values`` holds NaN or an infinity.
    """
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().resolve_conj().numpy()
    array = np.asarray(values)
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise TypeError(f"{name} must hold numbers, got dtype {array.dtype}")
    array = array.astype(complex).reshape(-1)
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite")
    return array


def complex_plane(
    ax: Axes,
    *,
    title: str | None = None,
    circle: float | None = None,
    xlim: tuple[float, float] | None = None,
    ylim: tuple[float, float] | None = None,
    xlabel: str = "real part",
    ylabel: str = "imaginary part",
) -> Axes:
    """Set up ``ax`` as the complex plane: the real and imaginary axes drawn, equal aspect, labels.

    Args:
        ax: the axes.
        title: its title.
        circle: the radius of a dashed circle about 0 (1 for the unit circle); none when ``None``.
        xlim, ylim: the ranges shown; matplotlib's choice when ``None``.
        xlabel, ylabel: the axis labels.

    Returns:
        ``ax``.
    """
    ax.axhline(0, color="0.3", linewidth=0.6)
    ax.axvline(0, color="0.3", linewidth=0.6)
    if circle is not None:
        plot_circle(ax, 0.0, circle, color="0.6", linewidth=0.9, linestyle="--")
    ax.set(xlabel=xlabel, ylabel=ylabel, aspect="equal")
    if title is not None:
        ax.set_title(title)
    if xlim is not None:
        ax.set_xlim(xlim)
    if ylim is not None:
        ax.set_ylim(ylim)
    return ax


def scatter_complex(ax: Axes, values: ComplexValues, **style: object) -> PathCollection:
    """Scatter complex numbers (a tensor or array of any shape) at (real part, imaginary part).

    ``style`` goes to :meth:`matplotlib.axes.Axes.scatter` (``color``, ``s``, ``marker``, ``label``...).
    """
    points = as_complex(values)
    return ax.scatter(points.real, points.imag, **style)


def plot_circle(ax: Axes, center: complex = 0.0, radius: float = 1.0, *, upper_half: bool = False,
                fill: bool = False, **style: object) -> None:
    """A circle (or, with ``fill``, a disc) of the complex plane; ``upper_half`` draws only Im z ≥ 0.

    ``style`` goes to :meth:`~matplotlib.axes.Axes.plot` or, with ``fill``, :meth:`~matplotlib.axes.Axes.fill`.

    Raises:
        ValueError: ``radius`` is negative or not finite.
    """
    if not math.isfinite(radius) or radius < 0:
        raise ValueError(f"radius must be finite and non-negative, got {radius}")
    angle = np.linspace(0, np.pi if upper_half else 2 * np.pi, 200)
    points = complex(center) + radius * np.exp(1j * angle)
    (ax.fill if fill else ax.plot)(points.real, points.imag, **style)


def plot_eigenvalues(
    eigenvalues: Sequence[ComplexValues],
    titles: Sequence[str] | None = None,
    columns: int = 6,
    color: str | Sequence[str] = EXTRA_COLORS[2],
    size: float = 4.0,
    alpha: float = 1.0,
    xlabel: str = r"Re $\lambda$",
    ylabel: str = r"Im $\lambda$",
) -> Figure:
    """Several spectra side by side, one panel each (shared axes), with the real and imaginary axes drawn.

    Args:
        eigenvalues: one complex (or real) tensor or array of shape ``(k,)`` per panel.
        titles: a title per panel.
        columns: panels per row at most.
        color: the colour of the dots, or one colour per panel.
        size, alpha: the dots' area (points²) and opacity.
        xlabel, ylabel: the labels of the figure's axes.

    Returns:
        The figure.

    Raises:
        ValueError: no set of eigenvalues, a set that is not one-dimensional, or titles or colours that do not
            match the sets one to one.
    """
    sets = [np.asarray(e.detach().cpu() if isinstance(e, torch.Tensor) else e) for e in eigenvalues]
    if not sets or any(values.ndim != 1 for values in sets):
        raise ValueError("eigenvalues must be a non-empty sequence of one-dimensional sets")
    if titles is not None and len(titles) != len(sets):
        raise ValueError(f"titles must name each of the {len(sets)} sets, got {len(titles)}")
    colors = [color] * len(sets) if isinstance(color, str) else list(color)
    if len(colors) != len(sets):
        raise ValueError(f"color must be one colour or one per set ({len(sets)}), got {len(colors)}")
    columns = min(len(sets), columns)
    rows = math.ceil(len(sets) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(fitted_width(1.9 * columns), 2.0 * rows + 0.3), squeeze=False,
                             layout="constrained", sharex=True, sharey=True)
    for index, (ax, values) in enumerate(zip(axes.flat, sets)):
        complex_plane(ax, title=titles[index] if titles is not None else None, xlabel="", ylabel="")
        ax.set_aspect("auto")                                   # shared axes: the panels keep one box size
        ax.title.set_fontsize(9)
        scatter_complex(ax, values, s=size, alpha=alpha, color=colors[index])
    for ax in axes.flat[len(sets):]:
        ax.set_visible(False)
    fig.supxlabel(xlabel)
    fig.supylabel(ylabel)
    return fig
