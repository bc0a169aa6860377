r"""Benchmark: training-step throughput of the package's ViT against timm's ``VisionTransformer``.

Both models are built at one configuration and trained in the same run, on the device from
``oversmoothing.runtime.get_device()`` (``OVERSMOOTHING_DEVICE`` or ``--device`` picks it):

* CPU: a DeiT-Ti-like model sized for a laptop: 32 px images, patch 4 (65 tokens), width 192,
  depth 6, 3 heads, MLP ratio 4, 10 classes, batch 64, float32;
* CUDA: DeiT-Ti itself: 224 px, patch 16 (197 tokens), width 192, depth 12, 3 heads, 1000 classes,
  batch 256, bf16 autocast.

timm is configured to match the package's pre-LN ViT: class token, ``global_pool='token'``, no
``fc_norm``/pre-norm, ``qkv_bias=True``, no dropout or drop-path, fused attention
(``scaled_dot_product_attention``) on, exact GELU. The two parameter counts must be equal and equal
:func:`vit_parameter_count`; the benchmark stops otherwise. (The LayerNorm epsilon differs, 1e-5 here
and 1e-6 in timm, which changes no cost.)

A training step is: zero the gradients, forward, cross-entropy, backward, one AdamW step, on a fixed
random batch. After warm-up steps for each model, the two models alternate over several rounds (the
order flips every round), each round timing a few steps of one model (CUDA-synchronised on a GPU).
Reported: the median images/s over the rounds for each model, and their ratio ours / timm.

The two training steps run the same ATen operators the same number of times (seen with
``torch.profiler``: matrix products, fused attention, GELU, LayerNorm, AdamW), so the ratio is 1 up to
noise; a ratio well below 1 means a regression in the package's model.

Run: ``make bench`` (in ``.bench-venv``, which holds timm) or
``python -m benchmarks.bench_vit_timm [--device cpu] [--json PATH]``. Exits 1 when the ratio is below
``--min-ratio`` (0.9). Takes about a minute on two idle CPU cores. Benchmarks are not tests.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from benchmarks._report import finish

from oversmoothing._validation import check_choice
from oversmoothing.models.transformer import TransformerConfig
from oversmoothing.models.vit import VisionTransformer
from oversmoothing.runtime import describe_environment, get_device, seed_everything

MODELS = ("oversmoothing", "timm")
AUTOCAST_MODES = ("none", "bf16")


@dataclass(frozen=True)
class ViTBenchConfig:
    """One ViT configuration and the batch it is trained on.

    Attributes:
        image_size: side of the square images.
        patch_size: side of a patch.
        in_channels: image channels.
        dim: token width ``d``.
        depth: number of blocks.
        heads: attention heads.
        mlp_ratio: MLP hidden width as a multiple of ``dim``.
        num_classes: classifier outputs.
        batch: images per training step.
        autocast: ``"bf16"`` to train under bfloat16 autocast, ``"none"`` for plain float32.
    """

    image_size: int
    patch_size: int
    in_channels: int
    dim: int
    depth: int
    heads: int
    mlp_ratio: float
    num_classes: int
    batch: int
    autocast: str

    def __post_init__(self) -> None:
        check_choice(self.autocast, "autocast", AUTOCAST_MODES)

    @property
    def tokens(self) -> int:
        """Class token plus patches."""
        return 1 + (self.image_size // self.patch_size) ** 2


CPU_CONFIG = ViTBenchConfig(image_size=32, patch_size=4, in_channels=3, dim=192, depth=6, heads=3,
                            mlp_ratio=4.0, num_classes=10, batch=64, autocast="none")
CUDA_CONFIG = ViTBenchConfig(image_size=224, patch_size=16, in_channels=3, dim=192, depth=12, heads=3,
                             mlp_ratio=4.0, num_classes=1000, batch=256, autocast="bf16")


def config_for(device: torch.device) -> ViTBenchConfig:
    """The full DeiT-Ti configuration on CUDA, the CPU-sized one elsewhere."""
    return CUDA_CONFIG if device.type == "cuda" else CPU_CONFIG


def vit_parameter_count(config: ViTBenchConfig) -> int:
    """Parameters of a pre-LN ViT with biases everywhere, a class token and a linear head on it."""
    d, hidden, p = config.dim, int(config.mlp_ratio * config.dim), config.patch_size
    patch_embed = config.in_channels * p * p * d + d
    tokens = d + config.tokens * d  # class token, learned positions
    block = 2 * (2 * d) + (d * 3 * d + 3 * d) + (d * d + d) + (d * hidden + hidden) + (hidden * d + d)
    return patch_embed + tokens + config.depth * block + 2 * d + (d * config.num_classes + config.num_classes)


def build_ours(config: ViTBenchConfig) -> nn.Module:
    """The package's :class:`~oversmoothing.models.vit.VisionTransformer` (pre-LN, with biases)."""
    encoder = TransformerConfig(dim=config.dim, depth=config.depth, heads=config.heads,
                                mlp_ratio=config.mlp_ratio, norm="pre", bias=True)
    return VisionTransformer(encoder, image_size=config.image_size, patch_size=config.patch_size,
                             in_channels=config.in_channels, num_classes=config.num_classes)


