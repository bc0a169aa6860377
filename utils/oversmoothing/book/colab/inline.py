"""Inline conversion: MyST roles and Markdown links to labels or pages as plain Markdown."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from .addresses import page_url
from .errors import ConversionError
from .index import Book

__all__ = [
    "PageContext",
    "cite_role",
    "convert_inline",
    "convert_role",
    "doc_role",
    "glue_role",
    "link",
    "reference_role",
    "term_role",
]

_INLINE = re.compile(
    r"(?P<role>\{(?P<name>[A-Za-z][\w:.+-]*)\}`(?P<content>[^`]*)`)"
    r"|(?P<code>(?P<ticks>`+)[\s\S]+?(?P=ticks))"
    r"|(?P<link>\]\((?P<href>#[^)\s]+|[^):\s]+\.md(?:#[^)\s]*)?)\))"
)
_EXPLICIT = re.compile(r"^(?P<text>[\s\S]*?)\s*<(?P<target>[^<>]+)>$")
_CODE_ROLES = {"code", "literal", "samp", "file", "command", "program", "envvar", "option", "dfn", "guilabel"}
_API_ROLES = re.compile(r"^(py:)?(func|class|meth|attr|mod|obj|data|exc|const|function|method|module)$")


@dataclass
class PageContext:
    """What converting one Markdown cell needs: the book, the page's docname, where each glued name is
    printed relative to the cell (``"above"``/``"below"``), and the references found without a target."""

    book: Book
    docname: str
    glued: Mapping[str, str] = field(default_factory=dict)
    unresolved: list[str] = field(default_factory=list)


def _escape_link_text(text: str) -> str:
    """Square brackets outside ``$...$`` math escaped, so that a title can be a link label."""
    parts = re.split(r"(\$[^$]+\$)", text)
    return "".join(part if part.startswith("$") else part.replace("[", r"\[").replace("]", r"\]") for part in parts)


def link(text: str, url: str) -> str:
    """A Markdown link."""
    return f"[{_escape_link_text(text)}]({url})"


def _split_reference(content: str) -> tuple[str | None, str]:
    """``text <target>`` as (text, target); a bare target as (None, target)."""
    explicit = _EXPLICIT.match(content.strip())
    if explicit and explicit["text"]:
        return explicit["text"], explicit["target"].strip()
    return None, content.strip()


def _unresolved(context: PageContext, role: str, target: str, text: str | None) -> str:
    context.unresolved.append(f"{context.docname}: {{{role}}}`{target}` has no target on the pages of _toc.yml")
    return text if text is not None else target


def reference_role(role: str, content: str, context: PageContext) -> str:
    """``{ref}``, ``{numref}``, ``{prf:ref}``, ``{eq}`` (``{any}``): a link to the target in the HTML book,
    labelled with the reference's text or the target's title."""
    text, label = _split_reference(content)
    target = context.book.targets.get(label)
    if target is None:
        return _unresolved(context, role, label, text)
    if text is not None and role == "numref":
        text = re.sub(r"%s|\{number\}|\{name\}", target.title, text)
    return link(text if text is not None else target.title, page_url(context.book.base_url, target.page, target.anchor))


def term_role(content: str, context: PageContext) -> str:
    """``{term}`` with ``text <term>`` or the term alone as its content: a link to the term in the glossary."""
    text, term = _split_reference(content)
    target = context.book.terms.get(term.lower())
    if target is None:
        return _unresolved(context, "term", term, text)
    return link(text if text is not None else term, page_url(context.book.base_url, target.page, target.anchor))


def doc_role(content: str, context: PageContext) -> str:
    """``{doc}`` with a page path as its content (relative to the page, or absolute from the root): a link to
    that page."""
    text, path = _split_reference(content)
    docname = _resolve_path(context.docname, re.sub(r"\.(md|ipynb)$", "", path))
    target = context.book.pages.get(docname)
    if target is None:
        return _unresolved(context, "doc", path, text)
    return link(text if text is not None else target.title, page_url(context.book.base_url, target.page))


def cite_role(role: str, content: str, context: PageContext) -> str:
    """``{cite:t}`` as "Dong et al. (2021)", ``{cite}``/``{cite:p}`` as "(Dong et al., 2021)" (several keys
    separated by ";"); ``{cite:author}`` and ``{cite:year}`` as the names or the year alone."""
    style = role.partition(":")[2] or "p"
    found = []
    for key in (key.strip() for key in content.split(",")):
        citation = context.book.citations.get(key)
        found.append(citation if citation is not None else _unresolved(context, role, key, key))
    if any(isinstance(item, str) for item in found):
        return ", ".join(item if isinstance(item, str) else f"{item.names} {item.year}" for item in found)
    if style in ("t", "ts"):
        return "; ".join(f"{c.names} ({c.year})" for c in found)
    if style in ("author", "authors", "authorpar"):
        return "; ".join(c.names for c in found)
    if style in ("year", "yearpar"):
        return "; ".join(c.year for c in found)
    listed = "; ".join(f"{c.names}, {c.year}" for c in found)
    return listed if style in ("alp", "alps") else f"({listed})"


def glue_role(content: str, context: PageContext) -> str:
    """A glued value: its name and the cell that prints it (in Colab the numbers are recomputed)."""
    name = content.split(":", 1)[0].strip()
    where = context.glued.get(name)
    return f"`{name}` *(printed by the cell {where})*" if where else f"`{name}` *(computed in this notebook)*"


def convert_role(name: str, content: str, context: PageContext) -> str:
    """One MyST role as plain Markdown (see :mod:`oversmoothing.book.colab`).

    Raises:
        ConversionError: a role the converter does not know.
    """
    if name in ("ref", "numref", "prf:ref", "eq", "any", "std:ref"):
        return reference_role(name, content, context)
    if name in ("term", "std:term"):
        return term_role(content, context)
    if name == "doc":
        return doc_role(content, context)
    if name == "cite" or name.startswith("cite:"):
        return cite_role(name, content, context)
    if name == "glue" or name.startswith("glue:"):
        return glue_role(content, context)
    if name == "math":
        return f"${content}$"
    if name in ("sub", "sup"):
        return f"<{name}>{content}</{name}>"
    if name == "abbr":
        return re.sub(r"\s*\([^)]*\)$", "", content)  # "LN (layer normalisation)" shows "LN"
    if name == "index":
        return content
    if name == "download":
        text, path = _split_reference(content)
        return text if text is not None else f"`{path}`"
    if name == "kbd":
        return f"<kbd>{content}</kbd>"
    if name in _CODE_ROLES or _API_ROLES.match(name):
        return f"`{content.lstrip('~!')}`"
    raise ConversionError(f"{context.docname}: the role {{{name}}} has no plain-Markdown form in the Colab edition")


def _markdown_link(href: str, context: PageContext) -> str:
    """The target of a Markdown link to ``#label`` or to a ``.md`` page, in the HTML book."""
    if href.startswith("#"):
        target = context.book.targets.get(href[1:])
        if target is None:
            _unresolved(context, "link", href, None)
            return href
        return page_url(context.book.base_url, target.page, target.anchor)
    path, _, anchor = href.partition("#")
    return page_url(context.book.base_url, _resolve_path(context.docname, re.sub(r"\.md$", "", path)), anchor)


def _resolve_path(docname: str, path: str) -> str:
    """A page path as MyST reads it (relative to the page ``docname``, or from the root when it starts
    with "/") as a docname, ``..`` and ``.`` resolved."""
    joined = path.lstrip("/") if path.startswith("/") else f"{PurePosixPath(docname).parent}/{path}"
    parts: list[str] = []
    for part in joined.split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part not in (".", ""):
            parts.append(part)
    return "/".join(parts)


def convert_inline(text: str, context: PageContext) -> str:
    """Roles and Markdown links to labels or ``.md`` pages converted; inline code left as it is."""

    def replace(match: re.Match) -> str:
        if match["role"]:
            return convert_role(match["name"], match["content"], context)
        if match["link"]:
            return f"]({_markdown_link(match['href'], context)})"
        return match.group(0)

    return _INLINE.sub(replace, text)
