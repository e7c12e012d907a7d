"""Evaluating a classifier as a report: counts, per-class scores, intervals, calibration.

Defined in Day 21, which derives each function in the cell that uses it; the lesson's
copies are checked against these by ``tests/course/test_metrics.py`` (same syntax tree,
docstrings and type annotations aside), as ``course.cifar`` is against Day 14.

* :func:`confusion_matrix`: row *i*, column *j* counts examples of class *i* predicted
  as class *j*;
* :func:`precision_recall_f1`: per-class precision, recall and F1 from that matrix;
* :func:`wilson_interval`: a confidence interval for a proportion such as accuracy;
* :func:`reliability`: the reliability-diagram statistics of predicted probabilities
  and their expected calibration error (ECE) over equal-width confidence bins.
"""

from __future__ import annotations

import math

import torch


def confusion_matrix(preds: torch.Tensor, targets: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Counts ``num_classes × num_classes`` (int64): row = true class, column = predicted.

    Defined in Day 21.
    """
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
    return torch.bincount(flat, minlength=num_classes**2).view(num_classes, num_classes)


def precision_recall_f1(cm: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-class precision, recall and F1 (float64) of a confusion matrix (rows = truth).

    A class never predicted has precision 0, a class absent from the targets recall 0,
    and F1 is 0 where precision and recall are both 0 (scikit-learn's ``zero_division=0``).
    Defined in Day 21.
    """
    cm = torch.as_tensor(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"a confusion matrix must be square, not {tuple(cm.shape)}")
    if (cm < 0).any():
        raise ValueError("a confusion matrix holds counts: found a negative entry")
    cm = cm.double()
    hits, predicted, actual = cm.diag(), cm.sum(0), cm.sum(1)
    precision = hits / predicted.clamp(min=1)  # counts: a zero column has no hits
    recall = hits / actual.clamp(min=1)
    f1 = 2 * precision * recall / (precision + recall).clamp(min=1e-12)
    return precision, recall, f1


def wilson_interval(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a proportion ``k / n``; ``z = 1.96`` gives 95 %.

    Defined in Day 21.
    """
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


def reliability(
    probs: torch.Tensor, targets: torch.Tensor, bins: int = 15
) -> tuple[dict[str, torch.Tensor], float]:
    """Reliability-diagram statistics and the expected calibration error (ECE).

    ``probs`` is ``N × classes`` (rows summing to 1). Each prediction's confidence (its
    largest probability) falls in one of ``bins`` equal-width bins ``(lo, hi]`` of [0, 1];
    returns ``({"edges", "count", "confidence", "accuracy"}, ece)`` with per-bin mean
    confidence and accuracy (0 in empty bins), and
    ``ece = Σ_b count_b / N · |accuracy_b − confidence_b|``. Defined in Day 21.
    """
    probs, targets = torch.as_tensor(probs), torch.as_tensor(targets)
    if bins < 1:
        raise ValueError(f"bins must be at least 1, not {bins}")
    if probs.ndim != 2 or len(probs) != len(targets) or len(probs) == 0:
        raise ValueError(
            f"probs must be N×classes and targets N labels (N > 0), "
            f"not {tuple(probs.shape)} and {tuple(targets.shape)}"
        )
    sums = probs.double().sum(1)
    if (probs < 0).any() or not torch.allclose(sums, torch.ones_like(sums), atol=1e-3):
        raise ValueError(
            "probs must be probabilities, each row non-negative and summing to 1: "
            "got logits? apply softmax first"
        )
    confidence, predicted = probs.double().max(1)
    correct = (predicted == targets).double()
    edges = torch.linspace(0, 1, bins + 1, dtype=torch.float64)
    which = torch.bucketize(confidence, edges[1:-1])
    count = torch.bincount(which, minlength=bins)
    mean_confidence = torch.bincount(which, confidence, minlength=bins) / count.clamp(min=1)
    accuracy = torch.bincount(which, correct, minlength=bins) / count.clamp(min=1)
    ece = ((count / len(probs)) * (accuracy - mean_confidence).abs()).sum().item()
    stats = {"edges": edges, "count": count, "confidence": mean_confidence, "accuracy": accuracy}
    return stats, ece
