"""The N-term series of ReLU (DC paper, eqs. 6–9).

``ReLU(x) = x/2 + |x|/2`` and ``|x| = sqrt(A) sqrt(1 + m)`` with ``m = x²/A - 1``. The binomial
series ``sqrt(1 + m) = Σ_n C(1/2, n) m^n`` converges for ``|m| <= 1``, i.e. ``x² <= 2A``, so

    ReLU(x) ≈ x/2 + (sqrt(A)/2) Σ_{n<N} C(1/2, n) (x²/A - 1)^n.

The reference scale ``A = ½ (Σ|a_i|)²`` for a sum of tones ``Σ a_i cos(2π f_i t)`` equals
``max x² / 2`` (the tones all peak at t = 0), which is the automatic scale used here for any
signal. ReLU is positively homogeneous, so the paper's pre-scaling of the signal by 1e-4 (and
back) changes nothing once A follows the signal.
"""

from __future__ import annotations

import math

import numpy as np

from .._validation import (
    LOOP_STEP_OPERATIONS,
    as_real_array,
    at_least,
    positive,
    within_bytes,
    within_operations,
)
from ..errors import NetspectraError
from ._scaling import power_of_two_below

__all__ = ["relu_series", "relu_series_coefficients", "series_scale"]


def relu_series_coefficients(n_terms: int) -> np.ndarray:
    """The first ``n_terms`` binomial coefficients ``C(1/2, n)`` (DC paper, eq. 6; Table I).

    Computed by the recurrence ``C(1/2, n) = C(1/2, n-1) (3 - 2n) / (2n)`` (no factorials, so
    no overflow): 1, 1/2, -1/8, 1/16, -5/128, 7/256, -21/1024, 33/2048, … with
    ``|C(1/2, n)| ~ n^(-3/2) / (2 sqrt(π))``.
    """
    n_terms = at_least(n_terms, 1, "n_terms")
    within_bytes(16 * n_terms, "n_terms", "the coefficients")
    n = np.arange(1, n_terms)
    return np.concatenate(([1.0], np.cumprod((3.0 - 2.0 * n) / (2.0 * n))))


def _unit_form(x: np.ndarray, scale: float | None) -> tuple[float, float, float]:
    """``(p, A / p², sqrt(A))`` for a power of two ``p`` near ``max |x|``: the series is
    evaluated on ``x / p``, whose squares cannot overflow. Refuses a ``scale`` that makes the
    series diverge on ``x``."""
    peak = float(np.max(np.abs(x)))
    p = power_of_two_below(peak)
    unit_peak = peak / p
    if scale is None:
        return p, unit_peak**2 / 2.0, peak / math.sqrt(2.0)
    a = positive(scale, "scale")
    unit_a = a / p / p
    if unit_peak**2 > 2.0 * unit_a * (1.0 + 1e-12):
        raise NetspectraError(
            f"scale A={a:g} makes the ReLU series diverge: it needs max x² <= 2A, "
            f"found max x² = {peak * peak:g} (use A >= {peak * peak / 2:g})"
        )
    return p, unit_a, math.sqrt(a)


def series_scale(x, scale: float | None = None) -> float:
    """The scale ``A`` of the series for signal ``x``: ``max x² / 2`` unless ``scale`` is given.

    Raises :class:`NetspectraError` when a given ``scale`` makes the series diverge on ``x``
    (``max x² > 2A``, i.e. ``|m| > 1`` somewhere), or when ``max x² / 2`` overflows float64
    (``|x|`` above about 1.9e154; :func:`relu_series` itself works at any finite scale).
    Returns 0.0 for an all-zero signal.
    """
    x = as_real_array(x, "x")
    if scale is not None:
        _unit_form(x, scale)  # refuses an invalid or diverging scale
        return float(scale)
    peak = float(np.max(np.abs(x)))
    a = peak * peak / 2.0
    if not math.isfinite(a):
        raise NetspectraError(
            f"x: the series scale max x² / 2 overflows float64 (max |x| = {peak:g})"
        )
    return a


def _m(unit_x: np.ndarray, unit_a: float) -> np.ndarray:
    # Clip the rounding error of x²/A - 1 at the peak back into the convergence disc.
    return np.clip(unit_x * unit_x / unit_a - 1.0, -1.0, 1.0)


def relu_series(x, n_terms: int = 50, *, scale: float | None = None) -> np.ndarray:
    """The ``n_terms``-term series approximation of ``ReLU(x)`` (DC paper, eq. 7/9).

    Parameters
    ----------
    x : array_like
        Real, finite samples, any shape (units preserved).
    n_terms : int
        Number of terms ``N >= 1`` of the binomial series (the paper uses 50, later 100); the
        cost is ``N`` passes over ``x``, at most :data:`~netspectra._validation.MAX_OPERATIONS`.
    scale : float, optional
        ``A > 0`` with ``max x² <= 2A``; default ``max x² / 2`` (see :func:`series_scale`).
        One ``A`` serves the whole array, leading dimensions included; pass rows separately
        when their amplitudes differ widely (a small row converges more slowly under a large A).

    Returns
    -------
    ndarray
        ``x/2 + (sqrt(A)/2) Σ_{n<N} C(1/2, n) (x²/A - 1)^n``, evaluated by Horner's scheme in
        ``m`` (|m| <= 1 and |C| decreasing, so it is stable; cost N multiply-adds per sample).
        ``m`` is computed from ``x`` and ``A`` divided by a power of two near ``max |x|`` (and
        its square), which changes no digit and keeps ``x²`` from overflowing.
    """
    x = as_real_array(x, "x")
    n_terms = at_least(n_terms, 1, "n_terms")
    within_operations(n_terms * (x.size + LOOP_STEP_OPERATIONS), "n_terms",
                      "the series on x")
    c = relu_series_coefficients(n_terms)
    p, unit_a, root_a = _unit_form(x, scale)
    if root_a == 0.0:
        return np.zeros_like(x)
    m = _m(x / p, unit_a)
    acc = np.full_like(x, c[-1])
    for coefficient in c[-2::-1]:
        acc *= m
        acc += coefficient
    return 0.5 * x + 0.5 * root_a * acc
