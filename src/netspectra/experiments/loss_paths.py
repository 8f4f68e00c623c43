"""Ringing ReLUs Figs. 1 and 4 (§4.1, §4.3): loss paths of CIFAR ResNets at initialisation.

Fig. 1, the transition grid: a ResNet v2 with LReLUs, walked along one random direction for
a grid of negative slopes and shortcut weights ν. netspectra reads "slope" as LReLU's negative
slope, as :class:`~netspectra.models.CifarResNet` does (1: linear, 0: ReLU; RR §4.5's α); the
Fig. 1 caption's α is the amount of nonlinearity, ``1 − slope``, so its panels α = 0, ν = 0 /
α = 1, ν = 0 / α = 1, ν = 1 are slope 1, ν 0 / slope 0, ν 0 / slope 0, ν 1 here. All cells
share the initialisation and the direction, so the panels differ by the two knobs (and, per
App. A.2, by their minibatch) only.

Fig. 4, the "average loss path": for each variant, ``directions`` random loss paths (paper:
500), ``h`` fitted to each (raw spectra, default band), and the path whose ``h`` is the median
shown with its amplitude spectrum. Variants: linear (LReLU slope 1, no shortcuts, as Fig. 1's
linear panel) and relu, tanh, softplus each with and without shortcuts: the paper's Fig. 4
shows "different activation functions, with and without shortcuts" without listing them.

Version. ``--version`` (default 2) applies to both figures. App. A.1 names v2 blocks for
Figs. 1 and 6 only, so the paper's Fig. 4 was probably a v1 ResNet56 (``--version 1``).
Without shortcuts v1 and v2 compute the same function.

Every grid cell and every Fig. 4 variant is one seeded unit of work with its own fresh
minibatch, run over worker processes on CPU (``_parallel.plan_for_device``), so an interrupted run
resumes.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from .._validation import at_least, positive
from ..data import ImageSet
from ..errors import NetspectraError
from ..models import CifarResNet
from ..results import atomic_write_npz, save_figure
from ..theory import fractal_coefficient
from ._parallel import WORKER_OPTIONS, plan_for_device, run_units_parallel
from ._registry import Option, experiment
from ._rr import DATA_OPTIONS, image_data, loss_walk, resolve_device, unit_seed, units_folder


class Variant(NamedTuple):
    """A ResNet variant of Fig. 4: activation, LReLU slope, shortcuts and a readable label."""

    activation: str
    slope: float | None
    shortcut: bool
    label: str


#: The Fig. 4 variants, by unit-key name.
VARIANTS: dict[str, Variant] = {
    "linear": Variant("lrelu", 1.0, False, "linear"),
    "relu_noshort": Variant("relu", None, False, "relu no short"),
    "relu_short": Variant("relu", None, True, "relu short"),
    "tanh_noshort": Variant("tanh", None, False, "tanh no short"),
    "tanh_short": Variant("tanh", None, True, "tanh short"),
    "softplus_noshort": Variant("softplus", None, False, "softplus no short"),
    "softplus_short": Variant("softplus", None, True, "softplus short"),
}

SLOPES = (1.0, 0.5, 0.0)
SHORTCUT_WEIGHTS = (0.0, 0.5, 1.0)
_DEFAULTS = {"batch_size": 128, "points": 200, "directions": 500, "slopes": SLOPES,
             "shortcut_weights": SHORTCUT_WEIGHTS}
# Quick mode keeps ResNet56 and α = 2: at ResNet20 relu without shortcuts is no rougher than
# the linear net (median h 1.01-1.20 against 0.97 on the digits, 4 seeds); the roughening
# sets in between depths 32 and 44. The batch, the points and the directions are cut, and
# the grid to its corners, which hold Fig. 1's three panels.
_QUICK = {"batch_size": 8, "points": 100, "directions": 3, "slopes": (1.0, 0.0),
          "shortcut_weights": (0.0, 1.0)}


def _grid_key(slope: float, nu: float) -> str:
    # repr: the shortest text that reads back as the same float, so the unit parses it exactly.
    return f"grid-slope={slope!r}-nu={nu!r}"


def _model(depth: int, version: int, activation: str, *, slope: float | None, shortcut: bool,
           nu: float, data: ImageSet, seed: int) -> CifarResNet:
    return CifarResNet(depth, activation, version=version, slope=slope, shortcut=shortcut,
                       shortcut_weight=nu, in_channels=data.images.shape[1],
                       generator=torch.Generator().manual_seed(seed))


def grid_unit(key: str, *, seed: int, data_root: str | None, device: str, depth: int,
              version: int, batch_size: int, alpha: float,
              points: int) -> dict[str, np.ndarray]:
    """One Fig. 1 panel (``key`` from the grid: ``"grid-slope=0.5-nu=1.0"``).

    The initialisation and the direction are the grid's (seeded from ``seed`` alone); the
    minibatch is the cell's own. Returns the loss path, its normalised power and its ``h``.
    """
    slope_text, nu_text = key.removeprefix("grid-slope=").split("-nu=")
    slope, nu = float(slope_text), float(nu_text)
    data = image_data(data_root)
    model = _model(depth, version, "lrelu", slope=slope, shortcut=True, nu=nu, data=data,
                   seed=unit_seed(seed, "grid", "init"))
    w, h = loss_walk(model, data, batch_size, batch_seed=unit_seed(seed, key),
                     direction_seed=unit_seed(seed, "grid", "direction"), directions=1,
                     alpha=alpha, points=points, device=torch.device(device))
    return {"loss": w.loss[0], "power": w.loss_power[0], "h": h[0]}


def variant_unit(key: str, *, seed: int, data_root: str | None, device: str, depth: int,
                 version: int, batch_size: int, directions: int, alpha: float,
                 points: int) -> dict[str, np.ndarray]:
    """One Fig. 4 variant (``key`` a name of :data:`VARIANTS`) at initialisation: ``h``, the
    loss path and the normalised power spectrum of every direction."""
    spec = VARIANTS[key]
    s = unit_seed(seed, key)
    data = image_data(data_root)
    model = _model(depth, version, spec.activation, slope=spec.slope, shortcut=spec.shortcut,
                   nu=1.0, data=data, seed=s)
    w, h = loss_walk(model, data, batch_size, batch_seed=s, direction_seed=s,
                     directions=directions, alpha=alpha, points=points,
                     device=torch.device(device))
    return {"h": h, "loss": w.loss, "power": w.loss_power}


def median_path(h: np.ndarray) -> int:
    """Index of the path with the median ``h`` (the lower middle one for an even count): the
    "average loss path" of RR Fig. 4."""
    return int(np.argsort(h, kind="stable")[(len(h) - 1) // 2])


def _plot_grid(t: np.ndarray, slopes: list[float], nus: list[float], grid: dict,
               title: str, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(nus), len(slopes), figsize=(4 * len(slopes), 3 * len(nus)),
                             squeeze=False, layout="constrained")
    for r, nu in enumerate(nus):
        for c, slope in enumerate(slopes):
            cell = grid[_grid_key(slope, nu)]
            ax = axes[r, c]
            ax.plot(t, cell["loss"], lw=1)
            ax.set(title=f"slope = {slope:g}, ν = {nu:g} (h = {float(cell['h']):.2f})",
                   xlabel="t" if r == len(nus) - 1 else None,
                   ylabel="loss" if c == 0 else None)
    fig.suptitle(title)
    save_figure(fig, path)


def _plot_median(t: np.ndarray, k: np.ndarray, paths: dict, title: str, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(paths), figsize=(3.2 * len(paths), 6), squeeze=False,
                             layout="constrained")
    for c, (name, (loss, power, h_path)) in enumerate(paths.items()):
        amplitude = np.sqrt(power)
        fit = fractal_coefficient(power, k, min_r2=0.0)
        axes[0, c].plot(t, loss, lw=1)
        axes[0, c].set(title=VARIANTS[name].label, xlabel="t", ylabel="loss" if c == 0 else None)
        axes[1, c].loglog(k, amplitude, lw=1)
        axes[1, c].loglog(fit.k, np.exp(fit.intercept) * fit.k ** (-fit.h), "--",
                          label=f"h = {h_path:.2f}")
        axes[1, c].set(xlabel="frequency k", ylabel="amplitude |z_k|" if c == 0 else None)
        axes[1, c].legend(fontsize="small")
    fig.suptitle(title)
    save_figure(fig, path)


def _unit_interval(values: Sequence[float], name: str) -> list[float]:
    if isinstance(values, (int, float)) or not values:
        raise NetspectraError(f"{name} must be a non-empty list of numbers in [0, 1]; "
                              f"found {values!r}")
    checked = []
    for v in values:
        try:
            x = float(v)
        except (TypeError, ValueError):
            x = float("nan")
        if not 0.0 <= x <= 1.0:
            raise NetspectraError(f"{name} must lie in [0, 1]; found {v!r}")
        checked.append(x)
    return list(dict.fromkeys(checked))


def _resnet_depth(depth: int) -> int:
    depth = at_least(depth, 8, "depth")
    if (depth - 2) % 6:
        raise NetspectraError(f"depth must be 6n + 2 (20, 56, 110, …); found {depth}")
    return depth


@experiment(
    "loss-paths",
    reproduces="RR Figs. 1, 4",
    summary="ResNet loss paths: linear → ReLU → ResNet grid; median-h path and spectrum",
    options=(
        Option("--slopes", "LReLU negative slopes of the Fig. 1 grid (1: linear, 0: ReLU; "
               "default: 1 0.5 0; 1 0 with --quick)", float, nargs="+"),
        Option("--shortcut-weights", "shortcut weights ν of the Fig. 1 grid (default: 0 0.5 1; "
               "0 1 with --quick)", float, nargs="+"),
        Option("--directions", "random loss paths per Fig. 4 variant (default: 500; 3 with "
               "--quick)", int),
        Option("--depth", "ResNet depth, 6n + 2 (default: 56)", int, 56),
        Option("--version", "ResNet blocks: 1 post-, 2 pre-activation (default: 2)", int, 2),
        Option("--batch-size", "images per minibatch (default: 128; 8 with --quick)", int),
        Option("--points", "points per path (default: 200; 100 with --quick)", int),
        Option("--alpha", "walk radius α (default: 2)", float, 2.0),
        *DATA_OPTIONS,
        *WORKER_OPTIONS,
    ),
)
def run(out: Path, *, quick: bool, seed: int, slopes: Sequence[float] | None = None,
        shortcut_weights: Sequence[float] | None = None, directions: int | None = None,
        depth: int = 56, version: int = 2, batch_size: int | None = None,
        points: int | None = None, alpha: float = 2.0, data_root: str | None = None,
        device: str = "auto", workers: int | None = None, threads: int | None = None) -> dict:
    """The Fig. 1 grid and the Fig. 4 median-h paths (paper: ResNet56, batch 128, 200 points,
    α = 2, 500 directions per variant)."""
    defaults = _QUICK if quick else _DEFAULTS
    if version not in (1, 2):
        raise NetspectraError(f"version must be 1 or 2; found {version!r}")
    common = {
        "depth": _resnet_depth(depth),
        "version": version,
        "batch_size": at_least(batch_size if batch_size is not None
                               else defaults["batch_size"], 1, "batch_size"),
        "alpha": positive(alpha, "alpha"),
        "points": at_least(points if points is not None else defaults["points"], 8, "points"),
    }
    slope_list = _unit_interval(defaults["slopes"] if slopes is None else slopes, "slopes")
    nu_list = _unit_interval(defaults["shortcut_weights"] if shortcut_weights is None
                             else shortcut_weights, "shortcut_weights")
    n_dirs = at_least(directions if directions is not None else defaults["directions"], 1,
                      "directions")
    data = image_data(data_root)
    dev = resolve_device(device)
    shared = {"seed": seed, "data_root": data_root, "device": str(dev), **common}
    workers, threads = plan_for_device(len(VARIANTS), dev, workers, threads)
    parallel = {"workers": workers, "threads": threads}
    tag = {**common, "seed": seed, "data": data.name}

    start = time.perf_counter()
    grid_keys = [_grid_key(s, nu) for nu in nu_list for s in slope_list]
    grid_folder = units_folder(out, {**tag, "figure": 1})
    grid = run_units_parallel(grid_folder, grid_keys, functools.partial(grid_unit, **shared),
                          desc="Fig. 1 cells", **parallel)
    variant_folder = units_folder(out, {**tag, "figure": 4, "directions": n_dirs})
    units = run_units_parallel(variant_folder, list(VARIANTS),
                           functools.partial(variant_unit, directions=n_dirs, **shared),
                           desc="Fig. 4 variants", **parallel)
    seconds = time.perf_counter() - start

    t = np.linspace(0.0, 1.0, common["points"])
    k = np.arange(1, common["points"] // 2 + 1)
    net = f"ResNet{common['depth']} v{version}, {data.name}, α = {common['alpha']:g}"
    atomic_write_npz(out / "fig1_paths.npz", {
        "t": t, "k": k, "slopes": slope_list, "shortcut_weights": nu_list,
        "loss": np.array([[grid[_grid_key(s, nu)]["loss"] for s in slope_list]
                          for nu in nu_list]),
        "h": np.array([[float(grid[_grid_key(s, nu)]["h"]) for s in slope_list]
                       for nu in nu_list])})
    _plot_grid(t, slope_list, nu_list, grid,
               f"{net}: loss path along one direction\nslope = LReLU negative slope "
               "(1 linear, 0 ReLU; Fig. 1's α is 1 − slope), ν = shortcut weight",
               out / "fig1_loss_paths.png")

    medians = {}
    for name, u in units.items():
        i = median_path(u["h"])
        medians[name] = (u["loss"][i], u["power"][i], float(u["h"][i]))
    atomic_write_npz(out / "fig4_median_paths.npz", {
        "t": t, "k": k, "variants": list(VARIANTS),
        "h": np.array([units[v]["h"] for v in VARIANTS]),
        "median_loss": np.array([medians[v][0] for v in VARIANTS]),
        "median_power": np.array([medians[v][1] for v in VARIANTS])})
    _plot_median(t, k, medians, f"{net}: loss path with the median h of {n_dirs} random "
                 "directions, and its amplitude spectrum", out / "fig4_median_paths.png")

    return {
        "median_h": {v: float(np.median(u["h"])) for v, u in units.items()},
        "h_quartiles": {v: np.percentile(u["h"], [25, 50, 75]).tolist()
                        for v, u in units.items()},
        "grid_h": {f"slope={s:g}, nu={nu:g}": float(grid[_grid_key(s, nu)]["h"])
                   for nu in nu_list for s in slope_list},
        "labels": {v: spec.label for v, spec in VARIANTS.items()},
        "band": [1, int(k.size // 2)],
        **common,
        "slopes": slope_list,
        "shortcut_weights": nu_list,
        "directions": n_dirs,
        "data": data.name,
        "device": str(dev),
        "units": [grid_folder.name, variant_folder.name],
        "seconds": seconds,
    }
