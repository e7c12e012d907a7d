"""
# Day 5 · Dataset and DataLoader (Dataset & DataLoader 資料集與批次載入)

A model never sees a whole dataset at once. It learns from small, shuffled
**mini-batches**, one after another. PyTorch splits that job in two: a
`Dataset` answers "what is sample number *i*?", and a `DataLoader` decides which
samples go together, in what order, and how they are stacked into tensors,
optionally in background processes. After this lesson you can wrap tensors in a
`TensorDataset`, write your own `Dataset` with a transform, tune a `DataLoader`
(batch size, shuffling, `drop_last`, worker processes, a custom `collate_fn`),
split data reproducibly, and feed the batches to a model. Every training loop
in the rest of the course stands on these two classes.

**You will learn:** `TensorDataset` · writing a `Dataset` (`__len__`,
`__getitem__`, transforms) · `DataLoader` options · what shuffling does from
epoch to epoch · `num_workers` and the `__main__` guard · padding sequences in
a `collate_fn` · `random_split` · batches into a model

**Before you start:** [Day 4](day04_gpu.ipynb) (choosing a device) ·
**Reading time:** about 2 hours
"""

# %%
# ## 1. Two jobs, two classes
#
# A **map-style dataset** is anything with two methods:
#
# - `len(dataset)`: how many samples there are;
# - `dataset[i]`: sample number `i`, for `0 <= i < len(dataset)`, usually a
#   tuple `(input, target)`.
#
# A `DataLoader` wraps a dataset and, for every epoch:
#
# 1. asks a **sampler** for an order of the indices (`0, 1, 2, ...`, or a
#    random permutation when `shuffle=True`);
# 2. cuts that order into groups of `batch_size` indices;
# 3. fetches `dataset[i]` for each index of a group (in worker processes if
#    `num_workers > 0`);
# 4. hands the list of samples to a **`collate_fn`**, which stacks them into
#    batch tensors.
#
# Keeping "what a sample is" apart from "how samples are batched" means the same
# `Dataset` serves training (shuffled, augmented) and evaluation (in order),
# on a laptop or on a GPU with several loader processes.

import math
import sys
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import (
    DataLoader,
    Dataset,
    Subset,
    TensorDataset,
    random_split,
)

import course

course.seed_everything(0)
device = course.choose_device()  # taught by hand in Day 4
print(f"torch {torch.__version__}, device {device}, profile {course.PROFILE}")

# %%
# ## 2. `TensorDataset`: data that is already in tensors
#
# When the inputs and targets already sit in memory as tensors,
# `TensorDataset(inputs, targets)` is all you need. Sample `i` is the `i`-th
# row of each tensor, so the tensors must agree on their first dimension.

features = torch.randn(10, 3)  # 10 samples, 3 features each
targets = torch.arange(10) % 2  # a class label per sample
table = TensorDataset(features, targets)

print(f"len(table) = {len(table)}")
x0, y0 = table[0]
print(f"table[0] -> input {x0}, target {y0}")
print(f"table[2:5] -> shapes {[tuple(t.shape) for t in table[2:5]]}")

# %%
# The common mistake is a target tensor that does not line up with the inputs,
# for example after filtering one of them and not the other. `TensorDataset`
# checks the sizes up front:

try:
    TensorDataset(torch.randn(10, 3), torch.arange(9))
except AssertionError as err:
    print("Expected error:", type(err).__name__, "-", err)

# %%
# ## 3. A custom `Dataset`
#
# Real data rarely fits in one tensor: images in files, text in lines,
# samples computed on the fly. Then you write a class with `__len__` and
# `__getitem__`. The constructor stores only what is needed to *find* a sample
# (file names, a seed). `__getitem__` produces one sample when it is asked
# for. That keeps memory flat, and lets worker processes (section 6) share the
# work.
#
# Our example generates 2-D points on two noisy rings: label 0 is the inner ring
# (radius 1), label 1 the outer ring (radius 2). Sample `idx` is computed from a
# random generator seeded with the dataset's seed and `idx` itself, the way a
# real dataset would read file number `idx`: the same index always gives the
# same point, and nothing is stored.


