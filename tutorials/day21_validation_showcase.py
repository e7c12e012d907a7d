"""
# Day 21 · Project validation and demonstration (專題驗證與推論展示)

A model is finished when you can say how good it is, how sure you are of
that number, where it fails, whether its confidence can be trusted, and
can show it at work. In this lesson you take the network Day 14 trained on
CIFAR-10, straight from the model cache, and write its evaluation as a
report: the test accuracy with a confidence interval, precision, recall and
F1 for every class computed from the confusion matrix, a reliability
diagram with its expected calibration error (and temperature scaling, fitted
on the validation split, to repair it), the most confident mistakes, and a
gallery of predictions. Then you log a short training run with TensorBoard
(scalars, images, histograms and the embedding projector), read the event
files back and plot them with Matplotlib. The four evaluation functions you
write go into `course.metrics` for the project days.

**You will learn:** a confidence interval for accuracy (Wilson score and
the bootstrap), and what it does and does not cover · precision, recall and
F1 from a confusion matrix · reliability diagrams and the expected
calibration error · temperature scaling · showing the most confident
mistakes and the top-3 probabilities · TensorBoard's `SummaryWriter`:
scalars, images, histograms, embeddings · reading event files back with
`EventAccumulator`

**Before you start:** [Day 14](day14_cifar10.ipynb) (the network and its
recipe) · [Day 8](day08_train_validate.ipynb) (validation and test sets) ·
the previous day is [Day 20](day20_tuning.ipynb) · **Reading time:** about
2 hours
"""

# %%
# ## 1. Set-up
#
# TensorBoard is the one package this lesson needs beyond the course's
# base install; the line below declares it (a Colab notebook installs it in
# its first cell). The lesson measures its own run time, as Day 14 did.

# sphinx_gallery_requires = ["tensorboard>=2.17"]

import time

lesson_start = time.perf_counter()

import io
import shutil
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torchvision.utils import make_grid

import course
from course.cifar import (
    CLASSES,
    CifarNet,
    Recipe,
    augment,
    channel_stats,
    default_split,
    make_optimizer,
    predict_logits,
    to_input,
    trained_cifar_net,
)
from course.experiments import format_table
from course.report import headline

course.seed_everything(0)
device = course.choose_device()
print(f"profile: {course.PROFILE}, device: {device}, torch {torch.__version__}")

# %%
# ## 2. The final model, and one pass over the test set
#
# The model under evaluation is Day 14's network, with the recipe Day 14
# chose on its validation split. `trained_cifar_net` loads it from the model
# cache (it trains only if the cache has no entry for this exact data,
# recipe and code). `default_split()` gives the same three sets Day 14
# used: 45,000 training images, 5,000 validation images held out from the
# official training set, and the 10,000 test images.

split = default_split()
val_images, val_labels = split.val
test_images, test_labels = split.test
model, info = trained_cifar_net(split, device=device)
history = info["metrics"]["history"]
source = "the model cache" if info["cache_hit"] else "a run just now"
print(
    f"Day 14's network, from {source} (training took {info['train_seconds']:.0f} s)"
)
print(f"its validation accuracy after the last epoch: {history['val_acc'][-1]:.2%}")

# %%
# The rule of Day 8 still holds: every **choice** is made on the validation
# set, and the test set gives the final **report**. So we run the model over
# the test images once, keep the logits, and compute every number of the
# report from them. Day 14 reports its accuracy with test-time
# augmentation (TTA): the average of the logits of each image and of its
# mirror image. We compute the two views' logits once, keep the one-view
# logits for the calibration section, and average them for TTA, for the
# test images and for the validation images (which fit the one parameter
# this lesson fits, in section 5).


