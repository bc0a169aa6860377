"""Checks of the built HTML book in headless Chromium, with no internet (run after `make book`).

Every page built from the table of contents is opened from a local `http.server` in Debian's Chromium
(driven by Playwright, never a browser Playwright downloads). Any request to a host other than 127.0.0.1
is blocked and reported as a failure: this is what shows that the pages render offline (MathJax, the
ipywidgets manager and require.js are served from `_static/`, see scripts/vendor_js.sh). Per page:

* no request leaves 127.0.0.1, and no local file is missing (HTTP 4xx/5xx);
* MathJax finishes, and no raw TeX (``\\(``, ``\\[``, ``$$``, ``\\begin{``) is left in the text, nor a TeX
  error (``mjx-merror``) or an undefined macro;
* no Python traceback, stderr output, Sphinx ``system-message``/``problematic`` or widget error is shown
  (except inside cells tagged ``raises-exception``);
* every ``<img>`` loaded;
* pages with saved widget state show rendered widgets;
* no raw MyST or TeX left in the prose: a ``$``, ``\\frac``-like macro, or a role such as ``{eq}``;
* at 1,400 px and at 400 px, nothing is wider than the article's column unless it sits in a box that
  scrolls sideways (wide displays scroll in their own box, see book/_static/book.css), and the page itself
  never scrolls sideways;
* no figure is shown at less than 0.6 of its width in pixels, which would make its text unreadably small;
* no uncaught JavaScript error at all.

One more test opens a chapter and checks the book's furniture: typeset math, a sphinx-proof box, a
figure, and an exercise solution that stays hidden until its toggle is clicked.

Run with ``pytest -m html`` (``make html-check``). ``BOOK_HTML_DIR`` points at another build
(default ``<repo>/_build/html``); ``CHROMIUM`` at another Chromium binary (default /usr/bin/chromium).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import ROOT
from oversmoothing.book.printing import CHROMIUM, JS_LOAD_IMAGES, JS_PROSE_TEXT, JS_WIDGETS_RENDERED, NOT_PROSE
from oversmoothing.book.printing import CHROMIUM_ARGS as BROWSER_ARGS

pytestmark = pytest.mark.html

HTML_DIR = Path(os.environ.get("BOOK_HTML_DIR") or ROOT / "_build" / "html").resolve()
CHROMIUM_ARGS = ["--headless", *BROWSER_ARGS]  # the PDF edition's flags (no network services, no GPU)
NOT_BUILT = f"{HTML_DIR / 'index.html'} does not exist: run `make book` first (or set BOOK_HTML_DIR)"

# Folders and pages of the build that are not pages of the book.
EXCLUDED_DIRS = {"_static", "_sources", "_images", "_modules", "_downloads", "reports", "jupyter_execute"}
EXCLUDED_PAGES = {"genindex.html", "search.html", "py-modindex.html"}

WIDTHS = (1400, 400)       # px: a laptop and a phone; the page checks run at both
MIN_IMAGE_SCALE = 0.6      # a figure shown narrower than this share of its pixels has text below ~8 px
TIMEOUT_MS = 30_000  # MathJax or the widgets not done after this: something did not load


def _pages() -> list[str]:
    if not (HTML_DIR / "index.html").is_file():
        return ["index.html"]  # the test then fails with NOT_BUILT
    pages = []
    for path in HTML_DIR.rglob("*.html"):
        rel = path.relative_to(HTML_DIR)
        if rel.parts[0] in EXCLUDED_DIRS or rel.parts[0].startswith(".") or rel.name in EXCLUDED_PAGES:
            continue
        pages.append(rel.as_posix())
    return sorted(pages)


PAGES = _pages()


def _redirect_target(page: str) -> str | None:
    """The page a redirect stub (Jupyter Book's root index.html) sends the reader to, else None."""
    text = (HTML_DIR / page).read_text(encoding="utf-8", errors="replace")[:2000]
    m = re.search(r'<meta\s+http-equiv="refresh"\s+content="\d+;\s*url=([^"]+)"', text, re.IGNORECASE)
    return m.group(1) if m else None


# --------------------------------------------------------------------------------------------- fixtures


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def site():
    """Base URL of `python -m http.server` serving the build on 127.0.0.1, or None if nothing is built."""
    if not (HTML_DIR / "index.html").is_file():
        yield None
        return
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(HTML_DIR), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via an http_proxy
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with opener.open(base + "index.html", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"http.server on port {port} did not start (exit code {proc.poll()})")
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def browser(site):
    """Debian's headless Chromium through Playwright (None if nothing is built)."""
    if site is None:
        yield None
        return
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} not found: run `make browser` (apt-get install -y chromium) or set CHROMIUM")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


