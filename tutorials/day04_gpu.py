"""
# Day 4 · CUDA / GPU (CUDA/GPU 操作)

A GPU runs thousands of arithmetic units side by side, so the large matrix
products at the heart of deep learning can run much faster on it than on a CPU.
But PyTorch never moves data for you: every tensor lives on one device, and an
operation runs where its inputs are. After this lesson you can find out which
accelerator a machine has, choose a device once and write code that runs
unchanged on a laptop CPU, an NVIDIA GPU or an Apple GPU, move models and
tensors the right way, read the device-mismatch error, and time GPU work
without fooling yourself.

This page runs on whatever machine builds it. Where a step needs a CUDA GPU and
there is none, the code says so in its output ("CUDA not available: skipped
...") instead of pretending.

**You will learn:** checking for CUDA and MPS · choosing a device once ·
`.to(device)` vs `.cuda()` vs `.cpu()` · moving models and tensors · the
device-mismatch error · `pin_memory` and `non_blocking` · timing asynchronous
GPU work · GPU memory statistics

**Before you start:** [Day 2](day02_tensors.ipynb) (a tensor's `dtype` and
`device`) and [Day 3](day03_autograd.ipynb) · **Reading time:** about 2 hours
"""

# %%
# ## 1. What does this machine have?
#
# PyTorch talks to three kinds of hardware you are likely to meet:
#
# - **CUDA**: NVIDIA GPUs (on Colab: *Runtime → Change runtime type → GPU*).
#   Ask with `torch.cuda.is_available()`; `torch.cuda.device_count()` says how
#   many, and each one has a name and a memory size.
# - **MPS** (Metal Performance Shaders): the GPU of Apple-silicon Macs. Ask with
#   `torch.backends.mps.is_available()`.
# - **CPU**: always there.
#
# PyTorch 2.6 and later also ask one question for whichever accelerator the
# build supports (NVIDIA, Apple, Intel, ...): `torch.accelerator.is_available()`
# says whether one is usable, and `torch.accelerator.current_accelerator()`
# names it. PyTorch's own tutorials now pick the device this way
# ([Day 1](day01_getting_started.ipynb) showed it too).
#
# `is_available()` never raises; it just answers `False` when it cannot use the
# hardware. That happens for three common reasons: a CPU-only PyTorch wheel
# (then `torch.version.cuda` is `None`), a missing or too-old NVIDIA driver, or
# GPUs hidden with `CUDA_VISIBLE_DEVICES=""`.

# sphinx_gallery_needs_gpu = True
import statistics
import time
from functools import partial

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

import course

course.seed_everything(0)
print(
    f"torch {torch.__version__}; CUDA version of this build: {torch.version.cuda}"
)

# %%
# Now the questions themselves. The loop over GPUs only runs when there are some.

cuda_ok = torch.cuda.is_available()
print(f"torch.cuda.is_available()         -> {cuda_ok}")
print(f"torch.cuda.device_count()         -> {torch.cuda.device_count()}")
if cuda_ok:
    for i in range(torch.cuda.device_count()):
        props = torch.cuda.get_device_properties(i)
        print(
            f"  cuda:{i}  {props.name}: {props.total_memory / 2**30:.1f} GiB, "
            f"compute capability {props.major}.{props.minor}, "
            f"{props.multi_processor_count} streaming multiprocessors"
        )
else:
    print("CUDA not available: no NVIDIA GPU is usable from this process")

mps_ok = torch.backends.mps.is_available()
print(
    f"torch.backends.mps.is_available() -> {mps_ok} (MPS built into this wheel: "
    f"{torch.backends.mps.is_built()})"
)
if hasattr(torch, "accelerator"):  # PyTorch 2.6 and later
    any_accelerator = torch.accelerator.is_available()
    print(f"torch.accelerator.is_available()  -> {any_accelerator}")
    if any_accelerator:
        print(
            f"torch.accelerator.current_accelerator() -> "
            f"{torch.accelerator.current_accelerator()}"
        )

# %%
# Compare the first line printed in this section with `is_available()`: a
# wheel built for CUDA only *may* use a GPU. It still needs a GPU and a driver
# on the machine it runs on.
#
# ## 2. Choose the device once
#
# A `torch.device` names where a tensor lives: `"cpu"`, `"cuda"` (the current
# CUDA GPU, which is `cuda:0` unless you change it), `"cuda:1"` (the second
# GPU), `"mps"`. The habit that keeps code portable is to decide **once**, at the
# top, and then pass that one `device` everywhere. Nothing else in the program
# mentions `"cuda"`. Here is the decision written out by hand: the best
# available accelerator, else the CPU.


