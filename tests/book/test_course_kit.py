"""The course kit: the glossary, the guide for instructors, the concept checks and the table of claims of
chapter 11.

* every glossary term is linked from the chapters or the front matter, and every ``{term}`` link names a
  glossary term;
* every chapter has at least five exercises (55 in the book), each with a difficulty mark and a solution
  that explains in prose, and a warm-up among them;
* the guide's generated list of exercises is exactly the set of exercises in the chapters of the
  table of contents;
* every claim of chapter 11 points at a chapter, a target in that chapter and results defined there, and
  every claim target in the chapters is used by the table;
* every lecture of ``lectures.MODULE`` and ``WORKSHOP`` has a plan in the guide under its own title, whose
  parts add up to the lecture's minutes, that cites each of its chapters, and whose proofs at the board are
  results proved in the chapters it teaches; every label the guide and the concept checks cite exists;
* five concept checks per lecture of the module, each answered in the guide with the misconception it
  targets; the questions page repeats no answer, and its student copy keeps the questions without links to
  the guide;
* the proof rubric's criteria add up to 10 points, and its worked example grades a pencil exercise with
  one score per criterion that add up to its total.

The ``-W`` build checks that each reference resolves; these tests say which file is wrong, in seconds.
"""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import pytest
import yaml

from conftest import ROOT, load_script
from oversmoothing.book.lectures import MODULE, WORKSHOP, Lecture
from oversmoothing.book.syllabus import chapter_labels, syllabus_table

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


# --------------------------------------------------------------------------------------------------
# the lecture plans, the concept checks and the proof rubric
# --------------------------------------------------------------------------------------------------

QUESTIONS = ROOT / "book" / "concept_checks.md"
QUESTIONS_PER_LECTURE = 5
PLANS = {"module": (MODULE, "Lecture", 90), "workshop": (WORKSHOP, "Session", 120)}   # plan, heading, minutes
REF = re.compile(r"\{(?P<role>ref|numref|prf:ref|eq)\}`(?:[^`<]*<(?P<target>[^>`]+)>|(?P<plain>[^`]+))`")
DIRECTIVE = re.compile(r"^```\{prf:(?P<kind>\w+)\}[^\n]*\n(?::label: (?P<label>\S+))?", re.M)
RESULTS = {"lemma", "theorem", "proposition", "corollary"}


def refs(text: str, role: str | None = None) -> list[str]:
    """The targets of the cross-references in ``text`` (only those of ``role`` when given)."""
    return [(m["target"] or m["plain"]).strip() for m in REF.finditer(text) if role in (None, m["role"])]


def proved_results(text: str) -> set[str]:
    """The labels of the lemmas, theorems, propositions and corollaries of a page that a ``prf:proof``
    follows (before the next ``prf`` directive of another kind)."""
    proved, last = set(), None
    for match in DIRECTIVE.finditer(text):
        if match["kind"] == "proof" and last:
            proved.add(last)
        last = match["label"] if match["kind"] in RESULTS else None if match["kind"] != "proof" else last
    return proved


def blocks(text: str, target: re.Pattern) -> dict[str, str]:
    """Each ``(label)=`` target that ``target`` matches -> its first line and what follows, up to the next
    ``(label)=`` target or heading of level 1 or 2."""
    found = {}
    for match in re.finditer(rf"^\((?P<label>{target.pattern})\)=\n", text, re.M):
        first, _, rest = text[match.end():].partition("\n")
        end = re.search(r"^(?:\([^()\s]+\)=$|##? )", rest, re.M)
        found[match["label"]] = first + "\n" + (rest[: end.start()] if end else rest)
    return found


def table_rows(block: str) -> list[list[str]]:
    """The body rows of the first Markdown table in ``block``, as lists of cells."""
    table = re.search(r"^\|.*?(?=^[^|]|\Z)", block, re.M | re.S)
    lines = table.group(0).splitlines() if table else []
    return [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in lines[2:]]


def book_labels() -> set[str]:
    pages = sorted((ROOT / "chapters").glob("*.md")) + sorted((ROOT / "book").glob("*.md"))
    return set().union(*(edition.defined_labels(page.read_text(encoding="utf-8").split("\n")) for page in pages))


def labels_by_chapter() -> dict[str, set[str]]:
    return {path.stem: edition.defined_labels(path.read_text(encoding="utf-8").split("\n")) for path in CHAPTERS}


