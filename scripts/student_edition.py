"""The student edition of the book: every exercise kept, every solution removed.

    python scripts/student_edition.py notebooks OUT_DIR     # student .ipynb + OUT_DIR/instructor/*.ipynb
    python scripts/student_edition.py source OUT_DIR        # a stripped copy of the book source, then
    jupyter-book build OUT_DIR --warningiserror --keep-going

The chapters (MyST Markdown; the Exercises rule of the book's style guide) write an exercise as a gated
``exercise-start``/``exercise-end`` block (or a plain ``{exercise}`` directive). A code exercise shows its
stub as a static ```` ```python ```` block with ``...`` and ``raise NotImplementedError``. The solution
that follows is a gated ``solution-start``/``solution-end`` block (or a plain ``{solution}`` directive)
with prose and executing ``{code-cell}``\\ s. This script removes each solution -- the directive, its
prose and its code cells -- and puts in its place:

* in a **student notebook** (``notebooks``): the stub(s) of its exercise, each as an executable code
  cell tagged ``raises-exception`` (nbclient, ``jupyter nbconvert --execute`` and myst-nb then accept
  the ``NotImplementedError`` a stub may raise) and ``exercise-stub`` (how the tests find them), and a
  markdown cell ``*Your answer here.*`` when the exercise has no stub (pencil and paper, SymPy without
  a stub) or its solution has prose (a question to answer in words); after the stubs of an exercise with
  a check file (``oversmoothing.grading``), a cell tagged ``exercise-check`` that runs its public tests;
* in the **student HTML source** (``source``): nothing. The exercise box already shows the stub as a
  static block, so the page shows the exercise and no solution, and no stub executes during the
  build: no traceback on the page, no ``raises-exception`` needed, no extra run time.

The exercise text is kept word for word. References to a label defined inside a removed solution (the
solution's own ``:label:``, or an equation, figure or ``(target)=`` inside it), from any page, are
redirected to the exercise it solves (``{ref}`text <label>``` keeps its text; a bare ``{ref}``,
``{eq}``, ``{prf:ref}`` or ``{numref}`` becomes ``{numref}`exercise```), so the ``-W`` build does not
break on a missing target. sphinx-exercise's ``hide_solutions`` is not used: it crashes on gated
solutions.

The instructor guide (``DROPPED_PAGES``) is not part of the student edition: ``source`` leaves it out of
the table of contents and the copy, and a reference to one of its labels becomes plain text (a
parenthetical ``(see also {ref}`instructors`)`` is dropped whole).

``source`` copies ``_config.yml`` (title marked as the student edition; the Colab launch button opens the
student Colab edition ``notebooks/student/NAME.ipynb``, written by ``scripts/colab_edition.py write
--student``: the book extension opens that folder in a source holding ``MARKER``, and the folder is
copied into the student source so the extension finds it), ``_toc.yml`` (without the dropped pages), every folder
holding a page of the table of contents (``book/`` with its ``vendor/``, ``chapters/``; never the
``.ipynb`` twins) and the files the configuration names; the ``oversmoothing`` package is imported
from the environment, as in the main build.

With ``--executed DIR`` (the main build's executed notebooks, ``_build/jupyter_execute``), ``source``
executes nothing: each executable page becomes an ``.ipynb`` whose kept code cells carry the outputs of
the same cells in the main build, and the student ``_config.yml`` turns execution off. The chapters then
run once per ``make test``, in the main build.
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import re
import shutil
import symtable
import sys
import textwrap
import tokenize
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import jupytext
import nbformat
import yaml

from oversmoothing.book.myst import FENCE as _FENCE
from oversmoothing.book.myst import DirectiveInfo
from oversmoothing.book.notebooks import output_free_notebook
from oversmoothing.grading import check_path

ROOT = Path(__file__).resolve().parents[1]
STUB_TAGS = ("raises-exception", "exercise-stub")
PACKAGE_INSTALL = '"oversmoothing @ git+'  # the chapters' install cell (Colab, a fresh kernel) ...
COURSE_INSTALL = '"oversmoothing[course] @ git+'  # ... and the student notebooks': with the grader
CHECK_TAG = "exercise-check"  # the cell after an autograded exercise's stubs that runs its public tests
ANSWER_PLACEHOLDER = "*Your answer here.*"
MARKER = ".student-edition"  # written into a `source` output folder, so that it may be replaced
DROPPED_PAGES = ("book/instructors",)  # pages of the main book that the student edition leaves out
STUDENT_COLAB_FOLDER = "notebooks/student"  # the student Colab edition (scripts/colab_edition.py --student);
# oversmoothing.book.sphinx points the Colab buttons there in a source holding MARKER

Mode = Literal["notebook", "html"]

# ------------------------------------------------------------------------------------------ parsing

_OPTION = re.compile(r"^\s*:(?P<key>[\w-]+):\s?(?P<value>.*)$")
_PYTHON = {"python", "python3", "py", "ipython", "ipython3"}
# Directives whose body is literal text, not MyST (their body is not searched for nested fences).
_LITERAL_DIRECTIVES = {"code-cell", "code-block", "code", "sourcecode", "math", "raw", "literalinclude"}
_CODE_DIRECTIVES = {"code-block", "code", "sourcecode"}


class ChapterFormatError(ValueError):
    """A page's exercises or solutions are not in the book's format (the message says where)."""


@dataclass(frozen=True)
class Fence(DirectiveInfo):
    """A fenced block: lines ``start`` (the opening fence) to ``end`` (the closing fence), 0-based."""

    start: int
    end: int
    indent: str
    marker: str
    info: str
    children: tuple[Fence, ...] = ()

    def descendants(self):
        for child in self.children:
            yield child
            yield from child.descendants()


def scan_fences(lines: list[str], lo: int = 0, hi: int | None = None, *, name: str = "<page>") -> list[Fence]:
    """The fenced blocks of ``lines[lo:hi]`` (CommonMark rules: a fence closes at the first line of the
    same character, at least as long, with nothing after it). Directive bodies are scanned for nested
    fences (``children``); literal bodies (code, math) are not."""
    hi = len(lines) if hi is None else hi
    fences: list[Fence] = []
    i = lo
    while i < hi:
        match = _FENCE.match(lines[i])
        if match is None or (match["marker"][0] == "`" and "`" in match["info"]):
            i += 1
            continue
        char, length = match["marker"][0], len(match["marker"])
        j = i + 1
        while j < hi:
            close = _FENCE.match(lines[j])
            if close and close["marker"][0] == char and len(close["marker"]) >= length and not close["info"].strip():
                break
            j += 1
        else:
            raise ChapterFormatError(f"{name}:{i + 1}: the fence {lines[i].strip()!r} is never closed")
        fence = Fence(i, j, match["indent"], match["marker"], match["info"].strip())
        if fence.directive is not None and fence.directive not in _LITERAL_DIRECTIVES:
            fence = Fence(i, j, fence.indent, fence.marker, fence.info, tuple(scan_fences(lines, i + 1, j, name=name)))
        fences.append(fence)
        i = j + 1
    return fences


def directive_options(lines: list[str], fence: Fence) -> tuple[dict[str, object], int]:
    """The options of a fenced directive (``:key: value`` lines or a ``---`` YAML block) and the index
    of the first line of its body."""
    i = fence.start + 1
    options: dict[str, object] = {}
    if i < fence.end and lines[i].strip() == "---":
        j = i + 1
        while j < fence.end and lines[j].strip() != "---":
            j += 1
        loaded = yaml.safe_load("\n".join(lines[i + 1 : j])) if j < fence.end else None
        return (loaded if isinstance(loaded, dict) else {}), min(j + 1, fence.end)
    while i < fence.end and (match := _OPTION.match(lines[i])):
        options[match["key"]] = match["value"].strip()
        i += 1
    return options, i


def _body(lines: list[str], fence: Fence) -> str:
    """A fence's body without its options, dedented by the fence's indentation."""
    _, first = directive_options(lines, fence) if fence.directive else ({}, fence.start + 1)
    body = textwrap.dedent("\n".join(lines[first : fence.end]))
    return body.strip("\n")


def _is_python_block(fence: Fence) -> bool:
    if fence.directive is None:
        return (fence.info.split() or [""])[0].lower() in _PYTHON
    return fence.directive in _CODE_DIRECTIVES and (fence.argument.split() or [""])[0].lower() in _PYTHON


_LABEL_PATTERNS = (
    re.compile(r"^\s*\((?P<label>[^()\s]+)\)=\s*$"),  # (target)=
    re.compile(r"^\s*:(?:label|name):\s*(?P<label>\S+)\s*$"),  # directive options
    re.compile(r"^\s*name:\s*(?P<label>[\w.:-]+)\s*$"),  # YAML options of a code cell (mystnb figure)
    re.compile(r"\$\$\s*\((?P<label>[^()\s]+)\)\s*$"),  # $$ ... $$ (eq-label)
)


def defined_labels(lines: list[str]) -> set[str]:
    """Labels that MyST text defines: targets, ``:label:``/``:name:`` options, equation labels."""
    labels = set()
    for line in lines:
        for pattern in _LABEL_PATTERNS:
            if match := pattern.search(line):
                labels.add(match["label"])
    return labels


@dataclass
class Exercise:
    """An exercise: its label, title, lines ``start``..``end`` (inclusive) and the code of its stubs."""

    label: str | None
    title: str
    start: int
    end: int
    stubs: list[str] = field(default_factory=list)
    nonumber: bool = False


@dataclass
class Solution:
    """A solution: the exercise it solves, its lines ``start``..``end`` (inclusive), its prose lines
    (markdown outside code cells, without the directive lines), the sources of its code cells and the
    labels defined inside it."""

    exercise: str
    label: str | None
    start: int
    end: int
    prose: list[str] = field(default_factory=list)
    code: list[str] = field(default_factory=list)
    labels: set[str] = field(default_factory=set)


@dataclass
class Page:
    """A parsed MyST page: its lines, exercises and solutions (in order)."""

    name: str
    text: str
    lines: list[str]
    exercises: list[Exercise]
    solutions: list[Solution]

    def exercise(self, label: str) -> Exercise:
        for exercise in self.exercises:
            if exercise.label == label:
                return exercise
        known = [e.label for e in self.exercises if e.label]
        raise ChapterFormatError(
            f"{self.name}: a solution refers to exercise {label!r}, which is not an exercise of this page "
            f"(exercises here: {known})"
        )


def _stubs(lines: list[str], fences) -> list[str]:
    stubs = []
    for fence in fences:
        if _is_python_block(fence):
            body = _body(lines, fence)
            if "NotImplementedError" in body:
                stubs.append(body)
    return stubs


def _find_end(top: list[Fence], k: int, end: str, lines: list[str], name: str) -> int:
    """Index in ``top`` of the ``end`` fence closing the gated block opened by ``top[k]``."""
    opener = top[k].directive
    for m in range(k + 1, len(top)):
        directive = top[m].directive
        if directive == end:
            return m
        if directive in ("exercise-start", "solution-start", "exercise-end", "solution-end", "exercise", "solution"):
            break
    raise ChapterFormatError(
        f"{name}:{top[k].start + 1}: {{{opener}}} {top[k].argument!r} has no matching {{{end}}} before "
        f"the next exercise or solution directive"
    )


def parse_page(text: str, name: str = "<page>") -> Page:
    """Find the exercises (gated or not), their stubs, and the solutions (gated or not) of a page.

    Raises:
        ChapterFormatError: an unclosed fence, a gated start without its end (or an end without a
            start), or a solution without the label of an exercise.
    """
    lines = text.split("\n")
    top = scan_fences(lines, name=name)
    exercises: list[Exercise] = []
    solutions: list[Solution] = []
    k = 0
    while k < len(top):
        fence = top[k]
        directive = fence.directive
        if directive in ("exercise-start", "exercise"):
            options, _ = directive_options(lines, fence)
            if directive == "exercise-start":
                m = _find_end(top, k, "exercise-end", lines, name)
                inner = [f for f in top[k + 1 : m] for f in (f, *f.descendants())]
                end = top[m].end
            else:
                m, inner, end = k, list(fence.descendants()), fence.end
            label = options.get("label")
            exercises.append(
                Exercise(
                    label=str(label) if label else None,
                    title=fence.argument,
                    start=fence.start,
                    end=end,
                    stubs=_stubs(lines, inner),
                    nonumber="nonumber" in options,
                )
            )
            k = m + 1
        elif directive in ("solution-start", "solution"):
            options, body_start = directive_options(lines, fence)
            target = fence.argument.split()[0] if fence.argument.split() else ""
            if not target:
                raise ChapterFormatError(f"{name}:{fence.start + 1}: {{{directive}}} names no exercise label")
            if directive == "solution-start":
                m = _find_end(top, k, "solution-end", lines, name)
                inner, first, last, end = top[k + 1 : m], fence.end + 1, top[m].start, top[m].end
            else:
                m, inner, first, last, end = k, list(fence.children), body_start, fence.end, fence.end
            cells = [f for f in inner if f.directive == "code-cell"]
            in_cell = {i for cell in cells for i in range(cell.start, cell.end + 1)}
            label = options.get("label")
            solutions.append(
                Solution(
                    exercise=target,
                    label=str(label) if label else None,
                    start=fence.start,
                    end=end,
                    prose=[lines[i] for i in range(first, last) if i not in in_cell],
                    code=[_body(lines, cell) for cell in cells],
                    labels=defined_labels(lines[fence.start : end + 1]),
                )
            )
            k = m + 1
        elif directive in ("exercise-end", "solution-end"):
            raise ChapterFormatError(f"{name}:{fence.start + 1}: {{{directive}}} without a matching start")
        else:
            k += 1
    page = Page(name=name, text=text, lines=lines, exercises=exercises, solutions=solutions)
    for solution in solutions:
        page.exercise(solution.exercise)  # raises when the exercise is not on this page
    return page


# ------------------------------------------------------------------------------------ stripping

_ROLE = re.compile(r"\{(?P<role>[\w:.-]+)\}`(?P<content>[^`]+)`")
_LINK = re.compile(r"\]\(#(?P<label>[^)\s]+)\)")
_REF_ROLES = {"ref", "numref", "eq", "prf:ref", "any", "std:ref"}


def removed_labels(pages: list[Page]) -> dict[str, Exercise]:
    """Every label defined inside a removed solution, mapped to the exercise that solution solves
    (labels also defined in kept text are left alone)."""
    redirect: dict[str, Exercise] = {}
    for page in pages:
        kept = defined_labels(_kept_lines(page))
        for solution in page.solutions:
            for label in solution.labels - kept:
                redirect[label] = page.exercise(solution.exercise)
    return redirect


def _kept_lines(page: Page) -> list[str]:
    removed = {i for s in page.solutions for i in range(s.start, s.end + 1)}
    return [line for i, line in enumerate(page.lines) if i not in removed]


def redirect_references(text: str, redirect: dict[str, Exercise]) -> str:
    """Point references to removed labels at the exercise instead (see the module docstring)."""
    if not redirect:
        return text

    def role(match: re.Match) -> str:
        name, content = match["role"], match["content"]
        explicit = re.fullmatch(r"(?s)(?P<text>.*?)\s*<(?P<target>[^<>]+)>", content)
        target = (explicit["target"] if explicit else content).strip()
        if name not in _REF_ROLES or target not in redirect:
            return match.group(0)
        exercise = redirect[target]
        if explicit and explicit["text"]:
            new_role = "numref" if name == "numref" and not exercise.nonumber else "ref"
            return f"{{{new_role}}}`{explicit['text']} <{exercise.label}>`"
        return f"{{{'ref' if exercise.nonumber else 'numref'}}}`{exercise.label}`"

    def link(match: re.Match) -> str:
        exercise = redirect.get(match["label"])
        return match.group(0) if exercise is None else f"](#{exercise.label})"

    return _LINK.sub(link, _ROLE.sub(role, text))


def stub_cell(stub: str) -> str:
    """A stub as an executable MyST code cell, tagged so that its NotImplementedError is allowed."""
    return f"```{{code-cell}} ipython3\n:tags: [{', '.join(STUB_TAGS)}]\n\n{stub}\n```"


def check_cell(label: str) -> str:
    """A code cell that runs the public tests of an exercise (``oversmoothing.grading.check``)."""
    call = f'check("{label}")  # the public tests; more tests run when your notebook is graded'
    return f"```{{code-cell}} ipython3\n:tags: [{CHECK_TAG}]\n\nfrom oversmoothing.grading import check\n\n{call}\n```"


def has_check(exercise: Exercise) -> bool:
    """Whether an exercise with stubs has a check file (the code exercises that are autograded)."""
    if not exercise.stubs or exercise.label is None:
        return False
    try:
        check_path(exercise.label)
    except ValueError:
        return False
    return True


def replacement(exercise: Exercise, solution: Solution, mode: Mode) -> str:
    """What takes a solution's place: see the module docstring."""
    if mode == "html":
        return ""
    cells = [stub_cell(stub) for stub in exercise.stubs]
    if has_check(exercise):
        cells.append(check_cell(exercise.label))
    if not cells or any(line.strip() for line in solution.prose):
        cells.append(f"+++\n\n{ANSWER_PLACEHOLDER}\n\n+++")
    return "\n\n".join(cells)


