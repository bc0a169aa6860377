"""The book's notebook executor (:mod:`oversmoothing.book.execution`), on tiny chapters written here:
errors that name the chapter and cell, sliced waits, and the stall detector. The chapters themselves run
once, in the book build (``make book``), which uses the same executor."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

import pytest
from jupyter_client.manager import AsyncKernelManager
from traitlets import Type

from oversmoothing.book import execution
from oversmoothing.book.execution import (
    ChapterExecutionError,
    ExecutionResult,
    SlicedChannel,
    SlicedKernelClient,
    SlicedKernelManager,
    execute_chapter,
)

from conftest import MYST_HEADER

QUICK_CPU = {"OVERSMOOTHING_PROFILE": "quick", "OVERSMOOTHING_DEVICE": "cpu"}


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
    assert message.startswith("broken.md: cell 2 (line 18) raised an exception")  # cell 0: the title
    assert "AssertionError" in message and "theory and measurement disagree: 42" in message
    assert "check(x + 41)" in message  # the failing cell's source
    assert "\x1b[" not in message  # no terminal colour codes
    assert error.path == chapter and error.cell_index == 2 and error.seconds > 0


def test_execute_chapter_reports_a_timeout(tmp_path):
    chapter = write_chapter(tmp_path, "slow.md", "import time\ntime.sleep(30)")
    with pytest.raises(ChapterExecutionError, match=r"slow.md: cell 1 \(line 14\) timed out \(timeout=2 s\)"):
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


def test_execute_chapter_records_a_short_gap_after_every_cell(tmp_path):
    chapter = write_chapter(tmp_path, "three.md", "a = 1", "b = a + 1", "print(b)")
    result = execute_chapter(chapter, timeout=120)
    assert [gap.index for gap in result.timings] == [1, 2, 3]  # cell 0 is the title's markdown
    assert all(0 <= gap.seconds < 5 for gap in result.timings), result.timings


def test_execute_chapter_names_the_chapter_and_cell_of_a_failed_check(tmp_path):
    chapter = write_chapter(
        tmp_path,
        "identity.md",
        "import sympy as sp\nx = sp.symbols('x')",
        "assert sp.simplify((x + 1) ** 2 - (x**2 + 2 * x + 2)) == 0, 'the identity does not hold'",
    )
    with pytest.raises(ChapterExecutionError, match=r"^identity.md: cell 2 \(line 19\) raised an exception") as caught:
        execute_chapter(chapter, timeout=120)
    assert "the identity does not hold" in str(caught.value) and caught.value.cell_index == 2


# --------------------------------------------------------------------------------------------
# the fix: waits in slices, each ending in the poll(0) that finds a waiting message
# --------------------------------------------------------------------------------------------


class DeafSocket:
    """A socket whose timed polls are never woken (a missed edge), as with the stall: a poll ends at
    its timeout, and its last poll(0) then sees whether a message waits."""

    def __init__(self, waiting: bool):
        self.waiting = waiting
        self.polls: list[int] = []

    async def poll(self, timeout_ms: int) -> int:
        self.polls.append(timeout_ms)
        await asyncio.sleep(timeout_ms / 1000)
        return int(self.waiting)


def sliced_channel(socket: DeafSocket) -> SlicedChannel:
    channel = SlicedChannel.__new__(SlicedChannel)
    channel.socket = socket

    async def recv(**kwargs):
        return {"header": {"msg_type": "execute_reply"}}

    channel._recv = recv
    return channel


def test_a_missed_wake_up_costs_one_slice_not_the_timeout():
    socket = DeafSocket(waiting=True)
    message = asyncio.run(asyncio.wait_for(sliced_channel(socket).get_msg(timeout=600), 10))
    assert message["header"]["msg_type"] == "execute_reply"
    assert socket.polls == [int(1000 * execution.SLICE_SECONDS)]


def test_sliced_waits_still_end_with_empty_at_the_timeout():
    import time
    from queue import Empty

    socket = DeafSocket(waiting=False)
    start = time.monotonic()
    with pytest.raises(Empty):
        asyncio.run(sliced_channel(socket).get_msg(timeout=1.2))
    assert 1.1 < time.monotonic() - start < 3
    assert all(ms <= 1000 * execution.SLICE_SECONDS for ms in socket.polls) and len(socket.polls) >= 3


def test_the_book_client_waits_in_slices_on_shell_and_iopub():
    client = SlicedKernelManager().client()
    assert isinstance(client, SlicedKernelClient)
    assert client.shell_channel_class is SlicedChannel and client.iopub_channel_class is SlicedChannel


# --------------------------------------------------------------------------------------------
# the detector
# --------------------------------------------------------------------------------------------


class DeafShellChannel(SlicedChannel):
    """Hears a cell's execute_reply only 4 s late: the stall, shortened."""

    async def get_msg(self, timeout=None):
        if timeout is not None and timeout > 10:  # the wait for a cell's reply, not the start-up handshake
            await asyncio.sleep(4)
        return await super().get_msg(timeout)


class DeafClient(SlicedKernelClient):
    shell_channel_class = Type(DeafShellChannel)


class DeafManager(AsyncKernelManager):
    client_factory = Type(DeafClient, klass=SlicedKernelClient)


def test_a_stall_fails_the_run_naming_the_chapter_and_cell(tmp_path):
    chapter = write_chapter(tmp_path, "stalls.md", "a = 1", "b = 2")
    with pytest.raises(ChapterExecutionError, match=r"stalls.md: stall: cell 1 went idle .* s ago and the client "
                                                    r"has not finished it \(limit 1 s\)") as caught:
        execute_chapter(chapter, timeout=120, kernel_manager_class=DeafManager, stall_seconds=1.0)
    assert caught.value.cell_index == 1 and caught.value.seconds < 30


def test_the_detector_lets_slow_cells_run(tmp_path):
    chapter = write_chapter(tmp_path, "slow_cell.md", "import time\ntime.sleep(3)", "done = True")
    result = execute_chapter(chapter, timeout=120, stall_seconds=1.0)  # busy for 3 s is not a stall
    assert len(result.timings) == 2


# --------------------------------------------------------------------------------------------
# the book build: myst-nb executes through the same client
# --------------------------------------------------------------------------------------------


def test_the_sphinx_extension_gives_myst_nb_the_book_client(tmp_path, monkeypatch):
    import nbclient
    from jupyter_cache.executors import utils as cache_utils
    from jupyter_cache.executors.utils import single_nb_execution

    from oversmoothing.book import sphinx as extension
    from oversmoothing.book.notebooks import output_free_notebook

    monkeypatch.setattr(cache_utils, "executenb", nbclient.execute)
    app = type("App", (), {"env": type("Env", (), {"docname": "chapters/99_test"})(), "connected": [],
                           "connect": lambda self, event, handler, priority=500: self.connected.append(event)})()
    assert extension.setup(app)["parallel_read_safe"] is True
    assert "html-page-context" in app.connected
    assert cache_utils.executenb is not nbclient.execute
    assert extension.setup(app)  # a second setup (a second build in one process) keeps it

    text = write_chapter(tmp_path, "page.md", "x = 1", "raise ValueError('broken on purpose')").read_text()
    result = single_nb_execution(output_free_notebook(text), cwd=str(tmp_path), timeout=60, allow_errors=False)
    assert "chapters/99_test.md: cell 2 raised an exception" in str(result.err)
    assert "broken on purpose" in str(result.err)

    monkeypatch.setattr(cache_utils, "executenb", lambda nb, **kwargs: nb)
    with pytest.raises(RuntimeError, match="cannot install the book's executor"):
        extension.setup(app)
