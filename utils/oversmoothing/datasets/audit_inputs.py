"""Small input sets for auditing real models offline: English sentences (shipped) and digit images.

- :func:`load_sentences`: 354 varied English sentences written for the project from templates (public
  domain, CC0), in ``sentences.txt`` in this package; or the lines of any text file. Blank lines and lines
  starting with ``#`` (comments) are skipped; :func:`read_sentences` also says how many comments it skipped.
  A line longer than a model's limit (512 tokens for BERT-like models) is cut to it when it is encoded
  (:meth:`oversmoothing.adapters.PretrainedTransformer.encode_texts`); ``oversmoothing audit`` reports how many.
- :func:`digit_images`: the 8 x 8 handwritten digits bundled with scikit-learn, scaled to ``[0, 1]``;
  :func:`oversmoothing.adapters.prepare_images` resizes them to a vision model's input size.
- :func:`load_images`: the PNG/JPEG/BMP/GIF images of a folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from .._validation import check_int
from .images import digits

__all__ = ["IMAGE_SUFFIXES", "SENTENCES_FILE", "SentenceFile", "digit_images", "load_images", "load_sentences",
           "read_sentences"]

SENTENCES_FILE = "sentences.txt"
"""Name of the shipped sentence file inside this package."""

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
"""Files :func:`load_images` reads."""


@dataclass(frozen=True)
class SentenceFile:
    """The sentences of a text file, and what was left out of them.

    Attributes:
        sentences: the non-blank lines that do not start with ``#``, stripped, in file order.
        comments: how many lines were skipped because they start with ``#`` (after leading spaces).
        origin: the file's path, or a phrase naming the shipped sentence file.
    """

    sentences: list[str]
    comments: int
    origin: str


def read_sentences(path: str | os.PathLike | None = None) -> SentenceFile:
    """The sentences of a UTF-8 text file, one per line, with the count of lines skipped as comments.

    Blank lines are skipped, and so are lines starting with ``#`` (comments, counted in
    :attr:`SentenceFile.comments`). Lines are not cut here: a line longer than a model's limit is cut to it
    when the model encodes it (:meth:`~oversmoothing.adapters.PretrainedTransformer.encode_texts`).

    Args:
        path: a UTF-8 text file; the shipped sentence set when ``None``.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        UnicodeDecodeError: the file is not UTF-8.
        ValueError: the file has no sentence.
    """
    if path is None:
        text = resources.files(__package__).joinpath(SENTENCES_FILE).read_text(encoding="utf-8")
        origin = f"the package's {SENTENCES_FILE}"
    else:
        file = Path(path).expanduser()
        if not file.is_file():
            raise FileNotFoundError(f"text file {os.fspath(path)!r} does not exist")
        text = file.read_text(encoding="utf-8")
        origin = os.fspath(path)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    sentences = [line for line in lines if not line.startswith("#")]
    if not sentences:
        raise ValueError(f"{origin} holds no sentence (one per line; '#' starts a comment)")
    return SentenceFile(sentences, comments=len(lines) - len(sentences), origin=origin)


def load_sentences(path: str | os.PathLike | None = None, limit: int | None = None) -> list[str]:
    """Sentences, one per line: :func:`read_sentences` (blank lines and lines starting with ``#`` are
    skipped), at most ``limit`` of them.

    Args:
        path: a UTF-8 text file; the shipped sentence set when ``None``.
        limit: keep only the first ``limit`` sentences.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the file has no sentence, or ``limit`` is not a positive int.
    """
    if limit is not None:
        check_int(limit, "limit", minimum=1)
    sentences = read_sentences(path).sentences
    return sentences[:limit] if limit is not None else sentences


def digit_images(count: int = 64, seed: int = 0) -> torch.Tensor:
    """``count`` of scikit-learn's 8 x 8 digit images (a seeded random choice), grey levels in ``[0, 1]``.

    Returns:
        Shape ``(count, 1, 8, 8)``, float32.
    """
    images, _ = digits()
    check_int(count, "count", minimum=1, maximum=len(images))
    chosen = np.random.default_rng(seed).choice(len(images), size=count, replace=False)
    return images[torch.from_numpy(np.sort(chosen))]


def load_images(folder: str | os.PathLike, limit: int | None = None, size: int = 224) -> torch.Tensor:
    """The images of a folder (sorted by name), as RGB in ``[0, 1]``, resized to ``size x size``.

    Returns:
        Shape ``(count, 3, size, size)``, float32.

    Raises:
        FileNotFoundError: the folder does not exist.
        ValueError: it holds no image.
    """
    from PIL import Image

    directory = Path(folder).expanduser()
    if not directory.is_dir():
        raise FileNotFoundError(f"image folder {os.fspath(folder)!r} does not exist")
    files = sorted(p for p in directory.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if limit is not None:
        files = files[:limit]
    if not files:
        raise ValueError(f"image folder {os.fspath(folder)!r} holds no {'/'.join(IMAGE_SUFFIXES)} file")
    arrays = []
    for file in files:
        with Image.open(file) as image:
            arrays.append(np.asarray(image.convert("RGB").resize((size, size), Image.BILINEAR), dtype=np.float32) / 255)
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()
