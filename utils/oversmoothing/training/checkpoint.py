"""Model weights in safetensors, with a JSON metadata record beside them in the same file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from safetensors import safe_open
from safetensors.torch import load_model, save_model
from torch import nn

METADATA_KEY = "oversmoothing"


def unwrap_model(model: nn.Module) -> nn.Module:
    """The plain module inside ``DistributedDataParallel`` and ``torch.compile`` wrappers."""
    while True:
        if hasattr(model, "_orig_mod"):  # torch.compile
            model = model._orig_mod
        elif isinstance(model, nn.parallel.DistributedDataParallel):
            model = model.module
        else:
            return model


def save_checkpoint(model: nn.Module, path: str | Path, metadata: dict[str, Any] | None = None) -> Path:
    """Write the model's parameters and buffers to a ``.safetensors`` file.

    Args:
        model: the model (wrappers from DDP or ``torch.compile`` are removed first).
        path: the file to write; its folder is created.
        metadata: JSON-serialisable facts stored in the file's header (config, epoch, ...).

    Returns:
        The path written.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    record = {} if metadata is None else metadata
    if not isinstance(record, dict):
        raise TypeError(f"metadata must be a dict, got {type(record).__name__}")
    try:
        encoded = json.dumps(record)
    except TypeError as err:
        raise ValueError(f"metadata must be JSON-serialisable: {err}") from err
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_model(unwrap_model(model), str(path), metadata={METADATA_KEY: encoded})
    return path


def load_checkpoint(model: nn.Module, path: str | Path) -> dict[str, Any]:
    """Load the weights of a file written by :func:`save_checkpoint` into ``model`` (strictly: every
    name and shape must match) and return its metadata.

    Raises:
        FileNotFoundError: no such file.
        RuntimeError: the file's tensors do not match the model's.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path={str(path)!r}: no checkpoint there")
    target = unwrap_model(model)
    device = next(target.parameters()).device
    load_model(target, str(path), strict=True, device=str(device))
    with safe_open(str(path), framework="pt") as handle:
        header = handle.metadata() or {}
    return json.loads(header.get(METADATA_KEY, "{}"))
