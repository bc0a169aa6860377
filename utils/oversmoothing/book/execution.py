"""Execute notebooks without stalls, time every cell, and fail loudly when a cell's end goes unnoticed.

**The stall, and its cause.** With nbclient 0.11, jupyter_client 8.10 and pyzmq 27.3, a chapter
sometimes sat idle for exactly its per-cell timeout and then went on. The kernel had finished the cell
(``status: idle`` on IOPub, ``execute_reply`` sent), but the client, waiting for the reply in one
``await shell_socket.poll(timeout)``, was not woken until the poll's timer ended; pyzmq's last
``zmq_poll(0)`` then found the reply, so the cell "passed" after the whole timeout. It happens after
cells that display ``ipywidgets.interactive_output``: nbclient mirrors an Output widget as a front end
would, and when the widget's state changes it sends a ``comm_msg`` *on the shell channel*
(``nbclient/output_widget.py``, ``_publish_msg``) from its IOPub task, while the reply task is polling
that socket. jupyter_client's ``Session.send`` sends through a blocking shadow of the asyncio socket,
behind pyzmq's asyncio bookkeeping. A ZeroMQ socket's file descriptor is edge-triggered: that raw send
processes the socket's pending commands, including the arrival of the reply, and so consumes the edge
that the event loop was waiting for; pyzmq, which did not see the send, never re-reads ``ZMQ_EVENTS``.
``make stress`` measures it: unfixed, notebooks of ``interactive_output`` cells stall, notebooks of
plain sliders do not (``--widget slider``).

**The fix.** :class:`SlicedChannel` waits in short slices (:data:`SLICE_SECONDS`): each slice ends in
that same ``zmq_poll(0)``, which sees a waiting message whatever happened to the edge, so a missed
wake-up costs at most one slice. :class:`BookNotebookClient` uses it for the shell and IOPub channels
(through :class:`SlicedKernelManager`, the public ``kernel_manager_class`` hook of nbclient). Every place
that executes notebooks uses that client: :func:`execute_chapter` (student notebooks, GPU check, stress
target) and the book builds, whose myst-nb executor :mod:`oversmoothing.book.sphinx` points at
:func:`execute`.

**The detector.** :class:`BookNotebookClient` watches each cell while it runs. When the kernel reported
the previous cell idle more than :data:`STALL_SECONDS` ago and this cell has not started, or reported this
cell idle that long ago and the client has not finished it, it stops the run with an
:class:`ExecutionStall` naming the notebook and the cell. The gaps of a run are kept in
:attr:`BookNotebookClient.timings`.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from queue import Empty
from typing import Any

import nbformat
import yaml
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbclient.util import run_sync
from traitlets import DottedObjectName, Float, Type, Unicode

from .._validation import check_int

__all__ = [
    "SLICE_SECONDS",
    "STALL_SECONDS",
    "BookNotebookClient",
    "CellGap",
    "ChapterExecutionError",
    "ExecutionResult",
    "ExecutionStall",
    "SlicedChannel",
    "SlicedKernelClient",
    "SlicedKernelManager",
    "execute",
    "execute_chapter",
]

SLICE_SECONDS = 0.5
"""Longest single wait on a socket: a missed wake-up costs at most this."""

STALL_SECONDS = 30.0
"""A gap longer than this between a cell's idle status and the next step is a stall."""

KERNEL_NAME = "python3"
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


# ------------------------------------------------------------------------------------ the fix


class SlicedChannel(AsyncZMQSocketChannel):
    """A kernel channel whose :meth:`get_msg` waits in slices of at most :data:`SLICE_SECONDS`."""

    async def get_msg(self, timeout: float | None = None) -> dict[str, Any]:
        """The next message; ``Empty`` when none came within ``timeout`` seconds (None: wait forever)."""
        assert self.socket is not None
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = SLICE_SECONDS if deadline is None else max(0.0, deadline - time.monotonic())
            if await self.socket.poll(int(1000 * min(SLICE_SECONDS, left))):
                return await self._recv()
            if deadline is not None and time.monotonic() >= deadline:
                raise Empty


