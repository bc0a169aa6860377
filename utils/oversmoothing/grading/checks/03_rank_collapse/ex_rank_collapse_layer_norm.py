"""Checks of exercise ex-rank-collapse-layer-norm: ``rank_one_profile(norm, depth, dim, tokens, batch)``, the
rank-one residual per layer of a pure attention network with LayerNorm ``norm``, geometric mean over a batch of
Gaussian inputs drawn with seed 1; shape (depth + 1,). Small networks keep the checks fast."""

import torch
from otter.test_files import test_case

import oversmoothing as ovs

OK_FORMAT = False
name = "ex_rank_collapse_layer_norm"
points = 3


def _input_layer(tokens, dim, batch):
    """Layer 0 of the profile: the geometric mean of the rank-one residuals of the inputs the docstring names."""
    inputs = torch.randn(batch, tokens, dim, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    return ovs.rank_one_residual(inputs).log().mean().exp()


@test_case(hidden=False)
def one_value_per_layer_starting_at_the_inputs(rank_one_profile):
    profile = rank_one_profile("none", depth=3, dim=8, tokens=6, batch=5)
    assert tuple(profile.shape) == (4,), f"depth 3 gives the input and 3 layers: expected shape (4,), got {tuple(profile.shape)}"
    expected = _input_layer(6, 8, 5)
    torch.testing.assert_close(profile[0].double().cpu(), expected, rtol=1e-6, atol=0, msg=(
        f"layer 0 should be the geometric mean of ovs.rank_one_residual over the 5 inputs, {expected.item():.6f}"))


@test_case(hidden=False)
def collapse_with_every_placement(rank_one_profile):
    for norm in ("none", "pre", "post"):
        profile = rank_one_profile(norm, depth=6, dim=16, tokens=8, batch=2)
        assert profile[0] > 0.5, f"norm={norm!r}: Gaussian inputs are far from rank one, got {profile[0].item():.3g} at layer 0"
        assert profile[-1] < 1e-8, (f"norm={norm!r}: pure attention (no skip connection) reaches rank one within 6 layers "
                                    f"with or without LayerNorm, got {profile[-1].item():.3g} at layer 6")


@test_case(hidden=True)
def the_mean_is_geometric_and_the_norm_is_used(rank_one_profile):
    profiles = {norm: rank_one_profile(norm, depth=2, dim=12, tokens=5, batch=7) for norm in ("none", "pre", "post")}
    torch.testing.assert_close(profiles["post"][0].double().cpu(), _input_layer(5, 12, 7), rtol=1e-6, atol=0,
                               msg="layer 0 is the geometric mean (exp of the mean log), not the arithmetic mean")
    assert not torch.equal(profiles["none"][1:], profiles["pre"][1:]), "norm='pre' should put a LayerNorm before attention"
    assert not torch.equal(profiles["none"][1:], profiles["post"][1:]), "norm='post' should put a LayerNorm after attention"
