"""Tables of a vision result (:func:`oversmoothing.experiments.vision.run_vision`) for chapter 9: one row per
run, per layer, per corruption, per data fraction, per epoch and per block. Every function also accepts a result
read back with :func:`oversmoothing.experiments.load_result`."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_choice
from .vision import VARIANTS

RUN_COLUMNS = ("dataset", "variant", "label", "seed", "depth", "fraction", "train_examples", "test_accuracy",
               "test_loss", "converged", "seconds")
"""The scalar fields of a run, the columns of :func:`runs_frame`."""


def _runs(result: dict[str, Any], dataset: str | None = None) -> list[dict[str, Any]]:
    """The runs of a :func:`run_vision` result, those on ``dataset`` only when it is given."""
    runs = result.get("runs") if isinstance(result, dict) else None
    if not isinstance(runs, list) or not runs:
        raise ValueError("result must be the dict returned by run_vision (or read back with load_result)")
    if dataset is None:
        return runs
    chosen = [run for run in runs if run["dataset"] == dataset]
    if not chosen:
        raise ValueError(f"dataset={dataset!r} has no runs in result; it has {sorted({r['dataset'] for r in runs})}")
    return chosen


def _is_main(run: dict[str, Any], result: dict[str, Any]) -> bool:
    return run["depth"] == result["sizes"]["depth"] and run["fraction"] == 1.0


def runs_frame(result: dict[str, Any], dataset: str | None = None) -> pd.DataFrame:
    """One row per run (on ``dataset``, or all) with the columns :data:`RUN_COLUMNS`, plus ``last_cosine``
    and ``last_hc_dc``: the mean cosine similarity and HC/DC ratio of the trained model's last layer."""
    rows = []
    for run in _runs(result, dataset):
        final = [row for row in run["layer_metrics"] if row["epoch"] == run["epochs"][-1]["epoch"]]
        last = max(final, key=lambda row: row["layer"])
        rows.append({**{key: run[key] for key in RUN_COLUMNS}, "last_cosine": last["mean_cosine"],
                     "last_hc_dc": last["hc_dc_ratio"]})
    return pd.DataFrame(rows)


def layers_frame(result: dict[str, Any], dataset: str | None = None, trained: bool = True) -> pd.DataFrame:
    """Per-layer metrics of the main runs (main depth, all training data): one row per (run, layer), with
    ``dataset``, ``variant``, ``label``, ``seed``, ``layer`` and every metric; of the trained models, or at
    initialisation (``trained=False``)."""
    rows = []
    for run in _runs(result, dataset):
        if not _is_main(run, result):
            continue
        epoch = run["epochs"][-1]["epoch"] if trained else 0
        rows += [{key: run[key] for key in ("dataset", "variant", "label", "seed")}
                 | {key: value for key, value in row.items() if key != "epoch"}
                 for row in run["layer_metrics"] if row["epoch"] == epoch]
    return pd.DataFrame(rows)


def corruption_frame(result: dict[str, Any], dataset: str | None = None) -> pd.DataFrame:
    """Accuracy under corruption: one row per (run, kind, severity), severity 0 being the clean test set.

    Columns ``dataset``, ``variant``, ``label``, ``seed``, ``kind``, ``severity``, ``accuracy`` and
    ``relative_drop``: ``1 - accuracy / clean accuracy`` of the same model, so that models of different clean
    accuracy compare on the share of it they lose (0 at severity 0).
    """
    severities = result["sizes"]["severities"]
    rows = []
    for run in _runs(result, dataset):
        if run.get("corruption") is None:
            continue
        base = {key: run[key] for key in ("dataset", "variant", "label", "seed")}
        clean = run["test_accuracy"]
        for kind, scores in run["corruption"].items():
            rows.append(base | {"kind": kind, "severity": 0, "accuracy": clean, "relative_drop": 0.0})
            rows += [base | {"kind": kind, "severity": s, "accuracy": a, "relative_drop": 1 - a / clean}
                     for s, a in zip(severities, scores)]
    return pd.DataFrame(rows, columns=["dataset", "variant", "label", "seed", "kind", "severity", "accuracy",
                                       "relative_drop"])


