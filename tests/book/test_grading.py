"""Autograding (oversmoothing.grading, otter-grader): every check file rejects the stub and a plausible wrong
answer and accepts the chapter's own solution; the student notebooks run their public checks; a folder of
notebooks grades into a CSV.

The in-process tests run each check file against a namespace, as otter does after executing a notebook:

* the **stub**: the exercise's stub code (from the chapter) -- every case fails, on its ``NotImplementedError``;
* the **solution**: the imports and functions that the exercise's solution cells define -- every case passes;
* a **wrong answer** (``tests/book/wrong_answers/chNN.py``) -- at least one case fails, and not on a
  ``NotImplementedError``.

Only chapters with a folder of check files are autograded; in those, every exercise whose kind names SymPy or
PyTorch must have a stub and a check file.
"""

from __future__ import annotations

import ast
import copy as copy_module
import importlib
import math
import re

import nbformat
import numpy as np
import pandas as pd
import pytest
import sympy as sp
import torch

import oversmoothing as ovs
from conftest import ROOT, load_script
from oversmoothing.grading import CHECKS_ROOT, chapter_checks, check_name, grade_folder, run_check
from otter.test_files import ExceptionTestFile

edition = load_script("scripts/student_edition.py")

GRADED = sorted(path.name for path in CHECKS_ROOT.iterdir() if path.is_dir())
CASES = [(chapter, label) for chapter in GRADED for label in chapter_checks(chapter)]
CODE_KINDS = re.compile(r"^\*★{1,3} (?P<kind>[^*]*(?:SymPy|PyTorch)[^*]*)\.\*", re.M)


def page(chapter: str):
    return edition.parse_page((ROOT / "chapters" / f"{chapter}.md").read_text(encoding="utf-8"), chapter)


def namespace() -> dict[str, object]:
    """The names a chapter has imported before its exercises (what a stub or solution may use)."""
    return {"torch": torch, "np": np, "sp": sp, "ovs": ovs, "math": math, "pd": pd, "__name__": "__grading__"}


def solution_source(chapter: str, label: str) -> str:
    """The imports and top-level functions of the solution cells of an exercise, as one source."""
    parsed = page(chapter)
    parts = []
    for solution in parsed.solutions:
        if solution.exercise != label:
            continue
        for code in solution.code:
            source = edition.python_source(code)
            for node in ast.parse(source).body:
                if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef)):
                    parts.append(ast.get_source_segment(source, node))
    assert parts, f"{chapter}: the solution of {label} defines no function"
    return "\n\n".join(parts)


def stub_source(chapter: str, label: str) -> str:
    stubs = page(chapter).exercise(label).stubs
    assert stubs, f"{chapter}: exercise {label} has a check file but no stub"
    return "\n\n".join(stubs)


def wrong_source(chapter: str, label: str) -> str:
    module = importlib.import_module(f"wrong_answers.ch{chapter[:2]}")
    assert label in module.WRONG, f"tests/book/wrong_answers/ch{chapter[:2]}.py has no wrong answer for {label}"
    return module.WRONG[label]


def run_source(label: str, source: str):
    env = namespace()
    exec(compile(source, f"<{label}>", "exec"), env)
    return run_check(label, env)


@pytest.mark.parametrize(("chapter", "label"), CASES)
def test_check_file_has_public_and_hidden_cases_for_the_stub_names(chapter, label):
    test_file = ExceptionTestFile.from_file(str(chapter_checks(chapter)[label]))
    assert test_file.name == check_name(label)
    hidden = [case.hidden for case in test_file.test_cases]
    assert any(hidden) and not all(hidden), f"{label}: needs public and hidden cases, has hidden={hidden}"
    defined = set(edition._definitions(ast.parse(stub_source(chapter, label)).body))
    for case in test_file.test_cases:
        asked = set(case.body._get_func_params())
        assert asked and asked <= defined, f"{case.name} asks for {sorted(asked)}; the stub defines {sorted(defined)}"


@pytest.mark.parametrize(("chapter", "label"), CASES)
def test_stub_fails_every_case_on_its_not_implemented_error(chapter, label):
    results = run_source(label, stub_source(chapter, label))
    assert results and not any(result.passed for result in results)
    for result in results:
        assert "NotImplementedError" in result.message, result.message


@pytest.mark.parametrize(("chapter", "label"), CASES)
def test_solution_passes_every_case(chapter, label):
    results = run_source(label, solution_source(chapter, label))
    failed = [result.message for result in results if not result.passed]
    assert not failed, "\n".join(failed)


