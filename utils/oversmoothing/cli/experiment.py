"""The ``oversmoothing experiment`` subcommand: its options, and the run of a registered experiment of the book
that writes ``OUT/NAME-PROFILE.json``."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from .common import add_overwrite_flag, check_out


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Add the ``experiment`` subcommand to ``commands``."""
    from ..runtime import PROFILES

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
    add_overwrite_flag(experiment, "NAME-PROFILE.json, e.g. a committed result such as vision-reference.json,")
    experiment.set_defaults(command_parser=experiment)


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Run ``oversmoothing experiment`` with the parsed ``args``; ``parser`` is its own parser; returns the exit
    status."""
    from ..experiments import available_experiments, result_path, run_experiment
    from ..runtime import get_device

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
    check_out(parser, args.out, [target.name], args.overwrite)
    record = run_experiment(args.name, profile=args.profile, device=device, out=args.out)
    metadata = record["metadata"]
    print(f"{args.name} ({metadata['profile']}, {metadata['device']}) took {metadata['seconds']:.1f} s; wrote "
          f"{os.fspath(target)}")
    return 0
