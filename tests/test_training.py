"""The training loop: schedule values, the smoothed loss formula, learning, determinism, checkpoints,
metrics, validation, and data parallelism on two CPU processes (gloo)."""

from __future__ import annotations

import math
import os
import runpy
import subprocess
import sys
import textwrap
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from oversmoothing.models import CharTransformer, TransformerConfig, VisionTransformer
from oversmoothing.training import (
    EPOCH_FIELDS,
    History,
    TrainConfig,
    cross_entropy_loss,
    evaluate,
    load_checkpoint,
    save_checkpoint,
    train,
    warmup_cosine_factor,
    warmup_cosine_schedule,
)


def templates_task(n: int = 192, classes: int = 4, seed: int = 0) -> SimpleNamespace:
    """Images ``(n, 1, 8, 8)``: one fixed random template per class plus noise (learnable in a few steps)."""
    generator = torch.Generator().manual_seed(seed)
    templates = torch.rand(classes, 1, 8, 8, generator=torch.Generator().manual_seed(123))
    targets = torch.arange(n) % classes
    inputs = templates[targets] + 0.3 * torch.randn(n, 1, 8, 8, generator=generator)
    return SimpleNamespace(inputs=inputs, targets=targets)


def small_vit(seed: int = 0, depth: int = 2) -> VisionTransformer:
    torch.manual_seed(seed)
    return VisionTransformer(TransformerConfig(dim=16, depth=depth, heads=2), image_size=8, patch_size=4,
                             num_classes=4)


def quick_config(**changes) -> TrainConfig:
    settings = dict(epochs=4, batch_size=32, lr=1e-2, progress=False, warmup_fraction=0.1)
    settings.update(changes)
    return TrainConfig(**settings)


# --- schedule ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("step, expected", [
    (0, 0.5), (1, 1.0), (2, 1.0), (4, 0.5 * (1 + math.cos(math.pi * 2 / 8))), (6, 0.5), (9, 0.5 * (1 + math.cos(math.pi * 7 / 8))),
])
def test_warmup_cosine_factor_at_known_steps(step, expected):
    assert warmup_cosine_factor(step, total_steps=10, warmup_steps=2) == pytest.approx(expected, abs=1e-12)


def test_schedule_without_warmup_starts_at_the_peak_and_stays_positive():
    factors = [warmup_cosine_factor(s, 5, 0) for s in range(5)]
    assert factors[0] == 1.0 and all(a > b > 0 for a, b in zip(factors, factors[1:]))


def test_scheduler_sets_the_optimizer_learning_rate():
    weight = nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([weight], lr=0.2)
    scheduler = warmup_cosine_schedule(optimizer, total_steps=6, warmup_steps=3)
    seen = []
    for _ in range(6):
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert seen == pytest.approx([0.2 * warmup_cosine_factor(s, 6, 3) for s in range(6)])
    assert seen[:3] == pytest.approx([0.2 / 3, 0.4 / 3, 0.2])


@pytest.mark.parametrize("arguments, name", [
    ((10, 10, 2), "step"), ((0, 0, 0), "total_steps"), ((0, 10, 10), "warmup_steps"), ((0.5, 10, 2), "step"),
])
def test_schedule_rejects_bad_arguments(arguments, name):
    with pytest.raises(ValueError, match=name):
        warmup_cosine_factor(*arguments)


# --- loss -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("epsilon", [0.0, 0.1, 0.4])
def test_label_smoothing_follows_the_formula(epsilon):
    logits = torch.randn(6, 5, generator=torch.Generator().manual_seed(0))
    targets = torch.tensor([0, 4, 2, 2, 1, 3])
    log_p = logits.log_softmax(dim=-1)
    nll = -log_p[torch.arange(6), targets]
    expected = ((1 - epsilon) * nll + epsilon * (-log_p).mean(dim=-1)).mean()
    assert cross_entropy_loss(logits, targets, epsilon).item() == pytest.approx(expected.item(), rel=1e-6)
    if epsilon > 0:
        assert cross_entropy_loss(logits, targets, epsilon).item() != pytest.approx(nll.mean().item(), rel=1e-3)


