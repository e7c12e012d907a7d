"""
# Day 7 · Nonlinear data and controlling overfitting (非線性資料建模與過擬合控制)

A linear model can only draw straight boundaries; a small network (an MLP)
can bend them. But the same flexibility lets a big network memorise the noise
in a small training set, and then it does worse on new data: that is
**overfitting**. In this lesson you compare a linear model with an MLP on data
no straight line can separate, learn to *see* overfitting in the gap between
training and validation curves, and control it with two standard tools:
Dropout and L2 regularisation (`weight_decay`). The run ends with a table of
all the variants, measured side by side.

**You will learn:** why hidden layers and nonlinearities matter · drawing a
decision boundary · recognising overfitting from train vs validation curves ·
Dropout · L2 regularisation with `weight_decay` · comparing variants fairly

**Before you start:** [Day 6](day06_training_workflow.ipynb) ·
**Reading time:** about 2 hours
"""

# %%
# ## 1. Set-up
#
# The training loop is the one you wrote by hand in
# [Day 6](day06_training_workflow.ipynb); from now on we import it from the
# course's helper package: `train_epoch` runs one epoch and returns the mean
# training loss, and `evaluate_loss` returns the mean loss over a loader in
# evaluation mode, without gradients. `plot_decision_boundary` and
# `plot_curves` package the two plots Day 6 drew by hand.

import math

import matplotlib.pyplot as plt
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import course
from course.plots import plot_curves, plot_decision_boundary
from course.train import evaluate_loss, train_epoch

course.seed_everything(0)
device = course.choose_device()
print(f"profile: {course.PROFILE}, device: {device}")

# %%
# ## 2. Data no straight line can separate
#
# Two concentric rings: class 0 on a circle of radius 1, class 1 on a circle of
# radius 0.5, each point pushed off its circle by Gaussian noise. Whether a
# point belongs to the inner ring depends on its distance from the centre,
# $\sqrt{x_1^2 + x_2^2}$, which is not a linear function of $x_1$ and $x_2$.
#
# We generate the data with PyTorch alone, so every run (and every reader) gets
# the same points from the seed. A large validation set drawn from the same
# distribution tells us how the model does on points it never trained on.


def make_circles(n: int, noise: float, inner_radius: float = 0.5):
    """`n` points on two noisy concentric circles; label 1 means the inner one."""
    n_outer = n // 2
    angle = torch.rand(n) * 2 * math.pi
    radius = torch.cat(
        [torch.ones(n_outer), torch.full((n - n_outer,), inner_radius)]
    )
    X = torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], dim=1)
    X = X + noise * torch.randn(n, 2)
    y = torch.cat([torch.zeros(n_outer), torch.ones(n - n_outer)]).long()
    return X.to(device), y.to(device)


n_train = course.pick(full=400, smoke=100)
n_val = course.pick(full=1000, smoke=200)
X_train, y_train = make_circles(n_train, noise=0.15)
X_val, y_val = make_circles(n_val, noise=0.15)
print("train", tuple(X_train.shape), "validation", tuple(X_val.shape))
print("class counts (train):", torch.bincount(y_train).tolist())

# %%

fig, ax = plt.subplots(figsize=(5, 4.5))
for k in range(2):
    chosen = (y_train == k).cpu()
    ax.scatter(*X_train.cpu()[chosen].T, s=10, label=f"class {k}")
ax.set_title("Two noisy concentric circles (training set)")
ax.set_xlabel("$x_1$")
ax.set_ylabel("$x_2$")
ax.set_aspect("equal")
ax.legend()
plt.show()

# %%
# ## 3. A linear model against an MLP
#
# The **linear model** maps the two inputs straight to two class scores,
# $z = Wx + b$. Its decision boundary, where the two scores are equal, is the
# set of points with $(w_1 - w_0)^\top x + (b_1 - b_0) = 0$: always a straight
# line, whatever the training does.
#
# The **MLP** (multi-layer perceptron) puts hidden layers with a nonlinearity
# (`ReLU`) in between. Without the nonlinearity, a stack of linear layers would
# collapse into a single linear map and be no better. With it, each hidden unit
# contributes a bend, and enough of them can trace a circle.


def make_linear() -> nn.Module:
    return nn.Linear(2, 2)


