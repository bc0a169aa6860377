"""Checks of exercise ex-language-two-tokens: ``two_token_state(a, lam, x1, x2, L)``, the state X_L of
X -> X + lam A X with A = [[1, 0], [1 - a, a]] and X_0 = (x1, x2)^T, from the eigen-decomposition."""

import sympy as sp
from otter.test_files import test_case

OK_FORMAT = False
name = "ex_language_two_tokens"
points = 2

R = sp.Rational


@test_case(hidden=False)
def closed_form_with_symbols(two_token_state):
    a, lam, L = sp.symbols("a lambda L", positive=True)
    x1, x2 = sp.symbols("x_1 x_2")
    expected = (1 + lam) ** L * x1 * sp.ones(2, 1) + (1 + a * lam) ** L * (x2 - x1) * sp.Matrix([0, 1])
    value = sp.Matrix(two_token_state(a, lam, x1, x2, L))
    assert value.shape == (2, 1), f"X_L is a 2 x 1 matrix, got shape {value.shape}"
    assert sp.simplify(value - expected) == sp.zeros(2, 1), f"X_L should be {expected.tolist()}, got {value.tolist()}"


@test_case(hidden=True)
def numbers_against_the_matrix_power(two_token_state):
    for a, lam, x, L in ((R(2, 5), -R(1, 2), (1, -2), 7), (R(1, 3), R(3), (2, 5), 4)):
        A = sp.Matrix([[1, 0], [1 - a, a]])
        expected = (sp.eye(2) + lam * A) ** L * sp.Matrix(x)
        value = sp.Matrix(two_token_state(a, lam, x[0], x[1], L))
        assert sp.simplify(value - expected) == sp.zeros(2, 1), \
            f"a = {a}, lambda = {lam}, X_0 = {x}, L = {L}: X_L = {expected.tolist()}, got {value.tolist()}"
