"""RecomputedAttentionStack: it is the written update, its shapes and attention are right, the gain-flip identities hold."""

from __future__ import annotations

import math

import pytest
import torch

from oversmoothing.models.recomputed import PLACEMENTS, RecomputedAttentionStack
from oversmoothing.models.transformer import Intermediates

DIM, KEY_DIM, TOKENS, DEPTH = 6, 4, 5, 7


def weights(seed: int = 0, dim: int = DIM, key_dim: int = KEY_DIM) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    normal = lambda *shape: torch.randn(*shape, generator=generator, dtype=torch.float64)  # noqa: E731
    return dict(query=normal(dim, key_dim) / dim**0.5, key=normal(dim, key_dim) / dim**0.5,
                value_output=normal(dim, dim) / dim**0.5)


def tokens(*batch: int, seed: int = 1) -> torch.Tensor:
    return torch.randn(*batch, TOKENS, DIM, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def hand_written_layer_norm(x, gain, bias, eps):
    mean = x.mean(dim=-1, keepdim=True)
    variance = ((x - mean) ** 2).mean(dim=-1, keepdim=True)  # biased, as in nn.LayerNorm
    return (x - mean) / torch.sqrt(variance + eps) * gain + bias


def hand_written_stack(x, query, key, value_output, depth, gain, bias, placement, eps=1e-5):
    states = [x]
    for _ in range(depth):
        if placement == "pre":
            y = hand_written_layer_norm(x, gain, bias, eps)
            attention = torch.softmax((y @ query) @ (y @ key).transpose(-1, -2) / math.sqrt(query.shape[-1]), dim=-1)
            x = x + attention @ y @ value_output
        else:
            attention = torch.softmax((x @ query) @ (x @ key).transpose(-1, -2) / math.sqrt(query.shape[-1]), dim=-1)
            x = hand_written_layer_norm(x + attention @ x @ value_output, gain, bias, eps)
        states.append(x)
    return torch.stack(states)


@pytest.mark.parametrize("placement", PLACEMENTS)
def test_matches_a_hand_written_loop(placement):
    w = weights()
    generator = torch.Generator().manual_seed(2)
    gain = torch.randn(DIM, generator=generator, dtype=torch.float64)
    bias = 0.3 * torch.randn(DIM, generator=generator, dtype=torch.float64)
    stack = RecomputedAttentionStack(**w, depth=DEPTH, gain=gain, bias=bias, placement=placement)
    x = tokens(3)
    with torch.no_grad():
        states = stack.forward_intermediates(x).hidden_states
        expected = hand_written_stack(x, w["query"], w["key"], w["value_output"], DEPTH, gain, bias, placement)
        torch.testing.assert_close(states, expected)
        torch.testing.assert_close(stack(x), expected[-1])


@pytest.mark.parametrize("placement", PLACEMENTS)
def test_shapes_and_attention_rows(placement):
    stack = RecomputedAttentionStack(**weights(), depth=DEPTH, placement=placement)
    with torch.no_grad():
        out = stack.forward_intermediates(tokens(2, 3), return_attention=True)
        plain = stack.forward_intermediates(tokens(2, 3))
    assert isinstance(out, Intermediates)
    assert out.hidden_states.shape == (DEPTH + 1, 2, 3, TOKENS, DIM)
    assert out.attentions.shape == (DEPTH, 2, 3, TOKENS, TOKENS)
    assert plain.attentions is None
    torch.testing.assert_close(out.attentions.sum(dim=-1), torch.ones(DEPTH, 2, 3, TOKENS, dtype=torch.float64))
    assert bool((out.attentions > 0).all())
    torch.testing.assert_close(out.output, out.hidden_states[-1])
    torch.testing.assert_close(out.hidden_states, plain.hidden_states)
    torch.testing.assert_close(out.hidden_states[0], tokens(2, 3))


def test_unbatched_input_and_dtype_conversion():
    stack = RecomputedAttentionStack(**weights(), depth=2)
    x = tokens().float()
    out = stack.forward_intermediates(x, return_attention=True)
    assert out.hidden_states.shape == (3, TOKENS, DIM) and out.hidden_states.dtype == torch.float64
    assert out.attentions.shape == (2, TOKENS, TOKENS)


def test_attention_is_recomputed_at_every_layer():
    stack = RecomputedAttentionStack(**weights(), depth=3)
    with torch.no_grad():
        attentions = stack.forward_intermediates(tokens(), return_attention=True).attentions
    assert not torch.allclose(attentions[0], attentions[1])


def test_pre_ln_gain_flip_equals_value_output_flip():
    """With beta = 0: LN_{-gamma}(X) = -LN_gamma(X), the scores are even in it, so -gamma is the same as H -> -H."""
    w = weights()
    gain = torch.randn(DIM, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    flipped_gain = RecomputedAttentionStack(**w, depth=DEPTH, gain=-gain, placement="pre")
    flipped_value = RecomputedAttentionStack(w["query"], w["key"], -w["value_output"], DEPTH, gain=gain, placement="pre")
    with torch.no_grad():
        a = flipped_gain.forward_intermediates(tokens(4), return_attention=True)
        b = flipped_value.forward_intermediates(tokens(4), return_attention=True)
    torch.testing.assert_close(a.hidden_states, b.hidden_states, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(a.attentions, b.attentions, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(flipped_gain.effective_value_output(), flipped_value.effective_value_output())


def test_post_ln_gain_flip_only_alternates_the_sign_of_the_tokens():
    """With beta = 0: flipping every gain in post-LN gives X_l -> (-1)^l X_l, invisible to every smoothing metric."""
    w = weights()
    gain = torch.randn(DIM, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    plus = RecomputedAttentionStack(**w, depth=DEPTH, gain=gain, placement="post")
    minus = RecomputedAttentionStack(**w, depth=DEPTH, gain=-gain, placement="post")
    with torch.no_grad():
        a = plus.forward_intermediates(tokens(4), return_attention=True)
        b = minus.forward_intermediates(tokens(4), return_attention=True)
    signs = torch.tensor([(-1.0) ** layer for layer in range(DEPTH + 1)], dtype=torch.float64).view(-1, 1, 1, 1)
    torch.testing.assert_close(b.hidden_states, signs * a.hidden_states, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(b.attentions, a.attentions, rtol=1e-12, atol=1e-12)


def test_effective_value_output():
    w = weights()
    gain = torch.linspace(-1, 2, DIM, dtype=torch.float64)
    pre = RecomputedAttentionStack(**w, depth=1, gain=gain, placement="pre")
    post = RecomputedAttentionStack(**w, depth=1, gain=gain, placement="post")
    torch.testing.assert_close(pre.effective_value_output(), torch.diag(gain) @ w["value_output"])
    torch.testing.assert_close(post.effective_value_output(), w["value_output"])


def test_weights_are_shared_trainable_parameters():
    stack = RecomputedAttentionStack(**weights(), depth=DEPTH)
    names = {name for name, _ in stack.named_parameters()}
    assert names == {"query", "key", "value_output", "gain", "bias"}
    stack(tokens(2)).pow(2).sum().backward()
    assert all(parameter.grad is not None and bool(torch.isfinite(parameter.grad).all()) for parameter in stack.parameters())
    assert "placement='pre'" in repr(stack)


@pytest.mark.parametrize(
    "overrides, error, match",
    [
        (dict(query=[[1.0]]), TypeError, "query"),
        (dict(value_output=torch.ones(DIM, DIM, dtype=torch.long)), TypeError, "value_output"),
        (dict(value_output=torch.ones(DIM, DIM + 1, dtype=torch.float64)), ValueError, "value_output"),
        (dict(query=torch.ones(DIM + 1, KEY_DIM, dtype=torch.float64)), ValueError, "query"),
        (dict(key=torch.ones(DIM, KEY_DIM + 1, dtype=torch.float64)), ValueError, "key"),
        (dict(depth=0), ValueError, "depth"),
        (dict(depth=True), ValueError, "depth"),
        (dict(depth=2.0), ValueError, "depth"),
        (dict(gain=torch.ones(DIM + 1, dtype=torch.float64)), ValueError, "gain"),
        (dict(gain=torch.full((DIM,), float("nan"), dtype=torch.float64)), ValueError, "gain"),
        (dict(gain=torch.ones(DIM, dtype=torch.complex128)), TypeError, "gain"),
        (dict(bias=torch.ones(DIM, dtype=torch.long)), TypeError, "bias"),
        (dict(bias=[0.0] * DIM), TypeError, "bias"),
        (dict(placement="middle"), ValueError, "placement"),
        (dict(eps=0.0), ValueError, "eps"),
    ],
)
def test_bad_construction_is_rejected(overrides, error, match):
    settings = weights() | dict(depth=2) | overrides
    with pytest.raises(error, match=match):
        RecomputedAttentionStack(**settings)


def test_bad_input_is_rejected():
    stack = RecomputedAttentionStack(**weights(), depth=2)
    with pytest.raises(ValueError, match="x must have shape"):
        stack(torch.randn(TOKENS, DIM + 1, dtype=torch.float64))
    with pytest.raises(TypeError, match="floating"):
        stack(torch.ones(TOKENS, DIM, dtype=torch.long))
    with pytest.raises(TypeError, match="torch.Tensor"):
        stack.forward_intermediates([[0.0] * DIM] * TOKENS)
    with pytest.raises(ValueError, match="NaN"):
        stack(torch.full((TOKENS, DIM), float("nan"), dtype=torch.float64))
