"""
# Day 18 · Early stopping and generalisation (Early Stopping 與模型泛化)

Train a network long enough and it stops learning what the examples have in
common and starts memorising the examples themselves: the training loss keeps
falling while the validation loss turns and climbs. **Early stopping** watches
the validation loss after every epoch, stops when it has not improved for a
while, and hands back the weights of the best epoch instead of the last. In
this lesson you build it by hand, with `patience` and a minimum improvement
(`min_delta`), on a setup made to over-fit: a network far bigger than its
2,000 training digits, a fifth of them wrongly labelled. You catch the classic
bug of keeping a *reference* to the best weights, mark the stopping point and
the best epoch on the curves, measure what the network memorised between the
two, work out how `patience` moves the stopping point from one recorded run,
and finally compare the best and the last weights on the test set.

**You will learn:** reading over-fitting from the validation loss ·
early stopping with `patience` and `min_delta` (Lightning's rule) ·
restoring the best weights, and why a `state_dict()` must be deep-copied ·
replaying a stopping rule on a recorded validation curve · comparing
generalisation at the best and the last epoch

**Before you start:** [Day 7](day07_overfitting.ipynb) (overfitting),
[Day 9](day09_save_load.ipynb) (`state_dict`) and
[Day 10](day10_mnist.ipynb) (MNIST) · the previous day is
[Day 17](day17_transfer_learning.ipynb) · **Reading time:** about 2 hours
"""

# %%
# ## 1. Set-up
#
# The training pieces come from earlier days: `train_epoch` (Day 6) runs one
# epoch, `evaluate` and `predict` (Day 8) measure a model without training
# it. What this lesson teaches, the early-stopping rule, is written here by
# hand. The lesson also measures its own run time.

import time

lesson_start = time.perf_counter()

import copy
import math
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import course
from course.data.mnist import load_mnist
from course.experiments import format_table
from course.fit import evaluate, predict
from course.report import headline
from course.train import train_epoch

course.seed_everything(0)
device = course.choose_device()
print(f"profile: {course.PROFILE}, device: {device}, torch {torch.__version__}")

# %%
# ## 2. A training set that invites over-fitting
#
# Over-fitting needs a model that can memorise and something worth not
# memorising. We take a **small** MNIST training set and replace the label of
# a fifth of its images by a random *wrong* digit. Real datasets contain
# mislabelled examples too (fewer, usually); here they make the cost of
# memorising visible in the accuracy, not only in the loss: a network that
# learns that this particular 4 is a "9" has learnt nothing that helps on new
# images. The validation set (held out from the same MNIST training images)
# and the test set (MNIST's own 10,000 test images, set aside until section
# 11) keep their correct labels.

n_train = course.pick(full=2_000, smoke=200)
n_val = course.pick(full=5_000, smoke=200)
wrong_fraction = 0.2

pool = load_mnist(train=True, limit=n_train + n_val)  # class-balanced subset
test_digits = load_mnist(train=False, limit=course.pick(full=None, smoke=500))


def as_inputs(images: torch.Tensor) -> torch.Tensor:
    """uint8 digits (N, 28, 28) -> float vectors (N, 784) with values in [0, 1]."""
    return images.float().div(255).flatten(1)


shuffle = torch.Generator().manual_seed(0)
split = torch.randperm(len(pool.targets), generator=shuffle)
train_idx, val_idx = split[:n_train], split[n_train:]
x_train, true_train = as_inputs(pool.data[train_idx]), pool.targets[train_idx]
x_val, y_val = as_inputs(pool.data[val_idx]), pool.targets[val_idx]
x_test, y_test = as_inputs(test_digits.data), test_digits.targets

label_noise = torch.Generator().manual_seed(1)
is_wrong = torch.rand(n_train, generator=label_noise) < wrong_fraction
# adding 1 to 9 (never 0) modulo 10 gives a digit that is always wrong
offset = torch.randint(1, 10, (n_train,), generator=label_noise)
y_train = torch.where(is_wrong, (true_train + offset) % 10, true_train)

print(f"train {n_train:,}, validation {n_val:,}, test {len(y_test):,} images")
share = is_wrong.float().mean()
print(f"wrong training labels: {int(is_wrong.sum()):,} ({share:.1%})")
differ = int((y_train != true_train).sum())
print(f"training labels that differ from the true digit: {differ:,}")

# %%
# A few of the wrongly labelled training images, with the label the network
# will be told and the true one:

shown = is_wrong.nonzero().flatten()[:10]
fig, axes = plt.subplots(1, len(shown), figsize=(12, 1.9))
for ax, i in zip(axes, shown.tolist(), strict=True):
    ax.imshow(x_train[i].view(28, 28), cmap="gray_r")
    ax.set_title(
        f"label {int(y_train[i])}\n(true {int(true_train[i])})", fontsize=9
    )
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("Wrongly labelled training images (28×28 pixels)")
fig.tight_layout()
plt.show()

