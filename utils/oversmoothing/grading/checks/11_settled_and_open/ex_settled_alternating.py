"""Checks of exercise ex-settled-alternating: ``two_layer_eigenvalues(A1, A2, h)``, the eigenvalue of
(I + h A2)(I + h A1) on the all-ones vector and the other one, for 2 x 2 row-stochastic A1, A2."""

import sympy as sp
from otter.test_files import test_case

OK_FORMAT = False
name = "ex_settled_alternating"
points = 2

R = sp.Rational


def _attention(a, b):
    return sp.Matrix([[1 - a, a], [b, 1 - b]])


@test_case(hidden=False)
def symbolic_attention(two_layer_eigenvalues):
    a1, b1, a2, b2, h = sp.symbols("a_1 b_1 a_2 b_2 h", real=True)
    perron, other = two_layer_eigenvalues(_attention(a1, b1), _attention(a2, b2), h)
    assert sp.expand(perron - (1 + h) ** 2) == 0, f"the eigenvalue on the all-ones vector is (1 + h)^2, got {perron}"
    expected = (1 + h * (1 - a1 - b1)) * (1 + h * (1 - a2 - b2))
    assert sp.expand(other - expected) == 0, f"the other eigenvalue is (1 + h kappa_1)(1 + h kappa_2), got {other}"


@test_case(hidden=True)
def numbers_against_the_spectrum(two_layer_eigenvalues):
    for (a1, b1), (a2, b2), h in (((R(1, 5), R(1, 2)), (R(3, 4), R(1, 10)), -R(3, 2)),
                                  ((R(9, 10), R(4, 5)), (R(1, 3), R(1, 3)), R(2))):
        A1, A2 = _attention(a1, b1), _attention(a2, b2)
        two_layers = (sp.eye(2) + h * A2) * (sp.eye(2) + h * A1)
        perron, other = (sp.nsimplify(v) for v in two_layer_eigenvalues(A1, A2, h))
        assert two_layers * sp.ones(2, 1) == perron * sp.ones(2, 1), f"A1 = {A1.tolist()}, A2 = {A2.tolist()}, " \
            f"h = {h}: the all-ones vector has eigenvalue {(1 + h) ** 2}, got {perron}"
        spectrum = sorted(two_layers.eigenvals(multiple=True))
        assert sorted([perron, other]) == spectrum, f"the two eigenvalues are {spectrum}, got {[perron, other]}"
