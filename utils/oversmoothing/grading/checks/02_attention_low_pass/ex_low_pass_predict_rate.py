"""Checks of exercise ex-low-pass-predict-rate: ``predicted_rate(attention, omega)``, the decay rate of the
HC/DC ratio under AttnScale(attention, omega) that the theory predicts: min(1, |1 + omega| |lambda_2(A)|)."""

import numpy as np
import torch
from otter.test_files import test_case

OK_FORMAT = False
name = "ex_low_pass_predict_rate"
points = 3


def _attention(n, seed, temperature=1.0):
    scores = torch.randn(n, n, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return torch.softmax(scores / temperature, dim=-1)


def _second_modulus(attention):
    return sorted(np.abs(np.linalg.eigvals(attention.numpy())))[-2]


def _check(predicted_rate, attention, omega):
    expected = min(1.0, abs(1 + omega) * _second_modulus(attention))
    value = float(predicted_rate(attention, omega))
    assert abs(value - expected) < 1e-9, (
        f"n = {attention.shape[0]}, omega = {omega}: expected the rate {expected:.6f}, got {value:.6f}")


@test_case(hidden=False)
def temperature_one(predicted_rate):
    for omega in (0.0, -0.5):
        _check(predicted_rate, _attention(6, 0), omega)


@test_case(hidden=True)
def sign_flip_and_uniform(predicted_rate):
    attention = _attention(8, 1)
    for omega in (-2.0, -1.0, -1.5, 0.25):
        _check(predicted_rate, attention, omega)


@test_case(hidden=True)
def not_low_pass_and_complex_spectrum(predicted_rate):
    for seed in (29, 27):             # lambda_2 = -0.48 + 0.76i and -0.89: neither is the largest real eigenvalue
        attention = _attention(8, seed, temperature=0.3)
        for omega in (2.0, 0.0, -0.3):
            _check(predicted_rate, attention, omega)
