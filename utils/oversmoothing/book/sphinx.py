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

It sets ``OVERSMOOTHING_STATIC_EXPLORERS=1`` for the kernels of the build, so that the explorers of the pages
(:func:`oversmoothing.plotting.static_explorer`) are written as pre-rendered images that work without a kernel.

And the status page's execution table says "passed"/"failed" in words: myst-nb writes ✅/❌, which a
machine without an emoji font shows as empty boxes.

The Colab launch button opens the page's Colab edition (``notebooks/NAME.ipynb``, plain Markdown; see
:mod:`~oversmoothing.book.colab`) instead of the MyST twin, and pages without one (the front and back
matter, which Colab cannot open as ``.md``) have no Colab button. sphinx-book-theme builds its launch
buttons on ``html-page-context`` (priority 501) as entries of ``context["header_buttons"]`` that the
template renders later; :func:`open_colab_edition` rewrites that entry afterwards (priority 600).
In the student edition (a source folder holding ``.student-edition``, which ``scripts/student_edition.py
source`` writes, with a copy of ``notebooks/student/`` where the button's target is checked) the button
opens the student Colab edition ``notebooks/student/NAME.ipynb`` instead. While ``repository.url`` is the placeholder, the build prints a notice (on stderr, not as a Sphinx
warning, which ``-W`` would turn into an error).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path, PurePosixPath
from typing import Any

import nbclient
import nbformat
from jupyter_cache.executors import utils as cache_utils
from myst_nb.ext import execution_tables
from sphinx.application import Sphinx

from ..plotting.static_explorer import STATIC_ENV
from .colab import COLAB_FOLDER, colab_link, colab_notebook_path, placeholder_notice
from .execution import execute

__all__ = ["setup"]


def drop_repeated_scripts(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    """Keep the first of equal entries of the page's ``script_files``: same file or body, priority and attributes.
    An inline script is registered once with the file name ``None`` and once with ``""`` (Sphinx's registry
    and its builder), so the two count as one."""
    scripts = context.get("script_files")
    if scripts:
        first = {}
        for script in scripts:
            attributes = tuple(sorted((key, str(value)) for key, value in getattr(script, "attributes", {}).items()))
            key = (getattr(script, "filename", script) or "", getattr(script, "priority", None), attributes)
            first.setdefault(key, script)
        context["script_files"] = list(first.values())


def status_in_words(succeeded: object) -> str:
    """The status column of the execution table: "passed" for ``True``, else "failed"."""
    return "passed" if succeeded is True else "failed"


def with_colab_button(header_buttons: list[dict[str, Any]], url: str | None) -> list[dict[str, Any]]:
    """sphinx-book-theme's header buttons with the Colab entry of the launch group opening ``url``, or
    without it when ``url`` is ``None`` (and without the group when nothing is left in it)."""
    rewritten = []
    for button in header_buttons:
        if button.get("label") != "launch-buttons":
            rewritten.append(button)
            continue
        launchers = []
        for launcher in button.get("buttons", []):
            if launcher.get("text") != "Colab":
                launchers.append(launcher)
            elif url is not None:
                launchers.append({**launcher, "url": url})
        if launchers:
            rewritten.append({**button, "buttons": launchers})
    return rewritten


STUDENT_EDITION_MARKER = ".student-edition"  # scripts/student_edition.py writes it into the student source
STUDENT_COLAB_FOLDER = "notebooks/student"


def colab_folder(srcdir: Path) -> str:
    """The folder of the notebooks the Colab buttons open: ``notebooks/student`` in the student edition."""
    return STUDENT_COLAB_FOLDER if (Path(srcdir) / STUDENT_EDITION_MARKER).is_file() else COLAB_FOLDER


def colab_edition_url(theme_options: dict[str, Any], srcdir: Path, pagename: str,
                      folder: str = COLAB_FOLDER) -> str | None:
    """The Colab address of a page's converted notebook in ``folder`` (relative to the repository root,
    and to ``srcdir``, where it must exist), or ``None`` when the page has none."""
    path = colab_notebook_path(pagename)
    if path is not None:
        path = f"{folder.strip('/')}/{PurePosixPath(path).name}"
    repository = theme_options.get("repository_url")
    if path is None or not repository or not (srcdir / path).is_file():
        return None
    branch = theme_options.get("repository_branch") or "master"  # sphinx-book-theme's default
    colab = theme_options.get("launch_buttons", {}).get("colab_url") or "https://colab.research.google.com"
    return colab_link(repository, branch, path, colab)


def open_colab_edition(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    """The Colab button opens the page's Colab edition; a page without one has no Colab button."""
    if "header_buttons" in context:
        srcdir = Path(app.srcdir)
        url = colab_edition_url(app.config.html_theme_options, srcdir, pagename, colab_folder(srcdir))
        context["header_buttons"] = with_colab_button(context["header_buttons"], url)


def notice_placeholder_repository(app: Sphinx) -> None:
    """Print a notice while ``repository.url`` is the placeholder (a print, not a warning: see above)."""
    notice = placeholder_notice(app.config.html_theme_options.get("repository_url", ""))
    if notice is not None:
        print(notice, file=sys.stderr)


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
    os.environ[STATIC_ENV] = "1"  # the kernels of the build write explorers as pre-rendered HTML
    app.connect("html-page-context", drop_repeated_scripts, priority=900)
    app.connect("html-page-context", open_colab_edition, priority=600)  # after sphinx-book-theme's 501
    app.connect("builder-inited", notice_placeholder_repository)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
