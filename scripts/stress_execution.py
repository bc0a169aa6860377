"""Measure the notebook-execution stall: many executions of the widget chapters, with and without the fix.

    make stress                                     # 60 unfixed + 300 fixed executions, 2 workers
    python scripts/stress_execution.py --mode fixed --executions 300
    python scripts/stress_execution.py --mode unfixed --executions 60 --chapters chapters/05_*.md

Each execution runs one chapter (quick profile, CPU) in a fresh kernel through
:func:`oversmoothing.book.execution.execute_chapter`, which records, for every cell, the time from the
kernel's ``status: idle`` to the next cell's ``execute_input`` (and for the last cell, to the moment the
client finished it). ``--mode unfixed`` uses jupyter_client's plain ``AsyncKernelManager`` (one wait per
cell, as nbclient does); ``--mode fixed`` the book's :class:`~oversmoothing.book.execution.SlicedKernelManager`.
The stall detector stops an execution STALL_SECONDS (30 s) into a stall, so an unfixed stall costs 30 s,
not the whole cell timeout.

The widget chapters are those whose code imports ipywidgets: the stall was seen after widget cells.
``--synthetic N`` runs, instead of chapters, a notebook of N widget cells (``interactive_output`` with a
figure) and N small numeric cells, which shows the stall within a few executions; with
``--widget slider`` its widgets are sliders alone, without the Output widget whose mirroring sends on
the shell socket (see :mod:`oversmoothing.book.execution`), and the unfixed client does not stall.

Prints a table per mode, writes ``reports/stress.json`` (``--out``), and exits 1 when the fixed mode
had a gap over 30 s or any execution failed for another reason.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUICK_CPU = {"OVERSMOOTHING_PROFILE": "quick", "OVERSMOOTHING_DEVICE": "cpu"}
MODES = ("unfixed", "fixed")

SYNTHETIC_SETUP = "import ipywidgets as widgets\nimport matplotlib.pyplot as plt\nimport numpy as np"
SYNTHETIC_WIDGET = """\
def explore(r=0.5):
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot(np.arange(10) * r)
    plt.show()
