"""The language experiment (chapter 10): sizes, a tiny end-to-end run and the tables the chapter uses."""

from __future__ import annotations

import copy
import dataclasses
import json

import pandas as pd
import pytest
import torch

import oversmoothing as ovs
from oversmoothing.datasets import load_corpus
from oversmoothing.experiments import available_experiments, to_jsonable
from oversmoothing.experiments.language import (
    PROFILE_SIZES,
    VARIANTS,
    LanguageSizes,
    analyse_language_model,
    layers_frame,
    run_language,
    spectra_frame,
    summary_frame,
)

TINY = LanguageSizes(dim=8, depth=2, heads=2, context=8, stride=8, train_windows=64, val_windows=16,
                     metric_windows=8, dominance_windows=2, epochs=1, batch_size=16, lr=3e-3, seeds=(0,),
                     sample_length=5)


@pytest.fixture(scope="module")
def tiny_result():
    text = load_corpus()[:30_000]
    return run_language(TINY, "cpu", text=text)


def test_language_sizes_are_validated():
    with pytest.raises(ValueError, match="dim"):
        dataclasses.replace(TINY, dim=0)
    with pytest.raises(ValueError, match="train_windows"):
        dataclasses.replace(TINY, train_windows=-1)
    with pytest.raises(ValueError, match="dominance_windows"):
        dataclasses.replace(TINY, dominance_windows=9)
    with pytest.raises(ValueError, match="seeds"):
        dataclasses.replace(TINY, seeds=())
    assert set(PROFILE_SIZES) == {"quick", "reference", "full"}
    reference = PROFILE_SIZES["reference"]
    assert len(reference.seeds) >= 5 and reference.workers == 2
    assert "language" in available_experiments()


def test_tiny_run_records_every_variant(tiny_result):
    runs = tiny_result["runs"]
    assert [run["variant"] for run in runs] == list(VARIANTS)
    assert tiny_result["counts"]["train_windows"] == 64 and tiny_result["counts"]["metric_windows"] == 8
    json.dumps(to_jsonable(tiny_result), allow_nan=False)
    for run in runs:
        assert len(run["layer_metrics"]) == TINY.depth + 1 and len(run["initial_layer_metrics"]) == TINY.depth + 1
        assert len(run["dc_dominant"]) == TINY.depth and len(run["eigenvalues"]["real"]) == TINY.depth
        assert run["bits_per_char"] == pytest.approx(run["val_loss"] / torch.log(torch.tensor(2.0)).item())
        assert len(run["sample"]) == TINY.sample_length and len(run["epochs"]) == TINY.epochs
    by_variant = {run["variant"]: run for run in runs}
    smooth = torch.tensor(by_variant["smooth"]["eigenvalues"]["real"])
    sharpen = torch.tensor(by_variant["sharpen"]["eigenvalues"]["real"])
    assert float(smooth.min()) >= 1e-3 - 1e-6 and float(smooth.max()) <= 1 + 1e-6
    assert float(sharpen.min()) >= -1 - 1e-6 and float(sharpen.max()) <= -1e-3 + 1e-6
    assert by_variant["smooth"]["dc_dominant"] == [1.0] * TINY.depth
    assert by_variant["sharpen"]["dc_dominant"] == [0.0] * TINY.depth
    assert by_variant["standard"]["asymmetry"][0] > 0.1 and by_variant["smooth"]["asymmetry"][0] < 1e-6


def test_tables_have_one_row_per_model_or_layer(tiny_result):
    summary = summary_frame(tiny_result)
    assert list(summary.variant) == list(VARIANTS)
    assert summary.regime.tolist() == ["baseline", "smoothing", "sharpening"]
    last = tiny_result["runs"][1]["layer_metrics"][-1]["mean_cosine"]
    assert summary.loc[1, "last_mean_cosine"] == last
    layers = layers_frame(tiny_result)
    assert len(layers) == len(VARIANTS) * (TINY.depth + 1) and {"regime", "seed", "layer", "mean_cosine"} <= set(layers)
    assert layers_frame(tiny_result, initial=True).mean_cosine.tolist() != layers.mean_cosine.tolist()
    with pytest.raises(ValueError, match="runs"):
        summary_frame({"runs": []})

    # the tables read a result that went through JSON (a committed result) unchanged
    assert summary_frame(json.loads(json.dumps(to_jsonable(tiny_result)))).equals(summary)


def test_bad_arguments_are_rejected():
    with pytest.raises(TypeError, match="LanguageSizes"):
        run_language({"dim": 8})
    model = ovs.CharTransformer(ovs.TransformerConfig(dim=8, depth=1, heads=2, causal=True), vocab_size=5, context=4)
    with pytest.raises(ValueError, match="windows"):
        analyse_language_model(model, torch.zeros(2, 4), 1)
    with pytest.raises(ValueError, match="dominance_windows"):
        analyse_language_model(model, torch.zeros(2, 4, dtype=torch.int64), 0)


def test_spectra_frame_checks_the_sets_and_the_inertia_count(tiny_result):
    spectra = spectra_frame(tiny_result).set_index("variant")
    assert list(spectra.index) == list(VARIANTS)
    for variant in ("smooth", "sharpen"):
        assert spectra.loc[variant, "in its set"] and spectra.loc[variant, "sign flips = negative gains"]
    assert spectra.loc["smooth", "min Re λ(H)"] > 0 > spectra.loc["sharpen", "max Re λ(H)"]
    assert pd.isna(spectra.loc["standard", "in its set"])
    swapped = copy.deepcopy(tiny_result)                      # the smoothing and sharpening spectra swapped
    for run in swapped["runs"]:
        for key in ("eigenvalues", "gain_eigenvalues"):
            run[key]["real"] = [[-value for value in layer] for layer in run[key]["real"]]
    flipped = spectra_frame(swapped).set_index("variant")
    assert not flipped.loc["smooth", "in its set"] and not flipped.loc["sharpen", "in its set"]

