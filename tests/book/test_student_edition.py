"""The student edition (scripts/student_edition.py): exercises kept, solutions gone, stubs that fit.

* every stub matches its solution except at its placeholders (the rule: ``stub_mismatches``), for every
  exercise of every chapter;
* no line of any solution is left in the student notebooks (and all are in the instructor copies);
* the parsing and stripping, on tiny chapters written here;
* no cell that a student notebook keeps reads a name that only a solution defines (a static check),
  and the stubs of every chapter run, raising nothing but ``NotImplementedError``;
* the student HTML source takes the main build's outputs (nothing is executed twice);
* html (after ``make student-book``): no page of the built student edition holds a solution.
"""

from __future__ import annotations

import html
import os
import re
import textwrap
from pathlib import Path

import jupytext
import nbformat
import pytest
import yaml

from conftest import MYST_HEADER, ROOT, load_script

CHAPTERS = sorted((ROOT / "chapters").glob("*.md"))
QUICK_CPU = {"OVERSMOOTHING_PROFILE": "quick", "OVERSMOOTHING_DEVICE": "cpu"}


edition = load_script("scripts/student_edition.py")


def parsed(chapter: Path):
    return edition.parse_page(chapter.read_text(encoding="utf-8"), chapter.name)


def _exercise_params():
    """(chapter, exercise label) for every exercise with a stub; a chapter that does not parse becomes
    one case that fails with the parser's message (an error here would stop the collection of the file)."""
    params = []
    for chapter in CHAPTERS:
        try:
            page = parsed(chapter)
        except edition.ChapterFormatError:
            params.append(pytest.param(chapter, None, id=f"{chapter.stem}:unparsable"))  # fails in the test
            continue
        for exercise in page.exercises:
            if exercise.stubs:
                params.append(pytest.param(chapter, exercise.label, id=f"{chapter.stem}:{exercise.label}"))
    return params


# --------------------------------------------------------------------------------------------------
# the chapters
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_exercises_and_solutions_parse(chapter):
    page = parsed(chapter)  # raises ChapterFormatError with the line when the format is broken
    for solution in page.solutions:
        exercise = page.exercise(solution.exercise)
        assert exercise.start < solution.start, f"the solution of {exercise.label} comes before its exercise"
    labels = [e.label for e in page.exercises if e.label]
    assert len(labels) == len(set(labels)), f"duplicate exercise labels in {chapter.name}: {labels}"


@pytest.mark.parametrize(("chapter", "label"), _exercise_params())
def test_stub_matches_its_solution(chapter, label):
    page = parsed(chapter)
    exercise = next(e for e in page.exercises if e.label == label)
    solutions = [s for s in page.solutions if s.exercise == label]
    assert solutions, f"{chapter.name}: exercise {label} has a stub but no solution (a code solution executes)"
    assert sum(len(s.code) for s in solutions) > 0, f"{chapter.name}: the solution of {label} has no code cell"
    problems = edition.stub_mismatches("\n\n".join(exercise.stubs), "\n\n".join(c for s in solutions for c in s.code))
    assert not problems, f"{chapter.name}, exercise {label}: the stub does not fit its solution:\n- " + "\n- ".join(
        problems
    )


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_student_notebook_has_no_solution_text(chapter):
    page = parsed(chapter)
    text = chapter.read_text(encoding="utf-8")
    student = "\n".join(cell.source for cell in edition.student_notebook(text, chapter.name).cells)
    instructor = "\n".join(cell.source for cell in edition.notebook_from_markdown(text).cells)
    for solution in page.solutions:
        lines = edition.distinctive_lines(page, solution)
        assert lines, f"{chapter.name}: no line identifies the solution of {solution.exercise}"
        left = [line for line in lines if line in student]
        assert not left, f"{chapter.name}: the student notebook still holds the solution of {solution.exercise}: {left}"
        assert all(line in instructor for line in lines)  # the check can see a solution when there is one
    assert "solution-start" not in student and "{solution}" not in student


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_student_notebook_has_a_stub_or_placeholder_per_solution(chapter):
    page = parsed(chapter)
    notebook = edition.student_notebook(chapter.read_text(encoding="utf-8"), chapter.name)
    stub_cells = [cell.source for cell in notebook.cells if edition.is_stub_cell(cell)]
    placeholders = [cell for cell in notebook.cells if cell.source == edition.ANSWER_PLACEHOLDER]
    expected_stubs = [stub for s in page.solutions for stub in page.exercise(s.exercise).stubs]
    assert stub_cells == expected_stubs
    assert all("raises-exception" in cell.metadata["tags"] for cell in notebook.cells if edition.is_stub_cell(cell))
    assert len(placeholders) == sum(
        1 for s in page.solutions if not page.exercise(s.exercise).stubs or any(line.strip() for line in s.prose)
    )
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")


