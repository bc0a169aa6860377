"""Model builders: the theory's linear stacks, a Transformer encoder, a small ViT and a character model."""

from .branch_steps import relative_branch_steps
from .char import CharTransformer, generate
from .linear import LinearAttentionStack
from .recomputed import RecomputedAttentionStack
from .spectral import SpectralH
from .transformer import (
    MLP,
    VALUE_MAPS,
    Attention,
    Block,
    Intermediates,
    TransformerConfig,
    TransformerEncoder,
    head_value_outputs,
    value_output_maps,
)
from .vit import PatchEmbed, VisionTransformer

__all__ = [
    "MLP",
    "VALUE_MAPS",
    "Attention",
    "Block",
    "CharTransformer",
    "Intermediates",
    "LinearAttentionStack",
    "PatchEmbed",
    "RecomputedAttentionStack",
    "SpectralH",
    "TransformerConfig",
    "TransformerEncoder",
    "generate",
    "head_value_outputs",
    "relative_branch_steps",
    "VisionTransformer",
    "value_output_maps",
]
