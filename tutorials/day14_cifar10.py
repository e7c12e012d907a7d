"""
# Day 14 · CIFAR-10 in practice (CIFAR-10 實作)

CIFAR-10 is the classic step up from digits: 60,000 small colour photos of
ten kinds of object, where backgrounds, poses and lighting vary and a
network has to learn what a cat looks like, not where the ink is. In this
lesson you load it into memory once, normalise it with statistics computed
from the training images, augment it cheaply on whole batches, and train a
small CNN with a modern recipe (one-cycle learning rate, label smoothing,
channels-last memory and bfloat16 arithmetic) whose goal is 85 % test
accuracy within six minutes on two CPU cores. (PyTorch's official CIFAR-10
tutorial, a LeNet-style network trained with SGD with momentum, gets about half of
the test images right.) Then you look at the results the way a practitioner
does: curves, accuracy per class, the confusion matrix and the mistakes.

**You will learn:** loading CIFAR-10 as tensors and keeping it in memory ·
normalising with the training set's mean and standard deviation ·
augmentation on uint8 batches (random shifts and flips) · a small, fast CNN ·
making a CPU train faster: channels-last and bfloat16 · one-cycle learning
rates, label smoothing, test-time augmentation · per-class accuracy, the
confusion matrix, sample predictions · caching a trained model for later
lessons

**Before you start:** [Day 13](day13_cnn_architectures.ipynb) (CNN
architectures, BatchNorm) · [Day 12](day12_regularisation.ipynb)
(augmentation) · **Reading time:** about 2 hours
"""

# %%
# ## 1. Set-up
#
# As in Days 10 and 11, the lesson measures its own run time: the goal is
# 85 % test accuracy within 6 minutes on two CPU cores, so time is part of
# the result.

import time

lesson_start = time.perf_counter()

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader
from torchvision.transforms import v2

import course
import course.cifar
from course.data.cifar10 import CIFAR10_CLASSES, load_cifar10
from course.plots import plot_curves
from course.report import headline

course.seed_everything(0)
device = course.choose_device()
print(f"profile: {course.PROFILE}, device: {device}, torch {torch.__version__}")
print(f"CPU threads: {torch.get_num_threads()}")

# %%
# ## 2. Loading CIFAR-10 into memory
#
# The official training set has 50,000 images and the test set 10,000, each
# 32×32 pixels with three colour channels, in ten balanced classes. We hold
# out 5,000 training images as a **validation set**: every choice in this
# lesson (epochs, learning rate, augmentation) was tuned on it, so the test
# set is touched once, at the end, and its accuracy is an honest estimate
# (Day 8 explains why).
#
# `course.cifar.default_split()` returns the three sets as **uint8 tensors**
# of shape `N×3×32×32`, decoded once and cached on disk by `course.data.cifar10`.
# Days 16, 19 and 21 use the same function, so they see the same split.
#
# Without the course package, torchvision loads the same data as a
# `Dataset` of PIL images (`download=True` fetches the archive, about
# 170 MB, the first time; here the course's data folder already holds it):
#
# ```python
# from torchvision import datasets
# from torchvision.transforms import v2
#
# to_tensor = v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True)])
# train = datasets.CIFAR10("data", train=True, download=True, transform=to_tensor)
# test = datasets.CIFAR10("data", train=False, download=True, transform=to_tensor)
# image, label = train[0]  # a 3×32×32 float tensor and an int from 0 to 9
# ```
#
# `train.data` is a `50000×32×32×3` uint8 NumPy array; the course's loader
# turns that array into the `N×3×32×32` tensors used below.

split = course.cifar.default_split()
train_images, train_labels = split.train
val_images, val_labels = split.val
test_images, test_labels = split.test
CLASSES = tuple(CIFAR10_CLASSES)

for name, (images, labels) in [
    ("train", split.train),
    ("val", split.val),
    ("test", split.test),
]:
    counts = torch.bincount(labels, minlength=10).tolist()
    print(
        f"{name:5s} {tuple(images.shape)} {images.dtype}, "
        f"{images.numel() / 1e6:.1f} MB, images per class "
        f"{min(counts)}-{max(counts)}"
    )
print("classes:", ", ".join(CLASSES))

# %%
# Eight random training images of each class, one class per row:

fig, axes = plt.subplots(10, 8, figsize=(8, 10.5))
generator = torch.Generator().manual_seed(0)
for row, name in enumerate(CLASSES):
    of_class = torch.nonzero(train_labels == row).flatten()
    picks = of_class[torch.randperm(len(of_class), generator=generator)[:8]]
    for col, ax in enumerate(axes[row]):
        ax.axis("off")
        if col < len(picks):
            ax.imshow(train_images[picks[col]].permute(1, 2, 0).numpy())
    axes[row, 0].set_title(name, loc="left", fontsize=10)
