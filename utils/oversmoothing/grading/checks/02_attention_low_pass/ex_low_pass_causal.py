"""Checks of exercise ex-low-pass-causal: ``causal_rate_check(attention, tokens, depth=200)``, the predicted
(max_{k >= 2} A_kk) and measured HC/DC decay rates of A^t X for a batch of causal attention matrices."""

import torch
from otter.test_files import test_case

OK_FORMAT = False
name = "ex_low_pass_causal"
points = 3


def _causal(diagonals, seed):
    """Causal row-stochastic matrices with the given diagonals, shape (batch, n, n): row k puts A_kk on
    itself and spreads 1 - A_kk over the tokens before it (the first row is e_1)."""
    diagonals = torch.as_tensor(diagonals, dtype=torch.float64)
    batch, n = diagonals.shape
    weights = torch.rand(batch, n, n, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) + 0.1
    weights = weights.tril(-1)
    weights = weights / weights.sum(-1, keepdim=True).clamp_min(1e-300) * (1 - diagonals)[..., None]
    weights[:, 0, :] = 0
    return weights + torch.diag_embed(torch.cat([torch.ones(batch, 1, dtype=torch.float64), diagonals[:, 1:]], dim=1))


def _tokens(batch, n, seed):
    return torch.randn(batch, n, 3, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


DIAGONALS = [[1.0, 0.5, 0.8, 0.6, 0.4, 0.7], [1.0, 0.9, 0.3, 0.5, 0.6, 0.2], [1.0, 0.4, 0.5, 0.6, 0.7, 0.75]]


@test_case(hidden=False)
def predicted_and_measured(causal_rate_check):
    attention = _causal(DIAGONALS, 0)
    predicted, measured = causal_rate_check(attention, _tokens(3, 6, 1))
    expected = torch.tensor([0.8, 0.9, 0.75], dtype=torch.float64)
    torch.testing.assert_close(torch.as_tensor(predicted, dtype=torch.float64), expected,
                               msg=f"expected the predicted rates max_(k >= 2) A_kk = {expected.tolist()}")
    measured = torch.as_tensor(measured, dtype=torch.float64)
    assert bool(((measured / expected - 1).abs() < 0.05).all()), (
        f"the measured rates {measured.tolist()} should match the predicted {expected.tolist()} within 5%")


@test_case(hidden=True)
def first_token_dominates_nothing(causal_rate_check):
    attention = _causal([[1.0, 0.95, 0.2, 0.3, 0.1]], 2)
    predicted, _ = causal_rate_check(attention, _tokens(1, 5, 3), depth=120)
    assert abs(float(torch.as_tensor(predicted).reshape(-1)[0]) - 0.95) < 1e-12, (
        f"expected the predicted rate 0.95 (the first token, with A_11 = 1, is left out), got {predicted}")


@test_case(hidden=True)
def measured_when_the_first_token_is_zero(causal_rate_check):
    attention = _causal(DIAGONALS, 4)
    tokens = _tokens(3, 6, 5)
    tokens[:, 0] = 0                     # no limit to converge to: the ratio settles, it does not decay
    _, measured = causal_rate_check(attention, tokens)
    measured = torch.as_tensor(measured, dtype=torch.float64)
    assert bool(((measured - 1).abs() < 0.03).all()), (
        f"with a zero first token the HC/DC ratio does not decay: expected measured rates near 1, "
        f"got {measured.tolist()}")
