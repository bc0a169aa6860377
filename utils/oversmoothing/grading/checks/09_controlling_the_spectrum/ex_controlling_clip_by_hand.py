"""Checks of exercise ex-controlling-clip-by-hand: ``clipped_eigenvalues(psi, floor, upper)``, the clip of
psi squared to [floor, upper] in exact SymPy numbers, and ``mode_moduli(eigenvalues, kappa)``, the pair
(max |1 + lambda_j|, max |1 + kappa lambda_j|)."""

import sympy as sp
from otter.test_files import test_case

OK_FORMAT = False
name = "ex_controlling_clip_by_hand"
points = 4

R = sp.Rational


def _clip(psi, floor, upper):
    return [min(max(value**2, floor), upper) for value in psi]


@test_case(hidden=False)
def the_exercise_clip(clipped_eigenvalues):
    psi = [R(1, 10), R(1, 2), R(9, 10), R(6, 5)]
    value = list(clipped_eigenvalues(psi, R(1, 1000), sp.Integer(1)))
    assert value == [R(1, 100), R(1, 4), R(81, 100), 1], \
        f"psi = (1/10, 1/2, 9/10, 6/5) squared and clipped to [1/1000, 1] is (1/100, 1/4, 81/100, 1), got {value}"


@test_case(hidden=False)
def the_exercise_moduli(mode_moduli):
    smoothing = [R(1, 100), R(1, 4), R(81, 100), sp.Integer(1)]
    value = tuple(mode_moduli(smoothing, R(2, 5)))
    assert value == (2, R(7, 5)), f"the smoothing model with kappa = 2/5 has (M_DC, M_HC) = (2, 7/5), got {value}"
    value = tuple(mode_moduli([-v for v in smoothing], R(2, 5)))
    assert value == (R(99, 100), R(249, 250)), \
        f"the sharpening model with kappa = 2/5 has (M_DC, M_HC) = (99/100, 249/250), got {value}"


@test_case(hidden=True)
def floor_negative_psi_and_upper(clipped_eigenvalues):
    psi = [-R(1, 2), R(1, 100), R(6, 5), -R(3, 2), sp.Integer(0)]
    for floor, upper in ((R(1, 1000), sp.Integer(1)), (R(1, 10), sp.Integer(2))):
        value = list(clipped_eigenvalues(psi, floor, upper))
        expected = _clip(psi, floor, upper)
        assert value == expected, f"psi = {psi} clipped to [{floor}, {upper}] after squaring is {expected}, got {value}"


@test_case(hidden=True)
def moduli_of_mixed_signs(mode_moduli):
    eigenvalues, kappa = [-R(3, 1), R(1, 2), -R(1, 5)], -R(1, 2)
    expected = (max(abs(1 + v) for v in eigenvalues), max(abs(1 + kappa * v) for v in eigenvalues))
    value = tuple(mode_moduli(eigenvalues, kappa))
    assert value == expected, f"eigenvalues {eigenvalues}, kappa = {kappa}: (M_DC, M_HC) = {expected} (moduli), got {value}"
