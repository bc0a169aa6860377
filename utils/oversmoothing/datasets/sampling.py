"""Stratified, seeded choices of examples: test splits and training-set fractions."""

from __future__ import annotations

import math

import torch

from .._validation import check_int
from .containers import ArrayDataset


def check_fraction(fraction: object, name: str, *, allow_one: bool) -> float:
    """Check that ``fraction`` is a real number in ``(0, 1]`` (``(0, 1)`` unless ``allow_one``)."""
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not math.isfinite(fraction):
        raise ValueError(f"{name} must be a finite number, got {fraction!r}")
    if not (0 < fraction < 1 or (allow_one and fraction == 1)):
        raise ValueError(f"{name} must lie in (0, {'1]' if allow_one else '1)'}, got {fraction!r}")
    return float(fraction)


def stratified_indices(labels: torch.Tensor, fraction: float, seed: int = 0) -> torch.Tensor:
    """Indices of a seeded random ``fraction`` of each class, at least one example per class present.

    Class ``c`` with ``n_c`` examples contributes ``max(1, round(fraction * n_c))`` of them. The choice
    is nested: with the same ``seed``, the indices for a smaller fraction are a subset of those for a
    larger one (each class's examples are taken in one seeded random order).

    Args:
        labels: ``(N,)`` int64 class labels, non-negative.
        fraction: in ``(0, 1]``.
        seed: seeds the random order.

    Returns:
        ``(M,)`` int64 indices into ``labels``, sorted ascending.
    """
    if not isinstance(labels, torch.Tensor) or labels.ndim != 1 or labels.dtype != torch.int64:
        raise ValueError("labels must be a 1-D int64 tensor of class labels; stratification needs one label per "
                         f"example, got {getattr(labels, 'dtype', type(labels).__name__)} "
                         f"{tuple(getattr(labels, 'shape', ()))}")
    if labels.numel() == 0 or int(labels.min()) < 0:
        raise ValueError("labels must be non-empty and non-negative")
    fraction = check_fraction(fraction, "fraction", allow_one=True)
    labels = labels.cpu()
    order = torch.randperm(labels.numel(), generator=torch.Generator().manual_seed(check_int(seed, "seed", minimum=0)))
    order = order[torch.argsort(labels[order], stable=True)]  # grouped by class, random within a class
    grouped = labels[order]
    counts = torch.bincount(labels)
    starts = torch.cumsum(counts, 0) - counts
    rank = torch.arange(labels.numel()) - starts[grouped]  # position of each example inside its class
    keep = torch.floor(counts * fraction + 0.5).clamp_min(1).long()
    return torch.sort(order[rank < keep[grouped]]).values


def training_fraction(dataset: ArrayDataset, fraction: float, seed: int = 0) -> ArrayDataset:
    """A stratified, seeded ``fraction`` of a classification dataset (class proportions kept).

    Subsets drawn with the same ``seed`` are nested, so a learning curve over fractions adds
    examples rather than redrawing them. See :func:`stratified_indices`.

    Args:
        dataset: targets ``(N,)`` class labels.
        fraction: in ``(0, 1]``; ``1`` returns every example.
        seed: seeds the choice.

    Returns:
        The chosen examples, in their original order.
    """
    if not isinstance(dataset, ArrayDataset):
        raise TypeError(f"dataset must be an ArrayDataset, got {type(dataset).__name__}")
    return dataset.subset(stratified_indices(dataset.targets, fraction, seed))
