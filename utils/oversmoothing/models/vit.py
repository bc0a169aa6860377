"""A small Vision Transformer (patch embedding, class token, learned positions) on the book's blocks."""

from __future__ import annotations

import torch
from torch import nn

from .transformer import Intermediates, TransformerConfig, TransformerEncoder


class PatchEmbed(nn.Module):
    """Split an image into non-overlapping square patches and embed each linearly.

    Args:
        image_size: height and width of the (square) input images.
        patch_size: side of a patch; must divide ``image_size``.
        in_channels: image channels.
        dim: embedding width ``d``.
    """

    def __init__(self, image_size: int, patch_size: int, in_channels: int, dim: int):
        super().__init__()
        if image_size % patch_size:
            raise ValueError(f"patch_size={patch_size} must divide image_size={image_size}")
        self.image_size = image_size
        self.in_channels = in_channels
        self.num_patches = (image_size // patch_size) ** 2
        self.proj = nn.Conv2d(in_channels, dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """``images``: shape ``(B, C, H, W)``. Returns patch tokens ``(B, num_patches, d)``."""
        expected = (self.in_channels, self.image_size, self.image_size)
        if images.ndim != 4 or tuple(images.shape[1:]) != expected:
            raise ValueError(f"images must have shape (B, {', '.join(map(str, expected))}), got {tuple(images.shape)}")
        if not images.is_floating_point():
            raise TypeError(f"images must be floating point, got {images.dtype}")
        return self.proj(images).flatten(2).transpose(1, 2)


class VisionTransformer(nn.Module):
    """ViT classifier: class token + patch tokens + positions, encoder, linear head on the class token.

    Args:
        config: the encoder's :class:`TransformerConfig`.
        image_size: side of the square input images.
        patch_size: side of a patch.
        in_channels: image channels.
        num_classes: output classes.

    Token 0 of every hidden state is the class token: pass ``exclude=[0]`` to the metrics.
    """

    def __init__(self, config: TransformerConfig, image_size: int = 8, patch_size: int = 2,
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
