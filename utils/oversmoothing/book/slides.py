"""The lecture decks (``make slides``): one reveal.js deck per lecture, from tagged cells of the chapters.

A chapter marks the cells that belong in a deck with one of the tags of :data:`SLIDE_TAGS` (a code cell in its
``:tags:`` option, a Markdown cell in the MyST cell break before it, ``+++ {"tags": ["slide"]}``):

* ``slide``: the cell starts a new slide;
* ``subslide``: the cell starts a vertical sub-slide below the current slide;
* ``fragment``: the cell is added to the current slide on the next click;
* ``slide-continue``: the cell is added to the current slide at once.

Cells without one of them are not in the deck; a chapter's first deck cell must start a slide. The tags become
nbconvert's ``slideshow.slide_type`` metadata (:func:`slide_type`) and the decks are written by nbconvert's
``SlidesExporter`` with the template in ``slides_template/``, which loads reveal.js 4 and MathJax 3 from the
``vendor/`` folder beside the decks (:func:`copy_assets` copies them from ``book/vendor``, filled by
``scripts/vendor_js.sh``): a deck folder works from disk, with no network.

What a deck cell shows:

* a Markdown cell is converted to plain Markdown by the Colab converter (:mod:`oversmoothing.book.colab`):
  theorem boxes as block quotes with a bold title, references as links to the HTML book;
* a code cell carries the outputs of the same cell in the executed notebook of the book build
  (``_build/jupyter_execute/chapters/NAME.ipynb``); its input is left out when it is tagged ``remove-input``
  or ``hide-input`` (the book hides it too), its outputs when tagged ``remove-output`` or ``hide-output``; a
  figure's caption (``mystnb.figure``) follows it on the same slide.

A tag is refused (``ValueError``) where the deck could not show what the book shows: inside an exercise or a
solution, on a ``remove-cell`` cell, on a cell whose output is a widget, and on Markdown that quotes a glued
value (``{glue:text}``: the executed notebooks do not keep glued values, myst-nb moves them into the build).
Each lecture of :mod:`oversmoothing.book.lectures` gets a deck that opens with a title slide.
"""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

import nbformat
from nbconvert import SlidesExporter
from traitlets.config import Config

from .colab import Book, PageContext, convert_markdown, page_url, split_blocks
from .colab.notebook import figure_caption_cell
from .lectures import MODULE, WORKSHOP, Lecture
from .notebooks import output_free_notebook

__all__ = [
    "HIDDEN_INPUT_TAGS",
    "HIDDEN_OUTPUT_TAGS",
    "PLANS",
    "SLIDE_TAGS",
    "TEMPLATE_DIR",
    "chapter_cells",
    "copy_assets",
    "deck_file_name",
    "exercise_cells",
    "lecture_notebook",
    "render_deck",
    "slide_type",
    "write_decks",
]

SLIDE_TAGS: dict[str, str] = {"slide": "slide", "subslide": "subslide", "fragment": "fragment",
                              "slide-continue": "-"}
"""A chapter cell's tag and the ``slideshow.slide_type`` it gives (``"-"``: on the current slide)."""

HIDDEN_INPUT_TAGS = ("remove-input", "hide-input")
"""Tags of code cells whose input a deck leaves out (the book hides or removes it)."""

HIDDEN_OUTPUT_TAGS = ("remove-output", "hide-output")
"""Tags of code cells whose outputs a deck leaves out."""

PLANS: dict[str, tuple[Lecture, ...]] = {"lecture": MODULE, "workshop": WORKSHOP}
"""The course plans that get decks, by the prefix of their decks' file names."""

TEMPLATE_DIR = Path(__file__).resolve().parent / "slides_template"
"""nbconvert's reveal template with every asset loaded from ``vendor/`` beside the deck."""

VENDOR_FILES = ("reveal.js/dist/reveal.js", "mathjax/tex-mml-chtml.js")
"""Files of the vendor folder that the decks cannot do without (checked before anything is copied)."""

_WIDGET = "application/vnd.jupyter.widget-view+json"
_GLUE_ROLE = re.compile(r"\{glue(?::\w+)?\}`")
_EXERCISE_DIRECTIVES = {"exercise", "solution", "exercise-start", "exercise-end", "solution-start", "solution-end"}


def slide_type(cell: nbformat.NotebookNode) -> str | None:
    """The ``slideshow.slide_type`` that a cell's tags give (``"slide"``, ``"subslide"``, ``"fragment"`` or
    ``"-"``), or ``None`` for a cell with no slide tag (not in the deck).

    Raises:
        TypeError: ``cell`` is not a notebook cell, or its ``tags`` metadata is not a list of strings.
        ValueError: the cell has more than one slide tag.
    """
    if not isinstance(cell, dict) or "cell_type" not in cell:
        raise TypeError(f"cell must be a notebook cell, got {type(cell).__name__}")
    tags = cell.get("metadata", {}).get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise TypeError(f"cell: tags must be a list of strings, got {tags!r}")
    found = [tag for tag in tags if tag in SLIDE_TAGS]
    if len(found) > 1:
        raise ValueError(f"cell: one slide tag at most, got {found} (tags {tags})")
    return SLIDE_TAGS[found[0]] if found else None


