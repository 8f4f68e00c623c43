"""Sweeps: seeded units of work, the folders that hold them, their seeds and their workers.

A unit (a repetition, an initialisation, a grid cell …) is a pure function of its key, the
experiment seed and the sweep's settings. Its arrays are written atomically to
``<folder>/<key>.npz`` by the process that gathers the results as soon as it finishes, so an
interrupted sweep resumes where it stopped and a unit run alone equals the same unit inside a
full run. The folder's name is a digest of everything that changes a unit's numbers (the
unit's function and code version, the seed and the settings), so runs with other settings
into the same output folder never share a unit.

Workers. Measured for the small CNNs of the DC paper on 2 cores: one training step is
compute-bound, so two 1-thread worker processes beat one 2-thread process (≈1.2×), while more
threads than cores in total collapse throughput (≈30× slower); glibc's allocator returning and
re-requesting memory on every step costs up to 3× unless its mmap/trim thresholds are raised.
Hence ``workers × threads ≤ cores``, 1 thread per worker by default, and
:func:`tune_allocator` in every worker process (and in the ``netspectra`` command's own
process, never in a user's Python process).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import json
import multiprocessing
import os
import re
import time
import zipfile
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from .._validation import at_least, seed_value
from .._validation_torch import resolve_device
from ..errors import NetspectraError
from ..results import atomic_write_json, atomic_write_npz, remove_stray_temporaries, to_jsonable
from ._registry import Option

__all__ = [
    "MAX_UNITS",
    "WORKER_OPTIONS",
    "Execution",
    "Sweep",
    "available_cores",
    "check_unit_count",
    "plan_workers",
    "resolve_device",
    "tune_allocator",
    "unit_seed",
]

#: The most units one sweep may hold: one file each in one folder. The papers' largest sweep
#: (RR Fig. 5: 7 variants × 7 depths × 50 initialisations) holds 2450.
MAX_UNITS = 100_000

#: How the units of an experiment run: ``--workers`` and ``--threads`` on this machine, or
#: ``--ray`` with ``--cpus-per-unit`` and ``--gpus-per-unit`` on a Ray cluster
#: (:meth:`Sweep.run`); an experiment's ``run`` gathers them into an :class:`Execution`.
WORKER_OPTIONS = (
    Option("--workers", "worker processes on CPU (default: one per core, at most one per "
           "unit; CUDA runs the units one after another)", int),
    Option("--threads", "threads per worker (default: 1)", int),
    Option("--ray", "run each unit as a task on the Ray cluster at this address: HOST:PORT, "
           "'auto' (the one `ray start` began on this machine) or 'local' (a new instance "
           "here); needs netspectra[ray]; --workers and --threads then do not apply"),
    Option("--cpus-per-unit", "with --ray: CPUs, and torch threads, of each unit's task "
           "(default: 1)", int),
    Option("--gpus-per-unit", "with --ray: GPUs of each unit's task, fractions allowed "
           "(default: 0; needs --device cuda)", float),
)

_KEY = re.compile(r"^[A-Za-z0-9_.=-]+$")
# What a torn or foreign unit file raises when read: it is then computed again.
_UNREADABLE = (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile, zlib.error)


def unit_seed(seed: int, *parts: object) -> int:
    """The seed of one unit of work, or of one draw inside it: the experiment ``seed`` mixed
    with the parts that name the draw (``unit_seed(seed, "relu", "rep", 3, "init")``).

    Stable across runs, processes and machines (CRC-32 of each part's ``str``, then NumPy's
    ``SeedSequence``); a 32-bit integer that seeds torch and NumPy alike. Every experiment
    draws its units' randomness through this one function.
    """
    words = [zlib.crc32(str(p).encode()) for p in parts]
    return int(np.random.SeedSequence([seed, *words]).generate_state(1)[0])


def check_unit_count(count: int, what: str) -> int:
    """``count`` if a sweep may hold that many units (:data:`MAX_UNITS`), else a
    :class:`NetspectraError` naming ``what`` made them (``"reps × 4 variants"``)."""
    if count > MAX_UNITS:
        raise NetspectraError(f"a sweep holds at most {MAX_UNITS} units; found {count} "
                              f"({what})")
    return count


@dataclass(frozen=True)
class Sweep:
    """The seeded units of one experiment at one set of settings.

    ``unit(key, seed=seed, **settings, **inputs)`` computes one unit and returns named arrays
    or numbers. It must be a module-level function (worker processes, and later other
    machines, import it by name) and a pure function of its arguments.

    Parameters
    ----------
    out : path
        The experiment's output folder; the units live in ``out/<name>-<digest>``.
    name : str
        Short name of the sweep (``"units"``, ``"fig1"`` …): the folder's prefix.
    unit : callable
        The unit's function.
    keys : sequence of str
        Unit names (letters, digits, ``_ . = -``), e.g. ``"relu-rep007"``.
    seed : int
        The experiment seed, in ``[0, 2**64 − 1]``.
    settings : mapping
        JSON-able keyword arguments of ``unit``: everything besides the key and the seed that
        changes a unit's numbers (sizes, options, the data's name, the device). Hashed into
        the folder name and written to ``settings.json`` beside the units.
    inputs : mapping
        Further keyword arguments of ``unit`` that are not hashed: objects derived from the
        seed and the settings alone (a network, a minibatch), sent to each worker once.
    version : int
        The unit code's version: raise it when a change to the code changes the numbers, so
        that old units are not reused.
    """

    out: Path
    name: str
    unit: Callable[..., Mapping[str, Any]]
    keys: tuple[str, ...]
    seed: int
    settings: Mapping[str, Any]
    inputs: Mapping[str, Any] = field(default_factory=dict)
    version: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "out", Path(self.out))
        object.__setattr__(self, "keys", tuple(self.keys))
        object.__setattr__(self, "seed", seed_value(self.seed))
        object.__setattr__(self, "settings", to_jsonable(dict(self.settings)))
        check_unit_count(len(self.keys), f"sweep {self.name!r}")
        for key in self.keys:
            if not isinstance(key, str) or not _KEY.match(key):
                raise NetspectraError(f"unit key {key!r} must match {_KEY.pattern}")
        if len(set(self.keys)) != len(self.keys):
            raise NetspectraError(f"unit keys must be distinct; sweep {self.name!r} repeats some")
        clash = {"key", "seed"} | set(self.settings)
        if clash & set(self.inputs) or {"key", "seed"} & set(self.settings):
            raise NetspectraError("settings and inputs must not repeat each other, 'key' or "
                                  f"'seed'; found settings {sorted(self.settings)} and inputs "
                                  f"{sorted(self.inputs)}")

    @property
    def description(self) -> dict[str, Any]:
        """What the folder's digest is taken over (written to ``settings.json``)."""
        return {"unit": f"{self.unit.__module__}.{self.unit.__qualname__}",
                "version": self.version, "seed": self.seed, "settings": self.settings}

    @property
    def folder(self) -> Path:
        """``out/<name>-<12 hex digits>``: one folder per unit function, version, seed and
        settings."""
        text = json.dumps(self.description, sort_keys=True)
        return self.out / f"{self.name}-{hashlib.sha256(text.encode()).hexdigest()[:12]}"

    def done(self) -> list[str]:
        """Keys whose unit file is already in the folder (readable or not)."""
        return [k for k in self.keys if (self.folder / f"{k}.npz").exists()]

    def run(self, *, workers: int = 1, threads: int = 1, desc: str = "units",
            progress: bool = True, ray: str | None = None, cpus_per_unit: int | None = None,
            gpus_per_unit: float | None = None) -> dict[str, dict[str, np.ndarray]]:
        """Compute the units not yet in the folder and return every unit's arrays, by key.

        With ``workers > 1`` each missing unit is a task that the next idle worker process
        (``threads`` threads each, raised allocator thresholds) takes, since units can differ
        in cost by 10×; with ``workers == 1`` they run in this process with ``threads``
        threads. With ``ray`` (a cluster's ``HOST:PORT``, ``"auto"`` or ``"local"``; needs
        ``netspectra[ray]``) each is instead a Ray task reserving ``cpus_per_unit`` CPUs
        (default 1; its torch threads) and ``gpus_per_unit`` GPUs (default 0), and
        ``workers`` and ``threads`` do not apply; see :mod:`._ray`. Every way, this process
        writes each unit file atomically as its result arrives. A unit file that cannot be
        read (torn by a full disk, empty) is computed again, and temporary files of
        interrupted writes are removed.
        """
        from ._ray import check_ray_options, ray_units  # _ray builds on this module

        cpus, gpus = check_ray_options(ray, cpus_per_unit, gpus_per_unit,
                                       self.settings.get("device", "cpu"))
        folder = self.folder
        folder.mkdir(parents=True, exist_ok=True)
        remove_stray_temporaries(folder)
        atomic_write_json(folder / "settings.json", self.description)
        results = {}
        for key in self.keys:
            arrays = _read_unit(folder / f"{key}.npz")
            if arrays is not None:
                results[key] = arrays
        todo = [k for k in self.keys if k not in results]
        if ray is None:
            computed = _compute(self.unit, {"seed": self.seed, **self.settings, **self.inputs},
                                todo, workers, threads)
        else:
            computed = ray_units(self.unit, {"seed": self.seed, **self.settings}, self.inputs,
                                 todo, address=ray, cpus=cpus, gpus=gpus)
        bar = tqdm(total=len(todo), desc=desc, disable=not progress or not todo, leave=False)
        with bar:
            for key, arrays in computed:
                atomic_write_npz(folder / f"{key}.npz", arrays)
                results[key] = arrays
                bar.update()
        return {key: results[key] for key in self.keys}