def test_language_loss_averages_over_every_token():
    logits = torch.randn(2, 3, 7, generator=torch.Generator().manual_seed(1))
    targets = torch.randint(0, 7, (2, 3), generator=torch.Generator().manual_seed(2))
    expected = F.cross_entropy(logits.reshape(6, 7), targets.reshape(6))
    assert cross_entropy_loss(logits, targets).item() == pytest.approx(expected.item())


def test_loss_rejects_mismatched_shapes_and_float_targets():
    with pytest.raises(ValueError, match="must agree"):
        cross_entropy_loss(torch.zeros(4, 3), torch.zeros(5, dtype=torch.int64))
    with pytest.raises(TypeError, match="int64"):
        cross_entropy_loss(torch.zeros(4, 3), torch.zeros(4))


# --- evaluate ---------------------------------------------------------------------------------------------

def test_evaluate_gives_exact_loss_and_accuracy():
    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 1.0, 3.0], [0.5, 0.0, 0.0], [0.0, 2.0, 0.0]])
    targets = torch.tensor([0, 1, 0, 1])  # argmax hits rows 0, 2, 3
    data = SimpleNamespace(inputs=logits, targets=targets)
    scores = evaluate(nn.Identity(), data, batch_size=3)
    assert scores["accuracy"] == 0.75
    assert scores["loss"] == pytest.approx(F.cross_entropy(logits, targets).item(), rel=1e-6)


# --- training ---------------------------------------------------------------------------------------------

def test_vit_learns_a_learnable_task_and_records_every_epoch():
    data, val = templates_task(192), templates_task(64, seed=1)
    history = train(small_vit(), data, val, quick_config(), device="cpu")
    frame = history.to_frame()
    assert list(frame.columns) == list(EPOCH_FIELDS) and list(frame.epoch) == [1, 2, 3, 4]
    assert list(frame.step) == [6, 12, 18, 24]
    assert frame.train_loss.iloc[-1] < 0.5 * frame.train_loss.iloc[0]
    assert frame.val_accuracy.iloc[-1] >= 0.85 and frame.val_loss.iloc[-1] < math.log(4) / 2
    # the recorded lr is the one of each epoch's last step
    expected_lr = [1e-2 * warmup_cosine_factor(step - 1, 24, 2) for step in frame.step]
    assert frame.lr.tolist() == pytest.approx(expected_lr)


def test_character_model_learns_a_periodic_text():
    text = torch.tensor([0, 1, 2, 3, 1, 2] * 60)
    windows = torch.stack([text[i:i + 9] for i in range(0, 300, 3)])  # (100, 9)
    data = SimpleNamespace(inputs=windows[:, :-1], targets=windows[:, 1:])
    torch.manual_seed(0)
    model = CharTransformer(TransformerConfig(dim=16, depth=1, heads=2, causal=True), vocab_size=4, context=8)
    history = train(model, data, data, quick_config(epochs=6, batch_size=20, lr=1e-2), device="cpu")
    frame = history.to_frame()
    assert frame.train_loss.iloc[-1] < 0.5 * frame.train_loss.iloc[0]
    assert frame.val_accuracy.iloc[-1] > 0.8  # all but the first character of each period is determined


def test_same_seed_gives_identical_history_and_another_seed_does_not():
    data, val = templates_task(96), templates_task(32, seed=1)
    runs = [train(small_vit(), data, val, quick_config(epochs=2, seed=seed), device="cpu").to_frame()
            for seed in (5, 5, 6)]
    columns = [c for c in EPOCH_FIELDS if c != "seconds"]
    assert runs[0][columns].equals(runs[1][columns])
    assert not runs[0].train_loss.equals(runs[2].train_loss)


