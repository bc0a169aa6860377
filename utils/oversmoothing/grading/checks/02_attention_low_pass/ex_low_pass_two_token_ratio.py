"""Checks of exercise ex-low-pass-two-token-ratio: ``two_token_ratio(a, b, t)``, the closed form of the HC/DC
ratio of A^t e_1 for A = [[1 - a, a], [b, 1 - b]]."""

import sympy as sp
from otter.test_files import test_case

OK_FORMAT = False
name = "ex_low_pass_two_token_ratio"
points = 3


def _direct(a, b, t):
    """The HC/DC ratio of A^t e_1 from the matrix power: |x_1 - x_2| / |x_1 + x_2| for two tokens of width one."""
    column = sp.Matrix([[1 - a, a], [b, 1 - b]]) ** t * sp.Matrix([1, 0])
    return sp.Abs(column[0] - column[1]) / sp.Abs(column[0] + column[1])


def _at(two_token_ratio, a, b, t):
    value = sp.sympify(two_token_ratio(a, b, t))
    expected = _direct(a, b, t)
    assert sp.simplify(value - expected) == 0, f"a = {a}, b = {b}, t = {t}: expected {expected}, got {value}"


@test_case(hidden=False)
def rational_points(two_token_ratio):
    for t in (0, 1, 4):
        _at(two_token_ratio, sp.Rational(1, 4), sp.Rational(1, 2), t)


@test_case(hidden=True)
def symbolic_t(two_token_ratio):
    t = sp.Symbol("t", integer=True, nonnegative=True)
    a, b = sp.Rational(3, 5), sp.Rational(1, 7)
    expression = two_token_ratio(a, b, t)
    for step in (0, 2, 7):
        value = sp.simplify(sp.sympify(expression).subs(t, step))
        assert sp.simplify(value - _direct(a, b, step)) == 0, (
            f"a = {a}, b = {b}: at t = {step} the closed form gives {value}, the matrix power {_direct(a, b, step)}")
    constant = sp.limit(expression / sp.Abs(1 - a - b) ** t, t, sp.oo)
    assert constant == (a + b) / (2 * b), (
        f"a = {a}, b = {b}: expected the constant (a + b)/(2b) = {(a + b) / (2 * b)}, got {constant}")


@test_case(hidden=True)
def negative_second_eigenvalue(two_token_ratio):
    for t in (1, 2, 5):
        _at(two_token_ratio, sp.Rational(4, 5), sp.Rational(2, 3), t)   # lambda = 1 - a - b = -7/15
