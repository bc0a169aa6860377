r"""Audit a real Transformer: smoothing metrics per layer, the spectrum of its value-output matrices, which mode
of the fixed-attention update dominates on each input, and whether that prediction matches what the layer does.

For block :math:`\ell` and input :math:`b` the audit takes the model's own attention maps :math:`A_h` and

- the **head-averaged** map :math:`\bar A = \tfrac1h \sum_h A_h` with :math:`H = W_V W_O`;
- **each head** :math:`A_h` with :math:`H_h = W_V^{(h)} W_O^{(h)}` (rank :math:`d_h`, so 0 is an eigenvalue),

and asks which eigenvalue :math:`1 + \lambda^A_i \lambda^H_j` has the largest modulus
(:func:`oversmoothing.spectrum.dominant_mode_from_spectra`). The **effective** :math:`H` is the one the
residual stream sees: :math:`W_V W_O` for post-LN models (the LayerNorm gain is part of the stream, see
:class:`oversmoothing.adapters.LayerWeights`), and :math:`C\operatorname{diag}(\gamma) W_V W_O / \sigma_b`
for pre-LN models, with :math:`\sigma_b` the mean normalisation scale of input :math:`b`'s tokens. The
prediction ("smoothing" when the DC mode wins) is compared with the measured change of the HC/DC ratio
and of the mean cosine similarity across the attention sub-layer (stream before it to stream right after
its residual add) and across the whole block.

Padding never enters: inputs are grouped by length (:func:`oversmoothing.adapters.group_by_length`), so
every batch has only real tokens and every metric is computed per sequence over its own tokens.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from . import adapters, metrics, spectrum
from .adapters import LayerWeights, PretrainedTransformer
from .runtime import torch_threads

__all__ = [
    "AuditReport",
    "MEASURED_CHANGES",
    "audit",
    "audit_figures",
    "iterate_heads",
    "layer_spectra",
    "prediction_figure",
    "spectrum_figure",
    "save_figures",
]

MEASURED_CHANGES: dict[str, str] = {
    "attention_log_hc_dc": "log(HC/DC after the attention add / before the block)",
    "attention_cosine": "mean cosine after the attention add - before the block",
    "block_log_hc_dc": "log(HC/DC after the block / before it)",
    "block_cosine": "mean cosine after the block - before it",
}
"""The measured per-input changes the prediction is compared with; a smoothing prediction matches a
negative log-HC/DC change and a positive cosine change, a sharpening prediction the opposite."""

_EPS = 1e-12


def _fraction(mask: torch.Tensor) -> float:
    return float(mask.double().mean()) if mask.numel() else float("nan")


def layer_spectra(weights: Sequence[LayerWeights], eigenvalues: Sequence[torch.Tensor] | None = None) -> pd.DataFrame:
    r"""Spectrum of :math:`H = W_V W_O` and of the gain-adjusted :math:`\operatorname{diag}(\gamma) H`, per layer.

    Columns: ``negative_fraction`` (eigenvalues with negative real part), ``spectral_radius``, ``trace``,
    ``complex_fraction`` (non-real eigenvalues), the same three with suffix ``_gain_adjusted``,
    ``gain_min``, ``gain_negative_fraction`` (of :math:`\gamma`, the gain of the LayerNorm the attention
    reads), ``head_traces`` (:math:`\operatorname{tr} H_h`, a list; they sum to :math:`\operatorname{tr} H`).
    ``eigenvalues`` may pass the eigenvalues of each :math:`H` when they are already known.
    """
    rows = []
    for index, w in enumerate(weights):
        h = w.value_output.double()
        ev = torch.linalg.eigvals(h) if eigenvalues is None else eigenvalues[index]
        ev_gain = torch.linalg.eigvals(w.gain_adjusted_value_output.double())
        scale = ev.abs().max().clamp_min(_EPS)
        rows.append({
            "layer": w.layer + 1,
            "negative_fraction": _fraction(ev.real < 0),
            "spectral_radius": float(ev.abs().max()),
            "trace": float(h.trace()),
            "complex_fraction": _fraction(ev.imag.abs() > 1e-9 * scale),
            "negative_fraction_gain_adjusted": _fraction(ev_gain.real < 0),
            "spectral_radius_gain_adjusted": float(ev_gain.abs().max()),
            "trace_gain_adjusted": float(w.gain_adjusted_value_output.trace()),
            "gain_min": float(w.attention_input_gain.min()),
            "gain_negative_fraction": _fraction(w.attention_input_gain < 0),
            "head_traces": [float(t) for t in w.value_output_heads.diagonal(dim1=-2, dim2=-1).sum(-1)],
        })
    return pd.DataFrame(rows)


@dataclass
class _LayerSpectra:
    """Eigenvalues needed per layer (computed once): full H and the heads' nonzero parts, raw and effective."""

    full_raw: torch.Tensor  # (d,)
    full_effective: torch.Tensor  # (d,), per unit normalisation scale for pre-LN
    heads_raw: torch.Tensor  # (h, d_h + 1) with one zero appended (rank d_h < d)
    heads_effective: torch.Tensor  # (h, d_h + 1)


