"""Seeding every random number generator a lesson uses (Day 1)."""

from __future__ import annotations

import random

import numpy as np
import torch


def seed_everything(seed: int = 0) -> None:
    """Seed Python's, NumPy's and PyTorch's generators (CPU and all GPUs).

    Returns nothing, so that a notebook cell ending with this call shows nothing. A
    ``DataLoader`` whose shuffling should not depend on how many random numbers came
    before gets its own ``torch.Generator().manual_seed(seed)``.

    Defined in Day 1.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