class SlicedKernelClient(AsyncKernelClient):
    """An asyncio kernel client whose shell and IOPub channels are :class:`SlicedChannel`\\ s."""

    shell_channel_class = Type(SlicedChannel)
    iopub_channel_class = Type(SlicedChannel)


class SlicedKernelManager(AsyncKernelManager):
    """An asyncio kernel manager that hands out :class:`SlicedKernelClient`\\ s."""

    client_class = DottedObjectName("oversmoothing.book.execution.SlicedKernelClient")
    client_factory = Type(SlicedKernelClient, klass=AsyncKernelClient)


# ------------------------------------------------------------------------------- the detector


@dataclass(frozen=True)
class CellGap:
    """The time from cell ``index`` going idle (kernel clock) to the next step: the next cell's
    ``execute_input``, or for the last cell the moment the client finished it."""

    index: int
    seconds: float


class ExecutionStall(CellTimeoutError):
    """The kernel finished a cell, and nothing happened for longer than :data:`STALL_SECONDS`."""


def _kernel_time(cell: nbformat.NotebookNode, key: str) -> datetime | None:
    """A timestamp nbclient recorded for ``cell`` (``iopub.status.idle``, ...), as an aware datetime."""
    stamp = cell.get("metadata", {}).get("execution", {}).get(key)
    return None if stamp is None else datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))


def _now() -> datetime:
    return datetime.now(timezone.utc)