# ---------------------------------------------------------------------------------------------- helpers


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about", "javascript"):
        return True
    return parts.hostname == "127.0.0.1"


@dataclass
class Visit:
    """An open page and what happened while it loaded."""

    page: object
    context: object
    external: list[str] = field(default_factory=list)
    http_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def close(self) -> None:
        self.context.close()


def _open(browser, url: str) -> Visit:
    """Open url in a fresh context where every non-loopback request is recorded and aborted."""
    context = browser.new_context(service_workers="block", viewport={"width": WIDTHS[0], "height": 900})
    visit = Visit(page=None, context=context)

    def route(route):
        req_url = route.request.url
        if _is_local(req_url):
            route.continue_()
        else:
            visit.external.append(req_url)
            route.abort("blockedbyclient")

    def route_ws(ws):
        if not _is_local(ws.url):
            visit.external.append(ws.url)
        ws.close()

    context.route("**/*", route)
    context.route_web_socket(re.compile(".*"), route_ws)
    page = context.new_page()
    visit.page = page
    page.on("pageerror", lambda err: visit.page_errors.append(str(err)))

    def on_response(resp):
        if resp.status >= 400 and _is_local(resp.url) and not resp.url.endswith("/favicon.ico"):
            visit.http_errors.append(f"{resp.status} {resp.url}")

    def on_failed(req):
        if _is_local(req.url) and not req.url.endswith("/favicon.ico"):
            visit.failed.append(f"{req.failure} {req.url}")

    page.on("response", on_response)
    page.on("requestfailed", on_failed)
    page.goto(url, wait_until="load", timeout=TIMEOUT_MS)
    return visit


# Resolves once MathJax has typeset everything queued so far (also math queued after startup, e.g. widget
# labels, which chain onto MathJax.startup.promise; see html-manager/offline.js in scripts/vendor_js.sh).
_JS_MATHJAX_SETTLED = """async () => {
    for (let i = 0; i < 100; i++) {
        const p = window.MathJax.startup.promise;
        await p;
        await new Promise(r => setTimeout(r, 50));
        if (p === window.MathJax.startup.promise) return true;
    }
    return false;
}"""

_NOT_PROSE = NOT_PROSE + ", .cell_input"  # what a reader does not see as prose
# A $$...$$ pair counts once; a lone delimiter counts too; so do TeX macros and MyST roles left as text.
_RAW_TEX = re.compile(
    r"\$\$.{0,200}?\$\$|\$[^$]{0,80}?\$|\\\(|\\\[|\$|\\begin\{|\\(?:frac|mathrm|lambda|lvert|sum)\b"
    r"|\{(?:eq|numref|ref|doc|term|prf:ref|cite(?::[tp])?|glue(?::text|:md)?)\}`",
    re.DOTALL,
)

# Elements that show an error. Cells tagged raises-exception may show one on purpose.
_ERROR_SELECTORS = [
    ".output.traceback",
    ".output.error",
    ".output.stderr",
    ".cell_output .stderr",
    ".system-message",
    ".problematic",
    ".jupyter-widgets-error-widget",
    "mjx-merror",
]
_JS_ERROR_ELEMENTS = """(selectors) => {
    const found = [];
    for (const sel of selectors) {
        for (const el of document.querySelectorAll(sel)) {
            if (el.closest(".tag_raises-exception")) continue;
            found.push(sel + ": " + (el.textContent || "").trim().replace(/\\s+/g, " ").slice(0, 300));
        }
    }
    return found;
}"""

