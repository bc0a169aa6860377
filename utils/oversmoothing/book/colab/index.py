"""The label index of the book: the targets, glossary terms, page titles and citations that the Colab
edition's links and citations resolve against (:func:`load_book`)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from docutils.nodes import make_id
from pybtex.database import parse_file
from pybtex.backends.plaintext import Backend as PlainText
from pybtex.richtext import Text
from sphinx.util.nodes import _make_id as sphinx_make_id  # how Sphinx names glossary anchors (term-...)

from .addresses import book_base_url
from .fences import Fence, split_blocks

__all__ = [
    "EQUATION_LABEL",
    "TARGET_LINE",
    "Book",
    "Citation",
    "Target",
    "caption_start",
    "glossary_terms",
    "kind_title",
    "load_book",
    "page_targets",
    "page_title",
    "plain_text",
    "read_bibliography",
    "toc_docnames",
]

TARGET_LINE = re.compile(r"^\s*\((?P<label>[^()\s]+)\)=\s*$")
"""A ``(label)=`` target line."""
_HEADING = re.compile(r"^\s{0,3}(?P<level>#{1,6})\s+(?P<title>.+?)\s*#*\s*$")
EQUATION_LABEL = re.compile(r"^(?P<before>.*)\$\$\s*\((?P<label>[^()\s]+)\)\s*$")
"""The closing line ``$$ (label)`` of a labelled equation (and what comes before it on that line)."""
_LITERAL = {"code-cell", "code-block", "code", "sourcecode", "math", "raw", "eval-rst", "literalinclude"}


@dataclass(frozen=True)
class Target:
    """Where a label points in the HTML book: the page (``chapters/01_x``), the anchor on it (the id Sphinx
    writes; empty for the top of the page) and the title a reference without text shows."""

    page: str
    anchor: str
    title: str


@dataclass(frozen=True)
class Citation:
    """A bibliography entry, as an author-year citation shows it."""

    authors: tuple[str, ...]
    year: str

    @property
    def names(self) -> str:
        """"Dong", "Dong and Loukas" or "Dong et al."."""
        if len(self.authors) >= 3 or (len(self.authors) == 2 and self.authors[1] == "others"):
            return f"{self.authors[0]} et al."
        return " and ".join(self.authors)


@dataclass(frozen=True)
class Book:
    """What converting a page needs to know about the whole book."""

    base_url: str
    targets: Mapping[str, Target]
    terms: Mapping[str, Target]
    pages: Mapping[str, Target]
    citations: Mapping[str, Citation]


def plain_text(markdown: str) -> str:
    """Inline MyST as plain words for a link label: roles give their text (or target), emphasis and
    inline-code marks are dropped, lines are joined."""
    text = re.sub(r"\{[\w:.+-]+\}`([^`<]*?)\s*<[^`>]*>`", r"\1", markdown)
    text = re.sub(r"\{[\w:.+-]+\}`([^`]*)`", r"\1", text)
    text = re.sub(r"(\*\*|__|(?<![\w$])\*|`)", "", text)
    return " ".join(text.split())


def caption_start(caption: str, limit: int = 60) -> str:
    """The first sentence of a caption, cut at a word before ``limit`` characters (with "…")."""
    text = plain_text(caption)
    sentence = re.split(r"(?<=[.:;])\s", text, maxsplit=1)[0].rstrip(".:;")
    if len(sentence) <= limit:
        return sentence
    return sentence[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def kind_title(kind: str, title: str, label: str) -> str:
    """"Theorem (Title)" or, without a title, "Theorem (label)"."""
    return f"{kind} ({plain_text(title) or label})"


def toc_docnames(toc: Mapping[str, Any]) -> list[str]:
    """The pages of a ``_toc.yml`` (``jb-book`` format: root, parts, chapters, sections), in order,
    without their suffixes."""
    found: list[str] = []

    def visit(entry: Mapping[str, Any]) -> None:
        if "file" in entry:
            found.append(re.sub(r"\.(md|ipynb)$", "", str(entry["file"])))
        for key in ("parts", "chapters", "sections"):
            for child in entry.get(key, []) or []:
                visit(child)

    found.append(re.sub(r"\.(md|ipynb)$", "", str(toc["root"])))
    visit(toc)
    return found


def page_title(text: str) -> str:
    """The first level-1 heading of a page (outside code), as plain text."""
    for block in split_blocks(text):
        if isinstance(block, str):
            for line in block.split("\n"):
                match = _HEADING.match(line)
                if match and len(match["level"]) == 1:
                    return plain_text(match["title"])
    return ""


def _title_after(lines: Sequence[str], start: int, following: str | Fence | None, label: str) -> str:
    """The title of a ``(label)=`` target: the heading or directive title that follows it, else the label."""
    for line in lines[start:]:
        if not line.strip() or TARGET_LINE.match(line):
            continue
        heading = _HEADING.match(line)
        return plain_text(heading["title"]) if heading else label
    if isinstance(following, Fence) and following.argument and following.directive:
        return plain_text(following.argument)
    return label


def _prose_targets(chunk: str, docname: str, following: str | Fence | None) -> dict[str, Target]:
    """Targets of a prose chunk: ``(label)=`` lines and labelled ``$$`` equations."""
    lines = chunk.split("\n")
    targets: dict[str, Target] = {}
    for index, line in enumerate(lines):
        if target := TARGET_LINE.match(line):
            label = target["label"]
            targets[label] = Target(docname, make_id(label), _title_after(lines, index + 1, following, label))
        elif equation := EQUATION_LABEL.match(line):
            label = equation["label"]
            targets[label] = Target(docname, make_id(f"equation-{label}"), f"equation ({label})")
    return targets


def _fence_targets(fence: Fence, docname: str, exercise_titles: Mapping[str, str]) -> dict[str, Target]:
    """The target a directive defines with ``:label:`` or ``:name:`` (code cells: ``mystnb.figure.name``)."""
    directive = fence.directive or ""
    options, body = fence.options_and_body()
    if directive == "code-cell":
        figure = (options.get("mystnb") or {}).get("figure") or {}
        name = figure.get("name") or options.get("name")
        if not name:
            return {}
        title = f"Figure ({caption_start(figure['caption'])})" if figure.get("caption") else f"code cell ({name})"
        return {name: Target(docname, make_id(name), title)}
    label = options.get("label") or options.get("name")
    if not label:
        return {}
    kind = directive.split(":")[-1]
    if directive.startswith("prf:"):
        return {label: Target(docname, label, kind_title(kind.capitalize(), fence.argument, label))}
    if directive in ("exercise", "exercise-start"):
        return {label: Target(docname, label, kind_title("Exercise", fence.argument, label))}
    if directive in ("solution", "solution-start"):
        exercise = fence.argument.split()[0] if fence.argument else ""
        return {label: Target(docname, label, f"Solution to {exercise_titles.get(exercise, exercise)}")}
    if directive == "math":
        return {label: Target(docname, make_id(f"equation-{label}"), f"equation ({label})")}
    if directive == "figure":
        return {label: Target(docname, make_id(label), f"Figure ({caption_start(body)})")}
    return {label: Target(docname, make_id(label), plain_text(fence.argument) or label)}


def page_targets(text: str, docname: str) -> dict[str, Target]:
    """Every label a page defines, with its anchor and title: ``(label)=`` targets (titled by the heading
    they stand before), ``:label:``/``:name:`` of directives, figure names of code cells and ``$$ ... $$
    (label)`` equations, inside directives too."""
    targets: dict[str, Target] = {}
    exercise_titles: dict[str, str] = {}

    def visit(chunk_text: str) -> None:
        blocks = split_blocks(chunk_text)
        for index, block in enumerate(blocks):
            following = blocks[index + 1] if index + 1 < len(blocks) else None
            if isinstance(block, str):
                targets.update(_prose_targets(block, docname, following))
                continue
            found = _fence_targets(block, docname, exercise_titles)
            targets.update(found)
            if block.directive in ("exercise", "exercise-start"):
                exercise_titles.update({label: target.title for label, target in found.items()})
            if block.directive is not None and block.directive not in _LITERAL:
                visit(block.options_and_body()[1])

    visit(text)
    return targets


def glossary_terms(text: str, docname: str) -> dict[str, Target]:
    """The terms of a page's ``{glossary}`` blocks, by lower-cased term (``{term}`` matches that way),
    with Sphinx's anchors (``term-`` and the term, as ``sphinx.util.nodes`` makes ids)."""
    terms: dict[str, Target] = {}
    for block in split_blocks(text):
        if isinstance(block, Fence) and block.directive == "glossary":
            for line in block.options_and_body()[1].split("\n"):
                if line.strip() and not line[0].isspace():
                    term = line.strip()
                    terms[term.lower()] = Target(docname, sphinx_make_id(f"term-{term}"), term)
    return terms


