"""Day 18's EarlyStopping: the rule (Lightning's), the best weights, and the lesson's copy."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from conftest import lesson_copy_difference
from torch import nn

from course import early_stopping
from course.early_stopping import EarlyStopping

LESSON = Path(__file__).resolve().parents[2] / "tutorials" / "day18_early_stopping.py"


def test_lesson_defines_the_same_class_as_the_package() -> None:
    """Day 18 teaches EarlyStopping; course.early_stopping keeps the copy later days use."""
    difference = lesson_copy_difference(LESSON, early_stopping.EarlyStopping)
    assert difference is None, difference


def test_the_package_copy_says_where_it_was_defined() -> None:
    assert "Defined in Day 18" in (EarlyStopping.__doc__ or "")


def _run(stopper: EarlyStopping, values: list[float]) -> int:
    """Feed ``values`` until the stopper says stop; the 1-based check it stopped at, or 0."""
    for value in values:
        if stopper.step(value):
            return stopper.epoch
    return 0


def test_patience_counts_checks_without_improvement_and_resets() -> None:
    stopper = EarlyStopping(patience=2)
    decisions = [stopper.step(v) for v in [1.0, 0.9, 0.95, 0.85, 0.86, 0.87]]
    assert decisions == [False, False, False, False, False, True]
    assert stopper.stopped_epoch == 6 and stopper.best_epoch == 4
    assert stopper.best == pytest.approx(0.85) and stopper.wait == 2


def test_patience_zero_stops_at_the_first_check_that_does_not_improve() -> None:
    stopper = EarlyStopping(patience=0)
    assert _run(stopper, [3.0, 2.0, 2.0, 1.0]) == 3
    assert stopper.best_epoch == 2


def test_stop_epoch_on_a_known_sequence() -> None:
    """The lesson's made-up curve: patience 2 stops at check 7 (best 5)."""
    values = [0.90, 0.70, 0.69, 0.695, 0.68, 0.71, 0.72, 0.66]
    stopper = EarlyStopping(patience=2)
    assert _run(stopper, values) == 7
    assert (stopper.stopped_epoch, stopper.best_epoch, stopper.best) == (7, 5, 0.68)


def test_a_sequence_that_keeps_improving_never_stops() -> None:
    stopper = EarlyStopping(patience=1)
    assert _run(stopper, [5.0, 4.0, 3.0, 2.0]) == 0
    assert stopper.stopped_epoch == 0 and stopper.best_epoch == 4


def test_min_delta_needs_an_improvement_larger_than_it() -> None:
    """Lightning's rule: ``value + min_delta < best``; a gain of exactly min_delta fails."""
    stopper = EarlyStopping(patience=5, min_delta=0.25)
    stopper.step(1.0)
    assert not stopper.improves(0.75)  # exactly min_delta better: not enough
    assert stopper.improves(0.7)
    stopper.step(0.8)  # better, but by less than min_delta
    assert stopper.best == 1.0 and stopper.best_epoch == 1 and stopper.wait == 1
    stopper.step(0.7)
    assert stopper.best == 0.7 and stopper.best_epoch == 3 and stopper.wait == 0


def test_min_delta_changes_where_it_stops() -> None:
    values = [0.90, 0.70, 0.69, 0.695, 0.68, 0.71, 0.72]
    assert _run(EarlyStopping(patience=2, min_delta=0.015), values) == 4
    assert _run(EarlyStopping(patience=2, min_delta=0.0), values) == 7


def test_mode_max_for_accuracies() -> None:
    stopper = EarlyStopping(patience=2, min_delta=0.01, mode="max")
    assert stopper.best == -math.inf
    values = [0.50, 0.70, 0.705, 0.72, 0.71, 0.715]
    assert _run(stopper, values) == 6
    assert stopper.best == 0.72 and stopper.best_epoch == 4


def test_a_value_that_is_not_finite_stops_at_once() -> None:
    stopper = EarlyStopping(patience=10)
    stopper.step(1.0)
    assert stopper.step(float("nan")) and stopper.stopped_epoch == 2
    assert stopper.best == 1.0
    assert EarlyStopping(patience=10, mode="max").step(float("inf"))


def test_tensor_values_are_accepted() -> None:
    stopper = EarlyStopping(patience=1)
    stopper.step(torch.tensor(0.5))
    assert isinstance(stopper.best, float) and stopper.best == 0.5


def _train_a_little(model: nn.Module, steps: int = 3) -> None:
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    for _ in range(steps):
        loss = model(torch.randn(8, 4)).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def test_restore_gives_the_best_weights_not_a_reference_that_moved() -> None:
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    stopper = EarlyStopping(patience=3)
    stopper.step(1.0, model)  # best so far: a copy of these weights
    at_best = {k: v.clone() for k, v in model.state_dict().items()}
    _train_a_little(model)  # the optimiser changes the weights in place
    stopper.step(2.0, model)  # worse: nothing copied
    assert not torch.equal(model.weight, at_best["weight"])
    for key, value in at_best.items():
        assert torch.equal(stopper.best_state[key], value), f"{key} moved with the model"
    assert stopper.best_state["weight"].data_ptr() != model.weight.data_ptr()
    stopper.restore(model)
    for key, value in model.state_dict().items():
        assert torch.equal(value, at_best[key])


def test_restore_without_saved_weights_explains_itself() -> None:
    stopper = EarlyStopping(restore_best=False)
    model = nn.Linear(2, 2)
    stopper.step(1.0, model)
    assert stopper.best_state is None
    with pytest.raises(RuntimeError, match="restore_best=True"):
        stopper.restore(model)
    with pytest.raises(RuntimeError, match="pass the model"):
        EarlyStopping().restore(model)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"patience": -1}, "patience must be a whole number, 0 or more, not -1"),
        ({"patience": 2.5}, "patience must be a whole number"),
        ({"patience": True}, "patience must be a whole number"),
        ({"min_delta": -0.1}, "min_delta must be 0 or more, not -0.1"),
        ({"min_delta": float("nan")}, "min_delta must be 0 or more"),
        ({"mode": "lowest"}, "mode must be 'min' .* or 'max'"),
    ],
)
def test_bad_arguments_raise_a_clear_value_error(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EarlyStopping(**kwargs)