# MathJax's noundefined extension shows an unknown \\macro as red text (MathML mtext mathcolor="red").
_JS_UNDEFINED_MACROS = """() => Array.from(document.querySelectorAll('mjx-assistive-mml mtext[mathcolor="red"]'))
    .map(el => el.textContent).filter(t => t.startsWith("\\\\"))"""

# Elements wider than the article's column that no sideways-scrolling box contains (a box that clips hides them), and
# whether the page itself scrolls sideways.
_JS_TOO_WIDE = """() => {
    const root = document.querySelector("article.bd-article") || document.querySelector("main") || document.body;
    const limit = root.getBoundingClientRect().right + 2;
    const contained = el => {
        for (let p = el.parentElement; p && p !== root; p = p.parentElement) {
            if (["auto", "scroll"].includes(getComputedStyle(p).overflowX)) return true;
        }
        return false;
    };
    const wide = [];
    for (const el of root.querySelectorAll("*")) {
        if (el.closest("mjx-assistive-mml, script, style, .visually-hidden")) continue;
        const box = el.getBoundingClientRect();
        if (box.width === 0 || box.right <= limit || contained(el)) continue;
        const label = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
            (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\\s+/).join(".") : "");
        wide.push(`${label} reaches ${Math.round(box.right)} px, the column ends at ${Math.round(limit)} px: ` +
                  (el.textContent || el.getAttribute("src") || "").trim().replace(/\\s+/g, " ").slice(0, 80));
        if (wide.length >= 3) break;
    }
    const page = document.documentElement.scrollWidth > window.innerWidth + 2
        ? [`the page scrolls sideways: ${document.documentElement.scrollWidth} px in a ${window.innerWidth} px window`] : [];
    return page.concat(wide);
}"""

# Figures shown much narrower than their pixels (their text then shrinks below a readable size).
_JS_SHRUNK_IMAGES = """(minimum) => Array.from(document.querySelectorAll("article img"))
    .filter(img => img.naturalWidth > 0 && img.getBoundingClientRect().width > 0
                   && img.getBoundingClientRect().width / img.naturalWidth < minimum)
    .map(img => `${img.getAttribute("src").slice(0, 80)} at ${Math.round(100 * img.getBoundingClientRect().width
                  / img.naturalWidth)} % of its ${img.naturalWidth} px`)"""


def _layout_problems(visit: Visit) -> list[str]:
    """What is too wide or shrunk too far at each width of WIDTHS (the page is left at the first width)."""
    page, problems = visit.page, []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(100)  # one layout pass
        problems += [f"at {width} px: {p}" for p in page.evaluate(_JS_TOO_WIDE)]
        if width == WIDTHS[0]:
            problems += [f"figure shrunk: {p}" for p in page.evaluate(_JS_SHRUNK_IMAGES, MIN_IMAGE_SCALE)]
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})
    return problems


def _context(text: str, match: re.Match, width: int = 60) -> str:
    return text[max(0, match.start() - width) : match.end() + width]


def _settle(visit: Visit) -> list[str]:
    """Wait until the widgets are rendered and MathJax is done; return what did not happen."""
    page = visit.page
    problems: list[str] = []

    mathjax_src = page.evaluate("() => document.querySelector('script[src*=\"tex-mml-chtml\"]')?.src ?? null")
    has_mathjax = mathjax_src is not None
    has_widgets = page.evaluate(
        "() => !!document.querySelector('script[type=\"application/vnd.jupyter.widget-state+json\"]')"
    )
    manager_src = page.evaluate("() => document.querySelector('script[src*=\"embed-amd\"]')?.src ?? null")
    # Scripts from elsewhere were blocked: say so at once instead of waiting for what cannot come.
    if has_mathjax and not _is_local(mathjax_src):
        problems.append(f"MathJax is not served by the book: {mathjax_src}")
        has_mathjax = False
    if has_widgets and (manager_src is None or not _is_local(manager_src)):
        problems.append(f"the ipywidgets manager (embed-amd.js) is not served by the book: {manager_src}")
        has_widgets = False

    if has_widgets:
        try:
            page.wait_for_function(JS_WIDGETS_RENDERED, timeout=TIMEOUT_MS)
        except Exception:
            problems.append("saved widget state, but the widgets were not rendered (manager not loaded?)")
        if page.locator(".jupyter-widgets").count() == 0:
            problems.append("saved widget state, but no rendered widget element (.jupyter-widgets)")

    if has_mathjax:
        try:
            page.wait_for_function(
                "() => window.MathJax && window.MathJax.startup && window.MathJax.startup.promise",
                timeout=TIMEOUT_MS,
            )
            if not page.evaluate(_JS_MATHJAX_SETTLED):
                problems.append("MathJax kept typesetting")
        except Exception as exc:  # noqa: BLE001 - reported as a failure of the page
            problems.append(f"MathJax did not load or finish: {str(exc).splitlines()[0]}")
    return problems