fig.suptitle("CIFAR-10 training images, by class")
plt.tight_layout()
plt.show()

# %%
# Why tensors in memory, and not a `Dataset` with a transform per image as
# in Day 5? On a CPU the per-image path costs more than it seems: every
# image goes through Python, a chain of transforms and the collate
# function. Here is the same work done both ways on the same test images:
# mirroring at random and converting to floats.

per_image = load_cifar10(train=False, limit=course.pick(full=None, smoke=600))
per_image.transform = v2.Compose(
    [v2.ToImage(), v2.RandomHorizontalFlip(), v2.ToDtype(torch.float32, scale=True)]
)
n_images = min(2_560, len(per_image))

start = time.perf_counter()
for _images, _labels in DataLoader(
    torch.utils.data.Subset(per_image, range(n_images)), batch_size=256
):
    pass
dataset_seconds = time.perf_counter() - start

start = time.perf_counter()
for first in range(0, n_images, 256):
    batch = test_images[first : first + 256]
    flipped = torch.where(
        torch.rand(len(batch), 1, 1, 1) < 0.5, batch.flip(3), batch
    )
    batch = flipped.float() / 255
tensor_seconds = time.perf_counter() - start

print(f"{n_images:,} images, in batches of 256")
print(
    f"Dataset + per-image transforms: {n_images / dataset_seconds:9,.0f} images/s"
)
print(f"uint8 tensor, whole batches:    {n_images / tensor_seconds:9,.0f} images/s")

# %%
# Compare the two rates: on two cores every
# millisecond spent preparing data is a millisecond not spent training. The
# price: the whole dataset must fit in memory (CIFAR-10's training set is
# about 150 MB as uint8, four times that as float32, so we keep uint8) and
# the augmentation must work on whole batches, which section 4 builds.
#
# ## 3. Normalisation from the training set
#
# Networks train best when their inputs are centred and of similar scale in
# every channel. We compute each channel's mean and standard deviation over
# the **training** images only: the validation and test sets must not leak
# into anything the model learns, and normalisation statistics are learned
# too. The famous constants `(0.4914, 0.4822, 0.4465)` you see in other code
# are exactly this computation, on the full 50,000 images.


