"""
# Day 10 · Exercise: MNIST handwritten digits, end to end (手寫辨識全流程實作)

Everything from the first nine days, in one project: you load the MNIST
handwritten digits, look at them, normalise them with statistics computed from
the training set, build a multi-layer perceptron (MLP), train it with Day 8's
`fit`, and evaluate it on the 10,000 test images it has never seen. Then you
look past the single accuracy number: a confusion matrix shows *which* digits
get confused with which, per-class accuracy shows where the model is weakest,
and a gallery of mistakes shows *why*. The whole lesson, training included,
is built to run in under two minutes on a laptop CPU, and the run checks that
it reaches at least 97.5 % test accuracy in that time.

**You will learn:** loading MNIST and looking at it · computing normalisation
statistics from the training set · the torchvision transform pipeline, and
why pre-computed tensors train faster · an MLP classifier for images ·
evaluating on a held-out test set · confusion matrices, per-class accuracy and
error analysis

**How to use this lesson:** it is your own build. Each step starts with a
**Your turn** prompt saying what to write, with hints; write and run your
version first, then compare it with the worked step that follows it.

**Before you start:** [Day 8](day08_train_validate.ipynb) (`fit`, `evaluate`,
`predict`) and [Day 9](day09_save_load.ipynb) (saving models) ·
**Reading time:** about 2 hours
"""

# %%
# ## 1. Set-up
#
# The clock starts here: the lesson measures its own run time, because the
# goal is a good model within a fixed budget, not the best model at any cost.

import time

lesson_start = time.perf_counter()

from pathlib import Path

import matplotlib.pyplot as plt
import torch
from matplotlib.colors import LogNorm
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from torchvision.transforms import v2

import course
from course.data.mnist import load_mnist
from course.fit import evaluate, fit, predict
from course.plots import plot_curves
from course.report import headline

course.seed_everything(0)
device = course.choose_device()
print(f"profile: {course.PROFILE}, device: {device}, torch {torch.__version__}")

# %%
# ## 2. Loading MNIST
#
# MNIST has 60,000 training and 10,000 test images of handwritten digits, each
# 28×28 grey pixels with a label from 0 to 9. The course's `load_mnist` reads
# the standard files (from the course data folder, or downloads them once) and
# returns a regular `torchvision.datasets.MNIST`; in the smoke profile it keeps
# a small class-balanced subset so that the lesson runs in seconds.
#
# **Your turn.** Load the training and test sets with `load_mnist(train=...)` and
# print their sizes. Hint: the dataset's `.data` and `.targets` hold all images
# and labels as tensors.
#
# *Worked step — try it yourself first:*

train_full = load_mnist(train=True, limit=course.pick(full=None, smoke=2_000))
test_set = load_mnist(train=False, limit=course.pick(full=None, smoke=1_000))
image, label = train_full[0]
print(f"one item: {type(image).__name__} of size {image.size}, label {label}")
print(
    f"all images at once: .data {tuple(train_full.data.shape)} "
    f"{train_full.data.dtype}, "
    f"values {train_full.data.min().item()}..{train_full.data.max().item()}"
)
print(
    "training images per class:",
    torch.bincount(train_full.targets, minlength=10).tolist(),
)

# %%
# An item is a PIL image and an integer label, the format torchvision's image
# transforms expect. Underneath, the dataset keeps every image in one `uint8`
# tensor, `.data`, and every label in `.targets`: we will use those directly
# in section 5. The classes are roughly, not exactly, balanced.
#
# ## 3. Looking at the data
#
# Always look before you train: it catches wrong labels, rotated or inverted
# images and mismatched shapes early. One column per digit, four examples each:
#
# **Your turn.** Plot a grid with a few examples of every digit, with its label as
# the title. Hints: `torch.nonzero(targets == d)` finds the images of digit `d`;
# `plt.subplots(rows, cols)` and `ax.imshow(image, cmap="gray_r")`.
#
# *Worked step — try it yourself first:*

examples_per_digit = 4
fig, axes = plt.subplots(examples_per_digit, 10, figsize=(10, 4.6))
for digit in range(10):
    indices = torch.nonzero(train_full.targets == digit).flatten()[
        :examples_per_digit
    ]
    for row, index in enumerate(indices.tolist()):
        ax = axes[row, digit]
        ax.imshow(train_full.data[index], cmap="gray_r")
        ax.set_title(f"label {train_full.targets[index].item()}", fontsize=8)
        ax.axis("off")