def strip_solutions(page: Page, mode: Mode, redirect: dict[str, Exercise] | None = None) -> str:
    """The page's text with every solution replaced (``mode`` ``"notebook"`` or ``"html"``) and
    references to removed labels redirected. A page without solutions and such references is
    returned unchanged."""
    if mode not in ("notebook", "html"):
        raise ValueError(f"mode must be 'notebook' or 'html', got {mode!r}")
    redirect = removed_labels([page]) if redirect is None else redirect
    text, cursor = "", 0
    for solution in page.solutions:
        before = redirect_references("\n".join(page.lines[cursor : solution.start]), redirect)
        text += before.rstrip("\n") + "\n\n"
        new = replacement(page.exercise(solution.exercise), solution, mode)
        if new:
            text += new + "\n\n"
        cursor = solution.end + 1
    rest = redirect_references("\n".join(page.lines[cursor:]), redirect)
    return text + (rest.lstrip("\n") if page.solutions else rest)


def dropped_labels(root: Path = ROOT, dropped: tuple[str, ...] = DROPPED_PAGES) -> dict[str, str]:
    """The labels defined on the pages the student edition leaves out, each mapped to its page's title
    (its first level-1 heading). A page's own name counts as a label too (for ``{doc}``)."""
    labels: dict[str, str] = {}
    for docname in dropped:
        path = Path(root) / f"{docname}.md"
        if not path.is_file():
            continue
        lines = path.read_text(encoding="utf-8").split("\n")
        title = next((line[2:].strip() for line in lines if line.startswith("# ")), Path(docname).name)
        labels.update({label: title for label in defined_labels(lines)})
        labels[docname] = labels[f"/{docname}"] = title
    return labels