def exercise_cells(cells: Sequence[nbformat.NotebookNode]) -> set[int]:
    """The indices of the cells that belong to an exercise or a solution: from the Markdown cell that opens a
    gated ``exercise-start``/``solution-start`` block to the one that closes it, and every Markdown cell that
    holds an ``{exercise}`` or ``{solution}`` directive."""
    inside: set[int] = set()
    open_block = False
    for index, cell in enumerate(cells):
        if open_block:
            inside.add(index)
        if cell.cell_type != "markdown":
            continue
        for block in split_blocks(cell.source):
            if isinstance(block, str) or block.directive not in _EXERCISE_DIRECTIVES:
                continue
            inside.add(index)
            if block.directive in ("exercise-start", "solution-start"):
                open_block = True
            elif block.directive in ("exercise-end", "solution-end"):
                open_block = False
    return inside


def _executed_code_cells(executed: nbformat.NotebookNode, source: nbformat.NotebookNode,
                         docname: str) -> list[nbformat.NotebookNode]:
    """The code cells of the executed notebook, one for each code cell of the chapter."""
    ran = [cell for cell in executed.cells if cell.cell_type == "code"]
    written = [cell for cell in source.cells if cell.cell_type == "code"]
    if len(ran) != len(written):
        raise ValueError(f"{docname}: the executed notebook has {len(ran)} code cells, the chapter {len(written)}: "
                         "it is out of date, run `make book`")
    return ran


def _deck_code_cell(cell: nbformat.NotebookNode, ran: nbformat.NotebookNode, where: str) -> nbformat.NotebookNode:
    """A chapter's code cell with the outputs of its run, or ``ValueError`` when the run is of other code or
    shows a widget."""
    if ran.source != cell.source:
        raise ValueError(f"{where}: the executed notebook ran other code in this cell: it is out of date, "
                         "run `make book`")
    if any(_WIDGET in output.get("data", {}) for output in ran.outputs):
        raise ValueError(f"{where}: a widget cannot be a slide (a deck has no kernel): tag the static figure "
                         "before it instead")
    return nbformat.v4.new_code_cell(cell.source, metadata=dict(cell.metadata), outputs=ran.outputs,
                                     execution_count=ran.get("execution_count"))


def chapter_cells(text: str, docname: str, executed: nbformat.NotebookNode,
                  book: Book) -> tuple[list[nbformat.NotebookNode], list[str]]:
    """The deck cells of one chapter and the references in them that found no target in the book.

    Args:
        text: the chapter's MyST Markdown source.
        docname: its page in the book (``chapters/01_x``), for links and messages.
        executed: the chapter's executed notebook from the book build (its code cells give the outputs).
        book: the book's label index (:func:`oversmoothing.book.colab.load_book`).

    Returns:
        The tagged cells in order, each with ``slideshow.slide_type`` metadata (Markdown converted, code cells
        with their outputs, a figure caption after its cell), and the unresolved references.

    Raises:
        TypeError: ``text`` or ``docname`` is not a string, or ``executed`` not a notebook.
        ValueError: a slide tag where a deck cannot show the cell (see the module's docstring), a chapter whose
            first deck cell does not start a slide, or an executed notebook that is out of date.
    """
    if not isinstance(text, str) or not isinstance(docname, str):
        raise TypeError("text and docname must be strings")
    if not isinstance(executed, nbformat.NotebookNode):
        raise TypeError(f"executed must be a notebook, got {type(executed).__name__}")
    source = output_free_notebook(text)
    ran = iter(_executed_code_cells(executed, source, docname))
    in_exercise = exercise_cells(source.cells)
    unresolved: list[str] = []
    context = PageContext(book, docname, {}, unresolved)
    cells: list[nbformat.NotebookNode] = []
    for index, cell in enumerate(source.cells):
        run = next(ran) if cell.cell_type == "code" else None
        kind = slide_type(cell)
        if kind is None:
            continue
        where = f"{docname}, cell {index + 1} ({cell.source.strip().splitlines()[0][:50] if cell.source.strip() else 'empty'!r})"
        if index in in_exercise:
            raise ValueError(f"{where}: a slide tag inside an exercise or a solution")
        if "remove-cell" in cell.metadata.get("tags", []):
            raise ValueError(f"{where}: a slide tag on a remove-cell cell, which the book does not show")
        if not cells and kind != "slide":
            raise ValueError(f"{where}: the chapter's first deck cell must be tagged 'slide', got {kind!r}")
        if cell.cell_type == "markdown":
            if _GLUE_ROLE.search(cell.source):
                raise ValueError(f"{where}: a slide cannot quote a glued value (the executed notebook does not "
                                 "keep it): split the cell, or tag the cell that prints the value")
            deck_cell = nbformat.v4.new_markdown_cell(convert_markdown(cell.source, context))
        else:
            deck_cell = _deck_code_cell(cell, run, where)
        deck_cell.metadata["slideshow"] = {"slide_type": kind}
        cells.append(deck_cell)
        caption = figure_caption_cell(cell, context) if cell.cell_type == "code" else None
        if caption is not None:
            caption.metadata["slideshow"] = {"slide_type": "-"}
            cells.append(caption)
    return cells, unresolved