def pick_device() -> torch.device:
    """CUDA if usable, else Apple's MPS, else the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


device = pick_device()
print(f"device = {device!r}: type {device.type!r}, index {device.index}")

# %%
# With `torch.accelerator` the same decision is one expression, and it also
# covers accelerators this function does not know (Intel's XPU, for one). The
# `hasattr` check keeps the cell working on an older PyTorch:

if hasattr(torch, "accelerator"):
    accelerator_choice = (
        torch.accelerator.current_accelerator()
        if torch.accelerator.is_available()
        else torch.device("cpu")
    )
    print(f"torch.accelerator chooses {accelerator_choice}")
    print(f"pick_device chose {device}")

# %%
# From [Day 5](day05_data_loading.ipynb) on, the lessons call
# `course.choose_device()`, which is this function plus one extra: the
# `COURSE_DEVICE` environment variable can force a choice (for example
# `COURSE_DEVICE=cpu` to compare timings), and asking for a device that is
# missing raises at once instead of failing later.
#
# The cheapest way to put a tensor on the device is to **create it there**. The
# `device=` argument allocates directly on the device, while creating on the CPU
# and moving costs an extra allocation and a copy. The `*_like` functions
# inherit both `dtype` and `device` from their argument.

x = torch.randn(2, 3, device=device)
zeros = torch.zeros_like(x)
print(f"x on {x.device}, zeros_like(x) on {zeros.device}, dtype {zeros.dtype}")

# %%
# ## 3. `.to(device)`, `.cuda()` and `.cpu()`
#
# All three copy a tensor to another device. They differ in *when* each one is
# the right call:
#
# | call | what it does | right when |
# | --- | --- | --- |
# | `t.to(device)` | `t` on `device` | almost always: it works for any `device` |
# | `t.cuda()` | `t.to("cuda")` | a script that only runs on an NVIDIA GPU |
# | `t.cpu()` | `t.to("cpu")` | leaving the device: before `.numpy()`, plots |
#
# `.to()` can change the dtype in the same call (`t.to(device, torch.float16)`).
# `.cuda()` raises on every machine without CUDA. `.cpu()` is for anything that
# only understands host memory.
#
# To see each move do something, we need a *second* device to move things to.
# With CUDA that is the GPU. Without it, this lesson uses PyTorch's **`meta`
# device**: a meta tensor has a shape and a dtype but no data, so it cannot be
# printed or read back. It follows the same device rules as a CUDA tensor, and
# the errors it provokes are real PyTorch errors, so the lesson works the same
# on a laptop.

other = torch.device("cuda") if cuda_ok else torch.device("meta")
print(f"the 'other' device in this lesson: {other}")

# %%
# **`.to()` returns a tensor; it does not change the one you call it on.** The
# classic bug is a line like `t.to(device)` whose result is thrown away:

t = torch.arange(4.0)
t.to(other)  # the moved copy is discarded
print(f"after t.to(other):     t is on {t.device}")
t = t.to(other)  # keep the result
print(f"after t = t.to(other): t is on {t.device}")

# %%
# When no conversion is needed, `.to()` does not copy at all: it hands back the
# very same tensor. Writing `t.to(device)` on a tensor that is already there
# costs nothing, so you never need an `if` around it.

u = torch.arange(4.0)
print("u.to('cpu') is u:          ", u.to("cpu") is u)
print("u.to(torch.float64) is u:  ", u.to(torch.float64) is u)

# %%
# **Why not `.cuda()`?** It hard-codes the hardware. Run the next cell on a
# machine without a usable NVIDIA GPU and it raises, which is the point of the
# cell. (A CPU-only wheel raises `AssertionError: Torch not compiled with CUDA
# enabled`; a CUDA wheel without a driver raises a `RuntimeError` saying it
# found no NVIDIA driver.) On a GPU machine it simply works.

try:
    on_gpu = torch.ones(2).cuda()
    print(f".cuda() worked: {on_gpu.device}")
except (AssertionError, RuntimeError) as err:
    print(
        "Expected error (no usable NVIDIA GPU here):", type(err).__name__, "-", err
    )

# %%
# **`.cpu()` on the way out.** NumPy only knows host memory, so `.numpy()`
# refuses any tensor that lives on another device. The message names the device
# and tells you the fix. On a GPU it reads `can't convert cuda:0 device type
# tensor to numpy`.

try:
    torch.ones(3, device=other).numpy()
except TypeError as err:
    print("Expected error:", type(err).__name__, "-", err)

# %%
# Model outputs have a second obstacle: they are part of an autograd graph
# (`requires_grad=True`), and `.numpy()` refuses those as well. The recipe is
# `out.detach().cpu().numpy()`. Detach first, so that the copy is not recorded
# in the graph. Whichever problem PyTorch checks first is the one printed below:
# the device on a GPU, the gradient on a CPU.

layer = nn.Linear(3, 1).to(device)
out = layer(torch.randn(4, 3, device=device))
try:
    out.numpy()
except (TypeError, RuntimeError) as err:
    print("Expected error:", type(err).__name__, "-", err)
as_numpy = out.detach().cpu().numpy()
print(
    f"out.detach().cpu().numpy(): {type(as_numpy).__name__}, shape {as_numpy.shape}"
)

# %%
# For a **single number** (a loss, an accuracy), `.item()` returns a Python
# float from any device. On a GPU it copies one number to the host and must
# wait for the GPU to finish computing it (more on that waiting in section 6),
# so call it when you need the value, not on every step "just in case".

mean_out = out.mean()
print(
    f"mean_out lives on {mean_out.device}; mean_out.item() = {mean_out.item():.4f}"
)

# %%
# ## 4. Moving models
#
# A module holds its state in **parameters** (trained) and **buffers** (not
# trained, but part of the state, such as BatchNorm's running mean).
# `model.to(device)` moves both, and it works **in place**. It returns the same
# module object (so `model = model.to(device)` and `model.to(device)` do the
# same thing), and even the `Parameter` objects stay the same: PyTorch swaps
# their data underneath. Compare that with a tensor's `.to()` in section 3,
# which returns a new tensor and leaves the old one alone.

model = nn.Sequential(
    nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2)
)
first_weight = model[0].weight
returned = model.to(device)
print("model.to(device) is model:     ", returned is model)
print("same Parameter object as before:", model[0].weight is first_weight)
print("parameter devices:", {str(p.device) for p in model.parameters()})
print("buffer devices:   ", {str(b.device) for b in model.buffers()})

# %%
# A move to `device` does nothing visible on a CPU-only machine, so here is the
# same in-place behaviour with a change you can see on any machine, a dtype:

model.to(torch.float64)
print(
    f"weight dtype {model[0].weight.dtype}; same Parameter object: "
    f"{model[0].weight is first_weight}"
)
# back to the default (`_ =` keeps the model's repr off the page)
_ = model.to(torch.float32)

# %%
# Because parameters keep their identity, an optimiser built before the move
# would still point at the right tensors. Still, PyTorch's documentation
# recommends the safe order, and so does this course: **move the model, then
# build the optimiser** (`torch.optim.SGD(model.parameters(), ...)`).
#
# **The common mistake: a tensor the module does not know about.** A tensor
# stored as a plain attribute is invisible to `model.to()`, so it stays behind
# on the CPU and the forward pass fails later with a device mismatch. Register
# it as a buffer and it moves with the module (and is saved in its
# `state_dict`):


class Scale(nn.Module):
    def __init__(self):
        super().__init__()
        self.plain = torch.tensor([2.0])  # model.to() cannot see this one
        self.register_buffer("factor", torch.tensor([2.0]))  # this one moves

    def forward(self, x):
        return x * self.factor


scale = Scale().to(other)
print(f"plain attribute on {scale.plain.device}")
print(f"registered buffer on {scale.factor.device}")

# %%
# ## 5. The device-mismatch error
#
# Every input of an operation must be on the same device. (The one exception:
# a Python number or a zero-dimensional CPU tensor may join a GPU operation.)
# PyTorch does not guess where you meant to compute, because a silent copy
# between devices would be slow and would hide bugs. So it raises. Here the
# model is on the `other` device and the batch is on the CPU: the single most
# common GPU error.

model_elsewhere = nn.Linear(3, 2).to(other)
batch_cpu = torch.randn(5, 3)
try:
    model_elsewhere(batch_cpu)
except RuntimeError as err:
    print("Expected error:", type(err).__name__, "-", err)

# %%
# Read the message for the two devices it names. Without a GPU they are `meta`
# and `cpu`. On a GPU the same mistake reads
# `Expected all tensors to be on the same device, but ...`, naming `cuda:0`,
# `cpu` and the operation that noticed (for a linear layer, `addmm`). The fix
# is always to bring the data to the model. When you do not have the device at
# hand, ask the model where its parameters live:

model_device = next(model_elsewhere.parameters()).device
out = model_elsewhere(batch_cpu.to(model_device))
print(f"input moved to {model_device}: output {tuple(out.shape)} on {out.device}")

# %%
# ## 6. Timing GPU work correctly
#
# On the CPU, PyTorch finishes an operation before it returns. A CUDA operation
# is **asynchronous**: Python puts the kernel in the GPU's queue (a *stream*)
# and returns at once, while the GPU works through the queue in the background.
# That is what lets Python prepare the next step while the GPU computes. It
# also means that `time.perf_counter()` around `a @ b` on a GPU measures only
# how long it took to *queue* the work.
#
# Anything that needs a result on the host waits for the queue: `.item()`,
# `.cpu()`, `print(t)`. To time GPU work, wait explicitly with
# `torch.cuda.synchronize()` before starting the clock and before stopping it.
# Two more rules for honest numbers: **warm up** (the first call pays one-off
# costs such as loading cuBLAS and picking a kernel), and report the **median**
# of several runs (it ignores a run disturbed by something else on the
# machine). The helper below does all three and works for any device.


def synchronize(dev: torch.device) -> None:
    """Wait until all queued work on `dev` has finished (a no-op on the CPU)."""
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    elif dev.type == "mps":
        torch.mps.synchronize()


def median_time(fn, dev: torch.device, repeats: int = 5, warmup: int = 1) -> float:
    """Median wall-clock seconds of `fn()`, synchronising `dev` around each run."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        synchronize(dev)
        start = time.perf_counter()
        fn()
        synchronize(dev)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# %%