class RingsDataset(Dataset):
    """Points on two noisy rings: label 0 inner (radius 1), 1 outer (radius 2)."""

    def __init__(self, n: int, transform=None, seed: int = 0, noise: float = 0.15):
        self.n = n
        self.transform = transform
        self.seed = seed
        self.noise = noise

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, idx: int):
        if not 0 <= idx < self.n:
            raise IndexError(f"index {idx} is out of range for {self.n} samples")
        # one random stream per sample
        g = torch.Generator().manual_seed(self.seed * 2**32 + idx)
        label = int(torch.randint(0, 2, (), generator=g))
        angle = torch.rand((), generator=g) * 2 * torch.pi
        radius = 1.0 + label + self.noise * torch.randn((), generator=g)
        point = torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)])
        if self.transform is not None:
            point = self.transform(point)
        return point, label


rings = RingsDataset(n=400)
point, label = rings[0]
print(f"len(rings) = {len(rings)}; rings[0] = ({point}, {label})")
print(f"asking again gives the same sample: {torch.equal(rings[0][0], point)}")

# %%
# `__getitem__` must raise `IndexError` past the end. That is not pedantry:
# a plain `for sample in dataset` loop stops on `IndexError`, and without the
# check it would run forever on a generated dataset like this one.

try:
    rings[len(rings)]
except IndexError as err:
    print("Expected error:", type(err).__name__, "-", err)

# %%
# **Transforms.** A transform is any callable applied to the sample inside
# `__getitem__`: normalising, converting types, or *augmenting* (changing a
# sample in a way that keeps its label). Turning a point around the origin
# keeps it on its ring, so a random rotation is a label-preserving augmentation
# here, the 2-D cousin of flipping an image. A transform is an ordinary class
# with `__call__`, because it often carries settings.


class RandomRotate:
    """Rotate a 2-D point about the origin by a uniformly random angle."""

    def __call__(self, point: torch.Tensor) -> torch.Tensor:
        angle = torch.rand(()) * 2 * torch.pi
        cos, sin = torch.cos(angle), torch.sin(angle)
        rotation = torch.stack([torch.stack([cos, -sin]), torch.stack([sin, cos])])
        return rotation @ point


augmented = RingsDataset(n=400, transform=RandomRotate())
first, second = augmented[0][0], augmented[0][0]
print(f"augmented[0] twice: {first} and {second}")
print(f"distance from the origin: {first.norm():.4f} and {second.norm():.4f}")

# %%
# A transform runs on *every* access, so a random one gives a new variant of
# the sample in every epoch: more variety from the same data. Here is what the
# dataset produces:

points = torch.stack([rings[i][0] for i in range(len(rings))])
labels = torch.tensor([rings[i][1] for i in range(len(rings))])
fig, ax = plt.subplots(figsize=(5, 5))
for value, name in [(0, "inner ring (label 0)"), (1, "outer ring (label 1)")]:
    chosen = points[labels == value]
    ax.scatter(chosen[:, 0], chosen[:, 1], s=10, label=name)
ax.set_aspect("equal")
ax.set_xlabel("$x_1$")
ax.set_ylabel("$x_2$")
ax.set_title(f"RingsDataset: all {len(rings)} samples")
ax.legend()
plt.show()

# %%
# ## 4. `DataLoader`: batches
#
# `batch_size` sets how many samples go into one batch. The default
# `collate_fn` stacks the samples' inputs into one tensor with a new first
# dimension (the batch dimension) and turns the Python `int` labels into an
# `int64` tensor. With 10 samples and batches of 4, the last batch gets what is
# left over:

ten = RingsDataset(n=10)
loader = DataLoader(ten, batch_size=4)
for i, (xb, yb) in enumerate(loader):
    print(
        f"batch {i}: inputs {tuple(xb.shape)} {xb.dtype}, "
        f"labels {tuple(yb.shape)} {yb.dtype}"
    )
print(f"len(loader) = {len(loader)} batches")

# %%
# `drop_last=True` throws away that smaller last batch. Use it when every batch
# must have the same size: a `BatchNorm` layer cannot train on a batch of one
# sample, and a short batch gives a noisier gradient step. Over many epochs with
# shuffling, every sample still gets seen, because a different one is left out
# each time.

loader = DataLoader(ten, batch_size=4, drop_last=True)
print(
    "drop_last=True:", [tuple(xb.shape) for xb, _ in loader], f"len = {len(loader)}"
)

# %%
# For $N$ samples and batch size $B$, an epoch has $\lceil N / B \rceil$
# batches by default and $\lfloor N / B \rfloor$ with `drop_last=True`.
#
# ## 5. Shuffling: a new order every epoch
#
# Training on the samples in the same order every epoch lets the model learn
# the order (for example, all of one class first), and makes consecutive
# gradient steps correlated. `shuffle=True` draws a fresh random permutation of
# the indices **each time you start iterating** the loader, that is, each
# epoch. To *see* the order, use a dataset whose samples are their own indices:

indices = TensorDataset(torch.arange(12))
in_order = DataLoader(indices, batch_size=4, shuffle=False)
shuffled = DataLoader(indices, batch_size=4, shuffle=True)

for epoch in (1, 2):
    print(f"epoch {epoch}, shuffle=False:", [b[0].tolist() for b in in_order])
for epoch in (1, 2):
    print(f"epoch {epoch}, shuffle=True: ", [b[0].tolist() for b in shuffled])

# %%
# Each `for ... in loader` is a new epoch and a new permutation, so the first
# batch of epoch 2 differs from the first batch of epoch 1. Without further
# instructions the permutation is drawn from PyTorch's global random generator,
# so it depends on every random number drawn before. For a **reproducible**
# order, give the loader its own seeded `torch.Generator`: two loaders seeded
# alike produce the same sequence of epochs.


def first_batches(loader: DataLoader, epochs: int) -> list[list[int]]:
    """The indices in the first batch of each of `epochs` epochs."""
    return [next(iter(loader))[0].tolist() for _ in range(epochs)]


seeded_a = DataLoader(
    indices, batch_size=4, shuffle=True, generator=torch.Generator().manual_seed(7)
)
seeded_b = DataLoader(
    indices, batch_size=4, shuffle=True, generator=torch.Generator().manual_seed(7)
)
runs_a, runs_b = first_batches(seeded_a, 3), first_batches(seeded_b, 3)
print("loader A, first batch of epochs 1-3:", runs_a)
print("loader B, first batch of epochs 1-3:", runs_b)
print("same order:", runs_a == runs_b)

# %%
# A picture of the same idea for 24 samples in batches of 6: each row is an
# epoch, each column a sample, and the colour says which batch of that epoch
# the sample landed in. Without shuffling the rows are identical; with it,
# every epoch mixes the samples differently.


def batch_of_each_sample(loader: DataLoader, n: int, epochs: int) -> np.ndarray:
    """An (epochs, n) array: the batch number of each sample index, per epoch."""
    grid = np.zeros((epochs, n), dtype=int)
    for epoch in range(epochs):
        for batch_number, (batch,) in enumerate(loader):
            grid[epoch, batch.numpy()] = batch_number
    return grid


n_samples, batch_size, n_epochs = 24, 6, 6
twenty_four = TensorDataset(torch.arange(n_samples))
grids = {
    "shuffle=False": batch_of_each_sample(
        DataLoader(twenty_four, batch_size=batch_size), n_samples, n_epochs
    ),
    "shuffle=True": batch_of_each_sample(
        DataLoader(
            twenty_four,
            batch_size=batch_size,
            shuffle=True,
            generator=torch.Generator().manual_seed(0),
        ),
        n_samples,
        n_epochs,
    ),
}

