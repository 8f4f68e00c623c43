"""Train any image classifier on an :class:`~netspectra.data.ImageSet` (RR App. A.3)."""

from __future__ import annotations

import contextlib
import math
import time
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .._validation import choice, flag, seed_value
from .._validation_torch import module, resolve_device
from .._warnings import warn_caller
from ..data import ImageSet
from ..errors import NetspectraError
from .recipe import Recipe
from .result import TrainingResult

__all__ = ["train"]

#: Images per forward when evaluating the held-out set.
_EVAL_BATCH = 500
_PRECISIONS = {"float32": None, "bfloat16": torch.bfloat16}


def _check_set(data: ImageSet, name: str) -> None:
    if not isinstance(data, ImageSet):
        raise NetspectraError(f"{name} must be an ImageSet; found {type(data).__name__}")
    images, labels = data.images, data.labels
    if images.ndim != 4 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise NetspectraError(f"{name} must hold (N, C, H, W) images and N labels; found "
                              f"images {images.shape} and labels {labels.shape}")
    if labels.shape[0] == 0:
        raise NetspectraError(f"{name} must not be empty")


def _training_device(model: nn.Module, device: str | torch.device | None) -> torch.device:
    """``device`` checked (``"auto"`` allowed), or where the model's parameters are."""
    if device is not None:
        return resolve_device(str(device))
    first = next(model.parameters(), None)
    return first.device if first is not None else torch.device("cpu")


def _as_tensors(data: ImageSet, device: torch.device,
                memory_format: torch.memory_format) -> tuple[torch.Tensor, torch.Tensor]:
    # On CPU this shares the ImageSet's memory; a CUDA run copies the set once, not per step.
    # The arrays may be read-only (Ray's object store): the loop never writes into them.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        images = torch.from_numpy(np.ascontiguousarray(data.images, dtype=np.float32))
        labels = torch.from_numpy(np.asarray(data.labels, dtype=np.int64))
    return images.to(device, memory_format=memory_format), labels.to(device)


def _check_logits(logits: torch.Tensor, top_label: int) -> None:
    if logits.ndim != 2 or logits.shape[1] <= top_label:
        raise NetspectraError(f"model must return (batch, classes) logits with more than "
                              f"{top_label} classes (the largest label); found shape "
                              f"{tuple(logits.shape)}")