# The wrong and the right way, side by side. On a CUDA GPU the next cell times
# the same ten matrix products three ways: without synchronising (wrong),
# with `torch.cuda.synchronize()`, and with **CUDA events**. An event is a
# marker placed in the GPU's queue; the GPU stamps it with the time when it
# reaches it, so `start.elapsed_time(end)` measures GPU time in milliseconds
# and ignores Python's overhead.

if device.type == "cuda":
    n, reps = 4096, 10
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    a @ b  # warm-up
    torch.cuda.synchronize()

    start = time.perf_counter()
    for _ in range(reps):
        c = a @ b
    queued = time.perf_counter() - start  # wrong: the GPU is probably still busy
    torch.cuda.synchronize()
    finished = time.perf_counter() - start  # right: the queue has drained

    start_event = torch.cuda.Event(enable_timing=True)
    end_event = torch.cuda.Event(enable_timing=True)
    start_event.record()
    for _ in range(reps):
        c = a @ b
    end_event.record()
    end_event.synchronize()  # wait until the GPU has reached end_event
    event_ms = start_event.elapsed_time(end_event)

    gpu_name = torch.cuda.get_device_name(device)
    print(f"{reps} products of {n}x{n} float32 matrices on {gpu_name}:")
    print(f"  perf_counter, no synchronize (WRONG): {queued * 1e3:9.3f} ms")
    print(f"  perf_counter + synchronize:           {finished * 1e3:9.3f} ms")
    print(f"  CUDA events:                          {event_ms:9.3f} ms")
    del a, b, c
