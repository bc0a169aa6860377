"""Linear warm-up then cosine decay: the learning-rate schedule of ViT, DeiT and nanoGPT."""

from __future__ import annotations

import math

import torch

from .._validation import check_int


def warmup_cosine_factor(step: int, total_steps: int, warmup_steps: int) -> float:
    r"""Multiplier of the peak learning rate before optimiser step ``step`` (counted from 0).

    With ``W = warmup_steps`` and ``T = total_steps``:

    .. math::
        f(s) = \frac{s + 1}{W} \quad (s < W), \qquad
        f(s) = \tfrac12\Bigl(1 + \cos\bigl(\pi \tfrac{s - W}{T - W}\bigr)\Bigr) \quad (W \le s < T),

    so the peak is reached at the last warm-up step, and the last step still moves (``f(T - 1) > 0``).

    Raises:
        ValueError: ``total_steps < 1``, ``warmup_steps`` outside ``[0, total_steps)`` or ``step``
            outside ``[0, total_steps)``.
    """
    for name, value in (("step", step), ("total_steps", total_steps), ("warmup_steps", warmup_steps)):
        check_int(value, name)
    if total_steps < 1:
        raise ValueError(f"total_steps must be >= 1, got {total_steps}")
    if not 0 <= warmup_steps < total_steps:
        raise ValueError(f"warmup_steps must lie in [0, total_steps={total_steps}), got {warmup_steps}")
    if not 0 <= step < total_steps:
        raise ValueError(f"step must lie in [0, total_steps={total_steps}), got {step}")
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    return 0.5 * (1.0 + math.cos(math.pi * progress))


def warmup_cosine_schedule(optimizer: torch.optim.Optimizer, total_steps: int,
                           warmup_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """A scheduler that sets ``lr = peak * warmup_cosine_factor(step, ...)``; call ``.step()`` after each
    optimiser step."""
    warmup_cosine_factor(0, total_steps, warmup_steps)  # validates the arguments once

    def factor(step: int) -> float:
        return warmup_cosine_factor(min(step, total_steps - 1), total_steps, warmup_steps)

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
