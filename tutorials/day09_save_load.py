"""
# Day 9 · Saving and loading models (模型儲存與載入)

Training costs time; a model that only lives in memory is lost when the
program ends, the notebook restarts or the cloud machine is taken back. In
this lesson you save a trained model to disk and load it into a fresh
instance that predicts exactly the same, and you learn why PyTorch's advice is
to save the **`state_dict`** (the tensors) rather than the whole model object.
You see what `torch.load`'s `weights_only=True` protects you from, what
`load_state_dict` says when the architecture does not match, and how to write
a **checkpoint** (model, optimiser, scheduler, epoch, history and random
state) from which an interrupted training run resumes exactly where it
stopped: the run proves it by matching a run that never stopped, bit for bit.

**You will learn:** `torch.save` and `torch.load` · what a `state_dict` holds
· `load_state_dict` and `strict` · why `weights_only=True` is the default ·
`state_dict` vs pickling the whole model · checkpoints and resuming training
exactly · `map_location` for loading onto another device

**Before you start:** [Day 8](day08_train_validate.ipynb) (the `fit`
function) · **Reading time:** about 2 hours
"""

# %%
# ## 1. Set-up: a small model on real MNIST digits
#
# We need something worth saving: a small classifier of handwritten digits,
# trained for a few epochs with Day 8's `fit`. The data is a class-balanced
# subset of MNIST (28×28 grey images of the digits 0-9), loaded by the
# course's `load_mnist`; [Day 10](day10_mnist.ipynb) looks at the data itself
# in detail.
#
# Every file this lesson writes goes into a `checkpoints/` folder in the
# current working directory.

import copy
import os
import pickle
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import course
from course.data.mnist import load_mnist
from course.fit import evaluate, fit

course.seed_everything(0)
device = course.choose_device()
CHECKPOINTS = Path("checkpoints")
CHECKPOINTS.mkdir(exist_ok=True)
print(
    f"profile: {course.PROFILE}, device: {device}, "
    f"files go to {CHECKPOINTS}/ in the working directory"
)

# %%
# The whole subset fits in memory, so we turn it into two tensors once (pixel
# values scaled to $[0, 1]$) and wrap them in a `TensorDataset`: much faster
# than decoding one image at a time, as [Day 10](day10_mnist.ipynb) measures.
# As on [Day 8](day08_train_validate.ipynb), the validation set is cut out of
# MNIST's training part with a seeded permutation; the test part is kept for
# one final measurement (Solution 1).

n_val = course.pick(full=2_000, smoke=500)
mnist_train = load_mnist(train=True, limit=course.pick(full=12_000, smoke=1_500))
test_set = load_mnist(train=False, limit=course.pick(full=2_000, smoke=500))


def as_tensors(dataset, indices=None) -> TensorDataset:
    images = dataset.data.float().div(255).unsqueeze(1)  # (N, 1, 28, 28), in [0, 1]
    targets = dataset.targets
    if indices is not None:
        images, targets = images[indices], targets[indices]
    return TensorDataset(images, targets)


order = torch.randperm(len(mnist_train), generator=torch.Generator().manual_seed(0))
train_data = as_tensors(mnist_train, order[n_val:])
val_data = as_tensors(mnist_train, order[:n_val])
test_data = as_tensors(test_set)
val_loader = DataLoader(val_data, batch_size=500)
print(
    "train:",
    tuple(train_data.tensors[0].shape),
    " validation:",
    tuple(val_data.tensors[0].shape),
)

# %%
# The model is a small multi-layer perceptron written as its own class (the
# class matters in section 5). It has a `BatchNorm1d` layer, whose running
# statistics are state that is *not* a parameter, and a `Dropout` layer, whose
# random masks matter when we resume training in section 8.


