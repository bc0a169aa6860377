"""Block conversion: prose, fences, directives, admonitions, proofs and exercises as plain Markdown."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import PurePosixPath

from .addresses import page_url
from .errors import ConversionError
from .fences import Fence, split_blocks
from .index import EQUATION_LABEL, TARGET_LINE, plain_text
from .inline import PageContext, convert_inline

__all__ = [
    "convert_markdown",
    "convert_prose",
    "exercise_title",
    "pointer_to_book",
    "quote",
    "render_admonition",
    "render_blocks",
    "render_fence",
    "render_figure",
    "render_glossary",
    "render_list_table",
    "render_math",
    "render_proof_like",
    "solution_title",
    "tag_equation",
    "titled",
]

_ADMONITIONS = (
    "admonition", "attention", "caution", "danger", "error", "hint", "important", "note", "seealso", "tip",
    "warning", "dropdown", "topic", "sidebar", "margin", "card",
)

def tag_equation(line: str) -> str:
    """The closing line ``$$ (label)`` of a labelled equation as ``\\tag{label}`` and ``$$``."""
    match = EQUATION_LABEL.match(line)
    if match is None:
        return line
    before, label = match["before"], match["label"]
    if before.strip():
        return f"{before.rstrip()} \\tag{{{label}}} $$"
    return f"{before}\\tag{{{label}}}\n{before}$$"


def convert_prose(chunk: str, context: PageContext) -> str:
    """A prose chunk: ``(label)=`` lines dropped, labelled equations tagged, roles converted."""
    lines = [tag_equation(line) for line in chunk.split("\n") if not TARGET_LINE.match(line)]
    return convert_inline("\n".join(lines), context)


def _one_line_math(text: str) -> str:
    """Display math (``$$`` on lines of their own) joined onto one line, so that it survives a block
    quote's ``> `` prefixes (Jupyter reads math before Markdown, prefixes included)."""
    out: list[str] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip().startswith("$$") and line.strip().count("$$") == 1:
            j = next((j for j in range(i + 1, len(lines)) if "$$" in lines[j]), None)
            if j is not None:
                indent = line[: len(line) - len(line.lstrip())]
                out.append(indent + " ".join(part.strip() for part in lines[i: j + 1] if part.strip()))
                i = j + 1
                continue
        out.append(line)
        i += 1
    return "\n".join(out)


def quote(markdown: str) -> str:
    """A Markdown block quote of ``markdown``."""
    return "\n".join(f"> {line}" if line.strip() else ">" for line in _one_line_math(markdown.strip("\n")).split("\n"))


def titled(title: str, body: str) -> str:
    """A bold title run into the body's first paragraph, or on its own when the body opens with a list,
    math, a code block or a quote."""
    body = body.strip("\n")
    if body and not re.match(r"\s*([-*+]\s|[>|#]|\d+[.)]\s|\$\$|```|~~~|<)", body):
        return f"{title} {body}"
    return f"{title}\n\n{body}" if body else title


def _bold(title: str) -> str:
    return f"**{title.rstrip('.')}.**" if not title.rstrip().endswith(("?", "!")) else f"**{title}**"


def render_proof_like(fence: Fence, context: PageContext) -> str:
    """``{prf:theorem} Title`` (and its kin) as a block quote "**Theorem (Title).** ..."; ``{prf:proof}`` as
    "**Proof.** ... " and a black square (not quoted: a proof is long)."""
    kind = (fence.directive or "").split(":")[1]
    body = convert_markdown(fence.options_and_body()[1], context)
    if kind == "proof":
        title = _bold(f"Proof ({convert_inline(fence.argument, context)})" if fence.argument else "Proof")
        ends_with_block = re.search(r"(\$\$|```|~~~)\s*$", body)
        return titled(title, body + ("\n\n" if ends_with_block else " ") + r"$\blacksquare$")
    name = kind.capitalize()
    title = f"{name} ({convert_inline(fence.argument, context)})" if fence.argument else name
    return quote(titled(_bold(title), body))


def render_admonition(fence: Fence, context: PageContext) -> str:
    """An admonition as a block quote under its bold title ("Note" for ``{note}``), on a line of its own."""
    directive = fence.directive or ""
    title = convert_inline(fence.argument, context) or directive.capitalize()
    body = convert_markdown(fence.options_and_body()[1], context)
    return quote(f"**{title}**\n\n{body}" if body else f"**{title}**")


def exercise_title(fence: Fence, context: PageContext) -> str:
    """"Exercise (Title)" of an exercise directive."""
    return f"Exercise ({convert_inline(fence.argument, context)})" if fence.argument else "Exercise"


def solution_title(fence: Fence, context: PageContext) -> str:
    """"Solution to Exercise (Title)" of a solution directive, its exercise found in the book."""
    label = fence.argument.split()[0] if fence.argument.split() else ""
    target = context.book.targets.get(label)
    return f"Solution to {target.title}" if target else "Solution"


def render_glossary(fence: Fence, context: PageContext) -> str:
    """A glossary as paragraphs "**term.** definition"."""
    entries: list[tuple[str, list[str]]] = []
    for line in fence.options_and_body()[1].split("\n"):
        if line.strip() and not line[0].isspace():
            entries.append((line.strip(), []))
        elif entries:
            entries[-1][1].append(line)
    rendered = []
    for term, definition in entries:
        body = convert_markdown("\n".join(line.strip() for line in definition).strip(), context)
        rendered.append(titled(_bold(term), body))
    return "\n\n".join(rendered)


