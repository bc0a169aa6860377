"""Addresses of the Colab edition: the HTML book's pages, the converted notebooks, the Colab links that open
them, and the notice while ``_config.yml`` holds the placeholder repository URL."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from .errors import ConversionError

__all__ = [
    "COLAB_FOLDER",
    "COLAB_URL",
    "PLACEHOLDER_REPOSITORY_URL",
    "book_base_url",
    "colab_link",
    "colab_notebook_path",
    "is_placeholder",
    "page_url",
    "placeholder_notice",
]

COLAB_FOLDER = "notebooks"
"""Where the converted notebooks live, relative to the repository root."""

COLAB_URL = "https://colab.research.google.com"

PLACEHOLDER_REPOSITORY_URL = "https://github.com/oversmoothing-book/oversmoothing-book"
"""The repository URL that ``_config.yml`` holds until the book is published under its real address."""


def book_base_url(repository_url: str) -> str:
    """The address of the HTML book published from a repository with GitHub Pages:
    ``https://github.com/OWNER/REPO`` gives ``https://OWNER.github.io/REPO/``.

    Raises:
        ConversionError: a URL that is not a GitHub repository.
    """
    match = re.fullmatch(r"https://github\.com/(?P<owner>[\w.-]+)/(?P<repo>[\w.-]+?)(?:\.git)?/?", repository_url)
    if match is None:
        raise ConversionError(f"repository url must be https://github.com/OWNER/REPO, got {repository_url!r}")
    return f"https://{match['owner'].lower()}.github.io/{match['repo']}/"


def page_url(base_url: str, docname: str, anchor: str = "") -> str:
    """The address of a page of the HTML book (``docname`` such as ``chapters/01_x``), with an anchor."""
    return f"{base_url}{docname}.html" + (f"#{anchor}" if anchor else "")


def colab_notebook_path(docname: str) -> str | None:
    """The converted notebook of a page, relative to the repository root (``chapters/05_x`` gives
    ``notebooks/05_x.ipynb``); ``None`` for a page that is not a chapter (front and back matter)."""
    path = PurePosixPath(docname)
    if path.parent.name != "chapters":
        return None
    return f"{COLAB_FOLDER}/{path.name}.ipynb"


def colab_link(repository_url: str, branch: str, path: str, colab_url: str = COLAB_URL) -> str:
    """The Colab address that opens ``path`` (relative to the repository root) from a GitHub repository."""
    owner_repo = repository_url.rstrip("/").removeprefix("https://github.com/").removesuffix(".git")
    return f"{colab_url.rstrip('/')}/github/{owner_repo}/blob/{branch}/{path}"


def is_placeholder(repository_url: str) -> bool:
    """Whether ``repository_url`` is still the placeholder of ``_config.yml``."""
    return repository_url.rstrip("/").removesuffix(".git") == PLACEHOLDER_REPOSITORY_URL


def placeholder_notice(repository_url: str) -> str | None:
    """A one-line notice while the repository URL is the placeholder, else ``None``."""
    if not is_placeholder(repository_url):
        return None
    return (
        f"notice: repository.url in _config.yml is still the placeholder {PLACEHOLDER_REPOSITORY_URL}: the Colab "
        "buttons, the install cells and the Colab notebooks' links lead there until it is set to the real repository"
    )
