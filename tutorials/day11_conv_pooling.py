"""
# Day 11 · Convolution and pooling layers (卷積層與池化層)

Day 10's MLP flattened each digit into 784 unrelated numbers: it had no idea
which pixels are neighbours. A **convolutional layer** slides one small filter
over the whole image, so it looks at neighbourhoods and reuses the same few
weights everywhere; a **pooling layer** then shrinks the result while keeping
the strongest responses. In this lesson you apply a hand-made edge filter to
real images, learn every argument of `nn.Conv2d` and the formula for the size
of its output, take pooling apart on a 4×4 example, count the parameters that
weight sharing saves, follow a batch layer by layer through a small CNN and
compute what each layer can "see". Then you train that CNN on MNIST and
measure it against Day 10's MLP, trained the same way in the same run.

**You will learn:** what a convolution computes, and applying one with
`F.conv2d` · `nn.Conv2d`: channels, kernel size, stride, padding, dilation,
groups, bias · the output-size formula · `nn.MaxPool2d`, `nn.AvgPool2d` and
adaptive pooling · weight sharing: parameters of a conv layer vs a linear
layer · following shapes through a CNN · the receptive field · training a
CNN that beats an MLP

**Before you start:** [Day 10](day10_mnist.ipynb) (MNIST, `fit`, the MLP) ·
**Reading time:** about 2 hours
"""

# %%
# ## 1. Set-up
#
# As in Day 10, the lesson measures its own run time: the CNN has to beat the
# MLP within a fixed budget on a laptop CPU, not at any cost.

import time

lesson_start = time.perf_counter()

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from matplotlib.patches import Rectangle
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import course
from course.data.cifar10 import load_cifar10
from course.data.mnist import load_mnist
from course.fit import evaluate, fit
from course.plots import plot_curves
from course.report import headline

course.seed_everything(0)
device = course.choose_device()
print(f"profile: {course.PROFILE}, device: {device}, torch {torch.__version__}")

# %%
# ## 2. What a convolution computes
#
# A convolutional layer holds a small grid of weights, the **kernel** (or
# filter), say 3×3. It lays the kernel on the image at one position,
# multiplies each weight with the pixel under it, adds the nine products and a
# bias: that sum is one output pixel. Then it moves the kernel one step and
# does the same, over the whole image. For an input $x$, a $k \times k$
# kernel $w$ and a bias $b$, output pixel $(i, j)$ is
#
# $$y_{i,j} = b + \sum_{u=0}^{k-1} \sum_{v=0}^{k-1} w_{u,v}\, x_{i+u,\, j+v}.$$
#
# (Strictly, this is a *cross-correlation*: a convolution in the
# mathematical sense flips the kernel first. Deep-learning libraries don't
# flip and call it a convolution anyway; for learned kernels the difference
# is irrelevant, and for the hand-set kernels below it only flips the sign.)
#
# Two consequences matter for everything that follows:
#
# - **Locality**: an output pixel depends only on a small neighbourhood of
#   the input, the pixels under the kernel.
# - **Weight sharing**: the *same* weights are used at every position, so a
#   pattern the kernel detects (an edge, a stroke end) is detected wherever it
#   appears in the image, with very few parameters.
#
# We start with a real image: the MNIST digits (in the smoke profile, a small
# class-balanced subset).

train_full = load_mnist(train=True, limit=course.pick(full=None, smoke=2_000))
test_set = load_mnist(train=False, limit=course.pick(full=None, smoke=1_000))
digit = train_full.data[0].float().div(255)  # 28×28, values in [0, 1]
print(f"one digit: {tuple(digit.shape)}, label {train_full.targets[0].item()}")

# %%
# ## 3. A hand-set filter: edge detection on real images
#
# Before any learning, we set a kernel by hand. The **Sobel** kernels are
# classic edge detectors: the first compares the column to the right of a
# pixel with the column to its left, so it responds to *vertical* edges
# (brightness changing from left to right); its transpose responds to
# *horizontal* edges.

sobel_x = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
sobel_y = sobel_x.T
print("vertical-edge kernel (Sobel x):\n", sobel_x)
print("horizontal-edge kernel (Sobel y):\n", sobel_y)

# %%
# `F.conv2d(input, weight, bias, stride, padding, ...)` is the convolution as a
# plain function, with the weights passed in. Its shapes are the ones every
# conv layer uses:
#
# - input: $(N, C_{in}, H, W)$, a batch of $N$ images with $C_{in}$ channels;
# - weight: $(C_{out}, C_{in}, k_H, k_W)$, one kernel per output channel *and*
#   input channel;
# - output: $(N, C_{out}, H_{out}, W_{out})$, one **feature map** per output
#   channel.
#
# Stacking both Sobel kernels as two output channels computes both edge maps
# in one call. `padding=1` adds a border of zeros so that the output keeps
# the 28×28 size.

sobel = torch.stack([sobel_x, sobel_y]).unsqueeze(1)  # (C_out=2, C_in=1, 3, 3)
digit_batch = digit.reshape(1, 1, 28, 28)  # (N=1, C_in=1, H, W)
digit_edges = F.conv2d(digit_batch, sobel, padding=1)
print(f"weight {tuple(sobel.shape)}, input {tuple(digit_batch.shape)}")
print(f"output {tuple(digit_edges.shape)}: one 28×28 feature map per kernel")

# %%
# Is that really the formula of section 2? Without padding, output pixel
# $(i, j)$ should be the sum of the 3×3 window starting at input pixel
# $(i, j)$, multiplied by the kernel. Checking one position by hand:

i, j = 10, 12
window = digit[i : i + 3, j : j + 3]
by_hand = (window * sobel_x).sum()
by_conv = F.conv2d(digit_batch, sobel_x.reshape(1, 1, 3, 3))[0, 0, i, j]
print(f"by hand {by_hand.item():.4f}, F.conv2d {by_conv.item():.4f}")

# %%
# A kernel always spans **all input channels**. A colour photo has three (red,
# green, blue), so each kernel becomes 3×3×3. Here each Sobel kernel is spread
# over the channels with the usual weights for converting colour to grey, so
# the layer computes "the edges of the grey image" in one step. The photo is a
# 32×32 test image from CIFAR-10, which Day 14 works with.

