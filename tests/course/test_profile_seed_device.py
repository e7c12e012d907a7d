"""Tests for course.profile, course.seed and course.device."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from course import profile
from course.device import choose_device
from course.seed import seed_everything


def test_pick_follows_the_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    assert profile.current() == "smoke"
    assert profile.pick(full=20, smoke=2) == 2
    monkeypatch.setenv("COURSE_PROFILE", "full")
    assert profile.pick(full=20, smoke=2) == 20
    monkeypatch.delenv("COURSE_PROFILE")
    assert profile.current() == "full"  # the default is what the site shows
    monkeypatch.setenv("COURSE_PROFILE", "  Smoke ")
    assert profile.current() == "smoke"  # case and spaces forgiven


def test_unknown_profile_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_PROFILE", "turbo")
    with pytest.raises(ValueError, match="turbo"):
        profile.current()
    with pytest.raises(ValueError):
        profile.pick(full=1, smoke=0)


def _draws() -> tuple[float, float, list[float]]:
    return random.random(), float(np.random.rand()), torch.rand(3).tolist()


def test_seed_everything_makes_two_runs_equal() -> None:
    seed_everything(123)
    first = _draws()
    seed_everything(123)
    second = _draws()
    assert first == second
    seed_everything(124)
    assert _draws() != first


def test_seed_everything_shows_nothing_in_a_notebook() -> None:
    assert seed_everything(7) is None  # a cell ending with the call prints no Generator repr
    a = torch.rand(4)
    seed_everything(7)
    assert torch.equal(a, torch.rand(4))


def test_choose_device_honours_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert choose_device("cpu") == torch.device("cpu")
    monkeypatch.delenv("COURSE_DEVICE")
    assert choose_device("cpu") == torch.device("cpu")


def test_choose_device_honours_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert choose_device() == torch.device("cpu")


def test_choose_device_default_is_a_real_device(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    device = choose_device()
    assert device.type in {"cuda", "mps", "cpu"}
    if torch.cuda.is_available():
        assert device.type == "cuda"
    torch.zeros(1, device=device)  # usable


def test_choose_device_refuses_cuda_when_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="CUDA"):
        choose_device("cuda")
    monkeypatch.setenv("COURSE_DEVICE", "cuda:0")
    with pytest.raises(RuntimeError):
        choose_device()
