"""The PDF edition (oversmoothing.book.pdf, ``make pdf``) on one chapter and the front matter: printed by
headless Chromium from the built HTML, then read back with poppler (``pdftotext``, ``pdftoppm``).

The tests marked ``html`` print: the instructor PDF from the main build (``_build/html``, run ``make book``
first), the student PDF from the student build (``_build/student_src/_build/html``, ``make student-book``),
whose test is skipped when that build is missing. ``BOOK_HTML_DIR`` points at another main build. The
others check the table-of-contents parts and the links between pages without a browser.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.annotations import Link

from oversmoothing.book.colab.index import toc_docnames
from oversmoothing.book.pdf import build_pdf, toc_parts
from oversmoothing.book.pdf_links import cross_page_targets, destination_name, resolve_links

from conftest import ROOT

HTML_DIR = Path(os.environ.get("BOOK_HTML_DIR") or ROOT / "_build" / "html").resolve()
STUDENT_SOURCE = ROOT / "_build" / "student_src"
CHAPTER = "chapters/03_rank_collapse"  # a short chapter with math, figures and solutions (explorers in print:
# tests/book/test_html.py)
TITLE = "3. Rank collapse without residuals"
MATH = "X ↦ AXH"  # $X \mapsto AXH$ in a section title, as MathJax's fonts give it back as text
SOLUTION = re.compile(r"Solution to\s+Exercise 3\.1")
FIGURE = re.compile(r"(?m)^Fig\.\s+3\.\d+\s")  # a caption (a reference in the prose rarely starts a line)


def _pages_text(pdf: Path) -> list[str]:
    """The text of each page (pdftotext separates pages with a form feed)."""
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    return text.split("\f")[: len(PdfReader(pdf).pages)]


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory) -> dict[str, Path | None]:
    """The chapter printed as the instructor PDF (in this process) and, at the same time, as the student
    PDF (scripts/book_pdf.py in a second process; None without a student build)."""
    for tool in ("pdftotext", "pdftoppm"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} not found: run `make browser` (apt-get install -y poppler-utils)")
    if not (HTML_DIR / "index.html").is_file():
        pytest.fail(f"{HTML_DIR / 'index.html'} does not exist: run `make book` first (or set BOOK_HTML_DIR)")
    out = tmp_path_factory.mktemp("pdf")
    student = None
    if (STUDENT_SOURCE / "_build" / "html" / "index.html").is_file():
        command = [sys.executable, str(ROOT / "scripts" / "book_pdf.py"), "--source", str(STUDENT_SOURCE),
                   "--edition", "student", "--out", str(out / "student.pdf"), "--page", CHAPTER]
        student = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        instructor = build_pdf(ROOT, out / "instructor.pdf", "instructor", html_dir=HTML_DIR, docnames=[CHAPTER])
    finally:
        log = student.communicate(timeout=300)[0] if student else ""
    assert student is None or student.returncode == 0, f"the student PDF failed:\n{log}"
    return {"instructor": instructor.path, "student": out / "student.pdf" if student else None}


def _widget_labels(html_file: Path) -> set[str]:
    """The descriptions of the widget controls (sliders, checkboxes, ...) saved on a built page (none without)."""
    match = re.search(
        r'<script type="application/vnd.jupyter.widget-state\+json">(.*?)</script>', html_file.read_text(), re.DOTALL
    )
    if match is None:
        return set()
    models = json.loads(match.group(1))["state"].values()
    return {
        m["state"]["description"]
        for m in models
        if m["model_name"].endswith(("SliderModel", "CheckboxModel", "DropdownModel", "ToggleButtonsModel"))
        and m["state"].get("description")
    }


@pytest.mark.html
def test_instructor_pdf(pdfs: dict[str, Path | None]) -> None:
    instructor = pdfs["instructor"]
    reader = PdfReader(instructor)
    pages = _pages_text(instructor)
    text = "\n".join(pages)
    assert 3 <= len(reader.pages) <= 60, f"{len(reader.pages)} pages for one chapter and the front matter"

    # Front matter, title and numbering: no number on the title page, then the sheet's number on each page.
    assert "Instructor edition" in pages[0] and "Contents" in pages[1]
    assert TITLE in text
    assert not re.search(r"(?m)^\s*1\s*$", pages[0]), "the title page should carry no page number"
    unnumbered = [i + 1 for i, page in enumerate(pages[1:], start=1) if not re.search(rf"(?m)^\s*{i + 1}\s*$", page)]
    assert not unnumbered, f"pages without their number: {unnumbered}"
    assert re.search(rf"{re.escape(TITLE)}\s*\.*\s*3\b", pages[1]), "the contents should give the chapter's page"

    # Bookmarks: the part, the chapter on its first page, its sections with their math as text.
    outline = reader.outline
    assert [item.title for item in outline if not isinstance(item, list)] == ["Theory"]
    chapter = outline[1][0]
    assert chapter.title == TITLE and reader.get_destination_page_number(chapter) == 2
    sections = [item.title for item in outline[1][1] if not isinstance(item, list)]
    assert f"3.2. The spectrum of {MATH.replace(' ', '')}" in sections, sections

    # Math typeset, no TeX left; solutions printed; no widget control, only its figure.
    assert MATH in text
    for raw in (r"\frac", "$$", r"\(", r"\begin{"):
        assert raw not in text, f"raw TeX {raw!r} in the PDF"
    assert SOLUTION.search(text), "the instructor PDF should print the solutions"
    assert "Show code cell source" not in text
    labels = _widget_labels(HTML_DIR / f"{CHAPTER}.html")
    lines = {line.strip() for line in text.splitlines()}
    assert not labels & lines, f"widget controls printed: {labels & lines}"

    # A figure: a page with a figure caption holds an image (figures are not split from their caption),
    # and its rendering is not blank.
    captioned = [i + 1 for i, page in enumerate(pages) if FIGURE.search(page)]
    with_image = [n for n in captioned if any(image.image.width >= 200 for image in reader.pages[n - 1].images)]
    assert with_image, f"no figure image on the pages with a figure caption ({captioned})"
    number = with_image[0]
    prefix = instructor.parent / "page"
    subprocess.run(["pdftoppm", "-r", "30", "-f", str(number), "-l", str(number), "-png", "-singlefile",
                    str(instructor), str(prefix)], check=True)
    grey = Image.open(f"{prefix}.png").convert("L")
    inked = sum(count for value, count in enumerate(grey.histogram()) if value < 200) / (grey.width * grey.height)
    assert inked > 0.05, f"page {number} is nearly blank ({inked:.1%} inked)"


@pytest.mark.html
def test_student_pdf_has_no_solutions(pdfs: dict[str, Path | None]) -> None:
    student = pdfs["student"]
    if student is None:
        pytest.skip(f"no student build in {STUDENT_SOURCE}/_build/html: run `make student-book` after `make book`")
    text = "\n".join(_pages_text(student))
    assert "Student edition" in text and TITLE in text
    assert "Exercise 3.1" in text, "the student PDF should keep the exercises"
    assert not SOLUTION.search(text) and "Solution to" not in text, "the student PDF prints a solution"


# ------------------------------------------------------------------------------------- without a browser


def test_toc_parts_follow_the_table_of_contents() -> None:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    parts = toc_parts(toc)
    assert parts[0].caption is None and parts[0].docnames == (toc["root"],)
    assert [part.caption for part in parts[1:]] == [part["caption"] for part in toc["parts"]]
    assert [name for part in parts for name in part.docnames] == toc_docnames(toc)
    assert toc_parts({"root": "intro", "chapters": [{"file": "a.md"}, {"file": "b"}]})[1].docnames == ("a", "b")
    with pytest.raises(ValueError, match="toc"):
        toc_parts({"parts": []})


def test_build_pdf_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="edition"):
        build_pdf(ROOT, tmp_path / "x.pdf", "teacher")
    with pytest.raises(ValueError, match="source"):
        build_pdf(tmp_path, tmp_path / "x.pdf", "student")
    with pytest.raises(ValueError, match="html_dir"):
        build_pdf(ROOT, tmp_path / "x.pdf", "instructor", html_dir=tmp_path)


def test_links_between_pages_become_links_inside_the_pdf(tmp_path: Path) -> None:
    (tmp_path / "chapters").mkdir()
    (tmp_path / "chapters" / "a.html").write_text(
        '<a href="b.html#lemma-1">Lemma 1</a> <a href="#own">here</a> <a href="../genindex.html#x">index</a>'
        '<a href="https://example.org/b.html#y">elsewhere</a>'
    )
    (tmp_path / "chapters" / "b.html").write_text('<a href="a.html">back</a> <a href="b.html#self">self</a>')
    targets = cross_page_targets(tmp_path, ["chapters/a", "chapters/b"])
    assert targets == {"chapters/a": set(), "chapters/b": {"lemma-1"}}

    base = "http://127.0.0.1:8000/"
    writer = PdfWriter()
    for _ in range(2):
        writer.add_blank_page(width=200, height=200)
    writer.add_named_destination(title=destination_name("chapters/b"), page_number=1)
    writer.add_named_destination(title=destination_name("chapters/b", "lemma-1"), page_number=1)
    for url in (base + "chapters/b.html#lemma-1", base + "chapters/b.html#missing", base + "genindex.html",
                "https://example.org/"):
        writer.add_annotation(page_number=0, annotation=Link(rect=(10, 10, 50, 20), url=url))
    assert resolve_links(writer, base) == (2, 1)
    annotations = [a.get_object() for a in writer.pages[0]["/Annots"]]
    assert [str(a.get("/Dest")) for a in annotations[:2]] == ["/chapters/b:lemma-1", "/chapters/b"]
    assert annotations[2]["/A"]["/URI"] == "https://example.org/"