def test_label_smoothing_bounds_the_training_objective_by_the_target_entropy():
    # With smoothed targets q (1 - ε + ε/C on the class, ε/C elsewhere) the loss is at least the entropy H(q);
    # without smoothing the same run goes below it.
    epsilon, classes = 0.3, 4
    q = torch.full((classes,), epsilon / classes)
    q[0] += 1 - epsilon
    floor = -(q * q.log()).sum().item()  # 0.780 nats
    data, val = templates_task(192), templates_task(64, seed=1)
    plain = train(small_vit(), data, val, quick_config(), device="cpu").to_frame()
    smoothed = train(small_vit(), data, val, quick_config(label_smoothing=epsilon), device="cpu").to_frame()
    assert plain.train_loss.iloc[-1] < floor - 0.1
    assert (smoothed.train_loss >= floor).all()
    assert smoothed.val_accuracy.iloc[-1] >= 0.85


def test_bf16_autocast_runs_on_cpu():
    data = templates_task(64)
    history = train(small_vit(), data, data, quick_config(epochs=2, amp=True), device="cpu")
    assert all(math.isfinite(row["train_loss"]) for row in history.epochs)


def test_layer_metrics_are_recorded_before_training_and_at_chosen_epochs():
    data = templates_task(64)
    history = train(small_vit(depth=2), data, data, quick_config(epochs=5, metrics_every=2), device="cpu",
                    metric_inputs=data.inputs[:8], metric_exclude=[0])
    layers = history.layer_frame()
    assert sorted(set(layers.epoch)) == [0, 2, 4, 5]
    assert layers.groupby("epoch").layer.apply(list).tolist() == [[0, 1, 2]] * 4
    assert {"mean_cosine", "effective_rank"} <= set(layers.columns)


def test_checkpoint_round_trip_restores_exact_weights(tmp_path):
    model, other = small_vit(seed=0), small_vit(seed=1)
    path = save_checkpoint(model, tmp_path / "sub" / "model.safetensors", {"epoch": 3, "note": [1, 2]})
    assert not torch.equal(model.head.weight, other.head.weight)
    assert load_checkpoint(other, path) == {"epoch": 3, "note": [1, 2]}
    for (name, a), (_, b) in zip(model.state_dict().items(), other.state_dict().items()):
        assert torch.equal(a, b), name


def test_checkpoint_of_another_architecture_is_refused(tmp_path):
    path = save_checkpoint(small_vit(depth=1), tmp_path / "m.safetensors")
    with pytest.raises(RuntimeError):
        load_checkpoint(small_vit(depth=2), path)
    with pytest.raises(FileNotFoundError, match="path"):
        load_checkpoint(small_vit(), tmp_path / "missing.safetensors")
    with pytest.raises(ValueError, match="JSON"):
        save_checkpoint(small_vit(), tmp_path / "x.safetensors", {"bad": object()})


def test_checkpoint_dir_holds_the_last_weights_and_the_history(tmp_path):
    data = templates_task(64)
    model = small_vit()
    history = train(model, data, data, quick_config(epochs=2, checkpoint_dir=tmp_path), device="cpu")
    restored = small_vit(seed=7)
    metadata = load_checkpoint(restored, tmp_path / "last.safetensors")
    assert metadata["epoch"] == 2 and metadata["config"]["checkpoint_dir"] == str(tmp_path)
    assert torch.equal(restored.head.weight, model.head.weight)
    assert History.from_json(tmp_path / "history.json") == history


@pytest.mark.parametrize("field, value", [
    ("epochs", 0), ("batch_size", True), ("lr", 0.0), ("lr", float("nan")), ("weight_decay", -0.1),
    ("warmup_fraction", 1.0), ("label_smoothing", -0.1), ("grad_clip", 0.0), ("seed", -1), ("amp", "yes"),
    ("compile", 1), ("metrics_every", -1), ("eval_batch_size", 0), ("checkpoint_dir", 3),
])
def test_wrong_config_values_name_the_field(field, value):
    settings = dict(epochs=1, batch_size=8, lr=1e-3)
    settings[field] = value
    with pytest.raises(ValueError, match=field):
        TrainConfig(**settings)


