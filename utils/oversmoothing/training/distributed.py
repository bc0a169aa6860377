"""Data parallelism under ``torchrun``: who am I, which examples are mine, how to sum across processes."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class ProcessGroup:
    """This process's place among ``world_size`` data-parallel processes (``1`` when not distributed)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def active(self) -> bool:
        """Whether there is more than one process (gradients and sums are then all-reduced)."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Whether this is the process that writes files and shows the progress bar."""
        return self.rank == 0


def current_group() -> ProcessGroup:
    """The group of an initialised ``torch.distributed`` (e.g. by :func:`init_from_environment`)."""
    if not (dist.is_available() and dist.is_initialized()):
        return ProcessGroup()
    return ProcessGroup(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0)))


def init_from_environment(device: torch.device) -> ProcessGroup:
    """Join the process group that ``torchrun`` describes in ``WORLD_SIZE``/``RANK``/``MASTER_ADDR``.

    Uses NCCL for CUDA and gloo otherwise; does nothing outside ``torchrun`` (no ``WORLD_SIZE`` or
    ``WORLD_SIZE=1``) or when a group already exists.
    """
    if int(os.environ.get("WORLD_SIZE", 1)) > 1 and dist.is_available() and not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return current_group()


def process_device(device: torch.device, group: ProcessGroup) -> torch.device:
    """The device of this process: under ``torchrun`` a bare ``cuda`` means ``cuda:LOCAL_RANK``."""
    if group.active and device.type == "cuda" and device.index is None:
        return torch.device("cuda", group.local_rank)
    return device


def all_reduce_sum(values: torch.Tensor, group: ProcessGroup) -> torch.Tensor:
    """Sum ``values`` over the processes (in place; a no-op for one process) and return it."""
    if group.active:
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values
