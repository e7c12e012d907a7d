"""Early stopping with patience, a minimum improvement and the best weights kept.

Defined in Day 18, which builds :class:`EarlyStopping` by hand and explains each part; the
lesson's copy is checked against this one by ``tests/course/test_early_stopping.py``.
Day 22 compares it with Lightning's ``EarlyStopping`` callback.
"""

from __future__ import annotations

import copy
import math

from torch import nn


class EarlyStopping:
    """Stop training when a monitored value has stopped improving; keep the best weights.

    Call :meth:`step` once per check (usually once per epoch, with the validation loss);
    it returns ``True`` when training should stop. The rule is Lightning's
    (``lightning.pytorch.callbacks.EarlyStopping``), so that Day 22 can swap one for the
    other:

    * a value is an **improvement** when it beats the best so far by *more than*
      ``min_delta``: ``value + min_delta < best`` in mode ``"min"``,
      ``value - min_delta > best`` in mode ``"max"``. An improvement of exactly
      ``min_delta`` does not count. The first finite value always improves on the
      starting best (``inf`` in mode ``"min"``, ``-inf`` in mode ``"max"``);
    * ``patience`` counts **checks** without an improvement, not epochs (the same when
      you validate once per epoch). The counter returns to 0 at every improvement, and
      training stops at the check where it reaches ``patience``: with ``patience=0`` at
      the first check that does not improve;
    * a value that is NaN or infinite stops training at once (Lightning's default
      ``check_finite=True``).

    Differences from Lightning: checks are numbered from 1 here (``best_epoch`` and
    ``stopped_epoch``), where Lightning's ``stopped_epoch`` is the trainer's 0-based
    epoch; and Lightning's callback does not keep weights (its ``ModelCheckpoint`` does),
    while this class keeps a deep copy of the best ``state_dict`` when
    ``restore_best=True`` and a model is passed to :meth:`step`. A deep copy, because
    ``model.state_dict()`` returns the live parameter tensors, which the optimiser keeps
    updating in place: a kept reference would "restore" the latest weights.

    Attributes: ``best`` (the best value so far), ``best_epoch`` (the check that gave it,
    0 before any), ``stopped_epoch`` (the check that returned ``True``, 0 while training
    goes on), ``epoch`` (checks so far), ``wait`` (checks since the last improvement),
    ``best_state`` (the copied ``state_dict`` of the best check, or ``None``).

    Defined in Day 18.
    """

    def __init__(
        self,
        patience: int = 3,
        min_delta: float = 0.0,
        mode: str = "min",
        restore_best: bool = True,
    ) -> None:
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ValueError(f"patience must be a whole number, 0 or more, not {patience!r}")
        if not min_delta >= 0:  # also refuses NaN
            raise ValueError(
                f"min_delta must be 0 or more, not {min_delta!r}: it is the size "
                "of an improvement, and mode already says which direction is better"
            )
        if mode not in ("min", "max"):
            raise ValueError(
                f"mode must be 'min' (e.g. a loss) or 'max' (e.g. an accuracy), not {mode!r}"
            )
        self.patience = patience
        self.min_delta = min_delta
        self.mode = mode
        self.restore_best = restore_best
        self.best = math.inf if mode == "min" else -math.inf
        self.best_epoch = 0
        self.stopped_epoch = 0
        self.epoch = 0
        self.wait = 0
        self.best_state = None

    def improves(self, value: float) -> bool:
        """Whether ``value`` beats the best so far by more than ``min_delta``."""
        if self.mode == "min":
            return value + self.min_delta < self.best
        return value - self.min_delta > self.best

    def step(self, value: float, model: nn.Module | None = None) -> bool:
        """Record one check's value; return ``True`` when training should stop.

        On an improvement, the best value and epoch are updated and, with
        ``restore_best=True`` and a ``model``, a deep copy of its ``state_dict`` is kept.
        """
        value = float(value)
        self.epoch += 1
        if not math.isfinite(value):
            self.stopped_epoch = self.epoch
            return True
        if self.improves(value):
            self.best, self.best_epoch, self.wait = value, self.epoch, 0
            if self.restore_best and model is not None:
                self.best_state = copy.deepcopy(model.state_dict())
            return False
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = self.epoch
            return True
        return False

    def restore(self, model: nn.Module) -> None:
        """Load the best weights seen into ``model``, in place."""
        if self.best_state is None:
            raise RuntimeError(
                "no best weights to restore: use EarlyStopping(restore_best=True) "
                "and pass the model to step(value, model) at every check"
            )
        model.load_state_dict(self.best_state)
