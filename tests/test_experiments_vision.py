"""The vision experiment of chapter 9: sizes, one tiny run of every kind, the tables, the helpers."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest
import torch

from oversmoothing.datasets import ArrayDataset, DataSplits, corrupt, load_digits_splits
from oversmoothing.experiments import available_experiments, run_experiment, to_jsonable
from oversmoothing.experiments.vision import (
    PROFILE_SIZES,
    VARIANTS,
    VisionSizes,
    build_vision_model,
    corruption_accuracy,
    run_vision,
    value_map_summary,
)
from oversmoothing.experiments.vision_tables import (
    corruption_frame,
    epoch_end_frame,
    fraction_frame,
    layers_frame,
    runs_frame,
    spectra_frame,
)
from oversmoothing.models import value_output_maps
from oversmoothing.training import evaluate

TINY = VisionSizes(datasets=("digits",), dim=8, depth=1, heads=1, mlp_ratio=1.0, init_std=0.2, epochs=1,
                   batch_size=128, lr=5e-3, seeds=(0,), sweep_depths=(2,), sweep_variants=("sharpen",),
                   sweep_seeds=(0,), fractions=(0.5,), fraction_variants=("smooth",), fraction_seeds=(0,),
                   severities=(2,), monitor_images=32, metric_images=8)


@pytest.fixture(scope="module")
def tiny_result():
    threads = torch.get_num_threads()
    result = to_jsonable(run_vision(TINY, device="cpu"))
    assert torch.get_num_threads() == threads  # the one-thread setting is undone
    return result


@pytest.fixture(scope="module")
def digits():
    return load_digits_splits()


def test_every_kind_of_run_is_trained_once(tiny_result):
    runs = tiny_result["runs"]
    kinds = [(run["variant"], run["depth"], run["fraction"]) for run in runs]
    assert kinds == [(v, 1, 1.0) for v in VARIANTS] + [("sharpen", 2, 1.0), ("smooth", 1, 0.5)]
    main, swept, partial = runs[:5], runs[5], runs[6]
    assert all(run["corruption"] is not None for run in main)
    assert swept["corruption"] is None and partial["corruption"] is None
    assert list(main[0]["corruption"]) == ["gaussian_noise", "gaussian_blur", "contrast"]
    # the fraction run sees half the examples twice as often: as many optimiser steps as a full run
    assert partial["train_examples"] == pytest.approx(main[0]["train_examples"] / 2, abs=10)
    assert len(partial["epochs"]) == 2 and len(main[0]["epochs"]) == 1
    assert partial["epochs"][-1]["step"] == pytest.approx(main[0]["epochs"][-1]["step"], abs=1)
    for run in runs:
        assert 0.0 <= run["test_accuracy"] <= 1.0 and math.isfinite(run["test_loss"])
        assert [entry["epoch"] for entry in run["epoch_end"]] == list(range(len(run["epochs"]) + 1))
        assert sorted({row["epoch"] for row in run["layer_metrics"]}) == [0, len(run["epochs"])]
    json.dumps(tiny_result, allow_nan=False)  # strict JSON


def test_trained_spectra_sit_in_their_intervals(tiny_result):
    for run in tiny_result["runs"]:
        real = torch.tensor(run["eigenvalues"]["real"])
        imag = torch.tensor(run["eigenvalues"]["imag"])
        if run["variant"] == "smooth":
            assert imag.abs().max() < 1e-6 and real.min() >= 1e-3 - 1e-6 and real.max() <= 1 + 1e-6
        elif run["variant"] == "sharpen":
            assert imag.abs().max() < 1e-6 and real.min() >= -1 - 1e-6 and real.max() <= -1e-3 + 1e-6
        else:
            assert imag.abs().max() > 1e-3  # an unconstrained W_V W_O has complex eigenvalues
        asymmetries = [a for entry in run["epoch_end"] for a in entry["asymmetry"]]
        if run["variant"] in ("smooth", "sharpen"):
            assert max(asymmetries) < 1e-5
        else:
            assert min(asymmetries) > 0.3


def test_sizes_are_read_back_from_a_result(tiny_result):
    assert VisionSizes.from_dict(json.loads(json.dumps(tiny_result["sizes"]))) == TINY


def test_tables_have_one_row_per_unit(tiny_result):
    runs = runs_frame(tiny_result)
    assert len(runs) == 7 and {"label", "test_accuracy", "last_cosine", "last_hc_dc"} <= set(runs.columns)
    first = tiny_result["runs"][0]
    last_row = [row for row in first["layer_metrics"] if row["epoch"] == 1][-1]
    assert runs.last_cosine.iloc[0] == last_row["mean_cosine"]
    layers = layers_frame(tiny_result)
    assert len(layers) == 5 * (TINY.depth + 1) and set(layers.layer) == {0, 1}
    assert len(layers_frame(tiny_result, trained=False)) == len(layers)
    corrupted = corruption_frame(tiny_result, "digits")
    assert len(corrupted) == 5 * 3 * 2 and set(corrupted.severity) == {0, 2}
    clean = corrupted[corrupted.severity == 0].groupby("label").accuracy.first()
    assert clean["baseline"] == first["test_accuracy"]
    assert (corrupted[corrupted.severity == 0].relative_drop == 0).all()
    hit = corrupted[corrupted.severity == 2].iloc[0]
    assert hit.relative_drop == pytest.approx(1 - hit.accuracy / clean[hit.label])
    partial = fraction_frame(tiny_result)
    assert list(partial.label) == ["smoothing"] and list(partial.fraction) == [0.5]
    smooth_main = next(run for run in tiny_result["runs"] if run["variant"] == "smooth" and run["fraction"] == 1.0)
    assert partial.full_accuracy.iloc[0] == smooth_main["test_accuracy"]
    assert partial.relative_drop.iloc[0] == pytest.approx(1 - partial.test_accuracy.iloc[0] / smooth_main["test_accuracy"])
    record = epoch_end_frame(tiny_result, "standard")
    assert list(record.epoch) == [0, 1] and list(record.layer) == [1, 1]
    spectra = spectra_frame(tiny_result)
    assert len(spectra) == 5 * TINY.depth and spectra.eigenvalues.iloc[0].shape == (TINY.dim,)
    assert spectra.set_index("label").loc["sharpening", "positive_share"] == 0.0
    with pytest.raises(ValueError, match="dataset='cifar10'"):
        runs_frame(tiny_result, "cifar10")
    with pytest.raises(ValueError, match="variant"):
        epoch_end_frame(tiny_result, "plus")
    with pytest.raises(ValueError, match="run_vision"):
        runs_frame({"runs": []})


def test_value_map_summary_matches_a_direct_computation(digits):
    torch.manual_seed(0)
    model = build_vision_model("standard", 3, dataclasses.replace(TINY, dim=16), digits)
    summary = value_map_summary(model)
    maps = value_output_maps(model).detach().double()
    eigenvalues = torch.linalg.eigvals(maps)
    expected_share = (eigenvalues.real < 0).double().mean(-1)
    skew = (maps - maps.transpose(-1, -2)) / 2
    expected_asymmetry = skew.flatten(1).norm(dim=1) / maps.flatten(1).norm(dim=1)
    assert summary["negative_share"] == pytest.approx(expected_share.tolist())
    assert summary["asymmetry"] == pytest.approx(expected_asymmetry.tolist())
    smooth = build_vision_model("smooth", 2, dataclasses.replace(TINY, dim=16), digits)
    assert max(value_map_summary(smooth)["asymmetry"]) < 1e-6
    assert value_map_summary(smooth)["negative_share"] == [0.0, 0.0]


def test_corruption_accuracy_evaluates_each_kind_and_severity(digits):
    torch.manual_seed(0)
    model = build_vision_model("sharpen", 1, TINY, digits)
    test = digits.test.subset(torch.arange(60))
    scores = corruption_accuracy(model, test, severities=(1, 5), kinds=("gaussian_blur", "contrast"), seed=3)
    assert list(scores) == ["gaussian_blur", "contrast"]
    for kind in scores:
        expected = [evaluate(model, ArrayDataset(corrupt(test.inputs, kind, s, seed=3), test.targets))["accuracy"]
                    for s in (1, 5)]
        assert scores[kind] == expected


def test_models_fit_digits_and_mnist1d_shapes(digits):
    model = build_vision_model("featscale", 2, TINY, digits)
    assert model.patch_embed.num_patches == 16
    signals = DataSplits("mnist1d", ArrayDataset(torch.randn(20, 1, 1, 40), torch.arange(20) % 10),
                         ArrayDataset(torch.randn(10, 1, 1, 40), torch.arange(10)), num_classes=10,
                         input_shape=(1, 1, 40), classes=tuple("0123456789"))
    model = build_vision_model("attnscale", 2, TINY, signals)
    assert model.patch_embed.num_patches == 10 and model(signals.test.inputs).shape == (10, 10)
    with pytest.raises(ValueError, match="variant"):
        build_vision_model("plus", 2, TINY, digits)


@pytest.mark.parametrize("change, name", [
    ({"datasets": ("cifar10",)}, "datasets"), ({"datasets": ()}, "datasets"), ({"dim": 0}, "dim"),
    ({"sweep_depths": (1,)}, "sweep_depths"), ({"fractions": (1.0,)}, "fractions"),
    ({"severities": (0,)}, "severities"), ({"sweep_variants": ("plus",)}, "sweep_variants"),
    ({"seeds": ()}, "seeds"), ({"fraction_seeds": (-1,)}, "fraction_seeds"), ({"monitor_images": -1}, "monitor_images"),
    ({"cpu_threads": 0}, "cpu_threads"), ({"lr": 0.0}, "lr"),
])
def test_sizes_reject_bad_values(change, name):
    with pytest.raises(ValueError, match=name):
        dataclasses.replace(TINY, **change)


def test_profiles_are_registered_and_sized():
    assert "vision" in available_experiments()
    quick, full = PROFILE_SIZES["quick"], PROFILE_SIZES["full"]
    assert quick.datasets == ("digits",) and len(quick.seeds) == 2 and len(full.seeds) == 5
    assert full.dim > quick.dim and full.epochs > quick.epochs and "mnist1d" in full.datasets
    reference = PROFILE_SIZES["reference"]
    assert len(reference.seeds) >= 5 and min(len(reference.sweep_seeds), len(reference.fraction_seeds)) >= 3
    assert reference.sweep_variants == reference.fraction_variants == VARIANTS and reference.workers == 2
    with pytest.raises(TypeError, match="VisionSizes"):
        run_vision({"dim": 8})
    with pytest.raises(ValueError, match="profile"):
        run_experiment("vision", profile="huge")


def test_runs_do_not_depend_on_the_number_of_workers(tiny_result):
    sizes = dataclasses.replace(TINY, sweep_depths=(), fractions=(), workers=2)
    spread = to_jsonable(run_vision(sizes, device="cpu"))
    for alone, beside in zip(tiny_result["runs"][:5], spread["runs"]):
        assert (alone["variant"], alone["seed"]) == (beside["variant"], beside["seed"])
        assert alone["test_accuracy"] == beside["test_accuracy"] and alone["test_loss"] == beside["test_loss"]
        assert alone["epochs"][-1]["train_loss"] == beside["epochs"][-1]["train_loss"]
    assert all(isinstance(run["converged"], bool) for run in spread["runs"])
