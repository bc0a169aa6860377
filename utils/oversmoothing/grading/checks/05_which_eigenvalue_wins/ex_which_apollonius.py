"""Checks of exercise ex-which-apollonius: ``apollonius_centre(a, b)``, the centre of the disc of z = lambda^H
where |1 + z| < |1 + lambda^A z| for lambda^A = a + i b: (-(1 - a)/k, -b/k) with k = 1 - a^2 - b^2."""

import sympy as sp
from otter.test_files import test_case

OK_FORMAT = False
name = "ex_which_apollonius"
points = 3

a, b = sp.symbols("a b", real=True)


def _centre(apollonius_centre):
    got = apollonius_centre(a, b)
    assert len(got) == 2, f"expected a pair (x, y) of SymPy expressions in a and b, got {got!r}"
    return sp.sympify(got[0]), sp.sympify(got[1])


def _gap(lam, z):
    """|1 + z|^2 - |1 + lam z|^2 for numbers lam, z: negative where the DC candidate loses."""
    return sp.Abs(sp.expand(1 + z)) ** 2 - sp.Abs(sp.expand(1 + lam * z)) ** 2


@test_case(hidden=False)
def centre_for_one_lambda(apollonius_centre):
    x0, y0 = _centre(apollonius_centre)
    at = {a: sp.Rational(1, 2), b: sp.Rational(1, 3)}               # k = 23/36
    got = (sp.nsimplify(x0.subs(at)), sp.nsimplify(y0.subs(at)))
    expected = (sp.Rational(-18, 23), sp.Rational(-12, 23))
    assert got == expected, f"lambda^A = 1/2 + i/3: expected the centre {expected}, got {got}"


@test_case(hidden=True)
def centre_as_a_formula(apollonius_centre):
    x0, y0 = _centre(apollonius_centre)
    k = 1 - a**2 - b**2
    assert sp.cancel(x0 + (1 - a) / k) == 0 and sp.cancel(y0 + b / k) == 0, (
        f"expected the centre (-(1 - a)/k, -b/k) with k = 1 - a^2 - b^2, got ({x0}, {y0})")
    assert sp.cancel(x0.subs(b, 0) + 1 / (1 + a)) == 0, "for real lambda^A = a the centre must be -1/(1 + a)"


@test_case(hidden=True)
def disc_through_the_origin_where_the_dc_candidate_loses(apollonius_centre):
    x0, y0 = _centre(apollonius_centre)
    for a_value, b_value in [(sp.Rational(-1, 2), sp.Rational(3, 5)), (sp.Rational(1, 4), sp.Rational(-2, 3)),
                             (sp.Rational(7, 10), sp.Rational(1, 10))]:
        at = {a: a_value, b: b_value}
        lam, centre = a_value + sp.I * b_value, x0.subs(at) + sp.I * y0.subs(at)
        assert sp.cancel(_gap(lam, centre)) < 0, f"lambda^A = {lam}: the centre {centre} must lie in the disc"
        assert sp.cancel(_gap(lam, 2 * centre)) == 0, (
            f"lambda^A = {lam}: the disc passes through 0, so 2 x centre = {2 * centre} must lie on its boundary")