else:
    print("CUDA not available: skipped the wrong-vs-right GPU timing demo.")

# %%
# On the CPU each operation finishes before it returns, so `perf_counter` is
# honest there. On a GPU the first line is far too small, because it only
# counts queueing ten kernels; the two synchronised lines roughly agree with
# each other. The gap
# between wrong and right grows with the amount of work queued. If you ever
# see a GPU "do" a large matrix product in a few microseconds, a missing
# synchronise is the reason.
#
# Two related tools: `torch.utils.benchmark.Timer` does the warm-up, the
# synchronisation and the statistics for you (on the CPU it uses one thread
# unless you pass `num_threads=`),
#
# ```python
# from torch.utils import benchmark
# timer = benchmark.Timer("a @ b", globals={"a": a, "b": b})
# print(timer.blocked_autorange(min_run_time=1.0))
# ```
#
# and `torch.profiler` shows where the time goes inside a whole training step.
#
# ## 7. CPU vs GPU: matrix multiplication across sizes
#
# Multiplying two $n \times n$ matrices takes about $2n^3$ floating-point
# operations ($n^2$ outputs, each a dot product of length $n$), so the
# throughput is
#
# $$\text{GFLOP/s} = \frac{2n^3}{t \cdot 10^9}$$
#
# for a time $t$ in seconds. We time the CPU at every size, and the accelerator
# too when there is one, with the synchronising helper from section 6.

