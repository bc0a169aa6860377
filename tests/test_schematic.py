"""The Transformer block schematic: every part drawn once, labelled, and where its LayerNorm placement puts it."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from oversmoothing.plotting import draw_block_schematic, plot_block_schematic
from oversmoothing.plotting.schematic import BLOCK_PARTS, BRANCH_X, STREAM_X


def _parts(ax):
    """``{part: (x, y)}`` of the boxes and sums of one panel, read back from their gids."""
    centres = {}
    for patch in ax.patches:
        gid = patch.get_gid()
        if gid:
            extent = patch.get_path().get_extents(patch.get_patch_transform())
            centres[gid.split("/")[1]] = (float(extent.x0 + extent.x1) / 2, float(extent.y0 + extent.y1) / 2)
    return centres


@pytest.fixture(scope="module")
def figure():
    fig = plot_block_schematic()
    yield fig
    plt.close(fig)


def test_both_panels_draw_every_part_once(figure):
    pre, post = figure.axes
    assert [ax.get_title() for ax in (pre, post)] == ["pre-LN block", "post-LN block"]
    for ax, placement in [(pre, "pre"), (post, "post")]:
        gids = [patch.get_gid() for patch in ax.patches if patch.get_gid()]
        assert sorted(gids) == sorted(f"{placement}/{part}" for part in BLOCK_PARTS)


def test_boxes_carry_the_labels_of_the_block(figure):
    for ax in figure.axes:
        texts = " | ".join(text.get_text() for text in ax.texts)
        for label in (r"$\gamma$", r"$\gamma_2$", "W_V", "W_O", r"$A\, \cdot$", "MLP", "+", r"$X_\ell$", r"$X_{\ell+1}$"):
            assert label in texts, (label, texts)
    pre_texts = [text.get_text() for text in figure.axes[0].texts]
    post_texts = [text.get_text() for text in figure.axes[1].texts]
    assert any(r"\mathrm{diag}(\gamma)" in text for text in pre_texts)       # pre-LN: the gain enters H_eff
    assert not any(r"\mathrm{diag}(\gamma)" in text for text in post_texts)  # post-LN: it does not


def test_layer_norm_sits_in_the_branch_for_pre_ln_and_on_the_stream_for_post_ln(figure):
    pre, post = (_parts(ax) for ax in figure.axes)
    for part in ("ln1", "ln2"):
        assert pre[part][0] == pytest.approx(BRANCH_X)
        assert post[part][0] == pytest.approx(STREAM_X)
    # pre-LN: the norm comes before the values; post-LN: after the residual sum
    assert pre["ln1"][1] < pre["values"][1] < pre["mix"][1] < pre["output"][1] < pre["add1"][1]
    assert post["values"][1] < post["mix"][1] < post["output"][1] < post["add1"][1] < post["ln1"][1]
    assert post["add2"][1] < post["ln2"][1] and pre["ln2"][1] < pre["mlp"][1] < pre["add2"][1]
    for parts in (pre, post):
        assert parts["add1"][0] == parts["add2"][0] == pytest.approx(STREAM_X)   # the sums sit on the stream
        assert parts["mlp"][0] == parts["mix"][0] == pytest.approx(BRANCH_X)


def test_draws_on_given_axes_and_rejects_bad_arguments():
    fig, axes = plt.subplots(1, 2)
    assert plot_block_schematic(axes) is fig
    assert draw_block_schematic(axes[0], "post") is axes[0]
    with pytest.raises(ValueError, match="placement"):
        draw_block_schematic(axes[0], "middle")
    with pytest.raises(ValueError, match="must hold 2 axes"):
        plot_block_schematic([axes[0]])
    plt.close(fig)