def make_mlp(width: int = 32, dropout: float = 0.0) -> nn.Module:
    """Two hidden ReLU layers; optional Dropout after each (section 5)."""
    layers: list[nn.Module] = [nn.Linear(2, width), nn.ReLU()]
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    layers += [nn.Linear(width, width), nn.ReLU()]
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(width, 2))
    return nn.Sequential(*layers)


def n_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


print(f"linear model: {n_parameters(make_linear())} parameters")
print(f"MLP (width 32): {n_parameters(make_mlp(32))} parameters")

# %%
# Both models are trained the same way: Adam, cross-entropy and shuffled
# mini-batches from a `DataLoader`. `fit` records the training and the
# validation loss after every epoch, both measured with `evaluate_loss`, that
# is in evaluation mode over the whole set, so the two curves compare like
# with like (section 5 shows why that matters once Dropout is in the model).
# With `batch_size=None` it trains on the whole training set as one batch: a
# list holding one `(X, y)` pair is all `train_epoch` needs as a "loader".
# `accuracy` is the fraction of points whose larger logit is the true class.

loss_fn = nn.CrossEntropyLoss()


def fit(model, train, val, *, epochs, batch_size=None, lr=0.01, weight_decay=0.0):
    """Train with Adam; return the per-epoch train and validation losses."""
    if batch_size is None:
        loader = [train]
    else:
        loader = DataLoader(
            TensorDataset(*train), batch_size=batch_size, shuffle=True
        )
    optimizer = torch.optim.Adam(
        model.parameters(), lr=lr, weight_decay=weight_decay
    )
    history = {"train": [], "validation": []}
    for _ in range(epochs):
        train_epoch(model, loader, loss_fn, optimizer)
        history["train"].append(evaluate_loss(model, [train], loss_fn))
        history["validation"].append(evaluate_loss(model, [val], loss_fn))
    return history


def accuracy(model, X, y) -> float:
    model.eval()
    with torch.no_grad():
        return (model(X).argmax(dim=1) == y).float().mean().item()


# %%
# Now train both, from the same seed, for the same number of epochs.

epochs = course.pick(full=100, smoke=10)
models, histories = {}, {}
for name, make in [("linear", make_linear), ("MLP", make_mlp)]:
    course.seed_everything(1)
    models[name] = make().to(device)
    histories[name] = fit(
        models[name],
        (X_train, y_train),
        (X_val, y_val),
        epochs=epochs,
        batch_size=32,
    )
    train_acc = accuracy(models[name], X_train, y_train)
    print(
        f"{name:6s}  train accuracy {train_acc:6.1%}   "
        f"validation accuracy {accuracy(models[name], X_val, y_val):6.1%}"
    )

# %%
# The decision boundaries, side by side, show *why* the numbers differ.
# `plot_decision_boundary` colours every point of a fine grid by the class the
# model predicts there, and scatters the validation points on top.

fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
for ax, name in zip(axes, models, strict=True):
    val_acc = accuracy(models[name], X_val, y_val)
    plot_decision_boundary(
        models[name],
        X_val,
        y_val,
        ax=ax,
        title=f"{name}: validation accuracy {val_acc:.1%}",
    )
fig.suptitle("Linear model vs MLP on concentric circles")
fig.tight_layout()
plt.show()

# %%

acc_linear = accuracy(models["linear"], X_val, y_val)
acc_mlp = accuracy(models["MLP"], X_val, y_val)
if acc_mlp > acc_linear:
    print(
        f"The MLP beats the linear model on validation data: {acc_mlp:.1%} vs "
        f"{acc_linear:.1%}, {100 * (acc_mlp - acc_linear):.1f} percentage points."
    )
else:
    print(
        f"With this short a run the MLP ({acc_mlp:.1%}) does not yet beat the "
        f"linear model ({acc_linear:.1%})."
    )

# %%
# How far is the linear model from guessing? The simplest guess always says
# the more frequent class. To compare two accuracies we also need to know how
# much one can move by chance: an accuracy $p$ measured on $n$ points is
# uncertain by about its **standard error** $\sqrt{p(1-p)/n}$, from which
# points happened to be drawn. A difference smaller than two standard errors
# is within that noise, and we do not call it a difference.


