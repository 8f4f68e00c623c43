"""Invalid inputs for fuzzing the public API, and the check every such call must pass.

Strategies (hypothesis) build the kinds of bad input a user can hand to a public function:
non-finite, empty, mis-shaped and complex arrays, values of the wrong Python type, zero,
negative and huge sizes (up to and beyond ``2**63``), reversed or degenerate intervals, unknown
names and bad seeds. :func:`check_rejected` and :func:`check_clean` run one call under a time
and memory guard and state the contract:

* the only exception is :class:`~netspectra.errors.NetspectraError`, on one line, naming the
  argument (``names``); a :class:`TypeError` is also accepted where the test passes a value
  of the wrong Python type (``wrong_type=True``), as NumPy raises one;
* a call that returns must not hand back NaN or Inf anywhere in its result;
* huge requests are refused before anything is allocated or looped over: the call gets
  :data:`MEMORY_BUDGET` bytes of address space beyond what the process holds and
  :data:`TIME_BUDGET` seconds, and running out of either fails the test.

Use :data:`FUZZ` as the ``@settings`` of a fuzz test; ``NETSPECTRA_FUZZ_EXAMPLES`` raises the
number of examples for a deeper local run (the default keeps each test to a few seconds).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import os
import pkgutil
import re
import resource
import signal
import threading
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from netspectra.errors import NetspectraError

__all__ = [
    "FUZZ",
    "MEMORY_BUDGET",
    "TIME_BUDGET",
    "Call",
    "bad_arrays",
    "bad_counts",
    "bad_intervals",
    "bad_numbers",
    "bad_positive_numbers",
    "bad_seeds",
    "calls",
    "check_clean",
    "check_rejected",
    "complex_arrays",
    "empty_arrays",
    "exported_callables",
    "huge_counts",
    "nonfinite_arrays",
    "not_axes",
    "not_bools",
    "not_generators",
    "unknown_names",
    "wrong_ndim_arrays",
    "wrong_types",
]

#: Address space a single fuzzed call may add (bytes). Valid calls of the fuzz tests need far
#: less; a request for gigabytes must be refused before it allocates.
MEMORY_BUDGET = 2 * 2**30

#: Seconds a single fuzzed call may run. A refused request takes microseconds.
TIME_BUDGET = 8.0

settings.register_profile(
    "netspectra-fuzz",
    max_examples=int(os.environ.get("NETSPECTRA_FUZZ_EXAMPLES", "15")),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                           HealthCheck.data_too_large],
)
#: ``@FUZZ`` on a ``@given`` test: few derandomised examples, no deadline (the guards of
#: :func:`check_rejected` bound each call instead), no example database.
FUZZ = settings.get_profile("netspectra-fuzz")

_HUGE = (2**31, 2**40, 10**12, 2**53 + 1, 2**62, 2**63 - 1, 2**63, 2**64, 10**30)


# --------------------------------------------------------------------------------- strategies

def _shapes(min_dims: int, max_dims: int, min_side: int = 1, max_side: int = 6):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def nonfinite_arrays(min_dims: int = 1, max_dims: int = 2, *, min_side: int = 1,
                     max_side: int = 6) -> st.SearchStrategy[np.ndarray]:
    """float64 arrays holding at least one NaN, +Inf or -Inf among finite values."""

    @st.composite
    def build(draw):
        shape = draw(_shapes(min_dims, max_dims, min_side, max_side))
        x = draw(hnp.arrays(np.float64, shape, elements=st.floats(-10, 10)))
        bad = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
        x.flat[draw(st.integers(0, x.size - 1))] = bad
        return x

    return build()


def empty_arrays(max_dims: int = 3) -> st.SearchStrategy[np.ndarray]:
    """float64 arrays with a zero-length axis (shape ``(0,)``, ``(3, 0)``, …) and ``[]``."""
    shapes = hnp.array_shapes(min_dims=1, max_dims=max_dims, min_side=0, max_side=3).filter(
        lambda s: 0 in s)
    return st.one_of(st.just([]), shapes.map(lambda s: np.zeros(s)))


def complex_arrays(min_dims: int = 1, max_dims: int = 2, *,
                   min_side: int = 1) -> st.SearchStrategy[np.ndarray]:
    """complex128 arrays whose imaginary part is not zero (must not be cut to the real part)."""

    @st.composite
    def build(draw):
        shape = draw(_shapes(min_dims, max_dims, min_side))
        x = draw(hnp.arrays(np.float64, shape, elements=st.floats(-5, 5))).astype(np.complex128)
        x.flat[draw(st.integers(0, x.size - 1))] += 1j * draw(st.floats(0.5, 5))
        return x

    return build()


def wrong_ndim_arrays(allowed: int | Iterable[int], *, max_dims: int = 4,
                      min_side: int = 1) -> st.SearchStrategy[np.ndarray]:
    """Finite float64 arrays whose number of dimensions is not ``allowed`` (one or several)."""
    allowed = {allowed} if isinstance(allowed, int) else set(allowed)
    dims = [d for d in range(max_dims + 1) if d not in allowed]
    return st.sampled_from(dims).flatmap(
        lambda d: hnp.arrays(np.float64, hnp.array_shapes(min_dims=d, max_dims=d,
                                                          min_side=min_side, max_side=4),
                             elements=st.floats(-5, 5)))


def wrong_types(*, none: bool = True) -> st.SearchStrategy[Any]:
    """Values no numeric argument accepts: text, bytes, dicts, ragged lists, objects, and
    None unless ``none=False`` (for arguments where None means a default)."""
    values = ["abc", b"\x00", {"a": 1}, [[1.0, 2.0], [3.0]], object(), np.array(["a", "b"]),
              np.array([object()], dtype=object), print]
    return st.sampled_from([None, *values] if none else values)


def bad_arrays(ndim: int | Iterable[int] | None = None, *, min_side: int = 1,
               none: bool = True) -> st.SearchStrategy[Any]:
    """Everything a real-array argument refuses: NaN/Inf, empty, complex, text or objects
    (None unless ``none=False``) and, given the allowed ``ndim``, other numbers of
    dimensions."""
    kinds = [nonfinite_arrays(min_side=min_side), empty_arrays(),
             complex_arrays(min_side=min_side), wrong_types(none=none)]
    if ndim is not None:
        kinds.append(wrong_ndim_arrays(ndim, min_side=min_side))
    return st.one_of(*kinds)


def bad_numbers() -> st.SearchStrategy[Any]:
    """Values a real-number argument refuses: NaN, ±Inf, complex, text, lists, objects."""
    return st.one_of(st.sampled_from([np.nan, np.inf, -np.inf, 1 + 2j, "0.5", [0.5]]),
                     wrong_types(none=False))


def not_bools() -> st.SearchStrategy[Any]:
    """Values a True/False argument refuses (``"no"`` would otherwise count as true)."""
    return st.sampled_from(["no", 0, 1, None, np.array([True, False])])


def not_axes() -> st.SearchStrategy[Any]:
    """Values the ``ax`` of a ``plot`` method refuses."""
    return st.sampled_from(["axes", 3, [1, 2], object()])


def not_generators() -> st.SearchStrategy[Any]:
    """Values a ``generator`` argument (a torch.Generator or None) refuses: seeds, NumPy
    generators, text."""
    return st.one_of(bad_seeds(), st.sampled_from([0, np.random.default_rng(0), "gen"]))


def huge_counts() -> st.SearchStrategy[int]:
    """Integer sizes far beyond memory or time, up to and past ``2**63`` (NumPy's int64)."""
    return st.one_of(st.sampled_from(_HUGE), st.integers(2**40, 2**64))


def bad_counts(minimum: int = 1) -> st.SearchStrategy[Any]:
    """Values an integer size ``>= minimum`` must refuse: too small, huge, fractional, bool,
    NaN/Inf and text."""
    return st.one_of(
        st.integers(-(2**64), minimum - 1),
        huge_counts(),
        st.sampled_from([1.5, float(minimum) + 0.5, np.nan, np.inf, -np.inf, True, "3",
                         None]),
    )


def bad_positive_numbers() -> st.SearchStrategy[Any]:
    """Values a positive finite number must refuse: 0, negatives, NaN, ±Inf, complex, text."""
    return st.one_of(
        st.floats(max_value=0.0, allow_nan=False),
        st.sampled_from([np.nan, np.inf, -np.inf, 1 + 1j, "1.0", None, [1.0, 2.0]]),
    )


def bad_intervals() -> st.SearchStrategy[Any]:
    """Intervals ``(lo, hi)`` that cannot be mapped onto [-1, 1]: reversed, empty, non-finite,
    so narrow or wide that ``hi - lo`` is subnormal, zero or overflows, and not a pair."""

    @st.composite
    def reversed_(draw):
        lo = draw(st.floats(-1e6, 1e6))
        return (lo, lo - draw(st.floats(0, 1e6)))

    return st.one_of(
        reversed_(),
        st.sampled_from([
            (0.0, 1e-320), (1e-320, 2e-320), (0.0, 5e-324), (1.0, 1.0 + 2.2e-16),
            (-1e308, 1e308), (-np.inf, 1.0), (0.0, np.nan), (np.nan, np.nan),
            (1.0,), (0.0, 1.0, 2.0), "ab", None, 3.0, (1 + 1j, 2.0),
        ]),
    )


def bad_seeds() -> st.SearchStrategy[Any]:
    """Seeds no seeded function should take: negative, fractional, non-finite, bool, text."""
    return st.one_of(
        st.integers(-(2**70), -1),
        st.sampled_from([1.5, np.nan, np.inf, "0", [0.5], True]),
    )


def unknown_names(known: Iterable[str]) -> st.SearchStrategy[str]:
    """Short strings that are none of ``known`` (near misses included: case, spaces)."""
    known = set(known)
    near = [v for k in known for v in (k.upper(), f" {k}", f"{k}_", k[:-1])]
    return st.one_of(st.sampled_from(near or ["?"]), st.text(max_size=8)).filter(
        lambda s: s not in known)


# ---------------------------------------------------------------------------------- the check

@dataclasses.dataclass(frozen=True)
class Call:
    """One call with an invalid argument: ``fn(**kwargs)`` must be refused naming ``names``."""

    fn: Callable
    kwargs: dict
    names: tuple[str, ...]
    wrong_type: bool = False

    def check(self) -> Exception:
        """:func:`check_rejected` on this call."""
        returned, outcome = _run(self.fn, (), self.kwargs, self.names, self.wrong_type,
                                 TIME_BUDGET, MEMORY_BUDGET)
        assert not returned, f"{self!r} accepted invalid input"
        return outcome

    def __repr__(self) -> str:
        return _describe(self.fn, (), self.kwargs)


def calls(fn: Callable, arg: str, values: st.SearchStrategy, *,
          names: str | Iterable[str] | None = None, wrong_type: bool = False,
          **fixed: Any) -> st.SearchStrategy[Call]:
    """Calls ``fn(**fixed, arg=value)`` for each drawn ``value``, expected to be refused with a
    message naming ``names`` (default: ``arg``)."""
    names = (arg,) if names is None else ((names,) if isinstance(names, str) else tuple(names))
    return values.map(lambda v: Call(fn, {**fixed, arg: v}, names, wrong_type))


class _TimeBudgetExceeded(BaseException):
    """Raised into a call that outruns :data:`TIME_BUDGET` (a BaseException, so that the
    code under test cannot swallow it)."""


def _address_space() -> int:
    with open("/proc/self/status") as fh:
        return int(re.search(r"VmSize:\s+(\d+) kB", fh.read()).group(1)) * 1024


@contextlib.contextmanager
def _guarded(seconds: float, memory: int):
    """Limit the address space to ``memory`` bytes more than now and the time to ``seconds``
    (where the platform allows: Linux, the main thread)."""
    main = threading.current_thread() is threading.main_thread()
    limits = resource.getrlimit(resource.RLIMIT_AS)
    try:
        target = _address_space() + memory
        if limits[1] == resource.RLIM_INFINITY or target < limits[1]:
            resource.setrlimit(resource.RLIMIT_AS, (target, limits[1]))
    except (OSError, ValueError, AttributeError):
        pass
    if main:
        def expire(signum, frame):
            raise _TimeBudgetExceeded(f"ran past {seconds} s")

        previous = signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        if main:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        resource.setrlimit(resource.RLIMIT_AS, limits)


def _nonfinite(value: Any, depth: int = 0) -> str | None:
    """A description of the first NaN/Inf found in ``value`` (arrays, tensors, numbers,
    dataclasses, tuples, lists, dicts), or None."""
    if depth > 6:
        return None
    if isinstance(value, np.ndarray) and value.dtype.kind in "fc":
        return None if np.all(np.isfinite(value)) else f"array of shape {value.shape}"
    if type(value).__module__.startswith("torch") and hasattr(value, "isfinite"):
        if value.is_floating_point() or value.is_complex():
            return None if bool(value.isfinite().all()) else f"tensor {tuple(value.shape)}"
        return None
    if isinstance(value, (float, complex, np.floating, np.complexfloating)):
        return None if np.isfinite(value) else repr(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        items = [getattr(value, f.name) for f in dataclasses.fields(value)]
    elif isinstance(value, dict):
        items = list(value.values())
    elif isinstance(value, (tuple, list)):
        items = list(value)
    else:
        return None
    for item in items:
        found = _nonfinite(item, depth + 1)
        if found:
            return found
    return None


def _describe(call: Callable, args, kwargs) -> str:
    shown = [_short(a) for a in args] + [f"{k}={_short(v)}" for k, v in kwargs.items()]
    return f"{getattr(call, '__qualname__', call)}({', '.join(shown)})"


def _short(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"array(shape={value.shape}, dtype={value.dtype})"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _run(call: Callable, args, kwargs, names: Iterable[str], wrong_type: bool,
         seconds: float, memory: int):
    """(True, result) or (False, exception), having failed the test for any other outcome."""
    names = [names] if isinstance(names, str) else list(names)
    what = _describe(call, args, kwargs)
    try:
        with _guarded(seconds, memory):
            result = call(*args, **kwargs)
    except _TimeBudgetExceeded as exc:
        raise AssertionError(f"{what} {exc}: not refused up front") from None
    except NetspectraError as exc:
        message = str(exc)
        assert "\n" not in message, f"{what}: message spans lines: {message!r}"
        assert any(n in message for n in names), (
            f"{what}: message names none of {names}: {message!r}")
        return False, exc
    except TypeError as exc:
        if not wrong_type:
            raise AssertionError(f"{what} raised TypeError: {exc}") from exc
        return False, exc
    except Exception as exc:  # every other escape is what the check reports
        raise AssertionError(f"{what} raised {type(exc).__name__}: {exc}") from exc
    return True, result


def check_rejected(call: Callable, *args, names: str | Iterable[str], wrong_type: bool = False,
                   time_budget: float = TIME_BUDGET, memory_budget: int = MEMORY_BUDGET,
                   **kwargs) -> Exception:
    """Assert that ``call(*args, **kwargs)`` refuses its input with a clear error.

    Passes only when it raises :class:`NetspectraError` with a one-line message containing one
    of ``names`` (or, with ``wrong_type=True``, a :class:`TypeError`) within ``time_budget``
    seconds and ``memory_budget`` bytes of new address space. Returns the exception.
    """
    returned, outcome = _run(call, args, kwargs, names, wrong_type, time_budget, memory_budget)
    assert not returned, f"{_describe(call, args, kwargs)} accepted invalid input"
    return outcome


def check_clean(call: Callable, *args, names: str | Iterable[str], wrong_type: bool = False,
                time_budget: float = TIME_BUDGET, memory_budget: int = MEMORY_BUDGET,
                **kwargs) -> Any:
    """Assert that ``call(*args, **kwargs)`` either refuses as in :func:`check_rejected` or
    returns a result free of NaN/Inf: for inputs that may be valid. Returns the result, or
    None when it refused."""
    returned, outcome = _run(call, args, kwargs, names, wrong_type, time_budget, memory_budget)
    if not returned:
        return None
    bad = _nonfinite(outcome)
    assert bad is None, f"{_describe(call, args, kwargs)} returned a non-finite value: {bad}"
    return outcome


def exported_callables(package: ModuleType) -> set[str]:
    """Names of the callables that the submodules of ``package`` export (their ``__all__``):
    the package's public names and those it keeps in submodules for the library's own use,
    so that a coverage check also holds the functions hidden from the namespace."""
    names: set[str] = set()
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        names |= {n for n in getattr(module, "__all__", ()) if callable(getattr(module, n))}
    return names
