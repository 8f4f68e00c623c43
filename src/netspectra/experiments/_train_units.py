"""What the training experiments of Ringing ReLUs §5 share (Figs. 8-10): their data, the
training of one seeded network and the headline average of its curve."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .._validation import at_least, bounded, choice
from ..data import ImageSet, holdout_split, load_cifar10, load_cifar100, load_digits32
from ..errors import NetspectraError
from ..training import Recipe, train
from ._registry import Option

__all__ = [
    "LAST_LOGS",
    "MAX_EPOCHS",
    "TRAINING_DATA_OPTIONS",
    "final_value",
    "resolve_data",
    "train_unit",
    "training_data",
    "training_settings",
]

#: RR Fig. 9 scores a run by "the average over the last 25 values" of its logged training
#: accuracy; Fig. 8's ``final_train_accuracy`` uses the same.
LAST_LOGS = 25

#: Most epochs per training run: 10× the paper's 200.
MAX_EPOCHS = 2000

#: Fraction of the CIFAR-100 training images held out for validation (RR App. C).
CIFAR100_HELDOUT = 0.01

TRAINING_DATA_OPTIONS = (
    Option("--data", "digits, cifar10 or cifar100 (default: the digits; cifar10 when "
           "--data-root is given)"),
    Option("--data-root", "folder with the binary distribution of --data "
           "(cifar-10-batches-bin or cifar-100-binary)"),
    Option("--device", "auto, cpu or cuda (default: auto, CUDA when present)", str, "auto"),
    Option("--train-batch", "training minibatch size (default: 128, RR App. A.3)", int),
)


def resolve_data(data: str | None, data_root: str | None) -> tuple[str, str | None]:
    """The data set's name and its folder made absolute (both settings of every unit)."""
    name = data if data is not None else ("digits" if data_root is None else "cifar10")
    choice(name, ("digits", "cifar10", "cifar100"), "data")
    if name == "digits":
        if data_root is not None:
            raise NetspectraError(f"--data-root is for cifar10 or cifar100; found --data digits "
                                  f"with --data-root {data_root!r}")
        return name, None
    if data_root is None:
        raise NetspectraError(f"--data {name} needs --data-root DIR (the folder of its binary "
                              "distribution)")
    return name, str(Path(data_root).resolve())


@functools.lru_cache(maxsize=2)
def training_data(data: str, data_root: str | None,
                  size: int = 32) -> tuple[ImageSet, ImageSet | None]:
    """The training images and, for CIFAR-100, the 1 % held out for validation (RR App. C,
    a fixed split, seed 0). ``size`` resizes the digits only (CIFAR is 32×32)."""
    if data == "digits":
        return load_digits32(size=size), None
    if data == "cifar10":
        return load_cifar10(data_root), None
    return holdout_split(load_cifar100(data_root), CIFAR100_HELDOUT, seed=0)


def training_settings(defaults: dict, *, data: str | None, data_root: str | None,
                      size: int | None, epochs: int | None, log_every: int | None,
                      train_batch: int | None) -> tuple[dict, ImageSet, ImageSet | None]:
    """The data and training settings both training experiments share, checked, with the
    images they name: ``(settings, training images, held-out images)``. ``defaults`` gives
    what is ``None``; ``size`` applies to the digits only (CIFAR stays 32×32)."""
    data, data_root = resolve_data(data, data_root)
    size = 32 if data != "digits" else at_least(defaults["size"] if size is None else size, 2,
                                                 "size")
    images, heldout = training_data(data, data_root, size)
    n_images = images.labels.shape[0]
    settings = {
        "data": data, "data_root": data_root, "size": size,
        "epochs": bounded(defaults["epochs"] if epochs is None else epochs, 1, MAX_EPOCHS,
                          "epochs", "10× the paper's 200"),
        "log_every": at_least(defaults["log_every"] if log_every is None else log_every, 1,
                              "log_every"),
        "train_batch": bounded(defaults["train_batch"] if train_batch is None else train_batch,
                               1, n_images, "train_batch",
                               f"the {images.name} set holds {n_images} images"),
    }
    return settings, images, heldout


def final_value(curve: np.ndarray, last: int = LAST_LOGS) -> float:
    """Mean of the last ``last`` values of a logged curve (all of them when it is shorter)."""
    return float(np.mean(curve[-last:]))


def train_unit(model: nn.Module, fit: ImageSet, heldout: ImageSet | None, *, epochs: int,
               train_batch: int, log_every: int, seed: int,
               device: str) -> dict[str, np.ndarray]:
    """Train ``model`` on ``fit`` with RR App. A.3's recipe for ``epochs`` in batches of
    ``train_batch`` and return its curves: ``train_accuracy``, ``train_loss``, ``step``,
    ``epoch_step`` and, with ``heldout`` images, ``heldout_accuracy`` per epoch."""
    recipe = Recipe(epochs=epochs, batch_size=train_batch, log_every=log_every)
    result = train(model, fit, heldout, recipe=recipe, seed=seed, device=torch.device(device),
                   progress=False)
    curves = {"train_accuracy": result.train_accuracy, "train_loss": result.train_loss,
              "step": result.step, "epoch_step": result.epoch_step}
    if heldout is not None:
        curves["heldout_accuracy"] = result.heldout_accuracy
    return curves