class BookNotebookClient(NotebookClient):
    """nbclient's ``NotebookClient`` with the book's fix and checks.

    * waits on the kernel's sockets in short slices (:class:`SlicedKernelManager`);
    * a cell that raises, times out or kills the kernel fails with a message that starts
      ``"<name>: cell <index> ..."`` (the cell's index among all cells, markdown included);
    * a stall (:class:`ExecutionStall`) fails the run after :attr:`stall_seconds`, not after the
      whole cell timeout;
    * an IOPub message that does not arrive within ``iopub_timeout`` fails the run instead of being
      dropped with a warning;
    * :attr:`timings` lists the gap after every executed cell (:class:`CellGap`).
    """

    kernel_manager_class = Type(SlicedKernelManager, klass=AsyncKernelManager, config=True)
    name = Unicode("notebook", help="How messages name the notebook (a chapter's file name).").tag(config=True)
    stall_seconds = Float(STALL_SECONDS, help="Seconds of silence after a cell's idle status that fail the run.").tag(
        config=True
    )

    def __init__(self, nb: nbformat.NotebookNode, km: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("record_timing", True)
        kwargs.setdefault("iopub_timeout", 30)
        kwargs.setdefault("raise_on_iopub_timeout", True)
        super().__init__(nb=nb, km=km, **kwargs)
        if not self.record_timing:
            raise ValueError("record_timing must be True: the stall detector reads the recorded timestamps")
        self.timings: list[CellGap] = []
        self._last: tuple[int, datetime] | None = None  # (index, idle time) of the last executed cell

    async def async_execute_cell(
        self,
        cell: nbformat.NotebookNode,
        cell_index: int,
        execution_count: int | None = None,
        store_history: bool = True,
    ) -> nbformat.NotebookNode:
        if cell.cell_type != "code" or not cell.source.strip():
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        work = asyncio.ensure_future(super().async_execute_cell(cell, cell_index, execution_count, store_history))
        stall: list[ExecutionStall] = []
        watchdog = asyncio.ensure_future(self._watch(cell, cell_index, work, stall))
        try:
            await work
        except (CellExecutionError, CellTimeoutError, DeadKernelError, asyncio.CancelledError) as error:
            if stall:
                raise stall[0] from None
            raise self._located(error, cell_index) from None  # the message holds the cell's traceback
        finally:
            watchdog.cancel()
        self._record(cell, cell_index)
        return cell

    async def _watch(
        self, cell: nbformat.NotebookNode, index: int, work: asyncio.Future, stall: list[ExecutionStall]
    ) -> None:
        """Cancel ``work`` with an :class:`ExecutionStall` in ``stall`` when the run goes silent."""
        while not work.done():
            await asyncio.sleep(min(1.0, self.stall_seconds / 4))
            started, idle = _kernel_time(cell, "iopub.execute_input"), _kernel_time(cell, "iopub.status.idle")
            if started is None and self._last is not None:
                previous, since = self._last
                if (gap := (_now() - since).total_seconds()) > self.stall_seconds:
                    stall.append(
                        ExecutionStall(
                            f"{self.name}: stall: cell {previous} went idle {gap:.1f} s ago and cell {index} has "
                            f"not started (limit {self.stall_seconds:g} s)"
                        )
                    )
            elif idle is not None and (gap := (_now() - idle).total_seconds()) > self.stall_seconds:
                stall.append(
                    ExecutionStall(
                        f"{self.name}: stall: cell {index} went idle {gap:.1f} s ago and the client has not "
                        f"finished it (limit {self.stall_seconds:g} s)"
                    )
                )
            if stall:
                work.cancel()
                return

    def _record(self, cell: nbformat.NotebookNode, index: int) -> None:
        """Add the gap that ends with ``cell`` starting, and remember when ``cell`` went idle."""
        started, idle = _kernel_time(cell, "iopub.execute_input"), _kernel_time(cell, "iopub.status.idle")
        if self._last is not None and started is not None:
            previous, since = self._last
            self.timings.append(CellGap(previous, (started - since).total_seconds()))
        self._last = None if idle is None else (index, idle)

    def _located(self, error: BaseException, index: int) -> BaseException:
        """The same kind of error, its message starting with the notebook and the cell (and the cell's
        line in the page, when the notebook carries myst-nb's ``source_map``)."""
        detail = _ANSI_ESCAPE.sub("", str(error))
        lines = self.nb.metadata.get("source_map")
        where = f"cell {index}" + (f" (line {lines[index]})" if lines and index < len(lines) else "")
        if isinstance(error, CellExecutionError):
            return CellExecutionError(f"{self.name}: {where} raised an exception\n\n{detail}", error.ename,
                                      error.evalue)
        if isinstance(error, CellTimeoutError):
            return CellTimeoutError(f"{self.name}: {where} timed out (timeout={self.timeout} s)\n\n{detail}")
        return DeadKernelError(f"{self.name}: {where} killed the kernel\n\n{detail}")

    async def async_execute(self, reset_kc: bool = False, **kwargs: Any) -> nbformat.NotebookNode:
        self.timings, self._last = [], None
        notebook = await super().async_execute(reset_kc=reset_kc, **kwargs)
        if self._last is not None:
            index, since = self._last
            self.timings.append(CellGap(index, (_now() - since).total_seconds()))
        return notebook

    execute = run_sync(async_execute)
    execute_cell = run_sync(async_execute_cell)


def execute(nb: nbformat.NotebookNode, cwd: str | None = None, km: Any = None, **kwargs: Any) -> nbformat.NotebookNode:
    """:func:`nbclient.execute` with :class:`BookNotebookClient`: run ``nb`` in place and return it.

    Args:
        nb: the notebook; its outputs are filled in.
        cwd: the kernel's working directory.
        km: a kernel manager to use (default: a new :class:`SlicedKernelManager`).
        kwargs: options of the client (``timeout``, ``allow_errors``, ``name``, ...).
    """
    resources = {"metadata": {"path": cwd}} if cwd is not None else {}
    return BookNotebookClient(nb, km=km, resources=resources, **kwargs).execute()


# ----------------------------------------------------------------------------------- chapters


@dataclass
class ExecutionResult:
    """An executed chapter: its path, the wall time of the execution, the notebook with outputs and the
    gap after every executed cell."""

    path: Path
    seconds: float
    notebook: nbformat.NotebookNode
    timings: list[CellGap] = field(default_factory=list)


class ChapterExecutionError(RuntimeError):
    """A chapter failed to execute; the message names the chapter and cell and holds the cell's source
    and traceback."""

    def __init__(self, message: str, *, path: Path, cell_index: int | None, seconds: float):
        super().__init__(message)
        self.path = path
        self.cell_index = cell_index
        self.seconds = seconds


def _header_format(path: Path) -> str | None:
    """``format_name`` in the file's own YAML front matter (jupytext guesses a format without one)."""
    text = path.read_text(encoding="utf-8")
    match = re.match(r"---\s*\n(.*?)\n---\s*\n", text, flags=re.DOTALL)
    if match is None:
        return None
    try:
        front = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError:
        return None
    representation = front.get("jupytext", {}).get("text_representation", {}) if isinstance(front, dict) else {}
    return representation.get("format_name") if isinstance(representation, dict) else None


def kernel_environment(env: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment with ``env`` on top, for a kernel. An inherited non-interactive
    backend (``MPLBACKEND=Agg``, as ``make`` exports) is dropped: it would hide every figure, and the
    book build uses the inline backend."""
    environment = dict(os.environ)
    environment.pop("MPLBACKEND", None)
    environment.update(env or {})
    return environment


def _cell_index(message: str) -> int | None:
    match = re.search(r": (?:stall: )?cell (\d+)", message)
    return int(match.group(1)) if match else None


def execute_chapter(
    path: Path,
    *,
    timeout: int = 600,
    env: dict[str, str] | None = None,
    notebook: nbformat.NotebookNode | None = None,
    kernel_manager_class: type[AsyncKernelManager] = SlicedKernelManager,
    stall_seconds: float = STALL_SECONDS,
) -> ExecutionResult:
    """Run the code cells of a chapter in a fresh ``python3`` kernel, in the chapter's folder, read into
    cells as the book build reads it (myst-nb), so that cell numbers and lines match its messages.

    Args:
        path: a MyST Markdown notebook (``format_name: myst`` jupytext header).
        timeout: seconds allowed per cell.
        env: environment variables for the kernel, on top of this process's (for example
            ``{"OVERSMOOTHING_PROFILE": "quick", "OVERSMOOTHING_DEVICE": "cpu"}``).
        notebook: run this notebook instead of the chapter's own cells (a student notebook, say); it
            still runs in the chapter's folder, and messages name the chapter.
        kernel_manager_class: :class:`SlicedKernelManager` (the fix); ``make stress`` passes
            ``AsyncKernelManager`` to measure the stall without it.
        stall_seconds: the stall detector's limit (:data:`STALL_SECONDS`).

    Returns:
        An :class:`ExecutionResult` with the executed notebook (outputs filled in) and its gaps.

    Raises:
        FileNotFoundError: ``path`` is not a file.
        ValueError: ``path`` has no MyST jupytext header (its code cells would not run in the book),
            or ``timeout`` is not a positive int.
        ChapterExecutionError: a cell raised, timed out, killed the kernel or stalled; the message
            names the chapter and cell and holds the cell's source and traceback.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path={str(path)!r} is not a file")
    check_int(timeout, "timeout", minimum=1)
    if notebook is None:
        from myst_nb.core.read import read_myst_markdown_notebook  # the book's reader (not needed for grading)

        format_name = _header_format(path)
        if format_name != "myst":
            raise ValueError(
                f"path={str(path)!r} has no jupytext header with format_name: myst (got {format_name!r}); "
                "without it the book does not execute the chapter's code cells"
            )
        notebook = read_myst_markdown_notebook(path.read_text(encoding="utf-8"), add_source_map=True, path=path)
    client = BookNotebookClient(
        notebook,
        timeout=timeout,
        kernel_name=KERNEL_NAME,
        name=path.name,
        kernel_manager_class=kernel_manager_class,
        stall_seconds=stall_seconds,
        resources={"metadata": {"path": str(path.parent.resolve())}},
    )
    start = time.perf_counter()
    try:
        client.execute(env=kernel_environment(env))
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
        seconds = time.perf_counter() - start
        message = f"{error}\n\n(the run stopped after {seconds:.1f} s)"
        raise ChapterExecutionError(message, path=path, cell_index=_cell_index(str(error)), seconds=seconds) from error
    return ExecutionResult(path=path, seconds=time.perf_counter() - start, notebook=notebook, timings=client.timings)
