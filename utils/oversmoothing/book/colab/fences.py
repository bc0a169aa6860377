"""Fenced blocks of a MyST page: code fences and directives, split from the prose around them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from ..myst import FENCE as _FENCE
from ..myst import DirectiveInfo
from .errors import ConversionError

__all__ = ["Fence", "split_blocks"]

_OPTION = re.compile(r"^\s*:(?P<key>[\w-]+):(?:\s+(?P<value>.*))?$")


@dataclass(frozen=True)
class Fence(DirectiveInfo):
    """A fenced block: a code fence (backticks or tildes, then a language such as ``python``) or a MyST
    directive (the fence, then ``{name} argument``; or ``:::{name}``), with the lines between its fences as
    written (``body_lines``)."""

    indent: str
    marker: str
    info: str
    body_lines: tuple[str, ...]

    @property
    def source(self) -> str:
        """The block as written."""
        close = f"{self.indent}{self.marker}"
        return "\n".join([f"{self.indent}{self.marker}{self.info}", *self.body_lines, close])

    def options_and_body(self) -> tuple[dict[str, Any], str]:
        """The directive's options (``:key: value`` lines or a ``---`` YAML block) and its body, with
        the fence's indentation removed."""
        lines = [line[len(self.indent):] if line.startswith(self.indent) else line.lstrip() for line in self.body_lines]
        if self.directive is None:
            return {}, "\n".join(lines)
        if lines and lines[0].strip() == "---" and "---" in (line.strip() for line in lines[1:]):
            end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
            loaded = yaml.safe_load("\n".join(lines[1:end]))
            return (loaded if isinstance(loaded, dict) else {}), "\n".join(lines[end + 1:]).strip("\n")
        options: dict[str, Any] = {}
        i = 0
        while i < len(lines) and (match := _OPTION.match(lines[i])):
            options[match["key"]] = (match["value"] or "").strip()
            i += 1
        return options, "\n".join(lines[i:]).strip("\n")


def _closes(line: str, opening: re.Match) -> bool:
    match = _FENCE.match(line)
    return (
        match is not None
        and match["marker"][0] == opening["marker"][0]
        and len(match["marker"]) >= len(opening["marker"])
        and not match["info"].strip()
    )


def split_blocks(text: str) -> list[str | Fence]:
    """``text`` as prose chunks (``str``, lines joined) and fenced blocks, in order. A fence closes at the
    first line of its character, at least as long, with nothing after it (CommonMark, as MyST reads it).

    Raises:
        ConversionError: a fence that is never closed.
    """
    lines = text.split("\n")
    blocks: list[str | Fence] = []
    prose: list[str] = []
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if opening is None or (opening["marker"][0] == "`" and "`" in opening["info"]):
            prose.append(lines[i])
            i += 1
            continue
        j = next((j for j in range(i + 1, len(lines)) if _closes(lines[j], opening)), None)
        if j is None:
            raise ConversionError(f"the fence {lines[i].strip()!r} is never closed")
        if prose:
            blocks.append("\n".join(prose))
            prose = []
        blocks.append(Fence(opening["indent"], opening["marker"], opening["info"].rstrip(), tuple(lines[i + 1: j])))
        i = j + 1
    if prose:
        blocks.append("\n".join(prose))
    return blocks
