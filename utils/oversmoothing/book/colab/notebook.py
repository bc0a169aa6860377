"""The notebook assembly: a MyST page as a Colab notebook, its Markdown cells converted."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import nbformat

from ..notebooks import output_free_notebook
from .addresses import page_url
from .blocks import convert_markdown, titled
from .index import Book
from .inline import PageContext

__all__ = [
    "colab_notebook",
    "colab_notebook_text",
    "edition_note",
    "figure_caption_cell",
    "glue_positions",
    "glued_names",
]

_GLUE_CALL = re.compile(r"""\bglue\(\s*(?P<f>f?)["'](?P<name>[^"']+)["']\s*,""")


def glued_names(source: str) -> list[re.Pattern]:
    """What a code cell glues, as patterns (an f-string's ``{...}`` matches any name part)."""
    patterns = []
    for match in _GLUE_CALL.finditer(source):
        name = match["name"]
        if match["f"]:
            pieces = re.split(r"\{[^}]*\}", name)
            patterns.append(re.compile("[\\w-]+".join(map(re.escape, pieces)) + "$"))
        else:
            patterns.append(re.compile(re.escape(name) + "$"))
    return patterns


def glue_positions(cells: Sequence[nbformat.NotebookNode], index: int, names: Iterable[str]) -> dict[str, str]:
    """For each name, "above" when a code cell before ``cells[index]`` glues it, "below" when only a
    later one does (names no cell glues are left out)."""
    patterns = [(k, glued_names(cell.source)) for k, cell in enumerate(cells) if cell.cell_type == "code"]
    positions = {}
    for name in names:
        glued_at = [k for k, found in patterns if any(p.match(name) for p in found)]
        if glued_at:
            positions[name] = "above" if any(k < index for k in glued_at) else "below"
    return positions


def figure_caption_cell(cell: nbformat.NotebookNode, context: PageContext) -> nbformat.NotebookNode | None:
    """The caption of a code cell's figure (``mystnb.figure.caption``) as a Markdown cell, or ``None``."""
    figure = (cell.metadata.get("mystnb") or {}).get("figure") or {}
    if not figure.get("caption"):
        return None
    return nbformat.v4.new_markdown_cell(titled("**Figure.**", convert_markdown(figure["caption"], context)))


def edition_note(base_url: str, docname: str) -> str:
    """The note under a chapter's title that says what this edition is."""
    return (
        f"> *The Colab edition of [this page of the HTML book]({page_url(base_url, docname)}).* Links lead to the "
        "book, which numbers the theorems, equations and figures. Where the book quotes a computed number in "
        "its text, this notebook names it like `this`: the cell that computes it prints it."
    )


def _with_note(source: str, note: str) -> str:
    """``source`` with ``note`` after its first level-1 heading (or first, without one)."""
    lines = source.split("\n")
    heading = next((i for i, line in enumerate(lines) if re.match(r"#\s", line)), None)
    if heading is None:
        return f"{note}\n\n{source}"
    return "\n".join([*lines[: heading + 1], "", note, *lines[heading + 1:]])


def colab_notebook(text: str, docname: str, book: Book) -> tuple[nbformat.NotebookNode, list[str]]:
    """The Colab edition of a MyST page and the references that found no target (see
    :mod:`oversmoothing.book.colab`): Markdown cells converted, empty ones dropped, code cells kept with their
    tags, figure captions added after their cells, a note on the edition under the title, cell ids numbered in
    order.

    Raises:
        ConversionError: a role or directive without a plain-Markdown form, or an unclosed fence.
    """
    notebook = output_free_notebook(text)
    cells: list[nbformat.NotebookNode] = []
    unresolved: list[str] = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "markdown":
            names = [m.split(":", 1)[0] for m in re.findall(r"\{glue(?::\w+)?\}`([^`]+)`", cell.source)]
            context = PageContext(book, docname, glue_positions(notebook.cells, index, names), unresolved)
            cell.source = convert_markdown(cell.source, context)
            if cell.source.strip():
                cells.append(cell)
            continue
        cells.append(cell)
        caption = figure_caption_cell(cell, PageContext(book, docname, {}, unresolved))
        if caption is not None:
            cells.append(caption)
    first = next((cell for cell in cells if cell.cell_type == "markdown"), None)
    if first is not None:
        first.source = _with_note(first.source, edition_note(book.base_url, docname))
    for index, cell in enumerate(cells):
        cell.id = f"cell-{index}"
    notebook.cells = cells
    return notebook, unresolved


def colab_notebook_text(text: str, docname: str, book: Book) -> tuple[str, list[str]]:
    """The ``.ipynb`` text of :func:`colab_notebook` (reproducible: the same page gives the same text)."""
    notebook, unresolved = colab_notebook(text, docname, book)
    return nbformat.writes(notebook, version=4) + "\n", unresolved
