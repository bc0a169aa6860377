"""Input checks shared by the package's public functions (private module)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import torch


def check_tokens(x: object, name: str = "x", *, min_tokens: int = 1, finite: bool = True) -> torch.Tensor:
    """Check that ``x`` is a floating tensor of shape ``(..., n, d)`` and return it.

    Raises:
        TypeError: ``x`` is not a tensor, or its dtype is not real floating point (integer, bool, complex).
        ValueError: fewer than two dimensions, fewer than ``min_tokens`` tokens, no features,
            or (when ``finite``) a NaN or infinite entry.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of shape (..., n, d), got {type(x).__name__}")
    if x.is_complex():
        raise TypeError(f"{name} must be real (a floating dtype), got {x.dtype}; take {name}.real or {name}.abs() first")
    if not x.is_floating_point():
        raise TypeError(f"{name} must have a floating dtype, got {x.dtype}; convert it with {name}.float()")
    if x.ndim < 2:
        raise ValueError(f"{name} must have shape (..., n, d) with at least 2 dimensions, got shape {tuple(x.shape)}")
    n, d = x.shape[-2], x.shape[-1]
    if n < min_tokens:
        raise ValueError(f"{name} must have at least {min_tokens} tokens (dimension -2), got shape {tuple(x.shape)}")
    if d < 1:
        raise ValueError(f"{name} must have at least one feature (dimension -1), got shape {tuple(x.shape)}")
    if finite and not _all_finite(x):
        raise ValueError(f"{name} contains NaN or infinite entries")
    return x


def _all_finite(x: torch.Tensor) -> bool:
    """Whether every entry is finite, usually with one reduction and no boolean copy of ``x``.

    A NaN or infinite entry makes the sum NaN or infinite, so a finite sum proves every entry
    finite; only a non-finite sum (which may be an overflow of finite entries) needs the
    entrywise check.
    """
    return bool(torch.isfinite(x.sum())) or bool(torch.isfinite(x).all())


def check_choice(value: str, name: str, choices: Iterable[str]) -> str:
    """Check that ``value`` is one of ``choices`` and return it."""
    options = tuple(choices)
    if value not in options:
        raise ValueError(f"{name}={value!r} is not one of {options}")
    return value


def check_int(value: object, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Check that ``value`` is an int (a bool is not) in ``[minimum, maximum]`` and return it.

    Raises:
        ValueError: naming ``name``: "must be a positive int" (``minimum=1``), "a non-negative int"
            (``minimum=0``), "an int in [a, b]" or "an int >= a".
    """
    low_ok = minimum is None or (isinstance(value, int) and value >= minimum)
    high_ok = maximum is None or (isinstance(value, int) and value <= maximum)
    if isinstance(value, bool) or not isinstance(value, int) or not (low_ok and high_ok):
        if maximum is not None:
            kind = f"an int in [{minimum if minimum is not None else '-inf'}, {maximum}]"
        else:
            kind = {None: "an int", 0: "a non-negative int", 1: "a positive int"}.get(minimum, f"an int >= {minimum}")
        raise ValueError(f"{name} must be {kind}, got {value!r}")
    return value


def check_positive(value: object, name: str) -> float:
    """Check that ``value`` is a finite real number greater than zero (a bool is not) and return it as a float.

    Raises:
        ValueError: naming ``name``.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


def interval(low: float, high: float, *, low_open: bool = False, high_open: bool = False) -> str:
    """The interval ``[low, high]`` in writing, with a round bracket at an open end: ``interval(0, 1, low_open=True)``
    is ``'(0, 1]'``."""
    return f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"


def check_real(value: object, name: str, low: float, high: float, *, low_open: bool = False,
               high_open: bool = False) -> float:
    """Check that ``value`` is a finite real number (a bool is not) in the interval from ``low`` to ``high``, each
    end open or closed, and return it as a float.

    Raises:
        ValueError: naming ``name`` and the :func:`interval`.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    too_low = value <= low if low_open else value < low
    too_high = value >= high if high_open else value > high
    if too_low or too_high:
        where = interval(low, high, low_open=low_open, high_open=high_open)
        raise ValueError(f"{name} must lie in {where}, got {value!r}")
    return float(value)


def check_seeds(seeds: object, name: str = "seeds", *, allow_empty: bool = False) -> tuple[int, ...]:
    """Check that ``seeds`` is a sequence of non-negative ints (non-empty unless ``allow_empty``) and return
    it as a tuple.

    Raises:
        ValueError: naming ``name``.
    """
    if (isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence) or (not seeds and not allow_empty)
            or any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in seeds)):
        kind = "a sequence" if allow_empty else "a non-empty sequence"
        raise ValueError(f"{name} must be {kind} of non-negative ints, got {seeds!r}")
    return tuple(seeds)
