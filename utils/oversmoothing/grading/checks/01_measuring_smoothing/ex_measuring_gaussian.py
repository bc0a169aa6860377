"""Checks of exercise ex-measuring-gaussian: ``gaussian_expectations(n, d)``, the predicted
E||DC[X]||_F^2, E||HC[X]||_F^2 and HC/DC ratio of n i.i.d. tokens x_i ~ N(0, I_d)."""

import torch
from otter.test_files import test_case

import oversmoothing as ovs

OK_FORMAT = False
name = "ex_measuring_gaussian"
points = 2


@test_case(hidden=False)
def against_sampled_clouds(gaussian_expectations):
    n, d = 8, 16
    x = torch.randn(4000, n, d, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    dc = ovs.dc_component(x).flatten(-2).norm(dim=-1).pow(2).mean().item()
    hc = ovs.hc_component(x).flatten(-2).norm(dim=-1).pow(2).mean().item()
    predicted = [float(value) for value in gaussian_expectations(n, d)]
    sampled = [dc, hc, (hc / dc) ** 0.5]
    for label, value, target in zip(("E||DC||_F^2", "E||HC||_F^2", "HC/DC ratio"), predicted, sampled):
        assert abs(value / target - 1) < 0.05, (
            f"n = {n}, d = {d}: 4000 sampled clouds give {label} = {target:.3f}, your prediction is {value:.3f}")


@test_case(hidden=True)
def exact_values(gaussian_expectations):
    for n, d in [(2, 1), (5, 3), (197, 768)]:
        expected = (d, (n - 1) * d, (n - 1) ** 0.5)
        predicted = tuple(float(value) for value in gaussian_expectations(n, d))
        assert all(abs(p - e) <= 1e-9 * e for p, e in zip(predicted, expected)), (
            f"n = {n}, d = {d}: expected {expected}, got {predicted}")
