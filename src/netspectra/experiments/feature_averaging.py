"""Ringing ReLUs Fig. 8, right (§4.4): feature averaging smooths a deep Toy-CNN at
initialisation.

Frequency-dependent signal averaging (FDSA, §3.5, App. B.5) without the exponential
downweighting of shortcuts: every unit of a Toy-CNN without shortcuts computes ``16 · a``
features and sums them in ``a`` groups of 16 after the activation
(:class:`~netspectra.models.ToyCNN` ``averaging=a``). The harmonics a nonlinearity adds depend
on each group's own weights, so they are less correlated between groups than the low
frequencies and partly cancel in the sum: the larger ``a``, the less high-frequency power,
the higher ``h``.

For each averaging factor, ``inits`` networks (each from a seed of its own, on a fresh
minibatch, RR App. A.2) are walked along ``directions`` random directions over all their
weights, recording the last unit's output and the loss. Spectra, averages and ``h`` as in
:mod:`._last_layer`. The paper does not say how many networks and directions its figure
averages; the defaults are 10 × 10.

Each (averaging factor, initialisation) is one seeded unit of work (:class:`._sweep.Sweep`):
an interrupted run resumes, and a unit alone equals the same unit inside a full run.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from .._validation import bounded, choice, positive
from ..data import ImageSet
from ..errors import NetspectraError
from ..models import ToyCNN
from ..models.activations import ACTIVATION_MODULE_NAMES
from ._claims import claim
from ._last_layer import init_key, last_layer_walk, summarise, write_outputs
from ._registry import Option, experiment
from ._rr import (
    DATA_OPTIONS,
    MAX_TOY_DEPTH,
    MAX_WIDTH,
    TOY_STRATEGY,
    check_batch_size,
    check_directions,
    check_points,
    data_source,
    fresh_batch,
)
from ._sweep import MAX_UNITS, WORKER_OPTIONS, Execution, Sweep, resolve_device, unit_seed

#: Averaging factors of Fig. 8 (right).
FACTORS = (1, 2, 3, 4)
#: Largest averaging factor: 16× the paper's 4 (a unit of a = 64 has 1024 channels).
MAX_FACTOR = 64
_DEFAULTS = {"inits": 10, "directions": 10, "batch_size": 128}
# Quick mode keeps the paper's 50 units, α and points: the blueshift that averaging undoes
# only builds up in deep nets. A batch of 16 and 2 × 2 walks per factor already order h by a
# (relu on the digits, seed 0: last-layer h 0.21, 0.35, 0.86, 1.00 for a = 1 … 4).
_QUICK = {"inits": 2, "directions": 2, "batch_size": 16}


def averaging_unit(key: str, *, seed: int, data_root: str | None, device: str, depth: int,
                   width: int, activation: str, batch_size: int, directions: int,
                   alpha: float, points: int, images: ImageSet) -> dict[str, np.ndarray]:
    """One initialisation of the Toy-CNN with averaging factor ``a`` (``key`` from
    :func:`~._last_layer.init_key`, group ``"<a>"``): the network, its minibatch of ``images``
    and its directions drawn from ``unit_seed(seed, key)``; returns
    :func:`~._last_layer.last_layer_walk`'s arrays for the last unit. ``data_root`` names the
    images in the sweep's digest; they come as an input, so that no unit reads the disk."""
    factor = int(key.split("-")[0])
    s = unit_seed(seed, key)
    _, channels, size, _ = images.images.shape
    dev = torch.device(device)
    model = ToyCNN(depth, width, activation, averaging=factor, in_channels=channels,
                   image_size=size, generator=torch.Generator().manual_seed(s)).to(dev)
    x, y = fresh_batch(images, batch_size, s, dev)
    return last_layer_walk(model, x, y, model.unit_names[-1], directions=directions,
                           alpha=alpha, points=points, seed=s, strategy=TOY_STRATEGY)


def _factors(values: Sequence[int]) -> list[int]:
    if isinstance(values, (int, np.integer)) or not values:
        raise NetspectraError(f"averaging must be a non-empty list of integers >= 1; found "
                              f"{values!r}")
    return sorted({bounded(a, 1, MAX_FACTOR, "averaging", "16× the paper's 4")
                   for a in values})


