"""Values handed from a chapter's cells to its prose (oversmoothing.book.prose)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from oversmoothing.book.prose import glue, listing


def test_glue_hands_plain_values_to_myst_nb(monkeypatch):
    import myst_nb

    seen = {}
    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display: seen.update({name: (value, display)}))
    assert glue("rate", np.float64(0.25)) is None                # nothing to show when a cell ends with it
    glue("count", torch.tensor(3))
    glue("verdict", "supported")
    assert seen == {"rate": (0.25, False), "count": (3, False), "verdict": ("supported", False)}
    assert type(seen["rate"][0]) is float and type(seen["count"][0]) is int   # read back from their text


def test_glue_rejects_what_the_prose_cannot_show():
    with pytest.raises(ValueError, match="name"):
        glue("two words", 1.0)
    with pytest.raises(ValueError, match="scalar"):
        glue("vector", torch.ones(3))
    with pytest.raises(TypeError, match="number, a bool or a string"):
        glue("table", [1, 2])


def test_listing_joins_items_for_a_sentence():
    assert listing([]) == "" and listing([2]) == "2"
    assert listing([1, 2, np.int64(4)]) == "1, 2 and 4"
    assert listing(["a", "b"], conjunction="or") == "a or b"
