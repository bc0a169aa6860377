r"""The analysis maths of an audit: spectra of the value-output maps, per-sequence metrics, per-head
changes, the linear iteration of each head, and the per-block tables."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import torch

from .. import metrics, spectrum
from ..adapters import LayerWeights

__all__ = ["MEASURED_CHANGES", "LayerSpectra", "dominance_table", "fraction", "head_log_hc_dc_change", "iterate_heads",
           "layer_spectra", "normalisation_scale", "per_sequence", "prediction_table", "second_modulus",
           "spectra_for_dominance"]

MEASURED_CHANGES: dict[str, str] = {
    "attention_log_hc_dc": "log(HC/DC after the attention add / before the block)",
    "attention_cosine": "mean cosine after the attention add - before the block",
    "block_log_hc_dc": "log(HC/DC after the block / before it)",
    "block_cosine": "mean cosine after the block - before it",
}
"""The measured per-input changes the prediction is compared with; a smoothing prediction matches a
negative log-HC/DC change and a positive cosine change, a sharpening prediction the opposite."""

_EPS = 1e-12


def fraction(mask: torch.Tensor) -> float:
    """Share of ``True`` entries of ``mask`` (NaN when it is empty)."""
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
            "negative_fraction": fraction(ev.real < 0),
            "spectral_radius": float(ev.abs().max()),
            "trace": float(h.trace()),
            "complex_fraction": fraction(ev.imag.abs() > 1e-9 * scale),
            "negative_fraction_gain_adjusted": fraction(ev_gain.real < 0),
            "spectral_radius_gain_adjusted": float(ev_gain.abs().max()),
            "trace_gain_adjusted": float(w.gain_adjusted_value_output.trace()),
            "gain_min": float(w.attention_input_gain.min()),
            "gain_negative_fraction": fraction(w.attention_input_gain < 0),
            "head_traces": [float(t) for t in w.value_output_heads.diagonal(dim1=-2, dim2=-1).sum(-1)],
        })
    return pd.DataFrame(rows)


@dataclass
class LayerSpectra:
    """Eigenvalues needed per layer (computed once): full H and the heads' nonzero parts, raw and effective."""

    full_raw: torch.Tensor  # (d,)
    full_effective: torch.Tensor  # (d,), per unit normalisation scale for pre-LN
    heads_raw: torch.Tensor  # (h, d_h + 1) with one zero appended (rank d_h < d)
    heads_effective: torch.Tensor  # (h, d_h + 1)


def spectra_for_dominance(w: LayerWeights, full_raw: torch.Tensor) -> LayerSpectra:
    """The :class:`LayerSpectra` of one layer, given the eigenvalues ``full_raw`` of its :math:`W_V W_O`."""
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
    return LayerSpectra(full_raw, full_effective, heads_raw, heads_effective)


def per_sequence(states: torch.Tensor, exclude: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean cosine and log HC/DC of every sequence, over its kept tokens: shapes ``(...)``."""
    kept = metrics.select_tokens(states, list(exclude) if exclude else None)
    return metrics.mean_cosine_similarity(kept), metrics.hc_dc_ratio(kept).log()


def head_log_hc_dc_change(w: LayerWeights, attention: torch.Tensor, attention_input: torch.Tensor,
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
    _, before = per_sequence(stream, ())
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


def second_modulus(eigenvalues: torch.Tensor) -> torch.Tensor:
    """Largest modulus among the non-Perron eigenvalues of a row-stochastic matrix, shape ``(...)``."""
    perron = spectrum.perron_index(eigenvalues)
    return eigenvalues.abs().scatter(-1, perron.unsqueeze(-1), 0.0).amax(dim=-1)


def normalisation_scale(states: torch.Tensor, eps: float) -> torch.Tensor:
    """Mean over tokens of 1/sigma, the factor a LayerNorm divides each token by: shape ``(B,)``."""
    return (states.var(dim=-1, unbiased=False) + eps).rsqrt().mean(dim=-1)


def dominance_table(per_input: pd.DataFrame, head_dc: list, head_regime: list, head_change: list) -> pd.DataFrame:
    """Per block: shares of inputs (head-averaged) and of (input, head) pairs in each regime (see ``AuditReport``)."""
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
            "dc_fraction_per_head": fraction(dc_heads),
            "smoothing_fraction_per_head": fraction(regime_heads == 0),
            "sharpening_fraction_per_head": fraction(regime_heads == 1),
            "neither_fraction_per_head": fraction(regime_heads == 2),
            "head_pairs_smoothing": int(smoothing.sum()),
            "head_pairs_sharpening": int(sharpening.sum()),
            "head_smoothing_hc_dc_falls": fraction(falls[smoothing]),
            "head_sharpening_hc_dc_rises": fraction(~falls[sharpening]),
            "median_hc_dc_rate": float(group.hc_dc_rate.median()),
        })
    return pd.DataFrame(rows)


def prediction_table(per_input: pd.DataFrame) -> pd.DataFrame:
    """Per block: the majority prediction, the mean measured changes and how often each agrees."""
    rows = []
    for layer, group in per_input.groupby("layer"):
        counts = group.predicted_regime.value_counts()
        decided = group[group.predicted_regime != "neither"]
        row = {"layer": int(layer), "predicted_regime": str(counts.idxmax()),
               "predicted_fraction": float(counts.max() / len(group))}
        for change in MEASURED_CHANGES:
            row[f"mean_{change}"] = float(group[change].mean())
        for change in MEASURED_CHANGES:
            row[f"match_{change}"] = float(decided[f"match_{change}"].mean()) if len(decided) else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)