@dataclass(frozen=True)
class Execution:
    """How an experiment runs its sweeps: the options of :data:`WORKER_OPTIONS`, ``None``
    for their defaults. They decide where and how fast the units are computed, never their
    numbers (``_registry.EXECUTION_OPTIONS``).

    Parameters
    ----------
    workers, threads : int, optional
        Worker processes and threads per worker on this machine (:func:`plan_workers`).
    ray : str, optional
        A Ray cluster's ``HOST:PORT``, ``"auto"`` or ``"local"`` (:meth:`Sweep.run`).
    cpus_per_unit : int, optional
        With ``ray``: CPUs, and torch threads, of each unit's task.
    gpus_per_unit : float, optional
        With ``ray``: GPUs of each unit's task.
    """

    workers: int | None = None
    threads: int | None = None
    ray: str | None = None
    cpus_per_unit: int | None = None
    gpus_per_unit: float | None = None

    def __post_init__(self) -> None:
        """Check what can be checked before the sweeps are known (a :class:`NetspectraError`
        otherwise): the cores and the device are checked per sweep, by :meth:`run`."""
        from ._ray import check_ray_options  # _ray builds on this module

        for name in ("workers", "threads"):
            if getattr(self, name) is not None:
                at_least(getattr(self, name), 1, name)
        check_ray_options(self.ray, self.cpus_per_unit, self.gpus_per_unit, None)

    def run(self, sweep: Sweep, desc: str) -> tuple[dict[str, dict[str, np.ndarray]],
                                                     dict[str, Any]]:
        """Plan the workers for ``sweep`` on its ``device`` setting (CPU without one), run it
        with a progress bar named ``desc`` and return its units by key, with the record
        result.json keeps of the run: ``device``, ``workers``, ``threads``, ``units`` (the
        folder's name) and ``seconds`` (the sweep's wall time)."""
        device = str(sweep.settings.get("device", "cpu"))
        workers, threads = plan_workers(len(sweep.keys), self.workers, self.threads, device)
        start = time.perf_counter()
        units = sweep.run(workers=workers, threads=threads, desc=desc, ray=self.ray,
                          cpus_per_unit=self.cpus_per_unit, gpus_per_unit=self.gpus_per_unit)
        return units, {"device": device, "workers": workers, "threads": threads,
                       "units": sweep.folder.name, "seconds": time.perf_counter() - start}


