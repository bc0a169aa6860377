"""Sphinx extension: the book build executes its pages with :class:`~oversmoothing.book.execution.BookNotebookClient`.

Listed in ``_config.yml`` (``sphinx: extra_extensions``). myst-nb (``execute_notebooks: force``) runs each
page through ``jupyter_cache.executors.utils.single_nb_execution``, which calls the module-level name
``executenb`` (nbclient's ``execute``). This extension rebinds that one name to
:func:`~oversmoothing.book.execution.execute`, so the build gets the same stall-free waits, the stall
detector and error messages that name the page and cell as the other executors. It checks the name it
replaces, so a jupyter-cache release that moves it fails the build instead of silently executing with
the unpatched client.
"""

from __future__ import annotations

from typing import Any

import nbclient
import nbformat
from jupyter_cache.executors import utils as cache_utils
from sphinx.application import Sphinx

from .execution import execute

__all__ = ["setup"]


def setup(app: Sphinx) -> dict[str, Any]:
    current = getattr(cache_utils, "executenb", None)
    if current is not nbclient.execute and getattr(current, "__wrapped_by_book__", False) is not True:
        raise RuntimeError(
            "jupyter_cache.executors.utils.executenb is not nbclient.execute: this jupyter-cache version "
            "executes notebooks differently, so oversmoothing.book.sphinx cannot install the book's executor"
        )

    def execute_page(nb: nbformat.NotebookNode, cwd: str | None = None, **kwargs: Any) -> nbformat.NotebookNode:
        """:func:`~oversmoothing.book.execution.execute`, with messages naming the page being read."""
        docname = getattr(app.env, "docname", None) if app.env is not None else None
        kwargs.pop("record_timing", None)  # myst-nb asks for False; the stall detector reads the timings
        return execute(nb, cwd=cwd, name=f"{docname}.md" if docname else "notebook", **kwargs)

    execute_page.__wrapped_by_book__ = True
    cache_utils.executenb = execute_page
    return {"parallel_read_safe": True, "parallel_write_safe": True}
