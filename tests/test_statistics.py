"""Intervals over seeds and the verdicts drawn from them."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from oversmoothing.experiments.statistics import format_interval, interval_frame, mean_interval, verdict


def test_mean_interval_is_the_student_t_interval():
    values = [1.0, 2.0, 3.0, 4.0, 5.0]
    mean, low, high = mean_interval(values)
    half = 2.7764451051977987 * np.std(values, ddof=1) / math.sqrt(5)      # t_{0.975, 4}
    assert mean == 3.0 and low == pytest.approx(3.0 - half) and high == pytest.approx(3.0 + half)
    wider = mean_interval(values, confidence=0.99)
    assert wider[1] < low and wider[2] > high
    single = mean_interval([0.7])
    assert single[0] == 0.7 and math.isnan(single[1]) and math.isnan(single[2])


def test_mean_interval_rejects_bad_input():
    with pytest.raises(ValueError, match="non-empty"):
        mean_interval([])
    with pytest.raises(ValueError, match="finite"):
        mean_interval([1.0, float("nan")])
    with pytest.raises(ValueError, match="confidence"):
        mean_interval([1.0, 2.0], confidence=95)


def test_interval_frame_groups_and_counts_runs():
    table = pd.DataFrame({"label": ["a", "a", "a", "b", "b"], "depth": [2, 2, 2, 2, 2],
                          "accuracy": [0.5, 0.6, 0.7, 0.9, 0.9]})
    frame = interval_frame(table, "accuracy", ["label", "depth"])
    assert list(frame.label) == ["a", "b"] and list(frame.runs) == [3, 2]
    assert frame.loc[0, "mean"] == pytest.approx(0.6) and frame.loc[1, "low"] == pytest.approx(0.9)
    with pytest.raises(ValueError, match="missing"):
        interval_frame(table, "loss", ["label"])


@pytest.mark.parametrize("low, high, expected", [(0.01, 0.2, "supported"), (-0.2, -0.01, "contradicted"),
                                                 (-0.1, 0.1, "inconclusive"), (math.nan, math.nan, "inconclusive")])
def test_verdict_reads_the_sign_of_the_interval(low, high, expected):
    assert verdict(low, high) == expected


def test_format_interval():
    assert format_interval(0.9123, 0.9, 0.92) == "0.912 [0.900, 0.920]"
    assert format_interval(0.5, math.nan, math.nan, digits=2) == "0.50 (one run)"
