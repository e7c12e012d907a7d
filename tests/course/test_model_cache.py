"""Tests for course.model_cache: train once, reuse while the key holds, retrain otherwise."""

from __future__ import annotations

import importlib.util
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from course.data import store
from course.model_cache import trained_model

REPO = Path(__file__).resolve().parents[2]
TRAINED: list[str] = []
THIS = sys.modules[__name__]


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
            p.add_(1.0)
    return {"loss": np.float64(0.25), "accuracy": torch.tensor(0.75), "curve": [1, 2]}


@pytest.fixture(autouse=True)
def fresh(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    TRAINED.clear()
    monkeypatch.setenv("COURSE_PROFILE", "full")
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "data").mkdir()
    return tmp_path / "cache" / "models"


def cached(settings=None, code=(THIS,), data=(), name="tiny"):
    return trained_model(name, build, train, settings=settings or {"lr": 0.1}, code=code, data=data)


def out(capsys) -> str:
    return capsys.readouterr().out


def test_miss_then_hit(fresh: Path, capsys) -> None:
    model, info = cached()
    assert TRAINED == ["train"] and info["cache_hit"] is False
    assert info["reason"] == "no cached copy yet"
    assert info["metrics"] == {"loss": 0.25, "accuracy": 0.75, "curve": [1, 2]}
    assert "Training 'tiny' (no cached copy yet)" in out(capsys)
    again, info2 = cached()
    assert TRAINED == ["train"] and info2["cache_hit"] is True and info2["key"] == info["key"]
    assert not again.training
    for a, b in zip(model.parameters(), again.parameters(), strict=True):
        assert torch.equal(a, b)
    printed = out(capsys)
    assert "Loaded the trained model 'tiny' from the model cache" in printed
    assert str(fresh) not in printed  # no machine paths on a page


def test_changed_settings_train_again_and_say_what_changed(fresh: Path, capsys) -> None:
    cached({"recipe": {"lr": 0.1, "epochs": 3}})
    out(capsys)
    _, info = cached({"recipe": {"lr": 0.2, "epochs": 3}})
    assert TRAINED == ["train", "train"] and not info["cache_hit"]
    assert "its key changed: settings.recipe.lr: 0.1 -> 0.2" in out(capsys)
    assert len(list(fresh.glob("tiny-*.pt"))) == 2  # the old entry is kept
    cached({"recipe": {"lr": 0.1, "epochs": 3}})
    assert TRAINED == ["train", "train"]  # and hit again


def _module(tmp_path: Path, name: str, source: str):
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_code_counts_by_meaning(fresh: Path, tmp_path: Path, capsys) -> None:
    recipe = _module(tmp_path, "recipe_a", "def step(x):\n    return x + 1\n")
    cached(code=[recipe])
    commented = _module(
        tmp_path, "recipe_a", '"""Now documented."""\n\n\ndef step(x):  # one\n    return (x + 1)\n'
    )
    cached(code=[commented])
    assert TRAINED == ["train"]  # comments, docstrings and layout do not count
    changed = _module(tmp_path, "recipe_a", "def step(x):\n    return x + 2\n")
    out(capsys)
    cached(code=[changed])
    assert TRAINED == ["train", "train"]
    assert "code.recipe_a changed" in out(capsys)


def test_data_counts_by_content_not_location(fresh: Path, tmp_path: Path, monkeypatch) -> None:
    data = tmp_path / "data"
    (data / "toy").mkdir()
    (data / "toy" / "a.bin").write_bytes(b"\x01\x02")
    cached(data=["toy"])
    moved = tmp_path / "moved"
    shutil.copytree(data, moved)
    monkeypatch.setenv("COURSE_DATA_DIR", str(moved))
    cached(data=["toy"])
    assert TRAINED == ["train"]
    (moved / "toy" / "a.bin").write_bytes(b"\x01\x03")
    cached(data=["toy"])
    assert TRAINED == ["train", "train"]


def test_changed_profile_trains_again(fresh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cached()
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    cached()
    assert TRAINED == ["train", "train"]


def test_corrupt_file_is_detected_and_rebuilt(fresh: Path, capsys) -> None:
    _, info = cached()
    path = Path(info["path"])
    path.write_bytes(path.read_bytes()[:100])
    out(capsys)
    _, info = cached()
    assert TRAINED == ["train", "train"] and not info["cache_hit"]
    assert "the cached file cannot be used: the file is unreadable" in out(capsys)
    cached()
    assert TRAINED == ["train", "train"]  # the rebuilt file is good


def test_tampered_weights_fail_their_checksum(fresh: Path, capsys) -> None:
    _, info = cached()
    payload = torch.load(info["path"], weights_only=True)
    payload["state_dict"]["fc.bias"] += 1
    torch.save(payload, info["path"])
    out(capsys)
    cached()
    assert TRAINED == ["train", "train"]
    assert "do not match their checksum" in out(capsys)


def test_bad_arguments_are_refused(fresh: Path) -> None:
    with pytest.raises(TypeError, match="plain JSON"):
        cached({"data": torch.zeros(3)})
    with pytest.raises(ValueError, match="name must be"):
        cached(name="../escape")
    assert TRAINED == []


def test_default_cache_is_build_cache_and_the_source_tree_is_untouched(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    checkout = tmp_path / "checkout"
    (checkout / "tutorials").mkdir(parents=True)
    (checkout / "src").mkdir()
    (checkout / "pyproject.toml").write_text("[project]\n")
    monkeypatch.delenv("COURSE_CACHE_DIR")
    monkeypatch.setattr(store, "repo_root", lambda: checkout)
    started = time.time() - 1
    _, info = cached()
    assert Path(info["path"]).parent == checkout / "build" / "cache" / "data" / "models"
    assert sorted(p.name for p in checkout.iterdir()) == [
        "build",
        "pyproject.toml",
        "src",
        "tutorials",
    ]
    for folder in ("src", "tests", "tutorials"):
        for path in (REPO / folder).rglob("*"):
            if path.suffix in {".pt", ".npz", ".lock", ".json"} and path.is_file():
                assert path.stat().st_mtime < started, f"{path} was written by a test"