def test_train_rejects_bad_data_and_arguments():
    data = templates_task(32)
    with pytest.raises(ValueError, match="batch_size=64"):
        train(small_vit(), data, data, quick_config(batch_size=64), device="cpu")
    with pytest.raises(TypeError, match="train.targets"):
        train(small_vit(), SimpleNamespace(inputs=data.inputs, targets=data.targets.float()), data, quick_config(),
              device="cpu")
    with pytest.raises(TypeError, match="val"):
        train(small_vit(), data, (data.inputs, data.targets), quick_config(), device="cpu")
    with pytest.raises(TypeError, match="forward_intermediates"):
        train(nn.Sequential(nn.Flatten(), nn.Linear(64, 4)), data, data, quick_config(), device="cpu",
              metric_inputs=data.inputs[:4])
    with pytest.raises(TypeError, match="TrainConfig"):
        train(small_vit(), data, data, {"epochs": 1}, device="cpu")


def test_the_progress_bar_shows_before_the_first_metrics_and_step(monkeypatch, capsys):
    from oversmoothing.training import loop

    def slow_metrics(*args, **kwargs):  # stands for a first metrics pass that takes minutes
        raise RuntimeError("stopped in the first metrics pass")

    monkeypatch.setattr(loop, "_layer_rows", slow_metrics)
    data = templates_task(64)
    with pytest.raises(RuntimeError, match="first metrics pass"):
        train(small_vit(), data, data, quick_config(epochs=2, progress=True), device="cpu",
              metric_inputs=data.inputs[:4])
    assert "0/4" in capsys.readouterr().err  # 2 epochs of 64 // 32 steps, shown at once


def test_a_diverging_run_says_to_lower_the_learning_rate(monkeypatch):
    from oversmoothing.training import loop

    def nan_loss(logits, targets, *args, **kwargs):
        return logits.sum() * float("nan")

    monkeypatch.setattr(loop, "cross_entropy_loss", nan_loss)
    data = templates_task(64)
    with pytest.raises(FloatingPointError, match=r"the run diverged; lower the learning rate \(now 0.01\)"):
        train(small_vit(), data, data, quick_config(epochs=1), device="cpu")


def test_history_json_rejects_other_files(tmp_path):
    path = tmp_path / "other.json"
    path.write_text('{"epochs": []}')
    with pytest.raises(ValueError, match="layer_metrics"):
        History.from_json(path)


# --- data parallelism: torchrun with two CPU processes -----------------------------------------------------

WORKER = textwrap.dedent('''
    import sys
    from types import SimpleNamespace

    import torch

    from oversmoothing.models import TransformerConfig, VisionTransformer
    from oversmoothing.training import TrainConfig, init_from_environment, train


    def run(out):
        torch.set_num_threads(1)
        group = init_from_environment(torch.device("cpu"))
        templates = torch.rand(4, 1, 8, 8, generator=torch.Generator().manual_seed(123))
        targets = torch.arange(128) % 4
        inputs = templates[targets] + 0.3 * torch.randn(128, 1, 8, 8, generator=torch.Generator().manual_seed(0))
        data = SimpleNamespace(inputs=inputs, targets=targets)
        torch.manual_seed(group.rank)  # different initial weights: DDP must broadcast those of rank 0
        if group.rank == 0:
            torch.manual_seed(0)
        model = VisionTransformer(TransformerConfig(dim=16, depth=1, heads=2), image_size=8, patch_size=4,
                                  num_classes=4)
        config = TrainConfig(epochs=4, batch_size=32, lr=1e-2, progress=False)
        history = train(model, data, data, config, device="cpu")
        torch.save({"state": model.state_dict(), "epochs": history.epochs}, f"{out}/rank{group.rank}.pt")


    if __name__ == "__main__":
        run(sys.argv[1])
''')