def test_there_are_exercises_to_check():
    assert any(parsed(chapter).solutions for chapter in CHAPTERS), "no chapter has a solution: nothing is checked"


# --------------------------------------------------------------------------------------------------
# a tiny chapter written here
# --------------------------------------------------------------------------------------------------

HEADER = MYST_HEADER

TINY = HEADER + textwrap.dedent(
    '''
    (ch-tiny)=
    # A tiny chapter

    ```{code-cell} ipython3
    import math
    ```

    See {ref}`the worked answer <sol-tiny-square>`, {numref}`sol-tiny-square` and {eq}`eq-tiny-inside`.
    A link: [the figure](#fig-tiny-inside).

    ## Exercises

    ```{exercise-start} Squares
    :label: ex-tiny-square
    ```

    Write `square`.

    ```python
    def square(x: float) -> float:
        """The square of x."""
        result = ...  # multiply
        raise NotImplementedError
    ```

    Then say why it is positive.

    ```{exercise-end}
    ```

    ```{solution-start} ex-tiny-square
    :class: dropdown
    :label: sol-tiny-square
    ```

    Squares of real numbers are never negative, said the tiny solution.

    $$ y = x^2 $$ (eq-tiny-inside)

    ```{code-cell} ipython3
    ---
    mystnb:
      figure:
        name: fig-tiny-inside
    ---
    def square(x: float) -> float:
        """The square of x."""
        result = x * x  # the tiny solution's product
        return result


    assert square(3.0) == 9.0
    ```

    ```{solution-end}
    ```

    ::::{exercise} By hand
    :label: ex-tiny-hand

    Prove that $2 > 1$ without a computer.

    :::{hint}
    A ```` ```python ```` block in a hint that is no stub:

    ```python
    print("an example, not a stub")
    ```
    :::
    ::::

    ````{solution} ex-tiny-hand
    :class: dropdown

    One plus one is two, which the tiny proof uses.

    ```python
    print("a static block inside a plain solution")
    ```
    ````

    ```{exercise-start} Two stubs, no solution prose
    :label: ex-tiny-two
    ```

    ```python
    def first():
        raise NotImplementedError
    ```

    ```python
    second = ...
    raise NotImplementedError("compute second")
    ```

    ```{exercise-end}
    ```

    ```{solution-start} ex-tiny-two
    :class: dropdown
    ```

    ```{code-cell} ipython3
    def first():
        return "the tiny first answer"


    second = first() + " and more"
    ```

    ```{solution-end}
    ```

    ## References

    Nothing here.
    '''
)


@pytest.fixture
def tiny():
    return edition.parse_page(TINY, "tiny.md")


