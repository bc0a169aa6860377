"""Checks of exercise ex-convergence-causal-ascent: ``antiparallel_pair(attention)``, the pair (k - 1, k) for the
first k with A_kk > A_(k-1)(k-1) (part 3 of prop-causal-angle), or None for a strictly decreasing diagonal."""

import torch
from otter.test_files import test_case

import oversmoothing as ovs

OK_FORMAT = False
name = "ex_convergence_causal_ascent"
points = 3


def _causal(diagonal):
    """A causal row-stochastic matrix with the given diagonal, the rest of each row spread evenly to the left."""
    diagonal = torch.tensor(diagonal, dtype=torch.float64)
    n = len(diagonal)
    below = torch.ones(n, n, dtype=torch.float64).tril(-1)
    spread = below * ((1 - diagonal) / below.sum(-1).clamp_min(1))[:, None]
    return spread + torch.diag(diagonal)


def _first_rise(attention):
    diagonal = attention.diagonal().tolist()
    return next(((k - 1, k) for k in range(1, len(diagonal)) if diagonal[k] > diagonal[k - 1]), None)


def _expect(antiparallel_pair, attention):
    got = antiparallel_pair(attention)
    got = None if got is None else tuple(int(index) for index in got)
    expected = _first_rise(attention)
    assert got == expected, (f"diagonal {attention.diagonal().numpy().round(3).tolist()}: expected {expected} "
                             f"(the first k with A_kk > A_(k-1)(k-1), tokens k - 1 and k), got {got}")


@test_case(hidden=False)
def one_rise_and_none(antiparallel_pair):
    _expect(antiparallel_pair, _causal([1.0, 0.6, 0.3, 0.5, 0.2]))
    _expect(antiparallel_pair, _causal([1.0, 0.7, 0.5, 0.3, 0.1]))


@test_case(hidden=True)
def two_rises_and_random_draws(antiparallel_pair):
    _expect(antiparallel_pair, _causal([1.0, 0.4, 0.6, 0.2, 0.3]))
    _expect(antiparallel_pair, _causal([1.0, 0.2, 0.5]))
    generator = torch.Generator().manual_seed(0)
    for attention in ovs.generators.causal_attention(6, key_dim=4, temperature=3.0, batch=(20,), generator=generator):
        _expect(antiparallel_pair, attention)


@test_case(hidden=True)
def the_pair_ends_antiparallel_in_a_simulation(antiparallel_pair):
    attention = _causal([1.0, 0.4, 0.6, 0.2, 0.3])
    i, j = antiparallel_pair(attention)
    value_output = torch.diag(torch.tensor([-0.8, -0.3], dtype=torch.float64))
    inputs = torch.randn(16, 5, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    final = ovs.LinearAttentionStack(attention, value_output, 300).forward_intermediates(inputs).hidden_states[-1]
    cosines = ovs.cosine_similarity_matrix(final)[:, int(i), int(j)]
    assert float(cosines.max()) < -1 + 1e-4, (
        f"expected cos(x_{i}, x_{j}) -> -1 after 300 layers for every input, got up to {float(cosines.max()):.4f}")