fig.suptitle("MNIST training samples (28×28 pixels) with their labels")
fig.tight_layout()
plt.show()

# %%
# The same digit is written in very different ways: thick and thin strokes,
# slanted, open or closed loops. That variety is what the model has to learn.
#
# ## 4. A validation set, and normalisation statistics from training data only
#
# The test set is for the final verdict only; choosing epochs or learning
# rates by looking at it would make the test score optimistic. So we hold out
# part of the training images as a **validation** set, which `fit` reports
# after every epoch.
#
# **Your turn.** Hold out a seeded validation set from the training images, then
# compute the pixel mean and standard deviation from the *remaining training*
# images only. Hints: `torch.randperm` with a `torch.Generator().manual_seed(0)`;
# scale to $[0, 1]$ before `.mean()` and `.std()`.
#
# *Worked step — try it yourself first:*

n_val = course.pick(full=5_000, smoke=200)
split_generator = torch.Generator().manual_seed(0)
order = torch.randperm(len(train_full), generator=split_generator)
train_idx, val_idx = order[n_val:], order[:n_val]
print(
    f"train {len(train_idx):,} images, validation {len(val_idx):,}, test "
    f"{len(test_set):,}"
)

# %%
# Neural networks train best when their inputs are centred near 0 with a
# spread near 1: the default weight initialisation assumes inputs of that
# scale, and the gradient steps of all weights are then of similar size. So we
# **normalise** every pixel value $x$ (scaled to $[0, 1]$):
#
# $$x' = \frac{x - \mu}{\sigma},$$
#
# where $\mu$ and $\sigma$ are the mean and standard deviation over *all
# pixels of the training images*. Not the test images: at prediction time the
# statistics are part of the model's preprocessing, fixed before any test
# image is seen. These are the two numbers that many MNIST tutorials hard-code;
# here they are computed:

train_pixels = train_full.data[train_idx].float().div(255)
mean, std = train_pixels.mean().item(), train_pixels.std().item()
print(f"training-set pixel mean {mean:.4f}, standard deviation {std:.4f}")

# %%
# ## 5. Two ways to feed the images to the model
#
# **The torchvision way** attaches a transform to the dataset; it runs on every
# image, every time it is fetched: PIL image → `ToImage` (a 1×28×28 `uint8`
# tensor) → `ToDtype(..., scale=True)` (float, values divided by 255) →
# `Normalize` with our statistics (the `transforms.v2` API that Day 12 uses).
# This is the general pattern: it works for datasets far larger than memory
# and for random augmentations (Day 12).
#
# **Your turn.** Build a `transforms.v2` pipeline that turns a PIL digit into a
# normalised float tensor, then do the same arithmetic once on the whole tensor,
# and time both ways of loading batches. Hints: `v2.ToImage()`,
# `v2.ToDtype(torch.float32, scale=True)`, `v2.Normalize`; `TensorDataset`;
# `time.perf_counter()`.
#
# *Worked step — try it yourself first:*

to_normalised_tensor = v2.Compose(
    [
        v2.ToImage(),
        v2.ToDtype(torch.float32, scale=True),
        v2.Normalize(mean=(mean,), std=(std,)),
    ]
)
train_pil = load_mnist(
    train=True,
    transform=to_normalised_tensor,
    limit=course.pick(full=None, smoke=2_000),
)
x0, y0 = train_pil[0]
print(f"transformed item: {tuple(x0.shape)} {x0.dtype}, label {y0}")

# %%
# **The tensor way** does the same arithmetic once, on the whole `uint8` tensor,
# and wraps the result in a `TensorDataset`. Even as float32 the whole
# training set fits in memory easily (its size is printed below).


def normalised_tensors(images_uint8: torch.Tensor) -> torch.Tensor:
    """(N, 28, 28) uint8 -> (N, 1, 28, 28) float32, normalised with the training
    statistics."""
    return images_uint8.float().div(255).sub(mean).div(std).unsqueeze(1)


