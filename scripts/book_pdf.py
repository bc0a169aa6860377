"""The PDF edition of the built book (``make pdf``; oversmoothing.book.pdf does the work).

    python scripts/book_pdf.py --source . --edition instructor --out _build/pdf/book.pdf
    python scripts/book_pdf.py --source _build/student_src --edition student --out _build/pdf/book-student.pdf
    python scripts/book_pdf.py ... --page chapters/03_rank_collapse     # one page (and the front matter)

``--source`` is the folder with the book's ``_config.yml`` and ``_toc.yml``; its HTML build is read from
``SOURCE/_build/html`` unless ``--html`` says otherwise. Prints the number of pages, the size and the time.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from oversmoothing.book.pdf import EDITIONS, build_pdf


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=Path("."), help="folder with _config.yml and _toc.yml")
    parser.add_argument("--html", type=Path, default=None, help="its HTML build (default SOURCE/_build/html)")
    parser.add_argument("--edition", choices=EDITIONS, required=True)
    parser.add_argument("--out", type=Path, required=True, help="the PDF to write")
    parser.add_argument("--page", action="append", dest="pages", metavar="DOCNAME",
                        help="print only this page of the table of contents (repeatable)")
    args = parser.parse_args(argv)
    report = build_pdf(args.source, args.out, args.edition, html_dir=args.html, docnames=args.pages)
    size_mb = report.path.stat().st_size / 1e6
    print(f"{report.path}: {report.pages} pages from {report.html_pages} HTML pages, {report.solutions} solutions, "
          f"{size_mb:.1f} MB, {report.seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
