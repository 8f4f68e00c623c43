"""What the experiments that compare the last layer's spectrum across groups of networks share
(RR Fig. 7: ResNet v1 against v2; Fig. 8 right: Toy-CNNs with averaging factors 1 … 4).

Each group (a ResNet version, an averaging factor) is measured over several initialisations,
each on its own fresh minibatch and along its own random directions. One walk per
initialisation records the output of the network's last layer and the loss; every path of
the layer is normalised by its own AC power and averaged over the recorded outputs (the walk
engine's seeded subset of them, :func:`~netspectra.probes.walk`).

Which average. Like ``roughness-depth``: ``h`` is fitted to every direction's spectrum (raw,
default band), the headline ``h`` of a group is the mean over initialisations and directions,
and ``h_std`` the standard deviation (ddof 0) of the per-initialisation means. The ``h`` of
the group's mean spectrum is reported next to it. ``high_frequency_power`` is the share of
the normalised power in the upper half of the bins (``k > n_points / 4``, above the fit
band): the part of the spectrum a plot like Fig. 7 shows apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..probes import walk
from ..results import atomic_write_npz, save_figure
from ..theory.roughness import fractal_coefficients
from ._rr import fractal_h

__all__ = ["init_key", "last_layer_walk", "summarise", "write_outputs"]


def init_key(group: str, init: int) -> str:
    """``"<group>-i<init>"``, the unit key of one initialisation, e.g. ``"v2-i003"``."""
    return f"{group}-i{init:03d}"


def last_layer_walk(model: nn.Module, x: torch.Tensor, y: torch.Tensor, layer: str, *,
                    directions: int, alpha: float, points: int, seed: int,
                    strategy: str = "auto") -> dict[str, np.ndarray]:
    """Walk ``model`` along ``directions`` seeded random directions and return, per direction,
    the normalised power spectrum of ``layer`` (``power``) and of the loss (``loss_power``),
    and their fractal coefficients ``h`` and ``loss_h`` (raw spectra, default band)."""
    w = walk(model, x, directions, target=y, layers=[layer], alpha=alpha, n_points=points,
             seed=seed, strategy=strategy, keep_directions=False, progress=False)
    power = w.layer_power[0]
    return {"power": power, "loss_power": w.loss_power,
            "h": fractal_coefficients(power, w.k), "loss_h": fractal_coefficients(
                w.loss_power, w.k)}


def _by_group(groups: Sequence[str], values: np.ndarray) -> dict[str, float]:
    return {g: float(v) for g, v in zip(groups, values, strict=True)}


def summarise(units: Mapping[str, Mapping[str, np.ndarray]], groups: Sequence[str],
              inits: int) -> tuple[dict, dict[str, np.ndarray]]:
    """The headline numbers and the arrays of a sweep of :func:`last_layer_walk` units keyed
    by :func:`init_key`.

    Returns ``(headline, arrays)``: ``headline`` maps ``h_last_layer``, ``h_std``,
    ``h_of_mean_spectrum``, ``h_loss``, ``h_loss_std`` and ``high_frequency_power`` to a
    number per group; ``arrays`` holds ``k``, the per-path ``h`` and ``loss_h``
    ``(group, init, direction)`` and the mean spectra ``mean_power`` and ``mean_loss_power``
    ``(group, k)``.
    """
    def stack(field: str) -> np.ndarray:
        return np.array([[units[init_key(g, i)][field] for i in range(inits)]
                         for g in groups])

    h, loss_h = stack("h"), stack("loss_h")
    mean_power = stack("power").mean(axis=(1, 2))
    mean_loss_power = stack("loss_power").mean(axis=(1, 2))
    k = np.arange(1, mean_power.shape[1] + 1)
    headline = {
        "h_last_layer": _by_group(groups, h.mean(axis=(1, 2))),
        "h_std": _by_group(groups, h.mean(axis=2).std(axis=1)),
        "h_of_mean_spectrum": _by_group(groups, [fractal_h(p, k) for p in mean_power]),
        "h_loss": _by_group(groups, loss_h.mean(axis=(1, 2))),
        "h_loss_std": _by_group(groups, loss_h.mean(axis=2).std(axis=1)),
        "high_frequency_power": _by_group(groups, mean_power[:, k.size // 2:].sum(axis=1)),
        "band": [1, int(k.size // 2)],
    }
    arrays = {"k": k, "groups": list(groups), "h": h, "loss_h": loss_h,
              "mean_power": mean_power, "mean_loss_power": mean_loss_power}
    return headline, arrays


def _plot(arrays: Mapping[str, np.ndarray], headline: Mapping, labels: Mapping[str, str],
          title: str, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2), layout="constrained")
    k, groups = arrays["k"], arrays["groups"]
    for i, g in enumerate(groups):
        colour = f"C{i}"
        axes[0].loglog(k, arrays["mean_power"][i], color=colour, label=labels[g])
        axes[1].loglog(k, arrays["mean_loss_power"][i], color=colour, label=labels[g])
    for ax, what in zip(axes[:2], ("last layer", "loss"), strict=True):
        ax.set(xlabel="frequency k (cycles per path)", ylabel="mean normalised power |z_k|²",
               title=f"{what}: mean spectrum")
        ax.legend(fontsize="small")
    x = np.arange(len(groups))
    for field, std, offset, name in (("h_last_layer", "h_std", -0.15, "last layer"),
                                     ("h_loss", "h_loss_std", 0.15, "loss")):
        axes[2].errorbar(x + offset, [headline[field][g] for g in groups],
                         yerr=[headline[std][g] for g in groups], fmt="o", capsize=3,
                         label=name)
    axes[2].set(xticks=x, xticklabels=[labels[g] for g in groups],
                ylabel="fractal coefficient h (mean ± std over inits)",
                title="smoothness h (higher: smoother)")
    axes[2].legend(fontsize="small")
    fig.suptitle(title)
    save_figure(fig, path)


def write_outputs(out: Path, name: str, headline: Mapping, arrays: Mapping[str, np.ndarray],
                  labels: Mapping[str, str], title: str) -> None:
    """Write ``out/<name>.npz`` (the arrays of :func:`summarise`) and ``out/<name>.png`` (mean
    spectra of the last layer and the loss per group, and ``h`` per group)."""
    atomic_write_npz(out / f"{name}.npz", dict(arrays))
    _plot(arrays, headline, labels, title, out / f"{name}.png")
