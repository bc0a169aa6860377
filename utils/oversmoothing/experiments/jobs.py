"""Independent training runs of an experiment, one after another or spread over worker processes."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

import torch

from .._validation import check_int
from ..runtime import torch_threads

R = TypeVar("R")


def _limit_threads(threads: int | None) -> None:
    if threads is not None:
        torch.set_num_threads(threads)


def run_jobs(function: Callable[..., R], jobs: Sequence[tuple[Any, ...]], workers: int = 1,
             threads: int | None = None) -> list[R]:
    """``[function(*job) for job in jobs]``, in that order, computed by ``workers`` processes.

    Every job seeds itself, so the results do not depend on ``workers``. With more than one worker the jobs
    run in *spawned* processes (fresh interpreters, safe beside PyTorch's thread pools), so ``function`` must
    be a module-level function and the jobs must pickle.

    Args:
        function: the run, ``function(*job) -> result``.
        jobs: the arguments of each run.
        workers: processes; ``1`` runs the jobs here, one after another.
        threads: intra-op CPU threads per process while the jobs run (``None``: PyTorch's setting).

    Returns:
        The results, in the order of ``jobs``.

    Raises:
        ValueError: ``workers`` is not a positive int.
    """
    check_int(workers, "workers", minimum=1)
    if workers == 1 or len(jobs) < 2:
        with torch_threads(threads):
            return [function(*job) for job in jobs]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=context,
                             initializer=_limit_threads, initargs=(threads,)) as pool:
        futures = [pool.submit(function, *job) for job in jobs]
        return [future.result() for future in futures]
