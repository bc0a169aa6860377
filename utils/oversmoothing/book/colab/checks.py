"""The check of a converted Markdown cell: MyST syntax that the conversion left in it."""

from __future__ import annotations

import re

__all__ = ["leftover_myst"]

_LEFTOVERS = {
    "role": re.compile(r"\{[A-Za-z][\w:.+-]*\}`"),
    "directive": re.compile(r"^[\s>]*(`{3,}|~{3,})\s*\{", re.M),
    "colon fence": re.compile(r"^[\s>]*:{3,}", re.M),
    "target": re.compile(r"^[\s>]*\([^()\s]+\)=\s*$", re.M),
    "equation label": re.compile(r"\$\$\s*\([^()\s]+\)\s*$", re.M),
}


def leftover_myst(markdown: str) -> list[str]:
    """The MyST syntax left in a Markdown cell, as ``kind: text`` (an empty list when there is none)."""
    return [f"{kind}: {match.group(0).strip()}"
            for kind, pattern in _LEFTOVERS.items() for match in pattern.finditer(markdown)]
