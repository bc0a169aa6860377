"""Checks of exercise ex-controlling-asymmetry-measures: ``asymmetry_measures(H)``, the pair
(a(H)^2, ||K||_F^2 / ||S||_F^2) of a square SymPy matrix, S and K its symmetric and antisymmetric parts."""

import sympy as sp
import torch
from otter.test_files import test_case

import oversmoothing as ovs

OK_FORMAT = False
name = "ex_controlling_asymmetry_measures"
points = 2


@test_case(hidden=False)
def two_by_two_symbolic(asymmetry_measures):
    p, q, r, s = sp.symbols("p q r s", real=True)
    a_squared, ratio_squared = asymmetry_measures(sp.Matrix([[p, q], [r, s]]))
    expected_a = (q - r) ** 2 / (2 * (p**2 + q**2 + r**2 + s**2))
    expected_ratio = (q - r) ** 2 / (2 * p**2 + 2 * s**2 + (q + r) ** 2)
    assert sp.simplify(a_squared - expected_a) == 0, f"a(H)^2 should be {expected_a}, got {a_squared}"
    assert sp.simplify(ratio_squared - expected_ratio) == 0, f"||K||^2/||S||^2 should be {expected_ratio}, got {ratio_squared}"


@test_case(hidden=True)
def three_by_three_exact_and_against_the_package(asymmetry_measures):
    H = sp.Matrix([[1, 2, -1], [0, 3, 4], [5, -2, 1]])
    a_squared, ratio_squared = asymmetry_measures(H)
    assert isinstance(a_squared, sp.Rational) and isinstance(ratio_squared, sp.Rational), \
        f"an integer matrix gives exact rationals, got {a_squared!r} and {ratio_squared!r}"
    package = float(ovs.asymmetry(torch.tensor(H.tolist(), dtype=torch.float64))) ** 2
    assert abs(float(a_squared) - package) < 1e-12, f"a(H)^2 = {package} (ovs.asymmetry squared), got {a_squared}"
    assert abs(float(ratio_squared) - package / (1 - package)) < 1e-12, \
        f"||K||^2/||S||^2 = a^2 / (1 - a^2) = {package / (1 - package)}, got {ratio_squared}"
