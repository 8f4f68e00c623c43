"""Wall-clock races between ways of doing the same work, for choosing one by measurement."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import torch

__all__ = ["race"]


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