# %%
# Data loaders: the training images in shuffled batches, and the same images
# in order for measuring. `wrong_loader` holds only the mislabelled training
# images *with their wrong labels*: its "accuracy" is the fraction of wrong
# labels the network has memorised. The test loader is built now and used
# once, in section 11.

batch_size = 128
train_set = TensorDataset(x_train, y_train)
train_eval_loader = DataLoader(train_set, batch_size=1_000)
val_loader = DataLoader(TensorDataset(x_val, y_val), batch_size=1_000)
wrong_loader = DataLoader(
    TensorDataset(x_train[is_wrong], y_train[is_wrong]), batch_size=1_000
)
test_loader = DataLoader(TensorDataset(x_test, y_test), batch_size=1_000)

# %%
# ## 3. A model with room to memorise
#
# A two-hidden-layer MLP with hundreds of weights per training image (the
# count is printed below), and no regulariser at all: no Dropout, no weight
# decay, no augmentation. Adam, with twice its default learning rate so that
# the whole story fits into `max_epochs` epochs, on batches of 128 images.

hidden = course.pick(full=128, smoke=32)


def make_mlp() -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(28 * 28, hidden),
        nn.ReLU(),
        nn.Linear(hidden, hidden),
        nn.ReLU(),
        nn.Linear(hidden, 10),
    )


loss_fn = nn.CrossEntropyLoss()
lr = 2e-3
max_epochs = course.pick(full=30, smoke=3)
print(f"{sum(p.numel() for p in make_mlp().parameters()):,} parameters")
print(f"at most {max_epochs} epochs of {math.ceil(n_train / batch_size)} batches")

# %%
# ## 4. The early-stopping rule
#
# After every epoch we measure the validation loss and ask one question: *is
# this better than the best so far?* Two numbers make the answer robust:
#
# - **`min_delta`**: an improvement counts only if it beats the best by *more
#   than* `min_delta`. A validation loss that wobbles by a thousandth is not
#   progress.
# - **`patience`**: how many checks in a row may fail to improve before we
#   stop. The validation loss is noisy; one bad epoch does not mean the
#   network has stopped learning. Every improvement resets the count.
#
# When training stops, the weights in the model are those of the *last*
# epoch, `patience` epochs past the best one. So at every improvement we keep
# a copy of the weights, and we load it back at the end. The class below does
# all of this. Its rule is exactly the one of Lightning's `EarlyStopping`
# callback, which Day 22 uses: in mode `"min"` a value improves when
# `value + min_delta < best`, and training stops at the check where the
# number of checks without improvement reaches `patience`. Mode `"max"` is
# for metrics where higher is better, such as accuracy. A NaN or infinite
# value stops at once, as in Lightning: training has diverged.


class EarlyStopping:
    """Stop when a monitored value has not improved for `patience` checks."""

    def __init__(
        self,
        patience: int = 3,
        min_delta: float = 0.0,
        mode: str = "min",
        restore_best: bool = True,
    ) -> None:
        if (
            isinstance(patience, bool)
            or not isinstance(patience, int)
            or patience < 0
        ):
            raise ValueError(
                f"patience must be a whole number, 0 or more, not {patience!r}"
            )
        if not min_delta >= 0:  # also refuses NaN
            raise ValueError(
                f"min_delta must be 0 or more, not {min_delta!r}: it is the size "
                "of an improvement, and mode already says which direction is better"
            )
        if mode not in ("min", "max"):
            raise ValueError(
                "mode must be 'min' (e.g. a loss) or 'max' (e.g. an accuracy), "
                f"not {mode!r}"
            )
        self.patience = patience
        self.min_delta = min_delta
        self.mode = mode
        self.restore_best = restore_best
        self.best = math.inf if mode == "min" else -math.inf
        self.best_epoch = 0
        self.stopped_epoch = 0
        self.epoch = 0
        self.wait = 0
        self.best_state = None

    def improves(self, value: float) -> bool:
        """Whether `value` beats the best so far by more than `min_delta`."""
        if self.mode == "min":
            return value + self.min_delta < self.best
        return value - self.min_delta > self.best

    def step(self, value: float, model: nn.Module | None = None) -> bool:
        """Record one check's value; return True when training should stop."""
        value = float(value)
        self.epoch += 1
        if not math.isfinite(value):
            self.stopped_epoch = self.epoch
            return True
        if self.improves(value):
            self.best, self.best_epoch, self.wait = value, self.epoch, 0
            if self.restore_best and model is not None:
                self.best_state = copy.deepcopy(model.state_dict())
            return False
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = self.epoch
            return True
        return False

    def restore(self, model: nn.Module) -> None:
        """Load the best weights seen into `model`, in place."""
        if self.best_state is None:
            raise RuntimeError(
                "no best weights to restore: use EarlyStopping(restore_best=True) "
                "and pass the model to step(value, model) at every check"
            )
        model.load_state_dict(self.best_state)


# %%
# The rule on a made-up sequence of validation losses, with `patience=2`,
# first without and then with a minimum improvement of 0.015. The trace shows,
# for each check, whether the value counts as an improvement and how many
# checks have passed without one:

