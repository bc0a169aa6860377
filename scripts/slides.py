"""Write the lecture decks: one reveal.js deck per lecture, from the tagged cells of the chapters.

    python scripts/slides.py [--out _build/slides] [--executed _build/jupyter_execute] [--plan lecture]
                             [--lecture N]

Needs the book build first (``make book``): the decks show the outputs of its executed notebooks. The tags,
what a deck shows and what it refuses are described in :mod:`oversmoothing.book.slides`. The output folder
holds ``lecture-N.html`` (the six-lecture module), ``workshop-N.html`` (the two-session workshop), an
``index.html`` and ``vendor/`` (reveal.js and MathJax, copied from ``book/vendor``): it opens from disk,
with no network.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from oversmoothing.book.colab import load_book
from oversmoothing.book.slides import PLANS, write_decks

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "slides")
    parser.add_argument("--executed", type=Path, default=ROOT / "_build" / "jupyter_execute",
                        help="the executed notebooks of the book build (make book)")
    parser.add_argument("--vendor", type=Path, default=ROOT / "book" / "vendor",
                        help="reveal.js and MathJax (scripts/vendor_js.sh, make vendor)")
    parser.add_argument("--plan", choices=sorted(PLANS), action="append",
                        help="only this plan's decks (default: all)")
    parser.add_argument("--lecture", type=int, action="append", help="only this lecture number")
    args = parser.parse_args(argv)
    if not (args.executed / "chapters").is_dir():
        print(f"error: {args.executed / 'chapters'} is missing: run `make book` first", file=sys.stderr)
        return 1
    try:
        decks, unresolved = write_decks(args.out, ROOT / "chapters", args.executed, args.vendor, load_book(ROOT),
                                        plans=args.plan or tuple(PLANS), numbers=args.lecture)
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for problem in unresolved:
        print(f"warning: {problem} (kept as plain text)", file=sys.stderr)
    print(f"wrote {len(decks)} decks to {args.out}: {', '.join(path.name for path in decks)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
