"""
# Day 17 · Transfer learning (Transfer Learning 實作)

A network trained on ImageNet's 1.2 million photos has already learned to see
edges, textures, fur, eyes and ears. Transfer learning reuses that work: keep
the pretrained network, give it a new last layer for your own classes, and
train little or nothing else. In this lesson you load torchvision's ResNet18
ImageNet weights the standard way (or, on a machine that cannot get them, a
stand-in that the page names), look at what the pretrained network already
says about cats-vs-dogs photos, replace its head, freeze its body (and meet
the BatchNorm trap that comes with freezing), design a fine-tuning run with a
smaller learning rate for the pretrained layers, and then compare three ways
to learn cats vs dogs from 1,600 photos: a frozen feature extractor,
fine-tuning the last stage, and the same network trained from scratch, on
accuracy, trainable parameters and time.

**You will learn:** torchvision's `weights=` API: the weights file, its
hash check, its transforms and class names · what an ImageNet classifier
predicts on your photos · replacing the classification head · freezing with
`requires_grad_(False)` and what goes into the optimiser · why frozen
BatchNorm layers must stay in eval mode · computing frozen features once and
caching them · fine-tuning the last stage with parameter groups · a fair
comparison with training from scratch

**Before you start:** [Day 16](day16_inside_a_cnn.ipynb) (what a CNN's
layers compute) · [Day 13](day13_cnn_architectures.ipynb) (ResNet,
BatchNorm) · [Day 14](day14_cifar10.ipynb) (channels-last and bfloat16) ·
**Reading time:** about 2 hours
"""

# %%
# ## 1. Set-up
#
# The lesson measures its own run time: how long each way of training takes
# is part of the result. `course.pretrained.imagenet_backbone()` returns the
# pretrained network; section 2 shows what it does and why it may not be
# ResNet18 on every machine. The line it prints says which network runs in
# this build, and why.

import time

lesson_start = time.perf_counter()

import copy
import hashlib
import os

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader
from torchvision.models import ResNet18_Weights
from torchvision.transforms import v2

import course
from course.data.cats_vs_dogs import load_cats_vs_dogs
from course.data.store import cache_dir
from course.pretrained import (
    IMAGENET_CATS,
    IMAGENET_DOGS,
    cat_or_dog,
    imagenet_backbone,
    untrained_like,
)
from course.report import headline

course.seed_everything(0)
device = course.choose_device()
print(f"profile: {course.PROFILE}, device: {device}, torch {torch.__version__}")

backbone = imagenet_backbone()
print(backbone.why)

# %%
# ## 2. Pretrained weights, the torchvision way
#
# Since torchvision 0.13 a model's pretrained weights are an **enum** that
# carries everything that belongs to them: where the file is, the
# preprocessing the network was trained with, the names of its 1,000
# classes and its measured ImageNet accuracy. Nothing here needs a network
# connection:

weights = ResNet18_Weights.IMAGENET1K_V1
metrics = weights.meta["_metrics"]["ImageNet-1K"]
print("weights:     ", weights)
print("file:        ", weights.url.rsplit("/", 1)[-1])
print(f"parameters:   {weights.meta['num_params']:,}")
print(f"ImageNet-1K:  top-1 {metrics['acc@1']} %, top-5 {metrics['acc@5']} %")
print(
    "categories:  ",
    len(weights.meta["categories"]),
    "for example",
    ", ".join(weights.meta["categories"][i] for i in (1, 207, 281, 817)),
)
print("transforms:  ", weights.transforms())

# %%
# With a network connection, this is all it takes:
#
# ```python
# from torchvision.models import resnet18, ResNet18_Weights
#
# weights = ResNet18_Weights.IMAGENET1K_V1
# model = resnet18(weights=weights).eval()   # downloads once, then reads the cache
# preprocess = weights.transforms()          # resize 256, crop 224, normalise
# probabilities = model(preprocess(photo).unsqueeze(0)).softmax(1)
# print(weights.meta["categories"][probabilities.argmax()])
# ```
#
# `resnet18(weights=...)` builds the network, then asks
# `torch.hub.load_state_dict_from_url` for the file: it looks in torch's hub
# cache (`~/.cache/torch/hub/checkpoints/`), downloads the file there if it
# is missing, and checks it. The check is in the file's name:
# `resnet18-f37072fd.pth` promises that the SHA-256 of its bytes starts with
# `f37072fd`, so a truncated or tampered download is refused.
#
# Not every machine can reach PyTorch's download server (the machines that
# build this course often cannot), so `imagenet_backbone()` wraps that code
# path and looks in this order:
#
# 1. the file in torch's hub cache, where `resnet18(weights=...)` looks;
# 2. a copy in the course's data directory, `weights/resnet18-f37072fd.pth`
#    (both checked against the hash in the name; a bad file is reported
#    and skipped);
# 3. a download by torchvision, tried only when the server answers within
#    a few seconds;
# 4. otherwise **EfficientNet-Lite0**, a different ImageNet classifier whose
#    trained weights ship inside a pip package. It is a real pretrained
#    network, with the same 1,000 classes in the same order.
#
# Everything below is written against `backbone`, so it runs unchanged on
# either network: `backbone.model` (the whole ImageNet classifier),
# `backbone.transforms` (its evaluation preprocessing), `backbone.normalize`,
# `backbone.categories`, and the name and size of its classification layer:

model = backbone.model.to(device)
n_params = sum(p.numel() for p in model.parameters())
head = backbone.head
print(
    f"backbone: {backbone.name}, {n_params:,} parameters (source: {backbone.source})"
)
print(
    f"its classifier: model.{backbone.head_name} = Linear({head.in_features} -> "
    f"{head.out_features}), {head.weight.numel() + head.bias.numel():,} parameters "
    f"({(head.weight.numel() + head.bias.numel()) / n_params:.0%} of the network)"
)
print("its evaluation transforms:", backbone.transforms)

