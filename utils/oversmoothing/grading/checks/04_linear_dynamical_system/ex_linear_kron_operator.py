"""Checks of exercise ex-linear-kron-operator: ``update_operator(attention, value_output, residual=True)``, the
(..., n d, n d) matrix T with T @ X.reshape(-1) = (X + A X H).reshape(-1) (row-major vectorisation)."""

import torch
from otter.test_files import test_case

import oversmoothing as ovs
from oversmoothing import generators, spectrum

OK_FORMAT = False
name = "ex_linear_kron_operator"
points = 3


def _batch(batch, n, d, seed):
    generator = torch.Generator().manual_seed(seed)
    attention = generators.softmax_attention(n, batch=batch, generator=generator)
    value_output = torch.randn(*batch, d, d, generator=generator, dtype=torch.float64) / d**0.5   # not symmetric
    x = torch.randn(*batch, n, d, generator=generator, dtype=torch.float64)
    return attention, value_output, x


@test_case(hidden=False)
def one_layer_in_row_major_order(update_operator):
    attention, value_output, x = _batch((4,), 5, 3, seed=0)
    T = update_operator(attention, value_output)
    assert tuple(T.shape) == (4, 15, 15), f"a batch of 4 with n = 5, d = 3 gives shape (4, 15, 15), got {tuple(T.shape)}"
    expected = ovs.LinearAttentionStack(attention, value_output, 1)(x)
    torch.testing.assert_close((T @ x.reshape(4, 15, 1)).reshape(4, 5, 3), expected,
                               msg="T @ X.reshape(-1) should be (X + A X H).reshape(-1), one layer of ovs.LinearAttentionStack")


@test_case(hidden=False)
def without_the_residual(update_operator):
    attention, value_output, x = _batch((), 4, 2, seed=1)
    T = update_operator(attention, value_output, residual=False)
    torch.testing.assert_close(T @ x.reshape(-1), (attention @ x @ value_output).reshape(-1),
                               msg="with residual=False, T @ X.reshape(-1) should be (A X H).reshape(-1)")


@test_case(hidden=True)
def eigenvalues_and_batch_dimensions(update_operator):
    attention, value_output, x = _batch((2, 3), 3, 4, seed=2)
    T = update_operator(attention, value_output)
    assert tuple(T.shape) == (2, 3, 12, 12), f"batch shape (2, 3) is kept: expected (2, 3, 12, 12), got {tuple(T.shape)}"
    big = torch.linalg.eigvals(T)
    small = spectrum.update_eigenvalues(attention, value_output).flatten(-2)
    gaps = (big[..., :, None] - small[..., None, :]).abs()
    assert gaps.amin(-1).max() < 1e-9 and gaps.amin(-2).max() < 1e-9, (
        "the eigenvalues of T should be the 1 + lambda^A_i lambda^H_j of spectrum.update_eigenvalues")
    torch.testing.assert_close((torch.linalg.matrix_power(T, 6) @ x.reshape(2, 3, 12, 1)).reshape(2, 3, 3, 4),
                               ovs.LinearAttentionStack(attention, value_output, 6)(x), msg="T^6 is six layers")