n_batches = n_samples // batch_size
fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), sharey=True, layout="constrained")
for ax, (name, grid) in zip(axes, grids.items(), strict=True):
    image = ax.imshow(
        grid,
        cmap=plt.get_cmap("viridis", n_batches),
        vmin=-0.5,
        vmax=n_batches - 0.5,  # one colour per batch, ticks in the middle of each
        aspect="auto",
        extent=(-0.5, n_samples - 0.5, n_epochs + 0.5, 0.5),
    )
    ax.set_title(name)
    ax.set_xlabel("sample index")
axes[0].set_ylabel("epoch")
colorbar = fig.colorbar(image, ax=axes, ticks=range(n_batches))
colorbar.set_label("batch number within the epoch")
fig.suptitle(
    f"Which batch each sample lands in "
    f"({n_samples} samples, batch_size={batch_size})"
)
plt.show()

# %%
# ## 6. `num_workers`: loading in parallel
#
# With `num_workers=0` (the default) the main process fetches every sample
# itself, and the model waits while it does. With `num_workers=k`, the loader
# starts `k` **worker processes**. Each gets its own copy of the dataset and
# builds *whole batches* (worker 0 the first, worker 1 the second, and so on),
# a few batches ahead of the training loop. Workers pay off when `__getitem__`
# is slow: decoding JPEGs, reading from disk, heavy augmentation. For tensors
# already in memory, the cost of starting processes and passing batches between
# them can make things slower.
#
# **The `__main__` guard.** How a worker process starts depends on the
# operating system and the Python version. On Linux up to Python 3.13 the
# default is *fork*: the worker is a copy of the running process and already
# knows every class you defined. Windows and macOS use *spawn*, and Python 3.14
# moves Linux to *forkserver*, which behaves the same way here: a fresh Python
# interpreter that **imports your script** to find the `Dataset` class. Any
# top-level code in the script runs again in every worker, including the line
# that creates the `DataLoader`, and that fails with an error about starting a
# new process before the current one has finished bootstrapping. Since the
# same script may run under any of these, the rule is simple: **every script
# that uses `num_workers > 0` puts its work in a function and calls it under
# the guard**, on every operating system:
#
# ```python
# # train.py
# from torch.utils.data import DataLoader
#
# from my_datasets import RingsDataset  # the Dataset lives in an importable module
#
#
# def main():
#     loader = DataLoader(RingsDataset(n=1000), batch_size=32, num_workers=2)
#     for xb, yb in loader:
#         ...  # train
#
#
# if __name__ == "__main__":  # true when run, false when a worker imports the file
#     main()
# ```
#
# In **Jupyter**, wherever workers are spawned (Windows, macOS, and Linux from
# Python 3.14), a class defined in a notebook cell cannot be imported by a
# worker at all. Move the `Dataset` (and any `collate_fn` or transform) into a
# `.py` file next to the notebook and import it from there, or use
# `num_workers=0`.
#
# To see the workers at work, we wrap the rings in a dataset whose
# `__getitem__` sleeps for a few milliseconds, standing in for a slow disk. It
# also reports which worker fetched each sample, using
# `torch.utils.data.get_worker_info()` (which returns `None` in the main
# process).


class SlowDataset(Dataset):
    """Wraps a dataset; each access sleeps `delay_s` and reports the worker id.

    The worker id is -1 in the main process.
    """

    def __init__(self, base: Dataset, delay_s: float):
        self.base = base
        self.delay_s = delay_s

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, idx: int):
        time.sleep(self.delay_s)
        info = torch.utils.data.get_worker_info()
        point, label = self.base[idx]
        return point, label, -1 if info is None else info.id


