"""Ringing ReLUs Fig. 3 (§4.2): per-layer power spectra of weight-space paths through a deep
Toy-CNN at initialisation, and the options behind App. D (Figs. 11–14) and F.1 (Fig. 17).

Each variant (an activation, with or without identity shortcuts) is one seeded unit of work:
its initialisation, its fresh minibatch (RR App. A.2), its optional training and its random
directions are drawn from seeds derived from the experiment seed and the variant's name. Two
walks are made on the same network and batch, recording the output of every unit
(``unit1 … unit{depth}``) and the loss:

- Fig. 3a, the all-layer walk: every trainable parameter varies; raw spectra, each path
  normalised by its own AC power (the paper's "normalised by function norm") and averaged
  over the layer's outputs (channels, positions and images, or the walk engine's seeded
  subset of them in large layers, see :func:`~netspectra.probes.walk`'s ``max_neurons``).
- Fig. 3b, the first-layer walk: only the parameters of ``unit1`` vary (see
  :data:`FIRST_LAYER`), and the power is weighted by ``k²`` before normalising (the spectrum
  of the derivative ``p'(t)``).

Both walks travel in the variant's unit file (``_sweep.Sweep``: written atomically, in a
folder named by a digest of the settings, so runs with different settings never mix), so an
interrupted run resumes and a variant measured alone equals the same variant in a full run
(bit for bit at the same number of threads); each run saves them with
:meth:`~netspectra.probes.Walk.save` under ``walks/<variant>/``. On CPU the variants run in
1-thread worker processes (``_sweep.plan_workers``).

Each layer's ``h`` (and the loss path's) is fitted to the mean spectrum over the default band,
the lower half of the bins (``_rr.fractal_h``); with several ``--directions`` the spectra are
averaged over them first. ``--direction gradient`` walks up the normalised loss gradient of
the variant's own batch (over all parameters, or over ``unit1``'s for Fig. 3b).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch

from .._validation import bounded, choice, positive
from ..data import ImageSet
from ..errors import NetspectraError
from ..models import ToyCNN
from ..models.activations import ACTIVATION_MODULE_NAMES
from ..models.init import INIT_SCHEMES
from ..probes import Walk, gradient_direction, walk
from ..results import save_figure
from ..training import Recipe, train
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

#: Activations of the default variants without shortcuts (RR Fig. 3).
ACTIVATIONS = ("relu", "tanh", "softplus")
#: Activations of the default variants with identity shortcuts (RR Fig. 3: ReLU + S).
SHORTCUTS = ("relu",)
#: Direction kinds: seeded Gaussian directions (RR eq. 1) or the normalised loss gradient
#: at the walk's starting point (RR App. D.3, Fig. 13).
DIRECTIONS = ("random", "gradient")
#: The layer the Fig. 3b walk varies. The paper's 50 layers are the Toy-CNN's units, so its
#: "first layer" is ``unit1``; the stride-5 ``stem`` before them reads the 3-channel image and
#: is not one of the plotted layers.
FIRST_LAYER = "unit1"

# Training before the walk (RR App. D.1, Fig. 11, which names no recipe): plain SGD with
# momentum, no weight decay, no schedule. Not App. A.3's lr 0.1 (for its ResNets, with
# weight decay and a schedule): on the digits it diverged within 4 epochs for 50-layer
# Toy-CNNs (tanh: loss 3.9 → 79; relu with shortcuts: 5e4 → 1e16), while lr 0.01 lowered the
# loss of all of them.
TRAIN_BATCH = 128
TRAIN_LR = 0.01
TRAIN_MOMENTUM = 0.9

#: Most training epochs before a walk: 50× Fig. 11's 20.
MAX_EPOCHS = 1000

_SHORTCUT_SUFFIX = "_shortcut"

def variant_names(activations: Sequence[str], shortcuts: Sequence[str]) -> list[str]:
    """``[a for a in activations] + [a + "_shortcut" for a in shortcuts]``, each once.

    Raises
    ------
    NetspectraError
        For a name that is not an activation of :class:`~netspectra.models.ToyCNN`.
    """
    for name in (*activations, *shortcuts):
        choice(name, ACTIVATION_MODULE_NAMES, "activation")
    names = [*activations, *(f"{a}{_SHORTCUT_SUFFIX}" for a in shortcuts)]
    return list(dict.fromkeys(names))


def train_before_walk(model: torch.nn.Module, data: ImageSet, epochs: int, *, seed: int,
                      device: torch.device) -> np.ndarray:
    """Train ``model`` in place for ``epochs`` epochs before a walk (RR App. D.1, Fig. 11)
    and return the mean training loss of each epoch (none for 0 epochs).

    :func:`~netspectra.training.train` (cross-entropy, a fresh shuffle and random flips every
    epoch, drawn from ``seed``) with SGD at lr :data:`TRAIN_LR`, momentum
    :data:`TRAIN_MOMENTUM`, no weight decay and no schedule, in batches of
    :data:`TRAIN_BATCH`, logged once per epoch.
    """
    if epochs == 0:
        return np.zeros(0)
    recipe = Recipe(epochs=epochs, lr=TRAIN_LR, momentum=TRAIN_MOMENTUM, weight_decay=0.0,
                    batch_size=TRAIN_BATCH, milestones=(),
                    log_every=math.ceil(data.labels.shape[0] / TRAIN_BATCH))
    return train(model, data, recipe=recipe, seed=seed, device=device,
                 progress=False).train_loss


def measure_variant(key: str, *, seed: int, settings: Mapping[str, object],
                    data_root: str | None, device: str,
                    images: ImageSet) -> dict[str, np.ndarray | float]:
    """Build, optionally train, and walk one variant (``"tanh"``, ``"relu_shortcut"`` …).

    Returns the all-layer walk (Fig. 3a) and the first-layer walk (Fig. 3b) as arrays
    (:meth:`~netspectra.probes.Walk.to_arrays` with prefixes ``"all_layers."`` and
    ``"first_layer."``), per-layer ``h`` of both, the loss paths' ``h``, the training losses
    and the unit's wall time.
    ``settings`` holds ``depth``, ``width``, ``init``, ``epochs``, ``batch_size``,
    ``direction``, ``directions``, ``alpha`` and ``points`` as checked by :func:`run`.
    ``data_root`` names the ``images`` in the sweep's digest; the images come as an input,
    so that no unit reads the disk.
    """
    start = time.perf_counter()
    dev = torch.device(device)
    activation = key.removesuffix(_SHORTCUT_SUFFIX)
    gen = torch.Generator().manual_seed(unit_seed(seed, key, "init"))
    model = ToyCNN(settings["depth"], settings["width"], activation,
                   shortcut=key.endswith(_SHORTCUT_SUFFIX), init=settings["init"],
                   generator=gen).to(dev)
    train_loss = train_before_walk(model, images, settings["epochs"],
                                   seed=unit_seed(seed, key, "train"), device=dev)
    x, y = fresh_batch(images, settings["batch_size"], unit_seed(seed, key, "batch"), dev)
    arrays: dict[str, np.ndarray | float] = {"train_loss": train_loss}
    for name, modules, derivative in (("all_layers", None, False),
                                      ("first_layer", FIRST_LAYER, True)):
        directions = ([gradient_direction(model, x, y, modules=modules)]
                      if settings["direction"] == "gradient" else settings["directions"])
        w = walk(model, x, directions, target=y, layers=model.unit_names,
                 alpha=settings["alpha"], n_points=settings["points"], modules=modules,
                 derivative=derivative, seed=unit_seed(seed, key, "walk"),
                 strategy=TOY_STRATEGY, progress=False)
        arrays.update(w.to_arrays(f"{name}."))
        arrays[f"h_{name}"] = np.array([fractal_h(w.spectrum(n), w.k) for n in w.layers])
        arrays[f"loss_h_{name}"] = fractal_h(w.spectrum(), w.k)
    arrays["seconds"] = time.perf_counter() - start
    return arrays


def _plot_walks(walks: dict[str, Walk], title: str, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(walks), figsize=(4.2 * len(walks), 3.8), sharey=True,
                             squeeze=False)
    for ax, (variant, w) in zip(axes[0], walks.items(), strict=True):
        w.plot(ax)
        ax.set_title(variant.replace(_SHORTCUT_SUFFIX, " + S"), fontsize="medium")
    first = next(iter(walks.values()))
    fig.suptitle(f"{title}: one line per layer, unit1 blue → unit{len(first.layers)} red; "
                 f"α = {first.alpha:g}, {len(first.t)} points")
    save_figure(fig, path)


def _plot_h(h: dict[str, dict[str, list]], path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    panels = (("h_per_layer", "all-layer walk (Fig. 3a)"),
              ("h_per_layer_first_layer_walk", "first-layer walk, k²-weighted (Fig. 3b)"))
    for ax, (field, title) in zip(axes, panels, strict=True):
        for variant, values in h[field].items():
            ax.plot(np.arange(1, len(values) + 1), values, label=variant)
        ax.set(xlabel="layer (unit)", ylabel="fractal coefficient h", title=title)
        ax.legend(fontsize="small")
    save_figure(fig, path)


def _ends(h: dict[str, list[float]], names: list[str]) -> str:
    return ", ".join(f"{v} {h[v][0]:.2f} → {h[v][-1]:.2f}" for v in names)


def _claims(h: dict[str, list[float]], h_first: dict[str, list[float]]) -> list[dict]:
    """Fig. 3a: the first unit follows 1/k (|h − 1| < 0.25) everywhere; without shortcuts
    the last unit's h lies below the first unit's (rougher), for relu and for the other
    nonlinear variants, and relu's lies lowest; with shortcuts every unit keeps
    |h − 1| < 0.25. Fig. 3b: relu's last unit's k²-weighted spectrum rises (h < 0) when the
    first layer alone varies, and the shortcut net's is flatter."""
    plain = [v for v in h if not v.endswith("_shortcut") and not v.startswith("linear")]
    short = [v for v in h if v.endswith("_shortcut")]
    claims = [claim("Fig. 3a: the lowest layer's paths follow 1/k (h ≈ 1) in every variant",
                    all(abs(values[0] - 1) < 0.25 for values in h.values()),
                    "h of unit 1: " + ", ".join(f"{v} {x[0]:.2f}" for v, x in h.items()))]
    groups = (("relu's deep layers blueshift", [v for v in plain if v == "relu"]),
              ("other nonlinearities' deep layers blueshift too",
               [v for v in plain if v != "relu"]))
    claims += [claim(f"Fig. 3a: without shortcuts, {text} (h of the last unit below the "
                     "first)", all(h[v][-1] < h[v][0] for v in names),
                     f"h unit 1 → last unit: {_ends(h, names)}")
               for text, names in groups if names]
    if "relu" in plain and len(plain) > 1:
        claims.append(claim("Fig. 3a: relu's deep layers blueshift most",
                            min(plain, key=lambda v: h[v][-1]) == "relu",
                            f"h unit 1 → last unit: {_ends(h, plain)}"))
    if short:
        claims.append(claim("Fig. 3a: with shortcuts every layer stays near 1/k (|h − 1| < 0.25)",
                            all(abs(x - 1) < 0.25 for v in short for x in h[v]),
                            ", ".join(f"{v} h {min(h[v]):.2f}..{max(h[v]):.2f}" for v in short)))
    if {"relu", "relu_shortcut"} <= set(h_first):
        relu, res = h_first["relu"][-1], h_first["relu_shortcut"][-1]
        claims.append(claim("Fig. 3b: varying the first layer only, relu's deep layers rise "
                            "towards high k (h < 0), the residual net's stay flatter",
                            relu < 0 and res > relu,
                            f"h of the k²-weighted last-unit spectrum: relu {relu:.2f}, "
                            f"relu_shortcut {res:.2f}"))
    return claims