made_up = [0.90, 0.70, 0.69, 0.695, 0.68, 0.71, 0.72, 0.66]


def trace(values: list[float], stopper: EarlyStopping) -> None:
    print(f"patience={stopper.patience}, min_delta={stopper.min_delta}")
    for value in values:
        better = stopper.improves(value)
        stop = stopper.step(value)
        verdict = "STOP" if stop else ""
        print(
            f"  check {stopper.epoch}: {value:.3f}  improves: {better!s:<5}  "
            f"best {stopper.best:.3f} (check {stopper.best_epoch})  "
            f"without improvement: {stopper.wait}  {verdict}"
        )
        if stop:
            break


trace(made_up, EarlyStopping(patience=2))
trace(made_up, EarlyStopping(patience=2, min_delta=0.015))

# %%
# Without `min_delta`, 0.69 and 0.68 are improvements and the count restarts
# twice; with it, beating 0.70 by 0.01 is not enough, and the rule stops
# three checks earlier. Neither sees the 0.66 of the last check: a stopping
# rule can only judge the past. Bad arguments are refused with a message
# that says what is expected:

for bad in [dict(patience=-1), dict(min_delta=-0.01), dict(mode="lowest")]:
    try:
        EarlyStopping(**bad)
    except ValueError as error:
        print(f"Expected error: {error}")

# %%
# ## 5. Training with early stopping
#
# A run bundles the model, its optimiser and its data order (a loader with
# its own seeded generator), so that a run can be paused and continued, and
# a second run with the same seed repeats the first exactly. After every
# epoch, `record` measures the model in evaluation mode: the loss and
# accuracy on the training images (with the labels it was given) and on the
# validation images, the fraction of wrong labels it has memorised, and the
# size of its weights.

HISTORY_KEYS = (
    "train_loss",
    "train_acc",
    "val_loss",
    "val_acc",
    "memorised",
    "weight_norm",
)


@dataclass
class Run:
    model: nn.Module
    optimizer: torch.optim.Optimizer
    loader: DataLoader
    history: dict[str, list[float]] = field(
        default_factory=lambda: {key: [] for key in HISTORY_KEYS}
    )


def new_run(seed: int) -> Run:
    course.seed_everything(seed)
    model = make_mlp().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    order = torch.Generator().manual_seed(seed)
    loader = DataLoader(
        train_set, batch_size=batch_size, shuffle=True, generator=order
    )
    return Run(model, optimizer, loader)


def weight_norm(model: nn.Module) -> float:
    """The L2 norm of all weight matrices together (biases left out)."""
    weights = [p.detach() for p in model.parameters() if p.ndim > 1]
    return torch.sqrt(sum(w.pow(2).sum() for w in weights)).item()


def record(run: Run) -> None:
    train = evaluate(run.model, train_eval_loader, loss_fn)
    val = evaluate(run.model, val_loader, loss_fn)
    values = {
        "train_loss": train["loss"],
        "train_acc": train["accuracy"],
        "val_loss": val["loss"],
        "val_acc": val["accuracy"],
        "memorised": evaluate(run.model, wrong_loader)["accuracy"],
        "weight_norm": weight_norm(run.model),
    }
    for key, value in values.items():
        run.history[key].append(value)


# %%
# The training loop: one epoch of training (`train_epoch`, Day 6), the
# measurements, and then the two lines that make it early stopping. The
# stopper sees the validation loss after every epoch, together with the
# model (so that it can copy the weights on an improvement), and its answer
# ends the loop.


def train(
    run: Run, epochs: int, stopper: EarlyStopping | None = None, log: bool = False
) -> None:
    """Train for up to `epochs` more epochs; stop early when `stopper` says so."""
    for _ in range(epochs):
        train_epoch(run.model, run.loader, loss_fn, run.optimizer, device)
        record(run)
        h = run.history
        epoch, val_loss = len(h["val_loss"]), h["val_loss"][-1]
        stop = stopper is not None and stopper.step(val_loss, run.model)
        if log:
            note = ""
            if stopper is not None:
                waited = f"no improvement {stopper.wait}/{stopper.patience}"
                note = "improved" if stopper.best_epoch == epoch else waited
            print(
                f"epoch {epoch:2d}  train loss {h['train_loss'][-1]:.4f} "
                f"acc {h['train_acc'][-1]:6.1%}  |  val loss {val_loss:.4f} "
                f"acc {h['val_acc'][-1]:6.1%}  {note}"
            )
        if stop:
            break


# %%
# Patience 5, and a minimum improvement of 0.001 nats of validation loss
# (cross-entropy is measured in nats, natural-log units):

patience = 5
min_delta = 0.001

run = new_run(seed=0)
stopper = EarlyStopping(patience=patience, min_delta=min_delta)
start = time.perf_counter()
train(run, max_epochs, stopper, log=True)
seconds_to_stop = time.perf_counter() - start
epochs_run = len(run.history["val_loss"])
if stopper.stopped_epoch:
    print(f"stopped after epoch {stopper.stopped_epoch} ({seconds_to_stop:.0f} s)")
