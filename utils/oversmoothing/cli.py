"""The ``oversmoothing`` command.

``oversmoothing audit [MODEL] [--texts FILE | --images DIR] [--out DIR] [--device DEVICE] [--max-texts N]``
loads a Hugging Face model (the packaged all-MiniLM-L6-v2 by default), audits it on the package's sentences
(text models) or on scikit-learn's digits (vision models), prints a per-layer summary and writes
``report.json`` and PNG figures into ``--out``. Run ``oversmoothing audit --help`` for every option.
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
    return parser


def _run_audit(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    import torch

    from .runtime import get_device

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

    previous_threads = torch.get_num_threads()
    torch.set_num_threads(args.threads)  # small eigenproblems: one thread is fastest, and never oversubscribes
    try:
        return _audit_with(args, parser, device)
    finally:
        torch.set_num_threads(previous_threads)


def _audit_with(args: argparse.Namespace, parser: argparse.ArgumentParser, device) -> int:
    from . import adapters
    from .audit import audit, save_figures
    from .data import digit_images, load_images, load_sentences

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
        written += save_figures(report, args.out, loaded.layer_weights())
    report.timings["total"] = time.perf_counter() - start
    report.save_json(args.out / "report.json")
    print(report.summary())
    print("wrote " + ", ".join(os.fspath(p) for p in written))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``oversmoothing`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "audit":
        return _run_audit(args, parser)
    parser.error(f"unknown command {args.command!r}")  # pragma: no cover - argparse rejects it first
    return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
