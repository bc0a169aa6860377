"""The pieces of MyST syntax that the book's tools read: fences and the directive named by a fence.

Shared by the Colab converter (:mod:`oversmoothing.book.colab`) and the student edition
(``scripts/student_edition.py``), which scan the chapters' fences each for its own purpose.
"""

from __future__ import annotations

import re

__all__ = ["FENCE", "DirectiveInfo", "directive_argument", "directive_name"]

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<marker>`{3,}|~{3,}|:{3,})(?P<info>.*)$")
"""An opening or closing fence line: its indentation, its marker (three or more backticks, tildes or colons) and
its info string (``{prf:theorem} Title``, ``python``, or nothing on a closing fence)."""

_DIRECTIVE = re.compile(r"^\{([^}]+)\}")


def directive_name(info: str) -> str | None:
    """``"prf:theorem"`` for the info string ``"{prf:theorem} Title"``; ``None`` for a plain code fence."""
    match = _DIRECTIVE.match(info.strip())
    return match.group(1).strip() if match else None


def directive_argument(info: str) -> str:
    """The text after the directive name (``"Title"``), or the whole info string of a plain fence."""
    return _DIRECTIVE.sub("", info.strip()).strip()


class DirectiveInfo:
    """A mixin for a fence class with an ``info`` attribute: the directive it names and its argument."""

    info: str

    @property
    def directive(self) -> str | None:
        """``prf:theorem`` for a fence whose info string is ``{prf:theorem} Title``; ``None`` for a code fence."""
        return directive_name(self.info)

    @property
    def argument(self) -> str:
        """The text after the directive name (the language of a code fence)."""
        return directive_argument(self.info)
