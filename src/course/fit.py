"""Training with validation: ``fit``, ``evaluate`` and ``predict`` (taught by hand in Day 8).

Day 6's :mod:`course.train` runs one epoch; these add what a real training run needs:
accuracy next to the loss, evaluation in ``eval()`` mode under ``torch.no_grad()``, a
per-epoch history, a progress bar and an optional learning-rate scheduler.

A batch is an ``(inputs, targets)`` pair. The model returns logits: one column per class
(the argmax is the prediction) or a single column for a binary problem (a logit above 0,
i.e. a probability above 0.5, predicts class 1). The loss function is expected to average
over the batch (PyTorch's default ``reduction="mean"``), so every mean below weights each
batch by its size: a smaller last batch does not skew the epoch's loss or accuracy.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch
from torch import nn
from tqdm import tqdm

Batch = Sequence[torch.Tensor]
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Device = torch.device | str | None


def _resolve_device(model: nn.Module, device: Device) -> torch.device:
    """``device`` (moving the model there), or else where the model's parameters are."""
    if device is not None:
        device = torch.device(device)
        model.to(device)
        return device
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


def _predicted_classes(logits: torch.Tensor) -> torch.Tensor:
    """Class labels from logits: argmax over classes, or ``logit > 0`` for one column."""
    if logits.ndim == 1 or logits.shape[-1] == 1:
        return (logits.reshape(-1) > 0).long()
    return logits.argmax(dim=-1)


def _targets_for_accuracy(targets: torch.Tensor) -> torch.Tensor:
    return targets.reshape(-1).long()


def evaluate(
    model: nn.Module,
    loader: Iterable[Batch],
    loss_fn: LossFn | None = None,
    *,
    device: Device = None,
) -> dict[str, float]:
    """Measure ``model`` on ``loader``: ``{"loss": ..., "accuracy": ...}`` (no training).

    Runs in ``eval()`` mode (Dropout off, BatchNorm uses its running statistics) under
    ``torch.no_grad()`` (no graph is built), then restores the mode the model was in, so
    it can be called in the middle of training. ``"accuracy"`` is the fraction of correct
    predictions over all samples (between 0 and 1); ``"loss"``, present only when
    ``loss_fn`` is given, is the mean loss per sample. ``device`` defaults to the device
    of the model's parameters; when given, the model is moved there.

    Defined in Day 8.
    """
    device = _resolve_device(model, device)
    was_training = model.training
    model.eval()
    loss_sum, correct, count = 0.0, 0, 0
    try:
        with torch.no_grad():
            for inputs, targets in loader:
                inputs, targets = inputs.to(device), targets.to(device)
                outputs = model(inputs)
                if loss_fn is not None:
                    loss_sum += loss_fn(outputs, targets).item() * len(inputs)
                labels = _targets_for_accuracy(targets)
                correct += (_predicted_classes(outputs) == labels).sum().item()
                count += len(inputs)
    finally:
        model.train(was_training)
    if count == 0:
        raise ValueError("the loader yielded no batches")
    result = {"accuracy": correct / count}
    if loss_fn is not None:
        result["loss"] = loss_sum / count
    return result