# %%
# ## 3. The photos
#
# The cats-vs-dogs set has 2,000 training and 2,000 test photos, half of each
# class, of every size and shape. We hold out a fifth of the training photos,
# chosen with a fixed seed, as the **validation set**: every choice below
# (epochs, which variant wins) is made on it, and the test photos are used
# once, at the end.
#
# The weights' own transforms resize to 256 pixels and crop 224. To keep the
# lesson within minutes on two CPU cores we use the same recipe scaled down:
# resize the shorter side to 182 pixels and crop the central 160×160, which
# halves the work per photo. Each photo is decoded once, into a `uint8`
# tensor in memory (Day 14's approach).

image_size = 160
crop = v2.Compose(
    [v2.Resize(image_size * 8 // 7), v2.CenterCrop(image_size), v2.PILToTensor()]
)
train_set = load_cats_vs_dogs(
    "train", transform=crop, limit=course.pick(full=None, smoke=40)
)
test_set = load_cats_vs_dogs(
    "test", transform=crop, limit=course.pick(full=None, smoke=20)
)
CLASSES = train_set.classes


def decode(dataset) -> tuple[torch.Tensor, torch.Tensor]:
    """All photos of an ImageFolder as one uint8 tensor N×3×H×W, and their labels."""
    images, labels = zip(*DataLoader(dataset, batch_size=100), strict=True)
    return torch.cat(images), torch.cat(labels)


start = time.perf_counter()
train_images, train_labels = decode(train_set)
test_images, test_labels = decode(test_set)
decode_seconds = time.perf_counter() - start
n_photos = len(train_images) + len(test_images)
print(f"decoded {n_photos:,} photos in {decode_seconds:.1f} s; classes: {CLASSES}")
print(
    f"train: {tuple(train_images.shape)} {train_images.dtype}, test: {len(test_images):,}"
)

generator = torch.Generator().manual_seed(0)
order = torch.randperm(len(train_labels), generator=generator)
val_idx, fit_idx = order[: len(order) // 5], order[len(order) // 5 :]
for name, idx in [("fit", fit_idx), ("validation", val_idx)]:
    counts = torch.bincount(train_labels[idx], minlength=2).tolist()
    print(f"{name:>10s}: {len(idx):,} photos ({counts[0]} cats, {counts[1]} dogs)")

# %%
# ## 4. What the pretrained network already sees
#
# Before changing anything, ask the ImageNet classifier about a few
# validation photos, prepared with the weights' own `transforms` (224 px).
# ImageNet has no class "cat" or "dog"; it has 118 dog breeds (classes
# 151-268) and five kinds of domestic cat (281-285), among 1,000 classes.

per_class = course.pick(full=4, smoke=2)
shown = [
    i
    for c in (0, 1)
    for i in val_idx[train_labels[val_idx] == c][:per_class].tolist()
]
photos = [train_set.loader(train_set.samples[i][0]) for i in shown]
batch = torch.stack([backbone.transforms(photo) for photo in photos]).to(device)
model.eval()
with torch.no_grad():
    probabilities = model(batch).softmax(dim=1).cpu()
top_p, top_class = probabilities.topk(5, dim=1)

seen = v2.Compose([v2.Resize(256), v2.CenterCrop(224)])  # what the network sees
fig, axes = plt.subplots(2, 4, figsize=(13, 10), layout="constrained")
fig.get_layout_engine().set(h_pad=0.15)  # room for the class lists
for ax in axes.flat[len(shown) :]:
    ax.set_visible(False)  # only in the smoke profile, with fewer photos
for ax, photo, i, p_row, c_row in zip(
    axes.flat, photos, shown, top_p, top_class, strict=False
):
    ax.imshow(seen(photo))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"photo of a {CLASSES[train_labels[i]]}", fontsize=10)
    lines = [
        f"{p:4.0%} {backbone.categories[c][:22]}"
        + (f" ({cat_or_dog(c)})" if cat_or_dog(c) else "")
        for p, c in zip(p_row.tolist(), c_row.tolist(), strict=True)
    ]
    ax.set_xlabel("\n".join(lines), fontsize=9, loc="left", family="monospace")
fig.suptitle(
    f"{backbone.name} trained on ImageNet: its top-5 classes for validation photos "
    "(224-px centre crops, probability and class)"
)
plt.show()
right_animal = sum(
    cat_or_dog(c) == CLASSES[train_labels[i]]
    for i, c in zip(shown, top_class[:, 0].tolist(), strict=True)
)
print(
    f"top-1 class is a breed of the right animal for {right_animal} of {len(shown)} photos"
)

# %%
# The network has never been told about our two classes, yet the count
# above shows how often its first guess is a breed of the right animal.
# That knowledge lives in the features its last layer reads. Section 6
# counts it on every training photo, once the features are computed.
#
# ## 5. Features, computed once
#
# A pretrained network splits into a **body** that turns a photo into a
# feature vector (`backbone.feature_dim` numbers after the global average
# pool) and a **head**, the last linear layer, that turns features into
# class scores. When the body is frozen it is a fixed function: the same
# photo always gives the same features. So instead of running the body
# again in every epoch, we run it once and keep its outputs. For the
# fine-tuning run of section 10 we keep something one step earlier: the
# activations that *enter* the last stage (`backbone.trunk(x)`); the last
# stage and the pool (`backbone.finish(h)`) then turn them into features,
# `backbone.features(x) == backbone.finish(backbone.trunk(x))`.
#
# This is exact only under two conditions: the frozen part runs in eval mode
# (section 8 shows what happens otherwise), and every epoch shows the same
# photos, without random augmentation (with augmentation each epoch's
# inputs differ, and a cache would have to store many augmented copies).
#
# We run the body in **channels-last** memory layout under **bfloat16**
# autocast, as Day 14 did for training, and store the results on disk,
# keyed on everything that changes them: the weights, the image size, the
# exact photos and the torch version. A second run of the lesson reads
# them back in a moment.

model = model.to(memory_format=torch.channels_last)


def to_input(images: torch.Tensor) -> torch.Tensor:
    """uint8 photos N×3×H×W -> the backbone's normalised float input, channels-last."""
    x = backbone.normalize(images.to(device).float() / 255)
    return x.contiguous(memory_format=torch.channels_last)


@torch.no_grad()
def extract(
    images: torch.Tensor, batch_size: int = 100
) -> tuple[torch.Tensor, torch.Tensor]:
    """Activations entering the last stage (bfloat16) and pooled features (float32)."""
    model.eval()
    trunks, features = [], []
    for first in range(0, len(images), batch_size):
        with torch.autocast(device.type, dtype=torch.bfloat16):
            h = backbone.trunk(to_input(images[first : first + batch_size]))
            f = backbone.finish(h)
        trunks.append(h.to(torch.bfloat16).cpu())
        features.append(f.float().cpu())
    return torch.cat(trunks), torch.cat(features)


def cached_extract(images: torch.Tensor, dataset) -> dict:
    """``extract`` once per weights, image size, set of photos and torch version."""
    identity = dataset.identity
    parts = [
        identity["samples"],
        identity["of"],
        identity["files"],
        torch.__version__,
        device,
    ]
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:12]
    name = f"day17-{backbone.weights_id}-{image_size}px-{identity['split']}-{digest}.pt"
    path = cache_dir() / "features" / name
    if path.is_file():
        try:
            saved = torch.load(path, weights_only=True)
            return saved | {"cached": True, "where": path.name}
        except (OSError, RuntimeError, EOFError):
            pass  # a damaged cache file: compute again and replace it
    start = time.perf_counter()
    trunk, features = extract(images)
    saved = {
        "trunk": trunk,
        "features": features,
        "seconds": time.perf_counter() - start,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    torch.save(saved, partial)
    os.replace(partial, path)  # a reader never sees a half-written file
    return saved | {"cached": False, "where": path.name}


train_cache = cached_extract(train_images, train_set)
test_cache = cached_extract(test_images, test_set)
extract_seconds = train_cache["seconds"] + test_cache["seconds"]
cached = train_cache["cached"] and test_cache["cached"]
how = (
    "read from the cache; timed when computed" if cached else "computed in this run"
)
print(
    f"{n_photos:,} photos through the frozen body: {extract_seconds:.1f} s, {how}"
)
print(
    f"  {n_photos / extract_seconds:.0f} photos/s; cache: features/{train_cache['where']}"
)
print(f"entering the last stage: {tuple(train_cache['trunk'].shape[1:])} per photo")
print(
    f"pooled features:         {tuple(train_cache['features'].shape[1:])} per photo"
)

train_features, test_features = train_cache["features"], test_cache["features"]
train_trunk, test_trunk = train_cache["trunk"], test_cache["trunk"]

# %%
# ## 6. How often ImageNet's answer is already a cat or a dog
#
# The original head still sits on the network, so the cached features give
# its ImageNet prediction for every training photo at 160 px, at almost no
# cost. We count where the top class falls: a cat class, a dog class, or
# something else (a blanket, a sofa, a teddy bear...).

imagenet_head = copy.deepcopy(
    backbone.head
)  # keep the original; later sections replace it
with torch.no_grad():
    imagenet_logits = imagenet_head(train_features.to(device)).cpu()
top1 = imagenet_logits.argmax(dim=1)
top_is_cat = (top1 >= IMAGENET_CATS.start) & (top1 < IMAGENET_CATS.stop)
top_is_dog = (top1 >= IMAGENET_DOGS.start) & (top1 < IMAGENET_DOGS.stop)
print(
    f"{'photos of':>10s} {'n':>6s} {'top-1 a cat class':>18s} "
    f"{'a dog class':>12s} {'other':>7s}"
)
for c, name in enumerate(CLASSES):
    mine = train_labels == c
    n = int(mine.sum())
    in_cat = int((top_is_cat & mine).sum())
    in_dog = int((top_is_dog & mine).sum())
    print(
        f"{name + 's':>10s} {n:6,d} {in_cat / n:18.1%} {in_dog / n:12.1%} "
        f"{(n - in_cat - in_dog) / n:7.1%}"
    )

# %%
# A rule with no training at all follows: add up the probabilities of the
# five cat classes and of the 118 dog classes, and answer whichever sum is
# larger. Its validation accuracy is the **baseline** every trained variant
# below must beat.


def imagenet_rule(features: torch.Tensor) -> torch.Tensor:
    """0 (cat) or 1 (dog): which group of ImageNet classes gets more probability."""
    with torch.no_grad():
        p = imagenet_head(features.to(device)).softmax(dim=1).cpu()
    p_cat = p[:, IMAGENET_CATS.start : IMAGENET_CATS.stop].sum(dim=1)
    p_dog = p[:, IMAGENET_DOGS.start : IMAGENET_DOGS.stop].sum(dim=1)
    return (p_dog > p_cat).long()


rule_val = (
    (imagenet_rule(train_features[val_idx]) == train_labels[val_idx]).float().mean()
)
print(f"ImageNet-classes rule, no training: validation accuracy {rule_val:.1%}")

# %%
# ## 7. Replacing the head
#
# To predict our own two classes, we swap the last layer for a new, randomly
# initialised `nn.Linear(feature_dim, 2)`. For torchvision's ResNet18 the
# layer is called `fc`, so the line is
# `model.fc = nn.Linear(model.fc.in_features, 2)`; `backbone.head_name`
# holds the name for whichever network runs here. We work on a copy
# (`backbone.clone()`), so `backbone` itself stays the ImageNet classifier.

net = backbone.clone()
net.model.to(device)
setattr(net.model, net.head_name, nn.Linear(net.feature_dim, 2).to(device))
print(f"model.{net.head_name} is now", getattr(net.model, net.head_name))
net.model.eval()
with torch.no_grad():
    print(
        "output for 4 photos:", tuple(net.model(to_input(train_images[:4])).shape)
    )

# %%
# Everything before the new layer still holds ImageNet's weights; the new
# layer's 2 outputs mean nothing yet.
#
# ## 8. Freezing, and what goes into the optimiser
#
# **Freezing** a parameter means: no gradient is computed for it, and it
# never changes. `module.requires_grad_(False)` sets the flag on every
# parameter of a module. The usual order: freeze the whole network, then
# replace the head, whose new parameters require gradients by default.

net.model.requires_grad_(False)
setattr(net.model, net.head_name, nn.Linear(net.feature_dim, 2).to(device))

trainable = [p for p in net.model.parameters() if p.requires_grad]
total = sum(p.numel() for p in net.model.parameters())
print(
    f"parameter tensors: {len(list(net.model.parameters()))}, trainable: {len(trainable)}"
)
print(f"parameters: {total:,}, trainable: {sum(p.numel() for p in trainable):,}")

optimizer = torch.optim.AdamW(trainable, lr=1e-3)
in_optimizer = sum(
    p.numel() for group in optimizer.param_groups for p in group["params"]
)
print(f"parameters the optimiser updates: {in_optimizer:,}")

# %%
# Pass the optimiser only the trainable parameters. PyTorch's optimisers do
# skip a parameter whose `.grad` is `None`, so passing all of them would
# train the same way here, but the list then hides which parameters are
# meant to learn, and a parameter unfrozen later is easy to forget.
#
# What if *nothing* requires a gradient, say because the head was replaced
# before freezing? Then the loss has no graph to go back through:

frozen_everything = backbone.clone()
frozen_everything.model.requires_grad_(False)
logits = frozen_everything.model(to_input(train_images[:2]))
try:
    F.cross_entropy(logits, train_labels[:2].to(device)).backward()
except RuntimeError as err:
    print("Expected error (every parameter frozen, so there is nothing to train):")
    print(" ", str(err).splitlines()[0])

# %%
# ### The BatchNorm trap
#
# `requires_grad_(False)` stops gradients; it does not stop **BatchNorm**.
# In training mode a BatchNorm layer normalises with the statistics of the
# current batch and updates its running mean and variance (Day 13), with or
# without gradients. A training loop calls `model.train()` at the start of
# every epoch, so a "frozen" body would change anyway. Measured on the copy
# with the new head: features of a few validation photos in eval mode, then
# three batches in train mode (no gradients anywhere), then the same photos
# in eval mode again.

bn_layers = [m for m in net.model.modules() if isinstance(m, nn.BatchNorm2d)]
running_before = [bn.running_mean.clone() for bn in bn_layers]
n_probe = course.pick(full=16, smoke=4)
probe = to_input(train_images[val_idx[:n_probe]])

net.model.eval()
with torch.no_grad():
    features_before = net.features(probe)
net.model.train()  # what a training loop does at the start of each epoch
with torch.no_grad():
    features_train_mode = net.features(probe)
    for idx in fit_idx[: 3 * n_probe].split(n_probe):
        net.model(to_input(train_images[idx]))
net.model.eval()
with torch.no_grad():
    features_after = net.features(probe)

moved = sum(
    not torch.equal(bn.running_mean, old)
    for bn, old in zip(bn_layers, running_before, strict=True)
)
scale = features_before.abs().mean().item()
print(f"BatchNorm layers whose running mean changed: {moved} of {len(bn_layers)}")
print(f"typical feature size |f|:                  {scale:.3f}")
print(
    f"in train mode, same photos, features moved by: "
    f"{(features_train_mode - features_before).abs().mean().item():.3f} on average"
)
print(
    f"back in eval mode, after 4 train-mode passes:  "
    f"{(features_after - features_before).abs().mean().item():.4f} on average"
)

# %%
# Both numbers should be zero for a frozen body. In train mode the features
# depend on which other photos share the batch; the running statistics
# drift towards this dataset with every batch (by how much depends on the
# layers' `momentum`). The fix is one more line: put the frozen part in
# eval mode, after every `model.train()`:
#
# ```python
# model.train()          # the new head (and any unfrozen layer) trains...
# frozen_part.eval()     # ...while the frozen layers keep ImageNet's statistics
# ```
#
# A function that does it for a whole network: train mode everywhere,
# except BatchNorm layers whose parameters are all frozen. The same
# measurement with it:


def train_keeping_frozen_bn(model: nn.Module) -> None:
    """``model.train()``, but frozen BatchNorm layers stay in eval mode."""
    model.train()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d) and not any(
            p.requires_grad for p in m.parameters()
        ):
            m.eval()


running_before = [bn.running_mean.clone() for bn in bn_layers]
train_keeping_frozen_bn(net.model)
with torch.no_grad():
    for idx in fit_idx[: 4 * n_probe].split(n_probe):
        net.model(to_input(train_images[idx]))
net.model.eval()
with torch.no_grad():
    features_fixed = net.features(probe)
moved = sum(
    not torch.equal(bn.running_mean, old)
    for bn, old in zip(bn_layers, running_before, strict=True)
)
print(f"BatchNorm layers whose running mean changed: {moved} of {len(bn_layers)}")
print(
    f"back in eval mode, after 4 such passes, features moved by: "
    f"{(features_fixed - features_after).abs().max().item():.4f} at most"
)

# %%
# BatchNorm is not the only layer that behaves differently in train mode:
# Dropout, and the random "stochastic depth" inside EfficientNet's blocks,
# make train-mode outputs random. For a part of the network that is frozen
# as a whole, the simplest rule is the one this lesson follows: keep that
# part in eval mode.

# %%
# This lesson never runs the frozen body in train mode: it ran once, in
# eval mode, in section 5.
#
# ## 9. Variant 1: a frozen feature extractor
#
# With the body frozen and its features cached, training the head is
# training a linear classifier on 1,600 feature vectors: seconds. One
# training function serves all three variants (same optimiser, batch size,
# bfloat16 autocast), so they differ only in what is trained and on what
# inputs. After every epoch it measures validation accuracy, and at the end
# it restores the epoch with the best one.


def predict(forward, inputs, prepare, batch_size: int = 200) -> torch.Tensor:
    """Predicted classes for ``inputs``, in batches, in eval mode, without gradients."""
    out = []
    with torch.no_grad():
        for first in range(0, len(inputs), batch_size):
            with torch.autocast(device.type, dtype=torch.bfloat16):
                logits = forward(prepare(inputs[first : first + batch_size]))
            out.append(logits.argmax(dim=1).cpu())
    return torch.cat(out)


def train_variant(forward, trained, optimizer, data, prepare, epochs, seed=0):
    """Train ``trained`` modules; return per-epoch (seconds, validation accuracy)."""
    (x_fit, y_fit), (x_val, y_val) = data
    generator = torch.Generator().manual_seed(seed)
    history, best = [], (-1.0, None)
    start = time.perf_counter()
    for _ in range(epochs):
        for m in trained:
            m.train()
        for idx in torch.randperm(len(y_fit), generator=generator).split(64):
            with torch.autocast(device.type, dtype=torch.bfloat16):
                logits = forward(prepare(x_fit[idx]))
            loss = F.cross_entropy(logits.float(), y_fit[idx].to(device))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        for m in trained:
            m.eval()
        val_accuracy = (
            (predict(forward, x_val, prepare) == y_val).float().mean().item()
        )
        history.append((time.perf_counter() - start, val_accuracy))
        if val_accuracy > best[0]:
            best = (val_accuracy, [copy.deepcopy(m.state_dict()) for m in trained])
    for m, state in zip(trained, best[1], strict=True):
        m.load_state_dict(state)
    return history


def on_device(x: torch.Tensor) -> torch.Tensor:
    return x.to(device)


feature_data = (
    (train_features[fit_idx], train_labels[fit_idx]),
    (train_features[val_idx], train_labels[val_idx]),
)
head_epochs = course.pick(full=15, smoke=2)
results, heads = {}, {}
for seed in (0, 1, 2):
    torch.manual_seed(seed)
    heads[seed] = nn.Linear(backbone.feature_dim, 2).to(device)
    optimizer = torch.optim.AdamW(
        heads[seed].parameters(), lr=1e-3, weight_decay=0.01
    )
    history = train_variant(
        heads[seed],
        [heads[seed]],
        optimizer,
        feature_data,
        on_device,
        head_epochs,
        seed,
    )
    results[f"frozen, seed {seed}"] = history
    accuracies = [a for _, a in history]
    print(
        f"seed {seed}: best validation accuracy {max(accuracies):.2%} in epoch "
        f"{accuracies.index(max(accuracies)) + 1} of {head_epochs} "
        f"({history[-1][0]:.1f} s in all)"
    )

frozen_head = heads[0]
frozen_history = results["frozen, seed 0"]
seed_accuracies = [
    max(a for _, a in results[f"frozen, seed {s}"]) for s in (0, 1, 2)
]
seed_spread = max(seed_accuracies) - min(seed_accuracies)
n_val = len(val_idx)
print(
    f"spread between seeds: {seed_spread:.2%} ({seed_spread * n_val:.0f} of "
    f"{n_val} validation photos)"
)

# %%
# The three seeds change only the head's initial weights and the order of
# the batches; the spread printed above is the noise a single run carries.
# Differences between variants smaller than that say nothing.
#
# ## 10. Variant 2: fine-tuning the last stage
#
# Frozen features are ImageNet's features. **Fine-tuning** lets some of the
# pretrained layers adapt to the new task too. The usual design:
#
# - unfreeze only the **last stage** (for ResNet18, `layer4`;
#   `backbone.last_stage` holds it for whichever network runs): early layers
#   detect edges and textures that suit any photo; the last stage combines
#   them into ImageNet's object parts, the most task-specific features;
# - start from the **trained head** of variant 1, so the first gradients
#   that reach the pretrained layers come from a sensible classifier, not
#   from a random one (often called "linear probing, then fine-tuning");
# - give the pretrained layers a **smaller learning rate** than the head,
#   through the optimiser's **parameter groups**: small steps keep what
#   ImageNet taught, and the head, which starts closer to done, still moves.
#
# The frozen part is the trunk of section 5, in eval mode: its cached
# outputs are exactly what it would compute in every epoch, so only the
# last stage and the head run here. The last stage itself trains in train
# mode, BatchNorm included.

tuned = backbone.clone()
tuned.model.to(device).eval()
tuned.model.requires_grad_(False)
tuned.last_stage.requires_grad_(True)
tuned_head = copy.deepcopy(frozen_head)
stage_parts = ", ".join(type(m).__name__ for m in tuned.last_stage.children())
print(f"{backbone.name}'s last stage: {stage_parts}")

head_lr, body_lr = 1e-3, 1e-4
optimizer = torch.optim.AdamW(
    [
        {"params": tuned.last_stage.parameters(), "lr": body_lr},
        {"params": tuned_head.parameters(), "lr": head_lr},
    ],
    weight_decay=0.01,
)
for name, group in zip(["last stage", "head"], optimizer.param_groups, strict=True):
    n = sum(p.numel() for p in group["params"])
    print(
        f"parameter group {name:10s}: {n:>10,} parameters, learning rate {group['lr']:g}"
    )
last_stage_params = sum(p.numel() for p in tuned.last_stage.parameters())
print(
    f"trainable: {last_stage_params / n_params:.0%} of the pretrained network's parameters"
)


def tuned_forward(h: torch.Tensor) -> torch.Tensor:
    return tuned_head(tuned.finish(h))


def trunk_input(h: torch.Tensor) -> torch.Tensor:
    return h.to(device).float().contiguous(memory_format=torch.channels_last)


trunk_data = (
    (train_trunk[fit_idx], train_labels[fit_idx]),
    (train_trunk[val_idx], train_labels[val_idx]),
)
tune_epochs = course.pick(full=3, smoke=1)
tuned_history = train_variant(
    tuned_forward,
    [tuned.last_stage, tuned_head],
    optimizer,
    trunk_data,
    trunk_input,
    tune_epochs,
)
for epoch, (seconds, accuracy) in enumerate(tuned_history, start=1):
    print(f"epoch {epoch}: validation accuracy {accuracy:.2%} ({seconds:.0f} s)")

# %%
# Is the shortcut really exact? Put the fine-tuned head on the fine-tuned
# copy and run the whole network on raw validation photos, end to end:

setattr(tuned.model, tuned.head_name, tuned_head)
tuned.model.eval()
check = train_images[val_idx[:32]]
with torch.no_grad(), torch.autocast(device.type, dtype=torch.bfloat16):
    end_to_end = tuned.model(to_input(check)).float()
    via_cache = tuned_forward(trunk_input(train_trunk[val_idx[:32]])).float()
same = (end_to_end.argmax(1) == via_cache.argmax(1)).float().mean()
print(
    f"same prediction on {same:.0%} of {len(check)} photos; largest logit difference "
    f"{(end_to_end - via_cache).abs().max():.3f} (bfloat16 rounding)"
)

# %%
# ## 11. Variant 3: the same network from scratch
#
# Does the pretraining matter, or would the architecture learn cats vs dogs
# from our 1,600 photos anyway? The fair test: the same architecture,
# freshly initialised by its library (`untrained_like`), trained with the
# same loop and optimiser. Every weight must now learn, and every step runs
# the whole network on photos, so it is far slower per epoch than variant 2.
# To keep its cost within the lesson's budget we train it at 64 px instead
# of 160 (about a sixth of the work per photo) for a single epoch, a fixed
# count so that two builds print the same numbers (a time limit would
# not); section 12 sets its training time beside the pretrained
# pipeline's. In a fixed time, more pixels per photo would mean fewer
# steps, so the low resolution is a choice in its favour.

scratch_size = 64
scratch_images = (
    F.interpolate(
        train_images.float(), size=scratch_size, mode="bilinear", antialias=True
    )
    .round()
    .to(torch.uint8)
)
scratch_test_images = (
    F.interpolate(
        test_images.float(), size=scratch_size, mode="bilinear", antialias=True
    )
    .round()
    .to(torch.uint8)
)

torch.manual_seed(0)
scratch = untrained_like(backbone, num_classes=2).to(
    device, memory_format=torch.channels_last
)
scratch_params = sum(p.numel() for p in scratch.parameters())
optimizer = torch.optim.AdamW(scratch.parameters(), lr=1e-3, weight_decay=0.01)
scratch_data = (
    (scratch_images[fit_idx], train_labels[fit_idx]),
    (scratch_images[val_idx], train_labels[val_idx]),
)
scratch_epochs = 1
scratch_history = train_variant(
    scratch, [scratch], optimizer, scratch_data, to_input, scratch_epochs
)
scratch_steps = scratch_epochs * -(-len(fit_idx) // 64)
print(
    f"{scratch_params:,} trainable parameters; {scratch_epochs} epoch = "
    f"{scratch_steps} optimiser steps at {scratch_size} px"
)
for epoch, (seconds, accuracy) in enumerate(scratch_history, start=1):
    print(f"epoch {epoch}: validation accuracy {accuracy:.2%} ({seconds:.0f} s)")

# %%
# ## 12. The comparison
#
# First the verdicts, on the validation photos. Frozen against fine-tuned
# is the close call, so we also count the photos on which they disagree:

val_labels = train_labels[val_idx]
frozen_val = predict(frozen_head, train_features[val_idx], on_device)
tuned_val = predict(tuned_forward, train_trunk[val_idx], trunk_input)
only_frozen = int(((frozen_val == val_labels) & (tuned_val != val_labels)).sum())
only_tuned = int(((tuned_val == val_labels) & (frozen_val != val_labels)).sum())
frozen_acc = (frozen_val == val_labels).float().mean().item()
tuned_acc = (tuned_val == val_labels).float().mean().item()
scratch_acc = max(a for _, a in scratch_history)
gap = tuned_acc - frozen_acc
print(
    f"validation accuracy: frozen {frozen_acc:.2%}, fine-tuned {tuned_acc:.2%}, "
    f"from scratch {scratch_acc:.2%}"
)
print(
    f"photos only the frozen variant gets right: {only_frozen}; "
    f"only the fine-tuned one: {only_tuned}"
)
noise = max(seed_spread, 1 / n_val)  # at least one validation photo
if abs(gap) <= noise:
    verdict = (
        f"a difference of {gap:+.2%} is within the noise ({noise:.2%}: the "
        "seed-to-seed spread, or one photo): no winner on this validation set"
    )
else:
    better = (
        "fine-tuning the last stage" if gap > 0 else "the frozen feature extractor"
    )
    verdict = (
        f"{better} is ahead by {abs(gap):.2%}, more than the noise of {noise:.2%} "
        "(one run each: treat it as a hint, not a law)"
    )
print("verdict:", verdict)

# %%
# Now, once, the test photos, for every variant and for the no-training
# rule of section 6:

test_accuracy = {
    "ImageNet classes, no training": (imagenet_rule(test_features) == test_labels),
    "frozen body + new head": predict(frozen_head, test_features, on_device)
    == test_labels,
    "fine-tuned last stage + head": predict(tuned_forward, test_trunk, trunk_input)
    == test_labels,
    "from scratch": predict(scratch, scratch_test_images, to_input) == test_labels,
}
test_accuracy = {k: v.float().mean().item() for k, v in test_accuracy.items()}
head_params = backbone.feature_dim * 2 + 2
rows = [
    ("ImageNet classes, no training", 0, 0.0, image_size, rule_val.item()),
    (
        "frozen body + new head",
        head_params,
        frozen_history[-1][0],
        image_size,
        frozen_acc,
    ),
    (
        "fine-tuned last stage + head",
        last_stage_params + head_params,
        frozen_history[-1][0] + tuned_history[-1][0],
        image_size,
        tuned_acc,
    ),
    (
        "from scratch",
        scratch_params,
        scratch_history[-1][0],
        scratch_size,
        scratch_acc,
    ),
]
print(
    f"{backbone.name} on cats vs dogs ({len(fit_idx):,} training photos, "
    f"{len(test_labels):,} test photos)\n"
)
print(
    f"{'variant':31s} {'trainable':>11s} {'train s':>8s} {'px':>4s} "
    f"{'val acc':>8s} {'test acc':>9s}"
)
for name, n, seconds, px, val in rows:
    print(
        f"{name:31s} {n:11,d} {seconds:8.1f} {px:4d} {val:8.2%} "
        f"{test_accuracy[name]:9.2%}"
    )
print(
    f"\nboth pretrained variants share the frozen body's pass over all {n_photos:,} "
    f"photos: {extract_seconds:.0f} s ({how}); the fine-tuned variant's time "
    "includes its start, the frozen variant's head"
)

# %%
# The same runs as curves: validation accuracy against training time. The
# frozen variant's points sit furthest left: an epoch of a linear layer on
# cached features is the cheapest step of all (the table has the times).

fig, ax = plt.subplots(figsize=(8, 4.5))
head_seconds = frozen_history[-1][0]  # fine-tuning starts from the trained head
for label, history, offset, style in [
    ("frozen body + new head", frozen_history, 0.0, "o-"),
    ("fine-tuned last stage + head", tuned_history, head_seconds, "s-"),
    (f"from scratch ({scratch_size} px)", scratch_history, 0.0, "^-"),
]:
    seconds, accuracy = zip(*history, strict=True)
    ax.plot(
        [offset + t for t in seconds],
        [100 * a for a in accuracy],
        style,
        label=label,
    )
ax.axhline(
    100 * rule_val.item(),
    color="grey",
    linestyle=":",
    label="ImageNet classes, no training",
)
ax.set_xlabel("training time (s)")
ax.set_ylabel("validation accuracy (%)")
ax.set_title(f"Cats vs dogs with {backbone.name}: pretrained vs from scratch")
ax.legend()
plt.show()

frozen_test = test_accuracy["frozen body + new head"]
scratch_test = test_accuracy["from scratch"]
pretrained_seconds = extract_seconds + frozen_history[-1][0] + tuned_history[-1][0]
scratch_seconds = scratch_history[-1][0]
print(
    f"frozen body + new head: {frozen_test:.1%} on the test photos "
    f"({'at least' if frozen_test >= 0.95 else 'below'} 95 %)"
)
headline(
    f"cats vs dogs test accuracy ({backbone.name})",
    f"frozen {frozen_test:.1%}, fine-tuned "
    f"{test_accuracy['fine-tuned last stage + head']:.1%}, from scratch {scratch_test:.1%}",
)
print(
    f"from scratch: {scratch_seconds:.0f} s of training, "
    f"{scratch_seconds / pretrained_seconds:.1f}× the {pretrained_seconds:.0f} s of the "
    f"whole pretrained pipeline (body pass, head, fine-tuning); test accuracy "
    f"{scratch_test:.1%}, {100 * (frozen_test - scratch_test):.0f} points below "
    f"the frozen body"
)
majority = torch.bincount(val_labels).max().item() / n_val
if scratch_acc <= majority + 0.02:
    print(
        f"the network from scratch is at chance level: always answering the larger "
        f"class scores {majority:.1%} on validation; {scratch_steps} optimiser step(s) "
        "from random weights teach it next to nothing"
    )
print(f"verdict on validation, frozen vs fine-tuned: {verdict}")
elapsed = time.perf_counter() - lesson_start
print(f"lesson run time so far: {elapsed:.0f} s ({elapsed / 60:.1f} min)")

# %%
# The lines above sum the run up. The frozen body with a new head is the
# workhorse of transfer learning: a few thousand trainable parameters,
# seconds of training once the features exist. Whether fine-tuning the last
# stage helps depends on how far the new task is from ImageNet; cats and
# dogs are ImageNet's home ground (section 6 counted how often its top
# class is already the right animal), so little is left to gain, and the
# verdict says whether this run found any. The network from scratch, with
# the training time printed above, stays far behind: 1,600 photos are too
# few to learn good features from zero in minutes, which is the whole case
# for pretraining. (With many more epochs and augmentation it would climb,
# but it would cost far more than the pretrained variants' seconds.)
#
# ## 13. Summary
#
# - torchvision's **weights enums** (`ResNet18_Weights.IMAGENET1K_V1`) carry
#   the file, its hash, the preprocessing (`weights.transforms()`) and the
#   class names; `resnet18(weights=...)` downloads once into torch's hub
#   cache and checks the file against the hash in its name.
# - A pretrained classifier already knows a lot about your photos: look at
#   its top-5 before training anything, and build a no-training baseline.
# - **Replace the head** with `nn.Linear(feature_dim, n_classes)`,
#   **freeze** with `requires_grad_(False)`, and give the optimiser only the
#   parameters that should learn.
# - Frozen **BatchNorm** layers still change in train mode: keep the frozen
#   part in `eval()` after every `model.train()`.
# - A frozen body is a fixed function: run it **once** and cache its outputs
#   (exact without augmentation). That makes a frozen-feature classifier
#   cost seconds, and a last-stage fine-tune cost only the last stage.
# - **Fine-tuning** design: unfreeze the last stage, start from the trained
#   head, and give pretrained layers a smaller learning rate through
#   parameter groups. Whether it beats frozen features is an empirical
#   question: compare on validation, against the seed-to-seed noise.
#
# ## 14. Exercises
#
# 1. How many labelled photos does the frozen body need? Train the new head
#    on the cached features of 10, 50, 200 and all fit photos (balanced,
#    seeded) and plot validation accuracy against their number.
# 2. Fine-tune with **one** learning rate: give the last stage the head's
#    learning rate (`1e-3`) instead of a tenth of it, for two epochs. How
#    does validation accuracy compare with the parameter-group run's first
#    two epochs?
# 3. Section 6 counted ImageNet's answers at 160 px. Apply the weights' own
#    transforms (224 px) to a subset of the validation photos and compare the
#    no-training rule's accuracy at both sizes on the same photos.

# %%
# **Solution 1.** Take the first photos of each class from the (already
# shuffled) fit indices, train a head with the same function for at least
# 100 steps (a run on 10 photos has one batch per epoch), and keep the best
# validation accuracy.

sizes = [
    n
    for n in course.pick(full=[10, 50, 200, 1600], smoke=[4, 10])
    if n <= len(fit_idx)
]
few_shot, n_used = [], []
for n in sizes:
    chosen = torch.cat(
        [fit_idx[train_labels[fit_idx] == c][: n // 2] for c in (0, 1)]
    )
    torch.manual_seed(0)
    few_head = nn.Linear(backbone.feature_dim, 2).to(device)
    history = train_variant(
        few_head,
        [few_head],
        torch.optim.AdamW(few_head.parameters(), lr=1e-3, weight_decay=0.01),
        ((train_features[chosen], train_labels[chosen]), feature_data[1]),
        on_device,
        course.pick(full=max(15, 100 // -(-len(chosen) // 64)), smoke=2),
    )
    few_shot.append(max(a for _, a in history))
    n_used.append(len(chosen))
    print(
        f"{len(chosen):5d} training photos: validation accuracy {few_shot[-1]:.2%}"
    )

fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(n_used, [100 * a for a in few_shot], "o-", label="frozen body + new head")
ax.axhline(
    100 * rule_val.item(),
    color="grey",
    linestyle=":",
    label="ImageNet classes, no training",
)
ax.set_xscale("log")
ax.set_xlabel("labelled training photos (log scale)")
ax.set_ylabel("validation accuracy (%)")
ax.set_title("How many examples a pretrained body needs")
ax.legend()
plt.show()

# %%
# **Solution 2.** The same run with one learning rate for both groups,
# starting again from the frozen variant's head and ImageNet's last stage:

one_lr = backbone.clone()
one_lr.model.to(device).eval()
one_lr.model.requires_grad_(False)
one_lr.last_stage.requires_grad_(True)
one_lr_head = copy.deepcopy(frozen_head)
optimizer = torch.optim.AdamW(
    [*one_lr.last_stage.parameters(), *one_lr_head.parameters()],
    lr=head_lr,
    weight_decay=0.01,
)
one_lr_history = train_variant(
    lambda h: one_lr_head(one_lr.finish(h)),
    [one_lr.last_stage, one_lr_head],
    optimizer,
    trunk_data,
    trunk_input,
    min(2, tune_epochs),
)
for epoch, ((_, a_groups), (_, a_one)) in enumerate(
    zip(tuned_history, one_lr_history, strict=False), start=1
):
    print(
        f"epoch {epoch}: parameter groups {a_groups:.2%}, one learning rate {a_one:.2%}"
    )

# %%
# **Solution 3.** Decode the same validation photos with `backbone.transforms`
# (224 px), run the whole ImageNet classifier, and apply the rule to its
# probabilities; compare with the 160-px rule on exactly these photos. On a
# subset this small one photo is worth the share printed below, so a gap of
# a photo or two is noise; count the photos where the two sizes disagree.

subset = val_idx[: course.pick(full=100, smoke=4)]
big = torch.stack(
    [
        backbone.transforms(train_set.loader(train_set.samples[i][0]))
        for i in subset.tolist()
    ]
)
imagenet_model = backbone.model.eval()
with torch.no_grad():  # float32, as in section 4
    p = torch.cat(
        [
            imagenet_model(big[k : k + 50].to(device)).softmax(1).cpu()
            for k in range(0, len(big), 50)
        ]
    )
rule_224 = (
    p[:, IMAGENET_DOGS.start : IMAGENET_DOGS.stop].sum(1)
    > p[:, IMAGENET_CATS.start : IMAGENET_CATS.stop].sum(1)
).long()
rule_160 = imagenet_rule(train_features[subset])
truth = train_labels[subset]
print(
    f"{len(subset)} validation photos, no-training rule: "
    f"{(rule_160 == truth).float().mean():.1%} at 160 px, "
    f"{(rule_224 == truth).float().mean():.1%} at 224 px "
    f"(one photo is {1 / len(subset):.1%} of the subset)"
)
print(f"photos where the two sizes disagree: {int((rule_160 != rule_224).sum())}")

# %%
# Next, [Day 18](day18_early_stopping.ipynb) turns the "keep the best epoch on
# validation" rule of this lesson's training function into early stopping:
# stop when the validation loss stops improving, and keep the best weights.
