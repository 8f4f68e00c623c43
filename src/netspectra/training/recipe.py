"""The training recipe of Ringing ReLUs (App. A.3), every item overridable."""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass

from .._validation import at_least, flag, in_range, positive
from ..errors import NetspectraError

__all__ = ["Recipe"]


@dataclass(frozen=True)
class Recipe:
    """How :func:`~netspectra.training.train` trains: RR App. A.3 by default.

    SGD with momentum 0.9, learning rate 0.1, weight decay 1e-4 (L2, as ``torch.optim.SGD``
    adds it to the gradient), batch 128, the learning rate multiplied by 0.1 after epochs 100
    and 150 of 200, random horizontal flips. ``Recipe(epochs=30)`` is RR Fig. 9's run (its
    milestones never come).
    """

    epochs: int = 200
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 1e-4
    batch_size: int = 128
    milestones: tuple[int, ...] = (100, 150)
    """Epochs after which the learning rate is multiplied by ``gamma``."""
    gamma: float = 0.1
    flip: bool = True
    """Mirror each training image left-right with probability 1/2, drawn anew each epoch."""
    log_every: int = 100
    """Optimizer steps per logged value of training loss and accuracy (RR Fig. 8 logs about
    800 values over 200 CIFAR epochs of 391 steps: one per ~100 steps)."""

    def __post_init__(self) -> None:
        at_least(self.epochs, 1, "epochs")
        at_least(self.batch_size, 1, "batch_size")
        at_least(self.log_every, 1, "log_every")
        positive(self.lr, "lr")
        positive(self.gamma, "gamma")
        in_range(self.momentum, "momentum", 0, 1, high_open=True)
        in_range(self.weight_decay, "weight_decay", 0)
        milestones = tuple(at_least(m, 1, "milestones") for m in self.milestones)
        if any(b <= a for a, b in itertools.pairwise(milestones)):
            raise NetspectraError(f"milestones must increase; found {self.milestones!r}")
        object.__setattr__(self, "milestones", milestones)
        flag(self.flip, "flip")

    def as_dict(self) -> dict:
        """The recipe as plain JSON values (saved with every result)."""
        return {**dataclasses.asdict(self), "milestones": list(self.milestones)}
