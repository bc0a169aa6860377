"""Where and at what scale the book's code runs: device, profile, seeds, environment report.

Two environment variables steer every chapter, so that nothing is hard-coded in a notebook:

``OVERSMOOTHING_DEVICE``
    ``cuda``, ``cuda:1``, ``mps`` or ``cpu``. Default: CUDA if available, then MPS, then CPU.
``OVERSMOOTHING_PROFILE``
    ``quick`` (seconds on a laptop CPU; used by the tests and the book build) or ``full``
    (the sizes that show each effect clearly). Default: ``full`` when a CUDA device is
    available, ``quick`` otherwise.
"""

from __future__ import annotations

import contextlib
import os
import platform
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from typing import Literal, TypeVar

import numpy as np
import torch

from ._validation import check_int

DEVICE_ENV = "OVERSMOOTHING_DEVICE"
PROFILE_ENV = "OVERSMOOTHING_PROFILE"

ProfileName = Literal["quick", "reference", "full"]
PROFILES: tuple[ProfileName, ...] = ("quick", "reference", "full")
"""The scale profiles: ``quick`` (any CPU, about a minute per chapter), ``reference`` (the experiments' committed
runs on a 2-core CPU, at most 90 minutes, with enough seeds for intervals) and ``full`` (one GPU)."""

DEFAULT_SEED = 0

T = TypeVar("T")


def get_device(name: str | None = None) -> torch.device:
    """Return the device the book's computations use.

    Args:
        name: an explicit device (``"cpu"``, ``"cuda"``, ``"cuda:0"``, ``"mps"``). When ``None``,
            the ``OVERSMOOTHING_DEVICE`` environment variable is read, and when that is unset
            the first available of CUDA, MPS and CPU is chosen.

    Returns:
        The ``torch.device``.

    Raises:
        ValueError: the name is not a device type, or names a device that is not available.
    """
    requested = name if name is not None else os.environ.get(DEVICE_ENV)
    if requested is None or requested.strip() == "":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    source = "name" if name is not None else DEVICE_ENV
    try:
        device = torch.device(requested.strip())
    except RuntimeError as err:
        raise ValueError(f"{source}={requested!r} is not a device; use 'cpu', 'cuda', 'cuda:N' or 'mps'") from err
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"{source}={requested!r} asks for CUDA, but no CUDA device is available")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"{source}={requested!r} asks for MPS, but MPS is not available")
    if device.type not in {"cpu", "cuda", "mps"}:
        raise ValueError(f"{source}={requested!r}: the book supports 'cpu', 'cuda' and 'mps'")
    return device


def get_profile(name: str | None = None) -> ProfileName:
    """Return the scale profile, one of :data:`PROFILES`.

    Args:
        name: an explicit profile. When ``None``, ``OVERSMOOTHING_PROFILE`` is read; when that is
            unset the profile is ``"full"`` if CUDA is available and ``"quick"`` otherwise.

    Raises:
        ValueError: the profile is not one of :data:`PROFILES`.
    """
    requested = name if name is not None else os.environ.get(PROFILE_ENV)
    if requested is None or requested.strip() == "":
        return "full" if torch.cuda.is_available() else "quick"
    value = requested.strip().lower()
    if value not in PROFILES:
        source = "name" if name is not None else PROFILE_ENV
        raise ValueError(f"{source}={requested!r} is not a profile; use one of {PROFILES}")
    return value  # type: ignore[return-value]


def by_profile(quick: T, full: T, profile: str | None = None, *, reference: T | None = None) -> T:
    """Pick the value for the current profile: ``by_profile(quick=16, full=256)``.

    The ``reference`` profile runs on a CPU, so it takes ``reference`` when given and ``quick`` otherwise.
    """
    chosen = get_profile(profile)
    if chosen == "full":
        return full
    return reference if chosen == "reference" and reference is not None else quick


def seed_everything(seed: int = DEFAULT_SEED) -> torch.Generator:
    """Seed Python, NumPy and PyTorch (all devices) and return a CPU generator seeded the same.

    Args:
        seed: a non-negative integer.

    Returns:
        A ``torch.Generator`` on the CPU, for code that wants its own stream of random numbers.
    """
    check_int(seed, "seed", minimum=0)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


@dataclass(frozen=True)
class Environment:
    """What produced a set of results: device, profile and the versions that matter."""

    device: str
    device_name: str
    profile: str
    python: str
    platform: str
    torch_threads: int
    packages: dict[str, str]

    def as_rows(self) -> list[tuple[str, str]]:
        """The description as ``(item, value)`` rows, for a table."""
        rows = [
            ("device", self.device),
            ("device name", self.device_name),
            ("profile", self.profile),
            ("python", self.python),
            ("platform", self.platform),
            ("torch CPU threads", str(self.torch_threads)),
        ]
        rows.extend((name, version) for name, version in self.packages.items())
        return rows


REPORTED_PACKAGES = (
    "oversmoothing",
    "torch",
    "numpy",
    "sympy",
    "matplotlib",
    "pandas",
    "ipywidgets",
    "jupyter-book",
    "sphinx",
    "myst-nb",
    "sphinx-proof",
    "sphinx-exercise",
)


def describe_environment(device: torch.device | None = None, profile: str | None = None) -> Environment:
    """Describe the running environment (for the book's execution status page and reports)."""
    device = device if device is not None else get_device()
    if device.type == "cuda":
        device_name = torch.cuda.get_device_name(device)
    elif device.type == "mps":
        device_name = "Apple MPS"
    else:
        device_name = platform.processor() or platform.machine()
    packages = {}
    for package in REPORTED_PACKAGES:
        try:
            packages[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            packages[package] = "not installed"
    return Environment(
        device=str(device),
        device_name=device_name,
        profile=get_profile(profile),
        python=sys.version.split()[0],
        platform=platform.platform(),
        torch_threads=torch.get_num_threads(),
        packages=packages,
    )


@contextlib.contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Run the block with ``threads`` intra-op CPU threads, restored afterwards; ``None`` changes nothing.

    Small models train many times faster on one thread than on two busy cores, so the experiments use
    ``torch_threads(1)`` on the CPU.
    """
    if threads is None:
        yield
        return
    check_int(threads, "threads", minimum=1)
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
