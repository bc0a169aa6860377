"""Checks of exercise ex-layer-norm-two-gains: ``trace_det_discriminant(gamma1, gamma2, h11, h12, h22)``, the trace,
determinant and discriminant of the characteristic polynomial of diag(gamma1, gamma2) H for a symmetric 2 x 2 H."""

import sympy as sp
from otter.test_files import test_case

OK_FORMAT = False
name = "ex_layer_norm_two_gains"
points = 3


def _parts(trace_det_discriminant, *args):
    parts = trace_det_discriminant(*args)
    assert len(parts) == 3, f"trace_det_discriminant returns three expressions (trace, determinant, discriminant), got {parts!r}"
    return parts


@test_case(hidden=False)
def symbolic_discriminant(trace_det_discriminant):
    g1, g2, h11, h12, h22 = sp.symbols("gamma1 gamma2 h11 h12 h22", real=True)
    trace, determinant, discriminant = _parts(trace_det_discriminant, g1, g2, h11, h12, h22)
    expected = (g1 * h11 - g2 * h22) ** 2 + 4 * g1 * g2 * h12**2
    assert sp.expand(discriminant - expected) == 0, f"the discriminant is {expected} expanded, got {discriminant}"


@test_case(hidden=True)
def symbolic_trace_and_determinant(trace_det_discriminant):
    g1, g2, h11, h12, h22 = sp.symbols("gamma1 gamma2 h11 h12 h22", real=True)
    trace, determinant, _ = _parts(trace_det_discriminant, g1, g2, h11, h12, h22)
    assert sp.expand(trace - (g1 * h11 + g2 * h22)) == 0, f"the trace is gamma1 h11 + gamma2 h22, got {trace}"
    expected = g1 * g2 * (h11 * h22 - h12**2)
    assert sp.expand(determinant - expected) == 0, f"the determinant is {expected}, got {determinant}"


@test_case(hidden=True)
def numbers_against_the_eigenvalues(trace_det_discriminant):
    gains, H = (3, -2), sp.Matrix([[2, 1], [1, 3]])
    first, second = (sp.diag(*gains) * H).eigenvals(multiple=True)
    _, _, discriminant = _parts(trace_det_discriminant, *map(sp.Integer, gains), H[0, 0], H[0, 1], H[1, 1])
    expected = sp.expand((first - second) ** 2)                    # the squared gap of the two eigenvalues
    assert sp.simplify(discriminant - expected) == 0, f"for gains {gains} and H = {H} the discriminant is {expected}, got {discriminant}"
