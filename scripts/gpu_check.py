"""On a CUDA machine: the full-profile experiments, every chapter in the full profile, the CUDA tests and the
benchmark; write a report.

    make gpu-check                      # or: python scripts/gpu_check.py
    python scripts/gpu_check.py chapters/03_*.md --skip-bench   # a partial rerun

With ``OVERSMOOTHING_PROFILE=full`` and ``OVERSMOOTHING_DEVICE=cuda`` it

0. runs every registered experiment (``oversmoothing experiment NAME --profile full``), writing
   ``results/NAME-full.json`` (commit these: chapters 9 and 10 show them beside their quick results);
1. executes each ``chapters/*.md`` in a fresh ``python3`` kernel (cwd ``chapters/``, 1800 s per cell),
   timing each (:func:`oversmoothing.book.execution.execute_chapter`);
2. runs ``pytest -m cuda``;
3. runs ``python -m benchmarks.bench_mean_cosine --json``;

and writes ``reports/gpu_check.md`` and ``reports/gpu_check.json`` (device from
``describe_environment``, per-chapter time and status, test summary, benchmark results). A failing
chapter does not stop the others. Exit status: 0 when everything passed, 1 when something failed,
2 when there is no CUDA device (nothing is run).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FULL_CUDA = {"OVERSMOOTHING_PROFILE": "full", "OVERSMOOTHING_DEVICE": "cuda"}
CELL_TIMEOUT = 1800
ERROR_CHARS = 6000


# ---------------------------------------------------------------------------------------------
# the three parts (need CUDA)
# ---------------------------------------------------------------------------------------------


def run_chapters(chapters: list[Path], timeout: int, env: dict[str, str], save_dir: Path | None) -> list[dict]:
    import nbformat

    from oversmoothing.book.execution import ChapterExecutionError, execute_chapter

    entries = []
    for chapter in chapters:
        print(f"[chapter] {chapter.name} ...", flush=True)
        try:
            result = execute_chapter(chapter, timeout=timeout, env=env)
        except ChapterExecutionError as error:
            entry = {"chapter": chapter.name, "status": "failed", "seconds": error.seconds, "error": str(error)}
        else:
            entry = {"chapter": chapter.name, "status": "ok", "seconds": result.seconds, "error": None}
            if save_dir is not None:
                save_dir.mkdir(parents=True, exist_ok=True)
                nbformat.write(result.notebook, save_dir / chapter.with_suffix(".ipynb").name)
        print(f"[chapter] {chapter.name}: {entry['status']} in {entry['seconds']:.1f} s", flush=True)
        entries.append(entry)
    return entries


def run_experiments(env: dict[str, str], out: Path) -> list[dict]:
    """Each registered experiment in the full profile, as its own process; results in ``out/NAME-full.json``."""
    from oversmoothing.experiments import available_experiments

    entries = []
    for name in available_experiments():
        print(f"[experiment] {name} ...", flush=True)
        command = [sys.executable, "-m", "oversmoothing.cli", "experiment", name, "--profile", "full",
                   "--device", "cuda", "--out", str(out), "--overwrite"]
        start = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        entry = {
            "experiment": name,
            "status": "ok" if done.returncode == 0 else "failed",
            "seconds": time.perf_counter() - start,
            "error": None if done.returncode == 0 else "\n".join((done.stdout + done.stderr).splitlines()[-60:]),
        }
        print(f"[experiment] {name}: {entry['status']} in {entry['seconds']:.1f} s", flush=True)
        entries.append(entry)
    return entries


def run_cuda_tests(env: dict[str, str]) -> dict:
    print("[tests] pytest -m cuda ...", flush=True)
    command = [sys.executable, "-m", "pytest", "-m", "cuda", "-q", "-p", "no:cacheprovider"]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    status = {0: "ok", 5: "no tests collected"}.get(done.returncode, "failed")
    print(f"[tests] {status} in {seconds:.1f} s", flush=True)
    return {
        "command": " ".join(command[1:]),
        "status": status,
        "returncode": done.returncode,
        "seconds": seconds,
        "summary": lines[-1] if lines else "",
        "output_tail": "\n".join((done.stdout + done.stderr).splitlines()[-60:]),
    }


def run_benchmark(env: dict[str, str]) -> dict:
    print("[bench] python -m benchmarks.bench_mean_cosine ...", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        json_path = Path(folder) / "bench.json"
        command = [sys.executable, "-m", "benchmarks.bench_mean_cosine", "--json", str(json_path)]
        start = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - start
        results = json.loads(json_path.read_text()) if json_path.is_file() else None
    status = "ok" if done.returncode == 0 else ("failed thresholds" if results is not None else "failed")
    print(f"[bench] {status} in {seconds:.1f} s", flush=True)
    return {
        "status": status,
        "returncode": done.returncode,
        "seconds": seconds,
        "results": results,
        "output_tail": "\n".join((done.stdout + done.stderr).splitlines()[-40:]),
    }


# ---------------------------------------------------------------------------------------------
# the report (pure functions, tested without a GPU in tests/book/test_gpu_check.py)
# ---------------------------------------------------------------------------------------------


def _shorten(text: str | None) -> str | None:
    """Keep the start (chapter, cell, source) and the end (the exception) of a long error."""
    if not text or len(text) <= ERROR_CHARS:
        return text or None
    head = ERROR_CHARS // 4
    return f"{text[:head]}\n[... {len(text) - ERROR_CHARS} characters left out ...]\n{text[-(ERROR_CHARS - head):]}"


def build_report(environment, chapters: list[dict], tests: dict | None, bench: dict | None, seconds: float,
                 experiments: list[dict] | None = None) -> dict:
    """Everything the check found, as one JSON-ready dict. ``environment``: a runtime ``Environment``."""
    experiments = experiments or []
    failures = [f"experiment {entry['experiment']}" for entry in experiments if entry["status"] != "ok"]
    failures += [f"chapter {entry['chapter']}" for entry in chapters if entry["status"] != "ok"]
    if tests is not None and tests["status"] != "ok":
        failures.append(f"CUDA tests ({tests['status']})")
    if bench is not None and bench["status"] != "ok":
        failures.append(f"benchmark ({bench['status']})")
    return {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "settings": dict(FULL_CUDA),
        "device": environment.device,
        "device_name": environment.device_name,
        "environment": dict(environment.as_rows()),
        "experiments": [{**entry, "error": _shorten(entry["error"])} for entry in experiments],
        "chapters": [{**entry, "error": _shorten(entry["error"])} for entry in chapters],
        "chapters_seconds": sum(entry["seconds"] for entry in chapters),
        "cuda_tests": tests,
        "benchmark": bench,
        "seconds": seconds,
        "failures": failures,
        "passed": not failures,
    }


def _table(header: tuple[str, ...], rows: list[tuple]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |" for row in rows]
    return lines


def render_markdown(report: dict) -> str:
    """The report as Markdown (``reports/gpu_check.md``)."""
    settings = ", ".join(f"`{key}={value}`" for key, value in report["settings"].items())
    verdict = "passed" if report["passed"] else "FAILED: " + "; ".join(report["failures"])
    lines = [
        "# GPU check",
        "",
        f"Run {report['date']} on **{report['device_name']}** (`{report['device']}`) with {settings}, "
        f"in {report['seconds'] / 60:.1f} min. Result: **{verdict}**.",
        "",
        "Written by `scripts/gpu_check.py` (`make gpu-check`); the same data is in `gpu_check.json`.",
        "",
        "## Full-profile experiments",
        "",
    ]
    if report["experiments"]:
        rows = [(f"`{e['experiment']}`", e["status"], f"{e['seconds']:.1f}") for e in report["experiments"]]
        lines += _table(("experiment", "status", "time (s)"), rows)
        lines += ["", "Results in `results/NAME-full.json`; commit them so that the chapters show them."]
        for entry in report["experiments"]:
            if entry["error"]:
                lines += ["", f"### `{entry['experiment']}` failed", "", "```text", entry["error"].rstrip(), "```"]
    else:
        lines.append("No experiment was run.")
    lines += ["", "## Chapters", ""]
    if report["chapters"]:
        rows = [(f"`{e['chapter']}`", e["status"], f"{e['seconds']:.1f}") for e in report["chapters"]]
        rows.append(("**total**", "", f"{report['chapters_seconds']:.1f}"))
        lines += _table(("chapter", "status", "time (s)"), rows)
        for entry in report["chapters"]:
            if entry["error"]:
                lines += ["", f"### `{entry['chapter']}` failed", "", "```text", entry["error"].rstrip(), "```"]
    else:
        lines.append("No chapter was run.")
    lines += ["", "## CUDA tests", ""]
    tests = report["cuda_tests"]
    if tests is None:
        lines.append("Not run.")
    else:
        lines.append(f"`{tests['command']}`: **{tests['status']}** in {tests['seconds']:.1f} s ({tests['summary']}).")
        if tests["status"] == "failed":
            lines += ["", "```text", tests["output_tail"].rstrip(), "```"]
    lines += ["", "## Benchmark: mean cosine similarity, O(nd) identity vs pairwise matrix", ""]
    bench = report["benchmark"]
    if bench is None:
        lines.append("Not run.")
    elif bench["results"] is None:
        lines += [f"**{bench['status']}** (exit {bench['returncode']}).", "", "```text", bench["output_tail"].rstrip(), "```"]
    else:
        results = bench["results"]
        speed, memory = results["speed"], results["memory"]
        lines += [
            f"**{bench['status']}** in {bench['seconds']:.1f} s. At n = {speed['n']}, d = {speed['d']}, "
            f"batch {speed['batch']}, {speed['dtype']}: identity {1e3 * speed['median_seconds']['identity']:.3f} ms, "
            f"naive {1e3 * speed['median_seconds']['naive']:.3f} ms (medians).",
            "",
            f"- speed ratio (naive / identity): **{speed['ratio']:.1f}**",
            f"- memory slope in n: identity **{memory['slope']['identity']:.2f}**, naive **{memory['slope']['naive']:.2f}**",
            f"- max |identity - naive|: {speed['max_abs_difference']:.2e}",
            "",
        ]
        rows = [
            (
                row["n"],
                f"{row['input_mib']:.1f}",
                f"{row['identity_extra_mib']:.1f}",
                f"{row['naive_extra_mib']:.1f}",
            )
            for row in memory["rows"]
        ]
        lines += _table(("n", "input (MiB)", "identity extra (MiB)", "naive extra (MiB)"), rows)
        for failure in results.get("failures", []):
            lines += ["", f"Threshold not met: {failure}."]
    lines += ["", "## Environment", ""]
    lines += _table(("item", "value"), [(item, f"`{value}`") for item, value in report["environment"].items()])
    return "\n".join(lines) + "\n"


def write_report(report: dict, out_dir: Path) -> tuple[Path, Path]:
    """Write ``gpu_check.md`` and ``gpu_check.json`` into ``out_dir``; return both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    markdown, data = out_dir / "gpu_check.md", out_dir / "gpu_check.json"
    markdown.write_text(render_markdown(report), encoding="utf-8")
    data.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return markdown, data


# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("chapters", nargs="*", type=Path, help="chapters to run (default: chapters/*.md)")
    parser.add_argument("--out", type=Path, default=ROOT / "reports", help="folder for gpu_check.md/.json")
    parser.add_argument("--timeout", type=int, default=CELL_TIMEOUT, help="seconds per cell")
    parser.add_argument("--skip-tests", action="store_true", help="do not run pytest -m cuda")
    parser.add_argument("--skip-bench", action="store_true", help="do not run the benchmark")
    parser.add_argument("--skip-experiments", action="store_true", help="do not run the full-profile experiments")
    parser.add_argument("--results", type=Path, default=ROOT / "results", help="folder for NAME-full.json")
    parser.add_argument("--save-notebooks", type=Path, help="also save the executed notebooks (.ipynb) here")
    args = parser.parse_args(argv)

    import torch

    if not torch.cuda.is_available():
        print(
            "gpu_check: no CUDA device (torch.cuda.is_available() is False); nothing was run. "
            "This check needs an NVIDIA GPU and a CUDA build of torch; on a CPU machine use `make test`.",
            file=sys.stderr,
        )
        return 2

    from oversmoothing.runtime import describe_environment, get_device

    os.environ.update(FULL_CUDA)
    env = dict(os.environ)
    started = time.perf_counter()
    environment = describe_environment(get_device(), "full")
    print(f"gpu_check on {environment.device_name}", flush=True)
    chapters = [path.resolve() for path in args.chapters] or sorted((ROOT / "chapters").glob("*.md"))
    experiments = [] if args.skip_experiments else run_experiments(env, args.results)
    chapter_entries = run_chapters(chapters, args.timeout, FULL_CUDA, args.save_notebooks)
    tests = None if args.skip_tests else run_cuda_tests(env)
    bench = None if args.skip_bench else run_benchmark(env)
    report = build_report(environment, chapter_entries, tests, bench, time.perf_counter() - started, experiments)
    markdown, data = write_report(report, args.out)
    print(f"report: {markdown.relative_to(ROOT) if markdown.is_relative_to(ROOT) else markdown}, {data.name}")
    print("passed" if report["passed"] else "FAILED: " + "; ".join(report["failures"]))
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