def _decode_latex(text: str) -> str:
    """BibTeX text as plain text: ``J{\\'e}gou`` gives "Jégou"."""
    return Text.from_latex(text).render(PlainText())  # render_as("text") looks the backend up each time: slow


def read_bibliography(path: Path) -> dict[str, Citation]:
    """The entries of a BibTeX file, by key: surnames (with their von part) and year."""
    citations = {}
    for key, entry in parse_file(str(path), bib_format="bibtex").entries.items():
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        authors = tuple(_decode_latex(" ".join(p.prelast_names + p.last_names)) for p in people)
        citations[key] = Citation(authors=authors or (key,), year=_decode_latex(entry.fields.get("year", "n.d.")))
    return citations


def load_book(root: Path) -> Book:
    """The targets, glossary terms, page titles and citations of the book at ``root`` (its
    ``_config.yml``, ``_toc.yml`` and the pages the table of contents lists)."""
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    targets: dict[str, Target] = {}
    terms: dict[str, Target] = {}
    pages: dict[str, Target] = {}
    for docname in toc_docnames(toc):
        path = root / f"{docname}.md"
        if not path.exists():
            continue
        text = path.read_text(encoding="utf-8")
        pages[docname] = Target(docname, "", page_title(text))
        targets.update(page_targets(text, docname))
        terms.update(glossary_terms(text, docname))
    citations: dict[str, Citation] = {}
    for bibfile in config.get("bibtex_bibfiles", []):
        citations.update(read_bibliography(root / bibfile))
    return Book(book_base_url(config["repository"]["url"]), targets, terms, pages, citations)
