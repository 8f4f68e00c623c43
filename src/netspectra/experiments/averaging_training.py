"""Ringing ReLUs Fig. 8 left (§5; Fig. 10 with CIFAR-100): feature averaging against
blueshift in training.

Four ResNet v1 variants (ReLU) are trained with RR App. A.3's recipe, ``runs`` times each:
the "NoShort" net (``NS``), its feature-averaging variant with a = 3 (``NS_avg3``: every
conv-bn-ReLU sequence widened threefold and summed back after the activation), a wide
NoShort net (``wide_NS``, planes 28/56/112, about the averaging net's parameter count) and
the ResNet with shortcuts (``S``). The curves are the training accuracy per logged step,
mean ± std over runs; with ``--data cifar100`` 1 % of the training images are held out and
the validation accuracy per epoch is drawn as well (App. C).

Paper's claim: averaging beats NS and wide NS, and S beats averaging.

Each (variant, run) is one seeded unit of the sweep (``_sweep.Sweep``): the run's
initialisation, image order and flips come from the unit's seed, so a rerun resumes and a
run alone equals the same run inside the full sweep at the same thread count.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from .._validation import at_least
from ..data import ImageSet
from ..models import CifarResNet
from ..results import atomic_write_npz, save_figure
from ._claims import claim
from ._registry import Option, experiment
from ._rr import check_resnet_depth
from ._sweep import (
    WORKER_OPTIONS,
    Execution,
    Sweep,
    check_unit_count,
    resolve_device,
    unit_seed,
)
from ._train_units import TRAINING_DATA_OPTIONS, final_value, train_unit, training_settings

#: Variant -> CifarResNet keyword arguments (v1, ReLU), in the order of Fig. 8's legend.
VARIANTS = {
    "S": {"shortcut": True},
    "NS": {"shortcut": False},
    "NS_avg3": {"shortcut": False, "averaging": 3},
    "wide_NS": {"shortcut": False, "wide": True},
}
_LABELS = {"S": "RN S (a=1)", "NS": "RN NS (a=1)", "NS_avg3": "RN NS (a=3)",
           "wide_NS": "Wide RN NS (a=1)"}
_PAPER = {"depth": 56, "runs": 5, "epochs": 200, "log_every": 100, "size": 32,
          "train_batch": 128}
# Quick: the digits at 16×16 (the scans are 8×8: nothing is lost, a quarter of the work),
# ResNet32, two runs of three epochs in batches of 32 (4× the steps of batch 128 for the same
# work: in 45 steps of batch 128 no variant got past 25 % training accuracy).
_QUICK = {"depth": 32, "runs": 2, "epochs": 3, "log_every": 2, "size": 16, "train_batch": 32}


def unit_key(variant: str, run: int) -> str:
    """``"<variant>-run<NNN>"``, e.g. ``"NS_avg3-run002"``."""
    return f"{variant}-run{run:03d}"


def _model(variant: str, depth: int, images, generator=None) -> CifarResNet:
    return CifarResNet(depth, "relu", version=1, num_classes=int(images.labels.max()) + 1,
                       in_channels=images.images.shape[1], generator=generator,
                       **VARIANTS[variant])


def run_unit(key: str, *, seed: int, data: str, data_root: str | None, size: int, depth: int,
             epochs: int, train_batch: int, log_every: int, device: str, images: ImageSet,
             heldout: ImageSet | None) -> dict[str, np.ndarray]:
    """One training run of one variant (``key`` from :func:`unit_key`): its curves.

    ``data``, ``data_root`` and ``size`` name the training ``images`` (and ``heldout``) in
    the sweep's digest; the images themselves come as inputs, so that the machines of a Ray
    cluster need no copy of the data set."""
    began = time.perf_counter()
    variant = key.rsplit("-run", 1)[0]
    gen = torch.Generator().manual_seed(unit_seed(seed, key, "init"))
    curves = train_unit(_model(variant, depth, images, gen), images, heldout, epochs=epochs,
                        train_batch=train_batch, log_every=log_every,
                        seed=unit_seed(seed, key, "train"), device=device)
    return {**curves, "seconds": time.perf_counter() - began}


def _plot(curves: dict, step: np.ndarray, epoch_step: np.ndarray, title: str,
          path: Path) -> None:
    import matplotlib.pyplot as plt

    heldout = "heldout_accuracy" in next(iter(curves.values()))
    fig, axes = plt.subplots(1, 2 if heldout else 1, figsize=(13 if heldout else 7, 4.5),
                             squeeze=False)
    panels = [("train_accuracy", step, "training accuracy")]
    if heldout:
        panels.append(("heldout_accuracy", epoch_step, "validation accuracy (1 % held out)"))
    for ax, (field, x, ylabel) in zip(axes[0], panels, strict=True):
        for i, (variant, c) in enumerate(curves.items()):
            mean, std = c[field].mean(axis=0), c[field].std(axis=0)
            style = "--" if variant in ("S", "wide_NS") else "-"
            ax.plot(x, mean, style, color=f"C{i}", label=_LABELS[variant])
            ax.fill_between(x, mean - std, mean + std, color=f"C{i}", alpha=0.2)
        ax.set(xlabel="optimizer step", ylabel=ylabel, ylim=(0, 1))
        ax.legend(fontsize="small")
    fig.suptitle(title)
    save_figure(fig, path)


def _claims(final: dict) -> list:
    """Fig. 8's claims, on the mean of the last 25 logged training accuracies."""
    evidence = ", ".join(f"{v} {a:.3f}" for v, a in final.items())
    return [claim(f"Fig. 8: the averaging net (a = 3) trains better than {other}",
                  final["NS_avg3"] > final[key], evidence)
            for key, other in (("NS", "the NoShort net"), ("wide_NS", "the wide NoShort net"))
            ] + [claim("Fig. 8: the ResNet with shortcuts trains better than the averaging net",
                       final["S"] > final["NS_avg3"], evidence)]


