"""Character-level text data: a shipped public-domain corpus, a character vocabulary and training windows.

The shipped corpus ``shakespeare.txt.gz`` (about 1.04 million characters) holds eight plays by William
Shakespeare (public domain), see ``README.md`` next to this module for the list and the source.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from .containers import ArrayDataset, DataSplits
from .sampling import check_fraction
from .._validation import check_int

CORPUS_FILE = "shakespeare.txt.gz"
"""Name of the shipped corpus inside this package."""


def load_corpus(path: str | os.PathLike | None = None) -> str:
    """A text corpus as one string.

    Args:
        path: a UTF-8 text file, gzip-compressed when its name ends in ``.gz``; the shipped Shakespeare
            extract when ``None``.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the text is empty.
    """
    if path is None:
        data = resources.files(__package__).joinpath(CORPUS_FILE).read_bytes()
        origin = f"the package's {CORPUS_FILE}"
        compressed = True
    else:
        file = Path(path).expanduser()
        if not file.is_file():
            raise FileNotFoundError(f"text file {os.fspath(path)!r} does not exist")
        data, origin, compressed = file.read_bytes(), os.fspath(path), file.suffix == ".gz"
    text = (gzip.decompress(data) if compressed else data).decode("utf-8")
    if not text:
        raise ValueError(f"{origin} is empty")
    return text


def _codepoints(text: str) -> np.ndarray:
    """Unicode code points of ``text`` as a ``(len(text),)`` uint32 array (no Python loop)."""
    return np.frombuffer(text.encode("utf-32-le"), dtype="<u4")


@dataclass(frozen=True)
class CharVocabulary:
    """Characters and their integer ids (the position in ``chars``).

    Attributes:
        chars: distinct single characters; :meth:`from_text` sorts them by code point.

    Raises:
        ValueError: ``chars`` is empty, holds a repeat or a string that is not one character.
    """

    chars: tuple[str, ...]
    _lookup: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        chars = tuple(self.chars)
        if not chars or any(not isinstance(char, str) or len(char) != 1 for char in chars):
            raise ValueError("chars must be a non-empty sequence of single characters")
        if len(set(chars)) != len(chars):
            raise ValueError("chars must not repeat a character")
        codes = _codepoints("".join(chars))
        lookup = np.full(int(codes.max()) + 1, -1, dtype=np.int64)
        lookup[codes] = np.arange(len(chars))
        object.__setattr__(self, "chars", chars)
        object.__setattr__(self, "_lookup", lookup)

    @classmethod
    def from_text(cls, text: str) -> CharVocabulary:
        """The vocabulary of every character in ``text``, sorted by code point."""
        if not isinstance(text, str) or not text:
            raise ValueError("text must be a non-empty str")
        return cls(tuple(sorted(set(text))))

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> torch.Tensor:
        """Ids of the characters of ``text``: ``(len(text),)`` int64.

        Raises:
            ValueError: ``text`` holds a character outside the vocabulary.
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        codes = _codepoints(text)
        known = codes < len(self._lookup)
        ids = np.where(known, self._lookup[np.where(known, codes, 0)], -1)
        if (ids < 0).any():
            unknown = sorted({chr(code) for code in codes[ids < 0][:1000]})
            raise ValueError(f"text holds characters outside the vocabulary: {unknown[:10]!r}")
        return torch.from_numpy(ids)

    def decode(self, ids: torch.Tensor | Sequence[int]) -> str:
        """The text of a 1-D sequence of ids (inverse of :meth:`encode`).

        Raises:
            ValueError: ``ids`` is not 1-D integer, or an id lies outside ``[0, len(self))``.
        """
        values = ids.detach().cpu().numpy() if isinstance(ids, torch.Tensor) else np.asarray(ids)
        if values.ndim != 1 or (values.size and not np.issubdtype(values.dtype, np.integer)):
            raise ValueError(f"ids must be a 1-D integer sequence, got shape {values.shape} {values.dtype}")
        if values.size and (values.min() < 0 or values.max() >= len(self)):
            raise ValueError(f"ids must lie in [0, {len(self)}), got [{values.min()}, {values.max()}]")
        codes = _codepoints("".join(self.chars))
        return codes[values.astype(np.int64)].astype("<u4").tobytes().decode("utf-32-le")


def char_windows(text: str, vocab: CharVocabulary, context: int, stride: int | None = None) -> ArrayDataset:
    """Next-character prediction windows: each target is its input shifted by one character.

    Window ``i`` starts at character ``i * stride`` and covers ``context + 1`` characters; the input is
    its first ``context`` ids and the target its last ``context``. ``stride=1`` makes every window and
    takes ``8 (context + 1)`` bytes per character.

    Args:
        text: at least ``context + 1`` characters, all in ``vocab``.
        vocab: the vocabulary.
        context: window length, positive.
        stride: characters between window starts, positive; ``context`` (windows that touch) by default.

    Returns:
        inputs ``(N, context)`` int64, targets ``(N, context)`` int64 with
        ``N = (len(text) - context - 1) // stride + 1``.
    """
    for name, value in (("context", context), ("stride", context if stride is None else stride)):
        check_int(value, name, minimum=1)
    if not isinstance(vocab, CharVocabulary):
        raise TypeError(f"vocab must be a CharVocabulary, got {type(vocab).__name__}")
    ids = vocab.encode(text)
    if len(ids) < context + 1:
        raise ValueError(f"text has {len(ids)} characters; a window needs context + 1 = {context + 1}")
    windows = ids.unfold(0, context + 1, context if stride is None else stride)  # (N, context + 1), a view
    return ArrayDataset(windows[:, :-1].contiguous(), windows[:, 1:].contiguous())


@dataclass(frozen=True, kw_only=True)
class TextSplits(DataSplits):
    """:class:`DataSplits` of character windows plus their vocabulary (``num_classes == len(vocab)``).

    ``test`` is the held-out end of the text (validation data).
    """

    vocab: CharVocabulary

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.vocab, CharVocabulary) or len(self.vocab) != self.num_classes:
            raise ValueError("vocab must be a CharVocabulary with num_classes characters")


def char_splits(context: int, val_fraction: float = 0.1, text: str | None = None, stride: int | None = None,
                name: str = "shakespeare") -> TextSplits:
    """Train and validation windows of a text, split by position (the last ``val_fraction`` is held out).

    The vocabulary covers the whole text, so validation characters are always known. Splitting by
    position, not by window, keeps any training window from overlapping a validation window.

    Args:
        context: window length (the model's context).
        val_fraction: share of the characters held out, in ``(0, 1)``.
        text: the corpus; :func:`load_corpus` ``()`` (Shakespeare) when ``None``.
        stride: see :func:`char_windows`; the held-out part always uses ``stride=context``.
        name: the splits' name.

    Returns:
        ``TextSplits`` with inputs and targets ``(N, context)`` int64, ``input_shape == (context,)``,
        ``classes == vocab.chars``.
    """
    val_fraction = check_fraction(val_fraction, "val_fraction", allow_one=False)
    text = load_corpus() if text is None else text
    vocab = CharVocabulary.from_text(text)
    cut = int(len(text) * (1 - val_fraction))
    return TextSplits(name, char_windows(text[:cut], vocab, context, stride), char_windows(text[cut:], vocab, context),
                      num_classes=len(vocab), input_shape=(context,), classes=vocab.chars, vocab=vocab)
