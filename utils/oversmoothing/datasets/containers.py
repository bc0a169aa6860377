"""In-memory datasets: inputs and integer targets as tensors, and a named train/test pair."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class ArrayDataset:
    """Examples held as two tensors that share their first dimension.

    Attributes:
        inputs: ``(N, ...)``: images ``(N, C, H, W)`` float32, signals ``(N, 1, 1, L)`` or character ids
            ``(N, n)`` int64.
        targets: int64, ``(N,)`` class labels or ``(N, n)`` next-character ids.

    Raises:
        TypeError: either is not a tensor, or ``targets`` is not int64.
        ValueError: their first dimensions differ, or ``inputs`` has no dimension.
    """

    inputs: torch.Tensor
    targets: torch.Tensor

    def __post_init__(self) -> None:
        for name in ("inputs", "targets"):
            if not isinstance(getattr(self, name), torch.Tensor):
                raise TypeError(f"{name} must be a torch.Tensor, got {type(getattr(self, name)).__name__}")
        if self.targets.dtype != torch.int64:
            raise TypeError(f"targets must be int64 (class or token ids), got {self.targets.dtype}")
        if self.inputs.ndim < 1 or self.targets.ndim < 1 or self.inputs.shape[0] != self.targets.shape[0]:
            raise ValueError(f"inputs {tuple(self.inputs.shape)} and targets {tuple(self.targets.shape)} must share "
                             "their first (example) dimension")

    def __len__(self) -> int:
        return self.inputs.shape[0]

    def subset(self, indices: torch.Tensor | Sequence[int]) -> ArrayDataset:
        """The examples at ``indices`` (1-D integer tensor or sequence of ints), in that order.

        Raises:
            ValueError: ``indices`` is not one-dimensional, not integer, or out of range.
        """
        index = torch.as_tensor(indices, dtype=torch.int64) if not isinstance(indices, torch.Tensor) else indices
        if index.ndim != 1 or index.dtype not in (torch.int32, torch.int64):
            raise ValueError(f"indices must be a 1-D integer tensor or sequence, got {tuple(index.shape)} {index.dtype}")
        if index.numel() and (int(index.min()) < 0 or int(index.max()) >= len(self)):
            raise ValueError(f"indices must lie in [0, {len(self)}), got [{int(index.min())}, {int(index.max())}]")
        return ArrayDataset(self.inputs[index.to(self.inputs.device)], self.targets[index.to(self.targets.device)])


@dataclass(frozen=True)
class DataSplits:
    """A dataset's training and test parts with what a model needs to know about them.

    Attributes:
        name: e.g. ``"digits"``, ``"mnist1d"``, ``"cifar10"``.
        train, test: the two parts.
        num_classes: number of classes (the vocabulary size for text).
        input_shape: shape of one input, ``inputs.shape[1:]``.
        classes: a name for each class, ``len(classes) == num_classes``.

    Raises:
        ValueError: ``input_shape`` or ``classes`` disagree with the data, or a target lies outside
            ``[0, num_classes)``.
    """

    name: str
    train: ArrayDataset
    test: ArrayDataset
    num_classes: int
    input_shape: tuple[int, ...]
    classes: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.classes) != self.num_classes:
            raise ValueError(f"{self.name}: {len(self.classes)} class names for num_classes={self.num_classes}")
        for part_name in ("train", "test"):
            part = getattr(self, part_name)
            if tuple(part.inputs.shape[1:]) != tuple(self.input_shape):
                raise ValueError(f"{self.name}.{part_name} inputs have shape {tuple(part.inputs.shape[1:])} per example, "
                                 f"not input_shape={tuple(self.input_shape)}")
            if part.targets.numel() and (int(part.targets.min()) < 0 or int(part.targets.max()) >= self.num_classes):
                raise ValueError(f"{self.name}.{part_name} targets must lie in [0, {self.num_classes})")
