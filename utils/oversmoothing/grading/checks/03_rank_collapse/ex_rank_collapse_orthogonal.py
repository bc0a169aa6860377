"""Checks of exercise ex-rank-collapse-orthogonal: ``hc_dc_ratio_squared(Y)``, the squared HC/DC ratio
||(I - P) Y||_F^2 / ||P Y||_F^2 of a SymPy matrix Y (one token per row), as an exact SymPy expression."""

import sympy as sp
import torch
from otter.test_files import test_case

import oversmoothing as ovs

OK_FORMAT = False
name = "ex_rank_collapse_orthogonal"
points = 3


def _package_value(Y):
    """rho(Y)^2 from ovs.hc_dc_ratio, in float64."""
    return ovs.hc_dc_ratio(torch.tensor([[float(v) for v in row] for row in Y.tolist()], dtype=torch.float64)).item() ** 2


@test_case(hidden=False)
def tokens_are_rows(hc_dc_ratio_squared):
    Y = sp.Matrix([[1, 2], [3, -1], [0, 5]])                      # 3 tokens in R^2
    value = sp.sympify(hc_dc_ratio_squared(Y))
    assert value.is_Rational, f"an integer matrix gives an exact rational number, got {value!r}"
    assert abs(float(value) - _package_value(Y)) < 1e-12, (
        f"expected rho(Y)^2 = {_package_value(Y):.6f} (ovs.hc_dc_ratio(Y) ** 2, the mean taken over the tokens, "
        f"the rows), got {float(value):.6f}")


@test_case(hidden=False)
def two_symbolic_tokens(hc_dc_ratio_squared):
    y = sp.symbols("y_1:5", real=True)
    Y = sp.Matrix(2, 2, y)
    expected = ((y[0] - y[2]) ** 2 + (y[1] - y[3]) ** 2) / ((y[0] + y[2]) ** 2 + (y[1] + y[3]) ** 2)
    assert sp.cancel(hc_dc_ratio_squared(Y) - expected) == 0, (
        f"for two tokens rho^2 = ||x_1 - x_2||^2 / ||x_1 + x_2||^2, that is {expected}")


@test_case(hidden=True)
def wide_matrices_and_rotations(hc_dc_ratio_squared):
    Y = sp.Matrix([[2, -1, 0, 4], [1, 1, 3, 0]])                  # 2 tokens in R^4
    assert abs(float(hc_dc_ratio_squared(Y)) - _package_value(Y)) < 1e-12, (
        f"expected rho(Y)^2 = {_package_value(Y):.6f} for a 2 x 4 matrix (the mean over the 2 rows)")
    rotation = sp.Matrix([[sp.Rational(3, 5), -sp.Rational(4, 5)], [sp.Rational(4, 5), sp.Rational(3, 5)]])
    Z = sp.Matrix([[1, 2], [0, -3], [5, 1]])
    assert sp.simplify(hc_dc_ratio_squared(Z * 2 * rotation) - hc_dc_ratio_squared(Z)) == 0, (
        "rho(Z s U) = rho(Z) exactly for an orthogonal U and s > 0")
