"""
# Day 15 · Learning-rate schedules (學習率調整策略)

The learning rate is the most important setting of an optimiser, and nothing
says it has to stay the same for a whole run. Large steps early make fast
progress; small steps late let the weights settle into a minimum instead of
bouncing around it. A **learning-rate schedule** changes the rate while the
model trains. In this lesson you learn where `scheduler.step()` goes in the
training loop (and what PyTorch says when it goes in the wrong place), meet
the schedules you will see in real code (`StepLR`, `ReduceLROnPlateau`,
`CosineAnnealingLR`, a warm-up built from `LinearLR` and `SequentialLR`, and
`OneCycleLR`), and plot each one before training anything. Then you pick the
peak rate with a **learning-rate range test** and run one controlled
experiment on CIFAR-10: the same network, data, seed and budget under a
constant rate and under each schedule, judged on a validation set against
the noise between seeds.

**You will learn:** what a scheduler does to `optimizer.param_groups` ·
stepping per batch or per epoch, and in which order · `StepLR`,
`ReduceLROnPlateau` and its metric, `CosineAnnealingLR`, warm-up with
`LinearLR` + `SequentialLR`, `OneCycleLR` · the learning-rate range test ·
comparing schedules fairly, with the seed-to-seed noise measured

**Before you start:** [Day 14](day14_cifar10.ipynb) (the CIFAR-10 network
and recipe, which already used `OneCycleLR`) and
[Day 12](day12_regularisation.ipynb) (fair experiments and seed noise) ·
**Reading time:** about 2 hours
"""

# %%
# ## 1. Set-up
#
# The experiment in section 7 trains eight networks, so the lesson measures
# its own run time, like Days 12 to 14.

import time

lesson_start = time.perf_counter()

import math
import warnings

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.optim import lr_scheduler

import course
from course.cifar import CifarNet, augment, channel_stats, to_input
from course.data.cifar10 import cifar10_tensors
from course.experiments import compare, format_table, plot_runs
from course.report import headline

course.seed_everything(0)
device = course.choose_device()
print(f"profile: {course.PROFILE}, device: {device}, torch {torch.__version__}")

# %%
# ## 2. What a schedule does, and where `step()` goes
#
# An optimiser keeps its learning rate in `optimizer.param_groups`, a list
# of dicts (one per group of parameters, Day 14 used two). Every
# `optimizer.step()` reads `lr` from there. A **scheduler** is an object
# that holds the optimiser and rewrites that entry each time you call
# `scheduler.step()`; it does nothing else. Here `StepLR` halves the rate at
# every call, on an optimiser of a single dummy parameter (nothing is
# trained):

dummy = nn.Parameter(torch.zeros(1))
optimizer = torch.optim.SGD([dummy], lr=0.1)
scheduler = lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
for call in range(4):
    print(
        f"after {call} scheduler.step() calls: "
        f"param_groups[0]['lr'] = {optimizer.param_groups[0]['lr']:.4f}, "
        f"get_last_lr() = {scheduler.get_last_lr()[0]:.4f}"
    )
    optimizer.step()
    scheduler.step()

# %%
# A scheduler only counts its own calls. Whether one call means one batch or
# one epoch is up to you, and every length you give it (`step_size`,
# `T_max`, `total_steps`) is counted in that unit. The two places in a loop:
#
# ```python
# for epoch in range(epochs):
#     for x, y in batches:
#         loss = loss_fn(model(x), y)
#         optimizer.zero_grad()
#         loss.backward()
#         optimizer.step()
#         scheduler.step()          # per batch: lengths counted in steps
#     val_loss = evaluate(model)
#     scheduler.step()              # or per epoch: lengths counted in epochs
#     plateau.step(val_loss)        # ReduceLROnPlateau: per epoch, with a metric
# ```
#
# Per batch suits schedules that should change smoothly (warm-up, cosine,
# one-cycle): with a few hundred steps per epoch, a per-epoch staircase
# would be coarse, and a warm-up shorter than an epoch impossible.
# Per epoch suits schedules whose changes are events: "divide by ten at
# epoch 30" (`StepLR`), or "the validation loss stopped improving"
# (`ReduceLROnPlateau`), which can only be measured after an epoch.
#
# **Mixing the units up is silent.** Give `CosineAnnealingLR` a length in
# epochs (`T_max=epochs`) and step it per batch, and it reaches zero within
# the first epoch; PyTorch's cosine is periodic, so it then climbs back up,
# again and again:

demo_epochs, demo_steps_per_epoch = 10, 50


