"""Models, metrics and theory for the book *Do Transformers Oversmooth? Theory you can run*.

The most used names are re-exported here::

    import oversmoothing as ovs
    table = ovs.layer_metrics(model.forward_intermediates(x).hidden_states)
"""

from . import filters, generators, spectrum
from .metrics import (
    METRICS,
    consensus_distance,
    cosine_similarity_matrix,
    dc_component,
    effective_rank,
    hc_component,
    hc_dc_ratio,
    layer_metrics,
    mean_cosine_similarity,
    rank_one_residual,
    select_tokens,
    singular_value_ratio,
)
from .models import (
    CharTransformer,
    Intermediates,
    LinearAttentionStack,
    RecomputedAttentionStack,
    TransformerConfig,
    TransformerEncoder,
    VisionTransformer,
)
from .runtime import by_profile, describe_environment, get_device, get_profile, seed_everything

__version__ = "0.1.0"

__all__ = [
    "filters",
    "generators",
    "spectrum",
    "METRICS",
    "CharTransformer",
    "Intermediates",
    "LinearAttentionStack",
    "RecomputedAttentionStack",
    "TransformerConfig",
    "TransformerEncoder",
    "VisionTransformer",
    "by_profile",
    "consensus_distance",
    "cosine_similarity_matrix",
    "dc_component",
    "describe_environment",
    "effective_rank",
    "get_device",
    "get_profile",
    "hc_component",
    "hc_dc_ratio",
    "layer_metrics",
    "mean_cosine_similarity",
    "rank_one_residual",
    "seed_everything",
    "select_tokens",
    "singular_value_ratio",
]