def _claims(factors: list[int], h: dict[str, float]) -> list[dict]:
    values = [h[str(a)] for a in factors]
    rising = all(b > a for a, b in itertools.pairwise(values))
    evidence = ", ".join(f"a = {a}: {v:.3f}" for a, v in zip(factors, values, strict=True))
    return [claim("Fig. 8 right: the larger the averaging factor a, the smoother the last "
                  "layer (h grows with a)", rising and len(values) > 1,
                  f"last-layer h {evidence}")]


@experiment(
    "feature-averaging",
    reproduces="RR Fig. 8 (right)",
    summary="Toy-CNN with feature averaging a = 1-4: last-layer and loss spectra, h grows with a",
    options=(
        Option("--averaging", "averaging factors a (default: 1 2 3 4)", int, nargs="+"),
        Option("--inits", "initialisations per factor (default: 10; 2 with --quick)", int),
        Option("--directions", "random directions per initialisation (default: 10; 2 with "
               "--quick)", int),
        Option("--depth", "Toy-CNN units (default: 50)", int, 50),
        Option("--width", "channels per feature group (default: 16)", int, 16),
        Option("--activation", "activation of every unit (default: relu)", str, "relu"),
        Option("--alpha", "walk radius α (default: 1)", float, 1.0),
        Option("--points", "points per path (default: 100)", int, 100),
        Option("--batch-size", "images per minibatch (default: 128; 16 with --quick)", int),
        *DATA_OPTIONS,
        *WORKER_OPTIONS,
    ),
)
def run(out: Path, *, quick: bool, seed: int, averaging: Sequence[int] | None = None,
        inits: int | None = None, directions: int | None = None, depth: int = 50,
        width: int = 16, activation: str = "relu", alpha: float = 1.0, points: int = 100,
        batch_size: int | None = None, data_root: str | None = None, device: str = "auto",
        workers: int | None = None, threads: int | None = None, ray: str | None = None,
        cpus_per_unit: int | None = None, gpus_per_unit: float | None = None) -> dict:
    """Mean normalised spectra of the last unit and of the loss, and ``h``, per averaging
    factor (paper: 50 units of 16 · a channels, α = 1, 100 points, batch 128 of CIFAR-10).

    In result.json ``h_last_layer[str(a)]`` is the mean ``h`` of the last unit's spectra over
    initialisations and directions, ``h_std[str(a)]`` the spread of the per-initialisation
    means; ``h_loss`` and ``h_loss_std`` the same for the loss paths.
    """
    defaults = _QUICK if quick else _DEFAULTS
    factors = _factors(FACTORS if averaging is None else averaging)
    data_root, data = data_source(data_root)
    n_inits = bounded(inits if inits is not None else defaults["inits"], 1,
                      MAX_UNITS // len(factors), "inits",
                      f"a sweep holds at most {MAX_UNITS} units, {len(factors)} factors per "
                      "initialisation")
    settings = {
        "depth": bounded(depth, 1, MAX_TOY_DEPTH, "depth", "20× the paper's 50"),
        "width": bounded(width, 1, MAX_WIDTH, "width", "16× the paper's 16"),
        "activation": choice(activation, ACTIVATION_MODULE_NAMES, "activation"),
        "batch_size": check_batch_size(batch_size if batch_size is not None
                                       else defaults["batch_size"], data),
        "directions": check_directions(directions if directions is not None
                                       else defaults["directions"]),
        "alpha": positive(alpha, "alpha"),
        "points": check_points(points),
    }
    groups = [str(a) for a in factors]
    keys = [init_key(g, i) for g in groups for i in range(n_inits)]
    sweep = Sweep(out, "units", averaging_unit, keys, seed,
                  {**settings, "data_root": data_root, "device": str(resolve_device(device))},
                  inputs={"images": data})
    units, record = Execution(workers, threads, ray, cpus_per_unit, gpus_per_unit).run(
        sweep, "initialisations")

    headline, arrays = summarise(units, groups, n_inits)
    title = (f"Toy-CNN {settings['depth']} units × {settings['width']}·a channels, "
             f"{settings['activation']}, {data.name}, α = {settings['alpha']:g}, "
             f"{n_inits} inits × {settings['directions']} directions")
    write_outputs(out, "feature_averaging", headline, arrays,
                  {g: f"a = {g}" for g in groups}, title)
    return {
        **headline,
        "claims": _claims(factors, headline["h_last_layer"]),
        "paper_values": [],
        "averaging": factors,
        "inits": n_inits,
        **settings,
        "data": data.name,
        **record,
    }
