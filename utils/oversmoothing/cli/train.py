"""The ``oversmoothing train`` subcommand: its options, the data and the model they name, the up-front checks of
the sizes, and the training run that writes ``model.safetensors`` and ``history.json`` into ``--out``."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from .common import add_overwrite_flag, check_out, error, integer, number, positive_int, remove_outputs, warn

if TYPE_CHECKING:  # the command imports torch and the models only when it runs
    import torch
    from torch import nn

    from ..datasets import ArrayDataset, DataSplits
    from ..models import TransformerConfig
    from .resources import TrainingStep

MAX_SEED = 2**32 - 1
"""The largest ``--seed`` (NumPy's seeds are 32-bit)."""

METRIC_INPUTS = 128
"""Test examples on which ``train`` records the per-layer metrics."""

VAL_FRACTION = 0.1
"""Share of the Shakespeare text that ``train`` holds out for testing (its end)."""


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Add the ``train`` subcommand to ``commands``."""
    from ..datasets import DATASETS
    from ..models import VALUE_MAPS
    from ..models.transformer import NORM_PLACEMENTS

    train = commands.add_parser(
        "train",
        help="train one of the book's small Transformers",
        description=(
            "Train a ViT on digits, MNIST-1D or CIFAR, or a character model on the Shakespeare extract, with "
            "AdamW, warm-up and cosine schedule and label smoothing. Writes model.safetensors and history.json "
            "(losses, accuracies, per-layer smoothing metrics) into --out. Launch with "
            "'torchrun --nproc_per_node N -m oversmoothing.cli train ...' for data parallelism."
        ),
        epilog=(
            "Before training, the sizes are checked: --batch-size against the training examples, --context against "
            "the text, and the memory one step needs (estimated) against what the device has; a step that would "
            "take long on a CPU is announced. A progress bar shows from the start (hide it with --no-progress)."
        ),
    )
    train.add_argument("--data", required=True, choices=DATASETS, help="the dataset")
    train.add_argument("--model", choices=("vit", "char"),
                       help="vit for images and signals, char for text (default: the one that fits --data)")
    train.add_argument("--value-map", default="standard", choices=VALUE_MAPS,
                       help="what attention does with the attended tokens (default: standard W_V W_O)")
    train.add_argument("--norm", default="pre", choices=NORM_PLACEMENTS, help="LayerNorm placement")
    train.add_argument("--depth", type=positive_int, default=4, metavar="L", help="blocks (default: 4)")
    train.add_argument("--dim", type=positive_int, default=64, metavar="D", help="token width (default: 64)")
    train.add_argument("--heads", type=positive_int, default=4, metavar="H", help="attention heads (default: 4)")
    train.add_argument("--patch-size", type=positive_int, metavar="P",
                       help="ViT patch side (patch width for MNIST-1D; default: 2 digits, 4 MNIST-1D and CIFAR)")
    train.add_argument("--context", type=positive_int, default=64, metavar="N",
                       help="characters per window of the character model, fewer than the held-out tenth of the "
                            "text (default: 64)")
    train.add_argument("--epochs", type=positive_int, default=10, metavar="E", help="default: 10")
    train.add_argument("--batch-size", type=positive_int, default=128, metavar="B",
                       help="examples per step, at most the training examples (default: 128)")
    train.add_argument("--lr", type=number(0, 1, low_open=True), default=1e-3,
                       help="peak learning rate of AdamW, in (0, 1] (default: 1e-3)")
    train.add_argument("--weight-decay", type=number(0, 1), default=0.05,
                       help="AdamW weight decay, in [0, 1] (default: 0.05)")
    train.add_argument("--warmup", type=number(0, 1, high_open=True), default=0.1, metavar="FRACTION",
                       help="share of the steps spent warming up, in [0, 1) (default: 0.1)")
    train.add_argument("--label-smoothing", type=number(0, 1, high_open=True), default=0.0, metavar="EPSILON",
                       help="in [0, 1) (default: 0)")
    train.add_argument("--seed", type=integer(0, MAX_SEED), default=0,
                       help=f"seed of the weights and the data order, in [0, {MAX_SEED}] (default: 0)")
    train.add_argument("--limit", type=positive_int, metavar="N",
                       help="use a seeded random subset of at most N training and N test examples (a quick trial)")
    train.add_argument("--metrics-every", type=integer(0), default=0, metavar="E",
                       help="per-layer metrics every E epochs (default: 0, before and after training only)")
    train.add_argument("--data-root", type=Path, metavar="DIR", help="folder of the CIFAR files (cifar10, cifar100)")
    train.add_argument("--download", action="store_true", help="download CIFAR into --data-root when missing")
    train.add_argument("--device", help="torch device (default: OVERSMOOTHING_DEVICE, else CUDA, MPS or CPU)")
    train.add_argument("--compile", action="store_true", help="torch.compile the model (for long CUDA runs)")
    train.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    train.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    add_overwrite_flag(train, "model.safetensors and history.json of an earlier run")
    train.set_defaults(command_parser=train)


def _load_splits(args: argparse.Namespace, parser: argparse.ArgumentParser) -> DataSplits:
    from .. import datasets

    if args.data in ("cifar10", "cifar100"):
        if args.data_root is None:
            parser.error(f"argument --data-root: --data {args.data} needs the folder of the CIFAR files")
        if not args.download:
            _check_cifar_files(args.data_root, args.data)
        return datasets.load_cifar_splits(args.data_root, args.data, download=args.download)
    if args.data == "shakespeare":
        text = datasets.load_corpus()
        held_out = len(text) - int(len(text) * (1 - VAL_FRACTION))  # the test part, as char_splits cuts it
        if args.context >= held_out:
            parser.error(f"argument --context: a window of {args.context} characters (and the one it predicts) "
                         f"does not fit the {held_out} held-out characters of the text; use at most {held_out - 1}")
        return datasets.char_splits(args.context, val_fraction=VAL_FRACTION, text=text)
    return datasets.load_digits_splits() if args.data == "digits" else datasets.load_mnist1d_splits()


def _check_cifar_files(root: Path, name: str) -> None:
    """Raise ``FileNotFoundError`` naming ``--data-root`` and ``--download`` when a CIFAR file is missing."""
    from ..datasets import CIFAR_RELEASES

    release = CIFAR_RELEASES[name]
    folder = root.expanduser() / release.folder
    files = (release.meta_file, *release.train_files, *release.test_files)
    missing = [file for file in files if not (folder / file).is_file()]
    if missing:
        raise FileNotFoundError(
            f"--data-root {os.fspath(root)!r} lacks {release.folder}/{missing[0]}"
            f"{f' and {len(missing) - 1} more of its files' if len(missing) > 1 else ''}; add --download to fetch "
            f"the {name} archive, or point --data-root at the folder that holds the extracted {release.folder}/")


def _limited(data: ArrayDataset, limit: int | None, seed: int) -> ArrayDataset:
    """At most ``limit`` examples of ``data``, a seeded random subset."""
    import torch

    if limit is None or limit >= len(data):
        return data
    return data.subset(torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))[:limit])


def _model_config(args: argparse.Namespace) -> TransformerConfig:
    """The encoder's settings from ``--dim``, ``--depth``, ``--heads``, ``--norm`` and ``--value-map``."""
    from ..models import TransformerConfig

    return TransformerConfig(dim=args.dim, depth=args.depth, heads=args.heads, norm=args.norm,
                             value_map=args.value_map, causal=args.model == "char")


def _patch(args: argparse.Namespace, splits: DataSplits) -> int | tuple[int, int]:
    """The ViT's patch: ``--patch-size``, or the vision experiment's for the data (4 x 4 for CIFAR)."""
    from ..experiments.vision import PATCHES

    if args.patch_size is None:
        return PATCHES.get(args.data, 4)
    return (1, args.patch_size) if splits.input_shape[1] == 1 else args.patch_size


def _build_model(args: argparse.Namespace, config: TransformerConfig, splits: DataSplits) -> nn.Module:
    """The character model or the ViT that ``--model`` names, sized for ``splits``."""
    from ..models import CharTransformer, VisionTransformer

    if args.model == "char":
        return CharTransformer(config, vocab_size=splits.num_classes, context=args.context)
    channels, height, width = splits.input_shape
    return VisionTransformer(config, image_size=(height, width), patch_size=_patch(args, splits),
                             in_channels=channels, num_classes=splits.num_classes)


def _training_step(args: argparse.Namespace, config: TransformerConfig, splits: DataSplits, test_size: int,
                   eval_batch: int, processes: int) -> TrainingStep:
    """The :class:`~oversmoothing.cli.resources.TrainingStep` of this run, for the estimates."""
    from .resources import TrainingStep

    batches = dict(batch=args.batch_size // processes, eval_batch=min(eval_batch, test_size),
                   metric_batch=min(METRIC_INPUTS, test_size))
    if args.model == "char":
        return TrainingStep(config, tokens=args.context, input_width=splits.num_classes, outputs=splits.num_classes,
                            per_token=True, **batches)
    channels, height, width = splits.input_shape
    patch = _patch(args, splits)
    patch_height, patch_width = patch if isinstance(patch, tuple) else (patch, patch)
    return TrainingStep(config, tokens=1 + (height // patch_height) * (width // patch_width),
                        input_width=channels * patch_height * patch_width, outputs=splits.num_classes,
                        per_token=False, **batches)


def _steps_per_epoch(args: argparse.Namespace, train_size: int) -> int:
    """Optimiser steps per epoch: the last incomplete batch is dropped."""
    return train_size // args.batch_size


def _check_sizes(args: argparse.Namespace, parser: argparse.ArgumentParser, step: TrainingStep, train_size: int,
                 device: torch.device) -> None:
    """Refuse a batch larger than the training set or a run the memory cannot hold; warn about a slow step."""
    from .resources import SLOW_STEP_SECONDS, available_memory, format_bytes, format_seconds

    if args.batch_size > train_size:
        unit = f"windows of {args.context} characters" if args.model == "char" else "examples"
        parser.error(f"argument --batch-size: {args.batch_size} is more than the {train_size} training {unit}"
                     f"{' that --limit keeps' if args.limit is not None else ''}; lower it")
    needed, free = step.memory(), available_memory(device)
    if free is not None and needed > free:
        sizes = "--context, " if args.model == "char" else ""
        parser.error(f"arguments --batch-size, {sizes}--dim, --depth: the run needs about {format_bytes(needed)} of "
                     f"memory, but {device} has {format_bytes(free)} available; lower one of them")
    if device.type == "cpu" and step.cpu_seconds() > SLOW_STEP_SECONDS:
        growth = " (the attention grows with the square of --context)" if args.model == "char" else ""
        steps = _steps_per_epoch(args, train_size) * args.epochs
        warn("train", f"each training step takes about {step.operations():.1e} floating-point operations{growth}, "
                      f"roughly {format_seconds(step.cpu_seconds())} on one CPU core, and the run has {steps} steps")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Run ``oversmoothing train`` with the parsed ``args``; ``parser`` is its own parser; returns the exit status."""
    from dataclasses import asdict

    from ..adapters.loading import TRAIN_RUN_FILES
    from ..runtime import get_device, seed_everything
    from ..training import TrainConfig, init_from_environment, save_checkpoint, train

    model_for_data = "char" if args.data == "shakespeare" else "vit"
    args.model = args.model or model_for_data
    if args.model != model_for_data:
        parser.error(f"argument --model: {args.model} does not fit --data {args.data}; use {model_for_data}")
    check_out(parser, args.out, TRAIN_RUN_FILES, args.overwrite)
    try:
        device = get_device(args.device)
        config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                             weight_decay=args.weight_decay, warmup_fraction=args.warmup,
                             label_smoothing=args.label_smoothing, seed=args.seed, compile=args.compile,
                             progress=not args.no_progress, metrics_every=args.metrics_every)
        model_config = _model_config(args)
        seed_everything(args.seed)
        splits = _load_splits(args, parser)
    except ValueError as err:
        parser.error(str(err))
    except OSError as err:
        return error("train", str(err))
    group = init_from_environment(device)
    train_set, test_set = _limited(splits.train, args.limit, args.seed), _limited(splits.test, args.limit, args.seed)
    step = _training_step(args, model_config, splits, len(test_set), config.eval_batch_size, group.world_size)
    _check_sizes(args, parser, step, len(train_set), device)
    try:
        model = _build_model(args, model_config, splits)
    except ValueError as err:
        parser.error(str(err))
    if group.is_main:
        steps = _steps_per_epoch(args, len(train_set))
        print(f"training {args.model} on {args.data} ({device}): {len(train_set)} training and {len(test_set)} test "
              f"examples, {steps} steps per epoch, {steps * args.epochs} steps", flush=True)
    try:
        history = train(model, train_set, test_set, config, device=device,
                        metric_inputs=test_set.inputs[:METRIC_INPUTS],
                        metric_exclude=[0] if args.model == "vit" else None)
    except (ValueError, FloatingPointError) as err:  # FloatingPointError: the run diverged
        return error("train", str(err))
    if not group.is_main:
        return 0
    history.config.update(model=asdict(model_config), data=args.data, arguments=_arguments(args))
    remove_outputs(args.out, TRAIN_RUN_FILES)
    checkpoint, history_file = TRAIN_RUN_FILES
    written = [save_checkpoint(model, args.out / checkpoint, history.config),
               history.to_json(args.out / history_file)]
    last = history.epochs[-1]
    print(f"{args.model} on {args.data}, value map {args.value_map}: after {last['epoch']} epochs train loss "
          f"{last['train_loss']:.4f}, test loss {last['val_loss']:.4f}, test accuracy {last['val_accuracy']:.4f}")
    print("wrote " + ", ".join(os.fspath(p) for p in written))
    return 0


def _arguments(args: argparse.Namespace) -> dict[str, object]:
    """The parsed arguments as JSON-ready values."""
    return {key: os.fspath(value) if isinstance(value, Path) else value for key, value in vars(args).items()}
