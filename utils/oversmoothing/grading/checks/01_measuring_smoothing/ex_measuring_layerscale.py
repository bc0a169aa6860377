"""Checks of exercise ex-measuring-layerscale: ``layerscale_matrices(H, gamma, lam)``, the SymPy matrices
M = diag(gamma) H diag(lam) and diag(lam * gamma) H."""

import sympy as sp
from otter.test_files import test_case

OK_FORMAT = False
name = "ex_measuring_layerscale"
points = 2


def _check(layerscale_matrices, H, gamma, lam):
    d = H.shape[0]
    M, second_gain = layerscale_matrices(H, gamma, lam)
    expected_M = sp.Matrix(d, d, lambda i, k: gamma[i] * H[i, k] * lam[k])
    expected_second = sp.Matrix(d, d, lambda i, k: lam[i] * gamma[i] * H[i, k])
    assert sp.expand(sp.Matrix(M) - expected_M) == sp.zeros(d, d), (
        f"d = {d}: expected M[i, k] = gamma_i H_ik lambda_k, got {sp.Matrix(M)}")
    assert sp.expand(sp.Matrix(second_gain) - expected_second) == sp.zeros(d, d), (
        f"d = {d}: expected the second matrix to have entries lambda_i gamma_i H_ik, got {sp.Matrix(second_gain)}")


@test_case(hidden=False)
def symbolic_three(layerscale_matrices):
    H = sp.Matrix(3, 3, lambda i, k: sp.Symbol(f"h{i}{k}"))
    _check(layerscale_matrices, H, sp.symbols("g1:4"), sp.symbols("l1:4"))


@test_case(hidden=True)
def rational_four_same_spectrum(layerscale_matrices):
    H = sp.Matrix(4, 4, lambda i, k: sp.Rational((3 * i + 5 * k) % 7 - 3, 1 + i + k))
    gamma = [sp.Rational(1, 2), -2, 3, sp.Rational(-1, 3)]
    lam = [sp.Rational(1, 10), 2, sp.Rational(1, 5), 5]
    _check(layerscale_matrices, H, gamma, lam)
    M, second_gain = layerscale_matrices(H, gamma, lam)
    t = sp.Symbol("t")
    assert sp.expand(M.charpoly(t).as_expr() - second_gain.charpoly(t).as_expr()) == 0, (
        "the two matrices are similar, so their characteristic polynomials are equal")
