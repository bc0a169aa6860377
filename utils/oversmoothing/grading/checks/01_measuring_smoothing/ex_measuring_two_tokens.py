"""Checks of exercise ex-measuring-two-tokens: ``token_metrics(x)``, the mean cosine, HC/DC ratio and
consensus distance of a cloud x, shape (n, d), from their definitions (a tuple of three floats)."""

import torch
from otter.test_files import test_case

import oversmoothing as ovs

OK_FORMAT = False
name = "ex_measuring_two_tokens"
points = 3

NAMES = ("mean cosine", "HC/DC ratio", "consensus distance")


def _compare(values, x, expected):
    assert len(values) == 3, f"token_metrics returns three numbers (c, rho, delta), got {len(values)}"
    for label, value, target in zip(NAMES, values, expected):
        assert abs(float(value) - float(target)) <= 1e-9 * max(1.0, abs(float(target))), (
            f"{label} of the cloud of shape {tuple(x.shape)}: expected {float(target):.6f}, got {float(value):.6f}")


def _package(x):
    return [f(x) for f in (ovs.mean_cosine_similarity, ovs.hc_dc_ratio, ovs.consensus_distance)]


@test_case(hidden=False)
def random_cloud(token_metrics):
    x = torch.randn(6, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64) + 0.3
    _compare(token_metrics(x), x, _package(x))


@test_case(hidden=True)
def the_two_tokens(token_metrics):
    x = torch.tensor([[1.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
    _compare(token_metrics(x), x, (2**-0.5, 5**-0.5, 6**-0.5))


@test_case(hidden=True)
def many_tokens_any_scale(token_metrics):
    x = 7.0 * (torch.randn(9, 5, generator=torch.Generator().manual_seed(1), dtype=torch.float64) + 1.0)
    _compare(token_metrics(x), x, _package(x))