def lr_trace(make_scheduler, steps: int) -> list[float]:
    """The learning rate of each of ``steps`` steps of a dummy optimiser."""
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.0)
    scheduler = make_scheduler(optimizer)
    rates = []
    for _ in range(steps):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return rates


demo_total = demo_epochs * demo_steps_per_epoch
right = lr_trace(
    lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=demo_total), demo_total
)
wrong = lr_trace(
    lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=demo_epochs), demo_total
)
epoch_axis = np.arange(demo_total) / demo_steps_per_epoch
fig, ax = plt.subplots(figsize=(8, 3.5))
ax.plot(epoch_axis, right, label=f"T_max={demo_total} steps (right)", linewidth=2)
ax.plot(epoch_axis, wrong, label=f"T_max={demo_epochs}, stepped per batch (wrong)")
ax.set_title(
    f"CosineAnnealingLR stepped per batch, {demo_steps_per_epoch} batches/epoch"
)
ax.set_xlabel("epoch")
ax.set_ylabel("learning rate ÷ initial rate")
ax.legend(loc="upper right", fontsize="small")
ax.grid(True, alpha=0.3)
plt.show()

# %%
# **The order matters too.** `scheduler.step()` comes *after*
# `optimizer.step()`. The scheduler has already set the first rate when it
# was created; stepping it before the optimiser has used that rate skips it.
# PyTorch notices this on the first call and warns. We make the mistake on
# purpose and record the warning with `warnings.catch_warnings`, together
# with the rate each `optimizer.step()` actually used:


def rates_used(scheduler_first: bool, steps: int = 3) -> list[float]:
    """The rates that ``steps`` optimiser steps use, StepLR halving after each."""
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1)
    scheduler = lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    used = []
    for _ in range(steps):
        if scheduler_first:
            scheduler.step()
        used.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        if not scheduler_first:
            scheduler.step()
    return used


with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    wrong_order = rates_used(scheduler_first=True)
print("Expected warning (scheduler.step() called before optimizer.step()):")
for warning in caught:
    print(f"  {warning.category.__name__}: {warning.message}")
print("rates used, optimizer.step() first:", rates_used(scheduler_first=False))
print("rates used, scheduler.step() first:", wrong_order)

# %%
# The schedule was meant to start at 0.1; in the wrong order the first step
# already runs at half of it, and the whole schedule is shifted by one step.
# With thousands of steps that is a small error, but in a per-epoch schedule
# it is a whole epoch, and the warning is a sign that the loop is not the
# one you meant to write.
#
# ## 3. Five schedules and a constant baseline, drawn before any training
#
# The experiment below trains for `epochs` epochs of `steps_per_epoch`
# batches each. Every schedule gets that run length and the same **peak**
# rate, the largest rate it uses (section 6 measures a good value). Here is
# what each one does:
#
# - **`StepLR(step_size, gamma)`**, per epoch: multiply the rate by `gamma`
#   every `step_size` epochs, a staircase. The classic ImageNet recipe
#   divided the rate by 10 every 30 epochs. We divide it by 10 every
#   `round(0.4 * epochs)` epochs, twice in our run.
# - **`ReduceLROnPlateau(mode, factor, patience)`**, per epoch, with a
#   metric: multiply the rate by `factor` when the metric (here the
#   validation loss, `mode="min"`) has not improved for more than `patience`
#   epochs. It reacts to the run instead of following a plan.
# - **`CosineAnnealingLR(T_max)`**, per batch: fall from the peak to zero
#   along half a cosine wave,
#   $\eta_t = \frac{\eta_\text{peak}}{2}\left(1 + \cos\frac{\pi t}{T}\right)$,
#   slowly at first, fastest in the middle, slowly again at the end.
# - **Warm-up + cosine**, per batch: `LinearLR` raises the rate linearly
#   from a tenth of the peak over the first epoch, then `SequentialLR`
#   hands over to a cosine over the remaining steps. A warm-up protects the
#   first steps, when the random weights give large, erratic gradients and
#   BatchNorm's running statistics are still wrong.
# - **`OneCycleLR(max_lr, total_steps)`**, per batch: a warm-up from
#   `max_lr / 25` over the first 30 % of the steps, then a cosine down to
#   almost zero. [Day 14](day14_cifar10.ipynb) trained with it (with a linear
#   shape and other settings). By default it also moves SGD's momentum the
#   opposite way; we switch that off (`cycle_momentum=False`) so that only
#   the learning rate differs between the runs.
#
# And the baseline, a **constant** rate, needs no scheduler at all.
# `make_schedule` builds each one and says when to step it:

SCHEDULES = [
    "constant",
    "StepLR",
    "ReduceLROnPlateau",
    "cosine",
    "warm-up + cosine",
    "OneCycle",
]


