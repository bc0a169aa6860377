"""The experiment registry: names, the result file and its metadata, JSON conversion, reading results back
(committed ones too) and saying where they came from; the helpers the experiments share."""

from __future__ import annotations

import dataclasses
import json
import math

import pandas as pd
import pytest
import torch

import oversmoothing as ovs
from oversmoothing.experiments import (
    EXPERIMENTS,
    available_experiments,
    check_counts,
    describe_provenance,
    load_committed_result,
    load_result,
    register,
    result_path,
    run_experiment,
    to_jsonable,
)
from oversmoothing.experiments.value_maps import value_map_spectra
from oversmoothing.models import value_output_maps


@pytest.fixture
def registry(monkeypatch):
    """A registry that forgets what a test registers."""
    monkeypatch.setattr("oversmoothing.experiments.registry.EXPERIMENTS", dict(EXPERIMENTS))
    from oversmoothing.experiments import registry as module

    return module.EXPERIMENTS


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


def test_a_committed_result_is_read_when_present_and_its_provenance_described(tmp_path):
    assert load_committed_result("unit-demo", "full", tmp_path) is None
    metadata = {"profile": "full", "command": "oversmoothing experiment unit-demo --profile full --out results",
                "device": "cuda", "device_name": "a test GPU", "seconds": 1800.0, "date": "2025-01-01T00:00:00+00:00"}
    record = {"runs": [{"seed": 0}], "metadata": metadata}
    (tmp_path / "unit-demo-full.json").write_text(json.dumps(record))
    assert load_committed_result("unit-demo", "full", tmp_path) == record
    assert load_committed_result("unit-demo", "quick", tmp_path) is None
    assert load_committed_result("unit-demo", "full", tmp_path / "elsewhere") is None
    assert describe_provenance(record) == ("full profile, produced by `oversmoothing experiment unit-demo --profile "
                                           "full --out results` on a test GPU (cuda) in 30.0 min, "
                                           "2025-01-01T00:00:00+00:00")
    with pytest.raises(ValueError, match="metadata"):
        describe_provenance({"runs": []})
    with pytest.raises(ValueError, match="profile"):
        load_committed_result("unit-demo", "medium", tmp_path)


@dataclasses.dataclass
class _Sizes:
    dim: int = 8
    windows: int = 0


@pytest.mark.parametrize("dim, windows, match", [(0, 0, "dim must be a positive int"), (True, 0, "dim"),
                                                 (2.0, 0, "dim"), (8, -1, "windows must be a non-negative int")])
def test_check_counts_names_the_bad_field(dim, windows, match):
    check_counts(_Sizes(), ("dim",))
    check_counts(_Sizes(), ("windows",), minimum=0)
    with pytest.raises(ValueError, match=match):
        check_counts(_Sizes(dim, windows), ("dim",))
        check_counts(_Sizes(dim, windows), ("windows",), minimum=0)


@pytest.mark.parametrize("value_map", ["standard", "sharpen"])
def test_value_map_spectra_are_those_of_h_and_of_the_gained_h(value_map):
    ovs.seed_everything(0)
    model = ovs.CharTransformer(ovs.TransformerConfig(dim=8, depth=2, heads=2, causal=True, value_map=value_map),
                                vocab_size=7, context=4)
    with torch.no_grad():
        model.encoder.blocks[1].ln1.weight[:3] = -0.5
    spectra = value_map_spectra(model)
    assert spectra["negative_gains"] == [0, 3]
    for key, include in (("eigenvalues", False), ("gain_eigenvalues", True)):
        maps = value_output_maps(model, include_norm_gain=include).detach().double()
        values = torch.tensor(spectra[key]["real"]) + 1j * torch.tensor(spectra[key]["imag"])
        assert values.shape == (2, 8)
        # the recorded eigenvalues are those of the map: det(M - lambda I) = 0 for each
        shifted = maps[:, None].to(torch.complex128) - values[..., None, None] * torch.eye(8, dtype=torch.complex128)
        assert float(torch.linalg.det(shifted).abs().max()) < 1e-8
    if value_map == "sharpen":
        assert max(max(row) for row in spectra["eigenvalues"]["real"]) < 0
        gained_positive = (torch.tensor(spectra["gain_eigenvalues"]["real"]) > 0).sum(dim=-1).tolist()
        assert gained_positive == [0, 3]                        # one sign flip per negative gain
