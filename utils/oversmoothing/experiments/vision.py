r"""The vision experiment of chapter 9: small vision Transformers whose value-output maps are unconstrained
(``"standard"``), forced to smooth (``"smooth"``), forced to sharpen (``"sharpen"``), or filtered by
AttnScale / FeatScale, trained on offline image and signal data.

Registered as ``"vision"``: ``oversmoothing experiment vision --profile quick|full --out results``.
Every model is a pre-LN :class:`~oversmoothing.models.VisionTransformer` with an MLP and softmax attention,
differing only in ``TransformerConfig.value_map``. The experiment trains

- every variant for every seed at the default depth (the *main* runs), and evaluates each of them on the
  clean test set and on corrupted copies (:func:`oversmoothing.datasets.corrupt`, image data only);
- some variants at other depths (accuracy against depth; the main runs give the default depth);
- some variants on stratified fractions of the training set (:func:`oversmoothing.datasets.training_fraction`),
  with as many optimiser steps as a full-data run, so that only the amount of data changes.

For every run it records the training history, the per-layer smoothing metrics of the test images before
and after training (class token excluded), the spectra of every block's :math:`H` and
:math:`\mathrm{diag}(\gamma) H`, and, after every epoch, the asymmetry of each block's :math:`H`
(:func:`oversmoothing.spectrum.asymmetry`) and the share of its eigenvalues with negative real part.
"""

from __future__ import annotations

import functools
import time
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from .._validation import check_choice, check_seeds
from ..datasets import CORRUPTIONS, ArrayDataset, DataSplits, corrupt, training_fraction
from ..datasets.images import load_digits_splits, load_mnist1d_splits
from ..models import TransformerConfig, VisionTransformer, value_output_maps
from ..runtime import get_device, seed_everything
from ..spectrum import asymmetry
from ..training import History, TrainConfig, evaluate, has_converged, train
from .jobs import run_jobs
from .registry import check_counts, register
from .value_maps import value_map_spectra

VARIANTS: tuple[str, ...] = ("standard", "smooth", "sharpen", "attnscale", "featscale")
"""The value maps compared (values of :attr:`TransformerConfig.value_map`)."""

VARIANT_LABELS: dict[str, str] = {"standard": "baseline", "smooth": "smoothing", "sharpen": "sharpening",
                                  "attnscale": "AttnScale", "featscale": "FeatScale"}
"""The name of each variant in tables and legends (regime names get the book's regime colours)."""

PATCHES: dict[str, int | tuple[int, int]] = {"digits": 2, "mnist1d": (1, 4)}
"""Patch size per dataset: 8 x 8 digits in 2 x 2 patches (16 tokens), MNIST-1D's 40 samples in pieces of 4
(10 tokens); a class token is added to both."""

CORRUPTIBLE: tuple[str, ...] = ("digits",)
"""Datasets of images in ``[0, 1]``, on which the corruption benchmark runs (MNIST-1D is a standardised signal)."""


