r"""A schematic of one Transformer block, pre-LN and post-LN, drawn with matplotlib (it renders offline).

The residual stream runs up the left of each panel; each sub-layer branches off to the right and is added
back at a :math:`\oplus`. The attention branch is drawn as its three linear steps, the values
:math:`\cdot\,W_V`, the token mixing :math:`A\,\cdot` and the output :math:`\cdot\,W_O`, so that
:math:`A X W_V W_O = A X H` can be read off. In a pre-LN block the LayerNorm (gain :math:`\gamma`) sits at
the start of the branch, so the branch's linear part is :math:`\mathrm{diag}(\gamma) H`; in a post-LN block it
sits on the stream after the sum::

    fig = plot_block_schematic()
    [patch.get_gid() for patch in fig.axes[0].patches]     # "pre/ln1", "pre/values", ...

Every box and every :math:`\oplus` carries a ``gid`` ``"{placement}/{part}"`` (parts in :data:`BLOCK_PARTS`).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyBboxPatch

from .._validation import check_choice
from .style import EXTRA_COLORS

SCHEMATIC_PLACEMENTS: tuple[str, ...] = ("pre", "post")
"""The LayerNorm placements :func:`draw_block_schematic` draws."""

BLOCK_PARTS: tuple[str, ...] = ("ln1", "values", "mix", "output", "add1", "ln2", "mlp", "add2")
"""The parts of a block, in the order a token meets them in a pre-LN block (``add`` = residual sum)."""

STREAM_X, BRANCH_X = 2.0, 6.2
"""Horizontal positions (data units) of the residual stream and of the branches."""

_BOX_WIDTH, _BOX_HEIGHT, _PLUS_RADIUS = 3.5, 0.8, 0.28
_FILL = {"norm": EXTRA_COLORS[1], "attention": EXTRA_COLORS[0], "mlp": EXTRA_COLORS[2]}
_LABELS = {
    "ln1": r"LayerNorm, gain $\gamma$",
    "values": r"values  $\cdot\, W_V$",
    "mix": r"attention  $A\, \cdot$",
    "output": r"output  $\cdot\, W_O$",
    "ln2": r"LayerNorm, gain $\gamma_2$",
    "mlp": "MLP (per token)",
}
# Where each part sits, {part: (x, y)} per placement; a branch rejoins the stream at its sum (add1, add2).
_LAYOUT = {
    "pre": {"ln1": (BRANCH_X, 2.1), "values": (BRANCH_X, 3.2), "mix": (BRANCH_X, 4.3), "output": (BRANCH_X, 5.4),
            "add1": (STREAM_X, 6.4), "ln2": (BRANCH_X, 8.1), "mlp": (BRANCH_X, 9.2), "add2": (STREAM_X, 10.2)},
    "post": {"values": (BRANCH_X, 2.1), "mix": (BRANCH_X, 3.2), "output": (BRANCH_X, 4.3), "add1": (STREAM_X, 5.3),
             "ln1": (STREAM_X, 6.3), "mlp": (BRANCH_X, 8.1), "add2": (STREAM_X, 9.1), "ln2": (STREAM_X, 10.1)},
}
_FORKS = (1.2, 7.3)   # heights where the attention and the MLP branch leave the stream
_TOP = 11.3
_BRACKETS = {"pre": ("ln1", "output", r"$H_{\mathrm{eff}} = \mathrm{diag}(\gamma)\, W_V W_O$"),
             "post": ("values", "output", r"$H = W_V W_O$")}


def _kind(part: str) -> str:
    return "norm" if part.startswith("ln") else "mlp" if part == "mlp" else "attention"


def _light(color: str, strength: float = 0.35) -> tuple[float, float, float]:
    """``color`` mixed with white: an opaque pastel that keeps the lines behind a box hidden."""
    return tuple(1 - strength * (1 - channel) for channel in to_rgb(color))


def _box(ax: Axes, part: str, x: float, y: float, gid: str) -> None:
    """A rounded box centred at ``(x, y)`` with the part's label."""
    patch = FancyBboxPatch((x - _BOX_WIDTH / 2, y - _BOX_HEIGHT / 2), _BOX_WIDTH, _BOX_HEIGHT,
                           boxstyle="round,pad=0.02,rounding_size=0.15", facecolor=_light(_FILL[_kind(part)]),
                           edgecolor="0.25", linewidth=1.0, zorder=3, gid=gid)
    ax.add_patch(patch)
    ax.text(x, y, _LABELS[part], ha="center", va="center", fontsize=8.5, zorder=4)


def _plus(ax: Axes, x: float, y: float, gid: str) -> None:
    """The residual sum, a circled plus at ``(x, y)``."""
    ax.add_patch(Circle((x, y), _PLUS_RADIUS, facecolor="white", edgecolor="0.25", linewidth=1.2, zorder=3, gid=gid))
    ax.text(x, y, "+", ha="center", va="center", fontsize=11, zorder=4)


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float]) -> None:
    ax.annotate("", xy=end, xytext=start, zorder=2,
                arrowprops=dict(arrowstyle="-|>", color="0.3", linewidth=1.1, shrinkA=0, shrinkB=0))


def _line(ax: Axes, xs: Sequence[float], ys: Sequence[float]) -> None:
    ax.plot(xs, ys, color="0.3", linewidth=1.1, zorder=1, solid_capstyle="butt")


