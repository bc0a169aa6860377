r"""The language experiment of chapter 10: causal character-level Transformers whose value-output maps
are unconstrained (``"standard"``), forced to smooth (``"smooth"``) or forced to sharpen (``"sharpen"``),
trained on the shipped Shakespeare corpus.

Registered as ``"language"``: ``oversmoothing experiment language --profile quick|full --out results``.
For every variant and seed it records the validation loss and bits per character, the per-layer
smoothing metrics on validation windows, the spectra of every block's :math:`H` and
:math:`\mathrm{diag}(\gamma) H`, which mode dominates every block with the model's own causal attention
(:func:`causal_block_eigenvalues`), and a short generated sample.

Theory used here (chapter 10): a causal multi-head layer :math:`X \mapsto X + \sum_h A_h X H_h` is block
lower triangular over tokens, so its eigenvalues are those of the ``n`` blocks
:math:`M_k = I + \sum_h (A_h)_{kk} H_h`; block ``k = 1`` holds the DC eigenvalues :math:`1 + \lambda^H_j`.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd
import torch

from .._validation import check_choice, check_int, check_seeds
from ..datasets import ArrayDataset, CharVocabulary, char_splits
from ..metrics import layer_metrics
from ..models import CharTransformer, TransformerConfig, generate, head_value_outputs, value_output_maps
from ..runtime import get_device, seed_everything
from ..spectrum import asymmetry, causal_block_eigenvalues, dc_dominates
from ..training import History, TrainConfig, evaluate, has_converged, train
from .jobs import run_jobs
from .registry import check_counts, register
from .value_maps import value_map_spectra

VARIANTS: tuple[str, ...] = ("standard", "smooth", "sharpen")
"""The value maps compared (values of :attr:`TransformerConfig.value_map`)."""

REGIME_OF_VARIANT: dict[str, str] = {"standard": "baseline", "smooth": "smoothing", "sharpen": "sharpening"}
"""The regime name (and plotting colour) of each variant."""


@dataclass(frozen=True)
class LanguageSizes:
    """Sizes of the language experiment.

    Attributes:
        dim, depth, heads: the encoder's width, number of blocks and heads.
        context: characters per window (the model's context).
        stride: characters between the starts of training windows.
        train_windows: training windows used, a seeded random subset (``0``: all).
        val_windows: validation windows for the loss, evenly spaced over the held-out text (``0``: all).
        metric_windows: validation windows on which per-layer metrics and spectra are measured.
        dominance_windows: of those, how many enter the block-eigenvalue analysis (costly: ``n`` eigen
            decompositions of ``d x d`` matrices per window and layer).
        epochs, batch_size, lr: training (AdamW, warm-up and cosine decay).
        seeds: one run per seed and variant.
        sample_length: characters generated per model.
        temperature: sampling temperature of the samples.
        workers: processes that train runs side by side on a CPU (:func:`~oversmoothing.experiments.jobs.run_jobs`);
            the results do not depend on it.
    """

    dim: int
    depth: int
    heads: int
    context: int
    stride: int
    train_windows: int
    val_windows: int
    metric_windows: int
    dominance_windows: int
    epochs: int
    batch_size: int
    lr: float
    seeds: tuple[int, ...] = (0, 1)
    sample_length: int = 120
    temperature: float = 0.8
    workers: int = 1

    def __post_init__(self) -> None:
        check_counts(self, ("dim", "depth", "heads", "context", "stride", "metric_windows", "dominance_windows",
                            "epochs", "batch_size", "sample_length", "workers"))
        check_counts(self, ("train_windows", "val_windows"), minimum=0)
        if self.dominance_windows > self.metric_windows:
            raise ValueError(f"dominance_windows={self.dominance_windows} must not exceed "
                             f"metric_windows={self.metric_windows}")
        check_seeds(self.seeds)
        if not (self.lr > 0 and self.temperature > 0):
            raise ValueError(f"lr and temperature must be positive, got {self.lr!r} and {self.temperature!r}")


PROFILE_SIZES: dict[str, LanguageSizes] = {
    "quick": LanguageSizes(dim=32, depth=4, heads=4, context=32, stride=32, train_windows=1600, val_windows=128,
                           metric_windows=64, dominance_windows=8, epochs=3, batch_size=32, lr=3e-3, seeds=(0, 1),
                           sample_length=100),
    "reference": LanguageSizes(dim=32, depth=4, heads=4, context=32, stride=32, train_windows=0, val_windows=512,
                               metric_windows=64, dominance_windows=8, epochs=5, batch_size=32, lr=3e-3,
                               seeds=(0, 1, 2, 3, 4), sample_length=200, workers=2),
    "full": LanguageSizes(dim=192, depth=6, heads=6, context=128, stride=32, train_windows=0, val_windows=0,
                          metric_windows=128, dominance_windows=2, epochs=8, batch_size=64, lr=1e-3,
                          seeds=(0, 1, 2, 3, 4), sample_length=300),
}
"""The sizes of the ``quick`` (CPU, under a minute), ``reference`` (2 CPU cores, the quick model trained on
the whole corpus for five epochs, five seeds) and ``full`` (GPU) profiles."""


def _evenly_spaced(data: ArrayDataset, count: int) -> ArrayDataset:
    """``count`` examples spread evenly over ``data`` (all of them when ``count`` is 0 or too large)."""
    if count == 0 or count >= len(data):
        return data
    return data.subset(torch.linspace(0, len(data) - 1, count).round().long())


@torch.no_grad()
def analyse_language_model(model: CharTransformer, windows: torch.Tensor, dominance_windows: int) -> dict[str, Any]:
    r"""Per-layer metrics, spectra and block-eigenvalue dominance of a trained causal model.

    Args:
        model: a :class:`~oversmoothing.models.CharTransformer` with ``causal=True``, pre-LN.
        windows: validation character ids, shape ``(B, n)``.
        dominance_windows: how many of the windows (the first) enter the block-eigenvalue analysis.

    Returns:
        A JSON-ready dict: ``layer_metrics`` (records of :func:`~oversmoothing.layer_metrics`, layer 0 = the
        embeddings), ``eigenvalues`` and ``gain_eigenvalues`` (``{"real", "imag"}``, each ``(L, d)``, of
        :math:`H` and :math:`\mathrm{diag}(\gamma) H`), ``negative_gains`` (per layer), ``asymmetry`` of
        :math:`H` (per layer), and ``dc_dominant`` / ``gain_dc_dominant``: per layer, the share of the
        dominance windows in which the DC block wins, with :math:`H_h` and with :math:`\mathrm{diag}(\gamma) H_h`.
    """
    if not isinstance(windows, torch.Tensor) or windows.ndim != 2 or windows.dtype != torch.int64:
        raise ValueError(f"windows must be an int64 tensor of shape (B, n), got {getattr(windows, 'shape', windows)}")
    check_int(dominance_windows, "dominance_windows", minimum=1)
    was_training = model.training
    model.eval()
    intermediates = model.forward_intermediates(windows, return_attention=True)
    table = layer_metrics(intermediates.hidden_states.double())
    values = value_output_maps(model).double().cpu()
    attentions = intermediates.attentions[:, :dominance_windows]                                # (L, B, h, n, n)
    diagonals = attentions.diagonal(dim1=-2, dim2=-1).double().cpu()                             # (L, B, h, n)
    dominance = {}
    for key, include in (("dc_dominant", False), ("gain_dc_dominant", True)):
        per_head = head_value_outputs(model, include_norm_gain=include).double().cpu()[:, None]  # (L, 1, h, d, d)
        dominance[key] = dc_dominates(causal_block_eigenvalues(diagonals, per_head)).double().mean(dim=1)
    model.train(was_training)
    return {
        "layer_metrics": table.to_dict("records"),
        **value_map_spectra(model),
        "asymmetry": asymmetry(values).tolist(),
        "dc_dominant": dominance["dc_dominant"].tolist(),
        "gain_dc_dominant": dominance["gain_dc_dominant"].tolist(),
    }


@dataclass
class _Data:
    vocab: CharVocabulary
    train: ArrayDataset
    val: ArrayDataset
    windows: torch.Tensor
    prompt: str
    counts: dict[str, int]


@functools.lru_cache(maxsize=2)
def _prepare(sizes: LanguageSizes, text: str | None) -> _Data:
    """The windows, vocabulary and prompt of ``sizes``, once per process (the workers prepare their own)."""
    splits = char_splits(sizes.context, val_fraction=0.1, text=text, stride=sizes.stride)
    train_set = splits.train
    if 0 < sizes.train_windows < len(train_set):
        chosen = torch.randperm(len(train_set), generator=torch.Generator().manual_seed(0))[:sizes.train_windows]
        train_set = train_set.subset(chosen.sort().values)
    val_set = _evenly_spaced(splits.test, sizes.val_windows)
    windows = _evenly_spaced(splits.test, sizes.metric_windows).inputs
    held_out = splits.vocab.decode(splits.test.inputs[:4].flatten())            # the first held-out characters
    start = held_out.find("\n") + 1                                             # begin the prompt at a line start
    prompt = held_out[start:start + sizes.context // 2] or held_out[: sizes.context // 2]
    counts = {"train_windows": len(train_set), "val_windows": len(val_set), "metric_windows": len(windows),
              "vocabulary": len(splits.vocab)}
    return _Data(splits.vocab, train_set, val_set, windows, prompt, counts)


def train_language_model(variant: str, seed: int, sizes: LanguageSizes, data_train: ArrayDataset,
                         data_val: ArrayDataset, vocabulary_size: int, device: torch.device | str | None = None,
                         metric_inputs: torch.Tensor | None = None) -> tuple[CharTransformer, History]:
    """Build and train one causal character model; returns ``(model, history)``.

    The model is a pre-LN :class:`~oversmoothing.models.CharTransformer` with an MLP and
    ``value_map=variant``; training is :func:`oversmoothing.training.train` with ``seed``.
    """
    check_choice(variant, "variant", VARIANTS)
    seed_everything(seed)
    config = TransformerConfig(dim=sizes.dim, depth=sizes.depth, heads=sizes.heads, causal=True, value_map=variant)
    model = CharTransformer(config, vocabulary_size, sizes.context)
    history = train(model, data_train, data_val,
                    TrainConfig(epochs=sizes.epochs, batch_size=sizes.batch_size, lr=sizes.lr, seed=seed,
                                progress=False),
                    device=device, metric_inputs=metric_inputs)
    return model, history


def _language_run(variant: str, seed: int, sizes: LanguageSizes, text: str | None, device: str) -> dict[str, Any]:
    """Train and record one run of :func:`run_language` (a job of :func:`~.jobs.run_jobs`)."""
    started = time.perf_counter()
    data = _prepare(sizes, text)
    model, history = train_language_model(variant, seed, sizes, data.train, data.val, len(data.vocab), device,
                                          metric_inputs=data.windows)
    scores = evaluate(model, data.val)
    analysis = analyse_language_model(model, data.windows.to(device), sizes.dominance_windows)
    sample = generate(model, data.vocab, data.prompt, sizes.sample_length, sizes.temperature, seed=seed)
    return {
        "variant": variant, "regime": REGIME_OF_VARIANT[variant], "seed": seed,
        "val_loss": scores["loss"], "bits_per_char": scores["loss"] / math.log(2), "val_accuracy": scores["accuracy"],
        "seconds": time.perf_counter() - started, "epochs": history.epochs, "converged": has_converged(history.epochs),
        "initial_layer_metrics": [row for row in history.layer_metrics if row["epoch"] == 0],
        **analysis, "sample": sample,
    }


def run_language(sizes: LanguageSizes, device: torch.device | str | None = None,
                 text: str | None = None) -> dict[str, Any]:
    """Train and analyse every variant for every seed of ``sizes``.

    Args:
        sizes: the :class:`LanguageSizes`.
        device: where to train (default: :func:`oversmoothing.get_device`).
        text: the corpus (default: the shipped Shakespeare extract).

    Returns:
        A JSON-ready dict with ``sizes``, ``counts`` (windows and vocabulary), ``prompt`` and ``runs``: one
        entry per (seed, variant) with ``variant``, ``regime``, ``seed``, ``val_loss``, ``bits_per_char``,
        ``val_accuracy``, ``seconds``, ``epochs`` (the training history), ``converged``
        (:func:`oversmoothing.training.has_converged`), ``initial_layer_metrics`` (before
        training), the output of :func:`analyse_language_model` and a generated ``sample``.
    """
    if not isinstance(sizes, LanguageSizes):
        raise TypeError(f"sizes must be a LanguageSizes, got {type(sizes).__name__}")
    data = _prepare(sizes, text)
    device = get_device(None if device is None else str(device))
    on_cpu = device.type == "cpu"
    # Models this small train fastest on one CPU thread (and never oversubscribe a shared machine).
    runs = run_jobs(_language_run, [(variant, seed, sizes, text, str(device)) for seed in sizes.seeds
                                    for variant in VARIANTS],
                    workers=sizes.workers if on_cpu else 1, threads=1 if on_cpu else None)
    return {"sizes": asdict(sizes), "counts": data.counts, "prompt": data.prompt, "runs": runs}


def summary_runs(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ``runs`` of a :func:`run_language` result (``ValueError`` when there are none)."""
    runs = result.get("runs") if isinstance(result, Mapping) else None
    if not runs:
        raise ValueError("result must be a language result with a non-empty 'runs' list")
    return list(runs)


def summary_frame(result: Mapping[str, Any]) -> pd.DataFrame:
    """One row per trained model of a :func:`run_language` result.

    Columns: ``variant``, ``regime``, ``seed``, ``val_loss``, ``bits_per_char``, ``val_accuracy``,
    ``last_mean_cosine`` and ``last_hc_dc_ratio`` (last layer, validation windows), ``dc_dominant`` and
    ``gain_dc_dominant`` (averaged over layers), ``negative_gains`` (summed over layers), ``converged``
    (:func:`oversmoothing.training.has_converged`) and ``seconds``.

    Raises:
        ValueError: ``result`` has no ``runs``.
    """
    rows = []
    for run in summary_runs(result):
        last = run["layer_metrics"][-1]
        rows.append({
            "variant": run["variant"], "regime": run["regime"], "seed": run["seed"], "val_loss": run["val_loss"],
            "bits_per_char": run["bits_per_char"], "val_accuracy": run["val_accuracy"],
            "last_mean_cosine": last["mean_cosine"], "last_hc_dc_ratio": last["hc_dc_ratio"],
            "dc_dominant": sum(run["dc_dominant"]) / len(run["dc_dominant"]),
            "gain_dc_dominant": sum(run["gain_dc_dominant"]) / len(run["gain_dc_dominant"]),
            "negative_gains": sum(run["negative_gains"]), "converged": run.get("converged"),
            "seconds": run["seconds"],
        })
    return pd.DataFrame(rows)


def layers_frame(result: Mapping[str, Any], initial: bool = False) -> pd.DataFrame:
    """The per-layer metrics of every run in one long table: columns ``variant``, ``regime``, ``seed``,
    ``layer`` and one per metric. ``initial=True`` gives the metrics before training."""
    key = "initial_layer_metrics" if initial else "layer_metrics"
    frames = [pd.DataFrame(run[key]).drop(columns="epoch", errors="ignore").assign(
        variant=run["variant"], regime=run["regime"], seed=run["seed"]) for run in summary_runs(result)]
    return pd.concat(frames, ignore_index=True)


def spectra_frame(result: Mapping[str, Any]) -> pd.DataFrame:
    r"""The spectra of every trained model, one row per run, and whether they obey the theory.

    Columns: ``variant``, ``seed``; over all blocks, for :math:`H`: ``min Re λ(H)``, ``max Re λ(H)``,
    ``max |Im λ(H)|``, ``spectral radius of H``, ``asymmetry of H`` (largest over blocks); for
    :math:`\mathrm{diag}(\gamma) H`: ``min Re λ(diag(γ)H)``, ``max Re λ(diag(γ)H)``; ``negative gains``
    (summed over blocks). For the constrained variants also ``in its set`` (the spectrum of :math:`H`
    lies in the set of its value map, up to ``1e-6``, and is real) and ``sign flips = negative gains``
    (in every block, :math:`\mathrm{diag}(\gamma) H` has as many eigenvalues of the wrong sign as the
    block has negative gains, the inertia count); ``NaN`` for the baseline.

    Raises:
        ValueError: ``result`` has no ``runs``.
    """
    floor, upper = TransformerConfig.eigenvalue_floor, TransformerConfig.max_eigenvalue
    allowed = {"smooth": (floor, upper), "sharpen": (-1.0, -floor)}
    rows = []
    for run in summary_runs(result):
        values = torch.tensor(run["eigenvalues"]["real"]) + 1j * torch.tensor(run["eigenvalues"]["imag"])  # (L, d)
        gained = torch.tensor(run["gain_eigenvalues"]["real"]) + 1j * torch.tensor(run["gain_eigenvalues"]["imag"])
        row = {"variant": run["variant"], "seed": run["seed"], "min Re λ(H)": values.real.min().item(),
               "max Re λ(H)": values.real.max().item(), "max |Im λ(H)|": values.imag.abs().max().item(),
               "spectral radius of H": values.abs().max().item(), "asymmetry of H": max(run["asymmetry"]),
               "min Re λ(diag(γ)H)": gained.real.min().item(), "max Re λ(diag(γ)H)": gained.real.max().item(),
               "negative gains": sum(run["negative_gains"])}
        if run["variant"] in allowed:
            low, high = allowed[run["variant"]]
            wrong_sign = (gained.real < 0) if run["variant"] == "smooth" else (gained.real > 0)
            row["in its set"] = (row["max |Im λ(H)|"] < 1e-9 and low - 1e-6 <= row["min Re λ(H)"]
                                 and row["max Re λ(H)"] <= high + 1e-6)
            row["sign flips = negative gains"] = wrong_sign.sum(dim=-1).tolist() == run["negative_gains"]
        rows.append(row)
    return pd.DataFrame(rows)


@register("language")
def language_experiment(profile: str, device: torch.device) -> dict[str, Any]:
    """The ``language`` experiment: :func:`run_language` with :data:`PROFILE_SIZES` ``[profile]``."""
    return run_language(PROFILE_SIZES[check_choice(profile, "profile", tuple(PROFILE_SIZES))], device)


__all__ = [
    "PROFILE_SIZES",
    "REGIME_OF_VARIANT",
    "VARIANTS",
    "LanguageSizes",
    "analyse_language_model",
    "layers_frame",
    "run_language",
    "spectra_frame",
    "summary_frame",
    "summary_runs",
    "train_language_model",
]
