"""The run profile: how much work a lesson does.

``full`` is what the published site shows: real data and real training budgets.
``smoke`` runs every code path on tiny data in seconds; the test suite uses it.
The profile comes from the ``COURSE_PROFILE`` environment variable (default
``full``), so a learner running a notebook gets the real thing.

Defined for Day 1; every lesson reads its budgets through :func:`pick`.
"""

from __future__ import annotations

import os
from typing import TypeVar

PROFILES = ("full", "smoke")
ENV_VAR = "COURSE_PROFILE"

T = TypeVar("T")


def current() -> str:
    """Return the active profile name, refusing unknown values."""
    name = os.environ.get(ENV_VAR, "full").strip().lower() or "full"
    if name not in PROFILES:
        raise ValueError(
            f"{ENV_VAR}={name!r} is not a known profile; use one of {', '.join(PROFILES)}."
        )
    return name


PROFILE = current()


def pick(*, full: T, smoke: T) -> T:
    """Return the value for the active profile, e.g. ``epochs = pick(full=20, smoke=2)``."""
    return smoke if current() == "smoke" else full