def standard_error(accuracy_value: float, n: int) -> float:
    """Standard error of an accuracy measured on `n` independent points."""
    return math.sqrt(accuracy_value * (1 - accuracy_value) / n)


majority = torch.bincount(y_val).max().item() / len(y_val)
noise_band = 2 * standard_error(majority, len(y_val))
if acc_linear < majority - noise_band:
    verdict = "worse than always guessing the more frequent class"
elif acc_linear <= majority + noise_band:
    verdict = "no better than always guessing the more frequent class"
else:
    verdict = "better than always guessing the more frequent class"
print(f"Always guessing the more frequent class scores {majority:.1%}.")
print(
    f"The linear model's {acc_linear:.1%} is {verdict} "
    f"(two standard errors on {len(y_val)} points: {100 * noise_band:.1f} points)."
)

# %%
# The linear model can only cut the plane in two with a straight line, and no
# straight line separates a ring from the ring around it: the verdict above
# says how close to guessing that leaves it. The MLP's curved boundary follows
# the gap between the rings. The lesson generalises: **a linear model
# is limited by its form, not by its training**; more epochs would not help it.
#
# ## 4. Overfitting: when the training loss lies
#
# The MLP above had plenty of data for its size. Now we make overfitting
# happen on purpose, with the three ingredients that cause it in practice:
#
# - a **small** training set (100 points),
# - **noisy inputs** (more noise on the points, so the rings overlap: the
#   labels are exact, but near the boundary a point's position no longer
#   tells its ring),
# - a **big** model (two hidden layers of 128 units) trained **long**.
#
# The validation set stays large, so it measures the true error well.

n_small = 100
noise_small = 0.25
X_small, y_small = make_circles(n_small, noise=noise_small)
X_val_small, y_val_small = make_circles(n_val, noise=noise_small)
small_train, small_val = (X_small, y_small), (X_val_small, y_val_small)
width = 128
long_epochs = course.pick(full=600, smoke=30)
print(f"{n_small} training points, {n_val} validation points, noise {noise_small}")
print(f"big MLP: {n_parameters(make_mlp(width))} parameters, {long_epochs} epochs")

# %%
# With only 100 points the whole training set is one batch (`batch_size=None`).

course.seed_everything(1)
big_mlp = make_mlp(width).to(device)
big_history = fit(big_mlp, small_train, small_val, epochs=long_epochs)
best_epoch = min(range(long_epochs), key=lambda e: big_history["validation"][e]) + 1
print(f"final training loss   {big_history['train'][-1]:.4f}")
print(f"final validation loss {big_history['validation'][-1]:.4f}")
lowest_val = min(big_history["validation"])
print(f"lowest validation loss {lowest_val:.4f} at epoch {best_epoch}")

# %%
# The two curves tell the story. At first both fall: the model learns the
# rings. Then the training loss keeps falling towards zero while the
# validation loss turns and climbs: the model is now learning the *noise* of
# these particular 100 points, which does not carry over to new points. The
# dotted line marks the epoch of lowest validation loss; stopping there is
# the idea of early stopping (Day 18). That happens early, so the epoch axis
# is logarithmic too: it gives the first few epochs as much room as the
# hundreds that follow.

ax = plot_curves(
    big_history,
    title="Big MLP on 100 noisy points: training vs validation loss",
    ylabel="cross-entropy (nats, log scale)",
    logy=True,
)
ax.set_xscale("log")
ax.set_xlabel("epoch (log scale)")
ax.axvline(best_epoch, color="gray", linestyle=":", label="lowest validation loss")
ax.legend()
plt.show()

# %%
# Accuracy shows the same thing as a **generalisation gap**: the difference
# between training and validation accuracy.

train_acc = accuracy(big_mlp, *small_train)
val_acc = accuracy(big_mlp, *small_val)
print(
    f"train accuracy {train_acc:.1%}, validation accuracy {val_acc:.1%}, "
    f"gap {100 * (train_acc - val_acc):.1f} points"
)

