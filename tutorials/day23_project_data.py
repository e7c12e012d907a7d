"""
# Day 23 · Project ideas and data preparation (小專題構想與資料集準備)

The last two days of the course are a small project of your own making, and
most of a project's success is decided before the first model trains: which
question, which data, which measure of success, which baseline, how much
time. In this lesson you scope two projects, an image classifier for cats vs
dogs and a sentiment classifier for film reviews (SST-2), and prepare both
datasets the way a careful practitioner does: look at the data (sizes,
shapes, class balance, lengths, samples), fix a seeded validation split,
choose the transforms for training and for evaluation, turn sentences into
tokens and tokens into numbers with a vocabulary built from the training
sentences only, and write the `collate_fn` that pads each batch. The text
code you write goes into `course.text`, which [Day 24](day24_project.ipynb)
imports to train the models.

**You will learn:** choosing and scoping a small project · image sizes,
aspect ratios and class balance · a seeded, stratified train/validation
split · why training and evaluation transforms differ · timing a
`DataLoader` with worker processes · tokenising text with one regular
expression (and why not torchtext) · a vocabulary with a minimum frequency,
`<pad>` and `<unk>`, built from the training split only · how much of the
validation text it covers · numericalisation · a `collate_fn` that pads each
batch to its longest sentence, and packing

**Before you start:** [Day 5](day05_data_loading.ipynb) (`Dataset`,
`DataLoader`, `collate_fn`, workers) · [Day 12](day12_regularisation.ipynb)
(augmentation) · [Day 17](day17_transfer_learning.ipynb) (cats vs dogs and a
pretrained backbone) · the previous day is
[Day 22](day22_lightning.ipynb) · **Reading time:** about 2 hours
"""

# %%
# ## 1. Set-up
#
# Nothing is trained today, so the lesson is quick to run; it measures its
# own run time anyway, because how long data loading takes is one of the
# things we want to know.

import time

lesson_start = time.perf_counter()

import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from PIL import Image
from torch.nn.utils.rnn import (
    pack_padded_sequence,
    pad_packed_sequence,
    pad_sequence,
)
from torch.utils.data import DataLoader, Subset
from torchvision.transforms import v2

import course
from course.data.cats_vs_dogs import load_cats_vs_dogs
from course.data.sst2 import load_sst2
from course.report import headline

course.seed_everything(0)
print(f"profile: {course.PROFILE}, torch {torch.__version__}")

# %%
# ## 2. Choosing and scoping a small project
#
# A good first project is small enough to finish and honest enough to
# learn from. Before touching any data, write down five things:
#
# 1. **The question**, in one sentence a user would understand: "is this
#    photo a cat or a dog?", "is this review positive or negative?".
# 2. **The data**, and whether you may use it: its size, its licence, how
#    it was labelled, whether there is a test set nobody has looked at.
# 3. **The measure of success**, fixed in advance: accuracy is fine for
#    balanced classes; for rare classes it is not (Day 21's precision and
#    recall).
# 4. **A baseline** that any model must beat: always answering the larger
#    class, a rule, the simplest model that could work. A number without a
#    baseline says nothing.
# 5. **A budget**: how much time and compute you have. On a laptop CPU a
#    project that needs a day of training per try will not be finished; one
#    whose every try takes a minute will be.
#
# Then cut the scope until it fits the budget: a pretrained backbone
# instead of training from scratch (Day 17), a small dataset first, one
# change at a time. Keep a list of "next steps" for what you cut; that
# list is part of the result.
#
# Our two projects, on two kinds of data:
#
# | | Cats vs dogs | SST-2 sentiment |
# | --- | --- | --- |
# | question | cat or dog in this photo? | is this film review positive? |
# | input | a colour photo of any size | one sentence |
# | model plan | Day 17's backbone, new head, augmentation | three text models, from scratch |
# | measure | accuracy (classes balanced: checked below) | accuracy (checked below) |
# | baseline | the larger class; ImageNet's own classes (Day 17) | the larger class |
# | budget | minutes on 2 CPU cores | minutes on 2 CPU cores |
#
# The rest of this lesson checks the claims in that table against the data
# and prepares everything Day 24 needs. Section 15 prints the two project
# cards again, filled in with the numbers this run measured.
#
# ## 3. Cats vs dogs: the photos
#
# `load_cats_vs_dogs` returns a torchvision `ImageFolder`: one folder per
# class, the folder name is the label. Without a transform, an item is a
# PIL image and its label.

photos = {
    split: load_cats_vs_dogs(split, limit=course.pick(full=None, smoke=40))
    for split in ("train", "test")
}
CLASSES = photos["train"].classes
for split, dataset in photos.items():
    counts = Counter(dataset.targets)
    per_class = ", ".join(
        f"{counts[c]:,} {name}s" for c, name in enumerate(CLASSES)
    )
    print(f"{split:>5s}: {len(dataset):,} photos ({per_class})")

# %%
# There is no validation split: we will cut one from the training photos
# in section 6. First, what do the photos look like?
#
# ## 4. Sizes and aspect ratios
#
# A CNN takes a fixed size, so every photo will be resized and cropped. How
# much that changes a photo depends on its size and shape. `Image.open`
# reads only a JPEG's header until the pixels are asked for, so the sizes
# of all photos cost very little:


def photo_sizes(dataset) -> torch.Tensor:
    """(width, height) of every photo of an ImageFolder, read from the headers."""
    sizes = []
    for path, _ in dataset.samples:
        with Image.open(path) as image:
            sizes.append(image.size)
    return torch.tensor(sizes)


