"""
# Day 6 · The complete training workflow (完整訓練流程整合)

Every model you will train in this course, from a two-layer network to a
Transformer, is trained by the same five steps: data, model, loss, optimiser
and a loop that repeats forward, loss, `zero_grad`, `backward` and `step`.
Today you write those steps out by hand, twice: once to fit a curve
(regression) and once to separate three spiral arms (classification). You will
also learn which loss to pick for which task, the mistakes that make a loss
silently wrong, and how SGD, momentum and Adam differ on the same problem.

**You will learn:** the five steps of training · choosing a loss (MSE, L1,
cross-entropy, BCE with logits) · choosing an optimiser (SGD, momentum, Adam) ·
reading a loss curve

**Before you start:** [Day 5](day05_data_loading.ipynb) ·
**Reading time:** about 2 hours
"""

# %%
# ## 1. The five steps
#
# Training a network means finding parameters $\theta$ that make a loss
# $\mathcal{L}(\theta)$ small. PyTorch gives you each ingredient separately and
# leaves the recipe to you:
#
# | Step | What it is | PyTorch |
# | --- | --- | --- |
# | 1. Data | examples, in batches | `Dataset`, `DataLoader` (Day 5) |
# | 2. Model | a function with parameters | `nn.Module` |
# | 3. Loss | how wrong the model is, one number | `nn.MSELoss`, ... |
# | 4. Optimiser | the rule that updates parameters | `optim.SGD`, `optim.Adam` |
# | 5. Loop | forward → loss → `zero_grad` → `backward` → `step` | plain Python |
#
# The loop is plain Python on purpose: you can print, plot, stop early or
# change the learning rate anywhere in it. That freedom is why it pays to
# know every line of it. We start with the usual set-up: imports, a seed so
# that every run prints the same numbers, and one device chosen once
# ([Day 4](day04_gpu.ipynb)).

import math

import matplotlib.pyplot as plt
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import course

course.seed_everything(0)
device = course.choose_device()
print(f"profile: {course.PROFILE}, device: {device}")

# %%
# ## 2. Step 1 · Data: a noisy curve
#
# Our regression problem is a curve a straight line cannot fit:
#
# $$y = \sin(2x) + 0.3\,x + \varepsilon,
#   \qquad \varepsilon \sim \mathcal{N}(0,\, 0.1^2).$$
#
# We draw the inputs uniformly in $[-3, 3]$, keep a separate test set to check
# the model on points it never trained on, and wrap the training tensors in a
# `DataLoader` that shuffles them into mini-batches. Inputs have shape
# `(n, 1)`: one row per example, one column per feature, which is what
# `nn.Linear` expects.

n_train = course.pick(full=512, smoke=128)
n_test = 256
batch_size = 32