def _check_page(visit: Visit) -> list[str]:
    """Wait for MathJax and the widgets, then return every problem found on the page."""
    page = visit.page
    problems = _settle(visit)

    text = re.sub(r"\s+", " ", page.evaluate(JS_PROSE_TEXT, _NOT_PROSE))
    for m in list(_RAW_TEX.finditer(text))[:5]:
        problems.append(f"unrendered TeX {m.group(0)!r}: ...{_context(text, m)}...")

    shown = page.evaluate(JS_PROSE_TEXT, "script, style, .cell_input, .tag_raises-exception")
    all_text = re.sub(r"\s+", " ", shown)
    for m in list(re.finditer(r"Traceback \(most recent call last\)", all_text))[:3]:
        problems.append(f"Python traceback on the page: ...{_context(all_text, m, 100)}...")
    problems += [f"error shown: {e}" for e in page.evaluate(_JS_ERROR_ELEMENTS, _ERROR_SELECTORS)]
    problems += [f"undefined TeX macro: {m}" for m in page.evaluate(_JS_UNDEFINED_MACROS)]

    problems += [f"broken image: {src}" for src in page.evaluate(JS_LOAD_IMAGES)]

    problems += [f"request left 127.0.0.1 (blocked): {u}" for u in visit.external]
    problems += [f"missing local file: {e}" for e in visit.http_errors]
    http_error_urls = {e.split(" ", 1)[1] for e in visit.http_errors}
    problems += [f"local request failed: {e}" for e in visit.failed if e.rsplit(" ", 1)[1] not in http_error_urls]
    problems += [f"JavaScript error: {e}" for e in visit.page_errors]
    problems += _layout_problems(visit)
    return problems


# ------------------------------------------------------------------------------------------------ tests


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_offline(page, site, browser):
    if site is None:
        pytest.fail(NOT_BUILT)
    target = _redirect_target(page)
    if target is not None:  # Jupyter Book's root index.html only redirects to the first page
        resolved = (HTML_DIR / page).parent / target.split("#")[0]
        assert resolved.is_file(), f"{page} redirects to {target}, which does not exist"
        return
    visit = _open(browser, site + page)
    try:
        problems = _check_page(visit)
    finally:
        visit.close()
    assert not problems, f"{page}:\n  " + "\n  ".join(problems)


def test_chapter_furniture(site, browser):
    """A chapter shows typeset math, a sphinx-proof box, a figure and a solution hidden until clicked."""
    if site is None:
        pytest.fail(NOT_BUILT)
    chapters = [p for p in PAGES if p.startswith("chapters/")]
    assert chapters, f"no page under chapters/ in {HTML_DIR}"
    page_name = chapters[0]
    visit = _open(browser, site + page_name)
    try:
        problems = _settle(visit)
        page = visit.page
        if page.locator("mjx-container").count() == 0:
            problems.append("no typeset math (mjx-container)")
        if page.locator(".proof").count() == 0:
            problems.append("no theorem/definition box from sphinx-proof (.proof)")
        figures = page.evaluate(
            """() => Array.from(document.querySelectorAll('img[src*="_images/"]'))
                        .filter(img => img.complete && img.naturalWidth > 0).length"""
        )
        if figures == 0:
            problems.append("no figure image (img from _images/ that loaded)")

        solutions = page.locator(".solution.dropdown")
        if solutions.count() == 0:
            problems.append("no exercise solution in a dropdown (.solution.dropdown)")
        else:
            solution = solutions.first
            # sphinx-togglebutton hides everything below the title until the toggle button is clicked.
            body = solution.locator(":scope > :not(.admonition-title)").first
            if body.count() == 0:
                problems.append("the solution dropdown has no content")
            else:
                solution.scroll_into_view_if_needed()
                if body.is_visible():
                    problems.append("the solution is visible before its toggle is clicked")
                toggle = solution.locator(".toggle-button")
                if toggle.count() == 0:
                    problems.append("the solution has no toggle button (sphinx-togglebutton did not run)")
                else:
                    toggle.first.click()
                    try:
                        body.wait_for(state="visible", timeout=5_000)
                    except Exception:  # noqa: BLE001
                        problems.append("the solution is still hidden after clicking its toggle")
    finally:
        visit.close()
    assert not problems, f"{page_name}:\n  " + "\n  ".join(problems)


