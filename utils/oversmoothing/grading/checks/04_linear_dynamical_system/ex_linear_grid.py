"""Checks of exercise ex-linear-grid: ``grid_prediction(lambda_a, lambda_h)``, the tuple (M_DC, M_HC, regime,
rate) of the residual layer from the spectra of A (Perron eigenvalue first) and H."""

import torch
from otter.test_files import test_case

from oversmoothing import spectrum

OK_FORMAT = False
name = "ex_linear_grid"
points = 3


def _spectra(lambda_a, lambda_h):
    return torch.tensor(lambda_a, dtype=torch.complex128), torch.tensor(lambda_h, dtype=torch.complex128)


def _assert_as_the_package(grid_prediction, lambda_a, lambda_h):
    a, h = _spectra(lambda_a, lambda_h)
    mode = spectrum.dominant_mode_from_spectra(a, h, torch.tensor(0))
    expected = (float(mode.dc_modulus), float(mode.hc_modulus), mode.regime, float(mode.rate))
    dc, hc, regime, rate = grid_prediction(a, h)
    where = f"lambda_A = {lambda_a}, lambda_H = {lambda_h}"
    assert abs(dc - expected[0]) < 1e-9 and abs(hc - expected[1]) < 1e-9, (
        f"{where}: expected M_DC = {expected[0]:.4f} (row lambda_A = 1) and M_HC = {expected[1]:.4f}, got {dc!r}, {hc!r}")
    assert regime == expected[2], f"{where}: expected the regime {expected[2]!r}, got {regime!r}"
    assert abs(rate - expected[3]) < 1e-9, (
        f"{where}: expected the rate theta = {expected[3]:.4f}, the largest modulus other than the dominant mode "
        f"and its conjugate partner over the dominant modulus (not M_HC / M_DC), got {rate!r}")


@test_case(hidden=False)
def the_grid_of_the_exercise(grid_prediction):
    lambda_a, lambda_h = _spectra([1.0, 0.5, -0.2], [-0.5, 2.0])
    dc, hc, regime, rate = grid_prediction(lambda_a, lambda_h)
    assert (round(dc, 9), round(hc, 9), regime) == (3.0, 2.0, "smoothing"), (
        f"expected M_DC = 3, M_HC = 2, 'smoothing', got {dc!r}, {hc!r}, {regime!r}")
    assert abs(rate - 2 / 3) < 1e-9, f"expected the rate 2/3, got {rate!r}"
    dc, hc, regime, rate = grid_prediction(lambda_a, -lambda_h)
    assert (round(dc, 9), round(hc, 9), regime) == (1.5, 1.4, "smoothing"), (
        f"with -H: expected M_DC = 1.5, M_HC = 1.4, 'smoothing', got {dc!r}, {hc!r}, {regime!r}")
    assert abs(rate - 1.4 / 1.5) < 1e-9, f"with -H: expected the rate 1.4/1.5, got {rate!r}"


@test_case(hidden=False)
def a_sharpening_grid(grid_prediction):
    _assert_as_the_package(grid_prediction, [1.0, 0.3], [-0.5])


@test_case(hidden=True)
def runner_up_in_the_dc_row_and_complex_pairs(grid_prediction):
    _assert_as_the_package(grid_prediction, [1.0, 0.1], [2.0, 1.8])                       # theta = 2.8/3, not 1.2/3
    _assert_as_the_package(grid_prediction, [1.0, 0.4, -0.3], [0.5 + 0.5j, 0.5 - 0.5j, 0.2])   # dominant pair 1.5 +- 0.5i
    _assert_as_the_package(grid_prediction, [1.0, -0.6 + 0.2j, -0.6 - 0.2j, 0.1], [-0.9, 0.3 + 1.1j, 0.3 - 1.1j])