def test_the_page_helpers_on_tiny_pages():
    page = "(cc-1-1)=\n**1.1** A?\n\n(cc-1-2)=\n**1.2** B?\n\n## Next\ntext\n"
    assert blocks(page, re.compile(r"cc-\d+-\d+")) == {"cc-1-1": "**1.1** A?\n\n", "cc-1-2": "**1.2** B?\n\n"}
    assert blocks(page + "(x-1)=\n## Head\nbody\n(y)=\n", re.compile(r"x-1")) == {"x-1": "## Head\nbody\n"}
    assert refs("see {ref}`the plan <plan-module-1>`, {prf:ref}`lem-phase` and {numref}`fig-x`") == [
        "plan-module-1", "lem-phase", "fig-x"]
    assert table_rows("| a | b |\n|---|---|\n| 5 | x |\n| 10 | y |\n\ntext\n\n| c |\n|---|\n| 1 |\n") == [["5", "x"], ["10", "y"]]
    text = ("```{prf:lemma} L\n:label: lem-a\nbody\n```\n\n```{prf:proof}\np\n```\n```{prf:lemma} M\n:label: lem-b\n```\n"
            "text\n```{prf:proof}\n```\n```{prf:theorem} T\n:label: thm-c\n```\n\n+++ {\"tags\": []}\n\n```{prf:proof}\n```\n")
    assert proved_results(text) == {"lem-a", "lem-b", "thm-c"}
    assert proved_results("```{prf:lemma} L\n:label: lem-a\n```\n```{prf:definition} D\n:label: def-d\n```\n"
                          "```{prf:proof}\n```\n") == set()


def test_syllabus_table_follows_the_plan_and_rejects_unknown_chapters():
    labels = chapter_labels(ROOT / "chapters")
    table = syllabus_table(MODULE, labels, link="plan-module-")
    rows = table.splitlines()[2:]
    assert len(rows) == len(MODULE)
    for row, entry in zip(rows, MODULE):
        assert row.startswith(f"| {entry.number}. {entry.title} |")
        taught, reading = row.split(" | ")[1:3]
        assert refs(taught) == [labels[stem] for stem in entry.chapters]
        assert refs(reading) == [labels[stem] for stem in entry.reading]
        assert f"<plan-module-{entry.number}>" in row
    assert "plan" not in syllabus_table(WORKSHOP, labels).splitlines()[0]
    with pytest.raises(ValueError, match="99_missing"):
        syllabus_table((Lecture(1, "x", ("99_missing",)),), labels)
    with pytest.raises(ValueError, match="plan"):
        syllabus_table((), labels)
    with pytest.raises(TypeError, match="Lecture"):
        syllabus_table(("01_measuring_smoothing",), labels)
    with pytest.raises(ValueError, match="chapters_dir"):
        chapter_labels(ROOT / "no-such-folder")


@pytest.mark.parametrize("kind", PLANS)
def test_every_lecture_has_a_timed_plan_that_follows_the_lectures(kind):
    plan, heading, minutes = PLANS[kind]
    text = GUIDE.read_text(encoding="utf-8")
    plans = blocks(text, re.compile(rf"plan-{kind}-\d+"))
    assert sorted(plans) == sorted(f"plan-{kind}-{entry.number}" for entry in plan), "one plan per lecture"
    by_chapter = labels_by_chapter()
    for entry in plan:
        block = plans[f"plan-{kind}-{entry.number}"]
        assert block.lstrip().startswith(f"### {heading} {entry.number}: {entry.title}\n"), (
            f"the plan of {heading.lower()} {entry.number} must be headed '### {heading} {entry.number}: {entry.title}'")
        rows = table_rows(block)
        assert len(rows) >= 4 and all(row[0].isdigit() for row in rows), f"{kind} {entry.number}: rows need minutes"
        total = sum(int(row[0]) for row in rows)
        assert total == minutes, f"{kind} {entry.number}: the parts add up to {total} minutes, not {minutes}"
        cited = set(refs(block))
        for stem in entry.chapters + entry.reading:
            assert cited & by_chapter[stem], f"{kind} {entry.number} cites nothing of {stem}"
        if kind == "module":
            assert "**Before.**" in block and "**After.**" in block, f"lecture {entry.number}: say what to read"
            assert f"cc-lecture-{entry.number}" in cited, f"lecture {entry.number} must point at its concept checks"


def test_proofs_at_the_board_are_results_with_proofs_in_the_lectures_chapters():
    proved = {path.stem: proved_results(path.read_text(encoding="utf-8")) for path in CHAPTERS}
    appendix = proved_results((ROOT / "book" / "appendix_linear_algebra.md").read_text(encoding="utf-8"))
    text = GUIDE.read_text(encoding="utf-8")
    for kind, (plan, _, _) in PLANS.items():
        plans = blocks(text, re.compile(rf"plan-{kind}-\d+"))
        for entry in plan:
            allowed = set().union(*(proved[stem] for stem in entry.chapters)) | appendix
            board = [label for row in table_rows(plans[f"plan-{kind}-{entry.number}"]) for label in refs(row[2], "prf:ref")]
            assert board, f"{kind} {entry.number}: nothing is proved at the board"
            wrong = sorted(set(board) - allowed)
            assert not wrong, f"{kind} {entry.number}: proofs at the board that its chapters do not prove: {wrong}"


def test_the_guide_and_the_questions_cite_only_labels_of_the_book():
    known = book_labels()
    for page in (GUIDE, QUESTIONS):
        text = page.read_text(encoding="utf-8")
        unknown = sorted({label for label in refs(text) if "{" not in label} - known)
        assert not unknown, f"{page.name} cites labels that the book does not define: {unknown}"


