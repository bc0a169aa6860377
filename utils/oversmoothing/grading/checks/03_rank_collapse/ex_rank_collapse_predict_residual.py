"""Checks of exercise ex-rank-collapse-predict-residual: ``hc_dc_factor(lambda_2, h, residual)``, the factor
per layer of the HC/DC ratio for a symmetric 2 x 2 attention matrix with eigenvalues 1, lambda_2 and H = h I."""

import torch
from otter.test_files import test_case

import oversmoothing as ovs

OK_FORMAT = False
name = "ex_rank_collapse_predict_residual"
points = 2


def _measured(lambda_2, h, residual):
    """The factor measured on ovs.LinearAttentionStack: A = [[1 - q, q], [q, 1 - q]] has eigenvalues 1, 1 - 2q."""
    q = (1 - lambda_2) / 2
    attention = torch.tensor([[1 - q, q], [q, 1 - q]], dtype=torch.float64)
    x = torch.tensor([[1.0, -0.5], [0.3, 2.0]], dtype=torch.float64)
    stack = ovs.LinearAttentionStack(attention, h * torch.eye(2, dtype=torch.float64), 4, residual=residual)
    ratio = ovs.hc_dc_ratio(stack.forward_intermediates(x).hidden_states)
    return (ratio[1:] / ratio[:-1]).mean().item()


@test_case(hidden=False)
def the_four_networks_of_the_exercise(hc_dc_factor):
    for residual, h, expected in ((False, 0.5, 0.6), (False, -0.5, 0.6), (True, 0.5, 1.3 / 1.5), (True, -0.5, 0.7 / 0.5)):
        value = hc_dc_factor(0.6, h, residual)
        assert abs(value - expected) < 1e-12, (
            f"lambda_2 = 0.6, h = {h:+}, residual={residual}: expected the factor {expected:.4f}, got {value!r}")


@test_case(hidden=True)
def other_spectra_as_measured(hc_dc_factor):
    for lambda_2 in (0.2, -0.4):
        for h in (0.8, -0.3, -1.5):
            for residual in (False, True):
                expected = _measured(lambda_2, h, residual)
                value = hc_dc_factor(lambda_2, h, residual)
                assert abs(value - expected) < 1e-9, (
                    f"lambda_2 = {lambda_2}, h = {h:+}, residual={residual}: the stack measures {expected:.4f} per layer "
                    f"(a factor is a ratio of moduli), got {value!r}")
