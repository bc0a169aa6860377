"""Checks of exercise ex-controlling-dead-eigenvalues: ``psi_gradient(value_map, psi)``, the gradient of the
sum of the clipped eigenvalues of an ``ovs.SpectralH`` with respect to psi: 2 psi (or -2 psi for the sharpening
model) where psi squared lies inside the clip, 0 outside it."""

import torch
from otter.test_files import test_case

import oversmoothing as ovs

OK_FORMAT = False
name = "ex_controlling_dead_eigenvalues"
points = 3


def _expected(value_map, psi):
    inside = (psi**2 > value_map.floor) & (psi**2 < value_map.upper)
    sign = 1.0 if value_map.sign == "smooth" else -1.0
    return torch.where(inside, sign * 2 * psi, torch.zeros_like(psi))


@test_case(hidden=False)
def smoothing_model(psi_gradient):
    value_map = ovs.SpectralH(5, "smooth")
    psi = torch.tensor([0.0, 0.01, 0.5, 0.9, 1.2])                     # psi^2: 0, 1e-4, 0.25, 0.81, 1.44
    value = psi_gradient(value_map, psi)
    assert tuple(value.shape) == (5,), f"one derivative per eigenvalue: shape (5,), got {tuple(value.shape)}"
    torch.testing.assert_close(value, _expected(value_map, psi),
                               msg=lambda m: f"expected 2 psi inside [floor, 1] and 0 outside: {m}")


@test_case(hidden=True)
def sharpening_model_and_larger_clip(psi_gradient):
    psi = torch.tensor([0.02, -0.5, 0.9, 1.2, -1.5])
    for value_map in (ovs.SpectralH(5, "sharpen"), ovs.SpectralH(5, "smooth", max_eigenvalue=2.0)):
        torch.testing.assert_close(psi_gradient(value_map, psi), _expected(value_map, psi),
                                   msg=lambda m: f"{value_map}: expected ±2 psi inside the clip, 0 outside: {m}")


@test_case(hidden=True)
def a_second_call_does_not_accumulate(psi_gradient):
    value_map = ovs.SpectralH(3, "smooth")
    psi = torch.tensor([0.3, 0.6, 2.0])
    psi_gradient(value_map, psi)
    torch.testing.assert_close(psi_gradient(value_map, psi), _expected(value_map, psi),
                               msg=lambda m: f"a second call must return the same gradient, not the sum of two: {m}")
