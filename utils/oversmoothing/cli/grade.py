"""The ``oversmoothing grade`` subcommand: grade a folder of submitted student notebooks into one CSV."""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import add_overwrite_flag, check_out


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Add the ``grade`` subcommand to ``commands``."""
    grade = commands.add_parser(
        "grade",
        help="autograde submitted student notebooks (otter-grader, no Docker) into a CSV",
        description="Execute every FOLDER/*.ipynb in this environment (otter-grader, no Docker), run the public and hidden "
                    "checks of its chapter's exercises, and write one row of points per notebook.",
        epilog="The chapter of a notebook is read from its file name (it must contain the chapter's file stem, "
               "such as 05_which_eigenvalue_wins, as the student notebooks do), unless --chapter names it.",
    )
    grade.add_argument("folder", type=Path, metavar="FOLDER", help="the submitted notebooks (*.ipynb)")
    grade.add_argument("--chapter", metavar="NAME", help="the chapter of every notebook, e.g. 01_measuring_smoothing")
    grade.add_argument("--out", type=Path, default=Path("grades.csv"), metavar="CSV",
                       help="the table to write (default: ./grades.csv)")
    add_overwrite_flag(grade, "CSV")
    grade.set_defaults(command_parser=grade)


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Run ``oversmoothing grade`` with the parsed ``args``; ``parser`` is its own parser; returns the exit
    status."""
    from ..grading import chapter_checks, grade_folder

    if not args.folder.is_dir():
        parser.error(f"argument FOLDER: {str(args.folder)!r} is not a folder")
    if args.chapter is not None:
        try:
            if not chapter_checks(args.chapter):
                parser.error(f"argument --chapter: chapter {args.chapter!r} has no autograded exercises")
        except ValueError as err:
            parser.error(f"argument --chapter: {err}")
    check_out(parser, args.out.parent, [args.out.name], args.overwrite)
    try:
        table = grade_folder(args.folder, args.out, args.chapter)
    except ValueError as err:
        parser.error(str(err))
    for row in table.itertuples():
        print(f"{row.notebook}: {row.total:g} / {row.possible:g}" + (f" ({row.error})" if row.error else ""))
    print(f"wrote {args.out}")
    return 0