@pytest.mark.parametrize(("chapter", "label"), CASES)
def test_plausible_wrong_answer_fails(chapter, label):
    results = run_source(label, wrong_source(chapter, label))
    failed = [result for result in results if not result.passed]
    assert failed, f"{label}: the wrong answer in wrong_answers/ch{chapter[:2]}.py passes every case"
    assert not any("NotImplementedError" in result.message for result in results), "the wrong answer is a stub"


@pytest.mark.parametrize("chapter", GRADED)
def test_every_code_exercise_of_a_graded_chapter_is_autograded(chapter):
    parsed, checks = page(chapter), chapter_checks(chapter)
    for exercise in parsed.exercises:
        text = "\n".join(parsed.lines[exercise.start : exercise.end + 1])
        if CODE_KINDS.search(text):
            assert exercise.stubs, f"{chapter}: {exercise.label} is a SymPy/PyTorch exercise without a stub"
            assert exercise.label in checks, f"{chapter}: {exercise.label} has no check file"
    labels = {exercise.label for exercise in parsed.exercises}
    assert set(checks) <= labels, f"check files without an exercise: {sorted(set(checks) - labels)}"


NOTEBOOK_CHAPTER = "11_settled_and_open"
"""The chapter graded end to end in ``make test``; the others are marked ``grading`` and left to
``make grade-check``, which grades every graded chapter (each is executed three times)."""


def solved(notebook, chapter: str, source_of) -> object:
    """A copy of a student notebook with each autograded exercise's stub cells replaced by ``source_of(label)``."""
    copy = nbformat.from_dict(copy_module.deepcopy(notebook))
    checks = {label: source_of(label) for label in chapter_checks(chapter)}
    for index, cell in enumerate(copy.cells):
        if edition.is_stub_cell(cell):
            following = next(c for c in copy.cells[index + 1 :] if edition.CHECK_TAG in c.metadata.get("tags", []))
            label = re.search(r'check\("([^"]+)"\)', following.source)[1]
            cell.source = checks[label]
    return copy


def student_notebook(chapter: str):
    return edition.student_notebook((ROOT / "chapters" / f"{chapter}.md").read_text(encoding="utf-8"), chapter)


@pytest.mark.parametrize("chapter", GRADED)
def test_student_notebook_runs_the_public_checks_after_each_stub(chapter):
    notebook = student_notebook(chapter)
    checked = [re.search(r'check\("([^"]+)"\)', cell.source)[1] for cell in notebook.cells
               if edition.CHECK_TAG in cell.metadata.get("tags", [])]
    checks = chapter_checks(chapter)
    assert checked == [exercise.label for exercise in page(chapter).exercises if exercise.label in checks], checked


def grade_variants(chapter: str, folder) -> pd.DataFrame:
    """Grade the student notebook of ``chapter`` as handed out, solved, and with the wrong answers."""
    notebook = student_notebook(chapter)
    variants = {
        "stub": notebook,
        "solved": solved(notebook, chapter, lambda label: solution_source(chapter, label)),
        "wrong": solved(notebook, chapter, lambda label: wrong_source(chapter, label)),
    }
    for name, variant in variants.items():
        nbformat.write(variant, folder / f"{name}-{chapter}.ipynb")
    grade_folder(folder, folder / "grades.csv")
    return pd.read_csv(folder / "grades.csv").set_index("notebook")


@pytest.mark.parametrize("chapter", [
    pytest.param(chapter, marks=[] if chapter == NOTEBOOK_CHAPTER else [pytest.mark.grading]) for chapter in GRADED
])
def test_a_folder_of_notebooks_grades_into_a_csv(chapter, tmp_path):
    grades = grade_variants(chapter, tmp_path)
    labels = list(chapter_checks(chapter))
    assert list(grades.columns) == ["chapter", *labels, "total", "possible", "percent", "error"]
    stub, solved_, wrong = (grades.loc[f"{name}-{chapter}.ipynb"] for name in ("stub", "solved", "wrong"))
    assert stub["total"] == 0 and stub["possible"] > 0, stub
    assert solved_["total"] == solved_["possible"] == stub["possible"] and solved_["percent"] == 100, solved_
    assert all(wrong[label] < solved_[label] for label in labels), wrong
    assert grades["error"].isna().all(), grades["error"]
