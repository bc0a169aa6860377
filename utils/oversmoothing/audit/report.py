"""The result of an audit: its tables, a printable summary, match rates and JSON."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd
import torch

from .. import adapters
from .analysis import MEASURED_CHANGES

__all__ = ["AuditReport"]

@dataclass
class AuditReport:
    r"""The result of :func:`audit`. Every table has one row per layer (``layer`` 0 = the input of block 1).

    Attributes:
        model: the name the model was loaded by.
        architecture: its :class:`oversmoothing.adapters.Architecture`.
        inputs: description of the input set.
        n_inputs: number of inputs (texts or images) measured.
        token_policy: which tokens enter the metrics.
        metrics: :func:`oversmoothing.metrics.layer_metrics` columns, mean over inputs, layers ``0..L``.
        spectrum: :func:`layer_spectra`, layers ``1..L``.
        dominance: per block ``1..L``: fractions of inputs whose dominant mode is the DC mode and of each
            predicted regime, head-averaged (``*_mean_head``, effective H; ``dc_fraction_raw_h`` with raw
            :math:`W_V W_O`) and over (input, head) pairs (``*_per_head``).
        predictions: per block ``1..L``: the majority predicted regime, the mean measured changes
            (:data:`MEASURED_CHANGES`) and the fraction of inputs on which each agrees with the prediction.
        per_input: one row per (block, input): length, predicted regime (head-averaged, effective H; and
            with raw :math:`W_V W_O`), DC or not, the moduli :math:`M_{DC}`, :math:`M_{HC}`, the second
            largest modulus of :math:`\bar A`'s eigenvalues, the spectral radius of the effective H, and the
            measured changes with whether each agrees with the prediction.
        timings: seconds spent loading inputs, running the model and analysing.
    """

    model: str
    architecture: adapters.Architecture
    inputs: str
    n_inputs: int
    token_policy: str
    metrics: pd.DataFrame
    spectrum: pd.DataFrame
    dominance: pd.DataFrame
    predictions: pd.DataFrame
    per_input: pd.DataFrame
    timings: dict[str, float] = field(default_factory=dict)

    def summary_table(self) -> pd.DataFrame:
        """One row per layer: the numbers the command prints."""
        table = self.metrics[["layer", "mean_cosine", "hc_dc_ratio"]].copy()
        extra = pd.DataFrame({
            "layer": self.spectrum.layer,
            "neg_eig_H": self.spectrum.negative_fraction,
            "dc_dominant": self.dominance.dc_fraction_mean_head,
            "dc_dominant_heads": self.dominance.dc_fraction_per_head,
            "predicted": self.predictions.predicted_regime,
            "match_hc_dc": self.predictions.match_attention_log_hc_dc,
            "match_cosine": self.predictions.match_attention_cosine,
        })
        return table.merge(extra, on="layer", how="left")

    def summary(self) -> str:
        """A printable summary: the model, its norm placement, the per-layer table and the match rates."""
        table = self.summary_table()
        lines = [
            f"model: {self.model} ({self.architecture.model_type}, {self.architecture.layers} layers, "
            f"d={self.architecture.dim}, {self.architecture.heads} heads)",
            f"norm placement: {self.architecture.norm_description}",
            f"inputs: {self.n_inputs} {self.inputs}; tokens: {self.token_policy}",
            "",
            table.to_string(index=False, float_format=lambda v: f"{v:.3f}", na_rep="-"),
            "",
            f"prediction matches the attention sub-layer's HC/DC change on "
            f"{self.match_rate('attention_log_hc_dc'):.1%} and its cosine change on "
            f"{self.match_rate('attention_cosine'):.1%} of (layer, input) pairs with a prediction",
        ]
        if self.timings:
            lines.append("time: " + ", ".join(f"{k} {v:.1f} s" for k, v in self.timings.items()))
        return "\n".join(lines)

    def match_rate(self, change: str = "attention_log_hc_dc") -> float:
        """Fraction of (layer, input) pairs with a smoothing/sharpening prediction on which ``change`` agrees."""
        if change not in MEASURED_CHANGES:
            raise ValueError(f"change={change!r} is not one of {tuple(MEASURED_CHANGES)}")
        rows = self.per_input[self.per_input.predicted_regime != "neither"]
        return float(rows[f"match_{change}"].mean()) if len(rows) else float("nan")

    def to_dict(self) -> dict:
        """A JSON-serialisable dictionary of everything in the report."""
        def records(frame: pd.DataFrame) -> list[dict]:
            return json.loads(frame.to_json(orient="records", double_precision=10))

        return {
            "model": self.model,
            "architecture": asdict(self.architecture) | {"norm_description": self.architecture.norm_description},
            "inputs": self.inputs,
            "n_inputs": self.n_inputs,
            "token_policy": self.token_policy,
            "match_rates": {change: self.match_rate(change) for change in MEASURED_CHANGES},
            "metrics": records(self.metrics),
            "spectrum": records(self.spectrum),
            "dominance": records(self.dominance),
            "predictions": records(self.predictions),
            "per_input": records(self.per_input),
            "timings": self.timings,
            "versions": {"torch": torch.__version__, "transformers": _version("transformers"),
                         "oversmoothing": _version("oversmoothing")},
        }

    def save_json(self, path: str | os.PathLike) -> Path:
        """Write :meth:`to_dict` as JSON; returns the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=1, allow_nan=True))
        return path


def _version(package: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"
