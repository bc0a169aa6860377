"""Checks of exercise ex-layer-norm-threshold: ``final_cosine_and_prediction(stack, inputs, negative, seed)``, the
final mean cosine of a pre-LN stack with ``negative`` of its gains set to -1 (chosen by ``seed``) and the share of
(layer, input) pairs for which the frozen theory, with H_eff = diag(gain) H, predicts smoothing."""

import itertools
import math

import torch
from otter.test_files import test_case

import oversmoothing as ovs

OK_FORMAT = False
name = "ex_layer_norm_threshold"
points = 3

DIM, DEPTH = 4, 6


def _weights():
    generator = torch.Generator().manual_seed(5)
    W_Q, W_K = (torch.randn(DIM, DIM, generator=generator, dtype=torch.float64) / 2 for _ in range(2))
    H = ovs.generators.value_output_from_spectrum(0.1 + 0.8 * torch.rand(DIM, generator=generator, dtype=torch.float64),
                                                  symmetric=True, generator=generator)    # spectrum in (0, 1)
    inputs = torch.randn(3, 5, DIM, generator=generator, dtype=torch.float64)
    return W_Q, W_K, H, inputs


def _expected(W_Q, W_K, H, inputs, gains):
    """(final mean cosines, shares predicted smoothing), each of shape (choices,), of the pre-LN stacks with the
    gains (choices, d), by the recurrence X <- X + softmax(LN(X) W_Q (LN(X) W_K)^T / sqrt(d)) LN(X) H written here."""
    x = inputs.expand(len(gains), *inputs.shape)                              # (choices, batch, n, d)
    maps = []
    for _ in range(DEPTH):
        normed = torch.nn.functional.layer_norm(x, (DIM,), eps=1e-5) * gains[:, None, None, :]
        attention = ((normed @ W_Q) @ (normed @ W_K).transpose(-1, -2) / DIM**0.5).softmax(dim=-1)
        x = x + attention @ normed @ H
        maps.append(attention)
    smoothing = ovs.spectrum.dominant_mode(torch.stack(maps), gains[:, None, :, None] * H).regime_code == 0
    return ovs.mean_cosine_similarity(x).mean(dim=-1), smoothing.double().mean(dim=(0, 2))


def _answer(final_cosine_and_prediction, H, negative, seed):
    W_Q, W_K, _, inputs = _weights()
    stack = ovs.models.RecomputedAttentionStack(W_Q, W_K, H, DEPTH)
    result = final_cosine_and_prediction(stack, inputs, negative, seed)
    assert len(result) == 2, f"the function returns two numbers (final mean cosine, share), got {result!r}"
    return float(result[0]), float(result[1])


def _choices(negative):
    """Every gain vector with ``negative`` entries -1 and the others +1, shape (choices, d)."""
    gains = torch.ones(math.comb(DIM, negative), DIM, dtype=torch.float64)
    for row, flipped in enumerate(itertools.combinations(range(DIM), negative)):
        gains[row, list(flipped)] = -1
    return gains


@test_case(hidden=False)
def no_gain_negative(final_cosine_and_prediction):
    W_Q, W_K, H, inputs = _weights()
    cosine, share = _answer(final_cosine_and_prediction, H, 0, seed=0)
    assert share == 1.0, f"with no negative gain H_eff = H is positive definite: share 1 predicted smoothing, got {share}"
    expected = float(_expected(W_Q, W_K, H, inputs, _choices(0))[0])
    assert abs(cosine - expected) < 1e-9, f"final mean cosine with all gains +1: expected {expected:.6f}, got {cosine:.6f}"


@test_case(hidden=False)
def all_gains_negative_is_the_negated_stack(final_cosine_and_prediction):
    W_Q, W_K, H, inputs = _weights()
    cosine, share = _answer(final_cosine_and_prediction, H, DIM, seed=0)
    assert share == 0.0, f"with all gains -1 the spectrum of H_eff = -H lies in [-1, 0): share 0, got {share}"
    expected = float(_expected(W_Q, W_K, -H, inputs, _choices(0))[0])
    assert abs(cosine - expected) < 1e-9, (f"all gains -1 give exactly the -H stack with gains +1, final mean cosine "
                                           f"{expected:.6f}; got {cosine:.6f}")


@test_case(hidden=True)
def some_gains_negative(final_cosine_and_prediction):
    W_Q, W_K, H, inputs = _weights()
    for negative, seed in [(1, 0), (2, 3), (3, 1)]:
        cosine, share = _answer(final_cosine_and_prediction, H, negative, seed)
        assert (cosine, share) == _answer(final_cosine_and_prediction, H, negative, seed), f"seed {seed} must fix the gains"
        cosines, shares = _expected(W_Q, W_K, H, inputs, _choices(negative))
        assert bool((((cosines - cosine).abs() < 1e-9) & (shares == share)).any()), (
            f"with {negative} of {DIM} gains -1 the result must be that of one choice of {negative} gains, one of "
            f"{[(round(c, 4), s) for c, s in zip(cosines.tolist(), shares.tolist())]}; got {(cosine, share)}")
