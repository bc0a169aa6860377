"""Tests for :mod:`oversmoothing.runtime`: device and profile selection, seeding, environment report."""

from __future__ import annotations

import random
from importlib import metadata

import numpy as np
import pytest
import torch

from oversmoothing import runtime
from oversmoothing.runtime import (
    DEVICE_ENV,
    PROFILE_ENV,
    PROFILES,
    Environment,
    by_profile,
    describe_environment,
    get_device,
    get_profile,
    seed_everything,
)


@pytest.fixture
def no_accelerator(monkeypatch):
    """Pretend neither CUDA nor MPS is present, and clear both environment variables."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    monkeypatch.delenv(DEVICE_ENV, raising=False)
    monkeypatch.delenv(PROFILE_ENV, raising=False)


@pytest.fixture
def fake_cuda(monkeypatch):
    """Pretend a CUDA device is present (only for code that never touches it)."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.delenv(DEVICE_ENV, raising=False)
    monkeypatch.delenv(PROFILE_ENV, raising=False)


# --------------------------------------------------------------------------------------------
# get_device
# --------------------------------------------------------------------------------------------


def test_device_from_environment_variable(monkeypatch):
    monkeypatch.setenv(DEVICE_ENV, "cpu")
    assert get_device() == torch.device("cpu")
    monkeypatch.setenv(DEVICE_ENV, "  cpu ")
    assert get_device() == torch.device("cpu")


def test_explicit_name_wins_over_environment(monkeypatch):
    monkeypatch.setenv(DEVICE_ENV, "not-a-device")
    assert get_device("cpu") == torch.device("cpu")


def test_default_device_without_accelerator(no_accelerator):
    assert get_device() == torch.device("cpu")


def test_empty_environment_variable_means_default(no_accelerator, monkeypatch):
    monkeypatch.setenv(DEVICE_ENV, "")
    assert get_device() == torch.device("cpu")


def test_default_device_prefers_cuda(fake_cuda):
    assert get_device() == torch.device("cuda")


def test_default_device_then_mps(no_accelerator, monkeypatch):
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert get_device() == torch.device("mps")


@pytest.mark.parametrize("name", ["gpu", "cuda:x", "", "cpu cpu"])
def test_bad_device_name(name):
    if name == "":
        assert get_device(name) == get_device()  # an empty name means the default
        return
    with pytest.raises(ValueError, match=r"name=.* is not a device"):
        get_device(name)


def test_bad_device_in_environment_names_the_variable(monkeypatch):
    monkeypatch.setenv(DEVICE_ENV, "gpu")
    with pytest.raises(ValueError, match=DEVICE_ENV):
        get_device()


def test_unsupported_device_type():
    with pytest.raises(ValueError, match="the book supports 'cpu', 'cuda' and 'mps'"):
        get_device("meta")


@pytest.mark.parametrize("name", ["cuda", "cuda:0", "cuda:3"])
def test_cuda_without_cuda(no_accelerator, name):
    with pytest.raises(ValueError, match=r"name=.* asks for CUDA, but no CUDA device is available"):
        get_device(name)


def test_cuda_in_environment_without_cuda(no_accelerator, monkeypatch):
    monkeypatch.setenv(DEVICE_ENV, "cuda")
    with pytest.raises(ValueError, match=f"{DEVICE_ENV}='cuda' asks for CUDA"):
        get_device()


def test_mps_without_mps(no_accelerator):
    with pytest.raises(ValueError, match="MPS is not available"):
        get_device("mps")


# --------------------------------------------------------------------------------------------
# get_profile and by_profile
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value,expected", [("quick", "quick"), ("full", "full"), (" FULL ", "full"), ("Quick", "quick")])
def test_profile_from_environment_variable(monkeypatch, value, expected):
    monkeypatch.setenv(PROFILE_ENV, value)
    assert get_profile() == expected


def test_explicit_profile_wins_over_environment(monkeypatch):
    monkeypatch.setenv(PROFILE_ENV, "full")
    assert get_profile("quick") == "quick"


def test_default_profile_without_cuda(no_accelerator):
    assert get_profile() == "quick"
    assert PROFILES == ("quick", "reference", "full")


def test_default_profile_with_cuda(fake_cuda):
    assert get_profile() == "full"


def test_bad_profile():
    with pytest.raises(ValueError, match=r"name='medium' is not a profile"):
        get_profile("medium")


def test_bad_profile_in_environment_names_the_variable(monkeypatch):
    monkeypatch.setenv(PROFILE_ENV, "fast")
    with pytest.raises(ValueError, match=f"{PROFILE_ENV}='fast' is not a profile"):
        get_profile()


def test_by_profile(no_accelerator, monkeypatch):
    assert by_profile(quick=16, full=256, profile="quick") == 16
    assert by_profile(quick=16, full=256, profile="full") == 256
    assert by_profile(16, 256) == 16  # default profile without CUDA
    monkeypatch.setenv(PROFILE_ENV, "full")
    assert by_profile(quick="small", full="large") == "large"
    with pytest.raises(ValueError, match="not a profile"):
        by_profile(1, 2, profile="huge")


def test_reference_profile_takes_its_own_value_or_the_cpu_one(monkeypatch):
    assert by_profile(quick=16, full=256, profile="reference", reference=64) == 64
    assert by_profile(quick=16, full=256, profile="reference") == 16           # a CPU profile: quick's value
    assert by_profile(quick=16, full=256, profile="quick", reference=64) == 16
    assert by_profile(quick=16, full=256, profile="full", reference=64) == 256
    monkeypatch.setenv(PROFILE_ENV, " Reference ")
    assert get_profile() == "reference"


