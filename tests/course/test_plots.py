"""Tests for course.plots: learning curves and decision boundaries."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.contour import ContourSet  # noqa: E402
from torch import nn  # noqa: E402

from course.plots import plot_curves, plot_decision_boundary  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_plot_curves_draws_one_labelled_line_per_curve() -> None:
    curves = {"train": [1.0, 0.5, 0.25], "validation": [1.1, 0.7, 0.6]}
    ax = plot_curves(curves, title="Loss", ylabel="cross-entropy")

    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["train", "validation"]
    np.testing.assert_array_equal(lines[0].get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(lines[1].get_ydata(), [1.1, 0.7, 0.6])
    assert ax.get_title() == "Loss"
    assert ax.get_xlabel() == "epoch"
    assert ax.get_ylabel() == "cross-entropy"
    legend = ax.get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == ["train", "validation"]
    assert ax.get_yscale() == "linear"


def test_plot_curves_uses_given_axes_and_log_scale() -> None:
    _, axes = plt.subplots(1, 2)
    ax = plot_curves({"only": [3.0, 2.0, 1.0]}, title="t", ax=axes[1], logy=True)
    assert ax is axes[1]
    assert ax.get_yscale() == "log"
    assert ax.get_legend() is None  # a single curve needs no legend
    assert len(axes[0].get_lines()) == 0


def _blobs() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    X = torch.cat(
        [torch.randn(20, 2, generator=generator) - 2, torch.randn(20, 2, generator=generator) + 2]
    )
    y = torch.cat([torch.zeros(20), torch.ones(20)]).long()
    return X, y


def _contour_sets(ax) -> list[ContourSet]:
    return [c for c in ax.collections if isinstance(c, ContourSet)]


def test_plot_decision_boundary_multiclass_logits() -> None:
    X, y = _blobs()
    model = nn.Linear(2, 2)
    with torch.no_grad():  # class 1 wherever x1 + x2 > 0
        model.weight.copy_(torch.tensor([[-1.0, -1.0], [1.0, 1.0]]))
        model.bias.zero_()
    model.train()
    ax = plot_decision_boundary(model, X, y, title="Two blobs", resolution=50)

    assert ax.get_title() == "Two blobs"
    assert _contour_sets(ax), "expected a filled contour set"
    legend = ax.get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == ["class 0", "class 1"]
    assert model.training  # the mode is restored
    xmin, xmax = ax.get_xlim()
    assert xmin < X[:, 0].min().item() and xmax > X[:, 0].max().item()


def test_plot_decision_boundary_binary_single_logit_and_numpy_input() -> None:
    X, y = _blobs()
    model = nn.Sequential(nn.Linear(2, 1))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[1.0, 1.0]]))
        model[0].bias.zero_()
    _, ax_given = plt.subplots()
    ax = plot_decision_boundary(model, X.numpy(), y.numpy(), ax=ax_given, resolution=30)
    assert ax is ax_given
    contour = _contour_sets(ax)[0]
    # One filled band per class: boundaries at -0.5, 0.5 and 1.5.
    np.testing.assert_allclose(contour.levels, [-0.5, 0.5, 1.5])
    assert model.training  # a fresh module is in training mode, and stays so


def test_plot_decision_boundary_predictions_follow_the_model() -> None:
    from course.plots import _predict_classes

    assert _predict_classes(torch.tensor([[-3.0], [3.0]])).tolist() == [0, 1]
    assert _predict_classes(torch.tensor([-3.0, 3.0])).tolist() == [0, 1]
    assert _predict_classes(torch.tensor([[0.1, 2.0, -1.0]])).tolist() == [1]


def test_plot_decision_boundary_rejects_non_2d_inputs() -> None:
    with pytest.raises(ValueError):
        plot_decision_boundary(nn.Linear(3, 2), torch.zeros(5, 3), torch.zeros(5))
