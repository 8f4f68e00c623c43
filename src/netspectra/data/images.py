"""Images for the Ringing ReLUs networks: scikit-learn's handwritten digits at CIFAR size,
the CIFAR-10 and CIFAR-100 binary distributions read from a local folder, a seeded held-out
split, flips and seeded minibatches.

All arrays are NumPy: images float32 ``(N, C, H, W)``, labels int64 ``(N,)``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage

from .._validation import at_least, choice, flag, in_range, rng_seed, within_bytes
from ..errors import NetspectraError

__all__ = [
    "ImageSet",
    "holdout_split",
    "load_cifar10",
    "load_cifar100",
    "load_digits32",
    "minibatch",
    "random_flip",
]

#: Per-channel mean and standard deviation of the CIFAR-10 training images (RGB, in [0, 1]).
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)

_CIFAR_FOLDER = "cifar-10-batches-bin"
_CIFAR_TRAIN = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
_CIFAR_TEST = ("test_batch.bin",)
_CIFAR_SIDE = 32
_CIFAR_RECORD = 1 + 3 * _CIFAR_SIDE * _CIFAR_SIDE

#: Per-channel mean and standard deviation of the CIFAR-100 training images (RGB, in [0, 1]).
CIFAR100_MEAN = (0.5071, 0.4865, 0.4409)
CIFAR100_STD = (0.2673, 0.2564, 0.2762)

_CIFAR100_FOLDER = "cifar-100-binary"
_CIFAR100_TRAIN, _CIFAR100_TEST = "train.bin", "test.bin"
_CIFAR100_RECORD = 2 + 3 * _CIFAR_SIDE * _CIFAR_SIDE


@dataclass(frozen=True, eq=False)
class ImageSet:
    """A labelled image set."""

    images: np.ndarray
    """float32 ``(N, C, H, W)``, standardised per channel."""
    labels: np.ndarray
    """int64 ``(N,)`` class indices."""
    name: str
    """Where the images come from, e.g. ``"cifar10-train"``."""

    def __post_init__(self) -> None:
        images, labels = self.images, self.labels
        if not (isinstance(images, np.ndarray) and images.ndim == 4
                and images.dtype.kind == "f"):
            raise NetspectraError(
                f"images must be a float array (N, C, H, W); found {_describe(images)}")
        if not (isinstance(labels, np.ndarray) and labels.shape == images.shape[:1]
                and labels.dtype.kind in "iu"):
            raise NetspectraError(
                f"labels must be an integer array of shape ({images.shape[0]},); found "
                f"{_describe(labels)}")
        if not isinstance(self.name, str):
            raise NetspectraError(f"name must be a string; found {type(self.name).__name__}")


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"{value.dtype} array of shape {value.shape}"
    return type(value).__name__


def _image_set(data) -> ImageSet:
    if not isinstance(data, ImageSet):
        raise NetspectraError(f"data must be an ImageSet; found {type(data).__name__}")
    return data


def _root(root) -> Path:
    if not isinstance(root, (str, os.PathLike)):
        raise NetspectraError(f"root must be a folder path; found {type(root).__name__}")
    return Path(root)


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
    # float64 zoomed and 3-channel copies, the float32 result: 44 bytes per output pixel.
    within_bytes(44 * digits.images.shape[0] * size * size, "size", "the resized digits")
    small = digits.images / 16.0
    factor = size / small.shape[-1]
    big = ndimage.zoom(small, (1, factor, factor), order=1)
    rgb = np.repeat(big[:, None], 3, axis=1)
    mean, std = rgb.mean(axis=(0, 2, 3)), rgb.std(axis=(0, 2, 3))
    return ImageSet(_standardise(rgb, mean, std), digits.target.astype(np.int64), "digits32")


def _cifar_folder(root: Path, files: tuple[str, ...], subfolder: str = _CIFAR_FOLDER,
                  what: str = "CIFAR-10", archive: str = "cifar-10-binary.tar.gz") -> Path:
    for folder in (root, root / subfolder):
        if all((folder / f).is_file() for f in files):
            return folder
    raise NetspectraError(
        f"{what} files not found in {str(root)!r} or {str(root / subfolder)!r}: expected "
        f"{', '.join(files)}. The binary version is needed ({archive}, which "
        f"unpacks to {subfolder}/); the Python (pickle) version is not read."
    )


def _read_cifar_file(path: Path, record: int = _CIFAR_RECORD,
                     what: str = "CIFAR-10") -> np.ndarray:
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % record:
        raise NetspectraError(
            f"{str(path)!r} is not a {what} binary batch: {raw.size} bytes is not a positive "
            f"multiple of the {record}-byte record"
        )
    return raw.reshape(-1, record)


def _cifar_pixels(records: np.ndarray, mean, std) -> np.ndarray:
    """The last 3072 bytes of each record as standardised float32 ``(N, 3, 32, 32)``."""
    pixels = records[:, -3 * _CIFAR_SIDE * _CIFAR_SIDE:].reshape(
        -1, 3, _CIFAR_SIDE, _CIFAR_SIDE).astype(np.float32)
    pixels /= 255
    return _standardise(pixels, mean, std)


def load_cifar10(root: str | Path, *, train: bool = True) -> ImageSet:
    """CIFAR-10 from its binary distribution in a local folder (RR's training data).

    ``root`` is the ``cifar-10-batches-bin`` folder or its parent. The training set is
    ``data_batch_1.bin`` … ``data_batch_5.bin`` (50000 images), the test set
    ``test_batch.bin`` (10000). Each record is one label byte and 3072 pixel bytes: the red,
    green and blue 32×32 planes, each row-major. Pixels are scaled to [0, 1] and standardised
    with :data:`CIFAR10_MEAN` and :data:`CIFAR10_STD` (the training set's statistics) in
    both sets. Only the binary version is read, never a pickle.
    """
    files = _CIFAR_TRAIN if flag(train, "train") else _CIFAR_TEST
    folder = _cifar_folder(_root(root), files)
    records = np.concatenate([_read_cifar_file(folder / f) for f in files])
    labels = records[:, 0].astype(np.int64)
    if labels.max() > 9:
        raise NetspectraError(f"CIFAR-10 labels must be 0-9; found {labels.max()} in {folder}")
    name = "cifar10-train" if train else "cifar10-test"
    return ImageSet(_cifar_pixels(records, CIFAR10_MEAN, CIFAR10_STD), labels, name)


def load_cifar100(root: str | Path, *, train: bool = True, labels: str = "fine") -> ImageSet:
    """CIFAR-100 from its binary distribution in a local folder (RR App. C, Fig. 10).

    ``root`` is the ``cifar-100-binary`` folder or its parent. The training set is
    ``train.bin`` (50000 images), the test set ``test.bin`` (10000). Each record is the coarse
    label byte (20 superclasses), the fine label byte (100 classes) and 3072 pixel bytes laid
    out as in CIFAR-10. ``labels`` picks ``"fine"`` (the default, RR's task) or
    ``"coarse"``. Pixels are scaled to [0, 1] and standardised with :data:`CIFAR100_MEAN` and
    :data:`CIFAR100_STD` (the training set's statistics). Only the binary version is read,
    never a pickle. :func:`holdout_split` sets aside RR's 1 % validation images.
    """
    choice(labels, ("fine", "coarse"), "labels")
    file = _CIFAR100_TRAIN if flag(train, "train") else _CIFAR100_TEST
    folder = _cifar_folder(_root(root), (file,), _CIFAR100_FOLDER, "CIFAR-100",
                           "cifar-100-binary.tar.gz")
    records = _read_cifar_file(folder / file, _CIFAR100_RECORD, "CIFAR-100")
    column, classes = (1, 100) if labels == "fine" else (0, 20)
    found = records[:, column].astype(np.int64)
    if found.max() >= classes:
        raise NetspectraError(f"CIFAR-100 {labels} labels must be 0-{classes - 1}; found "
                              f"{found.max()} in {folder / file}")
    name = f"cifar100-{'train' if train else 'test'}" + ("" if labels == "fine" else "-coarse")
    return ImageSet(_cifar_pixels(records, CIFAR100_MEAN, CIFAR100_STD), found, name)


def holdout_split(data: ImageSet, fraction: float = 0.01, *,
                  seed: int | np.random.SeedSequence = 0) -> tuple[ImageSet, ImageSet]:
    """Split ``data`` into a training and a held-out part (RR App. C holds out 1 % of
    CIFAR-100's training images for validation).

    ``round(fraction · N)`` images (at least one, at most ``N − 1``), drawn uniformly without
    replacement with ``seed``, go to the held-out part; both parts keep the original order.

    Returns
    -------
    train, heldout : ImageSet
        Named ``"<name>-fit"`` and ``"<name>-heldout"``.
    """
    n = _image_set(data).labels.shape[0]
    fraction = in_range(fraction, "fraction", 0.0, 1.0, low_open=True, high_open=True)
    if n < 2:
        raise NetspectraError(f"data must hold at least 2 images to split; found {n}")
    size = min(max(1, round(fraction * n)), n - 1)
    held = np.zeros(n, dtype=bool)
    held[np.random.default_rng(rng_seed(seed, "seed")).choice(n, size, replace=False)] = True
    return (ImageSet(data.images[~held], data.labels[~held], f"{data.name}-fit"),
            ImageSet(data.images[held], data.labels[held], f"{data.name}-heldout"))


def random_flip(images: np.ndarray, rng: np.random.Generator | int) -> np.ndarray:
    """Mirror each image of ``(N, C, H, W)`` left-right with probability 1/2 (RR App. A.3).

    Image ``i`` is flipped when ``rng.random(N)[i] < 0.5``; that is the one draw made from
    ``rng`` (a NumPy Generator or a seed). Returns a new array.
    """
    try:
        images = np.asarray(images)
    except ValueError:  # a ragged nest of lists
        images = np.array(None)
    if images.ndim != 4 or images.dtype.kind not in "biuf":
        raise NetspectraError(
            f"images must be a real array (N, C, H, W); found {_describe(images)}")
    rng = np.random.default_rng(rng_seed(rng, "rng", generator_ok=True))
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
    n = _image_set(data).labels.shape[0]
    if batch_size > n:
        raise NetspectraError(f"batch_size must be <= {n} (the set's size); found {batch_size}")
    augment = flag(augment, "augment")
    rng = np.random.default_rng(rng_seed(seed, "seed"))
    idx = rng.choice(n, batch_size, replace=False)
    images = data.images[idx]
    return (random_flip(images, rng) if augment else images), data.labels[idx]