@dataclass(frozen=True)
class VisionSizes:
    """Sizes of the vision experiment.

    Attributes:
        datasets: names from :data:`PATCHES`, each trained on.
        dim, depth, heads, mlp_ratio, init_std: the encoder (``depth`` is the main runs' depth).
        epochs, batch_size, lr: training (AdamW, warm-up and cosine decay) of a full-data run.
        seeds: the main runs' seeds: every variant at ``depth`` for each.
        sweep_depths, sweep_variants, sweep_seeds: extra runs at other depths.
        fractions, fraction_variants, fraction_seeds: runs on a stratified fraction of the training set,
            with ``epochs / fraction`` epochs (rounded), i.e. about as many optimiser steps as a full run.
        severities: corruption severities (``1..5``) at which the main runs are evaluated.
        monitor_images: test images evaluated after every epoch, for the training record only (``0``: all);
            the reported accuracies use the whole test set.
        metric_images: test images whose per-layer metrics are recorded before and after training.
        cpu_threads: intra-op threads while training on a CPU (``None``: leave PyTorch's setting); one
            thread is fastest for models this small and never oversubscribes a shared machine.
        workers: processes that train runs side by side (:func:`~oversmoothing.experiments.jobs.run_jobs`);
            the results do not depend on it.
    """

    datasets: tuple[str, ...]
    dim: int
    depth: int
    heads: int
    mlp_ratio: float
    init_std: float
    epochs: int
    batch_size: int
    lr: float
    seeds: tuple[int, ...]
    sweep_depths: tuple[int, ...]
    sweep_variants: tuple[str, ...]
    sweep_seeds: tuple[int, ...]
    fractions: tuple[float, ...]
    fraction_variants: tuple[str, ...]
    fraction_seeds: tuple[int, ...]
    severities: tuple[int, ...] = (1, 3, 5)
    monitor_images: int = 0
    metric_images: int = 64
    cpu_threads: int | None = 1
    workers: int = 1

    def __post_init__(self) -> None:
        if not self.datasets:
            raise ValueError("datasets must name at least one dataset")
        for name in self.datasets:
            check_choice(name, "datasets", tuple(PATCHES))
        check_counts(self, ("dim", "depth", "heads", "epochs", "batch_size", "metric_images", "workers"))
        check_counts(self, ("monitor_images",), minimum=0)
        if self.cpu_threads is not None and (not isinstance(self.cpu_threads, int) or self.cpu_threads < 1):
            raise ValueError(f"cpu_threads must be a positive int or None, got {self.cpu_threads!r}")
        if not (self.lr > 0 and self.mlp_ratio > 0 and self.init_std > 0):
            raise ValueError("lr, mlp_ratio and init_std must be positive")
        for name in ("seeds", "sweep_seeds", "fraction_seeds"):
            seeds = getattr(self, name)
            check_seeds(seeds, name, allow_empty=True)
        if not self.seeds:
            raise ValueError("seeds must hold at least one seed")
        for name in ("sweep_variants", "fraction_variants"):
            for variant in getattr(self, name):
                check_choice(variant, name, VARIANTS)
        if any(not isinstance(d, int) or d < 1 or d == self.depth for d in self.sweep_depths):
            raise ValueError(f"sweep_depths must be positive ints other than depth={self.depth}, got {self.sweep_depths!r}")
        if any(not 0 < f < 1 for f in self.fractions):
            raise ValueError(f"fractions must lie in (0, 1), got {self.fractions!r}")
        if any(s not in range(1, 6) for s in self.severities):
            raise ValueError(f"severities must lie in 1..5, got {self.severities!r}")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> VisionSizes:
        """The sizes recorded in a result (``result["sizes"]``, where JSON has turned tuples into lists)."""
        return cls(**{key: tuple(value) if isinstance(value, list) else value for key, value in values.items()})


PROFILE_SIZES: dict[str, VisionSizes] = {
    "quick": VisionSizes(datasets=("digits",), dim=32, depth=4, heads=2, mlp_ratio=1.0, init_std=0.2, epochs=4,
                         batch_size=64, lr=5e-3, seeds=(0, 1),
                         sweep_depths=(2, 6), sweep_variants=("standard", "smooth", "sharpen"), sweep_seeds=(0,),
                         fractions=(0.1, 0.3), fraction_variants=("standard", "smooth", "sharpen"),
                         fraction_seeds=(0,), monitor_images=128, metric_images=64, cpu_threads=1),
    "reference": VisionSizes(datasets=("digits",), dim=48, depth=4, heads=4, mlp_ratio=2.0, init_std=0.2, epochs=30,
                             batch_size=64, lr=3e-3, seeds=(0, 1, 2, 3, 4),
                             sweep_depths=(2, 8), sweep_variants=VARIANTS, sweep_seeds=(0, 1, 2),
                             fractions=(0.1, 0.3), fraction_variants=VARIANTS, fraction_seeds=(0, 1, 2),
                             monitor_images=0, metric_images=64, cpu_threads=1, workers=2),
    "full": VisionSizes(datasets=("digits", "mnist1d"), dim=64, depth=6, heads=4, mlp_ratio=4.0, init_std=0.125,
                        epochs=40, batch_size=128, lr=2e-3, seeds=(0, 1, 2, 3, 4),
                        sweep_depths=(2, 4, 9, 12), sweep_variants=VARIANTS, sweep_seeds=(0, 1, 2),
                        fractions=(0.1, 0.3), fraction_variants=VARIANTS, fraction_seeds=(0, 1, 2),
                        monitor_images=512, metric_images=128, cpu_threads=None),
}
"""The sizes of the ``quick`` (CPU, well under a minute), ``reference`` (2 CPU cores, 5 seeds for the main
comparison and 3 for every sweep, all five variants in every sweep) and ``full`` (GPU) profiles."""


