"""Write or check the output-free ``.ipynb`` paired with each chapter (Jupyter opens these beside the MyST source).

The MyST Markdown chapter is the source of truth; its ``.ipynb`` twin is generated from it and
committed, and excluded from the book build. Colab opens the converted edition in ``notebooks/``
(``scripts/colab_edition.py``), which reads like the book.

    python scripts/pair_notebooks.py write chapters/*.md
    python scripts/pair_notebooks.py check chapters/*.md   # exit 1 when a pair is out of sync
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

from oversmoothing.book.notebooks import output_free_notebook


def render_ipynb(markdown: Path) -> str:
    """The ``.ipynb`` text generated from a MyST chapter: no outputs, no execution counts,
    cell ids numbered in order (so that the text is reproducible)."""
    return nbformat.writes(output_free_notebook(markdown.read_text(encoding="utf-8")), version=4) + "\n"


def paired_path(markdown: Path) -> Path:
    """The ``.ipynb`` beside a chapter."""
    return markdown.with_suffix(".ipynb")


def out_of_sync(markdowns: list[Path]) -> list[Path]:
    """The chapters whose ``.ipynb`` is missing or differs from what the chapter generates."""
    stale = []
    for markdown in markdowns:
        ipynb = paired_path(markdown)
        if not ipynb.exists() or ipynb.read_text(encoding="utf-8") != render_ipynb(markdown):
            stale.append(markdown)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("write", "check"))
    parser.add_argument("chapters", nargs="+", type=Path)
    args = parser.parse_args(argv)
    if args.action == "write":
        for markdown in args.chapters:
            paired_path(markdown).write_text(render_ipynb(markdown), encoding="utf-8")
        return 0
    stale = out_of_sync(args.chapters)
    for markdown in stale:
        print(f"{paired_path(markdown)} is out of sync with {markdown}: run `make notebooks`", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