def predict(
    model: nn.Module, loader: Iterable[Batch], *, device: Device = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``(predicted labels, true labels)`` for every sample of ``loader``, on the CPU.

    Like :func:`evaluate`, it runs in ``eval()`` mode under ``torch.no_grad()`` and
    restores the model's mode afterwards. Useful for confusion matrices and for looking
    at the mistakes. ``device`` defaults to the device of the model's parameters.

    Defined in Day 8.
    """
    device = _resolve_device(model, device)
    was_training = model.training
    model.eval()
    predicted, actual = [], []
    try:
        with torch.no_grad():
            for inputs, targets in loader:
                outputs = model(inputs.to(device))
                predicted.append(_predicted_classes(outputs).cpu())
                actual.append(_targets_for_accuracy(targets).cpu())
    finally:
        model.train(was_training)
    if not predicted:
        raise ValueError("the loader yielded no batches")
    return torch.cat(predicted), torch.cat(actual)


def _train_one_epoch(
    model: nn.Module,
    loader: Iterable[Batch],
    loss_fn: LossFn,
    optimizer: torch.optim.Optimizer,
    device: torch.device,
    bar: Any,
) -> tuple[float, float]:
    """One pass in ``train()`` mode; the mean loss and accuracy over its samples."""
    model.train()
    loss_sum, correct, count = 0.0, 0, 0
    for inputs, targets in loader:
        inputs, targets = inputs.to(device), targets.to(device)
        outputs = model(inputs)
        loss = loss_fn(outputs, targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        loss_sum += loss.item() * len(inputs)
        correct += (_predicted_classes(outputs.detach()) == _targets_for_accuracy(targets)).sum()
        count += len(inputs)
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{loss_sum / count:.4f}", refresh=False)
    if count == 0:
        raise ValueError("the training loader yielded no batches")
    return loss_sum / count, int(correct) / count


def fit(
    model: nn.Module,
    train_loader: Iterable[Batch],
    val_loader: Iterable[Batch] | None,
    loss_fn: LossFn,
    optimizer: torch.optim.Optimizer,
    *,
    epochs: int,
    device: Device = None,
    scheduler: Any = None,
    progress: bool = True,
) -> dict[str, list[float]]:
    """Train ``model`` for ``epochs`` epochs, validating after each; return the history.

    Each epoch trains on every batch of ``train_loader`` in ``train()`` mode, then runs
    :func:`evaluate` on ``val_loader`` (skipped when it is None), steps ``scheduler``
    once (a ``ReduceLROnPlateau`` gets the validation loss, or the training loss when
    there is no validation set), and prints one summary line. ``progress=True`` shows a
    tqdm bar per epoch on ``sys.stdout``. ``device`` defaults to the device of the
    model's parameters; when given, the model is moved there.

    The history holds one value per epoch under ``"train_loss"``, ``"train_acc"``,
    ``"val_loss"``, ``"val_acc"`` (empty lists without a validation set) and
    ``"epoch_time_s"``. Accuracies are fractions between 0 and 1. The training loss and
    accuracy are averaged while the epoch runs (weights changing, Dropout active), so
    they are a little pessimistic compared with an :func:`evaluate` at the epoch's end.

    Defined in Day 8.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, not {epochs}")
    device = _resolve_device(model, device)
    history: dict[str, list[float]] = {
        key: [] for key in ("train_loss", "train_acc", "val_loss", "val_acc", "epoch_time_s")
    }
    width = len(str(epochs))
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        bar = None
        if progress:
            total = len(train_loader) if hasattr(train_loader, "__len__") else None
            bar = tqdm(
                total=total,
                desc=f"epoch {epoch:{width}d}/{epochs}",
                unit="batch",
                file=sys.stdout,
                ncols=80,
                mininterval=0.5,
                leave=True,
            )
        try:
            train_loss, train_acc = _train_one_epoch(
                model, train_loader, loss_fn, optimizer, device, bar
            )
        finally:
            if bar is not None:
                bar.close()
        history["train_loss"].append(train_loss)
        history["train_acc"].append(train_acc)
        line = f"epoch {epoch:{width}d}/{epochs}  train loss {train_loss:.4f} acc {train_acc:.2%}"
        if val_loader is not None:
            val = evaluate(model, val_loader, loss_fn, device=device)
            history["val_loss"].append(val["loss"])
            history["val_acc"].append(val["accuracy"])
            line += f"  |  val loss {val['loss']:.4f} acc {val['accuracy']:.2%}"
        if scheduler is not None:
            if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                monitored = history["val_loss"] or history["train_loss"]
                scheduler.step(monitored[-1])
            else:
                scheduler.step()
        seconds = time.perf_counter() - start
        history["epoch_time_s"].append(seconds)
        print(f"{line}  ({seconds:.1f} s)", flush=True)
    return history
