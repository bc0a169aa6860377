"""Checks of exercise ex-convergence-two-tokens: ``no_convergence_interval(a, b)``, the ends of the closed
interval of h without input convergence for A = [[1 - a, a], [b, 1 - b]] and H = h: [-2/(1 + kappa), 0] with
kappa = 1 - a - b, where |1 + h| and |1 + kappa h| tie."""

import sympy as sp
from otter.test_files import test_case

OK_FORMAT = False
name = "ex_convergence_two_tokens"
points = 3

a, b = sp.symbols("a b", positive=True)


def _interval(no_convergence_interval):
    got = no_convergence_interval(a, b)
    assert len(got) == 2, f"expected a pair (lower, upper) of SymPy expressions in a and b, got {got!r}"
    return sp.sympify(got[0]), sp.sympify(got[1])


@test_case(hidden=False)
def interval_for_one_matrix(no_convergence_interval):
    lower, upper = _interval(no_convergence_interval)
    at = {a: sp.Rational(1, 5), b: sp.Rational(3, 10)}                      # kappa = 1/2
    got = (sp.nsimplify(lower.subs(at)), sp.nsimplify(upper.subs(at)))
    assert got == (sp.Rational(-4, 3), 0), f"a = 1/5, b = 3/10: expected the interval [-4/3, 0], got {got}"


@test_case(hidden=True)
def interval_as_a_formula(no_convergence_interval):
    lower, upper = _interval(no_convergence_interval)
    assert sp.cancel(lower + 2 / (2 - a - b)) == 0 and upper == 0, (
        f"expected the ends -2/(1 + kappa) = -2/(2 - a - b) and 0, got {lower} and {upper}")


@test_case(hidden=True)
def ends_are_ties_and_the_interval_holds_minus_one(no_convergence_interval):
    lower, upper = _interval(no_convergence_interval)
    for a_value, b_value in [(sp.Rational(1, 10), sp.Rational(1, 10)), (sp.Rational(9, 10), sp.Rational(4, 5))]:
        at = {a: a_value, b: b_value}
        matrix = sp.Matrix([[1 - a_value, a_value], [b_value, 1 - b_value]])
        kappa = next(value for value in matrix.eigenvals() if value != 1)
        for end in (lower.subs(at), upper.subs(at)):
            assert (1 + end) ** 2 - (1 + kappa * end) ** 2 == 0, (
                f"a = {a_value}, b = {b_value}: expected |1 + h| = |1 + kappa h| at the end h = {end}")
        assert lower.subs(at) < -1, f"a = {a_value}, b = {b_value}: the interval must contain [-1, 0]"
