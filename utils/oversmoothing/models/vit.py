"""A small Vision Transformer (patch embedding, class token, learned positions) on the book's blocks."""

from __future__ import annotations

import torch
from torch import nn

from .transformer import Intermediates, TransformerConfig, TransformerEncoder

Size = int | tuple[int, int]


def _pair(value: Size, name: str) -> tuple[int, int]:
    """``value`` as ``(height, width)``: an int ``s`` means ``(s, s)``."""
    pair = (value, value) if isinstance(value, int) and not isinstance(value, bool) else value
    if (not isinstance(pair, tuple) or len(pair) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in pair)):
        raise ValueError(f"{name} must be a positive int or a pair (height, width) of them, got {value!r}")
    return pair


class PatchEmbed(nn.Module):
    """Split an image into non-overlapping patches and embed each linearly.

    Args:
        image_size: the input images' side (square images) or ``(height, width)``.
        patch_size: a patch's side or ``(height, width)``; must divide ``image_size`` along both axes.
            ``image_size=(1, 40)`` with ``patch_size=(1, 4)`` cuts a 1-D signal of shape ``(B, C, 1, 40)``
            into 10 tokens.
        in_channels: image channels.
        dim: embedding width ``d``.
    """

    def __init__(self, image_size: Size, patch_size: Size, in_channels: int, dim: int):
        super().__init__()
        image, patch = _pair(image_size, "image_size"), _pair(patch_size, "patch_size")
        if image[0] % patch[0] or image[1] % patch[1]:
            raise ValueError(f"patch_size={patch_size} must divide image_size={image_size} along both axes")
        self.image_size = image
        self.in_channels = in_channels
        self.num_patches = (image[0] // patch[0]) * (image[1] // patch[1])
        self.proj = nn.Conv2d(in_channels, dim, kernel_size=patch, stride=patch)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """``images``: shape ``(B, C, H, W)``. Returns patch tokens ``(B, num_patches, d)`` in row-major order."""
        expected = (self.in_channels, *self.image_size)
        if images.ndim != 4 or tuple(images.shape[1:]) != expected:
            raise ValueError(f"images must have shape (B, {', '.join(map(str, expected))}), got {tuple(images.shape)}")
        if not images.is_floating_point():
            raise TypeError(f"images must be floating point, got {images.dtype}")
        return self.proj(images).flatten(2).transpose(1, 2)


class VisionTransformer(nn.Module):
    """ViT classifier: class token + patch tokens + positions, encoder, linear head on the class token.

    Args:
        config: the encoder's :class:`TransformerConfig`.
        image_size: side of the square input images, or ``(height, width)``.
        patch_size: side of a patch, or ``(height, width)``.
        in_channels: image channels.
        num_classes: output classes.

    Token 0 of every hidden state is the class token: pass ``exclude=[0]`` to the metrics.
    """

    def __init__(self, config: TransformerConfig, image_size: Size = 8, patch_size: Size = 2,
                 in_channels: int = 1, num_classes: int = 10):
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"num_classes must be positive, got {num_classes}")
        self.patch_embed = PatchEmbed(image_size, patch_size, in_channels, config.dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, config.dim))
        self.pos_embed = nn.Parameter(torch.randn(1, self.patch_embed.num_patches + 1, config.dim) * config.init_std)
        self.encoder = TransformerEncoder(config)
        self.head = nn.Linear(config.dim, num_classes)

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """``images``: ``(B, C, H, W)``. Returns the encoder's input tokens ``(B, 1 + num_patches, d)``."""
        patches = self.patch_embed(images)
        cls = self.cls_token.expand(patches.shape[0], -1, -1)
        return torch.cat([cls, patches], dim=1) + self.pos_embed

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """``images``: ``(B, C, H, W)``. Returns logits ``(B, num_classes)``."""
        return self.head(self.encoder(self.embed(images))[:, 0])

    def forward_intermediates(self, images: torch.Tensor, return_attention: bool = False) -> Intermediates:
        """Per-layer tokens (class token first) and, on request, attention maps; see
        :meth:`TransformerEncoder.forward_intermediates`."""
        return self.encoder.forward_intermediates(self.embed(images), return_attention)
