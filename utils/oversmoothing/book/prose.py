"""Numbers and verdicts computed in a chapter's cells, handed to its prose.

A chapter never types a measured outcome: the cell that measures it calls :func:`glue`, and the text shows it
with myst-nb's role, ``{glue:text}`name``` (or ``{glue:text}`name:.3f``` with a format). The book build fails
(``-W``) when a name is shown but never glued, and ``tests/book/test_chapter_format.py`` checks that every name
shown is glued in the same chapter.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch


def _plain(value: object) -> object:
    """``value`` as a plain Python object: NumPy and PyTorch scalars become ``int``/``float``/``bool``."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(f"value must be a scalar, got a tensor of shape {tuple(value.shape)}")
        return value.item()
    if isinstance(value, np.generic):
        return value.item()
    return value


def glue(name: str, value: object) -> None:
    """Give ``value`` to the page's prose under ``name``. It returns nothing, so that a cell that ends with it shows
    no output.

    Args:
        name: the key the text uses, ``{glue:text}`name```: letters, digits and ``-``/``_``.
        value: a number, a bool or a string (NumPy and PyTorch scalars are converted); myst-nb shows its text
            form, so a float can take a format in the role (``{glue:text}`name:.2f```).

    Without myst-nb (Colab, plain Jupyter), the value is printed instead, so that the reader still sees it.

    Raises:
        ValueError: a bad ``name``, or a tensor with more than one element.
        TypeError: a value that is not a number, a bool or a string.
    """
    if not isinstance(name, str) or not name or not all(c.isalnum() or c in "-_" for c in name):
        raise ValueError(f"name must be letters, digits, '-' or '_', got {name!r}")
    plain = _plain(value)
    if not isinstance(plain, (numbers.Number, str)):
        raise TypeError(f"value must be a number, a bool or a string, got {type(value).__name__}")
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        print(f"{name}: {plain}")
    else:
        myst_glue(name, plain, display=False)


def listing(items: object, conjunction: str = "and") -> str:
    """``[1, 2, 4]`` as ``"1, 2 and 4"`` (``""`` for no items), for a list inside a sentence."""
    words = [str(_plain(item)) for item in items]
    if len(words) < 2:
        return "".join(words)
    return f"{', '.join(words[:-1])} {conjunction} {words[-1]}"


__all__ = ["glue", "listing"]
