"""Datasets for training the book's small models, all usable offline.

- :func:`load_digits_splits`: scikit-learn's bundled 8 x 8 digits, ``(N, 1, 8, 8)``.
- :func:`load_mnist1d_splits`: MNIST-1D signals generated locally, ``(N, 1, 1, 40)``.
- :func:`load_cifar_splits`: CIFAR-10/100 from their python-pickle files, ``(N, 3, 32, 32)``; downloads
  (urllib, MD5-checked) only when asked.
- :func:`corrupt`: CIFAR-10-C style Gaussian noise, Gaussian blur and contrast at severities 1..5.
- :func:`training_fraction`: a stratified, seeded, nested share of a training set.
- :func:`load_corpus`, :class:`CharVocabulary`, :func:`char_windows`, :func:`char_splits`: a shipped
  public-domain Shakespeare extract and next-character windows.
- :func:`load_sentences` (:func:`read_sentences` also counts the comment lines it skipped), :func:`digit_images`,
  :func:`load_images`: inputs for auditing real models (``oversmoothing audit``): shipped sentences, digit
  images, a folder of images.

Every loader returns :class:`DataSplits` (train and test :class:`ArrayDataset` plus class names and the
input shape); inputs and integer targets are plain tensors, so batches are ``data.inputs[index]``.
"""

from .audit_inputs import (
    IMAGE_SUFFIXES,
    SENTENCES_FILE,
    SentenceFile,
    digit_images,
    load_images,
    load_sentences,
    read_sentences,
)
from .cifar import CIFAR_RELEASES, download_cifar, load_cifar_splits
from .containers import ArrayDataset, DataSplits
from .corruptions import CORRUPTIONS, SEVERITY_CONSTANTS, corrupt, gaussian_blur
from .images import digits, load_digits_splits, load_mnist1d_splits
from .sampling import stratified_indices, training_fraction
from .text import CharVocabulary, TextSplits, char_splits, char_windows, load_corpus

DATASETS = ("digits", "mnist1d", "cifar10", "cifar100", "shakespeare")
"""Names of the datasets the package can load (the CLI's ``--data`` choices)."""

__all__ = [
    "CIFAR_RELEASES",
    "CORRUPTIONS",
    "DATASETS",
    "IMAGE_SUFFIXES",
    "SENTENCES_FILE",
    "SEVERITY_CONSTANTS",
    "ArrayDataset",
    "CharVocabulary",
    "DataSplits",
    "SentenceFile",
    "TextSplits",
    "char_splits",
    "char_windows",
    "corrupt",
    "digit_images",
    "digits",
    "download_cifar",
    "gaussian_blur",
    "load_cifar_splits",
    "load_corpus",
    "load_digits_splits",
    "load_images",
    "load_mnist1d_splits",
    "load_sentences",
    "read_sentences",
    "stratified_indices",
    "training_fraction",
]