def channel_stats(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and standard deviation of uint8 images N×3×H×W, on a 0-1
    scale."""
    pixels = images.permute(1, 0, 2, 3).reshape(3, -1).double() / 255
    return pixels.mean(dim=1).float(), pixels.std(dim=1).float()


mean, std = channel_stats(train_images)
print("mean (R, G, B):", [round(v, 4) for v in mean.tolist()])
print("std  (R, G, B):", [round(v, 4) for v in std.tolist()])

normalised = (
    train_images[:1_000].float() / 255 - mean.view(1, 3, 1, 1)
) / std.view(1, 3, 1, 1)
per_channel = normalised.permute(1, 0, 2, 3).reshape(3, -1)
print(
    "after normalising 1,000 images, mean:",
    [round(v, 2) for v in per_channel.mean(1).tolist()],
)
print(
    "after normalising 1,000 images, std: ",
    [round(v, 2) for v in per_channel.std(1).tolist()],
)

# %%
# Each channel gets its own correction: compare the three means printed
# above. The network below stores `mean` and `std` as **buffers** and
# normalises inside `forward`: the saved model then takes plain images with
# values in [0, 1], so nobody who loads it later (Day 19 exports it) can
# forget or mistype the constants.
#
# ## 4. Augmentation on whole batches
#
# Day 12 showed that augmentation, showing the network randomly altered
# copies of the training images, is the strongest regulariser for images. For
# CIFAR-10 two cheap changes keep the label: **mirroring** left-right (a
# mirrored cat is a cat; a mirrored digit would not be a digit) and
# **shifting** by a couple of pixels. `torchvision.transforms.v2` applied to a
# batch tensor draws *one* random choice for the whole batch, so we write
# our own, with a different shift and flip for every image, on uint8 data:
#
# - pad each image by `shift` pixels on every side, reflecting the border;
# - choose a random offset per image, and cut a 32×32 window with
#   `gather`, which picks, for each image, the rows (then columns) its
#   offset names;
# - mirror a random half of the images with `torch.where`.


def augment(
    images: torch.Tensor,
    shift: int = 2,
    flip: bool = True,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Randomly shift (up to ``shift`` pixels, reflecting at the border) and mirror
    each image."""
    n, c, h, w = images.shape
    if shift:
        padded = F.pad(images, (shift,) * 4, mode="reflect")
        dy = torch.randint(0, 2 * shift + 1, (n, 1), generator=generator)
        dx = torch.randint(0, 2 * shift + 1, (n, 1), generator=generator)
        rows = (
            (dy + torch.arange(h)).view(n, 1, h, 1).expand(n, c, h, w + 2 * shift)
        )
        images = padded.gather(2, rows)
        cols = (dx + torch.arange(w)).view(n, 1, 1, w).expand(n, c, h, w)
        images = images.gather(3, cols)
    if flip:
        mirror = torch.rand(n, generator=generator) < 0.5
        images = torch.where(mirror.view(n, 1, 1, 1), images.flip(3), images)
    return images


start = time.perf_counter()
augmented = augment(train_images[:256])
print(f"augmenting a batch of 256: {(time.perf_counter() - start) * 1000:.1f} ms")
print("dtype and shape kept:", augmented.dtype, tuple(augmented.shape))

# %%
# Each row below is one training image and six augmented copies. We
# exaggerate the shift to 4 pixels here so that you can see it; training
# uses 2 (larger shifts cost accuracy with so few epochs).

examples = train_images[:4]
generator = torch.Generator().manual_seed(1)
fig, axes = plt.subplots(4, 7, figsize=(10, 6.2))
for row, image in enumerate(examples):
    copies = augment(image.expand(6, -1, -1, -1), shift=4, generator=generator)
    for col, ax in enumerate(axes[row]):
        picture = image if col == 0 else copies[col - 1]
        ax.imshow(picture.permute(1, 2, 0).numpy())
        ax.axis("off")
    axes[row, 0].set_title(
        f"original: {CLASSES[train_labels[row]]}", fontsize=9, loc="left"
    )
    axes[row, 1].set_title("augmented copies →", fontsize=9, loc="left")
fig.suptitle("Random shifts (up to 4 px) and mirroring, per image")
plt.tight_layout()
plt.show()

# %%
# ## 5. A small, fast network
#
# Day 13 compared architectures on accuracy *and* time. With six minutes on a
# CPU, time decides: the network must do little work per image yet have
# enough capacity. Ours, adapted from fast CIFAR-10 training records
# (Keller Jordan's *airbench*), has:
#
# - a **2×2 stem** convolution with 24 channels, which looks at tiny patches
#   at full resolution: cheap, with only 2×2 kernels and few channels. It
#   takes the 32×32 image to 31×31 (no padding), and the first stage's first
#   convolution also runs at 31×31; every later layer works after a pool;
# - three **stages**, each a 3×3 convolution, a 2×2 max pool, then a second
#   3×3 convolution, every convolution followed by BatchNorm and GELU. The
#   pool sits right after the first convolution, so the second one works at
#   a quarter of the pixels; widths 32, 64, 128;
# - a **global max pool**, "is the feature anywhere in the image?", and a
#   linear layer to the ten classes. No fully connected hidden layers, so
#   almost all parameters are convolution kernels.
#
# The convolutions have no bias: BatchNorm's shift right after them does the
# same job.


def conv_bn(c_in: int, c_out: int, pool: bool) -> list[nn.Module]:
    """A 3×3 convolution, an optional 2×2 max pool, BatchNorm and GELU."""
    layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)]
    if pool:
        layers.append(nn.MaxPool2d(2))
    return [*layers, nn.BatchNorm2d(c_out), nn.GELU()]


class CifarNet(nn.Module):
    """Day 14's CIFAR-10 network. Input: float images in [0, 1], N×3×32×32."""

    def __init__(
        self,
        mean: torch.Tensor,
        std: torch.Tensor,
        widths: tuple[int, int, int] = (32, 64, 128),
        stem: int = 24,
    ) -> None:
        super().__init__()
        self.register_buffer(
            "mean", torch.as_tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)
        )
        self.register_buffer(
            "std", torch.as_tensor(std, dtype=torch.float32).view(1, 3, 1, 1)
        )
        self.stem = nn.Sequential(
            nn.Conv2d(3, stem, kernel_size=2, bias=False),
            nn.BatchNorm2d(stem),
            nn.GELU(),
        )
        stages: list[nn.Module] = []
        c_in = stem
        for width in widths:
            stages.append(
                nn.Sequential(
                    *conv_bn(c_in, width, True), *conv_bn(width, width, False)
                )
            )
            c_in = width
        self.stages = nn.Sequential(*stages)
        self.head = nn.Linear(c_in, len(CLASSES), bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - self.mean) / self.std
        x = self.stages(self.stem(x))
        return self.head(torch.amax(x, dim=(2, 3)))


