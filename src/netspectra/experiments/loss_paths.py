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
minibatch, run over worker processes on CPU (``_sweep.plan_workers``), so an interrupted run
resumes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from .._validation import positive
from ..data import ImageSet
from ..errors import NetspectraError
from ..models import CifarResNet
from ..results import atomic_write_npz, save_figure
from ..theory import fractal_coefficient
from ._claims import claim
from ._ray import ray_connection
from ._registry import Option, experiment
from ._rr import (
    DATA_OPTIONS,
    check_batch_size,
    check_directions,
    check_points,
    check_resnet_depth,
    data_source,
    loss_walk,
)
from ._sweep import WORKER_OPTIONS, Execution, Sweep, resolve_device, unit_seed


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
              version: int, batch_size: int, alpha: float, points: int,
              images: ImageSet) -> dict[str, np.ndarray]:
    """One Fig. 1 panel (``key`` from the grid: ``"grid-slope=0.5-nu=1.0"``).

    The initialisation and the direction are the grid's (seeded from ``seed`` alone); the
    minibatch of ``images`` is the cell's own. Returns the loss path, its normalised power
    and its ``h``. ``data_root`` names the images in the sweep's digest; they come as an
    input, so that no unit reads the disk.
    """
    slope_text, nu_text = key.removeprefix("grid-slope=").split("-nu=")
    slope, nu = float(slope_text), float(nu_text)
    model = _model(depth, version, "lrelu", slope=slope, shortcut=True, nu=nu, data=images,
                   seed=unit_seed(seed, "grid", "init"))
    w, h = loss_walk(model, images, batch_size, batch_seed=unit_seed(seed, key),
                     direction_seed=unit_seed(seed, "grid", "direction"), directions=1,
                     alpha=alpha, points=points, device=torch.device(device))
    return {"loss": w.loss[0], "power": w.loss_power[0], "h": h[0]}


def variant_unit(key: str, *, seed: int, data_root: str | None, device: str, depth: int,
                 version: int, batch_size: int, directions: int, alpha: float,
                 points: int, images: ImageSet) -> dict[str, np.ndarray]:
    """One Fig. 4 variant (``key`` a name of :data:`VARIANTS`) at initialisation: ``h``, the
    loss path and the normalised power spectrum of every direction, on a minibatch of
    ``images`` (named by ``data_root`` in the sweep's digest, as :func:`grid_unit`)."""
    spec = VARIANTS[key]
    s = unit_seed(seed, key)
    model = _model(depth, version, spec.activation, slope=spec.slope, shortcut=spec.shortcut,
                   nu=1.0, data=images, seed=s)
    w, h = loss_walk(model, images, batch_size, batch_seed=s, direction_seed=s,
                     directions=directions, alpha=alpha, points=points,
                     device=torch.device(device))
    return {"h": h, "loss": w.loss, "power": w.loss_power}


def _variant_claims(median: dict[str, float]) -> list[dict]:
    """Fig. 4, by the median h over directions: every nonlinear net without shortcuts is
    rougher than the linear one, shortcuts make each activation smoother, and relu without
    shortcuts is the roughest of all."""
    acts = ("relu", "tanh", "softplus")
    values = ", ".join(f"{v} {x:.2f}" for v, x in median.items())
    return [
        claim("Fig. 4: without shortcuts, nonlinear ResNets have rougher loss paths than the "
              "linear one", all(median[f"{a}_noshort"] < median["linear"] for a in acts),
              f"median h: {values}"),
        claim("Fig. 4: shortcuts make the loss paths smoother for relu, tanh and softplus",
              all(median[f"{a}_short"] > median[f"{a}_noshort"] for a in acts),
              f"median h: {values}"),
        claim("Fig. 4: relu without shortcuts has the roughest loss paths",
              min(median, key=median.get) == "relu_noshort", f"median h: {values}"),
    ]


