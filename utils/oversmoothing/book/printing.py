"""Headless Chromium printing the built HTML book to PDF, offline (used by :mod:`~oversmoothing.book.pdf`).

:func:`local_site` serves a build folder on 127.0.0.1; :class:`Printer` opens its pages in Debian's
Chromium (driven by Playwright, never a browser Playwright downloads) and prints each one as a book page:

* every request that would leave 127.0.0.1 is blocked, and :meth:`Printer.close` raises if there was one;
* the saved ipywidgets are rendered (their controls are hidden by the print rules of
  ``book/_static/book.css``, their output figure stays), every image is loaded and MathJax has typeset
  everything; raw TeX left in the text is an error;
* dropdowns (exercise solutions) are opened, and a display or table too wide for the paper is scaled
  down to fit instead of being cut off;
* link targets get named destinations that are unique across the book (``docname:id``), for the links
  within the page and for those from other pages (:mod:`~oversmoothing.book.pdf_links` resolves these);
* the chapter's print title carries its number (``3. Rank collapse ...``), and the printed PDF is tagged,
  so that Chromium writes an outline of its headings.

It needs Playwright and a Chromium binary (``CHROMIUM``, default ``/usr/bin/chromium``; ``make browser``).
"""

from __future__ import annotations

import functools
import html
import http.server
import os
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = ["CHROMIUM", "PAPER", "PrintedPage", "Printer", "local_site"]

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
"""The Chromium binary (Debian's package; ``make browser`` installs it)."""
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)
PAPER = {"format": "A4", "margin": {"top": "18mm", "bottom": "18mm", "left": "15mm", "right": "15mm"}}
"""Paper size and margins of every printed page; the running head and the page number sit in the margins."""
_PRINT_WIDTH_PX = round((210 - 15 - 15) / 25.4 * 96)  # the A4 column between the margins, in CSS px
TIMEOUT_MS = 60_000
"""Longest wait for a page to load, its widgets to render or MathJax to finish."""


