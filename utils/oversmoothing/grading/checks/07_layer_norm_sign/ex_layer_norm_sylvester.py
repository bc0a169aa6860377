"""Checks of exercise ex-layer-norm-sylvester: ``symmetric_similar(H, gain)``, the Cholesky factor L of a
symmetric positive definite H and S = L^T diag(gain) L, the symmetric matrix similar to diag(gain) H."""

import sympy as sp
from otter.test_files import test_case

OK_FORMAT = False
name = "ex_layer_norm_sylvester"
points = 3


def _is_zero(matrix):
    return sp.simplify(matrix) == sp.zeros(*matrix.shape)


@test_case(hidden=False)
def the_two_by_two_example(symmetric_similar):
    L, S = symmetric_similar(sp.Matrix([[2, 1], [1, 1]]), [1, -1])
    expected_L = sp.Matrix([[sp.sqrt(2), 0], [1 / sp.sqrt(2), 1 / sp.sqrt(2)]])
    assert _is_zero(sp.Matrix(L) - expected_L), f"the Cholesky factor of [[2, 1], [1, 1]] is {expected_L}, got {L}"
    expected_S = sp.Matrix([[3, -1], [-1, -1]]) / 2
    assert _is_zero(sp.Matrix(S) - expected_S), f"S = L^T diag(1, -1) L is {expected_S}, got {S}"


@test_case(hidden=True)
def three_gains_with_an_integer_factor(symmetric_similar):
    factor = sp.Matrix([[2, 0, 0], [1, 2, 0], [1, 1, 2]])          # H = factor factor^T, factor lower triangular
    gain = [2, -1, -3]
    L, S = symmetric_similar(factor * factor.T, gain)
    assert _is_zero(sp.Matrix(L) - factor), f"the Cholesky factor of L L^T with L = {factor} is L itself, got {L}"
    expected_S = factor.T * sp.diag(*gain) * factor
    assert _is_zero(sp.Matrix(S) - expected_S), f"S = L^T diag(gain) L is {expected_S}, got {S}"


@test_case(hidden=True)
def similar_to_the_gained_matrix(symmetric_similar):
    H = sp.Matrix([[3, 1, 0], [1, 2, 1], [0, 1, 4]])
    gain = [1, -2, 1]
    L, S = symmetric_similar(H, gain)
    x = sp.Symbol("x")
    gap = sp.simplify(sp.expand(sp.Matrix(S).charpoly(x).as_expr() - (sp.diag(*gain) * H).charpoly(x).as_expr()))
    assert gap == 0, "S must be similar to diag(gain) H (the same characteristic polynomial); it is not"
    assert _is_zero(sp.Matrix(S) - sp.Matrix(S).T), f"S = L^T diag(gain) L is symmetric, got {S}"
