"""The chapters' check tables (:mod:`oversmoothing.checks`): they show every check and raise on a failing one."""

from __future__ import annotations

import numpy as np
import pytest

from oversmoothing.checks import Check, agreement, show_checks


def test_show_checks_returns_the_table_when_every_check_holds(capsys):
    table = show_checks([Check("a claim", "x < 1", 0.5, True), ("another", "y > 2", 3.0, np.bool_(True))])
    assert list(table.columns) == ["claim", "test", "measured", "holds"]
    assert table.holds.tolist() == [True, True] and table.measured.tolist() == [0.5, 3.0]


def test_show_checks_raises_listing_every_failing_check():
    with pytest.raises(AssertionError, match="prediction and measurement disagree") as caught:
        show_checks([Check("holds", "t", 1.0, True), Check("fails once", "t", 2.0, False),
                     ("fails twice", "t", 3.0, np.bool_(False))])
    message = str(caught.value)
    assert "fails once" in message and "fails twice" in message and "holds " not in message


def test_show_checks_rejects_bad_input():
    with pytest.raises(ValueError, match="at least one"):
        show_checks([])
    with pytest.raises(ValueError, match="holds must be a bool"):
        show_checks([("claim", "test", 1.0, 1.0)])
    with pytest.raises(TypeError):
        show_checks([("claim", "test", 1.0)])


def test_agreement_is_a_tolerance_test():
    assert agreement("cosine", 1.0, 1.0 + 1e-9).holds
    assert not agreement("cosine", 1.0, 1.001).holds
    assert agreement("zero", 0.0, 5e-7).holds and not agreement("zero", 0.0, 5e-5).holds
    assert agreement("zero", 0.0, 5e-5, atol=1e-4).holds
    assert agreement("ratio", 2.0, 2.0).test == "= 2 (predicted)"