def test_five_concept_checks_per_lecture_of_the_module():
    text = QUESTIONS.read_text(encoding="utf-8")
    sections = blocks(text, re.compile(r"cc-lecture-\d+"))
    assert sorted(sections) == sorted(f"cc-lecture-{entry.number}" for entry in MODULE)
    questions = blocks(text, re.compile(r"cc-\d+-\d+"))
    for entry in MODULE:
        n = entry.number
        assert sections[f"cc-lecture-{n}"].lstrip().startswith(f"## Lecture {n}: {entry.title}\n")
        mine = sorted(label for label in questions if label.startswith(f"cc-{n}-"))
        assert mine == [f"cc-{n}-{k}" for k in range(1, QUESTIONS_PER_LECTURE + 1)], f"lecture {n}: {mine}"
        for k in range(1, QUESTIONS_PER_LECTURE + 1):
            question = questions[f"cc-{n}-{k}"]
            assert question.lstrip().startswith(f"**{n}.{k}**"), f"cc-{n}-{k} must start with **{n}.{k}**"
            assert len(question.split()) >= 12, f"cc-{n}-{k} asks nothing"
            assert refs(question)[-1] == f"cc-answer-{n}-{k}", f"cc-{n}-{k} must end by linking its answer"
    assert len(questions) == QUESTIONS_PER_LECTURE * len(MODULE)


def test_every_question_has_an_answer_and_a_misconception_in_the_guide():
    questions = blocks(QUESTIONS.read_text(encoding="utf-8"), re.compile(r"cc-\d+-\d+"))
    answers = blocks(GUIDE.read_text(encoding="utf-8"), re.compile(r"cc-answer-\d+-\d+"))
    assert sorted(answers) == sorted(f"cc-answer-{label[3:]}" for label in questions), "one answer per question"
    for label, body in answers.items():
        question = label.replace("cc-answer-", "cc-")
        assert refs(body)[0] == question, f"{label} must start by linking its question {question}"
        answer, _, misconception = body.partition("*Misconception:*")
        assert len(answer.split()) >= 12, f"{label}: the answer must say why"
        assert len(misconception.split()) >= 8, f"{label}: name the misconception the question targets"


def test_the_questions_page_holds_no_answers():
    text = QUESTIONS.read_text(encoding="utf-8")
    assert "misconception" not in text.lower()
    shown = " ".join(edition.plain_fragments(text, min_words=1))         # the words a reader sees
    answers = blocks(GUIDE.read_text(encoding="utf-8"), re.compile(r"cc-answer-\d+-\d+"))
    for label, body in answers.items():
        explanation = body.split("**", 2)[-1].partition("*Misconception:*")[0]
        for fragment in edition.plain_fragments(explanation, min_words=6):
            words = fragment.split()
            for start in range(len(words) - 5):                       # every run of six words
                run = " ".join(words[start : start + 6])
                assert run not in shown, f"the questions page repeats the answer {label}: {run!r}"


def test_the_student_edition_keeps_the_questions_without_links_to_the_answers():
    toc = yaml.safe_load(edition.student_toc(ROOT))
    files = [entry["file"] for part in toc["parts"] for entry in part["chapters"]]
    assert "book/concept_checks" in files and "book/instructors" not in files
    dropped = edition.dropped_labels(ROOT)
    assert {"cc-answer-1-1", "proof-rubric", "plan-module-4"} <= set(dropped)
    student = edition.drop_references(QUESTIONS.read_text(encoding="utf-8"), dropped)
    left = sorted(label for label in refs(student) if label in dropped)
    assert not left, f"the student copy of the questions still links the guide: {left}"
    assert "cc-answer" not in student and "(answer" not in student and "()" not in student
    titles = sorted(title for title in set(dropped.values()) if title in student)
    assert not titles, f"the student copy of the questions names pages it does not have: {titles}"
    assert len(blocks(student, re.compile(r"cc-\d+-\d+"))) == QUESTIONS_PER_LECTURE * len(MODULE)


def test_the_rubric_adds_up_and_grades_a_real_pencil_exercise(monkeypatch):
    rubric = blocks(GUIDE.read_text(encoding="utf-8"), re.compile(r"proof-rubric"))["proof-rubric"]
    criteria = table_rows(rubric)
    assert len(criteria) == 5 and sum(int(row[1]) for row in criteria) == 10
    assert all(len(row) == 5 and all(row[2:]) for row in criteria), "full, partial and no credit for each criterion"
    example = rubric.split("### A worked example", 1)[1]
    exercises = run_cells(GUIDE, monkeypatch, count=1)["exercises"].set_index("label")
    graded = refs(example, "numref")[0]
    assert "pencil" in exercises.loc[graded, "kind"], f"the worked example grades {graded}, not a pencil exercise"
    scores = {}
    for row in criteria:
        name = row[0].strip("*")
        found = re.findall(rf"{re.escape(name)}: (\d+) of (\d+)", example)
        assert len(found) == 1 and int(found[0][1]) == int(row[1]), f"the worked example must score '{name}' once, out of {row[1]}"
        scores[name] = int(found[0][0])
    total = re.search(r"Total \*\*(\d+) of 10\*\*", example)
    assert total and int(total[1]) == sum(scores.values()), f"the worked example's total is not the sum of {scores}"