cifar = load_cifar10(train=False, limit=20)
photo_index = cifar.targets.index(cifar.classes.index("ship"))
photo = (
    torch.from_numpy(cifar.data[photo_index]).permute(2, 0, 1).float().div(255)
)  # (3, 32, 32)
to_grey = torch.tensor([0.299, 0.587, 0.114])
sobel_rgb = sobel * to_grey.reshape(
    1, 3, 1, 1
)  # (2, 1, 3, 3) * (1, 3, 1, 1) -> (2, 3, 3, 3)
photo_edges = F.conv2d(photo.unsqueeze(0), sobel_rgb, padding=1)
print(
    f"photo {tuple(photo.shape)}, weight {tuple(sobel_rgb.shape)} -> "
    f"{tuple(photo_edges.shape)}"
)

# %%
# The edge maps are signed: positive where brightness increases in the
# kernel's direction, negative where it decreases. The last column combines
# both into the edge strength $\sqrt{G_x^2 + G_y^2}$.


def show_edges(axes_row, image, edges, name: str) -> None:
    """Input, vertical edges, horizontal edges and edge strength, side by side."""
    axes_row[0].imshow(image, cmap="gray" if image.ndim == 2 else None)
    axes_row[0].set_title(f"{name}: input")
    limit = edges.abs().max().item()
    for ax, edge_map, what in zip(
        axes_row[1:3],
        edges,
        ["vertical edges (Sobel x)", "horizontal edges (Sobel y)"],
        strict=True,
    ):
        ax.imshow(edge_map, cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_title(what)
    axes_row[3].imshow(edges.pow(2).sum(dim=0).sqrt(), cmap="magma")
    axes_row[3].set_title("edge strength")
    for ax in axes_row:
        ax.set_xticks([])
        ax.set_yticks([])


fig, axes = plt.subplots(2, 4, figsize=(11, 6.4))
show_edges(axes[0], digit, digit_edges[0], f"digit {train_full.targets[0].item()}")
show_edges(axes[1], photo.permute(1, 2, 0), photo_edges[0], "ship")
fig.suptitle("Hand-set Sobel filters applied with F.conv2d (red > 0, blue < 0)")
fig.tight_layout()
plt.show()

# %%
# The vertical-edge map lights up on the left and right sides of each stroke
# (with opposite signs), the horizontal-edge map on the top and bottom. On the
# photo, note the bright frame: the zero padding is a black border around an
# image that is not black at its edges, so the filters see an edge there that
# is not in the picture. (The MNIST digits have black borders already.) A CNN
# *learns* kernels like these, and many more, from the data; section 14 looks
# at the ones our network learns.
#
# ## 4. `nn.Conv2d`: a convolution with learnable weights
#
# `nn.Conv2d` is `F.conv2d` with its weight and bias stored as parameters
# that the optimiser trains. Its arguments:
#
# | argument | meaning | typical |
# | --- | --- | --- |
# | `in_channels` | 1 (grey), 3 (RGB), or the previous `out_channels` | 1, 3 |
# | `out_channels` | number of kernels = of output feature maps | 16, 32, 64... |
# | `kernel_size` | size $k$ of each kernel (int, or pair $k_H, k_W$) | 3 |
# | `stride` | step $s$ between kernel positions; 2 halves the size | 1 |
# | `padding` | zeros $p$ per border; `"same"` keeps the size (stride 1) | $k//2$ |
# | `dilation` | spacing $d$ of kernel taps: 3×3 with $d=2$ covers 5×5 | 1 |
# | `groups` | splits the channels into groups convolved separately | 1 |
# | `bias` | a learnable bias per output channel | `True` (`False` before BN) |

conv = nn.Conv2d(in_channels=3, out_channels=16, kernel_size=3, stride=1, padding=1)
print(conv)
print(f"weight {tuple(conv.weight.shape)} = (out_channels, in_channels, k, k)")
print(f"bias   {tuple(conv.bias.shape)} = (out_channels,)")
print(f"output for the photo: {tuple(conv(photo.unsqueeze(0)).shape)}")

# %%
# The most common mistake is an input whose channel count does not match
# `in_channels`, for instance a grey MNIST batch fed to a layer built for RGB:

try:
    conv(digit_batch)
except RuntimeError as err:
    print("Expected error:", type(err).__name__, "-", err)

# %%
# The message names both numbers: the weight expects 3 input channels, the
# input has 1. Fix the layer (`in_channels=1`) or the data, never by
# reshaping blindly.
#
# **`groups`** splits the input and output channels into that many groups
# that do not see each other; each kernel then spans only
# `in_channels / groups` channels. With `groups=in_channels` every channel gets
# its own kernel: a **depthwise** convolution, the cheap layer of
# MobileNet-style networks. **`bias=False`** drops the bias, which is redundant when a
# BatchNorm layer follows (it subtracts the mean anyway). The parameter
# counts show both:


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


for groups in (1, 4, 32):
    layer = nn.Conv2d(32, 32, kernel_size=3, groups=groups)
    print(
        f"Conv2d(32, 32, 3, groups={groups:>2}): weight "
        f"{tuple(layer.weight.shape)}, "
        f"{n_params(layer):>5,} parameters"
    )
print(
    "Conv2d(32, 32, 3, bias=False): "
    f"{n_params(nn.Conv2d(32, 32, 3, bias=False)):,} parameters"
)

# %%
# ## 5. The output-size formula
#
# Along one dimension, an input of size $H$ is padded to $H + 2p$. A kernel
# of size $k$ with dilation $d$ spans $d(k-1)+1$ pixels, so it fits
# $H + 2p - d(k-1) - 1$ steps past its first position; moving $s$ pixels at a
# time, the number of positions is
#
# $$H_{out} = \left\lfloor \frac{H + 2p - d(k-1) - 1}{s} \right\rfloor + 1 .$$
#
# The same holds for the width. As a function, checked against real layers
# for several settings:


def conv_output_size(
    size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> int:
    """Output size of a convolution or pooling along one dimension."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


settings = [  # (input size, kernel, stride, padding, dilation)
    (28, 3, 1, 0, 1),
    (28, 3, 1, 1, 1),
    (28, 5, 1, 2, 1),
    (28, 3, 2, 1, 1),
    (28, 4, 2, 1, 1),
    (28, 3, 1, 2, 2),
    (28, 5, 2, 0, 2),
    (28, 7, 3, 0, 1),
    (32, 3, 2, 0, 1),
    (32, 5, 1, 0, 3),
]
print(" H   k   s   p   d | formula  nn.Conv2d")
for size, k, s, p, d in settings:
    layer = nn.Conv2d(1, 1, kernel_size=k, stride=s, padding=p, dilation=d)
    real = layer(torch.zeros(1, 1, size, size)).shape[-1]
    predicted = conv_output_size(size, k, s, p, d)
    print(
        f"{size:>2} {k:>3} {s:>3} {p:>3} {d:>3} | {predicted:>7} {real:>10}"
        f"{'' if predicted == real else '  MISMATCH'}"
    )

# %%
# Three rules of thumb fall out of the formula, and the table shows each:
#
# - stride 1 with $p = d(k-1)/2$ keeps the size ("same" padding: $p=1$ for a
#   3×3 kernel, $p=2$ for 5×5 or for 3×3 with $d=2$);
# - stride 2 roughly halves it;
# - when the stride does not divide evenly, the floor silently drops the
#   last pixels: in the 32 → 15 row ($k=3$, $s=2$, no padding) the last
#   window covers columns 28 to 30, and column 31 is never used.
#
# ## 6. Pooling layers
#
# A **pooling** layer summarises each window of a feature map with a fixed
# rule and no weights: `nn.MaxPool2d` keeps the largest value, `nn.AvgPool2d`
# the mean. With the usual `kernel_size=2` (the stride defaults to the kernel
# size) it halves height and width, which cuts the work of every later layer
# by four, and it makes the output less sensitive to small shifts: the
# maximum of a window does not care where in the window the strong response
# was. A worked example on a 4×4 input:

x = torch.tensor(
    [
        [1.0, 3.0, 2.0, 0.0],
        [5.0, 6.0, 1.0, 2.0],
        [0.0, 2.0, 4.0, 4.0],
        [1.0, 1.0, 3.0, 8.0],
    ]
).reshape(1, 1, 4, 4)
print("input:\n", x[0, 0])
print("MaxPool2d(2):\n", nn.MaxPool2d(2)(x)[0, 0])
print("AvgPool2d(2):\n", nn.AvgPool2d(2)(x)[0, 0])
print("MaxPool2d(kernel_size=3, stride=1):\n", nn.MaxPool2d(3, stride=1)(x)[0, 0])

# %%
# Check the first window by eye: the top-left 2×2 block holds 1, 3, 5 and 6,
# whose maximum is 6 and whose mean is 3.75. Pooling works on each channel
# separately (the channel count never changes), has no parameters, and its
# output size follows the same formula as a convolution's:

feature_maps = torch.randn(8, 16, 28, 28)
for pool in (
    nn.MaxPool2d(2),
    nn.MaxPool2d(3, stride=2),
    nn.AvgPool2d(4),
    nn.MaxPool2d(2, padding=1),
):
    out = pool(feature_maps)
    print(f"{str(pool):<75} -> {tuple(out.shape)}, {n_params(pool)} parameters")
print("formula for MaxPool2d(3, stride=2):", conv_output_size(28, 3, 2))

# %%
# **Adaptive pooling** turns the formula around: you give the *output* size
# and PyTorch picks the windows. `nn.AdaptiveAvgPool2d(1)` averages each whole
# feature map into one number (global average pooling), whatever the input
# size, which lets a network accept images of different sizes:

for size in (28, 32, 50):
    maps = torch.randn(1, 64, size, size)
    print(
        f"input {tuple(maps.shape)} -> AdaptiveAvgPool2d(1) "
        f"{tuple(nn.AdaptiveAvgPool2d(1)(maps).shape)}, AdaptiveMaxPool2d(3) "
        f"{tuple(nn.AdaptiveMaxPool2d(3)(maps).shape)}"
    )

# %%
# What does 2×2 pooling keep of a real feature map? The edge strength of the
# digit from section 3, pooled twice:

edge_strength = digit_edges.pow(2).sum(dim=1, keepdim=True).sqrt()  # (1, 1, 28, 28)
pooled = {
    "edge strength, 28×28": edge_strength,
    "max-pooled once, 14×14": F.max_pool2d(edge_strength, 2),
    "max-pooled twice, 7×7": F.max_pool2d(F.max_pool2d(edge_strength, 2), 2),
    "average-pooled twice, 7×7": F.avg_pool2d(F.avg_pool2d(edge_strength, 2), 2),
}
fig, axes = plt.subplots(1, 4, figsize=(11, 3.2))
for ax, (title, image) in zip(axes, pooled.items(), strict=True):
    ax.imshow(image[0, 0], cmap="magma")
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("column (map pixels)")
    ax.set_ylabel("row (map pixels)")
fig.suptitle(
    "2×2 pooling shrinks a feature map: max keeps the strong responses, average "
    "blurs"
)
fig.tight_layout()
plt.show()

# %%
# ## 7. Weight sharing: parameters of a conv layer vs a linear layer
#
# A conv layer has $C_{out} \cdot (C_{in}/\text{groups}) \cdot k_H k_W$
# weights plus $C_{out}$ biases, *whatever the image size*. A linear layer
# connects every input number to every output number. Suppose both turn a
# 1×28×28 digit into 16 feature maps of 28×28:

conv_layer = nn.Conv2d(1, 16, kernel_size=3, padding=1)
linear_layer = nn.Linear(1 * 28 * 28, 16 * 28 * 28)
mlp_first_layer = nn.Linear(28 * 28, 512)  # Day 10's MLP, first layer
print(f"Conv2d(1, 16, 3, padding=1):  {n_params(conv_layer):>12,} parameters")
print(f"Linear(784, 16·28·28):        {n_params(linear_layer):>12,} parameters")
print(f"Day 10's Linear(784, 512):    {n_params(mlp_first_layer):>12,} parameters")
print(
    f"same output size, {n_params(linear_layer) / n_params(conv_layer):,.0f} times "
    "more parameters for the linear layer"
)

# %%
# The linear layer could in principle learn anything the conv layer does
# (and more), but it would have to learn the same edge detector separately at
# each of the 784 positions, from far more data. The conv layer *assumes*
# that a useful pattern is useful everywhere: that assumption is what makes
# CNNs so efficient on images. And because its weights do not depend on the
# image size, the same layer runs on a 28×28 digit and on a 32×32 photo
# alike, which no linear layer can.

del linear_layer  # frees the memory of its weights; we do not need them again

# %%
# ## 8. A small CNN, layer by layer
#
# The classic pattern repeats a **block**: convolution → BatchNorm → ReLU →
# max-pool. Each block keeps the size with a padded 3×3 convolution, then
# halves it with pooling, while the number of channels grows (16, 32, 64):
# fewer, coarser positions, each described by more features. At the end,
# `Flatten` and one `Linear` layer map the features to 10 logits.
#
# **BatchNorm** (`nn.BatchNorm2d`) normalises each channel over the batch and
# then rescales it with learned parameters; it lets the network train fast at
# a high learning rate (Day 13 looks at it more closely). Because it
# subtracts the mean, the conv layer before it does not need a bias.
#
# The `Linear` layer needs the number of features after the last block, so
# we compute it with the formula rather than guessing:


def make_cnn(
    channels: tuple[int, ...] = (16, 32, 64), image_size: int = 28
) -> nn.Sequential:
    layers: list[nn.Module] = []
    c_in, size = 1, image_size
    for c_out in channels:
        layers += [
            nn.Conv2d(c_in, c_out, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(),
            nn.MaxPool2d(2),
        ]
        size = conv_output_size(conv_output_size(size, 3, padding=1), 2, stride=2)
        c_in = c_out
    layers += [nn.Flatten(), nn.Linear(c_in * size * size, 10)]
    return nn.Sequential(*layers)


course.seed_everything(0)
fresh_cnn = make_cnn()
print(fresh_cnn)

# %%
# Now a batch of eight real digits flows through it, one layer at a time. An
# `nn.Sequential` is iterable, so a loop can print the shape after every
# layer (for models that are not a `Sequential`, a forward hook registered
# with `register_forward_hook` does the same job):

batch = train_full.data[:8].float().div(255).unsqueeze(1)  # (8, 1, 28, 28)
out = batch
print(f"{'':>2} {'layer':<12} {'output shape':<18} {'parameters':>10}")
print(f"{'':>2} {'input':<12} {str(tuple(out.shape)):<18} {'':>10}")
with torch.no_grad():
    for index, layer in enumerate(fresh_cnn):
        out = layer(out)
        print(
            f"{index:>2} {type(layer).__name__:<12} {str(tuple(out.shape)):<18} "
            f"{n_params(layer):>10,}"
        )
print(f"total parameters: {n_params(fresh_cnn):,}")

# %%
# The table shows the pattern: height and width 28 → 14 → 7 → 3 (the floor
# of the formula drops the seventh row and column at the last pooling), the
# channels 1 → 16 → 32 → 64, and the `Linear` layer receives
# $64 \cdot 3 \cdot 3 = 576$ features. Most parameters sit in the last conv
# layer and the `Linear` layer; the first conv layer has only a handful.
#
# Getting that last number wrong is the classic CNN bug. Forget the third
# pooling layer in your head, write `64 * 7 * 7`, and the error appears only
# when data flows:

wrong_head = nn.Sequential(*list(fresh_cnn)[:-1], nn.Linear(64 * 7 * 7, 10))
try:
    wrong_head(batch)
except RuntimeError as err:
    print("Expected error:", type(err).__name__, "-", err)

# %%
# "mat1" is the flattened batch (8 images × 576 features), "mat2" the
# transposed weight of the `Linear` layer (3136 inputs × 10 outputs): the
# inner numbers must agree. Compute the size with the formula, as `make_cnn`
# does, or print the shapes as above. (`nn.LazyLinear(10)` infers its input
# size on the first batch, at the cost of a model whose parameters do not
# exist until it has seen data.)
#
# ## 9. The receptive field
#
# The **receptive field** of a unit is the patch of the input image that can
# influence it. A 3×3 convolution's output sees 3×3 input pixels; the next
# 3×3 convolution sees 3×3 of *those*, which together cover 5×5 input pixels.
# Pooling and strides make it grow faster, because every later step moves by
# more input pixels. Layer by layer, with $r$ the receptive field and $j$ the
# **jump** (how many input pixels apart neighbouring units are), starting
# from $r = j = 1$ at the input:
#
# $$r_{out} = r_{in} + d\,(k - 1)\, j_{in}, \qquad j_{out} = j_{in}\, s.$$
#
# The first unit's field also starts $p\,j_{in}$ pixels earlier at each layer
# (in the padding, if it is negative). ReLU and BatchNorm act on one position
# at a time and change nothing.


def _first(value) -> int:
    return value[0] if isinstance(value, tuple) else value


def receptive_fields(model: nn.Sequential, image_size: int = 28) -> list[dict]:
    """Output size, jump, receptive field and field start after each conv or
    pooling layer."""
    size, jump, field, start = image_size, 1, 1, 0
    rows = []
    for index, layer in enumerate(model):
        if not isinstance(layer, nn.Conv2d | nn.MaxPool2d | nn.AvgPool2d):
            continue
        k, s, p = (
            _first(layer.kernel_size),
            _first(layer.stride),
            _first(layer.padding),
        )
        d = _first(getattr(layer, "dilation", 1))
        size = conv_output_size(size, k, s, p, d)
        start -= p * jump
        field += d * (k - 1) * jump
        jump *= s
        rows.append(
            dict(
                index=index,
                layer=type(layer).__name__,
                k=k,
                s=s,
                p=p,
                d=d,
                size=size,
                jump=jump,
                field=field,
                start=start,
            )
        )
    return rows


fields = receptive_fields(fresh_cnn)
print(
    f"{'':>2} {'layer':<10} {'k':>2} {'s':>2} {'p':>2} {'d':>2} | {'size':>4} "
    f"{'jump':>4} "
    f"{'receptive field':>16}"
)
for row in fields:
    print(
        f"{row['index']:>2} {row['layer']:<10} {row['k']:>2} {row['s']:>2} "
        f"{row['p']:>2} "
        f"{row['d']:>2} | {row['size']:>4} {row['jump']:>4} "
        f"{row['field']:>10}×{row['field']}"
    )

# %%
# So each unit after the last pooling layer summarises a
# $r \times r$ patch (the last row of the table), most of the 28×28 digit,
# while a unit after the first block sees only a few pixels. That is the
# hierarchy CNNs are known for: small local patterns first, combined into
# larger and larger ones.
#
# The table is a calculation; autograd can check it. The gradient of one
# output unit with respect to the input image is non-zero only inside its
# receptive field. Max-pooling passes the gradient only to the largest value
# of each window, so we add up the gradients of many random images (in
# `eval()` mode, so that BatchNorm does not mix the images of the batch) and
# measure the extent of the non-zero region.

last = fields[-1]
unit = last["size"] // 2  # a unit in the middle of the last feature map
probe = torch.randn(64, 1, 28, 28, requires_grad=True)
fresh_cnn.eval()
features = fresh_cnn[: last["index"] + 1](probe)
features[:, :, unit, unit].sum().backward()
fresh_cnn.train()
touched = probe.grad.abs().sum(dim=(0, 1)) > 0
rows_hit = torch.nonzero(touched.any(dim=1)).flatten()
cols_hit = torch.nonzero(touched.any(dim=0)).flatten()
first_pixel = last["start"] + unit * last["jump"]
print(f"unit ({unit}, {unit}) after layer {last['index']}:")
print(
    f"  formula : rows and columns {first_pixel}..{first_pixel + last['field'] - 1}"
)
print(
    f"  autograd: rows {rows_hit.min().item()}..{rows_hit.max().item()}, "
    f"columns {cols_hit.min().item()}..{cols_hit.max().item()}"
)

# %%
# Both agree. Drawn on the digit, here is what one unit in the middle of
# each block's output can see:

fig, ax = plt.subplots(figsize=(4.6, 4.6))
ax.imshow(digit, cmap="gray_r")
pools = [row for row in fields if row["layer"] == "MaxPool2d"]
for block, (row, colour) in enumerate(
    zip(pools, ["tab:green", "tab:orange", "tab:red"], strict=True), start=1
):
    middle = row["size"] // 2
    first = row["start"] + middle * row["jump"]
    ax.add_patch(
        Rectangle(
            (first - 0.5, first - 0.5),
            row["field"],
            row["field"],
            fill=False,
            lw=2,
            color=colour,
            label=f"block {block}: {row['field']}×{row['field']} pixels",
        )
    )
ax.set_xlim(-0.5, 27.5)
ax.set_ylim(27.5, -0.5)
ax.set_xlabel("column (pixels)")
ax.set_ylabel("row (pixels)")
ax.set_title("Receptive field of a middle unit after each block")
ax.legend(loc="lower center", fontsize=8, bbox_to_anchor=(0.5, -0.42))
fig.tight_layout()
plt.show()

# %%
# ## 10. Preparing MNIST
#
# The data pipeline is Day 10's: a validation set held out of the training
# images, normalisation statistics computed from the remaining training
# images only, and the whole dataset prepared once as tensors of shape
# $(N, 1, 28, 28)$, which is exactly the $(N, C, H, W)$ layout a conv layer
# expects.

n_val = course.pick(full=5_000, smoke=200)
order = torch.randperm(len(train_full), generator=torch.Generator().manual_seed(0))
train_idx, val_idx = order[n_val:], order[:n_val]
train_pixels = train_full.data[train_idx].float().div(255)
mean, std = train_pixels.mean().item(), train_pixels.std().item()
print(
    f"train {len(train_idx):,}, validation {len(val_idx):,}, test "
    f"{len(test_set):,} images"
)
print(f"training-set pixel mean {mean:.4f}, standard deviation {std:.4f}")


def normalised_tensors(images_uint8: torch.Tensor) -> torch.Tensor:
    """(N, 28, 28) uint8 -> (N, 1, 28, 28) float32, normalised with the training
    statistics."""
    return images_uint8.float().div(255).sub(mean).div(std).unsqueeze(1)


x_train_all = normalised_tensors(train_full.data)
x_test = normalised_tensors(test_set.data)
train_data = TensorDataset(x_train_all[train_idx], train_full.targets[train_idx])
val_data = TensorDataset(x_train_all[val_idx], train_full.targets[val_idx])
test_data = TensorDataset(x_test, test_set.targets)

batch_size = 128
train_loader = DataLoader(
    train_data,
    batch_size=batch_size,
    shuffle=True,
    generator=torch.Generator().manual_seed(0),
)
val_loader = DataLoader(val_data, batch_size=1_000)
test_loader = DataLoader(test_data, batch_size=1_000)

# %%
# ## 11. Memory format: `channels_last`
#
# A batch of feature maps is stored channel by channel by default (NCHW: all
# of channel 0, then all of channel 1...). Convolution kernels on CPUs (and
# on recent GPUs with mixed precision) are often faster when the channels of
# one pixel sit next to each other in memory (NHWC). PyTorch calls that
# **`channels_last`**: the tensor keeps its $(N, C, H, W)$ shape and only
# its strides change, so no other code needs to know. Converting the model is
# enough: its conv layers then produce `channels_last` outputs (and with a
# single input channel, a batch of digits is laid out the same way in both
# formats). Measured on this machine, a few training steps each way:


def seconds_per_step(model: nn.Module, steps: int) -> float:
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    images, labels = next(iter(train_loader))
    images, labels = images.to(device), labels.to(device)
    for step in range(steps + 2):  # two warm-up steps, not timed
        if step == 2:
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
        loss = F.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps


timed_steps = course.pick(full=15, smoke=2)
course.seed_everything(0)
t_nchw = seconds_per_step(make_cnn().to(device), timed_steps)
course.seed_everything(0)
t_nhwc = seconds_per_step(
    make_cnn().to(device, memory_format=torch.channels_last), timed_steps
)
print(
    f"one training step of {batch_size} images: default (NCHW) {1000 * t_nchw:.0f} "
    "ms, "
    f"channels_last {1000 * t_nhwc:.0f} ms ({t_nchw / t_nhwc:.2f}× the speed)"
)

# %%
# The gain depends on the hardware and the PyTorch build; on the machine that
# built this page it is the ratio printed above. We train with
# `channels_last`; if it is not faster on your machine, drop the
# `memory_format` argument below.
#
# ## 12. Training the CNN, and Day 10's MLP the same way
#
# A fair comparison changes one thing only: the model. Both networks get the
# same data and the same training recipe:
#
# - **Adam** at a learning rate of 2e-3, with **cosine annealing** of the
#   learning rate over the epochs (stepped once per epoch by `fit`), as in
#   Day 10;
# - **batch size** 128, half of Day 10's: twice as many updates per epoch,
#   which a budget of few epochs needs;
# - **few epochs** (`epochs` below): the lesson has to finish within its
#   time budget on a CPU; the validation curves show whether more would help.
#
# The MLP is Day 10's architecture, unchanged (Day 10 trained it longer and
# with bigger batches, so its own accuracy there can differ from the one
# here). The CNN trains first, with a progress bar:

epochs = course.pick(full=5, smoke=1)
loss_fn = nn.CrossEntropyLoss()


def make_mlp(
    hidden: tuple[int, ...] = (512, 256), dropout: float = 0.2
) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Flatten()]
    width = 28 * 28
    for size in hidden:
        layers += [nn.Linear(width, size), nn.ReLU(), nn.Dropout(dropout)]
        width = size
    layers.append(nn.Linear(width, 10))
    return nn.Sequential(*layers)


def train(model: nn.Module, progress: bool = True) -> dict:
    train_loader.generator.manual_seed(0)  # both models see the same batch order
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    return fit(
        model,
        train_loader,
        val_loader,
        loss_fn,
        optimizer,
        epochs=epochs,
        device=device,
        scheduler=scheduler,
        progress=progress,
    )


course.seed_everything(0)
cnn = make_cnn().to(device, memory_format=torch.channels_last)
cnn_history = train(cnn)
cnn_seconds = sum(cnn_history["epoch_time_s"])
print(f"CNN: {n_params(cnn):,} parameters, trained in {cnn_seconds:.0f} s")

# %%

course.seed_everything(0)
mlp = make_mlp().to(device)
mlp_history = train(mlp, progress=False)
mlp_seconds = sum(mlp_history["epoch_time_s"])
print(f"MLP: {n_params(mlp):,} parameters, trained in {mlp_seconds:.0f} s")

# %%

fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
plot_curves(
    {
        "CNN train": cnn_history["train_loss"],
        "CNN validation": cnn_history["val_loss"],
        "MLP train": mlp_history["train_loss"],
        "MLP validation": mlp_history["val_loss"],
    },
    title="Loss per epoch",
    ylabel="cross-entropy loss",
    ax=ax_loss,
)
plot_curves(
    {
        "CNN train": [100 * a for a in cnn_history["train_acc"]],
        "CNN validation": [100 * a for a in cnn_history["val_acc"]],
        "MLP train": [100 * a for a in mlp_history["train_acc"]],
        "MLP validation": [100 * a for a in mlp_history["val_acc"]],
    },
    title="Accuracy per epoch",
    ylabel="accuracy (%)",
    ax=ax_acc,
)
fig.suptitle("CNN vs MLP on MNIST: same data and order, epochs, optimiser and LR")
fig.tight_layout()
plt.show()

# %%
# ## 13. The verdict on the test set
#
# Once, at the end, both models meet the test set:

cnn_test = evaluate(cnn, test_loader, loss_fn)
mlp_test = evaluate(mlp, test_loader, loss_fn)
elapsed = time.perf_counter() - lesson_start
print(
    f"{'model':<5} {'parameters':>10} {'train time':>11} {'test loss':>10} "
    f"{'test accuracy':>14}"
)
for name, model, seconds, result in [
    ("CNN", cnn, cnn_seconds, cnn_test),
    ("MLP", mlp, mlp_seconds, mlp_test),
]:
    print(
        f"{name:<5} {n_params(model):>10,} {seconds:>10.1f}s "
        f"{result['loss']:>10.4f} "
        f"{result['accuracy']:>14.2%}"
    )
headline(
    "MNIST test accuracy, CNN vs MLP",
    f"{cnn_test['accuracy']:.2%} vs {mlp_test['accuracy']:.2%}",
)

# %%

cnn_errors = round((1 - cnn_test["accuracy"]) * len(test_data))
mlp_errors = round((1 - mlp_test["accuracy"]) * len(test_data))
better = "beats" if cnn_test["accuracy"] > mlp_test["accuracy"] else "does not beat"
print(
    f"The CNN {better} the MLP: {cnn_test['accuracy']:.2%} vs "
    f"{mlp_test['accuracy']:.2%} test "
    f"accuracy ({cnn_errors} vs {mlp_errors} mistakes on {len(test_data):,} "
    "images), with "
    f"{n_params(mlp) / n_params(cnn):.0f} times fewer parameters than the MLP."
)
if 0 < cnn_errors < mlp_errors:
    print(f"That is {100 * (1 - cnn_errors / mlp_errors):.0f} % fewer mistakes.")
target, budget_s = 0.99, 180
if course.PROFILE == "full":
    verdict = "meets" if cnn_test["accuracy"] >= target else "misses"
    in_time = "within" if elapsed <= budget_s else "outside"
    print(
        f"The CNN {verdict} the {target:.1%} target, {in_time} the {budget_s} s "
        "budget "
        f"({elapsed:.0f} s after the lesson started)."
    )
else:
    print(
        f"Smoke profile: {len(train_data):,} training images and {epochs} "
        "epoch(s), so the "
        f"{target:.1%} target (set for the full profile) is not expected here."
    )

# %%
# Fewer parameters do not mean less computation: a convolution applies its
# few weights at every position of every image.


def multiply_adds(model: nn.Module) -> int:
    """Multiply-adds of one forward pass of a 28×28 digit through the conv and
    linear layers."""
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
        model(x_test[:1].to(device))
        model.train()
    for hook in hooks:
        hook.remove()
    return total


cnn_work, mlp_work = multiply_adds(cnn), multiply_adds(mlp)
print(
    f"multiply-adds per image: CNN {cnn_work:,}, MLP {mlp_work:,} "
    f"({cnn_work / mlp_work:.1f}×)"
)
print(
    f"seconds per epoch: CNN {cnn_seconds / epochs:.1f}, MLP "
    f"{mlp_seconds / epochs:.1f}"
)

# %%
# What the CNN buys with that compute is the right assumptions about images,
# locality and weight sharing, which is why it ends up both smaller and more
# accurate.
#
# ## 14. What the first layer learned
#
# The first conv layer's 16 kernels are 3×3 images we can look at. Red
# weights add the pixel under them, blue ones subtract it:

kernels = cnn[0].weight.detach().cpu()[:, 0]  # (16, 3, 3)
fig, axes = plt.subplots(2, 8, figsize=(11, 3.7))
for k, ax in enumerate(axes.flat):
    limit = kernels[k].abs().max().item()
    ax.imshow(kernels[k], cmap="RdBu_r", vmin=-limit, vmax=limit)
    ax.set_title(f"kernel {k}", fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle(
    "The 16 learned 3×3 kernels of the first conv layer (red > 0, blue < 0)"
)
fig.tight_layout()
plt.show()

# %%
# Do any of them resemble the hand-set Sobel kernels? The cosine similarity
# compares shapes regardless of scale (1 means the same pattern, −1 the
# same pattern with the sign flipped, which detects the same edge with the
# opposite contrast):

flat = F.normalize(kernels.flatten(1), dim=1)
references = [("Sobel x (vertical)", sobel_x), ("Sobel y (horizontal)", sobel_y)]
trained_best = []
for name, reference in references:
    similarity = flat @ F.normalize(reference.flatten(), dim=0)
    best = similarity.abs().argmax().item()
    trained_best.append(similarity[best].abs().item())
    print(
        f"{name}: closest is kernel {best}, cosine similarity "
        f"{similarity[best]:+.2f}"
    )

# %%
# Is that high? With 16 kernels to pick from, even *random* 3×3 kernels come
# close to some pattern by chance. The baseline: the same measure for
# untrained first layers, with the same initialisation, over 50 seeds.


def best_abs_cosine(weights: torch.Tensor, reference: torch.Tensor) -> float:
    unit = F.normalize(weights.flatten(1), dim=1)
    return (unit @ F.normalize(reference.flatten(), dim=0)).abs().max().item()


random_best = {name: [] for name, _ in references}
for seed in range(50):
    course.seed_everything(seed)
    untrained = make_cnn()[0].weight.detach()[:, 0]
    for name, reference in references:
        random_best[name].append(best_abs_cosine(untrained, reference))
course.seed_everything(0)
for (name, _), trained in zip(references, trained_best, strict=True):
    values = torch.tensor(random_best[name])
    share = (values >= trained).float().mean().item()
    print(
        f"{name}: trained |cos| {trained:.2f}; random kernels: median "
        f"{values.median():.2f}, {share:.0%} of 50 random layers reach the trained "
        "value"
    )
above = all(
    t > torch.tensor(random_best[name]).quantile(0.9).item()
    for (name, _), t in zip(references, trained_best, strict=True)
)
print(
    "The trained kernels match the edge patterns better than 90% of random layers."
    if above
    else "Against this baseline the match is weak: random kernels come about as "
    "close, so these numbers alone do not show that training found edge detectors."
)

# %%
# Kernels are easier to read through their outputs, the **feature maps**.
# They show what each kernel responds to, whatever its similarity to a Sobel
# kernel. One test digit, through the first block (after the ReLU):

sample = x_test[:1].to(device)
cnn.eval()
with torch.no_grad():
    block1 = cnn[:3](sample)[0].cpu()  # conv, BatchNorm, ReLU -> (16, 28, 28)
    block2 = cnn[:7](sample)[0].cpu()  # ... second block -> (32, 14, 14)

fig, axes = plt.subplots(2, 9, figsize=(12, 3.7))
axes[0, 0].imshow(test_set.data[0], cmap="gray_r")
axes[0, 0].set_title(f"input ({test_set.targets[0].item()})", fontsize=9)
axes[1, 0].axis("off")
for k, ax in enumerate(axes[:, 1:].flat):
    ax.imshow(block1[k], cmap="viridis")
    ax.set_title(f"map {k}", fontsize=9)
for ax in axes.flat:
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle(
    "Feature maps after block 1 (28×28): bright = strong response of that kernel"
)
fig.tight_layout()
plt.show()

# %%
# Look for maps that respond to the stroke itself, to one of its edges (top,
# bottom, left or right), or to the background around it. One block deeper
# the maps are half the size and respond to combinations of these:

fig, axes = plt.subplots(2, 8, figsize=(11, 3.7))
for k, ax in enumerate(axes.flat):
    ax.imshow(block2[k], cmap="viridis")
    ax.set_title(f"map {k}", fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("The first 16 of 32 feature maps after block 2 (14×14)")
fig.tight_layout()
plt.show()

# %%
# Day 16 comes back to feature maps, and to Grad-CAM, which shows *where* in
# an image a network looks for its decision.
#
# ## 15. Summary
#
# - A convolution slides a small kernel over the image: each output pixel is
#   a weighted sum of a neighbourhood (**locality**), with the same weights
#   everywhere (**weight sharing**). A hand-set Sobel kernel applied with
#   `F.conv2d` finds edges in real images.
# - `nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding,
#   dilation, groups, bias)`: weights of shape
#   $(C_{out}, C_{in}/\text{groups}, k_H, k_W)$; a kernel spans all input
#   channels of its group.
# - Output size: $\lfloor (H + 2p - d(k-1) - 1)/s \rfloor + 1$, for
#   convolutions and pooling alike. Use it to size the first `Linear` layer.
# - `nn.MaxPool2d` / `nn.AvgPool2d` shrink feature maps per channel without
#   parameters; adaptive pooling produces a fixed output size from any input.
# - A conv layer's parameter count does not depend on the image size; a
#   linear layer with the same output needed vastly more (the ratio printed
#   in section 7). Fewer parameters do not mean less computation, though.
# - The receptive field grows layer by layer,
#   $r_{out} = r_{in} + d(k-1)j_{in}$, fastest after pooling and strides;
#   autograd confirmed the formula.
# - Trained the same way, the small CNN beat Day 10's MLP with far fewer
#   parameters (the table in section 13).
#
# ## 16. Exercises
#
# 1. **Downsampling without pooling.** Many modern CNNs halve the size with
#    a stride-2 convolution instead of a pooling layer. Using the output-size
#    formula, find the padding that turns a 28×28 input into 14×14 for a
#    stride-2 convolution with kernel size 3, and with kernel size 5. Check
#    both with real layers.
# 2. **Two 3×3 layers or one 5×5?** With 32 input and 32 output channels (no
#    bias), compare two stacked 3×3 convolutions with one 5×5 convolution:
#    receptive field (use `receptive_fields`) and parameter count. Why do
#    modern networks prefer the stack?
# 3. **Shifted digits.** Shift every test image 1, 2, 3 and 4 pixels to the
#    right (filling with background) and measure the test accuracy of the
#    trained CNN and MLP at each shift. Which one copes better, and why?

# %%
# **Solution 1.** With $H = 28$, $s = 2$ and $d = 1$ the formula reads
# $\lfloor (28 + 2p - k)/2 \rfloor + 1 = 14$, so $28 + 2p - k$ must be 26
# or 27, i.e. $2p - k \in \{-2, -1\}$: $p = 1$ for $k = 3$ and $p = 2$ for
# $k = 5$, the usual $p = \lfloor k/2 \rfloor$. A search over paddings with the
# function finds
# the same:

for k in (3, 5):
    paddings = [
        p for p in range(4) if conv_output_size(28, k, stride=2, padding=p) == 14
    ]
    layer = nn.Conv2d(16, 32, kernel_size=k, stride=2, padding=paddings[0])
    shape = tuple(layer(torch.zeros(1, 16, 28, 28)).shape)
    print(
        f"kernel {k}: padding {paddings} gives 14; layer with padding "
        f"{paddings[0]}: {shape}"
    )

# %%
# **Solution 2.** Both see a 5×5 patch, but the stack has fewer weights
# ($2 \cdot 9 = 18$ vs $25$ per channel pair) and a ReLU in between, so it can
# compute more complex functions for less. That is why VGG and its successors
# build large receptive fields from 3×3 kernels.

stack = nn.Sequential(
    nn.Conv2d(32, 32, 3, padding=1, bias=False),
    nn.ReLU(),
    nn.Conv2d(32, 32, 3, padding=1, bias=False),
)
single = nn.Sequential(nn.Conv2d(32, 32, 5, padding=2, bias=False))
for name, net in [("two 3×3", stack), ("one 5×5", single)]:
    field = receptive_fields(net)[-1]["field"]
    print(f"{name}: receptive field {field}×{field}, {n_params(net):,} parameters")

# %%
# **Solution 3.** A convolution computes the same thing at every position,
# so a shifted digit gives shifted feature maps, and pooling absorbs part of
# the shift. The MLP has separate weights for each pixel position: a shifted
# digit looks like a different input. Shifting by padding on the left with
# the (normalised) background value and cutting off on the right:


def shift_right(images: torch.Tensor, pixels: int) -> torch.Tensor:
    if pixels == 0:
        return images
    background = images.min().item()  # the normalised value of a black pixel
    return F.pad(images[..., :-pixels], (pixels, 0), value=background)


shift_accuracy = {"CNN": [], "MLP": []}
shifts = list(range(5))
for pixels in shifts:
    loader = DataLoader(
        TensorDataset(shift_right(x_test, pixels), test_set.targets),
        batch_size=1_000,
    )
    for name, model in [("CNN", cnn), ("MLP", mlp)]:
        shift_accuracy[name].append(100 * evaluate(model, loader)["accuracy"])
    print(
        f"shift {pixels} px: CNN {shift_accuracy['CNN'][-1]:.2f} %, "
        f"MLP {shift_accuracy['MLP'][-1]:.2f} %"
    )

fig, ax = plt.subplots(figsize=(6, 4))
for name, values in shift_accuracy.items():
    ax.plot(shifts, values, marker="o", label=name)
ax.set_xticks(shifts)
ax.set_xlabel("shift to the right (pixels)")
ax.set_ylabel("test accuracy (%)")
ax.set_title("Accuracy on shifted test digits")
ax.legend()
ax.grid(True, alpha=0.3)
plt.show()

gaps = [
    c - m for c, m in zip(shift_accuracy["CNN"], shift_accuracy["MLP"], strict=True)
]
print(
    f"CNN minus MLP: {gaps[0]:+.2f} points unshifted, {gaps[-1]:+.2f} points at "
    f"{shifts[-1]} pixels"
)

# %%
# Neither network was trained on shifted digits, and the CNN is not fully
# shift-invariant either: its accuracy falls too, because the `Linear` head
# still sees positions (global average pooling before the head, section 6,
# would remove most of that). Data augmentation with random shifts (Day 12)
# teaches both models to cope.
#
# Next, [Day 12](day12_regularisation.ipynb) turns to Dropout, weight decay
# and data augmentation, and how to compare such regularisation techniques in
# a fair, controlled experiment.
