"""Checks of exercise ex-measuring-naive-cosine: ``naive_mean_cosine(x)``, the mean pairwise cosine of the
tokens of x, shape (..., n, d), from the n x n cosine matrix."""

import torch
from otter.test_files import test_case

import oversmoothing as ovs

OK_FORMAT = False
name = "ex_measuring_naive_cosine"
points = 3


def _clouds(*shape, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=generator, dtype=torch.float64) + 0.5


@test_case(hidden=False)
def one_cloud(naive_mean_cosine):
    x = _clouds(40, 8)
    value = naive_mean_cosine(x)
    assert value.shape == (), f"one cloud of shape (40, 8) gives one number, got shape {tuple(value.shape)}"
    torch.testing.assert_close(value, ovs.mean_cosine_similarity(x))


@test_case(hidden=False)
def batch_dimensions(naive_mean_cosine):
    x = _clouds(3, 5, 40, 8, seed=1)
    value = naive_mean_cosine(x)
    assert value.shape == (3, 5), f"a batch of shape (3, 5, 40, 8) gives shape (3, 5), got {tuple(value.shape)}"
    torch.testing.assert_close(value, ovs.mean_cosine_similarity(x))


@test_case(hidden=True)
def diagonal_left_out_and_scale_free(naive_mean_cosine):
    pair = torch.tensor([[1.0, 0.0], [0.0, 3.0]], dtype=torch.float64)   # orthogonal: mean cosine 0
    torch.testing.assert_close(naive_mean_cosine(pair), torch.tensor(0.0, dtype=torch.float64),
                               msg="two orthogonal tokens have mean cosine 0 (the self-cosines are not pairs)")
    simplex = ovs.hc_component(torch.eye(5, dtype=torch.float64))      # mean cosine -1/(n-1)
    torch.testing.assert_close(naive_mean_cosine(simplex), torch.tensor(-0.25, dtype=torch.float64))