else:
    print(f"no stop within the {max_epochs} epochs of the budget")
print(f"best validation loss {stopper.best:.4f}, at epoch {stopper.best_epoch}")

# %%
# ## 6. Restoring the best weights, and the reference bug
#
# The model now holds the weights of the last epoch it ran. We load the
# saved ones into a copy of it (the run itself goes on in section 7) and
# check that they are what we think: the restored model must score the best
# validation loss again, to rounding.


def restored_copy(stopper: EarlyStopping, model: nn.Module) -> nn.Module:
    """A copy of `model` with the stopper's best weights, checked on validation."""
    restored = copy.deepcopy(model)
    stopper.restore(restored)
    loss = evaluate(restored, val_loader, loss_fn)["loss"]
    assert math.isclose(loss, stopper.best, rel_tol=1e-5), (
        f"the restored weights give a validation loss of {loss:.4f}, but the best "
        f"epoch ({stopper.best_epoch}) had {stopper.best:.4f}: not the best weights"
    )
    return restored


best_model = restored_copy(stopper, run.model)
print(f"best weights saved at epoch {stopper.best_epoch}, restored and checked")
print(
    f"validation loss: best epoch {stopper.best:.4f}, "
    f"last epoch run {run.history['val_loss'][-1]:.4f}"
)

# %%
# The copy in `step` is a **deep** copy, `copy.deepcopy(model.state_dict())`.
# The tempting one-liner `best_state = model.state_dict()` does not keep the
# weights of that moment: `state_dict()` returns the model's own parameter
# tensors (detached, but sharing their memory), and the optimiser updates
# those tensors in place at every step (you met this in Day 9's third
# exercise). To see what that does to early stopping, we take both kinds of
# "saved weights" now, at the stopping point, and look at them again after
# the run has gone on training (section 7):

reference = run.model.state_dict()  # the bug: the model's own tensors
snapshot = copy.deepcopy(run.model.state_dict())  # what step() keeps
saved_epoch, saved_loss = epochs_run, run.history["val_loss"][-1]
live = run.model[0].weight.data_ptr()
for name, state in [("reference", reference), ("deep copy", snapshot)]:
    shares = state["0.weight"].data_ptr() == live
    print(f"{name:>9} shares memory with the model's weights: {shares}")

# %%
# ## 7. What if we had not stopped?
#
# Was stopping right? The only way to know is to keep going. The run is
# paused, not finished: its model, optimiser state and data order continue
# exactly where they were, so training it for the rest of the budget gives
# the same curve a run without early stopping would have had.

start = time.perf_counter()
train(run, max_epochs - epochs_run)
seconds_after_stop = time.perf_counter() - start
last_model = run.model
history = run.history
best_epoch = stopper.best_epoch
stop_epoch = stopper.stopped_epoch or max_epochs
print(
    f"epochs 1-{epochs_run}: {seconds_to_stop:.0f} s; "
    f"epochs {epochs_run + 1}-{max_epochs}: {seconds_after_stop:.0f} s"
)
print(
    f"validation loss: best {stopper.best:.4f} (epoch {best_epoch}), "
    f"lowest over all {max_epochs} epochs {min(history['val_loss']):.4f}, "
    f"last {history['val_loss'][-1]:.4f}"
)

# %%
# First, the two states saved at the stopping point. Each is loaded into a
# copy of the model and must give the validation loss recorded at that
# epoch:


def check_saved(state: dict, name: str) -> None:
    probe = copy.deepcopy(last_model)
    probe.load_state_dict(state)
    loss = evaluate(probe, val_loader, loss_fn)["loss"]
    assert math.isclose(loss, saved_loss, rel_tol=1e-5), (
        f"the {name} taken at epoch {saved_epoch} now gives a validation loss "
        f"of {loss:.4f}, not the {saved_loss:.4f} of that epoch: it holds the "
        f"weights of epoch {len(history['val_loss'])}"
    )
    print(f"{name} taken at epoch {saved_epoch}: {loss:.4f}, as recorded then")


for name, state in [("deep copy", snapshot), ("reference", reference)]:
    try:
        check_saved(state, name)
    except AssertionError as error:
        print(f"Expected error: {error}")

# %%
# The deep copy kept its epoch; the reference moved on with the training,
# because its tensors *are* the model's weights. (Had the run stopped only
# at the end of its budget, there would be nothing left to train and no
# error to see.) An `EarlyStopping` whose `step` kept `model.state_dict()` would
# "restore" the latest weights without any error, and you would evaluate
# the last epoch believing it was the best. `copy.deepcopy`, `{k: v.clone()
# for k, v in model.state_dict().items()}`, or `torch.save` to a file as in
# Day 9 all freeze the values; a check like `restored_copy` catches the
# mistake.

# %%
# The curves, with the best epoch and the stopping point marked. Everything
# right of the stopping point is what early stopping saved us from training.

