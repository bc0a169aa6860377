r"""Smoothing metrics of a token cloud :math:`X \in \mathbb{R}^{n \times d}` (rows are tokens).

Every function takes a tensor of shape ``(..., n, d)`` and treats the leading dimensions as a
batch: a metric returns shape ``(...)``, a matrix-valued function ``(..., n, n)`` or
``(..., n, d)``. Nothing loops over tokens in Python.

The notation follows the book: :math:`P = \tfrac1n \mathbf 1 \mathbf 1^\top`,
:math:`\mathrm{DC}[X] = P X` (every row the token mean), :math:`\mathrm{HC}[X] = (I - P) X`.

:func:`geometric_decay_rate` measures the factor per step by which a positive sequence (an HC/DC ratio
over depth, a rank-one residual) shrinks, the measured counterpart of the rates that
:mod:`oversmoothing.spectrum` predicts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from ._validation import check_choice, check_int, check_tokens

__all__ = [
    "METRICS",
    "consensus_distance",
    "cosine_similarity_matrix",
    "dc_component",
    "effective_rank",
    "geometric_decay_rate",
    "hc_component",
    "hc_dc_ratio",
    "layer_metrics",
    "mean_cosine_similarity",
    "measured_regime",
    "rank_one_residual",
    "select_tokens",
    "singular_value_ratio",
]


def _working_dtype(x: torch.Tensor) -> torch.Tensor:
    """Half-precision inputs are measured in float32; float32/float64 are kept."""
    return x.float() if x.dtype in (torch.float16, torch.bfloat16) else x


def _scale_free(x: torch.Tensor) -> torch.Tensor:
    """``x`` divided by its largest entry (per matrix) when its entries are so large or small that squared
    norms would overflow or underflow; for the scale-invariant metrics only. Shape unchanged."""
    # the infinity norm reduces without the |x| copy that abs().amax() would make
    scale = torch.linalg.vector_norm(x.detach(), ord=float("inf"), dim=(-2, -1), keepdim=True)
    info = torch.finfo(x.dtype)
    if bool(((scale > info.max**0.25) | ((scale < info.tiny**0.25) & (scale > 0))).any()):
        return x / torch.where(scale > 0, scale, torch.ones_like(scale))
    return x


def select_tokens(x: torch.Tensor, exclude: Sequence[int] | None = None) -> torch.Tensor:
    """Drop the tokens at positions ``exclude`` (e.g. ``[0]`` for a class token).

    Args:
        x: tokens, shape ``(..., n, d)``.
        exclude: token indices along dimension ``-2``; negative indices count from the end.

    Returns:
        Shape ``(..., n - len(set(exclude)), d)``.

    Raises:
        TypeError: ``exclude`` is not a sequence of ints.
        ValueError: an index is out of range, or ``exclude`` names every token.
    """
    x = check_tokens(x, finite=False)
    if exclude is None:
        return x
    if isinstance(exclude, (int, str)) or not isinstance(exclude, Sequence):
        raise TypeError(f"exclude must be a sequence of token indices, got {exclude!r}")
    n = x.shape[-2]
    dropped = set()
    for index in exclude:
        if not isinstance(index, int) or isinstance(index, bool):
            raise TypeError(f"exclude must hold ints, got {index!r}")
        if not -n <= index < n:
            raise ValueError(f"exclude index {index} is out of range for {n} tokens")
        dropped.add(index % n)
    if len(dropped) == n:
        raise ValueError(f"exclude={list(exclude)!r} removes all {n} tokens; keep at least one")
    keep = torch.tensor([i for i in range(n) if i not in dropped], dtype=torch.long, device=x.device)
    return x.index_select(-2, keep)


def _token_norms(x: torch.Tensor, name: str = "x") -> torch.Tensor:
    """Token norms, shape ``(..., n, 1)``; rejects a zero token."""
    norms = torch.linalg.vector_norm(x, dim=-1, keepdim=True)
    if bool((norms == 0).any()):
        raise ValueError(f"{name} has a zero token: its cosine similarity is undefined")
    return norms


def _unit_tokens(x: torch.Tensor, name: str = "x") -> torch.Tensor:
    return x / _token_norms(x, name)


def mean_cosine_similarity(x: torch.Tensor, exclude: Sequence[int] | None = None) -> torch.Tensor:
    r"""Mean cosine similarity over ordered pairs of distinct tokens, in :math:`O(nd)`.

    Uses :math:`\frac{1}{n(n-1)}\sum_{i \ne j} \cos(x_i, x_j)
    = \frac{\lVert \sum_i \hat x_i \rVert^2 - n}{n(n-1)}` with :math:`\hat x_i = x_i/\lVert x_i\rVert`,
    so no :math:`n \times n` matrix is formed.

    Args:
        x: tokens, shape ``(..., n, d)``, floating point, finite, no zero token.
        exclude: token positions left out of the mean (e.g. ``[0]`` for a class token).

    Returns:
        Shape ``(...)``, values in :math:`[-1/(n-1), 1]`.
    """
    x = _working_dtype(select_tokens(check_tokens(x, finite=False), exclude))
    n = x.shape[-2]
    if n < 2:
        raise ValueError(f"x must have at least 2 tokens (after exclude) for a pairwise similarity, got {n}")
    # Fast path, two passes over x: the token norms, then one product. Norms that are finite and not
    # tiny prove x finite and free of overflow; otherwise validate and rescale, as the other metrics do.
    norms = torch.linalg.vector_norm(x, dim=-1, keepdim=True)
    if not bool((torch.isfinite(norms) & (norms > torch.finfo(x.dtype).tiny ** 0.25)).all()):
        x = _scale_free(check_tokens(x))
        norms = _token_norms(x)
    # sum_i x_i / ||x_i|| as a (1, n) @ (n, d) product, so no (n, d) temporary is made.
    total = (norms.reciprocal().transpose(-1, -2) @ x).squeeze(-2)
    return (total.pow(2).sum(dim=-1) - n) / (n * (n - 1))


def cosine_similarity_matrix(x: torch.Tensor) -> torch.Tensor:
    """All pairwise cosine similarities.

    Args:
        x: tokens, shape ``(..., n, d)``, no zero token.

    Returns:
        Shape ``(..., n, n)``, symmetric with unit diagonal.

    Memory is quadratic in ``n``; use :func:`mean_cosine_similarity` when only the mean is needed.
    """
    unit = _unit_tokens(_scale_free(_working_dtype(check_tokens(x))))
    return unit @ unit.transpose(-1, -2)


def dc_component(x: torch.Tensor) -> torch.Tensor:
    r"""The DC (zero-frequency) component :math:`P X`: every row replaced by the token mean.

    Args:
        x: tokens, shape ``(..., n, d)``.

    Returns:
        Shape ``(..., n, d)``.
    """
    x = check_tokens(x)
    return x.mean(dim=-2, keepdim=True).expand_as(x)


def hc_component(x: torch.Tensor) -> torch.Tensor:
    r"""The HC (high-frequency) component :math:`(I - P) X`: each token minus the token mean.

    Args:
        x: tokens, shape ``(..., n, d)``.

    Returns:
        Shape ``(..., n, d)``; its rows sum to zero.
    """
    x = check_tokens(x)
    return x - x.mean(dim=-2, keepdim=True)


def hc_dc_ratio(x: torch.Tensor) -> torch.Tensor:
    r"""Ratio :math:`\lVert \mathrm{HC}[X] \rVert_F / \lVert \mathrm{DC}[X] \rVert_F` (Wang et al., 2022).

    Args:
        x: tokens, shape ``(..., n, d)``, not all zero.

    Returns:
        Shape ``(...)``; ``inf`` where the token mean is zero but the tokens are not.
    """
    x = _scale_free(_working_dtype(check_tokens(x)))
    mean = x.mean(dim=-2, keepdim=True)
    n = x.shape[-2]
    dc_norm = torch.linalg.vector_norm(mean, dim=(-2, -1)) * n**0.5
    hc_norm = torch.linalg.vector_norm(x - mean, dim=(-2, -1))
    if bool(((dc_norm == 0) & (hc_norm == 0)).any()):
        raise ValueError("x has an all-zero matrix: its HC/DC ratio is undefined")
    return hc_norm / dc_norm


def consensus_distance(x: torch.Tensor, relative: bool = True) -> torch.Tensor:
    r"""Distance from :math:`X` to the nearest matrix whose tokens are all equal.

    :math:`\min_c \lVert X - \mathbf 1 c^\top \rVert_F = \lVert \mathrm{HC}[X] \rVert_F` (the minimiser is
    the token mean). This is :math:`\mu(X)` of Wu et al. (2024) and :math:`d_M(X)` of Shi et al. (2022).

    Args:
        x: tokens, shape ``(..., n, d)``.
        relative: divide by :math:`\lVert X \rVert_F` (scale-free, in :math:`[0, 1]`).

    Returns:
        Shape ``(...)``.
    """
    x = _working_dtype(check_tokens(x))
    if relative:
        x = _scale_free(x)
    distance = torch.linalg.vector_norm(x - x.mean(dim=-2, keepdim=True), dim=(-2, -1))
    if not relative:
        return distance
    norm = torch.linalg.vector_norm(x, dim=(-2, -1))
    if bool((norm == 0).any()):
        raise ValueError("x has an all-zero matrix: its relative consensus distance is undefined")
    return distance / norm


def _singular_values(x: torch.Tensor, name: str = "x") -> torch.Tensor:
    """Singular values, shape ``(..., min(n, d))``, descending; rejects all-zero matrices."""
    sigma = torch.linalg.svdvals(_scale_free(_working_dtype(x)))
    if bool((sigma[..., 0] == 0).any()):
        raise ValueError(f"{name} has an all-zero matrix: its rank metrics are undefined")
    return sigma


def rank_one_residual(x: torch.Tensor) -> torch.Tensor:
    r"""Relative distance to the best rank-one approximation (Dong et al., 2021).

    :math:`\lVert X - X_1 \rVert_F / \lVert X \rVert_F = \sqrt{\sum_{k \ge 2} \sigma_k^2 / \sum_k \sigma_k^2}`,
    with :math:`X_1` the truncated SVD of rank one. Zero exactly when :math:`X` has rank one.

    Args:
        x: tokens, shape ``(..., n, d)``, not all zero.

    Returns:
        Shape ``(...)``, values in :math:`[0, 1)`.
    """
    return _rank_one_residual(_singular_values(check_tokens(x)))


def _rank_one_residual(sigma: torch.Tensor) -> torch.Tensor:
    squares = sigma.pow(2)
    return (squares[..., 1:].sum(dim=-1) / squares.sum(dim=-1)).sqrt()


def effective_rank(x: torch.Tensor) -> torch.Tensor:
    r"""Effective rank :math:`\exp(-\sum_k p_k \log p_k)`, :math:`p_k = \sigma_k / \sum_l \sigma_l` (Roy & Vetterli, 2007).

    Args:
        x: tokens, shape ``(..., n, d)``, not all zero.

    Returns:
        Shape ``(...)``, between 1 (rank one) and ``min(n, d)`` (equal singular values).
    """
    return _effective_rank(_singular_values(check_tokens(x)))


def _effective_rank(sigma: torch.Tensor) -> torch.Tensor:
    p = sigma / sigma.sum(dim=-1, keepdim=True)
    entropy = -torch.special.xlogy(p, p).sum(dim=-1)
    return entropy.exp()


def singular_value_ratio(x: torch.Tensor) -> torch.Tensor:
    r"""Ratio :math:`\sigma_2 / \sigma_1` of the two largest singular values (0 for rank one).

    Args:
        x: tokens, shape ``(..., n, d)`` with ``min(n, d) >= 2``, not all zero.

    Returns:
        Shape ``(...)``, values in :math:`[0, 1]`.
    """
    x = check_tokens(x, min_tokens=2)
    if x.shape[-1] < 2:
        raise ValueError(f"x must have at least 2 features for sigma_2/sigma_1, got shape {tuple(x.shape)}")
    return _singular_value_ratio(_singular_values(x))


def _singular_value_ratio(sigma: torch.Tensor) -> torch.Tensor:
    return sigma[..., 1] / sigma[..., 0]


METRICS: dict[str, str] = {
    "mean_cosine": "mean pairwise cosine similarity",
    "hc_dc_ratio": "HC/DC ratio",
    "consensus_distance": "relative distance to all-tokens-equal",
    "rank_one_residual": "relative rank-one residual",
    "effective_rank": "effective rank",
    "sigma_ratio": "sigma_2 / sigma_1",
}
"""Column names of :func:`layer_metrics` and a readable label for each."""


def _metric_names(metrics: str | Sequence[str] | None) -> list[str]:
    """The checked names of ``metrics``: all of :data:`METRICS` for ``None``, one for a single string."""
    if metrics is None:
        return list(METRICS)
    if isinstance(metrics, str):
        metrics = [metrics]
    if not isinstance(metrics, Sequence):
        raise TypeError(f"metrics must be a name or a sequence of names from {tuple(METRICS)}, got {metrics!r}")
    if not metrics:
        raise ValueError(f"metrics must name at least one of {tuple(METRICS)}, got {metrics!r}")
    return [check_choice(name, "metrics", METRICS) for name in metrics]


def layer_metrics(
    hidden_states: torch.Tensor | Sequence[torch.Tensor],
    exclude: Sequence[int] | None = None,
    metrics: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Every smoothing metric, per layer, in one table.

    Args:
        hidden_states: the token states of each layer, as one tensor of shape ``(L + 1, ..., n, d)``
            (index 0 the input) or a sequence of ``L + 1`` tensors of shape ``(..., n, d)``.
            Leading batch dimensions are averaged over.
        exclude: token positions left out of every metric (e.g. ``[0]`` for a class token); at least
            two tokens must remain.
        metrics: names from :data:`METRICS` to compute, or a single name (``metrics="mean_cosine"``);
            all of them by default.

    Returns:
        A ``pandas.DataFrame`` with a ``layer`` column (0 = input) and one column per metric,
        each the mean over the batch.

    Raises:
        TypeError: ``hidden_states`` is not a tensor or a sequence of tensors; ``metrics`` is neither a name
            nor a sequence of names; ``exclude`` is not a sequence of ints.
        ValueError: a shape is wrong, a metric name is unknown or ``metrics`` is empty, or ``exclude``
            leaves fewer than two tokens.
    """
    if isinstance(hidden_states, torch.Tensor):
        states = hidden_states
    elif isinstance(hidden_states, Sequence) and len(hidden_states) > 0:
        shapes = {tuple(h.shape) if isinstance(h, torch.Tensor) else None for h in hidden_states}
        if None in shapes:
            raise TypeError("hidden_states must hold torch.Tensor entries")
        if len(shapes) != 1:
            raise ValueError(f"hidden_states must all have one shape, got {sorted(shapes)}")
        states = torch.stack(list(hidden_states))
    else:
        raise TypeError("hidden_states must be a tensor (L + 1, ..., n, d) or a non-empty sequence of tensors")
    states = check_tokens(states, "hidden_states", min_tokens=2)
    if states.ndim < 3:
        raise ValueError(f"hidden_states must have shape (L + 1, ..., n, d), got shape {tuple(states.shape)}")
    names = _metric_names(metrics)
    if "sigma_ratio" in names and states.shape[-1] < 2:
        raise ValueError(f"hidden_states must have at least 2 features for sigma_ratio, got shape {tuple(states.shape)}")
    n = states.shape[-2]
    states = _working_dtype(select_tokens(states, exclude))
    if states.shape[-2] < 2:
        raise ValueError(f"exclude={list(exclude)!r} leaves {states.shape[-2]} of the {n} tokens; the metrics need "
                         "at least 2")
    batch_dims = tuple(range(1, states.ndim - 2))

    def per_layer(values: torch.Tensor) -> list[float]:
        reduced = values.mean(dim=batch_dims) if batch_dims else values
        return reduced.detach().cpu().double().tolist()

    columns: dict[str, list[float]] = {"layer": list(range(states.shape[0]))}
    sigma = None
    if any(name in ("rank_one_residual", "effective_rank", "sigma_ratio") for name in names):
        sigma = _singular_values(states, "hidden_states")
    for name in names:
        if name == "mean_cosine":
            values = mean_cosine_similarity(states)
        elif name == "hc_dc_ratio":
            values = hc_dc_ratio(states)
        elif name == "consensus_distance":
            values = consensus_distance(states)
        elif name == "rank_one_residual":
            values = _rank_one_residual(sigma)
        elif name == "effective_rank":
            values = _effective_rank(sigma)
        else:
            values = _singular_value_ratio(sigma)
        columns[name] = per_layer(values)
    return pd.DataFrame(columns)


