"""Choosing the device once (by hand in Day 1, in depth in Day 4)."""

from __future__ import annotations

import os

import torch

ENV_VAR = "COURSE_DEVICE"


def choose_device(override: str | None = None) -> torch.device:
    """Return the best available device: CUDA, then Apple ``mps``, then the CPU.

    ``override`` (or the ``COURSE_DEVICE`` environment variable) forces a choice,
    e.g. ``"cpu"`` to compare timings. Asking for a device that is not available
    raises ``RuntimeError`` instead of failing later with a less helpful message.

    Defined in Day 1 (written by hand there) and taught in depth in Day 4.
    """
    wanted = override or os.environ.get(ENV_VAR) or None
    if wanted is not None:
        device = torch.device(wanted)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(f"device {wanted!r} was asked for but CUDA is not available here")
        if device.type == "mps" and not _mps_available():
            raise RuntimeError(f"device {wanted!r} was asked for but MPS is not available here")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())