def make_curve(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.rand(n, 1) * 6 - 3
    y = torch.sin(2 * x) + 0.3 * x + 0.1 * torch.randn(n, 1)
    return x, y


x_train, y_train = make_curve(n_train)
x_test, y_test = make_curve(n_test)
train_loader = DataLoader(
    TensorDataset(x_train, y_train), batch_size=batch_size, shuffle=True
)
print("x_train", tuple(x_train.shape), "y_train", tuple(y_train.shape))
print("batches per epoch:", len(train_loader))

# %%
# ## 3. Step 2 · Model: a small network
#
# A stack of `Linear` layers with a nonlinearity between them can bend; a
# single `Linear` layer cannot (Day 7 shows this side by side). `Tanh` gives a
# smooth curve. The model is moved to the device once, before the optimiser
# is created, so the optimiser holds the parameters that will actually be
# trained.

regressor = nn.Sequential(
    nn.Linear(1, 32),
    nn.Tanh(),
    nn.Linear(32, 32),
    nn.Tanh(),
    nn.Linear(32, 1),
).to(device)
n_params = sum(p.numel() for p in regressor.parameters())
print(regressor)
print(f"{n_params} trainable parameters")

# %%
# ## 4. Step 3 · Loss: how wrong is the model?
#
# For regression the two standard choices are the mean squared error and the
# mean absolute error:
#
# $$\text{MSE} = \frac{1}{n}\sum_i (\hat{y}_i - y_i)^2, \qquad
#   \text{L1} = \frac{1}{n}\sum_i |\hat{y}_i - y_i|.$$
#
# MSE squares the errors, so one large error dominates it; L1 grows only
# linearly and shrugs off outliers more. Here is the same set of predictions
# scored both ways, first with small errors, then with one outlier target.

mse = nn.MSELoss()
l1 = nn.L1Loss()
prediction = torch.tensor([1.0, 2.0, 3.0, 4.0])
target = torch.tensor([1.1, 1.9, 3.2, 4.0])
target_outlier = torch.tensor([1.1, 1.9, 3.2, 14.0])
print(
    f"small errors : MSE {mse(prediction, target):.3f}   "
    f"L1 {l1(prediction, target):.3f}"
)
print(
    f"one outlier  : MSE {mse(prediction, target_outlier):.3f}   "
    f"L1 {l1(prediction, target_outlier):.3f}"
)

# %%
# The first common mistake with a regression loss raises no error at all.
# If the model returns shape `(n, 1)` but the targets have shape `(n,)`,
# broadcasting ([Day 2](day02_tensors.ipynb)) turns the difference into an
# `(n, n)` matrix: every prediction is compared with *every* target. PyTorch
# only warns; we catch the warning and print it, then compare the two losses.

import warnings

out = regressor(x_train[:8].to(device))
flat_targets = y_train[:8].squeeze(1).to(device)  # shape (8,) instead of (8, 1)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    wrong = mse(out, flat_targets)
print("Expected warning:", type(caught[0].message).__name__, "-", caught[0].message)
right = mse(out, flat_targets.unsqueeze(1))
print(f"loss with mismatched shapes: {wrong.item():.4f}")
print(f"loss with matching shapes:   {right.item():.4f}")

# %%
# The two numbers differ, and only the second is the loss we meant. Worse,
# minimising the first one compares every prediction with the mean of *all*
# targets, so the network learns to output a constant. Whenever a loss warns
# about sizes, fix the shapes (`unsqueeze(1)` or `squeeze(1)`) before training.

# %%
# ## 5. Step 4 · Optimiser: the update rule
#
# The optimiser owns a list of parameters and changes them using their
# `.grad`. Plain stochastic gradient descent (SGD) takes a step of size
# `lr` (the learning rate) against the gradient:
#
# $$\theta \leftarrow \theta - \eta\, \nabla_\theta \mathcal{L}.$$
#
# To see that `optimizer.step()` is nothing more than this, we take one step
# on a copy of the model and compare it with the formula applied by hand.

import copy

lr = 0.05
probe = copy.deepcopy(regressor)
probe_optimizer = torch.optim.SGD(probe.parameters(), lr=lr)
loss = mse(probe(x_train.to(device)), y_train.to(device))
loss.backward()
expected = [p.detach() - lr * p.grad for p in probe.parameters()]
probe_optimizer.step()
same = all(
    torch.allclose(p, e) for p, e in zip(probe.parameters(), expected, strict=True)
)
print(f"optimizer.step() == theta - lr * grad for every parameter: {same}")

# %%
# ## 6. Step 5 · The loop
#
# Now the five steps come together. For every mini-batch:
#
# 1. **forward**: `pred = model(x)` builds the autograd graph
#    ([Day 3](day03_autograd.ipynb));
# 2. **loss**: `loss = loss_fn(pred, y)`, one number;
# 3. **`optimizer.zero_grad()`**: gradients *accumulate* in `.grad`, so last
#    batch's gradients must be cleared before this batch's are computed;
# 4. **`loss.backward()`**: fills every parameter's `.grad`;
# 5. **`optimizer.step()`**: updates the parameters with those gradients.
#
# We record the mean training loss of each epoch (a full pass over the
# data), weighting each batch by its size so the last, smaller batch counts
# fairly. The model is in training mode (`model.train()`), which matters
# once layers such as Dropout appear in Day 7.
#
# The optimiser is SGD with **momentum**. Plain SGD steps along the current
# batch's gradient $g$ alone; with momentum it keeps a running velocity,
# $v \leftarrow \mu v + g$, and steps $\theta \leftarrow \theta - \eta v$.
# Gradients that point the same way from batch to batch add up (for a steady
# gradient, to steps $1/(1 - \mu)$ times as large: ten times for the usual
# $\mu = 0.9$), while components that flip sign cancel, which damps zig-zags
# and the noise of mini-batches. Section 10 compares it with plain SGD.

epochs = course.pick(full=150, smoke=10)
optimizer = torch.optim.SGD(regressor.parameters(), lr=lr, momentum=0.9)
loss_fn = mse

regression_losses = []
for epoch in range(1, epochs + 1):
    regressor.train()
    total = 0.0
    for x, y in train_loader:
        x, y = x.to(device), y.to(device)
        pred = regressor(x)  # 1. forward
        loss = loss_fn(pred, y)  # 2. loss
        optimizer.zero_grad()  # 3. clear old gradients
        loss.backward()  # 4. backward
        optimizer.step()  # 5. update
        total += loss.item() * len(x)
    regression_losses.append(total / len(train_loader.dataset))
    if epoch == 1 or epoch % max(1, epochs // 5) == 0:
        print(f"epoch {epoch:3d}  train MSE {regression_losses[-1]:.4f}")

# %%
# A loss curve tells you whether training worked. A healthy one falls fast,
# then flattens. On a logarithmic axis the late, small improvements stay
# visible. The noise we added has variance $0.1^2 = 0.01$, so no model can
# push the MSE on fresh data much below that line: it is drawn for reference.

fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(range(1, epochs + 1), regression_losses, label="training MSE")
ax.axhline(
    0.1**2, color="gray", linestyle="--", label="noise variance (best possible)"
)
ax.set_yscale("log")
ax.set_title("Regression: training loss per epoch")
ax.set_xlabel("epoch")
ax.set_ylabel("mean squared error (log scale)")
ax.legend()
ax.grid(True, alpha=0.3)
plt.show()

# %%
# The real test is data the model never saw. We evaluate in evaluation mode
# and under `torch.no_grad()`: no graph is built, which saves memory and time
# (Day 8 makes this a habit).

regressor.eval()
with torch.no_grad():
    test_mse = mse(regressor(x_test.to(device)), y_test.to(device)).item()
print(f"final training MSE {regression_losses[-1]:.4f}, test MSE {test_mse:.4f}")

# %%
# And the fitted curve over the data:

grid = torch.linspace(-3, 3, 300).unsqueeze(1)
with torch.no_grad():
    fitted = regressor(grid.to(device)).cpu()
fig, ax = plt.subplots(figsize=(6, 4))
ax.scatter(
    x_train.squeeze(1), y_train.squeeze(1), s=6, alpha=0.4, label="training data"
)
ax.plot(
    grid.squeeze(1),
    torch.sin(2 * grid.squeeze(1)) + 0.3 * grid.squeeze(1),
    "k--",
    label="true curve",
)
ax.plot(
    grid.squeeze(1), fitted.squeeze(1), color="C3", linewidth=2, label="network"
)
ax.set_title("Regression: the trained network against the data")
ax.set_xlabel("x")
ax.set_ylabel("y")
ax.legend()
plt.show()

# %%
# ## 7. Classification: three spiral arms
#
# Classification changes two of the five steps: the model outputs one score
# per class, and the loss compares those scores with an integer label. The
# loop itself does not change at all.
#
# Our data are three interleaved spiral arms in the plane (a classic toy
# problem from Stanford's CS231n): a point's class depends on which arm it
# lies on, which no straight line can decide.
#
# This time we draw three sets. The training set is for learning. The
# **validation** set is the one we look at after every epoch and use to
# compare optimisers in section 10: it guides our choices, so it stops being
# an unbiased judge of them. The **test** set is touched once, at the end of
# this section, for the final number. (The regression test set above was also
# used once; [Day 8](day08_train_validate.ipynb) makes this split a habit.)

n_per_class = course.pick(full=200, smoke=60)
n_classes = 3


def make_spiral(n_per_class: int, n_classes: int = 3, noise: float = 0.3):
    points, labels = [], []
    for k in range(n_classes):
        radius = torch.linspace(0.05, 1.0, n_per_class)
        angle = torch.linspace(4.0 * k, 4.0 * (k + 1), n_per_class)
        angle = angle + noise * torch.randn(n_per_class)
        points.append(
            torch.stack(
                [radius * torch.sin(angle), radius * torch.cos(angle)], dim=1
            )
        )
        labels.append(torch.full((n_per_class,), k, dtype=torch.long))
    return torch.cat(points), torch.cat(labels)


X_spiral, y_spiral = make_spiral(n_per_class, n_classes)
X_spiral_val, y_spiral_val = make_spiral(n_per_class // 2, n_classes)
X_spiral_test, y_spiral_test = make_spiral(n_per_class // 2, n_classes)
spiral_loader = DataLoader(
    TensorDataset(X_spiral, y_spiral), batch_size=32, shuffle=True
)
spiral_val_loader = DataLoader(
    TensorDataset(X_spiral_val, y_spiral_val), batch_size=256
)
print("X", tuple(X_spiral.shape), X_spiral.dtype)
print("y", tuple(y_spiral.shape), y_spiral.dtype)
print("points per class:", torch.bincount(y_spiral).tolist())

# %%

fig, ax = plt.subplots(figsize=(5, 4.5))
for k in range(n_classes):
    chosen = y_spiral == k
    ax.scatter(X_spiral[chosen, 0], X_spiral[chosen, 1], s=10, label=f"class {k}")
ax.set_title("Three spiral arms (training set)")
ax.set_xlabel("$x_1$")
ax.set_ylabel("$x_2$")
ax.set_aspect("equal")
ax.legend()
plt.show()

# %%
# ### Logits and cross-entropy
#
# The model's last layer has `n_classes` outputs with no activation after it.
# These raw scores $z$ are called **logits**. `nn.CrossEntropyLoss` turns them
# into probabilities with a softmax and takes the negative log-probability of
# the true class $c$, in one numerically stable operation:
#
# $$\mathcal{L} = -\log \frac{e^{z_c}}{\sum_j e^{z_j}}
#   = -z_c + \log \sum_j e^{z_j}.$$
#
# Its targets are class indices: integers of dtype `torch.long`, shape `(n,)`.
#
# The log is the natural logarithm, so cross-entropy is measured in **nats**
# (natural-log units; with $\log_2$ the same quantity would be in bits). A
# model that spreads its probability evenly over $K$ classes scores
# $\ln K$ nats on every example, whatever the label: the baseline to read
# every loss value of this section against.


def make_classifier() -> nn.Module:
    return nn.Sequential(
        nn.Linear(2, 64),
        nn.ReLU(),
        nn.Linear(64, 64),
        nn.ReLU(),
        nn.Linear(64, n_classes),  # logits: no softmax here
    )


classifier = make_classifier().to(device)
ce_loss = nn.CrossEntropyLoss()
with torch.no_grad():
    logits = classifier(X_spiral[:4].to(device))
print("logits for 4 points:\n", logits.cpu())
untrained_loss = ce_loss(logits, y_spiral[:4].to(device)).item()
uniform_loss = math.log(n_classes)
print(f"cross-entropy of the untrained model: {untrained_loss:.4f} nats")
print(f"ln(n_classes) = {uniform_loss:.4f} nats (a uniform guess)")

# %%
# An untrained network guesses roughly uniformly, so its cross-entropy starts
# near $\ln 3$, printed above. That is a useful sanity check: a starting loss
# far from it usually means a bug in the data or the model.
#
# ### The loop, packaged as a function
#
# The classification loop is the regression loop, word for word. So that we
# can run it again below with other optimisers, we wrap one epoch in a
# function, `train_epoch`, and write its partner `evaluate_loss`: the mean loss
# over a loader in evaluation mode, without gradients (`model.eval()` and
# `torch.no_grad()` are explained properly on Day 8; here they only mean "do
# not train"). From Day 7 on, the course imports these two functions, under
# the same names, from its helper package (`course.train`) instead of
# repeating them.


def train_epoch(model, loader, loss_fn, optimizer, device=None) -> float:
    """One pass over `loader` in training mode; the mean loss per example."""
    model.train()
    total, count = 0.0, 0
    for inputs, targets in loader:
        if device is not None:
            inputs, targets = inputs.to(device), targets.to(device)
        loss = loss_fn(model(inputs), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * len(inputs)
        count += len(inputs)
    if count == 0:
        raise ValueError("the loader yielded no batches")
    return total / count


def evaluate_loss(model, loader, loss_fn, device=None) -> float:
    """The mean loss per example over `loader`, without training."""
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for inputs, targets in loader:
            if device is not None:
                inputs, targets = inputs.to(device), targets.to(device)
            total += loss_fn(model(inputs), targets).item() * len(inputs)
            count += len(inputs)
    model.train(was_training)
    if count == 0:
        raise ValueError("the loader yielded no batches")
    return total / count


def accuracy(model, X, y) -> float:
    """Fraction of points whose largest logit is the true class."""
    model.eval()
    with torch.no_grad():
        predicted = model(X.to(device)).argmax(dim=1).cpu()
    return (predicted == y).float().mean().item()


# %%
# We train with Adam, an optimiser that adapts the step size of each parameter
# (section 10 compares it with SGD), and keep the training loss, the
# validation loss and the validation accuracy of each epoch.

class_epochs = course.pick(full=60, smoke=8)
optimizer = torch.optim.Adam(classifier.parameters(), lr=0.01)
class_losses, val_losses, val_accuracies = [], [], []
for epoch in range(1, class_epochs + 1):
    class_losses.append(
        train_epoch(classifier, spiral_loader, ce_loss, optimizer, device)
    )
    val_losses.append(evaluate_loss(classifier, spiral_val_loader, ce_loss, device))
    val_accuracies.append(accuracy(classifier, X_spiral_val, y_spiral_val))
    if epoch == 1 or epoch % max(1, class_epochs // 5) == 0:
        print(
            f"epoch {epoch:3d}  train loss {class_losses[-1]:.4f} nats  "
            f"validation loss {val_losses[-1]:.4f} nats  "
            f"accuracy {val_accuracies[-1]:.1%}"
        )
train_acc = accuracy(classifier, X_spiral, y_spiral)
print(f"final: train accuracy {train_acc:.1%}, validation {val_accuracies[-1]:.1%}")

# %%
# The loss and the accuracy tell the same story from two sides: the loss is
# what the optimiser minimises (smooth, differentiable), the accuracy is what
# we care about (a step function of the logits, useless for gradients).

fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.8))
ax_loss.plot(range(1, class_epochs + 1), class_losses, label="training")
ax_loss.plot(range(1, class_epochs + 1), val_losses, label="validation")
ax_loss.legend()
ax_loss.set_title("Spiral: loss per epoch")
ax_loss.set_xlabel("epoch")
ax_loss.set_ylabel("cross-entropy (nats)")
ax_loss.grid(True, alpha=0.3)
ax_acc.plot(
    range(1, class_epochs + 1), [100 * a for a in val_accuracies], color="C2"
)
ax_acc.axhline(100 / n_classes, color="gray", linestyle="--", label="chance")
ax_acc.set_title("Spiral: validation accuracy per epoch")
ax_acc.set_xlabel("epoch")
ax_acc.set_ylabel("accuracy (%)")
ax_acc.legend()
ax_acc.grid(True, alpha=0.3)
plt.show()

# %%
# To *see* what the classifier learned, evaluate it on a dense grid of points
# and colour each grid point by its predicted class: the edges between the
# colours are the **decision boundary**. (`course.plots.plot_decision_boundary`
# packages these lines for Day 7 and later; `course.plots.plot_curves` does the
# same for loss curves.)

xx, yy = torch.meshgrid(
    torch.linspace(-1.2, 1.2, 200), torch.linspace(-1.2, 1.2, 200), indexing="xy"
)
grid_points = torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1)
classifier.eval()
with torch.no_grad():
    grid_classes = (
        classifier(grid_points.to(device)).argmax(dim=1).cpu().reshape(xx.shape)
    )

fig, ax = plt.subplots(figsize=(5, 4.5))
ax.contourf(
    xx,
    yy,
    grid_classes,
    levels=[-0.5, 0.5, 1.5, 2.5],
    colors=["C0", "C1", "C2"],
    alpha=0.25,
)
for k in range(n_classes):
    chosen = y_spiral_val == k
    ax.scatter(
        X_spiral_val[chosen, 0],
        X_spiral_val[chosen, 1],
        s=10,
        color=f"C{k}",
        edgecolors="k",
        linewidths=0.3,
        label=f"class {k} (validation)",
    )
ax.set_title("Spiral: decision regions of the trained network")
ax.set_xlabel("$x_1$")
ax.set_ylabel("$x_2$")
ax.set_aspect("equal")
ax.legend(fontsize="small")
plt.show()

# %%
# Training is over and nothing more will be chosen for this classifier, so now,
# once, the test set:

test_acc = accuracy(classifier, X_spiral_test, y_spiral_test)
print(f"test accuracy (the test set's only use): {test_acc:.1%}")
print(f"validation accuracy, for comparison:     {val_accuracies[-1]:.1%}")

# %%
# ## 8. Common mistakes with classification losses
#
# ### Softmax before `CrossEntropyLoss`
#
# Because `CrossEntropyLoss` already applies a (log-)softmax, adding
# `nn.Softmax` at the end of the model applies it twice. Nothing crashes, but
# the loss can no longer reach zero: the probabilities, in $[0, 1]$, are
# treated as logits, whose softmax is never confident. Here are two perfectly
# confident, correct predictions scored both ways.

confident_logits = torch.tensor([[12.0, 0.0, 0.0], [0.0, 12.0, 0.0]])
labels = torch.tensor([0, 1])
print(
    f"CrossEntropyLoss(logits)          = {ce_loss(confident_logits, labels):.6f}"
)
double_softmax = ce_loss(confident_logits.softmax(dim=1), labels)
print(f"CrossEntropyLoss(softmax(logits)) = {double_softmax:.6f}")

# %%
# The second value is the floor that the doubly-softmaxed model can never
# get below, however good it is, and its gradients shrink long before then,
# so it also learns more slowly.
#
# ### Wrong target dtype or shape
#
# Class labels must be integers (`torch.long`) of shape `(n,)`. Labels that
# were read as floats, or kept as a column of shape `(n, 1)`, fail loudly,
# which is the good kind of mistake. Read both messages: they are the ones you
# will meet in practice.

some_logits = classifier(X_spiral[:4].to(device))
float_labels = y_spiral[:4].float().to(device)
try:
    ce_loss(some_logits, float_labels)
except RuntimeError as err:
    print("Expected error:", type(err).__name__, "-", err)

column_labels = y_spiral[:4].unsqueeze(1).to(device)
try:
    ce_loss(some_logits, column_labels)
except RuntimeError as err:
    print("Expected error:", type(err).__name__, "-", err)

fixed_dtype = ce_loss(some_logits, float_labels.long())
fixed_shape = ce_loss(some_logits, column_labels.squeeze(1))
print(f"fixed with .long(): {fixed_dtype:.4f}")
print(f"fixed with .squeeze(1): {fixed_shape:.4f}")

# %%
# ### Two classes: `BCEWithLogitsLoss`
#
# With two classes you can use one logit $z$ per example instead of two, with
# $p = \sigma(z)$ the probability of class 1. The matching loss is
# `nn.BCEWithLogitsLoss`, which fuses the sigmoid with binary cross-entropy.
# Its targets are *floats* (0.0 or 1.0) with the *same shape* as the logits.

bce_logits = nn.BCEWithLogitsLoss()
binary_logits = torch.tensor([2.0, -1.0, 0.5])
binary_targets = torch.tensor([1.0, 0.0, 1.0])
print(f"BCEWithLogitsLoss: {bce_logits(binary_logits, binary_targets):.4f}")
try:
    bce_logits(binary_logits, binary_targets.long())
except RuntimeError as err:
    print("Expected error:", type(err).__name__, "-", err)

# %%
# Why not `torch.sigmoid` followed by `nn.BCELoss`? For a very wrong and very
# confident prediction, the sigmoid rounds to exactly 1.0 in float32, the log
# of $1 - 1 = 0$ is $-\infty$, and `BCELoss` has to clamp it. The fused version
# works with $z$ directly and returns the exact value, $z$ itself here.

z = torch.tensor([200.0])  # "certainly class 1" ...
wrong_target = torch.tensor([0.0])  # ... but it is class 0
print(f"BCEWithLogitsLoss(z)     = {bce_logits(z, wrong_target).item():.1f}")
clamped = nn.BCELoss()(torch.sigmoid(z), wrong_target).item()
print(f"BCELoss(sigmoid(z))      = {clamped:.1f}")

# %%
# **Rule of thumb.** The model returns raw logits; the loss applies the
# softmax or sigmoid. Apply `softmax`/`sigmoid` yourself only *after*
# training, when you want probabilities to show.
#
# ## 9. Choosing a loss
#
# | Task | Model output | Target | Loss |
# | --- | --- | --- | --- |
# | regression | `(n, 1)` float | `(n, 1)` float | `MSELoss`; `L1Loss` if outliers |
# | $K$ classes, one each | `(n, K)` logits | `(n,)` long | `CrossEntropyLoss` |
# | 2 classes | `(n,)` logits | `(n,)` float | `BCEWithLogitsLoss` |
# | $m$ yes/no flags | `(n, m)` logits | `(n, m)` float | `BCEWithLogitsLoss` |
#
# ## 10. Choosing an optimiser
#
# All optimisers in `torch.optim` share the interface you used above
# (`zero_grad`, `step`); they differ in the update rule:
#
# - **SGD**: $\theta \leftarrow \theta - \eta\, g$. Simple and well understood,
#   but slow in long, narrow valleys of the loss, and sensitive to $\eta$.
# - **SGD with momentum** (section 6): keeps a running velocity
#   $v \leftarrow \mu v + g$, $\theta \leftarrow \theta - \eta v$, so steps
#   that agree add up and zig-zags cancel. $\mu = 0.9$ is the usual choice.
#   For a steady gradient the step grows to $\eta / (1 - \mu)$, the
#   **effective step**: ten times $\eta$ for $\mu = 0.9$.
# - **Adam**: also scales each parameter's step by a running estimate of its
#   gradient's size, so every parameter moves at a similar rate. It works well
#   with its default-ish $\eta = 10^{-3}$ to $10^{-2}$ on most problems with
#   little tuning, which makes it the usual first choice.
#
# A fair comparison starts every optimiser from the *same* initial weights
# and sees the same batches, so we fix both with a seed. Each gets a learning
# rate typical for it; the lesson is the shape of the curves, not a ranking for
# every problem.
#
# The effective step makes one comparison unfair: momentum 0.9 at `lr=0.1`
# moves up to ten times as far per step as plain SGD at `lr=0.1`. So momentum
# also runs at `lr=0.01`, whose effective step, $0.01 / (1 - 0.9) = 0.1$,
# matches plain SGD's. That pair tells whether momentum itself helps here.

compare_epochs = course.pick(full=60, smoke=5)
SGD_PLAIN, MOMENTUM_SAME_STEP = "SGD (lr=0.1)", "SGD + momentum 0.9 (lr=0.01)"
MOMENTUM_BIG_STEP = "SGD + momentum 0.9 (lr=0.1)"
optimisers = {
    SGD_PLAIN: lambda params: torch.optim.SGD(params, lr=0.1),
    MOMENTUM_SAME_STEP: lambda params: torch.optim.SGD(
        params, lr=0.01, momentum=0.9
    ),
    MOMENTUM_BIG_STEP: lambda params: torch.optim.SGD(params, lr=0.1, momentum=0.9),
    "Adam (lr=0.01)": lambda params: torch.optim.Adam(params, lr=0.01),
}
curves = {}
for name, make_optimizer in optimisers.items():
    course.seed_everything(1)  # same initial weights and same shuffling for each
    model = make_classifier().to(device)
    opt = make_optimizer(model.parameters())
    curves[name] = [
        train_epoch(model, spiral_loader, ce_loss, opt, device)
        for _ in range(compare_epochs)
    ]
    print(
        f"{name:28s} final loss {curves[name][-1]:.4f}   "
        f"validation accuracy {accuracy(model, X_spiral_val, y_spiral_val):.1%}"
    )

# %%

fig, ax = plt.subplots(figsize=(6, 4))
for name, values in curves.items():
    ax.plot(range(1, compare_epochs + 1), values, label=name)
ax.set_title("Spiral: the same model trained by four optimisers")
ax.set_xlabel("epoch")
ax.set_ylabel("training cross-entropy (nats)")
ax.legend()
ax.grid(True, alpha=0.3)
plt.show()

best = min(curves, key=lambda name: curves[name][-1])
worst = max(curves, key=lambda name: curves[name][-1])
print(
    f"After {compare_epochs} epochs the lowest training loss came from {best} "
    f"({curves[best][-1]:.4f}), the highest from {worst} ({curves[worst][-1]:.4f})."
)


def compare(a: str, b: str) -> str:
    """One sentence comparing the final training losses of two runs."""
    loss_a, loss_b = curves[a][-1], curves[b][-1]
    if abs(loss_a - loss_b) <= 0.2 * max(loss_a, loss_b):
        return (
            f"{a} and {b} end within 20 % of each other "
            f"({loss_a:.4f} vs {loss_b:.4f})"
        )
    lower, higher = (a, b) if loss_a < loss_b else (b, a)
    return (
        f"{lower} ends lower than {higher} "
        f"({curves[lower][-1]:.4f} vs {curves[higher][-1]:.4f})"
    )


print(f"Same effective step: {compare(MOMENTUM_SAME_STEP, SGD_PLAIN)}.")
print(f"Ten times the effective step: {compare(MOMENTUM_BIG_STEP, SGD_PLAIN)}.")
same_step, plain = curves[MOMENTUM_SAME_STEP][-1], curves[SGD_PLAIN][-1]
big_step = curves[MOMENTUM_BIG_STEP][-1]
same_close = abs(same_step - plain) <= 0.2 * max(same_step, plain)
if same_close and big_step < 0.8 * plain:
    print(
        "So the speed-up of momentum at lr=0.1 on this problem comes from its "
        "larger effective step, not from momentum itself."
    )
elif same_close:
    print("At the same effective step, momentum ends where plain SGD does.")
elif same_step < plain:
    print("Momentum helped here even at the same effective step.")
else:
    print("At the same effective step, momentum did worse than plain SGD here.")

# %%
# This is one seed, so a small difference between two runs settles nothing;
# what carries over is the habit. Before crediting an optimiser, compare at
# matched effective steps, or give each one its own tuned learning rate. What
# momentum changes at a given effective step is how each step is made: the
# velocity averages the noisy mini-batch gradients instead of following each
# one.

# %%
# ## 11. Summary
#
# - Training is five steps: **data** (a `DataLoader`), **model** (an
#   `nn.Module` on the chosen device), **loss**, **optimiser** (given the model's
#   parameters), and a **loop** of forward → loss → `zero_grad` → `backward` →
#   `step`, once per mini-batch.
# - A loss curve that falls fast and then flattens means training works; a
#   held-out set tells you whether the model also works on new data.
# - Regression: `MSELoss` (or `L1Loss` against outliers), with prediction and
#   target of the *same shape*. Classification: raw logits into
#   `CrossEntropyLoss` with `long` labels; two classes: one logit into
#   `BCEWithLogitsLoss` with float targets. Never softmax before the loss.
# - SGD is the baseline. Momentum keeps a velocity, which multiplies the
#   effective step by $1/(1-\mu)$: compare it with SGD at the same effective
#   step before crediting it. Adam is the robust first try.
# - `train_epoch` and `evaluate_loss` are the loop and its check on held-out
#   data; from Day 7 on they come from `course.train` under the same names,
#   and `course.plots` draws the plots made here by hand.
#
# ## 12. Exercises
#
# 1. **Too large a learning rate.** Train a fresh copy of the regression model
#    with the optimiser of section 6 (SGD, momentum 0.9) at `lr=1.0` instead of
#    `0.05` for a few epochs. What happens to the loss?
# 2. **Forgetting `zero_grad`.** Remove `optimizer.zero_grad()` from the loop
#    and train the regression model with plain SGD (`lr=0.05`, no momentum)
#    for ten epochs. Compare the losses with the correct loop from the same
#    start.
# 3. **Two classes with one logit.** Keep only spiral arms 0 and 1, build a
#    model with a single output, train it with `BCEWithLogitsLoss`, and print
#    its validation accuracy (predict class 1 where the logit is positive).

# %%
# **Solution 1.** Each step overshoots the minimum by more than it corrects,
# so the loss grows instead of falling, quickly reaching huge values or
# `nan`. We print the loss after each epoch and stop as soon as it is not
# finite.


def fresh_regressor() -> nn.Module:
    return nn.Sequential(
        nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 1)
    ).to(device)


def train_regressor(model, optimizer, epochs, zero_grad=True) -> list[float]:
    losses = []
    for _ in range(epochs):
        model.train()
        total = 0.0
        for x, y in train_loader:
            x, y = x.to(device), y.to(device)
            loss = mse(model(x), y)
            if zero_grad:
                optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(x)
        losses.append(total / len(train_loader.dataset))
        if not torch.isfinite(torch.tensor(losses[-1])):
            break
    return losses


for lr_try in (0.05, 1.0):
    course.seed_everything(0)
    model = fresh_regressor()
    losses = train_regressor(
        model,
        torch.optim.SGD(model.parameters(), lr=lr_try, momentum=0.9),
        epochs=5,
    )
    print(f"lr={lr_try}: " + ", ".join(f"{v:.3g}" for v in losses))

# %%
# **Solution 2.** Without `zero_grad`, each `backward()` *adds* to the
# gradients of all previous batches, so every step follows the sum of every
# gradient seen so far. For the first few steps that sum behaves like a very
# strong momentum and can even look helpful; but it never forgets, so near
# the minimum the steps keep growing, overshoot, and the loss climbs again.

final_losses = {}
for zero_grad in (True, False):
    course.seed_everything(0)
    model = fresh_regressor()
    losses = train_regressor(
        model,
        torch.optim.SGD(model.parameters(), lr=0.05),
        epochs=10,
        zero_grad=zero_grad,
    )
    final_losses[zero_grad] = losses[-1]
    print(f"zero_grad={zero_grad!s:5}: " + ", ".join(f"{v:.3g}" for v in losses))
ratio = final_losses[False] / final_losses[True]
print(f"final loss without zero_grad / with it, after 10 epochs: {ratio:.1f}x")

# %%
# **Solution 3.** The model ends in `nn.Linear(64, 1)`; we flatten its output
# to shape `(n,)` so that it matches float targets of the same shape.

course.seed_everything(0)
keep = y_spiral < 2
keep_val = y_spiral_val < 2
binary_loader = DataLoader(
    TensorDataset(X_spiral[keep], y_spiral[keep].float()),
    batch_size=32,
    shuffle=True,
)
binary_model = nn.Sequential(
    nn.Linear(2, 64),
    nn.ReLU(),
    nn.Linear(64, 64),
    nn.ReLU(),
    nn.Linear(64, 1),
    nn.Flatten(0),
).to(device)
binary_optimizer = torch.optim.Adam(binary_model.parameters(), lr=0.01)
for _ in range(class_epochs):
    binary_loss = train_epoch(
        binary_model, binary_loader, bce_logits, binary_optimizer, device
    )
binary_model.eval()
with torch.no_grad():
    val_logits = binary_model(X_spiral_val[keep_val].to(device)).cpu()
binary_acc = (
    ((val_logits > 0).long() == y_spiral_val[keep_val]).float().mean().item()
)
print(f"final training loss {binary_loss:.4f} nats")
print(f"validation accuracy on arms 0 and 1: {binary_acc:.1%}")

# %%
# Next: [Day 7](day07_overfitting.ipynb) compares a linear model with a network
# on nonlinear data, and shows how to recognise and control overfitting.
