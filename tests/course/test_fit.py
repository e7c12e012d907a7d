"""Tests for course.fit: the Day 8 training loop with validation."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from course.fit import evaluate, fit, predict

HISTORY_KEYS = ("train_loss", "train_acc", "val_loss", "val_acc", "epoch_time_s")


def _separable_loader(
    n: int = 200, batch_size: int = 32, seed: int = 0, shuffle: bool = False
) -> DataLoader:
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 2, generator=generator)
    y = (X[:, 0] - X[:, 1] > 0).long()
    # n is not a multiple of batch_size: the ragged last batch is part of every test.
    return DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=shuffle)


def _model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 2))


def _fit(model: nn.Module, epochs: int = 8, **kwargs) -> dict:
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    kwargs.setdefault("progress", False)
    return fit(
        model,
        _separable_loader(shuffle=True),
        _separable_loader(seed=1),
        nn.CrossEntropyLoss(),
        optimizer,
        epochs=epochs,
        **kwargs,
    )


def test_fit_lowers_the_loss_and_raises_the_accuracy() -> None:
    model = _model()
    val_loader = _separable_loader(seed=1)
    before = evaluate(model, val_loader, nn.CrossEntropyLoss())
    history = _fit(model)
    after = evaluate(model, val_loader, nn.CrossEntropyLoss())

    assert after["loss"] < 0.5 * before["loss"]
    assert after["accuracy"] > 0.9 > before["accuracy"]
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert history["val_acc"][-1] == pytest.approx(after["accuracy"])
    assert history["val_loss"][-1] == pytest.approx(after["loss"])


def test_history_has_one_entry_per_epoch_for_each_key() -> None:
    history = _fit(_model(), epochs=3)
    assert set(history) == set(HISTORY_KEYS)
    for key in HISTORY_KEYS:
        assert len(history[key]) == 3, key
        assert all(isinstance(v, float) for v in history[key]), key
    for key in ("train_acc", "val_acc"):
        assert all(0.0 <= v <= 1.0 for v in history[key])
    assert all(t > 0 for t in history["epoch_time_s"])


def test_fit_without_a_validation_loader_leaves_the_val_entries_empty() -> None:
    model = _model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    history = fit(
        model, _separable_loader(), None, nn.CrossEntropyLoss(), optimizer, epochs=2, progress=False
    )
    assert history["val_loss"] == [] and history["val_acc"] == []
    assert len(history["train_loss"]) == 2


def test_fit_prints_one_summary_line_per_epoch_and_no_bar_without_progress(capsys) -> None:
    _fit(_model(), epochs=3, progress=False)
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert len(lines) == 3
    for i, line in enumerate(lines, start=1):
        assert line.startswith(f"epoch {i}/3") and "train loss" in line and "val loss" in line
    assert "\r" not in out and "batch/s" not in out and "it/s" not in out


def test_fit_with_progress_draws_a_bar_on_stdout(capsys) -> None:
    _fit(_model(), epochs=2, progress=True)
    captured = capsys.readouterr()
    assert "7/7" in captured.out  # 200 samples in batches of 32: 7 batches
    assert captured.err == ""


def test_evaluate_restores_the_mode_and_changes_no_parameter() -> None:
    model = _model()
    loader = _separable_loader()
    before = {k: v.clone() for k, v in model.state_dict().items()}

    model.train()
    result = evaluate(model, loader, nn.CrossEntropyLoss())
    assert model.training
    model.eval()
    evaluate(model, loader)
    assert not model.training

    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert all(p.grad is None for p in model.parameters())  # no backward ran
    assert set(result) == {"loss", "accuracy"}


def test_evaluate_without_a_loss_fn_returns_only_the_accuracy() -> None:
    assert set(evaluate(_model(), _separable_loader())) == {"accuracy"}


def test_evaluate_counts_correct_over_all_samples_not_per_batch() -> None:
    # Batches of 3 then 1: right 1 of 3, then 1 of 1. Per-sample: 2/4; mean of batches: 2/3.
    inputs = torch.tensor([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    targets = torch.tensor([0, 1, 1, 0])
    model = nn.Linear(2, 2)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 0.0]]))
        model.bias.zero_()
    loader = DataLoader(TensorDataset(inputs, targets), batch_size=3)
    assert evaluate(model, loader)["accuracy"] == pytest.approx(0.5)


def test_evaluate_batchnorm_running_stats_are_untouched() -> None:
    model = nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4), nn.Linear(4, 2)).train()
    before = model[1].running_mean.clone()
    evaluate(model, _separable_loader())
    assert torch.equal(model[1].running_mean, before)
    assert model.training


def test_predict_returns_cpu_tensors_of_the_right_length() -> None:
    model = _model()
    loader = _separable_loader(n=50, batch_size=16)
    model.train()
    predicted, actual = predict(model, loader)
    assert model.training
    assert predicted.shape == actual.shape == (50,)
    assert predicted.device.type == actual.device.type == "cpu"
    assert predicted.dtype == torch.long
    assert torch.equal(actual, loader.dataset.tensors[1])
    accuracy = (predicted == actual).float().mean().item()
    assert accuracy == pytest.approx(evaluate(model, loader)["accuracy"])


def test_predict_handles_a_single_logit_per_sample() -> None:
    model = nn.Linear(2, 1)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0, 0.0]]))
        model.bias.zero_()
    X = torch.tensor([[2.0, 0.0], [-2.0, 0.0]])
    loader = DataLoader(TensorDataset(X, torch.tensor([1.0, 0.0])), batch_size=2)
    predicted, actual = predict(model, loader)
    assert predicted.tolist() == [1, 0] and actual.tolist() == [1, 0]


class _CountingScheduler:
    def __init__(self) -> None:
        self.calls = 0

    def step(self) -> None:
        self.calls += 1


def test_the_scheduler_steps_once_per_epoch() -> None:
    scheduler = _CountingScheduler()
    _fit(_model(), epochs=4, scheduler=scheduler)
    assert scheduler.calls == 4


def test_a_real_scheduler_changes_the_learning_rate_per_epoch() -> None:
    model = _model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    fit(
        model,
        _separable_loader(),
        _separable_loader(seed=1),
        nn.CrossEntropyLoss(),
        optimizer,
        epochs=3,
        scheduler=scheduler,
        progress=False,
    )
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.5 * 0.5**3)


def test_reduce_on_plateau_gets_the_validation_loss() -> None:
    model = _model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=0)
    history = fit(
        model,
        _separable_loader(),
        _separable_loader(seed=1),
        nn.CrossEntropyLoss(),
        optimizer,
        epochs=2,
        scheduler=scheduler,
        progress=False,
    )
    assert scheduler.best == pytest.approx(min(history["val_loss"]))


def test_fit_refuses_zero_epochs() -> None:
    model = _model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    with pytest.raises(ValueError, match="epochs"):
        fit(model, _separable_loader(), None, nn.CrossEntropyLoss(), optimizer, epochs=0)
