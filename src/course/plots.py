"""Plots that several lessons draw: learning curves and 2-D decision boundaries.

Both are drawn by hand in Day 6 first. They use Matplotlib's object API and
return the ``Axes`` they drew on, so a lesson can put several side by side
(``fig, axes = plt.subplots(1, 2)``) and still add to each one afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from torch import nn


def plot_curves(
    curves: Mapping[str, Sequence[float]],
    *,
    title: str,
    xlabel: str = "epoch",
    ylabel: str = "loss",
    ax: Axes | None = None,
    logy: bool = False,
) -> Axes:
    """Plot one line per named curve (e.g. ``{"train": [...], "validation": [...]}``).

    Epochs are numbered from 1 on the x axis. A legend is drawn when there is
    more than one curve; ``logy=True`` uses a logarithmic y axis, which shows a
    loss that keeps falling by orders of magnitude better than a linear one.

    Defined in Day 6.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    for label, values in curves.items():
        ax.plot(np.arange(1, len(values) + 1), list(values), label=label)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    if len(curves) > 1:
        ax.legend()
    ax.grid(True, alpha=0.3)
    return ax


def _as_numpy(values: torch.Tensor | np.ndarray) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().numpy()
    return np.asarray(values)


def _model_device(model: nn.Module) -> torch.device:
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


def _predict_classes(logits: torch.Tensor) -> torch.Tensor:
    """One logit per point means binary (sigmoid > 0.5); several mean argmax."""
    if logits.ndim == 1 or logits.shape[-1] == 1:
        return (torch.sigmoid(logits.reshape(-1)) > 0.5).long()
    return logits.argmax(dim=-1)


def plot_decision_boundary(
    model: nn.Module,
    X: torch.Tensor | np.ndarray,
    y: torch.Tensor | np.ndarray,
    *,
    ax: Axes | None = None,
    title: str = "Decision boundary",
    resolution: int = 200,
    device: torch.device | str | None = None,
) -> Axes:
    """Colour the plane by the class ``model`` predicts, and scatter the points ``X``.

    ``X`` has shape ``(n, 2)`` and ``y`` holds integer class labels. The model
    returns logits: one per point (binary, class 1 where ``sigmoid > 0.5``) or one
    per class (the argmax wins). It is evaluated on a ``resolution`` by
    ``resolution`` grid under ``torch.no_grad()`` in evaluation mode, and its
    mode is restored afterwards. ``device`` defaults to the model's own.

    Defined in Day 6.
    """
    points = _as_numpy(X).astype(np.float32)
    labels = _as_numpy(y).astype(np.int64).reshape(-1)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"X must have shape (n, 2), got {points.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4.5))
    device = torch.device(device) if device is not None else _model_device(model)

    margin = 0.1 * (points.max(axis=0) - points.min(axis=0)) + 1e-3
    low, high = points.min(axis=0) - margin, points.max(axis=0) + margin
    xx, yy = np.meshgrid(
        np.linspace(low[0], high[0], resolution), np.linspace(low[1], high[1], resolution)
    )
    grid = torch.from_numpy(np.c_[xx.ravel(), yy.ravel()].astype(np.float32)).to(device)

    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            predicted = _predict_classes(model(grid)).cpu().numpy().reshape(xx.shape)
    finally:
        model.train(was_training)

    n_classes = int(max(labels.max(initial=0), predicted.max(initial=0))) + 1
    colours = ListedColormap(plt.get_cmap("tab10").colors[:n_classes])
    ax.contourf(xx, yy, predicted, levels=np.arange(n_classes + 1) - 0.5, cmap=colours, alpha=0.3)
    for k in range(n_classes):
        chosen = labels == k
        if chosen.any():
            ax.scatter(
                points[chosen, 0],
                points[chosen, 1],
                s=14,
                color=colours(k),
                edgecolors="k",
                linewidths=0.3,
                label=f"class {k}",
            )
    ax.set_title(title)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_xlim(low[0], high[0])
    ax.set_ylim(low[1], high[1])
    ax.legend(loc="best", fontsize="small", framealpha=0.8)
    return ax
