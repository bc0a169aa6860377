"""Checks of exercise ex-convergence-no-residual: ``no_residual_moduli(attention, value_output)``, the moduli
(M_DC, M_HC) of the layer X -> A X H without the skip connection: the largest |lambda^A_i lambda^H_j| in the
Perron row and in the other rows."""

import math

import torch
from otter.test_files import test_case

from oversmoothing import generators, spectrum

OK_FORMAT = False
name = "ex_convergence_no_residual"
points = 3


def _moduli(no_residual_moduli, attention, value_output):
    got = no_residual_moduli(attention, value_output)
    assert len(got) == 2, f"expected a pair (M_DC, M_HC), got {got!r}"
    return float(got[0]), float(got[1])


def _compare(no_residual_moduli, attention, value_output):
    m_dc, m_hc = _moduli(no_residual_moduli, attention, value_output)
    reference = spectrum.dominant_mode(attention, value_output, residual=False)
    expected = float(reference.dc_modulus), float(reference.hc_modulus)
    assert math.isclose(m_dc, expected[0], rel_tol=1e-9) and math.isclose(m_hc, expected[1], rel_tol=1e-9), (
        f"expected (M_DC, M_HC) = ({expected[0]:.6f}, {expected[1]:.6f}), the largest |lambda^A_i lambda^H_j| "
        f"(no '1 +') in the Perron row and in the others, got ({m_dc:.6f}, {m_hc:.6f})")


@test_case(hidden=False)
def softmax_attention_and_a_sharpening_h(no_residual_moduli):
    generator = torch.Generator().manual_seed(0)
    attention = generators.softmax_attention(6, generator=generator)
    value_output = generators.value_output_from_spectrum(torch.tensor([-0.9, -0.5, -0.2], dtype=torch.complex128),
                                                         generator=generator)
    _compare(no_residual_moduli, attention, value_output)


@test_case(hidden=True)
def two_tokens_with_a_negative_second_eigenvalue(no_residual_moduli):
    attention = torch.tensor([[0.3, 0.7], [0.6, 0.4]], dtype=torch.float64)     # eigenvalues 1 and -0.3
    value_output = torch.diag(torch.tensor([-0.9, 0.2], dtype=torch.float64))
    m_dc, m_hc = _moduli(no_residual_moduli, attention, value_output)
    assert math.isclose(m_dc, 0.9) and math.isclose(m_hc, 0.27), (
        f"A with eigenvalues 1 and -0.3, H = diag(-0.9, 0.2): expected (M_DC, M_HC) = (0.9, 0.27), got ({m_dc}, {m_hc})")


@test_case(hidden=True)
def dc_wins_for_every_h(no_residual_moduli):
    generator = torch.Generator().manual_seed(1)
    for _ in range(5):
        attention = generators.softmax_attention(5, generator=generator)
        value_output = torch.randn(4, 4, generator=generator, dtype=torch.float64)
        _compare(no_residual_moduli, attention, value_output)
        m_dc, m_hc = _moduli(no_residual_moduli, attention, value_output)
        assert m_dc > m_hc, f"without the residual M_DC > M_HC for every H, got ({m_dc}, {m_hc})"