@experiment(
    "averaging-training",
    reproduces="RR Fig. 8 left (Fig. 10 with --data cifar100)",
    summary="training ResNet56 v1 NS, NS with feature averaging (a=3), wide NS and S",
    options=(
        Option("--runs", "training runs per variant (default: 5; 2 with --quick)", int),
        Option("--epochs", "epochs per run (default: 200; 3 with --quick)", int),
        Option("--depth", "ResNet depth 6n+2 (default: 56; 32 with --quick)", int),
        Option("--log-every", "optimizer steps per logged training accuracy (default: 100; "
               "2 with --quick)", int),
        Option("--size", "side of the digits in pixels (default: 32; 16 with --quick; CIFAR "
               "is 32)", int),
        *TRAINING_DATA_OPTIONS,
        *WORKER_OPTIONS,
    ),
)
def run(out: Path, *, quick: bool, seed: int, runs: int | None = None,
        epochs: int | None = None, depth: int | None = None, log_every: int | None = None,
        size: int | None = None, data: str | None = None, data_root: str | None = None,
        device: str = "auto", train_batch: int | None = None, workers: int | None = None,
        threads: int | None = None, ray: str | None = None,
        cpus_per_unit: int | None = None, gpus_per_unit: float | None = None) -> dict:
    """Training curves of the four variants, ``runs`` each (paper: 5 × 200 epochs, CIFAR-10;
    Fig. 10: one run on CIFAR-100)."""
    defaults = _QUICK if quick else _PAPER
    settings, images, heldout = training_settings(
        defaults, data=data, data_root=data_root, size=size, epochs=epochs,
        log_every=log_every, train_batch=train_batch)
    depth = check_resnet_depth(defaults["depth"] if depth is None else depth)
    n_runs = at_least(defaults["runs"] if runs is None else runs, 1, "runs")
    check_unit_count(n_runs * len(VARIANTS), f"runs × {len(VARIANTS)} variants")
    settings["depth"] = depth
    keys = [unit_key(v, r) for r in range(n_runs) for v in VARIANTS]
    sweep = Sweep(out, "runs", run_unit, keys, seed,
                  {**settings, "device": str(resolve_device(device))},
                  inputs={"images": images, "heldout": heldout})
    units, record = Execution(workers, threads, ray, cpus_per_unit, gpus_per_unit).run(
        sweep, "training runs")

    fields = [f for f in ("train_accuracy", "heldout_accuracy") if f in units[keys[0]]]
    curves = {v: {f: np.stack([units[unit_key(v, r)][f] for r in range(n_runs)])
                  for f in fields} for v in VARIANTS}
    first = units[keys[0]]
    atomic_write_npz(out / "averaging_training.npz", {
        "variants": list(VARIANTS), "step": first["step"], "epoch_step": first["epoch_step"],
        **{f"{v}.{f}": c[f] for v, c in curves.items() for f in fields}})
    _plot(curves, first["step"], first["epoch_step"],
          f"ResNet{depth} v1, {images.name}, {settings['epochs']} epochs, mean ± std over "
          f"{n_runs} runs", out / "averaging_training.png")
    finals = {v: np.array([final_value(run) for run in c["train_accuracy"]])
              for v, c in curves.items()}
    result = {
        "final_train_accuracy": {v: float(f.mean()) for v, f in finals.items()},
        "final_train_accuracy_std": {v: float(f.std()) for v, f in finals.items()},
        "parameters": {v: sum(p.numel() for p in _model(v, depth, images).parameters())
                       for v in VARIANTS},
    }
    result["claims"] = _claims(result["final_train_accuracy"])
    if "heldout_accuracy" in fields:
        result["final_validation_accuracy"] = {
            v: float(c["heldout_accuracy"][:, -1].mean()) for v, c in curves.items()}
    return {
        **result, "runs": n_runs, **settings, "data_name": images.name, **record,
        "unit_seconds": {k: float(units[k]["seconds"]) for k in keys},
    }
