"""Checks of exercise ex-which-mixed-fraction: ``part_one_covers(attention, value_eigenvalues)``, whether part 1 of
prop-positive-spectrum applies: the largest real eigenvalue of H exceeds |lambda^A|_2 (the largest modulus of a
non-Perron eigenvalue of A) times the spectral radius of H."""

import torch
from otter.test_files import test_case

from oversmoothing import generators, spectrum

OK_FORMAT = False
name = "ex_which_mixed_fraction"
points = 3


def _mixed(samples, seed):
    generator = torch.Generator().manual_seed(seed)
    attention = generators.softmax_attention(8, batch=(samples,), generator=generator)
    values = 2 * torch.rand(samples, 6, generator=generator, dtype=torch.float64) - 1.5   # mostly negative
    return attention, values


def _expected(attention, values):
    lambda_a = torch.linalg.eigvals(attention)
    perron = torch.nn.functional.one_hot(spectrum.perron_index(lambda_a), lambda_a.shape[-1]).bool()
    second = lambda_a.abs().masked_fill(perron, 0).amax(-1)
    return values.amax(-1) > second * values.abs().amax(-1)


def _compare(part_one_covers, attention, values):
    got = part_one_covers(attention, values)
    expected = _expected(attention, values)
    assert isinstance(got, torch.Tensor) and got.shape == expected.shape, (
        f"expected a bool tensor of shape {tuple(expected.shape)}, got {got!r}")
    wrong = (got.bool() != expected).flatten()
    assert not wrong.any(), (f"expected {expected.flatten()[wrong][:3].tolist()} for the eigenvalues of H "
                             f"{values.reshape(-1, values.shape[-1])[wrong][:3].tolist()} (lambda^H_max > "
                             f"|lambda^A|_2 |lambda^H|_max, with the largest real eigenvalue, not the largest modulus)")


@test_case(hidden=False)
def a_batch_of_softmax_attention(part_one_covers):
    _compare(part_one_covers, *_mixed(200, seed=0))


@test_case(hidden=True)
def two_tokens_with_known_spectrum(part_one_covers):
    attention = torch.tensor([[0.8, 0.2], [0.3, 0.7]], dtype=torch.float64).expand(2, 3, 2, 2)   # kappa = 0.5
    values = torch.tensor([[[-0.9, 0.5], [-0.9, 0.4], [-0.3, -0.6]],
                           [[0.2, 0.3], [-1.0, 0.51], [1.0, -1.0]]], dtype=torch.float64)
    expected = torch.tensor([[True, False, False], [True, True, True]])
    got = part_one_covers(attention, values)
    assert got.shape == (2, 3) and got.tolist() == expected.tolist(), (
        f"second eigenvalue of A 0.5: expected {expected.tolist()} for the spectra {values.tolist()}, got {got.tolist()}")


@test_case(hidden=True)
def never_covers_a_sharpening_sample(part_one_covers):
    attention, values = _mixed(300, seed=1)
    _compare(part_one_covers, attention, values)
    regime = spectrum.dominant_mode(attention, torch.diag_embed(values)).regime
    covered = part_one_covers(attention, values).numpy()
    assert (regime[covered] == "smoothing").all(), "part 1 is a sufficient condition: covered samples must smooth"
