"""What a training run records: one row per epoch, and per-layer metrics at chosen epochs."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

EPOCH_FIELDS = ("epoch", "step", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "seconds")


def has_converged(epochs: Sequence[Mapping[str, float]], window: float = 0.2, tolerance: float = 0.01) -> bool:
    """The book's convergence rule: the validation loss changed by less than ``tolerance`` (relative) over the
    last ``window`` share of the epochs.

    With ``E`` epochs and ``k = max(1, ceil(window * E))``, the rule compares the validation loss after epoch
    ``E - k`` with the one after epoch ``E``: ``|L_E - L_{E-k}| < tolerance * L_{E-k}``.

    Args:
        epochs: the per-epoch record of a run (:attr:`History.epochs`, or the ``epochs`` of a stored result),
            each with a ``val_loss``.
        window: the share of the epochs in ``(0, 1)``.
        tolerance: the relative change allowed, positive.

    Returns:
        Whether the run met the rule; ``False`` for a run of fewer than two epochs, which cannot show it.

    Raises:
        ValueError: ``window`` or ``tolerance`` out of range, or an epoch without a finite ``val_loss``.
    """
    if not 0 < window < 1 or not tolerance > 0:
        raise ValueError(f"window must lie in (0, 1) and tolerance be positive, got {window!r} and {tolerance!r}")
    losses = [entry.get("val_loss") for entry in epochs]
    if any(loss is None or not math.isfinite(loss) for loss in losses):
        raise ValueError("every epoch must have a finite val_loss")
    if len(losses) < 2:
        return False
    span = max(1, math.ceil(window * len(losses)))
    start, end = losses[-1 - span], losses[-1]
    return abs(end - start) < tolerance * abs(start)


@dataclass
class History:
    """The record of one call of :func:`~oversmoothing.training.train`.

    Attributes:
        epochs: one dict per epoch with :data:`EPOCH_FIELDS`: ``epoch`` (from 1), ``step`` (optimiser
            steps so far), ``train_loss`` (mean training objective, with label smoothing),
            ``train_accuracy``, ``val_loss`` (plain cross entropy), ``val_accuracy``, ``lr`` (at the
            epoch's last step) and ``seconds`` (wall time of the epoch, evaluation included).
        layer_metrics: rows of :func:`oversmoothing.layer_metrics` tables with an ``epoch`` column
            (``0`` = before training), one row per layer and epoch.
        config: the :class:`TrainConfig` as a dict, plus whatever the caller adds.
        epoch_end: what the ``on_epoch_end`` hook of :func:`~oversmoothing.training.train` returned, one
            dict per call with an ``epoch`` key (``0`` = before training); empty without a hook.
    """

    epochs: list[dict[str, float]] = field(default_factory=list)
    layer_metrics: list[dict[str, float]] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    epoch_end: list[dict[str, Any]] = field(default_factory=list)

    def converged(self, window: float = 0.2, tolerance: float = 0.01) -> bool:
        """Whether this run met the book's convergence rule, :func:`has_converged`."""
        return has_converged(self.epochs, window, tolerance)

    def to_frame(self) -> pd.DataFrame:
        """The per-epoch record as a table, one row per epoch, columns :data:`EPOCH_FIELDS`."""
        return pd.DataFrame(self.epochs, columns=list(EPOCH_FIELDS))

    def layer_frame(self) -> pd.DataFrame:
        """The per-layer metrics as a table with columns ``epoch``, ``layer`` and one per metric."""
        return pd.DataFrame(self.layer_metrics)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary with keys ``config``, ``epochs``, ``layer_metrics`` and ``epoch_end``."""
        return {"config": self.config, "epochs": self.epochs, "layer_metrics": self.layer_metrics,
                "epoch_end": self.epoch_end}

    def to_json(self, path: str | Path) -> Path:
        """Write the record to ``path`` (folders created) and return the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=1))
        return path

    @classmethod
    def from_json(cls, path: str | Path) -> History:
        """Read a record written by :meth:`to_json`.

        Raises:
            FileNotFoundError: no such file.
            ValueError: the file lacks ``epochs``, ``layer_metrics`` or ``config``.
        """
        data = json.loads(Path(path).read_text())
        missing = {"epochs", "layer_metrics", "config"} - set(data)
        if missing:
            raise ValueError(f"path={str(path)!r} is not a training history: missing {sorted(missing)}")
        return cls(epochs=data["epochs"], layer_metrics=data["layer_metrics"], config=data["config"],
                   epoch_end=data.get("epoch_end", []))
