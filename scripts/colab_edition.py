"""Write or check the Colab edition: each chapter as ``notebooks/NAME.ipynb`` in plain Markdown.

The MyST Markdown chapter is the source of truth. Its converted notebook (no MyST roles or directives;
cross-references link to the HTML book, see :mod:`oversmoothing.book.colab`) is generated from it and
committed; the Colab launch button of each chapter page opens it.

    python scripts/colab_edition.py write chapters/*.md
    python scripts/colab_edition.py check chapters/*.md   # exit 1 when a notebook is out of sync

Both report references that found no target on the pages of ``_toc.yml`` (written as plain text).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from oversmoothing.book.colab import Book, colab_notebook_text, load_book

ROOT = Path(__file__).resolve().parents[1]


def docname(markdown: Path) -> str:
    """The page's name in the book (``chapters/01_x``); a chapter outside the repository counts as one of
    ``chapters/``."""
    try:
        return markdown.resolve().relative_to(ROOT).with_suffix("").as_posix()
    except ValueError:
        return f"chapters/{markdown.stem}"


def colab_path(markdown: Path, root: Path = ROOT) -> Path:
    """The converted notebook of a chapter: ``notebooks/NAME.ipynb`` under ``root``."""
    return root / "notebooks" / f"{markdown.stem}.ipynb"


def render(markdown: Path, book: Book) -> tuple[str, list[str]]:
    """The ``.ipynb`` text of a chapter's Colab edition and its references without a target."""
    return colab_notebook_text(markdown.read_text(encoding="utf-8"), docname(markdown), book)


def out_of_sync(markdowns: list[Path], book: Book, root: Path = ROOT) -> list[Path]:
    """The chapters whose converted notebook is missing or differs from what the chapter generates."""
    stale = []
    for markdown in markdowns:
        notebook = colab_path(markdown, root)
        if not notebook.exists() or notebook.read_text(encoding="utf-8") != render(markdown, book)[0]:
            stale.append(markdown)
    return stale


def report_unresolved(markdowns: list[Path], book: Book) -> int:
    """Print each reference without a target; return how many there are."""
    problems = [problem for markdown in markdowns for problem in render(markdown, book)[1]]
    for problem in problems:
        print(f"warning: {problem} (kept as plain text)", file=sys.stderr)
    return len(problems)


def main(argv: list[str] | None = None, root: Path = ROOT) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("write", "check"))
    parser.add_argument("chapters", nargs="+", type=Path)
    args = parser.parse_args(argv)
    book = load_book(ROOT)
    if args.action == "write":
        for markdown in args.chapters:
            path = colab_path(markdown, root)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(render(markdown, book)[0], encoding="utf-8")
        report_unresolved(args.chapters, book)
        return 0
    stale = out_of_sync(args.chapters, book, root)
    for markdown in stale:
        print(f"{colab_path(markdown, root)} is out of sync with {markdown}: run `make colab`", file=sys.stderr)
    report_unresolved(args.chapters, book)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
