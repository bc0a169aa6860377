"""The chapters' format: jupytext header, install cell, Colab twins in sync with their source."""

from __future__ import annotations

import re

import jupytext
import pytest
import yaml

from conftest import ROOT, load_script

CHAPTERS = sorted((ROOT / "chapters").glob("*.md"))
EXECUTABLE_PAGES = CHAPTERS + sorted(p for p in (ROOT / "book").glob("*.md") if "kernelspec" in p.read_text())
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())


def load_pairing():
    return load_script("scripts/pair_notebooks.py")


def test_there_are_chapters():
    assert CHAPTERS, "no chapters/*.md found"


@pytest.mark.parametrize("page", EXECUTABLE_PAGES, ids=lambda p: p.name)
def test_page_has_jupytext_header_and_install_cell(page):
    notebook = jupytext.read(page)
    assert notebook.metadata["jupytext"]["text_representation"]["format_name"] == "myst"
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    first_code = next(cell for cell in notebook.cells if cell.cell_type == "code")
    url = CONFIG["repository"]["url"]
    assert f'"oversmoothing @ git+{url}"' in first_code.source, (
        f"the first code cell of {page.name} must install the package from the repository URL of _config.yml ({url})"
    )
    assert "remove-cell" in first_code.metadata.get("tags", [])


def test_colab_twins_are_in_sync():
    stale = load_pairing().out_of_sync(CHAPTERS)
    assert not stale, f"out of sync with their .md (run `make notebooks`): {[p.name for p in stale]}"


def test_twins_have_no_outputs_and_are_excluded_from_the_build():
    pairing = load_pairing()
    for chapter in CHAPTERS:
        twin = jupytext.read(pairing.paired_path(chapter))
        assert all(not cell.get("outputs") for cell in twin.cells if cell.cell_type == "code")
    assert "chapters/*.ipynb" in CONFIG["exclude_patterns"]


def test_pairing_detects_a_stale_twin(tmp_path):
    pairing = load_pairing()
    chapter = tmp_path / "chapter.md"
    chapter.write_text(CHAPTERS[0].read_text())
    pairing.main(["write", str(chapter)])
    assert pairing.out_of_sync([chapter]) == []
    chapter.write_text(chapter.read_text() + "\nOne more paragraph.\n")
    assert pairing.out_of_sync([chapter]) == [chapter]


def test_launch_buttons_point_at_the_repository():
    assert CONFIG["launch_buttons"]["colab_url"].startswith("https://colab.research.google.com")
    assert CONFIG["repository"]["url"].startswith("https://github.com/")


GLUE_ROLE = re.compile(r"\{glue(?::text|:md)?\}`([\w-]+)")
GLUE_CALL = re.compile(r"""\bglue\(\s*(f?)["']([\w{}\[\]"'.-]+?)["']\s*,""")


def glued_names(text: str) -> tuple[set[str], list[re.Pattern]]:
    """The names a chapter's cells glue: literal ones, and f-string ones as patterns ({...} matches a word)."""
    literal, patterns = set(), []
    for is_f, name in GLUE_CALL.findall(text):
        if is_f and "{" in name:
            patterns.append(re.compile(re.sub(r"\{[^}]*\}", r"[\\w-]+", name) + "$"))
        else:
            literal.add(name)
    return literal, patterns


@pytest.mark.parametrize("page", CHAPTERS, ids=lambda p: p.name)
def test_every_glued_name_in_the_prose_is_computed_in_the_same_chapter(page):
    text = page.read_text(encoding="utf-8")
    shown = set(GLUE_ROLE.findall(text))
    literal, patterns = glued_names(text)
    unglued = {name for name in shown - literal if not any(p.match(name) for p in patterns)}
    assert not unglued, f"{page.name} shows names no cell glues: {sorted(unglued)}"
    assert literal <= shown, f"{page.name} glues names its prose never shows: {sorted(literal - shown)}"
    for pattern in patterns:
        assert any(pattern.match(name) for name in shown), f"{page.name}: nothing shows {pattern.pattern}"


