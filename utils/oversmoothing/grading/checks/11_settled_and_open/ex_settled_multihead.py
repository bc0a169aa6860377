"""Checks of exercise ex-settled-multihead: ``multihead_operator(attentions, value_outputs)``, the (n d, n d)
matrix of X -> X + sum_h A_h X H_h acting on vec(X) with the columns stacked."""

import torch
from otter.test_files import test_case

import oversmoothing as ovs

OK_FORMAT = False
name = "ex_settled_multihead"
points = 2


def _heads(heads, n, d, seed):
    generator = torch.Generator().manual_seed(seed)
    attentions = ovs.generators.softmax_attention(n, batch=(heads,), generator=generator)
    value_outputs = torch.randn(heads, d, d, generator=generator, dtype=torch.float64) / 2   # not symmetric
    return attentions.double(), value_outputs


@test_case(hidden=False)
def matches_the_layer_on_a_random_input(multihead_operator):
    attentions, value_outputs = _heads(3, 4, 3, seed=0)
    X = torch.randn(4, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    operator = multihead_operator(attentions, value_outputs)
    assert tuple(operator.shape) == (12, 12), f"n d = 12: expected shape (12, 12), got {tuple(operator.shape)}"
    layer = X + (attentions @ X @ value_outputs).sum(0)
    torch.testing.assert_close(operator @ X.mT.reshape(-1), layer.mT.reshape(-1),
                               msg=lambda m: f"operator @ vec(X) should be vec(X + sum_h A_h X H_h), columns stacked: {m}")


@test_case(hidden=True)
def equals_the_sum_of_kronecker_products(multihead_operator):
    attentions, value_outputs = _heads(2, 5, 2, seed=2)
    expected = torch.eye(10, dtype=torch.float64) + sum(torch.kron(H.T.contiguous(), A)
                                                        for A, H in zip(attentions, value_outputs))
    torch.testing.assert_close(multihead_operator(attentions, value_outputs), expected,
                               msg=lambda m: f"expected I + sum_h H_h^T (x) A_h: {m}")
