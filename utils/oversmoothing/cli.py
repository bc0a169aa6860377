"""The ``oversmoothing`` command.

``oversmoothing audit [MODEL] [--texts FILE | --images DIR] [--out DIR] [--device DEVICE] [--max-texts N]``
loads a Hugging Face model (the packaged all-MiniLM-L6-v2 by default), audits it on the package's sentences
(text models) or on scikit-learn's digits (vision models), prints a per-layer summary and writes
``report.json`` and PNG figures into ``--out``.

``oversmoothing train --data digits|mnist1d|cifar10|cifar100|shakespeare [--model vit|char]
[--value-map MAP] [--depth L --dim D --heads H --epochs E --batch-size B --lr LR --seed S] --out DIR``
trains one of the book's small models and writes ``model.safetensors`` and ``history.json``; under
``torchrun`` it trains data-parallel.

``oversmoothing experiment NAME --profile quick|full --out DIR`` runs a registered experiment of the book and
writes ``DIR/NAME-PROFILE.json`` (``--list`` names them). Run ``oversmoothing COMMAND --help`` for every option.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

__all__ = ["build_parser", "main"]


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``oversmoothing`` command."""
    from .adapters import DEFAULT_MODEL

    parser = argparse.ArgumentParser(
        prog="oversmoothing",
        description="Tools of the book 'Do Transformers Oversmooth? Theory you can run'.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    audit = commands.add_parser(
        "audit",
        help="measure and predict smoothing in a pretrained Transformer",
        description=(
            "Measure per-layer smoothing metrics of a Hugging Face model on real inputs, compute the spectrum of "
            "its value-output matrices H = W_V W_O, predict from each layer's own attention which mode of "
            "X -> X + A X H dominates, and compare with the measured change. Writes report.json and PNG figures."
        ),
        epilog=(
            "MODEL is a Hugging Face name (e.g. bert-base-uncased, gpt2, google/vit-base-patch16-224, "
            "facebook/deit-small-patch16-224), a local folder, or 'all-MiniLM-L6-v2'/'minilm' (the packaged "
            "checkpoint, works offline). With HF_HUB_OFFLINE=1 or --offline nothing is downloaded."
        ),
    )
    audit.add_argument("model", nargs="?", default=DEFAULT_MODEL, metavar="MODEL",
                       help=f"model name or folder (default: {DEFAULT_MODEL})")
    inputs = audit.add_mutually_exclusive_group()
    inputs.add_argument("--texts", type=Path, metavar="FILE",
                        help="text file, one sentence a line (default: the package's sentences)")
    inputs.add_argument("--images", type=Path, metavar="DIR",
                        help="folder of PNG/JPEG images for a vision model (default: scikit-learn digits)")
    audit.add_argument("--out", type=Path, default=Path("audit"), metavar="DIR",
                       help="output folder for report.json and the figures (default: ./audit)")
    audit.add_argument("--device", default="cpu", help="torch device: cpu, cuda, cuda:N or mps (default: cpu)")
    audit.add_argument("--max-texts", type=_positive_int, default=256, metavar="N",
                       help="audit at most N inputs (texts or images; default: 256)")
    audit.add_argument("--batch-size", type=_positive_int, default=64, metavar="N",
                       help="inputs per forward pass (default: 64)")
    audit.add_argument("--threads", type=_positive_int, default=1, metavar="N",
                       help="torch CPU threads (default: 1, fastest for the many small eigenproblems)")
    audit.add_argument("--exclude-special", action="store_true",
                       help="leave special tokens ([CLS], [SEP], class tokens) out of the metrics")
    audit.add_argument("--offline", action="store_true",
                       help="never contact the Hugging Face Hub (same as HF_HUB_OFFLINE=1)")
    audit.add_argument("--no-figures", action="store_true", help="write report.json only")
    audit.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    _add_train_parser(commands)
    _add_experiment_parser(commands)
    return parser