def render_list_table(fence: Fence, context: PageContext) -> str:
    """A ``{list-table}`` (rows ``* - a`` / ``  - b``) as a Markdown table; the first row is the header."""
    rows: list[list[str]] = []
    for line in fence.options_and_body()[1].split("\n"):
        if re.match(r"^\*\s+-\s", line):
            rows.append([line.split("-", 1)[1].strip()])
        elif re.match(r"^\s+-\s", line) and rows:
            rows[-1].append(line.strip()[1:].strip())
        elif line.strip() and rows:
            rows[-1][-1] += " " + line.strip()
    if not rows:
        return ""
    cells = [[convert_inline(cell, context).replace("|", r"\|") for cell in row] for row in rows]
    lines = ["| " + " | ".join(cells[0]) + " |", "|" + "---|" * len(cells[0])]
    lines += ["| " + " | ".join(row) + " |" for row in cells[1:]]
    title = convert_inline(fence.argument, context)
    return (f"**{title}**\n\n" if title else "") + "\n".join(lines)


def render_math(fence: Fence) -> str:
    """A ``{math}`` block as ``$$`` math, tagged with its label."""
    options, body = fence.options_and_body()
    tag = f"\n\\tag{{{options['label']}}}" if options.get("label") else ""
    return f"$$\n{body}{tag}\n$$"


def render_figure(fence: Fence, context: PageContext) -> str:
    """A ``{figure}``: the image from the HTML book (Sphinx copies it to ``_images/``), then its caption."""
    options, body = fence.options_and_body()
    image = PurePosixPath(fence.argument).name
    caption = convert_markdown(body, context)
    return f"![{plain_text(body)[:80]}]({context.book.base_url}_images/{image})\n\n" + titled("**Figure.**", caption)


def pointer_to_book(what: str, context: PageContext) -> str:
    """An italic line that sends the reader to the HTML page that shows ``what``."""
    return f"*({what} is shown in the [HTML book]({page_url(context.book.base_url, context.docname)}).)*"


_POINTERS = {
    "nb-exec-table": "The execution table of the build",
    "eval-rst": "The API reference",
    "bibliography": "The bibliography",
    "toctree": "The table of contents",
    "tableofcontents": "The table of contents",
    "raw": "This part",
    "glue:figure": "This figure",
    "glue:math": "This equation",
    "glue:any": "This value",
    "glue": "This value",
}


def render_fence(fence: Fence, context: PageContext) -> str:
    """One fenced block (not a gated ``*-start``/``*-end``, which :func:`render_blocks` handles) as plain
    Markdown.

    Raises:
        ConversionError: a directive the converter does not know.
    """
    directive = fence.directive
    if directive is None:
        return fence.source
    options, body = fence.options_and_body()
    if directive.startswith("prf:"):
        return render_proof_like(fence, context)
    if directive == "exercise":
        return quote(titled(_bold(exercise_title(fence, context)), convert_markdown(body, context)))
    if directive == "solution":
        return titled(_bold(solution_title(fence, context)), convert_markdown(body, context))
    if directive in _ADMONITIONS:
        return render_admonition(fence, context)
    if directive in ("code-block", "code", "sourcecode", "code-cell"):
        return f"```{fence.argument.split()[0] if fence.argument else ''}\n{body}\n```"
    if directive == "math":
        return render_math(fence)
    if directive == "glossary":
        return render_glossary(fence, context)
    if directive == "list-table":
        return render_list_table(fence, context)
    if directive == "figure":
        return render_figure(fence, context)
    if directive in ("epigraph", "pull-quote", "highlights", "container", "div", "tab-item", "tab-set", "grid",
                     "grid-item", "grid-item-card", "toggle"):
        return convert_markdown(body, context)
    if directive in _POINTERS:
        return pointer_to_book(_POINTERS[directive], context)
    raise ConversionError(
        f"{context.docname}: the directive {{{directive}}} has no plain-Markdown form in the Colab edition")


def _gated_end(blocks: Sequence[str | Fence], start: int, end_name: str) -> int:
    """The index of the ``end_name`` fence after ``start`` in ``blocks`` (``len(blocks)`` when it lies in
    a later cell)."""
    return next((k for k in range(start + 1, len(blocks))
                 if isinstance(blocks[k], Fence) and blocks[k].directive == end_name), len(blocks))


def render_blocks(blocks: Sequence[str | Fence], context: PageContext) -> str:
    """Prose chunks and fences as plain Markdown. A gated exercise (``exercise-start`` ... ``exercise-end``)
    is quoted under its title; a gated solution opens with its title and ends where ``solution-end`` was."""
    out: list[str] = []
    i = 0
    while i < len(blocks):
        block = blocks[i]
        if isinstance(block, str):
            out.append(convert_prose(block, context))
        elif block.directive == "exercise-start":
            end = _gated_end(blocks, i, "exercise-end")
            out.append(quote(titled(_bold(exercise_title(block, context)), render_blocks(blocks[i + 1: end], context))))
            i = end
        elif block.directive == "solution-start":
            out.append(_bold(solution_title(block, context)))
        elif block.directive not in ("exercise-end", "solution-end"):
            out.append(render_fence(block, context))
        i += 1
    return "\n".join(out)


def convert_markdown(markdown: str, context: PageContext) -> str:
    """A Markdown cell (or a directive's body) of a MyST page as plain Markdown."""
    text = render_blocks(split_blocks(markdown), context)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")