x_train_all = normalised_tensors(train_full.data)
x_test = normalised_tensors(test_set.data)
print(
    f"all training images as float32: {tuple(x_train_all.shape)}, "
    f"{x_train_all.nbytes / 1e6:.0f} MB"
)
print(
    "identical to the transform's output:",
    torch.allclose(x_train_all[0], x0, atol=1e-6),
)

train_data = TensorDataset(x_train_all[train_idx], train_full.targets[train_idx])
val_data = TensorDataset(x_train_all[val_idx], train_full.targets[val_idx])
test_data = TensorDataset(x_test, test_set.targets)

# %%
# Both give the same tensors. The difference is speed. A `DataLoader` fetches
# each sample of a batch separately; on the torchvision path every fetch builds
# a PIL image from the array, converts it to a tensor and normalises it, all
# in Python, one image at a time. On the tensor path a fetch is one indexing
# operation into memory that is already prepared. Timing the same number of
# batches both ways:

batch_size = 256
timed_batches = course.pick(full=40, smoke=5)


def seconds_for_batches(dataset, n_batches: int) -> float:
    loader = DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(0),
    )
    start = time.perf_counter()
    for i, _ in enumerate(loader):
        if i + 1 == n_batches:
            break
    return time.perf_counter() - start


t_pil = seconds_for_batches(train_pil, timed_batches)
t_tensor = seconds_for_batches(train_data, timed_batches)
batches_per_epoch = -(-len(train_data) // batch_size)  # ceiling division
print(
    f"{timed_batches} batches of {batch_size}: transforms {t_pil:.2f} s, tensors "
    f"{t_tensor:.3f} s "
    f"({t_pil / t_tensor:.0f} times faster)"
)
print(
    f"per epoch of {batches_per_epoch} batches, loading alone: transforms about "
    f"{t_pil / timed_batches * batches_per_epoch:.1f} s, tensors about "
    f"{t_tensor / timed_batches * batches_per_epoch:.2f} s"
)

# %%
# On a CPU, where the model's own work is small, that loading time would be a
# large share of every epoch, so we train on the tensors. (With a dataset too
# big for memory, or random augmentation, you keep the transforms and use
# `num_workers` to load in parallel, as in Day 5.)

train_loader = DataLoader(
    train_data,
    batch_size=batch_size,
    shuffle=True,
    generator=torch.Generator().manual_seed(0),
)
val_loader = DataLoader(val_data, batch_size=1_000)
test_loader = DataLoader(test_data, batch_size=1_000)

# %%
# ## 6. The model: an MLP
#
# An MLP treats an image as a flat vector of 784 numbers: `Flatten`, then two
# hidden layers with ReLU, then 10 outputs, one **logit** (unnormalised score)
# per digit. `CrossEntropyLoss` applies the softmax itself, so the model must
# *not* end with one. Dropout after each hidden layer (Day 7) randomly zeroes
# a fifth of the activations during training, a common guard against a
# fairly large network memorising its training images (this lesson does not
# measure how much it helps here; Day 12 compares regularisers head to head).
#
# **Your turn.** Write `make_mlp()`: `Flatten`, two hidden `Linear` layers with
# ReLU and Dropout, and a final `Linear` to 10 logits (no softmax). Print the
# parameter count.
#
# *Worked step — try it yourself first:*


def make_mlp(
    hidden: tuple[int, ...] = (512, 256), dropout: float = 0.2
) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Flatten()]
    width = 28 * 28
    for size in hidden:
        layers += [nn.Linear(width, size), nn.ReLU(), nn.Dropout(dropout)]
        width = size
    layers.append(nn.Linear(width, 10))
    return nn.Sequential(*layers)


course.seed_everything(0)
model = make_mlp().to(device)
print(model)
print(f"parameters: {sum(p.numel() for p in model.parameters()):,}")

# %%
# ## 7. Training
#
# The choices, each for a reason:
#
# - **Adam** at a learning rate of 2e-3: it adapts the step size per weight
#   and needs little tuning for a network like this.
# - **Cosine annealing** of the learning rate over the epochs (stepped once per
#   epoch by `fit`): large steps early to make progress, small steps at the end
#   to settle into a good minimum (Day 15 compares schedules).
# - **Batch size** 256: large enough that each step uses the CPU efficiently,
#   small enough for a few hundred updates per epoch.
# - **Epochs**: few, because the budget is the whole lesson in two minutes;
#   the validation curves below show whether more would help.
#
# **Your turn.** Train the MLP with Day 8's `fit`: Adam, a cosine schedule over
# the epochs, cross-entropy loss; then plot the loss and accuracy curves. Hint:
# `torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)`.
#
# *Worked step — try it yourself first:*

