"""``scripts/gpu_check.py`` without a GPU: the report writer, and the refusal to run without CUDA."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import torch

from oversmoothing.runtime import describe_environment

from conftest import ROOT, load_script

SCRIPT = ROOT / "scripts" / "gpu_check.py"


def load_gpu_check():
    return load_script("scripts/gpu_check.py")


def fake_benchmark() -> dict:
    rows = [
        {"n": n, "input_mib": n / 42.7, "identity_extra_mib": 0.0, "naive_extra_mib": n**2 / 2**17}
        for n in (1024, 2048, 4096, 8192)
    ]
    return {
        "status": "ok",
        "returncode": 0,
        "seconds": 12.0,
        "output_tail": "",
        "results": {
            "speed": {
                "n": 2048,
                "d": 768,
                "batch": 8,
                "dtype": "float32",
                "median_seconds": {"identity": 0.0002, "naive": 0.004},
                "ratio": 20.0,
                "max_abs_difference": 1e-7,
            },
            "memory": {"rows": rows, "slope": {"identity": 1.0, "naive": 1.8}},
            "failures": [],
        },
    }


def test_report_is_written_as_markdown_and_json(tmp_path):
    gpu_check = load_gpu_check()
    environment = describe_environment(torch.device("cpu"), "full")
    chapters = [
        {"chapter": "01_intro.md", "status": "ok", "seconds": 12.5, "error": None},
        {
            "chapter": "02_theory.md",
            "status": "failed",
            "seconds": 3.0,
            "error": "02_theory.md: cell 7 raised an exception\n\nAssertionError: | pipe" + "x" * 10_000 + "THE END",
        },
    ]
    tests = {
        "command": "-m pytest -m cuda -q",
        "status": "ok",
        "returncode": 0,
        "seconds": 4.0,
        "summary": "9 passed in 3.2s",
        "output_tail": "",
    }
    report = gpu_check.build_report(environment, chapters, tests, fake_benchmark(), seconds=90.0)
    assert report["failures"] == ["chapter 02_theory.md"] and not report["passed"]
    assert report["chapters_seconds"] == 15.5
    assert len(report["chapters"][1]["error"]) < 7000 and report["chapters"][1]["error"].endswith("THE END")

    markdown_path, json_path = gpu_check.write_report(report, tmp_path / "reports")
    assert markdown_path.name == "gpu_check.md" and json_path.name == "gpu_check.json"
    markdown = markdown_path.read_text()
    assert "# GPU check" in markdown
    assert "FAILED: chapter 02_theory.md" in markdown
    assert "| `01_intro.md` | ok | 12.5 |" in markdown
    assert "| **total** |  | 15.5 |" in markdown
    assert "### `02_theory.md` failed" in markdown and "AssertionError: | pipe" in markdown
    assert "speed ratio (naive / identity): **20.0**" in markdown
    assert "memory slope in n: identity **1.00**, naive **1.80**" in markdown
    assert "9 passed in 3.2s" in markdown
    assert f"| device name | `{environment.device_name}` |" in markdown
    assert "`OVERSMOOTHING_PROFILE=full`" in markdown

    data = json.loads(json_path.read_text())
    assert data["device_name"] == environment.device_name
    assert [entry["status"] for entry in data["chapters"]] == ["ok", "failed"]
    assert data["benchmark"]["results"]["speed"]["ratio"] == 20.0
    assert data["settings"] == {"OVERSMOOTHING_PROFILE": "full", "OVERSMOOTHING_DEVICE": "cuda"}


def test_report_with_parts_skipped_passes(tmp_path):
    gpu_check = load_gpu_check()
    environment = describe_environment(torch.device("cpu"), "full")
    report = gpu_check.build_report(environment, [], None, None, seconds=1.0)
    assert report["passed"]
    markdown = gpu_check.render_markdown(report)
    assert "No chapter was run." in markdown and markdown.count("Not run.") == 2


def test_refuses_to_run_without_cuda(tmp_path):
    environment = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "no CUDA device" in done.stderr
    assert not list(tmp_path.iterdir())  # nothing written


def test_failed_experiment_fails_the_report_and_is_shown(tmp_path):
    gpu_check = load_gpu_check()
    environment = describe_environment(torch.device("cpu"), "full")
    experiments = [
        {"experiment": "vision", "status": "ok", "seconds": 600.0, "error": None},
        {"experiment": "language", "status": "failed", "seconds": 2.0, "error": "Traceback ...\nAssertionError: boom"},
    ]
    report = gpu_check.build_report(environment, [], None, None, seconds=1.0, experiments=experiments)
    assert report["failures"] == ["experiment language"] and not report["passed"]
    markdown = gpu_check.render_markdown(report)
    assert "| `vision` | ok | 600.0 |" in markdown
    assert "### `language` failed" in markdown and "AssertionError: boom" in markdown
    assert "No experiment was run." in gpu_check.render_markdown(
        gpu_check.build_report(environment, [], None, None, seconds=1.0))