start = time.perf_counter()
sizes = torch.cat([photo_sizes(photos[split]) for split in ("train", "test")])
print(f"sizes of {len(sizes):,} photos read in {time.perf_counter() - start:.2f} s")
width, height = sizes[:, 0].float(), sizes[:, 1].float()
short_side = sizes.min(dim=1).values
aspect = width / height
print(
    f"width:  {int(width.min())}-{int(width.max())} px, median {width.median():.0f}"
)
print(
    f"height: {int(height.min())}-{int(height.max())} px, median {height.median():.0f}"
)
print(
    f"shorter side: {int(short_side.min())}-{int(short_side.max())} px; "
    f"exactly {int(short_side.mode().values)} px for "
    f"{(short_side == short_side.mode().values).float().mean():.1%} of the photos"
)
print(
    f"aspect ratio (width / height): {aspect.min():.2f}-{aspect.max():.2f}; "
    f"landscape {(aspect > 1.05).float().mean():.0%}, "
    f"portrait {(aspect < 0.95).float().mean():.0%}, "
    f"about square {((aspect >= 0.95) & (aspect <= 1.05)).float().mean():.0%}"
)

# %%
# The figure shows the two distributions. The spike in the left panel is
# how this copy of the dataset was prepared (every photo resized so that
# its shorter side is at most 224 pixels); the photos below it were smaller
# to begin with, and will be enlarged, and blurred, by the resize.

fig, (ax_size, ax_aspect) = plt.subplots(1, 2, figsize=(12, 4))
ax_size.hist(short_side.numpy(), bins=40, color="tab:blue")
ax_size.set_xlabel("shorter side (pixels)")
ax_size.set_ylabel("photos")
ax_size.set_title("Shorter side of each photo")
ax_size.set_yscale("log")
aspect_bins = torch.logspace(aspect.min().log10(), aspect.max().log10(), 41)
ax_aspect.hist(aspect.numpy(), bins=aspect_bins.numpy(), color="tab:orange")
ax_aspect.set_xscale("log")
ax_aspect.axvline(1.0, color="grey", linestyle=":", label="square")
ax_aspect.set_xlabel("aspect ratio (width / height, log scale)")
ax_aspect.set_ylabel("photos")
ax_aspect.set_title("Aspect ratio of each photo")
ax_aspect.legend()
fig.suptitle(f"Cats vs dogs: {len(sizes):,} photos (train and test)")
fig.tight_layout()
plt.show()

image_size = 160  # what the network will see: 160×160 pixels, as in Day 17
small = (short_side < image_size).float().mean()
print(
    f"photos whose shorter side is below {image_size} px (they will be enlarged): "
    f"{small:.1%}"
)

# %%
# ## 5. A sample grid
#
# Numbers describe the photos; looking at them tells you what the numbers
# cannot: what else is in the picture (hands, cages, fences, furniture),
# how much of it the animal fills, its pose, the light. Eight random
# training photos of each class, each with its size:

generator = torch.Generator().manual_seed(0)
train_targets = torch.tensor(photos["train"].targets)
per_row = 8
fig, axes = plt.subplots(2, per_row, figsize=(15, 4.4))
for row, (c, name) in zip(axes, enumerate(CLASSES), strict=True):
    members = (train_targets == c).nonzero().flatten()
    chosen = members[torch.randperm(len(members), generator=generator)[:per_row]]
    for ax, i in zip(row, chosen.tolist(), strict=False):
        image, _ = photos["train"][i]
        ax.imshow(image)
        ax.set_title(f"{name}, {image.size[0]}×{image.size[1]}", fontsize=9)
    for ax in row:
        ax.set_xticks([])
        ax.set_yticks([])
fig.suptitle("Random training photos, as stored (width × height in pixels)")
fig.tight_layout()
plt.show()

# %%
# ## 6. A seeded, stratified train/validation split
#
# Every choice in Day 24 (which augmentation, how many epochs, which model)
# is made on a **validation set**; the test photos are used once, at the
# end. We hold out a fifth of the training photos. A plain random fifth has
# *about* the training set's class shares; a **stratified** split takes the
# same fraction *of each class*, so both parts keep the class shares
# exactly (up to rounding). With a fixed seed the split is the same in
# every run, and Day 24 can rebuild it instead of reading a file.


