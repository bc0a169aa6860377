"""Model builders: the theory's linear stacks, a Transformer encoder, a small ViT and a character model."""

from .char import CharTransformer
from .linear import LinearAttentionStack
from .recomputed import RecomputedAttentionStack
from .transformer import (
    MLP,
    Attention,
    Block,
    Intermediates,
    TransformerConfig,
    TransformerEncoder,
)
from .vit import PatchEmbed, VisionTransformer

__all__ = [
    "MLP",
    "Attention",
    "Block",
    "CharTransformer",
    "Intermediates",
    "LinearAttentionStack",
    "PatchEmbed",
    "RecomputedAttentionStack",
    "TransformerConfig",
    "TransformerEncoder",
    "VisionTransformer",
]