def _add_train_parser(commands: argparse._SubParsersAction) -> None:
    from .datasets import DATASETS
    from .models import VALUE_MAPS
    from .models.transformer import NORM_PLACEMENTS

    train = commands.add_parser(
        "train",
        help="train one of the book's small Transformers",
        description=(
            "Train a ViT on digits, MNIST-1D or CIFAR, or a character model on the Shakespeare extract, with "
            "AdamW, warm-up and cosine schedule and label smoothing. Writes model.safetensors and history.json "
            "(losses, accuracies, per-layer smoothing metrics) into --out. Launch with "
            "'torchrun --nproc_per_node N -m oversmoothing.cli train ...' for data parallelism."
        ),
    )
    train.add_argument("--data", required=True, choices=DATASETS, help="the dataset")
    train.add_argument("--model", choices=("vit", "char"),
                       help="vit for images and signals, char for text (default: the one that fits --data)")
    train.add_argument("--value-map", default="standard", choices=VALUE_MAPS,
                       help="what attention does with the attended tokens (default: standard W_V W_O)")
    train.add_argument("--norm", default="pre", choices=NORM_PLACEMENTS, help="LayerNorm placement")
    train.add_argument("--depth", type=_positive_int, default=4, metavar="L", help="blocks (default: 4)")
    train.add_argument("--dim", type=_positive_int, default=64, metavar="D", help="token width (default: 64)")
    train.add_argument("--heads", type=_positive_int, default=4, metavar="H", help="attention heads (default: 4)")
    train.add_argument("--patch-size", type=_positive_int, metavar="P",
                       help="ViT patch side (patch width for MNIST-1D; default: 2 digits, 4 MNIST-1D and CIFAR)")
    train.add_argument("--context", type=_positive_int, default=64, metavar="N",
                       help="characters per window of the character model (default: 64)")
    train.add_argument("--epochs", type=_positive_int, default=10, metavar="E", help="default: 10")
    train.add_argument("--batch-size", type=_positive_int, default=128, metavar="B", help="default: 128")
    train.add_argument("--lr", type=_positive_float, default=1e-3, help="peak learning rate (default: 1e-3)")
    train.add_argument("--weight-decay", type=float, default=0.05, help="AdamW weight decay (default: 0.05)")
    train.add_argument("--warmup", type=float, default=0.1, metavar="FRACTION",
                       help="share of the steps spent warming up (default: 0.1)")
    train.add_argument("--label-smoothing", type=float, default=0.0, metavar="EPSILON", help="default: 0")
    train.add_argument("--seed", type=int, default=0, help="seed of the weights and the data order (default: 0)")
    train.add_argument("--limit", type=_positive_int, metavar="N",
                       help="use a seeded random subset of at most N training and N test examples (a quick trial)")
    train.add_argument("--metrics-every", type=int, default=0, metavar="E",
                       help="per-layer metrics every E epochs (default: 0, before and after training only)")
    train.add_argument("--data-root", type=Path, metavar="DIR", help="folder of the CIFAR files (cifar10, cifar100)")
    train.add_argument("--download", action="store_true", help="download CIFAR into --data-root when missing")
    train.add_argument("--device", help="torch device (default: OVERSMOOTHING_DEVICE, else CUDA, MPS or CPU)")
    train.add_argument("--compile", action="store_true", help="torch.compile the model (for long CUDA runs)")
    train.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    train.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _add_experiment_parser(commands: argparse._SubParsersAction) -> None:
    from .runtime import PROFILES

    experiment = commands.add_parser(
        "experiment",
        help="run one of the book's experiments and keep its result",
        description="Run a registered experiment of the book and write OUT/NAME-PROFILE.json with its metadata.",
    )
    experiment.add_argument("name", nargs="?", metavar="NAME", help="the experiment (see --list)")
    experiment.add_argument("--list", action="store_true", help="print the experiments' names and exit")
    experiment.add_argument("--profile", choices=PROFILES,
                            help="scale (default: OVERSMOOTHING_PROFILE, else full on CUDA and quick elsewhere)")
    experiment.add_argument("--device", help="torch device (default: OVERSMOOTHING_DEVICE, else CUDA, MPS or CPU)")
    experiment.add_argument("--out", type=Path, default=Path("results"), metavar="DIR",
                            help="output folder (default: ./results)")


