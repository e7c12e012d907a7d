"""
# Day 25 · Summary and next steps (專題總結與下一步)

Twenty-four lessons took you from a first tensor to training, checking,
explaining, exporting and presenting real models. This last lesson does three
things. It looks back: one list links every lesson with what it showed. It
makes training faster, and *measures* each tip on the machine that runs it
instead of listing them: a profile of one training step, mixed precision, the
channels-last memory layout, the precision of float32 matrix products,
`torch.compile`, and DataLoader worker processes, each against its baseline
with the machine's noise measured alongside. And it looks ahead: topics to
explore next, each with one concrete first step.

**You will learn:** reading a `torch.profiler` table of one training step ·
timing fairly: warm-up, taking turns, medians, and a rule for "no
difference" · mixed precision with `torch.autocast` (bfloat16 on a CPU,
float16 with `GradScaler` on a GPU) · `channels_last` · what
`torch.set_float32_matmul_precision` changes · when `torch.compile` pays
for its compile time · DataLoader `num_workers` on JPEG photos · where to
go after this course

**Before you start:** the project, [Day 24](day24_project.ipynb) ·
[Day 14](day14_cifar10.ipynb) (the network timed here) ·
[Day 4](day04_gpu.ipynb) (timing GPU work) ·
[Day 5](day05_data_loading.ipynb) (DataLoader) · **Reading time:** about
2 hours
"""

# %%
# ## 1. Set-up
#
# The lesson measures its own run time, as Day 14 did. Everything here
# runs on whatever device `course.choose_device()` finds (Day 4).

import time

lesson_start = time.perf_counter()

import functools
import logging
import math
import os
import random
import statistics
from collections.abc import Callable

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn
from torch.profiler import ProfilerActivity, profile, record_function
from torch.utils.data import DataLoader
from torchvision.transforms import v2

import course
from course.cifar import CifarNet, channel_stats, to_input
from course.data.cats_vs_dogs import load_cats_vs_dogs
from course.data.cifar10 import cifar10_tensors
from course.experiments import format_table
from course.report import headline

course.seed_everything(0)
device = course.choose_device()
print(f"profile: {course.PROFILE}, device: {device}, torch {torch.__version__}")
print(f"CPU cores: {os.cpu_count()}, threads PyTorch uses: {torch.get_num_threads()}")
if device.type == "cpu":
    print("No GPU on this machine: every measurement below is on the CPU.")

# %%
# ## 2. The course in 25 lessons
#
# What each lesson showed, in one line. The numbers each lesson produced
# when this site was built (its headline result and run time) are collected
# on the site's **Course results** page ([open it](../../results/) from the
# site; in a downloaded notebook or on Colab, find it in the site's
# navigation, after Week 4).
#
# **Week 1 · PyTorch basics and tensors**
#
# - [Day 1 · Getting started](day01_getting_started.ipynb): installing
#   PyTorch and choosing a Colab runtime, an environment report, and a first
#   model (a straight line fitted to noisy data) whose loss falls.
# - [Day 2 · Tensors](day02_tensors.ipynb): creating, indexing and
#   reshaping tensors, contiguity and the `view` error, broadcasting, and
#   memory shared with NumPy.
# - [Day 3 · Autograd](day03_autograd.ipynb): the graph and `grad_fn`,
#   `backward()`, gradients that add up, `no_grad` and `inference_mode`, a
#   gradient check against finite differences, and gradient descent by hand.
# - [Day 4 · CUDA / GPU](day04_gpu.ipynb): choosing a device once, moving
#   models and tensors, the device-mismatch error, `pin_memory`, and timing
#   asynchronous GPU work with synchronisation.
# - [Day 5 · Dataset and DataLoader](day05_data_loading.ipynb): a custom
#   `Dataset`, batching and shuffling, worker processes and the `__main__`
#   guard, padding in a `collate_fn`, and `random_split`.
# - [Day 6 · The training workflow](day06_training_workflow.ipynb): the five
#   steps written by hand for a regression and a classification, the right
#   loss for each task, and SGD, momentum and Adam compared.
# - [Day 7 · Nonlinear data and overfitting](day07_overfitting.ipynb): a
#   linear model against an MLP on decision-boundary plots, overfitting read
#   from train and validation curves, Dropout and weight decay in a table.
#
# **Week 2 · Training in practice, and CNNs**
#
# - [Day 8 · Training and validation](day08_train_validate.ipynb):
#   `train()` and `eval()`, evaluation without gradients, accuracy counted
#   correctly, and the reusable `fit` function the course trains with.
# - [Day 9 · Saving and loading](day09_save_load.ipynb): `state_dict`,
#   `weights_only=True`, and a checkpoint from which training resumes and
#   matches an uninterrupted run bit for bit.
# - [Day 10 · MNIST end to end](day10_mnist.ipynb): your own build of an
#   MLP digit classifier, with a confusion matrix and a gallery of its
#   mistakes.
# - [Day 11 · Convolution and pooling](day11_conv_pooling.ipynb): a
#   hand-made edge filter on real images, the output-size formula, the
#   receptive field, and a CNN measured against the MLP.
# - [Day 12 · Regularisation](day12_regularisation.ipynb): Dropout, weight
#   decay and augmentation taken apart, then compared in a controlled
#   experiment against the noise between seeds.
# - [Day 13 · CNN architectures](day13_cnn_architectures.ipynb): a plain, a
#   VGG-style and a small residual network compared on parameters,
#   multiply-adds, time and accuracy.
# - [Day 14 · CIFAR-10](day14_cifar10.ipynb): a fast recipe (data in memory,
#   batch augmentation, one-cycle, label smoothing, channels-last, bfloat16)
#   with per-class accuracy and the confusion matrix; the network that
#   Days 16, 19, 21 and this page reuse.
#
# **Week 3 · Advanced models and techniques**
#
# - [Day 15 · Learning-rate schedules](day15_lr_schedules.ipynb): where
#   `scheduler.step()` goes, five schedules plotted, a range test, and one
#   controlled comparison.
# - [Day 16 · Seeing inside a CNN](day16_inside_a_cnn.ipynb): feature maps,
#   first-layer filters against random ones, and Grad-CAM from scratch,
#   checked against Captum and against occlusion.
# - [Day 17 · Transfer learning](day17_transfer_learning.ipynb): an ImageNet
#   backbone on cats vs dogs, frozen, fine-tuned and trained from scratch,
#   and the BatchNorm trap of freezing.
# - [Day 18 · Early stopping](day18_early_stopping.ipynb): patience and
#   `min_delta` on a network that over-fits noisy labels, with the best and
#   the last weights compared on the test set.
# - [Day 19 · Inference and export](day19_inference_export.ipynb):
#   `eval()` and `inference_mode()` measured, TorchScript's blind spot,
#   `torch.export`, ONNX Runtime checked against PyTorch, and a small
#   prediction service.
# - [Day 20 · Planning and tuning](day20_tuning.ipynb): a baseline and its
#   noise, Optuna's TPE with pruning raced against random search, and the
#   test set touched once.
# - [Day 21 · Validation and demonstration](day21_validation_showcase.ipynb):
#   a confidence interval for accuracy, per-class precision and recall,
#   calibration with temperature scaling, and TensorBoard logs read back.
#
# **Week 4 · Tools and a small project**
#
# - [Day 22 · PyTorch Lightning](day22_lightning.ipynb): an earlier model
#   restructured as a `LightningModule` and trained by a `Trainer`, with
#   callbacks and logged metrics.
# - [Day 23 · Project data](day23_project_data.ipynb): the two project
#   datasets explored and prepared: cats-vs-dogs photos (statistics, splits,
#   image transforms) and SST-2 sentences (tokenisation, a vocabulary).
# - [Day 24 · The project](day24_project.ipynb): a pretrained image
#   classifier for cats vs dogs, and sentiment classifiers (a bag of
#   embeddings, a BiLSTM and a small Transformer encoder) compared, with
#   predictions on new inputs.
# - **Day 25 · Summary and next steps**: this page, the speed tips measured,
#   and where to go next.
#
# ## 3. Measure before you optimise
#
# The first tips are timed on one small, real workload: one training step
# of [Day 14](day14_cifar10.ipynb)'s CIFAR-10 network (`CifarNet`, from
# `course.cifar`) on one batch of real CIFAR-10 training images, with SGD.
# The batch's own channel statistics go into the network; they do not
# change the timing.

