"""One-sided spectra and spectral-width statistics (power centroid, p%-power bandwidth).

These statistics quantify "blueshift" (Ringing ReLUs §3): the wider the power spreads to high
frequencies, the larger the centroid and the bandwidth.
"""

from __future__ import annotations

import numpy as np

from .._validation import as_real_array, in_range, positive
from .._validation import axis as check_axis
from ..errors import NetspectraError
from ._scaling import per_row_unit, power_of_two_below

__all__ = ["amplitude_spectrum", "bandwidth", "dc_share", "power_centroid"]


def amplitude_spectrum(x, fs: float = 1.0, axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """One-sided amplitude spectrum of a real signal.

    Parameters
    ----------
    x : array_like
        Real samples; the transform runs along ``axis`` (any leading dimensions).
    fs : float
        Sampling rate in Hz (samples per second). Use 1 for frequencies in cycles per sample.
    axis : int
        Time axis.

    Returns
    -------
    f : ndarray
        Frequencies in Hz, ``rfftfreq(n, 1/fs)``.
    amplitude : ndarray
        Amplitudes scaled so that a tone ``a cos(2π f t)`` on a bin shows ``a`` and a constant
        ``c`` shows ``c`` at 0 Hz (``|rfft| / n``, doubled except at DC and Nyquist).
    """
    x = as_real_array(x, "x")
    fs = positive(fs, "fs")
    axis = check_axis(axis, x.shape)
    n = x.shape[axis]
    # Transform x divided by a power of two near its largest magnitude: the sums inside the
    # DFT cannot overflow, and the division changes no digit.
    p = power_of_two_below(float(np.max(np.abs(x))))
    spec = np.abs(np.fft.rfft(x / p, axis=axis)) * (p / n)
    scale = np.full(spec.shape[axis], 2.0)
    scale[0] = 1.0
    if n % 2 == 0:
        scale[-1] = 1.0
    shape = [1] * spec.ndim
    shape[axis] = -1
    return np.fft.rfftfreq(n, 1.0 / fs), spec * scale.reshape(shape)


def _power_weights(f, power) -> tuple[np.ndarray, np.ndarray]:
    """``f`` and ``power`` divided by powers of two near their largest magnitudes (``power``
    row by row: the ratios below are unchanged and their sums cannot overflow), and the power
    of two that divided ``f``."""
    f = as_real_array(f, "f", ndim=1)
    power = as_real_array(power, "power")
    if power.ndim == 0 or power.shape[-1] != f.shape[0]:
        raise NetspectraError(
            f"power's last axis must match f; found shape {power.shape} for {f.shape[0]} "
            "frequencies"
        )
    if np.any(power < 0):
        raise NetspectraError("power must be non-negative")
    pf = power_of_two_below(float(np.max(np.abs(f))))
    return f / pf, per_row_unit(power), pf


def power_centroid(f, power) -> np.ndarray:
    """Power-weighted mean frequency ``Σ f P / Σ P`` over the last axis, in the units of ``f``.

    Returns NaN where the total power is zero.
    """
    f, power, pf = _power_weights(f, power)
    total = power.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (power * f).sum(axis=-1) / total * pf


def bandwidth(f, power, fraction: float = 0.95) -> np.ndarray:
    """Smallest frequency below which ``fraction`` of the power lies (last axis), units of ``f``.

    With ``fraction=0.95`` this is the 95 %-power bandwidth. Returns NaN where the total power
    is zero.
    """
    f, power, pf = _power_weights(f, power)
    fraction = in_range(fraction, "fraction", 0.0, 1.0, low_open=True)
    cum = np.cumsum(power, axis=-1)
    total = cum[..., -1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        reached = cum >= fraction * total * (1 - 1e-12)
    idx = np.argmax(reached, axis=-1)
    out = f[idx] * pf
    return np.where(total[..., 0] > 0, out, np.nan)


def dc_share(power) -> np.ndarray:
    """Fraction of the total power in the 0 Hz bin (first bin of the last axis).

    ``power`` is non-negative with at least one axis; NaN where the total power is zero.
    """
    power = as_real_array(power, "power")
    if power.ndim == 0 or np.any(power < 0):
        raise NetspectraError(
            f"power must be a non-negative spectrum with at least one axis; found shape "
            f"{power.shape}, minimum {power.min():g}"
        )
    power = per_row_unit(power)
    total = power.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return power[..., 0] / total
