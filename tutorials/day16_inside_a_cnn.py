"""
# Day 16 · Seeing inside a CNN (視覺化進階)

A trained CNN gives you a class and a probability; it does not tell you why.
This lesson opens two trained networks up. You record what each stage of
Day 14's CIFAR-10 network computes for one photo, look at the filters its
first layer learned (and at the far more legible ones of a network trained
on ImageNet), and then write **Grad-CAM** from scratch, in about twenty
lines with a forward hook and a gradient hook: a heat map of the regions
that pushed the network towards its answer. You check your version against
a maintained library, use it on right and wrong predictions of both
networks, and ask a second, model-agnostic opinion (occlusion) whether the
heat maps can be trusted, with numbers rather than impressions.

**You will learn:** recording activations with forward hooks · feature maps
layer by layer · reading first-layer filters, against a random baseline ·
Grad-CAM: gradients as channel weights, ReLU, upsampling · gradient hooks on
tensors · checking your code against Captum · heat maps of right and wrong
predictions · occlusion sensitivity and rank correlation · what a heat map
does and does not prove

**Before you start:** [Day 15](day15_lr_schedules.ipynb) ·
[Day 14](day14_cifar10.ipynb) (the CIFAR-10 network used here) ·
[Day 11](day11_conv_pooling.ipynb) (feature maps) · **Reading time:** about
2 hours
"""

# %%
# ## 1. Set-up
#
# Nothing is trained in this lesson: Day 14's network comes from the model
# cache that Day 14 filled, and the ImageNet network comes with its weights.
# Everything here is measurement, so the lesson also times itself. Beyond
# PyTorch it needs **Captum**, PyTorch's interpretability library, to check
# our Grad-CAM against (section 6) and for occlusion (section 11); the line
# below tells the notebook's first cell to install it where it is missing.

# sphinx_gallery_requires = ["captum>=0.7"]

import time

lesson_start = time.perf_counter()

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torchvision.transforms import v2

import course
from course.cifar import CifarNet, trained_cifar_net
from course.data.cats_vs_dogs import load_cats_vs_dogs
from course.data.cifar10 import CIFAR10_CLASSES
from course.report import headline

course.seed_everything(0)
device = course.choose_device()
print(f"profile: {course.PROFILE}, device: {device}, torch {torch.__version__}")

# %%
# ## 2. Day 14's network and the test images
#
# `trained_cifar_net` returns the network Day 14 trained, loaded from the
# model cache (or, if the cache is empty, trains it now with Day 14's
# recipe: a few minutes, once). We pass it Day 14's split so that the data
# is loaded only once.

split = course.cifar.default_split()
model, info = trained_cifar_net(split, device=device)
model = model.to(device).eval()
history = info["metrics"]["history"]
print(f"from the model cache: {info['cache_hit']}")
print(f"Day 14's final validation accuracy: {history['val_acc'][-1]:.1%}")

# %%
# We look at a random sample of the test images. Grad-CAM needs plain
# float32 forward and backward passes, so the predictions here are made
# the same way: one view per image, no bfloat16 and no test-time
# augmentation (Day 14's reported accuracy used both, so the number below
# can differ a little from Day 14's).

CLASSES = tuple(CIFAR10_CLASSES)
n_test = course.pick(full=1_000, smoke=240)
chosen = torch.randperm(
    len(split.test[0]), generator=torch.Generator().manual_seed(0)
)
images = split.test[0][chosen[:n_test]]
labels = split.test[1][chosen[:n_test]]


def to_float(uint8_images: torch.Tensor) -> torch.Tensor:
    """uint8 images N×3×32×32 -> floats in [0, 1] on the device (CifarNet input)."""
    return uint8_images.to(device).float() / 255


with torch.no_grad():
    probabilities = model(to_float(images)).softmax(dim=1).cpu()
predictions = probabilities.argmax(dim=1)
right = predictions == labels
print(f"{n_test:,} test images, accuracy {right.float().mean():.1%}")

# %%
# ## 3. Feature maps, layer by layer
#
# Day 11 read a CNN's **feature maps** by slicing an `nn.Sequential`. That
# does not work for a network whose `forward` does more than call its
# layers in order (CifarNet normalises its input first). The general tool
# is a **forward hook**, which Day 13 used to count work: a function that
# PyTorch calls right after a module's `forward`, with the module, its
# inputs and its output. We hook the stem and the three stages, run one
# image, and keep each output.
#
# The image: of the sampled test horses, the one the network is surest of.

horse = CLASSES.index("horse")
index = torch.where(labels == horse, probabilities[:, horse], -1.0).argmax().item()
image = to_float(images[index : index + 1])  # 1×3×32×32

layers = {
    "stem": model.stem,
    "stage 1": model.stages[0],
    "stage 2": model.stages[1],
    "stage 3": model.stages[2],
}
feature_maps = {}


def keep_output(name: str):
    """A forward hook that stores the module's output under ``name``."""

    def hook(module, inputs, output):
        feature_maps[name] = output.detach().cpu()

    return hook


handles = [
    layer.register_forward_hook(keep_output(n)) for n, layer in layers.items()
]
with torch.no_grad():
    logits = model(image)
for handle in handles:
    handle.remove()  # hooks stay until removed: always remove them

print(f"{'input':>8s}  {tuple(image.shape)}")
for name, maps in feature_maps.items():
    h = maps.shape[-1]
    print(
        f"{name:>8s}  {tuple(maps.shape)}: {maps.shape[1]} maps of {h}×{h}, "
        f"one position per {32 / h:.1f} input pixels"
    )