batch_size = course.pick(full=256, smoke=8)
images, labels = cifar10_tensors(train=True, limit=batch_size)
mean, std = channel_stats(images)
labels_on_device = labels.to(device)
print(f"one batch: {tuple(images.shape)} {images.dtype}")

# %%
# A timing that can be trusted needs three habits (Day 4 and Day 19 met
# them):
#
# - **warm up**: the first calls allocate memory and choose kernels;
# - **synchronise** on a GPU, whose work runs asynchronously;
# - **repeat and take the median**, because other programs may share the
#   machine and disturb a few of the calls.
#
# One more habit matters when comparing: let the variants **take turns**.
# If variant A ran for ten seconds and then B, a job that started in
# between would make B look slow. `compare_times` runs one call of each
# variant per round, in a shuffled order (so that no variant always runs
# right after the same other one), for several rounds, and keeps every
# round's time.


def synchronize() -> None:
    """Wait for queued GPU work (on a CPU there is none)."""
    if device.type == "cuda":
        torch.cuda.synchronize()
    elif device.type == "mps":
        torch.mps.synchronize()


def compare_times(
    variants: dict[str, Callable[[], object]], rounds: int, warmup: int = 1
) -> dict[str, list[float]]:
    """Milliseconds of one call of each variant, per round; variants take turns."""
    for run in variants.values():
        for _ in range(warmup):
            run()
    found: dict[str, list[float]] = {name: [] for name in variants}
    order = list(variants)
    shuffler = random.Random(0)
    for _ in range(rounds):
        shuffler.shuffle(order)
        for name in order:
            synchronize()
            start = time.perf_counter()
            variants[name]()
            synchronize()
            found[name].append(1000 * (time.perf_counter() - start))
    return found


# %%
# How do we decide that B is faster than A? If the two were equally fast,
# which one wins a round would be a coin toss. We call B **faster** only if
# it wins all rounds but at most one *and* its median time is more than
# 5 % lower; **slower** is the mirror image; anything else is **no clear
# difference**. The 5 % is a floor for what is worth a change of code: a
# smaller gain could be real, but it would not matter, and the next busy
# minute of the machine could turn it round. The cell prints how often
# two equally fast variants would still win enough rounds by luck.

rounds = course.pick(full=8, smoke=2)


def verdict(base: list[float], other: list[float]) -> tuple[float, int, str]:
    """(speed-up of the medians, rounds won by `other`, the verdict)."""
    speedup = statistics.median(base) / statistics.median(other)
    wins = sum(o < b for b, o in zip(base, other, strict=True))
    n = len(base)
    if wins >= n - 1 and speedup > 1.05:
        return speedup, wins, "faster"
    if wins <= 1 and speedup < 1 / 1.05:
        return speedup, wins, "slower"
    return speedup, wins, "no clear difference"


by_luck = (math.comb(rounds, rounds - 1) + 1) / 2**rounds
print(f"{rounds} rounds: an equal variant wins at least {rounds - 1} of them by luck "
      f"{by_luck:.1%} of the time")

# %%
# The training step, written as a function that builds a fresh network
# (the same initial weights every time) and returns a `step()` to call. Its
# two switches are the subject of section 5; `record_function` labels the
# three phases for the profiler and costs nothing when no profiler runs.

amp_dtype = torch.float16 if device.type == "cuda" else torch.bfloat16


