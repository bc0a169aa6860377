"""The Colab edition: each chapter as a notebook whose Markdown reads without Sphinx.

The chapters are MyST Markdown, the one source of the book. Their jupytext twins (``chapters/*.ipynb``)
keep that markup, which Colab and plain Jupyter show as raw code blocks. This package writes a second,
converted edition (``notebooks/NAME.ipynb``, output-free and committed; ``scripts/colab_edition.py``
writes and checks it), in which every Markdown cell is plain CommonMark with ``$``/``$$`` math:

* theorem-like boxes (``prf:theorem``, ``prf:lemma``, ``prf:definition`` ...), exercises and admonitions
  become block quotes that open with a bold title, "**Theorem (Title).**"; a proof opens with
  "**Proof.**" and ends with a square; a solution (kept: this is the full edition) opens with
  "**Solution to Exercise (Title).**" and its code cells stay code cells;
* ``{ref}``, ``{numref}``, ``{prf:ref}``, ``{eq}``, ``{term}`` and ``{doc}`` become links to the HTML book,
  labelled with the reference's own text or the target's title (numbers exist only after the Sphinx
  build): a heading, "Lemma (The phase lemma)", "Exercise (Title)", "Figure (start of the caption…)",
  "equation (eq-label)" (the equation itself carries ``\\tag{eq-label}``), a glossary term;
* ``{cite:t}`` becomes "Author et al. (Year)", ``{cite}``/``{cite:p}`` "(Author et al., Year)";
* a ``{glue}`` value becomes its name and where it is printed ("`name` *(printed by the cell above)*"):
  in Colab the numbers are recomputed, and :func:`oversmoothing.book.prose.glue` prints them;
* ``(label)=`` targets disappear, ``{math}`` roles and blocks become ``$``/``$$`` math, and the directives
  that only the HTML book can show (``nb-exec-table``, ``eval-rst``, ``bibliography``, ...) become a link
  to the page that shows them.

Code cells keep their source and tags; a figure's caption (``mystnb.figure``) follows its cell as a
Markdown cell. Every cell is kept: the first, hidden one installs the package, which Colab needs.

Links go to the HTML book at :func:`~oversmoothing.book.colab.addresses.book_base_url` of the repository
URL in ``_config.yml`` (the one setting), which holds the targets of every page of ``_toc.yml``
(:func:`~oversmoothing.book.colab.index.load_book`). A reference whose target is on no page is kept as plain
text and reported (:attr:`~oversmoothing.book.colab.inline.PageContext.unresolved`).

The converter's parts, each a module of this package: :mod:`~oversmoothing.book.colab.addresses` (the book's
and Colab's URLs, the placeholder notice), :mod:`~oversmoothing.book.colab.fences` (fenced blocks),
:mod:`~oversmoothing.book.colab.index` (the label index: targets, glossary terms, citations),
:mod:`~oversmoothing.book.colab.inline` (roles and links), :mod:`~oversmoothing.book.colab.blocks` (fences,
directives, admonitions, proofs, exercises), :mod:`~oversmoothing.book.colab.notebook` (the notebook) and
:mod:`~oversmoothing.book.colab.checks` (MyST left after the conversion). This package re-exports what the
scripts, the Sphinx extension and the tests use.
"""

from __future__ import annotations

from .addresses import (COLAB_FOLDER, PLACEHOLDER_REPOSITORY_URL, book_base_url, colab_link, colab_notebook_path,
                        is_placeholder, page_url, placeholder_notice)
from .blocks import convert_markdown, render_fence
from .checks import leftover_myst
from .errors import ConversionError
from .fences import Fence, split_blocks
from .index import Book, Citation, Target, glossary_terms, load_book, page_targets, toc_docnames
from .inline import PageContext, convert_inline, link
from .notebook import colab_notebook, colab_notebook_text

__all__ = [
    "COLAB_FOLDER",
    "PLACEHOLDER_REPOSITORY_URL",
    "Book",
    "Citation",
    "ConversionError",
    "Fence",
    "PageContext",
    "Target",
    "book_base_url",
    "colab_link",
    "colab_notebook",
    "colab_notebook_path",
    "colab_notebook_text",
    "convert_inline",
    "convert_markdown",
    "glossary_terms",
    "is_placeholder",
    "leftover_myst",
    "link",
    "load_book",
    "page_targets",
    "page_url",
    "placeholder_notice",
    "render_fence",
    "split_blocks",
    "toc_docnames",
]