def test_parse_finds_exercises_stubs_and_solutions(tiny):
    assert [e.label for e in tiny.exercises] == ["ex-tiny-square", "ex-tiny-hand", "ex-tiny-two"]
    square, hand, two = tiny.exercises
    assert square.title == "Squares" and hand.title == "By hand"
    assert square.stubs == ['def square(x: float) -> float:\n    """The square of x."""\n    result = ...  # multiply\n'
                            '    raise NotImplementedError']
    assert hand.stubs == []  # the python block in the hint raises nothing: an example, not a stub
    assert len(two.stubs) == 2
    first, by_hand, second = tiny.solutions
    assert (first.exercise, first.label) == ("ex-tiny-square", "sol-tiny-square")
    assert first.labels == {"sol-tiny-square", "eq-tiny-inside", "fig-tiny-inside"}
    assert len(first.code) == 1 and first.code[0].startswith("def square")  # YAML options removed
    assert any("never negative" in line for line in first.prose)
    assert not any("the tiny solution's product" in line for line in first.prose)
    assert (by_hand.exercise, by_hand.code) == ("ex-tiny-hand", [])
    assert any("tiny proof" in line for line in by_hand.prose)
    assert not any(line.strip() for line in second.prose)


def test_notebook_mode_replaces_solutions_by_stubs_and_placeholders(tiny):
    text = edition.strip_solutions(tiny, "notebook")
    notebook = edition.notebook_from_markdown(text)
    sources = [(cell.cell_type, cell.source) for cell in notebook.cells]
    stubs = [cell for cell in notebook.cells if edition.is_stub_cell(cell)]
    assert [cell.source for cell in stubs] == tiny.exercises[0].stubs + tiny.exercises[2].stubs
    assert all(cell.metadata["tags"] == ["raises-exception", "exercise-stub"] for cell in stubs)
    # exercise 1: its stub, then a placeholder for the prose part; exercise 2 (no stub): a placeholder;
    # exercise 3 (no prose in the solution): its two stubs only
    placeholder = ("markdown", edition.ANSWER_PLACEHOLDER)
    assert sources.count(placeholder) == 2
    index = sources.index(("code", stubs[0].source))
    assert sources[index + 1] == placeholder
    for gone in ("never negative", "tiny solution", "tiny proof", "tiny first answer", "solution-start",
                 "{solution}", "static block inside a plain solution", "sol-tiny-square"):
        assert gone not in text
    for kept in ("Write `square`.", "Then say why it is positive.", "Prove that $2 > 1$", "an example, not a stub",
                 "## References", "Nothing here."):
        assert kept in text


def test_references_to_removed_labels_point_at_the_exercise(tiny):
    text = edition.strip_solutions(tiny, "html")
    assert (
        "See {ref}`the worked answer <ex-tiny-square>`, {numref}`ex-tiny-square` and {numref}`ex-tiny-square`."
    ) in text
    assert "[the figure](#ex-tiny-square)" in text
    assert "{ref}`notation`" == edition.redirect_references("{ref}`notation`", edition.removed_labels([tiny]))


def test_html_mode_drops_solutions_and_adds_no_cell(tiny):
    text = edition.strip_solutions(tiny, "html")
    assert edition.ANSWER_PLACEHOLDER not in text and "exercise-stub" not in text
    assert text.count("```{code-cell}") == 1  # the chapter's own import cell
    assert text.count("raise NotImplementedError") == 3  # the static stubs of the exercises
    reparsed = edition.parse_page(text, "stripped.md")
    assert reparsed.solutions == [] and len(reparsed.exercises) == 3


def test_a_page_without_solutions_is_unchanged():
    text = HEADER + "\n# Plain\n\n```{code-cell} ipython3\nprint('```')\n```\n\nSee {ref}`elsewhere`.\n"
    page = edition.parse_page(text)
    assert edition.strip_solutions(page, "html") == text == edition.strip_solutions(page, "notebook")


def test_distinctive_lines_skip_text_shared_with_the_exercise(tiny):
    first = tiny.solutions[0]
    lines = edition.distinctive_lines(tiny, first)
    assert "Squares of real numbers are never negative, said the tiny solution." in lines
    assert "result = x * x  # the tiny solution's product" in lines
    assert '"""The square of x."""' not in lines  # the stub shows it too
    assert "assert square(3.0) == 9.0" in lines
    assert "return result" not in lines  # too short to prove anything


