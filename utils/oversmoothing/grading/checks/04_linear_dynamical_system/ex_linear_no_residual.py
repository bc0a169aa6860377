"""Checks of exercise ex-linear-no-residual: ``no_residual_moduli(attention, value_output)``, (M_DC, M_HC) of the
layer X -> A X H without residual, each of shape (...) for batches of A (..., n, n) and H (..., d, d)."""

import torch
from otter.test_files import test_case

from oversmoothing import generators, spectrum

OK_FORMAT = False
name = "ex_linear_no_residual"
points = 3


@test_case(hidden=False)
def a_batch_as_the_package(no_residual_moduli):
    generator = torch.Generator().manual_seed(0)
    attention = generators.softmax_attention(7, batch=(32,), generator=generator)
    value_output = torch.randn(32, 5, 5, generator=generator, dtype=torch.float64)
    dc, hc = no_residual_moduli(attention, value_output)
    mode = spectrum.dominant_mode(attention, value_output, residual=False)
    assert tuple(dc.shape) == tuple(hc.shape) == (32,), f"a batch of 32 pairs gives shape (32,), got {tuple(dc.shape)}, {tuple(hc.shape)}"
    torch.testing.assert_close(dc, mode.dc_modulus, msg="M_DC should be spectrum.dominant_mode(A, H, residual=False).dc_modulus")
    torch.testing.assert_close(hc, mode.hc_modulus, msg="M_HC should be spectrum.dominant_mode(A, H, residual=False).hc_modulus")


@test_case(hidden=False)
def the_perron_row_wins(no_residual_moduli):
    generator = torch.Generator().manual_seed(1)
    attention = generators.softmax_attention(6, batch=(16,), generator=generator)
    value_output = torch.randn(16, 4, 4, generator=generator, dtype=torch.float64)
    dc, hc = no_residual_moduli(attention, value_output)
    assert (dc > hc).all(), "M_DC > M_HC for every positive row-stochastic A and every H with a nonzero eigenvalue"


@test_case(hidden=True)
def closed_form_cases(no_residual_moduli):
    attention = torch.tensor([[0.7, 0.3], [0.4, 0.6]], dtype=torch.float64)          # eigenvalues 1 and 0.3
    dc, hc = no_residual_moduli(attention, torch.diag(torch.tensor([-2.0, 0.5], dtype=torch.float64)))
    assert abs(float(dc) - 2.0) < 1e-12 and abs(float(hc) - 0.6) < 1e-12, (
        f"eigenvalues 1, 0.3 of A and -2, 0.5 of H: expected (|-2|, 0.3 |-2|) = (2, 0.6), got ({float(dc)}, {float(hc)})")
    rotation = 1.5 * torch.tensor([[0.6, -0.8], [0.8, 0.6]], dtype=torch.float64)    # eigenvalues 1.5 e^{+-i theta}
    dc, hc = no_residual_moduli(attention, rotation)
    assert abs(float(dc) - 1.5) < 1e-12 and abs(float(hc) - 0.45) < 1e-12, (
        f"H = 1.5 x rotation has complex eigenvalues of modulus 1.5: expected (1.5, 0.45), got ({float(dc)}, {float(hc)})")
