r"""Random attention matrices ``A`` and value-output matrices ``H`` for the theory chapters.

Attention generators return row-stochastic matrices of shape ``(*batch, n, n)``:

- :func:`softmax_attention`: :math:`\mathrm{softmax}(Q K^\top / (\tau \sqrt{d_k}))` from Gaussian
  queries and keys, the generic case (complex eigenvalues in conjugate pairs);
- :func:`symmetric_kernel_attention`: :math:`D^{-1} S` with a symmetric positive kernel ``S``, so the
  spectrum is real (a reversible Markov chain);
- :func:`doubly_stochastic_attention`: rows and columns sum to one (Sinkhorn balancing);
- :func:`causal_attention`: softmax with a causal mask (lower triangular);
- :func:`circulant_attention`: every token attends to the next one, cyclically.

Value-output generators return real matrices of shape ``(*batch, d, d)`` with a prescribed spectrum:
:func:`value_output_from_spectrum`, or built from weights and layer-norm gains:
:func:`value_output_from_weights`.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ._validation import check_int, check_tokens

__all__ = [
    "causal_attention",
    "circulant_attention",
    "doubly_stochastic_attention",
    "softmax_attention",
    "symmetric_kernel_attention",
    "value_output_from_spectrum",
    "value_output_from_weights",
]

Batch = Sequence[int]


def _check_temperature(temperature: float) -> float:
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature!r}")
    return float(temperature)


def _scores(n: int, key_dim: int, batch: Batch, generator: torch.Generator | None, dtype: torch.dtype,
            symmetric: bool) -> torch.Tensor:
    queries = torch.randn(*batch, n, key_dim, generator=generator, dtype=dtype)
    keys = queries if symmetric else torch.randn(*batch, n, key_dim, generator=generator, dtype=dtype)
    return queries @ keys.transpose(-1, -2) / key_dim**0.5


def softmax_attention(n: int, key_dim: int = 8, temperature: float = 1.0, *, batch: Batch = (),
                      generator: torch.Generator | None = None, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    r"""Softmax attention :math:`\mathrm{softmax}(Q K^\top / (\tau\sqrt{d_k}))` of Gaussian queries and keys.

    Args:
        n: tokens.
        key_dim: query/key width :math:`d_k`.
        temperature: :math:`\tau > 0`; large values give nearly uniform rows, small values nearly one-hot rows.
        batch: leading batch shape.
        generator: random number generator.
        dtype: floating dtype.

    Returns:
        Shape ``(*batch, n, n)``, entrywise positive, rows summing to one.
    """
    check_int(n, "n", minimum=1), check_int(key_dim, "key_dim", minimum=1)
    scores = _scores(n, key_dim, batch, generator, dtype, symmetric=False)
    return torch.softmax(scores / _check_temperature(temperature), dim=-1)


def symmetric_kernel_attention(n: int, key_dim: int = 8, temperature: float = 1.0, *, batch: Batch = (),
                               generator: torch.Generator | None = None,
                               dtype: torch.dtype = torch.float64) -> torch.Tensor:
    r"""Attention :math:`D^{-1} S` with :math:`S = \exp(Z Z^\top / (\tau\sqrt{d_k}))` symmetric (tied queries and keys).

    ``A`` is similar to the symmetric :math:`D^{-1/2} S D^{-1/2}`, so its eigenvalues are real.

    Returns:
        Shape ``(*batch, n, n)``, entrywise positive, rows summing to one, real spectrum.
    """
    check_int(n, "n", minimum=1), check_int(key_dim, "key_dim", minimum=1)
    scores = _scores(n, key_dim, batch, generator, dtype, symmetric=True)
    return torch.softmax(scores / _check_temperature(temperature), dim=-1)


def doubly_stochastic_attention(n: int, key_dim: int = 8, temperature: float = 1.0, *, batch: Batch = (),
                                generator: torch.Generator | None = None, dtype: torch.dtype = torch.float64,
                                tolerance: float = 1e-12, max_iterations: int = 10_000) -> torch.Tensor:
    r"""Softmax scores balanced by Sinkhorn's algorithm so that rows and columns both sum to one.

    Then :math:`\mathbf 1^\top A = \mathbf 1^\top`, so :math:`P A = P` and the DC part of the
    residual update decouples from the HC part.

    Returns:
        Shape ``(*batch, n, n)``, entrywise positive, row and column sums equal to one within ``tolerance``.
    """
    check_int(n, "n", minimum=1), check_int(key_dim, "key_dim", minimum=1)
    kernel = torch.exp(_scores(n, key_dim, batch, generator, dtype, symmetric=False) / _check_temperature(temperature))
    for _ in range(max_iterations):
        kernel = kernel / kernel.sum(dim=-2, keepdim=True)
        kernel = kernel / kernel.sum(dim=-1, keepdim=True)
        if float((kernel.sum(dim=-2) - 1).abs().max()) < tolerance:
            return kernel
    raise RuntimeError(f"Sinkhorn balancing did not reach tolerance {tolerance} in {max_iterations} iterations")


def causal_attention(n: int, key_dim: int = 8, temperature: float = 1.0, *, batch: Batch = (),
                     generator: torch.Generator | None = None, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    r"""Softmax attention with a causal mask: token ``k`` attends to tokens ``0..k``.

    ``A`` is lower triangular, so its eigenvalues are its diagonal entries; the first row is
    :math:`e_0^\top` (eigenvalue 1) and :math:`e_{n-1}` is an eigenvector with eigenvalue :math:`A_{n-1,n-1}`.

    Returns:
        Shape ``(*batch, n, n)``, lower triangular, rows summing to one.
    """
    check_int(n, "n", minimum=1), check_int(key_dim, "key_dim", minimum=1)
    scores = _scores(n, key_dim, batch, generator, dtype, symmetric=False) / _check_temperature(temperature)
    future = torch.ones(n, n, dtype=torch.bool).triu(1)
    return torch.softmax(scores.masked_fill(future, float("-inf")), dim=-1)


def circulant_attention(n: int, next_weight: float = 0.9, *, batch: Batch = (),
                        dtype: torch.dtype = torch.float64) -> torch.Tensor:
    r"""Circulant attention: each token puts weight ``next_weight`` on the next token (cyclically)
    and spreads the rest evenly over all ``n`` tokens.

    :math:`A = w\,C + \tfrac{1-w}{n}\mathbf 1 \mathbf 1^\top` with ``C`` the cyclic shift. Its eigenvalues are
    1 (eigenvector :math:`\mathbf 1`) and :math:`w\,e^{2\pi i k/n}`, ``k = 1..n-1``: a circle of radius ``w``.

    Args:
        n: tokens (at least 2).
        next_weight: ``w`` in ``[0, 1]``; ``w = 1`` is the pure shift (not entrywise positive).
        batch: leading batch shape (copies of the same matrix).

    Returns:
        Shape ``(*batch, n, n)``, doubly stochastic.
    """
    check_int(n, "n", minimum=2)
    if not 0.0 <= next_weight <= 1.0:
        raise ValueError(f"next_weight must lie in [0, 1], got {next_weight!r}")
    shift = torch.roll(torch.eye(n, dtype=dtype), shifts=1, dims=1)
    matrix = next_weight * shift + (1 - next_weight) / n
    return matrix.expand(*batch, n, n).clone()


def value_output_from_spectrum(eigenvalues: torch.Tensor, *, symmetric: bool = False,
                               condition: float = 10.0, generator: torch.Generator | None = None,
                               dtype: torch.dtype = torch.float64) -> torch.Tensor:
    r"""A real matrix ``H`` with the given eigenvalues and random eigenvectors.

    Args:
        eigenvalues: shape ``(*batch, d)``, real or complex. Complex eigenvalues must come in conjugate
            pairs (each listed once with its conjugate anywhere in the same row).
        symmetric: build :math:`H = Q \Lambda Q^\top` with ``Q`` orthogonal (needs real eigenvalues);
            otherwise :math:`H = V \Lambda V^{-1}` with a random invertible ``V``.
        condition: bound on the condition number of ``V`` (its singular values are spread
            log-uniformly in ``[1, condition]``); ignored when ``symmetric``.
        generator: random number generator.
        dtype: real floating dtype of the result.

    Returns:
        Shape ``(*batch, d, d)``, real, with spectrum ``eigenvalues``.
    """
    if not isinstance(eigenvalues, torch.Tensor) or eigenvalues.ndim < 1 or eigenvalues.shape[-1] < 1:
        raise ValueError("eigenvalues must be a tensor of shape (*batch, d) with d >= 1")
    if not bool(torch.isfinite(torch.view_as_real(eigenvalues.to(torch.complex128))).all()):
        raise ValueError("eigenvalues contains NaN or infinite entries")
    if condition < 1:
        raise ValueError(f"condition must be >= 1, got {condition!r}")
    *batch, d = eigenvalues.shape
    real_block = _real_block_diagonal(eigenvalues, dtype)
    if symmetric:
        if eigenvalues.is_complex() and bool((eigenvalues.imag != 0).any()):
            raise ValueError("a symmetric H needs real eigenvalues")
        basis, _ = torch.linalg.qr(torch.randn(*batch, d, d, generator=generator, dtype=dtype))
        return basis @ real_block @ basis.transpose(-1, -2)
    left, _ = torch.linalg.qr(torch.randn(*batch, d, d, generator=generator, dtype=dtype))
    right, _ = torch.linalg.qr(torch.randn(*batch, d, d, generator=generator, dtype=dtype))
    spread = condition ** torch.linspace(0, 1, d, dtype=dtype)
    basis = left @ torch.diag_embed(spread) @ right
    return basis @ real_block @ torch.linalg.inv(basis)


def _real_block_diagonal(eigenvalues: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    r"""The real block-diagonal matrix with the given spectrum: the real eigenvalues first, then a block
    ``[[a, b], [-b, a]]`` for each conjugate pair ``a \pm ib``. Shape ``(*batch, d, d)``."""
    if not eigenvalues.is_complex() or not bool((eigenvalues.imag != 0).any()):
        return torch.diag_embed(eigenvalues.real if eigenvalues.is_complex() else eigenvalues).to(dtype)
    *batch, d = eigenvalues.shape
    flat = eigenvalues.to(torch.complex128).reshape(-1, d)
    blocks = torch.zeros(flat.shape[0], d, d, dtype=dtype)
    for row, spectrum in enumerate(flat):
        upper, lower = spectrum[spectrum.imag > 0], spectrum[spectrum.imag < 0]
        if upper.numel() != lower.numel() or not torch.allclose(_sorted_complex(upper.conj()), _sorted_complex(lower)):
            raise ValueError("eigenvalues must be closed under complex conjugation (pairs a + ib, a - ib)")
        reals = spectrum[spectrum.imag == 0].real
        count = reals.numel()
        blocks[row, :count, :count] = torch.diag(reals).to(dtype)
        start = count + 2 * torch.arange(upper.numel())
        blocks[row, start, start] = blocks[row, start + 1, start + 1] = upper.real.to(dtype)
        blocks[row, start, start + 1] = upper.imag.to(dtype)
        blocks[row, start + 1, start] = -upper.imag.to(dtype)
    return blocks.reshape(*batch, d, d)


def _sorted_complex(values: torch.Tensor) -> torch.Tensor:
    """Sort by real part, then imaginary part."""
    by_imag = values[torch.argsort(values.imag, stable=True)]
    return by_imag[torch.argsort(by_imag.real, stable=True)]


def value_output_from_weights(value: torch.Tensor, output: torch.Tensor,
                              gain: torch.Tensor | None = None) -> torch.Tensor:
    r""":math:`H = \mathrm{diag}(\gamma)\, W_V W_O`, the matrix that acts on a (pre-LN) attention branch.

    Args:
        value: :math:`W_V`, shape ``(*batch, d, d_v)`` in the row-vector convention (``value.weight.T``
            of an ``nn.Linear``).
        output: :math:`W_O`, shape ``(*batch, d_v, d)`` (``output.weight.T``).
        gain: layer-norm gain :math:`\gamma`, shape ``(*batch, d)``, or ``None`` for :math:`W_V W_O`.

    Returns:
        Shape ``(*batch, d, d)``.
    """
    value = check_tokens(value, "value")
    output = check_tokens(output, "output")
    if value.shape[-1] != output.shape[-2] or value.shape[-2] != output.shape[-1]:
        raise ValueError(f"value (d, d_v) and output (d_v, d) do not fit: {tuple(value.shape)} and {tuple(output.shape)}")
    product = value @ output
    if gain is None:
        return product
    if not isinstance(gain, torch.Tensor) or gain.shape[-1] != product.shape[-1]:
        raise ValueError(f"gain must be a tensor of shape (..., {product.shape[-1]})")
    return gain.unsqueeze(-1) * product
