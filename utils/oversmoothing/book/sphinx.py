"""Sphinx extension: the book build executes its pages with :class:`~oversmoothing.book.execution.BookNotebookClient`.

Listed in ``_config.yml`` (``sphinx: extra_extensions``). myst-nb (``execute_notebooks: force``) runs each
page through ``jupyter_cache.executors.utils.single_nb_execution``, which calls the module-level name
``executenb`` (nbclient's ``execute``). This extension rebinds that one name to
:func:`~oversmoothing.book.execution.execute`, so the build gets the same stall-free waits, the stall
detector and error messages that name the page and cell as the other executors. It checks the name it
replaces, so a jupyter-cache release that moves it fails the build instead of silently executing with
the unpatched client.

It also drops the second copy of any script a page would load twice. sphinx-thebe registers its
configuration script (``const THEBE_JS_URL = ...``) on ``env-before-read-docs``, after the HTML builder
has copied the registry, so Sphinx 7 puts it in every page twice and the browser reports
``SyntaxError: Identifier 'THEBE_JS_URL' has already been declared`` (the toggle-button selector is
doubled the same way, harmlessly).

And the status page's execution table says "passed"/"failed" in words: myst-nb writes ✅/❌, which a
machine without an emoji font shows as empty boxes.
"""

from __future__ import annotations

from typing import Any

import nbclient
import nbformat
from jupyter_cache.executors import utils as cache_utils
from myst_nb.ext import execution_tables
from sphinx.application import Sphinx

from .execution import execute

__all__ = ["setup"]


def drop_repeated_scripts(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    """Keep the first of equal entries of the page's ``script_files`` (same file or body, priority, attributes)."""
    scripts = context.get("script_files")
    if scripts:
        context["script_files"] = list(dict.fromkeys(scripts))


def status_in_words(succeeded: object) -> str:
    """The status column of the execution table: "passed" for ``True``, else "failed"."""
    return "passed" if succeeded is True else "failed"


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

    if "succeeded" not in execution_tables._key2transform:
        raise RuntimeError("myst_nb.ext.execution_tables has no 'succeeded' column: this myst-nb version "
                           "writes its execution table differently, so the status page cannot say it in words")
    execution_tables._key2transform["succeeded"] = status_in_words
    execute_page.__wrapped_by_book__ = True
    cache_utils.executenb = execute_page
    app.connect("html-page-context", drop_repeated_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
