"""Checks of exercise ex-language-ngram: ``ngram_bits_per_char(train_ids, val_ids, vocab_size, order)``, the
validation bits per character of an add-one smoothed n-gram table, against a direct count in Python."""

import math
from collections import Counter

import torch
from otter.test_files import test_case

OK_FORMAT = False
name = "ex_language_ngram"
points = 3


def _reference(train, val, vocab, order):
    """Add-one smoothed n-gram bits per character, by counting tuples (small inputs only)."""
    train, val = train.tolist(), val.tolist()
    pairs = Counter(tuple(train[i : i + order]) for i in range(len(train) - order + 1))
    contexts = Counter()
    for gram, count in pairs.items():
        contexts[gram[:-1]] += count
    bits = [-math.log2((pairs[tuple(val[i : i + order])] + 1) / (contexts[tuple(val[i : i + order - 1])] + vocab))
            for i in range(len(val) - order + 1)]
    return sum(bits) / len(bits)


def _ids(length, vocab, seed):
    return torch.randint(0, vocab, (length,), generator=torch.Generator().manual_seed(seed))


@test_case(hidden=False)
def unigram_by_hand(ngram_bits_per_char):
    train, val = torch.tensor([0, 0, 0, 1]), torch.tensor([0, 1])
    value = float(ngram_bits_per_char(train, val, 2, 1))
    expected = -(math.log2(4 / 6) + math.log2(2 / 6)) / 2          # p(0) = (3 + 1)/(4 + 2), p(1) = (1 + 1)/(4 + 2)
    assert abs(value - expected) < 1e-9, f"unigram with counts (3, 1), add-one: {expected:.6f} bits, got {value}"


@test_case(hidden=False)
def bigram_and_trigram(ngram_bits_per_char):
    train, val = _ids(300, 5, seed=0), _ids(80, 5, seed=1)
    for order in (2, 3):
        value, expected = float(ngram_bits_per_char(train, val, 5, order)), _reference(train, val, 5, order)
        assert abs(value - expected) < 1e-9, f"order {order}: expected {expected:.6f} bits per character, got {value}"


@test_case(hidden=True)
def structured_text_and_unseen_pairs(ngram_bits_per_char):
    train = torch.arange(12) % 4                                  # 0 1 2 3 0 1 2 3 ...: a perfect bigram text
    val = torch.tensor([0, 1, 2, 3, 3, 0, 2])                     # with pairs never seen in training
    for order in (1, 2, 3):
        value, expected = float(ngram_bits_per_char(train, val, 6, order)), _reference(train, val, 6, order)
        assert abs(value - expected) < 1e-9, f"order {order}, vocabulary 6: expected {expected:.6f}, got {value}"
