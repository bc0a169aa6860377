"""Checks of exercise ex-which-implement-dominant-mode: ``my_dominant_mode(attention, value_output)``, the tuple
(mu*, rate theta, M_DC, M_HC, regime) of the layer X -> X + A X H, compared with ``spectrum.dominant_mode``."""

import torch
from otter.test_files import test_case

from oversmoothing import generators, spectrum

OK_FORMAT = False
name = "ex_which_implement_dominant_mode"
points = 3


def _pair(value_spectrum, seed):
    generator = torch.Generator().manual_seed(seed)
    attention = generators.softmax_attention(6, generator=generator)
    value_output = generators.value_output_from_spectrum(torch.tensor(value_spectrum, dtype=torch.complex128),
                                                         generator=generator)
    return attention, value_output


def _compare(my_dominant_mode, attention, value_output):
    got = my_dominant_mode(attention, value_output)
    assert len(got) == 5, f"expected a tuple (mu*, theta, M_DC, M_HC, regime), got {got!r}"
    mu, theta, m_dc, m_hc, regime = complex(got[0]), float(got[1]), float(got[2]), float(got[3]), str(got[4])
    reference = spectrum.dominant_mode(attention, value_output)
    expected_mu = complex(reference.eigenvalue)
    assert min(abs(mu - expected_mu), abs(mu - expected_mu.conjugate())) < 1e-8, (
        f"expected mu* = {expected_mu:.6f} (or its conjugate), the eigenvalue of largest modulus in every row, got {mu:.6f}")
    assert abs(m_dc - float(reference.dc_modulus)) < 1e-8 and abs(m_hc - float(reference.hc_modulus)) < 1e-8, (
        f"expected M_DC = {float(reference.dc_modulus):.6f} (Perron row), M_HC = {float(reference.hc_modulus):.6f} "
        f"(other rows), got {m_dc:.6f}, {m_hc:.6f}")
    assert abs(theta - float(reference.rate)) < 1e-8, (
        f"expected theta = {float(reference.rate):.6f} (mu* and its conjugate partner left out), got {theta:.6f}")
    assert regime == reference.regime, f"expected the regime {reference.regime!r}, got {regime!r}"


@test_case(hidden=False)
def positive_spectrum(my_dominant_mode):
    _compare(my_dominant_mode, *_pair([0.2, 0.5, 0.9], seed=1))


@test_case(hidden=True)
def spectrum_in_minus_one_zero_where_an_hc_mode_wins(my_dominant_mode):
    _compare(my_dominant_mode, *_pair([-0.2, -0.5, -0.9], seed=2))


@test_case(hidden=True)
def complex_dominant_pair(my_dominant_mode):
    _compare(my_dominant_mode, *_pair([1.2j, -1.2j, 0.3], seed=3))
