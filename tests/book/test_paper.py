"""The paper's versions and the comparisons of the experiments with each report (oversmoothing.book.paper)."""

from __future__ import annotations

import pandas as pd
import pytest

from oversmoothing.book.paper import PAPER_VERSIONS, language_comparison, paired_difference, vision_comparison
from oversmoothing.experiments.vision import VARIANT_LABELS

SIZES = {"depth": 4, "sweep_depths": [2, 8], "fractions": [0.1], "severities": [1, 3]}


def vision_run(variant, seed, depth=4, fraction=1.0, accuracy=0.9, corrupted=(0.8, 0.6)):
    """A run record with the fields the tables read (one layer, one epoch)."""
    return {"dataset": "digits", "variant": variant, "label": VARIANT_LABELS[variant], "seed": seed, "depth": depth,
            "fraction": fraction, "train_examples": 100, "test_accuracy": accuracy, "test_loss": 0.3,
            "converged": True, "seconds": 1.0, "epochs": [{"epoch": 1}],
            "layer_metrics": [{"epoch": 1, "layer": 0, "mean_cosine": 0.1, "hc_dc_ratio": 1.0}],
            "corruption": ({"gaussian_noise": list(corrupted)} if depth == 4 and fraction == 1.0 else None)}


def vision_result(sharpening_gain: float) -> dict:
    """Sharpening better than (gain > 0) or worse than (gain < 0) every other model, in every seed."""
    runs = []
    for seed in range(5):
        noise = 0.002 * seed
        for variant in VARIANT_LABELS:
            better = sharpening_gain if variant == "sharpen" else 0.0
            runs.append(vision_run(variant, seed, accuracy=0.8 + better + noise,
                                   corrupted=(0.7 + 2 * better + noise, 0.5 + 2 * better)))
            runs.append(vision_run(variant, seed, depth=8, accuracy=0.7 + better + noise))
            runs.append(vision_run(variant, seed, fraction=0.1, accuracy=0.6 + 2 * better + noise))
    return {"sizes": SIZES, "runs": runs}


def test_versions_table_has_each_version_with_a_source():
    assert list(PAPER_VERSIONS.version) == ["v1", "v2", "v3 / TMLR"]
    assert PAPER_VERSIONS.source.str.len().min() > 10 and PAPER_VERSIONS.reports.str.len().min() > 20


def test_paired_difference_pairs_by_seed():
    table = pd.DataFrame({"label": ["a", "b"] * 3, "seed": [0, 0, 1, 1, 2, 2], "value": [3, 1, 4, 2, 5, 3]})
    outcome = paired_difference(table, "value", "a", "b")
    assert outcome["runs"] == 3 and outcome["mean"] == 2 and outcome["low"] == outcome["high"] == 2
    assert outcome["verdict"] == "supported"
    assert paired_difference(table, "value", "b", "a")["verdict"] == "contradicted"
    with pytest.raises(ValueError, match="'c'"):
        paired_difference(table, "value", "a", "c")


@pytest.mark.parametrize("gain, expected", [(0.05, "supported"), (-0.05, "contradicted")])
def test_vision_comparison_follows_the_measurements(gain, expected):
    table = vision_comparison(vision_result(gain)).set_index("report")
    v1 = table[table.version == "v1"]
    assert len(v1) == 6 and set(v1.verdict) == {expected}                 # 3 questions x 2 prior fixes
    v2 = table.loc["image classification: smoothing can improve generalisation over sharpening"]
    assert v2.verdict == ("contradicted" if gain > 0 else "supported")     # smoothing is the other side
    assert table.loc["no direction stated for image models", "verdict"] == "nothing to compare"


def test_language_comparison_says_which_forced_model_is_worse():
    runs = [{"variant": v, "regime": r, "seed": seed, "val_loss": loss, "bits_per_char": loss, "val_accuracy": 0.5,
             "layer_metrics": [{"mean_cosine": 0.5, "hc_dc_ratio": 1.0}], "dc_dominant": [1.0],
             "gain_dc_dominant": [1.0], "negative_gains": [0], "seconds": 1.0}
            for seed in range(5)
            for v, r, loss in [("standard", "baseline", 2.0 + 0.01 * seed), ("smooth", "smoothing", 2.3 + 0.01 * seed),
                               ("sharpen", "sharpening", 1.9 + 0.01 * seed)]]
    table = language_comparison({"runs": runs}).set_index("report")
    assert table.loc["text generation: forcing smoothing hurts", "verdict"] == "supported"
    assert table.loc["text generation: forcing sharpening hurts", "verdict"] == "contradicted"