# --------------------------------------------------------------------------------------------
# seed_everything
# --------------------------------------------------------------------------------------------


def draws() -> tuple:
    return random.random(), np.random.rand(3).tolist(), torch.rand(3).tolist(), torch.randn(2, 2).tolist()


@pytest.mark.parametrize("seed", [0, 1, 2**32 + 5])
def test_same_seed_same_draws(seed):
    generator = seed_everything(seed)
    first = draws()
    own_first = torch.rand(4, generator=generator)
    generator = seed_everything(seed)
    assert draws() == first
    torch.testing.assert_close(torch.rand(4, generator=generator), own_first, rtol=0, atol=0)


def test_returned_generator_is_seeded_like_torch():
    generator = seed_everything(7)
    assert isinstance(generator, torch.Generator) and generator.device.type == "cpu"
    assert generator.initial_seed() == 7
    torch.testing.assert_close(
        torch.rand(5, generator=generator), torch.rand(5, generator=torch.Generator().manual_seed(7)), rtol=0, atol=0
    )


def test_different_seeds_differ():
    seed_everything(0)
    first = draws()
    seed_everything(1)
    second = draws()
    assert all(a != b for a, b in zip(first, second))


def test_default_seed():
    seed_everything()
    first = draws()
    seed_everything(runtime.DEFAULT_SEED)
    assert draws() == first


@pytest.mark.parametrize("seed", [-1, 1.5, True, "0", None])
def test_bad_seed(seed):
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        seed_everything(seed)


# --------------------------------------------------------------------------------------------
# describe_environment
# --------------------------------------------------------------------------------------------


def test_describe_environment_fields():
    environment = describe_environment(torch.device("cpu"), "quick")
    assert isinstance(environment, Environment)
    assert environment.device == "cpu"
    assert isinstance(environment.device_name, str) and environment.device_name
    assert environment.profile == "quick"
    assert environment.python.count(".") == 2
    assert environment.platform
    assert environment.torch_threads == torch.get_num_threads() >= 1
    assert set(environment.packages) == set(runtime.REPORTED_PACKAGES)
    assert environment.packages["torch"] == metadata.version("torch")
    assert environment.packages["oversmoothing"] == metadata.version("oversmoothing")
    assert all(isinstance(version, str) and version for version in environment.packages.values())


def test_describe_environment_reads_the_environment_variables(monkeypatch):
    monkeypatch.setenv(DEVICE_ENV, "cpu")
    monkeypatch.setenv(PROFILE_ENV, "full")
    environment = describe_environment()
    assert (environment.device, environment.profile) == ("cpu", "full")


def test_describe_environment_marks_missing_packages(monkeypatch):
    monkeypatch.setattr(runtime, "REPORTED_PACKAGES", ("torch", "no-such-package-for-the-book"))
    environment = describe_environment(torch.device("cpu"), "quick")
    assert environment.packages["no-such-package-for-the-book"] == "not installed"


def test_describe_environment_rejects_a_bad_profile():
    with pytest.raises(ValueError, match="not a profile"):
        describe_environment(torch.device("cpu"), "medium")


def test_environment_as_rows():
    environment = describe_environment(torch.device("cpu"), "quick")
    rows = environment.as_rows()
    assert all(isinstance(row, tuple) and len(row) == 2 for row in rows)
    assert all(isinstance(item, str) and isinstance(value, str) for item, value in rows)
    items = [item for item, _ in rows]
    assert items[:6] == ["device", "device name", "profile", "python", "platform", "torch CPU threads"]
    assert len(rows) == 6 + len(environment.packages)
    assert dict(rows)["torch"] == environment.packages["torch"]
    assert dict(rows)["device"] == "cpu"


def test_environment_is_frozen():
    environment = describe_environment(torch.device("cpu"), "quick")
    with pytest.raises(AttributeError):
        environment.device = "cuda"  # type: ignore[misc]


# --------------------------------------------------------------------------------------------
# CUDA (skipped without a CUDA device; see conftest.py)
# --------------------------------------------------------------------------------------------


@pytest.mark.cuda
def test_cuda_device_selection(monkeypatch):
    monkeypatch.delenv(DEVICE_ENV, raising=False)
    monkeypatch.delenv(PROFILE_ENV, raising=False)
    assert get_device() == torch.device("cuda")
    assert get_device("cuda:0") == torch.device("cuda:0")
    assert get_profile() == "full"
    monkeypatch.setenv(DEVICE_ENV, "cuda")
    assert get_device().type == "cuda"


@pytest.mark.cuda
def test_cuda_environment_names_the_gpu():
    environment = describe_environment(torch.device("cuda"), "full")
    assert environment.device == "cuda"
    assert environment.device_name == torch.cuda.get_device_name(0)


@pytest.mark.cuda
def test_seed_everything_seeds_cuda():
    seed_everything(3)
    first = torch.rand(4, device="cuda").cpu()
    seed_everything(3)
    torch.testing.assert_close(torch.rand(4, device="cuda").cpu(), first, rtol=0, atol=0)


def test_torch_threads_sets_and_restores_the_thread_count():
    before = torch.get_num_threads()
    with runtime.torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with runtime.torch_threads(None):
        assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError), runtime.torch_threads(1):
        raise RuntimeError("inside")
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="threads"):
        with runtime.torch_threads(0):
            pass
