"""Checks of exercise ex-low-pass-by-hand: ``exact_hc_dc_ratio(z)``, the exact HC/DC ratio of a SymPy column
of n tokens of width one."""

import sympy as sp
import torch
from otter.test_files import test_case

import oversmoothing as ovs

OK_FORMAT = False
name = "ex_low_pass_by_hand"
points = 3


def _exact(value, expected, what):
    assert isinstance(value, sp.Basic) and not value.has(sp.Float), (
        f"{what}: expected an exact SymPy expression, got {value!r}")
    assert sp.simplify(value - expected) == 0, f"{what}: expected {expected}, got {value}"


@test_case(hidden=False)
def four_tokens(exact_hc_dc_ratio):
    # mean 5/2; HC = (-3/2, -1/2, 1/2, 3/2) of norm sqrt(5); DC of norm 4 * (5/2)^2 = 25 under the root
    _exact(exact_hc_dc_ratio(sp.Matrix([1, 2, 3, 4])), sp.sqrt(5) / 5, "z = (1, 2, 3, 4)")


@test_case(hidden=True)
def against_the_package(exact_hc_dc_ratio):
    for entries in ([3, 0, 0], [sp.Rational(1, 3), -2, 5, 1, sp.Rational(7, 2)], [-4, -1]):
        z = sp.Matrix(entries)
        expected = ovs.hc_dc_ratio(torch.tensor([[float(e)] for e in entries], dtype=torch.float64)).item()
        value = exact_hc_dc_ratio(z)
        assert isinstance(value, sp.Basic) and not value.has(sp.Float), (
            f"z = {entries}: expected an exact SymPy expression, got {value!r}")
        assert abs(float(value) - expected) < 1e-12, f"z = {entries}: expected {expected:.6f}, got {float(value):.6f}"


@test_case(hidden=True)
def symbolic_power(exact_hc_dc_ratio):
    t = sp.Symbol("t", integer=True, nonnegative=True)
    z = sp.Matrix([1 + 2 / 4**t, 1 - 1 / 4**t, 1 - 1 / 4**t])                   # A^t x of the exercise
    _exact(exact_hc_dc_ratio(z), sp.sqrt(2) / 4**t, "z = A^t x")
