"""One training loop for every model of the book: classifiers ``(B, C)`` and language models ``(B, n, V)``."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Protocol

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from ..metrics import layer_metrics
from ..runtime import get_device, seed_everything
from .checkpoint import save_checkpoint
from .config import TrainConfig
from .distributed import ProcessGroup, all_reduce_sum, current_group, process_device
from .history import History
from .schedule import warmup_cosine_schedule
from .._validation import check_int


class Examples(Protocol):
    """What the loop needs from a data set (:class:`oversmoothing.datasets.ArrayDataset` has it)."""

    inputs: torch.Tensor
    targets: torch.Tensor


def cross_entropy_loss(logits: torch.Tensor, targets: torch.Tensor, label_smoothing: float = 0.0,
                       reduction: str = "mean") -> torch.Tensor:
    r"""Cross entropy of ``logits (..., C)`` against class indices ``targets (...)``, with label smoothing.

    With :math:`p = \mathrm{softmax}(z)` the loss of one prediction is
    :math:`(1 - \varepsilon)(-\log p_y) + \varepsilon \cdot \frac1C \sum_c (-\log p_c)`.
    Classification passes ``(B, C)`` and ``(B,)``, a language model ``(B, n, V)`` and ``(B, n)``.
    ``reduction`` is ``"mean"`` or ``"sum"`` over all predictions.
    """
    if logits.ndim < 2 or tuple(logits.shape[:-1]) != tuple(targets.shape):
        raise ValueError(f"logits (..., C) and targets (...) must agree: got logits {tuple(logits.shape)} "
                         f"and targets {tuple(targets.shape)}")
    if targets.dtype != torch.int64:
        raise TypeError(f"targets must be int64 class indices, got {targets.dtype}")
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), targets.reshape(-1),
                           label_smoothing=label_smoothing, reduction=reduction)


def _check_examples(data: object, name: str) -> None:
    inputs, targets = getattr(data, "inputs", None), getattr(data, "targets", None)
    if not isinstance(inputs, torch.Tensor) or not isinstance(targets, torch.Tensor):
        raise TypeError(f"{name} must have tensor attributes inputs and targets (an ArrayDataset), "
                        f"got {type(data).__name__}")
    if targets.dtype != torch.int64:
        raise TypeError(f"{name}.targets must be int64 class indices, got {targets.dtype}")
    if len(inputs) != len(targets) or len(inputs) == 0:
        raise ValueError(f"{name} must hold as many inputs as targets, at least one: got {len(inputs)} "
                         f"inputs and {len(targets)} targets")


def _autocast(device: torch.device, amp: bool | None):
    enabled = device.type == "cuda" if amp is None else amp
    return torch.autocast(device.type, dtype=torch.bfloat16) if enabled else nullcontext()


def _model_device(model: nn.Module) -> torch.device:
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


@torch.no_grad()
def _sums(model: nn.Module, data: Examples, batch_size: int, device: torch.device,
          amp: bool | None) -> torch.Tensor:
    """``[summed loss, correct predictions, predictions]`` over ``data``, on ``device`` (no host sync)."""
    was_training = model.training
    model.eval()
    sums = torch.zeros(3, device=device, dtype=torch.float64)
    for start in range(0, len(data.inputs), batch_size):
        inputs = data.inputs[start:start + batch_size].to(device, non_blocking=True)
        targets = data.targets[start:start + batch_size].to(device, non_blocking=True)
        with _autocast(device, amp):
            logits = model(inputs)
        sums[0] += cross_entropy_loss(logits, targets, reduction="sum")
        sums[1] += (logits.argmax(dim=-1) == targets).sum()
        sums[2] += targets.numel()
    model.train(was_training)
    return sums


def evaluate(model: nn.Module, data: Examples, batch_size: int = 512, device: torch.device | str | None = None,
             amp: bool | None = None) -> dict[str, float]:
    """Mean cross entropy (no label smoothing) and accuracy of ``model`` on ``data``.

    Args:
        model: maps ``data.inputs`` batches to logits ``(B, C)`` or ``(B, n, V)``.
        data: an :class:`~oversmoothing.datasets.ArrayDataset` (targets ``(N,)`` or ``(N, n)``).
        batch_size: examples per forward pass.
        device: where to compute (default: the device of the model's parameters).
        amp: bfloat16 autocast (default: on CUDA only).

    Returns:
        ``{"loss": ..., "accuracy": ...}``, both averaged over every prediction (every token for a
        language model). Each process evaluates all of ``data``; there is no collective call.
    """
    _check_examples(data, "data")
    check_int(batch_size, "batch_size", minimum=1)
    device = _model_device(model) if device is None else torch.device(device)
    loss, correct, count = _sums(model, data, batch_size, device, amp).tolist()
    return {"loss": loss / count, "accuracy": correct / count}


def _decay_groups(model: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """AdamW parameter groups: weight decay on tensors with two or more dimensions only."""
    parameters = [p for p in model.parameters() if p.requires_grad]
    return [{"params": [p for p in parameters if p.ndim >= 2], "weight_decay": weight_decay},
            {"params": [p for p in parameters if p.ndim < 2], "weight_decay": 0.0}]


def _layer_rows(model: nn.Module, inputs: torch.Tensor, exclude: Sequence[int] | None,
                epoch: int) -> list[dict[str, float]]:
    was_training = model.training
    model.eval()
    with torch.no_grad():
        states = model.forward_intermediates(inputs).hidden_states
    model.train(was_training)
    table = layer_metrics(states.float(), exclude=exclude)
    table.insert(0, "epoch", epoch)
    return table.to_dict("records")


EpochHook = Callable[[nn.Module, int], Mapping[str, Any] | None]
"""``on_epoch_end(model, epoch) -> dict | None``: called with the unwrapped model before training (epoch 0)
and after every epoch; what it returns is stored in :attr:`History.epoch_end`."""


def _record_epoch_end(history: History, hook: EpochHook | None, model: nn.Module, epoch: int) -> None:
    """Call ``hook`` in eval mode without gradients and append ``{"epoch": epoch, **result}`` to the history."""
    if hook is None:
        return
    was_training = model.training
    model.eval()
    with torch.no_grad():
        values = hook(model, epoch)
    model.train(was_training)
    if values is None:
        return
    if not isinstance(values, Mapping) or "epoch" in values:
        raise TypeError(f"on_epoch_end must return a dict without an 'epoch' key, or None; got {values!r}")
    history.epoch_end.append({"epoch": epoch, **values})


def _steps_per_epoch(train_size: int, config: TrainConfig, group: ProcessGroup) -> int:
    if config.batch_size % group.world_size:
        raise ValueError(f"batch_size={config.batch_size} must be divisible by the {group.world_size} processes")
    if train_size < config.batch_size:
        raise ValueError(f"batch_size={config.batch_size} is larger than the training set ({train_size} examples)")
    return train_size // config.batch_size


def train(model: nn.Module, train: Examples, val: Examples, config: TrainConfig,
          device: torch.device | str | None = None, metric_inputs: torch.Tensor | None = None,
          metric_exclude: Sequence[int] | None = None, on_epoch_end: EpochHook | None = None) -> History:
    """Train ``model`` in place with AdamW, warm-up + cosine schedule and label smoothing.

    Each epoch visits ``len(train) // batch_size`` batches in a seeded random order (the last
    incomplete batch is dropped), then evaluates on ``val``. Under ``torchrun`` (an initialised
    ``torch.distributed``) the model is wrapped in ``DistributedDataParallel``, process ``r`` of ``W``
    takes examples ``r, r + W, ...`` of every batch, and process 0 writes the checkpoints; with equal
    shards the averaged gradient equals the one-process gradient, so ``W`` processes follow the
    one-process run up to rounding.

    Args:
        model: maps ``train.inputs`` batches to logits ``(B, C)`` (targets ``(B,)``) or ``(B, n, V)``
            (targets ``(B, n)``).
        train: training examples (an :class:`~oversmoothing.datasets.ArrayDataset`).
        val: validation examples, evaluated after every epoch.
        config: a :class:`TrainConfig`.
        device: where to train (default: :func:`oversmoothing.get_device`); the data sets are moved
            there once.
        metric_inputs: a batch of inputs ``(B, ...)`` on which :func:`oversmoothing.layer_metrics` of
            ``model.forward_intermediates(metric_inputs).hidden_states`` is recorded before training
            and at the epochs that ``config.metrics_every`` selects (always after the last).
        metric_exclude: token positions left out of the metrics (``[0]`` for a class token).
        on_epoch_end: ``fn(model, epoch) -> dict | None``, called in eval mode without gradients before
            training (``epoch = 0``) and after every epoch's evaluation; each returned dict is stored,
            with its ``epoch``, in :attr:`History.epoch_end` (e.g. a spectrum of the weights per epoch).

    Returns:
        The :class:`History` (identical on every process).
    """
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    _check_examples(train, "train")
    _check_examples(val, "val")
    if metric_inputs is not None:
        if not isinstance(metric_inputs, torch.Tensor):
            raise TypeError(f"metric_inputs must be a tensor, got {type(metric_inputs).__name__}")
        if not callable(getattr(model, "forward_intermediates", None)):
            raise TypeError(f"metric_inputs needs model.forward_intermediates, which {type(model).__name__} lacks")
    if on_epoch_end is not None and not callable(on_epoch_end):
        raise TypeError(f"on_epoch_end must be callable or None, got {type(on_epoch_end).__name__}")
    group = current_group()
    device = process_device(get_device(None if device is None else str(device)), group)
    steps_per_epoch = _steps_per_epoch(len(train.inputs), config, group)
    total_steps = config.epochs * steps_per_epoch
    warmup_steps = min(round(config.warmup_fraction * total_steps), total_steps - 1)

    seed_everything(config.seed)
    order = torch.Generator().manual_seed(config.seed)
    model.to(device)
    inputs, targets = train.inputs.to(device), train.targets.to(device)
    val = SimpleNamespace(inputs=val.inputs.to(device), targets=val.targets.to(device))
    metric_inputs = None if metric_inputs is None else metric_inputs.to(device)
    optimizer = torch.optim.AdamW(_decay_groups(model, config.weight_decay), lr=config.lr,
                                  fused=device.type == "cuda")
    scheduler = warmup_cosine_schedule(optimizer, total_steps, warmup_steps)
    network = nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda"
                                                  else None) if group.active else model
    network = torch.compile(network) if config.compile else network

    # the bar shows from the start, before the first metrics and the first step, however slow they are
    bar = tqdm(total=total_steps, disable=not (config.progress and group.is_main), unit="step", leave=False)
    history = History(config=config.to_dict())
    if metric_inputs is not None:
        history.layer_metrics += _layer_rows(model, metric_inputs, metric_exclude, epoch=0)
    _record_epoch_end(history, on_epoch_end, model, 0)
    step = 0
    for epoch in range(1, config.epochs + 1):
        started = time.perf_counter()
        network.train()
        sums = torch.zeros(3, device=device, dtype=torch.float64)  # loss sum, correct, predictions
        permutation = torch.randperm(len(inputs), generator=order).to(device)
        for batch in range(steps_per_epoch):
            mine = permutation[batch * config.batch_size:(batch + 1) * config.batch_size][group.rank::group.world_size]
            batch_inputs, batch_targets = inputs[mine], targets[mine]
            with _autocast(device, config.amp):
                logits = network(batch_inputs)
            loss = cross_entropy_loss(logits, batch_targets, config.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if config.grad_clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            lr = optimizer.param_groups[0]["lr"]
            optimizer.step()
            scheduler.step()
            step += 1
            with torch.no_grad():
                sums[0] += loss.detach() * batch_targets.numel()
                sums[1] += (logits.detach().argmax(dim=-1) == batch_targets).sum()
                sums[2] += batch_targets.numel()
            bar.update()
        loss_sum, correct, count = all_reduce_sum(sums, group).tolist()
        if loss_sum != loss_sum or abs(loss_sum) == float("inf"):
            raise FloatingPointError(f"training loss became {loss_sum / count} in epoch {epoch}: the run diverged; "
                                     f"lower the learning rate (now {config.lr:g})")
        scores = evaluate(model, val, config.eval_batch_size, device, config.amp)
        history.epochs.append({"epoch": epoch, "step": step, "train_loss": loss_sum / count,
                               "train_accuracy": correct / count, "val_loss": scores["loss"],
                               "val_accuracy": scores["accuracy"], "lr": lr,
                               "seconds": time.perf_counter() - started})
        last = epoch == config.epochs
        if metric_inputs is not None and (last or (config.metrics_every and epoch % config.metrics_every == 0)):
            history.layer_metrics += _layer_rows(model, metric_inputs, metric_exclude, epoch=epoch)
        _record_epoch_end(history, on_epoch_end, model, epoch)
        bar.set_postfix(loss=f"{loss_sum / count:.3f}", val_acc=f"{scores['accuracy']:.3f}")
        if config.checkpoint_dir is not None and group.is_main:
            save_checkpoint(model, Path(config.checkpoint_dir) / "last.safetensors",
                            {"epoch": epoch, "step": step, "config": history.config})
    bar.close()
    if config.checkpoint_dir is not None and group.is_main:
        history.to_json(Path(config.checkpoint_dir) / "history.json")
    return history
