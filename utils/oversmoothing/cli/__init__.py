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
writes ``DIR/NAME-PROFILE.json`` (``--list`` names them).

``oversmoothing grade FOLDER [--chapter NAME] [--out CSV]`` executes each submitted student notebook of FOLDER
with otter-grader (no Docker), runs the public and hidden checks of its chapter's exercises
(:mod:`oversmoothing.grading`) and writes one row of points per notebook. Run ``oversmoothing COMMAND --help`` for every option,
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
from collections.abc import Sequence

from . import audit, experiment, grade, train

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``oversmoothing`` command."""
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="oversmoothing",
        description="Tools of the book 'Do Transformers Oversmooth? Theory you can run'.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    audit.add_parser(commands)
    train.add_parser(commands)
    experiment.add_parser(commands)
    grade.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``oversmoothing`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    parser = vars(args).pop("command_parser")  # the command's own parser: its errors say 'oversmoothing COMMAND'
    run = {"audit": audit.run, "train": train.run, "experiment": experiment.run, "grade": grade.run}[args.command]
    return run(args, parser)
