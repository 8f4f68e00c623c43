"""DC paper Fig. 5 (Section V-D): an untrained kernel-2 network classifies tones by their DC."""

from __future__ import annotations

from itertools import permutations
from pathlib import Path

import numpy as np
import torch

from ..data import sinusoid_classes
from ..data.signals import VC_FREQUENCIES_HZ
from ..models import MinimalDCNet
from ..results import save_figure
from ..theory import filtered_tone_dc, frequency_response
from ._claims import claim, listed
from ._registry import experiment
from ._sweep import WORKER_OPTIONS, Execution, Sweep, unit_seed

FS = 32.0


def best_threshold_accuracy(feature: np.ndarray, labels: np.ndarray) -> float:
    """Accuracy of the best classifier that cuts a scalar feature into one interval per class.

    Tries every order of the classes along the feature axis and, for each, the best cut points
    (exhaustive, O(n) per order via prefix sums). Implemented for three classes (V-C data).
    """
    order = np.argsort(feature, kind="stable")
    values = feature[order]
    onehot = np.eye(3)[labels[order]]
    prefix = np.vstack([np.zeros(3), np.cumsum(onehot, axis=0)])  # prefix[i] = counts of < i
    # A cut can only fall between distinct feature values (ties go to the same class).
    cut = np.r_[True, values[1:] > values[:-1], True]
    best = 0.0
    for a, b, c in permutations(range(3)):
        # correct(i, j) = prefix_a[i] + (prefix_b[j] - prefix_b[i]) + (total_c - prefix_c[j])
        left = np.maximum.accumulate(np.where(cut, prefix[:, a] - prefix[:, b], -np.inf))
        score = left + prefix[:, b] + prefix[-1, c] - prefix[:, c]
        best = max(best, float(score[cut].max()))
    return best / labels.size


def kernel_unit(key: str, *, seed: int, n_per_class: int, x: torch.Tensor,
                labels: np.ndarray) -> dict:
    """One random kernel (``key`` ``"kernel0007"``) on the windows ``x`` (``n_per_class`` per
    class, drawn from ``seed``): the DC of every window, the kernel and the accuracy of the
    best DC-threshold classifier."""
    gen = torch.Generator().manual_seed(unit_seed(seed, key))
    net = MinimalDCNet(2, generator=gen).double()
    with torch.no_grad():
        dc = net(x)[:, 0].numpy()
    return {"dc": dc, "kernel": net.conv.weight.detach().numpy().ravel(),
            "accuracy": best_threshold_accuracy(dc, labels)}


def _plot(data, dc, kernel, accuracies, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    for c, f_c in enumerate(VC_FREQUENCIES_HZ):
        sel = data.labels == c
        axes[0].scatter(data.frequencies[sel], dc[sel], s=4, label=f"class {c} ({f_c:g} Hz)")
    axes[0].set(xlabel="tone frequency (Hz)", ylabel="DC after conv + ReLU (GAP output)",
                title="first random kernel: DC per window")
    axes[0].legend(fontsize="small")
    f = np.linspace(0, FS / 2, 400)
    axes[1].plot(f, np.abs(frequency_response(kernel[::-1], f, FS)), color="k")
    for c, f_c in enumerate(VC_FREQUENCIES_HZ):
        axes[1].axvline(f_c, ls="--", color=f"C{c}", label=f"class {c}: {f_c:g} Hz")
    axes[1].set(xlabel="frequency (Hz)", ylabel="|H(f)|", title="kernel frequency response")
    axes[1].legend(fontsize="small")
    axes[2].hist(accuracies, bins=np.linspace(1 / 3, 1, 21), color="C4")
    axes[2].axvline(1 / 3, color="k", ls=":", label="chance")
    axes[2].set(xlabel="accuracy of the best DC-threshold classifier",
                ylabel="random kernels", title=f"{len(accuracies)} untrained kernels")
    axes[2].legend(fontsize="small")
    save_figure(fig, path)


def _claims(acc: np.ndarray, measured: list[float], predicted: list[float]) -> list[dict]:
    """Fig. 5: "a random kernel separates the classes" holds when the median kernel's best
    DC-threshold classifier exceeds 90 % accuracy (chance: 1/3). Eq. 8: the DC of the first
    kernel agrees with a|H(f)|/π within 5 % for every class."""
    off = np.max(np.abs(np.array(measured) / np.array(predicted) - 1))
    return [
        claim("Fig. 5: an untrained random kernel-2 conv + ReLU + GAP separates the three tone "
              "classes by the DC alone", np.median(acc) > 0.9,
              f"median accuracy {np.median(acc):.3f} over {acc.size} random kernels, "
              f"{100 * np.mean(acc > 0.9):.0f} % above 0.9 (chance 0.333)"),
        claim("Eq. 8, Fig. 5: the DC after ReLU of a filtered tone is a|H(f)|/π",
              off < 0.05, f"first kernel, classes {listed(VC_FREQUENCIES_HZ)} Hz: measured "
              f"{listed(measured, 4)}, predicted {listed(predicted, 4)}"),
    ]


@experiment(
    "zero-training",
    reproduces="DC Fig. 5",
    summary="random untrained kernel-2 conv + ReLU + GAP: the DC alone separates the classes",
    options=WORKER_OPTIONS,
)
def run(out: Path, *, quick: bool, seed: int, workers: int | None = None,
        threads: int | None = None, ray: str | None = None, cpus_per_unit: int | None = None,
        gpus_per_unit: float | None = None) -> dict:
    """V-C data (1024 windows per class; 128 in quick mode) through 100 random kernels (20).

    The units take milliseconds: by default they run in this process (``workers`` 1), since
    starting worker processes would cost more than they save."""
    n_per_class = 128 if quick else 1024
    data = sinusoid_classes(n_per_class, fs=FS, seed=seed)
    x = torch.from_numpy(data.x).unsqueeze(1)
    n_kernels = 20 if quick else 100
    keys = [f"kernel{i:04d}" for i in range(n_kernels)]
    # The windows are a function of the seed and their number: hashed as those, sent as data.
    sweep = Sweep(out, "units", kernel_unit, keys, seed, {"n_per_class": n_per_class},
                  inputs={"x": x, "labels": data.labels})
    units, record = Execution(1 if workers is None else workers, threads, ray, cpus_per_unit,
                              gpus_per_unit).run(sweep, "kernels")
    acc = np.array([units[k]["accuracy"] for k in keys], dtype=float)
    first = units[keys[0]]
    taps = first["kernel"][::-1]  # cross-correlation kernel -> causal FIR taps
    measured = [float(first["dc"][data.labels == c].mean()) for c in range(3)]
    predicted = [float(filtered_tone_dc(1.0, f_c, taps, FS)) for f_c in VC_FREQUENCIES_HZ]
    _plot(data, first["dc"], first["kernel"], acc, out / "zero_training.png")
    return {
        "accuracy_median": float(np.median(acc)),
        "accuracy_fraction_above_0.9": float(np.mean(acc > 0.9)),
        "accuracy_mean": float(acc.mean()),
        "n_kernels": n_kernels,
        "dc_measured": measured,
        "dc_predicted": predicted,
        "class_frequencies_hz": list(VC_FREQUENCIES_HZ),
        **record,
        "claims": _claims(acc, measured, predicted),
        "paper_values": [],
    }