def deck_file_name(prefix: str, lecture: Lecture) -> str:
    """``lecture-3.html`` for lecture 3 of the plan named ``lecture``."""
    if prefix not in PLANS:
        raise ValueError(f"prefix must be one of {sorted(PLANS)}, got {prefix!r}")
    if not isinstance(lecture, Lecture):
        raise TypeError(f"lecture must be a Lecture, got {type(lecture).__name__}")
    return f"{prefix}-{lecture.number}.html"


def _title_cell(prefix: str, lecture: Lecture, book: Book) -> nbformat.NotebookNode:
    """The title slide: the lecture, its chapters and its reading, linked to the HTML book."""

    def links(stems: Sequence[str]) -> str:
        pages = [f"chapters/{stem}" for stem in stems]
        return ", ".join(f"[{book.pages[page].title}]({page_url(book.base_url, page)})" for page in pages)

    lines = [f"# {prefix.capitalize()} {lecture.number}: {lecture.title}", "", f"Chapters: {links(lecture.chapters)}"]
    if lecture.reading:
        lines += ["", f"Reading: {links(lecture.reading)}"]
    lines += ["", "*Do Transformers Oversmooth? Theory you can run*"]
    cell = nbformat.v4.new_markdown_cell("\n".join(lines))
    cell.metadata["slideshow"] = {"slide_type": "slide"}
    return cell


def _chapter_cell(stem: str, book: Book) -> nbformat.NotebookNode:
    """A slide that opens one chapter of a lecture with several: its title, linked to the HTML book."""
    page = f"chapters/{stem}"
    cell = nbformat.v4.new_markdown_cell(f"## {book.pages[page].title}\n\n[The chapter in the book]"
                                         f"({page_url(book.base_url, page)})")
    cell.metadata["slideshow"] = {"slide_type": "slide"}
    return cell


def lecture_notebook(prefix: str, lecture: Lecture, chapters_dir: Path, executed_dir: Path,
                     book: Book) -> tuple[nbformat.NotebookNode, list[str]]:
    """The deck of one lecture as a notebook (a title slide, then the deck cells of each of its chapters, each
    chapter opened by a slide with its title when the lecture has several) and the references that found no
    target.

    Args:
        prefix: the plan's name in :data:`PLANS` (``"lecture"`` or ``"workshop"``).
        lecture: one lecture of that plan.
        chapters_dir: the folder of the chapters' MyST sources (``chapters/``).
        executed_dir: the book build's executed notebooks (``_build/jupyter_execute``), which hold
            ``chapters/NAME.ipynb``.
        book: the book's label index.

    Raises:
        FileNotFoundError: a chapter or its executed notebook is missing (run ``make book``).
        ValueError: see :func:`chapter_cells`; a chapter with no deck cells.
    """
    deck_file_name(prefix, lecture)  # validates both
    cells = [_title_cell(prefix, lecture, book)]
    unresolved: list[str] = []
    language_info: dict = {}
    for stem in lecture.chapters:
        markdown = Path(chapters_dir) / f"{stem}.md"
        executed_path = Path(executed_dir) / "chapters" / f"{stem}.ipynb"
        if not markdown.is_file():
            raise FileNotFoundError(f"chapters_dir: {markdown} does not exist")
        if not executed_path.is_file():
            raise FileNotFoundError(f"executed_dir: {executed_path} does not exist: run `make book` first")
        executed = nbformat.read(executed_path, as_version=4)
        language_info = dict(executed.metadata.get("language_info", {}))
        chapter, missing = chapter_cells(markdown.read_text(encoding="utf-8"), f"chapters/{stem}", executed, book)
        if not chapter:
            raise ValueError(f"chapters/{stem}.md has no cell tagged for slides ({', '.join(SLIDE_TAGS)})")
        if len(lecture.chapters) > 1:
            cells.append(_chapter_cell(stem, book))
        cells += chapter
        unresolved += missing
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata.update({"title": f"{prefix.capitalize()} {lecture.number}: {lecture.title}",
                              "language_info": language_info})
    return notebook, unresolved