epochs_axis = range(1, max_epochs + 1)
panels = [
    ("loss", "cross-entropy (nats)", ["train_loss", "val_loss"], 1),
    ("accuracy", "accuracy (%)", ["train_acc", "val_acc"], 100),
    ("memorised wrong labels", "wrong labels predicted (%)", ["memorised"], 100),
]
names = {
    "train_loss": "train (given labels)",
    "val_loss": "validation",
    "train_acc": "train (given labels)",
    "val_acc": "validation",
    "memorised": "mislabelled training images",
}
fig, axes = plt.subplots(1, 3, figsize=(14, 4.3))
for ax, (title, ylabel, keys, scale) in zip(axes, panels, strict=True):
    for key in keys:
        ax.plot(epochs_axis, [scale * v for v in history[key]], label=names[key])
    ax.axvline(
        best_epoch,
        color="green",
        linestyle="--",
        label=f"best epoch ({best_epoch})",
    )
    stop_label = (
        f"stopped ({stop_epoch})"
        if stopper.stopped_epoch
        else "budget end, no stop"
    )
    ax.axvline(stop_epoch, color="red", linestyle=":", label=stop_label)
    ax.axvspan(stop_epoch, max_epochs, color="gray", alpha=0.12, label="not needed")
    ax.set_title(title)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
# sphinx_gallery_thumbnail_number = 2
fig.suptitle(
    f"MLP on {n_train:,} MNIST digits, {wrong_fraction:.0%} of them mislabelled"
)
fig.tight_layout()
plt.show()

# %%
# Read the three panels together. At first the network learns what digits
# look like: both losses fall, and the validation accuracy rises. The
# mislabelled training images are mostly predicted as their *true* digit in
# that phase, so the memorised fraction stays low. Then the network has learnt what
# generalises and can only lower its training loss further by memorising:
# the training accuracy climbs past the fraction of correct labels, the
# memorised curve climbs with it, and the validation loss turns upwards. The
# best epoch sits near that turn; early stopping keeps it.
#
# ## 8. Over-fitting, measured: the best epoch against the last
#
# The same model at the two ends of the grey band. **gap** is the training
# accuracy minus the validation accuracy, in percentage points. Note that the
# training accuracy is measured against the labels the network was given,
# a fifth of them wrong: a training accuracy above the fraction of correct
# labels can only come from memorising wrong ones.


true_label_loader = DataLoader(TensorDataset(x_train, true_train), batch_size=1_000)
wrong_truth_loader = DataLoader(
    TensorDataset(x_train[is_wrong], true_train[is_wrong]), batch_size=1_000
)


def describe(model: nn.Module) -> dict[str, float]:
    train = evaluate(model, train_eval_loader, loss_fn)
    val = evaluate(model, val_loader, loss_fn)
    true_acc = evaluate(model, true_label_loader)["accuracy"]
    memorised = evaluate(model, wrong_loader)["accuracy"]
    seen_through = evaluate(model, wrong_truth_loader)["accuracy"]
    return {
        "train loss": train["loss"],
        "val loss": val["loss"],
        "train acc, given labels (%)": 100 * train["accuracy"],
        "train acc, true labels (%)": 100 * true_acc,
        "val acc (%)": 100 * val["accuracy"],
        "gap, train - val (points)": 100 * (train["accuracy"] - val["accuracy"]),
        "mislabelled: given label (%)": 100 * memorised,
        "mislabelled: true digit (%)": 100 * seen_through,
        "weight norm": weight_norm(model),
    }


at_best, at_last = describe(best_model), describe(last_model)
comparison = [
    {"measure": name, "best": at_best[name], "last": at_last[name]}
    for name in at_best
]
best_header = f"best (epoch {best_epoch})"
last_header = f"last (epoch {max_epochs})"
print(
    format_table(
        comparison,
        [
            ("measure", ""),
            ("best", best_header, ".3f"),
            ("last", last_header, ".3f"),
        ],
    )
)

loss_rise = at_last["val loss"] / at_best["val loss"] - 1
acc_drop = at_best["val acc (%)"] - at_last["val acc (%)"]
print(
    f"best to last: val loss {loss_rise:+.0%}, val accuracy {-acc_drop:+.1f} points"
)

# %%
# Read the two columns row by row. At the best epoch, the network sees
# through many of the wrong labels: on the mislabelled training images it
# predicts the true digit more often than the label it was taught, and its
# accuracy against the true training labels is above its accuracy against
# the given ones. It has learnt digits. By the last epoch it reproduces
# most of the wrong labels, its training loss has collapsed, and the gap
# between training and validation accuracy has opened wide. The validation
# loss rose proportionally far more than the validation accuracy fell (the
# last line above): the network is not only wrong more often, it is wrong
# with more confidence, and cross-entropy punishes confident mistakes hard.
#
# **Optional deep dive: why stopping early regularises.** Training starts
# from small random weights, and every epoch moves them further away. The
# size of all weights together (the `weight_norm` the history recorded):

