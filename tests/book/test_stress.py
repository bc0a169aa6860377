"""``scripts/stress_execution.py`` (``make stress``): its chapters, its synthetic notebook, one execution
and the summary it reports. The stress run itself (hundreds of executions) is not part of the tests."""

from __future__ import annotations

import pytest

from conftest import load_script


@pytest.fixture(scope="module")
def stress():
    return load_script("scripts/stress_execution.py")


def test_the_widget_chapters_are_those_with_widgets_and_no_training(stress):
    chapters = stress.widget_chapters()
    assert chapters, "no widget chapter found"
    for chapter in chapters:
        text = chapter.read_text("utf-8")
        assert "import ipywidgets" in text and "run_experiment" not in text


@pytest.mark.parametrize("kind", ["output", "slider"])
def test_one_synthetic_execution_is_recorded(stress, tmp_path, kind):
    chapter = stress.write_synthetic(tmp_path, 2, kind)
    record = stress.run_one((str(chapter), "fixed", 60))
    assert record["stall"] is None and record["error"] is None, record
    assert record["cells"] == 5 and 0 <= record["max_gap"] < 30   # setup + 2 widget + 2 numeric cells


def test_the_summary_counts_stalls_failures_and_gaps(stress):
    records = [
        {"mode": "fixed", "seconds": 2.0, "max_gap": 0.4, "stall": None, "error": None, "cells": 10},
        {"mode": "unfixed", "seconds": 31.0, "max_gap": None, "stall": "x: stall: cell 3", "error": None, "cells": None},
        {"mode": "unfixed", "seconds": 3.0, "max_gap": 1.5, "stall": None, "error": None, "cells": 12},
        {"mode": "unfixed", "seconds": 1.0, "max_gap": None, "stall": None, "error": "boom", "cells": None},
    ]
    unfixed = stress.summarise(records, "unfixed")
    assert (unfixed["executions"], unfixed["stalls"], unfixed["failures"], unfixed["cells"]) == (3, 1, 1, 12)
    assert unfixed["max_gap_seconds"] == 1.5 and unfixed["over_30_s"] == 1
    fixed = stress.summarise(records, "fixed")
    assert fixed["stalls"] == 0 and fixed["over_30_s"] == 0 and fixed["max_gap_seconds"] == 0.4
