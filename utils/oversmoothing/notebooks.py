"""Execute a chapter (a MyST Markdown notebook) the way the book build does, and time it.

Used by the chapter tests (``tests/test_chapters.py``, quick profile on the CPU) and by the GPU check
(``scripts/gpu_check.py``, full profile on CUDA)::

    from oversmoothing.notebooks import execute_chapter
    result = execute_chapter(Path("chapters/01_intro.md"), env={"OVERSMOOTHING_PROFILE": "quick"})
    print(f"{result.path.name}: {result.seconds:.1f} s")
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

import jupytext
import nbformat
import yaml
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

__all__ = ["ChapterExecutionError", "ExecutionResult", "execute_chapter", "output_free_notebook"]

KERNEL_NAME = "python3"
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass
class ExecutionResult:
    """An executed chapter: its path, the wall time of the execution and the notebook with outputs."""

    path: Path
    seconds: float
    notebook: nbformat.NotebookNode


class ChapterExecutionError(RuntimeError):
    """A chapter failed to execute; the message holds the failing cell's source and traceback."""

    def __init__(self, message: str, *, path: Path, cell_index: int | None, seconds: float):
        super().__init__(message)
        self.path = path
        self.cell_index = cell_index
        self.seconds = seconds


def _failing_cell(notebook: nbformat.NotebookNode) -> int | None:
    """Index (among all cells) of the first code cell with an error output, if any."""
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and any(output.get("output_type") == "error" for output in cell.get("outputs", [])):
            return index
    return None


def _header_format(path: Path) -> str | None:
    """``format_name`` in the file's own YAML front matter (jupytext guesses a format without one)."""
    text = path.read_text(encoding="utf-8")
    match = re.match(r"---\s*\n(.*?)\n---\s*\n", text, flags=re.DOTALL)
    if match is None:
        return None
    try:
        front = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError:
        return None
    representation = front.get("jupytext", {}).get("text_representation", {}) if isinstance(front, dict) else {}
    return representation.get("format_name") if isinstance(representation, dict) else None


def _kernel_environment(env: dict[str, str] | None) -> dict[str, str]:
    environment = dict(os.environ)
    # An inherited non-interactive backend (``MPLBACKEND=Agg``, as `make` exports) would hide every
    # figure; without it ipykernel uses the inline backend, as in the book build.
    environment.pop("MPLBACKEND", None)
    environment.update(env or {})
    return environment


def execute_chapter(path: Path, *, timeout: int = 600, env: dict[str, str] | None = None) -> ExecutionResult:
    """Run every code cell of a chapter in a fresh ``python3`` kernel, in the chapter's folder.

    Args:
        path: a MyST Markdown notebook (``format_name: myst`` jupytext header).
        timeout: seconds allowed per cell.
        env: environment variables for the kernel, on top of this process's (for example
            ``{"OVERSMOOTHING_PROFILE": "quick", "OVERSMOOTHING_DEVICE": "cpu"}``).

    Returns:
        An :class:`ExecutionResult` with the executed notebook (outputs filled in).

    Raises:
        FileNotFoundError: ``path`` is not a file.
        ValueError: ``path`` has no MyST jupytext header (its code cells would not run in the book).
        ChapterExecutionError: a cell raised, timed out or killed the kernel; the message names the
            chapter and cell and holds the cell's source and traceback.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path={str(path)!r} is not a file")
    if not isinstance(timeout, int) or isinstance(timeout, bool) or timeout < 1:
        raise ValueError(f"timeout must be a positive int of seconds, got {timeout!r}")
    format_name = _header_format(path)
    if format_name != "myst":
        raise ValueError(
            f"path={str(path)!r} has no jupytext header with format_name: myst (got {format_name!r}); "
            "without it the book does not execute the chapter's code cells"
        )
    notebook = jupytext.read(path)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name=KERNEL_NAME,
        resources={"metadata": {"path": str(path.parent.resolve())}},
    )
    start = time.perf_counter()
    try:
        client.execute(env=_kernel_environment(env))
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
        seconds = time.perf_counter() - start
        index = _failing_cell(notebook)
        if index is None and isinstance(error, CellTimeoutError):
            # the timed-out cell is the first code cell without an execution count
            index = next(
                (i for i, c in enumerate(notebook.cells) if c.cell_type == "code" and c.get("execution_count") is None),
                None,
            )
        where = f"cell {index}" if index is not None else "a cell"
        kind = {CellTimeoutError: f"timed out (timeout={timeout} s)", DeadKernelError: "killed the kernel"}.get(
            type(error), "raised an exception"
        )
        detail = _ANSI_ESCAPE.sub("", str(error))
        if index is not None and notebook.cells[index].source not in detail:
            detail = f"{notebook.cells[index].source}\n\n{detail}"
        message = f"{path.name}: {where} {kind} after {seconds:.1f} s\n\n{detail}"
        raise ChapterExecutionError(message, path=path, cell_index=index, seconds=seconds) from error
    return ExecutionResult(path=path, seconds=time.perf_counter() - start, notebook=notebook)


def output_free_notebook(text: str) -> nbformat.NotebookNode:
    """The notebook of a MyST Markdown page with no outputs, no execution counts and cell ids
    numbered in order, so that the same page always gives the same ``.ipynb`` text."""
    notebook = jupytext.reads(text, fmt="md:myst")
    notebook.metadata.pop("jupytext", None)
    for index, cell in enumerate(notebook.cells):
        cell.id = f"cell-{index}"
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return notebook
