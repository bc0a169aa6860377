"""The course kit: the glossary, the guide for instructors and the table of claims of chapter 11.

* every glossary term is linked from the chapters or the front matter, and every ``{term}`` link names a
  glossary term;
* every chapter has at least five exercises (55 in the book), each with a difficulty mark and a solution
  that explains in prose, and a warm-up among them;
* the guide's generated list of exercises is exactly the set of exercises in the chapters of the
  table of contents;
* every claim of chapter 11 points at a chapter, a target in that chapter and results defined there, and
  every claim target in the chapters is used by the table.

The ``-W`` build checks that each reference resolves; these tests say which file is wrong, in seconds.
"""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import pytest
import yaml

from conftest import ROOT, load_script

CHAPTERS = sorted((ROOT / "chapters").glob("*.md"))
FRONT_MATTER = [ROOT / "book" / "intro.md", ROOT / "book" / "notation.md"]
GLOSSARY = ROOT / "book" / "glossary.md"
GUIDE = ROOT / "book" / "instructors.md"
OUTLOOK = ROOT / "chapters" / "11_settled_and_open.md"
TERM_ROLE = re.compile(r"\{term\}`(?:[^`<]*<(?P<target>[^>`]+)>|(?P<plain>[^`]+))`")
CHAPTER_LABEL = re.compile(r"^\((?P<label>ch-[\w-]+)\)=$", re.M)


edition = load_script("scripts/student_edition.py")


def glossary_terms(text: str) -> set[str]:
    """The terms of the (single) ``{glossary}`` block: its unindented, nonblank lines, lower-cased."""
    block = re.search(r"^```\{glossary\}\n(?P<body>.*?)^```$", text, re.M | re.S)
    assert block, "no {glossary} block"
    return {line.strip().lower() for line in block["body"].splitlines() if line.strip() and not line[0].isspace()}


def term_links(text: str) -> set[str]:
    return {(m["target"] or m["plain"]).strip().lower() for m in TERM_ROLE.finditer(text)}


def chapter_files() -> dict[str, Path]:
    """Chapter label -> file."""
    return {m["label"]: path for path in CHAPTERS for m in CHAPTER_LABEL.finditer(path.read_text(encoding="utf-8"))}


def run_cells(page: Path, monkeypatch, count: int) -> dict:
    """Execute the first ``count`` code cells of ``page`` after its install cell, in the page's folder."""
    monkeypatch.chdir(page.parent)
    namespace: dict = {}
    cells = [cell for cell in jupytext.read(page).cells if cell.cell_type == "code"][1 : 1 + count]
    for cell in cells:
        source = "\n".join(line for line in cell.source.splitlines() if not line.startswith("%"))
        exec(compile(source, f"{page.name} cell", "exec"), namespace)
    return namespace


# --------------------------------------------------------------------------------------------------
# the glossary
# --------------------------------------------------------------------------------------------------


def test_glossary_helpers_on_a_tiny_page():
    page = "```{glossary}\nfoo bar\n  Defined.\n\nBaz\nqux\n  Two terms.\n```\n"
    assert glossary_terms(page) == {"foo bar", "baz", "qux"}
    assert term_links("a {term}`Foo bar` and {term}`the baz <Baz>`, {ref}`x`") == {"foo bar", "baz"}


def test_every_glossary_term_is_linked_from_the_book():
    terms = glossary_terms(GLOSSARY.read_text(encoding="utf-8"))
    assert len(terms) >= 20
    linked = set().union(*(term_links(page.read_text(encoding="utf-8")) for page in FRONT_MATTER + CHAPTERS))
    assert not terms - linked, f"glossary terms never linked from the chapters or front matter: {sorted(terms - linked)}"


def test_every_term_link_names_a_glossary_term():
    terms = glossary_terms(GLOSSARY.read_text(encoding="utf-8"))
    for page in FRONT_MATTER + CHAPTERS + [GLOSSARY, GUIDE]:
        unknown = term_links(page.read_text(encoding="utf-8")) - terms
        assert not unknown, f"{page.name} links terms that the glossary does not define: {sorted(unknown)}"


# --------------------------------------------------------------------------------------------------
# exercises and the guide
# --------------------------------------------------------------------------------------------------


EXERCISES_PER_CHAPTER, EXERCISES_IN_ALL = 5, 55
DIFFICULTY = re.compile(r"\*(?P<stars>★{1,3}) [^*]+?\.\*")      # the lead: *★★ Pencil and paper, then SymPy.*
SOLUTION_WORDS = 20                                                # prose that explains, not a caption


def parsed(chapter: Path):
    return edition.parse_page(chapter.read_text(encoding="utf-8"), chapter.name)


