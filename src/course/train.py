"""The basic training step and loop (taught by hand in Day 6).

These are the five steps of Day 6 in reusable form: forward, loss,
``zero_grad``, ``backward``, ``step``. They stay deliberately small; Day 8 adds
validation, accuracy, a history and a progress bar on top of them.

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


def _to_device(
    batch: Batch, device: torch.device | str | None
) -> tuple[torch.Tensor, torch.Tensor]:
    inputs, targets = batch
    if device is not None:
        inputs, targets = inputs.to(device), targets.to(device)
    return inputs, targets


def train_step(
    model: nn.Module,
    batch: Batch,
    loss_fn: LossFn,
    optimizer: torch.optim.Optimizer,
    device: torch.device | str | None = None,
) -> float:
    """Run one optimisation step on one ``(inputs, targets)`` batch; return its loss.

    The steps are forward, loss, ``optimizer.zero_grad()``, ``loss.backward()``
    and ``optimizer.step()``. ``device``, when given, is where the batch is moved
    (the model is expected to be there already). The mode of ``model`` is left
    as it is: call ``model.train()`` first, as :func:`train_epoch` does.

    Defined in Day 6.
    """
    inputs, targets = _to_device(batch, device)
    outputs = model(inputs)
    loss = loss_fn(outputs, targets)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


def train_epoch(
    model: nn.Module,
    loader: Iterable[Batch],
    loss_fn: LossFn,
    optimizer: torch.optim.Optimizer,
    device: torch.device | str | None = None,
) -> float:
    """Train ``model`` for one pass over ``loader``; return the mean loss per sample.

    Puts the model in training mode (so Dropout and BatchNorm behave as in
    training) and runs :func:`train_step` on every batch.

    Defined in Day 6.
    """
    model.train()
    total, count = 0.0, 0
    for batch in loader:
        size = len(batch[0])
        total += train_step(model, batch, loss_fn, optimizer, device) * size
        count += size
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

    Defined in Day 6.
    """
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    try:
        with torch.no_grad():
            for batch in loader:
                inputs, targets = _to_device(batch, device)
                total += loss_fn(model(inputs), targets).item() * len(inputs)
                count += len(inputs)
    finally:
        model.train(was_training)
    if count == 0:
        raise ValueError("the loader yielded no batches")
    return total / count