def fraction_frame(result: dict[str, Any], dataset: str | None = None) -> pd.DataFrame:
    """The runs on a fraction of the training set beside the full-data main run of the same variant and seed.

    Columns ``dataset``, ``variant``, ``label``, ``seed``, ``fraction``, ``test_accuracy``, ``full_accuracy``
    and ``relative_drop`` (``1 - test_accuracy / full_accuracy``); one row per fraction run whose seed has a
    main run.
    """
    runs = _runs(result, dataset)
    full = {(run["dataset"], run["variant"], run["seed"]): run["test_accuracy"] for run in runs if _is_main(run, result)}
    rows = []
    for run in runs:
        key = (run["dataset"], run["variant"], run["seed"])
        if run["fraction"] == 1.0 or key not in full:
            continue
        rows.append({"dataset": run["dataset"], "variant": run["variant"], "label": run["label"], "seed": run["seed"],
                     "fraction": run["fraction"], "test_accuracy": run["test_accuracy"], "full_accuracy": full[key],
                     "relative_drop": 1 - run["test_accuracy"] / full[key]})
    return pd.DataFrame(rows, columns=["dataset", "variant", "label", "seed", "fraction", "test_accuracy",
                                       "full_accuracy", "relative_drop"])


def epoch_end_frame(result: dict[str, Any], variant: str = "standard", dataset: str | None = None) -> pd.DataFrame:
    """The per-epoch record of the main runs of ``variant``: one row per (run, epoch, block) with ``dataset``,
    ``seed``, ``epoch``, ``layer`` (block, from 1), ``asymmetry`` and ``negative_share``."""
    check_choice(variant, "variant", VARIANTS)
    rows = []
    for run in _runs(result, dataset):
        if run["variant"] != variant or not _is_main(run, result):
            continue
        for entry in run["epoch_end"]:
            rows += [{"dataset": run["dataset"], "seed": run["seed"], "epoch": entry["epoch"], "layer": layer + 1,
                      "asymmetry": a, "negative_share": s}
                     for layer, (a, s) in enumerate(zip(entry["asymmetry"], entry["negative_share"]))]
    return pd.DataFrame(rows)


def spectra_frame(result: dict[str, Any], dataset: str | None = None) -> pd.DataFrame:
    r"""The spectra of the main runs' blocks: one row per (run, block).

    Columns: ``dataset``, ``variant``, ``label``, ``seed``, ``layer`` (block, from 1), ``negative_gains``; for
    :math:`H` (prefix ``""``) and :math:`\mathrm{diag}(\gamma) H` (prefix ``"gain_"``): ``min_real``,
    ``max_real``, ``max_abs_imag``, ``positive_share`` (share of eigenvalues with positive real part) and
    ``eigenvalues`` (a complex NumPy array of the ``d`` eigenvalues).
    """
    rows = []
    for run in _runs(result, dataset):
        if not _is_main(run, result):
            continue
        for layer, negative_gains in enumerate(run["negative_gains"]):
            row = {key: run[key] for key in ("dataset", "variant", "label", "seed")}
            row |= {"layer": layer + 1, "negative_gains": negative_gains}
            for prefix, key in (("", "eigenvalues"), ("gain_", "gain_eigenvalues")):
                values = np.asarray(run[key]["real"][layer]) + 1j * np.asarray(run[key]["imag"][layer])
                row |= {f"{prefix}min_real": values.real.min(), f"{prefix}max_real": values.real.max(),
                        f"{prefix}max_abs_imag": np.abs(values.imag).max(),
                        f"{prefix}positive_share": (values.real > 0).mean(), f"{prefix}eigenvalues": values}
            rows.append(row)
    return pd.DataFrame(rows)


__all__ = ["RUN_COLUMNS", "corruption_frame", "epoch_end_frame", "fraction_frame", "layers_frame", "runs_frame",
           "spectra_frame"]
