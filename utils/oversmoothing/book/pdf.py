"""The PDF edition of the book (``make pdf``): the built HTML printed by headless Chromium, page by page in
the order of ``_toc.yml``, merged into one PDF with pypdf.

    python scripts/book_pdf.py --source . --edition instructor --out _build/pdf/book.pdf
    python scripts/book_pdf.py --source _build/student_src --edition student --out _build/pdf/book-student.pdf

The instructor edition prints the main build (``_build/html``), whose exercise solutions are dropdowns
that the print opens; the student edition prints the student build (``make student-book``), which has no
solutions, and :func:`build_pdf` refuses a student build that shows one. The PDF has

* a title page (title and author from ``_config.yml``, the edition) and a contents page with the page on
  which each page of the book starts, grouped by the parts of ``_toc.yml``;
* page numbers running through the whole PDF (Chromium numbers each printed page from 1, so a document of
  blank numbered sheets is printed once and laid over the pages; the title page has none) and the page's
  title as a running head;
* bookmarks: a part, its pages, and under each page its sections (Chromium's outline of the headings).

How one HTML page becomes book pages (rendered math, widgets shown as their saved figure, no navigation,
nothing fetched from the internet) is :mod:`~oversmoothing.book.printing`'s job. It needs pypdf and
Playwright (in the book's ``requirements/book.txt``) and Chromium (``make browser``).
"""

from __future__ import annotations

import html
import io
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pypdf import PdfReader, PdfWriter
from pypdf.generic import Fit

from .colab.index import toc_docnames
from .pdf_links import cross_page_targets, destination_name, resolve_links
from .printing import PrintedPage, Printer, local_site

__all__ = ["EDITIONS", "BuildReport", "Edition", "Part", "build_pdf", "toc_parts"]

Edition = Literal["instructor", "student"]
EDITIONS: tuple[str, ...] = get_args(Edition)
_SUBTITLE = {"instructor": "Instructor edition, with the solutions to the exercises", "student": "Student edition"}


@dataclass(frozen=True)
class Part:
    """A part of the table of contents: its caption (``None`` for the root page) and its pages, in order."""

    caption: str | None
    docnames: tuple[str, ...]


def toc_parts(toc: Mapping[str, Any]) -> list[Part]:
    """The parts of a ``_toc.yml`` (``jb-book`` format, already parsed), in order: first the root page
    (caption ``None``), then each part with the pages under it (chapters and their sections). A table of
    contents without parts gives one part without a caption after the root."""
    if not isinstance(toc, Mapping) or "root" not in toc:
        raise ValueError("toc: expected a parsed jb-book _toc.yml with a 'root' entry")
    root, *rest = toc_docnames(toc)
    parts = [Part(None, (root,))]
    for part in toc.get("parts") or [{"chapters": toc.get("chapters") or []}]:
        # toc_docnames lists the root first: give it this part's first page as root, and drop it once.
        chapters = part.get("chapters") or []
        if chapters:
            docnames = toc_docnames({"root": chapters[0]["file"], "chapters": chapters})[1:]
            parts.append(Part(part.get("caption"), tuple(docnames)))
    listed = [name for p in parts for name in p.docnames]
    if listed != [root, *rest]:
        raise ValueError("toc: its parts do not list its pages in order (unexpected _toc.yml layout)")
    return parts


@dataclass(frozen=True)
class BuildReport:
    """What :func:`build_pdf` wrote: the file, its number of pages, the HTML pages printed, the exercise
    solutions printed and the seconds it took."""

    path: Path
    pages: int
    html_pages: int
    solutions: int
    seconds: float