net = CifarNet(mean, std)
x = train_images[:8].float() / 255
print(f"{'input':>8s} {tuple(x.shape)}")
with torch.no_grad():
    x = net.stem((x - net.mean) / net.std)
    print(f"{'stem':>8s} {tuple(x.shape)}")
    for i, stage in enumerate(net.stages, start=1):
        x = stage(x)
        print(f"{'stage ' + str(i):>8s} {tuple(x.shape)}")
print(f"{'output':>8s} {tuple(net(train_images[:8].float() / 255).shape)}")

# %%
# Its size and its work per image, counted with forward hooks as in Day 11.
# A multiply-add is one `a * b + c`; a training step costs about three times
# the forward pass (forward, then gradients for inputs and for weights).


def multiply_adds(model: nn.Module, image_size: int = 32) -> int:
    """Multiply-adds of one forward pass of one image through the conv and linear
    layers."""
    total = 0

    def count(layer, inputs, output):
        nonlocal total
        if isinstance(layer, nn.Conv2d):
            total += output[0].numel() * layer.weight[0].numel()
        elif isinstance(layer, nn.Linear):
            total += layer.weight.numel()

    hooks = [m.register_forward_hook(count) for m in model.modules()]
    with torch.no_grad():
        model.eval()
        model(torch.zeros(1, 3, image_size, image_size))
    for hook in hooks:
        hook.remove()
    return total


n_params = sum(p.numel() for p in net.parameters())
print(f"parameters: {n_params:,}")
print(f"multiply-adds per image: {multiply_adds(net) / 1e6:.1f} million")

# %%
# ## 6. Making a CPU train faster: channels-last and bfloat16
#
# Two changes make each training step cheaper without changing the maths
# much:
#
# - **Channels-last memory format.** A batch is stored `N, C, H, W` by
#   default: all red values, then all green... The CPU's convolution kernels
#   (oneDNN) work fastest when the channels of one pixel sit together,
#   `N, H, W, C`. `model.to(memory_format=torch.channels_last)` and the same
#   on each input batch change only the layout in memory; shapes and results
#   stay the same.
# - **bfloat16 autocast.** `torch.autocast("cpu", dtype=torch.bfloat16)` runs
#   convolutions and matrix products in bfloat16, a 16-bit float with
#   float32's range but fewer digits, while keeping sensitive operations
#   (the loss, BatchNorm statistics, the weights themselves) in float32.
#   Recent CPUs (and all recent GPUs) have instructions for it; on an old
#   CPU it can be *slower*, which is why we measure.
#
# We time one training step on the same batch in each of the four
# combinations, after two warm-up steps, and take the median:

step_batch = course.pick(full=256, smoke=32)
timing_steps = course.pick(full=5, smoke=1)


