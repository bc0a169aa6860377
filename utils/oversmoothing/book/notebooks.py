"""MyST Markdown pages as Jupyter notebooks (the Colab twins, the student notebooks)."""

from __future__ import annotations

import jupytext
import nbformat

__all__ = ["output_free_notebook"]


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
