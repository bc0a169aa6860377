r"""Benchmark: the mean cosine similarity by the O(nd) identity against the explicit pairwise matrix.

``oversmoothing.mean_cosine_similarity`` uses
:math:`\frac{1}{n(n-1)}\sum_{i \ne j}\cos(x_i, x_j) = \frac{\lVert\sum_i \hat x_i\rVert^2 - n}{n(n-1)}`.
The reference ("naive") method normalises the tokens, forms the :math:`n \times n` matrix
:math:`\hat X \hat X^\top` and averages its off-diagonal entries. Both are measured in this run, on the
device from ``oversmoothing.runtime.get_device()`` (``OVERSMOOTHING_DEVICE`` picks it):

* wall time at n = 2048, d = 768, batch 8, float32 (warm-up, then the median of several repeats,
  CUDA-synchronised on a GPU), and the ratio naive / identity;
* peak memory of one call for n in (1024, 2048, 4096, 8192). On the CPU each (method, n) runs in a
  fresh subprocess: the peak is ``ru_maxrss`` after the call minus the process's RSS just after the
  input was allocated (the high-water mark is reset there on Linux, so torch's import does not count).
  The parent imports no torch before these subprocesses run, because a child's ``ru_maxrss`` starts
  from its parent's. On CUDA: ``torch.cuda.max_memory_allocated`` after ``reset_peak_memory_stats``.

The memory slope is the least-squares slope of log(peak memory of a call, input included) against
log(n): 1 for memory linear in n, 2 for quadratic. The extra memory over the input is printed too, with
its own slope where it is measurable (at least 1 MiB at every n). The identity's extra memory is only
the n token norms, which is below what RSS can resolve, so its extra-memory slope is usually ``n/a``.

Run: ``make bench`` or ``python -m benchmarks.bench_mean_cosine [--json PATH]``. Exits 1 when the speed
ratio is below ``--min-ratio`` (20), the identity's memory slope is above ``--max-slope`` (1.3), or the
two methods disagree. Takes about a minute on two CPU cores. Benchmarks are not tests.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks._report import finish

ROOT = Path(__file__).resolve().parents[1]

# torch is imported lazily: see the module docstring (a child's ru_maxrss includes the parent's RSS).

MiB = 2**20
SPEED_CONFIG = {"n": 2048, "d": 768, "batch": 8}
MEMORY_SIZES = (1024, 2048, 4096, 8192)
METHODS = ("identity", "naive")
MEASURABLE_MIB = 1.0


def naive_mean_cosine(x):
    """Reference: normalise, form the (n, n) cosine matrix, average its off-diagonal entries."""
    import torch

    unit = x / torch.linalg.vector_norm(x, dim=-1, keepdim=True)
    gram = unit @ unit.transpose(-1, -2)
    n = x.shape[-2]
    diagonal = torch.diagonal(gram, dim1=-2, dim2=-1).sum(dim=-1)
    return (gram.sum(dim=(-2, -1)) - diagonal) / (n * (n - 1))


def method(name: str):
    if name == "identity":
        from oversmoothing import mean_cosine_similarity

        return mean_cosine_similarity
    return naive_mean_cosine


def make_input(batch: int, n: int, d: int, device, seed: int = 0):
    """Tokens with a shared component, so the mean cosine is clearly non-zero (about 0.5)."""
    import torch

    generator = torch.Generator(device="cpu").manual_seed(seed)
    x = torch.randn(batch, n, d, generator=generator)
    x += torch.randn(batch, 1, d, generator=generator)
    return x.to(device)


# ---------------------------------------------------------------------------------------------
# memory
# ---------------------------------------------------------------------------------------------


def _maxrss_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB on Linux


def _current_rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return _maxrss_bytes()  # no /proc: the peak so far is the best available baseline


def _reset_high_water_mark() -> bool:
    """Reset the peak RSS to the current RSS (Linux >= 4.0); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