def stratified_split(
    labels: Sequence[int], val_fraction: float, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices ``(train, validation)``, sorted: ``val_fraction`` of each class,
    chosen at random with ``seed``, goes to validation, so both parts keep the
    class proportions.

    Defined in Day 23.
    """
    if not 0 < val_fraction < 1:
        raise ValueError(
            f"val_fraction must be between 0 and 1, not {val_fraction}"
        )
    labels = torch.as_tensor(labels)
    generator = torch.Generator().manual_seed(seed)
    train, val = [], []
    for c in labels.unique().tolist():
        members = (labels == c).nonzero().flatten()
        members = members[torch.randperm(len(members), generator=generator)]
        n_val = round(len(members) * val_fraction)
        val.append(members[:n_val])
        train.append(members[n_val:])
    return torch.cat(train).sort().values, torch.cat(val).sort().values


val_fraction, split_seed = 0.2, 0
fit_idx, val_idx = stratified_split(train_targets, val_fraction, split_seed)
for name, idx in [("fit", fit_idx), ("validation", val_idx)]:
    counts = torch.bincount(train_targets[idx], minlength=2).tolist()
    print(f"{name:>10s}: {len(idx):,} photos ({counts[0]} cats, {counts[1]} dogs)")
assert set(fit_idx.tolist()).isdisjoint(val_idx.tolist())
again = stratified_split(train_targets, val_fraction, split_seed)[1]
print("same seed, same validation photos:", torch.equal(again, val_idx))

# %%
# How far can a plain random split drift? Ten random fifths of the same
# photos, each with its own seed, and the share of dogs in each:

dog_shares = []
for seed in range(10):
    order = torch.randperm(
        len(train_targets), generator=torch.Generator().manual_seed(seed)
    )
    dog_shares.append(train_targets[order[: len(val_idx)]].float().mean().item())
print(
    f"share of dogs in 10 random validation sets: {min(dog_shares):.1%} to "
    f"{max(dog_shares):.1%}; stratified: {train_targets[val_idx].float().mean():.1%}"
)

# %%
# With two balanced classes the drift is small, and it would not ruin an
# experiment; with rare classes a random split can leave a class almost
# out of the validation set. Stratifying costs nothing, so it is the habit
# to keep.
#
# ## 7. Transforms: one for training, one for evaluation
#
# The photos must become tensors of one size. We use two pipelines, and the
# difference between them is the point of this section:
#
# - **Evaluation**: resize the shorter side to 182 pixels, cut out the
#   central 160×160 square, convert to a tensor. The same
#   photo always gives the same tensor, so a validation or test accuracy is
#   a fixed number, and the model sees photos prepared exactly as it will
#   in use. (182 = 160 × 8/7, the same margin as ImageNet's 256 → 224.)
# - **Training**: `RandomResizedCrop` cuts a random piece (here 35 % to all
#   of the photo's area, with a random aspect ratio near 1) and scales it to
#   160×160; `RandomHorizontalFlip` mirrors half of the photos;
#   `ColorJitter` changes brightness, contrast and saturation a little. Each
#   epoch then shows the network a different version of every photo (Day
#   12's **augmentation**), so it cannot memorise the pixels of its
#   training photos, and it learns that a cat is a cat when zoomed,
#   shifted, mirrored or in dimmer light. None of these changes the label:
#   a mirrored dog is a dog.
#
# Why not augment at evaluation too? Randomness there would make every
# measurement noisy, and the average over many random crops is a different
# (slower) predictor, test-time augmentation, to be chosen on purpose.
#
# Both pipelines stop at a `uint8` tensor (`ToImage`: channels first,
# values 0-255), as Days 14 and 17 kept their photos: a quarter of the
# memory of floats. The conversion to floats and the normalisation belong
# to the network's side and run once per *batch*, one operation for many
# photos: Day 17's backbone brings its own normalisation
# (`backbone.normalize`), and the two backbones it may load expect
# different means and standard deviations.

resize_to = image_size * 8 // 7
eval_transform = v2.Compose(
    [
        v2.Resize(resize_to),
        v2.CenterCrop(image_size),
        v2.ToImage(),
    ]
)
train_transform = v2.Compose(
    [
        v2.RandomResizedCrop(image_size, scale=(0.35, 1.0)),
        v2.RandomHorizontalFlip(),
        v2.ColorJitter(brightness=0.2, contrast=0.2, saturation=0.2),
        v2.ToImage(),
    ]
)
print("evaluation:", eval_transform)

# %%
# One photo through each pipeline: the evaluation transform gives the same
# picture every time; the training transform a new one every time. The
# widest photo in the training set shows what a centre crop costs: the
# sides of a wide photo are cut away.

widest = int(
    (width[: len(photos["train"])] / height[: len(photos["train"])]).argmax()
)
typical = int(val_idx[0])
torch.manual_seed(0)
fig, axes = plt.subplots(2, 6, figsize=(14, 6))
for row, i in zip(axes, (typical, widest), strict=True):
    image, label = photos["train"][i]
    row[0].imshow(image)
    row[0].set_title(f"stored: {image.size[0]}×{image.size[1]}", fontsize=9)
    row[1].imshow(eval_transform(image).permute(1, 2, 0))
    row[1].set_title("evaluation", fontsize=9)
    for k, ax in enumerate(row[2:], start=1):
        ax.imshow(train_transform(image).permute(1, 2, 0))
        ax.set_title(f"training #{k}", fontsize=9)
    row[0].set_ylabel(f"a {CLASSES[label]}", fontsize=10)
    for ax in row:
        ax.set_xticks([])
        ax.set_yticks([])
fig.suptitle(
    f"The photo as stored, the evaluation view and four training views "
    f"({image_size}×{image_size} pixels)"
)
fig.tight_layout()
plt.show()

# %%
# ## 8. A `DataLoader` with workers, timed
#
# Decoding a JPEG and transforming it takes milliseconds, and in every epoch
# of training each photo is decoded and transformed again (the random
# transform must give a new version each time). That work can run in
# **worker processes** while the model trains (Day 5). Here the dataset is
# the training photos with the training transform, restricted to the fit
# indices with `Subset`. Everything in it (torchvision's `ImageFolder`, the
# v2 transforms, `Subset`) lives in an importable module, which is what
# workers need when they are started with *spawn* (Windows, macOS, and a
# notebook there; see Day 5 for the `__main__` guard in scripts).
#
# We time a fixed number of batches with no worker and with two (the
# machine that builds this page has the number of cores printed below).
# The same seed gives both runs the same photos in the same order, every
# file is read once beforehand, so that neither run pays for the first
# read from disk, and each setting is timed three times, keeping the
# fastest pass: a timing's noise comes from other work on the machine, and
# only ever adds time.

fit_photos = Subset(
    load_cats_vs_dogs(
        "train", transform=train_transform, limit=course.pick(full=None, smoke=40)
    ),
    fit_idx.tolist(),
)
for i in fit_idx.tolist():  # read each file once: both runs find them in memory
    Path(photos["train"].samples[i][0]).read_bytes()
print(f"CPU cores: {os.cpu_count()}")
batch_size = course.pick(full=32, smoke=8)
n_batches = course.pick(full=20, smoke=2)


def time_batches(loader: DataLoader, n: int) -> float:
    """Seconds to get the first ``n`` batches of a fresh pass (start-up included)."""
    start = time.perf_counter()
    batches = iter(loader)
    for _ in range(n):
        images, labels = next(batches)
    return time.perf_counter() - start


loader_seconds = {}
for workers in (0, 2):
    loader = DataLoader(
        fit_photos,
        batch_size=batch_size,
        shuffle=True,
        num_workers=workers,
        generator=torch.Generator().manual_seed(0),
    )
    runs = [time_batches(loader, n_batches) for _ in range(3)]
    loader_seconds[workers] = min(runs)
    rate = n_batches * batch_size / loader_seconds[workers]
    print(
        f"num_workers={workers}: {n_batches} batches of {batch_size} in "
        f"{loader_seconds[workers]:.2f} s ({rate:.0f} photos/s; fastest of "
        f"{len(runs)} passes, start-up included)"
    )
images, labels = next(iter(loader))
print(
    f"one batch: {tuple(images.shape)} {images.dtype}, labels {labels.tolist()[:8]}..."
)
print(f"speed-up with 2 workers: {loader_seconds[0] / loader_seconds[2]:.2f}×")

# %%
# The speed-up printed above is what two workers buy on this machine, with
# the cost of starting the workers included (`persistent_workers=True`
# pays it once instead of every epoch); on a short run the start-up can
# cost more than the workers save. With two cores, two workers should at
# best about halve the time of work that keeps a core busy. A machine that
# other programs keep busy can show more than that: the main process runs
# tensor operations such as the collate function's `torch.stack` on
# PyTorch's pool of threads, which must wait for each other when the cores
# are taken, while each worker runs with a single thread (the `DataLoader`
# sets `torch.set_num_threads(1)` in its workers). And when the model
# trains at the same time, it competes with the workers for the same
# cores. Day 24 therefore takes another route for the frozen backbone:
# decode and transform each photo a fixed number of times, run the
# backbone once over all of those versions, and keep the results.
#
# ## 9. SST-2: the sentences
#
# The Stanford Sentiment Treebank's binary version (SST-2): single
# sentences from film reviews, each labelled positive (1) or negative (0).
# Its official splits are *train*, *dev* and *test*. In the GLUE benchmark
# the test labels are kept secret (you submit predictions to a server), but
# this copy has the original treebank's labels for every test sentence; the
# loader refuses any line without a label 0 or 1, so the counts below are
# counts of labelled sentences. That gives us three labelled sets: we train
# on *train*, make every choice on *dev* (our validation set) and touch
# *test* once, at the end of Day 24.

limit = course.pick(full=None, smoke=200)
sst = {split: load_sst2(split, limit=limit) for split in ("train", "dev", "test")}
for split, dataset in sst.items():
    positive = sum(dataset.labels)
    print(
        f"{split:>5s}: {len(dataset):,} labelled sentences, "
        f"{positive / len(dataset):.1%} positive"
    )
for sentence, label in [sst["train"][i] for i in range(4)]:
    print(f"  {sst['train'].classes[label]:>8s}: {sentence}")

# %%
# The classes are close to balanced, so accuracy is a fair measure, and the
# **majority-class baseline** (always answering the larger class of the
# training set) is the number any model must beat:

majority = int(sum(sst["train"].labels) * 2 >= len(sst["train"]))
baseline = {
    split: sum(label == majority for label in sst[split].labels) / len(sst[split])
    for split in ("dev", "test")
}
print(
    f"always '{sst['train'].classes[majority]}': dev accuracy {baseline['dev']:.1%}, "
    f"test accuracy {baseline['test']:.1%}"
)

# %%
# Both datasets side by side, class shares per split:

fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), sharey=True)
for ax, (title, splits, names) in zip(
    axes,
    [
        ("Cats vs dogs", {s: photos[s].targets for s in photos}, CLASSES),
        ("SST-2", {s: sst[s].labels for s in sst}, sst["train"].classes),
    ],
    strict=True,
):
    for k, labels in enumerate(splits.values()):
        share = sum(labels) / len(labels)  # class 1: dog / positive
        ax.bar(
            k,
            100 * (1 - share),
            color="tab:blue",
            label=names[0] if k == 0 else None,
        )
        ax.bar(
            k,
            100 * share,
            bottom=100 * (1 - share),
            color="tab:orange",
            label=names[1] if k == 0 else None,
        )
        ax.text(k, 50, f"{len(labels):,}", ha="center", color="white")
    ax.axhline(50, color="grey", linestyle=":", linewidth=1)
    ax.set_xticks(range(len(splits)), list(splits))
    ax.set_title(f"{title}: class shares (count in white)")
    ax.legend(loc="lower right")
axes[0].set_ylabel("share of the split (%)")
fig.tight_layout()
plt.show()

# %%
# ## 10. Tokenisation
#
# A model cannot read a string; it reads numbers. The first step is to cut
# the text into **tokens**, here words and punctuation. SST-2's files are
# already tokenised, in the Penn Treebank's style: lower case, tokens
# separated by spaces, `doesn't` written `does n't`, `it's` written
# `it 's`, brackets as `-lrb-` and `-rrb-`. Splitting on spaces would do for
# the files, but in Day 24 you will type your own sentences, and those must
# be cut the same way, or "doesn't" becomes a word the model has never seen.
#
# **Why not torchtext?** Older tutorials use `torchtext` for all of this
# (`get_tokenizer("basic_english")`, `build_vocab_from_iterator`).
# torchtext's development stopped with its 0.18 release (April 2024), built
# for torch 2.3; its compiled parts are not released for newer versions of
# torch, so it cannot be installed beside the torch this course uses. What
# we need from it is a few lines of plain Python, written below. For
# subword tokenisation (what Transformers like BERT use) the maintained
# library is Hugging Face's `tokenizers`; for whole words and a few
# thousand sentences, a regular expression is enough.
#
# The expression, one alternative per line, tried in order at each
# position (`re.VERBOSE` lets it carry comments):


def tokenize(text: str) -> list[str]:
    """Lower-cased tokens of ``text``, split as SST-2's files are (Penn Treebank style).

    Defined in Day 23.
    """
    return re.findall(
        r"""
          \w+(?=n't)        # "does" of "doesn't": SST-2 writes "does n't"
        | n't               # the negation, a token of its own
        | '\w+              # clitics: 's 're 've 'll 'd 'm
        | \w+(?:-\w+)*      # words and numbers; hyphenated words stay whole
        | -lrb- | -rrb-     # brackets, as SST-2 writes them
        | \.\.\. | -- | `` | ''
        | [^\w\s]           # any other symbol on its own: . , ! ? ( ) "
        """,
        text.lower(),
        flags=re.VERBOSE,
    )


for typed in [
    "Not bad at all!",
    "I didn't like it, and it's too long...",
    "A coming-of-age story (sort of) -- can't miss.",
]:
    print(f"{typed!r:50s} -> {tokenize(typed)}")

# %%
# Does `tokenize` cut the dataset's own text the way the dataset did? On
# text that is already tokenised it should return exactly the
# space-separated tokens:

train_sentences = sst["train"].sentences
agree = [tokenize(s) == s.split() for s in train_sentences]
print(
    f"training sentences where tokenize(s) == s.split(): "
    f"{sum(agree):,} of {len(agree):,} ({sum(agree) / len(agree):.1%})"
)
differences = Counter(
    token
    for s, same in zip(train_sentences, agree, strict=True)
    if not same
    for token in set(s.split()) - set(tokenize(s))
)
print("dataset tokens it cuts differently, most frequent first:")
print(" ", ", ".join(f"{t} ({n})" for t, n in differences.most_common(8)))

# %%
# The few disagreements are abbreviations (`mr.` becomes `mr` and `.`),
# slashes the treebank escaped (`\/`) and the like: rare, and harmless,
# since training and typed sentences go through the same function.
#
# ## 11. How long are the sentences?
#
# Sentence length decides how much padding a batch carries, how long an LSTM
# runs, and how many positions a Transformer must know.

tokens = {split: [tokenize(s) for s in sst[split].sentences] for split in sst}
lengths = {split: torch.tensor([len(t) for t in tokens[split]]) for split in sst}
train_lengths = lengths["train"].float()
print(
    f"train: mean {train_lengths.mean():.1f} tokens, median "
    f"{train_lengths.median():.0f}, 95th percentile "
    f"{train_lengths.quantile(0.95):.0f}, longest {int(train_lengths.max())}"
)
longest = int(max(length.max() for length in lengths.values()))
print(f"longest sentence of all three splits: {longest} tokens")

fig, ax = plt.subplots(figsize=(8, 4))
train_labels = torch.tensor(sst["train"].labels)
for c, name in enumerate(sst["train"].classes):
    ax.hist(
        lengths["train"][train_labels == c].numpy(),
        bins=range(0, longest + 2, 2),
        alpha=0.6,
        label=name,
    )
ax.set_xlabel("sentence length (tokens)")
ax.set_ylabel("training sentences")
ax.set_title("SST-2 training sentences: length by class")
ax.legend()
plt.show()
for c, name in enumerate(sst["train"].classes):
    mean_length = lengths["train"][train_labels == c].float().mean()
    print(f"mean length of the {name} sentences: {mean_length:.1f} tokens")

# %%
# The two classes have about the same lengths (the means above), so length
# alone will not give the answer away. Few sentences are very long, so
# padding every batch to the longest sentence *of the dataset* would waste
# much of the work; section 14 measures how much, and pads each batch only
# to its own longest sentence.
#
# ## 12. A vocabulary from the training split only
#
# A **vocabulary** maps each token to an integer id (and back). Two ids are
# reserved: `<pad>` (0) fills the end of short sentences in a batch, and
# `<unk>` (1) stands for every token the vocabulary does not know. Which
# tokens get an id is decided from the **training sentences only**:
#
# - validation and test sentences stand for text the model has never seen;
#   their new words are exactly what `<unk>` is for, and how often it is
#   needed (the **coverage**, below) is only measured honestly if the
#   vocabulary has not seen them;
# - a word that appears only in test sentences would get an embedding that
#   no training step ever updates: a random vector, worse than `<unk>`.
#
# A **minimum frequency** drops rare tokens. A word seen once teaches its
# embedding from a single sentence; with `min_freq=2`, such words become
# `<unk>` in the training sentences too, so the model also learns what an
# unknown word in a sentence looks like (with `min_freq=1`, `<unk>` never
# occurs in training, and its embedding stays as initialised). The tokens
# are numbered by falling frequency, ties alphabetically, so the same
# sentences always give the same ids.

counts = Counter(token for sentence in tokens["train"] for token in sentence)
print(
    f"{sum(counts.values()):,} tokens in the training sentences, {len(counts):,} distinct"
)
print(
    "most frequent:", ", ".join(f"{t} ({n:,})" for t, n in counts.most_common(12))
)
once = sum(n == 1 for n in counts.values())
print(
    f"tokens seen exactly once: {once:,} ({once / len(counts):.0%} of the distinct)"
)

# %%
# The class, with the constants for the two special tokens:

PAD, UNK = "<pad>", "<unk>"  # ids 0 and 1 in every Vocabulary


class Vocabulary:
    """Token <-> id. Ids 0 and 1 are ``<pad>`` and ``<unk>``; the other tokens follow by
    falling frequency (ties alphabetically), so the same sentences give the same ids.

    Build it with :meth:`build` from the training sentences only. Defined in Day 23.
    """

    pad_id, unk_id = 0, 1

    def __init__(self, tokens: Sequence[str]) -> None:
        self.itos = [PAD, UNK, *tokens]
        self.stoi = {token: i for i, token in enumerate(self.itos)}
        if len(self.stoi) != len(self.itos):
            raise ValueError(
                "a vocabulary lists each token once, <pad> and <unk> included"
            )

    @classmethod
    def build(
        cls, sentences: Iterable[Sequence[str]], min_freq: int = 1
    ) -> "Vocabulary":
        """The tokens seen at least ``min_freq`` times in ``sentences``."""
        if min_freq < 1:
            raise ValueError(f"min_freq must be at least 1, not {min_freq}")
        counts = Counter(token for sentence in sentences for token in sentence)
        counts.pop(PAD, None)
        counts.pop(UNK, None)
        kept = [token for token, n in counts.items() if n >= min_freq]
        return cls(sorted(kept, key=lambda token: (-counts[token], token)))

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, tokens: Sequence[str]) -> list[int]:
        """Ids of ``tokens``; a token not in the vocabulary becomes ``<unk>`` (1)."""
        return [self.stoi.get(token, self.unk_id) for token in tokens]

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Tokens of ``ids`` (a list or a 1-D tensor), ``<pad>`` included."""
        return [self.itos[int(i)] for i in ids]

    def coverage(self, sentences: Iterable[Sequence[str]]) -> float:
        """The share of the tokens of ``sentences`` that are not ``<unk>``."""
        total = known = 0
        for sentence in sentences:
            total += len(sentence)
            known += sum(token in self.stoi for token in sentence)
        return known / total if total else 0.0


# %%
# How big is the vocabulary, and how much of the validation text does it
# cover, for a few minimum frequencies? The coverage counts running tokens
# (every occurrence), which is what a model meets.

print(
    f"{'min_freq':>8s} {'size':>7s} {'dev coverage':>13s} {'train <unk> share':>18s}"
)
for min_freq in (1, 2, 3, 5):
    candidate = Vocabulary.build(tokens["train"], min_freq=min_freq)
    print(
        f"{min_freq:8d} {len(candidate):7,d} {candidate.coverage(tokens['dev']):13.1%} "
        f"{1 - candidate.coverage(tokens['train']):18.1%}"
    )

# %%
# Raising the minimum frequency shrinks the vocabulary fast (most distinct
# tokens are rare) and costs only a few points of coverage, because rare
# tokens are rare. We keep `min_freq = 2` for the project: a much smaller
# embedding table than with `min_freq = 1` for the coverage lost in the
# table above, and a `<unk>` embedding that training actually updates.

min_freq = 2
vocab = Vocabulary.build(tokens["train"], min_freq=min_freq)
dev_coverage = vocab.coverage(tokens["dev"])
print(
    f"vocabulary: {len(vocab):,} tokens ({vocab.itos[:6]}...), "
    f"dev coverage {dev_coverage:.1%}"
)
unseen = Counter(t for s in tokens["dev"] for t in s if t not in vocab.stoi)
print(
    "most frequent dev tokens it does not know:",
    ", ".join(t for t, _ in unseen.most_common(10)),
)

# %%
# ## 13. Numericalisation
#
# With the vocabulary, each sentence becomes a tensor of ids, and the
# dataset a list of `(ids, label)` pairs. A Python list is a valid map-style
# dataset: it has `__len__` and `__getitem__`.


def encode_dataset(
    pairs: Iterable[tuple[str, int]], vocab: Vocabulary
) -> list[tuple[torch.Tensor, int]]:
    """``(sentence, label)`` pairs -> ``(int64 ids, label)`` pairs: a map-style dataset.

    Defined in Day 23.
    """
    return [
        (torch.tensor(vocab.encode(tokenize(sentence)), dtype=torch.long), label)
        for sentence, label in pairs
    ]


encoded = {split: encode_dataset(sst[split], vocab) for split in sst}
first = next(i for i, (ids, _) in enumerate(encoded["dev"]) if vocab.unk_id in ids)
ids, label = encoded["dev"][first]
print("sentence:", sst["dev"].sentences[first])
print("ids:     ", ids.tolist())
print("decoded: ", " ".join(vocab.decode(ids)))
print("label:   ", label)

# %%
# This is the first dev sentence with a token the vocabulary does not know:
# the decoded version shows `<unk>` (id 1) where the sentence has a token
# seen fewer than twice in the training sentences.
#
# ## 14. A `collate_fn` that pads each batch
#
# Sentences have different lengths, and a batch must be one rectangular
# tensor. Day 5 wrote a padding `collate_fn`; here is the version the
# project uses. It pads each batch to **its own** longest sentence (with
# id 0, `<pad>`), and returns the true lengths: the LSTM of Day 24 needs
# them to skip the padding, and the Transformer to mask it.
# `pad_sequence` does the padding. A sentence with no token at all cannot
# be packed (below), so `pad_batch` refuses it with a clear message.


def pad_batch(
    sequences: Sequence[torch.Tensor], pad_id: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(padded, lengths)``: a batch × longest tensor, ``pad_id`` after each
    sequence, and the lengths (int64, on the CPU, as packing wants them).

    Defined in Day 23.
    """
    lengths = torch.tensor([len(s) for s in sequences], dtype=torch.long)
    if len(sequences) == 0 or lengths.min() == 0:
        raise ValueError(
            "every sequence needs at least one token: an empty one cannot be packed "
            "(encode an empty sentence as [<unk>] or drop it)"
        )
    return pad_sequence(
        list(sequences), batch_first=True, padding_value=pad_id
    ), lengths


def collate(
    batch: Sequence[tuple[torch.Tensor, int]],
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A ``collate_fn``: ``(ids, label)`` pairs -> ``(padded ids, lengths,
    labels)``, padded to the batch's own longest sentence, in the order it came.

    Defined in Day 23.
    """
    sequences, labels = zip(*batch, strict=True)
    padded, lengths = pad_batch(sequences)
    return padded, lengths, torch.tensor(labels, dtype=torch.long)


text_loader = DataLoader(
    encoded["train"],
    batch_size=4,
    shuffle=True,
    collate_fn=collate,
    generator=torch.Generator().manual_seed(0),
)
padded, batch_lengths, batch_labels = next(iter(text_loader))
print("padded ids:\n", padded)
print("lengths:", batch_lengths.tolist(), " labels:", batch_labels.tolist())

# %%
# An empty sentence, the mistake a typed input can make:

try:
    collate([(torch.tensor(vocab.encode(tokenize("  "))), 1)])
except ValueError as err:
    print("Expected error (a sentence with no tokens):", err)

# %%
# How much of a batch is padding? Over one shuffled epoch at the batch size
# Day 24 uses, compared with padding everything to the longest sentence of
# the dataset:

project_batch = 32
loader = DataLoader(
    encoded["train"],
    batch_size=project_batch,
    shuffle=True,
    collate_fn=collate,
    generator=torch.Generator().manual_seed(0),
)
cells = real = 0
for padded, batch_lengths, _ in loader:
    cells += padded.numel()
    real += int(batch_lengths.sum())
whole = len(encoded["train"]) * longest
print(
    f"padding per batch: {1 - real / cells:.0%} of the cells; "
    f"padding to the dataset's longest sentence: {1 - real / whole:.0%}"
)

# %%
# The padding is not free: an LSTM would run over it and a Transformer
# would attend to it. `pack_padded_sequence` tells a recurrent layer each
# sentence's length, so that it stops at the last real token;
# `enforce_sorted=False` lets the batch come in any order (PyTorch sorts it
# inside and restores the order). A round trip through packing gives back
# exactly the padded batch and its lengths, while the packed data holds
# only the real tokens:

padded, batch_lengths, _ = next(iter(text_loader))
as_features = padded.unsqueeze(-1).float()  # (batch, time, 1 feature)
packed = pack_padded_sequence(
    as_features, batch_lengths, batch_first=True, enforce_sorted=False
)
unpacked, unpacked_lengths = pad_packed_sequence(packed, batch_first=True)
print(
    f"padded {tuple(padded.shape)} -> packed data {tuple(packed.data.shape)} "
    f"(= {int(batch_lengths.sum())} real tokens)"
)
print(
    "round trip equal:",
    torch.equal(unpacked, as_features)
    and torch.equal(unpacked_lengths, batch_lengths),
)

# %%
# These functions are now in the course package, `course.text`, with tests
# (`tests/course/test_text.py`) that check they are the same code as the
# cells above. [Day 24](day24_project.ipynb) imports them:
#
# ```python
# from course.text import Vocabulary, collate, encode_dataset, tokenize
# from course.text import stratified_split
# ```
#
# ## 15. What is saved for Day 24
#
# Day 24 must also run on its own (on Colab, say, without this notebook's
# files), and everything prepared here is *deterministic*: the same seed
# gives the same photo split, the same sentences give the same vocabulary.
# So Day 24 rebuilds them with `course.text` in a second. We still save
# them, as a project would, to document exactly what was used and to let a
# later run check that nothing changed: the split's file names, the
# vocabulary's tokens and the settings, as JSON in the working folder.

out = Path("project_data")
out.mkdir(exist_ok=True)
split_files = {
    name: [Path(photos["train"].samples[i][0]).name for i in idx.tolist()]
    for name, idx in (("fit", fit_idx), ("validation", val_idx))
}
(out / "cats_vs_dogs_split.json").write_text(json.dumps(split_files))
(out / "sst2_vocabulary.json").write_text(json.dumps(vocab.itos))
settings = {
    "image_size": image_size,
    "resize_to": resize_to,
    "val_fraction": val_fraction,
    "split_seed": split_seed,
    "min_freq": min_freq,
    "profile": course.PROFILE,
}
(out / "settings.json").write_text(json.dumps(settings, indent=1))
for path in sorted(out.iterdir()):
    print(f"{path.as_posix():36s} {path.stat().st_size:>9,} bytes")

# %%
# Reading them back is two lines, and the check Day 24 could make is one:

itos = json.loads((out / "sst2_vocabulary.json").read_text())
print(
    "saved vocabulary == rebuilt vocabulary:",
    itos
    == Vocabulary.build(
        tokens["train"],
        min_freq=json.loads((out / "settings.json").read_text())["min_freq"],
    ).itos,
)

# %%
# The two project cards, with this run's numbers:

photo_majority = torch.bincount(train_targets[val_idx]).max().item() / len(val_idx)
cards = {
    "Cats vs dogs": [
        (
            "data",
            f"{len(photos['train']):,} train photos, {len(photos['test']):,} test",
        ),
        (
            "split",
            f"fit {len(fit_idx):,} / validation {len(val_idx):,}, stratified",
        ),
        (
            "input",
            f"{image_size}×{image_size} px; random crops, flips, colour in training",
        ),
        ("baseline", f"the larger class: {photo_majority:.1%} of validation"),
        ("measure", "accuracy on validation to choose, on test once"),
    ],
    "SST-2 sentiment": [
        (
            "data",
            f"{len(sst['train']):,} train, {len(sst['dev']):,} dev, "
            f"{len(sst['test']):,} test sentences",
        ),
        (
            "vocabulary",
            f"{len(vocab):,} tokens (min_freq {min_freq}), dev coverage "
            f"{dev_coverage:.1%}",
        ),
        ("input", f"up to {longest} tokens, padded per batch"),
        (
            "baseline",
            f"always '{sst['train'].classes[majority]}': dev {baseline['dev']:.1%}",
        ),
        ("measure", "accuracy on dev to choose, on test once"),
    ],
}
for project, rows in cards.items():
    print(project)
    for field, value in rows:
        print(f"  {field:>10s}: {value}")
headline(
    "project data",
    f"cats vs dogs fit/validation {len(fit_idx):,}/{len(val_idx):,}; SST-2 vocabulary "
    f"{len(vocab):,} tokens, dev coverage {dev_coverage:.1%}",
)
elapsed = time.perf_counter() - lesson_start
print(f"lesson run time: {elapsed:.0f} s")

# %%
# ## 16. Summary
#
# - Scope a project before you start it: a one-sentence question, the data
#   and its licence, a measure fixed in advance, a baseline, a budget; cut
#   until it fits, and keep the list of what you cut.
# - Look at the data before modelling it: sizes and aspect ratios decide
#   what resizing and cropping do; class shares decide whether accuracy is
#   a fair measure; a sample grid shows what no statistic does.
# - Split with a seed, stratified by class; choose on validation and keep
#   the test set for the end.
# - Training transforms are random (augmentation), evaluation transforms
#   are fixed; both produce the same size, and the normalisation belongs to
#   the network.
# - Worker processes decode and transform in parallel; time them on your
#   machine, start-up included.
# - Text: a tokenizer that matches how the training text was cut, a
#   vocabulary from the training split only (minimum frequency, `<pad>` = 0,
#   `<unk>` = 1), coverage measured on validation, sentences turned into id
#   tensors, and a `collate_fn` that pads each batch to its longest sentence
#   and returns the lengths that packing needs. torchtext is no longer
#   developed; plain Python does the job.
#
# ## 17. Exercises
#
# 1. Build the vocabulary from the training *and* dev sentences, and
#    measure its dev coverage. Why is the number useless as an estimate of
#    what the model will meet, and how many of those extra ids could
#    training ever update?
# 2. Sort-of-by-length batching: shuffle the training sentences, cut the
#    list into chunks of 50 batches, sort each chunk by length, cut it into
#    batches and shuffle the batches. Measure the share of padding over an
#    epoch against the shuffled loader of section 14.
# 3. The centre crop cuts the sides of wide photos. For every training
#    photo, what share of its area does the evaluation transform keep?
#    Plot it against the aspect ratio, and say which photos lose most.

# %%
# **Solution 1.** The vocabulary now has every dev token, so its dev
# coverage is 100 % by construction: it measures nothing about unseen
# text. The ids added for dev-only tokens appear in no training sentence,
# so no training step ever updates their embeddings.

leaky = Vocabulary.build(tokens["train"] + tokens["dev"], min_freq=1)
honest = Vocabulary.build(tokens["train"], min_freq=1)
train_only = set(t for s in tokens["train"] for t in s)
never_trained = sum(token not in train_only for token in leaky.itos[2:])
print(
    f"dev coverage: train+dev vocabulary {leaky.coverage(tokens['dev']):.1%}, "
    f"train-only vocabulary {honest.coverage(tokens['dev']):.1%}"
)
print(f"ids that no training sentence contains: {never_trained:,}")

# %%
# **Solution 2.** Sorting inside chunks keeps the batches random enough
# (every epoch shuffles anew) while putting sentences of similar length
# together. A batch sampler is any iterable of index lists; `DataLoader`
# takes it as `batch_sampler`.


def bucketed_batches(lengths: torch.Tensor, batch_size: int, chunk: int, seed: int):
    """Batches of indices of similar lengths, in a random order."""
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(lengths), generator=generator)
    batches = []
    for part in order.split(batch_size * chunk):
        part = part[lengths[part].argsort(stable=True)]
        batches += list(part.split(batch_size))
    shuffled = torch.randperm(len(batches), generator=generator).tolist()
    return [batches[i].tolist() for i in shuffled]


bucketed = DataLoader(
    encoded["train"],
    batch_sampler=bucketed_batches(lengths["train"], project_batch, 50, seed=0),
    collate_fn=collate,
)
cells_b = real_b = 0
for padded, batch_lengths, _ in bucketed:
    cells_b += padded.numel()
    real_b += int(batch_lengths.sum())
print(
    f"padding per batch: shuffled {1 - real / cells:.0%}, "
    f"bucketed {1 - real_b / cells_b:.0%} of the cells"
)

# %%
# **Solution 3.** Resizing the shorter side to 182 and cutting a 160 square
# keeps (160/182)² of a square photo; of a wider one, only the central part
# of the longer side survives as well. The share is
# `(160/182)² × shorter/longer`:

train_sizes = sizes[: len(photos["train"])].float()
kept = (image_size / resize_to) ** 2 * (
    train_sizes.min(dim=1).values / train_sizes.max(dim=1).values
)
train_aspect = train_sizes[:, 0] / train_sizes[:, 1]
fig, ax = plt.subplots(figsize=(7, 4))
ax.scatter(train_aspect.numpy(), 100 * kept.numpy(), s=6, alpha=0.5)
ax.set_xscale("log")
ax.set_xlabel("aspect ratio (width / height, log scale)")
ax.set_ylabel("area kept by the evaluation crop (%)")
ax.set_title("What the centre crop keeps of each training photo")
plt.show()
print(
    f"median share kept {kept.median():.0%}; least {kept.min():.0%} "
    f"(aspect ratio {train_aspect[kept.argmin()]:.2f})"
)

# %%
# Next, [Day 24](day24_project.ipynb) trains on what you prepared: the
# pretrained backbone with augmentation on the photos, and three text
# models (a bag of embeddings, an LSTM and a small Transformer) on SST-2,
# compared in one table.
