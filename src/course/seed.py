"""Seeding every random number generator a lesson uses (Day 1)."""

from __future__ import annotations

import random

import numpy as np
import torch


def seed_everything(seed: int = 0) -> torch.Generator:
    """Seed Python's, NumPy's and PyTorch's generators (CPU and all GPUs).

    Returns a ``torch.Generator`` seeded the same way, handy for a ``DataLoader``
    whose shuffling should not depend on how many random numbers came before.

    Defined in Day 1.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    return torch.Generator().manual_seed(seed)
