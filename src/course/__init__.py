"""Helpers that the lessons import.

Each helper is taught by hand in one lesson first; its docstring says which day
defines it. A learner on Colab installs only this package's dependencies (torch,
torchvision, matplotlib, numpy, tqdm), never the site tooling in ``site_builder``.
"""

from course.device import choose_device
from course.fit import evaluate, fit, predict
from course.plots import plot_curves, plot_decision_boundary
from course.profile import PROFILE, pick
from course.seed import seed_everything
from course.train import evaluate_loss, train_epoch

__all__ = [
    "PROFILE",
    "choose_device",
    "evaluate",
    "evaluate_loss",
    "fit",
    "pick",
    "plot_curves",
    "plot_decision_boundary",
    "predict",
    "seed_everything",
    "train_epoch",
]
