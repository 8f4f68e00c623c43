"""Ringing ReLUs Fig. 7 (§4.4): the last layer of a deep ResNet v2 holds less high-frequency
power than that of a v1 at initialisation.

A v1 (post-activation) block adds its branch to the shortcut and then applies the
activation; a v2 (pre-activation) block adds after its activations. Summing after the
nonlinearity averages harmonics that are less correlated between the two summands than the
low frequencies (FDSA, §3.5, App. B.5), so v2 should come out smoother: higher ``h``.

For each version, ``inits`` ResNets with shortcuts (each from a seed of its own, on a fresh
minibatch, RR App. A.2) are walked along ``directions`` random directions over all their
weights, recording the output of the last residual block (``block{3n}``: after the final
activation in v1, the sum itself in v2) and the loss. Spectra, averages and ``h`` as in
:mod:`._last_layer`. The paper shows "a random direction" of a ResNet194; the defaults average
10 initialisations × 5 directions.

Each (version, initialisation) is one seeded unit of work (:class:`._sweep.Sweep`): an
interrupted run resumes, and a unit alone equals the same unit inside a full run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .._validation import bounded, choice, positive
from ..data import ImageSet
from ..models import CifarResNet
from ..models.activations import ACTIVATION_MODULE_NAMES
from ._claims import claim
from ._last_layer import init_key, last_layer_walk, summarise, write_outputs
from ._registry import Option, experiment
from ._rr import (
    DATA_OPTIONS,
    check_batch_size,
    check_directions,
    check_points,
    check_resnet_depth,
    data_source,
    fresh_batch,
)
from ._sweep import MAX_UNITS, WORKER_OPTIONS, Execution, Sweep, resolve_device, unit_seed

#: The two block versions compared, by group name.
VERSIONS = {"v1": 1, "v2": 2}
_DEFAULTS = {"depth": 194, "inits": 10, "directions": 5, "batch_size": 128, "points": 100}
# Quick mode: ResNet56 and a batch of 8 keep a run well under a minute on 2 cores. The gap is
# small but held for every initialisation tried at that depth (digits, α = 1, 64 points,
# 6 pairs of inits: last-layer h v1 1.01-1.03, v2 1.04-1.05); at ResNet110 it narrows (v1
# 1.03-1.05, v2 1.05-1.07, one pair of 4 equal).
_QUICK = {"depth": 56, "inits": 2, "directions": 2, "batch_size": 8, "points": 64}


def version_unit(key: str, *, seed: int, data_root: str | None, device: str, depth: int,
                 activation: str, batch_size: int, directions: int, alpha: float,
                 points: int, images: ImageSet) -> dict[str, np.ndarray]:
    """One initialisation of a ResNet with shortcuts (``key`` from
    :func:`~._last_layer.init_key`, group ``"v1"`` or ``"v2"``): the network, its minibatch of
    ``images`` and its directions drawn from ``unit_seed(seed, key)``; returns
    :func:`~._last_layer.last_layer_walk`'s arrays for the last residual block. ``data_root``
    names the images in the sweep's digest; they come as an input, so that no unit reads the
    disk."""
    version = VERSIONS[key.split("-")[0]]
    s = unit_seed(seed, key)
    dev = torch.device(device)
    model = CifarResNet(depth, activation, version=version, shortcut=True,
                        in_channels=images.images.shape[1],
                        generator=torch.Generator().manual_seed(s)).to(dev)
    x, y = fresh_batch(images, batch_size, s, dev)
    return last_layer_walk(model, x, y, model.block_names[-1], directions=directions,
                           alpha=alpha, points=points, seed=s)


def _claims(h: dict[str, float], high: dict[str, float]) -> list[dict]:
    return [claim("Fig. 7: the last layer of a ResNet v2 is smoother than that of a v1 (higher "
                  "h, less high-frequency power)", h["v2"] > h["v1"] and high["v2"] < high["v1"],
                  f"last-layer h v1 {h['v1']:.3f}, v2 {h['v2']:.3f}; power share above the fit "
                  f"band v1 {high['v1']:.4f}, v2 {high['v2']:.4f}")]


@experiment(
    "resnet-v1-v2",
    reproduces="RR Fig. 7",
    summary="last-layer spectra of deep ResNets v1 vs v2 with shortcuts: v2 is smoother",
    options=(
        Option("--depth", "ResNet depth, 6n + 2 (default: 194; 56 with --quick)", int),
        Option("--inits", "initialisations per version (default: 10; 2 with --quick)", int),
        Option("--directions", "random directions per initialisation (default: 5; 2 with "
               "--quick)", int),
        Option("--activation", "activation of every block (default: relu)", str, "relu"),
        Option("--alpha", "walk radius α (default: 1)", float, 1.0),
        Option("--points", "points per path (default: 100; 64 with --quick)", int),
        Option("--batch-size", "images per minibatch (default: 128; 8 with --quick)", int),
        *DATA_OPTIONS,
        *WORKER_OPTIONS,
    ),
)
def run(out: Path, *, quick: bool, seed: int, depth: int | None = None,
        inits: int | None = None, directions: int | None = None, activation: str = "relu",
        alpha: float = 1.0, points: int | None = None, batch_size: int | None = None,
        data_root: str | None = None, device: str = "auto", workers: int | None = None,
        threads: int | None = None, ray: str | None = None,
        cpus_per_unit: int | None = None, gpus_per_unit: float | None = None) -> dict:
    """Mean normalised spectra of the last residual block and of the loss, and ``h``, for
    ResNet v1 and v2 with shortcuts (paper: ResNet194, α = 1, 100 points, CIFAR-10).

    In result.json ``h_last_layer["v1"]``/``["v2"]`` is the mean ``h`` of the last block's
    spectra over initialisations and directions, ``h_std`` the spread of the
    per-initialisation means, ``high_frequency_power`` the share of power above the fit band.
    """
    defaults = _QUICK if quick else _DEFAULTS
    data_root, data = data_source(data_root)
    n_inits = bounded(inits if inits is not None else defaults["inits"], 1,
                      MAX_UNITS // len(VERSIONS), "inits",
                      f"a sweep holds at most {MAX_UNITS} units, 2 versions per "
                      "initialisation")
    settings = {
        "depth": check_resnet_depth(depth if depth is not None else defaults["depth"]),
        "activation": choice(activation, ACTIVATION_MODULE_NAMES, "activation"),
        "batch_size": check_batch_size(batch_size if batch_size is not None
                                       else defaults["batch_size"], data),
        "directions": check_directions(directions if directions is not None
                                       else defaults["directions"]),
        "alpha": positive(alpha, "alpha"),
        "points": check_points(points if points is not None else defaults["points"]),
    }
    keys = [init_key(g, i) for g in VERSIONS for i in range(n_inits)]
    sweep = Sweep(out, "units", version_unit, keys, seed,
                  {**settings, "data_root": data_root, "device": str(resolve_device(device))},
                  inputs={"images": data})
    units, record = Execution(workers, threads, ray, cpus_per_unit, gpus_per_unit).run(
        sweep, "initialisations")

    headline, arrays = summarise(units, list(VERSIONS), n_inits)
    title = (f"ResNet{settings['depth']} with shortcuts, {settings['activation']}, "
             f"{data.name}, α = {settings['alpha']:g}, {n_inits} inits × "
             f"{settings['directions']} directions")
    write_outputs(out, "resnet_v1_v2", headline, arrays,
                  {"v1": "v1 (post-activation)", "v2": "v2 (pre-activation)"}, title)
    return {
        **headline,
        "claims": _claims(headline["h_last_layer"], headline["high_frequency_power"]),
        "paper_values": [],
        "inits": n_inits,
        **settings,
        "data": data.name,
        **record,
    }