sizes = course.pick(full=[64, 128, 256, 512, 1024, 2048], smoke=[64, 128, 256])
repeats = course.pick(full=5, smoke=3)
compared = [torch.device("cpu")] + ([device] if device.type != "cpu" else [])

seconds = {}  # (device type, n) -> median seconds for one product
for dev in compared:
    for n in sizes:
        a = torch.randn(n, n, device=dev)
        b = torch.randn(n, n, device=dev)
        seconds[dev.type, n] = median_time(
            partial(torch.matmul, a, b), dev, repeats
        )
del a, b
print(
    f"timed {len(seconds)} (device, size) pairs, median of {repeats} runs each; "
    f"the CPU used {torch.get_num_threads()} threads"
)
if device.type == "cpu":
    print("No GPU here: skipped the accelerator column; timing the CPU only.")

# %%
# The table. `speed-up` is CPU time divided by accelerator time.

acc = device.type.upper()  # the accelerator's name in the table: CUDA or MPS
header = f"{'n':>6} | {'CPU ms':>10} {'CPU GFLOP/s':>12}"
if len(compared) > 1:
    header += f" | {acc + ' ms':>10} {acc + ' GFLOP/s':>13} | speed-up"
print(header)
print("-" * len(header))
for n in sizes:
    flops = 2 * n**3
    cpu_s = seconds["cpu", n]
    row = f"{n:>6} | {cpu_s * 1e3:>10.3f} {flops / cpu_s / 1e9:>12.1f}"
    if len(compared) > 1:
        fast = seconds[device.type, n]
        speedup = seconds["cpu", n] / fast
        row += (
            f" | {fast * 1e3:>10.3f} {flops / fast / 1e9:>13.1f} | {speedup:>7.1f}x"
        )
    print(row)

# %%
# The same times as a bar chart. The axis is logarithmic because each doubling
# of $n$ multiplies the work by eight.

positions = np.arange(len(sizes))
width = 0.8 / len(compared)
fig, ax = plt.subplots(figsize=(7, 4))
for k, dev in enumerate(compared):
    ms = [seconds[dev.type, n] * 1e3 for n in sizes]
    ax.bar(positions + k * width, ms, width, label=dev.type.upper())
ax.set_xticks(positions + width * (len(compared) - 1) / 2, [str(n) for n in sizes])
ax.set_yscale("log")
ax.set_xlabel("matrix size n (n × n float32)")
ax.set_ylabel("median time per product (ms, log scale)")
ax.set_title("Time of one matrix product, by device")
ax.legend()
plt.show()

# %%
# Time grows with $n^3$, but throughput tells a second story. A small product
# cannot keep all of the hardware busy, and the fixed cost of each call (for a
# GPU, launching a kernel) weighs more, so the work done per second climbs with
# $n$ before it levels off. A CPU, with a few cores, levels off early (on a busy
# machine the curve can even fall, see the next paragraph). A GPU, with
# thousands of cores, keeps climbing to much larger sizes. That is why a GPU can
# *lose* on tiny tensors and win by a wide margin on large ones, and why
# batching work ([Day 5](day05_data_loading.ipynb)'s `DataLoader`) matters so
# much.
#
# CPU timings are noisy on a shared machine: when another program occupies a
# core, the threads of a parallel matrix product wait for each other, and a
# small product can take milliseconds instead of microseconds. Synchronising
# and taking medians removes the GPU's traps, but it cannot remove other
# programs from the machine.

fig, ax = plt.subplots(figsize=(7, 4))
for dev in compared:
    gflops = [2 * n**3 / seconds[dev.type, n] / 1e9 for n in sizes]
    ax.plot(sizes, gflops, marker="o", label=dev.type.upper())