epochs = course.pick(full=8, smoke=2)
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)

train_start = time.perf_counter()
history = fit(
    model,
    train_loader,
    val_loader,
    loss_fn,
    optimizer,
    epochs=epochs,
    device=device,
    scheduler=scheduler,
)
train_seconds = time.perf_counter() - train_start
print(
    f"training took {train_seconds:.1f} s ({train_seconds / epochs:.1f} s per "
    "epoch)"
)

# %%

fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
plot_curves(
    {"train": history["train_loss"], "validation": history["val_loss"]},
    title="Loss per epoch",
    ylabel="cross-entropy loss",
    ax=ax_loss,
)
plot_curves(
    {
        "train": [100 * a for a in history["train_acc"]],
        "validation": [100 * a for a in history["val_acc"]],
    },
    title="Accuracy per epoch",
    ylabel="accuracy (%)",
    ax=ax_acc,
)
fig.tight_layout()
plt.show()

# %%
# The training numbers are measured with Dropout active and while the weights
# are still changing, so in the first epochs they can look worse than the
# validation numbers; that is normal. What matters is how the validation loss
# ends, which the next line reads from the history.

val_losses = history["val_loss"]
best_epoch = min(range(len(val_losses)), key=val_losses.__getitem__) + 1
if best_epoch == len(val_losses):
    print(
        f"validation loss still falling at the last epoch ({val_losses[-1]:.4f})."
    )
else:
    print(
        f"validation loss lowest at epoch {best_epoch} ({min(val_losses):.4f}), "
        f"last epoch {val_losses[-1]:.4f}: "
        f"{val_losses[-1] / min(val_losses) - 1:+.1%} from the best, "
        "so it has flattened; a clear, growing rise would mean overfitting."
    )

# %%
#
# ## 8. The verdict: accuracy on the test set
#
# Now, once, the test set: images written by people whose handwriting is not
# in the training set.
#
# **Your turn.** Evaluate the trained model once on the test set with `evaluate`,
# and compare with the target.
#
# *Worked step — try it yourself first:*

test = evaluate(model, test_loader, loss_fn)
elapsed = time.perf_counter() - lesson_start
target, budget_s = 0.975, 120
print(
    f"test accuracy {test['accuracy']:.2%} (loss {test['loss']:.4f}) "
    f"on {len(test_data):,} test images, {elapsed:.0f} s after the lesson started"
)
headline("MNIST test accuracy, your MLP", f"{test['accuracy']:.2%}")

# %%

if course.PROFILE == "full":
    verdict = "meets" if test["accuracy"] >= target else "misses"
    margin = 100 * (test["accuracy"] - target)
    in_time = "within" if elapsed <= budget_s else "outside"
    print(
        f"The model {verdict} the {target:.1%} target ({margin:+.2f} percentage "
        "points), "
        f"{in_time} the {budget_s} s budget ({elapsed:.0f} s so far)."
    )
else:
    print(
        f"Smoke profile: {len(train_data):,} training images and {epochs} epochs, "
        "so the "
        f"{target:.1%} target (set for the full profile) is not expected here."
    )

# %%
# ## 9. The confusion matrix: which digits get confused?
#
# One accuracy number hides *which* mistakes the model makes. The **confusion
# matrix** $C$ counts, for every true class $i$ and predicted class $j$, how
# many test images of digit $i$ were predicted as $j$. The diagonal holds the
# correct predictions; everything off it is a mistake. Day 8's `predict`
# returns the predicted and true labels; `bincount` over the pair index
# $10i + j$ counts all 100 combinations in one call.
#
# **Your turn.** Compute the 10×10 confusion matrix (rows: true digit, columns:
# predicted) from `predict`'s outputs and plot it. Hint: `torch.bincount(10 *
# actual + predicted, minlength=100).view(10, 10)`.
#
# *Worked step — try it yourself first:*