print(f"prediction: {CLASSES[logits.argmax().item()]}")

# %%
# Each stage halves the resolution (its max pool) and has more channels:
# the network trades *where* for *what*. Below, for each layer, the eight
# maps with the largest mean response (bright = strong; each map has its
# own colour scale).

fig, axes = plt.subplots(4, 9, figsize=(11, 5.6), layout="constrained")
for row, (name, maps) in enumerate(feature_maps.items()):
    strongest = maps[0].mean(dim=(1, 2)).argsort(descending=True)[:8]
    axes[row, 0].imshow(images[index].permute(1, 2, 0).numpy())
    side = maps.shape[-1]
    axes[row, 0].set_title(f"{name}\n{side}×{side}", fontsize=9, loc="left")
    for col, channel in enumerate(strongest.tolist(), start=1):
        axes[row, col].imshow(maps[0, channel].numpy(), cmap="viridis")
        axes[row, col].set_title(f"channel {channel}", fontsize=8)
for ax in axes.flat:
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("The 8 strongest feature maps of each layer, for one test horse")
plt.show()

# %%
# The stem's maps still look like the photo: outlines, light and dark
# areas. Stage 1's are already patchy; by stage 2 a map is a coarse
# pattern of where some combination of earlier features occurs, and stage
# 3's maps are 3×3 grids that no longer resemble anything: their meaning
# is only in which class weights read them. That is why pictures of deep
# feature maps alone explain little, and why Grad-CAM (section 5) asks the
# *class* which maps matter.
#
# ## 4. What the first layer learned
#
# The first convolution's filters act directly on pixels, so they can be
# drawn as small colour images: rescale each filter's weights to [0, 1]
# (each filter on its own, since only its pattern matters) and show its
# three input channels as red, green and blue.