class DigitMLP(nn.Module):
    """784 pixels -> hidden units -> 10 digit scores (logits)."""

    def __init__(self, hidden: int = 128):
        super().__init__()
        self.flatten = nn.Flatten()
        self.hidden = nn.Linear(28 * 28, hidden)
        self.norm = nn.BatchNorm1d(hidden)
        self.drop = nn.Dropout(0.2)
        self.head = nn.Linear(hidden, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.drop(torch.relu(self.norm(self.hidden(self.flatten(x)))))
        return self.head(x)


loss_fn = nn.CrossEntropyLoss()
model = DigitMLP().to(device)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
train_loader = DataLoader(train_data, batch_size=64, shuffle=True)
history = fit(
    model,
    train_loader,
    val_loader,
    loss_fn,
    optimizer,
    epochs=course.pick(full=3, smoke=1),
)

# %%
# ## 2. What a `state_dict` is
#
# A model's **`state_dict`** is an ordered dictionary from names to tensors:
# every learnable parameter *and* every **buffer**, the state a layer keeps
# that the optimiser does not train, such as `BatchNorm`'s running mean and
# variance. The names follow the attribute names in `__init__`, so
# `self.hidden = nn.Linear(...)` gives `hidden.weight` and `hidden.bias`.
#
# It is plain data, with no code in it: that is what makes it the right thing
# to save.

state = model.state_dict()
for name, tensor in state.items():
    kind = "parameter" if name in dict(model.named_parameters()) else "buffer"
    print(f"{name:24s} {kind:9s} {str(tuple(tensor.shape)):12s} {tensor.dtype}")

# %%
# An optimiser has a `state_dict` too. For Adam it holds, for each parameter,
# the step count and the two running averages of the gradient (`exp_avg`,
# `exp_avg_sq`) that make up its adaptive step, plus the hyperparameters of
# each parameter group. Parameters are referred to by position (0, 1, ...),
# not by name, so it only fits an optimiser built over the same parameters in
# the same order.

opt_state = optimizer.state_dict()
print("top-level keys:", list(opt_state))
print(
    "state of parameter 0:",
    {k: tuple(v.shape) for k, v in opt_state["state"][0].items()},
)
group = opt_state["param_groups"][0]
print(
    "param group:", {k: group[k] for k in ("lr", "betas", "weight_decay", "params")}
)

# %%
# ## 3. Save the weights, load them into a fresh model
#
# The recommended pattern, in two lines:
#
# ```python
# torch.save(model.state_dict(), path)            # save
# model.load_state_dict(torch.load(path))         # into a model your code built
# ```
#
# `torch.save` serialises any Python object made of tensors, dicts, lists,
# numbers and strings. Loading needs a model object to pour the tensors into,
# so first build a fresh `DigitMLP`: its weights are random and it predicts
# differently.

weights_path = CHECKPOINTS / "digit_mlp_weights.pt"
torch.save(model.state_dict(), weights_path)

fresh = DigitMLP().to(device)
same_before = torch.equal(fresh.hidden.weight, model.hidden.weight)
print(
    f"saved {weights_path}; fresh model has the same weights before loading: "
    f"{same_before}"
)

# %%
# `load_state_dict` copies each saved tensor into the parameter or buffer of the
# same name, in place, and reports any key that did not match (none here).
# Then `eval()`: Dropout and BatchNorm behave differently in training mode, so
# comparing predictions in training mode would compare random masks.

result = fresh.load_state_dict(torch.load(weights_path))
print("load_state_dict returned:", result)

model.eval()
fresh.eval()
images = val_data.tensors[0][:256].to(device)
with torch.no_grad():
    logits_original, logits_loaded = model(images), fresh(images)
print("identical logits:", torch.equal(logits_original, logits_loaded))
print(
    "identical predictions:",
    torch.equal(logits_original.argmax(1), logits_loaded.argmax(1)),
)

# %%
# `torch.equal` is True: not "close", but the same bits, because the file
# holds the exact float32 values.
#
# ## 4. What `torch.save` writes, and why `torch.load` is careful
#
# A `.pt` file is a zip archive: a **pickle** (`data.pkl`, Python's own
# serialisation format) describing the object's structure, and one raw data
# file per tensor storage.

with zipfile.ZipFile(weights_path) as archive:
    names = archive.namelist()
print(f"{len(names)} entries, for example:", names[:4])

# %%
# Pickle is powerful because it can rebuild any Python object: the file names
# a function (any importable function) and arguments, and unpickling *calls*
# it. That is also the danger: a `.pt` file downloaded from a stranger could
# call `os.system` with any command the moment you load it. To show the
# mechanism harmlessly, here is a file whose "weights" call `print` on load.


class Sneaky:
    """An object whose unpickling calls print(...): any function could go here."""

    def __reduce__(self):
        return (
            print,
            (
                "!!! this line was run by torch.load: it could have been any "
                "command",
            ),
        )


sneaky_path = CHECKPOINTS / "sneaky.pt"
torch.save({"hidden.weight": torch.zeros(2, 2), "extra": Sneaky()}, sneaky_path)

# %%
# Since PyTorch 2.6 `torch.load` defaults to **`weights_only=True`**: it
# unpickles with a restricted loader that only accepts tensors, dicts, lists,
# tuples, numbers, strings and a short list of other safe types, and refuses
# anything else with a `pickle.UnpicklingError` before running it. The message
# is long; this helper prints its first line and the line that names the
# refused object.


def explain(err: Exception) -> None:
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(err))  # drop the terminal colour codes
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    print(f"Expected error: {type(err).__name__} - {lines[0]}")
    for line in lines:
        if line.startswith("WeightsUnpickler error"):
            print("   ", line)


