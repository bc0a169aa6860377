"""Build tooling of the book (not part of the modelling library): executing chapters without stalls
and timing every cell (:mod:`~oversmoothing.book.execution`), the Sphinx extension that gives the book
build the same executor (:mod:`~oversmoothing.book.sphinx`), the MyST-to-notebook conversion
(:mod:`~oversmoothing.book.notebooks`), the PDF edition printed from the HTML book
(:mod:`~oversmoothing.book.pdf`, with :mod:`~oversmoothing.book.printing` and
:mod:`~oversmoothing.book.pdf_links`; these also need Playwright and pypdf), and the registry of the
book's claims that chapter 11 tabulates (:mod:`~oversmoothing.book.claims`).

It needs the ``book`` extra (``pip install -e .[book]``: jupytext, nbclient, pyyaml); the library
itself (``import oversmoothing``) never imports it.
"""