slow = SlowDataset(RingsDataset(n=course.pick(full=96, smoke=32)), delay_s=0.004)

# %%
# Now the same epoch with `num_workers=0` and `num_workers=2`. This cell asks
# for the *fork* start method explicitly, so that the classes defined in this
# notebook reach the workers whatever the Python version's default. Fork is
# safe on Linux only (Windows has none, and on macOS it can crash), so
# elsewhere the cell skips the two-worker run and says so.

on_linux = sys.platform.startswith("linux")
epoch_seconds = {}
for workers in (0, 2):
    if workers and not on_linux:
        print(f"{sys.platform}: skipped num_workers=2 (see the note above)")
        continue
    loader = DataLoader(
        slow,
        batch_size=8,
        num_workers=workers,
        multiprocessing_context="fork" if workers else None,
    )
    start = time.perf_counter()
    made_by = [worker_ids[0].item() for _, _, worker_ids in loader]
    epoch_seconds[workers] = time.perf_counter() - start
    print(
        f"num_workers={workers}: {len(made_by)} batches in "
        f"{epoch_seconds[workers]:.2f} s; batch k made by worker {made_by}"
    )
if len(epoch_seconds) == 2:
    print(
        f"two workers took {epoch_seconds[2] / epoch_seconds[0]:.2f}x the time of "
        f"one process for {len(slow)} samples of {slow.delay_s * 1e3:.0f} ms each"
    )

# %%
# With two workers the batches alternate between worker 0 and worker 1 (the
# main process is `-1`). Two workers can "read the disk" at the same time, so
# on a long epoch they approach half the time of one process. They never quite
# reach it, because starting the workers and sending batches back costs time
# too, and on a short epoch (like the `smoke` build of this page) that cost can
# outweigh the gain. Compare the times printed above. `persistent_workers=True`
# keeps the workers alive between epochs, so the start-up is paid once.
#
# Randomness in workers is handled for you: each worker seeds Python's
# `random`, NumPy and PyTorch with a base seed plus its worker id, so random
# transforms differ between workers. The base seed comes from the loader's
# generator, so a seeded loader is reproducible with workers too.
#
# ## 7. `collate_fn`: batches of different-length samples
#
# The default `collate_fn` stacks samples, which works only when they all have
# the same shape. Sequences (sentences, time series) usually do not. Here is a
# toy text dataset: each sample is a sequence of token ids of random length,
# with id 0 reserved for padding.


class ToySentences(Dataset):
    """Sequences of token ids (1..vocab-1) with random lengths, and a 0/1 label."""

    def __init__(self, n: int, vocab: int = 20, min_len: int = 2, max_len: int = 8):
        self.n, self.vocab, self.min_len, self.max_len = n, vocab, min_len, max_len

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, idx: int):
        if not 0 <= idx < self.n:
            raise IndexError(f"index {idx} is out of range for {self.n} samples")
        g = torch.Generator().manual_seed(idx)
        length = int(torch.randint(self.min_len, self.max_len + 1, (), generator=g))
        tokens = torch.randint(1, self.vocab, (length,), generator=g)
        return tokens, int(tokens.sum() % 2)  # label: is the sum of the ids odd?


sentences = ToySentences(n=8)
for i in range(3):
    tokens, label = sentences[i]
    print(f"sentences[{i}]: {tokens.tolist()}, length {len(tokens)}, label {label}")

# %%
# The default collate tries to stack tensors of different lengths, and fails
# with a message that names the sizes:

try:
    next(iter(DataLoader(sentences, batch_size=4)))
except RuntimeError as err:
    print("Expected error:", type(err).__name__, "-", err)

# %%
# A `collate_fn` receives the list of samples of one batch, exactly as
# `__getitem__` returned them, and returns whatever the training loop should get.
# Ours pads every sequence to the longest one in the batch with
# `torch.nn.utils.rnn.pad_sequence`, and also returns the true lengths, so a
# model can ignore the padding (Day 24's LSTM does).


