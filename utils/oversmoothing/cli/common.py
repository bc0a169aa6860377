"""What the subcommands of the ``oversmoothing`` command share: argparse types for bounded numbers, the one-line
messages on stderr, and the rules of ``--out`` and ``--overwrite``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from .._validation import check_real, interval


def integer(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
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


def number(low: float, high: float, *, low_open: bool = False, high_open: bool = False) -> Callable[[str], float]:
    """An argparse type: a finite number in the interval from ``low`` to ``high`` (each end open or closed)."""
    where = interval(low, high, low_open=low_open, high_open=high_open)

    def parse(text: str) -> float:
        try:
            return check_real(float(text), "value", low, high, low_open=low_open, high_open=high_open)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number in {where}, got {text!r}") from None

    return parse


positive_int = integer(1)


def error(command: str, message: str) -> int:
    """Print ``oversmoothing COMMAND: error: MESSAGE`` on stderr and return the exit status 2."""
    print(f"oversmoothing {command}: error: {message}", file=sys.stderr)
    return 2


def warn(command: str, message: str, kind: str = "warning") -> None:
    """Print ``oversmoothing COMMAND: KIND: MESSAGE`` on stderr (``KIND`` is ``warning`` or ``note``)."""
    print(f"oversmoothing {command}: {kind}: {message}", file=sys.stderr)


def add_overwrite_flag(parser: argparse.ArgumentParser, files: str) -> None:
    """Add ``--overwrite`` to a command that writes ``files`` into ``--out``."""
    parser.add_argument("--overwrite", action="store_true",
                        help=f"replace {files} in --out (without it the command refuses to start when one "
                             "is there)")


def check_out(parser: argparse.ArgumentParser, out: Path, names: Sequence[str], overwrite: bool) -> None:
    """Refuse an ``--out`` that is a file, or one that holds any of the files ``names`` unless ``overwrite``."""
    if out.exists() and not out.is_dir():
        parser.error(f"argument --out: {os.fspath(out)!r} exists and is not a folder")
    existing = [name for name in names if (out / name).exists()]
    if existing and not overwrite:
        parser.error(f"argument --out: {os.fspath(out)!r} already holds {', '.join(existing)} of an earlier run; "
                     f"add --overwrite to replace {'it' if len(existing) == 1 else 'them'}, or choose another --out")


def remove_outputs(out: Path, names: Sequence[str]) -> None:
    """Delete the files ``names`` of an earlier run from ``out`` (those missing are skipped; nothing else)."""
    for name in names:
        (out / name).unlink(missing_ok=True)
