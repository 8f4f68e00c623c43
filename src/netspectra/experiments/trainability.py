"""Ringing ReLUs Fig. 9 (§5): trainability against blueshift over depth and leaky slope.

CIFAR ResNets v1 and v2, with ("S") and without ("NS") shortcuts, over a grid of depths and
leaky-ReLU slopes α (0 is ReLU, 1 is linear). Per cell, one network is drawn from the cell's
seed and

- walked at initialisation (RR App. A.2: training-mode batch norm, a fresh minibatch with
  flips, ``directions`` random directions of radius α = 1, 100 points), giving ``h_init``,
  the fractal coefficient of the mean spectrum of the last block's outputs (the network's
  last layer before pooling; raw spectra, default band, as ``layer-spectra``);
- trained with RR App. A.3's recipe for ``epochs`` (paper: 30 on CIFAR-10, once), scored by
  ``train_accuracy``, the mean of the last 25 logged training accuracies.

Paper's claim: without shortcuts, deeper and more nonlinear (small α) nets train worse and
have lower ``h``; shortcuts remove both effects. The paper names neither the depths nor the
slopes of its grid: the defaults here are depths 20, 56 and 110 and slopes 0, 0.1, 0.25,
0.5, 0.75 and 1.

Each cell is one seeded unit of the sweep (``_sweep.Sweep``): resumable, and the same cell
alone gives the same numbers as inside a full run at the same thread count.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from .._validation import in_range
from ..data import ImageSet
from ..errors import NetspectraError
from ..models import CifarResNet
from ..probes import walk
from ..results import atomic_write_npz, save_figure
from ._claims import claim
from ._registry import Option, experiment
from ._rr import (
    check_batch_size,
    check_directions,
    check_points,
    check_resnet_depth,
    fractal_h,
    fresh_batch,
)
from ._sweep import WORKER_OPTIONS, Execution, Sweep, resolve_device, unit_seed
from ._train_units import TRAINING_DATA_OPTIONS, final_value, train_unit, training_settings

#: Variant -> (ResNet version, shortcuts), in the order of Fig. 9's columns.
VARIANTS = {"v1_S": (1, True), "v1_NS": (1, False), "v2_S": (2, True), "v2_NS": (2, False)}
DEPTHS = (20, 56, 110)
SLOPES = (0.0, 0.1, 0.25, 0.5, 0.75, 1.0)
_PAPER = {"depths": DEPTHS, "slopes": SLOPES, "epochs": 30, "directions": 8,
          "batch_size": 128, "log_every": 100, "size": 32,
          "train_batch": 128}
# Quick: the digits at 16×16 (the scans are 8×8, nothing is lost; a quarter of the work), two
# depths, two slopes, a few epochs, a log per 2 steps so that the last 25 logs span the
# last ~3 epochs. Depth 56 stays: at α = 1 the last layer's h of NoShort ReLU nets was ≈ 1
# up to depth 32 on the digits and 0.25-0.31 at depth 56 (0.01 at 110).
_QUICK = {"depths": (8, 56), "slopes": (0.0, 0.5), "epochs": 4, "directions": 2,
          "batch_size": 32, "log_every": 2, "size": 16, "train_batch": 128}


def unit_key(variant: str, depth: int, slope: float) -> str:
    """``"<variant>-d<depth>-s<slope>"``, e.g. ``"v1_NS-d56-s0.25"``."""
    return f"{variant}-d{depth}-s{slope:g}"


def last_layer_h(model: CifarResNet, images, *, batch_size: int, directions: int,
                 points: int, seed: int, device: torch.device) -> tuple[float, np.ndarray]:
    """``h`` and the mean normalised spectrum of the last block's outputs along
    ``directions`` random walks (α = 1) on a fresh minibatch drawn with ``seed``."""
    x, y = fresh_batch(images, batch_size, unit_seed(seed, "batch"), device)
    last = model.block_names[-1]
    w = walk(model.to(device), x, directions, target=y, layers=[last], alpha=1.0,
             n_points=points, seed=unit_seed(seed, "walk"), keep_directions=False,
             progress=False)
    power = w.spectrum(last)
    return fractal_h(power, w.k), power


def cell_unit(key: str, *, seed: int, data: str, data_root: str | None, size: int,
              epochs: int, train_batch: int, log_every: int, directions: int, points: int,
              batch_size: int, device: str, images: ImageSet,
              heldout: ImageSet | None) -> dict[str, np.ndarray]:
    """One cell (``key`` from :func:`unit_key`): ``h_init`` and the mean last-layer spectrum
    ``power_init`` at initialisation, then the training curves (``train_accuracy`` …).

    ``data``, ``data_root`` and ``size`` name the training ``images`` (and ``heldout``) in
    the sweep's digest; the images themselves come as inputs, so that the machines of a Ray
    cluster need no copy of the data set."""
    began = time.perf_counter()
    variant, depth_text, slope_text = key.split("-")
    version, shortcut = VARIANTS[variant]
    model = CifarResNet(int(depth_text[1:]), "lrelu", version=version,
                        slope=float(slope_text[1:]), shortcut=shortcut,
                        num_classes=int(images.labels.max()) + 1,
                        in_channels=images.images.shape[1],
                        generator=torch.Generator().manual_seed(unit_seed(seed, key, "init")))
    h, power = last_layer_h(model, images, batch_size=batch_size, directions=directions,
                            points=points, seed=unit_seed(seed, key, "walk"),
                            device=torch.device(device))
    curves = train_unit(model, images, heldout, epochs=epochs, train_batch=train_batch,
                        log_every=log_every, seed=unit_seed(seed, key, "train"),
                        device=device)
    return {**curves, "h_init": h, "power_init": power, "seconds": time.perf_counter() - began}


def _grid(values: Sequence, name: str, check) -> list:
    if isinstance(values, (int, float, np.number)) or not values:
        raise NetspectraError(f"{name} must be a non-empty list; found {values!r}")
    return sorted({check(v) for v in values})


def _plot(table: dict, depths: list[int], slopes: list[float], title: str,
          path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(VARIANTS), figsize=(4 * len(VARIANTS), 7), sharex=True,
                             sharey="row")
    colours = plt.cm.viridis(np.linspace(0, 0.85, len(depths)))
    for col, variant in enumerate(VARIANTS):
        for row, field in enumerate(("train_accuracy", "h_init")):
            ax = axes[row, col]
            for depth, colour in zip(depths, colours, strict=True):
                values = [table[field][variant][str(depth)][f"{s:g}"] for s in slopes]
                ax.plot(slopes, values, "o-", ms=3, color=colour, label=f"depth {depth}")
            ax.set(xlabel="leaky ReLU slope α" if row else None)
        axes[0, col].set_title(variant.replace("_", " "))
    axes[0, 0].set(ylabel="training accuracy (last 25 logs)")
    axes[1, 0].set(ylabel="h of the last layer at init")
    axes[0, 0].legend(fontsize="small")
    fig.suptitle(title)
    save_figure(fig, path)


def _claims(accuracy_drop: dict, h_drop: dict, shallow: str, deep: str, slope: str) -> list:
    """Fig. 9's claims, between the shallowest and the deepest net at the smallest slope."""
    where = f"depth {shallow} → {deep} at slope {slope}"
    claims = []
    for v in (1, 2):
        s, ns = f"v{v}_S", f"v{v}_NS"
        claims += [
            claim(f"Fig. 9: ResNet v{v} without shortcuts trains worse when deeper",
                  accuracy_drop[ns] > 0,
                  f"accuracy drop {accuracy_drop[ns]:.3f} ({where})"),
            claim(f"Fig. 9: ResNet v{v} without shortcuts has a lower h at init when deeper",
                  h_drop[ns] > 0, f"h drop {h_drop[ns]:.3f} ({where})"),
            claim(f"Fig. 9: shortcuts remove the accuracy loss with depth (v{v})",
                  accuracy_drop[s] < accuracy_drop[ns],
                  f"accuracy drop S {accuracy_drop[s]:.3f} vs NS {accuracy_drop[ns]:.3f}"),
            claim(f"Fig. 9: shortcuts remove the fall of h with depth (v{v})",
                  h_drop[s] < h_drop[ns], f"h drop S {h_drop[s]:.3f} vs NS {h_drop[ns]:.3f}"),
        ]
    return claims


