"""Tests for course.model_cache: train once, reuse while the key holds, retrain otherwise."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from course import model_cache
from course.data import store as course_data
from course.model_cache import trained_model

REPO = Path(__file__).resolve().parents[2]
STEP = 1.0  # read by train(): a plain global constant, so part of the key
TRAINED: list[str] = []  # appended to by train(): state, so not part of the key


class TinyNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x)


def build() -> nn.Module:
    torch.manual_seed(0)
    return TinyNet()


def train(model: nn.Module) -> dict:
    TRAINED.append("train")
    with torch.no_grad():
        for p in model.parameters():
            p.add_(STEP)
    return {"loss": np.float64(0.25), "accuracy": torch.tensor(0.75), "curve": [1, 2]}


def train_differently(model: nn.Module) -> dict:
    TRAINED.append("train_differently")
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(3.0)
    return {"loss": 0.5}


@pytest.fixture(autouse=True)
def fresh(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    TRAINED.clear()
    monkeypatch.setenv("COURSE_PROFILE", "full")
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "models"


def _out(capsys) -> str:
    return capsys.readouterr().out


def test_miss_then_hit(fresh: Path, capsys) -> None:
    model, info = trained_model("tiny", build, train, key={"epochs": 1})
    out = _out(capsys)
    assert TRAINED == ["train"]
    assert info["cache_hit"] is False and info["reason"] == "no cached copy yet"
    assert Path(info["path"]).parent == fresh and Path(info["path"]).is_file()
    assert len(info["key"]) == 64
    assert info["metrics"] == {"loss": 0.25, "accuracy": 0.75, "curve": [1, 2]}
    assert type(info["metrics"]["loss"]) is float
    assert (
        out.strip()
        == f"Trained 'tiny' in {info['train_seconds']:.1f} s and cached it at " + (info["path"])
    )
    assert not model.training
    assert not [p for p in fresh.iterdir() if ".tmp-" in p.name]  # written atomically

    again, info2 = trained_model("tiny", build, train, key={"epochs": 1})
    out = _out(capsys)
    assert TRAINED == ["train"]  # not trained again
    assert info2["cache_hit"] is True and info2["key"] == info["key"]
    assert info2["path"] == info["path"] and info2["metrics"] == info["metrics"]
    assert out.startswith(f"Loaded trained model 'tiny' from cache ({info['path']}")
    assert len(out.strip().splitlines()) == 1
    for a, b in zip(model.parameters(), again.parameters(), strict=True):
        assert torch.equal(a, b)
    assert torch.equal(again.fc.bias, build().fc.bias + 1.0)  # the trained weights
    assert not again.training


def test_changed_key_trains_again_and_keeps_the_old_entry(fresh: Path, capsys) -> None:
    _, first = trained_model("tiny", build, train, key={"epochs": 1})
    _out(capsys)
    _, second = trained_model("tiny", build, train, key={"epochs": 2})
    out = _out(capsys)
    assert TRAINED == ["train", "train"]
    assert second["cache_hit"] is False and second["key"] != first["key"]
    assert "key['epochs'] 1 -> 2" in out and "key['epochs'] 1 -> 2" in second["reason"]
    assert Path(first["path"]).is_file() and Path(second["path"]).is_file()
    _, back = trained_model("tiny", build, train, key={"epochs": 1})
    assert back["cache_hit"] is True  # the first entry was not lost


def test_a_changed_nested_key_names_only_the_values_that_changed(capsys) -> None:
    data = {"set": "CIFAR-10", "samples": 1_200, "fingerprint": "f" * 64}
    trained_model("tiny", build, train, key={"data": data, "recipe": {"epochs": 3}})
    _out(capsys)
    bigger = {**data, "samples": 50_000}
    _, info = trained_model("tiny", build, train, key={"data": bigger, "recipe": {"epochs": 10}})
    assert info["reason"].endswith(
        "key['data']['samples'] 1200 -> 50000; key['recipe']['epochs'] 3 -> 10"
    )
    assert "fingerprint" not in _out(capsys)


def test_changed_training_code_trains_again(fresh: Path, capsys) -> None:
    trained_model("tiny", build, train, key={"epochs": 1})
    _out(capsys)
    model, info = trained_model("tiny", build, train_differently, key={"epochs": 1})
    assert info["cache_hit"] is False and TRAINED == ["train", "train_differently"]
    assert "the training code (train)" in _out(capsys)
    assert torch.equal(model.fc.bias, build().fc.bias * 3.0)


def test_changed_constant_read_by_train_trains_again(
    fresh: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, first = trained_model("tiny", build, train, key={})
    monkeypatch.setitem(train.__globals__, "STEP", 2.0)
    _, second = trained_model("tiny", build, train, key={})
    assert second["cache_hit"] is False and second["key"] != first["key"]
    # TRAINED grew in between: a global list is state, not part of the key.
    monkeypatch.setitem(train.__globals__, "STEP", 1.0)
    _, third = trained_model("tiny", build, train, key={})
    assert third["cache_hit"] is True and third["key"] == first["key"]


def test_changed_profile_trains_again(fresh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, full = trained_model("tiny", build, train, key={})
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    _, smoke = trained_model("tiny", build, train, key={})
    assert smoke["cache_hit"] is False and smoke["key"] != full["key"]


def test_same_code_from_another_lesson_hits(fresh: Path) -> None:
    """Days 16, 19 and 21 load Day 14's model: lambdas on different lines share a key."""
    _, day14 = trained_model("cnn", lambda: TinyNet(), train, key={"data": "x"})
    model, day16 = trained_model(
        "cnn",
        lambda: TinyNet(),
        train,
        key={"data": "x"},
    )
    assert day16["cache_hit"] is True and day16["key"] == day14["key"]


