"""What the Ringing ReLUs experiments share: data, fresh minibatches, devices, options, unit
folders, loss walks and fits."""

from __future__ import annotations

import functools
import hashlib
import json
import zlib
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .._validation import choice
from ..data import ImageSet, load_cifar10, load_digits32, minibatch
from ..probes import Walk, walk
from ..results import atomic_write_json
from ..theory import fractal_coefficient, fractal_coefficients
from ._registry import Option

__all__ = [
    "DATA_OPTIONS",
    "TOY_STRATEGY",
    "fractal_h",
    "fresh_batch",
    "image_data",
    "loss_walk",
    "resolve_device",
    "unit_seed",
    "units_folder",
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


def units_folder(out: str | Path, settings: Mapping[str, object]) -> Path:
    """``out/units-<digest>``, the folder of the units of one set of ``settings``.

    The digest is taken over the settings as sorted JSON, so a rerun with the same settings
    resumes where the last one stopped and different settings never share a unit. The
    settings are written next to the units (``settings.json``) for the reader.
    """
    text = json.dumps(settings, sort_keys=True, default=str)
    folder = Path(out) / f"units-{hashlib.sha256(text.encode()).hexdigest()[:12]}"
    atomic_write_json(folder / "settings.json", settings)
    return folder


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
        (:func:`~netspectra.theory.fractal_coefficients`).
    """
    x, y = fresh_batch(data, batch_size, batch_seed, device)
    w = walk(model.to(device), x, directions, target=y, alpha=alpha, n_points=points,
             seed=direction_seed, keep_directions=False, strategy=strategy, progress=False)
    return w, fractal_coefficients(w.loss_power, w.k)