def geometric_decay_rate(values: torch.Tensor | np.ndarray, *, start: int = 0, floor: float = 1e-10) -> float:
    r"""The factor per step by which a positive sequence decays: :math:`e^{b}` for the least-squares slope ``b``
    of :math:`\log v_t` against ``t``.

    Only the steps ``t >= start`` with :math:`v_t > \mathrm{floor} \cdot v_{\mathrm{start}}` enter the fit, so
    that rounding error at the bottom of a fast decay does not bias it. For :math:`v_t = C \rho^t` the
    result is :math:`\rho`; an oscillating factor of bounded ratio (a complex eigenvalue pair) adds an
    error that shrinks like one over the length of the window.

    Args:
        values: shape ``(T,)``, positive and finite (``inf`` and ``nan`` are not allowed).
        start: first step of the fit.
        floor: relative floor, in ``(0, 1)``.

    Returns:
        The rate :math:`\rho > 0` (a float).

    Raises:
        ValueError: ``values`` is not one-dimensional, positive and finite; fewer than two steps remain
            for the fit; ``start`` or ``floor`` is out of range.
    """
    sequence = np.asarray(values.detach().cpu() if isinstance(values, torch.Tensor) else values, dtype=np.float64)
    if sequence.ndim != 1:
        raise ValueError(f"values must be one-dimensional, got shape {sequence.shape}")
    if not np.all(np.isfinite(sequence)) or not np.all(sequence > 0):
        raise ValueError("values must be positive and finite")
    check_int(start, "start", minimum=0, maximum=len(sequence) - 1)
    if not 0 < floor < 1:
        raise ValueError(f"floor must lie in (0, 1), got {floor!r}")
    steps = np.arange(start, len(sequence))
    window = sequence[start:] > floor * sequence[start]
    # stop at the first value below the floor: what follows is rounding noise
    stop = int(np.argmin(window)) if not window.all() else len(window)
    if stop < 2:
        raise ValueError(f"fewer than two steps above the floor after start={start}; lower start or floor")
    slope = np.polyfit(steps[:stop], np.log(sequence[start:start + stop]), 1)[0]
    return math.exp(slope)