def test_model_class_code_is_part_of_the_key() -> None:
    class Other(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(4, 3)

    one = model_cache._code_digest(lambda: TinyNet())
    two = model_cache._code_digest(lambda: Other())
    assert one != two
    assert model_cache._code_digest(build) != model_cache._code_digest(lambda: TinyNet())


def test_corrupt_file_is_detected_and_rebuilt(fresh: Path, capsys) -> None:
    _, info = trained_model("tiny", build, train, key={})
    path = Path(info["path"])
    good = path.read_bytes()

    path.write_bytes(good[: len(good) // 2])  # truncated
    _out(capsys)
    model, again = trained_model("tiny", build, train, key={})
    out = _out(capsys)
    assert again["cache_hit"] is False and "cannot be used" in out and "unreadable" in out
    assert TRAINED == ["train", "train"]
    _, healed = trained_model("tiny", build, train, key={})
    assert healed["cache_hit"] is True

    # Weights changed inside an otherwise readable file: caught by their checksum.
    payload = torch.load(path, weights_only=True)
    payload["state_dict"]["fc.bias"] += 1.0
    torch.save(payload, path)
    _out(capsys)
    _, tampered = trained_model("tiny", build, train, key={})
    assert tampered["cache_hit"] is False and "checksum" in _out(capsys)

    path.write_bytes(b"not a model")
    _, junk = trained_model("tiny", build, train, key={})
    assert junk["cache_hit"] is False and TRAINED.count("train") == 4


def test_key_must_hold_plain_values(fresh: Path) -> None:
    with pytest.raises(TypeError, match="plain values"):
        trained_model("tiny", build, train, key={"data": torch.zeros(3)})
    with pytest.raises(ValueError):
        trained_model("../escape", build, train, key={})
    assert TRAINED == []


def test_default_cache_is_build_cache_and_the_source_tree_is_untouched(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    checkout = tmp_path / "checkout"
    (checkout / "tutorials").mkdir(parents=True)
    (checkout / "src").mkdir()
    (checkout / "pyproject.toml").write_text("[project]\n")
    monkeypatch.delenv("COURSE_CACHE_DIR")
    monkeypatch.setattr(course_data, "repo_root", lambda: checkout)
    started = time.time() - 1
    _, info = trained_model("tiny", build, train, key={})
    assert Path(info["path"]).parent == checkout / "build" / "cache" / "data" / "models"
    assert sorted(p.name for p in checkout.iterdir()) == [
        "build",
        "pyproject.toml",
        "src",
        "tutorials",
    ]
    assert not any((checkout / "src").iterdir()) and not any((checkout / "tutorials").iterdir())
    # And nothing landed in the real source tree either.
    for folder in ("src", "tests", "tutorials"):
        for path in (REPO / folder).rglob("*"):
            if path.suffix in {".pt", ".npz", ".lock", ".json"} and path.is_file():
                assert path.stat().st_mtime < started, f"{path} was written by a test"