_SEE_ALSO = re.compile(r"\s*\((?:see(?: also)?\s+)?(?P<role>\{[\w:.-]+\}`[^`]+`)\)")


def drop_references(text: str, dropped: Mapping[str, str]) -> str:
    """References to a label of a dropped page (:func:`dropped_labels`) as plain text: an explicit text
    is kept, a bare reference becomes the page's title, and a parenthetical that is only such a
    reference (``(see also {ref}`instructors`)``) is removed."""
    if not dropped:
        return text

    def target(role: str) -> str | None:
        match = _ROLE.fullmatch(role)
        if match is None or match["role"] not in _REF_ROLES | {"doc"}:
            return None
        explicit = re.fullmatch(r"(?s)(?P<text>.*?)\s*<(?P<target>[^<>]+)>", match["content"])
        label = (explicit["target"] if explicit else match["content"]).strip()
        return label if label in dropped else None

    def see_also(match: re.Match) -> str:
        return "" if target(match["role"]) else match.group(0)

    def role(match: re.Match) -> str:
        label = target(match.group(0))
        if label is None:
            return match.group(0)
        explicit = re.fullmatch(r"(?s)(?P<text>.*?)\s*<(?P<target>[^<>]+)>", match["content"])
        return explicit["text"] if explicit and explicit["text"] else f"*{dropped[label]}*"

    return _ROLE.sub(role, _SEE_ALSO.sub(see_also, text))


