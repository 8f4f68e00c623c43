"""Run every registered experiment into one folder (``netspectra reproduce all``)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from .._validation import choice
from ..errors import NetspectraError
from ..results import atomic_write_json
from ._ray import ray_connection
from ._registry import Experiment, Option, registry, reproduce, run_settings
from ._sweep import Execution, resolve_device

__all__ = ["ALL_OPTIONS", "ERROR_NAME", "reproduce_all"]

#: Written into an experiment's folder when its last run failed; removed by a run that succeeds.
ERROR_NAME = "error.json"

#: Options of ``reproduce all`` besides the execution ones, each passed to the experiments
#: that take it.
ALL_OPTIONS = (
    Option("--data-root", "folder with CIFAR-10's binary distribution (cifar-10-batches-bin) "
           "for every Ringing ReLUs experiment (default: the digits, shipped with the "
           "package)"),
    Option("--device", "auto, cpu or cuda for every experiment that takes a device (default: "
           "each experiment's own)"),
)


def _is_complete(directory: Path, settings: dict[str, Any]) -> bool:
    try:
        result = json.loads((directory / "result.json").read_text())
    except (OSError, ValueError):
        return False
    recorded = {key: result.get(key) for key in settings}
    return recorded == settings and not (directory / ERROR_NAME).exists()


def _device(exp: Experiment, device: str | None) -> torch.device:
    """Where ``exp`` runs here: ``device`` if it takes one (else its default), CPU if it
    takes none."""
    default = next((opt.default for opt in exp.options if opt.dest == "device"), None)
    return resolve_device("cpu" if default is None else device or default)


def reproduce_all(
    out: str | Path = "netspectra-out",
    *,
    quick: bool = False,
    seed: int = 0,
    force: bool = False,
    workers: int | None = None,
    threads: int | None = None,
    ray: str | None = None,
    cpus_per_unit: int | None = None,
    gpus_per_unit: float | None = None,
    data_root: str | Path | None = None,
    device: str | None = None,
    names: Sequence[str] | None = None,
    progress: bool = True,
) -> dict[str, str]:
    """Run every experiment (or ``names``) into ``out/<name>``; returns name → status.

    An experiment whose ``result.json`` records the same settings (seed, quick, version and
    options) is not rerun unless ``force``; status ``"done"``. One that raises does not stop the
    others: its error goes to ``out/<name>/error.json`` for the report; status ``"failed"``.
    The execution options (``workers`` … ``gpus_per_unit``, as :class:`._sweep.Execution`
    takes them) go to every experiment that runs units, ``gpus_per_unit`` only to those that
    run on CUDA here by default (dc-training and zero-training run on CPU); the others run
    here as they would alone. With ``ray`` this process connects to the cluster once for the
    whole run (``"local"``: one instance for every experiment, stopped at the end).
    ``data_root`` (CIFAR-10's folder) and ``device`` go to every experiment that takes them;
    unlike the execution options they change the numbers, so they are part of the settings.
    """
    exps = registry()
    names = list(exps) if names is None else [choice(n, exps, "experiment") for n in names]
    execution = dataclasses.asdict(Execution(workers, threads, ray, cpus_per_unit,
                                             gpus_per_unit))
    if device is not None:
        resolve_device(device)
    if data_root is not None and not Path(data_root).is_dir():
        raise NetspectraError(f"data_root must be a folder holding cifar-10-batches-bin; found "
                              f"{str(data_root)!r}, which is not a folder")
    if gpus_per_unit and not torch.cuda.is_available():
        raise NetspectraError(f"gpus_per_unit needs CUDA where the command runs (the "
                              f"experiments resolve their device here); found gpus_per_unit "
                              f"{gpus_per_unit:g} and no CUDA device")
    with ray_connection(ray):
        return _run_each(exps, names, out, quick=quick, seed=seed, force=force,
                         given={k: v for k, v in {**execution, "data_root": data_root,
                                                   "device": device}.items() if v is not None},
                         progress=progress)


def _run_each(exps: dict, names: list[str], out: str | Path, *, quick: bool, seed: int,
              force: bool, given: dict[str, Any], progress: bool) -> dict[str, str]:
    status: dict[str, str] = {}
    bar = tqdm(names, desc="experiments", disable=not progress)
    for name in bar:
        bar.set_postfix_str(name)
        accepts = {opt.dest for opt in exps[name].options if opt.dest != "gpus_per_unit"
                   or _device(exps[name], given.get("device")).type == "cuda"}
        options = {k: v for k, v in given.items() if k in accepts}
        directory = Path(out) / name
        settings = run_settings(exps[name], quick=quick, seed=seed, options=options)
        if not force and _is_complete(directory, settings):
            status[name] = "done"
            continue
        try:
            reproduce(name, out, quick=quick, seed=seed, **options)
        except Exception as exc:  # one failure must not stop the others; the report shows it
            atomic_write_json(directory / ERROR_NAME,
                              {"error": f"{type(exc).__name__}: {exc}", **settings})
            status[name] = "failed"
        else:
            (directory / ERROR_NAME).unlink(missing_ok=True)
            status[name] = "ran"
    return status
