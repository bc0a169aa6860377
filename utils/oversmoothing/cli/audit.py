"""The ``oversmoothing audit`` subcommand: its options, and the audit of a pretrained model that it runs (the
inputs read and counted, the model loaded, ``report.json`` and the figures written into ``--out``)."""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .common import add_overwrite_flag, check_out, error, positive_int, remove_outputs, warn

if TYPE_CHECKING:  # the command imports torch and the models only when it runs
    import torch

    from ..adapters import PretrainedTransformer
    from ..datasets import SentenceFile

AUDIT_FILES = ("report.json", "layer_metrics.png", "spectrum.png", "prediction.png")
"""The files ``audit`` writes into ``--out`` (the figures are those of
:func:`oversmoothing.plotting.save_audit_figures`)."""


def _count(number: int, noun: str) -> str:
    """``'1 line'``, ``'3 lines'``."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Add the ``audit`` subcommand to ``commands``."""
    from ..adapters import DEFAULT_MODEL

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
    audit.add_argument("--max-texts", type=positive_int, default=256, metavar="N",
                       help="audit at most N inputs (texts or images; default: 256)")
    audit.add_argument("--batch-size", type=positive_int, default=64, metavar="N",
                       help="inputs per forward pass (default: 64)")
    audit.add_argument("--threads", type=positive_int, default=1, metavar="N",
                       help="torch CPU threads, at most the cores this process may use (default: 1, fastest for "
                            "the many small eigenproblems); more than the cores gives a warning")
    audit.add_argument("--exclude-special", action="store_true",
                       help="leave special tokens ([CLS], [SEP], class tokens) out of the metrics")
    audit.add_argument("--offline", action="store_true",
                       help="never contact the Hugging Face Hub (same as HF_HUB_OFFLINE=1)")
    audit.add_argument("--no-figures", action="store_true", help="write report.json only")
    audit.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    add_overwrite_flag(audit, "report.json and the figures of an earlier audit")
    audit.set_defaults(command_parser=audit)


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Run ``oversmoothing audit`` with the parsed ``args``; ``parser`` is its own parser; returns the exit status."""
    from ..runtime import get_device, torch_threads
    from .resources import usable_cores

    try:
        device = get_device(args.device)
    except ValueError as err:
        parser.error(f"argument --device: {err}")
    _check_input_path(parser, "--texts", args.texts, folder=False)
    _check_input_path(parser, "--images", args.images, folder=True)
    check_out(parser, args.out, AUDIT_FILES, args.overwrite)
    cores = usable_cores()
    if args.threads > cores:
        warn("audit", f"--threads {args.threads} exceeds the {cores} CPU cores this process may use; the threads "
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
    from .. import adapters
    from ..audit import audit
    from ..datasets import read_sentences
    from ..plotting import save_audit_figures

    start = time.perf_counter()
    try:  # the texts first: a file that cannot be read fails before the model's slow load
        lines = read_sentences(args.texts) if args.texts is not None else None
    except UnicodeDecodeError as err:
        return error("audit", f"--texts {os.fspath(args.texts)!r} is not UTF-8 text (byte {err.start}: {err.reason}); "
                              "save it as UTF-8, one sentence a line")
    except (OSError, ValueError) as err:
        return error("audit", str(err))
    if lines is not None:
        _report_skipped_lines(lines, args.max_texts)
    try:
        loaded = adapters.load_pretrained(args.model, device=device, offline=True if args.offline else None)
    except adapters.ModelNotAvailableError as err:
        return error("audit", str(err))
    modality = loaded.architecture.modality
    if modality == "text" and args.images is not None:
        parser.error(f"argument --images: {args.model} is a text model; use --texts")
    if modality == "image" and args.texts is not None:
        parser.error(f"argument --texts: {args.model} is a vision model; use --images")
    try:
        images = None if modality == "text" else _audit_images(args, int(loaded.model.config.image_size))
    except (OSError, ValueError) as err:
        return error("audit", str(err))
    texts = None
    if modality == "text":
        texts = (lines if lines is not None else read_sentences()).sentences[:args.max_texts]
        _report_cut_lines(loaded, texts)
    loaded_at = time.perf_counter()
    report = audit(loaded, texts=texts, images=images, exclude_special=args.exclude_special,
                   batch_size=args.batch_size, progress=not args.no_progress, threads=None)
    report.timings = {"load": loaded_at - start, **report.timings}
    args.out.mkdir(parents=True, exist_ok=True)
    remove_outputs(args.out, AUDIT_FILES)  # with --overwrite: no stale figure stays beside the new report
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
        warn("audit", f"--texts {lines.origin!r}: skipped {_count(lines.comments, 'line')} starting with '#' "
                      "(comments)", kind="note")
    if len(lines.sentences) > limit:
        warn("audit", f"--texts {lines.origin!r}: auditing the first {limit} of its {len(lines.sentences)} "
                      f"sentences (--max-texts {limit})", kind="note")


def _report_cut_lines(loaded: PretrainedTransformer, texts: Sequence[str]) -> None:
    """Say on stderr how many of ``texts`` are longer than the model's limit, and how many tokens the cut drops."""
    kept = loaded.encode_texts(texts)
    full = loaded.tokenizer(list(texts), add_special_tokens=True, verbose=False)["input_ids"]
    cuts = [(len(whole), len(part)) for whole, part in zip(full, kept) if len(whole) > len(part)]
    if cuts:
        limit = max(part for _, part in cuts)
        dropped = sum(whole - part for whole, part in cuts)
        warn("audit", f"cut {_count(len(cuts), 'line')} longer than {loaded.name}'s limit to its first {limit} "
                      f"tokens, dropping {_count(dropped, 'token')}")


def _audit_images(args: argparse.Namespace, size: int) -> torch.Tensor:
    """The images of ``--images`` at the model's ``size``, or scikit-learn's digits: ``(N, C, H, W)``."""
    from ..datasets import digit_images, load_images

    if args.images is not None:
        return load_images(args.images, limit=args.max_texts, size=size)
    return digit_images(min(args.max_texts, 1797))