def student_toc(root: Path = ROOT, dropped: tuple[str, ...] = DROPPED_PAGES) -> str:
    """``_toc.yml`` for the student edition: the entries of the dropped pages removed."""
    toc = yaml.safe_load((Path(root) / "_toc.yml").read_text(encoding="utf-8"))

    def keep(node):
        if isinstance(node, dict):
            return {key: keep(value) for key, value in node.items()}
        if isinstance(node, list):
            return [keep(item) for item in node
                    if not (isinstance(item, dict) and str(item.get("file", "")).removesuffix(".md") in dropped)]
        return node

    header = "# Generated by scripts/student_edition.py from ../_toc.yml: edit that file instead.\n"
    return header + yaml.safe_dump(keep(toc), sort_keys=False, allow_unicode=True, width=120)


def student_markdown(text: str, mode: Mode = "notebook", name: str = "<page>") -> str:
    """A MyST page's student version (one page on its own; see :func:`write_source` for a book). A student
    notebook with check cells installs the package with its ``course`` extra (otter-grader) where it is missing."""
    page = parse_page(text, name)
    stripped = strip_solutions(page, mode)
    if mode == "notebook" and any(has_check(exercise) for exercise in page.exercises):
        stripped = stripped.replace(PACKAGE_INSTALL, COURSE_INSTALL)
    return stripped