def seconds_per_step(channels_last: bool, bf16: bool) -> float:
    """Median seconds of one training step of a fresh CifarNet."""
    model = CifarNet(mean, std).to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = train_images[:step_batch].to(device).float() / 255
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    y = train_labels[:step_batch].to(device)
    times = []
    for _ in range(2 + timing_steps):
        start = time.perf_counter()
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            loss = F.cross_entropy(model(x).float(), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return float(np.median(times[2:]))


speed = {}
for channels_last in (False, True):
    for bf16 in (False, True):
        layout = "channels-last" if channels_last else "NCHW"
        name = f"{'bfloat16' if bf16 else 'float32'}, {layout}"
        speed[name] = seconds_per_step(channels_last, bf16)
baseline_step = speed["float32, NCHW"]
print(f"one training step, batch of {step_batch}:")
for name, seconds in speed.items():
    print(
        f"  {name:26s} {seconds * 1000:7.1f} ms   {baseline_step / seconds:4.2f}× "
        "faster"
    )

# %%
# The last line is the setting we train with; the factor is how much more
# training fits into the same minutes (on this run's hardware, printed in
# section 1). bfloat16 rounds: does it cost accuracy? Autocast keeps the
# loss and the weights in float32, which usually makes the answer "no
# measurable cost", but check rather than trust: the benchmark of section
# 13 trains the same recipe in float32 too.
#
# ## 7. The training recipe
#
# The training loop is Day 10's with four changes, each a standard part of
# fast training today:
#
# 1. **SGD with Nesterov momentum** and weight decay on the weights only (not
#    on BatchNorm's scales and shifts, which weight decay would just shrink).
# 2. A **one-cycle learning rate**: it rises linearly from a tenth of its
#    peak over the first 20 % of the steps (a *warm-up*, while BatchNorm's
#    statistics and the weights settle), then falls linearly to almost
#    zero. High learning rates in the middle explore; the long decay at the
#    end settles into a minimum. Day 15 compares schedules in depth.
# 3. **Label smoothing**: the target for an image of a cat is not "100 %
#    cat" but "82 % cat, 2 % each other class" (with smoothing 0.2). The
#    network is no longer pushed to ever larger, overconfident logits, which
#    regularises it.
# 4. **Test-time augmentation** (TTA): at evaluation, average the logits of
#    each image and of its mirror image. It costs a second forward pass and
#    no training.
#
# All settings live in one dataclass, so a run is described by a single
# object (and the model cache below keys on it):

recipe = course.cifar.default_recipe()
print(recipe)


def make_optimizer(
    model: nn.Module, recipe: course.cifar.Recipe, total_steps: int
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler]:
    """SGD with Nesterov momentum, weight decay on weights only, and a one-cycle
    schedule."""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {
            "params": [p for p in params if p.ndim > 1],
            "weight_decay": recipe.weight_decay,
        },
        {"params": [p for p in params if p.ndim <= 1], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.SGD(
        groups, lr=recipe.lr, momentum=recipe.momentum, nesterov=True
    )
    if not recipe.one_cycle:
        return optimizer, torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: 1.0
        )
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


# %%
# The learning rate it will follow, step by step, computed by stepping a
# throwaway optimiser through the whole schedule:

steps_per_epoch = len(train_images) // recipe.batch_size
total_steps = recipe.epochs * steps_per_epoch
_, schedule = make_optimizer(CifarNet(mean, std), recipe, total_steps)
learning_rates = []
for _ in range(total_steps):
    learning_rates.append(schedule.get_last_lr()[0])
    schedule.optimizer.step()
    schedule.step()

fig, ax = plt.subplots(figsize=(7, 3.5))
ax.plot(np.arange(total_steps) / steps_per_epoch, learning_rates)
ax.set_xlabel("epoch")
ax.set_ylabel("learning rate")
ax.set_title(
    f"One-cycle schedule: {total_steps:,} steps of {recipe.batch_size} images"
)
ax.grid(True, alpha=0.3)
plt.show()

# %%
# And label smoothing, on a logit vector that is confidently right: the
# plain cross-entropy is small and keeps shrinking as the logit grows;
# the smoothed one has a minimum at a finite confidence.

target = torch.tensor([3])  # "cat"
for big in (2.0, 5.0, 10.0):
    logits = torch.zeros(1, 10)
    logits[0, 3] = big
    plain = F.cross_entropy(logits, target).item()
    smooth = F.cross_entropy(
        logits, target, label_smoothing=recipe.label_smoothing
    ).item()
    confidence = logits.softmax(1)[0, 3].item()
    print(
        f"cat logit {big:4.1f} (p(cat) = {confidence:.3f}): "
        f"plain {plain:.3f}, smoothed {smooth:.3f}"
    )

# %%
# ## 8. Training, once, for this and later lessons
#
# The training function, `course.cifar.train_cifar_net`, is Day 10's loop
# with the recipe: each step draws a random batch, augments it (section
# 4), converts it to channels-last floats, runs the forward pass under
# autocast, and steps the optimiser and then the schedule. After each epoch
# it evaluates on the validation set, with TTA. Its core, quoted from
# `src/course/cifar.py` (bookkeeping and logging left out):
#
# ```python
# total_steps = recipe.epochs * steps_per_epoch
# optimizer, schedule = make_optimizer(model, recipe, total_steps)
# for epoch in range(1, recipe.epochs + 1):
#     model.train()
#     order = torch.randperm(len(images))
#     for step in range(steps_per_epoch):
#         idx = order[step * recipe.batch_size : (step + 1) * recipe.batch_size]
#         x = to_input(
#             augment(images[idx], recipe.shift, recipe.flip), device,
#             recipe.channels_last
#         )
#         y = labels_on_device[idx.to(device)]
#         with _autocast(device, recipe.bf16):  # only the forward pass in bfloat16
#             logits = model(x)
#         loss = F.cross_entropy(
#             logits.float(), y, label_smoothing=recipe.label_smoothing
#         )
#         optimizer.zero_grad(set_to_none=True)
#         loss.backward()
#         optimizer.step()
#         schedule.step()  # one-cycle: stepped after every batch, not every epoch
#         loss_sum += loss.detach() * len(idx)  # the smoothed loss, for the curves
# ```
#
# The definitions above (`channel_stats`, `augment`, `conv_bn`, `CifarNet`,
# `make_optimizer`) are saved in `course.cifar` too, unchanged (the course's
# tests check that the two copies stay identical), as d2l does with its
# `d2l` package. That lets Days 16, 19 and 21 reuse *this* trained network:
# `course.cifar.trained_cifar_net` saves the trained weights with Day 9's
# `torch.save`, through `course.model_cache`, under a key made of the data,
# the recipe and the code; a later call with the same key loads them in a
# second instead of training again, and changing anything in the key
# trains anew.

model, info = course.cifar.trained_cifar_net(split, recipe, device=device)
history = info["metrics"]["history"]
if info["cache_hit"]:
    cache_file = str(info["path"]).replace("\\", "/").rsplit("/", 1)[-1]
    print(f"loaded from the model cache (file {cache_file})")
    for epoch, (loss, acc) in enumerate(
        zip(history["val_loss"], history["val_acc"], strict=True), 1
    ):
        print(f"epoch {epoch:2d}: val loss {loss:.3f}, val accuracy {acc:.1%}")
print(
    f"training took {info['train_seconds']:.0f} s on {info['metrics']['device']}:"
)
print(
    f"median {np.median(history['seconds']):.1f} s per epoch of "
    f"{len(train_images):,} images"
)

# %%
# ## 9. Curves
#
# Training loss and accuracy are averaged over each epoch's *augmented*
# batches while the weights were still changing; validation numbers are
# measured after the epoch, on plain images, with TTA. That is why the
# validation accuracy can sit above the training accuracy, early in the
# run especially, and why the training loss, which includes label smoothing's
# penalty, never gets near zero: with smoothing 0.2 over ten classes, even a
# perfect prediction of the smoothed target (82 % and 2 % × 9) has a
# cross-entropy equal to that target's entropy. The dashed line draws that
# floor, computed below; the validation loss is plain cross-entropy, with no
# floor.

smoothed_target = torch.full((10,), recipe.label_smoothing / 10)
smoothed_target[0] += 1 - recipe.label_smoothing
smoothing_floor = -(smoothed_target * smoothed_target.log()).sum().item()
print(f"lowest possible smoothed training loss: {smoothing_floor:.3f}")

fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(12, 4.2))
plot_curves(
    {
        "train (augmented, smoothed)": history["train_loss"],
        "validation": history["val_loss"],
    },
    title="Loss per epoch",
    ylabel="cross-entropy",
    ax=ax_loss,
)
ax_loss.axhline(smoothing_floor, color="grey", ls="--", label="smoothing floor")
ax_loss.legend()
plot_curves(
    {
        "train (augmented)": [100 * a for a in history["train_acc"]],
        "validation": [100 * a for a in history["val_acc"]],
    },
    title="Accuracy per epoch",
    ylabel="accuracy (%)",
    ax=ax_acc,
)
plt.tight_layout()
plt.show()

