"""Every chapter and executable page runs (quick profile, CPU), and :mod:`oversmoothing.notebooks` reports failures well."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from oversmoothing.notebooks import ChapterExecutionError, ExecutionResult, execute_chapter

from conftest import MYST_HEADER

ROOT = Path(__file__).resolve().parents[1]
# The chapters and the executable front and back matter (pages with a kernelspec).
CHAPTERS = sorted((ROOT / "chapters").glob("*.md")) + sorted(
    page for page in (ROOT / "book").glob("*.md") if "kernelspec:" in page.read_text(encoding="utf-8")
)
QUICK_CPU = {"OVERSMOOTHING_PROFILE": "quick", "OVERSMOOTHING_DEVICE": "cpu"}


@pytest.mark.slow
@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_executes(chapter):
    result = execute_chapter(chapter, timeout=600, env=QUICK_CPU)
    code_cells = [cell for cell in result.notebook.cells if cell.cell_type == "code"]
    assert code_cells, f"{chapter.name} has no code cells"
    assert all(cell.execution_count is not None for cell in code_cells)


# --------------------------------------------------------------------------------------------
# execute_chapter itself, on tiny chapters written here
# --------------------------------------------------------------------------------------------

HEADER = MYST_HEADER


def write_chapter(folder: Path, name: str, *cells: str, header: str = HEADER) -> Path:
    body = "\n".join(f"```{{code-cell}} ipython3\n{textwrap.dedent(cell).strip()}\n```\n" for cell in cells)
    path = folder / name
    path.write_text(f"{header}\n# A test chapter\n\n{body}")
    return path


def test_execute_chapter_runs_cells_in_the_chapter_folder_with_env(tmp_path):
    (tmp_path / "data.txt").write_text("beside the chapter")
    chapter = write_chapter(
        tmp_path,
        "ok.md",
        """
        import os
        from pathlib import Path
        print(Path("data.txt").read_text(), os.environ["OVERSMOOTHING_PROFILE"], os.environ["EXTRA_FOR_TEST"])
        """,
        """
        import matplotlib.pyplot as plt
        plt.plot([0, 1], [1, 0]);
        """,
    )
    result = execute_chapter(chapter, timeout=120, env={**QUICK_CPU, "EXTRA_FOR_TEST": "yes"})
    assert isinstance(result, ExecutionResult)
    assert result.path == chapter and result.seconds > 0
    first, second = [cell for cell in result.notebook.cells if cell.cell_type == "code"]
    assert first.outputs[0]["text"].strip() == "beside the chapter quick yes"
    # the inline backend is used (not an inherited MPLBACKEND=Agg), so the figure is an output
    assert any("image/png" in output.get("data", {}) for output in second.outputs)


def test_execute_chapter_reports_the_failing_cell(tmp_path):
    chapter = write_chapter(
        tmp_path,
        "broken.md",
        "x = 1",
        """
        def check(value):
            raise AssertionError(f"theory and measurement disagree: {value}")
        check(x + 41)
        """,
        "never_reached = True",
    )
    with pytest.raises(ChapterExecutionError) as caught:
        execute_chapter(chapter, timeout=120)
    error = caught.value
    message = str(error)
    assert message.startswith("broken.md: cell 2 raised an exception")  # cell 0 is the title's markdown
    assert "AssertionError" in message and "theory and measurement disagree: 42" in message
    assert "check(x + 41)" in message  # the failing cell's source
    assert "\x1b[" not in message  # no terminal colour codes
    assert error.path == chapter and error.cell_index == 2 and error.seconds > 0


def test_execute_chapter_reports_a_timeout(tmp_path):
    chapter = write_chapter(tmp_path, "slow.md", "import time\ntime.sleep(30)")
    with pytest.raises(ChapterExecutionError, match=r"slow.md: cell 1 timed out \(timeout=2 s\)"):
        execute_chapter(chapter, timeout=2)


def test_execute_chapter_needs_the_myst_header(tmp_path):
    chapter = write_chapter(tmp_path, "plain.md", "print(1)", header="")
    with pytest.raises(ValueError, match="format_name: myst"):
        execute_chapter(chapter)


def test_execute_chapter_bad_arguments(tmp_path):
    with pytest.raises(FileNotFoundError, match="path="):
        execute_chapter(tmp_path / "missing.md")
    chapter = write_chapter(tmp_path, "ok.md", "print(1)")
    with pytest.raises(ValueError, match="timeout must be a positive int"):
        execute_chapter(chapter, timeout=0)