def _run_audit(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from .runtime import get_device, torch_threads

    try:
        device = get_device(args.device)
    except ValueError as err:
        parser.error(f"argument --device: {err}")
    if args.texts is not None and not args.texts.is_file():
        parser.error(f"argument --texts: file {os.fspath(args.texts)!r} does not exist")
    if args.images is not None and not args.images.is_dir():
        parser.error(f"argument --images: folder {os.fspath(args.images)!r} does not exist")
    if args.out.exists() and not args.out.is_dir():
        parser.error(f"argument --out: {os.fspath(args.out)!r} exists and is not a folder")

    with torch_threads(args.threads):  # small eigenproblems: one thread is fastest, and never oversubscribes
        return _audit_with(args, parser, device)


def _audit_with(args: argparse.Namespace, parser: argparse.ArgumentParser, device) -> int:
    from . import adapters
    from .audit import audit
    from .datasets import digit_images, load_images, load_sentences
    from .plotting import save_audit_figures

    start = time.perf_counter()
    try:
        loaded = adapters.load_pretrained(args.model, device=device, offline=True if args.offline else None)
    except adapters.ModelNotAvailableError as err:
        print(f"oversmoothing audit: error: {err}", file=sys.stderr)
        return 2
    modality = loaded.architecture.modality
    if modality == "text" and args.images is not None:
        parser.error(f"argument --images: {args.model} is a text model; use --texts")
    if modality == "image" and args.texts is not None:
        parser.error(f"argument --texts: {args.model} is a vision model; use --images")
    try:
        if modality == "text":
            texts, images = load_sentences(args.texts, limit=args.max_texts), None
        else:
            size = int(loaded.model.config.image_size)
            images = (load_images(args.images, limit=args.max_texts, size=size) if args.images is not None
                      else digit_images(min(args.max_texts, 1797)))
            texts = None
    except (OSError, ValueError) as err:
        print(f"oversmoothing audit: error: {err}", file=sys.stderr)
        return 2
    loaded_at = time.perf_counter()
    report = audit(loaded, texts=texts, images=images, exclude_special=args.exclude_special,
                   batch_size=args.batch_size, progress=not args.no_progress, threads=None)
    report.timings = {"load": loaded_at - start, **report.timings}
    args.out.mkdir(parents=True, exist_ok=True)
    written = [report.save_json(args.out / "report.json")]
    if not args.no_figures:
        written += save_audit_figures(report, args.out, loaded.layer_weights())
    report.timings["total"] = time.perf_counter() - start
    report.save_json(args.out / "report.json")
    print(report.summary())
    print("wrote " + ", ".join(os.fspath(p) for p in written))
    return 0


def _load_splits(args: argparse.Namespace, parser: argparse.ArgumentParser):
    from . import datasets

    if args.data in ("cifar10", "cifar100"):
        if args.data_root is None:
            parser.error(f"argument --data-root: --data {args.data} needs the folder of the CIFAR files")
        return datasets.load_cifar_splits(args.data_root, args.data, download=args.download)
    if args.data == "shakespeare":
        return datasets.char_splits(args.context)
    return datasets.load_digits_splits() if args.data == "digits" else datasets.load_mnist1d_splits()


def _limited(data, limit: int | None, seed: int):
    """At most ``limit`` examples of ``data``, a seeded random subset."""
    import torch

    if limit is None or limit >= len(data):
        return data
    return data.subset(torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))[:limit])


def _build_model(args: argparse.Namespace, splits):
    from .experiments.vision import PATCHES
    from .models import CharTransformer, TransformerConfig, VisionTransformer

    config = TransformerConfig(dim=args.dim, depth=args.depth, heads=args.heads, norm=args.norm,
                               value_map=args.value_map, causal=args.model == "char")
    if args.model == "char":
        return CharTransformer(config, vocab_size=splits.num_classes, context=args.context), config
    channels, height, width = splits.input_shape
    if args.patch_size is None:
        patch = PATCHES.get(args.data, 4)  # the vision experiment's patches; 4 x 4 for CIFAR
    else:
        patch = (1, args.patch_size) if height == 1 else args.patch_size
    return VisionTransformer(config, image_size=(height, width), patch_size=patch, in_channels=channels,
                             num_classes=splits.num_classes), config


