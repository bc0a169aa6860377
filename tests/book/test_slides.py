"""The lecture decks (``make slides``, :mod:`oversmoothing.book.slides`).

Fast tests: the tag mapping, the cells a deck takes from a tiny chapter and the tags it refuses, the HTML it
writes (no address off the deck's folder), and the tags of every chapter of the course plans (checked against
the chapters' own code, without outputs).

One page check (marked ``html``, after ``make book``): the deck of lecture 1 is built from the executed notebooks
(``BOOK_EXECUTED_DIR``, default ``_build/jupyter_execute``), opened from disk in headless Chromium with every
request that is not a ``file:`` URL blocked, and checked: reveal.js ready, one slide per ``slide``/``subslide``
cell, math typeset by MathJax (no raw ``$`` or ``\\(`` left), every image loaded, no console error, no request
off the machine.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest

from conftest import MYST_HEADER, ROOT
from oversmoothing.book import slides
from oversmoothing.book.colab import Book, load_book
from oversmoothing.book.lectures import MODULE, WORKSHOP
from oversmoothing.book.notebooks import output_free_notebook

EXECUTED_DIR = Path(os.environ.get("BOOK_EXECUTED_DIR") or ROOT / "_build" / "jupyter_execute").resolve()
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
EMPTY_BOOK = Book("https://example.github.io/book/", {}, {}, {}, {})

TINY = MYST_HEADER + """
# Tiny

An untagged paragraph.

+++ {"tags": ["slide"]}

```{prf:theorem} Small
:label: thm-small

$x^\\top y = 0$.
```

+++

More prose, not in the deck.

```{code-cell} ipython3
---
tags: [hide-input, fragment]
mystnb:
  figure:
    caption: |
      A caption.
---
print("shown")
```

```{code-cell} ipython3
print("not in the deck")
```
"""


def _executed(text: str, outputs: dict[int, list] | None = None) -> nbformat.NotebookNode:
    """The notebook of ``text`` with the given outputs (by code cell number), as the book build writes it."""
    notebook = output_free_notebook(text)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    for number, cell_outputs in (outputs or {}).items():
        code[number].outputs = cell_outputs
    return notebook


def _stream(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("stream", name="stdout", text=text)


def _cell(tags: list | object) -> nbformat.NotebookNode:
    return nbformat.from_dict({"cell_type": "markdown", "source": "x", "metadata": {"tags": tags}})


# ------------------------------------------------------------------------------------------------ unit tests


@pytest.mark.parametrize(("tags", "expected"), [
    (["slide"], "slide"), (["subslide"], "subslide"), (["fragment", "hide-input"], "fragment"),
    (["slide-continue"], "-"), ([], None), (["hide-input"], None),
])
def test_slide_type_maps_the_tags(tags, expected):
    assert slides.slide_type(_cell(tags)) == expected


def test_slide_type_rejects_bad_input():
    with pytest.raises(ValueError, match="one slide tag"):
        slides.slide_type(_cell(["slide", "fragment"]))
    with pytest.raises(TypeError, match="tags"):
        slides.slide_type(_cell("slide"))
    with pytest.raises(TypeError, match="cell"):
        slides.slide_type({"source": "x"})


def test_chapter_cells_takes_the_tagged_cells_with_outputs_and_caption():
    cells, unresolved = slides.chapter_cells(TINY, "chapters/tiny", _executed(TINY, {0: [_stream("shown\n")]}),
                                             EMPTY_BOOK)
    assert unresolved == []
    assert [(cell.cell_type, cell.metadata["slideshow"]["slide_type"]) for cell in cells] == [
        ("markdown", "slide"), ("code", "fragment"), ("markdown", "-")]
    assert cells[0].source.startswith("> **Theorem (Small).**") and "$x^\\top y = 0$" in cells[0].source
    assert "More prose" not in cells[0].source
    assert cells[1].outputs[0].text == "shown\n" and "hide-input" in cells[1].metadata["tags"]
    assert "A caption." in cells[2].source


@pytest.mark.parametrize(("text", "message"), [
    (TINY.replace('+++ {"tags": ["slide"]}', '+++ {"tags": ["fragment"]}'), "first deck cell must be tagged 'slide'"),
    (TINY.replace("tags: [hide-input, fragment]", "tags: [remove-cell, fragment]"), "remove-cell"),
    (TINY.replace("$x^\\top y = 0$.", "{glue:text}`value`"), "glued value"),
    (TINY.replace("```{prf:theorem} Small\n:label: thm-small", "```{exercise-start} Small\n:label: ex-small")
         .replace("$x^\\top y = 0$.\n```", "$x^\\top y = 0$.\n```\n\n```{exercise-end}\n```"), "inside an exercise"),
])
def test_chapter_cells_refuses_tags_a_deck_cannot_show(text, message):
    with pytest.raises(ValueError, match=message):
        slides.chapter_cells(text, "chapters/tiny", _executed(text), EMPTY_BOOK)


def test_a_tag_after_a_gated_exercise_is_refused_until_the_solution_ends():
    text = MYST_HEADER + """