ax.set_xscale("log", base=2)
ax.set_xticks(sizes, [str(n) for n in sizes])
ax.set_yscale("log")
ax.set_xlabel("matrix size n (log scale)")
ax.set_ylabel("throughput (GFLOP/s, log scale)")
ax.set_title("Matrix-product throughput, by size")
ax.legend()
plt.show()

# %%
# The run's own verdict, computed from the table above:

small, large = sizes[0], sizes[-1]
cpu_small = 2 * small**3 / seconds["cpu", small] / 1e9
cpu_large = 2 * large**3 / seconds["cpu", large] / 1e9
best_n = max(sizes, key=lambda n: 2 * n**3 / seconds["cpu", n])
cpu_best = 2 * best_n**3 / seconds["cpu", best_n] / 1e9
print(
    f"CPU throughput: {cpu_small:.1f} GFLOP/s at n={small}, "
    f"{cpu_large:.1f} GFLOP/s at n={large}, best {cpu_best:.1f} GFLOP/s "
    f"at n={best_n}."
)
if len(compared) > 1:
    speedup_small = seconds["cpu", small] / seconds[device.type, small]
    speedup_large = seconds["cpu", large] / seconds[device.type, large]
    print(
        f"The {acc} was {speedup_small:.1f}x the CPU's speed at n={small} "
        f"and {speedup_large:.1f}x at n={large}."
    )
else:
    print("No accelerator on this machine: no CPU-vs-GPU comparison to report.")

# %%
# ## 8. `pin_memory` and `non_blocking`: faster copies to the GPU
#
# A copy from host memory to a CUDA GPU is done by the GPU's copy engine (DMA),
# which can only read **page-locked ("pinned") memory**, memory that the
# operating system promises not to move or swap out. Ordinary tensors live in
# *pageable* memory, so CUDA first copies them into a pinned staging buffer:
# one extra copy, and the Python call blocks until the transfer is done.
#
# - `t.pin_memory()` returns a copy of `t` in pinned memory.
# - `t.to(device, non_blocking=True)` from pinned memory queues the copy and
#   returns at once, so the CPU can prepare the next batch while the bytes
#   travel. The GPU's queue keeps the order: a kernel queued afterwards on the
#   same stream sees the finished copy.
# - In practice you rarely pin by hand: `DataLoader(..., pin_memory=True)`
#   (Day 5) pins each batch for you, and the training loop does
#   `x = x.to(device, non_blocking=True)`. With `num_workers > 0` the pinning
#   runs in a background thread while the loop works; with `num_workers=0`
#   the loader pins each batch itself, in the loop's own time.
#
# Two cautions. Pinned memory is taken away from the rest of the system, so pin
# batches, not whole datasets. And `non_blocking=True` in the other direction
# (GPU to CPU) can hand you a CPU tensor *before* its data has arrived, so
# synchronise before you read it. `pin_memory` is a CUDA feature; without CUDA
# the measurement below is skipped.

if device.type == "cuda":
    n_floats = course.pick(full=64 * 2**20, smoke=8 * 2**20)
    pageable = torch.randn(n_floats)
    pinned = pageable.pin_memory()
    mib = pageable.numel() * pageable.element_size() / 2**20
    print(f"pageable.is_pinned() = {pageable.is_pinned()}")
    print(f"pinned.is_pinned() = {pinned.is_pinned()}")

    t_pageable = median_time(partial(pageable.to, device), device, repeats)
    t_pinned = median_time(
        partial(pinned.to, device, non_blocking=True), device, repeats
    )
    print(
        f"copy {mib:.0f} MiB from pageable memory: {t_pageable * 1e3:7.2f} ms "
        f"({mib / 1024 / t_pageable:5.1f} GiB/s)"
    )
    print(
        f"copy {mib:.0f} MiB from pinned memory:   {t_pinned * 1e3:7.2f} ms "
        f"({mib / 1024 / t_pinned:5.1f} GiB/s)"
    )

    torch.cuda.synchronize()
    start = time.perf_counter()
    copied = pinned.to(device, non_blocking=True)
    returned_after = time.perf_counter() - start
    torch.cuda.synchronize()
    done_after = time.perf_counter() - start
    print(
        f"non_blocking copy: the call returned after {returned_after * 1e3:.3f} "
        f"ms, the copy had finished after {done_after * 1e3:.3f} ms"
    )
    del pageable, pinned, copied
else:
    print("CUDA not available: skipped the pinned-memory copy timings.")

