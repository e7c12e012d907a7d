r"""
# Day 13 · Advanced CNN architectures (CNN 架構進階實作)

Day 11's CNN had two ideas: convolution and pooling. Real networks are built
from a few more: **depth** (many layers), **kernel combinations** (stacks of
small 3×3 kernels instead of one large kernel, 1×1 kernels that mix
channels), **Dropout**, **BatchNorm** and **residual connections**. In this
lesson you build three CNNs as `nn.Module` classes, each a step along that
path: a plain shallow network with 5×5 kernels, a deeper VGG-style network
with stacked 3×3 kernels and Dropout, and a small ResNet with BatchNorm and
residual blocks. You look inside each one (the shape after every layer, the
parameters, the multiply-adds), see at initialisation why a plain deep
network is hard to train and what BatchNorm and skip connections change, and
then train all three on the same CIFAR-10 images with the same recipe and
budget. One table, printed by the run, compares their parameters, their time
per epoch and their accuracy.

**You will learn:** writing a model as an `nn.Module` class with blocks ·
summarising a model: output shapes, parameters and multiply-adds with
forward hooks · why two 3×3 convolutions beat one 5×5 · Dropout's place in a
CNN · BatchNorm: what it computes, and its train vs eval behaviour · the
residual block, $\text{out} = \text{ReLU}(x + f(x))$, and the 1×1 projection
· comparing architectures fairly: same data, seed, recipe and budget, and
timing them honestly

**Before you start:** [Day 11](day11_conv_pooling.ipynb) (convolution,
pooling, receptive field, `channels_last`) and
[Day 12](day12_regularisation.ipynb) (Dropout and fair comparisons) ·
**Reading time:** about 2 hours
"""

# %%
# ## 1. Set-up
#
# Training three networks on CIFAR-10 on a laptop CPU has to fit a budget, so
# the lesson measures its own run time, like Days 10 and 11.

import time

lesson_start = time.perf_counter()

import copy
from collections.abc import Iterator

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter
from torch import nn

import course
from course.data.cifar10 import CIFAR10_CLASSES, cifar10_tensors
from course.fit import evaluate, fit

course.seed_everything(0)
device = course.choose_device()
print(f"profile: {course.PROFILE}, device: {device}, torch {torch.__version__}")

# %%
# ## 2. The data: CIFAR-10 as tensors, converted one batch at a time
#
# CIFAR-10 has 50,000 training and 10,000 test photos of 32×32 pixels in ten
# classes. Day 14 trains on the full set; here we compare three
# architectures and need three training runs within the budget, so each one
# trains on the same **subset** of the training images (`n_train` below).
# Another `n_val` training images, not in that subset, are the validation
# set that we watch during training, and the real test set is used once, at
# the end.
#
# `cifar10_tensors` returns the images as one `uint8` tensor of shape
# $(N, 3, 32, 32)$ and the labels as `int64`. Keeping the images as bytes
# and converting only the current batch to floats takes a quarter of the
# memory of converting everything up front (1 byte per value instead of 4),
# and converting one batch costs little next to a training step.

images, labels = cifar10_tensors(
    train=True, limit=course.pick(full=None, smoke=400)
)
test_images, test_labels = cifar10_tensors(
    train=False, limit=course.pick(full=None, smoke=200)
)
n_train = course.pick(full=10_000, smoke=256)
n_val = course.pick(full=2_000, smoke=128)
order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))
train_idx, val_idx = order[:n_train], order[n_train : n_train + n_val]
train_images, train_labels = images[train_idx], labels[train_idx]
val_images, val_labels = images[val_idx], labels[val_idx]
print(
    f"train {len(train_labels):,}, validation {len(val_labels):,}, test "
    f"{len(test_labels):,}"
)
print(
    "training images per class:",
    torch.bincount(train_labels, minlength=10).tolist(),
)

# %%
# The normalisation statistics come from the training images only (the
# validation and test images must not leak into training), one mean and one
# standard deviation per colour channel:

pixels = train_images.float().div(255)
channel_mean = pixels.mean(dim=(0, 2, 3))
channel_std = pixels.std(dim=(0, 2, 3))
del pixels
print(
    f"per-channel mean {channel_mean.numpy().round(4)}, std "
    f"{channel_std.numpy().round(4)}"
)

# %%
# A small iterable turns the byte tensors into training batches. Each batch
# is converted to floats in $[0, 1]$, normalised, and put in the
# `channels_last` memory format that Day 11 found faster for convolutions.
# Training batches are shuffled, and half of the images in each are
# **flipped left to right** (a cat facing left is still a cat): the cheapest
# data augmentation there is, one `torch.where` on a random mask. Day 12
# covers augmentation properly.
#
# Every `CifarBatches` owns a generator seeded at construction, so a fresh
# one replays exactly the same shuffles and flips: each architecture below
# gets its own fresh copy and therefore sees the same batches in the same
# order.


class CifarBatches:
    """Normalised float batches from uint8 images, optionally shuffled and randomly
    flipped."""

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor,
        batch_size: int,
        train: bool = False,
        seed: int = 0,
    ) -> None:
        self.images, self.labels = images.to(device), labels.to(device)
        self.batch_size, self.train = batch_size, train
        self.generator = torch.Generator().manual_seed(seed)
        self.mean = channel_mean.to(device).reshape(1, 3, 1, 1)
        self.std = channel_std.to(device).reshape(1, 3, 1, 1)

    def __len__(self) -> int:
        return (len(self.labels) + self.batch_size - 1) // self.batch_size

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n = len(self.labels)
        order = (
            torch.randperm(n, generator=self.generator)
            if self.train
            else torch.arange(n)
        )
        for start in range(0, n, self.batch_size):
            index = order[start : start + self.batch_size].to(device)
            batch = self.images[index].float().div_(255)
            if self.train:
                flip = (
                    torch.rand(len(index), 1, 1, 1, generator=self.generator) < 0.5
                )
                batch = torch.where(flip.to(device), batch.flip(dims=[3]), batch)
            batch = (batch - self.mean) / self.std
            yield (
                batch.contiguous(memory_format=torch.channels_last),
                self.labels[index],
            )


