"""CIFAR-10 in minutes on a CPU: Day 14's network, augmentation and training recipe.

Defined in Day 14, which builds and explains each piece; the lesson's copies are checked
against these by ``tests/course/test_cifar.py`` (same syntax tree, docstrings and type
annotations aside). Why a checked copy rather than code generated from the lesson
(d2l's ``#@save``): the lesson writes each definition for reading, in the cell that
explains it and next to the lines that try it out, against the lesson's own globals; the
package writes it for import, with its imports, docstrings and types. A generator would
have to infer imports and globals from a notebook and would make this module a build
product; the test gives the same guarantee (the two cannot drift) with nothing to run.

Days 16, 19 and 21 reuse the trained network through :func:`trained_cifar_net`, which
returns it from the model cache (see :mod:`course.model_cache`) instead of training it
again.

The recipe, and why each part is there:

* the images stay decoded in memory as uint8 tensors (150 MB for the training set);
  batches are converted to floats one at a time;
* a small all-convolutional network (:class:`CifarNet`): a 2×2 stem, three stages of two
  3×3 convolutions with BatchNorm and GELU, max pooling between them, a global max pool;
* channels-last memory layout and bfloat16 autocast, the fast paths of oneDNN on CPUs;
* cheap augmentation on whole uint8 batches (:func:`augment`): a random shift of up to
  two pixels and a random horizontal flip, per image;
* SGD with Nesterov momentum, a one-cycle learning-rate schedule, label smoothing;
* test-time augmentation: the prediction averages the image and its mirror image.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from course import profile
from course.data import cifar10
from course.model_cache import trained_model

CLASSES: tuple[str, ...] = tuple(cifar10.CIFAR10_CLASSES)


def channel_stats(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and standard deviation of uint8 images ``N×3×H×W``, on a 0-1 scale.

    Defined in Day 14.
    """
    pixels = images.permute(1, 0, 2, 3).reshape(3, -1).double() / 255
    return pixels.mean(dim=1).float(), pixels.std(dim=1).float()


def conv_bn(c_in: int, c_out: int, pool: bool) -> list[nn.Module]:
    """A 3×3 convolution, an optional 2×2 max pool, BatchNorm and GELU.

    Defined in Day 14.
    """
    layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)]
    if pool:
        layers.append(nn.MaxPool2d(2))
    return [*layers, nn.BatchNorm2d(c_out), nn.GELU()]


class CifarNet(nn.Module):
    """Day 14's CIFAR-10 network. Input: float images in [0, 1], ``N×3×32×32``.

    The normalisation (the training set's mean and std) is part of the model, stored as
    buffers, so the saved network takes plain images: what Day 19 exports.

    Defined in Day 14.
    """

    def __init__(
        self,
        mean: torch.Tensor,
        std: torch.Tensor,
        widths: tuple[int, int, int] = (32, 64, 128),
        stem: int = 24,
    ) -> None:
        super().__init__()
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32).view(1, 3, 1, 1))
        self.register_buffer("std", torch.as_tensor(std, dtype=torch.float32).view(1, 3, 1, 1))
        self.stem = nn.Sequential(
            nn.Conv2d(3, stem, kernel_size=2, bias=False), nn.BatchNorm2d(stem), nn.GELU()
        )
        stages: list[nn.Module] = []
        c_in = stem
        for width in widths:
            stages.append(nn.Sequential(*conv_bn(c_in, width, True), *conv_bn(width, width, False)))
            c_in = width
        self.stages = nn.Sequential(*stages)
        self.head = nn.Linear(c_in, len(CLASSES), bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - self.mean) / self.std
        x = self.stages(self.stem(x))
        return self.head(torch.amax(x, dim=(2, 3)))