@contextmanager
def local_site(directory: Path) -> Iterator[str]:
    """Serve ``directory`` on 127.0.0.1 (a free port) from a background thread; yield its base URL,
    ending in ``/``."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ValueError(f"directory: {directory} is not a folder")

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(directory))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass(frozen=True)
class PrintedPage:
    """One HTML page printed: its title as the table of contents shows it (``3. Rank collapse ...``), the
    PDF (bytes), the number of exercise solutions on the page (``.solution`` boxes) and the printed
    headings in document order, as plain text (one per item of Chromium's outline of the PDF)."""

    title: str
    pdf: bytes
    solutions: int
    headings: tuple[str, ...]


# Resolves once MathJax has typeset everything queued so far, including math queued after startup (widget
# labels chain onto MathJax.startup.promise); true when it settled.
_JS_MATHJAX_SETTLED = """async () => {
    if (!window.MathJax) return true;
    for (let i = 0; i < 200 && !(MathJax.startup && MathJax.startup.promise); i++)
        await new Promise(r => setTimeout(r, 50));
    if (!(MathJax.startup && MathJax.startup.promise)) return false;
    for (let i = 0; i < 100; i++) {
        const p = MathJax.startup.promise;
        await p;
        await new Promise(r => setTimeout(r, 50));
        if (p === MathJax.startup.promise) return true;
    }
    return false;
}"""

# Every saved widget view has been replaced by a rendered widget (or an error box).
JS_WIDGETS_RENDERED = """() => Array.from(
    document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')
).every(s => s.parentElement && s.parentElement.querySelector(".jupyter-widgets, .jupyter-widgets-error-widget"))"""

# Lazy images made eager; resolves when every image has loaded or failed; returns the broken ones (their src,
# or the start of the tag when there is none). The page checks use it too.
JS_LOAD_IMAGES = """async () => {
    const imgs = Array.from(document.images);
    for (const img of imgs) if (img.loading === "lazy") img.loading = "eager";
    await Promise.all(imgs.map(img => img.complete ? null : new Promise(r => {
        img.addEventListener("load", r, {once: true});
        img.addEventListener("error", r, {once: true});
        setTimeout(r, 15000);
    })));
    return imgs.filter(img => !(img.complete && img.naturalWidth > 0))
               .map(img => img.getAttribute("src") || img.outerHTML.slice(0, 200));
}"""

# The page as a book page; returns {title, solutions, headings}. The title is the sidebar's entry for the
# page (it carries the chapter number) or else the page's first heading; headings are the printed headings
# in document order, as plain text (math as its MathML text), for the PDF outline.
_JS_PREPARE = """({origin, key, targets}) => {
    const plain = el => {
        const copy = el.cloneNode(true);
        for (const math of copy.querySelectorAll("mjx-container")) {
            const mml = math.querySelector("mjx-assistive-mml");
            math.replaceWith(mml ? mml.textContent : "");
        }
        for (const link of copy.querySelectorAll(".headerlink")) link.remove();
        return copy.textContent.replace(/\\s+/g, " ").trim();
    };
    const heading = document.querySelector("article.bd-article h1");
    const entry = document.querySelector("nav.bd-links a.current");
    const title = (entry && plain(entry)) || (heading && plain(heading)) || document.title;
    const printTitle = document.querySelector("#jb-print-docs-body h1");
    if (printTitle && entry) printTitle.replaceChildren(...entry.cloneNode(true).childNodes);
    // The print title of the in-page contents is not a section: keep it out of the PDF outline.
    for (const el of document.querySelectorAll("#jb-print-toc h2")) el.setAttribute("role", "none");
    // Dropdowns open (sphinx-togglebutton admonitions, sphinx-design details); hidden code cells stay hidden.
    for (const el of document.querySelectorAll(".admonition.toggle-hidden")) {
        el.classList.remove("toggle-hidden");
        for (const b of el.querySelectorAll("button.toggle-button-hidden")) b.classList.remove("toggle-button-hidden");
    }
    for (const el of document.querySelectorAll("details:not(.hide)")) el.open = true;
    // Link targets get names unique in the whole PDF ("key:id"): an anchor inside the target, and an empty
    // link to it, so that Chromium writes a named destination even when nothing on this page links there.
    const names = new Set();
    const destination = id => {
        const target = document.getElementById(id);
        if (!target) return null;
        const name = key + ":" + id;
        if (!names.has(name)) {
            const span = document.createElement("span");
            span.id = name;
            target.prepend(span);
            names.add(name);
        }
        return name;
    };
    // Links within the page point at those names; links to other pages of the site keep their address
    // (oversmoothing.book.pdf_links turns them into links inside the PDF).
    for (const a of document.querySelectorAll("a[href]")) {
        const url = new URL(a.getAttribute("href"), location.href);
        if (url.origin !== origin || url.pathname !== location.pathname || !url.hash) continue;
        const name = destination(decodeURIComponent(url.hash.slice(1)));
        if (name) a.setAttribute("href", "#" + name);
    }
    for (const id of targets) destination(id);
    const anchors = document.createElement("div");
    for (const name of names) {
        const link = document.createElement("a");
        link.href = "#" + name;
        link.style.fontSize = "0";
        anchors.append(link);
    }
    document.body.append(anchors);
    const headings = Array.from(document.querySelectorAll(
        "#jb-print-docs-body h1, article.bd-article :is(h1, h2, h3, h4, h5, h6)"
    )).filter(h => h.getAttribute("role") !== "none" && h.getClientRects().length > 0).map(plain);
    return {title, solutions: document.querySelectorAll(".solution").length, headings};
}"""

# A box that scrolls sideways on screen (a wide display, table or output) is cut off on paper: scale it down.
_JS_FIT_WIDE_BOXES = """() => {
    let scaled = 0;
    for (const el of document.querySelectorAll("article.bd-article *")) {
        const style = getComputedStyle(el);
        if (!["auto", "scroll"].includes(style.overflowX) || el.clientWidth === 0) continue;
        if (el.scrollWidth > el.clientWidth + 1) {
            el.style.zoom = String(el.clientWidth / el.scrollWidth);
            scaled++;
        }
    }
    return scaled;
}"""

# The text of a page outside the elements that the CSS selector ``skip`` matches (evaluate with the selector).
JS_PROSE_TEXT = """(skip) => {
    const out = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {
        acceptNode(node) {
            const el = node.parentElement;
            return el && el.closest(skip) ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT;
        }
    });
    while (walker.nextNode()) out.push(walker.currentNode.nodeValue);
    return out.join(" ");
}"""
# Code, scripts and typeset math: where raw TeX would not mean that MathJax missed something.
NOT_PROSE = "pre, code, kbd, samp, script, style, textarea, noscript, template, mjx-container, .highlight, .sig"
_RAW_TEX = re.compile(r"\\\(|\\\[|\$\$|\\begin\{|\\frac\b")


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("data", "blob", "about") or parts.hostname == "127.0.0.1"


def _template(text: str, size_px: int = 8) -> str:
    """A header or footer template of Chromium's printing: ``text`` (HTML) centred, small and grey."""
    return (
        f'<div style="width:100%;text-align:center;font-size:{size_px}px;color:#555;'
        f'font-family:sans-serif;">{text}</div>'
    )


class Printer:
    """Debian's headless Chromium, printing pages of a local site to PDF; a context manager.

    ``Printer().print_page(url, key)`` prints one page of the book (see the module's docstring);
    ``print_html(html)`` prints a document given as a string (front matter, page numbers)."""

    def __init__(self, chromium: str = CHROMIUM) -> None:
        if not isinstance(chromium, str | os.PathLike):
            raise TypeError(f"chromium: expected a path, got {type(chromium).__name__}")
        if not os.access(chromium, os.X_OK):
            raise ValueError(f"chromium: {chromium} is not an executable: run `make browser` or set CHROMIUM")
        from playwright.sync_api import sync_playwright

        self.blocked: list[str] = []
        self._playwright = sync_playwright().start()
        try:
            self._browser = self._playwright.chromium.launch(
                executable_path=str(chromium), headless=True, args=list(CHROMIUM_ARGS)
            )
            self._context = self._browser.new_context(
                service_workers="block", viewport={"width": _PRINT_WIDTH_PX, "height": 1000}
            )
            self._context.route("**/*", self._route)
        except BaseException:
            self._playwright.stop()
            raise

    def _route(self, route: Any) -> None:
        if _is_local(route.request.url):
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort("blockedbyclient")

    def __enter__(self) -> Printer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close(check=exc_info[0] is None)

    def close(self, check: bool = True) -> None:
        """Close the browser; with ``check``, raise ``RuntimeError`` if any request left 127.0.0.1."""
        self._browser.close()
        self._playwright.stop()
        if check and self.blocked:
            raise RuntimeError(
                f"{len(self.blocked)} request(s) would have left 127.0.0.1 (blocked): {self.blocked[:5]}"
            )

    def print_page(self, url: str, key: str, targets: Iterable[str] = ()) -> PrintedPage:
        """Open ``url`` (a page of a :func:`local_site`), wait until it is complete, and print it as a book
        page, with its title as the running head of every sheet.

        ``key`` names the page in the PDF (its docname): each link target on it becomes the named
        destination ``key:id``, those its own links use and those in ``targets`` (ids that other pages
        link to), so that the merged PDF can link to them.

        Raises ``RuntimeError`` when an image is broken, the widgets or MathJax do not finish, or raw TeX
        is left in the text."""
        if not _is_local(url):
            raise ValueError(f"url: {url!r} is not served on 127.0.0.1 (use local_site)")
        if not isinstance(key, str) or not key:
            raise ValueError(f"key: expected the page's docname, got {key!r}")
        targets = sorted(targets)
        page = self._context.new_page()
        try:
            page.emulate_media(media="print")
            page.goto(url, wait_until="load", timeout=TIMEOUT_MS)
            if page.locator('script[type="application/vnd.jupyter.widget-state+json"]').count():
                page.wait_for_function(JS_WIDGETS_RENDERED, timeout=TIMEOUT_MS)
            broken = page.evaluate(JS_LOAD_IMAGES)
            if broken:
                raise RuntimeError(f"{url}: broken image(s) {broken[:5]}")
            if not page.evaluate(_JS_MATHJAX_SETTLED):
                raise RuntimeError(f"{url}: MathJax did not finish typesetting")
            text = re.sub(r"\s+", " ", page.evaluate(JS_PROSE_TEXT, NOT_PROSE))
            raw = [text[max(0, m.start() - 60) : m.end() + 60] for m in _RAW_TEX.finditer(text)]
            if raw:
                raise RuntimeError(f"{url}: raw TeX left after MathJax ran: ...{raw[0]}... ({len(raw)} in all)")
            origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
            found = page.evaluate(_JS_PREPARE, {"origin": origin, "key": key, "targets": targets})
            page.evaluate(_JS_FIT_WIDE_BOXES)
            pdf = page.pdf(
                **PAPER,
                print_background=True,
                tagged=True,
                outline=True,
                display_header_footer=True,
                header_template=_template(html.escape(found["title"])),
                footer_template=_template(""),
            )
        finally:
            page.close()
        return PrintedPage(found["title"], pdf, int(found["solutions"]), tuple(found["headings"]))

    def print_html(self, document: str, footer: str = "") -> bytes:
        """Print the HTML ``document`` on the book's paper, with ``footer`` (a Chromium footer template
        body: ``<span class="pageNumber"></span>`` is the page number) at the bottom of every sheet."""
        if not isinstance(document, str) or not isinstance(footer, str):
            raise TypeError("document, footer: expected strings")
        page = self._context.new_page()
        try:
            page.set_content(document, wait_until="load", timeout=TIMEOUT_MS)
            return page.pdf(
                **PAPER,
                print_background=True,
                display_header_footer=True,
                header_template=_template(""),
                footer_template=_template(footer, size_px=9),
            )
        finally:
            page.close()