fig, ax = plt.subplots(figsize=(6.5, 3.8))
ax.plot(epochs_axis, history["weight_norm"], label="all weight matrices")
ax.axvline(
    best_epoch, color="green", linestyle="--", label=f"best epoch ({best_epoch})"
)
ax.axvline(
    stop_epoch, color="red", linestyle=":", label=f"stopping point ({stop_epoch})"
)
ax.set_title("The weights keep growing, through the best epoch and beyond")
ax.set_xlabel("epoch")
ax.set_ylabel("L2 norm of the weights")
ax.grid(True, alpha=0.3)
ax.legend(fontsize="small")
plt.show()

# %%
# Memorising single points needs sharp, large weights, and they take many
# steps to grow. Stopping after a limited number of steps therefore limits
# how far the weights can travel from their small starting values, much as
# weight decay (Day 12) limits their size with a penalty. For a linear model
# trained by gradient descent on a squared loss the two are close to
# equivalent, with the number of steps playing the role of one over the
# weight-decay strength (Goodfellow, Bengio and Courville, *Deep Learning*,
# section 7.8). For a deep network the analogy is loose, but the direction
# is the same: fewer steps, a simpler function.
#
# ## 9. How patience changes where it stops
#
# To see what other values of `patience` would have done we do not need to
# train again. The stopping rule reads nothing but the sequence of
# validation losses, and the stopper only *watches* training, it never
# changes it (no learning rate depends on it). So training up to any
# stopping point is the same whatever the patience, and feeding the
# recorded curve to a fresh `EarlyStopping` gives **exactly** the decision
# it would have taken during training. The best epoch's weights are the
# weights of that epoch, whose validation numbers are in the history.


def replay(values: list[float], **rule) -> EarlyStopping:
    """Run the stopping rule on a recorded curve; no model, no weights kept."""
    stopper = EarlyStopping(restore_best=False, **rule)
    for value in values:
        if stopper.step(value):
            break
    return stopper


check = replay(history["val_loss"], patience=patience, min_delta=min_delta)
print(f"replayed:    stop {check.stopped_epoch or '-'}, best {check.best_epoch}")
print(
    f"in training: stop {stopper.stopped_epoch or '-'}, best {stopper.best_epoch}"
)
assert (check.stopped_epoch, check.best_epoch) == (
    stopper.stopped_epoch,
    stopper.best_epoch,
), "the replay should take the same decisions as the stopper during training"

# %%
# The replay agrees with the real run (the `assert` checks it). Now for
# several patience values (the
# other settings as in section 5). **stop** is the epoch the rule stops
# after ("-" if it does not stop within the budget), **epochs** how many
# were trained, **best** the epoch whose weights it restores, and the
# validation loss and accuracy of those weights:


def replay_table(rules: list[dict]) -> str:
    """Replay each rule on the validation loss of section 7; one row per rule."""
    rows = []
    for rule in rules:
        s = replay(history["val_loss"], **rule)
        rows.append(
            {
                **rule,
                "stop": s.stopped_epoch or None,
                "epochs": s.stopped_epoch or max_epochs,
                "best": s.best_epoch,
                "val_loss": history["val_loss"][s.best_epoch - 1],
                "val_acc": history["val_acc"][s.best_epoch - 1],
            }
        )
    columns = [(key, key) for key in rules[0]] + [
        ("stop", "stop", "d"),
        ("epochs", "epochs", "d"),
        ("best", "best", "d"),
        ("val_loss", "val loss", ".4f"),
        ("val_acc", "val acc", ".1%"),
    ]
    return format_table(rows, columns)


patiences = [0, 1, 2, 3, 5, 10, 20]
print(replay_table([dict(patience=p, min_delta=min_delta) for p in patiences]))
lowest = min(epochs_axis, key=lambda e: history["val_loss"][e - 1])
print(f"lowest validation loss of the whole run: epoch {lowest}")

# %%
# How to read it. A small patience stops at the first wobble of the curve,
# and the **best** it restores can be an epoch before the lowest point of
# the run (compare it with the epoch printed under the table): the rule gave
# up too soon. Once the patience is long enough to reach the lowest point,
# the best epoch stops changing, and each further unit of patience only adds
# one more epoch that is trained and thrown away. Patience is a bet on how
# noisy the curve is. The minimum improvement works on the other axis:
# the larger `min_delta`, the more small gains are ignored, so the rule
# tends to stop earlier and to settle for an earlier best epoch:

deltas = [0.0, 0.001, 0.01, 0.03, 0.1]
print(replay_table([dict(patience=patience, min_delta=d) for d in deltas]))

# %%
# The replay is exact here, but not always: a rule whose decision changes the
# training (a learning rate cut when the validation loss stalls, like
# `ReduceLROnPlateau`, Day 15) makes the epochs after the first decision
# depend on it, and then each setting needs its own run.
#
# ## 10. Other seeds: is the difference more than noise?
#
# One run could be lucky. We repeat the whole protocol (train with early
# stopping, restore the best weights, continue to the end of the budget) with
# two more seeds, which change the initial weights and the data order, not
# the data. The verdict "best weights beat last weights" is about the
# *protocol*, so it should hold for every seed.


