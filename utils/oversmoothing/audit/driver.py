"""Running an audit: inputs grouped by length, one traced forward pass per group, the analysis per block."""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from .. import adapters, metrics, spectrum
from .._validation import check_int
from ..adapters import PretrainedTransformer
from ..runtime import torch_threads
from .analysis import (
    MEASURED_CHANGES,
    dominance_table,
    head_log_hc_dc_change,
    layer_spectra,
    normalisation_scale,
    per_sequence,
    prediction_table,
    second_modulus,
    spectra_for_dominance,
)
from .report import AuditReport

__all__ = ["audit"]

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


def _token_inputs(loaded: PretrainedTransformer, texts: Sequence[str] | None,
                  images: torch.Tensor | None) -> tuple[list[list[int]] | None, list[int], str]:
    """Check the inputs against the model; the token ids of the texts (``None`` for images), the length of
    every input (0 for images: they all give the same number of tokens) and a word for them."""
    arch = loaded.architecture
    if (texts is None) == (images is None):
        raise ValueError("pass exactly one of texts (text models) or images (vision models)")
    if texts is not None:
        if arch.modality != "text":
            raise ValueError(f"{loaded.name} is a vision model; pass images, not texts")
        texts = list(texts)
        if not texts:
            raise ValueError("texts is empty")
        token_ids = loaded.encode_texts(texts)
        return token_ids, [len(ids) for ids in token_ids], "texts"
    if arch.modality != "image":
        raise ValueError(f"{loaded.name} is a text model; pass texts, not images")
    if images.ndim != 4 or len(images) == 0:
        raise ValueError(f"images must have shape (B, C, H, W) with B >= 1, got {tuple(images.shape)}")
    return None, [0] * len(images), "images"


def _mark_matches(per_input: pd.DataFrame) -> pd.DataFrame:
    """Add ``match_<change>`` for every measured change: a smoothing prediction matches a falling HC/DC
    ratio and a rising cosine, a sharpening prediction the opposite."""
    smoothing = per_input.predicted_regime == "smoothing"
    sharpening = per_input.predicted_regime == "sharpening"
    for change in MEASURED_CHANGES:
        sign = -1.0 if "hc_dc" in change else 1.0
        value = sign * per_input[change]
        per_input[f"match_{change}"] = (smoothing & (value > 0)) | (sharpening & (value < 0))
    return per_input


def _audit(loaded: PretrainedTransformer, texts: Sequence[str] | None, images: torch.Tensor | None,
           exclude_special: bool, batch_size: int, progress: bool, tolerance: float) -> AuditReport:
    arch = loaded.architecture
    check_int(batch_size, "batch_size", minimum=1)
    start = time.perf_counter()
    token_ids, lengths, description = _token_inputs(loaded, texts, images)

    weights = loaded.layer_weights()
    value_eigenvalues = [torch.linalg.eigvals(w.value_output.double()) for w in weights]
    spectra_table = layer_spectra(weights, value_eigenvalues)
    dominance_spectra = [spectra_for_dominance(w, ev) for w, ev in zip(weights, value_eigenvalues)]
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

        cos_before, rho_before = per_sequence(hidden[:-1], exclude)  # (L, B)
        cos_after_attn, rho_after_attn = per_sequence(traced.attention_residuals.double(), exclude)
        cos_after_block, rho_after_block = per_sequence(hidden[1:], exclude)

        attention = traced.attentions.double()  # (L, B, h, n, n)
        mean_map = attention.mean(dim=2)
        lambda_mean = torch.linalg.eigvals(mean_map)  # (L, B, n)
        lambda_heads = torch.linalg.eigvals(attention)  # (L, B, h, n)
        for layer, spectra in enumerate(dominance_spectra):
            if arch.norm == "pre":
                scale = normalisation_scale(hidden[layer], norm_eps).to(torch.complex128)  # (B,)
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
            head_change.append((layer, head_log_hc_dc_change(
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
                "attention_second_modulus": second_modulus(lambda_mean[layer]).cpu().numpy(),
                "value_spectral_radius": full_effective.abs().amax(dim=-1).expand(len(indices)).cpu().numpy(),
                "attention_log_hc_dc": (rho_after_attn[layer] - rho_before[layer]).cpu().numpy(),
                "attention_cosine": (cos_after_attn[layer] - cos_before[layer]).cpu().numpy(),
                "block_log_hc_dc": (rho_after_block[layer] - rho_before[layer]).cpu().numpy(),
                "block_cosine": (cos_after_block[layer] - cos_before[layer]).cpu().numpy(),
            }))
    if metric_sums is None:
        raise ValueError("no input has at least two tokens to compare")
    analysed = time.perf_counter()

    per_input = _mark_matches(pd.concat(per_input_rows, ignore_index=True).sort_values(["layer", "input"],
                                                                                       ignore_index=True))

    layer_metric_table = metric_sums / metric_count
    layer_metric_table["layer"] = layer_metric_table["layer"].round().astype(int)
    dominance = dominance_table(per_input, head_dc, head_regime, head_change)
    predictions = prediction_table(per_input)
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
