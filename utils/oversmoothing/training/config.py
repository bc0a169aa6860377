"""The settings of one training run, checked when they are made."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .._validation import check_int, check_real


@dataclass
class TrainConfig:
    """How to train: optimiser, schedule, loss, precision, bookkeeping.

    Attributes:
        epochs: passes over the training set.
        batch_size: examples per optimiser step, summed over all processes under ``torchrun``
            (each of ``W`` processes takes ``batch_size / W`` of them).
        lr: peak learning rate of AdamW, reached at the end of the warm-up.
        weight_decay: AdamW's decoupled weight decay, applied to parameters with two or more
            dimensions (weight matrices, embeddings), not to biases, norm gains or per-channel scales.
        warmup_fraction: share of all steps spent raising the learning rate linearly from
            ``lr / warmup_steps`` to ``lr``; a cosine decay towards zero follows.
        label_smoothing: weight ``ε`` of the uniform distribution in the training targets.
        grad_clip: largest global gradient norm (``None``: no clipping).
        seed: seed of the data order (and of Python, NumPy and PyTorch when training starts).
        amp: bfloat16 autocast; ``None`` means on for CUDA, off elsewhere.
        compile: wrap the model in ``torch.compile`` (worth it on CUDA for runs of minutes).
        progress: show a tqdm progress bar (on the first process only).
        checkpoint_dir: write ``last.safetensors`` after every epoch and ``history.json`` at the end.
        metrics_every: compute per-layer metrics every this many epochs (``0``: only at the end).
        eval_batch_size: examples per forward pass in evaluation.
    """

    epochs: int
    batch_size: int
    lr: float
    weight_decay: float = 0.05
    warmup_fraction: float = 0.1
    label_smoothing: float = 0.0
    grad_clip: float | None = 1.0
    seed: int = 0
    amp: bool | None = None
    compile: bool = False
    progress: bool = True
    checkpoint_dir: str | Path | None = None
    metrics_every: int = 0
    eval_batch_size: int = 512

    def __post_init__(self) -> None:
        check_int(self.epochs, "epochs", minimum=1)
        check_int(self.batch_size, "batch_size", minimum=1)
        check_real(self.lr, "lr", 0.0, math.inf, low_open=True, high_open=True)
        check_real(self.weight_decay, "weight_decay", 0.0, math.inf, high_open=True)
        check_real(self.warmup_fraction, "warmup_fraction", 0.0, 1.0, high_open=True)
        check_real(self.label_smoothing, "label_smoothing", 0.0, 1.0, high_open=True)
        if self.grad_clip is not None:
            check_real(self.grad_clip, "grad_clip", 0.0, math.inf, low_open=True, high_open=True)
        check_int(self.seed, "seed", minimum=0)
        if self.amp is not None and not isinstance(self.amp, bool):
            raise ValueError(f"amp must be True, False or None, got {self.amp!r}")
        for name in ("compile", "progress"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if self.checkpoint_dir is not None and not isinstance(self.checkpoint_dir, (str, Path)):
            raise ValueError(f"checkpoint_dir must be a path or None, got {self.checkpoint_dir!r}")
        check_int(self.metrics_every, "metrics_every", minimum=0)
        check_int(self.eval_batch_size, "eval_batch_size", minimum=1)

    def to_dict(self) -> dict[str, Any]:
        """The settings as a JSON-ready dictionary (paths as strings)."""
        values = asdict(self)
        if values["checkpoint_dir"] is not None:
            values["checkpoint_dir"] = str(values["checkpoint_dir"])
        return values