def make_schedule(
    name: str, optimizer: torch.optim.Optimizer, steps_per_epoch: int, epochs: int
) -> tuple[lr_scheduler.LRScheduler | None, str]:
    """The scheduler ``name`` for a run of ``epochs`` x ``steps_per_epoch`` steps,
    and when to step it: "batch", "epoch", "metric" (per epoch, with the
    validation loss) or "never". The peak rate is the optimiser's ``lr``.
    """
    total_steps = epochs * steps_per_epoch
    peak = optimizer.param_groups[0]["lr"]
    if name == "constant":
        return None, "never"
    if name == "StepLR":
        step_size = max(1, round(0.4 * epochs))
        stairs = lr_scheduler.StepLR(optimizer, step_size=step_size, gamma=0.1)
        return stairs, "epoch"
    if name == "ReduceLROnPlateau":
        plateau = lr_scheduler.ReduceLROnPlateau(
            optimizer, mode="min", factor=0.2, patience=1
        )
        return plateau, "metric"
    if name == "cosine":
        cosine = lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
        return cosine, "batch"
    if name == "warm-up + cosine":
        warmup_steps = steps_per_epoch
        warmup = lr_scheduler.LinearLR(
            optimizer, start_factor=0.1, total_iters=warmup_steps
        )
        cosine = lr_scheduler.CosineAnnealingLR(
            optimizer, T_max=total_steps - warmup_steps
        )
        both = lr_scheduler.SequentialLR(
            optimizer, [warmup, cosine], milestones=[warmup_steps]
        )
        return both, "batch"
    if name == "OneCycle":
        one_cycle = lr_scheduler.OneCycleLR(
            optimizer, max_lr=peak, total_steps=total_steps, cycle_momentum=False
        )
        return one_cycle, "batch"
    raise ValueError(f"unknown schedule {name!r}; choose from {SCHEDULES}")


# %%
# The run length of the experiment (a CIFAR-10 subset, section 4):

n_train = course.pick(full=10_000, smoke=192)
n_val = course.pick(full=5_000, smoke=128)
batch_size = course.pick(full=128, smoke=32)
epochs = course.pick(full=8, smoke=2)
steps_per_epoch = n_train // batch_size
total_steps = epochs * steps_per_epoch
print(
    f"{epochs} epochs x {steps_per_epoch} batches of {batch_size}"
    f" = {total_steps} steps"
)

# %%
# To draw a schedule we step it on a dummy optimiser with a peak of 1, so
# the curves read as fractions of the peak, calling `step()` exactly where
# the training loop will. `ReduceLROnPlateau` is the exception: it needs a
# validation loss after every epoch, and there is no training yet. We feed
# it a **simulated** loss curve, one that falls and then stays flat from
# about the middle of the run, which is enough to show how it reacts; in the
# real runs below it reacts to the real validation loss, so its curve there
# will differ.

simulated_val_loss = [
    max(1.1, 1.0 + 0.8 * math.exp(-e / 1.5)) for e in range(epochs)
]
print(
    "simulated validation loss per epoch:",
    [round(v, 3) for v in simulated_val_loss],
)


def planned_rates(name: str) -> list[float]:
    """The rate at every step of the run under schedule ``name``, peak 1."""
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.0)
    scheduler, when = make_schedule(name, optimizer, steps_per_epoch, epochs)
    rates = []
    for epoch in range(epochs):
        for _ in range(steps_per_epoch):
            rates.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            if when == "batch":
                scheduler.step()
        if when == "epoch":
            scheduler.step()
        elif when == "metric":
            scheduler.step(simulated_val_loss[epoch])
    return rates


step_axis = np.arange(total_steps) / steps_per_epoch
fig, axes = plt.subplots(2, 3, figsize=(12, 6), sharex=True, sharey=True)
for ax, name in zip(axes.flat, SCHEDULES, strict=True):
    ax.plot(step_axis, planned_rates(name), linewidth=2, drawstyle="steps-post")
    ax.set_title(
        name + (" (simulated loss)" if name == "ReduceLROnPlateau" else "")
    )
    ax.grid(True, alpha=0.3)
for ax in axes[1]:
    ax.set_xlabel("epoch")
for ax in axes[:, 0]:
    ax.set_ylabel("learning rate ÷ peak")
# sphinx_gallery_thumbnail_number = 2
fig.suptitle(f"The six learning-rate schedules over the same {total_steps} steps")
fig.tight_layout()
plt.show()

# %%
# Each panel is one line of `make_schedule`. Note how different the
# *average* rate is: the constant rate spends the whole run at the peak,
# the cosines about half of it, and `StepLR` most of its run well below. A
# schedule therefore changes two things at once, the shape and the total
# amount of movement, and the comparison below cannot tell them apart. The
# average of each curve above, as a fraction of the peak:

for name in SCHEDULES:
    print(f"{name:<18} mean rate {np.mean(planned_rates(name)):.2f} x peak")

# %%
# `ReduceLROnPlateau` is not like the others in one more way: its `step()`
# needs the metric. Called like the rest, it fails:

plateau = lr_scheduler.ReduceLROnPlateau(torch.optim.SGD([dummy], lr=0.1))
try:
    plateau.step()
except TypeError as error:
    print(f"Expected error (ReduceLROnPlateau.step() without a metric): {error}")

# %%
# It is also the only schedule whose curve depends on the run, and here on
# the validation set: section 7 picks the best schedule on that same
# validation set, so keep in mind that this one has peeked at it.
#
# ## 4. The data: a CIFAR-10 subset in memory
#
# As in [Day 14](day14_cifar10.ipynb), the images stay `uint8` tensors in
# memory and each batch is converted to floats when it is used. A seeded
# split of a class-balanced subset of the official training images gives
# the training and validation sets; the test set stays unloaded until
# section 9.

pool_images, pool_labels = cifar10_tensors(train=True, limit=n_train + n_val)
split = torch.randperm(len(pool_labels), generator=torch.Generator().manual_seed(0))
train_images, train_labels = (
    pool_images[split[:n_train]],
    pool_labels[split[:n_train]],
)
val_images, val_labels = pool_images[split[n_train:]], pool_labels[split[n_train:]]
train_labels_on_device = train_labels.to(device)
mean, std = channel_stats(train_images)
print(f"train {len(train_labels):,} images, validation {len(val_labels):,} images")
print(
    "training images per class:",
    torch.bincount(train_labels, minlength=10).tolist(),
)

# %%
# ## 5. The network, one training step, and evaluation
#
# The network is Day 14's `CifarNet` at half its width, so that eight
# training runs fit the lesson's budget. The training step is Day 14's:
# augment a batch of `uint8` images (random shifts and flips), convert it to
# channels-last floats, run the forward pass under bfloat16 autocast, and
# take an SGD step with Nesterov momentum and weight decay.

widths, stem = (16, 32, 64), 16
use_bf16 = device.type in ("cpu", "cuda")


def new_network() -> nn.Module:
    model = CifarNet(mean, std, widths=widths, stem=stem).to(device)
    return model.to(memory_format=torch.channels_last)


def new_optimizer(model: nn.Module, lr: float) -> torch.optim.Optimizer:
    return torch.optim.SGD(
        model.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=5e-4
    )