def _stream(ax: Axes, on_stream: Sequence[tuple[float, str]]) -> None:
    """The residual stream, from the block's input up to its output, through the parts ``(y, part)`` on it."""
    bottom = 0.75
    for y, part in on_stream:
        half = _PLUS_RADIUS if part.startswith("add") else _BOX_HEIGHT / 2
        _arrow(ax, (STREAM_X, bottom), (STREAM_X, y - half))
        bottom = y + half
    _arrow(ax, (STREAM_X, bottom), (STREAM_X, _TOP))


def _branch(ax: Axes, fork: float, parts: Sequence[str], layout: dict[str, tuple[float, float]], add: str) -> None:
    """A sub-layer: fork off the stream at height ``fork``, up through ``parts``, back to the sum ``add``."""
    join = layout[add][1]
    _line(ax, [STREAM_X, BRANCH_X, BRANCH_X], [fork, fork, layout[parts[0]][1]])
    for lower, upper in zip(parts, parts[1:]):
        _arrow(ax, (BRANCH_X, layout[lower][1] + _BOX_HEIGHT / 2), (BRANCH_X, layout[upper][1] - _BOX_HEIGHT / 2))
    _line(ax, [BRANCH_X, BRANCH_X], [layout[parts[-1]][1], join])
    _arrow(ax, (BRANCH_X, join), (STREAM_X + _PLUS_RADIUS, join))


def draw_block_schematic(ax: Axes, placement: str = "pre") -> Axes:
    r"""Draw one Transformer block with its LayerNorms before the branches (``"pre"``) or after the sums (``"post"``).

    Pre-LN: :math:`X \leftarrow X + A\,\mathrm{LN}(X) W_V W_O`, then :math:`X \leftarrow X + \mathrm{MLP}(\mathrm{LN}_2(X))`.
    Post-LN: :math:`X \leftarrow \mathrm{LN}(X + A X W_V W_O)`, then :math:`X \leftarrow \mathrm{LN}_2(X + \mathrm{MLP}(X))`.
    A bracket beside the attention branch names the matrix that acts on the tokens: :math:`H_{\mathrm{eff}} =
    \mathrm{diag}(\gamma) W_V W_O` (pre-LN) or :math:`H = W_V W_O` (post-LN).

    Args:
        ax: the axes to draw on (its limits are set and its frame is switched off).
        placement: ``"pre"`` or ``"post"``.

    Returns:
        ``ax``; boxes and sums carry the ``gid`` ``f"{placement}/{part}"`` for every part of :data:`BLOCK_PARTS`.

    Raises:
        ValueError: ``placement`` is not one of :data:`SCHEMATIC_PLACEMENTS`.
    """
    check_choice(placement, "placement", SCHEMATIC_PLACEMENTS)
    layout, (fork1, fork2) = _LAYOUT[placement], _FORKS
    attention = [part for part in ("ln1", "values", "mix", "output") if layout[part][0] == BRANCH_X]
    _branch(ax, fork1, attention, layout, "add1")
    _branch(ax, fork2, [part for part in ("ln2", "mlp") if layout[part][0] == BRANCH_X], layout, "add2")
    for part, (x, y) in layout.items():
        if part.startswith("add"):
            _plus(ax, x, y, f"{placement}/{part}")
        else:
            _box(ax, part, x, y, f"{placement}/{part}")
    _stream(ax, sorted((y, part) for part, (x, y) in layout.items() if x == STREAM_X))
    ax.text(STREAM_X, 0.45, r"$X_\ell$", ha="center", va="center", fontsize=11)
    ax.text(STREAM_X, _TOP + 0.4, r"$X_{\ell+1}$", ha="center", va="center", fontsize=11)
    ax.text(STREAM_X - 0.35, 3.3, "residual stream", rotation=90, ha="right", va="center", fontsize=8.5, color="0.3")
    low, high, label = _BRACKETS[placement]
    bottom, top = layout[low][1] - _BOX_HEIGHT / 2, layout[high][1] + _BOX_HEIGHT / 2
    bracket_x = BRANCH_X + _BOX_WIDTH / 2 + 0.25
    _line(ax, [bracket_x - 0.12, bracket_x, bracket_x, bracket_x - 0.12], [bottom, bottom, top, top])
    ax.text(bracket_x + 0.2, (bottom + top) / 2, label, rotation=90, ha="left", va="center", fontsize=9)
    ax.set(xlim=(0, 10), ylim=(0, 12), title=f"{placement}-LN block")
    ax.set_axis_off()
    return ax


def plot_block_schematic(axes: Sequence[Axes] | None = None) -> Figure:
    """A pre-LN and a post-LN Transformer block side by side (:func:`draw_block_schematic`).

    Args:
        axes: two axes to draw on (pre-LN, post-LN); a new figure when ``None``.

    Returns:
        The figure.

    Raises:
        ValueError: ``axes`` does not hold exactly two axes.
    """
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(8.4, 5.2), layout="constrained")
    if len(axes) != len(SCHEMATIC_PLACEMENTS):
        raise ValueError(f"axes must hold {len(SCHEMATIC_PLACEMENTS)} axes (pre-LN, post-LN), got {len(axes)}")
    for ax, placement in zip(axes, SCHEMATIC_PLACEMENTS):
        draw_block_schematic(ax, placement)
    return axes[0].figure
