"""Model builders: fused and manual attention agree, the switches do what they say, inputs are checked."""

from __future__ import annotations

import itertools

import pytest
import torch

import oversmoothing as ovs
from oversmoothing.datasets import CharVocabulary
from oversmoothing.models import VALUE_MAPS, Block, generate


def make_encoder(**overrides) -> ovs.TransformerEncoder:
    settings = dict(dim=32, depth=3, heads=4, init_std=32**-0.5) | overrides
    ovs.seed_everything(0)
    return ovs.TransformerEncoder(ovs.TransformerConfig(**settings)).eval()


def randomise_filters(model: ovs.TransformerEncoder) -> None:
    """Move the AttnScale / FeatScale weights away from their zero initialisation."""
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for block in model.blocks:
            for parameter in (getattr(block.attn.values, name, None) for name in ("omega", "s_dc", "s_hc")):
                if parameter is not None:
                    parameter.copy_(torch.randn(parameter.shape, generator=generator))


# AttnScale and FeatScale average over all tokens, so they are never causal.
FUSED_CASES = [case for case in itertools.product(VALUE_MAPS, ["pre", "post", "none"], [True, False], [True, False],
                                                  [True, False])
               if not (case[4] and case[0] in ("attnscale", "featscale"))]


@pytest.mark.parametrize("value_map, norm, residual, mlp, causal", FUSED_CASES)
def test_fused_and_manual_attention_agree(value_map, norm, residual, mlp, causal):
    model = make_encoder(value_map=value_map, norm=norm, residual=residual, mlp=mlp, causal=causal).double()
    randomise_filters(model)
    x = torch.randn(2, 7, 32, dtype=torch.float64)
    with torch.no_grad():
        fused = model.forward_intermediates(x)
        manual = model.forward_intermediates(x, return_attention=True)
    assert fused.attentions is None
    torch.testing.assert_close(fused.hidden_states, manual.hidden_states, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(fused.output, manual.output, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(model(x), fused.output)
    torch.testing.assert_close(manual.attentions.sum(-1), torch.ones(3, 2, 4, 7, dtype=torch.float64))


def test_intermediates_shapes_and_attention_rows():
    model = make_encoder(depth=4)
    out = model.forward_intermediates(torch.randn(3, 5, 32), return_attention=True)
    assert out.hidden_states.shape == (5, 3, 5, 32)
    assert out.attentions.shape == (4, 3, 4, 5, 5)
    torch.testing.assert_close(out.attentions.sum(-1), torch.ones(4, 3, 4, 5))
    assert bool((out.attentions > 0).all())


def test_causal_attention_is_lower_triangular_and_ignores_the_future():
    model = make_encoder(causal=True)
    x = torch.randn(1, 6, 32)
    attention = model.forward_intermediates(x, return_attention=True).attentions
    assert torch.count_nonzero(attention.triu(1)) == 0
    changed = x.clone()
    changed[:, -1] += 1.0
    with torch.no_grad():
        before, after = model(x), model(changed)
    torch.testing.assert_close(before[:, :-1], after[:, :-1])


def test_block_matches_its_written_formula_pre_ln():
    block = make_encoder(depth=1, norm="pre").blocks[0]
    x = torch.randn(2, 5, 32)
    with torch.no_grad():
        h = x + block.attn(block.ln1(x))[0]
        expected = h + block.mlp(block.ln2(h))
        torch.testing.assert_close(block(x)[0], expected)


def test_block_matches_its_written_formula_post_ln_without_residual():
    block = make_encoder(depth=1, norm="post", residual=False).blocks[0]
    x = torch.randn(2, 5, 32)
    with torch.no_grad():
        h = block.ln1(block.attn(x)[0])
        expected = block.ln2(block.mlp(h))
        torch.testing.assert_close(block(x)[0], expected)


def test_no_norm_and_no_mlp_block_is_plain_attention_plus_skip():
    block = make_encoder(depth=1, norm="none", mlp=False).blocks[0]
    assert block.mlp is None and isinstance(block.ln1, torch.nn.Identity)
    x = torch.randn(2, 5, 32)
    with torch.no_grad():
        torch.testing.assert_close(block(x)[0], x + block.attn(x)[0])


def test_layer_norm_gain_is_learnable():
    block = make_encoder(norm="pre").blocks[0]
    assert isinstance(block, Block) and block.ln1.weight.requires_grad
    assert block.ln1.weight.shape == (32,)


@pytest.mark.parametrize(
    "overrides, match",
    [
        (dict(dim=30, heads=4), "divisible"),
        (dict(norm="layer"), "norm"),
        (dict(depth=0), "depth"),
        (dict(mlp_ratio=0), "mlp_ratio"),
        (dict(init_std=-1.0), "init_std"),
    ],
)
def test_bad_config_is_rejected(overrides, match):
    with pytest.raises(ValueError, match=match):
        ovs.TransformerConfig(**overrides)


def test_encoder_rejects_wrong_width_and_integer_tokens():
    model = make_encoder()
    with pytest.raises(ValueError, match="x must have shape"):
        model(torch.randn(2, 5, 16))
    with pytest.raises(TypeError, match="floating"):
        model(torch.ones(2, 5, 32, dtype=torch.long))


def test_vision_transformer_shapes_and_class_token():
    ovs.seed_everything(0)
    config = ovs.TransformerConfig(dim=32, depth=2, heads=2)
    model = ovs.VisionTransformer(config, image_size=8, patch_size=2, in_channels=1, num_classes=10)
    images = torch.randn(3, 1, 8, 8)
    assert model(images).shape == (3, 10)
    states = model.forward_intermediates(images).hidden_states
    assert states.shape == (3, 3, 17, 32)
    torch.testing.assert_close(states[0, :, 0], (model.cls_token + model.pos_embed[:, :1]).expand(3, 1, 32)[:, 0])
    with pytest.raises(ValueError, match="images must have shape"):
        model(torch.randn(3, 3, 8, 8))
    with pytest.raises(ValueError, match="patch_size"):
        ovs.VisionTransformer(config, image_size=8, patch_size=3)


def test_vision_transformer_takes_rectangular_images_and_patches():
    ovs.seed_everything(0)
    config = ovs.TransformerConfig(dim=32, depth=2, heads=2)
    model = ovs.VisionTransformer(config, image_size=(1, 40), patch_size=(1, 4), in_channels=1, num_classes=10)
    signals = torch.randn(3, 1, 1, 40)
    assert model(signals).shape == (3, 10)
    assert model.patch_embed.num_patches == 10
    states = model.forward_intermediates(signals).hidden_states
    assert states.shape == (3, 3, 11, 32)
    # token 1 + j embeds samples 4j .. 4j + 3 of the signal
    shifted = signals.clone()
    shifted[..., 8:12] += 1.0
    with torch.no_grad():
        moved = (model.embed(shifted) - model.embed(signals)).abs().amax(dim=(0, 2))
    assert [int(i) for i in torch.nonzero(moved > 0)] == [3]
    with pytest.raises(ValueError, match="images must have shape"):
        model(torch.randn(3, 1, 40, 1))
    with pytest.raises(ValueError, match="patch_size"):
        ovs.VisionTransformer(config, image_size=(1, 40), patch_size=(1, 3))
    with pytest.raises(ValueError, match="image_size"):
        ovs.VisionTransformer(config, image_size=(1, 40, 2), patch_size=4)


def test_char_transformer_is_causal_and_checks_input():
    ovs.seed_everything(0)
    config = ovs.TransformerConfig(dim=32, depth=2, heads=2, causal=True)
    model = ovs.CharTransformer(config, vocab_size=11, context=16).eval()
    tokens = torch.randint(0, 11, (2, 16))
    logits = model(tokens)
    assert logits.shape == (2, 16, 11)
    changed = tokens.clone()
    changed[:, -1] = (changed[:, -1] + 1) % 11
    with torch.no_grad():
        torch.testing.assert_close(model(tokens)[:, :-1], model(changed)[:, :-1])
    with pytest.raises(ValueError, match="causal"):
        ovs.CharTransformer(ovs.TransformerConfig(dim=32, depth=1, heads=2), vocab_size=11, context=16)
    with pytest.raises(ValueError, match="context"):
        model(torch.randint(0, 11, (1, 17)))
    with pytest.raises(ValueError, match="tokens must be an integer"):
        model(torch.randn(1, 4))


def test_generate_is_seeded_and_greedy_is_the_argmax_path():
    ovs.seed_everything(4)
    vocab = CharVocabulary.from_text("abcdefgh \n")
    model = ovs.CharTransformer(ovs.TransformerConfig(dim=8, depth=1, heads=2, causal=True), len(vocab), context=4)
    first, second = generate(model, vocab, "ab", 12, seed=7), generate(model, vocab, "ab", 12, seed=7)
    assert first == second and len(first) == 12 and set(first) <= set(vocab.chars)
    greedy = generate(model, vocab, "ab", 6, temperature=0)
    ids = vocab.encode("ab")
    with torch.no_grad():
        for _ in range(6):
            ids = torch.cat([ids, model(ids[None, -4:])[0, -1].argmax().reshape(1)])
    assert greedy == vocab.decode(ids[2:])
    assert model.training                                                     # the mode is restored
    with pytest.raises(ValueError, match="prompt"):
        generate(model, vocab, "", 3)
    with pytest.raises(ValueError, match="length"):
        generate(model, vocab, "a", -1)
    with pytest.raises(ValueError, match="temperature"):
        generate(model, vocab, "a", 3, temperature=-1.0)


@pytest.mark.parametrize("value_map", ovs.models.VALUE_MAPS)
def test_models_train_one_step(value_map):
    ovs.seed_everything(0)
    model = ovs.VisionTransformer(ovs.TransformerConfig(dim=16, depth=2, heads=2, value_map=value_map), 8, 4, 1, 3)
    images, labels = torch.randn(4, 1, 8, 8), torch.tensor([0, 1, 2, 0])
    loss = torch.nn.functional.cross_entropy(model(images), labels)
    loss.backward()
    assert all(p.grad is not None for p in model.parameters())


class TestLinearAttentionStack:
    def setup_method(self):
        generator = torch.Generator().manual_seed(0)
        self.attention = torch.softmax(torch.randn(5, 5, generator=generator, dtype=torch.float64), -1)
        self.value_output = torch.randn(3, 3, generator=generator, dtype=torch.float64) / 3
        self.x = torch.randn(5, 3, generator=generator, dtype=torch.float64)

    def test_residual_layers_follow_the_update(self):
        stack = ovs.LinearAttentionStack(self.attention, self.value_output, depth=4)
        out = stack.forward_intermediates(self.x)
        expected = self.x
        for layer in range(1, 5):
            expected = expected + self.attention @ expected @ self.value_output
            torch.testing.assert_close(out.hidden_states[layer], expected)
        torch.testing.assert_close(stack(self.x), expected)

    def test_without_residual_is_a_matrix_power(self):
        stack = ovs.LinearAttentionStack(self.attention, self.value_output, depth=3, residual=False)
        expected = torch.linalg.matrix_power(self.attention, 3) @ self.x @ torch.linalg.matrix_power(self.value_output, 3)
        torch.testing.assert_close(stack(self.x), expected)

    def test_batched_inputs(self):
        stack = ovs.LinearAttentionStack(self.attention, self.value_output, depth=2)
        batch = torch.stack([self.x, 2 * self.x])
        torch.testing.assert_close(stack(batch)[1], 2 * stack(self.x))

    def test_bad_inputs(self):
        with pytest.raises(ValueError, match="attention must be square"):
            ovs.LinearAttentionStack(self.attention[:, :4], self.value_output, depth=2)
        with pytest.raises(ValueError, match="value_output must be square"):
            ovs.LinearAttentionStack(self.attention, self.value_output[:2], depth=2)
        with pytest.raises(ValueError, match="depth"):
            ovs.LinearAttentionStack(self.attention, self.value_output, depth=0)
        with pytest.raises(ValueError, match="NaN"):
            ovs.LinearAttentionStack(self.attention * float("nan"), self.value_output, depth=1)
        stack = ovs.LinearAttentionStack(self.attention, self.value_output, depth=2)
        with pytest.raises(ValueError, match=r"x must have shape \(\.\.\., 5, 3\)"):
            stack(torch.randn(4, 3, dtype=torch.float64))


@pytest.mark.cuda
@pytest.mark.parametrize("value_map", VALUE_MAPS)
def test_cuda_fused_and_manual_attention_agree_in_bfloat16(value_map):
    causal = value_map not in ("attnscale", "featscale")
    model = make_encoder(value_map=value_map, causal=causal).cuda()
    randomise_filters(model)
    x = torch.randn(2, 64, 32, device="cuda")
    with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16):
        fused = model.forward_intermediates(x)
        manual = model.forward_intermediates(x, return_attention=True)
    torch.testing.assert_close(fused.hidden_states.float(), manual.hidden_states.float(), rtol=5e-2, atol=5e-2)
    on_cpu = model.cpu()(x.cpu())
    torch.testing.assert_close(fused.output.float().cpu(), on_cpu, rtol=5e-2, atol=5e-2)


@pytest.mark.cuda
def test_cuda_layer_metrics_match_cpu():
    states = make_encoder().forward_intermediates(torch.randn(4, 16, 32)).hidden_states.detach().double()
    on_cpu = ovs.layer_metrics(states)
    on_gpu = ovs.layer_metrics(states.cuda())
    assert (on_cpu - on_gpu).abs().max().max() < 1e-9


@pytest.mark.parametrize("norm", ["pre", "post", "none"])
def test_relative_branch_steps_match_the_blocks_own_arithmetic(norm):
    from oversmoothing.models import relative_branch_steps

    model = make_encoder(norm=norm).double()
    x = torch.randn(2, 5, 32, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    steps = relative_branch_steps(model, x)
    size = lambda t: t.flatten(-2).norm(dim=-1)
    with torch.no_grad():
        stream = x
        for index, block in enumerate(model.blocks):                    # the block's forward, written out
            attention_out = block.attn(block.ln1(stream) if norm == "pre" else stream)[0]
            torch.testing.assert_close(steps["attention"][index], size(attention_out) / size(stream))
            after = stream + attention_out if norm == "pre" else block.ln1(stream + attention_out)
            mlp_out = block.mlp(block.ln2(after) if norm == "pre" else after)
            torch.testing.assert_close(steps["MLP"][index], size(mlp_out) / size(after))
            stream = after + mlp_out if norm == "pre" else block.ln2(after + mlp_out)
    assert steps["attention"].shape == steps["MLP"].shape == (3, 2)
    assert not any(block.attn._forward_hooks for block in model.blocks)        # no hook left behind


def test_relative_branch_steps_need_a_residual_encoder():
    from oversmoothing.models import relative_branch_steps

    x = torch.randn(1, 4, 32)
    assert set(relative_branch_steps(make_encoder(mlp=False), x)) == {"attention"}
    with pytest.raises(ValueError, match="residual"):
        relative_branch_steps(make_encoder(residual=False), x)
    with pytest.raises(TypeError, match="TransformerEncoder"):
        relative_branch_steps(torch.nn.Linear(32, 32), x)