# %%
# On a GPU, compare the two transfer rates printed above, and the two times of
# the last line: the gap between "returned" and "finished" is the time the CPU
# was free to do something else.
#
# ## 9. GPU memory statistics
#
# PyTorch does not hand GPU memory back to the driver when a tensor dies. Its
# **caching allocator** keeps the block and reuses it for the next tensor of a
# similar size, because asking the driver for memory is slow. So there are
# three numbers to read, and one call that changes them:
#
# - `torch.cuda.memory_allocated()`: bytes held by live tensors right now;
# - `torch.cuda.memory_reserved()`: bytes the allocator holds from the driver
#   (live tensors plus its cache), always at least the above;
# - `torch.cuda.max_memory_allocated()`: the peak of the first number since the
#   last `torch.cuda.reset_peak_memory_stats()`, the one to watch when you hunt
#   for the batch size that fits;
# - `torch.cuda.empty_cache()`: returns the cached blocks that no live tensor
#   uses to the driver, so that other processes (and `nvidia-smi`) see them as
#   free. It frees no live tensor and gives PyTorch itself no extra memory: the
#   allocator reuses its cache anyway, and empties it by itself before it gives
#   up with an out-of-memory error. So it is rarely needed; use it when another
#   program must share the GPU.
#
# `nvidia-smi` shows reserved memory plus the CUDA context (some hundreds of
# MiB), which is why its number is larger than `memory_allocated()`.

if device.type == "cuda":

    def show_memory(label: str) -> None:
        allocated = torch.cuda.memory_allocated(device) / 2**20
        peak = torch.cuda.max_memory_allocated(device) / 2**20
        reserved = torch.cuda.memory_reserved(device) / 2**20
        print(
            f"{label:<28} allocated {allocated:8.1f} MiB | peak {peak:8.1f} MiB"
            f" | reserved {reserved:8.1f} MiB"
        )

    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats(device)
    show_memory("start")
    big = torch.zeros(64 * 2**20, device=device)  # 64 Mi float32 values = 256 MiB
    show_memory("after big (256 MiB)")
    doubled = big * 2
    show_memory("after doubled = big * 2")
    del big, doubled
    show_memory("after del big, doubled")
    torch.cuda.empty_cache()
    show_memory("after empty_cache()")
else:
    print("CUDA not available: skipped the GPU memory statistics.")

# %%
# On a GPU, read the table line by line: `del` lowers *allocated* but not
# *reserved* (the blocks stay in the cache), the *peak* column remembers the
# moment both tensors were alive, and only `empty_cache()` lowers *reserved*.
# When a step asks for more than the GPU has, PyTorch raises
# `torch.OutOfMemoryError`. The usual cures are a smaller batch, a smaller
# model, or lower-precision arithmetic. (On a Mac,
# `torch.mps.current_allocated_memory()` plays the role of `memory_allocated`.)
#
# ## 10. Putting it together: a device-agnostic training step
#
# Everything above in the shape you will use from now on. Choose the device
# once, move the model and **then** build the optimiser, move each batch with
# `.to(device)`, and bring back only the numbers you print, with `.item()`,
# every few steps. A linear regression stands in for a real model; Day 6
# explains each line of the loop.

course.seed_everything(0)
features = torch.randn(256, 5)
true_weight = torch.tensor([[1.0, -2.0, 0.5, 3.0, -1.0]])
targets = features @ true_weight.T + 0.1 * torch.randn(256, 1)

regressor = nn.Linear(5, 1).to(device)  # 1. model to the device
optimizer = torch.optim.SGD(regressor.parameters(), lr=0.1)  # 2. then the optimiser
x_dev, y_dev = features.to(device), targets.to(device)  # 3. data to the same device

steps = course.pick(full=61, smoke=31)
for step in range(steps):
    loss = nn.functional.mse_loss(regressor(x_dev), y_dev)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 15 == 0:
        # .item(): one number to the host
        print(f"step {step:2d}  loss {loss.item():.4f}")

learned = regressor.weight.detach().cpu()
print("learned weight:", [round(w, 2) for w in learned.squeeze().tolist()])
print("true weight:   ", true_weight.squeeze().tolist())