def augment(
    images: torch.Tensor,
    shift: int = 2,
    flip: bool = True,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Randomly shift (up to ``shift`` pixels, reflecting at the border) and mirror each image.

    Works on a whole uint8 batch ``N×C×H×W`` at once, with a different shift and flip per
    image. Defined in Day 14.
    """
    n, c, h, w = images.shape
    if shift:
        padded = F.pad(images, (shift,) * 4, mode="reflect")
        dy = torch.randint(0, 2 * shift + 1, (n, 1), generator=generator)
        dx = torch.randint(0, 2 * shift + 1, (n, 1), generator=generator)
        rows = (dy + torch.arange(h)).view(n, 1, h, 1).expand(n, c, h, w + 2 * shift)
        images = padded.gather(2, rows)
        cols = (dx + torch.arange(w)).view(n, 1, 1, w).expand(n, c, h, w)
        images = images.gather(3, cols)
    if flip:
        mirror = torch.rand(n, generator=generator) < 0.5
        images = torch.where(mirror.view(n, 1, 1, 1), images.flip(3), images)
    return images


@dataclass(frozen=True)
class Recipe:
    """Every setting of the training run; ``asdict(recipe)`` goes into the cache key.

    Defined in Day 14.
    """

    epochs: int = 10
    batch_size: int = 256
    lr: float = 0.2
    momentum: float = 0.9
    weight_decay: float = 5e-4
    one_cycle: bool = True  # False: a constant learning rate of ``lr``
    warmup: float = 0.2  # share of the steps spent raising the learning rate
    label_smoothing: float = 0.2
    shift: int = 2
    flip: bool = True
    bf16: bool = True
    channels_last: bool = True
    tta: bool = True


def _autocast(device: torch.device, enabled: bool) -> torch.autocast:
    enabled = enabled and device.type in ("cpu", "cuda")
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=enabled)


def to_input(images: torch.Tensor, device: torch.device, channels_last: bool) -> torch.Tensor:
    """uint8 images → float images in [0, 1] on ``device``, channels-last if asked."""
    x = images.to(device, non_blocking=True).float().div_(255)
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


@torch.no_grad()
def predict_logits(
    model: nn.Module,
    images: torch.Tensor,
    recipe: Recipe = Recipe(),
    batch_size: int = 1000,
) -> torch.Tensor:
    """Logits for uint8 images (float32, on the CPU), averaged with the mirror images'
    when ``recipe.tta``. Puts the model in eval mode. Defined in Day 14.
    """
    model.eval()
    device = next(model.parameters()).device
    out = []
    for start in range(0, len(images), batch_size):
        x = to_input(images[start : start + batch_size], device, recipe.channels_last)
        with _autocast(device, recipe.bf16):
            logits = model(x).float()
            if recipe.tta:
                logits = (logits + model(x.flip(3)).float()) / 2
        out.append(logits.cpu())
    return torch.cat(out)


def make_optimizer(
    model: nn.Module, recipe: Recipe, total_steps: int
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler]:
    """SGD with Nesterov momentum (weight decay on weights, not on BatchNorm and biases) and
    a one-cycle schedule: a linear rise for ``recipe.warmup`` of the steps, then a linear
    fall to almost zero (a constant learning rate if ``recipe.one_cycle`` is False).
    Returns the optimiser and the schedule, to be stepped after every batch. Defined in
    Day 14.
    """
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.ndim > 1], "weight_decay": recipe.weight_decay},
        {"params": [p for p in params if p.ndim <= 1], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.SGD(groups, lr=recipe.lr, momentum=recipe.momentum, nesterov=True)
    if not recipe.one_cycle:
        return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer,
        max_lr=recipe.lr,
        total_steps=total_steps,
        pct_start=recipe.warmup,
        anneal_strategy="linear",
        three_phase=False,
        div_factor=10,
        final_div_factor=100,
        cycle_momentum=False,
    )
    return optimizer, schedule


def train_cifar_net(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    recipe: Recipe = Recipe(),
    *,
    val: tuple[torch.Tensor, torch.Tensor] | None = None,
    log: Callable[[str], None] | None = print,
) -> dict[str, list[float]]:
    """Train ``model`` on uint8 ``images`` with the recipe; return the per-epoch history.

    The history holds ``train_loss`` and ``train_acc`` (averaged over each epoch's
    augmented batches), ``val_loss`` and ``val_acc`` (when ``val`` is given), ``lr`` (at
    each epoch's end) and ``seconds`` (training time of each epoch, evaluation excluded).
    Defined in Day 14.
    """
    device = next(model.parameters()).device
    if recipe.channels_last:
        model.to(memory_format=torch.channels_last)
    steps_per_epoch = len(images) // recipe.batch_size
    if steps_per_epoch == 0:
        raise ValueError(f"{len(images)} images is less than one batch of {recipe.batch_size}")
    optimizer, schedule = make_optimizer(model, recipe, recipe.epochs * steps_per_epoch)
    labels_on_device = labels.to(device)
    history: dict[str, list[float]] = {k: [] for k in ("train_loss", "train_acc", "lr", "seconds")}
    if val is not None:
        history |= {"val_loss": [], "val_acc": []}
    for epoch in range(1, recipe.epochs + 1):
        start = time.perf_counter()
        model.train()
        order = torch.randperm(len(images))
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), device=device, dtype=torch.int64)
        for step in range(steps_per_epoch):
            idx = order[step * recipe.batch_size : (step + 1) * recipe.batch_size]
            x = to_input(
                augment(images[idx], recipe.shift, recipe.flip), device, recipe.channels_last
            )
            y = labels_on_device[idx.to(device)]
            with _autocast(device, recipe.bf16):
                logits = model(x)
            loss = F.cross_entropy(logits.float(), y, label_smoothing=recipe.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            loss_sum += loss.detach() * len(idx)
            correct += (logits.argmax(1) == y).sum()
        seen = steps_per_epoch * recipe.batch_size
        history["seconds"].append(time.perf_counter() - start)
        history["train_loss"].append(loss_sum.item() / seen)
        history["train_acc"].append(correct.item() / seen)
        history["lr"].append(schedule.get_last_lr()[0])
        line = (
            f"epoch {epoch:2d}/{recipe.epochs}  train loss {history['train_loss'][-1]:.3f}"
            f"  acc {history['train_acc'][-1]:.1%}"
        )
        if val is not None:
            logits = predict_logits(model, val[0], recipe)
            history["val_loss"].append(F.cross_entropy(logits, val[1]).item())
            history["val_acc"].append((logits.argmax(1) == val[1]).float().mean().item())
            line += f"  | val loss {history['val_loss'][-1]:.3f}  acc {history['val_acc'][-1]:.1%}"
        if log is not None:
            log(f"{line}  | {history['seconds'][-1]:.1f} s")
    model.eval()
    return history


@dataclass
class CifarSplit:
    """CIFAR-10 as uint8 tensors: a training set, a validation set held out from the
    official training images, and the test set; ``identity`` names the data for cache keys.

    Defined in Day 14.
    """

    train: tuple[torch.Tensor, torch.Tensor]
    val: tuple[torch.Tensor, torch.Tensor]
    test: tuple[torch.Tensor, torch.Tensor]
    identity: dict


def load_split(val_size: int = 5_000, limit: int | None = None, seed: int = 0) -> CifarSplit:
    """The official training set split at random (``seed``) into training and validation
    sets of ``len - val_size`` and ``val_size`` images, plus the test set. ``limit`` takes a
    class-balanced subset of each official set first (smoke runs). Defined in Day 14.
    """
    train_set = cifar10.load_cifar10(train=True, limit=limit)
    test_set = cifar10.load_cifar10(train=False, limit=None if limit is None else limit // 5)
    images, labels = cifar10.cifar10_as_tensors(train_set)
    if not 0 < val_size < len(images):
        raise ValueError(f"val_size must be between 1 and {len(images) - 1}, not {val_size}")
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))
    val_idx, train_idx = order[:val_size], order[val_size:]
    return CifarSplit(
        train=(images[train_idx], labels[train_idx]),
        val=(images[val_idx], labels[val_idx]),
        test=cifar10.cifar10_as_tensors(test_set),
        identity={
            "train_samples": len(train_set),
            "test_samples": len(test_set),
            "synthetic": bool(train_set.synthetic),
            "limit": limit,
            "val_size": val_size,
            "seed": seed,
        },
    )


def trained_cifar_net(
    split: CifarSplit | None = None,
    recipe: Recipe | None = None,
    device: torch.device | None = None,
    log: Callable[[str], None] | None = print,
) -> tuple[CifarNet, dict]:
    """Day 14's trained network, from the model cache or trained now (a few minutes).

    Returns ``(model, info)`` as :func:`course.model_cache.trained_model` does; the
    training history is ``info["metrics"]["history"]``. Days 16, 19 and 21 call this with
    no arguments and get the network Day 14 trained. Defined in Day 14.
    """
    split = split or default_split()
    recipe = recipe or default_recipe()
    device = device or torch.device("cpu")
    mean, std = channel_stats(split.train[0])

    def build() -> CifarNet:
        return CifarNet(mean, std)

    def train(model: nn.Module) -> dict:
        torch.manual_seed(0)
        model.to(device)
        history = train_cifar_net(model, *split.train, recipe, val=split.val, log=log)
        return {"history": history, "device": str(device)}

    settings = {"split": split.identity, "recipe": asdict(recipe)}
    code = [sys.modules[__name__], cifar10]  # this module trains; cifar10 reads the data
    return trained_model(
        "cifar10-day14", build, train, settings=settings, code=code, data=cifar10.DATA_FOLDERS
    )


def default_recipe() -> Recipe:
    """Day 14's recipe: 10 epochs; in the smoke profile 2 epochs of smaller batches.

    Defined in Day 14."""
    return profile.pick(full=Recipe(), smoke=Recipe(epochs=2, batch_size=50, lr=0.05))


def default_split() -> CifarSplit:
    """Day 14's split: 45,000 training and 5,000 validation images (a small subset in the
    smoke profile). Defined in Day 14."""
    return load_split(**profile.pick(full={}, smoke={"val_size": 200, "limit": 1_200}))