# %%
# ## 10. The test set, once
#
# Now, with every choice made, the test set. We report the accuracy with and
# without test-time augmentation, both from the same trained weights:

model = model.to(device)
test_logits = course.cifar.predict_logits(model, test_images, recipe)
test_predictions = test_logits.argmax(1)
test_accuracy = (test_predictions == test_labels).float().mean().item()
no_tta = course.cifar.predict_logits(
    model, test_images, course.cifar.Recipe(tta=False)
)
no_tta_accuracy = (no_tta.argmax(1) == test_labels).float().mean().item()

print(
    f"test accuracy: {test_accuracy:.2%} (without test-time augmentation "
    f"{no_tta_accuracy:.2%})"
)
print(f"goal of 85 %: {'reached' if test_accuracy >= 0.85 else 'not reached'}")
headline("CIFAR-10 test accuracy", f"{test_accuracy:.2%} (with flip TTA)")

# %%
# ## 11. Accuracy per class, and the confusion matrix
#
# One overall accuracy hides where a model fails. Row *i*, column *j* of the
# **confusion matrix** counts test images of class *i* predicted as class
# *j*; the diagonal holds the correct ones, and the accuracy of a class is
# its diagonal entry divided by its row's sum.

confusion = torch.zeros(10, 10, dtype=torch.int64)
confusion.index_put_(
    (test_labels, test_predictions),
    torch.ones(len(test_labels), dtype=torch.int64),
    accumulate=True,
)
per_class = confusion.diag() / confusion.sum(1)
order = torch.argsort(per_class)