def test_plain_fragments():
    line = "The big token barely moves the cosine: it enters only $2n$ of the {ref}`pairs <x>` here, *really*."
    assert edition.plain_fragments(line) == ["The big token barely moves the cosine: it enters only"]
    assert edition.plain_fragments("(b) By {eq}`eq-x`, $a$ is one.") == []


@pytest.mark.parametrize(
    ("stub", "solution", "problem"),
    [
        ("def f(x):\n    ...\n    raise NotImplementedError", "def f(x):\n    return x", None),
        ("def f(x):\n    y = ...  # hint\n    raise NotImplementedError", "def f(x):\n    y = x + 1\n    return y",
         None),
        ("%matplotlib inline\nx = ...\nraise NotImplementedError", "%matplotlib inline\nx = [1, 2]", None),
        ("def f(x):\n    ...", "def f(x):\n    return x", "does not raise NotImplementedError"),
        ("def f(x):\n    raise NotImplementedError", "def g(x):\n    return x", "does not define 'f'"),
        ("def f(x):\n    raise NotImplementedError", "def f(x, y=1):\n    return x", "signature of 'f'"),
        ("def f(x) -> int:\n    raise NotImplementedError", "def f(x):\n    return x", "signature of 'f'"),
        ('def f(x):\n    """A."""\n    raise NotImplementedError', 'def f(x):\n    """B."""\n    return x',
         "docstring of 'f'"),
        ("class C:\n    def m(self):\n        raise NotImplementedError", "class C:\n    def m(self, k):\n        pass",
         "signature of 'C.m'"),
        ("value = ...\nraise NotImplementedError", "other = 3", "does not define 'value'"),
        ("a = 1\nb = ...\nraise NotImplementedError", "b = 2\na = 1", "the stub line `b = ...` is not in the solution"),
        ("def f(:\n    raise NotImplementedError", "def f(x):\n    return x", "not valid Python"),
    ],
)
def test_stub_mismatches(stub, solution, problem):
    problems = edition.stub_mismatches(stub, solution)
    if problem is None:
        assert problems == []
    else:
        assert any(problem in p for p in problems), problems


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("```{exercise-start} A\n:label: ex-a\n```\n\nText.\n", "has no matching {exercise-end}"),
        ("```{exercise-start} A\n:label: ex-a\n```\n```{exercise-end}\n```\n```{solution-start} ex-a\n```\n\nText.\n",
         "has no matching {solution-end}"),
        ("```{solution-end}\n```\n", "without a matching start"),
        ("```{exercise-start} A\n:label: ex-a\n```\n```{exercise-end}\n```\n````{solution} ex-b\nText.\n````\n",
         "not an exercise of this page"),
        ("```python\nprint(1)\n", "is never closed"),
        ("```{solution}\nText.\n```\n", "names no exercise label"),
    ],
)
def test_format_errors_say_where(body, message):
    with pytest.raises(edition.ChapterFormatError, match=re.escape(message)):
        edition.parse_page(HEADER + "\n# Broken\n\n" + body, "broken.md")


def test_notebooks_command_writes_student_and_instructor_copies(tmp_path):
    chapter = tmp_path / "src" / "09_tiny.md"
    chapter.parent.mkdir()
    chapter.write_text(TINY)
    assert edition.main(["notebooks", str(tmp_path / "out"), "--chapters", str(chapter)]) == 0
    student = nbformat.read(tmp_path / "out" / "09_tiny.ipynb", as_version=4)
    instructor = nbformat.read(tmp_path / "out" / "instructor" / "09_tiny.ipynb", as_version=4)
    nbformat.validate(student)
    nbformat.validate(instructor)
    assert "never negative" not in nbformat.writes(student) and "never negative" in nbformat.writes(instructor)
    assert student.metadata.kernelspec.name == "python3" and "jupytext" not in student.metadata
    assert [cell.id for cell in student.cells] == [f"cell-{i}" for i in range(len(student.cells))]


