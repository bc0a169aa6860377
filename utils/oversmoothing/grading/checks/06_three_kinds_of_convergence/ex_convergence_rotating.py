"""Checks of exercise ex-convergence-rotating: ``rotating_rank_one(depth)``, the hidden states (depth + 1, batch,
5, 3) of X -> X + A X H with A = circulant_attention(5, 0.95) and a real H with spectrum {-0.9, -0.4, 0.2}: rank
one with |cos| -> 1, yet every pair of tokens keeps flipping sign, and the mean cosine stays at -1/5."""

import torch
from otter.test_files import test_case

import oversmoothing as ovs

OK_FORMAT = False
name = "ex_convergence_rotating"
points = 3


def _states(rotating_rank_one, depth):
    states = torch.as_tensor(rotating_rank_one(depth))
    assert states.ndim == 4 and states.shape[0] == depth + 1 and states.shape[2:] == (5, 3), (
        f"depth = {depth}: expected hidden states of shape ({depth + 1}, batch, 5, 3), got {tuple(states.shape)}")
    return states.to(torch.float64)


@test_case(hidden=False)
def rank_one_with_cosines_plus_or_minus_one(rotating_rank_one):
    late = _states(rotating_rank_one, 300)[-40:]
    ratio = float(ovs.singular_value_ratio(late).max())
    assert ratio < 1e-6, f"expected sigma_2/sigma_1 -> 0 (below 1e-6 over the last 40 layers), got {ratio:.2e}"
    off = float((ovs.cosine_similarity_matrix(late).abs() - 1).abs().max())
    assert off < 1e-6, f"expected |cos| -> 1 for every pair (off by less than 1e-6), got off by {off:.2e}"


@test_case(hidden=True)
def the_layer_of_the_exercise(rotating_rank_one):
    states = _states(rotating_rank_one, 30)
    attention = ovs.generators.circulant_attention(5, next_weight=0.95)
    # H from the first layer by least squares (X_1 - X_0 = A X_0 H), then every layer must follow it.
    mixed = (attention @ states[:-1]).reshape(-1, 3)
    value_output = torch.linalg.lstsq((attention @ states[0]).reshape(-1, 3), (states[1] - states[0]).reshape(-1, 3)).solution
    residual = float(((states[1:] - states[:-1]).reshape(-1, 3) - mixed @ value_output).abs().max())
    assert residual < 1e-8 * float(states.abs().max()), (
        f"expected X_(l+1) = X_l + A X_l H with A = circulant_attention(5, 0.95) at every layer, off by {residual:.2e}")
    eigenvalues = torch.linalg.eigvals(value_output)
    got = sorted(eigenvalues.real.tolist())
    assert eigenvalues.imag.abs().max() < 1e-6 and max(abs(g - e) for g, e in zip(got, [-0.9, -0.4, 0.2])) < 1e-6, (
        f"expected H with the real spectrum (-0.9, -0.4, 0.2), got {eigenvalues.numpy().round(4).tolist()}")


@test_case(hidden=True)
def every_pair_flips_and_the_mean_cosine_stands_still(rotating_rank_one):
    late = _states(rotating_rank_one, 300)[-40:]
    cosines = ovs.cosine_similarity_matrix(late)
    both_signs = (cosines > 0).any(dim=0) & (cosines < 0).any(dim=0)
    assert bool(both_signs[:, ~torch.eye(5, dtype=torch.bool)].all()), (
        "expected every pair of tokens to switch between parallel and antiparallel over the last 40 layers")
    mean = ovs.mean_cosine_similarity(late)
    assert float((mean + 0.2).abs().max()) < 1e-6, (
        f"expected the mean cosine -1/5 at every late layer, got values from {float(mean.min()):.4f} to {float(mean.max()):.4f}")