fig, ax = plt.subplots(figsize=(7, 4.2))
bars = ax.barh([CLASSES[i] for i in order], 100 * per_class[order])
ax.bar_label(bars, fmt="%.1f %%", label_type="center", color="white")
ax.axvline(100 * test_accuracy, color="black", linestyle="--", label="overall")
ax.set_xlim(0, 100)
ax.set_xlabel("test accuracy (%)")
ax.set_title("Test accuracy per class")
ax.legend(loc="lower right")
plt.tight_layout()
plt.show()

# %%

fig, ax = plt.subplots(figsize=(7.5, 6.5))
ax.imshow(confusion, cmap="Blues")
for i in range(10):
    for j in range(10):
        count = confusion[i, j].item()
        colour = "white" if count > confusion.max().item() / 2 else "black"
        ax.text(
            j, i, str(count), ha="center", va="center", color=colour, fontsize=8
        )
ax.set_xticks(range(10), CLASSES, rotation=45, ha="right")
ax.set_yticks(range(10), CLASSES)
ax.set_xlabel("predicted class")
ax.set_ylabel("true class")
ax.set_title("Confusion matrix on the test set")
plt.tight_layout()
plt.show()

# %%
# The weakest classes and the largest off-diagonal counts tend to be the
# animals that look alike at 32×32 pixels, cat and dog above all, and the
# vehicles are usually the easiest. Check the printout against that:
# which pair is confused most in *this* run?

off_diagonal = confusion.clone().fill_diagonal_(0)
worst = torch.argmax(off_diagonal).item()
true_class, predicted_class = divmod(worst, 10)
print(f"weakest class: {CLASSES[order[0]]} ({per_class[order[0]]:.1%})")
print(f"strongest class: {CLASSES[order[-1]]} ({per_class[order[-1]]:.1%})")
print(
    f"most frequent mistake: {CLASSES[true_class]} predicted as "
    f"{CLASSES[predicted_class]}, "
    f"{off_diagonal.max().item()} times"
)

# %%
# ## 12. Sample predictions
#
# Twenty-four test images drawn at random (the test folder is sorted by
# class), with the predicted class and its probability; mistakes in red,
# with the true class.

probabilities = test_logits.softmax(1)
shown = torch.randperm(
    len(test_images), generator=torch.Generator().manual_seed(0)
)[:24]
fig, axes = plt.subplots(4, 6, figsize=(11, 8.2))
for i, ax in zip(shown.tolist(), axes.flat, strict=True):
    ax.imshow(test_images[i].permute(1, 2, 0).numpy())
    ax.axis("off")
    predicted = test_predictions[i].item()
    right = predicted == test_labels[i].item()
    title = f"{CLASSES[predicted]} {probabilities[i, predicted]:.0%}"
    if not right:
        title += f"\n(true: {CLASSES[test_labels[i]]})"
    ax.set_title(title, color="black" if right else "red", fontsize=10)
fig.suptitle("Predictions on test images (red: wrong)")
plt.tight_layout()
plt.show()

# %%
# ## 13. What each step gained
#
# The parts of the recipe were chosen on the validation set. Section 6
# measured the speed steps in this run. The accuracy steps need one full
# training run each, too long for a lesson, so they are a benchmark in the
# course's repository that you can run from a clone of it (about 5 minutes
# per run on two cores):
#
# ```bash
# python benchmarks/cifar10_recipe.py     # the recipe, and each part removed
# python benchmarks/cifar10_recipe.py --only no-augmentation
# ```
#
# It trains the recipe and then the recipe with one part removed at a time
# (augmentation, label smoothing, the one-cycle schedule, bfloat16), on the
# same split with the same seed, and prints validation and test accuracy
# for each: the design of a fair experiment from Day 12. One run of it
# (10 epochs, one seed, on the course's machine; not this page's run) gave:
#
# | variant                     | test accuracy |
# |-----------------------------|--------------:|
# | the recipe                  | 89.34 %       |
# | without augmentation        | 86.95 %       |
# | without label smoothing     | 89.06 %       |
# | constant learning rate 0.05 | 86.04 %       |
# | float32 instead of bfloat16 | 88.71 %       |
#
# With one seed, differences under one point (label smoothing, bfloat16) may
# be run-to-run noise; augmentation and the one-cycle
# schedule are worth more than two points each here.

elapsed = time.perf_counter() - lesson_start
print(f"lesson run time: {elapsed:.0f} s ({elapsed / 60:.1f} min)")
print(
    f"of which training: {info['train_seconds']:.0f} s"
    + (" (cached)" if info["cache_hit"] else "")
)