slider = widgets.FloatSlider(value=0.8, min=0.05, max=2.0, step=0.05, description="r")
display(widgets.VBox([slider, widgets.interactive_output(explore, {"r": slider})]))"""
SYNTHETIC_SLIDER = """\
slider = widgets.FloatSlider(value=0.8, min=0.05, max=2.0, step=0.05, description="r")
display(slider)"""
SYNTHETIC_NUMERIC = "print(np.linalg.eigvals(np.random.default_rng(0).random((50, 50))).real.max())"


def widget_chapters() -> list[Path]:
    """The chapters whose code imports ipywidgets and trains no model (chapters 9 and 10 spend 30-50 s
    training for one or two widget cells; name them with ``--chapters`` to include them)."""
    return [p for p in sorted((ROOT / "chapters").glob("*.md"))
            if "import ipywidgets" in (text := p.read_text("utf-8")) and "run_experiment" not in text]


def write_synthetic(folder: Path, widgets: int, kind: str = "output") -> Path:
    """A MyST notebook of ``widgets`` widget cells, each followed by a numeric cell; ``kind`` "output":
    ``interactive_output`` (an Output widget, which nbclient mirrors by sending ``comm_msg`` on the shell
    channel), "slider": a slider alone (no Output widget)."""
    header = (
        "---\njupytext:\n  text_representation:\n    extension: .md\n    format_name: myst\n"
        "kernelspec:\n  display_name: Python 3\n  language: python\n  name: python3\n---\n"
    )
    widget = {"output": SYNTHETIC_WIDGET, "slider": SYNTHETIC_SLIDER}[kind]
    cells = [SYNTHETIC_SETUP] + [cell for _ in range(widgets) for cell in (widget, SYNTHETIC_NUMERIC)]
    body = "\n".join(f"```{{code-cell}} ipython3\n{cell}\n```\n" for cell in cells)
    path = folder / f"synthetic_{widgets}_{kind}_widgets.md"
    path.write_text(f"{header}\n# Synthetic widget notebook\n\n{body}", encoding="utf-8")
    return path


def run_one(job: tuple[str, str, int]) -> dict:
    """Execute one chapter once; the record of that execution."""
    from jupyter_client.manager import AsyncKernelManager

    from oversmoothing.book.execution import ChapterExecutionError, SlicedKernelManager, execute_chapter

    chapter, mode, cell_timeout = job
    manager = SlicedKernelManager if mode == "fixed" else AsyncKernelManager
    record = {"chapter": Path(chapter).name, "mode": mode}
    try:
        result = execute_chapter(Path(chapter), timeout=cell_timeout, env=QUICK_CPU, kernel_manager_class=manager)
    except ChapterExecutionError as error:
        stalled = ": stall: " in str(error)
        record.update(seconds=error.seconds, max_gap=None, stall=str(error).split("\n")[0] if stalled else None,
                      error=None if stalled else str(error)[:2000], cells=None)
    else:
        gaps = [gap.seconds for gap in result.timings]
        worst = max(result.timings, key=lambda gap: gap.seconds, default=None)
        record.update(seconds=result.seconds, max_gap=max(gaps, default=0.0), stall=None, error=None, cells=len(gaps),
                      worst_cell=None if worst is None else worst.index)
    return record


def summarise(records: list[dict], mode: str) -> dict:
    """Executions, stalls, other failures and the largest gap of one mode."""
    mine = [r for r in records if r["mode"] == mode]
    gaps = [r["max_gap"] for r in mine if r["max_gap"] is not None]
    return {
        "mode": mode,
        "executions": len(mine),
        "stalls": sum(r["stall"] is not None for r in mine),
        "failures": sum(r["error"] is not None for r in mine),
        "cells": sum(r["cells"] or 0 for r in mine),
        "max_gap_seconds": max(gaps, default=None),
        "over_30_s": sum(r["stall"] is not None or (r["max_gap"] or 0) > 30 for r in mine),
        "seconds": sum(r["seconds"] for r in mine),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=(*MODES, "both"), default="both")
    parser.add_argument("--executions", type=int, default=300, help="executions of the fixed mode (default 300)")
    parser.add_argument("--unfixed-executions", type=int, default=60, help="executions of the unfixed mode")
    parser.add_argument("--chapters", nargs="+", type=Path, default=None, help="default: the widget chapters")
    parser.add_argument("--synthetic", type=int, default=0, metavar="N",
                        help="run a synthetic notebook of N widget cells instead of the chapters")
    parser.add_argument("--widget", choices=("output", "slider"), default="output",
                        help="the synthetic notebook's widget: interactive_output (default) or a slider alone")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cell-timeout", type=int, default=120)
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "stress.json")
    args = parser.parse_args(argv)
    if args.executions < 0 or args.unfixed_executions < 0 or args.workers < 1:
        parser.error("--executions and --unfixed-executions must be >= 0 and --workers >= 1")

    with tempfile.TemporaryDirectory() as folder:
        chapters = [write_synthetic(Path(folder), args.synthetic, args.widget)] if args.synthetic else (
            args.chapters or widget_chapters())
        modes = MODES if args.mode == "both" else (args.mode,)
        counts = {"unfixed": args.unfixed_executions, "fixed": args.executions}
        jobs = [(str(chapters[i % len(chapters)]), mode, args.cell_timeout) for mode in modes
                for i in range(counts[mode])]
        print(f"{len(jobs)} executions of {[c.name for c in chapters]} on {args.workers} workers", flush=True)
        records = []
        with ProcessPoolExecutor(max_workers=args.workers) as pool:
            for record in pool.map(run_one, jobs):
                records.append(record)
                flag = "STALL " + record["stall"] if record["stall"] else ("FAILED" if record["error"] else "")
                gap = "-" if record["max_gap"] is None else f"{record['max_gap']:.2f}"
                print(f"[{len(records)}/{len(jobs)}] {record['mode']:7} {record['chapter']:40} "
                      f"{record['seconds']:6.1f} s  max gap {gap} s {flag}", flush=True)
    summaries = [summarise(records, mode) for mode in modes]
    print(f"\n{'mode':8} {'executions':>10} {'cells':>7} {'stalls':>6} {'failed':>6} {'max gap (s)':>11}")
    for s in summaries:
        gap = "-" if s["max_gap_seconds"] is None else f"{s['max_gap_seconds']:.2f}"
        print(f"{s['mode']:8} {s['executions']:>10} {s['cells']:>7} {s['stalls']:>6} {s['failures']:>6} {gap:>11}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "command": sys.argv,
              "chapters": [c.name for c in chapters], "summaries": summaries, "executions": records}
    args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(f"report: {args.out}")
    fixed = [s for s in summaries if s["mode"] == "fixed"]
    bad = any(s["over_30_s"] or s["failures"] for s in fixed) or any(s["failures"] for s in summaries)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
