"""How fast the ReLU series converges (DC paper, Section III and Appendix B of the later version).

Measured on the V-A signal (tones 5, 10, 20, 40 Hz, fs = 1024 Hz, 8 s; ``relu-series``
experiment): the relative RMS error falls *algebraically*, 8.1 % (N = 8), 1.7 % (50), 1.0 %
(100), 0.59 % (200), 0.18 % (1000): ``rrmse ~ N^(-0.78)``, and the max-abs error as
``N^(-1/2)``; not exponentially, as the later version's Appendix B claims. The reason is the
zero crossings: there ``x² = 0``, so ``m = -1`` sits on the boundary of the disc of
convergence, where the terms ``C(1/2, n) (-1)^n`` only decay as ``n^(-3/2)`` and the
pointwise tail as ``n^(-1/2)``. Exponential convergence holds only for signals that stay
away from zero (``|m| < 1`` everywhere).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .._plotting import figure_axes
from .._validation import LOOP_STEP_OPERATIONS, as_real_array, at_least, within_operations
from ..errors import NetspectraError
from ..results import Result
from ._scaling import power_of_two_below
from .series import _m, _unit_form, relu_series_coefficients

__all__ = [
    "SeriesConvergence",
    "convergence_order",
    "max_abs_error",
    "rrmse_percent",
    "series_convergence",
]


def _pair_of_signals(approx, exact) -> tuple[np.ndarray, np.ndarray, float]:
    """Both signals divided by a power of two near their largest magnitude (exact, and no
    square or difference can overflow), and that power."""
    approx = as_real_array(approx, "approx")
    exact = as_real_array(exact, "exact")
    if approx.shape != exact.shape:
        raise NetspectraError(
            f"approx and exact must match in shape; found {approx.shape}, {exact.shape}"
        )
    p = power_of_two_below(max(float(np.max(np.abs(approx))), float(np.max(np.abs(exact)))))
    return approx / p, exact / p, p


def rrmse_percent(approx, exact) -> float:
    """Relative RMS error in percent: ``100 sqrt(mean((approx - exact)²) / mean(exact²))``."""
    approx, exact, _ = _pair_of_signals(approx, exact)
    ref = np.mean(exact * exact)
    if ref == 0:
        raise NetspectraError("exact must not be all zeros (relative error undefined)")
    return float(100.0 * np.sqrt(np.mean((approx - exact) ** 2) / ref))


def max_abs_error(approx, exact) -> float:
    """``max |approx - exact|`` in the units of the signal (arrays of equal shape)."""
    approx, exact, p = _pair_of_signals(approx, exact)
    error = float(np.max(np.abs(approx - exact))) * p
    if not np.isfinite(error):
        raise NetspectraError("approx - exact overflows float64 (|difference| > 1.8e308)")
    return error


def convergence_order(n_terms, errors) -> float:
    """Empirical algebraic order ``p`` of ``error ~ N^(-p)``: minus the least-squares slope of
    ``log error`` against ``log N`` (points with zero error are left out). ``n_terms`` must be
    positive and hold at least two distinct values among the kept points."""
    n = as_real_array(n_terms, "n_terms", ndim=1)
    e = as_real_array(errors, "errors", ndim=1)
    if n.shape != e.shape:
        raise NetspectraError(
            f"n_terms and errors must have equal lengths; found {n.size}, {e.size}"
        )
    if np.any(n <= 0) or np.any(e < 0):
        raise NetspectraError("n_terms must be positive and errors non-negative")
    keep = e > 0
    if np.unique(n[keep]).size < 2:
        raise NetspectraError(
            "n_terms: need at least two distinct N with error > 0 to fit an order"
        )
    return float(-np.polyfit(np.log(n[keep]), np.log(e[keep]), 1)[0])


@dataclass(frozen=True)
class SeriesConvergence(Result):
    """Error of the N-term ReLU series against the exact ReLU, for several N.

    ``n_terms`` (N), ``rrmse_percent`` (%), ``max_abs_error`` (signal units) and the fitted
    ``order`` p of ``rrmse ~ N^(-p)`` over ``N >= fit_min``.
    """

    n_terms: np.ndarray
    rrmse_percent: np.ndarray
    max_abs_error: np.ndarray
    order: float
    fit_min: int = 1

    def plot(self, ax=None):
        """Log-log error against N, with the fitted power law."""
        fig, ax = figure_axes(ax, (5, 3.5))
        ax.loglog(self.n_terms, self.rrmse_percent, "o-", ms=3, label="relative RMS error (%)")
        ax.loglog(self.n_terms, self.max_abs_error, "s-", ms=3, label="max |error|")
        fitted = self.n_terms >= self.fit_min
        n, e = self.n_terms[fitted], self.rrmse_percent[fitted]
        anchor = np.exp(np.mean(np.log(e)) + self.order * np.mean(np.log(n)))
        ax.loglog(n, anchor * n ** (-self.order), "k:", label=f"fit N^-{self.order:.2f}")
        ax.set(xlabel="number of terms N", ylabel="error", title="ReLU series convergence")
        ax.legend()
        return fig


def series_convergence(
    x, n_terms: Sequence[int], *, scale: float | None = None, fit_min: int = 1
) -> SeriesConvergence:
    """Errors of the N-term series on ``x`` for every N in ``n_terms`` (one pass over the terms).

    The partial sums are accumulated upwards (``m^n`` by repeated multiplication, |m| <= 1), so
    all N cost as much as the largest one. The order is fitted over the given ``N >= fit_min``
    (the first few terms are pre-asymptotic); it is NaN when fewer than two of them are given.
    """
    x = as_real_array(x, "x")
    if isinstance(n_terms, (str, bytes)) or np.ndim(n_terms) != 1 or len(n_terms) == 0:
        raise NetspectraError(f"n_terms must be a non-empty sequence of integers; found "
                              f"{n_terms!r}")
    ns = np.array(sorted({at_least(n, 1, "n_terms") for n in n_terms}))
    fit_min = at_least(fit_min, 1, "fit_min")
    if fit_min > ns[-1]:
        raise NetspectraError(f"fit_min must be <= the largest N ({ns[-1]}); found {fit_min}")
    within_operations(int(ns[-1]) * (x.size + LOOP_STEP_OPERATIONS), "n_terms",
                      "the series on x")
    exact = np.maximum(x, 0.0)
    p, unit_a, root_a = _unit_form(x, scale)
    if root_a == 0.0:
        raise NetspectraError("x must not be all zeros")
    c = relu_series_coefficients(int(ns[-1]))
    m = _m(x / p, unit_a)
    power = np.ones_like(x)
    partial = np.zeros_like(x)
    rr, mx = [], []
    for n in range(ns[-1]):
        partial += c[n] * power
        power *= m
        if n + 1 in ns:
            approx = 0.5 * x + 0.5 * root_a * partial
            rr.append(rrmse_percent(approx, exact))
            mx.append(max_abs_error(approx, exact))
    rr_arr = np.array(rr)
    fitted = ns >= fit_min
    order = convergence_order(ns[fitted], rr_arr[fitted]) if fitted.sum() >= 2 else float("nan")
    return SeriesConvergence(ns, rr_arr, np.array(mx), order, fit_min)