def pad_collate(batch):
    """[(tokens, label), ...] -> (padded tokens [B, T], lengths [B], labels [B])."""
    sequences, sample_labels = zip(*batch, strict=True)
    padded = pad_sequence(sequences, batch_first=True, padding_value=0)
    lengths = torch.tensor([len(s) for s in sequences])
    return padded, lengths, torch.tensor(sample_labels)


text_loader = DataLoader(sentences, batch_size=4, collate_fn=pad_collate)
for padded, lengths, batch_labels in text_loader:
    print(
        f"padded {tuple(padded.shape)}, lengths {lengths.tolist()}, "
        f"labels {batch_labels.tolist()}"
    )
print("the first padded batch:")
print(next(iter(text_loader))[0])

# %%
# The padded width is set by the longest sequence *in each batch*, which is
# why the two batches above can differ in width. Grouping sequences of similar
# length into the same batch ("bucketing") wastes less computation on padding.
#
# ## 8. `random_split`: train and validation sets
#
# To measure how well a model does on data it has not trained on, hold part of
# the data out. `random_split` shuffles the indices once and cuts them into
# pieces. Lengths can be counts or fractions. Pass it a seeded generator of its
# own. Without one, the split comes from PyTorch's global generator: after
# `course.seed_everything` it repeats from run to run, but it moves as soon as
# the code before it draws a different number of random values (another model
# size, one more augmentation), and then samples of one run's validation set
# land in the next run's training set.

dataset = RingsDataset(n=course.pick(full=2000, smoke=400))
train_part, val_part = random_split(
    dataset, [0.8, 0.2], generator=torch.Generator().manual_seed(42)
)
print(
    f"train: {len(train_part)} samples, validation: {len(val_part)} samples "
    f"({type(train_part).__name__} objects)"
)
print("first training indices:", train_part.indices[:8])

again, _ = random_split(
    dataset, [0.8, 0.2], generator=torch.Generator().manual_seed(42)
)
print("own generator, same seed, same split:", again.indices == train_part.indices)

course.seed_everything(0)
global_1, _ = random_split(dataset, [0.8, 0.2])
course.seed_everything(0)
_ = torch.rand(1)  # one extra random draw earlier in the program
global_2, _ = random_split(dataset, [0.8, 0.2])
print(
    "global generator, same seed, one extra draw before it, same split:",
    global_1.indices == global_2.indices,
)

# %%
# Each piece is a `Subset`: a view holding the parent dataset and a list of
# indices. Both views share the parent, and with it its transform, so you
# cannot augment the training part alone through them. The usual fix is two
# dataset objects over the same data, one with the augmentation and one
# without, each viewed through its half of the indices:

train_set = Subset(
    RingsDataset(len(dataset), transform=RandomRotate()), train_part.indices
)
val_set = Subset(RingsDataset(len(dataset)), val_part.indices)
print(f"train_set: {len(train_set)} augmented samples")
print(f"val_set: {len(val_set)} plain samples")

# %%
# ## 9. Feeding batches to a model (with a preview of Day 6)
#
# The loaders for training and evaluation differ on purpose. Training
# shuffles (seeded) and drops the ragged last batch. Evaluation keeps the
# order, keeps every sample, and can use bigger batches because no gradients
# are stored. `pin_memory=True` speeds up the copies to a CUDA GPU (Day 4), so
# we ask for it only when there is one.

batch_size = 64
train_loader = DataLoader(
    train_set,
    batch_size=batch_size,
    shuffle=True,
    drop_last=True,
    generator=torch.Generator().manual_seed(0),
    pin_memory=device.type == "cuda",
)
val_loader = DataLoader(val_set, batch_size=256, pin_memory=device.type == "cuda")
print(
    f"{len(train_loader)} training batches of {batch_size}, "
    f"{len(val_loader)} validation batches per epoch"
)