# %%
# ## 11. Summary
#
# - Ask first: `torch.cuda.is_available()` (and `device_count()`,
#   `get_device_name()`), `torch.backends.mps.is_available()`, or, for any
#   accelerator, `torch.accelerator.is_available()` and
#   `torch.accelerator.current_accelerator()`.
# - Choose **one** `device` at the top and pass it everywhere. Create tensors
#   with `device=device`. Later lessons get the same choice from
#   `course.choose_device()`.
# - `t.to(device)` returns a tensor (the same one if nothing changes), so keep
#   the result. `model.to(device)` moves parameters and buffers in place. Tensors
#   a module needs belong in `register_buffer`.
# - `.cuda()` only where a GPU is guaranteed; `.cpu()` (after `.detach()`) before
#   `.numpy()`; `.item()` for one number.
# - Mixing devices raises `RuntimeError` naming both of them. Move the data to
#   the model.
# - GPU work is asynchronous: synchronise (or use CUDA events), warm up, and take
#   a median before believing a time. GPUs win on large work, not tiny work.
# - `pin_memory()` + `non_blocking=True` overlap copies with computation.
#   `memory_allocated` / `max_memory_allocated` / `memory_reserved` tell you what
#   the caching allocator is doing; `empty_cache()` only hands its unused cache
#   back to other programs.
#
# ## 12. Exercises
#
# 1. Write `to_device(obj, device)` that moves a tensor, or a list, tuple or
#    dict of them (nested any depth), and leaves everything else alone. Test it
#    on `{"x": tensor, "pair": (tensor, 3), "name": "batch"}` with the `other`
#    device.
# 2. The snippet below has three device bugs. Find them and fix it so that it
#    runs on any machine:
#
#    ```python
#    net = nn.Linear(3, 1)
#    net.cuda()
#    batch = torch.randn(8, 3)
#    batch.to(device)
#    prediction = net(batch).numpy()
#    ```
#
# 3. Using `median_time`, compare a 512×512 matrix product in `float32` and in
#    `float64` on every device you have. Which precision is faster, by how much,
#    and why might the answer differ between a CPU and a GPU?

# %%
# **Solution 1.** Recurse into containers and rebuild them with the same type.
# Anything that is not a tensor or a container passes through unchanged.


def to_device(obj, dev: torch.device):
    if isinstance(obj, torch.Tensor):
        return obj.to(dev)
    if isinstance(obj, dict):
        return {key: to_device(value, dev) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_device(value, dev) for value in obj)
    return obj


batch = {"x": torch.ones(2, 3), "pair": (torch.zeros(2), 3), "name": "batch"}
moved = to_device(batch, other)
print(
    "x:",
    moved["x"].device,
    "| pair:",
    moved["pair"][0].device,
    moved["pair"][1],
    "| name:",
    moved["name"],
)
print("original x still on", batch["x"].device)

# %%
# **Solution 2.** The three bugs: an unguarded `.cuda()` (use `.to(device)`), a
# `.to()` whose result is thrown away (assign it), and `.numpy()` on a tensor
# that requires grad and may live on the GPU (`.detach().cpu()` first).

net = nn.Linear(3, 1).to(device)
batch = torch.randn(8, 3).to(device)
prediction = net(batch).detach().cpu().numpy()
print(f"prediction: {type(prediction).__name__} of shape {prediction.shape}")

# %%
# **Solution 3.** Time both precisions with the same helper. A float64 value
# is twice as many bytes, and CPU vector units fit half as many of them per
# instruction, so on a CPU float64 is typically around half as fast. On GPUs
# the ratio depends on the chip. Most have few float64 units: consumer cards
# and inference GPUs such as Colab's T4 run float64 at 1/32 of the float32 rate
# (some at 1/64). Only the chips built for scientific computing, such as the
# V100, A100 and H100, reach about 1/2.

size = 512
for dev in compared:
    times = {}
    for dtype in (torch.float32, torch.float64):
        a = torch.randn(size, size, device=dev, dtype=dtype)
        b = torch.randn(size, size, device=dev, dtype=dtype)
        times[dtype] = median_time(partial(torch.matmul, a, b), dev, repeats)
    print(
        f"{dev.type.upper():>4}: float32 {times[torch.float32] * 1e3:7.3f} ms, "
        f"float64 {times[torch.float64] * 1e3:7.3f} ms "
        f"-> float64 takes {times[torch.float64] / times[torch.float32]:.1f}x "
        "as long"
    )

# %%
# Next: [Day 5](day05_data_loading.ipynb) feeds a model batches with `Dataset`
# and `DataLoader`, including `pin_memory=True` for fast copies to the GPU.
