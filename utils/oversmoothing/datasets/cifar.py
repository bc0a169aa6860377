"""CIFAR-10 and CIFAR-100 read from their python-pickle release, without torchvision.

The "python version" archives of https://www.cs.toronto.edu/~kriz/cifar.html extract to

- ``cifar-10-batches-py/``: ``data_batch_1`` ... ``data_batch_5``, ``test_batch`` and ``batches.meta``;
- ``cifar-100-python/``: ``train``, ``test`` and ``meta``.

Each batch is a pickled dict (written by Python 2, so its keys are bytes) with ``data``, a uint8 array
``(N, 3072)`` whose rows hold the 1,024 red, then green, then blue values of a 32 x 32 image in row-major
order, and ``labels`` (CIFAR-10) or ``fine_labels`` (CIFAR-100). The meta file names the classes. Only
NumPy arrays and plain Python values are unpickled; any other object in a file raises an error.
Nothing is downloaded unless ``download=True``.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .._validation import check_choice
from .containers import ArrayDataset, DataSplits

CIFAR_IMAGE_SHAPE = (3, 32, 32)
"""Shape of one CIFAR image: channels, height, width."""


@dataclass(frozen=True)
class CifarRelease:
    """Where one CIFAR release lives and how its files name things."""

    folder: str
    train_files: tuple[str, ...]
    test_files: tuple[str, ...]
    meta_file: str
    label_key: str
    names_key: str
    num_classes: int
    url: str
    md5: str


CIFAR_RELEASES = {
    "cifar10": CifarRelease("cifar-10-batches-py", tuple(f"data_batch_{i}" for i in range(1, 6)), ("test_batch",),
                            "batches.meta", "labels", "label_names", 10,
                            "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
                            "c58f30108f718f92721af3b95e74349a"),
    "cifar100": CifarRelease("cifar-100-python", ("train",), ("test",), "meta", "fine_labels", "fine_label_names", 100,
                             "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
                             "eb9058c3a382ffc7106e4002c42a8d85"),
}
"""The two releases read by :func:`load_cifar_splits`, keyed by name."""


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles plain Python values and NumPy arrays only (no arbitrary code from a downloaded file).

    ``_codecs.encode`` is how Python 3 writes bytes at pickle protocol 2 (a file re-saved by Python 3).
    """

    _ALLOWED = {"_reconstruct", "_frombuffer", "ndarray", "dtype", "scalar"}

    def find_class(self, module: str, name: str) -> object:
        if (module, name) == ("_codecs", "encode"):
            return super().find_class(module, name)
        if module.split(".")[0] == "numpy" and name in self._ALLOWED:
            if module.startswith("numpy.core") and hasattr(np, "_core"):  # NumPy 2 renamed numpy.core
                module = "numpy._core" + module[len("numpy.core"):]
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"CIFAR files hold only NumPy arrays; refusing to load {module}.{name}")


def _read_pickle(path: Path) -> dict[str, object]:
    """A CIFAR pickle as a dict with str keys (the files' keys are bytes)."""
    if not path.is_file():
        raise FileNotFoundError(f"CIFAR file {os.fspath(path)!r} does not exist; pass download=True to fetch the "
                                "archive, or point root at the folder that holds the extracted release")
    with path.open("rb") as handle:
        content = _ArrayUnpickler(handle, encoding="bytes").load()
    if not isinstance(content, dict):
        raise ValueError(f"{os.fspath(path)!r} is not a CIFAR file (a pickled dict)")
    return {key.decode() if isinstance(key, bytes) else key: value for key, value in content.items()}


def _read_batches(folder: Path, files: tuple[str, ...], release: CifarRelease) -> ArrayDataset:
    """Images ``(N, 3, 32, 32)`` float32 in ``[0, 1]`` and labels ``(N,)`` of the given batch files."""
    images, labels = [], []
    for file in files:
        batch = _read_pickle(folder / file)
        if "data" not in batch or release.label_key not in batch:
            raise ValueError(f"{os.fspath(folder / file)!r} lacks 'data' or {release.label_key!r}")
        data = np.asarray(batch["data"])
        if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != int(np.prod(CIFAR_IMAGE_SHAPE)):
            raise ValueError(f"{os.fspath(folder / file)!r}: data must be uint8 of shape (N, 3072), "
                             f"got {data.dtype} {data.shape}")
        images.append(data.reshape(-1, *CIFAR_IMAGE_SHAPE))  # each row: 1024 red, 1024 green, 1024 blue, row-major
        labels.append(np.asarray(batch[release.label_key], dtype=np.int64))
    inputs = torch.from_numpy(np.concatenate(images)).float().div_(255.0)
    return ArrayDataset(inputs, torch.from_numpy(np.concatenate(labels)))


