"""Autograding of the book's code exercises with `otter-grader <https://otter-grader.readthedocs.io>`_.

Every PyTorch and SymPy exercise that asks for a function has a *check file*,
``checks/<chapter>/<name>.py`` in otter's exception-based format: test cases that receive the student's
function by its parameter name and nothing else (never a solution cell). Public cases run in the student
notebook (:func:`check`); hidden ones run only when an instructor grades (:func:`grade_folder`, or
``oversmoothing grade``).

Grading needs no Docker: :func:`grade_notebook` runs otter's grading preprocessor on a submitted notebook
and executes it in the current environment, as ``otter run`` does, but with the book's stall-proof executor.
(nbgrader's local autograding needs a course database, a notebook-server extension and cell checksums written
by its own release step; otter needs only its check files.)
"""

from .checks import CHECKS_ROOT, chapter_checks, check_label, check_name, check_path, checked, run_check
from .notebook import check
from .folder import chapter_of, grade_folder, grade_notebook

__all__ = [
    "CHECKS_ROOT", "chapter_checks", "chapter_of", "check", "check_label", "check_name",
    "check_path", "checked", "grade_folder", "grade_notebook", "run_check",
]