try:
    torch.load(sneaky_path)  # weights_only=True by default
except pickle.UnpicklingError as err:
    explain(err)

# %%
# With `weights_only=False` the old, unrestricted pickle runs, and so does the
# payload (look for the `!!!` line):

loaded = torch.load(sneaky_path, weights_only=False)
print("loaded keys:", list(loaded))

# %%
# The rule: keep `weights_only=True` (the default) for anything you did not
# create yourself; use `weights_only=False` only for files you trust, such as
# ones your own code wrote on your own machine. The error message offers a
# middle way, `torch.serialization.add_safe_globals([SomeClass])`, which
# allows named extra classes while still refusing everything else. (For
# sharing weights publicly, the separate `safetensors` format stores tensors
# only and cannot run code at all.)
#
# ## 5. The whole model vs the `state_dict`
#
# `torch.save(model)` also works: it pickles the whole `nn.Module` object.
# It looks convenient, but the pickle does not contain the class's code, only
# its **import path**, here `__main__.DigitMLP`, plus the object's attributes.
# First, the safe default refuses it, since `DigitMLP` is not a known-safe type:

whole_path = CHECKPOINTS / "digit_mlp_whole.pt"
torch.save(model, whole_path)
try:
    torch.load(whole_path)
except pickle.UnpicklingError as err:
    explain(err)

# %%
# We wrote this file ourselves a moment ago, so trusting it is fine, and in
# this process it loads:

whole = torch.load(whole_path, weights_only=False)
whole.eval()
with torch.no_grad():
    print(
        type(whole).__qualname__,
        "| identical logits:",
        torch.equal(whole(images), logits_original),
    )

# %%
# Now load the same file in a *new* Python process, as a serving program or a
# colleague's script would, where `DigitMLP` is not defined in `__main__`:

loader_code = f"import torch; torch.load({str(whole_path)!r}, weights_only=False)"
run = subprocess.run(
    [sys.executable, "-c", loader_code], capture_output=True, text=True, timeout=120
)
print("exit code:", run.returncode)
print(run.stderr.strip().splitlines()[-1])

# %%
# The file is only usable where the class can be imported under exactly the
# same path, and with code compatible with the attributes pickled then: rename
# the class, move it to another module or refactor its `__init__`, and old
# files break. The `state_dict` has none of these problems, because *your
# code* builds the model and the file only supplies numbers. Compare the sizes
# with the raw bytes of the tensors:


def size_kb(path: Path) -> str:
    return f"{os.path.getsize(path) / 1024:8.1f} KiB"


tensor_bytes = sum(
    t.numel() * t.element_size() for t in model.state_dict().values()
)
print(f"bytes in the state_dict tensors: {tensor_bytes / 1024:8.1f} KiB")
print(f"state_dict file:                 {size_kb(weights_path)}")
print(f"whole-model file:                {size_kb(whole_path)}")

# %%
# Both files are essentially the tensors; the whole-model pickle adds a little
# structure. Its drawbacks are fragility and safety, not size.
#
# ## 6. `load_state_dict` and `strict`
#
# `load_state_dict` is strict by default: every key of the model must be in
# the file and every key of the file must be in the model, with the same
# shapes. A mistake in the architecture then fails loudly instead of leaving
# some weights random. Loading into a model with a different hidden width:


def first_lines(err: Exception, n: int = 4) -> str:
    lines = str(err).splitlines()
    return "\n".join(lines[:n]) + ("\n\t..." if len(lines) > n else "")


try:
    DigitMLP(hidden=64).load_state_dict(torch.load(weights_path))
