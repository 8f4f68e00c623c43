"""Least-squares Chebyshev fits of activations (Ringing ReLUs §3.3, Table 1, Figs. 2, 18, 19).

Procedure (it reproduces every printed entry of RR Table 1 above 1e-8 to better than 1e-7
relative, except one probable misprint): sample the activation at ``n_points = 1000`` evenly
spaced points covering the interval *including both ends* (``linspace(lo, hi, 1000)``), map
``t`` affinely onto ``u ∈ [-1, 1]``, solve the least-squares problem for the Chebyshev
coefficients ``c_k`` of ``Σ c_k T_k(u)`` (numpy's ``chebfit``), and expand the same polynomial
in powers of the original variable ``t``. Interpolation at Chebyshev nodes (what the paper's
prose says), or 999/1001 points, misses the table at the 1e-4 level.

Probable misprint: Table 1 prints relu's ``t^10`` coefficient as ``-1.6559778E-02``. Every
procedure gives ``+1.6559778E-02`` (the same 8 digits, opposite sign); the even coefficients
of relu alternate in sign (+0.809, -0.572, +0.283, -0.0857, ?, -0.00212, +1.84e-4), and the
leaky-ReLU rows, whose even part is the relu one scaled by ``(1 - slope)``, print ``+`` there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.polynomial import Chebyshev, Polynomial
from numpy.polynomial import chebyshev as cheb

from .._plotting import figure_axes
from .._validation import as_real_array, at_least, pair, within_bytes, within_operations
from .._validation import interval as _interval
from ..errors import NetspectraError
from ..results import Result
from .activations import activation as _activation

__all__ = ["ChebyshevFit", "chebyshev_fit"]

#: Number of evenly spaced sample points that reproduces RR Table 1.
TABLE1_POINTS = 1000


@dataclass(frozen=True)
class ChebyshevFit(Result):
    """A polynomial fit of an activation on ``interval``.

    Attributes
    ----------
    name : str
        Activation name (``"lrelu_0.25"`` for a given slope, ``"callable"`` for a user function).
    interval : list of float
        ``[lo, hi]``, in the activation's input units.
    chebyshev : ndarray, shape (degree + 1,)
        ``c_k`` of ``Σ c_k T_k(u)`` with ``u = (2t - lo - hi) / (hi - lo) ∈ [-1, 1]``; these are
        comparable across orders (RR Fig. 2).
    monomial : ndarray, shape (degree + 1,)
        ``a_k`` of ``Σ a_k t^k`` in the original variable ``t`` (RR Table 1, Fig. 19).
    n_points : int
        Number of evenly spaced least-squares sample points.
    """

    name: str
    interval: list
    chebyshev: np.ndarray
    monomial: np.ndarray
    n_points: int

    @property
    def degree(self) -> int:
        return self.chebyshev.size - 1

    def __call__(self, t) -> np.ndarray:
        """The fitted polynomial at ``t`` (Chebyshev form, the numerically stable one).

        ``t`` must be real and finite; far outside the interval the polynomial grows as
        ``|t|^degree``, and where that overflows float64 a NetspectraError names ``t``.
        """
        t = as_real_array(t, "t")
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is refused just below
            y = Chebyshev(self.chebyshev, domain=self.interval)(t)
        if not np.all(np.isfinite(y)):
            raise NetspectraError(
                f"t: the degree-{self.degree} fit overflows float64 at |t| up to "
                f"{np.max(np.abs(t)):g} (fitted on {self.interval})"
            )
        return y

    def plot(self, ax=None, *, function: Callable[[np.ndarray], np.ndarray] | None = None):
        """Draw the fit (and ``function``, if given) over the interval (RR Fig. 18)."""
        if function is not None and not callable(function):
            raise NetspectraError(f"function must be callable; found {type(function).__name__}")
        fig, ax = figure_axes(ax, (5, 3.5))
        t = np.linspace(*self.interval, 801)
        if function is not None:
            ax.plot(t, function(t), color="0.6", lw=3, label=self.name)
        ax.plot(t, self(t), "--", label=f"degree-{self.degree} fit")
        ax.set(xlabel="t", ylabel="activation", title=self.name)
        ax.legend()
        return fig


def chebyshev_fit(
    activation: str | Callable[[np.ndarray], np.ndarray],
    degree: int = 25,
    interval: tuple[float, float] = (-5.0, 5.0),
    *,
    slope: float | None = None,
    n_points: int = TABLE1_POINTS,
) -> ChebyshevFit:
    """Least-squares Chebyshev fit of an activation (RR §3.3; procedure in the module docs).

    Parameters
    ----------
    activation : str or callable
        A name from :data:`~netspectra.theory.activations.ACTIVATION_NAMES` or a NumPy callable.
    degree : int
        Polynomial degree (>= 0); RR uses 25.
    interval : (lo, hi)
        Fit interval, ``lo < hi``; RR Table 1 uses (-5, 5), RR Fig. 2 uses (-1, 1).
    slope : float, optional
        Negative slope of ``lrelu``.
    n_points : int
        Evenly spaced sample points, ends included (>= degree + 1); 1000 reproduces Table 1.

    Returns
    -------
    ChebyshevFit
        Chebyshev coefficients on the interval mapped to [-1, 1] and monomial coefficients in t.
    """
    degree = at_least(degree, 0, "degree")
    n_points = at_least(n_points, degree + 1, "n_points")
    # The least-squares problem holds an n_points × (degree + 1) Vandermonde matrix.
    within_bytes(8 * n_points * (degree + 1), "n_points", "the least-squares matrix")
    within_operations(n_points * (degree + 1) ** 2, "degree", "the least-squares fit")
    lo, hi = _interval(*pair(interval, "interval"), "interval")
    fn = _activation(activation, slope=slope)
    t = np.linspace(lo, hi, n_points)
    y = as_real_array(fn(t), "activation's output")
    if y.shape != t.shape:
        raise NetspectraError(
            f"activation must return {t.shape[0]} values for {t.shape[0]} inputs; found shape "
            f"{y.shape}"
        )
    u = (2.0 * t - lo - hi) / (hi - lo)
    coef = cheb.chebfit(u, y, degree)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is refused just below
        monomial = Chebyshev(coef, domain=[lo, hi]).convert(kind=Polynomial).coef
    monomial = np.pad(monomial, (0, degree + 1 - monomial.size))
    if not np.all(np.isfinite(monomial)):
        raise NetspectraError(
            f"interval {interval!r} is too narrow or too wide for a degree-{degree} expansion in "
            "powers of t: its monomial coefficients overflow float64"
        )
    name = activation if isinstance(activation, str) else "callable"
    if name == "lrelu" and slope is not None:
        name = f"lrelu_{slope:g}"
    return ChebyshevFit(name, [lo, hi], coef, monomial, n_points)