def _read_unit(path: Path) -> dict[str, np.ndarray] | None:
    """The arrays of a unit file, or None (after removing it) when it is missing or torn."""
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except _UNREADABLE:
        path.unlink(missing_ok=True)
        return None


def _as_arrays(values: Mapping[str, Any]) -> dict[str, np.ndarray]:
    return {k: np.asarray(v) for k, v in values.items()}


_WORKER: dict[str, Any] = {}


def _init_worker(threads: int, unit: Callable, kwargs: Mapping[str, Any]) -> None:
    tune_allocator()
    torch.set_num_threads(threads)
    _WORKER.update(unit=unit, kwargs=kwargs)


def _run_in_worker(key: str) -> tuple[str, dict[str, np.ndarray]]:
    return key, _as_arrays(_WORKER["unit"](key, **_WORKER["kwargs"]))


def _compute(unit: Callable, kwargs: Mapping[str, Any], keys: Sequence[str], workers: int,
             threads: int) -> Iterable[tuple[str, dict[str, np.ndarray]]]:
    """Yield ``(key, arrays)`` for every key, in the order the units finish."""
    if not keys:
        return
    if workers == 1:
        previous = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            for key in keys:
                yield key, _as_arrays(unit(key, **kwargs))
        finally:
            torch.set_num_threads(previous)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(min(workers, len(keys)), mp_context=context,
                             initializer=_init_worker, initargs=(threads, unit, kwargs)) as pool:
        futures = [pool.submit(_run_in_worker, key) for key in keys]
        try:
            for future in as_completed(futures):
                yield future.result()
        finally:  # on an error or an interrupt, do not start the units still queued
            for future in futures:
                future.cancel()


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's maximum on 64-bit
_TRIM_THRESHOLD = 512 * 1024 * 1024