@pytest.mark.slow
def test_torchrun_with_two_processes_matches_one_process(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                             str(script), str(tmp_path)], capture_output=True, text=True, timeout=300,
                            env=environment)
    assert result.returncode == 0, result.stderr[-3000:]
    rank0, rank1 = (torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1))
    for name, value in rank0["state"].items():
        assert torch.equal(value, rank1["state"][name]), name  # both processes hold the same weights
    without_time = [[{k: v for k, v in row.items() if k != "seconds"} for row in rank["epochs"]] for rank in (rank0, rank1)]
    assert without_time[0] == without_time[1]  # and the same history
    losses = [row["train_loss"] for row in rank0["epochs"]]
    assert losses[-1] < 0.5 * losses[0]

    # Equal shards average to the full-batch gradient: one process follows the same path up to rounding.
    (tmp_path / "single").mkdir()
    runpy.run_path(str(script))["run"](str(tmp_path / "single"))
    single = torch.load(tmp_path / "single" / "rank0.pt")
    assert [row["train_loss"] for row in single["epochs"]] == pytest.approx(losses, rel=1e-4)
    for name, value in single["state"].items():
        torch.testing.assert_close(rank0["state"][name], value, atol=1e-3, rtol=1e-2)  # Adam amplifies rounding


# --- end-of-epoch hook ------------------------------------------------------------------------------------

def test_on_epoch_end_records_the_model_before_training_and_after_every_epoch(tmp_path):
    data = templates_task(64)
    model = small_vit()
    initial = model.head.weight.norm().item()
    calls = []

    def hook(trained, epoch):
        calls.append((epoch, trained.training, torch.is_grad_enabled()))
        return {"head_norm": trained.head.weight.norm().item()} if epoch != 2 else None

    history = train(model, data, data, quick_config(epochs=3, checkpoint_dir=tmp_path), device="cpu",
                    on_epoch_end=hook)
    assert calls == [(0, False, False), (1, False, False), (2, False, False), (3, False, False)]
    assert [row["epoch"] for row in history.epoch_end] == [0, 1, 3]  # a None result is not stored
    assert history.epoch_end[0]["head_norm"] == initial
    assert history.epoch_end[-1]["head_norm"] == model.head.weight.norm().item() != initial
    assert model.training  # the hook's eval mode does not leak into training
    assert History.from_json(tmp_path / "history.json").epoch_end == history.epoch_end


def test_on_epoch_end_rejects_bad_hooks():
    data = templates_task(32)
    with pytest.raises(TypeError, match="on_epoch_end"):
        train(small_vit(), data, data, quick_config(epochs=1), device="cpu", on_epoch_end="asymmetry")
    with pytest.raises(TypeError, match="on_epoch_end"):
        train(small_vit(), data, data, quick_config(epochs=1), device="cpu", on_epoch_end=lambda m, e: {"epoch": e})
    with pytest.raises(TypeError, match="on_epoch_end"):
        train(small_vit(), data, data, quick_config(epochs=1), device="cpu", on_epoch_end=lambda m, e: 1.0)


def test_has_converged_compares_the_last_fifth_of_the_epochs():
    from oversmoothing.training import has_converged

    flat = [{"val_loss": loss} for loss in (2.0, 1.0, 0.8, 0.7, 0.65, 0.64, 0.64, 0.639, 0.638, 0.637)]
    assert has_converged(flat)                                   # 0.64 -> 0.637 over the last 2 of 10 epochs
    falling = flat[:-2] + [{"val_loss": 0.6}, {"val_loss": 0.55}]
    assert not has_converged(falling)                            # 0.639 -> 0.55: still falling
    assert not has_converged(falling[:1])                        # one epoch cannot show it
    assert has_converged(falling, tolerance=0.2)
    assert History(epochs=flat).converged() and not History(epochs=falling).converged()
    with pytest.raises(ValueError, match="window"):
        has_converged(flat, window=1.5)
    with pytest.raises(ValueError, match="val_loss"):
        has_converged([{"val_loss": 1.0}, {"train_loss": 1.0}])
