"""Small image and signal classification sets made on the machine, never downloaded.

- :func:`load_digits_splits`: scikit-learn's 1,797 bundled 8 x 8 handwritten digits.
- :func:`load_mnist1d_splits`: MNIST-1D (Greydanus, 2020), length-40 signals generated locally by the
  ``mnist1d`` package's ``make_dataset`` (its ``get_dataset`` would try a download first; it is not used).
"""

from __future__ import annotations

import random

import numpy as np
import torch

from .._validation import check_int
from .containers import ArrayDataset, DataSplits
from .sampling import check_fraction, stratified_indices

DIGIT_CLASSES = tuple(str(digit) for digit in range(10))
"""Class names of both digit sets: ``"0"`` ... ``"9"``."""

MNIST1D_LENGTH = 40
"""Length of an MNIST-1D signal (the package's ``final_seq_length``)."""


def digits() -> tuple[torch.Tensor, torch.Tensor]:
    """All 1,797 of scikit-learn's 8 x 8 handwritten digits: images ``(N, 1, 8, 8)`` float32 grey levels in
    ``[0, 1]`` and labels ``(N,)`` int64 in ``0..9``."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = torch.from_numpy(bunch.images / 16.0).float().unsqueeze(1)  # values 0..16 -> [0, 1]
    return images, torch.from_numpy(bunch.target).long()


def load_digits_splits(test_fraction: float = 0.25, seed: int = 0) -> DataSplits:
    """scikit-learn's handwritten digits, split stratified and seeded into train and test.

    Args:
        test_fraction: share of each class held out for testing, in ``(0, 1)``.
        seed: seeds the split.

    Returns:
        ``DataSplits`` named ``"digits"``: inputs ``(N, 1, 8, 8)`` float32 grey levels in ``[0, 1]``,
        targets ``(N,)`` in ``0..9``; 1,797 examples in all.
    """
    test_fraction = check_fraction(test_fraction, "test_fraction", allow_one=False)
    images, labels = digits()
    test = torch.zeros(len(labels), dtype=torch.bool)
    test[stratified_indices(labels, test_fraction, check_int(seed, "seed", minimum=0))] = True
    return DataSplits("digits", ArrayDataset(images[~test], labels[~test]), ArrayDataset(images[test], labels[test]),
                      num_classes=10, input_shape=(1, 8, 8), classes=DIGIT_CLASSES)


def load_mnist1d_splits(seed: int = 0, num_samples: int = 5000) -> DataSplits:
    """MNIST-1D generated locally: 10 digit templates, padded, scaled, translated, noised and sheared.

    Calls ``mnist1d.data.make_dataset`` with the package's default arguments except ``seed`` and
    ``num_samples`` (the package's own default seed is 42); it splits 80 % / 20 % into train and test
    after shuffling. The signals are standardised over the whole set (mean 0, standard deviation 1),
    so they are *not* in ``[0, 1]``. NumPy's and Python's global random states, which the generator
    reseeds, are restored afterwards.

    Args:
        seed: seeds the generator.
        num_samples: total number of signals, a multiple of 10 (an equal number per digit), at least 50.

    Returns:
        ``DataSplits`` named ``"mnist1d"``: inputs ``(N, 1, 1, 40)`` float32 (one channel, height one, so
        that a vision model with patch ``(1, p)`` reads them), targets ``(N,)`` in ``0..9``.

    Raises:
        ImportError: the ``mnist1d`` package is not installed (``pip install oversmoothing[train]``).
    """
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("MNIST-1D needs the mnist1d package: pip install 'oversmoothing[train]'") from error
    if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples < 50 or num_samples % 10:
        raise ValueError(f"num_samples must be a multiple of 10 and at least 50, got {num_samples!r}")
    args = get_dataset_args()
    args.seed, args.num_samples = check_int(seed, "seed", minimum=0), num_samples
    numpy_state, python_state = np.random.get_state(), random.getstate()
    try:
        data = make_dataset(args)
    finally:
        np.random.set_state(numpy_state)
        random.setstate(python_state)

    def part(signals: np.ndarray, labels: np.ndarray) -> ArrayDataset:
        return ArrayDataset(torch.from_numpy(signals).float().reshape(-1, 1, 1, MNIST1D_LENGTH),
                            torch.from_numpy(labels).long())

    return DataSplits("mnist1d", part(data["x"], data["y"]), part(data["x_test"], data["y_test"]), num_classes=10,
                      input_shape=(1, 1, MNIST1D_LENGTH), classes=DIGIT_CLASSES)
