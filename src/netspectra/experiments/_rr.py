"""What the Ringing ReLUs experiments share: data, fresh minibatches, options and their bounds,
loss walks and fits."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .._validation import bounded
from ..data import ImageSet, load_cifar10, load_digits32, minibatch
from ..errors import NetspectraError
from ..probes import Walk, walk
from ..theory import fractal_coefficient
from ..theory.roughness import fractal_coefficients
from ._registry import Option

__all__ = [
    "DATA_OPTIONS",
    "MAX_DIRECTIONS",
    "MAX_POINTS",
    "MAX_RESNET_DEPTH",
    "MAX_TOY_DEPTH",
    "MAX_WIDTH",
    "MIN_POINTS",
    "TOY_STRATEGY",
    "check_batch_size",
    "check_directions",
    "check_points",
    "data_source",
    "fractal_h",
    "fresh_batch",
    "image_data",
    "loss_walk",
]

#: Options every RR experiment takes: the data and the device.
DATA_OPTIONS = (
    Option("--data-root", "folder with CIFAR-10's binary distribution (cifar-10-batches-bin); "
           "default: scikit-learn's handwritten digits at 32×32, shipped with the package"),
    Option("--device", "auto, cpu or cuda (default: auto, CUDA when present)", str, "auto"),
)


#: How walks of Toy-CNNs evaluate their points: vmap chunks, on every device. On CPU they ran
#: 1.4× the loop at batch 128 and 4.6× at batch 16 (benchmarks/walk_strategies.py). ResNets
#: keep ``"auto"``: on CPU vmap ran at 0.6× the loop there at batch 32 and more. Named, not
#: measured per run, so that a unit's numbers do not depend on the machine's load.
TOY_STRATEGY = "vmap"


@functools.lru_cache(maxsize=2)
def image_data(data_root: str | None = None) -> ImageSet:
    """CIFAR-10's training set from ``data_root``, or the digits (the embedded default);
    kept for the next experiment in this process (``reproduce all`` reads it once)."""
    return load_digits32() if data_root is None else load_cifar10(data_root)


def data_source(data_root: str | None) -> tuple[str | None, ImageSet]:
    """``data_root`` made absolute and the images it holds, read here, in the process that
    runs the experiment. The folder names the data (a setting of every sweep, so that units
    of other data are never reused); the images go to the units as a sweep input, so that no
    unit reads the disk and the machines of a Ray cluster need no copy of the data."""
    root = None if data_root is None else str(Path(data_root).resolve())
    return root, image_data(root)

#: Fewest points per path: the default fit band, ``k = 1 … (points // 2) // 2``, must hold the
#: 3 frequency bins a fit of ``h`` needs (:func:`~netspectra.theory.fractal_coefficient`).
MIN_POINTS = 12
# Upper bounds, refused before any work: each is well past the papers' settings and keeps a
# request from hanging on allocation or on a Python loop that cannot finish.
#: Points per path: 10× the paper's 200; 4096 recorded outputs × 2000 points × 4 bytes is
#: 33 MB per layer and direction.
MAX_POINTS = 2000
#: Directions per walk or unit: 10× the paper's 500 (Fig. 4).
MAX_DIRECTIONS = 5000
#: Toy-CNN units: 20× the paper's 50.
MAX_TOY_DEPTH = 1000
#: Toy-CNN channels per unit: 16× the paper's 16 (1000 units of width 256 hold 590 M weights,
#: 2.4 GB).
MAX_WIDTH = 256
#: CIFAR ResNet depth: He et al.'s deepest CIFAR ResNet, ResNet1202.
MAX_RESNET_DEPTH = 1202


def check_points(value: int) -> int:
    """``value`` checked as points per path: :data:`MIN_POINTS` … :data:`MAX_POINTS`."""
    return bounded(value, MIN_POINTS, MAX_POINTS, "points",
                   "10× the paper's 200; the fit band needs at least 12")


def check_resnet_depth(depth: int, name: str = "depth") -> int:
    """``depth`` checked as a CIFAR ResNet depth: ``6n + 2``, 8 … :data:`MAX_RESNET_DEPTH`."""
    depth = bounded(depth, 8, MAX_RESNET_DEPTH, name, "He et al.'s deepest CIFAR ResNet")
    if (depth - 2) % 6:
        raise NetspectraError(f"{name} must be 6n + 2 (8, 20, 56, 110, 194, …); found {depth}")
    return depth


def check_directions(value: int) -> int:
    """``value`` checked as directions per walk: 1 … :data:`MAX_DIRECTIONS`."""
    return bounded(value, 1, MAX_DIRECTIONS, "directions", "10× the paper's 500")


def check_batch_size(value: int, data: ImageSet) -> int:
    """``value`` checked as a minibatch size: 1 … the images in ``data``."""
    return bounded(value, 1, data.labels.shape[0], "batch_size",
                   f"the {data.name} set holds {data.labels.shape[0]} images")


def fresh_batch(data: ImageSet, batch_size: int, seed: int,
                device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """A seeded minibatch with random flips (RR App. A.2: every architecture is measured on a
    minibatch of its own, with data augmentation), as tensors on ``device``."""
    x, y = minibatch(data, batch_size, seed=seed, augment=True)
    return torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)


def fractal_h(power: np.ndarray, k: np.ndarray) -> float:
    """Fractal coefficient ``h`` of a mean path spectrum over the default band (RR §4.3).

    NaN when the spectrum has empty bins (only constant paths behind it, e.g. dead units).
    The fit's R² is not checked: a ``k²``-weighted spectrum of a smooth path is flat by
    design (Fig. 3b), and a flat line has R² ≈ 0 however well it fits.
    """
    if not np.all(power > 0):
        return float("nan")
    return fractal_coefficient(power, k, min_r2=0.0).h


def loss_walk(model: nn.Module, data: ImageSet, batch_size: int, *, batch_seed: int,
              direction_seed: int, directions: int, alpha: float, points: int,
              device: torch.device, strategy: str = "auto") -> tuple[Walk, np.ndarray]:
    """Walk the loss of ``model`` on a fresh minibatch along seeded random directions and fit
    ``h`` to every loss path (RR eq. 1, §4.3; Figs. 1, 4, 5).

    Parameters
    ----------
    model : nn.Module
        A classifier of ``data``'s images, moved to ``device``.
    data : ImageSet
        Where the minibatch of ``batch_size`` images (random flips) is drawn from, with
        ``batch_seed`` (RR App. A.2: each architecture on a minibatch of its own).
    batch_seed, direction_seed : int
        Seeds of the minibatch and of the ``directions`` unit-norm Gaussian directions.
    directions, alpha, points : int, float, int
        Number of paths, walk radius and points per path (:func:`~netspectra.probes.walk`).
    device : torch.device
        Where the walk runs.
    strategy : str
        How the points are evaluated (:func:`~netspectra.probes.walk`; :data:`TOY_STRATEGY`
        for Toy-CNNs).

    Returns
    -------
    walk : Walk
        Loss paths ``(directions, points)`` and their normalised power spectra.
    h : ndarray, shape (directions,)
        Fractal coefficient of each loss path: raw spectra, default band
        (:func:`~netspectra.theory.roughness.fractal_coefficients`).
    """
    x, y = fresh_batch(data, batch_size, batch_seed, device)
    w = walk(model.to(device), x, directions, target=y, alpha=alpha, n_points=points,
             seed=direction_seed, keep_directions=False, strategy=strategy, progress=False)
    return w, fractal_coefficients(w.loss_power, w.k)
