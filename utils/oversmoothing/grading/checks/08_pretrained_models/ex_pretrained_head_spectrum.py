"""Checks of exercise ex-pretrained-head-spectrum: ``charpoly_from_core(W_V, W_O, x)``, the characteristic polynomial
det(x I_d - W_V W_O) of one head computed from its d_h x d_h core W_O W_V as x**(d - d_h) det(x I - W_O W_V)."""

import sympy as sp
from otter.test_files import test_case

OK_FORMAT = False
name = "ex_pretrained_head_spectrum"
points = 3


def _gap(charpoly_from_core, W_V, W_O):
    """The answer minus det(x I_d - W_V W_O), expanded (zero when right)."""
    x = sp.Symbol("x")
    answer = charpoly_from_core(W_V, W_O, x)
    return sp.expand(sp.sympify(answer) - (W_V * W_O).charpoly(x).as_expr()), x


@test_case(hidden=False)
def symbolic_three_by_two(charpoly_from_core):
    W_V = sp.Matrix(3, 2, lambda i, j: sp.Symbol(f"v{i}{j}"))
    W_O = sp.Matrix(2, 3, lambda i, j: sp.Symbol(f"o{i}{j}"))
    gap, x = _gap(charpoly_from_core, W_V, W_O)
    assert gap == 0, f"for d = 3, d_h = 2 the answer must equal det(x I_3 - W_V W_O); the difference is {gap}"


@test_case(hidden=True)
def two_zero_eigenvalues(charpoly_from_core):
    W_V = sp.Matrix([[1, 2], [0, 1], [3, -1], [2, 2]])               # d = 4, d_h = 2: two zero eigenvalues
    W_O = sp.Matrix([[1, 0, 2, -1], [0, 3, 1, 1]])
    gap, x = _gap(charpoly_from_core, W_V, W_O)
    core = W_O * W_V
    expected = x**2 * (x**2 - core.trace() * x + core.det())          # the 2 x 2 characteristic polynomial, by hand
    assert gap == 0 and sp.expand(expected - (W_V * W_O).charpoly(x).as_expr()) == 0, (
        f"for d = 4, d_h = 2 the characteristic polynomial is {sp.expand(expected)}; the answer differs by {gap}")


@test_case(hidden=True)
def square_head(charpoly_from_core):
    W_V = sp.Matrix([[2, 1], [1, -1]])                                # d = d_h: no zero eigenvalue
    W_O = sp.Matrix([[0, 1], [3, 2]])
    gap, x = _gap(charpoly_from_core, W_V, W_O)
    assert gap == 0, f"for d = d_h = 2 the answer must equal det(x I - W_V W_O), with no factor x; the difference is {gap}"
