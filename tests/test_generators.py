"""Attention and value-output generators: the structure each one promises."""

from __future__ import annotations

import pytest
import torch

from oversmoothing import generators as gen

SEED = 0


def rng() -> torch.Generator:
    return torch.Generator().manual_seed(SEED)


@pytest.mark.parametrize(
    "make",
    [gen.softmax_attention, gen.symmetric_kernel_attention, gen.doubly_stochastic_attention, gen.causal_attention],
)
def test_attention_is_row_stochastic_and_batched(make):
    attention = make(7, batch=(3, 2), generator=rng())
    assert attention.shape == (3, 2, 7, 7) and attention.dtype == torch.float64
    torch.testing.assert_close(attention.sum(-1), torch.ones(3, 2, 7, dtype=torch.float64))
    assert bool((attention >= 0).all())


def test_softmax_attention_is_positive_with_complex_spectrum_in_general():
    attention = gen.softmax_attention(8, batch=(20,), generator=rng())
    assert bool((attention > 0).all())
    assert float(torch.linalg.eigvals(attention).imag.abs().max()) > 1e-3


def test_symmetric_kernel_attention_has_a_real_spectrum():
    attention = gen.symmetric_kernel_attention(8, batch=(20,), generator=rng())
    assert float(torch.linalg.eigvals(attention).imag.abs().max()) < 1e-10


def test_doubly_stochastic_attention_columns_sum_to_one():
    attention = gen.doubly_stochastic_attention(6, batch=(5,), generator=rng())
    torch.testing.assert_close(attention.sum(-2), torch.ones(5, 6, dtype=torch.float64), atol=1e-10, rtol=0)


def test_causal_attention_eigenvalues_are_its_diagonal_and_last_basis_vector_is_an_eigenvector():
    attention = gen.causal_attention(6, generator=rng())
    assert torch.count_nonzero(attention.triu(1)) == 0
    eigenvalues = torch.sort(torch.linalg.eigvals(attention).real).values
    torch.testing.assert_close(eigenvalues, torch.sort(attention.diagonal()).values)
    last = torch.zeros(6, dtype=torch.float64)
    last[-1] = 1
    torch.testing.assert_close(attention @ last, attention[-1, -1] * last)


def test_circulant_attention_spectrum_is_a_circle():
    attention = gen.circulant_attention(6, next_weight=0.8)
    moduli = torch.sort(torch.linalg.eigvals(attention).abs()).values
    torch.testing.assert_close(moduli, torch.tensor([0.8] * 5 + [1.0], dtype=torch.float64))
    torch.testing.assert_close(attention.sum(-2), torch.ones(6, dtype=torch.float64))


@pytest.mark.parametrize("symmetric", [False, True])
def test_value_output_has_the_prescribed_real_spectrum(symmetric):
    eigenvalues = torch.tensor([[-0.9, -0.5, 0.1, 0.7], [0.2, 0.3, 0.4, 0.5]], dtype=torch.float64)
    value_output = gen.value_output_from_spectrum(eigenvalues, symmetric=symmetric, generator=rng())
    assert value_output.shape == (2, 4, 4) and value_output.dtype == torch.float64
    measured = torch.sort(torch.linalg.eigvals(value_output).real, dim=-1).values
    torch.testing.assert_close(measured, eigenvalues, atol=1e-10, rtol=0)
    if symmetric:
        torch.testing.assert_close(value_output, value_output.transpose(-1, -2))


def test_value_output_with_complex_pairs_is_real_with_that_spectrum():
    pair = 0.9 * torch.exp(torch.tensor(2j, dtype=torch.complex128))
    eigenvalues = torch.stack([pair, pair.conj(), torch.tensor(0.3 + 0j, dtype=torch.complex128)])
    value_output = gen.value_output_from_spectrum(eigenvalues, generator=rng())
    assert not value_output.is_complex()
    measured = torch.linalg.eigvals(value_output)
    for expected in eigenvalues:
        assert float((measured - expected).abs().min()) < 1e-10


def test_value_output_rejects_unpaired_complex_and_symmetric_complex():
    with pytest.raises(ValueError, match="conjugation"):
        gen.value_output_from_spectrum(torch.tensor([0.2 + 0.1j, 0.3 + 0j]))
    with pytest.raises(ValueError, match="symmetric"):
        gen.value_output_from_spectrum(torch.tensor([0.2 + 0.1j, 0.2 - 0.1j]), symmetric=True)
    with pytest.raises(ValueError, match="NaN"):
        gen.value_output_from_spectrum(torch.tensor([float("nan"), 0.1]))


def test_value_output_from_weights_applies_the_gain_to_rows():
    value, output = torch.randn(5, 3, generator=rng()), torch.randn(3, 5, generator=rng())
    gain = torch.tensor([1.0, -1.0, 2.0, 0.5, -0.5])
    torch.testing.assert_close(gen.value_output_from_weights(value, output), value @ output)
    torch.testing.assert_close(gen.value_output_from_weights(value, output, gain), torch.diag(gain) @ value @ output)
    with pytest.raises(ValueError, match="do not fit"):
        gen.value_output_from_weights(value, output[:2])
    with pytest.raises(ValueError, match="gain"):
        gen.value_output_from_weights(value, output, gain[:3])


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: gen.softmax_attention(0), ValueError, "n must be"),
        (lambda: gen.softmax_attention(4, temperature=0.0), ValueError, "temperature"),
        (lambda: gen.causal_attention(4, key_dim=0), ValueError, "key_dim"),
        (lambda: gen.circulant_attention(4, next_weight=1.5), ValueError, "next_weight"),
        (lambda: gen.circulant_attention(1), ValueError, "n must be"),
    ],
)
def test_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()
