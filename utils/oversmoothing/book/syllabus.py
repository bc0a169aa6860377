"""The syllabus tables of the course pages, written from the lecture plans of :mod:`oversmoothing.book.lectures`.

The guide for instructors (``book/instructors.md``) and the concept checks (``book/concept_checks.md``)
show which chapters each lecture teaches and which it leaves as reading. Both tables are built here from
``MODULE`` and ``WORKSHOP``, so that no page restates the map of lectures to chapters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from oversmoothing.book.lectures import Lecture

CHAPTER_LABEL = re.compile(r"^\((?P<label>ch-[\w-]+)\)=$", re.M)
"""The target that opens a chapter, ``(ch-measuring)=``."""


def chapter_labels(chapters_dir: Path) -> dict[str, str]:
    """File stem -> label of every chapter in ``chapters_dir`` (its first ``(ch-...)=`` target).

    Args:
        chapters_dir: the folder of the chapters' MyST sources, ``chapters/``.

    Returns:
        ``{"01_measuring_smoothing": "ch-measuring", ...}``, for every ``*.md`` that has such a target.

    Raises:
        ValueError: ``chapters_dir`` is not a folder.
    """
    folder = Path(chapters_dir)
    if not folder.is_dir():
        raise ValueError(f"chapters_dir: {str(folder)!r} is not a folder (expected the book's chapters/)")
    labels = {}
    for path in sorted(folder.glob("*.md")):
        match = CHAPTER_LABEL.search(path.read_text(encoding="utf-8"))
        if match:
            labels[path.stem] = match["label"]
    return labels


def syllabus_table(plan: tuple[Lecture, ...], labels: Mapping[str, str], link: str | None = None,
                   link_title: str = "plan") -> str:
    """A MyST table with one row per lecture of ``plan``: number and title, the chapters taught in class,
    the chapters left as reading, and (with ``link``) a column ``link_title`` whose entry links the target
    ``f"{link}{number}"``.

    Args:
        plan: the lectures, ``MODULE`` or ``WORKSHOP``.
        labels: chapter file stem -> chapter label (:func:`chapter_labels`).
        link: a label prefix such as ``"plan-module-"``; ``None`` for no link column.
        link_title: the heading of the link column and the text of each link.

    Returns:
        The table as MyST Markdown, chapters as ``{ref}`` roles.

    Raises:
        TypeError: ``plan`` holds something that is not a :class:`~oversmoothing.book.lectures.Lecture`.
        ValueError: ``plan`` is empty, or names a chapter that ``labels`` does not know.
    """
    if not plan:
        raise ValueError("plan: no lectures (expected MODULE or WORKSHOP)")
    for entry in plan:
        if not isinstance(entry, Lecture):
            raise TypeError(f"plan: expected Lecture entries, got {type(entry).__name__}")
        unknown = [stem for stem in entry.chapters + entry.reading if stem not in labels]
        if unknown:
            raise ValueError(f"plan: lecture {entry.number} names chapters without a label: {unknown} "
                             f"(known: {sorted(labels)})")

    def refs(stems: tuple[str, ...]) -> str:
        return ", ".join(f"{{ref}}`{labels[stem]}`" for stem in stems) or "—"

    header = "| lecture | taught in class | read on their own |" + (f" {link_title} |" if link else "")
    lines = [header, "|---" * header.count(" |") + "|"]
    for entry in plan:
        row = f"| {entry.number}. {entry.title} | {refs(entry.chapters)} | {refs(entry.reading)} |"
        lines.append(row + (f" {{ref}}`{link_title} <{link}{entry.number}>` |" if link else ""))
    return "\n".join(lines)
