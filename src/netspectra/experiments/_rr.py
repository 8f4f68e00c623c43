"""What the Ringing ReLUs experiments share: data, fresh minibatches, devices, options."""

from __future__ import annotations

import functools
import zlib

import numpy as np
import torch

from .._validation import choice
from ..data import ImageSet, load_cifar10, load_digits32, minibatch
from ._registry import Option

__all__ = ["DATA_OPTIONS", "fresh_batch", "image_data", "resolve_device", "unit_seed"]

#: Options every RR experiment takes: the data and the device.
DATA_OPTIONS = (
    Option("--data-root", "folder with CIFAR-10's binary distribution (cifar-10-batches-bin); "
           "default: scikit-learn's handwritten digits at 32×32, shipped with the package"),
    Option("--device", "auto, cpu or cuda (default: auto, CUDA when present)", str, "auto"),
)


@functools.lru_cache(maxsize=2)
def image_data(data_root: str | None = None) -> ImageSet:
    """CIFAR-10's training set from ``data_root``, or the digits (the embedded default)."""
    return load_digits32() if data_root is None else load_cifar10(data_root)


def unit_seed(seed: int, *parts: object) -> int:
    """A seed for one unit of work (an architecture, an initialisation …), stable across runs
    and processes: the experiment seed mixed with the unit's description."""
    words = [zlib.crc32(str(p).encode()) for p in parts]
    return int(np.random.SeedSequence([seed, *words]).generate_state(1)[0])


def fresh_batch(data: ImageSet, batch_size: int, seed: int,
                device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """A seeded minibatch with random flips (RR App. A.2: every architecture is measured on a
    minibatch of its own, with data augmentation), as tensors on ``device``."""
    x, y = minibatch(data, batch_size, seed=seed, augment=True)
    return torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)


def resolve_device(device: str) -> torch.device:
    """``"auto"`` → CUDA when available, else CPU; ``"cpu"``/``"cuda[:i]"`` as given."""
    choice(device.split(":")[0], ("auto", "cpu", "cuda"), "device")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)
