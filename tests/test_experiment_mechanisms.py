"""The mechanism the experiments of chapters 9 and 10 show, asserted on the experiments themselves at the quick
sizes (not by re-executing the chapters): if the smoothing and sharpening spectra were swapped, or a model
broken, these tests fail."""

from __future__ import annotations

import dataclasses

import pytest

from oversmoothing.experiments.language import PROFILE_SIZES as LANGUAGE_SIZES
from oversmoothing.experiments.language import run_language, spectra_frame, summary_frame
from oversmoothing.experiments.vision import PROFILE_SIZES as VISION_SIZES
from oversmoothing.experiments.vision import run_vision
from oversmoothing.experiments.vision_tables import runs_frame
from oversmoothing.experiments.vision_tables import spectra_frame as vision_spectra

INTERVALS = {"smoothing": (1e-3, 1.0), "sharpening": (-1.0, -1e-3)}


@pytest.fixture(scope="module")
def vision():
    """The quick profile's main runs (every variant, one seed; no sweeps)."""
    sizes = dataclasses.replace(VISION_SIZES["quick"], seeds=(0,), sweep_depths=(), fractions=())
    return run_vision(sizes, device="cpu")


@pytest.fixture(scope="module")
def language():
    """The quick profile's language runs, one seed."""
    return run_language(dataclasses.replace(LANGUAGE_SIZES["quick"], seeds=(0,)), device="cpu")


def test_vision_spectra_keep_their_sign_after_training(vision):
    spectra = vision_spectra(vision).set_index("label")
    for label, (low, high) in INTERVALS.items():
        rows = spectra.loc[label]
        assert rows.max_abs_imag.max() < 1e-6, f"a {label} H has a complex eigenvalue"
        assert rows.min_real.min() >= low - 1e-6 and rows.max_real.max() <= high + 1e-6, f"{label} left its interval"


def test_vision_smoothing_model_ends_more_alike_than_the_sharpening_one(vision):
    last = runs_frame(vision).set_index("label")
    assert last.loc["smoothing", "last_cosine"] > last.loc["sharpening", "last_cosine"]
    assert last.loc["smoothing", "last_hc_dc"] < last.loc["sharpening", "last_hc_dc"]
    assert last.loc["smoothing", "test_accuracy"] > 0.5 and last.loc["sharpening", "test_accuracy"] > 0.5  # learnt


def test_language_dominance_follows_the_spectrum(language):
    summary = summary_frame(language).set_index("regime")
    assert summary.loc["smoothing", "dc_dominant"] == 1.0          # the DC block wins in every layer
    assert summary.loc["sharpening", "dc_dominant"] == 0.0
    spectra = spectra_frame(language).set_index("variant")
    assert spectra.loc["smooth", "min Re λ(H)"] > 0 and spectra.loc["sharpen", "max Re λ(H)"] < 0
    assert spectra.loc[["smooth", "sharpen"], "in its set"].all()
    assert summary.bits_per_char.max() < 4.6                       # below a uniform guess over ~76 characters
