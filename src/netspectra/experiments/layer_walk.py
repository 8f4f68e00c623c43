"""Ringing ReLUs App. E (Fig. 15): loss paths when only one layer of a deep Toy-CNN varies.

One network at initialisation and one fresh minibatch; for each walked unit ``k`` a random
direction restricted to the parameters of ``unit{k}`` (unit norm over them, so every walk
moves the same distance ``α`` in weight space) gives a loss path. The paper draws one
direction ``D`` and restricts it to one layer at a time; a Gaussian restricted to a layer and
renormalised is distributed as a Gaussian drawn on that layer alone, so each unit gets its
own seeded draw. The walk engine runs the unchanged units before ``unit{k}`` once per walk.

Each walked unit is one seeded unit of work, written as soon as it is done, so an
interrupted run resumes and the same seed gives the same numbers. On CPU the units are spread
over 1-thread worker processes (see :func:`~netspectra.experiments._sweep.plan_workers`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .._validation import bounded, choice, positive
from ..models import ToyCNN
from ..models.activations import ACTIVATION_MODULE_NAMES
from ..probes import walk
from ..results import atomic_write_npz, save_figure
from ._claims import claim
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
    fractal_h,
    fresh_batch,
)
from ._sweep import WORKER_OPTIONS, Execution, Sweep, resolve_device, unit_seed


def walk_unit(key: str, *, model: ToyCNN, x: torch.Tensor, y: torch.Tensor, seed: int,
              alpha: float, points: int, directions: int, **identity: object
              ) -> dict[str, np.ndarray | float]:
    """Loss paths of ``directions`` random walks that vary only the unit ``key`` (``"unit7"``).

    Returns the loss paths ``(directions, points)``, their normalised power spectra and the
    fractal coefficient ``h`` of the mean spectrum. ``model`` and the batch ``x``, ``y`` are
    those of every walked unit: one network, one minibatch; ``identity`` holds the settings
    they were drawn from (they name the units' folder).
    """
    w = walk(model, x, directions, target=y, modules=key, alpha=alpha, n_points=points,
             seed=unit_seed(seed, key, "direction"), strategy=TOY_STRATEGY, progress=False)
    return {"loss": w.loss, "loss_power": w.loss_power, "h": fractal_h(w.spectrum(), w.k)}


def _plot(t: np.ndarray, k: np.ndarray, layers: list[int], loss: np.ndarray,
          power: np.ndarray, h: np.ndarray, depth: int, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    colours = plt.cm.coolwarm((np.asarray(layers) - 1) / max(depth - 1, 1))
    for layer_loss, layer_power, colour in zip(loss, power, colours, strict=True):
        axes[0].plot(t, layer_loss[0], color=colour, lw=1)
        axes[1].loglog(k, np.maximum(layer_power.mean(axis=0), 1e-300), color=colour, lw=1)
    axes[0].set(xlabel="t (path parameter)", ylabel="loss",
                title="loss paths (first direction), unit1 blue → deep red")
    axes[1].set(xlabel="frequency k (cycles per path)", ylabel="normalised power |z_k|²",
                title="path-normalised power spectra")
    axes[2].plot(layers, h, "o-", ms=3)
    axes[2].set(xlabel="walked unit", ylabel="fractal coefficient h",
                title="roughness of the loss path (smaller h: rougher)")
    save_figure(fig, path)


@experiment(
    "layer-walk",
    reproduces="RR App. E, Fig. 15",
    summary="loss paths varying one unit of a 50-layer Toy-CNN at a time: earlier is rougher",
    options=(
        Option("--activation", "activation of the Toy-CNN (default: relu)", str, "relu"),
        Option("--depth", "units L of the Toy-CNN (default: 50; 40 with --quick)", int),
        Option("--width", "channels per unit (default: 16)", int, 16),
        Option("--layers-step", "walk every s-th unit, from unit1 (default: 1; 2 with --quick)",
               int),
        Option("--alpha", "walk radius α (default: 1)", float, 1.0),
        Option("--points", "points per path (default: 100)", int, 100),
        Option("--batch-size", "images in the minibatch (default: 128; 32 with --quick)", int),
        Option("--directions", "random directions per walked unit (default: 1, as the paper)",
               int, 1),
        *DATA_OPTIONS,
        *WORKER_OPTIONS,
    ),
)
def run(out: Path, *, quick: bool, seed: int, activation: str = "relu",
        depth: int | None = None, width: int = 16, layers_step: int | None = None,
        alpha: float = 1.0, points: int = 100, batch_size: int | None = None,
        directions: int = 1, data_root: str | None = None, device: str = "auto",
        workers: int | None = None, threads: int | None = None, ray: str | None = None,
        cpus_per_unit: int | None = None, gpus_per_unit: float | None = None) -> dict:
    """Walk each chosen unit alone and measure the roughness of the loss path (RR Fig. 15).

    Paper: a 50-layer Toy-CNN (width 16, relu) at initialisation, α = 1, 100 points. In
    result.json ``h_per_walked_layer[i]`` is the ``h`` of the walk of unit
    ``walked_layers[i]``; ``mean_h_first_third`` and ``mean_h_last_third`` average it over the
    first and the last third of the walked units.
    """
    data_root, data = data_source(data_root)
    depth = bounded((40 if quick else 50) if depth is None else depth, 1, MAX_TOY_DEPTH, "depth",
                    "20× the paper's 50")
    step = (bounded(layers_step, 1, depth, "layers_step", f"the depth, {depth}")
            if layers_step is not None else (2 if quick else 1))
    settings = {
        "activation": choice(activation, ACTIVATION_MODULE_NAMES, "activation"),
        "depth": depth, "width": bounded(width, 1, MAX_WIDTH, "width", "16× the paper's 16"),
        "layers_step": step, "alpha": positive(alpha, "alpha"), "points": check_points(points),
        "batch_size": check_batch_size((32 if quick else 128) if batch_size is None
                                       else batch_size, data),
        "directions": check_directions(directions),
    }
    layers = list(range(1, depth + 1, step))
    keys = [f"unit{k}" for k in layers]
    dev = resolve_device(device)
    gen = torch.Generator().manual_seed(unit_seed(seed, "init"))
    model = ToyCNN(depth, settings["width"], activation, generator=gen).to(dev)
    x, y = fresh_batch(data, settings["batch_size"], unit_seed(seed, "batch"), dev)
    # Every walked unit starts from one network and one batch, drawn from the seed and the
    # settings: hashed as those, sent to the workers as tensors.
    sweep = Sweep(out, "units", walk_unit, keys, seed,
                  {**{name: settings[name] for name in ("alpha", "points", "directions")},
                   "network": settings, "data_root": data_root, "device": str(dev)},
                  inputs={"model": model, "x": x, "y": y})
    units, record = Execution(workers, threads, ray, cpus_per_unit, gpus_per_unit).run(
        sweep, "walked units")

    t = np.linspace(0.0, 1.0, settings["points"])
    k = np.arange(1, settings["points"] // 2 + 1)
    loss = np.stack([units[key]["loss"] for key in keys])
    power = np.stack([units[key]["loss_power"] for key in keys])
    h = np.array([float(units[key]["h"]) for key in keys])
    atomic_write_npz(out / "loss_paths.npz", {"t": t, "k": k, "walked_layers": layers,
                                              "loss": loss, "loss_power": power, "h": h})
    _plot(t, k, layers, loss, power, h, depth, out / "layer_walk.png")
    third = max(1, len(layers) // 3)
    first, last = float(np.nanmean(h[:third])), float(np.nanmean(h[-third:]))
    return {
        "h_per_walked_layer": h.tolist(),
        "walked_layers": layers,
        "mean_h_first_third": first,
        "mean_h_last_third": last,
        # Fig. 15: mean h of walks of the first third of the units below the last third's.
        "claims": [claim("Fig. 15: walking one layer at a time, earlier layers give rougher "
                         "loss paths", first < last,
                         f"mean h of walks of the first / last third of the units: "
                         f"{first:.2f} / {last:.2f} ({len(layers)} walked units)")],
        "paper_values": [],
        **settings,
        "data": data.name,
        **record,
    }