# %%
# The rest of this section is a **preview** of
# [Day 6](day06_training_workflow.ipynb), which explains every piece of a
# classification loop. Four terms, one line each, are enough for now:
#
# - **logits**: the model's raw scores, one per class; the largest is its guess;
# - **cross-entropy**: the classification loss, small when the true class has
#   by far the largest logit;
# - **Adam**: an optimiser, like SGD but with a step size adapted to each
#   parameter;
# - **`model.eval()`**: puts layers that act differently in training (Dropout,
#   Day 7) into prediction mode; `model.train()` switches back.
#
# One batch through a small classifier, with the shapes at each step: `[B, 2]`
# points in, `[B, 2]` logits out (one score per class), one loss value for the
# whole batch. Each batch goes to the model's device as it arrives.

course.seed_everything(0)
model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2)).to(device)
xb, yb = next(iter(train_loader))
xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
logits = model(xb)
loss = nn.functional.cross_entropy(logits, yb)
print(
    f"inputs {tuple(xb.shape)} -> logits {tuple(logits.shape)}; "
    f"labels {tuple(yb.shape)}; loss {loss.item():.4f}"
)

# %%
# And a few epochs of training (still the preview), so that you can see the
# loaders in their natural place. Each epoch draws a new order from
# `train_loader` and new rotations from the transform.
# [Day 6](day06_training_workflow.ipynb) takes this loop apart step by step.

optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
epochs = course.pick(full=6, smoke=2)
for epoch in range(1, epochs + 1):
    model.train()
    total_loss = 0.0
    for xb, yb in train_loader:
        xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
        loss = nn.functional.cross_entropy(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total_loss += loss.item()
    model.eval()
    correct = 0
    with torch.no_grad():
        for xb, yb in val_loader:
            predictions = model(xb.to(device)).argmax(dim=1)
            correct += (predictions == yb.to(device)).sum().item()
    print(
        f"epoch {epoch}: mean training loss {total_loss / len(train_loader):.4f}, "
        f"validation accuracy {correct / len(val_set):.3f}"
    )

# %%
# ## 10. Summary
#
# - A `Dataset` answers `len(ds)` and `ds[i]`. `TensorDataset` wraps tensors
#   that share their first dimension. A custom class builds one sample per
#   `__getitem__`, raises `IndexError` past the end, and applies its
#   `transform` on every access.
# - A `DataLoader` turns a dataset into batches. `batch_size` sets their size,
#   `drop_last` drops the short last one, `shuffle=True` draws a new order each
#   epoch, and `generator=` makes that order reproducible.
# - `num_workers` loads batches in parallel processes. Every script that uses
#   them guards its work with `if __name__ == "__main__":`, on any operating
#   system. In notebooks where workers are spawned, import the `Dataset` from a
#   `.py` file.
# - `collate_fn` decides how samples become a batch: for sequences, pad them
#   with `pad_sequence` and keep the lengths.
# - `random_split` with a seeded generator of its own gives a fixed
#   train/validation split, whatever the code before it draws.
#   Give each part its own transform through `Subset`.
# - In the loop, move each batch to the model's device. Use `pin_memory=True`
#   with `non_blocking=True` on CUDA.
#
# ## 11. Exercises
#
# 1. For $N = 10$ samples, predict `len(loader)` for `batch_size` 3, 4 and 5,
#    with and without `drop_last`, then check your predictions against real
#    loaders.
# 2. Extend `pad_collate` so it also returns a boolean **mask** of shape
#    `[B, T]`, `True` where a real token is and `False` on padding. Check that
#    each row of the mask sums to that sequence's length.
# 3. An imbalanced dataset: 900 samples of class 0 and 100 of class 1. With
#    `shuffle=True`, about one sample in ten of each batch is class 1. Use a
#    `WeightedRandomSampler` (passed as `sampler=`, instead of `shuffle`) so
#    that batches are about half class 1, and count the classes over one epoch
#    to check.

# %%
# **Solution 1.** $\lceil N/B \rceil$ batches by default, $\lfloor N/B \rfloor$
# with `drop_last=True`.

ten_indices = TensorDataset(torch.arange(10))
for size in (3, 4, 5):
    for drop in (False, True):
        predicted = 10 // size if drop else math.ceil(10 / size)
        actual = len(DataLoader(ten_indices, batch_size=size, drop_last=drop))
        print(
            f"batch_size={size}, drop_last={drop!s:5}: predicted {predicted}, "
            f"len(loader) = {actual}"
        )

# %%
# **Solution 2.** Positions before each sequence's length are real tokens.
# Comparing a row of positions with the column of lengths builds the whole
# mask at once, by broadcasting. (Testing `padded != 0` works only as long as
# 0 is never a real token.)


def pad_collate_with_mask(batch):
    padded, lengths, batch_labels = pad_collate(batch)
    positions = torch.arange(padded.shape[1])  # [T]
    mask = positions[None, :] < lengths[:, None]  # [1, T] < [B, 1] -> [B, T]
    return padded, lengths, batch_labels, mask


padded, lengths, _, mask = next(
    iter(DataLoader(sentences, batch_size=4, collate_fn=pad_collate_with_mask))
)
print(mask.int())
print("mask row sums:", mask.sum(dim=1).tolist(), "lengths:", lengths.tolist())
print("the mask agrees with the lengths:", torch.equal(mask.sum(dim=1), lengths))

# %%
# **Solution 3.** Give each sample a weight inversely proportional to its
# class's frequency. The sampler then draws indices (with replacement) so that
# each class makes up about half of every batch. `sampler=` and `shuffle=True`
# cannot be combined: the sampler decides the order. A third tensor of indices
# in the dataset lets us count how many *different* class-1 samples were drawn.

from torch.utils.data import WeightedRandomSampler

imbalanced_labels = torch.cat(
    [torch.zeros(900, dtype=torch.long), torch.ones(100, dtype=torch.long)]
)
imbalanced = TensorDataset(
    torch.randn(1000, 2), imbalanced_labels, torch.arange(1000)
)
class_counts = torch.bincount(imbalanced_labels)
weights = 1.0 / class_counts[imbalanced_labels].double()
sampler = WeightedRandomSampler(
    weights,
    num_samples=len(imbalanced),
    replacement=True,
    generator=torch.Generator().manual_seed(1),
)

plain = DataLoader(
    imbalanced,
    batch_size=100,
    shuffle=True,
    generator=torch.Generator().manual_seed(1),
)
balanced = DataLoader(imbalanced, batch_size=100, sampler=sampler)
for name, loader in [("shuffle=True", plain), ("WeightedRandomSampler", balanced)]:
    batches = list(loader)  # one epoch
    seen_labels = torch.cat([yb for _, yb, _ in batches])
    seen_indices = torch.cat([ib for _, _, ib in batches])
    counts = torch.bincount(seen_labels, minlength=2).tolist()
    distinct = [len(set(seen_indices[seen_labels == c].tolist())) for c in (0, 1)]
    print(
        f"{name:>22}: draws of class 0 / 1 = {counts[0]:>3} / {counts[1]:>3}; "
        f"different samples seen: {distinct[0]:>3} of 900 / {distinct[1]:>3} of 100"
    )

# %%
# Balance has a price, visible in the last two columns. Drawing with
# replacement, the sampler repeats each of the few class-1 samples several
# times within an epoch, while many class-0 samples are not drawn at all in
# that epoch (they get their turn in later ones). The model sees the same
# minority examples again and again; augmentation (section 3) makes those
# repeats less identical.
#
# Next: [Day 6](day06_training_workflow.ipynb) puts data, model, loss and
# optimiser together into the complete training workflow.
