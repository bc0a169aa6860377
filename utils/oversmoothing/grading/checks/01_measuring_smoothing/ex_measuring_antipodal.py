"""Checks of exercise ex-measuring-antipodal: ``split_mean_cosine(n, k)``, the mean pairwise cosine of k
copies of a unit vector u and n - k copies of -u."""

import torch
from otter.test_files import test_case

import oversmoothing as ovs

OK_FORMAT = False
name = "ex_measuring_antipodal"
points = 2


def _measured(n, k):
    u = torch.nn.functional.normalize(torch.arange(1.0, 4.0, dtype=torch.float64), dim=0)
    signs = torch.cat([torch.ones(k), -torch.ones(n - k)]).double()
    return ovs.mean_cosine_similarity(signs[:, None] * u).item()


@test_case(hidden=False)
def ten_tokens(split_mean_cosine):
    for k in range(1, 10):
        value, expected = float(split_mean_cosine(10, k)), _measured(10, k)
        assert abs(value - expected) < 1e-12, f"n = 10, k = {k}: expected mean cosine {expected:.6f}, got {value:.6f}"


@test_case(hidden=True)
def every_split_up_to_twelve(split_mean_cosine):
    for n in range(2, 13):
        for k in range(n + 1):
            value, expected = float(split_mean_cosine(n, k)), _measured(n, k)
            assert abs(value - expected) < 1e-12, (
                f"n = {n}, k = {k}: expected mean cosine {expected:.6f} (the n self-cosines are not pairs), "
                f"got {value:.6f}")
