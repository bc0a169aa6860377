"""The check files of the exercises: where they are, their names, and running one in-process."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

try:
    from otter.test_files import ExceptionTestFile, TestCaseResult
except ImportError as err:  # pragma: no cover - the book's environment has otter-grader
    raise ImportError("oversmoothing.grading needs otter-grader: pip install 'oversmoothing[course]'") from err

CHECKS_ROOT = Path(__file__).parent / "checks"
"""One folder per chapter (named like the chapter's file, ``01_measuring_smoothing``), one file per exercise."""

_LABEL = re.compile(r"ex-[a-z0-9]+(?:-[a-z0-9]+)*")


def check_name(label: str) -> str:
    """The otter name of an exercise's checks: its label with ``_`` for ``-`` (``ex-a-b`` -> ``ex_a_b``)."""
    if not isinstance(label, str) or not _LABEL.fullmatch(label):
        raise ValueError(f"label: expected an exercise label like 'ex-measuring-naive-cosine', got {label!r}")
    return label.replace("-", "_")


def check_label(name: str) -> str:
    """The exercise label of a check name (the inverse of :func:`check_name`)."""
    label = name.replace("_", "-") if isinstance(name, str) else name
    check_name(label)
    return label


def chapter_checks(chapter: str) -> dict[str, Path]:
    """The check files of a chapter, ``{exercise label: path}`` in file-name order (empty for a chapter
    with no checks). ``chapter`` is a chapter's file stem, such as ``"01_measuring_smoothing"``."""
    if not isinstance(chapter, str) or not re.fullmatch(r"\d\d_[a-z0-9_]+", chapter):
        raise ValueError(f"chapter: expected a chapter file stem like '01_measuring_smoothing', got {chapter!r}")
    folder = CHECKS_ROOT / chapter
    return {check_label(path.stem): path for path in sorted(folder.glob("ex_*.py"))}


def check_path(label: str) -> Path:
    """The check file of an exercise, searched in every chapter; ``ValueError`` when it has none."""
    name = check_name(label)
    found = sorted(CHECKS_ROOT.glob(f"*/{name}.py"))
    if not found:
        raise ValueError(f"label: exercise {label!r} has no check file (looked for */{name}.py in {CHECKS_ROOT})")
    return found[0]


def run_check(label: str, env: dict[str, Any], *, hidden: bool = True) -> list[TestCaseResult]:
    """Run an exercise's test cases against the names in ``env`` (as otter does after a notebook ran).

    Args:
        label: the exercise label, e.g. ``"ex-measuring-naive-cosine"``.
        env: the global names of the student's code; each test case receives the names it asks for.
        hidden: also run the hidden cases (the grader's view); ``False`` runs the public ones only.

    Returns:
        One otter ``TestCaseResult`` per case run, with ``passed`` and ``message``.
    """
    return list(checked(label, env, hidden=hidden).test_case_results)


def checked(label: str, env: dict[str, Any], *, hidden: bool = True) -> ExceptionTestFile:
    """The otter test file of an exercise after running it against ``env`` (see :func:`run_check`); its
    ``repr`` is otter's report, which Jupyter shows."""
    if not isinstance(env, dict):
        raise TypeError(f"env: expected a dict of names, got {type(env).__name__}")
    test_file = ExceptionTestFile.from_file(str(check_path(label)))
    if not hidden:
        test_file.test_cases = [case for case in test_file.test_cases if not case.hidden]
    test_file.run(env)
    return test_file