# %%
# **How to recognise overfitting.** The training loss keeps improving while
# the validation loss gets worse, and the training accuracy is well above the
# validation accuracy. The training numbers alone always look good; only data
# the model has not trained on can tell you it is overfitting. That is why
# every serious training run (Day 8 onwards) tracks a validation set.
#
# There are two broad remedies: **more data** (exercise 2) and **limiting what
# the model can memorise**, which is what regularisation does. We try two
# regularisers.
#
# ## 5. Dropout
#
# `nn.Dropout(p)` sets each activation to zero with probability $p$ during
# training, and scales the survivors by $1/(1-p)$ so that the expected value is
# unchanged. Because any unit may vanish, the network cannot rely on a few
# units memorising individual points; it has to spread what it learns. In
# evaluation mode Dropout does nothing. That is why `model.train()` and
# `model.eval()` matter, and why `train_epoch` and `evaluate_loss` set them.

dropout = nn.Dropout(p=0.5)
ones = torch.ones(10)
dropout.train()
print("train mode:", dropout(ones))
dropout.eval()
print("eval mode: ", dropout(ones))

# %%
# The same mechanism makes the loss that `train_epoch` returns misleading for
# a model with Dropout: it is measured on a randomly thinned network. Compare
# it with the loss of the full network (evaluation mode) on the same points:

course.seed_everything(1)
probe = make_mlp(width, dropout=0.5).to(device)
probe_optimizer = torch.optim.Adam(probe.parameters(), lr=0.01)
for _ in range(course.pick(full=50, smoke=5)):
    running = train_epoch(probe, [small_train], loss_fn, probe_optimizer)
full_network = evaluate_loss(probe, [small_train], loss_fn)
print(f"loss returned by train_epoch (dropout on):    {running:.4f}")
print(f"evaluate_loss on the same data (dropout off): {full_network:.4f}")

# %%
# ## 6. L2 regularisation with `weight_decay`
#
# L2 regularisation adds the squared size of the weights to the loss:
#
# $$\mathcal{L}_\text{total} = \mathcal{L} + \frac{\lambda}{2}\sum_i \theta_i^2,
#   \qquad \nabla_\theta \mathcal{L}_\text{total}
#   = \nabla_\theta \mathcal{L} + \lambda\theta .$$
#
# Large weights are what a network needs to draw sharp, wiggly boundaries
# around single noisy points; the penalty makes them expensive, so the
# boundary stays smooth. You do not write the penalty yourself: the
# optimisers' `weight_decay=λ` argument adds $\lambda\theta$ to every gradient.
# Here is one SGD step both ways, to check they are the same thing:

lam = 0.1
course.seed_everything(2)
layer_a = nn.Linear(2, 2)
layer_b = nn.Linear(2, 2)
layer_b.load_state_dict(layer_a.state_dict())
x_probe, y_probe = X_small[:8].cpu(), y_small[:8].cpu()

opt_a = torch.optim.SGD(layer_a.parameters(), lr=0.1, weight_decay=lam)
loss_fn(layer_a(x_probe), y_probe).backward()
opt_a.step()

opt_b = torch.optim.SGD(layer_b.parameters(), lr=0.1)
penalty = lam / 2 * sum((p**2).sum() for p in layer_b.parameters())
(loss_fn(layer_b(x_probe), y_probe) + penalty).backward()
opt_b.step()
print(
    "weight_decay step == explicit L2 penalty step:",
    torch.allclose(layer_a.weight, layer_b.weight)
    and torch.allclose(layer_a.bias, layer_b.bias),
)

# %%
# With Adam, `weight_decay` is the same L2 term added to the gradient, which
# Adam then rescales per parameter. `torch.optim.AdamW` instead shrinks the
# weights directly ("decoupled" weight decay), which often works better for
# large models. For plain SGD the two are identical. We use Adam with
# `weight_decay` here, which is exactly the L2 penalty above.
#
# ## 7. The variants, compared
#
# A fair comparison changes one thing at a time: every MLP variant starts from
# the same seed, sees the same 100 training points for the same number of
# epochs, and is scored on the same validation set. The linear model is there
# as the floor.

