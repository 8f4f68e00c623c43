"""Images for the Ringing ReLUs networks: scikit-learn's handwritten digits at CIFAR size,
the CIFAR-10 binary distribution read from a local folder, flips and seeded minibatches.

All arrays are NumPy: images float32 ``(N, C, H, W)``, labels int64 ``(N,)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage

from .._validation import at_least
from ..errors import NetspectraError

__all__ = ["ImageSet", "load_cifar10", "load_digits32", "minibatch", "random_flip"]

#: Per-channel mean and standard deviation of the CIFAR-10 training images (RGB, in [0, 1]).
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)

_CIFAR_FOLDER = "cifar-10-batches-bin"
_CIFAR_TRAIN = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
_CIFAR_TEST = ("test_batch.bin",)
_CIFAR_SIDE = 32
_CIFAR_RECORD = 1 + 3 * _CIFAR_SIDE * _CIFAR_SIDE


@dataclass(frozen=True, eq=False)
class ImageSet:
    """A labelled image set."""

    images: np.ndarray
    """float32 ``(N, C, H, W)``, standardised per channel."""
    labels: np.ndarray
    """int64 ``(N,)`` class indices."""
    name: str
    """Where the images come from, e.g. ``"cifar10-train"``."""


def _standardise(images: np.ndarray, mean, std) -> np.ndarray:
    """``(images - mean) / std`` per channel as float32, in place when already float32 (the
    CIFAR-10 training set would need over 1 GB for float64 temporaries)."""
    out = images.astype(np.float32, copy=False)
    out -= np.asarray(mean, dtype=np.float32).reshape(1, -1, 1, 1)
    out /= np.asarray(std, dtype=np.float32).reshape(1, -1, 1, 1)
    return out


def load_digits32(*, size: int = 32) -> ImageSet:
    """scikit-learn's handwritten digits (1797 real 8×8 scans, 10 classes) at CIFAR's format.

    A small real image set that needs no download, for running the CIFAR networks quickly.
    Values 0-16 are scaled to [0, 1], resized to ``size × size`` by bilinear interpolation
    with the corner pixels aligned (``scipy.ndimage.zoom``, ``order=1``), replicated to 3
    channels and standardised with the set's own per-channel mean and standard deviation.
    """
    from sklearn.datasets import load_digits

    size = at_least(size, 2, "size")
    digits = load_digits()
    small = digits.images / 16.0
    factor = size / small.shape[-1]
    big = ndimage.zoom(small, (1, factor, factor), order=1)
    rgb = np.repeat(big[:, None], 3, axis=1)
    mean, std = rgb.mean(axis=(0, 2, 3)), rgb.std(axis=(0, 2, 3))
    return ImageSet(_standardise(rgb, mean, std), digits.target.astype(np.int64), "digits32")


def _cifar_folder(root: Path, files: tuple[str, ...]) -> Path:
    for folder in (root, root / _CIFAR_FOLDER):
        if all((folder / f).is_file() for f in files):
            return folder
    raise NetspectraError(
        f"CIFAR-10 files not found in {str(root)!r} or {str(root / _CIFAR_FOLDER)!r}: expected "
        f"{', '.join(files)}. The binary version is needed (cifar-10-binary.tar.gz, which "
        f"unpacks to {_CIFAR_FOLDER}/); the Python (pickle) version is not read."
    )


def _read_cifar_file(path: Path) -> np.ndarray:
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % _CIFAR_RECORD:
        raise NetspectraError(
            f"{str(path)!r} is not a CIFAR-10 binary batch: {raw.size} bytes is not a positive "
            f"multiple of the {_CIFAR_RECORD}-byte record"
        )
    return raw.reshape(-1, _CIFAR_RECORD)


def load_cifar10(root: str | Path, *, train: bool = True) -> ImageSet:
    """CIFAR-10 from its binary distribution in a local folder (RR's training data).

    ``root`` is the ``cifar-10-batches-bin`` folder or its parent. The training set is
    ``data_batch_1.bin`` … ``data_batch_5.bin`` (50000 images), the test set
    ``test_batch.bin`` (10000). Each record is one label byte and 3072 pixel bytes: the red,
    green and blue 32×32 planes, each row-major. Pixels are scaled to [0, 1] and standardised
    with :data:`CIFAR10_MEAN` and :data:`CIFAR10_STD` (the training set's statistics) in
    both sets. Only the binary version is read, never a pickle.
    """
    files = _CIFAR_TRAIN if train else _CIFAR_TEST
    folder = _cifar_folder(Path(root), files)
    records = np.concatenate([_read_cifar_file(folder / f) for f in files])
    labels = records[:, 0].astype(np.int64)
    if labels.max() > 9:
        raise NetspectraError(f"CIFAR-10 labels must be 0-9; found {labels.max()} in {folder}")
    pixels = records[:, 1:].reshape(-1, 3, _CIFAR_SIDE, _CIFAR_SIDE).astype(np.float32)
    pixels /= 255
    name = "cifar10-train" if train else "cifar10-test"
    return ImageSet(_standardise(pixels, CIFAR10_MEAN, CIFAR10_STD), labels, name)


def random_flip(images: np.ndarray, rng: np.random.Generator | int) -> np.ndarray:
    """Mirror each image of ``(N, C, H, W)`` left-right with probability 1/2 (RR App. A.3).

    Image ``i`` is flipped when ``rng.random(N)[i] < 0.5``; that is the one draw made from
    ``rng`` (a NumPy Generator or a seed). Returns a new array.
    """
    images = np.asarray(images)
    if images.ndim != 4:
        raise NetspectraError(f"images must have shape (N, C, H, W); found {images.shape}")
    rng = np.random.default_rng(rng)
    flip = rng.random(images.shape[0]) < 0.5
    out = images.copy()
    out[flip] = out[flip, ..., ::-1]
    return out


def minibatch(data: ImageSet, batch_size: int, *, seed: int | np.random.SeedSequence,
              augment: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """``batch_size`` distinct images drawn at random, randomly flipped when ``augment``.

    RR measures each architecture on its own minibatch "to exclude bias by batch selection"
    (App. A.2), in training mode with augmentation: pass a different ``seed`` per
    architecture. The same seed gives the same batch.

    Returns
    -------
    images, labels : ndarray
        float32 ``(batch_size, C, H, W)`` and int64 ``(batch_size,)``.
    """
    batch_size = at_least(batch_size, 1, "batch_size")
    n = data.labels.shape[0]
    if batch_size > n:
        raise NetspectraError(f"batch_size must be <= {n} (the set's size); found {batch_size}")
    rng = np.random.default_rng(seed)
    idx = rng.choice(n, batch_size, replace=False)
    images = data.images[idx]
    return (random_flip(images, rng) if augment else images), data.labels[idx]