def _explorer_pages() -> list[str]:
    """The built pages with a pre-rendered explorer (none before the book is built)."""
    return [page for page in PAGES
            if (HTML_DIR / page).is_file() and "data-static-explorer" in (HTML_DIR / page).read_text(encoding="utf-8")]


_JS_EXPLORERS = """() => Array.from(document.querySelectorAll('[data-static-explorer]')).map(root => ({
    src: root.querySelector('img.static-explorer-image').src,
    label: root.querySelector('output.static-explorer-label').textContent,
    controls: Array.from(root.querySelectorAll('[data-control]')).map(c => c.tagName.toLowerCase()),
}))"""


@pytest.mark.parametrize("page", _explorer_pages() or ["(no page has a static explorer)"])
def test_static_explorers_move_without_a_kernel(page, site, browser):
    """Offline and with no kernel, every control of every pre-rendered explorer changes the image and its label
    (driven from the keyboard: Tab to the control, then an arrow key, as a reader without a mouse would)."""
    if site is None:
        pytest.fail(NOT_BUILT)
    assert page in PAGES, "no page of the book has a static explorer (oversmoothing.plotting.static_explorer)"
    visit = _open(browser, site + page)
    try:
        explorers = visit.page.evaluate(_JS_EXPLORERS)
        assert explorers, f"{page}: no explorer found"
        for index, explorer in enumerate(explorers):
            for position, kind in enumerate(explorer["controls"]):
                before = visit.page.evaluate(_JS_EXPLORERS)[index]
                control = visit.page.locator("[data-static-explorer]").nth(index).locator("[data-control]").nth(position)
                control.focus()
                at_start = control.evaluate("c => c.tagName === 'SELECT' ? c.selectedIndex === 0 : c.value === c.min")
                forward, back = ("ArrowDown", "ArrowUp") if kind == "select" else ("ArrowRight", "ArrowLeft")
                visit.page.keyboard.press(forward if at_start else back)
                after = visit.page.evaluate(_JS_EXPLORERS)[index]
                where = f"{page}: explorer {index + 1}, control {position + 1} ({kind})"
                assert after["src"] != before["src"], f"{where}: the image did not change"
                assert after["label"] != before["label"], f"{where}: the label did not change"
        assert not visit.external, f"{page}: requests left the machine: {visit.external}"
        assert not visit.page_errors, f"{page}: JavaScript errors: {visit.page_errors}"
        visit.page.emulate_media(media="print")   # on paper (make pdf): the figure without its controls
        shown = visit.page.evaluate(_JS_PRINTED_EXPLORER)
        assert shown == {"controls": 0, "images": len(explorers)}, f"{page}: printed explorer parts {shown}"
    finally:
        visit.close()


_JS_PRINTED_EXPLORER = """() => {
    const visible = selector => Array.from(document.querySelectorAll(selector))
        .filter(el => getComputedStyle(el).display !== 'none' && el.getClientRects().length > 0).length;
    return {controls: visible('.static-explorer-controls, .jupyter-widgets.widget-slider, .jupyter-widgets.widget-dropdown'),
            images: visible('img.static-explorer-image')};
}"""
