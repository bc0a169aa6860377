"""Tests for :mod:`oversmoothing.filters`: closed forms of AttnScale and FeatScale, SymPy, bad input."""

from __future__ import annotations

import pytest
import sympy as sp
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from oversmoothing.filters import attnscale, attnscale_attended, featscale
from oversmoothing.generators import doubly_stochastic_attention, softmax_attention
from oversmoothing.metrics import dc_component, hc_component, hc_dc_ratio

F64 = torch.float64


def generator(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def gaussian(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=generator(seed), dtype=F64)


def frobenius(x: torch.Tensor) -> torch.Tensor:
    return torch.linalg.vector_norm(x, dim=(-2, -1))


# --------------------------------------------------------------------------------------------
# AttnScale
# --------------------------------------------------------------------------------------------


def test_attnscale_matches_the_reference_formula():
    attention = softmax_attention(6, batch=(2, 3), generator=generator())
    omega = torch.tensor([-0.5, 0.0, 2.0], dtype=F64)                  # one per head
    uniform = torch.full((6, 6), 1 / 6, dtype=F64)
    expected = uniform + (1 + omega[:, None, None]) * (attention - uniform)
    torch.testing.assert_close(attnscale(attention, omega), expected, rtol=0, atol=1e-15)


def test_attnscale_zero_is_the_identity_and_minus_one_is_uniform():
    attention = softmax_attention(7, batch=(4,), generator=generator())
    torch.testing.assert_close(attnscale(attention, 0.0), attention, rtol=0, atol=1e-15)
    torch.testing.assert_close(attnscale(attention, -1.0), torch.full_like(attention, 1 / 7), rtol=0, atol=1e-15)


@pytest.mark.parametrize("omega", [-0.9, -0.3, 0.5, 3.0])
def test_attnscale_preserves_row_sums(omega):
    attention = softmax_attention(9, batch=(5,), generator=generator(1))
    torch.testing.assert_close(attnscale(attention, omega).sum(-1), torch.ones(5, 9, dtype=F64), rtol=0, atol=1e-13)


@pytest.mark.parametrize("omega", [-0.7, 0.25, 2.0])
def test_attnscale_scales_the_hc_part_of_the_output_exactly(omega):
    attention = softmax_attention(8, batch=(6,), generator=generator(2))
    x = gaussian(6, 8, 5, seed=3) + 1.0
    torch.testing.assert_close(hc_component(attnscale(attention, omega) @ x),
                               (1 + omega) * hc_component(attention @ x), rtol=1e-12, atol=1e-13)


def test_attnscale_dc_part_obeys_the_closed_form():
    # DC[A_hat X] = DC[A X] + omega * DC[(A - P) X]: unchanged exactly when the columns of A sum to one.
    attention = softmax_attention(8, batch=(6,), generator=generator(4))
    x = gaussian(6, 8, 5, seed=5)
    omega = 0.8
    uniform_part = attention - 1 / 8
    torch.testing.assert_close(dc_component(attnscale(attention, omega) @ x),
                               dc_component(attention @ x) + omega * dc_component(uniform_part @ x), rtol=1e-12, atol=1e-13)
    # a generic softmax A has column sums != 1, so the DC part does change
    assert float((dc_component(attnscale(attention, omega) @ x) - dc_component(attention @ x)).abs().max()) > 1e-3


@pytest.mark.parametrize("omega", [-0.5, 0.5, 1.5])
def test_attnscale_on_doubly_stochastic_attention_scales_hc_dc_by_one_plus_omega(omega):
    attention = doubly_stochastic_attention(10, batch=(4,), generator=generator(6))
    x = gaussian(4, 10, 3, seed=7) + 0.5
    torch.testing.assert_close(dc_component(attnscale(attention, omega) @ x), dc_component(attention @ x), rtol=1e-9, atol=1e-10)
    torch.testing.assert_close(hc_dc_ratio(attnscale(attention, omega) @ x), abs(1 + omega) * hc_dc_ratio(attention @ x),
                               rtol=1e-9, atol=0)


@pytest.mark.parametrize("omega", [-0.6, 0.4, 2.5])
def test_attnscale_eigenvalues_are_one_and_scaled_non_perron_eigenvalues(omega):
    attention = softmax_attention(7, generator=generator(8))
    eigenvalues = torch.linalg.eigvals(attention)
    perron = int((eigenvalues - 1).abs().argmin())
    predicted = (1 + omega) * eigenvalues
    predicted[perron] = 1
    scaled = torch.linalg.eigvals(attnscale(attention, omega))
    distance = (scaled[:, None] - predicted[None, :]).abs()
    assert float(distance.min(dim=1).values.max()) < 1e-10
    assert float(distance.min(dim=0).values.max()) < 1e-10


def test_attnscale_symbolic_2x2():
    a, b, w = sp.symbols("a b omega")
    A = sp.Matrix([[1 - a, a], [b, 1 - b]])
    P = sp.ones(2, 2) / 2
    A_hat = P + (1 + w) * (A - P)
    x = sp.Symbol("x")
    assert sp.factor(A_hat.charpoly(x).as_expr() - sp.expand((x - 1) * (x - (1 + w) * (1 - a - b)))) == 0
    assert sp.simplify(A_hat * sp.ones(2, 1) - sp.ones(2, 1)) == sp.zeros(2, 1)


def test_attnscale_sweeps_by_broadcasting():
    attention = softmax_attention(5, generator=generator(9))
    omegas = torch.tensor([0.0, 1.0, 2.0], dtype=F64)
    swept = attnscale(attention, omegas)
    assert swept.shape == (3, 5, 5)
    torch.testing.assert_close(swept[1], attnscale(attention, 1.0))


def test_attnscale_keeps_dtype_and_accepts_float32():
    attention = softmax_attention(5, generator=generator(10), dtype=torch.float32)
    assert attnscale(attention, torch.tensor(0.5, dtype=F64)).dtype == torch.float32


@pytest.mark.parametrize(
    ("attention", "omega", "error"),
    [
        ("not a tensor", 0.0, TypeError),
        (torch.ones(4, 4, dtype=torch.int64), 0.0, TypeError),
        (torch.full((3, 4), 0.25, dtype=F64), 0.0, ValueError),                  # not square
        (torch.full((4, 4), float("nan"), dtype=F64), 0.0, ValueError),
        (torch.full((2, 4, 4), 0.25, dtype=F64), torch.zeros(3, dtype=F64), ValueError),  # omega does not broadcast
        (torch.full((4, 4), 0.25, dtype=F64), float("inf"), ValueError),
        (torch.full((4, 4), 0.25, dtype=F64), torch.tensor(1j), TypeError),
        (torch.full((4, 4), 0.25, dtype=F64), "0.5", TypeError),
        (torch.full((4, 4), 0.25, dtype=F64), True, TypeError),
    ],
)
def test_attnscale_rejects_bad_input(attention, omega, error):
    with pytest.raises(error):
        attnscale(attention, omega)


# --------------------------------------------------------------------------------------------
# FeatScale
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("omega", [-1.0, -0.3, 0.0, 0.8, 2.5])
def test_attnscale_after_attention_equals_attnscale_of_the_matrix(omega):
    """The two forms of AttnScale: the model's fused path uses the second."""
    attention = softmax_attention(6, key_dim=5, batch=(4,), generator=generator(3))    # (4, 6, 6)
    values = gaussian(4, 6, 3, seed=4)
    expected = attnscale(attention, omega) @ values
    torch.testing.assert_close(attnscale_attended(attention @ values, values, omega), expected)
    per_head = torch.tensor([omega, -0.5, 0.0, 1.5], dtype=F64)                        # one per matrix
    torch.testing.assert_close(attnscale_attended(attention @ values, values, per_head),
                               attnscale(attention, per_head) @ values)
    unchecked = attnscale_attended(attention @ values, values, per_head, validate=False)
    torch.testing.assert_close(unchecked, attnscale(attention, per_head) @ values)


def test_attnscale_after_attention_rejects_bad_input():
    values = gaussian(2, 5, 3)
    with pytest.raises(ValueError, match="same shape"):
        attnscale_attended(values, values[:, :4], 0.5)
    with pytest.raises(ValueError, match="broadcast"):
        attnscale_attended(values, values, torch.zeros(3, dtype=F64))
    with pytest.raises(ValueError, match="NaN"):
        attnscale_attended(values * float("nan"), values, 0.5)
    with pytest.raises(TypeError, match="omega"):
        attnscale_attended(values, values, "0.5")


def test_featscale_without_validation_is_the_same_formula():
    y, s_dc, s_hc = gaussian(2, 5, 4), gaussian(4, seed=1), gaussian(4, seed=2)
    torch.testing.assert_close(featscale(y, s_dc, s_hc, validate=False), featscale(y, s_dc, s_hc))


def test_featscale_matches_the_reference_formula():
    y = gaussian(2, 6, 4, seed=11)
    s_dc, s_hc = torch.tensor([0.1, -0.2, 0.3, 0.0], dtype=F64), torch.tensor([1.0, 0.5, -0.5, 2.0], dtype=F64)
    mean = y.mean(dim=-2, keepdim=True)
    torch.testing.assert_close(featscale(y, s_dc, s_hc), y + s_dc * mean + s_hc * (y - mean), rtol=0, atol=1e-15)


def test_featscale_zero_weights_are_the_identity():
    y = gaussian(3, 5, 4, seed=12)
    torch.testing.assert_close(featscale(y, 0.0, torch.zeros(4, dtype=F64)), y, rtol=0, atol=0)


def test_featscale_scales_each_band_per_channel():
    y = gaussian(3, 7, 4, seed=13) + 2.0
    s_dc, s_hc = torch.tensor([-0.5, 0.0, 1.0, 3.0], dtype=F64), torch.tensor([2.0, -0.9, 0.0, 0.5], dtype=F64)
    out = featscale(y, s_dc, s_hc)
    torch.testing.assert_close(dc_component(out), dc_component(y) * (1 + s_dc), rtol=1e-12, atol=1e-13)
    torch.testing.assert_close(hc_component(out), hc_component(y) * (1 + s_hc), rtol=1e-12, atol=1e-13)


@settings(max_examples=40, deadline=None)
@given(s_dc=st.floats(-0.95, 5.0), s_hc=st.floats(-5.0, 5.0), seed=st.integers(0, 2**16))
def test_featscale_uniform_weights_scale_the_ratio(s_dc, s_hc, seed):
    y = gaussian(2, 6, 3, seed=seed) + 1.0
    torch.testing.assert_close(hc_dc_ratio(featscale(y, s_dc, s_hc)), abs(1 + s_hc) / abs(1 + s_dc) * hc_dc_ratio(y),
                               rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    ("y", "s_dc", "s_hc", "error"),
    [
        ([[1.0, 2.0]], 0.0, 0.0, TypeError),
        (torch.ones(3, 4, dtype=torch.int64), 0.0, 0.0, TypeError),
        (torch.ones(3, 4, dtype=F64), torch.zeros(3, dtype=F64), 0.0, ValueError),      # wrong channel count
        (torch.ones(3, 4, dtype=F64), 0.0, torch.zeros(3, 4, dtype=F64), ValueError),   # not per channel
        (torch.ones(3, 4, dtype=F64), float("nan"), 0.0, ValueError),
        (torch.ones(3, 4, dtype=F64), 0.0, torch.zeros(4, dtype=torch.complex128), TypeError),
        (torch.full((3, 4), float("inf"), dtype=F64), 0.0, 0.0, ValueError),
        (torch.ones(4, dtype=F64), 0.0, 0.0, ValueError),                               # one dimension
    ],
)
def test_featscale_rejects_bad_input(y, s_dc, s_hc, error):
    with pytest.raises(error):
        featscale(y, s_dc, s_hc)
