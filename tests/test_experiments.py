"""The experiment registry: names, the result file and its metadata, JSON conversion, reading results back."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
import torch

from oversmoothing.experiments import (
    EXPERIMENTS,
    available_experiments,
    load_result,
    register,
    result_path,
    run_experiment,
    to_jsonable,
)


@pytest.fixture
def registry(monkeypatch):
    """A registry that forgets what a test registers."""
    monkeypatch.setattr("oversmoothing.experiments.EXPERIMENTS", dict(EXPERIMENTS))
    import oversmoothing.experiments as experiments

    return experiments.EXPERIMENTS


def test_registered_experiment_runs_and_writes_its_result(registry, tmp_path):
    @register("unit-demo")
    def demo(profile, device):
        return {"n": 16 if profile == "quick" else 256, "table": pd.DataFrame({"layer": [0, 1], "cos": [0.1, 0.2]})}

    assert registry["unit-demo"] is demo and "unit-demo" in available_experiments()
    record = run_experiment("unit-demo", profile="quick", device="cpu", out=tmp_path)
    assert record["n"] == 16 and record["table"] == [{"layer": 0, "cos": 0.1}, {"layer": 1, "cos": 0.2}]
    metadata = record["metadata"]
    assert {"experiment", "profile", "command", "device", "device_name", "seconds", "date", "python", "versions",
            "seed"} <= set(metadata)
    assert metadata["profile"] == "quick" and metadata["device"] == "cpu" and metadata["seconds"] >= 0
    assert metadata["versions"]["torch"] == torch.__version__
    assert result_path("unit-demo", "quick", tmp_path) == tmp_path / "unit-demo-quick.json"
    assert json.loads((tmp_path / "unit-demo-quick.json").read_text()) == record == load_result("unit-demo", "quick",
                                                                                                  tmp_path)


def test_nothing_is_written_without_out(registry, tmp_path, monkeypatch):
    register("unit-silent")(lambda profile, device: {"ok": True})
    monkeypatch.chdir(tmp_path)
    assert run_experiment("unit-silent", "quick", "cpu")["ok"] is True
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("name", ["", "has space", "slash/name", 3])
def test_register_rejects_bad_names(name):
    with pytest.raises(ValueError, match="name"):
        register(name)


def test_register_refuses_a_second_function_under_a_taken_name(registry):
    register("unit-taken")(lambda profile, device: {})

    def other(profile, device):
        return {}

    with pytest.raises(ValueError, match="already registered"):
        register("unit-taken")(other)


def test_run_experiment_rejects_unknown_names_profiles_and_bad_results(registry):
    register("unit-bad")(lambda profile, device: {"metadata": 1})
    with pytest.raises(ValueError, match="name='nope'"):
        run_experiment("nope", "quick", "cpu")
    with pytest.raises(ValueError, match="profile"):
        run_experiment("unit-bad", "medium", "cpu")
    with pytest.raises(ValueError, match="metadata"):
        run_experiment("unit-bad", "quick", "cpu")


def test_to_jsonable_converts_tensors_tables_and_non_finite_numbers():
    converted = to_jsonable({"t": torch.tensor([[1.0, math.nan]]), 2: (math.inf, "x"), "none": None})
    assert converted == {"t": [[1.0, None]], "2": [None, "x"], "none": None}
    with pytest.raises(TypeError, match="object"):
        to_jsonable({"bad": object()})


def test_load_result_names_the_command_that_writes_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="oversmoothing experiment vit-demo --profile full"):
        load_result("vit-demo", "full", tmp_path)
