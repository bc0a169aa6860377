"""Checks of exercise ex-which-scaled-residual: ``scaled_sharpening_disc(attention_min, alpha)``, the centre and
radius of the disc of lambda^H where X -> X + alpha A X H sharpens (real attention spectrum): the disc
D(attention_min) of the unscaled layer, scaled by 1/alpha."""

import math

import torch
from otter.test_files import test_case

from oversmoothing import spectrum

OK_FORMAT = False
name = "ex_which_scaled_residual"
points = 3


def _disc(scaled_sharpening_disc, attention_min, alpha):
    got = scaled_sharpening_disc(attention_min, alpha)
    assert len(got) == 2, f"expected a pair (centre, radius), got {got!r}"
    return float(got[0]), float(got[1])


@test_case(hidden=False)
def unscaled_layer_gives_the_disc_of_the_chapter(scaled_sharpening_disc):
    centre, radius = _disc(scaled_sharpening_disc, 0.2, 1.0)
    assert math.isclose(centre, -5 / 6) and math.isclose(radius, 5 / 6), (
        f"alpha = 1, attention_min = 0.2: expected centre -5/6 and radius 5/6 (the disc D(0.2)), got {centre}, {radius}")


@test_case(hidden=True)
def formula_for_several_alphas(scaled_sharpening_disc):
    for attention_min in (-0.5, 0.0, 0.7):
        for alpha in (0.05, 0.5, 2.0):
            expected = 1 / (alpha * (1 + attention_min))
            centre, radius = _disc(scaled_sharpening_disc, attention_min, alpha)
            assert math.isclose(centre, -expected) and math.isclose(radius, expected), (
                f"alpha = {alpha}, attention_min = {attention_min}: expected centre {-expected:.6f} and radius "
                f"{expected:.6f}, 1/(alpha (1 + attention_min)), got {centre:.6f}, {radius:.6f}")


@test_case(hidden=True)
def disc_is_where_the_phase_condition_of_alpha_lambda_fails(scaled_sharpening_disc):
    generator = torch.Generator().manual_seed(0)
    for attention_min, alpha in ((0.3, 0.1), (-0.4, 3.0)):
        centre, radius = _disc(scaled_sharpening_disc, attention_min, alpha)
        scale = 1 / (alpha * (1 + attention_min))
        values = -scale + 2 * scale * torch.randn(300, generator=generator, dtype=torch.complex128)
        inside = (values - centre).abs() < radius
        sharpens = ~spectrum.phase_condition(alpha * values, attention_min)
        assert inside.tolist() == sharpens.tolist(), (
            f"alpha = {alpha}, attention_min = {attention_min}: expected the disc to hold exactly the lambda^H for "
            f"which the phase condition of alpha lambda^H fails ({int(sharpens.sum())} of 300 points), "
            f"your disc holds {int(inside.sum())}")