def build_pdf(
    source: Path,
    out: Path,
    edition: Edition,
    html_dir: Path | None = None,
    docnames: Sequence[str] | None = None,
) -> BuildReport:
    """Print the book built from ``source`` (the folder with ``_config.yml`` and ``_toc.yml``; its HTML in
    ``html_dir``, default ``source/_build/html``) into one PDF at ``out``.

    ``docnames`` (``chapters/03_rank_collapse``, ...) prints only those pages of the table of contents, in
    its order (the front matter is always there). ``edition`` is ``"instructor"`` or ``"student"``: the
    title page says which, and a student edition that shows a solution raises ``RuntimeError``."""
    start = time.perf_counter()
    source = Path(source)
    if edition not in EDITIONS:
        raise ValueError(f"edition: expected one of {EDITIONS}, got {edition!r}")
    for name in ("_config.yml", "_toc.yml"):
        if not (source / name).is_file():
            raise ValueError(f"source: {source} has no {name}")
    html_dir = Path(html_dir) if html_dir is not None else source / "_build" / "html"
    if not (html_dir / "index.html").is_file():
        raise ValueError(f"html_dir: {html_dir} has no index.html: build it first (make book, make student-book)")
    config = yaml.safe_load((source / "_config.yml").read_text(encoding="utf-8"))
    parts = toc_parts(yaml.safe_load((source / "_toc.yml").read_text(encoding="utf-8")))
    parts = _select(parts, docnames)

    targets = cross_page_targets(html_dir, [name for part in parts for name in part.docnames])
    with local_site(html_dir) as site, Printer() as printer:
        printed = [[_print(printer, site, name, targets[name], edition) for name in part.docnames] for part in parts]
        front = _front_matter(printer, config, edition, parts, printed)
        body_pages = sum(_page_count(page.pdf) for part in printed for page in part)
        total = _page_count(front) + body_pages
        numbers = printer.print_html(_blank_sheets(total), footer='<span class="pageNumber"></span>')

    writer = _assemble(front, parts, printed)
    resolve_links(writer, site)
    _number_pages(writer, PdfReader(io.BytesIO(numbers)), first=1)
    writer.add_metadata({
        "/Title": str(config.get("title", "")),
        "/Author": str(config.get("author", "")),
        "/Subject": _SUBTITLE[edition],
    })
    writer.compress_identical_objects(remove_duplicates=True, remove_unreferenced=True)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as handle:
        writer.write(handle)
    return BuildReport(
        path=out,
        pages=len(writer.pages),
        html_pages=sum(len(part) for part in printed),
        solutions=sum(page.solutions for part in printed for page in part),
        seconds=time.perf_counter() - start,
    )


def _print(printer: Printer, site: str, docname: str, targets: set[str], edition: Edition) -> PrintedPage:
    """Print one page of the book; a page of the student edition that shows a solution is an error."""
    page = printer.print_page(site + f"{docname}.html", docname, targets)
    if edition == "student" and page.solutions:
        raise RuntimeError(
            f"the student edition shows {page.solutions} exercise solution(s) on {docname}: print the student "
            "build (make student-book), not the main one"
        )
    return page


def _select(parts: list[Part], docnames: Sequence[str] | None) -> list[Part]:
    """The parts restricted to ``docnames`` (every page when ``None``); parts left empty are dropped."""
    if docnames is None:
        return parts
    if isinstance(docnames, str) or not all(isinstance(name, str) for name in docnames):
        raise TypeError("docnames: expected a sequence of page names such as 'chapters/03_rank_collapse'")
    known = {name for part in parts for name in part.docnames}
    unknown = [name for name in docnames if name not in known]
    if unknown or not docnames:
        raise ValueError(f"docnames: {unknown or 'none given'} not in the table of contents ({sorted(known)})")
    kept = [Part(part.caption, tuple(n for n in part.docnames if n in docnames)) for part in parts]
    return [part for part in kept if part.docnames]