predicted, actual = predict(model, test_loader)
confusion = torch.bincount(10 * actual + predicted, minlength=100).reshape(10, 10)
print(
    "correct (diagonal):",
    confusion.diag().sum().item(),
    "| wrong (off the diagonal):",
    (confusion.sum() - confusion.diag().sum()).item(),
)

# %%
# The colours use a logarithmic scale, so that the handful of mistakes in a
# cell is visible next to the hundreds of correct predictions on the diagonal;
# empty cells stay white.

fig, ax = plt.subplots(figsize=(7.5, 6.5))
shown = ax.imshow(
    confusion, cmap="Blues", norm=LogNorm(vmin=1, vmax=confusion.max().item())
)
for i in range(10):
    for j in range(10):
        count = confusion[i, j].item()
        if count:
            colour = "white" if count > confusion.max().item() / 10 else "black"
            ax.text(
                j, i, str(count), ha="center", va="center", fontsize=8, color=colour
            )
ax.set_xticks(range(10))
ax.set_yticks(range(10))
ax.set_xlabel("predicted digit")
ax.set_ylabel("true digit")
ax.set_title("Confusion matrix on the MNIST test set (counts)")
fig.colorbar(shown, ax=ax, label="number of test images (log scale)")
plt.show()

# %%
# The most frequent confusions, read off the matrix:

off_diagonal = confusion.clone()
off_diagonal.fill_diagonal_(0)
counts, flat = off_diagonal.flatten().sort(descending=True)
for count, index in zip(counts[:5].tolist(), flat[:5].tolist(), strict=True):
    print(f"true {index // 10} predicted as {index % 10}: {count} times")

# %%
# ## 10. Accuracy per class
#
# Dividing the diagonal by each row's total gives the accuracy for each true
# digit (also called its **recall**): the share of that digit's images the
# model gets right.
#
# **Your turn.** From the confusion matrix, compute each digit's accuracy (the
# diagonal over the row sums) and show it as a bar chart.
#
# *Worked step — try it yourself first:*

per_class = confusion.diag().float() / confusion.sum(dim=1).float()
for digit, acc in enumerate(per_class.tolist()):
    print(
        f"digit {digit}: {acc:.2%}  ({confusion.sum(dim=1)[digit].item()} test "
        "images)"
    )
worst = int(per_class.argmin())
print(
    f"weakest digit: {worst} ({per_class[worst]:.2%}); strongest: "
    f"{int(per_class.argmax())} "
    f"({per_class.max():.2%})"
)

# %%

fig, ax = plt.subplots(figsize=(7, 3.8))
ax.bar(range(10), 100 * per_class, color="tab:blue", label="per-class accuracy")
ax.axhline(
    100 * test["accuracy"], color="tab:red", ls="--", label="overall test accuracy"
)
ax.set_ylim(max(0.0, 100 * per_class.min().item() - 3), 100)
ax.set_xticks(range(10))
ax.set_xlabel("true digit")
ax.set_ylabel("accuracy (%)")
ax.set_title("Test accuracy for each digit")
ax.legend(loc="lower right")
plt.show()

# %%
# ## 11. Looking at the mistakes
#
# Numbers tell you *where* the model fails; the images tell you *why*. We show
# the mistakes the model was most confident about (highest softmax
# probability for its wrong answer): these are either genuinely ambiguous
# digits, badly written ones, or, now and then, a wrong label in the dataset.
#
# **Your turn.** Show test images the model got wrong, most confident mistakes
# first, with true and predicted labels. Hint: `softmax(...).max(dim=1)` gives
# each prediction's confidence; `argsort` orders them.
#
# *Worked step — try it yourself first:*

model.eval()
with torch.no_grad():
    probabilities = torch.softmax(model(x_test.to(device)), dim=1).cpu()
confidence, predicted_again = probabilities.max(dim=1)
print("same predictions as predict():", torch.equal(predicted_again, predicted))
wrong = torch.nonzero(predicted != actual).flatten()
wrong = wrong[confidence[wrong].argsort(descending=True)]
print(f"{len(wrong)} misclassified test images; showing the most confident ones")
sure_but_wrong = (confidence[wrong] > 0.9).sum().item()
print(
    f"{sure_but_wrong} of the {len(wrong)} mistakes were made with over 90% "
    "confidence"
)

