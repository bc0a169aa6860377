"""Training: one loop for every model of the book, with its schedule, checkpoints and record.

``train(model, splits.train, splits.test, TrainConfig(epochs=10, batch_size=128, lr=1e-3))`` trains a
classifier (logits ``(B, C)``) or a language model (logits ``(B, n, V)``) with AdamW, linear warm-up and
cosine decay, label smoothing, bfloat16 autocast on CUDA, optional ``torch.compile``, and
DistributedDataParallel under ``torchrun``; it returns a :class:`History` of losses, accuracies and
per-layer metrics, and writes safetensors checkpoints on request.
"""

from .checkpoint import load_checkpoint, save_checkpoint, unwrap_model
from .config import TrainConfig
from .distributed import ProcessGroup, current_group, init_from_environment
from .history import EPOCH_FIELDS, History, has_converged
from .loop import cross_entropy_loss, evaluate, train
from .schedule import warmup_cosine_factor, warmup_cosine_schedule

__all__ = [
    "EPOCH_FIELDS",
    "History",
    "ProcessGroup",
    "TrainConfig",
    "cross_entropy_loss",
    "current_group",
    "evaluate",
    "has_converged",
    "init_from_environment",
    "load_checkpoint",
    "save_checkpoint",
    "train",
    "unwrap_model",
    "warmup_cosine_factor",
    "warmup_cosine_schedule",
]