variants = {
    "linear": dict(make=make_linear, weight_decay=0.0),
    "MLP": dict(make=lambda: make_mlp(width), weight_decay=0.0),
    "MLP + Dropout 0.5": dict(
        make=lambda: make_mlp(width, dropout=0.5), weight_decay=0.0
    ),
    "MLP + L2 (1e-2)": dict(make=lambda: make_mlp(width), weight_decay=1e-2),
    "MLP + Dropout + L2": dict(
        make=lambda: make_mlp(width, dropout=0.5), weight_decay=1e-2
    ),
}
results, variant_models = {}, {}
for name, spec in variants.items():
    if name == "MLP":  # trained above, with the same seed and settings
        model, history = big_mlp, big_history
    else:
        course.seed_everything(1)
        model = spec["make"]().to(device)
        history = fit(
            model,
            small_train,
            small_val,
            epochs=long_epochs,
            weight_decay=spec["weight_decay"],
        )
    variant_models[name] = model
    model.eval()
    with torch.no_grad():
        val_logits = model(X_val_small)
    results[name] = {
        "train_acc": accuracy(model, *small_train),
        "val_acc": accuracy(model, *small_val),
        "train_loss": history["train"][-1],
        "val_loss": history["validation"][-1],
        "history": history,
        # per validation point, for the noise yardstick below
        "val_correct": (val_logits.argmax(dim=1) == y_val_small).float(),
        "val_losses": nn.functional.cross_entropy(
            val_logits, y_val_small, reduction="none"
        ),
    }
print("trained", len(results), "variants")

# %%
# The table: accuracies, the gap between them (in percentage points), and the
# final losses. Everything in it comes from the run above.


def gap(name: str) -> float:
    """Train minus validation accuracy, in percentage points."""
    return 100 * (results[name]["train_acc"] - results[name]["val_acc"])


header = (
    f"{'variant':20s} {'train acc':>9s} {'val acc':>8s} {'gap (pts)':>9s} "
    f"{'train loss':>10s} {'val loss':>9s}"
)
print(header)
print("-" * len(header))
for name, r in results.items():
    print(
        f"{name:20s} {r['train_acc']:9.1%} {r['val_acc']:8.1%} {gap(name):9.1f} "
        f"{r['train_loss']:10.4f} {r['val_loss']:9.4f}"
    )

# %%
# Before reading the table as a ranking, the yardstick of section 3: which
# differences are larger than chance? Two variants are scored on the *same*
# validation points, so what can move their difference is the points on which
# they disagree. Per point, the difference is `correct_a - correct_b` (1, 0 or
# -1); its mean is the accuracy difference and its standard error is the
# standard deviation over the points divided by $\sqrt{n}$. The same works for
# the per-point losses. A difference of more than two standard errors counts
# as clear.
#
# A smaller gap alone is not the goal: it shrinks when the *training*
# accuracy falls as much as when the validation accuracy rises. So each
# sentence also says which side the gap moved on.


def paired_difference(a: str, b: str, key: str) -> tuple[float, float]:
    """Mean and standard error of a per-point difference, variant a minus b."""
    diff = results[a][key] - results[b][key]
    return diff.mean().item(), diff.std().item() / math.sqrt(len(diff))


def judged(value: float, se: float, better: str, worse: str) -> str:
    if abs(value) <= 2 * se:
        return "within the noise"
    return better if value > 0 else worse


base = "MLP"
clearly_better = []
for name in ["MLP + Dropout 0.5", "MLP + L2 (1e-2)", "MLP + Dropout + L2"]:
    acc_diff, acc_se = paired_difference(name, base, "val_correct")
    loss_diff, loss_se = paired_difference(name, base, "val_losses")
    train_change = 100 * (results[name]["train_acc"] - results[base]["train_acc"])
    acc_word = judged(acc_diff, acc_se, "clearly higher", "clearly lower")
    loss_word = judged(-loss_diff, loss_se, "clearly lower", "clearly higher")
    if acc_word == "clearly higher":
        clearly_better.append(name)
    gap_change, val_change = gap(name) - gap(base), 100 * acc_diff
    why = ""
    if gap_change < -0.5 and -train_change > abs(val_change):
        why = ", mostly because training accuracy fell"
    elif gap_change < -0.5 and val_change >= abs(train_change):
        why = ", mostly because validation accuracy rose"
    print(
        f"{name}, against the plain MLP: validation accuracy "
        f"{val_change:+.1f} ± {100 * acc_se:.1f} points ({acc_word}); "
        f"validation loss {loss_diff:+.3f} ± {loss_se:.3f} ({loss_word}); "
        f"gap {gap_change:+.1f} points{why} "
        f"(training {train_change:+.1f}, validation {val_change:+.1f})."
    )