@experiment(
    "layer-spectra",
    reproduces="RR Fig. 3; Figs. 11-14, 17",
    summary="per-layer path spectra of a 50-layer Toy-CNN: all-layer and first-layer walks",
    options=(
        Option("--activations", "activations walked without shortcuts (default: relu tanh "
               "softplus; Fig. 17: elu gelu htanh lrelu selu sigmoid)", str, None, "+"),
        Option("--shortcuts", "activations also walked with identity shortcuts (default: relu; "
               "'all': every one of --activations; 'none')", str, None, "+"),
        Option("--depth", "units L of the Toy-CNN (default: 50; 40 with --quick)", int),
        Option("--width", "channels per unit (default: 16; Fig. 14 varies it)", int, 16),
        Option("--alpha", "walk radius α (default: 1; Fig. 12: 0.1, 1, 10)", float, 1.0),
        Option("--points", "points per path (default: 100)", int, 100),
        Option("--batch-size", "images per walk minibatch (default: 128; 32 with --quick)", int),
        Option("--epochs", "train this many epochs before walking (default: 0, at "
               "initialisation; Fig. 11: 20)", int, 0),
        Option("--direction", "random or gradient (Fig. 13) (default: random)", str, "random"),
        Option("--init", "torch or delta_orthogonal (Fig. 12, with tanh) (default: torch)", str,
               "torch"),
        Option("--directions", "random directions averaged per walk (default: 1, the paper's "
               "single direction)", int, 1),
        *DATA_OPTIONS,
        *WORKER_OPTIONS,
    ),
)
def run(out: Path, *, quick: bool, seed: int, activations: Sequence[str] | None = None,
        shortcuts: Sequence[str] | None = None, depth: int | None = None, width: int = 16,
        alpha: float = 1.0, points: int = 100, batch_size: int | None = None, epochs: int = 0,
        direction: str = "random", init: str = "torch", directions: int = 1,
        data_root: str | None = None, device: str = "auto", workers: int | None = None,
        threads: int | None = None, ray: str | None = None,
        cpus_per_unit: int | None = None, gpus_per_unit: float | None = None) -> dict:
    """All-layer and first-layer walks of each variant (RR Fig. 3; options for Figs. 11–14,
    17).

    Paper: depth 50, width 16, α = 1, 100 points, one random direction, CIFAR-10. In
    result.json ``h_per_layer[variant][i]`` is the ``h`` of unit ``i + 1`` in the all-layer
    walk, ``h_per_layer_first_layer_walk`` the same for the ``k²``-weighted first-layer walk,
    and ``loss_h`` / ``loss_h_first_layer_walk`` the loss path's ``h`` in each.
    """
    activations = list(ACTIVATIONS if activations is None else activations)
    if shortcuts is None:
        shortcuts = list(SHORTCUTS)
    elif list(shortcuts) == ["all"]:
        shortcuts = activations
    elif list(shortcuts) == ["none"]:
        shortcuts = []
    variants = variant_names(activations, shortcuts)
    if not variants:
        raise NetspectraError("activations and shortcuts must name at least one variant; found "
                              f"activations={activations} and shortcuts={list(shortcuts)}")
    data_root, data = data_source(data_root)
    settings = {
        "depth": bounded((40 if quick else 50) if depth is None else depth, 1, MAX_TOY_DEPTH,
                         "depth", "20× the paper's 50"),
        "width": bounded(width, 1, MAX_WIDTH, "width", "16× the paper's 16"),
        "alpha": positive(alpha, "alpha"), "points": check_points(points),
        "batch_size": check_batch_size((32 if quick else 128) if batch_size is None
                                       else batch_size, data),
        "epochs": bounded(epochs, 0, MAX_EPOCHS, "epochs", "50× Fig. 11's 20"),
        "direction": choice(direction, DIRECTIONS, "direction"),
        "init": choice(init, INIT_SCHEMES, "init"),
        "directions": check_directions(directions),
    }
    if direction == "gradient" and directions != 1:
        raise NetspectraError(f"directions must be 1 with direction 'gradient' (there is one "
                              f"gradient per network and batch); found {directions}")
    sweep = Sweep(out, "units", measure_variant, variants, seed,
                  {"settings": settings, "data_root": data_root,
                   "device": str(resolve_device(device))}, inputs={"images": data},
                  version=2)  # 2: trained with netspectra.training.train
    units, record = Execution(workers, threads, ray, cpus_per_unit, gpus_per_unit).run(
        sweep, "variants")

    h = {"h_per_layer": {v: units[v]["h_all_layers"].tolist() for v in variants},
         "h_per_layer_first_layer_walk": {v: units[v]["h_first_layer"].tolist()
                                          for v in variants}}
    for name, title in (("all_layers", "all-layer walk, normalised power (Fig. 3a)"),
                        ("first_layer", f"{FIRST_LAYER} walk, k²-weighted power (Fig. 3b)")):
        walks = {v: Walk.from_arrays(units[v], f"{name}.") for v in variants}
        for v, w in walks.items():
            w.save(out / "walks" / v / name)
        _plot_walks(walks, title, out / f"{name}_spectra.png")
    _plot_h(h, out / "h_per_layer.png")
    return {
        **h,
        "claims": _claims(h["h_per_layer"], h["h_per_layer_first_layer_walk"]),
        "paper_values": [],
        "loss_h": {v: float(units[v]["loss_h_all_layers"]) for v in variants},
        "loss_h_first_layer_walk": {v: float(units[v]["loss_h_first_layer"]) for v in variants},
        "train_loss": {v: units[v]["train_loss"].tolist() for v in variants},
        "variants": variants,
        **settings,
        "first_layer": FIRST_LAYER,
        "data": data.name,
        **record,
        "unit_seconds": {v: float(units[v]["seconds"]) for v in variants},
    }