def test_the_glue_check_sees_a_missing_name():
    text = "The rate is {glue:text}`rate:.2f`.\n```{code-cell}\nglue(\"speed\", 1.0)\nglue(f\"run-{k}\", 2)\n```"
    literal, patterns = glued_names(text)
    assert set(GLUE_ROLE.findall(text)) == {"rate"} and literal == {"speed"}
    assert patterns[0].match("run-smoothing") and not patterns[0].match("rate")


CLAIM_TARGET = re.compile(r"^\((claim-[\w-]+)\)=$")
EVIDENCE = re.compile(r"\{glue:text\}`|^\s*assert |assert_close\(|show_checks\(|raise AssertionError|run_checks\(", re.M)


def claim_sections(text: str) -> dict[str, str]:
    """Each claim target with the text it labels: up to the next claim target (targets stacked on one element
    share it) or the next heading, outside code cells, of the level of the heading it labels or above."""
    lines, sections, open_targets, level, fenced, body = text.split("\n"), {}, [], 7, False, []

    def close() -> None:
        for target in open_targets:
            sections[target] = "\n".join(body)

    for line in lines:
        if line.startswith("```"):
            fenced = not fenced
        target = None if fenced else CLAIM_TARGET.match(line)
        heading = None if fenced else re.match(r"(#+) ", line)
        if target:
            if body and any(part.strip() for part in body):
                close()
                open_targets, body, level = [], [], 7
            open_targets.append(target.group(1))
            continue
        if heading and open_targets:
            if any(part.strip() for part in body) and len(heading.group(1)) <= level:
                close()
                open_targets, body, level = [], [], 7
                continue
            if not any(part.strip() for part in body):
                level = len(heading.group(1))
        if open_targets:
            body.append(line)
    close()
    return sections


@pytest.mark.parametrize("page", CHAPTERS, ids=lambda p: p.name)
def test_every_claim_target_sits_with_a_glued_value_or_an_assert(page):
    text = page.read_text(encoding="utf-8")
    bare = [target for target, section in claim_sections(text).items() if not EVIDENCE.search(section)]
    assert not bare, f"{page.name}: claim targets with neither a glued value nor an assert: {bare}"


def test_the_claim_check_sees_a_bare_claim():
    text = "(claim-a)=\n## A\nprose\n```{code-cell}\nassert x\n```\n(claim-b)=\nOnly words.\n## Next\nassert y\n"
    sections = claim_sections(text)
    assert EVIDENCE.search(sections["claim-a"]) and not EVIDENCE.search(sections["claim-b"])


NOTATION_SYMBOLS = [r"$A \in", r"$H = W_V W_O", r"$W_Q, W_K, W_V, W_O$", r"$P = ", "$n$, $d$", "$L$", r"$\lambda^A_i$",
                    r"$\lambda^H_j$", r"$\mu_{ij}", r"$\lambda_{\min}$", r"$\kappa", r"$M_{DC}$, $M_{HC}$",
                    r"$\sigma_a", r"$\bar c(X)$", r"$\rho(X)$", r"$\gamma \in", r"$H_{\mathrm{eff}}",
                    r"$\mathrm{DC}[X]", r"\mathrm{HC}[X] =", r"$\theta", r"$\lvert\lambda^H\rvert_{\max}",
                    r"$\lvert\lambda^A\rvert_2"]


def test_the_notation_page_defines_the_books_symbols_once():
    rows = [line for line in (ROOT / "book" / "notation.md").read_text().splitlines() if line.startswith("| $")]
    for symbol in NOTATION_SYMBOLS:
        defining = [row for row in rows if symbol in row.split("|")[1]]
        assert len(defining) == 1, f"{symbol!r} is defined in {len(defining)} rows of book/notation.md"
