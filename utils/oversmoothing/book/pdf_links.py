"""Links between the pages of the PDF edition (:mod:`~oversmoothing.book.pdf`).

Chromium prints one HTML page at a time, so a link to another page comes out as a web address on the
temporary local server. Before printing, :func:`cross_page_targets` reads the built HTML for the ids that
each page is linked to from the others; :class:`~oversmoothing.book.printing.Printer` gives those targets
(and the page's own link targets) the named destinations ``docname:id``. After merging,
:func:`resolve_links` turns every link to the local server into a link to such a destination, or to the
start of the page, and drops the links to pages that the PDF does not hold (their text stays).
"""

from __future__ import annotations

from collections.abc import Sequence
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from pypdf import PdfWriter
from pypdf.generic import NameObject, TextStringObject

__all__ = ["cross_page_targets", "destination_name", "resolve_links"]


def destination_name(docname: str, anchor: str = "") -> str:
    """The named destination of ``anchor`` (an element id) on page ``docname``, or of the page's start."""
    return f"/{docname}:{anchor}" if anchor else f"/{docname}"


class _Hrefs(HTMLParser):
    """The ``href`` of every ``<a>`` of a document."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs += [value for name, value in attrs if name == "href" and value]


def _page_and_anchor(href: str, docname: str) -> tuple[str, str] | None:
    """The page (docname) and anchor that ``href``, found on page ``docname``, points to; None for a link
    that leaves the site or points at something other than a page."""
    parts = urlsplit(urljoin(f"http://site/{docname}.html", href))
    if parts.netloc != "site" or not parts.path.endswith(".html"):
        return None
    return parts.path[1 : -len(".html")], unquote(parts.fragment)


def cross_page_targets(html_dir: Path, docnames: Sequence[str]) -> dict[str, set[str]]:
    """For each page of ``docnames`` (built in ``html_dir``), the ids on it that the other pages of
    ``docnames`` link to."""
    targets: dict[str, set[str]] = {name: set() for name in docnames}
    for docname in docnames:
        path = Path(html_dir) / f"{docname}.html"
        if not path.is_file():
            raise ValueError(f"docnames: {docname!r} has no page {path} (build the book again?)")
        parser = _Hrefs()
        parser.feed(path.read_text(encoding="utf-8"))
        for href in parser.hrefs:
            found = _page_and_anchor(href, docname)
            if found and found[0] != docname and found[0] in targets and found[1]:
                targets[found[0]].add(found[1])
    return targets


def resolve_links(writer: PdfWriter, base_url: str) -> tuple[int, int]:
    """Turn each link of ``writer`` to ``base_url`` (the local server the pages were printed from) into a
    link to the named destination of its target (:func:`destination_name`), falling back to the start of
    its page; remove the links whose page is not in the PDF. Returns (links resolved, links removed)."""
    if not base_url.endswith("/"):
        raise ValueError(f"base_url: expected the site's address ending in '/', got {base_url!r}")
    names = set(writer.named_destinations)
    resolved = removed = 0
    for page in writer.pages:
        if "/Annots" not in page:
            continue
        annotations = page["/Annots"].get_object()
        kept = []
        for reference in annotations:
            annotation = reference.get_object()
            action = annotation.get("/A")
            uri = str(action.get("/URI", "")) if action is not None else ""
            if not uri.startswith(base_url):
                kept.append(reference)
                continue
            found = _page_and_anchor(uri[len(base_url) :], "index")
            candidates = [destination_name(*found), destination_name(found[0])] if found else []
            name = next((c for c in candidates if c in names), None)
            if name is None:
                removed += 1
                continue
            del annotation["/A"]
            annotation[NameObject("/Dest")] = TextStringObject(name)
            kept.append(reference)
            resolved += 1
        annotations.clear()
        annotations.extend(kept)
    return resolved, removed