def _grid_claims(grid_h: dict[str, float], slopes: list[float], nus: list[float]) -> list[dict]:
    """Fig. 1: at every shortcut weight ν the most nonlinear slope gives a lower h than the
    most linear one; at the most nonlinear slope the largest ν gives a higher h than the
    smallest. Each needs two values on its axis."""
    lo, hi = min(slopes), max(slopes)
    claims = []
    if lo < hi:
        pairs = [(grid_h[f"slope={lo:g}, nu={nu:g}"], grid_h[f"slope={hi:g}, nu={nu:g}"])
                 for nu in nus]
        claims.append(claim(
            "Fig. 1: a more nonlinear activation (smaller leaky slope) roughens the loss path",
            all(a < b for a, b in pairs),
            "; ".join(f"ν = {nu:g}: h {a:.2f} at slope {lo:g}, {b:.2f} at slope {hi:g}"
                      for nu, (a, b) in zip(nus, pairs, strict=True))))
    if min(nus) < max(nus):
        a, b = (grid_h[f"slope={lo:g}, nu={nu:g}"] for nu in (min(nus), max(nus)))
        claims.append(claim("Fig. 1: a larger shortcut weight ν smooths the loss path",
                            b > a, f"slope {lo:g}: h {a:.2f} at ν = {min(nus):g}, {b:.2f} at "
                            f"ν = {max(nus):g}"))
    return claims


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
        device: str = "auto", workers: int | None = None, threads: int | None = None,
        ray: str | None = None, cpus_per_unit: int | None = None,
        gpus_per_unit: float | None = None) -> dict:
    """The Fig. 1 grid and the Fig. 4 median-h paths (paper: ResNet56, batch 128, 200 points,
    α = 2, 500 directions per variant)."""
    defaults = _QUICK if quick else _DEFAULTS
    if version not in (1, 2):
        raise NetspectraError(f"version must be 1 or 2; found {version!r}")
    data_root, data = data_source(data_root)
    common = {
        "depth": check_resnet_depth(depth),
        "version": version,
        "batch_size": check_batch_size(batch_size if batch_size is not None
                                       else defaults["batch_size"], data),
        "alpha": positive(alpha, "alpha"),
        "points": check_points(points if points is not None else defaults["points"]),
    }
    slope_list = _unit_interval(defaults["slopes"] if slopes is None else slopes, "slopes")
    nu_list = _unit_interval(defaults["shortcut_weights"] if shortcut_weights is None
                             else shortcut_weights, "shortcut_weights")
    n_dirs = check_directions(directions if directions is not None else defaults["directions"])
    shared = {"data_root": data_root, "device": str(resolve_device(device)), **common}
    grid_keys = [_grid_key(s, nu) for nu in nu_list for s in slope_list]
    inputs = {"images": data}
    fig1 = Sweep(out, "fig1", grid_unit, grid_keys, seed, shared, inputs)
    fig4 = Sweep(out, "fig4", variant_unit, list(VARIANTS), seed,
                 {**shared, "directions": n_dirs}, inputs)
    execution = Execution(workers, threads, ray, cpus_per_unit, gpus_per_unit)
    with ray_connection(ray):  # one connection (with --ray local, one instance) for both
        grid, fig1_record = execution.run(fig1, "Fig. 1 cells")
        units, record = execution.run(fig4, "Fig. 4 variants")

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

    median = {v: float(np.median(u["h"])) for v, u in units.items()}
    grid_h = {f"slope={s:g}, nu={nu:g}": float(grid[_grid_key(s, nu)]["h"])
              for nu in nu_list for s in slope_list}
    return {
        "median_h": median,
        "h_quartiles": {v: np.percentile(u["h"], [25, 50, 75]).tolist()
                        for v, u in units.items()},
        "grid_h": grid_h,
        "claims": _variant_claims(median) + _grid_claims(grid_h, slope_list, nu_list),
        "paper_values": [],
        "labels": {v: spec.label for v, spec in VARIANTS.items()},
        "band": [1, int(k.size // 2)],
        **common,
        "slopes": slope_list,
        "shortcut_weights": nu_list,
        "directions": n_dirs,
        "data": data.name,
        **record,
        "units": [fig1_record["units"], record["units"]],
        "seconds": fig1_record["seconds"] + record["seconds"],
    }
