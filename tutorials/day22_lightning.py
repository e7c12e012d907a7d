"""
# Day 22 · PyTorch Lightning introduction (PyTorch Lightning 簡介)

Since Day 6 you have written every training loop by hand, and the loop has
grown: devices, bfloat16 autocast, a learning-rate schedule stepped after
every batch, validation, a history of metrics, the best checkpoint, early
stopping. **PyTorch Lightning** is a library that owns that loop. You write
what is particular to your model (the network, one training step, one
validation step, the optimiser) in a `LightningModule`, your data in a
`LightningDataModule`, and a `Trainer` runs the epochs, with **callbacks**
that keep the best checkpoint, stop early and record the learning rate, and
a **logger** that writes every metric to a file. In this lesson you move Day
14's CIFAR-10 network (at half its width, so that a dozen runs fit into a
few minutes) from your own loop into Lightning, and check the claim that
Lightning changes *where* the code lives but not *what* it computes: the
same seeds and recipe in both, side by side. Then you read the logged
metrics back and plot them, put Lightning's `EarlyStopping` next to your
Day 18 helper on one validation curve, resume an interrupted run from a
checkpoint, and measure what Lightning costs per epoch.

**You will learn:** a `LightningModule` (`training_step`,
`validation_step`, `configure_optimizers`) and a `LightningDataModule` ·
the `Trainer`: devices, precision, epochs · callbacks: `ModelCheckpoint`,
`EarlyStopping`, `LearningRateMonitor`, and one of your own · `CSVLogger`
and reading `metrics.csv` back · what a Lightning checkpoint holds, and
resuming with `ckpt_path` · what it takes to make a resumed run repeat the
uninterrupted one exactly · measuring a framework's overhead

**Before you start:** [Day 14](day14_cifar10.ipynb) (the network and its
recipe) · [Day 18](day18_early_stopping.ipynb) (early stopping) ·
[Day 9](day09_save_load.ipynb) (checkpoints) · the previous day is
[Day 21](day21_validation_showcase.ipynb) · **Reading time:** about 2 hours
"""

# %%
# ## 1. Set-up
#
# Lightning is not part of the course's base install; the line below
# declares it (a Colab notebook installs it in its first cell), together
# with TensorBoard for exercise 2. The package is `lightning`, imported as
# `L`; the older name `pytorch_lightning` installs the same trainer under
# another name, and new code should use `lightning`. The lesson measures
# its own run time, and how long the import of Lightning takes.

# sphinx_gallery_requires = ["lightning>=2.4", "tensorboard>=2.17"]

import time

lesson_start = time.perf_counter()

import csv
import logging
import os
import shutil
import statistics
import warnings
from dataclasses import asdict, replace
from pathlib import Path

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Sampler, TensorDataset

import course
from course.cifar import (
    CifarNet,
    Recipe,
    augment,
    channel_stats,
    default_recipe,
    default_split,
    make_optimizer,
    to_input,
)
from course.early_stopping import EarlyStopping as Day18EarlyStopping
from course.experiments import format_table
from course.report import headline

import_start = time.perf_counter()
import lightning as L
from lightning.pytorch.callbacks import (
    Callback,
    EarlyStopping,
    LearningRateMonitor,
    ModelCheckpoint,
)
from lightning.pytorch.loggers import CSVLogger

import_seconds = time.perf_counter() - import_start

course.seed_everything(0)
device = course.choose_device()
print(f"profile: {course.PROFILE}, device: {device}, torch {torch.__version__}")
print(f"lightning {L.__version__}, imported in {import_seconds:.1f} s")

# %%
# Lightning reports what it does through Python's `logging` module, at the
# INFO level: the precision it uses, "GPU available: False, used: False"
# and the same for TPUs, a tip that advertises a cloud service, a table of
# the model's layers, and why `fit` stopped. In a terminal that is useful;
# on a page that trains a dozen times it would bury the results. We raise
# the threshold of Lightning's loggers to warnings, and print what matters
# from the trainer's attributes ourselves.
#
# Two warnings we switch off by their message, both harmless here.
# Lightning suggests `DataLoader` worker processes on machines with more
# cores than the loader uses (Lightning's documentation shows this very
# filter): our images are tensors in memory, and workers would only copy
# them between processes. And Lightning 2.6 calls a helper in
# `torch.utils._pytree` that torch 2.14 has deprecated, which raises a
# `FutureWarning` about `LeafSpec` inside Lightning's code, not ours.

logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
logging.getLogger("lightning.fabric").setLevel(logging.WARNING)
warnings.filterwarnings("ignore", message=".*does not have many workers")
warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\)")

# %%
# Lightning writes logs and checkpoints into folders. All of them go into
# one working folder that the lesson empties first, so that a second run
# starts from the same state; paths are printed relative to the notebook's
# folder.

work = Path("day22_runs")
shutil.rmtree(work, ignore_errors=True)
work.mkdir()


def rel(path: str | Path) -> str:
    """A path relative to the current folder, with forward slashes."""
    return Path(os.path.relpath(path)).as_posix()


print(f"Lightning's logs and checkpoints go into {rel(work)}/")

# %%
# ## 2. The data, as a `LightningDataModule`
#
# Day 14's split: 5,000 validation images held out from CIFAR-10's
# training set, the 10,000 test images set aside for the end. To fit many
# runs into the lesson we train on the first `n_train` of Day 14's
# training images (they are in random order already), and the network's
# normalisation comes from those.

split = default_split()
n_train = course.pick(full=15_000, smoke=400)
train_set = tuple(t[:n_train] for t in split.train)
mean, std = channel_stats(train_set[0])
for name, (images, labels) in [
    ("train", train_set),
    ("val", split.val),
    ("test", split.test),
]:
    print(f"{name:5s} {len(labels):6,} images {tuple(images.shape[1:])}, uint8")

# %%
# One decision matters for everything that follows: **where the
# randomness of training comes from**. A `DataLoader` with `shuffle=True`
# draws each epoch's order from one generator that runs on from epoch to
# epoch, and Day 14 drew its augmentation from the global generator. Both
# are fine for a single run, but a run resumed from a checkpoint would start
# those generators afresh (section 10). So every draw gets a generator of
# its own, seeded from the run's seed and a number: the epoch's number for
# the order of the images, the step's number for the augmentation of a
# batch.
#
# A sampler that shuffles by epoch needs a `set_epoch` method, the
# convention of PyTorch's `DistributedSampler`: a loop calls it before each
# epoch, and Lightning's `Trainer` calls it on any sampler that has one.

ORDER, AUGMENTATION = 0, 1  # the two random streams of a run


def generator_for(seed: int, stream: int, number: int) -> torch.Generator:
    """The generator of one draw: the order of epoch `number` (stream ORDER) or
    the augmentation of step `number` (stream AUGMENTATION)."""
    return torch.Generator().manual_seed(1_000_000 * (2 * seed + stream) + number)


class EpochShuffle(Sampler[int]):
    """A new order every epoch, fixed by (seed, epoch): the same after a resume."""

    def __init__(self, n: int, seed: int) -> None:
        self.n, self.seed, self.epoch = n, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self):
        order = generator_for(self.seed, ORDER, self.epoch)
        return iter(torch.randperm(self.n, generator=order).tolist())

    def __len__(self) -> int:
        return self.n


