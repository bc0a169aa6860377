"""Checks of exercise ex-controlling-flip-gains: ``flip_attention_gains(model)`` negates, in place, the gain of
the pre-LN in front of every attention branch of a ``VisionTransformer`` and nothing else, which negates the
spectrum of diag(gamma) H."""

import torch
from otter.test_files import test_case

import oversmoothing as ovs

OK_FORMAT = False
name = "ex_controlling_flip_gains"
points = 2


def _model(depth, seed):
    ovs.seed_everything(seed)
    config = ovs.TransformerConfig(dim=16, depth=depth, heads=2, value_map="sharpen")
    return ovs.VisionTransformer(config, image_size=8, patch_size=2)


@test_case(hidden=False)
def only_the_attention_gains_change_sign(flip_attention_gains):
    model = _model(depth=2, seed=0)
    with torch.no_grad():
        for block in model.encoder.blocks:                              # gains that are not all one
            block.ln1.weight.uniform_(0.5, 1.5)
    before = {key: value.clone() for key, value in model.state_dict().items()}
    flip_attention_gains(model)
    for key, value in model.state_dict().items():
        expected = -before[key] if key.endswith("ln1.weight") else before[key]
        what = "negated" if key.endswith("ln1.weight") else "unchanged"
        torch.testing.assert_close(value, expected, msg=lambda m: f"{key} should be {what}: {m}")


@test_case(hidden=True)
def the_spectrum_of_the_branch_is_negated(flip_attention_gains):
    model = _model(depth=3, seed=1)
    with torch.no_grad():
        before = torch.linalg.eigvalsh(ovs.value_output_maps(model, include_norm_gain=True).double())
        flip_attention_gains(model)
        after = torch.linalg.eigvalsh(ovs.value_output_maps(model, include_norm_gain=True).double())
    torch.testing.assert_close(after, (-before).flip(-1),
                               msg=lambda m: f"the spectrum of diag(gamma) H of every layer should be negated: {m}")
    assert bool((after > 0).all()), "after the flip every eigenvalue of the sharpening model is positive"