def _page_count(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def _blank_sheets(count: int) -> str:
    """An HTML document of ``count`` empty sheets (the page numbers are printed in their footers)."""
    sheets = '<div>&nbsp;</div>' + '<div style="break-before: page">&nbsp;</div>' * (count - 1)
    return f"<!DOCTYPE html><html><body>{sheets}</body></html>"


_FRONT_CSS = """
body { font-family: system-ui, "Segoe UI", Roboto, "Helvetica Neue", "Noto Sans", "Liberation Sans", Arial,
       sans-serif; color: #222; }
.title-page { height: 230mm; display: flex; flex-direction: column; justify-content: center; text-align: center; }
.title-page h1 { font-size: 30pt; font-weight: 500; margin: 0 0 12mm; }
.title-page p { font-size: 14pt; margin: 3mm 0; }
.title-page .edition { font-size: 12pt; color: #555; margin-top: 12mm; }
.contents { break-before: page; font-size: 11pt; }
.contents h2 { font-size: 20pt; font-weight: 500; margin: 0 0 8mm; }
.contents h3 { font-size: 11pt; margin: 6mm 0 2mm; text-transform: uppercase; letter-spacing: 0.05em; color: #555; }
.contents .entry { display: flex; align-items: baseline; margin: 1.2mm 0; }
.contents .entry .dots { flex: 1; border-bottom: 1px dotted #999; margin: 0 2mm; }
"""


def _front_html(config: Mapping[str, Any], edition: Edition, parts: list[Part], titles: list[list[str]],
                first_pages: list[list[int]]) -> str:
    """Title page and contents (each page's title and first page number, by part) as one HTML document."""
    esc = html.escape
    lines = [
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><style>{_FRONT_CSS}</style></head><body>",
        '<section class="title-page">',
        f"<h1>{esc(str(config.get('title', '')))}</h1>",
        f"<p>{esc(str(config.get('author', '')))}</p>",
        f'<p class="edition">{esc(_SUBTITLE[edition])}</p>',
        f"<p class='edition'>&copy; {esc(str(config.get('copyright', '')))}</p>" if config.get("copyright") else "",
        '</section><section class="contents"><h2>Contents</h2>',
    ]
    for part, part_titles, pages in zip(parts, titles, first_pages):
        if part.caption:
            lines.append(f"<h3>{esc(part.caption)}</h3>")
        for title, number in zip(part_titles, pages):
            lines.append(
                f'<div class="entry"><span>{esc(title)}</span><span class="dots"></span><span>{number}</span></div>'
            )
    lines.append("</section></body></html>")
    return "\n".join(lines)


def _front_matter(printer: Printer, config: Mapping[str, Any], edition: Edition, parts: list[Part],
                  printed: list[list[PrintedPage]]) -> bytes:
    """The printed title and contents pages. The contents give page numbers that depend on their own
    length: print once to measure it, then with the real numbers (the same length, checked)."""
    titles = [[page.title for page in part] for part in printed]
    counts = [[_page_count(page.pdf) for page in part] for part in printed]

    def first_pages(front_length: int) -> list[list[int]]:
        number, result = front_length + 1, []
        for part_counts in counts:
            result.append([])
            for count in part_counts:
                result[-1].append(number)
                number += count
        return result

    draft = printer.print_html(_front_html(config, edition, parts, titles, first_pages(0)))
    length = _page_count(draft)
    front = printer.print_html(_front_html(config, edition, parts, titles, first_pages(length)))
    if _page_count(front) != length:
        raise RuntimeError("the contents changed length once their page numbers were filled in")
    return front


def _assemble(front: bytes, parts: list[Part], printed: list[list[PrintedPage]]) -> PdfWriter:
    """Front matter and pages in one PDF, with a named destination at the start of each page
    (:func:`~oversmoothing.book.pdf_links.destination_name`) and bookmarks: part > page > its sections."""
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(front)), import_outline=False)
    for part, pages in zip(parts, printed):
        part_item = None
        for docname, page in zip(part.docnames, pages):
            reader = PdfReader(io.BytesIO(page.pdf))
            offset = len(writer.pages)
            writer.append(reader, import_outline=False)
            writer.add_named_destination(title=destination_name(docname), page_number=offset)
            if part.caption and part_item is None:
                part_item = writer.add_outline_item(title=part.caption, page_number=offset)
            page_item = writer.add_outline_item(
                title=page.title, page_number=offset, parent=part_item, is_open=False
            )
            outline = reader.outline
            # Chromium's titles lose the math and run wrapped lines together: use the page's own headings
            # when they pair up one to one with Chromium's items (they do unless a heading is odd).
            titles = iter(page.headings if len(page.headings) == _count(outline) else [])
            _copy_outline(writer, reader, outline, titles, offset, page_item, depth=0)
    return writer


def _count(items: list) -> int:
    """The number of items in a pypdf outline (nested lists of destinations)."""
    return sum(_count(item) if isinstance(item, list) else 1 for item in items)


def _copy_outline(writer: PdfWriter, reader: PdfReader, items: list, titles: Iterator[str], offset: int,
                  parent: Any, depth: int) -> None:
    """Copy Chromium's outline of one printed page under ``parent``, titled from ``titles`` (one per item,
    in order; Chromium's own once it runs out). Its top level is the page's own title, which ``parent``
    already stands for: only what lies below it is copied."""
    last = parent
    for item in items:
        if isinstance(item, list):
            _copy_outline(writer, reader, item, titles, offset, last, depth + 1)
            continue
        title = next(titles, item.title)
        if depth == 0:
            last = parent
        else:
            fit = Fit.xyz(left=item.left, top=item.top) if item.top is not None else Fit.fit()
            page_number = offset + reader.get_destination_page_number(item)
            last = writer.add_outline_item(
                title=title, page_number=page_number, parent=parent, fit=fit, is_open=False
            )


def _number_pages(writer: PdfWriter, numbers: PdfReader, first: int) -> None:
    """Lay page ``i`` of ``numbers`` (a numbered blank sheet) over page ``i`` of ``writer``, from ``first``."""
    if len(numbers.pages) != len(writer.pages):
        raise RuntimeError(f"{len(numbers.pages)} numbered sheets for {len(writer.pages)} pages")
    for index in range(first, len(writer.pages)):
        writer.pages[index].merge_page(numbers.pages[index])
        writer.pages[index].compress_content_streams()  # pypdf writes the merged stream uncompressed