# %%
# A `LightningDataModule` gathers what a `Trainer` asks about the data:
# `setup(stage)`, called in every process before training (build the
# datasets here), one method per loader, and hooks on the way of a batch
# to the device. `on_before_batch_transfer` is where Day 14's augmentation
# goes: it runs on the CPU on whole uint8 batches, before they move (the
# `Trainer` calls it for every batch; `self.trainer.training` is false
# during validation and testing). There is also `prepare_data()`, called
# once per machine, for downloads; our tensors are in memory already. The
# plain loop of section 3 uses the same object, which guarantees that both
# loops see the very same batches.


class CifarData(L.LightningDataModule):
    """Training, validation and test tensors served as DataLoaders, and the
    augmentation of the training batches."""

    def __init__(self, train, val, test, recipe: Recipe, seed: int) -> None:
        super().__init__()
        self.tensors = {"train": train, "val": val, "test": test}
        self.recipe, self.seed = recipe, seed
        self.batch_size = recipe.batch_size

    def setup(self, stage: str) -> None:
        self.sets = {name: TensorDataset(*t) for name, t in self.tensors.items()}

    def train_dataloader(self) -> DataLoader:
        train = self.sets["train"]
        return DataLoader(
            train,
            batch_size=self.batch_size,
            sampler=EpochShuffle(len(train), self.seed),
            drop_last=True,  # Day 14 trains on whole batches only
        )

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.sets["val"], batch_size=1_000)

    def test_dataloader(self) -> DataLoader:
        return DataLoader(self.sets["test"], batch_size=1_000)

    def augment(self, images: torch.Tensor, step: int) -> torch.Tensor:
        """Day 14's shifts and flips of one training batch, drawn for this step."""
        flips = generator_for(self.seed, AUGMENTATION, step)
        return augment(images, self.recipe.shift, self.recipe.flip, generator=flips)

    def on_before_batch_transfer(self, batch, dataloader_idx: int):
        images, labels = batch
        if self.trainer.training:  # not during validation or testing
            step = self.trainer.global_step  # optimiser steps so far
            images = self.augment(images, step)
        return images, labels


recipe = replace(default_recipe(), epochs=course.pick(full=4, smoke=2), tta=False)
demo = CifarData(train_set, split.val, split.test, recipe, seed=0)
demo.setup("fit")
loader = demo.train_dataloader()
images, labels = next(iter(loader))
print(f"{len(loader)} batches of {tuple(images.shape)} {images.dtype} per epoch")
for epoch in range(3):
    loader.sampler.set_epoch(epoch)
    print(f"epoch {epoch}: first images {list(loader.sampler)[:6]}")
loader.sampler.set_epoch(0)
print(f"epoch 0 again: first images {list(loader.sampler)[:6]}")

# %%
# ## 3. The loop you know
#
# The recipe is Day 14's, for fewer epochs and without test-time
# augmentation (validation looks at each image once); the network is Day
# 14's `CifarNet` with half the channels in every layer, a quarter of the
# weights.

SIZE = {"widths": (16, 32, 64), "stem": 16}  # Day 14: (32, 64, 128) and 24
use_bf16 = device.type in ("cpu", "cuda")  # where bfloat16 autocast is fast
print(recipe)
n_weights = sum(p.numel() for p in CifarNet(mean, std, **SIZE).parameters())
n_day14 = sum(p.numel() for p in CifarNet(mean, std).parameters())
print(f"CifarNet{SIZE}: {n_weights:,} parameters (Day 14's: {n_day14:,})")

# %%
# First the evaluation, which Lightning will run as its validation: the
# model in evaluation mode, no gradients, the forward pass under bfloat16
# autocast, the loss and accuracy averaged over all images.