def stop_and_continue(seed: int) -> dict:
    """Early stopping, the restored best weights, then the rest of the budget."""
    seed_run = new_run(seed)
    seed_stopper = EarlyStopping(patience=patience, min_delta=min_delta)
    train(seed_run, max_epochs, seed_stopper)
    best = restored_copy(seed_stopper, seed_run.model)
    train(seed_run, max_epochs - len(seed_run.history["val_loss"]))
    return {
        "seed": seed,
        "stopper": seed_stopper,
        "best": best,
        "last": seed_run.model,
        "history": seed_run.history,
    }


first = {"seed": 0, "stopper": stopper, "best": best_model, "last": last_model}
results = [{**first, "history": history}]
results += [stop_and_continue(seed) for seed in course.pick(full=[1, 2], smoke=[1])]
seed_rows = []
for r in results:
    s, h = r["stopper"], r["history"]
    best_acc, last_acc = h["val_acc"][s.best_epoch - 1], h["val_acc"][-1]
    seed_rows.append(
        {
            "seed": r["seed"],
            "stop": s.stopped_epoch or None,
            "best": s.best_epoch,
            "val_best": best_acc,
            "val_last": last_acc,
            "diff": 100 * (best_acc - last_acc),
        }
    )
seed_columns = [("seed", "seed", "d"), ("stop", "stop", "d"), ("best", "best", "d")]
print(
    format_table(
        seed_rows,
        seed_columns
        + [
            ("val_best", "val acc, best", ".1%"),
            ("val_last", "val acc, last", ".1%"),
            ("diff", "difference (points)", "+.1f"),
        ],
    )
)
typical = results[0]["history"]["val_acc"][-1]
se = math.sqrt(typical * (1 - typical) / n_val)
print(f"standard error of a validation accuracy near {typical:.0%}: ±{se:.1%}")
smallest = min(row["diff"] for row in seed_rows)
print(
    f"smallest difference over the seeds: {smallest:+.1f} points, "
    f"{smallest / (100 * se):+.1f} standard errors"
)

# %%
# Two yardsticks for the differences: the standard error of one accuracy
# measured on the validation set, and the spread between the seeds. A
# difference of the same sign for every seed and several standard errors
# wide is not noise. The validation accuracy of the best epoch is a little
# optimistic (that epoch was picked *because* its validation loss was
# lowest), which is one reason the final comparison uses the test set.
#
# ## 11. The test set, once: best weights against last weights
#
# Every choice is made: the recipe, the rule, its settings. Now, and only
# now, the test set: 10,000 images none of the runs has seen, for the best
# and the last weights of each seed.

test_rows = []
for r, row in zip(results, seed_rows, strict=True):
    best_acc = evaluate(r["best"], test_loader)["accuracy"]
    last_acc = evaluate(r["last"], test_loader)["accuracy"]
    diff = 100 * (best_acc - last_acc)
    test_rows.append(
        {**row, "test_best": best_acc, "test_last": last_acc, "diff": diff}
    )
print(
    format_table(
        test_rows,
        seed_columns
        + [
            ("test_best", "test acc, best", ".2%"),
            ("test_last", "test acc, last", ".2%"),
            ("diff", "difference (points)", "+.2f"),
        ],
    )
)
best_pred, truth = predict(results[0]["best"], test_loader)
last_pred, _ = predict(results[0]["last"], test_loader)
only_best = int(((best_pred == truth) & (last_pred != truth)).sum())
only_last = int(((last_pred == truth) & (best_pred != truth)).sum())
print(f"seed 0, test images that only the best weights get right: {only_best:,}")
print(f"seed 0, test images that only the last weights get right: {only_last:,}")
headline(
    "MNIST (20 % wrong labels) test accuracy, best vs last weights",
    f"{test_rows[0]['test_best']:.2%} vs {test_rows[0]['test_last']:.2%} (seed 0)",
)
if all(row["test_best"] >= row["test_last"] for row in test_rows):
    print("every seed: the best weights score at least as well as the last on test")
else:
    print(
        "for at least one seed the LAST weights scored higher on test than the best"
    )