def train_step(
    model: nn.Module, optimizer: torch.optim.Optimizer, idx: torch.Tensor
):
    """One SGD step on the training images ``idx``; returns the loss (a tensor)."""
    x = to_input(augment(train_images[idx]), device, channels_last=True)
    y = train_labels_on_device[idx.to(device)]
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
        logits = model(x)
    loss = F.cross_entropy(logits.float(), y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.detach()


@torch.no_grad()
def evaluate_on(model: nn.Module, images: torch.Tensor, labels: torch.Tensor):
    """Mean cross-entropy and accuracy of ``model`` on uint8 ``images``."""
    model.eval()
    loss_sum, correct = 0.0, 0
    for first in range(0, len(images), 1_000):
        x = to_input(images[first : first + 1_000], device, channels_last=True)
        y = labels[first : first + 1_000].to(device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
            logits = model(x).float()
        loss_sum += F.cross_entropy(logits, y, reduction="sum").item()
        correct += (logits.argmax(1) == y).sum().item()
    return loss_sum / len(images), correct / len(images)


model = new_network()
print(f"parameters: {sum(p.numel() for p in model.parameters()):,}")

# %%
# ## 6. Choosing the peak: a learning-rate range test
#
# Every schedule needs a peak rate, and a bad one spoils any schedule. The
# **range test** (Leslie Smith, 2015; the "LR finder" of fastai) measures
# a good value in a few hundred steps instead of a grid of full runs: train
# a fresh network while the rate grows **exponentially**, from far too small
# to far too large, and record the loss after each step. At first the rate
# is too small to matter and the loss barely moves; then it falls; at some
# rate the steps get too large, the loss turns and finally explodes.
#
# The growth itself is a schedule: `ExponentialLR(gamma)` multiplies the
# rate by `gamma` per step, so stepping it per batch takes the rate from
# `low` to `high` in $n$ steps (`range_steps`) when
# $\gamma = (\text{high}/\text{low})^{1/(n-1)}$.
# The raw loss of single batches is noisy, so we follow an exponential
# moving average of it (with Adam's bias correction for the first steps),
# and stop once it is four times its lowest value.

range_steps = course.pick(full=300, smoke=12)
low, high = 1e-4, 10.0


def lr_range_test(
    steps: int, low: float, high: float
) -> tuple[list[float], list[float]]:
    """Rates and smoothed losses of a fresh network trained with an exponentially
    growing learning rate; stops early once the loss has exploded."""
    model = new_network()
    optimizer = new_optimizer(model, lr=low)
    growth = lr_scheduler.ExponentialLR(
        optimizer, gamma=(high / low) ** (1 / (steps - 1))
    )
    rates, smoothed = [], []
    average = 0.0
    for step in range(steps):
        idx = torch.randint(0, n_train, (batch_size,))
        rates.append(optimizer.param_groups[0]["lr"])
        loss = train_step(model, optimizer, idx).item()
        average = 0.9 * average + 0.1 * loss
        smoothed.append(average / (1 - 0.9 ** (step + 1)))
        if smoothed[-1] > 4 * min(smoothed) or not math.isfinite(loss):
            break
        growth.step()
    return rates, smoothed


course.seed_everything(0)
start = time.perf_counter()
range_rates, range_losses = lr_range_test(range_steps, low, high)
best_step = int(np.argmin(range_losses))
lowest_loss_rate = range_rates[best_step]
peak_lr = lowest_loss_rate / 10
print(
    f"range test: {len(range_rates)} steps in {time.perf_counter() - start:.1f} s"
)
print(
    f"lowest smoothed loss {range_losses[best_step]:.3f}"
    f" at lr = {lowest_loss_rate:.3g}"
)
print(f"chosen peak learning rate (a tenth of that): {peak_lr:.3g}")

# %%

fig, ax = plt.subplots(figsize=(8, 4))
ax.plot(range_rates, range_losses, linewidth=2, label="smoothed training loss")
ax.axvline(lowest_loss_rate, color="grey", linestyle=":", label="lowest loss")
ax.axvline(
    peak_lr, color="black", linestyle="--", label=f"chosen peak {peak_lr:.2g}"
)
ax.set_xscale("log")
ax.set_ylim(top=min(max(range_losses), 2.5 * min(range_losses)))
ax.set_title(
    f"Learning-rate range test: {len(range_rates)} steps,"
    " rate growing exponentially"
)
ax.set_xlabel("learning rate (log scale)")
ax.set_ylabel("training loss (cross-entropy)")
ax.legend()
ax.grid(True, alpha=0.3)
plt.show()

# %%
# The rule we use, **a tenth of the rate at the lowest loss**, is a common
# one: at the lowest point the rate is already close to where training turns
# unstable, and the test's network is still far from trained, so a margin
# below it is safer for a long run. Other rules exist (the rate where the
# loss falls fastest; Smith suggests a one-cycle peak close to where the
# loss stops falling), and the test is noisy: treat it as "the right order
# of magnitude", not as a precise optimum. We use the printed value,
# unchanged, as the peak for every schedule and as the rate of the constant
# baseline.
#
# ## 7. The controlled experiment
#
# Now the training loop, written out, because where `scheduler.step()` goes
# is what this lesson is about. It is Day 14's loop with the schedule
# stepped per batch, per epoch, or per epoch with the validation loss, as
# `make_schedule` says; it records the rate of every step, and after each
# epoch the training and validation loss and the validation accuracy.


def train_with_schedule(name: str, peak: float) -> dict:
    """Train a fresh network under schedule ``name``; return its final numbers,
    its per-epoch history, the rate of every step, and the model."""
    model = new_network()
    optimizer = new_optimizer(model, lr=peak)
    scheduler, when = make_schedule(name, optimizer, steps_per_epoch, epochs)
    history = {"train_loss": [], "val_loss": [], "val_acc": [], "lr": []}
    rates = []
    for _ in range(epochs):
        model.train()
        order = torch.randperm(n_train)
        loss_sum = torch.zeros((), device=device)
        for step in range(steps_per_epoch):
            idx = order[step * batch_size : (step + 1) * batch_size]
            rates.append(optimizer.param_groups[0]["lr"])
            loss_sum += train_step(model, optimizer, idx)  # ... optimizer.step()
            if when == "batch":
                scheduler.step()  # after optimizer.step(), every batch
        val_loss, val_acc = evaluate_on(model, val_images, val_labels)
        if when == "epoch":
            scheduler.step()  # once per epoch
        elif when == "metric":
            scheduler.step(val_loss)  # once per epoch, with the metric
        history["train_loss"].append(loss_sum.item() / steps_per_epoch)
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
        history["lr"].append(rates[-1])
    return {
        "val_acc": history["val_acc"][-1],
        "val_loss": history["val_loss"][-1],
        "train_loss": history["train_loss"][-1],
        "history": history,
        "rates": rates,
        "model": model,
    }


# %%
# Every run gets the same seed from `compare` (Day 12), so the same initial
# weights, the same order of batches and the same augmentations; only the
# schedule differs. The number reported is the validation accuracy after
# the last epoch: a schedule is judged on where it ends, with no peeking
# at earlier epochs.

variants = {
    name: (lambda name=name: train_with_schedule(name, peak_lr))
    for name in SCHEDULES
}
results = compare(variants, seeds=(0,))

# %%
# Before reading any difference, the noise. The constant rate again, with
# two more seeds (other initial weights, batch order and augmentations):

constant_runs = [results[0]] + compare(
    {"constant": variants["constant"]}, seeds=(1, 2)
)
constant_accs = [row["val_acc"] for row in constant_runs]
constant_mean = float(np.mean(constant_accs))
noise = max(constant_accs) - min(constant_accs)
accuracy_error = math.sqrt(constant_mean * (1 - constant_mean) / n_val)
print(f"constant rate, seeds 0-2: {', '.join(f'{a:.2%}' for a in constant_accs)}")
print(f"seed-to-seed spread (max - min): {noise * 100:.2f} points")
print(
    f"standard error of one accuracy near {constant_mean:.0%} on {n_val:,} "
    f"validation images: ±{accuracy_error * 100:.2f} points"
)

# %%
# The results, one row per run:

columns = [
    ("variant", "schedule"),
    ("seed", "seed", "d"),
    ("val_acc", "val acc", ".2%"),
    ("val_loss", "val loss", ".3f"),
    ("train_loss", "train loss", ".3f"),
    ("time_s", "time (s)", ".1f"),
]
print(format_table(results + constant_runs[1:], columns))

# %%

fig, (ax_acc, ax_loss) = plt.subplots(1, 2, figsize=(12, 4.5))
plot_runs(
    results,
    "val_acc",
    title="Validation accuracy per epoch",
    ylabel="validation accuracy (%)",
    scale=100,
    ax=ax_acc,
)
plot_runs(
    results,
    "val_loss",
    title="Validation loss per epoch",
    ylabel="cross-entropy",
    ax=ax_loss,
)
fig.tight_layout()
plt.show()

# %%
# And the rate each run actually used, step by step. The planned curves of
# section 3 reappear, except `ReduceLROnPlateau`'s (dashed), which now
# follows the real validation loss:

fig, ax = plt.subplots(figsize=(9, 4.5))
for row in results:
    style = "--" if row["variant"] == "ReduceLROnPlateau" else "-"
    ax.plot(
        step_axis, row["rates"], style, label=row["variant"], drawstyle="steps-post"
    )
ax.set_title(f"Learning rate used at every step (peak {peak_lr:.2g})")
ax.set_xlabel("epoch")
ax.set_ylabel("learning rate")
ax.legend(fontsize="small")
ax.grid(True, alpha=0.3)
plt.show()

by_name = {row["variant"]: row for row in results}
plateau_rates = by_name["ReduceLROnPlateau"]["rates"]
cuts = len(set(plateau_rates)) - 1  # the rate only ever goes down
print(f"ReduceLROnPlateau lowered the rate {cuts} time(s) in {epochs} epochs")
if plateau_rates == by_name["constant"]["rates"]:
    print(
        "It never lowered it: the validation loss never stalled for more than "
        "`patience` epochs, so this run is the constant-rate run, step for "
        "step, and its lines above hide the constant rate's."
    )

# %%
# ## 8. Verdicts, against the noise
#
# A schedule "beats" the constant rate only if its validation accuracy is
# above the constant rate's mean over three seeds by more than the
# seed-to-seed spread printed above. Three seeds are few and their spread
# is a rough yardstick (more seeds could only widen it), and each schedule
# ran with one seed, so its own number carries the same kind of noise:
# read differences *between* schedules smaller than the spread as ties.


def points(difference: float) -> str:
    return f"{difference * 100:+.2f} points"


for row in results[1:]:
    gain = row["val_acc"] - constant_mean
    if gain > noise:
        verdict = "better than the constant rate, by more than the noise"
    elif gain < -noise:
        verdict = "worse than the constant rate, by more than the noise"
    else:
        verdict = "within the noise of the constant rate"
    print(f"{row['variant']:<18} {row['val_acc']:.2%} ({points(gain)}): {verdict}")

best = max(results[1:], key=lambda row: row["val_acc"])  # the best schedule
best_gain = best["val_acc"] - constant_mean
print()
if best_gain > noise:
    print(
        f"Verdict: the best schedule, {best['variant']}, beats the constant "
        f"rate by {points(best_gain)}, more than the seed noise of "
        f"{noise * 100:.2f} points."
    )
else:
    print(
        "Verdict: no schedule beats the constant rate by more than the seed noise "
        f"of {noise * 100:.2f} points; the best, {best['variant']}, is "
        f"{points(best_gain)} from the constant rate's mean."
    )
ties = [
    row["variant"]
    for row in results[1:]
    if row is not best and best["val_acc"] - row["val_acc"] <= noise
]
if ties:
    print(f"Within the noise of {best['variant']} (ties): {', '.join(ties)}")

# %%
# Two mechanisms are at work, and the table separates them as far as one
# seed allows. **Annealing**: with a constant rate the weights keep jumping
# around the bottom of the valley, at a distance set by the rate and the
# gradient noise; a rate that ends near zero lets them settle, which shows
# as a drop of the validation loss in the last epochs (compare the curves
# above). **Warm-up**: the first steps from random weights have large,
# erratic gradients, and a full-size step there can push the weights to a
# poor region, or make them so large that later steps barely move them
# (with BatchNorm, a weight's effective step shrinks as the weight grows).
# "cosine" and "warm-up + cosine" differ in the warm-up only, so they give
# the warm-up's effect in this run:

warmup_gain = by_name["warm-up + cosine"]["val_acc"] - by_name["cosine"]["val_acc"]
size = "more" if abs(warmup_gain) > noise else "not more"
print(
    f"warm-up + cosine vs cosine: {points(warmup_gain)}, "
    f"{size} than the seed noise of {noise * 100:.2f} points"
)

# %%
# Two cautions about the ranking:
#
# - It holds for *this* budget and this peak: the run is short, and with a
#   longer one, or a peak tuned separately for each schedule (the constant
#   rate might prefer a lower one), the order of close schedules can change.
# - The table is also a comparison of average rates (section 3): a schedule
#   could win simply by moving the weights less overall, not by its shape.
#
# ## 9. The test set, once
#
# With the schedule chosen on validation, we load the test set and measure
# the chosen schedule's network and the constant rate's (both seed 0), once:

test_images, test_labels = cifar10_tensors(
    train=False, limit=course.pick(full=None, smoke=200)
)
chosen = best["variant"]
test_results = {}
for name in [chosen, "constant"]:
    row = next(r for r in results if r["variant"] == name)
    test_results[name] = evaluate_on(row["model"], test_images, test_labels)[1]
    print(
        f"{name:<18} test accuracy {test_results[name]:.2%}"
        f" ({len(test_labels):,} images)"
    )
print(
    "difference on test:", points(test_results[chosen] - test_results["constant"])
)
headline(
    "CIFAR-10 test accuracy, best schedule vs constant rate",
    f"{chosen} {test_results[chosen]:.2%} vs {test_results['constant']:.2%}",
)

elapsed = time.perf_counter() - lesson_start
print(
    f"lesson run time so far: {elapsed:.0f} s ({course.PROFILE} profile, {device})"
)

# %%
# The test numbers are the ones to report; they come from one seed each, so
# expect them to differ from the validation numbers by about the noise
# measured above.
#
# ## 10. Summary
#
# - A scheduler rewrites `optimizer.param_groups[i]["lr"]` each time you
#   call `scheduler.step()`, and only counts its calls: its lengths are in
#   whatever unit you step it in. Call it after `optimizer.step()`, or
#   PyTorch warns and the first rate is skipped.
# - Per batch for smooth schedules (cosine, warm-up, `OneCycleLR`, with
#   lengths in steps); per epoch for staircases (`StepLR`) and for
#   `ReduceLROnPlateau`, whose `step(metric)` needs the validation loss.
# - `LinearLR` + `SequentialLR` builds a warm-up in front of any schedule;
#   `OneCycleLR` is warm-up and annealing in one object (switch off
#   `cycle_momentum` if you want to change only the rate).
# - Draw a schedule on a dummy optimiser before training with it.
# - A learning-rate range test picks the peak in a few hundred steps.
# - Compare schedules like any other change: same seed, data and budget,
#   judged on validation against the measured seed noise, tested once.
#
# ## 11. Exercises
#
# 1. **The classic staircase.** `MultiStepLR(milestones, gamma)` divides
#    the rate at chosen epochs. Draw, with `planned_rates`-style stepping on
#    a dummy optimiser, the ResNet schedule of a 90-epoch run: divide by 10
#    at epochs 30 and 60.
# 2. **Warm restarts.** Draw `CosineAnnealingWarmRestarts(T_0, T_mult=2)`
#    stepped per batch for 7 epochs of 100 batches, with a first cycle of
#    one epoch. When does it restart?
# 3. **Resuming a run.** A training run stops after 300 of 1,000 one-cycle
#    steps. Save the optimiser's and the scheduler's `state_dict()`, build
#    new ones, load the states, and check that the rate continues where it
#    stopped. What goes wrong if you save only the optimiser?

# %%
# **Solution 1.** Stepped once per epoch, the milestones are epochs:


def rates_per_epoch(make_scheduler, epochs: int) -> list[float]:
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1)
    scheduler = make_scheduler(optimizer)
    rates = []
    for _ in range(epochs):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()  # ... a whole epoch of optimizer steps
        scheduler.step()
    return rates


multistep = rates_per_epoch(
    lambda o: lr_scheduler.MultiStepLR(o, milestones=[30, 60], gamma=0.1), 90
)
fig, ax = plt.subplots(figsize=(7, 3.2))
ax.step(np.arange(1, 91), multistep, where="post", linewidth=2)
ax.set_yscale("log")
ax.set_title("MultiStepLR(milestones=[30, 60], gamma=0.1), stepped per epoch")
ax.set_xlabel("epoch")
ax.set_ylabel("learning rate (log scale)")
ax.grid(True, alpha=0.3)
plt.show()
print(
    "rates of epochs 30, 31, 60, 61:",
    [f"{multistep[e - 1]:.3g}" for e in (30, 31, 60, 61)],
)

# %%
# **Solution 2.** With `T_0=100` steps and `T_mult=2` the cycles last 100,
# 200 and 400 steps, so the rate jumps back to its peak after epochs 1 and
# 3, and the third cycle ends exactly at the end of epoch 7. The restarts
# are found below as the steps where the rate goes up.

restarts = lr_trace(
    lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=100, T_mult=2), 700
)
jumps = [step for step in range(1, 700) if restarts[step] > restarts[step - 1]]
print(
    "the rate jumps back up at steps", jumps, "= epochs", [s / 100 for s in jumps]
)
fig, ax = plt.subplots(figsize=(7, 3.2))
ax.plot(np.arange(700) / 100, restarts, linewidth=2)
ax.set_title("CosineAnnealingWarmRestarts(T_0=100, T_mult=2), per batch")
ax.set_xlabel("epoch (100 batches each)")
ax.set_ylabel("learning rate ÷ peak")
ax.grid(True, alpha=0.3)
plt.show()