def tune_allocator() -> bool:
    """Raise glibc's mmap and trim thresholds so that per-step tensors reuse heap memory.

    Without it, every training step of a small CNN maps and unmaps its activation buffers
    (up to 3× slower). It changes the whole process for good, so netspectra calls it only in
    its worker processes and in the ``netspectra`` command; in your own process, set
    ``MALLOC_MMAP_THRESHOLD_`` and ``MALLOC_TRIM_THRESHOLD_`` before starting Python, or call
    this. Returns False where there is no glibc (the call is then a no-op).
    """
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD))


def available_cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def plan_workers(n_units: int, workers: int | None = None, threads: int | None = None,
                 device: torch.device | str = "cpu") -> tuple[int, int]:
    """Worker processes and threads per worker: on CPU by default one 1-thread worker per
    core (at most one per unit); on CUDA one process runs the units in turn.

    Walks and small trainings are long series of small operations that each wait for their
    slowest thread: measured on the shared 2-core machine next to another busy process, a
    2-thread walk of a 50-unit Toy-CNN took 13× as long as a 1-thread one.

    Raises :class:`NetspectraError` when ``workers × threads`` exceeds the available cores.
    """
    cores = available_cores()
    threads = 1 if threads is None else at_least(threads, 1, "threads")
    if torch.device(device).type != "cpu":
        return 1, threads
    if workers is None:
        workers = max(1, min(cores // threads, n_units))
    workers = at_least(workers, 1, "workers")
    if workers * threads > cores:
        raise NetspectraError(
            f"workers × threads must not exceed the {cores} available cores; found "
            f"{workers} × {threads}"
        )
    return workers, threads