def memory_child(name: str, n: int, d: int, batch: int) -> dict:
    """Run in a fresh process: the peak extra memory of one CPU call of ``name``."""
    import torch

    function = method(name)
    function(make_input(batch, 16, d, "cpu"))  # load kernels and thread pools before measuring
    x = make_input(batch, n, d, "cpu")
    rss_after_input = _current_rss_bytes()
    reset = _reset_high_water_mark()
    with torch.no_grad():
        function(x)
    peak = _maxrss_bytes()
    return {
        "extra_bytes": max(0, peak - rss_after_input),
        "input_bytes": x.numel() * x.element_size(),
        "high_water_mark_reset": reset,
    }


def memory_cpu(name: str, n: int, d: int, batch: int) -> dict:
    command = [sys.executable, "-m", __spec__.name, "--memory-child", name, str(n), str(d), str(batch)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"memory subprocess {name} n={n} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def memory_cuda(name: str, n: int, d: int, batch: int, device) -> dict:
    import torch

    function = method(name)
    function(make_input(batch, 16, d, device))
    x = make_input(batch, n, d, device)
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    base = torch.cuda.memory_allocated(device)
    with torch.no_grad():
        function(x)
    torch.cuda.synchronize(device)
    extra = torch.cuda.max_memory_allocated(device) - base
    result = {"extra_bytes": int(extra), "input_bytes": x.numel() * x.element_size(), "high_water_mark_reset": True}
    del x
    torch.cuda.empty_cache()
    return result


def slope(ns: list[int], values: list[float]) -> float:
    """Least-squares slope of log(values) against log(ns)."""
    xs = [math.log(v) for v in ns]
    ys = [math.log(v) for v in values]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((a - mx) * (b - my) for a, b in zip(xs, ys)) / sum((a - mx) ** 2 for a in xs)


def measure_memory(device, sizes, d: int, batch: int) -> dict:
    rows = []
    for n in sizes:
        row = {"n": n}
        for name in METHODS:
            if device.type == "cuda":
                result = memory_cuda(name, n, d, batch, device)
            else:
                result = memory_cpu(name, n, d, batch)
            row["input_mib"] = result["input_bytes"] / MiB
            row[f"{name}_extra_mib"] = result["extra_bytes"] / MiB
            row[f"{name}_peak_mib"] = (result["input_bytes"] + result["extra_bytes"]) / MiB
            row["high_water_mark_reset"] = row.get("high_water_mark_reset", True) and result["high_water_mark_reset"]
        rows.append(row)
        print(f"  memory n={n}: identity +{row['identity_extra_mib']:.1f} MiB, naive +{row['naive_extra_mib']:.1f} MiB")
    ns = [row["n"] for row in rows]
    slopes, extra_slopes = {}, {}
    for name in METHODS:
        slopes[name] = slope(ns, [row[f"{name}_peak_mib"] for row in rows])
        extra = [row[f"{name}_extra_mib"] for row in rows]
        extra_slopes[name] = slope(ns, extra) if min(extra) >= MEASURABLE_MIB else None
    return {"rows": rows, "slope": slopes, "extra_slope": extra_slopes}


# ---------------------------------------------------------------------------------------------
# speed
# ---------------------------------------------------------------------------------------------


def time_call(function, x, device, warmup: int, repeats: int) -> list[float]:
    import torch

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    times = []
    with torch.no_grad():
        for _ in range(warmup):
            function(x)
        sync()
        for _ in range(repeats):
            start = time.perf_counter()
            function(x)
            sync()
            times.append(time.perf_counter() - start)
    return times


def measure_speed(device, n: int, d: int, batch: int, repeats: int) -> dict:
    import torch

    x = make_input(batch, n, d, device)
    values = {name: method(name)(x) for name in METHODS}
    difference = float((values["identity"].double() - values["naive"].double()).abs().max())
    times = {}
    for name in METHODS:
        # the identity is cheap: more repeats for a stable median
        count = repeats * (3 if name == "identity" else 1)
        times[name] = time_call(method(name), x, device, warmup=2, repeats=count)
    median = {name: statistics.median(times[name]) for name in METHODS}
    return {
        "n": n,
        "d": d,
        "batch": batch,
        "dtype": str(x.dtype).replace("torch.", ""),
        "median_seconds": median,
        "seconds": times,
        "ratio": median["naive"] / median["identity"],
        "mean_cosine": float(values["identity"].double().mean()),
        "max_abs_difference": difference,
        "threads": torch.get_num_threads(),
    }


# ---------------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------------


def fmt_slope(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def print_report(result: dict) -> None:
    speed, memory = result["speed"], result["memory"]
    print()
    print(f"device: {result['device']} ({result['device_name']}), torch threads {speed['threads']}")
    print(f"speed at n={speed['n']}, d={speed['d']}, batch {speed['batch']}, {speed['dtype']}:")
    print(f"  {'method':<10} {'median ms':>10} {'repeats':>8}")
    for name in METHODS:
        print(f"  {name:<10} {1e3 * speed['median_seconds'][name]:>10.2f} {len(speed['seconds'][name]):>8}")
    print(f"  mean cosine {speed['mean_cosine']:.4f}, max |identity - naive| = {speed['max_abs_difference']:.2e}")
    print()
    print(f"peak memory of one call (MiB; d={result['memory_config']['d']}, batch {result['memory_config']['batch']}):")
    header = f"  {'n':>6} {'input':>8} {'identity +extra':>16} {'naive +extra':>14} {'identity peak':>14} {'naive peak':>11}"
    print(header)
    for row in memory["rows"]:
        print(
            f"  {row['n']:>6} {row['input_mib']:>8.1f} {row['identity_extra_mib']:>16.1f} {row['naive_extra_mib']:>14.1f}"
            f" {row['identity_peak_mib']:>14.1f} {row['naive_peak_mib']:>11.1f}"
        )
    print(
        f"  slope of the extra memory (peak - input) in n: identity {fmt_slope(memory['extra_slope']['identity'])},"
        f" naive {fmt_slope(memory['extra_slope']['naive'])}"
        f"  (n/a: below {MEASURABLE_MIB:g} MiB at some n)"
    )
    print()
    print(f"speed ratio (naive / identity): {speed['ratio']:.1f}")
    print(f"memory slope in n: identity {memory['slope']['identity']:.2f}, naive {memory['slope']['naive']:.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this path")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats of the naive method (identity: 3x)")
    parser.add_argument("--min-ratio", type=float, default=20.0, help="fail below this speed ratio")
    parser.add_argument("--max-slope", type=float, default=1.3, help="fail when the identity's memory slope is above")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(MEMORY_SIZES), help="n for the memory sweep")
    parser.add_argument("--memory-child", nargs=4, metavar=("METHOD", "N", "D", "BATCH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.memory_child:
        name, n, d, batch = args.memory_child
        print(json.dumps(memory_child(name, int(n), int(d), int(batch))))
        return 0

    from oversmoothing.runtime import get_device  # noqa: E402  (imports torch: after the parsing)

    started = time.perf_counter()
    device = get_device()
    config = dict(SPEED_CONFIG)
    print(f"memory sweep on {device} ...")
    memory = measure_memory(device, sorted(args.sizes), config["d"], config["batch"])
    print("timing ...")
    speed = measure_speed(device, config["n"], config["d"], config["batch"], args.repeats)

    from oversmoothing.runtime import describe_environment

    environment = describe_environment(device)
    failures = []
    if speed["ratio"] < args.min_ratio:
        failures.append(f"speed ratio {speed['ratio']:.1f} < {args.min_ratio:g}")
    if memory["slope"]["identity"] > args.max_slope:
        failures.append(f"identity memory slope {memory['slope']['identity']:.2f} > {args.max_slope:g}")
    if speed["max_abs_difference"] > 1e-4:
        failures.append(f"identity and naive disagree by {speed['max_abs_difference']:.2e}")
    result = {
        "benchmark": "mean_cosine_similarity: O(nd) identity vs explicit pairwise matrix",
        "device": str(device),
        "device_name": environment.device_name,
        "environment": dict(environment.as_rows()),
        "speed": speed,
        "memory_config": {"d": config["d"], "batch": config["batch"], "dtype": "float32"},
        "memory": memory,
        "thresholds": {"min_ratio": args.min_ratio, "max_identity_slope": args.max_slope},
        "failures": failures,
        "passed": not failures,
        "seconds": time.perf_counter() - started,
    }
    print_report(result)
    return finish(result, args.json)


if __name__ == "__main__":
    sys.exit(main())
