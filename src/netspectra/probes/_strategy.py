"""How a walk evaluates its points: one forward per point (``"loop"``) or chunks of points
batched with :func:`torch.func.vmap` (``"vmap"``), named, taken per device (``"auto"``) or
picked by a race (``"measure"``). The measurements behind the choices are in the notes of
:mod:`netspectra.probes.walks` and README *Speed of walks*."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import torch
from tqdm.auto import tqdm

from .._warnings import warn_caller

__all__ = ["STRATEGIES", "race", "settle", "vmap_chunk"]

#: ``"loop"``: one forward per point; ``"vmap"``: chunks of points batched with vmap;
#: ``"measure"``: whichever of the two runs faster on the first points of the walk;
#: ``"auto"``: the loop on CPU, vmap on CUDA.
STRATEGIES = ("auto", "loop", "vmap", "measure")

# What "auto" takes per device type (the loop elsewhere); vmap falls back to the loop, with a
# warning, for a model that vmap cannot batch.
AUTO = {"cuda": "vmap"}
# Largest batched output of a vmap chunk on CPU (see vmap_chunk).
CPU_CHUNK_BYTES = 32 * 2**20
# Points per strategy in the race of "measure" (after as many for warm-up): few enough to be
# cheap against a walk, enough to fill a vmap chunk on a GPU.
TRIAL_POINTS = 16
# The strategy measured fastest per (model, input, recording, device) in this process.
MEASURED: dict[tuple, str] = {}

#: ``evaluate(strategy, direction, t values, progress bar)``: one walk along ``direction``.
Evaluate = Callable[[str, dict, torch.Tensor, object], object]


def race(candidates: Mapping[str, Callable[[], object]], *, repeats: int = 3,
         device: torch.device | str | None = None) -> dict[str, float]:
    """Best wall time in seconds of each candidate over ``repeats`` rounds, after one warm-up
    call each (kernel selection, allocator growth).

    The candidates take turns within a round, so a slow spell of a shared machine hits all of
    them rather than one and their ratios stay comparable. On a CUDA ``device`` the clock is
    read only after the queued work has finished.
    """
    device = None if device is None else torch.device(device)
    sync = torch.cuda.synchronize if device is not None and device.type == "cuda" else None

    def timed(fn: Callable[[], object]) -> float:
        start = time.perf_counter()
        fn()
        if sync is not None:
            sync(device)
        return time.perf_counter() - start

    for fn in candidates.values():
        timed(fn)
    best = dict.fromkeys(candidates, float("inf"))
    for _ in range(repeats):
        for name, fn in candidates.items():
            best[name] = min(best[name], timed(fn))
    return best


def vmap_chunk(n_points: int, fit: int, widest_bytes: int, device: torch.device) -> int:
    """Points per vmap chunk: as many as fit the memory budget and, on CPU, few enough that
    the widest batched output stays below glibc's largest mmap threshold, 32 MiB. Above it
    every such tensor is a fresh mmap whose page faults made chunks of 100 points of a
    Toy-CNN at batch 128 2× slower than chunks of 64, and as fast with mmap turned off
    (benchmarks/walk_strategies.py --chunks)."""
    if device.type == "cpu":
        fit = min(fit, CPU_CHUNK_BYTES // widest_bytes)
    return max(1, min(n_points, fit))


def settle(strategy: str, evaluate: Evaluate, direction: dict, ts: torch.Tensor, *,
           chunk: int, key: Callable[[], tuple]) -> str:
    """``"loop"`` or ``"vmap"``: ``strategy`` resolved on the walk's device, with ``direction``
    and the path parameters ``ts`` for trials. ``key()`` names the setting a race's outcome
    is remembered under."""
    auto = strategy == "auto"
    if auto:
        strategy = AUTO.get(ts.device.type, "loop")
    if strategy == "measure":
        setting = key()
        if setting not in MEASURED:
            MEASURED[setting] = _race_strategies(evaluate, direction, ts, chunk)
        return MEASURED[setting]
    if strategy == "vmap" and auto and _vmap_refused(evaluate, direction, ts):
        return "loop"
    return strategy


def _race_strategies(evaluate: Evaluate, direction: dict, ts: torch.Tensor,
                     chunk: int) -> str:
    """The faster of the two on the first points of ``direction`` (results discarded)."""
    if _vmap_refused(evaluate, direction, ts):
        return "loop"
    points = ts[:min(len(ts), chunk, TRIAL_POINTS)]
    quiet = tqdm(disable=True)
    times = race({how: lambda how=how: evaluate(how, direction, points, quiet)
                  for how in ("loop", "vmap")}, repeats=1, device=ts.device)
    return min(times, key=times.get)


def _vmap_refused(evaluate: Evaluate, direction: dict, ts: torch.Tensor) -> bool:
    """Whether vmap fails on this model (data-dependent control flow, ``.item()`` …), tried
    on two points; if so, say so in a warning."""
    try:
        evaluate("vmap", direction, ts[:2], tqdm(disable=True))
    except RuntimeError as err:  # torch.func reports what it cannot batch as RuntimeError
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        warn_caller(f"the model cannot be evaluated under torch.func.vmap ({reason}); its "
                    "points are evaluated one at a time (strategy='loop')")
        return True
    return False
