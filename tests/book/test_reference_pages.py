"""The reference pages: the linear-algebra appendix and the Sources page, and the chapters' links to them.

* the appendix (``book/appendix_linear_algebra.md``) has the five targets ``app-*`` that the chapters link,
  and each fact has a statement, a code cell with an ``assert``, the chapters that use it and one exercise in
  the book's format (difficulty mark, gated solution that explains in prose);
* the Sources page (``book/sources.md``) has one section ``sources-chN`` per chapter of the table of contents,
  titled with a reference to that chapter;
* no chapter keeps a Provenance box, and every chapter links its own section of the Sources page.

Fast: nothing is executed (the book build runs the appendix).
"""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import pytest
import yaml

from conftest import ROOT, load_script

APPENDIX = ROOT / "book" / "appendix_linear_algebra.md"
SOURCES = ROOT / "book" / "sources.md"
APPENDIX_TARGETS = ("app-kronecker", "app-schur-jordan", "app-perron-frobenius", "app-cholesky-sylvester",
                    "app-gelfand")
DIFFICULTY = re.compile(r"\*(?P<stars>★{1,3}) [^*]+?\.\*")
SOLUTION_WORDS = 20
CHAPTER_LABEL = re.compile(r"^\((?P<label>ch-[\w-]+)\)=$", re.M)
TARGET = re.compile(r"^\((?P<label>[\w-]+)\)=$", re.M)

edition = load_script("scripts/student_edition.py")


def toc_files() -> list[str]:
    """The files of ``_toc.yml``, in order, without extension."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    return [entry["file"] for part in toc["parts"] for entry in part["chapters"]]


def toc_chapters() -> list[Path]:
    """The chapter files of the table of contents, in reading order (chapter k is the k-th)."""
    return [ROOT / f"{name}.md" for name in toc_files() if name.startswith("chapters/")]


def sections(text: str, prefix: str) -> dict[str, str]:
    """Each target ``(prefix...)=`` of ``text`` with the text up to the next such target or ``## References``."""
    starts = [(m["label"], m.start()) for m in TARGET.finditer(text) if m["label"].startswith(prefix)]
    end_of_page = text.find("\n## References")
    ends = [start for _, start in starts[1:]] + [end_of_page if end_of_page > 0 else len(text)]
    return {label: text[start:end] for (label, start), end in zip(starts, ends)}


def sources_target(chapter_number: int) -> str:
    return f"sources-ch{chapter_number}"


def test_the_sections_helper_splits_at_targets_and_stops_at_the_references():
    text = "(app-a)=\n## A\nx\n(other)=\ny\n(app-b)=\n## B\nz\n## References\nw\n"
    assert sections(text, "app-") == {"app-a": "(app-a)=\n## A\nx\n(other)=\ny\n", "app-b": "(app-b)=\n## B\nz"}


# --------------------------------------------------------------------------------------------------
# the appendix
# --------------------------------------------------------------------------------------------------


def test_the_reference_pages_are_in_the_table_of_contents():
    files = toc_files()
    assert "book/appendix_linear_algebra" in files and "book/sources" in files
    assert files.index("book/glossary") < files.index("book/appendix_linear_algebra")


def test_the_appendix_is_an_executable_page_with_its_label():
    text = APPENDIX.read_text(encoding="utf-8")
    notebook = jupytext.read(APPENDIX)
    assert notebook.metadata["jupytext"]["text_representation"]["format_name"] == "myst"
    assert "(appendix-linear-algebra)=" in text.splitlines()


def test_the_appendix_defines_the_five_targets_once():
    labels = [m["label"] for m in TARGET.finditer(APPENDIX.read_text(encoding="utf-8"))]
    for target in APPENDIX_TARGETS:
        assert labels.count(target) == 1, f"{APPENDIX.name} defines ({target})= {labels.count(target)} times"