def test_source_command_writes_a_stripped_book(tmp_path):
    book = tmp_path / "book_src"
    (book / "chapters").mkdir(parents=True)
    (book / "pages").mkdir()
    (book / "chapters" / "09_tiny.md").write_text(TINY)
    (book / "chapters" / "09_tiny.ipynb").write_text("{}")  # a Colab twin: holds the solutions
    (book / "chapters" / "data.csv").write_text("a,b\n")
    (book / "pages" / "intro.md").write_text("# Intro\n\nSee {ref}`sol-tiny-square`.\n")
    (book / "refs.bib").write_text("")
    (book / "_toc.yml").write_text("format: jb-book\nroot: pages/intro\nchapters:\n  - file: chapters/09_tiny\n")
    (book / "_config.yml").write_text(
        "title: Tiny\nbibtex_bibfiles:\n  - refs.bib\nlaunch_buttons:\n  colab_url: https://colab.research.google.com\n"
    )
    out = tmp_path / "out"
    assert edition.main(["source", str(out), "--root", str(book)]) == 0
    written = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert written == {".student-edition", "_config.yml", "_toc.yml", "refs.bib", "pages/intro.md",
                       "chapters/09_tiny.md", "chapters/data.csv"}
    assert (out / "pages" / "intro.md").read_text() == "# Intro\n\nSee {numref}`ex-tiny-square`.\n"
    chapter = (out / "chapters" / "09_tiny.md").read_text()
    assert "never negative" not in chapter and "Write `square`." in chapter
    config = (out / "_config.yml").read_text()
    assert "Tiny (student edition)" in config
    # the Colab button stays: in a source with the marker, it opens notebooks/student/ (oversmoothing.book.sphinx)
    assert yaml.safe_load(config)["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    # run again: the earlier output is replaced; a folder it did not write is refused
    (out / "chapters" / "stale.md").write_text("old")
    assert edition.main(["source", str(out), "--root", str(book)]) == 0
    assert not (out / "chapters" / "stale.md").exists()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "keep.txt").write_text("mine")
    assert edition.main(["source", str(tmp_path / "other"), "--root", str(book)]) == 1
    assert edition.main(["source", str(book / "chapters"), "--root", str(book)]) == 1
    assert (tmp_path / "other" / "keep.txt").read_text() == "mine"


