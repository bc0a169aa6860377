"""Checks of exercise ex-linear-jordan: ``jordan_closed_form(attention, x, lam, depth)``, X_L of the residual
layer X + A X H with the Jordan block H = [[lam, 1], [0, lam]], by the closed form, shape (n, 2)."""

import torch
from otter.test_files import test_case

import oversmoothing as ovs
from oversmoothing import generators

OK_FORMAT = False
name = "ex_linear_jordan"
points = 3


def _case(n, lam, seed):
    generator = torch.Generator().manual_seed(seed)
    attention = generators.symmetric_kernel_attention(n, generator=generator)   # real spectrum
    x = torch.randn(n, 2, generator=generator, dtype=torch.float64)
    jordan = torch.tensor([[lam, 1.0], [0.0, lam]], dtype=torch.float64)
    return attention, x, jordan


@test_case(hidden=False)
def as_the_stack(jordan_closed_form):
    attention, x, jordan = _case(6, 0.5, seed=0)
    for depth in (1, 12):
        value = jordan_closed_form(attention, x, 0.5, depth)
        assert tuple(value.shape) == (6, 2), f"expected shape (6, 2), got {tuple(value.shape)}"
        torch.testing.assert_close(value.to(torch.float64), ovs.LinearAttentionStack(attention, jordan, depth)(x),
                                   msg=f"X_{depth} should equal ovs.LinearAttentionStack(A, H, {depth})(X_0)")


@test_case(hidden=True)
def no_layer_and_other_blocks(jordan_closed_form):
    attention, x, _ = _case(5, 0.3, seed=1)
    torch.testing.assert_close(jordan_closed_form(attention, x, 0.3, 0).to(torch.float64), x,
                               msg="depth 0: X_0 itself")
    for lam in (0.3, -0.4):
        attention, x, jordan = _case(7, lam, seed=2)
        torch.testing.assert_close(jordan_closed_form(attention, x, lam, 9).to(torch.float64),
                                   ovs.LinearAttentionStack(attention, jordan, 9)(x),
                                   msg=f"lam = {lam}: X_9 should equal ovs.LinearAttentionStack(A, H, 9)(X_0); "
                                       "the L term carries the factor lambda^A_i")