@pytest.mark.parametrize("target", APPENDIX_TARGETS)
def test_each_fact_has_a_check_the_chapters_that_use_it_and_an_exercise(target):
    text = APPENDIX.read_text(encoding="utf-8")
    section = sections(text, "app-")[target]
    page = edition.parse_page(section, f"{APPENDIX.name}#{target}")
    cells = [c.source for c in jupytext.reads(section, fmt="md:myst").cells if c.cell_type == "code"]
    assert any(re.search(r"^\s*assert |assert_close\(", cell, re.M) for cell in cells), (
        f"{target}: no code cell with an assert")
    chapters = set(CHAPTER_LABEL.findall("\n".join(p.read_text(encoding="utf-8") for p in toc_chapters())))
    used_in = set(re.findall(r"\{ref\}`(?:[^`<]*<)?(ch-[\w-]+)>?`", section))
    assert used_in, f"{target}: the section names no chapter that uses the fact"
    assert used_in <= chapters, f"{target}: unknown chapter labels {sorted(used_in - chapters)}"
    assert [e.label for e in page.exercises if e.label.startswith("ex-appendix-")], f"{target}: no ex-appendix-* exercise"


def test_the_appendix_exercises_follow_the_book_format():
    page = edition.parse_page(APPENDIX.read_text(encoding="utf-8"), APPENDIX.name)
    assert len(page.exercises) >= len(APPENDIX_TARGETS)
    solved = {solution.exercise for solution in page.solutions}
    for exercise in page.exercises:
        assert exercise.label in solved, f"{exercise.label} has no solution"
        body = "\n".join(page.lines[exercise.start + 1 : exercise.end]).split("```\n", 1)[-1].lstrip()
        assert DIFFICULTY.match(body), f"{exercise.label}: the text does not start with *★ Kind.*"
        if exercise.stubs:
            code = "\n\n".join(c for s in page.solutions if s.exercise == exercise.label for c in s.code)
            assert not edition.stub_mismatches("\n\n".join(exercise.stubs), code), f"{exercise.label}: stub mismatch"
    for solution in page.solutions:
        words = len(re.sub(r"\$[^$]*\$", " x ", " ".join(solution.prose)).split())
        assert words >= SOLUTION_WORDS, f"the solution of {solution.exercise} has {words} words of prose"
    assert not edition.solution_names_used(page)


# --------------------------------------------------------------------------------------------------
# the Sources page
# --------------------------------------------------------------------------------------------------


def test_the_sources_page_has_one_section_per_chapter_titled_with_its_reference():
    text = SOURCES.read_text(encoding="utf-8")
    assert "(sources)=" in text.splitlines()
    found = sections(text, "sources-ch")
    chapters = toc_chapters()
    assert list(found) == [sources_target(k) for k in range(1, len(chapters) + 1)], list(found)
    for number, chapter in enumerate(chapters, start=1):
        label = CHAPTER_LABEL.search(chapter.read_text(encoding="utf-8"))["label"]
        title = next(line for line in found[sources_target(number)].splitlines() if line.startswith("## "))
        assert re.search(rf"\{{ref\}}`(?:[^`<]*<)?{label}>?`", title), f"{sources_target(number)}: title {title!r}"


def test_the_sources_page_cites_known_keys_and_keeps_the_book_inference_for_chapter_3():
    text = SOURCES.read_text(encoding="utf-8")
    bib = (ROOT / "book" / "references.bib").read_text(encoding="utf-8")
    keys = set(re.findall(r"^@\w+\{([\w-]+),", bib, re.M))
    cited = {key.strip() for group in re.findall(r"\{cite(?::t)?\}`([^`]+)`", text) for key in group.split(",")}
    assert cited and cited <= keys, f"unknown bibliography keys: {sorted(cited - keys)}"
    assert "inference" in sections(text, "sources-ch")["sources-ch3"]
    assert "could not read" not in text


# --------------------------------------------------------------------------------------------------
# the chapters (these pass once every chapter's Provenance box is replaced by its one-line link)
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("number", range(1, len(toc_chapters()) + 1), ids=lambda k: f"ch{k}")
def test_the_chapter_has_no_provenance_box_and_links_its_sources_section(number):
    chapter = toc_chapters()[number - 1]
    text = chapter.read_text(encoding="utf-8")
    assert ":::{admonition} Provenance" not in text, f"{chapter.name} still has a Provenance box"
    assert "could not read the full text" not in text and "not its full text" not in text, (
        f"{chapter.name} says what the book could not read: say it on the Sources page")
    target = sources_target(number)
    assert re.search(rf"\{{ref\}}`(?:[^`<]*<)?{target}>?`", text), f"{chapter.name} does not link {target}"
