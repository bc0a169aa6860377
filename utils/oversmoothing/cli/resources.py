"""Up-front checks of the ``oversmoothing`` command (private module): the cores a process may use, and the
memory and work of one training step, so that a run that cannot fit fails at once and a slow one says so.

The estimates count float32 tensors. They are meant to catch sizes that are off by orders of magnitude
(``--context 100000``), not to predict a run to the megabyte.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from ..models import TransformerConfig

BYTES_PER_FLOAT = 4

SAVED_WIDTHS_PER_LAYER = 12
"""Token-wide tensors a block keeps for the backward pass, besides the MLP's hidden ones: norms, queries, keys,
values, attention output, projections and residual sums (measured: about 20 widths of ``dim`` per token and
block with ``mlp_ratio=4``, of which 8 are the MLP's)."""

CPU_OPERATIONS_PER_SECOND = 1e11
"""Floating-point operations per second of one CPU core on these models (measured, fused attention)."""

SLOW_STEP_SECONDS = 10.0
"""A training step that a CPU core needs longer for than this is announced with a warning."""


def usable_cores() -> int:
    """The CPU cores this process may run on: its affinity where the platform reports it, else ``os.cpu_count()``."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # macOS and Windows have no sched_getaffinity
        return os.cpu_count() or 1


def available_memory(device: torch.device) -> int | None:
    """Bytes a new allocation on ``device`` can take: CUDA's free memory, or the host's available memory for the
    CPU; ``None`` where it is not known (MPS, or a host that reports neither ``MemAvailable`` nor free pages)."""
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    if device.type != "cpu":
        return None
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return None


@dataclass(frozen=True)
class TrainingStep:
    """The sizes of one training step of a model of this package, for the estimates.

    Attributes:
        config: the encoder's :class:`~oversmoothing.models.TransformerConfig`.
        batch: examples per step in this process.
        tokens: tokens per example (the context of a character model; patches plus the class token of a ViT).
        input_width: width of one input token before the embedding (vocabulary size, or pixels per patch).
        outputs: logits per prediction (classes, or the vocabulary).
        per_token: one prediction per token (a language model) rather than one per example.
        eval_batch: examples per forward pass of the evaluation.
        metric_batch: examples whose hidden states of every layer are kept for the per-layer metrics.
    """

    config: TransformerConfig
    batch: int
    tokens: int
    input_width: int
    outputs: int
    per_token: bool
    eval_batch: int = 0
    metric_batch: int = 0

    def predictions(self, batch: int) -> int:
        """Predictions of ``batch`` examples: ``batch * tokens`` for a language model, ``batch`` for a classifier."""
        return batch * (self.tokens if self.per_token else 1)

    def _mlp_widths(self) -> float:
        return self.config.mlp_ratio if self.config.mlp else 0.0

    def parameters(self) -> int:
        """About how many parameters the model has: attention and MLP weights, embeddings, head."""
        dim = self.config.dim
        per_block = (4 + 2 * self._mlp_widths()) * dim * dim
        return int(self.config.depth * per_block + (self.input_width + self.tokens + self.outputs) * dim)

    def memory(self) -> int:
        """Estimated peak bytes of the run: weights, gradients and AdamW's two moments, plus the largest of a
        training step's activations, an evaluation pass and the per-layer metrics pass."""
        config = self.config
        width = config.dim * self.tokens
        saved = self.batch * width * config.depth * (SAVED_WIDTHS_PER_LAYER + 2 * self._mlp_widths())
        training = saved + 3 * self.predictions(self.batch) * self.outputs  # the logits and their gradient
        # without gradients a block holds a few widths at a time: queries, keys, values, output, MLP hidden
        evaluation = (self.eval_batch * width * (5 + self._mlp_widths())
                      + 2 * self.predictions(self.eval_batch) * self.outputs)
        metrics = 3 * self.metric_batch * width * (config.depth + 1)  # the states of every layer, and SVD copies
        return int((4 * self.parameters() + max(training, evaluation, metrics)) * BYTES_PER_FLOAT)

    def operations(self) -> float:
        """Floating-point operations of a forward and backward pass (three forward passes): the matrix products
        of the weights, and the attention's two ``n x n`` products per block, which grow with ``tokens ** 2``."""
        config = self.config
        weights = 2 * (self.parameters() - (self.input_width + self.tokens) * config.dim) * self.batch * self.tokens
        attention = 4 * config.depth * self.batch * self.tokens**2 * config.dim
        return 3.0 * (weights + attention)

    def cpu_seconds(self) -> float:
        """Rough seconds one CPU core needs for the step."""
        return self.operations() / CPU_OPERATIONS_PER_SECOND


def format_bytes(size: float) -> str:
    """``size`` bytes in readable units: ``'8.5 GB'``."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")  # pragma: no cover


def format_seconds(seconds: float) -> str:
    """A duration in readable units: ``'21 minutes'``."""
    for unit, length in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= 2 * length:
            return f"{seconds / length:.0f} {unit}"
    return f"{seconds:.0f} seconds"