def measured_regime(states: torch.Tensor, gap_tolerance: float = 0.05, floor: float = 1e-8) -> np.ndarray:
    r"""The regime a stack showed, read off its HC/DC ratio over depth: ``"smoothing"`` or ``"sharpening"``.

    The rule (chapter 5): *smoothing* when the HC/DC ratio has fallen below ``floor`` by the last layer, or
    when :math:`\log` HC/DC still falls by at least ``gap_tolerance / 2`` per layer over the second half of
    the depth; *sharpening* otherwise. Each layer's tokens are rescaled by their largest entry first (the
    ratio is scale-free), so exploding or vanishing states do not overflow.

    Args:
        states: hidden states, shape ``(L + 1, ..., n, d)`` with ``L >= 2``.
        gap_tolerance: the smallest per-layer decay of :math:`\log` HC/DC that counts, times two.
        floor: an HC/DC ratio below it counts as collapsed.

    Returns:
        A string array of shape ``(...)``.

    Raises:
        ValueError: fewer than three layers of states, or a tolerance that is not positive.
    """
    states = check_tokens(states, "states", min_tokens=2)
    if states.ndim < 3 or states.shape[0] < 3:
        raise ValueError(f"states must have shape (L + 1, ..., n, d) with L >= 2, got {tuple(states.shape)}")
    if not (gap_tolerance > 0 and floor > 0):
        raise ValueError(f"gap_tolerance and floor must be positive, got {gap_tolerance!r} and {floor!r}")
    hc_dc = hc_dc_ratio(states / states.abs().amax(dim=(-2, -1), keepdim=True))  # (L + 1, ...)
    half = hc_dc.shape[0] // 2
    slope = (hc_dc[-1].log() - hc_dc[half].log()) / (hc_dc.shape[0] - 1 - half)
    smoothing = (hc_dc[-1] < floor) | (slope < -gap_tolerance / 2)
    return np.where(smoothing.cpu().numpy(), "smoothing", "sharpening")
