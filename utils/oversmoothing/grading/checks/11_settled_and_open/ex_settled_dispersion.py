"""Checks of exercise ex-settled-dispersion: ``frequency_gains(first_row, value_output, token_map)``, row q
the eigenvalues of (I + lambda_q H) C with lambda_q = sum_m c_m omega^(q m), omega = exp(2 pi i / n)."""

import math

import torch
from otter.test_files import test_case

OK_FORMAT = False
name = "ex_settled_dispersion"
points = 2


def _same_eigenvalues(first, second, tol=1e-8):
    """Two lists of eigenvalues agree as multisets (up to order), within tol."""
    distances = (first[:, None] - second[None, :]).abs()
    return len(first) == len(second) and bool(distances.amin(0).max() < tol) and bool(distances.amin(1).max() < tol)


def _problem(n, d, seed):
    generator = torch.Generator().manual_seed(seed)
    first_row = torch.rand(n, generator=generator, dtype=torch.float64)
    first_row = first_row / first_row.sum()                              # not symmetric: lambda_q != lambda_{n-q}
    H = torch.randn(d, d, generator=generator, dtype=torch.float64) / 2
    C = torch.eye(d, dtype=torch.float64) + 0.3 * torch.randn(d, d, generator=generator, dtype=torch.float64)
    return first_row, H, C


@test_case(hidden=False)
def every_frequency(frequency_gains):
    n, d = 6, 3
    first_row, H, C = _problem(n, d, seed=0)
    gains = frequency_gains(first_row, H, C)
    assert tuple(gains.shape) == (n, d) and gains.is_complex(), \
        f"expected a complex tensor of shape ({n}, {d}), got {gains.dtype} of shape {tuple(gains.shape)}"
    for q in range(n):
        lambda_q = sum(complex(first_row[m]) * complex(math.cos(2 * math.pi * q * m / n), math.sin(2 * math.pi * q * m / n))
                       for m in range(n))
        expected = torch.linalg.eigvals((torch.eye(d) + lambda_q * H.to(torch.complex128)) @ C.to(torch.complex128))
        assert _same_eigenvalues(gains[q], expected), \
            f"row {q}: expected the eigenvalues {expected.tolist()} of (I + lambda_q H) C, lambda_q = {lambda_q:.4f}, got {gains[q].tolist()}"


@test_case(hidden=True)
def the_union_is_the_spectrum_of_the_layer(frequency_gains):
    n, d = 5, 2
    first_row, H, C = _problem(n, d, seed=3)
    A = torch.stack([first_row.roll(j) for j in range(n)])               # A_jk = c_((k - j) mod n)
    operator = torch.kron(C.T.contiguous(), torch.eye(n, dtype=torch.float64)) + torch.kron((H @ C).T.contiguous(), A)
    gains = frequency_gains(first_row, H, C)
    assert _same_eigenvalues(gains.reshape(-1), torch.linalg.eigvals(operator)), \
        "the n d gains together are the spectrum of the layer X -> (X + A X H) C"
    identity = frequency_gains(first_row, H, torch.eye(d, dtype=torch.float64))
    assert _same_eigenvalues(identity[0], 1 + torch.linalg.eigvals(H)), "with C = I, row 0 (DC) is 1 + eig(H)"