def make_train_step(
    channels_last: bool = False,
    low_precision: bool = False,
    batch: tuple[torch.Tensor, torch.Tensor] = (images, labels_on_device),
) -> Callable[[], torch.Tensor]:
    """One SGD step of a fresh Day 14 network on `batch`, as a function."""
    batch_images, batch_labels = batch
    torch.manual_seed(0)
    model = CifarNet(mean, std).to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(
        model.parameters(), lr=0.05, momentum=0.9, nesterov=True
    )
    # float16 gradients can underflow to zero: GradScaler scales the loss up
    # before backward and the gradients down before the step (GPU only).
    use_scaler = low_precision and amp_dtype == torch.float16
    scaler = torch.amp.GradScaler(device.type, enabled=use_scaler)

    def step() -> torch.Tensor:
        x = to_input(batch_images, device, channels_last)  # uint8 -> float in [0, 1]
        with record_function("forward"):
            with torch.autocast(device.type, dtype=amp_dtype, enabled=low_precision):
                logits = model(x)
            loss = F.cross_entropy(logits.float(), batch_labels)
        with record_function("backward"):
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
        with record_function("optimizer step"):
            scaler.step(optimizer)
            scaler.update()
        return loss.detach()

    return step


baseline_step = make_train_step()
start = time.perf_counter()
loss_first = baseline_step().item()
print(f"first call of the float32 step: {1000 * (time.perf_counter() - start):.0f} ms")
start = time.perf_counter()
loss_second = baseline_step().item()
print(f"second call:                    {1000 * (time.perf_counter() - start):.0f} ms")
print(f"loss before the first step {loss_first:.4f}, before the second "
      f"{loss_second:.4f}")

# %%
# The first call pays one-off costs (allocating memory, choosing kernels),
# which is why every timing below starts with a warm-up call, and any
# single call can be slowed by whatever else the machine is doing, which
# is why it then takes several. (`.item()` waits for the result, so on a
# GPU these two timings need no extra synchronisation.) The two losses show
# how much one step of SGD changes the loss on this batch; section 5 needs
# that number.
#
# ## 4. Where does the time go? `torch.profiler` on one step
#
# Before changing anything, ask the profiler. `torch.profiler.profile`
# records every operator that runs inside its block, with its time. We
# profile one (warmed-up) step of the float32 baseline; on a GPU the
# profiler records the CUDA kernels as well.

# The profiler's C++ library, Kineto, prints a line when it starts and
# stops (and, with PyTorch's CUDA build on a machine without a GPU, an
# error about counting GPUs). None of it concerns this profile; its log
# level 6 silences it. Remove this line if a profile ever comes out empty.
os.environ.setdefault("KINETO_LOG_LEVEL", "6")

activities = [ProfilerActivity.CPU]
if device.type == "cuda":
    activities.append(ProfilerActivity.CUDA)
with profile(activities=activities) as prof:
    baseline_step()
    synchronize()
prof.export_chrome_trace("train_step_trace.json")
events = prof.key_averages()

# %%
# `prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=10)`
# prints the standard table; it is wider than this page, so we print its
# key columns ourselves. **Self** time is the time spent in an operator
# itself, not in the operators it calls, so the self times add up to the
# whole step and can be compared as shares.

time_key = "self_device_time_total" if device.type == "cuda" else "self_cpu_time_total"


def top_operators(events, rows: int = 10) -> None:
    """The operators with the most self time: calls, milliseconds and share."""
    total = sum(getattr(e, time_key) for e in events)
    ranked = sorted(events, key=lambda e: getattr(e, time_key), reverse=True)
    print(f"{'operator':<46} {'calls':>6} {'self ms':>9} {'share':>7}")
    for e in ranked[:rows]:
        name = e.key if len(e.key) <= 46 else e.key[:45] + "…"
        own = getattr(e, time_key)
        print(f"{name:<46} {e.count:>6} {own / 1000:>9.1f} {own / total:>7.1%}")
    label = f"all {len(events)} operators"
    print(f"{label:<46} {'':>6} {total / 1000:>9.1f}")


top_operators(events)

# %%
# Two summaries of the same profile: how the step splits into the three
# phases labelled with `record_function` (their *total* time, including
# everything they called), and how much of the self time went to
# operators with "conv" in their name, forward and backward together.

phases = {e.key: e.cpu_time_total / 1000 for e in events}
print(", ".join(f"{p}: {phases[p]:.1f} ms" for p in
                ("forward", "backward", "optimizer step")))
total_self = sum(getattr(e, time_key) for e in events)
conv_self = sum(getattr(e, time_key) for e in events if "conv" in e.key.lower())
conv_share = conv_self / total_self
print(f"convolution operators: {conv_share:.0%} of the step's self time")

# %%
# Read the table from the top. The convolutions, forward and backward,
# take the share printed above; BatchNorm, GELU and max pooling follow,
# each with a backward operator of its own. The optimiser's update of the
# weights is small, because the network is small. The profiler adds
# overhead of its own, so use it to see *where* the time goes and a timer
# to see *how much* a change saves.
#
# The trace written above, `train_step_trace.json`, holds every operator on
# a time line: open it at `https://ui.perfetto.dev` (or `chrome://tracing`)
# to see the forward pass, the backward pass and the update one after the
# other, and on a GPU the kernels under the Python calls that launched
# them.
#
# ## 5. Mixed precision and `channels_last`
#
# The profile points at the convolutions, so we try the two changes that
# make convolutions cheaper on a modern CPU (Day 14's recipe uses both):
#
# - **Mixed precision**: inside `torch.autocast`, convolutions and matrix
#   products run in a 16-bit format while the weights, the loss and the
#   optimiser stay in float32. On a CPU the format is **bfloat16**: 8 bits
#   of exponent like float32, so it has float32's range, but only 8 bits of
#   precision (two to three significant decimal digits).
# - **channels_last**: the same tensor stored as N×H×W×C in memory (the
#   shape stays N×C×H×W). oneDNN's convolution kernels prefer it, and on
#   a GPU so do the tensor cores.
#
# Both switches, alone and together, plus a second copy of the baseline:
# an identical variant, timed like the others, shows what "no difference"
# looks like on this machine today.

amp_name = str(amp_dtype).removeprefix("torch.")
settings = {  # name: (channels_last, low_precision)
    "float32": (False, False),
    "float32 (same again)": (False, False),
    "channels-last": (True, False),
    f"{amp_name} autocast": (False, True),
    f"{amp_name} + channels-last": (True, True),
}
steps = {"float32": baseline_step}
for name, (channels_last, low_precision) in list(settings.items())[1:]:
    steps[name] = make_train_step(channels_last, low_precision)
