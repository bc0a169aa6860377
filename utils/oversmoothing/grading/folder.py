"""Grading a folder of submitted notebooks with ``otter run`` (no Docker) into one CSV."""

from __future__ import annotations

import contextlib
import io
import re
import tempfile
from pathlib import Path

import pandas as pd

from .checks import CHECKS_ROOT, chapter_checks, check_name


def autograder_zip(chapter: str, out_dir: str | Path) -> Path:
    """Write ``OUT_DIR/<chapter>-autograder.zip``, otter's autograder for a chapter, from its check files.

    It holds the check files only: ``otter run`` grades in the current environment (this one, with the
    book's package), so no requirements or environment file goes in.
    """
    from otter.generate import main as otter_generate

    checks = chapter_checks(chapter)
    if not checks:
        raise ValueError(f"chapter: {chapter!r} has no check files in {CHECKS_ROOT}")
    out = Path(out_dir) / f"{chapter}-autograder.zip"
    out.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.redirect_stdout(io.StringIO()):
        otter_generate(tests_dir=str(CHECKS_ROOT / chapter), output_path=str(out), no_config=True,
                       no_requirements=True, no_environment=True)
    return out


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

    Each notebook is executed from top to bottom by ``otter run`` in this environment (errors do not stop
    it), then the public and hidden cases of its chapter's check files run against its global names.

    Args:
        folder: the submitted notebooks.
        out_csv: the CSV to write: ``notebook``, ``chapter``, one column of points per exercise label,
            ``total``, ``possible``, ``percent`` (0 to 100) and ``error`` (a grading failure, else empty).
        chapter: the chapter of every notebook; by default each one's is read from its file name
            (:func:`chapter_of`).
        quiet: hide otter's per-notebook report (the CSV holds the scores).

    Returns:
        The table written, one row per notebook in file-name order.
    """
    from otter.run import main as otter_run

    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"folder: {str(folder)!r} is not a folder")
    notebooks = sorted(folder.glob("*.ipynb"))
    if not notebooks:
        raise ValueError(f"folder: no .ipynb files in {str(folder)!r}")
    if chapter is not None:
        chapter_checks(chapter)  # validates the name
    rows, zips = [], {}
    with tempfile.TemporaryDirectory() as work:
        for notebook in notebooks:
            name = chapter or chapter_of(notebook)
            if name not in zips:
                zips[name] = autograder_zip(name, work)
            output = io.StringIO() if quiet else None
            with contextlib.redirect_stdout(output) if quiet else contextlib.nullcontext():
                results = otter_run(str(notebook), autograder=str(zips[name]), output_dir=None, no_logo=True)
            rows.append(_row(notebook, name, results))
    table = pd.DataFrame(rows)
    Path(out_csv).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out_csv, index=False)
    return table


def _row(notebook: Path, chapter: str, results) -> dict[str, object]:
    error = results.catastrophic_error
    row: dict[str, object] = {"notebook": notebook.name, "chapter": chapter}
    for label in chapter_checks(chapter):
        row[label] = 0.0 if error else float(results.get_score(check_name(label)))
    row.update(total=float(results.total), possible=float(results.possible),
               percent=round(100 * float(results.percent), 1),
               error="" if error is None else re.sub(r"\s+", " ", f"{type(error).__name__}: {error}"))
    return row
