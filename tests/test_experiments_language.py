"""The language experiment (chapter 10): causal block spectra, per-head value-output maps, sampling,
a tiny end-to-end run, and the result helpers the chapter uses."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

import oversmoothing as ovs
from oversmoothing.datasets import CharVocabulary, load_corpus
from oversmoothing.experiments import available_experiments, to_jsonable
from oversmoothing.experiments.language import (
    PROFILE_SIZES,
    VARIANTS,
    LanguageSizes,
    analyse_language_model,
    describe_result,
    layer_table,
    load_full_result,
    run_language,
    summary_table,
)
from oversmoothing.generators import causal_attention, value_output_from_spectrum
from oversmoothing.models import generate, head_value_outputs, value_output_maps
from oversmoothing.spectrum import causal_block_eigenvalues, dc_dominates, split_by_heads

TINY = LanguageSizes(dim=8, depth=2, heads=2, context=8, stride=8, train_windows=64, val_windows=16,
                     metric_windows=8, dominance_windows=2, epochs=1, batch_size=16, lr=3e-3, seeds=(0,),
                     sample_length=5)


def _operator(attention: torch.Tensor, head_maps: torch.Tensor) -> torch.Tensor:
    """The matrix of X -> X + sum_h A_h X H_h on row-major vec(X): I + sum_h A_h kron H_h^T."""
    n, d = attention.shape[-1], head_maps.shape[-1]
    return torch.eye(n * d, dtype=torch.float64) + sum(
        torch.kron(a.contiguous(), h.T.contiguous()) for a, h in zip(attention, head_maps))


def _same_multiset(first: torch.Tensor, second: torch.Tensor, tolerance: float) -> bool:
    distance = (first.flatten()[:, None] - second.flatten()[None, :]).abs()
    return first.numel() == second.numel() and bool((distance.min(dim=1).values < tolerance).all()) and bool(
        (distance.min(dim=0).values < tolerance).all())


@pytest.fixture(scope="module")
def tiny_result():
    text = load_corpus()[:30_000]
    return run_language(TINY, "cpu", text=text)


def test_split_by_heads_partitions_the_columns():
    H = torch.randn(6, 6, dtype=torch.float64)
    parts = split_by_heads(H, 3)
    assert parts.shape == (3, 6, 6)
    torch.testing.assert_close(parts.sum(0), H)
    for h in range(3):
        kept = torch.zeros(6, dtype=torch.bool)
        kept[2 * h:2 * h + 2] = True
        torch.testing.assert_close(parts[h][:, kept], H[:, kept])
        assert bool((parts[h][:, ~kept] == 0).all())
    assert split_by_heads(torch.randn(5, 4, 4), 2).shape == (5, 2, 4, 4)
    with pytest.raises(ValueError, match="heads"):
        split_by_heads(H, 4)
    with pytest.raises(ValueError, match="value_output"):
        split_by_heads(torch.randn(3, 4), 1)


def test_causal_block_eigenvalues_are_the_eigenvalues_of_the_layer():
    generator = ovs.seed_everything(0)
    n, d, heads = 5, 4, 2
    for _ in range(10):
        attention = causal_attention(n, batch=(heads,), generator=generator)
        head_maps = torch.randn(heads, d, d, generator=generator, dtype=torch.float64) / 2    # generic: complex spectra
        blocks = causal_block_eigenvalues(attention.diagonal(dim1=-2, dim2=-1), head_maps)
        assert blocks.shape == (n, d)
        assert _same_multiset(blocks, torch.linalg.eigvals(_operator(attention, head_maps)), 1e-6)
        # the first token attends only to itself: block 0 is I + sum_h H_h, the DC block
        dc = torch.linalg.eigvals(torch.eye(d, dtype=torch.float64) + head_maps.sum(0))
        assert _same_multiset(blocks[0], dc, 1e-9)


def test_causal_block_eigenvalues_broadcast_and_reject_bad_input():
    generator = ovs.seed_everything(1)
    diagonals = torch.rand(3, 7, 2, 5, generator=generator, dtype=torch.float64)           # (L, B, heads, n)
    head_maps = torch.randn(3, 1, 2, 4, 4, generator=generator, dtype=torch.float64)       # (L, 1, heads, d, d)
    blocks = causal_block_eigenvalues(diagonals, head_maps)
    assert blocks.shape == (3, 7, 5, 4)
    single = causal_block_eigenvalues(diagonals[2, 4], head_maps[2, 0])
    assert _same_multiset(blocks[2, 4], single, 1e-12)
    with pytest.raises(ValueError, match="heads"):
        causal_block_eigenvalues(diagonals, torch.randn(3, 1, 3, 4, 4, dtype=torch.float64))
    with pytest.raises(ValueError, match="NaN"):
        causal_block_eigenvalues(diagonals.clone().fill_(float("nan")), head_maps)
    with pytest.raises(ValueError, match="d, d"):
        causal_block_eigenvalues(diagonals, torch.randn(3, 1, 2, 4, 3, dtype=torch.float64))


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_forced_regimes_hold_for_every_causal_attention(sign):
    """The corollary of chapter 10: a symmetric H with positive spectrum always smooths, with spectrum in
    [-1, 0) never, for any causal heads."""
    generator = ovs.seed_everything(2)
    heads, n, d = 4, 7, 8
    attention = causal_attention(n, temperature=0.3, batch=(64, heads), generator=generator)
    spectrum = sign * torch.rand(64, d, generator=generator, dtype=torch.float64).clamp_min(1e-3)
    H = value_output_from_spectrum(spectrum, symmetric=True, generator=generator)
    smoothing = dc_dominates(causal_block_eigenvalues(attention.diagonal(dim1=-2, dim2=-1), split_by_heads(H, heads)))
    assert smoothing.shape == (64,)
    assert bool(smoothing.all()) if sign > 0 else not bool(smoothing.any())


def test_dc_dominates_on_the_non_symmetric_counterexample():
    H = torch.tensor([[5.0, -3.0], [4.0, -2.0]], dtype=torch.float64)        # eigenvalues 1 and 2
    blocks = causal_block_eigenvalues(torch.tensor([[1.0, 0.9], [1.0, 0.1]], dtype=torch.float64), split_by_heads(H, 2))
    torch.testing.assert_close(blocks[0].real.sort().values, torch.tensor([2.0, 3.0], dtype=torch.float64))
    assert not bool(dc_dominates(blocks))
    one_head = causal_block_eigenvalues(torch.tensor([[1.0, 0.5]], dtype=torch.float64), H[None])
    assert bool(dc_dominates(one_head))
    with pytest.raises(ValueError, match="n >= 2"):
        dc_dominates(blocks[:1])


@pytest.mark.parametrize("variant", VARIANTS)
def test_head_value_outputs_rebuild_the_attention_branch(variant):
    ovs.seed_everything(3)
    config = ovs.TransformerConfig(dim=8, depth=2, heads=2, causal=True, value_map=variant, bias=False)
    model = ovs.CharTransformer(config, vocab_size=11, context=6)
    with torch.no_grad():
        for block in model.encoder.blocks:
            block.ln1.weight.uniform_(-1.5, 1.5)
        maps = head_value_outputs(model)
        assert maps.shape == (2, 2, 8, 8)
        torch.testing.assert_close(maps.sum(1), value_output_maps(model))
        gained = head_value_outputs(model, include_norm_gain=True)
        torch.testing.assert_close(gained.sum(1), value_output_maps(model, include_norm_gain=True))
        x = torch.randn(3, 6, 8)
        branch, weights = model.encoder.blocks[0].attn(x, return_weights=True)             # weights (B, heads, n, n)
        rebuilt = torch.einsum("bhkl,bld,hde->bke", weights, x, maps[0])
    torch.testing.assert_close(branch, rebuilt, rtol=1e-4, atol=1e-5)


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


def test_language_sizes_are_validated():
    with pytest.raises(ValueError, match="dim"):
        dataclasses.replace(TINY, dim=0)
    with pytest.raises(ValueError, match="train_windows"):
        dataclasses.replace(TINY, train_windows=-1)
    with pytest.raises(ValueError, match="dominance_windows"):
        dataclasses.replace(TINY, dominance_windows=9)
    with pytest.raises(ValueError, match="seeds"):
        dataclasses.replace(TINY, seeds=())
    assert set(PROFILE_SIZES) == {"quick", "full"}
    assert "language" in available_experiments()


def test_tiny_run_records_every_variant(tiny_result):
    runs = tiny_result["runs"]
    assert [run["variant"] for run in runs] == list(VARIANTS)
    assert tiny_result["counts"]["train_windows"] == 64 and tiny_result["counts"]["metric_windows"] == 8
    json.dumps(to_jsonable(tiny_result), allow_nan=False)
    for run in runs:
        assert len(run["layer_metrics"]) == TINY.depth + 1 and len(run["initial_layer_metrics"]) == TINY.depth + 1
        assert len(run["dc_dominant"]) == TINY.depth and len(run["eigenvalues"]["real"]) == TINY.depth
        assert run["bits_per_char"] == pytest.approx(run["val_loss"] / torch.log(torch.tensor(2.0)).item())
        assert len(run["sample"]) == TINY.sample_length and len(run["epochs"]) == TINY.epochs
    by_variant = {run["variant"]: run for run in runs}
    smooth = torch.tensor(by_variant["smooth"]["eigenvalues"]["real"])
    sharpen = torch.tensor(by_variant["sharpen"]["eigenvalues"]["real"])
    assert float(smooth.min()) >= 1e-3 - 1e-6 and float(smooth.max()) <= 1 + 1e-6
    assert float(sharpen.min()) >= -1 - 1e-6 and float(sharpen.max()) <= -1e-3 + 1e-6
    assert by_variant["smooth"]["dc_dominant"] == [1.0] * TINY.depth
    assert by_variant["sharpen"]["dc_dominant"] == [0.0] * TINY.depth
    assert by_variant["standard"]["asymmetry"][0] > 0.1 and by_variant["smooth"]["asymmetry"][0] < 1e-6


def test_tables_and_the_full_result_loader(tiny_result, tmp_path):
    summary = summary_table(tiny_result)
    assert list(summary.variant) == list(VARIANTS)
    assert summary.regime.tolist() == ["baseline", "smoothing", "sharpening"]
    last = tiny_result["runs"][1]["layer_metrics"][-1]["mean_cosine"]
    assert summary.loc[1, "last_mean_cosine"] == last
    layers = layer_table(tiny_result)
    assert len(layers) == len(VARIANTS) * (TINY.depth + 1) and {"regime", "seed", "layer", "mean_cosine"} <= set(layers)
    assert layer_table(tiny_result, initial=True).mean_cosine.tolist() != layers.mean_cosine.tolist()
    with pytest.raises(ValueError, match="runs"):
        summary_table({"runs": []})

    assert load_full_result(tmp_path) is None
    metadata = {"profile": "full", "command": "oversmoothing experiment language --profile full --out results",
                "device": "cuda", "device_name": "a test GPU", "seconds": 1800.0, "date": "2025-01-01T00:00:00+00:00"}
    (tmp_path / "language-full.json").write_text(json.dumps(to_jsonable({**tiny_result, "metadata": metadata})))
    loaded = load_full_result(tmp_path)
    assert summary_table(loaded).equals(summary)
    line = describe_result(loaded)
    assert "full profile" in line and "a test GPU" in line and "30.0 min" in line and metadata["command"] in line
    with pytest.raises(ValueError, match="metadata"):
        describe_result(tiny_result)


def test_bad_arguments_are_rejected():
    with pytest.raises(TypeError, match="LanguageSizes"):
        run_language({"dim": 8})
    model = ovs.CharTransformer(ovs.TransformerConfig(dim=8, depth=1, heads=2, causal=True), vocab_size=5, context=4)
    with pytest.raises(ValueError, match="windows"):
        analyse_language_model(model, torch.zeros(2, 4), 1)
    with pytest.raises(ValueError, match="dominance_windows"):
        analyse_language_model(model, torch.zeros(2, 4, dtype=torch.int64), 0)
