"""Ringing ReLUs Fig. 6 (§3.5, §4.4): the two summands of every residual addition decorrelate
with frequency along weight-space walks at initialisation.

Frequency-dependent signal averaging (FDSA): the harmonics a residual branch adds depend on
the branch's own weights, so along a walk they correlate less with the shortcut's path than
the low frequencies do, and the addition damps them. For each activation one ResNet with
shortcuts (v2 by default, as App. A.1 names for Fig. 6) is built and given a fresh augmented
minibatch (RR App. A.2); along ``directions`` random directions over all weights the outputs
of both summands of every block (:attr:`~netspectra.models.CifarResNet.summand_pairs`) are
recorded at the same seeded positions, band-passed with Gaussian filters and correlated per
band (:func:`~netspectra.probes.branch_correlation`; band centres and widths in
:func:`~netspectra.theory.band_centres`, paths detrended first).

``abs_correlation[activation]`` is the mean ``|corr|`` per band, low to high: averaged over
the recorded positions of each pair, then over pairs and directions (as the probe's
``abs_correlation``). The paper samples 10 % of the outputs; a fixed ``--positions`` per pair
(default 4096) keeps the memory bounded at any batch. Two independent band-passed paths do
not give 0 but a floor of about ``√(2/π) / √(dof)`` (few effective samples per band): about
0.2 at 200 points and 10 bands, so compare the activations, not the bars against 0.

Each (activation, direction) is one seeded unit of work (:class:`._sweep.Sweep`): the
network and minibatch come from the activation's seed, the direction from the unit's, so an
interrupted run resumes and the directions of one activation spread over the workers.
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
from ..models import CifarResNet
from ..models.activations import ACTIVATION_MODULE_NAMES
from ..probes import branch_correlation, random_direction
from ..results import atomic_write_npz, save_figure
from ..theory import band_centres
from ..theory.band_correlation import DEFAULT_BANDS
from ._claims import claim
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
from ._sweep import WORKER_OPTIONS, Execution, Sweep, resolve_device, unit_seed

#: Activations of Fig. 6, in the order the paper ranks their decorrelation (strongest first).
ACTIVATIONS = ("relu", "tanh", "softplus")
#: Positions recorded per pair by default (the paper: 10 % of the outputs).
POSITIONS = 4096
#: Most positions per pair: a ResNet56 block's output at batch 128 has 2 M.
MAX_POSITIONS = 2**21
_DEFAULTS = {"depth": 56, "directions": 50, "points": 200, "batch_size": 128}
# Quick mode keeps ResNet56 and α = 2 and cuts the batch, the directions and the points.
_QUICK = {"depth": 56, "directions": 2, "points": 100, "batch_size": 8}


def _key(activation: str, direction: int) -> str:
    return f"{activation}-dir{direction:03d}"


def direction_unit(key: str, *, seed: int, data_root: str | None, device: str, depth: int,
                   version: int, batch_size: int, alpha: float, points: int, bands: int,
                   positions: int, images: ImageSet) -> dict[str, np.ndarray]:
    """One direction of one activation (``key``: ``"tanh-dir007"``): the activation's network,
    minibatch and recorded positions from ``unit_seed(seed, activation)`` (so every direction
    sees the same positions, as in one probe call), the direction from ``unit_seed(seed,
    key)``. Returns the probe's per-pair arrays ``(n_pairs, 1, n_bands)``:
    ``abs`` (mean ``|corr|`` over positions), ``signed`` and ``valid`` (positions behind each
    mean). ``data_root`` names the ``images`` in the sweep's digest; the images come as an
    input, so that no unit reads the disk."""
    activation = key.rsplit("-", 1)[0]
    s = unit_seed(seed, activation)
    dev = torch.device(device)
    model = CifarResNet(depth, activation, version=version, shortcut=True,
                        in_channels=images.images.shape[1],
                        generator=torch.Generator().manual_seed(s)).to(dev)
    x, _ = fresh_batch(images, batch_size, s, dev)
    direction = random_direction(model, seed=unit_seed(seed, key))
    r = branch_correlation(model, x, model.summand_pairs, direction, n_bands=bands,
                           alpha=alpha, n_points=points, seed=s, max_neurons=positions,
                           progress=False)
    return {"abs": r.pair_abs_correlation, "signed": r.pair_correlation,
            "valid": r.pair_valid}


def _mean_abs(units: list[dict[str, np.ndarray]]) -> np.ndarray:
    """Mean ``|corr|`` per band over the (pair, direction) entries with a valid position."""
    abs_corr = np.concatenate([u["abs"] for u in units], axis=1)
    held = np.concatenate([u["valid"] for u in units], axis=1) > 0
    return (abs_corr * held).sum(axis=(0, 1)) / np.maximum(held.sum(axis=(0, 1)), 1)


def _decay(values: np.ndarray) -> float:
    """How far the mean ``|corr|`` falls from low to high frequencies: the largest value in
    the lower half of the bands minus the mean over the upper half. The largest, not the
    first: the lowest band of a detrended path holds little power and comes out below its
    neighbours for tanh and softplus."""
    half = values.size // 2
    return float(values[:max(half, 1)].max() - values[half:].mean())


def _claims(activations: list[str], corr: dict[str, np.ndarray]) -> list[dict]:
    decay = {a: _decay(corr[a]) for a in activations}
    high = {a: float(corr[a][corr[a].size // 2:].mean()) for a in activations}
    claims = [claim("Fig. 6: the summands' |correlation| decays with frequency for every "
                    "activation", all(d > 0 for d in decay.values()),
                    "largest lower-half band minus upper-half mean: " + ", ".join(
                        f"{a} {d:+.3f}" for a, d in decay.items()))]
    ranked = [a for a in ACTIVATIONS if a in activations]
    if len(ranked) > 1:
        order = all(high[a] < high[b] for a, b in itertools.pairwise(ranked))
        claims.append(claim(
            "Fig. 6: decorrelation is strongest for " + ", then ".join(ranked) +
            " (lowest high-band |correlation| first)", order,
            "upper-half mean |correlation|: " + ", ".join(f"{a} {high[a]:.3f}" for a in ranked)))
    return claims


def _plot(centres: np.ndarray, corr: dict[str, np.ndarray], title: str, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4), layout="constrained")
    bands = np.arange(centres.size)
    width = 0.8 / len(corr)
    for i, (activation, values) in enumerate(corr.items()):
        ax.bar(bands + (i - (len(corr) - 1) / 2) * width, values, width, label=activation)
    ax.set_xticks(bands, [f"{c:.3g}" for c in centres])
    ax.set(xlabel="band centre (cycles per path), low to high frequency",
           ylabel="mean |correlation| of the summands", ylim=(0, 1), title=title)
    ax.legend()
    save_figure(fig, path)


def _activations(values: Sequence[str]) -> list[str]:
    if isinstance(values, str) or not values:
        raise NetspectraError(f"activations must be a non-empty list of names; found "
                              f"{values!r}")
    return list(dict.fromkeys(choice(a, ACTIVATION_MODULE_NAMES, "activations")
                              for a in values))


@experiment(
    "branch-correlation",
    reproduces="RR Fig. 6",
    summary="ResNet summands' |correlation| per frequency band along walks: decays with "
            "frequency (FDSA)",
    options=(
        Option("--activations", "activations, one ResNet each (default: relu tanh softplus)",
               str, nargs="+"),
        Option("--version", "ResNet blocks: 1 post-, 2 pre-activation (default: 2)", int, 2),
        Option("--depth", "ResNet depth, 6n + 2 (default: 56)", int),
        Option("--directions", "random directions per activation (default: 50; 2 with "
               "--quick)", int),
        Option("--alpha", "walk radius α (default: 2)", float, 2.0),
        Option("--points", "points per path (default: 200; 100 with --quick)", int),
        Option("--batch-size", "images per minibatch (default: 128; 8 with --quick)", int),
        Option("--bands", f"Gaussian frequency bands (default: {DEFAULT_BANDS})", int,
               DEFAULT_BANDS),
        Option("--positions", f"positions recorded per summand pair (default: {POSITIONS})",
               int, POSITIONS),
        *DATA_OPTIONS,
        *WORKER_OPTIONS,
    ),
)
def run(out: Path, *, quick: bool, seed: int, activations: Sequence[str] | None = None,
        version: int = 2, depth: int | None = None, directions: int | None = None,
        alpha: float = 2.0, points: int | None = None, batch_size: int | None = None,
        bands: int = DEFAULT_BANDS, positions: int = POSITIONS, data_root: str | None = None,
        device: str = "auto", workers: int | None = None, threads: int | None = None,
        ray: str | None = None, cpus_per_unit: int | None = None,
        gpus_per_unit: float | None = None) -> dict:
    """Mean ``|corr|`` of the summands per band, per activation (paper: ResNet56 v2, 50
    directions, 200 points, α = 2, training-mode batch norm, batch 128 of CIFAR-10)."""
    defaults = _QUICK if quick else _DEFAULTS
    names = _activations(ACTIVATIONS if activations is None else activations)
    if version not in (1, 2):
        raise NetspectraError(f"version must be 1 or 2; found {version!r}")
    data_root, data = data_source(data_root)
    n_points = check_points(points if points is not None else defaults["points"])
    n_dirs = check_directions(directions if directions is not None else defaults["directions"])
    settings = {
        "depth": check_resnet_depth(depth if depth is not None else defaults["depth"]),
        "version": version,
        "batch_size": check_batch_size(batch_size if batch_size is not None
                                       else defaults["batch_size"], data),
        "alpha": positive(alpha, "alpha"),
        "points": n_points,
        "bands": bounded(bands, 1, n_points // 2, "bands",
                         "one per frequency bin of a path"),
        "positions": bounded(positions, 1, MAX_POSITIONS, "positions",
                             "a ResNet56 block's output at batch 128"),
    }
    keys = [_key(a, j) for a in names for j in range(n_dirs)]
    sweep = Sweep(out, "units", direction_unit, keys, seed,
                  {**settings, "data_root": data_root, "device": str(resolve_device(device))},
                  inputs={"images": data})
    units, record = Execution(workers, threads, ray, cpus_per_unit, gpus_per_unit).run(
        sweep, "directions")

    corr = {a: _mean_abs([units[_key(a, j)] for j in range(n_dirs)]) for a in names}
    centres, sigma = band_centres(n_points, settings["bands"])
    atomic_write_npz(out / "branch_correlation.npz", {
        "activations": names, "band_centres": centres,
        "abs_correlation": np.array([corr[a] for a in names]),
        **{f"pair_abs_correlation_{a}": np.concatenate(
            [units[_key(a, j)]["abs"] for j in range(n_dirs)], axis=1) for a in names},
        **{f"pair_correlation_{a}": np.concatenate(
            [units[_key(a, j)]["signed"] for j in range(n_dirs)], axis=1) for a in names}})
    title = (f"ResNet{settings['depth']} v{version}, {data.name}, α = {settings['alpha']:g}, "
             f"{n_points} points, {n_dirs} directions")
    _plot(centres, corr, title, out / "branch_correlation.png")
    return {
        "abs_correlation": {a: corr[a].tolist() for a in names},
        "band_centres": centres.tolist(),
        "band_sigma": sigma,
        "decay": {a: _decay(corr[a]) for a in names},
        "claims": _claims(names, corr),
        "paper_values": [],
        "activations": names,
        "directions": n_dirs,
        **settings,
        "data": data.name,
        **record,
    }