# ------------------------------------------------------------------------------------ notebooks


notebook_from_markdown = output_free_notebook  # the same conversion as the Colab twins


def student_notebook(text: str, name: str = "<page>") -> nbformat.NotebookNode:
    """The student notebook of a chapter: solutions replaced by stub cells or answer placeholders."""
    return notebook_from_markdown(student_markdown(text, "notebook", name))


def is_stub_cell(cell) -> bool:
    return cell.cell_type == "code" and "exercise-stub" in cell.get("metadata", {}).get("tags", [])


def write_notebooks(chapters: list[Path], out_dir: Path) -> list[Path]:
    """Write ``OUT_DIR/<chapter>.ipynb`` (student) and ``OUT_DIR/instructor/<chapter>.ipynb`` (full) for
    each chapter; return the student notebooks' paths."""
    out_dir = Path(out_dir)
    (out_dir / "instructor").mkdir(parents=True, exist_ok=True)
    written = []
    for chapter in chapters:
        text = Path(chapter).read_text(encoding="utf-8")
        student = out_dir / f"{Path(chapter).stem}.ipynb"
        student.write_text(nbformat.writes(student_notebook(text, Path(chapter).name), version=4) + "\n", "utf-8")
        instructor = out_dir / "instructor" / student.name
        instructor.write_text(nbformat.writes(notebook_from_markdown(text), version=4) + "\n", "utf-8")
        written.append(student)
    return written


# --------------------------------------------------------------------------------------- source


