"""Models, metrics and theory for the book *Do Transformers Oversmooth? Theory you can run*.

The most used names are re-exported here::

    import oversmoothing as ovs
    table = ovs.layer_metrics(model.forward_intermediates(x).hidden_states)
"""

from . import datasets, experiments, filters, generators, spectrum, training
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
    SpectralH,
    TransformerConfig,
    TransformerEncoder,
    VALUE_MAPS,
    VisionTransformer,
    value_output_maps,
)
from .experiments import load_result, run_experiment
from .runtime import by_profile, describe_environment, get_device, get_profile, seed_everything
from .training import History, TrainConfig, evaluate, load_checkpoint, save_checkpoint, train

__version__ = "0.1.0"

__all__ = [
    "datasets",
    "experiments",
    "filters",
    "generators",
    "spectrum",
    "training",
    "METRICS",
    "VALUE_MAPS",
    "CharTransformer",
    "History",
    "Intermediates",
    "LinearAttentionStack",
    "RecomputedAttentionStack",
    "SpectralH",
    "TrainConfig",
    "TransformerConfig",
    "TransformerEncoder",
    "VisionTransformer",
    "by_profile",
    "consensus_distance",
    "cosine_similarity_matrix",
    "dc_component",
    "describe_environment",
    "effective_rank",
    "evaluate",
    "get_device",
    "get_profile",
    "hc_component",
    "hc_dc_ratio",
    "layer_metrics",
    "load_checkpoint",
    "load_result",
    "mean_cosine_similarity",
    "rank_one_residual",
    "run_experiment",
    "save_checkpoint",
    "seed_everything",
    "select_tokens",
    "singular_value_ratio",
    "train",
    "value_output_maps",
]
