"""Checks of exercise ex-low-pass-exceptional: ``exceptional_ratios(a, b, depth)``, the HC/DC ratios of A^t z
for t = 0..depth, with A = [[1 - a, a], [b, 1 - b]] and z = (a, -b)."""

import torch
from otter.test_files import test_case

OK_FORMAT = False
name = "ex_low_pass_exceptional"
points = 2


def _check(exceptional_ratios, a, b, depth):
    ratios = torch.as_tensor(exceptional_ratios(a, b, depth), dtype=torch.float64)
    assert ratios.shape == (depth + 1,), f"depth = {depth}: expected shape ({depth + 1},), got {tuple(ratios.shape)}"
    expected = abs(a + b) / abs(a - b)           # z is an eigenvector: A^t z = (1 - a - b)^t z
    torch.testing.assert_close(ratios, torch.full_like(ratios, expected),
                               msg=f"a = {a}, b = {b}: expected the ratio {expected:.4f} at every t")


@test_case(hidden=False)
def the_exercise(exceptional_ratios):
    _check(exceptional_ratios, 0.3, 0.1, 40)


@test_case(hidden=True)
def other_matrices(exceptional_ratios):
    # |1 - a - b|^depth stays far above rounding, which adds a DC part that does not decay
    for a, b, depth in [(0.2, 0.7, 6), (0.9, 0.6, 12), (0.05, 0.5, 10), (0.02, 0.01, 100)]:
        _check(exceptional_ratios, a, b, depth)
