"""Checks of exercise ex-pretrained-by-hand: ``dominant_pair(attention, value_output)``, the eigenvalues
lambda^A_i of the head-averaged attention and lambda^H_j of H that maximise |1 + lambda^A_i lambda^H_j|, and that mu."""

import torch
from otter.test_files import test_case

import oversmoothing as ovs

OK_FORMAT = False
name = "ex_pretrained_by_hand"
points = 3


def _check(dominant_pair, attention, value_output):
    lam_a, lam_h, mu = (torch.as_tensor(value).to(torch.complex128) for value in dominant_pair(attention, value_output))
    averaged = attention.mean(dim=0)
    spectrum_a, spectrum_h = torch.linalg.eigvals(averaged), torch.linalg.eigvals(value_output)
    assert (spectrum_a - lam_a).abs().min() < 1e-9, f"lambda_A = {complex(lam_a):.4f} is not an eigenvalue of the head-averaged attention"
    assert (spectrum_h - lam_h).abs().min() < 1e-9, f"lambda_H = {complex(lam_h):.4f} is not an eigenvalue of value_output"
    assert abs(mu - (1 + lam_a * lam_h)) < 1e-9, f"mu must be 1 + lambda_A lambda_H = {complex(1 + lam_a * lam_h):.4f}, got {complex(mu):.4f}"
    mode = ovs.spectrum.dominant_mode(averaged, value_output)
    largest = float(torch.maximum(mode.dc_modulus, mode.hc_modulus))
    assert abs(float(mu.abs()) - largest) < 1e-9, f"|mu| must be the largest modulus {largest:.6f}, got {float(mu.abs()):.6f}"
    return lam_a, mode


@test_case(hidden=False)
def a_smoothing_block(dominant_pair):
    generator = torch.Generator().manual_seed(0)
    attention = torch.randn(3, 5, 5, generator=generator, dtype=torch.float64).softmax(dim=-1)     # 3 heads, n = 5
    value_output = ovs.generators.value_output_from_spectrum(
        torch.tensor([0.9, 0.2, -0.3, 0.1, -0.2, 0.05], dtype=torch.float64), generator=generator)  # d = 6
    lam_a, _ = _check(dominant_pair, attention, value_output)
    assert abs(lam_a - 1) < 1e-9, f"with this H the Perron eigenvalue 1 of the averaged attention wins, got {complex(lam_a):.4f}"


@test_case(hidden=True)
def a_sharpening_block(dominant_pair):
    generator = torch.Generator().manual_seed(1)
    swap = torch.tensor([[0.05, 0.95], [0.95, 0.05]], dtype=torch.float64)       # eigenvalues 1 and -0.9
    attention = torch.stack([torch.block_diag(swap, swap, torch.ones(1, 1, dtype=torch.float64))] * 2)   # 2 heads, n = 5
    attention = 0.9 * attention + 0.1 * torch.rand(2, 5, 5, generator=generator, dtype=torch.float64).softmax(dim=-1)
    value_output = ovs.generators.value_output_from_spectrum(
        torch.tensor([-1.8, 0.1, 0.3], dtype=torch.float64), generator=generator)                   # d = 3
    lam_a, mode = _check(dominant_pair, attention, value_output)
    assert not bool(mode.is_dc) and abs(lam_a - 1) > 0.1, f"here an HC mode wins, not lambda_A = 1; got {complex(lam_a):.4f}"