def _run_train(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from dataclasses import asdict

    from .runtime import get_device, seed_everything
    from .training import TrainConfig, init_from_environment, save_checkpoint, train

    model_for_data = "char" if args.data == "shakespeare" else "vit"
    args.model = args.model or model_for_data
    if args.model != model_for_data:
        parser.error(f"argument --model: {args.model} does not fit --data {args.data}; use {model_for_data}")
    if args.out.exists() and not args.out.is_dir():
        parser.error(f"argument --out: {os.fspath(args.out)!r} exists and is not a folder")
    try:
        device = get_device(args.device)
        config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                             weight_decay=args.weight_decay, warmup_fraction=args.warmup,
                             label_smoothing=args.label_smoothing, seed=args.seed, compile=args.compile,
                             progress=not args.no_progress, metrics_every=args.metrics_every)
        seed_everything(args.seed)
        splits = _load_splits(args, parser)
        model, model_config = _build_model(args, splits)
    except ValueError as err:
        parser.error(str(err))
    except OSError as err:
        print(f"oversmoothing train: error: {err}", file=sys.stderr)
        return 2
    group = init_from_environment(device)
    train_set, test_set = _limited(splits.train, args.limit, args.seed), _limited(splits.test, args.limit, args.seed)
    try:
        history = train(model, train_set, test_set, config, device=device, metric_inputs=test_set.inputs[:128],
                        metric_exclude=[0] if args.model == "vit" else None)
    except ValueError as err:
        print(f"oversmoothing train: error: {err}", file=sys.stderr)
        return 2
    if not group.is_main:
        return 0
    history.config.update(model=asdict(model_config), data=args.data, arguments=_arguments(args))
    written = [save_checkpoint(model, args.out / "model.safetensors", history.config),
               history.to_json(args.out / "history.json")]
    last = history.epochs[-1]
    print(f"{args.model} on {args.data}, value map {args.value_map}: after {last['epoch']} epochs train loss "
          f"{last['train_loss']:.4f}, test loss {last['val_loss']:.4f}, test accuracy {last['val_accuracy']:.4f}")
    print("wrote " + ", ".join(os.fspath(p) for p in written))
    return 0


def _arguments(args: argparse.Namespace) -> dict[str, object]:
    """The parsed arguments as JSON-ready values."""
    return {key: os.fspath(value) if isinstance(value, Path) else value for key, value in vars(args).items()}


def _run_experiment(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from .experiments import available_experiments, result_path, run_experiment
    from .runtime import get_device

    names = available_experiments()
    if args.list:
        print("\n".join(names) if names else "no experiments registered")
        return 0
    if args.name is None:
        parser.error("argument NAME: give an experiment's name (see --list)")
    if args.name not in names:
        parser.error(f"argument NAME: unknown experiment {args.name!r}; choose from {', '.join(names) or 'none'}")
    if args.out.exists() and not args.out.is_dir():
        parser.error(f"argument --out: {os.fspath(args.out)!r} exists and is not a folder")
    try:
        device = get_device(args.device)
    except ValueError as err:
        parser.error(f"argument --device: {err}")
    record = run_experiment(args.name, profile=args.profile, device=device, out=args.out)
    metadata = record["metadata"]
    print(f"{args.name} ({metadata['profile']}, {metadata['device']}) took {metadata['seconds']:.1f} s; wrote "
          f"{os.fspath(result_path(args.name, metadata['profile'], args.out))}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``oversmoothing`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "audit":
        return _run_audit(args, parser)
    if args.command == "train":
        return _run_train(args, parser)
    if args.command == "experiment":
        return _run_experiment(args, parser)
    parser.error(f"unknown command {args.command!r}")  # pragma: no cover - argparse rejects it first
    return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
