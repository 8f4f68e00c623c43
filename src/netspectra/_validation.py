"""Checks shared by the public boundaries. Private helpers downstream trust their output.

Size bounds: a request is refused before anything is allocated or looped over when its largest
array would need more than :data:`MAX_BYTES`, when its loops would cost more than
:data:`MAX_OPERATIONS` elementary operations, or when a network would have more than
:data:`MAX_LAYERS` layers. The bounds sit far above every setting of the papers (the largest,
RR's ResNet194 on CIFAR, needs a few hundred MB and 194 layers) and below what a workstation can
hold or finish; they turn a mistyped size (``10**12``, ``2**63``) into a one-line error instead
of a MemoryError, an overflow or a hang.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from .errors import NetspectraError

#: Largest array one request may allocate, in bytes (4 GiB).
MAX_BYTES = 4 * 2**30

#: Most elementary operations (multiply-adds; a Python-level loop step counts as
#: :data:`LOOP_STEP_OPERATIONS`) one request may cost: about 10-20 minutes of NumPy on one core.
MAX_OPERATIONS = 10**12

#: What one iteration of a Python-level loop costs, in elementary operations (~10 µs).
LOOP_STEP_OPERATIONS = 10**4

#: Most layers (units, blocks, repeated convolutions) a network may be built with.
MAX_LAYERS = 10_000


def as_real_array(x: Any, name: str, *, ndim: int | tuple[int, ...] | None = None) -> np.ndarray:
    """``x`` as a finite, non-empty float64 array, else a NetspectraError naming ``name``.

    Refuses text, objects, and complex values with a non-zero imaginary part (rather than
    silently keeping the real part); a tensor that requires grad must be detached first.
    """
    try:
        raw = np.asarray(x)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise NetspectraError(
            f"{name} must be a real numeric array; found {type(x).__name__}"
        ) from exc
    if raw.dtype.kind not in "biufc":
        raise NetspectraError(
            f"{name} must be a real numeric array; found {type(x).__name__} of dtype {raw.dtype}"
        )
    if raw.dtype.kind == "c":
        if np.any(raw.imag != 0):
            raise NetspectraError(
                f"{name} must be real; found complex values with a non-zero imaginary part"
            )
        raw = raw.real
    arr = raw.astype(np.float64, copy=False)
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


def as_integer_array(x: Any, name: str) -> np.ndarray:
    """``x`` as an array of integers (labels, indices), else a NetspectraError."""
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise NetspectraError(f"{name} must be an integer array; found {type(x).__name__}") from exc
    if arr.dtype.kind not in "iu":
        raise NetspectraError(f"{name} must be an integer array; found dtype {arr.dtype}")
    return arr


def finite(value: Any, name: str) -> float:
    """``value`` as a finite float, else a NetspectraError (text, bools and complex numbers
    are refused rather than converted)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        if not (isinstance(value, np.ndarray) and value.ndim == 0
                and value.dtype.kind in "iuf"):
            raise NetspectraError(f"{name} must be a real number; found {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise NetspectraError(f"{name} must be finite; found {value!r}")
    return v


def in_range(value: Any, name: str, low: float = -math.inf, high: float = math.inf, *,
             low_open: bool = False, high_open: bool = False) -> float:
    """``value`` as a finite float in the interval from ``low`` to ``high`` (closed unless
    ``low_open``/``high_open``), else a NetspectraError."""
    v = finite(value, name)
    if v < low or v > high or (low_open and v == low) or (high_open and v == high):
        text = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        raise NetspectraError(f"{name} must be in {text}; found {value!r}")
    return v


def flag(value: Any, name: str) -> bool:
    """``value`` if it is a bool (NumPy's included), else a NetspectraError: a string such as
    ``"no"`` would otherwise count as true."""
    if not isinstance(value, (bool, np.bool_)):
        raise NetspectraError(f"{name} must be True or False; found {value!r}")
    return bool(value)


def within_bytes(nbytes: int, name: str, what: str) -> None:
    """Refuse a request whose ``what`` would need ``nbytes`` (> :data:`MAX_BYTES`)."""
    if nbytes > MAX_BYTES:
        raise NetspectraError(
            f"{name} too large: {what} would need {_approx(nbytes, 2**30)} GiB, more than "
            f"the {MAX_BYTES // 2**30} GiB limit"
        )


def within_operations(operations: int, name: str, what: str) -> None:
    """Refuse a request whose ``what`` would cost ``operations`` (> :data:`MAX_OPERATIONS`)."""
    if operations > MAX_OPERATIONS:
        raise NetspectraError(
            f"{name} too large: {what} would take about {_approx(operations)} operations, "
            f"more than the limit of {MAX_OPERATIONS:.0e}"
        )


def _approx(n: float, unit: int = 1) -> str:
    """``n / unit`` to three digits, also for Python ints beyond float's range."""
    return f"{n / unit:.3g}" if n < 1e300 else "more than 1e300"


def positive(value: Any, name: str) -> float:
    """``value`` as a finite float > 0, else a NetspectraError."""
    try:
        v = finite(value, name)
    except NetspectraError:
        v = math.nan
    if not v > 0:
        raise NetspectraError(f"{name} must be a positive finite number; found {value!r}")
    return v


def at_least(value: Any, minimum: int, name: str) -> int:
    """``value`` as an int >= ``minimum``, else a NetspectraError."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
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
    """A finite interval with ``lo < hi`` whose width is a finite, normal float that resolves
    at least 1000 steps at the precision of its ends (so ``(t - lo) / (hi - lo)`` is finite
    and not degenerate), else a NetspectraError."""
    try:
        lo_f, hi_f = finite(lo, name), finite(hi, name)
    except NetspectraError:
        lo_f = hi_f = math.nan
    if not lo_f < hi_f:
        raise NetspectraError(f"{name} must be finite with LO < HI; found ({lo!r}, {hi!r})")
    width = hi_f - lo_f
    ends = max(abs(lo_f), abs(hi_f))
    if not (math.isfinite(width) and width >= np.finfo(np.float64).tiny
            and width > 1000 * np.finfo(np.float64).eps * ends):
        raise NetspectraError(
            f"{name} must have a width HI - LO that is finite and resolvable in float64; "
            f"found ({lo!r}, {hi!r}), width {width:g}"
        )
    return lo_f, hi_f


def pair(value: Any, name: str) -> tuple[Any, Any]:
    """``value`` unpacked as a pair ``(a, b)``, else a NetspectraError."""
    if isinstance(value, (str, bytes)) or np.ndim(value) != 1 or len(value) != 2:
        raise NetspectraError(f"{name} must be a pair (LO, HI); found {value!r}")
    return value[0], value[1]


#: The largest seed: torch's generators take ``[0, 2**64 − 1]`` (and NumPy any integer >= 0).
MAX_SEED = 2**64 - 1


def seed_value(value: Any, name: str = "seed") -> int:
    """``value`` as an int in ``[0, MAX_SEED]``, else a NetspectraError."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise NetspectraError(f"{name} must be an integer in [0, 2**64 - 1]; found {value!r}")
    if not 0 <= value <= MAX_SEED:
        raise NetspectraError(f"{name} must be in [0, 2**64 - 1]; found {value}")
    return int(value)


def bounded(value: Any, minimum: int, maximum: int, name: str, why: str = "") -> int:
    """``value`` as an int in ``[minimum, maximum]``, else a NetspectraError; ``why`` says
    where the bound comes from."""
    value = at_least(value, minimum, name)
    if value > maximum:
        reason = f" ({why})" if why else ""
        raise NetspectraError(f"{name} must be <= {maximum}{reason}; found {value}")
    return value


def rng_seed(value: Any, name: str, *, generator_ok: bool = False) -> Any:
    """A NumPy seed: an int in ``[0, MAX_SEED]`` or a ``SeedSequence`` (and, with
    ``generator_ok``, a ``Generator``), else a NetspectraError."""
    if isinstance(value, np.random.SeedSequence) or (
            generator_ok and isinstance(value, np.random.Generator)):
        return value
    return seed_value(value, name)


def axis(value: Any, shape: tuple[int, ...], name: str = "axis") -> int:
    """``value`` as a non-negative axis of an array of ``shape``, else a NetspectraError."""
    ndim = len(shape)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or not (
            -ndim <= value < ndim):
        raise NetspectraError(
            f"{name} must be an integer in [-{ndim}, {ndim}) for an array of shape {shape}; "
            f"found {value!r}"
        )
    return int(value) % ndim
