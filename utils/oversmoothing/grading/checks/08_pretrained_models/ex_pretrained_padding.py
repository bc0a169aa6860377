"""Checks of exercise ex-pretrained-padding: ``real_token_cosine(hidden, mask)``, the mean cosine per layer over the
real tokens of each sentence of a padded batch, averaged over the sentences."""

import torch
from otter.test_files import test_case

OK_FORMAT = False
name = "ex_pretrained_padding"
points = 3


def _mean_cosine(tokens):
    """Mean cosine over the ordered pairs of distinct rows of tokens (n, d), from the n x n cosine matrix."""
    unit = tokens / tokens.norm(dim=-1, keepdim=True)
    cosines = unit @ unit.T
    n = len(tokens)
    return (cosines.sum() - cosines.diagonal().sum()) / (n * (n - 1))


def _expected(hidden, mask):
    return torch.tensor([sum(_mean_cosine(hidden[layer, b][mask[b]]) for b in range(len(mask))) / len(mask)
                         for layer in range(len(hidden))], dtype=torch.float64)


def _batch(seed, lengths, n=7, left=False):
    """Hidden states (3 layers, len(lengths), n, 5) with a common offset, and the padding mask; the padding
    positions hold one shared vector, as near-identical padding states do."""
    generator = torch.Generator().manual_seed(seed)
    hidden = torch.randn(3, len(lengths), n, 5, generator=generator, dtype=torch.float64) + 0.3
    positions = torch.arange(n)
    mask = torch.stack([(positions >= n - length) if left else (positions < length) for length in lengths])
    hidden[:, ~mask] = torch.randn(5, generator=generator, dtype=torch.float64)
    return hidden, mask


def _check(real_token_cosine, hidden, mask):
    value = torch.as_tensor(real_token_cosine(hidden, mask))
    assert value.shape == (len(hidden),), f"one value per layer, shape ({len(hidden)},), got {tuple(value.shape)}"
    expected = _expected(hidden, mask)
    assert torch.allclose(value.double(), expected, atol=1e-9), f"expected {expected.tolist()}, got {value.tolist()}"


@test_case(hidden=False)
def padding_at_the_end(real_token_cosine):
    _check(real_token_cosine, *_batch(0, lengths=[7, 4, 3, 5]))


@test_case(hidden=True)
def padding_at_the_start(real_token_cosine):
    _check(real_token_cosine, *_batch(1, lengths=[2, 7, 5], left=True))


@test_case(hidden=True)
def sentences_count_equally(real_token_cosine):
    _check(real_token_cosine, *_batch(2, lengths=[7, 2], n=7))   # a long and a short sentence, weighted alike
