"""Write or check the Colab edition: each chapter as ``notebooks/NAME.ipynb`` in plain Markdown.

The MyST Markdown chapter is the source of truth. Its converted notebook (no MyST roles or directives;
cross-references link to the HTML book, see :mod:`oversmoothing.book.colab`) is generated from it and
committed; the Colab launch button of each chapter page opens it.

    python scripts/colab_edition.py write chapters/*.md
    python scripts/colab_edition.py check chapters/*.md   # exit 1 when a notebook is out of sync
    python scripts/colab_edition.py write --student chapters/*.md   # notebooks/student/NAME.ipynb

``--student`` writes (or checks) the student Colab edition, ``notebooks/student/NAME.ipynb``: the student
notebook of each chapter (``scripts/student_edition.py``: solutions removed, the stubs kept as code cells
tagged ``exercise-stub``, answer placeholders; references to the instructor guide as plain text),
converted the same way. The student HTML edition's Colab button opens it.

Both report references that found no target on the pages of ``_toc.yml`` (written as plain text).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

from oversmoothing.book.colab import Book, colab_notebook, load_book
from oversmoothing.book.colab.notebook import edition_note

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
import student_edition  # noqa: E402  (scripts/student_edition.py)

STUDENT_NOTE = "*The student edition (the exercises without their solutions) of"


def docname(markdown: Path) -> str:
    """The page's name in the book (``chapters/01_x``); a chapter outside the repository counts as one of
    ``chapters/``."""
    try:
        return markdown.resolve().relative_to(ROOT).with_suffix("").as_posix()
    except ValueError:
        return f"chapters/{markdown.stem}"


def colab_path(markdown: Path, root: Path = ROOT, student: bool = False) -> Path:
    """The converted notebook of a chapter: ``notebooks/NAME.ipynb`` (``notebooks/student/NAME.ipynb``
    with ``student``) under ``root``."""
    folder = student_edition.STUDENT_COLAB_FOLDER if student else "notebooks"
    return root / folder / f"{markdown.stem}.ipynb"


def student_text(markdown: Path) -> str:
    """A chapter's student version (MyST): its solutions replaced by stub cells and answer placeholders,
    references to the pages the student edition leaves out as plain text."""
    text = student_edition.student_markdown(markdown.read_text(encoding="utf-8"), "notebook", markdown.name)
    return student_edition.drop_references(text, student_edition.dropped_labels(ROOT))


def render(markdown: Path, book: Book, student: bool = False) -> tuple[str, list[str]]:
    """The ``.ipynb`` text of a chapter's Colab edition (its student edition with ``student``) and its
    references without a target."""
    name = docname(markdown)
    text = student_text(markdown) if student else markdown.read_text(encoding="utf-8")
    notebook, unresolved = colab_notebook(text, name, book)
    if student:
        note = edition_note(book.base_url, name)
        first = next(cell for cell in notebook.cells if cell.cell_type == "markdown")
        assert note in first.source, "the edition note is not in the first Markdown cell"
        first.source = first.source.replace(note, note.replace("*The Colab edition of", STUDENT_NOTE, 1))
    return nbformat.writes(notebook, version=4) + "\n", unresolved


def out_of_sync(markdowns: list[Path], book: Book, root: Path = ROOT, student: bool = False) -> list[Path]:
    """The chapters whose converted notebook is missing or differs from what the chapter generates."""
    stale = []
    for markdown in markdowns:
        notebook = colab_path(markdown, root, student)
        if not notebook.exists() or notebook.read_text(encoding="utf-8") != render(markdown, book, student)[0]:
            stale.append(markdown)
    return stale


def report_unresolved(markdowns: list[Path], book: Book, student: bool = False) -> int:
    """Print each reference without a target; return how many there are."""
    problems = [problem for markdown in markdowns for problem in render(markdown, book, student)[1]]
    for problem in problems:
        print(f"warning: {problem} (kept as plain text)", file=sys.stderr)
    return len(problems)


def main(argv: list[str] | None = None, root: Path = ROOT) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("write", "check"))
    parser.add_argument("--student", action="store_true",
                        help="the student Colab edition, notebooks/student/NAME.ipynb (solutions removed)")
    parser.add_argument("chapters", nargs="+", type=Path)
    args = parser.parse_args(argv)
    book = load_book(ROOT)
    if args.action == "write":
        for markdown in args.chapters:
            path = colab_path(markdown, root, args.student)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(render(markdown, book, args.student)[0], encoding="utf-8")
        report_unresolved(args.chapters, book, args.student)
        return 0
    stale = out_of_sync(args.chapters, book, root, args.student)
    for markdown in stale:
        print(f"{colab_path(markdown, root, args.student)} is out of sync with {markdown}: run `make colab`",
              file=sys.stderr)
    report_unresolved(args.chapters, book, args.student)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
