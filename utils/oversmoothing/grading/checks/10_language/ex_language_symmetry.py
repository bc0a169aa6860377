"""Checks of exercise ex-language-symmetry: ``block_moduli(H, weights)``, the largest eigenvalue moduli of
M_1 = I + H and M_2 = I + H diag(weights), compared with ``ovs.causal_block_eigenvalues``."""

import sympy as sp
import torch
from otter.test_files import test_case

import oversmoothing as ovs

OK_FORMAT = False
name = "ex_language_symmetry"
points = 2

R = sp.Rational


def _package_moduli(H, weights):
    """The largest moduli of the DC block and of token 2's block, one head per column of H."""
    d = H.rows
    diagonals = torch.tensor([[1.0, float(w)] for w in weights], dtype=torch.float64)        # (heads, n = 2)
    heads = ovs.split_by_heads(torch.tensor(H.tolist(), dtype=torch.float64), d)
    return ovs.causal_block_eigenvalues(diagonals, heads).abs().amax(-1)                    # (2,)


def _compare(block_moduli, H, weights):
    value = tuple(block_moduli(H, weights))
    expected = _package_moduli(H, weights)
    assert len(value) == 2, f"a pair (DC block, token 2's block), got {value}"
    got = torch.tensor([float(sp.N(v)) for v in value], dtype=torch.float64)
    torch.testing.assert_close(got, expected, msg=lambda m: f"H = {H.tolist()}, weights {weights}: the largest "
                               f"moduli are {expected.tolist()} (ovs.causal_block_eigenvalues), got {value}: {m}")
    return value


@test_case(hidden=False)
def the_exercise(block_moduli):
    dc, token = _compare(block_moduli, sp.Matrix([[5, -3], [4, -2]]), [R(9, 10), R(1, 10)])
    assert dc == 3, f"M_1 = I + H has eigenvalues 2 and 3: exactly 3, got {dc}"


@test_case(hidden=True)
def negative_and_complex_spectra(block_moduli):
    _compare(block_moduli, sp.Matrix([[-3, 1], [1, -R(5, 2)]]), [R(1, 2), R(1, 4)])      # moduli, not values
    dc, _ = _compare(block_moduli, sp.Matrix([[0, -2], [2, 0]]), [R(3, 4), R(1, 5)])     # 1 ± 2i
    assert sp.simplify(dc - sp.sqrt(5)) == 0, f"|1 ± 2i| = sqrt(5) exactly, got {dc}"
