"""Checks shared by the public boundaries. Private helpers downstream trust their output."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .errors import NetspectraError


def as_real_array(x: Any, name: str, *, ndim: int | tuple[int, ...] | None = None) -> np.ndarray:
    """``x`` as a finite, non-empty float64 array, else a NetspectraError naming ``name``."""
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise NetspectraError(
            f"{name} must be a real numeric array; found {type(x).__name__}"
        ) from exc
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if arr.ndim not in allowed:
            raise NetspectraError(
                f"{name} must have {' or '.join(map(str, allowed))} dimension(s); "
                f"found shape {arr.shape}"
            )
    if arr.size == 0:
        raise NetspectraError(f"{name} must not be empty; found shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise NetspectraError(f"{name} must be finite; found {bad} NaN/Inf value(s)")
    return arr


def positive(value: Any, name: str) -> float:
    """``value`` as a finite float > 0, else a NetspectraError."""
    try:
        v = float(value)
    except (TypeError, ValueError) as exc:
        raise NetspectraError(f"{name} must be a positive number; found {value!r}") from exc
    if not np.isfinite(v) or v <= 0:
        raise NetspectraError(f"{name} must be a positive finite number; found {value!r}")
    return v


def at_least(value: Any, minimum: int, name: str) -> int:
    """``value`` as an int >= ``minimum``, else a NetspectraError."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise NetspectraError(f"{name} must be an integer >= {minimum}; found {value!r}")
    if value < minimum:
        raise NetspectraError(f"{name} must be >= {minimum}; found {value}")
    return int(value)


def choice(value: str, known: Iterable[str], name: str) -> str:
    """``value`` if it is one of ``known``, else a NetspectraError listing the known ones."""
    known = list(known)
    if value not in known:
        raise NetspectraError(f"unknown {name} {value!r}; expected one of: {', '.join(known)}")
    return value


def interval(lo: Any, hi: Any, name: str) -> tuple[float, float]:
    """A finite interval with ``lo < hi``, else a NetspectraError."""
    lo_f, hi_f = float(lo), float(hi)
    if not (np.isfinite(lo_f) and np.isfinite(hi_f)) or lo_f >= hi_f:
        raise NetspectraError(f"{name} must be finite with LO < HI; found ({lo}, {hi})")
    return lo_f, hi_f
