"""Ringing ReLUs Fig. 5 (§4.3; Fig. 16 on MNIST): roughness of the loss path against depth.

Toy-CNNs (width 16, stride-5 input unit) at initialisation, for relu, tanh and softplus with
and without identity shortcuts, and tanh with delta-orthogonal initialisation (no shortcut).
For every (variant, depth, initialisation) the network is built from a seed of its own, gets
a fresh minibatch (RR App. A.2) and is walked along ``directions`` random directions; each
loss path gets its fractal coefficient ``h`` (raw spectra, default band).

Which average. The paper plots the "average loss path smoothness h" over 50 initialisations ×
20 directions and fits ``h`` to every sampled path (§4.3), so the headline ``h`` is the mean of
the per-path ``h`` (equal paths per initialisation, so also the mean of the per-initialisation
means), and ``h_std`` the standard deviation (ddof 0) of the per-initialisation means. The
``h`` of the mean spectrum of all those paths is reported next to it (``h_of_mean_spectrum``):
the log of a mean leans towards the flatter, rougher spectra, so it tends to come out lower
when the paths differ.

Data. Fig. 5 uses CIFAR-10 with batch 128 (``--data-root``); Fig. 16 uses MNIST with batch
256, which is not shipped: the default data, scikit-learn's handwritten digits at 32 × 32,
stand in for it (with ``--batch-size 256``).

Each (variant, depth, initialisation) is one seeded unit of work, run over worker processes
on CPU (``_sweep.plan_workers``): an interrupted run resumes, and a unit alone
equals the same unit inside a full run (at the same number of threads).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from .._validation import bounded, positive
from ..data import ImageSet
from ..errors import NetspectraError
from ..models import ToyCNN
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
    loss_walk,
)
from ._sweep import MAX_UNITS, WORKER_OPTIONS, Execution, Sweep, resolve_device, unit_seed


class Variant(NamedTuple):
    """A Toy-CNN variant of Fig. 5: its activation, shortcuts, initialisation and legend."""

    activation: str
    shortcut: bool
    init: str
    label: str


#: The seven curves of RR Fig. 5, by unit-key name.
VARIANTS: dict[str, Variant] = {
    "relu_short": Variant("relu", True, "torch", "relu short"),
    "relu_noshort": Variant("relu", False, "torch", "relu no short"),
    "softplus_short": Variant("softplus", True, "torch", "softplus short"),
    "softplus_noshort": Variant("softplus", False, "torch", "softplus no short"),
    "tanh_short": Variant("tanh", True, "torch", "tanh short"),
    "tanh_noshort": Variant("tanh", False, "torch", "tanh no short"),
    "tanh_noshort_delta": Variant("tanh", False, "delta_orthogonal",
                                  "tanh no short delta init"),
}

DEPTHS = (2, 5, 10, 20, 30, 40, 50)
# Quick mode keeps the paper's width, radius and points and cuts the rest: the effect only
# sets in near depth 50 at α = 1 (relu without shortcuts on the digits, 4 seeds: h 1.0-1.4 up
# to depth 25, 0.27-0.42 at depth 50), so the deepest depth stays.
_QUICK = {"depths": (2, 25, 50), "inits": 2, "directions": 2, "batch_size": 16}

def unit_key(variant: str, depth: int, init: int) -> str:
    """``"<variant>-d<depth>-i<init>"``, e.g. ``"relu_short-d50-i007"``."""
    return f"{variant}-d{depth}-i{init:03d}"


def depth_unit(key: str, *, seed: int, data_root: str | None, device: str, width: int,
               batch_size: int, directions: int, alpha: float,
               points: int, images: ImageSet) -> dict[str, np.ndarray]:
    """One initialisation of one variant at one depth (``key`` from :func:`unit_key`).

    The network, the minibatch of ``images`` and the directions are drawn from
    ``unit_seed(seed, variant, depth, init)``. Returns ``h`` of every loss path and their mean
    normalised power spectrum ``power``. ``data_root`` names the images in the sweep's
    digest; they come as an input, so that no unit reads the disk.
    """
    variant, depth_text, init_text = key.rsplit("-", 2)
    depth, init = int(depth_text[1:]), int(init_text[1:])
    spec = VARIANTS[variant]
    s = unit_seed(seed, variant, depth, init)
    _, channels, size, _ = images.images.shape
    model = ToyCNN(depth, width, spec.activation, shortcut=spec.shortcut, init=spec.init,
                   in_channels=channels, image_size=size,
                   generator=torch.Generator().manual_seed(s))
    w, h = loss_walk(model, images, batch_size, batch_seed=s, direction_seed=s,
                     directions=directions, alpha=alpha, points=points,
                     device=torch.device(device), strategy=TOY_STRATEGY)
    return {"h": h, "power": w.spectrum("loss")}


def _claims(h: dict[str, dict[str, float]]) -> list[dict]:
    """Fig. 5 compares h at the shallowest and the deepest depth run: without shortcuts it
    falls (rougher) for every activation, relu's lies lowest at the deepest depth, and with
    shortcuts every depth keeps |h − 1| < 0.25. With one depth only the shortcut claim is
    testable."""
    depths = sorted(next(iter(h.values())), key=int)
    shallow, deep = depths[0], depths[-1]
    plain = [v for v, spec in VARIANTS.items() if not spec.shortcut]
    short = [v for v, spec in VARIANTS.items() if spec.shortcut]

    def falls(names: list[str]) -> tuple[bool, str]:
        return (all(h[v][deep] < h[v][shallow] for v in names),
                f"h at depth {shallow} → {deep}: "
                + ", ".join(f"{v} {h[v][shallow]:.2f} → {h[v][deep]:.2f}" for v in names))

    claims = [claim("Fig. 5: with shortcuts, loss paths stay near 1/k at every depth "
                    "(|h − 1| < 0.25)", all(abs(x - 1) < 0.25 for v in short
                                             for x in h[v].values()),
                    ", ".join(f"{v} h {min(h[v].values()):.2f}..{max(h[v].values()):.2f}"
                              for v in short))]
    if len(depths) > 1:
        claims += [
            claim("Fig. 5: without shortcuts, relu loss paths get rougher with depth (h falls)",
                  *falls(["relu_noshort"])),
            claim("Fig. 5: without shortcuts, tanh and softplus loss paths get rougher with "
                  "depth (h falls)", *falls([v for v in plain if v != "relu_noshort"])),
            claim(f"Fig. 5: relu without shortcuts is the roughest at depth {deep}",
                  min(h, key=lambda v: h[v][deep]) == "relu_noshort",
                  f"h at depth {deep}: " + ", ".join(f"{v} {h[v][deep]:.2f}" for v in h)),
        ]
    return claims


def _plot(depths: list[int], mean: np.ndarray, std: np.ndarray, k: np.ndarray,
          power: np.ndarray, title: str, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
    families = list(dict.fromkeys((v.activation, v.init) for v in VARIANTS.values()))
    for i, spec in enumerate(VARIANTS.values()):
        style = "--" if spec.shortcut else "-"
        colour = f"C{families.index((spec.activation, spec.init))}"
        axes[0].plot(depths, mean[i], style, marker="o", ms=3, color=colour, label=spec.label)
        axes[0].fill_between(depths, mean[i] - std[i], mean[i] + std[i], color=colour,
                             alpha=0.12)
        axes[1].loglog(k, np.sqrt(power[i, -1]), style, color=colour, label=spec.label)
    axes[0].set(xlabel="number of layers", ylabel="loss path smoothness h (mean ± std)",
                title=title)
    axes[1].set(xlabel="frequency k (cycles per path)",
                ylabel="amplitude √(mean normalised power)",
                title=f"mean loss-path spectrum at depth {depths[-1]}")
    axes[0].legend(fontsize="small")
    save_figure(fig, path)


def _write_csv(path: Path, depths: list[int], mean: np.ndarray, std: np.ndarray,
               of_mean: np.ndarray) -> None:
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["variant", "label", "depth", "h_mean", "h_std_over_inits",
                         "h_of_mean_spectrum"])
        for i, (name, spec) in enumerate(VARIANTS.items()):
            for j, depth in enumerate(depths):
                writer.writerow([name, spec.label, depth, f"{mean[i, j]:.6g}",
                                 f"{std[i, j]:.6g}", f"{of_mean[i, j]:.6g}"])


def _depths(depths: Sequence[int]) -> list[int]:
    if isinstance(depths, (int, np.integer)) or not depths:
        raise NetspectraError(f"depths must be a non-empty list of integers >= 1; "
                              f"found {depths!r}")
    return sorted({bounded(d, 1, MAX_TOY_DEPTH, "depths", "20× the paper's 50")
                   for d in depths})


@experiment(
    "roughness-depth",
    reproduces="RR Fig. 5 (Fig. 16)",
    summary="loss-path smoothness h vs depth of Toy-CNNs, with and without shortcuts",
    options=(
        Option("--depths", "Toy-CNN depths (default: 2 5 10 20 30 40 50; 2 25 50 with --quick)",
               int, nargs="+"),
        Option("--inits", "initialisations per variant and depth (default: 50; 2 with --quick)",
               int),
        Option("--directions", "random directions per initialisation (default: 20; 2 with "
               "--quick)", int),
        Option("--alpha", "walk radius α (default: 1)", float, 1.0),
        Option("--points", "points per path (default: 100)", int, 100),
        Option("--batch-size", "images per minibatch (default: 128, Fig. 5; Fig. 16 uses 256 "
               "on MNIST; 16 with --quick)", int),
        Option("--width", "channels per unit (default: 16)", int, 16),
        *DATA_OPTIONS,
        *WORKER_OPTIONS,
    ),
)
def run(out: Path, *, quick: bool, seed: int, depths: Sequence[int] | None = None,
        inits: int | None = None, directions: int | None = None, alpha: float = 1.0,
        points: int = 100, batch_size: int | None = None, width: int = 16,
        data_root: str | None = None, device: str = "auto", workers: int | None = None,
        threads: int | None = None, ray: str | None = None,
        cpus_per_unit: int | None = None, gpus_per_unit: float | None = None) -> dict:
    """Mean loss-path ``h`` per variant and depth (paper: 50 initialisations × 20 directions,
    100 points, α = 1, batch 128 of CIFAR-10, depths 2-50)."""
    defaults = _QUICK if quick else {"depths": DEPTHS, "inits": 50, "directions": 20,
                                     "batch_size": 128}
    depth_list = _depths(defaults["depths"] if depths is None else depths)
    data_root, data = data_source(data_root)
    n_inits = bounded(inits if inits is not None else defaults["inits"], 1,
                      MAX_UNITS // (len(VARIANTS) * len(depth_list)), "inits",
                      f"a sweep holds at most {MAX_UNITS} units, {len(VARIANTS)} variants × "
                      f"{len(depth_list)} depths per initialisation")
    unit_settings = {
        "directions": check_directions(directions if directions is not None
                                       else defaults["directions"]),
        "alpha": positive(alpha, "alpha"),
        "points": check_points(points),
        "batch_size": check_batch_size(batch_size if batch_size is not None
                                       else defaults["batch_size"], data),
        "width": bounded(width, 1, MAX_WIDTH, "width", "16× the paper's 16"),
    }
    settings = {"depths": depth_list, "inits": n_inits, **unit_settings}
    keys = [unit_key(v, d, i) for v in VARIANTS for d in depth_list for i in range(n_inits)]
    sweep = Sweep(out, "units", depth_unit, keys, seed,
                  {**unit_settings, "data_root": data_root,
                   "device": str(resolve_device(device))}, inputs={"images": data})
    units, record = Execution(workers, threads, ray, cpus_per_unit, gpus_per_unit).run(
        sweep, "initialisations")

    # (variant, depth, init, direction) and (variant, depth, init, k)
    h = np.array([[[units[unit_key(v, d, i)]["h"] for i in range(n_inits)]
                   for d in depth_list] for v in VARIANTS])
    power = np.array([[[units[unit_key(v, d, i)]["power"] for i in range(n_inits)]
                       for d in depth_list] for v in VARIANTS])
    k = np.arange(1, settings["points"] // 2 + 1)
    mean, std = h.mean(axis=(2, 3)), h.mean(axis=3).std(axis=2)
    mean_power = power.mean(axis=2)
    of_mean = np.array([[fractal_h(p, k) for p in row] for row in mean_power])
    atomic_write_npz(out / "roughness_depth.npz", {"depths": depth_list, "k": k, "h": h,
                                                   "mean_power": mean_power,
                                                   "variants": list(VARIANTS)})
    _write_csv(out / "roughness_depth.csv", depth_list, mean, std, of_mean)
    title = (f"Toy-CNN width {settings['width']}, {data.name}, α = {settings['alpha']:g}, "
             f"{n_inits} inits × {settings['directions']} directions")
    _plot(depth_list, mean, std, k, mean_power, title, out / "roughness_depth.png")

    def by_depth(values: np.ndarray) -> dict:
        return {v: {str(d): float(x) for d, x in zip(depth_list, row, strict=True)}
                for v, row in zip(VARIANTS, values, strict=True)}

    return {
        "h": by_depth(mean),
        "claims": _claims(by_depth(mean)),
        "paper_values": [],
        "h_std": by_depth(std),
        "h_of_mean_spectrum": by_depth(of_mean),
        "labels": {v: spec.label for v, spec in VARIANTS.items()},
        "band": [1, int(k.size // 2)],
        **settings,
        "data": data.name,
        **record,
    }
