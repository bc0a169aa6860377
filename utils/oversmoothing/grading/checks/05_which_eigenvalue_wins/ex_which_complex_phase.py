"""Checks of exercise ex-which-complex-phase: ``predicted_regimes(attention, points)``, the regime and the rate
M_HC/M_DC predicted for H with spectrum {z, conj z} at every z of ``points``, compared with
``spectrum.dominant_mode`` of such an H and a softmax attention matrix with a complex spectrum."""

import numpy as np
import torch
from otter.test_files import test_case

from oversmoothing import generators, spectrum

OK_FORMAT = False
name = "ex_which_complex_phase"
points = 2


def _compare(predicted_regimes, seed, values):
    generator = torch.Generator().manual_seed(seed)
    attention = generators.softmax_attention(8, temperature=0.5, generator=generator)
    assert torch.linalg.eigvals(attention).imag.abs().max() > 0.05   # a complex attention spectrum
    x, y = values.real, values.imag                                  # [[x, y], [-y, x]] has eigenvalues x +- iy
    value_output = torch.stack([torch.stack([x, y], dim=-1), torch.stack([-y, x], dim=-1)], dim=-2)
    reference = spectrum.dominant_mode(attention, value_output)
    got = predicted_regimes(attention, values)
    assert len(got) == 2, f"expected a pair (regimes, rates), got {got!r}"
    regimes, rates = np.asarray(got[0]), torch.as_tensor(got[1], dtype=torch.float64)
    assert regimes.shape == rates.shape == values.shape, (
        f"expected {len(values)} regimes and rates, got shapes {regimes.shape} and {tuple(rates.shape)}")
    torch.testing.assert_close(rates, reference.hc_dc_rate, msg=lambda m: f"expected the rates M_HC/M_DC of "
                               f"every non-Perron eigenvalue of A, complex ones included: {m}")
    clear = (reference.hc_dc_rate - 1).abs().numpy() > 1e-6
    wrong = (regimes != reference.regime) & clear
    assert not wrong.any(), (f"expected {reference.regime[wrong][:3].tolist()} at z = "
                             f"{values.numpy()[wrong][:3].tolist()}, got {regimes[wrong][:3].tolist()}")


@test_case(hidden=False)
def a_few_points(predicted_regimes):
    values = torch.tensor([-0.5 + 0.2j, 0.5 + 0.5j, -2.0 + 1.0j, -1.0 + 1.5j], dtype=torch.complex128)
    _compare(predicted_regimes, 0, values)


@test_case(hidden=True)
def a_grid_near_the_discs(predicted_regimes):
    values = (torch.linspace(-3, 1, 21, dtype=torch.float64)[None, :]
              + 1j * torch.linspace(0.05, 1.9, 10, dtype=torch.float64)[:, None]).reshape(-1)
    _compare(predicted_regimes, 1, values)