def render_deck(notebook: nbformat.NotebookNode, vendor_url: str = "vendor") -> str:
    """The reveal.js HTML of a deck notebook, loading reveal.js and MathJax from ``vendor_url`` (relative to
    the deck; see :func:`copy_assets`)."""
    if not isinstance(notebook, nbformat.NotebookNode):
        raise TypeError(f"notebook must be a notebook, got {type(notebook).__name__}")
    if not isinstance(vendor_url, str) or not vendor_url or re.match(r"^[a-z]+:", vendor_url):
        raise ValueError(f"vendor_url must be a relative path, got {vendor_url!r}")
    config = Config()
    config.SlidesExporter.reveal_url_prefix = f"{vendor_url}/reveal.js"
    config.SlidesExporter.mathjax_url = f"{vendor_url}/mathjax/tex-mml-chtml.js"
    config.SlidesExporter.reveal_theme = "white"
    config.SlidesExporter.reveal_number = "c/t"
    config.SlidesExporter.reveal_width = "1280"
    config.SlidesExporter.reveal_height = "800"
    config.SlidesExporter.exclude_input_prompt = True
    config.SlidesExporter.exclude_output_prompt = True
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_input_tags = set(HIDDEN_INPUT_TAGS)
    config.TagRemovePreprocessor.remove_all_outputs_tags = set(HIDDEN_OUTPUT_TAGS)
    exporter = SlidesExporter(config=config, extra_template_basedirs=[str(TEMPLATE_DIR.parent)],
                              template_name=TEMPLATE_DIR.name)
    body, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": notebook.metadata.get("title", "")}})
    return body


def copy_assets(vendor_dir: Path, out_dir: Path) -> Path:
    """Copy reveal.js and MathJax from ``vendor_dir`` (``book/vendor``, see ``scripts/vendor_js.sh``) to
    ``out_dir/vendor``, replacing what is there; return that folder.

    Raises:
        FileNotFoundError: ``vendor_dir`` lacks reveal.js or MathJax (run ``make vendor``).
    """
    vendor_dir, out_dir = Path(vendor_dir), Path(out_dir)
    missing = [name for name in VENDOR_FILES if not (vendor_dir / name).is_file()]
    if missing:
        raise FileNotFoundError(f"vendor_dir: {vendor_dir} lacks {', '.join(missing)}: run `make vendor`")
    target = out_dir / "vendor"
    shutil.rmtree(target, ignore_errors=True)
    for name in ("reveal.js", "mathjax"):
        shutil.copytree(vendor_dir / name, target / name)
    return target


def _index_page(decks: Sequence[tuple[str, str]]) -> str:
    """A page that links the decks, given as (file name, title)."""
    items = "\n".join(f'<li><a href="{html.escape(name)}">{html.escape(title)}</a></li>' for name, title in decks)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8"><title>Lecture decks</title></head>\n'
            f"<body>\n<h1>Lecture decks</h1>\n<ul>\n{items}\n</ul>\n</body>\n</html>\n")


def write_decks(out_dir: Path, chapters_dir: Path, executed_dir: Path, vendor_dir: Path, book: Book,
                plans: Sequence[str] = tuple(PLANS), numbers: Sequence[int] | None = None) -> tuple[list[Path], list[str]]:
    """Write the decks of ``plans`` (all lectures, or those ``numbers``) into ``out_dir`` with their assets
    (``out_dir/vendor``) and an ``index.html``; return the deck files and the references without a target.

    Raises:
        ValueError: an unknown plan or lecture number; see :func:`lecture_notebook`.
        FileNotFoundError: see :func:`lecture_notebook` and :func:`copy_assets`.
    """
    unknown = [plan for plan in plans if plan not in PLANS]
    if unknown or not plans:
        raise ValueError(f"plans must be some of {sorted(PLANS)}, got {list(plans)!r}")
    selected = [(plan, lecture) for plan in plans for lecture in PLANS[plan]
                if numbers is None or lecture.number in numbers]
    if not selected:
        raise ValueError(f"numbers: no lecture {list(numbers or [])} in the plans {list(plans)}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    copy_assets(vendor_dir, out_dir)
    written: list[Path] = []
    unresolved: list[str] = []
    titles: list[tuple[str, str]] = []
    for plan, lecture in selected:
        notebook, missing = lecture_notebook(plan, lecture, chapters_dir, executed_dir, book)
        path = out_dir / deck_file_name(plan, lecture)
        path.write_text(render_deck(notebook), encoding="utf-8")
        written.append(path)
        unresolved += missing
        titles.append((path.name, notebook.metadata["title"]))
    (out_dir / "index.html").write_text(_index_page(titles), encoding="utf-8")
    return written, unresolved
