"""Inputs for a Hugging Face model: equal-length groups of texts, normalised images."""

from __future__ import annotations

from collections.abc import Sequence

import torch

__all__ = ["group_by_length", "prepare_images"]

def group_by_length(lengths: Sequence[int]) -> dict[int, list[int]]:
    """Indices of the inputs of each length, so that every batch is free of padding.

    Padding tokens would enter every token metric and the attention maps' spectra; grouping sequences of
    equal length avoids them without masks. Returns ``{length: [indices]}`` in increasing length.
    """
    groups: dict[int, list[int]] = {}
    for index, length in enumerate(lengths):
        groups.setdefault(int(length), []).append(index)
    return dict(sorted(groups.items()))


def prepare_images(images: torch.Tensor, image_size: int, mean: Sequence[float] = (0.5, 0.5, 0.5),
                   std: Sequence[float] = (0.5, 0.5, 0.5), channels: int = 3) -> torch.Tensor:
    """Resize and normalise images in ``[0, 1]`` for a ViT/DeiT (bilinear, like the image processors).

    Args:
        images: shape ``(B, C, H, W)`` with ``C`` 1 or ``channels``, values in ``[0, 1]``.
        image_size: the model's input side.
        mean, std: per-channel normalisation (from the checkpoint's ``preprocessor_config.json``).
        channels: the model's input channels; grey images are repeated.

    Returns:
        ``pixel_values``, shape ``(B, channels, image_size, image_size)``, float32.
    """
    if images.ndim != 4 or images.shape[1] not in (1, channels):
        raise ValueError(f"images must have shape (B, 1 or {channels}, H, W), got {tuple(images.shape)}")
    images = images.float()
    if images.shape[1] == 1 and channels != 1:
        images = images.expand(-1, channels, -1, -1)
    resized = torch.nn.functional.interpolate(images, size=(image_size, image_size), mode="bilinear",
                                              align_corners=False, antialias=True)
    mean_t = torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1)
    std_t = torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1)
    return (resized - mean_t) / std_t