def load_vision_data(name: str) -> DataSplits:
    """The splits of ``name`` (``"digits"`` or ``"mnist1d"``), generated or read offline."""
    check_choice(name, "name", tuple(PATCHES))
    return load_digits_splits() if name == "digits" else load_mnist1d_splits()


def build_vision_model(variant: str, depth: int, sizes: VisionSizes, splits: DataSplits) -> VisionTransformer:
    """A pre-LN :class:`~oversmoothing.models.VisionTransformer` with an MLP and ``value_map=variant``
    for the images of ``splits`` (patch size from :data:`PATCHES`)."""
    check_choice(variant, "variant", VARIANTS)
    channels, height, width = splits.input_shape
    config = TransformerConfig(dim=sizes.dim, depth=depth, heads=sizes.heads, mlp_ratio=sizes.mlp_ratio,
                               init_std=sizes.init_std, value_map=variant)
    return VisionTransformer(config, image_size=(height, width), patch_size=PATCHES[splits.name],
                             in_channels=channels, num_classes=splits.num_classes)


def value_map_summary(model: nn.Module, epoch: int = 0) -> dict[str, list[float]]:
    r"""Per block: the asymmetry of :math:`H` and the share of its eigenvalues with negative real part.

    The signature fits the ``on_epoch_end`` hook of :func:`oversmoothing.training.train`.

    Returns:
        ``{"asymmetry": [...], "negative_share": [...]}``, one value per block.
    """
    values = value_output_maps(model).detach().double().cpu()               # (L, d, d)
    eigenvalues = torch.linalg.eigvals(values)
    return {"asymmetry": asymmetry(values).tolist(),
            "negative_share": (eigenvalues.real < 0).double().mean(dim=-1).tolist()}


def corruption_accuracy(model: nn.Module, test: ArrayDataset, severities: tuple[int, ...],
                        kinds: tuple[str, ...] = CORRUPTIONS, seed: int = 0) -> dict[str, list[float]]:
    """Test accuracy on corrupted copies of ``test`` (images in ``[0, 1]``).

    Returns:
        ``{kind: [accuracy at each of severities]}`` for every kind of :data:`oversmoothing.datasets.CORRUPTIONS`.
    """
    scores = {}
    for kind in kinds:
        scores[kind] = [evaluate(model, ArrayDataset(corrupt(test.inputs, kind, severity, seed=seed), test.targets))
                        ["accuracy"] for severity in severities]
    return scores


def _first(data: ArrayDataset, count: int) -> ArrayDataset:
    return data if count == 0 or count >= len(data) else data.subset(torch.arange(count))


def train_vision_model(variant: str, seed: int, depth: int, sizes: VisionSizes, splits: DataSplits,
                       train_set: ArrayDataset | None = None, epochs: int | None = None,
                       device: torch.device | str | None = None) -> tuple[VisionTransformer, History]:
    """Build and train one model; returns ``(model, history)``.

    Training is :func:`oversmoothing.training.train` with ``seed``, validation on the first
    ``sizes.monitor_images`` test images, per-layer metrics (class token excluded) of the first
    ``sizes.metric_images`` test images before and after training, and :func:`value_map_summary` after
    every epoch (in ``history.epoch_end``).

    Args:
        train_set: the training examples (default: ``splits.train``).
        epochs: epochs (default: ``sizes.epochs``).
    """
    seed_everything(seed)
    model = build_vision_model(variant, depth, sizes, splits)
    config = TrainConfig(epochs=sizes.epochs if epochs is None else epochs, batch_size=sizes.batch_size,
                         lr=sizes.lr, seed=seed, progress=False)
    history = train(model, splits.train if train_set is None else train_set, _first(splits.test, sizes.monitor_images),
                    config, device=device, metric_inputs=splits.test.inputs[:sizes.metric_images],
                    metric_exclude=[0], on_epoch_end=value_map_summary)
    return model, history


def _run_record(dataset: str, variant: str, seed: int, depth: int, fraction: float, train_size: int,
                model: VisionTransformer, history: History, test: ArrayDataset, started: float) -> dict[str, Any]:
    scores = evaluate(model, test)
    return {"dataset": dataset, "variant": variant, "label": VARIANT_LABELS[variant], "seed": seed, "depth": depth,
            "fraction": fraction, "train_examples": train_size, "test_accuracy": scores["accuracy"],
            "test_loss": scores["loss"], "seconds": time.perf_counter() - started, "epochs": history.epochs,
            "converged": has_converged(history.epochs),
            "layer_metrics": history.layer_metrics, "epoch_end": history.epoch_end, **value_map_spectra(model)}