```{exercise-start} E
:label: ex-e
```

Do it.

```{exercise-end}
```

```{solution-start} ex-e
```

```{code-cell} ipython3
:tags: [slide]

print(1)
```

```{solution-end}
```
"""
    notebook = output_free_notebook(text)
    inside = slides.exercise_cells(notebook.cells)
    assert inside == set(range(len(notebook.cells)))
    with pytest.raises(ValueError, match="inside an exercise"):
        slides.chapter_cells(text, "chapters/tiny", _executed(text), EMPTY_BOOK)


def test_chapter_cells_refuses_a_stale_build_and_a_widget():
    stale = TINY.replace('print("shown")', 'print("changed")')
    with pytest.raises(ValueError, match="make book"):
        slides.chapter_cells(stale, "chapters/tiny", _executed(TINY), EMPTY_BOOK)
    fewer = TINY.replace('```{code-cell} ipython3\nprint("not in the deck")\n```', "")
    with pytest.raises(ValueError, match="out of date"):
        slides.chapter_cells(TINY, "chapters/tiny", _executed(fewer), EMPTY_BOOK)
    widget = nbformat.v4.new_output("display_data", data={"application/vnd.jupyter.widget-view+json": {},
                                                          "text/plain": "w"})
    with pytest.raises(ValueError, match="widget"):
        slides.chapter_cells(TINY, "chapters/tiny", _executed(TINY, {0: [widget]}), EMPTY_BOOK)
    with pytest.raises(TypeError, match="executed"):
        slides.chapter_cells(TINY, "chapters/tiny", {"cells": []}, EMPTY_BOOK)


def test_render_deck_loads_nothing_from_the_network_and_hides_hidden_input():
    cells, _ = slides.chapter_cells(TINY, "chapters/tiny", _executed(TINY, {0: [_stream("shown\n")]}), EMPTY_BOOK)
    html = slides.render_deck(nbformat.v4.new_notebook(cells=cells, metadata={"title": "Tiny"}))
    loaded = re.findall(r"<(?:script|link|img)\b[^>]*?(?:src|href)=\"([^\"]+)\"", html)
    assert "vendor/reveal.js/dist/reveal.js" in loaded and "vendor/mathjax/tex-mml-chtml.js" in loaded
    assert [url for url in loaded if re.match(r"[a-z]+:", url) and not url.startswith("data:")] == []
    assert "import mermaid" not in html and "MathJax.Hub" not in html
    assert "shown" in html and 'print("shown")' not in html  # hide-input: the output without the code
    assert html.count('class="fragment"') == 1
    with pytest.raises(ValueError, match="vendor_url"):
        slides.render_deck(nbformat.v4.new_notebook(), vendor_url="https://cdn.example/")


def test_deck_file_name_and_plans_validate():
    assert slides.deck_file_name("lecture", MODULE[2]) == "lecture-3.html"
    with pytest.raises(ValueError, match="prefix"):
        slides.deck_file_name("course", MODULE[0])
    with pytest.raises(ValueError, match="plans"):
        slides.write_decks(Path("/nonexistent"), ROOT / "chapters", EXECUTED_DIR, ROOT / "book" / "vendor",
                           EMPTY_BOOK, plans=("course",))


@pytest.fixture(scope="module")
def book() -> Book:
    return load_book(ROOT)


@pytest.mark.parametrize("stem", sorted({stem for plan in (MODULE, WORKSHOP) for lecture in plan
                                         for stem in lecture.chapters}))
def test_every_chapter_of_a_lecture_has_valid_slide_tags(stem, book):
    text = (ROOT / "chapters" / f"{stem}.md").read_text(encoding="utf-8")
    cells, unresolved = slides.chapter_cells(text, f"chapters/{stem}", output_free_notebook(text), book)
    assert cells, f"chapters/{stem}.md has no cell tagged for slides"
    assert unresolved == []


# -------------------------------------------------------------------------------------------- page check


@pytest.mark.html
def test_lecture_deck_renders_offline_in_chromium(tmp_path, book):
    if not (EXECUTED_DIR / "chapters").is_dir():
        pytest.fail(f"{EXECUTED_DIR / 'chapters'} does not exist: run `make book` first (or set BOOK_EXECUTED_DIR)")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} not found: run `make browser` (apt-get install -y chromium) or set CHROMIUM")
    from playwright.sync_api import sync_playwright

    from test_html import CHROMIUM_ARGS

    (deck,), _ = slides.write_decks(tmp_path, ROOT / "chapters", EXECUTED_DIR, ROOT / "book" / "vendor", book,
                                    plans=("lecture",), numbers=(1,))
    notebook, _ = slides.lecture_notebook("lecture", MODULE[0], ROOT / "chapters", EXECUTED_DIR, book)
    expected = sum(cell.metadata["slideshow"]["slide_type"] in ("slide", "subslide") for cell in notebook.cells)
    external, errors, failed = [], [], []
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = chromium.new_context(service_workers="block", viewport={"width": 1280, "height": 800})
            context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(("file:", "data:"))
                          else (external.append(route.request.url), route.abort("blockedbyclient")))
            page = context.new_page()
            page.on("pageerror", lambda err: errors.append(str(err)))
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.on("requestfailed", lambda req: failed.append(f"{req.failure} {req.url}"))
            page.goto(deck.as_uri(), wait_until="load", timeout=30_000)
            page.wait_for_function("() => window.Reveal && Reveal.isReady() && window.MathJax && MathJax.startup"
                                   " && MathJax.startup.document", timeout=30_000)
            page.evaluate("() => MathJax.startup.promise")
            total = page.evaluate("() => Reveal.getTotalSlides()")
            typeset = page.evaluate("() => document.querySelectorAll('mjx-container').length")
            merrors = page.evaluate("() => document.querySelectorAll('mjx-merror').length")
            prose = page.evaluate("""() => {
                // code and its input; a Markdown cell is rendered in a .jp-InputArea too, so only code cells' are skipped
                const skip = 'pre, code, script, style, mjx-container, .jp-CodeCell .jp-InputArea';
                const out = [];
                const walker = document.createTreeWalker(document.querySelector('.slides'), NodeFilter.SHOW_TEXT,
                    {acceptNode: n => n.parentElement.closest(skip) ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
                while (walker.nextNode()) out.push(walker.currentNode.nodeValue);
                return out.join(' ');
            }""")
            images = page.evaluate("() => [...document.images].map(i => [i.complete && i.naturalWidth > 0, i.alt])")
        finally:
            chromium.close()
    assert external == [], f"requests left the machine: {external}"
    assert failed == [] and errors == [], f"failed requests {failed}, console errors {errors}"
    assert total == expected, f"reveal.js shows {total} slides, the tags give {expected}"
    assert typeset > 10 and merrors == 0
    raw = [match.group(0) for match in re.finditer(r"\$|\\\(|\\\[|\\begin\{", prose)]
    assert raw == [], f"raw TeX left in the slides: {raw[:5]}"
    assert images and all(ok for ok, _ in images), f"images that did not load: {images}"