def test_source_command_drops_the_instructor_guide(tmp_path):
    book = tmp_path / "book_src"
    (book / "book").mkdir(parents=True)
    (book / "notebooks" / "student").mkdir(parents=True)
    (book / "notebooks" / "student" / "09_tiny.ipynb").write_text("{}")
    (book / "book" / "intro.md").write_text(
        "# Intro\n\nProjects (see also {ref}`instructors`). Read {ref}`the guide <instructors>` and "
        "{doc}`instructors`; {ref}`kept` stays.\n\n(kept)=\n## Kept\n")
    (book / "book" / "instructors.md").write_text("(instructors)=\n# Guide for instructors\n")
    (book / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n  - file: book/instructors\n")
    (book / "_config.yml").write_text("title: Tiny\n")
    out = tmp_path / "out"
    assert edition.main(["source", str(out), "--root", str(book)]) == 0
    assert not (out / "book" / "instructors.md").exists()
    assert "instructors" not in (out / "_toc.yml").read_text()
    assert yaml.safe_load((out / "_toc.yml").read_text()) == {"format": "jb-book", "root": "book/intro", "chapters": []}
    assert (out / "book" / "intro.md").read_text() == (
        "# Intro\n\nProjects. Read the guide and *Guide for instructors*; {ref}`kept` stays.\n\n(kept)=\n## Kept\n")
    assert (out / "notebooks" / "student" / "09_tiny.ipynb").is_file()  # the Colab buttons' targets


def test_the_student_toc_of_the_book_has_no_instructor_guide():
    toc = yaml.safe_load(edition.student_toc(ROOT))
    assert "instructors" not in yaml.safe_dump(toc)
    assert [p for p in edition.toc_files(ROOT) if p.stem == "instructors"], "the main book has its guide"


# --------------------------------------------------------------------------------------------------
# the student notebooks: no kept cell needs a solution; the stubs run (once, all chapters in one kernel)
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("chapter", CHAPTERS + [ROOT / "book" / "instructors.md"], ids=lambda p: p.stem)
def test_no_kept_cell_reads_a_name_only_a_solution_defines(chapter):
    assert edition.solution_names_used(parsed(chapter)) == []


def test_a_kept_cell_that_needs_a_solution_is_found():
    page = edition.parse_page(textwrap.dedent("""\
        ```{exercise-start} Compute
        :label: ex-secret
        ```
        Compute the secret.
        ```{exercise-end}
        ```
        ```{solution-start} ex-secret
        ```
        ```{code-cell} ipython3
        for secret in range(43):
            pass
        ```
        ```{solution-end}
        ```
        ```{code-cell} ipython3
        def answer():
            local = 1
            return local + secret
        ```
        """), "tiny.md")
    assert edition.solution_names_used(page) == [
        "tiny.md: the cell starting `def answer():` reads 'secret', which only the solution of ex-secret defines"
    ]
    assert edition.free_names("def f(x):\n    y = x\n    return y + z\nprint(f)") == {"f", "print", "z"}
    assert edition.bound_names("import numpy as np\nwith open('f') as h:\n    for k in h: v = k\nclass C: pass") == {
        "np", "h", "k", "v", "C"}


def test_the_stubs_run_and_raise_nothing_but_not_implemented(tmp_path):
    from oversmoothing.book.execution import execute_chapter

    cells = [cell for chapter in CHAPTERS for cell in edition.student_notebook(chapter.read_text("utf-8"), chapter.name).cells
             if edition.is_stub_cell(cell)]
    assert len(cells) >= len(CHAPTERS), "every chapter has at least one code exercise with a stub"
    for index, cell in enumerate(cells):
        cell.id = f"stub-{index}"
    # A stub runs after its chapter's imports (its annotations or its test inputs may use them).
    preamble = nbformat.v4.new_code_cell("\n".join(dict.fromkeys(
        line for chapter in CHAPTERS for cell in jupytext.reads(chapter.read_text("utf-8"), fmt="md:myst").cells
        if cell.cell_type == "code"
        for line in cell.source.splitlines() if re.match(r"(import|from) [\w.]+( import [\w, ]+)?( as \w+)?$", line))))
    preamble.id = "preamble"
    notebook = nbformat.v4.new_notebook(cells=[preamble, *cells], metadata={"kernelspec": {"name": "python3", "language": "python",
                                                                            "display_name": "Python 3"}})
    result = execute_chapter(CHAPTERS[0], timeout=120, env=QUICK_CPU, notebook=notebook)
    for index, cell in enumerate(result.notebook.cells[1:]):
        assert cell.execution_count is not None, f"stub {index} did not run"
        for output in cell.outputs:
            if output.output_type == "error":
                assert output.ename == "NotImplementedError", f"stub {index} raised {output.ename}: {output.evalue}"


# --------------------------------------------------------------------------------------------------
# the built student HTML edition (`make student-book`, from the main build's executed notebooks)
# --------------------------------------------------------------------------------------------------

STUDENT_HTML = Path(os.environ.get("STUDENT_HTML_DIR") or ROOT / "_build" / "student_src" / "_build" / "html")


def test_student_source_reuses_the_main_builds_outputs(tmp_path):
    text = CHAPTERS[0].read_text("utf-8")
    page = parsed(CHAPTERS[0])
    executed = edition.notebook_from_markdown(text)
    for index, cell in enumerate(c for c in executed.cells if c.cell_type == "code"):
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"output {index}\n")]
    executed.metadata["widgets"] = {"state": "saved"}
    student = edition.with_outputs(edition.strip_solutions(page, "html"), executed, page.name)
    kept = [cell for cell in student.cells if cell.cell_type == "code"]
    assert kept and all(cell.outputs for cell in kept) and student.metadata["widgets"] == {"state": "saved"}
    solution_code = {code.strip() for solution in page.solutions for code in solution.code}
    assert not any(cell.source.strip() in solution_code for cell in kept)
    assert len(kept) < sum(c.cell_type == "code" for c in executed.cells)  # the solutions' cells are gone

    record = {"output_type": "display_data", "data": {"text/plain": "0.5"},           # as myst-nb stores it
              "metadata": {"scrapbook": {"name": "value", "mime_prefix": "application/papermill.record/"}}}
    glued = edition.with_outputs(edition.strip_solutions(page, "html"), executed, page.name, {"value": record})
    last = [cell for cell in glued.cells if cell.cell_type == "code"][-1]
    assert last.outputs[-1]["metadata"]["scrapbook"]["name"] == "value"         # the glued value comes back,
    assert last.outputs[-1]["data"] == {"application/papermill.record/text/plain": "0.5"}   # as executed
    assert len(last.outputs) == len(kept[-1].outputs) + 1

    executed.cells = [c for c in executed.cells if c.cell_type != "code" or "import" not in c.source]
    with pytest.raises(edition.ChapterFormatError, match="is not in the executed notebook"):
        edition.with_outputs(edition.strip_solutions(page, "html"), executed, page.name)