step_times = compare_times(steps, rounds)
rows = []
for name, ms in step_times.items():
    speedup, wins, word = verdict(step_times["float32"], ms)
    rows.append({
        "variant": name, "median": statistics.median(ms), "fastest": min(ms),
        "speed-up": speedup, "images/s": batch_size / statistics.median(ms) * 1000,
        "won": f"{wins}/{rounds}" if name != "float32" else "-",
        "verdict": word if name != "float32" else "baseline",
    })
print(f"one training step, batch {batch_size}, {rounds} rounds; ms per step")
print(format_table(rows, [
    ("variant", "variant"), ("median", "median", ".1f"),
    ("fastest", "fastest", ".1f"), ("speed-up", "speed-up", ".2f"),
    ("images/s", "images/s", ",.0f"), ("won", "won"), ("verdict", "verdict"),
]))

# %%
# Each dot below is one round; the bar is the median. Where the dots of two
# variants overlap, the medians alone would overstate what we know.

fig, ax = plt.subplots(figsize=(8, 3.6))
names = list(step_times)
for i, name in enumerate(names):
    ax.barh(i, statistics.median(step_times[name]), color="lightsteelblue")
    ax.plot(step_times[name], [i] * rounds, "o", color="navy", ms=4)
ax.set_yticks(range(len(names)), names)
ax.invert_yaxis()
ax.set_xlabel("milliseconds per training step (lower is faster)")
ax.set_title(f"Day 14's network, one step on {batch_size} images ({device.type})")
ax.legend(
    handles=[
        plt.Line2D([], [], marker="o", ls="", color="navy", ms=4, label="one round"),
        plt.Rectangle((0, 0), 1, 1, color="lightsteelblue", label="median"),
    ],
    loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=2,
)
plt.tight_layout()
plt.show()

# %%
# The verdicts, computed from the table:

named = {row["variant"]: row for row in rows}
for row in rows[1:]:
    print(f"{row['variant']:>26}: {row['verdict']} ({row['speed-up']:.2f}×, "
          f"won {row['won']} rounds)")
same = named["float32 (same again)"]["speed-up"]
drift = max(same, 1 / same)
beyond = [r["variant"] for r in rows[2:]
          if r["verdict"] == "faster" and r["speed-up"] > drift]
print(f"the identical variant differs from the baseline by {drift:.2f}×; "
      f"faster by more than that: {', '.join(beyond) or 'none'}")
best = max(rows[2:], key=lambda row: row["speed-up"])
print(f"fastest variant: {best['variant']}, {best['speed-up']:.2f}× the float32 "
      f"step ({named['float32']['median']:.0f} -> {best['median']:.0f} ms)")

# %%
# Read the "same again" row first: it measures nothing but the machine, so
# its speed-up is how far from 1.00 a ratio can drift on its own today. If
# the rule calls it faster or slower, the rule was fooled: two identical
# variants can differ for reasons that have nothing to do with their code
# (where their memory happened to land, what else ran at the time). Only a
# variant called "faster" by a margin beyond that drift has earned its
# place: the list printed above. How much each switch gains depends on the CPU
# (bfloat16 is fast only where the CPU has instructions for it; elsewhere
# it can be slower than float32), on the network and the batch size, and on
# what else the machine is doing. That is why the table, not a list of
# tips, decides.
#
# Faster is only useful if the numbers stay right. Autocast changes the
# arithmetic, so the same batch through the same fresh weights (in training
# mode, as in a step) gives slightly different logits and loss:

check_model = CifarNet(mean, std).to(device)
x = to_input(images, device, channels_last=False)
with torch.no_grad():
    logits_32 = check_model(x)
    with torch.autocast(device.type, dtype=amp_dtype):
        logits_16 = check_model(x).float()
loss_32 = F.cross_entropy(logits_32, labels_on_device).item()
loss_16 = F.cross_entropy(logits_16, labels_on_device).item()
print(f"largest logit {logits_32.abs().max().item():.2f}, largest difference "
      f"{(logits_16 - logits_32).abs().max().item():.1e}")
print(f"loss in float32: {loss_32:.5f}, with {amp_name} autocast: {loss_16:.5f}")
print(f"difference: {abs(loss_16 - loss_32):.1e}; one SGD step changed the loss by "
      f"{abs(loss_first - loss_second):.1e} (section 3)")

# %%
# Compare the two differences printed above: the rounding error of mixed
# precision against the change that a single training step makes. Whether
# a whole training run then reaches the same accuracy is a question for a
# training run: Day 14's recipe benchmark trains the recipe in float32 as
# one of its variants (its table is on Day 14's page).
#
# **On a GPU** the same code takes the other branch: `amp_dtype` is
# **float16**, whose exponent has only 5 bits, so small gradients underflow
# to zero. `GradScaler` multiplies the loss by a large factor before
# `backward()`, divides the gradients by it before the optimiser step,
# skips a step whose gradients overflowed, and adjusts the factor as
# training goes. The pattern, as in `make_train_step` above:
#
# ```python
# scaler = torch.amp.GradScaler("cuda")
# with torch.autocast("cuda", dtype=torch.float16):
#     loss = loss_fn(model(x), y)
# scaler.scale(loss).backward()
# scaler.step(optimizer)
# scaler.update()
# ```
#
# GPUs from NVIDIA's Ampere generation on (A100, RTX 30xx and later) also
# run bfloat16 fast, and then no scaler is needed. Expect very different
# numbers on a GPU: float16 on tensor cores usually gives a large speed-up
# for convolutional networks, and channels-last helps together with it.
# Open this notebook on Colab with a GPU runtime and the table above is
# measured there.
#
# ## 6. `torch.set_float32_matmul_precision`
#
# This setting allows float32 **matrix products** to use a faster, less
# precise internal format: `"highest"` (the default) computes in full
# float32, `"high"` and `"medium"` allow reduced formats where the hardware
# has them (TF32 on NVIDIA GPUs from Ampere on; on CPUs, oneDNN decides).
# It does not touch convolutions, so it cannot speed up the convolutions
# that dominate section 5's network. Does it matter on this machine? One
# matrix product, timed at each setting, with its error against the same
# product in float64:

size = course.pick(full=1024, smoke=256)
a = torch.randn(size, size, device=device)
b = torch.randn(size, size, device=device)
exact = a.double() @ b.double()
print(f"{size}×{size} matrices; typical size of an entry of the product (its "
      f"standard deviation): {exact.std().item():.1f}")
precisions = ("highest", "high", "medium")


def product_at(precision: str) -> Callable[[], torch.Tensor]:
    def run() -> torch.Tensor:
        torch.set_float32_matmul_precision(precision)
        return a @ b

    return run


matmul_times = compare_times({p: product_at(p) for p in precisions}, rounds)
for precision in precisions:
    torch.set_float32_matmul_precision(precision)
    error = ((a @ b).double() - exact).abs().max().item()
    speedup, wins, word = verdict(matmul_times["highest"], matmul_times[precision])
    line = (f"{precision:>8}: median {statistics.median(matmul_times[precision]):6.1f}"
            f" ms, largest error {error:.1e}")
    if precision != "highest":
        line += f", {speedup:.2f}× ({word}, won {wins}/{rounds})"
    if device.type == "cpu":
        line += f"  [oneDNN: {torch.backends.mkldnn.matmul.fp32_precision}]"
    print(line)
torch.set_float32_matmul_precision("highest")  # back to the default
matmul_speedup = statistics.median(matmul_times["highest"]) / statistics.median(
    matmul_times["medium"]
)

# %%
# The bracket shows what oneDNN, PyTorch's CPU library for these products,
# was told to use at each setting, and the verdicts say whether that
# changed the time on this CPU. Where `"medium"` is faster, it trades
# accuracy for it: compare the errors with the typical size of an entry
# printed above. Models built from `nn.Linear`
# (the MLPs, LSTMs and Transformers of Days 10 and 24) can gain from it;
# convolutional networks do not. It is a global switch, so we set it back.
#
# ## 7. `torch.compile`
#
# `torch.compile(model)` captures the Python code of a model as a graph and
# hands it to a compiler (by default **Inductor**), which fuses chains of
# small operations into single loops and generates C++ (on a CPU) or Triton
# (on a GPU) code for them. The first call pays for this; later calls run
# the compiled code. So the question is always: how much faster is each
# call, and after how many calls has the compile time paid for itself?
#
# The smoke profile (the course's quick test run) compiles with the `eager`
# backend, which captures the graph but generates no code, to finish in
# seconds; the published page uses Inductor.

compile_backend = course.pick(full="inductor", smoke="eager")
# On a machine with PyTorch's CUDA build but no GPU (like the one building
# this page), Inductor logs a warning about the CUDA toolkit when it looks
# for compilers; it does not concern CPU code, so we silence it.
logging.getLogger("torch.utils.cpp_extension").setLevel(logging.ERROR)


def first_call_seconds(run: Callable[[], object]) -> float:
    """Wall-clock seconds of one call (the first call of a compiled function)."""
    synchronize()
    start = time.perf_counter()
    run()
    synchronize()
    return time.perf_counter() - start


def calls_to_pay_off(first_s: float, eager_ms: float, compiled_ms: float) -> float:
    """Calls after which eager and compiled have cost the same time in total."""
    if compiled_ms >= eager_ms:
        return math.inf
    return (1000 * first_s - compiled_ms) / (eager_ms - compiled_ms)


def pay_off_text(calls: float, word: str) -> str:
    if word == "slower":
        return "the compiled version is slower per call here: compiling never pays off"
    if word != "faster" or not math.isfinite(calls):
        return "no clear gain per call here, so the compile time is not paid back"
    return f"compiling pays off after about {calls:,.0f} calls"


# %%
# First, where compiling shines: a chain of element-wise operations. The
# tanh approximation of GELU, written out, is eight operations; run eagerly,
# each one reads and writes the whole tensor. Compiled, they become one
# loop that reads each number once. PyTorch's own `F.gelu(x,
# approximate="tanh")` is the same formula fused by hand, a yardstick.