# %%
# **Solution 3.** A scheduler has its own state (above all, how many times
# it has been stepped), separate from the optimiser's. Saved together, the
# run resumes exactly. With only the optimiser saved, a new `OneCycleLR`
# starts counting at zero: the rate of the next step drops back to the
# start of the warm-up, in the middle of training. (Build the scheduler
# first, then load both states: building a `OneCycleLR` writes its starting
# rate into the optimiser.)


def one_cycle(parameter: nn.Parameter):
    optimizer = torch.optim.SGD([parameter], lr=0.1, momentum=0.9)
    scheduler = lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=1_000)
    return optimizer, scheduler


def next_rate(optimizer, scheduler) -> float:
    """Take one more step and return the rate the step after it will use."""
    optimizer.step()
    scheduler.step()
    return optimizer.param_groups[0]["lr"]


weight = nn.Parameter(torch.zeros(1))
optimizer, scheduler = one_cycle(weight)
for _ in range(300):
    optimizer.step()
    scheduler.step()
checkpoint = {
    "optimizer": optimizer.state_dict(),
    "scheduler": scheduler.state_dict(),
}
print(
    f"uninterrupted run, rate of step 302:  {next_rate(optimizer, scheduler):.5f}"
)

optimizer, scheduler = one_cycle(weight)
optimizer.load_state_dict(checkpoint["optimizer"])
scheduler.load_state_dict(checkpoint["scheduler"])
print(
    f"resumed with both states:             {next_rate(optimizer, scheduler):.5f}"
)

optimizer, scheduler = one_cycle(weight)
optimizer.load_state_dict(checkpoint["optimizer"])
print(
    f"resumed with the optimiser only:      {next_rate(optimizer, scheduler):.5f}"
)

elapsed = time.perf_counter() - lesson_start
print(f"Lesson run time: {elapsed:.0f} s ({course.PROFILE} profile, {device})")

# %%
# With training under control, we look inside a trained network. Next,
# [Day 16](day16_inside_a_cnn.ipynb) shows a CNN's feature maps layer by
# layer, and with Grad-CAM, where in an image it looks to decide.
