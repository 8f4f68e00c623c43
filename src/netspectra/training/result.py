"""What a training run leaves behind: its logged curves, saved and drawn."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..results import Result

__all__ = ["TrainingResult"]


@dataclass(frozen=True, eq=False)
class TrainingResult(Result):
    """Curves of one run of :func:`~netspectra.training.train` (RR Figs. 8-10).

    ``save(dir)`` writes the arrays to ``arrays.npz`` and the rest to ``result.json``;
    ``TrainingResult.load(dir)`` reads them back.
    """

    step: np.ndarray
    """int64 ``(L,)``: optimizer steps taken at each logged value."""
    train_loss: np.ndarray
    """``(L,)`` mean cross-entropy (nats) of the minibatches since the previous log, in
    training mode on the augmented images, before each step's update."""
    train_accuracy: np.ndarray
    """``(L,)`` fraction of those minibatches' images classified right."""
    epoch_step: np.ndarray
    """int64 ``(E,)``: optimizer steps taken at the end of each epoch."""
    heldout_loss: np.ndarray
    """``(E,)`` mean cross-entropy on the held-out set after each epoch, in eval mode (batch
    norm's running statistics); NaN without a held-out set."""
    heldout_accuracy: np.ndarray
    """``(E,)`` held-out accuracy after each epoch; NaN without a held-out set."""
    recipe: dict
    """The :class:`~netspectra.training.Recipe` as a dict."""
    seed: int
    device: str
    precision: str
    """``"float32"``, or ``"bfloat16"`` under autocast."""
    channels_last: bool
    """Whether the run used channels-last memory order."""
    n_images: int
    """Training images per epoch."""
    seconds: float
    """Wall time of the training, held-out evaluations included."""

    def plot(self, ax=None):
        """Training accuracy per logged step and held-out accuracy per epoch; returns the
        Figure."""
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4)) if ax is None else (ax.figure, ax)
        ax.plot(self.step, self.train_accuracy, label="training (logged minibatches)")
        if np.isfinite(self.heldout_accuracy).any():
            ax.plot(self.epoch_step, self.heldout_accuracy, "o-", ms=3, label="held out")
        ax.set(xlabel="optimizer step", ylabel="accuracy", ylim=(0, 1),
               title=f"{self.recipe['epochs']} epochs, batch {self.recipe['batch_size']}, "
                     f"lr {self.recipe['lr']:g}, seed {self.seed}")
        ax.legend(fontsize="small")
        return fig