def filter_mosaic(weights: torch.Tensor, columns: int) -> np.ndarray:
    """Conv weights F×3×k×k -> one RGB image of all filters, each in [0, 1]."""
    w = weights.detach().cpu().float()
    low = w.amin(dim=(1, 2, 3), keepdim=True)
    high = w.amax(dim=(1, 2, 3), keepdim=True)
    w = (w - low) / (high - low).clamp_min(1e-12)
    n, _, k, _ = w.shape
    rows = -(-n // columns)  # ceiling division
    mosaic = np.ones((rows * (k + 1) - 1, columns * (k + 1) - 1, 3))
    for i in range(n):
        r, c = divmod(i, columns)
        mosaic[r * (k + 1) : r * (k + 1) + k, c * (k + 1) : c * (k + 1) + k] = (
            w[i].permute(1, 2, 0).numpy()
        )
    return mosaic


stem_conv = model.stem[0]
print(f"CifarNet's first layer: {stem_conv}")
print(
    f"kernel size {stem_conv.kernel_size}: each filter sees a 2×2 patch of pixels"
)

# %%
# A claim about learned filters needs a baseline: what do filters of the
# same shape look like *before* training? A fresh `CifarNet` provides them,
# initialised as Day 14's was.

torch.manual_seed(0)
untrained = CifarNet(model.mean.flatten(), model.std.flatten())

fig, (ax_trained, ax_random) = plt.subplots(
    1, 2, figsize=(10, 3.4), layout="constrained"
)
ax_trained.imshow(filter_mosaic(stem_conv.weight, 8), interpolation="nearest")
ax_trained.set_title("Day 14's stem, trained: 24 filters of 2×2×3")
ax_random.imshow(
    filter_mosaic(untrained.stem[0].weight, 8), interpolation="nearest"
)
ax_random.set_title("The same layer before training (random)")
for ax in (ax_trained, ax_random):
    ax.axis("off")
plt.show()

# %%
# Four pixels per filter are too few to read by eye. A number helps: many
# filters in trained networks treat the three colours alike (they respond
# to brightness, not hue), which shows up as a high correlation between a
# filter's red, green and blue weights. Random filters have no reason to,
# so they give the baseline.


def colour_agreement(weights: torch.Tensor) -> torch.Tensor:
    """For each filter, the mean correlation between its R, G and B kernels."""
    w = weights.detach().cpu().float().flatten(2)  # F×3×(k·k)
    w = w - w.mean(dim=2, keepdim=True)
    w = w / w.norm(dim=2, keepdim=True).clamp_min(1e-12)
    correlation = w @ w.transpose(1, 2)  # F×3×3: each filter's colour correlations
    return correlation[:, [0, 0, 1], [1, 2, 2]].mean(dim=1)


trained_agreement = colour_agreement(stem_conv.weight)
random_agreement = colour_agreement(untrained.stem[0].weight)
for name, agreement in [
    ("trained", trained_agreement),
    ("random", random_agreement),
]:
    print(
        f"{name:>7s}: mean colour agreement {agreement.mean():+.2f}, "
        f"filters above 0.8: {(agreement > 0.8).sum()} of {len(agreement)}"
    )

# %%
# Compare the two lines: the difference between them is what training did
# to the colour structure of the stem, measured against filters that
# learned nothing. With 2×2 kernels that is about all the stem can learn:
# colour and brightness contrasts between neighbouring pixels. Section 8
# shows the first layer of a network trained on ImageNet, whose larger
# filters are far easier to read.
#
# ## 5. Grad-CAM from scratch
#
# A feature map says where a *channel* responds; it does not say whether the
# class cares. **Grad-CAM** (Selvaraju et al., 2017) weighs the channels of
# one layer by how much the class score $y^c$ (the logit of class $c$)
# depends on them. For the layer's activations $A^k$ (channel $k$, of size
# $h \times w$):
#
# $$\alpha_k^c = \frac{1}{hw}\sum_{i,j} \frac{\partial y^c}{\partial A^k_{ij}},
# \qquad
# L^c = \mathrm{ReLU}\Big(\sum_k \alpha_k^c A^k\Big)$$
#
# - $\alpha_k^c$, the **channel weight**, is the gradient of the class score
#   averaged over the map: "does more of channel $k$ raise the score?";
# - the weighted sum of the maps is an $h \times w$ map of evidence; the
#   **ReLU** keeps the places that speak *for* the class;
# - the map is **upsampled** to the image's size (bilinear) and divided by
#   its maximum, so that it can be laid over the image.
#
# The last convolutional stage is the usual choice: it has the most
# class-specific features and still a spatial layout.
#
# Two hooks collect what the formula needs. A forward hook on the layer
# stores its output, and registers a **tensor hook** on that output:
# `tensor.register_hook(fn)` makes autograd call `fn` with the gradient of
# that tensor during `backward()`. (`module.register_full_backward_hook` is
# the module-level alternative; it refuses outputs that a later layer
# changes in place, such as `nn.ReLU(inplace=True)`, while a tensor hook
# sees exactly the tensor we saved.) Summing the chosen logits of a batch
# before `backward()` gives each image its own gradient, since in
# evaluation mode the images do not interact. The input is marked
# `requires_grad_` so that autograd records the graph even when every
# weight is frozen (Day 17 freezes them).


def grad_cam(
    model: nn.Module,
    target_layer: nn.Module,
    images: torch.Tensor,
    class_idx: int | torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Grad-CAM maps of ``class_idx`` (default: each image's predicted class).

    Returns (heat, raw): ``raw`` at the layer's resolution, N×h×w; ``heat``
    upsampled to the images' H×W and scaled to [0, 1].
    """
    saved = {}

    def keep_activations(module, inputs, output):
        saved["activations"] = output.detach()
        output.register_hook(lambda grad: saved.update(gradients=grad.detach()))

    hook = target_layer.register_forward_hook(keep_activations)
    try:
        with torch.enable_grad():
            logits = model(images.detach().requires_grad_(True))
            if class_idx is None:
                class_idx = logits.argmax(dim=1)
            targets = torch.as_tensor(class_idx, device=logits.device)
            targets = targets.expand(len(logits)).view(-1, 1)  # one class per image
            logits.gather(1, targets).sum().backward()
    finally:
        hook.remove()
        model.zero_grad(set_to_none=True)
    weights = saved["gradients"].mean(dim=(2, 3), keepdim=True)  # N×C×1×1
    raw = F.relu((weights * saved["activations"]).sum(dim=1))  # N×h×w
    size = images.shape[-2:]
    heat = F.interpolate(raw[:, None], size=size, mode="bilinear")[:, 0]  # N×H×W
    heat = heat / heat.amax(dim=(1, 2), keepdim=True).clamp_min(1e-12)
    return heat, raw


heat, raw = grad_cam(model, model.stages[2], image)
print(f"raw map {tuple(raw.shape)}, heat map {tuple(heat.shape)}")
print("raw map (stage 3, 3×3):")
print(raw[0].cpu().numpy().round(3))

# %%
# The `try` / `finally` removes the hook and the gradients that
# `backward()` left in the model's parameters even if something fails: a
# forgotten hook keeps firing on every later forward pass.
#
# **Optional deep dive: Grad-CAM is CAM here.** CifarNet ends with a global
# *max* pool and a linear layer. The gradient of a channel's maximum is 1
# at the position of the maximum and 0 elsewhere, so its average over the
# $h \times w$ map is $1/(hw)$, and $\alpha_k^c$ is just the linear layer's
# weight $W_{ck}$ divided by $hw$: Grad-CAM at the last stage reduces to the
# older **Class Activation Map** (Zhou et al., 2016), which needs no
# gradients at all. A check:

with torch.no_grad():
    stage3 = model.stages(model.stem((image - model.mean) / model.std))
predicted = logits.argmax().item()
h, w = stage3.shape[-2:]
class_weights = model.head.weight[predicted] / (h * w)
cam = F.relu(torch.einsum("k,nkhw->nhw", class_weights, stage3))
print(f"largest difference, Grad-CAM vs CAM: {(cam - raw).abs().max():.2e}")

# %%
# ## 6. Checking it against a maintained library
#
# Code that draws pictures is easy to get subtly wrong: a missing ReLU, the
# wrong class, gradients of the wrong image. **Captum**, PyTorch's
# interpretability library, has `LayerGradCam`; on the same images, layer
# and classes the two must agree. Two conventions to match first:
# Captum applies the ReLU only with `relu_attributions=True` (its default
# keeps negative values), and `LayerAttribution.interpolate` upsamples with
# `"nearest"` unless told `"bilinear"`. We compare the raw maps, then the
# heat maps after the same upsampling and scaling.
#
# (Captum imports `tqdm.auto` for optional progress bars, and in a Jupyter
# kernel without the `ipywidgets` package tqdm warns at import time that
# it cannot draw one. We never ask for a progress bar, so that warning is
# silenced, for this import only.)

import warnings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="IProgress not found")
    from captum.attr import LayerAttribution, LayerGradCam, Occlusion

n_check = course.pick(full=64, smoke=16)
batch = to_float(images[:n_check])
targets = predictions[:n_check].to(device)
for name in ("stage 2", "stage 3"):
    layer = layers[name]
    heat, raw = grad_cam(model, layer, batch, targets)
    theirs = LayerGradCam(model, layer).attribute(
        batch, target=targets, relu_attributions=True
    )
    theirs_up = LayerAttribution.interpolate(theirs, (32, 32), "bilinear")[:, 0]
    peak = theirs_up.amax(dim=(1, 2), keepdim=True).clamp_min(1e-12)
    theirs_heat = theirs_up / peak
    print(
        f"{name}: raw maps {tuple(raw.shape)}, max |ours - Captum| "
        f"{(raw - theirs[:, 0]).abs().max():.2e} (largest value {raw.max():.2f}); "
        f"heat maps {(heat - theirs_heat).abs().max():.2e}"
    )

# %%
# The differences printed above are at the level of float32 rounding (or
# exactly zero): the from-scratch version computes what the library
# computes. The course's tests check the same on small random networks,
# and against a second library, `grad-cam` (`pytorch_grad_cam.GradCAM`),
# which resizes with OpenCV and min-max scales each map.
#
# `grad_cam` is saved in `course.gradcam` for later days
# (`from course.gradcam import grad_cam`), unchanged; a test keeps the two
# copies identical.
#
# ## 7. Grad-CAM on CIFAR-10: right and wrong predictions
#
# Four test images the network got right and four it got wrong, drawn at
# random, each shown plain and with its Grad-CAM heat map for the
# *predicted* class (red: strong evidence). At 32×32 pixels the stage-3 map
# is 3×3, so the heat map is coarse: it says which part of the image, not
# which pixels.

generator = torch.Generator().manual_seed(1)
right_ids = torch.nonzero(right).flatten()
wrong_ids = torch.nonzero(~right).flatten()
shown_right = right_ids[torch.randperm(len(right_ids), generator=generator)[:4]]
shown_wrong = wrong_ids[torch.randperm(len(wrong_ids), generator=generator)[:4]]


def overlay(ax, picture: torch.Tensor, heat_map: torch.Tensor, title: str) -> None:
    """Show a 3×H×W picture in [0, 1] with a heat map in [0, 1] on top of it."""
    ax.imshow(picture.permute(1, 2, 0).cpu().numpy())
    ax.imshow(heat_map.cpu().numpy(), cmap="jet", alpha=0.45, vmin=0, vmax=1)
    ax.set_title(title, fontsize=9)
    ax.axis("off")


def cifar_title(i: int) -> str:
    p = predictions[i].item()
    confidence = probabilities[i, p]
    return f"true: {CLASSES[labels[i]]}\npredicted: {CLASSES[p]} {confidence:.0%}"


fig, axes = plt.subplots(4, 4, figsize=(9, 10.5), layout="constrained")
for half, ids in enumerate([shown_right, shown_wrong]):
    x = to_float(images[ids])
    heat, _ = grad_cam(model, model.stages[2], x)
    for col, i in enumerate(ids.tolist()):
        plain = axes[2 * half, col]
        plain.imshow(images[i].permute(1, 2, 0).numpy())
        plain.set_title(cifar_title(i), fontsize=9, color=["black", "red"][half])
        plain.axis("off")
        overlay(axes[2 * half + 1, col], x[col], heat[col], "Grad-CAM, stage 3")
mappable = plt.cm.ScalarMappable(cmap="jet", norm=plt.Normalize(0, 1))
fig.colorbar(
    mappable, ax=axes, shrink=0.5, label="Grad-CAM (1 = the map's maximum)"
)
fig.suptitle("Day 14's network: right predictions (top), wrong ones (bottom, red)")
plt.show()

# %%
# Read each wrong prediction against its map: did the network look at the
# object and mistake it for something else, or at the background? With
# 3×3 maps you can rarely tell more than "left, centre or right".
#
# Earlier stages have finer maps but less class-specific features. The
# same two images (the first right and the first wrong one above), with
# Grad-CAM of the predicted class at each stage:

pair = torch.stack([shown_right[0], shown_wrong[0]])
x = to_float(images[pair])
fig, axes = plt.subplots(2, 4, figsize=(9, 5), layout="constrained")
for row, i in enumerate(pair.tolist()):
    axes[row, 0].imshow(images[i].permute(1, 2, 0).numpy())
    axes[row, 0].set_title(cifar_title(i), fontsize=9)
    axes[row, 0].axis("off")
for col, name in enumerate(["stage 1", "stage 2", "stage 3"], start=1):
    heat, raw = grad_cam(model, layers[name], x)
    for row in range(2):
        side = raw.shape[-1]
        overlay(axes[row, col], x[row], heat[row], f"{name} ({side}×{side})")
fig.suptitle("Grad-CAM of the predicted class at three depths")
plt.show()

# %%
# Compare the columns: stage 1's maps are fine-grained and spotty, along
# edges and textures; deeper maps are coarser, need not agree with each
# other, and can even be empty (no channel at that depth speaks for the
# class once the ReLU has removed the negative evidence). There is no
# right layer: the last stage is the standard because its channels are
# the ones the classifier reads.
#
# ## 8. A network trained on ImageNet
#
# A 32×32 image gives a 3×3 heat map. To see Grad-CAM at a useful
# resolution we need larger images and a network trained on them:
# `course.pretrained.imagenet_backbone()` returns a network trained on
# ImageNet's 1.28 million photos in 1,000 classes (Day 17 builds on it for
# transfer learning). It prefers torchvision's ResNet18 and falls back to
# EfficientNet-Lite0 when ResNet18's weights cannot be had; the line below
# says which one runs here and why.

from course.pretrained import cat_or_dog, imagenet_backbone

backbone = imagenet_backbone()
print(backbone.why)
imagenet = backbone.model.to(device).eval()
n_params = sum(p.numel() for p in imagenet.parameters())
print(f"{backbone.name}: {n_params / 1e6:.1f} M parameters, 1,000 ImageNet classes")

# %%
# Its first convolution, drawn like CifarNet's stem, next to a layer of the
# same shape with PyTorch's default random initialisation:

first_conv = next(m for m in imagenet.modules() if isinstance(m, nn.Conv2d))
k = first_conv.kernel_size[0]
n_filters = first_conv.out_channels
print(
    f"first layer: {n_filters} filters of {k}×{k}×3, stride {first_conv.stride[0]} "
    f"(CifarNet's stem: {stem_conv.kernel_size[0]}×{stem_conv.kernel_size[0]}×3)"
)
torch.manual_seed(0)
random_conv = nn.Conv2d(3, n_filters, k)

columns = 8
rows = -(-n_filters // columns)
fig, (ax_trained, ax_random) = plt.subplots(
    1, 2, figsize=(10, 0.8 + 4.6 * rows / columns), layout="constrained"
)
ax_trained.imshow(
    filter_mosaic(first_conv.weight, columns), interpolation="nearest"
)
ax_trained.set_title(f"{backbone.name}, trained on ImageNet")
ax_random.imshow(
    filter_mosaic(random_conv.weight, columns), interpolation="nearest"
)
ax_random.set_title("The same shape, random (PyTorch's default init)")
for ax in (ax_trained, ax_random):
    ax.axis("off")
fig.suptitle(f"First-layer filters, {k}×{k} pixels each, scaled per filter")
plt.show()

for name, weights in [
    ("ImageNet", first_conv.weight),
    ("random", random_conv.weight),
]:
    agreement = colour_agreement(weights)
    print(
        f"{name:>8s}: mean colour agreement {agreement.mean():+.2f}, "
        f"filters above 0.8: {(agreement > 0.8).sum()} of {len(agreement)}"
    )

# %%
# Compare the counts printed above with the random baseline: training on
# ImageNet makes many first-layer filters grey-scale (their three colours
# agree), light-dark contrasts that detect edges and bars whatever the
# colour, while others respond to one colour or to a contrast of two.
# Random filters show neither. The larger the kernel, the easier
# the pattern is to see: ResNet18's 7×7 filters show edges at clear
# orientations, EfficientNet-Lite0's 3×3 ones only roughly.
#
# ## 9. Grad-CAM on cats and dogs at 224 px
#
# The cats-vs-dogs photos (the test split; nothing is trained on them
# here) at 224×224 pixels, the resolution the network was trained at. We
# resize and crop them ourselves so that we keep the plain image for
# drawing, and apply the network's own normalisation (`backbone.normalize`)
# only to the model's input.
#
# The network knows 1,000 ImageNet classes, not "cat" and "dog": ImageNet
# has 118 dog breeds (classes 151-268) and five domestic cats (281-285). A
# prediction counts as right when its top class is in the photo's group.

size = course.pick(full=224, smoke=96)
to_image = v2.Compose(
    [
        v2.Resize(size),
        v2.CenterCrop(size),
        v2.ToImage(),
        v2.ToDtype(torch.float32, scale=True),
    ]
)
n_photos = course.pick(full=160, smoke=4)
photos = load_cats_vs_dogs("test", transform=to_image, limit=n_photos)
pictures = torch.stack([picture for picture, _ in photos])  # N×3×size×size, [0, 1]
animals = [photos.classes[label] for label in photos.targets]
model_input = backbone.normalize(pictures).to(device)

with torch.no_grad():
    photo_probabilities = imagenet(model_input).softmax(dim=1).cpu()
top_class = photo_probabilities.argmax(dim=1)
group = [cat_or_dog(c) for c in top_class.tolist()]
photo_right = torch.tensor([g == a for g, a in zip(group, animals, strict=True)])
for animal in ("cat", "dog"):
    of_animal = [a == animal for a in animals]
    print(
        f"{animal} photos: {photo_right[of_animal].sum()} of {sum(of_animal)} "
        f"get a top class in the {animal} group"
    )

# %%
# Grad-CAM of the top ImageNet class at the network's last stage
# (`backbone.target_layer`, a 7×7 grid at 224 px), for four right
# predictions and up to four wrong ones, drawn at random:

generator = torch.Generator().manual_seed(0)
right_photos = torch.nonzero(photo_right).flatten()
wrong_photos = torch.nonzero(~photo_right).flatten()
right_photos = right_photos[torch.randperm(len(right_photos), generator=generator)]
wrong_photos = wrong_photos[torch.randperm(len(wrong_photos), generator=generator)]
shown_photos = torch.cat([right_photos[:4], wrong_photos[:4]])
shown_heat, shown_raw = grad_cam(
    imagenet, backbone.target_layer, model_input[shown_photos]
)
print(f"raw maps {tuple(shown_raw.shape[1:])}, heat {tuple(shown_heat.shape[1:])}")


def photo_title(i: int) -> str:
    c = top_class[i].item()
    return (
        f"true: {animals[i]}\npredicted: {backbone.categories[c][:20]}\n"
        f"({group[i] or 'not a cat or dog'}) {photo_probabilities[i, c]:.0%}"
    )


fig, axes = plt.subplots(2, 4, figsize=(11, 6.8), layout="constrained")
for ax in axes.flat:
    ax.axis("off")
n_right = min(4, len(right_photos))
for j, i in enumerate(shown_photos.tolist()):
    wrong = j >= n_right
    ax = axes[1, j - n_right] if wrong else axes[0, j]
    overlay(ax, pictures[i], shown_heat[j].cpu(), photo_title(i))
    ax.title.set_color("red" if wrong else "black")
if len(wrong_photos) == 0:
    axes[1, 0].set_title("(no wrong predictions among these photos)", fontsize=9)
fig.colorbar(
    mappable, ax=axes, shrink=0.6, label="Grad-CAM (1 = the map's maximum)"
)
fig.suptitle(f"{backbone.name} on cats vs dogs: right (top), wrong (bottom, red)")
plt.show()

# %%
# On the mistakes, check what the heat covers: the animal, mistaken for
# another class, or something else in the photo that the predicted class
# describes better (a mat, a fence, a person)? And look at the photo
# itself: datasets contain wrong labels too, and a heat map on a
# "mistake" is one way to find them.
#
# ## 10. Does it look at the animal? A number, with a baseline
#
# "The network looks at the animal" is an impression from a few pictures.
# The photos have no boxes around the animals, but in most of them the
# animal is near the middle. So: what share of each heat map's total lies
# in the central box (the middle half of the width and of the height, a
# quarter of the area)? Two baselines: a uniform map, which ignores the
# image, puts exactly a quarter there; and the Grad-CAM of the class the
# network finds *least* likely, on the same photos and the same layer,
# shows whether any map of this network drifts to the centre (through
# padding at the borders, say) whatever the class.


def centre_share(heat_maps: torch.Tensor) -> torch.Tensor:
    """Share of each N×H×W map's sum inside the central half of H and of W."""
    h, w = heat_maps.shape[-2:]
    box = heat_maps[:, h // 4 : h - h // 4, w // 4 : w - w // 4]
    return box.sum(dim=(1, 2)) / heat_maps.sum(dim=(1, 2)).clamp_min(1e-12)


n_maps = course.pick(full=48, smoke=2)
sample = torch.randperm(len(photos), generator=generator)[:n_maps]  # cats and dogs
photo_heat, _ = grad_cam(imagenet, backbone.target_layer, model_input[sample])
least_likely = photo_probabilities[sample].argmin(dim=1).to(device)
unlikely_heat, _ = grad_cam(
    imagenet, backbone.target_layer, model_input[sample], least_likely
)
photo_heat, unlikely_heat = photo_heat.cpu(), unlikely_heat.cpu()

share = centre_share(photo_heat)
not_empty = unlikely_heat.amax(dim=(1, 2)) > 0  # an all-zero map has no share
unlikely_share = centre_share(unlikely_heat[not_empty])
uniform = centre_share(torch.ones(1, size, size)).item()
print(f"share of the heat in the central box, mean over {n_maps} photos:")
print(f"  uniform map:                {uniform:.0%}")
unlikely = f"{unlikely_share.mean():.0%}" if not_empty.any() else "-"
print(
    f"  least likely class:         {unlikely} "
    f"({not_empty.sum()} of {n_maps} maps not all zero)"
)
print(f"  predicted class (Grad-CAM): {share.mean():.0%}")
print(f"photos whose share beats uniform: {(share > uniform).sum()} of {n_maps}")
headline(
    "Grad-CAM heat inside the central box (cats vs dogs)",
    f"{share.mean():.0%} on average vs {uniform:.0%} for a uniform map",
)

# %%
# Compare the three lines printed above. If the predicted class's share is
# well above both baselines, its evidence concentrates where the animals
# usually are, and that is not a habit of the network's maps in general.
# It is consistent with "looking at the animal", not a proof of it: the
# centre of these photos also holds whatever the photographer framed
# together with the animal.
#
# ## 11. A second opinion: occlusion
#
# Grad-CAM relies on gradients at one layer, a local, linear view of the
# network. **Occlusion sensitivity** (Zeiler and Fergus, 2014) needs no
# gradients and no knowledge of the inside: cover a square of the image
# with a plain patch, and measure how much the class's logit drops. Where
# covering hurts most, the network relied on that part of the image.
# Captum's `Occlusion` slides the patch over the image and averages, for
# each pixel, the drops of the windows that covered it. The patch here is
# 0 after normalisation: the normalisation's mean colour. It costs one
# forward pass per patch position and photo, so we take a few photos.

n_occluded = course.pick(full=8, smoke=2)
steps = course.pick(full=8, smoke=4)  # the patch moves by size / steps pixels
window, stride = 2 * size // steps, size // steps
occlusion = Occlusion(imagenet).attribute(
    model_input[sample[:n_occluded]],
    target=top_class[sample[:n_occluded]].to(device),
    sliding_window_shapes=(3, window, window),
    strides=(3, stride, stride),
    baselines=0.0,
    perturbations_per_eval=8,
)
occlusion = occlusion[:, 0].cpu()  # the same value in all three channels
positions = ((size - window) // stride + 1) ** 2
print(
    f"{n_occluded} photos × {positions} positions of a {window}×{window} px patch"
)

# %%
# How similar are the two maps? A **rank correlation** (Spearman's: the
# correlation of the values' ranks) compares their orderings of the
# image's regions and ignores their different scales. We compare them on
# the grid of cells that the patch's steps define. The baseline: the same
# correlation between *mismatched* photos (one photo's Grad-CAM against the
# next photo's occlusion map), which two maps reach just because both
# favour, say, the centre.


def average_ranks(values: torch.Tensor) -> torch.Tensor:
    """Ranks 1..n of a flat tensor; tied values (as zeros) share their mean rank."""
    _, inverse, counts = torch.unique(
        values, return_inverse=True, return_counts=True
    )
    last = counts.cumsum(dim=0).float()  # the rank of each value's last copy
    return (last - (counts - 1) / 2)[inverse]


def rank_correlation(a: torch.Tensor, b: torch.Tensor) -> float:
    """Spearman's rank correlation of two maps of the same shape."""
    ranks = torch.stack([average_ranks(a.flatten()), average_ranks(b.flatten())])
    return torch.corrcoef(ranks)[0, 1].item()


grad_cells = F.adaptive_avg_pool2d(photo_heat[:n_occluded, None], steps)[:, 0]
occlusion_cells = F.adaptive_avg_pool2d(occlusion[:, None], steps)[:, 0]
following = [(i + 1) % n_occluded for i in range(n_occluded)]
matched = [
    rank_correlation(grad_cells[i], occlusion_cells[i]) for i in range(n_occluded)
]
mismatched = [
    rank_correlation(grad_cells[i], occlusion_cells[j])
    for i, j in enumerate(following)
]
print(f"on a {steps}×{steps} grid of {size // steps}-px cells:")
for name, values in [("same photo", matched), ("mismatched photos", mismatched)]:
    print(
        f"  {name:>17s}: mean rank correlation {np.mean(values):+.2f} "
        f"(photos from {min(values):+.2f} to {max(values):+.2f})"
    )

# %%
# Three of these photos: the image, Grad-CAM, then occlusion (red:
# covering this region lowers the logit; blue: covering it raises it).

shown = min(3, n_occluded)
fig, axes = plt.subplots(
    shown, 3, figsize=(9, 3.1 * shown), squeeze=False, layout="constrained"
)
for row, i in enumerate(sample[:shown].tolist()):
    axes[row, 0].imshow(pictures[i].permute(1, 2, 0).numpy())
    axes[row, 0].set_title(photo_title(i), fontsize=9)
    overlay(axes[row, 1], pictures[i], photo_heat[row], "Grad-CAM")
    limit = occlusion[row].abs().max().item()
    axes[row, 2].imshow(pictures[i].permute(1, 2, 0).numpy())
    drawn = axes[row, 2].imshow(
        occlusion[row].numpy(), cmap="RdBu_r", vmin=-limit, vmax=limit, alpha=0.6
    )
    axes[row, 2].set_title(
        f"occlusion (rank corr. {matched[row]:+.2f})", fontsize=9
    )
    fig.colorbar(drawn, ax=axes[row, 2], label="drop of the logit")
    for ax in axes[row]:
        ax.axis("off")
fig.suptitle("Two opinions on where the evidence is")
plt.show()

# %%
# Read the two means printed above against the spread across photos. Where
# the same-photo correlation clearly exceeds the mismatched baseline, the
# two methods, one based on gradients and one on experiments with the
# input, point to the same regions beyond what a shared preference for
# the centre explains. They need not agree everywhere: Grad-CAM sees one
# layer's linearisation; occlusion sees the effect of one patch size and
# one patch colour, and a network can make up for a covered region with
# evidence elsewhere (one ear is hidden, the other is not). With this few
# photos, treat the comparison as a rough check, not a measurement.
#
# What a heat map does **not** show: *what* the network recognised there
# (a cat's face and a cat-shaped cushion light up alike), or that the
# network would be right for the right reasons on other images. Heat maps
# are a tool for finding problems, a classifier that looks at watermarks
# or at the snow behind wolves, not a certificate.

elapsed = time.perf_counter() - lesson_start
print(f"lesson run time: {elapsed:.0f} s")

# %%
# ## 12. Summary
#
# - **Forward hooks** (`register_forward_hook`) record any layer's output
#   without changing the model; remove them when done.
# - **Feature maps** lose resolution and gain channels stage by stage; deep
#   ones mean something only through the weights that read them.
# - **First-layer filters** can be drawn as images; judge them against
#   random filters of the same shape. Larger kernels (7×7) are legible,
#   2×2 ones hardly.
# - **Grad-CAM** weighs a layer's channels by the average gradient of the
#   class score, sums, applies a ReLU, upsamples: about twenty lines with
#   a forward hook and a tensor hook. Check such code against a library
#   (Captum's `LayerGradCam`), matching its conventions first.
# - Look at **right and wrong** predictions, and back an impression with a
#   **number and a baseline**: heat in the centre against a uniform map and
#   against an unrelated class's map; agreement with occlusion against
#   mismatched photos.
# - A heat map shows *where* the evidence for a class is, not *what* the
#   network saw there, nor that it is right for the right reasons.
#
# ## 13. Exercises
#
# 1. **The other class.** For the first wrong CIFAR-10 prediction of
#    section 7, draw Grad-CAM for the predicted class and for the true
#    class side by side (`class_idx=`). Does the network find evidence for
#    the true class, and where?
# 2. **A sanity check** (Adebayo et al., 2018). If a heat map did not
#    change when the network's weights are random, it would show the image,
#    not the network. Compute stage-2 Grad-CAM of the predicted class for
#    64 test images of section 2 with Day 14's network and with the untrained
#    `CifarNet` of section 4, and the mean rank correlation between the two
#    networks' maps of the same image.
# 3. **Occlusion on CIFAR-10.** For sixteen test images, compare the
#    stage-3 Grad-CAM of section 7 with occlusion (8×8 patches, stride 4)
#    by rank correlation, with the mismatched-image baseline of section 11.

# %%
# **Solution 1.** `class_idx` accepts one class per image; the true class's
# map shows where the network saw evidence it did not act on (an empty map
# means none survived the ReLU):

i = shown_wrong[0].item()
x = to_float(images[i : i + 1]).expand(2, -1, -1, -1)
classes = torch.tensor([predictions[i].item(), labels[i].item()])
heat, raw = grad_cam(model, model.stages[2], x, classes)
fig, axes = plt.subplots(1, 3, figsize=(8, 3.4), layout="constrained")
axes[0].imshow(images[i].permute(1, 2, 0).numpy())
axes[0].set_title(cifar_title(i), fontsize=9)
axes[0].axis("off")
for ax, c, m, r in zip(axes[1:], classes.tolist(), heat, raw, strict=True):
    overlay(ax, x[0], m, f"Grad-CAM for '{CLASSES[c]}'\n(raw max {r.max():.2f})")
fig.suptitle("Evidence for the predicted class and for the true class")
plt.show()

# %%
# **Solution 2.** The untrained network has the same layers, so the same
# layer can be hooked in both, for the same class. A map can be empty (no
# channel speaks for the class, so the ReLU leaves nothing), and an empty
# map has no ranking; the correlation is computed over the other images.
# The lower it is compared with 1, the more the maps depend on what was
# learned; the mismatched-image line is the level of maps that share
# nothing.

untrained = untrained.to(device).eval()
n_sanity = course.pick(full=64, smoke=16)
x = to_float(images[:n_sanity])
targets = predictions[:n_sanity].to(device)  # the same class for both networks
trained_heat, _ = grad_cam(model, model.stages[1], x, targets)
random_heat, _ = grad_cam(untrained, untrained.stages[1], x, targets)
trained_heat, random_heat = trained_heat.cpu(), random_heat.cpu()
trained_empty = trained_heat.amax(dim=(1, 2)) == 0
random_empty = random_heat.amax(dim=(1, 2)) == 0
kept = torch.nonzero(~trained_empty & ~random_empty).flatten().tolist()
same = [rank_correlation(trained_heat[j], random_heat[j]) for j in kept]
pairs = zip(kept, kept[1:] + kept[:1], strict=True)  # each image with the next one
other = [rank_correlation(trained_heat[a], trained_heat[b]) for a, b in pairs]
print(
    f"empty maps of {n_sanity}: trained {trained_empty.sum()}, "
    f"random {random_empty.sum()}"
)
print(f"trained vs random network, same image: {np.mean(same):+.2f}")
print(f"trained network, mismatched images:    {np.mean(other):+.2f}")

# %%
# **Solution 3.** The same steps as section 11 on Day 14's network, with
# the stage-3 maps of section 7; each image needs one forward pass per
# patch position (7 × 7 here), cheap at 32×32. Images whose map is empty
# are left out, as in solution 2. Upsampled from 3×3, Grad-CAM's maps are
# smooth blobs, so even mismatched images agree somewhat: compare the gap
# between the two numbers with the gap on the photos of section 11.

n_cifar = course.pick(full=16, smoke=4)
x = to_float(images[:n_cifar])
cifar_targets = predictions[:n_cifar].to(device)
heat, _ = grad_cam(model, model.stages[2], x, cifar_targets)
occluded = Occlusion(model).attribute(
    x,
    target=cifar_targets,
    sliding_window_shapes=(3, 8, 8),
    strides=(3, 4, 4),
    baselines=model.mean,  # the training set's mean colour (0 once normalised)
    perturbations_per_eval=32,
)
heat_cells = F.adaptive_avg_pool2d(heat.cpu()[:, None], 8)[:, 0]  # 4-px cells
occluded_cells = F.adaptive_avg_pool2d(occluded[:, :1].cpu(), 8)[:, 0]
kept = torch.nonzero(heat_cells.amax(dim=(1, 2)) > 0).flatten().tolist()
pairs = list(zip(kept, kept[1:] + kept[:1], strict=True))
same = [rank_correlation(heat_cells[a], occluded_cells[a]) for a, _ in pairs]
other = [rank_correlation(heat_cells[a], occluded_cells[b]) for a, b in pairs]
print(
    f"{len(kept)} images: same image {np.mean(same):+.2f}, "
    f"mismatched images {np.mean(other):+.2f}"
)

# %%
# Next, [Day 17](day17_transfer_learning.ipynb) reuses the ImageNet network
# of sections 8-11 for transfer learning: a new head for cats vs dogs,
# trained on its features.