def _fetch(url: str, destination: Path, md5: str) -> None:
    """Download ``url`` to ``destination`` if it is not there with the right MD5 digest; check the digest."""
    if destination.is_file() and _md5(destination) == md5:
        return
    partial = destination.with_name(destination.name + ".part")
    digest = hashlib.md5()
    with urllib.request.urlopen(url, timeout=60) as response, partial.open("wb") as out:  # noqa: S310 (https or file)
        while chunk := response.read(1 << 20):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != md5:
        partial.unlink()
        raise ValueError(f"{url} has MD5 {digest.hexdigest()}, expected {md5}; the download is corrupt or not the "
                         "CIFAR release")
    partial.replace(destination)


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def download_cifar(root: str | os.PathLike, name: str = "cifar10", url: str | None = None,
                   md5: str | None = None) -> Path:
    """Fetch a CIFAR archive with ``urllib`` (MD5-checked) and extract it under ``root``.

    Does nothing when the extracted folder already holds every file.

    Args:
        root: folder for the archive and the extracted release (created if missing).
        name: ``"cifar10"`` or ``"cifar100"``.
        url, md5: the archive and its digest; the official ones by default (a mirror of the same file
            keeps the default ``md5``).

    Returns:
        The extracted folder, e.g. ``root/cifar-10-batches-py``.

    Raises:
        ValueError: the downloaded file's MD5 digest differs from ``md5`` (the file is deleted).
        urllib.error.URLError: the archive cannot be reached.
    """
    release = CIFAR_RELEASES[check_choice(name, "name", CIFAR_RELEASES)]
    root = Path(root).expanduser()
    folder = root / release.folder
    if all((folder / file).is_file() for file in (*release.train_files, *release.test_files, release.meta_file)):
        return folder
    root.mkdir(parents=True, exist_ok=True)
    archive = root / Path(release.url).name
    _fetch(url or release.url, archive, md5 or release.md5)
    with tarfile.open(archive, "r:gz") as tar:
        tar.extractall(root, filter="data")
    return folder


def load_cifar_splits(root: str | os.PathLike, name: str = "cifar10", download: bool = False) -> DataSplits:
    """CIFAR-10 or CIFAR-100 (fine labels) from the python-pickle release under ``root``.

    Args:
        root: the folder that holds ``cifar-10-batches-py/`` or ``cifar-100-python/``.
        name: ``"cifar10"`` or ``"cifar100"``.
        download: fetch and extract the official archive first when the files are missing
            (see :func:`download_cifar`); otherwise nothing touches the network.

    Returns:
        ``DataSplits`` named ``name``: inputs ``(N, 3, 32, 32)`` float32 in ``[0, 1]`` (50,000 train and
        10,000 test images, about 740 MB together), targets ``(N,)``, class names from the meta file.

    Raises:
        FileNotFoundError: a file is missing and ``download`` is false.
        ValueError: unknown ``name``, or a file is not in CIFAR's format.
    """
    release = CIFAR_RELEASES[check_choice(name, "name", CIFAR_RELEASES)]
    folder = download_cifar(root, name) if download else Path(root).expanduser() / release.folder
    names = _read_pickle(folder / release.meta_file).get(release.names_key)
    if not isinstance(names, list) or len(names) != release.num_classes:
        raise ValueError(f"{os.fspath(folder / release.meta_file)!r} must list {release.num_classes} class names "
                         f"under {release.names_key!r}")
    classes = tuple(label.decode() if isinstance(label, bytes) else str(label) for label in names)
    return DataSplits(name, _read_batches(folder, release.train_files, release),
                      _read_batches(folder, release.test_files, release), num_classes=release.num_classes,
                      input_shape=CIFAR_IMAGE_SHAPE, classes=classes)