@functools.lru_cache(maxsize=None)
def _cached_splits(name: str) -> DataSplits:
    """:func:`load_vision_data`, once per process (the worker processes of :func:`run_vision` load their own)."""
    return load_vision_data(name)


def _vision_run(name: str, variant: str, seed: int, depth: int, fraction: float, sizes: VisionSizes,
                device: str) -> dict[str, Any]:
    """Train and record one run of :func:`run_vision` (a job of :func:`~.jobs.run_jobs`)."""
    started = time.perf_counter()
    splits = _cached_splits(name)
    train_set = splits.train if fraction == 1.0 else training_fraction(splits.train, fraction, seed=seed)
    epochs = sizes.epochs if fraction == 1.0 else max(1, round(sizes.epochs / fraction))
    model, history = train_vision_model(variant, seed, depth, sizes, splits, train_set, epochs, device)
    record = _run_record(name, variant, seed, depth, fraction, len(train_set), model, history, splits.test, started)
    main = fraction == 1.0 and depth == sizes.depth
    record["corruption"] = (corruption_accuracy(model, splits.test, sizes.severities)
                            if main and name in CORRUPTIBLE else None)
    record["seconds"] = time.perf_counter() - started
    return record


def vision_jobs(sizes: VisionSizes) -> list[tuple[str, str, int, int, float]]:
    """The runs of ``sizes``: ``(dataset, variant, seed, depth, fraction)``, main runs first, then the depth
    sweep, then the data fractions."""
    jobs = []
    for name in sizes.datasets:
        jobs += [(name, variant, seed, sizes.depth, 1.0) for seed in sizes.seeds for variant in VARIANTS]
        jobs += [(name, variant, seed, depth, 1.0) for depth in sizes.sweep_depths for seed in sizes.sweep_seeds
                 for variant in sizes.sweep_variants]
        jobs += [(name, variant, seed, sizes.depth, fraction) for fraction in sizes.fractions
                 for seed in sizes.fraction_seeds for variant in sizes.fraction_variants]
    return jobs


def run_vision(sizes: VisionSizes, device: torch.device | str | None = None) -> dict[str, Any]:
    """Train and analyse every run of ``sizes`` on every dataset.

    Returns:
        A JSON-ready dict with ``sizes`` and ``runs``: one entry per run with ``dataset``, ``variant``,
        ``label``, ``seed``, ``depth``, ``fraction``, ``train_examples``, ``test_accuracy``, ``test_loss``,
        ``seconds``, ``epochs`` (the training history), ``converged``
        (:func:`oversmoothing.training.has_converged`), ``layer_metrics`` (rows with ``epoch`` 0 = before
        training and the last epoch), ``epoch_end`` (:func:`value_map_summary` per epoch), the output of
        :func:`value_map_spectra`, and ``corruption`` (:func:`corruption_accuracy`, main runs on image data;
        ``None`` otherwise).
    """
    if not isinstance(sizes, VisionSizes):
        raise TypeError(f"sizes must be a VisionSizes, got {type(sizes).__name__}")
    device = get_device(None if device is None else str(device))
    on_cpu = device.type == "cpu"
    runs = run_jobs(_vision_run, [(*job, sizes, str(device)) for job in vision_jobs(sizes)],
                    workers=sizes.workers if on_cpu else 1, threads=sizes.cpu_threads if on_cpu else None)
    return {"sizes": asdict(sizes), "runs": runs}


@register("vision")
def vision_experiment(profile: str, device: torch.device) -> dict[str, Any]:
    """The ``vision`` experiment: :func:`run_vision` with :data:`PROFILE_SIZES` ``[profile]``."""
    return run_vision(PROFILE_SIZES[check_choice(profile, "profile", tuple(PROFILE_SIZES))], device)


__all__ = [
    "CORRUPTIBLE",
    "PATCHES",
    "PROFILE_SIZES",
    "VARIANTS",
    "VARIANT_LABELS",
    "VisionSizes",
    "build_vision_model",
    "corruption_accuracy",
    "load_vision_data",
    "run_vision",
    "train_vision_model",
    "value_map_summary",
    "vision_jobs",
]