def one_view_and_tta(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits of the images alone, and averaged with their mirror images' (TTA)."""
    plain = predict_logits(model, images, Recipe(tta=False))
    mirrored = predict_logits(model, images.flip(3), Recipe(tta=False))
    return plain, (plain + mirrored) / 2


start = time.perf_counter()
test_logits_plain, test_logits = one_view_and_tta(test_images)
val_logits_plain, val_logits = one_view_and_tta(val_images)
print(
    f"logits of {len(test_images):,} test and {len(val_images):,} validation "
    f"images and of their mirror images: {time.perf_counter() - start:.1f} s"
)

test_probs = test_logits.softmax(1)
test_preds = test_probs.argmax(1)
correct = test_preds == test_labels
n_test, n_correct = len(test_labels), int(correct.sum())
accuracy = n_correct / n_test
print(f"test accuracy: {n_correct:,} of {n_test:,} = {accuracy:.2%}")

# %%
# ## 3. Accuracy with a confidence interval
#
# The test images are a **sample**. Had CIFAR-10's authors drawn another
# 10,000 photos of the same kinds from the same sources, the same network
# would have scored a little differently. Treat each test image as a coin
# that comes up "right" with probability $p$, the network's accuracy on the
# whole population of such photos; the number of right answers $k$ out of
# $n$ is then binomial, and a **95 % confidence interval** is a range
# computed from $k$ and $n$ by a recipe that contains the true $p$ in 95 %
# of such samples.
#
# The textbook recipe, $\hat p \pm 1.96\sqrt{\hat p(1-\hat p)/n}$ with
# $\hat p = k/n$ (the *Wald* interval), fails when $\hat p$ is near 0 or 1
# or $n$ is small. The **Wilson score interval** inverts the test
# instead: it keeps every $p$ for which $|\hat p - p| \le z\sqrt{p(1-p)/n}$,
# which solves to
#
# $$\frac{\hat p + \frac{z^2}{2n}}{1 + \frac{z^2}{n}} \pm
# \frac{z}{1 + \frac{z^2}{n}}\sqrt{\frac{\hat p(1-\hat p)}{n} + \frac{z^2}{4n^2}},$$
#
# with $z = 1.96$ for 95 %. Its centre is pulled slightly towards one half,
# and it never leaves [0, 1].

import math


def wilson_interval(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a proportion k / n; z = 1.96 gives 95 %."""
    if n <= 0:
        raise ValueError(f"n must be a positive number of trials, not {n}")
    if not 0 <= k <= n:
        raise ValueError(f"k must be between 0 and n = {n}, not {k}")
    if z <= 0:
        raise ValueError(f"z must be positive, not {z}")
    p = k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return max(0.0, centre - half), min(1.0, centre + half)


low, high = wilson_interval(n_correct, n_test)
print(f"test accuracy {accuracy:.2%}, 95 % Wilson interval [{low:.2%}, {high:.2%}]")
headline(
    "CIFAR-10 test accuracy of Day 14's network",
    f"{accuracy:.2%}, 95 % interval [{low:.2%}, {high:.2%}]",
)
print(
    f"roughly {accuracy:.2%} ± {(high - low) / 2:.2%} (Wilson is not quite symmetric)"
)

# %%
# Why not the simpler Wald interval? Here is a small test set where a model
# got every one of 20 images right; Wald claims certainty, Wilson does not.
# The other lines show how the width shrinks with the test set's size, at
# our accuracy: like $1/\sqrt{n}$, so a hundred times more images buy a
# ten times narrower interval.

p_hat = 20 / 20
wald_half = 1.96 * math.sqrt(p_hat * (1 - p_hat) / 20)
print(
    f"20 of 20 right: Wald [{p_hat - wald_half:.3f}, {p_hat + wald_half:.3f}], "
    "Wilson [{:.3f}, {:.3f}]".format(*wilson_interval(20, 20))
)
for n in (100, 1_000, 10_000):
    lo, hi = wilson_interval(round(accuracy * n), n)
    print(f"n = {n:6,d}: [{lo:.2%}, {hi:.2%}], width {hi - lo:.2%}")

# %%
# Wrong arguments are refused with a message that says what was wrong:

try:
    wilson_interval(n_test, n_correct)  # k and n swapped
except ValueError as err:
    print("Expected error:", err)

# %%
# A second way needs no formula: the **bootstrap**. Draw $n$ test images
# *with replacement* from the $n$ we have, compute the accuracy of that
# resample, and repeat a few thousand times; the spread of those accuracies
# estimates how much the accuracy would vary between test sets, and the
# middle 95 % of them is a *percentile interval*. It works for any metric
# (F1, ECE, ...), not only for proportions.

n_boot = course.pick(full=2_000, smoke=200)
generator = torch.Generator().manual_seed(0)
right = correct.float()
boot = torch.cat(
    [
        right[torch.randint(0, n_test, (200, n_test), generator=generator)].mean(1)
        for _ in range(n_boot // 200)
    ]
)
boot_low, boot_high = torch.quantile(boot, torch.tensor([0.025, 0.975])).tolist()
print(f"bootstrap ({n_boot:,} resamples): [{boot_low:.2%}, {boot_high:.2%}]")
print(f"Wilson:                       [{low:.2%}, {high:.2%}]")

fig, ax = plt.subplots(figsize=(7, 3.8))
ax.hist(
    100 * boot.numpy(),
    bins=40,
    color="tab:blue",
    alpha=0.7,
    label="accuracy of a bootstrap resample",
)
ax.axvline(100 * accuracy, color="black", label="measured accuracy")
for i, edge in enumerate((low, high)):
    ax.axvline(
        100 * edge,
        color="tab:red",
        linestyle="--",
        label="95 % Wilson interval" if i == 0 else None,
    )
ax.set_xlabel("test accuracy (%)")
ax.set_ylabel("number of resamples")
ax.set_title(f"How much the test accuracy could vary ({n_test:,} test images)")
ax.legend(fontsize=8)
plt.tight_layout()
plt.show()

# %%
# The two intervals printed above should nearly agree: with thousands of
# images both rest on the same binomial spread. What the interval **means**:
# the uncertainty that comes from *which* test images we happened to have,
# for this trained network, on photos like CIFAR-10's. What it does **not**
# cover:
#
# - **Training randomness.** Another seed or another run of Day 14 gives
#   another network; its accuracy varies too, and that spread is not in the
#   interval (measure it by training several times, as Day 12 did).
# - **Other photos.** Phone pictures, other cameras, other kinds of scene
#   are a different population: the interval says nothing about them
#   (exercise 3 tries some).
# - **Comparisons.** Two models tested on the *same* images are compared
#   with a *paired* test on the images where they disagree, not by checking
#   whether their intervals overlap (exercise 2).
# - It is not a 95 % probability that *this* interval holds the true
#   accuracy; it is a recipe that is right 95 % of the time.
#
# ## 4. Precision, recall and F1 from the confusion matrix
#
# Day 14 built the confusion matrix with `index_put_`. A shorter way: give
# every (true, predicted) pair its own number, `true * K + predicted`, count
# the numbers with `torch.bincount`, and fold the $K^2$ counts into a
# $K\times K$ matrix. Row $i$ is the true class, column $j$ the prediction.


def confusion_matrix(
    preds: torch.Tensor, targets: torch.Tensor, num_classes: int
) -> torch.Tensor:
    """Counts, num_classes × num_classes (int64): row = truth, column = prediction."""
    preds, targets = torch.as_tensor(preds), torch.as_tensor(targets)
    if num_classes < 1:
        raise ValueError(f"num_classes must be at least 1, not {num_classes}")
    if preds.shape != targets.shape or preds.ndim != 1:
        raise ValueError(
            f"preds and targets must be 1-D and of the same length, "
            f"not {tuple(preds.shape)} and {tuple(targets.shape)}"
        )
    for name, labels in (("preds", preds), ("targets", targets)):
        if len(labels) and not (0 <= labels.min() and labels.max() < num_classes):
            raise ValueError(
                f"{name} must be class indices in 0..{num_classes - 1}, "
                f"found {labels.min().item()}..{labels.max().item()}"
            )
    flat = targets.long() * num_classes + preds.long()
    return torch.bincount(flat, minlength=num_classes**2).view(
        num_classes, num_classes
    )


cm = confusion_matrix(test_preds, test_labels, len(CLASSES))
print(
    f"{int(cm.sum()):,} predictions, {int(cm.trace()):,} on the diagonal "
    f"(the accuracy again: {cm.trace() / cm.sum():.2%})"
)

# %%
# Three questions about each class $c$, all read off the matrix:
#
# - **Precision**: when the model says "cat", how often is it a cat? The
#   diagonal entry divided by its **column** sum, $TP / (TP + FP)$.
# - **Recall**: of the real cats, how many did it find? The diagonal entry
#   divided by its **row** sum, $TP / (TP + FN)$: Day 14's per-class
#   accuracy.
# - **F1**: their harmonic mean, $2PR / (P + R)$, high only when both are.
#
# A class the model never predicts has no precision to speak of; we follow
# scikit-learn's `zero_division=0` and call it 0, and likewise for recall
# and F1.


def precision_recall_f1(
    cm: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-class precision, recall and F1 (float64) of a confusion matrix."""
    cm = torch.as_tensor(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(
            f"a confusion matrix must be square, not {tuple(cm.shape)}"
        )
    if (cm < 0).any():
        raise ValueError("a confusion matrix holds counts: found a negative entry")
    cm = cm.double()
    hits, predicted, actual = cm.diag(), cm.sum(0), cm.sum(1)
    precision = hits / predicted.clamp(min=1)  # counts: a zero column has no hits
    recall = hits / actual.clamp(min=1)
    f1 = 2 * precision * recall / (precision + recall).clamp(min=1e-12)
    return precision, recall, f1


precision, recall, f1 = precision_recall_f1(cm)
support = cm.sum(1)
rows = [
    {"class": name, "precision": p, "recall": r, "f1": f, "support": int(s)}
    for name, p, r, f, s in zip(
        CLASSES,
        precision.tolist(),
        recall.tolist(),
        f1.tolist(),
        support.tolist(),
        strict=True,
    )
]
rows.append(
    {
        "class": "macro average",
        "precision": precision.mean().item(),
        "recall": recall.mean().item(),
        "f1": f1.mean().item(),
        "support": int(support.sum()),
    }
)
print(
    format_table(
        rows,
        [
            ("class", "class"),
            ("precision", "precision", ".1%"),
            ("recall", "recall", ".1%"),
            ("f1", "F1", ".1%"),
            ("support", "test images"),
        ],
    )
)
weakest, strongest = int(f1.argmin()), int(f1.argmax())
print(
    f"\nweakest class by F1: {CLASSES[weakest]} ({f1[weakest]:.1%}); "
    f"strongest: {CLASSES[strongest]} ({f1[strongest]:.1%})"
)

# %%
# The **macro average** weighs every class equally; on CIFAR-10's balanced
# test set its recall equals the accuracy. Precision and recall of a class
# can differ a lot: a model that calls many dogs "cat" has a low precision
# for cat *and* a low recall for dog. The matrix shows where each class's
# errors go; normalising each row by its sum turns counts into "what share
# of the true class went where" (the diagonal is then the recall).

shares = 100 * cm.double() / cm.sum(1, keepdim=True).clamp(min=1)
fig, ax = plt.subplots(figsize=(8, 7))
image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=100)
for i in range(len(CLASSES)):
    for j in range(len(CLASSES)):
        value = shares[i, j].item()
        if value >= 0.5:
            ax.text(
                j,
                i,
                f"{value:.0f}",
                ha="center",
                va="center",
                fontsize=9,
                color="white" if value > 50 else "black",
            )
ax.set_xticks(range(len(CLASSES)), CLASSES, rotation=45, ha="right")
ax.set_yticks(range(len(CLASSES)), CLASSES)
ax.set_xlabel("predicted class")
ax.set_ylabel("true class")
ax.set_title("Confusion matrix, each row normalised (% of the true class)")
fig.colorbar(
    image, ax=ax, label="share of the true class's test images (%)", shrink=0.8
)
plt.tight_layout()
plt.show()

# %%
# The largest off-diagonal shares, and where the weakest class's images
# went most often, computed rather than eyeballed:

off = shares.clone().fill_diagonal_(0)
for flat in torch.argsort(off.flatten(), descending=True)[:3].tolist():
    i, j = divmod(flat, len(CLASSES))
    print(
        f"{off[i, j]:4.1f} % of the {CLASSES[i]} images predicted as {CLASSES[j]}"
    )
j = int(off[weakest].argmax())
print(
    f"the weakest class's largest share: {CLASSES[weakest]} as {CLASSES[j]}, "
    f"{off[weakest, j]:.1f} %"
)

# %%
# ## 5. Can its confidence be trusted? Calibration
#
# A classifier is **calibrated** when its probabilities mean what they
# say: of all the predictions made with confidence 0.8, 80 % are right.
# To check, sort the predictions by their **confidence** (the largest
# probability) into bins of equal width on [0, 1], and compare, in each
# bin, the mean confidence with the accuracy. Drawn as bars, that is a
# **reliability diagram**; its one-number summary is the **expected
# calibration error**, the gaps weighted by how many predictions fall in
# each bin:
#
# $$\mathrm{ECE} = \sum_{b=1}^{B} \frac{n_b}{N}\,\bigl|\mathrm{acc}(b) -
# \mathrm{conf}(b)\bigr|.$$
#
# We use $B = 15$ equal-width bins, the common choice since Guo et al.
# (2017), "On Calibration of Modern Neural Networks". Bins are half-open,
# $(lo, hi]$: `torch.bucketize` against the inner edges puts each
# confidence in its bin.


def reliability(
    probs: torch.Tensor, targets: torch.Tensor, bins: int = 15
) -> tuple[dict[str, torch.Tensor], float]:
    """Per-bin count, mean confidence and accuracy; the ECE."""
    probs, targets = torch.as_tensor(probs), torch.as_tensor(targets)
    if bins < 1:
        raise ValueError(f"bins must be at least 1, not {bins}")
    if probs.ndim != 2 or len(probs) != len(targets) or len(probs) == 0:
        raise ValueError(
            f"probs must be N×classes and targets N labels (N > 0), "
            f"not {tuple(probs.shape)} and {tuple(targets.shape)}"
        )
    sums = probs.double().sum(1)
    if (probs < 0).any() or not torch.allclose(
        sums, torch.ones_like(sums), atol=1e-3
    ):
        raise ValueError(
            "probs must be probabilities, each row non-negative and summing to 1: "
            "got logits? apply softmax first"
        )
    confidence, predicted = probs.double().max(1)
    correct = (predicted == targets).double()
    edges = torch.linspace(0, 1, bins + 1, dtype=torch.float64)
    which = torch.bucketize(confidence, edges[1:-1])
    count = torch.bincount(which, minlength=bins)
    mean_confidence = torch.bincount(
        which, confidence, minlength=bins
    ) / count.clamp(min=1)
    accuracy = torch.bincount(which, correct, minlength=bins) / count.clamp(min=1)
    ece = ((count / len(probs)) * (accuracy - mean_confidence).abs()).sum().item()
    stats = {
        "edges": edges,
        "count": count,
        "confidence": mean_confidence,
        "accuracy": accuracy,
    }
    return stats, ece


BINS = 15
stats_tta, ece_tta = reliability(test_probs, test_labels, BINS)
stats_plain, ece_plain = reliability(
    test_logits_plain.softmax(1), test_labels, BINS
)
print(
    f"ECE ({BINS} equal-width bins), without TTA: {ece_plain:.2%}, "
    f"with TTA: {ece_tta:.2%}"
)
mean_conf = test_probs.max(1).values.mean().item()
verdict = "under" if mean_conf < accuracy else "over"
print(
    f"with TTA: mean confidence {mean_conf:.2%} vs accuracy {accuracy:.2%} "
    f"({verdict}confident on average)"
)

# %%
# The most common slip is to pass logits where probabilities belong. The
# function checks that each row sums to 1 and says what to do:

try:
    reliability(test_logits, test_labels)
except ValueError as err:
    print("Expected error:", err)

# %%
# ### Temperature scaling, fitted on the validation split
#
# If the network is systematically over- or underconfident, one number can
# fix much of it: divide the logits by a **temperature** $T$ before the
# softmax. $T > 1$ softens the probabilities, $T < 1$ sharpens them, and the
# predicted class, hence the accuracy, never changes. $T$ is *fitted*, so
# it is chosen on the **validation** set: we try temperatures from 0.3 to 3
# and keep the one with the lowest validation cross-entropy (the negative
# log-likelihood, which rewards honest probabilities), all 271 candidates
# at once by broadcasting (Day 2). Only then is the chosen one applied to
# the test logits.

temperatures = torch.linspace(0.3, 3.0, 271)
scaled = val_logits / temperatures.view(-1, 1, 1)  # one N×10 slice per temperature
log_p = scaled.log_softmax(2)[:, torch.arange(len(val_labels)), val_labels]
val_nll = -log_p.mean(1)  # the cross-entropy at each temperature
temperature = temperatures[val_nll.argmin()].item()
print(
    f"temperature with the lowest validation NLL: T = {temperature:.2f} "
    f"(NLL {val_nll.min():.3f}, "
    f"at T = 1: {F.cross_entropy(val_logits, val_labels):.3f})"
)

scaled_probs = (test_logits / temperature).softmax(1)
stats_scaled, ece_scaled = reliability(scaled_probs, test_labels, BINS)
same = torch.equal(scaled_probs.argmax(1), test_preds)
print(
    f"test ECE with TTA: {ece_tta:.2%} -> {ece_scaled:.2%} after temperature scaling"
)
print(f"predictions unchanged by the temperature: {same}")

# %%
# The three reliability diagrams side by side. Each bar is one bin with
# predictions in it: its height is the bin's accuracy, and the hatched red
# part reaches up or down to the bin's mean confidence. Bars below the diagonal
# mean overconfidence, bars above it underconfidence. Day 14 trained with
# label smoothing (targets of 0.82 instead of 1), which keeps a network's
# probabilities away from 1; compare the first two panels with the third.


def plot_reliability(
    ax, stats: dict[str, torch.Tensor], ece: float, title: str
) -> None:
    """A reliability diagram: accuracy per bin, and its gap to the confidence."""
    edges = stats["edges"].numpy()
    centres, width = (edges[:-1] + edges[1:]) / 2, edges[1] - edges[0]
    used = (stats["count"] > 0).numpy()
    acc, conf = stats["accuracy"].numpy()[used], stats["confidence"].numpy()[used]
    ax.bar(
        centres[used],
        acc,
        width=width,
        color="tab:blue",
        edgecolor="black",
        label="accuracy in the bin",
    )
    ax.bar(
        centres[used],
        conf - acc,
        bottom=acc,
        width=width,
        fill=False,
        hatch="///",
        edgecolor="tab:red",
        label="gap to mean confidence",
    )
    ax.plot([0, 1], [0, 1], "k--", linewidth=1, label="perfectly calibrated")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (largest probability)")
    ax.set_ylabel("accuracy in the bin")
    ax.set_title(f"{title}\nECE = {ece:.2%}", fontsize=10)


fig, axes = plt.subplots(1, 3, figsize=(13, 4.5), sharey=True)
plot_reliability(axes[0], stats_plain, ece_plain, "one view")
plot_reliability(axes[1], stats_tta, ece_tta, "TTA (image + mirror)")
plot_reliability(
    axes[2], stats_scaled, ece_scaled, f"TTA, temperature {temperature:.2f}"
)
axes[0].legend(loc="upper left", fontsize=8)
fig.suptitle(f"Reliability diagrams on the test set, {BINS} equal-width bins")
plt.tight_layout()
plt.show()

# %%
# Read the bars against the diagonal and the ECE values in the titles.
# Keep two caveats in mind: the ECE depends on the number of bins
# (exercise 4 measures by how much), and bins with few predictions are
# noisy. A bin's count is printed here, for the bins that hold most
# predictions:

for b in torch.argsort(stats_tta["count"], descending=True)[:3].tolist():
    lo, hi = stats_tta["edges"][b].item(), stats_tta["edges"][b + 1].item()
    print(
        f"confidence ({lo:.2f}, {hi:.2f}]: "
        f"{int(stats_tta['count'][b]):5,d} predictions, "
        f"accuracy {stats_tta['accuracy'][b]:.1%}, mean confidence "
        f"{stats_tta['confidence'][b]:.1%}"
    )

# %%
# ## 6. The most confident mistakes
#
# Averages hide the failures a user would notice. Sort the wrong
# predictions by the model's confidence, from now on the calibrated one
# (TTA and the temperature fitted above), and look at the top. For each,
# ask: is it the model's fault, an unusual photo, or a label you would
# dispute? The answers decide what to fix: more data of a kind, a
# different model, or cleaner labels.

wrong = torch.nonzero(~correct).flatten()
confident_wrong = wrong[
    torch.argsort(scaled_probs[wrong].max(1).values, descending=True)
][:12]
fig, axes = plt.subplots(2, 6, figsize=(12, 5.8))
for ax in axes.flat:
    ax.axis("off")
for ax, i in zip(axes.flat, confident_wrong.tolist(), strict=False):
    ax.imshow(test_images[i].permute(1, 2, 0).numpy())
    p = test_preds[i].item()
    ax.set_title(
        f"true: {CLASSES[test_labels[i]]}\npredicted: {CLASSES[p]}\n"
        f"confidence {scaled_probs[i, p]:.0%}",
        fontsize=9,
    )
fig.suptitle(
    f"The {len(confident_wrong)} most confident mistakes on the test set "
    "(calibrated confidence)"
)
plt.tight_layout()
plt.show()

# %%
# ## 7. A gallery of predictions
#
# The demonstration a user sees: test photos not shown above, each with the
# model's three most probable classes as bars (the calibrated
# probabilities again). Green marks the true class when
# it is among the three. These photos are part of the test set measured
# above: the gallery illustrates the report, it is not a new measurement.

shown = set(confident_wrong.tolist())
pool = torch.tensor([i for i in range(n_test) if i not in shown])
gallery = pool[
    torch.randperm(len(pool), generator=torch.Generator().manual_seed(1))[:8]
]

fig, axes = plt.subplots(
    4, 4, figsize=(11, 8.5), gridspec_kw={"width_ratios": [1, 1.4, 1, 1.4]}
)
for k, i in enumerate(gallery.tolist()):
    ax_image, ax_bars = axes[k // 2, 2 * (k % 2)], axes[k // 2, 2 * (k % 2) + 1]
    ax_image.imshow(test_images[i].permute(1, 2, 0).numpy())
    ax_image.axis("off")
    ax_image.set_title(f"true: {CLASSES[test_labels[i]]}", fontsize=9)
    top = scaled_probs[i].topk(3)
    names = [CLASSES[c] for c in top.indices.tolist()]
    colours = [
        "tab:green" if c == test_labels[i] else "tab:gray" for c in top.indices
    ]
    bars = ax_bars.barh(
        names[::-1], 100 * top.values.flip(0).numpy(), color=colours[::-1]
    )
    ax_bars.bar_label(bars, fmt="%.0f %%", fontsize=8, padding=2)
    ax_bars.set_xlim(0, 115)
    ax_bars.set_xlabel("probability (%)", fontsize=8)
    ax_bars.tick_params(labelsize=8)
fig.suptitle("Top-3 predictions on test photos (green: the true class)")
plt.tight_layout()
plt.show()

# %%
# ## 8. TensorBoard: logging a training run
#
# Everything so far was computed after training. During training you want
# to watch the run as it goes, and compare runs later: **TensorBoard** does
# that. It has two halves: `torch.utils.tensorboard.SummaryWriter` appends
# records to **event files** in a log folder while your loop runs, and the
# `tensorboard` web app reads every log folder under a directory and draws
# them. The writer's main calls:
#
# | call | records | tab |
# | --- | --- | --- |
# | `add_scalar(tag, value, step)` | a number: loss, learning rate | Scalars |
# | `add_image(tag, image, step)` | a `3×H×W` image, e.g. inputs | Images |
# | `add_histogram(tag, values, step)` | a layer's weights | Histograms |
# | `add_embedding(mat, metadata, label_img)` | vectors, labels | Projector |
#
# A training run of Day 14's network takes minutes, so we log a **short**
# one: a fresh, half-width `CifarNet` (16, 32 and 64 channels: about a
# quarter of the work per image) trained for a few epochs on a subset of
# the training images with Day 14's pieces: augmentation, channels-last
# bfloat16 steps, the one-cycle optimiser. Its accuracy does not matter
# here, its logs do. The loop is written out so that you see where each
# writer call goes: per step the loss and the learning rate; per epoch the
# accuracies, the validation loss and the weight histograms. (`loss.item()`
# copies a number to Python, which on a GPU waits for the step to finish;
# long GPU runs log every few dozen steps instead.) The run's log folder is
# emptied first: a writer *appends* a new event file to a folder, and a
# re-run would otherwise show two runs in one.

from torch.utils.tensorboard import SummaryWriter

train_images, train_labels = split.train
n_short = course.pick(full=3_000, smoke=100)
short = Recipe(
    epochs=course.pick(full=3, smoke=2),
    batch_size=course.pick(full=100, smoke=50),
    lr=0.1,
)
short_images, short_labels = train_images[:n_short], train_labels[:n_short]
n_monitor = course.pick(full=500, smoke=100)
monitor_images, monitor_labels = val_images[:n_monitor], val_labels[:n_monitor]

log_root = Path("runs")
log_dir = log_root / "day21-short-cifarnet"
shutil.rmtree(log_dir, ignore_errors=True)
writer = SummaryWriter(log_dir)

torch.manual_seed(0)
net = CifarNet(*channel_stats(short_images), widths=(16, 32, 64), stem=16)
net = net.to(device, memory_format=torch.channels_last)
steps_per_epoch = n_short // short.batch_size
optimizer, schedule = make_optimizer(net, short, short.epochs * steps_per_epoch)
use_bf16 = device.type in ("cpu", "cuda")

first_batch = augment(short_images[:32]).float() / 255
writer.add_image(
    "inputs/augmented_batch", make_grid(first_batch, nrow=8, padding=1), 0
)


def log_weights(step: int) -> None:
    """Histograms of the first and the last layer's weights."""
    writer.add_histogram("weights/stem_conv", net.stem[0].weight, step)
    writer.add_histogram("weights/head", net.head.weight, step)


log_weights(0)  # before training, to compare with
step, start = 0, time.perf_counter()
for epoch in range(1, short.epochs + 1):
    net.train()
    order = torch.randperm(n_short)
    hits = 0
    for b in range(steps_per_epoch):
        idx = order[b * short.batch_size : (b + 1) * short.batch_size]
        x = to_input(augment(short_images[idx]), device, channels_last=True)
        y = short_labels[idx].to(device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
            logits = net(x)
        loss = F.cross_entropy(
            logits.float(), y, label_smoothing=short.label_smoothing
        )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        step += 1
        writer.add_scalar("train/loss", loss.item(), step)
        writer.add_scalar("train/learning_rate", schedule.get_last_lr()[0], step)
        schedule.step()
        hits += (logits.argmax(1) == y).sum().item()
    monitor = predict_logits(net, monitor_images, Recipe(tta=False))
    val_loss = F.cross_entropy(monitor, monitor_labels).item()
    val_acc = (monitor.argmax(1) == monitor_labels).float().mean().item()
    writer.add_scalar(
        "train/accuracy", hits / (steps_per_epoch * short.batch_size), step
    )
    writer.add_scalar("val/loss", val_loss, step)
    writer.add_scalar("val/accuracy", val_acc, step)
    log_weights(step)
    print(
        f"epoch {epoch}: step {step}, val loss {val_loss:.3f}, "
        f"val accuracy {val_acc:.1%}"
    )
print(
    f"short run: {short.epochs} epochs of {n_short:,} images, "
    f"{time.perf_counter() - start:.1f} s"
)

# %%
# The **embedding projector** shows high-dimensional vectors in 2-D or 3-D
# (PCA, t-SNE, UMAP), each point labelled and drawn as its thumbnail. The
# vectors to look at are the network's **penultimate features**: the
# vector after the global max pool, one number per channel of the last
# stage, just before the last linear layer. A forward *pre*-hook on
# `net.head` receives a layer's inputs before it runs (Day 16 recorded
# activations with forward hooks), so it catches them on their way in.

n_embed = course.pick(full=500, smoke=40)
chosen = torch.randperm(n_test, generator=torch.Generator().manual_seed(2))[
    :n_embed
]
embed_images, embed_labels = test_images[chosen], test_labels[chosen]
captured = []
hook = net.head.register_forward_pre_hook(
    lambda module, args: captured.append(args[0].float().cpu())
)
predict_logits(net, embed_images, Recipe(tta=False))
hook.remove()
features = torch.cat(captured)
writer.add_embedding(
    features,
    metadata=[CLASSES[c] for c in embed_labels.tolist()],
    label_img=embed_images.float() / 255,
    global_step=step,
    tag="penultimate_features",
)
writer.close()
print(f"features of {len(features)} test images: {tuple(features.shape)}")

# %%
# What the writer left on disk, relative to the lesson's working folder.
# Event files are named `events.out.tfevents.<time>.<computer name>.<...>`;
# we print that part as `<...>` (a page should not show the name of the
# machine that built it).


def describe(path: Path) -> str:
    """A relative path, with an event file's machine name hidden."""
    name = path.name
    if name.startswith("events.out.tfevents."):
        name = "events.out.tfevents.<...>"
    return str(path.parent / name)


written = sorted(p for p in log_dir.rglob("*") if p.is_file())
for path in written:
    print(f"{describe(path):62s} {path.stat().st_size / 1024:8.1f} KB")

# %%
# ### Reading the logs back
#
# A page like this one cannot embed the TensorBoard app, but the event
# files are plain data. `EventAccumulator`, the reader inside TensorBoard,
# loads one run folder; `size_guidance` set to 0 keeps every record (by
# default it samples long runs down). `Tags()` lists what was logged. (The
# small `tbparse` package wraps the same reader and returns pandas tables;
# it is not needed here.)

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

events = EventAccumulator(
    str(log_dir), size_guidance={"scalars": 0, "histograms": 0, "images": 0}
)
events.Reload()
for kind in ("scalars", "images", "histograms"):
    print(f"{kind:10s}: {', '.join(events.Tags()[kind])}")


def scalar(tag: str) -> tuple[np.ndarray, np.ndarray]:
    """The steps and values logged under ``tag``."""
    records = events.Scalars(tag)
    return np.array([r.step for r in records]), np.array([r.value for r in records])


# %%
# The Scalars tab, redrawn. TensorBoard smooths noisy curves with an
# exponential moving average (its "Smoothing" slider, 0.6 by default); the
# dark line does the same, the faint one is the raw per-step loss.


def smooth(values: np.ndarray, weight: float = 0.6) -> np.ndarray:
    """TensorBoard's smoothing: an exponential moving average, debiased at the start."""
    out, last = [], 0.0
    for i, v in enumerate(values, start=1):
        last = weight * last + (1 - weight) * v
        out.append(last / (1 - weight**i))
    return np.array(out)


fig, (ax_loss, ax_lr, ax_acc) = plt.subplots(1, 3, figsize=(13, 3.8))
steps, losses = scalar("train/loss")
ax_loss.plot(steps, losses, color="tab:blue", alpha=0.3, label="train/loss, raw")
ax_loss.plot(
    steps, smooth(losses), color="tab:blue", label="train/loss, smoothed 0.6"
)
ax_loss.plot(*scalar("val/loss"), "o-", color="tab:orange", label="val/loss")
ax_loss.set_title("Loss")
ax_loss.set_ylabel("cross-entropy")
ax_lr.plot(*scalar("train/learning_rate"), label="train/learning_rate")
ax_lr.set_title("Learning rate")
ax_lr.set_ylabel("learning rate")
for tag in ("train/accuracy", "val/accuracy"):
    steps, values = scalar(tag)
    ax_acc.plot(steps, 100 * values, "o-", label=tag)
ax_acc.set_title("Accuracy, per epoch")
ax_acc.set_ylabel("accuracy (%)")
for ax in (ax_loss, ax_lr, ax_acc):
    ax.set_xlabel("optimiser step")
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.3)
fig.suptitle(f"Scalars read back from the event file of {log_dir}")
plt.tight_layout()
plt.show()

# %%
# The Histograms tab, redrawn. Each record holds the right edges of many
# narrow buckets (`bucket_limit`, finer near zero) and their counts
# (`bucket`, whose first entry is an empty bucket that only marks the left
# end). TensorBoard redraws them in a few wider bins; so do we, by
# interpolating the cumulative counts at the wider bins' edges.


def rebin(h, edges: np.ndarray) -> np.ndarray:
    """Counts of a logged histogram in new bins (linear within the logged buckets)."""
    cumulative = np.concatenate([[0.0], np.cumsum(h.bucket[1:])])
    return np.diff(np.interp(edges, np.array(h.bucket_limit), cumulative))


fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
for ax, tag in zip(axes, ("weights/stem_conv", "weights/head"), strict=True):
    records = events.Histograms(tag)
    lo = min(r.histogram_value.min for r in records)
    hi = max(r.histogram_value.max for r in records)
    edges = np.linspace(lo, hi, 41)
    colours = plt.cm.viridis(np.linspace(0, 0.9, len(records)))
    for r, colour in zip(records, colours, strict=True):
        ax.stairs(
            rebin(r.histogram_value, edges),
            edges,
            color=colour,
            label=f"step {r.step}",
        )
    ax.set_xlabel("weight value")
    ax.set_ylabel("number of weights per bin")
    ax.set_title(tag)
    ax.legend(fontsize=8)
fig.suptitle(
    "Weight histograms read back from the event file (step 0: before training)"
)
plt.tight_layout()
plt.show()

# %%
# Each record also keeps the count, sum and sum of squares of the values,
# enough for the standard deviation of the weights at every logged step:
# did training widen or narrow them?

for tag in ("weights/stem_conv", "weights/head"):
    spreads = []
    for r in events.Histograms(tag):
        h = r.histogram_value
        mean = h.sum / h.num
        spreads.append(
            f"step {r.step}: {math.sqrt(h.sum_squares / h.num - mean**2):.4f}"
        )
    print(f"{tag:18s} std  " + ", ".join(spreads))

# %%
# The Images tab stores PNG files inside the event file; decode one, and
# the Projector's data, which `add_embedding` writes as tab-separated text
# (`tensors.tsv`, `metadata.tsv`) next to a sprite of the thumbnails. PCA,
# the projector's default view, is a singular value decomposition of the
# centred vectors.

png = events.Images("inputs/augmented_batch")[0].encoded_image_string
grid = plt.imread(io.BytesIO(png))
tsv = next(log_dir.rglob("tensors.tsv"))
vectors = torch.tensor(
    np.loadtxt(tsv, delimiter="\t", ndmin=2), dtype=torch.float32
)
names = (
    (tsv.parent / "metadata.tsv")
    .read_text(encoding="utf-8")
    .split("\n")[: len(vectors)]
)
centred = vectors - vectors.mean(0)
_, _, vh = torch.linalg.svd(centred, full_matrices=False)
xy = (centred @ vh[:2].T).numpy()  # coordinates along the two main directions

fig, (ax_img, ax_pca) = plt.subplots(
    1, 2, figsize=(13, 5), gridspec_kw={"width_ratios": [1, 1.1]}
)
ax_img.imshow(grid)
ax_img.axis("off")
ax_img.set_title("inputs/augmented_batch, decoded from the event file")
for c, name in enumerate(CLASSES):
    mask = np.array([n == name for n in names])
    ax_pca.scatter(
        xy[mask, 0], xy[mask, 1], s=10, color=plt.cm.tab10(c), label=name
    )
ax_pca.set_xlabel("principal component 1")
ax_pca.set_ylabel("principal component 2")
ax_pca.set_title(
    f"Projector data: PCA of {len(vectors)} penultimate feature vectors"
)
ax_pca.legend(fontsize=7, ncol=2, markerscale=1.5)
plt.tight_layout()
plt.show()

# %%
# ### Opening TensorBoard yourself
#
# On your own computer, in a terminal, from the folder that holds `runs`
# (every run is a subfolder, and TensorBoard overlays them):
#
# ```bash
# tensorboard --logdir runs
# ```
#
# then open http://localhost:6006. In Google Colab or Jupyter, in a
# notebook cell:
#
# ```text
# %load_ext tensorboard
# %tensorboard --logdir runs
# ```
#
# The Projector tab needs the `projector_config.pbtxt` that `add_embedding`
# wrote in the run folder (listed above). A habit worth keeping: one
# subfolder per run, named after what changed (`runs/lr0.1-bs100`), so that
# the Scalars tab compares runs side by side.
#
# ## 9. Run time

elapsed = time.perf_counter() - lesson_start
print(f"lesson run time: {elapsed:.0f} s")

# %%
# ## 10. Summary
#
# - Report a test accuracy with its **confidence interval**: the Wilson
#   score interval for a proportion, or the **bootstrap** for any metric.
#   It covers the luck of the test sample, not training randomness and
#   not other kinds of photo.
# - **Precision, recall and F1** per class all come from the **confusion
#   matrix** (columns for precision, rows for recall); the weakest class by
#   F1 and the largest off-diagonal shares say where to work next.
# - A **reliability diagram** and the **ECE** (say how many bins) tell
#   whether the probabilities can be taken at face value; **temperature
#   scaling**, fitted on the validation split, corrects systematic over- or
#   underconfidence without changing a single prediction.
# - Look at the **most confident mistakes** and show predictions with
#   their top-3 probabilities: that is what a user of the model sees.
# - **TensorBoard**: `SummaryWriter` logs scalars, images, histograms and
#   embeddings into event files; `tensorboard --logdir runs` shows them,
#   and `EventAccumulator` reads them back for your own plots.
# - `course.metrics` now holds `confusion_matrix`, `precision_recall_f1`,
#   `wilson_interval` and `reliability` for the project days.
#
# ## 11. Exercises
#
# 1. **Micro F1.** Pool all classes before computing precision and recall
#    (sum the true positives, false positives and false negatives over the
#    classes). Show that for single-label classification the micro F1 equals
#    the accuracy.
# 2. **Is TTA's gain real?** Day 14 chose TTA on the validation set. Compare
#    one view and TTA there with a *paired* bootstrap: resample validation
#    images and recompute the *difference* of the two accuracies. Does the
#    95 % interval of the difference exclude 0?
# 3. **Photos from elsewhere.** Shrink 40 cat and dog photos from
#    `course.data.cats_vs_dogs` (test split) to 32×32 and classify them
#    with the final model. How often does it name the right animal? Compare
#    with the recall of cat and dog on the CIFAR-10 test set (section 4).
# 4. **How many bins?** Compute the test ECE with 5, 10, 15, 30 and 100
#    bins, before and after temperature scaling. Which of the two depends
#    on the choice, and why?

# %%
# **Solution 1.** Every wrong prediction is a false positive for the
# predicted class and a false negative for the true class, so the pooled
# FP and FN both equal the number of mistakes, and micro precision, micro
# recall and micro F1 all equal the accuracy:

tp = cm.diag().sum().item()
fp = (cm.sum(0) - cm.diag()).sum().item()
fn = (cm.sum(1) - cm.diag()).sum().item()
micro_p, micro_r = tp / (tp + fp), tp / (tp + fn)
micro_f1 = 2 * micro_p * micro_r / (micro_p + micro_r)
print(
    f"micro precision {micro_p:.4f}, micro recall {micro_r:.4f}, "
    f"micro F1 {micro_f1:.4f}"
)
print(f"accuracy {accuracy:.4f}; macro F1 {f1.mean():.4f}")

# %%
# **Solution 2.** Resample the *same* image indices for both variants, so
# that the noise they share cancels (most images are right, or wrong, with
# and without TTA). The last line compares the width of the paired
# interval with that of the TTA accuracy's own Wilson interval:

right_tta = (val_logits.argmax(1) == val_labels).float()
right_plain = (val_logits_plain.argmax(1) == val_labels).float()
n_val = len(val_labels)
generator = torch.Generator().manual_seed(0)
diffs = []
for _ in range(n_boot // 200):
    idx = torch.randint(0, n_val, (200, n_val), generator=generator)
    diffs.append(right_tta[idx].mean(1) - right_plain[idx].mean(1))
diffs = torch.cat(diffs)
d_low, d_high = torch.quantile(diffs, torch.tensor([0.025, 0.975])).tolist()
gain = (right_tta.mean() - right_plain.mean()).item()
print(f"validation: one view {right_plain.mean():.2%}, TTA {right_tta.mean():.2%}")
print(
    f"TTA gain {gain:+.2%}, "
    f"paired 95 % bootstrap interval [{d_low:+.2%}, {d_high:+.2%}]"
)
print(
    "the interval excludes 0"
    if d_low > 0 or d_high < 0
    else "the interval includes 0"
)
tta_low, tta_high = wilson_interval(int(right_tta.sum()), n_val)
print(
    f"width: paired difference {d_high - d_low:.2%}, "
    f"TTA accuracy alone {tta_high - tta_low:.2%}"
)

# %%
# **Solution 3.** Resize each photo to 32×32 (a whole photo squeezed into
# CIFAR-10's size), convert to uint8 tensors and predict as before. A
# share of right answers far below the two recalls printed after it (more
# than its wide Wilson interval allows) means these photos are a different
# population, which is exactly what section 3's interval does not cover:

from torchvision.transforms import v2

from course.data.cats_vs_dogs import load_cats_vs_dogs

to_small = v2.Compose([v2.ToImage(), v2.Resize((32, 32), antialias=True)])
photos = load_cats_vs_dogs(
    "test", transform=to_small, limit=course.pick(full=40, smoke=10)
)
photo_images = torch.stack([photos[i][0] for i in range(len(photos))])
photo_labels = torch.tensor(photos.targets)  # 0 = cat, 1 = dog
photo_preds = predict_logits(model, photo_images).argmax(1)
expected = torch.where(
    photo_labels == 0, CLASSES.index("cat"), CLASSES.index("dog")
)
n_right = int((photo_preds == expected).sum())
photo_low, photo_high = wilson_interval(n_right, len(photos))
print(
    f"{len(photos)} photos: the right animal for {n_right} "
    f"(95 % Wilson interval [{photo_low:.0%}, {photo_high:.0%}])"
)
for name in ("cat", "dog"):
    print(
        f"recall of {name} on the CIFAR-10 test set: {recall[CLASSES.index(name)]:.1%}"
    )
print("answers:", ", ".join(sorted({CLASSES[c] for c in photo_preds.tolist()})))
fig, axes = plt.subplots(1, 8, figsize=(12, 2.2))
for ax, i in zip(
    axes, torch.linspace(0, len(photos) - 1, 8).long().tolist(), strict=True
):
    ax.imshow(photo_images[i].permute(1, 2, 0).numpy())
    ax.set_title(
        CLASSES[photo_preds[i]],
        fontsize=9,
        color="black" if photo_preds[i] == expected[i] else "red",
    )
    ax.axis("off")
fig.suptitle(
    "Cats and dogs photos at 32×32, with the predicted CIFAR-10 class (red: wrong)"
)
plt.tight_layout()
plt.show()

# %%
# **Solution 4.** When every bin's accuracy lies on the same side of its
# mean confidence, the weighted gaps add up to |accuracy − mean confidence|
# whatever the bins: the first line below prints that number, and the
# "before" column matches it if the model is under- (or over-) confident
# in every bin. After temperature scaling the gaps usually have both signs: more
# bins mean fewer predictions per bin and noisier gaps, which the absolute
# value turns into an upward bias, and fewer bins let gaps of opposite
# sign cancel. Always say how many bins you used.

overall_gap = abs(accuracy - test_probs.max(1).values.mean().item())
print(f"|accuracy - mean confidence| = {overall_gap:.2%}")
for bins in (5, 10, 15, 30, 100):
    _, before = reliability(test_probs, test_labels, bins)
    _, after = reliability(scaled_probs, test_labels, bins)
    print(
        f"{bins:3d} bins: ECE {before:.2%} before, "
        f"{after:.2%} after temperature scaling"
    )

# %%
# Next, [Day 22](day22_lightning.ipynb) hands the training loop to PyTorch
# Lightning, whose TensorBoard logger writes the same event files.