def toc_files(root: Path) -> list[Path]:
    """The pages named by ``_toc.yml`` (``root`` and every ``file``; ``glob`` entries expanded)."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    entries: list[str] = []
    globs: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("root", "file") and isinstance(value, str):
                    entries.append(value)
                elif key == "glob" and isinstance(value, str):
                    globs.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc)
    pages = []
    for entry in entries:
        candidates = [root / entry] if Path(entry).suffix else [root / f"{entry}{s}" for s in (".md", ".ipynb", ".rst")]
        pages += [c for c in candidates if c.is_file()][:1]
    for pattern in globs:
        pages += sorted(p for p in root.glob(f"{pattern}.md"))
    return pages


def _copy_ignore(folder: str, names: list[str]) -> set[str]:
    ignored = {n for n in names if n.startswith(".") or n in ("__pycache__", "_build")}
    # the Colab twins hold the solutions
    ignored |= {n for n in names if n.endswith(".ipynb") and f"{n[: -len('.ipynb')]}.md" in names}
    return ignored


def student_config(root: Path, executed: bool = False) -> str:
    """``_config.yml`` for the student edition; with ``executed``, for pages that are executed
    notebooks (execution off, ``.ipynb`` pages no longer excluded)."""
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8")) or {}
    config["title"] = f"{config.get('title', 'Book')} (student edition)"
    if executed:
        config["exclude_patterns"] = [p for p in config.get("exclude_patterns", []) if not p.endswith(".ipynb")]
        execute = config.setdefault("execute", {})
        execute["execute_notebooks"] = "off"
        execute.pop("exclude_patterns", None)
    header = "# Generated by scripts/student_edition.py from ../_config.yml: edit that file instead.\n"
    return header + yaml.safe_dump(config, sort_keys=False, allow_unicode=True, width=120)


def is_executable(text: str) -> bool:
    """Whether a MyST page is a notebook (its front matter names a kernel)."""
    match = re.match(r"---\s*\n(.*?)\n---\s*\n", text, flags=re.DOTALL)
    return bool(match) and "kernelspec" in (yaml.safe_load(match.group(1)) or {})


def with_outputs(text: str, executed: nbformat.NotebookNode, name: str = "<page>",
                 glued: Mapping[str, dict] | None = None) -> nbformat.NotebookNode:
    """The notebook of a MyST page (a student page) whose code cells take the outputs of the same cells
    (same source, same order) of ``executed``, an execution of the full page; its widget state too.

    ``glued`` is the page's glue data as the main build wrote it beside ``executed`` (myst-nb's
    ``PAGE.glue.json``: name -> output, with the MIME prefix stripped). myst-nb takes glued values out of the
    executed notebook, so they come back here, as outputs of the page's last code cell; myst-nb reads the
    glue data of every cell, wherever it sits.

    Raises:
        ChapterFormatError: a code cell of the page has no counterpart in ``executed`` (the executed
            notebook is of another version of the page).
    """
    notebook = jupytext.reads(text, fmt="md:myst")
    notebook.metadata.pop("jupytext", None)
    if "widgets" in executed.metadata:
        notebook.metadata["widgets"] = executed.metadata["widgets"]
    done = iter([cell for cell in executed.cells if cell.cell_type == "code"])
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        match = next((c for c in done if c.source.strip() == cell.source.strip()), None)
        if match is None:
            raise ChapterFormatError(
                f"{name}: code cell {index} is not in the executed notebook (in order); rebuild the book first:\n"
                f"{cell.source[:300]}"
            )
        cell.outputs, cell.execution_count = match.outputs, match.get("execution_count")
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    if glued and code:
        code[-1].outputs = code[-1].outputs + [_glue_output(output) for output in glued.values()]
    return notebook


def _glue_output(output: dict) -> nbformat.NotebookNode:
    """A glue output as it was in the executed notebook: its MIME keys with the prefix myst-nb stripped."""
    prefix = output["metadata"]["scrapbook"].get("mime_prefix", "")
    return nbformat.from_dict(dict(output, data={prefix + key: value for key, value in output["data"].items()}))


def write_source(out_dir: Path, root: Path = ROOT, executed: Path | None = None) -> list[Path]:
    """Write the student edition's book source into ``out_dir`` (replacing an earlier one, but keeping
    its ``_build``); return the pages written. Build it with
    ``jupyter-book build OUT_DIR --warningiserror --keep-going``.

    With ``executed`` (the main build's ``_build/jupyter_execute``), executable pages are written as
    ``.ipynb`` with the main build's outputs (:func:`with_outputs`) and the build executes nothing."""
    root, out_dir = Path(root).resolve(), Path(out_dir).resolve()
    pages = [p for p in toc_files(root) if p.relative_to(root).with_suffix("").as_posix() not in DROPPED_PAGES]
    sources = {root / p.relative_to(root).parts[0] for p in pages if len(p.relative_to(root).parts) > 1}
    if out_dir == root or out_dir in root.parents or any(out_dir == s or s in out_dir.parents for s in sources):
        raise ValueError(f"out_dir={str(out_dir)!r} overlaps the book's own source; use e.g. _build/student_src")
    if out_dir.exists() and any(out_dir.iterdir()):
        if not (out_dir / MARKER).is_file():
            raise ValueError(f"out_dir={str(out_dir)!r} is not empty and was not written by this script")
        for entry in out_dir.iterdir():
            if entry.name not in ("_build", MARKER):
                shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / MARKER).write_text("written by scripts/student_edition.py source; safe to delete\n")

    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8")) or {}
    extra = list(config.get("bibtex_bibfiles") or []) + list(
        (config.get("sphinx", {}).get("config", {}) or {}).get("html_static_path") or []
    )
    folders = {p.relative_to(root).parts[0] for p in pages if len(p.relative_to(root).parts) > 1}
    for item in sorted(folders) + [e for e in extra if Path(e).parts and Path(e).parts[0] not in folders]:
        source = root / item
        if source.is_dir():
            shutil.copytree(source, out_dir / item, ignore=_copy_ignore, dirs_exist_ok=True)
        elif source.is_file():
            (out_dir / item).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, out_dir / item)
    for page in pages:  # top-level pages
        if len(page.relative_to(root).parts) == 1:
            shutil.copy2(page, out_dir / page.name)
    for docname in DROPPED_PAGES:  # copied with its folder
        for dropped_page in out_dir.glob(f"{docname}.*"):
            dropped_page.unlink()
    (out_dir / "_toc.yml").write_text(student_toc(root), encoding="utf-8")
    if (root / STUDENT_COLAB_FOLDER).is_dir():  # the Colab buttons' targets: the extension checks they exist
        shutil.copytree(root / STUDENT_COLAB_FOLDER, out_dir / STUDENT_COLAB_FOLDER, dirs_exist_ok=True)
    (out_dir / "_config.yml").write_text(student_config(root, executed is not None), encoding="utf-8")

    markdown = [p for p in pages if p.suffix == ".md"]
    parsed = [parse_page(p.read_text(encoding="utf-8"), str(p.relative_to(root))) for p in markdown]
    redirect = removed_labels(parsed)
    dropped = dropped_labels(root)
    written = []
    for path, page in zip(markdown, parsed):
        target = out_dir / path.relative_to(root)
        text = drop_references(strip_solutions(page, "html", redirect), dropped)
        if executed is not None and is_executable(text):
            source = Path(executed) / path.relative_to(root).with_suffix(".ipynb")
            if not source.is_file():
                raise ValueError(f"{source} is missing: build the book first (make book)")
            target.unlink()
            target = target.with_suffix(".ipynb")
            sidecar = source.with_suffix(".glue.json")                 # written by myst-nb beside the notebook
            glued = json.loads(sidecar.read_text()) if sidecar.is_file() else None
            notebook = with_outputs(text, nbformat.read(source, as_version=4), page.name, glued)
            nbformat.write(notebook, target)
        else:
            target.write_text(text, encoding="utf-8")
        written.append(target)
    return written


