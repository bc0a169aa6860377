"""Statistics over repeated runs: means with Student-t intervals, and a verdict that says when the runs cannot
tell two models apart.

Seeds are the unit: each run gives one number, and the interval is over runs. A comparison of two models pairs
their runs by seed (same data order, same initial draw of the shared parts) and puts the interval on the
differences::

    >>> low, high = mean_interval([0.02, 0.03, 0.01, 0.04, 0.02])[1:]
    >>> verdict(low, high)
    'supported'
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

VERDICTS: tuple[str, ...] = ("supported", "contradicted", "inconclusive")
"""What an interval for "A − B > 0" says: above 0, below 0, or containing 0 (or only one run)."""


def mean_interval(values: Sequence[float] | np.ndarray | pd.Series, confidence: float = 0.95
                  ) -> tuple[float, float, float]:
    """The mean of independent runs and its two-sided Student-t confidence interval.

    Args:
        values: one number per run, shape ``(r,)``, all finite.
        confidence: the interval's level in ``(0, 1)``.

    Returns:
        ``(mean, low, high)``; with a single run the interval is ``(nan, nan)``.

    Raises:
        ValueError: no values, a value that is not finite, or ``confidence`` out of range.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence!r}")
    array = np.asarray(values, dtype=float).reshape(-1)
    if array.size == 0 or not np.isfinite(array).all():
        raise ValueError("values must be a non-empty set of finite numbers")
    mean = float(array.mean())
    if array.size == 1:
        return mean, math.nan, math.nan
    half = float(stats.t.ppf((1 + confidence) / 2, df=array.size - 1) * array.std(ddof=1) / math.sqrt(array.size))
    return mean, mean - half, mean + half


def interval_frame(table: pd.DataFrame, value: str, by: Sequence[str], confidence: float = 0.95) -> pd.DataFrame:
    """:func:`mean_interval` of the column ``value`` for every group of ``by``.

    Returns:
        One row per group (in order of appearance) with the ``by`` columns, ``runs``, ``mean``, ``low``, ``high``.

    Raises:
        ValueError: a missing column or an empty table.
    """
    missing = [column for column in (value, *by) if column not in table.columns]
    if missing or table.empty:
        raise ValueError(f"table must be non-empty with the columns {value!r} and {list(by)}; missing {missing}")
    rows = []
    for key, group in table.groupby(list(by), sort=False):
        mean, low, high = mean_interval(group[value], confidence)
        rows.append(dict(zip(by, key if isinstance(key, tuple) else (key,)))
                    | {"runs": len(group), "mean": mean, "low": low, "high": high})
    return pd.DataFrame(rows)


def verdict(low: float, high: float) -> str:
    """What the interval ``[low, high]`` of a difference "A − B" says of the claim "A > B" (:data:`VERDICTS`)."""
    if math.isnan(low) or math.isnan(high):
        return "inconclusive"
    if low > 0:
        return "supported"
    if high < 0:
        return "contradicted"
    return "inconclusive"


def format_interval(mean: float, low: float, high: float, digits: int = 3) -> str:
    """``"0.912 [0.901, 0.923]"``; just the mean when the interval is undefined (one run)."""
    if math.isnan(low) or math.isnan(high):
        return f"{mean:.{digits}f} (one run)"
    return f"{mean:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


__all__ = ["VERDICTS", "format_interval", "interval_frame", "mean_interval", "verdict"]
