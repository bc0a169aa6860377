"""Checks of exercise ex-which-side-of-disc: ``outside_sharpening_disc(value_eigenvalues, attention_min)``,
whether each lambda^H lies outside the disc with centre -c and radius c, c = 1/(1 + attention_min), where the
DC candidate wins (the same test as the phase condition, ``spectrum.phase_condition``)."""

import torch
from otter.test_files import test_case

from oversmoothing import spectrum

OK_FORMAT = False
name = "ex_which_side_of_disc"
points = 3


def _agrees_with_phase_condition(outside_sharpening_disc, values, attention_min):
    got = outside_sharpening_disc(values, attention_min)
    assert isinstance(got, torch.Tensor) and got.dtype == torch.bool and got.shape == values.shape, (
        f"expected a bool tensor of shape {tuple(values.shape)}, got {got!r}")
    expected = spectrum.phase_condition(values, attention_min)
    wrong = got.flatten() != expected.flatten()
    assert not wrong.any(), (
        f"attention_min = {attention_min}: expected {expected.flatten()[wrong][:3].tolist()} (DC wins outside the "
        f"disc with centre -1/(1 + attention_min)) at lambda^H = {values.flatten()[wrong][:3].tolist()}"
        f"{' and more' if wrong.sum() > 3 else ''}")


@test_case(hidden=False)
def the_four_points_of_the_exercise(outside_sharpening_disc):
    values = torch.tensor([-1.5, -2.0, 1j, -0.5 + 0.5j], dtype=torch.complex128)
    _agrees_with_phase_condition(outside_sharpening_disc, values, 0.2)


@test_case(hidden=True)
def points_on_both_sides_for_several_spectra(outside_sharpening_disc):
    generator = torch.Generator().manual_seed(0)
    values = torch.complex(4 * torch.rand(400, generator=generator, dtype=torch.float64) - 3,
                           3 * torch.rand(400, generator=generator, dtype=torch.float64) - 1.5)
    for attention_min in (-0.6, 0.0, 0.5, 0.9):
        c = 1 / (1 + attention_min)
        clear = ((values + c).abs() - c).abs() > 1e-6            # off the circle, where rounding decides
        _agrees_with_phase_condition(outside_sharpening_disc, values[clear], attention_min)


@test_case(hidden=True)
def batch_shape_and_the_segment_inside(outside_sharpening_disc):
    segment = -torch.linspace(0.01, 1, 12, dtype=torch.float64).to(torch.complex128).reshape(3, 4)
    _agrees_with_phase_condition(outside_sharpening_disc, segment, 0.3)
    assert not outside_sharpening_disc(segment, 0.3).any(), "[-1, 0) lies inside every disc: expected all False"
