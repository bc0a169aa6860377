"""Models, metrics and theory for the book *Do Transformers Oversmooth? Theory you can run*.

The most used names are re-exported here::

    import oversmoothing as ovs
    table = ovs.layer_metrics(model.forward_intermediates(x).hidden_states)
    mode = ovs.dominant_mode(A, H)   # the theory's prediction, from oversmoothing.spectrum
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
from .spectrum import (
    ATTENTION_MIN_RANGE,
    REGIMES,
    DominantMode,
    asymmetry,
    causal_block_eigenvalues,
    dc_dominates,
    dominant_mode,
    dominant_mode_from_spectra,
    endpoint_gap,
    gaussian_asymmetry,
    mode_coordinates,
    perron_index,
    phase_condition,
    power_iteration,
    split_by_heads,
    update_eigenvalues,
)
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
    "ATTENTION_MIN_RANGE",
    "METRICS",
    "REGIMES",
    "VALUE_MAPS",
    "CharTransformer",
    "DominantMode",
    "History",
    "Intermediates",
    "LinearAttentionStack",
    "RecomputedAttentionStack",
    "SpectralH",
    "TrainConfig",
    "TransformerConfig",
    "TransformerEncoder",
    "VisionTransformer",
    "asymmetry",
    "by_profile",
    "causal_block_eigenvalues",
    "consensus_distance",
    "cosine_similarity_matrix",
    "dc_component",
    "dc_dominates",
    "describe_environment",
    "dominant_mode",
    "dominant_mode_from_spectra",
    "effective_rank",
    "endpoint_gap",
    "evaluate",
    "gaussian_asymmetry",
    "get_device",
    "get_profile",
    "hc_component",
    "hc_dc_ratio",
    "layer_metrics",
    "load_checkpoint",
    "load_result",
    "mean_cosine_similarity",
    "mode_coordinates",
    "perron_index",
    "phase_condition",
    "power_iteration",
    "rank_one_residual",
    "run_experiment",
    "save_checkpoint",
    "seed_everything",
    "select_tokens",
    "singular_value_ratio",
    "split_by_heads",
    "train",
    "update_eigenvalues",
    "value_output_maps",
]