def gelu_tanh(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * x * (1 + torch.tanh(0.7978845608 * (x + 0.044715 * x**3)))


values = torch.randn(course.pick(full=4_000_000, smoke=100_000), device=device)
gelu_compiled = torch.compile(gelu_tanh, backend=compile_backend)
gelu_first_s = first_call_seconds(lambda: gelu_compiled(values))
difference = (gelu_compiled(values) - gelu_tanh(values)).abs().max().item()
gelu_times = compare_times({
    "eager": lambda: gelu_tanh(values),
    "compiled": lambda: gelu_compiled(values),
    "F.gelu (hand-fused)": lambda: F.gelu(values, approximate="tanh"),
}, rounds)
print(f"{values.numel():,} values; first compiled call {gelu_first_s:.1f} s; "
      f"largest difference from eager {difference:.1e}")
for name, ms in gelu_times.items():
    speedup, wins, word = verdict(gelu_times["eager"], ms)
    note = f"  {speedup:5.2f}× ({word}, won {wins}/{rounds})"
    if name == "eager":
        note = ""
    print(f"{name:>20}: median {statistics.median(ms):7.2f} ms{note}")
gelu_eager_ms = statistics.median(gelu_times["eager"])
gelu_compiled_ms = statistics.median(gelu_times["compiled"])
gelu_calls = calls_to_pay_off(gelu_first_s, gelu_eager_ms, gelu_compiled_ms)
gelu_speedup, _, gelu_word = verdict(gelu_times["eager"], gelu_times["compiled"])
print(pay_off_text(gelu_calls, gelu_word))

# %%
# Second, the real question: a whole training step. A convolutional network
# such as section 5's gives Inductor many more fused groups to generate,
# forward and backward, and each one is compiled C++; on two CPU cores that
# takes longer than this page's time budget allows (try it on your own
# machine when you have minutes to spare). So we compile the training step
# of [Day 10](day10_mnist.ipynb)'s MLP instead, on a batch of MNIST-shaped
# random inputs (the values do not change the timing). `torch.compile`
# wraps the model; the optimiser step stays eager.


def make_mlp(
    hidden: tuple[int, ...] = (512, 256), dropout: float = 0.2
) -> nn.Sequential:
    """Day 10's MLP for 28×28 digits."""
    layers: list[nn.Module] = [nn.Flatten()]
    width = 28 * 28
    for size in hidden:
        layers += [nn.Linear(width, size), nn.ReLU(), nn.Dropout(dropout)]
        width = size
    layers.append(nn.Linear(width, 10))
    return nn.Sequential(*layers)


digits = torch.rand(batch_size, 1, 28, 28, device=device)
digit_labels = torch.randint(0, 10, (batch_size,), device=device)


def make_mlp_step(compiled: bool) -> Callable[[], None]:
    torch.manual_seed(0)
    model = make_mlp().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    forward = torch.compile(model, backend=compile_backend) if compiled else model

    def step() -> None:
        loss = F.cross_entropy(forward(digits), digit_labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return step


mlp_steps = {"eager": make_mlp_step(False), "compiled": make_mlp_step(True)}
mlp_first_s = first_call_seconds(mlp_steps["compiled"])
mlp_times = compare_times(mlp_steps, rounds)
mlp_speedup, mlp_wins, mlp_word = verdict(mlp_times["eager"], mlp_times["compiled"])
mlp_eager_ms = statistics.median(mlp_times["eager"])
mlp_compiled_ms = statistics.median(mlp_times["compiled"])
mlp_calls = calls_to_pay_off(mlp_first_s, mlp_eager_ms, mlp_compiled_ms)
print(f"MLP training step, batch {batch_size}: first compiled call {mlp_first_s:.1f} s")
print(f"eager {mlp_eager_ms:.2f} ms, compiled {mlp_compiled_ms:.2f} ms per step: "
      f"{mlp_speedup:.2f}× ({mlp_word}, won {mlp_wins}/{rounds})")
print(pay_off_text(mlp_calls, mlp_word))
if mlp_word == "faster" and math.isfinite(mlp_calls):
    print(f"that is {mlp_calls / (60_000 / batch_size):.1f} epochs of MNIST's "
          f"60,000 images at batch {batch_size}")

# %%
# Compare the two results. Where the element-wise chain gains, it is
# because fusing removes most of its memory traffic, and its compile time
# is repaid after the number of calls printed above. In a training step
# much of the time goes to matrix products or convolutions (section 4),
# which Inductor hands to the same library kernels that eager mode calls;
# only the small operations around them get fused, so the gain per step is
# small at best (read the MLP's verdict above), and for a short run on a
# CPU compiling may never pay off. A first call's time includes the
# compilation, or reading compiled code back from Inductor's cache on disk
# when an earlier run on the same machine compiled the same graph, which
# is much faster; the first `torch.compile` in a process also pays for
# starting the compiler itself, which later compilations share.
#
# On a GPU the balance usually tips the other way for models trained
# longer than a few minutes: launch overhead and memory traffic matter more
# there, and `mode="reduce-overhead"` (CUDA graphs) removes most of the
# launch cost. Two habits save surprises: a batch of a new shape (often the
# last, smaller batch of an epoch) triggers a **recompilation**
# (`drop_last=True` avoids it), and the first call should be made before
# you start a timer.
#
# ## 8. DataLoader workers on JPEG photos
#
# Day 5 introduced `num_workers`; here it is measured where it can matter:
# photos that must be decoded and transformed one at a time. The
# cats-vs-dogs photos are JPEG files; each is read, decoded, randomly
# cropped and resized to 160×160, flipped, and turned into a uint8 tensor.
# The loader hands over uint8 batches and the float conversion happens once
# per batch (Day 14's advice: less to send between processes). Three ways
# to run one epoch:
#
# - `num_workers=0`: the main process does everything;
# - `num_workers=2`: two worker processes prepare batches while the main
#   process consumes them; a new `DataLoader` per epoch, as many training
#   loops write it, starts its workers anew every epoch;
# - `num_workers=2, persistent_workers=True`: the same loader is reused and
#   its workers stay alive from one epoch to the next.

n_photos = course.pick(full=256, smoke=32)
photo_transform = v2.Compose([
    v2.RandomResizedCrop(160, antialias=True),
    v2.RandomHorizontalFlip(),
    v2.PILToTensor(),
])
photos = load_cats_vs_dogs("train", transform=photo_transform, limit=n_photos)
persistent_loader = DataLoader(
    photos, batch_size=32, shuffle=True, num_workers=2, persistent_workers=True
)


def one_epoch(loader: DataLoader) -> None:
    for batch, _ in loader:
        batch.float().div_(255)


def fresh_epoch(num_workers: int) -> Callable[[], None]:
    return lambda: one_epoch(
        DataLoader(photos, batch_size=32, shuffle=True, num_workers=num_workers)
    )


loader_variants = {
    "num_workers=0": fresh_epoch(0),
    "num_workers=2": fresh_epoch(2),
    "num_workers=2, persistent": functools.partial(one_epoch, persistent_loader),
}
loader_warmup = course.pick(full=1, smoke=0)
loader_times = compare_times(loader_variants, rounds, warmup=loader_warmup)
del loader_variants, persistent_loader  # the persistent workers end with the loader
loader_rows = []
for name, ms in loader_times.items():
    speedup, wins, word = verdict(loader_times["num_workers=0"], ms)
    loader_rows.append({
        "loader": name,
        "seconds": statistics.median(ms) / 1000,
        "photos/s": n_photos / statistics.median(ms) * 1000, "speed-up": speedup,
        "verdict": f"{word} ({wins}/{rounds})" if loader_rows else "baseline",
    })
print(f"one epoch of {n_photos} photos in batches of 32; median of {rounds} rounds")
print(format_table(loader_rows, [
    ("loader", "loader"), ("seconds", "s/epoch", ".2f"),
    ("photos/s", "photos/s", ",.0f"), ("speed-up", "speed-up", ".2f"),
    ("verdict", "verdict"),
]))
start_up = loader_times["num_workers=2"], loader_times["num_workers=2, persistent"]
start_up_ms = statistics.median(start_up[0]) - statistics.median(start_up[1])
print(f"starting two workers cost about {start_up_ms:.0f} ms per epoch "
      f"(the difference of the two medians); the main process alone needed "
      f"{statistics.median(loader_times['num_workers=0']) / n_photos:.2f} ms "
      "per photo")

# %%
# Whether workers win depends on how much work each photo needs against
# the cost of starting processes and passing batches between them: compare
# the start-up cost printed above with the time of a whole epoch, and the
# three verdicts with each other. `persistent_workers=True` removes the
# start-up cost from every epoch but the first.
#
# Sharing the work between two processes on two cores can at best double
# the rate. A larger gain, if the table shows one, means the main process
# on its own was slowed by something the workers avoid. The likely culprit
# is a busy machine: the DataLoader runs each worker's PyTorch with a
# single thread, while in the main process PyTorch's operations (stacking
# the photos into a batch) use several threads, which wait for each other
# when other programs hold the cores. Compare the time per photo printed
# above with what these small JPEGs (224 pixels on the short side) need on
# your machine.
#
# Workers pay off most when each sample is expensive (large photos, heavy
# augmentation, audio or video decoding) and spare cores exist: on Colab's
# GPU machines the model runs on the GPU, the CPU cores have little else to
# do, and the loader often decides the speed of the whole loop. Two more
# settings: `pin_memory=True` speeds up copies to a GPU (Day 4), and in a
# script, the `if __name__ == "__main__":` guard is required on Windows and
# macOS (Day 5).
#
# ## 9. The measurements in one table
#
# Everything this page measured, each against its own baseline:

summary = [
    {"tip": f"{best['variant']} (training step, section 5)",
     "baseline": "float32, NCHW", "speed-up": best["speed-up"],
     "verdict": best["verdict"]},
    {"tip": "matmul precision 'medium' (section 6)", "baseline": "'highest'",
     "speed-up": matmul_speedup,
     "verdict": verdict(matmul_times["highest"], matmul_times["medium"])[2]},
    {"tip": "torch.compile, element-wise (section 7)", "baseline": "eager",
     "speed-up": gelu_speedup, "verdict": gelu_word},
    {"tip": "torch.compile, MLP step (section 7)", "baseline": "eager",
     "speed-up": mlp_speedup, "verdict": mlp_word},
    {"tip": "2 persistent DataLoader workers (section 8)",
     "baseline": "num_workers=0", "speed-up": loader_rows[2]["speed-up"],
     "verdict": loader_rows[2]["verdict"].split(" (")[0]},
]
print(format_table(summary, [
    ("tip", "tip"), ("baseline", "baseline"),
    ("speed-up", "speed-up", ".2f"), ("verdict", "verdict"),
]))
headline(
    "Fastest training step of Day 14's network on this machine",
    f"{best['variant']}, {best['speed-up']:.2f}× the float32 baseline "
    f"({named['float32']['median']:.0f} -> {best['median']:.0f} ms per batch of "
    f"{batch_size}, {device.type})",
)

# %%
# What was *not* measured here, because it needs a GPU or a longer run:
# `torch.backends.cudnn.benchmark = True` (lets cuDNN try its convolution
# algorithms once per input shape), larger batches to fill a GPU, and
# avoiding `.item()` inside the loop (each call waits for the GPU, Day 4).
# Try them on Colab with the timing pattern of this page: a baseline, warm-up,
# turns, medians, and the noise measured next to the result.
#
# ## 10. Where to go next
#
# Each topic with one concrete first step, something you can start today:
#
# - **Pretrained Transformers for text.** Install Hugging Face
#   `transformers`, run `pipeline("sentiment-analysis")` on ten SST-2 dev
#   sentences and compare its answers with Day 24's models. Then work
#   through chapter 3 of the Hugging Face LLM Course, which fine-tunes a
#   pretrained model on a GLUE task with the `Trainer` API (SST-2 is one of
#   the GLUE tasks).
# - **A GPT from scratch.** Clone Karpathy's `nanoGPT` and train its
#   `shakespeare_char` configuration with the small CPU settings its README
#   lists (`--device=cpu --compile=False` and a tiny model); then read
#   `model.py`, a few hundred lines that use exactly the modules you know.
# - **Detection and segmentation.** Follow torchvision's "Object Detection
#   Finetuning" tutorial (Mask R-CNN on the Penn-Fudan pedestrians), or first
#   run `torchvision.models.detection.fasterrcnn_mobilenet_v3_large_fpn(
#   weights="DEFAULT")` on a cats-vs-dogs photo and draw its boxes with
#   `torchvision.utils.draw_bounding_boxes`.
# - **Profiling on a GPU.** Open this notebook on Colab with a GPU runtime;
#   section 4 then records CUDA kernels too. Open the trace file in Perfetto
#   and find the gaps where the GPU waits for Python.
# - **Training on several GPUs.** Work through PyTorch's "Getting Started
#   with Distributed Data Parallel" tutorial. No GPUs yet? With the `gloo`
#   backend and the model left on the CPU, its basic example runs as two
#   processes on one machine: wrap Day 14's loop in `DistributedDataParallel`
#   and start it with `torchrun --nproc_per_node=2 train.py`. FSDP
#   (`fully_shard`) is the next step, for models too big for one GPU.
# - **Quantisation.** Day 19 quantised to int8 with ONNX Runtime. Next, try
#   `torchao`: `quantize_(model, Int8WeightOnlyConfig())` on a model built
#   from `nn.Linear` layers (Day 24's Transformer), and measure size, speed
#   and accuracy the way this page measures speed.
# - **On-device deployment.** Export Day 14's network with
#   `torch.export.export` (Day 19), lower it with ExecuTorch's
#   `to_edge_transform_and_lower(..., partitioner=[XnnpackPartitioner()])`,
#   write the `.pte` file and run it, following ExecuTorch's "Building and
#   Running ExecuTorch with XNNPACK Backend" tutorial.
# - **Diffusion models.** Follow the Hugging Face `diffusers` tutorial
#   "Train a diffusion model" (a `UNet2DModel` with a `DDPMScheduler`), or
#   write the DDPM training loop yourself for 28×28 digits with Day 11's
#   convolutions: noise an image, train a network to predict the noise.
# - **Reinforcement learning.** PyTorch's "Reinforcement Learning (DQN)
#   Tutorial" trains an agent on Gymnasium's `CartPole-v1`, small enough
#   for a CPU; its pieces (a network, a loss, an optimiser, a memory of past
#   transitions to sample batches from) are the ones this course built.
# - **Graph neural networks.** PyTorch Geometric's "Introduction by
#   Example" trains a graph convolutional network on the Cora citation
#   graph, small enough for a CPU; first install `torch_geometric` and run
#   its first example.
#
# ## 11. Run time

elapsed = time.perf_counter() - lesson_start
print(f"lesson run time: {elapsed:.0f} s")

# %%
# ## 12. Summary
#
# - The course in one line: tensors and autograd, the five-step training
#   loop with validation, CNNs on real images, schedules, interpretation,
#   transfer learning, export, tuning, evaluation, Lightning, and a project
#   with image and text models.
# - **Profile first** (`torch.profiler`, self time, a trace for Perfetto),
#   then change what the profile points at.
# - **Time honestly**: warm up, synchronise on a GPU, let the variants take
#   turns, take medians, and measure the noise with an identical variant
#   before calling a winner.
# - **Mixed precision** (`torch.autocast`: bfloat16 on a CPU, float16 with
#   `GradScaler` on a GPU) and **channels-last** are the first things to try
#   for a convolutional network; check that the loss barely moves.
# - `torch.set_float32_matmul_precision` affects matrix products only, and
#   whether it changes anything depends on the hardware: measure it.
# - `torch.compile` pays off when the fused operations dominate and the run
#   is long enough to repay the compile time; work out the break-even.
# - DataLoader workers help when per-sample work is heavy and cores are
#   free.
#
# ## 13. Exercises
#
# 1. **What is left to optimise?** Profile one step of section 5's fastest
#    variant. Which operators lead the table now, and what share do the
#    convolutions take?
# 2. **Batch size and throughput.** Time the fastest variant at a quarter
#    of the batch size, taking turns with the full batch. Does the smaller
#    batch process as many images per second?
# 3. **`no_grad` or `inference_mode`?** Time the network's forward pass
#    in evaluation mode three ways: with autograd recording, under
#    `torch.no_grad()` and under `torch.inference_mode()`. Which
#    differences are real by this page's rule?

# %%
# **Solution 1.** Profile a warmed-up step of the fastest variant and
# reuse `top_operators`. Compare the convolutions' share with the float32
# step's: when the convolutions get faster, the operators around them
# (BatchNorm, GELU, pooling and their backward operators) take a larger
# share of what is left. Each speed-up moves the bottleneck, and fusing
# exactly those small operators is what `torch.compile` is for.

fastest_step = steps[best["variant"]]
fastest_step()
with profile(activities=activities) as prof_best:
    fastest_step()
    synchronize()
best_events = prof_best.key_averages()
top_operators(best_events, rows=8)
best_conv = sum(getattr(e, time_key) for e in best_events if "conv" in e.key.lower())
best_total = sum(getattr(e, time_key) for e in best_events)
print(f"convolutions: {best_conv / best_total:.0%} of the self time "
      f"(float32 step: {conv_share:.0%})")

# %%
# **Solution 2.** Build the fastest variant a second time on the first
# quarter of the batch and let the two take turns. Each step has fixed
# costs (Python, launching every operator, the optimiser's update of every
# weight) that a small batch divides among fewer images, and a small
# convolution gives the cores less work at a time; how much that matters
# on this CPU is what the two rates say. On a GPU the effect is much
# stronger: a small batch leaves most of its arithmetic units idle.

quarter = batch_size // 4
small_step = make_train_step(
    *settings[best["variant"]], batch=(images[:quarter], labels_on_device[:quarter])
)
sizes = {f"batch {quarter}": quarter, f"batch {batch_size}": batch_size}
batch_times = compare_times(
    dict(zip(sizes, [small_step, steps[best["variant"]]], strict=True)), rounds
)
for name, ms in batch_times.items():
    print(f"{name}: {statistics.median(ms):.1f} ms per step, "
          f"{sizes[name] / statistics.median(ms) * 1000:,.0f} images/s")

# %%
# **Solution 3.** One forward pass of a fresh network in evaluation mode,
# under each context manager (`contextlib.nullcontext` does nothing, so
# autograd records as usual). Recording keeps every intermediate tensor
# that backward would need and builds the graph's nodes; both context
# managers skip that. `inference_mode` also skips the version counters of
# its tensors (Day 3), which saves little more: read the verdicts before
# believing any gap between the two. Day 19 measured the memory that
# recording keeps.

import contextlib

eval_model = CifarNet(mean, std).to(device).eval()
x_eval = to_input(images, device, channels_last=False)


def forward_under(context) -> Callable[[], torch.Tensor]:
    def run() -> torch.Tensor:
        with context():
            return eval_model(x_eval)

    return run


contexts = {
    "autograd recording": contextlib.nullcontext,
    "no_grad": torch.no_grad,
    "inference_mode": torch.inference_mode,
}
eval_times = compare_times({n: forward_under(c) for n, c in contexts.items()}, rounds)
for name, ms in eval_times.items():
    speedup, wins, word = verdict(eval_times["autograd recording"], ms)
    note = "" if name == "autograd recording" else (
        f"  {speedup:.2f}× ({word}, won {wins}/{rounds})")
    print(f"{name:>18}: median {statistics.median(ms):6.1f} ms{note}")

# %%
# ## 14. The end, and a beginning
#
# That is the course: 25 days from `torch.tensor` to a project with image
# and text models, measured, explained and exported. Every page was
# executed when the site was built, and every number on it came from that
# run, which is the habit worth keeping: **say what you measured, against
# what, and how sure you are.** Pick one topic from section 10, start
# with its first step, and keep a baseline next to every result.
