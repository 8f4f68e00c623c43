"""Power spectra of weight-space paths and their fractal coefficient (Ringing ReLUs §3.1, §4.2–4.3).

A weight-space path ``p(t) = f(x, W + α t D)``, ``t ∈ [0, 1]``, is sampled at ``n`` points
``t_j = j / (n - 1)`` (both ends included). Its spectrum is the power ``|z_k|²`` of the DFT
``z_k = Σ_j p_j e^{-2πijk/n}`` at the integer frequencies ``k = 1 … n // 2`` (cycles per path;
the DC term ``k = 0`` is excluded), normalised by the path's own AC energy and averaged over
many paths (RR Fig. 3). The fractal coefficient ``h`` is the slope of a power-law fit
``|z_k| ~ k^(-h)`` of the amplitude, so ``|z_k|² ~ k^(-2h)`` (RR eq. 3, §4.3); smaller ``h`` is
a rougher path.

Raw or detrended. A path is not periodic, and the DFT treats it as one period of a periodic
signal: the jump ``p(1) - p(0)`` at the wrap-around puts a ``1/k`` floor under every amplitude
spectrum. A smooth path therefore has ``h ≈ 1`` in the raw convention; subtracting the line
through the first and last sample (``detrend=True``) removes the jump and leaves the kink in
the derivative, so a smooth path has ``h ≈ 2`` there. The paper's numbers (first-layer ReLU
paths follow ``1/k``, App. B.2; lower layers of deep networks too, §4.2) are raw ones, so the
raw convention is the default.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._plotting import figure_axes
from .._validation import as_real_array, flag, in_range
from .._validation import axis as check_axis
from .._warnings import warn_caller
from ..errors import NetspectraError
from ..results import Result

__all__ = [
    "CONSTANT_PATH_ULPS",
    "RoughnessFit",
    "RoughnessWarning",
    "fractal_coefficient",
    "fractal_coefficients",
    "mean_path_spectrum",
    "path_power_spectrum",
]

#: Fewest samples per path: four frequency bins, enough for a fit over a chosen band of three.
MIN_SAMPLES = 8

#: A path whose AC part stays within this many units in the last place (of the input's
#: precision) of its own magnitude counts as constant: a dead ReLU whose mean is not exact, or
#: a path linear in t (a ReLU that never switches) after detrending. Normalising that rounding
#: noise would enter a flat, meaningless spectrum into the average with full weight.
CONSTANT_PATH_ULPS = 64


class RoughnessWarning(UserWarning):
    """A power-law fit that does not describe the spectrum well (low R² in log-log)."""


def _rounding_eps(paths) -> float:
    dtype = getattr(paths, "dtype", None)
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        return float(np.finfo(dtype).eps)
    return float(np.finfo(np.float64).eps)


def path_power_spectrum(
    paths,
    *,
    axis: int = -1,
    derivative: bool = False,
    detrend: bool = False,
    normalize: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Power spectrum of each sampled path, DC excluded (RR §3.1, §4.2, Fig. 3).

    Parameters
    ----------
    paths : array_like
        Real path samples ``p(t_j)``, ``t_j = j / (n - 1)``, along ``axis``; any other
        dimensions (neurons, positions, images, directions) index the paths. At least 8 samples.
        Computed in float64 (float32 input is accepted).
    axis : int
        The sample axis.
    derivative : bool
        Weight the power by ``k²`` before normalising: the spectrum of ``dp/dt`` up to the
        constant ``(2π)²`` (RR Fig. 3b).
    detrend : bool
        Subtract the line through the first and the last sample before the DFT, which removes
        the ``1/k`` floor of the endpoint jump (see the module notes). Default: raw, as in RR.
    normalize : bool
        Divide each path's power by its own sum over ``k >= 1``, so each row sums to 1: the
        paper's normalisation "by function norm" of the AC part.

    Returns
    -------
    k : ndarray of int, shape (n // 2,)
        ``1 … n // 2``, cycles per path (for even ``n`` the last one is the Nyquist bin).
    power : ndarray, shape (*leading, n // 2)
        ``|z_k|²`` with ``z = rfft(p)`` unscaled, the leading shape being that of ``paths``
        without ``axis``. Rows of constant paths are 0.
    valid : ndarray of bool, shape leading
        False for constant paths (zero AC power, e.g. a dead ReLU; with ``detrend`` also a
        path linear in ``t``), which cannot be normalised. "Zero" means a range of samples
        within 64 units in the last place of the path's magnitude at the input's precision:
        below that, the AC part is rounding noise.

    Notes
    -----
    Parseval with ``normalize=False`` and ``derivative=False`` (``p̄`` the mean, sums over
    ``k = 1 … n // 2``): for odd ``n``, ``2 Σ |z_k|² = n Σ_j (p_j - p̄)²``; for even ``n`` the
    Nyquist bin has no mirror image, so ``2 Σ |z_k|² - |z_{n/2}|² = n Σ_j (p_j - p̄)²``.
    The normalising sum is thus ``n / 2`` times the time-domain AC energy (for even ``n`` plus
    half the Nyquist power). With ``detrend`` these hold for the detrended samples.
    """
    x = as_real_array(paths, "paths")
    ax = check_axis(axis, x.shape)
    derivative, detrend = flag(derivative, "derivative"), flag(detrend, "detrend")
    normalize = flag(normalize, "normalize")
    n = x.shape[ax]
    if n < MIN_SAMPLES:
        raise NetspectraError(
            f"paths must hold at least {MIN_SAMPLES} samples along axis {axis}; found {n}"
        )
    x = np.moveaxis(x, ax, -1)
    leading = x.shape[:-1]
    x = x.reshape(-1, n)
    y = x
    if detrend:
        t = np.arange(n) / (n - 1)
        y = x - (x[:, :1] + (x[:, -1:] - x[:, :1]) * t)
    # The AC part's size is measured by the range of the samples, and |z|² is taken as
    # re² + im²: both spare a pass and a temporary over every path.
    hi, lo = x.max(axis=1), x.min(axis=1)
    spread = np.ptp(y, axis=1) if detrend else hi - lo
    valid = spread > CONSTANT_PATH_ULPS * _rounding_eps(paths) * np.maximum(np.abs(hi), np.abs(lo))
    k = np.arange(1, n // 2 + 1)
    scale = _row_scale(np.maximum(np.abs(hi), np.abs(lo)))
    z = np.fft.rfft(y if scale is None else y / scale, axis=1)[:, 1:]
    power = z.real**2 + z.imag**2
    if derivative:
        power *= k.astype(np.float64) ** 2
    power[~valid] = 0.0
    if normalize:
        total = power.sum(axis=1, keepdims=True)
        power = np.divide(power, total, out=np.zeros_like(power), where=valid[:, None])
    elif scale is not None:
        power *= scale**2
        if not np.all(np.isfinite(power)):
            raise NetspectraError(
                "paths: their unnormalised power overflows float64; use normalize=True"
            )
    return k, power.reshape(*leading, n // 2), valid.reshape(leading)


def _row_scale(magnitude: np.ndarray) -> np.ndarray | None:
    """Per path, a power of two near its largest magnitude to divide it by before the DFT,
    where a square could overflow or underflow (beyond 2^±500); None where none could."""
    if not np.any((magnitude > 2.0**500) | ((magnitude < 2.0**-500) & (magnitude > 0))):
        return None
    return np.ldexp(1.0, np.frexp(magnitude)[1] - 1)[:, None]


def mean_path_spectrum(
    paths,
    *,
    axis: int = -1,
    derivative: bool = False,
    detrend: bool = False,
    normalize: bool = True,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Average power spectrum over all non-constant paths (RR §3.1 ``E_D |z_k|²``, Fig. 3).

    Parameters are those of :func:`path_power_spectrum`; every dimension of ``paths`` other
    than ``axis`` is averaged over.

    Returns
    -------
    k : ndarray of int, shape (n // 2,)
        ``1 … n // 2``, cycles per path.
    mean_power : ndarray, shape (n // 2,)
        Mean of the (by default normalised) power over the valid paths; constant paths are left
        out rather than entered as zeros.
    n_valid : int
        Number of paths averaged.
    """
    k, power, valid = path_power_spectrum(
        paths, axis=axis, derivative=derivative, detrend=detrend, normalize=normalize
    )
    rows, valid = power.reshape(-1, k.size), valid.reshape(-1)
    n_valid = int(np.count_nonzero(valid))
    if n_valid == 0:
        raise NetspectraError(
            f"paths: all {valid.size} path(s) are constant (zero AC power); nothing to average"
        )
    return k, rows[valid].mean(axis=0), n_valid


@dataclass(frozen=True)
class RoughnessFit(Result):
    """A power-law fit ``|z_k| = e^c k^(-h)`` of an amplitude spectrum (RR eq. 3, §4.3).

    Attributes
    ----------
    h : float
        Fractal coefficient: minus the log-log slope of the amplitude ``|z_k|`` (power falls as
        ``k^(-2h)``).
    stderr : float
        Standard error of ``h`` from the ordinary least-squares slope.
    r2 : float
        Coefficient of determination of the fit in log-log.
    band : list of int
        ``[k_lo, k_hi]``, inclusive, in cycles per path.
    intercept : float
        ``c``, the fitted natural-log amplitude at ``k = 1``.
    k : ndarray
        The fitted frequencies (those in ``band``).
    amplitude : ndarray
        ``|z_k| = sqrt(power)`` at ``k``.
    """

    h: float
    stderr: float
    r2: float
    band: list
    intercept: float
    k: np.ndarray
    amplitude: np.ndarray

    def plot(self, ax=None):
        """Amplitude spectrum on log-log axes with the fitted power law (RR Fig. 4 style)."""
        fig, ax = figure_axes(ax, (5, 3.5))
        ax.loglog(self.k, self.amplitude, "o", ms=3, label="spectrum")
        ax.loglog(
            self.k,
            np.exp(self.intercept) * self.k ** (-self.h),
            "--",
            label=f"h = {self.h:.3f} ± {self.stderr:.3f}",
        )
        ax.set(
            xlabel="k (cycles per path)",
            ylabel="amplitude |z_k|",
            title=f"band {self.band[0]}–{self.band[1]}, R² = {self.r2:.3f}",
        )
        ax.legend()
        return fig


def _frequencies(k, n_k: int) -> np.ndarray:
    if k is None:
        return np.arange(1, n_k + 1, dtype=np.float64)
    k = as_real_array(k, "k", ndim=1)
    if k.size != n_k:
        raise NetspectraError(f"k must have one entry per power bin ({n_k}); found {k.size}")
    bad = (k < 1) | (k != np.round(k)) | np.concatenate(([False], np.diff(k) <= 0))
    if np.any(bad):
        i = int(np.argmax(bad))
        raise NetspectraError(
            f"k must be increasing integers >= 1 (cycles per path); found k[{i}] = {k[i]:g}"
        )
    return k


def _band(band, k: np.ndarray) -> tuple[int, int]:
    # Upper half of the bins left out by default: RR samples 100 points with no band-limiting,
    # and aliasing slants the top of the spectrum upwards (§4.2); the lower half reaches a
    # quarter of the sampling rate.
    if band is None:
        return int(k[0]), int(k[k.size // 2 - 1])
    try:
        lo, hi = band
    except (TypeError, ValueError) as exc:
        raise NetspectraError(f"band must be a pair (k_lo, k_hi); found {band!r}") from exc
    for b in (lo, hi):
        if isinstance(b, bool) or not isinstance(b, (int, np.integer)):
            raise NetspectraError(f"band must hold integers (cycles per path); found {band!r}")
    if not 1 <= lo < hi <= k[-1]:
        raise NetspectraError(
            f"band must satisfy 1 <= k_lo < k_hi <= {int(k[-1])} (the highest k); found {band!r}"
        )
    return int(lo), int(hi)


def _log_spectra(power: np.ndarray, k, band):
    """k, log k, log amplitude (rows), amplitude and ``[lo, hi]`` over the band, all checked."""
    if np.any(power < 0):
        raise NetspectraError(f"power must be non-negative; found minimum {power.min():g}")
    k = _frequencies(k, power.shape[-1])
    lo, hi = _band(band, k)
    in_band = (k >= lo) & (k <= hi)
    m = int(np.count_nonzero(in_band))
    if m < 3 and band is None:
        raise NetspectraError(
            f"power must hold at least 6 frequency bins for the default band (the lower half); "
            f"found {k.size}"
        )
    if m < 3:
        raise NetspectraError(
            f"band ({lo}, {hi}) must hold at least 3 frequency bins for a fit; found {m}"
        )
    sub = power[..., in_band]
    zeros = sub == 0
    if np.any(zeros):
        where = (
            f"in {int(np.count_nonzero(zeros.any(axis=-1)))} of {sub.shape[0]} rows "
            "(drop constant paths with path_power_spectrum's valid mask)"
            if sub.ndim == 2
            else f"{int(np.count_nonzero(zeros))} bin(s)"
        )
        raise NetspectraError(
            f"power is zero in band ({lo}, {hi}) {where}; cannot take the log of zero power"
        )
    amplitude = np.sqrt(sub)
    return k[in_band], np.log(k[in_band]), np.log(amplitude), amplitude, [lo, hi]


def _ols(x: np.ndarray, y: np.ndarray):
    """Closed-form least squares ``y = c + b x`` for each row of ``y``: b, c, SSE, SST, Sxx."""
    xc = x - x.mean()
    sxx = np.sum(xc**2)
    yc = y - y.mean(axis=-1, keepdims=True)
    slope = yc @ xc / sxx
    intercept = y.mean(axis=-1) - slope * x.mean()
    sse = np.sum((yc - slope[..., None] * xc) ** 2, axis=-1)
    sst = np.sum(yc**2, axis=-1)
    return slope, intercept, sse, sst, sxx


def fractal_coefficient(
    power, k=None, *, band: tuple[int, int] | None = None, min_r2: float = 0.9
) -> RoughnessFit:
    """Fractal coefficient ``h`` of a power spectrum by a log-log power-law fit (RR eq. 3, §4.3).

    Fits ``log |z_k| = c - h log k`` (natural logs, ``|z_k| = sqrt(power_k)``) by ordinary
    least squares over the ``k`` in ``band``.

    Parameters
    ----------
    power : array_like, shape (n_k,)
        Power spectrum without DC, such as :func:`mean_path_spectrum`'s ``mean_power``.
    k : array_like of int, optional
        Increasing integer frequencies ``>= 1`` of the bins, cycles per path; default
        ``1 … n_k``.
    band : (int, int), optional
        ``(k_lo, k_hi)``, inclusive, ``1 <= k_lo < k_hi <= max k``, holding at least 3 bins.
        Default: the lower half of the bins, ``k[0] … k[n_k // 2 - 1]`` (``1 … n_k // 2``, a
        quarter of the sampling rate of the path). RR samples 100 points without band-limiting,
        and aliasing slants the top of the spectrum upwards (§4.2); this keeps it out.
    min_r2 : float
        A :class:`RoughnessWarning` is issued when the fit's R² falls below this, in [0, 1].
        R² compares with a flat line, so a nearly flat spectrum (``h ≈ 0``, e.g. RR Fig. 3b)
        gives a small R² even when it follows the line; pass 0 to accept it.

    Returns
    -------
    RoughnessFit
        ``h``, its standard error ``sqrt(SSE / (m - 2) / Σ (x - x̄)²)`` over the ``m`` bins,
        R², the band, the intercept and the fitted spectrum.
    """
    power = as_real_array(power, "power", ndim=1)
    min_r2 = in_range(min_r2, "min_r2", 0.0, 1.0)
    k_fit, x, y, amplitude, band = _log_spectra(power, k, band)
    slope, intercept, sse, sst, sxx = _ols(x, y)
    # Residuals at the rounding level of the log amplitudes make an exact fit however flat the
    # spectrum is; 1 - SSE/SST would be a ratio of two rounding errors there.
    rounding = x.size * (CONSTANT_PATH_ULPS * np.finfo(np.float64).eps * np.abs(y).max()) ** 2
    r2 = 1.0 if sse <= rounding else float(1.0 - sse / sst)
    if r2 < min_r2:
        warn_caller(
            f"the spectrum has no consistent power-law slope in band ({band[0]}, {band[1]}) "
            f"(R² = {r2:.3f} < min_r2 = {min_r2:g})",
            RoughnessWarning,
        )
    return RoughnessFit(
        h=float(-slope),
        stderr=float(np.sqrt(sse / (x.size - 2) / sxx)),
        r2=r2,
        band=band,
        intercept=float(intercept),
        k=k_fit,
        amplitude=amplitude,
    )


def fractal_coefficients(power, k=None, *, band: tuple[int, int] | None = None) -> np.ndarray:
    """Fractal coefficient ``h`` of each row of a stack of spectra (RR §4.3, Fig. 4).

    The per-path version of :func:`fractal_coefficient` (e.g. the median ``h`` over 500 loss
    paths): the same fit, band default and checks, in closed form for all rows at once and
    without the R² warning.

    Parameters
    ----------
    power : array_like, shape (n_paths, n_k)
        One power spectrum per row, such as :func:`path_power_spectrum`'s ``power`` reshaped to
        2-D and restricted to the valid paths.
    k : array_like of int, optional
        As in :func:`fractal_coefficient`.
    band : (int, int), optional
        As in :func:`fractal_coefficient`.

    Returns
    -------
    ndarray, shape (n_paths,)
        ``h`` per row.
    """
    power = as_real_array(power, "power", ndim=2)
    _, x, y, _, _ = _log_spectra(power, k, band)
    return -_ols(x, y)[0]
