"""Run the units of a sweep in worker processes without oversubscribing the CPU.

Measured for the small CNNs of the DC paper on 2 cores (issue 4): one training step is
compute-bound, so two 1-thread worker processes beat one 2-thread process (≈1.2×), while
more threads than cores in total collapse throughput (≈30× slower); glibc's allocator
returning and re-requesting memory on every step costs up to 3× unless the mmap/trim
thresholds are raised. Hence: ``workers × threads ≤ cores`` always, 1 thread per worker by
default, and :func:`tune_allocator` in every process that trains.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from .._validation import at_least
from ..errors import NetspectraError
from ._registry import Option
from ._sweep import run_units

__all__ = [
    "WORKER_OPTIONS",
    "available_cores",
    "plan_for_device",
    "plan_workers",
    "run_units_parallel",
    "tune_allocator",
]

#: ``--workers`` and ``--threads`` of the experiments whose units run in worker processes.
WORKER_OPTIONS = (
    Option("--workers", "worker processes on CPU (default: one per core, at most one per "
           "unit; CUDA runs the units one after another)", int),
    Option("--threads", "threads per worker (default: 1)", int),
)

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's maximum on 64-bit
_TRIM_THRESHOLD = 512 * 1024 * 1024


def tune_allocator() -> bool:
    """Raise glibc's mmap and trim thresholds so that per-step tensors reuse heap memory.

    Without it, every training step of a small CNN maps and unmaps its activation buffers
    (up to 3× slower). Returns False where there is no glibc (the call is then a no-op).
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


def plan_workers(n_units: int, workers: int | None = None,
                 threads: int | None = None) -> tuple[int, int]:
    """Worker processes and threads per worker: by default one 1-thread worker per core.

    Raises :class:`NetspectraError` when ``workers × threads`` exceeds the available cores.
    """
    cores = available_cores()
    threads = 1 if threads is None else at_least(threads, 1, "threads")
    if workers is None:
        workers = max(1, min(cores // threads, n_units))
    workers = at_least(workers, 1, "workers")
    if workers * threads > cores:
        raise NetspectraError(
            f"workers × threads must not exceed the {cores} available cores; found "
            f"{workers} × {threads}"
        )
    return workers, threads


def plan_for_device(n_units: int, device: torch.device | str, workers: int | None = None,
                    threads: int | None = None) -> tuple[int, int]:
    """:func:`plan_workers` on CPU; on CUDA one process runs the units in turn.

    Walks and small trainings are long series of small operations that each wait for their
    slowest thread: measured on the shared 2-core machine next to another busy process, a
    2-thread walk of a 50-unit Toy-CNN took 13× as long as a 1-thread one.
    """
    if torch.device(device).type == "cpu":
        return plan_workers(n_units, workers, threads)
    return 1, (1 if threads is None else at_least(threads, 1, "threads"))


def _init_worker(threads: int) -> None:
    tune_allocator()
    torch.set_num_threads(threads)


def _run_shard(directory: str, keys: Sequence[str], unit: Callable) -> None:
    run_units(directory, keys, unit, progress=False)


def run_units_parallel(
    directory: str | Path,
    keys: Sequence[str],
    unit: Callable[[str], Mapping[str, np.ndarray | float]],
    *,
    workers: int = 1,
    threads: int = 1,
    desc: str = "units",
) -> dict[str, dict[str, np.ndarray]]:
    """:func:`~netspectra.experiments._sweep.run_units` spread over ``workers`` processes.

    Each key is a task of its own that the next idle worker takes, since units can differ
    in cost by 10× (dc-training's ReLU runs against its collapsed linear ones) and a fixed
    deal would leave a worker idle. Each unit is written atomically into ``directory``, so
    the result equals a sequential run and an interrupted run resumes.
    ``unit`` must be picklable (a module-level function or ``functools.partial`` of one).
    With ``workers=1`` the units run in this process with ``threads`` threads.
    """
    if workers == 1:
        previous = torch.get_num_threads()
        tune_allocator()
        torch.set_num_threads(threads)
        try:
            return run_units(directory, keys, unit, desc=desc)
        finally:
            torch.set_num_threads(previous)
    done = {k for k in keys if (Path(directory) / f"{k}.npz").exists()}
    todo = [k for k in keys if k not in done]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                             initargs=(threads,)) as pool:
        futures = [pool.submit(_run_shard, str(directory), [key], unit) for key in todo]
        for future in tqdm(as_completed(futures), total=len(futures), desc=desc, leave=False):
            future.result()
    return run_units(directory, keys, unit, desc=desc, progress=False)