# %%
# The verdict printed last is the run's own, not the text's. The setup was
# built to make over-fitting costly (a model with room to memorise, wrong
# labels to memorise, a budget well past the turn of the validation loss),
# and the test set is the independent check of the choice the validation
# set made, seed by seed. The paired count is a check that needs no
# statistics: both models are scored on the same test images, so the
# difference in accuracy is exactly the images only the best weights get
# right minus those only the last weights get right.
#
# Early stopping does not make the network better than its best epoch; it
# only stops you from throwing that epoch away. On clean, plentiful data the
# validation loss may rise (over-confidence) while the accuracy hardly moves,
# and then stopping on the loss can even cost accuracy: exercise 3 looks at
# that case.
#
# ## 12. Summary
#
# - Over-fitting shows in the validation loss: it falls, then rises while the
#   training loss keeps falling. With wrong labels in the training set, the
#   rise is the network memorising them, and the test accuracy pays for it.
# - Early stopping checks the validation loss after every epoch. A value
#   counts as an improvement when it beats the best by more than `min_delta`;
#   training stops when `patience` checks in a row brought none (Lightning's
#   rule). Keep the best weights and load them back at the end.
# - Keep them with `copy.deepcopy(model.state_dict())`: `state_dict()` alone
#   returns the live tensors, which the optimiser keeps changing. Check a
#   restore by re-measuring the restored model.
# - A stopping rule that only watches can be replayed on a recorded
#   validation curve: one run answers "what would patience $p$ have done"
#   for every $p$, exactly.
# - Patience trades epochs for robustness to noisy curves; `min_delta`
#   ignores gains too small to matter. Choose on validation, report on test.
# - The helper is `course.early_stopping.EarlyStopping`; Day 22 compares it
#   with Lightning's `EarlyStopping` callback.
#
# ## 13. Exercises
#
# 1. **Monitor the accuracy.** Replay the rule on the recorded validation
#    *accuracy* (`mode="max"`, `min_delta=0`) with the same patience. Where
#    does it stop, and which epoch does it choose, compared with the loss?
# 2. **Validating every other epoch.** Patience counts checks, not epochs.
#    If the validation ran only after every second epoch, where would
#    patience 5 stop, in epochs? Replay it on every second value of the
#    recorded curve.
# 3. **Clean labels.** Train the same recipe (seed 0, the full budget) on
#    the correct training labels and find the best epoch by validation loss.
#    Does the validation *accuracy* fall after it as it did with wrong
#    labels? What does that mean for the choice between loss and accuracy?

# %%
# **Solution 1.** `replay` takes the rule's settings, mode included. The
# accuracy is measured in steps of one image in 5,000, so ties are common,
# and a tie is not an improvement.

by_acc = replay(history["val_acc"], patience=patience, mode="max")
by_loss = replay(history["val_loss"], patience=patience, min_delta=min_delta)
for name, s in [("val loss", by_loss), ("val accuracy", by_acc)]:
    print(
        f"monitoring {name:<12}: stop {s.stopped_epoch or '-'}, "
        f"best epoch {s.best_epoch}, "
        f"its val acc {history['val_acc'][s.best_epoch - 1]:.2%}"
    )

# %%
# **Solution 2.** Keep the values of epochs 2, 4, 6, ...; check $k$ is
# epoch $2k$. With the same patience the rule now waits twice as many
# epochs, and it can only choose an even epoch.

every_other = history["val_loss"][1::2]
sparse = replay(every_other, patience=patience, min_delta=min_delta)
sparse_stop = 2 * sparse.stopped_epoch or "-"
print(f"every epoch:      stop after epoch {stopper.stopped_epoch or '-'}")
print(f"                  best epoch {best_epoch}")
print(f"every 2nd epoch:  stop after epoch {sparse_stop}")
print(f"                  best epoch {2 * sparse.best_epoch}")

# %%
# **Solution 3.** Swap the wrong labels for the true ones in the training
# loader and repeat the run without a stopper, so that the whole curve is
# seen; then compare, for both runs, the validation accuracy at the epoch of
# lowest validation loss with the accuracy at the last epoch. Only the
# validation set is used: the test set stays out of it.

clean_run = new_run(seed=0)
clean_run.loader = DataLoader(
    TensorDataset(x_train, true_train),
    batch_size=batch_size,
    shuffle=True,
    generator=torch.Generator().manual_seed(0),
)
train(clean_run, max_epochs)

label_rows = []
noisy_name = f"{wrong_fraction:.0%} wrong"
for labels, h in [(noisy_name, history), ("all correct", clean_run.history)]:
    lowest = min(range(max_epochs), key=h["val_loss"].__getitem__)
    label_rows.append(
        {
            "labels": labels,
            "epoch": lowest + 1,
            "loss_low": h["val_loss"][lowest],
            "loss_last": h["val_loss"][-1],
            "acc_low": h["val_acc"][lowest],
            "acc_last": h["val_acc"][-1],
            "change": 100 * (h["val_acc"][-1] - h["val_acc"][lowest]),
        }
    )
print(
    format_table(
        label_rows,
        [
            ("labels", "labels"),
            ("epoch", "best epoch", "d"),
            ("loss_low", "loss, best", ".4f"),
            ("loss_last", "loss, last", ".4f"),
            ("acc_low", "acc, best", ".2%"),
            ("acc_last", "acc, last", ".2%"),
            ("change", "acc change", "+.2f"),
        ],
    )
)

# %%
# Compare the two rows. With clean labels the validation loss also ends
# above its minimum (the network grows over-confident on the images it gets
# wrong), but the accuracy after the minimum behaves differently from the
# run with wrong labels, as the last column shows. When
# what you care about is accuracy, monitor accuracy (`mode="max"`) or give
# the loss more patience; the loss is smoother, which is why it is the usual
# default.

elapsed = time.perf_counter() - lesson_start
print(f"Lesson run time: {elapsed:.0f} s ({course.PROFILE} profile, {device})")

# %%
# The best weights are worth keeping beyond this notebook. Next,
# [Day 19](day19_inference_export.ipynb) prepares a trained model for
# inference and exports it.