def build_timm(config: ViTBenchConfig) -> nn.Module:
    """timm's ``VisionTransformer`` at the same configuration, with fused attention on.

    Raises:
        RuntimeError: timm's attention would not use ``scaled_dot_product_attention``.
    """
    from timm.models.vision_transformer import VisionTransformer as TimmViT

    model = TimmViT(img_size=config.image_size, patch_size=config.patch_size, in_chans=config.in_channels,
                    num_classes=config.num_classes, embed_dim=config.dim, depth=config.depth,
                    num_heads=config.heads, mlp_ratio=config.mlp_ratio, qkv_bias=True, class_token=True,
                    global_pool="token", fc_norm=False, pre_norm=False, drop_rate=0.0, pos_drop_rate=0.0,
                    proj_drop_rate=0.0, attn_drop_rate=0.0, drop_path_rate=0.0)
    fused = [bool(module.fused_attn) for module in model.modules() if hasattr(module, "fused_attn")]
    if len(fused) != config.depth or not all(fused):
        raise RuntimeError(f"timm's attention is not fused in every block (fused_attn: {fused}); "
                           "unset TIMM_FUSED_ATTN")
    return model


def parameter_count(model: nn.Module) -> int:
    return sum(parameter.numel() for parameter in model.parameters())


def make_batch(config: ViTBenchConfig, device: torch.device, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Random images ``(batch, C, H, W)`` and labels ``(batch,)`` on ``device``."""
    generator = torch.Generator().manual_seed(seed)
    images = torch.randn(config.batch, config.in_channels, config.image_size, config.image_size, generator=generator)
    labels = torch.randint(config.num_classes, (config.batch,), generator=generator)
    return images.to(device), labels.to(device)


def make_train_step(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, autocast: str) -> Callable[[], None]:
    """A closure running one training step (forward, cross-entropy, backward, AdamW) of ``model``."""
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.05)
    device_type = images.device.type

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device_type, dtype=torch.bfloat16, enabled=autocast == "bf16"):
            loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()

    return step


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def interleaved_throughput(steps: dict[str, Callable[[], None]], batch: int, device: torch.device,
                           warmup: int, rounds: int, steps_per_round: int) -> dict[str, list[float]]:
    """Images/s of each training step per round; the models alternate, the order flips every round.

    Args:
        steps: name -> a closure running one training step on ``batch`` images.
        batch: images per step.
        device: where the steps run (synchronised around each timed round on CUDA).
        warmup: untimed steps of each model first.
        rounds: timed rounds; each round times ``steps_per_round`` consecutive steps of each model.

    Returns:
        name -> ``rounds`` throughputs in images/s.
    """
    if min(warmup, rounds, steps_per_round) < 0 or min(rounds, steps_per_round) < 1:
        raise ValueError(f"need warmup >= 0 and rounds, steps_per_round >= 1; got {warmup}, {rounds}, {steps_per_round}")
    names = list(steps)
    for name in names:
        for _ in range(warmup):
            steps[name]()
    rates: dict[str, list[float]] = {name: [] for name in names}
    for index in range(rounds):
        for name in names if index % 2 == 0 else names[::-1]:
            _synchronize(device)
            start = time.perf_counter()
            for _ in range(steps_per_round):
                steps[name]()
            _synchronize(device)
            rates[name].append(batch * steps_per_round / (time.perf_counter() - start))
    return rates


def run(device: torch.device, config: ViTBenchConfig, warmup: int, rounds: int, steps_per_round: int) -> dict:
    """Build both models, check their parameter counts, time them; the result as a JSON-ready dict."""
    seed_everything(0)
    expected = vit_parameter_count(config)
    models = {"oversmoothing": build_ours(config).to(device), "timm": build_timm(config).to(device)}
    counts = {name: parameter_count(model) for name, model in models.items()}
    if set(counts.values()) != {expected}:
        raise RuntimeError(f"the models differ: parameter counts {counts}, expected {expected}")
    images, labels = make_batch(config, device)
    steps = {name: make_train_step(model, images, labels, config.autocast) for name, model in models.items()}
    rates = interleaved_throughput(steps, config.batch, device, warmup, rounds, steps_per_round)
    median = {name: statistics.median(values) for name, values in rates.items()}
    return {
        "config": asdict(config) | {"tokens": config.tokens},
        "parameters": expected,
        "images_per_second": rates,
        "median_images_per_second": median,
        "ratio": median["oversmoothing"] / median["timm"],
        "warmup": warmup,
        "rounds": rounds,
        "steps_per_round": steps_per_round,
    }


def print_report(result: dict) -> None:
    config = result["config"]
    print()
    print(f"device: {result['device']} ({result['device_name']}), torch {result['torch']}, "
          f"timm {result['timm']}, torch threads {result['threads']}")
    print(f"config: {config['image_size']} px, patch {config['patch_size']} ({config['tokens']} tokens), "
          f"dim {config['dim']}, depth {config['depth']}, heads {config['heads']}, mlp x{config['mlp_ratio']:g}, "
          f"{config['num_classes']} classes, batch {config['batch']}, autocast {config['autocast']}; "
          f"{result['parameters']:,} parameters each")
    print(f"training steps per model: {result['warmup']} warm-up, then {result['rounds']} interleaved rounds "
          f"timing {result['steps_per_round']} each")
    print(f"  {'model':<14} {'median img/s':>13}   per round")
    for name in MODELS:
        per_round = " ".join(f"{value:.0f}" for value in result["images_per_second"][name])
        print(f"  {name:<14} {result['median_images_per_second'][name]:>13.1f}   {per_round}")
    print()
    print(f"throughput ratio (oversmoothing / timm): {result['ratio']:.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", help="cpu, cuda, ... (default: oversmoothing.runtime.get_device())")
    parser.add_argument("--warmup", type=int, help="untimed training steps per model (CPU 2, CUDA 10)")
    parser.add_argument("--rounds", type=int, default=9, help="interleaved timed rounds")
    parser.add_argument("--steps", type=int, help="timed steps per model and round (CPU 1, CUDA 20)")
    parser.add_argument("--min-ratio", type=float, default=0.9, help="fail below this ratio of ours / timm img/s")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's own choice)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this path")
    args = parser.parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    import timm

    started = time.perf_counter()
    device = get_device(args.device)
    config = config_for(device)
    on_cuda = device.type == "cuda"
    warmup = args.warmup if args.warmup is not None else (10 if on_cuda else 2)
    steps = args.steps if args.steps is not None else (20 if on_cuda else 1)
    environment = describe_environment(device)
    print(f"training both ViTs on {device} ({environment.device_name}) ...", flush=True)
    result = run(device, config, warmup, args.rounds, steps)
    result |= {
        "benchmark": "training-step throughput: oversmoothing VisionTransformer vs timm VisionTransformer",
        "device": str(device),
        "device_name": environment.device_name,
        "torch": torch.__version__,
        "timm": timm.__version__,
        "threads": torch.get_num_threads(),
        "environment": dict(environment.as_rows()),
        "thresholds": {"min_ratio": args.min_ratio},
    }
    result["failures"] = [f"ratio {result['ratio']:.3f} < {args.min_ratio:g}"] if result["ratio"] < args.min_ratio else []
    result["passed"] = not result["failures"]
    result["seconds"] = time.perf_counter() - started
    print_report(result)
    return finish(result, args.json)


if __name__ == "__main__":
    sys.exit(main())
