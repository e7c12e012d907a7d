"""Day 21's evaluation helpers: the lesson's copies, and hand-computed cases."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from conftest import lesson_copy_difference

from course import metrics

LESSON = Path(__file__).resolve().parents[2] / "tutorials" / "day21_validation_showcase.py"
SHARED = ["confusion_matrix", "precision_recall_f1", "wilson_interval", "reliability"]


@pytest.mark.parametrize("name", SHARED)
def test_lesson_defines_the_same_code_as_course_metrics(name: str) -> None:
    """Day 21 teaches these definitions; course.metrics keeps the copy later days import."""
    difference = lesson_copy_difference(LESSON, getattr(metrics, name))
    assert difference is None, difference


def test_confusion_matrix_counts_truth_by_row_and_prediction_by_column() -> None:
    targets = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2, 2])
    preds = torch.tensor([0, 0, 1, 1, 2, 2, 2, 2, 0])
    expected = torch.tensor([[2, 1, 0], [0, 1, 1], [1, 0, 3]])
    cm = metrics.confusion_matrix(preds, targets, 3)
    assert cm.dtype == torch.int64
    assert torch.equal(cm, expected)
    assert torch.equal(metrics.confusion_matrix(preds, targets, 4)[:3, :3], expected)


def test_precision_recall_f1_of_a_known_matrix() -> None:
    cm = torch.tensor([[2, 1, 0], [0, 1, 1], [1, 0, 3]])
    precision, recall, f1 = metrics.precision_recall_f1(cm)
    # columns sum to 3, 2, 4; rows to 3, 2, 4; the diagonal is 2, 1, 3
    assert precision.tolist() == pytest.approx([2 / 3, 1 / 2, 3 / 4])
    assert recall.tolist() == pytest.approx([2 / 3, 1 / 2, 3 / 4])
    assert f1.tolist() == pytest.approx([2 / 3, 1 / 2, 3 / 4])
    cm = torch.tensor([[5, 0], [5, 0]])  # class 1 never predicted and never right
    precision, recall, f1 = metrics.precision_recall_f1(cm)
    assert precision.tolist() == pytest.approx([0.5, 0.0])
    assert recall.tolist() == pytest.approx([1.0, 0.0])
    assert f1.tolist() == pytest.approx([2 * 0.5 / 1.5, 0.0])


def test_precision_recall_f1_of_an_asymmetric_matrix() -> None:
    cm = torch.tensor([[8, 2], [4, 6]])
    precision, recall, f1 = metrics.precision_recall_f1(cm)
    assert precision.tolist() == pytest.approx([8 / 12, 6 / 8])
    assert recall.tolist() == pytest.approx([8 / 10, 6 / 10])
    p, r = 8 / 12, 8 / 10
    assert f1[0].item() == pytest.approx(2 * p * r / (p + r))


def test_wilson_interval_matches_a_known_value() -> None:
    # Wilson (1927) / Newcombe (1998), 81 successes in 263 trials: 0.2553 to 0.3662
    low, high = metrics.wilson_interval(81, 263)
    assert low == pytest.approx(0.2553, abs=5e-5)
    assert high == pytest.approx(0.3662, abs=5e-5)
    low, high = metrics.wilson_interval(0, 10)
    assert low == 0.0 and high == pytest.approx(0.2775, abs=5e-5)
    low, high = metrics.wilson_interval(10, 10)
    assert high == 1.0 and low == pytest.approx(1 - 0.2775, abs=5e-5)


def test_wilson_interval_narrows_like_one_over_root_n() -> None:
    small = metrics.wilson_interval(87, 100)
    large = metrics.wilson_interval(8_700, 10_000)
    ratio = (small[1] - small[0]) / (large[1] - large[0])
    assert ratio == pytest.approx(10, rel=0.05)
    assert large[0] < 0.87 < large[1]


def test_ece_of_a_perfectly_calibrated_toy_is_zero() -> None:
    # 10 predictions at confidence 0.8 of which 8 right, 10 at 0.6 of which 6 right
    probs = torch.tensor([[0.8, 0.2]] * 10 + [[0.4, 0.6]] * 10, dtype=torch.float64)
    targets = torch.tensor([0] * 8 + [1] * 2 + [1] * 6 + [0] * 4)
    stats, ece = metrics.reliability(probs, targets, bins=10)
    assert ece == pytest.approx(0.0, abs=1e-12)
    assert stats["count"].sum().item() == 20 and len(stats["edges"]) == 11
    nonempty = stats["count"] > 0
    assert stats["count"][nonempty].tolist() == [10, 10]
    assert stats["accuracy"][nonempty].tolist() == pytest.approx([0.6, 0.8])
    assert stats["confidence"][nonempty].tolist() == pytest.approx([0.6, 0.8])


def test_ece_of_an_overconfident_toy_is_the_gap() -> None:
    # always 90 % sure, right half the time: ECE = |0.5 - 0.9| = 0.4
    probs = torch.tensor([[0.9, 0.05, 0.05]] * 20)
    targets = torch.tensor([0, 1] * 10)
    stats, ece = metrics.reliability(probs, targets, bins=15)
    assert ece == pytest.approx(0.4)
    assert stats["count"].sum().item() == 20 and (stats["count"] > 0).sum().item() == 1


def test_reliability_weights_bins_by_their_counts() -> None:
    # 3 predictions at 0.95, all right (gap 0.05); 1 at 0.55, wrong (gap 0.55)
    probs = torch.tensor([[0.95, 0.05]] * 3 + [[0.55, 0.45]])
    targets = torch.tensor([0, 0, 0, 1])
    _, ece = metrics.reliability(probs, targets, bins=10)
    assert ece == pytest.approx(0.75 * 0.05 + 0.25 * 0.55)
    _, one_bin = metrics.reliability(probs, targets, bins=1)
    assert one_bin == pytest.approx(abs(0.75 - (3 * 0.95 + 0.55) / 4))


def test_a_confidence_on_a_bin_edge_goes_to_the_lower_bin() -> None:
    probs = torch.tensor([[0.5, 0.5], [1.0, 0.0]])
    stats, _ = metrics.reliability(probs, torch.tensor([0, 0]), bins=2)
    assert stats["count"].tolist() == [1, 1]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: metrics.confusion_matrix(torch.tensor([0, 1]), torch.tensor([0]), 2), "same"),
        (lambda: metrics.confusion_matrix(torch.tensor([0, 3]), torch.tensor([0, 1]), 3), "0..2"),
        (lambda: metrics.confusion_matrix(torch.tensor([0]), torch.tensor([-1]), 3), "targets"),
        (lambda: metrics.confusion_matrix(torch.tensor([0]), torch.tensor([0]), 0), "at least"),
        (lambda: metrics.precision_recall_f1(torch.ones(2, 3)), "square"),
        (lambda: metrics.precision_recall_f1(torch.tensor([[1, -1], [0, 1]])), "negative"),
        (lambda: metrics.wilson_interval(3, 0), "positive"),
        (lambda: metrics.wilson_interval(11, 10), "between 0 and n"),
        (lambda: metrics.wilson_interval(-1, 10), "between 0 and n"),
        (lambda: metrics.wilson_interval(1, 10, z=0), "z must be positive"),
        (lambda: metrics.reliability(torch.randn(4, 3), torch.zeros(4)), "softmax"),
        (lambda: metrics.reliability(torch.full((4, 2), 0.5), torch.zeros(3)), "N labels"),
        (lambda: metrics.reliability(torch.full((4, 2), 0.5), torch.zeros(4), 0), "bins"),
    ],
)
def test_bad_arguments_raise_a_clear_value_error(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_the_metrics_agree_with_accuracy_on_random_predictions() -> None:
    generator = torch.Generator().manual_seed(0)
    targets = torch.randint(0, 5, (500,), generator=generator)
    logits = torch.randn(500, 5, generator=generator) + 2 * torch.nn.functional.one_hot(targets)
    preds = logits.argmax(1)
    cm = metrics.confusion_matrix(preds, targets, 5)
    assert cm.sum().item() == 500
    accuracy = (preds == targets).double().mean().item()
    assert cm.diag().sum().item() / 500 == pytest.approx(accuracy)
    _, recall, _ = metrics.precision_recall_f1(cm)
    support = torch.bincount(targets, minlength=5).double()
    assert (recall * support).sum().item() / 500 == pytest.approx(accuracy)
    stats, ece = metrics.reliability(logits.softmax(1), targets)
    assert 0 <= ece <= 1 and stats["count"].sum().item() == 500
    assert not math.isnan(ece)
