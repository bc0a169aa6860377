"""The Colab edition (``notebooks/*.ipynb``, :mod:`oversmoothing.book.colab`, ``scripts/colab_edition.py``):

* every page of the table of contents converts, and no MyST role, directive, target or equation label is
  left in a Markdown cell; every reference finds its target; ``notebooks/`` is in sync with the chapters;
* the anchors of the label index are the ids Sphinx writes (checked on a build, when there is one);
* each transformation, on tiny inputs;
* the Colab launch button opens the converted notebook, and only chapters have one;
* the student Colab edition (``notebooks/student/``) is in sync and holds no solution, and the student
  HTML edition's Colab button opens it.
"""

from __future__ import annotations

import re
import types

import nbformat
import pytest
import yaml

from conftest import MYST_HEADER, ROOT, load_script
from oversmoothing.book import colab, sphinx
from oversmoothing.book.colab import Book, Citation, PageContext, Target, convert_markdown
from oversmoothing.book.sphinx import (colab_edition_url, notice_placeholder_repository, open_colab_edition,
                                       with_colab_button)

CHAPTERS = sorted((ROOT / "chapters").glob("*.md"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
TOC_PAGES = colab.toc_docnames(yaml.safe_load((ROOT / "_toc.yml").read_text()))
HTML = ROOT / "_build" / "html"
BASE = "https://owner.github.io/repo/"


@pytest.fixture(scope="module")
def book() -> Book:
    return colab.load_book(ROOT)


@pytest.fixture(scope="module")
def edition():
    return load_script("scripts/colab_edition.py")


# ------------------------------------------------------------------------------------- the whole book


@pytest.mark.parametrize("docname", TOC_PAGES)
def test_every_page_converts_with_no_myst_left(docname, book):
    notebook, _ = colab.colab_notebook((ROOT / f"{docname}.md").read_text(encoding="utf-8"), docname, book)
    leftovers = {f"cell {cell.id}": found for cell in notebook.cells if cell.cell_type == "markdown"
                 if (found := colab.leftover_myst(cell.source))}
    assert not leftovers, f"{docname}: MyST left in the Colab edition: {leftovers}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.name)
def test_every_reference_of_a_chapter_finds_its_target(chapter, book, edition):
    _, unresolved = edition.render(chapter, book)
    assert not unresolved, "\n".join(unresolved)


def test_colab_edition_is_in_sync_with_the_chapters(book, edition):
    stale = edition.out_of_sync(CHAPTERS, book)
    assert not stale, f"out of sync with their chapter (run `make colab`): {[p.name for p in stale]}"
    written = sorted(path.stem for path in (ROOT / colab.COLAB_FOLDER).glob("*.ipynb"))
    assert written == [chapter.stem for chapter in CHAPTERS], "notebooks/ holds a notebook without a chapter"


def test_colab_notebooks_keep_code_cells_tags_and_the_install_cell():
    for chapter in CHAPTERS:
        notebook = nbformat.read(ROOT / colab.COLAB_FOLDER / f"{chapter.stem}.ipynb", as_version=4)
        code = [cell for cell in notebook.cells if cell.cell_type == "code"]
        assert f"oversmoothing @ git+{CONFIG['repository']['url']}" in code[0].source
        assert all(not cell.outputs and cell.execution_count is None for cell in code)
        assert len(code) == chapter.read_text(encoding="utf-8").count("```{code-cell}")


def test_student_colab_edition_is_in_sync_with_the_chapters(book, edition):
    stale = edition.out_of_sync(CHAPTERS, book, student=True)
    assert not stale, f"notebooks/student/ is out of sync (run `make colab`): {[p.name for p in stale]}"
    written = sorted(path.stem for path in (ROOT / "notebooks" / "student").glob("*.ipynb"))
    assert written == [chapter.stem for chapter in CHAPTERS], "notebooks/student/ holds a notebook without a chapter"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_student_colab_notebook_has_no_solution_text(chapter, edition):
    student_edition = edition.student_edition
    page = student_edition.parse_page(chapter.read_text(encoding="utf-8"), chapter.name)
    kept = student_edition.kept_text(page)
    student = nbformat.read(ROOT / "notebooks" / "student" / f"{chapter.stem}.ipynb", as_version=4)
    full = nbformat.read(ROOT / colab.COLAB_FOLDER / f"{chapter.stem}.ipynb", as_version=4)
    student_text = "\n".join(cell.source for cell in student.cells)
    full_text = "\n".join(cell.source for cell in full.cells)
    for solution in page.solutions:
        # a solution's distinctive lines, and their runs of plain words that the exercise does not share:
        # the converter rewrites markup, not code or plain words
        probes = {probe for line in student_edition.distinctive_lines(page, solution)
                  for probe in [line, *student_edition.plain_fragments(line, min_words=5)] if probe not in kept}
        left = sorted(probe for probe in probes if probe in student_text)
        assert not left, f"{chapter.name}: the student Colab notebook holds the solution of {solution.exercise}: {left}"
        assert any(probe in full_text for probe in probes), f"{chapter.name}: the check cannot see {solution.exercise}"
    stubs = [cell.source for cell in student.cells if student_edition.is_stub_cell(cell)]
    assert stubs == [stub for s in page.solutions for stub in page.exercise(s.exercise).stubs]
    assert "nstructor" not in student_text  # the student edition has no instructor guide to link to


def test_sync_check_sees_a_stale_notebook(tmp_path, book, edition):
    chapter = tmp_path / "chapters" / "01_tiny.md"
    chapter.parent.mkdir()
    chapter.write_text(MYST_HEADER + "# Tiny\n\nSee {ref}`ch-measuring`.\n")
    assert edition.out_of_sync([chapter], book, root=tmp_path) == [chapter]
    assert edition.main(["write", str(chapter)], root=tmp_path) == 0
    assert edition.out_of_sync([chapter], book, root=tmp_path) == []
    chapter.write_text(chapter.read_text() + "\nOne more paragraph.\n")
    assert edition.main(["check", str(chapter)], root=tmp_path) == 1


@pytest.mark.skipif(not HTML.is_dir(), reason="no build in _build/html (make book)")
def test_anchors_are_the_ids_sphinx_writes(book):
    """Each target's anchor is an id of its page, for the pages built after their source last changed."""
    missing = []
    for label, target in [*book.targets.items(), *book.terms.items()]:
        html, source = HTML / f"{target.page}.html", ROOT / f"{target.page}.md"
        if html.exists() and html.stat().st_mtime > source.stat().st_mtime:
            if f'id="{target.anchor}"' not in html.read_text(encoding="utf-8"):
                missing.append(f"{label} -> {target.page}.html#{target.anchor}")
    assert not missing, missing


# ------------------------------------------------------------------------------------ tiny inputs

TINY = """\
(ch-tiny)=
# A tiny chapter

(sec-race)=
## The race

$$
x = 1
$$ (eq-one)

```{prf:theorem} Big result
:label: thm-big

If $a > 0$ then

$$
a^2 > 0.
$$
```

```{prf:proof}
Multiply.
```

```{prf:definition}
:label: def-plain

A thing.
```

```{exercise-start} Try it
:label: ex-try
:class: dropdown
```

Show {eq}`eq-one`.

```{exercise-end}
```

```{solution-start} ex-try
:class: dropdown
```

It is {prf:ref}`thm-big`.

```{solution-end}
```
"""


@pytest.fixture
def tiny() -> PageContext:
    targets = colab.page_targets(TINY, "chapters/01_tiny")
    targets["fig-x"] = Target("chapters/02_other", "fig-x", "Figure (A plot)")
    terms = {"rank collapse": Target("book/glossary", "term-rank-collapse", "rank collapse")}
    pages = {"book/glossary": Target("book/glossary", "", "Glossary")}
    citations = {"dong2021": Citation(("Dong", "Cordonnier", "Loukas"), "2021"),
                 "roy2007": Citation(("Roy", "Vetterli"), "2007"), "shannon1951": Citation(("Shannon",), "1951")}
    return PageContext(Book(BASE, targets, terms, pages, citations), "chapters/01_tiny", {"rate": "above"})


def test_page_targets_have_titles_and_sphinx_anchors(tiny):
    targets = tiny.book.targets
    assert targets["ch-tiny"] == Target("chapters/01_tiny", "ch-tiny", "A tiny chapter")
    assert targets["sec-race"].title == "The race"
    assert targets["eq-one"] == Target("chapters/01_tiny", "equation-eq-one", "equation (eq-one)")
    assert targets["thm-big"] == Target("chapters/01_tiny", "thm-big", "Theorem (Big result)")
    assert targets["def-plain"].title == "Definition (def-plain)"
    assert targets["ex-try"].title == "Exercise (Try it)"


def test_code_cell_figure_names_are_targets():
    text = ("```{code-cell} ipython3\n---\nmystnb:\n  figure:\n    caption: |\n      Decay of the ratio. More.\n"
            "    name: fig-decay\n---\nplot()\n```\n")
    assert colab.page_targets(text, "chapters/01_x")["fig-decay"].title == "Figure (Decay of the ratio)"


def test_glossary_terms_use_sphinx_anchors():
    text = "```{glossary}\nHC/DC ratio\n  The ratio.\n\nAttnScale\n  A fix.\n```\n"
    terms = colab.glossary_terms(text, "book/glossary")
    assert terms["hc/dc ratio"].anchor == "term-HC-DC-ratio" and terms["attnscale"].anchor == "term-AttnScale"


def test_theorem_becomes_a_quote_with_a_bold_title_and_one_line_math(tiny):
    fence = next(b for b in colab.split_blocks(TINY) if isinstance(b, colab.Fence) and b.directive == "prf:theorem")
    assert colab.render_fence(fence, tiny) == "> **Theorem (Big result).** If $a > 0$ then\n>\n> $$ a^2 > 0. $$"


def test_proof_ends_with_a_square_and_untitled_boxes_keep_their_kind(tiny):
    assert convert_markdown("```{prf:proof}\nMultiply.\n```", tiny) == r"**Proof.** Multiply. $\blacksquare$"
    assert convert_markdown("```{prf:remark}\n- a list\n```", tiny) == "> **Remark.**\n>\n> - a list"


def test_gated_exercise_is_quoted_and_its_solution_kept_under_a_bold_title(tiny):
    text = convert_markdown("```{exercise-start}" + TINY.split("```{exercise-start}")[1], tiny)
    assert text.startswith("> **Exercise (Try it).** Show [equation (eq-one)](" + BASE
                           + "chapters/01_tiny.html#equation-eq-one).")
    assert "**Solution to Exercise (Try it).**\n\nIt is [Theorem (Big result)](" in text
    assert "exercise-end" not in text and "solution" not in text.replace("Solution", "")


def test_solution_spread_over_cells_keeps_its_title(tiny):
    assert convert_markdown("```{solution-start} ex-try\n:class: dropdown\n```\n\nWords.", tiny) == (
        "**Solution to Exercise (Try it).**\n\nWords.")
    assert convert_markdown("More words.\n\n```{solution-end}\n```", tiny) == "More words."


def test_targets_vanish_and_labelled_equations_are_tagged(tiny):
    assert convert_markdown("(sec-x)=\n## X\n\n$$\nx = 1\n$$ (eq-x)", tiny) == "## X\n\n$$\nx = 1\n\\tag{eq-x}\n$$"
    assert convert_markdown("$$ y = 2 $$ (eq-y)", tiny) == r"$$ y = 2 \tag{eq-y} $$"


@pytest.mark.parametrize("role, expected", [
    ("{ref}`ch-tiny`", f"[A tiny chapter]({BASE}chapters/01_tiny.html#ch-tiny)"),
    ("{ref}`the race <sec-race>`", f"[the race]({BASE}chapters/01_tiny.html#sec-race)"),
    ("{numref}`fig-x`", f"[Figure (A plot)]({BASE}chapters/02_other.html#fig-x)"),
    ("{numref}`Fig. %s <fig-x>`", f"[Fig. Figure (A plot)]({BASE}chapters/02_other.html#fig-x)"),
    ("{prf:ref}`thm-big`", f"[Theorem (Big result)]({BASE}chapters/01_tiny.html#thm-big)"),
    ("{eq}`eq-one`", f"[equation (eq-one)]({BASE}chapters/01_tiny.html#equation-eq-one)"),
    ("{term}`rank collapse`", f"[rank collapse]({BASE}book/glossary.html#term-rank-collapse)"),
    ("{term}`collapses <Rank Collapse>`", f"[collapses]({BASE}book/glossary.html#term-rank-collapse)"),
    ("{doc}`../book/glossary`", f"[Glossary]({BASE}book/glossary.html)"),
    ("{cite:t}`dong2021`", "Dong et al. (2021)"),
    ("{cite:p}`roy2007`", "(Roy and Vetterli, 2007)"),
    ("{cite}`dong2021,shannon1951`", "(Dong et al., 2021; Shannon, 1951)"),
    ("{cite:t}`roy2007,shannon1951`", "Roy and Vetterli (2007); Shannon (1951)"),
    ("{glue:text}`rate:.2f`", "`rate` *(printed by the cell above)*"),
    ("{glue}`speed`", "`speed` *(computed in this notebook)*"),
    ("{math}`x^2`", "$x^2$"),
    ("{py:func}`~oversmoothing.metrics.mean_cosine_similarity`", "`oversmoothing.metrics.mean_cosine_similarity`"),
    ("[the race](#sec-race)", f"[the race]({BASE}chapters/01_tiny.html#sec-race)"),
    ("[glossary](../book/glossary.md#term-x)", f"[glossary]({BASE}book/glossary.html#term-x)"),
])
def test_each_role_becomes_plain_markdown(tiny, role, expected):
    assert colab.convert_inline(role, tiny) == expected
    assert tiny.unresolved == []


def test_inline_code_is_left_alone_and_brackets_in_titles_escaped(tiny):
    assert colab.convert_inline("write `{eq}` like this", tiny) == "write `{eq}` like this"
    assert colab.link("in [a, b) and $[-1, 0)$", "u") == r"[in \[a, b) and $[-1, 0)$](u)"


def test_a_reference_without_target_is_kept_as_text_and_reported(tiny):
    assert colab.convert_inline("{ref}`Sources <sources-x>` and {prf:ref}`thm-none`", tiny) == "Sources and thm-none"
    assert len(tiny.unresolved) == 2 and "sources-x" in tiny.unresolved[0]


def test_unknown_roles_and_directives_are_errors(tiny):
    with pytest.raises(colab.ConversionError, match=r"\{madeup\}"):
        colab.convert_inline("{madeup}`x`", tiny)
    with pytest.raises(colab.ConversionError, match=r"\{madeup\}"):
        convert_markdown("```{madeup}\nx\n```", tiny)
    with pytest.raises(colab.ConversionError, match="never closed"):
        convert_markdown("```{note}\nx", tiny)


def test_admonitions_glossary_list_table_and_book_only_directives(tiny):
    assert convert_markdown(":::{admonition} At a glance\n:class: tip\n\n**Goals.** Learn.\n:::", tiny) == (
        "> **At a glance**\n>\n> **Goals.** Learn.")
    assert convert_markdown("````{warning}\nCareful:\n```python\nx = 1\n```\n````", tiny) == (
        "> **Warning**\n>\n> Careful:\n> ```python\n> x = 1\n> ```")
    assert convert_markdown("```{glossary}\nrank\n  The rank.\n```", tiny) == "**rank.** The rank."
    table = convert_markdown("```{list-table}\n:header-rows: 1\n\n* - a\n  - b\n* - 1\n  - 2\n```", tiny)
    assert table == "| a | b |\n|---|---|\n| 1 | 2 |"
    assert "HTML book" in convert_markdown("```{nb-exec-table}\n```", tiny)
    assert convert_markdown("```{math}\n:label: eq-m\nz\n```", tiny) == "$$\nz\n\\tag{eq-m}\n$$"


def test_notebook_keeps_cells_adds_captions_and_a_note(tiny):
    text = MYST_HEADER + (
        "(ch-tiny)=\n# Tiny\n\nThe rate is {glue:text}`rate:.2f`.\n\n"
        "```{code-cell} ipython3\n:tags: [remove-cell]\n\n%pip install x\n```\n\n"
        "```{code-cell} ipython3\n---\ntags: [hide-input]\nmystnb:\n  figure:\n    caption: A {term}`rank collapse`.\n"
        "    name: fig-y\n---\nglue(\"rate\", 0.5)\n```\n\n+++\n\n(only-a-target)=\n"
    )
    notebook, unresolved = colab.colab_notebook(text, "chapters/01_tiny", tiny.book)
    kinds = [cell.cell_type for cell in notebook.cells]
    assert kinds == ["markdown", "code", "code", "markdown"] and unresolved == []
    assert "Colab edition" in notebook.cells[0].source
    assert "`rate` *(printed by the cell below)*" in notebook.cells[0].source
    assert notebook.cells[1].metadata["tags"] == ["remove-cell"]
    assert notebook.cells[2].metadata["tags"] == ["hide-input"]
    assert notebook.cells[3].source.startswith("**Figure.** A [rank collapse](")
    assert [cell.id for cell in notebook.cells] == [f"cell-{i}" for i in range(4)]


def test_addresses():
    assert colab.book_base_url("https://github.com/Owner/repo") == "https://owner.github.io/repo/"
    with pytest.raises(colab.ConversionError):
        colab.book_base_url("https://gitlab.com/owner/repo")
    assert colab.colab_notebook_path("chapters/05_x") == "notebooks/05_x.ipynb"
    assert colab.colab_notebook_path("book/intro") is None
    assert colab.colab_link("https://github.com/o/r", "main", "notebooks/05_x.ipynb") == (
        "https://colab.research.google.com/github/o/r/blob/main/notebooks/05_x.ipynb")
    assert colab.is_placeholder(colab.PLACEHOLDER_REPOSITORY_URL + "/")
    assert not colab.is_placeholder("https://github.com/o/r")


# --------------------------------------------------------------------------------- launch buttons

def launch_group(*texts: str) -> dict:
    return {"type": "group", "label": "launch-buttons",
            "buttons": [{"type": "link", "text": text, "url": f"https://{text}.example/x.md"} for text in texts]}


def test_colab_button_is_redirected_or_removed():
    download = {"type": "group", "label": "download-buttons", "buttons": []}
    assert with_colab_button([download, launch_group("Colab")], "https://colab/x.ipynb") == [
        download,
        {**launch_group("Colab"), "buttons": [{"type": "link", "text": "Colab", "url": "https://colab/x.ipynb"}]},
    ]
    assert with_colab_button([download, launch_group("Colab")], None) == [download]
    assert with_colab_button([launch_group("Binder", "Colab")], None) == [launch_group("Binder")]


def test_the_extension_points_chapters_at_their_colab_edition(tmp_path, capsys):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "05_x.ipynb").write_text("{}")
    options = {"repository_url": "https://github.com/o/r", "repository_branch": "main",
               "launch_buttons": {"colab_url": "https://colab.research.google.com"}}
    app = types.SimpleNamespace(config=types.SimpleNamespace(html_theme_options=options), srcdir=str(tmp_path))
    assert colab_edition_url(options, tmp_path, "chapters/05_x") == (
        "https://colab.research.google.com/github/o/r/blob/main/notebooks/05_x.ipynb")
    assert colab_edition_url(options, tmp_path, "chapters/06_missing") is None
    for page, expected in [("chapters/05_x", 1), ("book/intro", 0)]:
        context = {"header_buttons": [launch_group("Colab")]}
        open_colab_edition(app, page, "page.html", context, None)
        assert len(context["header_buttons"]) == expected
    notice_placeholder_repository(app)
    assert capsys.readouterr().err == ""
    options["repository_url"] = colab.PLACEHOLDER_REPOSITORY_URL
    notice_placeholder_repository(app)
    assert "placeholder" in capsys.readouterr().err


def test_the_student_edition_points_chapters_at_the_student_notebooks(tmp_path):
    (tmp_path / "notebooks" / "student").mkdir(parents=True)
    (tmp_path / "notebooks" / "student" / "05_x.ipynb").write_text("{}")
    (tmp_path / "notebooks" / "06_y.ipynb").write_text("{}")  # a full notebook only: no student button
    options = {"repository_url": "https://github.com/o/r", "repository_branch": "main",
               "launch_buttons": {"colab_url": "https://colab.research.google.com"}}
    app = types.SimpleNamespace(config=types.SimpleNamespace(html_theme_options=options), srcdir=str(tmp_path))
    student_edition = load_script("scripts/student_edition.py")
    assert (sphinx.STUDENT_EDITION_MARKER, sphinx.STUDENT_COLAB_FOLDER) == (
        student_edition.MARKER, student_edition.STUDENT_COLAB_FOLDER)
    assert sphinx.colab_folder(tmp_path) == "notebooks"
    (tmp_path / student_edition.MARKER).write_text("")  # as scripts/student_edition.py source writes it
    assert sphinx.colab_folder(tmp_path) == "notebooks/student"
    url = "https://colab.research.google.com/github/o/r/blob/main/notebooks/student/05_x.ipynb"
    assert colab_edition_url(options, tmp_path, "chapters/05_x", "notebooks/student") == url
    for page, expected in [("chapters/05_x", [url]), ("chapters/06_y", []), ("book/intro", [])]:
        context = {"header_buttons": [launch_group("Colab")]}
        open_colab_edition(app, page, "page.html", context, None)
        assert [b["url"] for group in context["header_buttons"] for b in group["buttons"]] == expected


COLAB_LINK = re.compile(r'href="(https://colab\.research\.google\.com/[^"]+)"')


@pytest.mark.html
@pytest.mark.skipif(not HTML.is_dir(), reason="no build in _build/html (make book)")
@pytest.mark.parametrize("docname", TOC_PAGES)
def test_built_pages_open_the_colab_edition_or_have_no_colab_button(docname):
    links = set(COLAB_LINK.findall((HTML / f"{docname}.html").read_text(encoding="utf-8")))
    launch = {link for link in links if not link.endswith(f"/{colab.COLAB_FOLDER}/" + link.rsplit("/", 1)[-1])}
    assert not launch, f"{docname}: Colab links that do not open the Colab edition: {sorted(launch)}"
    path = colab.colab_notebook_path(docname)
    if path is not None:
        assert any(link.endswith(path) for link in links), f"{docname} has no Colab button"