def _spectra_for_dominance(w: LayerWeights, full_raw: torch.Tensor) -> _LayerSpectra:
    zero = torch.zeros(w.heads, 1, dtype=torch.complex128)
    heads_raw = torch.cat([torch.linalg.eigvals(w.head_cores.double()), zero], dim=-1)
    if w.norm == "pre":
        full_effective = torch.linalg.eigvals(w.branch_value_output.double())
        # nonzero eigenvalues of C diag(g) W_V^h W_O^h are those of W_O^h C diag(g) W_V^h
        scaled_value = w.attention_input_gain[:, None] * w.value
        centred_value = (scaled_value - scaled_value.mean(dim=0, keepdim=True))
        centred_heads = centred_value.reshape(w.dim, w.heads, w.head_dim).permute(1, 0, 2)
        heads_effective = torch.cat([torch.linalg.eigvals((w.output_heads @ centred_heads).double()), zero], dim=-1)
    else:
        full_effective, heads_effective = full_raw, heads_raw
    return _LayerSpectra(full_raw, full_effective, heads_raw, heads_effective)


def _per_sequence(states: torch.Tensor, exclude: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean cosine and log HC/DC of every sequence, over its kept tokens: shapes ``(...)``."""
    kept = metrics.select_tokens(states, list(exclude) if exclude else None)
    return metrics.mean_cosine_similarity(kept), metrics.hc_dc_ratio(kept).log()


def _head_log_hc_dc_change(w: LayerWeights, attention: torch.Tensor, attention_input: torch.Tensor,
                           stream: torch.Tensor, exclude: Sequence[int]) -> torch.Tensor:
    """Change of log HC/DC when only head ``h`` acts: ``X -> X + A_h (X_in W_V^h + b_V^h) W_O^h``, shape ``(B, h)``.

    Computed in each head's ``d_h``-dimensional space: with ``C_h = A_h (X_in W_V^h + b_V^h)``,
    ``||X + C_h W_O^h||^2 = ||X||^2 + 2 <X W_O^hT, C_h> + <C_h G_h, C_h>`` (``G_h = W_O^h W_O^hT``), and the
    token mean is ``mean(X) + mean(C_h) W_O^h``; no ``(B, h, n, d)`` tensor is formed.
    """
    def split(t: torch.Tensor) -> torch.Tensor:  # (B, n, d) -> (B, h, n, d_h), one GEMM for all heads
        return t.reshape(*t.shape[:-1], w.heads, w.head_dim).transpose(-2, -3)

    context = attention @ split(attention_input @ w.value + w.value_bias)  # (B, h, n, d_h)
    projected = split(stream @ w.output.T)  # X W_O^(h)T for every head
    if exclude:
        keep = [i for i in range(stream.shape[-2]) if i not in {e % stream.shape[-2] for e in exclude}]
        index = torch.tensor(keep, device=stream.device)
        stream, context, projected = (t.index_select(-2, index) for t in (stream, context, projected))
    n = stream.shape[-2]
    gram = w.output_heads @ w.output_heads.transpose(-1, -2)  # (h, d_h, d_h)
    total = (stream.pow(2).sum(dim=(-2, -1)).unsqueeze(-1) + 2 * (projected * context).sum(dim=(-2, -1))
             + ((context @ gram) * context).sum(dim=(-2, -1)))
    mean = stream.mean(dim=-2).unsqueeze(-2) + (context.mean(dim=-2).unsqueeze(-2) @ w.output_heads).squeeze(-2)
    dc = n * mean.pow(2).sum(dim=-1)
    _, before = _per_sequence(stream, ())
    return 0.5 * ((total - dc).log() - dc.log()) - before.unsqueeze(-1)


def iterate_heads(weights: LayerWeights, attention: torch.Tensor, x: torch.Tensor,
                  steps: Sequence[int]) -> torch.Tensor:
    r"""Apply each head's linear update :math:`X \mapsto X + A_h X H_h` repeatedly, as the fixed-attention theory does.

    Starting from the actual stream ``x`` for every head, the map is applied ``max(steps)`` times (rescaled
    after each step, which changes no ratio) and the change of :math:`\log` HC/DC is read after each count
    in ``steps``. Biases are left out: this is the linear layer of the theory.

    Args:
        weights: the layer's :class:`~oversmoothing.adapters.LayerWeights`.
        attention: :math:`A_h`, shape ``(B, heads, n, n)``.
        x: the stream the heads read, shape ``(B, n, d)``.
        steps: increasing positive counts of applications.

    Returns:
        Shape ``(len(steps), B, heads)``: :math:`\log\rho(X_k) - \log\rho(X_0)` for each ``k`` in ``steps``.
    """
    steps = list(steps)
    if not steps or any(not isinstance(k, int) or k < 1 for k in steps) or steps != sorted(steps):
        raise ValueError(f"steps must be increasing positive ints, got {steps!r}")
    dtype = weights.value.dtype
    x = x.to(dtype)
    attention = attention.to(dtype)
    before = metrics.hc_dc_ratio(x).log()
    batch, n, d = x.shape
    heads = weights.heads
    # layout (heads, batch * n, d): every product is one batched GEMM over the heads, without broadcast copies
    state = x.reshape(1, batch * n, d).expand(heads, -1, -1).contiguous()
    maps = attention.transpose(0, 1).reshape(heads * batch, n, n)
    changes, done = [], 0
    for target in steps:
        while done < target:
            values = torch.bmm(state, weights.value_heads).reshape(heads * batch, n, weights.head_dim)
            mixed = torch.bmm(maps, values).reshape(heads, batch * n, weights.head_dim)
            state = state + torch.bmm(mixed, weights.output_heads)
            norms = torch.linalg.vector_norm(state.reshape(heads, batch, n * d), dim=-1)
            state = (state.reshape(heads, batch, n * d) / norms.unsqueeze(-1)).reshape(heads, batch * n, d)
            done += 1
        ratio = metrics.hc_dc_ratio(state.reshape(heads, batch, n, d)).log().T  # (batch, heads)
        changes.append(ratio - before.unsqueeze(-1))
    return torch.stack(changes)


def _second_modulus(eigenvalues: torch.Tensor) -> torch.Tensor:
    """Largest modulus among the non-Perron eigenvalues of a row-stochastic matrix, shape ``(...)``."""
    perron = spectrum.perron_index(eigenvalues)
    return eigenvalues.abs().scatter(-1, perron.unsqueeze(-1), 0.0).amax(dim=-1)


def _normalisation_scale(states: torch.Tensor, eps: float) -> torch.Tensor:
    """Mean over tokens of 1/sigma, the factor a LayerNorm divides each token by: shape ``(B,)``."""
    return (states.var(dim=-1, unbiased=False) + eps).rsqrt().mean(dim=-1)


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


def _special_positions(loaded: PretrainedTransformer, token_ids: Sequence[Sequence[int]]) -> list[int]:
    """Positions of special tokens shared by every sequence of a group (e.g. [CLS] first, [SEP] last)."""
    special = set(getattr(loaded.tokenizer, "all_special_ids", []))
    masks = {tuple(i for i, t in enumerate(ids) if t in special) for ids in token_ids}
    if len(masks) != 1:
        raise ValueError("special tokens sit at different positions in sequences of one length; "
                         "use exclude_special=False")
    return list(masks.pop())


def audit(loaded: PretrainedTransformer, texts: Sequence[str] | None = None, images: torch.Tensor | None = None,
          exclude_special: bool = False, batch_size: int = 64, progress: bool = False,
          tolerance: float = 1e-9, threads: int | None = 1) -> AuditReport:
    r"""Measure and predict smoothing in a real model on a set of texts or images.

    Args:
        loaded: from :func:`oversmoothing.adapters.load_pretrained`.
        texts: sentences for a text model.
        images: ``(B, 1 or 3, H, W)`` in ``[0, 1]`` for a vision model.
        exclude_special: leave special tokens ([CLS], [SEP], class/distillation tokens) out of the metrics.
            The dominant-mode analysis always uses every real token, as the attention does.
        batch_size: inputs per forward pass (each pass holds inputs of one length only).
        progress: show a progress bar (tqdm) over the forward passes.
        tolerance: relative tolerance for a tie between the DC and HC moduli (regime ``"neither"``).
        threads: torch CPU threads during the audit (restored afterwards); ``None`` keeps the current
            setting. One thread is the default: the audit's many small eigenvalue problems gain nothing from
            more, and on a busy two-core machine two OpenMP threads made it 25 times slower.

    Returns:
        An :class:`AuditReport`.
    """
    with torch_threads(threads):
        return _audit(loaded, texts, images, exclude_special, batch_size, progress, tolerance)


def _audit(loaded: PretrainedTransformer, texts: Sequence[str] | None, images: torch.Tensor | None,
           exclude_special: bool, batch_size: int, progress: bool, tolerance: float) -> AuditReport:
    arch = loaded.architecture
    if (texts is None) == (images is None):
        raise ValueError("pass exactly one of texts (text models) or images (vision models)")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    start = time.perf_counter()
    if texts is not None:
        if arch.modality != "text":
            raise ValueError(f"{loaded.name} is a vision model; pass images, not texts")
        texts = list(texts)
        if not texts:
            raise ValueError("texts is empty")
        token_ids = loaded.encode_texts(texts)
        lengths = [len(ids) for ids in token_ids]
        description = "texts"
    else:
        if arch.modality != "image":
            raise ValueError(f"{loaded.name} is a text model; pass texts, not images")
        if images.ndim != 4 or len(images) == 0:
            raise ValueError(f"images must have shape (B, C, H, W) with B >= 1, got {tuple(images.shape)}")
        token_ids = None
        lengths = [0] * len(images)  # one group: every image gives the same number of tokens
        description = "images"

    weights = loaded.layer_weights()
    value_eigenvalues = [torch.linalg.eigvals(w.value_output.double()) for w in weights]
    spectra_table = layer_spectra(weights, value_eigenvalues)
    dominance_spectra = [_spectra_for_dominance(w, ev) for w, ev in zip(weights, value_eigenvalues)]
    norm_eps = _layer_norm_eps(loaded)
    groups = adapters.group_by_length(lengths)
    chunks = [(length, indices[i:i + batch_size]) for length, indices in groups.items()
              for i in range(0, len(indices), batch_size)]
    prepared = time.perf_counter()

    per_input_rows: list[pd.DataFrame] = []
    metric_sums: pd.DataFrame | None = None
    metric_count = 0
    head_dc, head_regime, head_change = [], [], []
    model_seconds = 0.0
    token_policy = "all real tokens (no padding)"
    bar = _progress(chunks, progress, f"auditing {loaded.name}")
    for length, indices in bar:
        tick = time.perf_counter()
        if token_ids is not None:
            inputs = loaded.text_inputs([token_ids[i] for i in indices])
        else:
            inputs = loaded.image_inputs(images[indices])
        traced = loaded.trace(inputs)
        model_seconds += time.perf_counter() - tick

        exclude: list[int] = []
        if exclude_special:
            exclude = (_special_positions(loaded, [token_ids[i] for i in indices]) if token_ids is not None
                       else list(range(arch.prefix_tokens)))
            token_policy = "real tokens without special tokens"
        hidden = traced.hidden_states.double()  # (L + 1, B, n, d)
        n_kept = hidden.shape[-2] - len(exclude)
        if n_kept < 2:
            continue  # a one-token sequence has no pairwise similarity
        table = metrics.layer_metrics(hidden, exclude=exclude or None)
        metric_sums = table * len(indices) if metric_sums is None else metric_sums + table * len(indices)
        metric_count += len(indices)

        cos_before, rho_before = _per_sequence(hidden[:-1], exclude)  # (L, B)
        cos_after_attn, rho_after_attn = _per_sequence(traced.attention_residuals.double(), exclude)
        cos_after_block, rho_after_block = _per_sequence(hidden[1:], exclude)

        attention = traced.attentions.double()  # (L, B, h, n, n)
        mean_map = attention.mean(dim=2)
        lambda_mean = torch.linalg.eigvals(mean_map)  # (L, B, n)
        lambda_heads = torch.linalg.eigvals(attention)  # (L, B, h, n)
        for layer, spectra in enumerate(dominance_spectra):
            if arch.norm == "pre":
                scale = _normalisation_scale(hidden[layer], norm_eps).to(torch.complex128)  # (B,)
                full_effective = spectra.full_effective * scale[:, None]
                heads_effective = spectra.heads_effective * scale[:, None, None]
            else:
                full_effective, heads_effective = spectra.full_effective, spectra.heads_effective
            mean_mode = spectrum.dominant_mode_from_spectra(
                lambda_mean[layer], full_effective, spectrum.perron_index(lambda_mean[layer]), tolerance=tolerance)
            raw_mode = spectrum.dominant_mode_from_spectra(
                lambda_mean[layer], spectra.full_raw, spectrum.perron_index(lambda_mean[layer]), tolerance=tolerance)
            head_mode = spectrum.dominant_mode_from_spectra(
                lambda_heads[layer], heads_effective, spectrum.perron_index(lambda_heads[layer]), tolerance=tolerance)
            head_dc.append((layer, head_mode.is_dc.flatten()))
            head_regime.append((layer, head_mode.regime_code.flatten()))
            head_change.append((layer, _head_log_hc_dc_change(
                weights[layer], attention[layer], traced.attention_inputs[layer].double(), hidden[layer],
                exclude).flatten()))
            per_input_rows.append(pd.DataFrame({
                "layer": layer + 1,
                "input": indices,
                "tokens": hidden.shape[-2],
                "predicted_regime": np.asarray(mean_mode.regime).reshape(-1),
                "dc_dominant": mean_mode.is_dc.cpu().numpy(),
                "dc_dominant_raw_h": raw_mode.is_dc.cpu().numpy(),
                "predicted_regime_raw_h": np.asarray(raw_mode.regime).reshape(-1),
                "hc_dc_rate": mean_mode.hc_dc_rate.cpu().numpy(),
                "dc_modulus": mean_mode.dc_modulus.cpu().numpy(),
                "hc_modulus": mean_mode.hc_modulus.cpu().numpy(),
                "attention_second_modulus": _second_modulus(lambda_mean[layer]).cpu().numpy(),
                "value_spectral_radius": full_effective.abs().amax(dim=-1).expand(len(indices)).cpu().numpy(),
                "attention_log_hc_dc": (rho_after_attn[layer] - rho_before[layer]).cpu().numpy(),
                "attention_cosine": (cos_after_attn[layer] - cos_before[layer]).cpu().numpy(),
                "block_log_hc_dc": (rho_after_block[layer] - rho_before[layer]).cpu().numpy(),
                "block_cosine": (cos_after_block[layer] - cos_before[layer]).cpu().numpy(),
            }))
    if metric_sums is None:
        raise ValueError("no input has at least two tokens to compare")
    analysed = time.perf_counter()

    per_input = pd.concat(per_input_rows, ignore_index=True).sort_values(["layer", "input"], ignore_index=True)
    smoothing = per_input.predicted_regime == "smoothing"
    sharpening = per_input.predicted_regime == "sharpening"
    for change in MEASURED_CHANGES:
        sign = -1.0 if "hc_dc" in change else 1.0  # smoothing lowers HC/DC and raises the cosine
        value = sign * per_input[change]
        per_input[f"match_{change}"] = (smoothing & (value > 0)) | (sharpening & (value < 0))

    layer_metric_table = metric_sums / metric_count
    layer_metric_table["layer"] = layer_metric_table["layer"].round().astype(int)
    dominance = _dominance_table(per_input, head_dc, head_regime, head_change)
    predictions = _prediction_table(per_input)
    timings = {"prepare": prepared - start, "model": model_seconds,
               "analysis": analysed - prepared - model_seconds}
    return AuditReport(
        model=loaded.name, architecture=arch, inputs=description, n_inputs=metric_count,
        token_policy=token_policy, metrics=layer_metric_table, spectrum=spectra_table, dominance=dominance,
        predictions=predictions, per_input=per_input, timings=timings,
    )


def _layer_norm_eps(loaded: PretrainedTransformer) -> float:
    config = loaded.model.config
    return float(getattr(config, "layer_norm_eps", getattr(config, "layer_norm_epsilon", 1e-5)))


def _progress(items: list, enabled: bool, description: str):
    if not enabled:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc=description, unit="batch")


def _dominance_table(per_input: pd.DataFrame, head_dc: list, head_regime: list, head_change: list) -> pd.DataFrame:
    rows = []
    for layer, group in per_input.groupby("layer"):
        dc_heads = torch.cat([mask for index, mask in head_dc if index + 1 == layer])
        regime_heads = torch.cat([codes for index, codes in head_regime if index + 1 == layer])
        change_heads = torch.cat([change for index, change in head_change if index + 1 == layer])
        smoothing, sharpening = regime_heads == 0, regime_heads == 1
        falls = change_heads < 0
        rows.append({
            "layer": int(layer),
            "dc_fraction_mean_head": float(group.dc_dominant.mean()),
            "dc_fraction_raw_h": float(group.dc_dominant_raw_h.mean()),
            "smoothing_fraction_mean_head": float((group.predicted_regime == "smoothing").mean()),
            "sharpening_fraction_mean_head": float((group.predicted_regime == "sharpening").mean()),
            "neither_fraction_mean_head": float((group.predicted_regime == "neither").mean()),
            "dc_fraction_per_head": _fraction(dc_heads),
            "smoothing_fraction_per_head": _fraction(regime_heads == 0),
            "sharpening_fraction_per_head": _fraction(regime_heads == 1),
            "neither_fraction_per_head": _fraction(regime_heads == 2),
            "head_pairs_smoothing": int(smoothing.sum()),
            "head_pairs_sharpening": int(sharpening.sum()),
            "head_smoothing_hc_dc_falls": _fraction(falls[smoothing]),
            "head_sharpening_hc_dc_rises": _fraction(~falls[sharpening]),
            "median_hc_dc_rate": float(group.hc_dc_rate.median()),
        })
    return pd.DataFrame(rows)


def _prediction_table(per_input: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for layer, group in per_input.groupby("layer"):
        counts = group.predicted_regime.value_counts()
        decided = group[group.predicted_regime != "neither"]
        row = {"layer": int(layer), "predicted_regime": str(counts.idxmax()),
               "predicted_fraction": float(counts.max() / len(group))}
        for change in MEASURED_CHANGES:
            row[f"mean_{change}"] = float(group[change].mean())
        for change in MEASURED_CHANGES:
            row[f"match_{change}"] = float(decided[f"match_{change}"].mean()) if len(decided) else math.nan
        rows.append(row)
    return pd.DataFrame(rows)


def audit_figures(report: AuditReport, weights: Sequence[LayerWeights] | None = None) -> dict:
    """The audit's figures: ``layer_metrics`` (per-layer metrics), ``spectrum`` (:func:`spectrum_figure`,
    when ``weights`` are given) and ``prediction`` (:func:`prediction_figure`).

    Returns:
        ``{name: matplotlib Figure}``.
    """
    from .plotting import plot_layer_metrics

    figures = {"layer_metrics": plot_layer_metrics({report.model: report.metrics},
                                                   metrics=("mean_cosine", "hc_dc_ratio", "effective_rank"))}
    if weights is not None:
        figures["spectrum"] = spectrum_figure(weights)
    figures["prediction"] = prediction_figure(report)
    return figures


def prediction_figure(report: AuditReport):
    """Predicted regimes per block (per head as stacked bars, head-averaged as black marks) beside the measured
    change of log HC/DC across each attention sub-layer (one dot per input, coloured by its head-averaged
    prediction). Returns the figure."""
    import matplotlib.pyplot as plt

    from .plotting import REGIME_COLORS

    fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.2), layout="constrained")
    dominance = report.dominance
    layers = dominance.layer.to_numpy()
    bottom = np.zeros(len(layers))
    for regime in ("smoothing", "sharpening", "neither"):
        share = dominance[f"{regime}_fraction_per_head"].to_numpy()
        axes[0].bar(layers, share, bottom=bottom, color=REGIME_COLORS[regime], label=f"{regime} (per head)")
        bottom += share
    axes[0].plot(layers, dominance.smoothing_fraction_mean_head, "k_", markersize=22, markeredgewidth=2,
                 label="smoothing (head-averaged A)")
    axes[0].set(xlabel="block", ylabel="fraction predicted", ylim=(0, 1.45), yticks=[0, 0.25, 0.5, 0.75, 1],
                xticks=layers)
    axes[0].legend(loc="upper center", ncol=2, fontsize=7)
    for regime in ("smoothing", "sharpening"):
        rows = report.per_input[report.per_input.predicted_regime == regime]
        if rows.empty:
            continue
        axes[1].scatter(rows.layer + (-0.12 if regime == "smoothing" else 0.12), rows.attention_log_hc_dc,
                        s=6, alpha=0.5, color=REGIME_COLORS[regime], label=f"predicted {regime}")
    axes[1].axhline(0, color=REGIME_COLORS["baseline"], linewidth=0.8)
    axes[1].set(xlabel="block", ylabel="measured change of log HC/DC\nacross the attention sub-layer", xticks=layers)
    axes[1].legend(loc="best", fontsize=8)
    return fig


def spectrum_figure(weights: Sequence[LayerWeights]):
    """Eigenvalues of :math:`H = W_V W_O` of every block in the complex plane, one panel per block."""
    import matplotlib.pyplot as plt

    from .plotting import EXTRA_COLORS

    columns = min(len(weights), 6)
    rows = math.ceil(len(weights) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(1.9 * columns, 2.0 * rows + 0.3), squeeze=False,
                             layout="constrained", sharex=True, sharey=True)
    for ax, w in zip(axes.flat, weights):
        ev = torch.linalg.eigvals(w.value_output.double())
        ax.scatter(ev.real, ev.imag, s=4, color=EXTRA_COLORS[2])
        ax.axvline(0, color="black", linewidth=0.6)
        ax.axhline(0, color="black", linewidth=0.6)
        ax.set_title(f"block {w.layer + 1}", fontsize=9)
    for ax in axes.flat[len(weights):]:
        ax.set_visible(False)
    fig.supxlabel(r"Re $\lambda^H$")
    fig.supylabel(r"Im $\lambda^H$")
    return fig


def save_figures(report: AuditReport, out_dir: str | os.PathLike,
                 weights: Sequence[LayerWeights] | None = None) -> list[Path]:
    """Write :func:`audit_figures` as PNG files into ``out_dir``; returns the paths."""
    import matplotlib
    import matplotlib.pyplot as plt

    from .plotting import use_book_style

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with matplotlib.rc_context(), torch_threads(1):
        use_book_style()
        figures = audit_figures(report, weights)
        paths = []
        for name, fig in figures.items():
            path = out / f"{name}.png"
            fig.savefig(path, dpi=120)
            plt.close(fig)
            paths.append(path)
    return paths
