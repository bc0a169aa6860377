"""Checked claims: the table a chapter shows of what it claims, how it tests it, what it measured and whether
the test holds, raising when one does not (so a wrong theorem or a broken model stops the book's build)::

    show_checks([
        Check("pure attention collapses", "rank-one residual at layer 6 < 1e-12", residual, residual < 1e-12),
        agreement("HC/DC ratio", predicted=0.0, measured=ratio),
    ])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import astuple, dataclass

import numpy as np
import pandas as pd

__all__ = ["Check", "agreement", "show_checks"]


@dataclass(frozen=True)
class Check:
    """One checked claim.

    Attributes:
        claim: what the chapter claims, in words.
        test: the test that decides it (a threshold, an equality), in words.
        measured: the measured value the test reads (a number, or a bool for a yes/no test).
        holds: whether the test holds.
    """

    claim: str
    test: str
    measured: float
    holds: bool


def agreement(quantity: str, predicted: float, measured: float, *, rtol: float = 1e-6, atol: float = 1e-6) -> Check:
    """The :class:`Check` that ``measured`` equals the theory's ``predicted`` value: ``|measured - predicted|
    <= atol + rtol * |predicted|`` (``numpy.isclose``)."""
    holds = bool(np.isclose(measured, predicted, rtol=rtol, atol=atol))
    return Check(quantity, f"= {predicted:.6g} (predicted)", float(measured), holds)


def _format(value: object) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
        if math.isfinite(number) and 1e-3 <= abs(number) < 100:
            return f"{number:.6f}"
        return f"{number:.4g}"
    return str(value)


def show_checks(checks: Sequence[Check | tuple[str, str, float, bool]]) -> pd.DataFrame:
    """Display the checks as a table (in a notebook; printed elsewhere) and return it.

    Args:
        checks: :class:`Check` s, or tuples ``(claim, test, measured, holds)``.

    Returns:
        The table: columns ``claim``, ``test``, ``measured``, ``holds``.

    Raises:
        ValueError: no check, a tuple that is not four fields, or a ``holds`` that is not a bool.
        AssertionError: a check does not hold; the message lists every one that fails.
    """
    rows = [check if isinstance(check, Check) else Check(*check) for check in checks]
    if not rows:
        raise ValueError("checks must hold at least one check")
    for row in rows:
        if not isinstance(row.holds, (bool, np.bool_)):
            raise ValueError(f"holds must be a bool, got {row.holds!r} for the claim {row.claim!r}")
    table = pd.DataFrame([astuple(row) for row in rows], columns=["claim", "test", "measured", "holds"])
    table["holds"] = table.holds.astype(bool)
    from IPython.display import display

    display(table.style.hide(axis="index").format({"measured": _format}).format(escape="html",
                                                                                subset=["claim", "test"]))
    failing = table[~table.holds]
    if len(failing):
        raise AssertionError(f"prediction and measurement disagree:\n{failing.to_string(index=False)}")
    return table
