"""The ViT-vs-timm benchmark's own logic (benchmarks/bench_vit_timm.py), without timm."""

from __future__ import annotations

import importlib

import pytest
import torch


@pytest.fixture(scope="module")
def bench():
    return importlib.import_module("benchmarks.bench_vit_timm")


def test_parameter_formula_matches_the_package_vit(bench):
    odd = bench.ViTBenchConfig(image_size=12, patch_size=3, in_channels=1, dim=24, depth=2, heads=2,
                               mlp_ratio=2.0, num_classes=7, batch=4, autocast="none")
    for config in (bench.CPU_CONFIG, odd):
        assert bench.parameter_count(bench.build_ours(config)) == bench.vit_parameter_count(config)


def test_cuda_config_is_deit_tiny(bench):
    # timm's deit_tiny_patch16_224 has 5,717,416 parameters
    assert bench.vit_parameter_count(bench.CUDA_CONFIG) == 5_717_416
    assert bench.CUDA_CONFIG.tokens == 197
    assert bench.config_for(torch.device("cpu")) == bench.CPU_CONFIG


def test_rounds_alternate_the_order(bench):
    calls: list[str] = []
    steps = {name: (lambda name=name: calls.append(name)) for name in ("a", "b")}
    rates = bench.interleaved_throughput(steps, batch=8, device=torch.device("cpu"), warmup=1, rounds=3,
                                         steps_per_round=2)
    assert calls == ["a", "b"] + ["a", "a", "b", "b"] + ["b", "b", "a", "a"] + ["a", "a", "b", "b"]
    assert {name: len(values) for name, values in rates.items()} == {"a": 3, "b": 3}
    assert all(value > 0 for values in rates.values() for value in values)


@pytest.fixture
def one_thread():
    """Tiny models on a busy machine: one thread avoids waiting for a second (descheduled) one."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_training_step_lowers_the_loss(bench, one_thread):
    config = bench.ViTBenchConfig(image_size=8, patch_size=4, in_channels=1, dim=8, depth=1, heads=2,
                                  mlp_ratio=2.0, num_classes=3, batch=6, autocast="none")
    torch.manual_seed(0)
    model = bench.build_ours(config)
    images, labels = bench.make_batch(config, torch.device("cpu"))
    before = torch.nn.functional.cross_entropy(model(images), labels).item()
    step = bench.make_train_step(model, images, labels, config.autocast)
    for _ in range(20):
        step()
    assert torch.nn.functional.cross_entropy(model(images), labels).item() < before


def test_rejects_unknown_autocast(bench):
    with pytest.raises(ValueError, match="autocast"):
        bench.ViTBenchConfig(image_size=8, patch_size=4, in_channels=1, dim=8, depth=1, heads=2,
                             mlp_ratio=2.0, num_classes=3, batch=6, autocast="fp16")


@pytest.mark.parametrize("counts", [(1, 0, 1), (1, 1, 0), (-1, 1, 1)])
def test_rejects_bad_counts(bench, counts):
    warmup, rounds, steps_per_round = counts
    with pytest.raises(ValueError, match="rounds"):
        bench.interleaved_throughput({"a": lambda: None}, 1, torch.device("cpu"), warmup, rounds, steps_per_round)
