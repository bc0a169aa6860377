"""Image corruptions at five severities, with the constants of CIFAR-10-C (Hendrycks and Dietterich, 2019).

Vectorised in PyTorch on whole batches, on the images' device. With pixel values in ``[0, 1]`` and
severity ``s`` in ``1..5``:

- ``gaussian_noise``: add i.i.d. normal noise of standard deviation ``(0.04, 0.06, 0.08, 0.09, 0.10)[s-1]``;
- ``gaussian_blur``: a Gaussian filter of standard deviation ``(0.4, 0.6, 0.7, 0.8, 1.0)[s-1]`` pixels over
  height and width, each channel on its own, truncated at 4 standard deviations, edges repeated
  (``scipy.ndimage.gaussian_filter`` with ``mode="nearest"``, as ``skimage.filters.gaussian`` uses);
- ``contrast``: ``(x - m) c + m`` with ``m`` the mean of each image's channel and
  ``c = (0.75, 0.5, 0.4, 0.3, 0.15)[s-1]``.

The result is clipped to ``[0, 1]``. Severity ``0`` returns an unchanged copy (the clean images).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .._validation import check_choice, check_int, check_positive

CORRUPTIONS = ("gaussian_noise", "gaussian_blur", "contrast")
"""Kinds accepted by :func:`corrupt`."""

SEVERITY_CONSTANTS: dict[str, tuple[float, ...]] = {
    "gaussian_noise": (0.04, 0.06, 0.08, 0.09, 0.10),
    "gaussian_blur": (0.4, 0.6, 0.7, 0.8, 1.0),
    "contrast": (0.75, 0.5, 0.4, 0.3, 0.15),
}
"""CIFAR-10-C's parameter for severities 1..5: noise standard deviation, blur sigma, contrast factor."""

MAX_SEVERITY = 5
"""Largest severity."""

_BLUR_TRUNCATE = 4.0


def corrupt(images: torch.Tensor, kind: str, severity: int, seed: int = 0) -> torch.Tensor:
    """Corrupt a batch of images.

    Args:
        images: ``(..., C, H, W)`` floating, values in ``[0, 1]``.
        kind: one of :data:`CORRUPTIONS`.
        severity: ``0`` (clean) to ``5``.
        seed: seeds the noise (drawn on the CPU, so the same on every device); unused by the other kinds.

    Returns:
        Same shape, dtype and device as ``images``, values in ``[0, 1]``.

    Raises:
        TypeError: ``images`` is not a floating tensor.
        ValueError: fewer than 3 dimensions, a NaN or a value outside ``[0, 1]``, unknown ``kind``,
            severity outside ``0..5``.
    """
    _check_images(images)
    check_choice(kind, "kind", CORRUPTIONS)
    check_int(severity, "severity", minimum=0, maximum=MAX_SEVERITY)
    seed = check_int(seed, "seed", minimum=0)
    if severity == 0:
        return images.clone()
    constant = SEVERITY_CONSTANTS[kind][severity - 1]
    if kind == "gaussian_noise":
        noise = torch.randn(images.shape, generator=torch.Generator().manual_seed(seed))
        corrupted = images + constant * noise.to(device=images.device, dtype=images.dtype)
    elif kind == "gaussian_blur":
        corrupted = gaussian_blur(images, constant)
    else:
        means = images.mean(dim=(-2, -1), keepdim=True)
        corrupted = (images - means) * constant + means
    return corrupted.clamp_(0.0, 1.0)


def gaussian_blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian filter over the last two dimensions, edges repeated, truncated at ``4 sigma``.

    Args:
        images: ``(..., H, W)`` floating.
        sigma: standard deviation in pixels, positive.

    Returns:
        Same shape as ``images`` (not clipped).
    """
    if not isinstance(images, torch.Tensor) or not images.is_floating_point():
        raise TypeError("images must be a floating torch.Tensor of shape (..., H, W)")
    if images.ndim < 2:
        raise ValueError(f"images must have shape (..., H, W), got {tuple(images.shape)}")
    sigma = check_positive(sigma, "sigma")
    radius = int(_BLUR_TRUNCATE * sigma + 0.5)
    offsets = torch.arange(-radius, radius + 1, device=images.device, dtype=images.dtype)
    weights = torch.exp(-0.5 * (offsets / sigma) ** 2)
    weights = weights / weights.sum()
    height, width = images.shape[-2:]
    planes = F.pad(images.reshape(-1, 1, height, width), (radius, radius, radius, radius), mode="replicate")
    planes = F.conv2d(planes, weights.view(1, 1, 1, -1))  # along the width
    planes = F.conv2d(planes, weights.view(1, 1, -1, 1))  # along the height
    return planes.reshape(images.shape)


def _check_images(images: object) -> None:
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"images must be a torch.Tensor of shape (..., C, H, W), got {type(images).__name__}")
    if not images.is_floating_point():
        raise TypeError(f"images must have a floating dtype, got {images.dtype}; divide uint8 pixels by 255 first")
    if images.ndim < 3:
        raise ValueError(f"images must have shape (..., C, H, W), got {tuple(images.shape)}")
    if images.numel() and (torch.isnan(images).any() or images.min() < 0 or images.max() > 1):
        raise ValueError("images must hold values in [0, 1] without NaN (corruptions assume that pixel range)")
