"""
# Day 12 · Dropout and regularisation techniques (Dropout 與正規化技巧)

A network with enough parameters can memorise a small training set: training
accuracy climbs towards 100 % while accuracy on new images stalls. Day 7 met
this on toy points and tried Dropout and L2. This lesson goes deeper, on real
photos: you take Dropout apart on a tensor (why the survivors are scaled by
$1/(1-p)$, what changes between `train()` and `eval()`), watch what weight
decay does to the weights and why `AdamW` differs from `Adam` with
`weight_decay`, and build label-preserving data augmentation with
`torchvision.transforms.v2`, looking at every augmented sample. Then you
compare the three in a **controlled experiment** on a CIFAR-10 subset (same
seed, same data order, same budget, one change at a time), read the results
as a table and as curves, and measure the run-to-run noise that tells you
which differences mean something.

**You will learn:** Dropout in training and evaluation mode, and the
`F.dropout` trap · weight decay: SGD, Adam's L2 term and AdamW's decoupled
decay · data augmentation with `transforms.v2`, and which transforms keep the
label · why a batch tensor gets one random transform, not one per image ·
designing a fair experiment · reading a results table against the noise
between seeds

**Before you start:** [Day 7](day07_overfitting.ipynb) (overfitting, Dropout
and L2) and [Day 11](day11_conv_pooling.ipynb) (the CNN, `channels_last`) ·
**Reading time:** about 2 hours
"""

# %%
# ## 1. Set-up
#
# Besides Day 8's `fit` and `evaluate`, this lesson introduces the helper
# module `course.experiments`, which runs several training variants under
# the same seed (section 9 shows what it does). The lesson also measures its
# own run time, because every comparison here has to fit a fixed budget.

import time

lesson_start = time.perf_counter()

import math

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset
from torchvision.transforms import v2

import course
from course.data.cifar10 import CIFAR10_CLASSES, cifar10_tensors
from course.data.mnist import load_mnist
from course.experiments import compare, format_table, plot_runs
from course.fit import evaluate, fit

course.seed_everything(0)
device = course.choose_device()
print(f"profile: {course.PROFILE}, device: {device}, torch {torch.__version__}")

# %%
# ## 2. Dropout, up close
#
# `nn.Dropout(p)` does two things in training mode: it sets each element of
# its input to zero with probability $p$, and it multiplies the survivors by
# $1/(1-p)$. In evaluation mode it passes the input through unchanged. On a
# tensor of ones, with $p = 0.25$ (survivors become $1/0.75 \approx 1.333$):

drop = nn.Dropout(p=0.25)
ones = torch.ones(3, 8)
drop.train()
print("train mode:\n", drop(ones))
drop.eval()
print("eval mode:\n", drop(ones))

# %%
# Why the scaling? A unit after the Dropout layer receives, on average, only
# a fraction $1-p$ of its inputs during training. Without compensation, it
# would see inputs about $1/(1-p)$ times larger at evaluation time, when
# nothing is dropped, than those it was trained on. Scaling the survivors up
# during training keeps the **expected value** of every element the same in
# both modes, so evaluation needs no correction at all. (This is called
# *inverted* dropout; the original paper scaled at test time instead.) On a
# million elements the statistics are plain to see:

drop = nn.Dropout(p=0.3).train()
out = drop(torch.ones(1_000_000))
print(f"fraction set to zero: {(out == 0).float().mean():.4f} (p = {drop.p})")
print(f"value of the survivors: {out.max():.4f} (1/(1-p) = {1 / (1 - drop.p):.4f})")
print(
    f"mean: {out.mean():.4f} in training mode, "
    f"{drop.eval()(torch.ones(10)).mean():.4f} in eval"
)

# %%
# Each training step therefore trains a different random "thinned" network,
# and no unit can count on any particular other unit being there: features
# have to be useful on their own and redundant, which is what makes Dropout
# a regulariser. Two consequences matter in practice.
#
# **The mode must be right.** In training mode, the same input gives a
# different output every time; forget `model.eval()` before predicting and
# your predictions are noisy and worse. `evaluate` and `predict` (Day 8) set
# the mode for you.
#
# **The functional form has a trap.** `F.dropout(x, p)` has an argument
# `training` that defaults to `True`, and it does not know which mode your
# model is in. A model that calls it without passing `training=self.training`
# keeps dropping in evaluation mode:


