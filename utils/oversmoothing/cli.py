"""The ``oversmoothing`` command.

``oversmoothing audit [MODEL] [--texts FILE | --images DIR] [--out DIR] [--device DEVICE] [--max-texts N]``
loads a Hugging Face model (the packaged all-MiniLM-L6-v2 by default), audits it on the package's sentences
(text models) or on scikit-learn's digits (vision models), prints a per-layer summary and writes
``report.json`` and PNG figures into ``--out``. In a ``--texts`` file, lines starting with ``#`` are skipped as
comments, and a line longer than the model's limit (512 tokens for BERT-like models) is cut to it; the command
says on stderr how many lines it skipped and how many lines and tokens it cut.

``oversmoothing train --data digits|mnist1d|cifar10|cifar100|shakespeare [--model vit|char]
[--value-map MAP] [--depth L --dim D --heads H --epochs E --batch-size B --lr LR --seed S] --out DIR``
trains one of the book's small models and writes ``model.safetensors`` and ``history.json``; under
``torchrun`` it trains data-parallel.

``oversmoothing experiment NAME --profile quick|full --out DIR`` runs a registered experiment of the book and
writes ``DIR/NAME-PROFILE.json`` (``--list`` names them). Run ``oversmoothing COMMAND --help`` for every option,
``oversmoothing --version`` for the package's version.

No command overwrites silently: when a file it would write is already in ``--out`` (``report.json`` or a figure
of an earlier audit, ``model.safetensors`` or ``history.json`` of an earlier run, ``NAME-PROFILE.json``, e.g. a
committed result), it refuses unless ``--overwrite`` is given; with it, ``audit`` and ``train`` first remove every
file an earlier run of theirs wrote there (no stale figure stays beside a new report). Other files are kept.

A mistake in the arguments ends in a one-line ``oversmoothing COMMAND: error: ...`` (after the usage line for
an argument that argparse or a check of the sizes rejects) and exit status 2, never in a traceback: an
out-of-range number, a model folder without config, weights or tokenizer, a text file that is not UTF-8,
missing CIFAR files, a context or batch that the data or the memory cannot hold, a run that diverges.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ._validation import check_real, interval

if TYPE_CHECKING:  # the command imports torch and the models only when it runs
    import torch
    from torch import nn

    from ._cli_checks import TrainingStep
    from .adapters import PretrainedTransformer
    from .datasets import ArrayDataset, DataSplits, SentenceFile
    from .models import TransformerConfig

__all__ = ["build_parser", "main"]

MAX_SEED = 2**32 - 1
"""The largest ``--seed`` (NumPy's seeds are 32-bit)."""

METRIC_INPUTS = 128
"""Test examples on which ``train`` records the per-layer metrics."""

VAL_FRACTION = 0.1
"""Share of the Shakespeare text that ``train`` holds out for testing (its end)."""

AUDIT_FILES = ("report.json", "layer_metrics.png", "spectrum.png", "prediction.png")
"""The files ``audit`` writes into ``--out`` (the figures are those of
:func:`oversmoothing.plotting.save_audit_figures`)."""


def _integer(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """An argparse type: an integer of at least ``minimum`` (``0`` or ``1``), at most ``maximum`` when given."""
    kind = (f"an integer in [{minimum}, {maximum}]" if maximum is not None
            else {0: "a non-negative integer", 1: "a positive integer"}[minimum])

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {kind}, got {text!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(f"expected {kind}, got {value}")
        return value

    return parse


def _number(low: float, high: float, *, low_open: bool = False, high_open: bool = False) -> Callable[[str], float]:
    """An argparse type: a finite number in the interval from ``low`` to ``high`` (each end open or closed)."""
    where = interval(low, high, low_open=low_open, high_open=high_open)

    def parse(text: str) -> float:
        try:
            return check_real(float(text), "value", low, high, low_open=low_open, high_open=high_open)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number in {where}, got {text!r}") from None

    return parse


_positive_int = _integer(1)


def _error(command: str, message: str) -> int:
    """Print ``oversmoothing COMMAND: error: MESSAGE`` on stderr and return the exit status 2."""
    print(f"oversmoothing {command}: error: {message}", file=sys.stderr)
    return 2


def _warn(command: str, message: str, kind: str = "warning") -> None:
    """Print ``oversmoothing COMMAND: KIND: MESSAGE`` on stderr (``KIND`` is ``warning`` or ``note``)."""
    print(f"oversmoothing {command}: {kind}: {message}", file=sys.stderr)


def _count(number: int, noun: str) -> str:
    """``'1 line'``, ``'3 lines'``."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _add_overwrite_flag(parser: argparse.ArgumentParser, files: str) -> None:
    """Add ``--overwrite`` to a command that writes ``files`` into ``--out``."""
    parser.add_argument("--overwrite", action="store_true",
                        help=f"replace {files} in --out (without it the command refuses to start when one "
                             "is there)")


def _check_out(parser: argparse.ArgumentParser, out: Path, names: Sequence[str], overwrite: bool) -> None:
    """Refuse an ``--out`` that is a file, or one that holds any of the files ``names`` unless ``overwrite``."""
    if out.exists() and not out.is_dir():
        parser.error(f"argument --out: {os.fspath(out)!r} exists and is not a folder")
    existing = [name for name in names if (out / name).exists()]
    if existing and not overwrite:
        parser.error(f"argument --out: {os.fspath(out)!r} already holds {', '.join(existing)} of an earlier run; "
                     f"add --overwrite to replace {'it' if len(existing) == 1 else 'them'}, or choose another --out")


def _remove_outputs(out: Path, names: Sequence[str]) -> None:
    """Delete the files ``names`` of an earlier run from ``out`` (those missing are skipped; nothing else)."""
    for name in names:
        (out / name).unlink(missing_ok=True)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``oversmoothing`` command."""
    from . import __version__
    from .adapters import DEFAULT_MODEL

    parser = argparse.ArgumentParser(
        prog="oversmoothing",
        description="Tools of the book 'Do Transformers Oversmooth? Theory you can run'.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
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
                        help="UTF-8 text file, one sentence a line; blank lines and lines starting with '#' "
                             "(comments) are skipped, and a line longer than the model's limit (512 tokens for "
                             "BERT-like models) is cut to it; both are counted on stderr (default: the package's "
                             "sentences)")
    inputs.add_argument("--images", type=Path, metavar="DIR",
                        help="folder of PNG/JPEG images for a vision model (default: scikit-learn digits)")
    audit.add_argument("--out", type=Path, default=Path("audit"), metavar="DIR",
                       help="output folder for report.json and the figures (default: ./audit)")
    audit.add_argument("--device", help="torch device: cpu, cuda, cuda:N or mps (default: OVERSMOOTHING_DEVICE, "
                                        "else CUDA, MPS or CPU)")
    audit.add_argument("--max-texts", type=_positive_int, default=256, metavar="N",
                       help="audit at most N inputs (texts or images; default: 256)")
    audit.add_argument("--batch-size", type=_positive_int, default=64, metavar="N",
                       help="inputs per forward pass (default: 64)")
    audit.add_argument("--threads", type=_positive_int, default=1, metavar="N",
                       help="torch CPU threads, at most the cores this process may use (default: 1, fastest for "
                            "the many small eigenproblems); more than the cores gives a warning")
    audit.add_argument("--exclude-special", action="store_true",
                       help="leave special tokens ([CLS], [SEP], class tokens) out of the metrics")
    audit.add_argument("--offline", action="store_true",
                       help="never contact the Hugging Face Hub (same as HF_HUB_OFFLINE=1)")
    audit.add_argument("--no-figures", action="store_true", help="write report.json only")
    audit.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    _add_overwrite_flag(audit, "report.json and the figures of an earlier audit")
    audit.set_defaults(command_parser=audit)
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
    train.add_argument("--depth", type=_positive_int, default=4, metavar="L", help="blocks (default: 4)")
    train.add_argument("--dim", type=_positive_int, default=64, metavar="D", help="token width (default: 64)")
    train.add_argument("--heads", type=_positive_int, default=4, metavar="H", help="attention heads (default: 4)")
    train.add_argument("--patch-size", type=_positive_int, metavar="P",
                       help="ViT patch side (patch width for MNIST-1D; default: 2 digits, 4 MNIST-1D and CIFAR)")
    train.add_argument("--context", type=_positive_int, default=64, metavar="N",
                       help="characters per window of the character model, fewer than the held-out tenth of the "
                            "text (default: 64)")
    train.add_argument("--epochs", type=_positive_int, default=10, metavar="E", help="default: 10")
    train.add_argument("--batch-size", type=_positive_int, default=128, metavar="B",
                       help="examples per step, at most the training examples (default: 128)")
    train.add_argument("--lr", type=_number(0, 1, low_open=True), default=1e-3,
                       help="peak learning rate of AdamW, in (0, 1] (default: 1e-3)")
    train.add_argument("--weight-decay", type=_number(0, 1), default=0.05,
                       help="AdamW weight decay, in [0, 1] (default: 0.05)")
    train.add_argument("--warmup", type=_number(0, 1, high_open=True), default=0.1, metavar="FRACTION",
                       help="share of the steps spent warming up, in [0, 1) (default: 0.1)")
    train.add_argument("--label-smoothing", type=_number(0, 1, high_open=True), default=0.0, metavar="EPSILON",
                       help="in [0, 1) (default: 0)")
    train.add_argument("--seed", type=_integer(0, MAX_SEED), default=0,
                       help=f"seed of the weights and the data order, in [0, {MAX_SEED}] (default: 0)")
    train.add_argument("--limit", type=_positive_int, metavar="N",
                       help="use a seeded random subset of at most N training and N test examples (a quick trial)")
    train.add_argument("--metrics-every", type=_integer(0), default=0, metavar="E",
                       help="per-layer metrics every E epochs (default: 0, before and after training only)")
    train.add_argument("--data-root", type=Path, metavar="DIR", help="folder of the CIFAR files (cifar10, cifar100)")
    train.add_argument("--download", action="store_true", help="download CIFAR into --data-root when missing")
    train.add_argument("--device", help="torch device (default: OVERSMOOTHING_DEVICE, else CUDA, MPS or CPU)")
    train.add_argument("--compile", action="store_true", help="torch.compile the model (for long CUDA runs)")
    train.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    train.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    _add_overwrite_flag(train, "model.safetensors and history.json of an earlier run")
    train.set_defaults(command_parser=train)


def _add_experiment_parser(commands: argparse._SubParsersAction) -> None:
    from .runtime import PROFILES

    experiment = commands.add_parser(
        "experiment",
        help="run one of the book's experiments and keep its result",
        description="Run a registered experiment of the book and write OUT/NAME-PROFILE.json with its metadata.",
        epilog="Results of other experiments and profiles in OUT are left alone; OUT/NAME-PROFILE.json itself is "
               "replaced only with --overwrite ('make reference' passes it to rewrite the committed reference runs).",
    )
    experiment.add_argument("name", nargs="?", metavar="NAME", help="the experiment (see --list)")
    experiment.add_argument("--list", action="store_true", help="print the experiments' names and exit")
    experiment.add_argument("--profile", choices=PROFILES,
                            help="scale (default: OVERSMOOTHING_PROFILE, else full on CUDA and quick elsewhere)")
    experiment.add_argument("--device", help="torch device (default: OVERSMOOTHING_DEVICE, else CUDA, MPS or CPU)")
    experiment.add_argument("--out", type=Path, default=Path("results"), metavar="DIR",
                            help="output folder (default: ./results)")
    _add_overwrite_flag(experiment, "NAME-PROFILE.json, e.g. a committed result such as vision-reference.json,")
    experiment.set_defaults(command_parser=experiment)


def _run_audit(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from ._cli_checks import usable_cores
    from .runtime import get_device, torch_threads

    try:
        device = get_device(args.device)
    except ValueError as err:
        parser.error(f"argument --device: {err}")
    _check_input_path(parser, "--texts", args.texts, folder=False)
    _check_input_path(parser, "--images", args.images, folder=True)
    _check_out(parser, args.out, AUDIT_FILES, args.overwrite)
    cores = usable_cores()
    if args.threads > cores:
        _warn("audit", f"--threads {args.threads} exceeds the {cores} CPU cores this process may use; the threads "
                       "will compete for them and run slower, not faster")

    with torch_threads(args.threads):  # small eigenproblems: one thread is fastest, and never oversubscribes
        return _audit_with(args, parser, device)


def _check_input_path(parser: argparse.ArgumentParser, flag: str, path: Path | None, folder: bool) -> None:
    """Reject an input ``path`` that does not exist, or is a file where a folder is needed (or the reverse)."""
    if path is None or (path.is_dir() if folder else path.is_file()):
        return
    wanted = "a folder of images" if folder else "a text file, one sentence a line"
    if path.exists():
        parser.error(f"argument {flag}: {os.fspath(path)!r} is a {'file' if folder else 'folder'}; give {wanted}")
    parser.error(f"argument {flag}: {'folder' if folder else 'file'} {os.fspath(path)!r} does not exist")


def _audit_with(args: argparse.Namespace, parser: argparse.ArgumentParser, device: torch.device) -> int:
    from . import adapters
    from .audit import audit
    from .datasets import read_sentences
    from .plotting import save_audit_figures

    start = time.perf_counter()
    try:  # the texts first: a file that cannot be read fails before the model's slow load
        lines = read_sentences(args.texts) if args.texts is not None else None
    except UnicodeDecodeError as err:
        return _error("audit", f"--texts {os.fspath(args.texts)!r} is not UTF-8 text (byte {err.start}: {err.reason}); "
                               "save it as UTF-8, one sentence a line")
    except (OSError, ValueError) as err:
        return _error("audit", str(err))
    if lines is not None:
        _report_skipped_lines(lines, args.max_texts)
    try:
        loaded = adapters.load_pretrained(args.model, device=device, offline=True if args.offline else None)
    except adapters.ModelNotAvailableError as err:
        return _error("audit", str(err))
    modality = loaded.architecture.modality
    if modality == "text" and args.images is not None:
        parser.error(f"argument --images: {args.model} is a text model; use --texts")
    if modality == "image" and args.texts is not None:
        parser.error(f"argument --texts: {args.model} is a vision model; use --images")
    try:
        images = None if modality == "text" else _audit_images(args, int(loaded.model.config.image_size))
    except (OSError, ValueError) as err:
        return _error("audit", str(err))
    texts = None
    if modality == "text":
        texts = (lines if lines is not None else read_sentences()).sentences[:args.max_texts]
        _report_cut_lines(loaded, texts)
    loaded_at = time.perf_counter()
    report = audit(loaded, texts=texts, images=images, exclude_special=args.exclude_special,
                   batch_size=args.batch_size, progress=not args.no_progress, threads=None)
    report.timings = {"load": loaded_at - start, **report.timings}
    args.out.mkdir(parents=True, exist_ok=True)
    _remove_outputs(args.out, AUDIT_FILES)  # with --overwrite: no stale figure stays beside the new report
    report_file = args.out / AUDIT_FILES[0]
    written = [report.save_json(report_file)]
    if not args.no_figures:
        written += save_audit_figures(report, args.out, loaded.layer_weights())
    report.timings["total"] = time.perf_counter() - start
    report.save_json(report_file)
    print(report.summary())
    print("wrote " + ", ".join(os.fspath(p) for p in written))
    return 0


def _report_skipped_lines(lines: SentenceFile, limit: int) -> None:
    """Say on stderr how many lines of a ``--texts`` file were skipped as comments or left out by ``--max-texts``."""
    if lines.comments:
        _warn("audit", f"--texts {lines.origin!r}: skipped {_count(lines.comments, 'line')} starting with '#' "
                       "(comments)", kind="note")
    if len(lines.sentences) > limit:
        _warn("audit", f"--texts {lines.origin!r}: auditing the first {limit} of its {len(lines.sentences)} "
                       f"sentences (--max-texts {limit})", kind="note")


def _report_cut_lines(loaded: PretrainedTransformer, texts: Sequence[str]) -> None:
    """Say on stderr how many of ``texts`` are longer than the model's limit, and how many tokens the cut drops."""
    kept = loaded.encode_texts(texts)
    full = loaded.tokenizer(list(texts), add_special_tokens=True, verbose=False)["input_ids"]
    cuts = [(len(whole), len(part)) for whole, part in zip(full, kept) if len(whole) > len(part)]
    if cuts:
        limit = max(part for _, part in cuts)
        dropped = sum(whole - part for whole, part in cuts)
        _warn("audit", f"cut {_count(len(cuts), 'line')} longer than {loaded.name}'s limit to its first {limit} "
                       f"tokens, dropping {_count(dropped, 'token')}")


def _audit_images(args: argparse.Namespace, size: int) -> torch.Tensor:
    """The images of ``--images`` at the model's ``size``, or scikit-learn's digits: ``(N, C, H, W)``."""
    from .datasets import digit_images, load_images

    if args.images is not None:
        return load_images(args.images, limit=args.max_texts, size=size)
    return digit_images(min(args.max_texts, 1797))


def _load_splits(args: argparse.Namespace, parser: argparse.ArgumentParser) -> DataSplits:
    from . import datasets

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
    from .datasets import CIFAR_RELEASES

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
    from .models import TransformerConfig

    return TransformerConfig(dim=args.dim, depth=args.depth, heads=args.heads, norm=args.norm,
                             value_map=args.value_map, causal=args.model == "char")


def _patch(args: argparse.Namespace, splits: DataSplits) -> int | tuple[int, int]:
    """The ViT's patch: ``--patch-size``, or the vision experiment's for the data (4 x 4 for CIFAR)."""
    from .experiments.vision import PATCHES

    if args.patch_size is None:
        return PATCHES.get(args.data, 4)
    return (1, args.patch_size) if splits.input_shape[1] == 1 else args.patch_size


def _build_model(args: argparse.Namespace, config: TransformerConfig, splits: DataSplits) -> nn.Module:
    """The character model or the ViT that ``--model`` names, sized for ``splits``."""
    from .models import CharTransformer, VisionTransformer

    if args.model == "char":
        return CharTransformer(config, vocab_size=splits.num_classes, context=args.context)
    channels, height, width = splits.input_shape
    return VisionTransformer(config, image_size=(height, width), patch_size=_patch(args, splits),
                             in_channels=channels, num_classes=splits.num_classes)


def _training_step(args: argparse.Namespace, config: TransformerConfig, splits: DataSplits, test_size: int,
                   eval_batch: int, processes: int) -> TrainingStep:
    """The :class:`~oversmoothing._cli_checks.TrainingStep` of this run, for the estimates."""
    from ._cli_checks import TrainingStep

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
    from ._cli_checks import SLOW_STEP_SECONDS, available_memory, format_bytes, format_seconds

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
        _warn("train", f"each training step takes about {step.operations():.1e} floating-point operations{growth}, "
                       f"roughly {format_seconds(step.cpu_seconds())} on one CPU core, and the run has {steps} steps")


def _run_train(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from dataclasses import asdict

    from .adapters.loading import TRAIN_RUN_FILES
    from .runtime import get_device, seed_everything
    from .training import TrainConfig, init_from_environment, save_checkpoint, train

    model_for_data = "char" if args.data == "shakespeare" else "vit"
    args.model = args.model or model_for_data
    if args.model != model_for_data:
        parser.error(f"argument --model: {args.model} does not fit --data {args.data}; use {model_for_data}")
    _check_out(parser, args.out, TRAIN_RUN_FILES, args.overwrite)
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
        return _error("train", str(err))
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
        return _error("train", str(err))
    if not group.is_main:
        return 0
    history.config.update(model=asdict(model_config), data=args.data, arguments=_arguments(args))
    _remove_outputs(args.out, TRAIN_RUN_FILES)
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
    try:
        device = get_device(args.device)
    except ValueError as err:
        parser.error(f"argument --device: {err}")
    try:
        target = result_path(args.name, args.profile, args.out)
    except ValueError as err:  # OVERSMOOTHING_PROFILE names no profile
        parser.error(f"argument --profile: {err}")
    _check_out(parser, args.out, [target.name], args.overwrite)
    record = run_experiment(args.name, profile=args.profile, device=device, out=args.out)
    metadata = record["metadata"]
    print(f"{args.name} ({metadata['profile']}, {metadata['device']}) took {metadata['seconds']:.1f} s; wrote "
          f"{os.fspath(target)}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``oversmoothing`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    parser = vars(args).pop("command_parser")  # the command's own parser: its errors say 'oversmoothing COMMAND'
    run = {"audit": _run_audit, "train": _run_train, "experiment": _run_experiment}[args.command]
    return run(args, parser)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