if clearly_better:
    print(
        "Clearly higher validation accuracy than the plain MLP: "
        f"{', '.join(clearly_better)}."
    )
else:
    print("No regulariser clearly raised the validation accuracy of the plain MLP.")
for alone, with_dropout in [
    ("MLP", "MLP + Dropout 0.5"),
    ("MLP + L2 (1e-2)", "MLP + Dropout + L2"),
]:
    change, change_se = paired_difference(with_dropout, alone, "val_correct")
    word = judged(change, change_se, "clearly higher", "clearly lower")
    print(
        f"Dropout added to {alone}: validation accuracy "
        f"{100 * change:+.1f} ± {100 * change_se:.1f} points ({word})."
    )
ranked = sorted(
    (n for n in results if n != "linear"),
    key=lambda n: results[n]["val_acc"],
    reverse=True,
)
best, runner_up = ranked[0], ranked[1]
lead, lead_se = paired_difference(best, runner_up, "val_correct")
separated = "clearly ahead of" if lead > 2 * lead_se else "not separated from"
print(
    f"Highest validation accuracy: {best} ({results[best]['val_acc']:.1%}), "
    f"{separated} {runner_up} ({results[runner_up]['val_acc']:.1%}): "
    f"{100 * lead:+.1f} ± {100 * lead_se:.1f} points."
)

# %%
# These standard errors measure one source of chance only: which validation
# points were drawn. The training seed is another (other starting weights give
# other numbers), which [Day 12](day12_regularisation.ipynb) measures. So read
# a difference "within the noise" as *not shown*, not as *equal*.

# %%
# The validation curves of the MLP variants on one plot show *when* each one
# starts to memorise: a curve that turns upwards and keeps climbing is a model
# fitting noise; a regulariser flattens or delays that climb. Compare how far
# each curve rises after its minimum. As in section 4 the epoch axis is
# logarithmic, so that the first epochs, where every curve falls, stay
# visible.

ax = plot_curves(
    {
        name: r["history"]["validation"]
        for name, r in results.items()
        if name != "linear"
    },
    title="Validation loss of the MLP variants (100 noisy training points)",
    ylabel="validation cross-entropy (nats, log scale)",
    logy=True,
)
ax.set_xscale("log")
ax.set_xlabel("epoch (log scale)")
ax.legend(loc="upper left")  # the top left stays clear: every curve starts low
plt.show()

# %%

for name, r in results.items():
    curve = r["history"]["validation"]
    low = min(curve)
    print(
        f"{name:20s} lowest validation loss {low:.3f}, final {curve[-1]:.3f} "
        f"(climbed {curve[-1] - low:.3f} after its minimum)"
    )

# %%
# And what the regularisers do to the decision boundary. Here the *training*
# points are drawn, since those are what the model fitted. An unregularised
# network is free to bend its boundary around individual noisy points, which
# shows up as dents, spikes and islands; with Dropout and L2 the boundary stays
# smooth and ignores single points on the wrong side.

fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
for ax, name in zip(axes, ["MLP", "MLP + Dropout + L2"], strict=True):
    plot_decision_boundary(
        variant_models[name],
        X_small,
        y_small,
        ax=ax,
        title=(
            f"{name}: train {results[name]['train_acc']:.0%}, "
            f"val {results[name]['val_acc']:.0%}"
        ),
    )
fig.suptitle("Decision boundaries on 100 noisy training points")
fig.tight_layout()
plt.show()

