"""Checks of exercise ex-measuring-simplex: ``simplex_spectrum(n)``, the exact eigenvalues (SymPy, a dict
eigenvalue -> multiplicity) of the Gram matrix of n unit tokens with pairwise cosines -1/(n-1), and
``simplex_tokens(n)``, such tokens as the unit-length rows of HC[I_n]."""

import sympy as sp
import torch
from otter.test_files import test_case

OK_FORMAT = False
name = "ex_measuring_simplex"
points = 4


def _check_spectrum(simplex_spectrum, n):
    spectrum = simplex_spectrum(n)
    assert isinstance(spectrum, dict), (
        f"simplex_spectrum returns a dict {{eigenvalue: multiplicity}}, got {type(spectrum).__name__}")
    expected = {sp.Rational(n, n - 1): n - 1, sp.Integer(0): 1}
    exact = all(isinstance(sp.sympify(value), sp.Rational) for value in spectrum)
    assert exact and spectrum == expected, (
        f"n = {n}: expected the exact eigenvalue {n}/{n - 1} ({n - 1} times) and 0 (once), got {spectrum}")


def _check_tokens(simplex_tokens, n):
    tokens = simplex_tokens(n)
    assert isinstance(tokens, torch.Tensor) and tokens.dtype == torch.float64 and tokens.shape == (n, n), (
        f"n = {n}: expected a float64 tensor of shape ({n}, {n}), got "
        f"{getattr(tokens, 'dtype', type(tokens).__name__)} of shape {tuple(getattr(tokens, 'shape', ()))}")
    torch.testing.assert_close(tokens.norm(dim=-1), torch.ones(n, dtype=torch.float64),
                               msg=f"n = {n}: every token has unit length")
    gram = n / (n - 1) * torch.eye(n, dtype=torch.float64) - 1 / (n - 1)
    torch.testing.assert_close(tokens @ tokens.T, gram, msg=f"n = {n}: every pairwise cosine is -1/{n - 1}")


@test_case(hidden=False)
def spectrum_of_three(simplex_spectrum):
    _check_spectrum(simplex_spectrum, 3)


@test_case(hidden=False)
def four_tokens(simplex_tokens):
    _check_tokens(simplex_tokens, 4)


@test_case(hidden=True)
def spectrum_up_to_eight(simplex_spectrum):
    for n in (2, 5, 8):
        _check_spectrum(simplex_spectrum, n)


@test_case(hidden=True)
def tokens_up_to_nine(simplex_tokens):
    for n in range(2, 10):
        _check_tokens(simplex_tokens, n)
