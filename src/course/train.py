"""The basic training loop and its loss on held-out data (written by hand in Day 6).

These are the five steps of Day 6 in reusable form: forward, loss,
``zero_grad``, ``backward``, ``step``. They stay deliberately small; Day 8's
:mod:`course.fit` adds accuracy, a history and a progress bar on top of them.

A batch is an ``(inputs, targets)`` pair, as a ``DataLoader`` over a
``TensorDataset`` yields it. The loss function is expected to average over the
batch (the default ``reduction="mean"`` of PyTorch's losses), so the epoch means
below weight each batch by its size and are exact means over samples.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import torch
from torch import nn

Batch = Sequence[torch.Tensor]
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def train_epoch(
    model: nn.Module,
    loader: Iterable[Batch],
    loss_fn: LossFn,
    optimizer: torch.optim.Optimizer,
    device: torch.device | str | None = None,
) -> float:
    """Train ``model`` for one pass over ``loader``; return the mean loss per sample.

    Puts the model in training mode (so Dropout and BatchNorm behave as in training),
    then runs the five steps on every batch: forward, loss, ``optimizer.zero_grad()``,
    ``loss.backward()``, ``optimizer.step()``. ``device``, when given, is where each
    batch is moved (the model is expected to be there already).

    Written by hand in Day 6, under the same name.
    """
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


def evaluate_loss(
    model: nn.Module,
    loader: Iterable[Batch],
    loss_fn: LossFn,
    device: torch.device | str | None = None,
) -> float:
    """Return the mean loss per sample of ``model`` over ``loader``, without training.

    Runs in evaluation mode under ``torch.no_grad()`` and restores the mode the
    model was in before, so it can be called in the middle of training.

    Written by hand in Day 6, under the same name.
    """
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
