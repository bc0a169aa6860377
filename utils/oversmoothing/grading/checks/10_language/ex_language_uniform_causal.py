"""Checks of exercise ex-language-uniform-causal: ``limit_of_powers(M, scale)``, lim_t (M / scale)^t of a
diagonalisable SymPy matrix, from its eigen-decomposition."""

import sympy as sp
from otter.test_files import test_case

OK_FORMAT = False
name = "ex_language_uniform_causal"
points = 3

R = sp.Rational


@test_case(hidden=False)
def uniform_causal_attention(limit_of_powers):
    A = sp.Matrix([[1, 0, 0], [R(1, 2), R(1, 2), 0], [R(1, 3), R(1, 3), R(1, 3)]])
    expected = sp.ones(3, 1) * sp.Matrix([[1, 0, 0]])                     # 1 e_1^T: every token -> the first
    value = sp.Matrix(limit_of_powers(A))
    assert value == expected, f"lim A^t = 1 e_1^T = {expected.tolist()}, got {value.tolist()}"


@test_case(hidden=True)
def scaled_layer_and_a_two_token_mask(limit_of_powers):
    A = sp.Matrix([[1, 0], [R(1, 4), R(3, 4)]])
    value = sp.Matrix(limit_of_powers(sp.eye(2) + A, 2))
    assert value == sp.Matrix([[1, 0], [1, 0]]), f"lim ((I + A)/2)^t = 1 e_1^T for A = {A.tolist()}, got {value.tolist()}"
    value = sp.Matrix(limit_of_powers(3 * A, 3))
    assert value == sp.Matrix([[1, 0], [1, 0]]), f"the scale divides M: lim (3A/3)^t = 1 e_1^T, got {value.tolist()}"


@test_case(hidden=True)
def a_matrix_that_is_not_triangular(limit_of_powers):
    A = sp.Matrix([[R(1, 2), R(1, 2)], [R(1, 4), R(3, 4)]])              # left Perron vector (1, 2)/3
    expected = sp.ones(2, 1) * sp.Matrix([[R(1, 3), R(2, 3)]])
    value = sp.Matrix(limit_of_powers(A))
    assert value == expected, f"lim A^t = 1 pi^T with pi = (1/3, 2/3) (rows, not columns), got {value.tolist()}"