class HeadWithBug(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(F.dropout(x, p=0.5))  # training=True, always


class HeadFixed(HeadWithBug):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(F.dropout(x, p=0.5, training=self.training))


x = torch.randn(2, 8)
for head in (HeadWithBug(), HeadFixed()):
    head.eval()
    with torch.no_grad():
        same = torch.equal(head(x), head(x))
    print(f"{type(head).__name__}: two predictions in eval mode identical? {same}")

# %%
# The module form, `nn.Dropout`, follows `model.train()` and `model.eval()`
# on its own, which is why models usually use it.
#
# ## 3. Weight decay, up close
#
# Weight decay pulls every weight towards zero a little at each step, so the
# network only keeps weights large where the data keeps pushing them. Day 7
# showed that for plain SGD, `weight_decay=λ` is exactly an L2 penalty
# $\frac{\lambda}{2}\lVert\theta\rVert^2$: it adds $\lambda\theta$ to the
# gradient, and the step $-\eta\lambda\theta$ shrinks the weight by a factor
# $(1-\eta\lambda)$, with $\eta$ the learning rate.
#
# With **Adam** that is no longer true. `Adam(weight_decay=λ)` also adds
# $\lambda\theta$ to the gradient, but Adam then divides each parameter's
# gradient by a running estimate of its typical size. The decay term is
# rescaled with it: parameters with large gradients get almost no decay, and
# λ stops meaning what it says. **AdamW** ("decoupled" weight decay) leaves
# the gradient alone and shrinks the weights directly, $\theta \leftarrow
# \theta - \eta\lambda\theta$, like SGD does.
#
# The difference is clearest on a parameter whose loss gradient is zero, so
# that only the decay moves it. We set its gradient to zero by hand and step
# each optimiser 300 times, with two values of λ each:


def decay_curve(make_optimizer, steps: int = 300) -> list[float]:
    """Relative size ||θ_t|| / ||θ_0|| of a parameter that only weight decay
    moves."""
    theta = nn.Parameter(
        torch.randn(1_000, generator=torch.Generator().manual_seed(0))
    )
    optimizer = make_optimizer([theta])
    start = theta.detach().norm().item()
    sizes = [1.0]
    for _ in range(steps):
        theta.grad = torch.zeros_like(theta)  # the loss does not depend on θ
        optimizer.step()
        sizes.append(theta.detach().norm().item() / start)
    return sizes


decay_runs = {
    "SGD lr=0.1, λ=0.01": lambda p: torch.optim.SGD(p, lr=0.1, weight_decay=0.01),
    "SGD lr=0.1, λ=0.1": lambda p: torch.optim.SGD(p, lr=0.1, weight_decay=0.1),
    "Adam lr=0.003, λ=0.01": lambda p: torch.optim.Adam(
        p, lr=0.003, weight_decay=0.01
    ),
    "Adam lr=0.003, λ=0.1": lambda p: torch.optim.Adam(
        p, lr=0.003, weight_decay=0.1
    ),
    "AdamW lr=0.003, λ=0.1": lambda p: torch.optim.AdamW(
        p, lr=0.003, weight_decay=0.1
    ),
    "AdamW lr=0.003, λ=1": lambda p: torch.optim.AdamW(
        p, lr=0.003, weight_decay=1.0
    ),
}
decay_curves = {name: decay_curve(make) for name, make in decay_runs.items()}

fig, ax = plt.subplots(figsize=(8, 4.5))
for (name, sizes), style in zip(
    decay_curves.items(), ["-", "-", "--", ":", "-", "-"], strict=True
):
    ax.plot(sizes, style, label=name, linewidth=2)
ax.set_title("Weight decay alone: how fast each optimiser shrinks a parameter")
ax.set_xlabel("optimiser step")
ax.set_ylabel("||θ|| relative to its start")
ax.legend(fontsize="small")
ax.grid(True, alpha=0.3)
plt.show()

# %%
# SGD and AdamW shrink the weights geometrically, faster for larger $\eta\lambda$:
# after $t$ steps by exactly $(1-\eta\lambda)^t$. Adam's two curves lie on top
# of each other: a gradient made only of $\lambda\theta$ is divided by its own
# size, so every weight moves by about $\eta$ per step towards zero, whatever
# λ is. The numbers:

steps = len(decay_curves["SGD lr=0.1, λ=0.1"]) - 1
for name, lr, lam in [
    ("SGD lr=0.1, λ=0.1", 0.1, 0.1),
    ("AdamW lr=0.003, λ=1", 0.003, 1.0),
]:
    print(
        f"{name}: measured {decay_curves[name][-1]:.4f}, "
        f"(1 - lr·λ)^{steps} = {(1 - lr * lam) ** steps:.4f}"
    )
adam_small, adam_large = (
    decay_curves["Adam lr=0.003, λ=0.01"],
    decay_curves["Adam lr=0.003, λ=0.1"],
)
adam_gap = max(abs(a - b) for a, b in zip(adam_small, adam_large, strict=True))
print(
    f"Adam, λ=0.01 vs λ=0.1: largest difference between the curves {adam_gap:.4f}"
)

# %%
# In real training the loss gradient is not zero, and Adam's L2 term gets
# mixed into the same normalisation. That is why `AdamW` is the usual choice
# for adaptive optimisers, and the one we use below. Two practical notes:
#
# - **What matters is $\eta\lambda$ times the number of steps.** Decay shrinks
#   the weights by $\prod_t (1-\eta_t\lambda)$ over a run. Long training runs
#   use small λ (`AdamW`'s default is 0.01); a short run like ours needs a
#   larger λ to have any effect at all (section 8 computes it).
# - `AdamW`'s default is `weight_decay=0.01`, not 0: a baseline "without"
#   weight decay must say `weight_decay=0` explicitly.
#
# ## 4. The data: a small CIFAR-10 training set
#
# Regularisation matters most when data is scarce, so we train on a small,
# class-balanced subset of the CIFAR-10 training images (colour photos,
# 32×32, ten classes), and take a larger validation set from the training
# images we do not train on: the verdicts between variants are made on it,
# and it must be large enough to separate them (section 12 measures its
# noise). The real test set is measured once, at the very end, for the
# chosen variant only. `cifar10_tensors` returns the images as one
# `uint8` tensor of shape $(N, 3, 32, 32)$: one byte per value, four times
# smaller than floats, and the format the augmentation below works on.

n_train = course.pick(full=2_000, smoke=200)
n_val = course.pick(full=5_000, smoke=200)
pool_images, pool_labels = cifar10_tensors(train=True, limit=n_train + n_val)
test_images, test_labels = cifar10_tensors(
    train=False, limit=course.pick(full=None, smoke=500)
)
order = torch.randperm(len(pool_labels), generator=torch.Generator().manual_seed(0))
train_images, train_labels = (
    pool_images[order[:n_train]],
    pool_labels[order[:n_train]],
)
val_images, val_labels = pool_images[order[n_train:]], pool_labels[order[n_train:]]
print(
    f"train {len(train_labels):,}, validation {len(val_labels):,}, test "
    f"{len(test_labels):,}"
)
print(f"images: {tuple(train_images.shape)} {train_images.dtype}")
print(
    "training images per class:",
    torch.bincount(train_labels, minlength=10).tolist(),
)

# %%
# ## 5. Data augmentation with `transforms.v2`
#
# A network that has seen a horse facing left should also recognise it
# facing right, a little further up, or in dimmer light. **Data
# augmentation** makes each training image a slightly different picture
# every time it is used: random crops, flips, colour changes. The network
# then can no longer memorise the exact pixels of its few training images,
# and it learns what stays the same across the variations, which is what
# matters on new photos too.
#
# `torchvision.transforms.v2` applies image transforms directly to `uint8`
# tensors of shape $(C, H, W)$ (and to PIL images, bounding boxes, masks...).
# Here are five, each applied six times to one training image (the most
# colourful horse, so that colour changes show):

color_jitter = v2.ColorJitter(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1)
augmentations = {  # short name: transform
    "crop": v2.RandomCrop(32, padding=4, padding_mode="reflect"),
    "flip": v2.RandomHorizontalFlip(p=0.5),
    "colour": color_jitter,
    "rotation": v2.RandomRotation(degrees=20),
    "erasing": v2.RandomErasing(p=1.0, scale=(0.05, 0.2)),
}
train_transform = v2.Compose([augmentations["crop"], augmentations["flip"]])
augmentations["crop + flip"] = train_transform
row_labels = [
    "RandomCrop(32,\npadding=4)",
    "RandomHorizontal-\nFlip()",
    "ColorJitter(0.4,\n0.4, 0.4, 0.1)",
    "RandomRotation(20)",
    "RandomErasing(p=1)",
    "our training\npipeline",
]

horses = train_images[train_labels == CIFAR10_CLASSES.index("horse")]
colourfulness = (horses.amax(dim=1) - horses.amin(dim=1)).float().mean(dim=(1, 2))
horse = horses[colourfulness.argmax()]
samples_per_row = 6
torch.manual_seed(1)
fig, axes = plt.subplots(
    len(augmentations),
    samples_per_row + 1,
    figsize=(12, 1.75 * len(augmentations) + 0.6),
)
for row, (name, transform), label in zip(
    axes, augmentations.items(), row_labels, strict=True
):
    row[0].imshow(horse.permute(1, 2, 0))
    row[0].set_title("original", fontsize=9)
    row[0].set_ylabel(label, fontsize=9)
    for k, ax in enumerate(row[1:], start=1):
        ax.imshow(transform(horse).permute(1, 2, 0))
        ax.set_title(f"{name} #{k}", fontsize=9)
    for ax in row:
        ax.set_xticks([])
        ax.set_yticks([])
# sphinx_gallery_thumbnail_number = 2
fig.suptitle(
    "One CIFAR-10 training image, augmented six times by each transform (32×32 "
    "pixels)"
)
fig.tight_layout()
plt.show()

# %%
# - `RandomCrop(32, padding=4)` pads the image by 4 pixels (here by
#   mirroring the border, `padding_mode="reflect"`) and cuts a random 32×32
#   window out of it: the object shifts by up to 4 pixels.
# - `RandomHorizontalFlip()` mirrors half of the images.
# - `ColorJitter` changes brightness, contrast, saturation and hue by random
#   amounts up to the given fractions.
# - `RandomRotation(20)` rotates by up to 20° either way, filling the corners
#   with black.
# - `RandomErasing` blanks a random rectangle ("cutout"), so the network
#   cannot rely on any single part of the object.
#
# ## 6. Augmentation must keep the label
#
# Every transform above turns a horse into a picture that is still a horse.
# That is the one rule of augmentation: **the transformed image must still
# deserve the same label.** Which transforms qualify depends on the data. A
# photo of a horse mirrored left to right is an ordinary photo of a horse;
# CIFAR-10 has no class that depends on left and right. Handwritten digits
# are different:

digits = load_mnist(train=False, limit=200)
shown = [2, 3, 6, 9]
digit_transforms = {
    "original": lambda image: image,
    "horizontal flip": v2.functional.horizontal_flip,
    "rotated 180°": lambda image: v2.functional.rotate(image, 180),
}
fig, axes = plt.subplots(len(digit_transforms), len(shown), figsize=(7, 5.6))
for col, digit in enumerate(shown):
    image = digits.data[(digits.targets == digit).nonzero()[0, 0]].unsqueeze(
        0
    )  # (1, 28, 28)
    for row, (name, transform) in enumerate(digit_transforms.items()):
        ax = axes[row, col]
        ax.imshow(transform(image)[0], cmap="gray_r")
        ax.set_title(f"label {digit}, {name}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
fig.suptitle("Label-changing augmentation: flipped and rotated MNIST digits")
fig.tight_layout()
plt.show()

# %%
# A mirrored 2 or 3 is not a digit anyone writes, and a 6 turned upside down
# *is* a 9: trained on such images, the network would be taught wrong labels.
# For digits, small rotations (±10°) and shifts of a pixel or two are safe;
# flips are not. The same reasoning applies everywhere: text is not flipped,
# a "left turn" traffic sign is not mirrored, and colour jitter is wrong where
# colour is the class (ripe vs unripe fruit). Choose augmentations by asking
# what variations the real data will show *without* a change of label.
#
# ## 7. Augmenting per image, not per batch
#
# For speed it is tempting to call the transform once on a whole batch
# tensor $(N, C, H, W)$. `v2` accepts that, but it draws **one** set of random
# parameters per call and applies it to the whole batch: every image gets
# the same crop, and either all are flipped or none. Counting the flipped
# images of a 64-image batch over ten calls:

flip = v2.RandomHorizontalFlip(p=0.5)
batch = train_images[:64]


def n_flipped(output: torch.Tensor, original: torch.Tensor) -> int:
    """How many images of ``output`` are exact mirror images of ``original``'s."""
    return int((output == original.flip(-1)).flatten(1).all(dim=1).sum())


torch.manual_seed(0)
print(
    "flipped images per call on the batch:",
    [n_flipped(flip(batch), batch) for _ in range(10)],
)

# %%
# Per-image randomness needs one call per image. The plainest way is a
# `Dataset` that applies the transform in `__getitem__`, one image at a time;
# the `DataLoader` then stacks the results into a batch as usual. With no
# transform it is an ordinary dataset of tensors, so the augmented and the
# plain pipelines differ only in the transform:


class ImageDataset(Dataset):
    """``uint8`` images (N, 3, H, W) and their labels; ``transform`` is applied per
    image."""

    def __init__(
        self, images: torch.Tensor, labels: torch.Tensor, transform=None
    ) -> None:
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image = self.images[index]
        if self.transform is not None:
            image = self.transform(image)
        return image, self.labels[index]


flipped_batch, _ = next(
    iter(DataLoader(ImageDataset(batch, train_labels[:64], flip), 64))
)
print(
    "flipped images in one batch from the Dataset: "
    f"{n_flipped(flipped_batch, batch)} of 64"
)

# %%
# One Python call per image costs time. Is it fast enough? Here is one pass
# over the training set with each pipeline, with `num_workers=0` (the main
# process does all the work); section 8 puts these times next to the time of
# one training epoch:


def seconds_per_pass(transform) -> float:
    loader = DataLoader(
        ImageDataset(train_images, train_labels, transform), batch_size=128
    )
    start = time.perf_counter()
    for _ in loader:
        pass
    return time.perf_counter() - start


pipelines = {
    "no augmentation": None,
    "crop + flip": train_transform,
    "crop + flip + ColorJitter": v2.Compose([train_transform, color_jitter]),
}
pass_seconds = {
    name: seconds_per_pass(transform) for name, transform in pipelines.items()
}
for name, seconds in pass_seconds.items():
    print(f"{name:<26} {seconds:6.2f} s per pass over {n_train:,} images")

# %%
# Faster options exist: `num_workers > 0` runs the transforms in parallel
# worker processes, and [Day 14](day14_cifar10.ipynb) writes a crop and flip
# that works on a whole batch at once, with random offsets per image.
#
# ## 8. The model and the training recipe
#
# The network is Day 11's pattern for colour images: three blocks of
# convolution, BatchNorm, ReLU and max-pooling (16, 32, 64 channels), then a
# fully connected head with 256 hidden units. Dropout sits in the head, where
# most of the parameters are; convolutional layers with BatchNorm usually
# need it less (exercise 1 looks at `nn.Dropout2d`, the version for feature
# maps).
#
# The model takes the `uint8` images as they are and normalises each batch
# itself, with per-channel statistics of the training images: the data stays
# compact, augmentation works on bytes, and no caller can forget the
# normalisation.

channel_mean = train_images.float().div(255).mean(dim=(0, 2, 3))
channel_std = train_images.float().div(255).std(dim=(0, 2, 3))
print(f"training-set channel means {channel_mean.numpy().round(3)}")
print(f"training-set channel stds  {channel_std.numpy().round(3)}")


class Normalise(nn.Module):
    """``uint8`` images (N, 3, H, W) -> float32, each channel standardised."""

    def __init__(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("mean", 255 * mean.reshape(1, -1, 1, 1))
        self.register_buffer("std", 255 * std.reshape(1, -1, 1, 1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return (images.float() - self.mean) / self.std


def make_cnn(dropout: float = 0.0) -> nn.Sequential:
    """Three conv blocks and a fully connected head, with ``dropout`` in the
    head."""
    layers: list[nn.Module] = [Normalise(channel_mean, channel_std)]
    c_in = 3
    for c_out in (16, 32, 64):
        layers += [
            nn.Conv2d(c_in, c_out, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(),
            nn.MaxPool2d(2),
        ]
        c_in = c_out
    layers += [
        nn.Flatten(),
        nn.Dropout(dropout),
        nn.Linear(64 * 4 * 4, 256),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(256, 10),
    ]
    return nn.Sequential(*layers)


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


print(f"{n_params(make_cnn()):,} parameters for {n_train:,} training images")

# %%
# With `dropout=0` the `nn.Dropout` layers are still there and do nothing.
# That is deliberate: every variant then has the same layers, creates its
# weights in the same order, and, from the same seed, starts from the **same
# initial weights**:

course.seed_everything(0)
plain = make_cnn(dropout=0.0)
course.seed_everything(0)
with_dropout = make_cnn(dropout=0.3)
print(
    "same initial weights with and without Dropout:",
    all(
        torch.equal(a, b)
        for a, b in zip(plain.parameters(), with_dropout.parameters(), strict=True)
    ),
)

# %%
# The recipe, the same for every variant:
#
# - **AdamW** at a learning rate of 2e-3, with cosine annealing over the
#   run (as in Day 11), and `weight_decay=0` unless the variant adds it;
# - **batch size** 128, **epochs** below, cross-entropy loss;
# - validation after every epoch (Day 8's `fit`); the variants are compared
#   on validation accuracy, and only the chosen one meets the test set;
# - weight decay only on the conv and linear weights, not on biases and
#   BatchNorm parameters (a parameter group with `weight_decay=0`, as Day 14's
#   `make_optimizer` does): shrinking BatchNorm's scales and shifts towards
#   zero constrains the normalisation, not the network's complexity.
#
# The regularisers' strengths are fixed starting values; this lesson does
# not tune them (that takes more runs and the validation set, Day 20):
# Dropout $p=0.3$ in the head (the classic 0.5 is meant for large layers
# trained long; exercise 2 tries it), and weight decay λ chosen from the
# budget, as section 3 suggested. Over the whole run, decay alone would
# shrink a weight by the product of $(1-\eta_t\lambda)$ over all steps:

epochs = course.pick(full=25, smoke=2)
batch_size = 128
lr = 2e-3
dropout_p = 0.3
weight_decay = 1.0
steps_per_epoch = math.ceil(n_train / batch_size)


def learning_rates(n_epochs: int) -> list[float]:
    """The learning rate of each epoch under the cosine schedule (a dry run)."""
    optimizer = torch.optim.AdamW([nn.Parameter(torch.zeros(1))], lr=lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=n_epochs
    )
    rates = []
    for _ in range(n_epochs):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return rates


rates = learning_rates(epochs)
for lam in (0.01, weight_decay):
    shrink = math.prod((1 - rate * lam) ** steps_per_epoch for rate in rates)
    print(
        f"λ = {lam:<4}: decay alone shrinks a weight to {shrink:.1%} of its size "
        "over "
        f"{epochs} epochs × {steps_per_epoch} steps"
    )

# %%
# The first line shows how little the usual λ = 0.01 would do in a run this
# short; the second, what λ = 1 can do over the same steps. (With BatchNorm
# after a convolution, the size of that convolution's weights does not
# change what the network computes, so there decay mainly raises the
# effective learning rate; in the linear head it limits the weights
# directly.)
#
# One training epoch of this model, measured, to compare with the cost of
# augmentation from section 7:

course.seed_everything(0)
probe = make_cnn().to(device, memory_format=torch.channels_last)
probe_loader = DataLoader(
    ImageDataset(train_images, train_labels), batch_size, shuffle=True
)
probe_history = fit(
    probe,
    probe_loader,
    None,
    nn.CrossEntropyLoss(),
    torch.optim.AdamW(probe.parameters(), lr=lr, weight_decay=0),
    epochs=1,
    device=device,
    progress=False,
)
epoch_seconds = probe_history["epoch_time_s"][0]
for name, seconds in pass_seconds.items():
    extra = seconds - pass_seconds["no augmentation"]
    share = extra / epoch_seconds
    print(
        f"{name:<26} adds {extra:5.2f} s to a {epoch_seconds:.1f} s epoch "
        f"({share:+.0%})"
    )

# %%
# Per-image augmentation in the `Dataset` adds the fraction printed above to
# each epoch. We train with crop + flip, the standard pair for CIFAR-10, and
# leave ColorJitter out: per image it costs more than crop and flip together
# (the last line), and the budget is tight.
#
# ## 9. A fair experiment
#
# We compare five variants: the **baseline**, then **+ Dropout**, **+ weight
# decay** and **+ augmentation**, each changing exactly one thing, and **all
# three** together. For the differences to come from that one change and
# nothing else, everything else must be identical between runs:
#
# - **the same data**: the split above, the same validation and test sets;
# - **the same initial weights**: the seed is set right before the model is
#   built (and section 8 checked that Dropout does not change the weights);
# - **the same data order**: the `DataLoader` shuffles with its *own*
#   generator, seeded the same way in every run (see below);
# - **the same budget**: the same epochs, batch size, optimiser and schedule;
# - **the same measurement**: accuracy in `eval()` mode, on the same images.
#
# Why the loader needs its own generator: without one, it draws a fresh
# shuffling seed from PyTorch's global generator at the start of every
# epoch. Dropout masks and augmentation draw from that generator too, so
# from the second epoch on, a variant with Dropout would see the images in a
# *different order* than the baseline: a second change, hidden. A small
# demonstration, drawing what a Dropout layer would draw between two epochs:


def second_epoch_order(loader: DataLoader, dropout_between: bool) -> list[int]:
    torch.manual_seed(0)
    list(loader)  # epoch 1
    if dropout_between:
        nn.Dropout(0.3)(torch.ones(100))
    return next(iter(loader))[0][:8].tolist()  # the first items of epoch 2


numbers = TensorDataset(torch.arange(100))
shared = DataLoader(numbers, batch_size=10, shuffle=True)
print("first items of epoch 2:")
for dropout_between in (False, True):
    own = DataLoader(
        numbers, 10, shuffle=True, generator=torch.Generator().manual_seed(0)
    )
    print(f"  Dropout in between: {dropout_between}")
    print(f"    global generator {second_epoch_order(shared, dropout_between)}")
    print(f"    own generator    {second_epoch_order(own, dropout_between)}")

# %%
# With the global generator, one extra random draw reshuffles epoch 2; with
# its own generator, the order does not care what else happened.
#
# `course.experiments.compare` takes care of the seed. It takes a dict of
# *variants*, functions without arguments that each train one model and
# return what they measured, and for each run it
#
# 1. calls `course.seed_everything(seed)`,
# 2. runs the function and times it,
# 3. returns one row (a dict) per run: the variant's name, the seed, the
#    time, and everything the function returned.
#
# By default it keeps what a run prints (here `fit`'s line per epoch) in the
# row's `"log"` and prints one summary line per run instead.
# `format_table` and `plot_runs` turn the rows into a table and curves.
#
# Every variant calls the same function; only its arguments differ.
# `torch.initial_seed()` returns the seed `compare` has just set, so each
# run's loader gets its own generator seeded with it.

loss_fn = nn.CrossEntropyLoss()
val_loader = DataLoader(TensorDataset(val_images, val_labels), batch_size=1_000)
test_loader = DataLoader(TensorDataset(test_images, test_labels), batch_size=1_000)
clean_train_loader = DataLoader(
    TensorDataset(train_images, train_labels), batch_size=1_000
)


def weight_norm(model: nn.Module) -> float:
    """The L2 norm of all conv and linear weights together (biases and BatchNorm
    left out)."""
    weights = [p for p in model.parameters() if p.ndim > 1]
    return torch.sqrt(sum(w.detach().pow(2).sum() for w in weights)).item()


def train_variant(
    dropout: float = 0.0, weight_decay: float = 0.0, augment: bool = False
) -> dict:
    """Train one model with the shared recipe; return its history and final
    measurements."""
    model = make_cnn(dropout).to(device, memory_format=torch.channels_last)
    train_data = ImageDataset(
        train_images, train_labels, train_transform if augment else None
    )
    order = torch.Generator().manual_seed(torch.initial_seed())
    loader = DataLoader(
        train_data, batch_size=batch_size, shuffle=True, generator=order
    )
    groups = [
        {"params": [p for p in model.parameters() if p.ndim > 1]},
        {
            "params": [p for p in model.parameters() if p.ndim <= 1],
            "weight_decay": 0.0,
        },
    ]
    optimizer = torch.optim.AdamW(groups, lr=lr, weight_decay=weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    history = fit(
        model,
        loader,
        val_loader,
        loss_fn,
        optimizer,
        epochs=epochs,
        device=device,
        scheduler=scheduler,
        progress=False,
    )
    train_acc = evaluate(model, clean_train_loader)[
        "accuracy"
    ]  # eval mode, no augmentation
    val_acc = history["val_acc"][-1]
    return {
        "history": history,
        "model": model,
        "train_acc": train_acc,
        "val_acc": val_acc,
        "gap": 100 * (train_acc - val_acc),
        "best_epoch": 1 + max(range(epochs), key=lambda e: history["val_acc"][e]),
        "val_loss": history["val_loss"][-1],
        "weight_norm": weight_norm(model),
    }


variants = {
    "baseline": lambda: train_variant(),
    "+ dropout": lambda: train_variant(dropout=dropout_p),
    "+ weight decay": lambda: train_variant(weight_decay=weight_decay),
    "+ augmentation": lambda: train_variant(augment=True),
    "all three": lambda: train_variant(dropout_p, weight_decay, augment=True),
}

# %%
# ## 10. Running the comparison
#
# Five runs of the same budget, one after the other:

rows = compare(variants, seeds=(0,))
results = {row["variant"]: row for row in rows}

# %%
# Nothing `fit` printed is lost; the last epochs of the baseline, from its
# log:

print("\n".join(results["baseline"]["log"].splitlines()[-3:]))

# %%
# ## 11. The results table
#
# **train** and **val** are accuracies; the training accuracy is
# measured after training in `eval()` mode on the training images without
# augmentation, so that all variants are measured the same way. **gap** is
# train minus validation accuracy, in percentage points. **best ep** is the epoch
# of highest validation accuracy; **val loss** is the validation loss after
# the last epoch; **w norm** is the size of all conv and linear weights
# together; **time** is the wall-clock seconds of the whole run, evaluation
# included (on a shared machine it also depends on what else is running).

columns = [
    ("variant", "variant"),
    ("train_acc", "train", ".1%"),
    ("val_acc", "val", ".1%"),
    ("gap", "gap", ".1f"),
    ("best_epoch", "best ep", "d"),
    ("val_loss", "val loss", ".3f"),
    ("weight_norm", "w norm", ".1f"),
    ("time_s", "time", ".0f"),
]
print(format_table(rows, columns))

# %%
# The training and validation curves of each variant, with the validation
# losses of all five together in the last panel. (The training accuracy in
# the curves is `fit`'s running figure, measured *while* training, with
# Dropout active and on augmented images, so it sits below the clean
# "train" column of the table for the regularised variants.)

fig, axes = plt.subplots(2, 3, figsize=(13, 7.5), sharex=True)
for ax, row in zip(axes.flat, rows, strict=False):
    history = row["history"]
    epochs_axis = range(1, len(history["train_acc"]) + 1)
    ax.plot(
        epochs_axis,
        [100 * a for a in history["train_acc"]],
        label="train (while training)",
    )
    ax.plot(epochs_axis, [100 * a for a in history["val_acc"]], label="validation")
    ax.set_title(f"{row['variant']}: val {row['val_acc']:.1%}")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 100)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small", loc="lower right")
plot_runs(
    rows,
    "val_loss",
    title="Validation loss, all variants",
    ylabel="cross-entropy",
    ax=axes[1, 2],
)
fig.suptitle(
    f"Five variants, same seed, data order and budget ({n_train:,} training images)"
)
fig.tight_layout()
plt.show()

# %%
# How to read them. A baseline that **overfits** reaches a training accuracy
# near 100 % while its validation accuracy levels off far below, and its
# validation loss turns upwards after its minimum: the network grows ever more
# confident on training images, including on the validation images it gets
# wrong. A regulariser that works narrows the gap *and* keeps the validation
# numbers at least as good. One that is too strong for the budget narrows the
# gap from the other side: the training accuracy falls, and the validation
# accuracy with it (underfitting). Each variant against the baseline, in
# percentage points (pts) for the gap and the accuracies:


def points(fraction: float) -> str:
    return f"{100 * fraction:+.1f} pts"


base = results["baseline"]
changes = [
    {
        "variant": name,
        "gap": row["gap"] - base["gap"],
        "train": 100 * (row["train_acc"] - base["train_acc"]),
        "val": 100 * (row["val_acc"] - base["val_acc"]),
        "val_loss": row["val_loss"] - base["val_loss"],
        "weight_norm": row["weight_norm"] - base["weight_norm"],
    }
    for name, row in results.items()
    if name != "baseline"
]
print(f"change from the baseline (its gap: {base['gap']:.1f} pts)")
print(
    format_table(
        changes,
        [
            ("variant", "variant"),
            ("gap", "gap", "+.1f"),
            ("train", "train", "+.1f"),
            ("val", "val", "+.1f"),
            ("val_loss", "val loss", "+.3f"),
            ("weight_norm", "w norm", "+.1f"),
        ],
    )
)
for change in changes:
    narrows, keeps = change["gap"] < 0, change["val"] >= 0
    if narrows and keeps:
        reading = "narrows the gap and keeps validation accuracy at least as good"
    elif narrows:
        reading = "narrows the gap, but validation accuracy falls"
    else:
        reading = "does not narrow the gap"
    print(f"{change['variant']:<15} {reading}")

# %%
# ## 12. How big is the noise?
#
# Is a difference of one point in validation accuracy a real effect? Every run
# depends on its seed: the initial weights, the data order, the Dropout masks
# and the augmentations. Before trusting a difference between variants, we
# measure how much the *same* variant varies between seeds: the baseline
# again, with two more seeds.

noise_rows = compare({"baseline": variants["baseline"]}, seeds=(1, 2))
baseline_runs = [base] + noise_rows
val_accs = [row["val_acc"] for row in baseline_runs]
lowest, highest = min(val_accs), max(val_accs)
print(format_table(baseline_runs, [("seed", "seed", "d")] + columns[1:3]))
print(f"validation accuracy from seed to seed: {lowest:.1%} to {highest:.1%}")
for name, n in [("validation", len(val_labels)), ("test", len(test_labels))]:
    a = base["val_acc"]
    error = math.sqrt(a * (1 - a) / n)
    print(
        f"{name} set, {n:,} images: standard error of an accuracy near {a:.0%} is "
        f"±{error:.1%}"
    )

# %%

plot_runs(
    baseline_runs,
    "val_acc",
    title="The baseline with three seeds: validation accuracy",
    ylabel="validation accuracy (%)",
    scale=100,
)
plt.show()

# %%
# Two sources of noise are at work. The seed changes the trained network
# (the curves above differ from the first epoch on). And every accuracy is
# measured on a finite set of images: its standard error, printed above,
# shrinks with the square root of the set's size, so verdicts need a large
# validation set (here the printed sizes) and several seeds. Three seeds are
# few, and the range they span is only a rough yardstick (with more seeds it
# could only grow), but a variant whose validation accuracy falls inside it
# has shown no effect. Each variant against the three baseline runs:

for name, row in results.items():
    if name == "baseline":
        continue
    accuracy = row["val_acc"]
    if accuracy > highest:
        verdict = f"above all three baseline runs, by {points(accuracy - highest)}"
    elif accuracy < lowest:
        verdict = f"below all three baseline runs, by {points(accuracy - lowest)}"
    else:
        verdict = "inside the baseline's seed-to-seed range: no clear effect"
    print(f"{name:<15} val acc {accuracy:.1%}: {verdict}")
best = max(results, key=lambda name: results[name]["val_acc"])
print(f"chosen on validation accuracy: {best} ({results[best]['val_acc']:.1%})")

# %%
# The choice is made; now, once, the test set, for the chosen variant only.
# Its number is an honest estimate because no decision was made with it.

final_test = evaluate(results[best]["model"], test_loader)["accuracy"]
print(f"{best}: test accuracy {final_test:.1%} on {len(test_labels):,} test images")

# %%
# A variant that clears the range by only a few tenths of a point is weak
# evidence: three seeds can easily understate the spread, so repeat such a
# variant with more seeds before relying on it.
#
# The verdicts also hold only for *this* setting: this training set, this
# number of epochs, $p=0.3$, λ = 1, crop + flip. Regularisers trade training
# speed for generalisation, and stacking them adds up their slowdowns; a
# variant that underfits here (a low train accuracy in the table) may win
# with more epochs or milder settings. The way to find out is the same
# experiment with one more change: that is the tuning workflow of Day 20.
#
# ## 13. Summary
#
# - `nn.Dropout(p)` zeroes each element with probability $p$ in training mode
#   and scales the survivors by $1/(1-p)$, so expected values match
#   evaluation mode, where it does nothing. `F.dropout` needs
#   `training=self.training`, or it drops in evaluation too.
# - Weight decay shrinks weights by $(1-\eta\lambda)$ per step; for SGD it is
#   the L2 penalty. `Adam(weight_decay=λ)` rescales that term per parameter;
#   `AdamW` decouples it. Its effect scales with $\eta\lambda$ times the
#   number of steps, and `AdamW` defaults to λ = 0.01, not 0.
# - `transforms.v2` augments `uint8` tensors; the transform must keep the
#   label (flips suit CIFAR-10, not digits). Called on a batch tensor it
#   applies the *same* random transform to every image; apply it per image,
#   e.g. in a `Dataset`.
# - A fair comparison fixes the data, the initial weights (seed before
#   building the model), the data order (a loader with its own generator),
#   the budget and the measurement, and changes one thing at a time.
#   `course.experiments.compare` re-seeds and times each run; `format_table`
#   and `plot_runs` show the results.
# - Measure the noise (the same variant with other seeds) before reading a
#   difference as an effect.
#
# ## 14. Exercises
#
# 1. **Dropout for feature maps.** Apply `nn.Dropout(0.5)` and
#    `nn.Dropout2d(0.5)` in training mode to a tensor of ones of shape
#    $(1, 6, 3, 3)$ (six 3×3 feature maps). What does `Dropout2d` drop, and
#    why might that suit convolutional layers better?
# 2. **Stronger Dropout.** Rerun the "+ dropout" variant with the classic
#    $p = 0.5$, with the same seed and budget, and add it to the table. Is
#    stronger better here? Which column shows why?
# 3. **Test-time augmentation.** Averaging the predicted probabilities of an
#    image and of its mirror image often helps a model trained with flips.
#    Measure it for the "+ augmentation" model on the validation set (it is a
#    decision, so the test set stays out of it).
# 4. **Augmentation for digits.** Build a `v2` pipeline that keeps MNIST
#    labels (small rotations and shifts, no flips) and show eight augmented
#    versions of one digit.

# %%
# **Solution 1.** `Dropout2d` zeroes whole channels: each of the six 3×3 maps
# is either all zero or all scaled by 2. Neighbouring pixels of a feature map
# are strongly correlated, so dropping single pixels hides little (the
# neighbours carry the same information); dropping whole maps forces the
# next layer not to rely on any one feature.

maps = torch.ones(1, 6, 3, 3)
torch.manual_seed(0)
for layer in (nn.Dropout(0.5), nn.Dropout2d(0.5)):
    kept = layer.train()(maps)[0].flatten(1)  # (6 channels, 9 pixels)
    zeros = (kept == 0).sum(dim=1).tolist()
    print(f"{type(layer).__name__:<9}: zeros per channel (of 9 pixels) {zeros}")

# %%
# **Solution 2.** One more run through `compare`, same seed, so it is
# comparable with the first table:

strong = compare({"+ dropout 0.5": lambda: train_variant(dropout=0.5)}, seeds=(0,))
print(format_table([base, results["+ dropout"]] + strong, columns))
change = strong[0]["val_acc"] - results["+ dropout"]["val_acc"]
print(
    f"p = 0.5 vs p = 0.3: validation accuracy {points(change)}, train accuracy "
    f"{points(strong[0]['train_acc'] - results['+ dropout']['train_acc'])}"
)

# %%
# Compare the "train" column: if $p = 0.5$ lowers the training accuracy
# a lot while the validation accuracy does not rise, the network is underfitting
# within this budget, and stronger Dropout would need more epochs to pay
# off.
#
# **Solution 3.** The model was trained on mirrored images, so the mirror
# image of a photo is as good an input as the photo itself; averaging
# the two predictions smooths out some mistakes. `torch.flip(images, [3])`
# mirrors the width dimension.


def accuracy_with_flip_averaging(model: nn.Module) -> float:
    model.eval()
    correct = 0
    with torch.no_grad():
        for images, labels in val_loader:
            images, labels = images.to(device), labels.to(device)
            probs = model(images).softmax(dim=1) + model(images.flip(3)).softmax(
                dim=1
            )
            correct += (probs.argmax(dim=1) == labels).sum().item()
    return correct / len(val_labels)


augmented_model = results["+ augmentation"]["model"]
tta = accuracy_with_flip_averaging(augmented_model)
print(
    "+ augmentation: validation accuracy "
    f"{results['+ augmentation']['val_acc']:.2%}, "
    f"with flip averaging {tta:.2%}"
)

# %%
# **Solution 4.** `RandomAffine` combines a small rotation with a shift of up
# to 10 % of the image in each direction; no flips.

digit_pipeline = v2.RandomAffine(degrees=10, translate=(0.1, 0.1))
digit_image = digits.data[(digits.targets == 7).nonzero()[0, 0]].unsqueeze(0)
torch.manual_seed(0)
fig, axes = plt.subplots(1, 9, figsize=(12, 1.9))
axes[0].imshow(digit_image[0], cmap="gray_r")
axes[0].set_title("original 7", fontsize=9)
for k, ax in enumerate(axes[1:], start=1):
    ax.imshow(digit_pipeline(digit_image)[0], cmap="gray_r")
    ax.set_title(f"augmented #{k}", fontsize=9)
for ax in axes:
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("RandomAffine(degrees=10, translate=(0.1, 0.1)): still a 7")
fig.tight_layout()
plt.show()

elapsed = time.perf_counter() - lesson_start
print(f"Lesson run time: {elapsed:.0f} s ({course.PROFILE} profile, {device})")

# %%
# Regularisation is one lever; the architecture is another. Next,
# [Day 13](day13_cnn_architectures.ipynb) compares three CNN designs (depth,
# kernel sizes, Dropout, BatchNorm and a residual block) with the same kind
# of controlled experiment.
