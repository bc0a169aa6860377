"""The registry of experiments: register one by name, run it, write its result as JSON and read it back."""

from __future__ import annotations

import importlib
import json
import math
import shlex
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, is_dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from .._validation import check_choice, check_int
from ..runtime import DEFAULT_SEED, describe_environment, get_device, get_profile, seed_everything

Experiment = Callable[..., dict]
"""``fn(profile: str, device: torch.device) -> dict`` of JSON-ready values (tensors, arrays and tables are
converted when written)."""

EXPERIMENTS: dict[str, Experiment] = {}
"""Registered experiments by name (filled when :data:`EXPERIMENT_MODULES` are imported)."""

EXPERIMENT_MODULES = ("vision", "language")
"""Modules of this package that register experiments when imported."""


def register(name: str) -> Callable[[Experiment], Experiment]:
    """Decorator: register ``fn(profile, device) -> dict`` as the experiment ``name``.

    Raises:
        ValueError: ``name`` is empty, contains characters other than letters, digits, ``-`` and ``_``,
            or is taken by another function.
    """
    if not isinstance(name, str) or not name or not all(c.isalnum() or c in "-_" for c in name):
        raise ValueError(f"name must be letters, digits, '-' or '_', got {name!r}")

    def decorate(function: Experiment) -> Experiment:
        known = EXPERIMENTS.get(name)
        if known is not None and known.__qualname__ != function.__qualname__:
            raise ValueError(f"name={name!r} is already registered by {known.__module__}.{known.__qualname__}")
        EXPERIMENTS[name] = function
        return function

    return decorate


def _import_experiment_modules() -> None:
    for module in EXPERIMENT_MODULES:
        try:
            importlib.import_module(f"{__package__}.{module}")
        except ModuleNotFoundError as err:
            if err.name != f"{__package__}.{module}":  # a missing dependency inside an existing module
                raise


def available_experiments() -> tuple[str, ...]:
    """Names of all experiments, sorted."""
    _import_experiment_modules()
    return tuple(sorted(EXPERIMENTS))


def to_jsonable(value: Any) -> Any:
    """``value`` with tensors and arrays as (nested) lists, tables as lists of row dicts, paths as strings,
    dataclasses as dicts and non-finite floats as ``None`` (strict JSON)."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().tolist()
    elif isinstance(value, (np.ndarray, np.generic)):
        value = value.tolist()
    elif isinstance(value, pd.DataFrame):
        value = value.to_dict("records")
    elif is_dataclass(value) and not isinstance(value, type):
        value = asdict(value)
    if isinstance(value, Mapping):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(item) for item in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"cannot write a {type(value).__name__} to JSON: {value!r}")


def result_path(name: str, profile: str, folder: str | Path = "results") -> Path:
    """Where the result of ``name`` in ``profile`` lives: ``folder/NAME-PROFILE.json``."""
    return Path(folder) / f"{name}-{get_profile(profile)}.json"


def run_experiment(name: str, profile: str | None = None, device: torch.device | str | None = None,
                   out: str | Path | None = None) -> dict[str, Any]:
    """Run the experiment ``name`` and return its result with a ``metadata`` entry.

    Args:
        name: a registered name (:func:`available_experiments`).
        profile: ``"quick"`` or ``"full"`` (default: :func:`oversmoothing.get_profile`).
        device: where to run (default: :func:`oversmoothing.get_device`).
        out: a folder to write ``NAME-PROFILE.json`` into; nothing is written when ``None``.

    Returns:
        The experiment's dict (JSON-ready) plus ``metadata``: experiment, profile, command, device,
        device_name, seconds, date (UTC, ISO 8601), python, seed and package versions.

    Raises:
        ValueError: unknown name or profile, or an experiment that returns something other than a dict
            or a dict that already has a ``metadata`` key.
    """
    check_choice(name, "name", available_experiments())
    profile = get_profile(profile)
    device = get_device(None if device is None else str(device))
    seed_everything(DEFAULT_SEED)
    started = time.perf_counter()
    result = EXPERIMENTS[name](profile=profile, device=device)
    seconds = time.perf_counter() - started
    if not isinstance(result, dict) or "metadata" in result:
        raise ValueError(f"experiment {name!r} must return a dict without a 'metadata' key, got {type(result).__name__}")
    environment = describe_environment(device, profile)
    metadata = {"experiment": name, "profile": profile, "command": shlex.join(sys.argv), "device": str(device),
                "device_name": environment.device_name, "seconds": seconds, "seed": DEFAULT_SEED,
                "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "python": environment.python, "versions": environment.packages}
    record = to_jsonable({**result, "metadata": metadata})
    if out is not None:
        path = result_path(name, profile, out)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record, separators=(",", ":"), allow_nan=False) + "\n")
    return record


def load_result(name: str, profile: str | None = None, folder: str | Path = "results") -> dict[str, Any]:
    """Read ``folder/NAME-PROFILE.json`` written by :func:`run_experiment`.

    Raises:
        FileNotFoundError: the file is missing; the message gives the command that writes it.
    """
    path = result_path(name, profile, folder)
    if not path.is_file():
        raise FileNotFoundError(f"no result at {str(path)!r}; write it with `oversmoothing experiment {name} "
                                f"--profile {get_profile(profile)} --out {folder}`")
    return json.loads(path.read_text())


def load_committed_result(name: str, profile: str | None = None,
                          folder: str | Path = "results") -> dict[str, Any] | None:
    """The result ``folder/NAME-PROFILE.json`` (committed with the book, e.g. the full profile run on a GPU),
    or ``None`` when that file does not exist."""
    try:
        return load_result(name, profile, folder)
    except FileNotFoundError:
        return None


def describe_provenance(result: Mapping[str, Any]) -> str:
    """One line saying what produced a result of :func:`run_experiment`: profile, command, device and wall time.

    Raises:
        ValueError: ``result`` lacks the ``metadata`` that :func:`run_experiment` adds.
    """
    meta = result.get("metadata") if isinstance(result, Mapping) else None
    if not isinstance(meta, Mapping):
        raise ValueError("result must carry the 'metadata' that run_experiment adds")
    return (f"{meta['profile']} profile, produced by `{meta['command']}` on {meta['device_name']} ({meta['device']}) "
            f"in {meta['seconds'] / 60:.1f} min, {meta['date']}")


def check_counts(sizes: object, names: Iterable[str], minimum: int = 1) -> None:
    """Check that the fields ``names`` of an experiment's sizes (a dataclass) are ints, not bools, of at least
    ``minimum`` (``0`` where ``0`` means "all").

    Raises:
        ValueError: naming the first field that is not.
    """
    for name in names:
        value = getattr(sizes, name)
        check_int(value, name, minimum=minimum)