# %%
# ## 14. Summary
#
# - Decode once, keep **uint8 tensors** in memory, and convert each batch to
#   floats when you need it: on a CPU the data path otherwise eats the
#   training time.
# - **Normalise** with the training set's own per-channel mean and standard
#   deviation; storing them in the model as buffers makes the saved model
#   self-contained.
# - **Augment** with label-preserving changes (shifts, mirroring for
#   photos), different for every image, on whole batches.
# - A small network that pools early and ends in a global pool does little
#   work per image; **channels-last** and **bfloat16** make each step
#   cheaper still on a modern CPU (measure on yours).
# - A **one-cycle** schedule, **label smoothing** and **test-time
#   augmentation** are cheap and standard.
# - Report more than one number: curves, **per-class accuracy**, the
#   **confusion matrix** and the mistakes themselves.
#
# ## 15. Exercises
#
# 1. Show the test images of the most frequent mistake found in section 11
#    (true class predicted as another), up to twelve of them. Would you
#    have got them right?
# 2. Test-time augmentation with more views: average the logits of the
#    image, its mirror, and both shifted by one pixel left and right (six
#    views). Does accuracy improve over the two views of section 10?
# 3. How confident is the network when it is wrong? Compare the predicted
#    class's probability on right and on wrong test predictions, as two
#    histograms.

# %%
# **Solution 1.** Select the indices where the true and predicted classes
# are the pair found above:

mistakes = torch.nonzero(
    (test_labels == true_class) & (test_predictions == predicted_class)
).flatten()[:12]
fig, axes = plt.subplots(2, 6, figsize=(11, 4.4), squeeze=False)
for ax in axes.flat:
    ax.axis("off")
for ax, i in zip(axes.flat, mistakes.tolist(), strict=False):
    ax.imshow(test_images[i].permute(1, 2, 0).numpy())
    ax.set_title(
        f"p({CLASSES[predicted_class]}) = {probabilities[i, predicted_class]:.0%}"
    )
fig.suptitle(
    f"{CLASSES[true_class]} images predicted as {CLASSES[predicted_class]}"
)
plt.tight_layout()
plt.show()

# %%
# **Solution 2.** Shift by one pixel left and right, padding by reflection as
# `augment` did in training (`torch.roll` would wrap the opposite edge
# round, a picture training never showed), plus mirroring, and average all
# six views' logits:


def shifted(x: torch.Tensor, s: int) -> torch.Tensor:
    """Shift a float batch ``s`` pixels (±1) along the width, reflecting the
    border."""
    padded = F.pad(x, (1, 1, 0, 0), mode="reflect")
    return padded[..., 1 + s : 1 + s + x.shape[3]]


@torch.no_grad()
def logits_of_views(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """Average logits over the image, its mirror, and both shifted one pixel left
    and right."""
    model.eval()
    total = torch.zeros(len(images), 10)
    for start in range(0, len(images), 1_000):
        x = course.cifar.to_input(
            images[start : start + 1_000], device, channels_last=True
        )
        views = [x, x.flip(3)]
        views += [shifted(v, s) for v in views[:2] for s in (-1, 1)]
        with torch.autocast(device.type, dtype=torch.bfloat16):
            for view in views:
                total[start : start + 1_000] += model(view).float().cpu()
    return total / 6


six_views = logits_of_views(model, test_images)
six_view_accuracy = (six_views.argmax(1) == test_labels).float().mean().item()
print(
    f"1 view: {no_tta_accuracy:.2%}, 2 views: {test_accuracy:.2%}, 6 views: "
    f"{six_view_accuracy:.2%}"
)

# %%
# **Solution 3.** The probability of the predicted class, split by whether
# the prediction was right:

confidence = probabilities.max(1).values
right = test_predictions == test_labels
fig, ax = plt.subplots(figsize=(7, 4))
bins = np.linspace(0, 1, 21)
ax.hist(
    confidence[right].numpy(),
    bins=bins,
    alpha=0.6,
    density=True,
    label="right predictions",
)
ax.hist(
    confidence[~right].numpy(),
    bins=bins,
    alpha=0.6,
    density=True,
    label="wrong predictions",
)
ax.set_xlabel("probability of the predicted class")
ax.set_ylabel("density")
ax.set_title("Confidence of right and wrong predictions")
ax.legend()
plt.show()
print(
    f"mean confidence: right {confidence[right].mean():.2f}, wrong "
    f"{confidence[~right].mean():.2f}"
)

# %%
# If the wrong predictions' mean confidence printed above is clearly lower,
# a low probability is a useful warning that a prediction may be wrong.
# Label smoothing keeps even right predictions away from 100 %. Day 16 opens this
# network up
# and shows, with Grad-CAM, *where* in each image it looked.
#
# Next, Day 15 compares learning-rate schedules, the one-cycle schedule
# used here among them.
