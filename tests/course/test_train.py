"""Tests for course.train: the Day 6 training loop and its evaluation."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from conftest import lesson_copy_difference
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from course.train import evaluate_loss, train_epoch


def _separable_loader(n: int = 128, batch_size: int = 32) -> DataLoader:
    generator = torch.Generator().manual_seed(0)
    X = torch.randn(n, 2, generator=generator)
    y = (X[:, 0] + X[:, 1] > 0).long()
    return DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=False)


def _model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 8), nn.Dropout(0.1), nn.Linear(8, 2))


def test_train_epoch_updates_parameters_and_returns_the_mean_loss() -> None:
    model = _model()
    model[1].p = 0.0  # no Dropout: the loss of one full-batch step can be recomputed
    X, y = next(iter(_separable_loader(batch_size=128)))
    loader = [(X, y)]
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    before = [p.detach().clone() for p in model.parameters()]
    with torch.no_grad():
        expected = loss_fn(model(X), y).item()
    loss = train_epoch(model, loader, loss_fn, optimizer)

    assert isinstance(loss, float)
    assert loss == pytest.approx(expected, rel=1e-6)
    assert any(not torch.equal(b, p) for b, p in zip(before, model.parameters(), strict=True))


def test_train_epoch_zeroes_gradients_before_backward() -> None:
    model = _model()
    model[1].p = 0.0
    batch = next(iter(_separable_loader()))
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)  # lr 0: parameters stay put
    train_epoch(model, [batch], loss_fn, optimizer)
    first = [p.grad.clone() for p in model.parameters()]
    train_epoch(model, [batch], loss_fn, optimizer)
    for g1, p in zip(first, model.parameters(), strict=True):
        torch.testing.assert_close(p.grad, g1)  # not doubled: gradients were zeroed


@pytest.mark.parametrize("name", ["train_epoch", "evaluate_loss"])
def test_day6_writes_the_packaged_function_under_its_name(name: str) -> None:
    """One helper, one name: Day 6 writes each function Day 7 imports, identically."""
    import course.train

    lesson = Path(__file__).parents[2] / "tutorials" / "day06_training_workflow.py"
    difference = lesson_copy_difference(lesson, getattr(course.train, name))
    assert difference is None, difference


def test_train_epoch_lowers_the_loss_on_a_separable_problem() -> None:
    model = _model()
    loader = _separable_loader()
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    start = evaluate_loss(model, loader, loss_fn)
    losses = [train_epoch(model, loader, loss_fn, optimizer) for _ in range(10)]
    end = evaluate_loss(model, loader, loss_fn)

    assert all(isinstance(value, float) for value in losses)
    assert losses[-1] < losses[0]
    assert end < 0.5 * start
    assert model.training  # train_epoch leaves the model in training mode


def test_train_epoch_accepts_a_device_and_rejects_an_empty_loader() -> None:
    model = _model()
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = train_epoch(model, _separable_loader(), loss_fn, optimizer, device="cpu")
    assert loss > 0
    with pytest.raises(ValueError):
        train_epoch(model, [], loss_fn, optimizer)


def test_evaluate_loss_is_the_sample_mean_and_changes_nothing() -> None:
    model = _model()
    loader = _separable_loader(n=100, batch_size=32)  # uneven last batch: 100 = 3*32 + 4
    loss_fn = nn.CrossEntropyLoss()
    before = [p.detach().clone() for p in model.parameters()]

    model.train()
    value = evaluate_loss(model, loader, loss_fn)

    X, y = loader.dataset.tensors
    model.eval()
    with torch.no_grad():
        expected = loss_fn(model(X), y).item()
    assert value == pytest.approx(expected, rel=1e-5)
    for b, p in zip(before, model.parameters(), strict=True):
        assert torch.equal(b, p)
        assert p.grad is None


def test_evaluate_loss_restores_the_mode_it_found() -> None:
    model = _model()
    loader = _separable_loader()
    loss_fn = nn.CrossEntropyLoss()

    model.train()
    evaluate_loss(model, loader, loss_fn)
    assert model.training

    model.eval()
    evaluate_loss(model, loader, loss_fn)
    assert not model.training


def test_evaluate_loss_uses_eval_mode_so_dropout_is_off() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 64), nn.Dropout(0.9), nn.Linear(64, 2))
    loader = _separable_loader()
    loss_fn = nn.CrossEntropyLoss()
    # With Dropout active, two passes would differ; in eval mode they agree.
    assert evaluate_loss(model, loader, loss_fn) == evaluate_loss(model, loader, loss_fn)