except RuntimeError as err:
    print("Expected error:", type(err).__name__, "-", first_lines(err))

# %%
# A different *structure*, here a model whose layers have other names, gives
# missing and unexpected keys:

other = nn.Sequential(
    nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10)
)
try:
    other.load_state_dict(torch.load(weights_path))
except RuntimeError as err:
    print("Expected error:", type(err).__name__, "-", first_lines(err))

# %%
# `strict=False` loads the keys that match and *returns* the ones that did
# not, instead of raising. That is useful when you change part of a model on
# purpose, for example a new output layer for a new task (transfer learning,
# Day 17): you load everything except the head. Always print the returned
# lists, so you know what stayed random. Shapes must still agree: `strict=False`
# forgives missing names, never a size mismatch.


class DigitMLPWithNewHead(DigitMLP):
    """Same body, but a 2-class head under a new name (even vs odd digits)."""

    def __init__(self):
        super().__init__()
        del self.head
        self.parity_head = nn.Linear(128, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.drop(torch.relu(self.norm(self.hidden(self.flatten(x)))))
        return self.parity_head(x)


parity_model = DigitMLPWithNewHead()
report = parity_model.load_state_dict(torch.load(weights_path), strict=False)
print("missing keys (still random):", report.missing_keys)
print("unexpected keys (ignored):  ", report.unexpected_keys)
print(
    "body loaded:",
    torch.equal(parity_model.hidden.weight, model.hidden.weight.cpu()),
)

# %%
# ## 7. Checkpoints: everything needed to continue training
#
# To *use* a model you need its weights. To *continue training* it you need
# more, because training has state outside the model:
#
# | what | why it matters when resuming |
# | --- | --- |
# | model `state_dict` | the weights and buffers |
# | optimiser `state_dict` | Adam's running averages and step counts |
# | scheduler `state_dict` | where the learning-rate schedule is |
# | epoch | how many epochs are done, so the loop knows how many remain |
# | history | the curves so far, to plot the whole run |
# | random-number state | the next shuffling order and Dropout masks |
#
# A checkpoint is simply a dict of these, saved with `torch.save`. Everything
# in it is a tensor, a number, a string, a list or a dict, so it loads with
# `weights_only=True`. The `Run` class below bundles the objects a training
# run consists of; the data loader gets its own random generator, so that its
# shuffling state can be saved and restored too.


@dataclass
class Run:
    model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    generator: torch.Generator  # drives the DataLoader's shuffling
    loader: DataLoader


def new_run(seed: int) -> Run:
    """Model, optimiser, scheduler and shuffled loader, all from `seed`."""
    course.seed_everything(seed)
    model = DigitMLP().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    generator = torch.Generator().manual_seed(seed)
    loader = DataLoader(
        train_data, batch_size=64, shuffle=True, generator=generator
    )
    return Run(model, optimizer, scheduler, generator, loader)


# %%
# Saving writes to a temporary file first and then renames it: a crash in the
# middle of `torch.save` (the very event checkpoints are for) then never
# leaves a half-written file under the real name.


def save_checkpoint(path: Path, run: Run, epoch: int, history: dict) -> None:
    rng = {"torch": torch.get_rng_state(), "loader": run.generator.get_state()}
    if torch.cuda.is_available():
        rng["cuda"] = torch.cuda.get_rng_state_all()  # Dropout masks on the GPU
    checkpoint = {
        "epoch": epoch,
        "model": run.model.state_dict(),
        "optimizer": run.optimizer.state_dict(),
        "scheduler": run.scheduler.state_dict(),
        "history": history,
        "rng": rng,
    }
    tmp = path.with_name(path.name + ".tmp")
    torch.save(checkpoint, tmp)
    os.replace(tmp, path)  # atomic on one file system


def load_checkpoint(
    path: Path, run: Run, restore_rng: bool = True
) -> tuple[int, dict]:
    """Restore `run` in place from `path`; return (epochs done, history so far)."""
    checkpoint = torch.load(
        path, map_location="cpu"
    )  # weights_only=True: data only
    run.model.load_state_dict(checkpoint["model"])  # copies onto the model's device
    run.optimizer.load_state_dict(
        checkpoint["optimizer"]
    )  # moves its state there too
    run.scheduler.load_state_dict(checkpoint["scheduler"])
    if restore_rng:
        torch.set_rng_state(checkpoint["rng"]["torch"])
        run.generator.set_state(checkpoint["rng"]["loader"])
        if "cuda" in checkpoint["rng"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(checkpoint["rng"]["cuda"])
    return checkpoint["epoch"], checkpoint["history"]


# %%
# ## 8. Resuming training exactly where it stopped
#
# The test of a checkpoint: training $N$ epochs in one go must give the same
# result as training $k$ epochs, saving, throwing every object away, building
# new ones and loading the checkpoint, then training the remaining $N - k$.
# First the uninterrupted run:

total_epochs = course.pick(full=6, smoke=2)
stop_after = course.pick(full=3, smoke=1)

straight = new_run(seed=0)
straight_history = fit(
    straight.model,
    straight.loader,
    val_loader,
    loss_fn,
    straight.optimizer,
    epochs=total_epochs,
    scheduler=straight.scheduler,
    progress=False,
)

# %%
# Now the interrupted one: the same start, $k$ epochs, a checkpoint, and then
# `del`, as if the program had ended.

first = new_run(seed=0)
first_history = fit(
    first.model,
    first.loader,
    val_loader,
    loss_fn,
    first.optimizer,
    epochs=stop_after,
    scheduler=first.scheduler,
    progress=False,
)
checkpoint_path = CHECKPOINTS / "digit_mlp_checkpoint.pt"
save_checkpoint(checkpoint_path, first, epoch=stop_after, history=first_history)
del first
ratio = os.path.getsize(checkpoint_path) / os.path.getsize(weights_path)
print(
    f"checkpoint after epoch {stop_after}: {checkpoint_path}, "
    f"{size_kb(checkpoint_path).strip()},"
    f" {ratio:.1f} times the weights file"
)

# %%
# Why that ratio: Adam keeps two extra tensors (`exp_avg`, `exp_avg_sq`) the
# size of each parameter, so the checkpoint holds the weights three times over.
#
# A "new program" builds fresh objects, with a *different* seed so that
# nothing can come from anywhere but the file, loads the checkpoint and trains
# the remaining epochs. `fit` numbers its epochs from 1 again; they are epochs
# $k+1$ to $N$ of the whole run.

resumed = new_run(seed=123)
done, resumed_history = load_checkpoint(checkpoint_path, resumed)
print(
    f"resuming after epoch {done}; learning rate now "
    f"{resumed.optimizer.param_groups[0]['lr']:g}"
)
rest = fit(
    resumed.model,
    resumed.loader,
    val_loader,
    loss_fn,
    resumed.optimizer,
    epochs=total_epochs - done,
    scheduler=resumed.scheduler,
    progress=False,
)
for key in resumed_history:
    resumed_history[key] = resumed_history[key] + rest[key]

# %%
# Compare the two runs: every per-epoch loss and every weight.

same_losses = straight_history["train_loss"] == resumed_history["train_loss"]
same_val = straight_history["val_loss"] == resumed_history["val_loss"]
straight_state, resumed_state = (
    straight.model.state_dict(),
    resumed.model.state_dict(),
)
same_weights = all(
    torch.equal(straight_state[k], resumed_state[k]) for k in straight_state
)
print("train losses identical:", same_losses)
print("validation losses identical:", same_val)
print("final weights and buffers identical:", same_weights)
print(
    f"final validation accuracy: straight {straight_history['val_acc'][-1]:.2%}, "
    f"resumed {resumed_history['val_acc'][-1]:.2%}"
)

# %%
# What if the checkpoint had no random-number state? Load the same checkpoint
# into a run seeded as a training script usually is at start-up, but skip the
# RNG part: the weights, optimiser and schedule are right, yet the next
# epochs see the batches in a different order and get different Dropout
# masks. Training is still valid, just no longer the same run, which makes
# bugs and comparisons much harder to reason about.

no_rng = new_run(seed=0)
done, no_rng_history = load_checkpoint(checkpoint_path, no_rng, restore_rng=False)
rest = fit(
    no_rng.model,
    no_rng.loader,
    val_loader,
    loss_fn,
    no_rng.optimizer,
    epochs=total_epochs - done,
    scheduler=no_rng.scheduler,
    progress=False,
)
for key in no_rng_history:
    no_rng_history[key] = no_rng_history[key] + rest[key]
gap = max(
    abs(a - b)
    for a, b in zip(
        straight_history["val_loss"], no_rng_history["val_loss"], strict=True
    )
)
print(
    "validation losses identical without the RNG state:",
    straight_history["val_loss"] == no_rng_history["val_loss"],
)
print(f"largest difference in validation loss: {gap:.2e}")

# %%

epochs_axis = range(1, total_epochs + 1)
fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(
    epochs_axis,
    straight_history["val_loss"],
    "-",
    lw=3,
    alpha=0.4,
    label="trained straight",
)
ax.plot(
    epochs_axis, resumed_history["val_loss"], "o", label="resumed from checkpoint"
)
ax.plot(
    epochs_axis,
    no_rng_history["val_loss"],
    "x--",
    label="resumed without RNG state",
)
ax.axvline(
    stop_after + 0.5,
    color="grey",
    ls=":",
    label=f"checkpoint (after epoch {stop_after})",
)
ax.set_title("Resuming from a checkpoint continues the same run")
ax.set_xlabel("epoch")
ax.set_ylabel("validation loss (cross-entropy)")
ax.legend()
plt.show()

# %%
# The circles sit exactly on the thick line; the crosses leave it after the
# checkpoint. (Exactness holds on one machine with the same PyTorch version;
# on a GPU it also needs deterministic kernels, because some CUDA kernels
# add up in a different order on each run: call
# `torch.use_deterministic_algorithms(True)` and set
# `torch.backends.cudnn.benchmark = False` before training. Across different
# hardware or library versions, tiny floating-point differences are normal.)
#
# ## 9. `map_location`: loading onto another device
#
# `torch.save` records the device of each tensor. Loading puts tensors back on
# that device, which fails on a machine without it: a checkpoint written on a
# GPU server cannot be loaded as-is on a CPU-only laptop. `map_location`
# chooses where the tensors go instead: `"cpu"`, a `torch.device`, or a dict
# such as `{"cuda:1": "cuda:0"}`.

# On a machine with a GPU the loop loads twice (CPU, then GPU); on a CPU-only
# machine both names mean the same device, so it runs once.
for location in dict.fromkeys([torch.device("cpu"), torch.device(device)]):
    loaded_state = torch.load(weights_path, map_location=location)
    devices = sorted({str(t.device) for t in loaded_state.values()})
    print(f"map_location={str(location)!r:8s} -> tensors on {devices}")

# %%
# The case that matters most, a file saved on a GPU and loaded on the CPU, can
# only run live where there is a GPU to save from; the code is the same either
# way.

if torch.cuda.is_available():
    gpu_path = CHECKPOINTS / "saved_on_gpu.pt"
    torch.save(DigitMLP().to("cuda").state_dict(), gpu_path)
    on_cpu = torch.load(gpu_path, map_location="cpu")
    print(
        "saved from:",
        next(iter(torch.load(gpu_path).values())).device,
        "| loaded onto:",
        next(iter(on_cpu.values())).device,
    )
else:
    print(
        "No CUDA GPU here, so no GPU-saved file can be made; with one, "
        "torch.load(path, map_location='cpu') loads it onto the CPU as above."
    )

# %%
# A useful habit, used in `load_checkpoint` above: load with
# `map_location="cpu"`, then let `load_state_dict` copy the values into a model
# that is already on its device (it copies in place, so the model stays where
# it is), and `optimizer.load_state_dict` moves its state to its parameters'
# device. The same file then works on any machine.
#
# ## 10. Summary
#
# - A `state_dict` maps names to tensors: parameters and buffers. Save it with
#   `torch.save(model.state_dict(), path)` and load it into a model your code
#   builds with `model.load_state_dict(torch.load(path))`; call `model.eval()`
#   before predicting.
# - `torch.load` uses `weights_only=True` by default: it loads tensors and
#   plain containers and refuses anything that could run code. Use
#   `weights_only=False` only for files you trust.
# - Pickling the whole model stores the class's import path, not its code: it
#   breaks when the class moves or changes. Prefer the `state_dict`.
# - `load_state_dict` is strict: mismatched names or shapes raise a clear
#   error. `strict=False` loads what matches and returns the rest; print it.
# - A checkpoint holds model, optimiser and scheduler state, the epoch, the
#   history and the random-number state; with all of them, resumed training
#   is the same run as uninterrupted training.
# - `map_location="cpu"` loads a file saved on any device.
#
# ## 11. Exercises
#
# 1. **Keep the best model.** Train a `new_run(seed=0)` for `total_epochs`
#    epochs, one `fit` call per epoch, and save a weights file whenever the
#    validation accuracy improves. Reload the best file and check that its
#    validation accuracy matches the best one seen.
# 2. **Forget the optimiser.** Resume from `checkpoint_path`, but load only
#    the model's weights and keep the fresh optimiser and scheduler. How does
#    the first resumed epoch's training loss compare with the exactly resumed
#    run's, and why?
# 3. **A copy that keeps changing.** `snapshot = model.state_dict()` taken in
#    the middle of training does not keep the weights of that moment. Show it,
#    and fix it with `copy.deepcopy`.

# %%
# **Solution 1.** `fit` returns the history of the epochs it ran, so calling it
# with `epochs=1` in a loop gives a hook after every epoch. A
# `state_dict` is saved only on improvement; at the end, the file holds the
# best epoch's weights, which need not be the last ones (Day 18 builds early
# stopping on
# this).

best = new_run(seed=0)
best_path = CHECKPOINTS / "digit_mlp_best.pt"
best_acc, best_epoch = -1.0, 0
for epoch in range(1, total_epochs + 1):
    h = fit(
        best.model,
        best.loader,
        val_loader,
        loss_fn,
        best.optimizer,
        epochs=1,
        scheduler=best.scheduler,
        progress=False,
    )
    if h["val_acc"][-1] > best_acc:
        best_acc, best_epoch = h["val_acc"][-1], epoch
        torch.save(best.model.state_dict(), best_path)

reloaded = DigitMLP().to(device)
reloaded.load_state_dict(torch.load(best_path))
reloaded_acc = evaluate(reloaded, val_loader)["accuracy"]
print(
    f"best epoch {best_epoch}: {best_acc:.2%}; reloaded from file: "
    f"{reloaded_acc:.2%}"
)
# The epoch was chosen on validation data; the test set, untouched until now,
# gives the number to report, measured once.
test_acc = evaluate(reloaded, DataLoader(test_data, batch_size=500))["accuracy"]
print(f"test accuracy of the chosen model (measured once): {test_acc:.2%}")

# %%
# **Solution 2.** A fresh Adam starts its running averages at zero and its
# schedule at the initial learning rate, so its first steps are sized
# differently from the run it replaces: the training continues, but not as the
# same run, and with a step schedule the learning rate is back at its start
# value.

forgetful = new_run(seed=123)
full_checkpoint = torch.load(checkpoint_path, map_location="cpu")
forgetful.model.load_state_dict(full_checkpoint["model"])
torch.set_rng_state(full_checkpoint["rng"]["torch"])
forgetful.generator.set_state(full_checkpoint["rng"]["loader"])
fresh_lr = forgetful.optimizer.param_groups[0]["lr"]
h = fit(
    forgetful.model,
    forgetful.loader,
    val_loader,
    loss_fn,
    forgetful.optimizer,
    epochs=1,
    scheduler=forgetful.scheduler,
    progress=False,
)
exact = straight_history["train_loss"][stop_after]
print(
    f"epoch {stop_after + 1} training loss: exact resume {exact:.4f}, "
    f"fresh optimiser {h['train_loss'][0]:.4f}"
)
print(
    "learning rate used: exact "
    f"{full_checkpoint['optimizer']['param_groups'][0]['lr']:g}, "
    f"fresh optimiser {fresh_lr:g}"
)

# %%
# **Solution 3.** `state_dict()` returns references to the live tensors, which
# the optimiser updates in place. `copy.deepcopy` (or `torch.save` to a file)
# freezes the values.

demo = new_run(seed=0)
snapshot = demo.model.state_dict()
frozen = copy.deepcopy(demo.model.state_dict())
fit(
    demo.model,
    demo.loader,
    val_loader,
    loss_fn,
    demo.optimizer,
    epochs=1,
    progress=False,
)
now = demo.model.state_dict()["hidden.weight"]
print(
    "plain state_dict still equals the current weights:",
    torch.equal(snapshot["hidden.weight"], now),
)
print(
    "deepcopy still equals the current weights:",
    torch.equal(frozen["hidden.weight"], now),
)

# %%
# You can now keep what you train. Next, [Day 10](day10_mnist.ipynb) puts
# everything so far together on the full MNIST dataset, end to end.