# ------------------------------------------------------------------------------------- checking
#
# Used by tests/book/test_student_edition.py; kept here beside the format they check.


def python_source(code: str) -> str:
    """A cell's source as plain Python (IPython magics such as ``%matplotlib`` translated)."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(code)


def code_lines(code: str) -> list[str]:
    """The non-blank lines of Python code without comments, whitespace runs collapsed to one space."""
    lines = code.split("\n")
    try:
        comments = [
            token.start
            for token in tokenize.generate_tokens(io.StringIO(code).readline)
            if token.type == tokenize.COMMENT
        ]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        comments = []
    for row, col in sorted(comments, reverse=True):
        lines[row - 1] = lines[row - 1][:col]
    return [" ".join(line.split()) for line in lines if line.strip()]


def _is_placeholder(line: str) -> bool:
    return line in ("...", "pass") or line.startswith("raise NotImplementedError")


def _line_pattern(line: str) -> re.Pattern:
    """A stub line as a pattern: ``...`` stands for any text."""
    return re.compile(".*".join(re.escape(part) for part in line.split("...")))


def _definitions(body: list[ast.stmt]) -> dict[str, ast.AST]:
    """Names bound at this level by def, class, assignment or import (the last binding wins)."""
    names: dict[str, ast.AST] = {}
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names[node.name] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        names[name.id] = node
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                names[(alias.asname or alias.name).split(".")[0]] = node
    return names


def _signature(node: ast.AST) -> str:
    """``def f(x: int = 1) -> str`` (decorators first) or ``class C(Base)``."""
    decorators = "".join(f"@{ast.unparse(d)} " for d in node.decorator_list)
    if isinstance(node, ast.ClassDef):
        bases = [ast.unparse(b) for b in node.bases] + [ast.unparse(k) for k in node.keywords]
        return f"{decorators}class {node.name}({', '.join(bases)})"
    returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
    prefix = "async def" if isinstance(node, ast.AsyncFunctionDef) else "def"
    return f"{decorators}{prefix} {node.name}({ast.unparse(node.args)}){returns}"


def _compare_definitions(stub: dict[str, ast.AST], solution: dict[str, ast.AST], where: str) -> list[str]:
    problems = []
    for name, node in stub.items():
        qualname = f"{where}{name}"
        if name not in solution:
            problems.append(f"the solution does not define {qualname!r}, which the stub defines")
            continue
        other = solution[name]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if type(other) is not type(node):
                problems.append(f"{qualname!r} is a {type(node).__name__} in the stub but not in the solution")
                continue
            if _signature(node) != _signature(other):
                problems.append(f"signature of {qualname!r}: stub `{_signature(node)}`, solution `{_signature(other)}`")
            if ast.get_docstring(node) != ast.get_docstring(other):
                problems.append(
                    f"docstring of {qualname!r}: stub {ast.get_docstring(node)!r}, "
                    f"solution {ast.get_docstring(other)!r}"
                )
            if isinstance(node, ast.ClassDef):
                problems += _compare_definitions(_definitions(node.body), _definitions(other.body), f"{qualname}.")
    return problems


def stub_mismatches(stub: str, solution: str) -> list[str]:
    """How a stub differs from its solution beyond its placeholders (an empty list when it does not).

    The rule: the stub is valid Python and raises ``NotImplementedError``; every name the stub binds at
    top level (``def``, ``class``, assignment, import; methods and class attributes too) is bound by the
    solution, each ``def``/``class`` with the same signature (decorators, parameters, defaults,
    annotations, bases) and the same docstring; and the stub's lines, without comments and with
    whitespace runs collapsed, appear in the solution in the same order, except the placeholder lines
    (``...``, ``pass``, ``raise NotImplementedError...``), where ``...`` inside a line stands for any
    text (``x = ...`` matches ``x = a @ b``).

    Args:
        stub: the code of the exercise's static block(s).
        solution: the code of the solution's code cells, joined.
    """
    try:
        stub_tree = ast.parse(python_source(stub))
    except SyntaxError as error:
        return [f"the stub is not valid Python: {error}"]
    try:
        solution_tree = ast.parse(python_source(solution))
    except SyntaxError as error:
        return [f"the solution is not valid Python: {error}"]
    problems = []
    raises = any(
        isinstance(node, ast.Raise)
        and node.exc is not None
        and "NotImplementedError" in {n.id for n in ast.walk(node.exc) if isinstance(n, ast.Name)}
        for node in ast.walk(stub_tree)
    )
    if not raises:
        problems.append("the stub does not raise NotImplementedError")
    problems += _compare_definitions(_definitions(stub_tree.body), _definitions(solution_tree.body), "")
    solution_lines = code_lines(solution)
    position = 0
    for line in code_lines(stub):
        if _is_placeholder(line):
            continue
        pattern = _line_pattern(line)
        match = next((i for i in range(position, len(solution_lines)) if pattern.fullmatch(solution_lines[i])), None)
        if match is None:
            after = f" after `{solution_lines[position - 1]}`" if position else ""
            problems.append(f"the stub line `{line}` is not in the solution{after}")
        else:
            position = match + 1
    return problems


def bound_names(code: str) -> set[str]:
    """The global names a cell binds: assigned anywhere at its top level (loops and blocks included),
    imported, or defined by ``def``/``class``."""
    table = symtable.symtable(python_source(code), "<cell>", "exec")
    return {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported() or s.is_namespace()}


def free_names(code: str) -> set[str]:
    """The global names a cell reads: referenced at its top level, or read as globals inside its
    functions and classes (``symtable``; local names of a function are not included)."""
    names: set[str] = set()

    def walk(table: symtable.SymbolTable) -> None:
        for symbol in table.get_symbols():
            top = table.get_type() == "module"
            if symbol.is_referenced() and (top or symbol.is_global()):
                names.add(symbol.get_name())
        for child in table.get_children():
            walk(child)

    walk(symtable.symtable(python_source(code), "<cell>", "exec"))
    return names


def solution_names_used(page: Page) -> list[str]:
    """Where a cell that the student notebook keeps reads a name that only a solution defines: that
    cell would fail in the student notebook, whose solutions are stubs. An empty list when there is none.

    The kept cells are the page's code cells outside its solutions and the stubs; a name counts as
    defined by them when any of them binds it (:func:`bound_names`)."""
    kept = [cell.source for cell in student_notebook(page.text, page.name).cells if cell.cell_type == "code"]
    kept_defined = {name for code in kept for name in bound_names(code)}
    only_solution: dict[str, str] = {}
    for solution in page.solutions:
        for code in solution.code:
            for name in bound_names(code):
                if name not in kept_defined:
                    only_solution.setdefault(name, solution.exercise)
    problems = []
    for code in kept:
        for name in sorted(free_names(code) & only_solution.keys()):
            first = next(line for line in code.split("\n") if line.strip())
            problems.append(f"{page.name}: the cell starting `{first.strip()}` reads {name!r}, which only the "
                            f"solution of {only_solution[name]} defines")
    return problems


MIN_DISTINCTIVE = 16  # characters: shorter solution lines ("(b)", "$$", "return x") prove nothing


def kept_text(page: Page) -> str:
    """The page's text outside its solutions."""
    return "\n".join(_kept_lines(page))


