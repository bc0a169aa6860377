"""Checks of exercise ex-rank-collapse-cubing: ``first_layer_below(bound, layer, tolerance)``, the first
integer L >= 0 at which a SymPy bound in ``layer`` is strictly below ``tolerance``, compared exactly."""

import sympy as sp
from otter.test_files import test_case

OK_FORMAT = False
name = "ex_rank_collapse_cubing"
points = 3

L = sp.Symbol("L", integer=True, nonnegative=True)


@test_case(hidden=False)
def cubing_and_halving(first_layer_below):
    cubing = sp.Integer(10) ** (-(3**L))                          # c = 1, r_0 = 1/10: 10^(-3^L)
    rounding = sp.Rational(1, 10**16)
    found = first_layer_below(cubing, L, rounding)
    assert found == 3, f"10^(-3^L) is 1e-27 < 1e-16 at L = 3 and 1e-9 at L = 2: expected 3, got {found!r}"
    found = first_layer_below(sp.Rational(1, 10) / 2**L, L, rounding)
    assert found == 50, f"2^L > 10^15 first at L = 50: expected 50, got {found!r}"


@test_case(hidden=False)
def already_below_at_the_input(first_layer_below):
    found = first_layer_below(sp.Rational(1, 3) / 2**L, L, sp.Rational(1, 2))
    assert found == 0, f"the bound 1/3 is already below 1/2 at L = 0: expected 0, got {found!r}"


@test_case(hidden=True)
def strictly_below_and_exact(first_layer_below):
    found = first_layer_below(2**-L, L, sp.Rational(1, 2**10))
    assert found == 11, f"2^-L equals the tolerance 2^-10 at L = 10 and is below it from L = 11: expected 11, got {found!r}"
    found = first_layer_below(sp.Integer(10) ** (-(3**L)), L, sp.Rational(1, 10**81))
    assert found == 5, f"10^(-3^L) equals 10^-81 at L = 4 and is below it from L = 5: expected 5, got {found!r}"