# %%

n_show = min(24, len(wrong))
columns = 8
rows = max(1, -(-n_show // columns))
fig, axes = plt.subplots(
    rows, columns, figsize=(12, 1.9 * rows + 0.6), squeeze=False
)
for ax in axes.flat:
    ax.axis("off")
for ax, index in zip(axes.flat, wrong[:n_show].tolist(), strict=False):
    ax.imshow(test_set.data[index], cmap="gray_r")
    ax.set_title(
        f"true {actual[index].item()} → pred {predicted[index].item()}\n"
        f"p = {confidence[index]:.2f}",
        fontsize=9,
    )
fig.suptitle("Misclassified test images, most confident first (true → predicted)")
fig.tight_layout()
plt.show()

# %%
# Many of these would puzzle a person too. Note also the count printed above
# of mistakes made with over 90 % confidence: a softmax probability is a
# score, not a guarantee, and a network can be confidently wrong.
#
# Why does an MLP make these mistakes? It sees 784 independent numbers and
# knows nothing about which pixels are neighbours, so a digit shifted or
# slanted by a few pixels looks like a new pattern to it. Convolutional
# networks (Day 11) build that knowledge in.
#
# ## 12. Summary
#
# - Load, then **look**: a grid of samples catches data problems before they
#   cost training time.
# - Hold out a **validation** set for decisions; touch the **test** set once,
#   at the end.
# - **Normalise** with the mean and standard deviation of the *training*
#   images; the test images get the same fixed statistics.
# - When a dataset fits in memory, preprocess it **once** into tensors: the
#   per-image transform pipeline was many times slower in section 5.
# - An MLP with Dropout, Adam and a cosine schedule reached the test accuracy
#   printed in section 8 within the time printed there.
# - Go beyond accuracy: the **confusion matrix**, **per-class accuracy** and
#   the **mistakes themselves** show what the model has not learned.
#
# ## 13. Exercises
#
# 1. **A linear baseline.** Train a purely linear model (`nn.Flatten()` then
#    `nn.Linear(784, 10)`, that is, softmax regression) with the same data and
#    optimiser for a few epochs. How far below the MLP's test accuracy is it?
#    (The MLP trained longer; Solution 1 prints both budgets.)
# 2. **Skip the normalisation.** Train the same MLP for a few epochs on the raw
#    pixel values 0-255 (as floats) and on the normalised tensors, with the
#    same seed and settings. Compare their validation accuracy.
# 3. **Save, reload, predict one digit.** Save the trained model together
#    with its normalisation statistics (Day 9's `state_dict`; hint: buffers),
#    load it into a fresh model, and plot the ten class probabilities it gives
#    for the *raw* test image of the mistake the model was least sure about.

# %%
# **Solution 1.** A linear model can only weigh each pixel for or against each
# digit; it cannot combine pixels into strokes and loops as hidden layers do.

short_epochs = course.pick(full=2, smoke=1)
course.seed_everything(0)
linear = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 10)).to(device)
fit(
    linear,
    train_loader,
    val_loader,
    loss_fn,
    torch.optim.Adam(linear.parameters(), lr=2e-3),
    epochs=short_epochs,
    device=device,
    progress=False,
)
linear_acc = evaluate(linear, test_loader)["accuracy"]
print(
    f"test accuracy: linear {linear_acc:.2%} after {short_epochs} epoch(s), "
    f"MLP {test['accuracy']:.2%} after {epochs} "
    f"({100 * (test['accuracy'] - linear_acc):.1f} percentage points apart; "
    "the budgets differ, so this is a rough comparison)"
)

# %%
# **Solution 2.** Raw pixels up to 255 make the first layer's inputs, and so
# its outputs, far larger than the initialisation expects (the first line
# below computes the factor, as a ratio of root-mean-square values). Same
# seed, same settings, only the input scaling differs; the printed accuracies
# show how much that costs here:


def val_accuracy_after(x_train: torch.Tensor, x_val: torch.Tensor) -> float:
    course.seed_everything(0)
    net = make_mlp().to(device)
    loader = DataLoader(
        TensorDataset(x_train, train_full.targets[train_idx]),
        batch_size=batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(0),
    )
    val = DataLoader(
        TensorDataset(x_val, train_full.targets[val_idx]), batch_size=1_000
    )
    h = fit(
        net,
        loader,
        val,
        loss_fn,
        torch.optim.Adam(net.parameters(), lr=2e-3),
        epochs=short_epochs,
        device=device,
        progress=False,
    )
    return h["val_acc"][-1]


raw = train_full.data.float().unsqueeze(1)  # 0..255, not normalised
rms_raw = raw[train_idx].pow(2).mean().sqrt()
rms_norm = x_train_all[train_idx].pow(2).mean().sqrt()
print(
    f"raw inputs are {rms_raw / rms_norm:.0f}x larger in RMS than normalised ones"
)
acc_raw = val_accuracy_after(raw[train_idx], raw[val_idx])
acc_norm = val_accuracy_after(x_train_all[train_idx], x_train_all[val_idx])
print(
    f"validation accuracy after {short_epochs} epoch(s): raw 0-255 {acc_raw:.2%}, "
    f"normalised {acc_norm:.2%}"
)

# %%
# **Solution 3.** The MLP alone expects *normalised* pixels, so a file with
# only its weights cannot predict from a raw image. A small wrapper keeps the
# training statistics as **buffers** (saved in the `state_dict`, not trained),
# so the saved file holds the preprocessing too. The saved file holds only
# tensors; the class rebuilds the architecture, and `eval()` switches Dropout
# off before predicting. The prediction starts from the raw `uint8` image.


class DigitClassifier(nn.Module):
    """Raw pixels in [0, 255] -> logits: scale, normalise, then the MLP."""

    def __init__(self, mlp: nn.Module, mean: float, std: float) -> None:
        super().__init__()
        self.mlp = mlp
        self.register_buffer("mean", torch.tensor(mean))
        self.register_buffer("std", torch.tensor(std))

    def forward(self, raw: torch.Tensor) -> torch.Tensor:
        x = raw.float().div(255).sub(self.mean).div(self.std)
        return self.mlp(x.reshape(-1, 1, 28, 28))


Path("checkpoints").mkdir(exist_ok=True)
weights_path = Path("checkpoints") / "mnist_classifier.pt"
torch.save(DigitClassifier(model, mean, std).state_dict(), weights_path)
reloaded = DigitClassifier(make_mlp(), mean=0.0, std=1.0).to(device)
reloaded.load_state_dict(torch.load(weights_path))  # statistics come from the file
reloaded.eval()
print(f"statistics loaded back: mean {reloaded.mean:.4f}, std {reloaded.std:.4f}")

index = wrong[-1].item() if len(wrong) else 0  # the least confident mistake
raw_image = test_set.data[index]  # (28, 28) uint8, straight from the dataset
with torch.no_grad():
    probs = torch.softmax(reloaded(raw_image.to(device)), dim=1)[0].cpu()
print(
    f"test image {index}: true {actual[index].item()}, predicted "
    f"{probs.argmax().item()} "
    f"(same as before reloading: "
    f"{torch.allclose(probs, probabilities[index], atol=1e-5)})"
)
top2 = probs.topk(2)
print(
    f"two most likely digits: {top2.indices[0].item()} (p = {top2.values[0]:.2f}), "
    f"{top2.indices[1].item()} (p = {top2.values[1]:.2f})"
)

fig, (ax_img, ax_bar) = plt.subplots(
    1, 2, figsize=(9, 3.2), gridspec_kw={"width_ratios": [1, 2.5]}
)
ax_img.imshow(test_set.data[index], cmap="gray_r")
ax_img.set_title(f"test image {index} (true {actual[index].item()})")
ax_img.axis("off")
ax_bar.bar(range(10), probs)
ax_bar.set_xticks(range(10))
ax_bar.set_xlabel("digit")
ax_bar.set_ylabel("probability")
ax_bar.set_title("What the reloaded model believes")
fig.tight_layout()
plt.show()

# %%
# The MLP ignores the fact that an image is a grid of neighbouring pixels.
# Next, [Day 11](day11_conv_pooling.ipynb) introduces convolution and pooling
# layers, which use exactly that structure.