# %%
# ## 8. Summary
#
# - A linear model draws straight boundaries, whatever you train it on; hidden
#   layers *with a nonlinearity* let an MLP bend its boundary to the data.
# - Overfitting shows as a training loss that keeps falling while the
#   validation loss rises, and a gap between training and validation accuracy.
#   Only held-out data reveals it.
# - Dropout (`nn.Dropout(p)`) zeroes random activations during training and is
#   off in `eval()` mode; report losses in evaluation mode.
# - L2 regularisation is `weight_decay=λ` in the optimiser: it adds $\lambda\theta$
#   to each gradient and keeps the weights, and the boundary, smooth.
# - Compare variants fairly: same seed, same data, same budget, one change at
#   a time, and a table of train and validation numbers. Judge a difference
#   against its standard error, and read a smaller gap on both sides: it can
#   come from a lower training accuracy rather than a higher validation one.
#
# ## 9. Exercises
#
# 1. **Two moons.** Generate the classic "two moons" data (two interleaved
#    half circles) with PyTorch and compare the linear model with the MLP
#    there. Does a straight line do better on moons than on circles? Why?
# 2. **More data is the best regulariser.** Train the unregularised big MLP of
#    section 4 on ten times as many noisy points, same epochs, and compare its
#    accuracy gap with the one printed in section 4.
# 3. **Early stopping by hand.** Using `big_history` from section 4, what
#    validation loss would you have had if you had stopped at the best epoch
#    instead of the last? How many epochs were wasted?

# %%
# **Solution 1.** A moon is a half circle; two interleaved moons are *almost*
# separable by a tilted line, so a straight line gets most points right (the
# last line below compares it with its score on the rings). What it cannot do
# is follow the hooks at the tips of the moons, which the MLP can.


def make_moons(n: int, noise: float):
    n_upper = n // 2
    t_upper = torch.rand(n_upper) * math.pi
    t_lower = torch.rand(n - n_upper) * math.pi
    upper = torch.stack([torch.cos(t_upper), torch.sin(t_upper)], dim=1)
    lower = torch.stack([1 - torch.cos(t_lower), 0.5 - torch.sin(t_lower)], dim=1)
    X = torch.cat([upper, lower]) + noise * torch.randn(n, 2)
    y = torch.cat([torch.zeros(n_upper), torch.ones(n - n_upper)]).long()
    return X.to(device), y.to(device)


course.seed_everything(0)
moons_train = make_moons(n_train, noise=0.15)
moons_val = make_moons(n_val, noise=0.15)
moon_models = {}
for name, make in [("linear", make_linear), ("MLP", make_mlp)]:
    course.seed_everything(1)
    moon_models[name] = make().to(device)
    fit(moon_models[name], moons_train, moons_val, epochs=epochs, batch_size=32)
    moon_acc = accuracy(moon_models[name], *moons_val)
    print(f"moons, {name:6s}: validation accuracy {moon_acc:.1%}")
moons_linear = accuracy(moon_models["linear"], *moons_val)
print(f"the linear model: {moons_linear:.1%} on moons, {acc_linear:.1%} on circles")

fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
for ax, name in zip(axes, moon_models, strict=True):
    plot_decision_boundary(
        moon_models[name], *moons_val, ax=ax, title=f"Two moons: {name}"
    )
fig.tight_layout()
plt.show()

# %%
# **Solution 2.** Same model, same seed, same epochs, ten times the data. With
# many points near every part of the boundary, memorising single points no
# longer pays, so the gap shrinks without any regulariser.

course.seed_everything(3)
many_train = make_circles(10 * n_small, noise=noise_small)
course.seed_everything(1)
many_mlp = make_mlp(width).to(device)
fit(many_mlp, many_train, small_val, epochs=long_epochs)
many_gap = 100 * (accuracy(many_mlp, *many_train) - accuracy(many_mlp, *small_val))
print(f"gap with {n_small} points: {gap('MLP'):.1f}")
print(f"gap with {10 * n_small} points: {many_gap:.1f}")

# %%
# **Solution 3.** The best epoch is the argmin of the validation curve.

val_curve = big_history["validation"]
best_index = min(range(len(val_curve)), key=val_curve.__getitem__)
print(f"best epoch {best_index + 1}: validation loss {val_curve[best_index]:.4f}")
print(f"last epoch {len(val_curve)}: validation loss {val_curve[-1]:.4f}")
print(f"epochs after the best one: {len(val_curve) - best_index - 1}")

# %%
# Keeping the weights from the best epoch needs a copy of them while training
# runs: that is early stopping, the subject of Day 18. Next,
# [Day 8](day08_train_validate.ipynb) builds the complete train-and-validate
# loop, with accuracy, history and a progress bar, that the rest of the course
# uses.