def distinctive_lines(page: Page, solution: Solution) -> list[str]:
    """The lines of a solution (prose and code, stripped) that identify it: at least
    ``MIN_DISTINCTIVE`` characters long and not found anywhere in the page outside its solutions.
    None of them may appear in a student edition."""
    kept = kept_text(page)
    lines = [line.strip() for line in solution.prose] + [l.strip() for code in solution.code for l in code.split("\n")]
    distinct = []
    for line in lines:
        if len(line) >= MIN_DISTINCTIVE and line not in kept and not _FENCE.match(line) and line not in distinct:
            distinct.append(line)
    return distinct


_MARKUP = re.compile(r"\{[^}]*\}`[^`]*`|`[^`]*`|\$\$?[^$]*\$\$?|\\\S+|[*_\[\]()<>|#{}$~^=]")


def plain_fragments(line: str, min_words: int = 4) -> list[str]:
    """The runs of plain words in a line of MyST (between roles, inline code, math and markup), of at
    least ``min_words`` words: the text a rendered page shows as it is."""
    fragments = []
    for part in _MARKUP.split(line):
        words = part.split()
        while words and not re.search(r"\w", words[0]):
            words.pop(0)
        while words and not re.search(r"\w", words[-1]):
            words.pop()
        if len(words) >= min_words:
            fragments.append(" ".join(words))
    return fragments


# ----------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    notebooks = sub.add_parser("notebooks", help="student notebooks, and the full ones in OUT_DIR/instructor/")
    notebooks.add_argument("out_dir", type=Path)
    notebooks.add_argument("--chapters", nargs="+", type=Path, default=None, help="default: chapters/*.md")
    source = sub.add_parser("source", help="the book source with the solutions removed")
    source.add_argument("out_dir", type=Path)
    source.add_argument("--root", type=Path, default=ROOT, help="the book to copy (default: this repository)")
    source.add_argument("--executed", type=Path, default=None,
                        help="the main build's executed notebooks (_build/jupyter_execute): reuse their outputs")
    args = parser.parse_args(argv)
    try:
        if args.command == "notebooks":
            chapters = args.chapters or sorted((ROOT / "chapters").glob("*.md"))
            for path in write_notebooks(chapters, args.out_dir):
                print(path)
        else:
            written = write_source(args.out_dir, args.root, args.executed)
            print(f"{len(written)} pages written to {args.out_dir}; build with "
                  f"`jupyter-book build {args.out_dir} --warningiserror --keep-going`")
    except (ChapterFormatError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