@experiment(
    "trainability",
    reproduces="RR Fig. 9",
    summary="ResNet v1/v2 with/without shortcuts over depth × leaky slope: training accuracy "
            "vs h at init",
    options=(
        Option("--depths", "ResNet depths 6n+2 (default: 20 56 110; 8 56 with --quick)", int,
               nargs="+"),
        Option("--slopes", "leaky-ReLU slopes α in [0, 1] (default: 0 0.1 0.25 0.5 0.75 1; "
               "0 0.5 with --quick)", float, nargs="+"),
        Option("--epochs", "training epochs per cell (default: 30; 4 with --quick)", int),
        Option("--log-every", "optimizer steps per logged training accuracy (default: 100; "
               "2 with --quick)", int),
        Option("--directions", "walk directions for h at init (default: 8; 2 with --quick)",
               int),
        Option("--batch-size", "images in the walk's minibatch (default: 128; 32 with "
               "--quick)", int),
        Option("--points", "points per walked path (default: 100)", int, 100),
        Option("--size", "side of the digits in pixels (default: 32; 16 with --quick; CIFAR "
               "is 32)", int),
        *TRAINING_DATA_OPTIONS,
        *WORKER_OPTIONS,
    ),
)
def run(out: Path, *, quick: bool, seed: int, depths: Sequence[int] | None = None,
        slopes: Sequence[float] | None = None, epochs: int | None = None,
        log_every: int | None = None, directions: int | None = None,
        batch_size: int | None = None, points: int = 100, size: int | None = None,
        data: str | None = None, data_root: str | None = None, device: str = "auto",
        train_batch: int | None = None, workers: int | None = None,
        threads: int | None = None, ray: str | None = None,
        cpus_per_unit: int | None = None, gpus_per_unit: float | None = None) -> dict:
    """Training accuracy and ``h`` at initialisation per variant, depth and slope (paper:
    30 epochs on CIFAR-10, one run per cell)."""
    defaults = _QUICK if quick else _PAPER
    depth_list = _grid(defaults["depths"] if depths is None else depths, "depths",
                       lambda d: check_resnet_depth(d, "depths"))
    slope_list = _grid(defaults["slopes"] if slopes is None else slopes, "slopes",
                       lambda s: in_range(s, "slopes", 0, 1))
    settings, images, heldout = training_settings(
        defaults, data=data, data_root=data_root, size=size, epochs=epochs,
        log_every=log_every, train_batch=train_batch)
    settings.update({
        "directions": check_directions(defaults["directions"] if directions is None
                                       else directions),
        "points": check_points(points),
        "batch_size": check_batch_size(defaults["batch_size"] if batch_size is None
                                       else batch_size, images),
    })
    keys = [unit_key(v, d, s) for v in VARIANTS for d in depth_list for s in slope_list]
    sweep = Sweep(out, "cells", cell_unit, keys, seed,
                  {**settings, "device": str(resolve_device(device))},
                  inputs={"images": images, "heldout": heldout})
    units, record = Execution(workers, threads, ray, cpus_per_unit, gpus_per_unit).run(
        sweep, "cells")


    def table(field) -> dict:
        return {v: {str(d): {f"{s:g}": field(units[unit_key(v, d, s)]) for s in slope_list}
                    for d in depth_list} for v in VARIANTS}

    result = {"train_accuracy": table(lambda u: final_value(u["train_accuracy"])),
              "h_init": table(lambda u: float(u["h_init"]))}
    atomic_write_npz(out / "trainability.npz", {
        "keys": keys, "depths": depth_list, "slopes": slope_list,
        "train_accuracy": np.stack([units[k]["train_accuracy"] for k in keys]),
        "step": units[keys[0]]["step"],
        "power_init": np.stack([units[k]["power_init"] for k in keys])})
    _plot(result, depth_list, slope_list,
          f"{images.name}, {settings['epochs']} epochs, h from {settings['directions']} "
          f"directions", out / "trainability.png")
    shallow, deep, steep = str(depth_list[0]), str(depth_list[-1]), f"{slope_list[0]:g}"

    def drop(field) -> dict:
        return {v: result[field][v][shallow][steep] - result[field][v][deep][steep]
                for v in VARIANTS}

    accuracy_drop, h_drop = drop("train_accuracy"), drop("h_init")
    return {
        **result,
        "accuracy_drop_with_depth": accuracy_drop,
        "h_drop_with_depth": h_drop,
        "claims": _claims(accuracy_drop, h_drop, shallow, deep, steep),
        "depths": depth_list, "slopes": slope_list, **settings,
        "data_name": images.name, **record,
        "unit_seconds": {k: float(units[k]["seconds"]) for k in keys},
    }