def _page_text(path: Path) -> str:
    """A built file's text as a reader sees it: tags dropped, entities and typography undone."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".html":
        text = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", text)
        text = html.unescape(re.sub(r"<[^>]+>", "", text))
    for fancy, plain in {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "--",
                         "\u2014": "---", "\u2026": "...", "\u00a0": " ", "\u00b6": ""}.items():
        text = text.replace(fancy, plain)
    return " ".join(text.split())


@pytest.mark.html
def test_student_html_edition_holds_no_solution():
    site = STUDENT_HTML
    assert (site / "index.html").is_file(), f"{site} is not built: run `make student-book` (after `make book`)"
    files = [p for p in site.rglob("*") if p.is_file() and p.suffix in (".html", ".txt", ".md", ".ipynb", ".js")
             and "_static" not in p.relative_to(site).parts]
    texts = {p.relative_to(site).as_posix(): _page_text(p) for p in files}
    assert any(name.startswith("chapters/") and name.endswith(".html") for name in texts)
    for page_file in (p for p in files if p.suffix == ".html"):
        raw = page_file.read_text(encoding="utf-8", errors="replace")
        assert not re.search(r'class="[^"]*\bsolution\b', raw), f"{page_file} has an element of class 'solution'"

    sources = [p for p in edition.toc_files(ROOT) if p.suffix == ".md"]
    pages = [edition.parse_page(p.read_text(encoding="utf-8"), p.name) for p in sources]
    kept = "\n".join(" ".join(edition.kept_text(page).split()) for page in pages)
    checked = 0
    for page in pages:
        for solution in page.solutions:
            lines = edition.distinctive_lines(page, solution)
            prose = {line for line in lines if any(line in p for p in solution.prose)}
            needles = [" ".join(line.split()) for line in lines if line not in prose]  # code lines
            needles += [f for line in prose for f in edition.plain_fragments(line, min_words=5) if len(f) >= 25]
            for needle in needles:
                if needle in kept:
                    continue
                found = [name for name, text in texts.items() if needle in text]
                assert not found, f"the solution of {solution.exercise} ({page.name}) shows in {found}: {needle!r}"
                checked += 1
        # the exercises are there, and the search above can find a line of text in the pages
        for exercise in page.exercises:
            fragments = [f for line in page.lines[exercise.start : exercise.end + 1]
                         for f in edition.plain_fragments(line, min_words=5)]
            if fragments:
                assert any(fragments[0] in text for text in texts.values()), (
                    f"exercise {exercise.label} ({page.name}) is missing from the student edition: {fragments[0]!r}"
                )
    assert checked or not any(page.solutions for page in pages)
    print(f"{checked} solution lines and fragments checked")
