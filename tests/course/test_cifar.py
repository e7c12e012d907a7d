"""Day 14's CIFAR-10 helpers: the lesson's copies, augmentation, the network, the recipe."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch
from conftest import lesson_copy_difference

from course import cifar

LESSON = Path(__file__).resolve().parents[2] / "tutorials" / "day14_cifar10.py"
SHARED = ["channel_stats", "augment", "conv_bn", "CifarNet", "make_optimizer"]


@pytest.mark.parametrize("name", SHARED)
def test_lesson_defines_the_same_code_as_course_cifar(name: str) -> None:
    """Day 14 teaches these definitions; course.cifar keeps the copy later days import."""
    difference = lesson_copy_difference(LESSON, getattr(cifar, name))
    assert difference is None, difference


def test_channel_stats_match_a_direct_computation() -> None:
    images = torch.randint(0, 256, (20, 3, 8, 8), dtype=torch.uint8)
    mean, std = cifar.channel_stats(images)
    floats = images.float() / 255
    for c in range(3):
        assert mean[c].item() == pytest.approx(floats[:, c].mean().item(), abs=1e-6)
        assert std[c].item() == pytest.approx(floats[:, c].std().item(), abs=1e-6)


def test_augment_shifts_each_image_by_its_own_offset() -> None:
    images = torch.randint(0, 256, (64, 3, 10, 10), dtype=torch.uint8)
    out = cifar.augment(images, shift=2, flip=False, generator=torch.Generator().manual_seed(0))
    assert out.shape == images.shape and out.dtype == torch.uint8
    padded = torch.nn.functional.pad(images, (2, 2, 2, 2), mode="reflect")
    offsets = []
    for i in range(len(images)):
        found = [
            (dy, dx)
            for dy in range(5)
            for dx in range(5)
            if torch.equal(out[i], padded[i, :, dy : dy + 10, dx : dx + 10])
        ]
        assert found, f"image {i} is not a 10×10 window of its padded original"
        offsets.append(found[0])
    assert len(set(offsets)) > 5, "the shift should differ between images"


def test_augment_flips_about_half_the_images_and_nothing_else() -> None:
    images = torch.randint(0, 256, (200, 3, 6, 6), dtype=torch.uint8)
    out = cifar.augment(images, shift=0, flip=True, generator=torch.Generator().manual_seed(0))
    flipped = torch.tensor([torch.equal(o, i.flip(2)) for o, i in zip(out, images, strict=True)])
    kept = torch.tensor([torch.equal(o, i) for o, i in zip(out, images, strict=True)])
    assert torch.all(flipped | kept)
    assert 60 < flipped.sum().item() < 140
    assert torch.equal(cifar.augment(images, shift=0, flip=False), images)


def test_net_normalises_inside_and_keeps_the_statistics_in_its_state() -> None:
    mean, std = torch.tensor([0.5, 0.4, 0.3]), torch.tensor([0.2, 0.25, 0.3])
    net = cifar.CifarNet(mean, std).eval()
    state = net.state_dict()
    assert torch.equal(state["mean"].flatten(), mean) and torch.equal(state["std"].flatten(), std)
    x = torch.rand(4, 3, 32, 32)
    out = net(x)
    assert out.shape == (4, len(cifar.CLASSES))
    shifted = cifar.CifarNet(mean + 0.1, std).eval()
    shifted.load_state_dict({**state, "mean": state["mean"] + 0.1})
    torch.testing.assert_close(shifted(x + 0.1), out, atol=1e-5, rtol=1e-4)


def test_channels_last_gives_the_same_outputs() -> None:
    torch.manual_seed(0)
    net = cifar.CifarNet(torch.full((3,), 0.5), torch.full((3,), 0.25)).eval()
    x = torch.rand(4, 3, 32, 32)
    expected = net(x)
    net = net.to(memory_format=torch.channels_last)
    torch.testing.assert_close(
        net(x.contiguous(memory_format=torch.channels_last)), expected, atol=1e-4, rtol=1e-4
    )


def test_one_cycle_rises_to_the_peak_then_falls_and_spares_norm_parameters() -> None:
    recipe = cifar.Recipe(lr=0.4, warmup=0.25, weight_decay=1e-3)
    net = cifar.CifarNet(torch.zeros(3), torch.ones(3))
    optimizer, schedule = cifar.make_optimizer(net, recipe, total_steps=100)
    rates = []
    for _ in range(100):
        rates.append(schedule.get_last_lr()[0])
        optimizer.step()
        schedule.step()
    peak = max(range(100), key=rates.__getitem__)
    assert rates[0] == pytest.approx(0.04)
    assert rates[peak] == pytest.approx(0.4) and 20 <= peak <= 26
    assert rates[-1] < 0.01
    decays = {p.ndim > 1: g["weight_decay"] for g in optimizer.param_groups for p in g["params"]}
    assert decays == {True: 1e-3, False: 0.0}
    constant = dataclasses.replace(recipe, one_cycle=False)
    optimizer, schedule = cifar.make_optimizer(net, constant, total_steps=100)
    for _ in range(5):
        optimizer.step()
        schedule.step()
    assert schedule.get_last_lr() == [0.4, 0.4]


def _toy_split(n: int = 400) -> cifar.CifarSplit:
    """Images whose class is a colour: learnable within a few steps."""
    generator = torch.Generator().manual_seed(0)
    labels = torch.arange(n) % 10
    colours = torch.randint(0, 256, (10, 3), generator=generator, dtype=torch.uint8)
    images = colours[labels].view(n, 3, 1, 1).expand(n, 3, 32, 32).contiguous()
    noise = torch.randint(-20, 21, images.shape, generator=generator)
    images = (images.int() + noise).clamp(0, 255).to(torch.uint8)
    half = n // 2
    return cifar.CifarSplit(
        train=(images[:half], labels[:half]),
        val=(images[half:], labels[half:]),
        test=(images[half:], labels[half:]),
        identity={"toy": n},
    )


def test_training_learns_a_toy_problem_and_records_its_history() -> None:
    torch.manual_seed(0)
    split = _toy_split()
    recipe = cifar.Recipe(epochs=3, batch_size=50, lr=0.05)
    net = cifar.CifarNet(*cifar.channel_stats(split.train[0]))
    lines: list[str] = []
    history = cifar.train_cifar_net(net, *split.train, recipe, val=split.val, log=lines.append)
    assert len(lines) == 3 and lines[0].startswith("epoch  1/3")
    assert {len(v) for v in history.values()} == {3}
    assert history["val_acc"][-1] > 0.8
    logits = cifar.predict_logits(net, *split.test[:1], recipe)
    assert logits.shape == (200, 10) and not net.training


def test_training_refuses_fewer_images_than_one_batch() -> None:
    split = _toy_split(40)
    net = cifar.CifarNet(torch.zeros(3), torch.ones(3))
    with pytest.raises(ValueError, match="less than one batch"):
        cifar.train_cifar_net(net, *split.train, cifar.Recipe(batch_size=256), log=None)


def test_trained_net_comes_from_the_cache_the_second_time(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    split = _toy_split()
    recipe = cifar.Recipe(epochs=1, batch_size=50, lr=0.05)
    first, info = cifar.trained_cifar_net(split, recipe, log=None)
    assert not info["cache_hit"] and len(info["metrics"]["history"]["val_acc"]) == 1
    second, info = cifar.trained_cifar_net(split, recipe, log=None)
    assert info["cache_hit"]
    for a, b in zip(first.state_dict().values(), second.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    _, info = cifar.trained_cifar_net(split, dataclasses.replace(recipe, lr=0.04), log=None)
    assert not info["cache_hit"], "a changed recipe must train again"


def test_the_default_recipe_follows_the_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_PROFILE", "full")
    assert cifar.default_recipe() == cifar.Recipe()
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    assert cifar.default_recipe().epochs < cifar.Recipe().epochs