@torch.no_grad()
def evaluate(model: torch.nn.Module, loader: DataLoader) -> dict[str, float]:
    """Loss and accuracy of `model` over a loader, in evaluation mode."""
    model.eval()
    loss_sum, correct, n = 0.0, 0, 0
    for images, labels in loader:
        x = to_input(images, device, recipe.channels_last)
        y = labels.to(device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
            logits = model(x).float()
        loss_sum += F.cross_entropy(logits, y, reduction="sum").item()
        correct += (logits.argmax(1) == y).sum().item()
        n += len(y)
    return {"loss": loss_sum / n, "acc": correct / n}


def epoch_line(epoch: int, epochs: int, values: dict, seconds: float) -> str:
    """One line of the training log; `epoch` counts from 0, as Lightning does."""
    return (
        f"epoch {epoch + 1}/{epochs}  train loss {values['train_loss']:.4f}  |  "
        f"val loss {values['val_loss']:.4f}  acc {values['val_acc']:.2%}  "
        f"({seconds:.1f} s)"
    )


# %%
# The training loop: Day 14's, with the order set for each epoch, the
# augmentation drawn for each step, and a checkpoint of the best epoch
# (model, optimiser and schedule, as Day 9 taught). Every line of it has a
# place in Lightning; section 4 shows where.


def plain_fit(seed: int, verbose: bool = False) -> dict:
    """Train a fresh network with the recipe; return it and its history."""
    run_start = time.perf_counter()
    course.seed_everything(seed)
    model = CifarNet(mean, std, **SIZE).to(
        device, memory_format=torch.channels_last
    )
    data = CifarData(train_set, split.val, split.test, recipe, seed)
    data.setup("fit")
    train_loader, val_loader = data.train_dataloader(), data.val_dataloader()
    total_steps = recipe.epochs * len(train_loader)
    optimizer, schedule = make_optimizer(model, recipe, total_steps)
    folder = work / "plain" / f"seed{seed}"
    folder.mkdir(parents=True)
    history = {"train_loss": [], "val_loss": [], "val_acc": [], "seconds": []}
    step = 0
    for epoch in range(recipe.epochs):
        start = time.perf_counter()
        model.train()
        train_loader.sampler.set_epoch(epoch)  # this epoch's order
        loss_sum = torch.zeros((), device=device)
        for images, labels in train_loader:
            images = data.augment(images, step)  # on the CPU, before moving
            x = to_input(images, device, recipe.channels_last)
            y = labels.to(device)
            with torch.autocast(
                device.type, dtype=torch.bfloat16, enabled=use_bf16
            ):
                logits = model(x)
            loss = F.cross_entropy(
                logits.float(), y, label_smoothing=recipe.label_smoothing
            )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()  # one-cycle: after every batch
            loss_sum += loss.detach()
            step += 1
        val = evaluate(model, val_loader)
        history["seconds"].append(time.perf_counter() - start)
        history["train_loss"].append(loss_sum.item() / len(train_loader))
        history["val_loss"].append(val["loss"])
        history["val_acc"].append(val["acc"])
        if val["acc"] >= max(history["val_acc"]):  # the best so far: keep it
            state = {
                "epoch": epoch,
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "schedule": schedule.state_dict(),
            }
            torch.save(state, folder / "best.pt")
        if verbose:
            latest = {key: values[-1] for key, values in history.items()}
            print(epoch_line(epoch, recipe.epochs, latest, history["seconds"][-1]))
    total = time.perf_counter() - run_start
    return {
        "seed": seed,
        "model": model,
        "history": history,
        "total_seconds": total,
    }


plain_runs = [plain_fit(seed=0, verbose=True)]

# %%
# ## 4. The same model as a `LightningModule`
#
# A `LightningModule` is an `nn.Module` with a few methods that the
# `Trainer` calls at the right moments. Here is where each part of the loop
# above goes:
#
# | plain loop | in Lightning |
# | --- | --- |
# | `CifarNet(...)` and its settings | `__init__`, with `save_hyperparameters()` |
# | `model.to(device)`, `labels.to(device)` | the `Trainer` (`accelerator="auto"`) |
# | `torch.autocast(...)` | the `Trainer` (`precision="bf16-mixed"`) |
# | `sampler.set_epoch(epoch)` | the `Trainer`, for any sampler with the method |
# | augmenting a batch before it moves | `on_before_batch_transfer` (in the DataModule) |
# | forward pass and loss | `training_step`, which returns the loss |
# | `zero_grad`, `backward`, `step`, `schedule.step()` | the `Trainer` |
# | making the optimiser and the schedule | `configure_optimizers` |
# | `model.train()`, `model.eval()`, `torch.no_grad()` | the `Trainer` |
# | `evaluate(model, val_loader)` | `validation_step`, once per batch |
# | the history lists | `self.log(...)`, and a logger that writes them |
# | `torch.save` of the best epoch | the `ModelCheckpoint` callback |
#
# `save_hyperparameters()` records the arguments of `__init__` in every
# checkpoint (section 8).
#
# `self.log(name, value, batch_size=n)` averages a value over the epoch,
# weighting each batch by `n`, which makes the validation accuracy the
# share of all validation images, as in `evaluate`.
# `self.trainer.estimated_stepping_batches` is the number of optimiser
# steps the `Trainer` will take, epochs times batches per epoch: the
# one-cycle schedule's length.


class LitCifarNet(L.LightningModule):
    """Day 14's network and recipe, for Lightning's Trainer."""

    def __init__(
        self,
        mean: list[float],
        std: list[float],
        recipe: dict,
        widths: tuple[int, ...] = (16, 32, 64),
        stem: int = 16,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()  # all the arguments, into every checkpoint
        self.recipe = Recipe(**recipe)
        net = CifarNet(torch.tensor(mean), torch.tensor(std), widths, stem)
        self.net = net.to(memory_format=torch.channels_last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        images, labels = batch  # on self.device already
        logits = self(to_input(images, self.device, self.recipe.channels_last))
        loss = F.cross_entropy(
            logits.float(), labels, label_smoothing=self.recipe.label_smoothing
        )
        self.log("train_loss", loss, on_step=False, on_epoch=True)
        return loss  # the Trainer runs backward() and the optimiser

    def _evaluate(self, batch, stage: str) -> None:
        images, labels = batch
        x = to_input(images, self.device, self.recipe.channels_last)
        logits = self(x).float()
        n = len(labels)
        self.log(f"{stage}_loss", F.cross_entropy(logits, labels), batch_size=n)
        accuracy = (logits.argmax(1) == labels).float().mean()
        self.log(f"{stage}_acc", accuracy, batch_size=n)

    def validation_step(self, batch, batch_idx: int) -> None:
        self._evaluate(batch, "val")

    def test_step(self, batch, batch_idx: int) -> None:
        self._evaluate(batch, "test")

    def configure_optimizers(self):
        steps = self.trainer.estimated_stepping_batches
        optimizer, schedule = make_optimizer(self.net, self.recipe, steps)
        return {
            "optimizer": optimizer,
            # "step": the Trainer calls schedule.step() after every batch
            "lr_scheduler": {"scheduler": schedule, "interval": "step"},
        }


# %%
# ## 5. The `Trainer`, callbacks and a logger
#
# Lightning's progress bar redraws itself in place, with carriage returns,
# or with widgets when `ipywidgets` is installed; in a notebook that
# becomes dozens of half-drawn lines or a widget a saved page cannot show.
# We switch it off (`enable_progress_bar=False`) and print one line per
# epoch from a **callback** of our own. A callback is an object whose
# methods the `Trainer` calls at fixed points (`on_train_epoch_start`,
# `on_train_epoch_end`, and some thirty more); ours also times each epoch
# and keeps the history, for the comparisons below. By the end of a
# training epoch, Lightning 2 has run that epoch's validation, so
# `trainer.callback_metrics` holds the validation numbers too.


class EpochSummary(Callback):
    """One printed line per epoch instead of a progress bar; times each epoch."""

    def __init__(self, verbose: bool = True) -> None:
        self.verbose = verbose
        self.seconds: list[float] = []
        self.history: dict[str, list[float]] = {}

    def on_train_start(self, trainer, pl_module) -> None:
        self.first_epoch = trainer.current_epoch  # more than 0 after a resume
        self.first_step = trainer.global_step

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self.epoch_start = time.perf_counter()

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self.seconds.append(time.perf_counter() - self.epoch_start)
        values = {k: v.item() for k, v in trainer.callback_metrics.items()}
        for key, value in values.items():
            self.history.setdefault(key, []).append(value)
        if self.verbose and "val_loss" in values:
            epochs, seconds = trainer.max_epochs, self.seconds[-1]
            print(epoch_line(trainer.current_epoch, epochs, values, seconds))


# %%
# One function makes every `Trainer` of this lesson, so that the runs
# differ only in what each call says. `accelerator="auto"` takes a GPU when
# there is one and the CPU otherwise, `precision="bf16-mixed"` runs the
# steps under bfloat16 autocast (section 11), and the `CSVLogger` writes
# whatever `self.log` records to `<work>/<name>/version_<n>/metrics.csv`,
# a new version folder for every run of the same name. The logger writes
# a row every `log_every_n_steps` training steps.


def make_trainer(
    name: str,
    max_epochs: int,
    *callbacks: Callback,
    verbose: bool = True,
    **options,
) -> tuple[L.Trainer, EpochSummary]:
    """A Trainer with this lesson's settings; `options` override them."""
    summary = EpochSummary(verbose)
    settings = {
        "accelerator": "auto",
        "devices": 1,
        "precision": "bf16-mixed" if use_bf16 else "32-true",
        "max_epochs": max_epochs,
        "callbacks": [summary, *callbacks],
        "logger": CSVLogger(work, name=name),
        "log_every_n_steps": course.pick(full=10, smoke=2),
        "enable_progress_bar": False,  # one line per epoch instead
        "enable_model_summary": False,  # we printed the parameters ourselves
    }
    return L.Trainer(**(settings | options)), summary


# %%
# A Lightning run, then: the same seed as the plain run, a fresh
# `LitCifarNet`, and two of Lightning's callbacks. `ModelCheckpoint` saves
# the epoch with the best validation accuracy (`monitor="val_acc"`,
# `mode="max"`) and deletes the one it replaces; `LearningRateMonitor` logs
# the learning rate of every parameter group at every logged step.


def lightning_fit(seed: int, verbose: bool = False) -> dict:
    """The plain run's recipe and seed, trained by Lightning's Trainer."""
    course.seed_everything(seed)  # before the network draws its weights
    module = LitCifarNet(mean.tolist(), std.tolist(), asdict(recipe), **SIZE)
    data = CifarData(train_set, split.val, split.test, recipe, seed)
    best = ModelCheckpoint(monitor="val_acc", mode="max", filename="best-{epoch}")
    learning_rate = LearningRateMonitor(logging_interval="step")
    trainer, summary = make_trainer(
        f"seed{seed}", recipe.epochs, best, learning_rate, verbose=verbose
    )
    start = time.perf_counter()
    trainer.fit(module, datamodule=data)
    return {
        "seed": seed,
        "module": module,
        "trainer": trainer,
        "summary": summary,
        "data": data,
        "total_seconds": time.perf_counter() - start,
    }


lightning_runs = [lightning_fit(seed=0, verbose=True)]
trainer = lightning_runs[0]["trainer"]
print(
    f"accelerator: {type(trainer.accelerator).__name__}, "
    f"strategy: {type(trainer.strategy).__name__}, "
    f"precision: {trainer.precision}, "
    f"the model ended on: {lightning_runs[0]['module'].device}"
)

# %%
# Compare the lines with those of the plain loop in section 3, epoch by
# epoch. The last line shows what `accelerator="auto"` chose; our module
# never moved anything itself (`to_input` gets batches that are on
# `self.device` already).
#
# ## 6. Plain loop and Lightning, side by side
#
# One seed proves little, so more seeds for each loop (two more in the full
# profile; a seed changes the initial weights, the order of the images and
# the augmentation, not the data). The runs alternate between the two loops,
# so that whatever else the machine does at the time slows both alike (the
# timings are used in section 12).

for seed in course.pick(full=[1, 2], smoke=[1]):
    plain_runs.append(plain_fit(seed))
    lightning_runs.append(lightning_fit(seed))


def max_weight_difference(a: torch.nn.Module, b: torch.nn.Module) -> float:
    """The largest absolute difference between two networks' parameters and buffers."""
    pairs = zip(a.state_dict().values(), b.state_dict().values(), strict=True)
    return max((x.float() - y.float()).abs().max().item() for x, y in pairs)


rows = []
for p, lit in zip(plain_runs, lightning_runs, strict=True):
    plain_acc = p["history"]["val_acc"][-1]
    lit_acc = lit["summary"].history["val_acc"][-1]
    rows.append(
        {
            "seed": p["seed"],
            "plain": plain_acc,
            "lightning": lit_acc,
            # Lightning averages in float32: round away its last bits
            "diff": round(100 * (lit_acc - plain_acc), 4) + 0.0,
            "weights": max_weight_difference(p["model"], lit["module"].net),
        }
    )
print(
    format_table(
        rows,
        [
            ("seed", "seed", "d"),
            ("plain", "val acc, plain loop", ".2%"),
            ("lightning", "val acc, Lightning", ".2%"),
            ("diff", "difference (points)", "+.2f"),
            ("weights", "largest weight difference", ".2g"),
        ],
    )
)
plain_accs = [row["plain"] for row in rows]
lightning_accs = [row["lightning"] for row in rows]
seed_spread = statistics.stdev(plain_accs)
largest_gap = max(abs(row["diff"]) for row in rows)
print(
    f"mean over {len(rows)} seeds: plain {statistics.mean(plain_accs):.2%}, "
    f"Lightning {statistics.mean(lightning_accs):.2%}"
)
print(
    f"seed-to-seed standard deviation (plain loop): {100 * seed_spread:.2f} points"
)
print(
    f"largest plain-vs-Lightning difference of one seed: {largest_gap:.2f} points"
)
if max(row["weights"] for row in rows) == 0:
    print("every seed: the two loops ended with identical weights, bit for bit")
elif largest_gap <= 100 * seed_spread:
    print("the differences are smaller than the seed-to-seed spread")
else:
    print("a difference larger than the seed-to-seed spread: compare the recipes")

# %%
# Read the verdict in the last line. Same weights to the last bit means
# that Lightning ran exactly the arithmetic of the plain loop, in the same
# order: the same initial weights (seeded before the network is built),
# the same batches (one `CifarData`, whose sampler Lightning advanced with
# `set_epoch`), the same augmentation draws (the step's generator, applied
# on the CPU before the batch moves), the same autocast, the same optimiser
# and schedule. On the CPU the kernels are deterministic; on a GPU some are
# not (cuDNN picks algorithms, atomic additions change the order of sums),
# and two identical runs, plain or Lightning, can then drift apart by
# amounts like the seed-to-seed spread. That spread, printed above, is the
# yardstick: a difference between two loops well inside it is no
# difference.
#
# Exact agreement is a useful test when you port a loop to a framework.
# Lightning did not demand it: seeding, the data order and where the
# augmentation happens were our choices, and any of them done differently
# (the global generator for augmentation, say, which Lightning's sanity
# check and loader creation also draw from) would give results equal only
# within the noise.
#
# ## 7. Reading the logger back
#
# The `CSVLogger` wrote one file per run. A few lines of it, raw:

log_dir = Path(trainer.logger.log_dir)
metrics_file = log_dir / "metrics.csv"
lines = metrics_file.read_text().splitlines()
print(f"{rel(metrics_file)}: {len(lines) - 1} rows")
for line in lines[:3] + ["..."] + lines[-2:]:
    print(line)

# %%
# Every call of `self.log` becomes a column; a row holds what was logged at
# one step, so most cells are empty: the learning-rate rows come every
# `log_every_n_steps` steps, the epoch averages at the end of each epoch.
# The optimiser has two parameter groups (Day 14: weight decay on the
# weights, none on biases and BatchNorm), so `LearningRateMonitor` logs
# two columns, `pg1` and `pg2`. The standard library's `csv` module reads
# it (pandas' `read_csv` would too); `column` picks the non-empty cells of
# one metric.


def read_metrics(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


def column(rows: list[dict[str, str]], key: str) -> tuple[list[int], list[float]]:
    """The (epoch or step, value) pairs of the rows where `key` was logged."""
    at = "step" if key.startswith("lr-") else "epoch"
    pairs = [(int(r[at]), float(r[key])) for r in rows if r.get(key)]
    return [x for x, _ in pairs], [y for _, y in pairs]


logged = read_metrics(metrics_file)
epochs_logged, val_acc_logged = column(logged, "val_acc")
from_callback = lightning_runs[0]["summary"].history["val_acc"]
gap = max(abs(a - b) for a, b in zip(val_acc_logged, from_callback, strict=True))
print("columns:", ", ".join(logged[0]))
print(f"val_acc read back for epochs {epochs_logged} (counted from 0)")
print(f"largest difference from the values the callback saw: {gap:.1g}")

# %%
# The curves of the seed-0 run, drawn from the file: losses and accuracy per
# epoch (Lightning counts epochs from 0; the plots count from 1, as the
# printed lines do), and the learning rate step by step, Day 14's one-cycle
# schedule as it was really applied.

fig, (ax_loss, ax_acc, ax_lr) = plt.subplots(1, 3, figsize=(13, 3.8))
for key, label in [
    ("train_loss", "train (augmented, smoothed)"),
    ("val_loss", "validation"),
]:
    x, y = column(logged, key)
    ax_loss.plot([e + 1 for e in x], y, "o-", label=label)
ax_loss.set_title("Loss per epoch")
ax_loss.set_ylabel("cross-entropy")
x, y = column(logged, "val_acc")
ax_acc.plot([e + 1 for e in x], [100 * v for v in y], "o-", label="validation")
ax_acc.set_title("Validation accuracy per epoch")
ax_acc.set_ylabel("accuracy (%)")
for ax in (ax_loss, ax_acc):
    ax.set_xlabel("epoch")
for key, style in [("lr-SGD/pg1", "-"), ("lr-SGD/pg2", ":")]:
    x, y = column(logged, key)
    ax_lr.plot(x, y, style, label=key)
ax_lr.set_title("Learning rate (LearningRateMonitor)")
ax_lr.set_xlabel("optimiser step")
ax_lr.set_ylabel("learning rate")
for ax in (ax_loss, ax_acc, ax_lr):
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
fig.suptitle(f"Read back from {rel(metrics_file)}")
plt.tight_layout()
plt.show()

# %%
# The two learning-rate columns lie on top of each other: both groups
# follow the same schedule. Day 21 read TensorBoard's event files back in
# the same way; exercise 2 gives Lightning a `TensorBoardLogger` next to
# the CSV one.
#
# ## 8. Checkpoints
#
# What the seed-0 run left in its folder (`hparams.yaml` holds the
# arguments that `save_hyperparameters` recorded):

best_callback = trainer.checkpoint_callback
for path in sorted(p for p in log_dir.rglob("*") if p.is_file()):
    print(f"{rel(path):52s} {path.stat().st_size / 1024:7.1f} KB")
print(f"best by val_acc: {rel(best_callback.best_model_path)}")
print(f"its val_acc: {best_callback.best_model_score.item():.2%}")

# %%
# `epoch=...` in the file name counts from 0, like everything in Lightning.
# A checkpoint is a dictionary saved with `torch.save`, and `torch.load`
# opens it (with `weights_only=True`, the safe default since torch 2.6:
# tensors, numbers, strings and containers only). Besides the weights it
# holds everything needed to continue training:

checkpoint = torch.load(
    best_callback.best_model_path, map_location="cpu", weights_only=True
)
for key, value in checkpoint.items():
    if isinstance(value, dict):
        shown = f"{len(value)} entries"
        if key in ("callbacks", "loops"):
            shown += ": " + ", ".join(k.split("{")[0] for k in value)
    elif isinstance(value, list):
        shown = f"a list of {len(value)}"
    else:
        shown = repr(value)
    print(f"{key:26s} {shown}")

# %%
# `state_dict` holds the weights (under `net.`, the attribute name in
# `LitCifarNet`), `optimizer_states` the momentum buffers, `lr_schedulers`
# the position in the one-cycle schedule, `loops` the trainer's counters,
# `callbacks` the state of each callback (the checkpoint callback's list
# of best files, for one), `hyper_parameters` the arguments of
# `__init__`. Because those are stored, `load_from_checkpoint` rebuilds the
# module without being told its arguments:

restored = LitCifarNet.load_from_checkpoint(best_callback.best_model_path)
hparams = restored.hparams
print(
    f"rebuilt from its hyperparameters: widths {tuple(hparams.widths)}, "
    f"lr {hparams.recipe['lr']}, {hparams.recipe['epochs']} epochs"
)
again = evaluate(
    restored.net.to(device), lightning_runs[0]["data"].val_dataloader()
)
print(f"validation accuracy of the restored network: {again['acc']:.2%}")

# %%
# ## 9. Early stopping: Lightning's callback and the Day 18 helper
#
# With a one-cycle schedule the best epoch is nearly always the last one
# (the learning rate anneals towards zero), so early stopping has nothing to
# do there. It earns its place on open-ended training that over-fits. So, as
# in Day 18, a set-up built to over-fit: a small part of the training images
# (printed below), no augmentation, no label smoothing, a constant learning
# rate, and up to `max_epochs` epochs. Only the recipe changes;
# `LitCifarNet` is the same class.

n_small = course.pick(full=4_000, smoke=200)
max_epochs = course.pick(full=20, smoke=3)
overfit = replace(
    recipe,
    epochs=max_epochs,
    batch_size=course.pick(full=128, smoke=50),
    lr=0.02,
    one_cycle=False,
    label_smoothing=0.0,
    shift=0,
    flip=False,
)
small_train = tuple(t[:n_small] for t in train_set)
small_data = CifarData(small_train, split.val, split.test, overfit, seed=0)
patience, min_delta = course.pick(full=3, smoke=1), 0.01
print(f"{n_small:,} training images, at most {max_epochs} epochs")
print(f"stopping rule: val_loss, patience {patience}, min_delta {min_delta}")

# %%
# Two stopping rules watch the same run. Lightning's `EarlyStopping`
# callback decides; the Day 18 helper (`course.early_stopping`) watches
# from a callback of our own, which gives it the same `val_loss` after
# every validation and never stops anything. One detail: before the first
# epoch, Lightning runs two validation batches as a **sanity check** (a
# bug in `validation_step` fails in seconds, not after an hour of
# training), and `on_validation_end` is called for it too. Lightning's
# callback skips it; ours must, or the helper would count one check too
# many.
#
# Two `ModelCheckpoint`s: one keeps the best epoch by validation loss, the
# other every epoch (`save_top_k=-1`), for section 10.


class Day18Watcher(Callback):
    """Feeds Day 18's stopping rule the monitored value after every validation."""

    def __init__(self, rule: Day18EarlyStopping, monitor: str = "val_loss") -> None:
        self.rule, self.monitor = rule, monitor
        self.stop_at = 0  # the first check at which the rule said stop

    def on_validation_end(self, trainer, pl_module) -> None:
        if trainer.sanity_checking:
            return  # the 2-batch check before training is not an epoch
        value = trainer.callback_metrics[self.monitor].item()
        if self.rule.step(value) and not self.stop_at:
            self.stop_at = self.rule.epoch


def stopping_callbacks() -> list[Callback]:
    return [
        EarlyStopping(
            monitor="val_loss", mode="min", patience=patience, min_delta=min_delta
        ),
        ModelCheckpoint(monitor="val_loss", mode="min", filename="best-{epoch}"),
        ModelCheckpoint(save_top_k=-1, filename="{epoch}"),
    ]


course.seed_everything(0)
early_module = LitCifarNet(mean.tolist(), std.tolist(), asdict(overfit), **SIZE)
lightning_stop, best_by_loss, every_epoch = stopping_callbacks()
watcher = Day18Watcher(Day18EarlyStopping(patience=patience, min_delta=min_delta))
early_trainer, early_summary = make_trainer(
    "early", max_epochs, watcher, lightning_stop, best_by_loss, every_epoch
)
early_trainer.fit(early_module, datamodule=small_data)
epochs_run = len(early_summary.seconds)
print(f"trained {epochs_run} of at most {max_epochs} epochs")

# %%
# The decisions side by side. Lightning's `stopped_epoch` is the trainer's
# epoch, counted from 0; the helper counts checks from 1; the table counts
# epochs from 1 throughout. Lightning's callback keeps the best value and
# the number of checks since, not the best epoch: that is `epochs_run -
# wait_count`. The last row replays the helper on the curve read back from
# `metrics.csv`, as Day 18 replayed recorded curves.

early_csv = read_metrics(Path(early_trainer.logger.log_dir) / "metrics.csv")
_, val_losses = column(early_csv, "val_loss")
replayed = Day18EarlyStopping(patience=patience, min_delta=min_delta)
for value in val_losses:
    if replayed.step(value):
        break
stopped = lightning_stop.wait_count >= patience  # its count reached patience
best_file = torch.load(best_by_loss.best_model_path, weights_only=True)
best_file_epoch = best_file["epoch"]  # counted from 0
decisions = [
    {
        "rule": "Lightning EarlyStopping",
        "stop": lightning_stop.stopped_epoch + 1 if stopped else None,
        "best": epochs_run - lightning_stop.wait_count,
        "value": lightning_stop.best_score.item(),
    },
    {
        "rule": "Day 18 helper, in the run",
        "stop": watcher.stop_at or None,
        "best": watcher.rule.best_epoch,
        "value": watcher.rule.best,
    },
    {
        "rule": "Day 18 helper, on metrics.csv",
        "stop": replayed.stopped_epoch or None,
        "best": replayed.best_epoch,
        "value": replayed.best,
    },
    {
        "rule": "ModelCheckpoint's best file",
        "stop": None,
        "best": best_file_epoch + 1,
        "value": best_by_loss.best_model_score.item(),
    },
]
print(
    format_table(
        decisions,
        [
            ("rule", "rule"),
            ("stop", "stops after epoch", "d"),
            ("best", "best epoch", "d"),
            ("value", "best val_loss", ".4f"),
        ],
    )
)
agree = len({(d["stop"], d["best"]) for d in decisions[:3]}) == 1
agree = agree and len({d["best"] for d in decisions}) == 1
print("all rules agree" if agree else "the rules DISAGREE: see the table")

# %%
# ("-": did not stop within the budget.) The agreement is no accident:
# Day 18 wrote its helper to Lightning's rule. Where the two differ:
#
# - **The rule** is the same: in mode `"min"` a value improves when
#   `value + min_delta < best`, the count of checks without improvement
#   resets at every improvement, and training stops when it reaches
#   `patience`. A NaN or infinite value stops at once in both
#   (Lightning's `check_finite=True`). Lightning compares in float32
#   tensors, the helper in Python floats: a value within a rounding error
#   of the threshold could be judged differently, which is rare.
# - **Counting**: patience counts *checks*. Lightning checks after every
#   validation; with `check_val_every_n_epoch=2`, patience 3 means six
#   epochs, as in Day 18's exercise 2.
# - **`min_delta`**: Lightning flips its sign by mode and accepts a
#   negative value, which then means the opposite (a value up to
#   `-min_delta` *worse* than the best counts as an improvement); the
#   helper refuses it.
# - **Extras** in Lightning: `stopping_threshold` (stop once good enough),
#   `divergence_threshold` (stop once hopeless), `strict` (an error when
#   the metric is missing, below), and the Trainer's `min_epochs`, which
#   can overrule a stop.
# - **Weights**: Day 18's helper keeps the best weights; Lightning's
#   `EarlyStopping` keeps none, and its `ModelCheckpoint` keeps the best
#   file (`trainer.test(ckpt_path="best")` or `load_from_checkpoint`
#   loads it).
#
# The losses, with the best epoch and the stop marked:

x, train_losses = column(early_csv, "train_loss")
fig, ax = plt.subplots(figsize=(7.5, 4))
ax.plot([e + 1 for e in x], train_losses, "o-", label="training (epoch average)")
ax.plot([e + 1 for e in x], val_losses, "o-", label="validation loss")
ax.axvline(decisions[0]["best"], color="green", ls="--", label="best epoch")
if stopped:
    ax.axvline(epochs_run, color="red", ls=":", label="early stop")
ax.set_xlabel("epoch")
ax.set_ylabel("cross-entropy")
ax.set_title(
    f"Over-fitting on {n_small:,} images: patience {patience}, "
    f"min_delta {min_delta}"
)
ax.grid(True, alpha=0.3)
ax.legend()
plt.show()

# %%
# A classic mistake: a typo in the monitored name. `strict=True` (the
# default) turns it into an error at the first check, listing the metrics
# that do exist, instead of a run that never stops. (`limit_train_batches`
# and `limit_val_batches` cut the epochs short: a quick way to try a set-up.)

typo_trainer, _ = make_trainer(
    "typo",
    1,
    EarlyStopping(monitor="val_los"),  # validation_step logs "val_loss"
    verbose=False,
    logger=False,
    enable_checkpointing=False,
    limit_train_batches=2,
    limit_val_batches=1,
)
try:
    typo_trainer.fit(
        LitCifarNet(mean.tolist(), std.tolist(), asdict(overfit), **SIZE),
        datamodule=small_data,
    )
except RuntimeError as error:
    print(f"Expected error: {error}")

# %%
# ## 10. Resuming a run
#
# Suppose the machine had stopped during the run above, after the epoch
# `resume_after`. The checkpoint of that epoch is all we have. To go on,
# build the same trainer and pass the checkpoint to `fit`: Lightning
# restores the weights, the optimiser, the schedule, its epoch and step
# counters and the state of every callback (the early-stopping count too),
# and continues with the next epoch. The model we pass is only a shell for
# the weights.

resume_after = max(1, epochs_run - course.pick(full=3, smoke=1))
checkpoint_dir = Path(every_epoch.dirpath)
resume_from = checkpoint_dir / f"epoch={resume_after - 1}.ckpt"
print(f"resuming from {rel(resume_from)}, saved after epoch {resume_after}")

course.seed_everything(123)  # any weights: the checkpoint replaces them
shell = LitCifarNet(mean.tolist(), std.tolist(), asdict(overfit), **SIZE)
resumed_trainer, resumed_summary = make_trainer(
    "early", max_epochs, *stopping_callbacks()
)
with warnings.catch_warnings(record=True) as caught:
    resumed_trainer.fit(shell, datamodule=small_data, ckpt_path=resume_from)
for message in sorted({str(w.message) for w in caught}):
    print(f"Lightning warned: {message}")

# %%
# The warning is expected. The resumed run logs into a new version folder
# of the same name (a new `metrics.csv`, the first one kept), so its
# checkpoints go into a new folder too, and a `ModelCheckpoint` only takes
# over the old folder's list of best files when the folder is the same:
# it keeps the best path and starts the rest afresh.
#
# Where the resumed run started, and how its epochs compare with those of
# the uninterrupted run:

steps_per_epoch = len(small_data.train_dataloader())
print(
    f"first epoch trained: {resumed_summary.first_epoch + 1}, "
    f"global step at the start: {resumed_summary.first_step} "
    f"(= {resume_after} epochs x {steps_per_epoch} steps)"
)
resumed_losses = resumed_summary.history["val_loss"]
original_losses = early_summary.history["val_loss"][resume_after:]
for epoch, (a, b) in enumerate(
    zip(original_losses, resumed_losses, strict=False), resume_after + 1
):
    print(f"epoch {epoch}: val loss {a:.6f} uninterrupted, {b:.6f} resumed")
last_resumed = resume_after + len(resumed_losses)
print(f"last epoch: {last_resumed} resumed, {epochs_run} uninterrupted")
same = resumed_losses == original_losses
print("identical to the uninterrupted run" if same else "the resumed run DIFFERS")

# %%
# The two runs can agree to the last digit because every random draw of
# training comes from the seed and the epoch's or step's number (section
# 2), and everything else is in the checkpoint. The restored
# `EarlyStopping` remembered its best value and its count, which is why
# the resumed run ends where the first one did. Had we shuffled with
# `DataLoader(shuffle=True, generator=...)` instead, the resumed run would
# have started its generator afresh and replayed the *first* epoch's
# order (exercise 3): a fine run, but not the same run. Lightning saves a
# loader's position only when the loader has `state_dict()` and
# `load_state_dict()` methods, as torchdata's `StatefulDataLoader` does.
# `ckpt_path="last"` resumes from the newest checkpoint the trainer's
# `ModelCheckpoint` knows about (with `save_last=True` it writes one
# called `last.ckpt`).
#
# ## 11. Devices and precision
#
# The trainer of section 5 printed what `accelerator="auto"` chose. On a
# machine with a GPU the same code runs there: Lightning moves the module
# once and every batch with `transfer_batch_to_device`, after
# `on_before_batch_transfer` (which is why the augmentation runs on the
# CPU in both loops). `devices=4, strategy="ddp"` would train on four GPUs
# in four processes, each seeing its share of every epoch, with no change
# to `LitCifarNet`.
#
# The `precision` argument chooses the arithmetic:
#
# - `"32-true"`: float32 everywhere, the default.
# - `"bf16-mixed"`: weights in float32, the forward pass under bfloat16
#   autocast, what Day 14 did by hand; on CPUs with bfloat16 support and
#   on recent GPUs.
# - `"16-mixed"`: float16 autocast on a GPU. Float16's range is small,
#   so Lightning adds a **gradient scaler**: it multiplies the loss before
#   `backward()` so that small gradients do not round to zero, divides
#   them again before the step, and skips steps whose gradients overflowed.
#   In a plain loop that is four extra lines around `torch.amp.GradScaler`;
#   here it is one argument. bfloat16 has float32's range and needs none.
#
# A few batches in each of two settings show the difference on this
# machine. A forward hook on the network's last layer records the type of
# the logits, and a second small callback times each training step.


class StepTimer(Callback):
    """The duration of every training step."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self.start = time.perf_counter()

    def on_train_batch_end(
        self, trainer, pl_module, outputs, batch, batch_idx
    ) -> None:
        self.seconds.append(time.perf_counter() - self.start)


n_batches = course.pick(full=20, smoke=2)
precision_rows = []
for precision in ["32-true", "bf16-mixed" if use_bf16 else "16-mixed"]:
    course.seed_everything(0)
    module = LitCifarNet(mean.tolist(), std.tolist(), asdict(recipe), **SIZE)
    dtypes = []
    module.net.head.register_forward_hook(
        lambda layer, inputs, out, seen=dtypes: seen.append(out.dtype)
    )
    timer = StepTimer()
    short, _ = make_trainer(
        "precision",
        1,
        timer,
        verbose=False,
        precision=precision,
        logger=False,
        enable_checkpointing=False,
        limit_train_batches=n_batches,
        limit_val_batches=0,
    )
    short.fit(module, datamodule=demo)
    precision_rows.append(
        {
            "precision": precision,
            "logits": str(dtypes[0]).removeprefix("torch."),
            "weights": str(next(module.parameters()).dtype).removeprefix("torch."),
            "ms": 1000 * statistics.median(timer.seconds),
        }
    )
print(
    format_table(
        precision_rows,
        [
            ("precision", "precision"),
            ("logits", "logits"),
            ("weights", "weights"),
            ("ms", f"ms per step of {recipe.batch_size} images (median)", ".1f"),
        ],
    )
)

# %%
# The weights stay float32 in both; under `"bf16-mixed"` the layers compute
# in bfloat16 (the logits show it). Whether that is faster depends on the
# processor: on CPUs with bfloat16 instructions it is the fast path Day 14
# used, on others autocast can even slow a step down. Compare the two
# medians printed above, a check worth a minute on any new machine.
#
# ## 12. What Lightning costs
#
# Lightning does more per step than the plain loop: it calls hooks (most
# of them empty), runs the optimiser step through a closure, moves each
# batch with a method that handles any nesting of tensors, keeps every
# value given to `self.log` in its collection of results, prefetches the
# next batch, and at the end of each epoch runs the callbacks and writes
# the logs. How much is that? The timings below cover the same work in
# both loops: an epoch's training and its validation (the plain loop's
# `torch.save` and Lightning's checkpoint writing fall outside both). The
# first epoch of each run is left out, because it also pays one-off costs
# (oneDNN prepares its kernels for each new shape); the numbers below are
# over the other epochs of every seed.

plain_seconds = [s for run in plain_runs for s in run["history"]["seconds"][1:]]
lightning_seconds = [
    s for run in lightning_runs for s in run["summary"].seconds[1:]
]
steps = len(demo.train_dataloader())
timing_rows = []
for loop, seconds in [("plain", plain_seconds), ("Lightning", lightning_seconds)]:
    quartiles = statistics.quantiles(seconds, n=4)
    timing_rows.append(
        {
            "loop": loop,
            "median": statistics.median(seconds),
            "fastest": min(seconds),
            "iqr": quartiles[2] - quartiles[0],
        }
    )
print(f"time per epoch, {len(plain_seconds)} epochs of each loop:")
print(
    format_table(
        timing_rows,
        [
            ("loop", "loop"),
            ("median", "median (s)", ".2f"),
            ("fastest", "fastest (s)", ".2f"),
            ("iqr", "interquartile range (s)", ".2f"),
        ],
    )
)
plain_t, lightning_t = timing_rows
for key in ("median", "fastest"):
    extra = lightning_t[key] - plain_t[key]
    print(
        f"Lightning - plain, {key:7s}: {extra:+.2f} s per epoch "
        f"({extra / plain_t[key]:+.1%}), {1000 * extra / steps:+.2f} ms per step"
    )
gap = lightning_t["median"] - plain_t["median"]
if abs(gap) < plain_t["iqr"]:
    print("the median difference is smaller than the plain loop's own spread")
else:
    print("the median difference is larger than the plain loop's own spread")
outside = [
    run["total_seconds"] - sum(run["summary"].seconds) for run in lightning_runs
]
plain_outside = [
    run["total_seconds"] - sum(run["history"]["seconds"]) for run in plain_runs
]
print(
    f"outside the epochs, per run (median): Lightning {statistics.median(outside):.2f}"
    f" s, plain {statistics.median(plain_outside):.2f} s"
)
fastest_overhead = lightning_t["fastest"] / plain_t["fastest"] - 1
median_overhead = lightning_t["median"] / plain_t["median"] - 1
headline(
    f"Lightning vs the plain loop, time per epoch (CIFAR-10, {device.type})",
    f"{fastest_overhead:+.1%} on the fastest epochs "
    f"({lightning_t['fastest']:.2f} s vs {plain_t['fastest']:.2f} s), "
    f"{median_overhead:+.1%} on the medians",
)

# %%
# How to read it. The median is a typical epoch on this machine, which
# other jobs share; the fastest epoch is what each loop costs when nothing
# disturbs it (the convention of Python's `timeit`). The interquartile
# range, the spread of the middle half of the epochs, says how much a
# single measurement wobbles; the line under the differences compares the
# median difference with it. The per-step figures are what to hold against
# a model's own step time (section 11 printed this network's): the
# bookkeeping costs about the same whatever the model, so its share shrinks
# for a network whose steps take ten times longer and grows for a small
# model on a fast GPU, whose steps take a millisecond. Outside the epochs,
# Lightning spends time on setting up, the sanity check, and writing
# checkpoints and logs (the plain loop only on data loaders, the optimiser
# and its checkpoints), and once per session on `import lightning`, printed
# in section 1. Whether the bookkeeping is a small price for the code it
# removes depends on that ratio: measure it, as here, before you decide.
#
# ## 13. The test set, once
#
# The comparison was made on validation data. The test set, touched once:
# the seed-0 network of each loop after its last epoch, the Lightning one
# through `trainer.test`, which runs `test_step` on the module's current
# weights.

test_plain = evaluate(plain_runs[0]["model"], demo.test_dataloader())
[test_lightning] = trainer.test(
    lightning_runs[0]["module"], datamodule=lightning_runs[0]["data"], verbose=False
)
print(f"test accuracy, plain loop: {test_plain['acc']:.2%}")
print(f"test accuracy, Lightning:  {test_lightning['test_acc']:.2%}")
headline(
    "CIFAR-10 test accuracy, plain loop vs Lightning (half-width Day 14 net, seed 0)",
    f"{test_plain['acc']:.2%} vs {test_lightning['test_acc']:.2%}",
)

# %%
# ## 14. Run time

elapsed = time.perf_counter() - lesson_start
print(f"lesson run time: {elapsed:.0f} s ({course.PROFILE} profile, {device})")

# %%
# ## 15. Summary
#
# - A `LightningModule` holds the network and the parts of the loop that
#   are yours: `training_step` returns the loss, `validation_step` and
#   `test_step` log metrics with `self.log`, `configure_optimizers` returns
#   the optimiser and the schedule (with `"interval": "step"` for one
#   stepped every batch). A `LightningDataModule` holds the loaders.
# - The `Trainer` runs the rest: devices (`accelerator="auto"`), autocast
#   (`precision="bf16-mixed"`), `train()` and `eval()`, `zero_grad`,
#   `backward`, the steps, `set_epoch`, and a sanity check of validation
#   before training starts.
# - With the same seed, batches, augmentation draws and recipe, Lightning
#   computes what the plain loop computes: section 6's verdict line says
#   how closely in this run (bit for bit is possible on a CPU); judge such
#   a comparison against the seed-to-seed spread.
# - Callbacks: `ModelCheckpoint` (the best epoch by a monitored metric, or
#   every epoch), `EarlyStopping` (Day 18's rule: `patience` checks without
#   an improvement of more than `min_delta`), `LearningRateMonitor`, and
#   your own, for anything at any hook. Progress bars off, one line per
#   epoch, on a page.
# - `CSVLogger` writes `metrics.csv`; read it back with `csv` or pandas.
# - A checkpoint holds weights, optimiser, schedule, counters, callback
#   states and hyperparameters: `fit(..., ckpt_path=...)` resumes, and the
#   resumed run repeats the uninterrupted one only if the data order and
#   augmentation can be recreated from the epoch's number.
# - Lightning costs some bookkeeping per step and a slower start (both
#   measured in section 12): hold them against your own step time.
#
# ## 16. Exercises
#
# 1. **Stop on accuracy.** Replay the Day 18 helper on the validation
#    *accuracy* of the early-stopping run (read from its `metrics.csv`,
#    `mode="max"`, the same patience, `min_delta=0`). Where would it have
#    stopped, which epoch would it have kept, and how does that epoch's
#    accuracy compare with the one chosen by the validation loss?
# 2. **Two loggers.** Give a trainer a list of loggers, a `CSVLogger` and
#    a `TensorBoardLogger` (`lightning.pytorch.loggers`), train two epochs
#    of the over-fitting recipe, and read `val_acc` back from both files
#    (Day 21's `EventAccumulator` reads the event file). Do they agree?
# 3. **Resuming with an ordinary shuffle.** With `DataLoader(...,
#    shuffle=True, generator=torch.Generator().manual_seed(0))`, which
#    order of images does a run resumed after epoch `resume_after` see in
#    its first epoch? Compare the first indices of the epochs of one such
#    loader with those of a freshly built one, and with `EpochShuffle`.

# %%
# **Solution 1.** Accuracy is measured in steps of one image in the
# validation set, so ties are common, and with `min_delta=0` a tie is no
# improvement. The recorded curve ends where Lightning stopped the run, so
# a rule that would wait longer cannot be replayed to its end: "-" means
# it was still waiting at the last epoch. The validation loss can turn
# while the accuracy still creeps up (the network grows over-confident on
# the images it gets wrong), as Day 18's exercise 3 found: compare the
# accuracies of the two kept epochs.

_, val_accs = column(early_csv, "val_acc")
by_acc = Day18EarlyStopping(patience=patience, mode="max")
for value in val_accs:
    if by_acc.step(value):
        break
by_loss = decisions[1]
print(
    f"monitoring val_acc:  stop after epoch {by_acc.stopped_epoch or '-'}, "
    f"keeps epoch {by_acc.best_epoch} ({val_accs[by_acc.best_epoch - 1]:.2%})"
)
print(
    f"monitoring val_loss: stop after epoch {by_loss['stop'] or '-'}, "
    f"keeps epoch {by_loss['best']} ({val_accs[by_loss['best'] - 1]:.2%})"
)
highest = max(range(len(val_accs)), key=val_accs.__getitem__)
print(
    f"highest val_acc of the epochs trained: epoch {highest + 1} "
    f"({val_accs[highest]:.2%})"
)

# %%
# **Solution 2.** `logger=[...]` sends every `self.log` value to each
# logger. The event file's name contains the computer's name, so we print
# only the folder; TensorBoard stores scalars as float32, as Lightning
# computed them.

from lightning.pytorch.loggers import TensorBoardLogger
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

course.seed_everything(0)
tb_epochs = course.pick(full=2, smoke=1)
short_recipe = replace(overfit, epochs=tb_epochs)
module = LitCifarNet(mean.tolist(), std.tolist(), asdict(short_recipe), **SIZE)
loggers = [CSVLogger(work, name="both"), TensorBoardLogger(work, name="both_tb")]
both, _ = make_trainer(
    "both", tb_epochs, verbose=False, logger=loggers, enable_checkpointing=False
)
both.fit(module, datamodule=small_data)

events = EventAccumulator(loggers[1].log_dir)
events.Reload()
from_tensorboard = [event.value for event in events.Scalars("val_acc")]
_, from_csv = column(
    read_metrics(Path(loggers[0].log_dir) / "metrics.csv"), "val_acc"
)
print(f"TensorBoard event file in {rel(loggers[1].log_dir)}/")
print(f"val_acc from TensorBoard: {[round(v, 4) for v in from_tensorboard]}")
print(f"val_acc from the CSV:     {[round(v, 4) for v in from_csv]}")
pairs = zip(from_tensorboard, from_csv, strict=True)
print(f"largest difference: {max(abs(a - b) for a, b in pairs):.1g}")

# %%
# **Solution 3.** A `DataLoader`'s shuffling generator runs on from epoch
# to epoch, and a fresh loader starts it at the seed again, so the resumed
# run's first epoch repeats the *first* epoch's order, not the one it
# should have had. `EpochShuffle` computes the order from the epoch's
# number, so a fresh one gives the right order after `set_epoch`.

indices = TensorDataset(torch.arange(len(train_set[1])))


def first_images(loader: DataLoader) -> list[int]:
    return next(iter(loader))[0][:6].tolist()


def shuffling_loader() -> DataLoader:
    order = torch.Generator().manual_seed(0)
    return DataLoader(indices, batch_size=64, shuffle=True, generator=order)


uninterrupted = shuffling_loader()
epochs_seen = [first_images(uninterrupted) for _ in range(resume_after + 1)]
print(f"epoch 1, uninterrupted:               {epochs_seen[0]}")
print(f"epoch {resume_after + 1}, uninterrupted:               {epochs_seen[-1]}")
print(f"epoch {resume_after + 1}, fresh loader after a resume: ", end="")
print(first_images(shuffling_loader()))
fresh_sampler = EpochShuffle(len(train_set[1]), seed=0)
fresh_sampler.set_epoch(resume_after)
uninterrupted_sampler = EpochShuffle(len(train_set[1]), seed=0)
for epoch in range(resume_after + 1):
    uninterrupted_sampler.set_epoch(epoch)
same = list(fresh_sampler) == list(uninterrupted_sampler)
print(
    f"EpochShuffle, fresh vs uninterrupted, epoch {resume_after + 1}: same = {same}"
)

# %%
# Next, [Day 23](day23_project_data.ipynb) starts the small project: two
# datasets, cats vs dogs photos and movie-review sentences, explored and
# prepared for training.
