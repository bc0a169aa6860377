"""Grading submitted notebooks with otter-grader's grading machinery (no Docker), one CSV per folder."""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import re
import tempfile
from pathlib import Path

import nbformat
import pandas as pd
from otter.test_files import ExceptionTestFile, GradingResults

from .checks import CHECKS_ROOT, chapter_checks, check_name


def grade_notebook(notebook: str | Path, chapter: str, *, timeout: int = 600) -> GradingResults:
    """Execute a submitted notebook and grade it against its chapter's check files, as ``otter run`` does.

    otter's grading preprocessor adds its cells (the check machinery first, the export of the results
    last) and the notebook runs from top to bottom in a fresh ``python3`` kernel in the notebook's folder,
    errors allowed. The kernel is driven by the book's executor (:func:`oversmoothing.book.execution.execute`)
    rather than nbconvert's: ``otter run``'s client has no cell timeout and can wait forever on a missed
    wake-up after a widget cell (the stall that module describes); this one stops such a run with
    ``ExecutionStall``, and a cell that runs past ``timeout`` seconds with ``CellTimeoutError``.

    Returns:
        otter's ``GradingResults``: a score per check file (public and hidden cases together).
    """
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from otter.execute.logging import start_server
    from otter.execute.preprocessor import GradingPreprocessor
    from traitlets.config import Config

    from ..book.execution import execute

    notebook = Path(notebook).resolve()
    checks = sorted(str(path) for path in chapter_checks(chapter).values())
    if not checks:
        raise ValueError(f"chapter: {chapter!r} has no check files in {CHECKS_ROOT}")
    handle, results_path = tempfile.mkstemp(suffix=".pkl")
    os.close(handle)
    (host, port), stop_server = start_server()
    config = Config()
    config.GradingPreprocessor.update(
        cwd=str(notebook.parent), test_dir=str(CHECKS_ROOT / chapter), tests_glob=checks, results_path=results_path,
        logging_server_host=host, logging_server_port=port, force_python3_kernel=True, seed=None,
    )
    preprocessor = GradingPreprocessor(config=config)
    try:
        prepared, _ = preprocessor.preprocess(nbformat.read(notebook, as_version=4))
        execute(prepared, cwd=str(notebook.parent), allow_errors=True, timeout=timeout, name=notebook.name)
        with open(results_path, "rb") as results_file:
            return pickle.load(results_file)
    except (CellTimeoutError, DeadKernelError, OSError, EOFError, pickle.UnpicklingError) as error:  # a stall too
        return GradingResults.without_results(error)
    finally:
        stop_server()
        preprocessor.cleanup()
        os.remove(results_path)


def chapter_of(notebook: str | Path, chapters: list[str] | None = None) -> str:
    """The chapter a submitted notebook belongs to: the chapter stem in its file name
    (``alice-05_which_eigenvalue_wins.ipynb`` -> ``05_which_eigenvalue_wins``).

    Args:
        notebook: the submission's path.
        chapters: the chapter stems to look for (default: every chapter with check files).
    """
    known = chapters if chapters is not None else sorted(p.name for p in CHECKS_ROOT.iterdir() if p.is_dir())
    found = [chapter for chapter in known if chapter in Path(notebook).name]
    if len(found) != 1:
        raise ValueError(f"notebook: cannot tell the chapter of {Path(notebook).name!r} from its name "
                         f"(found {found or 'none'} of {known}); name the chapter with --chapter")
    return found[0]


def grade_folder(folder: str | Path, out_csv: str | Path, chapter: str | None = None,
                 *, quiet: bool = True) -> pd.DataFrame:
    """Grade every ``*.ipynb`` of ``folder`` (not recursive) and write one row per notebook to ``out_csv``.

    Each notebook is executed from top to bottom in this environment (errors do not stop it), then the
    public and hidden cases of its chapter's check files run against its global names
    (:func:`grade_notebook`).

    Args:
        folder: the submitted notebooks.
        out_csv: the CSV to write: ``notebook``, ``chapter``, one column of points per exercise label,
            ``total``, ``possible``, ``percent`` (0 to 100) and ``error`` (a grading failure, else empty).
        chapter: the chapter of every notebook; by default each one's is read from its file name
            (:func:`chapter_of`).
        quiet: hide what the graded code prints to this process (the CSV holds the scores).

    Returns:
        The table written, one row per notebook in file-name order.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"folder: {str(folder)!r} is not a folder")
    notebooks = sorted(folder.glob("*.ipynb"))
    if not notebooks:
        raise ValueError(f"folder: no .ipynb files in {str(folder)!r}")
    if chapter is not None:
        chapter_checks(chapter)  # validates the name
    rows = []
    for notebook in notebooks:
        name = chapter or chapter_of(notebook)
        with contextlib.redirect_stdout(io.StringIO()) if quiet else contextlib.nullcontext():
            rows.append(_row(notebook, name, grade_notebook(notebook, name)))
    table = pd.DataFrame(rows)
    Path(out_csv).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out_csv, index=False)
    return table


def _row(notebook: Path, chapter: str, results: GradingResults) -> dict[str, object]:
    error = results.catastrophic_error
    checks = chapter_checks(chapter)
    row: dict[str, object] = {"notebook": notebook.name, "chapter": chapter}
    for label in checks:
        row[label] = 0.0 if error else float(results.get_score(check_name(label)))
    possible = sum(ExceptionTestFile.from_file(str(path)).possible for path in checks.values())
    row.update(total=float(results.total), possible=float(possible),
               percent=round(100 * float(results.total) / possible, 1),
               error="" if error is None else re.sub(r"\s+", " ", f"{type(error).__name__}: {error}"))
    return row
