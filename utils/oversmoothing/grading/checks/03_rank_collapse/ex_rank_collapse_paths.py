"""Checks of exercise ex-rank-collapse-paths: ``path_terms(attention, value_output, x, depth)``, the terms
binom(L, k) A^k X_0 H^k, k = 0..L, of the residual linear network, stacked to shape (L + 1, n, d)."""

import torch
from otter.test_files import test_case

import oversmoothing as ovs

OK_FORMAT = False
name = "ex_rank_collapse_paths"
points = 3


def _layer(n, d, seed):
    generator = torch.Generator().manual_seed(seed)
    attention = ovs.generators.softmax_attention(n, generator=generator)
    value_output = torch.randn(d, d, generator=generator, dtype=torch.float64) / d**0.5   # not symmetric
    x = torch.randn(n, d, generator=generator, dtype=torch.float64)
    return attention, value_output, x


@test_case(hidden=False)
def terms_sum_to_the_residual_stack(path_terms):
    attention, value_output, x = _layer(6, 3, seed=0)
    terms = path_terms(attention, value_output, x, 5)
    assert tuple(terms.shape) == (6, 6, 3), f"L = 5 layers, n = 6, d = 3: expected shape (6, 6, 3), got {tuple(terms.shape)}"
    torch.testing.assert_close(terms.sum(dim=0), ovs.LinearAttentionStack(attention, value_output, 5)(x),
                               msg="the terms should sum to X_5 of ovs.LinearAttentionStack(A, H, 5, residual=True)")


@test_case(hidden=False)
def the_longest_path_is_the_network_without_residual(path_terms):
    attention, value_output, x = _layer(5, 4, seed=1)
    terms = path_terms(attention, value_output, x, 4)
    torch.testing.assert_close(terms[0], x, msg="the path of length 0 is X_0 itself")
    torch.testing.assert_close(terms[-1], ovs.LinearAttentionStack(attention, value_output, 4, residual=False)(x),
                               msg="the path of length L is A^L X_0 H^L, the network without residual")


@test_case(hidden=True)
def binomial_counts_of_paths(path_terms):
    attention, value_output, x = _layer(4, 2, seed=2)
    scale = 0.5
    terms = path_terms(attention, scale * torch.eye(2, dtype=torch.float64), x, 6)   # H = I/2: term k = C(6, k) A^k X / 2^k
    for k, count in enumerate((1, 6, 15, 20, 15, 6, 1)):
        expected = count * scale**k * torch.linalg.matrix_power(attention, k) @ x
        torch.testing.assert_close(terms[k], expected, msg=f"term {k} of L = 6 counts binom(6, {k}) = {count} paths")
    torch.testing.assert_close(path_terms(attention, value_output, x, 0), x[None], msg="L = 0: one term, X_0")