batch_size = 128
val_batches = CifarBatches(val_images, val_labels, batch_size=1_000)
test_batches = CifarBatches(test_images, test_labels, batch_size=1_000)
sample_images, sample_labels = next(
    iter(CifarBatches(train_images, train_labels, 8, train=True))
)
print(
    f"one batch: {tuple(sample_images.shape)} {sample_images.dtype}, labels "
    f"{sample_labels.shape}"
)
print(
    "channels_last: "
    f"{sample_images.is_contiguous(memory_format=torch.channels_last)}"
)

# %%
# A look at that first training batch, flips included (the images are
# un-normalised for display):

fig, axes = plt.subplots(1, 8, figsize=(12, 2.2))
for ax, image, label in zip(
    axes, sample_images.cpu(), sample_labels.cpu(), strict=True
):
    shown = image * channel_std.reshape(3, 1, 1) + channel_mean.reshape(3, 1, 1)
    ax.imshow(shown.permute(1, 2, 0).clamp(0, 1))
    ax.set_title(CIFAR10_CLASSES[label], fontsize=10)
    ax.axis("off")
fig.suptitle("The first training batch (8 images), as the networks receive it")
fig.tight_layout()
plt.show()

# %%
# ## 3. Looking inside a model: shapes, parameters and multiply-adds
#
# To compare architectures we need to measure them. Three numbers describe a
# model's size and cost:
#
# - **parameters**: how many numbers training adjusts (memory, and capacity
#   to fit or to overfit);
# - **multiply-adds** (MACs) per image: the arithmetic of one forward pass.
#   A conv layer computes, for every output value, a dot product over
#   $C_{in}/\text{groups} \cdot k_H \cdot k_W$ inputs; a linear layer does
#   `in_features` × `out_features` of them. Weight sharing (Day 11) keeps a
#   conv layer's parameters small, but its few weights are used at every
#   position, so its MACs can be large;
# - **time**: what the machine actually takes, which MACs predict only
#   roughly (memory traffic matters too). Section 9 measures it.
#
# `summarize` runs one batch through the model and records each block's
# output shape with **forward hooks**: functions that PyTorch calls after a
# module's `forward`, with its inputs and output. A second set of hooks on
# every `Conv2d` and `Linear` layer counts their MACs.


def n_params(module: nn.Module) -> int:
    """Number of trainable numbers in a module."""
    return sum(p.numel() for p in module.parameters())


def layer_macs(layer: nn.Module, output: torch.Tensor) -> int:
    """Multiply-adds per image of a conv or linear layer, from its output; 0 for
    other layers."""
    if isinstance(layer, nn.Conv2d):
        per_output = (
            layer.in_channels
            // layer.groups
            * layer.kernel_size[0]
            * layer.kernel_size[1]
        )
        return output[0].numel() * per_output
    if isinstance(layer, nn.Linear):
        return layer.in_features * layer.out_features
    return 0