def difficulties(page) -> dict[str, str]:
    """Exercise label -> its stars ('' when the lead has none)."""
    marks = {}
    for exercise in page.exercises:
        body = "\n".join(page.lines[exercise.start + 1 : exercise.end]).split("```\n", 1)[-1].lstrip()
        lead = DIFFICULTY.match(body)
        marks[exercise.label] = lead["stars"] if lead else ""
    return marks


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_has_five_marked_exercises_with_solutions(chapter):
    page = parsed(chapter)
    labels = [exercise.label for exercise in page.exercises]
    assert len(labels) >= EXERCISES_PER_CHAPTER, (
        f"{chapter.name} has {len(labels)} exercises, at least {EXERCISES_PER_CHAPTER} are needed")
    solved = {solution.exercise for solution in page.solutions}
    assert set(labels) <= solved, f"{chapter.name}: exercises without a solution: {sorted(set(labels) - solved)}"
    marks = difficulties(page)
    unmarked = sorted(label for label, stars in marks.items() if not stars)
    assert not unmarked, f"{chapter.name}: exercises whose text does not start with *★ Kind.*: {unmarked}"
    assert "★" in marks.values(), f"{chapter.name} has no warm-up (★) exercise"


def test_the_book_has_enough_exercises():
    total = sum(len(parsed(chapter).exercises) for chapter in CHAPTERS)
    assert total >= EXERCISES_IN_ALL, f"{total} exercises in the chapters, at least {EXERCISES_IN_ALL} are needed"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_every_solution_explains_in_prose(chapter):
    page = parsed(chapter)
    for solution in page.solutions:
        words = len(re.sub(r"\$[^$]*\$", " x ", " ".join(solution.prose)).split())
        assert words >= SOLUTION_WORDS, (
            f"{chapter.name}: the solution of {solution.exercise} has {words} words of prose, "
            f"at least {SOLUTION_WORDS} are needed to say why")


def test_the_difficulty_check_sees_a_missing_mark():
    text = ("```{exercise-start} Title\n:label: ex-a\n```\n\n*SymPy.* Do it.\n\n```{exercise-end}\n```\n\n"
            "```{exercise-start} Other\n:label: ex-b\n```\n\n*★★ SymPy.* Do it.\n\n```{exercise-end}\n```\n")
    assert difficulties(edition.parse_page(text, "tiny.md")) == {"ex-a": "", "ex-b": "★★"}


def test_guide_lists_exactly_the_exercises_of_the_chapters(monkeypatch):
    listed = run_cells(GUIDE, monkeypatch, count=1)["exercises"]
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    in_book = [ROOT / f"{e['file']}.md" for part in toc["parts"] for e in part["chapters"] if e["file"].startswith("chapters/")]
    assert OUTLOOK in in_book and len(in_book) >= 9
    expected = {
        (path.name, exercise.label)
        for path in in_book
        for exercise in edition.parse_page(path.read_text(encoding="utf-8"), path.name).exercises
    }
    assert set(zip(listed["file"], listed["label"])) == expected
    assert len(listed) == len(expected)
    assert listed["kind"].str.len().gt(0).all()


# --------------------------------------------------------------------------------------------------
# chapter 11: the table of claims
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def claims():
    from oversmoothing.book.claims import CLAIMS

    return CLAIMS


def test_the_claims_checks_hold_and_a_failing_check_is_named():
    from oversmoothing.book.claims import CLAIMS, Claim, fresh_draws, run_checks
    from oversmoothing.spectrum import dominant_mode

    draws = fresh_draws(seed=3, batch=16)
    checked = run_checks(CLAIMS, draws)
    assert len(checked) >= 8 and all(checked.values())
    wrong = Claim("Every H sharpens without a residual.", "ch-rank-collapse", "claim-wrong", (), "proved",
                  lambda w: bool((dominant_mode(w.A, w.H_any, residual=False).regime == "sharpening").all()))
    with pytest.raises(AssertionError, match="claim-wrong"):
        run_checks([*CLAIMS, wrong], draws)
    with pytest.raises(ValueError, match="same cell"):
        run_checks([CLAIMS[0], CLAIMS[0]], draws)
    with pytest.raises(ValueError, match="status"):
        run_checks([CLAIMS[0]._replace(status="likely")], draws)


def test_claims_point_at_targets_and_results_in_their_chapter(claims):
    files = chapter_files()
    assert len(claims) >= 20
    for claim in claims:
        assert claim.chapter in files, f"unknown chapter label {claim.chapter!r}"
        text = files[claim.chapter].read_text(encoding="utf-8")
        assert re.search(rf"^\({re.escape(claim.target)}\)=$", text, re.M), (
            f"{claim.target!r} is not a target in {files[claim.chapter].name}"
        )
        for label in claim.results:
            assert re.search(rf"^:label: {re.escape(label)}$", text, re.M), (
                f"{label!r} is not a result of {files[claim.chapter].name}"
            )


def test_every_claim_target_in_the_chapters_is_in_the_table(claims):
    used = {claim.target for claim in claims}
    defined = {m for path in CHAPTERS for m in re.findall(r"^\((claim-[\w-]+)\)=$", path.read_text(encoding="utf-8"), re.M)}
    assert defined <= used, f"claim targets that the table of chapter 11 does not use: {sorted(defined - used)}"
    from oversmoothing.book.claims import STATUSES

    assert set(STATUSES) == {claim.status for claim in claims}                  # every status is used
    for claim in claims:
        assert bool(claim.reproduce) == (claim.status == "not reproduced"), claim.target
        assert not claim.reproduce or claim.reproduce.startswith("oversmoothing audit "), claim.target