@torch.no_grad()
def _evaluate(model: nn.Module, images: torch.Tensor, labels: torch.Tensor,
              autocast) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of ``model`` in eval mode."""
    was_training = model.training
    model.eval()
    loss = torch.zeros((), dtype=torch.float64, device=images.device)
    correct = torch.zeros((), dtype=torch.int64, device=images.device)
    try:
        for start in range(0, labels.shape[0], _EVAL_BATCH):
            y = labels[start:start + _EVAL_BATCH]
            with autocast():
                logits = model(images[start:start + _EVAL_BATCH]).float()
            loss += F.cross_entropy(logits, y, reduction="sum")
            correct += (logits.argmax(dim=1) == y).sum()
    finally:
        model.train(was_training)
    n = labels.shape[0]
    return float(loss) / n, int(correct) / n


def train(model: nn.Module, data: ImageSet, heldout: ImageSet | None = None, *,
          recipe: Recipe | None = None, seed: int = 0,
          device: str | torch.device | None = None, precision: str = "float32",
          channels_last: bool | None = None, progress: bool = True) -> TrainingResult:
    """Train ``model`` on ``data`` with cross-entropy and SGD (RR App. A.3, Figs. 8-10).

    Every epoch visits the images once in a fresh random order, in minibatches of
    ``recipe.batch_size`` (the last one smaller when the size does not divide), each image
    mirrored with probability 1/2 when ``recipe.flip``. The learning rate follows
    ``recipe.milestones``. Training loss and accuracy are logged every ``recipe.log_every``
    steps (and at the end, for a partial window), the held-out set is evaluated after every
    epoch in eval mode. The model is trained in place and left in training mode.

    Parameters
    ----------
    model : nn.Module
        Maps ``(B, C, H, W)`` images to ``(B, classes)`` logits.
    data, heldout : ImageSet
        Training images and an optional held-out set (e.g. from
        :func:`~netspectra.data.holdout_split`, RR App. C).
    recipe : Recipe, optional
        Optimizer, schedule, batch size, augmentation and logging; default RR App. A.3.
    seed : int
        Seeds the order of the images, the flips and, inside the run only, torch's global
        generator (dropout). The same model, data and seed give the same numbers on the same
        device and thread count. The model's initialisation is the caller's.
    device : str or torch.device, optional
        Where to train: ``"cpu"``, ``"cuda"``, ``"cuda:i"`` or ``"auto"`` (CUDA when present);
        default: where the model's parameters are. The model and the images are moved there
        (a CUDA run copies each set to the GPU once). A device this torch cannot use is a
        :class:`~netspectra.NetspectraError`.
    precision : {"float32", "bfloat16"}
        ``"bfloat16"`` runs forward passes under ``torch.autocast`` in bfloat16 (the weights,
        gradients and optimizer stay float32). It changes the numerics; not RR's setting.
    channels_last : bool, optional
        Train in channels-last memory order; the model is handed back in contiguous order.
        Default: on CPU, where it measured 1.2-1.4× faster for CIFAR ResNets
        (``benchmarks/training.py``); not on CUDA, where it has not been measured.
    progress : bool
        Show a progress bar with the logged loss and accuracy.

    Returns
    -------
    TrainingResult
        The logged curves, the recipe, seed, device and wall time.
    """
    module(model, "model")
    seed = seed_value(seed)
    if channels_last is not None:
        flag(channels_last, "channels_last")
    flag(progress, "progress")
    recipe = Recipe() if recipe is None else recipe
    if not isinstance(recipe, Recipe):
        raise NetspectraError(f"recipe must be a Recipe; found {type(recipe).__name__}")
    _check_set(data, "data")
    if heldout is not None:
        _check_set(heldout, "heldout")
    choice(precision, _PRECISIONS, "precision")
    device = _training_device(model, device)
    channels_last = device.type == "cpu" if channels_last is None else bool(channels_last)
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    model.to(device, memory_format=memory_format)
    dtype = _PRECISIONS[precision]
    autocast = (lambda: torch.autocast(device.type, dtype=dtype)) if dtype else (
        contextlib.nullcontext)
    forked = [device.index or 0] if device.type == "cuda" else []
    began = time.perf_counter()
    try:
        with torch.random.fork_rng(devices=forked):
            torch.manual_seed(seed)
            curves = _run(model, data, heldout, recipe, seed, device, memory_format, autocast,
                          progress)
    finally:
        if channels_last:
            model.to(memory_format=torch.contiguous_format)
    return TrainingResult(**curves, recipe=recipe.as_dict(), seed=seed, device=str(device),
                          precision=precision, channels_last=channels_last,
                          n_images=int(data.labels.shape[0]), seconds=time.perf_counter() - began)


class _Log:
    """Running sums of the minibatches since the last log, kept on the device so that a step
    does not wait for the host."""

    def __init__(self, device: torch.device) -> None:
        self.loss = torch.zeros((), dtype=torch.float64, device=device)
        self.correct = torch.zeros((), dtype=torch.int64, device=device)
        self.images = 0
        self.step, self.train_loss, self.train_accuracy = [], [], []

    def add(self, logits: torch.Tensor, y: torch.Tensor, loss: torch.Tensor) -> None:
        self.loss += loss.detach() * y.shape[0]
        self.correct += (logits.detach().argmax(dim=1) == y).sum()
        self.images += y.shape[0]

    def flush(self, step: int) -> None:
        if not self.images:
            return
        loss = float(self.loss) / self.images
        if not math.isfinite(loss) and all(map(math.isfinite, self.train_loss)):
            warn_caller(f"training loss became {loss} by step {step}: the run diverged")
        self.step.append(step)
        self.train_loss.append(loss)
        self.train_accuracy.append(int(self.correct) / self.images)
        self.loss.zero_()
        self.correct.zero_()
        self.images = 0


def _run(model, data, heldout, recipe, seed, device, memory_format, autocast, progress) -> dict:
    images, labels = _as_tensors(data, device, memory_format)
    top_label = int(labels.max())
    held = None if heldout is None else _as_tensors(heldout, device, memory_format)
    gen = torch.Generator().manual_seed(int(seed))
    opt = torch.optim.SGD(model.parameters(), lr=recipe.lr, momentum=recipe.momentum,
                          weight_decay=recipe.weight_decay)
    schedule = torch.optim.lr_scheduler.MultiStepLR(opt, list(recipe.milestones), recipe.gamma)
    n, size = labels.shape[0], recipe.batch_size
    log, step = _Log(device), 0
    epoch_step, held_loss, held_accuracy = [], [], []
    bar = tqdm(total=recipe.epochs * math.ceil(n / size), desc="training", unit="step",
               disable=not progress, leave=False)
    model.train()
    with bar:
        for _ in range(recipe.epochs):
            order = torch.randperm(n, generator=gen).to(device)
            flips = (torch.rand(n, generator=gen) < 0.5).to(device) if recipe.flip else None
            for start in range(0, n, size):
                idx = order[start:start + size]
                x, y = images[idx], labels[idx]
                if flips is not None:
                    x = torch.where(flips[start:start + size, None, None, None], x.flip(-1), x)
                with autocast():
                    logits = model(x).float()
                if step == 0:
                    _check_logits(logits, top_label)
                loss = F.cross_entropy(logits, y)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                log.add(logits, y, loss)
                step += 1
                bar.update()
                if step % recipe.log_every == 0:
                    log.flush(step)
                    bar.set_postfix(loss=f"{log.train_loss[-1]:.3f}",
                                    acc=f"{log.train_accuracy[-1]:.3f}")
            schedule.step()
            epoch_step.append(step)
            result = (math.nan, math.nan) if held is None else _evaluate(model, *held, autocast)
            held_loss.append(result[0])
            held_accuracy.append(result[1])
    log.flush(step)
    return {"step": np.array(log.step, dtype=np.int64),
            "train_loss": np.array(log.train_loss), "train_accuracy": np.array(log.train_accuracy),
            "epoch_step": np.array(epoch_step, dtype=np.int64),
            "heldout_loss": np.array(held_loss), "heldout_accuracy": np.array(held_accuracy)}