def summarize(
    model: nn.Module, batch: torch.Tensor, show: bool = True
) -> dict[str, int]:
    """Print output shape, parameters and MACs of each block (module named
    'part.index')."""
    macs: dict[nn.Module, int] = {}
    rows: list[tuple[str, nn.Module, tuple[int, ...]]] = []
    names = {
        module: name
        for name, module in model.named_modules()
        if name.count(".") == 1
    }

    def count(layer, inputs, output):
        macs[layer] = layer_macs(layer, output)

    def record(module, inputs, output):
        rows.append((names[module], module, tuple(output.shape)))

    counted = [m for m in model.modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    hooks = [m.register_forward_hook(count) for m in counted]
    hooks += [m.register_forward_hook(record) for m in names]
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(batch)
    model.train(was_training)
    for hook in hooks:
        hook.remove()
    total_macs = sum(macs.values())
    if show:
        print(
            f"{'block':<14} {'type':<18} {'output shape':<18} {'parameters':>10} "
            f"{'MACs':>12}"
        )
        print(f"{'input':<14} {'':<18} {str(tuple(batch.shape)):<18}")
        for name, module, shape in rows:
            if isinstance(module, nn.ReLU):
                continue  # same shape, no parameters, no MACs: leave it out
            block_macs = sum(macs.get(m, 0) for m in module.modules())
            print(
                f"{name:<14} {type(module).__name__:<18} {str(shape):<18} "
                f"{n_params(module):>10,} {block_macs:>12,}"
            )
        print(
            f"total: {n_params(model):,} parameters, {total_macs:,} multiply-adds "
            "per image"
        )
    return {"parameters": n_params(model), "macs": total_macs}


# %%
# ## 4. Model A: a plain shallow CNN
#
# The first model is the classic recipe of Day 11, without BatchNorm: two
# blocks of convolution → ReLU → max-pool with **5×5** kernels, then a
# classifier of two linear layers. Written as an `nn.Module` class, the
# layers are attributes created in `__init__` and `forward` says how data
# flows through them. Grouping layers into a `features` part and a
# `classifier` part keeps the class readable.


class ShallowCNN(nn.Module):
    """Model A: two 5×5 conv blocks and a two-layer classifier."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(
                3, 32, kernel_size=5, padding=2
            ),  # 32×32, 5×5 receptive field
            nn.ReLU(),
            nn.MaxPool2d(2),  # -> 16×16
            nn.Conv2d(32, 64, kernel_size=5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(2),  # -> 8×8
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(64 * 8 * 8, 128),
            nn.ReLU(),
            nn.Linear(128, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


model_a = ShallowCNN().to(device, memory_format=torch.channels_last)
summary_a = summarize(model_a, sample_images)

# %%
# Two facts stand out. Most of the **parameters** sit in the first linear
# layer (`classifier.1`), which connects every one of the $64 \cdot 8 \cdot 8$
# features to each of its 128 units. Most of the **multiply-adds** sit in
# the second conv layer, whose 5×5×32 kernels are applied at every position
# of a 16×16 map. The conv layers are cheap to store and expensive to run;
# the linear layer is the opposite.
#
# ## 5. Kernel combinations: two 3×3 convolutions instead of one 5×5
#
# Day 11 showed that stacking two 3×3 convolutions gives each output a 5×5
# receptive field, the same as one 5×5 convolution. The stack costs less:
# per pair of input and output channels it has $2 \cdot 9 = 18$ weights
# instead of $25$, and it puts a ReLU in between, so it can compute things a
# single linear filter cannot. With 64 channels in and out:

channels = 64
one_5x5 = nn.Conv2d(channels, channels, kernel_size=5, padding=2)
two_3x3 = nn.Sequential(
    nn.Conv2d(channels, channels, kernel_size=3, padding=1),
    nn.ReLU(),
    nn.Conv2d(channels, channels, kernel_size=3, padding=1),
)
one_1x1 = nn.Conv2d(channels, channels, kernel_size=1)
for name, block in [
    ("one 5×5", one_5x5),
    ("two 3×3", two_3x3),
    ("one 1×1", one_1x1),
]:
    print(f"{name}: {n_params(block):>7,} parameters")
print(
    f"two 3×3 / one 5×5: {n_params(two_3x3) / n_params(one_5x5):.0%} of the "
    "parameters"
)

# %%
# The receptive field can be checked with autograd, as in Day 11: the
# gradient of one output value with respect to the input is non-zero only on
# the pixels that value depends on. (The last line is a **1×1**
# convolution: it sees one pixel, and mixes the channels there. ResNets use
# it to change the number of channels cheaply; we meet it again in
# section 7.)


def receptive_field_size(block: nn.Module, size: int = 15) -> int:
    """Width of the input region that the central output value depends on."""
    probe = torch.randn(1, channels, size, size, requires_grad=True)
    block(probe)[0, :, size // 2, size // 2].sum().backward()
    touched = probe.grad.abs().sum(dim=(0, 1)).sum(dim=0) > 0
    return int(touched.sum())


for name, block in [
    ("one 5×5", one_5x5),
    ("two 3×3", two_3x3),
    ("one 1×1", one_1x1),
]:
    width = receptive_field_size(block)
    print(f"{name}: each output sees a {width}×{width} patch of the input")

# %%
# This is why VGG (2014), and almost every CNN since, builds large receptive
# fields from stacks of 3×3 kernels: for the same field, fewer weights and
# more nonlinearity. Three 3×3 layers see 7×7 with $27$ weights per channel
# pair instead of $49$.
#
# ## 6. Model B: deeper, with stacked 3×3 kernels and Dropout
#
# The second model follows the VGG pattern: three blocks of **two** 3×3
# convolutions each, the channels doubling (16 → 32 → 64) as the maps halve,
# six conv layers in all. The blocks are built by a function, since they
# differ only in their channel numbers.
#
# Its classifier has **Dropout** (Day 12) before each linear layer: during
# training every feature is zeroed with probability $p$ (and the survivors
# scaled by $1/(1-p)$), so the classifier cannot rely on any single feature.
# It goes where most parameters are, the linear layers, which are the part
# most prone to memorising the training set; the conv layers share their
# weights across positions and overfit far less. The `dropout` argument
# sets $p$; `dropout=0` removes it.


def vgg_block(c_in: int, c_out: int) -> list[nn.Module]:
    """Two 3×3 convolutions with ReLUs, then a 2×2 max-pool that halves height and
    width."""
    return [
        nn.Conv2d(c_in, c_out, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.Conv2d(c_out, c_out, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
    ]


class VGGStyle(nn.Module):
    """Model B: three VGG blocks (six 3×3 conv layers) and a classifier with
    Dropout."""

    def __init__(
        self,
        widths: tuple[int, ...] = (16, 32, 64),
        dropout: float = 0.3,
        num_classes: int = 10,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in = 3
        for c_out in widths:
            layers += vgg_block(c_in, c_out)
            c_in = c_out
        self.features = nn.Sequential(*layers)
        side = 32 // 2 ** len(widths)  # each block halves the 32×32 image
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(c_in * side * side, 128),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(128, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


model_b = VGGStyle().to(device, memory_format=torch.channels_last)
summary_b = summarize(model_b, sample_images)

# %%
# Compare with model A's summary: B has three times as many conv layers,
# each with fewer channels, and a much smaller first linear layer, because
# three poolings leave a 4×4 map instead of 8×8. The comparison in numbers:

print(
    f"B / A: {summary_b['parameters'] / summary_a['parameters']:.2f}× the "
    "parameters, "
    f"{summary_b['macs'] / summary_a['macs']:.2f}× the multiply-adds"
)

# %%
# ## 7. Why deep plain networks are hard to train, and two fixes
#
# A deep stack of conv layers multiplies its input by one weight matrix
# after another. If each layer shrinks the signal a little, the product of
# many layers shrinks it a lot, and on the way back the gradients shrink the
# same way: the first layers learn slowly. We can measure this on model B at
# initialisation, before any training: the spread (standard deviation) of
# each conv layer's output on a real batch, and the size of the gradient
# that each conv layer's weights receive from one backward pass.


def depth_profile(
    model: nn.Module, batch: torch.Tensor, targets: torch.Tensor
) -> dict:
    """Per 3×3 conv layer, in order: output standard deviation and weight-gradient
    norm."""
    convs = [
        m
        for m in model.modules()
        if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3)
    ]
    spreads: list[float] = []
    hooks = [
        c.register_forward_hook(lambda m, i, out: spreads.append(out.std().item()))
        for c in convs
    ]
    model.zero_grad()
    F.cross_entropy(model(batch), targets).backward()
    for hook in hooks:
        hook.remove()
    gradients = [c.weight.grad.norm().item() for c in convs]
    model.zero_grad()
    return {"output std": spreads, "gradient norm": gradients}


profile_batch, profile_targets = next(
    iter(CifarBatches(train_images, train_labels, 64))
)
profile_b = depth_profile(model_b, profile_batch, profile_targets)
for key, values in profile_b.items():
    print(f"model B, {key:<13} by layer:", " ".join(f"{v:.4f}" for v in values))

# %%
# How much of that fading is the architecture, and how much the starting
# weights? PyTorch's default initialisation draws conv weights with variance
# 1/(3 · fan-in), a sixth of the 2/fan-in that **He (Kaiming)
# initialisation** (`nn.init.kaiming_normal_`) uses to keep the spread of a
# ReLU network's signal constant from layer to layer. The same profile, for a
# copy of model B with He-initialised conv weights (nothing trained; only
# for comparison):

model_b_he = copy.deepcopy(model_b)
for module in model_b_he.modules():
    if isinstance(module, nn.Conv2d):
        nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
        if module.bias is not None:
            nn.init.zeros_(module.bias)
profile_b_he = depth_profile(model_b_he, profile_batch, profile_targets)
for key, values in profile_b_he.items():
    print(f"B, He init, {key:<13} by layer:", " ".join(f"{v:.4f}" for v in values))
fade = {
    name: p["output std"][-1] / p["output std"][0]
    for name, p in [("default", profile_b), ("He", profile_b_he)]
}
print(
    "last / first conv output spread: "
    f"default init {fade['default']:.3f}, He init {fade['He']:.3f}"
)

# %%
# Two remedies changed deep learning around 2015.
#
# **Batch normalisation** (`nn.BatchNorm2d`) normalises each channel over the
# batch and the positions to mean 0 and variance 1, then rescales it with two
# learned numbers per channel, $\gamma$ and $\beta$:
#
# $$\hat{x} = \frac{x - \mu_{\text{batch}}}{\sqrt{\sigma^2_{\text{batch}} +
# \epsilon}},
# \qquad y = \gamma \hat{x} + \beta.$$
#
# Whatever the weights before it do, the next layer receives inputs of a
# sensible scale, so signals and gradients neither fade nor explode with
# depth, and higher learning rates become safe.
#
# BatchNorm behaves differently in training and in evaluation. In
# `train()` mode it uses the statistics of the current batch, and updates
# running averages of them (with `momentum=0.1`: 10 % of each new batch).
# In `eval()` mode it uses those running averages instead, so a prediction
# does not depend on which other images share its batch. A batch of one
# channel, drawn with mean 3 and standard deviation 2, through a fresh
# BatchNorm layer:

torch.manual_seed(0)
bn = nn.BatchNorm2d(1)
bn_input = 3 + 2 * torch.randn(16, 1, 4, 4)
bn.train()
y_train = bn(bn_input)
print(f"input:            mean {bn_input.mean():+.3f}, std {bn_input.std():.3f}")
print(
    f"train() output:   mean {y_train.mean():+.3f}, std {y_train.std():.3f}  "
    "(batch statistics)"
)
print(
    f"running mean {bn.running_mean.item():.3f}, running var "
    f"{bn.running_var.item():.3f}"
)
bn.eval()
y_eval = bn(bn_input)
print(
    f"eval() output:    mean {y_eval.mean():+.3f}, std {y_eval.std():.3f}  "
    "(running averages)"
)

# %%
# After a single batch the running mean has only moved 10 % of the way from
# its starting value 0 towards 3, so in `eval()` mode the output is not yet
# normalised; after many batches of training, the running averages match
# the data. The batch dependence in `train()` mode is easy to see: the same
# first image, normalised with two different batch companions, comes out
# differently in `train()` mode and identically in `eval()` mode.

other = 10 + 5 * torch.randn(15, 1, 4, 4)  # different companions for image 0
for mode in ("train", "eval"):
    bn.train(mode == "train")
    with torch.no_grad():
        first_alone = bn(bn_input)[0]
        first_with_others = bn(torch.cat([bn_input[:1], other]))[0]
    same = torch.allclose(first_alone, first_with_others)
    print(f"{mode}(): image 0 gives the same output in both batches: {same}")

# %%
# This is why `model.eval()` before evaluation matters twice over: it turns
# Dropout off and switches BatchNorm to its running statistics. (Because
# BatchNorm subtracts the mean anyway, a conv layer followed by BatchNorm
# does not need a bias: `bias=False`.)
#
# **Residual connections** (ResNet, 2015) are the second remedy. A residual
# block does not replace its input by a new representation; it adds a
# correction $f(x)$ to it:
#
# $$\text{out} = \text{ReLU}\big(x + f(x)\big),$$
#
# where $f$ is two conv-BatchNorm layers. The addition is the **skip
# connection**: on the way back, the gradient reaches $x$ directly through
# it, past $f$, so even very deep stacks pass gradients to their first
# layers. And a block that has nothing useful to add can learn $f(x) = 0$
# and let its input through unchanged, so adding blocks is unlikely to make
# a network worse.
#
# The addition needs $x$ and $f(x)$ of the same shape. When a block changes
# the number of channels or halves the size (stride 2), the skip path gets a
# **1×1 convolution with the same stride**: the cheapest layer that maps the
# channels and the size, a **projection**.


class ResidualBlock(nn.Module):
    """out = ReLU(shortcut(x) + f(x)), f = conv3×3-BN-ReLU-conv3×3-BN."""

    def __init__(
        self, c_in: int, c_out: int, stride: int = 1, batch_norm: bool = True
    ) -> None:
        super().__init__()

        def norm() -> nn.Module:
            return nn.BatchNorm2d(c_out) if batch_norm else nn.Identity()

        self.conv1 = nn.Conv2d(
            c_in, c_out, 3, stride=stride, padding=1, bias=not batch_norm
        )
        self.bn1 = norm()
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=not batch_norm)
        self.bn2 = norm()
        if stride == 1 and c_in == c_out:
            self.shortcut: nn.Module = nn.Identity()
        else:  # a 1×1 projection so that x matches f(x) in channels and size
            self.shortcut = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride=stride, bias=not batch_norm),
                norm(),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(self.shortcut(x) + out)


x = torch.randn(2, 16, 32, 32)
for block in (ResidualBlock(16, 16), ResidualBlock(16, 32, stride=2)):
    print(
        f"{tuple(x.shape)} -> {tuple(block(x).shape)}, shortcut: {block.shortcut}"
    )

# %%
# The classic mistake is forgetting the projection. Without it, the
# addition fails as soon as the shapes differ. PyTorch compares the shapes
# from the right, so the message names the first mismatch it meets there:
# dimension 3, the width (32 in $x$, 16 in $f(x)$); the channels (16 against
# 32) disagree too.

block = ResidualBlock(16, 32, stride=2)
try:
    F.relu(x + block.bn2(block.conv2(F.relu(block.bn1(block.conv1(x))))))
except RuntimeError as err:
    print("Expected error:", type(err).__name__, "-", err)

# %%
# And the claim that a block can "do nothing": with the last BatchNorm's
# scale $\gamma$ set to zero, $f(x) = 0$, and an identity block passes a
# (non-negative) input through exactly. (Some ResNet recipes start every
# block like this: `nn.init.zeros_(block.bn2.weight)`.)

block = ResidualBlock(16, 16).eval()
nn.init.zeros_(block.bn2.weight)
x_positive = torch.rand(2, 16, 8, 8)
print("block(x) equals x:", torch.equal(block(x_positive), x_positive))

# %%
# ## 8. Model C: a small ResNet with BatchNorm
#
# The third model is a small ResNet: a **stem** (one 3×3 conv with
# BatchNorm), three **stages** of residual blocks at 16, 32 and 64 channels
# (one block in the first stage, two in the others; the second and third
# stages halve the size with a stride-2 projection block instead of
# max-pooling), and a **head** that averages each feature map to one number
# (global average pooling, Day 11) before a single linear layer. With 11
# conv layers on its main path plus the linear layer, it is 12 layers deep,
# against 8 for B and 4 for A.
#
# The head is the other big difference from A and B: averaging removes the
# position, so the linear layer has only $64 \cdot 10$ weights, where A's
# classifier needed half a million. `batch_norm=False` builds the same
# network without BatchNorm, for an exercise.


class SmallResNet(nn.Module):
    """Model C: a conv stem, three stages of residual blocks, global average
    pooling."""

    def __init__(
        self,
        widths: tuple[int, ...] = (16, 32, 64),
        blocks: tuple[int, ...] = (1, 2, 2),
        batch_norm: bool = True,
        num_classes: int = 10,
    ) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, widths[0], 3, padding=1, bias=not batch_norm),
            nn.BatchNorm2d(widths[0]) if batch_norm else nn.Identity(),
            nn.ReLU(),
        )
        stages: list[nn.Module] = []
        c_in = widths[0]
        for stage, (c_out, n_blocks) in enumerate(zip(widths, blocks, strict=True)):
            for index in range(n_blocks):
                stride = (
                    2 if stage > 0 and index == 0 else 1
                )  # halve the size once per stage
                stages.append(ResidualBlock(c_in, c_out, stride, batch_norm))
                c_in = c_out
        self.stages = nn.Sequential(*stages)
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c_in, num_classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.stages(self.stem(x)))


model_c = SmallResNet().to(device, memory_format=torch.channels_last)
summary_c = summarize(model_c, sample_images)

# %%
# The depth profile of section 7, now for model C next to model B: the
# spread of each conv layer's output and the gradient each conv layer
# receives, at initialisation, from the same batch.

profile_c = depth_profile(model_c, profile_batch, profile_targets)
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for ax, key in zip(axes, ["output std", "gradient norm"], strict=True):
    for name, profile, marker in [
        ("B: plain VGG-style", profile_b, "o"),
        ("C: ResNet + BatchNorm", profile_c, "s"),
    ]:
        values = profile[key]
        ax.plot(range(1, len(values) + 1), values, marker=marker, label=name)
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(
        LogLocator(subs=(1.0, 2.0, 5.0))
    )  # ticks at 1, 2, 5 × 10^k
    ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("3×3 conv layer (1 = nearest the input)")
    ax.legend(loc="center right")
    ax.grid(True, alpha=0.3)
axes[0].set_ylabel("standard deviation of the layer's output")
axes[0].set_title("Signal size through the network")
axes[1].set_ylabel("norm of the weight gradient")
axes[1].set_title("Gradient reaching each layer")
fig.suptitle(
    "At initialisation, before any training (one batch of 64 images, log scale)"
)
fig.tight_layout()
plt.show()

for name, profile in [("B", profile_b), ("C", profile_c)]:
    for key in ("output std", "gradient norm"):
        values = profile[key]
        print(
            f"model {name}, {key:<13}: largest / smallest over the layers "
            f"{max(values) / min(values):5.1f}×"
        )

# %%
# The ratios printed above sum the figure up: across model B's layers, the
# signal and the gradient vary by a large factor, with the gradient
# weakest in the layers nearest the input, exactly the layers that have to
# learn the basic edges and colours; across model C's layers the ratios
# stay much closer to 1. (Adam, the optimiser below, rescales each
# parameter's step by the size of its recent gradients, which hides part of
# this for B, but not all of it: the layers of a plain network still change
# the scale of what the next layer receives as they learn.)
#
# ## 9. A fair race: same data, seed, recipe and budget
#
# An architecture comparison means something only if nothing but the
# architecture changes. All three models get:
#
# - the same `n_train` training images, in the same shuffled order with the
#   same flips (a fresh `CifarBatches` with the same seed for each);
# - the same initialisation seed (`course.seed_everything(0)` before each
#   model is built);
# - the same recipe: **Adam** at a learning rate of 2e-3, **cosine
#   annealing** of the learning rate over the epochs (stepped once per epoch
#   by `fit`), batches of 128, cross-entropy loss;
# - the same number of `epochs`.
#
# One learning rate for all is a simplification: each architecture has its
# own best learning rate (BatchNorm tolerates higher ones), and a thorough
# comparison would tune it per model (Day 20). Keep that in mind when you
# read the table.
#
# **Timing honestly.** The first steps of a new model are slower than the
# rest: memory is allocated, and the convolution library picks and prepares
# its algorithms for each new shape. Those one-time costs are not the
# model's speed, so before the clock starts, `warm_up` runs a few training
# steps on a *copy* of the model (the real one is left untouched, at its
# seeded initialisation) and prints how long each step took: where the first
# is the slowest, that is the one-time cost. `fit` then times each epoch with
# `time.perf_counter()`, a monotonic clock meant for measuring intervals;
# an epoch's time includes its validation pass. On a GPU, `fit` reads the
# loss with `.item()` every batch, which waits for the GPU, so its timings
# are honest there too.

epochs = course.pick(full=5, smoke=2)
learning_rate = 2e-3
loss_fn = nn.CrossEntropyLoss()


def warm_up(model: nn.Module, steps: int = 3) -> list[float]:
    """Train a throw-away copy of ``model`` for a few steps; return each step's
    seconds."""
    twin = copy.deepcopy(model).train()
    optimizer = torch.optim.Adam(twin.parameters(), lr=learning_rate)
    seconds = []
    for step, (inputs, targets) in enumerate(
        CifarBatches(train_images, train_labels, batch_size)
    ):
        if step == steps:
            break
        start = time.perf_counter()
        optimizer.zero_grad()
        loss = loss_fn(twin(inputs), targets)
        loss.backward()
        optimizer.step()
        loss.item()  # waits until the device has finished the step
        seconds.append(time.perf_counter() - start)
    return seconds


def train(model: nn.Module) -> dict[str, list[float]]:
    """The shared recipe: Adam, cosine annealing, the same batches; returns fit's
    history."""
    step_seconds = warm_up(model)
    print(
        "warm-up steps (not timed below):",
        ", ".join(f"{1000 * s:.0f} ms" for s in step_seconds),
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    train_batches = CifarBatches(
        train_images, train_labels, batch_size, train=True, seed=0
    )
    return fit(
        model,
        train_batches,
        val_batches,
        loss_fn,
        optimizer,
        epochs=epochs,
        device=device,
        scheduler=scheduler,
        progress=False,
    )


builders = {
    "A: shallow": ShallowCNN,
    "B: VGG + Dropout": VGGStyle,
    "C: ResNet + BN": SmallResNet,
}
models: dict[str, nn.Module] = {}
histories: dict[str, dict[str, list[float]]] = {}
for name, build in builders.items():
    print(f"--- {name}")
    course.seed_everything(0)
    models[name] = build().to(device, memory_format=torch.channels_last)
    histories[name] = train(models[name])

# %%
# ## 10. The comparison table
#
# After training, each model is measured on three sets, in `eval()` mode:
# the first `n_val` of its training images (as many as the validation set
# has, without flips), the validation set, and, once, the test set. The gap
# between training and test accuracy shows how much a model has memorised
# rather than learned.

train_check = CifarBatches(
    train_images[:n_val], train_labels[:n_val], batch_size=1_000
)
results: dict[str, dict[str, float]] = {}
for name, model in models.items():
    history = histories[name]
    size = summarize(model, sample_images, show=False)
    results[name] = {
        "conv layers": sum(isinstance(m, nn.Conv2d) for m in model.modules()),
        "parameters": size["parameters"],
        "macs": size["macs"],
        "seconds per epoch": sum(history["epoch_time_s"]) / epochs,
        "train acc": evaluate(model, train_check)["accuracy"],
        "val acc": history["val_acc"][-1],
        "test acc": evaluate(model, test_batches)["accuracy"],
    }

header = (
    f"{'model':<16} {'conv':>4} {'params':>8} {'MACs':>6} {'s/epoch':>7} "
    f"{'train':>6} {'val':>6} {'test':>6} {'gap':>5}"
)
print(header)
print("-" * len(header))
for name, r in results.items():
    gap = 100 * (r["train acc"] - r["test acc"])
    print(
        f"{name:<16} {r['conv layers']:>4} {r['parameters']:>8,} "
        f"{r['macs'] / 1e6:>5.1f}M "
        f"{r['seconds per epoch']:>7.1f} {r['train acc']:>6.1%} "
        f"{r['val acc']:>6.1%} "
        f"{r['test acc']:>6.1%} {gap:>5.1f}"
    )
print(
    f"{n_train:,} training images, {epochs} epochs, batch {batch_size}, on "
    f"{device}."
)
print(
    "conv: every Conv2d, 1×1 projections included; MACs: multiply-adds per image;"
)
print(
    "train, val, test: accuracies; gap: train - test accuracy, in percentage "
    "points."
)

# %%
# The curves show how each model got there. Solid lines are validation,
# dashed lines are training (averaged over each epoch, with flips and
# Dropout active, so a little pessimistic).

epochs_axis = range(1, epochs + 1)
fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(12, 4.5))
for index, (name, history) in enumerate(histories.items()):
    colour = f"C{index}"
    ax_loss.plot(
        epochs_axis,
        history["val_loss"],
        color=colour,
        marker="o",
        label=f"{name} (val)",
    )
    ax_loss.plot(
        epochs_axis,
        history["train_loss"],
        color=colour,
        ls="--",
        label=f"{name} (train)",
    )
    ax_acc.plot(
        epochs_axis,
        [100 * a for a in history["val_acc"]],
        color=colour,
        marker="o",
        label=name,
    )
    ax_acc.plot(
        epochs_axis, [100 * a for a in history["train_acc"]], color=colour, ls="--"
    )
ax_loss.set_title("Loss per epoch (solid: validation, dashed: training)")
ax_loss.set_ylabel("cross-entropy loss")
ax_acc.set_title("Accuracy per epoch (solid: validation, dashed: training)")
ax_acc.set_ylabel("accuracy (%)")
for ax in (ax_loss, ax_acc):
    ax.set_xlabel("epoch")
    ax.set_xticks(list(epochs_axis))
    ax.grid(True, alpha=0.3)
ax_loss.legend(fontsize=8)
ax_acc.legend(fontsize=9)
fig.suptitle("Three architectures, same data, seed, recipe and budget")
fig.tight_layout()
plt.show()

# %%
# ## 11. Reading the table: trade-offs
#
# Accuracy is one column of four. A model that is a little more accurate but
# needs many times the parameters or the time may be the wrong choice for a
# phone or a tight budget. One picture of the trade-off: test accuracy
# against time per epoch, with the area of each marker proportional to the
# number of parameters.

fig, ax = plt.subplots(figsize=(6.5, 4.5))
largest = max(r["parameters"] for r in results.values())
for index, (name, r) in enumerate(results.items()):
    ax.scatter(
        r["seconds per epoch"],
        100 * r["test acc"],
        s=1500 * r["parameters"] / largest,
        color=f"C{index}",
        alpha=0.6,
        label=f"{name}: {r['parameters']:,} parameters",
    )
ax.set_xlabel(f"seconds per epoch ({n_train:,} images, on {device})")
ax.set_ylabel("test accuracy (%)")
ax.set_title("Accuracy vs time; marker area ∝ parameters")
ax.legend(fontsize=9, markerscale=0.4, loc="lower right")
ax.margins(x=0.3, y=0.3)
ax.grid(True, alpha=0.3)
plt.show()

# %%
# The comparisons, in sentences computed from the table:

a_name, b_name, c_name = builders
best = max(results, key=lambda n: results[n]["test acc"])
fastest = min(results, key=lambda n: results[n]["seconds per epoch"])
smallest = min(results, key=lambda n: results[n]["parameters"])
print(f"Most accurate on the test set: {best} ({results[best]['test acc']:.1%}).")
print(
    f"Fastest per epoch: {fastest} ({results[fastest]['seconds per epoch']:.1f} s)."
)
print(f"Fewest parameters: {smallest} ({results[smallest]['parameters']:,}).")


def compare(first: str, second: str) -> str:
    """One line comparing two rows of the table."""
    r1, r2 = results[first], results[second]
    points = 100 * (r1["test acc"] - r2["test acc"])
    return (
        f"{first} vs {second}: {points:+.1f} test-accuracy points, "
        f"{r1['parameters'] / r2['parameters']:.2f}× the parameters, "
        f"{r1['macs'] / r2['macs']:.2f}× the multiply-adds, "
        f"{r1['seconds per epoch'] / r2['seconds per epoch']:.2f}× the time per "
        "epoch."
    )


print(compare(b_name, a_name))
print(compare(c_name, a_name))
print(compare(c_name, b_name))
macs_order = sorted(results, key=lambda n: results[n]["macs"])
time_order = sorted(results, key=lambda n: results[n]["seconds per epoch"])
print(
    "Ordered by multiply-adds and by measured time, the models come out "
    + ("in the same order." if macs_order == time_order else "in different orders:")
)
if macs_order != time_order:
    print(f"  MACs: {' < '.join(macs_order)}\n  time: {' < '.join(time_order)}")

# %%
# One more diagnostic before we interpret: is a model that scores lower
# *over-fitting* (good on its training images, worse on new ones) or
# *under-fitting* (not even good on its training images yet)? The final
# training loss and the train-test gap tell them apart:

for name, r in results.items():
    gap = 100 * (r["train acc"] - r["test acc"])
    print(
        f"{name:<18} final training loss {histories[name]['train_loss'][-1]:.3f}, "
        f"train accuracy {r['train acc']:.1%}, train-test gap {gap:+.1f} points"
    )
lowest_train_loss = min(histories, key=lambda n: histories[n]["train_loss"][-1])
print(f"Lowest training loss: {lowest_train_loss}.")

# %%
# What to read in these numbers (yours may differ, on another machine or
# seed):
#
# - **B against A is not a test of depth.** B differs from A in depth, kernel
#   sizes, widths and Dropout at once, so this race cannot credit (or blame)
#   any one of them; a controlled comparison changes one at a time. What it
#   does show: where B trails A, check its training loss; if that is higher
#   too, B is under-fitting within the budget. Section 7 measured a likely
#   cause at initialisation, and showed that most of the fading signal comes
#   from the default initialisation (He initialisation keeps it far steadier);
#   more epochs, a tuned learning rate or BatchNorm would help too. VGG
#   itself was trained for weeks, with careful initialisation; the versions
#   used today add BatchNorm.
# - **BatchNorm and skip connections make depth trainable.** C is the
#   deepest of the three. Compare how early its validation curve climbs with
#   B's: that is how fast each learns per epoch. Its global-average-pooling
#   head also keeps its parameter count small. Exercise 1 removes the
#   BatchNorm to see how much C owes to it.
# - **Where the parameters live.** Most of A's parameters are one linear
#   layer, the part with the most room to memorise; the gap column shows how
#   much each model memorised in this short run. Dropout (model B) targets
#   exactly that, and tends to pay off in longer runs, where the gap grows;
#   Exercise 2 looks at it.
# - **MACs are not seconds.** Many thin layers, BatchNorm and the additions
#   of the skip connections move memory around without doing many
#   multiply-adds; the lines above say whether the measured times follow the
#   MAC column on this machine.
#
# [Day 14](day14_cifar10.ipynb) trains on the whole of CIFAR-10, with proper
# augmentation and a longer budget, for much higher accuracy than this short
# race.
#
# ## 12. Summary
#
# - A model is an `nn.Module` class: layers created in `__init__`, the data
#   flow written in `forward`; repeated structure goes in a block function or
#   class.
# - `summarize` (forward hooks) prints each block's output shape,
#   parameters and multiply-adds; conv layers are cheap in parameters and
#   expensive in compute, linear layers the opposite.
# - Two stacked 3×3 convolutions see the same 5×5 patch as one 5×5
#   convolution, with 18 weights per channel pair instead of 25 and an
#   extra nonlinearity (when the input and output channels match); 1×1
#   convolutions mix channels.
# - Dropout goes where the parameters (and the overfitting) are, in the
#   classifier; it is off in `eval()` mode.
# - BatchNorm normalises each channel with the batch's statistics in
#   training and with running averages in evaluation; it keeps signals and
#   gradients at a steady scale through depth.
# - A residual block computes $\text{ReLU}(x + f(x))$; a 1×1 projection on
#   the skip path fixes mismatched shapes.
# - A fair comparison fixes data, order, seed, recipe and budget, warms up
#   before timing, and reports parameters, time and accuracy together.
#
# ## 13. Exercises
#
# 1. **Ablation: BatchNorm.** Build model C without BatchNorm
#    (`SmallResNet(batch_norm=False)`; the skip connections stay), train it
#    with the same recipe and compare its accuracy and curves with C's. What
#    does BatchNorm contribute, beyond the skip connections?
# 2. **Dropout at work.** (a) Evaluate the trained model B on the test set in
#    `train()` mode, three times, and compare with its `eval()` accuracy.
#    What changes and why? (b) Model B's Dropout was meant against
#    overfitting. Judging by its train-test gap in the table, was B
#    over-fitting in this run?
# 3. **Kernel combinations in model A.** Replace each 5×5 convolution of
#    model A by two 3×3 convolutions with a ReLU between them (the receptive
#    field stays the same). Without training, compare the parameters and the
#    multiply-adds of the conv layers. Does it matter whether the channel
#    count changes in the first or the second layer of a pair?

# %%
# **Solution 1.** One more training run with the shared recipe; only the
# model changes. The printed difference is what BatchNorm adds on top of the
# skip connections, in this budget. Read the training curves as well as the
# validation ones: where the version without BatchNorm is lower on both, it
# is learning more slowly, not over-fitting. Without BatchNorm, every
# layer's inputs drift in scale as the layers before it learn, and each
# layer has to keep adapting to that; with it, each layer sees inputs of a
# steady scale, and a learning rate as high as ours stays safe.

course.seed_everything(0)
model_c_no_bn = SmallResNet(batch_norm=False).to(
    device, memory_format=torch.channels_last
)
history_no_bn = train(model_c_no_bn)
test_no_bn = evaluate(model_c_no_bn, test_batches)["accuracy"]
difference = 100 * (results[c_name]["test acc"] - test_no_bn)
print(
    f"test accuracy: C with BatchNorm {results[c_name]['test acc']:.1%}, "
    f"without {test_no_bn:.1%} ({difference:+.1f} points for BatchNorm)"
)

# %%

fig, ax = plt.subplots(figsize=(6.5, 4.5))
for colour, (label, history) in zip(
    ["C2", "C3"],
    [("with BatchNorm", histories[c_name]), ("without BatchNorm", history_no_bn)],
    strict=True,
):
    ax.plot(
        epochs_axis,
        [100 * a for a in history["val_acc"]],
        color=colour,
        marker="o",
        label=f"C {label} (val)",
    )
    ax.plot(
        epochs_axis,
        [100 * a for a in history["train_acc"]],
        color=colour,
        ls="--",
        label=f"C {label} (train)",
    )
ax.set_xlabel("epoch")
ax.set_ylabel("accuracy (%)")
ax.set_xticks(list(epochs_axis))
ax.set_title(
    "Ablation: model C with and without BatchNorm\n(solid: validation, dashed: "
    "training)"
)
ax.legend()
ax.grid(True, alpha=0.3)
plt.show()

# %%
# **Solution 2.** (a) In `train()` mode Dropout stays active: each
# evaluation drops a different random set of features, so the accuracy
# changes from run to run and is usually lower. That is the bug of
# forgetting `model.eval()` (B has no BatchNorm, otherwise its batch
# statistics would interfere too). `evaluate` switches to `eval()` itself;
# to see the effect we do the loop by hand.
#
# (b) The gap column answers it. The second code cell takes a gap of 3
# points or more as a sign of over-fitting (a rule of thumb, not a law).
# Where a model shows little sign of over-fitting, it is still learning, and
# Dropout has little to fix: it then mostly slows training down, because
# every step trains a randomly thinned network. Its benefit appears in long
# runs, when the training accuracy runs away from the validation accuracy
# (Day 12's experiments; Day 18 adds early stopping).


def accuracy_in_train_mode(model: nn.Module, batches: CifarBatches) -> float:
    """Test accuracy with Dropout active (train mode), no gradients."""
    model.train()
    correct = 0
    with torch.no_grad():
        for inputs, targets in batches:
            correct += (model(inputs).argmax(dim=1) == targets).sum().item()
    model.eval()
    return correct / len(batches.labels)


model_b_trained = models[b_name]
torch.manual_seed(0)
runs = [accuracy_in_train_mode(model_b_trained, test_batches) for _ in range(3)]
print(f"model B, eval() mode: {results[b_name]['test acc']:.2%}")
print("model B, train() mode, three runs:", ", ".join(f"{a:.2%}" for a in runs))

# %%

for name, r in results.items():
    gap = 100 * (r["train acc"] - r["test acc"])
    verdict = "little sign of over-fitting" if gap < 3 else "some over-fitting"
    print(
        f"{name:<18} train {r['train acc']:.1%}, test {r['test acc']:.1%}: "
        f"{verdict}"
    )

# %%
# **Solution 3.** A variant of model A whose features use pairs of 3×3
# convolutions; the classifier is inherited unchanged. With only 3 input
# channels, the first pair widens to 32 channels at once. The second pair
# gets both options: widen in its first layer (32 → 64 → 64) or in its
# second (32 → 32 → 64).
#
# The 18-instead-of-25 saving holds for a pair whose layers have as many
# input channels as the single 5×5 layer. Block 1 breaks that rule: A's 5×5
# layer reads only 3 channels, while the second 3×3 layer of the pair reads
# 32, so the pair costs more. In block 2, widening in the second layer keeps
# the first one at 32 → 32 channels, and the pair is the cheaper option;
# widening in the first layer makes the second one read 64 channels and
# gives the saving away (compare the two printed variants). VGG and ResNet
# widen once per stage and keep the channel count inside it. Whether a
# variant is also more accurate is a training run away: the `train`
# function of section 9 takes any model.


class ShallowCNN3x3(ShallowCNN):
    """Model A with each 5×5 convolution replaced by two 3×3 convolutions."""

    def __init__(self, middle: int = 64, num_classes: int = 10) -> None:
        super().__init__(num_classes)
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(32, 32, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, middle, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(middle, 64, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )


def conv_costs(
    features: nn.Sequential, batch: torch.Tensor
) -> list[tuple[int, int]]:
    """(parameters, multiply-adds per image) of each conv layer of a Sequential, in
    order."""
    costs = []
    with torch.no_grad():
        for layer in features:
            batch = layer(batch)
            if isinstance(layer, nn.Conv2d):
                costs.append((n_params(layer), layer_macs(layer, batch)))
    return costs


one_5x5_costs = conv_costs(model_a.features, sample_images)
for middle in (64, 32):
    pair_costs = conv_costs(
        ShallowCNN3x3(middle).features.to(device), sample_images
    )
    print(f"second pair 32 -> {middle} -> 64:")
    for stage in range(2):
        (p5, m5), pair = one_5x5_costs[stage], pair_costs[2 * stage : 2 * stage + 2]
        p3, m3 = sum(p for p, _ in pair), sum(m for _, m in pair)
        print(
            f"  block {stage + 1}: one 5×5 {p5:>6,} parameters {m5 / 1e6:5.2f}M "
            "MACs | "
            f"two 3×3 {p3:>6,} parameters {m3 / 1e6:5.2f}M MACs"
        )

# %%
# Next, [Day 14](day14_cifar10.ipynb) trains a CNN on the whole of CIFAR-10:
# normalisation, augmentation, and per-class results.

elapsed = time.perf_counter() - lesson_start
print(f"Lesson run time: {elapsed:.0f} s ({course.PROFILE} profile, {device})")

# sphinx_gallery_thumbnail_number = 3
